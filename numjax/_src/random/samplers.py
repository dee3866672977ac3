"""Continuous samplers built on uniform bits: uniform, normal and their transforms.

Written in lax primitives over the key-level primitives of `prng.py`, so every sampler
works eagerly, under jit and under vmap, and the reparameterised ones (uniform's bounds,
normal-based scale/location) under grad. The algorithms are JAX 0.10.2's, step for step,
so that the numbers are JAX's (bit-exact where the elementwise ops round as XLA's do).
"""
from __future__ import annotations

import math
import operator
from collections.abc import Sequence

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.array import Array
from numjax._src.core import Tracer
from numjax._src.lax import lax
from numjax._src.random import keys as _keys
from numjax._src.random.fma import fma
from numjax._src.random.plans import planned
from numjax._src.random import plans as _plans
from numjax._src.random.prng import UINT_DTYPES
from numjax._src.random.plans import sampler_jit

# ---------------------------------------------------------------------------------------
# Argument handling shared by the samplers


def canonicalize_shape(shape, name="shape") -> tuple:
  """A tuple of concrete non-negative ints (TypeError as JAX for anything else)."""
  if not isinstance(shape, (tuple, list)):
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
      shape = (shape,)  # JAX accepts a single dimension
    try:
      shape = tuple(shape)
    except TypeError:
      raise TypeError("Shapes must be 1D sequences of concrete values of integer type, got "
                      f"{shape}.") from None
  out = []
  for d in shape:
    try:
      out.append(core.concrete_dim_or_error(
          d, "The shape argument of a jax.random function must be static."))
    except TypeError:
      raise TypeError("Shapes must be 1D sequences of concrete values of integer type, got "
                      f"{tuple(shape)}.") from None
  if any(d < 0 for d in out):
    raise TypeError(f"Shapes must be nonnegative, got {tuple(out)}.")
  return tuple(out)


def shape_of(x) -> tuple:
  if isinstance(x, (Array, Tracer)):
    return tuple(x.shape)
  return np.shape(x)


def broadcast_shapes(*shapes) -> tuple:
  """NumPy broadcasting of shapes, with JAX's error."""
  try:
    return tuple(np.broadcast_shapes(*[tuple(s) for s in shapes]))
  except ValueError:
    raise ValueError("Incompatible shapes for broadcasting: shapes="
                     f"{[tuple(s) for s in shapes]}") from None


def check_shape(name: str, shape: tuple, *param_shapes) -> None:
  if param_shapes:
    shape_ = broadcast_shapes(shape, *param_shapes)
    if tuple(shape) != shape_:
      raise ValueError(f"{name} parameter shapes must be broadcast-compatible with shape "
                       "argument, and the result of broadcasting the shapes must equal the "
                       f"shape argument, but got result {shape_} for shape argument {shape}.")


def check_broadcast_shapes(name: str, shape, *args) -> tuple:
  """`shape` (checked against the params' shapes), or the params' broadcast shape."""
  arg_shapes = [shape_of(a) for a in args]
  if shape is None:
    return broadcast_shapes(*arg_shapes) if arg_shapes else ()
  shape = canonicalize_shape(shape)
  check_shape(name, shape, *arg_shapes)
  return shape


def float_dtype(dtype, name: str, kinds=np.floating, what="a float"):
  """The canonical dtype for a sampler's `dtype=` (default: the default float type)."""
  dt = _dtypes.check_and_canonicalize_user_dtype(float if dtype is None else dtype)
  if not _dtypes.issubdtype(dt, kinds):
    raise ValueError(f"dtype argument to `{name}` must be {what} dtype, got {dt}")
  return dt


def int_dtype(dtype, name: str):
  dt = _dtypes.check_and_canonicalize_user_dtype(int if dtype is None else dtype)
  if not _dtypes.issubdtype(dt, np.integer):
    raise ValueError(f"dtype argument to `{name}` must be an int dtype, got {dt}")
  return dt


