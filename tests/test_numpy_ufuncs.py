"""jnp elementwise functions: NumPy parity, jit parity, vmap-vs-loop and check_grads from op
records; JAX's result dtypes and weak types (goldens recorded from JAX 0.10.2, both x64
modes); special values, Python scalar operands, power's special cases, ufunc objects."""
import json
import math
import os
import warnings

import numpy as np
import pytest

import numjax
import numjax.numpy as jnp
from numjax.experimental import enable_x64

from conftest import SHARED
from records import DEFAULT, POSITIVE, UNIT, Rec, make_tests, uniform

BF16 = np.dtype(jnp.bfloat16.dtype)
FLOATS = ("float32", "float16", "bfloat16")
FLOATS_C = FLOATS + ("complex64",)
INTS = ("int32", "int8", "uint8", "bool")
SHAPES = [(), (3,), (2, 3)]
EMPTY = [(0,), (2, 0)]
PAIRS = [((), (3,)), ((3,), ()), ((2, 3), (2, 3)), ((2, 1), (1, 3)), ((3,), (2, 3))]
EMPTY_PAIRS = [((0,), (0,)), ((1,), (0,)), ((2, 0), (0,))]


def nonzero(lo=0.5, hi=3.0):
  """Values of either sign (non-negative for unsigned) with lo <= |v| <= hi: never 0."""
  def make(rng, shape, dtype):
    dt = np.dtype(dtype if dtype != "bfloat16" else np.float32)
    if dt == np.bool_:
      return np.ones(shape, bool)
    if dt.kind in "iu":
      v = rng.integers(max(1, int(np.ceil(lo))), int(hi) + 1, shape)
      sign = np.where(rng.random(shape) < 0.5, -1, 1) if dt.kind == "i" else 1
      return (v * sign).astype(dt)
    v = uniform(lo, hi)(rng, shape, dtype)
    return v * np.where(rng.random(shape) < 0.5, -1, 1).astype(v.dtype)
  return make


NONZERO = nonzero()


def INT32_EXPONENT(rng, shape, dtype):  # noqa: N802 (a domain: int32 whatever the dtype)
  return rng.integers(-8, 9, shape).astype(np.int32)

def SMALL_INT(rng, shape, dtype):  # noqa: N802 (a domain: 0..3 in the given dtype)
  return rng.integers(0, 4, shape).astype(dtype if dtype != "bfloat16" else np.float32)


def npf(f):
  """A NumPy reference that computes bfloat16 in float32 and rounds back (quietly)."""
  def ref(*args):
    bf = any(a.dtype == BF16 for a in args)
    if bf:
      args = [a.astype(np.float32) if a.dtype == BF16 else a for a in args]
    with np.errstate(all="ignore"):
      out = f(*args)
    if bf:
      cast = lambda o: np.asarray(o).astype(BF16) if np.asarray(o).dtype == np.float32 else o
      out = tuple(map(cast, out)) if isinstance(out, tuple) else cast(out)
    return out
  return ref


def _split(rec):
  """NumPy parity over every dtype; jit/vmap/grad parity on the first dtype only (they
  exercise the same rules whatever the dtype, and keep this file fast)."""
  import dataclasses
  rest = rec.dtypes[1:]
  main = dataclasses.replace(rec, dtypes=rec.dtypes[:1])
  if not rest:
    return [main]
  return [main, dataclasses.replace(rec, name=rec.name + "_dt", dtypes=rest, jit=False,
                                    vmap=False, grad=0)]


def _float_ref(ref, inexact):
  """For functions whose integer inputs JAX promotes to float32, NumPy's reference gets
  float32 inputs too (NumPy would compute int8 in float16)."""
  if not inexact:
    return ref
  def f(*args):
    return ref(*[a.astype(np.float32) if a.dtype.kind in "biu" else a for a in args])
  return f


def _int_tol(tol):
  t = {d: 1e-6 for d in INTS}
  t.update(tol or {})
  return t


def unary(name, ref, dtypes=FLOATS, domain=DEFAULT, grad=2, int_dtypes=INTS, tol=None,
          ref_name=None, inexact=False, **kw):
  """Records for a unary function: floats (dtype-checked, grads), integers (values),
  and 0-size shapes."""
  fn = getattr(jnp, name)
  ref = npf(ref if callable(ref) else getattr(np, ref_name or name))
  recs = _split(Rec(name, fn, ref, SHAPES, dtypes=dtypes, domain=domain, grad=grad, tol=tol,
                    **kw)) if dtypes else []
  recs.append(Rec(name + "_empty", fn, ref, EMPTY, dtypes=(dtypes or int_dtypes)[:1],
                  domain=domain, **kw))
  if int_dtypes:
    recs.append(Rec(name + "_int", fn, _float_ref(ref, inexact), SHAPES, dtypes=int_dtypes,
                    domain=domain, check_dtype=False, tol=_int_tol(tol), **kw))
  return recs


