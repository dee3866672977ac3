"""Differentiation API: jvp, linearize, vjp, grad, value_and_grad, jacobians, hessian,
linear_transpose, check_grads — values against NumPy, analytic derivatives and finite
differences; JAX's errors; compositions with jit and vmap."""
import functools

import numpy as np
import pytest

import numjax
import numjax.experimental
import numjax.numpy as jnp
from numjax import lax
from numjax.test_util import check_grads, check_jvp, check_vjp

float0 = numjax.dtypes.float0


def fd_grad(f, x, eps=1e-6):
  """Central finite differences of a float64 NumPy function (an independent reference)."""
  x = np.asarray(x, np.float64)
  g = np.zeros_like(x)
  for i in np.ndindex(*x.shape):
    e = np.zeros_like(x)
    e[i] = eps
    g[i] = (f(x + e) - f(x - e)) / (2 * eps)
  return g


def close(a, b, tol=1e-5):
  a, b = np.asarray(a), np.asarray(b)
  dt = np.complex128 if a.dtype.kind == "c" or b.dtype.kind == "c" else np.float64
  np.testing.assert_allclose(a.astype(dt), b.astype(dt), rtol=tol, atol=tol)


# ---------------------------------------------------------------------------------------
# Seeds

def test_seed001_jacfwd_of_jacrev_is_the_hessian():
  f = lambda x: jnp.sum(x ** 3)
  h = numjax.jacfwd(numjax.jacrev(f))(jnp.array([1.0, 2.0]))
  close(h, np.diag(6 * np.array([1.0, 2.0])))
  assert h.shape == (2, 2) and h.dtype == np.float32
  close(numjax.hessian(f)(jnp.array([1.0, 2.0])), np.diag([6.0, 12.0]))
  close(numjax.jacrev(numjax.jacfwd(f))(jnp.array([1.0, 2.0])), np.diag([6.0, 12.0]))


def _seed002(x):
  return jnp.exp(-x ** 2) * jnp.cos(jnp.exp(x ** 2))


def _seed002_np(x):
  return np.exp(-x ** 2) * np.cos(np.exp(x ** 2))


def test_seed002_gradient_matches_finite_differences():
  for x0 in (-1.3, -0.2, 0.0, 0.7, 1.1):
    g = numjax.grad(_seed002)(x0)
    close(g, fd_grad(_seed002_np, np.array(x0)), 1e-4)


def test_seed002_vmap_grad_is_per_element_grad():
  xs = jnp.linspace(-2, 2, 101)
  gs = numjax.vmap(numjax.grad(_seed002))(xs)
  assert gs.shape == (101,)
  expected = np.array([float(numjax.grad(_seed002)(x)) for x in np.asarray(xs)])
  close(gs, expected, 1e-6)
  close(gs, [fd_grad(_seed002_np, np.array(x, np.float64)) for x in np.asarray(xs)], 2e-3)


def test_seed003_nested_tuple_parameters():
  def f(params, x):
    (a, b), (c, (d,)) = params
    return jnp.sum(jnp.tanh(a * x + b) * c + d)
  params = ((jnp.array([0.5, -1.0]), 0.3), (jnp.array([2.0, 1.0]), (0.1,)))
  x = jnp.array([1.0, 2.0])
  g = numjax.grad(f)(params, x)
  assert numjax.tree_util.tree_structure(g) == numjax.tree_util.tree_structure(params)
  a, b, c = np.array([0.5, -1.0]), 0.3, np.array([2.0, 1.0])
  t = np.tanh(a * np.array([1.0, 2.0]) + b)
  close(g[0][0], (1 - t ** 2) * c * np.array([1.0, 2.0]))
  close(g[0][1], np.sum((1 - t ** 2) * c))
  close(g[1][0], t)
  close(g[1][1][0], 2.0)


def _mlp_np(flat, shapes, x, y):
  params, i = [], 0
  for m, n in shapes:
    w = flat[i:i + m * n].reshape(m, n)
    i += m * n
    b = flat[i:i + n]
    i += n
    params.append((w, b))
  h = x
  for k, (w, b) in enumerate(params):
    h = h @ w + b
    if k < len(params) - 1:
      h = np.tanh(h)
  return np.mean((h - y) ** 2)


