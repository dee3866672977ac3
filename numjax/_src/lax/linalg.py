"""Linear-algebra primitives (jax.lax.linalg): cholesky, eigh, svd, qr, eig, schur,
hessenberg, householder_product, geqrf, tridiagonal and composites (ormqr, ...). LU and the
solves (lu, lu_pivots_to_permutation, triangular_solve, tridiagonal_solve) live in
lax/linalg_solve.py (re-exported here); shared helpers live in lax/linalg_common.py.

Every primitive acts on the trailing matrix dimensions and is batched over any leading
ones (the impls call batched NumPy LAPACK routines, or loop over the batch for SciPy's).
Batching rules therefore only move the vmapped axis to the front. Failures that LAPACK
reports (a non-positive-definite Cholesky input, a non-converging eigensolver) give
NaN-filled results, as in JAX. SciPy is imported inside the impls: `import numjax` stays
fast. The jvps are JAX's implicit rules written with lax ops, so they compose.

These primitives run on the NumPy tier only (`numpy_tier_only`): LAPACK is the kernel.
"""
from __future__ import annotations

import enum
import operator

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.core import ShapedArray
from numjax._src.interpreters import ad
from numjax._src.lax import lax as _lax
from numjax._src.lax import slicing
from numjax._src.lax.lax import asarray
from numjax._src.lax.reductions import reduce_sum
from numjax._src.lax.linalg_common import (  # noqa: F401 (symmetrize: jax.lax.linalg's too)
    _H, _T, _as_compute, _bcast_last, _check_inexact, _complex_basetype, _construct_diagonal,
    _dtype, _extract_diagonal, _eye, _finish, _i32, _is_complex, _linalg_primitive, _matmul,
    _nan_like, _ndim, _no_jvp, _per_matrix, _real, _shape, _slice_last2, _split_batch, _tril,
    _triu, symmetrize)
# LU and the linear solves live in lax/linalg_solve.py; re-exported here (numjax.lax.linalg
# and numpy/scipy linalg import them from this module).
from numjax._src.lax.linalg_solve import (  # noqa: F401
    _lu_solve, _solve, _take_rows, lu, lu_p, lu_pivots_to_permutation,
    lu_pivots_to_permutation_p, lu_solve, triangular_solve, triangular_solve_p,
    tridiagonal_solve, tridiagonal_solve_p)


# ---------------------------------------------------------------------------------------
# cholesky

cholesky_p = _linalg_primitive("cholesky")


def _cholesky_impl(x):
  dt = x.dtype
  xc = _as_compute(x)
  if x.size == 0:
    return np.zeros(x.shape, dt)
  try:
    out = np.linalg.cholesky(xc)
  except np.linalg.LinAlgError:
    def one(a):
      return (np.linalg.cholesky(a),)
    res = _per_matrix(one, xc, n_out=1)
    out = _nan_like(x.shape, xc.dtype) if res is None else res[0]
  return out.astype(dt, copy=False)


def _cholesky_abstract(x):
  _check_inexact("cholesky", [x])
  batch, (shape,) = _split_batch("cholesky", [x], [2])
  if shape[0] != shape[1]:
    raise ValueError(f"The input to cholesky must be a square matrix. Got shape {shape}.")
  return ShapedArray(x.shape, x.dtype)


def _hermitian_from_triangle(x, lower):
  """The Hermitian matrix LAPACK sees when it reads only one triangle of x (and the real
  part of its diagonal)."""
  strict = _tril(x, -1) if lower else _triu(x, 1)
  diag = _real(_extract_diagonal(x))
  diag = _construct_diagonal(_lax.convert_element_type(diag, _dtype(x)))
  return _lax.add(_lax.add(strict, _H(strict)), diag)


def _cholesky_jvp(primals, tangents):
  # L' = L phi(L^{-1} A' L^{-H}), phi takes the lower triangle with the diagonal halved.
  # The primitive reads the lower triangle only: A' is the Hermitian matrix made from it
  # (the same as JAX's rule for symmetric tangents, and right for the others too).
  x, = primals
  sigma_dot, = tangents
  sigma_dot = _hermitian_from_triangle(sigma_dot, True)
  L = _tril(cholesky_p.bind(x))
  n = _shape(x)[-1]
  tmp = triangular_solve(L, sigma_dot, left_side=False, transpose_a=True, conjugate_a=True,
                         lower=True)
  inner = triangular_solve(L, tmp, left_side=True, transpose_a=False, lower=True)
  half = _lax.add(_lax._const(inner, 1), _eye(_dtype(inner), n, n, _shape(inner)[:-2]))
  phi = _lax.div(_tril(inner), half)
  return L, _matmul(L, phi)


_finish(cholesky_p, _cholesky_impl, _cholesky_abstract)
ad.primitive_jvps[cholesky_p] = _cholesky_jvp


def cholesky(x, *, symmetrize_input: bool = True):
  """Cholesky decomposition A = L L^H (lower L); NaNs where A is not positive definite."""
  x = asarray(x)
  if symmetrize_input:
    x = symmetrize(x)
  return _tril(cholesky_p.bind(x))


