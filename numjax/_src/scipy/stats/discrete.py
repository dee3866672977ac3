"""jax.scipy.stats: discrete and multivariate distributions (namespace classes of their
functions), written with jnp/lax and the special functions."""
from __future__ import annotations

import numpy as np

from numjax._src import dtypes
from numjax._src.lax import lax
from numjax._src.numpy import util
from numjax._src.numpy.util import promote_args_inexact
from numjax._src.scipy import special as sp


def _jnp():
  import numjax.numpy as jnp
  return jnp


def _c(x, v):
  return lax._const(x, v)


class poisson:
  """The Poisson distribution with mean mu."""

  @staticmethod
  def logpmf(k, mu, loc=0):
    jnp = _jnp()
    k, mu, loc = promote_args_inexact("poisson.logpmf", k, mu, loc)
    x = k - loc
    lp = sp.xlogy(x, mu) - sp.gammaln(x + 1) - mu
    return jnp.where((x < 0) | (jnp.round(k) != k), -np.inf, lp)

  @staticmethod
  def pmf(k, mu, loc=0):
    return _jnp().exp(poisson.logpmf(k, mu, loc))

  @staticmethod
  def cdf(k, mu, loc=0):
    jnp = _jnp()
    k, mu, loc = promote_args_inexact("poisson.cdf", k, mu, loc)
    x = k - loc
    p = sp.gammaincc(jnp.floor(1 + jnp.maximum(x, 0)), mu)
    return jnp.where(x < 0, _c(x, 0), p)

  @staticmethod
  def entropy(mu, loc=0):
    """-sum_k p(k) log p(k): summed over k for small mu, the asymptotic series for large."""
    jnp = _jnp()
    mu, loc = util.ensure_arraylike("poisson.entropy", mu, loc)
    mu, loc = util.promote_dtypes_inexact(mu, loc)
    shape = jnp.broadcast_shapes(mu.shape, loc.shape)
    flat = jnp.ravel(mu)

    def summed(kmax, upper):
      k = jnp.arange(kmax, dtype=flat.dtype)[:, None]
      p = poisson.pmf(k, flat, 0)
      p = jnp.where(k < upper[None, :], p, 0.0)
      return jnp.sum(sp.entr(p), axis=0)
    small = summed(35, jnp.ceil(flat + 20))
    medium = summed(250, jnp.ceil(flat + 10 * jnp.sqrt(flat) + 20))
    safe = jnp.where(flat > 0, flat, 1.0)
    large = 0.5 * jnp.log(2 * np.pi * np.e * safe) - 1.0 / (12 * safe)
    out = jnp.where(flat == 0, 0.0, jnp.where(flat < 10, small, jnp.where(flat < 100, medium,
                                                                         large)))
    return jnp.broadcast_to(jnp.reshape(out, mu.shape), shape)


class bernoulli:
  """The Bernoulli distribution with success probability p."""

  @staticmethod
  def logpmf(k, p, loc=0):
    jnp = _jnp()
    k, p, loc = promote_args_inexact("bernoulli.logpmf", k, p, loc)
    x = k - loc
    lp = sp.xlogy(x, p) + sp.xlog1py(1 - x, -p)
    return jnp.where((x < 0) | (x > 1), -np.inf, lp)

  @staticmethod
  def pmf(k, p, loc=0):
    return _jnp().exp(bernoulli.logpmf(k, p, loc))

  @staticmethod
  def cdf(k, p):
    jnp = _jnp()
    k, p = promote_args_inexact("bernoulli.cdf", k, p)
    bad = jnp.isnan(k) | jnp.isnan(p) | (p < 0) | (p > 1)
    return jnp.select([bad, k < 0, (k >= 0) & (k < 1), k >= 1],
                      [_c(k, np.nan), _c(k, 0), 1 - p, _c(k, 1)])

  @staticmethod
  def ppf(q, p):
    jnp = _jnp()
    q, p = promote_args_inexact("bernoulli.ppf", q, p)
    bad = jnp.isnan(q) | jnp.isnan(p) | (p < 0) | (p > 1) | (q < 0) | (q > 1)
    return jnp.where(bad, np.nan, jnp.where(q <= 1 - p, _c(q, 0), _c(q, 1)))


