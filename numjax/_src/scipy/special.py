"""jax.scipy.special: special functions, written with lax primitives (the gamma/beta
family, error functions, Bessel functions, exponential integrals, ... are primitives in
lax/special.py; the rest are compositions), so that all of them jit, vmap and differentiate.
"""
from __future__ import annotations

import math
import operator

import numpy as np

from numjax._src import core
from numjax._src import dtypes
from numjax._src.custom_derivatives import custom_jvp
from numjax._src.lax import lax
from numjax._src.lax import special as lsp
from numjax._src.numpy import util
from numjax._src.numpy.util import promote_args_inexact


def _jnp():
  import numjax.numpy as jnp
  return jnp


def _c(x, v):
  return lax._const(x, v)


def _no_complex(name, x):
  if dtypes.issubdtype(x.dtype, np.complexfloating):
    raise ValueError(f"{name} does not support complex-valued inputs.")


def _promoted(name, *args, real=False):
  """``args`` promoted to one inexact dtype and broadcast together; with ``real``, complex
  inputs raise a ValueError."""
  args = promote_args_inexact(name, *args)
  if real:
    _no_complex(name, args[-1])  # (all of one dtype now)
  return util._broadcast_arrays(*args) if len(args) > 1 else args


def _float_only(x, name="x"):
  x = _jnp().asarray(x)
  if x.dtype not in (np.float32, np.float64):
    raise TypeError(f"{name}.dtype={x.dtype} is not supported, see docstring for supported "
                    "types.")
  return x


# ---------------------------------------------------------------------------------------
# Gamma family

def gammaln(x):
  """Implementation of scipy.special.gammaln: log|Gamma(x)|."""
  (x,) = promote_args_inexact("gammaln", x)
  return lax.lgamma(x)


def gammasgn(x):
  """Implementation of scipy.special.gammasgn: the sign of Gamma(x) (NaN at the poles)."""
  jnp = _jnp()
  (x,) = _promoted("gammasgn", x, real=True)
  fl = lax.floor(x)
  neg = x < 0
  nan = (neg & (x == fl)) | jnp.isnan(x)
  minus = (neg & (jnp.fmod(fl, 2) != 0)) | ((x == 0) & jnp.signbit(x))
  return jnp.where(nan, _c(x, np.nan), jnp.where(minus, _c(x, -1.0), _c(x, 1.0)))


def gamma(x):
  """Implementation of scipy.special.gamma (real arguments)."""
  (x,) = promote_args_inexact("gamma", x)
  if dtypes.issubdtype(x.dtype, np.complexfloating):
    raise NotImplementedError("gamma of complex arguments is not implemented in numjax.")
  return gammasgn(x) * lax.exp(lax.lgamma(x))


def loggamma(x):
  """Implementation of scipy.special.loggamma (real arguments: NaN for x <= 0)."""
  (x,) = promote_args_inexact("loggamma", x)
  if dtypes.issubdtype(x.dtype, np.complexfloating):
    raise NotImplementedError("loggamma of complex arguments is not implemented in numjax.")
  return _jnp().where(x > 0, lax.lgamma(x), _c(x, np.nan))


def betaln(a, b):
  """Implementation of scipy.special.betaln: log|B(a, b)|."""
  jnp = _jnp()
  a, b = promote_args_inexact("betaln", a, b)
  # as JAX: lgamma(a) + lgamma(b) - lgamma(a + b), with the small argument first so the
  # large-argument cancellation is milder
  lo, hi = jnp.minimum(a, b), jnp.maximum(a, b)
  return lax.lgamma(lo) + (lax.lgamma(hi) - lax.lgamma(lo + hi))


def beta(a, b):
  """Implementation of scipy.special.beta."""
  a, b = promote_args_inexact("beta", a, b)
  _no_complex("beta", a)
  sign = gammasgn(a) * gammasgn(b) * gammasgn(a + b)
  return sign * lax.exp(betaln(a, b))


def betainc(a, b, x):
  """Implementation of scipy.special.betainc: the regularised incomplete beta I_x(a, b)
  (differentiable in x only, as JAX)."""
  a, b, x = _promoted("betainc", a, b, x, real=True)
  return lsp.betainc(a, b, x)


