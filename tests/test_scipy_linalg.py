"""numjax.scipy.linalg against SciPy: float32/complex64 records (jit, vmap against a loop,
check_grads where differentiable), float64 parity under x64, the special matrices, and
JAX's result dtypes and errors."""
import numpy as np
import pytest
import scipy.linalg as SL

import numjax
import numjax.experimental
import numjax.numpy as jnp
import numjax.scipy.linalg as L
from records import Rec, make_tests
from linalg_util import F, GD, ct, float64_test, general, spd, well

TOL = {"float32": 5e-5, "complex64": 5e-5}


def small(rng, shape, dtype):
  return (general(rng, shape, dtype) * 0.4).astype(dtype)


def upper(rng, shape, dtype):
  a = np.triu(general(rng, shape, dtype))
  idx = np.arange(shape[-1])
  a[..., idx, idx] = 2 + np.abs(a[..., idx, idx])
  return a.astype(dtype)


def _cast_like(ref, x):
  """SciPy computes in double: results to the input's precision (JAX's dtypes)."""
  def fix(r):
    r = np.asarray(r)
    if r.dtype.kind == "f" and x.dtype in (np.float32, np.complex64):
      return r.astype(np.float32)
    if r.dtype.kind == "c" and x.dtype in (np.float32, np.complex64):
      return r.astype(np.complex64)
    if r.dtype.kind == "i":
      return r.astype(np.int32)
    return r
  return tuple(fix(r) for r in ref) if isinstance(ref, tuple) else fix(ref)


def _ref(fn):
  def ref(*args):
    return _cast_like(fn(*args), args[0])
  return ref


