"""Scalar C for each primitive and dtype: the prelude, types, and per-op expressions.

Values inside a kernel live in their *compute* type: float16/bfloat16 compute in float and
are rounded back after every operation (as JAX and the NumPy tier do), booleans are
`_Bool`, complex numbers C99 `_Complex`. Integers wrap around (`-fwrapv`); integer
division and remainder follow XLA (x / 0 = -1, x % 0 = x, INT_MIN / -1 = INT_MIN);
float -> int conversion truncates, saturates and maps NaN to 0.

An elementwise primitive without a rule here uses its `native_template` (a C expression in
`{0}`, `{1}`, ...) for real floating dtypes, through <tgmath.h> (so `exp({0})` is `expf` on
float). Anything else raises `Unsupported` and the equation runs on the NumPy tier.
"""
from __future__ import annotations

import math

import numpy as np

from numjax._src import dtypes as _dtypes


class Unsupported(Exception):
  pass


def _dt(name):
  try:
    return np.dtype(getattr(_dtypes, name)) if hasattr(_dtypes, name) else np.dtype(name)
  except TypeError:
    return None


BF16 = _dt("bfloat16")
F16 = np.dtype(np.float16)
BOOL = np.dtype(bool)

CTYPE = {
    np.dtype(np.float32): "float", np.dtype(np.float64): "double",
    np.dtype(np.int8): "int8_t", np.dtype(np.int16): "int16_t",
    np.dtype(np.int32): "int32_t", np.dtype(np.int64): "int64_t",
    np.dtype(np.uint8): "uint8_t", np.dtype(np.uint16): "uint16_t",
    np.dtype(np.uint32): "uint32_t", np.dtype(np.uint64): "uint64_t",
    BOOL: "_Bool", np.dtype(np.complex64): "float _Complex",
    np.dtype(np.complex128): "double _Complex", F16: "uint16_t",
}
# The low-precision floats, stored as their bits and computed in float: dtype -> the
# infix of their C helpers nj_<x>_ld (bits -> float), nj_<x>_st (float -> bits, rounding
# to nearest even) and nj_<x>_r (float rounded to the dtype's precision)
LOWP = {F16: "h", BF16: "b"} if BF16 is not None else {F16: "h"}
# float8 formats: (mantissa bits, exponent bias, flavour). 'ieee': the top exponent is
# inf/NaN; 'fn': no inf, S.1111.111 is NaN; 'fnuz': no inf, no -0, 0x80 is the only NaN;
# 'e8m0': unsigned powers of two, 0xff is NaN, no zero
F8_FORMATS = {
    "float8_e3m4": (4, 3, "ieee"), "float8_e4m3": (3, 7, "ieee"),
    "float8_e5m2": (2, 15, "ieee"), "float8_e4m3fn": (3, 7, "fn"),
    "float8_e4m3fnuz": (3, 8, "fnuz"), "float8_e4m3b11fnuz": (3, 11, "fnuz"),
    "float8_e5m2fnuz": (2, 16, "fnuz"), "float8_e8m0fnu": (0, 127, "e8m0"),
}
F8 = {}   # dtype -> helper infix ('e4m3fn', ...)
for _name in F8_FORMATS:
  _d = _dt(_name)
  if _d is not None:
    F8[_d] = _name[len("float8_"):]
    LOWP[_d] = F8[_d]
for _d in LOWP:
  CTYPE[_d] = "uint16_t" if _d.itemsize == 2 else "uint8_t"


def known(dt) -> bool:
  return np.dtype(dt) in CTYPE


def kind(dt) -> str:
  """'h' (float16/bfloat16/float8: computed in float), 'f', 'c', 'i', 'u', 'b'."""
  dt = np.dtype(dt)
  if dt in LOWP:
    return "h"
  if dt == BOOL:
    return "b"
  return {"f": "f", "c": "c", "i": "i", "u": "u"}[dt.kind]


def ctype(dt) -> str:
  """Storage type."""
  dt = np.dtype(dt)
  if dt not in CTYPE:
    raise Unsupported(f"dtype {dt}")
  return CTYPE[dt]


def comp(dt) -> str:
  """Compute type."""
  return "float" if kind(dt) == "h" else ctype(dt)


def real_of(dt):
  dt = np.dtype(dt)
  return np.dtype(np.float32) if dt == np.complex64 else np.dtype(np.float64)


def utype(dt) -> str:
  return {1: "uint8_t", 2: "uint16_t", 4: "uint32_t", 8: "uint64_t"}[np.dtype(dt).itemsize]


def bits(dt) -> int:
  return np.dtype(dt).itemsize * 8


_LOWP_HELPER = {"load": ("nj_{}2f", "nj_{}_ld"), "store": ("nj_f2{}", "nj_{}_st"),
                "rnd": ("nj_r{}", "nj_{}_r")}


def _lowp(op, dt, e) -> str:
  """e through a low-precision float's helper (e itself for the other dtypes)."""
  x = LOWP.get(np.dtype(dt))
  if x is None:
    return e
  return _LOWP_HELPER[op][len(x) > 1].format(x) + f"({e})"


def load(dt, e) -> str:
  """A stored value as its compute type."""
  return _lowp("load", dt, e)


def store(dt, e) -> str:
  """A compute-type value as dt's storage."""
  return _lowp("store", dt, e)


