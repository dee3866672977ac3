"""Gamma and the samplers built on it: gamma, loggamma, beta, dirichlet, t, chisquare, f,
generalized_normal, ball.

`random_gamma_p(keys, a, log_space)` is the primitive (as in JAX): one Marsaglia-Tsang
rejection loop per element of `a`, element j drawing from `split(key, a.size)[j]`. Its
impl runs that loop on concrete values, vectorised across elements: every lane that has
not yet accepted takes another step (exactly what `vmap(while_loop)` does), so each lane's
value equals the sequential computation. It is differentiated by implicit differentiation
(`random_gamma_grad`: d sample / d a = -(dF/da) / (dF/dx) for the gamma CDF F), and batched
by moving the batch axes of keys and `a` to the front.
"""
from __future__ import annotations

import math

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.array import Array, _make
from numjax._src.core import Primitive, ShapedArray, Tracer
from numjax._src.interpreters import ad, batching
from numjax._src.lax import lax
from numjax._src.random import keys as _keys
from numjax._src.random import prng
from numjax._src.random.fma import fma
from numjax._src.random.plans import sampler_jit
from numjax._src.random.samplers import (
    _exponential, _normal, _normal_real, _rademacher, _uniform, bcast, canonicalize_shape,
    broadcast_shapes, check_all_safe_to_cast, check_broadcast_shapes, check_shape, const, convert, float_dtype,
    key_arg, key_at, param_sampler_args, shape_of, split2, split_array)
from numjax._src.random.plans import planned

_u32 = np.dtype(np.uint32)


# ---------------------------------------------------------------------------------------
# random_gamma_grad: the implicit derivative of a standard gamma sample w.r.t. its shape

random_gamma_grad_p = Primitive("random_gamma_grad")
random_gamma_grad_p.elementwise = True


def _gammainc_da(a, x):
  """dP(a, x)/da for the regularised lower incomplete gamma P, in float64 (Richardson-
  extrapolated central differences of SciPy's gammainc: error O(h^4))."""
  import scipy.special as sp
  h = np.maximum(1e-3 * a, 1e-6)
  d1 = (sp.gammainc(a + h, x) - sp.gammainc(a - h, x)) / (2 * h)
  h2 = h / 2
  d2 = (sp.gammainc(a + h2, x) - sp.gammainc(a - h2, x)) / (2 * h2)
  return (4 * d2 - d1) / 3


def _random_gamma_grad_impl(a, x):
  a64 = a.astype(np.float64)
  x64 = x.astype(np.float64)
  import scipy.special as sp
  with np.errstate(all="ignore"):
    # dF/dx is the gamma density; log-space keeps it finite for tiny samples
    log_pdf = (a64 - 1) * np.log(x64) - x64 - sp.gammaln(a64)
    grad = -_gammainc_da(a64, x64) / np.exp(log_pdf)
    grad = np.where(x64 == 0, 0.0, grad)
  return grad.astype(a.dtype)


def _random_gamma_grad_abstract(a, x):
  if a.dtype != x.dtype:
    raise TypeError("random_gamma_grad requires arguments to have the same dtypes, got "
                    f"{a.dtype}, {x.dtype}.")
  if not _dtypes.issubdtype(a.dtype, np.floating):
    raise TypeError(f"random_gamma_grad does not accept dtype {a.dtype}. Accepted dtypes are "
                    "subtypes of floating.")
  if a.shape and x.shape and a.shape != x.shape:
    raise TypeError("random_gamma_grad got incompatible shapes for broadcasting: "
                    f"{a.shape}, {x.shape}.")
  return ShapedArray(a.shape or x.shape, a.dtype, a.weak_type and x.weak_type)


def _random_gamma_grad_jvp(primals, tangents):
  raise ValueError("Differentiating random_gamma_grad (a second derivative of "
                   "jax.random.gamma with respect to its shape parameter) is not supported, "
                   "as in JAX.")


random_gamma_grad_p.impl = _random_gamma_grad_impl
random_gamma_grad_p.abstract_eval = _random_gamma_grad_abstract
random_gamma_grad_p.numpy_tier_only = True
ad.primitive_jvps[random_gamma_grad_p] = _random_gamma_grad_jvp
batching.broadcast_batcher(random_gamma_grad_p)


def random_gamma_grad(a, x):
  """The derivative of a standard gamma sample x with respect to its shape a."""
  a, x = lax._promote_lax_args((a, x))
  return random_gamma_grad_p.bind(a, x)


# ---------------------------------------------------------------------------------------
# random_gamma_p

random_gamma_p = Primitive("random_gamma")


