"""jax.scipy.stats: mode, rankdata, sem and gaussian_kde, written with jnp/lax."""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from numjax._src import dtypes
from numjax._src.lax import lax
from numjax._src.numpy import util
from numjax._src.scipy import special as sp


def _jnp():
  import numjax.numpy as jnp
  return jnp


class ModeResult(NamedTuple):
  mode: object
  count: object


def _check_nan_policy(name, nan_policy):
  if nan_policy not in ("propagate", "omit", "raise"):
    raise ValueError(f"Illegal nan_policy value {nan_policy!r}; expected one of "
                     "{'propagate', 'omit', 'raise'}")
  if nan_policy == "omit":
    raise NotImplementedError(f"Logic for `nan_policy` of {nan_policy} is not implemented")
  if nan_policy == "raise":
    raise NotImplementedError(f"In order to best JIT compile `{name}`, we cannot know whether "
                              "`x` contains nans. Please check if nans exist in `x` outside "
                              f"of the `{name}` function.")


def mode(a, axis=0, nan_policy="propagate", keepdims=False):
  """Implementation of scipy.stats.mode: the most frequent value (the smallest among ties)
  along `axis` and its count."""
  from numjax._src.vmap import vmap
  jnp = _jnp()
  util.check_arraylike("mode", a)
  x = jnp.atleast_1d(a)
  _check_nan_policy("mode", nan_policy)
  if axis is not None:
    axis = util.canonicalize_axis(axis, x.ndim)
  shape = x.shape
  if keepdims:
    out_shape = tuple(1 for _ in shape) if axis is None else \
        tuple(1 if i == axis else s for i, s in enumerate(shape))
  else:
    out_shape = () if axis is None else tuple(s for i, s in enumerate(shape) if i != axis)
  if axis is None:
    axis, x = 0, jnp.ravel(x)
  x = jnp.moveaxis(x, axis, 0)
  x = jnp.reshape(x, (x.shape[0], math.prod(x.shape[1:])))

  def one(col):
    if col.size == 0:
      nan = jnp.array(np.nan, dtype=dtypes.default_float_dtype())
      return nan, jnp.array(0, dtype=dtypes.default_float_dtype())
    # sort, then count runs: the count at each position is its run length
    s = jnp.sort(col)
    n = s.shape[0]
    starts = jnp.concatenate([jnp.array([True]), s[1:] != s[:-1]])
    run_id = jnp.cumsum(starts) - 1
    counts = jnp.zeros(n, jnp.int32).at[run_id].add(1)
    best = jnp.argmax(counts)  # first maximal run: the smallest value among ties
    first = jnp.nonzero(starts, size=n, fill_value=0)[0][best]
    return s[first], counts[best]
  vals, counts = vmap(one, in_axes=1)(x)
  return ModeResult(jnp.reshape(vals, out_shape), jnp.reshape(counts, out_shape))


def rankdata(a, method="average", *, axis=None, nan_policy="propagate"):
  """Implementation of scipy.stats.rankdata (methods average, min, max, dense, ordinal;
  all NaN where a NaN is present)."""
  from numjax._src.vmap import vmap
  jnp = _jnp()
  util.check_arraylike("rankdata", a)
  _check_nan_policy("rankdata", nan_policy)
  if method not in ("average", "min", "max", "dense", "ordinal"):
    raise ValueError(f"unknown method '{method}'")
  a = jnp.asarray(a)
  if axis is not None:
    axis = util.canonicalize_axis(axis, a.ndim)
    moved = jnp.moveaxis(a, axis, -1)
    flat = jnp.reshape(moved, (-1, moved.shape[-1]))
    out = vmap(lambda r: rankdata(r, method))(flat)
    return jnp.moveaxis(jnp.reshape(out, moved.shape), -1, axis)
  a = jnp.ravel(a)
  out_dt = dtypes.default_float_dtype()
  n = a.size
  from numjax._src.lax.sorting import sort_key_val
  arr, sorter = sort_key_val(a, jnp.arange(n, dtype=jnp.int32))
  inv = jnp.zeros(n, jnp.int32).at[sorter].set(jnp.arange(n, dtype=jnp.int32))
  if method == "ordinal":
    ranks = (inv + 1).astype(out_dt)
  else:
    obs = jnp.concatenate([jnp.array([True]), arr[1:] != arr[:-1]])
    dense = jnp.cumsum(obs)[inv]
    if method == "dense":
      ranks = dense.astype(out_dt)
    else:
      count = jnp.nonzero(obs, size=n + 1, fill_value=n)[0].astype(out_dt)
      if method == "max":
        ranks = count[dense]
      elif method == "min":
        ranks = count[dense - 1] + 1
      else:
        ranks = 0.5 * (count[dense] + count[dense - 1] + 1)
  return jnp.where(jnp.any(jnp.isnan(a)), jnp.full_like(ranks, np.nan), ranks)


