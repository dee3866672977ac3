"""numjax.numpy.linalg: NumPy's linalg API on the lax.linalg primitives.

Written with lax/jnp functions only, so everything differentiates, batches and jits.
Decompositions follow JAX's conventions: results batched over leading dimensions,
eigh's eigenvalues ascending, svd's singular values descending, qr with LAPACK's signs.
det, slogdet, solve and pinv carry JAX's custom derivatives (through the LU factors /
the pseudo-inverse identity), so their gradients exist at the matrices where they should.
"""
from __future__ import annotations

import itertools
import math
import operator
from typing import NamedTuple, Sequence

import numpy as np

from numjax._src import dtypes
from numjax._src.custom_derivatives import custom_jvp
from numjax._src.lax import lax
from numjax._src.lax import linalg as lax_linalg
from numjax._src.lax import slicing
from numjax._src.lax.lax import Precision
from numjax._src.numpy import creation
from numjax._src.numpy import lax_numpy as lnp
from numjax._src.numpy import reductions as red
from numjax._src.numpy import tensor_contractions as tc
from numjax._src.numpy import util
from numjax._src.numpy import ufuncs as uf
from numjax._src.numpy.util import (canonicalize_axis, ensure_arraylike,
                                    promote_dtypes_inexact)


class EighResult(NamedTuple):
  eigenvalues: object
  eigenvectors: object


class EigResult(NamedTuple):
  eigenvalues: object
  eigenvectors: object


class QRResult(NamedTuple):
  Q: object
  R: object


class SlogdetResult(NamedTuple):
  sign: object
  logabsdet: object


class SVDResult(NamedTuple):
  U: object
  S: object
  Vh: object


def _T(x):
  nd = x.ndim
  return lax.transpose(x, (*range(nd - 2), nd - 1, nd - 2))


def _H(x):
  return uf.conj(_T(x)) if dtypes.issubdtype(x.dtype, np.complexfloating) else _T(x)


def _symmetrize(x):
  return (x + _H(x)) / 2


def _mm(a, b):
  return tc.matmul(a, b, precision=Precision.HIGHEST)


def _diag(x):
  return tc.diagonal(x, axis1=-2, axis2=-1)


def _check_square(name, a, what=None):
  if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
    raise ValueError(f"Argument to {what or name} must have shape [..., n, n], got "
                     f"{a.shape}.")


# ---------------------------------------------------------------------------------------
# Decompositions

def cholesky(a, *, upper: bool = False, symmetrize_input: bool = True):
  """Implementation of numpy.linalg.cholesky (NaNs where a is not positive definite)."""
  a = ensure_arraylike("jnp.linalg.cholesky", a)
  a, = promote_dtypes_inexact(a)
  L = lax_linalg.cholesky(a, symmetrize_input=symmetrize_input)
  return _H(L) if upper else L


def svd(a, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False,
        subset_by_index=None):
  """Implementation of numpy.linalg.svd: SVDResult(U, S, Vh), S descending."""
  a = ensure_arraylike("jnp.linalg.svd", a)
  a, = promote_dtypes_inexact(a)
  if hermitian:
    v, w = lax_linalg.eigh(a, subset_by_index=subset_by_index)
    s = lax.abs(w)
    if compute_uv:
      sign = lax.sign(w)
      idx = lax.broadcasted_iota(np.dtype(np.int32), s.shape, s.ndim - 1)
      from numjax._src.lax.sorting import sort
      s, idx, sign = sort((s, idx, sign), dimension=s.ndim - 1, num_keys=1)
      s = slicing.rev(s, (s.ndim - 1,))
      idx = slicing.rev(idx, (s.ndim - 1,))
      sign = slicing.rev(sign, (s.ndim - 1,))
      from numjax._src.lax.sorting import take_along_axis
      u = take_along_axis(v, lax.broadcast_in_dim(idx, v.shape, tuple(range(v.ndim - 2)) +
                                                  (v.ndim - 1,)), v.ndim - 1)
      vh = _H(u * lax.convert_element_type(sign, u.dtype)[..., None, :])
      return SVDResult(u, s, vh)
    from numjax._src.lax.sorting import sort
    return slicing.rev(sort(s, dimension=s.ndim - 1), (s.ndim - 1,))
  if compute_uv:
    u, s, vh = lax_linalg.svd(a, full_matrices=full_matrices, compute_uv=True,
                              subset_by_index=subset_by_index)
    return SVDResult(u, s, vh)
  return lax_linalg.svd(a, full_matrices=full_matrices, compute_uv=False,
                        subset_by_index=subset_by_index)


