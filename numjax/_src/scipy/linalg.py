"""numjax.scipy.linalg: SciPy's linalg API on the lax.linalg primitives.

Written with jnp/lax functions only (differentiable, batchable, jittable). The
`overwrite_*` and `check_finite` arguments are accepted and ignored, as in JAX. Special
matrices that depend only on static sizes (hilbert, pascal, hadamard, ...) are built from
iotas in the default float dtype, as JAX's.
"""
from __future__ import annotations

import math
import operator
from functools import partial

import numpy as np

from numjax._src import dtypes
from numjax._src.lax import lax as _lax
from numjax._src.lax import linalg as lax_linalg
from numjax._src.lax.lax import Precision
from numjax._src.numpy import linalg as jnp_linalg
from numjax._src.numpy.util import (check_arraylike, promote_args_inexact, promote_dtypes,
                                    promote_dtypes_complex, promote_dtypes_inexact)


def _jnp():
  import numjax.numpy as jnp  # the public namespace: every jnp function in one place
  return jnp


def _lax_api():
  import numjax.lax as lax
  return lax


def _mm(a, b):
  return _jnp().matmul(a, b, precision=Precision.HIGHEST)


def _H(x):
  jnp = _jnp()
  return jnp.conj(jnp.swapaxes(x, -1, -2))


def _vectorize_1(fn, a, core_ndim):
  """fn on the trailing `core_ndim` dims of a, mapped (vmap) over the leading ones."""
  from numjax._src.vmap import vmap
  for _ in range(a.ndim - core_ndim):
    fn = vmap(fn)
  return fn(a)


def _broadcast_solve_args(a, b, vector):
  """Broadcast a [..., n, n] and b [..., n] / [..., n, k] to common batch dimensions."""
  jnp = _jnp()
  bcore = 1 if vector else 2
  batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:b.ndim - bcore]))
  a = jnp.broadcast_to(a, batch + a.shape[-2:])
  b = jnp.broadcast_to(b, batch + b.shape[b.ndim - bcore:])
  return a, b


def _solve_signature(name, a, b):
  """True for vector right-hand sides, with JAX's deprecation warning for batched 1D."""
  import warnings
  if b.ndim == 1:
    return True
  if a.ndim == b.ndim + 1 and a.shape[-1] == b.shape[-1]:
    warnings.warn(f"jax.scipy.linalg.{name}: batched 1D solves with b.ndim > 1 are deprecated, "
                  "and in the future will be treated as a batched 2D solve. Use "
                  f"{name}(..., b[..., None]).squeeze(-1) to avoid this warning.",
                  category=FutureWarning, stacklevel=3)
    return True
  return False


# ---------------------------------------------------------------------------------------
# Cholesky

def cholesky(a, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True):
  """Implementation of scipy.linalg.cholesky (upper factor by default; only the selected
  triangle of a is read)."""
  del overwrite_a, check_finite
  jnp = _jnp()
  a, = promote_dtypes_inexact(jnp.asarray(a))
  l = lax_linalg.cholesky(a if lower else _H(a), symmetrize_input=False)
  return l if lower else _H(l)


def cho_factor(a, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True):
  """Implementation of scipy.linalg.cho_factor: (c, lower)."""
  del overwrite_a, check_finite
  return cholesky(a, lower=lower), lower


def _cho_solve(c, b, lower):
  jnp = _jnp()
  c, b = promote_dtypes_inexact(jnp.asarray(c), jnp.asarray(b))
  vector = _solve_signature("cho_solve", c, b)
  c, b = _broadcast_solve_args(c, b, vector)
  if vector:
    b = b[..., None]
  b = lax_linalg.triangular_solve(c, b, left_side=True, lower=lower, transpose_a=not lower,
                                  conjugate_a=not lower)
  b = lax_linalg.triangular_solve(c, b, left_side=True, lower=lower, transpose_a=lower,
                                  conjugate_a=lower)
  return b[..., 0] if vector else b


def cho_solve(c_and_lower, b, overwrite_b: bool = False, check_finite: bool = True):
  """Implementation of scipy.linalg.cho_solve."""
  del overwrite_b, check_finite
  c, lower = c_and_lower
  return _cho_solve(c, b, lower)


# ---------------------------------------------------------------------------------------
# LU

def lu_factor(a, overwrite_a: bool = False, check_finite: bool = True):
  """Implementation of scipy.linalg.lu_factor: (lu, piv) with int32 pivots."""
  del overwrite_a, check_finite
  jnp = _jnp()
  a, = promote_dtypes_inexact(jnp.asarray(a))
  lu_, pivots, _ = lax_linalg.lu(a)
  return lu_, pivots


def lu_solve(lu_and_piv, b, trans: int = 0, overwrite_b: bool = False,
             check_finite: bool = True):
  """Implementation of scipy.linalg.lu_solve."""
  del overwrite_b, check_finite
  jnp = _jnp()
  lu_, pivots = lu_and_piv
  lu_, b = promote_dtypes_inexact(jnp.asarray(lu_), jnp.asarray(b))
  m = lu_.shape[-2]
  perm = lax_linalg.lu_pivots_to_permutation(jnp.asarray(pivots), m)
  vector = _solve_signature("lu_solve", lu_, b)
  batch = tuple(np.broadcast_shapes(lu_.shape[:-2], perm.shape[:-1],
                                    b.shape[:b.ndim - (1 if vector else 2)]))
  lu_ = jnp.broadcast_to(lu_, batch + lu_.shape[-2:])
  perm = jnp.broadcast_to(perm, batch + perm.shape[-1:])
  b = jnp.broadcast_to(b, batch + b.shape[b.ndim - (1 if vector else 2):])
  if vector:
    b = b[..., None]
  x = lax_linalg._lu_solve(lu_, perm, b, trans=trans)
  return x[..., 0] if vector else x