def test_mlp_loss_over_list_of_layers_matches_finite_differences():
  rng = np.random.default_rng(0)
  shapes = [(3, 4), (4, 4), (4, 2)]
  params = [(rng.standard_normal(s) * 0.5, rng.standard_normal(s[1]) * 0.1) for s in shapes]
  x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))

  def loss(params, x, y):
    h = x
    for k, (w, b) in enumerate(params):
      h = jnp.dot(h, w) + b
      if k < len(params) - 1:
        h = jnp.tanh(h)
    return jnp.mean((h - y) ** 2)

  with numjax.experimental.enable_x64():
    g = numjax.grad(loss)([(jnp.asarray(w), jnp.asarray(b)) for w, b in params], x, y)
    flat = np.concatenate([np.concatenate([w.ravel(), b]) for w, b in params])
    expected = fd_grad(lambda v: _mlp_np(v, shapes, x, y), flat)
    got = np.concatenate([np.concatenate([np.asarray(w).ravel(), np.asarray(b)])
                          for w, b in g])
    close(got, expected, 1e-7)
  assert isinstance(g, list) and len(g) == 3 and all(isinstance(l, tuple) for l in g)
  # and in float32, through check_grads (forward and reverse, second order)
  p32 = [(jnp.asarray(w, jnp.float32), jnp.asarray(b, jnp.float32)) for w, b in params]
  check_grads(lambda p: loss(p, x.astype(np.float32), y.astype(np.float32)), (p32,),
              order=2, atol=5e-2, rtol=5e-2)


# ---------------------------------------------------------------------------------------
# jvp / linearize

def test_jvp_values_and_pytrees():
  f = lambda d: {"s": jnp.sin(d["x"]) * d["y"], "t": d["x"] ** 2}
  primals = ({"x": jnp.array([0.5, 1.0]), "y": jnp.array([2.0, 3.0])},)
  tangents = ({"x": jnp.array([1.0, 0.0]), "y": jnp.array([0.0, 1.0])},)
  out, t = numjax.jvp(f, primals, tangents)
  x, y = np.array([0.5, 1.0]), np.array([2.0, 3.0])
  close(out["s"], np.sin(x) * y)
  close(t["s"], np.cos(x) * y * np.array([1, 0]) + np.sin(x) * np.array([0, 1]))
  close(t["t"], 2 * x * np.array([1, 0]))


def test_jvp_has_aux_and_lists():
  out, t, aux = numjax.jvp(lambda x: (x * 3.0, {"a": x + 1}), [2.0], [1.0], has_aux=True)
  close(out, 6.0)
  close(t, 3.0)
  close(aux["a"], 3.0)
  assert not isinstance(aux["a"], numjax.core.Tracer) if hasattr(numjax, "core") else True


def test_jvp_integer_inputs_take_float0_tangents():
  out, t = numjax.jvp(lambda x, n: (x * n, n * 2), (1.5, 2),
                      (1.0, np.zeros((), float0)))
  close(out[0], 3.0)
  close(t[0], 2.0)
  assert t[1].dtype == float0 and t[1].shape == ()
  with pytest.raises(TypeError, match="the tangent dtype must be float0"):
    numjax.jvp(lambda n: n * 2, (1,), (1.0,))


@pytest.mark.parametrize("primals,tangents,err,msg", [
    (1.0, 1.0, TypeError, "must be tuples or lists; found float and float"),
    ((1.0,), (1.0, 2.0), TypeError, "must have the same tree structure"),
    ((1.0,), (jnp.ones(2),), ValueError, "different primal and tangent shapes"),
    ((1.0,), (1,), TypeError, "expected tangent dtype float32, but got tangent dtype int32"),
    ((1.0,), (np.float16(1),), TypeError, "got tangent dtype float16"),
])
def test_jvp_errors(primals, tangents, err, msg):
  with pytest.raises(err, match=msg):
    numjax.jvp(lambda x: x * 2, primals, tangents)


def test_linearize_matches_jvp_and_replays_only_tangents():
  f = lambda x, y: jnp.sin(x) * jnp.exp(y)
  x, y = jnp.array([0.3, 0.9]), jnp.array([0.1, -0.4])
  out, f_jvp = numjax.linearize(f, x, y)
  close(out, np.sin(np.asarray(x)) * np.exp(np.asarray(y)))
  tx, ty = jnp.array([1.0, -2.0]), jnp.array([0.5, 0.25])
  close(f_jvp(tx, ty), numjax.jvp(f, (x, y), (tx, ty))[1])
  out2, f_jvp2, aux = numjax.linearize(lambda x: (jnp.sin(x), x * 2), 1.0, has_aux=True)
  close(f_jvp2(1.0), np.cos(1.0))
  close(aux, 2.0)


