"""Core lax primitives: the elementwise families (table rows), conversions, broadcasting,
reshapes, transposes, selection, iota and dot_general.

A primitive's impl (NumPy on raw buffers), shape rule, jvp/transpose, batching rule and
native (C) template sit together. Elementwise primitives are rows of `_UNARY`/`_BINARY`.
Wrappers accept Python scalars (weakly typed) and normalise static params before `bind`.
"""
from __future__ import annotations

import builtins
import enum
import functools
import math
import operator
from typing import Sequence

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.array import Array, _make
from numjax._src.array import _narrow as _array_narrow  # 64->32-bit map while x64 is off
from numjax._src.core import Primitive, ShapedArray, Tracer
from numjax._src.lax.scalar_args import _JNP_NAMES, _scalar_kind_check
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters.ad import Zero

_bool = np.dtype(bool)
_py_scalars = (bool, int, float, builtins.complex)  # before `complex` is shadowed below
_float0 = _dtypes.float0

# ---------------------------------------------------------------------------------------
# Operand normalisation

_lowp = set()
for _n in ("bfloat16", "float8_e4m3fn", "float8_e5m2", "float8_e4m3b11fnuz", "float8_e4m3fnuz",
           "float8_e5m2fnuz", "float8_e3m4", "float8_e4m3", "float8_e8m0fnu", "float4_e2m1fn"):
  if hasattr(_dtypes, _n):
    _lowp.add(np.dtype(getattr(_dtypes, _n)))


def asarray(x):
  """An Array or Tracer for x; Python scalars become weakly typed."""
  if isinstance(x, (Array, Tracer)):
    return x
  if hasattr(x, "__jax_array__"):
    return asarray(x.__jax_array__())
  if isinstance(x, _py_scalars) and not isinstance(x, np.generic):
    dt = _dtypes.dtype(x, canonicalize=True)
    return _make(_py_scalar_to_np(x, dt), True)
  arr = np.asarray(x)
  dt = _dtypes.canonicalize_dtype(arr.dtype)
  return _make(arr.astype(dt) if arr.dtype != dt else np.array(arr), False)


def _py_scalar_to_np(x, dt):
  if isinstance(x, int) and not isinstance(x, bool):
    info = np.iinfo(dt)
    if not info.min <= x <= info.max:
      raise OverflowError(f"Python int {x} too large to convert to {dt}")
  return np.asarray(x, dtype=dt)


def _convert_scalar(x, dtype):
  """A Python scalar converted to `dtype`, keeping it weak (for lax.add(x, 2) & co)."""
  return _make(np.asarray(x, dtype=dtype), True)


_arrays = (Array, Tracer)
_REAL_PY_SCALARS = frozenset({bool, int, float})
_INT_ONLY = frozenset({int})  # `_INT_ONLY.issuperset(map(type, t))`: t holds plain ints


def _promote_lax_args(args):
  """lax binary ops: arrays must share a dtype; Python scalars take the arrays' dtype."""
  dt = None
  for a in args:
    if isinstance(a, (Array, Tracer)) or isinstance(a, np.ndarray):
      dt = a.dtype
      break
  out = []
  for a in args:
    if isinstance(a, (Array, Tracer)):
      out.append(a)
    elif dt is not None and isinstance(a, _py_scalars) and not isinstance(a, np.generic):
      out.append(_convert_scalar(a, dt))
    else:
      out.append(asarray(a))
  return out


def _check_same_dtypes(name, args):
  dts = {a.dtype for a in args}
  if len(dts) > 1:
    raise TypeError(f"lax.{name} requires arguments to have the same dtypes, got "
                    f"{', '.join(str(a.dtype) for a in args)}. (Tip: jnp."
                    f"{_JNP_NAMES.get(name, name)} is a similar function that does automatic "
                    "type promotion on inputs).")




# `np.errstate(all="ignore")` costs more than a small ufunc call; NumPy 2 keeps the error
# state in a context variable, so setting it directly does the same for a fifth of the cost
# (falling back to errstate where that private variable is missing).
try:
  from numpy._core._ufunc_config import _extobj_contextvar as _np_errstate_var
  from numpy._core.umath import _make_extobj
  _QUIET_STATE = _make_extobj(all="ignore")
except Exception:  # pragma: no cover - other NumPy versions
  _np_errstate_var = None


def _quiet(fn):
  """NumPy warns on overflow/0-division/invalid ops; JAX never does."""
  if _np_errstate_var is None:  # pragma: no cover
    def f(*args, **kw):
      with np.errstate(all="ignore"):
        return fn(*args, **kw)
  else:
    set_state, reset_state = _np_errstate_var.set, _np_errstate_var.reset

    def f(*args, **kw):
      token = set_state(_QUIET_STATE)
      try:
        return fn(*args, **kw)
      finally:
        reset_state(token)
  f.__name__ = getattr(fn, "__name__", "f")
  f.__wrapped__, f.quiet = fn, True  # the compiler calls the kernel itself (with out=)
  return f


def _lowp_safe(fn):
  """bfloat16/float8 have no NumPy math loops: compute in float32 and round back (as JAX)."""
  def f(*args, **kw):
    dt = args[0].dtype if hasattr(args[0], "dtype") else None
    if dt in _lowp:
      res = fn(*[np.asarray(a, np.float32) if getattr(a, "dtype", None) in _lowp else a
                 for a in args], **kw)
      res = np.asarray(res)
      return res.astype(dt) if res.dtype == np.float32 else res
    return fn(*args, **kw)
  f.__name__ = getattr(fn, "__name__", "f")
  f.__wrapped__, f.lowp_detour = fn, True  # the kernel, for dtypes without the detour
  return f


# ---------------------------------------------------------------------------------------
# Elementwise families

_FLOAT = "float"      # real or complex floating
_REAL = "real"        # real floating
_NUM = "num"          # any number (no bool)
_INT = "int"          # integer or bool (bitwise)
_ANY = "any"

_KIND_CHECK = {
    _FLOAT: lambda dt: _dtypes.issubdtype(dt, np.inexact),
    _REAL: lambda dt: _dtypes.issubdtype(dt, np.floating),
    _NUM: lambda dt: dt != _bool,
    _INT: lambda dt: dt == _bool or _dtypes.issubdtype(dt, np.integer),
    _ANY: lambda dt: True,
}
_KIND_NAMES = {_FLOAT: "floating", _REAL: "real floating", _NUM: "numeric",
               _INT: "integer or boolean", _ANY: "any"}


def _out_dtype(kind, dt):
  if kind == "same":
    return dt
  if kind == "bool":
    return _bool
  if kind == "real":  # complex -> its real part's dtype
    return np.dtype(np.float32) if dt == np.complex64 else (
        np.dtype(np.float64) if dt == np.complex128 else dt)
  if kind == "complex":
    return np.dtype(np.complex64) if dt == np.float32 else np.dtype(np.complex128)
  raise ValueError(kind)


def _broadcasting_shape(name, shapes, implicit=False):
  """The result shape of an elementwise op: rank-0 operands broadcast; with `implicit`
  (JAX's binary lax ops) equal-rank operands also broadcast their size-1 dims."""
  nonscalar = [s for s in shapes if s]
  if not nonscalar:
    return ()
  first = nonscalar[0]
  if any(len(s) != len(first) for s in nonscalar):
    raise TypeError(f"{name}: arrays must have the same number of dimensions, got "
                    f"{set(len(s) for s in nonscalar)}. (Tip: use jnp.{name} or "
                    "lax.broadcast_in_dim to broadcast explicitly.)")
  for s in nonscalar[1:]:
    if s != first:
      break
  else:
    return first
  if implicit:
    out = []
    for ds in zip(*nonscalar):
      big = {d for d in ds if d != 1}
      if len(big) > 1:
        break
      out.append(big.pop() if big else 1)
    else:
      return tuple(out)
  raise TypeError(f"{name} got incompatible shapes for broadcasting: "
                  f"{', '.join(str(tuple(s)) for s in shapes)}.")


