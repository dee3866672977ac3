"""numjax.scipy.special and the lax special-function primitives against SciPy: values over
shapes (scalars included), jit parity, vmap against a loop at every batch position, and
check_grads (finite differences) for the differentiable arguments."""
import numpy as np
import pytest
import scipy.special as ss

import numjax
import numjax.numpy as jnp
import numjax.scipy.special as sp
from numjax import lax
from numjax.test_util import check_grads

from records import Rec, make_tests, uniform

POS = uniform(0.2, 4.0)
UNIT = uniform(0.05, 0.95)
REAL = uniform(-3.0, 3.0)
SHAPES = [(), (5,), (2, 3)]


def _r(name, fn, ref, nargs=1, domain=REAL, grad=1, shapes=SHAPES, tol=None, **kw):
  return Rec(name, fn, ref, shapes=shapes, nargs=nargs, domain=domain, grad=grad,
             tol=tol or {"float32": 2e-5}, **kw)


def _ints(lo, hi):
  def make(rng, shape, dtype):
    return rng.integers(lo, hi, shape).astype(dtype)
  return make


RECORDS = [
    _r("gammaln", sp.gammaln, ss.gammaln, domain=POS, grad=2),
    _r("gamma", sp.gamma, ss.gamma, domain=uniform(-2.9, 3.5), tol={"float32": 1e-4}),
    _r("gammasgn", sp.gammasgn, ss.gammasgn, domain=uniform(-4, 4), grad=0),
    _r("loggamma", sp.loggamma, ss.loggamma, domain=POS),
    _r("digamma", sp.digamma, ss.digamma, domain=POS, grad=2, tol={"float32": 1e-4}),
    _r("polygamma", lambda x: sp.polygamma(2, x), lambda x: ss.polygamma(2, x), domain=POS,
       tol={"float32": 1e-4}),
    _r("betaln", sp.betaln, ss.betaln, nargs=2, domain=POS, grad=2),
    _r("beta", sp.beta, ss.beta, nargs=2, domain=POS, tol={"float32": 1e-4}),
    _r("betainc", lambda x: sp.betainc(2.5, 1.5, x), lambda x: ss.betainc(2.5, 1.5, x),
       domain=UNIT),
    _r("gammainc", sp.gammainc, ss.gammainc, nargs=2, domain=POS, tol={"float32": 1e-5}),
    _r("gammaincc", sp.gammaincc, ss.gammaincc, nargs=2, domain=POS),
    _r("factorial", sp.factorial, lambda n: ss.factorial(n, exact=False),
       domain=uniform(0, 6), grad=0, tol={"float32": 1e-4}),
    _r("comb", sp.comb, lambda n, k: ss.comb(n, k), nargs=2,
       domain=[_ints(0, 10), _ints(-1, 8)], grad=0, tol={"float32": 1e-4}),
    _r("poch", sp.poch, ss.poch, nargs=2, domain=POS, tol={"float32": 1e-4}),
    _r("multigammaln", lambda a: sp.multigammaln(a, 3), lambda a: ss.multigammaln(a, 3),
       domain=uniform(1.5, 5), shapes=[(), (4,)]),
    _r("erf", sp.erf, ss.erf, grad=2),
    _r("erfc", sp.erfc, ss.erfc, grad=2),
    _r("erfinv", sp.erfinv, ss.erfinv, domain=uniform(-0.95, 0.95), tol={"float32": 1e-4}),
    _r("erfcx", sp.erfcx, ss.erfcx, tol={"float32": 1e-4}, grad=2),
    _r("dawsn", sp.dawsn, ss.dawsn, grad=2),
    _r("ndtr", sp.ndtr, ss.ndtr, grad=2),
    _r("ndtri", sp.ndtri, ss.ndtri, domain=UNIT, tol={"float32": 1e-4}),
    _r("log_ndtr", sp.log_ndtr, ss.log_ndtr, domain=uniform(-20, 6), tol={"float32": 1e-4}),
    _r("owens_t", sp.owens_t, ss.owens_t, nargs=2),
    _r("logit", sp.logit, ss.logit, domain=uniform(0.2, 0.8), grad=2),
    _r("expit", sp.expit, ss.expit, grad=2),
    _r("xlogy", sp.xlogy, ss.xlogy, nargs=2, domain=[REAL, POS], grad=2),
    _r("xlog1py", sp.xlog1py, ss.xlog1py, nargs=2, domain=[REAL, POS], grad=2),
    _r("entr", sp.entr, ss.entr, domain=uniform(-1, 3), grad=0),
    _r("rel_entr", sp.rel_entr, ss.rel_entr, nargs=2, domain=uniform(-0.5, 3), grad=0),
    _r("kl_div", sp.kl_div, ss.kl_div, nargs=2, domain=uniform(-0.5, 3), grad=0),
    _r("boxcox", sp.boxcox, ss.boxcox, nargs=2, domain=[POS, uniform(-2, 2)],
       tol={"float32": 1e-4}),
    _r("boxcox1p", sp.boxcox1p, ss.boxcox1p, nargs=2, domain=[POS, uniform(-2, 2)],
       tol={"float32": 1e-4}),
    _r("zeta", sp.zeta, ss.zeta, nargs=2, domain=[uniform(1.5, 5), POS],
       tol={"float32": 1e-4}, grad_tol=5e-2),
    _r("i0", sp.i0, ss.i0, grad=2, tol={"float32": 1e-5}),
    _r("i0e", sp.i0e, ss.i0e, grad=2),
    _r("i1", sp.i1, ss.i1, grad=2),
    _r("i1e", sp.i1e, ss.i1e, grad=2),
    _r("expi", sp.expi, ss.expi, tol={"float32": 1e-4}),
    _r("exp1", sp.exp1, ss.exp1, domain=POS, tol={"float32": 1e-4}),
    _r("expn", lambda x: sp.expn(3, x), lambda x: ss.expn(3, x), domain=POS),
    _r("expn_0", lambda x: sp.expn(0, x), lambda x: ss.expn(0, x), domain=POS,
       tol={"float32": 1e-4}),
    _r("spence", sp.spence, ss.spence, domain=POS, tol={"float32": 1e-5}),
    _r("sici", sp.sici, ss.sici, tol={"float32": 1e-5}),
    _r("fresnel", sp.fresnel, ss.fresnel, tol={"float32": 1e-5}),
    _r("hyp1f1", lambda x: sp.hyp1f1(1.5, 2.5, x), lambda x: ss.hyp1f1(1.5, 2.5, x),
       tol={"float32": 1e-4}),
    _r("hyp2f1", lambda x: sp.hyp2f1(1.5, 0.5, 2.5, x), lambda x: ss.hyp2f1(1.5, 0.5, 2.5, x),
       domain=uniform(-0.9, 0.9), tol={"float32": 1e-4}),
    _r("bessel_jn", lambda z: sp.bessel_jn(z, v=3),
       lambda z: ss.jv(np.arange(4).reshape((4,) + (1,) * np.ndim(z)), z), grad=1,
       tol={"float32": 1e-5}),
    _r("logsumexp", lambda x: sp.logsumexp(x, axis=-1), lambda x: ss.logsumexp(x, axis=-1),
       shapes=[(5,), (2, 3)], grad=2),
    _r("logsumexp_b", lambda x, b: sp.logsumexp(x, b=b), lambda x, b: ss.logsumexp(x, b=b),
       nargs=2, shapes=[(5,), (2, 3)], domain=[REAL, POS], grad=1),
    _r("softmax", lambda x: sp.softmax(x, axis=-1), lambda x: ss.softmax(x, axis=-1),
       shapes=[(5,), (2, 3)], grad=2),
    _r("softmax_all", sp.softmax, ss.softmax, shapes=[(2, 3)], grad=1),
    _r("log_softmax", lambda x: sp.log_softmax(x, axis=0),
       lambda x: ss.log_softmax(x, axis=0), shapes=[(5,), (2, 3)], grad=1),
]

