"""jnp.linalg: NumPy parity over float32/complex64 (float64 under x64), batched shapes, jit
parity, vmap against a loop, check_grads where JAX differentiates (det/slogdet/solve/inv/
pinv/norms/... on well-conditioned inputs), JAX's result types, promotion and errors."""
import numpy as np
import pytest

import numjax
import numjax.experimental
import numjax.numpy as jnp
from records import Rec, make_tests
from linalg_util import F, GD, complex_grad_clones, ct, float64_test, general, spd, spread, well

# the records whose complex64 gradients are checked too
COMPLEX_GRAD = ("det", "inv", "solve_mat", "slogdet", "cholesky", "pinv", "eigvalsh")


def sym(rng, shape, dtype):
  a = general(rng, shape, dtype)
  return (a + ct(a)).astype(dtype)


def _svd_recon(full):
  def fn(x):
    u, s, vh = jnp.linalg.svd(x, full_matrices=full)
    k = s.shape[-1]
    return jnp.matmul(u[..., :k] * s[..., None, :].astype(u.dtype), vh[..., :k, :])
  return fn


def _lstsq_ref(a, b):
  return np.linalg.lstsq(a, b, rcond=None)[0]


def _pinv_ref(x):
  return np.linalg.pinv(x)


RECORDS = [
    Rec("cholesky", jnp.linalg.cholesky, np.linalg.cholesky,
        shapes=[(3, 3), (2, 4, 4)], dtypes=F, domain=spd, grad=2, grad_dtypes=GD,
        tol={"float32": 2e-5}),
    Rec("cholesky_upper", lambda x: jnp.linalg.cholesky(x, upper=True),
        lambda x: np.linalg.cholesky(x, upper=True), shapes=[(3, 3)], dtypes=F, domain=spd,
        grad=1, grad_dtypes=GD, tol={"float32": 2e-5}),
    Rec("det", jnp.linalg.det, np.linalg.det,
        shapes=[(1, 1), (2, 2), (3, 3), (5, 5), (2, 4, 4)], dtypes=F, domain=well, grad=2,
        grad_dtypes=GD, tol={"float32": 2e-5, "complex64": 2e-5}),
    Rec("slogdet", lambda x: tuple(jnp.linalg.slogdet(x)), lambda x: tuple(np.linalg.slogdet(x)),
        shapes=[(1, 1), (4, 4), (2, 3, 3)], dtypes=F, domain=well, grad=2, grad_dtypes=GD,
        tol={"float32": 2e-5, "complex64": 2e-5}),
    Rec("slogdet_qr", lambda x: tuple(jnp.linalg.slogdet(x, method="qr")),
        lambda x: tuple(np.linalg.slogdet(x)), shapes=[(4, 4), (2, 3, 3)], dtypes=("float32",),
        domain=well, grad=1, grad_dtypes=GD, tol={"float32": 2e-5}),
    Rec("inv", jnp.linalg.inv, np.linalg.inv, shapes=[(1, 1), (4, 4), (2, 3, 3)], dtypes=F,
        domain=well, grad=2, grad_dtypes=GD, tol={"float32": 2e-5, "complex64": 2e-5}),
    Rec("solve_vec", jnp.linalg.solve, np.linalg.solve, shapes=[((4, 4), (4,))], nargs=2,
        dtypes=F, domain=[well, general], grad=2, grad_dtypes=GD,
        tol={"float32": 2e-5, "complex64": 2e-5}),
    Rec("solve_mat", jnp.linalg.solve, np.linalg.solve,
        shapes=[((4, 4), (4, 2)), ((2, 3, 3), (2, 3, 2)), ((2, 3, 3), (3, 1))], nargs=2,
        dtypes=F, domain=[well, general], grad=2, grad_dtypes=GD,
        tol={"float32": 2e-5, "complex64": 2e-5}),
    Rec("pinv", jnp.linalg.pinv, _pinv_ref, shapes=[(4, 4), (5, 3), (3, 5), (2, 4, 3)],
        dtypes=F, domain=spread, grad=2, grad_dtypes=GD, tol={"float32": 5e-5, "complex64": 5e-5}),
    Rec("pinv_hermitian", lambda x: jnp.linalg.pinv(x, hermitian=True),
        lambda x: np.linalg.pinv(x, hermitian=True), shapes=[(4, 4)], dtypes=("float32",),
        domain=spd, grad=1, grad_dtypes=GD, tol={"float32": 5e-5}),
    Rec("matrix_power3", lambda x: jnp.linalg.matrix_power(x, 3),
        lambda x: np.linalg.matrix_power(x, 3), shapes=[(3, 3), (2, 4, 4)], dtypes=F,
        domain=well, grad=2, grad_dtypes=GD, tol={"float32": 2e-5, "complex64": 2e-5}),
    Rec("matrix_power_neg", lambda x: jnp.linalg.matrix_power(x, -2),
        lambda x: np.linalg.matrix_power(x, -2), shapes=[(3, 3)], dtypes=F, domain=well,
        grad=1, grad_dtypes=GD, tol={"float32": 5e-5, "complex64": 5e-5}),
    Rec("matrix_power0", lambda x: jnp.linalg.matrix_power(x, 0),
        lambda x: np.linalg.matrix_power(x, 0), shapes=[(2, 3, 3)], dtypes=F, domain=well),
    Rec("eigvalsh", jnp.linalg.eigvalsh, np.linalg.eigvalsh, shapes=[(4, 4), (2, 3, 3)],
        dtypes=F, domain=spd, grad=2, grad_dtypes=GD, tol={"float32": 2e-5, "complex64": 2e-5}),
    Rec("eigvalsh_U", lambda x: jnp.linalg.eigvalsh(x, "U"),
        lambda x: np.linalg.eigvalsh((x + ct(x)) / 2), shapes=[(4, 4)], dtypes=F, domain=spd,
        tol={"float32": 2e-5, "complex64": 2e-5}),
    Rec("svdvals", jnp.linalg.svdvals, lambda x: np.linalg.svd(x, compute_uv=False),
        shapes=[(4, 4), (5, 3), (2, 3, 4)], dtypes=F, domain=spread, grad=2, grad_dtypes=GD,
        tol={"float32": 2e-5, "complex64": 2e-5}),
    Rec("svd_recon", _svd_recon(False), lambda x: x, shapes=[(4, 4), (5, 3), (2, 3, 4)],
        dtypes=F, domain=spread, grad=1, grad_dtypes=GD, tol={"float32": 5e-5, "complex64": 5e-5}),
    Rec("svd_recon_full", _svd_recon(True), lambda x: x, shapes=[(4, 4), (5, 3), (3, 5)],
        dtypes=F, domain=spread, tol={"float32": 5e-5, "complex64": 5e-5}),
    Rec("svd_hermitian_vals", lambda x: jnp.linalg.svd(x, hermitian=True, compute_uv=False),
        lambda x: np.linalg.svd(x, hermitian=True, compute_uv=False), shapes=[(4, 4)],
        dtypes=("float32",), domain=sym),
    Rec("svd_hermitian_recon", lambda x: (lambda u, s, vh: jnp.matmul(u * s[..., None, :], vh))(
        *jnp.linalg.svd(x, hermitian=True)), lambda x: x, shapes=[(4, 4)], dtypes=("float32",),
        domain=sym, tol={"float32": 5e-5}),
    Rec("qr_r", lambda x: jnp.linalg.qr(x, mode="r"), lambda x: np.linalg.qr(x, mode="r"),
        shapes=[(4, 4), (5, 3), (3, 5)], dtypes=F, domain=spread, grad=2, grad_dtypes=GD,
        tol={"float32": 2e-5, "complex64": 2e-5}),
    Rec("qr_complete", lambda x: tuple(jnp.linalg.qr(x, mode="complete")),
        lambda x: tuple(np.linalg.qr(x, mode="complete")), shapes=[(5, 3), (2, 3, 3)],
        dtypes=F, domain=spread, tol={"float32": 2e-5, "complex64": 2e-5}),
    Rec("matrix_rank", jnp.linalg.matrix_rank, np.linalg.matrix_rank,
        shapes=[(4, 4), (5, 3), (2, 3, 4), (4,)], dtypes=("float32",),
        domain=lambda r, s, d: (general(r, s, d) * (np.arange(s[-1]) < 2)).astype(d)),
    Rec("cond", jnp.linalg.cond, np.linalg.cond, shapes=[(4, 4), (2, 5, 3)], dtypes=F,
        domain=well, grad=1, grad_dtypes=GD, tol={"float32": 5e-5, "complex64": 5e-5}),
    Rec("cond_fro", lambda x: jnp.linalg.cond(x, "fro"), lambda x: np.linalg.cond(x, "fro"),
        shapes=[(4, 4)], dtypes=F, domain=well, tol={"float32": 5e-5, "complex64": 5e-5}),
    Rec("lstsq", lambda a, b: jnp.linalg.lstsq(a, b)[0], _lstsq_ref,
        shapes=[((5, 3), (5, 2)), ((5, 3), (5,)), ((3, 5), (3,))], nargs=2, dtypes=F,
        domain=[spread, general], grad=1, grad_dtypes=GD, vmap=False,
        tol={"float32": 5e-5, "complex64": 5e-5}),
    Rec("tensorinv", lambda x: jnp.linalg.tensorinv(x.reshape(2, 3, 6), ind=2),
        lambda x: np.linalg.tensorinv(x.reshape(2, 3, 6), ind=2), shapes=[(6, 6)],
        dtypes=("float32",), domain=well, grad=1, grad_dtypes=GD, tol={"float32": 5e-5}),
    Rec("tensorsolve", lambda a, b: jnp.linalg.tensorsolve(a.reshape(2, 3, 6), b.reshape(2, 3)),
        lambda a, b: np.linalg.tensorsolve(a.reshape(2, 3, 6), b.reshape(2, 3)),
        shapes=[((6, 6), (6,))], nargs=2, dtypes=("float32",), domain=[well, general], grad=1,
        grad_dtypes=GD, tol={"float32": 5e-5}),
    Rec("multi_dot", lambda a, b, c: jnp.linalg.multi_dot([a, b, c]),
        lambda a, b, c: np.linalg.multi_dot([a, b, c]), shapes=[((3,), (3, 4), (4, 2)),
                                                                 ((2, 3), (3, 4), (4,))],
        nargs=3, dtypes=F, grad=1, grad_dtypes=GD, tol={"float32": 2e-5, "complex64": 2e-5}),
    Rec("outer", jnp.linalg.outer, np.linalg.outer, shapes=[((3,), (4,))], nargs=2, dtypes=F,
        grad=1, grad_dtypes=GD),
    Rec("cross", jnp.linalg.cross, np.linalg.cross, shapes=[((3,), (3,)), ((2, 3), (2, 3))],
        nargs=2, dtypes=("float32",), grad=1, grad_dtypes=GD),
    Rec("matrix_transpose", jnp.linalg.matrix_transpose, np.linalg.matrix_transpose,
        shapes=[(2, 3), (2, 3, 4)], dtypes=F),
    Rec("diagonal", lambda x: jnp.linalg.diagonal(x, offset=1),
        lambda x: np.linalg.diagonal(x, offset=1), shapes=[(3, 4), (2, 3, 3)], dtypes=F),
    Rec("trace", jnp.linalg.trace, np.linalg.trace, shapes=[(3, 4), (2, 3, 3)], dtypes=F,
        grad=1, grad_dtypes=GD),
    Rec("vecdot", jnp.linalg.vecdot, np.linalg.vecdot, shapes=[((3,), (3,)), ((2, 3), (2, 3))],
        nargs=2, dtypes=F, tol={"float32": 2e-5, "complex64": 2e-5}),
    Rec("matmul", jnp.linalg.matmul, np.linalg.matmul, shapes=[((2, 3), (3, 4))], nargs=2,
        dtypes=F, tol={"float32": 2e-5, "complex64": 2e-5}),
    Rec("tensordot", lambda a, b: jnp.linalg.tensordot(a, b, axes=1),
        lambda a, b: np.linalg.tensordot(a, b, axes=1), shapes=[((2, 3), (3, 4))], nargs=2,
        dtypes=F, tol={"float32": 2e-5, "complex64": 2e-5}),
] + [
    Rec(f"norm_{ord}_{axis}", lambda x, o=ord, a=axis: jnp.linalg.norm(x, ord=o, axis=a),
        lambda x, o=ord, a=axis: np.linalg.norm(x, ord=o, axis=a), shapes=[shape], dtypes=F,
        grad=g, grad_dtypes=GD, tol={"float32": 2e-5, "complex64": 2e-5}, domain=spread
        if shape == (3, 4) else None or (lambda r, s, d: general(r, s, d)))
    for ord, axis, shape, g in [
        (None, None, (3, 4), 2), (None, 1, (3, 4), 2), (1, 0, (3, 4), 1), (3, -1, (3, 4), 1),
        (np.inf, None, (5,), 0), (-np.inf, None, (5,), 0), (0, None, (5,), 0),
        ("fro", None, (3, 4), 2), ("nuc", None, (3, 4), 1), (2, None, (3, 4), 1),
        (-2, None, (3, 4), 1), (1, None, (3, 4), 0), (-1, None, (3, 4), 0),
        (np.inf, (0, 1), (3, 4), 0), (-np.inf, (1, 0), (3, 4), 0), (None, (0, 2), (2, 3, 4), 1)]
] + [
    Rec("vector_norm", lambda x: jnp.linalg.vector_norm(x, axis=(0, 1), ord=1),
        lambda x: np.linalg.vector_norm(x, axis=(0, 1), ord=1), shapes=[(2, 3, 4)], dtypes=F,
        tol={"float32": 2e-5, "complex64": 2e-5}),
    Rec("matrix_norm", lambda x: jnp.linalg.matrix_norm(x, keepdims=True),
        lambda x: np.linalg.matrix_norm(x, keepdims=True), shapes=[(2, 3, 4)], dtypes=F,
        tol={"float32": 2e-5, "complex64": 2e-5}),
]


