"""The FFT primitive (jax.lax.fft): complex FFT/IFFT and real RFFT/IRFFT over the trailing
`len(fft_lengths)` dimensions, batched over the leading ones.

The impl is NumPy's pocketfft (single precision stays single precision). The primitive is
linear in its operand: its jvp applies it to the tangent, and its transpose is another FFT
(the DFT matrix is symmetric; RFFT/IRFFT transposes weight the bins that stand for two
conjugate frequencies). NumPy tier only.
"""
from __future__ import annotations

import enum
import math
import operator

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.core import Primitive, ShapedArray
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters.ad import Zero
from numjax._src.lax import lax as _lax
from numjax._src.lax.lax import asarray
from numjax._src.lax.reductions import checked_eager


class FftType(enum.IntEnum):
  """Which FFT to perform."""
  FFT = 0    # forward complex-to-complex
  IFFT = 1   # inverse complex-to-complex
  RFFT = 2   # forward real-to-complex
  IRFFT = 3  # inverse complex-to-real

  def __str__(self):  # jaxprs print the number, as JAX's
    return str(int(self))


def _str_to_fft_type(s):
  table = {"fft": FftType.FFT, "ifft": FftType.IFFT, "rfft": FftType.RFFT,
           "irfft": FftType.IRFFT}
  t = table.get(s.lower()) if s in ("fft", "FFT", "ifft", "IFFT", "rfft", "RFFT", "irfft",
                                    "IRFFT") else None
  if t is None:
    raise ValueError(f"Unknown FFT type '{s}'")
  return t


fft_p = Primitive("fft")
fft_p.numpy_tier_only = True  # pocketfft is the kernel


def _fft_impl(x, *, fft_type, fft_lengths):
  k = len(fft_lengths)
  axes = tuple(range(x.ndim - k, x.ndim))
  if fft_type == FftType.FFT:
    out = np.fft.fftn(x, axes=axes)
    return out.astype(x.dtype, copy=False)
  if fft_type == FftType.IFFT:
    return np.fft.ifftn(x, axes=axes).astype(x.dtype, copy=False)
  if fft_type == FftType.RFFT:
    out = np.fft.rfftn(x, s=fft_lengths, axes=axes)
    return out.astype(_dtypes.to_complex_dtype(x.dtype), copy=False)
  out = np.fft.irfftn(x, s=fft_lengths, axes=axes)
  return out.astype(_real_dtype(x.dtype), copy=False)


def _real_dtype(dt):
  return np.dtype(np.float32) if np.dtype(dt) == np.complex64 else np.dtype(np.float64)


def _fft_abstract(x, *, fft_type, fft_lengths):
  k = len(fft_lengths)
  if k > x.ndim:
    raise ValueError(f"FFT input shape {x.shape} must have at least as many input dimensions "
                     f"as fft_lengths {fft_lengths}.")
  minor = x.shape[x.ndim - k:]
  if fft_type == FftType.RFFT:
    if x.dtype not in (np.float32, np.float64):
      raise ValueError(f"RFFT input must be float32 or float64, got {x.dtype}")
    if minor != fft_lengths:
      raise ValueError(f"RFFT input shape {x.shape} minor dimensions must be equal to "
                       f"fft_lengths {fft_lengths}")
    shape = x.shape[:x.ndim - k] + fft_lengths[:-1] + (fft_lengths[-1] // 2 + 1,)
    dtype = _dtypes.to_complex_dtype(x.dtype)
  elif fft_type == FftType.IRFFT:
    if not _dtypes.issubdtype(x.dtype, np.complexfloating):
      raise ValueError(f"IRFFT input must be complex64 or complex128, got {x.dtype}")
    if minor[:-1] != fft_lengths[:-1]:
      raise ValueError(f"IRFFT input shape {x.shape} minor dimensions must be equal to all "
                       f"except the last fft_length, got fft_lengths={fft_lengths!r}")
    shape = x.shape[:x.ndim - k] + fft_lengths
    dtype = _real_dtype(x.dtype)
  else:
    if not _dtypes.issubdtype(x.dtype, np.complexfloating):
      raise ValueError(f"FFT input must be complex64 or complex128, got {x.dtype}")
    if minor != fft_lengths:
      raise ValueError(f"FFT input shape {x.shape} minor dimensions must be equal to "
                       f"fft_lengths {fft_lengths}")
    shape, dtype = x.shape, x.dtype
  return ShapedArray(shape, dtype)


def _half_spectrum_weights(n_last, m, dtype):
  """Weights 2 for the bins of the half spectrum standing for two conjugate frequencies, 1
  for DC (and Nyquist when n_last is even); a constant from static shapes."""
  w = np.full((m,), 2.0)
  w[0] = 1.0
  if n_last % 2 == 0:
    w[-1] = 1.0
  return asarray(w.astype(dtype))


def _bcast_last(v, shape):
  return _lax.broadcast_in_dim(v, tuple(shape), (len(shape) - 1,))


def _fft_transpose(ct, x, *, fft_type, fft_lengths):
  if type(ct) is Zero:
    return [Zero(x.aval)]
  n = math.prod(fft_lengths)
  cta = core.get_aval(ct)
  if fft_type == FftType.RFFT:
    w = _half_spectrum_weights(fft_lengths[-1], cta.shape[-1], cta.dtype)
    scaled = _lax.div(_lax.conj(ct), _bcast_last(w, cta.shape))
    out = fft(scaled, FftType.IRFFT, fft_lengths)
    return [_lax.mul(out, _lax._const(out, n))]
  if fft_type == FftType.IRFFT:
    y = fft(ct, FftType.RFFT, fft_lengths)
    ya = core.get_aval(y)
    w = _half_spectrum_weights(fft_lengths[-1], ya.shape[-1], ya.dtype)
    out = _lax.mul(_lax.mul(_bcast_last(w, ya.shape), y), _lax._const(y, 1 / n))
    return [_lax.conj(out)]
  return [fft(ct, fft_type, fft_lengths)]


def _fft_batch(vals, dims, *, fft_type, fft_lengths):
  (x,), (d,) = vals, dims
  x = batching.moveaxis(x, d, 0)
  return fft_p.bind(x, fft_type=fft_type, fft_lengths=fft_lengths), 0


fft_p.impl = _fft_impl
fft_p.abstract_eval = _fft_abstract
checked_eager(fft_p)
fft_p.weak_type_rule = lambda args, params: False
ad.deflinear(fft_p, _fft_transpose)
batching.primitive_batchers[fft_p] = _fft_batch


def fft(x, fft_type, fft_lengths):
  """lax.fft: an FFT of `fft_type` over the trailing len(fft_lengths) dimensions."""
  if isinstance(fft_type, str):
    typ = _str_to_fft_type(fft_type)
  elif isinstance(fft_type, (FftType, int)) and not isinstance(fft_type, bool):
    typ = FftType(fft_type)
  else:
    raise TypeError(f"Unknown FFT type value '{fft_type}'")
  x = asarray(x)
  dt = core.get_aval(x).dtype
  if typ == FftType.RFFT:
    if _dtypes.issubdtype(dt, np.complexfloating):
      raise ValueError("only real valued inputs supported for rfft")
    target = _dtypes.to_inexact_dtype(dt)
  else:
    target = _dtypes.to_complex_dtype(dt)
  if target != dt or core.get_aval(x).weak_type:
    x = _lax.convert_element_type(x, target)
  fft_lengths = tuple(operator.index(n) for n in fft_lengths)
  if not fft_lengths:
    return x
  return fft_p.bind(x, fft_type=typ, fft_lengths=fft_lengths)
