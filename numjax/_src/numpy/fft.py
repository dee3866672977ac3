"""numjax.numpy.fft: NumPy's FFT API on the lax `fft` primitive.

As JAX: axes are moved to the end, inputs cropped/zero-padded to `s`/`n`, and the
normalisation ("backward", "ortho", "forward") applied as a scale after the transform.
"""
from __future__ import annotations

import operator
from typing import Sequence

import numpy as np

from numjax._src import dtypes
from numjax._src.lax import fft as lax_fft
from numjax._src.lax import lax
from numjax._src.numpy import creation
from numjax._src.numpy import lax_numpy as lnp
from numjax._src.numpy import ufuncs as uf
from numjax._src.numpy.util import ensure_arraylike

FftType = lax_fft.FftType


def _fft_norm(s, func_name, norm, dtype):
  """The scale of `norm` for transform sizes s (static), as a constant of `dtype`."""
  if norm == "backward":
    return None
  n = float(np.prod(s)) if len(s) else 1.0
  if norm == "ortho":
    scale = np.sqrt(n) if func_name.startswith("i") else 1 / np.sqrt(n)
  elif norm == "forward":
    scale = n if func_name.startswith("i") else 1 / n
  else:
    raise ValueError(f'Invalid norm value {norm}; should be "backward","ortho" or "forward".')
  return scale


def _fft_core(func_name, fft_type, a, s, axes, norm):
  full_name = f"jax.numpy.fft.{func_name}"
  arr = ensure_arraylike(full_name, a)
  if s is not None:
    s = tuple(map(operator.index, s))
    if any(x <= 0 for x in s):
      raise ValueError("Shape should be positive.")
  if s is not None and axes is not None and len(s) != len(axes):
    raise ValueError("Shape and axes have different lengths.")
  orig_axes = axes
  if axes is None:
    axes = tuple(range(arr.ndim)) if s is None else tuple(range(arr.ndim - len(s), arr.ndim))
  else:
    axes = tuple(operator.index(ax) for ax in axes)
  if len(axes) != len(set(axes)):
    raise ValueError(f"{full_name} does not support repeated axes. Got axes {axes}.")
  if orig_axes is not None:
    axes = tuple(range(arr.ndim - len(axes), arr.ndim))
    arr = lnp.moveaxis(arr, orig_axes, axes)
  if s is not None:
    in_s = list(arr.shape)
    for axis, x in zip(axes, s):
      in_s[axis] = x
    if fft_type == FftType.IRFFT:
      in_s[-1] = in_s[-1] // 2 + 1
    arr = arr[tuple(slice(x) for x in in_s)]
    if tuple(arr.shape) != tuple(in_s):
      arr = lnp.pad(arr, [(0, x - y) for x, y in zip(in_s, arr.shape)])
  elif fft_type == FftType.IRFFT:
    s = [arr.shape[axis] for axis in axes[:-1]]
    if axes:
      s += [max(0, 2 * (arr.shape[axes[-1]] - 1))]
  else:
    s = [arr.shape[axis] for axis in axes]
  out = lax_fft.fft(arr, fft_type, tuple(s))
  if norm is not None:
    scale = _fft_norm(s, func_name, norm, out.dtype)
    if scale is not None:
      out = lax.mul(out, lax._const(out, scale))
  if orig_axes is not None:
    out = lnp.moveaxis(out, axes, orig_axes)
  return out


def fftn(a, s=None, axes=None, norm=None):
  """Implementation of numpy.fft.fftn."""
  return _fft_core("fftn", FftType.FFT, a, s, axes, norm)


def ifftn(a, s=None, axes=None, norm=None):
  """Implementation of numpy.fft.ifftn."""
  return _fft_core("ifftn", FftType.IFFT, a, s, axes, norm)


def rfftn(a, s=None, axes=None, norm=None):
  """Implementation of numpy.fft.rfftn."""
  return _fft_core("rfftn", FftType.RFFT, a, s, axes, norm)


def irfftn(a, s=None, axes=None, norm=None):
  """Implementation of numpy.fft.irfftn."""
  return _fft_core("irfftn", FftType.IRFFT, a, s, axes, norm)


def _axis_check_1d(func_name, axis):
  if isinstance(axis, (list, tuple)):
    full = f"jax.numpy.fft.{func_name}"
    raise ValueError(f"{full} does not support multiple axes. Please use {full}n. Got "
                     f"axis = {axis!r}.")


def _fft_core_1d(func_name, fft_type, a, n, axis, norm):
  _axis_check_1d(func_name, axis)
  axes = None if axis is None else [axis]
  s = None if n is None else [n]
  return _fft_core(func_name, fft_type, a, s, axes, norm)


def fft(a, n=None, axis: int = -1, norm=None):
  """Implementation of numpy.fft.fft."""
  return _fft_core_1d("fft", FftType.FFT, a, n, axis, norm)


def ifft(a, n=None, axis: int = -1, norm=None):
  """Implementation of numpy.fft.ifft."""
  return _fft_core_1d("ifft", FftType.IFFT, a, n, axis, norm)


