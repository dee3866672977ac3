"""`numjax.Array`: an immutable value — a read-only NumPy buffer plus a weak-type flag.

Every read of the buffer goes through `Array._value`, so that a later change can make the
buffer a pending (asynchronously computed) result, and deletion (donation) is checked in
one place. Operators and most methods are installed by the numpy layer
(`numjax/_src/numpy/array_methods.py`), which is where dtype promotion lives.
"""
from __future__ import annotations

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src import sharding as _sharding_lib
from numjax._src.config import config


class Array:
  """A numjax array. Immutable: use ``x.at[idx].set(v)`` instead of ``x[idx] = v``."""
  # `_pyval`: the Python float/complex a weak scalar was made from (unset otherwise), so a
  # jaxpr literal prints `0.1` as JAX does rather than its float32 value
  __slots__ = ("_buf", "weak_type", "_sharding", "_pyval", "__weakref__")
  __array_priority__ = 100

  def __init__(self, value, weak_type=False):
    buf = np.asarray(value)
    if buf.flags.writeable:
      buf = buf.copy() if buf.base is not None or buf is value else buf
      buf.flags.writeable = False
    self._buf = buf
    self.weak_type = bool(weak_type)

  # The one place the buffer is read.
  @property
  def _value(self) -> np.ndarray:
    buf = self._buf
    if type(buf) is _ndarray:
      return buf
    if type(buf) is _Deleted:
      raise RuntimeError(f"Array has been deleted with shape={buf.aval_str}.")
    return buf.resolve(self)  # a pending result

  # ---- metadata -------------------------------------------------------------------
  # (read `_buf` directly when it is a plain buffer: one Python frame instead of two on
  # the eager hot path; anything else goes through `_value`)
  @property
  def shape(self):
    buf = self._buf
    return (buf if type(buf) is _ndarray else self._value).shape

  @property
  def dtype(self):
    buf = self._buf
    return (buf if type(buf) is _ndarray else self._value).dtype

  @property
  def ndim(self):
    buf = self._buf
    return (buf if type(buf) is _ndarray else self._value).ndim

  @property
  def size(self):
    buf = self._buf
    return (buf if type(buf) is _ndarray else self._value).size

  @property
  def itemsize(self):
    return self._value.itemsize

  @property
  def nbytes(self):
    return self._value.nbytes

  @property
  def aval(self):
    v = self._buf
    if type(v) is not _ndarray:
      v = self._value
    a = _new(_ShapedArray)  # (core._trusted_shaped_array, inlined: a hot path under grad)
    a.shape = v.shape
    a.dtype = v.dtype
    a.weak_type = self.weak_type
    return a

  # ---- placement (numjax/_src/sharding.py) -----------------------------------------
  # `_sharding` is set only on committed arrays (jax.device_put with a device or sharding,
  # pmap/shard_map results); every other array is on device 0, uncommitted.
  @property
  def sharding(self):
    try:
      return self._sharding
    except AttributeError:
      return _sharding_lib.default_sharding()

  @property
  def device(self):
    s = self.sharding
    devs = s._device_list
    return devs[0] if len(devs) == 1 else s  # JAX: the sharding when several devices

  def devices(self):
    return self.sharding.device_set

  @property
  def committed(self):
    return hasattr(self, "_sharding")

  @property
  def addressable_shards(self):
    s = self.sharding
    v = self._value
    if len(s._device_list) == 1:
      return [Shard(s._device_list[0], tuple(slice(None) for _ in v.shape), 0, self)]
    rids = s._replica_ids(v.shape)
    shards = []
    for d, idx in s.devices_indices_map(v.shape).items():
      block = _make(v[idx], self.weak_type)
      block._sharding = _sharding_lib.SingleDeviceSharding(d)
      from numjax._src.sharding_propagation import note_committed
      note_committed(block)  # computing on a shard's data stays on its device
      shards.append(Shard(d, idx, rids[d], block))
    return shards

  @property
  def global_shards(self):
    return self.addressable_shards

  def addressable_data(self, index):
    return self.addressable_shards[index].data

  @property
  def is_fully_addressable(self):
    return True

  @property
  def is_fully_replicated(self):
    return self.sharding.is_fully_replicated

  # ---- lifetime -------------------------------------------------------------------
  def block_until_ready(self):
    self._value  # pending results resolve (and deleted arrays raise) here
    return self

  def copy_to_host_async(self):
    return None

  def delete(self):
    if type(self._buf) is not _Deleted:
      self._buf = _Deleted(self.aval.str_short(False))

  def is_deleted(self):
    return type(self._buf) is _Deleted

  def is_ready(self):
    return True

  def on_device_size_in_bytes(self):
    return self.nbytes

  def unsafe_buffer_pointer(self):
    return self._value.ctypes.data

  # ---- Python protocol --------------------------------------------------------------
  def __array__(self, dtype=None, copy=None):
    v = self._value
    if dtype is not None and np.dtype(dtype) != v.dtype:
      if copy is False:
        raise ValueError("Unable to avoid copy while creating an array as requested.")
      return v.astype(dtype)
    if copy:
      return v.copy()
    return v

  def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
    v = self._value
    if max_version is None:
      return v.__dlpack__(stream=stream)
    return v.__dlpack__(stream=stream, max_version=max_version, dl_device=dl_device, copy=copy)

  def __dlpack_device__(self):
    return self._value.__dlpack_device__()

  def __jax_array__(self):
    return self

  def _scalar_or_raise(self, what):
    v = self._value
    if what == "bool":
      if v.size != 1:
        raise ValueError("The truth value of an array with more than one element is "
                         "ambiguous. Use a.any() or a.all()")
    elif v.ndim:  # JAX converts only 0-d arrays to int/float/complex
      raise TypeError("Only scalar arrays can be converted to Python scalars; got "
                      f"arr.ndim={v.ndim}")
    return v

  def __bool__(self):
    return bool(self._scalar_or_raise("bool"))

  def __int__(self):
    return int(self._scalar_or_raise("int").reshape(()))

  def __float__(self):
    return float(self._scalar_or_raise("float").reshape(()))

  def __complex__(self):
    return complex(self._scalar_or_raise("complex").reshape(()))

  def __index__(self):
    v = self._value
    if v.ndim or not np.issubdtype(v.dtype, np.integer):
      raise TypeError("Only integer scalar arrays can be converted to a scalar index.")
    return int(v)

  def __len__(self):
    v = self._value
    if v.ndim == 0:
      raise TypeError("len() of unsized object")
    return v.shape[0]

  def __iter__(self):
    v = self._value
    if v.ndim == 0:
      raise TypeError("iteration over a 0-d array")
    for i in range(v.shape[0]):
      yield _make(v[i], self.weak_type)

  def __reversed__(self):
    v = self._value
    for i in range(v.shape[0] - 1, -1, -1):
      yield _make(v[i], self.weak_type)

  __hash__ = None  # unhashable, as jax.Array

  def __setitem__(self, idx, val):
    raise TypeError(
        "JAX arrays are immutable and do not support in-place item assignment. Instead of "
        "x[idx] = y, use x = x.at[idx].set(y) or another .at[] method: "
        "https://docs.jax.dev/en/latest/_autosummary/jax.numpy.ndarray.at.html")

  def __reduce__(self):
    return (_reconstruct, (np.array(self._value), self.weak_type))

  def __copy__(self):
    return self

  def __deepcopy__(self, memo):
    return self

  def item(self, *args):
    return self._value.item(*args)

  def tolist(self):
    return self._value.tolist()

  def __repr__(self):
    v = self._value
    prefix = "Array("
    suffix = f", dtype={v.dtype.name}" + (", weak_type=True" if self.weak_type else "") + ")"
    if v.size == 0 and v.ndim > 0:
      body = f"[], shape={v.shape}"
    else:
      body = np.array2string(v, separator=", ", prefix=prefix, suffix=suffix)
    return prefix + body + suffix

  def __str__(self):
    return str(self._value)

  def __format__(self, spec):
    v = self._value
    if v.ndim == 0:
      return format(v[()], spec)
    return format(str(v), spec)