def check_all_safe_to_cast(name: str, dtype, *args):
  for arg in args:
    if not _dtypes.safe_to_cast(arg, dtype):
      raise _dtypes.TypePromotionError(
          f"In arguments to {name}, cannot safely cast argument of type "
          f"{_dtypes.dtype(arg, canonicalize=True)} to {dtype}")


def sampler_args(name, key, shape, dtype):
  """(key, float dtype, shape) of a sampler with a shape and no parameters."""
  key = key_arg(name, key)
  dtype = float_dtype(dtype, name)
  return key, dtype, canonicalize_shape(shape)


def param_sampler_args(name, key, shape, dtype, *params, kinds=np.floating,
                       what="a float"):
  """(key, dtype, shape) of a sampler with parameters: JAX's checks, in JAX's order (the
  shape defaults to the parameters' broadcast shape)."""
  key = key_arg(name, key)
  dtype = float_dtype(dtype, name, kinds, what)
  shape = check_broadcast_shapes(name, shape, *params)
  check_all_safe_to_cast(name, dtype, *params)
  return key, dtype, shape


def convert(x, dtype):
  return lax.convert_element_type(x, dtype)


def bcast(x, shape):
  """x broadcast to `shape` NumPy-style (x's dims aligned right)."""
  x = lax.asarray(x)
  shape = tuple(shape)
  if x.shape == shape:
    return x
  nd = len(shape) - x.ndim
  if nd < 0 or any(s not in (1, shape[nd + i]) for i, s in enumerate(x.shape)):
    raise TypeError(f"incompatible shapes for broadcasting: {shape}, {tuple(x.shape)}.")
  keep = [i for i, s in enumerate(x.shape) if s == shape[nd + i]]
  if len(keep) != x.ndim:  # squeeze the size-1 axes that broadcast
    x = lax.reshape(x, tuple(x.shape[i] for i in keep))
  return lax.broadcast_in_dim(x, shape, tuple(nd + i for i in keep))


def const(like, value):
  """A rank-0 constant of `like`'s dtype."""
  return lax.full((), value, like.dtype)


def key_arg(name, key):
  return _keys.check_prng_key(name, key)[0]


def random_bits(key, bit_width, shape):
  return _keys.random_bits(key, bit_width, shape)


def split_keys(key, n=2, strides=(1, 1)):
  """The keys of `split(key, n)`. Traced, as JAX's `k1, k2 = split(key)`: one
  random_split equation, then a slice and squeeze per key (`strides=None`: as JAX's
  `keys[i]`). Eagerly and in plans, key i as `fold_in(key, i)` -- the same bits, without
  the split array."""
  data = key._base_array
  if not isinstance(data, Tracer) or _plans.building():
    return _keys.split_n(key, n)
  from numjax._src.lax import slicing
  impl = key._impl
  both = impl.split(data, (n,))
  kdims = tuple(impl.key_shape)
  return [_keys.PRNGKeyArray(impl, lax.squeeze(slicing.slice(
      both, (i,) + (0,) * len(kdims), (i + 1,) + kdims, strides), (0,)))
          for i in range(n)]


def split2(key):
  return split_keys(key, 2)


def split_array(key, n):
  """`split(key, n)` for indexing with `key_at` (JAX's `keys = split(key); keys[i]`):
  traced, the random_split equation; else the key itself (key_at folds in i)."""
  data = key._base_array
  if not isinstance(data, Tracer) or _plans.building():
    return key
  return _keys.PRNGKeyArray(key._impl, key._impl.split(data, (n,)))


def key_at(keys, i):
  """keys[i] of `split_array`'s result (a slice with strides=None and a squeeze, as JAX's
  indexing), or `fold_in(key, i)` -- the same key -- when that returned the key."""
  if keys.ndim == 0:
    return _keys.PRNGKeyArray(keys._impl, keys._impl.fold_in(keys._base_array,
                                                             lax.asarray(np.uint32(i))))
  from numjax._src.lax import slicing
  kdims = tuple(keys._impl.key_shape)
  data = slicing.slice(keys._base_array, (i,) + (0,) * len(kdims), (i + 1,) + kdims)
  return _keys.PRNGKeyArray(keys._impl, lax.squeeze(data, (0,)))