class binom:
  """The binomial distribution B(n, p)."""

  @staticmethod
  def logpmf(k, n, p, loc=0):
    jnp = _jnp()
    k, n, p, loc = promote_args_inexact("binom.logpmf", k, n, p, loc)
    y = k - loc
    comb = sp.gammaln(n + 1) - (sp.gammaln(y + 1) + sp.gammaln(n - y + 1))
    lin = sp.xlogy(y, p) + sp.xlog1py(n - y, -p)
    lp = comb + lin
    lp = jnp.where(((y == 0) & (n == 0)) | (lin == 0), 0.0, lp)
    return jnp.where((k >= loc) & (k < loc + n + 1), lp, -np.inf)

  @staticmethod
  def pmf(k, n, p, loc=0):
    return lax.exp(binom.logpmf(k, n, p, loc))


class geom:
  """The geometric distribution (number of trials to the first success)."""

  @staticmethod
  def logpmf(k, p, loc=0):
    jnp = _jnp()
    k, p, loc = promote_args_inexact("geom.logpmf", k, p, loc)
    x = k - loc
    lp = sp.xlog1py(x - 1, -p) + lax.log(p)
    return jnp.where(x <= 0, -np.inf, lp)

  @staticmethod
  def pmf(k, p, loc=0):
    return _jnp().exp(geom.logpmf(k, p, loc))


class nbinom:
  """The negative binomial distribution (failures before the n-th success)."""

  @staticmethod
  def logpmf(k, n, p, loc=0):
    jnp = _jnp()
    k, n, p, loc = promote_args_inexact("nbinom.logpmf", k, n, p, loc)
    y = k - loc
    comb = sp.gammaln(y + n) - sp.gammaln(n) - sp.gammaln(y + 1)
    lp = comb + sp.xlogy(n, p) + sp.xlogy(y, 1 - p)
    return jnp.where(k < loc, -np.inf, lp)

  @staticmethod
  def pmf(k, n, p, loc=0):
    return lax.exp(nbinom.logpmf(k, n, p, loc))


class betabinom:
  """The beta-binomial distribution."""

  @staticmethod
  def logpmf(k, n, a, b, loc=0):
    jnp = _jnp()
    k, n, a, b, loc = promote_args_inexact("betabinom.logpmf", k, n, a, b, loc)
    y = lax.floor(k) - loc
    comb = -(lax.log1p(n) + sp.betaln(n - y + 1, y + 1))
    lp = comb + sp.betaln(y + a, n - y + b) - sp.betaln(a, b)
    lp = jnp.where((y == 0) & (n == 0), 0.0, lp)
    lp = jnp.where((y < -loc) | (y > n) | (y + a <= 0), -np.inf, lp)
    return jnp.where((n < 0) | (a <= 0) | (b <= 0), np.nan, lp)

  @staticmethod
  def pmf(k, n, a, b, loc=0):
    return lax.exp(betabinom.logpmf(k, n, a, b, loc))


class multinomial:
  """The multinomial distribution: counts x (last axis) of n trials with probabilities p."""

  @staticmethod
  def logpmf(x, n, p):
    jnp = _jnp()
    (p,) = promote_args_inexact("multinomial.logpmf", p)
    x, n = util.promote_args_numeric("multinomial.logpmf", x, n)
    if not dtypes.issubdtype(x.dtype, np.integer):
      raise ValueError(f"x and n must be of integer type; got x.dtype={x.dtype}, "
                       f"n.dtype={n.dtype}")
    x = x.astype(p.dtype)
    n = n.astype(p.dtype)
    lp = sp.gammaln(n + 1) + jnp.sum(sp.xlogy(x, p) - sp.gammaln(x + 1), axis=-1)
    return jnp.where(jnp.sum(x) == n, lp, -np.inf)

  @staticmethod
  def pmf(x, n, p):
    return lax.exp(multinomial.logpmf(x, n, p))


