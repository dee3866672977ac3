"""custom_jvp, custom_vjp, custom_gradient, closure_convert and checkpoint: JAX's documented
examples, compositions with jit/vmap/grad, staging, and the errors."""
import functools

import numpy as np
import pytest

import numjax
import numjax.numpy as jnp
from numjax import lax
from numjax.test_util import check_grads


def close(a, b, tol=1e-6):
  np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=tol,
                             atol=tol)


def sigmoid(x):
  return 1 / (1 + np.exp(-np.asarray(x, np.float64)))


# ---------------------------------------------------------------------------------------
# custom_jvp: the stable log1pexp of JAX's documentation

@numjax.custom_jvp
def log1pexp(x):
  return jnp.log(1.0 + jnp.exp(x))


@log1pexp.defjvp
def log1pexp_jvp(primals, tangents):
  x, = primals
  x_dot, = tangents
  ans = log1pexp(x)
  ans_dot = (1 - 1 / (1 + jnp.exp(x))) * x_dot
  return ans, ans_dot


def naive_log1pexp(x):
  return jnp.log(1.0 + jnp.exp(x))


def test_log1pexp_is_stable_where_the_naive_gradient_is_nan():
  assert np.isnan(float(numjax.grad(naive_log1pexp)(100.0)))
  close(numjax.grad(log1pexp)(100.0), 1.0)
  close(numjax.jit(numjax.grad(log1pexp))(3.0), sigmoid(3.0))
  close(numjax.vmap(numjax.jit(numjax.grad(log1pexp)))(jnp.arange(3.0)),
        sigmoid(np.arange(3.0)))
  close(log1pexp(3.0), np.log1p(np.exp(3.0)))


def test_custom_jvp_higher_order_and_forward():
  d2 = numjax.grad(numjax.grad(log1pexp))(1.0)
  close(d2, sigmoid(1.0) * (1 - sigmoid(1.0)))
  out, t = numjax.jvp(log1pexp, (2.0,), (3.0,))
  close(out, np.log1p(np.exp(2.0)))
  close(t, 3 * sigmoid(2.0))
  check_grads(log1pexp, (jnp.array([0.5, -1.0]),), order=2)


def test_defjvps_form():
  f = numjax.custom_jvp(lambda x, y: x * y)
  f.defjvps(lambda x_dot, ans, x, y: 10.0 * x_dot, lambda y_dot, ans, x, y: 100.0 * y_dot)
  gx, gy = numjax.grad(f, argnums=(0, 1))(2.0, 3.0)
  close(gx, 10.0)
  close(gy, 100.0)
  g = numjax.custom_jvp(lambda x: jnp.sin(x))
  g.defjvps(lambda t, ans, x: jnp.cos(x) * t)
  close(numjax.vmap(numjax.grad(g))(jnp.array([0.0, 1.0])), np.cos([0.0, 1.0]))


def test_custom_jvp_under_vmap_and_jit_uses_the_rule():
  f = numjax.custom_jvp(lambda x: jnp.sin(x))
  f.defjvp(lambda p, t: (jnp.sin(p[0]), 2.0 * t[0]))  # deliberately not cos
  xs = jnp.arange(3.0)
  close(numjax.vmap(numjax.grad(f))(xs), [2.0] * 3)
  close(numjax.grad(lambda x: jnp.sum(numjax.vmap(f)(x)))(xs), [2.0] * 3)
  close(numjax.grad(numjax.jit(f))(1.0), 2.0)
  close(numjax.jit(numjax.grad(f))(1.0), 2.0)
  close(numjax.jacfwd(lambda x: numjax.vmap(f)(x))(xs), 2 * np.eye(3))
  close(numjax.vmap(f)(xs), np.sin(np.arange(3.0)))


def test_custom_jvp_staged_into_jaxprs():
  text = str(numjax.make_jaxpr(log1pexp)(1.0))
  assert "custom_jvp_call[" in text and "jvp=log1pexp_jvp" in text
  assert "call_jaxpr={ lambda ; " in text
  text = str(numjax.make_jaxpr(numjax.vmap(log1pexp))(jnp.ones(3)))
  assert "custom_jvp_call[" in text and "f32[3]" in text


