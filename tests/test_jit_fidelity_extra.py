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


# convert_element_type of a scalar literal is folded at staging time, as JAX folds it
FOLDS = {
    "vjp_python_scalar": lambda x: jax.vjp(lambda x, y: x * y, x, 2.0)[0],
    "grad_python_scalar_arg": lambda x: jax.grad(lambda x, y: (x * y).sum())(x, 2.0),
    "jvp_python_scalars": lambda x: jax.jvp(lambda x, y: x * y, (x, 2.0), (x, 1.0)),
    "astype_literal": lambda x: x + jnp.asarray(2.0).astype(jnp.float32),
}
FOLD_TEXTS = {
    'vjp_python_scalar': '{ lambda ; a:f32[3]. let b:f32[3] = mul a 2.0:f32[] in (b,) }',
    'grad_python_scalar_arg': '{ lambda ; a:f32[3]. let\n    b:f32[3] = mul a 2.0:f32[]\n    _:f32[] = reduce_sum[axes=(0,) out_sharding=None] b\n    c:f32[3] = broadcast_in_dim 1.0:f32[]\n    d:f32[3] = mul c 2.0:f32[]\n  in (d,) }',
    'jvp_python_scalars': '{ lambda ; a:f32[3]. let\n    b:f32[3] = mul a 2.0:f32[]\n    c:f32[3] = mul a 2.0:f32[]\n    d:f32[3] = mul a 1.0:f32[]\n    e:f32[3] = add_any c d\n  in (b, e) }',
    'astype_literal': '{ lambda ; a:f32[3]. let b:f32[3] = add a 2.0:f32[] in (b,) }',
}


@pytest.mark.parametrize("name", sorted(FOLDS))
def test_literal_convert_folded(name):
  x = np.arange(3, dtype=np.float32)
  assert str(jax.make_jaxpr(FOLDS[name])(x)) == FOLD_TEXTS[name]
  np.testing.assert_allclose(np.asarray(jax.tree_util.tree_leaves(jax.jit(FOLDS[name])(x))[0]),
                             np.asarray(jax.tree_util.tree_leaves(FOLDS[name](x))[0]))


# ---------------------------------------------------------------------------------------
# 2. Partial evaluation forwards known inputs: a known jit returns only what it computes
#    (residuals that are its operands or its results are read from those), and the
#    functions linearize/vjp return are pytrees of their residuals (JAX's Partial).

_X3 = np.arange(3, dtype=np.float32)
_Y3 = np.full(3, 2, np.float32)

PE_PROGRAMS = {
    "grad_jit_exp": (jax.grad(lambda x: jax.jit(jnp.exp)(x).sum()), (_X3,)),
    "grad_jit_mul_both": (jax.grad(lambda x, y: jax.jit(lambda x, y: (x * y).sum())(x, y),
                                   argnums=(0, 1)), (_X3, _Y3)),
    "grad_jit_forwarded_output": (
        jax.grad(lambda x, y: jax.jit(lambda x, y: (x * y, y))(x, y)[0].sum()), (_X3, _Y3)),
    "linearize_jit": (lambda x, y: jax.linearize(jax.jit(lambda x: jnp.sin(x) * y), x)[1](x),
                      (_X3, _Y3)),
    "vjp_jit": (lambda x, y: jax.vjp(jax.jit(lambda x, y: jnp.sin(x) * y), x, y)[1](x),
                (_X3, _Y3)),
    "grad_nested_jit": (jax.grad(lambda x: jax.jit(
        lambda x: jax.jit(lambda z: jnp.sin(z) * z)(x).sum())(x)), (_X3,)),
    "grad_where": (jax.grad(lambda x: jnp.where(x > 1, x * 2, x ** 2).sum()), (_X3,)),
    "linearize_returned": (lambda x: jax.linearize(jnp.sin, x), (_X3,)),
    "linearize_returned_mul": (lambda x, y: jax.linearize(lambda x, y: x * y, x, y),
                               (_X3, _Y3)),
    "vjp_returned": (lambda x: jax.vjp(jnp.sin, x), (_X3,)),
    "linearize_tanh_returned": (lambda x: jax.linearize(jnp.tanh, x), (_X3,)),
}

