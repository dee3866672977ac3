"""Shardings: how an array's elements are laid out over the (logical CPU) devices.

numjax keeps every array in one NumPy buffer; a sharding is metadata that says which block
of it each device would hold. It drives `x.sharding`, `x.addressable_shards`,
`jax.debug.visualize_array_sharding`, and the block splitting of shard_map/pmap. The
classes mirror `jax.sharding`: PartitionSpec (P), AxisType, Mesh, AbstractMesh, Sharding,
SingleDeviceSharding, NamedSharding, and the mesh context (set_mesh / get_mesh).
"""
from __future__ import annotations

import collections
import enum
import math
import threading
import warnings

import numpy as np

from numjax._src import devices as _devices

__all__ = ["PartitionSpec", "P", "AxisType", "Mesh", "AbstractMesh", "Sharding",
           "SingleDeviceSharding", "NamedSharding", "make_mesh", "set_mesh", "get_mesh",
           "get_abstract_mesh", "use_abstract_mesh", "make_single_device_sharding",
           "IndivisibleError", "DuplicateSpecError"]


class IndivisibleError(ValueError):
  """An array dimension is not divisible by the number of devices it is split over."""


class DuplicateSpecError(ValueError):
  """A PartitionSpec names one mesh axis for two array dimensions."""


# ---------------------------------------------------------------------------------------
# PartitionSpec

class _Unconstrained:
  def __repr__(self):
    return "UNCONSTRAINED"

  def __reduce__(self):
    return (_unconstrained, ())


_UNCONSTRAINED = _Unconstrained()


def _unconstrained():
  return _UNCONSTRAINED


def _canonical_entry(e):
  if isinstance(e, list):
    e = tuple(e)
  if isinstance(e, tuple):
    if len(e) == 1:
      return e[0]  # P(('x',)) is P('x')
    if not e:
      return None
  return e


class PartitionSpec:
  """How each array dimension is split over mesh axes: one entry per leading dimension,
  each None (not split), a mesh axis name, or a tuple of names (split over their product,
  major to minor). Trailing dimensions without an entry are not split."""
  __slots__ = ("_partitions", "unreduced", "reduced")
  UNCONSTRAINED = _UNCONSTRAINED

  def __init__(self, *partitions, unreduced=frozenset(), reduced=frozenset()):
    self._partitions = tuple(_canonical_entry(p) for p in partitions)
    self.unreduced = frozenset(unreduced)
    self.reduced = frozenset(reduced)

  def __repr__(self):
    extra = [f"{k}={set(sorted(v))!r}" for k, v in
             (("unreduced", self.unreduced), ("reduced", self.reduced)) if v]
    if not extra:
      return "P" + repr(self._partitions)  # P('x',) like a tuple
    return "P(" + ", ".join([repr(p) for p in self._partitions] + extra) + ")"

  __str__ = __repr__

  def __len__(self):
    return len(self._partitions)

  def __iter__(self):
    return iter(self._partitions)

  def __getitem__(self, i):
    return self._partitions[i]

  def __eq__(self, other):
    return (isinstance(other, PartitionSpec) and self._partitions == other._partitions
            and self.unreduced == other.unreduced and self.reduced == other.reduced)

  def __hash__(self):
    return hash((PartitionSpec, self._partitions, self.unreduced, self.reduced))

  def __add__(self, other):
    if isinstance(other, PartitionSpec):
      return PartitionSpec(*self._partitions, *other._partitions,
                           unreduced=self.unreduced | other.unreduced,
                           reduced=self.reduced | other.reduced)
    if isinstance(other, (tuple, list)):
      return PartitionSpec(*self._partitions, *other, unreduced=self.unreduced,
                           reduced=self.reduced)
    return NotImplemented

  def __radd__(self, other):
    if isinstance(other, (tuple, list)):
      return PartitionSpec(*other, *self._partitions, unreduced=self.unreduced,
                           reduced=self.reduced)
    return NotImplemented

  def __reduce__(self):
    return (_make_pspec, (self._partitions, self.unreduced, self.reduced))

  def count(self, value):
    return self._partitions.count(value)

  def index(self, value):
    return self._partitions.index(value)

  def update(self, **kwargs):
    """A copy with `partitions`, `unreduced` or `reduced` replaced."""
    return PartitionSpec(*kwargs.get("partitions", self._partitions),
                         unreduced=kwargs.get("unreduced", self.unreduced),
                         reduced=kwargs.get("reduced", self.reduced))

  def _axis_names(self, i):
    """The mesh axis names dimension i is split over (a tuple, maybe empty)."""
    e = self._partitions[i] if i < len(self._partitions) else None
    if e is None or e is _UNCONSTRAINED:
      return ()
    return e if isinstance(e, tuple) else (e,)


