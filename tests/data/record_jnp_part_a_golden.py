"""Record JAX 0.10.2's result dtypes (and weak types) of jnp elementwise and creation functions.

Run with a real JAX:  /work/jaxenv/bin/python tests/data/record_jnp_part_a_golden.py
Writes tests/data/jnp_part_a_golden.json, read by tests/test_numpy_ufuncs.py and
tests/test_numpy_creation.py (the tests themselves never import jax).
"""
import json
import os
import warnings

import jax
import jax.numpy as jnp

warnings.simplefilter("ignore")

UNARY = ["negative", "positive", "abs", "absolute", "fabs", "sign", "sqrt", "cbrt", "square",
         "reciprocal", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos",
         "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh",
         "arctanh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "deg2rad", "radians",
         "rad2deg", "degrees", "floor", "ceil", "trunc", "rint", "round", "around", "isnan",
         "isinf", "isfinite", "isposinf", "isneginf", "signbit", "spacing", "logical_not",
         "bitwise_not", "bitwise_invert", "invert", "bitwise_count", "conj", "conjugate", "real",
         "imag", "angle", "sinc", "i0", "nan_to_num", "isreal", "iscomplex", "frexp", "modf"]
BINARY = ["add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "remainder",
          "mod", "fmod", "divmod", "power", "pow", "float_power", "arctan2", "atan2", "hypot",
          "logaddexp", "logaddexp2", "maximum", "minimum", "fmax", "fmin", "copysign",
          "nextafter", "heaviside", "gcd", "lcm", "equal", "not_equal", "less", "less_equal",
          "greater", "greater_equal", "logical_and", "logical_or", "logical_xor", "bitwise_and",
          "bitwise_or", "bitwise_xor", "left_shift", "right_shift", "bitwise_left_shift",
          "bitwise_right_shift", "isclose", "ldexp"]
KINDS = ["bool", "int8", "uint8", "int16", "int32", "uint32", "float16", "bfloat16", "float32",
         "complex64", "py_int", "py_float", "py_complex"]
BIN_KINDS = ["bool", "int8", "uint8", "int32", "float16", "bfloat16", "float32", "complex64",
             "py_int", "py_float"]


def make(kind):
  if kind.startswith("py_"):
    return {"py_int": 3, "py_float": 2.5, "py_complex": 1 + 2j}[kind]
  return jnp.ones((2,), dtype=kind)


def describe(r):
  if isinstance(r, tuple):
    return [describe(x) for x in r]
  return str(r.dtype) + (" weak" if getattr(r, "weak_type", False) else "")


def call(f, *args):
  try:
    return describe(f(*args))
  except Exception as e:  # noqa: BLE001
    return "error: " + type(e).__name__


def tables():
  out = {"unary": {}, "binary": {}}
  for name in UNARY:
    for k in KINDS:
      out["unary"][f"{name}({k})"] = call(getattr(jnp, name), make(k))
  for name in BINARY:
    for a in BIN_KINDS:
      for b in BIN_KINDS:
        if a.startswith("py_") and b.startswith("py_"):
          continue
        out["binary"][f"{name}({a},{b})"] = call(getattr(jnp, name), make(a), make(b))
  c = out["creation"] = {}
  cases = {
      "array(3)": lambda: jnp.array(3), "array(3.0)": lambda: jnp.array(3.0),
      "array(True)": lambda: jnp.array(True), "array(1j)": lambda: jnp.array(1j),
      "array([1,2])": lambda: jnp.array([1, 2]), "array([1,2.0])": lambda: jnp.array([1, 2.0]),
      "array([])": lambda: jnp.array([]), "asarray(2.5)": lambda: jnp.asarray(2.5),
      "array([int8(1),2])": lambda: jnp.array([jnp.int8(1), 2]),
      "array(float32(1)*[1,2])": lambda: jnp.array([jnp.float32(1), 2.0]),
      "zeros(3)": lambda: jnp.zeros(3), "ones((2,),int)": lambda: jnp.ones((2,), int),
      "full(3,2)": lambda: jnp.full(3, 2), "full(3,2.0)": lambda: jnp.full(3, 2.0),
      "full(3,True)": lambda: jnp.full(3, True), "full(3,int8(2))": lambda: jnp.full(3, jnp.int8(2)),
      "zeros_like(3.0)": lambda: jnp.zeros_like(3.0),
      "zeros_like(int8 arr)": lambda: jnp.zeros_like(jnp.ones(2, jnp.int8)),
      "ones_like(weak)": lambda: jnp.ones_like(jnp.asarray(2.0)),
      "full_like(int32 arr, 2.5)": lambda: jnp.full_like(jnp.ones(2, jnp.int32), 2.5),
      "empty(2)": lambda: jnp.empty(2),
      "arange(5)": lambda: jnp.arange(5), "arange(5.0)": lambda: jnp.arange(5.0),
      "arange(1,5,0.5)": lambda: jnp.arange(1, 5, 0.5), "arange(int8(3))": lambda: jnp.arange(jnp.int8(3)),
      "arange(0,3,dtype=float16)": lambda: jnp.arange(0, 3, dtype=jnp.float16),
      "linspace(0,1,5)": lambda: jnp.linspace(0, 1, 5),
      "linspace(0,10,5,int)": lambda: jnp.linspace(0, 10, 5, dtype=int),
      "logspace(0,2,3)": lambda: jnp.logspace(0, 2, 3), "geomspace(1,8,4)": lambda: jnp.geomspace(1, 8, 4),
      "eye(3)": lambda: jnp.eye(3), "eye(2,dtype=int)": lambda: jnp.eye(2, dtype=int),
      "identity(2)": lambda: jnp.identity(2), "tri(3)": lambda: jnp.tri(3),
      "tril(int ones)": lambda: jnp.tril(jnp.ones((2, 2), int)),
      "indices((2,3))": lambda: jnp.indices((2, 3)),
      "meshgrid(arange(2),arange(3.0))": lambda: tuple(jnp.meshgrid(jnp.arange(2), jnp.arange(3.0))),
      "float32(3)": lambda: jnp.float32(3), "int8(3)": lambda: jnp.int8(3),
      "bool_(2)": lambda: jnp.bool_(2), "float64(3)": lambda: jnp.float64(3),
      "int_(3)": lambda: jnp.int_(3), "bfloat16(1.5)": lambda: jnp.bfloat16(1.5),
      "complex64(1)": lambda: jnp.complex64(1),
  }
  for name, f in cases.items():
    c[name] = call(f)
  return out


result = {"jax_version": jax.__version__, "x64_off": tables()}
jax.config.update("jax_enable_x64", True)
result["x64_on"] = tables()
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jnp_part_a_golden.json")
with open(path, "w") as f:
  json.dump(result, f, indent=0, sort_keys=True)
print(sum(len(v) for t in ("x64_off", "x64_on") for v in result[t].values()), "entries")
