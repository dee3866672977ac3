"""Placing arrays: device_put / device_get, with_sharding_constraint, reshard,
make_array_from_*, and the debug views of a sharding (visualize/inspect).

A placed Array is the same NumPy buffer with a `_sharding` recorded on it (numjax computes
on one buffer per array; devices are logical). Inside a trace (jit, vmap, grad) placement
is the identity: the value is checked against the sharding's rank and divisibility and
passed through.
"""
from __future__ import annotations

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src import tree_util
from numjax._src.array import Array
from numjax._src.core import Tracer
from numjax._src.devices import Device
from numjax._src.sharding import (NamedSharding, PartitionSpec, Sharding,
                                  SingleDeviceSharding, get_mesh)
from numjax._src import sharding_viz
from numjax._src import sharding_propagation as _sprop

__all__ = ["device_put", "device_get", "with_sharding_constraint", "reshard",
           "make_array_from_callback", "make_array_from_single_device_arrays",
           "make_array_from_process_local_data", "visualize_array_sharding",
           "visualize_sharding", "inspect_array_sharding", "auto_axes", "explicit_axes"]


class _NoneSpec:
  """Stands for a None (no placement) leaf of a prefix spec while it is broadcast."""


_none = _NoneSpec()


def _broadcast_prefix(name, specs, tree):
  """One spec per leaf of `tree` from the prefix pytree `specs` (None: no placement)."""
  spec = tree_util._replace_nones(_none, specs)
  try:
    leaves = tree_util.broadcast_prefix(spec, tree, is_leaf=lambda x: x is None)
  except ValueError:
    errs = tree_util.prefix_errors(spec, tree, is_leaf=lambda x: x is None)
    details = "\n".join("  " + str(e(name)) for e in errs[:1])
    raise ValueError(f"{name} specification must be a tree prefix of the corresponding "
                     f"value; \n  Mismatch details ({len(errs)} found):\n{details}") from None
  return [None if s is _none else s for s in leaves]


def _to_sharding(spec, what, pspec_error):
  """A Sharding (or None) from a device_put-style target."""
  if spec is None or isinstance(spec, Sharding):
    return spec
  if isinstance(spec, Device):
    return SingleDeviceSharding(spec)
  if isinstance(spec, PartitionSpec):
    mesh = get_mesh()
    if mesh.empty:
      pspec_error()
    return NamedSharding(mesh, spec)
  raise ValueError(f"`jax.{what}` only accepts `None`, `jax.sharding.Sharding`, "
                   "`jax.Device`, `Format`, `jax.memory.Space` or a pytree of these values. "
                   f"Received invalid value: {spec}")


def _check_fits(sharding, shape, what):
  """Rank and divisibility of `shape` under `sharding` (JAX's errors)."""
  if isinstance(sharding, NamedSharding):
    try:
      sharding.check_compatible_aval(shape)
    except ValueError as e:
      raise ValueError(f"One of {what} args is incompatible with its sharding annotation "
                       f"{sharding}: {e}") from None
    sharding.shard_shape(shape)


def _to_array(x):
  """A fresh Array for a host value (Python scalars weakly typed, dtypes canonical)."""
  if isinstance(x, Array):
    return x
  if hasattr(x, "__jax_array__"):
    return _to_array(x.__jax_array__())
  if isinstance(x, (bool, int, float, complex)) and not isinstance(x, np.generic):
    dt = _dtypes.dtype(x, canonicalize=True)
    if isinstance(x, int) and not isinstance(x, bool):
      info = np.iinfo(dt)
      if not info.min <= x <= info.max:
        raise OverflowError(f"Python int {x} too large to convert to {dt}")
    return Array(np.asarray(x, dtype=dt), weak_type=not isinstance(x, bool))
  if isinstance(x, (str, bytes)):
    raise TypeError(f"Argument '{x}' of type {type(x)} is not a valid JAX type")
  if not hasattr(x, "dtype") and not hasattr(x, "__array__"):
    raise TypeError(f"Cannot interpret value of type {type(x)} as an abstract array; it does "
                    "not have a dtype attribute")
  arr = np.asarray(x)
  if arr.dtype.kind in "OUSVM" or arr.dtype == np.dtype("datetime64"):
    raise TypeError(f"Argument '{x}' of type {type(x)} is not a valid JAX type")
  dt = _dtypes.canonicalize_dtype(arr.dtype)
  return Array(arr.astype(dt) if arr.dtype != dt else np.array(arr))


def _with_sharding(x: Array, sharding) -> Array:
  """The same buffer, committed to `sharding`."""
  if getattr(x, "_sharding", None) == sharding:
    return x
  out = object.__new__(Array)
  out._buf = x._value
  out.weak_type = x.weak_type
  out._sharding = sharding
  _sprop.note_committed(out)  # results computed from it report a layout too
  return out