def svdvals(x, /):
  """Implementation of numpy.linalg.svdvals."""
  x = ensure_arraylike("jnp.linalg.svdvals", x)
  return svd(x, compute_uv=False, hermitian=False)


def eigh(a, UPLO: str | None = None, symmetrize_input: bool = True):
  """Implementation of numpy.linalg.eigh: EighResult(eigenvalues ascending, eigenvectors)."""
  a = ensure_arraylike("jnp.linalg.eigh", a)
  if UPLO is None or UPLO == "L":
    lower = True
  elif UPLO == "U":
    lower = False
  else:
    raise ValueError(f"UPLO must be one of None, 'L', or 'U', got {UPLO}")
  a, = promote_dtypes_inexact(a)
  v, w = lax_linalg.eigh(a, lower=lower, symmetrize_input=symmetrize_input)
  return EighResult(w, v)


def eigvalsh(a, UPLO: str | None = "L", *, symmetrize_input: bool = True):
  """Implementation of numpy.linalg.eigvalsh."""
  a = ensure_arraylike("jnp.linalg.eigvalsh", a)
  a, = promote_dtypes_inexact(a)
  w, _ = eigh(a, UPLO, symmetrize_input=symmetrize_input)
  return w


def eig(a):
  """Implementation of numpy.linalg.eig: EigResult (always complex). No derivatives of
  the eigenvectors (as JAX); NumPy tier only."""
  a = ensure_arraylike("jnp.linalg.eig", a)
  a, = promote_dtypes_inexact(a)
  w, v = lax_linalg.eig(a, compute_left_eigenvectors=False)
  return EigResult(w, v)


def eigvals(a):
  """Implementation of numpy.linalg.eigvals (always complex)."""
  a = ensure_arraylike("jnp.linalg.eigvals", a)
  a, = promote_dtypes_inexact(a)
  return lax_linalg.eig(a, compute_left_eigenvectors=False,
                        compute_right_eigenvectors=False)[0]


def qr(a, mode: str = "reduced"):
  """Implementation of numpy.linalg.qr: QRResult(Q, R), or R for mode='r'."""
  a = ensure_arraylike("jnp.linalg.qr", a)
  a, = promote_dtypes_inexact(a)
  if mode == "raw":
    r, taus = lax_linalg.geqrf(a)
    return QRResult(_T(r), taus)
  if mode in ("reduced", "r", "full"):
    full_matrices = False
  elif mode == "complete":
    full_matrices = True
  else:
    raise ValueError(f"Unsupported QR decomposition mode '{mode}'")
  q, r = lax_linalg.qr(a, pivoting=False, full_matrices=full_matrices)
  if mode == "r":
    return r
  return QRResult(q, r)


# ---------------------------------------------------------------------------------------
# Solves and inverses

def _solve_shapes(a, b):
  if not (a.ndim >= 2 and b.ndim in (a.ndim, a.ndim - 1) and
          a.shape[-1] == a.shape[-2] == b.shape[a.ndim - 2]):
    raise ValueError("The arguments to solve must have shapes a=[..., m, m] and "
                     f"b=[..., m, k] or b=[..., m]; got a={a.shape} and b={b.shape}")


@custom_jvp
def _solve_matrix(a, b):
  """a x = b for a [..., m, m], b [..., m, k] with equal batch dimensions."""
  lu_, _, perm = lax_linalg.lu(lax.stop_gradient(a))
  return lax_linalg._lu_solve(lu_, perm, b)


@_solve_matrix.defjvp
def _solve_matrix_jvp(primals, tangents):
  # x = A^{-1} b  =>  dx = A^{-1} (db - dA x); the tangent solve reuses A's LU factors and
  # is linear in (dA, db), so reverse mode transposes it (triangular solves, gathers).
  a, b = primals
  da, db = tangents
  lu_, _, perm = lax_linalg.lu(a)
  x = lax_linalg._lu_solve(lu_, perm, b)
  rhs = db - _mm(da, x)
  return x, lax_linalg._lu_solve(lu_, perm, rhs)


def _plain_solve(a, b):
  """a x = b through LU with no custom rule: used inside jvp rules, where the tangent
  computation must stay made of transposable primitives."""
  lu_, _, perm = lax_linalg.lu(a)
  return lax_linalg._lu_solve(lu_, perm, b)


