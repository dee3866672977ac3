"""PRNG keys: typed key arrays (`random.key`, dtype `key<fry>`) and raw uint32[2] keys.

A typed key array is a `PRNGKeyArray`: the key data (uint32[*shape, 2], an Array or a
Tracer) plus the PRNG implementation. It is registered as a pytree node whose single leaf
is the key data, so jit, vmap and grad see ordinary uint32 arrays and rebuild the keys on
the other side (JAX gives keys their own aval; numjax keeps avals numeric, which is why
`tree_leaves(key)` shows the uint32 data here). Arithmetic on keys raises JAX's TypeError.
"""
from __future__ import annotations

import math
import operator
from collections.abc import Sequence

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src import tree_util
from numjax._src.array import Array
from numjax._src.core import ShapedArray, Tracer
from numjax._src.random import prng
from numjax._src.random.prng import PRNGImpl

_u32 = np.dtype(np.uint32)


class KeyTy(_dtypes.ExtendedDType):
  """The dtype of typed PRNG key arrays, printed `key<fry>` for threefry."""
  type = _dtypes.prng_key

  def __init__(self, impl: PRNGImpl):
    self._impl = impl

  @property
  def name(self) -> str:
    return f"key<{self._impl.tag}>"

  @property
  def itemsize(self) -> int:
    return math.prod(self._impl.key_shape) * 4

  kind = "V"

  def __repr__(self):
    return self.name

  __str__ = __repr__

  def __eq__(self, other):
    return type(other) is KeyTy and self._impl == other._impl

  def __ne__(self, other):
    return not self == other

  def __hash__(self):
    return hash((KeyTy, self._impl))


def _key_aval(shape, dtype) -> ShapedArray:
  # ShapedArray's constructor insists on NumPy dtypes; a key aval only describes the key.
  aval = object.__new__(ShapedArray)
  aval.shape, aval.dtype, aval.weak_type = tuple(shape), dtype, False
  return aval


def _binary_op_error(name):
  def op(self, other=None):
    other_dt = _dtypes.dtype(other, canonicalize=True) if other is not None and not \
        isinstance(other, PRNGKeyArray) else self.dtype
    raise TypeError(f"{name} does not accept dtypes {self.dtype}, {other_dt}.")
  return op


def _rbinary_op_error(name):
  def op(self, other):
    other_dt = _dtypes.dtype(other, canonicalize=True) if not isinstance(
        other, PRNGKeyArray) else self.dtype
    raise TypeError(f"{name} does not accept dtypes {other_dt}, {self.dtype}.")
  return op


def _unary_op_error(name, kinds="integer, floating, complexfloating"):
  def op(self):
    raise TypeError(f"{name} does not accept dtype {self.dtype}. Accepted dtypes are "
                    f"subtypes of {kinds}.")
  return op


