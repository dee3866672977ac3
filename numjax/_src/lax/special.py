"""Special-function primitives: JAX's lax family (igamma, igammac, igamma_grad_a,
regularized_incomplete_beta, bessel_i0e, bessel_i1e) and the elementwise special functions
that jax.scipy.special needs beyond them (exponential integrals, Spence, Dawson, erfcx,
ndtri, log_ndtr, Owen's T, hypergeometric 1F1/2F1, Bessel J_v, Faddeeva, Fresnel, sine/cosine
integrals, spherical harmonics).

Each is a table row: name, a SciPy kernel (imported on first use, evaluated in float64 and
rounded to the operand dtype), arity, number of results, and its derivatives, written in
primitives so that they differentiate again. All are elementwise (operands of equal shape,
or rank 0) and NumPy tier only: the native tier has no C kernels for them.
"""
from __future__ import annotations

import math

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.core import Primitive, ShapedArray
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters.ad import Zero
from numjax._src.lax import lax as _lax
from numjax._src.lax.lax import (add, div, exp, log, log1p, lgamma, digamma, mul, neg, sub,
                                 select, sign, abs as _abs, _const)
from numjax._src.lax.reductions import checked_eager

_f64 = np.dtype(np.float64)
_c128 = np.dtype(np.complex128)


def _sp():
  import scipy.special as sp  # first use only: keeps `import numjax` fast
  return sp


# ---------------------------------------------------------------------------------------
# Kernels: SciPy in double precision

def _igamma_grad_a(a, x):
  """d/da of the regularised lower incomplete gamma P(a, x): Richardson-extrapolated
  central differences of SciPy's gammainc in float64 (error O(h^4))."""
  sp = _sp()
  h = np.maximum(1e-3 * np.abs(a), 1e-5)
  h = np.minimum(h, 0.5 * np.abs(a)) + (a == 0) * 1e-5

  def d(h):
    return (sp.gammainc(a + h, x) - sp.gammainc(a - h, x)) / (2 * h)
  return (4 * d(h / 2) - d(h)) / 3


def _kernel(fn_name, complex_out=False):
  def k(*args):
    dt = args[0].dtype
    wide = [np.asarray(a, _c128 if a.dtype.kind == "c" else _f64) for a in args]
    with np.errstate(all="ignore"):
      if callable(fn_name):
        out = fn_name(*wide)
      else:
        out = getattr(_sp(), fn_name)(*wide)
    outs = out if isinstance(out, tuple) else (out,)
    odt = dt
    if complex_out and dt.kind != "c":
      odt = np.dtype(np.complex64) if dt in (np.float32, np.float16) or dt in _lax._lowp \
          else _c128
    res = tuple(np.asarray(o).astype(odt if complex_out else dt) for o in outs)
    return res if isinstance(out, tuple) else res[0]
  return k


def _sph_harm_y(n, m, theta, phi):
  sp = _sp()
  n_i, m_i = np.asarray(n).astype(np.int64), np.asarray(m).astype(np.int64)
  valid = (np.abs(m_i) <= n_i) & (n_i >= 0)
  out = sp.sph_harm_y(np.where(valid, n_i, 0), np.where(valid, m_i, 0), theta, phi)
  return np.where(valid, out, 0)


def _expn(n, x):
  return _sp().expn(np.asarray(n).astype(np.int64), x)


def _jv(v, z):
  return _sp().jv(v, z)


# ---------------------------------------------------------------------------------------
# The primitive maker: elementwise over operands of equal shape (rank 0 broadcasts)

_REAL = "real"
_CPLX = "complex"


def _make(name, kernel, nargs, *, nout=1, kind=_REAL, complex_out=False):
  p = Primitive(name)
  p.multiple_results = nout > 1
  p.impl = kernel
  p.elementwise = True
  p.numpy_tier_only = True  # SciPy kernels; no C template

  def abstract_eval(*avals):
    dts = [a.dtype for a in avals]
    if len(set(dts)) > 1:
      raise TypeError(f"{name} requires arguments to have the same dtypes, got "
                      f"{', '.join(str(d) for d in dts)}.")
    ok = (_dtypes.issubdtype(dts[0], np.floating) if kind == _REAL
          else _dtypes.issubdtype(dts[0], np.complexfloating))
    if not ok:
      acc = "floating" if kind == _REAL else "complexfloating"
      raise TypeError(f"{name} does not accept dtype {dts[0]}. Accepted dtypes are subtypes "
                      f"of {acc}.")
    shape = _lax._broadcasting_shape(name, [a.shape for a in avals])
    dt = dts[0]
    if complex_out:
      dt = np.dtype(np.complex64) if dt in (np.float32, np.float16) else _c128
    weak = all(a.weak_type for a in avals)
    out = ShapedArray(shape, dt, weak)
    return [out] * nout if nout > 1 else out
  p.abstract_eval = abstract_eval
  batching.broadcast_batcher(p)
  checked_eager(p)
  return p


