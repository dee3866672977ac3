"""jnp's elementwise functions, written in lax primitives.

Each function promotes its arguments on JAX's lattice (util.promote_args*), broadcasts them
NumPy-style and calls lax. Result dtypes follow JAX: true_divide/sqrt/sin of integers give
the default float, comparisons give bool, floor/ceil/trunc of integers return them as they
are. The commonest binary operators have an eager fast path that skips promotion when both
operands are Arrays of one dtype (NumPy broadcasts by itself).
"""
from __future__ import annotations

import builtins
import math
import operator

import numpy as np

from numjax._src import core
from numjax._src import dtypes
from numjax._src.array import Array, _make
from numjax._src.config import config
from numjax._src.core import Tracer
from numjax._src.lax import lax
from numjax._src.numpy import util
from numjax._src.numpy.ufunc_api import ufunc
from numjax._src.numpy.util import (
    _where, check_arraylike, check_no_float0s, ensure_arraylike, promote_args,
    promote_args_inexact, promote_args_numeric, promote_dtypes, promote_dtypes_inexact,
    promote_dtypes_numeric, promote_shapes)

_ndarray = np.ndarray
_BOOL = np.dtype(bool)


def _const(x, value):
  """A 0-d constant of x's dtype (a literal in jaxprs), as JAX's lax._const: weakly typed
  when x is a weak 0-d value (so it keeps a Python-scalar computation weak), else strong."""
  return lax.convert_element_type(value, x.dtype, x.weak_type and x.ndim == 0)


def _like(x, value):
  """A 0-d constant with x's dtype and weak type (JAX's lax._ones/_zeros / full_like)."""
  return lax.convert_element_type(value, x.dtype, x.weak_type)


def _weak_const(x, value):
  """A Python literal in JAX's own jnp code (`q - 1`): weak, never changes a weak type."""
  return lax.convert_element_type(value, x.dtype, True)


def _strong_const(x, value):
  """A strong 0-d constant of x's dtype (JAX's jnp.array(value, dtype=x.dtype))."""
  return lax.convert_element_type(value, x.dtype, False)


def _quiet(fn):
  """Run fn with NumPy's floating-point warnings off: the eager lax ops meet inf - inf or
  0 * inf on purpose here (the results are selected away), and JAX never warns."""
  import functools

  @functools.wraps(fn)
  def f(*args, **kwargs):
    with np.errstate(all="ignore"):
      return fn(*args, **kwargs)
  return f


def _is_int_or_bool(dt):
  return dt == _BOOL or dtypes.issubdtype(dt, np.integer)


def _to_bool(x):
  return x if x.dtype == _BOOL else lax.ne(x, _const(x, 0))


def _iscomplex(x):
  return dtypes.issubdtype(x.dtype, np.complexfloating)


# ---------------------------------------------------------------------------------------
# Eager fast path: both operands Arrays of one dtype and weak type, no transformation
# active. The primitive's eager implementation is called directly; NumPy broadcasts.

_NUMERIC_FAST = {np.dtype(t) for t in ("int8", "int16", "int32", "int64", "uint8", "uint16",
                                       "uint32", "uint64", "float16", "float32", "float64",
                                       "complex64", "complex128")} | {np.dtype(dtypes.bfloat16)}
_INEXACT_FAST = {d for d in _NUMERIC_FAST if d.kind in "fcV"}
_ORDER_FAST = {d for d in _NUMERIC_FAST if d.kind != "c"} | {_BOOL}
_EQ_FAST = _NUMERIC_FAST | {_BOOL}


def _scalar_range(dt):
  if dt.kind in "iu":
    info = np.iinfo(dt)
    return int(info.min), int(info.max)
  m = float(dtypes.finfo(dt).max)
  return -m, m


_I32_MIN, _I32_MAX = -2 ** 31, 2 ** 31 - 1
_SCALAR_RANGES = {d: _scalar_range(d) for d in _NUMERIC_FAST}


def _fast_scalar(dt, s, ok):
  """s (a Python int/float) as a NumPy scalar of the strong array dtype dt, when JAX's
  promotion keeps dt and the value needs no overflow check or wrapping; else None."""
  if dt not in ok or dt not in _SCALAR_RANGES:
    return None
  lo, hi = _SCALAR_RANGES[dt]
  if type(s) is int:
    if dt.kind in "iu":
      return dt.type(s) if lo <= s <= hi else None
    return dt.type(s) if _I32_MIN <= s <= _I32_MAX else None
  if dt.kind in "iu":  # int array + float scalar promotes to a float: not fast
    return None
  return dt.type(s) if lo <= s <= hi else None


def _fast_binary(p, slow, ok, check_weak=True):
  impl = p.impl

  def f(x, y, /):
    if core._eager_only:
      tx, ty = type(x), type(y)
      if tx is Array:
        xb = x._buf
        if type(xb) is _ndarray:
          if ty is Array:
            yb = y._buf
            if type(yb) is _ndarray:
              dt = xb.dtype
              if dt == yb.dtype and dt in ok and (not check_weak or
                                                  x.weak_type == y.weak_type):
                xs, ys = xb.shape, yb.shape
                if xs == ys or not xs or not ys:
                  return p.eager(x, y)
                if len(xs) == len(ys) or config.jax_numpy_rank_promotion == "allow":
                  try:
                    return p.eager(x, y)
                  except ValueError:
                    pass  # shapes don't broadcast: the general path raises JAX's error
          elif (ty is float or ty is int) and not x.weak_type:
            s = _fast_scalar(xb.dtype, y, ok)
            if s is not None:
              return _make(impl(xb, s), False)
      elif ty is Array and (tx is float or tx is int) and not y.weak_type:
        yb = y._buf
        if type(yb) is _ndarray:
          s = _fast_scalar(yb.dtype, x, ok)
          if s is not None:
            return _make(impl(s, yb), False)
    return slow(x, y)
  f.__name__ = slow.__name__
  f.__qualname__ = slow.__qualname__
  f.__doc__ = slow.__doc__
  f.__wrapped__ = slow
  return f


# ---------------------------------------------------------------------------------------
# Unary functions on inexact values

def _unary_inexact(name, lax_fn, doc_extra=""):
  prim = getattr(lax, lax_fn.__name__ + "_p")

  def f(x, /):
    # eager fast path: an Array that is already inexact needs no promotion
    if core._eager_only and type(x) is Array and type(x._buf) is _ndarray and \
        x._buf.dtype in _INEXACT_FAST:
      return prim.eager(x)
    return lax_fn(*promote_args_inexact(name, x))
  f.__name__ = f.__qualname__ = name
  f.__doc__ = f"Implementation of numpy.{name}. Integer and bool inputs are promoted to the " \
      f"default float dtype.{doc_extra}"
  return f


exp = _unary_inexact("exp", lax.exp)
exp2 = _unary_inexact("exp2", lax.exp2)
expm1 = _unary_inexact("expm1", lax.expm1)
log = _unary_inexact("log", lax.log)
log1p = _unary_inexact("log1p", lax.log1p)
sin = _unary_inexact("sin", lax.sin)
cos = _unary_inexact("cos", lax.cos)
tan = _unary_inexact("tan", lax.tan)
arcsin = _unary_inexact("arcsin", lax.asin)
arccos = _unary_inexact("arccos", lax.acos)
arctan = _unary_inexact("arctan", lax.atan)
sinh = _unary_inexact("sinh", lax.sinh)
cosh = _unary_inexact("cosh", lax.cosh)
tanh = _unary_inexact("tanh", lax.tanh)
arcsinh = _unary_inexact("arcsinh", lax.asinh)
arctanh = _unary_inexact("arctanh", lax.atanh)
sqrt = _unary_inexact("sqrt", lax.sqrt)
cbrt = _unary_inexact("cbrt", lax.cbrt)


