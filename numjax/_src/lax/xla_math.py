"""NumPy kernels for elementwise functions whose result JAX defines by XLA's algorithm.

`erf_inv` in float32 is not a correctly rounded function in XLA: it is Giles' polynomial
approximation evaluated with fused multiply-adds on top of XLA's own `log1p`. Random
normals are `sqrt(2) * erf_inv(u)`, so matching JAX's samples needs the same arithmetic.
The kernels work through their input in cache-sized blocks (a chain of ~50 NumPy calls
on a block that stays in L2 is several times faster than on the whole array).
"""
from __future__ import annotations

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


def _horner_fma(x64, coeffs, out, tmp):
  """A float32 polynomial by Horner's rule with fused multiply-adds (XLA contracts a*b+c):
  the float32 product is exact in float64 and the sum is rounded once to float32."""
  out[...] = _f32(coeffs[0])
  for c in coeffs[1:]:
    np.multiply(out, x64, out=tmp)
    np.add(tmp, _f32(c), out=out, casting="same_kind")
  return out


def _erf_inv_f32_block(x, out):
  n = x.size
  tmp = np.empty(n, _f64)
  a = np.empty(n, _f32)
  b = np.empty(n, _f32)
  y = np.negative(x * x)                       # w = -log1p(y), y in (-1, 0]
  y64 = y.astype(_f64)
  _horner_fma(y64, _LOG1P_NUM, a, tmp)
  _horner_fma(y64, _LOG1P_DEN, b, tmp)
  y2 = y * y
  np.divide(a, b, out=a)
  np.multiply(np.multiply(y, y2, out=b), a, out=a)
  np.add(np.multiply(_f32(-0.5), y2, out=b), a, out=a)
  np.add(y, a, out=a)                          # log1p(y), small |y|
  large = np.log(np.add(y, _f32(1)).astype(_f64)).astype(_f32)
  w = np.where(np.abs(y) < _f32(0.41421356237309504880), a, large)
  np.negative(w, out=w)
  lt = w < _f32(5)
  _horner_fma((w - _f32(2.5)).astype(_f64), _ERFINV_W_LT_5, a, tmp)
  if not lt.all():  # the tails (|x| > 0.9966): the second polynomial, on the few
    ge = ~lt
    wg = (np.sqrt(w[ge]) - _f32(3)).astype(_f64)
    a[ge] = _horner_fma(wg, _ERFINV_W_GE_5, np.empty(wg.size, _f32), np.empty(wg.size, _f64))
  np.multiply(a, x, out=out)
  edge = np.abs(x) == _f32(1)
  if edge.any():
    out[edge] = x[edge] * _f32(np.inf)
  return out


def erf_inv(x: np.ndarray) -> np.ndarray:
  """erf_inv as XLA computes it: float32 (and float16/bfloat16, via float32) by Giles'
  approximation; float64 by SciPy (correctly rounded to within an ulp)."""
  dt = x.dtype
  if dt == _f64:
    import scipy.special as sp
    return sp.erfinv(x)
  xf = np.ascontiguousarray(x, dtype=_f32)
  flat = xf.reshape(-1)
  out = np.empty_like(flat)
  with np.errstate(all="ignore"):
    for s in range(0, flat.size, _BLOCK):
      _erf_inv_f32_block(flat[s:s + _BLOCK], out[s:s + _BLOCK])
  out = out.reshape(x.shape)
  return out if dt == _f32 else out.astype(dt)
