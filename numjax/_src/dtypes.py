"""JAX's dtype semantics on NumPy: canonical dtypes, weak types, the promotion lattice.

JAX differs from NumPy in (a) the dtypes it supports (bfloat16, float8s, int4, ... from
`ml_dtypes`; 64-bit types only with `jax_enable_x64`) and (b) its promotion rules (a
lattice in which Python scalars are *weak*: `int8 + 3` stays int8). Everything here runs on
every eager op, so the hot entry points (`canonicalize_dtype`, `result_type`) are dict
lookups in caches that `config.on_change` clears when x64 or the promotion mode changes.
"""
from __future__ import annotations

import os
import sys
import warnings
from typing import Any

import ml_dtypes
import numpy as np

from numjax._src.config import config


# ----------------------------------------------------------------------------------------
# Abstract scalar classes for extended dtypes (PRNG keys, ...). They subclass np.generic
# so that `issubdtype(key.dtype, dtypes.prng_key)` works like a NumPy type hierarchy.

class extended(np.generic):
  """Scalar class for extended dtypes (abstract; exists for `issubdtype`)."""


class prng_key(extended):
  """Scalar class for PRNG key dtypes (abstract; exists for `issubdtype`)."""


class ExtendedDType:
  """Base class of extended dtypes: not NumPy dtypes; `type` is a subclass of `extended`.

  Instances must be hashable (they key the promotion memo)."""
  type: type = extended
  _rules: Any = None


class TypePromotionError(ValueError):
  """Raised when JAX type promotion fails."""


# ----------------------------------------------------------------------------------------
# The dtypes. Narrow floats and ints come from ml_dtypes; JAX exposes these kinds.

bfloat16 = ml_dtypes.bfloat16
float8_e3m4 = ml_dtypes.float8_e3m4
float8_e4m3 = ml_dtypes.float8_e4m3
float8_e8m0fnu = ml_dtypes.float8_e8m0fnu
float8_e4m3b11fnuz = ml_dtypes.float8_e4m3b11fnuz
float8_e4m3fn = ml_dtypes.float8_e4m3fn
float8_e4m3fnuz = ml_dtypes.float8_e4m3fnuz
float8_e5m2 = ml_dtypes.float8_e5m2
float8_e5m2fnuz = ml_dtypes.float8_e5m2fnuz
float6_e2m3fn = ml_dtypes.float6_e2m3fn
float6_e3m2fn = ml_dtypes.float6_e3m2fn
float4_e2m1fn = ml_dtypes.float4_e2m1fn
int2, uint2 = ml_dtypes.int2, ml_dtypes.uint2
int4, uint4 = ml_dtypes.int4, ml_dtypes.uint4
# int1/uint1 exist only in newer ml_dtypes; JAX adds them to the lattice when present.
int1 = getattr(ml_dtypes, "int1", None)
uint1 = getattr(ml_dtypes, "uint1", None)

# Tangent dtype of int/bool primals: a trivial vector space with zero-size elements.
float0 = np.dtype([("float0", np.void, 0)])

_float8_dtypes = [np.dtype(t) for t in (
    float8_e3m4, float8_e4m3, float8_e8m0fnu, float8_e4m3b11fnuz, float8_e4m3fn,
    float8_e4m3fnuz, float8_e5m2, float8_e5m2fnuz)]
_float6_dtypes = [np.dtype(float6_e2m3fn), np.dtype(float6_e3m2fn)]
_float4_dtypes = [np.dtype(float4_e2m1fn)]
# Narrow floats sit *beside* bf16/f16 in the lattice: no implicit promotion between them.
_small_float_dtypes = _float4_dtypes + _float6_dtypes + _float8_dtypes
_custom_float_dtypes = _small_float_dtypes + [np.dtype(bfloat16)]
_custom_float_scalar_types = [d.type for d in _custom_float_dtypes]

_signed_intn = [np.dtype(t) for t in (int1, int2, int4) if t is not None]
_unsigned_intn = [np.dtype(t) for t in (uint1, uint2, uint4) if t is not None]
_intn_dtypes = _signed_intn + _unsigned_intn
_signed_intn_types = {d.type for d in _signed_intn}
_unsigned_intn_types = {d.type for d in _unsigned_intn}

