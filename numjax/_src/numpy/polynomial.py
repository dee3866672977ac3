"""jnp polynomial functions (coefficients highest power first, as numpy.poly1d):
poly, polyval, polyadd, polysub, polymul, polydiv, polyder, polyint, polyfit, roots.

All lax/jnp: Horner's rule as a `scan`, products as convolutions, roots as eigenvalues of
the companion matrix, fits through `lstsq`. Degrees and lengths are static.
"""
from __future__ import annotations

import operator

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


def _int():
  return dtypes.canonicalize_dtype(dtypes.int_)


def _first_nonzero(p, name):
  """The number of leading zeros of a concrete 1-D p."""
  pc = core.concrete_or_error(np.asarray, p, f"Error arose in the `p` argument of {name}()")
  nz = np.flatnonzero(pc)
  return int(nz[0]) if nz.size else pc.shape[0]


def _trim_leading(p, name):
  k = _first_nonzero(p, name)
  return lax_slicing.slice_in_dim(p, k, p.shape[0]) if k else p


def _mul_root(a, r):
  """Coefficients of a(x) * (x - r)."""
  zero = lax.full((1,), 0, a.dtype)
  return ufuncs.subtract(lax_slicing.concatenate([a, zero], 0),
                         ufuncs.multiply(r, lax_slicing.concatenate([zero, a], 0)))


def poly(seq_of_zeros):
  """Implementation of numpy.poly: the monic polynomial with the given roots (or the
  characteristic polynomial of a square matrix)."""
  seq = util.ensure_arraylike("poly", seq_of_zeros)
  seq, = util.promote_dtypes_inexact(seq)
  if seq.ndim == 2 and seq.shape[0] == seq.shape[1] and seq.shape[0] != 0:
    from numjax._src.numpy.linalg import eigvals
    seq = eigvals(seq)
  elif seq.ndim == 1 or seq.ndim == 0:
    seq = lax.reshape(seq, (seq.size,))
  else:
    raise ValueError("input must be 1d or non-empty square 2d array.")
  if seq.shape[0] == 0:
    return lax.full((), 1, seq.dtype)  # the constant polynomial 1 (a scalar, as JAX)
  a = lax.full((1,), 1, seq.dtype)
  for k in range(seq.shape[0]):
    a = _mul_root(a, seq[k])
  return a


def polyval(p, x, *, unroll=16):
  """Implementation of numpy.polyval: Horner's rule (a scan over the coefficients)."""
  util.check_arraylike("polyval", p, x)
  p, x = util.promote_dtypes(p, x)
  shape = lax_numpy.broadcast_shapes(p.shape[1:], x.shape)
  y = lax.full(shape, 0, x.dtype)
  if p.shape[0] == 0:
    return lax.convert_element_type(y, x.dtype, x.weak_type)
  from numjax._src.lax.control_flow import scan
  y, _ = scan(lambda y, c: (ufuncs.add(ufuncs.multiply(y, x), c), None), y, p, unroll=unroll)
  return y


def _pad_front(a, n):
  return lax_numpy.pad(a, [(n - a.shape[0], 0)]) if a.shape[0] < n else a


def polyadd(a1, a2):
  """Implementation of numpy.polyadd."""
  util.check_arraylike("polyadd", a1, a2)
  a1, a2 = util.promote_dtypes(a1, a2)
  n = max(a1.shape[0], a2.shape[0])
  return ufuncs.add(_pad_front(a1, n), _pad_front(a2, n))


def polysub(a1, a2):
  """Implementation of numpy.polysub."""
  util.check_arraylike("polysub", a1, a2)
  a1, a2 = util.promote_dtypes(a1, a2)
  n = max(a1.shape[0], a2.shape[0])
  return ufuncs.subtract(_pad_front(a1, n), _pad_front(a2, n))


