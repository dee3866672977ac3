"""jnp miscellany: append/insert/delete, differences and integrals (diff, ediff1d,
gradient, trapezoid, unwrap), statistics (cov, corrcoef, histograms, bincount, digitize),
selection (choose, compress, extract, argwhere, flatnonzero, trim_zeros), function
application (apply_along_axis, apply_over_axes, vectorize), bit packing, vander and the
window functions.

Written with jnp/lax functions only, so everything traces, batches and differentiates
where the maths allows. Functions whose output size depends on the data need concrete
inputs, or a static `size=`/`length=` (as JAX).
"""
from __future__ import annotations

import builtins
import functools
import math
import operator
import re

import numpy as np

from numjax._src import core
from numjax._src import dtypes
from numjax._src.lax import lax
from numjax._src.lax import slicing as lax_slicing
from numjax._src.numpy import creation
from numjax._src.numpy import lax_numpy
from numjax._src.numpy import reductions
from numjax._src.numpy import ufuncs
from numjax._src.numpy import util
from numjax._src.numpy.sorting import argsort, searchsorted

_max, _min, _abs, _sum, _range = builtins.max, builtins.min, builtins.abs, builtins.sum, \
    builtins.range


def _int():
  return dtypes.canonicalize_dtype(dtypes.int_)


def _sl(a, start, stop, axis):
  """a[start:stop] along axis (Python slice semantics for negative/None bounds)."""
  start, stop, _ = slice(start, stop).indices(a.shape[axis])
  return lax_slicing.slice_in_dim(a, start, _max(start, stop), axis=axis)


def _static(x, what):
  return core.concrete_or_error(operator.index, x, f"The {what} argument must be static.")


# ---------------------------------------------------------------------------------------
# append / insert / delete

def append(arr, values, axis=None):
  """Implementation of numpy.append (axis=None flattens both)."""
  arr, values = util.ensure_arraylike("append", arr, values)
  if axis is None:
    return lax_numpy.concatenate([lax_numpy.ravel(arr), lax_numpy.ravel(values)], 0)
  return lax_numpy.concatenate([arr, values], axis=axis)


def insert(arr, obj, values, axis=None):
  """Implementation of numpy.insert: `values` go before the given indices (an int, a
  slice or an integer array; traced indices are fine, their count is static)."""
  util.check_arraylike("insert", arr, 0 if isinstance(obj, slice) else obj, values)
  a, values = util._asarray(arr), util._asarray(values)
  if axis is None:
    a, axis = lax_numpy.ravel(a), 0
  axis = util.canonicalize_axis(_static(axis, "axis of jnp.insert"), a.ndim)
  if isinstance(obj, slice):
    indices = creation.arange(*obj.indices(a.shape[axis]))
  else:
    indices = util._asarray(obj)
  if indices.ndim > 1:
    raise ValueError("jnp.insert(): obj must be a slice, a one-dimensional array, or a "
                     f"scalar; got {obj}")
  if not dtypes.issubdtype(indices.dtype, np.integer):
    if indices.size == 0 and not hasattr(obj, "aval"):
      indices = lax.convert_element_type(indices, _int())
    else:
      raise ValueError(f"jnp.insert(): index array must be integer typed; got {obj}")
  values = lax.convert_element_type(values, a.dtype, a.weak_type)
  if values.ndim < a.ndim:
    values = lax.reshape(values, (1,) * (a.ndim - values.ndim) + values.shape)
  if indices.size == 1:
    index = lax.reshape(indices, ())
    if indices.ndim == 0:
      values = lax_numpy.moveaxis(values, 0, axis)
    indices = lax.broadcast(index, (values.shape[axis],))
  n_in = a.shape[axis]
  n_new = lax_numpy.broadcast_shapes(indices.shape, (values.shape[axis],))[0]
  indices = lax_numpy.broadcast_to(indices, (n_new,))
  indices = lax.convert_element_type(indices, _int())
  indices = lax_numpy.where(ufuncs.less(indices, 0), ufuncs.add(indices, n_in), indices)
  indices = lax_numpy.clip(indices, 0, n_in)
  # Inserted value j lands at indices[j] + (its rank in a stable sort of the indices);
  # original entry i moves right by the number of insertions at or before it.
  order = argsort(indices)
  new_pos = lax.full((n_new,), 0, _int()).at[order].set(
      ufuncs.add(indices[order], lax.iota(_int(), n_new)))
  shifts = reductions.cumsum(lax.full((n_in + 1,), 0, _int()).at[indices].add(1))
  old_pos = ufuncs.add(lax.iota(_int(), n_in), _sl(shifts, 0, n_in, 0))
  out_shape = list(a.shape)
  out_shape[axis] += n_new
  vshape = list(a.shape)
  vshape[axis] = n_new
  values = lax_numpy.broadcast_to(values, tuple(vshape))
  out = lax.full(tuple(out_shape), 0, a.dtype)
  lead = (slice(None),) * axis
  out = out.at[lead + (new_pos,)].set(values)
  return out.at[lead + (old_pos,)].set(a)