_bool_types = [np.dtype(bool)]
_signed_types = _signed_intn + [np.dtype(f"int{b}") for b in (8, 16, 32, 64)]
_unsigned_types = _unsigned_intn + [np.dtype(f"uint{b}") for b in (8, 16, 32, 64)]
_int_types = _unsigned_types + _signed_types
_float_types = _custom_float_dtypes + [np.dtype(f"float{b}") for b in (16, 32, 64)]
_complex_types = [np.dtype("complex64"), np.dtype("complex128")]
_jax_types = _bool_types + _int_types + _float_types + _complex_types

string_dtype = np.dtypes.StringDType()
# Dtypes a numjax array may have (float0 for tangents, StringDType for string arrays).
_jax_dtype_set = {float0, string_dtype, *_jax_types}

_dtype_kinds = {
    "bool": set(_bool_types),
    "signed integer": set(_signed_types),
    "unsigned integer": set(_unsigned_types),
    "integral": set(_signed_types) | set(_unsigned_types),
    "real floating": set(_float_types),
    "complex floating": set(_complex_types),
    "numeric": set(_int_types) | set(_float_types) | set(_complex_types),
}

# Default (x64) scalar types, as in jax.dtypes.
bool_ = np.bool_
int_ = np.int64
uint = np.uint64
float_ = np.float64
complex_ = np.complex128

python_scalar_types = {bool, int, float, complex}
python_scalar_types_to_dtypes = {
    bool: np.dtype("bool"), int: np.dtype("int64"),
    float: np.dtype("float64"), complex: np.dtype("complex128"),
}
python_scalar_dtypes = python_scalar_types_to_dtypes  # older JAX name

_to_32bit = {
    np.dtype("int64"): np.dtype("int32"), np.dtype("uint64"): np.dtype("uint32"),
    np.dtype("float64"): np.dtype("float32"), np.dtype("complex128"): np.dtype("complex64"),
}

_I32, _I64 = np.dtype("int32"), np.dtype("int64")
_U32, _U64 = np.dtype("uint32"), np.dtype("uint64")
_F32, _F64 = np.dtype("float32"), np.dtype("float64")
_C64, _C128 = np.dtype("complex64"), np.dtype("complex128")
_BOOL = np.dtype(bool)


# ----------------------------------------------------------------------------------------
# Defaults and canonicalisation (depend on jax_enable_x64).

def default_int_dtype() -> np.dtype:
  return _I64 if config.jax_enable_x64 else _I32


def default_uint_dtype() -> np.dtype:
  return _U64 if config.jax_enable_x64 else _U32


def default_float_dtype() -> np.dtype:
  return _F64 if config.jax_enable_x64 else _F32


def default_complex_dtype() -> np.dtype:
  return _C128 if config.jax_enable_x64 else _C64


default_types = {
    "b": lambda: _BOOL, "i": default_int_dtype, "u": default_uint_dtype,
    "f": default_float_dtype, "c": default_complex_dtype,
}
_default_types = default_types

_DEFAULT_TYPEMAP = {bool: default_types["b"], int: default_int_dtype,
                    float: default_float_dtype, complex: default_complex_dtype}


def jax_dtype(obj=None, *, align=False, copy=False) -> np.dtype:
  """`np.dtype`, except None → default float and Python scalar types → default types."""
  if obj is None:
    return default_float_dtype()
  if _is_extended(obj):
    return obj
  if isinstance(obj, type) and obj in _DEFAULT_TYPEMAP:
    return _DEFAULT_TYPEMAP[obj]()
  return np.dtype(obj, align=align, copy=copy)


# Memo of canonicalize_dtype, keyed by the raw argument (dtype, type or str). Cleared when
# x64 changes. Extended dtypes are never stored (their result depends on a flag).
_canon_cache: dict = {}


def canonicalize_dtype(dtype: Any, allow_extended_dtype: bool = False):
  """Convert a dtype-like to its canonical dtype under the current x64 setting."""
  try:
    return _canon_cache[dtype]
  except (KeyError, TypeError):
    return _canonicalize_dtype_slow(dtype, allow_extended_dtype)