# ---------------------------------------------------------------------------------------
# eigh

class EighImplementation(enum.Enum):
  QR = "qr"
  JACOBI = "jacobi"
  QDWH = "qdwh"


eigh_p = _linalg_primitive("eigh", multiple_results=True)


def _eigh_impl(x, *, lower, sort_eigenvalues, subset_by_index, algorithm):
  dt = x.dtype
  xc = _as_compute(x)
  uplo = "L" if lower else "U"
  n = x.shape[-1]
  if x.size == 0:
    w = np.zeros(x.shape[:-1], _complex_basetype(xc.dtype))
    v = np.zeros(x.shape, xc.dtype)
  else:
    try:
      w, v = np.linalg.eigh(xc, UPLO=uplo)
    except np.linalg.LinAlgError:
      res = _per_matrix(lambda a: np.linalg.eigh(a, UPLO=uplo), xc, n_out=2)
      if res is None:
        w = _nan_like(x.shape[:-1], _complex_basetype(xc.dtype))
        v = _nan_like(x.shape, xc.dtype)
      else:
        w, v = res
  if subset_by_index is not None and tuple(subset_by_index) != (0, n):
    lo, hi = subset_by_index
    w, v = w[..., lo:hi], v[..., :, lo:hi]
  return [v.astype(dt, copy=False), w.astype(_complex_basetype(dt), copy=False)]


def _eigh_abstract(x, *, lower, sort_eigenvalues, subset_by_index, algorithm):
  _check_inexact("eigh", [x])
  batch, (shape,) = _split_batch("eigh", [x], [2])
  if shape[0] != shape[-1]:
    raise ValueError("Argument to symmetric eigendecomposition must have shape [..., n, n], "
                     f"got shape {x.shape}")
  n = shape[0]
  d = n if subset_by_index is None else subset_by_index[1] - subset_by_index[0]
  return [ShapedArray(batch + (n, d), x.dtype),
          ShapedArray(batch + (d,), _complex_basetype(x.dtype))]


def _eigh_jvp(primals, tangents, *, lower, sort_eigenvalues, subset_by_index, algorithm):
  # Non-degenerate perturbation theory: dw = diag(V^H dA V), dV = V (F * V^H dA V) with
  # F_ij = 1 / (w_j - w_i) off the diagonal, 0 on it.
  a, = primals
  a_dot, = tangents
  n = _shape(a)[-1]
  if not (subset_by_index is None or tuple(subset_by_index) == (0, n)):
    raise NotImplementedError("Derivatives not defined for partial eigen decomposition.")
  # Only one triangle is read (by the primal and so by the tangent): see cholesky's jvp.
  a_dot = _hermitian_from_triangle(a_dot, lower)
  v, w_real = eigh_p.bind(a, lower=lower, sort_eigenvalues=sort_eigenvalues,
                          subset_by_index=subset_by_index, algorithm=algorithm)
  w = _lax.convert_element_type(w_real, _dtype(a))
  shape = _shape(a)
  eye_n = _eye(_dtype(a), n, n, shape[:-2])
  diff = _lax.sub(_bcast_last(w, shape, -1), _bcast_last(w, shape, -2))
  Fmat = _lax.sub(_lax.integer_pow(_lax.add(eye_n, diff), -1), eye_n)
  vdag_adot_v = _matmul(_matmul(_H(v), a_dot), v)
  dv = _matmul(v, _lax.mul(Fmat, vdag_adot_v))
  dw = _extract_diagonal(_real(vdag_adot_v))
  return [v, w_real], [dv, dw]


_finish(eigh_p, _eigh_impl, _eigh_abstract)
ad.primitive_jvps[eigh_p] = _eigh_jvp


def eigh(x, *, lower: bool = True, symmetrize_input: bool = True,
         sort_eigenvalues: bool = True, subset_by_index=None, implementation=None):
  """Eigendecomposition of a Hermitian matrix: (v, w), eigenvalues w ascending."""
  x = asarray(x)
  if symmetrize_input:
    x = symmetrize(x)
  if subset_by_index is not None:
    subset_by_index = tuple(operator.index(i) for i in subset_by_index)
  v, w = eigh_p.bind(x, lower=bool(lower), sort_eigenvalues=bool(sort_eigenvalues),
                     subset_by_index=subset_by_index, algorithm=implementation)
  return v, w


# ---------------------------------------------------------------------------------------
# svd

class SvdAlgorithm(enum.Enum):
  DEFAULT = "default"
  QR = "QR"
  JACOBI = "Jacobi"
  POLAR = "polar"


svd_p = _linalg_primitive("svd", multiple_results=True)


