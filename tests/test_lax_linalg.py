"""lax.linalg primitives: NumPy/SciPy parity over float32/complex64 (and float64 under x64),
batched shapes, jit parity, vmap against a loop at every batch position, check_grads
(orders 1-2, forward and reverse) on well-conditioned inputs through gauge-invariant
functions, JAX's errors and jaxpr text."""
import numpy as np
import pytest
import scipy.linalg

import numjax
import numjax.experimental
import numjax.numpy as jnp
from numjax.lax import linalg as L
from numjax.test_util import check_grads
from records import Rec, make_tests
from linalg_util import F, GD, complex_grad_clones, ct, float64_test, general, spd, spread

NO_COMPLEX_GRAD = {"qr_full", "tridiagonal_solve", "eigvals"}


def spread_spd(rng, shape, dtype):
  """Hermitian with well-separated eigenvalues 1..n (eigenvector derivatives stay tame)."""
  n = shape[-1]
  q, _ = np.linalg.qr(general(rng, shape, dtype))
  w = np.arange(1, n + 1, dtype=np.float64) * 1.5
  return ((q * w) @ ct(q)).astype(dtype)


def tri(lower, unit=False):
  def make(rng, shape, dtype):
    a = general(rng, shape, dtype)
    n = shape[-1]
    a = np.tril(a) if lower else np.triu(a)
    idx = np.arange(n)
    a[..., idx, idx] = 1.0 if unit else 2.0 + np.abs(a[..., idx, idx])
    return a.astype(dtype)
  return make


def _batched(fn):
  """A 2-D reference applied over leading batch dimensions."""
  def ref(*args):
    batch = args[0].shape[:-2]
    if not batch:
      return fn(*args)
    outs = [fn(*[a[i] for a in args]) for i in np.ndindex(*batch)]
    if isinstance(outs[0], tuple):
      return tuple(np.stack([o[j] for o in outs]).reshape(batch + outs[0][j].shape)
                   for j in range(len(outs[0])))
    return np.stack(outs).reshape(batch + outs[0].shape)
  return ref


def _eigh_fun(x):
  v, w = L.eigh(x)
  return jnp.matmul(v * jnp.sin(w)[..., None, :].astype(v.dtype), jnp.conj(jnp.swapaxes(v, -1, -2)))


def _eigh_fun_ref(x):
  w, v = np.linalg.eigh((x + ct(x)) / 2)
  return (v * np.sin(w)[..., None, :]) @ ct(v)


def _svd_fun(x):
  u, s, vh = L.svd(x, full_matrices=False)
  return jnp.matmul(u * jnp.tanh(s)[..., None, :].astype(u.dtype), vh)


def _svd_fun_ref(x):
  u, s, vh = np.linalg.svd(x, full_matrices=False)
  return (u * np.tanh(s)[..., None, :]) @ vh


def _qr_ref(full):
  def ref(x):
    return tuple(np.linalg.qr(x, mode="complete" if full else "reduced"))
  return ref


def _lu_ref(x):
  lu_, piv = scipy.linalg.lu_factor(x)
  return lu_, piv.astype(np.int32)


def _perm_ref(piv, m):
  perm = np.arange(m)
  for i, p in enumerate(piv):
    perm[i], perm[p] = perm[p], perm[i]
  return perm.astype(np.int32)


def _trsolve_ref(left_side, lower, transpose_a, conjugate_a, unit):
  def ref(a, b):
    t = np.conj(a) if conjugate_a else a
    if left_side:
      return scipy.linalg.solve_triangular(t, b, lower=lower, trans=1 if transpose_a else 0,
                                           unit_diagonal=unit)
    # x op(a) = b  <=>  op(a)^T x^T = b^T
    return scipy.linalg.solve_triangular(t, b.T, lower=lower, trans=0 if transpose_a else 1,
                                         unit_diagonal=unit).T
  return _batched(ref)


TRI_FLAGS = [(True, True, False, False, False), (True, False, True, False, False),
             (False, True, False, False, True), (False, False, True, True, False),
             (True, True, True, True, True)]


def _tridiag_args(rng, shape, dtype):
  return general(rng, shape, dtype)


def _tridiag_fn(dl, d, du, b):
  return L.tridiagonal_solve(dl, d + 4, du, b)


