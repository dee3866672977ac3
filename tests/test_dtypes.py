"""Dtype semantics: promotion checked against JAX's golden table; the rest against NumPy,
ml_dtypes, the golden table or JAX's documented examples."""
import contextlib
import json
import os
import warnings

import ml_dtypes
import numpy as np
import pytest

import numjax.dtypes as public_dtypes
from numjax._src import dtypes
from numjax._src.config import config

GOLDEN = json.load(open(os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "golden", "jax_promotion_golden.json")))
MODES = {"x64_off": False, "x64_on": True}
PY_SCALARS = {"py_int": 3, "py_float": 2.5, "py_complex": 1 + 2j}  # as record_promotion.py
ARRAY_KINDS = sorted({k.split("+")[0] for k in GOLDEN["x64_off"]} - set(PY_SCALARS))

ML_FLOATS = ["bfloat16", "float8_e4m3fn", "float8_e5m2", "float8_e4m3b11fnuz",
             "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e3m4", "float8_e4m3",
             "float8_e8m0fnu", "float6_e2m3fn", "float6_e3m2fn", "float4_e2m1fn"]
ML_SINTS = ["int2", "int4"] + (["int1"] if hasattr(ml_dtypes, "int1") else [])
ML_UINTS = ["uint2", "uint4"] + (["uint1"] if hasattr(ml_dtypes, "uint1") else [])
NP_NAMES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
            "float16", "float32", "float64", "complex64", "complex128"]


@contextlib.contextmanager
def flags(x64, promotion="standard"):
  old = (config.jax_enable_x64, config.jax_numpy_dtype_promotion)
  config.update("jax_enable_x64", x64)
  config.update("jax_numpy_dtype_promotion", promotion)
  try:
    yield
  finally:
    config.update("jax_enable_x64", old[0])
    config.update("jax_numpy_dtype_promotion", old[1])


class Value:
  """Stands in for a numjax Array: a dtype and a weak_type flag."""

  def __init__(self, dtype, weak_type=False):
    self.dtype, self.weak_type = np.dtype(dtype), weak_type


def golden_dtype(mode, key):
  return np.dtype(GOLDEN[mode][key].split()[0])


def canonical_by_golden(mode, name):
  """The dtype JAX gives an array requested as `name` (x + x keeps x's canonical dtype)."""
  return golden_dtype(mode, f"{name}+{name}")


def fmt(dt_weak):
  dt, weak = dt_weak
  return str(dt) + (" weak" if weak else "")


# ---------------------------------------------------------------------------------------
# The golden promotion table, both x64 modes, operands as the recorder made them.

def _operand(kind, mode, as_numpy):
  if kind in PY_SCALARS:
    return PY_SCALARS[kind]
  if as_numpy:  # a NumPy array is strong and canonicalized, as jnp.ones(dtype=kind) is
    return np.ones((2,), dtype=kind)
  return Value(canonical_by_golden(mode, kind))


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("as_numpy", [False, True])
def test_golden_promotion_table(mode, as_numpy):
  with flags(MODES[mode]), warnings.catch_warnings():
    warnings.simplefilter("error")  # values carry no explicit dtype request: no warnings
    got = {}
    for key in GOLDEN[mode]:
      a, b = key.split("+")
      got[key] = fmt(dtypes.result_type(_operand(a, mode, as_numpy),
                                        _operand(b, mode, as_numpy),
                                        return_weak_type_flag=True))
  bad = {k: (GOLDEN[mode][k], got[k]) for k in GOLDEN[mode] if got[k] != GOLDEN[mode][k]}
  assert not bad, f"{len(bad)} mismatches (expected, got): {bad}"


@pytest.mark.parametrize("mode", list(MODES))
def test_golden_is_commutative_and_dtype_level(mode):
  # result_type on dtypes/Python types equals result_type on values of those dtypes.
  with flags(MODES[mode]):
    for key, want in GOLDEN[mode].items():
      a, b = key.split("+")
      if a in PY_SCALARS or b in PY_SCALARS:
        continue
      da, db = canonical_by_golden(mode, a), canonical_by_golden(mode, b)
      assert fmt(dtypes.result_type(da, db, return_weak_type_flag=True)) == want, key
      assert dtypes.result_type(db, da) == golden_dtype(mode, key), key


@pytest.mark.parametrize("mode", list(MODES))
def test_python_scalar_types_promote_like_values(mode):
  with flags(MODES[mode]):
    for kind, value in PY_SCALARS.items():
      for a in ARRAY_KINDS:
        v = Value(canonical_by_golden(mode, a))
        assert (dtypes.result_type(v, type(value), return_weak_type_flag=True)
                == dtypes.result_type(v, value, return_weak_type_flag=True))
        assert fmt(dtypes.result_type(type(value), v, return_weak_type_flag=True)) == \
            GOLDEN[mode][f"{kind}+{a}"]


