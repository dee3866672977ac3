"""NumPy kernels for elementwise functions whose result JAX defines by XLA's algorithm.

`erf_inv` in float32 is not a correctly rounded function in XLA: it is Giles' polynomial
approximation evaluated with fused multiply-adds on top of XLA's own `log1p`. Random
normals are `sqrt(2) * erf_inv(u)`, so matching JAX's samples needs the same arithmetic.
The kernels work through their input in cache-sized blocks (a chain of ~50 NumPy calls
on a block that stays in L2 is several times faster than on the whole array).
"""
from __future__ import annotations

import math
import struct

import numpy as np

_f32 = np.float32
_f64 = np.float64
_BLOCK = 1 << 15

# log1p for |x| < sqrt(2) - 1: a Cephes rational approximation (as XLA's CPU log1p).
_LOG1P_NUM = (4.5270000862445199635215E-5, 4.9854102823193375972212E-1,
              6.5787325942061044846969E0, 2.9911919328553073277375E1,
              6.0949667980987787057556E1, 5.7112963590585538103336E1,
              2.0039553499201281259648E1)
_LOG1P_DEN = (1., 1.5062909083469192043167E1, 8.3047565967967209469434E1,
              2.2176239823732856465394E2, 3.0909872225312059774938E2,
              2.1642788614495947685003E2, 6.0118660497603843919306E1)
# Giles, "Approximating the erfinv function" (GPU Computing Gems), single precision.
_ERFINV_W_LT_5 = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                  0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_ERFINV_W_GE_5 = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
                  0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _bits_f32(h):
  return np.array([h], np.uint32).view(_f32)[0]


def _fma32(a, b, c, out=None):
  """float32 fused multiply-add: the float32 product is exact in float64, so the float64
  sum rounded to float32 is a*b+c rounded once (bar exact float32 midpoints)."""
  tmp = np.multiply(a, _f64(b) if np.ndim(b) == 0 else b.astype(_f64), dtype=_f64)
  return np.add(tmp, c, out=out, dtype=_f64, casting="same_kind") if out is not None else \
      np.add(tmp, c, dtype=_f64).astype(_f32)


# XLA's CPU log (a Cephes-style polynomial, as LLVM fuses it on x86 with FMA3)
_LOG_P = [_bits_f32(h) for h in (0x3D9021BB, 0xBDEBD1B8, 0xBDFE5D4F, 0x3E11E9BF, 0x3E4CCEAC,
                                  0xBE7FFFFC, 0x3DEF251A, 0xBE2AAE50, 0x3EAAAAAA)]
_LOG_Q1, _LOG_Q2 = _bits_f32(0xB95E8083), _bits_f32(0x3F318000)   # -2.12194440e-4, 0.693359375
_SQRTHF = _bits_f32(0x3F3504F3)
_MIN_NORMAL = _bits_f32(0x00800000)


def log_f32(x: np.ndarray) -> np.ndarray:
  """float32 log rounded as XLA's CPU code computes it (denormal inputs count as zero)."""
  with np.errstate(all="ignore"):
    b = np.maximum(x, _MIN_NORMAL).view(np.uint32)
    e = ((b >> np.uint32(23)).astype(np.int32) - 126).astype(_f32)
    m = ((b & np.uint32(0x807FFFFF)) | np.uint32(0x3F000000)).view(_f32)   # in [0.5, 1)
    small = m < _SQRTHF
    e -= small
    t = m - _f32(1)
    t += np.where(small, m, _f32(0))
    t64 = t.astype(_f64)
    t3 = t * t * t
    t3_64 = t3.astype(_f64)
    p = _LOG_P
    y1 = _fma32(_fma32(t64, p[0], p[1]), t64, p[6])
    y2 = _fma32(_fma32(t64, p[2], p[3]), t64, p[7])
    y3 = _fma32(_fma32(t64, p[4], p[5]), t64, p[8])
    y = _fma32(_fma32(y1, t3_64, y2), t3_64, y3)
    y = _fma32(y, t3_64, _LOG_Q1 * e)
    y += t - _f32(0.5) * (t * t)
    out = _fma32(e, _LOG_Q2, y)
    out[~(x > 0)] = np.nan
    out[np.abs(x) < _MIN_NORMAL] = -np.inf
    out[x == np.inf] = np.inf
    return out


