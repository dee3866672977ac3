"""jax.scipy.stats: the continuous univariate distributions. Each is a namespace class of
its functions (the public numjax.scipy.stats.<name> modules re-export them). Written with
jnp/lax and the special functions, so every function jits, vmaps and differentiates.
Arguments are promoted to a common inexact dtype and broadcast, as in JAX.
"""
from __future__ import annotations

import numpy as np

from numjax._src.lax import lax
from numjax._src.lax import special as lsp
from numjax._src.numpy.util import promote_args_inexact
from numjax._src.scipy import special as sp


def _jnp():
  import numjax.numpy as jnp
  return jnp


def _c(x, v):
  return lax._const(x, v)


def _std(x, loc, scale):
  return (x - loc) / scale  # jnp operators: NumPy broadcasting of the parameters


class norm:
  """The normal distribution N(loc, scale^2)."""

  @staticmethod
  def logpdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("norm.logpdf", x, loc, scale)
    s2 = lax.square(scale)
    lognorm = lax.log(_c(x, 2 * np.pi) * s2)
    quad = lax.square(x - loc) / s2
    return (lognorm + quad) / _c(x, -2)

  @staticmethod
  def pdf(x, loc=0, scale=1):
    return lax.exp(norm.logpdf(x, loc, scale))

  @staticmethod
  def cdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("norm.cdf", x, loc, scale)
    return sp.ndtr(_std(x, loc, scale))

  @staticmethod
  def logcdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("norm.logcdf", x, loc, scale)
    return sp.log_ndtr(_std(x, loc, scale))

  @staticmethod
  def sf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("norm.sf", x, loc, scale)
    return norm.cdf(-x, -loc, scale)

  @staticmethod
  def logsf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("norm.logsf", x, loc, scale)
    return norm.logcdf(-x, -loc, scale)

  @staticmethod
  def ppf(q, loc=0, scale=1):
    jnp = _jnp()
    q, loc, scale = promote_args_inexact("norm.ppf", q, loc, scale)
    return sp.ndtri(q) * scale + loc

  @staticmethod
  def isf(q, loc=0, scale=1):
    q, loc, scale = promote_args_inexact("norm.isf", q, loc, scale)
    return norm.ppf(_c(q, 1) - q, loc, scale)


class beta:
  """The beta distribution on [loc, loc + scale]."""

  @staticmethod
  def logpdf(x, a, b, loc=0, scale=1):
    jnp = _jnp()
    x, a, b, loc, scale = promote_args_inexact("beta.logpdf", x, a, b, loc, scale)
    one = _c(x, 1)
    y = _std(x, loc, scale)
    lin = sp.xlogy(a - one, y) + sp.xlog1py(b - one, -y)
    lp = lin - sp.betaln(a, b) - lax.log(scale)
    out = jnp.where((x > loc + scale) | (x < loc), -np.inf, lp)
    return jnp.where((a <= 0) | (b <= 0) | (scale <= 0), np.nan, out)

  @staticmethod
  def pdf(x, a, b, loc=0, scale=1):
    return lax.exp(beta.logpdf(x, a, b, loc, scale))

  @staticmethod
  def cdf(x, a, b, loc=0, scale=1):
    x, a, b, loc, scale = promote_args_inexact("beta.cdf", x, a, b, loc, scale)
    y = lax.clamp(_c(x, 0), _std(x, loc, scale), _c(x, 1))
    return sp.betainc(a, b, y)

  @staticmethod
  def logcdf(x, a, b, loc=0, scale=1):
    return lax.log(beta.cdf(x, a, b, loc, scale))

  @staticmethod
  def sf(x, a, b, loc=0, scale=1):
    x, a, b, loc, scale = promote_args_inexact("beta.sf", x, a, b, loc, scale)
    y = lax.clamp(_c(x, 0), _std(x, loc, scale), _c(x, 1))
    return sp.betainc(b, a, 1 - y)

  @staticmethod
  def logsf(x, a, b, loc=0, scale=1):
    return lax.log(beta.sf(x, a, b, loc, scale))


