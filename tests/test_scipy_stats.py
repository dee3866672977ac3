"""numjax.scipy.stats against scipy.stats: every distribution function over parameter
broadcasting, jit parity, vmap against a loop and check_grads; mode, rankdata, sem and
gaussian_kde."""
import numpy as np
import pytest
import scipy.stats as ss

import numjax
import numjax.numpy as jnp
import numjax.scipy.stats as st
from numjax.test_util import check_grads

from records import Rec, make_tests, uniform

REAL = uniform(-3, 3)
POS = uniform(0.2, 4)
UNIT = uniform(0.05, 0.95)
Q = uniform(0.15, 0.85)  # quantiles: derivatives blow up at 0 and 1


def _ints(lo, hi):
  def make(rng, shape, dtype):
    return rng.integers(lo, hi, shape).astype(dtype)
  return make


def _recs(dist, fns, params, domain, grad=1, shapes=((6,), ()), tol=None, sdist=None,
          grad_tol=None):
  """Records for dist.fn(x, *params) against scipy.stats.<dist>.fn (params are constants
  broadcast against x; x of each shape)."""
  out = []
  sd = getattr(ss, sdist or dist)
  for fn in fns:
    out.append(Rec(f"{dist}.{fn}", lambda x, fn=fn: getattr(getattr(st, dist), fn)(x, *params),
                   lambda x, fn=fn: getattr(sd, fn)(x.astype(np.float64), *params),
                   shapes=list(shapes), domain=domain, grad=grad,
                   tol=tol or {"float32": 2e-4}, grad_tol=grad_tol))
  return out


C4 = ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")
RECORDS = (
    _recs("norm", C4, (0.5, 1.5), REAL)
    + _recs("norm", ("ppf", "isf"), (0.5, 1.5), Q)
    + _recs("beta", C4, (2.0, 3.0), UNIT)
    + _recs("gamma", C4, (2.5,), POS)
    + _recs("chi2", C4, (3.0,), POS)
    + _recs("t", ("logpdf", "pdf"), (3.5, 0.2, 1.2), REAL)
    + _recs("cauchy", C4, (0.3, 2.0), REAL)
    + _recs("cauchy", ("ppf", "isf"), (0.3, 2.0), Q)
    + _recs("laplace", ("logpdf", "pdf", "cdf"), (0.3, 2.0), REAL)
    + _recs("logistic", ("logpdf", "pdf", "cdf", "sf"), (0.3, 2.0), REAL)
    + _recs("logistic", ("ppf", "isf"), (0.3, 2.0), Q)
    + _recs("expon", C4, (0.1, 1.5), POS)
    + _recs("expon", ("ppf",), (0.1, 1.5), Q)
    + _recs("uniform", ("logpdf", "pdf", "cdf"), (-1.0, 3.0), REAL, grad=0)
    + _recs("uniform", ("ppf",), (-1.0, 3.0), Q)
    + _recs("pareto", C4, (2.5,), uniform(1.1, 5))
    + _recs("pareto", ("ppf",), (2.5,), Q)
    + _recs("truncnorm", C4, (-1.0, 1.5), uniform(-0.9, 1.4), tol={"float32": 5e-4})
    + _recs("vonmises", ("logpdf", "pdf"), (2.0,), REAL)
    + _recs("wrapcauchy", ("logpdf", "pdf"), (0.4,), uniform(0.1, 6))
    + _recs("gennorm", ("logpdf", "pdf", "cdf"), (1.5,), REAL)
    + _recs("gumbel_r", C4, (0.2, 1.3), REAL)
    + _recs("gumbel_r", ("ppf",), (0.2, 1.3), Q)
    + _recs("gumbel_l", C4, (0.2, 1.3), REAL)
    + _recs("gumbel_l", ("ppf",), (0.2, 1.3), Q)
)
# discrete: values at integers (derivatives in the parameters below)
for dist, params, dom in (("poisson", (3.0,), _ints(-1, 9)),
                          ("binom", (10, 0.3), _ints(-1, 12)),
                          ("geom", (0.3,), _ints(0, 9)),
                          ("nbinom", (4, 0.4), _ints(-1, 9)),
                          ("betabinom", (10, 2.0, 3.0), _ints(-1, 12)),
                          ("bernoulli", (0.3,), _ints(-1, 3))):
  for fn in ("logpmf", "pmf"):
    RECORDS += _recs(dist, (fn,), params, dom, grad=0)
