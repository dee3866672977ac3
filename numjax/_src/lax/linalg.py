"""Linear-algebra primitives (jax.lax.linalg): cholesky, eigh, svd, qr, eig, lu,
lu_pivots_to_permutation, triangular_solve, tridiagonal_solve, schur, hessenberg.

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
import math
import operator

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.core import Primitive, ShapedArray
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters.ad import Zero
from numjax._src.lax import lax as _lax
from numjax._src.lax import slicing
from numjax._src.lax.lax import asarray
from numjax._src.lax.reductions import checked_eager, reduce_sum

_f32 = np.dtype(np.float32)
_i32 = np.dtype(np.int32)


# ---------------------------------------------------------------------------------------
# Helpers written with lax ops (used by wrappers and rules, so they differentiate/batch)

def _ndim(x):
  return core.get_aval(x).ndim


def _shape(x):
  return core.get_aval(x).shape


def _dtype(x):
  return core.get_aval(x).dtype


def _is_complex(x):
  return _dtypes.issubdtype(_dtype(x), np.complexfloating)


def _T(x):
  nd = _ndim(x)
  return _lax.transpose(x, (*range(nd - 2), nd - 1, nd - 2))


def _H(x):
  x = _T(x)
  return _lax.conj(x) if _is_complex(x) else x


def _conj(x):
  return _lax.conj(x) if _is_complex(x) else x


def _real(x):
  return _lax.real(x) if _is_complex(x) else x


def symmetrize(x):
  """(x + x^H) / 2."""
  x = asarray(x)
  if not _dtypes.issubdtype(_dtype(x), np.inexact):
    x = _lax.convert_element_type(x, _dtypes.to_inexact_dtype(_dtype(x)))
  return _lax.div(_lax.add(x, _H(x)), _lax._const(x, 2))


def _tri_mask(shape, k):
  """bool[shape[-2], shape[-1]] mask of j <= i + k, broadcast to `shape`."""
  n, m = shape[-2:]
  rows = _lax.broadcasted_iota(_i32, (n, m), 0)
  cols = _lax.broadcasted_iota(_i32, (n, m), 1)
  mask = _lax.ge(_lax.add(rows, _lax._const(rows, k)) if k else rows, cols)
  if len(shape) > 2:
    mask = _lax.broadcast_in_dim(mask, tuple(shape), (len(shape) - 2, len(shape) - 1))
  return mask


def _tril(x, k=0):
  shape = _shape(x)
  return _lax.select(_tri_mask(shape, k), x, _lax.full_like(x, 0))


def _triu(x, k=0):
  shape = _shape(x)
  return _lax.select(_tri_mask(shape, k - 1), _lax.full_like(x, 0), x)


def _eye(dtype, n, m=None, batch=()):
  m = n if m is None else m
  e = _lax.convert_element_type(
      _lax.eq(_lax.broadcasted_iota(_i32, (n, m), 0), _lax.broadcasted_iota(_i32, (n, m), 1)),
      dtype)
  if batch:
    e = _lax.broadcast_in_dim(e, tuple(batch) + (n, m), (len(batch), len(batch) + 1))
  return e


def _eye_like(x):
  s = _shape(x)
  return _eye(_dtype(x), s[-2], s[-1], s[:-2])


def _matmul(a, b):
  """Batched a @ b over equal (or broadcastable-by-rank) leading dimensions."""
  na, nb = _ndim(a), _ndim(b)
  if na < nb:
    a = _lax.broadcast_in_dim(a, _shape(b)[:nb - na] + _shape(a), tuple(range(nb - na, nb)))
  elif nb < na:
    b = _lax.broadcast_in_dim(b, _shape(a)[:na - nb] + _shape(b), tuple(range(na - nb, na)))
  nd = max(na, nb)
  batch = tuple(range(nd - 2))
  return _lax.dot_general(a, b, (((nd - 1,), (nd - 2,)), (batch, batch)),
                          precision=_lax.Precision.HIGHEST)


def _extract_diagonal(x):
  """x[..., i, i] for i < min(m, n): a strided slice of the flattened matrix (linear)."""
  shape = _shape(x)
  m, n = shape[-2:]
  k = min(m, n)
  batch = shape[:-2]
  flat = _lax.reshape(x, batch + (m * n,))
  if k == 0:
    return _lax.reshape(slicing.slice(flat, (0,) * len(batch) + (0,), batch + (0,)),
                        batch + (0,))
  nb = len(batch)
  return slicing.slice(flat, (0,) * (nb + 1), batch + ((k - 1) * (n + 1) + 1,),
                       (1,) * nb + (n + 1,))


def _construct_diagonal(s):
  """A (batched) diagonal matrix with s on its diagonal."""
  shape = _shape(s)
  n = shape[-1]
  full = shape + (n,)
  sb = _lax.broadcast_in_dim(s, full, tuple(range(len(shape) - 1)) + (len(shape),))
  return _lax.select(_lax.broadcast_in_dim(
      _lax.eq(_lax.broadcasted_iota(_i32, (n, n), 0), _lax.broadcasted_iota(_i32, (n, n), 1)),
      full, (len(full) - 2, len(full) - 1)), sb, _lax.full_like(sb, 0))


def _bcast_last(x, shape, axis):
  """x of shape shape[:-2] + (shape[axis],) broadcast along the other matrix axis."""
  nd = len(shape)
  keep = tuple(range(nd - 2)) + ((nd - 1,) if axis in (-1, nd - 1) else (nd - 2,))
  return _lax.broadcast_in_dim(x, tuple(shape), keep)


def _complex_basetype(dt):
  dt = np.dtype(dt)
  if dt == np.complex64:
    return _f32
  if dt == np.complex128:
    return np.dtype(np.float64)
  return dt


# ---------------------------------------------------------------------------------------
# Shared primitive machinery: shape/dtype checks, eager path, batching

_FLOAT_OR_COMPLEX = "floating, complexfloating"


def _check_inexact(name, avals, positions=None):
  for i, a in enumerate(avals):
    if positions is not None and i not in positions:
      continue
    if not _dtypes.issubdtype(a.dtype, np.inexact):
      raise TypeError(f"{name} does not accept dtype {a.dtype.name} at position {i}. "
                      f"Accepted dtypes at position {i} are subtypes of {_FLOAT_OR_COMPLEX}.")


def _split_batch(name, avals, ranks):
  """(batch_shape, core shapes): JAX's rank checks, equal batch dimensions required."""
  batch, cores = None, []
  for i, (rank, a) in enumerate(zip(ranks, avals)):
    if a.ndim < rank:
      raise TypeError(f"Input {i} to {name} must have rank at least {rank}, but got "
                      f"shape={a.shape}")
    b = a.shape[:a.ndim - rank]
    if batch is None:
      batch = b
    elif len(b) != len(batch):
      raise TypeError(f"All inputs to {name} must have the same number of batch "
                      f"dimensions, but got {[len(x.shape) - r for x, r in zip(avals, ranks)]} "
                      "batch dimensions for the inputs.")
    elif b != batch:
      raise ValueError(f"All inputs to {name} must have the same batch dimensions, got "
                       f"{[x.shape[:x.ndim - r] for x, r in zip(avals, ranks)]}.")
    cores.append(a.shape[a.ndim - rank:])
  return tuple(batch), cores