def solve(a, b):
  """Implementation of numpy.linalg.solve (batched; b of shape [..., m] or [..., m, n])."""
  a, b = ensure_arraylike("jnp.linalg.solve", a, b)
  a, b = promote_dtypes_inexact(a, b)
  if a.ndim < 2:
    raise ValueError(f"left hand array must be at least two dimensional; got a.shape={a.shape!r}")
  if (b.ndim > 1 and a.ndim == b.ndim + 1 and a.shape[-1] == b.shape[-1]
      and a.shape[-1] != b.shape[-2]):
    raise ValueError(f"Invalid shapes for solve: {a.shape}, {b.shape}. Prior to JAX v0.5.0, "
                     "this would have been treated as a batched 1-dimensional solve. To "
                     "recover this behavior, use solve(a, b[..., None]).squeeze(-1).")
  m = a.shape[-1]
  vector = b.ndim == 1
  if a.shape[-2] != m:
    raise ValueError(f"Argument to solve must have shape [..., m, m], got {a.shape}.")
  if vector:
    if b.shape[0] != m:
      raise ValueError(f"inconsistent size for core dimension 'm': {b.shape[0]} vs {m} on "
                       "vectorized function with excluded=frozenset() and "
                       "signature='(m,m),(m)->(m)'")
    b = b[:, None]
  elif b.shape[-2] != m:
    raise ValueError(f"inconsistent size for core dimension 'm': {b.shape[-2]} vs {m} on "
                     "vectorized function with excluded=frozenset() and "
                     "signature='(m,m),(m,n)->(m,n)'")
  batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
  a = lnp.broadcast_to(a, batch + a.shape[-2:])
  b = lnp.broadcast_to(b, batch + b.shape[-2:])
  x = _solve_matrix(a, b)
  return x[..., 0] if vector else x


def inv(a):
  """Implementation of numpy.linalg.inv (through solve: a batched LU)."""
  arr = ensure_arraylike("jnp.linalg.inv", a)
  if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2]:
    raise ValueError(f"Argument to inv must have shape [..., n, n], got {arr.shape}.")
  arr, = promote_dtypes_inexact(arr)
  eye = lnp.broadcast_to(creation.eye(arr.shape[-1], dtype=arr.dtype), arr.shape)
  return solve(arr, eye)


def matrix_power(a, n: int):
  """Implementation of numpy.linalg.matrix_power (binary exponentiation)."""
  arr = ensure_arraylike("jnp.linalg.matrix_power", a)
  if arr.ndim < 2:
    raise TypeError(f"{arr.ndim}-dimensional array given. Array must be at least "
                    "two-dimensional")
  if arr.shape[-2] != arr.shape[-1]:
    raise TypeError("Last 2 dimensions of the array must be square")
  try:
    n = operator.index(n)
  except TypeError as err:
    raise TypeError(f"exponent must be an integer, got {n}") from err
  if n == 0:
    return lnp.broadcast_to(creation.eye(arr.shape[-2], dtype=arr.dtype), arr.shape)
  if n < 0:
    arr = inv(arr)
    n = -n
  if n == 1:
    return arr
  z = result = None
  while n > 0:
    z = arr if z is None else tc.matmul(z, z)
    n, bit = divmod(n, 2)
    if bit:
      result = z if result is None else tc.matmul(result, z)
  return result


# ---------------------------------------------------------------------------------------
# Determinants

def _slogdet_from_lu(a):
  dtype = a.dtype
  lu_, pivot, _ = lax_linalg.lu(a)
  diag = _diag(lu_)
  is_zero = red.any(diag == lax._const(diag, 0), axis=-1)
  iota = lax.broadcasted_iota(pivot.dtype, pivot.shape, pivot.ndim - 1)
  parity = red.count_nonzero(pivot != iota, axis=-1)
  if dtypes.issubdtype(dtype, np.complexfloating):
    sign = red.prod(diag / lax.convert_element_type(uf.abs(diag), dtype), axis=-1)
  else:
    sign = lax._const(diag, 1)
    parity = parity + red.count_nonzero(diag < 0, axis=-1)
  flip = lax.convert_element_type(-2 * (parity % 2) + 1, dtype)
  sign = lnp.where(is_zero, lax._const(diag, 0), sign * flip)
  logdet = lnp.where(is_zero, lax._const(uf.real(diag), -np.inf),
                     red.sum(uf.log(uf.abs(diag)), axis=-1))
  return sign, logdet


@custom_jvp
def _slogdet(a):
  return _slogdet_from_lu(a)


@_slogdet.defjvp
def _slogdet_jvp(primals, tangents):
  x, = primals
  g, = tangents
  sign, ans = _slogdet(x)
  ans_dot = tc.trace(_plain_solve(x, g), axis1=-1, axis2=-2)
  if dtypes.issubdtype(x.dtype, np.complexfloating):
    sign_dot = (ans_dot - lax.convert_element_type(uf.real(ans_dot), ans_dot.dtype)) * sign
    ans_dot = uf.real(ans_dot)
  else:
    sign_dot = lax.full_like(sign, 0)
  return (sign, ans), (sign_dot, ans_dot)