test_numpy, test_jit, test_vmap, test_grad = make_tests(RECORDS + complex_grad_clones(
    RECORDS, lambda name: name in COMPLEX_GRAD))
test_float64 = float64_test(RECORDS, tol=1e-9)


# ---------------------------------------------------------------------------------------
# Result types, conventions, promotion

def test_result_namedtuples_and_dtypes():
  rng = np.random.default_rng(0)
  a = spd(rng, (3, 3), "float32")
  r = jnp.linalg.eigh(a)
  assert type(r).__name__ == "EighResult" and r.eigenvalues.shape == (3,)
  assert np.all(np.diff(np.asarray(r.eigenvalues)) > 0)
  r = jnp.linalg.svd(a)
  assert type(r).__name__ == "SVDResult" and r.S.dtype == np.float32
  r = jnp.linalg.qr(a)
  assert type(r).__name__ == "QRResult" and r.Q.shape == (3, 3)
  r = jnp.linalg.slogdet(a)
  assert type(r).__name__ == "SlogdetResult"
  r = jnp.linalg.eig(a)
  assert type(r).__name__ == "EigResult" and r.eigenvalues.dtype == np.complex64
  assert jnp.linalg.eigvals(a).dtype == np.complex64
  # integers promote to the default float
  assert jnp.linalg.det(np.eye(3, dtype=np.int32)).dtype == np.float32
  assert jnp.linalg.inv(np.eye(2, dtype=np.int32)).dtype == np.float32
  assert jnp.linalg.cholesky(np.array([[2, 1], [1, 2]])).dtype == np.float32
  assert jnp.linalg.norm(np.arange(3)).dtype == np.float32
  assert jnp.linalg.matrix_rank(np.eye(3)).dtype == np.int32
  with numjax.experimental.enable_x64():
    assert jnp.linalg.det(np.eye(3)).dtype == np.float64