def lu(a, permute_l: bool = False, overwrite_a: bool = False, check_finite: bool = True):
  """Implementation of scipy.linalg.lu: (p, l, u), or (p @ l, u) with permute_l."""
  del overwrite_a, check_finite
  jnp = _jnp()
  a, = promote_dtypes_inexact(jnp.asarray(a))
  lu_, _, permutation = lax_linalg.lu(a)
  dtype = a.dtype
  m, n = a.shape[-2:]
  k = min(m, n)
  p = jnp.real((permutation[..., None, :] == jnp.arange(m, dtype=permutation.dtype)[:, None])
               .astype(dtype))
  l = jnp.tril(lu_, -1)[..., :, :k] + jnp.eye(m, k, dtype=dtype)
  u = jnp.triu(lu_)[..., :k, :]
  if permute_l:
    return _mm(p, l), u
  return p, l, u


# ---------------------------------------------------------------------------------------
# Solves, inverse, determinant

def solve(a, b, lower: bool = False, overwrite_a: bool = False, overwrite_b: bool = False,
          debug: bool = False, check_finite: bool = True, assume_a: str = "gen"):
  """Implementation of scipy.linalg.solve ('pos' uses a Cholesky factorization)."""
  del overwrite_a, overwrite_b, debug, check_finite
  valid = ["gen", "sym", "her", "pos"]
  if assume_a not in valid:
    raise ValueError(f"Expected assume_a to be one of {valid}; got {assume_a!r}")
  if assume_a != "pos":
    return jnp_linalg.solve(a, b)
  jnp = _jnp()
  a, b = promote_dtypes_inexact(jnp.asarray(a), jnp.asarray(b))
  lax_linalg_check = a.ndim >= 2 and b.ndim in (a.ndim, a.ndim - 1) and \
      a.shape[-1] == a.shape[-2] == b.shape[a.ndim - 2]
  if not lax_linalg_check:
    raise ValueError("The arguments to solve must have shapes a=[..., m, m] and b=[..., m, k] "
                     f"or b=[..., m]; got a={a.shape} and b={b.shape}")
  return _pos_solve(a, b, lower)


def _pos_solve(a, b, lower):
  # Solution through the Cholesky factors; a's derivative through A x = b (implicit).
  from numjax._src.custom_derivatives import custom_jvp

  @custom_jvp
  def f(a, b):
    return cho_solve(cho_factor(_lax.stop_gradient(a), lower=lower), b)

  @f.defjvp
  def f_jvp(primals, tangents):
    a, b = primals
    da, db = tangents
    # the factorization reads one triangle of a: so does the derivative
    da = lax_linalg._hermitian_from_triangle(da, lower)
    c = cho_factor(a, lower=lower)
    x = cho_solve(c, b)
    vector = a.ndim == b.ndim + 1
    dax = _mm(da, x[..., None])[..., 0] if vector else _mm(da, x)
    return x, cho_solve(c, db - dax)
  return f(a, b)


def solve_triangular(a, b, trans=0, lower: bool = False, unit_diagonal: bool = False,
                     overwrite_b: bool = False, debug=None, check_finite: bool = True):
  """Implementation of scipy.linalg.solve_triangular (batched)."""
  del overwrite_b, debug, check_finite
  if trans == 0 or trans == "N":
    transpose_a, conjugate_a = False, False
  elif trans == 1 or trans == "T":
    transpose_a, conjugate_a = True, False
  elif trans == 2 or trans == "C":
    transpose_a, conjugate_a = True, True
  else:
    raise ValueError(f"Invalid 'trans' value {trans}")
  jnp = _jnp()
  a, b = promote_dtypes_inexact(jnp.asarray(a), jnp.asarray(b))
  vector = _solve_signature("solve_triangular", a, b)
  a, b = _broadcast_solve_args(a, b, vector)
  if vector:
    b = b[..., None]
  x = lax_linalg.triangular_solve(a, b, left_side=True, lower=lower, transpose_a=transpose_a,
                                  conjugate_a=conjugate_a, unit_diagonal=unit_diagonal)
  return x[..., 0] if vector else x


def inv(a, overwrite_a: bool = False, check_finite: bool = True):
  """Implementation of scipy.linalg.inv."""
  del overwrite_a, check_finite
  return jnp_linalg.inv(a)


def det(a, overwrite_a: bool = False, check_finite: bool = True):
  """Implementation of scipy.linalg.det."""
  del overwrite_a, check_finite
  return jnp_linalg.det(a)


# ---------------------------------------------------------------------------------------
# Decompositions

def svd(a, full_matrices: bool = True, compute_uv: bool = True, overwrite_a: bool = False,
        check_finite: bool = True, lapack_driver: str = "gesdd"):
  """Implementation of scipy.linalg.svd: (u, s, vh), or s."""
  del overwrite_a, check_finite, lapack_driver
  a, = promote_dtypes_inexact(_jnp().asarray(a))
  return lax_linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)


def eigh(a, b=None, lower: bool = True, eigvals_only: bool = False, overwrite_a: bool = False,
         overwrite_b: bool = False, turbo: bool = True, eigvals=None, type: int = 1,
         check_finite: bool = True):
  """Implementation of scipy.linalg.eigh (standard problem only): (w, v), or w."""
  del overwrite_a, overwrite_b, turbo, check_finite
  if b is not None:
    raise NotImplementedError("Only the b=None case of eigh is implemented")
  if type != 1:
    raise NotImplementedError("Only the type=1 case of eigh is implemented.")
  if eigvals is not None:
    raise NotImplementedError("Only the eigvals=None case of eigh is implemented.")
  a, = promote_dtypes_inexact(_jnp().asarray(a))
  v, w = lax_linalg.eigh(a, lower=lower)
  return w if eigvals_only else (w, v)