def binary(name, ref=None, dtypes=FLOATS, domain=DEFAULT, grad=2, int_dtypes=INTS, tol=None,
           pairs=PAIRS, inexact=False, **kw):
  fn = getattr(jnp, name)
  ref = npf(ref if callable(ref) else getattr(np, ref or name))
  recs = _split(Rec(name, fn, ref, pairs, dtypes=dtypes, domain=domain, nargs=2, grad=grad,
                    tol=tol, **kw)) if dtypes else []
  recs.append(Rec(name + "_empty", fn, ref, EMPTY_PAIRS, dtypes=(dtypes or int_dtypes)[:1],
                  domain=domain, nargs=2, **kw))
  if int_dtypes:
    recs.append(Rec(name + "_int", fn, _float_ref(ref, inexact), pairs, dtypes=int_dtypes,
                    domain=domain, nargs=2, check_dtype=False, tol=_int_tol(tol), **kw))
  return recs


def _np_sinc(x):
  return np.sinc(x)


RECORDS = [
    *unary("negative", np.negative, FLOATS_C, int_dtypes=("int32", "int8", "uint8")),
    *unary("positive", np.positive, FLOATS_C, grad=1, int_dtypes=("int32", "int8", "uint8")),
    *unary("abs", np.abs, FLOATS_C, domain=NONZERO),
    *unary("absolute", np.absolute, FLOATS, grad=0),
    *unary("fabs", np.fabs, FLOATS, domain=NONZERO),
    *unary("sign", np.sign, FLOATS, grad=0, int_dtypes=("int32", "int8", "uint8")),
    *unary("sqrt", np.sqrt, FLOATS_C, domain=POSITIVE, inexact=True),
    *unary("cbrt", np.cbrt, FLOATS, domain=NONZERO, int_dtypes=("int32", "int8"), inexact=True),
    *unary("square", np.square, FLOATS_C),
    *unary("reciprocal", lambda x: np.reciprocal(x if x.dtype.kind in "fc" or x.dtype == BF16
                                                 else x.astype(np.float32)),
           FLOATS_C, domain=NONZERO, int_dtypes=()),
    *unary("exp", np.exp, FLOATS_C, inexact=True),
    *unary("exp2", np.exp2, FLOATS, inexact=True),
    *unary("expm1", np.expm1, FLOATS, inexact=True),
    *unary("log", np.log, FLOATS_C, domain=POSITIVE, inexact=True),
    *unary("log2", np.log2, FLOATS_C, domain=POSITIVE, inexact=True),
    *unary("log10", np.log10, FLOATS_C, domain=POSITIVE, inexact=True),
    *unary("log1p", np.log1p, FLOATS, domain=POSITIVE, inexact=True),
    *unary("sin", np.sin, FLOATS_C, inexact=True),
    *unary("cos", np.cos, FLOATS_C, inexact=True),
    *unary("tan", np.tan, FLOATS, domain=uniform(-1.2, 1.2), int_dtypes=("int32", "bool"), inexact=True),
    *unary("arcsin", np.arcsin, FLOATS, domain=UNIT, int_dtypes=("bool",), inexact=True),
    *unary("arccos", np.arccos, FLOATS, domain=UNIT, int_dtypes=("bool",), inexact=True),
    *unary("arctan", np.arctan, FLOATS_C, inexact=True),
    *unary("sinh", np.sinh, FLOATS, inexact=True),
    *unary("cosh", np.cosh, FLOATS, inexact=True),
    *unary("tanh", np.tanh, FLOATS_C, inexact=True),
    *unary("arcsinh", np.arcsinh, FLOATS, inexact=True),
    *unary("arccosh", np.arccosh, FLOATS, domain=uniform(1.1, 3.0), int_dtypes=()),
    *unary("arctanh", np.arctanh, FLOATS, domain=UNIT, int_dtypes=()),
    *unary("asin", np.arcsin, ("float32",), domain=UNIT, int_dtypes=()),
    *unary("acos", np.arccos, ("float32",), domain=UNIT, int_dtypes=()),
    *unary("atan", np.arctan, ("float32",), int_dtypes=()),
    *unary("asinh", np.arcsinh, ("float32",), int_dtypes=()),
    *unary("acosh", np.arccosh, ("float32",), domain=uniform(1.1, 3.0), int_dtypes=()),
    *unary("atanh", np.arctanh, ("float32",), domain=UNIT, int_dtypes=()),
    *unary("deg2rad", np.deg2rad, FLOATS, inexact=True),
    *unary("radians", np.radians, ("float32",), int_dtypes=()),
    *unary("rad2deg", np.rad2deg, FLOATS, inexact=True),
    *unary("degrees", np.degrees, ("float32",), int_dtypes=()),
    *unary("floor", np.floor, FLOATS, grad=0, domain=uniform(-5, 5)),
    *unary("ceil", np.ceil, FLOATS, grad=0, domain=uniform(-5, 5)),
    *unary("trunc", np.trunc, FLOATS, grad=0, domain=uniform(-5, 5)),
    *unary("rint", np.rint, FLOATS, grad=0, domain=uniform(-5, 5)),
    *unary("round", np.round, FLOATS_C, grad=0, domain=uniform(-5, 5),
           int_dtypes=("int32", "int8", "uint8")),
    *unary("isnan", np.isnan, FLOATS_C, grad=0),
    *unary("isinf", np.isinf, FLOATS_C, grad=0),
    *unary("isfinite", np.isfinite, FLOATS_C, grad=0),
    *unary("isposinf", np.isposinf, FLOATS, grad=0),
    *unary("isneginf", np.isneginf, FLOATS, grad=0),
    *unary("signbit", np.signbit, FLOATS, grad=0, int_dtypes=("int32", "int8", "uint8")),
    *unary("spacing", np.spacing, ("float32",), grad=0, int_dtypes=()),
    *unary("logical_not", np.logical_not, FLOATS_C, grad=0),
    *unary("bitwise_not", np.bitwise_not, (), grad=0),
    *unary("invert", np.invert, (), grad=0),
    *unary("bitwise_invert", np.invert, (), grad=0),
    *unary("bitwise_count", np.bitwise_count, (), grad=0, int_dtypes=("int32", "int8", "uint8")),
    *unary("conj", np.conj, FLOATS_C, grad=1),
    *unary("conjugate", np.conjugate, FLOATS_C, grad=1),
    *unary("real", np.real, FLOATS_C, grad=1),
    *unary("imag", np.imag, FLOATS_C, grad=1),
    *unary("angle", np.angle, ("complex64", "float32"), grad=0, int_dtypes=()),
    *unary("sinc", _np_sinc, FLOATS, domain=uniform(-2, 2), inexact=True),
    *unary("i0", np.i0, ("float32",), domain=uniform(-20, 20), int_dtypes=(),
           tol={"float32": 2e-5}),
    *unary("isreal", np.isreal, FLOATS_C, grad=0),
    *unary("iscomplex", np.iscomplex, FLOATS_C, grad=0),
    *unary("frexp", np.frexp, FLOATS, grad=0, domain=uniform(-100, 100)),
    *unary("modf", np.modf, FLOATS, grad=1, domain=uniform(-5, 5)),
    *binary("add", dtypes=FLOATS_C),
    *binary("subtract", dtypes=FLOATS_C, int_dtypes=("int32", "int8", "uint8")),
    *binary("multiply", dtypes=FLOATS_C),
    *binary("divide", dtypes=FLOATS_C, domain=[DEFAULT, NONZERO], int_dtypes=("int32", "int8"), inexact=True),
    *binary("true_divide", dtypes=FLOATS, domain=[DEFAULT, NONZERO], int_dtypes=("int32",), inexact=True),
    *binary("floor_divide", dtypes=FLOATS, domain=[uniform(-6, 6), NONZERO], grad=0,
            int_dtypes=("int32", "int8", "uint8")),
    *binary("remainder", dtypes=FLOATS, domain=[uniform(-6, 6), NONZERO], grad=0,
            int_dtypes=("int32", "int8", "uint8")),
    *binary("mod", dtypes=("float32",), domain=[uniform(-6, 6), NONZERO], grad=0,
            int_dtypes=("int32",)),
    *binary("fmod", dtypes=FLOATS, domain=[uniform(-6, 6), NONZERO], grad=0,
            int_dtypes=("int32", "int8", "uint8")),
    *binary("divmod", dtypes=FLOATS, domain=[uniform(-6, 6), NONZERO], grad=0,
            int_dtypes=("int32", "int8")),
    *binary("power", dtypes=FLOATS_C, domain=[POSITIVE, DEFAULT], int_dtypes=(),
            tol={"float32": 2e-5}),
    *binary("power", dtypes=("int32", "int8", "uint8"), domain=[uniform(-3, 3), SMALL_INT],
            grad=0, int_dtypes=()),
    *binary("float_power", dtypes=("float32",), domain=[POSITIVE, DEFAULT], int_dtypes=(),
            ref=lambda a, b: np.float_power(a, b).astype(np.float32)),
    *binary("arctan2", dtypes=FLOATS, domain=[NONZERO, NONZERO], inexact=True),
    *binary("hypot", dtypes=FLOATS, domain=[NONZERO, NONZERO], int_dtypes=("int32", "int8"), inexact=True),
    *binary("logaddexp", dtypes=FLOATS, int_dtypes=("int32",), inexact=True),
    *binary("logaddexp2", dtypes=FLOATS, int_dtypes=("int32",), inexact=True),
    *binary("maximum", dtypes=FLOATS_C),
    *binary("minimum", dtypes=FLOATS_C),
    *binary("fmax", dtypes=FLOATS, grad=0),
    *binary("fmin", dtypes=FLOATS, grad=0),
    *binary("copysign", dtypes=FLOATS, domain=[DEFAULT, NONZERO], grad=0, int_dtypes=("int32",)),
    *binary("nextafter", dtypes=("float32", "float16"), grad=0, int_dtypes=()),
    *binary("heaviside", dtypes=FLOATS, grad=0, domain=[uniform(-2, 2), DEFAULT]),
    *binary("gcd", dtypes=(), grad=0, domain=[uniform(-30, 30), uniform(-30, 30)],
            int_dtypes=("int32", "int8", "uint8")),
    *binary("lcm", dtypes=(), grad=0, domain=[uniform(-12, 12), uniform(-12, 12)],
            int_dtypes=("int32", "int8", "uint8")),
    *binary("equal", dtypes=FLOATS_C, grad=0, domain=uniform(-2, 2)),
    *binary("not_equal", dtypes=FLOATS_C, grad=0, domain=uniform(-2, 2)),
    *binary("less", dtypes=FLOATS_C, grad=0),
    *binary("less_equal", dtypes=FLOATS_C, grad=0),
    *binary("greater", dtypes=FLOATS_C, grad=0),
    *binary("greater_equal", dtypes=FLOATS_C, grad=0),
    *binary("logical_and", dtypes=FLOATS_C, grad=0, domain=uniform(-1, 1)),
    *binary("logical_or", dtypes=FLOATS_C, grad=0, domain=uniform(-1, 1)),
    *binary("logical_xor", dtypes=FLOATS_C, grad=0, domain=uniform(-1, 1)),
    *binary("bitwise_and", dtypes=(), grad=0, domain=uniform(0, 100)),
    *binary("bitwise_or", dtypes=(), grad=0, domain=uniform(0, 100)),
    *binary("bitwise_xor", dtypes=(), grad=0, domain=uniform(0, 100)),
    *binary("left_shift", dtypes=(), grad=0, domain=[uniform(0, 10), SMALL_INT],
            int_dtypes=("int32", "int8", "uint8")),
    *binary("right_shift", dtypes=(), grad=0, domain=[uniform(-50, 50), SMALL_INT],
            int_dtypes=("int32", "int8", "uint8")),
    *binary("bitwise_left_shift", dtypes=(), grad=0, domain=[uniform(0, 10), SMALL_INT],
            int_dtypes=("int32",), ref="left_shift"),
    *binary("bitwise_right_shift", dtypes=(), grad=0, domain=[uniform(-50, 50), SMALL_INT],
            int_dtypes=("int32",), ref="right_shift"),
    *binary("isclose", dtypes=FLOATS_C, grad=0, domain=uniform(-1, 1)),
    Rec("ldexp", jnp.ldexp, np.ldexp, PAIRS, dtypes=("float32", "float16"), nargs=2, grad=0,
        domain=[DEFAULT, INT32_EXPONENT]),
]