def _make_pspec(partitions, unreduced, reduced):
  return PartitionSpec(*partitions, unreduced=unreduced, reduced=reduced)


P = PartitionSpec


# ---------------------------------------------------------------------------------------
# Meshes

class AxisType(enum.Enum):
  """How a mesh axis is treated: Auto (the compiler chooses), Explicit (shardings are part
  of types), Manual (inside shard_map). numjax records it; all three compute alike."""
  Auto = enum.auto()
  Explicit = enum.auto()
  Manual = enum.auto()

  def __repr__(self):
    return self.name


def _canonical_axis_types(axis_types, n, default):
  if axis_types is None:
    return (default,) * n
  if isinstance(axis_types, AxisType):
    return (axis_types,) * n
  axis_types = tuple(axis_types)
  if len(axis_types) != n or not all(isinstance(t, AxisType) for t in axis_types):
    raise ValueError(f"Number of axis_types should match the number of axis_names, and "
                     f"each should be a jax.sharding.AxisType. Got axis_types={axis_types} "
                     f"for {n} axis names.")
  return axis_types


def _axis_types_str(types):
  return "(" + ", ".join(t.name for t in types) + ("," if len(types) == 1 else "") + ")"


class _MeshBase:
  """What Mesh and AbstractMesh share: axis names, sizes and types."""
  axis_names: tuple
  axis_sizes: tuple
  axis_types: tuple

  @property
  def shape(self):
    return collections.OrderedDict(zip(self.axis_names, self.axis_sizes))

  @property
  def shape_tuple(self):
    return tuple(zip(self.axis_names, self.axis_sizes))

  @property
  def size(self):
    return math.prod(self.axis_sizes) if self.axis_names else 0

  @property
  def empty(self):
    return not self.axis_names

  @property
  def is_multi_process(self):
    return False

  def _axes_of(self, kind):
    return tuple(n for n, t in zip(self.axis_names, self.axis_types) if t is kind)

  @property
  def explicit_axes(self):
    return self._axes_of(AxisType.Explicit)

  @property
  def auto_axes(self):
    return self._axes_of(AxisType.Auto)

  @property
  def manual_axes(self):
    return self._axes_of(AxisType.Manual)

  @property
  def are_all_axes_explicit(self):
    return all(t is AxisType.Explicit for t in self.axis_types)

  @property
  def are_all_axes_auto(self):
    return all(t is AxisType.Auto for t in self.axis_types)

  @property
  def are_all_axes_manual(self):
    return all(t is AxisType.Manual for t in self.axis_types)

  def _shape_str(self):
    return ", ".join(f"'{n}': {s}" if isinstance(n, str) else f"{n!r}: {s}"
                     for n, s in zip(self.axis_names, self.axis_sizes))


