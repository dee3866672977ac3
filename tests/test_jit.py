"""jit: caching and retracing, static and donated arguments, pytrees, transformations of
jitted functions, AOT stages, config hooks and the seed snippets.

Expected jaxpr texts were printed by JAX 0.10.2 for the same programs.
"""
import functools
import logging
import math
from functools import partial

import numpy as np
import pytest

import numjax as jax
import numjax.experimental
import numjax.numpy as jnp
from numjax import lax
from numjax._src import core

f32 = np.float32


def _traced(fun):
  """Wrap fun so that each trace increments .count."""
  def f(*args, **kwargs):
    f.count += 1
    return fun(*args, **kwargs)
  f.count = 0
  f.__name__ = getattr(fun, "__name__", "f")
  return f


# ---------------------------------------------------------------------------------------
# parity and basic calling

PARITY = [
    ("sin*2+1", lambda x: lax.add(lax.mul(lax.sin(x), 2.0), 1.0), [(3,), (2, 3), ()], "float32"),
    ("exp-log", lambda x: lax.log(lax.add(lax.exp(x), 1.0)), [(4, 5)], "float32"),
    ("int arith", lambda x: lax.rem(lax.mul(x, x), 7), [(6,), ()], "int32"),
    ("int div", lambda x: lax.div(x, 3), [(6,)], "int32"),
    ("compare", lambda x: lax.lt(x, lax.neg(x)), [(5,), ()], "float32"),
    ("bool ops", lambda x: lax.bitwise_and(lax.gt(x, 0.0), lax.lt(x, 2.0)), [(5,)], "float32"),
    ("sum", lambda x: jnp.sum(x), [(4, 5), (7,)], "float32"),
    ("int sum", lambda x: jnp.sum(x, axis=0), [(4, 5)], "int32"),
    ("argmax", lambda x: jnp.argmax(x), [(9,)], "float32"),
    ("dot", lambda x: jnp.dot(x, x.T), [(3, 4)], "float32"),
    ("matvec", lambda x: jnp.dot(x, x[0]), [(4, 4)], "float32"),
    ("vecdot", lambda x: jnp.dot(x, x), [(5,)], "float32"),
    ("reshape/transpose", lambda x: jnp.transpose(jnp.reshape(x, (3, 2))) * 3, [(2, 3)],
     "float32"),
    ("where", lambda x: jnp.where(x > 0, x, 0.5 * x), [(6,)], "float32"),
    ("cumsum", lambda x: jnp.cumsum(x), [(6,)], "float32"),
    ("concat", lambda x: jnp.concatenate([x, x * 2]), [(3,)], "float32"),
    ("mean int->float", lambda x: jnp.mean(x), [(4,)], "int32"),
    ("float16", lambda x: x * 2 + 1, [(3,)], "float16"),
    ("bfloat16", lambda x: x * 2 + 1, [(3,)], "bfloat16"),
    ("complex", lambda x: x * x + 1, [(3,)], "complex64"),
    ("uint8 wrap", lambda x: x * 200, [(4,)], "uint8"),
]


def _arg(shape, dtype, seed=0):
  rng = np.random.default_rng(seed)
  if dtype == "bfloat16":
    import ml_dtypes
    return rng.standard_normal(shape).astype(ml_dtypes.bfloat16)
  dt = np.dtype(dtype)
  if dt.kind in "iu":
    return rng.integers(1, 50, shape).astype(dt)
  if dt.kind == "c":
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)
  return rng.standard_normal(shape).astype(dt)