test_numpy, test_jit, test_vmap, test_grad = make_tests(RECORDS)


# ---------------------------------------------------------------------------------------
# Dtypes and weak types, against goldens recorded from JAX 0.10.2

PROMOTION = json.load(open(os.path.join(SHARED, "golden", "jax_promotion_golden.json")))
PART_A = json.load(open(os.path.join(os.path.dirname(__file__), "data",
                                     "jnp_part_a_golden.json")))


def _make(kind):
  if kind.startswith("py_"):
    return {"py_int": 3, "py_float": 2.5, "py_complex": 1 + 2j}[kind]
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    return jnp.ones((2,), dtype=kind)


def _describe(r):
  if isinstance(r, (tuple, list)):
    return [_describe(x) for x in r]
  return str(r.dtype) + (" weak" if getattr(r, "weak_type", False) else "")


def _call(f, *args):
  try:
    with warnings.catch_warnings():
      warnings.simplefilter("ignore")
      return _describe(f(*args))
  except Exception as e:  # noqa: BLE001
    return "error: " + ("TypeError" if isinstance(e, TypeError) else type(e).__name__)


def _golden_errors(expected):
  if isinstance(expected, str) and expected.startswith("error: "):
    return "error: " + expected[7:]
  return expected


@pytest.mark.parametrize("mode", ["x64_off", "x64_on"])
def test_add_promotion_matches_jax_golden(mode):
  """Required: jnp.add's result dtype and weak type for every operand pair, as JAX."""
  table = PROMOTION[mode]
  bad = []
  with enable_x64(mode == "x64_on"):
    for key, expected in table.items():
      a, b = key.split("+")
      got = _call(jnp.add, _make(a), _make(b))
      if got != expected:
        bad.append(f"{key}: got {got}, JAX gives {expected}")
  assert len(table) == 18 * 18 - 9
  assert not bad, "\n".join(bad)


