"""vmap of lax control flow: results equal stacking the unbatched computation over the batch,
for batched predicates/indices/trip counts/carries/consts and every batch-axis position."""
import numpy as np
import pytest

import numjax as jax
import numjax.numpy as jnp
from numjax import lax


def close(a, b, tol=1e-5):
  np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def stack_over(f, *args, in_axes=0):
  """The reference: f on each slice, stacked (args unbatched where in_axes is None)."""
  axes = in_axes if isinstance(in_axes, (tuple, list)) else (in_axes,) * len(args)
  n = next(np.shape(a)[ax] for a, ax in zip(args, axes) if ax is not None)
  outs = []
  for i in range(n):
    sl = [a if ax is None else np.take(np.asarray(a), i, axis=ax) for a, ax in zip(args, axes)]
    outs.append(f(*sl))
  return jax.tree.map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *outs)


# ---------------------------------------------------------------------------------------
# cond / switch

def test_seed_000_cond_under_vmap_becomes_select_n():
  def f(p, x):
    return lax.cond(p, lambda x: x + 1.0, lambda x: x * 2.0, x)
  ps, xs = jnp.array([True, False, True]), jnp.array([1.0, 2.0, 3.0])
  text = str(jax.make_jaxpr(jax.vmap(f))(ps, xs))
  assert "select_n" in text and "cond[" not in text
  close(jax.vmap(f)(ps, xs), [2.0, 4.0, 4.0])
  close(jax.jit(jax.vmap(f))(ps, xs), [2.0, 4.0, 4.0])


def test_cond_unbatched_predicate_keeps_cond():
  def f(p, x, y):
    return lax.cond(p, lambda a, b: a * b, lambda a, b: a - b, x, y)
  xs = jnp.arange(4.0)
  text = str(jax.make_jaxpr(jax.vmap(f, in_axes=(None, 0, None)))(True, xs, 2.0))
  assert "cond[" in text
  close(jax.vmap(f, in_axes=(None, 0, None))(True, xs, 2.0), np.arange(4.0) * 2)
  close(jax.vmap(f, in_axes=(None, 0, None))(False, xs, 2.0), np.arange(4.0) - 2)
  # operands batched on different axes
  m = jnp.arange(6.0).reshape(2, 3)
  out = jax.vmap(f, in_axes=(None, 1, 0))(True, m, jnp.array([1.0, 2.0, 3.0]))
  close(out, stack_over(lambda a, b: a * b, m, np.array([1.0, 2.0, 3.0]), in_axes=(1, 0)))


def test_cond_batched_predicate_pytrees_and_grad():
  def f(x):
    return lax.cond(x > 0, lambda v: {"a": jnp.log(v), "b": v}, lambda v: {"a": -v, "b": v * v},
                    x)
  xs = jnp.array([2.0, -1.0, 0.5])
  out = jax.vmap(f)(xs)
  close(out["a"], [np.log(2.0), 1.0, np.log(0.5)])
  # the untaken log branch must not poison the gradient (inputs are stop_gradient'ed there)
  g = jax.vmap(jax.grad(lambda x: f(x)["a"]))(xs)
  close(g, [0.5, -1.0, 2.0])
  g2 = jax.grad(lambda xs: jnp.sum(jax.vmap(f)(xs)["a"]))(xs)
  close(g2, [0.5, -1.0, 2.0])


def test_switch_batched_index():
  branches = [lambda x: x + 1.0, lambda x: x * 10.0, jnp.sin]
  idx = jnp.array([0, 2, 1, 5, -1])
  xs = jnp.arange(5.0)
  out = jax.vmap(lambda i, x: lax.switch(i, branches, x))(idx, xs)
  ref = [branches[min(max(int(i), 0), 2)](float(x)) for i, x in zip(idx, xs)]
  close(out, ref)
  out_j = jax.jit(jax.vmap(lambda i, x: lax.switch(i, branches, x)))(idx, xs)
  close(out_j, ref)
  # index batched, operand not
  out2 = jax.vmap(lambda i: lax.switch(i, branches, 2.0))(idx)
  close(out2, [branches[min(max(int(i), 0), 2)](2.0) for i in idx])


# ---------------------------------------------------------------------------------------
# while_loop

def _newton(a):
  return lax.while_loop(lambda x: jnp.abs(x * x - a) > 1e-6 * a,
                        lambda x: 0.5 * (x + a / x), a)


def test_vmap_while_different_trip_counts_per_lane():
  def count(n):
    return lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, c[1] * 2.0), (0, 1.0))
  ns = jnp.array([0, 3, 1, 5])
  i, v = jax.vmap(count)(ns)
  close(i, [0, 3, 1, 5])
  close(v, [1.0, 8.0, 2.0, 32.0])
  text = str(jax.make_jaxpr(jax.vmap(count))(ns))
  assert "bool[4]" in text  # the batched predicate: the loop runs until every lane is done
  a = jnp.array([2.0, 9.0, 1e4, 0.25])
  close(jax.vmap(_newton)(a), np.sqrt(np.asarray(a)))
  close(jax.jit(jax.vmap(_newton))(a), np.sqrt(np.asarray(a)))


def test_vmap_while_unbatched_predicate_batched_carry():
  def f(x):
    return lax.while_loop(lambda c: c[0] < 4, lambda c: (c[0] + 1, c[1] * 1.5 + 1.0), (0, x))[1]
  xs = jnp.arange(3.0)
  text = str(jax.make_jaxpr(jax.vmap(f))(xs))
  assert "bool[3]" not in text
  close(jax.vmap(f)(xs), stack_over(lambda x: f(x), xs))
  # batched const only
  g = lambda w: lax.while_loop(lambda c: c < 50.0, lambda c: c * w, 1.0)
  ws = jnp.array([2.0, 3.0, 7.0])
  close(jax.vmap(g)(ws), [64.0, 81.0, 343.0])