def rnd(dt, e) -> str:
  """Round a compute-type value to dt's precision (the low-precision floats only)."""
  return _lowp("rnd", dt, e)


def literal(val, dt) -> str:
  """A C constant of compute type for a scalar value."""
  dt = np.dtype(dt)
  k = kind(dt)
  v = np.asarray(val)
  if k == "b":
    return "((_Bool)1)" if bool(v) else "((_Bool)0)"
  if k in "iu":
    x = int(v)
    t = ctype(dt)
    if bits(dt) == 64:
      return f"((int64_t)INT64_C({x}))" if k == "i" and x != -2**63 else \
          ("((int64_t)INT64_MIN)" if k == "i" else f"((uint64_t)UINT64_C({x}))")
    return f"(({t}){x})" if x >= 0 else f"(({t})({x}))"
  if k == "c":
    c = complex(v)
    rt = comp(real_of(dt))
    return f"__builtin_complex({_flit(c.real, rt)}, {_flit(c.imag, rt)})"
  return _flit(float(v), "double" if dt == np.float64 else "float")


def _flit(x, t):
  suf = "f" if t == "float" else ""
  if math.isnan(x):
    return f"(({t})NAN)"
  if math.isinf(x):
    return f"(({t})INFINITY)" if x > 0 else f"(-({t})INFINITY)"
  if x == 0 and math.copysign(1, x) < 0:
    return f"(-0.0{suf})"
  if t == "float":
    x = float(np.float32(x))
  return f"({x.hex()}{suf})" if x != 0 else f"(0.0{suf})"


# ---------------------------------------------------------------------------------------
# The prelude: helpers every translation unit starts with

def prelude(tc, abi_defines: str, body: str = "") -> str:
  """The helpers a program's C starts with; the float8 conversions only when `body` (the
  program's functions) calls them, so other programs keep the same prelude."""
  from numjax._src.compiler.native.cc import MVEC_FUNCS_F32, MVEC_FUNCS_F64
  from numjax._src.lax import xla_math
  parts = ["#include <stdint.h>\n#include <stddef.h>\n#include <string.h>\n#include <stdlib.h>\n"
           "#include <math.h>\n#include <complex.h>\n#include <limits.h>\n", abi_defines]
  if tc.mvec:
    decl = "__attribute__((__simd__(\"notinbranch\")))"
    for f in MVEC_FUNCS_F32:
      nargs = 2 if f in ("powf", "atan2f") else 1
      parts.append(f"{decl} float {f}({', '.join(['float'] * nargs)});\n")
    for f in MVEC_FUNCS_F64:
      nargs = 2 if f in ("pow", "atan2") else 1
      parts.append(f"{decl} double {f}({', '.join(['double'] * nargs)});\n")
  parts.append("#include <tgmath.h>\n")
  if tc.float16:
    parts.append("#define NJ_HAVE_F16 1\n")
  from numjax._src.compiler.native import runtime
  parts.append(runtime.HEADER)
  parts.append(_PRELUDE)
  src = xla_math.C_SOURCE
  parts.append("\n".join(l for l in src.splitlines() if not l.startswith("#include")))
  parts.append(_native_support())
  parts.append(float8_support(body))
  return "".join(parts)


def float8_support(body: str) -> str:
  """C helpers of the float8 formats `body` uses (see _f8_helpers)."""
  return "".join(_f8_helpers(x, *F8_FORMATS["float8_" + x]) for x in F8.values()
                 if f"nj_{x}_" in body)