def test_custom_jvp_nondiff_argnums():
  @functools.partial(numjax.custom_jvp, nondiff_argnums=(0,))
  def app(f, x):
    return f(x)

  @app.defjvp
  def app_jvp(f, primals, tangents):
    x, = primals
    t, = tangents
    return app(f, x), 2.0 * t

  close(numjax.grad(app, 1)(jnp.sin, 1.0), 2.0)
  close(app(jnp.sin, 1.0), np.sin(1.0))
  close(numjax.vmap(numjax.grad(app, 1), in_axes=(None, 0))(jnp.sin, jnp.ones(2)), [2.0, 2.0])


def test_custom_jvp_pytrees_and_closures_under_vmap():
  @numjax.custom_jvp
  def f(d):
    return {"s": d["a"] * d["b"]}

  @f.defjvp
  def f_jvp(primals, tangents):
    (d,), (t,) = primals, tangents
    return f(d), {"s": t["a"] * d["b"] + d["a"] * t["b"]}
  g = numjax.grad(lambda a, b: f({"a": a, "b": b})["s"], argnums=(0, 1))(2.0, 3.0)
  close(g[0], 3.0)
  close(g[1], 2.0)

  def outer(c, x):  # the custom function closes over a batched value
    h = numjax.custom_jvp(lambda x: c * jnp.sin(x))
    h.defjvp(lambda p, t: (h(p[0]), c * jnp.cos(p[0]) * t[0]))
    return numjax.grad(h)(x)
  close(numjax.vmap(outer)(jnp.arange(3.0), jnp.ones(3)), np.arange(3.0) * np.cos(1.0))


def test_custom_jvp_symbolic_zeros():
  seen = []
  f = numjax.custom_jvp(lambda x, y: x * y)

  def rule(primals, tangents):
    seen.append(tuple(type(t).__name__ for t in tangents))
    x, y = primals
    tx, ty = tangents
    out = 0.0
    if not isinstance(tx, numjax.custom_derivatives.SymbolicZero):
      out = out + tx * y
    if not isinstance(ty, numjax.custom_derivatives.SymbolicZero):
      out = out + x * ty
    return x * y, out
  f.defjvp(rule, symbolic_zeros=True)
  close(numjax.grad(f)(2.0, 3.0), 3.0)
  assert seen[-1][1] == "SymbolicZero"


def test_custom_jvp_errors():
  bad = numjax.custom_jvp(lambda x: x)
  bad.defjvp(lambda p, t: (p[0], (t[0], t[0])))
  with pytest.raises(TypeError, match="must produce primal and tangent outputs with equal "
                     "container"):
    numjax.jvp(bad, (1.0,), (1.0,))
  bad2 = numjax.custom_jvp(lambda x: x)
  bad2.defjvp(lambda p, t: (p[0], jnp.ones(2)))
  with pytest.raises(TypeError, match="corresponding shapes and dtypes"):
    numjax.jvp(bad2, (1.0,), (1.0,))
  nojvp = numjax.custom_jvp(lambda x: x)
  with pytest.raises(AttributeError, match="No JVP defined for custom_jvp function"):
    nojvp(1.0)


# ---------------------------------------------------------------------------------------
# custom_vjp: gradient clipping from JAX's documentation

@numjax.custom_vjp
def clip_gradient(lo, hi, x):
  return x


def clip_gradient_fwd(lo, hi, x):
  return x, (lo, hi)


def clip_gradient_bwd(res, g):
  lo, hi = res
  return (None, None, jnp.clip(g, lo, hi))


clip_gradient.defvjp(clip_gradient_fwd, clip_gradient_bwd)


def clip_sin(x):
  x = clip_gradient(-0.75, 0.75, x)
  return jnp.sin(x)


