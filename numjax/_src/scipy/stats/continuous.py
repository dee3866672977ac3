"""jax.scipy.stats: the continuous univariate distributions. Each is a namespace class of
its functions (the public numjax.scipy.stats.<name> modules re-export them), stating only
its formulas (_distribution.py promotes the arguments to a common inexact dtype, as in JAX,
and builds the derived functions). Written with jnp/lax and the special functions, so every
function jits, vmaps and differentiates.
"""
from __future__ import annotations

import numpy as np

from numjax._src.lax import lax
from numjax._src.lax import special as lsp
from numjax._src.scipy import special as sp
from numjax._src.scipy.stats._distribution import (
    const as _c, derived, Distribution, jnp as _jnp, promoted, reflected,
    std as _std)


class norm(Distribution):
  """The normal distribution N(loc, scale^2)."""

  @promoted
  def logpdf(x, loc=0, scale=1):
    s2 = lax.square(scale)
    lognorm = lax.log(_c(x, 2 * np.pi) * s2)
    quad = lax.square(x - loc) / s2
    return (lognorm + quad) / _c(x, -2)

  pdf = derived(lax.exp, "logpdf")

  @promoted
  def cdf(x, loc=0, scale=1):
    return sp.ndtr(_std(x, loc, scale))

  @promoted
  def logcdf(x, loc=0, scale=1):
    return sp.log_ndtr(_std(x, loc, scale))

  sf = reflected("cdf")
  logsf = reflected("logcdf")

  @promoted
  def ppf(q, loc=0, scale=1):
    return sp.ndtri(q) * scale + loc

  @promoted
  def isf(q, loc=0, scale=1):
    return norm.ppf(_c(q, 1) - q, loc, scale)


class beta(Distribution):
  """The beta distribution on [loc, loc + scale]."""

  @promoted
  def logpdf(x, a, b, loc=0, scale=1):
    jnp = _jnp()
    one = _c(x, 1)
    y = _std(x, loc, scale)
    lin = sp.xlogy(a - one, y) + sp.xlog1py(b - one, -y)
    lp = lin - sp.betaln(a, b) - lax.log(scale)
    out = jnp.where((x > loc + scale) | (x < loc), -np.inf, lp)
    return jnp.where((a <= 0) | (b <= 0) | (scale <= 0), np.nan, out)

  pdf = derived(lax.exp, "logpdf")

  @promoted
  def cdf(x, a, b, loc=0, scale=1):
    y = lax.clamp(_c(x, 0), _std(x, loc, scale), _c(x, 1))
    return sp.betainc(a, b, y)

  logcdf = derived(lax.log, "cdf")

  @promoted
  def sf(x, a, b, loc=0, scale=1):
    y = lax.clamp(_c(x, 0), _std(x, loc, scale), _c(x, 1))
    return sp.betainc(b, a, 1 - y)

  logsf = derived(lax.log, "sf")


class gamma(Distribution):
  """The gamma distribution with shape a."""

  @promoted
  def logpdf(x, a, loc=0, scale=1):
    jnp = _jnp()
    ok = x >= loc
    y = jnp.where(ok, _std(x, loc, scale), _c(x, 1))
    lp = sp.xlogy(a - 1, y) - y - (sp.gammaln(a) + lax.log(scale))
    return jnp.where(ok, lp, -np.inf)

  pdf = derived(lax.exp, "logpdf")

  @promoted
  def cdf(x, a, loc=0, scale=1):
    return sp.gammainc(a, lax.clamp(_c(x, 0), _std(x, loc, scale), _c(x, np.inf)))

  logcdf = derived(lax.log, "cdf")

  @promoted
  def sf(x, a, loc=0, scale=1):
    jnp = _jnp()
    y = _std(x, loc, scale)
    return jnp.where(y < 0, _c(y, 1), sp.gammaincc(a, jnp.maximum(y, 0)))

  logsf = derived(lax.log, "sf")


class t(Distribution):
  """Student's t distribution with df degrees of freedom."""

  @promoted
  def logpdf(x, df, loc=0, scale=1):
    z = _std(x, loc, scale)
    h = df / 2
    h1 = h + 0.5
    norm_ = lax.lgamma(h) + lax.log(scale * scale * np.pi * df) / 2 - lax.lgamma(h1)
    return -(norm_ + h1 * lax.log1p(z * z / df))

  pdf = derived(lax.exp, "logpdf")