def _canonicalize_dtype_slow(dtype, allow_extended_dtype):
  if _is_extended(dtype):
    if not allow_extended_dtype:
      raise ValueError(f"Internal: canonicalize_dtype called on extended dtype {dtype} "
                       "with allow_extended_dtype=False")
    return dtype
  try:
    dt = np.dtype(dtype)
  except TypeError as e:
    raise TypeError(f"dtype {dtype!r} not understood") from e
  out = dt if config.jax_enable_x64 else _to_32bit.get(dt, dt)
  try:
    _canon_cache[dtype] = out
  except TypeError:  # unhashable dtype-like: just don't memoise
    pass
  return out


def _is_extended(x) -> bool:
  """Fast test for extended dtypes (instances) or the extended scalar classes."""
  if isinstance(x, ExtendedDType):
    return True
  return isinstance(x, type) and issubclass(x, extended)


def itemsize_bits(dtype) -> int:
  """Number of bits per element (correct for sub-byte types, unlike `itemsize`)."""
  if dtype is None:
    raise ValueError("dtype cannot be None.")
  if np.dtype(dtype) == _BOOL:
    return 8  # bools are stored one per byte
  if issubdtype(dtype, np.integer):
    return iinfo(dtype).bits
  if issubdtype(dtype, np.floating):
    return finfo(dtype).bits
  if issubdtype(dtype, np.complexfloating):
    return 2 * finfo(dtype).bits
  raise ValueError(f"unexpected input: {dtype=}")


def supports_inf(dtype) -> bool:
  """True if the dtype can represent infinity."""
  if np.dtype(dtype).type in (float8_e4m3b11fnuz, float8_e4m3fn, float8_e4m3fnuz,
                              float8_e5m2fnuz):
    return False
  return issubdtype(dtype, np.inexact)


# Narrow types go to float32 (not the smallest float) for backward compatibility, as JAX.
_dtype_to_inexact = {
    np.dtype(k): np.dtype(v) for k, v in [
        ("bool", "float32"), ("uint4", "float32"), ("int4", "float32"),
        ("uint8", "float32"), ("int8", "float32"), ("uint16", "float32"),
        ("int16", "float32"), ("uint32", "float32"), ("int32", "float32"),
        ("uint64", "float64"), ("int64", "float64")]
}


def to_numeric_dtype(dtype) -> np.dtype:
  """Promote bool to int32; other dtypes are already numeric."""
  dt = np.dtype(dtype)
  return _I32 if dt == _BOOL else dt


def to_inexact_dtype(dtype) -> np.dtype:
  """Promote a dtype to an inexact (floating or complex) dtype."""
  dt = np.dtype(dtype)
  return _dtype_to_inexact.get(dt, dt)


def to_floating_dtype(dtype) -> np.dtype:
  """Promote a dtype to a real floating dtype (complex → its real part's dtype)."""
  dt = np.dtype(dtype)
  return finfo(_dtype_to_inexact.get(dt, dt)).dtype


def to_complex_dtype(dtype) -> np.dtype:
  """The complex dtype holding `dtype` (complex128 only for 64-bit inputs)."""
  ft = to_inexact_dtype(dtype)
  return _C128 if ft in (_F64, _C128) else _C64


# ----------------------------------------------------------------------------------------
# dtype(x), weak types, scalar helpers.

def is_weakly_typed(x: Any) -> bool:
  """Python int/float/complex are weak (bool is not, as in JAX); values report `weak_type`."""
  if type(x) in _WEAK_PY_TYPES:
    return True
  w = getattr(x, "weak_type", None)
  if w is None:
    aval = getattr(x, "aval", None)
    w = getattr(aval, "weak_type", False)
  return bool(w)


_WEAK_PY_TYPES = (int, float, complex)


def is_python_scalar(x: Any) -> bool:
  """True for Python scalars and for weakly typed 0-d values (which came from them)."""
  if type(x) in python_scalar_types:
    return True
  w = getattr(x, "weak_type", None)
  return bool(w) and np.ndim(x) == 0


is_weakly_typed_scalar = is_python_scalar


def _check_valid(dt, x):
  if dt not in _jax_dtype_set and not _is_extended(dt) and not _is_extended(dt.type):
    raise TypeError(f"Value '{x}' with dtype {dt} is not a valid JAX array type. "
                    "Only arrays of numeric types are supported by JAX.")