def delete(arr, obj, axis=None, *, assume_unique_indices=False):
  """Implementation of numpy.delete. Integer-array `obj` must be concrete unless
  `assume_unique_indices=True` (then it may be traced)."""
  a = util.ensure_arraylike("delete", arr)
  if axis is None:
    a, axis = lax_numpy.ravel(a), 0
  axis = util.canonicalize_axis(axis, a.ndim)
  n = a.shape[axis]
  try:
    i = operator.index(obj)
  except TypeError:
    pass
  else:
    i = util.canonicalize_axis(i, n)
    return lax_numpy.concatenate([_sl(a, 0, i, axis), _sl(a, i + 1, None, axis)], axis)
  if isinstance(obj, slice):
    obj = np.arange(n)[obj]
    assume_unique_indices = True
  util.check_arraylike("delete", a, obj)
  if dtypes.issubdtype(dtypes.dtype(obj), np.integer) and assume_unique_indices:
    idx = lax_numpy.ravel(util._asarray(obj))
    idx = lax.convert_element_type(idx, _int())
    idx = lax_numpy.clip(lax_numpy.where(ufuncs.less(idx, 0), ufuncs.add(idx, n), idx), 0, n)
    removed = lax.full((n,), False, np.bool_).at[idx].set(True, mode="drop")
    keep = lax_numpy.nonzero(ufuncs.logical_not(removed), size=n - idx.shape[0])[0]
    return lax_numpy._take_traced(a, keep, axis)
  obj_np = core.concrete_or_error(np.asarray, obj, "'obj' array argument of jnp.delete()")
  if np.issubdtype(obj_np.dtype, np.integer):
    mask = np.ones(n, dtype=bool)
    mask[obj_np] = False
  elif obj_np.dtype == bool:
    if obj_np.shape != (n,):
      raise ValueError("np.delete(arr, obj): for boolean indices, obj must be one-dimensional "
                       "with length matching specified axis.")
    mask = ~obj_np
  else:
    raise ValueError(f"np.delete(arr, obj): got obj.dtype={obj_np.dtype}; must be integer or "
                     "bool.")
  return lax_numpy._take_static(a, np.nonzero(mask)[0], axis) if mask.any() else \
      _sl(a, 0, 0, axis)


# ---------------------------------------------------------------------------------------
# Differences, integrals, phase unwrapping

@util.jit_when_traced(static_argnames=("n", "axis"))
def diff(a, n=1, axis=-1, prepend=None, append=None):
  """Implementation of numpy.diff (booleans: not_equal of neighbours)."""
  arr = util.ensure_arraylike("diff", a)
  n = _static(n, "'n' argument of jnp.diff")
  axis = _static(axis, "'axis' argument of jnp.diff")
  if n == 0:
    return arr
  if n < 0:
    raise ValueError(f"order must be non-negative but got {n}")
  if arr.ndim == 0:
    raise ValueError(f"diff requires input that is at least one dimensional; got {a}")
  axis = util.canonicalize_axis(axis, arr.ndim)
  parts = []
  for extra, is_arr in ((prepend, False), (arr, True), (append, False)):
    if extra is None:
      continue
    if is_arr:
      parts.append(arr)
      continue
    e = util.ensure_arraylike("diff", extra)
    if e.ndim == 0:
      shape = list(arr.shape)
      shape[axis] = 1
      e = lax_numpy.broadcast_to(e, tuple(shape))
    parts.append(e)
  if len(parts) > 1:
    arr = lax_numpy.concatenate(parts, axis)
  op = ufuncs.not_equal if arr.dtype == np.bool_ else ufuncs.subtract
  for _ in _range(n):
    k = arr.shape[axis]
    arr = op(_sl(arr, 1, k, axis), _sl(arr, 0, k - 1, axis))
  return arr


def ediff1d(ary, to_end=None, to_begin=None):
  """Implementation of numpy.ediff1d (to_begin/to_end are cast to the input dtype)."""
  arr = lax_numpy.ravel(util.ensure_arraylike("ediff1d", ary))
  out = ufuncs.subtract(_sl(arr, 1, None, 0), _sl(arr, 0, -1, 0)) if arr.shape[0] else arr
  parts = []
  if to_begin is not None:
    parts.append(lax.convert_element_type(lax_numpy.ravel(util.ensure_arraylike(
        "ediff1d", to_begin)), out.dtype))
  parts.append(out)
  if to_end is not None:
    parts.append(lax.convert_element_type(lax_numpy.ravel(util.ensure_arraylike(
        "ediff1d", to_end)), out.dtype))
  return lax_numpy.concatenate(parts, 0) if len(parts) > 1 else out


def gradient(f, *varargs, axis=None, edge_order=None):
  """Implementation of numpy.gradient: central differences inside, one-sided first-order
  differences at the edges (edge_order is not supported, as JAX). Spacings are scalars or
  coordinate arrays."""
  if edge_order is not None:
    raise NotImplementedError("The 'edge_order' argument to jnp.gradient is not supported.")
  util.check_arraylike("gradient", f, *varargs)
  a, *spacing = util.promote_dtypes_inexact(f, *varargs)
  axes = util.canonicalize_axis_tuple(axis, a.ndim)
  if any(a.shape[ax] < 2 for ax in axes):
    raise ValueError("Shape of array too small to calculate a numerical gradient, at least "
                     "2 elements are required.")
  if not spacing:
    dx = [1.0] * len(axes)
  elif len(spacing) == 1:
    dx = spacing * len(axes)
  elif len(spacing) == len(axes):
    dx = spacing
  else:
    raise TypeError(f"Invalid number of spacing arguments {len(varargs)}")
  out = [_gradient_along(a, h, ax) for h, ax in zip(dx, axes)]
  return out[0] if len(axes) == 1 else out


