"""vmap: in_axes/out_axes pytrees, axis_size, JAX's errors, nesting, composition with grad
and jit, collectives over axis names — checked against Python loops over slices."""
import numpy as np
import pytest

import numjax
import numjax.numpy as jnp
from numjax import lax


def close(a, b, tol=1e-6):
  np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=tol,
                             atol=tol)


def loop(f, *args, in_axes=0, out_axis=0):
  """Reference: f applied to slices in a Python loop, results stacked."""
  axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
  n = next(np.shape(a)[ax] for a, ax in zip(args, axes) if ax is not None)
  outs = []
  for i in range(n):
    sl = [a if ax is None else np.take(np.asarray(a), i, axis=ax) for a, ax in zip(args, axes)]
    outs.append(np.asarray(f(*sl)))
  return np.stack(outs, axis=out_axis)


# ---------------------------------------------------------------------------------------
# Seeds

def test_seed001_in_axes_out_axes():
  f = lambda x, y: x + y
  out = numjax.vmap(f, in_axes=(0, None), out_axes=1)(jnp.array([0, 1, 2, 3]),
                                                      jnp.array([4, 5]))
  np.testing.assert_array_equal(out, [[4, 5, 6, 7], [5, 6, 7, 8]])
  assert out.dtype == np.int32


def _nested_loop(f, x, axes):
  """Reference for nested vmaps: the outermost (last applied) vmap maps axes[-1] first."""
  if not axes:
    return np.asarray(f(x))
  ax = axes[-1]
  return np.stack([_nested_loop(f, np.take(x, i, axis=ax), axes[:-1])
                   for i in range(x.shape[ax])])


@pytest.mark.parametrize("axes", [(0, 0, 0), (0, 1, 2), (0, 0, 1), (-1, -2, -3), (-1, 1)])
def test_seed004_nested_vmaps_over_any_axes(axes):
  x = np.random.default_rng(0).standard_normal((3, 4, 5)).astype(np.float32)
  f = lambda v: jnp.sin(v) * 2.0
  g = f
  for ax in axes:  # N vmaps for N batch dimensions, each over a chosen axis
    g = numjax.vmap(g, in_axes=ax)
  close(g(x), _nested_loop(lambda v: np.sin(v) * 2.0, x, axes), 1e-6)


def test_nested_vmap_matrix_product_is_outer_loop():
  A = np.arange(6.0, dtype=np.float32).reshape(2, 3)
  B = np.arange(12.0, dtype=np.float32).reshape(3, 4)
  dot = lambda a, b: jnp.sum(a * b)
  mm = numjax.vmap(numjax.vmap(dot, in_axes=(None, 1)), in_axes=(0, None))
  close(mm(A, B), A @ B)


# ---------------------------------------------------------------------------------------
# in_axes / out_axes

def test_in_axes_pytrees_and_negative_axes():
  d = {"a": np.arange(6.0).reshape(2, 3), "b": np.arange(3.0)}
  f = lambda d, c: d["a"] * d["b"] + c
  out = numjax.vmap(f, in_axes=({"a": -1, "b": 0}, None))(d, 10.0)
  close(out, d["a"].T * d["b"][:, None] + 10.0)
  out = numjax.vmap(f, in_axes=[{"a": 1, "b": None}, None])({"a": d["a"], "b": 2.0}, 1.0)
  close(out, d["a"].T * 2.0 + 1.0)


def test_in_axes_tuple_prefix_over_nested_args():
  xs = (np.arange(3.0), (np.ones((2, 3)), np.full(3, 2.0)))
  f = lambda t: t[0] + t[1][0].sum() * t[1][1]
  out = numjax.vmap(f, in_axes=((0, (1, 0)),))(xs)
  close(out, loop(lambda a, b, c: a + b.sum() * c, xs[0], xs[1][0], xs[1][1],
                  in_axes=(0, 1, 0)))


def test_out_axes_pytrees_and_none():
  f = lambda x: {"m": x * 2, "c": jnp.ones(3)}
  out = numjax.vmap(f, out_axes={"m": 1, "c": None})(np.ones((4, 2)))
  assert out["m"].shape == (2, 4) and out["c"].shape == (3,)
  out = numjax.vmap(lambda x: (x, x.sum()), out_axes=(-1, 0))(np.ones((4, 2)))
  assert out[0].shape == (2, 4) and out[1].shape == (4,)
  assert numjax.vmap(lambda x: 1.0, out_axes=None)(np.ones(3)) == 1.0
  close(numjax.vmap(lambda x: 1.0)(np.ones(3)), np.ones(3))