class PRNGKeyArray(Array):
  """An array of PRNG keys (dtype `key<impl>`) overlaying its uint32 key data."""
  __slots__ = ("_impl", "_base_array")

  def __init__(self, impl: PRNGImpl, key_data):
    self._impl = impl
    self._base_array = key_data
    self.weak_type = False

  # ---- metadata ---------------------------------------------------------------------
  @property
  def dtype(self):
    return KeyTy(self._impl)

  @property
  def shape(self):
    return tuple(self._base_array.shape[:-len(self._impl.key_shape)])

  @property
  def ndim(self):
    return len(self.shape)

  @property
  def size(self):
    return math.prod(self.shape)

  @property
  def itemsize(self):
    return self.dtype.itemsize

  @property
  def nbytes(self):
    return self.itemsize * self.size

  @property
  def aval(self):
    return _key_aval(self.shape, self.dtype)

  @property
  def _value(self):
    raise TypeError(f"JAX array with PRNGKey dtype {self.dtype} cannot be used in numeric "
                    "operations. Use jax.random.key_data(key) if you wish to extract the "
                    "underlying integer array.")

  def _is_scalar(self):
    return self.ndim == 0

  def block_until_ready(self):
    if not isinstance(self._base_array, Tracer):
      self._base_array.block_until_ready()
    return self

  def delete(self):
    self._base_array.delete()

  def is_deleted(self):
    return self._base_array.is_deleted()

  def copy(self):
    return PRNGKeyArray(self._impl, self._base_array)

  def __copy__(self):
    return self

  def __deepcopy__(self, memo):
    return self

  def __reduce__(self):
    return (PRNGKeyArray, (self._impl, self._base_array))

  # ---- Python protocol --------------------------------------------------------------
  __hash__ = None

  def __len__(self):
    if self._is_scalar():
      raise TypeError("len() of unsized object")
    return self.shape[0]

  def __iter__(self):
    if self._is_scalar():
      raise TypeError("iteration over a 0-d key array")
    return (self[i] for i in range(self.shape[0]))

  def __bool__(self):
    raise TypeError("key array cannot be converted to boolean.")

  def __float__(self):
    raise TypeError("float() argument must be a string or a real number, not "
                    "'PRNGKeyArray'")

  def __int__(self):
    raise TypeError("int() argument must be a string, a bytes-like object or a real "
                    "number, not 'PRNGKeyArray'")

  __complex__ = __float__

  def __index__(self):
    raise TypeError("key arrays cannot be used as indices.")

  def __array__(self, dtype=None, copy=None):
    raise TypeError("JAX array with PRNGKey dtype cannot be converted to a NumPy array. "
                    "Use jax.random.key_data(arr) if you wish to extract the underlying "
                    "integer array.")

  def __repr__(self):
    base = self._base_array
    if isinstance(base, Tracer):
      return f"Traced<{self.dtype.name}[{','.join(map(str, self.shape))}]>"
    return f"Array({self.shape}, dtype={self.dtype.name}) overlaying:\n{base}"

  __str__ = __repr__

  def __format__(self, spec):
    return format(repr(self), spec)

  def pprint(self):
    return (f"PRNGKeyArray:\n  shape = {self.shape}\n  impl = PRNGImpl "
            f"[{self._impl.tag}] {{{self._impl.name}}}")

  # ---- shape manipulation: on the key data, keeping its trailing key axis ------------
  def _data_index(self, idx):
    if not isinstance(idx, tuple):
      idx = (idx,)
    if any(i is Ellipsis for i in idx):
      idx = idx + (slice(None),)
    return idx

  def __getitem__(self, idx):
    if self._is_scalar():
      n = len(idx) if isinstance(idx, tuple) else 1
      raise IndexError(f"Too many indices: array is 0-dimensional, but {n} were indexed")
    return PRNGKeyArray(self._impl, self._base_array[self._data_index(idx)])

  def reshape(self, *shape, order="C"):
    if len(shape) == 1 and not isinstance(shape[0], int):
      shape = tuple(shape[0])
    shape = _fill_minus_one(shape, self.size)
    from numjax._src.lax import lax
    return PRNGKeyArray(self._impl, lax.reshape(self._base_array,
                                                tuple(shape) + self._impl.key_shape))

  def ravel(self, order="C"):
    return self.reshape((self.size,))

  flatten = ravel

  def squeeze(self, axis=None):
    shape = self.shape
    if axis is None:
      axes = tuple(i for i, s in enumerate(shape) if s == 1)
    else:
      axes = tuple(a % self.ndim for a in ((axis,) if isinstance(axis, int) else axis))
    from numjax._src.lax import lax
    return PRNGKeyArray(self._impl, lax.squeeze(self._base_array, axes))

  def transpose(self, *axes):
    if not axes or axes == (None,):
      axes = tuple(range(self.ndim))[::-1]
    elif len(axes) == 1 and not isinstance(axes[0], int):
      axes = tuple(axes[0])
    axes = tuple(operator.index(a) % self.ndim for a in axes)
    from numjax._src.lax import lax
    perm = axes + tuple(range(self.ndim, self.ndim + len(self._impl.key_shape)))
    return PRNGKeyArray(self._impl, lax.transpose(self._base_array, perm))

  @property
  def T(self):
    return self.transpose()

  def swapaxes(self, a, b):
    perm = list(range(self.ndim))
    a, b = a % self.ndim, b % self.ndim
    perm[a], perm[b] = perm[b], perm[a]
    return self.transpose(tuple(perm))

  def take(self, indices, axis=None):
    import numjax.numpy as jnp
    if axis is None:
      return self.ravel().take(indices, 0)
    axis = axis % self.ndim
    return PRNGKeyArray(self._impl, jnp.take(self._base_array, indices, axis=axis))

  # ---- comparison: keys are equal when their data are -------------------------------
  def __eq__(self, other):
    if not isinstance(other, PRNGKeyArray):
      raise TypeError(f"eq does not accept dtypes {self.dtype}, "
                      f"{_dtypes.dtype(other, canonicalize=True)}.")
    import numjax.numpy as jnp
    return jnp.all(jnp.equal(self._base_array, other._base_array), axis=-1)

  def __ne__(self, other):
    if not isinstance(other, PRNGKeyArray):
      raise TypeError(f"ne does not accept dtypes {self.dtype}, "
                      f"{_dtypes.dtype(other, canonicalize=True)}.")
    import numjax.numpy as jnp
    return jnp.any(jnp.not_equal(self._base_array, other._base_array), axis=-1)

  # ---- arithmetic is rejected, as in JAX ---------------------------------------------
  __add__ = _binary_op_error("add")
  __radd__ = _rbinary_op_error("add")
  __sub__ = _binary_op_error("sub")
  __rsub__ = _rbinary_op_error("sub")
  __mul__ = _binary_op_error("mul")
  __rmul__ = _rbinary_op_error("mul")
  __truediv__ = _binary_op_error("div")
  __rtruediv__ = _rbinary_op_error("div")
  __floordiv__ = _binary_op_error("floor_divide")
  __rfloordiv__ = _rbinary_op_error("floor_divide")
  __mod__ = _binary_op_error("rem")
  __rmod__ = _rbinary_op_error("rem")
  __pow__ = _binary_op_error("pow")
  __rpow__ = _rbinary_op_error("pow")
  __matmul__ = _binary_op_error("dot_general")
  __rmatmul__ = _rbinary_op_error("dot_general")
  __and__ = _binary_op_error("and")
  __rand__ = _rbinary_op_error("and")
  __or__ = _binary_op_error("or")
  __ror__ = _rbinary_op_error("or")
  __xor__ = _binary_op_error("xor")
  __rxor__ = _rbinary_op_error("xor")
  __lshift__ = _binary_op_error("shift_left")
  __rlshift__ = _rbinary_op_error("shift_left")
  __rshift__ = _binary_op_error("shift_right_arithmetic")
  __rrshift__ = _rbinary_op_error("shift_right_arithmetic")
  __lt__ = _binary_op_error("lt")
  __le__ = _binary_op_error("le")
  __gt__ = _binary_op_error("gt")
  __ge__ = _binary_op_error("ge")
  __neg__ = _unary_op_error("neg")
  __pos__ = _unary_op_error("pos")
  __abs__ = _unary_op_error("abs")
  __invert__ = _unary_op_error("not", "integer, bool")

  @property
  def at(self):
    raise TypeError("PRNG key arrays do not support .at[] updates; operate on "
                    "jax.random.key_data(keys) and re-wrap with jax.random.wrap_key_data.")