@pytest.mark.parametrize("name,fn,shapes,dtype", PARITY, ids=[p[0] for p in PARITY])
def test_jit_matches_eager(name, fn, shapes, dtype):
  for shape in shapes:
    x = jnp.asarray(_arg(shape, dtype))
    eager = fn(x)
    jf = jax.jit(fn)
    for _ in range(3):  # first (guarded) call, then the regenerated code
      out = jf(x)
      assert out.dtype == eager.dtype and out.shape == eager.shape
      assert out.weak_type == eager.weak_type
      np.testing.assert_allclose(np.asarray(out, np.float64 if out.dtype.kind != "c"
                                            else np.complex128),
                                 np.asarray(eager, np.float64 if out.dtype.kind != "c"
                                            else np.complex128), rtol=1e-6, atol=1e-6)


def test_jit_weak_types_and_python_scalars():
  f = jax.jit(lambda x, y: x * y)
  out = f(2.0, 3)
  assert out.dtype == np.float32 and out.weak_type
  assert float(out) == 6.0
  out = f(jnp.float32(2.0), 3)
  assert not out.weak_type
  assert jax.jit(lambda: 1.5)().weak_type


def test_pytrees_in_and_out_kwargs_and_none():
  @jax.jit
  def f(d, xs, *, scale=1.0):
    return {"a": d["a"] * scale, "b": [x + 1 for x in xs], "none": None}, 3.0
  d = {"a": jnp.ones(2)}
  out, c = f(d, (jnp.zeros(1), jnp.ones(3)), scale=2.0)
  np.testing.assert_array_equal(out["a"], [2, 2])
  np.testing.assert_array_equal(out["b"][1], [2, 2, 2])
  assert out["none"] is None and float(c) == 3.0


def test_no_arguments_and_constants():
  big = np.arange(100000, dtype=f32)
  f = jax.jit(lambda: jnp.asarray(big) * 2)
  np.testing.assert_array_equal(f(), big * 2)
  np.testing.assert_array_equal(f(), big * 2)


# ---------------------------------------------------------------------------------------
# caching

def test_cache_hits_and_retraces_exactly_on_signature_changes():
  g = _traced(lambda x, y: jax.tree.leaves(x)[0] * y)
  f = jax.jit(g)
  f(jnp.ones(3), jnp.ones(3))
  f(jnp.ones(3), jnp.ones(3) * 5)
  assert g.count == 1
  f(jnp.ones(4), jnp.ones(4))          # shape
  assert g.count == 2
  f(jnp.ones(4, jnp.int32), jnp.ones(4, jnp.int32))  # dtype
  assert g.count == 3
  f(jnp.ones(4, jnp.int32), 2)         # weak type + shape
  assert g.count == 4
  f(jnp.ones(4, jnp.int32), 3)
  assert g.count == 4
  f((jnp.ones(4),), jnp.ones(4))       # pytree structure
  assert g.count == 5
  with jax.experimental.enable_x64():  # relevant config
    f(jnp.ones(4), jnp.ones(4))
  assert g.count == 6
  f(jnp.ones(4), jnp.ones(4))
  assert g.count == 6
  assert f._cache_size() == 6


def test_kwargs_are_part_of_the_key():
  g = _traced(lambda x, y=1.0: x + y)
  f = jax.jit(g)
  f(jnp.ones(2), y=jnp.ones(2))
  f(jnp.ones(2), y=jnp.zeros(2))
  assert g.count == 1
  f(jnp.ones(2), jnp.ones(2))  # positional instead of keyword: another signature
  assert g.count == 2


def test_clear_caches_retraces():
  g = _traced(lambda x: x + 1)
  f = jax.jit(g)
  f(jnp.ones(2))
  jax.clear_caches()
  f(jnp.ones(2))
  assert g.count == 2
  f.clear_cache()
  f(jnp.ones(2))
  assert g.count == 3


def test_staged_and_eager_calls_share_the_trace():
  g = _traced(lambda x: x * 2)
  f = jax.jit(g)
  jax.make_jaxpr(f)(jnp.ones(3))
  f(jnp.ones(3))
  jax.grad(lambda x: jnp.sum(f(x)))(jnp.ones(3))
  assert g.count == 1


# ---------------------------------------------------------------------------------------
# static arguments