# JAX 0.10.2's make_jaxpr texts of the programs above
PE_TEXTS = {
    'grad_jit_exp': '{ lambda ; a:f32[3]. let\n    b:f32[3] = jit[\n      name=exp\n      jaxpr={ lambda ; a:f32[3]. let b:f32[3] = exp a in (b,) }\n    ] a\n    _:f32[] = reduce_sum[axes=(0,) out_sharding=None] b\n    c:f32[3] = broadcast_in_dim 1.0:f32[]\n    d:f32[3] = jit[\n      name=exp\n      jaxpr={ lambda ; b:f32[3] c:f32[3]. let d:f32[3] = mul c b in (d,) }\n    ] b c\n  in (d,) }',
    'grad_jit_mul_both': '{ lambda ; a:f32[3] b:f32[3]. let\n    _:f32[] = jit[\n      name=<lambda>\n      jaxpr={ lambda ; a:f32[3] b:f32[3]. let\n          c:f32[3] = mul a b\n          _:f32[] = reduce_sum[axes=(0,) out_sharding=None] c\n        in (_,) }\n    ] a b\n    d:f32[3] e:f32[3] = jit[\n      name=<lambda>\n      jaxpr={ lambda ; b:f32[3] a:f32[3] f:f32[]. let\n          g:f32[3] = broadcast_in_dim f\n          e:f32[3] = mul a g\n          d:f32[3] = mul g b\n        in (d, e) }\n    ] b a 1.0:f32[]\n  in (d, e) }',
    'grad_jit_forwarded_output': '{ lambda ; a:f32[3] b:f32[3]. let\n    c:f32[3] = jit[\n      name=<lambda>\n      jaxpr={ lambda ; a:f32[3] b:f32[3]. let c:f32[3] = mul a b in (c,) }\n    ] a b\n    _:f32[] = reduce_sum[axes=(0,) out_sharding=None] c\n    d:f32[3] = broadcast_in_dim 1.0:f32[]\n    e:f32[3] = jit[\n      name=<lambda>\n      jaxpr={ lambda ; b:f32[3] d:f32[3]. let e:f32[3] = mul d b in (e,) }\n    ] b d\n  in (e,) }',
    'linearize_jit': '{ lambda ; a:f32[3] b:f32[3]. let\n    _:f32[3] c:f32[3] = jit[\n      name=<lambda>\n      jaxpr={ lambda ; b:f32[3] a:f32[3]. let\n          d:f32[3] = sin a\n          c:f32[3] = cos a\n          _:f32[3] = mul d b\n        in (_, c) }\n    ] b a\n    e:f32[3] = jit[\n      name=<lambda>\n      jaxpr={ lambda ; c:f32[3] b:f32[3] a:f32[3]. let\n          f:f32[3] = mul a c\n          e:f32[3] = mul f b\n        in (e,) }\n    ] c b a\n  in (e,) }',
    'vjp_jit': '{ lambda ; a:f32[3] b:f32[3]. let\n    _:f32[3] c:f32[3] d:f32[3] = jit[\n      name=<lambda>\n      jaxpr={ lambda ; a:f32[3] b:f32[3]. let\n          d:f32[3] = sin a\n          c:f32[3] = cos a\n          _:f32[3] = mul d b\n        in (_, c, d) }\n    ] a b\n    e:f32[3] f:f32[3] = jit[\n      name=<lambda>\n      jaxpr={ lambda ; c:f32[3] b:f32[3] d:f32[3] a:f32[3]. let\n          f:f32[3] = mul d a\n          g:f32[3] = mul a b\n          e:f32[3] = mul g c\n        in (e, f) }\n    ] c b d a\n  in (e, f) }',
    'grad_nested_jit': '{ lambda ; a:f32[3]. let\n    _:f32[] b:f32[3] c:f32[3] = jit[\n      name=<lambda>\n      jaxpr={ lambda ; a:f32[3]. let\n          d:f32[3] b:f32[3] c:f32[3] = jit[\n            name=<lambda>\n            jaxpr={ lambda ; a:f32[3]. let\n                c:f32[3] = sin a\n                b:f32[3] = cos a\n                d:f32[3] = mul c a\n              in (d, b, c) }\n          ] a\n          _:f32[] = reduce_sum[axes=(0,) out_sharding=None] d\n        in (_, b, c) }\n    ] a\n    e:f32[3] = jit[\n      name=<lambda>\n      jaxpr={ lambda ; b:f32[3] a:f32[3] c:f32[3] f:f32[]. let\n          g:f32[3] = broadcast_in_dim f\n          e:f32[3] = jit[\n            name=<lambda>\n            jaxpr={ lambda ; b:f32[3] a:f32[3] c:f32[3] g:f32[3]. let\n                h:f32[3] = mul c g\n                i:f32[3] = mul g a\n                j:f32[3] = mul i b\n                e:f32[3] = add_any h j\n              in (e,) }\n          ] b a c g\n        in (e,) }\n    ] b a c 1.0:f32[]\n  in (e,) }',
    'grad_where': '{ lambda ; a:f32[3]. let\n    b:bool[3] = gt a 1.0:f32[]\n    c:f32[3] = mul a 2.0:f32[]\n    d:f32[3] = integer_pow[y=2] a\n    e:f32[3] = mul 2.0:f32[] a\n    f:f32[3] = jit[\n      name=_where\n      jaxpr={ lambda ; b:bool[3] c:f32[3] d:f32[3]. let\n          f:f32[3] = select_n b d c\n        in (f,) }\n    ] b c d\n    _:f32[] = reduce_sum[axes=(0,) out_sharding=None] f\n    g:f32[3] = broadcast_in_dim 1.0:f32[]\n    h:f32[3] i:f32[3] = jit[\n      name=_where\n      jaxpr={ lambda ; b:bool[3] g:f32[3]. let\n          j:f32[3] = broadcast_in_dim 0.0:f32[]\n          i:f32[3] = select_n b g j\n          h:f32[3] = select_n b j g\n        in (h, i) }\n    ] b g\n    k:f32[3] = mul i e\n    l:f32[3] = mul h 2.0:f32[]\n    m:f32[3] = add_any k l\n  in (m,) }',
    'linearize_returned': '{ lambda ; a:f32[3]. let b:f32[3] = sin a; c:f32[3] = cos a in (b, c) }',
    'linearize_returned_mul': '{ lambda ; a:f32[3] b:f32[3]. let c:f32[3] = mul a b in (c, b, a) }',
    'vjp_returned': '{ lambda ; a:f32[3]. let b:f32[3] = sin a; c:f32[3] = cos a in (b, c) }',
    'linearize_tanh_returned': '{ lambda ; a:f32[3]. let\n    b:f32[3] = tanh a\n    c:f32[3] = sub 1.0:f32[] b\n  in (b, b, c) }',
}