def _svd_impl(x, *, full_matrices, compute_uv, subset_by_index, algorithm=None):
  dt = x.dtype
  rdt = _complex_basetype(dt)
  xc = _as_compute(x)
  batch = x.shape[:-2]
  m, n = x.shape[-2:]
  k = min(m, n)
  if x.size == 0:
    s = np.zeros(batch + (0,) if k == 0 else batch + (k,), rdt)
    if not compute_uv:
      return [s]
    ku = m if full_matrices else k
    kv = n if full_matrices else k
    u = np.broadcast_to(np.eye(m, ku, dtype=dt), batch + (m, ku)).copy()
    vt = np.broadcast_to(np.eye(kv, n, dtype=dt), batch + (kv, n)).copy()
    return [s, u, vt]
  def run(a):
    if compute_uv:
      u, s, vt = np.linalg.svd(a, full_matrices=full_matrices, compute_uv=True)
      return s, u, vt
    return (np.linalg.svd(a, compute_uv=False),)
  nout = 3 if compute_uv else 1
  try:
    outs = run(xc)
  except np.linalg.LinAlgError:
    outs = _per_matrix(run, xc, n_out=nout)
    if outs is None:
      outs = [_nan_like(s.shape, s.dtype) for s in
              (np.zeros(batch + (k,), rdt),) + ((np.zeros(batch + (m, m if full_matrices
                                                                     else k), dt),
                                                  np.zeros(batch + (n if full_matrices
                                                                    else k, n), dt))
                                                 if compute_uv else ())]
  outs = list(outs)
  if subset_by_index is not None and tuple(subset_by_index) != (0, k):
    lo, hi = subset_by_index
    hi = min(hi, k)
    outs[0] = outs[0][..., lo:hi]
    if compute_uv:
      outs[1] = outs[1][..., :, lo:hi]
      outs[2] = outs[2][..., lo:hi, :]
  return [outs[0].astype(rdt, copy=False)] + [o.astype(dt, copy=False) for o in outs[1:]]


def _svd_abstract(x, *, full_matrices, compute_uv, subset_by_index, algorithm=None):
  _check_inexact("svd", [x])
  batch, (shape,) = _split_batch("svd", [x], [2])
  m, n = shape
  rank = min(m, n)
  if subset_by_index is not None:
    if full_matrices and tuple(subset_by_index) != (0, rank):
      raise ValueError("full_matrices and subset_by_index cannot both be set")
    rank = min(rank, subset_by_index[1] - subset_by_index[0])
  rdt = _complex_basetype(x.dtype)
  s = ShapedArray(batch + (rank,), rdt)
  if not compute_uv:
    return [s]
  return [s, ShapedArray(batch + (m, m if full_matrices else rank), x.dtype),
          ShapedArray(batch + (n if full_matrices else rank, n), x.dtype)]


def _svd_jvp(primals, tangents, *, full_matrices, compute_uv, subset_by_index,
             algorithm=None):
  A, = primals
  dA, = tangents
  s, U, Vt = svd_p.bind(A, full_matrices=False, compute_uv=True,
                        subset_by_index=subset_by_index, algorithm=algorithm)
  m, n = _shape(A)[-2:]
  if compute_uv and full_matrices and m != n:
    raise NotImplementedError(
        "Singular value decomposition JVP not implemented for full matrices")
  adt = _dtype(A)
  Ut, V = _H(U), _H(Vt)
  dS = _matmul(_matmul(Ut, dA), V)
  ds = _extract_diagonal(_real(dS))
  if not compute_uv:
    return [s], [ds]
  k = _shape(s)[-1]
  sq = _shape(dS)
  s_row = _bcast_last(s, sq, -1)   # s_j
  s_col = _bcast_last(s, sq, -2)   # s_i
  eye_k = _eye(_dtype(s), k, k, sq[:-2])
  s_diffs = _lax.mul(_lax.add(s_row, s_col), _lax.sub(s_row, s_col))
  F = _lax.sub(_lax.div(_lax._const(s_diffs, 1), _lax.add(s_diffs, eye_k)), eye_k)
  s_row_c = _lax.convert_element_type(s_row, adt)
  s_col_c = _lax.convert_element_type(s_col, adt)
  dSS = _lax.mul(s_row_c, dS)
  SdS = _lax.mul(s_col_c, dS)
  s_zeros = _lax.convert_element_type(_lax.eq(s, _lax._const(s, 0)), _dtype(s))
  s_inv = _lax.sub(_lax.div(_lax._const(s, 1), _lax.add(s, s_zeros)), s_zeros)
  s_inv_mat = _lax.convert_element_type(_construct_diagonal(s_inv), adt)
  dUdV_diag = _lax.mul(_lax.mul(_lax._const(dS, 0.5), _lax.sub(dS, _H(dS))), s_inv_mat)
  Fc = _lax.convert_element_type(F, adt)
  dU = _matmul(U, _lax.add(_lax.mul(Fc, _lax.add(dSS, _H(dSS))), dUdV_diag))
  dV = _matmul(V, _lax.mul(Fc, _lax.add(SdS, _H(SdS))))
  if m > n:
    dAV = _matmul(dA, V)
    dU = _lax.add(dU, _lax.div(_lax.sub(dAV, _matmul(U, _matmul(Ut, dAV))),
                               _bcast_last(_lax.convert_element_type(s, adt), _shape(dAV), -1)))
  if n > m:
    dAHU = _matmul(_H(dA), U)
    dV = _lax.add(dV, _lax.div(_lax.sub(dAHU, _matmul(V, _matmul(Vt, dAHU))),
                               _bcast_last(_lax.convert_element_type(s, adt), _shape(dAHU), -1)))
  return [s, U, Vt], [ds, dU, _H(dV)]