def test_seed_001_static_argnums_while_loop():
  @partial(jax.jit, static_argnums=1)
  def g(x, n):
    i = 0
    while i < n:
      i += 1
    return x + i
  assert int(g(1, 5)) == 6


def test_seed_003_static_argnums_print_sequence(capsys):
  @partial(jax.jit, static_argnums=(1,))
  def f(x, neg):
    print(x)
    return -x if neg else x
  print(f(1, True))
  print(f(2, True))
  print(f(2, False))
  print(f(23, False))
  # JAX 0.10.2 prints exactly this sequence (the tracer only on the two traces).
  assert capsys.readouterr().out.splitlines() == [
      "JitTracer(~int32[])", "-1", "-2", "JitTracer(~int32[])", "2", "23"]


def test_static_argnames_and_inference():
  g = _traced(lambda x, n, *, mode="a": x * n if mode == "a" else x - n)
  f = jax.jit(g, static_argnames=("n", "mode"))
  assert float(f(2.0, n=3)) == 6.0
  assert float(f(2.0, 3)) == 6.0      # static_argnums inferred from the signature
  assert float(f(2.0, n=3, mode="b")) == -1.0
  f(5.0, n=3)
  assert g.count == 3

  h = jax.jit(lambda x, n: x * n, static_argnums=-1)
  assert float(h(2.0, 4)) == 8.0


def test_unhashable_static_argument_is_jax_value_error():
  f = jax.jit(lambda x, n: x, static_argnums=1)
  with pytest.raises(ValueError, match="Non-hashable static arguments are not supported"):
    f(1.0, [1, 2])


def test_static_argnums_out_of_range():
  with pytest.raises(ValueError, match=r"static_argnums=\(3,\), but only accepts 1"):
    jax.jit(lambda x: x, static_argnums=3)


def test_jit_decorator_partial_and_methods():
  class Model:
    def __init__(self, k):
      self.k = k

    def __hash__(self):
      return hash(self.k)

    def __eq__(self, o):
      return isinstance(o, Model) and o.k == self.k

    @partial(jax.jit, static_argnums=0)
    def apply(self, x):
      return x * self.k

  assert float(Model(3).apply(2.0)) == 6.0
  assert float(Model(4).apply(2.0)) == 8.0

  @jax.jit
  def deco(x):
    return x + 1
  assert deco.__name__ == "deco" and float(deco(1.0)) == 2.0
  p = jax.jit(functools.partial(lambda a, b: a - b, 10.0))
  assert float(p(3.0)) == 7.0


# ---------------------------------------------------------------------------------------
# donation

def test_seed_004_donation_deletes_and_reading_raises():
  def add(x, y):
    return x + y
  x = jax.device_put(np.ones((2, 3)))
  y = jax.device_put(np.ones((2, 3)))
  z = jax.jit(add, donate_argnums=(1,))(x, y)
  np.testing.assert_array_equal(z, np.full((2, 3), 2.0))
  assert y.is_deleted() and not x.is_deleted()
  with pytest.raises(RuntimeError, match=r"Array has been deleted with shape=float32\[2,3\]"):
    np.asarray(y)
  with pytest.raises(RuntimeError, match="deleted"):
    y + 1


def test_donated_buffer_is_reused_for_the_output():
  f = jax.jit(lambda x, y: x * 2 + y, donate_argnames="y")
  n = 1 << 14
  f(jnp.ones(n), jnp.ones(n))  # first call (guarded code)
  for _ in range(2):
    y = jnp.asarray(np.full(n, 3.0, f32))
    ptr = y.unsafe_buffer_pointer()
    z = f(jnp.ones(n), y)
    assert y.is_deleted()
    np.testing.assert_array_equal(z, np.full(n, 5.0))
    assert z.unsafe_buffer_pointer() == ptr


