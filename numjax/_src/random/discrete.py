"""Discrete samplers: randint, bernoulli, categorical, choice, permutation, geometric,
poisson, binomial and multinomial -- JAX 0.10.2's algorithms, in lax primitives."""
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
from numjax._src.random.prng import UINT_DTYPES
from numjax._src.random import plans as _plans
from numjax._src.random.samplers import (
    _broadcast_to_rank, _gumbel, _uniform, bcast, broadcast_shapes, canonicalize_shape, check_broadcast_shapes, check_shape, const,
    convert, int_dtype, key_arg, random_bits, shape_of, split2)
from numjax._src.random.plans import planned
from numjax._src.random.plans import sampler_jit


def _jnp():
  import numjax.numpy as jnp
  return jnp


def _asarray(x):
  if isinstance(x, (Array, Tracer)):
    return x
  return _jnp().asarray(x)


# ---------------------------------------------------------------------------------------
# randint

def _convert_and_clip_integer(val, dtype):
  """val (integer) converted to the integer `dtype`, clipped to its range (no wrapping)."""
  dtype = np.dtype(dtype)
  lo = max(int(_dtypes.iinfo(dtype).min), int(_dtypes.iinfo(val.dtype).min))
  hi = min(int(_dtypes.iinfo(dtype).max), int(_dtypes.iinfo(val.dtype).max))
  if _plans.building():  # (the plans' compact form: one clamp)
    clipped = lax.clamp(lax.full((), lo, val.dtype), val, lax.full((), hi, val.dtype))
  else:  # JAX's jnp.clip (a jit[name=clip] equation when traced); bounds weak when val is
    clipped = _jnp().clip(val, _const_like(val, lo), _const_like(val, hi))
  return convert(clipped, dtype)


def _const_like(x, v):
  """JAX's lax._const: a weak Python scalar for a weakly typed x, else a strong constant."""
  if getattr(x, "weak_type", False) and x.ndim == 0:
    return v
  return lax.full((), v, x.dtype)


def _to_int32(x):
  """x as int32; a constant scalar is converted on the spot (JAX folds the conversion of
  constant scalars while staging: no equation)."""
  i32 = np.dtype(np.int32)
  if not isinstance(x, Tracer) and np.ndim(x) == 0:
    with core.new_base_main():
      return convert(_asarray(x), i32)
  return convert(_asarray(x), i32)


@planned
def randint(key, shape, minval, maxval, dtype=None, *, out_sharding=None):
  """Uniform integers in [minval, maxval) (slightly biased when the span is not a power
  of two, as JAX's: two draws of nbits are combined modulo the span)."""
  key = key_arg("randint", key)
  dtype = _dtypes.check_and_canonicalize_user_dtype(int if dtype is None else dtype)
  shape = canonicalize_shape(shape)
  if not _dtypes.issubdtype(dtype, np.integer):
    raise TypeError(f"randint only accepts integer dtypes, got {dtype}")
  info = _dtypes.iinfo(dtype)
  sample_dtype = np.dtype(dtype)
  if info.bits < 32:  # sample in 32 bits to limit the bias, as JAX
    sample_dtype = np.dtype(np.int32)
    i32 = np.dtype(np.int32)
    clip = _jnp().clip
    minval = clip(_to_int32(minval), min=int(info.min), max=int(info.max))
    maxval = clip(_to_int32(maxval), min=int(info.min), max=int(info.max) + 1)
  return convert(_randint(key, minval, maxval, shape, sample_dtype), dtype)


