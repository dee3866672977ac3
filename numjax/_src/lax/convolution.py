"""Convolutions: `conv_general_dilated_p` and its wrappers (conv, conv_with_general_padding,
conv_transpose, conv_general_dilated_patches, conv_general_dilated_local), dimension-number
and padding helpers.

The primitive's impl works in the canonical layout (lhs N,C,spatial; rhs O,I,spatial) on a
strided window view of the padded, dilated input: either im2col + one batched matmul, or,
when the output has fewer features than the input (the lhs-transpose of a conv, say), one
matmul of the whole padded input against all kernel taps followed by shifted adds. Both are
vectorised: the only Python loop runs over kernel taps.

Conv is bilinear: its jvp is conv(g, rhs) + conv(lhs, g), and the transposes are again
convolutions (flipped kernel, swapped batch/feature roles, strides and dilations trading
places), as XLA/JAX derive them. The batching rule folds the vmapped axis into the batch
dimension, the output features, or the feature/batch groups.
"""
from __future__ import annotations

import math
import operator
from typing import NamedTuple, Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.core import Primitive, ShapedArray
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters.ad import Zero
from numjax._src.lax import lax as _lax
from numjax._src.lax.reductions import checked_eager

_bool = np.dtype(bool)


# ---------------------------------------------------------------------------------------
# Dimension numbers, padding, precision

class ConvDimensionNumbers(NamedTuple):
  """(lhs_spec, rhs_spec, out_spec): each a tuple of dimension indices ordered
  (batch, feature, spatial...) for lhs/out and (out feature, in feature, spatial...) for rhs."""
  lhs_spec: Sequence[int]
  rhs_spec: Sequence[int]
  out_spec: Sequence[int]


ConvGeneralDilatedDimensionNumbers = object  # tuple of strings | ConvDimensionNumbers | None


def conv_general_permutations(dimension_numbers):
  """The (lhs, rhs, out) permutations to the canonical layout for string specs."""
  lhs_spec, rhs_spec, out_spec = dimension_numbers
  pairs = (("N", "C"), ("O", "I"), ("N", "C"))
  for i, (a, b) in enumerate(pairs):
    spec = dimension_numbers[i]
    if not spec.count(a) == spec.count(b) == 1:
      raise TypeError(f"convolution dimension_numbers[{i}] must contain the characters "
                      f"'{a}' and '{b}' exactly once, got {spec}.")
    if len(spec) != len(set(spec)):
      raise TypeError(f"convolution dimension_numbers[{i}] cannot have duplicate "
                      f"characters, got {spec}.")
  spatial = [set(s) - set(p) for s, p in zip(dimension_numbers, pairs)]
  if not spatial[0] == spatial[1] == spatial[2]:
    raise TypeError("convolution dimension_numbers elements must each have the same set of "
                    f"spatial characters, got {tuple(dimension_numbers)}.")

  def perm(spec, pair):
    sp = [i for i, c in enumerate(spec) if c not in pair]
    # spatial dims are ordered as they appear in the rhs spec (window_strides follow it)
    sp.sort(key=lambda i: rhs_spec.index(spec[i]))
    return (spec.index(pair[0]), spec.index(pair[1])) + tuple(sp)
  return tuple(perm(s, p) for s, p in zip(dimension_numbers, pairs))


def conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers) -> ConvDimensionNumbers:
  """`dimension_numbers` (None, three strings, or ConvDimensionNumbers) as ConvDimensionNumbers."""
  if isinstance(dimension_numbers, ConvDimensionNumbers):
    return ConvDimensionNumbers(*(tuple(int(i) for i in s) for s in dimension_numbers))
  if len(lhs_shape) != len(rhs_shape):
    raise TypeError(f"convolution requires lhs and rhs ndim to be equal, got "
                    f"{len(lhs_shape)} and {len(rhs_shape)}.")
  if dimension_numbers is None:
    iota = tuple(range(len(lhs_shape)))
    return ConvDimensionNumbers(iota, iota, iota)
  if isinstance(dimension_numbers, (list, tuple)):
    if len(dimension_numbers) != 3:
      raise TypeError(f"convolution dimension_numbers list/tuple must be length 3, got "
                      f"{len(dimension_numbers)}.")
    if not all(isinstance(s, str) for s in dimension_numbers):
      raise TypeError(f"convolution dimension_numbers elements must be strings, got "
                      f"{tuple(type(s) for s in dimension_numbers)}.")
    for i, s in enumerate(dimension_numbers):
      if len(s) != len(lhs_shape):
        raise TypeError(f"convolution dimension_numbers[{i}] must have len equal to the ndim "
                        f"of lhs and rhs, got {len(s)} for lhs and rhs shapes "
                        f"{tuple(lhs_shape)} and {tuple(rhs_shape)}.")
    return ConvDimensionNumbers(*conv_general_permutations(dimension_numbers))
  raise TypeError(f"convolution dimension_numbers must be tuple/list or None, got "
                  f"{type(dimension_numbers)}.")