test_numpy, test_jit, test_vmap, test_grad = make_tests(RECORDS)


def test_wofz():
  z = np.array([0.5 + 1j, -1 + 0.3j, 2 + 2j, -0.2 - 0.7j], np.complex64)
  np.testing.assert_allclose(sp.wofz(z), ss.wofz(z.astype(complex)), rtol=1e-5, atol=1e-6)
  assert sp.wofz(z).dtype == np.complex64
  assert sp.wofz(np.float32(0.5)).dtype == np.complex64
  # w'(z) = -2 z w(z) + 2i/sqrt(pi), through jvp
  t = numjax.jvp(sp.wofz, (z,), (np.ones_like(z),))[1]
  ref = -2 * z * ss.wofz(z.astype(complex)) + 2j / np.sqrt(np.pi)
  np.testing.assert_allclose(t, ref, rtol=1e-4, atol=1e-5)


def test_sph_harm_y():
  n = np.array([2, 3, 1, 4, 0])
  m = np.array([1, -2, 0, 3, 0])
  rng = np.random.default_rng(0)
  th = rng.uniform(0.1, 3, 5).astype(np.float32)
  ph = rng.uniform(0, 6, 5).astype(np.float32)
  out = sp.sph_harm_y(n, m, th, ph, n_max=4)
  assert out.dtype == np.complex64
  np.testing.assert_allclose(out, ss.sph_harm_y(n, m, th.astype(float), ph.astype(float)),
                             rtol=1e-4, atol=1e-5)
  # derivatives in both angles against central differences of SciPy
  eps = 1e-4
  for which in (2, 3):
    f = lambda t: jnp.sum(jnp.real(sp.sph_harm_y(n, m, t, ph)) + jnp.imag(
        sp.sph_harm_y(n, m, t, ph))) if which == 2 else jnp.sum(
        jnp.real(sp.sph_harm_y(n, m, th, t)) + jnp.imag(sp.sph_harm_y(n, m, th, t)))
    arg = th if which == 2 else ph
    g = numjax.grad(f)(arg)
    def s(a):
      y = ss.sph_harm_y(n, m, a, ph.astype(float)) if which == 2 else \
          ss.sph_harm_y(n, m, th.astype(float), a)
      return y.real + y.imag
    fd = (s(arg.astype(float) + eps) - s(arg.astype(float) - eps)) / (2 * eps)
    np.testing.assert_allclose(g, fd, rtol=1e-3, atol=1e-3)