def eigh_tridiagonal(d, e, *, eigvals_only: bool = False, select: str = "a",
                     select_range=None, tol=None, key=None):
  """Implementation of scipy.linalg.eigh_tridiagonal (through the dense Hermitian eigh:
  eigenvalues ascending; select='i' picks an index range)."""
  jnp = _jnp()
  alpha, beta = jnp.asarray(d), jnp.asarray(e)
  supported = (np.float32, np.float64, np.complex64, np.complex128)
  if alpha.dtype != beta.dtype:
    raise TypeError("diagonal and off-diagonal values must have same dtype, got "
                    f"{alpha.dtype} and {beta.dtype}")
  if alpha.dtype not in supported:
    raise TypeError("Only float32 and float64 inputs are supported as inputs to "
                    f"jax.scipy.linalg.eigh_tridiagonal, got {alpha.dtype} and {beta.dtype}")
  n = alpha.shape[0]
  if select == "a":
    lo, hi = 0, n
  elif select == "i":
    if select_range is None:
      raise ValueError("for select='i', select_range must be specified.")
    if select_range[0] > select_range[1]:
      raise ValueError("Got empty index range in select_range.")
    lo, hi = int(select_range[0]), int(select_range[1]) + 1
  elif select == "v":
    raise NotImplementedError("eigh_tridiagonal(..., select='v') is not implemented")
  else:
    raise ValueError("'select must have a value in {'a', 'i', 'v'}.")
  if n <= 1:
    w = jnp.real(alpha)
    return w if eigvals_only else (w, jnp.eye(n, dtype=alpha.dtype))
  t = jnp.diag(alpha) + jnp.diag(beta, -1) + jnp.diag(jnp.conj(beta), 1)
  v, w = lax_linalg.eigh(t, lower=True, symmetrize_input=False)
  w, v = w[lo:hi], v[:, lo:hi]
  return w if eigvals_only else (w, v)


def schur(a, output: str = "real"):
  """Implementation of scipy.linalg.schur: (T, Z) with a = Z T Z^H."""
  if output not in ("real", "complex"):
    raise ValueError(f"Expected 'output' to be either 'real' or 'complex', got output={output!r}.")
  a = _jnp().asarray(a)
  if output == "complex":
    a = a.astype(dtypes.to_complex_dtype(a.dtype))
  return lax_linalg.schur(a)


def qr(a, overwrite_a: bool = False, lwork=None, mode: str = "full", pivoting: bool = False,
       check_finite: bool = True):
  """Implementation of scipy.linalg.qr: (q, r[, p]), or (r[, p],) for mode='r'."""
  del overwrite_a, lwork, check_finite
  if mode in ("full", "r"):
    full_matrices = True
  elif mode == "economic":
    full_matrices = False
  else:
    raise ValueError(f"Unsupported QR decomposition mode '{mode}'")
  a, = promote_dtypes_inexact(_jnp().asarray(a))
  q, r, *p = lax_linalg.qr(a, pivoting=pivoting, full_matrices=full_matrices)
  if mode == "r":
    return (r, p[0]) if pivoting else (r,)
  return (q, r, p[0]) if pivoting else (q, r)


def qr_multiply(a, c, mode: str = "right", pivoting: bool = False, conjugate: bool = False,
                overwrite_a: bool = False, overwrite_c: bool = False):
  """Implementation of scipy.linalg.qr_multiply: (Q @ c or c @ Q, r[, p])."""
  del overwrite_a, overwrite_c
  jnp = _jnp()
  a, c = promote_dtypes_inexact(jnp.asarray(a), jnp.asarray(c))
  if mode not in ("right", "left"):
    raise ValueError(f"mode must be 'right' or 'left', got {mode!r}")
  onedim = c.ndim == 1
  if onedim:
    c = c[:, None] if mode == "left" else c[None, :]
  m, n = a.shape[-2:]
  k = min(m, n)
  if mode == "left" and c.shape[-2] != k:
    raise ValueError(f"Array shapes are not compatible for Q @ c operation: a has shape "
                     f"{tuple(a.shape)} so Q has {k} columns, but c has {c.shape[-2]} rows "
                     f"(expected {k}).")
  if mode == "right" and c.shape[-1] != m:
    raise ValueError(f"Array shapes are not compatible for c @ Q operation: a has shape "
                     f"{tuple(a.shape)} so Q has {m} rows, but c has {c.shape[-1]} columns "
                     f"(expected {m}).")
  q, r, *p = lax_linalg.qr(a, pivoting=pivoting, full_matrices=False)
  qq = jnp.conj(q) if conjugate else q
  cq = _mm(qq, c) if mode == "left" else _mm(c, qq)
  if onedim:
    cq = cq.ravel()
  return (cq, r, p[0]) if pivoting else (cq, r)


def hessenberg(a, *, calc_q: bool = False, overwrite_a: bool = False,
               check_finite: bool = True):
  """Implementation of scipy.linalg.hessenberg: h, or (h, q) with a = q h q^H."""
  del overwrite_a, check_finite
  jnp = _jnp()
  a = jnp.asarray(a)
  n = a.shape[-1]
  if n == 0:
    return (jnp.zeros_like(a), jnp.zeros_like(a)) if calc_q else jnp.zeros_like(a)
  a_out, taus = lax_linalg.hessenberg(a)
  h = jnp.triu(a_out, -1)
  if not calc_q:
    return h
  batch = a_out.shape[:-2]
  if n == 1:
    return h, jnp.ones(batch + (1, 1), a_out.dtype)
  q = lax_linalg.householder_product(a_out[..., 1:, :-1], taus)
  top = jnp.concatenate([jnp.ones(batch + (1, 1), a_out.dtype),
                         jnp.zeros(batch + (1, n - 1), a_out.dtype)], axis=-1)
  bottom = jnp.concatenate([jnp.zeros(batch + (n - 1, 1), a_out.dtype), q], axis=-1)
  return h, jnp.concatenate([top, bottom], axis=-2)