class gamma:
  """The gamma distribution with shape a."""

  @staticmethod
  def logpdf(x, a, loc=0, scale=1):
    jnp = _jnp()
    x, a, loc, scale = promote_args_inexact("gamma.logpdf", x, a, loc, scale)
    ok = x >= loc
    y = jnp.where(ok, _std(x, loc, scale), _c(x, 1))
    lp = sp.xlogy(a - 1, y) - y - (sp.gammaln(a) + lax.log(scale))
    return jnp.where(ok, lp, -np.inf)

  @staticmethod
  def pdf(x, a, loc=0, scale=1):
    return lax.exp(gamma.logpdf(x, a, loc, scale))

  @staticmethod
  def cdf(x, a, loc=0, scale=1):
    x, a, loc, scale = promote_args_inexact("gamma.cdf", x, a, loc, scale)
    return sp.gammainc(a, lax.clamp(_c(x, 0), _std(x, loc, scale), _c(x, np.inf)))

  @staticmethod
  def logcdf(x, a, loc=0, scale=1):
    return lax.log(gamma.cdf(x, a, loc, scale))

  @staticmethod
  def sf(x, a, loc=0, scale=1):
    jnp = _jnp()
    x, a, loc, scale = promote_args_inexact("gamma.sf", x, a, loc, scale)
    y = _std(x, loc, scale)
    return jnp.where(y < 0, _c(y, 1), sp.gammaincc(a, jnp.maximum(y, 0)))

  @staticmethod
  def logsf(x, a, loc=0, scale=1):
    return lax.log(gamma.sf(x, a, loc, scale))


class t:
  """Student's t distribution with df degrees of freedom."""

  @staticmethod
  def logpdf(x, df, loc=0, scale=1):
    x, df, loc, scale = promote_args_inexact("t.logpdf", x, df, loc, scale)
    z = _std(x, loc, scale)
    h = df / 2
    h1 = h + 0.5
    norm_ = lax.lgamma(h) + lax.log(scale * scale * np.pi * df) / 2 - lax.lgamma(h1)
    return -(norm_ + h1 * lax.log1p(z * z / df))

  @staticmethod
  def pdf(x, df, loc=0, scale=1):
    return lax.exp(t.logpdf(x, df, loc, scale))


class cauchy:
  """The Cauchy distribution."""

  @staticmethod
  def logpdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("cauchy.logpdf", x, loc, scale)
    z = _std(x, loc, scale)
    return -(lax.log(_c(x, np.pi) * scale) + lax.log1p(z * z))

  @staticmethod
  def pdf(x, loc=0, scale=1):
    return lax.exp(cauchy.logpdf(x, loc, scale))

  @staticmethod
  def cdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("cauchy.cdf", x, loc, scale)
    return _c(x, 0.5) + lax.atan(_std(x, loc, scale)) / _c(x, np.pi)

  @staticmethod
  def logcdf(x, loc=0, scale=1):
    return lax.log(cauchy.cdf(x, loc, scale))

  @staticmethod
  def sf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("cauchy.sf", x, loc, scale)
    return cauchy.cdf(-x, -loc, scale)

  @staticmethod
  def logsf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("cauchy.logsf", x, loc, scale)
    return cauchy.logcdf(-x, -loc, scale)

  @staticmethod
  def ppf(q, loc=0, scale=1):
    q, loc, scale = promote_args_inexact("cauchy.ppf", q, loc, scale)
    return lax.tan(_c(q, np.pi) * q - _c(q, np.pi / 2)) * scale + loc

  @staticmethod
  def isf(q, loc=0, scale=1):
    q, loc, scale = promote_args_inexact("cauchy.isf", q, loc, scale)
    return lax.tan(_c(q, np.pi / 2) - _c(q, np.pi) * q) * scale + loc


class laplace:
  """The Laplace (double exponential) distribution."""

  @staticmethod
  def logpdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("laplace.logpdf", x, loc, scale)
    return -(lax.abs(x - loc) / scale + lax.log(_c(x, 2) * scale))

  @staticmethod
  def pdf(x, loc=0, scale=1):
    return lax.exp(laplace.logpdf(x, loc, scale))

  @staticmethod
  def cdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("laplace.cdf", x, loc, scale)
    d = _std(x, loc, scale)
    return lax.select(d <= 0, _c(x, 0.5) * lax.exp(d), _c(x, 1) - _c(x, 0.5) * lax.exp(-d))


class logistic:
  """The logistic distribution."""

  @staticmethod
  def logpdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("logistic.logpdf", x, loc, scale)
    h = _std(x, loc, scale) / 2
    return -2 * _jnp().logaddexp(h, -h) - lax.log(scale)

  @staticmethod
  def pdf(x, loc=0, scale=1):
    return lax.exp(logistic.logpdf(x, loc, scale))

  @staticmethod
  def cdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("logistic.cdf", x, loc, scale)
    return sp.expit(_std(x, loc, scale))

  @staticmethod
  def sf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("logistic.sf", x, loc, scale)
    return sp.expit(-_std(x, loc, scale))

  @staticmethod
  def ppf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("logistic.ppf", x, loc, scale)
    return sp.logit(x) * scale + loc

  @staticmethod
  def isf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("logistic.isf", x, loc, scale)
    return -sp.logit(x) * scale + loc