@pytest.mark.parametrize("mode", list(MODES))
def test_weak_values_behave_like_python_scalars(mode):
  # A weak value (e.g. jnp.asarray(3)) promotes as the Python scalar it came from.
  with flags(MODES[mode]):
    for kind, value in PY_SCALARS.items():
      weak = Value(dtypes.dtype(value, canonicalize=True), weak_type=True)
      for a in ARRAY_KINDS:
        assert fmt(dtypes.result_type(Value(canonical_by_golden(mode, a)), weak,
                                      return_weak_type_flag=True)) == GOLDEN[mode][f"{a}+{kind}"]
    # A weak value of any width of a kind acts as that kind's Python scalar, and a weak
    # result always has its kind's default width.
    same_kind = {"py_int": ["int8", "int16", "uint8", "uint32"] + ML_SINTS,
                 "py_float": ["float16", "bfloat16"] + ML_FLOATS[1:],
                 "py_complex": ["complex64"]}
    for kind, names in same_kind.items():
      default = golden_dtype(mode, f"bool+{kind}")
      for name in names:
        weak = Value(name, weak_type=True)
        # Alone, weak unsigned stays unsigned (default uint width), as in JAX.
        alone = canonical_by_golden(mode, "uint64") if name.startswith("u") else default
        assert dtypes.result_type(weak, return_weak_type_flag=True) == (alone, True)
        assert dtypes.result_type(weak, weak, return_weak_type_flag=True) == (alone, True)
        for a in ARRAY_KINDS:
          assert fmt(dtypes.result_type(Value(canonical_by_golden(mode, a)), weak,
                                        return_weak_type_flag=True)) == \
              GOLDEN[mode][f"{a}+{kind}"], (a, name)


@pytest.mark.parametrize("mode", list(MODES))
def test_single_and_all_weak_arguments(mode):
  with flags(MODES[mode]):
    default = {k: golden_dtype(mode, f"bool+{k}") for k in PY_SCALARS}
    for kind, value in PY_SCALARS.items():
      assert dtypes.result_type(value, return_weak_type_flag=True) == (default[kind], True)
      assert dtypes.result_type(value, value, return_weak_type_flag=True) == \
          (default[kind], True)
    assert dtypes.result_type(3, 2.5, return_weak_type_flag=True) == (default["py_float"], True)
    assert dtypes.result_type(2.5, 1j, return_weak_type_flag=True) == \
        (default["py_complex"], True)
    # Python bools are strongly typed bool (bool+bool in the golden is not weak).
    assert dtypes.result_type(True, return_weak_type_flag=True) == \
        (golden_dtype(mode, "bool+bool"), False)
    assert dtypes.result_type(None) == default["py_float"]
    with pytest.raises(ValueError):
      dtypes.result_type()


def test_promote_types_matches_golden_and_docs():
  # Strong pairs: promote_types gives the golden dtype of the x64 table.
  with flags(True):
    for key in GOLDEN["x64_on"]:
      a, b = key.split("+")
      if a not in PY_SCALARS and b not in PY_SCALARS:
        assert dtypes.promote_types(a, b) == golden_dtype("x64_on", key), key
  with flags(False):
    # Examples from jnp.promote_types' docstring.
    assert dtypes.promote_types("int32", "float32") == np.dtype("float32")
    assert dtypes.promote_types(np.int32, np.float32) == np.dtype("float32")
    assert dtypes.promote_types("uint8", int) == np.dtype("uint8")
    assert dtypes.promote_types("float16", float) == np.dtype("float16")
    assert isinstance(dtypes.promote_types("int8", "int8"), np.dtype)


def test_float8_and_intn_do_not_promote_implicitly():
  with flags(False):
    for name in ML_FLOATS[1:] + ML_SINTS + ML_UINTS:
      assert dtypes.result_type(name, name) == np.dtype(name)
      other = "float32" if name in ML_FLOATS else "int32"
      with pytest.raises(dtypes.TypePromotionError):
        dtypes.result_type(name, other)
    assert issubclass(public_dtypes.TypePromotionError, ValueError)


def test_strict_promotion_mode():
  with flags(False, "strict"):
    assert dtypes.result_type(np.int8, np.int8) == np.dtype("int8")
    assert dtypes.result_type(Value("int8"), 3) == np.dtype("int8")
    for a, b in [("int8", "int16"), ("int32", "float32"), ("float16", "bfloat16")]:
      with pytest.raises(dtypes.TypePromotionError, match="strict"):
        dtypes.result_type(a, b)