def _linalg_primitive(name, multiple_results=False):
  p = Primitive(name)
  p.multiple_results = multiple_results
  p.numpy_tier_only = True  # LAPACK through NumPy/SciPy is the kernel
  return p


def _finish(p, impl, abstract_eval):
  p.impl = impl
  p.abstract_eval = abstract_eval
  checked_eager(p)
  p.weak_type_rule = lambda args, params: False

  def batch_rule(vals, dims, **params):
    size = next(_shape(v)[d] for v, d in zip(vals, dims) if d is not None)
    vals = [batching.bdim_at_front(v, d, size) for v, d in zip(vals, dims)]
    out = p.bind(*vals, **params)
    return out, ([0] * len(out) if p.multiple_results else 0)
  batching.primitive_batchers[p] = batch_rule
  return p


def _no_jvp(p):
  """JAX defines no derivative for p: differentiating it raises (rather than giving a
  silent zero)."""
  def rule(primals, tangents, **params):
    raise NotImplementedError(f"Differentiation rule for '{p.name}' not implemented")
  ad.primitive_jvps[p] = rule


def _compute_dtype(dt):
  """NumPy's LAPACK has no float16/bfloat16: those compute in float32."""
  dt = np.dtype(dt)
  if dt.kind == "c":
    return dt
  return dt if dt in (np.float32, np.float64) else _f32


def _as_compute(x):
  cd = _compute_dtype(x.dtype)
  return x.astype(cd, copy=False)


def _nan_like(shape, dtype):
  dtype = np.dtype(dtype)
  v = complex(np.nan, np.nan) if dtype.kind == "c" else np.nan
  return np.full(shape, v, dtype)