class cauchy(Distribution):
  """The Cauchy distribution."""

  @promoted
  def logpdf(x, loc=0, scale=1):
    z = _std(x, loc, scale)
    return -(lax.log(_c(x, np.pi) * scale) + lax.log1p(z * z))

  pdf = derived(lax.exp, "logpdf")

  @promoted
  def cdf(x, loc=0, scale=1):
    return _c(x, 0.5) + lax.atan(_std(x, loc, scale)) / _c(x, np.pi)

  logcdf = derived(lax.log, "cdf")

  sf = reflected("cdf")
  logsf = reflected("logcdf")

  @promoted
  def ppf(q, loc=0, scale=1):
    return lax.tan(_c(q, np.pi) * q - _c(q, np.pi / 2)) * scale + loc

  @promoted
  def isf(q, loc=0, scale=1):
    return lax.tan(_c(q, np.pi / 2) - _c(q, np.pi) * q) * scale + loc


class laplace(Distribution):
  """The Laplace (double exponential) distribution."""

  @promoted
  def logpdf(x, loc=0, scale=1):
    return -(lax.abs(x - loc) / scale + lax.log(_c(x, 2) * scale))

  pdf = derived(lax.exp, "logpdf")

  @promoted
  def cdf(x, loc=0, scale=1):
    d = _std(x, loc, scale)
    return lax.select(d <= 0, _c(x, 0.5) * lax.exp(d), _c(x, 1) - _c(x, 0.5) * lax.exp(-d))


class logistic(Distribution):
  """The logistic distribution."""

  @promoted
  def logpdf(x, loc=0, scale=1):
    h = _std(x, loc, scale) / 2
    return -2 * _jnp().logaddexp(h, -h) - lax.log(scale)

  pdf = derived(lax.exp, "logpdf")

  @promoted
  def cdf(x, loc=0, scale=1):
    return sp.expit(_std(x, loc, scale))

  @promoted
  def sf(x, loc=0, scale=1):
    return sp.expit(-_std(x, loc, scale))

  @promoted
  def ppf(x, loc=0, scale=1):
    return sp.logit(x) * scale + loc

  @promoted
  def isf(x, loc=0, scale=1):
    return -sp.logit(x) * scale + loc


class expon(Distribution):
  """The exponential distribution."""

  @promoted
  def logpdf(x, loc=0, scale=1):
    lp = -(_std(x, loc, scale) + lax.log(scale))
    return _jnp().where(x < loc, -np.inf, lp)

  pdf = derived(lax.exp, "logpdf")

  @promoted
  def cdf(x, loc=0, scale=1):
    jnp = _jnp()
    nz = (loc - x) / scale
    return jnp.where(x < loc, jnp.zeros_like(nz), -lax.expm1(nz))

  @promoted
  def logsf(x, loc=0, scale=1):
    jnp = _jnp()
    nz = (loc - x) / scale
    return jnp.where(x < loc, jnp.zeros_like(nz), nz)

  sf = derived(lax.exp, "logsf")

  logcdf = derived(lambda sf: lax.log1p(-sf), "sf")

  @promoted
  def ppf(q, loc=0, scale=1):
    jnp = _jnp()
    return jnp.where(jnp.isnan(q) | (q < 0) | (q > 1), np.nan, loc - scale * lax.log1p(-q))


class chi2(Distribution):
  """The chi-squared distribution with df degrees of freedom."""

  @promoted
  def logpdf(x, df, loc=0, scale=1):
    y = _std(x, loc, scale)
    h = df / 2
    kernel = (h - 1) * lax.log(y) - y / 2
    const = -(lax.lgamma(h) + lax.log(_c(x, 2)) * df / 2)
    return _jnp().where(x < loc, -np.inf, const - lax.log(scale) + kernel)

  pdf = derived(lax.exp, "logpdf")

  @promoted
  def cdf(x, df, loc=0, scale=1):
    y = lax.clamp(_c(x, 0), (x - loc) / (scale * 2), _c(x, np.inf))
    return sp.gammainc(df / 2, y)

  logcdf = derived(lax.log, "cdf")

  @promoted
  def sf(x, df, loc=0, scale=1):
    y = lax.clamp(_c(x, 0), (x - loc) / (scale * 2), _c(x, np.inf))
    return sp.gammaincc(df / 2, y)

  logsf = derived(lax.log, "sf")


