"""Derivatives of lax control flow: jvp / grad / higher order against finite differences and
against the same computation written as a Python loop; reverse mode through while_loop
(beyond JAX) eagerly, under jit, under vmap and with checkpointing."""
import numpy as np
import pytest

import numjax as jax
import numjax.numpy as jnp
from numjax import lax
from numjax.test_util import check_grads
from numjax._src.lax.control_flow import while_grad


def close(a, b, tol=1e-4):
  np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def fd_grad(f, x, eps=1e-3):
  """Central differences in float64 on a NumPy copy of f (f: float64 array -> float)."""
  x = np.asarray(x, np.float64)
  g = np.zeros_like(x)
  for i in np.ndindex(x.shape):
    e = np.zeros_like(x)
    e[i] = eps
    g[i] = (f(x + e) - f(x - e)) / (2 * eps)
  return g


# ---------------------------------------------------------------------------------------
# cond / switch

def test_cond_grads():
  def f(x, y):
    return lax.cond(x > 0.5, lambda a, b: jnp.sin(a) * b, lambda a, b: a ** 2 - b, x, y)
  for x in (1.3, -0.7):
    check_grads(f, (x, 0.8), order=2)
    check_grads(jax.jit(f), (x, 0.8), order=1)
  close(jax.grad(f)(1.3, 2.0), np.cos(1.3) * 2.0)
  close(jax.grad(f, 1)(-0.7, 2.0), -1.0)


def test_cond_grad_of_closure_and_pytree():
  w = jnp.array([1.0, 2.0, 3.0])

  def f(w, p):
    out = lax.cond(p, lambda: {"a": w * w, "b": jnp.sum(w)}, lambda: {"a": -w, "b": 0.0})
    return jnp.sum(out["a"]) + out["b"]
  close(jax.grad(f)(w, True), 2 * np.asarray(w) + 1)
  close(jax.grad(f)(w, False), -np.ones(3))


def test_switch_grads():
  def f(i, x):
    return lax.switch(i, [jnp.sin, jnp.cos, lambda x: x ** 3], x)
  for i in range(3):
    check_grads(lambda x: f(i, x), (0.7,), order=2)
  close(jax.grad(f, 1)(2, 0.7), 3 * 0.7 ** 2)


def test_cond_linearize_splits_primal_and_tangent():
  # reverse mode needs a primal cond (run now) and a linear tangent cond (transposed)
  f = lambda x: lax.cond(x > 0, jnp.sin, jnp.cos, x)
  text = str(jax.make_jaxpr(jax.grad(f))(1.0))
  assert text.count("cond[") == 2


# ---------------------------------------------------------------------------------------
# scan: an RNN, against a Python loop and finite differences

def _rnn_params(seed=0, h=4, d=3, t=5):
  rng = np.random.default_rng(seed)
  return (rng.normal(size=(h, h)).astype(np.float32) * 0.5,
          rng.normal(size=(d, h)).astype(np.float32) * 0.5,
          rng.normal(size=(t, d)).astype(np.float32))


def _rnn_scan(wh, wx, xs):
  def step(h, x):
    h = jnp.tanh(h @ wh + x @ wx)
    return h, jnp.sum(h * h)
  h, ys = lax.scan(step, jnp.zeros(wh.shape[0], jnp.float32), xs)
  return jnp.sum(h) + jnp.sum(ys)


def _rnn_loop(wh, wx, xs):
  h = jnp.zeros(wh.shape[0], jnp.float32)
  total = 0.0
  for t in range(xs.shape[0]):
    h = jnp.tanh(h @ wh + xs[t] @ wx)
    total = total + jnp.sum(h * h)
  return jnp.sum(h) + total


def _rnn_np(wh, wx, xs):
  h = np.zeros(wh.shape[0])
  total = 0.0
  for t in range(xs.shape[0]):
    h = np.tanh(h @ wh + xs[t] @ wx)
    total += np.sum(h * h)
  return np.sum(h) + total


def test_rnn_scan_grad_matches_python_loop_and_finite_differences():
  wh, wx, xs = _rnn_params()
  close(_rnn_scan(wh, wx, xs), _rnn_np(wh, wx, xs))
  g_scan = jax.grad(_rnn_scan, argnums=(0, 1, 2))(wh, wx, xs)
  g_loop = jax.grad(_rnn_loop, argnums=(0, 1, 2))(wh, wx, xs)
  for a, b in zip(g_scan, g_loop):
    close(a, b)
  close(g_scan[0], fd_grad(lambda w: _rnn_np(w, wx, xs), wh), 2e-3)
  close(g_scan[2], fd_grad(lambda x: _rnn_np(wh, wx, x), xs), 2e-3)
  g_jit = jax.jit(jax.grad(_rnn_scan, argnums=(0, 1, 2)))(wh, wx, xs)
  for a, b in zip(g_jit, g_loop):
    close(a, b)
  check_grads(_rnn_scan, (wh, wx, xs), order=1, modes=("fwd", "rev"))