def digamma(x):
  """Implementation of scipy.special.digamma."""
  (x,) = promote_args_inexact("digamma", x)
  return lax.digamma(x)


def polygamma(n, x):
  """Implementation of scipy.special.polygamma (n an integer order)."""
  if not dtypes.issubdtype(dtypes.dtype(n), np.integer):
    raise ValueError(f"Argument `n` to polygamma must be of integer type. Got dtype "
                     f"{dtypes.dtype(n)}.")
  n, x = _promoted("polygamma", n, x, real=True)
  return lax.polygamma(n, x)


def gammainc(a, x):
  """Implementation of scipy.special.gammainc: the regularised lower incomplete gamma."""
  a, x = _promoted("gammainc", a, x)
  return lsp.igamma(a, x)


def gammaincc(a, x):
  """Implementation of scipy.special.gammaincc: the regularised upper incomplete gamma."""
  a, x = _promoted("gammaincc", a, x)
  return lsp.igammac(a, x)


def factorial(n, exact=False):
  """Implementation of scipy.special.factorial (exact=False: Gamma(n + 1), 0 for n < 0)."""
  if exact:
    raise NotImplementedError("factorial with exact=True")
  (n,) = promote_args_inexact("factorial", n)
  return _jnp().where(n < 0, _c(n, 0), lax.exp(lax.lgamma(n + 1)))


def comb(N, k, *, repetition=False):
  """Implementation of scipy.special.comb (exact=False)."""
  jnp = _jnp()
  N, k = promote_args_inexact("comb", N, k)
  if repetition:
    return jnp.where((k == 0) & (N >= 0), _c(N, 1.0), comb(N + k - 1, k))
  ok = (k <= N) & (N >= 0) & (k >= 0)
  sn = jnp.where(ok, N, _c(N, 0))
  sk = jnp.where(ok, k, _c(k, 0))
  res = lax.exp(gammaln(sn + 1) - gammaln(sk + 1) - gammaln(sn + 1 - sk))
  return jnp.where(ok, res, _c(res, 0))


def poch(z, m):
  """Implementation of scipy.special.poch: the rising factorial Gamma(z + m) / Gamma(z)."""
  z, m = promote_args_inexact("poch", z, m)
  _no_complex("jnp.poch", z)
  return _poch(z, m)


@custom_jvp
def _poch(z, m):
  jnp = _jnp()
  return jnp.where(m == 0, _c(z, 1), gamma(z + m) / gamma(z))


_poch.defjvps(lambda g, ans, z, m: g * (lax.digamma(z + m) - lax.digamma(z)) * ans,
              lambda g, ans, z, m: g * lax.digamma(z + m) * ans)


def multigammaln(a, d):
  """Implementation of scipy.special.multigammaln (d a static integer)."""
  jnp = _jnp()
  d = core.concrete_or_error(int, d, "d argument of multigammaln")
  a, d_ = promote_args_inexact("multigammaln", a, d)
  const = _c(a, 0.25) * d_ * (d_ - 1) * lax.log(_c(a, np.pi))
  b = jnp.arange(d, dtype=a.dtype) / 2
  return jnp.sum(gammaln(jnp.expand_dims(a, -1) - b), axis=-1) + const


def bernoulli(n):
  """Implementation of scipy.special.bernoulli: the Bernoulli numbers B_0..B_n."""
  jnp = _jnp()
  n = core.concrete_or_error(operator.index, n, "Argument n of bernoulli")
  if n < 0:
    raise ValueError("n must be a non-negative integer.")
  out = bernoulli_numbers_static(n)
  if n >= 1:
    out[1] = -0.5  # SciPy's convention: B_1 = -1/2
  return jnp.asarray(np.array(out), dtype=dtypes.default_float_dtype())


# ---------------------------------------------------------------------------------------
# Error functions and the normal distribution

def erf(x):
  """Implementation of scipy.special.erf."""
  (x,) = promote_args_inexact("erf", x)
  return lax.erf(x)


def erfc(x):
  """Implementation of scipy.special.erfc."""
  (x,) = promote_args_inexact("erfc", x)
  return lax.erfc(x)