def _slogdet_qr(a):
  if dtypes.issubdtype(a.dtype, np.complexfloating):
    raise NotImplementedError("slogdet method='qr' not implemented for complex inputs")
  # det(Q) = +-1 is not visible from Q's factors here: use det(Q) from its own LU.
  q, r = lax_linalg.qr(a, full_matrices=True)
  r_diag = _diag(r)
  sign_q, _ = _slogdet_from_lu(q)
  return (red.prod(uf.sign(r_diag), axis=-1) * lax.stop_gradient(sign_q),
          red.sum(uf.log(uf.abs(r_diag)), axis=-1))


def slogdet(a, *, method: str | None = None):
  """Implementation of numpy.linalg.slogdet: SlogdetResult(sign, logabsdet)."""
  a = ensure_arraylike("jnp.linalg.slogdet", a)
  a, = promote_dtypes_inexact(a)
  if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
    raise ValueError(f"Argument to slogdet() must have shape [..., n, n], got {a.shape}")
  if method is None or method == "lu":
    return SlogdetResult(*_slogdet(a))
  if method == "qr":
    return SlogdetResult(*_slogdet_qr(a))
  raise ValueError(f"Unknown slogdet method '{method}'. Supported methods are 'lu' (`None`), "
                   "and 'qr'.")


def _cofactor_solve(a, b):
  """(det(a), adj(a) @ b), well defined when a is singular (rank n-1): the last pivot of the
  LU factors is replaced so the triangular solves give the adjugate product."""
  n = a.shape[-1]
  if n == 1:
    return a[..., 0, 0], b
  lu_, pivots, perm = lax_linalg.lu(a)
  dtype = a.dtype
  batch = a.shape[:-2]
  diag = _diag(lu_)
  iota = lax.broadcasted_iota(pivots.dtype, pivots.shape, pivots.ndim - 1)
  parity = red.count_nonzero(pivots != iota, axis=-1)
  sign = lax.convert_element_type(-2 * (parity % 2) + 1, dtype)
  partial_det = red.cumprod(diag, axis=-1) * sign[..., None]
  lu_ = lu_.at[..., -1, -1].set(1.0 / partial_det[..., -2])
  ones = creation.ones(batch + (n,), dtype)
  d = lax_linalg.triangular_solve(lu_, ones, left_side=True, lower=False)
  bad = red.any(uf.isnan(d) | uf.isinf(d), axis=-1)
  bad = lax.broadcast_in_dim(bad, b.shape, tuple(range(len(batch))))
  x = lnp.where(bad, lax.full_like(b, 0), b)
  x = lax_linalg._take_rows(x, perm)
  x = lax_linalg.triangular_solve(lu_, x, left_side=True, lower=True, unit_diagonal=True)
  x = lnp.concatenate((x[..., :-1, :] * partial_det[..., -1, None, None], x[..., -1:, :]),
                      axis=-2)
  x = lax_linalg.triangular_solve(lu_, x, left_side=True, lower=False)
  x = lnp.where(bad, lax.full_like(x, 0), x)
  return partial_det[..., -1], x


@custom_jvp
def _det(a):
  sign, logdet = _slogdet(a)
  return sign * lax.convert_element_type(uf.exp(logdet), sign.dtype)


@_det.defjvp
def _det_jvp(primals, tangents):
  x, = primals
  g, = tangents
  y, z = _cofactor_solve(x, g)
  return y, tc.trace(z, axis1=-1, axis2=-2)


def det(a):
  """Implementation of numpy.linalg.det (closed forms for 2x2 and 3x3, else LU)."""
  a = ensure_arraylike("jnp.linalg.det", a)
  a, = promote_dtypes_inexact(a)
  s = a.shape
  if len(s) >= 2 and s[-1] == 2 and s[-2] == 2:
    return a[..., 0, 0] * a[..., 1, 1] - a[..., 0, 1] * a[..., 1, 0]
  if len(s) >= 2 and s[-1] == 3 and s[-2] == 3:
    return (a[..., 0, 0] * a[..., 1, 1] * a[..., 2, 2] + a[..., 0, 1] * a[..., 1, 2] * a[..., 2, 0]
            + a[..., 0, 2] * a[..., 1, 0] * a[..., 2, 1] - a[..., 0, 2] * a[..., 1, 1] * a[..., 2, 0]
            - a[..., 0, 0] * a[..., 1, 2] * a[..., 2, 1] - a[..., 0, 1] * a[..., 1, 0] * a[..., 2, 2])
  if len(s) >= 2 and s[-1] == s[-2]:
    return _det(a)
  raise ValueError(f"Argument to _det() must have shape [..., n, n], got {s}")