def dtype(x: Any, canonicalize: bool = False):
  """The dtype of a value or dtype-like; Python scalars give their 64-bit dtypes.

  With `canonicalize=True` the result is mapped to 32 bits when x64 is off.
  """
  if x is None:
    raise ValueError(f"Invalid argument to dtype: {x}.")
  dt = python_scalar_types_to_dtypes.get(type(x))
  if dt is None:
    if isinstance(x, type):
      dt = python_scalar_types_to_dtypes.get(x)
      if dt is None:
        if issubclass(x, extended):
          return x
        dt = np.dtype(x)
    elif isinstance(x, ExtendedDType):
      return x
    elif isinstance(x, (str, np.dtype)):
      dt = np.dtype(x)
    else:
      dt = getattr(x, "dtype", None)
      if isinstance(dt, ExtendedDType):
        return dt
      if not isinstance(dt, np.dtype):
        try:
          dt = np.result_type(x)
        except TypeError as err:
          raise TypeError(f"Cannot determine dtype of {x}") from err
    _check_valid(dt, x)
  return canonicalize_dtype(dt) if canonicalize else dt


def scalar_type_of(x: Any) -> type:
  """The Python scalar type (bool/int/float/complex) matching a value's dtype."""
  dt = dtype(x)
  if dt in _custom_float_dtypes:
    return float
  if dt in _intn_dtypes:
    return int
  if np.issubdtype(dt, np.bool_):
    return bool
  if np.issubdtype(dt, np.integer):
    return int
  if np.issubdtype(dt, np.floating):
    return float
  if np.issubdtype(dt, np.complexfloating):
    return complex
  raise TypeError(f"Invalid scalar value {x}")


def scalar_type_to_dtype(typ: type, value: Any = None) -> np.dtype:
  """Canonical dtype of a Python scalar type; OverflowError if an int value doesn't fit."""
  dt = canonicalize_dtype(python_scalar_types_to_dtypes[typ])
  if typ is int and value is not None:
    info = np.iinfo(dt)
    if value < info.min or value > info.max:
      raise OverflowError(f"Python int {value} too large to convert to {dt}")
  return dt


def coerce_to_array(x: Any, dtype=None) -> np.ndarray:
  """`np.asarray`, with Python scalars given JAX's (canonical) dtype."""
  if dtype is None and type(x) in python_scalar_types:
    dtype = scalar_type_to_dtype(type(x), x)
  return np.asarray(x, dtype)


def short_dtype_name(dtype) -> str:
  """f32, i8, u16, c64, bf16, bool, ... as printed in jaxprs."""
  if isinstance(dtype, ExtendedDType):
    return str(dtype)
  name = _short_names.get(dtype)
  if name is None:
    name = (np.dtype(dtype).name.replace("float", "f").replace("uint", "u")
            .replace("int", "i").replace("complex", "c"))
    _short_names[dtype] = name
  return name


_short_names: dict = {}


# ----------------------------------------------------------------------------------------
# The type hierarchy: issubdtype, isdtype, finfo/iinfo, can_cast.

finfo = ml_dtypes.finfo  # handles bfloat16, float8s, ... as well as NumPy floats
iinfo = ml_dtypes.iinfo  # handles int2/int4/uint4 as well as NumPy ints
can_cast = np.can_cast    # as jnp.can_cast; ml_dtypes registers its casts with NumPy

_issubdtype_cache: dict = {}


def issubdtype(a, b) -> bool:
  """`np.issubdtype` that knows ml_dtypes' floats/ints and extended (key) dtypes."""
  try:  # the common case, (dtype, scalar type) already seen: one dict lookup
    return _issubdtype_cache[(a, b)]
  except (KeyError, TypeError):
    pass
  if not isinstance(a, (type, np.dtype, ExtendedDType)):
    a = np.dtype(a)
  if not isinstance(b, (type, np.dtype, ExtendedDType)):
    b = np.dtype(b)
  try:
    return _issubdtype_cache[(a, b)]
  except KeyError:
    out = _issubdtype_cache[(a, b)] = _issubdtype(a, b)
    return out
  except TypeError:  # unhashable ExtendedDType
    return _issubdtype(a, b)


def _subclass(a, b) -> bool:
  return isinstance(a, type) and issubclass(a, b)