def test_clip_gradient_example():
  t = jnp.linspace(0, 10, 101)
  close(numjax.vmap(numjax.grad(clip_sin))(t), np.clip(np.cos(np.asarray(t)), -0.75, 0.75),
        1e-6)
  close(numjax.jit(numjax.vmap(numjax.grad(clip_sin)))(t),
        np.clip(np.cos(np.asarray(t)), -0.75, 0.75), 1e-6)
  close(numjax.grad(lambda x: jnp.sum(numjax.vmap(clip_sin)(x)))(t),
        np.clip(np.cos(np.asarray(t)), -0.75, 0.75), 1e-6)
  close(clip_sin(2.0), np.sin(2.0))


def test_custom_vjp_compositions():
  f = lambda x: clip_gradient(-0.75, 0.75, x * 3.0)
  close(numjax.grad(f)(1.0), 2.25)
  close(numjax.jit(numjax.grad(f))(1.0), 2.25)
  close(numjax.grad(numjax.jit(f))(1.0), 2.25)
  close(numjax.vmap(numjax.grad(f))(jnp.ones(3)), [2.25] * 3)
  # an unbatched argument's per-example cotangents are summed
  g = numjax.grad(lambda s: jnp.sum(numjax.vmap(lambda y: clip_gradient(-0.75, 0.75, y * s))(
      jnp.arange(3.0))))(1.0)
  close(g, 0.75 * 3)
  with pytest.raises(TypeError, match="can't apply forward-mode autodiff \\(jvp\\) to a "
                     "custom_vjp function"):
    numjax.jvp(f, (1.0,), (1.0,))
  text = str(numjax.make_jaxpr(clip_gradient)(-0.5, 0.5, 1.0))
  assert "custom_vjp_call[" in text and "bwd=clip_gradient_bwd" in text


def test_custom_vjp_higher_order_and_nondiff_argnums():
  @numjax.custom_vjp
  def f(x):
    return jnp.sin(x)
  f.defvjp(lambda x: (jnp.sin(x), jnp.cos(x)), lambda c, g: (c * g,))
  close(numjax.grad(numjax.grad(f))(0.5), -np.sin(0.5))
  check_grads(f, (jnp.array([0.3, 0.9]),), order=2, modes=("rev",))

  @functools.partial(numjax.custom_vjp, nondiff_argnums=(0,))
  def scale(k, x):
    return k * x
  scale.defvjp(lambda k, x: (k * x, None), lambda k, res, g: (k * g * 10.0,))
  close(numjax.grad(scale, 1)(2.0, 1.0), 20.0)


def test_custom_vjp_pytree_args_and_symbolic_zeros():
  @numjax.custom_vjp
  def f(d, y):
    return d["a"] * y + d["b"]

  def fwd(d, y):
    return f(d, y), (d, y)

  def bwd(res, g):
    d, y = res
    return {"a": g * y, "b": g}, None
  f.defvjp(fwd, bwd)
  gd, gy = numjax.grad(f, argnums=(0, 1))({"a": 2.0, "b": 1.0}, 3.0)
  close(gd["a"], 3.0)
  close(gd["b"], 1.0)
  close(gy, 0.0)

  seen = []
  h = numjax.custom_vjp(lambda x, y: x * y)

  def hfwd(x, y):
    seen.append((x.perturbed, y.perturbed))
    return x.value * y.value, (x.value, y.value)
  h.defvjp(hfwd, lambda r, g: (g * r[1], g * r[0]), symbolic_zeros=True)
  close(numjax.grad(h)(2.0, 3.0), 3.0)
  assert seen[-1] == (True, False)


def test_custom_vjp_errors():
  cv = numjax.custom_vjp(lambda x: x)
  cv.defvjp(lambda x: (x, None), lambda r, g: g)
  with pytest.raises(TypeError, match="Custom VJP bwd rule must produce an output with the "
                     "same container"):
    numjax.grad(cv)(1.0)
  cv3 = numjax.custom_vjp(lambda x: x)
  cv3.defvjp(lambda x: (x, None), lambda r, g: (jnp.ones(3),))
  with pytest.raises(ValueError, match="output of type float32\\[3\\] corresponding to an "
                     "input of type float32\\[\\]"):
    numjax.grad(cv3)(1.0)
  nov = numjax.custom_vjp(lambda x: x)
  with pytest.raises(AttributeError, match="No VJP defined for custom_vjp function"):
    nov(1.0)