def erfinv(x):
  """Implementation of scipy.special.erfinv."""
  (x,) = promote_args_inexact("erfinv", x)
  return lax.erf_inv(x)


def erfcx(x):
  """Implementation of scipy.special.erfcx: exp(x^2) erfc(x)."""
  (x,) = _promoted("erfcx", x, real=True)
  return lsp.erfcx(x)


def dawsn(x):
  """Implementation of scipy.special.dawsn: Dawson's integral."""
  (x,) = _promoted("dawsn", x, real=True)
  return lsp.dawsn(x)


def wofz(z):
  """Implementation of scipy.special.wofz: the Faddeeva function exp(-z^2) erfc(-iz)."""
  (z,) = util.promote_args_complex("wofz", z)
  return lsp.wofz(z)


def ndtr(x):
  """Implementation of scipy.special.ndtr: the standard normal CDF (float32/float64)."""
  x = _float_only(x)
  half_sqrt2 = _c(x, 0.5 * math.sqrt(2.0))
  w = x * half_sqrt2
  z = lax.abs(w)
  y = lax.select(lax.lt(z, half_sqrt2), _c(x, 1.0) + lax.erf(w),
                 lax.select(lax.gt(w, _c(x, 0.0)), _c(x, 2.0) - lax.erfc(z), lax.erfc(z)))
  return _c(x, 0.5) * y


def ndtri(p):
  """Implementation of scipy.special.ndtri: the inverse of ndtr (float32/float64)."""
  return lsp.ndtri(_float_only(p))


def log_ndtr(x, series_order=3):
  """Implementation of scipy.special.log_ndtr (float32/float64); exact in the tails (the
  series_order of JAX's asymptotic series is accepted and validated)."""
  if not isinstance(series_order, int):
    raise TypeError("series_order must be a Python integer.")
  if series_order < 0:
    raise ValueError("series_order must be non-negative.")
  if series_order > 30:
    raise ValueError("series_order must be <= 30.")
  x = _jnp().asarray(x)
  if x.dtype not in (np.float32, np.float64):
    raise TypeError(f"x.dtype={x.dtype} is not supported.")
  return lsp.log_ndtr(x)


def owens_t(h, a):
  """Implementation of scipy.special.owens_t: Owen's T function."""
  h, a = _promoted("owens_t", h, a)
  return lsp.owens_t(h, a)


# ---------------------------------------------------------------------------------------
# Logistic, entropies, logs

@custom_jvp
def _logit(x):
  return lax.log(lax.div(x, lax.sub(_c(x, 1), x)))


_logit.defjvps(lambda g, ans, x: lax.div(g, lax.mul(x, lax.sub(_c(x, 1), x))))


def logit(x):
  """Implementation of scipy.special.logit: log(x / (1 - x))."""
  (x,) = promote_args_inexact("logit", x)
  return _logit(x)


def expit(x):
  """Implementation of scipy.special.expit: the logistic sigmoid."""
  (x,) = promote_args_inexact("expit", x)
  return lax.logistic(x)


@custom_jvp
def _xlogy(x, y):
  jnp = _jnp()
  ok = (x != 0) | jnp.isnan(y)
  safe_y = jnp.where(ok, y, jnp.ones_like(y))  # no 0 * -inf where the result is masked
  return jnp.where(ok, lax.mul(x, lax.log(safe_y)), jnp.zeros_like(x))


def _xlogy_jvp(primals, tangents):
  (x, y), (xd, yd) = primals, tangents
  out = _xlogy(x, y)
  return out, (xd * lax.log(y) + yd * x / y).astype(out.dtype)


_xlogy.defjvp(_xlogy_jvp)


def xlogy(x, y):
  """Implementation of scipy.special.xlogy: x * log(y), 0 where x == 0."""
  x, y = _promoted("xlogy", x, y)
  return _xlogy(x, y)


@custom_jvp
def _xlog1py(x, y):
  jnp = _jnp()
  ok = (x != 0) | jnp.isnan(y)
  safe_y = jnp.where(ok, y, jnp.zeros_like(y))
  return jnp.where(ok, lax.mul(x, lax.log1p(safe_y)), jnp.zeros_like(x))