class uniform(Distribution):
  """The uniform distribution on [loc, loc + scale]."""

  @promoted
  def logpdf(x, loc=0, scale=1):
    return _jnp().where((x > loc + scale) | (x < loc), -np.inf, -lax.log(scale))

  pdf = derived(lax.exp, "logpdf")

  @promoted
  def cdf(x, loc=0, scale=1):
    jnp = _jnp()
    inside = (x >= loc) & (x <= loc + scale)
    return jnp.select([x < loc, x > loc + scale, inside],
                      [_c(x, 0), _c(x, 1), _std(x, loc, scale)])

  @promoted
  def ppf(q, loc=0, scale=1):
    jnp = _jnp()
    return jnp.where(jnp.isnan(q) | (q < 0) | (q > 1), np.nan, loc + scale * q)


class pareto(Distribution):
  """The Pareto distribution with shape b."""

  @promoted
  def logpdf(x, b, loc=0, scale=1):
    z = _std(x, loc, scale)
    lp = -(lax.log(scale / b) + (b + 1) * lax.log(z))
    return _jnp().where(x < loc + scale, -np.inf, lp)

  pdf = derived(lax.exp, "logpdf")

  @promoted
  def cdf(x, b, loc=0, scale=1):
    z = _std(x, loc, scale)
    return _jnp().where(x < loc + scale, _c(x, 0), 1 - z ** -b)

  @promoted
  def logcdf(x, b, loc=0, scale=1):
    z = _std(x, loc, scale)
    return _jnp().where(x < loc + scale, -np.inf, lax.log1p(-(z ** -b)))

  @promoted
  def logsf(x, b, loc=0, scale=1):
    z = _std(x, loc, scale)
    return _jnp().where(x < loc + scale, _c(x, 0), -(b * lax.log(z)))

  sf = derived(lax.exp, "logsf")

  @promoted
  def ppf(q, b, loc=0, scale=1):
    jnp = _jnp()
    val = loc + scale * (1 - q) ** -(1 / b)
    return jnp.where(jnp.isnan(q) | (q < 0) | (q > 1), np.nan, val)


def _log_diff(x, y):
  """log(exp(x) - exp(y)) for x >= y."""
  jnp = _jnp()
  return sp.logsumexp(jnp.stack([x, y]), b=jnp.stack([jnp.ones_like(x), -jnp.ones_like(y)]),
                      axis=0)


def _log_gauss_mass(a, b):
  """log(Phi(b) - Phi(a)), accurate in both tails and in the middle."""
  jnp = _jnp()
  a, b = jnp.broadcast_arrays(jnp.asarray(a), jnp.asarray(b))
  left = b <= 0
  right = a > 0
  central = ~(left | right)
  at = jnp.where(right, -b, a)
  bt = jnp.where(right, -a, b)
  tail = _log_diff(sp.log_ndtr(bt), sp.log_ndtr(at))
  mid = jnp.log1p(-sp.ndtr(a) - sp.ndtr(-b))
  return jnp.where(central, mid, tail)


class truncnorm(Distribution):
  """The normal distribution truncated to [a, b] (in standard units)."""

  @promoted
  def logpdf(x, a, b, loc=0, scale=1):
    jnp = _jnp()
    val = norm.logpdf(x, loc, scale) - _log_gauss_mass(a, b)
    z = _std(x, loc, scale)
    val = jnp.where((z < a) | (z > b), -np.inf, val)
    return jnp.where(a >= b, np.nan, val)

  pdf = derived(lax.exp, "logpdf")

  @promoted
  def logcdf(x, a, b, loc=0, scale=1):
    jnp = _jnp()
    x, a, b = jnp.broadcast_arrays(x, a, b)
    z = _std(x, loc, scale)
    mass = _log_gauss_mass(a, b)
    lc = _log_gauss_mass(a, z) - mass
    ls = _log_gauss_mass(z, b) - mass
    out = jnp.select([z >= b, z <= a, lc > -0.1, z > a],
                     [_c(z, 0), _c(z, -np.inf), jnp.log1p(-jnp.exp(ls)), lc])
    return jnp.where(a >= b, np.nan, out)

  cdf = derived(lax.exp, "logcdf")

  @promoted
  def logsf(x, a, b, loc=0, scale=1):
    return truncnorm.logcdf(-x, -b, -a, -loc, scale)

  sf = derived(lax.exp, "logsf")