@_quiet
def arccosh(x, /):
  """Implementation of numpy.arccosh (complex results use NumPy's branch)."""
  out = lax.acosh(*promote_args_inexact("arccosh", x))
  if _iscomplex(out):
    out = _where(lax.lt(lax.real(out), _const(lax.real(out), 0)), lax.neg(out), out)
  return out


def _alias(name, fn, target):
  def f(*args):
    return fn(*promote_args(name, *args))
  f.__name__ = f.__qualname__ = name
  f.__doc__ = f"Implementation of numpy.{name} (alias of jnp.{target})."
  return f


acos = _alias("acos", arccos, "arccos")
acosh = _alias("acosh", arccosh, "arccosh")
asin = _alias("asin", arcsin, "arcsin")
asinh = _alias("asinh", arcsinh, "arcsinh")
atan = _alias("atan", arctan, "arctan")
atanh = _alias("atanh", arctanh, "arctanh")


@_quiet
def log2(x, /):
  """Implementation of numpy.log2."""
  x, = promote_args_inexact("log2", x)
  if _iscomplex(x):
    r = lax.log(x)
    re, im = lax.real(r), lax.imag(r)
    ln2 = lax.log(_strong_const(re, 2))
    return lax.complex(lax.div(re, ln2), lax.div(im, ln2))
  return lax.div(lax.log(x), lax.log(_strong_const(x, 2)))


@_quiet
def log10(x, /):
  """Implementation of numpy.log10."""
  x, = promote_args_inexact("log10", x)
  inv_ln10 = 0.4342944819032518  # 1 / log(10)
  if _iscomplex(x):
    r = lax.log(x)
    re, im = lax.real(r), lax.imag(r)
    return lax.complex(lax.mul(re, _strong_const(re, inv_ln10)),
                       lax.mul(im, _strong_const(im, inv_ln10)))
  return lax.mul(lax.log(x), _strong_const(x, inv_ln10))


def deg2rad(x, /):
  """Implementation of numpy.deg2rad."""
  x, = promote_args_inexact("deg2rad", x)
  return lax.mul(x, _const(x, np.pi / 180))


def rad2deg(x, /):
  """Implementation of numpy.rad2deg."""
  x, = promote_args_inexact("rad2deg", x)
  return lax.mul(x, _const(x, 180 / np.pi))


def degrees(x, /):
  """Implementation of numpy.degrees (alias of rad2deg)."""
  return rad2deg(x)


def radians(x, /):
  """Implementation of numpy.radians (alias of deg2rad)."""
  return deg2rad(x)


@_quiet
def reciprocal(x, /):
  """Implementation of numpy.reciprocal (integers are promoted to float, unlike NumPy)."""
  x = ensure_arraylike("reciprocal", x)
  x, = promote_dtypes_inexact(x)
  return lax.integer_pow(x, -1)


# ---------------------------------------------------------------------------------------
# Unary functions on numbers

def _negative(x, /):
  """Implementation of numpy.negative."""
  return lax.neg(*promote_args("negative", x))


def positive(x, /):
  """Implementation of numpy.positive."""
  return lax.asarray(*promote_args("positive", x))


def sign(x, /):
  """Implementation of numpy.sign (complex: x / |x|, as NumPy 2)."""
  x, = promote_args("sign", x)
  if x.dtype == _BOOL:
    raise TypeError("sign does not accept dtype bool. Accepted dtypes are subtypes of "
                    "integer, floating, complexfloating.")
  return lax.sign(x)


def square(x, /):
  """Implementation of numpy.square (bool is promoted to int)."""
  x = ensure_arraylike("square", x)
  x, = promote_dtypes_numeric(x)
  return lax.square(x)


def absolute(x, /):
  """Implementation of numpy.absolute (complex gives the real magnitude)."""
  x = ensure_arraylike("absolute", x)
  dt = x.dtype
  if dt == _BOOL or dtypes.issubdtype(dt, np.unsignedinteger):
    return x
  return lax.abs(x)


def abs(x, /):  # noqa: A001
  """Implementation of numpy.abs (alias of absolute)."""
  return absolute(x)


def fabs(x, /):
  """Implementation of numpy.fabs (always floating; complex inputs are an error)."""
  x = ensure_arraylike("fabs", x)
  if _iscomplex(x):
    raise TypeError("ufunc 'fabs' does not support complex dtypes")
  return lax.abs(*promote_args_inexact("fabs", x))


def floor(x, /):
  """Implementation of numpy.floor (integer and bool inputs are returned unchanged)."""
  x = ensure_arraylike("floor", x)
  if _is_int_or_bool(x.dtype):
    return x
  return lax.floor(*promote_args_inexact("floor", x))


def ceil(x, /):
  """Implementation of numpy.ceil (integer and bool inputs are returned unchanged)."""
  x = ensure_arraylike("ceil", x)
  if _is_int_or_bool(x.dtype):
    return x
  return lax.ceil(*promote_args_inexact("ceil", x))


@_quiet
@util.jit_when_traced
def trunc(x, /):
  """Implementation of numpy.trunc (integer and bool inputs are returned unchanged)."""
  x = ensure_arraylike("trunc", x)
  if _is_int_or_bool(x.dtype):
    return x
  return _where(lax.lt(x, _const(x, 0)), ceil(x), floor(x))


@_quiet
@util.jit_when_traced
def rint(x, /):
  """Implementation of numpy.rint (half to even; integers become the default float)."""
  x = ensure_arraylike("rint", x)
  if _is_int_or_bool(x.dtype):
    return lax.convert_element_type(x, dtypes.default_float_dtype())
  if _iscomplex(x):
    return lax.complex(rint(lax.real(x)), rint(lax.imag(x)))
  return lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN)


@util.jit_when_traced(static_argnames=("decimals",))
def round(a, decimals: int = 0, out=None):  # noqa: A001
  """Implementation of numpy.round (half to even; integers are returned unchanged)."""
  a = ensure_arraylike("round", a)
  decimals = core.concrete_or_error(operator.index, decimals,
                                    "'decimals' argument of jnp.round")
  if out is not None:
    raise NotImplementedError("The 'out' argument to jnp.round is not supported.")
  dt = a.dtype
  if dtypes.issubdtype(dt, np.integer):
    if decimals < 0:
      raise NotImplementedError("integer np.round not implemented for decimals < 0")
    return a

  def round_float(x):
    if decimals == 0:
      return lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN)
    # float16 has too little precision for the rescaling: work in float32
    y = lax.convert_element_type(x, np.float32) if dt == np.float16 else x
    factor = _const(y, 10.0 ** decimals)
    res = lax.div(lax.round(lax.mul(y, factor), lax.RoundingMethod.TO_NEAREST_EVEN), factor)
    return lax.convert_element_type(res, dt) if dt == np.float16 else res

  if decimals > np.log10(float(dtypes.finfo(dt).max)):
    return a  # beyond the dtype's precision rounding changes nothing
  if _iscomplex(a):
    return lax.complex(round_float(lax.real(a)), round_float(lax.imag(a)))
  return round_float(a)


