"""jnp index helpers: mgrid/ogrid/r_/c_/s_/index_exp, ix_, diagonal and triangle index
sets, ravel_multi_index/unravel_index, and the functional forms of NumPy's in-place
updates (fill_diagonal, put, put_along_axis, place: `inplace=False` is required, as JAX).

Index sets of static shapes are computed on static shapes (NumPy on shapes only); anything
touching array data is lax (arange/linspace, divmod, scatter through `.at[]`).
"""
from __future__ import annotations

import math
import operator

import numpy as np

from numjax._src import core
from numjax._src import dtypes
from numjax._src.lax import lax
from numjax._src.numpy import creation
from numjax._src.numpy import lax_numpy
from numjax._src.numpy import ufuncs
from numjax._src.numpy import util


def _int():
  return dtypes.canonicalize_dtype(dtypes.int_)


def _static_int(x, what):
  return core.concrete_or_error(operator.index, x, f"The {what} argument must be static.")


# ---------------------------------------------------------------------------------------
# mgrid / ogrid / r_ / c_ / s_ / index_exp

def _slice_values(s, name):
  """The 1-D array a slice denotes in mgrid/r_: arange, or linspace for a complex step
  (its magnitude is the number of points, the stop included)."""
  for v in (s.start, s.stop, s.step):
    if v is not None:
      core.concrete_or_error(lambda z: z, v,
                             f"slice entries of jnp.{name} must be static.")
  start = 0 if s.start is None else s.start
  step = 1 if s.step is None else s.step
  if isinstance(step, complex) or np.iscomplexobj(step):
    num = int(abs(step))
    return creation.linspace(start, s.stop, num, endpoint=True)
  return creation.arange(start, s.stop, step)


class _Grid:
  def __init__(self, sparse, name):
    self.sparse, self.name = sparse, name

  def __getitem__(self, key):
    if isinstance(key, slice):
      return _slice_values(key, self.name)
    pieces = [_slice_values(k, self.name) for k in key]
    pieces = util.promote_dtypes(*pieces)
    if not pieces:
      return [] if self.sparse else creation.arange(0)
    grids = creation.meshgrid(*pieces, indexing="ij", sparse=self.sparse)
    return list(grids) if self.sparse else lax_numpy.stack(grids, 0)


mgrid = _Grid(False, "mgrid")
mgrid.__doc__ = "Implementation of numpy.mgrid: a dense (stacked) grid of index ranges."
ogrid = _Grid(True, "ogrid")
ogrid.__doc__ = "Implementation of numpy.ogrid: an open (broadcastable) grid of index ranges."


class _AxisConcatenator:
  """r_/c_: translate slices to ranges and concatenate along an axis.

  A leading string "axis[,ndmin[,trans1d]]" (or 'r'/'c' for a row/column result) controls
  the concatenation, as in NumPy."""

  def __init__(self, axis, ndmin, trans1d, name):
    self.axis, self.ndmin, self.trans1d, self.name = axis, ndmin, trans1d, name

  def __getitem__(self, key):
    key = key if isinstance(key, tuple) else (key,)
    axis, ndmin, trans1d, matrix = self.axis, self.ndmin, self.trans1d, None
    items = list(key)
    if items and isinstance(items[0], str):
      directive = items.pop(0)
      if directive in ("r", "c"):
        matrix = directive
      else:
        parts = directive.split(",")
        try:
          vals = [int(p) for p in parts]
        except ValueError:
          raise ValueError(f"could not understand directive {directive!r}") from None
        axis = vals[0]
        if len(vals) > 1:
          ndmin = vals[1]
        if len(vals) > 2:
          trans1d = vals[2]
        if len(vals) > 3:
          raise ValueError(f"too many directives in {directive!r}")
    arrays = []
    for item in items:
      if isinstance(item, slice):
        arr = _slice_values(item, self.name)
        arr = _promote_ndmin(arr, ndmin, trans1d)
      elif isinstance(item, str):
        raise ValueError("string directive must be placed at the beginning")
      else:
        arr = util._asarray(creation.asarray(item) if isinstance(item, (list, tuple))
                            else item)
        arr = _promote_ndmin(arr, ndmin, trans1d if arr.ndim else -1)
      arrays.append(arr)
    if not arrays:
      return creation.array([], dtype=dtypes.canonicalize_dtype(np.float64))
    out = lax_numpy.concatenate(arrays, axis=axis)
    if matrix == "r" and out.ndim == 1:
      out = lax.reshape(out, (1, out.shape[0]))
    elif matrix == "c" and out.ndim == 1:
      out = lax.reshape(out, (out.shape[0], 1))
    return out

  def __len__(self):
    return 0