@pytest.mark.parametrize("mode", ["x64_off", "x64_on"])
@pytest.mark.parametrize("arity", ["unary", "binary"])
def test_result_dtypes_match_jax_golden(mode, arity):
  bad = []
  with enable_x64(mode == "x64_on"):
    for key, expected in PART_A[mode][arity].items():
      name, argstr = key[:-1].split("(")
      args = [_make(k) for k in argstr.split(",")]
      got = _call(getattr(jnp, name), *args)
      if got != _golden_errors(expected):
        bad.append(f"{key}: got {got}, JAX gives {expected}")
  assert not bad, "\n".join(bad[:40]) + f"\n({len(bad)} mismatches)"


def test_python_scalars_are_weak():
  assert jnp.add(1, 2).weak_type and jnp.add(1, 2).dtype == np.int32
  assert jnp.sin(1).weak_type and jnp.sin(1).dtype == np.float32
  assert jnp.multiply(2.0, 3).dtype == np.float32
  x = jnp.ones(3, jnp.float16)
  assert jnp.add(x, 2.0).dtype == np.float16 and not jnp.add(x, 2.0).weak_type
  assert jnp.add(jnp.ones(3, jnp.int8), 2.0).dtype == np.float32
  assert jnp.less(jnp.asarray(1.0), 2).weak_type  # weak < weak gives a weak bool, as JAX
  with enable_x64():
    assert jnp.add(1, 2).dtype == np.int64 and jnp.true_divide(1, 2).dtype == np.float64


# ---------------------------------------------------------------------------------------
# Special values and function-specific behaviour