def _place(x, sharding, what, copy=False):
  if isinstance(x, Tracer):
    if sharding is not None:
      _check_fits(sharding, core.get_aval(x).shape, what)
    return _bind_placement(x, sharding, what, copy)
  arr = _to_array(x)
  if copy and arr is x:  # may_alias=False: a fresh buffer
    arr = Array(np.array(x._value), x.weak_type)
    if x.committed and sharding is None:
      sharding = x.sharding
  if sharding is None:
    return arr
  _check_fits(sharding, arr.shape, what)
  return _with_sharding(arr, sharding)


def _bind_placement(x, sharding, what, copy):
  """Record the placement of a traced value in the jaxpr (identity on values), as JAX's
  device_put / sharding_constraint primitives do."""
  from numjax._src.lax import parallel
  if what == "device_put":
    sem = parallel.ArrayCopySemantics.ALWAYS_COPY if copy else \
        parallel.ArrayCopySemantics.REUSE_INPUT
    return parallel.device_put_p.bind(x, devices=(sharding,), srcs=(None,),
                                      copy_semantics=(sem,))[0]
  if what == "with_sharding_constraint" and sharding is not None:
    return parallel.sharding_constraint_p.bind(
        x, sharding=sharding, layout=None, context_mesh=_context_mesh_param(),
        unconstrained_dims=frozenset())
  return x


class _EmptyMeshParam:
  """Stands for the empty context mesh in a jaxpr param (hashable; prints as JAX's)."""

  def __repr__(self):
    return "Mesh()"

  __str__ = __repr__


_EMPTY_MESH_PARAM = _EmptyMeshParam()


def _context_mesh_param():
  mesh = get_mesh()
  return _EMPTY_MESH_PARAM if mesh.empty else mesh


def _device_put_pspec_error():
  raise ValueError("Please set a mesh via `jax.set_mesh` if a PartitionSpec is passed to "
                   "device_put")


def device_put(x, device=None, *, src=None, donate=False, may_alias=None):
  """Place `x` (a pytree) on `device`: None (leave it where it is), a Device, a Sharding,
  a PartitionSpec (with a mesh set by `jax.set_mesh`), or a pytree prefix of those.
  Host values become Arrays; numjax shares one buffer between all devices, so the result
  holds the same values with the requested `.sharding` (sharing the buffer unless
  `may_alias=False`). `donate` is accepted; as on JAX's CPU backend it frees nothing."""
  del src, donate
  leaves, tree = tree_util.tree_flatten(x)
  if isinstance(device, (Sharding, Device, PartitionSpec)) or device is None:
    targets = [device] * len(leaves)
  else:
    targets = _broadcast_prefix("device_put device", device, x)
  shardings = [_to_sharding(t, "device_put", _device_put_pspec_error) for t in targets]
  return tree_util.tree_unflatten(tree, [_place(l, s, "device_put", may_alias is False)
                                         for l, s in zip(leaves, shardings)])


def device_get(x):
  """NumPy values for the Arrays in the pytree `x` (other leaves are returned as is)."""
  def get(v):
    if isinstance(v, Array):
      return v._value
    if isinstance(v, Tracer):
      return np.asarray(v)  # raises JAX's TracerArrayConversionError
    return v
  return tree_util.tree_map(get, x)


def _wsc_pspec_error():
  raise RuntimeError("with_sharding_constraint requires a non-empty mesh in context if you "
                     "are passing `PartitionSpec`s to shardings. You can define a context "
                     "mesh via `jax.set_mesh(mesh)`. Alternatively, provide `Sharding`s to "
                     "shardings and then the mesh context manager is not required.")


def with_sharding_constraint(x, shardings):
  """Ask for `x` (a pytree) to be laid out as `shardings` (a Sharding, a PartitionSpec
  with a context mesh, or a pytree prefix of them). numjax computes on one buffer, so
  the values are unchanged; eager Arrays report the new sharding."""
  leaves, tree = tree_util.tree_flatten(x)
  if isinstance(shardings, (Sharding, PartitionSpec)) or shardings is None:
    targets = [shardings] * len(leaves)
  else:
    targets = _broadcast_prefix("with_sharding_constraint shardings", shardings, x)
  shs = [_to_sharding(t, "with_sharding_constraint", _wsc_pspec_error) for t in targets]
  return tree_util.tree_unflatten(
      tree, [_place(l, s, "with_sharding_constraint") for l, s in zip(leaves, shs)])


def reshard(xs, out_shardings):
  """Re-lay `xs` (a pytree) out as `out_shardings` (Shardings or PartitionSpecs)."""
  def err():
    raise ValueError("reshard with a PartitionSpec needs a mesh: set one with "
                     "`jax.set_mesh(mesh)` or pass a NamedSharding.")
  leaves, tree = tree_util.tree_flatten(xs)
  if isinstance(out_shardings, (Sharding, PartitionSpec)):
    targets = [out_shardings] * len(leaves)
  else:
    targets = _broadcast_prefix("reshard out_shardings", out_shardings, xs)
  shs = [_to_sharding(t, "reshard", err) for t in targets]
  return tree_util.tree_unflatten(tree, [_place(l, s, "reshard")
                                         for l, s in zip(leaves, shs)])