class _Deleted:
  __slots__ = ("aval_str",)

  def __init__(self, aval_str):
    self.aval_str = aval_str


class Shard:
  """One device's block of an Array (`jax.Shard`)."""
  __slots__ = ("device", "index", "replica_id", "data")

  def __init__(self, device, index, replica_id, data):
    self.device, self.index, self.replica_id, self.data = device, index, replica_id, data

  def __repr__(self):
    return (f"Shard(device={self.device!r}, index={self.index}, replica_id={self.replica_id}"
            f", data={self.data})")


def _reconstruct(buf, weak):
  return Array(buf, weak)


# Results that NumPy computes in 64 bits are brought back to 32 when x64 is off.
_narrow = {}


def _reset_narrow(name=None, value=None):
  _narrow.clear()
  if not config.jax_enable_x64:
    _narrow.update({np.dtype("int64"): np.dtype("int32"), np.dtype("uint64"): np.dtype("uint32"),
                    np.dtype("float64"): np.dtype("float32"),
                    np.dtype("complex128"): np.dtype("complex64")})


_reset_narrow()
config.on_change(lambda n, v: _reset_narrow() if n == "jax_enable_x64" else None)

_new = object.__new__
_ndarray = np.ndarray


def _make(val, weak=False):
  """Wrap a fresh NumPy result (no copy); the eager path's constructor."""
  if type(val) is not _ndarray:
    val = np.asarray(val)
  if val.dtype in _narrow:
    val = val.astype(_narrow[val.dtype])
  val.setflags(write=False)  # (cheaper than `val.flags.writeable = False`)
  a = _new(Array)
  a._buf = val
  a.weak_type = weak
  return a


_shaped = core._trusted_shaped_array
_ShapedArray = core.ShapedArray
core.set_array_wrapper(_make)
core.pytype_aval_mappings[Array] = Array.aval.fget