igamma_p = _make("igamma", _kernel("gammainc"), 2)
igammac_p = _make("igammac", _kernel("gammaincc"), 2)
igamma_grad_a_p = _make("igamma_grad_a", _kernel(_igamma_grad_a), 2)
regularized_incomplete_beta_p = _make("regularized_incomplete_beta", _kernel("betainc"), 3)
bessel_i0e_p = _make("bessel_i0e", _kernel("i0e"), 1)
bessel_i1e_p = _make("bessel_i1e", _kernel("i1e"), 1)
# numjax extensions (JAX computes these with series in jnp; SciPy's kernels are exact here)
expi_p = _make("expi", _kernel("expi"), 1)
exp1_p = _make("exp1", _kernel("exp1"), 1)
expn_p = _make("expn", _kernel(_expn), 2)
spence_p = _make("spence", _kernel("spence"), 1)
dawsn_p = _make("dawsn", _kernel("dawsn"), 1)
erfcx_p = _make("erfcx", _kernel("erfcx"), 1)
ndtri_p = _make("ndtri", _kernel("ndtri"), 1)
log_ndtr_p = _make("log_ndtr", _kernel("log_ndtr"), 1)
owens_t_p = _make("owens_t", _kernel("owens_t"), 2)
hyp1f1_p = _make("hyp1f1", _kernel("hyp1f1"), 3)
hyp2f1_p = _make("hyp2f1", _kernel("hyp2f1"), 4)
bessel_jv_p = _make("bessel_jv", _kernel(_jv), 2)
wofz_p = _make("wofz", _kernel("wofz"), 1, kind=_CPLX)
fresnel_p = _make("fresnel", _kernel("fresnel"), 1, nout=2)
sici_p = _make("sici", _kernel("sici"), 1, nout=2)
sph_harm_y_p = _make("sph_harm_y", _kernel(_sph_harm_y, complex_out=True), 4,
                     complex_out=True)


# Parameter derivatives of the hypergeometric series sum_k prod(p)_k / prod(q)_k x^k / k!:
# d/dp_i = sum_k t_k (psi(p_i + k) - psi(p_i)), d/dq_j = -sum_k t_k (psi(q_j + k) - psi(q_j)),
# summed term by term (vectorised over elements) until the terms stop contributing.

def _hyp_series_dparams(ps, qs, x, max_terms=5000):
  t = np.ones(np.broadcast(*ps, *qs, x).shape)
  harm_p = [np.zeros_like(t) for _ in ps]
  harm_q = [np.zeros_like(t) for _ in qs]
  dp = [np.zeros_like(t) for _ in ps]
  dq = [np.zeros_like(t) for _ in qs]
  total = np.ones_like(t)
  active = np.ones(t.shape, bool)
  with np.errstate(all="ignore"):
    for k in range(max_terms):
      ratio = x / (k + 1)
      for p in ps:
        ratio = ratio * (p + k)
      for q in qs:
        ratio = ratio / (q + k)
      for h, p in zip(harm_p, ps):
        h += 1 / (p + k)
      for h, q in zip(harm_q, qs):
        h += 1 / (q + k)
      t = t * ratio
      contrib = 0
      for d, h in zip(dp, harm_p):
        d += np.where(active, t * h, 0)
        contrib = np.maximum(contrib, np.abs(t * h))
      for d, h in zip(dq, harm_q):
        d -= np.where(active, t * h, 0)
        contrib = np.maximum(contrib, np.abs(t * h))
      total += np.where(active, t, 0)
      scale = np.maximum.reduce([np.abs(d) for d in dp + dq] + [np.abs(total)])
      active &= ~((contrib <= 1e-17 * scale) | (t == 0) | ~np.isfinite(t))
      if not active.any():
        break
  return dp, dq