# ---------------------------------------------------------------------------------------
# vjp

def test_vjp_pytrees_and_aux():
  f = lambda a, b: ({"p": a * b, "q": jnp.sum(a)}, a - b)
  a, b = jnp.array([1.0, 2.0]), jnp.array([3.0, 4.0])
  out, pullback, aux = numjax.vjp(f, a, b, has_aux=True)
  close(aux, [-2.0, -2.0])
  ga, gb = pullback({"p": jnp.array([1.0, 10.0]), "q": 2.0})
  close(ga, np.array([3.0, 40.0]) + 2.0)
  close(gb, [1.0, 20.0])


def test_vjp_integer_input_gets_float0_cotangent():
  out, pullback = numjax.vjp(lambda x, n: x * n, 2.0, 3)
  gx, gn = pullback(1.0)
  close(gx, 3.0)
  assert gn.dtype == float0


def test_vjp_errors():
  _, pullback = numjax.vjp(lambda x: x * 2, 1.0)
  with pytest.raises(ValueError, match="got int32\\[\\], but expected float32\\[\\]"):
    pullback(2)
  with pytest.raises(ValueError, match="got float32\\[2\\], but expected float32\\[\\]"):
    pullback(jnp.ones(2))
  with pytest.raises(ValueError, match="unexpected tree structure"):
    pullback((1.0,))


# ---------------------------------------------------------------------------------------
# grad / value_and_grad

def test_grad_argnums_and_kwargs():
  f = lambda x, y, scale=1.0: scale * x * y ** 2
  close(numjax.grad(f)(2.0, 3.0), 9.0)
  gx, gy = numjax.grad(f, argnums=(0, 1))(2.0, 3.0, scale=2.0)
  close(gx, 18.0)
  close(gy, 24.0)
  close(numjax.grad(f, argnums=-1)(2.0, 3.0), 12.0)
  (v, g) = numjax.value_and_grad(f, argnums=1)(2.0, 3.0)
  close(v, 18.0)
  close(g, 12.0)


def test_grad_has_aux():
  g, aux = numjax.grad(lambda x: (x ** 2, {"x": x}), has_aux=True)(3.0)
  close(g, 6.0)
  close(aux["x"], 3.0)
  (v, aux2), g2 = numjax.value_and_grad(lambda x: (x ** 2, 7), has_aux=True)(3.0)
  close(v, 9.0)
  assert aux2 == 7
  with pytest.raises(TypeError, match="two-element tuple"):
    numjax.grad(lambda x: x * 2, has_aux=True)(1.0)


def test_grad_dtypes_and_weak_types():
  g = numjax.grad(lambda x: x * 2)(1.0)
  assert g.dtype == np.float32 and g.weak_type
  g = numjax.grad(lambda x: x * 2)(jnp.float32(1))
  assert g.dtype == np.float32 and not g.weak_type
  g = numjax.grad(lambda x: x * 2)(jnp.float16(1))
  assert g.dtype == np.float16
  close(numjax.grad(lambda x: 2.0)(1.0), 0.0)  # output independent of the input


def test_grad_allow_int_and_holomorphic():
  g = numjax.grad(lambda d: d["a"] * 2, allow_int=True)({"a": 1.0, "b": 2})
  close(g["a"], 2.0)
  assert g["b"].dtype == float0
  gz = numjax.grad(lambda z: z * z, holomorphic=True)(1.0 + 1.0j)
  close(gz, 2.0 + 2.0j)
  assert gz.dtype == np.complex64


@pytest.mark.parametrize("fun,arg,kw,msg", [
    (lambda x: x * 2, jnp.ones(2), {}, r"Gradient only defined for scalar-output functions\. "
     r"Output had shape: \(2,\)\."),
    (lambda x: None, 1.0, {}, "Output was None"),
    (lambda x: x * 2, 1, {}, "grad requires real- or complex-valued inputs \\(input dtype that "
     "is a sub-dtype of np.inexact\\), but got int32. If you want to use Boolean- or "
     "integer-valued inputs, use vjp or set allow_int to True."),
    (lambda x: x * 2, True, {}, "but got bool"),
    (lambda x: (x * 2).astype(jnp.int32), 1.0, {}, "grad requires real-valued outputs .*"
     "but got int32. For differentiation of functions with integer outputs"),
    (lambda x: x * 2, 1 + 2j, {}, "but got complex64. For holomorphic differentiation, pass "
     "holomorphic=True"),
    (lambda x: x * 2, 1.0, {"holomorphic": True},
     "grad with holomorphic=True requires inputs with complex dtype, but got float32"),
])
def test_grad_errors(fun, arg, kw, msg):
  with pytest.raises(TypeError, match=msg):
    numjax.grad(fun, **kw)(arg)