def _per_matrix(fn, *xs, n_out):
  """Apply fn (one matrix per operand -> tuple of outputs) over the leading batch dims;
  a LinAlgError for one matrix gives NaN outputs (shapes from the first success or
  `fn`'s shapes), as LAPACK's `info != 0` does in JAX."""
  batch = xs[0].shape[:-2] if xs[0].ndim >= 2 else ()
  flat = [x.reshape((-1,) + x.shape[len(batch):]) for x in xs]
  nb = flat[0].shape[0]
  results, failed = [None] * nb, []
  for i in range(nb):
    args = [f[i] for f in flat]
    if not all(np.isfinite(a).all() for a in args if a.dtype.kind in "fc"):
      failed.append(i)  # LAPACK rejects NaN/inf (and prints to stderr): NaN results
      continue
    try:
      results[i] = fn(*args)
    except (np.linalg.LinAlgError, ValueError):
      failed.append(i)
  ok = next((r for r in results if r is not None), None)
  if ok is None:
    return None
  for i in failed:
    results[i] = tuple(_nan_like(o.shape, o.dtype) if o.dtype.kind in "fc" else o
                       for o in ok)
  outs = []
  for j in range(n_out):
    arr = np.stack([r[j] for r in results]) if nb else np.zeros((0,) + ok[j].shape,
                                                                   ok[j].dtype)
    outs.append(arr.reshape(batch + arr.shape[1:]))
  return outs


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


def _slice_last2(x, rows, cols):
  """x[..., rows[0]:rows[1], cols[0]:cols[1]]."""
  shape = _shape(x)
  nb = len(shape) - 2
  return slicing.slice(x, (0,) * nb + (rows[0], cols[0]), shape[:nb] + (rows[1], cols[1]))


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
# triangular_solve

triangular_solve_p = _linalg_primitive("triangular_solve")