def test_axis_size_and_unbatched_arguments():
  out = numjax.vmap(lambda x: x * 2, in_axes=None, axis_size=3)(jnp.ones(2))
  assert out.shape == (3, 2)
  out = numjax.vmap(lambda x, y: x * y, in_axes=(0, None))(np.arange(3.0), 2.0)
  close(out, [0.0, 2.0, 4.0])


def test_kwargs_are_mapped_over_axis_zero():
  out = numjax.vmap(lambda x, scale: x * scale)(np.arange(3.0), scale=np.arange(3.0))
  close(out, [0.0, 1.0, 4.0])


def test_functions_returning_none_and_python_values():
  assert numjax.vmap(lambda x: None)(np.ones(3)) is None
  out = numjax.vmap(lambda x: (x, None))(np.ones(3))
  assert out[1] is None and out[0].shape == (3,)
  with pytest.raises(TypeError, match="not a valid JAX type"):
    numjax.vmap(lambda x: (x, "a"))(np.ones(3))


# ---------------------------------------------------------------------------------------
# Errors

def test_inconsistent_sizes_message():
  with pytest.raises(ValueError) as e:
    numjax.vmap(lambda x, y: x + y)(jnp.ones(3), jnp.ones(4))
  assert str(e.value) == (
      "vmap got inconsistent sizes for array axes to be mapped:\n"
      "  * one axis had size 3: axis 0 of argument x of type float32[3];\n"
      "  * one axis had size 4: axis 0 of argument y of type float32[4]")
  with pytest.raises(ValueError) as e:
    numjax.vmap(lambda x, y: x)(jnp.ones(3), [jnp.ones(3), jnp.ones(5)])
  assert str(e.value) == (
      "vmap got inconsistent sizes for array axes to be mapped:\n"
      "  * most axes (2 of them) had size 3, e.g. axis 0 of argument x of type float32[3];\n"
      "  * one axis had size 5: axis 0 of argument y[1] of type float32[5]")
  with pytest.raises(ValueError, match=r"\* the `axis_size` argument was 4;\n"):
    numjax.vmap(lambda x: x, axis_size=4)(jnp.ones(3))
  with pytest.raises(ValueError, match=r"axis 1 of argument y\['a'\] of type float32\[4,2\]"):
    numjax.vmap(lambda x, y: x, in_axes=(0, {"a": 1}))(jnp.ones((3, 2)), {"a": jnp.ones((4, 2))})


@pytest.mark.parametrize("fun,in_axes,args,err,msg", [
    (lambda x, y: x, (0,), (np.ones(3), np.ones(3)), ValueError,
     r"vmap in_axes must be an int, None, or a tuple of entries corresponding to the "
     r"positional arguments passed to the function, but got len\(in_axes\)=1, len\(args\)=2"),
    (lambda x: x, 0.5, (np.ones(3),), TypeError, "but got 0.5"),
    (lambda x: x, 1, (np.ones(3),), ValueError,
     r"vmap was requested to map its argument along axis 1, which implies that its rank "
     r"should be at least 2, but is only 1 \(its shape is \(3,\)\)"),
    (lambda x: x, -2, (np.ones(3),), ValueError, "along axis -2, which implies that its rank "
     "should be at least 2"),
    (lambda x: x, 0, (1.0,), ValueError, "rank should be at least 1, but is only 0"),
    (lambda x: x, None, (np.ones(3),), ValueError,
     "vmap must have at least one non-None value in in_axes or axis_size must be specified"),
    (lambda d: d, ({"a": 0},), ({"a": np.ones(3), "b": np.ones(3)},), ValueError,
     "vmap in_axes specification must be a tree prefix of the corresponding value"),
])
def test_in_axes_errors(fun, in_axes, args, err, msg):
  with pytest.raises(err, match=msg):
    numjax.vmap(fun, in_axes=in_axes)(*args)