_finish(svd_p, _svd_impl, _svd_abstract)
ad.primitive_jvps[svd_p] = _svd_jvp


def svd(x, *, full_matrices: bool = True, compute_uv: bool = True, subset_by_index=None,
        algorithm=None):
  """Singular value decomposition: (u, s, vh) (s descending), or s with compute_uv=False."""
  x = asarray(x)
  if subset_by_index is not None:
    subset_by_index = tuple(operator.index(i) for i in subset_by_index)
  res = svd_p.bind(x, full_matrices=bool(full_matrices), compute_uv=bool(compute_uv),
                   subset_by_index=subset_by_index, algorithm=algorithm)
  if compute_uv:
    s, u, v = res
    return u, s, v
  return res[0]


# ---------------------------------------------------------------------------------------
# qr

qr_p = _linalg_primitive("qr", multiple_results=True)


def _qr_impl(x, *, pivoting, full_matrices, use_magma=None):
  dt = x.dtype
  xc = _as_compute(x)
  batch = x.shape[:-2]
  m, n = x.shape[-2:]
  k = m if full_matrices else min(m, n)
  if x.size == 0:
    q = np.broadcast_to(np.eye(m, k, dtype=dt), batch + (m, k)).copy()
    r = np.zeros(batch + (k, n), dt)
    return [q, r, np.zeros(batch + (n,), _i32)] if pivoting else [q, r]
  if pivoting:
    import scipy.linalg  # lazily: keeps `import numjax` fast
    mode = "full" if full_matrices else "economic"
    q, r, p = _per_matrix(lambda a: scipy.linalg.qr(a, mode=mode, pivoting=True, check_finite=False), xc, n_out=3)
    return [q.astype(dt, copy=False), r.astype(dt, copy=False), p.astype(_i32)]
  q, r = np.linalg.qr(xc, mode="complete" if full_matrices else "reduced")
  return [q.astype(dt, copy=False), r.astype(dt, copy=False)]


def _qr_abstract(x, *, pivoting, full_matrices, use_magma=None):
  _check_inexact("qr", [x])
  batch, (shape,) = _split_batch("qr", [x], [2])
  m, n = shape
  k = m if full_matrices else min(m, n)
  out = [ShapedArray(batch + (m, k), x.dtype), ShapedArray(batch + (k, n), x.dtype)]
  if pivoting:
    out.append(ShapedArray(batch + (n,), _i32))
  return out


def _thin_qr_jvp(q, r, dx):
  # dX R^{-1} split into Q-space and complement; the skew part fixes dQ (Townsend's note).
  dx_rinv = triangular_solve(r, dx)  # right-side solve
  qt_dx_rinv = _matmul(_H(q), dx_rinv)
  low = _tril(qt_dx_rinv, -1)
  do = _lax.sub(low, _H(low))
  if _is_complex(qt_dx_rinv):
    n = _shape(r)[-1]
    eye = _eye(_dtype(do), n, n, _shape(do)[:-2])
    im = _lax.sub(qt_dx_rinv, _lax.convert_element_type(_lax.real(qt_dx_rinv), _dtype(do)))
    do = _lax.add(do, _lax.mul(eye, im))
  dq = _lax.add(_matmul(q, _lax.sub(do, qt_dx_rinv)), dx_rinv)
  dr = _matmul(_lax.sub(qt_dx_rinv, do), r)
  return dq, dr