def test_results_follow_x64_changes():
  # The memo caches must be invalidated when the flag flips.
  a, b = np.ones(2, "int64"), np.ones(2, "uint8")
  for mode, x64 in list(MODES.items()) * 2:
    with flags(x64):
      assert dtypes.result_type(a, b) == golden_dtype(mode, "int64+uint8")
      assert dtypes.result_type(a, 2.5) == golden_dtype(mode, "int64+py_float")
      assert dtypes.canonicalize_dtype("int64") == canonical_by_golden(mode, "int64")


# ---------------------------------------------------------------------------------------
# Canonicalisation, defaults, dtype().

@pytest.mark.parametrize("mode", list(MODES))
def test_canonicalize_dtype(mode):
  with flags(MODES[mode]):
    for name in ARRAY_KINDS:
      want = canonical_by_golden(mode, name)
      for spelling in (name, np.dtype(name), np.dtype(name).type):
        got = dtypes.canonicalize_dtype(spelling)
        assert got == want and isinstance(got, np.dtype), spelling
    for kind, typ in [("py_int", int), ("py_float", float), ("py_complex", complex)]:
      assert dtypes.canonicalize_dtype(typ) == golden_dtype(mode, f"bool+{kind}")
    for name in ML_FLOATS + ML_SINTS + ML_UINTS:
      assert dtypes.canonicalize_dtype(name) == np.dtype(name)
    assert dtypes.canonicalize_dtype(bool) == np.dtype(bool)
    with pytest.raises(TypeError):
      dtypes.canonicalize_dtype("not-a-dtype")


@pytest.mark.parametrize("mode", list(MODES))
def test_default_dtypes(mode):
  with flags(MODES[mode]):
    assert dtypes.default_int_dtype() == golden_dtype(mode, "bool+py_int")
    assert dtypes.default_float_dtype() == golden_dtype(mode, "bool+py_float")
    assert dtypes.default_complex_dtype() == golden_dtype(mode, "bool+py_complex")
    assert dtypes.default_uint_dtype() == canonical_by_golden(mode, "uint64")
    for kind, fn in [("i", dtypes.default_int_dtype), ("u", dtypes.default_uint_dtype),
                     ("f", dtypes.default_float_dtype), ("c", dtypes.default_complex_dtype)]:
      assert dtypes.default_types[kind]() == fn()


@pytest.mark.parametrize("mode", list(MODES))
def test_dtype_of_values(mode):
  with flags(MODES[mode]):
    for value in [3, 2.5, 1 + 2j, True]:
      assert dtypes.dtype(value) == np.asarray(value).dtype  # 64-bit, as NumPy on Linux
      assert dtypes.dtype(type(value)) == np.asarray(value).dtype
      assert dtypes.dtype(value, canonicalize=True) == \
          dtypes.canonicalize_dtype(np.asarray(value).dtype)
    for name in NP_NAMES + ML_FLOATS + ML_SINTS:
      assert dtypes.dtype(np.zeros(2, name)) == np.dtype(name)
      assert dtypes.dtype(name) == np.dtype(name)
      assert dtypes.dtype(Value(name)) == np.dtype(name)
    with pytest.raises(ValueError):
      dtypes.dtype(None)
    with pytest.raises(TypeError):
      dtypes.dtype(np.array(["a"]))  # not a JAX array type
    with pytest.raises(TypeError):
      dtypes.dtype([1, 2])  # as in JAX: lists are not values (np.result_type reads a spec)


def test_weak_type_and_python_scalar_predicates():
  for v in [3, 2.5, 1j]:
    assert dtypes.is_weakly_typed(v) and dtypes.is_python_scalar(v)
  for v in [np.float32(1), np.ones(2), np.int64(3)]:
    assert not dtypes.is_weakly_typed(v) and not dtypes.is_python_scalar(v)
  assert dtypes.is_python_scalar(True) and not dtypes.is_weakly_typed(True)
  assert dtypes.is_weakly_typed(Value("float32", True))
  assert not dtypes.is_weakly_typed(Value("float32", False))


def test_scalar_type_of():
  for name in NP_NAMES:
    want = type(np.zeros((), name).item())
    assert dtypes.scalar_type_of(np.zeros(2, name)) is want
  for name in ML_FLOATS:
    assert dtypes.scalar_type_of(np.zeros(2, name)) is float
  for name in ML_SINTS + ML_UINTS:
    assert dtypes.scalar_type_of(np.zeros(2, name)) is int


