"""jax.scipy.signal: N-d convolution/correlation (direct, through lax.conv_general_dilated,
or by FFT), detrend, and the spectral helpers stft/istft/csd/welch.

Written with lax/jnp functions only, so everything differentiates, batches and jits.
"""
from __future__ import annotations

import operator

import numpy as np

from numjax._src.lax import lax
from numjax._src.lax import slicing
from numjax._src.lax.convolution import conv_general_dilated
from numjax._src.numpy import util

_MODES = ("full", "same", "valid")


def _jnp():
  import numjax.numpy as jnp  # the public namespace (fft, linalg pieces load lazily)
  return jnp


def _flip_all(x):
  return slicing.rev(x, tuple(range(x.ndim)))


def _convolve_nd(in1, in2, mode, *, precision):
  if mode not in _MODES:
    raise ValueError("mode must be one of ['full', 'same', 'valid']")
  if in1.ndim != in2.ndim:
    raise ValueError("in1 and in2 must have the same number of dimensions")
  if in1.size == 0 or in2.size == 0:
    raise ValueError(f"zero-size arrays not supported in convolutions, got shapes "
                     f"{in1.shape} and {in2.shape}.")
  in1, in2 = util.promote_dtypes_inexact(in1, in2)
  no_swap = all(a >= b for a, b in zip(in1.shape, in2.shape))
  swap = all(a <= b for a, b in zip(in1.shape, in2.shape))
  if not (no_swap or swap):
    raise ValueError("One input must be smaller than the other in every dimension.")
  shape_o = in2.shape
  if swap:
    in1, in2 = in2, in1
  shape = in2.shape
  kernel = _flip_all(in2)
  if mode == "valid":
    padding = [(0, 0)] * len(shape)
  elif mode == "same":
    # centred on the first argument as SciPy does (even when the inputs were swapped)
    padding = [(s - 1 - (so - 1) // 2, s - so + (so - 1) // 2) for s, so in zip(shape, shape_o)]
  else:
    padding = [(s - 1, s - 1) for s in shape]
  nd = in1.ndim
  out = conv_general_dilated(lax.reshape(in1, (1, 1) + in1.shape),
                             lax.reshape(kernel, (1, 1) + kernel.shape), (1,) * nd, padding,
                             precision=precision)
  return lax.reshape(out, out.shape[2:])


def convolve(in1, in2, mode="full", method="auto", precision=None):
  """Implementation of scipy.signal.convolve (N-d; method 'auto'/'direct' use
  lax.conv_general_dilated, 'fft' uses fftconvolve)."""
  in1, in2 = util.ensure_arraylike("convolve", in1, in2)
  if method == "fft":
    return fftconvolve(in1, in2, mode=mode)
  if method in ("direct", "auto"):
    return _convolve_nd(in1, in2, mode, precision=precision)
  raise ValueError(f"Got method={method!r}; expected 'auto', 'fft', or 'direct'.")


def correlate(in1, in2, mode="full", method="auto", precision=None):
  """Implementation of scipy.signal.correlate: convolve(in1, flip(conj(in2)))."""
  in1, in2 = util.ensure_arraylike("correlate", in1, in2)
  if in2.dtype.kind == "c":
    in2 = lax.conj(in2)
  return convolve(in1, _flip_all(in2), mode, precision=precision, method=method)


def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0, precision=None):
  """Implementation of scipy.signal.convolve2d (boundary='fill', fillvalue=0 only)."""
  if boundary != "fill" or fillvalue != 0:
    raise NotImplementedError("convolve2d() only supports boundary='fill', fillvalue=0")
  in1, in2 = util.ensure_arraylike("convolve2d", in1, in2)
  if in1.ndim != 2 or in2.ndim != 2:
    raise ValueError("convolve2d() only supports 2-dimensional inputs.")
  return _convolve_nd(in1, in2, mode, precision=precision)


def _conj(x):
  return lax.conj(x) if x.dtype.kind == "c" else x


def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0, precision=None):
  """Implementation of scipy.signal.correlate2d (boundary='fill', fillvalue=0 only)."""
  if boundary != "fill" or fillvalue != 0:
    raise NotImplementedError("correlate2d() only supports boundary='fill', fillvalue=0")
  in1, in2 = util.ensure_arraylike("correlate2d", in1, in2)
  if in1.ndim != 2 or in2.ndim != 2:
    raise ValueError("correlate2d() only supports 2-dimensional inputs.")
  swap = all(a <= b for a, b in zip(in1.shape, in2.shape))
  same = in1.shape == in2.shape
  # SciPy's correlate2d swaps (and conjugates) when in2 is the larger input
  if mode == "same":
    return _flip_all(_convolve_nd(_flip_all(in1), _conj(in2), mode, precision=precision))
  if mode == "valid":
    if swap and not same:
      return _convolve_nd(_flip_all(in2), _conj(in1), mode, precision=precision)
    return _flip_all(_convolve_nd(_flip_all(in1), _conj(in2), mode, precision=precision))
  if swap:
    return _conj(_convolve_nd(_flip_all(in2), _conj(in1), mode, precision=precision))
  return _flip_all(_convolve_nd(_flip_all(in1), _conj(in2), mode, precision=precision))


