"""numjax.image: resize and scale_and_translate (separable resampling, as jax.image).

Each spatial dimension is resampled by a (input_size, output_size) weight matrix built from
the kernel at the sample positions (half-pixel centres; antialiasing widens the kernel by
the downscale factor), then contracted with the image along that dimension. Everything is
jnp, so resizing is differentiable with respect to the image, the scale and the
translation.
"""
from __future__ import annotations

import enum
import math

import numpy as np

from numjax._src import core
from numjax._src import dtypes
from numjax._src.lax import lax
from numjax._src.numpy import creation
from numjax._src.numpy import lax_numpy
from numjax._src.numpy import reductions
from numjax._src.numpy import ufuncs
from numjax._src.numpy import util


class ResizeMethod(enum.Enum):
  """Image resampling methods."""
  NEAREST = 0
  LINEAR = 1
  LANCZOS3 = 2
  LANCZOS5 = 3
  CUBIC = 4
  CUBIC_PYTORCH = 5
  AREA = 6

  @staticmethod
  def from_string(s: str):
    names = {"nearest": "NEAREST", "linear": "LINEAR", "bilinear": "LINEAR",
             "trilinear": "LINEAR", "triangle": "LINEAR", "lanczos3": "LANCZOS3",
             "lanczos5": "LANCZOS5", "cubic": "CUBIC", "bicubic": "CUBIC",
             "tricubic": "CUBIC", "cubic-pytorch": "CUBIC_PYTORCH",
             "bicubic-pytorch": "CUBIC_PYTORCH", "area": "AREA"}
    if s not in names:
      raise ValueError(f'Unknown resize method "{s}"')
    return ResizeMethod[names[s]]


def _where(c, x, y):
  return lax_numpy.where(c, x, y)


def _lanczos(radius):
  def kernel(x):
    y = ufuncs.multiply(radius, ufuncs.multiply(ufuncs.sin(ufuncs.multiply(np.pi, x)),
                                                ufuncs.sin(ufuncs.multiply(np.pi / radius, x))))
    denom = _where(ufuncs.not_equal(x, 0), ufuncs.multiply(np.pi ** 2, ufuncs.square(x)), 1.)
    out = _where(ufuncs.greater(x, 1e-3), ufuncs.divide(y, denom), 1.)
    return _where(ufuncs.greater(x, radius), 0., out)
  return kernel


def _keys_cubic(x, a=-0.5):
  """Keys' cubic convolution kernel (a = -0.5; OpenCV/PyTorch use a = -0.75)."""
  near = ufuncs.add(ufuncs.multiply(ufuncs.multiply(
      ufuncs.subtract(ufuncs.multiply(a + 2., x), a + 3.), x), x), 1.)
  far = ufuncs.subtract(ufuncs.multiply(ufuncs.add(ufuncs.multiply(
      ufuncs.subtract(ufuncs.multiply(a, x), 5. * a), x), 8. * a), x), 4. * a)
  out = _where(ufuncs.greater_equal(x, 1.), far, near)
  return _where(ufuncs.greater_equal(x, 2.), 0., out)


def _triangle(x):
  return ufuncs.maximum(0., ufuncs.subtract(1., ufuncs.abs(x)))


_AREA = object()
_KERNELS = {
    ResizeMethod.LINEAR: (1, _triangle),
    ResizeMethod.LANCZOS3: (3, _lanczos(3.)),
    ResizeMethod.LANCZOS5: (5, _lanczos(5.)),
    ResizeMethod.CUBIC: (2, _keys_cubic),
    ResizeMethod.CUBIC_PYTORCH: (2, lambda x: _keys_cubic(x, -0.75)),
    ResizeMethod.AREA: (1, _AREA),
}

_EPS_SUM = 1000. * float(np.finfo(np.float32).eps)


def _normalise(w):
  total = reductions.sum(w, axis=0, keepdims=True)
  return _where(ufuncs.greater(ufuncs.abs(total), _EPS_SUM),
                ufuncs.divide(w, _where(ufuncs.not_equal(total, 0), total, 1)), 0.)