def test_true_divide_of_integers_is_float():
  out = jnp.true_divide(jnp.arange(4), 2)
  assert out.dtype == np.float32
  np.testing.assert_allclose(out, np.arange(4) / 2)
  assert (jnp.arange(3, dtype=jnp.int8) / jnp.arange(1, 4, dtype=jnp.int8)).dtype == np.float32


def test_floor_ceil_trunc_of_integers_keep_dtype():
  x = jnp.arange(-3, 3, dtype=jnp.int16)
  for f in (jnp.floor, jnp.ceil, jnp.trunc):
    assert f(x).dtype == np.int16
    np.testing.assert_array_equal(f(x), np.arange(-3, 3))
  assert jnp.rint(x).dtype == np.float32


def test_power_special_cases():
  x = jnp.arange(-3, 4)
  np.testing.assert_array_equal(x ** 3, np.arange(-3, 4) ** 3)
  jaxpr = str(numjax.make_jaxpr(lambda x: x ** 3)(jnp.ones(3)))
  assert "integer_pow[y=3]" in jaxpr
  with pytest.raises(TypeError, match="Integers cannot be raised to negative powers"):
    jnp.arange(3) ** -1
  with pytest.raises(TypeError, match="Integers cannot be raised to negative powers"):
    jnp.power(2, -1)
  np.testing.assert_allclose(jnp.arange(1.0, 4.0) ** -2, np.arange(1.0, 4.0) ** -2)
  np.testing.assert_array_equal(jnp.power(2, jnp.arange(5)), 2 ** np.arange(5))
  b = np.array([2, -3, 0, 5], np.int32)
  e = np.array([3, 2, 0, 0], np.int32)
  np.testing.assert_array_equal(jnp.power(b, e), b ** e)
  np.testing.assert_array_equal(jnp.array(0.0) ** 0, 1.0)
  # float base, integer-array exponent: differentiable at a zero base
  g = numjax.grad(lambda x: jnp.power(x, jnp.array(2)))(0.0)
  assert float(g) == 0.0
  assert jnp.power(jnp.ones(2, jnp.float32), jnp.ones(2, jnp.int32)).dtype == np.float32


def test_integer_power_wraps_like_jax():
  # 2 ** -1 over int arrays: binary exponentiation of the exponent's 6 low bits (as JAX)
  out = jnp.power(jnp.array([2, 3]), jnp.array([-1, 2]))
  np.testing.assert_array_equal(out, [0, 9])


def test_divmod_floor_semantics():
  a = np.array([-7.5, 7.5, -7, 7, 0.0, -0.0], np.float32)
  b = np.array([2, -2, -2, 2, 3, -3], np.float32)
  q, r = jnp.divmod(a, b)
  eq, er = np.divmod(a, b)
  np.testing.assert_array_equal(q, eq)
  np.testing.assert_array_equal(r, er)
  ai = np.array([-7, 7, -7, 7, 0], np.int32)
  bi = np.array([2, -2, -2, 2, 3], np.int32)
  np.testing.assert_array_equal(jnp.floor_divide(ai, bi), np.floor_divide(ai, bi))
  np.testing.assert_array_equal(jnp.remainder(ai, bi), np.remainder(ai, bi))
  np.testing.assert_array_equal(jnp.fmod(ai, bi), np.fmod(ai, bi))


def test_nan_to_num():
  x = np.array([np.nan, np.inf, -np.inf, 1.5], np.float32)
  np.testing.assert_array_equal(jnp.nan_to_num(x), np.nan_to_num(x))
  np.testing.assert_array_equal(jnp.nan_to_num(x, nan=-1, posinf=9, neginf=-9),
                                np.nan_to_num(x, nan=-1, posinf=9, neginf=-9))
  c = np.array([complex(np.nan, np.inf)], np.complex64)
  np.testing.assert_array_equal(jnp.nan_to_num(c), np.nan_to_num(c))
  i = jnp.arange(3)
  assert jnp.nan_to_num(i) is i


def test_isclose_allclose():
  a = np.array([1.0, np.nan, np.inf, -np.inf, 1e-9, 2.0], np.float32)
  b = np.array([1.0 + 1e-7, np.nan, np.inf, np.inf, 0.0, 2.1], np.float32)
  np.testing.assert_array_equal(jnp.isclose(a, b), np.isclose(a, b))
  np.testing.assert_array_equal(jnp.isclose(a, b, equal_nan=True),
                                np.isclose(a, b, equal_nan=True))
  assert bool(jnp.allclose(a[:1], b[:1])) and not bool(jnp.allclose(a, b))
  assert jnp.allclose(a, b).shape == () and jnp.allclose(a, b).dtype == np.bool_
  assert bool(jnp.allclose(a[1:2], b[1:2], equal_nan=True))
  c = np.array([1 + 1j, 2 - 1j], np.complex64)
  np.testing.assert_array_equal(jnp.isclose(c, c + 1e-7), np.isclose(c, c + 1e-7))


def test_signbit_copysign_signed_zero():
  x = np.array([-0.0, 0.0, -1.0, 2.0, -np.inf, -np.nan, np.nan], np.float32)
  np.testing.assert_array_equal(jnp.signbit(x), np.signbit(x))
  np.testing.assert_array_equal(jnp.signbit(x.astype(np.float16)), np.signbit(x))
  np.testing.assert_array_equal(jnp.copysign(3.0, x), np.copysign(np.float32(3), x))