def around(a, decimals: int = 0, out=None):
  """Implementation of numpy.around (alias of round)."""
  return round(a, decimals, out)


def conjugate(x, /):
  """Implementation of numpy.conjugate (real inputs are returned unchanged)."""
  x = ensure_arraylike("conjugate", x)
  return lax.conj(x) if _iscomplex(x) else x


def conj(x, /):
  """Implementation of numpy.conj (alias of conjugate)."""
  return conjugate(x)


def real(val, /):
  """Implementation of numpy.real."""
  val = ensure_arraylike("real", val)
  return lax.real(val) if _iscomplex(val) else val


def imag(val, /):
  """Implementation of numpy.imag (zeros for real inputs)."""
  val = ensure_arraylike("imag", val)
  return lax.imag(val) if _iscomplex(val) else lax.full_like(val, 0)


@_quiet
@util.jit_when_traced(static_argnames=("deg",))
def angle(z, deg: builtins.bool = False):
  """Implementation of numpy.angle (non-floating inputs give the default float)."""
  z = ensure_arraylike("angle", z)
  re, im = real(z), imag(z)
  dt = re.dtype
  if not dtypes.issubdtype(dt, np.inexact) or (
      dtypes.issubdtype(z.dtype, np.floating) and z.ndim == 0):
    dt = dtypes.default_float_dtype()
    re = lax.convert_element_type(re, dt)
    im = lax.convert_element_type(im, dt)
  result = lax.atan2(im, re)
  return degrees(result) if deg else result


@_quiet
def sinc(x, /):
  """Implementation of numpy.sinc: sin(pi x) / (pi x), 1 at 0 (with correct derivatives)."""
  x = ensure_arraylike("sinc", x)
  x, = promote_dtypes_inexact(x)
  eq_zero = lax.eq(x, _const(x, 0))
  pi_x = lax.mul(_const(x, np.pi), x)
  safe = _where(eq_zero, _const(x, 1), pi_x)
  # At 0 the Maclaurin polynomial carries the value and the first derivatives.
  pi_x2 = lax.mul(pi_x, pi_x)
  taylor = lax.add(_const(x, 1), lax.mul(pi_x2, lax.add(
      _const(x, -1 / 6), lax.mul(pi_x2, _const(x, 1 / 120)))))
  return _where(eq_zero, taylor, lax.div(lax.sin(safe), safe))


@_quiet
@util.jit_when_traced
def i0(x):
  """Implementation of numpy.i0, the modified Bessel function of order 0 (real inputs)."""
  from numjax._src.lax.special import bessel_i0e
  x, = promote_args_inexact("i0", x)
  if not dtypes.issubdtype(x.dtype, np.floating):
    raise ValueError(f"Unsupported input type to jax.numpy.i0: {x.dtype}")
  ax = lax.abs(x)
  return lax.mul(lax.exp(ax), bessel_i0e(ax))


# ---------------------------------------------------------------------------------------
# Bits of floats

_INT_FOR_BITS = {16: np.int16, 32: np.int32, 64: np.int64}


@_quiet
@util.jit_when_traced
def signbit(x, /):
  """Implementation of numpy.signbit."""
  x, = promote_args("signbit", x)
  dt = x.dtype
  if dtypes.issubdtype(dt, np.integer):
    return lax.lt(x, _strong_const(x, 0))
  if dt == _BOOL:
    return lax.full_like(x, False, dtype=np.bool_)
  if not dtypes.issubdtype(dt, np.floating):
    raise ValueError(f"jax.numpy.signbit is not well defined for {dt}")
  info = dtypes.finfo(dt)
  if info.bits not in _INT_FOR_BITS:
    raise NotImplementedError("jax.numpy.signbit only supports 16, 32, and 64-bit types.")
  bits = lax.bitcast_convert_type(x, _INT_FOR_BITS[info.bits])
  # (as JAX: the sign bit shifted across the word, -1 or 0, as a bool)
  sign = lax.shift_right_arithmetic(bits, _strong_const(bits, info.bits - 1))
  return lax.convert_element_type(sign, np.bool_)


@_quiet
@util.jit_when_traced
def copysign(x1, x2, /):
  """Implementation of numpy.copysign (real inputs only)."""
  x1, x2 = promote_args_inexact("copysign", x1, x2)
  if _iscomplex(x1):
    raise TypeError("copysign does not support complex-valued inputs")
  a = lax.abs(x1)
  return _where(signbit(x2), lax.neg(a), a)


def nextafter(x1, x2, /):
  """Implementation of numpy.nextafter."""
  return lax.nextafter(*promote_args_inexact("nextafter", x1, x2))


@_quiet
def spacing(x, /):
  """Implementation of numpy.spacing (distance to the next float away from zero)."""
  arr, = promote_args_inexact("spacing", x)
  if _iscomplex(arr):
    raise ValueError("jnp.spacing is not defined for complex inputs.")
  inf = _const(arr, np.inf)
  if arr.dtype == np.float16:
    return lax.sub(lax.nextafter(arr, inf), arr)
  result = lax.sub(lax.nextafter(arr, copysign(inf, arr)), arr)
  tiny = _strong_const(arr, float(dtypes.finfo(arr.dtype).smallest_subnormal))
  return _where(lax.eq(result, _const(result, 0)), copysign(tiny, arr), result)


def _exp2_int(e, like):
  """2**e for an integer-valued float array e, in two halves (no overflow on the way)."""
  h1 = lax.floor(lax.mul(e, _const(e, 0.5)))
  return lax.exp2(h1), lax.exp2(lax.sub(e, h1))


@_quiet
def frexp(x, /):
  """Implementation of numpy.frexp: x = m * 2**e with 0.5 <= |m| < 1, e int32."""
  x = ensure_arraylike("frexp", x)
  x, = promote_dtypes_inexact(x)
  if _iscomplex(x):
    raise TypeError("frexp does not support complex-valued inputs")
  special = lax.bitwise_or(lax.bitwise_not(lax.is_finite(x)), lax.eq(x, _const(x, 0)))
  ax = _where(special, _const(x, 1), lax.abs(x))
  # log2 gives the exponent up to one rounding step; the corrections below make it exact.
  e = lax.stop_gradient(lax.add(lax.floor(log2(ax)), _const(x, 1)))
  p1, p2 = _exp2_int(lax.neg(e), x)
  m = lax.mul(lax.mul(_where(special, _const(x, 1), x), p1), p2)
  am = lax.abs(m)
  hi = lax.ge(am, _const(x, 1))
  lo = lax.lt(am, _const(x, 0.5))
  m = _where(hi, lax.mul(m, _const(x, 0.5)), _where(lo, lax.mul(m, _const(x, 2)), m))
  e = _where(hi, lax.add(e, _const(e, 1)), _where(lo, lax.sub(e, _const(e, 1)), e))
  m = _where(special, x, m)
  e = _where(special, _const(e, 0), e)
  return m, lax.convert_element_type(e, np.int32)