class expon:
  """The exponential distribution."""

  @staticmethod
  def logpdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("expon.logpdf", x, loc, scale)
    lp = -(_std(x, loc, scale) + lax.log(scale))
    return _jnp().where(x < loc, -np.inf, lp)

  @staticmethod
  def pdf(x, loc=0, scale=1):
    return lax.exp(expon.logpdf(x, loc, scale))

  @staticmethod
  def cdf(x, loc=0, scale=1):
    jnp = _jnp()
    x, loc, scale = promote_args_inexact("expon.cdf", x, loc, scale)
    nz = (loc - x) / scale
    return jnp.where(x < loc, jnp.zeros_like(nz), -lax.expm1(nz))

  @staticmethod
  def logsf(x, loc=0, scale=1):
    jnp = _jnp()
    x, loc, scale = promote_args_inexact("expon.logsf", x, loc, scale)
    nz = (loc - x) / scale
    return jnp.where(x < loc, jnp.zeros_like(nz), nz)

  @staticmethod
  def sf(x, loc=0, scale=1):
    return lax.exp(expon.logsf(x, loc, scale))

  @staticmethod
  def logcdf(x, loc=0, scale=1):
    return lax.log1p(-expon.sf(x, loc, scale))

  @staticmethod
  def ppf(q, loc=0, scale=1):
    jnp = _jnp()
    q, loc, scale = promote_args_inexact("expon.ppf", q, loc, scale)
    return jnp.where(jnp.isnan(q) | (q < 0) | (q > 1), np.nan, loc - scale * lax.log1p(-q))


class chi2:
  """The chi-squared distribution with df degrees of freedom."""

  @staticmethod
  def logpdf(x, df, loc=0, scale=1):
    x, df, loc, scale = promote_args_inexact("chi2.logpdf", x, df, loc, scale)
    y = _std(x, loc, scale)
    h = df / 2
    kernel = (h - 1) * lax.log(y) - y / 2
    const = -(lax.lgamma(h) + lax.log(_c(x, 2)) * df / 2)
    return _jnp().where(x < loc, -np.inf, const - lax.log(scale) + kernel)

  @staticmethod
  def pdf(x, df, loc=0, scale=1):
    return lax.exp(chi2.logpdf(x, df, loc, scale))

  @staticmethod
  def cdf(x, df, loc=0, scale=1):
    x, df, loc, scale = promote_args_inexact("chi2.cdf", x, df, loc, scale)
    y = lax.clamp(_c(x, 0), (x - loc) / (scale * 2), _c(x, np.inf))
    return sp.gammainc(df / 2, y)

  @staticmethod
  def logcdf(x, df, loc=0, scale=1):
    return lax.log(chi2.cdf(x, df, loc, scale))

  @staticmethod
  def sf(x, df, loc=0, scale=1):
    x, df, loc, scale = promote_args_inexact("chi2.sf", x, df, loc, scale)
    y = lax.clamp(_c(x, 0), (x - loc) / (scale * 2), _c(x, np.inf))
    return sp.gammaincc(df / 2, y)

  @staticmethod
  def logsf(x, df, loc=0, scale=1):
    return lax.log(chi2.sf(x, df, loc, scale))


class uniform:
  """The uniform distribution on [loc, loc + scale]."""

  @staticmethod
  def logpdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("uniform.logpdf", x, loc, scale)
    return _jnp().where((x > loc + scale) | (x < loc), -np.inf, -lax.log(scale))

  @staticmethod
  def pdf(x, loc=0, scale=1):
    return lax.exp(uniform.logpdf(x, loc, scale))

  @staticmethod
  def cdf(x, loc=0, scale=1):
    jnp = _jnp()
    x, loc, scale = promote_args_inexact("uniform.cdf", x, loc, scale)
    inside = (x >= loc) & (x <= loc + scale)
    return jnp.select([x < loc, x > loc + scale, inside],
                      [_c(x, 0), _c(x, 1), _std(x, loc, scale)])

  @staticmethod
  def ppf(q, loc=0, scale=1):
    jnp = _jnp()
    q, loc, scale = promote_args_inexact("uniform.ppf", q, loc, scale)
    return jnp.where(jnp.isnan(q) | (q < 0) | (q > 1), np.nan, loc + scale * q)