RECORDS = [
    Rec("cholesky_upper", L.cholesky, _ref(SL.cholesky), shapes=[(4, 4)], dtypes=F, domain=spd,
        grad=2, grad_dtypes=GD, tol=TOL),
    Rec("cholesky_lower", lambda a: L.cholesky(a, lower=True),
        _ref(lambda a: SL.cholesky(a, lower=True)), shapes=[(4, 4), (2, 3, 3)], dtypes=F,
        domain=spd, grad=2, grad_dtypes=GD, tol=TOL),
    Rec("cho_solve", lambda a, b: L.cho_solve(L.cho_factor(a), b),
        _ref(lambda a, b: SL.cho_solve(SL.cho_factor(a), b)),
        shapes=[((4, 4), (4, 2)), ((4, 4), (4,))], nargs=2, dtypes=F, domain=[spd, general],
        grad=2, grad_dtypes=GD, tol=TOL),
    Rec("cho_solve_lower", lambda a, b: L.cho_solve(L.cho_factor(a, lower=True), b),
        _ref(lambda a, b: SL.cho_solve(SL.cho_factor(a, lower=True), b)),
        shapes=[((4, 4), (4, 3))], nargs=2, dtypes=F, domain=[spd, general], grad=1,
        grad_dtypes=GD, tol=TOL),
    Rec("lu_factor", L.lu_factor, _ref(SL.lu_factor), shapes=[(4, 4), (5, 3)], dtypes=F,
        domain=well, tol=TOL),
    Rec("lu_solve", lambda a, b: L.lu_solve(L.lu_factor(a), b),
        _ref(lambda a, b: SL.lu_solve(SL.lu_factor(a), b)),
        shapes=[((4, 4), (4, 2)), ((4, 4), (4,))], nargs=2, dtypes=F, domain=[well, general],
        grad=2, grad_dtypes=GD, tol=TOL),
    Rec("lu_solve_T", lambda a, b: L.lu_solve(L.lu_factor(a), b, trans=1),
        _ref(lambda a, b: SL.lu_solve(SL.lu_factor(a), b, trans=1)),
        shapes=[((4, 4), (4, 2))], nargs=2, dtypes=F, domain=[well, general], grad=1,
        grad_dtypes=GD, tol=TOL),
    Rec("lu_solve_H", lambda a, b: L.lu_solve(L.lu_factor(a), b, trans=2),
        _ref(lambda a, b: SL.lu_solve(SL.lu_factor(a), b, trans=2)),
        shapes=[((4, 4), (4, 2))], nargs=2, dtypes=F, domain=[well, general], tol=TOL),
    Rec("lu", L.lu, _ref(SL.lu), shapes=[(4, 4), (5, 3), (3, 5)], dtypes=F, domain=well,
        tol=TOL),
    Rec("lu_permute_l", lambda a: L.lu(a, permute_l=True),
        _ref(lambda a: SL.lu(a, permute_l=True)), shapes=[(4, 4)], dtypes=F, domain=well,
        grad=1, grad_dtypes=GD, tol=TOL),
    Rec("solve", L.solve, _ref(SL.solve), shapes=[((4, 4), (4, 2))], nargs=2, dtypes=F,
        domain=[well, general], grad=2, grad_dtypes=GD, tol=TOL),
    Rec("solve_pos", lambda a, b: L.solve(a, b, assume_a="pos"),
        _ref(lambda a, b: SL.solve(a, b, assume_a="pos")),
        shapes=[((4, 4), (4, 2)), ((4, 4), (4,))], nargs=2, dtypes=F, domain=[spd, general],
        grad=2, grad_dtypes=GD, tol=TOL),
    Rec("solve_triangular", L.solve_triangular, _ref(SL.solve_triangular),
        shapes=[((4, 4), (4, 2)), ((4, 4), (4,))], nargs=2, dtypes=F, domain=[upper, general],
        grad=2, grad_dtypes=GD, tol=TOL),
    Rec("solve_triangular_C", lambda a, b: L.solve_triangular(a, b, trans="C", lower=False,
                                                             unit_diagonal=True),
        _ref(lambda a, b: SL.solve_triangular(a, b, trans="C", unit_diagonal=True)),
        shapes=[((4, 4), (4, 2))], nargs=2, dtypes=F, domain=[upper, general], grad=1,
        grad_dtypes=GD, tol=TOL),
    Rec("inv", L.inv, _ref(SL.inv), shapes=[(4, 4)], dtypes=F, domain=well, grad=1,
        grad_dtypes=GD, tol=TOL),
    Rec("det", L.det, _ref(SL.det), shapes=[(4, 4), (2, 3, 3)], dtypes=F, domain=well, grad=1,
        grad_dtypes=GD, tol=TOL),
    Rec("eigh_vals", lambda a: L.eigh(a, eigvals_only=True),
        _ref(lambda a: SL.eigh(a, eigvals_only=True)), shapes=[(4, 4)], dtypes=F, domain=spd,
        grad=2, grad_dtypes=GD, tol=TOL),
    Rec("svd_vals", lambda a: L.svd(a, compute_uv=False),
        _ref(lambda a: SL.svd(a, compute_uv=False)), shapes=[(4, 3)], dtypes=F, domain=well,
        grad=1, grad_dtypes=GD, tol=TOL),
    Rec("qr_economic", lambda a: L.qr(a, mode="economic"),
        _ref(lambda a: SL.qr(a, mode="economic")), shapes=[(5, 3), (4, 4)], dtypes=F,
        domain=well, grad=1, grad_dtypes=GD, tol=TOL),
    Rec("qr_full_r", lambda a: L.qr(a, mode="r"), _ref(lambda a: SL.qr(a, mode="r")),
        shapes=[(5, 3)], dtypes=F, domain=well, tol=TOL),
    Rec("qr_multiply", lambda a, c: L.qr_multiply(a, c),
        _ref(lambda a, c: SL.qr_multiply(a, c)), shapes=[((5, 3), (2, 5))], nargs=2, dtypes=F,
        domain=[well, general], grad=1, grad_dtypes=GD, tol=TOL, vmap=False),
    Rec("schur_real", L.schur, _ref(SL.schur), shapes=[(4, 4)], dtypes=("float32",),
        domain=general, tol=TOL, vmap=False),
    Rec("hessenberg", lambda a: L.hessenberg(a, calc_q=True),
        _ref(lambda a: SL.hessenberg(a, calc_q=True)), shapes=[(4, 4)], dtypes=F,
        domain=general, tol=TOL),
    Rec("polar_svd", lambda a: L.polar(a, method="svd"), _ref(SL.polar), shapes=[(4, 4), (5, 3)],
        dtypes=F, domain=well, grad=1, grad_dtypes=GD, tol=TOL),
    Rec("expm", L.expm, _ref(SL.expm), shapes=[(1, 1), (4, 4), (2, 3, 3)], dtypes=F,
        domain=small, grad=1, grad_dtypes=GD, tol={"float32": 2e-4, "complex64": 2e-4}),
    Rec("expm_large", lambda a: L.expm(a * 6), _ref(lambda a: SL.expm(a * 6)), shapes=[(4, 4)],
        dtypes=("float32",), domain=small, tol={"float32": 2e-4}),
    Rec("expm_upper", lambda a: L.expm(a, upper_triangular=True), _ref(SL.expm),
        shapes=[(4, 4)], dtypes=("float32",), domain=lambda r, s, d: np.triu(small(r, s, d)),
        tol={"float32": 2e-4}),
    Rec("expm_frechet", lambda a, e: L.expm_frechet(a, e),
        _ref(lambda a, e: SL.expm_frechet(a, e)), shapes=[((3, 3), (3, 3))], nargs=2,
        dtypes=("float32",), domain=[small, general], tol={"float32": 2e-4}),
    Rec("sqrtm", L.sqrtm, _ref(lambda a: SL.sqrtm(a.astype(np.complex128))),
        shapes=[(3, 3)], dtypes=("float32",), domain=spd, tol={"float32": 2e-4}, vmap=False),
    Rec("funm", lambda a: L.funm(a, jnp.exp),
        _ref(lambda a: SL.expm(a.astype(np.float64)).astype(np.complex128)), shapes=[(4, 4)], dtypes=("float32",), domain=small,
        tol={"float32": 2e-4}, vmap=False),
    Rec("solve_sylvester", L.solve_sylvester, _ref(SL.solve_sylvester),
        shapes=[((3, 3), (2, 2), (3, 2))], nargs=3, dtypes=("float32",),
        domain=[spd, spd, general], tol={"float32": 2e-4}, vmap=False),
    Rec("block_diag", lambda a, b: L.block_diag(a, b), _ref(SL.block_diag),
        shapes=[((2, 3), (3, 1))], nargs=2, dtypes=F, vmap=False),
    Rec("toeplitz", L.toeplitz, _ref(SL.toeplitz), shapes=[((4,), (3,))], nargs=2, dtypes=F,
        grad=1, grad_dtypes=GD),
    Rec("toeplitz1", L.toeplitz, _ref(SL.toeplitz), shapes=[(4,)], dtypes=F),
    Rec("hankel", L.hankel, _ref(SL.hankel), shapes=[((4,), (3,))], nargs=2, dtypes=F, grad=1,
        grad_dtypes=GD),
    Rec("circulant", L.circulant, _ref(SL.circulant), shapes=[(4,)], dtypes=F, grad=1,
        grad_dtypes=GD),
    Rec("companion", L.companion, _ref(SL.companion), shapes=[(5,)], dtypes=F,
        domain=lambda r, s, d: general(r, s, d) + 3),
    Rec("leslie", L.leslie, _ref(SL.leslie), shapes=[((4,), (3,))], nargs=2, dtypes=F),
    Rec("fiedler", L.fiedler, _ref(SL.fiedler), shapes=[(4,)], dtypes=("float32",)),
    Rec("fiedler_companion", L.fiedler_companion, _ref(SL.fiedler_companion),
        shapes=[(6,), (3,), (2,)], dtypes=("float32",),
        domain=lambda r, s, d: general(r, s, d) + 3),
    Rec("eigh_tridiagonal", lambda d, e: L.eigh_tridiagonal(d, e, eigvals_only=True),
        _ref(lambda d, e: SL.eigh_tridiagonal(d, e, eigvals_only=True)),
        shapes=[((5,), (4,))], nargs=2, dtypes=("float32",), grad=1, grad_dtypes=GD, tol=TOL),
] + [
    Rec(f"convolution_matrix_{mode}", lambda a, m=mode: L.convolution_matrix(a, 3, m),
        _ref(lambda a, m=mode: SL.convolution_matrix(a, 3, m)), shapes=[(4,), (2,)], dtypes=F)
    for mode in ("full", "same", "valid")
]

