"""Statistical tests of every sampler of numjax.random: Kolmogorov-Smirnov against SciPy's
distributions for continuous samplers, chi-square against the exact probabilities for
discrete ones. Keys are fixed, so the tests are deterministic."""
import zlib

import numpy as np
import pytest
import scipy.stats as st

import numjax
import numjax.numpy as jnp
from numjax import random as R

N = 10_000
ALPHA = 1e-3  # p-value floor


def _key(i):
  return R.fold_in(R.key(1234), i)


# (id, sampler(key) -> samples, scipy frozen distribution or a callable cdf)
CONTINUOUS = [
    ("uniform", lambda k: R.uniform(k, (N,), minval=-1., maxval=3.), st.uniform(-1, 4)),
    ("uniform_f64_bounds_arrays", lambda k: R.uniform(
        k, (N,), minval=jnp.zeros(N), maxval=jnp.full((N,), 2.)), st.uniform(0, 2)),
    ("normal", lambda k: R.normal(k, (N,)), st.norm()),
    ("normal_2d", lambda k: R.normal(k, (100, N // 100)).reshape(-1), st.norm()),
    ("truncated_normal", lambda k: R.truncated_normal(k, -1., 2., (N,)), st.truncnorm(-1, 2)),
    ("exponential", lambda k: R.exponential(k, (N,)), st.expon()),
    ("laplace", lambda k: R.laplace(k, (N,)), st.laplace()),
    ("logistic", lambda k: R.logistic(k, (N,)), st.logistic()),
    ("cauchy", lambda k: R.cauchy(k, (N,)), st.cauchy()),
    ("gumbel", lambda k: R.gumbel(k, (N,)), st.gumbel_r()),
    ("gumbel_high", lambda k: R.gumbel(k, (N,), mode="high"), st.gumbel_r()),
    ("lognormal", lambda k: R.lognormal(k, 0.5, (N,)), st.lognorm(0.5)),
    ("pareto", lambda k: R.pareto(k, 3., (N,)), st.pareto(3.)),
    ("rayleigh", lambda k: R.rayleigh(k, 2., (N,)), st.rayleigh(scale=2.)),
    ("wald", lambda k: R.wald(k, 1.5, (N,)), st.invgauss(1.5)),
    ("triangular", lambda k: R.triangular(k, 0., 0.3, 1., (N,)), st.triang(0.3)),
    ("weibull_min", lambda k: R.weibull_min(k, 2., 1.5, (N,)), st.weibull_min(1.5, scale=2.)),
    ("maxwell", lambda k: R.maxwell(k, (N,)), st.maxwell()),
    ("double_sided_maxwell_abs",
     lambda k: jnp.abs(R.double_sided_maxwell(k, 0., 1., (N,))), st.maxwell()),
    ("gamma_2.5", lambda k: R.gamma(k, 2.5, (N,)), st.gamma(2.5)),
    ("gamma_0.3", lambda k: R.gamma(k, 0.3, (N,)), st.gamma(0.3)),
    ("gamma_param_array", lambda k: R.gamma(k, jnp.full((N,), 4.)), st.gamma(4.)),
    ("loggamma_2", lambda k: R.loggamma(k, 2., (N,)), st.loggamma(2.)),
    ("loggamma_0.1", lambda k: R.loggamma(k, 0.1, (N,)), st.loggamma(0.1)),
    ("beta", lambda k: R.beta(k, 2., 3., (N,)), st.beta(2., 3.)),
    ("dirichlet_marginal", lambda k: R.dirichlet(k, jnp.array([1., 2., 3.]), (N,))[:, 0],
     st.beta(1., 5.)),
    ("t", lambda k: R.t(k, 3., (N,)), st.t(3.)),
    ("chisquare", lambda k: R.chisquare(k, 4., (N,)), st.chi2(4.)),
    ("f", lambda k: R.f(k, 3., 5., (N,)), st.f(3., 5.)),
    ("generalized_normal", lambda k: R.generalized_normal(k, 1.5, (N,)), st.gennorm(1.5)),
    ("ball_radius", lambda k: jnp.sqrt(jnp.sum(R.ball(k, 3, shape=(N,)) ** 2, axis=-1)),
     st.beta(3., 1.)),  # P(|x| <= r) = r**d
]


@pytest.mark.parametrize("name,sampler,dist", CONTINUOUS, ids=[c[0] for c in CONTINUOUS])
def test_continuous_ks(name, sampler, dist):
  x = np.asarray(sampler(_key(zlib.crc32(name.encode()) % 1000)), dtype=np.float64)
  assert x.shape == (N,)
  assert np.all(np.isfinite(x))
  p = st.kstest(x, dist.cdf).pvalue
  assert p > ALPHA, f"{name}: KS p-value {p:.2e}"


def _chisquare(observed_values, probs, support):
  """Chi-square goodness of fit; bins with expected count < 5 are pooled into a tail bin."""
  support = np.asarray(support)
  counts = np.array([(observed_values == s).sum() for s in support], dtype=np.float64)
  expected = np.asarray(probs, dtype=np.float64) * observed_values.size
  rest_obs = observed_values.size - counts.sum()
  rest_exp = observed_values.size - expected.sum()
  keep = expected >= 5
  obs = list(counts[keep])
  exp = list(expected[keep])
  tail_obs = counts[~keep].sum() + rest_obs
  tail_exp = expected[~keep].sum() + rest_exp
  if tail_exp > 1e-9 * observed_values.size:
    obs.append(tail_obs)
    exp.append(tail_exp)
  else:
    assert tail_obs == 0
  obs, exp = np.array(obs), np.array(exp)
  exp *= obs.sum() / exp.sum()
  return st.chisquare(obs, exp).pvalue


DISCRETE = [
    ("randint", lambda k: R.randint(k, (N,), 0, 7), np.arange(7), np.full(7, 1 / 7)),
    ("randint_neg", lambda k: R.randint(k, (N,), -5, 5), np.arange(-5, 5), np.full(10, .1)),
    ("randint_uint8_full", lambda k: R.randint(k, (N,), 0, 256, jnp.uint8) // 32,
     np.arange(8), np.full(8, 1 / 8)),
    ("bernoulli", lambda k: R.bernoulli(k, 0.3, (N,)), [False, True], [0.7, 0.3]),
    ("bernoulli_high", lambda k: R.bernoulli(k, 0.3, (N,), mode="high"), [False, True],
     [0.7, 0.3]),
    ("rademacher", lambda k: R.rademacher(k, (N,)), [-1, 1], [0.5, 0.5]),
    ("categorical", lambda k: R.categorical(k, jnp.log(jnp.array([0.1, 0.2, 0.7])),
                                            shape=(N,)), np.arange(3), [0.1, 0.2, 0.7]),
    ("categorical_axis0", lambda k: R.categorical(
        k, jnp.log(jnp.array([[0.1] * 4, [0.9] * 4])), axis=0, shape=(N // 4, 4)).reshape(-1),
     [0, 1], [0.1, 0.9]),
    ("choice_replace", lambda k: R.choice(k, 5, (N,)), np.arange(5), np.full(5, .2)),
    ("choice_p", lambda k: R.choice(k, 4, (N,), p=jnp.array([.1, .2, .3, .4])),
     np.arange(4), [.1, .2, .3, .4]),
    ("poisson_3", lambda k: R.poisson(k, 3., (N,)), np.arange(30), st.poisson(3.).pmf(
        np.arange(30))),
    ("poisson_50", lambda k: R.poisson(k, 50., (N,)), np.arange(120), st.poisson(50.).pmf(
        np.arange(120))),
    ("binomial_inversion", lambda k: R.binomial(k, 10., 0.4, (N,)), np.arange(11),
     st.binom(10, 0.4).pmf(np.arange(11))),
    ("binomial_btrs", lambda k: R.binomial(k, 200., 0.3, (N,)), np.arange(201),
     st.binom(200, 0.3).pmf(np.arange(201))),
    ("binomial_p_above_half", lambda k: R.binomial(k, 50., 0.8, (N,)), np.arange(51),
     st.binom(50, 0.8).pmf(np.arange(51))),
    ("geometric", lambda k: R.geometric(k, 0.2, (N,)), np.arange(1, 80),
     st.geom(0.2).pmf(np.arange(1, 80))),
    ("multinomial_marginal", lambda k: R.multinomial(
        k, 10., jnp.array([0.2, 0.3, 0.5]), shape=(N, 3))[:, 0], np.arange(11),
     st.binom(10, 0.2).pmf(np.arange(11))),
]


@pytest.mark.parametrize("name,sampler,support,probs", DISCRETE, ids=[d[0] for d in DISCRETE])
def test_discrete_chisquare(name, sampler, support, probs):
  x = np.asarray(sampler(_key(zlib.crc32(name.encode()) % 1000)))
  assert x.shape == (N,)
  p = _chisquare(x, probs, support)
  assert p > ALPHA, f"{name}: chi-square p-value {p:.2e}"


def test_bits_are_uniform():
  b = np.asarray(R.bits(_key(1), (N,)))
  assert b.dtype == np.uint32
  ones = np.unpackbits(b.view(np.uint8)).reshape(N, 32).sum(0)
  # every bit position is a fair coin
  p = st.binomtest(int(ones.min()), N, 0.5).pvalue
  q = st.binomtest(int(ones.max()), N, 0.5).pvalue
  assert min(p, q) > ALPHA / 32
  byte = np.asarray(R.bits(_key(2), (N,), jnp.uint8))
  assert _chisquare(byte, np.full(256, 1 / 256), np.arange(256)) > ALPHA


def test_permutation_positions_are_uniform():
  keys = R.split(_key(3), 2000)
  perms = np.asarray(numjax.vmap(lambda k: R.permutation(k, 5))(keys))
  assert np.all(np.sort(perms, axis=1) == np.arange(5))
  where0 = np.argmax(perms == 0, axis=1)  # position of element 0
  assert _chisquare(where0, np.full(5, .2), np.arange(5)) > ALPHA


def test_choice_without_replacement_is_uniform_over_subsets():
  keys = R.split(_key(4), 3000)
  picks = np.asarray(numjax.vmap(lambda k: R.choice(k, 4, (2,), replace=False))(keys))
  assert np.all(picks[:, 0] != picks[:, 1])
  codes = np.minimum(picks[:, 0], picks[:, 1]) * 4 + np.maximum(picks[:, 0], picks[:, 1])
  pairs = [i * 4 + j for i in range(4) for j in range(i + 1, 4)]
  assert _chisquare(codes, np.full(6, 1 / 6), pairs) > ALPHA


def test_choice_p_without_replacement_never_repeats():
  out = np.asarray(R.choice(_key(5), 6, (6,), replace=False,
                            p=jnp.array([.3, .2, .2, .1, .1, .1])))
  assert sorted(out.tolist()) == list(range(6))


def test_double_sided_maxwell_sign_is_symmetric():
  x = np.asarray(R.double_sided_maxwell(_key(6), 0., 1., (N,)))
  assert st.binomtest(int((x > 0).sum()), N, 0.5).pvalue > ALPHA


def test_categorical_without_replacement_distinct():
  out = np.asarray(R.categorical(_key(7), jnp.zeros((3, 6)), shape=(4, 3), replace=False))
  assert out.shape == (4, 3)
  for col in out.T:
    assert len(set(col.tolist())) == 4


def test_multivariate_normal_moments():
  cov = np.array([[1., 0.5], [0.5, 2.]])
  for method in ("cholesky", "eigh", "svd"):
    x = np.asarray(R.multivariate_normal(_key(8), jnp.array([1., -1.]), jnp.asarray(cov),
                                         (N,), method=method), dtype=np.float64)
    assert x.shape == (N, 2)
    np.testing.assert_allclose(x.mean(0), [1., -1.], atol=0.05)
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.08)
    white = (x - [1., -1.]) @ np.linalg.inv(np.linalg.cholesky(cov)).T
    for j in range(2):
      assert st.kstest(white[:, j], "norm").pvalue > ALPHA


def test_orthogonal_is_orthogonal_and_sign_symmetric():
  q = np.asarray(R.orthogonal(_key(9), 3, shape=(500,)), dtype=np.float64)
  assert q.shape == (500, 3, 3)
  np.testing.assert_allclose(q @ np.swapaxes(q, -1, -2), np.broadcast_to(np.eye(3), q.shape),
                             atol=1e-5)
  assert st.binomtest(int((q[:, 0, 0] > 0).sum()), 500, 0.5).pvalue > ALPHA
  wide = np.asarray(R.orthogonal(_key(10), 2, m=4), dtype=np.float64)
  assert wide.shape == (2, 4)
  np.testing.assert_allclose(wide @ wide.T, np.eye(2), atol=1e-5)