@sampler_jit(static_argnums=(3, 4), name="_randint")
def _randint(key, minval, maxval, shape, dtype):
  check_shape("randint", shape, shape_of(minval), shape_of(maxval))
  minval = _asarray(minval)
  maxval = _asarray(maxval)
  if not _dtypes.issubdtype(minval.dtype, np.integer):
    minval = convert(minval, _dtypes.default_int_dtype())
  if not _dtypes.issubdtype(maxval.dtype, np.integer):
    maxval = convert(maxval, _dtypes.default_int_dtype())
  # where maxval is beyond the dtype (randint(key, shape, 0, 256, uint8)) the span grows
  top = _convert_and_clip_integer(lax.full((), int(_dtypes.iinfo(dtype).max), dtype),
                                  maxval.dtype)
  maxval_out_of_range = lax.gt(maxval, top)
  minval = _convert_and_clip_integer(minval, dtype)
  maxval = _convert_and_clip_integer(maxval, dtype)
  minval = _broadcast_to_rank(minval, len(shape))
  maxval = _broadcast_to_rank(maxval, len(shape))
  nbits = _dtypes.iinfo(dtype).bits
  if nbits not in (8, 16, 32, 64):
    raise TypeError(f"randint only accepts 8-, 16-, 32-, or 64-bit dtypes, got {dtype}")
  k1, k2 = split2(key)
  higher_bits = random_bits(k1, nbits, shape)
  lower_bits = random_bits(k2, nbits, shape)
  unsigned = UINT_DTYPES[nbits]
  span = convert(lax.sub(maxval, minval), unsigned)
  # span = 1 when maxval <= minval, so that minval is returned
  span = lax.select(lax.le(maxval, minval), lax.full_like(span, 1), span)
  # when maxval is beyond the dtype, the span is one larger (wrapping to 0 is right)
  span = lax.select(lax.bitwise_and(maxval_out_of_range, lax.gt(maxval, minval)),
                    lax.add(span, const(span, 1)), span)
  # (hi * 2**nbits + lo) % span, computed without overflow
  multiplier = lax.rem(lax.full((), 2 ** (nbits // 2), unsigned), span)
  multiplier = lax.rem(lax.mul(multiplier, multiplier), span)
  offset = lax.add(lax.mul(lax.rem(higher_bits, span), multiplier), lax.rem(lower_bits, span))
  offset = lax.rem(offset, span)
  return lax.add(minval, convert(offset, dtype))


# ---------------------------------------------------------------------------------------
# bernoulli, categorical

@planned
def bernoulli(key, p=np.float32(0.5), shape=None, mode="low", *, out_sharding=None):
  """Boolean samples that are True with probability p (mode 'high' resolves small p)."""
  if shape is not None:
    shape = canonicalize_shape(shape)
  if mode not in ("high", "low"):
    raise ValueError(f"got mode={mode!r}, expected 'high' or 'low'")
  key = key_arg("bernoulli", key)
  dtype = _dtypes.dtype(p, canonicalize=True)
  if not _dtypes.issubdtype(dtype, np.floating):
    raise TypeError(f"bernoulli probability `p` must have a floating dtype, got {dtype}.")
  p = convert(p, dtype)
  if shape is None:
    shape = tuple(p.shape)
  else:
    check_shape("bernoulli", shape, tuple(p.shape))
  if mode == "high":
    p = bcast(p, shape) if p.shape else p
    from numjax._src.lax import slicing
    u = _uniform(key, 0., 1., (2,) + shape, dtype)
    u1 = slicing.index_in_dim(u, 0, 0, keepdims=False)
    u2 = slicing.index_in_dim(u, 1, 0, keepdims=False)
    u2 = lax.mul(u2, lax.full((), 2.0 ** -_dtypes.finfo(dtype).nmant, dtype))
    return lax.lt(u2, lax.sub(p, u1))
  return _bernoulli(key, p, shape)


@sampler_jit(static_argnums=(2,), name="_bernoulli")
def _bernoulli(key, p, shape):
  u = _uniform(key, 0., 1., shape, p.dtype)
  return lax.lt(u, bcast(p, shape) if p.shape and tuple(p.shape) != shape else p)


@planned
def categorical(key, logits, axis=-1, shape=None, replace=True, mode=None, *,
                out_sharding=None):
  """Samples from categorical distributions given unnormalised log-probabilities (the
  Gumbel-max trick; without replacement, Gumbel top-k)."""
  key = key_arg("categorical", key)
  jnp = _jnp()
  logits = _asarray(logits)
  if not _dtypes.issubdtype(logits.dtype, np.floating):
    logits = convert(logits, _dtypes.default_float_dtype())
  nd = logits.ndim
  if not -nd <= axis < nd:
    raise IndexError(f"index {axis} is out of bounds for axis 0 with size {nd}")
  ax = axis % nd
  batch_shape = tuple(s for i, s in enumerate(logits.shape) if i != ax)
  if shape is None:
    shape = batch_shape
  else:
    shape = canonicalize_shape(shape)
    check_shape("categorical", shape, batch_shape)
  if mode is None:
    from numjax._src.config import config
    mode = "high" if getattr(config, "jax_use_high_dynamic_range_gumbel", False) else "low"
  shape_prefix = shape[:len(shape) - len(batch_shape)]
  if replace:
    axis_neg = ax - nd
    logits_shape = list(shape[len(shape) - len(batch_shape):])
    logits_shape.insert(axis_neg % nd, logits.shape[ax])
    g = _gumbel(key, (*shape_prefix, *logits_shape), logits.dtype, mode)
    expanded = lax.expand_dims(logits, tuple(range(len(shape_prefix))))
    return jnp.argmax(jnp.add(g, expanded), axis=axis_neg)
  logits = jnp.add(logits, _gumbel(key, tuple(logits.shape), logits.dtype, mode))
  k = math.prod(shape_prefix)
  if k > logits.shape[ax]:
    raise ValueError(f"Number of samples without replacement ({k}) cannot exceed number of "
                     f"categories ({logits.shape[ax]}).")
  from numjax._src.lax import sorting
  _, indices = sorting.top_k(jnp.moveaxis(logits, ax, -1), k)
  dimensions = (indices.ndim - 1, *range(indices.ndim - 1))
  return lax.reshape(indices, shape, dimensions)


# ---------------------------------------------------------------------------------------
# permutation, choice

@sampler_jit(static_argnums=(2,), name="_shuffle")
def _shuffle(key, x, axis):
  """Sort by random 32-bit keys, repeated often enough that collisions are negligible."""
  from numjax._src.lax import sorting
  exponent = 3
  uint32max = np.iinfo(np.uint32).max
  size = math.prod(x.shape)
  num_rounds = int(np.ceil(exponent * np.log(max(1, size)) / np.log(uint32max)))
  for _ in range(num_rounds):
    key, subkey = split2(key)
    sort_keys = random_bits(subkey, 32, tuple(x.shape))
    _, x = sorting.sort_key_val(sort_keys, x, axis)
  return x


@planned
def permutation(key, x, axis=0, independent=False, *, out_sharding=None):
  """A random permutation of arange(x) (x an int) or of x along `axis`."""
  key = key_arg("permutation", key)
  jnp = _jnp()
  if isinstance(x, (int, np.integer)) and not isinstance(x, bool) or (
      hasattr(x, "ndim") and x.ndim == 0):
    if not _dtypes.issubdtype(_dtypes.dtype(x), np.integer):
      raise TypeError("x must be an integer or at least 1-dimensional")
    r = core.concrete_or_error(int, x, "argument x of jax.random.permutation()")
    return _shuffle(key, jnp.arange(r), 0)
  x = _asarray(x)
  if x.ndim == 0:
    raise TypeError("x must be an integer or at least 1-dimensional")
  axis = operator.index(axis)
  if not -x.ndim <= axis < x.ndim:
    raise ValueError(f"axis {axis} is out of bounds for array of dimension {x.ndim}")
  axis %= x.ndim
  if independent or x.ndim == 1:
    return _shuffle(key, x, axis)
  ind = _shuffle(key, jnp.arange(x.shape[axis]), 0)
  return jnp.take(x, ind, axis, unique_indices=True)


@planned
def choice(key, a, shape=(), replace=True, p=None, axis=0, mode=None):
  """Random samples from `a` (or arange(a)), with or without replacement, optionally
  weighted by probabilities `p`."""
  key = key_arg("choice", key)
  if not isinstance(shape, Sequence):
    raise TypeError("shape argument of jax.random.choice must be a sequence, got "
                    f"{shape}")
  jnp = _jnp()
  arr = _asarray(a)
  if arr.ndim == 0:
    n_inputs = core.concrete_or_error(int, a, "The error occurred in jax.random.choice()")
  else:
    axis = operator.index(axis)
    if not -arr.ndim <= axis < arr.ndim:
      raise ValueError(f"axis {axis} is out of bounds for array of dimension {arr.ndim}")
    axis %= arr.ndim
    n_inputs = arr.shape[axis]
  shape = canonicalize_shape(shape)
  n_draws = math.prod(shape)
  if n_draws == 0:
    return jnp.zeros(shape, dtype=arr.dtype)
  if n_inputs <= 0:
    raise ValueError("a must be greater than 0 unless no samples are taken")
  if not replace and n_draws > n_inputs:
    raise ValueError(f"Cannot take a larger sample (size {n_draws}) than population (size "
                     f"{n_inputs}) when 'replace=False'")
  if p is None:
    if replace:
      ind = randint(key, shape, 0, n_inputs)
      result = ind if arr.ndim == 0 else jnp.take(arr, ind, axis)
    else:
      perm = permutation(key, n_inputs if arr.ndim == 0 else arr, axis)
      result = perm[(slice(None),) * axis + (slice(n_draws),)]
  else:
    from numjax._src.numpy.util import promote_dtypes_inexact
    p_arr, = promote_dtypes_inexact(p)
    if tuple(p_arr.shape) != (n_inputs,):
      raise ValueError("p must be None or a 1D vector with the same size as a.shape[axis]. "
                       f"p has shape {tuple(p_arr.shape)} and a.shape[axis] is {n_inputs}.")
    if replace:
      p_cuml = jnp.cumsum(p_arr)
      total = p_cuml[-1]
      u = _uniform(key, 0., 1., shape, p_cuml.dtype)
      r = lax.mul(total, lax.sub(const(u, 1), u))
      ind = convert(_searchsorted_left(p_cuml, r), _dtypes.default_int_dtype())
    else:
      from numjax._src.lax import sorting
      g = jnp.add(_gumbel(key, (n_inputs,), p_arr.dtype,
                          mode if mode is not None else "low"), jnp.log(p_arr))
      ind = convert(sorting.top_k(g, n_draws)[1], _dtypes.default_int_dtype())
    result = ind if arr.ndim == 0 else jnp.take(arr, ind, axis)
  out_shape = shape if arr.ndim == 0 else arr.shape[:axis] + tuple(shape) + arr.shape[axis + 1:]
  return lax.reshape(result, tuple(out_shape))


def _searchsorted_left(sorted_arr, query):
  """jnp.searchsorted(sorted_arr, query) (side='left'), by JAX's default method: a fixed
  number of bisection steps over all queries at once."""
  n = sorted_arr.shape[0]
  i32 = np.dtype(np.int32)
  low = lax.full(query.shape, 0, i32)
  high = lax.full(query.shape, n, i32)
  for _ in range(int(np.ceil(np.log2(n + 1)))):
    mid = lax.div(lax.add(low, high), lax.full((), 2, i32))
    go_left = lax.le(query, _jnp().take(sorted_arr, mid))
    low, high = lax.select(go_left, low, mid), lax.select(go_left, mid, high)
  return high


# ---------------------------------------------------------------------------------------
# geometric, poisson, binomial, multinomial

@planned
def geometric(key, p, shape=None, dtype=None, *, out_sharding=None):
  """Geometric(p) counts of trials to the first success (>= 1)."""
  key = key_arg("geometric", key)
  dtype = int_dtype(dtype, "geometric")
  shape = check_broadcast_shapes("geometric", shape, p)
  return _geometric(key, p, shape, dtype)


@sampler_jit(static_argnums=(2, 3), name="_geometric")
def _geometric(key, p, shape, dtype):
  from numjax._src.numpy.util import promote_dtypes_inexact
  jnp = _jnp()
  p, = promote_dtypes_inexact(p)
  u = _uniform(key, 0., 1., shape, p.dtype)
  u = jnp.where(jnp.equal(u, 0), 1, u)  # u = 0 would give log(0)
  log_u = lax.log(u)
  log_one_minus_p = bcast(lax.log1p(lax.neg(p)), shape)
  g = jnp.add(lax.floor(lax.div(log_u, log_one_minus_p)), 1)
  return convert(g, dtype)


def _while_loop(cond_fun, body_fun, init):
  from numjax._src.lax.control_flow import while_loop
  return while_loop(cond_fun, body_fun, init)


def _any(x):
  from numjax._src.lax import reductions
  return reductions.reduce_or(x, tuple(range(x.ndim))) if x.ndim else x


def _poisson_knuth(key, lam, shape, dtype, max_iters):
  f32 = np.dtype(np.float32)

  def body_fn(carry):
    i, k, rng, log_prod = carry
    rng, subkey = _split_raw(rng)
    k = lax.select(lax.gt(log_prod, lax.neg(lam)), lax.add(k, const(k, 1)), k)
    u = _uniform(_wrap(subkey), 0., 1., shape, f32)
    return lax.add(i, const(i, 1)), k, rng, lax.add(log_prod, lax.log(u))

  def cond_fn(carry):
    i, log_prod = carry[0], carry[3]
    return lax.bitwise_and(_any(lax.gt(log_prod, lax.neg(lam))), lax.lt(i, max_iters))

  k_init = lax.full(shape, 0, dtype)
  log_rate_init = lax.full(shape, 0, f32)
  i0 = lax.full((), 0, _dtypes.default_int_dtype())
  k = _while_loop(cond_fn, body_fn, (i0, k_init, key._base_array, log_rate_init))[1]
  return convert(lax.sub(k, const(k, 1)), dtype)


def _poisson_rejection(key, lam, shape, dtype, max_iters):
  log_lam = lax.log(lam)
  c = lambda v: const(lam, v)
  b = lax.add(c(0.931), lax.mul(c(2.53), lax.sqrt(lam)))
  a = lax.add(c(-0.059), lax.mul(c(0.02483), b))
  inv_alpha = lax.add(c(1.1239), lax.div(c(1.1328), lax.sub(b, c(3.4))))
  v_r = lax.sub(c(0.9277), lax.div(c(3.6224), lax.sub(b, c(2))))

  def body_fn(carry):
    i, k_out, accepted, rng = carry
    rng, sub0, sub1 = _split_raw(rng, 3)
    u = lax.sub(_uniform(_wrap(sub0), 0., 1., shape, lam.dtype), c(0.5))
    v = _uniform(_wrap(sub1), 0., 1., shape, lam.dtype)
    u_shifted = lax.sub(c(0.5), lax.abs(u))
    k = lax.floor(lax.add(lax.add(lax.mul(lax.add(lax.div(lax.mul(c(2), a), u_shifted), b),
                                          u), lam), c(0.43)))
    s = lax.log(lax.div(lax.mul(v, inv_alpha),
                        lax.add(lax.div(a, lax.mul(u_shifted, u_shifted)), b)))
    t = lax.sub(lax.add(lax.neg(lam), lax.mul(k, log_lam)), lax.lgamma(lax.add(k, c(1))))
    accept1 = lax.bitwise_and(lax.ge(u_shifted, c(0.07)), lax.le(v, v_r))
    reject = lax.bitwise_or(lax.lt(k, c(0)),
                            lax.bitwise_and(lax.lt(u_shifted, c(0.013)), lax.gt(v, u_shifted)))
    accept2 = lax.le(s, t)
    accept = lax.bitwise_or(accept1, lax.bitwise_and(lax.bitwise_not(reject), accept2))
    k_out = lax.select(accept, k, k_out)
    accepted = lax.bitwise_or(accepted, accept)
    return lax.add(i, const(i, 1)), k_out, accepted, rng

  def cond_fn(carry):
    i, _, accepted, _ = carry
    return lax.bitwise_and(_any(lax.bitwise_not(accepted)), lax.lt(i, max_iters))

  k_init = lax.full(shape, -1, lam.dtype)
  accepted = lax.full(shape, False, np.dtype(bool))
  i0 = lax.full((), 0, _dtypes.default_int_dtype())
  k = _while_loop(cond_fn, body_fn, (i0, k_init, accepted, key._base_array))[1]
  return convert(k, dtype)


def _select_branches(pred, on_true, on_false):
  """select(pred, on_true(), on_false()); with a concrete pred, a branch that no lane takes
  is not computed (its lanes would be discarded, so the result is the same)."""
  if not isinstance(pred, Tracer):
    p = np.asarray(pred._value)
    if p.all():
      return on_true()
    if not p.any():
      return on_false()
  return lax.select(pred, on_true(), on_false())


def _wrap(data):
  return _keys.PRNGKeyArray(_keys.default_prng_impl(), data)


def _split_raw(data, n=2):
  """split on raw key data inside loop bodies (carries are the uint32 data)."""
  return [k._base_array for k in _keys.split_n(_wrap(data), n)]


def poisson(key, lam, shape=None, dtype=None, *, out_sharding=None):
  """Poisson(lam) counts: Knuth's multiplication method for lam < 10, otherwise the
  transformed rejection method (PTRS)."""
  key = key_arg("poisson", key)
  dtype = _dtypes.check_and_canonicalize_user_dtype(int if dtype is None else dtype)
  if shape is not None:
    shape = canonicalize_shape(shape)
  else:
    shape = shape_of(lam)
  f32 = np.dtype(np.float32)
  lam = bcast(convert(lam, f32) if isinstance(lam, (Array, Tracer, float, int))
              else convert(_asarray(lam), f32), shape)
  use_knuth = lax.bitwise_or(lax.ne(lam, lam), lax.lt(lam, const(lam, 10)))
  lam_knuth = lax.select(use_knuth, lam, lax.full_like(lam, 0.0))
  lam_rejection = lax.select(use_knuth, lax.full_like(lam, 100000.0), lam)
  max_iters = lax.full((), int(_dtypes.iinfo(dtype).max), _dtypes.default_int_dtype()) \
      if _dtypes.iinfo(dtype).max <= _dtypes.iinfo(_dtypes.default_int_dtype()).max \
      else lax.full((), int(_dtypes.iinfo(_dtypes.default_int_dtype()).max),
                    _dtypes.default_int_dtype())
  result = _select_branches(
      use_knuth, lambda: _poisson_knuth(key, lam_knuth, shape, dtype, max_iters),
      lambda: _poisson_rejection(key, lam_rejection, shape, dtype, max_iters))
  return lax.select(lax.eq(lam, const(lam, 0)), lax.full_like(result, 0), result)


_STIRLING_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983,
                  0.02079067210376509, 0.0166446911898211, 0.0138761288230707,
                  0.0118967099458917, 0.010411265261972, 0.00925546218271273,
                  0.00833056343336287)


def _stirling_approx_tail(k):
  c = lambda v: const(k, v)
  use_tail_values = lax.le(k, c(9))
  kc = lax.clamp(c(0.0), k, c(9.0))
  kp1sq = lax.mul(lax.add(kc, c(1)), lax.add(kc, c(1)))
  approx = lax.div(lax.sub(c(1.0 / 12), lax.div(lax.sub(c(1.0 / 360),
                                                        lax.div(c(1.0 / 1260), kp1sq)), kp1sq)),
                   lax.add(kc, c(1)))
  idx = convert(lax.floor(kc), np.dtype(np.int32))
  table = _jnp().asarray(np.array(_STIRLING_TAIL, dtype=k.dtype))
  tail = _jnp().take(table, idx)
  return lax.select(use_tail_values, tail, approx)


def _binomial_inversion(key, count, prob, shape, dtype, max_iters):
  log1minusprob = lax.log1p(lax.neg(prob))

  def body_fn(carry):
    i, num_geom, geom_sum, rng = carry
    subkey, rng = _split_raw(rng)
    num_geom_out = lax.select(lax.le(geom_sum, count), lax.add(num_geom, const(num_geom, 1)),
                              num_geom)
    u = _uniform(_wrap(subkey), 0., 1., shape, prob.dtype)
    geom = lax.ceil(lax.div(lax.log(u), log1minusprob))
    return lax.add(i, const(i, 1)), num_geom_out, lax.add(geom_sum, geom), rng

  def cond_fn(carry):
    i, geom_sum = carry[0], carry[2]
    return lax.bitwise_and(_any(lax.le(geom_sum, count)), lax.lt(i, max_iters))

  zeros = lax.full(shape, 0, prob.dtype)
  i0 = lax.full((), 0, _dtypes.default_int_dtype())
  k = _while_loop(cond_fn, body_fn, (i0, zeros, zeros, key._base_array))[1]
  return convert(lax.sub(k, const(k, 1)), dtype)


def _btrs(key, count, prob, shape, dtype, max_iters):
  c = lambda v: const(prob, v)
  stddev = lax.sqrt(lax.mul(lax.mul(count, prob), lax.sub(c(1), prob)))
  b = lax.add(c(1.15), lax.mul(c(2.53), stddev))
  a = lax.add(lax.add(c(-0.0873), lax.mul(c(0.0248), b)), lax.mul(c(0.01), prob))
  cc = lax.add(lax.mul(count, prob), c(0.5))
  v_r = lax.sub(c(0.92), lax.div(c(4.2), b))
  r = lax.div(prob, lax.sub(c(1), prob))
  alpha = lax.mul(lax.add(c(2.83), lax.div(c(5.1), b)), stddev)
  m = lax.floor(lax.mul(lax.add(count, c(1)), prob))
  log = lax.log

  def body_fn(carry):
    i, k_out, accepted, rng = carry
    rng, sub0, sub1 = _split_raw(rng, 3)
    u = _uniform(_wrap(sub0), 0., 1., shape, prob.dtype)
    v = _uniform(_wrap(sub1), 0., 1., shape, prob.dtype)
    u = lax.sub(u, c(0.5))
    us = lax.sub(c(0.5), lax.abs(u))
    accept1 = lax.bitwise_and(lax.ge(us, c(0.07)), lax.le(v, v_r))
    k = lax.floor(lax.add(lax.mul(lax.add(lax.div(lax.mul(c(2), a), us), b), u), cc))
    reject = lax.bitwise_or(lax.lt(k, c(0)), lax.gt(k, count))
    v = log(lax.div(lax.mul(v, alpha), lax.add(lax.div(a, lax.mul(us, us)), b)))
    cm = lax.sub(count, m)
    ck = lax.sub(count, k)
    ub = lax.add(lax.add(
        lax.mul(lax.add(m, c(0.5)), log(lax.div(lax.add(m, c(1)), lax.mul(r, lax.add(cm, c(1)))))),
        lax.mul(lax.add(count, c(1)), log(lax.div(lax.add(cm, c(1)), lax.add(ck, c(1)))))),
        lax.mul(lax.add(k, c(0.5)), log(lax.div(lax.mul(r, lax.add(ck, c(1))), lax.add(k, c(1))))))
    ub = lax.sub(lax.sub(lax.add(lax.add(ub, _stirling_approx_tail(m)),
                                 _stirling_approx_tail(cm)), _stirling_approx_tail(k)),
                 _stirling_approx_tail(ck))
    accept2 = lax.le(v, ub)
    accept = lax.bitwise_or(accept1, lax.bitwise_and(lax.bitwise_not(reject), accept2))
    k_out = lax.select(accept, k, k_out)
    return lax.add(i, const(i, 1)), k_out, lax.bitwise_or(accepted, accept), rng

  def cond_fn(carry):
    i, accepted = carry[0], carry[2]
    return lax.bitwise_and(_any(lax.bitwise_not(accepted)), lax.lt(i, max_iters))

  k_init = lax.full(shape, -1, prob.dtype)
  i0 = lax.full((), 0, _dtypes.default_int_dtype())
  carry = (i0, k_init, lax.full(shape, False, np.dtype(bool)), key._base_array)
  return convert(_while_loop(cond_fn, body_fn, carry)[1], dtype)


def binomial(key, n, p, shape=None, dtype=None):
  """Binomial(n, p) counts (as floats, like JAX): inversion for n*min(p, 1-p) <= 10,
  otherwise the BTRS rejection algorithm."""
  from numjax._src.random.samplers import float_dtype
  key = key_arg("binomial", key)
  dtype = float_dtype(dtype, "binomial")
  if shape is not None:
    shape = canonicalize_shape(shape)
  return _binomial(key, n, p, shape, dtype)


def _binomial(key, count, prob, shape, dtype):
  with np.errstate(all="ignore"):  # NaN/inf counts and probabilities are handled below
    return _binomial_quiet(key, count, prob, shape, dtype)


def _binomial_quiet(key, count, prob, shape, dtype):
  from numjax._src.numpy.util import promote_dtypes_inexact
  if shape is None:
    shape = broadcast_shapes(shape_of(count), shape_of(prob))
  else:
    check_shape("binomial", shape, shape_of(count), shape_of(prob))
  prob, = promote_dtypes_inexact(prob)
  count = convert(count, prob.dtype)
  count = bcast(count, shape)
  prob = bcast(prob, shape)
  c = lambda v: const(prob, v)
  p_lt_half = lax.lt(prob, c(0.5))
  q = lax.select(p_lt_half, prob, lax.sub(c(1.0), prob))
  count_nan_or_neg = lax.bitwise_or(lax.ne(count, count), lax.lt(count, c(0.0)))
  count_inf = lax.eq(lax.abs(count), c(np.inf))
  q_is_nan = lax.ne(q, q)
  q_l_0 = lax.lt(q, c(0.0))
  q = lax.select(lax.bitwise_or(q_is_nan, q_l_0), lax.full_like(q, 0.01), q)
  use_inversion = lax.bitwise_or(count_nan_or_neg, lax.le(lax.mul(count, q), c(10.0)))
  count = lax.floor(count)
  count_inv = lax.select(use_inversion, count, lax.full_like(count, 0.0))
  count_btrs = lax.select(use_inversion, lax.full_like(count, 10000.0), count)
  q_btrs = lax.select(use_inversion, lax.full_like(q, 0.5), q)
  max_iters = lax.full((), int(_dtypes.iinfo(_dtypes.default_int_dtype()).max),
                       _dtypes.default_int_dtype())
  samples = _select_branches(
      use_inversion, lambda: _binomial_inversion(key, count_inv, q, shape, dtype, max_iters),
      lambda: _btrs(key, count_btrs, q_btrs, shape, dtype, max_iters))
  invalid = lax.bitwise_or(lax.bitwise_or(q_l_0, q_is_nan), count_nan_or_neg)
  samples = lax.select(invalid, lax.full_like(samples, np.nan), samples)
  samples = lax.select(lax.bitwise_and(count_inf, lax.bitwise_not(invalid)),
                       lax.full_like(samples, np.inf), samples)
  keep = lax.bitwise_or(lax.bitwise_or(p_lt_half, count_nan_or_neg),
                        lax.bitwise_or(q_is_nan, count_inf))
  return lax.select(keep, samples, lax.sub(convert(count, dtype), samples))


@planned
def multinomial(key, n, p, *, shape=None, dtype=None, unroll=1):
  """Multinomial counts over the last axis of p, by a chain of conditional binomials."""
  from numjax._src.numpy.util import promote_dtypes_inexact
  from numjax._src.random.samplers import float_dtype
  key = key_arg("multinomial", key)
  jnp = _jnp()
  n, p = promote_dtypes_inexact(n, p)
  if shape is None:
    shape = tuple(p.shape)
  else:
    shape = canonicalize_shape(shape)
  dtype = float_dtype(dtype, "multinomial") if dtype is not None else p.dtype
  n = bcast(n, shape[:-1])
  p = bcast(p, shape)
  p = jnp.moveaxis(p, -1, 0)
  remaining = jnp.flip(jnp.cumsum(jnp.flip(p, 0), 0), 0)
  ratios = jnp.divide(p, jnp.where(jnp.equal(remaining, 0), 1, remaining))
  keys = _keys.split_n(key, ratios.shape[0])
  remainder = n
  counts = []
  for i, k in enumerate(keys):
    ratio = ratios[i]
    count = binomial(k, remainder, jnp.clip(ratio, 0, 1), dtype=remainder.dtype)
    remainder = lax.sub(remainder, count)
    counts.append(count)
  return convert(jnp.stack(counts, -1), dtype)