@pytest.mark.parametrize("name", sorted(PE_PROGRAMS))
def test_partial_eval_text(name):
  fn, args = PE_PROGRAMS[name]
  assert str(jax.make_jaxpr(fn)(*args)) == PE_TEXTS[name]


def _fd_grad(f, x, eps=1e-6):
  g = np.zeros_like(x)
  for i in np.ndindex(x.shape):
    d = np.zeros_like(x)
    d[i] = eps
    g[i] = (float(f(x + d)) - float(f(x - d))) / (2 * eps)
  return g


def test_forwarded_residuals_compute_the_right_derivatives():
  x = np.linspace(-1, 1.5, 5)
  y = np.linspace(0.5, 2, 5)
  with jax.enable_x64(True):
    inner = jax.jit(lambda z: jnp.sin(z) * z)
    fns = [
        lambda x: jax.jit(jnp.exp)(x).sum(),
        lambda x: jax.jit(lambda x, y: (x * y, y))(x, y)[0].sum(),
        lambda x: jax.jit(lambda x: inner(x).sum() * x[0])(x),
        lambda x: jax.jit(lambda a: (jnp.tanh(a) * y, a))(x)[0].sum(),
    ]
    for f in fns:
      for g in (jax.grad(f), jax.jit(jax.grad(f))):
        np.testing.assert_allclose(np.asarray(g(x)), _fd_grad(f, x), rtol=1e-6, atol=1e-8)
    # linearize / vjp of a jit, and their functions returned through jit
    f = jax.jit(lambda x, y: jnp.sin(x) * y)
    out, lin = jax.linearize(lambda x: f(x, y), x)
    np.testing.assert_allclose(np.asarray(lin(y)), np.cos(x) * y * y)
    out, pull = jax.jit(lambda x: jax.vjp(lambda x: f(x, y), x))(x)
    np.testing.assert_allclose(np.asarray(out), np.sin(x) * y)
    np.testing.assert_allclose(np.asarray(pull(np.ones(5))[0]), np.cos(x) * y)
    out, lin = jax.jit(lambda x: jax.linearize(jnp.tanh, x))(x)
    np.testing.assert_allclose(np.asarray(lin(np.ones(5))), 1 - np.tanh(x) ** 2)
    leaves = jax.tree_util.tree_leaves(jax.linearize(jnp.sin, x)[1])
    assert len(leaves) == 1
    np.testing.assert_allclose(np.asarray(leaves[0]), np.cos(x))