def _weight_matrix(n_in, n_out, scale, translation, kernel, antialias, edge_padding, radius):
  """(n_in, n_out) resampling weights for one dimension."""
  dtype = dtypes.result_type(scale, translation)
  inv = ufuncs.divide(1., scale)
  kscale = ufuncs.maximum(inv, 1.) if antialias else 1.
  # output pixel centre -> input coordinate (inverse warp, half-pixel centres)
  out_idx = creation.arange(n_out, dtype=dtype)
  sample = ufuncs.subtract(ufuncs.subtract(ufuncs.multiply(ufuncs.add(out_idx, 0.5), inv),
                                           ufuncs.multiply(translation, inv)), 0.5)
  if edge_padding:
    if antialias:
      s = core.concrete_or_error(float, scale, "Antialiasing with edge padding requires a "
                                 "static scale.")
      pad = math.ceil(radius * max(1. / s, 1.))
    else:
      pad = radius
  else:
    pad = 0
  in_idx = creation.arange(-pad, n_in + pad, dtype=dtype)
  if kernel is _AREA:
    left = ufuncs.subtract(ufuncs.multiply(out_idx, inv), ufuncs.multiply(translation, inv))
    right = ufuncs.add(left, inv)
    lj = creation.arange(n_in, dtype=dtype)
    w = ufuncs.maximum(0., ufuncs.subtract(
        ufuncs.minimum(right[None, :], ufuncs.add(lj, 1.)[:, None]),
        ufuncs.maximum(left[None, :], lj[:, None])))
  else:
    dist = ufuncs.abs(ufuncs.subtract(sample[None, :], in_idx[:, None]))
    w = kernel(ufuncs.divide(dist, kscale))
  if edge_padding:
    # entries outside the image fold onto the edge pixels
    src = lax_numpy.clip(in_idx.astype(np.int32), 0, n_in - 1)
    w = lax.full((n_in, n_out), 0, w.dtype).at[src].add(w)
    return _normalise(w)
  w = _normalise(w)
  inside = ufuncs.logical_and(ufuncs.greater_equal(sample, -0.5),
                              ufuncs.less_equal(sample, n_in - 0.5))
  return _where(inside[None, :], w, 0.)


def _contract(x, w, axis, precision):
  from numjax._src.numpy.tensor_contractions import tensordot
  y = tensordot(x, w, axes=([axis], [0]), precision=precision)  # new axis last
  return lax_numpy.moveaxis(y, -1, axis)


def _scale_and_translate(x, shape, spatial_dims, scale, translation, kernel, antialias,
                         precision, edge_padding=False, radius=None):
  for i, d in enumerate(spatial_dims):
    d = util.canonicalize_axis(d, x.ndim)
    w = _weight_matrix(x.shape[d], shape[d], scale[i], translation[i], kernel, antialias,
                       edge_padding, radius)
    x = _contract(x, w.astype(x.dtype), d, precision)
  return x


def _method(method):
  return ResizeMethod.from_string(method) if isinstance(method, str) else ResizeMethod(method)


def _shape(shape):
  return tuple(core.concrete_dim_or_error(d, "The shape argument must be static.")
               for d in shape)


def scale_and_translate(image, shape, spatial_dims, scale, translation, method,
                        antialias=True, precision=lax.Precision.HIGHEST):
  """Resample `image` to `shape` under the map x -> x * scale + translation of the given
  spatial dimensions (half-pixel centres; samples outside the input are zero)."""
  shape = _shape(shape)
  image = util.ensure_arraylike("scale_and_translate", image)
  if len(shape) != image.ndim:
    raise ValueError("shape must have length equal to the number of dimensions of x; "
                     f" {shape} vs {image.shape}")
  method = _method(method)
  if method == ResizeMethod.NEAREST:
    raise ValueError("Nearest neighbor resampling is not currently supported for "
                     "scale_and_translate.")
  if method == ResizeMethod.CUBIC_PYTORCH and antialias:
    method = ResizeMethod.CUBIC
  radius, kernel = _KERNELS[method]
  edge = method == ResizeMethod.CUBIC_PYTORCH and not antialias
  image, = util.promote_dtypes_inexact(image)
  scale, translation = util.promote_dtypes_inexact(scale, translation)
  if len(spatial_dims) == 0:
    return image
  return _scale_and_translate(image, shape, spatial_dims, scale, translation, kernel,
                              antialias, precision, edge, radius)


def _resize_nearest(x, shape):
  for d in range(x.ndim):
    m, n = x.shape[d], shape[d]
    if m == n:
      continue
    # the input pixel whose cell contains the output pixel's centre
    src = np.floor((np.arange(n, dtype=np.float32) + 0.5) * np.float32(m) / np.float32(n))
    x = lax_numpy._take_static(x, np.minimum(src.astype(np.int32), m - 1), d)
  return x


def resize(image, shape, method, antialias=True, precision=lax.Precision.HIGHEST):
  """Resize `image` to `shape` (every dimension whose size changes is resampled).
  Methods: nearest, linear, cubic, cubic-pytorch, lanczos3, lanczos5, area."""
  shape = _shape(shape)
  image = util.ensure_arraylike("resize", image)
  if len(shape) != image.ndim:
    raise ValueError("shape must have length equal to the number of dimensions of x; "
                     f" {shape} vs {image.shape}")
  method = _method(method)
  if method == ResizeMethod.NEAREST:
    return _resize_nearest(image, shape)
  image, = util.promote_dtypes_inexact(image)
  dims = tuple(i for i in range(len(shape)) if image.shape[i] != shape[i])
  if method == ResizeMethod.CUBIC_PYTORCH and antialias:
    method = ResizeMethod.CUBIC
  radius, kernel = _KERNELS[method]
  scale = [1.0 if shape[d] == 0 else shape[d] / image.shape[d] for d in dims]
  edge = method == ResizeMethod.CUBIC_PYTORCH and not antialias
  return _scale_and_translate(image, shape, dims, scale, [0.] * len(dims), kernel, antialias,
                              precision, edge, radius)