def test_nested_vmap_of_while():
  def f(a, b):
    return lax.while_loop(lambda c: c[1] < a + b, lambda c: (c[0] * 2.0, c[1] + 1), (1.0, 0))[0]
  a = jnp.array([0, 1, 2])
  b = jnp.array([0, 3])
  out = jax.vmap(jax.vmap(f, in_axes=(None, 0)), in_axes=(0, None))(a, b)
  close(out, 2.0 ** (np.asarray(a)[:, None] + np.asarray(b)[None, :]))
  out2 = jax.vmap(jax.vmap(f, in_axes=(0, None)), in_axes=(None, 0))(a, b)
  close(out2, (2.0 ** (np.asarray(a)[:, None] + np.asarray(b)[None, :])).T)


def test_vmap_of_grad_of_while_and_grad_of_vmap():
  a = jnp.array([2.0, 9.0, 100.0, 1e4])
  expect = 0.5 / np.sqrt(np.asarray(a))
  close(jax.vmap(jax.grad(_newton))(a), expect, 1e-4)
  close(jax.jit(jax.vmap(jax.grad(_newton)))(a), expect, 1e-4)
  close(jax.grad(lambda a: jnp.sum(jax.vmap(_newton)(a)))(a), expect, 1e-4)
  close(jax.jit(jax.grad(lambda a: jnp.sum(jax.vmap(_newton)(a))))(a), expect, 1e-4)
  # jvp of the batched loop (forward mode)
  _, t = jax.jvp(jax.vmap(_newton), (a,), (jnp.ones(4),))
  close(t, expect, 1e-4)


# ---------------------------------------------------------------------------------------
# scan / fori_loop / map

@pytest.mark.parametrize("xs_axis", [0, 1, 2])
def test_vmap_scan_every_axis(xs_axis):
  rng = np.random.default_rng(0)
  xs = rng.normal(size=(4, 5, 3)).astype(np.float32)  # batch axis moved below
  xs = np.moveaxis(xs, 0, xs_axis)
  w = rng.normal(size=(3, 3)).astype(np.float32) * 0.5

  def f(x):
    return lax.scan(lambda h, xt: (jnp.tanh(h @ w + xt), jnp.sum(h)), jnp.zeros(3), x)
  out = jax.vmap(f, in_axes=xs_axis)(xs)
  ref = stack_over(f, xs, in_axes=xs_axis)
  close(out[0], ref[0])
  close(out[1], ref[1])


def test_vmap_scan_batched_init_or_consts_only():
  xs = jnp.arange(6.0)
  f = lambda c, w: lax.scan(lambda h, x: (h * w + x, h), c, xs)
  cs, ws = jnp.array([0.0, 1.0, 2.0]), jnp.array([0.5, 1.0, 2.0])
  for in_axes, args in [((0, None), (cs, 1.5)), ((None, 0), (1.0, ws)), ((0, 0), (cs, ws))]:
    out = jax.vmap(f, in_axes=in_axes)(*args)
    ref = stack_over(f, *args, in_axes=in_axes)
    close(out[0], ref[0])
    close(out[1], ref[1])
  # a carry that only becomes batched through the body (fixed point)
  g = lambda w: lax.scan(lambda c, x: ((c[0] + 1.0, c[1] * w + c[0]), c[1]), (0.0, 1.0), xs)
  out = jax.vmap(g)(ws)
  ref = stack_over(g, ws)
  close(out[0][1], ref[0][1])
  close(out[1], ref[1])


def test_vmap_fori_loop_and_map():
  f = lambda x: lax.fori_loop(0, 4, lambda i, c: c * x + i, 1.0)
  xs = jnp.array([0.5, 1.0, 2.0])
  close(jax.vmap(f)(xs), stack_over(f, xs))
  h = lambda x, n: lax.fori_loop(0, n, lambda i, c: c * x + i, 1.0)
  ns = jnp.array([1, 3, 0])
  close(jax.vmap(h)(xs, ns), stack_over(h, xs, ns))
  m = lambda x: lax.map(lambda r: jnp.sum(r * r), x)
  xm = jnp.arange(24.0).reshape(2, 3, 4)
  close(jax.vmap(m)(xm), stack_over(m, xm))


def test_vmap_grad_of_scan():
  def loss(w, xs):
    h, _ = lax.scan(lambda h, x: (jnp.tanh(h * w + x), None), 0.0, xs)
    return h
  xs = jnp.linspace(-1.0, 1.0, 5)
  ws = jnp.array([0.3, 0.9, 1.4])
  close(jax.vmap(jax.grad(loss), in_axes=(0, None))(ws, xs),
        stack_over(lambda w: jax.grad(loss)(w, xs), ws))
  per_example = jax.vmap(jax.grad(loss, argnums=1), in_axes=(None, 0))(0.7, jnp.stack([xs, -xs]))
  close(per_example, stack_over(lambda x: jax.grad(loss, argnums=1)(0.7, x),
                                np.stack([np.asarray(xs), -np.asarray(xs)])))


def test_vmap_associative_scan():
  x = jnp.arange(12.0).reshape(3, 4)
  close(jax.vmap(lambda r: lax.associative_scan(jnp.add, r))(x), np.cumsum(np.asarray(x), 1))