def _gradient_along(a, h, axis):
  s = functools.partial(_sl, a, axis=axis)
  first = ufuncs.subtract(s(1, 2), s(0, 1))
  last = ufuncs.subtract(s(-1, None), s(-2, -1))
  if np.ndim(h) == 0:
    inner = ufuncs.divide(ufuncs.multiply(ufuncs.subtract(s(2, None), s(None, -2)), 0.5), h)
    first, last = ufuncs.divide(first, h), ufuncs.divide(last, h)
  elif np.ndim(h) == 1:
    h = util._asarray(h)
    if h.shape[0] != a.shape[axis]:
      raise ValueError("Spacing arrays must have the same length as the dimension along "
                       "which the gradient is calculated.")
    shape = [1] * a.ndim
    shape[axis] = h.shape[0]
    h = lax.reshape(h, tuple(shape))
    x = functools.partial(_sl, h, axis=axis)
    first = ufuncs.divide(first, ufuncs.subtract(x(1, 2), x(0, 1)))
    last = ufuncs.divide(last, ufuncs.subtract(x(-1, None), x(-2, -1)))
    d1 = ufuncs.subtract(x(1, -1), x(0, -2))
    d2 = ufuncs.subtract(x(2, None), x(1, -1))
    # The second-order accurate weights for uneven spacing (as NumPy).
    wa = ufuncs.divide(ufuncs.negative(d2), ufuncs.multiply(d1, ufuncs.add(d1, d2)))
    wb = ufuncs.divide(ufuncs.subtract(d2, d1), ufuncs.multiply(d1, d2))
    wc = ufuncs.divide(d1, ufuncs.multiply(d2, ufuncs.add(d1, d2)))
    inner = ufuncs.add(ufuncs.add(ufuncs.multiply(wa, s(0, -2)), ufuncs.multiply(wb, s(1, -1))),
                       ufuncs.multiply(wc, s(2, None)))
  else:
    raise ValueError("Spacing arrays must be 1D arrays or scalars.")
  return lax_numpy.concatenate([first, inner, last], axis)


def trapezoid(y, x=None, dx=1.0, axis=-1):
  """Implementation of numpy.trapezoid (the trapezoidal rule along `axis`)."""
  if x is None:
    util.check_arraylike("trapezoid", y)
    y_arr, = util.promote_dtypes_inexact(y)
    dx_arr = dx
  else:
    util.check_arraylike("trapezoid", y, x)
    y_arr, x_arr = util.promote_dtypes_inexact(y, x)
    if x_arr.ndim == 1:
      dx_arr = diff(x_arr)
    else:
      dx_arr = lax_numpy.moveaxis(diff(x_arr, axis=axis), axis, -1)
  y_arr = lax_numpy.moveaxis(y_arr, axis, -1)
  mids = ufuncs.add(_sl(y_arr, 1, None, -1 % y_arr.ndim), _sl(y_arr, None, -1, -1 % y_arr.ndim))
  return ufuncs.multiply(0.5, reductions.sum(ufuncs.multiply(dx_arr, mids), axis=-1))


def unwrap(p, discont=None, axis=-1, period=2 * np.pi):
  """Implementation of numpy.unwrap: remove jumps larger than discont (default period/2)
  by adding multiples of `period`."""
  util.check_arraylike("unwrap", p)
  p = util.promote_dtypes_inexact(p)[0]
  if discont is None:
    discont = period / 2
  axis = util.canonicalize_axis(axis, p.ndim)
  interval = period / 2
  dd = diff(p, axis=axis)
  ddmod = ufuncs.subtract(ufuncs.remainder(ufuncs.add(dd, interval), period), interval)
  ddmod = lax_numpy.where(ufuncs.logical_and(ufuncs.equal(ddmod, -interval),
                                             ufuncs.greater(dd, 0)), interval, ddmod)
  correct = lax_numpy.where(ufuncs.less(ufuncs.abs(dd), discont), 0,
                            ufuncs.subtract(ddmod, dd))
  up = ufuncs.add(_sl(p, 1, None, axis), reductions.cumsum(correct, axis=axis))
  return lax_numpy.concatenate([_sl(p, 0, 1, axis), up], axis)


# ---------------------------------------------------------------------------------------
# Statistics

def _cov_weights(w, name, n):
  """cov's fweights/aweights as an array: one weight per sample (n of them)."""
  util.check_arraylike("cov", w)
  w = util._asarray(w)
  if w.ndim > 1:
    raise RuntimeError(f"cannot handle multidimensional {name}")
  if w.shape[0] != n:
    raise RuntimeError(f"incompatible numbers of samples and {name}")
  return w


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None,
        dtype=None):
  """Implementation of numpy.cov."""
  if y is not None:
    m, y = util.promote_args_inexact("cov", m, y)
    if y.ndim > 2:
      raise ValueError("y has more than 2 dimensions")
  else:
    m, = util.promote_args_inexact("cov", m)
  if m.ndim > 2:
    raise ValueError("m has more than 2 dimensions")
  X = lax_numpy.atleast_2d(m)
  if not rowvar and X.shape[0] != 1:
    X = X.T
  if X.shape[0] == 0:
    return creation.array([]).reshape(0, 0)
  if y is not None:
    y2 = lax_numpy.atleast_2d(y)
    if not rowvar and y2.shape[0] != 1:
      y2 = y2.T
    X = lax_numpy.concatenate((X, y2), axis=0)
  if dtype is not None:
    X = X.astype(dtype)
  if ddof is None:
    ddof = 1 if bias == 0 else 0
  w = None
  if fweights is not None:
    fweights = _cov_weights(fweights, "fweights", X.shape[1])
    if not dtypes.issubdtype(fweights.dtype, np.integer):
      raise TypeError("fweights must be integer.")
    w = fweights
  if aweights is not None:
    aweights = _cov_weights(aweights, "aweights", X.shape[1])
    w = aweights if w is None else ufuncs.multiply(w, aweights)
  avg, w_sum = reductions.average(X, axis=1, weights=w, returned=True)
  w_sum = w_sum[0]
  if w is None:
    f = max(X.shape[1] - ddof, 0)  # no degrees of freedom left: inf/nan, as NumPy
  elif ddof == 0:
    f = w_sum
  elif aweights is None:
    f = ufuncs.subtract(w_sum, ddof)
  else:
    f = ufuncs.subtract(w_sum, ufuncs.divide(
        ufuncs.multiply(ddof, reductions.sum(ufuncs.multiply(w, aweights))), w_sum))
  if w is not None:
    f = ufuncs.maximum(f, 0)
  X = ufuncs.subtract(X, avg[:, None])
  X_T = X.T if w is None else ufuncs.multiply(X, w).T
  c = ufuncs.true_divide(
      lax_numpy.squeeze(_matmul(X, ufuncs.conj(X_T))), f)
  return c