def _horner_fma(x64, coeffs, out, tmp):
  """A float32 polynomial by Horner's rule with fused multiply-adds (XLA contracts a*b+c):
  the float32 product is exact in float64 and the sum is rounded once to float32."""
  out[...] = _f32(coeffs[0])
  for c in coeffs[1:]:
    np.multiply(out, x64, out=tmp)
    np.add(tmp, _f32(c), out=out, casting="same_kind")
  return out


def _log1p_small(y):
  """XLA's log1p for |y| < sqrt(2) - 1: y - y^2/2 + y^3 P(y)/Q(y), FMAs as XLA's."""
  n = y.size
  tmp = np.empty(n, _f64)
  y64 = y.astype(_f64)
  a = _horner_fma(y64, _LOG1P_NUM, np.empty(n, _f32), tmp)
  b = _horner_fma(y64, _LOG1P_DEN, np.empty(n, _f32), tmp)
  y2 = y * y
  np.divide(a, b, out=a)
  np.multiply(np.multiply(y, y2, out=b), a, out=a)
  np.add(np.multiply(_f32(-0.5), y2, out=b), a, out=a)
  return np.add(y, a, out=a)


def _erf_inv_f32_block(x, out):
  y = np.negative(x * x)                       # w = -log1p(y), y in (-1, 0]
  small = np.abs(y) < _f32(0.41421356237309504880)
  if small.all():
    w = _log1p_small(y)
  else:  # each branch of log1p on its own lanes
    w = np.empty_like(y)
    w[small] = _log1p_small(y[small])
    big = ~small
    w[big] = log_f32(np.add(y[big], _f32(1)))
  np.negative(w, out=w)
  lt = w < _f32(5)
  a = _horner_fma((w - _f32(2.5)).astype(_f64), _ERFINV_W_LT_5, np.empty_like(y),
                  np.empty(y.size, _f64))
  if not lt.all():  # the tails (|x| > 0.9966): the second polynomial, on the few
    ge = ~lt
    wg = (np.sqrt(w[ge]) - _f32(3)).astype(_f64)
    a[ge] = _horner_fma(wg, _ERFINV_W_GE_5, np.empty(wg.size, _f32), np.empty(wg.size, _f64))
  np.multiply(a, x, out=out)
  edge = np.abs(x) == _f32(1)
  if edge.any():
    out[edge] = x[edge] * _f32(np.inf)
  return out


# ---- one value at a time, on Python floats (a few values cost less than ~80 NumPy calls)

_F32 = struct.Struct("<f")
_U32 = struct.Struct("<I")


def _r32(v):
  """v rounded to float32 (round to nearest even), as a Python float."""
  try:
    return _F32.unpack(_F32.pack(v))[0]
  except OverflowError:
    return math.copysign(math.inf, v)


def _bits(v):
  return _U32.unpack(_F32.pack(v))[0]


def _from_bits(b):
  return _F32.unpack(_U32.pack(b))[0]


_LOG_P_F = [float(c) for c in _LOG_P]
_MIN_NORMAL_F = float(_MIN_NORMAL)


def _log_scalar(x):
  if not x > 0 or x < _MIN_NORMAL_F:
    return -math.inf if -_MIN_NORMAL_F < x < _MIN_NORMAL_F else math.nan
  if x == math.inf:
    return math.inf
  b = _bits(x)
  e = float((b >> 23) - 126)
  m = _from_bits((b & 0x807FFFFF) | 0x3F000000)
  if m < float(_SQRTHF):
    e -= 1.0
    t = _r32(_r32(m - 1.0) + m)
  else:
    t = _r32(m - 1.0)
  t3 = _r32(_r32(t * t) * t)
  p = _LOG_P_F
  fma = lambda a, b_, c: _r32(a * b_ + c)
  y1 = fma(fma(t, p[0], p[1]), t, p[6])
  y2 = fma(fma(t, p[2], p[3]), t, p[7])
  y3 = fma(fma(t, p[4], p[5]), t, p[8])
  y = fma(fma(y1, t3, y2), t3, y3)
  y = fma(y, t3, _r32(float(_LOG_Q1) * e))
  y = _r32(y + _r32(t - _r32(0.5 * _r32(t * t))))
  return fma(e, float(_LOG_Q2), y)