def _issubdtype(a, b) -> bool:
  # Extended dtypes are not NumPy dtypes, but their scalar types join NumPy's hierarchy.
  if _subclass(b, extended):
    if isinstance(a, ExtendedDType):
      return _subclass(a.type, b)
    if _subclass(a, np.generic):
      return issubclass(a, b)
    return _subclass(np.dtype(a).type, b)
  if isinstance(b, ExtendedDType):
    return isinstance(a, ExtendedDType) and a == b
  if isinstance(a, ExtendedDType):
    a = a.type
  a_sc = a if _subclass(a, np.generic) else np.dtype(a).type
  b_sc = b if _subclass(b, np.generic) else np.dtype(b).type
  # ml_dtypes' scalar types don't subclass np.floating / np.integer: place them by hand.
  if a_sc in _custom_float_scalar_types:
    return b_sc in (a_sc, np.floating, np.inexact, np.number, np.generic)
  if a_sc in _signed_intn_types:
    return b_sc in (a_sc, np.signedinteger, np.integer, np.number, np.generic)
  if a_sc in _unsigned_intn_types:
    return b_sc in (a_sc, np.unsignedinteger, np.integer, np.number, np.generic)
  return bool(np.issubdtype(a_sc, b_sc))


def isdtype(dtype, kind) -> bool:
  """Array-API `isdtype`: is `dtype` of `kind` (a kind name, a dtype, or a tuple of them)?

  Kinds include the ml_dtypes types ('real floating' has bfloat16 and the float8s).
  """
  the_dtype = np.dtype(dtype)
  options = set()
  for k in (kind if isinstance(kind, tuple) else (kind,)):
    if isinstance(k, str) and k in _dtype_kinds:
      options |= _dtype_kinds[k]
      continue
    try:
      options.add(np.dtype(k))
    except TypeError as e:
      if isinstance(k, str):
        raise ValueError(f"Unrecognized kind={k!r} expected one of "
                         f"{list(_dtype_kinds)}, or a compatible input for jnp.dtype()")
      raise TypeError(f"Expected kind to be a dtype, string, or tuple; got kind={k!r}") from e
  return the_dtype in options


# ----------------------------------------------------------------------------------------
# The promotion lattice. Nodes are strong dtypes plus three weak nodes for Python scalars.
# Weak nodes sit *below* every strong type of their kind, so `int8 + 3 -> int8`, and
# mixing signed with unsigned 64-bit has no integer bound: it lands on the weak float.

I_WEAK, F_WEAK, C_WEAK = "int*", "float*", "complex*"


def _lattice_edges(strict: bool, x64: bool) -> dict:
  """Each node's immediate successors (the DAG whose transitive closure is `<=`)."""
  if strict:  # only weak -> strong promotion is implicit
    return {I_WEAK: [F_WEAK, *_int_types], F_WEAK: [C_WEAK, *_float_types],
            C_WEAK: list(_complex_types), **{t: [] for t in _jax_types}}
  d = np.dtype
  b1 = _BOOL
  u8, u16, u32, u64 = (d(f"uint{b}") for b in (8, 16, 32, 64))
  i8, i16, i32, i64 = (d(f"int{b}") for b in (8, 16, 32, 64))
  bf16, f16, f32, f64 = d(bfloat16), d("float16"), _F32, _F64
  edges = {
      b1: [I_WEAK],
      I_WEAK: [u8, i8, *_intn_dtypes],
      u8: [i16, u16], u16: [i32, u32], u32: [i64, u64], u64: [F_WEAK],
      i8: [i16], i16: [i32], i32: [i64], i64: [F_WEAK],
      F_WEAK: [*_small_float_dtypes, bf16, f16, C_WEAK],
      bf16: [f32], f16: [f32], f32: [f64, _C64], f64: [_C128],
      C_WEAK: [_C64], _C64: [_C128], _C128: [],
      **{t: [] for t in _intn_dtypes + _small_float_dtypes},
  }
  if not x64:
    # Without x64, u32 x i32 must not form i64 (the lattice's only 32->64 bit step).
    edges[u32] = [i32, u64]
  return edges


def _upper_bounds(edges: dict) -> dict:
  """UB(n) = every node reachable from n, n included (transitive closure)."""
  ub = {}
  for n in edges:
    seen, stack = {n}, [n]
    while stack:
      for m in edges[stack.pop()]:
        if m not in seen:
          seen.add(m)
          stack.append(m)
    ub[n] = frozenset(seen)
  return ub


