"""debug.print, debug.callback, pure_callback and io_callback: runtime values inside jit,
vmap and grad, JAX 0.10.2's vmap_method semantics and errors, jaxpr text."""
import numpy as np
import pytest

import numjax as jax
import numjax.numpy as jnp
from numjax.experimental import io_callback

f32 = np.float32


def _out(capsys):
  return capsys.readouterr().out.splitlines()


def _f(x):
  jax.debug.print("x={x} y={}", x * 2, x=x)
  return x


def test_debug_print_eager_jit_vmap_grad(capsys):
  _f(jnp.float32(1.0))
  assert _out(capsys) == ["x=1.0 y=2.0"]
  jf = jax.jit(_f)
  jf(1.0)
  jf(3.0)                      # runs on every call, with the runtime value
  assert _out(capsys) == ["x=1.0 y=2.0", "x=3.0 y=6.0"]
  jax.vmap(_f)(jnp.arange(3.0))
  assert _out(capsys) == ["x=0.0 y=0.0", "x=1.0 y=2.0", "x=2.0 y=4.0"]
  jax.grad(_f)(1.0)
  assert _out(capsys) == ["x=1.0 y=2.0"]
  jax.jit(jax.grad(_f))(2.0)
  assert _out(capsys) == ["x=2.0 y=4.0"]
  jax.jit(jax.vmap(jax.vmap(_f)))(jnp.arange(4.0).reshape(2, 2))
  assert _out(capsys) == [f"x={v:.1f} y={2 * v:.1f}" for v in range(4)]
  jax.vmap(jax.jit(_f))(jnp.arange(2.0))
  assert _out(capsys) == ["x=0.0 y=0.0", "x=1.0 y=2.0"]


def test_debug_print_formats_and_arrays(capsys):
  jax.debug.print("{}", jnp.arange(3))
  jax.debug.print("{x:.2f}", x=jnp.float32(3.14159))
  jax.jit(lambda a: jax.debug.print("{a} and {b}", a=a, b=a + 1))(jnp.ones(2, jnp.int32))
  assert _out(capsys) == ["[0 1 2]", "3.14", "[1 1] and [2 2]"]


def test_debug_print_order_inside_jit(capsys):
  @jax.jit
  def f(x):
    jax.debug.print("first {}", x)
    y = x + 1
    jax.debug.print("second {}", y)
    return y
  f(1)
  assert _out(capsys) == ["first 1", "second 2"]


def test_debug_print_jaxpr_text_matches_jax():
  text = str(jax.make_jaxpr(_f)(1.0))
  opts = tuple(np.get_printoptions().items())
  assert text == f"""{{ lambda ; a:f32[]. let
    b:f32[] = mul a 2.0:f32[]
    debug_print[
      fmt=x={{x}} y={{}}
      has_placeholders=True
      in_tree=PyTreeDef(((*,), {{'x': *}}))
      logging_record=None
      np_printoptions={opts}
      ordered=False
      partitioned=False
      static_args=()
    ] b a
  in (a,) }}"""


def test_debug_callback(capsys):
  got = []

  def cb(x, *, scale):
    got.append((type(x).__name__, np.asarray(x).tolist(), scale))

  f = jax.jit(lambda x: jax.debug.callback(cb, x * 2, scale=3) or x)
  f(jnp.arange(2.0))
  assert got == [("Array", [0.0, 2.0], 3)]
  got.clear()
  jax.vmap(lambda x: jax.debug.callback(cb, x, scale=1))(jnp.arange(3.0))
  assert [g[1] for g in got] == [0.0, 1.0, 2.0]
  got.clear()
  jax.grad(lambda x: jax.debug.callback(cb, x, scale=0) or x * x)(2.0)
  assert got == [("Array", 2.0, 0)]


def _cb_sin(x):
  return np.sin(np.asarray(x))


def test_pure_callback_in_jit_and_pytrees():
  g = lambda x: jax.pure_callback(_cb_sin, jax.ShapeDtypeStruct(x.shape, x.dtype), x)
  x = jnp.asarray(np.linspace(0, 1, 4, dtype=f32))
  np.testing.assert_allclose(jax.jit(g)(x), np.sin(np.asarray(x)), rtol=1e-6)
  out = jax.jit(lambda x: jax.pure_callback(
      lambda a: {"s": np.asarray(a) * 2, "n": np.int32(a.shape[0])},
      {"s": jax.ShapeDtypeStruct((4,), f32), "n": jax.ShapeDtypeStruct((), np.int32)}, x))(x)
  assert int(out["n"]) == 4 and out["n"].dtype == np.int32
  text = str(jax.make_jaxpr(g)(1.0))
  assert "pure_callback[" in text and "vmap_method=None" in text
  assert "callback_func=<function _cb_sin at 0xX" in text


def test_pure_callback_vmap_methods():
  calls = []

  def add(a, b):
    calls.append((a.shape, b.shape))
    return np.asarray(a) + np.asarray(b)
  spec = jax.ShapeDtypeStruct((), f32)
  xs = jnp.arange(3.0)
  for method, shapes in [("sequential", [((), ())] * 3), ("expand_dims", [((3,), (1,))]),
                         ("broadcast_all", [((3,), (3,))])]:
    calls.clear()
    out = jax.vmap(lambda x, y: jax.pure_callback(add, spec, x, y, vmap_method=method),
                   in_axes=(0, None))(xs, 1.0)
    np.testing.assert_array_equal(out, [1.0, 2.0, 3.0])
    assert calls == shapes, method
  with pytest.raises(NotImplementedError, match="Got vmap_method=None"):
    jax.vmap(lambda x: jax.pure_callback(add, spec, x, x))(xs)


def test_pure_callback_errors():
  g = lambda x: jax.pure_callback(_cb_sin, jax.ShapeDtypeStruct((), f32), x)
  with pytest.raises(ValueError, match="Pure callbacks do not support JVP"):
    jax.grad(g)(1.0)
  bad = jax.jit(lambda x: jax.pure_callback(_cb_sin, jax.ShapeDtypeStruct((2,), f32), x))
  with pytest.raises(RuntimeError, match="Incorrect output shape"):
    bad(jnp.ones(3))


def test_io_callback_is_kept_and_ordered():
  log = []

  def f(x):
    io_callback(lambda a: log.append(float(a)) or a, jax.ShapeDtypeStruct((), f32), x)
    io_callback(lambda a: log.append(float(a) + 10) or a, jax.ShapeDtypeStruct((), f32), x)
    return x * 2
  jf = jax.jit(f)
  assert float(jf(1.0)) == 2.0
  assert float(jf(2.0)) == 4.0
  assert log == [1.0, 11.0, 2.0, 12.0]
  log.clear()
  jax.vmap(f)(jnp.arange(2.0))
  assert log == [0.0, 1.0, 10.0, 11.0]