def _promote_ndmin(arr, ndmin, trans1d):
  """NumPy's array(x, ndmin=ndmin) and then trans1d: where the original axes go."""
  if arr.ndim >= ndmin:
    return arr
  k = ndmin - arr.ndim
  out = lax.reshape(arr, (1,) * k + arr.shape)
  if trans1d != -1 and arr.ndim:
    k1 = trans1d if trans1d >= 0 else trans1d + k + 1
    axes = list(range(ndmin))
    perm = axes[:k1] + axes[k:] + axes[k1:k]
    out = lax.transpose(out, tuple(perm))
  return out


r_ = _AxisConcatenator(0, 1, -1, "r_")
r_.__doc__ = "Implementation of numpy.r_: concatenate slices, scalars and arrays (axis 0)."
c_ = _AxisConcatenator(-1, 2, 0, "c_")
c_.__doc__ = "Implementation of numpy.c_: concatenate as columns (the last axis, 2-D)."
s_ = np.s_
index_exp = np.index_exp


def ix_(*args):
  """Implementation of numpy.ix_: open-mesh index arrays (boolean arrays unsupported)."""
  args = util.ensure_arraylike_tuple("ix_", args)
  n = len(args)
  out = []
  for i, a in enumerate(args):
    if a.ndim != 1:
      raise ValueError(f"Arguments to jax.numpy.ix_ must be 1-dimensional, got shape "
                       f"{a.shape}")
    if a.dtype == np.bool_:
      raise NotImplementedError("Boolean arguments to jax.numpy.ix_ are not implemented")
    shape = [1] * n
    shape[i] = a.shape[0]
    out.append(lax.broadcast_in_dim(a, tuple(shape), (i,)))
  return tuple(out)


# ---------------------------------------------------------------------------------------
# Diagonal and triangle index sets

def diag_indices(n, ndim=2):
  """Implementation of numpy.diag_indices."""
  n = _static_int(n, "n argument of jnp.diag_indices")
  ndim = _static_int(ndim, "ndim argument of jnp.diag_indices")
  if n < 0:
    raise ValueError(f"n argument to diag_indices must be nonnegative, got {n}")
  if ndim < 0:
    raise ValueError(f"ndim argument to diag_indices must be nonnegative, got {ndim}")
  return (lax.iota(_int(), n),) * ndim


def diag_indices_from(arr):
  """Implementation of numpy.diag_indices_from (all dimensions must be equal)."""
  arr = util.ensure_arraylike("diag_indices_from", arr)
  if arr.ndim < 2:
    raise ValueError("input array must be at least 2-d")
  if len(set(arr.shape)) != 1:
    raise ValueError("All dimensions of input must be of equal length")
  return diag_indices(arr.shape[0], ndim=arr.ndim)


def _static_indices(rows, cols):
  return (creation.asarray(rows.astype(_int())), creation.asarray(cols.astype(_int())))


def tril_indices(n, k=0, m=None):
  """Implementation of numpy.tril_indices (static n, k, m)."""
  n = _static_int(n, "n argument of jnp.tril_indices")
  k = _static_int(k, "k argument of jnp.tril_indices")
  m = n if m is None else _static_int(m, "m argument of jnp.tril_indices")
  return _static_indices(*np.tril_indices(n, k, m))


def triu_indices(n, k=0, m=None):
  """Implementation of numpy.triu_indices (static n, k, m)."""
  n = _static_int(n, "n argument of jnp.triu_indices")
  k = _static_int(k, "k argument of jnp.triu_indices")
  m = n if m is None else _static_int(m, "m argument of jnp.triu_indices")
  return _static_indices(*np.triu_indices(n, k, m))


def tril_indices_from(arr, k=0):
  """Implementation of numpy.tril_indices_from."""
  arr = util.ensure_arraylike("tril_indices_from", arr)
  if arr.ndim != 2:
    raise ValueError("Only 2-D inputs are accepted")
  return tril_indices(arr.shape[0], k=k, m=arr.shape[1])


def triu_indices_from(arr, k=0):
  """Implementation of numpy.triu_indices_from."""
  arr = util.ensure_arraylike("triu_indices_from", arr)
  if arr.ndim != 2:
    raise ValueError("Only 2-D inputs are accepted")
  return triu_indices(arr.shape[0], k=k, m=arr.shape[1])