def _f8_helpers(x, mb, bias, flavour) -> str:
  """nj_<x>_ld (bits -> float, exact), nj_<x>_st (float -> bits: round to nearest even;
  overflow to inf, or to NaN for formats without inf; NaN keeps its sign where the format
  has one) and nj_<x>_r for one float8 format, as ml_dtypes converts (a float64 or an
  integer is first converted to float, as ml_dtypes does too)."""
  if flavour == "e8m0":
    # unsigned powers of two 2^(c - 127): c is float32's biased exponent, rounded half up
    # (as ml_dtypes); below 2^-126 (float32 subnormals) anything above 2^-127 rounds up to
    # 2^-126 and the rest down to 2^-127 (c = 0): there is no zero
    return f"""static inline float nj_{x}_ld(uint8_t u) {{
  uint32_t b = u == 0xffu ? 0x7fc00000u : (u == 0 ? 0x400000u : (uint32_t)u << 23);
  float f; memcpy(&f, &b, 4); return f;
}}
static inline uint8_t nj_{x}_st(float f) {{
  uint32_t a; memcpy(&a, &f, 4);
  if (!(f > 0) || a >= 0x7f800000u) return 0xffu;
  return a < 0x800000u ? (uint8_t)(a > 0x400000u) : (uint8_t)((a + 0x400000u) >> 23);
}}
static inline float nj_{x}_r(float f) {{ return nj_{x}_ld(nj_{x}_st(f)); }}
"""
  eb = 7 - mb
  emax = (1 << eb) - 1
  sh = 23 - mb
  # the largest finite value's bits, and the float32 bits from which rounding overflows:
  # half an ulp above the maximum (ties go to the even neighbour: up when max is odd)
  top = (emax << mb) | ((1 << mb) - 1)
  if flavour == "ieee":
    top -= 1 << mb
  elif flavour == "fn":
    top -= 1
  max_bits = ((top >> mb) + 127 - bias) << 23 | (top & ((1 << mb) - 1)) << sh
  ovf = max_bits + (1 << (sh - 1)) + (0 if top & 1 else 1)
  if flavour == "fnuz":
    nan_st, ovf_st, nan_ld = "0x80u", "0x80u", "u == 0x80u"
  elif flavour == "fn":
    nan_st, ovf_st, nan_ld = "s | 0x7fu", "s | 0x7fu", "(u & 0x7fu) == 0x7fu"
  else:
    nan_st = f"s | {(emax << mb) | (1 << (mb - 1)):#x}u"
    ovf_st = f"s | {emax << mb:#x}u"
    nan_ld = f"e == {emax}u && m != 0"
  inf_ld = (f"else if (e == {emax}u && m == 0) b = s | 0x7f800000u;\n  "
            if flavour == "ieee" else "")
  zero = "q ? s | q : 0" if flavour == "fnuz" else "s | q"   # fnuz has no -0
  sub = float(2.0 ** (1 - bias - mb)).hex()
  scale = float(2.0 ** (bias - 1 + mb)).hex()
  return f"""static inline float nj_{x}_ld(uint8_t u) {{
  uint32_t s = (uint32_t)(u & 0x80u) << 24, e = (u >> {mb}) & {emax}u, m = u & {(1 << mb) - 1}u, b;
  if ({nan_ld}) b = s | 0x7fc00000u;
  {inf_ld}else if (e == 0) {{ float f = (float)m * {sub}f; memcpy(&b, &f, 4); b |= s; }}
  else b = s | ((e + {127 - bias}u) << 23) | (m << {sh});
  float f; memcpy(&f, &b, 4); return f;
}}
static inline uint8_t nj_{x}_st(float f) {{
  uint32_t a; memcpy(&a, &f, 4);
  uint32_t s = (a >> 24) & 0x80u;
  a &= 0x7fffffffu;
  if (a > 0x7f800000u) return (uint8_t)({nan_st});
  if (a >= {ovf:#x}u) return (uint8_t)({ovf_st});
  if (a >= {(128 - bias) << 23:#x}u)
    return (uint8_t)(s | ((a + {(1 << (sh - 1)) - 1:#x}u + ((a >> {sh}) & 1u) - {(127 - bias) << 23:#x}u) >> {sh}));
  float v; memcpy(&v, &a, 4);
  uint32_t q = (uint32_t)nearbyintf(v * {scale}f);
  return (uint8_t)({zero});
}}
static inline float nj_{x}_r(float f) {{ return nj_{x}_ld(nj_{x}_st(f)); }}
"""


def _native_support() -> str:
  """C helpers that primitives carry (`native_support`): threefry, random bits."""
  try:
    from numjax._src.random import prng
  except Exception:  # pragma: no cover
    return ""
  return "\n" + getattr(prng.random_bits_p, "native_support", "") + "\n"