# ---------------------------------------------------------------------------------------
# Pseudo-inverse, least squares, rank, condition number

def pinv(a, rtol=None, hermitian: bool = False, *, rcond=None):
  """Implementation of numpy.linalg.pinv (JAX's custom derivative)."""
  if rcond is not None:
    if rtol is not None:
      raise ValueError("pinv: only one of rtol and rcond may be specified.")
    rtol = rcond
  a = ensure_arraylike("jnp.linalg.pinv", a)
  a, = promote_dtypes_inexact(a)
  return _pinv(a, rtol, hermitian)


def _pinv_impl(arr, rtol, hermitian):
  m, n = arr.shape[-2:]
  if m == 0 or n == 0:
    return creation.empty(arr.shape[:-2] + (n, m), arr.dtype)
  arr = uf.conj(arr)
  if rtol is None:
    rtol = 10.0 * max(m, n) * float(dtypes.finfo(arr.dtype).eps)
  rtol = creation.asarray(rtol)
  u, s, vh = svd(arr, full_matrices=False, hermitian=hermitian)
  rtol = lax.convert_element_type(rtol, s.dtype) if rtol.dtype != s.dtype else rtol
  rtol = lnp.reshape(rtol, rtol.shape + (1,) * (s.ndim - rtol.ndim))
  cutoff = rtol * s[..., 0:1]
  s = lax.convert_element_type(lnp.where(s > cutoff, s, np.inf), u.dtype)
  res = _mm(_T(vh), uf.divide(_T(u), s[..., None]))
  return lax.convert_element_type(res, arr.dtype)


def _pinv_fwd(rtol, hermitian, a):
  return _pinv_impl(a, rtol, hermitian)


_pinv = custom_jvp(lambda a, rtol, hermitian: _pinv_impl(a, rtol, hermitian),
                   nondiff_argnums=(1, 2))


@_pinv.defjvp
def _pinv_jvp(rtol, hermitian, primals, tangents):
  a, = primals
  a_dot, = tangents
  p = _pinv(a, rtol, hermitian)
  if hermitian:
    a, a_dot = _symmetrize(a), _symmetrize(a_dot)
  m, n = a.shape[-2:]
  if m >= n:
    s = _mm(_mm(p, _H(p)), _H(a_dot))
    t = _mm(_mm(_H(a_dot), _H(p)), p)
    p_dot = (-_mm(_mm(p, a_dot), p) + s - _mm(_mm(s, a), p) + t - _mm(_mm(p, a), t))
  else:
    s = _mm(p, _mm(_H(p), _H(a_dot)))
    t = _mm(_H(a_dot), _mm(_H(p), p))
    p_dot = (-_mm(p, _mm(a_dot, p)) + s - _mm(s, _mm(a, p)) + t - _mm(p, _mm(a, t)))
  return p, p_dot


def lstsq(a, b, rcond=None, *, numpy_resid: bool = False):
  """Implementation of numpy.linalg.lstsq: (x, resid, rank, s), through the SVD."""
  a, b = ensure_arraylike("jnp.linalg.lstsq", a, b)
  a, b = promote_dtypes_inexact(a, b)
  if a.shape[0] != b.shape[0]:
    raise ValueError("Leading dimensions of input arrays must match")
  b_orig_ndim = b.ndim
  if b_orig_ndim == 1:
    b = b[:, None]
  if a.ndim != 2:
    raise TypeError(f"{a.ndim}-dimensional array given. Array must be two-dimensional")
  if b.ndim != 2:
    raise TypeError(f"{b.ndim}-dimensional array given. Array must be one or two-dimensional")
  m, n = a.shape
  dtype = a.dtype
  if a.size == 0:
    s = creation.empty(0, dtype=a.dtype)
    rank = creation.asarray(0, dtype=dtypes.default_int_dtype())
    x = creation.zeros((n, *b.shape[1:]), dtype=a.dtype)
  else:
    eps = float(dtypes.finfo(dtype).eps)
    if rcond is None:
      rcond = eps * max(n, m)
    else:
      rcond = lnp.where(creation.asarray(rcond) < 0, eps, rcond)
    u, s, vt = svd(a, full_matrices=False)
    mask = (s > 0) & (s >= creation.asarray(rcond, dtype=s.dtype) * s[0])
    rank = red.sum(mask)
    safe_s = lax.convert_element_type(lnp.where(mask, s, 1), a.dtype)
    s_inv = lnp.where(mask, 1 / safe_s, lax._const(safe_s, 0))[:, None]
    uTb = _mm(_H(u), b)
    x = _mm(_H(vt), s_inv * uTb)
  if numpy_resid and (int(rank) < n or m <= n):
    resid = creation.asarray([], dtype=uf.real(x).dtype)
  else:
    resid = norm(b - _mm(a, x), axis=0) ** 2
  if b_orig_ndim == 1:
    x = lnp.ravel(x)
  return x, resid, rank, s