_ub_tables: dict = {}


def _lattice_ub(strict: bool, x64: bool) -> dict:
  key = (strict, x64)
  if key not in _ub_tables:
    _ub_tables[key] = _upper_bounds(_lattice_edges(strict, x64))
  return _ub_tables[key]


def _is_strict() -> bool:
  mode = config.jax_numpy_dtype_promotion
  if mode not in ("standard", "strict"):
    raise ValueError(f"Unexpected value of jax_numpy_dtype_promotion={mode!r}")
  return mode == "strict"


def _least_upper_bound(*nodes):
  """The least upper bound of `nodes` on the current lattice, or TypePromotionError."""
  strict = _is_strict()
  ub = _lattice_ub(strict, config.jax_enable_x64)
  try:
    bounds = [ub[n] for n in nodes]
  except KeyError:
    bad = next(n for n in nodes if n not in ub)
    raise ValueError(f"dtype={bad!r} is not a valid dtype for JAX type promotion.")
  common = frozenset.intersection(*bounds)
  # The LUB is the common bound below all other common bounds.
  lub = [c for c in common if common <= ub[c]]
  if len(lub) == 1:
    return lub[0]
  if lub:
    raise TypePromotionError(f"Internal Type Promotion error: {nodes} do not have a "
                             f"unique least upper bound; options are {lub}.")
  raise TypePromotionError(_no_promotion_msg(nodes, strict))


def _no_promotion_msg(nodes, strict) -> str:
  names = tuple(str(n) for n in nodes)
  head = f"Input dtypes {names} have no available implicit dtype promotion path"
  if strict:
    return (f"{head} when jax_numpy_dtype_promotion=strict. Try explicitly casting "
            "inputs to the desired output type, or set jax_numpy_dtype_promotion=standard.")
  for group, what in ((_float8_dtypes, "8-bit floats"), (_float6_dtypes, "6-bit floats"),
                      (_float4_dtypes, "4-bit floats")):
    if any(n in group for n in nodes):
      return (f"{head}. To avoid unintended promotion, {what} do not support implicit "
              "promotion. If you'd like your inputs to be promoted to another type, you "
              "can do so explicitly using e.g. x.astype('float32')")
  if any(n in _intn_dtypes for n in nodes):
    return (f"{head}. To avoid unintended promotion, 1-bit, 2-bit and 4-bit integers do "
            "not support implicit promotion. If you'd like your inputs to be promoted to "
            "another type, you can do so explicitly using e.g. x.astype('int32')")
  return f"{head}. Try explicitly casting inputs to the desired output type."


# The strong dtype standing for each weak node, when a weak node wins.
_WEAK_NODE_DTYPE = {I_WEAK: _I64, F_WEAK: _F64, C_WEAK: _C128}


def _node(dt, weak):
  """Lattice node of a value: weak values map to their kind's weak node."""
  if not weak or not isinstance(dt, np.dtype) or dt == _BOOL:
    return dt
  if dt in _custom_float_dtypes:
    return F_WEAK
  if dt in _intn_dtypes:
    return I_WEAK
  return {"i": I_WEAK, "u": I_WEAK, "f": F_WEAK, "c": C_WEAK}.get(dt.kind, dt)


def promote_types(a, b) -> np.dtype:
  """Implementation of `numpy.promote_types` on JAX's lattice.

  Python `int`/`float`/`complex` are weak and don't widen the other type. Not
  canonicalized: `promote_types('float64', 'int8')` is float64 even with x64 off.
  """
  # Identity tests, not `in`: np.dtype('int64') == int is True.
  na = next((n for t, n in _PYTYPE_NODE.items() if a is t), None) or np.dtype(a)
  nb = next((n for t, n in _PYTYPE_NODE.items() if b is t), None) or np.dtype(b)
  out = _least_upper_bound(na, nb)
  return _WEAK_NODE_DTYPE.get(out, out) if isinstance(out, str) else out


_PYTYPE_NODE = {int: I_WEAK, float: F_WEAK, complex: C_WEAK}