@_quiet
def ldexp(x1, x2, /):
  """Implementation of numpy.ldexp: x1 * 2**x2 (x2 integer), without early overflow."""
  x1, x2 = ensure_arraylike("ldexp", x1, x2)
  if _iscomplex(x1) or dtypes.issubdtype(x2.dtype, np.inexact):
    raise ValueError(f"ldexp not supported for input types {(x1.dtype, x2.dtype)}")
  x1, = promote_args_inexact("ldexp", x1)
  x1, x2 = util._broadcast_arrays(x1, x2)
  m, e = frexp(x1)
  info = dtypes.finfo(x1.dtype)
  bound = 2 * (info.maxexp - info.minexp + info.nmant + 2)
  x2c = lax.clamp(_const(x2, -bound), x2, _const(x2, bound)) if x2.dtype.itemsize >= 2 else x2
  total = lax.add(lax.convert_element_type(e, x1.dtype), lax.convert_element_type(x2c, x1.dtype))
  p1, p2 = _exp2_int(lax.stop_gradient(total), x1)
  out = lax.mul(lax.mul(m, p1), p2)
  keep = lax.bitwise_or(lax.bitwise_not(lax.is_finite(x1)), lax.eq(x1, _const(x1, 0)))
  return _where(keep, x1, out)


@_quiet
@util.jit_when_traced
def modf(x, /, out=None):
  """Implementation of numpy.modf: (fractional part, integral part)."""
  x = ensure_arraylike("modf", x)
  x, = promote_dtypes_inexact(x)
  if out is not None:
    raise NotImplementedError("The 'out' argument to jnp.modf is not supported.")
  whole = _where(lax.ge(x, _const(x, 0)), floor(x), ceil(x))
  return lax.sub(x, whole), whole


# ---------------------------------------------------------------------------------------
# Classification

def isfinite(x, /):
  """Implementation of numpy.isfinite."""
  x = ensure_arraylike("isfinite", x)
  if dtypes.issubdtype(x.dtype, np.floating):
    return lax.is_finite(x)
  if _iscomplex(x):
    return lax.bitwise_and(lax.is_finite(lax.real(x)), lax.is_finite(lax.imag(x)))
  return lax.full_like(x, True, dtype=np.bool_)


def isinf(x, /):
  """Implementation of numpy.isinf."""
  x = ensure_arraylike("isinf", x)
  if dtypes.issubdtype(x.dtype, np.floating):
    return lax.eq(lax.abs(x), _strong_const(x, np.inf))
  if _iscomplex(x):
    re, im = lax.real(x), lax.imag(x)
    return lax.bitwise_or(lax.eq(lax.abs(re), _strong_const(re, np.inf)),
                          lax.eq(lax.abs(im), _strong_const(im, np.inf)))
  return lax.full_like(x, False, dtype=np.bool_)


def _isposneginf(infinity, x, out):
  if out is not None:
    raise NotImplementedError("The 'out' argument to isneginf/isposinf is not supported.")
  if dtypes.issubdtype(x.dtype, np.floating):
    return lax.eq(x, _strong_const(x, infinity))
  if _iscomplex(x):
    raise ValueError("isposinf/isneginf are not well defined for complex types")
  return lax.full_like(x, False, dtype=np.bool_)


def isposinf(x, /, out=None):
  """Implementation of numpy.isposinf."""
  return _isposneginf(np.inf, ensure_arraylike("isposinf", x), out)


def isneginf(x, /, out=None):
  """Implementation of numpy.isneginf."""
  return _isposneginf(-np.inf, ensure_arraylike("isneginf", x), out)


def isnan(x, /):
  """Implementation of numpy.isnan."""
  x = ensure_arraylike("isnan", x)
  return lax.ne(x, x)


def isreal(x):
  """Implementation of numpy.isreal."""
  i = imag(x)
  return lax.eq(i, _const(i, 0))


def iscomplex(x):
  """Implementation of numpy.iscomplex."""
  i = imag(x)
  return lax.ne(i, _const(i, 0))


def iscomplexobj(x) -> builtins.bool:
  """Implementation of numpy.iscomplexobj (a static check of the dtype)."""
  if isinstance(x, (complex, np.complexfloating)):
    return True
  if x is None or isinstance(x, (builtins.bool, int, float, str, np.generic)):
    return False
  try:
    typ = x.dtype.type
  except AttributeError:
    typ = np.asarray(x).dtype.type
  return dtypes.issubdtype(typ, np.complexfloating)


def isrealobj(x) -> builtins.bool:
  """Implementation of numpy.isrealobj."""
  return not iscomplexobj(x)


@_quiet
def nan_to_num(x, copy: builtins.bool = True, nan=0.0, posinf=None, neginf=None):
  """Implementation of numpy.nan_to_num (infinities become the dtype's max/min)."""
  del copy
  x = ensure_arraylike("nan_to_num", x)
  dt = x.dtype
  if not dtypes.issubdtype(dt, np.inexact):
    return x
  if _iscomplex(x):
    return lax.complex(nan_to_num(lax.real(x), nan=nan, posinf=posinf, neginf=neginf),
                       nan_to_num(lax.imag(x), nan=nan, posinf=posinf, neginf=neginf))
  info = dtypes.finfo(dt)
  posinf = float(info.max) if posinf is None else posinf
  neginf = float(info.min) if neginf is None else neginf

  def as_dt(v):
    return lax.convert_element_type(util._asarray(v), dt)
  out = _where(isnan(x), as_dt(nan), x)
  out = _where(isposinf(out), as_dt(posinf), out)
  return _where(isneginf(out), as_dt(neginf), out)


@_quiet
def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan: builtins.bool = False):
  """Implementation of numpy.isclose."""
  a, b = promote_args("isclose", a, b)
  a, b = promote_args_inexact("isclose", a, b)
  dt = a.dtype
  if _iscomplex(a):
    dt = np.dtype(np.float32) if dt == np.complex64 else np.dtype(np.float64)
  rtol = lax.convert_element_type(rtol, dt)
  atol = lax.convert_element_type(atol, dt)
  both_nan = lax.bitwise_and(isnan(a), isnan(b))
  in_range = lax.le(lax.abs(lax.sub(a, b)), lax.add(atol, lax.mul(rtol, lax.abs(b))))
  out = lax.bitwise_or(lax.eq(a, b), lax.bitwise_and(isfinite(b), in_range))
  return lax.bitwise_or(out, both_nan) if equal_nan else out


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan: builtins.bool = False):
  """Implementation of numpy.allclose (returns a 0-d bool Array)."""
  check_arraylike("allclose", a, b)
  return _all(isclose(a, b, rtol, atol, equal_nan))


def array_equal(a1, a2, equal_nan: builtins.bool = False):
  """Implementation of numpy.array_equal (a 0-d bool Array; False for other shapes)."""
  a1, a2 = util._asarray(a1), util._asarray(a2)
  if a1.shape != a2.shape:
    return lax.convert_element_type(False, np.bool_)
  eq = equal(a1, a2)
  if equal_nan:
    eq = lax.bitwise_or(eq, lax.bitwise_and(isnan(a1), isnan(a2)))
  return _all(eq)


def array_equiv(a1, a2):
  """Implementation of numpy.array_equiv (shapes need only broadcast)."""
  a1, a2 = util._asarray(a1), util._asarray(a2)
  try:
    eq = equal(a1, a2)
  except ValueError:  # shapes of different ranks that don't broadcast
    return lax.convert_element_type(False, np.bool_)
  return _all(eq)


def _all(x):
  from numjax._src.lax.reductions import reduce_and
  return reduce_and(x, tuple(range(x.ndim))) if x.ndim else x