def test_donated_pytree_argument():
  f = jax.jit(lambda p: jax.tree.map(lambda a: a + 1, p), donate_argnums=0)
  p = {"w": jnp.ones(3), "b": jnp.zeros(2)}
  q = f(p)
  assert p["w"].is_deleted() and p["b"].is_deleted()
  np.testing.assert_array_equal(q["w"], [2, 2, 2])


# ---------------------------------------------------------------------------------------
# transformations of jit and jit of transformations

def _g(x):
  return jnp.sin(x) * 2


def test_grad_of_jit_and_jit_of_grad():
  jg = jax.jit(_g)
  x = jnp.asarray(np.linspace(-1, 1, 5, dtype=f32))
  expected = 2 * np.cos(np.asarray(x))
  loss = lambda x: jnp.sum(jg(x))
  np.testing.assert_allclose(jax.grad(loss)(x), expected, rtol=1e-6)
  np.testing.assert_allclose(jax.jit(jax.grad(loss))(x), expected, rtol=1e-6)
  np.testing.assert_allclose(jax.jit(jax.grad(jax.jit(loss)))(x), expected, rtol=1e-6)
  # second order through the linearize split and the transposed jit
  h = jax.grad(lambda x: jnp.sum(jax.grad(loss)(x)))(x)
  np.testing.assert_allclose(h, -2 * np.sin(np.asarray(x)), rtol=1e-5)


def test_vmap_of_jit_and_jit_of_vmap():
  jg = jax.jit(_g)
  xs = jnp.asarray(np.arange(6, dtype=f32).reshape(2, 3))
  expected = np.sin(np.asarray(xs)) * 2
  np.testing.assert_allclose(jax.vmap(jg)(xs), expected, rtol=1e-6)
  np.testing.assert_allclose(jax.jit(jax.vmap(_g))(xs), expected, rtol=1e-6)
  np.testing.assert_allclose(jax.vmap(jg, in_axes=1)(xs), expected.T, rtol=1e-6)
  # unbatched operands stay unbatched inside the batched jit
  f = jax.jit(lambda x, y: (x * y, y + 1))
  a, b = jax.vmap(f, in_axes=(0, None))(xs, jnp.ones(3))
  np.testing.assert_allclose(a, np.asarray(xs))
  np.testing.assert_allclose(b, np.full((2, 3), 2.0))


def test_jvp_and_vmap_of_grad_of_jit():
  jg = jax.jit(_g)
  x = jnp.asarray(np.linspace(0, 1, 4, dtype=f32))
  p, t = jax.jvp(jg, (x,), (jnp.ones(4),))
  np.testing.assert_allclose(p, 2 * np.sin(np.asarray(x)), rtol=1e-6)
  np.testing.assert_allclose(t, 2 * np.cos(np.asarray(x)), rtol=1e-6)
  per_example = jax.vmap(jax.grad(lambda x: jg(x)))(x)
  np.testing.assert_allclose(per_example, 2 * np.cos(np.asarray(x)), rtol=1e-6)


def test_jit_closing_over_an_outer_tracer():
  def outer(x):
    return jax.jit(lambda y: y * x)(2.0)
  assert float(jax.grad(outer)(1.5)) == 2.0
  # JAX 0.10.2 hoists the closed-over tracer into a leading operand
  assert str(jax.make_jaxpr(outer)(1.0)) == """{ lambda ; a:f32[]. let
    b:f32[] = jit[
      name=<lambda>
      jaxpr={ lambda ; a:f32[] c:f32[]. let b:f32[] = mul c a in (b,) }
    ] a 2.0:f32[]
  in (b,) }"""


def test_integer_inputs_under_grad_of_jit():
  f = jax.jit(lambda x, n: x * n)
  assert float(jax.grad(f)(3.0, 4)) == 4.0


# ---------------------------------------------------------------------------------------
# printing (JAX 0.10.2's text)

