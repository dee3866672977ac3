"""jax.scipy.stats: discrete and multivariate distributions (namespace classes of their
functions; see _distribution.py), written with jnp/lax and the special functions."""
from __future__ import annotations

import numpy as np

from numjax._src import dtypes
from numjax._src.lax import lax
from numjax._src.numpy import util
from numjax._src.numpy.util import promote_args_inexact
from numjax._src.scipy import special as sp
from numjax._src.scipy.stats._distribution import (
    const as _c, derived, Distribution, jnp as _jnp, promoted)


class poisson(Distribution):
  """The Poisson distribution with mean mu."""

  @promoted
  def logpmf(k, mu, loc=0):
    jnp = _jnp()
    x = k - loc
    lp = sp.xlogy(x, mu) - sp.gammaln(x + 1) - mu
    return jnp.where((x < 0) | (jnp.round(k) != k), -np.inf, lp)

  pmf = derived(lax.exp, "logpmf")

  @promoted
  def cdf(k, mu, loc=0):
    jnp = _jnp()
    x = k - loc
    p = sp.gammaincc(jnp.floor(1 + jnp.maximum(x, 0)), mu)
    return jnp.where(x < 0, _c(x, 0), p)

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


class bernoulli(Distribution):
  """The Bernoulli distribution with success probability p."""

  @promoted
  def logpmf(k, p, loc=0):
    jnp = _jnp()
    x = k - loc
    lp = sp.xlogy(x, p) + sp.xlog1py(1 - x, -p)
    return jnp.where((x < 0) | (x > 1), -np.inf, lp)

  pmf = derived(lax.exp, "logpmf")

  @promoted
  def cdf(k, p):
    jnp = _jnp()
    bad = jnp.isnan(k) | jnp.isnan(p) | (p < 0) | (p > 1)
    return jnp.select([bad, k < 0, (k >= 0) & (k < 1), k >= 1],
                      [_c(k, np.nan), _c(k, 0), 1 - p, _c(k, 1)])

  @promoted
  def ppf(q, p):
    jnp = _jnp()
    bad = jnp.isnan(q) | jnp.isnan(p) | (p < 0) | (p > 1) | (q < 0) | (q > 1)
    return jnp.where(bad, np.nan, jnp.where(q <= 1 - p, _c(q, 0), _c(q, 1)))


class binom(Distribution):
  """The binomial distribution B(n, p)."""

  @promoted
  def logpmf(k, n, p, loc=0):
    jnp = _jnp()
    y = k - loc
    comb = sp.gammaln(n + 1) - (sp.gammaln(y + 1) + sp.gammaln(n - y + 1))
    lin = sp.xlogy(y, p) + sp.xlog1py(n - y, -p)
    lp = comb + lin
    lp = jnp.where(((y == 0) & (n == 0)) | (lin == 0), 0.0, lp)
    return jnp.where((k >= loc) & (k < loc + n + 1), lp, -np.inf)

  pmf = derived(lax.exp, "logpmf")


class geom(Distribution):
  """The geometric distribution (number of trials to the first success)."""

  @promoted
  def logpmf(k, p, loc=0):
    jnp = _jnp()
    x = k - loc
    lp = sp.xlog1py(x - 1, -p) + lax.log(p)
    return jnp.where(x <= 0, -np.inf, lp)

  pmf = derived(lax.exp, "logpmf")


class nbinom(Distribution):
  """The negative binomial distribution (failures before the n-th success)."""

  @promoted
  def logpmf(k, n, p, loc=0):
    jnp = _jnp()
    y = k - loc
    comb = sp.gammaln(y + n) - sp.gammaln(n) - sp.gammaln(y + 1)
    lp = comb + sp.xlogy(n, p) + sp.xlogy(y, 1 - p)
    return jnp.where(k < loc, -np.inf, lp)

  pmf = derived(lax.exp, "logpmf")


class betabinom(Distribution):
  """The beta-binomial distribution."""

  @promoted
  def logpmf(k, n, a, b, loc=0):
    jnp = _jnp()
    y = lax.floor(k) - loc
    comb = -(lax.log1p(n) + sp.betaln(n - y + 1, y + 1))
    lp = comb + sp.betaln(y + a, n - y + b) - sp.betaln(a, b)
    lp = jnp.where((y == 0) & (n == 0), 0.0, lp)
    lp = jnp.where((y < -loc) | (y > n) | (y + a <= 0), -np.inf, lp)
    return jnp.where((n < 0) | (a <= 0) | (b <= 0), np.nan, lp)

  pmf = derived(lax.exp, "logpmf")


class multinomial(Distribution):
  """The multinomial distribution: counts x (last axis) of n trials with probabilities p."""

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

  pmf = derived(lax.exp, "logpmf")


class multivariate_normal(Distribution):
  """The multivariate normal distribution N(mean, cov) (cov a scalar, or an (n, n) matrix
  batched like x)."""

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

  pdf = derived(lax.exp, "logpdf")


class dirichlet(Distribution):
  """The Dirichlet distribution: x (first axis) on the simplex, concentration alpha."""

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

  pdf = derived(lax.exp, "logpdf")


DISCRETE = (poisson, bernoulli, binom, geom, nbinom, betabinom, multinomial,
            multivariate_normal, dirichlet)
