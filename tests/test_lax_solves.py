"""lax.custom_linear_solve and lax.custom_root: values, implicit derivatives (against
jnp.linalg.solve's derivatives, finite differences and closed forms), jit, vmap, and the
solver itself never being differentiated."""
import numpy as np
import pytest

import numjax
import numjax.numpy as jnp
from numjax import lax
from numjax.test_util import check_grads

rng = np.random.default_rng(0)
M = rng.normal(size=(4, 4)).astype(np.float32)
A0 = jnp.asarray(M @ M.T + 4 * np.eye(4, dtype=np.float32))
B0 = jnp.asarray(rng.normal(size=4).astype(np.float32))


def _cg(matvec, b, iters=30):
  """Conjugate gradients in a while_loop (not differentiable itself: it must not need to
  be)."""
  def cond(s):
    return s[4] < iters

  def body(s):
    x, r, p, rs, i = s
    ap = matvec(p)
    alpha = rs / jnp.maximum(jnp.vdot(p, ap), 1e-30)
    x = x + alpha * p
    r = r - alpha * ap
    rs_new = jnp.vdot(r, r)
    p = r + (rs_new / jnp.maximum(rs, 1e-30)) * p
    return x, r, p, rs_new, i + 1
  x0 = jnp.zeros_like(b)
  return lax.while_loop(cond, body, (x0, b, b, jnp.vdot(b, b), 0))[0]


def solve_direct(A, b):
  return lax.custom_linear_solve(lambda x: A @ x, b,
                                 lambda mv, y: jnp.linalg.solve(A, y),
                                 lambda vm, y: jnp.linalg.solve(A.T, y))


def solve_cg(A, b):
  return lax.custom_linear_solve(lambda x: A @ x, b, _cg, symmetric=True)


@pytest.mark.parametrize("fn", [solve_direct, solve_cg])
def test_linear_solve_value_and_derivatives(fn):
  ref = lambda A, b: jnp.linalg.solve(A, b)
  np.testing.assert_allclose(fn(A0, B0), ref(A0, B0), rtol=1e-4, atol=1e-5)
  loss = lambda g: lambda A, b: jnp.sum(g(A, b) ** 2)
  for argnum in (0, 1):
    got = numjax.grad(loss(fn), argnum)(A0, B0)
    want = numjax.grad(loss(ref), argnum)(A0, B0)
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)
  t = (jnp.ones((4, 4)) * 0.1, jnp.arange(4.))
  np.testing.assert_allclose(numjax.jvp(fn, (A0, B0), t)[1], numjax.jvp(ref, (A0, B0), t)[1],
                             rtol=1e-3, atol=1e-4)
  np.testing.assert_allclose(numjax.jit(numjax.grad(loss(fn)))(A0, B0),
                             numjax.grad(loss(ref))(A0, B0), rtol=1e-3, atol=1e-4)


def test_linear_solve_check_grads_and_batching():
  check_grads(solve_direct, (A0, B0), order=2, modes=("fwd", "rev"), atol=3e-2, rtol=3e-2)
  bs = jnp.stack([B0, 2 * B0, -B0])
  np.testing.assert_allclose(numjax.vmap(solve_direct, in_axes=(None, 0))(A0, bs),
                             np.stack([np.linalg.solve(A0, b) for b in np.asarray(bs)]),
                             rtol=1e-4, atol=1e-5)
  As = jnp.stack([A0, A0 + jnp.eye(4)])
  np.testing.assert_allclose(numjax.vmap(solve_cg, in_axes=(0, None))(As, B0),
                             np.stack([np.linalg.solve(a, B0) for a in np.asarray(As)]),
                             rtol=1e-3, atol=1e-4)
  g = numjax.vmap(numjax.grad(lambda b: solve_direct(A0, b).sum()))(bs)
  np.testing.assert_allclose(g, np.tile(np.linalg.solve(np.asarray(A0).T, np.ones(4)), (3, 1)),
                             rtol=1e-4, atol=1e-5)


def test_linear_solve_pytrees_aux_and_errors():
  b = {"u": jnp.ones(2), "v": jnp.arange(3.)}
  matvec = lambda x: {"u": 2 * x["u"], "v": 3 * x["v"]}
  solve = lambda mv, y: ({"u": y["u"] / 2, "v": y["v"] / 3}, jnp.float32(7.))
  x, aux = lax.custom_linear_solve(matvec, b, solve, has_aux=True)
  np.testing.assert_allclose(x["v"], np.arange(3.) / 3)
  assert float(aux) == 7.
  no_transpose = lambda b: lax.custom_linear_solve(lambda x: 2 * x, b, lambda mv, y: y / 2)
  np.testing.assert_allclose(numjax.jvp(no_transpose, (B0,), (B0,))[1], B0 / 2)
  with pytest.raises(TypeError, match="transpose_solve required"):
    numjax.grad(lambda b: no_transpose(b).sum())(B0)
  with pytest.raises(TypeError, match="must match b"):
    lax.custom_linear_solve(lambda x: x[:2], B0, lambda mv, y: y)
  text = str(numjax.make_jaxpr(solve_direct)(A0, B0))
  assert "custom_linear_solve" in text


def _sqrt_root(a):
  def solve(g, x0):
    return lax.fori_loop(0, 40, lambda i, x: x - g(x) / (2 * x), x0)
  return lax.custom_root(lambda x: x ** 2 - a, 1.0, solve, lambda g, y: y / g(1.0))


def test_custom_root():
  np.testing.assert_allclose(_sqrt_root(2.0), np.sqrt(2.), rtol=1e-6)
  np.testing.assert_allclose(numjax.grad(_sqrt_root)(2.0), 0.5 / np.sqrt(2.), rtol=1e-5)
  np.testing.assert_allclose(numjax.grad(numjax.grad(_sqrt_root))(2.0), -0.25 * 2. ** -1.5,
                             rtol=1e-4)
  a = jnp.array([2., 9., 16.])
  np.testing.assert_allclose(numjax.vmap(numjax.grad(_sqrt_root))(a), 0.5 / np.sqrt(a),
                             rtol=1e-5)
  np.testing.assert_allclose(numjax.jit(numjax.grad(_sqrt_root))(4.0), 0.25, rtol=1e-5)
  # a vector root with a matrix tangent_solve (the Jacobian built from the linearised f)
  c = jnp.array([3., 2.])

  def vec_root(c):
    f = lambda x: jnp.array([x[0] ** 3 + x[1] - c[0], x[1] * 2 - c[1]])
    solve = lambda g, x0: lax.fori_loop(
        0, 50, lambda i, x: x - jnp.linalg.solve(numjax.jacfwd(g)(x), g(x)), x0)
    # linear in y (reverse mode transposes it): the Jacobian only depends on the primal
    tangent_solve = lambda g, y: jnp.linalg.inv(numjax.jacfwd(g)(y)) @ y
    return lax.custom_root(f, jnp.array([1., 1.]), solve, tangent_solve)
  check_grads(vec_root, (c,), order=1, modes=("fwd", "rev"), atol=2e-2, rtol=2e-2)