def test_make_jaxpr_of_nested_jit_matches_jax():
  def g(x):
    return jnp.sin(x) * 2
  f = jax.jit(g)

  def h(x, y):
    return f(x) + f(y) * jax.jit(lambda z: z + 1.0)(x)
  text = str(jax.make_jaxpr(h)(jnp.ones(3), jnp.ones(3)))
  assert text == """let g = { lambda ; a:f32[3]. let
    b:f32[3] = sin a
    c:f32[3] = mul b 2.0:f32[]
  in (c,) } in
{ lambda ; d:f32[3] e:f32[3]. let
    f:f32[3] = jit[name=g jaxpr=g] d
    h:f32[3] = jit[name=g jaxpr=g] e
    i:f32[3] = jit[
      name=<lambda>
      jaxpr={ lambda ; d:f32[3]. let i:f32[3] = add d 1.0:f32[] in (i,) }
    ] d
    j:f32[3] = mul h i
    k:f32[3] = add f j
  in (k,) }"""


def test_make_jaxpr_of_vmap_of_jit_and_multiple_outputs_match_jax():
  f = jax.jit(_g)
  assert str(jax.make_jaxpr(jax.vmap(f))(jnp.ones((2, 3)))) == """{ lambda ; a:f32[2,3]. let
    b:f32[2,3] = jit[
      name=_g
      jaxpr={ lambda ; a:f32[2,3]. let
          c:f32[2,3] = sin a
          b:f32[2,3] = mul c 2.0:f32[]
        in (b,) }
    ] a
  in (b,) }"""
  text = str(jax.make_jaxpr(lambda x: jax.jit(lambda a: (a, a * 2, 3.0))(x))(jnp.ones(3)))
  assert text == """{ lambda ; a:f32[3]. let
    c:f32[3] b:f32[3] d:f32[] = jit[
      name=<lambda>
      jaxpr={ lambda ; a:f32[3]. let
          b:f32[3] = mul a 2.0:f32[]
        in (a, b, 3.0:f32[]) }
    ] a
  in (c, b, d) }"""


def test_make_jaxpr_of_jit_constants_and_literal_operands_match_jax():
  c = np.arange(3.0, dtype=f32)

  @jax.jit
  def f(x):
    return x + c
  assert str(jax.make_jaxpr(f)(jnp.ones(3))) == """{ lambda ; a:f32[3]. let
    b:f32[3] = jit[
      name=f
      jaxpr={ lambda c:f32[3]; a:f32[3]. let b:f32[3] = add a c in (b,) }
    ] a
  in (b,) }"""

  @jax.jit
  def f2(x, y):
    return x * 2 + 1
  assert str(jax.make_jaxpr(lambda x: f2(x, 3.0))(jnp.ones(3))) == """{ lambda ; a:f32[3]. let
    b:f32[3] = jit[
      name=f2
      jaxpr={ lambda ; a:f32[3] c:f32[]. let
          d:f32[3] = mul a 2.0:f32[]
          b:f32[3] = add d 1.0:f32[]
        in (b,) }
    ] a 3.0:f32[]
  in (b,) }"""


def test_make_jaxpr_of_grad_of_jit_splits_known_and_linear_jits():
  f = jax.jit(_g)
  text = str(jax.make_jaxpr(jax.grad(lambda x: jnp.sum(f(x))))(jnp.ones(3)))
  # As JAX: a known jit (primal + residual cos) and the transposed linear jit.
  assert """    b:f32[3] c:f32[3] = jit[
      name=_g
      jaxpr={ lambda ; a:f32[3]. let
          d:f32[3] = sin a
          c:f32[3] = cos a
          b:f32[3] = mul d 2.0:f32[]
        in (b, c) }
    ] a""" in text
  assert "    _:f32[] = reduce_sum[axes=(0,) out_sharding=None] b" in text
  assert """      jaxpr={ lambda ; c:f32[3] e:f32[3]. let
          g:f32[3] = mul e 2.0:f32[]
          f:f32[3] = mul g c
        in (f,) }
    ] c e
  in (f,) }""" in text