def _make_elementwise(name, np_fn, nargs, kind, out_kind, c_template):
  p = Primitive(name)
  p.impl = np_fn
  p.native_template = c_template
  p.elementwise = True

  def dtype_rule(*dts):
    """Raises JAX's TypeError for operand dtypes the op rejects."""
    if nargs > 1 and len(set(dts)) > 1 and name not in _MIXED_DTYPE_OK:
      raise TypeError(f"{name} requires arguments to have the same dtypes, got "
                      f"{', '.join(map(str, dts))}.")
    if not _KIND_CHECK[kind](dts[0]):
      raise TypeError(f"{name} does not accept dtype {dts[0]}. Accepted dtypes are "
                      f"subtypes of {_KIND_NAMES[kind]}.")

  def abstract_eval(*avals, **params):
    dts = [a.dtype for a in avals]
    dtype_rule(*dts)
    shape = (avals[0].shape if nargs == 1 else
             _broadcasting_shape(name, [a.shape for a in avals], implicit=True))
    out_dt = _out_dtype(out_kind, dts[0])
    weak = all(a.weak_type for a in avals)  # as JAX: even a bool result (weak < weak)
    return ShapedArray(shape, out_dt, weak)
  p.abstract_eval = abstract_eval
  p.dtype_rule = dtype_rule  # (the eager bind checks dtypes alone: see _checked_bind)
  if nargs == 1:
    batching.defvectorized(p)
  else:
    batching.broadcast_batcher(p, implicit=True)
  return p


_MIXED_DTYPE_OK = {"complex", "shift_left", "shift_right_logical", "shift_right_arithmetic"}


def _np_round(x, rounding_method=0):
  if rounding_method in (1, "1", RoundingMethod.TO_NEAREST_EVEN):
    return np.round(x)
  # half away from zero, exactly (x + 0.5 would round 0.49999997 up) and keeping -0.0
  t = np.trunc(x)
  return np.where(np.abs(x - t) >= 0.5, t + np.sign(x), t).astype(x.dtype)


def _np_div(x, y):
  if x.dtype.kind in "iu":
    # C semantics: round toward zero; XLA's x / 0 = -1 (all ones for unsigned)
    with np.errstate(all="ignore"):
      zero = y == 0
      ys = np.where(zero, np.ones((), y.dtype), y)
      q = np.floor_divide(x, ys)
      r = np.remainder(x, ys)
      q = np.where((r != 0) & ((x < 0) != (ys < 0)), q + 1, q)
      if zero.any():
        q = np.where(zero, np.asarray(-1).astype(x.dtype), q)
    return np.asarray(q, dtype=x.dtype)
  return np.true_divide(x, y)


def _np_rem(x, y):
  if x.dtype.kind in "iu":
    # XLA: x % 0 = x
    with np.errstate(all="ignore"):
      zero = y == 0
      r = np.fmod(x, np.where(zero, np.ones((), y.dtype), y))
      return np.asarray(np.where(zero, x, r) if zero.any() else r, dtype=x.dtype)
  return np.fmod(x, y)


def _np_sign(x):
  if np.issubdtype(x.dtype, np.complexfloating):
    a = np.abs(x)
    return np.where(a == 0, 0, x / np.where(a == 0, 1, a)).astype(x.dtype)
  if x.dtype.kind == "f" or x.dtype in _lowp:
    return np.where(x == 0, x, np.sign(x))  # sign(-0.0) is -0.0, as XLA
  return np.sign(x)


def _np_logistic(x):
  return np.asarray(0.5 * (np.tanh(0.5 * x) + 1), dtype=x.dtype) if x.dtype != np.float64 \
      else 0.5 * (np.tanh(0.5 * x) + 1)


def _np_shift_right_logical(x, y):
  bits = x.dtype.itemsize * 8
  if x.dtype.kind == "u" and y.ndim == 0 and x.ndim:  # unsigned by a scalar: one shift
    s = int(y)
    return np.right_shift(x, x.dtype.type(s)) if 0 <= s < bits else np.zeros_like(x)
  ut = np.dtype(f"uint{x.dtype.itemsize * 8}")
  out = np.right_shift(x.view(ut) if x.ndim else x.astype(ut), np.minimum(y, bits - 1).astype(ut))
  out = np.where(y >= bits, 0, out)
  return out.astype(x.dtype)


def _np_shift_right_arithmetic(x, y):
  bits = x.dtype.itemsize * 8
  return np.right_shift(x, np.minimum(y, bits - 1).astype(x.dtype)).astype(x.dtype)


def _np_shift_left(x, y):
  bits = x.dtype.itemsize * 8
  out = np.left_shift(x, np.minimum(y, bits - 1).astype(x.dtype))
  return np.where(y >= bits, 0, out).astype(x.dtype)


def _np_popcnt(x):
  return np.bitwise_count(x).astype(x.dtype)


def _np_clz(x):
  bits = x.dtype.itemsize * 8
  ut = np.dtype(f"uint{bits}")
  u = x.astype(ut)
  out = np.full(u.shape, bits, dtype=np.int64)
  nz = u != 0
  # position of the highest set bit
  hb = np.zeros(u.shape, dtype=np.int64)
  v = u.copy()
  for s in (32, 16, 8, 4, 2, 1):
    if s >= bits:
      continue
    m = (v >> ut.type(s)) != 0
    hb = np.where(m, hb + s, hb)
    v = np.where(m, v >> ut.type(s), v)
  out = np.where(nz, bits - 1 - hb, out)
  return out.astype(x.dtype)


def _np_nextafter(x, y):
  return np.nextafter(x, y)


def _np_is_finite(x):
  return np.isfinite(x)


def _np_complex(x, y):
  return (x + 1j * y).astype(_out_dtype("complex", x.dtype))


def _np_conj(x, input_dtype=None):
  return np.conj(x)


def _scipy_special(name):
  def f(x):
    import scipy.special as sp  # imported on first use: keeps `import numjax` fast
    return getattr(sp, name)(x).astype(x.dtype)
  f.__name__ = name
  return f


def _np_polygamma(m, x):
  import scipy.special as sp
  return sp.polygamma(m, x).astype(x.dtype)


def _np_zeta(x, q):
  import scipy.special as sp
  return sp.zeta(x, q).astype(x.dtype)


def _np_erf_inv(x):
  # XLA's algorithm (Giles' polynomial with FMAs), so random.normal gives JAX's numbers
  from numjax._src.lax import xla_math
  return xla_math.erf_inv(x).astype(x.dtype, copy=False)


def _np_cbrt(x):
  return np.cbrt(x)


def _np_rsqrt(x):
  return (1 / np.sqrt(x)).astype(x.dtype)


def _np_not(x):
  return np.logical_not(x) if x.dtype == _bool else np.invert(x)


def _np_and(x, y):
  return np.logical_and(x, y) if x.dtype == _bool else np.bitwise_and(x, y)


def _np_or(x, y):
  return np.logical_or(x, y) if x.dtype == _bool else np.bitwise_or(x, y)


def _np_xor(x, y):
  return np.logical_xor(x, y) if x.dtype == _bool else np.bitwise_xor(x, y)


def _np_pow(x, y):
  if x.dtype != y.dtype and np.issubdtype(y.dtype, np.integer):
    return np.power(x, y.astype(x.dtype))
  return np.power(x, y)


def _np_atan2(x, y):
  return np.arctan2(x, y)


def _np_abs(x):
  return np.abs(x)


def _np_max(x, y):
  return np.maximum(x, y)


def _np_min(x, y):
  return np.minimum(x, y)


# (name, numpy impl, input kind, output kind, C template)
_UNARY = [
    ("neg", np.negative, _NUM, "same", "(-{0})"),
    ("sign", _np_sign, _NUM, "same", "nj_sign({0})"),
    ("floor", np.floor, _REAL, "same", "floor({0})"),
    ("ceil", np.ceil, _REAL, "same", "ceil({0})"),
    ("round", _np_round, _REAL, "same", "nj_round({0})"),
    ("is_finite", _np_is_finite, _REAL, "bool", "isfinite({0})"),
    ("exp", np.exp, _FLOAT, "same", "exp({0})"),
    ("exp2", np.exp2, _FLOAT, "same", "exp2({0})"),
    ("log", np.log, _FLOAT, "same", "log({0})"),
    ("log1p", np.log1p, _FLOAT, "same", "log1p({0})"),
    ("expm1", np.expm1, _FLOAT, "same", "expm1({0})"),
    ("tanh", np.tanh, _FLOAT, "same", "tanh({0})"),
    ("logistic", _np_logistic, _FLOAT, "same", "(1/(1+exp(-({0}))))"),
    ("sin", np.sin, _FLOAT, "same", "sin({0})"),
    ("cos", np.cos, _FLOAT, "same", "cos({0})"),
    ("tan", np.tan, _FLOAT, "same", "tan({0})"),
    ("asin", np.arcsin, _FLOAT, "same", "asin({0})"),
    ("acos", np.arccos, _FLOAT, "same", "acos({0})"),
    ("atan", np.arctan, _FLOAT, "same", "atan({0})"),
    ("sinh", np.sinh, _FLOAT, "same", "sinh({0})"),
    ("cosh", np.cosh, _FLOAT, "same", "cosh({0})"),
    ("asinh", np.arcsinh, _FLOAT, "same", "asinh({0})"),
    ("acosh", np.arccosh, _FLOAT, "same", "acosh({0})"),
    ("atanh", np.arctanh, _FLOAT, "same", "atanh({0})"),
    ("sqrt", np.sqrt, _FLOAT, "same", "sqrt({0})"),
    ("rsqrt", _np_rsqrt, _FLOAT, "same", "(1/sqrt({0}))"),
    ("cbrt", _np_cbrt, _REAL, "same", "cbrt({0})"),
    ("abs", _np_abs, _NUM, "real", "nj_abs({0})"),
    ("real", np.real, _FLOAT, "real", "creal({0})"),
    ("imag", np.imag, _FLOAT, "real", "cimag({0})"),
    ("conj", _np_conj, _FLOAT, "same", "conj({0})"),
    ("not", _np_not, _INT, "same", "nj_not({0})"),
    ("population_count", _np_popcnt, _INT, "same", "nj_popcount({0})"),
    ("clz", _np_clz, _INT, "same", "nj_clz({0})"),
    ("lgamma", _scipy_special("gammaln"), _REAL, "same", "lgamma({0})"),
    ("digamma", _scipy_special("digamma"), _REAL, "same", "nj_digamma({0})"),
    ("erf", _scipy_special("erf"), _REAL, "same", "erf({0})"),
    ("erfc", _scipy_special("erfc"), _REAL, "same", "erfc({0})"),
    ("erf_inv", _np_erf_inv, _REAL, "same", "nj_erfinv({0})"),
    ("square", np.square, _NUM, "same", "(({0})*({0}))"),
]