RECORDS += _recs("poisson", ("cdf",), (3.0,), _ints(-1, 9), grad=0)
RECORDS += _recs("bernoulli", ("cdf",), (0.3,), uniform(-1, 2), grad=0)
RECORDS += _recs("bernoulli", ("ppf",), (0.3,), Q, grad=0)
# parameters as the differentiated (and vmapped) arguments
RECORDS += [
    Rec("norm.logpdf(loc, scale)", lambda m, s: st.norm.logpdf(0.7, m, s),
        lambda m, s: ss.norm.logpdf(0.7, m, s), shapes=[(5,)], nargs=2,
        domain=[REAL, POS], grad=2),
    Rec("gamma.logpdf(a)", lambda a: st.gamma.logpdf(1.3, a), lambda a: ss.gamma.logpdf(1.3, a),
        shapes=[(5,)], domain=POS, grad=2),
    Rec("gamma.cdf(a)", lambda a: st.gamma.cdf(1.3, a), lambda a: ss.gamma.cdf(1.3, a),
        shapes=[(5,)], domain=POS, grad=1),
    Rec("beta.logpdf(a, b)", lambda a, b: st.beta.logpdf(0.3, a, b),
        lambda a, b: ss.beta.logpdf(0.3, a, b), shapes=[(5,)], nargs=2, domain=POS, grad=2),
    Rec("t.logpdf(df)", lambda d: st.t.logpdf(0.4, d), lambda d: ss.t.logpdf(0.4, d),
        shapes=[(5,)], domain=POS, grad=2),
    Rec("poisson.logpmf(mu)", lambda mu: st.poisson.logpmf(3.0, mu),
        lambda mu: ss.poisson.logpmf(3, mu), shapes=[(5,)], domain=POS, grad=2),
    Rec("binom.logpmf(p)", lambda p: st.binom.logpmf(4.0, 10.0, p),
        lambda p: ss.binom.logpmf(4, 10, p), shapes=[(5,)], domain=Q, grad=2),
    Rec("nbinom.logpmf(n, p)", lambda n, p: st.nbinom.logpmf(4.0, n, p),
        lambda n, p: ss.nbinom.logpmf(4, n, p), shapes=[(5,)], nargs=2, domain=[POS, UNIT],
        grad=1),
    Rec("betabinom.logpmf(a, b)", lambda a, b: st.betabinom.logpmf(3.0, 8.0, a, b),
        lambda a, b: ss.betabinom.logpmf(3, 8, a, b), shapes=[(5,)], nargs=2, domain=POS,
        grad=1),
    Rec("vonmises.logpdf(kappa)", lambda k: st.vonmises.logpdf(0.5, k),
        lambda k: ss.vonmises.logpdf(0.5, k), shapes=[(5,)], domain=POS, grad=1),
]

test_numpy, test_jit, test_vmap, test_grad = make_tests(RECORDS)


def test_poisson_entropy():
  mu = np.array([0.0, 0.5, 3.0, 20.0, 150.0], np.float32)
  np.testing.assert_allclose(st.poisson.entropy(mu), ss.poisson.entropy(mu), rtol=1e-4,
                             atol=1e-6)


def test_multivariate():
  rng = np.random.default_rng(0)
  mean = rng.standard_normal(3).astype(np.float32)
  a = rng.standard_normal((3, 3)).astype(np.float32)
  cov = a @ a.T + np.eye(3, dtype=np.float32)
  x = rng.standard_normal((5, 3)).astype(np.float32)
  np.testing.assert_allclose(st.multivariate_normal.logpdf(x, mean, cov),
                             ss.multivariate_normal.logpdf(x, mean, cov), rtol=1e-4)
  np.testing.assert_allclose(st.multivariate_normal.pdf(x, mean, 2.0),
                             ss.multivariate_normal.pdf(x, mean, 2.0), rtol=1e-4)
  np.testing.assert_allclose(st.multivariate_normal.logpdf(x[:, 0], 0.3, 2.0),
                             ss.norm.logpdf(x[:, 0], 0.3, np.sqrt(2.0)), rtol=1e-5)
  check_grads(lambda x, m, c: st.multivariate_normal.logpdf(x, m, c), (x, mean, cov), order=1,
              modes=("rev",), atol=3e-2, rtol=3e-2)
  alpha = np.array([1.5, 2.0, 3.0], np.float32)
  xd = rng.dirichlet(alpha, 4).T
  np.testing.assert_allclose(st.dirichlet.logpdf(xd.astype(np.float32), alpha),
                             ss.dirichlet.logpdf(xd, alpha), rtol=1e-3)
  # with one entry fewer, the last is 1 - sum
  np.testing.assert_allclose(st.dirichlet.pdf(xd[:2].astype(np.float32), alpha),
                             ss.dirichlet.pdf(xd, alpha), rtol=1e-3)
  assert st.dirichlet.logpdf(np.array([0.5, 0.6, 0.1], np.float32), alpha) == -np.inf
  counts = np.array([2, 1, 0], np.int32)
  p = np.array([0.2, 0.3, 0.5], np.float32)
  np.testing.assert_allclose(st.multinomial.pmf(counts, 3, p), ss.multinomial.pmf(counts, 3, p),
                             rtol=1e-5)
  with pytest.raises(ValueError, match="integer type"):
    st.multinomial.logpmf(counts.astype(np.float32), 3, p)