def _matmul(a, b):
  from numjax._src.numpy.tensor_contractions import dot
  return dot(a, b)


def corrcoef(x, y=None, rowvar=True, dtype=None):
  """Implementation of numpy.corrcoef (entries clipped to [-1, 1])."""
  util.check_arraylike("corrcoef", x)
  c = cov(x, y, rowvar, dtype=dtype)
  if c.ndim == 0:
    return ufuncs.divide(c, c)
  d = lax_numpy.squeeze(_diag(c))
  std = ufuncs.sqrt(ufuncs.real(d))
  c = ufuncs.divide(c, std[:, None])
  c = ufuncs.divide(c, std[None, :])
  if dtypes.issubdtype(c.dtype, np.complexfloating):
    return lax.complex(lax_numpy.clip(ufuncs.real(c), -1, 1),
                       lax_numpy.clip(ufuncs.imag(c), -1, 1))
  return lax_numpy.clip(c, -1, 1)


def _diag(c):
  from numjax._src.numpy.tensor_contractions import diagonal
  return diagonal(c)


def bincount(x, weights=None, minlength=0, *, length=None):
  """Implementation of numpy.bincount. `length` (static) fixes the output size, as
  needed under jit; negative entries count in bin 0 and entries past the end are dropped,
  as JAX."""
  x = util.ensure_arraylike("bincount", x)
  if x.dtype == np.bool_:
    x = lax.convert_element_type(x, np.int32)
  if not dtypes.issubdtype(x.dtype, np.integer):
    raise TypeError(f"x argument to bincount must have an integer type; got {x.dtype}")
  if x.ndim != 1:
    raise ValueError("only 1-dimensional input supported.")
  minlength = core.concrete_or_error(
      operator.index, minlength,
      "The error occurred because of argument 'minlength' of jnp.bincount.")
  if length is None:
    xc = core.concrete_or_error(
        lambda v: v, x, "The error occurred because of argument 'x' of jnp.bincount. To "
        "avoid this error, pass a static `length` argument.")
    length = _max(minlength, int(reductions.max(xc)) + 1 if xc.size else 0)
  else:
    length = core.concrete_dim_or_error(length, "The error occurred because of argument "
                                        "'length' of jnp.bincount.")
  if weights is None:
    weights = lax.full((), 1, _int())
  else:
    weights = util.ensure_arraylike("bincount", weights)
    if weights.shape != x.shape:
      raise ValueError("shape of weights must match shape of x.")
  w = lax_numpy.broadcast_to(weights, x.shape)
  zero = lax.full((length,), 0, w.dtype)
  return zero.at[lax_numpy.clip(x, 0)].add(w, mode="drop")


def digitize(x, bins, right=False, *, method=None):
  """Implementation of numpy.digitize (bins increasing or decreasing)."""
  x, bins = util.ensure_arraylike("digitize", x, bins)
  right = core.concrete_or_error(bool, right, "right argument of jnp.digitize()")
  if bins.ndim != 1:
    raise ValueError(f"digitize: bins must be a 1-dimensional array; got bins={bins}")
  if bins.shape[0] == 0:
    return lax.full(x.shape, 0, _int())
  side = "left" if right else "right"
  kw = {} if method is None else {"method": method}
  nb = bins.shape[0]
  increasing = ufuncs.greater_equal(bins[-1], bins[0])
  up = searchsorted(bins, x, side=side, **kw)
  down = ufuncs.subtract(nb, searchsorted(lax_slicing.rev(bins, (0,)), x, side=side, **kw))
  return lax_numpy.where(increasing, up, down).astype(up.dtype)


def histogram_bin_edges(a, bins=10, range=None, weights=None):
  """Implementation of numpy.histogram_bin_edges (an integer number of bins, or the
  edges themselves)."""
  del weights
  util.check_arraylike("histogram_bin_edges", a, bins)
  arr = util._asarray(a)
  dt = dtypes.to_inexact_dtype(arr.dtype)
  if np.ndim(bins) == 1:
    return lax.convert_element_type(util._asarray(bins), dtypes.to_inexact_dtype(
        dtypes.dtype(bins)))
  bins = _static(bins, "bins argument of jnp.histogram_bin_edges")
  if range is None:
    lo, hi = reductions.min(arr), reductions.max(arr)
  else:
    r = creation.asarray(range)
    if r.shape != (2,):
      raise ValueError(f"`range` must be either None or a sequence of scalars, got {range}")
    lo, hi = r[0], r[1]
  lo, hi = lax.convert_element_type(lo, dt), lax.convert_element_type(hi, dt)
  if arr.size == 0 and range is None:
    lo, hi = lax.full((), 0, dt), lax.full((), 1, dt)
  half = lax_numpy.where(ufuncs.equal(lo, hi), lax.full((), 0.5, dt), lax.full((), 0, dt))
  return creation.linspace(ufuncs.subtract(lo, half), ufuncs.add(hi, half), bins + 1, dtype=dt)