_BINARY = [
    ("add", np.add, _NUM, "same", "({0}+{1})"),
    ("sub", np.subtract, _NUM, "same", "({0}-{1})"),
    ("mul", np.multiply, _NUM, "same", "({0}*{1})"),
    ("div", _np_div, _NUM, "same", "nj_div({0},{1})"),
    ("rem", _np_rem, _NUM, "same", "nj_rem({0},{1})"),
    ("pow", _np_pow, _FLOAT, "same", "pow({0},{1})"),
    ("max", _np_max, _ANY, "same", "nj_max({0},{1})"),
    ("min", _np_min, _ANY, "same", "nj_min({0},{1})"),
    ("atan2", _np_atan2, _REAL, "same", "atan2({0},{1})"),
    ("nextafter", _np_nextafter, _REAL, "same", "nextafter({0},{1})"),
    ("and", _np_and, _INT, "same", "({0}&{1})"),
    ("or", _np_or, _INT, "same", "({0}|{1})"),
    ("xor", _np_xor, _INT, "same", "({0}^{1})"),
    ("shift_left", _np_shift_left, _INT, "same", "nj_shl({0},{1})"),
    ("shift_right_logical", _np_shift_right_logical, _INT, "same", "nj_shrl({0},{1})"),
    ("shift_right_arithmetic", _np_shift_right_arithmetic, _INT, "same", "nj_shra({0},{1})"),
    ("eq", np.equal, _ANY, "bool", "({0}=={1})"),
    ("ne", np.not_equal, _ANY, "bool", "({0}!={1})"),
    ("lt", np.less, _ANY, "bool", "({0}<{1})"),
    ("le", np.less_equal, _ANY, "bool", "({0}<={1})"),
    ("gt", np.greater, _ANY, "bool", "({0}>{1})"),
    ("ge", np.greater_equal, _ANY, "bool", "({0}>={1})"),
    ("complex", _np_complex, _REAL, "complex", "nj_complex({0},{1})"),
    ("polygamma", _np_polygamma, _REAL, "same", "nj_polygamma({0},{1})"),
    ("zeta", _np_zeta, _REAL, "same", "nj_zeta({0},{1})"),
]

# NumPy warns where JAX is silent (log(0), 1/0, 0/0): those impls run quietly. add/mul
# & co. are left out: errstate costs more than the op itself on the eager hot path.
_NOISY = {"log", "log1p", "sqrt", "rsqrt", "asin", "acos", "acosh", "atanh", "exp", "exp2",
          "expm1", "sinh", "cosh", "tan", "pow", "div", "rem", "lgamma", "digamma",
          "logistic", "erf_inv", "atan2", "round", "polygamma", "zeta"}
# ml_dtypes gives bfloat16/float8 NumPy loops for most ufuncs; these need a float32 detour.
_LOWP = {"round", "real", "imag", "lgamma", "digamma", "erf", "erfc", "erf_inv", "clz",
         "population_count", "sign", "logistic", "rsqrt", "cbrt", "pow", "polygamma", "zeta"}


def _fast_eager(p, nargs, bool_out):
  """The eager path of an elementwise primitive: one NumPy call and a wrap."""
  impl = p.impl
  if nargs == 1:
    def eager(x, **params):
      return _make(impl(x._value, **params), x.weak_type)
  else:
    def eager(x, y):
      return _make(impl(x._value, y._value), x.weak_type and y.weak_type)
  p.eager = eager


def _checked_bind(p, nargs):
  """p.bind for an elementwise primitive. Eagerly, NumPy would promote mixed dtypes,
  broadcast operands of different ranks and compute on dtypes JAX rejects, so those calls
  run the shape rule first (JAX's TypeError); a NumPy failure also gets the rule's error.
  Dtypes the rule accepted are remembered: a valid call pays a set lookup and a shape
  compare. p.eager stays unchecked (jnp's fast paths call it after their own checks)."""
  eager, rule_error, dtype_rule = p.eager, core.rule_error, p.dtype_rule
  ok = set()  # operand dtypes the dtype rule accepted

  if nargs == 1:
    def bind(x, **params):
      if not core._eager_only:
        return core.bind_with_trace(p, (x,), params)
      dt = x._value.dtype
      if dt not in ok:
        dtype_rule(dt)
        ok.add(dt)
      try:
        return eager(x, **params)
      except Exception as e:  # noqa: BLE001
        err = e
      rule_error(p, (x,), params, err)
  else:
    def bind(x, y, **params):
      if not core._eager_only:
        return core.bind_with_trace(p, (x, y), params)
      xv, yv = x._value, y._value
      dt = xv.dtype
      if dt != yv.dtype:
        dtype_rule(dt, yv.dtype)  # (shifts and complex accept some mixed pairs)
      elif dt not in ok:
        dtype_rule(dt, dt)
        ok.add(dt)
      xs, ys = xv.shape, yv.shape
      if xs != ys and xs and ys and len(xs) != len(ys):  # NumPy would add leading axes
        rule_error(p, (x, y), params)
      try:
        return eager(x, y, **params)
      except Exception as e:  # noqa: BLE001 - e.g. shapes that do not broadcast
        err = e
      rule_error(p, (x, y), params, err)
  p.bind = bind


_prims = {}
for _table, _nargs in ((_UNARY, 1), (_BINARY, 2)):
  for _name, _fn, _kind, _out, _c in _table:
    _f = _quiet(_fn) if _name in _NOISY else _fn
    _f = _lowp_safe(_f) if _name in _LOWP else _f
    _prims[_name] = _make_elementwise(_name, _f, _nargs, _kind, _out, _c)
    _fast_eager(_prims[_name], _nargs, _out == "bool")
    _checked_bind(_prims[_name], _nargs)

neg_p, sign_p, floor_p, ceil_p, round_p = (_prims[n] for n in ("neg", "sign", "floor", "ceil", "round"))
is_finite_p, exp_p, exp2_p, log_p, log1p_p = (_prims[n] for n in ("is_finite", "exp", "exp2", "log", "log1p"))
expm1_p, tanh_p, logistic_p, sin_p, cos_p = (_prims[n] for n in ("expm1", "tanh", "logistic", "sin", "cos"))
tan_p, asin_p, acos_p, atan_p = (_prims[n] for n in ("tan", "asin", "acos", "atan"))
sinh_p, cosh_p, asinh_p, acosh_p, atanh_p = (_prims[n] for n in ("sinh", "cosh", "asinh", "acosh", "atanh"))
sqrt_p, rsqrt_p, cbrt_p, abs_p = (_prims[n] for n in ("sqrt", "rsqrt", "cbrt", "abs"))
real_p, imag_p, conj_p, not_p = (_prims[n] for n in ("real", "imag", "conj", "not"))
population_count_p, clz_p, lgamma_p, digamma_p = (_prims[n] for n in ("population_count", "clz", "lgamma", "digamma"))
erf_p, erfc_p, erf_inv_p, square_p = (_prims[n] for n in ("erf", "erfc", "erf_inv", "square"))
add_p, sub_p, mul_p, div_p, rem_p, pow_p = (_prims[n] for n in ("add", "sub", "mul", "div", "rem", "pow"))
max_p, min_p, atan2_p, nextafter_p = (_prims[n] for n in ("max", "min", "atan2", "nextafter"))
and_p, or_p, xor_p = (_prims[n] for n in ("and", "or", "xor"))
shift_left_p, shift_right_logical_p, shift_right_arithmetic_p = (
    _prims[n] for n in ("shift_left", "shift_right_logical", "shift_right_arithmetic"))