class Mesh(_MeshBase):
  """An n-d array of devices with a name per axis: `Mesh(devices, axis_names)`.

  `with mesh:` (deprecated in JAX, as here) makes it the context mesh, like
  `jax.set_mesh(mesh)`."""

  def __init__(self, devices, axis_names, axis_types=None):
    if isinstance(axis_names, str):
      axis_names = (axis_names,)
    axis_names = tuple(axis_names)
    if not isinstance(devices, np.ndarray):
      devs = list(devices)
      devices = np.empty(len(devs), dtype=object)
      devices[:] = devs
    if devices.ndim != len(axis_names):
      raise ValueError("Mesh requires the ndim of its first argument (`devices`) to equal "
                       "the length of its second argument (`axis_names`), but got "
                       f"devices.ndim == {devices.ndim} and len(axis_names) == "
                       f"{len(axis_names)}.")
    devices = devices.astype(object, copy=True)
    devices.flags.writeable = False
    self.devices = devices
    self.axis_names = axis_names
    self.axis_sizes = tuple(devices.shape)
    self.axis_types = _canonical_axis_types(axis_types, len(axis_names), AxisType.Auto)
    self._ctx = []

  @property
  def device_ids(self):
    return np.vectorize(lambda d: d.id, otypes=[np.int64])(self.devices) if \
        self.devices.size else np.zeros(self.devices.shape, np.int64)

  @property
  def _flat_devices_tuple(self):
    return tuple(self.devices.flat)

  @property
  def local_devices(self):
    return list(self.devices.flat)

  @property
  def local_mesh(self):
    return Mesh(self.devices, self.axis_names)

  @property
  def abstract_mesh(self):
    return AbstractMesh(self.axis_sizes, self.axis_names, self.axis_types,
                        _from_devices=bool(self.axis_names))

  def update(self, devices=None, axis_names=None, axis_types=None):
    """A copy with the given fields replaced."""
    return Mesh(self.devices if devices is None else devices,
                self.axis_names if axis_names is None else axis_names,
                self.axis_types if axis_types is None else axis_types)

  def _key(self):
    return (tuple(d.id for d in self.devices.flat), self.axis_sizes, self.axis_names,
            self.axis_types)

  def __eq__(self, other):
    return isinstance(other, Mesh) and self._key() == other._key()

  def __hash__(self):
    h = self.__dict__.get("_hash")
    if h is None:  # (devices, names and types never change: hash once)
      h = self._hash = hash(self._key())
    return h

  def __repr__(self):
    if not self.axis_names:
      return "Mesh(axis_sizes=(), axis_names=())"
    return (f"Mesh(axis_sizes={self.axis_sizes!r}, axis_names={self.axis_names!r}, "
            f"axis_types={_axis_types_str(self.axis_types)})")

  def __str__(self):
    if not self.axis_names:
      return "Mesh()"
    return f"Mesh({self._shape_str()}, axis_types={_axis_types_str(self.axis_types)})"

  def __reduce__(self):
    return (Mesh, (self.devices, self.axis_names, self.axis_types))

  def __enter__(self):
    warnings.warn("`with mesh:` context manager has been deprecated. Please use `with "
                  "jax.set_mesh(mesh):` instead.", DeprecationWarning, stacklevel=2)
    self._ctx.append(set_mesh(self))
    return self

  def __exit__(self, *exc):
    self._ctx.pop().__exit__(*exc)
    return False


class AbstractMesh(_MeshBase):
  """A mesh's axis names, sizes and types, without devices."""

  def __init__(self, axis_sizes, axis_names, axis_types=None, *, _from_devices=False):
    if isinstance(axis_names, str):
      axis_names = (axis_names,)
    self.axis_sizes = tuple(int(s) for s in axis_sizes)
    self.axis_names = tuple(axis_names)
    if len(self.axis_sizes) != len(self.axis_names):
      raise ValueError(f"axis_sizes {self.axis_sizes} and axis_names {self.axis_names} "
                       "must have the same length.")
    self.axis_types = _canonical_axis_types(axis_types, len(self.axis_names), AxisType.Auto)
    self._from_devices = _from_devices

  @property
  def abstract_mesh(self):
    return self

  def update(self, axis_sizes=None, axis_names=None, axis_types=None):
    return AbstractMesh(self.axis_sizes if axis_sizes is None else axis_sizes,
                        self.axis_names if axis_names is None else axis_names,
                        self.axis_types if axis_types is None else axis_types,
                        _from_devices=self._from_devices)

  def update_axis_types(self, name_to_type):
    return self.update(axis_types=tuple(name_to_type.get(n, t) for n, t in
                                        zip(self.axis_names, self.axis_types)))

  def __eq__(self, other):
    return (isinstance(other, AbstractMesh) and self.axis_sizes == other.axis_sizes and
            self.axis_names == other.axis_names and self.axis_types == other.axis_types)

  def __hash__(self):
    return hash((AbstractMesh, self.axis_sizes, self.axis_names, self.axis_types))

  def __repr__(self):
    types = _axis_types_str(self.axis_types)
    if not self.axis_names:
      return f"AbstractMesh((), axis_types={types})"
    dev = ", device_kind=cpu, num_cores=None, platform=cpu" if self._from_devices else ""
    return f"AbstractMesh({self._shape_str()}, axis_types={types}{dev})"

  __str__ = __repr__