def test_eigh_eigenvectors_match_numpy_up_to_sign():
  rng = np.random.default_rng(1)
  a = spd(rng, (2, 4, 4), "float32")
  w, v = jnp.linalg.eigh(a)
  wn, vn = np.linalg.eigh(a)
  np.testing.assert_allclose(w, wn, rtol=2e-5)
  np.testing.assert_allclose(np.abs(np.sum(np.asarray(v) * vn, axis=-2)), 1, rtol=1e-4)


def test_det_singular_gradient():
  # det's jvp uses the cofactor solve: the adjugate at a rank n-1 matrix (as JAX)
  b = np.array([[1., 2, 3, 4], [0, 1, 5, 2], [2, 1, 0, 1], [3, 3, 3, 5]], np.float32)
  b[3] = b[0] + b[1]
  g = np.asarray(numjax.grad(jnp.linalg.det)(b))
  ref = np.zeros((4, 4))  # d det / dA = cofactor matrix
  for i in range(4):
    for j in range(4):
      minor = np.delete(np.delete(b.astype(np.float64), i, 0), j, 1)
      ref[i, j] = (-1) ** (i + j) * np.linalg.det(minor)
  np.testing.assert_allclose(g, ref, atol=1e-4)


def test_solve_broadcasting_and_grad_under_jit_vmap():
  rng = np.random.default_rng(2)
  a = well(rng, (3, 4, 4), "float32")
  b = general(rng, (4, 2), "float32")
  out = jnp.linalg.solve(a, b)
  assert out.shape == (3, 4, 2)
  np.testing.assert_allclose(a @ np.asarray(out), np.broadcast_to(b, (3, 4, 2)), atol=1e-5)

  def loss(a, b):
    return jnp.sum(jnp.linalg.solve(a, b) ** 2)
  g = numjax.jit(numjax.vmap(numjax.grad(loss), in_axes=(0, None)))(a, b)
  ref = np.stack([np.asarray(numjax.grad(loss)(a[i], b)) for i in range(3)])
  np.testing.assert_allclose(g, ref, rtol=1e-4, atol=1e-5)


