"""pmap: map a function over the leading axis of its arguments, one slice per device.

numjax's devices share one buffer, so `pmap(f, axis_name)` is `jit(vmap(f, axis_name))`:
the collectives (`lax.psum(x, axis_name)`, ...) are the vmap-axis ones of lax/parallel.py.
What stays from pmap is the device budget: the mapped axis (times those of enclosing
pmaps) may not exceed the number of devices, and results report a sharding over a
one-axis mesh of the devices used, as JAX's do.
"""
from __future__ import annotations

import functools
import math
import operator

import numpy as np

from numjax._src import core
from numjax._src import tree_util
from numjax._src.array import Array
from numjax._src import devices as _devices
from numjax._src.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

__all__ = ["pmap"]

_INTERNAL_NAME = "_internal_pmap_axis_name"
_active_sizes: list[int] = []  # the mapped sizes of the pmaps being traced (nesting)


def _norm_argnums(nums):
  if nums is None:
    return ()
  if isinstance(nums, int):
    return (nums,)
  return tuple(operator.index(i) for i in nums)


def pmap(fun, axis_name=None, *, in_axes=0, out_axes=0, static_broadcasted_argnums=(),
         devices=None, backend=None, axis_size=None, donate_argnums=()):
  """Parallel map over the leading axis (in_axes) of the arguments, one slice per device;
  collectives in `fun` refer to `axis_name`. Compiled like `jit`; the mapped size must not
  exceed the number of devices (see `jax.device_count()`; on a CPU ask for more with
  XLA_FLAGS=--xla_force_host_platform_device_count=N before importing numjax)."""
  from numjax._src.jit import jit
  from numjax._src.vmap import vmap
  if isinstance(in_axes, list):
    in_axes = tuple(in_axes)
  static = _norm_argnums(static_broadcasted_argnums)
  donate = _norm_argnums(donate_argnums)
  devs = list(devices) if devices is not None else None

  # vmap stacks every output; an out_axes None output keeps the first device's value
  # (pmap, unlike shard_map, does not check that such outputs agree).
  vm_out_axes = tree_util.tree_map(lambda a: 0 if a is None else a, out_axes,
                                   is_leaf=lambda a: a is None)

  def body(*args, **kwargs):
    nargs = len(args)
    st = {i % nargs for i in static} if nargs else set()
    dyn_idx = [i for i in range(nargs) if i not in st]
    dyn_axes = (tuple(in_axes[i] for i in dyn_idx) if isinstance(in_axes, tuple)
                and len(in_axes) == nargs else in_axes)
    if st:
      def dyn_fun(*dyn, **kw):
        full = list(args)
        for i, v in zip(dyn_idx, dyn):
          full[i] = v
        return fun(*full, **kw)
    else:
      dyn_fun = fun
    out = vmap(dyn_fun, in_axes=dyn_axes, out_axes=vm_out_axes, axis_name=axis_name,
               axis_size=axis_size)(*[args[i] for i in dyn_idx], **kwargs)
    return _unstack_unmapped(out, out_axes)

  functools.update_wrapper(body, fun)
  compiled = jit(body, static_argnums=static, donate_argnums=tuple(
      i for i in donate if i not in static))

  @functools.wraps(fun)
  def pmapped(*args, **kwargs):
    n = _mapped_size(args, kwargs, in_axes, static, axis_size)
    avail = len(devs) if devs is not None else _devices.device_count()
    total = n * math.prod(_active_sizes)
    if total > avail:
      nested = (f" (times {math.prod(_active_sizes)} for the enclosing pmaps)"
                if _active_sizes else "")
      raise ValueError(
          f"pmap got a mapped axis of size {n}{nested}, which needs {total} devices, but "
          f"only {avail} are available. Map over at most {avail} entries (e.g. reshape the "
          f"data to ({avail}, -1, ...) and vmap inside), or ask for more CPU devices with "
          f"XLA_FLAGS=--xla_force_host_platform_device_count={total} set before importing "
          "numjax.")
    _active_sizes.append(n)
    try:
      out = compiled(*args, **kwargs)
    finally:
      _active_sizes.pop()
    return _attach_shardings(out, out_axes, n, devs, axis_name)

  return pmapped


def _mapped_size(args, kwargs, in_axes, static, axis_size):
  """The size of the mapped axis (for the device budget), or a ValueError as JAX's."""
  nargs = len(args)
  st = {i % nargs for i in static} if nargs else set()
  dyn = tuple(a for i, a in enumerate(args) if i not in st)
  axes = (tuple(in_axes[i] for i in range(nargs) if i not in st)
          if isinstance(in_axes, tuple) and len(in_axes) == nargs else in_axes)
  if not isinstance(axes, tuple):
    axes = (axes,) * len(dyn)
  sizes = []
  try:
    leaves = tree_util.broadcast_prefix(tree_util._replace_nones(_NONE, axes), dyn)
    leaves = [None if a is _NONE else a for a in leaves]
  except ValueError:
    leaves = None  # vmap reports the mismatch
  if leaves is not None:
    for x, a in zip(tree_util.tree_leaves(dyn), leaves):
      if a is None:
        continue
      shape = np.shape(x) if not isinstance(x, core.Tracer) else core.get_aval(x).shape
      if isinstance(a, int) and -len(shape) <= a < len(shape):
        sizes.append(shape[a])
  sizes += [np.shape(v)[0] for v in tree_util.tree_leaves(kwargs) if np.ndim(v)]
  if sizes:
    return sizes[0]
  if axis_size is not None:
    return int(axis_size)
  if leaves is not None and all(a is None for a in leaves) and not kwargs:
    raise ValueError("pmap requires at least one argument with a mapped axis.")
  return 1


class _NoneAxis:
  pass


def _unstack_unmapped(out, out_axes):
  """Index 0 of the stacked outputs whose out_axes entry is None."""
  from numjax._src.lax import slicing
  leaves, tree = tree_util.tree_flatten(out)
  axes = tree_util.broadcast_prefix(tree_util._replace_nones(_NONE, out_axes), out)
  leaves = [slicing.index_in_dim(l, 0, 0, keepdims=False) if a is _NONE else l
            for l, a in zip(leaves, axes)]
  return tree_util.tree_unflatten(tree, leaves)


_NONE = _NoneAxis()


def _attach_shardings(out, out_axes, n, devs, axis_name):
  """Eager results: a NamedSharding over the one-axis mesh of the devices used."""
  leaves, tree = tree_util.tree_flatten(out)
  if not leaves or not all(isinstance(l, Array) for l in leaves):
    return out
  pool = devs if devs is not None else _devices.devices()
  name = axis_name if isinstance(axis_name, str) else _INTERNAL_NAME
  arr = np.empty(n, dtype=object)
  arr[:] = pool[:n]
  mesh = Mesh(arr, (name,), (AxisType.Auto,))
  try:
    axes = tree_util.broadcast_prefix(tree_util._replace_nones(_NONE, out_axes), out)
  except ValueError:
    return out
  from numjax._src.sharding_api import _with_sharding
  res = []
  for l, a in zip(leaves, axes):
    if a is _NONE or a is None:
      spec = PartitionSpec()
    else:
      a = a % max(l.ndim, 1)
      spec = PartitionSpec(*([None] * a), name)
    res.append(_with_sharding(l, NamedSharding(mesh, spec)))
  return tree_util.tree_unflatten(tree, res)