def make_mesh(axis_shapes, axis_names, axis_types=None, *, devices=None):
  """A Mesh of the first prod(axis_shapes) devices (or of `devices`), laid out row-major.
  Axis types default to Explicit, as in JAX."""
  if isinstance(axis_names, str):
    axis_names = (axis_names,)
  axis_shapes = tuple(int(s) for s in axis_shapes)
  axis_names = tuple(axis_names)
  devs = list(_devices.devices() if devices is None else devices)
  n = math.prod(axis_shapes)
  if len(devs) < n:
    raise ValueError(f"Number of devices {len(devs)} must be >= the product of mesh_shape "
                     f"{axis_shapes}")
  if len(axis_shapes) != len(axis_names):
    raise ValueError("Mesh requires the ndim of its first argument (`devices`) to equal "
                     "the length of its second argument (`axis_names`), but got "
                     f"devices.ndim == {len(axis_shapes)} and len(axis_names) == "
                     f"{len(axis_names)}.")
  arr = np.empty(n, dtype=object)
  arr[:] = devs[:n]
  types = _canonical_axis_types(axis_types, len(axis_names), AxisType.Explicit)
  return Mesh(arr.reshape(axis_shapes), axis_names, types)


# ---------------------------------------------------------------------------------------
# The context mesh (jax.set_mesh)

_EMPTY_MESH = Mesh(np.empty((), dtype=object), ())
_state = threading.local()


def get_mesh() -> Mesh:
  """The mesh set by `jax.set_mesh` (an empty Mesh when none is)."""
  return getattr(_state, "mesh", _EMPTY_MESH)


def get_abstract_mesh() -> AbstractMesh:
  """The abstract mesh of the context (empty when none is set)."""
  am = getattr(_state, "abstract_mesh", None)
  return am if am is not None else get_mesh().abstract_mesh


class set_mesh:
  """Set the context mesh. Takes effect at once (a plain call sets it globally for this
  thread); as a context manager, the previous mesh comes back on exit."""

  def __init__(self, mesh):
    if mesh is not None and not isinstance(mesh, Mesh):
      raise ValueError(f"Expected mesh of type `jax.sharding.Mesh`. Got {type(mesh)}")
    self._prev = (get_mesh(), getattr(_state, "abstract_mesh", None))
    _state.mesh = _EMPTY_MESH if mesh is None else mesh
    _state.abstract_mesh = None

  def __enter__(self):
    return None

  def __exit__(self, *exc):
    _state.mesh, _state.abstract_mesh = self._prev
    return False


class use_abstract_mesh:
  """Context manager making `mesh` (an AbstractMesh) the context's abstract mesh."""

  def __init__(self, mesh):
    if not isinstance(mesh, AbstractMesh):
      raise ValueError(f"Expected mesh of type `jax.sharding.AbstractMesh`. Got "
                       f"{type(mesh)}")
    self._mesh = mesh

  def __enter__(self):
    self._prev = getattr(_state, "abstract_mesh", None)
    _state.abstract_mesh = self._mesh

  def __exit__(self, *exc):
    _state.abstract_mesh = self._prev
    return False


# ---------------------------------------------------------------------------------------
# Shardings

_MEMORY_KINDS = ("device", "pinned_host", "unpinned_host")


def _check_memory_kind(kind):
  if kind is None:
    return "device"
  if kind not in _MEMORY_KINDS:
    raise ValueError(f"Could not find memory addressable by device cpu. Device cpu can "
                     f"address the following memory kinds: {', '.join(_MEMORY_KINDS)}. "
                     f"Got memory kind: {kind}")
  return kind