def polar(a, side: str = "right", *, method: str = "qdwh", eps=None, max_iterations=None):
  """Implementation of scipy.linalg.polar: (u, p), a = u p (right) or p u (left). Both
  methods compute through the SVD here (same result as QDWH up to rounding)."""
  jnp = _jnp()
  arr = jnp.asarray(a)
  if arr.ndim < 2:
    raise ValueError("The input `a` must be at least a 2-D array.")
  if side not in ("right", "left"):
    raise ValueError("The argument `side` must be either 'right' or 'left'.")
  if method not in ("qdwh", "svd"):
    raise ValueError(f"Unknown polar decomposition method {method}.")
  m, n = arr.shape[-2:]
  if method == "qdwh" and not ((m >= n and side == "right") or (m < n and side == "left")):
    raise NotImplementedError("method='qdwh' only supports mxn matrices where m < n where "
                              f"side='right' and m >= n side='left', got {arr.shape} with "
                              f"side={side!r}")
  arr, = promote_dtypes_inexact(arr)
  u, s, vh = lax_linalg.svd(arr, full_matrices=False)
  s = s.astype(u.dtype)
  unitary = _mm(u, vh)
  if side == "right":
    posdef = _mm(_H(vh) * s[..., None, :], vh)
  else:
    posdef = _mm(u * s[..., None, :], _H(u))
  return unitary, posdef


def rsf2csf(T, Z, check_finite: bool = True):
  """Implementation of scipy.linalg.rsf2csf: real Schur form to complex Schur form (Givens
  rotations zeroing the subdiagonal of each 2x2 block; static loop over n)."""
  del check_finite
  jnp = _jnp()
  T, Z = jnp.asarray(T), jnp.asarray(Z)
  if T.ndim < 2 or T.shape[-1] != T.shape[-2]:
    raise ValueError("Input 'T' must be square.")
  if Z.ndim < 2 or Z.shape[-1] != Z.shape[-2]:
    raise ValueError("Input 'Z' must be square.")
  if T.shape[-1] != Z.shape[-1]:
    raise ValueError(f"Input array shapes must match: Z: {Z.shape} vs. T: {T.shape}")
  T, Z = promote_dtypes_complex(T, Z)
  if T.ndim > 2:
    from numjax._src.vmap import vmap
    fn = _rsf2csf_2d
    for _ in range(T.ndim - 2):
      fn = vmap(fn)
    return fn(T, Z)
  return _rsf2csf_2d(T, Z)


def _rsf2csf_2d(T, Z):
  jnp = _jnp()
  eps = float(dtypes.finfo(T.dtype).eps)
  N = T.shape[0]
  rows = jnp.arange(N)
  for m in range(N - 1, 0, -1):
    sub = T[m, m - 1]
    active = jnp.abs(sub) > eps * (jnp.abs(T[m - 1, m - 1]) + jnp.abs(T[m, m]))
    # the eigenvalue of the 2x2 block closest to the position, minus T[m, m]
    a_, b_, c_, d_ = T[m - 1, m - 1], T[m - 1, m], T[m, m - 1], T[m, m]
    tr, dt = a_ + d_, a_ * d_ - b_ * c_
    disc = jnp.sqrt(tr * tr / 4 - dt)
    mu = tr / 2 + disc - T[m, m]  # LAPACK lists the eigenvalue with Im > 0 first
    r = jnp.sqrt(jnp.abs(mu) ** 2 + jnp.abs(sub) ** 2).astype(T.dtype)
    safe_r = jnp.where(active, r, jnp.ones_like(r))
    cc = jnp.where(active, mu / safe_r, jnp.ones_like(mu))
    ss = jnp.where(active, sub / safe_r, jnp.zeros_like(sub))
    G = jnp.stack([jnp.stack([jnp.conj(cc), ss]), jnp.stack([-ss, cc])])
    col_mask = rows >= m - 1
    T_rows = T[m - 1:m + 1]
    T_rows = jnp.where(col_mask, _mm(G, T_rows), T_rows)
    T = T.at[m - 1:m + 1].set(T_rows)
    row_mask = (rows < m + 1)[:, None]
    T_cols = T[:, m - 1:m + 1]
    T_cols = jnp.where(row_mask, _mm(T_cols, _H(G)), T_cols)
    T = T.at[:, m - 1:m + 1].set(T_cols)
    Z = Z.at[:, m - 1:m + 1].set(_mm(Z[:, m - 1:m + 1], _H(G)))
    T = T.at[m, m - 1].set(0.0)
  return T, Z


def sqrtm(A, blocksize: int = 1):
  """Implementation of scipy.linalg.sqrtm: through the complex Schur form (a static
  column-by-column recurrence for the triangular square root)."""
  if blocksize > 1:
    raise NotImplementedError("Blocked version is not implemented yet.")
  jnp = _jnp()
  A = jnp.asarray(A)
  if A.ndim > 2:
    return _vectorize_1(_sqrtm_2d, A, 2)
  return _sqrtm_2d(A)