def _searchsorted_right(xp, x):
  """Indices i with xp[i-1] <= x < xp[i] (xp sorted): jnp.searchsorted when available,
  else a count of xp <= x."""
  try:
    from numjax._src.numpy.array_methods import _jnp
    return _jnp("searchsorted")(xp, x, side="right")
  except NotImplementedError:
    from numjax._src.lax.reductions import reduce_sum
    le = lax.le(lax.broadcast_in_dim(xp, x.shape + xp.shape, (x.ndim,)),
                lax.broadcast_in_dim(x, x.shape + xp.shape, tuple(range(x.ndim))))
    return reduce_sum(lax.convert_element_type(le, np.int32), (x.ndim,))


@_quiet
def interp(x, xp, fp, left=None, right=None, period=None):
  """Implementation of numpy.interp (left/right may be 'extrapolate', as JAX)."""
  from numjax._src.lax.slicing import concatenate, slice_in_dim
  from numjax._src.lax.sorting import sort_key_val
  from numjax._src.numpy.indexing import take
  x, xp, fp = ensure_arraylike("interp", x, xp, fp)
  if xp.shape != fp.shape or xp.ndim != 1:
    raise ValueError("xp and fp must be one-dimensional arrays of equal size")
  x, xp = promote_dtypes_inexact(x, xp)
  fp, = promote_dtypes_inexact(fp)
  extrapolate = []
  for name, v in (("left", left), ("right", right)):
    if isinstance(v, str) and v != "extrapolate":
      raise ValueError(f"the only valid string value of `{name}` is 'extrapolate', but got: "
                       f"{v!r}")
    extrapolate.append(isinstance(v, str))
  if _iscomplex(x):
    raise ValueError("jnp.interp: complex x values not supported.")
  if period is not None:
    if np.ndim(period) != 0:
      raise ValueError(f"period must be a scalar; got {period}")
    period = absolute(period)
    x = remainder(x, period)
    xp = remainder(xp, period)
    xp, fp = sort_key_val(xp, fp)
    n = xp.shape[0]
    xp = concatenate([subtract(slice_in_dim(xp, n - 1, n), period), xp,
                      add_fn(slice_in_dim(xp, 0, 1), period)], 0)
    fp = concatenate([slice_in_dim(fp, n - 1, n), fp, slice_in_dim(fp, 0, 1)], 0)
  n = xp.shape[0]
  i = lax.clamp(np.int32(1), lax.convert_element_type(_searchsorted_right(xp, x), np.int32),
                np.int32(n - 1))
  im1 = lax.sub(i, _weak_const(i, 1))
  fp_i, fp_im1 = take(fp, i), take(fp, im1)
  xp_i, xp_im1 = take(xp, i), take(xp, im1)
  df = subtract_fn(fp_i, fp_im1)
  dx = subtract_fn(xp_i, xp_im1)
  delta = subtract_fn(x, xp_im1)
  eps = float(np.spacing(dtypes.finfo(xp.dtype).eps))
  dx0 = lax.le(lax.abs(dx), _const(dx, eps))  # no NaN gradients where dx is ~0
  f = _where(dx0, fp_im1,
             add_fn(fp_im1, multiply_fn(true_divide(delta, _where(dx0, _like(dx, 1), dx)),
                                        df)))
  if period is None:
    first, last = take(xp, np.int32(0)), take(xp, np.int32(n - 1))
    if not extrapolate[0]:
      f = _where(less(x, first), take(fp, np.int32(0)) if left is None else left, f)
    if not extrapolate[1]:
      f = _where(greater(x, last), take(fp, np.int32(n - 1)) if right is None else right, f)
  return f


# ---------------------------------------------------------------------------------------
# Arithmetic

def _add(x, y, /):
  """Implementation of numpy.add (bool + bool is logical or)."""
  x, y = promote_args("add", x, y)
  if x.dtype == _BOOL:
    return lax.bitwise_or(x, y)
  return lax.add(x, y)


def _subtract(x, y, /):
  """Implementation of numpy.subtract."""
  return lax.sub(*promote_args("subtract", x, y))


def _multiply(x, y, /):
  """Implementation of numpy.multiply (bool * bool is logical and)."""
  x, y = promote_args("multiply", x, y)
  return lax.mul(x, y) if x.dtype != _BOOL else lax.bitwise_and(x, y)


@_quiet
def _true_divide(x1, x2, /):
  """Implementation of numpy.true_divide (integers give the default float)."""
  x1, x2 = promote_args_inexact("true_divide", x1, x2)
  return lax.div(x1, x2)


def divide(x1, x2, /):
  """Implementation of numpy.divide (alias of true_divide)."""
  return true_divide(x1, x2)


def _float_divmod(x1, x2):
  # CPython's float_divmod: the remainder takes the divisor's sign
  mod = lax.rem(x1, x2)
  x1_corrected = _where(lax.eq(x2, _const(x2, 0)), x1, lax.sub(x1, mod))
  div = lax.div(x1_corrected, x2)
  zero = _const(mod, 0)
  ind = lax.bitwise_and(lax.ne(mod, zero), lax.ne(lax.sign(x2), lax.sign(mod)))
  mod = lax.select(ind, lax.add(mod, x2), mod)  # (lax.select, as JAX's body)
  div = lax.select(ind, lax.sub(div, _weak_const(div, 1)), div)
  return lax.round(div), mod


@_quiet
@util.jit_when_traced
def floor_divide(x1, x2, /):
  """Implementation of numpy.floor_divide."""
  x1, x2 = promote_args_numeric("floor_divide", x1, x2)
  dt = x1.dtype
  if dtypes.issubdtype(dt, np.unsignedinteger):
    return lax.div(x1, x2)
  if dtypes.issubdtype(dt, np.integer):
    quotient = lax.div(x1, x2)
    select = lax.bitwise_and(lax.ne(lax.sign(x1), lax.sign(x2)),
                             lax.ne(lax.rem(x1, x2), _const(x1, 0)))
    return _where(select, lax.sub(quotient, _weak_const(quotient, 1)), quotient)
  if _iscomplex(x1):
    raise TypeError("floor_divide does not support complex-valued inputs")
  return _float_divmod(x1, x2)[0]


@_quiet
@util.jit_when_traced
def remainder(x1, x2, /):
  """Implementation of numpy.remainder (the result has the divisor's sign)."""
  x1, x2 = promote_args_numeric("remainder", x1, x2)
  zero = _const(x1, 0)
  if dtypes.issubdtype(x2.dtype, np.integer):
    x2 = _where(lax.eq(x2, _const(x2, 0)), _like(x2, 1), x2)
  trunc_mod = lax.rem(x1, x2)
  nonzero = lax.ne(trunc_mod, zero)
  do_plus = lax.bitwise_and(lax.ne(lax.lt(trunc_mod, zero), lax.lt(x2, _const(x2, 0))),
                            nonzero)
  return lax.select(do_plus, lax.add(trunc_mod, x2), trunc_mod)


def mod(x1, x2, /):
  """Implementation of numpy.mod (alias of remainder)."""
  return remainder(x1, x2)


@_quiet
def fmod(x1, x2, /):
  """Implementation of numpy.fmod (the result has the dividend's sign)."""
  x1, x2 = ensure_arraylike("fmod", x1, x2)
  if dtypes.issubdtype(dtypes.result_type(x1, x2), np.integer):
    x2 = _where(lax.eq(x2, _const(x2, 0)), _like(x2, 1), x2)
  return lax.rem(*promote_args_numeric("fmod", x1, x2))