class pareto:
  """The Pareto distribution with shape b."""

  @staticmethod
  def logpdf(x, b, loc=0, scale=1):
    x, b, loc, scale = promote_args_inexact("pareto.logpdf", x, b, loc, scale)
    z = _std(x, loc, scale)
    lp = -(lax.log(scale / b) + (b + 1) * lax.log(z))
    return _jnp().where(x < loc + scale, -np.inf, lp)

  @staticmethod
  def pdf(x, b, loc=0, scale=1):
    return lax.exp(pareto.logpdf(x, b, loc, scale))

  @staticmethod
  def cdf(x, b, loc=0, scale=1):
    x, b, loc, scale = promote_args_inexact("pareto.cdf", x, b, loc, scale)
    z = _std(x, loc, scale)
    return _jnp().where(x < loc + scale, _c(x, 0), 1 - z ** -b)

  @staticmethod
  def logcdf(x, b, loc=0, scale=1):
    x, b, loc, scale = promote_args_inexact("pareto.logcdf", x, b, loc, scale)
    z = _std(x, loc, scale)
    return _jnp().where(x < loc + scale, -np.inf, lax.log1p(-(z ** -b)))

  @staticmethod
  def logsf(x, b, loc=0, scale=1):
    x, b, loc, scale = promote_args_inexact("pareto.logsf", x, b, loc, scale)
    z = _std(x, loc, scale)
    return _jnp().where(x < loc + scale, _c(x, 0), -(b * lax.log(z)))

  @staticmethod
  def sf(x, b, loc=0, scale=1):
    return lax.exp(pareto.logsf(x, b, loc, scale))

  @staticmethod
  def ppf(q, b, loc=0, scale=1):
    jnp = _jnp()
    q, b, loc, scale = promote_args_inexact("pareto.ppf", q, b, loc, scale)
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


class truncnorm:
  """The normal distribution truncated to [a, b] (in standard units)."""

  @staticmethod
  def logpdf(x, a, b, loc=0, scale=1):
    jnp = _jnp()
    x, a, b, loc, scale = promote_args_inexact("truncnorm.logpdf", x, a, b, loc, scale)
    val = norm.logpdf(x, loc, scale) - _log_gauss_mass(a, b)
    z = _std(x, loc, scale)
    val = jnp.where((z < a) | (z > b), -np.inf, val)
    return jnp.where(a >= b, np.nan, val)

  @staticmethod
  def pdf(x, a, b, loc=0, scale=1):
    return lax.exp(truncnorm.logpdf(x, a, b, loc, scale))

  @staticmethod
  def logcdf(x, a, b, loc=0, scale=1):
    jnp = _jnp()
    x, a, b, loc, scale = promote_args_inexact("truncnorm.logcdf", x, a, b, loc, scale)
    x, a, b = jnp.broadcast_arrays(x, a, b)
    z = _std(x, loc, scale)
    mass = _log_gauss_mass(a, b)
    lc = _log_gauss_mass(a, z) - mass
    ls = _log_gauss_mass(z, b) - mass
    out = jnp.select([z >= b, z <= a, lc > -0.1, z > a],
                     [_c(z, 0), _c(z, -np.inf), jnp.log1p(-jnp.exp(ls)), lc])
    return jnp.where(a >= b, np.nan, out)

  @staticmethod
  def cdf(x, a, b, loc=0, scale=1):
    return lax.exp(truncnorm.logcdf(x, a, b, loc, scale))

  @staticmethod
  def logsf(x, a, b, loc=0, scale=1):
    x, a, b, loc, scale = promote_args_inexact("truncnorm.logsf", x, a, b, loc, scale)
    return truncnorm.logcdf(-x, -b, -a, -loc, scale)

  @staticmethod
  def sf(x, a, b, loc=0, scale=1):
    return lax.exp(truncnorm.logsf(x, a, b, loc, scale))


class vonmises:
  """The von Mises distribution on the circle."""

  @staticmethod
  def logpdf(x, kappa):
    jnp = _jnp()
    x, kappa = promote_args_inexact("vonmises.logpdf", x, kappa)
    lp = kappa * (jnp.cos(x) - 1) - jnp.log(2 * np.pi * lsp.bessel_i0e(kappa))
    return jnp.where(kappa > 0, lp, np.nan)

  @staticmethod
  def pdf(x, kappa):
    return lax.exp(vonmises.logpdf(x, kappa))