def _qr_jvp(primals, tangents, *, pivoting, full_matrices, use_magma=None):
  x, = primals
  dx, = tangents
  q, r, *p = qr_p.bind(x, pivoting=pivoting, full_matrices=full_matrices,
                       use_magma=use_magma)
  m, n = _shape(x)[-2:]
  if pivoting:
    from numjax._src.lax.sorting import take_along_axis
    perm = _lax.broadcast_in_dim(p[0], _shape(dx), tuple(range(_ndim(dx) - 2)) +
                                 (_ndim(dx) - 1,))
    dx = take_along_axis(dx, perm, _ndim(dx) - 1)
  nb = _ndim(x) - 2
  extra = [ad.Zero(ad.tangent_aval(core.get_aval(p[0])))] if pivoting else []
  if m < n:
    # X = [X1 X2] = Q [R1 R2]: the square part is a QR; R2 = Q^H X2.
    if pivoting:
      x = take_along_axis(x, perm, nb + 1)
    x2 = _slice_last2(x, (0, m), (m, n))
    dx1 = _slice_last2(dx, (0, m), (0, m))
    dx2 = _slice_last2(dx, (0, m), (m, n))
    r1 = _slice_last2(r, (0, m), (0, m))
    dq, dr1 = _thin_qr_jvp(q, r1, dx1)
    dr2 = _lax.add(_matmul(_H(dq), x2), _matmul(_H(q), dx2))
    dr = slicing.concatenate([dr1, dr2], nb + 1)
    return [q, r, *p], [dq, dr, *extra]
  q_mn = _slice_last2(q, (0, m), (0, n)) if full_matrices else q
  r_nn = _slice_last2(r, (0, n), (0, n)) if full_matrices else r
  dq_mn, dr_nn = _thin_qr_jvp(q_mn, r_nn, dx)
  if not full_matrices or m == n:
    return [q, r, *p], [dq_mn, dr_nn, *extra]
  # Full Q for tall X: the complement block follows from Q^H dQ skew-Hermitian and the
  # Householder structure (Roberts & Roberts, arXiv:2409.13374, eqs. 32-33).
  q_nn = _slice_last2(q_mn, (0, n), (0, n))
  q_pn = _slice_last2(q_mn, (n, m), (0, n))
  q_mp = _slice_last2(q, (0, m), (n, m))
  dq_nn = _slice_last2(dq_mn, (0, n), (0, n))
  dq_pn = _slice_last2(dq_mn, (n, m), (0, n))
  eye_n = _eye(_dtype(q), n, n, _shape(q)[:-2])
  lu_, _, perm_ = lu(_lax.sub(q_nn, eye_n))
  z_pn_H = _lu_solve(lu_, perm_, _H(q_pn), trans=2)
  z_pn = _H(z_pn_H)
  dq_mp = _lax.sub(_matmul(dq_mn, z_pn_H),
                   _matmul(_lax.add(q_mn, _matmul(q_mp, z_pn)),
                           _H(_lax.sub(dq_pn, _matmul(z_pn, dq_nn)))))
  dq = slicing.concatenate([dq_mn, dq_mp], nb + 1)
  zeros = _lax.full(_shape(dr_nn)[:-2] + (m - n, n), 0, _dtype(dr_nn))
  dr = slicing.concatenate([dr_nn, zeros], nb)
  return [q, r, *p], [dq, dr, *extra]


_finish(qr_p, _qr_impl, _qr_abstract)
ad.primitive_jvps[qr_p] = _qr_jvp


def qr(x, *, pivoting: bool = False, full_matrices: bool = True, use_magma=None):
  """QR decomposition (LAPACK's sign convention): (q, r), or (q, r, p) with pivoting."""
  x = asarray(x)
  q, r, *p = qr_p.bind(x, pivoting=bool(pivoting), full_matrices=bool(full_matrices),
                       use_magma=use_magma)
  if pivoting:
    return q, r, p[0]
  return q, r


# ---------------------------------------------------------------------------------------
# eig (general eigendecomposition)

class EigImplementation(enum.Enum):
  LAPACK = "lapack"
  MAGMA = "magma"


eig_p = _linalg_primitive("eig", multiple_results=True)


def _eig_impl(x, *, compute_left_eigenvectors, compute_right_eigenvectors,
              enable_eigvec_derivs=False, implementation=None):
  cdt = _dtypes.to_complex_dtype(x.dtype)
  xc = _as_compute(x)
  batch = x.shape[:-2]
  n = x.shape[-1]
  count = 1 + compute_left_eigenvectors + compute_right_eigenvectors
  if x.size == 0:
    return [np.zeros(batch + (n,), cdt)] + [np.zeros(x.shape, cdt)] * (count - 1)
  # SciPy's LAPACK is the one jaxlib calls: same eigenvector signs/phases as JAX.
  import scipy.linalg  # lazily
  left, right = compute_left_eigenvectors, compute_right_eigenvectors

  def run(a):
    if not (left or right):
      return (scipy.linalg.eigvals(a, check_finite=False),)
    res = scipy.linalg.eig(a, left=left, right=right, check_finite=False)
    return tuple(res) if isinstance(res, (tuple, list)) else (res,)
  try:
    if not np.isfinite(xc).all():
      raise np.linalg.LinAlgError("non-finite input")
    outs = list(run(xc))
  except (np.linalg.LinAlgError, ValueError):
    outs = _per_matrix(run, xc, n_out=count)
    if outs is None:
      outs = [_nan_like(batch + (n,), cdt)] + [_nan_like(x.shape, cdt)] * (count - 1)
  return [o.astype(cdt) for o in outs]


def _eig_abstract(x, *, compute_left_eigenvectors, compute_right_eigenvectors,
                  enable_eigvec_derivs=False, implementation=None):
  _check_inexact("eig", [x])
  batch, (shape,) = _split_batch("eig", [x], [2])
  if shape[0] != shape[1]:
    raise ValueError(f"The input to eig must be a square matrix. Got shape {shape}.")
  cdt = _dtypes.to_complex_dtype(x.dtype)
  count = compute_left_eigenvectors + compute_right_eigenvectors
  return [ShapedArray(batch + shape[:-1], cdt)] + [ShapedArray(x.shape, cdt)] * count