eq_p, ne_p, lt_p, le_p, gt_p, ge_p = (_prims[n] for n in ("eq", "ne", "lt", "le", "gt", "ge"))
complex_p = _prims["complex"]
polygamma_p, zeta_p = _prims["polygamma"], _prims["zeta"]

round_p.hidden_params = frozenset()
conj_p.hidden_params = frozenset({"input_dtype"})


class RoundingMethod(enum.IntEnum):
  AWAY_FROM_ZERO = 0
  TO_NEAREST_EVEN = 1


# ---- wrappers -------------------------------------------------------------------------

def _not_a_sequence(name, args):
  """lax ops take arrays and scalars, not lists/tuples (as JAX: no implicit conversion)."""
  for i, a in enumerate(args):
    if isinstance(a, (list, tuple)):
      raise TypeError(f"Error interpreting argument to {name} as a JAX value. The problematic "
                      f"value is of type {type(a)} and was passed to {name} at position {i}. "
                      "(Tip: convert it with jnp.asarray first.)")


def _unop(p):
  def f(x):
    if type(x) is not Array and isinstance(x, (list, tuple)):
      _not_a_sequence(p.name, (x,))
    return p.bind(asarray(x))
  f.__name__ = p.name
  f.__doc__ = f"Elementwise {p.name}: lax.{p.name}(x)."
  return f


def _binop(p):
  name = p.name

  def f(x, y):
    if not (isinstance(x, _arrays) and isinstance(y, _arrays)):
      _not_a_sequence(name, (x, y))
      _scalar_kind_check(name, (x, y))
      x, y = _promote_lax_args((x, y))
    if x.dtype != y.dtype:
      _check_same_dtypes(name, (x, y))
    return p.bind(x, y)
  f.__name__ = p.name
  f.__doc__ = f"Elementwise {p.name}: lax.{p.name}(x, y); operands share a dtype."
  return f


neg = _unop(neg_p); sign = _unop(sign_p); floor = _unop(floor_p); ceil = _unop(ceil_p)
is_finite = _unop(is_finite_p); exp = _unop(exp_p); exp2 = _unop(exp2_p); log = _unop(log_p)
log1p = _unop(log1p_p); expm1 = _unop(expm1_p); tanh = _unop(tanh_p); logistic = _unop(logistic_p)
sin = _unop(sin_p); cos = _unop(cos_p); tan = _unop(tan_p); asin = _unop(asin_p)
acos = _unop(acos_p); atan = _unop(atan_p); sinh = _unop(sinh_p); cosh = _unop(cosh_p)
asinh = _unop(asinh_p); acosh = _unop(acosh_p); atanh = _unop(atanh_p); sqrt = _unop(sqrt_p)
rsqrt = _unop(rsqrt_p); cbrt = _unop(cbrt_p); abs = _unop(abs_p); real = _unop(real_p)
imag = _unop(imag_p); bitwise_not = _unop(not_p); population_count = _unop(population_count_p)
clz = _unop(clz_p); lgamma = _unop(lgamma_p); digamma = _unop(digamma_p); erf = _unop(erf_p)
erfc = _unop(erfc_p); erf_inv = _unop(erf_inv_p); square = _unop(square_p)
add = _binop(add_p); sub = _binop(sub_p); mul = _binop(mul_p); div = _binop(div_p)
rem = _binop(rem_p); max = _binop(max_p); min = _binop(min_p); atan2 = _binop(atan2_p)
nextafter = _binop(nextafter_p); bitwise_and = _binop(and_p); bitwise_or = _binop(or_p)
bitwise_xor = _binop(xor_p); shift_left = _binop(shift_left_p)
shift_right_logical = _binop(shift_right_logical_p)
shift_right_arithmetic = _binop(shift_right_arithmetic_p)
eq = _binop(eq_p); ne = _binop(ne_p); lt = _binop(lt_p); le = _binop(le_p); gt = _binop(gt_p)
ge = _binop(ge_p)
polygamma = _binop(polygamma_p)
zeta = _binop(zeta_p)


def pow(x, y):
  """lax.pow: x ** y for floating x; y may be floating (same dtype) or an integer."""
  x, y = _promote_lax_args((x, y))
  return pow_p.bind(x, y)


def complex(x, y):
  x, y = _promote_lax_args((x, y))
  _check_same_dtypes("complex", (x, y))
  return complex_p.bind(x, y)


def conj(x):
  x = asarray(x)
  return conj_p.bind(x, input_dtype=x.dtype)


def round(x, rounding_method=RoundingMethod.AWAY_FROM_ZERO):
  return round_p.bind(asarray(x), rounding_method=int(rounding_method))


# ---- derivatives ----------------------------------------------------------------------
# Written in primitives so they are themselves differentiable (higher orders for free).

def _one(x):
  """1 with x's dtype and weak type, rank 0 (as JAX's lax._one): elementwise ops broadcast
  it, so a jvp rule does not materialise an array of ones."""
  return full_like(x, 1, shape=())


def _zero_out(p):
  ad.defjvp(p, lambda g, *a, **k: Zero(ad.tangent_aval(core.get_aval(p.bind(*a, **k)))))


for _p in (sign_p, floor_p, ceil_p, round_p, is_finite_p, not_p, population_count_p, clz_p,
           and_p, or_p, xor_p, shift_left_p, shift_right_logical_p, shift_right_arithmetic_p,
           eq_p, ne_p, lt_p, le_p, gt_p, ge_p, nextafter_p):
  ad.defnondiff(_p)

ad.defjvp(neg_p, lambda g, x: neg(g))
ad.defjvp2(exp_p, lambda g, ans, x: mul(g, ans))
ad.defjvp2(exp2_p, lambda g, ans, x: mul(log(_const(x, 2)), mul(g, ans)))
ad.defjvp(log_p, lambda g, x: div(g, x))
ad.defjvp(log1p_p, lambda g, x: div(g, add(x, _one(x))))
ad.defjvp2(expm1_p, lambda g, ans, x: mul(g, add(ans, _one(ans))))
ad.defjvp2(tanh_p, lambda g, ans, x: mul(add(g, mul(g, ans)), sub(_one(x), ans)))
ad.defjvp2(logistic_p, lambda g, ans, x: mul(g, mul(ans, sub(_one(ans), ans))))
ad.defjvp(sin_p, lambda g, x: mul(g, cos(x)))
ad.defjvp(cos_p, lambda g, x: neg(mul(g, sin(x))))
ad.defjvp2(tan_p, lambda g, ans, x: mul(g, add(_one(x), square(ans))))
ad.defjvp(asin_p, lambda g, x: mul(g, rsqrt(sub(_one(x), square(x)))))
ad.defjvp(acos_p, lambda g, x: mul(g, neg(rsqrt(sub(_one(x), square(x))))))
ad.defjvp(atan_p, lambda g, x: div(g, add(_one(x), square(x))))
ad.defjvp(sinh_p, lambda g, x: mul(g, cosh(x)))
ad.defjvp(cosh_p, lambda g, x: mul(g, sinh(x)))
ad.defjvp(asinh_p, lambda g, x: mul(g, rsqrt(add(square(x), _one(x)))))
ad.defjvp(acosh_p, lambda g, x: mul(g, rsqrt(sub(square(x), _one(x)))))
ad.defjvp(atanh_p, lambda g, x: mul(integer_pow(add(_one(x), x), -1), div(g, sub(_one(x), x))))
ad.defjvp2(sqrt_p, lambda g, ans, x: mul(g, div(_const(x, 0.5), ans)))
ad.defjvp2(rsqrt_p, lambda g, ans, x: mul(g, mul(_const(x, -0.5), div(ans, x))))
ad.defjvp2(cbrt_p, lambda g, ans, x: mul(g, mul(_const(x, 1 / 3), integer_pow(ans, -2))))
ad.defjvp(lgamma_p, lambda g, x: mul(g, digamma(x)))
ad.defjvp(digamma_p, lambda g, x: mul(g, polygamma(_one(x), x)))
# d/dx polygamma(m, x) = polygamma(m + 1, x); m is an order (not differentiated, as JAX).
ad.defjvp(polygamma_p, None, lambda g, m, x: mul(g, polygamma(add(m, full_like(m, 1)), x)))
# d/dq zeta(s, q) = -s * zeta(s + 1, q); JAX gives no derivative in s either.
ad.defjvp(zeta_p, None, lambda g, s_, q: mul(g, mul(neg(s_), zeta(add(s_, full_like(s_, 1)), q))))
ad.defjvp(erf_p, lambda g, x: mul(_const(x, 2 / math.sqrt(math.pi)), mul(g, exp(neg(square(x))))))
ad.defjvp(erfc_p, lambda g, x: mul(_const(x, -2 / math.sqrt(math.pi)), mul(g, exp(neg(square(x))))))
ad.defjvp2(erf_inv_p, lambda g, ans, x: mul(_const(x, math.sqrt(math.pi) / 2),
                                               mul(g, exp(square(ans)))))