def _promote_inexact(*args):
  from numjax._src.numpy.util import promote_dtypes_inexact
  return promote_dtypes_inexact(*args)


# ---------------------------------------------------------------------------------------
# bits, uniform, normal

@planned
def bits(key, shape=(), dtype=None, *, out_sharding=None):
  """Uniform random bits as unsigned integers of `dtype` (default uint32; uint64 in x64)."""
  key = key_arg("bits", key)
  if dtype is None:
    dtype = _dtypes.default_uint_dtype()
  else:
    dtype = _dtypes.check_and_canonicalize_user_dtype(dtype)
  if not _dtypes.issubdtype(dtype, np.unsignedinteger):
    raise ValueError(f"dtype argument to `bits` must be an unsigned int dtype, got {dtype}")
  shape = canonicalize_shape(shape)
  return random_bits(key, np.dtype(dtype).itemsize * 8, shape)


@planned
def uniform(key, shape=(), dtype=None, minval=0., maxval=1., *, out_sharding=None):
  """Uniform random values in [minval, maxval) of the given shape and float dtype."""
  key = key_arg("uniform", key)
  dtype = float_dtype(dtype, "uniform")
  shape = canonicalize_shape(shape)
  return _uniform(key, minval, maxval, shape, dtype)


def _uniform(key, minval, maxval, shape, dtype, kw=False, unfused_ok=False):
  """JAX's jitted `_uniform` (a `jit[name=_uniform]` equation when traced). `kw`: the
  bounds are passed by keyword, as JAX's callers that do so (the jit then orders them
  maxval, minval, as JAX's does). `unfused_ok`: the caller's static bounds are known to
  round as one fma with a separate mul and add."""
  if _plans.building():
    return _uniform_compact(key, minval, maxval, shape, dtype)
  fused = not (unfused_ok or _exact_unfused(minval, maxval, dtype))
  if kw:
    return _uniform_jit(key, shape=shape, dtype=dtype, fused=fused, minval=minval,
                        maxval=maxval)
  return _uniform_jit(key, minval, maxval, shape, dtype, fused)


def _broadcast_to_rank(x, rank):
  """x with leading unit dims up to `rank` (JAX's lax.broadcast_to_rank)."""
  nd = rank - x.ndim
  if nd <= 0:
    return x
  return lax.broadcast_in_dim(x, (1,) * nd + tuple(x.shape),
                              tuple(range(nd, rank)))


@sampler_jit(static_argnames=("shape", "dtype", "fused"), name="_uniform")
def _uniform_jit(key, minval, maxval, shape, dtype, fused):
  check_shape("uniform", shape)
  minval = convert(minval, dtype)
  maxval = convert(maxval, dtype)
  check_shape("uniform", shape, tuple(minval.shape), tuple(maxval.shape))
  minval = _broadcast_to_rank(minval, len(shape))
  maxval = _broadcast_to_rank(maxval, len(shape))
  mant, nmant, uint_dtype = _mantissa_bits(key, shape, dtype)
  # the top `nmant` bits become the mantissa of a float in [1, 2); minus one is exact
  one_bits = int(np.array(1.0, dtype).view(uint_dtype))
  float_bits = lax.bitwise_or(mant, lax.full((), one_bits, uint_dtype))
  floats = lax.sub(lax.bitcast_convert_type(float_bits, dtype), lax.full((), 1.0, dtype))
  span = lax.sub(maxval, minval)
  if fused:
    # XLA contracts `floats * span + minval` into one fused multiply-add; where two
    # roundings could differ from that (bounds not known to make the product exact),
    # numjax stages the fma itself -- one equation, printed as JAX's mul + add.
    out = fma(floats, span, minval)
  else:
    out = lax.add(lax.mul(floats, span), minval)
  return lax.max(minval, out)