def mask_indices(n, mask_func, k=0, *, size=None):
  """Implementation of numpy.mask_indices: the nonzero positions of mask_func(ones((n, n)),
  k) (a static `size` is needed when the mask is not concrete)."""
  n = _static_int(n, "n argument of jnp.mask_indices")
  a = mask_func(creation.ones((n, n), dtype=_int()), k)
  return lax_numpy.nonzero(a, size=size)


# ---------------------------------------------------------------------------------------
# Flat <-> multi-dimensional indices

def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
  """Implementation of numpy.ravel_multi_index (mode 'raise' needs concrete indices;
  'clip', 'wrap' and 'ignore' work under jit)."""
  if len(multi_index) != len(dims):
    raise ValueError(f"parameter multi_index must be a sequence of length {len(dims)}")
  dims = tuple(_static_int(d, "dims argument of jnp.ravel_multi_index") for d in dims)
  idx = list(util.ensure_arraylike_tuple("ravel_multi_index", tuple(multi_index)))
  for i in idx:
    if mode == "raise":
      core.concrete_or_error(lambda v: v, i,
                             "The error occurred because ravel_multi_index was jit-compiled "
                             "with mode='raise'. Use mode='wrap' or mode='clip' instead.")
    if not dtypes.issubdtype(i.dtype, np.integer):
      raise TypeError("only int indices permitted")
  if mode == "raise":
    for i, d in zip(idx, dims):
      bad = ufuncs.logical_or(ufuncs.less(i, 0), ufuncs.greater_equal(i, d))
      if bool(lax_numpy._red().any(bad)):
        raise ValueError("invalid entry in coordinates array")
  elif mode == "clip":
    idx = [lax_numpy.clip(i, 0, d - 1) for i, d in zip(idx, dims)]
  elif mode == "wrap":
    idx = [ufuncs.remainder(i, d) for i, d in zip(idx, dims)]
  elif mode != "ignore":
    raise ValueError(f"invalid mode={mode!r}. Expected 'raise', 'wrap', 'clip', or 'ignore'.")
  if order == "F":
    strides = np.cumprod((1,) + dims[:-1])
  elif order == "C":
    strides = np.cumprod((1,) + dims[1:][::-1])[::-1]
  else:
    raise ValueError(f"invalid order={order!r}. Expected 'C' or 'F'")
  out = 0
  for i, s in zip(idx, strides):
    out = ufuncs.add(out, ufuncs.multiply(i, int(s)))
  return util._asarray(out)


def unravel_index(indices, shape):
  """Implementation of numpy.unravel_index (out-of-bounds indices are clipped, as JAX)."""
  idx = util.ensure_arraylike("unravel_index", indices)
  try:
    shape = list(shape)
  except TypeError:
    shape = [shape]
  if any(np.ndim(s) != 0 for s in shape):
    raise ValueError("unravel_index: shape should be a scalar or 1D sequence.")
  out = [0] * len(shape)
  for i in range(len(shape) - 1, -1, -1):
    idx, out[i] = ufuncs.divmod(idx, shape[i])
  over = ufuncs.greater(idx, 0)
  if dtypes.issubdtype(idx.dtype, np.unsignedinteger):
    return tuple(lax_numpy.where(over, s - 1, o) for s, o in zip(shape, out))
  under = ufuncs.less(idx, -1)
  return tuple(lax_numpy.where(over, s - 1, lax_numpy.where(under, 0, o))
               for s, o in zip(shape, out))


# ---------------------------------------------------------------------------------------
# Functional updates