class multivariate_normal:
  """The multivariate normal distribution N(mean, cov) (cov a scalar, or an (n, n) matrix
  batched like x)."""

  @staticmethod
  def logpdf(x, mean, cov, allow_singular=None):
    jnp = _jnp()
    if allow_singular is not None:
      raise NotImplementedError("allow_singular argument of multivariate_normal.logpdf")
    x, mean, cov = util.promote_dtypes_inexact(x, mean, cov)
    if not mean.shape:
      return -0.5 * jnp.square(x - mean) / cov - 0.5 * (jnp.log(2 * np.pi) + jnp.log(cov))
    n = mean.shape[-1]
    if not np.shape(cov):
      y = x - mean
      return (-0.5 * jnp.einsum("...i,...i->...", y, y) / cov
              - n / 2 * (jnp.log(2 * np.pi) + jnp.log(cov)))
    if cov.ndim < 2 or cov.shape[-2:] != (n, n):
      raise ValueError("multivariate_normal.logpdf got incompatible shapes")
    from numjax._src.lax import linalg as lax_linalg
    chol = lax_linalg.cholesky(cov)
    y = x - mean
    bshape = jnp.broadcast_shapes(chol.shape[:-2], y.shape[:-1])
    chol_b = jnp.broadcast_to(chol, bshape + (n, n))
    y_b = jnp.broadcast_to(y, bshape + (n,))
    # solve L z = y (z = L^-1 y): |z|^2 is the Mahalanobis distance
    z = lax_linalg.triangular_solve(chol_b, y_b[..., None], left_side=True, lower=True)[..., 0]
    logdet = jnp.sum(jnp.log(jnp.diagonal(chol, axis1=-2, axis2=-1)), -1)
    return -0.5 * jnp.einsum("...i,...i->...", z, z) - n / 2 * jnp.log(2 * np.pi) - logdet

  @staticmethod
  def pdf(x, mean, cov):
    return lax.exp(multivariate_normal.logpdf(x, mean, cov))


class dirichlet:
  """The Dirichlet distribution: x (first axis) on the simplex, concentration alpha."""

  @staticmethod
  def logpdf(x, alpha):
    jnp = _jnp()
    x, alpha = util.promote_dtypes_inexact(x, alpha)
    if alpha.ndim != 1:
      raise ValueError(f"`alpha` must be one-dimensional; got alpha.shape={alpha.shape}")
    if x.shape[0] not in (alpha.shape[0], alpha.shape[0] - 1):
      raise ValueError(f"`x` must have either the same number of entries as `alpha` or one "
                       f"entry fewer; got x.shape={x.shape}, alpha.shape={alpha.shape}")
    if x.shape[0] != alpha.shape[0]:
      x = jnp.concatenate([x, 1 - jnp.sum(x, 0, keepdims=True)], axis=0)
    norm = jnp.sum(sp.gammaln(alpha)) - sp.gammaln(jnp.sum(alpha))
    if x.ndim > 1:
      alpha = lax.broadcast_in_dim(alpha, alpha.shape + (1,) * (x.ndim - 1), (0,))
    lp = jnp.sum(sp.xlogy(alpha - 1, x), axis=0) - norm
    simplex = jnp.all(x > 0, axis=0) & (jnp.abs(jnp.sum(x, axis=0) - 1) < 1e-6)
    return jnp.where(simplex, lp, -np.inf)

  @staticmethod
  def pdf(x, alpha):
    return lax.exp(dirichlet.logpdf(x, alpha))


DISCRETE = (poisson, bernoulli, binom, geom, nbinom, betabinom, multinomial,
            multivariate_normal, dirichlet)