def test_shared_jaxprs_are_hoisted_as_jax_prints_them():
  jf = jax.jit(lambda x: jnp.sin(x))
  jf.__name__ = "f"
  def f(x):
    return jnp.sin(x)
  jf = jax.jit(f)

  def g(x):
    return jf(x)
  jg = jax.jit(g)
  text = str(jax.make_jaxpr(lambda x: jg(x) + jg(x) + jf(x))(1.0))
  assert text == """let g = { lambda ; a:f32[]. let b:f32[] = jit[name=f jaxpr=f] a in (b,) } in
let f = { lambda ; c:f32[]. let d:f32[] = sin c in (d,) } in
{ lambda ; e:f32[]. let
    h:f32[] = jit[name=g jaxpr=g] e
    i:f32[] = jit[name=g jaxpr=g] e
    j:f32[] = add h i
    k:f32[] = jit[name=f jaxpr=f] e
    l:f32[] = add j k
  in (l,) }"""


def test_donated_invars_are_printed():
  f = jax.jit(lambda x, y: x + y, donate_argnums=0)
  text = str(jax.make_jaxpr(f)(jnp.ones(3), 2.0))
  assert "donated_invars=(True, False)" in text


def test_inline_true_stages_no_jit_equation():
  f = jax.jit(lambda x: x * 2, inline=True)
  jaxpr = jax.make_jaxpr(lambda x: f(x) + 1)(1.0)
  assert [e.primitive.name for e in jaxpr.eqns] == ["mul", "add"]


# ---------------------------------------------------------------------------------------
# AOT

def test_lower_compile_trace_eval_shape():
  f = jax.jit(lambda x, y: (jnp.sin(x) * y, x.sum()))
  x = jnp.ones((2, 3))
  lowered = f.lower(x, 2.0)
  assert "sin" in lowered.as_text() and "reduce_sum" in lowered.as_text()
  compiled = lowered.compile()
  a, b = compiled(x, 2.0)
  np.testing.assert_allclose(a, np.sin(1.0) * 2 * np.ones((2, 3)), rtol=1e-6)
  assert float(b) == 6.0
  src = compiled.as_text()
  assert src.startswith("def _jit_") and "return" in src
  with pytest.raises(TypeError, match="Argument types differ"):
    compiled(jnp.ones((3, 3)), 2.0)
  traced = f.trace(x, 2.0)
  # as JAX: the weak scalar y is converted before the multiply
  assert [e.primitive.name for e in traced.jaxpr.eqns] == [
      "sin", "convert_element_type", "mul", "reduce_sum"]
  shapes = f.eval_shape(jax.ShapeDtypeStruct((4, 5), jnp.float32), 1.0)
  assert shapes[0].shape == (4, 5) and shapes[1].shape == () and shapes[0].dtype == f32
  low = f.lower(jax.ShapeDtypeStruct((4, 5), jnp.float32), jax.ShapeDtypeStruct((), f32))
  assert "f32[4,5]" in low.as_text()


def test_eval_shape_and_shape_dtype_struct():
  out = jax.eval_shape(lambda x, y: {"s": x @ y, "n": x.shape[0]},
                       jax.ShapeDtypeStruct((2, 3), jnp.float32), jnp.ones((3, 4)))
  assert out["s"].shape == (2, 4) and out["s"].dtype == f32
  s = jax.ShapeDtypeStruct((2,), np.float64)
  assert s.dtype == f32  # canonicalised, as JAX with x64 off
  assert repr(jax.ShapeDtypeStruct((), f32, weak_type=True)) == \
      "ShapeDtypeStruct(shape=(), dtype=float32, weak_type=True)"


# ---------------------------------------------------------------------------------------
# config