def _xlog1py_jvp(primals, tangents):
  (x, y), (xd, yd) = primals, tangents
  out = _xlog1py(x, y)
  return out, (xd * lax.log1p(y) + yd * x / (1 + y)).astype(out.dtype)


_xlog1py.defjvp(_xlog1py_jvp)


def xlog1py(x, y):
  """Implementation of scipy.special.xlog1py: x * log1p(y), 0 where x == 0."""
  x, y = _promoted("xlog1py", x, y)
  return _xlog1py(x, y)


@custom_jvp
def _xlogx(x):
  return _xlogy(x, x)


_xlogx.defjvp(lambda primals, tangents: (_xlogx(primals[0]),
                                         tangents[0] * (lax.log(primals[0]) + 1)))


def entr(x):
  """Implementation of scipy.special.entr: -x log x (0 at 0, -inf for x < 0)."""
  (x,) = _promoted("entr", x, real=True)
  return lax.select(lax.lt(x, _c(x, 0)), lax.full_like(x, -np.inf), lax.neg(_xlogx(x)))


def rel_entr(p, q):
  """Implementation of scipy.special.rel_entr: p log(p / q) with SciPy's conventions."""
  jnp = _jnp()
  p, q = _promoted("rel_entr", p, q, real=True)
  zero = _c(p, 0.0)
  both = lax.bitwise_and(lax.gt(p, zero), lax.gt(q, zero))
  one_zero = lax.bitwise_and(lax.eq(p, zero), lax.ge(q, zero))
  sp_ = jnp.where(both, p, _c(p, 1))
  sq = jnp.where(both, q, _c(q, 1))
  val = lax.sub(_xlogx(sp_), _xlogy(sp_, sq))
  return jnp.where(both, val, jnp.where(one_zero, zero, _c(p, np.inf)))


def kl_div(p, q):
  """Implementation of scipy.special.kl_div: p log(p / q) - p + q."""
  p, q = promote_args_inexact("kl_div", p, q)
  _no_complex("kl_div", p)
  return rel_entr(p, q) - p + q


def boxcox(x, lmbda):
  """Implementation of scipy.special.boxcox."""
  return _boxcox("boxcox", _jnp().log, x, lmbda)


def boxcox1p(x, lmbda):
  """Implementation of scipy.special.boxcox1p."""
  return _boxcox("boxcox1p", _jnp().log1p, x, lmbda)


def _boxcox(name, log, x, lmbda):
  """(exp(lmbda * log(x)) - 1) / lmbda, log(x) where lmbda == 0."""
  jnp = _jnp()
  x, lmbda = promote_args_inexact(name, x, lmbda)
  zero = lmbda == 0
  safe = jnp.where(zero, jnp.ones_like(lmbda), lmbda)
  lx = log(x)
  return jnp.where(zero, lx, jnp.expm1(safe * lx) / safe)


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False, where=None):
  """Implementation of scipy.special.logsumexp: log(sum(b * exp(a))) computed stably (the
  max is subtracted under stop_gradient); `where` masks elements; `return_sign` returns
  (log|sum|, sign) for signed weights b, else negative sums give NaN."""
  jnp = _jnp()
  if where is not None:
    a = jnp.where(where, a, 0)
  if b is not None:
    a, b = promote_args_inexact("logsumexp", a, b)
    a = jnp.where(b != 0, a, _c(a, -np.inf))
  else:
    (a,) = promote_args_inexact("logsumexp", a)
  axes = _reduction_axes(a.ndim, axis)
  real_a = lax.real(a) if a.dtype.kind == "c" else a
  amax = jnp.max(real_a, axis=axes, keepdims=keepdims, where=where, initial=-np.inf)
  amax = lax.stop_gradient(lax.select(jnp.isfinite(amax), amax, lax.full_like(amax, 0)))
  amax_b = amax if keepdims else lax.expand_dims(amax, axes)
  exp_a = lax.exp(jnp.subtract(a, amax_b.astype(a.dtype)))  # broadcasts the kept dims
  if b is not None:
    exp_a = jnp.multiply(exp_a, b)
  sumexp = jnp.sum(exp_a, axis=axes, keepdims=keepdims, where=where)
  sign = lax.sign(sumexp)
  if return_sign or a.dtype.kind != "c":
    sumexp = lax.abs(sumexp)
  out = lax.add(lax.log(sumexp), amax.astype(sumexp.dtype))
  if return_sign:
    return out, sign
  if b is not None and out.dtype.kind != "c":
    out = jnp.where(sign < 0, _c(out, np.nan), out)
  return out