# ---------------------------------------------------------------------------------------
# Building a sharded Array from per-device blocks

def _assemble(shape, sharding, block_for):
  """An Array of `shape` whose block on each device is `block_for(device, index)`."""
  shape = tuple(shape)
  buf = None
  for dev, idx in sharding.devices_indices_map(shape).items():
    block = np.asarray(block_for(dev, idx))
    if buf is None:
      buf = np.empty(shape, _dtypes.canonicalize_dtype(block.dtype))
    expected = buf[idx].shape
    if block.shape != expected:
      raise ValueError(f"The block for device {dev} has shape {block.shape}, but the "
                       f"sharding {sharding} gives it shape {expected} of the global "
                       f"shape {shape}.")
    buf[idx] = block
  return _with_sharding(Array(buf), sharding)


def make_array_from_callback(shape, sharding, data_callback, dtype=None):
  """An Array of `shape` laid out as `sharding`, each device's block given by
  `data_callback(index)` (a tuple of slices into the global array)."""
  out = _assemble(shape, sharding, lambda d, idx: data_callback(idx))
  if dtype is not None and out.dtype != np.dtype(dtype):
    out = _with_sharding(Array(out._value.astype(dtype)), sharding)
  return out


def make_array_from_single_device_arrays(shape, sharding, arrays, *, dtype=None):
  """An Array of `shape` laid out as `sharding` from one array per device (matched to the
  devices by their own device when committed, else in the sharding's device order)."""
  arrays = list(arrays)
  order = list(sharding.devices_indices_map(tuple(shape)))
  by_dev = {}
  for i, a in enumerate(arrays):
    d = a.sharding._device_list[0] if getattr(a, "committed", False) and \
        len(a.sharding._device_list) == 1 else order[i]
    by_dev[d] = a
  return _assemble(shape, sharding, lambda d, idx: by_dev[d])


def make_array_from_process_local_data(sharding, local_data, global_shape=None):
  """With one process, the local data is the global array: `device_put(local_data,
  sharding)`."""
  if global_shape is not None and tuple(global_shape) != np.shape(local_data):
    raise ValueError(f"global_shape {tuple(global_shape)} differs from the local data's "
                     f"shape {np.shape(local_data)}; numjax runs a single process, whose "
                     "data is the whole array.")
  return device_put(local_data, sharding)


# ---------------------------------------------------------------------------------------
# jax.debug views

def _sharding_of(v):
  if isinstance(v, Array):
    return v.sharding
  from numjax._src.sharding import default_sharding
  return default_sharding()  # a traced value: numjax keeps no layout for it


def inspect_array_sharding(value, *, callback):
  """Call `callback(sharding)` for every array in the pytree `value` (at once, also while
  tracing)."""
  tree_util.tree_map(lambda v: callback(_sharding_of(v)), value)


def visualize_sharding(shape, sharding, *, use_color=True, scale=1., min_width=9,
                       max_width=80, color_map=None):
  """Print which devices hold which block of an array of `shape` (1-D or 2-D)."""
  sharding_viz.visualize_sharding(shape, sharding, use_color=use_color, scale=scale,
                                  min_width=min_width, max_width=max_width,
                                  color_map=color_map)


def visualize_array_sharding(arr, **kwargs):
  """Print a table of the devices holding each block of `arr` (1-D or 2-D), as JAX's
  `jax.debug.visualize_array_sharding` does (its uncoloured form)."""
  inspect_array_sharding(arr, callback=lambda s: visualize_sharding(
      core.get_aval(arr).shape, s, **kwargs))


# ---------------------------------------------------------------------------------------
# Switching axis types (numjax computes alike under every axis type: only the layouts of
# the results are set)

def auto_axes(f=None, /, *, axes=None, out_sharding=None):
  """Run `f` with `axes` treated as Auto; its results are laid out as `out_sharding`."""
  if f is None:
    return lambda g: auto_axes(g, axes=axes, out_sharding=out_sharding)

  def wrapped(*args, **kwargs):
    out = f(*args, **kwargs)
    return out if out_sharding is None else reshard(out, out_sharding)
  return wrapped


def explicit_axes(f=None, /, *, axes=None, in_sharding=None):
  """Run `f` with `axes` treated as Explicit, its arguments laid out as `in_sharding`."""
  if f is None:
    return lambda g: explicit_axes(g, axes=axes, in_sharding=in_sharding)

  def wrapped(*args, **kwargs):
    if in_sharding is not None:
      args = reshard(args, tuple(in_sharding) if isinstance(in_sharding, list)
                     else in_sharding)
    return f(*args, **kwargs)
  return wrapped