def _hyp1f1_grad_ab(a, b, x):
  """(d/da, d/db) of 1F1(a; b; x); for x < 0 through Kummer's transformation
  1F1(a; b; x) = e^x 1F1(b - a; b; -x), which keeps the series free of cancellation."""
  neg = x < 0
  a2, x2 = np.where(neg, b - a, a), np.abs(x)
  (da2,), (db2,) = _hyp_series_dparams([a2], [b], x2)
  ex = np.exp(x)
  da = np.where(neg, -ex * da2, da2)
  db = np.where(neg, ex * (da2 + db2), db2)
  return da, db


def _hyp2f1_grad_abc(a, b, c, x):
  """(d/da, d/db, d/dc) of 2F1(a, b; c; x) by the series (|x| < 1)."""
  (da, db), (dc,) = _hyp_series_dparams([a, b], [c], x)
  bad = np.abs(x) >= 1
  return tuple(np.where(bad, np.nan, d) for d in (da, db, dc))


hyp1f1_grad_ab_p = _make("hyp1f1_grad_ab", _kernel(_hyp1f1_grad_ab), 3, nout=2)
hyp2f1_grad_abc_p = _make("hyp2f1_grad_abc", _kernel(_hyp2f1_grad_abc), 4, nout=3)


# ---------------------------------------------------------------------------------------
# Wrappers (lax-style: operands share a dtype; Python scalars take it)

def _binder(p):
  def f(*args):
    args = _lax._promote_lax_args(args)
    if len({a.dtype for a in args}) > 1:
      _lax._check_same_dtypes(p.name, args)
    return p.bind(*args)
  f.__name__ = p.name
  f.__doc__ = f"lax.{p.name}: elementwise (operands share a floating dtype)."
  return f


igamma = _binder(igamma_p)
igammac = _binder(igammac_p)
igamma_grad_a = _binder(igamma_grad_a_p)
bessel_i0e = _binder(bessel_i0e_p)
bessel_i1e = _binder(bessel_i1e_p)
expi = _binder(expi_p)
exp1 = _binder(exp1_p)
expn = _binder(expn_p)
spence = _binder(spence_p)
dawsn = _binder(dawsn_p)
erfcx = _binder(erfcx_p)
ndtri = _binder(ndtri_p)
log_ndtr = _binder(log_ndtr_p)
owens_t = _binder(owens_t_p)
hyp1f1 = _binder(hyp1f1_p)
hyp2f1 = _binder(hyp2f1_p)
bessel_jv = _binder(bessel_jv_p)
wofz = _binder(wofz_p)
fresnel = _binder(fresnel_p)
sici = _binder(sici_p)
sph_harm_y = _binder(sph_harm_y_p)


def betainc(a, b, x):
  """lax.betainc: the regularised incomplete beta function I_x(a, b)."""
  a, b, x = _lax._promote_lax_args((a, b, x))
  if len({a.dtype, b.dtype, x.dtype}) > 1:
    _lax._check_same_dtypes("betainc", (a, b, x))
  return regularized_incomplete_beta_p.bind(a, b, x)


# ---------------------------------------------------------------------------------------
# Derivatives (as JAX where JAX defines them)

def _one(x):
  return _lax.full_like(x, 1)


def _bcast(g, like):
  """A rank-0 tangent broadcast to the output (operands may mix rank 0 and arrays)."""
  return _lax._bcast_tangent(g, core.get_aval(like))


def _igamma_gradx(g, a, x):
  # the gamma density x^(a-1) e^-x / Gamma(a)
  return mul(g, exp(sub(mul(sub(a, _one(a)), log(x)), add(x, lgamma(a)))))


def _igamma_grada(g, a, x):
  return mul(g, igamma_grad_a(a, x))


ad.defjvp(igamma_p, _igamma_grada, _igamma_gradx)
ad.defjvp(igammac_p, lambda g, a, x: neg(_igamma_grada(g, a, x)),
          lambda g, a, x: neg(_igamma_gradx(g, a, x)))


def _igamma_grad_a_jvp_a(g, a, x):
  raise NotImplementedError("The second derivative of igamma with respect to a is not "
                            "supported (as in JAX): differentiate in x instead.")


# d/dx [dP/da] = d/da [density] = density * (log x - digamma(a))
ad.defjvp(igamma_grad_a_p, _igamma_grad_a_jvp_a,
          lambda g, a, x: mul(_igamma_gradx(g, a, x), sub(log(x), digamma(a))))