def _tridiag_ref(dl, d, du, b):
  def one(dl, d, du, b):
    m = d.shape[0]
    ab = np.zeros((3, m), np.result_type(d, b))
    ab[0, 1:] = du[:-1]
    ab[1] = d + 4
    ab[2, :-1] = dl[1:]
    return scipy.linalg.solve_banded((1, 1), ab, b)
  batch = d.shape[:-1]
  outs = [one(dl[i], d[i], du[i], b[i]) for i in np.ndindex(*batch)]
  return np.stack(outs).reshape(b.shape) if batch else one(dl, d, du, b)


def _eigvals_sorted(x):
  w = L.eig(x, compute_left_eigenvectors=False, compute_right_eigenvectors=False)[0]
  return w


def _eig_ref_sorted(x):
  return np.linalg.eigvals(x).astype(np.result_type(x.dtype, np.complex64))


RECORDS = [
    Rec("cholesky", lambda x: L.cholesky(x), np.linalg.cholesky,
        shapes=[(1, 1), (4, 4), (2, 3, 3), (0, 0)], dtypes=F, domain=spd, grad=2,
        grad_dtypes=GD, tol={"float32": 2e-5}),
    Rec("eigvalsh", lambda x: L.eigh(x)[1], lambda x: np.linalg.eigvalsh((x + ct(x)) / 2),
        shapes=[(1, 1), (5, 5), (2, 3, 3)], dtypes=F, domain=spd, grad=2,
        grad_dtypes=GD, tol={"float32": 2e-5, "complex64": 2e-5}),
    Rec("eigh_fun", _eigh_fun, _eigh_fun_ref, shapes=[(4, 4), (2, 3, 3)], dtypes=F,
        domain=spread_spd, grad=2, grad_dtypes=GD,
        tol={"float32": 5e-5, "complex64": 5e-5}),
    Rec("svdvals", lambda x: L.svd(x, compute_uv=False),
        lambda x: np.linalg.svd(x, compute_uv=False),
        shapes=[(4, 4), (5, 3), (3, 5), (2, 4, 3), (0, 3)], dtypes=F, domain=spread, grad=2,
        grad_dtypes=GD, tol={"float32": 2e-5, "complex64": 2e-5}),
    Rec("svd_fun", _svd_fun, _svd_fun_ref, shapes=[(4, 4), (5, 3), (3, 5), (2, 3, 4)],
        dtypes=F, domain=spread, grad=2, grad_dtypes=GD,
        tol={"float32": 5e-5, "complex64": 5e-5}),
    Rec("qr_reduced", lambda x: L.qr(x, full_matrices=False), _qr_ref(False),
        shapes=[(4, 4), (5, 3), (3, 5), (2, 4, 3)], dtypes=F, domain=spread, grad=2,
        grad_dtypes=GD),
    Rec("qr_full", lambda x: L.qr(x, full_matrices=True), _qr_ref(True),
        shapes=[(5, 3), (3, 5), (2, 4, 2)], dtypes=F, domain=spread, grad=2,
        grad_dtypes=("float32", "float64")),
    Rec("lu", lambda x: tuple(L.lu(x)[:2]), _batched(_lu_ref),
        shapes=[(4, 4), (5, 3), (3, 5), (2, 3, 3)], dtypes=F, domain=spread, grad=0),
    Rec("lu_grad", lambda x: L.lu(x)[0], None, shapes=[(4, 4), (5, 3), (3, 5)],
        dtypes=F, domain=spread, grad=2, grad_dtypes=GD),
] + [
    Rec(f"triangular_solve_{int(ls)}{int(lo)}{int(ta)}{int(ca)}{int(ud)}",
        lambda a, b, f=(ls, lo, ta, ca, ud): L.triangular_solve(
            a, b, left_side=f[0], lower=f[1], transpose_a=f[2], conjugate_a=f[3],
            unit_diagonal=f[4]),
        _trsolve_ref(ls, lo, ta, ca, ud),
        shapes=[((4, 4), (4, 3) if ls else (3, 4)), ((2, 3, 3), (2, 3, 2) if ls else (2, 2, 3))],
        dtypes=F, domain=[tri(lo, ud), general], nargs=2, grad=2,
        grad_dtypes=GD, tol={"float32": 2e-5, "complex64": 2e-5})
    for ls, lo, ta, ca, ud in TRI_FLAGS
] + [
    Rec("tridiagonal_solve", _tridiag_fn, _tridiag_ref,
        shapes=[((5,), (5,), (5,), (5, 2)), ((2, 4), (2, 4), (2, 4), (2, 4, 3))],
        dtypes=F, domain=_tridiag_args, nargs=4, grad=2,
        grad_dtypes=("float32", "float64"), tol={"float32": 2e-5, "complex64": 2e-5}),
    Rec("eigvals", _eigvals_sorted, _eig_ref_sorted, shapes=[(4, 4), (2, 3, 3)],
        dtypes=F, domain=spread, grad=1, grad_dtypes=("float32", "float64"),
        tol={"float32": 2e-5, "complex64": 2e-5}),
]