def test_frexp_ldexp_edge_values():
  info = np.finfo(np.float32)
  x = np.array([0.0, -0.0, 1.0, -3.5, info.max, info.tiny, info.tiny / 8, np.inf, -np.inf,
                2.0 ** 100 * (1 - 2.0 ** -24), 0.99999994], np.float32)
  m, e = jnp.frexp(x)
  em, ee = np.frexp(x)
  np.testing.assert_array_equal(m, em)
  np.testing.assert_array_equal(e, ee)
  assert e.dtype == np.int32
  np.testing.assert_array_equal(jnp.frexp(np.array([np.nan], np.float32))[1], [0])
  mant = np.array([0.5, 0.75, -0.5, 1.0, 3.0, 0.0, np.inf], np.float32)
  ex = np.array([1, 128, -130, -149, 2, 1000, 3], np.int32)
  np.testing.assert_array_equal(jnp.ldexp(mant, ex), np.ldexp(mant, ex))
  with pytest.raises(ValueError, match="ldexp not supported"):
    jnp.ldexp(1.0, 2.0)


def test_frexp_gradient():
  g = numjax.grad(lambda x: jnp.frexp(x)[0])(12.0)
  np.testing.assert_allclose(g, 1 / 16)


def test_sinc_at_zero_has_the_right_derivatives():
  assert float(jnp.sinc(0.0)) == 1.0
  d1 = numjax.grad(jnp.sinc)(0.0)
  d2 = numjax.grad(numjax.grad(jnp.sinc))(0.0)
  assert float(d1) == 0.0
  np.testing.assert_allclose(d2, -math.pi ** 2 / 3, rtol=1e-6)


def test_logaddexp_infinities():
  a = np.array([-np.inf, np.inf, -np.inf, 0.0, 1000.0], np.float32)
  b = np.array([-np.inf, np.inf, 1.0, 0.0, 1000.0], np.float32)
  with np.errstate(all="ignore"):
    np.testing.assert_allclose(jnp.logaddexp(a, b), np.logaddexp(a, b))
    np.testing.assert_allclose(jnp.logaddexp2(a, b), np.logaddexp2(a, b))
  g = numjax.grad(lambda x: jnp.logaddexp(x, 0.0))(0.0)
  assert float(g) == 0.5


def test_i0_float64_large_arguments():
  with enable_x64():
    x = np.array([0.0, 1e-3, 5.0, 14.9, 15.1, 30.0, 200.0, -40.0])
    np.testing.assert_allclose(jnp.i0(x), np.i0(x), rtol=1e-13)
    g = numjax.grad(jnp.i0)(3.0)
    # d/dx I0 = I1; I1(3) from its series
    i1 = sum((1.5) ** (2 * k + 1) / (math.factorial(k) * math.factorial(k + 1))
             for k in range(30))
    np.testing.assert_allclose(g, i1, rtol=1e-12)


def test_round_decimals():
  x = np.array([1.2345, -2.5, 0.5, 1.5, 123.456], np.float32)
  for d in (0, 1, 2, -1):
    np.testing.assert_allclose(jnp.round(x, d), np.round(x, d), rtol=1e-6)
  np.testing.assert_array_equal(jnp.around(x), np.around(x))
  np.testing.assert_array_equal(jnp.round(jnp.arange(5)), np.arange(5))
  with pytest.raises(NotImplementedError):
    jnp.round(jnp.arange(5), -1)
  f16 = np.array([1.2345], np.float16)
  assert jnp.round(f16, 2).dtype == np.float16


def test_arccosh_complex_branch_matches_numpy():
  z = np.array([0.5 + 0.1j, -2 - 1j, 3j, -0.5 - 0.5j], np.complex64)
  np.testing.assert_allclose(jnp.arccosh(z), np.arccosh(z), rtol=1e-5, atol=1e-6)


def test_complex_comparisons_are_lexicographic():
  a = np.array([1 + 2j, 1 + 2j, 2 + 0j, 1 - 1j], np.complex64)
  b = np.array([1 + 3j, 1 + 2j, 1 + 5j, 1 + 1j], np.complex64)
  for f in ("less", "less_equal", "greater", "greater_equal"):
    np.testing.assert_array_equal(getattr(jnp, f)(a, b), getattr(np, f)(a, b))


def test_bool_arithmetic_is_logical():
  t = np.array([True, False, True, False])
  u = np.array([True, True, False, False])
  np.testing.assert_array_equal(jnp.add(t, u), t | u)
  np.testing.assert_array_equal(jnp.multiply(t, u), t & u)
  assert jnp.add(t, u).dtype == np.bool_


def test_errors():
  with pytest.raises(TypeError, match="add requires ndarray or scalar arguments, got "
                     "<class 'list'> at position 0"):
    jnp.add([1, 2], 3)
  with pytest.raises(TypeError, match="sin requires ndarray or scalar arguments"):
    jnp.sin((1.0,))
  with pytest.raises(TypeError, match="add got incompatible shapes for broadcasting"):
    jnp.add(jnp.ones(3), jnp.ones(4))
  with pytest.raises(ValueError, match="Incompatible shapes for broadcasting"):
    jnp.add(jnp.ones(3), jnp.ones((2, 4)))
  with pytest.raises(TypeError, match="fabs"):
    jnp.fabs(jnp.ones(2, jnp.complex64))
  with pytest.raises(ValueError, match="hypot"):
    jnp.hypot(jnp.ones(2, jnp.complex64), 1.0)
  with pytest.raises(TypeError, match="frexp"):
    jnp.frexp(jnp.ones(2, jnp.complex64))
  with pytest.raises(ValueError, match="gcd must be integers"):
    jnp.gcd(1.0, 2.0)
  with pytest.raises(TypeError, match="sign does not accept dtype bool"):
    jnp.sign(jnp.array([True]))
  with pytest.raises(ValueError, match="spacing is not defined for complex"):
    jnp.spacing(1j)