def _gamma_lanes(keys, alpha, log_space):
  """Marsaglia-Tsang on every lane: keys key<fry>[n], alpha f[n] (concrete arrays)."""
  dtype = alpha.dtype
  c = lambda v: lax.full((), v, dtype)
  zero, one = c(0), c(1)
  boost_mask = lax.ge(alpha, one)
  alpha_orig = alpha
  alpha = lax.select(boost_mask, alpha, lax.add(alpha, one))
  d = lax.sub(alpha, c(1. / 3.))
  cc = lax.div(c(1. / 3.), lax.sqrt(d))
  key, subkey = _keys.split_n(keys, 2)

  def accept_pending(X, V, U, d):
    # still rejecting: U >= 1 - 0.0331 X^2  and  log U >= X/2 + d (1 - V + log V)
    return lax.bitwise_and(
        lax.ge(U, fma(c(-0.0331), lax.mul(X, X), one)),
        lax.ge(lax.log(U), lax.add(lax.mul(X, c(0.5)),
                                   lax.mul(d, lax.add(lax.sub(one, V), lax.log(V))))))

  n = alpha.shape[0]
  X = lax.full((n,), 0, dtype)
  V = lax.full((n,), 1, dtype)
  U = lax.full((n,), 2, dtype)
  kdata = key._base_array
  active = accept_pending(X, V, U, d)
  while bool(np.any(active._value)):
    idx = np.nonzero(active._value)[0]
    sub = lambda arr: _make(arr._value[idx])
    k_new, x_key, u_key = _keys.split_n(_keys.PRNGKeyArray(keys._impl, sub(kdata)), 3)
    c_sub = sub(cc)
    # inner loop: a normal x with v = 1 + c x > 0
    xk = x_key._base_array
    x = lax.full((idx.size,), 0, dtype)
    v = lax.full((idx.size,), -1, dtype)
    pend = np.ones(idx.size, bool)
    while pend.any():
      j = np.nonzero(pend)[0]
      kk = _keys.PRNGKeyArray(keys._impl, _make(xk._value[j]))
      kk_next, kk_sub = _keys.split_n(kk, 2)
      xj = _normal_real(kk_sub, (), dtype)
      vj = fma(xj, _make(c_sub._value[j]), one)  # XLA fuses 1 + x * c
      xk = _set(xk, j, kk_next._base_array)
      x = _set(x, j, xj)
      v = _set(v, j, vj)
      pend = np.asarray(lax.le(v, zero)._value)
    Xs = lax.mul(x, x)
    Vs = lax.mul(lax.mul(v, v), v)
    Us = _uniform(u_key, 0., 1., (), dtype)
    kdata = _set(kdata, idx, k_new._base_array)
    X, V, U = _set(X, idx, Xs), _set(V, idx, Vs), _set(U, idx, Us)
    active = _make(active._value & False)
    still = accept_pending(Xs, Vs, Us, sub(d))
    active = _set(active, idx, still)
  if log_space:
    log_samples = lax.neg(_exponential(subkey, (), dtype))
    log_boost = lax.select(lax.bitwise_or(boost_mask, lax.eq(log_samples, zero)),
                           lax.full_like(log_samples, 0),
                           lax.mul(log_samples, lax.div(one, alpha_orig)))
    return lax.add(lax.add(lax.log(d), lax.log(V)), log_boost)
  samples = lax.sub(one, _uniform(subkey, 0., 1., (), dtype))
  boost = lax.select(boost_mask, lax.full_like(samples, 1),
                     lax.pow(samples, lax.div(one, alpha_orig)))
  return lax.mul(lax.mul(d, V), boost)


def _set(arr, idx, vals):
  """arr with arr[idx] = vals (the bookkeeping of the impl's lane loop, on host buffers)."""
  out = np.array(arr._value)
  out[idx] = vals._value
  return _make(out)


def _random_gamma_impl(keys, a, *, log_space):
  kshape = keys.shape[:-1]
  a_shape = a.shape
  split_count = math.prod(a_shape[len(kshape):])
  with core.new_base_main():
    k = _make(keys.reshape(-1, 2))
    k = prng.random_split_p.bind(k, shape=(split_count,))
    k = _keys.PRNGKeyArray(prng.threefry_prng_impl, lax.reshape(k, (math.prod(a_shape), 2)))
    alphas = _make(a.reshape(-1))
    if alphas.shape[0] == 0:
      return np.zeros(a_shape, a.dtype)
    out = _gamma_lanes(k, alphas, log_space)
    return np.asarray(out._value).reshape(a_shape)


def _random_gamma_abstract(keys, a, *, log_space):
  if keys.dtype != _u32 or not keys.shape or keys.shape[-1] != 2:
    raise TypeError(f"random_gamma expects threefry key data, got {keys.str_short(False)}.")
  if tuple(a.shape[:keys.ndim - 1]) != tuple(keys.shape[:-1]):
    raise TypeError(f"random_gamma: key shape {keys.shape[:-1]} must be a prefix of the "
                    f"shape of a, {a.shape}.")
  return ShapedArray(a.shape, a.dtype, False)