ad.defjvp(square_p, lambda g, x: mul(g, mul(_const(x, 2), x)))
ad.defjvp(real_p, lambda g, x: real(g))
ad.defjvp(imag_p, lambda g, x: imag(g))
ad.defjvp(conj_p, lambda g, x, **kw: conj(g))


def _abs_jvp(g, ans, x):
  if _dtypes.issubdtype(x.dtype, np.complexfloating):
    # d|z| = Re(conj(z) dz) / |z|
    safe = select_n(eq(ans, _const(ans, 0)), ans, full_like(ans, 1))
    return div(real(mul(conj(x), g)), safe)
  return select_n(ge(x, _const(x, 0)), neg(g), g)  # (JAX's select form)


ad.defjvp2(abs_p, _abs_jvp)
ad.deflinear(neg_p, lambda ct, x: [neg(ct)])
ad.deflinear(real_p, lambda ct, x: [complex(ct, full_like(ct, 0))])
ad.deflinear(imag_p, lambda ct, x: [complex(full_like(ct, 0), neg(ct))])
ad.deflinear(conj_p, lambda ct, x, **kw: [conj(ct)])
# neg, real, imag, conj are linear: their jvp is themselves (set by deflinear above).


def _shape_of(x):
  """x's shape (Arrays and tracers carry it; anything else via its aval)."""
  try:
    return x.shape
  except AttributeError:
    return core.get_aval(x).shape


def _unbroadcast(aval, ct):
  """Sum ct down to aval's shape: a rank-0 operand met a higher-rank one, or an operand's
  size-1 dims were broadcast implicitly (summed, then reshaped back, as JAX)."""
  if type(ct) is Zero:
    return ct
  ct_shape = _shape_of(ct)
  if ct_shape == aval.shape:
    return ct
  from numjax._src.lax.reductions import reduce_sum  # noqa: sibling family
  if not aval.shape:
    return reduce_sum(ct, tuple(range(len(ct_shape))))
  dims = tuple(i for i, (a, b) in enumerate(zip(ct_shape, aval.shape)) if a != b)
  if type(ct) is Array and core._eager_only:
    return _sum_concrete(ct, dims, aval.shape)
  return reshape(reduce_sum(ct, dims), aval.shape)


def _sum_concrete(ct, dims, shape):
  """An eager backward pass (concrete cotangent, nothing traced): the sum-then-reshape of
  an unbroadcast in one NumPy call (the staged form, for jaxprs, is reduce_sum + reshape)."""
  v = ct._value
  out = v.sum(axis=dims, dtype=v.dtype).reshape(shape)
  return _make(out, ct.weak_type)


def _bcast_tangent(g, out_aval):
  """A tangent of a rank-0 (or size-1-dims) operand broadcast to the output's shape."""
  g_shape = _shape_of(g)
  if g_shape == out_aval.shape:
    return g
  if not g_shape:
    return broadcast_in_dim(g, out_aval.shape, ())
  # as JAX: drop the broadcast size-1 dims, then broadcast back along the kept ones
  keep = tuple(i for i, (a, b) in enumerate(zip(g_shape, out_aval.shape)) if a == b)
  return broadcast_in_dim(reshape(g, tuple(g_shape[i] for i in keep)), out_aval.shape, keep)


def _add_sub_jvp(p, neg_y):
  """The jvp of add (tx + ty) or sub (tx - ty): a lone tangent is broadcast (negated for
  sub's y) to the output's shape, as the other operand may be rank 0."""
  def jvp(primals, tangents):
    x, y = primals
    out = p.bind(x, y)
    oa = out.aval
    tx, ty = tangents
    if type(tx) is Zero:
      if type(ty) is Zero:
        return out, Zero(ad.tangent_aval(oa))
      return out, _bcast_tangent(neg(ty) if neg_y else ty, oa)
    if type(ty) is Zero:
      return out, _bcast_tangent(tx, oa)
    return out, p.bind(tx, ty)  # (add/sub broadcast, as JAX's rules rely on)
  return jvp


def _add_transpose(ct, x, y):
  return [_unbroadcast(x.aval, ct) if ad.is_undefined_primal(x) else None,
          _unbroadcast(y.aval, ct) if ad.is_undefined_primal(y) else None]


def _sub_transpose(ct, x, y):
  return [_unbroadcast(x.aval, ct) if ad.is_undefined_primal(x) else None,
          _unbroadcast(y.aval, neg(ct)) if ad.is_undefined_primal(y) and type(ct) is not Zero
          else None]


ad.primitive_jvps[add_p] = _add_sub_jvp(add_p, False)
ad.primitive_jvps[sub_p] = _add_sub_jvp(sub_p, True)
ad.primitive_transposes[add_p] = _add_transpose
ad.primitive_transposes[sub_p] = _sub_transpose

ad.defjvp(mul_p, lambda g, x, y: mul(g, y), lambda g, x, y: mul(x, g))


def _mul_transpose(ct, x, y):
  if ad.is_undefined_primal(x):
    return [_unbroadcast(x.aval, mul(ct, y)), None]
  return [None, _unbroadcast(y.aval, mul(x, ct))]


ad.primitive_transposes[mul_p] = _mul_transpose

ad.defjvp(div_p, lambda g, x, y: div(g, y),
          lambda g, x, y: mul(mul(neg(g), x), integer_pow(y, -2)))


def _div_transpose(ct, x, y):
  assert ad.is_undefined_primal(x) and not ad.is_undefined_primal(y)
  return [_unbroadcast(x.aval, div(ct, y)), None]


ad.primitive_transposes[div_p] = _div_transpose
ad.defjvp2(rem_p, lambda g, ans, x, y: _bcast_tangent(g, core.get_aval(ans)),
          lambda g, ans, x, y: mul(neg(g), mul(sign(div(x, y)), floor(abs(div(x, y))))))


def _pow_jvp_x(g, x, y):
  if _dtypes.issubdtype(y.dtype, np.integer):
    ym1 = sub(y, full_like(y, 1))
    return mul(g, mul(convert_element_type(y, x.dtype), pow(x, ym1)))
  yx = y if y.dtype == x.dtype else convert_element_type(y, x.dtype)
  # x**y * y / x, written as y * x**(y-1) with the 0**0 edge handled by pow itself
  return mul(g, mul(yx, pow(x, sub(yx, full_like(yx, 1)))))


def _pow_jvp_y(g, ans, x, y):
  safe_log = log(select_n(eq(x, _const(x, 0)), x, full_like(x, 1)))
  return mul(g, mul(safe_log, ans))


ad.defjvp2(pow_p, lambda g, ans, x, y: _pow_jvp_x(g, x, y), _pow_jvp_y)


def _balanced_eq(a, ans, b):
  """1 where `a` is the max/min `ans`, halved where `b` ties it (ties split the gradient
  evenly, as JAX, in JAX's select form)."""
  is_a = eq(a, ans)
  ones = full_like(ans, 1)
  picked = select_n(is_a, full_like(ans, 0), ones)
  tie = eq(b, ans)
  twos = full_like(ans, 2)
  return div(picked, select_n(tie, full_like(ans, 1), twos))


for _p in (max_p, min_p):
  ad.defjvp2(_p, lambda g, ans, x, y: mul(g, _balanced_eq(x, ans, y)),
             lambda g, ans, x, y: mul(g, _balanced_eq(y, ans, x)))
ad.defjvp(atan2_p, lambda g, x, y: mul(g, div(y, add(square(x), square(y)))),
          lambda g, x, y: mul(g, div(neg(x), add(square(x), square(y)))))
ad.deflinear(complex_p, lambda ct, x, y: [_unbroadcast(_aval_of(x), real(ct)),  # as JAX:
                                           _unbroadcast(_aval_of(y), imag(neg(ct)))])  # -imag


def _aval_of(x):
  return x.aval if ad.is_undefined_primal(x) else core.get_aval(x)
ad.defnondiff(round_p)  # piecewise constant: zero derivative