def test_out_axes_errors_and_empty_args():
  with pytest.raises(ValueError, match="got axis spec None but output was batched on axis 0"):
    numjax.vmap(lambda x: x, out_axes=None)(jnp.ones(3))
  with pytest.raises(ValueError, match="vmap out_axes specification must be a tree prefix"):
    numjax.vmap(lambda x: x, out_axes=(0, 1))(jnp.ones(3))
  with pytest.raises(ValueError, match="axis 2 is out of bounds for array of dimension 2"):
    numjax.vmap(lambda x: x, out_axes=2)(jnp.ones((3, 2)))
  with pytest.raises(ValueError, match="at least one argument containing an array"):
    numjax.vmap(lambda: 1.0)()


# ---------------------------------------------------------------------------------------
# Composition

def test_vmap_grad_logistic_regression_per_example_gradients():
  rng = np.random.default_rng(0)
  X = rng.standard_normal((8, 3)).astype(np.float32)
  y = (rng.random(8) > 0.5).astype(np.float32)
  w = rng.standard_normal(3).astype(np.float32)
  b = np.float32(0.1)

  def loss(params, x, t):
    w, b = params
    z = jnp.dot(x, w) + b
    p = 1 / (1 + jnp.exp(-z))
    return -(t * jnp.log(p) + (1 - t) * jnp.log(1 - p))

  per_ex = numjax.vmap(numjax.grad(loss), in_axes=(None, 0, 0))((w, b), X, y)
  assert per_ex[0].shape == (8, 3) and per_ex[1].shape == (8,)
  for i in range(8):
    gw, gb = numjax.grad(loss)((w, b), X[i], y[i])
    close(per_ex[0][i], gw, 1e-5)
    close(per_ex[1][i], gb, 1e-5)
    # and the closed form: (sigmoid(z) - t) * [x, 1]
    s = 1 / (1 + np.exp(-(X[i] @ w + b)))
    close(gw, (s - y[i]) * X[i], 1e-5)
  jitted = numjax.jit(numjax.vmap(numjax.grad(loss), in_axes=(None, 0, 0)))((w, b), X, y)
  close(jitted[0], per_ex[0], 1e-5)


def test_vmap_jit_and_jit_vmap():
  f = lambda x, y: jnp.tanh(x) @ y
  x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
  y = np.random.default_rng(1).standard_normal(3).astype(np.float32)
  ref = loop(f, x, y, in_axes=(0, None))
  close(numjax.vmap(numjax.jit(f), in_axes=(0, None))(x, y), ref, 1e-5)
  close(numjax.jit(numjax.vmap(f, in_axes=(0, None)))(x, y), ref, 1e-5)


def test_grad_of_vmap():
  f = lambda w, x: jnp.sum(numjax.vmap(lambda xi: jnp.tanh(jnp.dot(xi, w)))(x))
  w = np.array([0.5, -0.3], np.float32)
  x = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
  g = numjax.grad(f)(w, x)
  t = np.tanh(x @ w)
  close(g, ((1 - t ** 2)[:, None] * x).sum(0), 1e-5)


def test_vmap_of_dot_general_batched_on_one_or_both_sides():
  rng = np.random.default_rng(0)
  A = rng.standard_normal((4, 2, 3)).astype(np.float32)
  B = rng.standard_normal((4, 3, 5)).astype(np.float32)
  close(numjax.vmap(jnp.dot)(A, B), np.einsum("bij,bjk->bik", A, B), 1e-5)
  close(numjax.vmap(jnp.dot, in_axes=(0, None))(A, B[0]), A @ B[0], 1e-5)
  close(numjax.vmap(jnp.dot, in_axes=(None, 0))(A[0], B), np.einsum("ij,bjk->bik", A[0], B),
        1e-5)
  close(numjax.vmap(jnp.dot, in_axes=(1, None))(A, B[0]), np.einsum("bij,jk->ibk", A, B[0]),
        1e-5)
  C = rng.standard_normal((2, 3, 4)).astype(np.float32)
  close(numjax.vmap(jnp.dot, in_axes=(2, 1), out_axes=1)(C, B.transpose(1, 0, 2)),
        loop(np.dot, C, B.transpose(1, 0, 2), in_axes=(2, 1), out_axis=1), 1e-5)


# ---------------------------------------------------------------------------------------
# Collectives over axis names