def histogram(a, bins=10, range=None, weights=None, density=None):
  """Implementation of numpy.histogram (counts are floats, as JAX)."""
  if weights is None:
    util.check_arraylike("histogram", a, bins)
    a = lax_numpy.ravel(util._asarray(a))
    weights = lax.full(a.shape, 1, dtypes.to_inexact_dtype(a.dtype))
  else:
    util.check_arraylike("histogram", a, bins, weights)
    a, weights = lax_numpy.ravel(util._asarray(a)), lax_numpy.ravel(util._asarray(weights))
    if a.shape != weights.shape:
      raise ValueError("weights should have the same shape as a.")
    if dtypes.issubdtype(weights.dtype, np.integer) or weights.dtype == np.bool_:
      weights = lax.convert_element_type(weights, dtypes.to_inexact_dtype(weights.dtype))
  edges = histogram_bin_edges(a, bins, range, weights)
  counts = _bin_counts(a, edges, weights)
  if density:
    widths = diff(edges)
    counts = ufuncs.divide(ufuncs.divide(counts, widths), reductions.sum(counts))
  return counts, edges


def _bin_index(x, edges):
  """0 below the first edge, len(edges) at/after the last (the last edge is inclusive)."""
  idx = searchsorted(edges, x, side="right")
  n = edges.shape[0]
  return lax_numpy.where(ufuncs.equal(x, edges[-1]), n - 1, idx)


def _bin_counts(x, edges, weights):
  idx = _bin_index(x, edges)
  n = edges.shape[0]
  counts = lax.full((n + 1,), 0, weights.dtype).at[idx].add(weights)
  return _sl(counts, 1, n, 0)


def histogramdd(sample, bins=10, range=None, weights=None, density=None):
  """Implementation of numpy.histogramdd for a sample of shape (N, D)."""
  if weights is None:
    util.check_arraylike("histogramdd", sample)
  else:
    util.check_arraylike("histogramdd", sample, weights)
  sample = util._asarray(sample)
  if sample.ndim == 1:
    sample = lax.reshape(sample, (sample.shape[0], 1))
  n, d = sample.shape
  if weights is not None:
    weights = lax_numpy.ravel(util._asarray(weights))
    if weights.shape != (n,):
      raise ValueError("should have one weight for each sample.")
  if isinstance(bins, (int, np.integer)) or (np.ndim(bins) == 0 and not isinstance(bins, (list, tuple))):
    bins = [bins] * d
  if len(bins) != d:
    raise ValueError("should be a bin for each dimension.")
  ranges = [None] * d if range is None else list(range)
  if len(ranges) != d:
    raise ValueError("should be a range for each dimension.")
  edges, idx, nbins = [], [], []
  for i in _range(d):
    col = sample[:, i]
    e = histogram_bin_edges(col, bins[i], ranges[i], weights)
    edges.append(e)
    idx.append(_bin_index(col, e))
    nbins.append(e.shape[0] + 1)
  from numjax._src.numpy.index_tricks import ravel_multi_index
  flat = ravel_multi_index(tuple(idx), tuple(nbins), mode="clip")
  counts = bincount(flat, weights, length=math.prod(nbins))
  counts = lax.reshape(counts, tuple(nbins))
  counts = counts[tuple(slice(1, -1) for _ in _range(d))]
  if density:
    counts = ufuncs.divide(counts, reductions.sum(counts))
    for i in _range(d):
      shape = [1] * d
      shape[i] = nbins[i] - 2
      counts = ufuncs.divide(counts, lax.reshape(diff(edges[i]), tuple(shape)))
  return counts, edges


def histogram2d(x, y, bins=10, range=None, weights=None, density=None):
  """Implementation of numpy.histogram2d."""
  util.check_arraylike("histogram2d", x, y)
  try:
    nb = len(bins)
  except TypeError:
    nb = 1
  if nb != 1 and nb != 2:
    bins = [bins, bins]
  sample = lax_numpy.stack([util._asarray(x), util._asarray(y)], axis=1)
  hist, edges = histogramdd(sample, bins, range, weights, density)
  return hist, edges[0], edges[1]


# ---------------------------------------------------------------------------------------
# Selection

def choose(a, choices, out=None, mode="raise"):
  """Implementation of numpy.choose (mode 'raise' needs a concrete `a`; 'wrap' and 'clip'
  work under jit)."""
  if out is not None:
    raise NotImplementedError("The 'out' argument to jnp.choose is not supported.")
  util.check_arraylike("choose", a, *choices)
  a = util._asarray(a)
  if not dtypes.issubdtype(a.dtype, np.integer):
    raise ValueError("`a` array must be integer typed")
  n = len(choices)
  if mode == "raise":
    ac = core.concrete_or_error(lambda v: v, a, "The error occurred because jnp.choose was "
                                "jit-compiled with mode='raise'. Use mode='wrap' or "
                                "mode='clip' instead.")
    if bool(reductions.any(ufuncs.logical_or(ufuncs.less(ac, 0), ufuncs.greater_equal(ac, n)))):
      raise ValueError("invalid entry in choice array")
  elif mode == "wrap":
    a = ufuncs.remainder(a, n)
  elif mode == "clip":
    a = lax_numpy.clip(a, 0, n - 1)
  else:
    raise ValueError(f"mode={mode!r} not understood. Must be 'raise', 'wrap', or 'clip'")
  choices = util.promote_dtypes(*choices)
  everything = lax_numpy.broadcast_arrays(a, *choices)
  which = lax.convert_element_type(everything[0], np.int32)
  return lax.select_n(which, *everything[1:])