def _const(like, val):
  """A scalar constant with `like`'s dtype (weak, rank 0): broadcasts in elementwise ops."""
  return _make(np.asarray(val, dtype=like.dtype), True)


# ---------------------------------------------------------------------------------------
# integer_pow

integer_pow_p = Primitive("integer_pow")
integer_pow_p.native_template = "nj_ipow({0},{y})"
integer_pow_p.elementwise = True


@_quiet
def _integer_pow_impl(x, *, y):
  if y == 0:
    return np.ones_like(x)
  if y < 0 and x.dtype.kind in "iu":
    raise TypeError("Integers cannot be raised to negative powers")
  if x.dtype in _lowp:
    return np.power(x.astype(np.float32), y).astype(x.dtype)
  # repeated squaring, as XLA: y**2 is x*x exactly
  acc, base, n = None, x, builtins.abs(y)
  while n:
    if n & 1:
      acc = base if acc is None else acc * base
    n >>= 1
    if n:
      base = base * base
  return (1 / acc).astype(x.dtype) if y < 0 else np.asarray(acc, dtype=x.dtype)


integer_pow_p.impl = _integer_pow_impl
def _integer_pow_abstract(x, *, y):
  if x.dtype == _bool or not (_dtypes.issubdtype(x.dtype, np.integer) or
                              _dtypes.issubdtype(x.dtype, np.inexact)):
    raise TypeError(f"integer_pow does not accept dtype {x.dtype}. Accepted dtypes are "
                    "subtypes of integer, floating, complexfloating.")
  if y < 0 and _dtypes.issubdtype(x.dtype, np.integer):
    raise TypeError("Integers cannot be raised to negative powers, got "
                    f"integer_pow({x.str_short(short_dtypes=False)}, {y})")
  return x


integer_pow_p.abstract_eval = _integer_pow_abstract
core.def_eager_checked_on_error(integer_pow_p, lambda x, *, y: x.dtype == _bool)
batching.defvectorized(integer_pow_p)
ad.defjvp(integer_pow_p, lambda g, x, *, y: (
    Zero(ad.tangent_aval(core.get_aval(x))) if y == 0 else
    mul(g, mul(_const(x, y), x if y == 2 else integer_pow(x, y - 1)))))


def integer_pow(x, y: int):
  return integer_pow_p.bind(asarray(x), y=operator.index(y))


# ---------------------------------------------------------------------------------------
# broadcast_in_dim

broadcast_in_dim_p = Primitive("broadcast_in_dim")
broadcast_in_dim_p.hidden_params = frozenset({"shape", "sharding"})  # shape: in the out type
broadcast_in_dim_p.hidden_if_default = {"broadcast_dimensions": ()}


def _broadcast_in_dim_impl(x, *, shape, broadcast_dimensions, sharding=None):
  # A read-only view with stride 0 along the broadcast dims, built directly (a tenth of
  # np.broadcast_to's cost); operands that are not one contiguous block go the long way.
  strides = [0] * len(shape)
  xs, xst = x.shape, x.strides
  for i, d in enumerate(broadcast_dimensions):
    if xs[i] != 1:
      strides[d] = xst[i]
  try:
    out = _ndarray_view(shape, x.dtype, x, 0, strides)
  except ValueError:  # (not contiguous: the buffer protocol refuses it)
    ishape = [1] * len(shape)
    for i, d in enumerate(broadcast_dimensions):
      ishape[d] = xs[i]
    return np.broadcast_to(x.reshape(ishape), shape)
  out.setflags(write=False)
  return out


_ndarray_view = np.ndarray


def _broadcast_in_dim_abstract(x, *, shape, broadcast_dimensions, sharding=None):
  for what, v in (("shape", shape), ("broadcast_dimensions", broadcast_dimensions)):
    if any(d < 0 for d in v):
      raise TypeError(f"broadcast_in_dim {what} must have every element be nonnegative, "
                      f"got {tuple(v)}.")
  if len(broadcast_dimensions) != x.ndim:
    raise TypeError("broadcast_in_dim broadcast_dimensions must have length equal to operand "
                    f"ndim; got broadcast_dimensions {broadcast_dimensions} for operand ndim "
                    f"{x.ndim}.")
  if len(shape) < x.ndim:
    raise TypeError("broadcast_in_dim target broadcast shape must have equal or higher rank "
                    f"to the operand shape; got operand ndim {x.ndim} and target broadcast "
                    f"ndim {len(shape)}.")
  if not all(0 <= d < len(shape) for d in broadcast_dimensions):
    raise TypeError("broadcast_in_dim broadcast_dimensions must be a subset of output "
                    f"dimensions, got {broadcast_dimensions} for operand ndim {x.ndim} and "
                    f"shape {shape}.")
  for i, d in enumerate(broadcast_dimensions):
    if x.shape[i] not in (1, shape[d]):
      raise TypeError(f"broadcast_in_dim operand dimension sizes must either be 1, or be "
                      f"equal to their corresponding dimensions in the target broadcast shape; "
                      f"got operand of shape {x.shape}, target broadcast shape {shape}, "
                      f"broadcast_dimensions {broadcast_dimensions} ")
  if len(set(broadcast_dimensions)) != len(broadcast_dimensions):
    raise TypeError("broadcast_in_dim broadcast_dimensions must not contain duplicates, got "
                    f"broadcast_dimensions {broadcast_dimensions}")
  return ShapedArray(shape, x.dtype, x.weak_type)


_bid_valid: set = set()  # (operand shape, shape, broadcast_dimensions) the rule accepted


def _bid_suspect(x, *, shape, broadcast_dimensions, sharding=None):
  """Eager check: the strided view in the impl would accept bad dimension maps silently, so
  each (operand shape, shape, dims) goes through the rule once."""
  try:
    key = (x.shape, shape, broadcast_dimensions)
    if key in _bid_valid:
      return False
  except TypeError:  # unhashable params: check every time
    return True
  _broadcast_in_dim_abstract(ShapedArray(x.shape, x.dtype), shape=shape,
                             broadcast_dimensions=broadcast_dimensions)
  if len(_bid_valid) >= 4096:
    _bid_valid.clear()
  _bid_valid.add(key)
  return False


def _broadcast_in_dim_transpose(ct, x, *, shape, broadcast_dimensions, sharding=None):
  from numjax._src.lax.reductions import reduce_sum
  if type(ct) is Zero:
    return [Zero(x.aval)]
  in_shape = x.aval.shape
  unit = [d for i, d in enumerate(broadcast_dimensions) if in_shape[i] == 1 and shape[d] != 1]
  new = [d for d in range(len(shape)) if d not in broadcast_dimensions]
  if (new or unit) and type(ct) is Array and core._eager_only:
    return [_sum_concrete(ct, tuple(sorted(new + unit)), in_shape)]
  summed = reduce_sum(ct, tuple(sorted(new + unit))) if (new or unit) else ct
  return [reshape(summed, in_shape) if unit else summed]


def _broadcast_in_dim_batch(vals, dims, *, shape, broadcast_dimensions, sharding=None):
  (x,), (d,) = vals, dims
  x = batching.moveaxis(x, d, 0)
  size = core.get_aval(x).shape[0]
  new_shape = (size,) + tuple(shape)
  new_dims = (0,) + tuple(b + 1 for b in broadcast_dimensions)
  return broadcast_in_dim_p.bind(x, shape=new_shape, broadcast_dimensions=new_dims,
                                 sharding=sharding), 0


broadcast_in_dim_p.impl = _broadcast_in_dim_impl
broadcast_in_dim_p.abstract_eval = _broadcast_in_dim_abstract
core.def_eager_checked_on_error(broadcast_in_dim_p, _bid_suspect)
broadcast_in_dim_p.native_template = {"kind": "index_map"}  # fused as an index remap
ad.deflinear(broadcast_in_dim_p, _broadcast_in_dim_transpose)
batching.primitive_batchers[broadcast_in_dim_p] = _broadcast_in_dim_batch


def broadcast_in_dim(operand, shape, broadcast_dimensions, out_sharding=None):
  operand = asarray(operand)
  if type(shape) is not tuple or not _INT_ONLY.issuperset(map(type, shape)):
    shape = tuple(core.concrete_dim_or_error(d, "broadcast_in_dim shape") for d in shape)
  if (type(broadcast_dimensions) is not tuple
      or not _INT_ONLY.issuperset(map(type, broadcast_dimensions))):
    broadcast_dimensions = tuple(operator.index(d) for d in broadcast_dimensions)
  if operand.shape == shape and broadcast_dimensions == tuple(range(len(shape))):
    return operand
  return broadcast_in_dim_p.bind(operand, shape=shape,
                                 broadcast_dimensions=broadcast_dimensions, sharding=None)