_AS_F32 = {}  # coefficient tuple -> its float32 values as Python floats


def _horner_scalar(x, coeffs):
  cs = _AS_F32.get(coeffs)
  if cs is None:
    cs = _AS_F32[coeffs] = [float(_f32(c)) for c in coeffs]
  p = cs[0]
  for c in cs[1:]:
    p = _r32(p * x + c)
  return p


def _erf_inv_scalar(x):
  if x != x:
    return math.nan
  if abs(x) == 1.0:
    return math.copysign(math.inf, x)
  y = -_r32(x * x)
  if abs(y) < float(_f32(0.41421356237309504880)):
    a = _r32(_horner_scalar(y, _LOG1P_NUM) / _horner_scalar(y, _LOG1P_DEN))
    y2 = _r32(y * y)
    a = _r32(_r32(y * y2) * a)
    a = _r32(_r32(-0.5 * y2) + a)
    w = -_r32(y + a)
  else:
    w = -_log_scalar(_r32(y + 1.0))
  if w < 5.0:
    p = _horner_scalar(_r32(w - 2.5), _ERFINV_W_LT_5)
  else:
    p = _horner_scalar(_r32(_r32(math.sqrt(w)) - 3.0), _ERFINV_W_GE_5)
  return _r32(p * x)


# The same two functions with the float32 rounding inlined (`u(p(v))[0]`): a function call
# per rounding was most of their cost. Intermediate values are bounded here (|x| < 1, log of
# a value in (0, 1]), so struct.pack never overflows; `_erf_inv_scalar` stays the reference.
_LOG1P_NUM_F = [float(_f32(c)) for c in _LOG1P_NUM]
_LOG1P_DEN_F = [float(_f32(c)) for c in _LOG1P_DEN]
_ERFINV_LT5_F = [float(_f32(c)) for c in _ERFINV_W_LT_5]
_ERFINV_GE5_F = [float(_f32(c)) for c in _ERFINV_W_GE_5]
_LOG1P_SMALL_F = float(_f32(0.41421356237309504880))
_SQRTHF_F, _LOG_Q1_F, _LOG_Q2_F = float(_SQRTHF), float(_LOG_Q1), float(_LOG_Q2)


def _erf_inv_fast(x, p=_F32.pack, u=_F32.unpack, pb=_U32.pack, ub=_U32.unpack):
  if x != x:
    return math.nan
  if abs(x) == 1.0:
    return math.copysign(math.inf, x)
  y = -u(p(x * x))[0]
  if abs(y) < _LOG1P_SMALL_F:
    num = den = None
    for c in _LOG1P_NUM_F:
      num = c if num is None else u(p(num * y + c))[0]
    for c in _LOG1P_DEN_F:
      den = c if den is None else u(p(den * y + c))[0]
    a = u(p(num / den))[0]
    y2 = u(p(y * y))[0]
    a = u(p(u(p(y * y2))[0] * a))[0]
    a = u(p(u(p(-0.5 * y2))[0] + a))[0]
    w = -u(p(y + a))[0]
  else:  # w = -log(1 + y), XLA's log (see _log_scalar); 1 + y is in [min normal, 1)
    v = u(p(y + 1.0))[0]
    if not v >= _MIN_NORMAL_F:
      return _erf_inv_scalar(x)
    b = ub(p(v))[0]
    e = float((b >> 23) - 126)
    m = u(pb((b & 0x807FFFFF) | 0x3F000000))[0]
    if m < _SQRTHF_F:
      e -= 1.0
      t = u(p(u(p(m - 1.0))[0] + m))[0]
    else:
      t = u(p(m - 1.0))[0]
    tt = u(p(t * t))[0]
    t3 = u(p(tt * t))[0]
    c = _LOG_P_F
    y1 = u(p(u(p(t * c[0] + c[1]))[0] * t + c[6]))[0]
    y2 = u(p(u(p(t * c[2] + c[3]))[0] * t + c[7]))[0]
    y3 = u(p(u(p(t * c[4] + c[5]))[0] * t + c[8]))[0]
    yy = u(p(u(p(y1 * t3 + y2))[0] * t3 + y3))[0]
    yy = u(p(yy * t3 + u(p(_LOG_Q1_F * e))[0]))[0]
    yy = u(p(yy + u(p(t - u(p(0.5 * tt))[0]))[0]))[0]
    w = -u(p(e * _LOG_Q2_F + yy))[0]
  if w < 5.0:
    cs, z = _ERFINV_LT5_F, u(p(w - 2.5))[0]
  else:
    cs, z = _ERFINV_GE5_F, u(p(u(p(math.sqrt(w)))[0] - 3.0))[0]
  acc = None
  for c in cs:
    acc = c if acc is None else u(p(acc * z + c))[0]
  return u(p(acc * x))[0]