# ----------------------------------------------------------------------------------------
# result_type. Each argument reduces to a hashable key: a canonical np.dtype for a strong
# value, (dtype, True) for a weak one; the tuple of keys indexes a memo of results, so the
# common case costs a few attribute reads and one dict lookup.

_result_cache: dict = {}
# type(x) -> key, for Python scalar values; rebuilt when x64 changes.
_py_value_keys: dict = {}
# x -> key, for the Python scalar types used as arguments (int, float, complex, bool).
_py_type_keys: dict = {}


def _rebuild_python_keys():
  _py_value_keys.clear()
  _py_value_keys.update({int: (default_int_dtype(), True),
                         float: (default_float_dtype(), True),
                         complex: (default_complex_dtype(), True),
                         bool: _BOOL})  # Python bools are strong, as in JAX
  _py_type_keys.clear()
  _py_type_keys.update(_py_value_keys)


def _arg_key(x):
  k = _py_value_keys.get(type(x))
  if k is not None:
    return k
  if type(x) is np.ndarray:  # NumPy values are strong and get canonicalized
    return canonicalize_dtype(x.dtype)
  w = getattr(x, "weak_type", None)
  if w is not None:  # numjax values (Array, Tracer, aval): their dtype is respected
    return (x.dtype, True) if w else x.dtype
  return _arg_key_slow(x)


def _arg_key_slow(x):
  if x is None:
    return default_float_dtype()
  if isinstance(x, type):
    k = _py_type_keys.get(x)
    if k is not None:
      return k
    if issubclass(x, extended):
      return x
    return _maybe_canonicalize_explicit_dtype(np.dtype(x), "dtype")
  if isinstance(x, ExtendedDType):
    return x
  if isinstance(x, (str, np.dtype)):
    dt = np.dtype(x)
    _check_valid(dt, x)
    return _maybe_canonicalize_explicit_dtype(dt, "dtype")
  aval = getattr(x, "aval", None)
  if aval is not None and getattr(aval, "weak_type", None) is not None:
    return _arg_key(aval)
  dt = dtype(x)  # NumPy scalars, lists, objects with .dtype
  return dt if isinstance(dt, ExtendedDType) else canonicalize_dtype(dt)


def result_type(*args, return_weak_type_flag: bool = False):
  """JAX's promotion of values and dtype-likes; canonical dtype, optionally (dtype, weak).

  The result is weak iff every input is weak (a weak result has the default dtype of its
  kind, e.g. int32 with x64 off).
  """
  key = tuple(map(_arg_key, args))
  out = _result_cache.get(key)
  if out is None:
    if not args:
      raise ValueError("at least one array or dtype is required")
    out = _result_type_of_keys(key)
    _result_cache[key] = out
  return out if return_weak_type_flag else out[0]


# ml_dtypes' kind is 'V'; a weak result of theirs takes the default of its family.
# (JAX raises KeyError for a lone weak int4; we give the default int.)
_ML_KIND = {**{d: "f" for d in _custom_float_dtypes}, **{d: "i" for d in _signed_intn},
            **{d: "u" for d in _unsigned_intn}}


def _result_type_of_keys(keys):
  dts = [k[0] if type(k) is tuple else k for k in keys]
  weaks = [type(k) is tuple for k in keys]
  if len(dts) == 1:
    out, weak = dts[0], weaks[0]
  elif all(d == dts[0] for d in dts) and not all(weaks):
    out, weak = dts[0], False  # trivial case; lets extended dtypes through
  elif all(weaks) and not _is_strict():
    # All weak: promote the strong counterparts, then mark weak (avoids e.g. weak int16).
    out, weak = _least_upper_bound(*dict.fromkeys(dts)), True
  else:
    out = _least_upper_bound(*dict.fromkeys(_node(d, w) for d, w in zip(dts, weaks)))
    weak = isinstance(out, str)
  out = _WEAK_NODE_DTYPE.get(out, out) if isinstance(out, str) else out
  if _is_extended(out):
    return out, False
  out = canonicalize_dtype(out)
  weak = weak and out != _BOOL
  if weak:  # a weak result takes its kind's default width
    out = default_types[_ML_KIND.get(out, out.kind)]()
  return out, weak


def lattice_result_type(*args):
  """(dtype, weak_type) of promoting `args`."""
  return result_type(*args, return_weak_type_flag=True)