def _eig_vec_jvp(w, v, da):
  # Non-degenerate perturbation theory; LAPACK's normalisation (unit norm, real largest
  # component) fixes the free scalar of each eigenvector, and is differentiated too.
  n = _shape(w)[-1]
  shape = _shape(v)
  eye_n = _eye(_dtype(w), n, n, shape[:-2])
  diff = _lax.sub(_bcast_last(w, shape, -1), _bcast_last(w, shape, -2))
  Fmat = _lax.sub(_lax.div(_lax._const(w, 1), _lax.add(eye_n, diff)), eye_n)
  P = _matmul(_solve(v, da), v)
  dw = _extract_diagonal(P)
  U = _matmul(v, _lax.mul(Fmat, P))
  nd = len(shape)
  absv = _lax.abs(v)
  from numjax._src.lax.reductions import argmax
  kk = argmax(absv, nd - 2, _i32)
  mask = _lax.convert_element_type(
      _lax.eq(_lax.broadcasted_iota(_i32, shape, nd - 2),
              _lax.broadcast_in_dim(kk, shape, tuple(i for i in range(nd) if i != nd - 2))),
      _dtype(v))
  re = _lax.neg(_lax.real(reduce_sum(_lax.mul(_lax.conj(v), U), (nd - 2,))))
  im = _lax.neg(_lax.div(_lax.imag(reduce_sum(_lax.mul(mask, U), (nd - 2,))),
                         _lax.real(reduce_sum(_lax.mul(mask, v), (nd - 2,)))))
  c = _lax.complex(re, im)
  return dw, _lax.add(U, _lax.mul(v, _lax.broadcast_in_dim(
      c, shape, tuple(i for i in range(nd) if i != nd - 2))))


def _eig_jvp(primals, tangents, *, compute_left_eigenvectors, compute_right_eigenvectors,
             enable_eigvec_derivs=False, implementation=None):
  a, = primals
  da, = tangents
  if (compute_left_eigenvectors or compute_right_eigenvectors) and not enable_eigvec_derivs:
    raise NotImplementedError(
        "Derivatives of non-symmetric eigenvectors are only valid under assumptions on the "
        "input that JAX cannot check (see the enable_eigvec_derivs argument to "
        "jax.lax.linalg.eig). Pass enable_eigvec_derivs=True to jax.lax.linalg.eig to opt "
        "in. See https://github.com/jax-ml/jax/issues/2748 for discussion.")
  outs = eig_p.bind(a, compute_left_eigenvectors=compute_left_eigenvectors,
                    compute_right_eigenvectors=True, enable_eigvec_derivs=enable_eigvec_derivs,
                    implementation=implementation)
  w, vr = outs[0], outs[-1]
  da = _lax.convert_element_type(da, _dtype(vr))
  if not (compute_left_eigenvectors or compute_right_eigenvectors):
    nd = _ndim(vr)
    return [w], [reduce_sum(_lax.mul(_solve(vr, da), _T(vr)), (nd - 1,))]
  dw, dvr = _eig_vec_jvp(w, vr, da)
  primal_out, tangent_out = [w], [dw]
  if compute_left_eigenvectors:
    vl = outs[1]
    _, dvl = _eig_vec_jvp(_lax.conj(w), vl, _H(da))
    primal_out.append(vl)
    tangent_out.append(dvl)
  if compute_right_eigenvectors:
    primal_out.append(vr)
    tangent_out.append(dvr)
  return primal_out, tangent_out


_finish(eig_p, _eig_impl, _eig_abstract)
ad.primitive_jvps[eig_p] = _eig_jvp


def eig(x, *, compute_left_eigenvectors: bool = True, compute_right_eigenvectors: bool = True,
        enable_eigvec_derivs: bool = False, implementation=None, use_magma=None):
  """General eigendecomposition: [w, vl?, vr?] (complex), as LAPACK's geev."""
  return eig_p.bind(asarray(x), compute_left_eigenvectors=bool(compute_left_eigenvectors),
                    compute_right_eigenvectors=bool(compute_right_eigenvectors),
                    enable_eigvec_derivs=bool(enable_eigvec_derivs),
                    implementation=implementation)


# ---------------------------------------------------------------------------------------
# schur and hessenberg (no derivatives, as JAX)

schur_p = _linalg_primitive("schur", multiple_results=True)


def _schur_impl(x, *, compute_schur_vectors, sort_eig_vals, select_callable):
  import scipy.linalg  # lazily
  dt = x.dtype
  xc = _as_compute(x)
  if x.size == 0:
    return [np.zeros(x.shape, dt)] * (2 if compute_schur_vectors else 1)
  out = "complex" if xc.dtype.kind == "c" else "real"
  res = _per_matrix(lambda a: tuple(scipy.linalg.schur(a, output=out, check_finite=False)), xc, n_out=2)
  if res is None:
    res = [_nan_like(x.shape, xc.dtype)] * 2
  t, z = res
  return [t.astype(dt, copy=False)] + ([z.astype(dt, copy=False)] if compute_schur_vectors
                                        else [])