def test_scan_linearize_hoists_loop_invariant_residuals():
  # a weight matrix used in the body is a residual of every iteration: it must be passed
  # once (a const of the tangent scan), not stacked `length` times
  wh, wx, xs = _rnn_params(t=7)
  text = str(jax.make_jaxpr(jax.grad(_rnn_scan))(wh, wx, xs))
  assert "f32[7,4,4]" not in text


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_grads_order2(reverse):
  def f(c, xs, w):
    c, ys = lax.scan(lambda c, x: (jnp.sin(c * w) + x, c * x), c, xs, reverse=reverse)
    return c + jnp.sum(ys)
  check_grads(f, (0.3, np.linspace(-1, 1, 4).astype(np.float32), 1.2), order=2)


def test_scan_with_int_carry_and_unused_outputs():
  def f(x):
    (i, y), zs = lax.scan(lambda c, _: ((c[0] + 1, c[1] * x), c[0]), (0, x), None, length=4)
    return y
  close(jax.grad(f)(1.5), 5 * 1.5 ** 4)
  close(jax.jvp(f, (1.5,), (1.0,))[1], 5 * 1.5 ** 4)


# ---------------------------------------------------------------------------------------
# fori_loop: a physics integrator under jit and grad

def _leapfrog(k, x0, v0, dt=0.01, n=200):
  def step(i, s):
    x, v = s
    v = v - 0.5 * dt * k * x
    x = x + dt * v
    v = v - 0.5 * dt * k * x
    return x, v
  return lax.fori_loop(0, n, step, (x0, v0))


def _leapfrog_np(k, x0, v0, dt=0.01, n=200):
  x, v = x0, v0
  for _ in range(n):
    v = v - 0.5 * dt * k * x
    x = x + dt * v
    v = v - 0.5 * dt * k * x
  return x, v


def test_fori_loop_integrator_jit_and_grad():
  x, v = jax.jit(_leapfrog)(4.0, 1.0, 0.0)
  rx, rv = _leapfrog_np(4.0, 1.0, 0.0)
  close(x, rx)
  close(v, rv)
  close(x, np.cos(2.0 * 2.0), 1e-3)  # harmonic oscillator, omega = 2, t = 2
  energy = lambda k: _leapfrog(k, 1.0, 0.0)[0]
  g = jax.jit(jax.grad(energy))(4.0)
  close(g, fd_grad(lambda k: _leapfrog_np(k, 1.0, 0.0)[0], 4.0), 1e-3)
  close(jax.grad(energy)(4.0), g)
  # traced trip count: fori_loop becomes a while_loop, still reverse-differentiable here
  g_dyn = jax.jit(jax.grad(lambda k, n: _leapfrog(k, 1.0, 0.0, n=n)[0]))(4.0, 200)
  close(g_dyn, g)


# ---------------------------------------------------------------------------------------
# while_loop: reverse mode with a data-dependent trip count (beyond JAX)

def newton_sqrt(a):
  def cond(c):
    return jnp.abs(c * c - a) > 1e-6 * a
  return lax.while_loop(cond, lambda x: 0.5 * (x + a / x), a)


def test_newton_sqrt_grad():
  for a in (2.0, 9.0, 123.0):
    close(newton_sqrt(a), np.sqrt(a))
    expect = 0.5 / np.sqrt(a)
    close(jax.grad(newton_sqrt)(a), expect)
    close(jax.jit(jax.grad(newton_sqrt))(a), expect)
    close(jax.jvp(newton_sqrt, (a,), (1.0,))[1], expect)
    close(jax.grad(jax.grad(newton_sqrt))(a), -0.25 * a ** -1.5)
  check_grads(newton_sqrt, (5.0,), order=1, modes=("rev",), atol=1e-2, rtol=1e-2)


def _fixed_point(a, b):
  # iterate x <- cos(a x) + b until the change is tiny: a loop-until-converged
  def cond(s):
    return jnp.abs(s[1] - s[0]) > 1e-7

  def body(s):
    x = s[1]
    return x, jnp.cos(a * x) + b
  return lax.while_loop(cond, body, (0.0, b))[1]