def test_bernoulli():
  np.testing.assert_allclose(sp.bernoulli(12), ss.bernoulli(12), rtol=1e-6, atol=1e-7)
  np.testing.assert_allclose(sp.bernoulli(1), ss.bernoulli(1))
  with pytest.raises(ValueError, match="non-negative"):
    sp.bernoulli(-1)


def test_logsumexp_options():
  rng = np.random.default_rng(1)
  x = rng.standard_normal((3, 4)).astype(np.float32)
  b = rng.standard_normal((3, 4)).astype(np.float32)
  out, sign = sp.logsumexp(x, axis=1, b=b, return_sign=True)
  ro, rs = ss.logsumexp(x, axis=1, b=b, return_sign=True)
  np.testing.assert_allclose(out, ro, rtol=1e-5)
  np.testing.assert_array_equal(sign, rs)
  # negative sums without return_sign are NaN (as SciPy and JAX)
  assert np.array_equal(np.isnan(sp.logsumexp(x, axis=1, b=b)), rs < 0)
  mask = x > 0
  np.testing.assert_allclose(sp.logsumexp(x, axis=1, where=mask),
                             np.log(np.sum(np.where(mask, np.exp(x), 0), 1)), rtol=1e-5)
  assert sp.logsumexp(np.array([-np.inf, -np.inf], np.float32)) == -np.inf
  assert sp.logsumexp(np.array([np.inf, 1.0], np.float32)) == np.inf
  assert sp.logsumexp(np.arange(3)).dtype == np.float32