def _schur_abstract(x, *, compute_schur_vectors, sort_eig_vals, select_callable):
  _check_inexact("schur", [x])
  _, (shape,) = _split_batch("schur", [x], [2])
  if shape[0] != shape[1]:
    raise ValueError(f"The input to schur must be a square matrix. Got shape {shape}.")
  if sort_eig_vals:
    raise NotImplementedError("The sort feature of LAPACK's gees routine is not implemented.")
  a = ShapedArray(x.shape, x.dtype)
  return [a, a] if compute_schur_vectors else [a]


_finish(schur_p, _schur_impl, _schur_abstract)
_no_jvp(schur_p)


def schur(x, *, compute_schur_vectors: bool = True, sort_eig_vals: bool = False,
          select_callable=None):
  """Schur decomposition A = Z T Z^H (real Schur form for real A): (T, Z)."""
  res = schur_p.bind(asarray(x), compute_schur_vectors=bool(compute_schur_vectors),
                     sort_eig_vals=bool(sort_eig_vals), select_callable=select_callable)
  return tuple(res) if compute_schur_vectors else res[0]


hessenberg_p = _linalg_primitive("hessenberg", multiple_results=True)


def _hessenberg_impl(x):
  import scipy.linalg.lapack as lapack  # lazily
  dt = x.dtype
  xc = _as_compute(x)
  n = x.shape[-1]
  if x.size == 0:
    return [np.zeros(x.shape, dt), np.zeros(x.shape[:-2] + (max(n - 1, 0),), dt)]
  gehrd = lapack.get_lapack_funcs("gehrd", (xc,))

  def one(a):
    h, tau, info = gehrd(a)
    return h, tau[:n - 1]
  h, tau = _per_matrix(one, xc, n_out=2)
  return [h.astype(dt, copy=False), tau.astype(dt, copy=False)]


def _hessenberg_abstract(x):
  _check_inexact("hessenberg", [x])
  batch, (shape,) = _split_batch("hessenberg", [x], [2])
  if shape[0] != shape[-1]:
    raise ValueError("Argument to Hessenberg reduction must have shape [..., n, n], "
                     f"got shape {x.shape}")
  return [ShapedArray(x.shape, x.dtype), ShapedArray(batch + (shape[-1] - 1,), x.dtype)]


_finish(hessenberg_p, _hessenberg_impl, _hessenberg_abstract)
_no_jvp(hessenberg_p)


def hessenberg(a):
  """Reduce to upper Hessenberg form: (a, taus) packed as LAPACK's gehrd."""
  return tuple(hessenberg_p.bind(asarray(a)))


householder_product_p = _linalg_primitive("householder_product")


def _householder_product_impl(a, taus):
  import scipy.linalg.lapack as lapack  # lazily
  dt = a.dtype
  ac, tc = _as_compute(a), _as_compute(taus)
  if a.size == 0:
    return np.zeros(a.shape, dt)
  name = "ungqr" if ac.dtype.kind == "c" else "orgqr"
  fn = lapack.get_lapack_funcs(name, (ac,))
  flat_a = ac.reshape((-1,) + a.shape[-2:])
  flat_t = tc.reshape((-1, taus.shape[-1]))
  out = np.stack([fn(flat_a[i], flat_t[i])[0] for i in range(flat_a.shape[0])])
  return out.reshape(a.shape).astype(dt, copy=False)


def _householder_product_abstract(a, taus):
  _check_inexact("householder_product", [a, taus])
  _split_batch("householder_product", [a, taus], [2, 1])
  m, n = a.shape[-2:]
  if m < n:
    raise ValueError("The first argument to householder_product must have at least as many "
                     f"rows as columns, got shape {a.shape}")
  if taus.shape[-1] > min(m, n):
    raise ValueError("The second argument to householder_product must not have more "
                     "elements than the minimum of the first argument's rows and columns, "
                     f"got shapes {a.shape} and {taus.shape}")
  return ShapedArray(a.shape, a.dtype)


_finish(householder_product_p, _householder_product_impl, _householder_product_abstract)
_no_jvp(householder_product_p)


def householder_product(a, taus):
  """Product of the elementary Householder reflectors stored in a and taus (LAPACK orgqr)."""
  return householder_product_p.bind(asarray(a), asarray(taus))


# ---------------------------------------------------------------------------------------
# geqrf (Householder QR in LAPACK's packed form) and tridiagonal (sytrd/hetrd)

geqrf_p = _linalg_primitive("geqrf", multiple_results=True)


def _geqrf_impl(x):
  import scipy.linalg.lapack as lapack  # lazily
  dt = x.dtype
  xc = _as_compute(x)
  m, n = x.shape[-2:]
  k = min(m, n)
  if x.size == 0:
    return [np.zeros(x.shape, dt), np.zeros(x.shape[:-2] + (k,), dt)]
  fn = lapack.get_lapack_funcs("geqrf", (xc,))
  r, taus = _per_matrix(lambda a: tuple(fn(a)[:2]), xc, n_out=2)
  return [r.astype(dt, copy=False), taus[..., :k].astype(dt, copy=False)]