def broadcast(operand, sizes):
  operand = asarray(operand)
  dims = tuple(range(len(sizes), len(sizes) + operand.ndim))
  return broadcast_in_dim(operand, tuple(sizes) + operand.shape, dims)


def broadcast_to_rank(x, rank):
  x = asarray(x)
  return broadcast(x, (1,) * (rank - x.ndim)) if x.ndim < rank else x


def broadcast_shapes(*shapes):
  return tuple(np.broadcast_shapes(*[tuple(s) for s in shapes]))


# ---------------------------------------------------------------------------------------
# reshape

reshape_p = Primitive("reshape")
reshape_p.hidden_params = frozenset()


def _reshape_impl(x, *, new_sizes, dimensions, sharding=None):
  if dimensions is not None:
    x = np.transpose(x, dimensions)
  return x.reshape(new_sizes)


def _reshape_abstract(x, *, new_sizes, dimensions, sharding=None):
  if any(d < 0 for d in new_sizes):
    raise TypeError(f"reshape new_sizes must all be positive, got {tuple(new_sizes)}.")
  if dimensions is not None and sorted(dimensions) != list(range(x.ndim)):
    raise TypeError("reshape dimensions must be a permutation of operand dimensions, got "
                    f"dimensions {tuple(dimensions)} for shape {x.shape}.")
  if math.prod(new_sizes) != math.prod(x.shape):
    # (ValueError, as JAX raises for this one, when lowering)
    raise ValueError(f"reshape total size must be unchanged, got new_sizes {new_sizes} "
                     f"(of total size {math.prod(new_sizes)}) for shape {x.shape} (of total "
                     f"size {math.prod(x.shape)}).")
  return ShapedArray(new_sizes, x.dtype, x.weak_type)


def _reshape_transpose(ct, x, *, new_sizes, dimensions, sharding=None):
  if type(ct) is Zero:
    return [Zero(x.aval)]
  if dimensions is None:
    return [reshape(ct, x.aval.shape)]
  inv = tuple(np.argsort(dimensions))
  permuted = tuple(np.take(x.aval.shape, dimensions))
  return [transpose(reshape(ct, permuted), inv)]


def _reshape_batch(vals, dims, *, new_sizes, dimensions, sharding=None):
  (x,), (d,) = vals, dims
  x = batching.moveaxis(x, d, 0)
  if dimensions is not None:
    x = transpose(x, (0,) + tuple(p + 1 for p in dimensions))
  size = core.get_aval(x).shape[0]
  return reshape_p.bind(x, new_sizes=(size,) + tuple(new_sizes), dimensions=None,
                        sharding=None), 0


reshape_p.impl = _reshape_impl
reshape_p.abstract_eval = _reshape_abstract
# NumPy infers a negative size and accepts negative permutation entries; JAX rejects both
core.def_eager_checked_on_error(reshape_p, lambda x, *, new_sizes, dimensions, sharding=None:
                                dimensions is not None or
                                (bool(new_sizes) and builtins.min(new_sizes) < 0))
reshape_p.native_template = {"kind": "index_map"}
ad.deflinear(reshape_p, _reshape_transpose)
batching.primitive_batchers[reshape_p] = _reshape_batch


def reshape(operand, new_sizes, dimensions=None, out_sharding=None):
  """lax.reshape; `dimensions` (a permutation applied first) as in JAX."""
  operand = asarray(operand)
  new_sizes = tuple(core.concrete_dim_or_error(
      d, "The shape argument to reshape must be concrete (e.g. static_argnums).")
      for d in (new_sizes if np.ndim(new_sizes) else (new_sizes,)))
  dims = None if dimensions is None or tuple(dimensions) == tuple(range(operand.ndim)) \
      else tuple(int(d) for d in dimensions)
  if dims is None and operand.shape == new_sizes:
    return operand
  return reshape_p.bind(operand, new_sizes=new_sizes, dimensions=dims, sharding=None)


# ---------------------------------------------------------------------------------------
# transpose

transpose_p = Primitive("transpose")


def _transpose_abstract(x, *, permutation):
  if sorted(permutation) != list(range(x.ndim)):
    raise TypeError(f"transpose permutation isn't a permutation of operand dimensions, got "
                    f"permutation {permutation} for operand shape {x.shape}.")
  return ShapedArray(tuple(x.shape[p] for p in permutation), x.dtype, x.weak_type)


def _transpose_batch(vals, dims, *, permutation):
  (x,), (d,) = vals, dims
  perm = (d,) + tuple(p if p < d else p + 1 for p in permutation)
  return transpose_p.bind(x, permutation=perm), 0


transpose_p.impl = lambda x, *, permutation: x.transpose(permutation)  # (np.transpose, minus dispatch)
transpose_p.abstract_eval = _transpose_abstract
core.def_eager_checked_on_error(  # (NumPy accepts negative axes)
    transpose_p, lambda x, *, permutation: bool(permutation) and builtins.min(permutation) < 0)
transpose_p.native_template = {"kind": "index_map"}
ad.deflinear(transpose_p, lambda ct, x, *, permutation: [
    Zero(x.aval) if type(ct) is Zero else transpose(ct, tuple(np.argsort(permutation)))])
batching.primitive_batchers[transpose_p] = _transpose_batch


def transpose(operand, permutation):
  operand = asarray(operand)
  if type(permutation) is not tuple or not _INT_ONLY.issuperset(map(type, permutation)):
    permutation = tuple(operator.index(p) for p in permutation)
  if permutation == tuple(range(len(permutation))) and len(permutation) == operand.ndim:
    return operand
  return transpose_p.bind(operand, permutation=permutation)


# ---------------------------------------------------------------------------------------
# iota

iota_p = Primitive("iota")
iota_p.hidden_params = frozenset()


def _iota_impl(*, dtype, shape, dimension, sharding=None):
  r = np.arange(shape[dimension], dtype=dtype)
  ishape = [1] * len(shape)
  ishape[dimension] = shape[dimension]
  return np.broadcast_to(r.reshape(ishape), shape)


iota_p.impl = _iota_impl
iota_p.native_template = {"kind": "index_expr", "expr": "{index}"}
def _iota_abstract(*, dtype, shape, dimension, sharding=None):
  if any(d < 0 for d in shape):
    raise TypeError(f"iota shape must have every element be nonnegative, got {tuple(shape)}.")
  if not 0 <= dimension < len(shape):
    raise ValueError("iota dimension must be between 0 and len(shape), got "
                     f"dimension={dimension} for shape={tuple(shape)}")
  return ShapedArray(shape, dtype)


iota_p.abstract_eval = _iota_abstract
core.def_eager_checked_on_error(  # (a negative dimension would index from the end)
    iota_p, lambda *, dtype, shape, dimension, sharding=None: dimension < 0)
ad.defnondiff(iota_p)


def iota(dtype, size):
  return broadcasted_iota(dtype, (size,), 0)


def broadcasted_iota(dtype, shape, dimension, out_sharding=None):
  dtype = _dtypes.canonicalize_dtype(dtype)
  shape = tuple(core.concrete_dim_or_error(d) for d in shape)
  return iota_p.bind(dtype=dtype, shape=shape, dimension=operator.index(dimension),
                     sharding=None)


# ---------------------------------------------------------------------------------------
# dot_general lives in its own module (re-exported here: lax.dot_general & co.)
from numjax._src.lax.dot import (  # noqa: E402,F401
    DotDimensionNumbers, Precision, dot, dot_general, dot_general_p)


def _pp_dot_dimension_numbers(dn):
  """JAX prints dot_general's dimension numbers with lists: (([1], [0]), ([], []))."""
  (lc, rc), (lb, rb) = dn
  return f"(({list(lc)}, {list(rc)}), ({list(lb)}, {list(rb)}))"


dot_general_p.param_printers = {"dimension_numbers": _pp_dot_dimension_numbers}


# ---------------------------------------------------------------------------------------
# Constants and helpers used across lax and numpy

def full(shape, fill_value, dtype=None, *, sharding=None):
  """lax.full: an array of `shape` filled with `fill_value` (a broadcast of a scalar)."""
  if (dtype is not None and type(shape) is tuple and _INT_ONLY.issuperset(map(type, shape))
      and (type(fill_value) in _REAL_PY_SCALARS or isinstance(fill_value, np.generic))):
    # the common case (a scalar fill, a static shape), minus the checks
    fill = convert_element_type(fill_value, _dtypes.canonicalize_dtype(dtype), False)
    return broadcast(fill, shape) if shape else fill
  shape = (shape,) if np.ndim(shape) == 0 and not isinstance(shape, (tuple, list)) else shape
  shape = tuple(core.concrete_dim_or_error(d, "full shape") for d in shape)
  weak = dtype is None and _dtypes.is_weakly_typed(fill_value)
  dtype = _dtypes.canonicalize_dtype(dtype if dtype is not None else _dtypes.dtype(fill_value))
  fill = convert_element_type(fill_value, dtype, weak)
  if core.get_aval(fill).shape != ():
    raise TypeError(f"full must be called with scalar fill_value, got fill_value.shape "
                    f"{core.get_aval(fill).shape}.")
  return broadcast(fill, shape)