test_numpy, test_jit, test_vmap, test_grad = make_tests(
    RECORDS + complex_grad_clones(RECORDS, lambda name: name not in NO_COMPLEX_GRAD))
# float64 parity under enable_x64 (the records above run with x64 off)
test_float64 = float64_test(RECORDS, tol=1e-10)


# ---------------------------------------------------------------------------------------
# Structural properties (independent of any reference implementation's gauge)

@pytest.mark.parametrize("dtype", ["float32", "complex64"])
@pytest.mark.parametrize("shape,full", [((5, 3), True), ((5, 3), False), ((3, 5), True),
                                        ((2, 4, 4), False)])
def test_qr_properties(shape, full, dtype):
  x = general(np.random.default_rng(1), shape, dtype)
  q, r = L.qr(x, full_matrices=full)
  q, r = np.asarray(q), np.asarray(r)
  k = shape[-2] if full else min(shape[-2:])
  assert q.shape == shape[:-2] + (shape[-2], k) and r.shape == shape[:-2] + (k, shape[-1])
  np.testing.assert_allclose(q @ r, x, atol=1e-5)
  np.testing.assert_allclose(ct(q) @ q, np.broadcast_to(np.eye(k), q.shape[:-2] + (k, k)),
                             atol=1e-5)
  np.testing.assert_array_equal(np.tril(r, -1), 0)
  # LAPACK's convention (Householder reflections): matches SciPy's geqrf-based qr
  if len(shape) == 2:
    qs, rs = scipy.linalg.qr(x, mode="full" if full else "economic")
    np.testing.assert_allclose(r, rs, atol=1e-4)


@pytest.mark.parametrize("dtype", ["float32", "complex64"])
def test_svd_eigh_properties(dtype):
  rng = np.random.default_rng(2)
  x = general(rng, (3, 5, 4), dtype)
  u, s, vh = (np.asarray(t) for t in L.svd(x, full_matrices=True))
  assert u.shape == (3, 5, 5) and s.shape == (3, 4) and vh.shape == (3, 4, 4)
  assert s.dtype == np.float32
  assert np.all(np.diff(s, axis=-1) <= 0)  # descending
  np.testing.assert_allclose((u[..., :4] * s[..., None, :]) @ vh, x, atol=1e-4)
  a = spd(rng, (3, 4, 4), dtype)
  v, w = (np.asarray(t) for t in L.eigh(a))
  assert w.dtype == np.float32 and v.dtype == np.dtype(dtype)
  assert np.all(np.diff(w, axis=-1) >= 0)  # ascending
  np.testing.assert_allclose((v * w[..., None, :]) @ ct(v), a, atol=1e-4)


def test_eigh_lower_upper_and_subset():
  rng = np.random.default_rng(3)
  a = spd(rng, (4, 4), "float32")
  junk = a + np.triu(np.full((4, 4), 7.0, np.float32), 1)
  _, w_lower = L.eigh(junk, lower=True, symmetrize_input=False)
  np.testing.assert_allclose(w_lower, np.linalg.eigvalsh(a), rtol=1e-5)
  junk_u = a + np.tril(np.full((4, 4), 7.0, np.float32), -1)
  _, w_upper = L.eigh(junk_u, lower=False, symmetrize_input=False)
  np.testing.assert_allclose(w_upper, np.linalg.eigvalsh(a), rtol=1e-5)
  v, w = L.eigh(a, subset_by_index=(1, 3))
  assert v.shape == (4, 2) and w.shape == (2,)
  np.testing.assert_allclose(w, np.linalg.eigvalsh(a)[1:3], rtol=1e-5)