def test_rank_promotion_config():
  from numjax import config
  a, b = jnp.ones(3), jnp.ones((2, 3))
  with config._override("jax_numpy_rank_promotion", "raise"):
    with pytest.raises(ValueError, match="jax_numpy_rank_promotion='raise'"):
      jnp.add(a, b)
    jnp.add(a, 1.0)  # rank-0 operands never count
    jnp.add(jnp.ones((1, 3)), b)  # same rank
  with config._override("jax_numpy_rank_promotion", "warn"):
    with pytest.warns(UserWarning, match="Following NumPy automatic rank promotion"):
      jnp.add(a, b)


def test_broadcasting_jaxpr_keeps_rank0_operands():
  jaxpr = str(numjax.make_jaxpr(jnp.add)(jnp.ones((3,)), jnp.ones(())))
  assert jaxpr == "{ lambda ; a:f32[3] b:f32[]. let c:f32[3] = add a b in (c,) }"


# ---------------------------------------------------------------------------------------
# ufunc objects

def test_ufunc_attributes():
  assert isinstance(jnp.add, jnp.ufunc) and repr(jnp.add) == "<jnp.ufunc 'add'>"
  assert (jnp.add.nin, jnp.add.nout, jnp.add.identity) == (2, 1, 0)
  assert jnp.multiply.identity == 1 and jnp.subtract.identity is None
  assert jnp.logaddexp.identity == -np.inf and jnp.negative.nin == 1
  assert hash(jnp.add) == hash(jnp.add) and jnp.add == jnp.add and jnp.add != jnp.multiply
  with pytest.raises(NotImplementedError):
    jnp.add(1, 2, out=np.zeros(()))


def test_ufunc_methods_match_numpy():
  a = np.arange(1, 7, dtype=np.int32).reshape(2, 3)
  for name in ("add", "multiply", "maximum", "minimum", "subtract", "bitwise_or",
               "logical_and", "logical_xor", "logaddexp"):
    ju, nu = getattr(jnp, name), getattr(np, name)
    arr = a.astype(np.float32) if name == "logaddexp" else a
    for axis in (0, 1):
      np.testing.assert_allclose(ju.reduce(arr, axis=axis), nu.reduce(arr, axis=axis),
                                 rtol=1e-6)
      np.testing.assert_allclose(ju.accumulate(arr, axis=axis),
                                 nu.accumulate(arr, axis=axis), rtol=1e-6)
    np.testing.assert_allclose(ju.outer(arr[0], arr[1]), nu.outer(arr[0], arr[1]), rtol=1e-6)
  where = np.array([[True, False, True], [True, True, True]])
  for name, init in (("bitwise_and", -1), ("bitwise_or", 0), ("bitwise_xor", 0),
                     ("logical_xor", False), ("logical_and", True), ("add", 0)):
    for arr in (a, a > 2):
      if name.startswith("bitwise") or name == "add" or arr.dtype == bool:
        ref = getattr(np, name).reduce(arr, axis=0, where=where, initial=init)
        out = getattr(jnp, name).reduce(arr, axis=0, where=where, initial=init)
        np.testing.assert_array_equal(out, ref)
        np.testing.assert_array_equal(getattr(jnp, name).reduce(arr, axis=None),
                                      getattr(np, name).reduce(arr, axis=None))
  np.testing.assert_array_equal(jnp.add.reduce(a, axis=None), 21)
  np.testing.assert_array_equal(jnp.add.reduce(a, axis=1, keepdims=True), [[6], [15]])
  np.testing.assert_array_equal(jnp.add.reduceat(np.arange(8), np.array([0, 4, 1, 5])),
                                np.add.reduceat(np.arange(8), [0, 4, 1, 5]))
  x = np.zeros(5, np.int32)
  idx = np.array([0, 1, 1, 3])
  ref = x.copy()
  np.add.at(ref, idx, 2)
  np.testing.assert_array_equal(jnp.add.at(x, idx, 2, inplace=False), ref)
  with pytest.raises(NotImplementedError, match="inplace"):
    jnp.add.at(x, idx, 2)


def test_frompyfunc():
  f = jnp.frompyfunc(lambda x, y: x * y + 1, 2, 1, identity=1)
  assert repr(f) == "<jnp.ufunc '<lambda>'>"
  a = np.arange(4.0, dtype=np.float32)
  np.testing.assert_allclose(f(a, 2.0), a * 2 + 1)
  np.testing.assert_allclose(f.outer(a[:2], a), np.multiply.outer(a[:2], a) + 1)
  def fold(acc, xs):
    for v in xs:
      acc = acc * v + 1
    return acc
  # reduce starts from the identity (as JAX's generic reduce), accumulate from a[0]
  np.testing.assert_allclose(f.reduce(a), fold(1.0, a))
  np.testing.assert_allclose(f.reduce(a, initial=2.0), fold(2.0, a))
  np.testing.assert_allclose(numjax.jit(f)(a, a), a * a + 1)
  np.testing.assert_allclose(f.accumulate(a), [fold(a[0], a[1:k]) for k in range(1, 5)])