def test_lax_special_primitives():
  a = np.array([0.5, 2.0, 5.0], np.float32)
  x = np.array([0.3, 1.5, 7.0], np.float32)
  np.testing.assert_allclose(lax.igamma(a, x), ss.gammainc(a, x), rtol=1e-6)
  np.testing.assert_allclose(lax.igammac(a, x), ss.gammaincc(a, x), rtol=1e-5)
  h = 1e-4
  fd = (ss.gammainc(a.astype(float) + h, x) - ss.gammainc(a.astype(float) - h, x)) / (2 * h)
  np.testing.assert_allclose(lax.igamma_grad_a(a, x), fd, rtol=1e-4)
  np.testing.assert_allclose(lax.betainc(a, a[::-1], x / 8), ss.betainc(a, a[::-1], x / 8),
                             rtol=1e-5)
  np.testing.assert_allclose(lax.bessel_i0e(x), ss.i0e(x), rtol=1e-6)
  np.testing.assert_allclose(lax.bessel_i1e(x), ss.i1e(x), rtol=1e-6)
  # derivative of gammainc in a (through igamma_grad_a) and of betainc in x
  check_grads(lambda a: lax.igamma(a, x), (a,), order=1, modes=("fwd", "rev"), atol=2e-2,
              rtol=2e-2)
  check_grads(lambda x: lax.betainc(a, a[::-1], x), (x / 8,), order=2, modes=("fwd", "rev"),
              atol=2e-2, rtol=2e-2)
  np.testing.assert_allclose(numjax.grad(lambda x: lax.bessel_i1e(x))(np.float32(0)), 0.5)
  with pytest.raises(TypeError, match="igamma does not accept dtype int32"):
    lax.igamma(np.int32(1), np.int32(2))
  with pytest.raises(TypeError, match="same dtypes"):
    lax.igamma(np.float32(1), np.float16(2))


def test_unsupported_derivatives_raise():
  with pytest.raises(ValueError, match="Betainc gradient with respect to a and b"):
    numjax.grad(lambda a: sp.betainc(a, 2.0, 0.3))(1.5)
  with pytest.raises(NotImplementedError, match="Second derivatives"):
    numjax.grad(numjax.grad(lambda a: sp.hyp1f1(a, 2.0, 0.3)))(1.5)


def test_hypergeometric_parameter_derivatives():
  # the series for d/da, d/db (Kummer-transformed for x < 0) against SciPy differences
  a = np.array([0.5, 1.5, 2.0, 3.2])
  b = np.array([1.5, 2.5, 0.7, 4.0])
  c = np.array([2.5, 3.0, 1.7, 4.0])
  x1 = np.array([-3.0, 0.4, 2.5, -0.8])
  x2 = np.array([-0.7, 0.4, 0.9, -0.2])
  h = 1e-6
  for fn, sfn, args in ((sp.hyp1f1, ss.hyp1f1, (a, b, x1)), (sp.hyp2f1, ss.hyp2f1,
                                                              (a, b, c, x2))):
    for i in range(len(args)):
      g = numjax.grad(lambda *xs: jnp.sum(fn(*xs)), argnums=i)(
          *(np.asarray(v, np.float32) for v in args))
      up = [v.copy() for v in args]
      dn = [v.copy() for v in args]
      up[i] += h
      dn[i] -= h
      np.testing.assert_allclose(g, (sfn(*up) - sfn(*dn)) / (2 * h), rtol=1e-4, atol=1e-5)


def test_errors_and_dtypes():
  with pytest.raises(TypeError, match="is not supported"):
    sp.ndtr(np.int32(1))
  with pytest.raises(ValueError, match="must be of integer type"):
    sp.polygamma(1.0, 2.0)
  with pytest.raises(NotImplementedError, match="Riemann zeta"):
    sp.zeta(2.0)
  with pytest.raises(ValueError, match="does not support complex"):
    sp.entr(np.complex64(1))
  assert sp.gammaln(3).dtype == np.float32
  assert sp.erf(np.float16(0.3)).dtype == np.float16
  assert sp.expit(2).weak_type