def _sqrtm_2d(A):
  jnp = _jnp()
  T, Z = schur(A, output="complex")
  n = T.shape[-1]
  diag = jnp.sqrt(jnp.diagonal(T))
  cols = []
  for j in range(n):
    col = [None] * n
    col[j] = diag[j]
    for i in range(j - 1, -1, -1):  # U[i,j] = (T[i,j] - sum_k U[i,k] U[k,j]) / (U[i,i] + U[j,j])
      s = 0.0
      for k in range(i + 1, j):
        s = s + cols[k][i] * col[k]
      value = (T[i, j] - s) / (diag[i] + diag[j])
      col[i] = jnp.where(T[i, j] == s, jnp.zeros_like(value), value)
    for i in range(j + 1, n):
      col[i] = jnp.zeros_like(diag[j])
    cols.append(col)
  U = jnp.stack([jnp.stack(c) for c in cols], axis=1) if n else jnp.zeros_like(T)
  return _mm(_mm(Z, U), _H(Z))


def funm(A, func, disp: bool = True):
  """Implementation of scipy.linalg.funm: the Schur-Parlett recurrence (Golub & Van Loan,
  algorithm 11.1.1) on the complex Schur form; the result is complex, as JAX's."""
  jnp = _jnp()
  A = jnp.asarray(A)
  if A.ndim != 2 or A.shape[0] != A.shape[1]:
    raise ValueError("expected square array_like input")
  T, Z = schur(A)
  T, Z = rsf2csf(T, Z)
  n = T.shape[0]
  fd = jnp.asarray(func(jnp.diagonal(T))).astype(T.dtype)
  F = [[None] * n for _ in range(n)]
  for i in range(n):
    F[i][i] = fd[i]
  minden = jnp.abs(T[0, 0]) if n else jnp.zeros((), T.real.dtype)
  for p in range(1, n):
    for i in range(n - p):
      j = i + p
      s = T[i, j] * (F[j][j] - F[i][i])
      for k in range(i + 1, j):
        s = s + T[i, k] * F[k][j] - F[i][k] * T[k, j]
      den = T[j, j] - T[i, i]
      F[i][j] = jnp.where(den != 0, s / jnp.where(den != 0, den, 1), s)
      minden = jnp.minimum(minden, jnp.abs(den))
  zero = jnp.zeros((), T.dtype)
  Fm = jnp.stack([jnp.stack([F[i][j] if j >= i else zero for j in range(n)])
                  for i in range(n)]) if n else jnp.zeros_like(T)
  Fm = _mm(_mm(Z, Fm), _H(Z))
  if disp:
    return Fm
  tol = float(dtypes.finfo(Fm.real.dtype).eps)
  minden = jnp.where(minden == 0.0, tol, minden)
  err = jnp.where(jnp.any(jnp.isinf(Fm)), np.inf, jnp.minimum(1, jnp.maximum(
      tol, (tol / minden) * jnp_linalg.norm(jnp.triu(T, 1), 1))))
  return Fm, err


def solve_sylvester(A, B, C, *, method: str = "schur", tol: float = 1e-8):
  """Implementation of scipy.linalg.solve_sylvester: X with A X + X B = C (Bartels-Stewart
  through complex Schur forms; NaNs when A and -B share an eigenvalue)."""
  jnp = _jnp()
  A, B, C = promote_dtypes_inexact(jnp.asarray(A), jnp.asarray(B), jnp.asarray(C))
  m, n = C.shape[-2:]
  if A.shape[-2:] != (m, m) or B.shape[-2:] != (n, n):
    raise ValueError(f"Incompatible shapes for Sylvester equation:\nA: {A.shape}\nB: {B.shape}"
                     f"\nC: {C.shape}")
  if method not in ("schur", "eigen"):
    raise ValueError(f'Unrecognized method {method}. The two valid methods are either "schur" '
                     'or "eigen".')
  if A.ndim > 2 or B.ndim > 2 or C.ndim > 2:
    from numjax._src.vmap import vmap
    batch = tuple(np.broadcast_shapes(A.shape[:-2], B.shape[:-2], C.shape[:-2]))
    A = jnp.broadcast_to(A, batch + A.shape[-2:])
    B = jnp.broadcast_to(B, batch + B.shape[-2:])
    C = jnp.broadcast_to(C, batch + C.shape[-2:])
    fn = partial(_solve_sylvester_2d, tol=tol)
    for _ in batch:
      fn = vmap(fn)
    return fn(A, B, C)
  return _solve_sylvester_2d(A, B, C, tol=tol)


def _solve_sylvester_2d(A, B, C, *, tol):
  jnp = _jnp()
  R, U = schur(A, output="complex")
  S, V = schur(_H(B), output="complex")
  F = _mm(_mm(_H(U), C.astype(R.dtype)), V)
  Sl = _H(S)  # lower triangular: R Y + Y Sl = F
  n = F.shape[-1]
  eye = jnp.eye(R.shape[-1], dtype=R.dtype)
  ys = [None] * n
  for j in range(n - 1, -1, -1):
    rhs = F[:, j]
    for k in range(j + 1, n):
      rhs = rhs - ys[k] * Sl[k, j]
    ys[j] = lax_linalg.triangular_solve(R + Sl[j, j] * eye, rhs, left_side=True, lower=False)
  Y = jnp.stack(ys, axis=1) if n else F
  X = _mm(_mm(U, Y), _H(V))
  if not dtypes.issubdtype(C.dtype, np.complexfloating):
    X = X.real
  wa = jnp_linalg.eigvals(A)
  wb = jnp_linalg.eigvals(B)
  singular = jnp.any(jnp.abs(wa[:, None] + wb[None, :]) < tol)
  return jnp.where(singular, jnp.full_like(X, np.nan), X)


# ---------------------------------------------------------------------------------------
# Matrix exponential (Pade approximation with scaling and squaring, as JAX/SciPy)

_PADE = {
    3: (120., 60., 12., 1.),
    5: (30240., 15120., 3360., 420., 30., 1.),
    7: (17297280., 8648640., 1995840., 277200., 25200., 1512., 56., 1.),
    9: (17643225600., 8821612800., 2075673600., 302702400., 30270240., 2162160., 110880.,
        3960., 90., 1.),
    13: (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
         129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
         40840800., 960960., 16380., 182., 1.),
}