def _gamma_grad(sample, a, *, log_space):
  if log_space:
    samples = lax.exp(sample)
    tiny = lax.full_like(samples, _dtypes.finfo(samples.dtype).tiny)
    samples = lax.select(lax.eq(samples, lax.full_like(samples, 0)), tiny, samples)
    return lax.div(random_gamma_grad_p.bind(a, samples), samples)
  return random_gamma_grad_p.bind(a, sample)


def _random_gamma_jvp(primals, tangents, *, log_space):
  keys, a = primals
  _, a_dot = tangents
  ans = random_gamma_p.bind(keys, a, log_space=log_space)
  if type(a_dot) is ad.Zero:
    return ans, ad.Zero(ad.tangent_aval(core.get_aval(ans)))
  return ans, lax.mul(a_dot, _gamma_grad(ans, a, log_space=log_space))


def _random_gamma_batch(vals, dims, *, log_space):
  keys, a = vals
  kd, ad_ = dims
  size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
  keys = batching.bdim_at_front(keys, kd, size)
  a = batching.bdim_at_front(a, ad_, size)
  return random_gamma_p.bind(keys, a, log_space=log_space), 0


random_gamma_p.impl = _random_gamma_impl
random_gamma_p.abstract_eval = _random_gamma_abstract
random_gamma_p.weak_type_rule = lambda args, params: False
random_gamma_p.numpy_tier_only = True  # a data-dependent loop per element
ad.primitive_jvps[random_gamma_p] = _random_gamma_jvp
batching.primitive_batchers[random_gamma_p] = _random_gamma_batch


# ---------------------------------------------------------------------------------------
# gamma, loggamma and friends

@planned
def gamma(key, a, shape=None, dtype=None, *, out_sharding=None):
  """Standard gamma(a) samples (unit scale); differentiable in `a`."""
  key = key_arg("gamma", key)
  dtype = float_dtype(dtype, "gamma")
  if shape is not None:
    shape = canonicalize_shape(shape)
  return _gamma(key, a, shape=shape, dtype=dtype)


@planned
def loggamma(key, a, shape=None, dtype=None, *, out_sharding=None):
  """log of standard gamma(a) samples, accurate for small a."""
  key = key_arg("loggamma", key)
  dtype = float_dtype(dtype, "gamma")
  if shape is not None:
    shape = canonicalize_shape(shape)
  return _gamma(key, a, shape=shape, dtype=dtype, log_space=True)


@sampler_jit(static_argnames=("shape", "dtype", "log_space"), name="_gamma")
def _gamma(key, a, shape, dtype, log_space=False):
  if shape is None:
    shape = shape_of(a)
  else:
    check_shape("gamma", shape, shape_of(a))
  a = convert(a, dtype)
  if tuple(a.shape) != tuple(shape):
    a = bcast(a, shape)
  return random_gamma_p.bind(key._base_array, a, log_space=log_space)


@planned
def beta(key, a, b, shape=None, dtype=None, *, out_sharding=None):
  """Beta(a, b) samples, as gamma_a / (gamma_a + gamma_b) computed in log space."""
  key = key_arg("beta", key)
  dtype = float_dtype(dtype, "beta")
  check_all_safe_to_cast("beta", dtype, a, b)
  shape = check_broadcast_shapes("beta", shape, a, b)
  return _beta(key, a, b, shape, dtype)


@sampler_jit(static_argnums=(3, 4), name="_beta")
def _beta(key, a, b, shape, dtype):
  a = convert(a, dtype)
  b = convert(b, dtype)
  key_a, key_b = split2(key)
  a = bcast(a, shape)
  b = bcast(b, shape)
  log_gamma_a = _gamma(key_a, a, shape=shape, dtype=dtype, log_space=True)
  log_gamma_b = _gamma(key_b, b, shape=shape, dtype=dtype, log_space=True)
  log_max = lax.max(log_gamma_a, log_gamma_b)
  ga = lax.exp(lax.sub(log_gamma_a, log_max))
  gb = lax.exp(lax.sub(log_gamma_b, log_max))
  return lax.div(ga, lax.add(ga, gb))


@planned
def dirichlet(key, alpha, shape=None, dtype=None, *, out_sharding=None):
  """Dirichlet(alpha) samples over the last axis of alpha (softmax of log-gammas)."""
  key = key_arg("dirichlet", key)
  dtype = float_dtype(dtype, "dirichlet")
  if shape is not None:
    shape = canonicalize_shape(shape)
  return _dirichlet(key, alpha, shape, dtype)