def compress(condition, a, axis=None, *, size=None, fill_value=0, out=None):
  """Implementation of numpy.compress (a static `size` makes it jit-compatible; missing
  entries take fill_value)."""
  cond, arr, fill_value = util.ensure_arraylike("compress", condition, a, fill_value)
  if out is not None:
    raise NotImplementedError("The 'out' argument to jnp.compress is not supported.")
  cond = cond if cond.dtype == np.bool_ else ufuncs.not_equal(cond, 0)
  if cond.ndim != 1:
    raise ValueError("condition must be a 1D array")
  if axis is None:
    axis, arr = 0, lax_numpy.ravel(arr)
  else:
    arr = lax_numpy.moveaxis(arr, axis, 0)
  k = arr.shape[0]
  extra = _sl(cond, k, None, 0)
  cond = _sl(cond, 0, k, 0)
  arr = _sl(arr, 0, cond.shape[0], 0)
  if size is None:
    if extra.shape[0] and bool(reductions.any(extra)):
      raise ValueError("condition contains entries that are out of bounds")
    cond_np = core.concrete_or_error(np.asarray, cond, "The condition argument of "
                                     "jnp.compress must be concrete unless `size` is given.")
    result = lax_numpy._take_static(arr, np.nonzero(cond_np)[0], 0) if cond_np.any() \
        else _sl(arr, 0, 0, 0)
  elif not 0 <= size <= arr.shape[0]:
    raise ValueError("size must be positive and not greater than the size of the array axis;"
                     f" got size={size} for a.shape[axis]={arr.shape[0]}")
  else:
    mask = lax.broadcast_in_dim(cond, arr.shape, (0,))
    arr = lax_numpy.where(mask, arr, lax.convert_element_type(fill_value, arr.dtype))
    order = argsort(cond, stable=True, descending=True)
    result = _sl(lax_numpy._take_traced(arr, order, 0), 0, size, 0)
  return lax_numpy.moveaxis(result, 0, axis)


def extract(condition, arr, *, size=None, fill_value=0):
  """Implementation of numpy.extract: the entries of arr where condition is true."""
  util.check_arraylike("extract", condition, arr, fill_value)
  return compress(lax_numpy.ravel(condition), lax_numpy.ravel(arr), size=size,
                  fill_value=fill_value)


def argwhere(a, *, size=None, fill_value=None):
  """Implementation of numpy.argwhere (a static `size` is needed under jit)."""
  a = util.ensure_arraylike("argwhere", a)
  res = lax_numpy.nonzero(lax_numpy.atleast_1d(a), size=size, fill_value=fill_value)
  out = lax_numpy.stack(res, axis=1) if res else lax.full((0, 0), 0, _int())
  if a.ndim == 0:
    return _sl(out, 0, 0, 1)
  return out


def flatnonzero(a, *, size=None, fill_value=None):
  """Implementation of numpy.flatnonzero (a static `size` is needed under jit)."""
  a = util.ensure_arraylike("flatnonzero", a)
  return lax_numpy.nonzero(lax_numpy.ravel(a), size=size, fill_value=fill_value)[0]


def trim_zeros(filt, trim="fb", axis=None):
  """Implementation of numpy.trim_zeros (needs a concrete input: the output size depends
  on the values)."""
  filt = util.ensure_arraylike("trim_zeros", filt)
  core.concrete_or_error(lambda v: v, filt,
                         "Error arose in the `filt` argument of trim_zeros()")
  trim = trim.lower()
  if filt.ndim == 0:
    raise TypeError("0-d array cannot be trimmed")
  axes = util.canonicalize_axis_tuple(axis, filt.ndim)
  nz_np = np.asarray(ufuncs.not_equal(filt, 0))
  out = filt
  for ax in axes:
    other = tuple(i for i in _range(filt.ndim) if i != ax)
    hits = np.nonzero(nz_np.any(axis=other) if other else nz_np)[0]
    if hits.size == 0:
      start, stop = 0, 0
    else:
      start = int(hits[0]) if "f" in trim else 0
      stop = int(hits[-1]) + 1 if "b" in trim else filt.shape[ax]
    out = _sl(out, start, stop, ax)
  return out


# ---------------------------------------------------------------------------------------
# Function application

def apply_along_axis(func1d, axis, arr, *args, **kwargs):
  """Implementation of numpy.apply_along_axis, through vmap (func1d must be vmappable)."""
  from numjax._src.vmap import vmap
  arr = util.ensure_arraylike("apply_along_axis", arr)
  nd = arr.ndim
  axis = util.canonicalize_axis(axis, nd)
  func = lambda v: func1d(v, *args, **kwargs)
  for i in _range(1, nd - axis):
    func = vmap(func, in_axes=i, out_axes=-1)
  for _ in _range(axis):
    func = vmap(func, in_axes=0, out_axes=0)
  return func(arr)


def apply_over_axes(func, a, axes):
  """Implementation of numpy.apply_over_axes: func(a, axis) repeatedly, keeping dims."""
  a = util.ensure_arraylike("apply_over_axes", a)
  for axis in axes:
    b = func(a, axis)
    if b.ndim == a.ndim:
      a = b
    elif b.ndim == a.ndim - 1:
      a = lax_numpy.expand_dims(b, axis)
    else:
      raise ValueError("function is not returning an array of the correct shape")
  return a


_DIMENSION_NAME = r"\w+"
_CORE_DIMENSION_LIST = f"(?:{_DIMENSION_NAME}(?:,{_DIMENSION_NAME})*)?"
_ARGUMENT = rf"\({_CORE_DIMENSION_LIST}\)"
_ARGUMENT_LIST = f"{_ARGUMENT}(?:,{_ARGUMENT})*"
_SIGNATURE = f"^{_ARGUMENT_LIST}->{_ARGUMENT_LIST}$"


def _parse_signature(signature):
  """'(m,n),(n)->(m)' -> ([('m','n'), ('n',)], [('m',)])."""
  if not re.match(_SIGNATURE, signature.replace(" ", "")):
    raise ValueError(f"not a valid gufunc signature: {signature}")
  ins, outs = signature.replace(" ", "").split("->")
  parse = lambda s: [tuple(re.findall(_DIMENSION_NAME, arg))
                     for arg in re.findall(_ARGUMENT, s)]
  return parse(ins), parse(outs)