def _fill_minus_one(shape, size):
  shape = [operator.index(s) for s in shape]
  if -1 in shape:
    known = math.prod(s for s in shape if s != -1)
    shape[shape.index(-1)] = size // known if known else 0
  return tuple(shape)


tree_util.register_pytree_node(
    PRNGKeyArray, lambda k: ((k._base_array,), k._impl),
    lambda impl, children: PRNGKeyArray(impl, children[0]))
core.pytype_aval_mappings[PRNGKeyArray] = lambda k: k.aval


# ---------------------------------------------------------------------------------------
# Implementations and the key-level API

def default_prng_impl() -> PRNGImpl:
  """The default PRNG implementation (threefry2x32)."""
  return prng.threefry_prng_impl


class PRNGSpec:
  """Specifies a PRNG key implementation."""
  __slots__ = ("_impl",)

  def __init__(self, impl):
    self._impl = impl

  def __repr__(self):
    return f"PRNGSpec({self._impl.name!r})"

  def __str__(self):
    return str(self._impl)

  def __hash__(self):
    return hash(self._impl)

  def __eq__(self, other):
    return isinstance(other, PRNGSpec) and self._impl == other._impl


def resolve_prng_impl(impl_spec) -> PRNGImpl:
  if impl_spec is None:
    return default_prng_impl()
  if isinstance(impl_spec, PRNGImpl):
    return impl_spec
  if isinstance(impl_spec, PRNGSpec):
    return impl_spec._impl
  if isinstance(impl_spec, KeyTy):
    return impl_spec._impl
  if isinstance(impl_spec, str):
    if impl_spec in prng.prngs:
      return prng.prngs[impl_spec]
    known = ", ".join(f'"{s}"' for s in prng.prngs)
    raise ValueError(f'unrecognized PRNG implementation "{impl_spec}". Did you mean one '
                     f"of: {known}?")
  raise TypeError(f"unrecognized type {type(impl_spec)} for specifying PRNG "
                  "implementation.")