def _betainc_grad_ab(g, a, b, x):
  raise ValueError("Betainc gradient with respect to a and b not supported.")


def _betainc_gradx(g, a, b, x):
  lbeta = sub(add(lgamma(a), lgamma(b)), lgamma(add(a, b)))
  return mul(g, exp(sub(add(mul(sub(b, _one(b)), log1p(neg(x))),
                            mul(sub(a, _one(a)), log(x))), lbeta)))


ad.defjvp(regularized_incomplete_beta_p, _betainc_grad_ab, _betainc_grad_ab, _betainc_gradx)
ad.defjvp2(bessel_i0e_p, lambda g, y, x: mul(g, sub(bessel_i1e(x), mul(sign(x), y))))


def _bessel_i1e_jvp(g, y, x):
  eps = float(_dtypes.finfo(x.dtype).eps)
  big = _lax.gt(_abs(x), _const(x, eps))
  safe = select(big, x, _lax.full_like(x, eps))
  d = sub(bessel_i0e(safe), mul(y, add(sign(safe), div(_one(safe), safe))))
  return mul(g, select(big, d, _lax.full_like(x, 0.5)))


ad.defjvp2(bessel_i1e_p, _bessel_i1e_jvp)
ad.defjvp(expi_p, lambda g, x: mul(g, div(exp(x), x)))
ad.defjvp(exp1_p, lambda g, x: mul(g, neg(div(exp(neg(x)), x))))


def _expn_jvp_n(g, n, x):
  raise ValueError("expn gradient with respect to n is not supported (n is an order).")


# d/dx E_n(x) = -E_{n-1}(x); for n = 0, E_{-1}(x) = e^-x (1/x + 1/x^2)
def _expn_jvp_x(g, n, x):
  e0 = div(exp(neg(x)), x)
  em1 = mul(e0, add(_one(x), div(_one(x), x)))
  prev = expn(_lax.max(sub(n, _one(n)), _lax.full_like(n, 0)), x)
  return mul(g, neg(select(_lax.eq(n, _lax.full_like(n, 0)), em1, prev)))


ad.defjvp(expn_p, _expn_jvp_n, _expn_jvp_x)
# SciPy's spence(z) = int_1^z log(t) / (1 - t) dt
ad.defjvp(spence_p, lambda g, x: mul(g, div(log(x), sub(_one(x), x))))
ad.defjvp2(dawsn_p, lambda g, y, x: mul(g, sub(_one(x), mul(_const(x, 2), mul(x, y)))))
ad.defjvp2(erfcx_p, lambda g, y, x: mul(g, sub(mul(_const(x, 2), mul(x, y)),
                                               _const(x, 2 / math.sqrt(math.pi)))))
ad.defjvp2(ndtri_p, lambda g, y, p: mul(g, mul(_const(p, math.sqrt(2 * math.pi)),
                                               exp(mul(_const(p, 0.5), mul(y, y))))))
ad.defjvp2(log_ndtr_p, lambda g, y, x: mul(g, mul(_const(x, 1 / math.sqrt(2 * math.pi)),
                                                  exp(sub(mul(_const(x, -0.5), mul(x, x)),
                                                          y)))))


def _owens_t_dh(g, h, a):
  # dT/dh = -phi(h) erf(a h / sqrt 2) / 2
  phi = mul(_const(h, 1 / math.sqrt(2 * math.pi)), exp(mul(_const(h, -0.5), mul(h, h))))
  return mul(g, mul(_const(h, -0.5), mul(phi, _lax.erf(mul(_const(h, 1 / math.sqrt(2)),
                                                           mul(a, h))))))


def _owens_t_da(g, h, a):
  # dT/da = exp(-h^2 (1 + a^2) / 2) / (2 pi (1 + a^2))
  q = add(_one(a), mul(a, a))
  return mul(g, div(exp(mul(_const(h, -0.5), mul(mul(h, h), q))),
                    mul(_const(a, 2 * math.pi), q)))


ad.defjvp(owens_t_p, _owens_t_dh, _owens_t_da)


def _order_grad(name):
  def rule(g, *args):
    raise ValueError(f"{name} gradient with respect to its parameters is not supported "
                     "(only with respect to x).")
  return rule