def _fixed_point_np(a, b):
  x_prev, x = 0.0, b
  while abs(x - x_prev) > 1e-12:
    x_prev, x = x, np.cos(a * x) + b
  return x


def test_loop_until_converged_grad_matches_finite_differences():
  with jax.experimental.enable_x64() if hasattr(jax, "experimental") else _nullcontext():
    a, b = 0.7, 0.3
    ga, gb = jax.grad(_fixed_point, argnums=(0, 1))(a, b)
    close(ga, fd_grad(lambda t: _fixed_point_np(t, b), a, 1e-5), 1e-5)
    close(gb, fd_grad(lambda t: _fixed_point_np(a, t), b, 1e-5), 1e-5)
    gj = jax.jit(jax.grad(_fixed_point, argnums=(0, 1)))(a, b)
    close(gj[0], ga, 1e-8)
    close(gj[1], gb, 1e-8)


class _nullcontext:
  def __enter__(self):
    return self

  def __exit__(self, *a):
    return False


def test_while_grad_wrt_closure_and_pytree_carry():
  def f(w, x0):
    def body(c):
      x, i = c
      return x * w + jnp.sin(x), i + 1
    x, n = lax.while_loop(lambda c: c[1] < 3 + (jnp.sum(c[0]) > 100), body, (x0, 0))
    return jnp.sum(x)

  def f_np(w, x0):
    x, i = x0, 0
    while i < 3 + (np.sum(x) > 100):
      x, i = x * w + np.sin(x), i + 1
    return np.sum(x)
  w, x0 = 1.3, np.array([0.2, -0.5], np.float32)
  gw, gx = jax.grad(f, argnums=(0, 1))(w, x0)
  close(gw, fd_grad(lambda t: f_np(t, x0.astype(np.float64)), w), 2e-3)
  close(gx, fd_grad(lambda t: f_np(w, t), x0), 2e-3)
  gj = jax.jit(jax.grad(f, argnums=(0, 1)))(w, x0)
  close(gj[0], gw)
  close(gj[1], gx)


def test_while_grad_traced_path_with_checkpoints():
  # under jit the trip count is unknown while staging: the transpose replays the loop
  expect = jax.jit(jax.grad(newton_sqrt))(50.0)
  old = while_grad.CHECKPOINT_EVERY
  try:
    for k in (1, 2, 3, 100):
      while_grad.CHECKPOINT_EVERY = k
      close(jax.jit(jax.grad(lambda a: newton_sqrt(a) * 2.0))(50.0), 2 * expect)
  finally:
    while_grad.CHECKPOINT_EVERY = old
  assert "while_lin_transpose" in str(jax.make_jaxpr(jax.grad(newton_sqrt))(2.0))


def test_while_forward_mode_is_one_loop():
  text = str(jax.make_jaxpr(lambda a: jax.jvp(newton_sqrt, (a,), (1.0,)))(2.0))
  assert text.count("while[") == 1


def test_while_grad_zero_trips_and_int_only_loops():
  f = lambda x: lax.while_loop(lambda c: c > 10.0, lambda c: c * 2.0, x)
  close(jax.grad(f)(3.0), 1.0)
  close(jax.jit(jax.grad(f))(3.0), 1.0)
  g = lambda x: x * lax.while_loop(lambda i: i < 5, lambda i: i + 1, 0)
  close(jax.grad(g)(2.0), 5.0)


def test_grad_of_scan_in_while_and_while_in_scan():
  def f(x):
    def body(c):
      y, _ = lax.scan(lambda s, t: (s * 0.9 + t * c, s), c, jnp.arange(3.0))
      return y
    return lax.while_loop(lambda c: c < 10.0, body, x)

  def f_np(x):
    while x < 10.0:
      s = x
      for t in range(3):
        s = s * 0.9 + t * x
      x = s
    return x
  close(jax.grad(f)(1.1), fd_grad(f_np, 1.1), 2e-3)
  close(jax.jit(jax.grad(f))(1.1), fd_grad(f_np, 1.1), 2e-3)

  def g(x):
    return lax.scan(lambda c, t: (newton_sqrt(c + t), c), x, jnp.arange(3.0))[0]

  def g_np(x):
    for t in range(3):
      x = np.sqrt(x + t)
    return x
  close(jax.grad(g)(4.0), fd_grad(g_np, 4.0))
  close(jax.jit(jax.grad(g))(4.0), fd_grad(g_np, 4.0))