def safe_to_cast(input_dtype_or_value, output_dtype_or_value) -> bool:
  """True if promoting the input with the (strong) output dtype gives the output dtype."""
  in_dt = dtype(input_dtype_or_value, canonicalize=True)
  out_dt = dtype(output_dtype_or_value, canonicalize=True)
  if in_dt == out_dt:
    return True
  return result_type(input_dtype_or_value, out_dt) == out_dt


# ----------------------------------------------------------------------------------------
# User-requested dtypes (the `dtype=` argument of jnp functions).

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _user_stacklevel() -> int:
  """stacklevel that points `warnings.warn` at the first frame outside numjax."""
  f, level = sys._getframe(1), 1
  while f is not None and f.f_code.co_filename.startswith(_PKG_DIR + os.sep):
    f, level = f.f_back, level + 1
  return level


def _maybe_canonicalize_explicit_dtype(dt: np.dtype, fun_name: str) -> np.dtype:
  """Canonicalize an explicitly requested dtype; warn (or raise) when x64 truncates it."""
  if config.jax_enable_x64:
    return dt
  canonical = canonicalize_dtype(dt)
  if canonical == dt:
    return dt
  mode = str(getattr(config, "jax_explicit_x64_dtypes", "warn")).lower()
  if mode == "allow":
    return dt
  where = f" requested in {fun_name}" if fun_name else ""
  if mode == "error":
    raise ValueError(f"Explicitly requested dtype {dt}{where} is not available. To enable "
                     "more dtypes, set the jax_enable_x64 or allow_explicit_x64_dtypes "
                     "configuration options.See https://github.com/jax-ml/jax#current-gotchas"
                     " for more.")
  warnings.warn(f"Explicitly requested dtype {dt}{where} is not available, and will be "
                f"truncated to dtype {canonical.name}. To enable more dtypes, set the "
                "jax_enable_x64 configuration option or the JAX_ENABLE_X64 shell "
                "environment variable. See https://github.com/jax-ml/jax#current-gotchas "
                "for more.", UserWarning, stacklevel=_user_stacklevel())
  return canonical


def check_and_canonicalize_user_dtype(dtype, fun_name=None):
  """Validate a user's `dtype=` and return its canonical form (warning on truncation).

  Python scalar types give the default dtypes silently.
  """
  if dtype is None:
    raise ValueError("dtype must be specified.")
  # Fast path: a dtype that is already a canonical JAX dtype (e.g. one read off an array)
  if isinstance(dtype, np.dtype) and dtype in _jax_dtype_set and \
      _canon_cache.get(dtype) is dtype:
    return dtype
  if getattr(dtype, "weak_type", None) is not None and not isinstance(dtype, np.dtype):
    raise ValueError("Passing an array as a dtype argument is no longer supported; "
                     "instead of dtype=arr use dtype=arr.dtype.")
  if _is_extended(dtype) or _is_extended(getattr(dtype, "type", None)):
    return dtype
  if isinstance(dtype, type) and dtype in _DEFAULT_TYPEMAP:
    return _DEFAULT_TYPEMAP[dtype]()
  dt = np.dtype(dtype)
  if dt not in _jax_dtype_set:
    raise TypeError("JAX only supports number, bool, and string dtypes, got dtype "
                    f"{dtype}" + (f" in {fun_name}" if fun_name else ""))
  return _maybe_canonicalize_explicit_dtype(dt, fun_name or "")


def check_user_dtype_supported(dtype, fun_name=None):
  """As `check_and_canonicalize_user_dtype`, but `None` (no dtype requested) is allowed."""
  if dtype is None:
    return None
  return check_and_canonicalize_user_dtype(dtype, fun_name)


def check_valid_dtype(dt) -> None:
  if dt not in _jax_dtype_set:
    raise TypeError(f"Dtype {dt} is not a valid JAX array type. Only arrays of numeric "
                    "types are supported by JAX.")


# ----------------------------------------------------------------------------------------
# Cache invalidation: everything memoised above depends on these two flags.

def _on_config_change(name, value):
  if name in ("jax_enable_x64", "jax_numpy_dtype_promotion"):
    _canon_cache.clear()
    _result_cache.clear()
    _rebuild_python_keys()


_rebuild_python_keys()
config.on_change(_on_config_change)