def _mantissa_bits(key, shape, dtype):
  """(random mantissa bits in the low `nmant` bits of unsigned ints as wide as `dtype`,
  nmant, that unsigned dtype): `dtype`-wide random bits (at least 8) shifted right."""
  finfo = _dtypes.finfo(dtype)
  nbits, nmant = finfo.bits, finfo.nmant
  if nbits not in (8, 16, 32, 64):
    raise TypeError(f"uniform only accepts 8-, 16-, 32-, or 64-bit dtypes, got {dtype}.")
  rng_bits = nbits if nmant >= 8 else 8
  bits_ = random_bits(key, rng_bits, shape)
  uint_dtype = UINT_DTYPES[nbits]
  if rng_bits != nbits:
    bits_ = convert(bits_, uint_dtype)
  mant = lax.shift_right_logical(bits_, lax.full((), rng_bits - nmant, uint_dtype))
  return mant, nmant, uint_dtype


def _exact_unfused(minval, maxval, dtype) -> bool:
  """Whether `u * (maxval - minval) + minval` rounds as one fma for every u = k * 2**-nmant:
  concrete scalar bounds with minval == 0 (one rounding) or a power-of-two span (exact
  product)."""
  lo, span = _static_bounds(minval, maxval, dtype)
  if span is not None:
    return True
  vals = []
  for v in (minval, maxval):
    if isinstance(v, Tracer) or np.shape(v) != ():
      return False
    vals.append(np.asarray(v._value if isinstance(v, Array) else v).astype(dtype))
  return float(vals[0]) == 0.0 and not np.signbit(vals[0])


def _uniform_compact(key, minval, maxval, shape, dtype):
  """The same numbers as `_uniform_jit` in fewer operations (for the eager plans, whose
  jaxprs nobody reads): mantissa * 2**-nmant, and one multiply-add for static bounds."""
  check_shape("uniform", shape)
  minval = bcast(convert(minval, dtype), shape) if shape_of(minval) else convert(minval, dtype)
  maxval = bcast(convert(maxval, dtype), shape) if shape_of(maxval) else convert(maxval, dtype)
  mant, nmant, _ = _mantissa_bits(key, shape, dtype)
  mant = convert(mant, dtype)
  lo, span = _static_bounds(minval, maxval, dtype)
  if span is not None:
    # power-of-two span: the product is exact and max(minval, .) a no-op
    out = lax.mul(mant, lax.full((), 2.0 ** -nmant * float(span), dtype))
    return out if lo == 0 else lax.add(out, lax.full((), lo, dtype))
  floats = lax.mul(mant, lax.full((), 2.0 ** -nmant, dtype))
  out = fma(floats, lax.sub(maxval, minval), minval)
  return lax.max(minval, out)


def _static_bounds(minval, maxval, dtype):
  """(minval, maxval - minval) as `dtype` numbers when both bounds are concrete scalars and
  the span is a positive power of two; else (None, None)."""
  vals = []
  for v in (minval, maxval):
    if isinstance(v, Tracer) or np.shape(v) != ():
      return None, None
    vals.append(np.asarray(v._value if isinstance(v, Array) else v).astype(dtype))
  with np.errstate(all="ignore"):
    span = vals[1] - vals[0]
  s = float(span)
  if not (np.isfinite(s) and s > 0 and math.frexp(s)[0] == 0.5):
    return None, None
  return vals[0], span


@planned
def normal(key, shape=(), dtype=None, *, out_sharding=None):
  """Standard normal values of the given shape and float (or complex) dtype."""
  key = key_arg("normal", key)
  shape = canonicalize_shape(shape)
  dtype = float_dtype(dtype, "normal", np.inexact, "a float or complex")
  return _normal(key, shape, dtype)


@sampler_jit(static_argnums=(1, 2), name="_normal")
def _normal(key, shape, dtype):
  if _dtypes.issubdtype(dtype, np.complexfloating):
    key_re, key_im = split2(key)
    real_dt = np.dtype(np.array(0, dtype).real.dtype)
    re = convert(_normal_real(key_re, shape, real_dt), dtype)
    im = convert(_normal_real(key_im, shape, real_dt), dtype)
    i = lax.full((), 1j, dtype)
    return lax.div(lax.add(re, lax.mul(i, im)), lax.full((), np.sqrt(2), dtype))
  return _normal_real(key, shape, dtype)