class wrapcauchy:
  """The wrapped Cauchy distribution on [0, 2 pi]."""

  @staticmethod
  def logpdf(x, c):
    jnp = _jnp()
    x, c = promote_args_inexact("wrapcauchy.logpdf", x, c)
    lp = jnp.log(1 - c * c) - jnp.log(2 * np.pi) - jnp.log(1 + c * c - 2 * c * jnp.cos(x))
    inside = jnp.where((x >= 0) & (x <= 2 * np.pi), lp, -np.inf)
    return jnp.where((c > 0) & (c < 1), inside, np.nan)

  @staticmethod
  def pdf(x, c):
    return lax.exp(wrapcauchy.logpdf(x, c))


class gennorm:
  """The generalised normal distribution with shape beta."""

  @staticmethod
  def logpdf(x, beta):
    x, beta = promote_args_inexact("gennorm.logpdf", x, beta)
    return lax.log(0.5 * beta) - lax.lgamma(1 / beta) - lax.abs(x) ** beta

  @staticmethod
  def pdf(x, beta):
    return lax.exp(gennorm.logpdf(x, beta))

  @staticmethod
  def cdf(x, beta):
    x, beta = promote_args_inexact("gennorm.cdf", x, beta)
    return 0.5 * (1 + lax.sign(x) * sp.gammainc(1 / beta, lax.abs(x) ** beta))


class gumbel_r:
  """The right-skewed Gumbel (extreme value) distribution."""

  @staticmethod
  def logpdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("gumbel_r.logpdf", x, loc, scale)
    z = _std(x, loc, scale)
    lp = sp.xlogy(_c(scale, -1), scale) - (z + lax.exp(-z))
    return _jnp().where(scale > 0, lp, np.nan)

  @staticmethod
  def pdf(x, loc=0, scale=1):
    return lax.exp(gumbel_r.logpdf(x, loc, scale))

  @staticmethod
  def logcdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("gumbel_r.logcdf", x, loc, scale)
    return _jnp().where(scale > 0, -lax.exp(-_std(x, loc, scale)), np.nan)

  @staticmethod
  def cdf(x, loc=0, scale=1):
    return lax.exp(gumbel_r.logcdf(x, loc, scale))

  @staticmethod
  def ppf(p, loc=0, scale=1):
    p, loc, scale = promote_args_inexact("gumbel_r.ppf", p, loc, scale)
    q = loc - scale * lax.log(sp.xlogy(_c(p, -1), p))
    return _jnp().where((p > 0) & (p < 1), q, np.nan)

  @staticmethod
  def sf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("gumbel_r.sf", x, loc, scale)
    val = 1 - lax.exp(-lax.exp((loc - x) / scale))
    return _jnp().where(scale > 0, val, np.nan)

  @staticmethod
  def logsf(x, loc=0, scale=1):
    from numjax._src.nn.functions import log1mexp
    x, loc, scale = promote_args_inexact("gumbel_r.logsf", x, loc, scale)
    return _jnp().where(scale > 0, log1mexp(lax.exp((loc - x) / scale)), np.nan)


class gumbel_l:
  """The left-skewed Gumbel (extreme value) distribution."""

  @staticmethod
  def logpdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("gumbel_l.logpdf", x, loc, scale)
    z = _std(x, loc, scale)
    lp = sp.xlogy(_c(scale, -1), scale) + (z - lax.exp(z))
    return _jnp().where(scale > 0, lp, np.nan)

  @staticmethod
  def pdf(x, loc=0, scale=1):
    return lax.exp(gumbel_l.logpdf(x, loc, scale))

  @staticmethod
  def logcdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("gumbel_l.logcdf", x, loc, scale)
    val = lax.log(-lax.expm1(-lax.exp(_std(x, loc, scale))))
    return _jnp().where(scale > 0, val, np.nan)

  @staticmethod
  def cdf(x, loc=0, scale=1):
    return lax.exp(gumbel_l.logcdf(x, loc, scale))

  @staticmethod
  def ppf(p, loc=0, scale=1):
    p, loc, scale = promote_args_inexact("gumbel_l.ppf", p, loc, scale)
    q = loc + scale * lax.log(sp.xlog1py(_c(p, -1), -p))
    return _jnp().where((p > 0) & (p < 1), q, np.nan)

  @staticmethod
  def logsf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact("gumbel_l.logsf", x, loc, scale)
    return _jnp().where(scale > 0, -lax.exp(_std(x, loc, scale)), np.nan)

  @staticmethod
  def sf(x, loc=0, scale=1):
    return _jnp().exp(gumbel_l.logsf(x, loc, scale))


CONTINUOUS = (norm, beta, gamma, t, cauchy, laplace, logistic, expon, chi2, uniform, pareto,
              truncnorm, vonmises, wrapcauchy, gennorm, gumbel_r, gumbel_l)