def test_collectives():
  x = np.arange(3.0, dtype=np.float32)
  v = lambda f: numjax.vmap(f, axis_name="i")(x)
  close(v(lambda a: lax.psum(a, "i")), [3.0] * 3)
  close(v(lambda a: lax.pmean(a, "i")), [1.0] * 3)
  close(v(lambda a: lax.pmax(a, "i")), [2.0] * 3)
  close(v(lambda a: lax.pmin(a, "i")), [0.0] * 3)
  close(v(lambda a: lax.all_gather(a, "i")), np.tile(x, (3, 1)))
  np.testing.assert_array_equal(v(lambda a: lax.axis_index("i")), [0, 1, 2])
  close(v(lambda a: lax.ppermute(a, "i", [(0, 1), (1, 2), (2, 0)])), [2.0, 0.0, 1.0])
  out = v(lambda a: lax.psum(1, "i"))
  np.testing.assert_array_equal(out, [3, 3, 3])
  assert v(lambda a: lax.axis_size("i") * a).shape == (3,)


def test_collectives_psum_scatter_and_all_gather_options():
  x = np.arange(18.0, dtype=np.float32).reshape(3, 6)
  out = numjax.vmap(lambda a: lax.psum_scatter(a, "i", tiled=True), axis_name="i")(x)
  close(out, x.sum(0).reshape(3, 2))
  y = np.arange(18.0, dtype=np.float32).reshape(3, 2, 3)
  out = numjax.vmap(lambda a: lax.psum_scatter(a, "i", scatter_dimension=1), axis_name="i")(y)
  close(out, np.transpose(y.sum(0), (1, 0)))
  z = np.arange(6.0, dtype=np.float32).reshape(3, 2)
  out = numjax.vmap(lambda a: lax.all_gather(a, "i", axis=1), axis_name="i")(z)
  close(out, np.broadcast_to(z.T, (3, 2, 3)))
  w = np.arange(6.0, dtype=np.float32).reshape(3, 1, 2)
  out = numjax.vmap(lambda a: lax.all_gather(a, "i", axis=1, tiled=True), axis_name="i")(w)
  close(out, np.broadcast_to(np.arange(6.0).reshape(1, 6), (3, 1, 6)))


def test_collectives_in_nested_vmaps_and_errors():
  x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
  both = numjax.vmap(numjax.vmap(lambda a: lax.psum(a, ("i", "j")), axis_name="j"),
                     axis_name="i")(x)
  close(both, np.full((2, 3), 15.0))
  outer = numjax.vmap(numjax.vmap(lambda a: lax.psum(a, "i"), axis_name="j"),
                      axis_name="i")(x)
  close(outer, np.broadcast_to(x.sum(0), (2, 3)))
  with pytest.raises(NameError, match="unbound axis name: j"):
    numjax.vmap(lambda a: lax.psum(a, "j"), axis_name="i")(x[0])
  with pytest.raises(NameError, match="unbound axis name"):
    lax.psum(1.0, "i")


def test_collectives_differentiate():
  x = np.array([1.0, 3.0, 2.0], np.float32)
  g = numjax.grad(lambda x: jnp.sum(numjax.vmap(lambda y: lax.psum(y * y, "i"),
                                                axis_name="i")(x)))(x)
  close(g, 2 * x * 3)
  # psum's transpose is psum: each member's gradient sees every member's output (as JAX)
  g = numjax.vmap(numjax.grad(lambda y: lax.psum(y * y, "i")), axis_name="i")(x)
  close(g, 2 * x * 3)
  g = numjax.vmap(numjax.grad(lambda y: lax.pmean(y * y, "i")), axis_name="i")(x)
  close(g, 2 * x)
  M = np.arange(9.0, dtype=np.float32).reshape(3, 3)
  g = numjax.grad(lambda x: jnp.sum(numjax.vmap(lambda y: lax.all_gather(y, "i"),
                                                axis_name="i")(x) * M))(x)
  close(g, M.sum(0))
  g = numjax.grad(lambda x: jnp.sum(numjax.vmap(lambda y: lax.pmax(y, "i"),
                                                axis_name="i")(x)))(x)
  close(g, [0.0, 3.0, 0.0])
  g = numjax.grad(lambda x: jnp.sum(numjax.vmap(lambda y: lax.pmean(y, "i") * y,
                                                axis_name="i")(x)))(x)
  close(g, x.mean() + x.sum() / 3)


def test_collectives_under_jit():
  x = np.arange(3.0, dtype=np.float32)
  close(numjax.jit(numjax.vmap(lambda a: lax.psum(a, "i"), axis_name="i"))(x), [3.0] * 3)
  close(numjax.vmap(numjax.jit(lambda a: a - lax.pmean(a, "i")), axis_name="i")(x),
        x - x.mean())