def test_mode_rankdata_sem():
  rng = np.random.default_rng(1)
  a = rng.integers(0, 4, (5, 6))
  for axis in (0, 1, None):
    m = st.mode(a, axis=axis)
    r = ss.mode(a, axis=axis)
    np.testing.assert_array_equal(m.mode, r.mode)
    np.testing.assert_array_equal(m.count, r.count)
  assert st.mode(a, axis=1, keepdims=True).mode.shape == (5, 1)
  for method in ("average", "min", "max", "dense", "ordinal"):
    np.testing.assert_array_equal(st.rankdata(a, method), ss.rankdata(a, method))
    np.testing.assert_array_equal(st.rankdata(a, method, axis=1),
                                  ss.rankdata(a, method, axis=1))
  np.testing.assert_array_equal(numjax.jit(st.rankdata)(a.astype(np.float32)),
                                ss.rankdata(a))
  assert np.all(np.isnan(st.rankdata(np.array([1.0, np.nan, 2.0]))))
  x = rng.standard_normal((4, 7)).astype(np.float32)
  np.testing.assert_allclose(st.sem(x), ss.sem(x), rtol=1e-5)
  np.testing.assert_allclose(st.sem(x, axis=None), ss.sem(x, axis=None), rtol=1e-5)
  with pytest.raises(ValueError, match="Illegal nan_policy"):
    st.mode(a, nan_policy="foo")


def test_gaussian_kde():
  rng = np.random.default_rng(2)
  data = rng.standard_normal((2, 40)).astype(np.float32)
  pts = rng.standard_normal((2, 6)).astype(np.float32)
  k, r = st.gaussian_kde(data), ss.gaussian_kde(data)
  np.testing.assert_allclose(k(pts), r(pts), rtol=1e-4, atol=1e-7)
  np.testing.assert_allclose(k.logpdf(pts), r.logpdf(pts), rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(k.integrate_gaussian(np.zeros(2), np.eye(2)),
                             r.integrate_gaussian(np.zeros(2), np.eye(2)), rtol=1e-4)
  k2, r2 = st.gaussian_kde(data[:, :15]), ss.gaussian_kde(data[:, :15])
  np.testing.assert_allclose(k.integrate_kde(k2), r.integrate_kde(r2), rtol=1e-4)
  w = np.abs(data[1]) + 0.1
  k1 = st.gaussian_kde(data[0], bw_method="silverman", weights=w)
  r1 = ss.gaussian_kde(data[0], bw_method="silverman", weights=w)
  np.testing.assert_allclose(k1(pts[0]), r1(pts[0]), rtol=1e-4, atol=1e-7)
  np.testing.assert_allclose(k1.integrate_box_1d(-0.5, 1.0), r1.integrate_box_1d(-0.5, 1.0),
                             rtol=1e-4)
  k3 = st.gaussian_kde(data, bw_method=0.4)
  np.testing.assert_allclose(k3(pts), ss.gaussian_kde(data, bw_method=0.4)(pts), rtol=1e-4)
  s = k.resample(numjax.random.key(0), (500,))
  assert s.shape == (2, 500)
  np.testing.assert_allclose(np.cov(np.asarray(s)), np.cov(data) * (1 + k.covariance[0, 0] /
                                                                      np.cov(data)[0, 0]),
                             atol=0.35)
  # a pytree: through jit, and differentiable in the evaluation points
  f = numjax.jit(lambda kde, p: kde.logpdf(p))
  np.testing.assert_allclose(f(k, pts), k.logpdf(pts), rtol=1e-5)
  check_grads(lambda p: k.logpdf(p), (pts,), order=1, modes=("rev",), atol=3e-2, rtol=3e-2)


def test_submodules_import():
  import importlib
  for name in ("norm", "beta", "gamma", "t", "poisson", "multivariate_normal", "gumbel_l"):
    mod = importlib.import_module(f"numjax.scipy.stats.{name}")
    assert mod is getattr(st, name)
  from numjax.scipy.stats import norm
  assert norm.pdf(0.0) == pytest.approx(1 / np.sqrt(2 * np.pi))