def test_disable_jit_runs_python():
  seen = []
  f = jax.jit(lambda x: seen.append(type(x).__name__) or x * 2)
  with jax.disable_jit():
    f(jnp.ones(2))
  f(jnp.ones(2))
  assert seen[0] == "Array" and seen[1] == "StagingTracer"


def test_log_compiles_and_explain_cache_misses(caplog):
  f = jax.jit(lambda x, n: x * n, static_argnums=1)
  with caplog.at_level(logging.WARNING, logger="numjax"):
    jax.config.update("jax_explain_cache_misses", True)
    jax.config.update("jax_log_compiles", True)
    try:
      f(jnp.ones(3), 2)
      f(jnp.ones(4), 2)                      # shape
      f(jnp.ones(4, jnp.int32), 2)           # dtype
      f(jnp.ones(4, jnp.int32), 3)           # static value
      f(jnp.asarray(np.int32(1)), 3)
      f(1, 3)                                # weak type
    finally:
      jax.config.update("jax_explain_cache_misses", False)
      jax.config.update("jax_log_compiles", False)
  text = caplog.text
  assert "never seen function" in text
  assert "now f32[4] and before f32[3] (the shape changed)" in text
  assert "now i32[4] and before f32[4] (the dtype changed)" in text
  assert "different value of static args" in text and "now 3 and before 2" in text
  assert "(the weak type changed)" in text
  assert "Finished tracing + transforming" in text and "Compiling" in text
  assert __file__ in text  # the miss is reported at the caller's line


def test_ensure_compile_time_eval_and_named_scope():
  @jax.jit
  def f(x):
    with jax.ensure_compile_time_eval():
      c = jnp.sin(jnp.float32(0.5))
      n = int(jnp.argmax(jnp.asarray([1, 5, 2])))  # concrete: usable as a Python int
    with jax.named_scope("layer"):
      return x * c + n
  np.testing.assert_allclose(f(1.0), math.sin(0.5) + 1, rtol=1e-6)
  g = jax.named_call(lambda x: x + 1, name="inc")
  assert float(jax.jit(g)(1.0)) == 2.0


def test_tracer_repr_is_jaxs():
  reprs = []
  jax.jit(lambda x, y: reprs.append((repr(x), repr(y))) or x)(jnp.ones((2, 3)), 1)
  assert reprs == [("JitTracer(float32[2,3])", "JitTracer(~int32[])")]


def test_device_put_get_and_block_until_ready():
  tree = {"a": np.arange(3.0), "b": [1, 2.5]}
  on = jax.device_put(tree)
  assert isinstance(on["a"], jax.Array) and on["a"].dtype == np.float32
  assert on["b"][0].weak_type and on["b"][0].dtype == np.int32
  assert jax.device_put(on["a"]) is on["a"]
  assert jax.device_put(on["a"], may_alias=False) is not on["a"]
  back = jax.device_get(on)
  assert type(back["a"]) is np.ndarray
  assert jax.block_until_ready(on) is on


def test_stages_module():
  import numjax.stages as stages
  f = jax.jit(lambda x: x + 1)
  assert isinstance(f, stages.Wrapped)
  t = f.trace(1.0)
  assert isinstance(t, stages.Traced) and isinstance(t.lower(), stages.Lowered)
  assert isinstance(t.lower().compile(), stages.Compiled)


def test_linearize_falls_back_to_inlining_when_the_split_is_impossible(monkeypatch):
  from numjax._src import jit as jit_mod
  monkeypatch.setattr(jit_mod, "_split_jvp", lambda *a: None)
  jg = jax.jit(_g)
  x = jnp.asarray(np.linspace(-1, 1, 5, dtype=f32))
  np.testing.assert_allclose(jax.grad(lambda x: jnp.sum(jg(x)))(x), 2 * np.cos(np.asarray(x)),
                             rtol=1e-6)
  np.testing.assert_allclose(jax.jit(jax.grad(lambda x: jnp.sum(jg(x))))(x),
                             2 * np.cos(np.asarray(x)), rtol=1e-6)