def test_reduce_generic_where_needs_initial():
  f = jnp.frompyfunc(lambda x, y: x + y, 2, 1)
  with pytest.raises(ValueError, match="does not have an identity"):
    f.reduce(jnp.arange(3.0), where=jnp.array([True, False, True]))
  out = f.reduce(jnp.arange(3.0), where=jnp.array([True, False, True]), initial=0.0)
  assert float(out) == 2.0


def test_array_equal_equiv():
  a = np.arange(3)
  assert bool(jnp.array_equal(a, a)) and not bool(jnp.array_equal(a, np.arange(4)))
  assert jnp.array_equal(a, a).dtype == np.bool_ and jnp.array_equal(a, a).shape == ()
  assert bool(jnp.array_equal([1, 2], [1, 2]))
  nan = np.array([np.nan, 1.0])
  assert not bool(jnp.array_equal(nan, nan)) and bool(jnp.array_equal(nan, nan, equal_nan=True))
  assert bool(jnp.array_equiv(a, a[None])) and not bool(jnp.array_equiv(a, np.ones((2, 2))))
  assert bool(numjax.jit(jnp.array_equal)(a, a))


# ---------------------------------------------------------------------------------------
# 64-bit values (x64 on): float64 / int64 inputs against NumPy at double precision

X64_UNARY = ["sin", "cos", "tan", "exp", "expm1", "log1p", "sqrt", "cbrt", "arctan", "sinh",
             "tanh", "arcsinh", "deg2rad", "sinc", "square", "negative", "abs", "floor",
             "rint", "signbit", "spacing", "log10", "log2", "exp2"]
X64_BINARY = ["add", "subtract", "multiply", "true_divide", "floor_divide", "remainder", "fmod",
              "power", "arctan2", "hypot", "logaddexp", "logaddexp2", "maximum", "minimum",
              "copysign", "nextafter", "heaviside", "less", "equal"]


@pytest.mark.parametrize("name", X64_UNARY + X64_BINARY)
def test_float64_and_int64_values_under_x64(name):
  rng = np.random.default_rng(3)
  nargs = 1 if name in X64_UNARY else 2
  with enable_x64():
    for dt in ("float64", "int64"):
      if dt == "int64" and name in ("spacing", "nextafter", "signbit", "copysign"):
        continue
      args = [rng.uniform(0.5, 4, (5,)).astype(dt) * (1 if k or dt == "int64" else -1)
              for k in range(nargs)]
      if dt == "int64":
        args = [np.maximum(a, 1) for a in args]
      out = getattr(jnp, name)(*args)
      with np.errstate(all="ignore"):
        ref = getattr(np, name)(*args)
      assert out.dtype == ref.dtype, (dt, out.dtype, ref.dtype)
      np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-13, atol=1e-300)


def test_interp():
  xp = np.array([0.0, 1.0, 2.5, 4.0], np.float32)
  fp = np.array([1.0, -1.0, 2.0, 0.0], np.float32)
  x = np.linspace(-1, 5, 13).astype(np.float32)
  for kw in ({}, {"left": -9.0, "right": 9.0}, {"period": 3.0}):
    np.testing.assert_allclose(jnp.interp(x, xp, fp, **kw), np.interp(x, xp, fp, **kw),
                               atol=1e-6)
    np.testing.assert_allclose(numjax.jit(lambda x: jnp.interp(x, xp, fp, **kw))(x),
                               np.interp(x, xp, fp, **kw), atol=1e-6)
  ext = jnp.interp(np.array([-1.0, 5.0]), xp, fp, left="extrapolate", right="extrapolate")
  np.testing.assert_allclose(ext, [3.0, -4 / 3], rtol=1e-6)
  g = numjax.grad(lambda t: jnp.interp(t, xp, fp))(0.5)
  assert float(g) == -2.0
  np.testing.assert_allclose(numjax.vmap(lambda t: jnp.interp(t, xp, fp))(x),
                             np.interp(x, xp, fp), atol=1e-6)
  with pytest.raises(ValueError, match="one-dimensional arrays of equal size"):
    jnp.interp(x, xp, fp[:2])
  with pytest.raises(ValueError, match="'extrapolate'"):
    jnp.interp(x, xp, fp, left="nope")


def test_signed_zeros_as_jax():
  # values recorded from JAX 0.10.2
  assert np.signbit(jnp.sign(np.float32(-0.0)))
  q = jnp.floor_divide(np.float32(0.0), np.float32(-3.0))
  assert float(q) == 0.0 and np.signbit(q)
  q, r = jnp.divmod(np.float32(-0.0), np.float32(2.0))
  assert not np.signbit(q) and np.signbit(r)  # JAX's (0.0, -0.0); NumPy gives (-0.0, 0.0)
  assert float(jnp.floor_divide(np.float32(0.49999997), np.float32(1.0))) == 0.0