_PRELUDE = r"""
#define NJ_EXPORT __attribute__((visibility("default")))
#define NJ_DATA(o) (*(void**)((char*)(o) + NJ_DATA_OFF))
#define NJ_ITEM(t, i) (((void**)((char*)(t) + NJ_TUPLE_OFF))[i])
#define NJ_ARR(t, i) NJ_DATA(NJ_ITEM(t, i))
static inline float nj_b2f(uint16_t h) { uint32_t u = (uint32_t)h << 16; float f; memcpy(&f, &u, 4); return f; }
static inline uint16_t nj_f2b(float f) {
  uint32_t u; memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}
static inline float nj_rb(float f) { return nj_b2f(nj_f2b(f)); }
#ifdef NJ_HAVE_F16
static inline float nj_h2f(uint16_t h) { _Float16 x; memcpy(&x, &h, 2); return (float)x; }
static inline uint16_t nj_f2h(float f) { _Float16 x = (_Float16)f; uint16_t h; memcpy(&h, &x, 2); return h; }
static inline float nj_rh(float f) { return (float)(_Float16)f; }
#else
static inline float nj_h2f(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, u;
  if (e == 0x1fu) u = sign | 0x7f800000u | (m << 13);
  else if (e == 0) { float f = (float)m * 5.9604644775390625e-8f; memcpy(&u, &f, 4); u |= sign; }
  else u = sign | ((e + 112u) << 23) | (m << 13);
  float f; memcpy(&f, &u, 4); return f;
}
static inline uint16_t nj_f2h(float f) {
  uint32_t x; memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
  if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);
  if (ax >= 0x38800000u) { uint32_t r = ax + 0xc8000fffu + ((ax >> 13) & 1u); return (uint16_t)(sign | (r >> 13)); }
  float a; memcpy(&a, &ax, 4);
  return (uint16_t)(sign | (uint32_t)nearbyintf(a * 16777216.0f));
}
static inline float nj_rh(float f) { return nj_h2f(nj_f2h(f)); }
#endif
#define NJ_DIVS(T, MIN) \
  static inline T nj_div_##T(T a, T b) { return b == 0 ? (T)-1 : (b == -1 ? (T)(0 - (T)a) : (T)(a / b)); } \
  static inline T nj_rem_##T(T a, T b) { return b == 0 ? a : (b == -1 ? (T)0 : (T)(a % b)); }
#define NJ_DIVU(T) \
  static inline T nj_div_##T(T a, T b) { return b == 0 ? (T)~(T)0 : (T)(a / b); } \
  static inline T nj_rem_##T(T a, T b) { return b == 0 ? a : (T)(a % b); }
NJ_DIVS(int8_t, INT8_MIN) NJ_DIVS(int16_t, INT16_MIN) NJ_DIVS(int32_t, INT32_MIN) NJ_DIVS(int64_t, INT64_MIN)
NJ_DIVU(uint8_t) NJ_DIVU(uint16_t) NJ_DIVU(uint32_t) NJ_DIVU(uint64_t)
static inline double nj_f2i_clampd(double x, double lo, double hi) {
  return x != x ? 0.0 : (x <= lo ? lo : (x >= hi ? hi : x));
}
static inline int64_t nj_f2i64(double x) {
  return x != x ? 0 : (x <= -9223372036854775808.0 ? INT64_MIN : (x >= 9223372036854775808.0 ? INT64_MAX : (int64_t)x));
}
static inline uint64_t nj_f2u64(double x) {
  return x != x ? 0 : (x <= 0.0 ? 0 : (x >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)x));
}
static inline float _Complex nj_csignf(float _Complex z) { float a = cabsf(z); return a == 0 ? 0 : z / a; }
static inline double _Complex nj_csign(double _Complex z) { double a = cabs(z); return a == 0 ? 0 : z / a; }
/* Copy a block to memory with non-temporal stores (no read-for-ownership of the target's
   cache lines): large outputs that will not fit in cache anyway. (The compiler's builtins,
   not <immintrin.h>: that header alone doubles a program's compile time.) */
typedef long long nj_v2di __attribute__((vector_size(16)));
typedef long long nj_v4di __attribute__((vector_size(32)));
typedef long long nj_v8di __attribute__((vector_size(64)));
static inline void nj_stream(void *dst, const void *src, size_t n) {
  char *d = (char *)dst; const char *s = (const char *)src;
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#if defined(__AVX512F__)
  enum { V = 64 };
#elif defined(__AVX__)
  enum { V = 32 };
#else
  enum { V = 16 };
#endif
  while (((uintptr_t)d & (V - 1)) && n) { *d++ = *s++; n--; }
  for (; n >= V; d += V, s += V, n -= V) {
#if defined(__AVX512F__)
    nj_v8di x; memcpy(&x, s, 64); __builtin_ia32_movntdq512((nj_v8di *)d, x);
#elif defined(__AVX__)
    nj_v4di x; memcpy(&x, s, 32); __builtin_ia32_movntdq256((nj_v4di *)d, x);
#else
    nj_v2di x; memcpy(&x, s, 16); __builtin_ia32_movntdq((nj_v2di *)d, x);
#endif
  }
#endif
  memcpy(d, s, n);
}
static inline void nj_sfence(void) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  __builtin_ia32_sfence();
#endif
}
static inline void *nj_alloc(size_t n) { void *p = 0; if (posix_memalign(&p, 64, n ? n : 64)) return 0; return p; }
/* exp over a float32 row in place (row kernels: softmax's exp sweep). With AVX-512:
   n = round(x log2 e), r = x - n ln2 (two FMAs, ln2 split hi/lo), e^r by a degree-7
   polynomial in Horner form (7 FMAs), then vscalefps multiplies by 2^n -- overflow,
   gradual underflow and zero handled by the instruction; x is first clamped to [-104, 89]
   by vmaxps/vminps (NaN passes through; a compare-and-select clamp took ~30% of the exp).
   Within 0.9 ulp of exp over all float32 inputs in [-103.9, 88.7] (checked exhaustively
   against double exp). Elsewhere: expf per element (libmvec). */
#if defined(__AVX512F__) && defined(__GNUC__) && !defined(__clang__) && defined(__has_builtin)
#if __has_builtin(__builtin_ia32_scalefps512_mask) && __has_builtin(__builtin_ia32_rndscaleps_mask) && __has_builtin(__builtin_ia32_vfmaddps512_mask) && __has_builtin(__builtin_ia32_maxps512_mask) && __has_builtin(__builtin_ia32_minps512_mask)
#define NJ_VEXP16 1
#endif
#endif
#ifdef NJ_VEXP16
typedef float nj_v16sf __attribute__((vector_size(64)));
/* le0: the caller knows x <= 0 or NaN (x - max(x)), so only the lower clamp is needed */
static inline __attribute__((always_inline)) nj_v16sf nj_exp16_(nj_v16sf x, int le0) {
  const unsigned short m = 0xffff;
  nj_v16sf z = {0};
  /* max(c, x) / min(c, x) return x when x is NaN: the clamp passes NaN through */
  x = __builtin_ia32_maxps512_mask(z - 104.0f, x, x, m, 4);
  if (!le0) x = __builtin_ia32_minps512_mask(z + 89.0f, x, x, m, 4);
  nj_v16sf n = __builtin_ia32_rndscaleps_mask(x * 1.44269504088896341f, 0x08, x, m, 4);
  nj_v16sf r = __builtin_ia32_vfmaddps512_mask(n, z - 0.693145751953125f, x, m, 4);
  r = __builtin_ia32_vfmaddps512_mask(n, z - 1.428606765330187045e-06f, r, m, 4);
  nj_v16sf p = __builtin_ia32_vfmaddps512_mask(z + 1.9875691500e-4f, r, z + 1.3981999507e-3f, m, 4);
  p = __builtin_ia32_vfmaddps512_mask(p, r, z + 8.3334519073e-3f, m, 4);
  p = __builtin_ia32_vfmaddps512_mask(p, r, z + 4.1665795894e-2f, m, 4);
  p = __builtin_ia32_vfmaddps512_mask(p, r, z + 1.6666665459e-1f, m, 4);
  p = __builtin_ia32_vfmaddps512_mask(p, r, z + 5.0000001201e-1f, m, 4);
  p = __builtin_ia32_vfmaddps512_mask(p, r, z + 1.0f, m, 4);
  p = __builtin_ia32_vfmaddps512_mask(p, r, z + 1.0f, m, 4);
  return __builtin_ia32_scalefps512_mask(p, n, p, m, 4);
}
static inline nj_v16sf nj_exp16(nj_v16sf x) { return nj_exp16_(x, 0); }
static inline void nj_vexpf(float *p, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    nj_v16sf x; memcpy(&x, p + i, 64); x = nj_exp16(x); memcpy(p + i, &x, 64);
  }
  if (i < n) {
    float t[16] = {0}; memcpy(t, p + i, (size_t)(n - i) * 4);
    nj_v16sf x; memcpy(&x, t, 64); x = nj_exp16(x); memcpy(t, &x, 64);
    memcpy(p + i, t, (size_t)(n - i) * 4);
  }
}
/* exp(x - m) of a row x into d, added into 32 lane sums as a lane loop would (element i of
   each full step of 32 into acc[i % 32], the rest into acc[0] in order: softmax's sum);
   le0 as in nj_exp16_ (the same values either way) */
static inline __attribute__((always_inline)) void nj_vexpf_sub_acc(float *d, const float *x,
                                                                   float m, int64_t n,
                                                                   float *acc, int le0) {
  nj_v16sf s0, s1, vm = (nj_v16sf){0} + m;
  memcpy(&s0, acc, 64); memcpy(&s1, acc + 16, 64);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    nj_v16sf x0, x1;
    memcpy(&x0, x + i, 64); memcpy(&x1, x + i + 16, 64);
    x0 = nj_exp16_(x0 - vm, le0); x1 = nj_exp16_(x1 - vm, le0);
    memcpy(d + i, &x0, 64); memcpy(d + i + 16, &x1, 64);
    s0 = s0 + x0; s1 = s1 + x1;
  }
  memcpy(acc, &s0, 64); memcpy(acc + 16, &s1, 64);
  for (int64_t j = i; j < n; j++) d[j] = x[j] - m;
  nj_vexpf(d + i, n - i);
  for (; i < n; i++) acc[0] = acc[0] + d[i];
}
static inline __attribute__((always_inline)) void nj_vexpf_sub(float *d, const float *x,
                                                               float m, int64_t n, int le0) {
  nj_v16sf vm = (nj_v16sf){0} + m;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    nj_v16sf x0; memcpy(&x0, x + i, 64); x0 = nj_exp16_(x0 - vm, le0); memcpy(d + i, &x0, 64);
  }
  for (int64_t j = i; j < n; j++) d[j] = x[j] - m;
  nj_vexpf(d + i, n - i);
}
#endif
/* a float32 row's max/min into 32 lanes as the lane loop does it (element i of each full
   step of 32: acc[i % 32] = x > acc ? x : acc, the rest into acc[0]; any NaN sets flag[0]) */
#ifdef NJ_VEXP16
#if __has_builtin(__builtin_ia32_cmpps512_mask)
#define NJ_VMINMAX16 1
#endif
#endif
#ifdef NJ_VMINMAX16
#define NJ_VMINMAX(NAME, BUILTIN, OP) \
static inline void NAME(const float *x, int64_t n, float *acc, int32_t *flag) { \
  nj_v16sf a0, a1; \
  memcpy(&a0, acc, 64); memcpy(&a1, acc + 16, 64); \
  unsigned short k = 0; \
  int64_t i = 0; \
  for (; i + 32 <= n; i += 32) { \
    nj_v16sf x0, x1; \
    memcpy(&x0, x + i, 64); memcpy(&x1, x + i + 16, 64); \
    a0 = BUILTIN(x0, a0, a0, 0xffff, 4); a1 = BUILTIN(x1, a1, a1, 0xffff, 4); \
    k |= __builtin_ia32_cmpps512_mask(x0, x0, 3, 0xffff, 4) | \
         __builtin_ia32_cmpps512_mask(x1, x1, 3, 0xffff, 4); \
  } \
  memcpy(acc, &a0, 64); memcpy(acc + 16, &a1, 64); \
  if (k) flag[0] = 1; \
  for (; i < n; i++) { acc[0] = x[i] OP acc[0] ? x[i] : acc[0]; flag[0] |= x[i] != x[i]; } \
}
#else
#define NJ_VMINMAX(NAME, BUILTIN, OP) \
static inline void NAME(const float *x, int64_t n, float *acc, int32_t *flag) { \
  int64_t i = 0; \
  for (; i + 32 <= n; i += 32) for (int l = 0; l < 32; l++) { \
    float v = x[i + l]; acc[l] = v OP acc[l] ? v : acc[l]; flag[l] |= v != v; } \
  for (; i < n; i++) { acc[0] = x[i] OP acc[0] ? x[i] : acc[0]; flag[0] |= x[i] != x[i]; } \
}
#endif
NJ_VMINMAX(nj_vmaxf_acc, __builtin_ia32_maxps512_mask, >)
NJ_VMINMAX(nj_vminf_acc, __builtin_ia32_minps512_mask, <)
#ifndef NJ_VEXP16
static inline void nj_vexpf(float *p, int64_t n) { for (int64_t i = 0; i < n; i++) p[i] = expf(p[i]); }
static inline void nj_vexpf_sub(float *d, const float *x, float m, int64_t n, int le0) {
  for (int64_t i = 0; i < n; i++) d[i] = expf(x[i] - m);
}
static inline void nj_vexpf_sub_acc(float *d, const float *x, float m, int64_t n, float *acc,
                                    int le0) {
  nj_vexpf_sub(d, x, m, n, le0);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) for (int l = 0; l < 32; l++) acc[l] = acc[l] + d[i + l];
  for (; i < n; i++) acc[0] = acc[0] + d[i];
}
#endif
/* the row exponentiated in place and added into 32 lanes (x - 0 is x: the same values) */
static inline void nj_vexpf_acc(float *p, int64_t n, float *acc) { nj_vexpf_sub_acc(p, p, 0.0f, n, acc, 0); }
"""