# ---------------------------------------------------------------------------------------
# 4. jnp.split & co stage one `split` primitive (sizes as NumPy ints, as JAX's jnp passes
#    them); lax.split keeps the sizes it is given.

X34 = np.arange(12, dtype=np.float32).reshape(3, 4)

SPLITS = {
    "split3": (lambda x: jnp.split(x, 3),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[1,4] c:f32[1,4] d:f32[1,4] = split[\n      axis=0\n'
        '      sizes=(np.int64(1), np.int64(1), np.int64(1))\n    ] a\n  in (b, c, d) }'),
    "split_points_axis1": (lambda x: jnp.split(x, [1, 3], axis=1),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,1] c:f32[3,2] d:f32[3,1] = split[\n      axis=1\n'
        '      sizes=(np.int64(1), np.int64(2), np.int64(1))\n    ] a\n  in (b, c, d) }'),
    "array_split3": (lambda x: jnp.array_split(x, 3, axis=1),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,2] c:f32[3,1] d:f32[3,1] = split[\n      axis=1\n'
        '      sizes=(np.int64(2), np.int64(1), np.int64(1))\n    ] a\n  in (b, c, d) }'),
    "hsplit": (lambda x: jnp.hsplit(x, 2),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,2] c:f32[3,2] = split[axis=1 sizes=(np.int64(2), '
        'np.int64(2))] a\n  in (b, c) }'),
    "split1": (lambda x: jnp.split(x, 1),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,4] = split[axis=0 sizes=(np.int64(3),)] a\n'
        '  in (b,) }'),
    "empty_pieces": (lambda x: jnp.split(x, [0, 3]),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[0,4] c:f32[3,4] d:f32[0,4] = split[\n      axis=0\n'
        '      sizes=(np.int64(0), np.int64(3), np.int64(0))\n    ] a\n  in (b, c, d) }'),
    "dsplit": (lambda x: jnp.dsplit(x[None], 2),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[1,3,4] = broadcast_in_dim[broadcast_dimensions=(1, 2)] a\n'
        '    c:f32[1,3,2] d:f32[1,3,2] = split[axis=2 sizes=(np.int64(2), np.int64(2))] b\n'
        '  in (c, d) }'),
    "lax_split": (lambda x: lax.split(x, (1, 3), axis=-1),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,1] c:f32[3,3] = split[axis=1 sizes=(1, 3)] a\n'
        '  in (b, c) }'),
    "unstack": (lambda x: jnp.unstack(x),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[4] c:f32[4] d:f32[4] = unstack[axis=0] a\n'
        '  in (b, c, d) }'),
    "grad": (lambda x: jax.grad(lambda x: lax.split(x, (1, 2))[1].sum())(x[0, :3]),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[1,3] = slice[limit_indices=(1, 3) start_indices=(0, 0) '
        'strides=None] a\n    c:f32[3] = squeeze[dimensions=(0,)] b\n    _:f32[1] d:f32[2] = '
        'split[axis=0 sizes=(1, 2)] c\n    _:f32[] = reduce_sum[axes=(0,) out_sharding=None] d\n'
        '    e:f32[2] = broadcast_in_dim 1.0:f32[]\n    f:f32[1] = broadcast_in_dim 0.0:f32[]\n'
        '    g:f32[3] = concatenate[dimension=0] f e\n  in (g,) }'),
    "vmap_axis1": (lambda x: jax.vmap(lambda x: lax.split(x, (1, 2)), in_axes=1, out_axes=1)(x),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[1,4] c:f32[2,4] = split[axis=0 sizes=(1, 2)] a\n'
        '  in (b, c) }'),
}


@pytest.mark.parametrize("name", sorted(SPLITS))
def test_split_text(name):
  fn, expected = SPLITS[name]
  assert str(jax.make_jaxpr(fn)(X34)) == expected


@pytest.mark.parametrize("bad, err, msg", [
    (lambda: jnp.split(X34, [2, 1]), ValueError,
     "Sizes passed to split must be nonnegative, got [np.int64(2), np.int64(-1), np.int64(2)]"),
    (lambda: jnp.split(X34, [5]), ValueError, "nonnegative"),
    (lambda: lax.split(X34, (1, 1)), ValueError,
     "Sum of sizes 2 must be equal to dimension 0 of the operand shape [3, 4]"),
    (lambda: lax.split(X34, (4, -1)), ValueError,
     "Sizes passed to split must be nonnegative, got [4, -1]"),
    (lambda: jnp.split(X34, 2), ValueError,
     "array split does not result in an equal division: rest is 1"),
])
def test_split_errors(bad, err, msg):
  with pytest.raises(err) as e:
    bad()
  assert msg in str(e.value)


@pytest.mark.parametrize("fn, npfn", [
    (lambda x: jnp.split(x, 3), lambda x: np.split(x, 3)),
    (lambda x: jnp.split(x, [1, 3], axis=1), lambda x: np.split(x, [1, 3], axis=1)),
    (lambda x: jnp.split(x, np.array([1, 1]), axis=0), lambda x: np.split(x, [1, 1], axis=0)),
    (lambda x: jnp.array_split(x, 3, axis=1), lambda x: np.array_split(x, 3, axis=1)),
    (lambda x: jnp.array_split(x, 5), lambda x: np.array_split(x, 5)),
    (lambda x: jnp.hsplit(x, 2), lambda x: np.hsplit(x, 2)),
    (lambda x: jnp.vsplit(x, 3), lambda x: np.vsplit(x, 3)),
    (lambda x: jnp.dsplit(x[None], [1]), lambda x: np.dsplit(x[None], [1])),
    (lambda x: jnp.unstack(x, axis=1), lambda x: list(np.moveaxis(x, 1, 0))),
])
def test_split_values(fn, npfn):
  expected = npfn(X34)
  for f in (fn, jax.jit(fn)):
    got = f(X34)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
      assert g.shape == e.shape and g.dtype == e.dtype
      np.testing.assert_array_equal(np.asarray(g), e)


def test_split_grad_vs_finite_differences():
  w = np.array([0.3, -1.2, 2.0, 0.7], np.float32)

  def f(x):
    a, b, c = jnp.split(x, [1, 3], axis=1)
    return jnp.sum(jnp.sin(a) * 2.0) + jnp.sum(b * b * w[1:3]) + jnp.sum(jnp.exp(c * 0.1))

  x = np.linspace(-1, 1, 12).reshape(3, 4).astype(np.float64)
  with jax.enable_x64(True):
    g = np.asarray(jax.grad(f)(x))
    eps = 1e-6
    fd = np.zeros_like(x)
    for i in np.ndindex(x.shape):
      d = np.zeros_like(x)
      d[i] = eps
      fd[i] = (float(f(x + d)) - float(f(x - d))) / (2 * eps)
  np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
  # linear_transpose of split is concatenate
  ct = [np.ones((3, 1), np.float32), 2 * np.ones((3, 2), np.float32),
        3 * np.ones((3, 1), np.float32)]
  (t,) = jax.linear_transpose(lambda x: lax.split(x, (1, 2, 1), axis=1), X34)(ct)
  np.testing.assert_array_equal(np.asarray(t), np.concatenate(ct, axis=1))


@pytest.mark.parametrize("in_axes", [0, 1, 2])
def test_split_vmap_vs_loop(in_axes):
  x = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
  fn = lambda a: lax.split(a, (1, 0, 2), axis=0)
  b = np.moveaxis(x, 0, in_axes)
  got = jax.vmap(fn, in_axes=in_axes)(b)
  loop = [fn(b.take(i, axis=in_axes)) for i in range(b.shape[in_axes])]
  for k, piece in enumerate(got):
    np.testing.assert_array_equal(np.asarray(piece), np.stack([np.asarray(l[k]) for l in loop]))


TILES = {
    "tile_2d": (lambda x: jnp.tile(x, (2, 1)),
        '{ lambda ; a:f32[3,4]. let b:f32[6,4] = tile[reps=(2, 1)] a in (b,) }'),
    "tile_int": (lambda x: jnp.tile(x, 2),
        '{ lambda ; a:f32[3,4]. let b:f32[3,8] = tile[reps=(1, 2)] a in (b,) }'),
    "tile_longer_reps": (lambda x: jnp.tile(x, (2, 1, 3)),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[1,3,4] = broadcast_in_dim[broadcast_dimensions=(1, 2)] a\n'
        '    c:f32[2,3,12] = tile[reps=(2, 1, 3)] b\n  in (c,) }'),
    "tile_empty_reps": (lambda x: jnp.tile(x, ()),
        '{ lambda ; a:f32[3,4]. let b:f32[3,4] = tile[reps=(1, 1)] a in (b,) }'),
    "tile_zero": (lambda x: jnp.tile(x, (0, 2)),
        '{ lambda ; a:f32[3,4]. let b:f32[0,8] = tile[reps=(0, 2)] a in (b,) }'),
    "tile_grad": (jax.grad(lambda x: jnp.tile(x, (2, 1)).sum()),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[6,4] = tile[reps=(2, 1)] a\n    _:f32[] = reduce_sum'
        '[axes=(0, 1) out_sharding=None] b\n    c:f32[6,4] = broadcast_in_dim 1.0:f32[]\n    d:f32'
        '[2,3,1,4] = reshape[\n      dimensions=None\n      new_sizes=(2, 3, 1, 4)\n      sharding='
        'None\n    ] c\n    e:f32[3,4] = reduce_sum[axes=(0, 2) out_sharding=None] d\n  in (e,) }'),
    "tile_vmap": (jax.vmap(lambda x: jnp.tile(x, 2)),
        '{ lambda ; a:f32[3,4]. let b:f32[3,8] = tile[reps=(1, 2)] a in (b,) }'),
}


@pytest.mark.parametrize("name", sorted(TILES))
def test_tile_text(name):
  fn, expected = TILES[name]
  assert str(jax.make_jaxpr(fn)(X34)) == expected


@pytest.mark.parametrize("reps", [(2, 1), 3, (2, 1, 3), (), (0, 2), (1, 2, 1, 2)])
def test_tile_values(reps):
  np.testing.assert_array_equal(np.asarray(jnp.tile(X34, reps)), np.tile(X34, reps))
  np.testing.assert_array_equal(np.asarray(jax.jit(lambda x: jnp.tile(x, reps) * 2)(X34)),
                                np.tile(X34, reps) * 2)


def test_split_tile_unstack_under_jit_and_scan():
  # the compiler sees split/unstack/tile as slices and broadcasts (views), top level and
  # in loop bodies
  x = np.arange(24, dtype=np.float32).reshape(4, 6)

  def f(x):
    a, b, c = jnp.split(x, [1, 3])
    return [a * 2, b - 1, c] + list(jnp.unstack(x, axis=1)) + [jnp.tile(x, (2, 1, 3)) + 1]

  exp = [x[:1] * 2, x[1:3] - 1, x[3:]] + list(x.T) + [np.tile(x, (2, 1, 3)) + 1]
  for g, e in zip(jax.jit(f)(x), exp):
    np.testing.assert_array_equal(np.asarray(g), e)

  def body(c, a):
    p, q = jnp.split(a, 2)
    return c + p.sum() * q.sum(), jnp.tile(p, 2)

  c, ys = jax.jit(lambda x: lax.scan(body, 0.0, x))(x)
  c_ref, ys_ref = 0.0, []
  for row in x:
    c_ref += row[:3].sum() * row[3:].sum()
    ys_ref.append(np.tile(row[:3], 2))
  assert float(c) == c_ref
  np.testing.assert_array_equal(np.asarray(ys), np.stack(ys_ref))


def test_tile_grad_vs_finite_differences():
  w = np.linspace(-1, 1, 2 * 3 * 12).reshape(2, 3, 12)
  f = lambda x: jnp.sum(jnp.sin(jnp.tile(x, (2, 1, 3))) * w)
  x = np.linspace(-1, 1, 12).reshape(3, 4)
  with jax.enable_x64(True):
    np.testing.assert_allclose(np.asarray(jax.grad(f)(x)), _fd_grad(f, x), rtol=1e-6,
                               atol=1e-8)


def test_squeeze_numpy_int_axes_become_python_ints():
  # JAX 0.10.2: make_jaxpr(lambda x: lax.squeeze(x, (np.int64(0),)))(ones((1, 3)))
  want = "{ lambda ; a:f32[1,3]. let b:f32[3] = squeeze[dimensions=(0,)] a in (b,) }"
  jaxpr = jax.make_jaxpr(lambda x: lax.squeeze(x, (np.int64(0),)))(jnp.ones((1, 3)))
  assert str(jaxpr) == want
  assert type(jaxpr.eqns[0].params["dimensions"][0]) is int