def test_errors():
  with pytest.raises(ValueError, match=r"Argument to inv must have shape \[..., n, n\]"):
    jnp.linalg.inv(np.ones((3, 4), np.float32))
  with pytest.raises(ValueError, match=r"Argument to _det\(\) must have shape"):
    jnp.linalg.det(np.ones((3, 4), np.float32))
  with pytest.raises(ValueError, match=r"Argument to slogdet\(\) must have shape"):
    jnp.linalg.slogdet(np.ones((3,), np.float32))
  with pytest.raises(ValueError, match="Invalid shapes for solve"):
    jnp.linalg.solve(np.ones((2, 3, 3)), np.ones((2, 3)))
  with pytest.raises(ValueError, match="inconsistent size for core dimension"):
    jnp.linalg.solve(np.ones((3, 3)), np.ones((2, 3)))
  with pytest.raises(ValueError, match="UPLO must be one of"):
    jnp.linalg.eigh(np.eye(2), UPLO="X")
  with pytest.raises(ValueError, match="Unsupported QR decomposition mode"):
    jnp.linalg.qr(np.eye(2), mode="bogus")
  with pytest.raises(TypeError, match="must be at least two-dimensional"):
    jnp.linalg.matrix_power(np.ones(3), 2)
  with pytest.raises(ValueError, match="Invalid order 'inf' for vector norm"):
    jnp.linalg.vector_norm(np.ones(3), ord="inf")
  with pytest.raises(ValueError, match="Improper number of axes for norm"):
    jnp.linalg.norm(np.ones((2, 2, 2)), axis=(0, 1, 2))
  with pytest.raises(ValueError, match="multi_dot requires at least two arrays"):
    jnp.linalg.multi_dot([np.ones(3)])
  with pytest.raises(ValueError, match="3-dimensional vectors"):
    jnp.linalg.cross(np.ones(2), np.ones(2))
  with pytest.raises(TypeError, match="requires ndarray or scalar arguments"):
    jnp.linalg.det([[1.0, 0.0], [0.0, 1.0]])