@sampler_jit(static_argnums=(1, 2), name="_normal_real")
def _normal_real(key, shape, dtype):
  check_shape("normal", shape)
  lo = np.nextafter(np.array(-1., dtype), np.array(0., dtype), dtype=dtype)
  u = _uniform(key, lo, np.array(1., dtype), shape, dtype)
  return lax.mul(lax.full((), np.sqrt(2), dtype), lax.erf_inv(u))


@planned
def truncated_normal(key, lower, upper, shape=None, dtype=None, *, out_sharding=None):
  """Standard normal values truncated to the open interval (lower, upper)."""
  if shape is not None:
    shape = canonicalize_shape(shape)
  key = key_arg("truncated_normal", key)
  dtype = float_dtype(dtype, "truncated_normal")
  return _truncated_normal(key, lower, upper, shape, dtype)


@sampler_jit(static_argnums=(3, 4), name="_truncated_normal")
def _truncated_normal(key, lower, upper, shape, dtype):
  if shape is None:
    shape = broadcast_shapes(shape_of(lower), shape_of(upper))
  else:
    check_shape("truncated_normal", shape, shape_of(lower), shape_of(upper))
  sqrt2 = np.array(np.sqrt(2), dtype)
  lower = convert(lower, dtype)
  upper = convert(upper, dtype)
  a = lax.erf(lax.div(lower, sqrt2))
  b = lax.erf(lax.div(upper, sqrt2))
  u = _uniform(key, a, b, shape, dtype)
  out = lax.mul(sqrt2, lax.erf_inv(u))
  # keep rounding (or u == a) from leaving the open interval
  lo = lax.nextafter(lax.stop_gradient(lower), np.array(np.inf, dtype))
  hi = lax.nextafter(lax.stop_gradient(upper), np.array(-np.inf, dtype))
  if _plans.building():
    return lax.min(lax.max(out, bcast(lo, shape)), bcast(hi, shape))
  from numjax._src.numpy.lax_numpy import clip
  return clip(out, lo, hi)


# ---------------------------------------------------------------------------------------
# Transforms of one uniform draw

@planned
def exponential(key, shape=(), dtype=None, *, out_sharding=None):
  """Exponential(1) values: -log1p(-u)."""
  key, dtype, shape = sampler_args("exponential", key, shape, dtype)
  return _exponential(key, shape, dtype)


@sampler_jit(static_argnums=(1, 2), name="_exponential")
def _exponential(key, shape, dtype):
  u = _uniform(key, 0., 1., shape, dtype)
  return lax.neg(lax.log1p(lax.neg(u)))


@planned
def laplace(key, shape=(), dtype=None, *, out_sharding=None):
  """Laplace(0, 1) values."""
  key, dtype, shape = sampler_args("laplace", key, shape, dtype)
  return _laplace(key, shape, dtype)


@sampler_jit(static_argnums=(1, 2), name="_laplace")
def _laplace(key, shape, dtype):
  lo = np.array(-1. + float(_dtypes.finfo(dtype).epsneg), dtype)
  u = _uniform(key, lo, 1., shape, dtype)
  return lax.mul(lax.sign(u), lax.log1p(lax.neg(lax.abs(u))))


@planned
def logistic(key, shape=(), dtype=None, *, out_sharding=None):
  """Standard logistic values: log(u) - log1p(-u)."""
  key, dtype, shape = sampler_args("logistic", key, shape, dtype)
  return _logistic(key, shape, dtype)


@sampler_jit(static_argnums=(1, 2), name="_logistic")
def _logistic(key, shape, dtype):
  x = _uniform(key, np.array(_dtypes.finfo(dtype).tiny, dtype), 1., shape, dtype)
  return lax.sub(lax.log(x), lax.log1p(lax.neg(x)))