def test_eig_left_right_vectors():
  rng = np.random.default_rng(4)
  a = spread(rng, (2, 4, 4), "float32")
  w, vl, vr = (np.asarray(t) for t in L.eig(a))
  assert w.dtype == vl.dtype == vr.dtype == np.complex64
  np.testing.assert_allclose(a @ vr, vr * w[..., None, :], atol=1e-4)
  np.testing.assert_allclose(ct(vl) @ a, w[..., :, None] * ct(vl), atol=1e-4)
  np.testing.assert_allclose(np.linalg.norm(vr, axis=-2), 1, rtol=1e-5)


def test_eig_vector_derivatives_opt_in():
  a = spread(np.random.default_rng(5), (3, 3), "float64")
  a32 = a.astype(np.float32)
  with pytest.raises(NotImplementedError, match="enable_eigvec_derivs"):
    numjax.jvp(lambda x: L.eig(x)[2], (a32,), (a32,))
  with numjax.experimental.enable_x64():
    def f(x):
      w, vr = L.eig(x, compute_left_eigenvectors=False, enable_eigvec_derivs=True)
      return jnp.real(w), jnp.abs(vr)
    check_grads(f, (a,), order=1, modes=("fwd", "rev"), atol=1e-5, rtol=1e-5)


def test_lu_permutation_and_reconstruction():
  rng = np.random.default_rng(6)
  for shape in [(4, 4), (5, 3), (3, 5), (2, 3, 4)]:
    x = general(rng, shape, "float32")
    lu_, piv, perm = (np.asarray(t) for t in L.lu(x))
    m, n = shape[-2:]
    k = min(m, n)
    assert piv.dtype == perm.dtype == np.int32
    assert piv.shape == shape[:-2] + (k,) and perm.shape == shape[:-2] + (m,)
    l = np.tril(lu_[..., :, :k], -1) + np.eye(m, k)
    u = np.triu(lu_[..., :k, :])
    px = np.take_along_axis(x, perm[..., :, None], axis=-2)
    np.testing.assert_allclose(l @ u, px, atol=1e-5)
    np.testing.assert_array_equal(L.lu_pivots_to_permutation(piv, m), perm)


@pytest.mark.parametrize("shape,m", [((3,), 3), ((2,), 5), ((2, 3), 4), ((0,), 3)])
def test_lu_pivots_to_permutation(shape, m):
  rng = np.random.default_rng(7)
  piv = rng.integers(0, m, shape).astype(np.int32)
  for i in np.ndindex(*shape[:-1]):
    piv[i] = np.maximum(piv[i], np.arange(shape[-1]))
  out = np.asarray(L.lu_pivots_to_permutation(piv, m))
  ref = np.stack([_perm_ref(piv[i], m) for i in np.ndindex(*shape[:-1])]).reshape(
      shape[:-1] + (m,)) if shape[:-1] else _perm_ref(piv, m)
  np.testing.assert_array_equal(out, ref)
  np.testing.assert_array_equal(numjax.jit(L.lu_pivots_to_permutation, static_argnums=1)(piv, m),
                                ref)


def test_triangular_solve_vector_rhs_and_vmap_shared_matrix():
  rng = np.random.default_rng(8)
  a = tri(True)(rng, (4, 4), "float32")
  b = general(rng, (4,), "float32")
  x = L.triangular_solve(a, b, left_side=True, lower=True)
  np.testing.assert_allclose(a @ np.asarray(x), b, atol=1e-5)
  # vmap with an unbatched triangle: lanes folded into one solve, for both sides
  bs = general(rng, (3, 4, 2), "float32")
  out = numjax.vmap(lambda bb: L.triangular_solve(a, bb, left_side=True, lower=True))(bs)
  np.testing.assert_allclose(a @ np.asarray(out), bs, atol=1e-5)
  bs = general(rng, (2, 4, 3), "float32")
  out = numjax.vmap(lambda bb: L.triangular_solve(a, bb, left_side=False, lower=True),
                    in_axes=2, out_axes=2)(bs.transpose(1, 0, 2).reshape(2, 4, 3))
  assert out.shape == (2, 4, 3)