@_quiet
def divmod(x1, x2, /):  # noqa: A001
  """Implementation of numpy.divmod: (floor_divide, remainder)."""
  x1, x2 = promote_args_numeric("divmod", x1, x2)
  if dtypes.issubdtype(x1.dtype, np.integer):
    return floor_divide(x1, x2), remainder(x1, x2)
  return _float_divmod(x1, x2)


def _static_int_exponent(x2):
  """The exponent as a Python int when it is a static integer scalar, else None."""
  if isinstance(x2, (builtins.bool, np.bool_)):
    return None
  if isinstance(x2, (int, np.integer)):
    return int(x2)
  if isinstance(x2, Array) and x2.ndim == 0 and dtypes.issubdtype(x2.dtype, np.integer):
    return int(x2._value)
  return None


def _pow_int_int(x1, x2):
  # Binary exponentiation over the 6 low bits: more would overflow for any |x1| > 1.
  zero, one = _strong_const(x2, 0), _strong_const(x2, 1)
  acc = _where(lax.bitwise_and(lax.eq(x1, _strong_const(x1, 0)), lax.ne(x2, zero)),
               _strong_const(x1, 0), _strong_const(x1, 1))
  for _ in range(6):
    acc = _where(lax.ne(lax.bitwise_and(x2, one), zero), lax.mul(acc, x1), acc)
    x1 = lax.mul(x1, x1)
    x2 = lax.shift_right_logical(x2, one)
  return acc


@_quiet
def power(x1, x2, /):
  """Implementation of numpy.power.

  A static integer exponent uses lax.integer_pow (repeated multiplication: x**2 is x*x);
  integer bases with integer exponents use binary exponentiation; float bases with integer
  exponents stay differentiable at 0.
  """
  check_arraylike("power", x1, x2)
  x1 = util._check_jax_array_protocol(x1)
  x2 = util._check_jax_array_protocol(x2)
  check_no_float0s("power", x1, x2)
  y = _static_int_exponent(x2)
  if y is not None:
    x1, = promote_dtypes_numeric(x1)
    if y < 0 and dtypes.issubdtype(x1.dtype, np.integer):
      raise TypeError(f"Integers cannot be raised to negative powers, got "
                      f"integer_pow({_aval_str(x1)}, {y})")
    return lax.integer_pow(x1, y)
  x1, x2 = promote_shapes("power", x1, x2)
  x1_, x2_ = promote_args_numeric("power", x1, x2)
  if _is_int_or_bool(x1_.dtype):
    return _pow_int_int(x1_, x2_)
  if dtypes.issubdtype(x1.dtype, np.inexact) and dtypes.issubdtype(x2.dtype, np.integer):
    if "pow" in getattr(lax, "_MIXED_DTYPE_OK", ()):
      return lax.pow(x1, x2)
    # lax.pow here needs one dtype: the exponent keeps its own (strong) weak type
    return lax.pow(x1_, lax.convert_element_type(x2, x1_.dtype, x2.weak_type))
  return lax.pow(x1_, x2_)


def pow(x1, x2, /):  # noqa: A001
  """Implementation of numpy.pow (alias of power)."""
  return power(x1, x2)


def _aval_str(x):
  a = core.get_aval(x)
  return ("~" if a.weak_type else "") + a.str_short(False)


@_quiet
def float_power(x1, x2, /):
  """Implementation of numpy.float_power (JAX keeps the promoted float width)."""
  return lax.pow(*promote_args_inexact("float_power", x1, x2))


@_quiet
def arctan2(x1, x2, /):
  """Implementation of numpy.arctan2 (complex inputs: -i log((x2 + i x1) / sqrt(x2² + x1²)),
  as XLA's complex atan2)."""
  x1, x2 = promote_args_inexact("arctan2", x1, x2)
  if _iscomplex(x1):
    i = _const(x1, 1j)
    ratio = lax.div(lax.add(x2, lax.mul(i, x1)),
                    lax.sqrt(lax.add(lax.mul(x2, x2), lax.mul(x1, x1))))
    return lax.mul(lax.neg(i), lax.log(ratio))
  return lax.atan2(x1, x2)


def atan2(x1, x2, /):
  """Implementation of numpy.atan2 (alias of arctan2)."""
  return arctan2(*promote_args("atan2", x1, x2))


@_quiet
@util.jit_when_traced
def hypot(x1, x2, /):
  """Implementation of numpy.hypot (overflow-safe; real inputs only)."""
  x1, x2 = promote_args_inexact("hypot", x1, x2)
  if _iscomplex(x1):
    raise ValueError("jnp.hypot is not well defined for complex-valued inputs. Please "
                     "convert to real values first, such as by using abs(x)")
  x1, x2 = lax.abs(x1), lax.abs(x2)
  idx_inf = lax.bitwise_or(isposinf(x1), isposinf(x2))
  x1, x2 = maximum(x1, x2), minimum(x1, x2)
  zero = lax.eq(x1, _const(x1, 0))
  ratio = lax.div(x2, _where(zero, _const(x1, 1), x1))
  x = _where(zero, x1, lax.mul(x1, lax.sqrt(lax.add(_const(x1, 1), lax.square(ratio)))))
  return _where(idx_inf, _const(x, np.inf), x)


@_quiet
def _logaddexp(x1, x2, /):
  """Implementation of numpy.logaddexp: log(exp(x1) + exp(x2)) without overflow."""
  x1, x2 = promote_args_inexact("logaddexp", x1, x2)
  if _iscomplex(x1):
    return _logaddexp_complex(x1, x2, lax.exp, 1.0)
  return _logaddexp_real(x1, x2)


@_quiet
def _logaddexp2(x1, x2, /):
  """Implementation of numpy.logaddexp2: log2(2**x1 + 2**x2) without overflow."""
  x1, x2 = promote_args_inexact("logaddexp2", x1, x2)
  if _iscomplex(x1):
    return _logaddexp_complex(x1, x2, lax.exp2, 1 / math.log(2))
  return _logaddexp2_real(x1, x2)


def _logaddexp_complex(x1, x2, exp_fn, scale):
  # the operand with the larger real part is the pivot
  pick1 = lax.ge(lax.real(x1), lax.real(x2))
  amax = _where(pick1, x1, x2)
  amin = _where(pick1, x2, x1)
  tail = lax.log1p(exp_fn(lax.sub(amin, amax)))
  tail = lax.mul(_const(tail, scale), tail) if scale != 1.0 else tail
  return lax.add(amax, tail)


def _logaddexp_of(exp_fn, scale):
  def f(x1, x2):
    amax = lax.max(x1, x2)
    delta = lax.sub(x1, x2)
    is_nan = lax.ne(delta, delta)  # inf - inf: the sum is the answer (inf, -inf or nan)
    nan_case = lax.add(x1, x2)
    tail = lax.log1p(exp_fn(lax.neg(lax.abs(delta))))
    if scale != 1.0:
      tail = lax.mul(_const(tail, scale), tail)
    return lax.select(is_nan, nan_case, lax.add(amax, tail))
  return f


def _replace_posinf(x):
  return _where(isposinf(x), _like(x, 0), x)


def _logaddexp_jvp_of(fn, exp_fn):
  # d/dx1 = exp(x1 - out): written with +inf replaced so that inf - inf never appears
  def jvp(primals, tangents):
    x1, x2 = primals
    t1, t2 = tangents
    out = fn(x1, x2)
    ro = _replace_posinf(out)
    tan = lax.add(lax.mul(t1, exp_fn(lax.sub(_replace_posinf(x1), ro))),
                  lax.mul(t2, exp_fn(lax.sub(_replace_posinf(x2), ro))))
    return out, tan
  return jvp