class Sharding:
  """Base class of shardings: a map from devices to the block of an array each holds."""
  memory_kind = "device"

  @property
  def _device_list(self) -> tuple:
    raise NotImplementedError

  @property
  def device_set(self):
    return set(self._device_list)

  @property
  def addressable_devices(self):
    return set(self._device_list)

  @property
  def num_devices(self):
    return len(self._device_list)

  @property
  def is_fully_addressable(self):
    return True

  @property
  def has_addressable_devices(self):
    return True

  def devices_indices_map(self, global_shape):
    """{device: tuple of slices}: the block of an array of `global_shape` on each device."""
    raise NotImplementedError

  def addressable_devices_indices_map(self, global_shape):
    return self.devices_indices_map(global_shape)

  def shard_shape(self, global_shape):
    raise NotImplementedError

  def is_equivalent_to(self, other, ndim):
    """Same blocks on the same devices (and memory kind), whatever the class."""
    if not isinstance(other, Sharding) or self.memory_kind != other.memory_kind:
      return False
    if self._device_list != other._device_list:
      return False
    # Every split factor divides the device count, so this probe shape splits evenly.
    shape = (self.num_devices,) * ndim
    norm = lambda m: {d: tuple(slice(*sl.indices(n)) for sl, n in zip(idx, shape))
                      for d, idx in m.items()}
    return norm(self.devices_indices_map(shape)) == norm(other.devices_indices_map(shape))

  @property
  def is_fully_replicated(self):
    raise NotImplementedError

  def _replica_ids(self, global_shape):
    """{device: replica id}: devices holding equal blocks are numbered 0, 1, ..."""
    seen, out = {}, {}
    for d, idx in self.devices_indices_map(global_shape).items():
      key = tuple((s.start, s.stop) for s in idx)
      out[d] = seen.get(key, 0)
      seen[key] = out[d] + 1
    return out


class SingleDeviceSharding(Sharding):
  """The whole array on one device."""

  def __init__(self, device=None, *, memory_kind=None):
    self._device = device if device is not None else _devices.devices()[0]
    self.memory_kind = _check_memory_kind(memory_kind)

  @property
  def _device_list(self):
    return (self._device,)

  def __repr__(self):
    return f"SingleDeviceSharding(device={self._device!r}, memory_kind={self.memory_kind})"

  def __eq__(self, other):
    return (isinstance(other, SingleDeviceSharding) and other._device == self._device and
            other.memory_kind == self.memory_kind)

  def __hash__(self):
    return hash((SingleDeviceSharding, self._device, self.memory_kind))

  def __reduce__(self):
    return (_single, (self._device, self.memory_kind))

  is_fully_replicated = True

  def devices_indices_map(self, global_shape):
    return {self._device: tuple(slice(None) for _ in global_shape)}

  def shard_shape(self, global_shape):
    return tuple(global_shape)

  def with_memory_kind(self, kind):
    return SingleDeviceSharding(self._device, memory_kind=kind)


def _single(device, kind):
  return SingleDeviceSharding(device, memory_kind=kind)


def make_single_device_sharding(device):
  """A SingleDeviceSharding on `device`."""
  return SingleDeviceSharding(device)


_DEFAULT = {}


def default_sharding():
  """The sharding of an uncommitted array: the whole array on the default device
  (device 0 unless `jax.default_device` says otherwise)."""
  dev = getattr(_state, "default_device", None)
  s = _DEFAULT.get(dev)
  if s is None:
    s = _DEFAULT[dev] = SingleDeviceSharding(dev if dev is not None else
                                             _devices.devices()[0])
  return s


class default_device:
  """Context manager: uncommitted arrays created in its body report `device` (a Device,
  or None for device 0)."""

  def __init__(self, device):
    if device is not None and not isinstance(device, _devices.Device):
      raise ValueError(f"jax.default_device expects a jax.Device or None, got {device!r}")
    self._device = device

  def __enter__(self):
    self._prev = getattr(_state, "default_device", None)
    _state.default_device = self._device

  def __exit__(self, *exc):
    _state.default_device = self._prev
    return False