def test_grad_argnums_out_of_range():
  with pytest.raises(TypeError, match="argnums=2 requires at least 3 positional arguments"):
    numjax.grad(lambda x, y: x * y, argnums=2)(1.0, 2.0)


def test_higher_order_grads():
  f = lambda x: jnp.sin(x) * x
  x = 0.7
  d1 = lambda x: np.cos(x) * x + np.sin(x)
  d2 = lambda x: -np.sin(x) * x + 2 * np.cos(x)
  d3 = lambda x: -np.cos(x) * x - 3 * np.sin(x)
  close(numjax.grad(f)(x), d1(x))
  close(numjax.grad(numjax.grad(f))(x), d2(x))
  close(numjax.grad(numjax.grad(numjax.grad(f)))(x), d3(x), 1e-4)
  # forward-over-reverse and reverse-over-forward agree
  fr = numjax.jvp(numjax.grad(f), (x,), (1.0,))[1]
  rf = numjax.grad(lambda x: numjax.jvp(f, (x,), (1.0,))[1])(x)
  close(fr, d2(x))
  close(rf, d2(x))


def test_stop_gradient():
  f = lambda x: x * lax.stop_gradient(x)
  close(numjax.grad(f)(3.0), 3.0)
  close(numjax.grad(lambda x: jnp.sum(numjax.lax.stop_gradient({"a": x})["a"] + x))(
      jnp.ones(2)), [1.0, 1.0])


# ---------------------------------------------------------------------------------------
# Jacobians

def test_jacobians_of_pytrees():
  f = lambda d: {"a": d["x"] ** 2, "b": d["x"][0] * d["y"]}
  inp = {"x": jnp.array([1.0, 2.0, 3.0]), "y": 2.0}
  for jac in (numjax.jacfwd, numjax.jacrev, numjax.jacobian):
    J = jac(f)(inp)
    close(J["a"]["x"], np.diag([2.0, 4.0, 6.0]))
    close(J["a"]["y"], np.zeros(3))
    close(J["b"]["x"], [2.0, 0.0, 0.0])
    close(J["b"]["y"], 1.0)
    assert J["a"]["x"].shape == (3, 3) and J["b"]["y"].shape == ()


def test_jacobian_shapes_argnums_and_aux():
  f = lambda x, y: (jnp.outer(x, y), x.sum())
  x, y = jnp.arange(2.0), jnp.arange(3.0) + 1
  for jac in (numjax.jacfwd, numjax.jacrev):
    (jo, js) = jac(f, argnums=(0, 1))(x, y)[0], None
    assert jo[0].shape == (2, 3, 2) and jo[1].shape == (2, 3, 3)
    ref = np.zeros((2, 3, 2))
    for i in range(2):
      ref[i, :, i] = np.asarray(y)
    close(jo[0], ref)
    J, aux = jac(lambda x: (jnp.sin(x), x * 2), has_aux=True)(x)
    close(J, np.diag(np.cos(np.asarray(x))))
    close(aux, np.asarray(x) * 2)


def test_jacobian_against_finite_differences():
  A = np.random.default_rng(1).standard_normal((3, 4))
  f = lambda x: jnp.tanh(jnp.dot(A.astype(np.float32), x)) * x[:3]
  x = jnp.asarray(np.random.default_rng(2).standard_normal(4).astype(np.float32))
  fn = lambda v: np.tanh(A @ v) * v[:3]
  ref = np.stack([fd_grad(lambda v, i=i: fn(v)[i], np.asarray(x, np.float64))
                  for i in range(3)])
  close(numjax.jacfwd(f)(x), ref, 1e-4)
  close(numjax.jacrev(f)(x), ref, 1e-4)


def test_jacobian_input_errors():
  with pytest.raises(TypeError, match="jacfwd requires real-valued inputs"):
    numjax.jacfwd(lambda x: x ** 2)(jnp.arange(3))
  with pytest.raises(TypeError, match="jacrev requires real- or complex-valued inputs"):
    numjax.jacrev(lambda x: x ** 2)(jnp.arange(3))