def polymul(a1, a2, *, trim_leading_zeros=False):
  """Implementation of numpy.polymul (a full convolution; leading zeros are kept unless
  trim_leading_zeros=True, which needs concrete inputs)."""
  util.check_arraylike("polymul", a1, a2)
  a1, a2 = util.promote_dtypes_inexact(a1, a2)
  if trim_leading_zeros and (a1.ndim > 0 or a2.ndim > 0):
    a1 = _trim_leading(lax_numpy.atleast_1d(a1), "polymul")
    a2 = _trim_leading(lax_numpy.atleast_1d(a2), "polymul")
  a1, a2 = lax_numpy.atleast_1d(a1), lax_numpy.atleast_1d(a2)
  if a1.shape[0] == 0:
    a1 = creation.asarray([0], dtype=a2.dtype)
  if a2.shape[0] == 0:
    a2 = creation.asarray([0], dtype=a1.dtype)
  from numjax._src.numpy.convolve import convolve
  return convolve(a1, a2, mode="full")


def polydiv(u, v, *, trim_leading_zeros=False):
  """Implementation of numpy.polydiv: quotient and remainder (the remainder keeps u's
  length unless trim_leading_zeros=True)."""
  util.check_arraylike("polydiv", u, v)
  u, v = util.promote_dtypes_inexact(u, v)
  m, n = u.shape[0] - 1, v.shape[0] - 1
  scale = ufuncs.divide(1.0, v[0])
  q = lax.full((max(m - n + 1, 1),), 0, u.dtype)
  r = u
  for k in range(0, m - n + 1):
    d = ufuncs.multiply(scale, r[k])
    q = q.at[k].set(d)
    r = r.at[k:k + n + 1].add(ufuncs.negative(ufuncs.multiply(d, v)))
  if trim_leading_zeros:
    r = _trim_leading(r, "polydiv")
  return q, r


def polyder(p, m=1):
  """Implementation of numpy.polyder (the m-th derivative)."""
  util.check_arraylike("polyder", p)
  m = core.concrete_or_error(operator.index, m, "'m' argument of jnp.polyder")
  p, = util.promote_dtypes_inexact(p)
  if m < 0:
    raise ValueError("Order of derivative must be positive")
  for _ in range(m):
    n = p.shape[0]
    if n == 0:
      return p
    coeff = lax.convert_element_type(lax_slicing.rev(lax.iota(_int(), n - 1), (0,)), p.dtype)
    p = ufuncs.multiply(lax_slicing.slice_in_dim(p, 0, n - 1),
                        ufuncs.add(coeff, lax.full((), 1, p.dtype)))
  return p


def polyint(p, m=1, k=None):
  """Implementation of numpy.polyint: the m-th antiderivative with integration constants
  k (zeros by default; k[0] is the constant of the first integration)."""
  m = core.concrete_or_error(operator.index, m, "'m' argument of jnp.polyint")
  if m < 0:
    raise ValueError("Order of integral must be positive (see polyder)")
  if k is None:
    util.check_arraylike("polyint", p)
    p, = util.promote_dtypes_inexact(p)
    k = lax.full((m,), 0, p.dtype)
  else:
    util.check_arraylike("polyint", p, k)
    p, k = util.promote_dtypes_inexact(p, k)
    k = lax_numpy.atleast_1d(k)
    if k.shape[0] == 1 and m != 1:
      k = lax.broadcast(lax.reshape(k, ()), (m,))
    if k.shape != (m,):
      raise ValueError("k must be a scalar or a rank-1 array of length 1 or m.")
  for i in range(m):
    n = p.shape[0]
    powers = lax.convert_element_type(lax_slicing.rev(lax.iota(_int(), n), (0,)), p.dtype)
    p = lax_slicing.concatenate(
        [ufuncs.divide(p, ufuncs.add(powers, lax.full((), 1, p.dtype))),
         lax.reshape(k[i], (1,))], 0)
  return p