def _make_logaddexp(name, exp_fn, scale):
  from numjax._src.custom_derivatives import custom_jvp
  impl = _logaddexp_of(exp_fn, scale)
  impl.__name__ = impl.__qualname__ = name
  fn = custom_jvp(impl)
  jvp = _logaddexp_jvp_of(fn, exp_fn)
  jvp.__name__ = jvp.__qualname__ = f"_{name}_jvp"
  fn.defjvp(jvp)
  return fn


_logaddexp_real = _make_logaddexp("logaddexp", lax.exp, 1.0)
_logaddexp2_real = _make_logaddexp("logaddexp2", lax.exp2, 1 / math.log(2))


def _maximum(x, y, /):
  """Implementation of numpy.maximum (NaNs propagate)."""
  return lax.max(*promote_args("maximum", x, y))


def _minimum(x, y, /):
  """Implementation of numpy.minimum (NaNs propagate)."""
  return lax.min(*promote_args("minimum", x, y))


@_quiet
@util.jit_when_traced
def fmax(x1, x2):
  """Implementation of numpy.fmax (NaNs are ignored where possible)."""
  return _where(logical_or(greater(x1, x2), isnan(x2)), x1, x2)


@_quiet
def fmin(x1, x2):
  """Implementation of numpy.fmin (NaNs are ignored where possible)."""
  return _where(logical_or(less(x1, x2), isnan(x2)), x1, x2)


@_quiet
@util.jit_when_traced
def heaviside(x1, x2, /):
  """Implementation of numpy.heaviside."""
  x1, x2 = ensure_arraylike("heaviside", x1, x2)
  x1, x2 = promote_dtypes_inexact(x1, x2)
  if _iscomplex(x1):
    raise TypeError(f"lt does not accept dtype {x1.dtype}. Accepted dtypes are subtypes of "
                    "integer, floating.")
  zero = _const(x1, 0)
  return _where(lax.lt(x1, zero), zero,
                _where(lax.gt(x1, zero), _const(x1, 1), _where(lax.ne(x1, x1), x1, x2)))


@_quiet
def gcd(x1, x2):
  """Implementation of numpy.gcd (integer inputs; Euclid's algorithm in a while_loop)."""
  from numjax._src.lax.control_flow import while_loop
  from numjax._src.lax.reductions import reduce_or
  x1, x2 = ensure_arraylike("gcd", x1, x2)
  x1, x2 = promote_dtypes(x1, x2)
  if not dtypes.issubdtype(x1.dtype, np.integer):
    raise ValueError("Arguments to jax.numpy.gcd must be integers.")
  a, b = util._broadcast_arrays(absolute(x1), absolute(x2))

  def cond(ab):
    nz = lax.ne(ab[1], _const(ab[1], 0))
    return reduce_or(nz, tuple(range(nz.ndim))) if nz.ndim else nz

  def body(ab):
    a, b = ab
    nz = lax.ne(b, _const(b, 0))
    safe_b = _where(nz, b, _const(b, 1))
    return _where(nz, b, a), _where(nz, lax.rem(a, safe_b), _const(b, 0))

  out = while_loop(cond, body, (a, b))[0]
  return lax.convert_element_type(out, out.dtype, False)  # JAX's while_loop strips weak types


@_quiet
def lcm(x1, x2):
  """Implementation of numpy.lcm (integer inputs)."""
  x1, x2 = ensure_arraylike("lcm", x1, x2)
  x1, x2 = promote_dtypes(x1, x2)
  x1, x2 = absolute(x1), absolute(x2)
  if not dtypes.issubdtype(x1.dtype, np.integer):
    raise ValueError("Arguments to jax.numpy.lcm must be integers.")
  d = gcd(x1, x2)
  return _where(lax.eq(d, _const(d, 0)), _const(d, 0),
                multiply(x1, floor_divide(x2, _where(lax.eq(d, _const(d, 0)), _const(d, 1), d))))


# ---------------------------------------------------------------------------------------
# Comparisons and logic

def _complex_comparison(lax_op, x, y):
  if _iscomplex(x):
    return lax.select(lax.eq(lax.real(x), lax.real(y)), lax_op(lax.imag(x), lax.imag(y)),
                      lax_op(lax.real(x), lax.real(y)))
  return lax_op(x, y)


def _equal(x, y, /):
  """Implementation of numpy.equal."""
  return lax.eq(*promote_args("equal", x, y))


def _not_equal(x, y, /):
  """Implementation of numpy.not_equal."""
  return lax.ne(*promote_args("not_equal", x, y))


def _less(x, y, /):
  """Implementation of numpy.less (complex: lexicographic, as NumPy)."""
  return _complex_comparison(lax.lt, *promote_args("less", x, y))


def _less_equal(x, y, /):
  """Implementation of numpy.less_equal (complex: lexicographic, as NumPy)."""
  return _complex_comparison(lax.le, *promote_args("less_equal", x, y))


def _greater(x, y, /):
  """Implementation of numpy.greater (complex: lexicographic, as NumPy)."""
  return _complex_comparison(lax.gt, *promote_args("greater", x, y))


def _greater_equal(x, y, /):
  """Implementation of numpy.greater_equal (complex: lexicographic, as NumPy)."""
  return _complex_comparison(lax.ge, *promote_args("greater_equal", x, y))


def _logical_and(x, y, /):
  """Implementation of numpy.logical_and."""
  return lax.bitwise_and(*map(_to_bool, promote_args("logical_and", x, y)))


def _logical_or(x, y, /):
  """Implementation of numpy.logical_or."""
  return lax.bitwise_or(*map(_to_bool, promote_args("logical_or", x, y)))


def _logical_xor(x, y, /):
  """Implementation of numpy.logical_xor."""
  return lax.bitwise_xor(*map(_to_bool, promote_args("logical_xor", x, y)))


def logical_not(x, /):
  """Implementation of numpy.logical_not."""
  return lax.bitwise_not(*map(_to_bool, promote_args("logical_not", x)))


def _bitwise_and(x, y, /):
  """Implementation of numpy.bitwise_and."""
  return lax.bitwise_and(*promote_args("bitwise_and", x, y))


def _bitwise_or(x, y, /):
  """Implementation of numpy.bitwise_or."""
  return lax.bitwise_or(*promote_args("bitwise_or", x, y))


def _bitwise_xor(x, y, /):
  """Implementation of numpy.bitwise_xor."""
  return lax.bitwise_xor(*promote_args("bitwise_xor", x, y))


def bitwise_not(x, /):
  """Implementation of numpy.bitwise_not."""
  return lax.bitwise_not(*promote_args("bitwise_not", x))


def bitwise_invert(x, /):
  """Implementation of numpy.bitwise_invert (alias of bitwise_not)."""
  return lax.bitwise_not(*promote_args("bitwise_invert", x))


def invert(x, /):
  """Implementation of numpy.invert (alias of bitwise_not)."""
  return lax.bitwise_not(*promote_args("invert", x))


def bitwise_count(x, /):
  """Implementation of numpy.bitwise_count: set bits of |x|, as uint8."""
  x, = promote_args_numeric("bitwise_count", x)
  return lax.convert_element_type(lax.population_count(absolute(x)), np.uint8)


def left_shift(x1, x2, /):
  """Implementation of numpy.left_shift."""
  return lax.shift_left(*promote_args_numeric("left_shift", x1, x2))