def _tile_to_size(arr, size):
  """arr (1-D) repeated or truncated to `size` entries (np.resize's rule)."""
  n = arr.shape[0]
  if n == size:
    return arr
  if n > size:
    return lax_numpy._slice_axis(arr, 0, size, 0)
  return lax_numpy._slice_axis(lax_numpy.tile(arr, -(-size // n)), 0, size, 0)


def _immutable(name):
  return ValueError(f"jax.numpy.{name} cannot modify arrays in-place, because JAX arrays are "
                    "immutable. Pass inplace=False to instead return an updated array.")


def fill_diagonal(a, val, wrap=False, *, inplace=True):
  """Implementation of numpy.fill_diagonal, returning a new array (inplace=False is
  required; wrap=True is not implemented, as JAX)."""
  if inplace:
    raise NotImplementedError("JAX arrays are immutable, must use inplace=False")
  if wrap:
    raise NotImplementedError("wrap=True is not implemented, must use wrap=False")
  a, val = util.ensure_arraylike("fill_diagonal", a, val)
  if a.ndim < 2:
    raise ValueError("array must be at least 2-d")
  if a.ndim > 2 and not all(n == a.shape[0] for n in a.shape[1:]):
    raise ValueError("All dimensions of input must be of equal length")
  n = min(a.shape)
  idx = diag_indices(n, a.ndim)
  v = val if val.ndim == 0 else _tile_to_size(lax.reshape(val, (val.size,)), n)
  return a.at[idx].set(v)


def put(a, ind, v, mode=None, *, inplace=True):
  """Implementation of numpy.put, returning a new array (inplace=False is required).
  mode None/'clip' clamps indices, 'wrap' wraps them; values repeat to fill `ind`."""
  if inplace:
    raise _immutable("put")
  arr, ind_arr, _ = util.ensure_arraylike("put", a, ind, v)
  ind_arr = lax.reshape(ind_arr, (ind_arr.size,))
  v_arr = lax_numpy.ravel(v)
  if not arr.size or not ind_arr.size or not v_arr.size:
    return arr
  v_arr = _tile_to_size(v_arr, ind_arr.shape[0])
  if mode is None or mode == "clip":
    scatter_mode = "clip"
  elif mode == "wrap":
    ind_arr = ufuncs.remainder(ind_arr, arr.size)
    scatter_mode = "promise_in_bounds"
  elif mode == "raise":
    raise NotImplementedError("The 'raise' mode to jnp.put is not supported.")
  else:
    raise ValueError(f"mode should be one of 'wrap' or 'clip'; got {mode=}")
  flat = lax.reshape(arr, (arr.size,))
  return lax.reshape(flat.at[ind_arr].set(v_arr, mode=scatter_mode), arr.shape)


def _along_axis_index(shape, indices, axis):
  """The advanced index selecting indices[...] along `axis` (iotas on the other axes)."""
  nd = len(shape)
  idx = []
  for d in range(nd):
    if d == axis:
      idx.append(indices)
    else:
      s = [1] * nd
      s[d] = shape[d]
      idx.append(lax.broadcasted_iota(_int(), tuple(s), d))
  return tuple(idx)


def put_along_axis(arr, indices, values, axis, inplace=True, *, mode=None):
  """Implementation of numpy.put_along_axis, returning a new array (inplace=False is
  required)."""
  if inplace:
    raise ValueError("jax.numpy.put_along_axis cannot modify arrays in-place, because JAX "
                     "arrays are immutable. Pass inplace=False to instead return an updated "
                     "array.")
  arr, indices, values = util.ensure_arraylike("put_along_axis", arr, indices, values)
  shape = arr.shape
  if axis is None:
    arr = lax.reshape(arr, (arr.size,))
    axis = 0
  else:
    axis = util.canonicalize_axis(axis, arr.ndim)
  if arr.ndim != indices.ndim:
    raise ValueError("put_along_axis arguments 'arr' and 'indices' must have same ndim. Got "
                     f"arr.ndim={arr.ndim} and indices.ndim={indices.ndim}.")
  try:
    values = util._broadcast_to(values, indices.shape)
  except ValueError:
    raise ValueError("put_along_axis argument 'values' must be broadcastable to 'indices'. "
                     f"Got values.shape={values.shape} and indices.shape={indices.shape}."
                     ) from None
  out = arr.at[_along_axis_index(arr.shape, indices, axis)].set(values, mode=mode)
  return lax.reshape(out, shape) if out.shape != shape else out


def place(arr, mask, vals, *, inplace=True):
  """Implementation of numpy.place, returning a new array (inplace=False is required):
  the masked entries take vals in order, repeated as needed."""
  data, mask_arr, vals_arr = util.ensure_arraylike("place", arr, mask, vals)
  vals_arr = lax.reshape(vals_arr, (vals_arr.size,))
  if inplace:
    raise _immutable("place")
  if data.size != mask_arr.size:
    raise ValueError("place: arr and mask must be the same size")
  if not vals_arr.size:
    raise ValueError("Cannot place values from an empty array")
  if not data.size:
    return data
  n = mask_arr.size
  pos = lax_numpy.nonzero(lax.reshape(mask_arr, (n,)), size=n, fill_value=n)[0]
  vals_arr = _tile_to_size(vals_arr, n)
  flat = lax.reshape(data, (data.size,))
  return lax.reshape(flat.at[pos].set(vals_arr, mode="drop"), data.shape)
