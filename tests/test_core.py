"""The engine: jaxpr text in JAX's format, eval_jaxpr, staging, linearize/transpose, leaks.

Expected jaxpr texts below were printed by JAX 0.10.2 for the same programs.
"""
import os
import numpy as np
import pytest

import numjax as jax
from numjax import lax
from numjax._src import core
from numjax._src.interpreters import ad, partial_eval as pe
from numjax._src.lax.lax import asarray

f32 = np.float32


def test_jaxpr_text_one_line_when_short():
  # JAX 0.10.2: { lambda ; a:f32[]. let b:f32[] = cos a; c:f32[] = sin b in (c,) }
  text = str(jax.make_jaxpr(lambda x: lax.sin(lax.cos(x)))(1.0))
  assert text == "{ lambda ; a:f32[]. let b:f32[] = cos a; c:f32[] = sin b in (c,) }"


def test_jaxpr_text_constvars_and_literals():
  c = asarray(np.arange(3.0, dtype=f32))
  assert str(jax.make_jaxpr(lambda x: lax.add(x, c))(np.ones(3, f32))) == \
      "{ lambda a:f32[3]; b:f32[3]. let c:f32[3] = add b a in (c,) }"
  assert str(jax.make_jaxpr(lambda x, y: (x, 2.0, y))(1.0, 2)) == \
      "{ lambda ; a:f32[] b:i32[]. let  in (a, 2.0:f32[], b) }"


def test_jaxpr_text_multiline_and_names_past_z():
  def f(x):
    for _ in range(28):
      x = lax.sin(x)
    return x
  lines = str(jax.make_jaxpr(f)(1.0)).splitlines()
  assert lines[0] == "{ lambda ; a:f32[]. let"
  assert lines[-4:] == ["    ba:f32[] = sin z", "    bb:f32[] = sin ba",
                        "    bc:f32[] = sin bb", "  in (bc,) }"]


def test_jaxpr_text_dot_general_params():
  def f(x, y):
    return lax.dot_general(lax.add(x, 1.0), lax.add(y, 1.0), (([1], [0]), ([], [])),
                           preferred_element_type=f32)
  expected = """{ lambda ; a:f32[2,3] b:f32[3,4]. let
    c:f32[2,3] = add a 1.0:f32[]
    d:f32[3,4] = add b 1.0:f32[]
    e:f32[2,4] = dot_general[
      dimension_numbers=(([1], [0]), ([], []))
      preferred_element_type=float32
    ] c d
  in (e,) }"""
  assert str(jax.make_jaxpr(f)(np.ones((2, 3), f32), np.ones((3, 4), f32))) == expected


def test_eval_jaxpr_matches_eager():
  def f(x, y):
    return [lax.mul(lax.exp(x), lax.sub(y, x))]
  x, y = np.linspace(-1, 1, 5).astype(f32), np.linspace(0, 2, 5).astype(f32)
  closed = pe.trace_to_jaxpr(f, [core.get_aval(asarray(x)), core.get_aval(asarray(y))])
  out, = core.eval_jaxpr(closed.jaxpr, closed.consts, asarray(x), asarray(y))
  np.testing.assert_allclose(np.asarray(out), np.exp(x) * (y - x), rtol=1e-6)


def test_linearize_and_transpose_match_finite_differences():
  fun = lambda x: [lax.mul(lax.sin(x), lax.exp(x))]
  x0 = 0.7
  primals, lin, _ = ad.linearize_flat(fun, [asarray(f32(x0))])
  t_out, = core.eval_jaxpr(lin.jaxpr, lin.consts, asarray(f32(1.0)))
  _, vjp_fn, _ = ad.vjp_flat(fun, [asarray(f32(x0))])
  ct, = vjp_fn([asarray(f32(1.0))])
  eps = 1e-4
  fd = (np.sin(x0 + eps) * np.exp(x0 + eps) - np.sin(x0 - eps) * np.exp(x0 - eps)) / (2 * eps)
  np.testing.assert_allclose(float(t_out), fd, rtol=1e-4)
  np.testing.assert_allclose(float(ct), fd, rtol=1e-4)


def test_partial_eval_and_dce():
  def f(x, y):
    a = lax.sin(x)           # known
    b = lax.mul(a, y)        # unknown (y unknown)
    dead = lax.cos(x)        # unused
    return [a, b]
  closed = pe.trace_to_jaxpr(f, [core.ShapedArray((), f32)] * 2)
  known, unknown, out_unk, nres = pe.partial_eval_jaxpr(closed.jaxpr, [False, True])
  assert out_unk == [False, True]
  assert nres == 1
  assert [e.primitive.name for e in known.eqns] == ["sin"]  # cos was dead
  assert [e.primitive.name for e in unknown.eqns] == ["mul"]
  x, y = asarray(f32(0.3)), asarray(f32(2.0))
  a, res = core.eval_jaxpr(known, [], x)
  b, = core.eval_jaxpr(unknown, [], res, y)
  np.testing.assert_allclose(float(b), np.sin(0.3) * 2.0, rtol=1e-6)


def test_leaked_tracer_raises_unexpected_tracer_error():
  leaked = []

  def f(x):
    leaked.append(x)
    return x
  jax.make_jaxpr(f)(1.0)
  with pytest.raises(jax.errors.UnexpectedTracerError):
    lax.add(leaked[0], 1.0)


def test_tracer_bool_conversion_error():
  def f(x):
    if lax.gt(x, 0.0):
      return x
    return lax.neg(x)
  with pytest.raises(jax.errors.TracerBoolConversionError) as e:
    jax.make_jaxpr(f)(1.0)
  assert "test_core.py" in str(e.value)


def test_eager_results_are_immutable_arrays():
  x = lax.add(asarray(np.arange(3, dtype=np.int32)), 1)
  assert isinstance(x, jax.Array) and x.dtype == np.int32 and not x.weak_type
  with pytest.raises(TypeError):
    x[0] = 5
  with pytest.raises(ValueError):
    np.asarray(x)[0] = 5


def test_jaxpr_text_unused_outputs_and_param_visibility():
  # JAX 0.10.2 prints unused outputs as `_`, hides broadcast_in_dim's shape, and keeps the
  # trailing space after an operand-less equation's params.
  def f(x):
    lax.sin(x)
    return x
  assert str(jax.make_jaxpr(f)(1.0)) == "{ lambda ; a:f32[]. let _:f32[] = sin a in (a,) }"
  assert str(jax.make_jaxpr(lambda x: lax.broadcast_in_dim(x, (3, 2), (1,)))(
      np.ones(2, f32))) == ("{ lambda ; a:f32[2]. let\n"
                            "    b:f32[3,2] = broadcast_in_dim[broadcast_dimensions=(1,)] a\n"
                            "  in (b,) }")
  assert str(jax.make_jaxpr(lambda x: lax.iota(np.int32, 3))(1.0)) == (
      "{ lambda ; a:f32[]. let\n"
      "    b:i32[3] = iota[dimension=0 dtype=int32 shape=(3,) sharding=None] \n"
      "  in (b,) }")


def test_allocator_tuning_applies_on_glibc_and_can_be_switched_off():
  import platform
  import subprocess
  import sys
  code = "import numjax._src.memory as m, numjax; print(m.applied)"
  env = dict(os.environ)
  on = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
  env["NUMJAX_MALLOC_TUNING"] = "0"
  off = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
  assert off.stdout.strip() == "False", off.stderr
  if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
    assert on.stdout.strip() == "True", on.stderr