# ---------------------------------------------------------------------------------------
# Which equations fuse

_ELEMENTWISE_EXTRA = {"convert_element_type", "select_n", "clamp", "integer_pow", "iota",
                      "copy", "random_bits", "threefry2x32", "fma"}


def is_elementwise(eqn) -> bool:
  p = eqn.primitive
  if p.multiple_results and p.name != "threefry2x32":
    return False
  return bool(getattr(p, "elementwise", False)) or p.name in _ELEMENTWISE_EXTRA


def supported(eqn) -> bool:
  try:
    args = [f"a{i}" for i in range(len(eqn.invars))]
    ins = [v.aval.dtype for v in eqn.invars]
    outs = [v.aval.dtype for v in eqn.outvars]
    for d in ins + outs:
      ctype(d)
    if eqn.primitive.name == "iota":
      return True
    if eqn.primitive.name == "random_bits":
      k = eqn.invars[0].aval
      return (k.shape == (2,) and k.dtype == np.uint32 and
              "nj_random_bits" in _native_support())
    expr(eqn.primitive.name, eqn.primitive, eqn.params, ins, outs, args,
         [v.aval.shape for v in eqn.invars])
    return True
  except Unsupported:
    return False


def reduction_supported(eqn) -> bool:
  dt = eqn.invars[0].aval.dtype
  if not known(dt):
    return False
  k = kind(dt)
  name = eqn.primitive.name
  if name in ("argmax", "argmin"):
    return k in "hfiub" and known(eqn.params["index_dtype"])
  if k == "c" and name not in ("reduce_sum", "reduce_prod"):
    return False
  return True