class vonmises(Distribution):
  """The von Mises distribution on the circle."""

  @promoted
  def logpdf(x, kappa):
    jnp = _jnp()
    lp = kappa * (jnp.cos(x) - 1) - jnp.log(2 * np.pi * lsp.bessel_i0e(kappa))
    return jnp.where(kappa > 0, lp, np.nan)

  pdf = derived(lax.exp, "logpdf")


class wrapcauchy(Distribution):
  """The wrapped Cauchy distribution on [0, 2 pi]."""

  @promoted
  def logpdf(x, c):
    jnp = _jnp()
    lp = jnp.log(1 - c * c) - jnp.log(2 * np.pi) - jnp.log(1 + c * c - 2 * c * jnp.cos(x))
    inside = jnp.where((x >= 0) & (x <= 2 * np.pi), lp, -np.inf)
    return jnp.where((c > 0) & (c < 1), inside, np.nan)

  pdf = derived(lax.exp, "logpdf")


class gennorm(Distribution):
  """The generalised normal distribution with shape beta."""

  @promoted
  def logpdf(x, beta):
    return lax.log(0.5 * beta) - lax.lgamma(1 / beta) - lax.abs(x) ** beta

  pdf = derived(lax.exp, "logpdf")

  @promoted
  def cdf(x, beta):
    return 0.5 * (1 + lax.sign(x) * sp.gammainc(1 / beta, lax.abs(x) ** beta))


class gumbel_r(Distribution):
  """The right-skewed Gumbel (extreme value) distribution."""

  @promoted
  def logpdf(x, loc=0, scale=1):
    z = _std(x, loc, scale)
    lp = sp.xlogy(_c(scale, -1), scale) - (z + lax.exp(-z))
    return _jnp().where(scale > 0, lp, np.nan)

  pdf = derived(lax.exp, "logpdf")

  @promoted
  def logcdf(x, loc=0, scale=1):
    return _jnp().where(scale > 0, -lax.exp(-_std(x, loc, scale)), np.nan)

  cdf = derived(lax.exp, "logcdf")

  @promoted
  def ppf(p, loc=0, scale=1):
    q = loc - scale * lax.log(sp.xlogy(_c(p, -1), p))
    return _jnp().where((p > 0) & (p < 1), q, np.nan)

  @promoted
  def sf(x, loc=0, scale=1):
    val = 1 - lax.exp(-lax.exp((loc - x) / scale))
    return _jnp().where(scale > 0, val, np.nan)

  @promoted
  def logsf(x, loc=0, scale=1):
    from numjax._src.nn.functions import log1mexp
    return _jnp().where(scale > 0, log1mexp(lax.exp((loc - x) / scale)), np.nan)


class gumbel_l(Distribution):
  """The left-skewed Gumbel (extreme value) distribution."""

  @promoted
  def logpdf(x, loc=0, scale=1):
    z = _std(x, loc, scale)
    lp = sp.xlogy(_c(scale, -1), scale) + (z - lax.exp(z))
    return _jnp().where(scale > 0, lp, np.nan)

  pdf = derived(lax.exp, "logpdf")

  @promoted
  def logcdf(x, loc=0, scale=1):
    val = lax.log(-lax.expm1(-lax.exp(_std(x, loc, scale))))
    return _jnp().where(scale > 0, val, np.nan)

  cdf = derived(lax.exp, "logcdf")

  @promoted
  def ppf(p, loc=0, scale=1):
    q = loc + scale * lax.log(sp.xlog1py(_c(p, -1), -p))
    return _jnp().where((p > 0) & (p < 1), q, np.nan)

  @promoted
  def logsf(x, loc=0, scale=1):
    return _jnp().where(scale > 0, -lax.exp(_std(x, loc, scale)), np.nan)

  sf = derived(lax.exp, "logsf")


CONTINUOUS = (norm, beta, gamma, t, cauchy, laplace, logistic, expon, chi2, uniform, pareto,
              truncnorm, vonmises, wrapcauchy, gennorm, gumbel_r, gumbel_l)