def _geqrf_abstract(x):
  _check_inexact("geqrf", [x])
  batch, ((m, n),) = _split_batch("geqrf", [x], [2])
  return [ShapedArray(x.shape, x.dtype), ShapedArray(batch + (min(m, n),), x.dtype)]


_finish(geqrf_p, _geqrf_impl, _geqrf_abstract)
_no_jvp(geqrf_p)


def geqrf(a):
  """Householder QR in LAPACK's packed form: (r with reflectors below the diagonal, taus)."""
  return tuple(geqrf_p.bind(asarray(a)))


tridiagonal_p = _linalg_primitive("tridiagonal", multiple_results=True)


def _tridiagonal_impl(x, *, lower):
  import scipy.linalg.lapack as lapack  # lazily
  dt = x.dtype
  xc = _as_compute(x)
  n = x.shape[-1]
  rdt = _complex_basetype(dt)
  if x.size == 0:
    return [np.zeros(x.shape, dt), np.zeros(x.shape[:-1], rdt),
            np.zeros(x.shape[:-2] + (max(n - 1, 0),), rdt),
            np.zeros(x.shape[:-2] + (max(n - 1, 0),), dt)]
  fn = lapack.get_lapack_funcs("hetrd" if xc.dtype.kind == "c" else "sytrd", (xc,))
  c, d, e, tau = _per_matrix(lambda a: tuple(fn(a, lower=int(lower))[:4]), xc, n_out=4)
  return [c.astype(dt, copy=False), d.astype(rdt, copy=False), e.astype(rdt, copy=False),
          tau.astype(dt, copy=False)]


def _tridiagonal_abstract(x, *, lower):
  _check_inexact("tridiagonal", [x])
  batch, (shape,) = _split_batch("tridiagonal", [x], [2])
  if shape[0] != shape[1]:
    raise ValueError("The input to tridiagonal must be a square matrix. Got shape "
                     f"{shape}.")
  n = shape[0]
  rdt = _complex_basetype(x.dtype)
  return [ShapedArray(x.shape, x.dtype), ShapedArray(batch + (n,), rdt),
          ShapedArray(batch + (max(n - 1, 0),), rdt),
          ShapedArray(batch + (max(n - 1, 0),), x.dtype)]


_finish(tridiagonal_p, _tridiagonal_impl, _tridiagonal_abstract)
_no_jvp(tridiagonal_p)


def tridiagonal(a, *, lower: bool = True):
  """Reduce a Hermitian matrix to tridiagonal form: (a, d, e, taus) as LAPACK's sytrd."""
  return tuple(tridiagonal_p.bind(asarray(a), lower=bool(lower)))


# ---------------------------------------------------------------------------------------
# Composites: ormqr, symmetric_product, cholesky_update (lax ops, so differentiable)

def ormqr(a, taus, c, *, left: bool = True, transpose: bool = False):
  """Q @ c, Q^H @ c, c @ Q or c @ Q^H for the Q held in geqrf's packed (a, taus)."""
  a, taus, c = asarray(a), asarray(taus), asarray(c)
  m, n = _shape(a)[-2:]
  nb = _ndim(a) - 2
  # the full m x m Q: the reflectors padded with zero columns
  packed = slicing.pad(_slice_last2(a, (0, m), (0, min(m, n))), _lax._const(a, 0),
                       [(0, 0, 0)] * nb + [(0, 0, 0), (0, m - min(m, n), 0)])
  q = householder_product(packed, taus)
  if transpose:
    q = _H(q)
  return _matmul(q, c) if left else _matmul(c, q)


def symmetric_product(a_matrix, c_matrix, *, alpha: float = 1., beta: float = 0.,
                      symmetrize_output: bool = False):
  """alpha A A^T + beta C (the lower triangle; the whole matrix with symmetrize_output)."""
  a, c = asarray(a_matrix), asarray(c_matrix)
  out = _lax.add(_lax.mul(_lax._const(a, alpha), _matmul(a, _T(a))),
                 _lax.mul(_lax._const(c, beta), c))
  if symmetrize_output:
    out = _lax.add(_tril(out, 0), _T(_tril(out, -1)))
  return out


def cholesky_update(r_matrix, w_vector):
  """The upper Cholesky factor of R^T R + w w^T, for the upper factor R of A = R^T R."""
  r, w = asarray(r_matrix), asarray(w_vector)
  nd = _ndim(w)
  outer = _lax.mul(_lax.broadcast_in_dim(w, _shape(w) + _shape(w)[-1:], tuple(range(nd))),
                   _lax.broadcast_in_dim(w, _shape(w) + _shape(w)[-1:],
                                         tuple(range(nd - 1)) + (nd,)))
  a = _lax.add(_matmul(_T(r), r), outer)
  return _T(cholesky(a, symmetrize_input=False))