class NamedSharding(Sharding):
  """An array split over a Mesh as a PartitionSpec says."""

  def __init__(self, mesh, spec, *, memory_kind=None):
    if not isinstance(spec, PartitionSpec):
      raise AttributeError(f"NamedSharding expects a jax.sharding.PartitionSpec as its spec, "
                           f"got {spec!r} of type {type(spec).__name__}: write "
                           f"P{tuple(spec) if isinstance(spec, (tuple, list)) else ''!r}.")
    if not isinstance(mesh, (Mesh, AbstractMesh)):
      raise TypeError(f"NamedSharding expects a Mesh or AbstractMesh, got {type(mesh)}")
    self.mesh = mesh
    self.spec = spec
    self.memory_kind = _check_memory_kind(memory_kind)
    _check_spec(mesh, spec)

  # ---- identity ---------------------------------------------------------------------
  def __repr__(self):
    return (f"NamedSharding(mesh={self.mesh}, spec={self.spec!r}, "
            f"memory_kind={self.memory_kind})")

  def __eq__(self, other):
    return (isinstance(other, NamedSharding) and self.mesh == other.mesh and
            self.spec == other.spec and self.memory_kind == other.memory_kind)

  def __hash__(self):
    return hash((NamedSharding, self.mesh, self.spec, self.memory_kind))

  def __reduce__(self):
    return (_named, (self.mesh, self.spec, self.memory_kind))

  def update(self, **kwargs):
    """A copy with `mesh`, `spec` or `memory_kind` replaced."""
    return NamedSharding(kwargs.get("mesh", self.mesh), kwargs.get("spec", self.spec),
                         memory_kind=kwargs.get("memory_kind", self.memory_kind))

  def with_memory_kind(self, kind):
    return self.update(memory_kind=kind)

  # ---- layout -----------------------------------------------------------------------
  @property
  def _device_list(self):
    if not isinstance(self.mesh, Mesh):
      raise ValueError("An AbstractMesh has no devices: use a concrete jax.sharding.Mesh.")
    return self.mesh._flat_devices_tuple

  def _used_axes(self):
    return {n for i in range(len(self.spec)) for n in self.spec._axis_names(i)}

  @property
  def replicated_axes(self):
    used = self._used_axes()
    return frozenset(n for n in self.mesh.axis_names if n not in used)

  @property
  def is_fully_replicated(self):
    sizes = dict(zip(self.mesh.axis_names, self.mesh.axis_sizes))
    return math.prod(sizes[n] for n in self._used_axes()) == 1

  def _tiling(self, ndim):
    sizes = dict(zip(self.mesh.axis_names, self.mesh.axis_sizes))
    return [math.prod(sizes[n] for n in self.spec._axis_names(i)) for i in range(ndim)]

  def check_compatible_aval(self, shape):
    """Raise ValueError when the spec has more entries than the array has dimensions."""
    if len(self.spec) > len(shape):
      raise ValueError(f"Sharding {self} is only valid for values of rank at least "
                       f"{len(self.spec)}, but was applied to a value of rank {len(shape)}.")

  def shard_shape(self, global_shape):
    """The shape of one device's block; IndivisibleError when a split is uneven."""
    global_shape = tuple(global_shape)
    tiling = self._tiling(len(global_shape))
    for i, (d, t) in enumerate(zip(global_shape, tiling)):
      if d % t:
        raise IndivisibleError(
            f"Sharding {self} implies that array axis {i} is partitioned {t} times, but "
            f"the dimension size is {d} (full shape: {global_shape}, per-dimension tiling "
            f"factors: {tiling} should evenly divide the shape)")
    return tuple(d // t for d, t in zip(global_shape, tiling))

  def devices_indices_map(self, global_shape):
    global_shape = tuple(global_shape)
    block = self.shard_shape(global_shape)
    mesh = self.mesh
    sizes = dict(zip(mesh.axis_names, mesh.axis_sizes))
    pos = {n: i for i, n in enumerate(mesh.axis_names)}
    out = {}
    for coords in np.ndindex(*mesh.axis_sizes):
      idx = []
      for i, d in enumerate(global_shape):
        names = self.spec._axis_names(i)
        if not names:
          idx.append(slice(None))
          continue
        k = 0
        for n in names:  # row-major over the named axes, first name most significant
          k = k * sizes[n] + coords[pos[n]]
        idx.append(slice(k * block[i], (k + 1) * block[i]))
      out[mesh.devices[coords]] = tuple(idx)
    return out


def _named(mesh, spec, kind):
  return NamedSharding(mesh, spec, memory_kind=kind)


def _check_spec(mesh, spec):
  seen = set()
  for i in range(len(spec)):
    for n in spec._axis_names(i):
      if n not in mesh.axis_names:
        raise ValueError(f"Resource axis: {n} of {spec!r} is not found in mesh: "
                         f"{mesh.axis_names}.")
      if n in seen:
        raise DuplicateSpecError(
            "A single NamedSharding spec specification can map every mesh axis to at most "
            f"one positional dimension, but {spec!r} has duplicate entries for `{n}`")
      seen.add(n)