ad.defjvp(hyp1f1_p,
          lambda g, a, b, x: mul(g, hyp1f1_grad_ab_p.bind(a, b, x)[0]),
          lambda g, a, b, x: mul(g, hyp1f1_grad_ab_p.bind(a, b, x)[1]),
          lambda g, a, b, x: mul(g, mul(div(a, b), hyp1f1(add(a, _one(a)), add(b, _one(b)),
                                                          x))))
ad.defjvp(hyp2f1_p,
          lambda g, a, b, c, x: mul(g, hyp2f1_grad_abc_p.bind(a, b, c, x)[0]),
          lambda g, a, b, c, x: mul(g, hyp2f1_grad_abc_p.bind(a, b, c, x)[1]),
          lambda g, a, b, c, x: mul(g, hyp2f1_grad_abc_p.bind(a, b, c, x)[2]),
          lambda g, a, b, c, x: mul(g, mul(div(mul(a, b), c),
                                           hyp2f1(add(a, _one(a)), add(b, _one(b)),
                                                  add(c, _one(c)), x))))


def _no_second_param_derivative(primals, tangents):
  raise NotImplementedError("Second derivatives of hyp1f1/hyp2f1 involving their parameters "
                            "are not supported.")


ad.primitive_jvps[hyp1f1_grad_ab_p] = _no_second_param_derivative
ad.primitive_jvps[hyp2f1_grad_abc_p] = _no_second_param_derivative
# J_v'(z) = (J_{v-1}(z) - J_{v+1}(z)) / 2
ad.defjvp(bessel_jv_p, _order_grad("bessel_jv"),
          lambda g, v, z: mul(g, mul(_const(z, 0.5), sub(bessel_jv(sub(v, _one(v)), z),
                                                         bessel_jv(add(v, _one(v)), z)))))
# w'(z) = -2 z w(z) + 2i / sqrt(pi)
ad.defjvp2(wofz_p, lambda g, y, z: mul(g, add(mul(_const(z, -2), mul(z, y)),
                                              _const(z, 2j / math.sqrt(math.pi)))))


def _fresnel_jvp(primals, tangents):
  (x,), (t,) = primals, tangents
  s, c = fresnel_p.bind(x)
  if type(t) is Zero:
    return [s, c], [Zero.from_primal_value(s), Zero.from_primal_value(c)]
  arg = mul(_const(x, math.pi / 2), mul(x, x))
  return [s, c], [mul(t, _lax.sin(arg)), mul(t, _lax.cos(arg))]


def _sici_jvp(primals, tangents):
  (x,), (t,) = primals, tangents
  si, ci = sici_p.bind(x)
  if type(t) is Zero:
    return [si, ci], [Zero.from_primal_value(si), Zero.from_primal_value(ci)]
  nz = _lax.ne(x, _lax.full_like(x, 0))
  safe = select(nz, x, _one(x))
  dsi = select(nz, div(_lax.sin(safe), safe), _one(x))   # sinc at 0 is 1
  return [si, ci], [mul(t, dsi), mul(t, div(_lax.cos(x), x))]


ad.primitive_jvps[fresnel_p] = _fresnel_jvp
ad.primitive_jvps[sici_p] = _sici_jvp


def _sph_harm_dtheta(g, n, m, theta, phi):
  # dY/dtheta = m cot(theta) Y_n^m + sqrt((n - m)(n + m + 1)) e^{-i phi} Y_n^{m+1}
  y = sph_harm_y(n, m, theta, phi)
  cdt = core.get_aval(y).dtype
  c = lambda v: _lax.convert_element_type(v, cdt)
  cot = div(_lax.cos(theta), _lax.sin(theta))
  k = _lax.sqrt(_lax.max(mul(sub(n, m), add(add(n, m), _one(n))), _lax.full_like(n, 0)))
  up = sph_harm_y(n, add(m, _one(m)), theta, phi)
  rot = exp(mul(c(phi), _const(y, -1j)))
  d = add(mul(c(mul(m, cot)), y), mul(c(k), mul(rot, up)))
  return mul(c(g), d)


def _sph_harm_dphi(g, n, m, theta, phi):
  # dY/dphi = i m Y
  y = sph_harm_y(n, m, theta, phi)
  cdt = core.get_aval(y).dtype
  return mul(_lax.convert_element_type(mul(g, m), cdt), mul(_const(y, 1j), y))


ad.defjvp(sph_harm_y_p, _order_grad("sph_harm_y"), _order_grad("sph_harm_y"),
          _sph_harm_dtheta, _sph_harm_dphi)

del _bcast