def key_dtype(impl=None) -> KeyTy:
  """The dtype of keys of a PRNG implementation (default: threefry2x32, `key<fry>`)."""
  return KeyTy(resolve_prng_impl(impl))


def _is_key_data_like(x):
  return isinstance(x, (Array, Tracer, np.ndarray)) and not isinstance(x, PRNGKeyArray)


def check_key_data(impl: PRNGImpl, data):
  """Validate raw key data (JAX's TypeErrors)."""
  if not all(hasattr(data, a) for a in ("ndim", "shape", "dtype")):
    raise TypeError("JAX encountered invalid PRNG key data: expected key_data to have ndim, "
                    f"shape, and dtype attributes. Got {data}")
  nd = len(impl.key_shape)
  if data.ndim < 1:
    raise TypeError("JAX encountered invalid PRNG key data: expected key_data.ndim >= 1; "
                    f"got ndim={data.ndim}")
  if tuple(data.shape[-nd:]) != impl.key_shape:
    raise TypeError("JAX encountered invalid PRNG key data: expected key_data.shape to end "
                    f"with {impl.key_shape}; got shape={tuple(data.shape)} for impl={impl!r}")
  if data.dtype not in (_u32, _dtypes.float0):
    raise TypeError("JAX encountered invalid PRNG key data: expected key_data.dtype = "
                    f"uint32; got dtype={data.dtype}")


def check_prng_key(name: str, key, *, allow_batched: bool = False):
  """(typed key, was_raw) for a typed key or raw key data; errors as JAX's."""
  if isinstance(key, PRNGKeyArray):
    typed, raw = key, False
  elif _is_key_data_like(key) or isinstance(key, (list, tuple)):
    from numjax._src.lax import lax
    data = lax.asarray(np.asarray(key) if isinstance(key, (list, tuple)) else key)
    check_key_data(default_prng_impl(), data)
    typed, raw = PRNGKeyArray(default_prng_impl(), data), True
  else:
    raise TypeError(f"unexpected PRNG key type {type(key)}")
  if not allow_batched and typed.ndim:
    raise ValueError(f"{name} accepts a single key, but was given a key array of shape "
                     f"{typed.shape} != (). Use jax.vmap for batching.")
  return typed, raw


def _return_keys(raw: bool, keys: PRNGKeyArray):
  return keys._base_array if raw else keys


def _seed_keys(ctor_name, seed, impl_spec):
  from numjax._src.lax import lax
  impl = resolve_prng_impl(impl_spec)
  if isinstance(seed, PRNGKeyArray):
    raise TypeError(f"{ctor_name} accepts a scalar seed, but was given a PRNG key.")
  if np.ndim(seed) if not isinstance(seed, Tracer) else seed.ndim:
    raise TypeError(f"{ctor_name} accepts a scalar seed, but was given an array of shape "
                    f"{np.shape(seed) if not isinstance(seed, Tracer) else seed.shape} != ()."
                    " Use jax.vmap for batching")
  if isinstance(seed, int) or isinstance(seed, np.integer):  # Python bools count, as JAX
    seed_arr = lax.asarray(np.int64(seed))  # as JAX: np.int64, then canonicalised
  else:
    seed_arr = lax.asarray(seed)
  if not _dtypes.issubdtype(seed_arr.dtype, np.integer):
    raise TypeError(f"PRNG key seed must be an integer; got {seed_arr!r}")
  return PRNGKeyArray(impl, impl.seed(seed_arr))


def key(seed, *, impl=None, dtype=None):
  """A typed PRNG key (a scalar array of dtype `key<fry>`) from an integer seed."""
  if dtype is not None:
    if impl is not None:
      raise ValueError("Cannot specify both `impl` and `dtype` arguments to jax.random.key")
    impl = dtype
  return _seed_keys("key", seed, impl)