def test_inexact_complex_numeric_conversions():
  for name in NP_NAMES + ML_FLOATS:
    dt = np.dtype(name)
    inexact = dtypes.to_inexact_dtype(dt)
    if dtypes.issubdtype(dt, np.inexact):
      assert inexact == dt
    else:  # 64-bit ints go to float64; narrower ints and bool to float32, as in JAX
      assert inexact == np.dtype("float64" if dt.itemsize == 8 else "float32")
    wide = inexact in (np.dtype("float64"), np.dtype("complex128"))
    assert dtypes.to_complex_dtype(dt) == np.dtype("complex128" if wide else "complex64")
    assert dtypes.to_numeric_dtype(dt) == (np.dtype("int32") if dt == bool else dt)
    if dtypes.issubdtype(dt, np.floating):
      assert dtypes.to_floating_dtype(dt) == dt
    if dtypes.issubdtype(dt, np.complexfloating):
      assert dtypes.to_floating_dtype(dt) == np.finfo(dt).dtype


# ---------------------------------------------------------------------------------------
# The type hierarchy.

NP_KINDS = [np.generic, np.number, np.integer, np.signedinteger, np.unsignedinteger,
            np.inexact, np.floating, np.complexfloating, np.bool_]


def test_issubdtype_agrees_with_numpy_on_numpy_types():
  for name in NP_NAMES:
    for kind in NP_KINDS + [np.float32, np.int8, float, int]:
      assert dtypes.issubdtype(name, kind) == np.issubdtype(name, kind), (name, kind)
      assert dtypes.issubdtype(np.dtype(name), kind) == np.issubdtype(name, kind)


@pytest.mark.parametrize("name", ML_FLOATS + ML_SINTS + ML_UINTS)
def test_issubdtype_places_ml_dtypes(name):
  # bfloat16 & co. are floating, int4 & co. are (un)signed integers; NumPy doesn't know.
  if name in ML_FLOATS:
    parent = np.floating
    ml_dtypes.finfo(name)  # ml_dtypes agrees it is a float
  else:
    signed = int(ml_dtypes.iinfo(name).min) < 0
    assert signed == (name in ML_SINTS)
    parent = np.signedinteger if signed else np.unsignedinteger
  for kind in NP_KINDS:
    assert dtypes.issubdtype(name, kind) == issubclass(parent, kind), (name, kind)
  assert dtypes.issubdtype(name, name)
  assert dtypes.issubdtype(np.dtype(name).type, name)
  assert not dtypes.issubdtype(name, "float32")


def test_issubdtype_extended():
  class KeyDType(dtypes.ExtendedDType):
    type = dtypes.prng_key
    name = "key<fry>"

  kd = KeyDType()
  assert dtypes.issubdtype(kd, dtypes.extended)
  assert dtypes.issubdtype(kd, dtypes.prng_key)
  assert dtypes.issubdtype(kd, kd)
  assert not dtypes.issubdtype(kd, np.floating)
  assert not dtypes.issubdtype("float32", dtypes.extended)
  assert dtypes.issubdtype(dtypes.prng_key, dtypes.extended)
  # Extended dtypes pass through canonicalisation (when allowed) and trivial promotion.
  assert dtypes.canonicalize_dtype(kd, allow_extended_dtype=True) is kd
  with pytest.raises(ValueError):
    dtypes.canonicalize_dtype(kd)
  key = Value("float32")
  key.dtype = kd
  assert dtypes.result_type(key, key) is kd
  assert dtypes.dtype(key) is kd


ARRAY_API_KINDS = ["bool", "signed integer", "unsigned integer", "integral",
                   "real floating", "complex floating", "numeric"]


def test_isdtype_agrees_with_numpy():
  for name in NP_NAMES:
    for kind in ARRAY_API_KINDS + [("bool", "real floating"), np.int8, np.float32,
                                   (np.float32, "complex floating")]:
      assert dtypes.isdtype(name, kind) == np.isdtype(np.dtype(name), kind), (name, kind)


def test_isdtype_ml_dtypes():
  for name in ML_FLOATS + ML_SINTS + ML_UINTS:
    np_kind = np.float32 if name in ML_FLOATS else np.int8 if name in ML_SINTS else np.uint8
    for kind in ARRAY_API_KINDS:  # classified like a NumPy type of the same family
      assert dtypes.isdtype(name, kind) == np.isdtype(np.dtype(np_kind), kind), (name, kind)
    assert dtypes.isdtype(name, name) and not dtypes.isdtype(name, "float32")
  with pytest.raises(ValueError):
    dtypes.isdtype("float32", "bogus kind")
  with pytest.raises(TypeError):
    dtypes.isdtype("float32", 3)