def rfft(a, n=None, axis: int = -1, norm=None):
  """Implementation of numpy.fft.rfft."""
  return _fft_core_1d("rfft", FftType.RFFT, a, n, axis, norm)


def irfft(a, n=None, axis: int = -1, norm=None):
  """Implementation of numpy.fft.irfft."""
  return _fft_core_1d("irfft", FftType.IRFFT, a, n, axis, norm)


def hfft(a, n=None, axis: int = -1, norm=None):
  """Implementation of numpy.fft.hfft (the FFT of a Hermitian-symmetric signal)."""
  a = ensure_arraylike("jax.numpy.fft.hfft", a)
  conj_a = uf.conj(a)
  _axis_check_1d("hfft", axis)
  nn = (conj_a.shape[axis] - 1) * 2 if n is None else n
  out = _fft_core_1d("hfft", FftType.IRFFT, conj_a, n, axis, norm)
  return lax.mul(out, lax._const(out, nn))


def ihfft(a, n=None, axis: int = -1, norm=None):
  """Implementation of numpy.fft.ihfft."""
  _axis_check_1d("ihfft", axis)
  arr = ensure_arraylike("jax.numpy.fft.ihfft", a)
  nn = arr.shape[axis] if n is None else n
  out = _fft_core_1d("ihfft", FftType.RFFT, arr, n, axis, norm)
  return lax.mul(uf.conj(out), lax._const(out, 1 / nn))


def _fft_core_2d(func_name, fft_type, a, s, axes, norm):
  if len(axes) != 2:
    raise ValueError(f"jax.numpy.fft.{func_name} only supports 2 axes. Got axes = {axes!r}.")
  return _fft_core(func_name, fft_type, a, s, axes, norm)


def fft2(a, s=None, axes: Sequence[int] = (-2, -1), norm=None):
  """Implementation of numpy.fft.fft2."""
  return _fft_core_2d("fft2", FftType.FFT, a, s, axes, norm)


def ifft2(a, s=None, axes: Sequence[int] = (-2, -1), norm=None):
  """Implementation of numpy.fft.ifft2."""
  return _fft_core_2d("ifft2", FftType.IFFT, a, s, axes, norm)


def rfft2(a, s=None, axes: Sequence[int] = (-2, -1), norm=None):
  """Implementation of numpy.fft.rfft2."""
  return _fft_core_2d("rfft2", FftType.RFFT, a, s, axes, norm)


def irfft2(a, s=None, axes: Sequence[int] = (-2, -1), norm=None):
  """Implementation of numpy.fft.irfft2."""
  return _fft_core_2d("irfft2", FftType.IRFFT, a, s, axes, norm)


def _freq_args(name, n, d):
  if isinstance(n, (list, tuple)):
    raise ValueError(f"The n argument of jax.numpy.fft.{name} only takes an int. Got "
                     f"n = {list(n)}.")
  if isinstance(d, (list, tuple)):
    raise ValueError(f"The d argument of jax.numpy.fft.{name} only takes a single value. "
                     f"Got d = {list(d)}.")
  return operator.index(n)


def fftfreq(n, d=1.0, *, dtype=None, device=None):
  """Implementation of numpy.fft.fftfreq (default float dtype)."""
  dtype = dtype or dtypes.default_float_dtype()
  n = _freq_args("fftfreq", n, d)
  out_dtype = dtype
  dt = dtypes.finfo(dtypes.to_inexact_dtype(np.dtype(dtype))).dtype
  i = creation.arange(n, dtype=dt)
  k = (i + n // 2) % n - n // 2
  result = lax.convert_element_type(k, dt) / creation.asarray(d * n, dtype=dt)
  return result.astype(out_dtype)


def rfftfreq(n, d=1.0, *, dtype=None, device=None):
  """Implementation of numpy.fft.rfftfreq (default float dtype)."""
  dtype = dtype or dtypes.default_float_dtype()
  n = _freq_args("rfftfreq", n, d)
  k = creation.arange(0, n // 2 + 1, dtype=dtype)
  return k / creation.asarray(d * n, dtype=dtype)


def fftshift(x, axes=None):
  """Implementation of numpy.fft.fftshift."""
  x = ensure_arraylike("fftshift", x)
  if axes is None:
    axes = tuple(range(x.ndim))
    shift = [dim // 2 for dim in x.shape]
  elif isinstance(axes, int):
    shift = x.shape[axes] // 2
  else:
    shift = [x.shape[ax] // 2 for ax in axes]
  return lnp.roll(x, shift, axes)


def ifftshift(x, axes=None):
  """Implementation of numpy.fft.ifftshift."""
  x = ensure_arraylike("ifftshift", x)
  if axes is None:
    axes = tuple(range(x.ndim))
    shift = [-(dim // 2) for dim in x.shape]
  elif isinstance(axes, int):
    shift = -(x.shape[axes] // 2)
  else:
    shift = [-(x.shape[ax] // 2) for ax in axes]
  return lnp.roll(x, shift, axes)
