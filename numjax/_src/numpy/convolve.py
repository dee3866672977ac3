"""jnp.convolve and jnp.correlate: 1-d convolutions as one lax.conv_general_dilated."""
from __future__ import annotations

from numjax._src.lax import lax
from numjax._src.lax import slicing
from numjax._src.lax.convolution import conv_general_dilated
from numjax._src.numpy import util


def _conv1d(x, y, mode, op, precision, preferred_element_type):
  x, y = util.ensure_arraylike(op, x, y)
  if x.ndim != 1 or y.ndim != 1:
    raise ValueError(f"{op}() only support 1-dimensional inputs.")
  if preferred_element_type is None:
    # NumPy's convolutions compute in an inexact type
    x, y = util.promote_dtypes_inexact(x, y)
  else:
    x, y = util.promote_dtypes(x, y)
  if x.shape[0] == 0 or y.shape[0] == 0:
    raise ValueError(f"{op}: inputs cannot be empty, got shapes {x.shape} and {y.shape}.")
  reverse_out = False
  if op == "correlate":
    if y.dtype.kind == "c":
      y = lax.conj(y)
    if x.shape[0] < y.shape[0]:
      x, y, reverse_out = y, x, True
  else:
    if x.shape[0] < y.shape[0]:
      x, y = y, x
    y = slicing.rev(y, (0,))
  n = y.shape[0]
  if mode == "valid":
    padding = [(0, 0)]
  elif mode == "same":
    padding = [(n // 2, n - n // 2 - 1)]
  elif mode == "full":
    padding = [(n - 1, n - 1)]
  else:
    raise ValueError("mode must be one of ['full', 'same', 'valid']")
  out = conv_general_dilated(lax.reshape(x, (1, 1, x.shape[0])),
                             lax.reshape(y, (1, 1, n)), (1,), padding, precision=precision,
                             preferred_element_type=preferred_element_type)
  out = lax.reshape(out, (out.shape[2],))
  return slicing.rev(out, (0,)) if reverse_out else out


def convolve(a, v, mode="full", *, precision=None, preferred_element_type=None):
  """Implementation of numpy.convolve (1-d; inputs promoted to an inexact dtype unless
  preferred_element_type is given)."""
  return _conv1d(a, v, mode, "convolve", precision, preferred_element_type)


def correlate(a, v, mode="valid", *, precision=None, preferred_element_type=None):
  """Implementation of numpy.correlate (1-d; v is conjugated; default mode 'valid')."""
  return _conv1d(a, v, mode, "correlate", precision, preferred_element_type)