test_numpy, test_jit, test_vmap, test_grad = make_tests(RECORDS)


test_float64 = float64_test(RECORDS, tol=1e-8)


@pytest.mark.parametrize("name,args", [
    ("hilbert", (5,)), ("invhilbert", (5,)), ("pascal", (6,)), ("pascal", (5, "lower")),
    ("pascal", (5, "upper")), ("invpascal", (5,)), ("invpascal", (4, "lower")),
    ("helmert", (5,)), ("helmert", (4, True)), ("hadamard", (8,)), ("dft", (5,)),
    ("dft", (4, "sqrtn")), ("dft", (4, "n"))])
def test_special_matrices(name, args):
  out = np.asarray(getattr(L, name)(*args))
  ref = getattr(SL, name)(*args)
  np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
  expected = {"hadamard": np.int32, "dft": np.complex64}.get(name, np.float32)
  assert out.dtype == expected
  with numjax.experimental.enable_x64():
    out = np.asarray(getattr(L, name)(*args))
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


def test_schur_complex_and_rsf2csf():
  rng = np.random.default_rng(0)
  a = general(rng, (4, 4), "float64")
  with numjax.experimental.enable_x64():
    t, z = (np.asarray(v) for v in L.schur(a, output="complex"))
    np.testing.assert_allclose(z @ t @ ct(z), a, atol=1e-10)
    assert np.all(np.abs(np.tril(t, -1)) < 1e-12)
    tr, zr = SL.schur(a)
    t2, z2 = (np.asarray(v) for v in L.rsf2csf(tr, zr))
    t3, z3 = SL.rsf2csf(tr, zr)
    np.testing.assert_allclose(t2, t3, atol=1e-10)
    np.testing.assert_allclose(z2, z3, atol=1e-10)