def test_triangular_solve_many_small_matrices():
  # the batched path (> 16 systems) must agree with the per-matrix trsm path
  rng = np.random.default_rng(9)
  a = tri(False)(rng, (40, 3, 3), "float32")
  b = general(rng, (40, 3, 2), "float32")
  x = np.asarray(L.triangular_solve(a, b, left_side=True, lower=False, transpose_a=True))
  np.testing.assert_allclose(np.swapaxes(a, -1, -2) @ x, b, atol=1e-4)


def test_schur_hessenberg_householder():
  rng = np.random.default_rng(10)
  a = general(rng, (2, 4, 4), "float64")
  with numjax.experimental.enable_x64():
    t, z = (np.asarray(v) for v in L.schur(a))
    np.testing.assert_allclose(z @ t @ ct(z), a, atol=1e-10)
    assert np.all(np.abs(np.tril(t, -2)) < 1e-12)
    h, taus = (np.asarray(v) for v in L.hessenberg(a))
    assert taus.shape == (2, 3)
    for i in range(2):
      np.testing.assert_allclose(np.triu(h[i], -1), scipy.linalg.hessenberg(a[i]), atol=1e-10)
    x = general(rng, (5, 3), "float64")
    qr_raw, tau_raw = scipy.linalg.lapack.dgeqrf(x)[:2]
    q = np.asarray(L.householder_product(qr_raw, tau_raw))
    np.testing.assert_allclose(q, np.linalg.qr(x)[0], atol=1e-10)


def test_failures_give_nans():
  bad = np.array([[1.0, 2.0], [2.0, 1.0]], np.float32)  # not positive definite
  good = np.eye(2, dtype=np.float32)
  out = np.asarray(L.cholesky(np.stack([bad, good])))
  assert np.isnan(out[0][np.tril_indices(2)]).all()  # the upper triangle is zeroed, as JAX
  np.testing.assert_allclose(out[1], good)
  assert np.isnan(np.asarray(L.cholesky(bad))[np.tril_indices(2)]).all()


def test_errors():
  with pytest.raises(TypeError, match="qr does not accept dtype int32 at position 0"):
    L.qr(np.ones((3, 3), np.int32))
  with pytest.raises(TypeError, match="Input 0 to qr must have rank at least 2"):
    L.qr(np.ones((3,), np.float32))
  with pytest.raises(ValueError, match="must be a square matrix"):
    L.cholesky(np.ones((3, 4), np.float32), symmetrize_input=False)
  with pytest.raises(ValueError, match="Incompatible shapes for arguments to triangular_solve"):
    L.triangular_solve(np.ones((3, 3), np.float32), np.ones((3, 4), np.float32))
  with pytest.raises(TypeError, match="same dtypes"):
    L.triangular_solve(np.ones((3, 3), np.float32), np.ones((4, 3), np.float16))
  with pytest.raises(ValueError, match="full_matrices and subset_by_index"):
    L.svd(np.ones((3, 3), np.float32), subset_by_index=(0, 1))
  with pytest.raises(NotImplementedError, match="full matrices"):
    numjax.jvp(lambda x: L.svd(x)[0], (np.ones((3, 2), np.float32),),
               (np.ones((3, 2), np.float32),))
  with pytest.raises(ValueError, match="Output permutation size"):
    L.lu_pivots_to_permutation(np.zeros(4, np.int32), 3)
  # errors also at trace time
  with pytest.raises(TypeError, match="Input 0 to svd must have rank at least 2"):
    numjax.jit(lambda x: L.svd(x))(np.ones(3, np.float32))


def test_jaxpr_text():
  x = np.eye(3, dtype=np.float32)
  text = str(numjax.make_jaxpr(lambda x: L.svd(x, full_matrices=False))(x))
  assert "svd[\n      algorithm=None\n      compute_uv=True\n      full_matrices=False" in text
  text = str(numjax.make_jaxpr(lambda x: L.qr(x))(x))
  assert "qr[full_matrices=True pivoting=False use_magma=None] a" in text
  text = str(numjax.make_jaxpr(lambda x: L.lu(x))(x))
  assert "b:f32[3,3] c:i32[3] d:i32[3] = lu a" in text
  text = str(numjax.make_jaxpr(lambda x: L.triangular_solve(x, x))(x))
  assert "triangular_solve[\n      conjugate_a=False\n      left_side=False\n      lower=False" in text