def full_like(x, fill_value, dtype=None, shape=None, sharding=None):
  aval = core.get_aval(x)
  dt = aval.dtype if dtype is None else dtype
  weak = dtype is None and aval.weak_type
  shp = aval.shape if shape is None else shape
  fill = convert_element_type(fill_value, dt, weak)
  return broadcast(fill, tuple(shp)) if shp else fill


def zeros_like_array(x):
  return full_like(x, 0)


def _zeros_like_aval(aval):
  return broadcast(convert_element_type(0, aval.dtype, aval.weak_type), aval.shape)


# add_any: the sum of two tangents/cotangents (JAX's add_jaxvals): what autodiff's
# accumulations stage, so jaxprs read `add_any` where JAX's do. The compiler's pass pipeline
# turns it back into add before code generation (and the NumPy tier runs it as np.add).
add_any_p = _make_elementwise("add_any", np.add, 2, _NUM, "same", "({0}+{1})")
_fast_eager(add_any_p, 2, False)
_checked_bind(add_any_p, 2)


def _add_any_jvp(primals, tangents):
  x, y = primals
  tx, ty = tangents
  out = add_any_p.bind(x, y)
  if type(tx) is Zero and type(ty) is Zero:
    return out, Zero(ad.tangent_aval(out.aval))
  if type(tx) is Zero:
    return out, ty
  if type(ty) is Zero:
    return out, tx
  return out, add_any_p.bind(tx, ty)


ad.primitive_jvps[add_any_p] = _add_any_jvp
ad.primitive_transposes[add_any_p] = lambda ct, x, y: [
    ct if ad.is_undefined_primal(x) else None, ct if ad.is_undefined_primal(y) else None]


def _add_any(a, b):
  return add_any_p.bind(a, b) if _shape_of(a) == _shape_of(b) else add(a, b)


ad.register_hooks(zeros_like_aval=_zeros_like_aval, add=_add_any)


def stop_gradient(x):
  """Identity whose derivative is zero (applied to every leaf of a pytree)."""
  from numjax._src import tree_util
  return tree_util.tree_map(_stop_gradient_leaf, x)


def _stop_gradient_leaf(x):
  x = asarray(x)
  # Unwrap every JVP tracer: the value passes, its tangent is dropped.
  while isinstance(x, ad.JVPTracer):
    x = x.primal
  if isinstance(x, Tracer):
    return _stop_p_bind(x)
  return x


stop_gradient_p = Primitive("stop_gradient")
stop_gradient_p.impl = lambda x: x
stop_gradient_p.abstract_eval = lambda x: x
stop_gradient_p.native_template = "({0})"
batching.defvectorized(stop_gradient_p)
ad.defnondiff(stop_gradient_p)


def _stop_p_bind(x):
  # Under staging/batching the value still needs a zero derivative if differentiated later.
  return stop_gradient_p.bind(x)


def squeeze(array, dimensions):
  """lax.squeeze: drop the given unit dimensions (a reshape)."""
  array = asarray(array)
  nd = array.ndim
  for d in dimensions:
    if not -nd <= d < nd:
      raise ValueError(f"axis {d} is out of bounds for array of dimension {nd}")
  # Python ints in the params, as JAX (np.int64 axes print as np.int64(0) otherwise)
  dims = tuple(sorted(operator.index(d) % nd if nd else operator.index(d) for d in dimensions))
  for d in dims:
    if array.shape[d] != 1:
      raise ValueError(f"cannot select an axis to squeeze out which has size not equal to "
                       f"one, got shape={array.shape} and dimensions={tuple(dimensions)}")
  new_shape = tuple(s for i, s in enumerate(array.shape) if i not in dims)
  if core._eager_only or not dims:
    return reshape(array, new_shape)
  from numjax._src.lax.misc import squeeze_p  # (misc imports this module)
  return squeeze_p.bind(array, dimensions=dims)  # staged as JAX stages it


def expand_dims(array, dimensions):
  """lax.expand_dims: insert unit dimensions (a broadcast_in_dim, as JAX)."""
  array = asarray(array)
  nd = array.ndim + len(dimensions)
  for d in dimensions:
    if not -nd <= d < nd:
      raise ValueError(f"axis {d} is out of bounds for array of dimension {nd}")
  dims = tuple(d % nd for d in dimensions)
  if len(set(dims)) != len(dims):
    raise ValueError(f"repeated axis in lax.expand_dims: {dims}")
  shape = list(array.shape)
  for d in sorted(dims):
    shape.insert(d, 1)
  kept = tuple(i for i in range(nd) if i not in dims)
  return broadcast_in_dim(array, tuple(shape), kept)


def clamp(min, x, max):
  """lax.clamp(min, x, max)."""
  min, x, max = _promote_lax_args((min, x, max))
  if not min.dtype == x.dtype == max.dtype:
    raise TypeError("lax.clamp requires arguments to have the same dtypes, got "
                    f"{min.dtype}, {x.dtype}, {max.dtype}. (Tip: jnp.clip is a similar "
                    "function that does automatic type promotion on inputs).")
  return clamp_p.bind(min, x, max)


clamp_p = Primitive("clamp")
clamp_p.elementwise = True
clamp_p.native_template = "nj_clamp({0},{1},{2})"
clamp_p.impl = lambda lo, x, hi: np.minimum(np.maximum(x, lo), hi)


def _clamp_abstract(lo, x, hi):
  for b, bn in ((lo, "min"), (hi, "max")):
    if b.shape and b.shape != x.shape:
      raise TypeError(f"clamp requires {bn}.shape == operand.shape or {bn}.shape == (), got "
                      f"{bn}.shape={b.shape}, operand.shape={x.shape}.")
    if b.dtype != x.dtype:
      raise TypeError(f"clamp requires min.dtype == operand.dtype == max.dtype, got "
                      f"{lo.dtype}, {x.dtype}, {hi.dtype}.")
  return x


clamp_p.abstract_eval = _clamp_abstract
core.def_eager_checked_on_error(clamp_p, lambda lo, x, hi: (  # NumPy would broadcast/promote
    lo.dtype != x.dtype or hi.dtype != x.dtype or (lo.shape and lo.shape != x.shape)
    or (hi.shape and hi.shape != x.shape)))
clamp_p.weak_type_rule = lambda args, params: args[1].weak_type
ad.defjvp(clamp_p,
          lambda g, lo, x, hi: select(bitwise_and(gt(lo, x), lt(lo, hi)), _bcast_tangent(g, core.get_aval(x)),
                                      full_like(x, 0)),
          lambda g, lo, x, hi: select(bitwise_and(gt(x, lo), lt(x, hi)), g, full_like(g, 0)),
          lambda g, lo, x, hi: select(lt(hi, x), _bcast_tangent(g, core.get_aval(x)), full_like(x, 0)))


def _clamp_batch(vals, dims):
  lo, x, hi = vals
  size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
  xd = dims[1]
  x = batching.bdim_at_front(x, xd, size)
  xs = core.get_aval(x).shape
  out = []
  for b, d in zip((lo, hi), (dims[0], dims[2])):
    ba = core.get_aval(b)
    if d is None and ba.ndim == 0:
      out.append(b)
    else:
      b = batching.bdim_at_front(b, d, size)
      if core.get_aval(b).shape != xs:
        b = broadcast_in_dim(b, xs, tuple(range(core.get_aval(b).ndim)))
      out.append(b)
  return clamp_p.bind(out[0], x, out[1]), 0


batching.primitive_batchers[clamp_p] = _clamp_batch


def rev(operand, dimensions):
  from numjax._src.lax.slicing import rev as _rev  # noqa
  return _rev(operand, dimensions)


def _canonical_axes(axes, ndim):
  return tuple(sorted(operator.index(a) % ndim if ndim else operator.index(a) for a in axes))


# select_n lives in its own module (re-exported here; the jvp rules above call select_n at
# run time, and it needs the helpers defined above)
from numjax._src.lax.select import select, select_n, select_n_p  # noqa: E402,F401
# convert_element_type / bitcast_convert_type too (the wrappers above call them at run time)
from numjax._src.lax.convert import (  # noqa: E402,F401
    bitcast_convert_type, convert_element_type, convert_element_type_p)