def test_hessian_of_a_quadratic_form():
  M = np.array([[2.0, 1.0], [1.0, 3.0]], np.float32)
  f = lambda x: x @ (M @ x)
  close(numjax.hessian(f)(jnp.array([0.3, -0.2])), M + M.T)


# ---------------------------------------------------------------------------------------
# linear_transpose

def test_linear_transpose():
  A = np.arange(6.0, dtype=np.float32).reshape(2, 3)
  f = lambda x: jnp.dot(A, x) * 2.0
  ft = numjax.linear_transpose(f, jnp.zeros(3))
  (ct,) = ft(jnp.array([1.0, -1.0]))
  close(ct, 2.0 * A.T @ np.array([1.0, -1.0]))
  f2 = lambda x, y: {"s": x + y, "d": x - 2 * y}
  ft2 = numjax.linear_transpose(f2, 1.0, 1.0)
  cx, cy = ft2({"s": 1.0, "d": 3.0})
  close(cx, 4.0)
  close(cy, -5.0)
  with pytest.raises(TypeError, match="cotangent type does not match function output"):
    numjax.linear_transpose(lambda x: 2 * x, jnp.ones(2))(3.0)


# ---------------------------------------------------------------------------------------
# Composition with jit and vmap

def _loss(w, x):
  return jnp.sum(jnp.tanh(x @ w) ** 2)


def test_grad_jit_compositions():
  rng = np.random.default_rng(0)
  w = jnp.asarray(rng.standard_normal((3, 2)).astype(np.float32))
  x = jnp.asarray(rng.standard_normal((4, 3)).astype(np.float32))
  ref = numjax.grad(_loss)(w, x)
  close(numjax.grad(numjax.jit(_loss))(w, x), ref, 1e-5)
  close(numjax.jit(numjax.grad(_loss))(w, x), ref, 1e-5)
  close(numjax.jit(numjax.grad(numjax.jit(_loss)))(w, x), ref, 1e-5)
  close(numjax.grad(lambda w: numjax.jit(numjax.grad(_loss))(w, x).sum())(w),
        numjax.grad(lambda w: numjax.grad(_loss)(w, x).sum())(w), 1e-5)
  wn, xn = np.asarray(w, np.float64), np.asarray(x, np.float64)
  close(ref, fd_grad(lambda v: np.sum(np.tanh(xn @ v) ** 2), wn), 1e-3)


def test_vmap_grad_and_grad_vmap():
  f = lambda x: jnp.sin(x) ** 2
  xs = jnp.linspace(0.0, 1.0, 5)
  close(numjax.vmap(numjax.grad(f))(xs), np.sin(2 * np.asarray(xs)), 1e-5)
  close(numjax.grad(lambda xs: jnp.sum(numjax.vmap(f)(xs)))(xs), np.sin(2 * np.asarray(xs)),
        1e-5)
  close(numjax.jit(numjax.vmap(numjax.grad(f)))(xs), np.sin(2 * np.asarray(xs)), 1e-5)


# ---------------------------------------------------------------------------------------
# check_grads itself

def test_check_grads_accepts_correct_and_rejects_wrong_derivatives():
  check_grads(lambda x: jnp.sin(x) * x, (jnp.array([0.3, 1.2]),), order=2)
  check_grads(lambda x, y: jnp.exp(x) / y, (0.5, 2.0), order=2, modes=("rev",))
  check_grads(lambda x: jnp.tanh(x), (jnp.array([0.3]),), order=1, modes=("lin",))

  wrong = numjax.custom_jvp(lambda x: jnp.sin(x))
  wrong.defjvp(lambda p, t: (jnp.sin(p[0]), 1.1 * jnp.cos(p[0]) * t[0]))
  with pytest.raises(AssertionError):
    check_grads(wrong, (jnp.array([0.5]),), order=1, modes=("fwd",))
  with pytest.raises(AssertionError):
    check_grads(wrong, (jnp.array([0.5]),), order=1, modes=("rev",))
  f = lambda x: jnp.sin(x)
  check_jvp(f, functools.partial(numjax.jvp, f), (0.5,))
  check_vjp(f, functools.partial(numjax.vjp, f), (0.5,))


def test_check_grads_float64():
  with numjax.experimental.enable_x64():
    x = jnp.array([0.3, -0.8], dtype=jnp.float64)
    check_grads(lambda x: jnp.exp(jnp.sin(x)) * x ** 3, (x,), order=2, atol=1e-6, rtol=1e-6)