def _pade(order):
  def f(A):
    jnp = _jnp()
    b = _PADE[order]
    ident = jnp.eye(A.shape[-1], dtype=A.dtype)
    A2 = _mm(A, A)
    if order == 13:
      A4 = _mm(A2, A2)
      A6 = _mm(A4, A2)
      U = _mm(A, _mm(A6, b[13] * A6 + b[11] * A4 + b[9] * A2) + b[7] * A6 + b[5] * A4
              + b[3] * A2 + b[1] * ident)
      V = _mm(A6, b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 + \
          b[2] * A2 + b[0] * ident
      return U, V
    powers = [ident, A2]
    while len(powers) <= order // 2:
      powers.append(_mm(powers[-1], A2))
    U = sum(b[2 * i + 1] * powers[i] for i in range(order // 2 + 1))
    V = sum(b[2 * i] * powers[i] for i in range(order // 2 + 1))
    return _mm(A, U), V
  return f


def expm(A, *, upper_triangular: bool = False, max_squarings: int = 16):
  """Implementation of scipy.linalg.expm (Pade order chosen by the 1-norm; NaNs when more
  than max_squarings squarings would be needed)."""
  jnp = _jnp()
  A, = promote_dtypes_inexact(jnp.asarray(A))
  if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
    raise ValueError(f"Expected A to be a (batched) square matrix, got A.shape={A.shape!r}.")
  if A.ndim > 2:
    return _vectorize_1(partial(expm, upper_triangular=upper_triangular,
                                max_squarings=max_squarings), A, 2)
  lax = _lax_api()
  A_L1 = jnp_linalg.norm(A, 1)
  if A.dtype in (np.float64, np.complex128):
    maxnorm = 5.371920351148152
    conds = (0.01495585217958292, 0.253939833006323, 0.9504178996162932, 2.097847961257068)
    orders = (3, 5, 7, 9, 13)
  elif A.dtype in (np.float32, np.complex64):
    maxnorm = 3.92572478313866
    conds = (0.4258730016922831, 1.880152677804762)
    orders = (3, 5, 7)
  else:
    raise TypeError(f"A.dtype={A.dtype} is not supported.")
  n_squarings = jnp.maximum(0, jnp.floor(jnp.log2(A_L1 / maxnorm)))
  A = A / (2 ** n_squarings).astype(A.dtype)
  idx = sum((A_L1 >= c).astype(np.int32) for c in conds)
  U, V = lax.switch(idx, [_pade(o) for o in orders], A)
  P, Q = U + V, -U + V
  R = solve_triangular(Q, P) if upper_triangular else jnp_linalg.solve(Q, P)

  def body(i, r):
    return lax.cond(i < n_squarings, lambda x: _mm(x, x), lambda x: x, r)
  for i in range(max_squarings):
    R = body(jnp.asarray(i, n_squarings.dtype), R)
  return jnp.where(n_squarings > max_squarings, jnp.full_like(R, np.nan), R)


def expm_frechet(A, E, *, method=None, compute_expm: bool = True):
  """Implementation of scipy.linalg.expm_frechet: the jvp of expm at A along E."""
  del method
  from numjax._src.autodiff import jvp
  jnp = _jnp()
  A, E = jnp.asarray(A), jnp.asarray(E)
  if A.ndim < 2 or A.shape[-2] != A.shape[-1]:
    raise ValueError(f"expected A to be a (batched) square matrix, got A.shape={A.shape}")
  if E.ndim < 2 or E.shape[-2] != E.shape[-1]:
    raise ValueError(f"expected E to be a (batched) square matrix, got E.shape={E.shape}")
  if A.shape != E.shape:
    raise ValueError(f"expected A and E to be the same shape, got A.shape={A.shape} "
                     f"E.shape={E.shape}")
  A, E = promote_dtypes_inexact(A, E)
  expm_A, frechet = jvp(partial(expm, upper_triangular=False, max_squarings=16), (A,), (E,))
  return (expm_A, frechet) if compute_expm else frechet


# ---------------------------------------------------------------------------------------
# Special matrices

def block_diag(*arrs):
  """Implementation of scipy.linalg.block_diag."""
  jnp = _jnp()
  if len(arrs) == 0:
    arrs = (jnp.zeros((1, 0)),)
  arrs = tuple(promote_dtypes(*arrs))
  bad = [i for i, a in enumerate(arrs) if np.ndim(a) > 2]
  if bad:
    raise ValueError("Arguments to jax.scipy.linalg.block_diag must have at most 2 "
                     f"dimensions, got {arrs[bad[0]]} at argument {bad[0]}.")
  arrs = [jnp.atleast_2d(a) for a in arrs]
  total = sum(a.shape[1] for a in arrs)
  out, col = [], 0
  for a in arrs:
    c = a.shape[1]
    out.append(jnp.pad(a, ((0, 0), (col, total - c - col))))
    col += c
  return jnp.concatenate(out, axis=0)


def toeplitz(c, r=None):
  """Implementation of scipy.linalg.toeplitz (batched over leading dimensions)."""
  jnp = _jnp()
  if r is None:
    check_arraylike("toeplitz", c)
    r = jnp.conjugate(jnp.asarray(c))
  else:
    check_arraylike("toeplitz", c, r)
  c, r = jnp.atleast_1d(jnp.asarray(c)), jnp.atleast_1d(jnp.asarray(r))
  c, r = promote_dtypes(c, r)
  m, n = c.shape[-1], r.shape[-1]
  batch = tuple(np.broadcast_shapes(c.shape[:-1], r.shape[:-1]))
  if m == 0 or n == 0:
    return jnp.empty(batch + (m, n), dtype=c.dtype)
  elems = jnp.concatenate([jnp.broadcast_to(jnp.flip(c, -1), batch + (m,)),
                           jnp.broadcast_to(r, batch + (n,))[..., 1:]], axis=-1)
  idx = (m - 1) - np.arange(m)[:, None] + np.arange(n)[None, :]
  return elems[..., idx]


def hankel(c, r=None):
  """Implementation of scipy.linalg.hankel (batched over leading dimensions)."""
  jnp = _jnp()
  if r is None:
    check_arraylike("hankel", c)
    c = jnp.asarray(c)
    r = jnp.zeros_like(c)
  else:
    check_arraylike("hankel", c, r)
    c, r = jnp.asarray(c), jnp.asarray(r)
  if c.ndim == 0:
    raise ValueError("hankel: c must be at least 1-dimensional, got a scalar.")
  if r.ndim == 0:
    raise ValueError("hankel: r must be at least 1-dimensional, got a scalar.")
  c, r = promote_dtypes(c, r)
  m, n = c.shape[-1], r.shape[-1]
  batch = tuple(np.broadcast_shapes(c.shape[:-1], r.shape[:-1]))
  if m == 0 or n == 0:
    return jnp.empty(batch + (m, n), dtype=c.dtype)
  v = jnp.concatenate([jnp.broadcast_to(c, batch + (m,)),
                       jnp.broadcast_to(r, batch + (n,))[..., 1:]], axis=-1)
  idx = np.arange(m)[:, None] + np.arange(n)[None, :]
  return v[..., idx]


def circulant(c):
  """Implementation of scipy.linalg.circulant."""
  check_arraylike("circulant", c)
  jnp = _jnp()
  c = jnp.atleast_1d(jnp.asarray(c))
  n = c.shape[-1]
  idx = (np.arange(n)[:, None] - np.arange(n)[None, :]) % n
  return c[..., idx]


def leslie(f, s):
  """Implementation of scipy.linalg.leslie."""
  check_arraylike("leslie", f, s)
  jnp = _jnp()
  f, s = jnp.atleast_1d(f), jnp.atleast_1d(s)
  if f.shape[-1] < 2:
    raise ValueError(f"The length of f along the last axis must be at least 2; got shape "
                     f"{f.shape}.")
  if s.shape[-1] != f.shape[-1] - 1:
    raise ValueError("Incorrect lengths for f and s. The length of s along the last axis "
                     "must be one less than the length of f; got f shape "
                     f"{f.shape} and s shape {s.shape}.")
  f, s = promote_dtypes(f, s)
  n = f.shape[-1]
  batch = tuple(np.broadcast_shapes(f.shape[:-1], s.shape[:-1]))
  sub = jnp.broadcast_to(s, batch + (n - 1,))[..., :, None] * jnp.eye(n - 1, dtype=s.dtype)
  lower = jnp.pad(sub, [(0, 0)] * len(batch) + [(1, 0), (0, 1)])
  top = jnp.broadcast_to(f, batch + (n,))[..., None, :]
  return jnp.concatenate([top, lower[..., 1:, :]], axis=-2)


def companion(a):
  """Implementation of scipy.linalg.companion."""
  a, = promote_args_inexact("companion", a)
  jnp = _jnp()
  a = jnp.atleast_1d(a)
  if a.shape[-1] < 2:
    raise ValueError(f"The length of `a` along the last axis must be at least 2; got shape "
                     f"{a.shape}.")
  first_row = -a[..., 1:] / a[..., :1]
  m = a.shape[-1] - 1
  sub = jnp.broadcast_to(jnp.eye(m, m, k=-1, dtype=first_row.dtype),
                         first_row.shape[:-1] + (m, m))
  return jnp.concatenate([first_row[..., None, :], sub[..., 1:, :]], axis=-2)


def fiedler(a):
  """Implementation of scipy.linalg.fiedler."""
  check_arraylike("fiedler", a)
  jnp = _jnp()
  arr = jnp.atleast_1d(a)
  return jnp.abs(arr[..., None] - arr[..., None, :])


def fiedler_companion(a):
  """Implementation of scipy.linalg.fiedler_companion."""
  a, = promote_args_inexact("fiedler_companion", a)
  jnp = _jnp()
  a = jnp.atleast_1d(a)
  if a.shape[-1] == 0:
    raise ValueError("fiedler_companion requires the last axis of 'a' to have nonzero length, "
                     f"but got an array of shape {a.shape}.")
  n = a.shape[-1] - 1
  if n == 0:
    return jnp.zeros(a.shape[:-1] + (0, 0), a.dtype)
  a = a / a[..., :1]
  if n == 1:
    return -a[..., 1:][..., None]
  i = np.arange(n)[:, None]
  j = np.arange(n)[None, :]
  one = np.ones((), a.dtype)
  super_val = -a[..., np.minimum(i + 2, n)]
  sub_val = -a[..., np.minimum(i + 1, n)]
  ev, od = i % 2 == 0, i % 2 == 1
  conds = [(i == 0) & (j == 0), (i == 1) & (j == 0), (j == i + 1) & ev, (j == i + 2) & ev,
           (j == i - 1) & ev & (i >= 2), (j == i - 2) & od & (i >= 3)]
  choices = [jnp.broadcast_to(-a[..., 1:2, None], super_val.shape), one, super_val, one,
             sub_val, one]
  return jnp.select([jnp.asarray(cnd) for cnd in conds], choices, default=0)


def convolution_matrix(a, n: int, mode: str = "full"):
  """Implementation of scipy.linalg.convolution_matrix."""
  n = operator.index(n)
  if n <= 0:
    raise ValueError(f"n must be a positive integer; got {n}.")
  check_arraylike("convolution_matrix", a)
  jnp = _jnp()
  a = jnp.asarray(a)
  if a.ndim == 0:
    raise ValueError("convolution_matrix: a must be at least 1-dimensional, got a scalar.")
  m = a.shape[-1]
  if m < 1:
    raise ValueError(f"len(a) must be at least 1; got shape {a.shape}.")
  if mode not in ("full", "valid", "same"):
    raise ValueError(f"mode must be one of 'full', 'valid', 'same'; got {mode!r}.")
  pads = [(0, 0)] * (a.ndim - 1) + [(0, n - 1)]
  az = jnp.pad(a, pads)
  raz = jnp.pad(jnp.flip(a, axis=-1), pads)
  L = m + n - 1
  if mode == "same":
    trim = min(n, m) - 1
    tb = trim // 2
    te = trim - tb
  elif mode == "valid":
    tb = te = min(n, m) - 1
  else:
    tb = te = 0
  col0 = az[..., tb:L - te]
  row0 = raz[..., L - n - tb:L - tb]
  return toeplitz(col0, row0)


def _iota_float(n, dtype=None):
  dt = dtypes.default_float_dtype() if dtype is None else dtype
  return _jnp().arange(n, dtype=dt)


def hilbert(n: int):
  """Implementation of scipy.linalg.hilbert (default float dtype)."""
  a = _iota_float(n)[:, None]
  return 1 / (a + a.T + 1)


def _comb(n, k):
  """Binomial coefficient (float, exp of log-gammas; 0 outside 0 <= k <= n)."""
  jnp = _jnp()
  lax = _lax_api()
  ok = (k >= 0) & (k <= n)
  n_, k_ = jnp.where(ok, n, 1.0), jnp.where(ok, k, 0.0)
  val = jnp.round(jnp.exp(lax.lgamma(n_ + 1) - lax.lgamma(k_ + 1) - lax.lgamma(n_ - k_ + 1)))
  return jnp.where(ok, val, 0.0)


def invhilbert(n: int):
  """Implementation of scipy.linalg.invhilbert (default float dtype)."""
  a = _iota_float(n)
  i, j = a[:, None], a[None, :]
  s = i + j
  return (-1.0) ** s * (s + 1.0) * _comb(n + i, n - j - 1) * _comb(n + j, n - i - 1) * \
      _comb(s, i) ** 2


def pascal(n: int, kind=None):
  """Implementation of scipy.linalg.pascal (float32, as JAX)."""
  if kind is None:
    kind = "symmetric"
  valid = ["symmetric", "lower", "upper"]
  if kind not in valid:
    raise ValueError(f"Expected kind to be on of: {valid}; got {kind}")
  a = _iota_float(n, np.float32)
  L = _comb(a[:, None], a[None, :])
  if kind == "lower":
    return L
  if kind == "upper":
    return L.T
  return _mm(L, L.T)


def invpascal(n: int, kind=None):
  """Implementation of scipy.linalg.invpascal (default float dtype)."""
  if kind is None:
    kind = "symmetric"
  valid = ["symmetric", "lower", "upper"]
  if kind not in valid:
    raise ValueError(f"Expected kind to be one of: {valid}; got {kind}")
  a = _iota_float(n)
  i, j = a[:, None], a[None, :]
  L_inv = (-1.0) ** (i - j) * _comb(i, j)
  if kind == "lower":
    return L_inv
  if kind == "upper":
    return L_inv.T
  return _mm(L_inv.T, L_inv)


def helmert(n: int, full: bool = False):
  """Implementation of scipy.linalg.helmert (default float dtype)."""
  if n < 1:
    raise ValueError(f"n must be a positive integer; got {n}.")
  jnp = _jnp()
  i = jnp.arange(n - 1)[:, None]
  j = jnp.arange(n)[None, :]
  k = i + 1
  k_f = k.astype(dtypes.default_float_dtype())
  denom = jnp.sqrt(k_f * (k_f + 1))
  H = jnp.where(j <= i, 1.0 / denom, jnp.where(j == k, -k_f / denom, jnp.zeros_like(denom)))
  if full:
    first = jnp.full((1, n), 1.0 / math.sqrt(n), dtype=H.dtype)
    H = jnp.concatenate([first, H], axis=0)
  return H


def hadamard(n: int, dtype=int):
  """Implementation of scipy.linalg.hadamard (Sylvester's construction)."""
  if n < 1 or not math.log2(n).is_integer():
    raise ValueError(f"n must be a positive power of 2; got {n}.")
  jnp = _jnp()
  H = jnp.ones((1, 1), dtype=dtype)
  for _ in range(int(math.log2(n))):
    H = jnp.concatenate([jnp.concatenate([H, H], axis=1), jnp.concatenate([H, -H], axis=1)],
                        axis=0)
  return H


def dft(n: int, scale=None, *, dtype=None):
  """Implementation of scipy.linalg.dft (default complex dtype)."""
  if scale is not None and scale not in ("sqrtn", "n"):
    raise ValueError(f"scale must be None, 'sqrtn', or 'n'; got {scale!r}.")
  jnp = _jnp()
  if dtype is None:
    dtype = dtypes.to_complex_dtype(dtypes.default_float_dtype())
  else:
    dtype = dtypes.canonicalize_dtype(dtype)
    if not dtypes.issubdtype(dtype, np.complexfloating):
      raise ValueError(f"dtype must be a complex floating-point type; got {dtype}.")
  a = jnp.arange(n, dtype=dtype)
  omegas = jnp.exp(-2j * np.pi * a[:, None] * a[None, :] / n)
  if scale == "sqrtn":
    omegas = omegas / math.sqrt(n)
  elif scale == "n":
    omegas = omegas / n
  return omegas
