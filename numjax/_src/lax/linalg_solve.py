"""Linear solves (jax.lax.linalg): triangular_solve, lu, lu_pivots_to_permutation (and the
LU-based solve helpers) and tridiagonal_solve. Split out of lax/linalg.py, which re-exports
these names; shared helpers come from lax/linalg_common.py.

These primitives run on the NumPy tier only (`numpy_tier_only`): LAPACK is the kernel.
"""
from __future__ import annotations

import math
import operator

import numpy as np

from numjax._src import core
from numjax._src.core import ShapedArray
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters.ad import Zero
from numjax._src.lax import lax as _lax
from numjax._src.lax import slicing
from numjax._src.lax.lax import asarray
from numjax._src.lax.reductions import checked_eager
from numjax._src.lax.linalg_common import (
    _T, _as_compute, _check_inexact, _compute_dtype, _conj, _dtype, _eye, _finish, _i32,
    _is_complex, _linalg_primitive, _matmul, _nan_like, _ndim, _shape, _slice_last2,
    _split_batch, _tril, _triu)


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