def test_custom_gradient():
  @numjax.custom_gradient
  def f(x):
    return x ** 2, lambda g: (g * 10.0,)
  close(f(3.0), 9.0)
  close(numjax.grad(f)(3.0), 10.0)


def test_closure_convert():
  def outer(c, x):
    fun = lambda x: c * jnp.sin(x)
    converted, hoisted = numjax.closure_convert(fun, x)
    assert len(hoisted) == 1
    return converted(x, *hoisted)
  close(numjax.grad(outer, argnums=(0, 1))(2.0, 0.5), (np.sin(0.5), 2 * np.cos(0.5)))
  converted, hoisted = numjax.closure_convert(lambda x: x * jnp.ones(3), 1.0)
  assert hoisted == []
  close(converted(2.0), [2.0] * 3)


# ---------------------------------------------------------------------------------------
# checkpoint / remat

def test_checkpoint_values_and_jaxprs():
  f = lambda x: jnp.sin(jnp.sin(x))
  g = numjax.checkpoint(f)
  close(g(1.0), np.sin(np.sin(1.0)))
  close(numjax.grad(g)(1.0), np.cos(np.sin(1.0)) * np.cos(1.0))
  close(numjax.grad(numjax.grad(g))(1.0), numjax.grad(numjax.grad(f))(1.0))
  close(numjax.vmap(numjax.grad(g))(jnp.arange(3.0)),
        np.cos(np.sin(np.arange(3.0))) * np.cos(np.arange(3.0)), 1e-6)
  close(numjax.jit(numjax.grad(g))(1.0), np.cos(np.sin(1.0)) * np.cos(1.0))
  text = str(numjax.make_jaxpr(g)(1.0))
  assert "remat2[" in text and "differentiated=False" in text and "prevent_cse=True" in text
  text = str(numjax.make_jaxpr(numjax.grad(g))(1.0))
  assert "differentiated=True" in text
  assert numjax.remat is numjax.checkpoint


def test_checkpoint_residuals_are_only_the_inputs():
  # linearize of a checkpointed function keeps no intermediate: the tangent program is one
  # remat2 equation reading the original input.
  f = numjax.checkpoint(lambda x: jnp.sin(jnp.cos(jnp.tanh(x))))
  x = jnp.arange(4.0)
  _, f_jvp = numjax.linearize(f, x)
  jaxpr = numjax.make_jaxpr(f_jvp)(x)
  eqns = jaxpr.jaxpr.eqns
  assert [e.primitive.name for e in eqns] == ["remat2"]


def test_checkpoint_mlp_gradient_equals_plain_gradient_and_policies():
  rng = np.random.default_rng(0)
  W = (rng.standard_normal((4, 4)) * 0.5).astype(np.float32)
  x = np.ones((2, 4), np.float32)

  def net(W, x, wrap):
    for _ in range(3):
      x = wrap(lambda W, x: jnp.tanh(x @ W))(W, x)
    return jnp.sum(x)
  plain = numjax.grad(net)(W, x, lambda f: f)
  for wrap in (numjax.checkpoint,
               functools.partial(numjax.checkpoint,
                                 policy=numjax.checkpoint_policies.everything_saveable),
               functools.partial(numjax.checkpoint,
                                 policy=numjax.checkpoint_policies.dots_saveable)):
    close(numjax.grad(net)(W, x, wrap), plain, 1e-5)
  check_grads(lambda W: net(W, x, numjax.checkpoint), (W,), order=2, modes=("rev",),
              atol=5e-2, rtol=5e-2)


def test_checkpoint_name_and_static_argnums():
  from numjax.ad_checkpoint import checkpoint_name
  f = numjax.checkpoint(lambda x, n: checkpoint_name(jnp.sin(x), "s") * n,
                        static_argnums=(1,))
  close(numjax.grad(f)(0.5, 3), 3 * np.cos(0.5))