def dot_supported(eqn) -> bool:
  x, y = eqn.invars
  out = eqn.outvars[0].aval.dtype
  return all(known(d) for d in (x.aval.dtype, y.aval.dtype, out))


SCATTER_COMBINE = {"scatter": None, "scatter-add": "+", "scatter-sub": "-", "scatter-mul": "*",
                   "scatter-min": "min", "scatter-max": "max"}


def scatter_supported(eqn) -> bool:
  """A scatter of one window at one index vector (x.at[i].set/add/...(v) in a loop body)."""
  name = eqn.primitive.name
  if name not in SCATTER_COMBINE:
    return False
  p = eqn.params
  if name == "scatter" and p.get("update_jaxpr") is not None:
    return False
  operand, indices, updates = eqn.invars
  dn = p["dimension_numbers"]
  if tuple(getattr(dn, "operand_batching_dims", ())) or \
      tuple(getattr(dn, "scatter_indices_batching_dims", ())):
    return False
  if indices.aval.shape != (len(dn.scatter_dims_to_operand_dims),):
    return False
  if tuple(dn.update_window_dims) != tuple(range(updates.aval.ndim)):
    return False
  if updates.aval.ndim + len(dn.inserted_window_dims) != operand.aval.ndim:
    return False
  if kind(operand.aval.dtype) == "c" and name in ("scatter-min", "scatter-max"):
    return False
  return all(known(v.aval.dtype) for v in eqn.invars)


def dus_supported(eqn) -> bool:
  return all(known(v.aval.dtype) for v in eqn.invars) and \
      all(v.aval.shape == () for v in eqn.invars[2:])


# ---------------------------------------------------------------------------------------
# Expressions

def _maxe(a, b, k):
  if k in "hf":
    return f"(({a} > {b} || {a} != {a}) ? {a} : {b})"
  return f"({a} > {b} ? {a} : {b})"


def _mine(a, b, k):
  if k in "hf":
    return f"(({a} < {b} || {a} != {a}) ? {a} : {b})"
  return f"({a} < {b} ? {a} : {b})"