_SMALL = 16


def erf_inv(x: np.ndarray) -> np.ndarray:
  """erf_inv as XLA computes it: float32 (and float16/bfloat16, via float32) by Giles'
  approximation; float64 by SciPy (correctly rounded to within an ulp)."""
  dt = x.dtype
  if dt == _f64:
    import scipy.special as sp
    return sp.erfinv(x)
  xf = np.ascontiguousarray(x, dtype=_f32)
  flat = xf.reshape(-1)
  if flat.size <= _SMALL:
    out = np.array([_erf_inv_fast(v) for v in flat.tolist()], _f32).reshape(x.shape)
    return out if dt == _f32 else out.astype(dt)
  out = np.empty_like(flat)
  with np.errstate(all="ignore"):
    for s in range(0, flat.size, _BLOCK):
      _erf_inv_f32_block(flat[s:s + _BLOCK], out[s:s + _BLOCK])
  out = out.reshape(x.shape)
  return out if dt == _f32 else out.astype(dt)


# ---------------------------------------------------------------------------------------
# The same algorithms in C for the native tier (fmaf is the fused multiply-add XLA emits;
# compile without -ffast-math reassociation so the order of operations is kept).

C_SOURCE = r"""
#include <math.h>
#include <stdint.h>
#include <string.h>
static inline float nj_f32_from_bits(uint32_t b) { float f; memcpy(&f, &b, 4); return f; }
static inline uint32_t nj_f32_bits(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }
/* XLA's float32 log for x in [min normal, inf), branch-free (loops calling it vectorise) */
static inline __attribute__((always_inline)) float nj_xla_logf_nb(float x) {
  uint32_t b = nj_f32_bits(x);   /* x in [min normal, inf) */
  float e = (float)((int32_t)(b >> 23) - 126);
  float m = nj_f32_from_bits((b & 0x807FFFFFu) | 0x3F000000u);
  float t = m - 1.0f;
  int small = m < nj_f32_from_bits(0x3F3504F3u);
  e = small ? e - 1.0f : e;
  t = small ? t + m : t;
  float t2 = t * t, t3 = t2 * t;
  float y1 = fmaf(fmaf(t, nj_f32_from_bits(0x3D9021BBu), nj_f32_from_bits(0xBDEBD1B8u)), t,
                  nj_f32_from_bits(0x3DEF251Au));
  float y2 = fmaf(fmaf(t, nj_f32_from_bits(0xBDFE5D4Fu), nj_f32_from_bits(0x3E11E9BFu)), t,
                  nj_f32_from_bits(0xBE2AAE50u));
  float y3 = fmaf(fmaf(t, nj_f32_from_bits(0x3E4CCEACu), nj_f32_from_bits(0xBE7FFFFCu)), t,
                  nj_f32_from_bits(0x3EAAAAAAu));
  float y = fmaf(fmaf(y1, t3, y2), t3, y3);
  y = fmaf(y, t3, nj_f32_from_bits(0xB95E8083u) * e);
  y = y + (t - 0.5f * (t * t));
  return fmaf(e, nj_f32_from_bits(0x3F318000u), y);
}
static inline float nj_xla_logf(float x) {
  const float min_normal = nj_f32_from_bits(0x00800000u);
  if (!(x > 0.0f) || x < min_normal) return (x > -min_normal && x < min_normal) ? -INFINITY : NAN;
  if (x == INFINITY) return INFINITY;
  return nj_xla_logf_nb(x);
}
static inline float nj_xla_log1pf(float x) {
  if (!(fabsf(x) < 0.41421356237309504880f)) return nj_xla_logf(x + 1.0f);
  static const float num[7] = {4.5270000862445199635215E-5f, 4.9854102823193375972212E-1f,
    6.5787325942061044846969E0f, 2.9911919328553073277375E1f, 6.0949667980987787057556E1f,
    5.7112963590585538103336E1f, 2.0039553499201281259648E1f};
  static const float den[7] = {1.0f, 1.5062909083469192043167E1f, 8.3047565967967209469434E1f,
    2.2176239823732856465394E2f, 3.0909872225312059774938E2f, 2.1642788614495947685003E2f,
    6.0118660497603843919306E1f};
  float p = num[0], q = den[0];
  for (int i = 1; i < 7; ++i) { p = fmaf(p, x, num[i]); q = fmaf(q, x, den[i]); }
  float x2 = x * x;
  float s = (x * x2) * (p / q);
  s = -0.5f * x2 + s;
  return x + s;
}
/* Branch-free float32 erf_inv (same operations, same order, same fmaf as nj_xla_erfinvf;
   both log1p branches and both Giles polynomials are evaluated and the lane's one kept),
   so that loops calling it vectorise. Checked bit-identical to nj_xla_erfinvf on all 2^32
   float32 bit patterns. */
static inline __attribute__((always_inline)) float nj_xla_erfinvf(float x) {
  const float min_normal = nj_f32_from_bits(0x00800000u);
  float y = -(x * x);
  float p = 4.5270000862445199635215E-5f, q = 1.0f;   /* log1p(y), |y| < sqrt(2) - 1 */
  p = fmaf(p, y, 4.9854102823193375972212E-1f); q = fmaf(q, y, 1.5062909083469192043167E1f);
  p = fmaf(p, y, 6.5787325942061044846969E0f);  q = fmaf(q, y, 8.3047565967967209469434E1f);
  p = fmaf(p, y, 2.9911919328553073277375E1f);  q = fmaf(q, y, 2.2176239823732856465394E2f);
  p = fmaf(p, y, 6.0949667980987787057556E1f);  q = fmaf(q, y, 3.0909872225312059774938E2f);
  p = fmaf(p, y, 5.7112963590585538103336E1f);  q = fmaf(q, y, 2.1642788614495947685003E2f);
  p = fmaf(p, y, 2.0039553499201281259648E1f);  q = fmaf(q, y, 6.0118660497603843919306E1f);
  float y2 = y * y;
  float s = (y * y2) * (p / q);
  s = -0.5f * y2 + s;
  float l_small = y + s;
  float v = y + 1.0f;                                   /* log1p(y) = log(1 + y) otherwise */
  float l_big = nj_xla_logf_nb(v < min_normal ? 1.0f : v);
  l_big = v < min_normal ? (v > -min_normal ? -INFINITY : NAN) : l_big;
  float w = -(fabsf(y) < 0.41421356237309504880f ? l_small : l_big);
  float wa = w - 2.5f, wb = sqrtf(w) - 3.0f;
  float a = 2.81022636e-08f, c = -0.000200214257f;
  a = fmaf(a, wa, 3.43273939e-07f);  c = fmaf(c, wb, 0.000100950558f);
  a = fmaf(a, wa, -3.5233877e-06f);  c = fmaf(c, wb, 0.00134934322f);
  a = fmaf(a, wa, -4.39150654e-06f); c = fmaf(c, wb, -0.00367342844f);
  a = fmaf(a, wa, 0.00021858087f);   c = fmaf(c, wb, 0.00573950773f);
  a = fmaf(a, wa, -0.00125372503f);  c = fmaf(c, wb, -0.0076224613f);
  a = fmaf(a, wa, -0.00417768164f);  c = fmaf(c, wb, 0.00943887047f);
  a = fmaf(a, wa, 0.246640727f);     c = fmaf(c, wb, 1.00167406f);
  a = fmaf(a, wa, 1.50140941f);      c = fmaf(c, wb, 2.83297682f);
  float r = (w < 5.0f ? a : c) * x;
  r = fabsf(x) == 1.0f ? x * INFINITY : r;
  return x != x ? x : r;
}
"""