def vectorize(pyfunc, *, excluded=frozenset(), signature=None):
  """Implementation of numpy.vectorize, through vmap: the loop dimensions (broadcast
  together) are mapped, the core dimensions of `signature` passed to pyfunc whole.
  Arguments in `excluded` (positions or keyword names) are passed through unchanged."""
  if any(not isinstance(e, (int, str)) for e in excluded):
    raise TypeError("jax.numpy.vectorize can only exclude integer or string arguments, but "
                    f"excluded={excluded!r}")
  if any(isinstance(e, int) and e < 0 for e in excluded):
    raise ValueError(f"excluded={excluded!r} contains negative numbers")

  @functools.wraps(pyfunc)
  def wrapped(*args, **kwargs):
    from numjax._src.vmap import vmap
    static_pos = {i: args[i] for i in excluded if isinstance(i, int) and i < len(args)}
    static_kw = {k: v for k, v in kwargs.items() if k in excluded}
    dyn_kw_names = [k for k in kwargs if k not in excluded]
    dyn = [a for i, a in enumerate(args) if i not in static_pos] + \
        [kwargs[k] for k in dyn_kw_names]
    n_pos = len(args) - len(static_pos)

    def call(*dyn_args):
      it = iter(dyn_args[:n_pos])
      full = [static_pos[i] if i in static_pos else next(it) for i in _range(len(args))]
      kw = dict(static_kw)
      kw.update(zip(dyn_kw_names, dyn_args[n_pos:]))
      return pyfunc(*full, **kw)

    dyn = [util._asarray(a) for a in dyn]
    if signature is not None:
      in_core, out_core = _parse_signature(signature)
      if len(in_core) != len(dyn):
        raise TypeError(f"wrong number of positional arguments: expected {len(in_core)}, got "
                        f"{len(dyn)}")
    else:
      in_core, out_core = [()] * len(dyn), None
    sizes = {}
    loop_shapes = []
    for a, core_dims in zip(dyn, in_core):
      if len(core_dims) > a.ndim:
        raise ValueError(f"input with shape {a.shape} does not have enough dimensions for "
                         f"all core dimensions {core_dims} of signature {signature!r}")
      core_shape = a.shape[a.ndim - len(core_dims):]
      for name, s in zip(core_dims, core_shape):
        if sizes.setdefault(name, s) != s:
          raise ValueError(f"inconsistent size for core dimension {name!r}: {s} vs "
                           f"{sizes[name]} in signature {signature!r}")
      loop_shapes.append(a.shape[:a.ndim - len(core_dims)])
    loop = lax_numpy.broadcast_shapes(*loop_shapes) if loop_shapes else ()
    func = call if out_core is None else _checked(call, out_core, sizes, signature)
    # Map one loop dimension at a time, innermost first; an argument whose loop dim is 1
    # (or absent) is left unmapped (vmap broadcasts it) after squeezing that dim away.
    squeezed = []
    filled = []
    for a, s in zip(dyn, loop_shapes):
      pad = (1,) * (len(loop) - len(s)) + tuple(s)
      ones = tuple(i for i, d in enumerate(s) if d == 1)
      squeezed.append(lax.squeeze(a, ones) if ones else a)
      filled.append(pad)
    expand = []
    for d in _range(len(loop) - 1, -1, -1):
      in_axes = tuple(None if f[d] == 1 else 0 for f in filled)
      if all(ax is None for ax in in_axes):
        expand.append(d)
      else:
        func = vmap(func, in_axes=in_axes)
    result = func(*squeezed)
    if not expand:
      return result
    expand = sorted(expand)
    if isinstance(result, tuple):
      return tuple(lax_numpy.expand_dims(r, expand) for r in result)
    return lax_numpy.expand_dims(result, expand)

  return wrapped


def _checked(func, out_core, sizes, signature):
  def f(*args):
    out = func(*args)
    outs = out if isinstance(out, tuple) else (out,)
    if len(out_core) == 1 and isinstance(out, tuple) or len(outs) != len(out_core):
      raise TypeError(f"output must be a tuple when multiple outputs are expected; got "
                      f"{len(outs) if isinstance(out, tuple) else 1} output(s) for signature "
                      f"{signature!r}" if len(out_core) > 1 else
                      f"wrong number of outputs from the function for signature {signature!r}")
    for o, dims in zip(outs, out_core):
      o = util._asarray(o)
      if o.ndim != len(dims):
        raise ValueError(f"output shape {o.shape} does not match core dimensions {dims} on "
                         f"vectorized function with signature {signature!r}")
      for name, s in zip(dims, o.shape):
        if name in sizes and sizes[name] != s:
          raise ValueError(f"output shape {o.shape} does not match core dimension sizes "
                           f"of the inputs for signature {signature!r}")
    return out
  return f


# ---------------------------------------------------------------------------------------
# Bits, Vandermonde matrices, windows