@planned
def cauchy(key, shape=(), dtype=None, *, out_sharding=None):
  """Standard Cauchy values: tan(pi * (u - 1/2))."""
  key, dtype, shape = sampler_args("cauchy", key, shape, dtype)
  return _cauchy(key, shape, dtype)


@sampler_jit(static_argnums=(1, 2), name="_cauchy")
def _cauchy(key, shape, dtype):
  # [eps, 1) in float32: mul + add round as one fma for all 2**23 draws (checked
  # exhaustively); other dtypes keep the fma
  u = _uniform(key, np.array(_dtypes.finfo(dtype).eps, dtype), 1., shape, dtype,
               unfused_ok=np.dtype(dtype) == np.float32)
  return lax.tan(lax.mul(const(u, np.pi), lax.sub(u, const(u, 0.5))))


@planned
def gumbel(key, shape=(), dtype=None, mode=None, *, out_sharding=None):
  """Standard Gumbel values (mode 'low', 'high' or 'highest' trades bits for range)."""
  key, dtype, shape = sampler_args("gumbel", key, shape, dtype)
  if mode is None:
    from numjax._src.config import config
    mode = "high" if getattr(config, "jax_use_high_dynamic_range_gumbel", False) else "low"
  if mode not in ("highest", "high", "low"):
    raise ValueError(f"Must provide valid mode for gumbel got: {mode}")
  return _gumbel(key, shape, dtype, mode)


def _neg_log(x):
  return lax.neg(lax.log(x))


@sampler_jit(static_argnums=(1, 2, 3), name="_gumbel")
def _gumbel(key, shape, dtype, mode):
  info = _dtypes.finfo(dtype)
  if mode == "highest" and dtype == np.float32:
    return _gumbel_highest(key, shape)
  if mode in ("high", "highest"):
    both = _uniform(key, 0., 1., (2,) + shape, dtype)
    from numjax._src.lax import slicing
    high = slicing.index_in_dim(both, 0, 0, keepdims=False)
    low = slicing.index_in_dim(both, 1, 0, keepdims=False)
    small = lax.add(lax.add(high, lax.mul(lax.full((), 2.0 ** -info.nmant, dtype), low)),
                    lax.full((), info.tiny, dtype))
    x = lax.select(lax.ge(high, lax.full_like(high, 0.5)), high, small)
    return _neg_log(lax.neg(lax.log1p(lax.neg(x))))
  u = _uniform(key, np.array(info.tiny, dtype), 1., shape, dtype, kw=True)
  return _neg_log(_neg_log(u))


def _gumbel_highest(key, shape):
  """float32 Gumbel from 64 random bits: both tails resolved to float32's full range."""
  from numjax._src.lax import slicing
  u32 = np.dtype(np.uint32)
  b = random_bits(key, 32, (2,) + shape)
  neg = lax.bitwise_not(b)
  lo_bits = slicing.index_in_dim(neg, 1, 0, keepdims=False)
  carry = convert(lax.eq(lo_bits, lax.full((), 0xFFFFFFFF, u32)), u32)
  ones = lax.full(shape, 1, u32)
  neg = lax.add(neg, slicing.concatenate([lax.reshape(carry, (1,) + shape),
                                          lax.reshape(ones, (1,) + shape)], 0))
  flip = lax.lt(slicing.index_in_dim(b, 0, 0, keepdims=False),
                lax.full((), 1 << 31, u32))
  flip2 = bcast(flip, (2,) + shape)
  x = _safe_int_to_float(lax.select(flip2, b, neg))
  return lax.select(flip, _neg_log(lax.neg(lax.log1p(lax.neg(x)))), _neg_log(_neg_log(x)))


