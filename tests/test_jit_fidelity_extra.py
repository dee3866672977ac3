"""Staged programs and jit results match JAX 0.10.2's: weak Python literals, partial
evaluation of known inputs (grad/vjp/linearize jaxprs), Python-int params, the `split`
primitive.

Every expected jaxpr text and bit pattern below was recorded by running the same program
under JAX 0.10.2 (never produced by numjax); behaviour tests check values against NumPy,
gradients against finite differences and vmap against a Python loop.
"""
import numpy as np
import pytest

import numjax as jax
import numjax.numpy as jnp
from numjax import lax
from numjax._src.config import config

F32_1 = np.float32(1)

# ---------------------------------------------------------------------------------------
# 1. Weak Python float literals keep their Python value in the printed jaxpr (JAX stages
#    the Python scalar itself); converted ones print their rounded value.

LITERALS = {
    "mul_0.1_weak": (lambda x: x * 0.1, (1.0,),
        '{ lambda ; a:f32[]. let b:f32[] = mul a 0.1:f32[] in (b,) }'),
    "add_1e-30_strong": (lambda x: x + 1e-30, (F32_1,),
        '{ lambda ; a:f32[]. let b:f32[] = add a 1.0000000031710769e-30:f32[] in (b,) }'),
    "python_fold": (lambda: 0.1 + 0.2, (),
        '{ lambda ; . let  in (0.30000000000000004:f32[],) }'),
    "third": (lambda x: x * (1 / 3), (1.0,),
        '{ lambda ; a:f32[]. let b:f32[] = mul a 0.3333333333333333:f32[] in (b,) }'),
    "overflowing": (lambda x: x * 1e40, (1.0,),
        '{ lambda ; a:f32[]. let b:f32[] = mul a 1e+40:f32[] in (b,) }'),
    "underflowing": (lambda x: x * 1e-50, (1.0,),
        '{ lambda ; a:f32[]. let b:f32[] = mul a 1e-50:f32[] in (b,) }'),
    "subnormal": (lambda x: x * 1e-40, (1.0,),
        '{ lambda ; a:f32[]. let b:f32[] = mul a 1e-40:f32[] in (b,) }'),
    "inexact_big": (lambda x: x * 123456789.0, (1.0,),
        '{ lambda ; a:f32[]. let b:f32[] = mul a 123456789.0:f32[] in (b,) }'),
    "nan_inf": (lambda x: x * float("nan") + float("inf") - float("-inf"), (1.0,),
        '{ lambda ; a:f32[]. let\n    b:f32[] = mul a nan:f32[]\n    c:f32[] = add b inf:f32[]\n'
        '    d:f32[] = sub c -inf:f32[]\n  in (d,) }'),
    "int_to_float": (lambda x: x * 2, (1.0,),
        '{ lambda ; a:f32[]. let b:f32[] = mul a 2.0:f32[] in (b,) }'),
    "f16": (lambda x: x * 0.1, (jnp.float16(1),),
        '{ lambda ; a:f16[]. let b:f16[] = mul a 0.0999755859375:f16[] in (b,) }'),
    "c64_from_float": (lambda x: x * 0.1, (jnp.complex64(1),),
        '{ lambda ; a:c64[]. let b:c64[] = mul a (0.10000000149011612+0j):c64[] in (b,) }'),
    "complex_literal": (lambda x: x * (0.1 + 2j), (1.0,),
        '{ lambda ; a:f32[]. let\n    b:c64[] = convert_element_type[new_dtype=complex64 '
        'weak_type=True] a\n    c:c64[] = mul b (0.1+2j):c64[]\n  in (c,) }'),
    "sin_literal": (lambda x: x * jnp.sin(0.1), (1.0,),
        '{ lambda ; a:f32[]. let b:f32[] = sin 0.1:f32[]; c:f32[] = mul a b in (c,) }'),
    "sin_literal_strong": (lambda x: x + jnp.sin(0.1), (F32_1,),
        '{ lambda ; a:f32[]. let\n    b:f32[] = sin 0.1:f32[]\n    c:f32[] = convert_element_type'
        '[new_dtype=float32 weak_type=False] b\n    d:f32[] = add a c\n  in (d,) }'),
    "full": (lambda x: x + jnp.full((2,), 0.1), (np.ones(2, np.float32),),
        '{ lambda ; a:f32[2]. let\n    b:f32[2] = broadcast_in_dim 0.1:f32[]\n    c:f32[2] = '
        'convert_element_type[new_dtype=float32 weak_type=False] b\n    d:f32[2] = add a c\n'
        '  in (d,) }'),
    "where_literal": (lambda x: jnp.where(x > 0, x, 0.1), (np.ones(2, np.float32),),
        '{ lambda ; a:f32[2]. let\n    b:bool[2] = gt a 0.0:f32[]\n    c:f32[2] = jit[\n'
        '      name=_where\n      jaxpr={ lambda ; b:bool[2] a:f32[2] d:f32[]. let\n'
        '          e:f32[] = convert_element_type[new_dtype=float32 weak_type=False] d\n'
        '          f:f32[2] = broadcast_in_dim e\n          c:f32[2] = select_n b f a\n'
        '        in (c,) }\n    ] b a 0.1:f32[]\n  in (c,) }'),
    "clip": (lambda x: jnp.clip(x, 0.1, 0.7), (1.0,),
        '{ lambda ; a:f32[]. let\n    b:f32[] = jit[\n      name=clip\n      jaxpr={ lambda ; '
        'a:f32[] c:f32[] d:f32[]. let\n          e:f32[] = max c a\n          b:f32[] = min d e\n'
        '        in (b,) }\n    ] a 0.1:f32[] 0.7:f32[]\n  in (b,) }'),
    "asarray": (lambda x: x + jnp.asarray(0.1), (1.0,),
        '{ lambda ; a:f32[]. let b:f32[] = add a 0.1:f32[] in (b,) }'),
    "gt": (lambda x: x > 0.1, (1.0,),
        '{ lambda ; a:f32[]. let b:bool[] = gt a 0.1:f32[] in (b,) }'),
    "maximum_strong": (lambda x: jnp.maximum(x, 0.1), (F32_1,),
        '{ lambda ; a:f32[]. let b:f32[] = max a 0.10000000149011612:f32[] in (b,) }'),
    "numpy_scalar": (lambda x: x * np.float32(0.1), (1.0,),
        '{ lambda ; a:f32[]. let\n    b:f32[] = convert_element_type[new_dtype=float32 '
        'weak_type=False] a\n    c:f32[] = mul b 0.10000000149011612:f32[]\n  in (c,) }'),
    "nested_jit_arg": (lambda x: jax.jit(lambda a, b: a * b)(x, 0.1), (1.0,),
        '{ lambda ; a:f32[]. let\n    b:f32[] = jit[\n      name=<lambda>\n      jaxpr={ lambda ; '
        'a:f32[] c:f32[]. let b:f32[] = mul a c in (b,) }\n    ] a 0.1:f32[]\n  in (b,) }'),
}