def test_jacrev_and_hessian_through_loops():
  def f(x):
    return lax.scan(lambda c, t: (c * jnp.sin(x), c), jnp.ones_like(x), None, length=3)[0] * x
  xs = jnp.array([0.3, 0.9])
  h = jax.hessian(lambda x: jnp.sum(f(x)))(xs)
  def f_np(x):
    return np.sin(x) ** 3 * x
  for i, x in enumerate(np.asarray(xs, np.float64)):
    d2 = (f_np(x + 1e-3) - 2 * f_np(x) + f_np(x - 1e-3)) / 1e-6
    close(h[i, i], d2, 2e-2)
  jr = jax.jacrev(lambda a: jnp.stack([newton_sqrt(a[0]), newton_sqrt(a[1])]))(
      jnp.array([4.0, 9.0]))
  close(jr, np.diag([0.25, 1 / 6.0]))
  jr_jit = jax.jit(jax.jacrev(lambda a: jnp.stack([newton_sqrt(a[0]), newton_sqrt(a[1])])))(
      jnp.array([4.0, 9.0]))
  close(jr_jit, np.diag([0.25, 1 / 6.0]))


def test_while_higher_order_under_jit():
  # forward-over-reverse through the traced-trip-count path (the reverse sweep's jvp is a
  # reverse sweep over the jvp'd loop)
  for a in (2.0, 9.0):
    close(jax.jit(jax.hessian(newton_sqrt))(a), -0.25 * a ** -1.5)
    close(jax.jit(jax.jacfwd(jax.jacfwd(jax.jacrev(newton_sqrt))))(a), 3 / 8 * a ** -2.5)
  h = jax.jit(jax.hessian(_fixed_point, argnums=(0, 1)))(0.7, 0.3)
  h_eager = jax.hessian(_fixed_point, argnums=(0, 1))(0.7, 0.3)
  for i in range(2):
    for j in range(2):
      close(h[i][j], h_eager[i][j], 1e-3)
  close(jax.vmap(jax.jit(jax.hessian(newton_sqrt)))(jnp.array([2.0, 9.0])),
        -0.25 * np.array([2.0, 9.0]) ** -1.5)
  # reverse-over-reverse needs the trip count: eagerly it is known
  close(jax.grad(jax.grad(newton_sqrt))(4.0), -0.25 * 4.0 ** -1.5)


def test_check_grads_map_fori_associative_scan_while():
  x = jnp.array([0.5, 1.2, -0.3, 2.0, 0.7])
  check_grads(lambda x: jnp.sum(lax.associative_scan(jnp.multiply, x) ** 2), (x,), order=2)
  check_grads(lambda x: lax.map(lambda r: jnp.sin(r) * r, x), (x,), order=2)
  check_grads(lambda x: lax.fori_loop(0, 3, lambda i, c: jnp.sin(c) * x, x), (x,), order=2)

  def wl(x):
    return lax.while_loop(lambda c: c[1] < 3, lambda c: (jnp.sin(c[0]) * x, c[1] + 1), (x, 0))[0]
  check_grads(wl, (x,), order=2)
  check_grads(jax.jit(wl), (x,), order=1)


def test_reverse_over_reverse_with_traced_trip_count():
  # grad of grad under jit: the reverse sweep's derivative splits into a sweep linear in
  # the cotangent and `while_sweep_tangent`, transposed through the forward tangent loop
  for a in (2.0, 9.0):
    close(jax.jit(jax.grad(jax.grad(newton_sqrt)))(a), -0.25 * a ** -1.5)
  a = jnp.array([2.0, 9.0, 16.0])
  close(jax.jit(jax.vmap(jax.grad(jax.grad(newton_sqrt))))(a),
        -0.25 * np.asarray(a) ** -1.5, 1e-3)
  h = jax.jit(jax.jacrev(jax.grad(_fixed_point, argnums=(0, 1)), argnums=(0, 1)))(0.7, 0.3)
  h_eager = jax.hessian(_fixed_point, argnums=(0, 1))(0.7, 0.3)
  for i in range(2):
    for j in range(2):
      close(h[i][j], h_eager[i][j], 1e-3)

  def wl(x):
    return lax.while_loop(lambda c: c[1] < 3, lambda c: (jnp.sin(c[0]) * x, c[1] + 1), (x, 0))[0]
  check_grads(jax.jit(wl), (jnp.array([0.5, 1.2, -0.3]),), order=2)
  close(jax.jit(jax.grad(jax.grad(jax.grad(newton_sqrt))))(9.0), 3 / 8 * 9.0 ** -2.5)