def bitwise_left_shift(x1, x2, /):
  """Implementation of numpy.bitwise_left_shift (alias of left_shift)."""
  return lax.shift_left(*promote_args_numeric("bitwise_left_shift", x1, x2))


def right_shift(x1, x2, /):
  """Implementation of numpy.right_shift (logical for unsigned, arithmetic for signed)."""
  x1, x2 = promote_args_numeric("right_shift", x1, x2)
  if dtypes.issubdtype(x1.dtype, np.unsignedinteger):
    return lax.shift_right_logical(x1, x2)
  return lax.shift_right_arithmetic(x1, x2)


def bitwise_right_shift(x1, x2, /):
  """Implementation of numpy.bitwise_right_shift (alias of right_shift)."""
  return right_shift(x1, x2)


# ---------------------------------------------------------------------------------------
# Fast-path wrappers and ufunc objects

subtract_fn = _fast_binary(lax.sub_p, _subtract, _NUMERIC_FAST)
add_fn = _fast_binary(lax.add_p, _add, _NUMERIC_FAST)
multiply_fn = _fast_binary(lax.mul_p, _multiply, _NUMERIC_FAST)
true_divide = _fast_binary(lax.div_p, _true_divide, _INEXACT_FAST)
true_divide.__name__ = true_divide.__qualname__ = "true_divide"
equal = _fast_binary(lax.eq_p, _equal, _EQ_FAST, check_weak=False)
not_equal = _fast_binary(lax.ne_p, _not_equal, _EQ_FAST, check_weak=False)
less = _fast_binary(lax.lt_p, _less, _ORDER_FAST, check_weak=False)
less_equal = _fast_binary(lax.le_p, _less_equal, _ORDER_FAST, check_weak=False)
greater = _fast_binary(lax.gt_p, _greater, _ORDER_FAST, check_weak=False)
greater_equal = _fast_binary(lax.ge_p, _greater_equal, _ORDER_FAST, check_weak=False)
for _f, _n in ((equal, "equal"), (not_equal, "not_equal"), (less, "less"),
               (less_equal, "less_equal"), (greater, "greater"),
               (greater_equal, "greater_equal")):
  _f.__name__ = _f.__qualname__ = _n


def _reduction(name):
  def reduce(a, axis=0, dtype=None, keepdims=False, initial=None, where=None):
    from numjax._src.numpy import reductions
    return getattr(reductions, name)(a, axis=axis, dtype=dtype, keepdims=keepdims,
                                     initial=initial, where=where)
  return reduce


def _reduction_no_dtype(name):
  def reduce(a, axis=0, dtype=None, keepdims=False, initial=None, where=None):
    from numjax._src.numpy import reductions
    out = getattr(reductions, name)(a, axis=axis, keepdims=keepdims, where=where,
                                    initial=initial)
    return out if dtype is None else lax.convert_element_type(
        out, dtypes.check_and_canonicalize_user_dtype(dtype))
  return reduce


def _bitwise_reduction(lax_reduce, combine, identity, to_bool=False):
  """ufunc.reduce for the bitwise/logical ufuncs: one lax reduce_{and,or,xor}."""
  def reduce(a, axis=0, dtype=None, keepdims=False, initial=None, where=None):
    a = util._asarray(a)
    if to_bool:
      a = _to_bool(a)
    if dtype is not None:
      a = lax.convert_element_type(a, dtypes.check_and_canonicalize_user_dtype(dtype))
    if not _is_int_or_bool(a.dtype):
      raise TypeError(f"ufunc reduce requires integer or boolean inputs, got {a.dtype}")
    axes = util.canonicalize_axis_tuple(axis, a.ndim)
    if where is not None:
      ident = builtins.bool(identity) if a.dtype == _BOOL else identity  # -1 -> True
      a = _where(where, a, _like(a, ident))
    out = lax_reduce(a, axes) if axes else a
    if initial is not None:
      out = combine(out, lax.convert_element_type(util._asarray(initial), out.dtype))
    if keepdims:
      out = lax.reshape(out, tuple(1 if i in axes else d for i, d in enumerate(a.shape)))
    return out
  return reduce


def _lax_reductions():
  from numjax._src.lax import reductions as r
  return r


def _cumulative(name):
  def accumulate(a, axis=0, dtype=None):
    from numjax._src.numpy import reductions
    return getattr(reductions, name)(a, axis=axis, dtype=dtype)
  return accumulate


def _at(method, bool_via_int=False):
  def at(a, indices, b):
    a = util._asarray(a)
    if bool_via_int and a.dtype == _BOOL:
      ai = lax.convert_element_type(a, np.int32)
      bi = lax.convert_element_type(lax.convert_element_type(util._asarray(b), np.bool_),
                                    np.int32)
      return lax.convert_element_type(getattr(ai.at[indices], method)(bi), np.bool_)
    return getattr(a.at[indices], method)(b)
  return at


add = ufunc(add_fn, 2, 1, name="add", identity=0, call=add_fn, reduce=_reduction("sum"),
            accumulate=_cumulative("cumsum"), at=_at("add", True))
multiply = ufunc(multiply_fn, 2, 1, name="multiply", identity=1, call=multiply_fn,
                 reduce=_reduction("prod"), accumulate=_cumulative("cumprod"),
                 at=_at("multiply", True))
subtract = ufunc(subtract_fn, 2, 1, name="subtract", identity=None, call=subtract_fn,
                 at=_at("subtract"))
negative = ufunc(_negative, 1, 1, name="negative", call=_negative)
maximum = ufunc(_maximum, 2, 1, name="maximum", identity=None, call=_maximum,
                reduce=_reduction_no_dtype("max"))
minimum = ufunc(_minimum, 2, 1, name="minimum", identity=None, call=_minimum,
                reduce=_reduction_no_dtype("min"))
_red = _lax_reductions()
logical_and = ufunc(_logical_and, 2, 1, name="logical_and", identity=True,
                    call=_logical_and,
                    reduce=_bitwise_reduction(_red.reduce_and, _logical_and, True, True))
logical_or = ufunc(_logical_or, 2, 1, name="logical_or", identity=False, call=_logical_or,
                   reduce=_bitwise_reduction(_red.reduce_or, _logical_or, False, True))
logical_xor = ufunc(_logical_xor, 2, 1, name="logical_xor", identity=False,
                    call=_logical_xor,
                    reduce=_bitwise_reduction(_red.reduce_xor, _bitwise_xor, False, True))
bitwise_and = ufunc(_bitwise_and, 2, 1, name="bitwise_and", identity=-1, call=_bitwise_and,
                    reduce=_bitwise_reduction(_red.reduce_and, _bitwise_and, -1))
bitwise_or = ufunc(_bitwise_or, 2, 1, name="bitwise_or", identity=0, call=_bitwise_or,
                   reduce=_bitwise_reduction(_red.reduce_or, _bitwise_or, 0))
bitwise_xor = ufunc(_bitwise_xor, 2, 1, name="bitwise_xor", identity=0, call=_bitwise_xor,
                    reduce=_bitwise_reduction(_red.reduce_xor, _bitwise_xor, 0))
del _red
logaddexp = ufunc(_logaddexp, 2, 1, name="logaddexp", identity=-np.inf, call=_logaddexp)
logaddexp2 = ufunc(_logaddexp2, 2, 1, name="logaddexp2", identity=-np.inf, call=_logaddexp2)