@pytest.mark.parametrize("name", sorted(LITERALS))
def test_literal_text(name):
  fn, args, expected = LITERALS[name]
  assert str(jax.make_jaxpr(fn)(*args)) == expected


LITERALS_X64 = {
    "f64": (lambda x: x * 0.1, (1.0,),
        '{ lambda ; a:f64[]. let b:f64[] = mul a 0.1:f64[] in (b,) }'),
    "f32_from_f64": (lambda x: x * 0.1, (F32_1,),
        '{ lambda ; a:f32[]. let b:f32[] = mul a 0.10000000149011612:f32[] in (b,) }'),
    "f32_overflow": (lambda x: x * 1e40, (F32_1,),
        '{ lambda ; a:f32[]. let b:f32[] = mul a inf:f32[] in (b,) }'),
    "tiny": (lambda x: x * 1e-300, (1.0,),
        '{ lambda ; a:f64[]. let b:f64[] = mul a 1e-300:f64[] in (b,) }'),
    "big_int": (lambda x: x * 2**40, (1,),
        '{ lambda ; a:i64[]. let b:i64[] = mul a 1099511627776:i64[] in (b,) }'),
}


@pytest.mark.parametrize("name", sorted(LITERALS_X64))
def test_literal_text_x64(name):
  fn, args, expected = LITERALS_X64[name]
  with jax.enable_x64(True):
    assert str(jax.make_jaxpr(fn)(*args)) == expected


def _bits(x):
  x = np.asarray(x)
  return int(x.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[x.itemsize]))


def test_literal_values_under_jit():
  # bit patterns recorded from JAX 0.10.2
  assert _bits(jax.jit(lambda x: x * 0.1)(jnp.float32(3))) == 1050253722
  assert _bits((lambda x: x * 0.1)(jnp.float32(3))) == 1050253722
  assert _bits(jax.jit(lambda x: x + 1 / 3)(jnp.float32(0))) == 1051372203
  assert _bits(jax.jit(lambda x: x * 0.1)(jnp.float16(3))) == 13516
  r = jax.jit(lambda: 0.1 + 0.2)()
  assert r.dtype == np.float32 and r.weak_type and _bits(r) == 1050253722
  assert np.isinf(np.asarray(jax.jit(lambda x: x * 1e40)(1.0)))
  with jax.enable_x64(True):
    assert _bits(jax.jit(lambda x: x * 0.1)(jnp.float32(3))) == 1050253722
    assert _bits(jax.jit(lambda x: x * 0.1)(3.0)) == 4599075939470750516
    r = jax.jit(lambda: 0.1 + 0.2)()
    assert r.dtype == np.float64 and r.weak_type


def test_literal_value_is_the_rounded_one():
  # the printed Python value is only the label: the program computes with float32(0.1)
  f = jax.jit(lambda x: x * 0.1)
  x = np.arange(5, dtype=np.float32)
  np.testing.assert_array_equal(np.asarray(f(x)), x * np.float32(0.1))
  closed = jax.make_jaxpr(lambda x: x * (1 / 3))(1.0)
  lit = closed.jaxpr.eqns[0].invars[1]
  assert np.asarray(lit.val).dtype == np.float32
  assert np.asarray(lit.val) == np.float32(1 / 3)