def _reduction_axes(ndim, axis):
  if axis is None:
    return tuple(range(ndim))
  if isinstance(axis, (tuple, list)):
    return tuple(sorted(util.canonicalize_axis(a, ndim) for a in axis))
  return (util.canonicalize_axis(axis, ndim),)


def softmax(x, /, *, axis=None):
  """Implementation of scipy.special.softmax (axis=None: over all elements)."""
  from numjax._src.nn.functions import softmax as nn_softmax
  return nn_softmax(x, axis=axis)


def log_softmax(x, /, *, axis=None):
  """Implementation of scipy.special.log_softmax (axis=None: over all elements)."""
  from numjax._src.nn.functions import log_softmax as nn_log_softmax
  return nn_log_softmax(x, axis=axis)


# ---------------------------------------------------------------------------------------
# Zeta

def _zeta_series(s, q):
  """Hurwitz zeta by Euler-Maclaurin summation (differentiable in s and q): N direct
  terms, the integral tail and M Bernoulli corrections."""
  jnp = _jnp()
  n_terms = 8 if s.dtype == np.float32 else 16
  k = jnp.arange(n_terms, dtype=q.dtype)
  direct = jnp.sum((q[..., None] + k) ** (-s[..., None]), -1)
  qn = q + n_terms
  integral = qn ** (1 - s) / (s - 1)
  tail = qn ** (-s)
  # sum_j B_2j / (2j)! * s (s+1) ... (s+2j-2) / qn^(2j-1)
  corr = jnp.zeros_like(q)
  poch_ = jnp.ones_like(s)
  bern = np.array(bernoulli_numbers_static(2 * n_terms))
  for j in range(1, n_terms + 1):
    if j == 1:
      poch_ = s
    else:
      poch_ = poch_ * (s + 2 * j - 3) * (s + 2 * j - 2)
    coef = bern[2 * j] / math.factorial(2 * j)
    corr = corr + coef * poch_ * qn ** (-s - 2 * j + 1)
  return direct + integral + tail * 0.5 + corr


def bernoulli_numbers_static(n):
  """B_0..B_n (B_1 = +1/2) as floats, by the Akiyama-Tanigawa recurrence in exact
  fractions."""
  from fractions import Fraction
  a = [Fraction(0)] * (n + 1)
  out = []
  for m in range(n + 1):
    a[m] = Fraction(1, m + 1)
    for j in range(m, 0, -1):
      a[j - 1] = j * (a[j - 1] - a[j])
    out.append(float(a[0]))
  return out


@custom_jvp
def _zeta(x, q):
  return lax.zeta(x, q)


def _zeta_jvp(primals, tangents):
  from numjax._src.autodiff import jvp
  (x, q), (xd, qd) = primals, tangents
  out = _zeta(x, q)
  # d/dq exactly; d/dx through the series (no closed form)
  t = qd * (-x) * _zeta(x + 1, q)
  _, tx = jvp(lambda s: _zeta_series(s, q), (x,), (xd,))
  return out, t + tx


_zeta.defjvp(_zeta_jvp)


def zeta(x, q=None):
  """Implementation of scipy.special.zeta (the Hurwitz zeta; q is required)."""
  if q is None:
    raise NotImplementedError("Riemann zeta function not implemented; pass q != None to "
                              "compute the Hurwitz Zeta function.")
  x, q = _promoted("zeta", x, q)
  return _zeta(x, q)


# ---------------------------------------------------------------------------------------
# Bessel functions

def i0e(x):
  """Implementation of scipy.special.i0e: exp(-|x|) I_0(x)."""
  (x,) = promote_args_inexact("i0e", x)
  return lsp.bessel_i0e(x)


def i0(x):
  """Implementation of scipy.special.i0."""
  (x,) = promote_args_inexact("i0", x)
  return lax.mul(lax.exp(lax.abs(x)), lsp.bessel_i0e(x))