def matrix_rank(M, rtol=None, *, hermitian: bool = False, tol=None):
  """Implementation of numpy.linalg.matrix_rank (int32 counts of large singular values)."""
  M = ensure_arraylike("jnp.linalg.matrix_rank", M)
  if tol is not None:
    if rtol is not None:
      raise ValueError("matrix_rank: only one of tol or rtol may be specified.")
    rtol = tol
  M, = promote_dtypes_inexact(M)
  if M.ndim < 2:
    return lax.convert_element_type(red.any(M != 0), np.int32)
  S = svd(M, full_matrices=False, compute_uv=False, hermitian=hermitian)
  if rtol is None:
    rtol = red.max(S, axis=-1) * (max(M.shape[-2:]) * float(dtypes.finfo(S.dtype).eps))
  rtol = creation.asarray(rtol)
  rtol = lnp.expand_dims(rtol, rtol.ndim)
  return red.sum(S > rtol, axis=-1)


def cond(x, p=None):
  """Implementation of numpy.linalg.cond."""
  arr = ensure_arraylike("cond", x)
  if arr.ndim < 2:
    raise ValueError(f"jnp.linalg.cond: input array must be at least 2D; got arr.shape={arr.shape!r}")
  if arr.shape[-1] == 0 or arr.shape[-2] == 0:
    raise ValueError(f"jnp.linalg.cond: input array must not be empty; got arr.shape={arr.shape!r}")
  if p is None or p == 2:
    s = svdvals(arr)
    return s[..., 0] / s[..., -1]
  if p == -2:
    s = svdvals(arr)
    r = s[..., -1] / s[..., 0]
  else:
    if arr.shape[-2] != arr.shape[-1]:
      raise ValueError(f"jnp.linalg.cond: for p={p!r}, array must be square; got "
                       f"arr.shape={arr.shape!r}")
    r = norm(arr, ord=p, axis=(-2, -1)) * norm(inv(arr), ord=p, axis=(-2, -1))
  return lnp.where(uf.isnan(r) & ~red.any(uf.isnan(arr), axis=(-2, -1)), np.inf, r)


# ---------------------------------------------------------------------------------------
# Norms

def _sumsq(x, axis, keepdims):
  return red.sum(uf.real(x * uf.conj(x)), axis=axis, keepdims=keepdims)


def norm(x, ord=None, axis=None, keepdims: bool = False):
  """Implementation of numpy.linalg.norm (vector norms over one axis, matrix norms over
  two)."""
  if isinstance(axis, list):
    axis = tuple(axis)
  return _norm(x, ord=ord, axis=axis, keepdims=keepdims)


@util.jit_when_traced(static_argnames=("ord", "axis", "keepdims"), name="norm")
def _norm(x, ord=None, axis=None, keepdims: bool = False):
  x = ensure_arraylike("jnp.linalg.norm", x)
  x, = promote_dtypes_inexact(x)
  ndim = x.ndim
  if axis is None:
    if ord is None:
      return uf.sqrt(_sumsq(x, None, keepdims))
    axis = tuple(range(ndim))
  elif isinstance(axis, tuple):
    axis = tuple(canonicalize_axis(a, ndim) for a in axis)
  else:
    axis = (canonicalize_axis(axis, ndim),)
  if len(axis) == 1:
    return vector_norm(x, ord=2 if ord is None else ord, axis=axis, keepdims=keepdims)
  if len(axis) == 2:
    row_axis, col_axis = axis
    if ord is None or ord in ("f", "fro"):
      return uf.sqrt(_sumsq(x, axis, keepdims))
    if ord == 1 or ord == -1:
      if not keepdims and col_axis > row_axis:
        col_axis -= 1
      col_sums = red.sum(uf.abs(x), axis=row_axis, keepdims=keepdims)
      return (red.max(col_sums, axis=col_axis, keepdims=keepdims, initial=0) if ord == 1
              else red.min(col_sums, axis=col_axis, keepdims=keepdims))
    if ord == np.inf or ord == -np.inf:
      if not keepdims and row_axis > col_axis:
        row_axis -= 1
      row_sums = red.sum(uf.abs(x), axis=col_axis, keepdims=keepdims)
      return (red.max(row_sums, axis=row_axis, keepdims=keepdims, initial=0) if ord == np.inf
              else red.min(row_sums, axis=row_axis, keepdims=keepdims))
    if ord in ("nuc", 2, -2):
      y = lnp.moveaxis(x, axis, (-2, -1))
      s = svd(y, compute_uv=False)
      if ord == 2:
        out = red.max(s, axis=-1, initial=0)
      elif ord == -2:
        out = red.min(s, axis=-1)
      else:
        out = red.sum(s, axis=-1)
      if keepdims:
        out = lnp.expand_dims(out, axis)
      return out
    raise ValueError(f"Invalid order '{ord}' for matrix norm.")
  raise ValueError(f"Improper number of axes for norm: axis={axis!r}. Pass one axis to "
                   "compute a vector-norm, or two axes to compute a matrix-norm.")