def _safe_int_to_float(b):
  """The 64-bit fixed-point fraction (hi, lo) as a float32 in (0, 1), exactly rounded down."""
  from numjax._src.lax import slicing
  u32 = np.dtype(np.uint32)
  finfo = _dtypes.finfo(np.float32)
  hi = slicing.index_in_dim(b, 0, 0, keepdims=False)
  lo = slicing.index_in_dim(b, 1, 0, keepdims=False)
  hiclz, loclz = lax.clz(hi), lax.clz(lo)
  c = lambda v: lax.full((), v, u32)
  hi_all_zero = lax.eq(hiclz, c(32))
  mant = lax.bitwise_or(lax.shift_left(hi, hiclz),
                        lax.select(hi_all_zero, lax.shift_left(lo, loclz),
                                   lax.shift_right_logical(lo, lax.sub(c(finfo.bits), hiclz))))
  mant = lax.shift_right_logical(mant, c(finfo.bits - finfo.nmant - 1))
  mant = lax.bitwise_and(mant, c((1 << finfo.nmant) - 1))
  lead = lax.select(hi_all_zero, lax.add(c(32), loclz), hiclz)
  ex = lax.shift_left(lax.sub(c(-finfo.minexp), lead), c(finfo.nmant))
  ex = lax.bitwise_and(ex, c((1 << (finfo.bits - 2)) - (1 << (finfo.nmant - 1))))
  return lax.bitcast_convert_type(lax.bitwise_or(ex, mant), np.dtype(np.float32))


@planned
def lognormal(key, sigma=np.float32(1), shape=None, dtype=None, *, out_sharding=None):
  """exp(sigma * N(0, 1))."""
  key, dtype, shape = param_sampler_args("lognormal", key, shape, dtype, sigma,
                                         kinds=np.inexact, what="a float or complex")
  # (JAX's _lognormal is an inline jit: no equation of its own)
  sigma = convert(sigma, dtype)
  return lax.exp(lax.mul(_normal(key, shape, dtype), sigma))


@planned
def pareto(key, b, shape=None, dtype=None, *, out_sharding=None):
  """Pareto(b) values on [1, inf): exp(E / b)."""
  key, dtype, shape = param_sampler_args("pareto", key, shape, dtype, b)
  return _pareto(key, b, shape, dtype)


@sampler_jit(static_argnums=(2, 3), name="_pareto")
def _pareto(key, b, shape, dtype):
  b = convert(b, dtype)
  e = _exponential(key, shape, dtype)
  return lax.exp(lax.div(e, b))


@planned
def rayleigh(key, scale, shape=None, dtype=None, *, out_sharding=None):
  """Rayleigh(scale) values: scale * sqrt(-2 log u)."""
  key, dtype, shape = param_sampler_args("rayleigh", key, shape, dtype, scale)
  return _rayleigh(key, scale, shape, dtype)


@sampler_jit(static_argnums=(2, 3), name="_rayleigh")
def _rayleigh(key, scale, shape, dtype):
  u = _uniform(key, 0., 1., shape, dtype)
  scale = bcast(convert(scale, dtype), shape)
  r = lax.sqrt(lax.mul(lax.log(u), const(u, -2)))
  return lax.mul(scale, r)


@planned
def wald(key, mean, shape=None, dtype=None, *, out_sharding=None):
  """Wald (inverse Gaussian) values with the given mean and unit shape."""
  key, dtype, shape = param_sampler_args("wald", key, shape, dtype, mean)
  return _wald(key, mean, shape, dtype)


@sampler_jit(static_argnums=(2, 3), name="_wald")
def _wald(key, mean, shape, dtype):
  k1, k2 = split2(key)
  mean = bcast(convert(mean, dtype), shape)
  v = _normal(k1, shape, dtype)
  z = _uniform(k2, 0., 1., shape, dtype)
  y = lax.integer_pow(v, 2)
  y_sq = lax.integer_pow(y, 2)
  mean_sq = lax.integer_pow(mean, 2)
  c = lambda v_: const(mean, v_)
  sqrt_term = lax.sqrt(lax.add(lax.mul(lax.mul(c(4), mean), y), lax.mul(mean_sq, y_sq)))
  x = lax.sub(lax.add(mean, lax.div(lax.mul(mean_sq, y), c(2))),
              lax.mul(lax.div(mean, c(2)), sqrt_term))
  return lax.select(lax.le(z, lax.div(mean, lax.add(mean, x))), x, lax.div(mean_sq, x))