def i1e(x):
  """Implementation of scipy.special.i1e: exp(-|x|) I_1(x)."""
  (x,) = promote_args_inexact("i1e", x)
  return lsp.bessel_i1e(x)


def i1(x):
  """Implementation of scipy.special.i1."""
  (x,) = promote_args_inexact("i1", x)
  return lax.mul(lax.exp(lax.abs(x)), lsp.bessel_i1e(x))


def bessel_jn(z, *, v, n_iter=50):
  """Implementation of scipy.special.jn for orders 0..v: an array of shape (v + 1,) +
  z.shape (n_iter is accepted for JAX compatibility; the values are exact)."""
  jnp = _jnp()
  (z,) = promote_args_inexact("bessel_jn", z)
  if dtypes.issubdtype(z.dtype, np.complexfloating):
    raise ValueError("complex input not supported.")
  v = core.concrete_or_error(operator.index, v, "Argument v of bessel_jn.")
  core.concrete_or_error(int, n_iter, "Argument n_iter of bessel_jn.")
  orders = jnp.arange(v + 1, dtype=z.dtype).reshape((v + 1,) + (1,) * z.ndim)
  zz = jnp.broadcast_to(z, (v + 1,) + z.shape)
  return lsp.bessel_jv(jnp.broadcast_to(orders, zz.shape), zz)


# ---------------------------------------------------------------------------------------
# Exponential and related integrals

def expi(x):
  """Implementation of scipy.special.expi: the exponential integral Ei(x)."""
  (x,) = _promoted("expi", x, real=True)
  return lsp.expi(x)


def exp1(x):
  """Implementation of scipy.special.exp1: E_1(x)."""
  (x,) = _promoted("exp1", x, real=True)
  return lsp.exp1(x)


def expn(n, x):
  """Implementation of scipy.special.expn: the generalised exponential integral E_n(x)."""
  n, x = _promoted("expn", n, x, real=True)
  return lsp.expn(n, x)


def spence(x):
  """Implementation of scipy.special.spence: the dilogarithm int_1^x log(t)/(1-t) dt
  (float32/float64)."""
  return lsp.spence(_float_only(x))


def sici(x):
  """Implementation of scipy.special.sici: (Si(x), Ci(x))."""
  (x,) = promote_args_inexact("sici", x)
  if dtypes.issubdtype(x.dtype, np.complexfloating):
    raise ValueError(f"Argument `x` to sici must be real-valued. Got dtype {x.dtype}.")
  return tuple(lsp.sici(x))


def fresnel(x):
  """Implementation of scipy.special.fresnel: (S(x), C(x))."""
  (x,) = _promoted("fresnel", x, real=True)
  return tuple(lsp.fresnel(x))


# ---------------------------------------------------------------------------------------
# Hypergeometric functions, spherical harmonics

def hyp1f1(a, b, x):
  """Implementation of scipy.special.hyp1f1 (differentiable in x)."""
  a, b, x = _promoted("hyp1f1", a, b, x, real=True)
  return lsp.hyp1f1(a, b, x)


def hyp2f1(a, b, c, x):
  """Implementation of scipy.special.hyp2f1 (differentiable in x)."""
  a, b, c, x = _promoted("hyp2f1", a, b, c, x, real=True)
  return lsp.hyp2f1(a, b, c, x)


def sph_harm_y(n, m, theta, phi, diff_n=None, n_max=None):
  """Implementation of scipy.special.sph_harm_y: Y_n^m(theta, phi), theta the polar angle
  (complex64 for float32 angles); n_max is accepted for JAX compatibility."""
  jnp = _jnp()
  if diff_n is not None:
    raise NotImplementedError("The 'diff_n' argument to jax.scipy.special.sph_harm_y is not "
                              "supported.")
  if np.isscalar(theta):
    theta = jnp.array([theta])
  theta, phi = promote_args_inexact("sph_harm_y", theta, phi)
  n = jnp.asarray(n).astype(theta.dtype)
  m = jnp.asarray(m).astype(theta.dtype)
  n, m, theta, phi = util._broadcast_arrays(n, m, theta, phi)
  return lsp.sph_harm_y(n, m, theta, phi)