def vector_norm(x, /, *, axis=None, keepdims: bool = False, ord=2):
  """Implementation of numpy.linalg.vector_norm."""
  x = ensure_arraylike("jnp.linalg.vector_norm", x)
  x, = promote_dtypes_inexact(x)
  if ord is None or (not isinstance(ord, str) and ord == 2):
    return uf.sqrt(_sumsq(x, axis, keepdims))
  if isinstance(ord, str):
    msg = f"Invalid order '{ord}' for vector norm."
    if ord == "inf":
      msg += "Use 'jax.numpy.inf' instead."
    if ord == "-inf":
      msg += "Use '-jax.numpy.inf' instead."
    raise ValueError(msg)
  if ord == np.inf:
    return red.max(uf.abs(x), axis=axis, keepdims=keepdims, initial=0)
  if ord == -np.inf:
    return red.min(uf.abs(x), axis=axis, keepdims=keepdims)
  if ord == 0:
    return red.sum(x != 0, dtype=dtypes.finfo(x.dtype).dtype, axis=axis, keepdims=keepdims)
  if ord == 1:
    return red.sum(uf.abs(x), axis=axis, keepdims=keepdims)
  abs_x = uf.abs(x)
  ord_arr = lax._const(abs_x, ord)
  ord_inv = lax._const(abs_x, 1.0 / ord)
  return uf.power(red.sum(abs_x ** ord_arr, axis=axis, keepdims=keepdims), ord_inv)


def matrix_norm(x, /, *, keepdims: bool = False, ord="fro"):
  """Implementation of numpy.linalg.matrix_norm."""
  x = ensure_arraylike("jnp.linalg.matrix_norm", x)
  return norm(x, ord=ord, keepdims=keepdims, axis=(-2, -1))


# ---------------------------------------------------------------------------------------
# Array-API helpers

def cross(x1, x2, /, *, axis=-1):
  """Implementation of numpy.linalg.cross (3-vectors only)."""
  x1, x2 = ensure_arraylike("jnp.linalg.outer", x1, x2)
  if x1.shape[axis] != 3 or x2.shape[axis] != 3:
    raise ValueError("Both input arrays must be (arrays of) 3-dimensional vectors, but they "
                     f"have x1.shape[axis]={x1.shape[axis]!r} and "
                     f"x2.shape[axis]={x2.shape[axis]!r}")
  return tc.cross(x1, x2, axis=axis)


def outer(x1, x2, /):
  """Implementation of numpy.linalg.outer (1-D inputs only)."""
  x1, x2 = ensure_arraylike("jnp.linalg.outer", x1, x2)
  if x1.ndim != 1 or x2.ndim != 1:
    raise ValueError(f"Input arrays must be one-dimensional, but they are x1.ndim={x1.ndim!r} "
                     f"x2.ndim={x2.ndim!r}")
  return x1[:, None] * x2[None, :]


def matrix_transpose(x, /):
  """Implementation of numpy.linalg.matrix_transpose."""
  x = ensure_arraylike("jnp.linalg.matrix_transpose", x)
  if x.ndim < 2:
    raise ValueError(f"matrix_transpose requires at least 2 dimensions; got ndim={x.ndim!r}")
  return _T(x)


def vecdot(x1, x2, /, *, axis: int = -1, precision=None, preferred_element_type=None):
  """Implementation of numpy.linalg.vecdot."""
  x1, x2 = ensure_arraylike("jnp.linalg.vecdot", x1, x2)
  return tc.vecdot(x1, x2, axis=axis, precision=precision,
                   preferred_element_type=preferred_element_type)