def _trsm_one(a, b, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
  import scipy.linalg.blas as blas  # lazily
  if conjugate_a and not transpose_a:
    a, conjugate_a = np.conj(a), False
  trans = (2 if conjugate_a else 1) if transpose_a else 0
  fn = blas.get_blas_funcs("trsm", (a, b))
  return fn(1.0, a, b, side=int(not left_side), lower=int(lower), trans_a=trans,
            diag=int(unit_diagonal))


def _triangular_solve_impl(a, b, *, left_side, lower, transpose_a, conjugate_a,
                           unit_diagonal):
  dt = b.dtype
  cd = _compute_dtype(dt)
  a, b = a.astype(cd, copy=False), b.astype(cd, copy=False)
  if b.size == 0 or a.size == 0:
    return np.zeros(b.shape, dt)
  batch = b.shape[:-2]
  nb = math.prod(batch)
  if nb > 16 and a.shape[-1] <= 32:
    # Many small systems: substitution vectorised over the batch beats a loop of trsm calls
    return _trsm_small_batch(a, b, left_side, lower, transpose_a, conjugate_a,
                             unit_diagonal).astype(dt, copy=False)
  af = a.reshape((-1,) + a.shape[-2:])
  bf = b.reshape((-1,) + b.shape[-2:])
  out = np.empty(bf.shape, cd)
  with np.errstate(all="ignore"):
    for i in range(bf.shape[0]):
      out[i] = _trsm_one(af[i], bf[i], left_side, lower, transpose_a, conjugate_a,
                         unit_diagonal)
  return out.reshape(b.shape).astype(dt, copy=False)


def _trsm_small_batch(a, b, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
  """op(a) x = b (or x op(a) = b) by substitution, one vectorised step per row."""
  n = a.shape[-1]
  t = np.tril(a) if lower else np.triu(a)
  if conjugate_a:
    t = np.conj(t)
  if transpose_a:
    t = np.swapaxes(t, -1, -2)
  eff_lower = lower != transpose_a
  if not left_side:  # x T = b  <=>  T^T x^T = b^T
    t, b = np.swapaxes(t, -1, -2), np.swapaxes(b, -1, -2)
    eff_lower = not eff_lower
  x = np.array(np.broadcast_to(b, b.shape), dtype=np.result_type(t, b))
  order = range(n) if eff_lower else range(n - 1, -1, -1)
  with np.errstate(all="ignore"):
    for i in order:
      if not unit_diagonal:
        x[..., i, :] /= t[..., i, i, None]
      rest = slice(i + 1, n) if eff_lower else slice(0, i)
      x[..., rest, :] -= t[..., rest, i, None] * x[..., i, None, :]
  return x if left_side else np.swapaxes(x, -1, -2)


def _triangular_solve_abstract(a, b, *, left_side, lower, transpose_a, conjugate_a,
                               unit_diagonal):
  _check_inexact("triangular_solve", [a, b])
  if a.dtype != b.dtype:
    raise TypeError(f"lax.triangular_solve requires arguments to have the same dtypes, got "
                    f"{a.dtype}, {b.dtype}.")
  batch, (ash, bsh) = _split_batch("triangular_solve", [a, b], [2, 2])
  if ash[0] != ash[1]:
    raise ValueError("The first input to triangular_solve must be a square matrix. Got "
                     f"shape {ash}.")
  common = -2 if left_side else -1
  if ash[-1] != bsh[common]:
    raise ValueError(f"Incompatible shapes for arguments to triangular_solve: {a.shape} and "
                     f"{b.shape}.")
  return ShapedArray(b.shape, b.dtype)


def _triangular_solve_jvp_a(g_a, ans, a, b, *, left_side, lower, transpose_a, conjugate_a,
                            unit_diagonal):
  m, n = _shape(b)[-2:]
  k = 1 if unit_diagonal else 0
  g_a = _tril(g_a, -k) if lower else _triu(g_a, k)
  g_a = _lax.neg(g_a)
  g_a = _T(g_a) if transpose_a else g_a
  g_a = _conj(g_a) if conjugate_a else g_a

  def a_inverse(rhs):
    return triangular_solve(a, rhs, left_side=left_side, lower=lower,
                            transpose_a=transpose_a, conjugate_a=conjugate_a,
                            unit_diagonal=unit_diagonal)
  # Order the products by cost, as both orders are valid.
  if left_side:
    return a_inverse(_matmul(g_a, ans)) if m > n else _matmul(a_inverse(g_a), ans)
  return a_inverse(_matmul(ans, g_a)) if m < n else _matmul(ans, a_inverse(g_a))


def _triangular_solve_jvp_b(g_b, a, b, **params):
  return triangular_solve_p.bind(a, g_b, **params)


def _triangular_solve_transpose(ct, a, b, *, left_side, lower, transpose_a, conjugate_a,
                                unit_diagonal):
  # Linear in b only (like div, swapped).
  assert not ad.is_undefined_primal(a) and ad.is_undefined_primal(b)
  if type(ct) is Zero:
    return [None, Zero(b.aval)]
  return [None, triangular_solve_p.bind(a, ct, left_side=left_side, lower=lower,
                                        transpose_a=not transpose_a, conjugate_a=conjugate_a,
                                        unit_diagonal=unit_diagonal)]


def _triangular_solve_batch(vals, dims, **params):
  (a, b), (ad_, bd) = vals, dims
  if ad_ is None:
    # One triangle for every lane: fold the lanes into b's free dimension (one solve).
    nd = _ndim(b)
    if params["left_side"]:
      b = batching.moveaxis(b, bd, nd - 1)          # (..., m, n, lanes)
      s = _shape(b)
      out = triangular_solve_p.bind(a, _lax.reshape(b, s[:-2] + (s[-2] * s[-1],)), **params)
      return _lax.reshape(out, s), nd - 1
    b = batching.moveaxis(b, bd, nd - 3)            # (..., lanes, n, m)
    s = _shape(b)
    out = triangular_solve_p.bind(a, _lax.reshape(b, s[:-3] + (s[-3] * s[-2], s[-1])),
                                  **params)
    return _lax.reshape(out, s), nd - 3
  size = next(_shape(v)[d] for v, d in zip(vals, dims) if d is not None)
  a = batching.bdim_at_front(a, ad_, size)
  b = batching.bdim_at_front(b, bd, size)
  return triangular_solve_p.bind(a, b, **params), 0


triangular_solve_p.impl = _triangular_solve_impl
triangular_solve_p.abstract_eval = _triangular_solve_abstract
checked_eager(triangular_solve_p)
triangular_solve_p.weak_type_rule = lambda args, params: False
ad.defjvp2(triangular_solve_p, _triangular_solve_jvp_a,
           lambda g, ans, a, b, **params: _triangular_solve_jvp_b(g, a, b, **params))
ad.primitive_transposes[triangular_solve_p] = _triangular_solve_transpose
batching.primitive_batchers[triangular_solve_p] = _triangular_solve_batch


def triangular_solve(a, b, *, left_side: bool = False, lower: bool = False,
                     transpose_a: bool = False, conjugate_a: bool = False,
                     unit_diagonal: bool = False):
  """Solve op(a) x = b (left_side) or x op(a) = b for triangular a; b may be a vector."""
  a, b = asarray(a), asarray(b)
  conjugate_a = bool(conjugate_a) and _is_complex(a)
  singleton = _ndim(b) == _ndim(a) - 1
  if singleton:
    b = _lax.expand_dims(b, (-1 if left_side else -2,))
  out = triangular_solve_p.bind(a, b, left_side=bool(left_side), lower=bool(lower),
                                transpose_a=bool(transpose_a), conjugate_a=conjugate_a,
                                unit_diagonal=bool(unit_diagonal))
  if singleton:
    out = _lax.squeeze(out, (_ndim(out) - 1,) if left_side else (_ndim(out) - 2,))
  return out


# ---------------------------------------------------------------------------------------
# lu and lu_pivots_to_permutation

def _perm_from_pivots(piv, m):
  """Apply the row swaps i <-> piv[i] in order to arange(m) (vectorised over the batch)."""
  batch, k = piv.shape[:-1], piv.shape[-1]
  if k == 0 or m == 0 or piv.size == 0:
    return np.broadcast_to(np.arange(m, dtype=_i32), batch + (m,)).copy()
  vf = np.clip(piv.reshape(-1, k), 0, max(m - 1, 0))
  if vf.shape[0] * 4 <= k:
    # few long pivot sequences: swapping Python ints beats k vectorised NumPy steps
    out = np.empty((vf.shape[0], m), _i32)
    for r, row in enumerate(vf.tolist()):
      perm = list(range(m))
      for i, j in enumerate(row):
        perm[i], perm[j] = perm[j], perm[i]
      out[r] = perm
    return out.reshape(batch + (m,))
  pf = np.broadcast_to(np.arange(m, dtype=_i32), batch + (m,)).reshape(-1, m).copy()
  rows = np.arange(pf.shape[0])
  for i in range(k):
    j = vf[:, i]
    tmp = pf[rows, i].copy()
    pf[rows, i] = pf[rows, j]
    pf[rows, j] = tmp
  return pf.reshape(batch + (m,))


lu_pivots_to_permutation_p = _linalg_primitive("lu_pivots_to_permutation")


def _lu_pivots_to_permutation_abstract(pivots, *, permutation_size):
  if pivots.dtype != _i32:
    raise TypeError(f"lu_pivots_to_permutation does not accept dtype {pivots.dtype.name} at "
                    "position 0. Accepted dtypes at position 0 are subtypes of int32.")
  batch, ((k,),) = _split_batch("lu_pivots_to_permutation", [pivots], [1])
  if not permutation_size >= k:
    raise ValueError(f"Output permutation size {permutation_size} has to exceed the trailing "
                     f"dimension of the pivots. Got pivots size {k}")
  return ShapedArray(batch + (permutation_size,), _i32)


_finish(lu_pivots_to_permutation_p,
        lambda piv, *, permutation_size: _perm_from_pivots(piv, permutation_size),
        _lu_pivots_to_permutation_abstract)
ad.defnondiff(lu_pivots_to_permutation_p)


def lu_pivots_to_permutation(pivots, permutation_size: int):
  """The permutation (int32[..., permutation_size]) made by LU's sequence of row swaps."""
  pivots = asarray(pivots)
  return lu_pivots_to_permutation_p.bind(
      pivots, permutation_size=operator.index(permutation_size))


lu_p = _linalg_primitive("lu", multiple_results=True)


def _lu_impl(x):
  import scipy.linalg.lapack as lapack  # lazily
  dt = x.dtype
  xc = _as_compute(x)
  batch = x.shape[:-2]
  m, n = x.shape[-2:]
  k = min(m, n)
  if x.size == 0:
    return [np.zeros(x.shape, dt), np.zeros(batch + (k,), _i32),
            np.broadcast_to(np.arange(m, dtype=_i32), batch + (m,)).copy()]
  flat = xc.reshape((-1, m, n))
  if flat.shape[0] >= 8 and max(m, n) <= 16:
    lus, pivs = _lu_small_batch(flat)
    lus = lus.reshape(x.shape).astype(dt, copy=False)
    pivs = pivs.reshape(batch + (k,))
    return [lus, pivs, _perm_from_pivots(pivs, m)]
  getrf = lapack.get_lapack_funcs("getrf", (xc,))
  lus = np.empty(flat.shape, xc.dtype)
  pivs = np.empty((flat.shape[0], k), _i32)
  for i in range(flat.shape[0]):
    lu_i, piv_i, info = getrf(flat[i])
    if info < 0:
      lu_i = _nan_like(lu_i.shape, lu_i.dtype)
    lus[i], pivs[i] = lu_i, piv_i
  lus = lus.reshape(x.shape).astype(dt, copy=False)
  pivs = pivs.reshape(batch + (k,))
  return [lus, pivs, _perm_from_pivots(pivs, m)]


def _lu_small_batch(a):
  """Partial-pivoting LU of many small matrices at once (LAPACK getf2's steps, vectorised
  over the batch: a Python loop over matrices costs more than the arithmetic)."""
  a = a.copy()
  nb, m, n = a.shape
  k = min(m, n)
  rows = np.arange(nb)
  piv = np.empty((nb, k), _i32)
  with np.errstate(all="ignore"):
    for j in range(k):
      col = a[:, j:, j]
      mag = np.abs(col.real) + np.abs(col.imag) if a.dtype.kind == "c" else np.abs(col)
      p = np.argmax(mag, axis=1) + j  # the first largest, as i?amax
      piv[:, j] = p
      top = a[rows, j].copy()
      a[rows, j] = a[rows, p]
      a[rows, p] = top
      d = a[:, j, j]
      if j + 1 < m:
        nonzero = (d != 0)[:, None]
        l = np.where(nonzero, a[:, j + 1:, j] / np.where(nonzero[:, 0], d, 1)[:, None],
                     a[:, j + 1:, j])
        a[:, j + 1:, j] = l
        if j + 1 < n:
          a[:, j + 1:, j + 1:] -= l[:, :, None] * a[:, j, None, j + 1:]
  return a, piv


def _lu_abstract(x):
  _check_inexact("lu", [x])
  batch, ((m, n),) = _split_batch("lu", [x], [2])
  return [ShapedArray(x.shape, x.dtype), ShapedArray(batch + (min(m, n),), _i32),
          ShapedArray(batch + (m,), _i32)]


def _take_rows(x, perm):
  """x[..., perm, :] with perm of shape x.shape[:-1] minus the last axis (a gather)."""
  from numjax._src.lax.sorting import take_along_axis
  shape = _shape(x)
  nd = len(shape)
  idx = _lax.broadcast_in_dim(perm, shape, tuple(range(nd - 1)))
  return take_along_axis(x, idx, nd - 2)


def _lu_jvp(primals, tangents):
  # L U = P A  =>  L^{-1} dA' U^{-1} = L^{-1} dL + dU U^{-1}: split strictly lower / upper.
  a, = primals
  a_dot, = tangents
  lu_, pivots, perm = lu_p.bind(a)
  shape = _shape(a)
  batch, (m, n) = shape[:-2], shape[-2:]
  k = min(m, n)
  dt = _dtype(a)
  nb = len(batch)
  zero = _lax._const(lu_, 0)
  l = _tril(_slice_last2(lu_, (0, m), (0, k)), -1)
  l = slicing.pad(l, zero, [(0, 0, 0)] * nb + [(0, 0, 0), (0, m - k, 0)])
  l = _lax.add(l, _eye(dt, m, m, batch))
  u = _triu(_slice_last2(lu_, (0, k), (0, n)))
  u = slicing.pad(u, zero, [(0, 0, 0)] * nb + [(0, n - k, 0), (0, 0, 0)])
  if n > k:
    u_eye = slicing.pad(_eye(dt, n - k, n - k, batch), zero,
                        [(0, 0, 0)] * nb + [(k, 0, 0), (k, 0, 0)])
    u = _lax.add(u, u_eye)
  la = triangular_solve(l, _take_rows(a_dot, perm), left_side=True, transpose_a=False,
                        lower=True, unit_diagonal=True)
  lau = triangular_solve(u, la, left_side=False, transpose_a=False, lower=False)
  l_dot = _matmul(l, _tril(lau, -1))
  u_dot = _matmul(_triu(lau), u)
  lu_dot = _lax.add(l_dot, u_dot)
  return ([lu_, pivots, perm],
          [lu_dot, Zero(ad.tangent_aval(core.get_aval(pivots))),
           Zero(ad.tangent_aval(core.get_aval(perm)))])


_finish(lu_p, _lu_impl, _lu_abstract)
ad.primitive_jvps[lu_p] = _lu_jvp


def lu(x):
  """LU decomposition with partial pivoting: (lu, pivots, permutation), P A = L U."""
  return lu_p.bind(asarray(x))


def _inverse_permutation(perm):
  """inv with inv[perm[i]] = i (sort the permutation, carrying the positions)."""
  from numjax._src.lax.sorting import sort_p
  shape = _shape(perm)
  iota = _lax.broadcasted_iota(_dtype(perm), shape, len(shape) - 1)
  _, inv = sort_p.bind(perm, iota, dimension=len(shape) - 1, is_stable=True, num_keys=1)
  return inv


def _lu_solve(lu_, permutation, b, trans=0):
  """Solve A x = b (trans 0), A^T x = b (1) or A^H x = b (2) from A's LU factors. b is
  [..., m] or [..., m, k]; batch dimensions broadcast."""
  lu_, permutation, b = asarray(lu_), asarray(permutation), asarray(b)
  m = _shape(lu_)[-1]
  vector = _ndim(b) == 1 or (_ndim(b) == _ndim(lu_) - 1 and _shape(b)[-1] == m)
  if vector:
    b = _lax.expand_dims(b, (_ndim(b),))
  lb, bb = _shape(lu_)[:-2], _shape(b)[:-2]
  batch = tuple(np.broadcast_shapes(lb, bb))
  if lb != batch:
    lu_ = _lax.broadcast_in_dim(lu_, batch + _shape(lu_)[-2:],
                                tuple(range(len(batch) - len(lb), len(batch) + 2)))
    permutation = _lax.broadcast_in_dim(permutation, batch + (m,),
                                        tuple(range(len(batch) - len(lb), len(batch) + 1)))
  if bb != batch:
    b = _lax.broadcast_in_dim(b, batch + _shape(b)[-2:],
                              tuple(range(len(batch) - len(bb), len(batch) + 2)))
  if trans == 0:
    x = _take_rows(b, permutation)
    x = triangular_solve(lu_, x, left_side=True, lower=True, unit_diagonal=True)
    x = triangular_solve(lu_, x, left_side=True, lower=False)
  elif trans in (1, 2):
    conj = trans == 2
    x = triangular_solve(lu_, b, left_side=True, lower=False, transpose_a=True,
                         conjugate_a=conj)
    x = triangular_solve(lu_, x, left_side=True, lower=True, unit_diagonal=True,
                         transpose_a=True, conjugate_a=conj)
    x = _take_rows(x, _inverse_permutation(permutation))
  else:
    raise ValueError(f"'trans' value must be 0, 1, or 2, got {trans}")
  if vector:
    x = _lax.squeeze(x, (_ndim(x) - 1,))
  return x


def lu_solve(lu_, permutation, b, trans=0):
  """LU solve with broadcasting (see _lu_solve)."""
  return _lu_solve(lu_, permutation, b, trans)


def _solve(a, b):
  """General square solve a x = b (b a matrix), through LU."""
  lu_, _, perm = lu(a)
  return _lu_solve(lu_, perm, b)


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
# tridiagonal_solve

tridiagonal_solve_p = _linalg_primitive("tridiagonal_solve")


def _tridiagonal_solve_impl(dl, d, du, b, *, perturb_singular=False):
  import scipy.linalg.lapack as lapack  # lazily
  dt = b.dtype
  cd = _compute_dtype(dt)
  dl, d, du, b = (x.astype(cd, copy=False) for x in (dl, d, du, b))
  m = d.shape[-1]
  if b.size == 0:
    return np.zeros(b.shape, dt)
  gtsv = lapack.get_lapack_funcs("gtsv", (d, b))
  fd, fdl, fdu = (x.reshape(-1, m) for x in (d, dl, du))
  fb = b.reshape((-1,) + b.shape[-2:])
  out = np.empty(fb.shape, cd)
  with np.errstate(all="ignore"):
    for i in range(fb.shape[0]):
      if perturb_singular:
        out[i] = _thomas(fdl[i], fd[i], fdu[i], fb[i], perturb=True)
        continue
      *_, x, info = gtsv(fdl[i, 1:], fd[i], fdu[i, :-1], fb[i])
      out[i] = x if info == 0 else _nan_like(x.shape, cd)
  return out.reshape(b.shape).astype(dt, copy=False)


def _thomas(dl, d, du, b, perturb):
  """Thomas' algorithm; with `perturb`, zero pivots are replaced by a tiny value (as
  LAPACK's gtsv with perturbation: the result is finite for singular systems)."""
  m = d.shape[0]
  eps = np.finfo(d.real.dtype if d.dtype.kind == "c" else d.dtype).eps
  tiny = eps * max(np.max(np.abs(d)), np.max(np.abs(dl)), np.max(np.abs(du)), 1.0)
  cp = np.zeros(m, d.dtype)
  dp = np.zeros(b.shape, b.dtype)
  piv = d[0]
  if perturb and piv == 0:
    piv = tiny
  cp[0] = du[0] / piv
  dp[0] = b[0] / piv
  for i in range(1, m):
    piv = d[i] - dl[i] * cp[i - 1]
    if perturb and piv == 0:
      piv = tiny
    cp[i] = du[i] / piv
    dp[i] = (b[i] - dl[i] * dp[i - 1]) / piv
  x = np.empty_like(dp)
  x[-1] = dp[-1]
  for i in range(m - 2, -1, -1):
    x[i] = dp[i] - cp[i] * x[i + 1]
  return x


def _tridiagonal_solve_abstract(dl, d, du, b, *, perturb_singular=False):
  _check_inexact("tridiagonal_solve", [dl, d, du, b])
  if len({dl.dtype, d.dtype, du.dtype, b.dtype}) > 1:
    raise TypeError("tridiagonal_solve requires arguments to have the same dtypes, got "
                    f"{dl.dtype}, {d.dtype}, {du.dtype}, {b.dtype}.")
  _split_batch("tridiagonal_solve", [dl, d, du, b], [1, 1, 1, 2])
  if dl.shape != d.shape or dl.shape != du.shape:
    raise TypeError("tridiagonal_solve requires that all diagonal arguments have the same "
                    "shape.")
  if dl.shape != b.shape[:-1]:
    raise TypeError("tridiagonal_solve requires that the leading ndim-1 dimensions of b "
                    "equal the dimensions of the diagonal arguments.")
  return ShapedArray(b.shape, b.dtype)


def _tridiagonal_product(dl, d, du, x):
  """T x for the tridiagonal T = (dl, d, du) (dl[0] and du[-1] unused)."""
  shape = _shape(x)
  nd = len(shape)
  m = shape[-2]
  col = lambda v: _lax.broadcast_in_dim(v, shape, tuple(range(nd - 1)))
  y = _lax.mul(col(d), x)
  if m > 1:
    zero = _lax._const(x, 0)
    pads_lo = [(0, 0, 0)] * (nd - 2) + [(1, 0, 0), (0, 0, 0)]
    pads_hi = [(0, 0, 0)] * (nd - 2) + [(0, 1, 0), (0, 0, 0)]
    x_prev = slicing.pad(_slice_last2(x, (0, m - 1), (0, shape[-1])), zero, pads_lo)
    x_next = slicing.pad(_slice_last2(x, (1, m), (0, shape[-1])), zero, pads_hi)
    y = _lax.add(y, _lax.mul(col(dl), x_prev))
    y = _lax.add(y, _lax.mul(col(du), x_next))
  return y


def _tridiagonal_solve_jvp(primals, tangents, *, perturb_singular=False):
  *diags, b = primals
  *diags_dot, b_dot = tangents
  ans = tridiagonal_solve_p.bind(*primals, perturb_singular=perturb_singular)
  if all(type(t) is Zero for t in diags_dot):
    rhs = b_dot
  else:
    prod = _tridiagonal_product(*[ad.instantiate_zeros(t) for t in diags_dot], ans)
    rhs = ad.add_tangents(b_dot, _lax.neg(prod))
  if type(rhs) is Zero:
    return ans, Zero(ad.tangent_aval(core.get_aval(ans)))
  return ans, tridiagonal_solve_p.bind(*diags, rhs, perturb_singular=perturb_singular)


def _tridiagonal_solve_transpose(ct, dl, d, du, b, *, perturb_singular=False):
  # T^T has sub-diagonal du shifted down and super-diagonal dl shifted up.
  assert ad.is_undefined_primal(b) and not any(
      ad.is_undefined_primal(v) for v in (dl, d, du))
  if type(ct) is Zero:
    return [None, None, None, Zero(b.aval)]
  nd = _ndim(du)
  m = _shape(du)[-1]
  zero = _lax._const(du, 0)
  lo = [(0, 0, 0)] * (nd - 1)
  dl_t = slicing.pad(slicing.slice_in_dim(du, 0, m - 1, axis=nd - 1), zero, lo + [(1, 0, 0)])
  du_t = slicing.pad(slicing.slice_in_dim(dl, 1, m, axis=nd - 1), zero, lo + [(0, 1, 0)])
  return [None, None, None, tridiagonal_solve_p.bind(dl_t, d, du_t, ct,
                                                     perturb_singular=perturb_singular)]


_finish(tridiagonal_solve_p, _tridiagonal_solve_impl, _tridiagonal_solve_abstract)
ad.primitive_jvps[tridiagonal_solve_p] = _tridiagonal_solve_jvp
ad.primitive_transposes[tridiagonal_solve_p] = _tridiagonal_solve_transpose


def tridiagonal_solve(dl, d, du, b, *, perturb_singular: bool = False):
  """Solve T x = b for the tridiagonal T with diagonals dl (dl[0] = 0), d, du (du[-1] = 0)."""
  dl, d, du, b = (asarray(v) for v in (dl, d, du, b))
  return tridiagonal_solve_p.bind(dl, d, du, b, perturb_singular=bool(perturb_singular))


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