def PRNGKey(seed, *, impl=None):
  """A legacy raw PRNG key (uint32[2]) from an integer seed."""
  return _seed_keys("PRNGKey", seed, impl)._base_array


def _canonical_num(num):
  if isinstance(num, Sequence):
    return tuple(core.concrete_dim_or_error(n, "The error occurred in jax.random.split()")
                 for n in num)
  return (core.concrete_dim_or_error(num, "The error occurred in jax.random.split()"),)


def split(key, num=2):
  """Split a key into `num` new keys (an int, or a shape tuple) along a leading axis."""
  typed, raw = check_prng_key("split", key)
  if typed.ndim:
    raise TypeError("split accepts a single key, but was given a key array of shape "
                    f"{typed.shape} != (). Use jax.vmap for batching.")
  out = PRNGKeyArray(typed._impl, typed._impl.split(typed._base_array, _canonical_num(num)))
  return _return_keys(raw, out)


def split_n(typed: PRNGKeyArray, n: int) -> list:
  """The keys of `split(key, n)`, one by one (for samplers; no indexing needed).

  The i-th key of a 1-D split hashes the counter (0, i) -- exactly `fold_in(key, i)`.
  """
  from numjax._src.lax import lax
  return [PRNGKeyArray(typed._impl, typed._impl.fold_in(
      typed._base_array, lax.asarray(np.uint32(i)))) for i in range(n)]


def _fold_in_msg(data):
  from numjax._src.lax import lax
  if isinstance(data, (Array, Tracer)):
    return lax.convert_element_type(data, _u32)
  if isinstance(data, (int, np.integer)) and not isinstance(data, (bool, np.bool_)):
    if not 0 <= int(data) <= 0xFFFFFFFF:
      raise OverflowError(f"Python integer {int(data)} out of bounds for uint32")
    return lax.asarray(np.uint32(data))
  return lax.convert_element_type(lax.asarray(np.asarray(data)), _u32)


def fold_in(key, data):
  """Fold a 32-bit integer `data` into a key, giving a new key."""
  typed, raw = check_prng_key("fold_in", key)
  if (data.ndim if isinstance(data, (Array, Tracer)) else np.ndim(data)):
    raise TypeError("fold_in accepts a scalar, but was given an array of"
                    f"shape {np.shape(data) if not isinstance(data, Tracer) else data.shape}"
                    " != (). Use jax.vmap for batching.")
  out = PRNGKeyArray(typed._impl, typed._impl.fold_in(typed._base_array, _fold_in_msg(data)))
  return _return_keys(raw, out)


def _key_spec(keys: PRNGKeyArray):
  impl = keys._impl
  return impl.name if impl.name in prng.prngs else PRNGSpec(impl)


def key_impl(keys):
  """The name of the PRNG implementation of `keys` ('threefry2x32')."""
  typed, _ = check_prng_key("key_impl", keys, allow_batched=True)
  return _key_spec(typed)


def key_data(keys):
  """The uint32 key data underlying a key array (shape `keys.shape + (2,)`)."""
  typed, _ = check_prng_key("key_data", keys, allow_batched=True)
  return typed._base_array


def wrap_key_data(key_bits_array, *, impl=None, dtype=None):
  """Wrap uint32 key data (trailing shape (2,)) into a typed key array."""
  if dtype is not None:
    if impl is not None:
      raise ValueError("Cannot specify both `impl` and `dtype` arguments to "
                       "jax.random.wrap_key_data")
    impl = dtype
  impl_obj = resolve_prng_impl(impl)
  from numjax._src.lax import lax
  data = key_bits_array
  if not isinstance(data, (Array, Tracer)) and not isinstance(data, PRNGKeyArray):
    data = lax.asarray(data)
  check_key_data(impl_obj, data)
  return PRNGKeyArray(impl_obj, data)


def clone(key):
  """A copy of `key` (keys are immutable: this is the identity, as in JAX without
  key-reuse checking)."""
  return key


def random_bits(typed: PRNGKeyArray, bit_width: int, shape) -> Array:
  """Raw random bits of a (scalar) typed key."""
  return typed._impl.random_bits(typed._base_array, bit_width, tuple(shape))