_REAL_MATH = {"exp", "exp2", "log", "log1p", "expm1", "tanh", "sin", "cos", "tan", "asin",
              "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "sqrt", "cbrt",
              "lgamma", "erf", "erfc", "floor", "ceil"}
_COMPLEX_MATH = {"exp", "log", "tanh", "sin", "cos", "tan", "asin", "acos", "atan", "sinh",
                 "cosh", "asinh", "acosh", "atanh", "sqrt"}


def convert(a, src, dst) -> str:
  src, dst = np.dtype(src), np.dtype(dst)
  ks, kd = kind(src), kind(dst)
  if src == dst:
    return a
  if kd == "b":
    return f"({a} != 0)"
  if ks == "c" and kd != "c":
    a = f"creal({a})"
    ks = "f"
  if ks in "hf" and kd in "iu":
    t = ctype(dst)
    if bits(dst) == 64:
      return f"(({t})nj_f2{'i' if kd == 'i' else 'u'}64((double)({a})))"
    info = np.iinfo(dst)
    return f"(({t})nj_f2i_clampd(trunc((double)({a})), {float(info.min)!r}, {float(info.max)!r}))"
  t = comp(dst)
  return rnd(dst, f"(({t})({a}))")


# The operations whose C depends only on the operands' kind: name -> rows (kinds, template
# in the args {0}, {1}, ... and {t} compute type, {ct} storage type, {ut} unsigned type of
# the output, {cf} 'f' for complex64; rounded: the result goes through the output's cast
# and rounding). A kind no row lists raises Unsupported.
_NUM = "hfciu"
_BY_KIND = {
    "neg": [(_NUM, "-{0}", True)],
    "sign": [("hf", "({0} > 0 ? 1 : ({0} < 0 ? -1 : {0}))", True),
             ("i", "({0} > 0) - ({0} < 0)", True), ("u", "({0} > 0)", True),
             ("c", "nj_csign{cf}({0})", False)],
    "is_finite": [("hf", "((_Bool)isfinite({0}))", False)],
    "logistic": [("c", "0.5 * (tanh(0.5 * {0}) + 1)", True),
                 ("hf", "({t})0.5 * (tanh(({t})0.5 * {0}) + ({t})1)", True)],
    "rsqrt": [("hfc", "({t})1 / sqrt({0})", True)],
    "abs": [("hf", "fabs({0})", True), ("i", "({0} < 0 ? -{0} : {0})", True),
            ("u", "{0}", False), ("c", "(({t})cabs({0}))", False)],
    "not": [("b", "(!{0})", False), ("iu", "~{0}", True)],
    "population_count": [("iu", "__builtin_popcountll((uint64_t)({ut})({0}))", True)],
    "square": [(_NUM, "{0} * {0}", True)],
    "add": [(_NUM, "{0} + {1}", True)],
    "sub": [(_NUM, "{0} - {1}", True)],
    "mul": [(_NUM, "{0} * {1}", True)],
    "div": [("hfc", "{0} / {1}", True), ("iu", "nj_div_{ct}({0}, {1})", False)],
    "rem": [("hf", "fmod({0}, {1})", True), ("iu", "nj_rem_{ct}({0}, {1})", False)],
    "pow": [("hfc", "pow({0}, ({t})({1}))", True)],
    "atan2": [("hf", "atan2({0}, {1})", True)],
    "nextafter": [("f", "nextafter({0}, {1})", False)],
    "and": [("iub", "{0} & {1}", True)],
    "or": [("iub", "{0} | {1}", True)],
    "xor": [("iub", "{0} ^ {1}", True)],
    "fma": [("hf", "fma({0}, {1}, {2})", True)],
}
for _name, _op in (("eq", "=="), ("ne", "!="), ("lt", "<"), ("le", "<="), ("gt", ">"),
                   ("ge", ">=")):
  _BY_KIND[_name] = [("hfiub" + ("c" if _name in ("eq", "ne") else ""),
                      f"((_Bool)({{0}} {_op} {{1}}))", False)]