def packbits(a, axis=None, bitorder="big"):
  """Implementation of numpy.packbits (nonzero entries become 1 bits)."""
  arr = util.ensure_arraylike("packbits", a)
  if not (dtypes.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_):
    raise TypeError("Expected an input array of integer or boolean data type")
  if bitorder not in ("little", "big"):
    raise ValueError("'order' must be either 'little' or 'big'")
  bits = lax.convert_element_type(ufuncs.not_equal(arr, 0), np.uint8)
  if axis is None:
    bits, axis = lax_numpy.ravel(bits), 0
  axis = util.canonicalize_axis(axis, bits.ndim)
  bits = lax_numpy.moveaxis(bits, axis, -1)
  n = bits.shape[-1]
  rem = (-n) % 8
  if rem:
    bits = lax_numpy.pad(bits, [(0, 0)] * (bits.ndim - 1) + [(0, rem)])
  bits = lax.reshape(bits, bits.shape[:-1] + (bits.shape[-1] // 8, 8))
  shifts = np.arange(8, dtype=np.uint8) if bitorder == "little" else \
      np.arange(7, -1, -1, dtype=np.uint8)
  shifted = lax.shift_left(bits, lax.broadcast_in_dim(creation.asarray(shifts), bits.shape,
                                                      (bits.ndim - 1,)))
  packed = reductions.sum(shifted, axis=-1, dtype=np.uint8)
  return lax_numpy.moveaxis(packed, -1, axis)


def unpackbits(a, axis=None, count=None, bitorder="big"):
  """Implementation of numpy.unpackbits (uint8 input)."""
  arr = util.ensure_arraylike("unpackbits", a)
  if arr.dtype != np.uint8:
    raise TypeError("Expected an input array of unsigned byte data type")
  if bitorder not in ("little", "big"):
    raise ValueError("'order' must be either 'little' or 'big'")
  shifts = np.arange(8, dtype=np.uint8) if bitorder == "little" else \
      np.arange(7, -1, -1, dtype=np.uint8)
  shape = arr.shape + (8,)
  bits = lax.bitwise_and(
      lax.shift_right_logical(lax.broadcast_in_dim(arr, shape, tuple(_range(arr.ndim))),
                              lax.broadcast_in_dim(creation.asarray(shifts), shape,
                                                   (arr.ndim,))),
      lax.full(shape, 1, np.uint8))
  if axis is None:
    bits, axis = lax.reshape(bits, (bits.size,)), 0
  else:
    axis = util.canonicalize_axis(axis, arr.ndim)
    bits = lax_numpy.swapaxes(bits, axis, -2)
    bits = lax.reshape(bits, bits.shape[:-2] + (bits.shape[-2] * 8,))
    bits = lax_numpy.swapaxes(bits, axis, -1)
  if count is not None:
    count = _static(count, "count argument of jnp.unpackbits")
    n = bits.shape[axis]
    keep = count if count >= 0 else _max(n + count, 0)
    if keep <= n:
      bits = _sl(bits, 0, keep, axis)
    else:
      widths = [(0, 0)] * bits.ndim
      widths[axis] = (0, keep - n)
      bits = lax_numpy.pad(bits, widths)
  return bits


def vander(x, N=None, increasing=False):
  """Implementation of numpy.vander: columns are powers of x (decreasing by default)."""
  x = util.ensure_arraylike("vander", x)
  if x.ndim != 1:
    raise ValueError("x must be a one-dimensional array")
  N = x.shape[0] if N is None else _static(N, "N argument of jnp.vander")
  if N < 0:
    raise ValueError("N must be nonnegative")
  powers = lax.iota(_int(), N)
  if not increasing:
    powers = lax_slicing.rev(powers, (0,))
  return ufuncs.power(x[..., None], powers)


def _window_n(M, name):
  M = core.concrete_or_error(int, M, f"M argument of jnp.{name}")
  return M


def _float_dtype():
  return dtypes.canonicalize_dtype(dtypes.float_)


def _window(M, name, body):
  """A window of M points in the default float dtype dt: empty for M < 1, [1] for M == 1,
  else body(M, dt)."""
  M = _window_n(M, name)
  dt = _float_dtype()
  if M < 1:
    return lax.full((0,), 0, dt)
  if M == 1:
    return lax.full((1,), 1, dt)
  return body(M, dt)


def _symmetric_points(M, dt):
  """n = 1-M, 3-M, ..., M-1: where NumPy's symmetric windows are evaluated."""
  return creation.arange(1 - M, M, 2, dtype=dt)


def _cos_window(M, name, coeffs):
  """sum_k c_k cos(k pi n / (M-1)), n = 1-M, 3-M, ..., M-1 (NumPy's symmetric windows)."""
  def body(M, dt):
    n = _symmetric_points(M, dt)
    out = None
    for k, c in enumerate(coeffs):
      term = c if k == 0 else ufuncs.multiply(c, ufuncs.cos(ufuncs.multiply(n, k * np.pi /
                                                                             (M - 1))))
      out = term if out is None else ufuncs.add(out, term)
    return util._asarray(out)
  return _window(M, name, body)


def bartlett(M):
  """Implementation of numpy.bartlett (the triangular window)."""
  def body(M, dt):
    n = _symmetric_points(M, dt)
    return lax_numpy.where(ufuncs.less_equal(n, 0), ufuncs.add(1, ufuncs.divide(n, M - 1)),
                           ufuncs.subtract(1, ufuncs.divide(n, M - 1)))
  return _window(M, "bartlett", body)


def blackman(M):
  """Implementation of numpy.blackman."""
  return _cos_window(M, "blackman", (0.42, 0.5, 0.08))


def hamming(M):
  """Implementation of numpy.hamming."""
  return _cos_window(M, "hamming", (0.54, 0.46))


def hanning(M):
  """Implementation of numpy.hanning."""
  return _cos_window(M, "hanning", (0.5, 0.5))


def kaiser(M, beta):
  """Implementation of numpy.kaiser."""
  def body(M, dt):
    n = creation.arange(0, M, dtype=dt)
    alpha = 0.5 * (M - 1)
    r = ufuncs.divide(ufuncs.subtract(n, alpha), alpha)
    arg = ufuncs.multiply(beta, ufuncs.sqrt(ufuncs.subtract(1, ufuncs.square(r))))
    return ufuncs.divide(ufuncs.i0(arg), ufuncs.i0(util._asarray(beta).astype(dt)
                                                   if not isinstance(beta, (int, float))
                                                   else creation.asarray(beta, dtype=dt)))
  return _window(M, "kaiser", body)