def test_can_cast_agrees_with_numpy():
  for a in NP_NAMES + ["bfloat16", "int4"]:
    for b in NP_NAMES + ["bfloat16", "int4"]:
      for casting in ["no", "equiv", "safe", "same_kind", "unsafe"]:
        assert dtypes.can_cast(a, b, casting) == np.can_cast(a, b, casting)


@pytest.mark.parametrize("name", ["float16", "float32", "float64"] + ML_FLOATS)
def test_finfo(name):
  ref = np.finfo(name) if name in NP_NAMES else ml_dtypes.finfo(name)
  got = dtypes.finfo(name)
  for attr in ["bits", "eps", "max", "min", "tiny", "resolution", "nmant", "nexp", "dtype"]:
    assert str(getattr(got, attr)) == str(getattr(ref, attr)), attr
  assert public_dtypes.finfo(np.dtype(name)).bits == ref.bits


@pytest.mark.parametrize("name", NP_NAMES[1:9] + ML_SINTS + ML_UINTS)
def test_iinfo(name):
  ref = np.iinfo(name) if name in NP_NAMES else ml_dtypes.iinfo(name)
  got = dtypes.iinfo(name)
  assert (got.min, got.max, got.bits) == (ref.min, ref.max, ref.bits)
  assert dtypes.itemsize_bits(name) == ref.bits
  # The extremes are representable and one past them is not.
  assert int(np.array(got.max).astype(name)) == got.max
  assert int(np.array(got.min).astype(name)) == got.min


def test_itemsize_bits():
  for name in NP_NAMES[1:]:
    assert dtypes.itemsize_bits(name) == np.dtype(name).itemsize * 8
  assert dtypes.itemsize_bits("bool") == 8
  assert dtypes.itemsize_bits("bfloat16") == 16
  assert dtypes.itemsize_bits("float4_e2m1fn") == ml_dtypes.finfo("float4_e2m1fn").bits


# ---------------------------------------------------------------------------------------
# User-requested dtypes.

TRUNC = ("Explicitly requested dtype float64 requested in zeros is not available, and will "
         "be truncated to dtype float32. To enable more dtypes, set the jax_enable_x64 "
         "configuration option or the JAX_ENABLE_X64 shell environment variable.")


def test_truncation_warning():
  with flags(False):
    with pytest.warns(UserWarning) as rec:
      out = dtypes.check_user_dtype_supported("float64", "zeros")
    assert out == np.dtype("float32")
    assert str(rec[0].message).startswith(TRUNC)
    assert rec[0].filename == __file__  # points at the user's line, not at numjax
    for name in ["int64", "uint64", "complex128"]:
      with pytest.warns(UserWarning, match=f"dtype {name} requested in f"):
        assert dtypes.check_user_dtype_supported(name, "f") == \
            canonical_by_golden("x64_off", name)
    with warnings.catch_warnings():
      warnings.simplefilter("error")  # no warning for these
      for typ in (int, float, complex, bool):
        assert dtypes.check_user_dtype_supported(typ) == dtypes.canonicalize_dtype(typ)
      assert dtypes.check_user_dtype_supported("float32") == np.dtype("float32")
      assert dtypes.check_user_dtype_supported("bfloat16") == np.dtype("bfloat16")
      assert dtypes.check_user_dtype_supported(None) is None
  with flags(True), warnings.catch_warnings():
    warnings.simplefilter("error")
    assert dtypes.check_user_dtype_supported("float64", "zeros") == np.dtype("float64")
  with pytest.raises(TypeError):
    dtypes.check_user_dtype_supported("U3")


def test_result_type_warns_on_explicit_64bit_dtype():
  with flags(False):
    with pytest.warns(UserWarning, match="Explicitly requested dtype float64"):
      assert dtypes.result_type("float64") == np.dtype("float32")
    with pytest.warns(UserWarning):  # memoised results still warn
      dtypes.result_type("float64")


# ---------------------------------------------------------------------------------------
# Public namespace.

def test_public_namespace_reexports():
  names = ["TypePromotionError", "bfloat16", "canonicalize_dtype", "extended", "finfo",
           "float0", "iinfo", "issubdtype", "itemsize_bits", "prng_key", "result_type",
           "scalar_type_of"]  # dir(jax.dtypes) in JAX 0.10.2
  assert sorted(n for n in dir(public_dtypes) if not n.startswith("_")) == names
  for n in names:
    assert getattr(public_dtypes, n) is getattr(dtypes, n)
  assert public_dtypes.float0 == np.dtype([("float0", np.void, 0)])
  assert public_dtypes.bfloat16 is ml_dtypes.bfloat16