def matmul(x1, x2, /, *, precision=None, preferred_element_type=None):
  """Implementation of numpy.linalg.matmul."""
  x1, x2 = ensure_arraylike("jnp.linalg.matmul", x1, x2)
  return tc.matmul(x1, x2, precision=precision, preferred_element_type=preferred_element_type)


def tensordot(x1, x2, /, *, axes=2, precision=None, preferred_element_type=None,
              out_sharding=None):
  """Implementation of numpy.linalg.tensordot."""
  x1, x2 = ensure_arraylike("jnp.linalg.tensordot", x1, x2)
  return tc.tensordot(x1, x2, axes=axes, precision=precision,
                      preferred_element_type=preferred_element_type)


def diagonal(x, /, *, offset: int = 0):
  """Implementation of numpy.linalg.diagonal (over the last two axes)."""
  x = ensure_arraylike("jnp.linalg.diagonal", x)
  return tc.diagonal(x, offset=offset, axis1=-2, axis2=-1)


def trace(x, /, *, offset: int = 0, dtype=None):
  """Implementation of numpy.linalg.trace (over the last two axes)."""
  x = ensure_arraylike("jnp.linalg.trace", x)
  return tc.trace(x, offset=offset, axis1=-2, axis2=-1, dtype=dtype)


def tensorinv(a, ind: int = 2):
  """Implementation of numpy.linalg.tensorinv."""
  arr = ensure_arraylike("tensorinv", a)
  ind = operator.index(ind)
  if ind <= 0:
    raise ValueError(f"ind must be a positive integer; got ind={ind!r}")
  contracting, batch = arr.shape[:ind], arr.shape[ind:]
  flat = (math.prod(contracting), math.prod(batch))
  if flat[0] != flat[1]:
    raise ValueError("tensorinv is only possible when the product of the first `ind` "
                     "dimensions equals that of the remaining dimensions. got "
                     f"arr.shape={arr.shape!r} with ind={ind!r}.")
  return lnp.reshape(inv(lnp.reshape(arr, flat)), (*batch, *contracting))


def tensorsolve(a, b, axes=None):
  """Implementation of numpy.linalg.tensorsolve."""
  a, b = ensure_arraylike("tensorsolve", a, b)
  if axes is not None:
    a = lnp.moveaxis(a, axes, len(axes) * (a.ndim - 1,))
  out_shape = a.shape[b.ndim:]
  if a.shape[:b.ndim] != b.shape:
    raise ValueError("After moving axes to end, leading shape of a must match shape of b. "
                     f"got a.shape={a.shape}, b.shape={b.shape}")
  if b.size != math.prod(out_shape):
    raise ValueError("Input arrays must have prod(a.shape[:b.ndim]) == "
                     f"prod(a.shape[b.ndim:]); got a.shape={a.shape}, b.ndim={b.ndim}.")
  a = lnp.reshape(a, (b.size, math.prod(out_shape)))
  return lnp.reshape(solve(a, lnp.ravel(b)), out_shape)


def multi_dot(arrays: Sequence, *, precision=None):
  """Implementation of numpy.linalg.multi_dot (contraction order chosen by einsum)."""
  arrs = list(ensure_arraylike("jnp.linalg.multi_dot", *arrays)) if len(arrays) > 1 else \
      [ensure_arraylike("jnp.linalg.multi_dot", *arrays)] if arrays else []
  if len(arrs) < 2:
    raise ValueError(f"multi_dot requires at least two arrays; got len(arrays)={len(arrs)}")
  if not (arrs[0].ndim in (1, 2) and arrs[-1].ndim in (1, 2)
          and all(a.ndim == 2 for a in arrs[1:-1])):
    raise ValueError("multi_dot: input arrays must all be two-dimensional, except for the "
                     "first and last array which may be 1 or 2 dimensional. Got array shapes "
                     f"{[a.shape for a in arrs]}")
  if any(a.shape[-1] != b.shape[0] for a, b in zip(arrs[:-1], arrs[1:])):
    raise ValueError("multi_dot: last dimension of each array must match first dimension of "
                     f"following array. Got array shapes {[a.shape for a in arrs]}")
  axes = [(i, i + 1) for i in range(len(arrs))]
  if arrs[0].ndim == 1:
    axes[0] = axes[0][1:]
  if arrs[-1].ndim == 1:
    axes[-1] = axes[-1][:1]
  return tc.einsum(*itertools.chain(*zip(arrs, axes)), optimize="auto", precision=precision)