def sem(a, axis=0, ddof=1, nan_policy="propagate", *, keepdims=False):
  """Implementation of scipy.stats.sem: the standard error of the mean."""
  jnp = _jnp()
  (b,) = util.promote_args_inexact("sem", a)
  if nan_policy == "propagate":
    size = b.size if axis is None else b.shape[axis]
    return jnp.std(b, axis, ddof=ddof, keepdims=keepdims) / jnp.sqrt(size).astype(b.dtype)
  if nan_policy == "omit":
    count = jnp.sum(~jnp.isnan(b), axis, keepdims=keepdims)
    return jnp.nanstd(b, axis, ddof=ddof, keepdims=keepdims) / jnp.sqrt(count).astype(b.dtype)
  raise ValueError(f"{nan_policy} is not supported")


# ---------------------------------------------------------------------------------------
# Kernel density estimation

def _register(cls):
  from numjax._src import tree_util
  tree_util.register_pytree_node(
      cls, lambda k: ((k.neff, k.dataset, k.weights, k.covariance, k.inv_cov), None),
      lambda aux, ch: cls._from_children(ch))
  return cls


@_register
class gaussian_kde:
  """Implementation of scipy.stats.gaussian_kde: a Gaussian kernel density estimate of
  d-dimensional data (dataset of shape (d, n)), optionally weighted; bandwidth by Scott's
  or Silverman's rule, a scalar factor or a callable. A pytree (usable under jit/vmap)."""
  __slots__ = ("neff", "dataset", "weights", "covariance", "inv_cov")

  def __init__(self, dataset, bw_method=None, weights=None):
    jnp = _jnp()
    util.check_arraylike("gaussian_kde", dataset)
    dataset = jnp.atleast_2d(dataset)
    if dtypes.issubdtype(dataset.dtype, np.complexfloating):
      raise NotImplementedError("gaussian_kde does not support complex data")
    if not dataset.size > 1:
      raise ValueError("`dataset` input should have multiple elements.")
    d, n = dataset.shape
    if weights is not None:
      util.check_arraylike("gaussian_kde", weights)
      dataset, weights = util.promote_dtypes_inexact(dataset, weights)
      weights = jnp.atleast_1d(weights)
      weights = weights / jnp.sum(weights)
      if weights.ndim != 1:
        raise ValueError("`weights` input should be one-dimensional.")
      if len(weights) != n:
        raise ValueError("`weights` input should be of length n")
    else:
      (dataset,) = util.promote_dtypes_inexact(dataset)
      weights = jnp.full(n, 1.0 / n, dtype=dataset.dtype)
    self._set("dataset", dataset)
    self._set("weights", weights)
    neff = self._set("neff", 1 / jnp.sum(weights ** 2))
    bw = "scott" if bw_method is None else bw_method
    if isinstance(bw, str) and bw == "scott":
      factor = jnp.power(neff, -1.0 / (d + 4))
    elif isinstance(bw, str) and bw == "silverman":
      factor = jnp.power(neff * (d + 2) / 4.0, -1.0 / (d + 4))
    elif np.isscalar(bw) and not isinstance(bw, str):
      factor = bw
    elif callable(bw):
      factor = bw(self)
    else:
      raise ValueError("`bw_method` should be 'scott', 'silverman', a scalar, or a "
                       "callable.")
    # weighted covariance with the unbiased (reliability-weights) correction, as np.cov
    mean = jnp.sum(dataset * weights, axis=1, keepdims=True)
    dev = dataset - mean
    cov = (dev * weights) @ dev.T / (1 - jnp.sum(weights ** 2))
    cov = jnp.atleast_2d(cov)
    inv = jnp.linalg.inv(cov)
    self._set("covariance", cov * factor ** 2)
    self._set("inv_cov", inv / factor ** 2)

  def _set(self, name, value):
    object.__setattr__(self, name, value)
    return value

  @classmethod
  def _from_children(cls, children):
    k = cls.__new__(cls)
    for name, v in zip(cls.__slots__, children):
      k._set(name, v)
    return k

  @property
  def d(self):
    return self.dataset.shape[0]

  @property
  def n(self):
    return self.dataset.shape[1]

  def _points(self, points):
    jnp = _jnp()
    points = jnp.atleast_2d(jnp.asarray(points))
    if dtypes.issubdtype(points.dtype, np.complexfloating):
      raise NotImplementedError("gaussian_kde does not support complex coordinates")
    d, m = points.shape
    if d != self.d:
      if d == 1 and m == self.d:
        points = jnp.reshape(points, (self.d, 1))
      else:
        raise ValueError(f"points have dimension {d}, dataset has dimension {self.d}")
    return points

  def _kernel_sums(self, points, in_log):
    jnp = _jnp()
    data, w, xi, prec = util.promote_dtypes_inexact(self.dataset.T, self.weights, points.T,
                                                    self.inv_cov)
    white = jnp.linalg.cholesky(prec)
    pd = data @ white
    px = xi @ white
    d = data.shape[1]
    log_norm = jnp.sum(jnp.log(jnp.diag(white))) - 0.5 * d * np.log(2 * np.pi)
    sq = jnp.sum((px[:, None, :] - pd[None, :, :]) ** 2, axis=-1)     # (m, n)
    arg = log_norm - 0.5 * sq
    if in_log:
      return sp.logsumexp(arg + jnp.log(w)[None, :], axis=1)
    return jnp.sum(w[None, :] * jnp.exp(arg), axis=1)

  def evaluate(self, points):
    """The density at points (shape (d, m), or (m,) for d == 1)."""
    util.check_arraylike("evaluate", points)
    return self._kernel_sums(self._points(points), False)

  __call__ = evaluate
  pdf = evaluate

  def logpdf(self, x):
    """The log density at points x (stable: a logsumexp over the kernels)."""
    util.check_arraylike("logpdf", x)
    return self._kernel_sums(self._points(x), True)

  def integrate_gaussian(self, mean, cov):
    """The integral of the KDE times a Gaussian N(mean, cov)."""
    jnp = _jnp()
    mean = jnp.atleast_1d(jnp.squeeze(jnp.asarray(mean)))
    cov = jnp.atleast_2d(cov)
    if mean.shape != (self.d,):
      raise ValueError(f"mean does not have dimension {self.d}")
    if cov.shape != (self.d, self.d):
      raise ValueError(f"covariance does not have dimension {self.d}")
    return _convolve(self.covariance + cov, self.dataset, self.weights, mean)

  def integrate_box_1d(self, low, high):
    """The probability mass between low and high (1-d KDEs)."""
    jnp = _jnp()
    if self.d != 1:
      raise ValueError("integrate_box_1d() only handles 1D pdfs")
    if np.ndim(low) != 0 or np.ndim(high) != 0:
      raise ValueError("the limits of integration in integrate_box_1d must be scalars")
    sigma = jnp.squeeze(jnp.sqrt(self.covariance))
    lo = jnp.squeeze((low - self.dataset) / sigma)
    hi = jnp.squeeze((high - self.dataset) / sigma)
    return jnp.sum(self.weights * (sp.ndtr(hi) - sp.ndtr(lo)))

  def integrate_kde(self, other):
    """The integral of the product of two KDEs."""
    from numjax._src.vmap import vmap
    jnp = _jnp()
    if other.d != self.d:
      raise ValueError("KDEs are not the same dimensionality")
    cov = self.covariance + other.covariance
    sm, lg = (self, other) if self.n < other.n else (other, self)
    vals = vmap(lambda m: _convolve(cov, lg.dataset, lg.weights, m), in_axes=1)(sm.dataset)
    return jnp.sum(vals * sm.weights)

  def resample(self, key, shape=()):
    """Draw samples (shape (d,) + shape) from the KDE."""
    import numjax.random as random
    jnp = _jnp()
    ind_key, eps_key = random.split(key)
    ind = random.choice(ind_key, self.n, shape=shape, p=self.weights)
    eps = random.multivariate_normal(eps_key, jnp.zeros(self.d, self.covariance.dtype),
                                     self.covariance, shape=shape, dtype=self.dataset.dtype)
    return self.dataset[:, ind] + jnp.moveaxis(eps, -1, 0)

  def integrate_box(self, low_bounds, high_bounds, maxpts=None):
    raise NotImplementedError("only 1D box integrations are supported; use "
                              "`integrate_box_1d`")

  def set_bandwidth(self, bw_method=None):
    raise NotImplementedError("dynamically changing the bandwidth method is not supported")


def _convolve(cov, target, weights, mean):
  """sum_i w_i N(target_i; mean, cov)."""
  jnp = _jnp()
  chol = jnp.linalg.cholesky(cov)
  diff = target - mean[:, None]
  from numjax._src.lax import linalg as lax_linalg
  z = lax_linalg.triangular_solve(chol, diff, left_side=True, lower=True)
  arg = 0.5 * jnp.sum(z * z, axis=0)
  norm = 1.0 / (np.sqrt(2 * np.pi) ** cov.shape[0] * jnp.prod(jnp.diag(chol)))
  return norm * jnp.sum(jnp.exp(-arg) * weights)