def _fftconvolve_unbatched(in1, in2, mode):
  jnp = _jnp()
  full_shape = tuple(a + b - 1 for a, b in zip(in1.shape, in2.shape))
  if mode == "valid":
    no_swap = all(a >= b for a, b in zip(in1.shape, in2.shape))
    swap = all(a <= b for a, b in zip(in1.shape, in2.shape))
    if not (no_swap or swap):
      raise ValueError("For 'valid' mode, One input must be at least as large as the other "
                       "in every dimension.")
    if swap:
      in1, in2 = in2, in1
  if all(a == 1 or b == 1 for a, b in zip(in1.shape, in2.shape)):
    conv = in1 * in2
  else:
    if in1.dtype.kind == "c":
      fft, ifft = jnp.fft.fftn, jnp.fft.ifftn
    else:
      fft, ifft = jnp.fft.rfftn, jnp.fft.irfftn
    conv = ifft(fft(in1, full_shape) * fft(in2, full_shape), full_shape)
  if mode == "full":
    out_shape = full_shape
  elif mode == "same":
    out_shape = in1.shape
  else:
    out_shape = tuple(a - b + 1 for a, b in zip(in1.shape, in2.shape))
  start = tuple((f - o) // 2 for f, o in zip(full_shape, out_shape))
  return slicing.slice(conv, start, tuple(s + o for s, o in zip(start, out_shape)))


def fftconvolve(in1, in2, mode="full", axes=None):
  """Implementation of scipy.signal.fftconvolve (axes not listed are batch axes and must
  match)."""
  from numjax._src.vmap import vmap
  in1, in2 = util.ensure_arraylike("fftconvolve", in1, in2)
  in1, in2 = util.promote_dtypes_inexact(in1, in2)
  if in1.ndim != in2.ndim:
    raise ValueError("in1 and in2 should have the same dimensionality")
  if mode not in _MODES:
    raise ValueError("mode must be one of ['same', 'full', 'valid']")

  def f(a, b):
    return _fftconvolve_unbatched(a, b, mode)
  if axes is None:
    return f(in1, in2)
  axes = (axes,) if isinstance(axes, int) else tuple(axes)
  axes = tuple(util.canonicalize_axis(a, in1.ndim) for a in axes)
  mapped = sorted(set(range(in1.ndim)) - set(axes))
  if any(in1.shape[i] != in2.shape[i] for i in mapped):
    raise ValueError(f"mapped axes must have same shape; got in1.shape={in1.shape} "
                     f"in2.shape={in2.shape} axes={axes}")
  for ax in mapped:
    f = vmap(f, in_axes=ax, out_axes=ax)
  return f(in1, in2)


def detrend(data, axis=-1, type="linear", bp=0, overwrite_data=None):
  """Implementation of scipy.signal.detrend: remove the mean ('constant') or a least-squares
  line ('linear', piecewise between the breakpoints bp)."""
  jnp = _jnp()
  if overwrite_data is not None:
    raise NotImplementedError("overwrite_data argument not implemented.")
  if type not in ("constant", "linear"):
    raise ValueError("Trend type must be 'linear' or 'constant'.")
  data = util.ensure_arraylike("detrend", data)
  (data,) = util.promote_dtypes_inexact(data)
  if type == "constant":
    return data - jnp.mean(data, axis, keepdims=True)
  axis = util.canonicalize_axis(axis, data.ndim)
  n = data.shape[axis]
  bps = np.sort(np.unique(np.r_[0, bp, n]))
  if bps[0] < 0 or bps[-1] > n:
    raise ValueError("Breakpoints must be non-negative and less than length of data along "
                     "given axis.")
  x = jnp.moveaxis(data, axis, 0)
  pieces = []
  for lo, hi in zip(bps[:-1], bps[1:]):
    seg = x[int(lo):int(hi)]
    m = int(hi - lo)
    # least-squares line a + b*t over the segment (closed form: centred t)
    t = jnp.arange(1, m + 1, dtype=seg.dtype) / m
    t = jnp.reshape(t, (m,) + (1,) * (seg.ndim - 1))
    tc = t - jnp.mean(t, 0, keepdims=True)
    yc = seg - jnp.mean(seg, 0, keepdims=True)
    denom = jnp.sum(tc * tc, 0, keepdims=True)
    slope = jnp.where(denom == 0, 0, jnp.sum(tc * yc, 0, keepdims=True) /
                      jnp.where(denom == 0, 1, denom))
    pieces.append(yc - slope * tc)
  out = jnp.concatenate(pieces, 0) if len(pieces) > 1 else pieces[0]
  return jnp.moveaxis(out, 0, axis)


# ---------------------------------------------------------------------------------------
# Spectral analysis: stft, istft, csd, welch

def _window(window, nperseg, dtype):
  jnp = _jnp()
  if isinstance(window, (str, tuple)):
    import scipy.signal as ss  # static window coefficients (shape arithmetic, not data)
    win = ss.get_window(window, nperseg)
    return jnp.asarray(win, dtype=dtype)
  win = jnp.asarray(window)
  if win.ndim != 1:
    raise ValueError("window must be 1-D")
  if win.shape[0] != nperseg:
    raise ValueError(f"value specified for nperseg is different from length of window: "
                     f"{win.shape[0]} != {nperseg}")
  return win.astype(dtype)


def _extend(x, n, boundary):
  """Boundary extension of the last axis by n samples (even/odd/constant/zeros)."""
  jnp = _jnp()
  if boundary is None or n == 0:
    return x
  left, right = x[..., 1:n + 1][..., ::-1], x[..., -n - 1:-1][..., ::-1]
  if boundary == "even":
    return jnp.concatenate([left, x, right], -1)
  if boundary == "odd":
    return jnp.concatenate([2 * x[..., :1] - left, x, 2 * x[..., -1:] - right], -1)
  if boundary == "constant":
    return jnp.concatenate([jnp.repeat(x[..., :1], n, -1), x,
                            jnp.repeat(x[..., -1:], n, -1)], -1)
  if boundary == "zeros":
    z = jnp.zeros(x.shape[:-1] + (n,), x.dtype)
    return jnp.concatenate([z, x, z], -1)
  raise ValueError(f"Unknown boundary option '{boundary}', must be one of: "
                   "['even', 'odd', 'constant', 'zeros', None]")


def _spectral_helper(x, y, fs, window, nperseg, noverlap, nfft, detrend_type,
                     return_onesided, scaling, axis, mode, boundary=None, padded=False):
  jnp = _jnp()
  if mode not in ("psd", "stft"):
    raise ValueError(f"Unknown value for mode {mode}, must be one of: ('psd', 'stft')")
  same = y is None
  x = util.ensure_arraylike("spectral", x)
  if same:
    (x,) = util.promote_dtypes_inexact(x)
    y = x
  else:
    y = util.ensure_arraylike("spectral", y)
    x, y = util.promote_dtypes_inexact(x, y)
    if mode != "psd":
      raise ValueError("two-argument mode is available only when mode=='psd'")
    if x.ndim != y.ndim:
      raise ValueError("two-arguments must have the same rank ({x.ndim} vs {y.ndim}).")
    x, y = jnp.broadcast_arrays(x, y)  # as JAX: broadcast the non-axis dims
  axis = util.canonicalize_axis(axis, x.ndim)
  real_dtype = jnp.finfo(x.dtype).dtype if x.dtype.kind == "c" else x.dtype
  complex_out = x.dtype.kind == "c" or y.dtype.kind == "c"
  n = x.shape[axis]
  if nperseg is not None:
    nperseg = int(nperseg)
    if nperseg < 1:
      raise ValueError("nperseg must be a positive integer")
  if isinstance(window, (str, tuple)):
    nperseg = 256 if nperseg is None else nperseg
    if nperseg > n:
      nperseg = n
  else:
    nperseg = jnp.asarray(window).shape[0] if nperseg is None else nperseg
  win = _window(window, nperseg, real_dtype)
  nfft = nperseg if nfft is None else int(nfft)
  if nfft < nperseg:
    raise ValueError("nfft must be greater than or equal to nperseg.")
  noverlap = nperseg // 2 if noverlap is None else int(noverlap)
  if noverlap >= nperseg:
    raise ValueError("noverlap must be less than nperseg.")
  step = nperseg - noverlap
  x = jnp.moveaxis(x, axis, -1)
  y = jnp.moveaxis(y, axis, -1)
  if boundary is not None:
    x = _extend(x, nperseg // 2, boundary)
    y = x if same else _extend(y, nperseg // 2, boundary)
  if padded:
    extra = (-(x.shape[-1] - nperseg) % step) % nperseg
    pad = [(0, 0)] * (x.ndim - 1) + [(0, extra)]
    x = jnp.pad(x, pad)
    y = x if same else jnp.pad(y, pad)
  if return_onesided and complex_out:
    return_onesided = False
  if scaling == "density":
    scale = 1.0 / (fs * jnp.sum(win * win))
  elif scaling == "spectrum":
    scale = 1.0 / jnp.sum(win) ** 2
  else:
    raise ValueError(f"Unknown scaling: {scaling!r}")
  if mode == "stft":
    scale = jnp.sqrt(scale)

  def detrend_fn(d):
    if detrend_type is False or detrend_type is None:
      return d
    if callable(detrend_type):
      return detrend_type(d)
    return detrend(d, -1, type=detrend_type)

  def segments(v):
    nseg = (v.shape[-1] - nperseg) // step + 1
    idx = np.arange(nseg)[:, None] * step + np.arange(nperseg)[None, :]
    seg = v[..., idx]                                     # (..., nseg, nperseg)
    seg = detrend_fn(seg) * win
    if return_onesided:
      return jnp.fft.rfft(seg, n=nfft, axis=-1)
    return jnp.fft.fft(seg, n=nfft, axis=-1)
  fx = segments(x)                                        # (..., nseg, nfreq)
  if mode == "stft":
    result = fx * scale
  else:
    fy = fx if same else segments(y)
    result = jnp.conj(fx) * fy * scale
    if return_onesided:  # double the bins that stand for two frequencies
      if nfft % 2:
        result = jnp.concatenate([result[..., :1], result[..., 1:] * 2], -1)
      else:
        result = jnp.concatenate([result[..., :1], result[..., 1:-1] * 2, result[..., -1:]],
                                 -1)
    if same:
      result = jnp.real(result)
  static_fs = isinstance(fs, (int, float))
  if return_onesided:
    freqs = np.fft.rfftfreq(nfft, 1 / fs) if static_fs else jnp.fft.rfftfreq(nfft, 1 / fs)
  else:
    freqs = np.fft.fftfreq(nfft, 1 / fs) if static_fs else jnp.fft.fftfreq(nfft, 1 / fs)
  times = np.arange(nperseg / 2, x.shape[-1] - nperseg / 2 + 1, step)
  if boundary is not None:
    times = times - nperseg / 2
  times = times / fs if static_fs else jnp.asarray(times) / fs
  # SciPy's layout: frequencies where the data axis was, segments last
  result = jnp.moveaxis(result, -1, axis)
  return jnp.asarray(freqs, real_dtype), jnp.asarray(times, real_dtype), result


def stft(x, fs=1.0, window="hann", nperseg=256, noverlap=None, nfft=None, detrend=False,
         return_onesided=True, boundary="zeros", padded=True, axis=-1):
  """Implementation of scipy.signal.stft: (frequencies, segment times, Zxx)."""
  return _spectral_helper(x, None, fs, window, nperseg, noverlap, nfft, detrend,
                          return_onesided, "spectrum", axis, "stft", boundary, padded)


def csd(x, y, fs=1.0, window="hann", nperseg=None, noverlap=None, nfft=None,
        detrend="constant", return_onesided=True, scaling="density", axis=-1,
        average="mean"):
  """Implementation of scipy.signal.csd: cross power spectral density by Welch's method."""
  jnp = _jnp()
  freqs, _, pxy = _spectral_helper(x, y, fs, window, nperseg, noverlap, nfft, detrend,
                                   return_onesided, scaling, axis, "psd")
  if y is not None:
    pxy = pxy + 0j
  if pxy.ndim >= 2 and pxy.size > 0:
    if pxy.shape[-1] > 1:
      if average == "median":
        raise NotImplementedError("The 'median' averaging method is not implemented.")
      if average != "mean":
        raise ValueError(f"average must be 'median' or 'mean', got {average}")
      pxy = jnp.mean(pxy, axis=-1)
    else:
      pxy = jnp.reshape(pxy, pxy.shape[:-1])
  return freqs, pxy


def welch(x, fs=1.0, window="hann", nperseg=None, noverlap=None, nfft=None,
          detrend="constant", return_onesided=True, scaling="density", axis=-1,
          average="mean"):
  """Implementation of scipy.signal.welch: power spectral density by Welch's method."""
  freqs, pxx = csd(x, None, fs, window, nperseg, noverlap, nfft, detrend, return_onesided,
                   scaling, axis, average)
  return freqs, lax.real(pxx) if pxx.dtype.kind == "c" else pxx


def _overlap_and_add(x, step):
  """Sum overlapping frames x[..., nframes, frame_len] placed every `step` samples."""
  jnp = _jnp()
  nframes, flen = x.shape[-2], x.shape[-1]
  out_len = (nframes - 1) * step + flen
  idx = (np.arange(nframes)[:, None] * step + np.arange(flen)[None, :]).ravel()
  flat = jnp.reshape(x, x.shape[:-2] + (nframes * flen,))
  out = jnp.zeros(x.shape[:-2] + (out_len,), x.dtype)
  return out.at[..., idx].add(flat)


def istft(Zxx, fs=1.0, window="hann", nperseg=None, noverlap=None, nfft=None,
          input_onesided=True, boundary=True, time_axis=-1, freq_axis=-2):
  """Implementation of scipy.signal.istft: (times, x) by windowed overlap-add."""
  jnp = _jnp()
  Zxx = util.ensure_arraylike("istft", Zxx)
  if Zxx.ndim < 2:
    raise ValueError("Input stft must be at least 2d!")
  time_axis = util.canonicalize_axis(time_axis, Zxx.ndim)
  freq_axis = util.canonicalize_axis(freq_axis, Zxx.ndim)
  if freq_axis == time_axis:
    raise ValueError("Must specify differing time and frequency axes!")
  nseg = Zxx.shape[time_axis]
  if input_onesided:
    n_default = 2 * (Zxx.shape[freq_axis] - 1)
  else:
    n_default = Zxx.shape[freq_axis]
  if nperseg is None:
    nperseg = n_default
  else:
    nperseg = int(nperseg)
    if nperseg < 1:
      raise ValueError("nperseg must be a positive integer")
  if nfft is None:
    if input_onesided and nperseg == n_default + 1:
      nfft = nperseg
    else:
      nfft = n_default
  elif nfft < nperseg:
    raise ValueError("nfft must be greater than or equal to nperseg.")
  nfft = int(nfft)
  noverlap = nperseg // 2 if noverlap is None else int(noverlap)
  if noverlap >= nperseg:
    raise ValueError("noverlap must be less than nperseg.")
  step = nperseg - noverlap
  (Zxx,) = util.promote_dtypes_complex(Zxx)
  real_dtype = jnp.finfo(Zxx.dtype).dtype
  # (..., nseg, nfreq)
  Z = jnp.moveaxis(Zxx, (freq_axis, time_axis), (-1, -2))
  if input_onesided:
    xs = jnp.fft.irfft(Z, n=nfft, axis=-1)
  else:
    xs = jnp.real(jnp.fft.ifft(Z, n=nfft, axis=-1)) if True else None
  xs = xs[..., :nperseg]
  win = _window(window, nperseg, real_dtype)
  xs = xs * win * jnp.sum(win)
  x = _overlap_and_add(xs, step)
  norm = _overlap_and_add(jnp.broadcast_to(win * win, (nseg, nperseg)), step)
  if boundary:
    x = x[..., nperseg // 2:-(nperseg // 2)]
    norm = norm[..., nperseg // 2:-(nperseg // 2)]
  x = x / jnp.where(norm > 1e-10, norm, 1.0)
  if input_onesided:
    x = x.astype(real_dtype)
  times = jnp.arange(x.shape[-1], dtype=real_dtype) / fs
  if x.ndim > 1 and time_axis != Zxx.ndim - 1:
    if freq_axis < time_axis:
      time_axis -= 1
    x = jnp.moveaxis(x, -1, time_axis)
  return times, x


del operator