def test_pivoting_qr():
  rng = np.random.default_rng(11)
  x = general(rng, (2, 5, 4), "float32")
  q, r, p = (np.asarray(t) for t in L.qr(x, pivoting=True, full_matrices=False))
  assert p.dtype == np.int32 and p.shape == (2, 4)
  xp = np.take_along_axis(x, p[:, None, :], axis=-1)
  np.testing.assert_allclose(q @ r, xp, atol=1e-5)
  assert np.all(np.diff(np.abs(np.diagonal(r, axis1=-2, axis2=-1)), axis=-1) <= 1e-6)


def test_geqrf_tridiagonal_ormqr_composites():
  rng = np.random.default_rng(12)
  a = general(rng, (2, 5, 3), "float64")
  with numjax.experimental.enable_x64():
    r, taus = (np.asarray(t) for t in L.geqrf(a))
    r_ref, taus_ref = scipy.linalg.lapack.dgeqrf(a[1])[:2]
    np.testing.assert_allclose(r[1], r_ref, atol=1e-12)
    np.testing.assert_allclose(taus[1], taus_ref, atol=1e-12)
    q_full = np.linalg.qr(a, mode="complete")[0]
    c = general(rng, (2, 5, 2), "float64")
    np.testing.assert_allclose(L.ormqr(r, taus, c), q_full @ c, atol=1e-12)
    np.testing.assert_allclose(L.ormqr(r, taus, c, transpose=True), ct(q_full) @ c, atol=1e-12)
    h, t = jnp.linalg.qr(a[0], mode="raw")
    np.testing.assert_allclose(np.asarray(h).T, r[0], atol=1e-12)
    s = spd(rng, (4, 4), "float64")
    for lower in (True, False):
      packed, d, e, tau = (np.asarray(v) for v in L.tridiagonal(s, lower=lower))
      c_ref, d_ref, e_ref, tau_ref = scipy.linalg.lapack.dsytrd(s, lower=int(lower))[:4]
      np.testing.assert_allclose(d, d_ref, atol=1e-12)
      np.testing.assert_allclose(e, e_ref, atol=1e-12)
      # the tridiagonal matrix is similar to s: same eigenvalues
      tri_m = np.diag(d) + np.diag(e, 1) + np.diag(e, -1)
      np.testing.assert_allclose(np.linalg.eigvalsh(tri_m), np.linalg.eigvalsh(s), atol=1e-10)
    x = general(rng, (4, 3), "float64")
    out = L.symmetric_product(x, s, alpha=2.0, beta=0.5, symmetrize_output=True)
    np.testing.assert_allclose(out, 2 * x @ x.T + 0.5 * s, atol=1e-12)
    r_up = np.linalg.cholesky(s).T
    w = general(rng, (4,), "float64")
    upd = np.asarray(L.cholesky_update(r_up, w))
    np.testing.assert_allclose(upd.T @ upd, s + np.outer(w, w), atol=1e-10)
    np.testing.assert_array_equal(np.tril(upd, -1), 0)


def test_no_derivative_primitives_raise():
  a = np.eye(3, dtype=np.float32) * 2
  for f in (lambda x: L.schur(x)[0], lambda x: L.hessenberg(x)[0], lambda x: L.geqrf(x)[0]):
    with pytest.raises(NotImplementedError, match="Differentiation rule for"):
      numjax.grad(lambda x: jnp.sum(f(x)))(a)


@pytest.mark.parametrize("shape,dtype", [((20, 4, 4), "float32"), ((12, 5, 3), "float32"),
                                         ((10, 3, 5), "complex64")])
def test_lu_small_batch_path_matches_lapack(shape, dtype):
  # >= 8 small matrices take the batch-vectorised elimination: same pivots and factors as
  # LAPACK's getrf, singular matrices (zero columns, equal rows) included
  from scipy.linalg import lapack
  rng = np.random.default_rng(13)
  x = general(rng, shape, dtype)
  x[0, :, 0] = 0
  x[1, 1] = x[1, 0]
  lu_, piv, perm = (np.asarray(t) for t in L.lu(x))
  getrf = lapack.get_lapack_funcs("getrf", (x[0],))
  for i in range(shape[0]):
    lu_ref, piv_ref, _ = getrf(x[i])
    np.testing.assert_array_equal(piv[i], piv_ref)
    np.testing.assert_allclose(lu_[i], lu_ref, atol=1e-5)
    np.testing.assert_array_equal(perm[i], _perm_ref(piv_ref, shape[1]))