@sampler_jit(static_argnums=(2, 3), name="_dirichlet")
def _dirichlet(key, alpha, shape, dtype):
  alpha_shape = shape_of(alpha)
  if not len(alpha_shape) >= 1:
    raise ValueError(f"dirichlet requires alpha.ndim >= 1, got alpha.ndim == {len(alpha_shape)}")
  if shape is None:
    shape = tuple(alpha_shape[:-1])
  else:
    check_shape("dirichlet", shape, tuple(alpha_shape[:-1]))
  alpha = convert(alpha, dtype)
  log_gamma_samples = _gamma(key, alpha, shape=shape + tuple(alpha_shape[-1:]), dtype=dtype,
                             log_space=True)
  from numjax._src.nn.functions import softmax
  return softmax(log_gamma_samples, -1)


@planned
def t(key, df, shape=None, dtype=None, *, out_sharding=None):
  """Student's t(df) samples: normal * sqrt(df/2 / gamma(df/2))."""
  key, dtype, shape = param_sampler_args("t", key, shape, dtype, df)
  return _t(key, df, shape, dtype)


@sampler_jit(static_argnums=(2, 3), name="_t")
def _t(key, df, shape, dtype):
  df = convert(df, dtype)
  key_n, key_g = split2(key)
  n = _normal(key_n, shape, dtype)
  half_df = lax.div(df, const(n, 2))
  g = _gamma(key_g, half_df, shape=shape, dtype=dtype)
  return lax.mul(n, lax.sqrt(lax.div(half_df, g)))


@planned
def chisquare(key, df, shape=None, dtype=None, *, out_sharding=None):
  """Chi-square(df) samples: 2 * gamma(df/2) (via loggamma)."""
  key, dtype, shape = param_sampler_args("chisquare", key, shape, dtype, df)
  return _chisquare(key, df, shape, dtype)


@sampler_jit(static_argnums=(2, 3), name="_chisquare")
def _chisquare(key, df, shape, dtype):
  df = convert(df, dtype)
  two = const(df, 2)
  half_df = lax.div(df, two)
  log_g = _gamma(key, half_df, shape=shape, dtype=dtype, log_space=True)
  return lax.mul(lax.exp(log_g), two)


@planned
def f(key, dfnum, dfden, shape=None, dtype=None, *, out_sharding=None):
  """F(dfnum, dfden) samples: a ratio of scaled chi-squares."""
  key, dtype, shape = param_sampler_args("f", key, shape, dtype, dfnum, dfden)
  return _f(key, dfnum, dfden, shape, dtype)


@sampler_jit(static_argnums=(3, 4), name="_f")
def _f(key, dfnum, dfden, shape, dtype):
  dfden = convert(dfden, dtype)
  dfnum = convert(dfnum, dtype)
  key_dfd, key_dfn = split2(key)
  chi2_dfn = _chisquare(key_dfn, dfnum, shape, dtype)
  chi2_dfd = _chisquare(key_dfd, dfden, shape, dtype)
  return lax.div(lax.div(chi2_dfn, dfnum), lax.div(chi2_dfd, dfden))


@planned
def generalized_normal(key, p, shape=(), dtype=None, *, out_sharding=None):
  """Generalized normal samples, density proportional to exp(-|x|^p)."""
  shape = canonicalize_shape(shape)
  key = key_arg("generalized_normal", key)
  dtype = float_dtype(dtype, "generalized_normal")
  check_shape("generalized_normal", shape)
  return _generalized_normal(key, p, shape, dtype)


@sampler_jit(static_argnums=(2, 3), name="_generalized_normal")
def _generalized_normal(key, p, shape, dtype):
  import numjax.numpy as jnp
  keys = split_array(key, 2)  # (indexed as JAX's keys[0], keys[1])
  g = _gamma(key_at(keys, 0), jnp.true_divide(1, p), shape=shape, dtype=dtype)
  r = _rademacher(key_at(keys, 1), shape, dtype)
  return jnp.multiply(r, jnp.power(g, jnp.true_divide(1, p)))


@planned
def ball(key, d, p=2, shape=(), dtype=None, *, out_sharding=None):
  """Uniform samples from the unit p-norm ball in d dimensions."""
  shape = canonicalize_shape(shape)
  key = key_arg("ball", key)
  dtype = float_dtype(dtype, "ball")
  check_shape("ball", shape)
  import operator
  d = core.concrete_or_error(operator.index, d, "The error occurred in jax.random.ball()")
  return _ball(key, p, d, shape, dtype)


@sampler_jit(static_argnums=(2, 3, 4), name="_ball")
def _ball(key, p, d, shape, dtype):
  import numjax.numpy as jnp
  k1, k2 = split2(key)
  g = _generalized_normal(k1, p, (*shape, d), dtype)
  e = _exponential(k2, shape, dtype)
  norm = jnp.power(jnp.add(jnp.sum(jnp.power(jnp.abs(g), p), axis=-1), e), jnp.true_divide(1, p))
  return jnp.true_divide(g, norm[..., None])