def _ceil_div(a, b):
  return -(-a // b)


def padtype_to_pads(in_shape, window_shape, window_strides, padding):
  """Explicit (low, high) pads per spatial dim for 'SAME', 'SAME_LOWER' or 'VALID'."""
  if not isinstance(padding, str):
    raise TypeError(f"Unknown padding type: {padding}.")
  kind = padding.upper()
  if kind not in ("SAME", "SAME_LOWER", "VALID"):
    raise RuntimeError(f"Unrecognized padding type: expected 'VALID', 'SAME', or "
                       f"'SAME_LOWER', got {padding}.")
  if kind == "VALID":
    return [(0, 0)] * len(in_shape)
  pads = []
  for d, w, s in zip(in_shape, window_shape, window_strides):
    total = builtin_max((_ceil_div(int(d), int(s)) - 1) * int(s) + int(w) - int(d), 0)
    small, big = total // 2, total - total // 2
    pads.append((small, big) if kind == "SAME" else (big, small))
  return pads


builtin_max = max


def _dilate_dim(d, r):
  return 0 if d == 0 else 1 + r * (d - 1)


def _dilate_shape(shape, dilation):
  return tuple(_dilate_dim(int(d), int(r)) for d, r in zip(shape, dilation))


def _stride_dim(d, w, s):
  return builtin_max((d - w) // s + 1, 0)


class _PrecisionPair(tuple):
  """A canonical (lhs, rhs) precision pair; prints as JAX prints it."""
  __slots__ = ()

  def _pp_param(self):
    return f"(Precision.{self[0].name}, Precision.{self[1].name})"


_PRECISION_NAMES = {"default": "DEFAULT", "bfloat16": "DEFAULT", "fastest": "DEFAULT",
                    "high": "HIGH", "bfloat16_3x": "HIGH", "tensorfloat32": "HIGH",
                    "highest": "HIGHEST", "float32": "HIGHEST"}


def canonicalize_precision(precision):
  """None, a Precision, a string or a pair of them -> None or a pair of Precisions."""
  P = _lax.Precision
  if precision is None:
    return None
  if isinstance(precision, str) and precision.lower() in _PRECISION_NAMES:
    p = P[_PRECISION_NAMES[precision.lower()]]
    return _PrecisionPair((p, p))
  if isinstance(precision, P):
    return _PrecisionPair((precision, precision))
  if isinstance(precision, (list, tuple)) and len(precision) == 2:
    out = []
    for p in precision:
      if isinstance(p, str) and p.lower() in _PRECISION_NAMES:
        p = P[_PRECISION_NAMES[p.lower()]]
      if not isinstance(p, P):
        break
      out.append(p)
    else:
      return _PrecisionPair(out)
  raise ValueError("Precision argument must be one of:\n- None,\n- a string in "
                   f"{list(_PRECISION_NAMES)},\n- a lax.Precision value,\n- a tuple of two "
                   f"lax.Precision values or strings;\nbut got {precision}.")


# ---------------------------------------------------------------------------------------
# NumPy kernels (raw buffers)

def pad_and_dilate(x, padding, dilation, fill, nlead=0, keep_layout=False):
  """x with its trailing axes (after `nlead` leading ones) dilated (interior fill) and
  padded (low/high, negative crops), as one allocation; x itself when nothing changes.
  keep_layout: the new buffer keeps x's memory order of axes (a channels-last input stays
  channels-last in memory behind a channels-first view), so later reshapes stay free."""
  sp = x.shape[nlead:]
  if all(r == 1 for r in dilation) and all(lo == 0 and hi == 0 for lo, hi in padding):
    return x
  out_sp = [_dilate_dim(d, r) + lo + hi for d, r, (lo, hi) in zip(sp, dilation, padding)]
  if any(n < 0 for n in out_sp):
    raise ValueError(f"Negative padding is larger than the size of the corresponding "
                     f"dimension: got padding={tuple(padding)} for shape {sp}")
  shape = x.shape[:nlead] + tuple(out_sp)
  order = _memory_order(x) if keep_layout else None
  phys = shape if order is None else tuple(shape[i] for i in order)
  # zeros come from calloc (pages touched once, by the copy below)
  out = np.zeros(phys, x.dtype) if fill == 0 else np.full(phys, fill, dtype=x.dtype)
  if order is not None:
    out = out.transpose(np.argsort(order))
  src, dst = [slice(None)] * nlead, [slice(None)] * nlead
  for d, r, (lo, hi), n in zip(sp, dilation, padding, out_sp):
    # element i lands at i*r + lo; keep those with 0 <= i*r + lo < n
    i0 = _ceil_div(-lo, r) if lo < 0 else 0
    i1 = builtin_max(i0, builtin_min(d, _ceil_div(n - lo, r)))
    src.append(slice(i0, i1))
    dst.append(slice(i0 * r + lo, (i1 - 1) * r + lo + 1 if i1 > i0 else i0 * r + lo, r))
  if all(s.stop > s.start for s in src[nlead:]):
    out[tuple(dst)] = x[tuple(src)]
  return out


builtin_min = min


def _memory_order(x):
  """x's axes from outermost to innermost in memory (None when already C order); axes of
  size 1 keep their logical place."""
  if x.flags.c_contiguous:
    return None
  order = sorted(range(x.ndim), key=lambda i: (-abs(x.strides[i]) if x.shape[i] > 1 else 0, i))
  if any(x.shape[i] == 1 for i in range(x.ndim)):
    # put size-1 axes back at their logical position among the others
    big = [i for i in order if x.shape[i] > 1]
    order, it = [], iter(big)
    for i in range(x.ndim):
      order.append(i if x.shape[i] == 1 else next(it))
  return None if order == list(range(x.ndim)) else tuple(order)


def window_view(x, window, strides, window_dilation, nlead=0):
  """A read-only strided view of shape lead + out_spatial + window over x's trailing axes."""
  sp = x.shape[nlead:]
  outs = [_stride_dim(d, _dilate_dim(w, r), s)
          for d, w, r, s in zip(sp, window, window_dilation, strides)]
  st = x.strides[nlead:]
  shape = x.shape[:nlead] + tuple(outs) + tuple(window)
  strides_ = (x.strides[:nlead] + tuple(a * s for a, s in zip(st, strides))
              + tuple(a * r for a, r in zip(st, window_dilation)))
  return as_strided(x, shape, strides_, writeable=False)


def _compute_dtype(dt):
  if dt == np.float16 or dt in _lax._lowp:
    return np.dtype(np.float32)
  if dt == _bool:
    return np.dtype(np.int32)
  return dt


def _free_reshape(a, shape):
  """a.reshape(shape) when that is a view, else None."""
  try:
    return np.reshape(a, shape, copy=False)
  except ValueError:
    return None


# OpenBLAS runs a GEMM on several threads once m*n*k passes 4 * 65536. On a small, busy
# machine those threads spin-wait for a core and a 0.1 ms product can take 10 ms, so
# products below _BLAS_SPLIT_MAX are split into row blocks under that threshold: NumPy's
# stacked matmul then calls one single-threaded GEMM per block.
_BLAS_ONE_THREAD = 4 * 65536
_BLAS_SPLIT_MAX = 1 << 27


def _matmul(a, b, out=None):
  """(G, M, K) @ (G, K, N) -> (G, M, N) (into `out` if given), evaluated in row blocks (or,
  for a short, wide product, contraction blocks summed afterwards) small enough for
  OpenBLAS to stay on one thread (see _BLAS_ONE_THREAD)."""
  g, m, kk = a.shape
  nn = b.shape[2]
  work = m * kk * nn
  if work <= _BLAS_ONE_THREAD or work > _BLAS_SPLIT_MAX or a.dtype.kind not in "fc":
    return np.matmul(a, b, out=out)
  rows = _BLAS_ONE_THREAD // builtin_max(kk * nn, 1)
  if rows >= 64:
    nb = m // rows
    if out is None:
      out = np.empty((g, m, nn), np.result_type(a.dtype, b.dtype))
    body = nb * rows
    np.matmul(a[:, :body].reshape(g, nb, rows, kk), b[:, None],
              out=out[:, :body].reshape(g, nb, rows, nn))
    if body < m:
      np.matmul(a[:, body:], b, out=out[:, body:])
    return out
  depth = _BLAS_ONE_THREAD // builtin_max(m * nn, 1)
  if depth >= 64:
    nb = kk // depth
    body = nb * depth
    parts = np.matmul(a[:, :, :body].reshape(g, m, nb, depth).transpose(0, 2, 1, 3),
                      b[:, :body].reshape(g, nb, depth, nn))       # G, nb, M, N
    out = parts.sum(1, out=out)
    if body < kk:
      out += np.matmul(a[:, :, body:], b[:, body:])
    return out
  return np.matmul(a, b, out=out)


def _run_score(arr, axis):
  """How well a copy whose innermost loop runs along `axis` of the view `arr` streams:
  the run length, discounted when the source elements are not adjacent."""
  n = arr.shape[axis]
  return n if abs(arr.strides[axis]) == arr.itemsize else n / 4


def _conv_canonical(x, w, strides, padding, lhs_dil, rhs_dil, groups):
  """x: (N, C, *spatial) and w: (O, Cg, *window), views in any memory layout -> the
  output (N, *out_spatial, O) (features last: the matmul's natural layout, so
  channels-last outputs need no transpose)."""
  n, c = x.shape[:2]
  o, cg = w.shape[:2]
  ksz = w.shape[2:]
  nsp = len(ksz)
  og = o // groups
  k = math.prod(ksz)
  # bound the scratch (im2col columns or tap products) by evaluating batch chunks
  per_example = _scratch_per_example(x.shape[2:], ksz, strides, padding, lhs_dil, rhs_dil, c, o)
  chunk = builtin_max(1, _SCRATCH_ELEMS // builtin_max(per_example, 1))
  if n > chunk:
    parts = [_conv_canonical(x[i:i + chunk], w, strides, padding, lhs_dil, rhs_dil, groups)
             for i in range(0, n, chunk)]
    return np.concatenate(parts, 0)
  xd_sp = [_dilate_dim(d, r) for d, r in zip(x.shape[2:], lhs_dil)]
  out_sp = tuple(_stride_dim(d + lo + hi, _dilate_dim(kk, r), s)
                 for d, (lo, hi), kk, r, s in zip(xd_sp, padding, ksz, rhs_dil, strides))
  p = math.prod(out_sp)
  if n == 0 or o == 0 or p == 0:
    return np.zeros((n,) + out_sp + (o,), x.dtype)
  # Cost (elements materialised) of the two strategies: im2col copies N*P*C*K inputs;
  # the tap-wise path writes N*M*K*O products of the (dilated, unpadded) input.
  # The tap-wise paths read the input undilated when every lhs-dilated dim has stride 1
  # (transposed convs, the input gradient of a strided conv): the zeros are skipped.
  if all(ld == 1 or st == 1 for ld, st in zip(lhs_dil, strides)):
    xt, tap_dil, m_taps = x, lhs_dil, math.prod(x.shape[2:])
  else:
    xt, tap_dil, m_taps = None, (1,) * nsp, math.prod(xd_sp)
  tap_path = None
  if groups > 1 and cg * og <= _GROUPED_TAPS_MAX and k > 0:
    # depthwise-like (few channels per group): one multiply-add pass per tap and channel
    # pair beats G tiny GEMMs over a K-fold im2col copy
    tap_path = _conv_grouped_taps
  elif n * m_taps * k * o < n * p * c * k and c * k > 0:
    tap_path = _conv_by_taps
  if tap_path is not None:
    if xt is None:
      xt = pad_and_dilate(x, ((0, 0),) * nsp, lhs_dil, 0, nlead=2, keep_layout=True)
    return tap_path(xt, w, strides, padding, rhs_dil, tap_dil, groups, out_sp)
  # the padded copy keeps the input's layout (channels-last stays channels-last, so the
  # columns copy reads runs of channels), unless the batch axis is the dense one (the
  # weight gradient of an NHWC conv has C as its batch): then C order reads spatial runs
  keep = not (n > 1 and abs(x.strides[0]) == x.itemsize)
  xp = pad_and_dilate(x, padding, lhs_dil, 0, nlead=2, keep_layout=keep)
  # The contraction runs over (window taps, in features) in whichever order makes the
  # kernel matrix (G, ., Og) a free view of w (HWIO kernels: taps-major; a cotangent used
  # as the kernel of the weight gradient: features-major); the im2col copy follows suit.
  wg = w.reshape((groups, og, cg) + ksz)
  sp_axes = tuple(range(3, 3 + nsp))
  wm = _free_reshape(wg.transpose((0,) + sp_axes + (2, 1)), (groups, k * cg, og))
  taps_major = wm is not None
  if wm is None:
    wm = _free_reshape(wg.transpose((0, 2) + sp_axes + (1,)), (groups, cg * k, og))
    if wm is None:  # neither is free: copy the kernel, taps-major (channels-last columns)
      taps_major = True
      wm = np.ascontiguousarray(wg.transpose((0,) + sp_axes + (2, 1))).reshape(
          groups, k * cg, og)
  win = window_view(xp, ksz, strides, rhs_dil, nlead=2)          # N, C, *out, *K
  win = win.reshape((n, groups, cg) + out_sp + ksz)
  outs = tuple(range(3, 3 + nsp))
  kax = tuple(range(3 + nsp, 3 + 2 * nsp))
  contraction = kax + (2,) if taps_major else (2,) + kax
  # im2col as rows (G, N*P, C*K) or as columns (G, C*K, N*P) (then read transposed by
  # the GEMM), whichever copy has the longer, denser innermost run (NHWC inputs with few
  # channels: columns, whose runs are image rows)
  as_columns = nsp and _run_score(win, outs[-1]) > _run_score(win, contraction[-1])
  res = _matmul(_im2col(win, as_columns, contraction, outs), wm)     # G, N*P, Og
  if groups == 1:
    return res.reshape((n,) + out_sp + (o,))
  return res.transpose(1, 0, 2).reshape((n,) + out_sp + (o,))


def _im2col(win, as_columns, contraction, outs):
  """The window view (N, G, Cg, *out, *K) copied as rows (G, N*P, Cg*K), or as columns
  (G, Cg*K, N*P) returned transposed (the GEMM reads either)."""
  n, groups = win.shape[:2]
  if as_columns:
    src = win.transpose((1,) + contraction + (0,) + outs)
  else:
    src = win.transpose((1, 0) + outs + contraction)
  cols = np.ascontiguousarray(src)
  if as_columns:
    return cols.reshape(groups, -1, n * math.prod(src.shape[-len(outs):])).transpose(0, 2, 1)
  return cols.reshape(groups, n * math.prod(src.shape[2:2 + len(outs)]), -1)


_SCRATCH_ELEMS = 1 << 23  # 32 MB of float32 scratch per batch chunk


def _scratch_per_example(sp, ksz, strides, padding, lhs_dil, rhs_dil, c, o):
  """Elements of scratch one example needs (the smaller of the two strategies)."""
  padded = [_dilate_dim(d, r) + lo + hi for d, r, (lo, hi) in zip(sp, lhs_dil, padding)]
  out_sp = [_stride_dim(d, _dilate_dim(kk, r), st)
            for d, kk, r, st in zip(padded, ksz, rhs_dil, strides)]
  k = math.prod(ksz)
  return builtin_min(math.prod(out_sp) * c * k, math.prod(padded) * k * o)


_GROUPED_TAPS_MAX = 8


def _tap_slices(tap, rhs_dil, strides, padding, lhs_dil, sp, out_sp):
  """(dst, src) slices of the output positions one kernel tap reaches and the input
  elements they read, or None when the tap reaches none. Output q reads position
  q*s + j*r - lo of the dilated input (virtual padding; negative padding crops); with lhs
  dilation ld (then s == 1) only the positions i*ld hold input element i."""
  src, dst = [], []
  for j, r, s, (lo, _), ld, d, q in zip(tap, rhs_dil, strides, padding, lhs_dil, sp, out_sp):
    off = j * r - lo
    if ld == 1:
      q0 = builtin_max(0, _ceil_div(-off, s))
      q1 = builtin_min(q, (d - 1 - off) // s + 1)
      if q1 <= q0:
        return None
      dst.append(slice(q0, q1))
      src.append(slice(q0 * s + off, (q1 - 1) * s + off + 1, s))
    else:  # s == 1: q = i*ld - off for the input elements i with 0 <= q < Q
      i0 = builtin_max(0, _ceil_div(off, ld))
      i1 = builtin_min(d, (q - 1 + off) // ld + 1)
      if i1 <= i0:
        return None
      dst.append(slice(i0 * ld - off, (i1 - 1) * ld - off + 1, ld))
      src.append(slice(i0, i1))
  return tuple(dst), tuple(src)


def _conv_grouped_taps(x, w, strides, padding, rhs_dil, lhs_dil, groups, out_sp):
  """Grouped conv with few channels per group (depthwise convs and their input gradient):
  for each tap and (in, out) channel pair of a group, one vectorised multiply-add of the
  tap's input window (all groups at once, channels-last) into the output."""
  n = x.shape[0]
  o, cg = w.shape[:2]
  ksz = w.shape[2:]
  og = o // groups
  sp = x.shape[2:]
  xl = np.moveaxis(x, 1, -1)
  xl = xl.reshape(xl.shape[:-1] + (groups, cg))            # N, *S, G, Cg (a view)
  wt = np.moveaxis(w.reshape((groups, og, cg, -1)), -1, 0)   # K, G, Og, Cg
  dt = np.result_type(x.dtype, w.dtype)
  out = np.zeros((n,) + out_sp + (groups, og), dt)
  tmp = np.empty((n,) + out_sp + (groups,), dt)
  lead = (slice(None),)
  for t, tap in enumerate(np.ndindex(*ksz)):
    sl = _tap_slices(tap, rhs_dil, strides, padding, lhs_dil, sp, out_sp)
    if sl is None:
      continue
    dst, src = sl
    tv = tmp[lead + dst]
    for ci in range(cg):
      xs = xl[lead + src + (slice(None), ci)]
      for oi in range(og):
        np.multiply(xs, wt[t, :, oi, ci], out=tv)
        ov = out[lead + dst + (slice(None), oi)]
        np.add(ov, tv, out=ov)
  return out.reshape((n,) + out_sp + (o,))


def _conv_by_taps(x, w, strides, padding, rhs_dil, lhs_dil, groups, out_sp):
  """Output-side evaluation: Y = x @ w over all taps at once (x unpadded: the padding is
  virtual), then each tap's shifted, strided window of Y is added to the output positions
  it reaches. Cheap when O is small next to C*(window size), as in the input gradient."""
  n, c = x.shape[:2]
  o, cg = w.shape[:2]
  ksz = w.shape[2:]
  nsp = len(ksz)
  og = o // groups
  sp = x.shape[2:]
  m = math.prod(sp)
  # the input as channels-last rows (free when it is stored channels-last)
  xl = np.moveaxis(x, 1, -1)
  xr = _free_reshape(xl, (n * m, groups, cg))
  if xr is None:
    xr = np.ascontiguousarray(xl).reshape(n * m, groups, cg)
  xg = xr.transpose(1, 0, 2)                               # G, N*M, Cg (a view)
  wk = w.reshape((groups, og, cg) + ksz)
  wk = wk.transpose((0, 2) + tuple(range(3, 3 + nsp)) + (1,)).reshape(groups, cg, -1)
  y = _matmul(xg, wk)                                      # G, N*M, K*Og
  y = y.reshape((groups, n) + sp + (-1, og))
  out = np.zeros((groups, n) + out_sp + (og,), y.dtype)
  both = (slice(None), slice(None))
  for t, tap in enumerate(np.ndindex(*ksz)):
    sl = _tap_slices(tap, rhs_dil, strides, padding, lhs_dil, sp, out_sp)
    if sl is not None:
      out[both + sl[0] + (slice(None),)] += y[both + sl[1] + (t, slice(None))]
  if groups == 1:
    return out.reshape((n,) + out_sp + (o,))
  return np.moveaxis(out, 0, -2).reshape((n,) + out_sp + (o,))


def _conv_impl(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
               dimension_numbers, feature_group_count, batch_group_count, precision=None,
               preferred_element_type=None, out_sharding=None):
  lspec, rspec, ospec = dimension_numbers
  out_dt = np.dtype(preferred_element_type) if preferred_element_type is not None \
      else lhs.dtype
  cdt = _compute_dtype(out_dt if out_dt != _bool else lhs.dtype)
  x = np.transpose(lhs, lspec).astype(cdt, copy=False)
  w = np.transpose(rhs, rspec).astype(cdt, copy=False)
  groups = feature_group_count
  if batch_group_count > 1:
    # batch groups become feature groups: lhs batch (B*Nb) -> features (B*C), group-major
    b = batch_group_count
    n, c = x.shape[:2]
    x = x.reshape((b, n // b, c) + x.shape[2:]).swapaxes(0, 1)
    x = x.reshape((n // b, b * c) + x.shape[3:])
    groups = b
  out = _conv_canonical(x, w, tuple(window_strides), tuple(padding), tuple(lhs_dilation),
                        tuple(rhs_dilation), groups)               # N, *spatial, O
  nd = out.ndim
  perm = [0] * nd
  perm[ospec[0]], perm[ospec[1]] = 0, nd - 1
  for i, d in enumerate(ospec[2:]):
    perm[d] = 1 + i
  out = np.transpose(out, perm)  # a view; free for channels-last outputs
  if out_dt == _bool:
    return out != 0
  return out.astype(out_dt, copy=False)


# ---------------------------------------------------------------------------------------
# Shape rule

def conv_shape_tuple(lhs_shape, rhs_shape, strides, pads, batch_group_count=1):
  """Output shape of a conv in canonical order (lhs N,C,...; rhs O,I,...)."""
  if isinstance(pads, str):
    pads = padtype_to_pads(lhs_shape[2:], rhs_shape[2:], strides, pads)
  if len(pads) != len(lhs_shape) - 2:
    raise TypeError(f"Wrong number of explicit pads for convolution: expected "
                    f"{len(lhs_shape) - 2}, got {len(pads)}.")
  padded = [int(d) + lo + hi for d, (lo, hi) in zip(lhs_shape[2:], pads)]
  if any(d < 0 for d in padded):
    raise ValueError(f"Negative padding is larger than the size of the corresponding "
                     f"dimension: got padding={tuple(tuple(p) for p in pads)} for "
                     f"lhs_shape[2:]={tuple(lhs_shape[2:])}")
  space = tuple(_stride_dim(d, int(k), int(s)) for d, k, s in zip(padded, rhs_shape[2:], strides))
  n = int(lhs_shape[0]) // batch_group_count if batch_group_count > 1 else int(lhs_shape[0])
  return (n, int(rhs_shape[0])) + space


def conv_general_shape_tuple(lhs_shape, rhs_shape, window_strides, padding,
                             dimension_numbers):
  lp, rp, op = conv_general_permutations(dimension_numbers)
  out = conv_shape_tuple(np.take(lhs_shape, lp), np.take(rhs_shape, rp), window_strides,
                         padding)
  return tuple(int(d) for d in np.take(out, np.argsort(op)))


def conv_transpose_shape_tuple(lhs_shape, rhs_shape, window_strides, padding,
                               dimension_numbers):
  lp, rp, op = conv_general_permutations(dimension_numbers)
  lt, rt = np.take(lhs_shape, lp), np.take(rhs_shape, rp)
  if isinstance(padding, str):
    padding = [_conv_transpose_padding(k, s, padding) for k, s in zip(rt[2:], window_strides)]
  pad = [sum(p) for p in padding]
  space = [(i - 1) * s - k + 2 + p for i, k, s, p in zip(lt[2:], rt[2:], window_strides, pad)]
  out = (int(lt[0]), int(rt[0])) + tuple(int(d) for d in space)
  return tuple(int(d) for d in np.take(out, np.argsort(op)))


def _conv_abstract(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
                   dimension_numbers, feature_group_count, batch_group_count, precision=None,
                   preferred_element_type=None, out_sharding=None):
  lspec, rspec, ospec = dimension_numbers
  if lhs.ndim != rhs.ndim:
    raise ValueError(f"conv_general_dilated lhs and rhs must have the same number of "
                     f"dimensions, but got {lhs.shape} and {rhs.shape}.")
  if lhs.dtype != rhs.dtype:
    raise TypeError(f"lax.conv_general_dilated requires arguments to have the same dtypes, "
                    f"got {lhs.dtype}, {rhs.dtype}.")
  fg, bg = feature_group_count, batch_group_count
  if not fg > 0:
    raise ValueError(f"conv_general_dilated feature_group_count must be a positive integer, "
                     f"got {fg}.")
  c = lhs.shape[lspec[1]]
  if c % fg:
    raise ValueError(f"conv_general_dilated feature_group_count must divide lhs feature "
                     f"dimension size, but {fg} does not divide {c}.")
  if c // fg != rhs.shape[rspec[1]]:
    raise ValueError(f"conv_general_dilated lhs feature dimension size divided by "
                     f"feature_group_count must equal the rhs input feature dimension size, "
                     f"but {c} // {fg} != {rhs.shape[rspec[1]]}.")
  o = rhs.shape[rspec[0]]
  if o % fg:
    raise ValueError(f"conv_general_dilated rhs output feature dimension size must be a "
                     f"multiple of feature_group_count, but {o} is not a multiple of {fg}.")
  if not bg > 0:
    raise ValueError(f"conv_general_dilated batch_group_count must be a positive integer, "
                     f"got {bg}.")
  nb = lhs.shape[lspec[0]]
  if bg > 1 and nb % bg:
    raise ValueError(f"conv_general_dilated batch_group_count must divide lhs batch "
                     f"dimension size, but {bg} does not divide {nb}.")
  if o % bg:
    raise ValueError(f"conv_general_dilated rhs output feature dimension size must be a "
                     f"multiple of batch_group_count, but {o} is not a multiple of {bg}.")
  if bg > 1 and fg > 1:
    raise ValueError(f"At most one of batch_group_count and feature_group_count may be > 1, "
                     f"got batch_group_count={bg} and feature_group_count={fg}")
  if len(rspec) - 2 != len(window_strides):
    raise ValueError(f"conv_general_dilated window and window_strides must have the same "
                     f"number of dimensions, but got {len(rspec) - 2} and "
                     f"{len(window_strides)}")
  for name, v in (("window_strides", window_strides), ("lhs_dilation", lhs_dilation),
                  ("rhs_dilation", rhs_dilation)):
    if len(v) != len(rspec) - 2:
      raise ValueError(f"conv_general_dilated {name} must have {len(rspec) - 2} entries, "
                       f"got {tuple(v)}.")
    if any(int(s) <= 0 for s in v):
      raise ValueError(f"conv_general_dilated {name} must be positive, got {tuple(v)}.")
  lt = _dilate_shape(np.take(lhs.shape, lspec), (1, 1) + tuple(lhs_dilation))
  rt = _dilate_shape(np.take(rhs.shape, rspec), (1, 1) + tuple(rhs_dilation))
  out_t = conv_shape_tuple(lt, rt, window_strides, padding, bg)
  shape = tuple(int(d) for d in np.take(out_t, np.argsort(ospec)))
  dt = lhs.dtype if preferred_element_type is None else np.dtype(preferred_element_type)
  return ShapedArray(shape, dt, lhs.weak_type and rhs.weak_type)


conv_general_dilated_p = Primitive("conv_general_dilated")
conv_general_dilated_p.impl = _conv_impl
conv_general_dilated_p.abstract_eval = _conv_abstract
conv_general_dilated_p.numpy_tier_only = True  # im2col + BLAS matmul; no C template
checked_eager(conv_general_dilated_p)


# ---------------------------------------------------------------------------------------
# Derivatives: bilinear. Transposes are convolutions again.

def _spec_t(spec):
  return (spec[1], spec[0]) + tuple(spec[2:])


def _reshape_axis_into(src, dst, x):
  """Merge axis `src` into axis `dst` (numbered after removing src) as its major part."""
  shape = core.get_aval(x).shape
  perm = [i for i in range(len(shape)) if i != src]
  perm.insert(dst, src)
  new = [s for i, s in enumerate(shape) if i != src]
  new[dst] *= shape[src]
  return _lax.reshape(x, tuple(new), tuple(perm))


def _reshape_axis_out_of(src, size1, x):
  """Split axis `src` into (size1, rest), size1 major."""
  shape = list(core.get_aval(x).shape)
  shape[src:src + 1] = [size1, shape[src] // size1]
  return _lax.reshape(x, tuple(shape))


def _vjp_lhs_padding(in_shape, window, strides, out_shape, padding, lhs_dil, rhs_dil):
  ld = _dilate_shape(in_shape, lhs_dil)
  rd = _dilate_shape(window, rhs_dil)
  od = _dilate_shape(out_shape, strides)
  before = [r - lo - 1 for r, (lo, _) in zip(rd, padding)]
  after = [l + r - 1 - o - b for l, r, o, b in zip(ld, rd, od, before)]
  return tuple(zip(before, after))


def _vjp_rhs_padding(in_shape, window, strides, out_shape, padding, lhs_dil, rhs_dil):
  if len(in_shape) == 0:
    return ()
  ld = _dilate_shape(in_shape, lhs_dil)
  rd = _dilate_shape(window, rhs_dil)
  od = _dilate_shape(out_shape, strides)
  lo = [p[0] for p in padding]
  hi = [o - l + r - p - 1 for o, l, r, p in zip(od, ld, rd, lo)]
  return tuple(zip(lo, hi))


def _conv_transpose_lhs(g, lhs_aval, rhs, *, window_strides, padding, lhs_dilation,
                        rhs_dilation, dimension_numbers, feature_group_count,
                        batch_group_count, precision, preferred_element_type, out_sharding):
  lspec, rspec, ospec = dimension_numbers
  rhs_shape = core.get_aval(rhs).shape
  fg = feature_group_count
  if fg > 1:  # the group axis moves from the kernel's out features to its in features
    rhs = _reshape_axis_out_of(rspec[0], fg, rhs)
    rhs = _reshape_axis_into(rspec[0], rspec[1], rhs)
  elif batch_group_count > 1:
    rhs = _reshape_axis_out_of(rspec[0], batch_group_count, rhs)
    rhs = _reshape_axis_into(rspec[0], rspec[1], rhs)
    fg = batch_group_count
  dn = ConvDimensionNumbers(tuple(ospec), _spec_t(rspec), tuple(lspec))
  pads = _vjp_lhs_padding(np.take(lhs_aval.shape, lspec[2:]), np.take(rhs_shape, rspec[2:]),
                          window_strides, np.take(core.get_aval(g).shape, ospec[2:]), padding,
                          lhs_dilation, rhs_dilation)
  w = _rev(rhs, tuple(rspec[2:]))
  if core.get_aval(g).dtype != core.get_aval(w).dtype:
    w = _lax.convert_element_type(w, core.get_aval(g).dtype)
  out = conv_general_dilated(g, w, window_strides=lhs_dilation, padding=pads,
                             lhs_dilation=window_strides, rhs_dilation=rhs_dilation,
                             dimension_numbers=dn, feature_group_count=fg,
                             batch_group_count=1, precision=precision,
                             preferred_element_type=preferred_element_type)
  if out.dtype != lhs_aval.dtype:
    out = _lax.convert_element_type(out, lhs_aval.dtype)
  if batch_group_count > 1:
    out = _reshape_axis_out_of(lspec[1], batch_group_count, out)
    out = _reshape_axis_into(lspec[1], lspec[0], out)
  return out


def _conv_transpose_rhs(g, lhs, rhs_aval, *, window_strides, padding, lhs_dilation,
                        rhs_dilation, dimension_numbers, feature_group_count,
                        batch_group_count, precision, preferred_element_type, out_sharding):
  lspec, rspec, ospec = dimension_numbers
  if core.get_aval(g).size == 0:
    return Zero(rhs_aval)
  fg, bg = feature_group_count, batch_group_count
  if bg > 1:
    fg, bg = bg, 1
  elif fg > 1:
    fg, bg = 1, fg
  dn = ConvDimensionNumbers(_spec_t(lspec), _spec_t(ospec), _spec_t(rspec))
  pads = _vjp_rhs_padding(np.take(core.get_aval(lhs).shape, lspec[2:]),
                          np.take(rhs_aval.shape, rspec[2:]), window_strides,
                          np.take(core.get_aval(g).shape, ospec[2:]), padding, lhs_dilation,
                          rhs_dilation)
  if core.get_aval(g).dtype != core.get_aval(lhs).dtype:
    lhs = _lax.convert_element_type(lhs, core.get_aval(g).dtype)
  out = conv_general_dilated(lhs, g, window_strides=rhs_dilation, padding=pads,
                             lhs_dilation=lhs_dilation, rhs_dilation=window_strides,
                             dimension_numbers=dn, feature_group_count=fg,
                             batch_group_count=bg, precision=precision,
                             preferred_element_type=preferred_element_type)
  if out.dtype != rhs_aval.dtype:
    out = _lax.convert_element_type(out, rhs_aval.dtype)
  return out


def _conv_transpose(ct, lhs, rhs, **params):
  if ad.is_undefined_primal(lhs):
    if type(ct) is Zero:
      return [Zero(lhs.aval), None]
    return [_conv_transpose_lhs(ct, lhs.aval, rhs, **params), None]
  if type(ct) is Zero:
    return [None, Zero(rhs.aval)]
  return [None, _conv_transpose_rhs(ct, lhs, rhs.aval, **params)]


ad.defjvp(conv_general_dilated_p,
          lambda g, lhs, rhs, **params: conv_general_dilated_p.bind(g, rhs, **params),
          lambda g, lhs, rhs, **params: conv_general_dilated_p.bind(lhs, g, **params))
ad.primitive_transposes[conv_general_dilated_p] = _conv_transpose


def _rev(x, dims):
  from numjax._src.lax.slicing import rev
  return rev(x, dims)


# ---------------------------------------------------------------------------------------
# Batching: fold the vmapped axis into the batch dim, the out features, or the groups

def _conv_batch(vals, dims, **params):
  lhs, rhs = vals
  ld, rd = dims
  lspec, rspec, ospec = params["dimension_numbers"]
  fg, bg = params["feature_group_count"], params["batch_group_count"]
  bind = conv_general_dilated_p.bind
  if ld is not None and rd is not None:
    size = core.get_aval(lhs).shape[ld]
    if bg > 1:
      new_lhs = _reshape_axis_into(ld, lspec[0], lhs)
      params = dict(params, batch_group_count=bg * size)
    else:
      new_lhs = _reshape_axis_into(ld, lspec[1], lhs)
      params = dict(params, feature_group_count=fg * size)
    new_rhs = _reshape_axis_into(rd, rspec[0], rhs)
    out = bind(new_lhs, new_rhs, **params)
    return _reshape_axis_out_of(ospec[1], size, out), ospec[1]
  if ld is not None:
    size = core.get_aval(lhs).shape[ld]
    if bg == 1:
      out = bind(_reshape_axis_into(ld, lspec[0], lhs), rhs, **params)
      return _reshape_axis_out_of(ospec[0], size, out), ospec[0]
    # keep the batch groups outermost: (groups, vmapped, rest of the batch)
    x = _reshape_axis_out_of(lspec[0] + int(ld <= lspec[0]), bg, lhs)
    x = _reshape_axis_into(ld + int(lspec[0] < ld), lspec[0] + 1, x)
    x = _reshape_axis_into(lspec[0], lspec[0], x)
    out = bind(x, rhs, **params)
    return _reshape_axis_out_of(ospec[0], size, out), ospec[0]
  size = core.get_aval(rhs).shape[rd]
  if fg == 1 and bg == 1:
    out = bind(lhs, _reshape_axis_into(rd, rspec[0], rhs), **params)
    return _reshape_axis_out_of(ospec[1], size, out), ospec[1]
  # groups outermost in the kernel's out features, then the vmapped axis, then the rest
  groups = fg if fg > 1 else bg
  w = _reshape_axis_out_of(rspec[0] + int(rd <= rspec[0]), groups, rhs)
  w = _reshape_axis_into(rd + int(rspec[0] < rd), rspec[0] + 1, w)
  w = _reshape_axis_into(rspec[0], rspec[0], w)
  out = bind(lhs, w, **params)
  out = _reshape_axis_out_of(ospec[1], groups, out)
  out = _reshape_axis_out_of(ospec[1] + 1, size, out)
  out = _reshape_axis_into(ospec[1], ospec[1] + 1, out)
  return out, ospec[1]


batching.primitive_batchers[conv_general_dilated_p] = _conv_batch


# ---------------------------------------------------------------------------------------
# Wrappers

def _check_seq(name, v, n):
  v = tuple(operator.index(core.concrete_or_error(operator.index, s, name)) for s in v)
  return v


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None,
                         rhs_dilation=None, dimension_numbers=None, feature_group_count=1,
                         batch_group_count=1, precision=None, preferred_element_type=None,
                         out_sharding=None):
  """lax.conv_general_dilated: general n-d convolution (a cross-correlation, as XLA's Conv)
  with strides, padding ('SAME', 'SAME_LOWER', 'VALID' or (lo, hi) pairs), lhs (transposed
  conv) and rhs (atrous) dilation, dimension numbers and feature/batch groups."""
  lhs, rhs = _lax.asarray(lhs), _lax.asarray(rhs)
  dnums = conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
  nsp = lhs.ndim - 2
  if lhs_dilation is None:
    lhs_dilation = (1,) * nsp
  elif isinstance(padding, str) and any(d != 1 for d in lhs_dilation):
    raise ValueError("String padding is not implemented for transposed convolution using "
                     "this op. Please either exactly specify the required padding or use "
                     "conv_transpose.")
  if rhs_dilation is None:
    rhs_dilation = (1,) * nsp
  window_strides = _check_seq("window_strides", window_strides, nsp)
  lhs_dilation = _check_seq("lhs_dilation", lhs_dilation, nsp)
  rhs_dilation = _check_seq("rhs_dilation", rhs_dilation, nsp)
  if isinstance(padding, str):
    rshape = np.take(rhs.shape, dnums.rhs_spec)[2:]
    eff = [_dilate_dim(int(k), r) for k, r in zip(rshape, rhs_dilation)]
    padding = padtype_to_pads(np.take(lhs.shape, dnums.lhs_spec)[2:], eff, window_strides,
                              padding)
  try:
    padding = tuple((operator.index(lo), operator.index(hi)) for lo, hi in padding)
  except (ValueError, TypeError) as e:
    raise ValueError("padding argument to conv_general_dilated should be a string or a "
                     f"sequence of (low, high) pairs, got {padding}") from e
  pet = None if preferred_element_type is None else _dtypes.canonicalize_dtype(
      preferred_element_type)
  return conv_general_dilated_p.bind(
      lhs, rhs, window_strides=window_strides, padding=padding,
      lhs_dilation=lhs_dilation, rhs_dilation=rhs_dilation, dimension_numbers=dnums,
      feature_group_count=operator.index(feature_group_count),
      batch_group_count=operator.index(batch_group_count),
      precision=canonicalize_precision(precision), preferred_element_type=pet,
      out_sharding=None)


def conv(lhs, rhs, window_strides, padding, precision=None, preferred_element_type=None):
  """lax.conv: conv_general_dilated in the NCHW/OIHW layout with 'SAME'/'VALID' padding."""
  return conv_general_dilated(lhs, rhs, window_strides, padding, precision=precision,
                              preferred_element_type=preferred_element_type)


def conv_with_general_padding(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation,
                              precision=None, preferred_element_type=None):
  """lax.conv_with_general_padding: conv_general_dilated in the NCHW/OIHW layout."""
  return conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=lhs_dilation,
                              rhs_dilation=rhs_dilation, precision=precision,
                              preferred_element_type=preferred_element_type)


def _conv_transpose_padding(k, s, padding):
  """(before, after) padding of one dim of a transposed conv (k: dilated kernel size)."""
  if padding == "SAME":
    total = k + s - 2
    before = k - 1 if s > k - 1 else _ceil_div(total, 2)
  elif padding == "VALID":
    total = k + s - 2 + builtin_max(k - s, 0)
    before = k - 1
  elif isinstance(padding, tuple):
    pads = tuple(k - p - 1 for p in padding)
    before, total = pads[0], sum(pads)
  else:
    raise ValueError(f"Invalid padding mode: {padding}")
  return before, total - before


def conv_transpose(lhs, rhs, strides, padding, rhs_dilation=None, dimension_numbers=None,
                   transpose_kernel=False, precision=None, preferred_element_type=None,
                   use_consistent_padding=False):
  """lax.conv_transpose: a fractionally strided conv (lhs dilation = strides), with the
  'SAME'/'VALID' paddings of Keras' Conv2DTranspose; the kernel is not flipped unless
  transpose_kernel=True. Default layouts: NC/IO, NHC/HIO, NHWC/HWIO, NHWDC/HWDIO."""
  lhs, rhs = _lax.asarray(lhs), _lax.asarray(rhs)
  nd = lhs.ndim
  if nd != rhs.ndim or nd < 2:
    raise ValueError(f"conv_transpose requires lhs and rhs of equal rank >= 2, got "
                     f"{lhs.shape} and {rhs.shape}.")
  if dimension_numbers is None:
    defaults = {2: ("NC", "IO", "NC"), 3: ("NHC", "HIO", "NHC"), 4: ("NHWC", "HWIO", "NHWC"),
                5: ("NHWDC", "HWDIO", "NHWDC")}
    if nd not in defaults:
      raise ValueError("No 4+ dimensional dimension_number defaults.")
    dimension_numbers = defaults[nd]
  dn = conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
  k_sdims = np.take(rhs.shape, dn.rhs_spec)[2:]
  if rhs_dilation is None:
    rhs_dilation = (1,) * (nd - 2)
  if use_consistent_padding or (isinstance(padding, str) and padding in ("SAME", "VALID")):
    eff = [_dilate_dim(int(k), int(r)) for k, r in zip(k_sdims, rhs_dilation)]
    rep = [padding] * len(strides) if isinstance(padding, str) else \
        [tuple(p) for p in padding]
    pads = tuple(_conv_transpose_padding(k, int(s), p) for k, s, p in zip(eff, strides, rep))
  else:
    pads = padding
  if transpose_kernel:
    rhs = _rev(rhs, tuple(dn.rhs_spec[2:]))
    perm = list(range(nd))
    perm[dn.rhs_spec[0]], perm[dn.rhs_spec[1]] = perm[dn.rhs_spec[1]], perm[dn.rhs_spec[0]]
    rhs = _lax.transpose(rhs, tuple(perm))
  one = (1,) * (nd - 2)
  return conv_general_dilated(lhs, rhs, one, pads, strides, rhs_dilation, dn,
                              precision=precision,
                              preferred_element_type=preferred_element_type)


def conv_general_dilated_patches(lhs, filter_shape, window_strides, padding, lhs_dilation=None,
                                 rhs_dilation=None, dimension_numbers=None, precision=None,
                                 preferred_element_type=None):
  """lax.conv_general_dilated_patches: the patches (im2col) a conv would see, as the
  feature dimension of the output: C * prod(filter_shape) features, channel-major."""
  lhs = _lax.asarray(lhs)
  n_sp = len(filter_shape)
  lhs_dn, rhs_dn, out_dn = conv_dimension_numbers(lhs.shape, (1, 1) + tuple(filter_shape),
                                                  dimension_numbers)
  c = lhs.shape[lhs_dn[1]]
  k = math.prod(filter_shape)
  # one-hot kernel: out feature (c, tap) reads input feature c at that tap
  eye = np.eye(k, dtype=np.dtype(lhs.dtype) if lhs.dtype != _bool else np.float32)
  eye = eye.reshape((k, 1) + tuple(filter_shape))
  eye = np.tile(eye, (c,) + (1,) * (n_sp + 1))
  rhs = _lax.convert_element_type(_lax.asarray(eye), lhs.dtype)
  rhs = _lax.transpose(rhs, tuple(int(i) for i in np.argsort(rhs_dn)))
  if precision is not None:
    precision = (canonicalize_precision(precision)[0], _lax.Precision.DEFAULT)
  return conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation,
                              ConvDimensionNumbers(lhs_dn, rhs_dn, out_dn),
                              feature_group_count=c, precision=precision,
                              preferred_element_type=preferred_element_type)


def conv_general_dilated_local(lhs, rhs, window_strides, padding, filter_shape,
                               lhs_dilation=None, rhs_dilation=None, dimension_numbers=None,
                               precision=None):
  """lax.conv_general_dilated_local: an unshared (locally connected) conv: each output
  position has its own kernel. rhs has shape (O, C * prod(filter_shape), *out_spatial) in
  the rhs_spec layout."""
  lhs, rhs = _lax.asarray(lhs), _lax.asarray(rhs)
  c_precision = canonicalize_precision(precision)
  lhs_precision = c_precision[0] if c_precision is not None else None
  patches = conv_general_dilated_patches(lhs, filter_shape, window_strides, padding,
                                         lhs_dilation, rhs_dilation, dimension_numbers,
                                         precision=lhs_precision)
  lhs_spec, rhs_spec, out_spec = conv_dimension_numbers(lhs.shape, (1, 1) + tuple(filter_shape),
                                                        dimension_numbers)
  # contract the patch features with rhs's in features; output positions are batch dims
  lhs_b = list(out_spec[2:])
  rhs_b = list(rhs_spec[2:])
  order = sorted(range(len(lhs_b)), key=lambda i: lhs_b[i])
  rhs_b = [rhs_b[i] for i in order]
  lhs_b = sorted(lhs_b)
  dn = (((out_spec[1],), (rhs_spec[1],)), (tuple(lhs_b), tuple(rhs_b)))
  out = _lax.dot_general(patches, rhs, dn, precision=precision)
  # out: (*spatial, batch, O); move the last two axes to out_spec[0], out_spec[1]
  nd = core.get_aval(out).ndim
  rest = list(range(nd - 2))
  perm = [None] * nd
  perm[out_spec[0]], perm[out_spec[1]] = nd - 2, nd - 1
  it = iter(rest)
  perm = [p if p is not None else next(it) for p in perm]
  return _lax.transpose(out, tuple(perm))