def expr(name, prim, params, ins, outs, a, shapes=None):
  """C expression(s) (compute type of outs) for one operation on compute-type args `a`.
  Returns a string, or a list of strings for multiple results."""
  k = kind(ins[0]) if ins else kind(outs[0])
  out = outs[0]
  ko = kind(out)
  t = comp(out)

  def fin(e):
    return rnd(out, f"(({t})({e}))")

  if name == "convert_element_type":
    return convert(a[0], ins[0], out)
  if name in ("copy", "alias", "stop_gradient", "name", "optimization_barrier_1"):
    return a[0]
  rows = _BY_KIND.get(name)
  if rows is not None:
    for kinds, tmpl, rounded in rows:
      if k in kinds:
        e = tmpl.format(*a, t=t, ct=CTYPE.get(np.dtype(out), ""),
                        ut=utype(out) if "{ut}" in tmpl else "",
                        cf="f" if ins[0] == np.complex64 else "")
        return fin(e) if rounded else e
    raise Unsupported(name)
  if name == "round":
    if k not in "hf":
      raise Unsupported
    m = params.get("rounding_method", 0)
    fn = "rint" if int(m) == 1 else "round"
    return fin(f"{fn}({a[0]})")
  if name in _REAL_MATH and (k in "hf" or (k == "c" and name in _COMPLEX_MATH)):
    return fin(f"{name}({a[0]})")
  if name in ("real", "imag", "conj"):
    if k == "c":
      return f"(({t}){'creal' if name == 'real' else 'cimag' if name == 'imag' else 'conj'}({a[0]}))"
    if k in "hf":
      return a[0] if name != "imag" else f"(({t})0)"
    raise Unsupported
  if name == "clz":
    if k not in "iu":
      raise Unsupported
    b = bits(out)
    return fin(f"({a[0]} == 0 ? {b} : __builtin_clzll((uint64_t)({utype(out)})({a[0]})) - {64 - b})")
  if name == "erf_inv":
    if k == "h" or out == np.float32:
      return fin(f"nj_xla_erfinvf((float)({a[0]}))")
    raise Unsupported
  if name in ("max", "min"):
    if k == "c":
      raise Unsupported
    return (_maxe if name == "max" else _mine)(a[0], a[1], k)
  if name in ("shift_left", "shift_right_logical", "shift_right_arithmetic"):
    if k not in "iu":
      raise Unsupported
    u, b = utype(out), bits(out)
    sh = f"(({u}){a[1]})"
    if name == "shift_left":
      return f"({sh} >= {b} ? ({t})0 : ({t})(({u}){a[0]} << {sh}))"
    if name == "shift_right_logical":
      return f"({sh} >= {b} ? ({t})0 : ({t})(({u}){a[0]} >> {sh}))"
    return f"({sh} >= {b} ? ({t})({a[0]} >> {b - 1}) : ({t})({a[0]} >> {sh}))"
  if name == "complex":
    if k != "f":
      raise Unsupported
    rt = comp(ins[0])
    return f"__builtin_complex(({rt})({a[0]}), ({rt})({a[1]}))"
  if name == "clamp":
    ks = kind(ins[1])
    if ks == "c":
      raise Unsupported
    return _mine(_maxe(a[1], a[0], ks), a[2], ks)
  if name == "select_n":
    cases = a[1:]
    if len(cases) == 1:
      return cases[0]
    if kind(ins[0]) == "b":
      return f"({a[0]} ? {cases[1]} : {cases[0]})"
    e = cases[-1]
    for i in range(len(cases) - 2, -1, -1):
      e = f"({a[0]} <= {i} ? {cases[i]} : {e})"
    return e
  if name == "integer_pow":
    y = int(params["y"])
    if k == "b":
      raise Unsupported
    if y == 0:
      return f"(({t})1)"
    if y < 0 and k in "iu":
      raise Unsupported
    # repeated squaring in the same order as the NumPy implementation; float16/bfloat16
    # compute in float32 and round once (as np.power on float32 does)
    acc, base, n = None, a[0], abs(y)
    while n:
      if n & 1:
        acc = base if acc is None else f"({acc} * {base})"
      n >>= 1
      if n:
        base = f"({base} * {base})"
    e = f"(({t})1 / {acc})" if y < 0 else acc
    return fin(e)
  if name == "threefry2x32":
    if not all(np.dtype(d) == np.uint32 for d in ins):
      raise Unsupported
    return ["__TF0__", "__TF1__"]
  tmpl = getattr(prim, "native_template", None) if prim is not None else None
  # a template naming helpers this prelude does not define (nj_digamma, ...) stays on NumPy
  if isinstance(tmpl, str) and not prim.multiple_results and k in "hf" and ko in "hf" and \
      "nj_" not in tmpl:
    try:
      return fin(tmpl.format(*a))
    except (IndexError, KeyError):
      raise Unsupported
  raise Unsupported(name)


# ---------------------------------------------------------------------------------------
# Reductions: (accumulator compute type, init, combine(acc, x))

def reduction(name, dt):
  k = kind(dt)
  t = comp(dt)
  if name == "reduce_sum":
    return t, f"(({t})0)", lambda acc, x: f"{acc} + {x}"
  if name == "reduce_prod":
    return t, f"(({t})1)", lambda acc, x: f"{acc} * {x}"
  if name in ("reduce_max", "reduce_min"):
    big = name == "reduce_min"
    if k == "h":
      # JAX's identity: +-inf in dt, or +-max for the float8s without inf (float8_e8m0fnu
      # stores inf as NaN, so its max/min are NaN, as in JAX)
      m = np.inf if _dtypes.supports_inf(dt) else float(_dtypes.finfo(dt).max)
      with np.errstate(all="ignore"):
        init = literal(np.array(m if big else -m, np.float32).astype(dt), dt)
    elif k == "f":
      init = f"(({t})INFINITY)" if big else f"(-({t})INFINITY)"
    elif k == "b":
      init = "((_Bool)1)" if big else "((_Bool)0)"
    else:
      info = np.iinfo(dt)
      init = literal(info.max if big else info.min, dt)
    f = _mine if big else _maxe
    return t, init, lambda acc, x: f(acc, x, k)
  if name == "reduce_and":
    init = "((_Bool)1)" if k == "b" else f"(({t})~({utype(dt)})0)"
    return t, init, lambda acc, x: f"({t})({acc} & {x})"
  if name == "reduce_or":
    return t, f"(({t})0)", lambda acc, x: f"({t})({acc} | {x})"
  if name == "reduce_xor":
    return t, f"(({t})0)", lambda acc, x: f"({t})({acc} ^ {x})"
  raise Unsupported(name)