def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
  """Implementation of numpy.polyfit (least squares on a column-scaled Vandermonde
  matrix; `full` and `cov` as NumPy)."""
  if w is None:
    util.check_arraylike("polyfit", x, y)
  else:
    util.check_arraylike("polyfit", x, y, w)
  deg = core.concrete_or_error(operator.index, deg, "deg must be int")
  order = deg + 1
  if deg < 0:
    raise ValueError("expected deg >= 0")
  x, y = util.promote_dtypes_inexact(x, y)
  if x.ndim != 1:
    raise TypeError("expected 1D vector for x")
  if x.size == 0:
    raise TypeError("expected non-empty vector for x")
  if y.ndim < 1 or y.ndim > 2:
    raise TypeError("expected 1D or 2D array for y")
  if x.shape[0] != y.shape[0]:
    raise TypeError("expected x and y to have same length")
  if rcond is None:
    rcond = x.shape[0] * float(dtypes.finfo(x.dtype).eps)
  from numjax._src.numpy.misc import vander
  lhs = vander(x, order)
  rhs = y
  if w is not None:
    w, = util.promote_dtypes_inexact(w)
    if w.ndim != 1:
      raise TypeError("expected a 1-d array for weights")
    if w.shape[0] != y.shape[0]:
      raise TypeError("expected w and y to have the same length")
    lhs = ufuncs.multiply(lhs, w[:, None])
    rhs = ufuncs.multiply(rhs, w if rhs.ndim == 1 else w[:, None])
  scale = ufuncs.sqrt(reductions.sum(ufuncs.multiply(lhs, lhs), axis=0))
  lhs = ufuncs.divide(lhs, scale[None, :])
  from numjax._src.numpy.linalg import inv, lstsq
  c, resids, rank, s = lstsq(lhs, rhs, rcond)
  c = ufuncs.divide(c, scale if c.ndim == 1 else scale[:, None])
  if full:
    return c, resids, rank, s, lax.asarray(rcond)
  if cov:
    from numjax._src.numpy.tensor_contractions import dot
    vbase = inv(dot(lhs.T, lhs))
    vbase = ufuncs.divide(vbase, ufuncs.multiply(scale[:, None], scale[None, :]))
    if cov == "unscaled":
      fac = 1
    else:
      if x.shape[0] <= order:
        raise ValueError("the number of data points must exceed order to scale the "
                         "covariance matrix")
      fac = ufuncs.divide(resids, x.shape[0] - order)
      fac = fac[0] if y.ndim == 1 else fac
    if y.ndim == 1:
      return c, ufuncs.multiply(vbase, fac)
    return c, ufuncs.multiply(vbase[:, :, None], fac)
  return c


def _companion_eigvals(p):
  """Roots of p (p[0] != 0) as eigenvalues of its companion matrix."""
  n = p.shape[0]
  if n < 2:
    return lax.full((0,), 0, dtypes.to_complex_dtype(p.dtype))
  first = ufuncs.divide(ufuncs.negative(lax_slicing.slice_in_dim(p, 1, n)), p[0])
  A = creation.eye(n - 1, k=-1, dtype=p.dtype).at[0].set(first)
  from numjax._src.numpy.linalg import eigvals
  return eigvals(A)


def roots(p, *, strip_zeros=True):
  """Implementation of numpy.roots (complex results). With strip_zeros=False the leading
  zeros may be traced: their roots come out as NaN, at the end (as JAX)."""
  p = util.ensure_arraylike("roots", p)
  p = lax_numpy.atleast_1d(util.promote_dtypes_inexact(p)[0])
  if p.ndim != 1:
    raise ValueError("Input must be a rank-1 array.")
  if strip_zeros:
    return _companion_eigvals(_trim_leading(p, "roots"))
  n = p.shape[0]
  if n < 2:
    return lax.full((0,), 0, dtypes.to_complex_dtype(p.dtype))
  lead = reductions.argmin(ufuncs.equal(p, 0))
  all_zero = reductions.all(ufuncs.equal(p, 0))
  lead = lax_numpy.where(all_zero, n, lead)
  p = lax_numpy.where(all_zero, lax.full_like(p, 1), p)
  rolled = lax_numpy.roll(p, ufuncs.negative(lead))
  r = _companion_eigvals(rolled)
  # The zero roots the rolled-in zeros produced go last, and become NaN.
  from numjax._src.lax import sorting as lax_sorting
  _, r = lax_sorting.sort_key_val(ufuncs.equal(r, 0), r)
  keep = ufuncs.less(lax.iota(_int(), r.shape[0]), ufuncs.subtract(r.shape[0], lead))
  return lax_numpy.where(keep, r, lax.full((), complex(np.nan, np.nan), r.dtype))