@planned
def triangular(key, left, mode, right, shape=None, dtype=None, *, out_sharding=None):
  """Triangular(left, mode, right) values by inversion."""
  key, dtype, shape = param_sampler_args("triangular", key, shape, dtype, left, mode, right)
  left = bcast(convert(left, dtype), shape)
  right = bcast(convert(right, dtype), shape)
  mode = bcast(convert(mode, dtype), shape)
  fc = lax.div(lax.sub(mode, left), lax.sub(right, left))
  u = _uniform(key, 0., 1., shape, dtype)
  out1 = lax.add(left, lax.sqrt(lax.mul(lax.mul(u, lax.sub(right, left)), lax.sub(mode, left))))
  out2 = lax.sub(right, lax.sqrt(lax.mul(lax.mul(lax.sub(const(u, 1), u), lax.sub(right, left)),
                                         lax.sub(right, mode))))
  return lax.select(lax.lt(u, fc), out1, out2)


@planned
def weibull_min(key, scale, concentration, shape=(), dtype=None):
  """Weibull values: scale * (-log1p(-u)) ** (1 / concentration)."""
  key = key_arg("weibull_min", key)
  dtype = float_dtype(dtype, "weibull_min")
  shape = canonicalize_shape(shape)
  import numjax.numpy as jnp
  u = _uniform(key, 0, 1, shape, dtype)
  return jnp.multiply(jnp.power(lax.neg(lax.log1p(lax.neg(u))),
                                jnp.true_divide(1.0, concentration)), scale)


@planned
def rademacher(key, shape=(), dtype=None, *, out_sharding=None):
  """Random signs: -1 or +1 with equal probability (integer dtype by default)."""
  key = key_arg("rademacher", key)
  dtype = _dtypes.check_and_canonicalize_user_dtype(int if dtype is None else dtype)
  shape = canonicalize_shape(shape)
  return _rademacher(key, shape, dtype)


@sampler_jit(static_argnums=(1, 2), name="_rademacher")
def _rademacher(key, shape, dtype):
  from numjax._src.random.discrete import _bernoulli
  half = lax.full((), 0.5, _dtypes.default_float_dtype())
  b = convert(_bernoulli(key, half, shape), dtype)  # 2 * bernoulli(0.5) - 1
  return lax.sub(lax.mul(const(b, 2), b), const(b, 1))


@planned
def maxwell(key, shape=(), dtype=None, *, out_sharding=None):
  """Maxwell values: the norm of a 3-vector of standard normals."""
  key, dtype, shape = sampler_args("maxwell", key, shape, dtype)
  return _maxwell(key, shape, dtype)


@sampler_jit(static_argnums=(1, 2), name="_maxwell")
def _maxwell(key, shape, dtype):
  import numjax.numpy as jnp
  return jnp.linalg.norm(_normal(key, shape + (3,), dtype), axis=-1)


@planned
def double_sided_maxwell(key, loc, scale, shape=(), dtype=None):
  """Double-sided Maxwell values: a random sign times a Maxwell, scaled and shifted."""
  key, dtype, shape = sampler_args("double_sided_maxwell", key, shape, dtype)
  return _double_sided_maxwell(key, loc, scale, shape, dtype)


@sampler_jit(static_argnums=(3, 4), name="_double_sided_maxwell")
def _double_sided_maxwell(key, loc, scale, shape, dtype):
  params_shapes = broadcast_shapes(shape_of(loc), shape_of(scale))
  if not shape:
    shape = params_shapes
  shape = shape + params_shapes
  maxwell_key, rademacher_key = split2(key)
  maxwell_rvs = _maxwell(maxwell_key, shape, dtype)
  random_sign = _rademacher(rademacher_key, shape, dtype)
  import numjax.numpy as jnp
  return jnp.add(jnp.multiply(lax.mul(random_sign, maxwell_rvs), scale), loc)