def test_funm_error_estimate_and_polar_left():
  rng = np.random.default_rng(1)
  a = small(rng, (4, 4), "float64")
  with numjax.experimental.enable_x64():
    f, err = L.funm(a, jnp.sin, disp=False)
    f_ref, err_ref = SL.funm(a, np.sin, disp=False)
    np.testing.assert_allclose(f, f_ref, atol=1e-10)
    np.testing.assert_allclose(err, err_ref, rtol=1e-6)
    u, p = L.polar(a[:3], side="left")
    u_ref, p_ref = SL.polar(a[:3], side="left")
    np.testing.assert_allclose(u, u_ref, atol=1e-10)
    np.testing.assert_allclose(p, p_ref, atol=1e-10)


def test_expm_batched_jit_and_nan_beyond_max_squarings():
  rng = np.random.default_rng(2)
  a = small(rng, (3, 4, 4), "float32")
  out = numjax.jit(L.expm)(a)
  np.testing.assert_allclose(out, np.stack([SL.expm(x) for x in a]), rtol=2e-4, atol=2e-5)
  big = np.eye(2, dtype=np.float32) * 1e4
  assert np.isnan(np.asarray(L.expm(big, max_squarings=2))).all()


def test_pos_solve_gradient_reads_one_triangle():
  # only the upper triangle of a is read (lower=False): its lower triangle gets no gradient
  rng = np.random.default_rng(3)
  a = spd(rng, (4, 4), "float32")
  b = general(rng, (4,), "float32")
  g = np.asarray(numjax.grad(lambda x: jnp.sum(L.solve(x, b, assume_a="pos")))(a))
  np.testing.assert_array_equal(np.tril(g, -1), 0)


def test_errors():
  with pytest.raises(ValueError, match="Expected assume_a to be one of"):
    L.solve(np.eye(2), np.ones(2), assume_a="bogus")
  with pytest.raises(ValueError, match="Invalid 'trans' value"):
    L.solve_triangular(np.eye(2), np.ones(2), trans=3)
  with pytest.raises(ValueError, match="Expected 'output' to be either"):
    L.schur(np.eye(2), output="x")
  with pytest.raises(ValueError, match="Unsupported QR decomposition mode"):
    L.qr(np.eye(2), mode="x")
  with pytest.raises(NotImplementedError, match="Only the b=None case"):
    L.eigh(np.eye(2), np.eye(2))
  with pytest.raises(ValueError, match="Expected A to be a \\(batched\\) square matrix"):
    L.expm(np.ones((2, 3)))
  with pytest.raises(ValueError, match="n must be a positive power of 2"):
    L.hadamard(6)
  with pytest.raises(ValueError, match="at most 2 dimensions"):
    L.block_diag(np.ones((2, 2, 2)))
  with pytest.raises(ValueError, match="mode must be one of"):
    L.convolution_matrix(np.ones(3), 2, "x")
  with pytest.raises(NotImplementedError, match="method='qdwh' only supports"):
    L.polar(np.ones((2, 3)))
  with pytest.raises(ValueError, match="Incompatible shapes for Sylvester equation"):
    L.solve_sylvester(np.eye(2), np.eye(3), np.ones((3, 3)))
  with pytest.warns(FutureWarning, match="batched 1D solves"):
    L.solve_triangular(np.stack([np.eye(2)] * 3), np.ones((3, 2)))
