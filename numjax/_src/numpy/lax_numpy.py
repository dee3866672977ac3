"""jnp shape manipulation, joining and splitting, flips and rolls, padding, and selection
(where/select/piecewise/clip).

All of it is lax: reshape/transpose/broadcast_in_dim from lax.py, slice/concatenate/pad/
rev from lax/slicing.py. Shapes, axes, split points and pad widths must be static (as in
JAX); Python/NumPy arithmetic on them is static shape arithmetic, never on array data.
"""
from __future__ import annotations

import builtins
import math
import operator
from typing import Any, Sequence

import numpy as np

from numjax._src import core
from numjax._src import dtypes
from numjax._src.array import Array, _make
from numjax._src.core import Tracer
from numjax._src.lax import lax
from numjax._src.lax import reductions as lax_red
from numjax._src.lax import slicing as lax_slicing
from numjax._src.lax import sorting as lax_sorting
from numjax._src.numpy import ufuncs
from numjax._src.numpy import util

_max, _min, _abs, _all, _any, _sum = (builtins.max, builtins.min, builtins.abs, builtins.all,
                                      builtins.any, builtins.sum)


def _red():
  from numjax._src.numpy import reductions
  return reductions


def _index_tuple(x, what="axis"):
  """An int or a sequence of ints as a tuple of concrete Python ints."""
  if isinstance(x, (tuple, list)):
    return tuple(core.concrete_or_error(operator.index, i, what) for i in x)
  if isinstance(x, (np.ndarray, Array)) and np.ndim(x) == 1:
    return tuple(operator.index(i) for i in np.asarray(x))
  return (core.concrete_or_error(operator.index, x, what),)


def _shape_tuple(shape, what="shape"):
  if isinstance(shape, (tuple, list)) or (hasattr(shape, "__len__") and np.ndim(shape) == 1):
    return tuple(core.concrete_dim_or_error(d, f"The {what} argument must be static.")
                 for d in shape)
  return (core.concrete_dim_or_error(shape, f"The {what} argument must be static."),)


def _slice_axis(a, start, stop, axis, stride=1):
  """a[..., start:stop:stride, ...] along `axis` (static, non-negative bounds)."""
  nd = a.ndim
  starts = [0] * nd
  limits = list(a.shape)
  strides = [1] * nd
  starts[axis], limits[axis], strides[axis] = start, stop, stride
  if stride == 1 and start == 0 and stop == a.shape[axis]:
    return a
  return lax_slicing.slice(a, tuple(starts), tuple(limits),
                          None if stride == 1 else tuple(strides))


def _concat(arrays, axis):
  arrays = list(arrays)
  if len(arrays) == 1:
    return arrays[0]
  return lax_slicing.concatenate(arrays, axis)


# ---------------------------------------------------------------------------------------
# Reshaping and transposing

def _compute_newshape(a, newshape):
  orig = newshape
  newshape = _shape_tuple(newshape)
  neg = [i for i, d in enumerate(newshape) if d == -1]
  if len(neg) > 1:
    raise TypeError(f"can only specify one unknown axis size with a `-1` value, got {orig}")
  if _any(d < 0 and d != -1 for d in newshape):
    raise TypeError(f"reshape shape must be non-negative, got {orig}")
  size = math.prod(a.shape)
  if neg:
    i, = neg
    others = math.prod(newshape[:i] + newshape[i + 1:])
    if others == 0:
      raise ValueError(f"cannot reshape array of size {size} into shape {orig}: the -1 "
                       "entry is ambiguous when another entry is 0")
    if size % others != 0:
      raise TypeError(f"cannot reshape array of shape {a.shape} (size {size}) into shape "
                      f"{orig} because the product of specified axis sizes ({others}) does "
                      f"not evenly divide {size}")
    return newshape[:i] + (size // others,) + newshape[i + 1:]
  if math.prod(newshape) != size:
    raise TypeError(f"cannot reshape array of shape {a.shape} (size {size}) into shape "
                    f"{orig} (size {math.prod(newshape)})")
  return newshape


def reshape(a, shape, order="C", *, copy=None, out_sharding=None):
  """Implementation of numpy.reshape (order 'C' or 'F'; one -1 entry is inferred)."""
  a = util.ensure_arraylike("reshape", a)
  newshape = _compute_newshape(a, shape)
  if order == "C":
    return lax.reshape(a, newshape)
  if order == "F":
    dims = tuple(range(a.ndim))[::-1]
    return lax.transpose(lax.reshape(a, newshape[::-1], dims),
                         tuple(range(len(newshape)))[::-1])
  if order == "A":
    raise NotImplementedError("np.reshape order=A is not implemented.")
  raise ValueError(f"Unexpected value for 'order' argument: {order}.")


def ravel(a, order="C", *, out_sharding=None):
  """Implementation of numpy.ravel."""
  a = util.ensure_arraylike("ravel", a)
  if order == "K":
    raise NotImplementedError("Ravel not implemented for order='K'.")
  return reshape(a, (a.size,), order)


def transpose(a, axes=None):
  """Implementation of numpy.transpose (axes=None reverses them)."""
  a = util.ensure_arraylike("transpose", a)
  if axes is None:
    perm = tuple(range(a.ndim))[::-1]
  else:
    perm = tuple(util.canonicalize_axis(i, a.ndim) for i in _index_tuple(axes))
    if sorted(perm) != list(range(a.ndim)):
      raise TypeError(f"transpose permutation isn't a permutation of operand dimensions, got "
                      f"permutation {perm} for operand shape {a.shape}.")
  return lax.transpose(a, perm)


def permute_dims(a, /, axes):
  """Implementation of numpy.permute_dims (array API)."""
  a = util.ensure_arraylike("permute_dims", a)
  return transpose(a, axes)


def matrix_transpose(x, /):
  """Implementation of numpy.matrix_transpose: swap the last two axes."""
  x = util.ensure_arraylike("matrix_transpose", x)
  nd = x.ndim
  if nd < 2:
    raise ValueError(f"x must be at least two-dimensional for matrix_transpose; got "
                     f"ndim={nd}")
  return lax.transpose(x, (*range(nd - 2), nd - 1, nd - 2))


def moveaxis(a, source, destination):
  """Implementation of numpy.moveaxis."""
  a = util.ensure_arraylike("moveaxis", a)
  return _moveaxis(a, _index_tuple(source), _index_tuple(destination))


def _moveaxis(a, source, destination):
  if len(source) != len(destination):
    raise ValueError(f"Inconsistent number of elements: {len(source)} vs {len(destination)}")
  source = tuple(util.canonicalize_axis(i, a.ndim) for i in source)
  destination = tuple(util.canonicalize_axis(i, a.ndim) for i in destination)
  perm = [i for i in range(a.ndim) if i not in source]
  for dest, src in sorted(zip(destination, source)):
    perm.insert(dest, src)
  return lax.transpose(a, tuple(perm))


def swapaxes(a, axis1, axis2):
  """Implementation of numpy.swapaxes."""
  a = util.ensure_arraylike("swapaxes", a)
  perm = list(range(a.ndim))
  i, j = util.canonicalize_axis(axis1, a.ndim), util.canonicalize_axis(axis2, a.ndim)
  perm[i], perm[j] = perm[j], perm[i]
  return lax.transpose(a, tuple(perm))


def rollaxis(a, axis, start=0):
  """Implementation of numpy.rollaxis (prefer moveaxis)."""
  a = util.ensure_arraylike("rollaxis", a)
  start = core.concrete_or_error(operator.index, start, "'start' argument of jnp.rollaxis()")
  nd = a.ndim
  axis = util.canonicalize_axis(axis, nd)
  if not -nd <= start <= nd:
    raise ValueError(f"start={start} must satisfy {-nd}<=start<={nd}")
  if start < 0:
    start += nd
  if start > axis:
    start -= 1
  return _moveaxis(a, (axis,), (start,))


def expand_dims(a, axis):
  """Implementation of numpy.expand_dims."""
  a = util.ensure_arraylike("expand_dims", a)
  axes = _index_tuple(axis)
  nd = a.ndim + len(axes)
  dims = tuple(util.canonicalize_axis(d, nd) for d in axes)
  if len(set(dims)) != len(dims):
    raise ValueError(f"repeated axis in lax.expand_dims: {axes}")
  return lax.expand_dims(a, dims)


def squeeze(a, axis=None):
  """Implementation of numpy.squeeze."""
  a = util.ensure_arraylike("squeeze", a)
  if axis is None:
    dims = tuple(i for i, d in enumerate(a.shape) if d == 1)
  else:
    dims = tuple(util.canonicalize_axis(i, a.ndim) for i in _index_tuple(axis))
  return lax.squeeze(a, dims) if dims else a


def atleast_1d(*arys):
  """Implementation of numpy.atleast_1d."""
  util.check_arraylike("atleast_1d", *arys)
  out = [util._asarray(x) for x in arys]
  out = [x if x.ndim >= 1 else lax.reshape(x, (1,)) for x in out]
  return out[0] if len(out) == 1 else out


@util.jit_when_traced
def atleast_2d(*arys):
  """Implementation of numpy.atleast_2d."""
  util.check_arraylike("atleast_2d", *arys)
  out = []
  for x in map(util._asarray, arys):
    out.append(x if x.ndim >= 2 else lax.expand_dims(x, (0,) if x.ndim else (0, 1)))
  return out[0] if len(out) == 1 else out


def atleast_3d(*arys):
  """Implementation of numpy.atleast_3d ((N,) -> (1, N, 1), (M, N) -> (M, N, 1))."""
  util.check_arraylike("atleast_3d", *arys)
  out = []
  for x in map(util._asarray, arys):
    if x.ndim == 0:
      x = lax.expand_dims(x, (0, 1, 2))
    elif x.ndim == 1:
      x = lax.expand_dims(x, (0, 2))
    elif x.ndim == 2:
      x = lax.expand_dims(x, (2,))
    out.append(x)
  return out[0] if len(out) == 1 else out


def broadcast_shapes(*shapes):
  """Implementation of numpy.broadcast_shapes."""
  if not shapes:
    return ()
  shapes = [(s,) if np.ndim(s) == 0 else tuple(s) for s in shapes]
  if _all(s == shapes[0] for s in shapes):
    return shapes[0]
  return util.broadcast_shapes_or_error("broadcast_shapes", shapes)


def broadcast_to(array, shape, *, out_sharding=None):
  """Implementation of numpy.broadcast_to (a new array, not a view)."""
  util.check_arraylike("broadcast_to", array)
  arr = util._asarray(array)
  shape = _shape_tuple(shape)
  s = arr.shape
  if s == shape:
    return arr
  nd = len(shape)
  if len(s) > nd:
    raise ValueError(f"Cannot broadcast to shape with fewer dimensions: arr_shape={s} "
                     f"shape={shape}")
  if _any(a not in (1, b) for a, b in zip(s[::-1], shape[::-1])) or _any(d < 0 for d in shape):
    raise ValueError(f"Incompatible types for broadcasting: input type="
                     f"{arr.aval.str_short(False)} and requested type="
                     f"{core.ShapedArray(shape, arr.dtype).str_short(False)}")
  return lax.broadcast_in_dim(arr, shape, tuple(range(nd - len(s), nd)))


def broadcast_arrays(*args):
  """Implementation of numpy.broadcast_arrays (new arrays, not views)."""
  util.check_arraylike("broadcast_arrays", *args)
  args = [util._asarray(a) for a in args]
  if not args:
    return []
  shapes = [a.shape for a in args]
  if _all(s == shapes[0] for s in shapes):
    return args
  result = util.broadcast_shapes_or_error("broadcast_arrays", shapes)
  return [broadcast_to(a, result) for a in args]


# ---------------------------------------------------------------------------------------
# Joining and splitting

def _is_array(x):
  return isinstance(x, (np.ndarray, Array, Tracer))


def concatenate(arrays, axis=0, dtype=None):
  """Implementation of numpy.concatenate (axis=None flattens first)."""
  if _is_array(arrays):
    return _concatenate_array(util._asarray(arrays), axis, dtype)
  util.check_arraylike("concatenate", *arrays)
  if not len(arrays):
    raise ValueError("Need at least one array to concatenate.")
  arrays = [util._asarray(a) for a in arrays]
  if arrays[0].ndim == 0:
    raise ValueError("Zero-dimensional arrays cannot be concatenated.")
  if axis is None:
    return concatenate([ravel(a) for a in arrays], axis=0, dtype=dtype)
  axis = util.canonicalize_axis(_index_tuple(axis)[0], arrays[0].ndim)
  if dtype is None:
    arrays = util.promote_dtypes(*arrays)
  else:
    dt = dtypes.canonicalize_dtype(dtype)
    dtypes.check_user_dtype_supported(dtype, "concatenate")
    arrays = [lax.convert_element_type(a, dt) for a in arrays]
  return _concat(arrays, axis)


def _concatenate_array(arr, axis, dtype):
  """concatenate of the sub-arrays of one array: a reshape (no data movement)."""
  if arr.ndim == 0:
    raise ValueError("Need at least one array to concatenate.")
  if dtype is not None:
    arr = lax.convert_element_type(arr, dtypes.canonicalize_dtype(dtype))
  if axis is None:
    return lax.reshape(arr, (arr.size,))
  if arr.ndim == 1:
    raise ValueError("Zero-dimensional arrays cannot be concatenated.")
  axis = util.canonicalize_axis(axis, arr.ndim - 1)
  shape = arr.shape[1:axis + 1] + (arr.shape[0] * arr.shape[axis + 1],) + arr.shape[axis + 2:]
  dims = (*range(1, axis + 1), 0, *range(axis + 1, arr.ndim))
  return lax.reshape(arr, shape, dims)


def concat(arrays, /, *, axis=0):
  """Implementation of numpy.concat (array API)."""
  util.check_arraylike("concat", *arrays)
  return concatenate(arrays, axis=axis)


def stack(arrays, axis=0, out=None, dtype=None):
  """Implementation of numpy.stack."""
  if not len(arrays):
    raise ValueError("Need at least one array to stack.")
  if out is not None:
    raise NotImplementedError("The 'out' argument to jnp.stack is not supported.")
  if _is_array(arrays):
    arrays = util._asarray(arrays)
    axis = util.canonicalize_axis(axis, arrays.ndim)
    res = _moveaxis(arrays, (0,), (axis,))
    return res if dtype is None else lax.convert_element_type(res, dtype)
  util.check_arraylike("stack", *arrays)
  arrays = [util._asarray(a) for a in arrays]
  shape0 = arrays[0].shape
  axis = util.canonicalize_axis(axis, len(shape0) + 1)
  for a in arrays:
    if a.shape != shape0:
      raise ValueError("All input arrays must have the same shape. Got "
                       f"{', '.join(str(x.shape) for x in arrays)}.")
  return concatenate([lax.expand_dims(a, (axis,)) for a in arrays], axis=axis, dtype=dtype)


def _unstack_rows(tup):
  if _is_array(tup):
    tup = util._asarray(tup)
    return [lax.squeeze(_slice_axis(tup, i, i + 1, 0), (0,)) for i in range(tup.shape[0])]
  return list(tup)


def hstack(tup, dtype=None):
  """Implementation of numpy.hstack."""
  arrs = _unstack_rows(tup)
  util.check_arraylike("hstack", *arrs)
  arrs = [atleast_1d(a) for a in arrs]
  if not arrs:
    raise ValueError("Need at least one array to concatenate.")
  return concatenate(arrs, 0 if arrs[0].ndim == 1 else 1, dtype=dtype)


def vstack(tup, dtype=None):
  """Implementation of numpy.vstack."""
  arrs = _unstack_rows(tup)
  util.check_arraylike("vstack", *arrs)
  return concatenate([atleast_2d(a) for a in arrs], 0, dtype=dtype)



def dstack(tup, dtype=None):
  """Implementation of numpy.dstack."""
  arrs = _unstack_rows(tup)
  util.check_arraylike("dstack", *arrs)
  return concatenate([atleast_3d(a) for a in arrs], 2, dtype=dtype)


def column_stack(tup):
  """Implementation of numpy.column_stack."""
  arrs = _unstack_rows(tup)
  util.check_arraylike("column_stack", *arrs)
  arrs = [util._asarray(a) for a in arrs]
  arrs = [lax.transpose(atleast_2d(a), (1, 0)) if a.ndim < 2 else a for a in arrs]
  return concatenate(arrs, 1)


def unstack(x, /, *, axis=0):
  """Implementation of numpy.unstack: the slices along `axis`, as a tuple (lax.unstack)."""
  from numjax._src.lax.misc import unstack as lax_unstack
  x = util.ensure_arraylike("unstack", x)
  return lax_unstack(x, axis=util.canonicalize_axis(axis, x.ndim))


def _split(name, ary, indices_or_sections, axis):
  """The jnp split family as one `split` primitive, as JAX stages it: piece sizes are the
  differences of [0, *points, size] (so, unlike NumPy, decreasing or out-of-range points
  are an error) or equal sections, as NumPy int64s (JAX's params print `np.int64(2)`)."""
  from numjax._src.lax.misc import split as lax_split
  ary = util.ensure_arraylike(name, ary)
  axis = util.canonicalize_axis(
      core.concrete_or_error(operator.index, axis, f"in jax.numpy.{name} argument `axis`"),
      ary.ndim)
  size = ary.shape[axis]
  if isinstance(indices_or_sections, (tuple, list)) or (
      _is_array(indices_or_sections) and np.ndim(indices_or_sections) > 0):
    idx = [core.concrete_dim_or_error(i, f"in jax.numpy.{name} argument 1")
           for i in (indices_or_sections if isinstance(indices_or_sections, (tuple, list))
                     else np.asarray(indices_or_sections))]
    sizes = np.diff(np.asarray([0] + idx + [size])).tolist()
  else:
    n = core.concrete_or_error(int, indices_or_sections, f"in jax.numpy.{name} argument 1")
    if n == 0:
      raise ZeroDivisionError(f"jax.numpy.{name}: the number of sections must be positive, "
                              "got 0.")
    if n < 0:
      raise ValueError(f"jax.numpy.{name}: the number of sections must be positive, got "
                       f"{n}.")
    part, r = divmod(size, n)
    if r and name != "array_split":
      raise ValueError(f"array split does not result in an equal division: rest is {r}")
    sizes = [part + 1] * r + [part] * (n - r)
  return list(lax_split(ary, [np.int64(k) for k in sizes], axis=axis))


def split(ary, indices_or_sections, axis=0):
  """Implementation of numpy.split (static sections or split points)."""
  return _split("split", ary, indices_or_sections, axis)


def array_split(ary, indices_or_sections, axis=0):
  """Implementation of numpy.array_split (unequal sections allowed)."""
  return _split("array_split", ary, indices_or_sections, axis)


def hsplit(ary, indices_or_sections):
  """Implementation of numpy.hsplit."""
  a = util.ensure_arraylike("hsplit", ary)
  return _split("hsplit", a, indices_or_sections, 0 if a.ndim == 1 else 1)


def vsplit(ary, indices_or_sections):
  """Implementation of numpy.vsplit."""
  a = util.ensure_arraylike("vsplit", ary)
  if a.ndim < 2:
    raise ValueError("vsplit only works on arrays of 2 or more dimensions")
  return _split("vsplit", a, indices_or_sections, 0)


def dsplit(ary, indices_or_sections):
  """Implementation of numpy.dsplit."""
  a = util.ensure_arraylike("dsplit", ary)
  if a.ndim < 3:
    raise ValueError("dsplit only works on arrays of 3 or more dimensions")
  return _split("dsplit", a, indices_or_sections, 2)


def tile(A, reps):
  """Implementation of numpy.tile (lax.tile)."""
  A = util.ensure_arraylike("tile", A)
  reps = _index_tuple(reps, "reps argument of jnp.tile")
  if _any(r < 0 for r in reps):
    raise ValueError(f"jnp.tile: reps must be non-negative, got {reps}")
  # one `tile` primitive, as JAX stages it (A gets leading unit axes when reps is longer)
  from numjax._src.lax.misc import tile as lax_tile
  reps = (1,) * (A.ndim - len(reps)) + reps
  if len(reps) > A.ndim:
    A = lax.expand_dims(A, tuple(range(len(reps) - A.ndim)))
  return lax_tile(A, reps)


def repeat(a, repeats, axis=None, *, total_repeat_length=None, out_sharding=None):
  """Implementation of numpy.repeat.

  `repeats` must be static unless `total_repeat_length` is given (then the output has
  exactly that length: truncated, or padded with the last row along `axis`, as JAX).
  """
  if isinstance(repeats, (int, np.integer)) and not isinstance(repeats, bool):
    util.check_arraylike("repeat", a)
  else:
    util.check_arraylike("repeat", a, repeats)
  a = util._asarray(a)
  if axis is None:
    a = lax.reshape(a, (a.size,))
    axis = 0
  axis = util.canonicalize_axis(
      core.concrete_or_error(operator.index, axis, "'axis' argument of jnp.repeat()"),
      a.ndim if a.ndim else 1)
  static = total_repeat_length is None or not isinstance(repeats, Tracer)
  if static:
    reps = np.asarray(core.concrete_or_error(
        np.asarray, repeats,
        "When jit-compiling jnp.repeat, the total number of repeats must be static. To fix "
        "this, either specify a static value for `repeats`, or pass a static value to "
        "`total_repeat_length`."))
    if np.any(reps < 0):
      raise ValueError("repeats may not contain negative values.")
    if a.ndim == 0:
      if reps.size != 1:
        raise ValueError("`repeat` with a scalar parameter `a` is only implemented for "
                         "scalar values of the parameter `repeats`.")
      n = int(reps.reshape(())) if total_repeat_length is None else total_repeat_length
      return lax.broadcast(a, (n,))
    if reps.ndim == 0 and total_repeat_length in (None, int(reps) * a.shape[axis]):
      r = int(reps)
      x = lax.expand_dims(a, (axis + 1,))
      shape = list(x.shape)
      shape[axis + 1] = r
      x = lax.broadcast_in_dim(x, tuple(shape), tuple(range(x.ndim)))
      out_shape = list(a.shape)
      out_shape[axis] *= r
      return lax.reshape(x, tuple(out_shape))
    reps = np.broadcast_to(reps.ravel(), (a.shape[axis],))
    idx = np.repeat(np.arange(a.shape[axis]), reps)
    if total_repeat_length is not None:
      idx = idx[:total_repeat_length]
      if len(idx) < total_repeat_length:   # past the end: the last row, as JAX
        idx = np.concatenate([idx, np.full(total_repeat_length - len(idx),
                                           a.shape[axis] - 1, idx.dtype)])
    return _take_static(a, idx, axis)
  # Traced repeats with a static total: the source row of output j is the number of
  # cumulative repeat counts <= j (a comparison count, so no scatter is needed).
  reps = util._asarray(repeats)
  n = a.shape[axis]
  reps = lax.convert_element_type(reps, dtypes.canonicalize_dtype(dtypes.int_))
  reps = util._broadcast_to(lax.reshape(reps, (reps.size,)), (n,))
  ends = lax_red.cumsum(reps, axis=0)
  j = lax.broadcasted_iota(ends.dtype, (total_repeat_length, n), 0)
  hits = lax.le(lax.broadcast_in_dim(ends, (total_repeat_length, n), (1,)), j)
  src = lax_red.reduce_sum(lax.convert_element_type(hits, ends.dtype), (1,))
  src = lax.min(src, lax._const(src, n - 1))
  return _take_traced(a, src, axis)


def _take_static(a, idx, axis):
  """a indexed by a static integer vector along axis (a gather)."""
  idx = np.asarray(idx, dtype=np.int32)
  if idx.size and np.all(np.diff(idx) == 1):   # a contiguous run: a slice
    return _slice_axis(a, int(idx[0]), int(idx[-1]) + 1, axis)
  return _take_traced(a, lax.asarray(idx), axis)


def _take_traced(a, idx, axis):
  sl = lax_slicing
  nd = a.ndim
  offset_dims = tuple(range(axis)) + tuple(range(axis + 1, nd))
  dnums = sl.GatherDimensionNumbers(offset_dims=offset_dims, collapsed_slice_dims=(axis,),
                                    start_index_map=(axis,))
  sizes = list(a.shape)
  sizes[axis] = 1
  return sl.gather(a, lax.reshape(idx, (idx.shape[0], 1)), dnums, tuple(sizes),
                   mode=sl.GatherScatterMode.PROMISE_IN_BOUNDS)


def resize(a, new_shape):
  """Implementation of numpy.resize (repeat the flattened data to fill new_shape)."""
  a = util.ensure_arraylike("resize", a)
  new_shape = _shape_tuple(new_shape)
  if _any(d < 0 for d in new_shape):
    raise ValueError("all elements of `new_shape` must be non-negative")
  flat = lax.reshape(a, (a.size,))
  new_size = math.prod(new_shape)
  if a.size == 0 or new_size == 0:
    return lax.full(new_shape, 0, a.dtype)
  reps = -(-new_size // a.size)
  if reps > 1:
    flat = tile(flat, reps)
  return lax.reshape(_slice_axis(flat, 0, new_size, 0), new_shape)


def block(arrays):
  """Implementation of numpy.block (nested lists of arrays)."""
  def depth(x):
    return 1 + depth(x[0]) if isinstance(x, list) and x else (1 if isinstance(x, list) else 0)

  max_d = depth(arrays)
  if max_d == 0:
    return util._asarray(arrays)
  leaves = []

  def collect(x):
    if isinstance(x, list):
      for y in x:
        collect(y)
    else:
      leaves.append(x)
  collect(arrays)
  util.check_arraylike("block", *leaves)
  nd = _max(max_d, _max(np.ndim(l) for l in leaves))

  def rec2(x, d):
    if isinstance(x, tuple):
      raise TypeError(f"{x!r} is a tuple. Only lists can be used to arrange blocks, and "
                      "np.block does not allow implicit conversion from tuple to ndarray.")
    if isinstance(x, list):
      if not x:
        raise ValueError("Lists cannot be empty")
      return concatenate([rec2(y, d + 1) for y in x], axis=d - max_d + nd)
    x = util._asarray(x)
    return lax.reshape(x, (1,) * (nd - x.ndim) + x.shape) if x.ndim < nd else x
  return rec2(arrays, 0)


# ---------------------------------------------------------------------------------------
# Flips and rolls

def flip(m, axis=None):
  """Implementation of numpy.flip."""
  m = util.ensure_arraylike("flip", m)
  if axis is None:
    dims = tuple(range(m.ndim))
  else:
    dims = tuple(util.canonicalize_axis(i, m.ndim) for i in _index_tuple(axis))
  return lax_slicing.rev(m, dims) if dims else m


def fliplr(m):
  """Implementation of numpy.fliplr."""
  m = util.ensure_arraylike("fliplr", m)
  return flip(m, 1)


def flipud(m):
  """Implementation of numpy.flipud."""
  m = util.ensure_arraylike("flipud", m)
  return flip(m, 0)


def roll(a, shift, axis=None):
  """Implementation of numpy.roll (a traced shift is allowed)."""
  a = util.ensure_arraylike("roll", a)
  if axis is None:
    return lax.reshape(roll(lax.reshape(a, (a.size,)), shift, 0), a.shape)
  axis = _index_tuple(axis)
  if isinstance(shift, Tracer):
    shift_arr = util._asarray(shift)
    shifts = None
  else:
    shift_np = np.asarray(shift._value if isinstance(shift, Array) else shift)
    if not np.issubdtype(shift_np.dtype, np.integer):
      raise TypeError(f"roll: shift must be integer, got {shift_np.dtype}")
    shifts = shift_np
  nd = a.ndim
  if shifts is not None:
    try:
      ax_b, sh_b = np.broadcast_arrays(np.asarray(axis), shifts)
    except ValueError as e:
      raise ValueError(str(e)) from None
    if ax_b.ndim > 1:
      raise ValueError("'shift' and 'axis' must be integers or 1D sequences.")
    for ax, s in zip(ax_b.ravel(), sh_b.ravel()):
      ax = util.canonicalize_axis(int(ax), nd)
      n = a.shape[ax]
      if n == 0:
        continue
      i = (-int(s)) % n
      if i:
        a = _concat([_slice_axis(a, i, n, ax), _slice_axis(a, 0, i, ax)], ax)
    return a
  # traced shift: double the axis, then take a dynamic slice of the original length
  shift_arr = lax.convert_element_type(shift_arr, np.int32)
  if shift_arr.ndim > 1:
    raise ValueError("'shift' and 'axis' must be integers or 1D sequences.")
  if shift_arr.ndim == 0 and len(axis) > 1:
    shift_arr = lax.broadcast(shift_arr, (len(axis),))
  elif shift_arr.ndim == 1 and len(axis) == 1 and shift_arr.shape[0] > 1:
    axis = axis * shift_arr.shape[0]
  elif shift_arr.ndim == 1 and shift_arr.shape[0] != len(axis):
    raise ValueError("shape mismatch: objects cannot be broadcast to a single shape.")
  sl = lax_slicing
  for k, ax in enumerate(axis):
    ax = util.canonicalize_axis(ax, nd)
    n = a.shape[ax]
    if n == 0:
      continue
    s = shift_arr if shift_arr.ndim == 0 else lax.reshape(_slice_axis(shift_arr, k, k + 1, 0),
                                                          ())
    s = lax.rem(s, lax._const(s, n))
    s = lax.select(lax.lt(s, lax._const(s, 0)), lax.add(s, lax._const(s, n)), s)
    start = lax.sub(lax._const(s, n), s)
    doubled = _concat([a, a], ax)
    starts = [lax._const(s, 0)] * nd
    starts[ax] = start
    a = sl.dynamic_slice(doubled, starts, a.shape)
  return a


def rot90(m, k=1, axes=(0, 1)):
  """Implementation of numpy.rot90."""
  m = util.ensure_arraylike("rot90", m)
  if np.shape(axes) != (2,):
    raise ValueError("axes must be a tuple of length 2")
  ax1, ax2 = (util.canonicalize_axis(a, m.ndim) for a in axes)
  if ax1 == ax2:
    raise ValueError("Axes must be different")
  k = core.concrete_or_error(operator.index, k, "k argument of jnp.rot90") % 4
  if k == 0:
    return m
  if k == 2:
    return flip(flip(m, ax1), ax2)
  perm = list(range(m.ndim))
  perm[ax1], perm[ax2] = perm[ax2], perm[ax1]
  if k == 1:
    return lax.transpose(flip(m, ax2), tuple(perm))
  return flip(lax.transpose(m, tuple(perm)), ax2)


# ---------------------------------------------------------------------------------------
# Padding

def _concrete_np(x, context):
  if isinstance(x, Tracer):
    x = core.concrete_or_error(None, x, context)
  if isinstance(x, Array):
    return x._value
  if isinstance(x, (tuple, list)):
    return [_concrete_np(y, context) for y in x]
  return x


def _broadcast_to_pairs(nvals, nd, name):
  """NumPy's pad-argument shapes ((nd, 2), (1, 2), (2,), (1,), ()) as nd (lo, hi) pairs."""
  try:
    arr = np.asarray(_concrete_np(nvals, f"{name} argument of jnp.pad"))
  except ValueError as e:
    if "inhomogeneous" in str(e):
      raise TypeError(f"`{name}` entries must be the same shape: {nvals}") from e
    raise
  if arr.dtype == object:
    raise TypeError(f"`{name}` entries must be the same shape: {nvals}")
  if arr.shape == (nd, 2):
    return tuple(tuple(v.item() for v in row) for row in arr)
  if arr.shape == (1, 2):
    pair = tuple(v.item() for v in arr[0])
    return (pair,) * nd
  if arr.shape == (2,):
    pair = tuple(v.item() for v in arr)
    return (pair,) * nd
  if arr.shape in ((1,), ()):
    v = arr.reshape(()).item()
    return ((v, v),) * nd
  raise ValueError(f"jnp.pad: {name} with nd={nd} has unsupported shape {arr.shape}. "
                   f"Valid shapes are ({nd}, 2), (1, 2), (2,), (1,), or ().")


_PAD_KWARGS = {"empty": [], "edge": [], "wrap": [], "constant": ["constant_values"],
               "linear_ramp": ["end_values"], "maximum": ["stat_length"],
               "mean": ["stat_length"], "median": ["stat_length"], "minimum": ["stat_length"],
               "reflect": ["reflect_type"], "symmetric": ["reflect_type"]}


def pad(array, pad_width, mode="constant", **kwargs):
  """Implementation of numpy.pad: every NumPy mode, and a callable mode."""
  array = util.ensure_arraylike("pad", array)
  nd = array.ndim
  pad_width = _broadcast_to_pairs(pad_width, nd, "pad_width")
  if pad_width and not _all(isinstance(p, (int, np.integer)) and not isinstance(p, bool)
                            for pair in pad_width for p in pair):
    raise TypeError("`pad_width` must be of integral type.")
  if callable(mode):
    return _pad_func(array, pad_width, mode, **kwargs)
  if mode not in _PAD_KWARGS:
    raise NotImplementedError(f"Unimplemented padding mode '{mode}' for np.pad.")
  unsupported = set(kwargs) - set(_PAD_KWARGS[mode])
  if unsupported:
    raise ValueError(f"unsupported keyword arguments for mode '{mode}': {unsupported}")
  if nd == 0:
    return array
  if _any(p < 0 for pair in pad_width for p in pair):
    raise ValueError("index can't contain negative values")
  if mode == "constant":
    return _pad_constant(array, pad_width, kwargs.get("constant_values", 0))
  if mode == "wrap":
    return _pad_wrap(array, pad_width)
  if mode in ("symmetric", "reflect"):
    reflect_type = kwargs.get("reflect_type", "even")
    if reflect_type not in ("even", "odd"):
      raise ValueError(f"unsupported reflect_type: {reflect_type!r}")
    return _pad_symmetric_or_reflect(array, pad_width, mode, reflect_type)
  if mode == "edge":
    return _pad_edge(array, pad_width)
  if mode == "linear_ramp":
    end_values = _broadcast_to_pairs(kwargs.get("end_values", 0), nd, "end_values")
    return _pad_linear_ramp(array, pad_width, end_values)
  if mode == "empty":
    return _pad_constant(array, pad_width, 0)
  stat_length = kwargs.get("stat_length", None)
  if stat_length is not None:
    stat_length = _broadcast_to_pairs(stat_length, nd, "stat_length")
  return _pad_stats(array, pad_width, stat_length, mode)


def _scalar_at(x, i, j):
  """x[i, j] for a static index into a small 2-D array (slice + reshape)."""
  return lax.reshape(lax_slicing.slice(x, (i, j), (i + 1, j + 1)), ())


def _pad_constant(array, pad_width, constant_values):
  nd = array.ndim
  if isinstance(constant_values, (tuple, list)):
    from numjax._src.numpy import creation
    constant_values = creation.asarray(constant_values)
  util.check_arraylike("pad", constant_values)
  cv = lax.convert_element_type(util._asarray(constant_values), array.dtype,
                                array.weak_type)
  sl = lax_slicing
  if cv.ndim == 0:
    return sl.pad(array, cv, tuple((lo, hi, 0) for lo, hi in pad_width))
  if cv.ndim == 1:
    if cv.shape[-1] == 1:
      return sl.pad(array, lax.reshape(cv, ()), tuple((lo, hi, 0) for lo, hi in pad_width))
    if cv.shape[-1] != 2:
      raise ValueError(f"jnp.pad: constant_values has unsupported shape {cv.shape}. If the "
                       "shape is 1D or 2D, the last dimension must be of size 1 or 2.")
  cv = broadcast_to(cv, (nd, 2))
  for i in range(nd):
    lo, hi = pad_width[i]
    if lo:
      widths = [(0, 0, 0)] * nd
      widths[i] = (lo, 0, 0)
      array = sl.pad(array, _scalar_at(cv, i, 0), tuple(widths))
    if hi:
      widths = [(0, 0, 0)] * nd
      widths[i] = (0, hi, 0)
      array = sl.pad(array, _scalar_at(cv, i, 1), tuple(widths))
  return array


def _check_no_padding(pair, mode):
  if pair[0] > 0 or pair[1] > 0:
    raise ValueError(f"Cannot apply '{mode}' padding to empty axis")


def _pad_wrap(array, pad_width):
  for i in range(array.ndim):
    size = array.shape[i]
    if size == 0:
      _check_no_padding(pad_width[i], "wrap")
      continue
    lrep, lrem = divmod(pad_width[i][0], size)
    rrep, rrem = divmod(pad_width[i][1], size)
    parts = []
    if lrem:
      parts.append(_slice_axis(array, size - lrem, size, i))
    parts += [array] * (lrep + rrep + 1)
    if rrem:
      parts.append(_slice_axis(array, 0, rrem, i))
    array = _concat(parts, i)
  return array


def _pad_symmetric_or_reflect(array, pad_width, mode, reflect_type):
  for i in range(array.ndim):
    n = array.shape[i]
    if n == 0:
      _check_no_padding(pad_width[i], mode)
      continue
    # Reflection repeats itself for pads wider than the axis: grow one period at a time.
    offset = 1 if (mode == "reflect" and n > 1) else 0

    def build(array, padding, before):
      cur_n = array.shape[i]
      edge = (_slice_axis(array, 0, 1, i) if before
              else _slice_axis(array, cur_n - 1, cur_n, i))
      while padding > 0:
        cur_n = array.shape[i]
        k = _min(padding, n - offset)
        padding -= k
        if before:
          x = _slice_axis(array, offset, offset + k, i)
        else:
          stop = cur_n if (mode == "symmetric" or n == 1) else cur_n - 1
          x = _slice_axis(array, stop - k, stop, i)
        x = flip(x, i)
        if reflect_type == "odd":
          two_edge = lax.add(edge, edge)
          x = lax.sub(broadcast_to(two_edge, x.shape), x)
          if n > 1:
            edge = (_slice_axis(x, 0, 1, i) if before
                    else _slice_axis(x, x.shape[i] - 1, x.shape[i], i))
        array = _concat([x, array] if before else [array, x], i)
      return array
    array = build(array, pad_width[i][0], True)
    array = build(array, pad_width[i][1], False)
  return array


def _repeat_axis(x, n, axis):
  """A size-1 axis broadcast to size n."""
  shape = list(x.shape)
  shape[axis] = n
  return lax.broadcast_in_dim(lax.squeeze(x, (axis,)), tuple(shape),
                              tuple(d for d in range(x.ndim) if d != axis))


def _pad_edge(array, pad_width):
  for i in range(array.ndim):
    n = array.shape[i]
    if n == 0:
      _check_no_padding(pad_width[i], "edge")
      continue
    lo, hi = pad_width[i]
    parts = []
    if lo:
      parts.append(_repeat_axis(_slice_axis(array, 0, 1, i), lo, i))
    parts.append(array)
    if hi:
      parts.append(_repeat_axis(_slice_axis(array, n - 1, n, i), hi, i))
    array = _concat(parts, i)
  return array


def _ramp(start, stop, num, axis, dtype, weak):
  """linspace(start, stop, num, endpoint=False) along `axis` (start a scalar, stop an
  array with a unit `axis`), computed as JAX does (start*(1-t) + stop*t, t = k/num, then
  floored for integer dtypes) so integer ramps round exactly as JAX's."""
  shape = list(stop.shape)
  shape[axis] = num
  shape = tuple(shape)
  cdt = dtypes.canonicalize_dtype(dtypes.to_inexact_dtype(dtype))
  stop_c = broadcast_to(lax.convert_element_type(stop, cdt), shape)
  start_c = lax.convert_element_type(start, cdt)
  if num > 1:
    t = lax.div(lax.broadcasted_iota(cdt, shape, axis), lax._const(stop_c, num))
    out = lax.add(lax.mul(start_c, lax.sub(lax._const(t, 1), t)), lax.mul(stop_c, t))
  else:
    out = broadcast_to(start_c, shape)
  if dtypes.issubdtype(dtype, np.integer):
    out = lax.floor(out)
  return lax.convert_element_type(out, dtype, weak)


def _pad_linear_ramp(array, pad_width, end_values):
  for i in range(array.ndim):
    n = array.shape[i]
    lo, hi = pad_width[i]
    if n == 0:
      _check_no_padding(pad_width[i], "linear_ramp")
      continue
    parts = []
    if lo:
      parts.append(_ramp(end_values[i][0], _slice_axis(array, 0, 1, i), lo, i, array.dtype,
                         array.weak_type))
    parts.append(array)
    if hi:
      ramp = _ramp(end_values[i][1], _slice_axis(array, n - 1, n, i), hi, i, array.dtype,
                   array.weak_type)
      parts.append(flip(ramp, i))
    array = _concat(parts, i)
  return array


def _pad_stats(array, pad_width, stat_length, mode):
  red = _red()
  stat_fn = {"maximum": red.max, "minimum": red.min, "mean": red.mean,
             "median": red.median}[mode]
  for i in range(array.ndim):
    n = array.shape[i]
    lo, hi = pad_width[i]
    if n == 0:
      if lo or hi:
        raise ValueError(f"Cannot apply '{mode}' padding to empty axis")
      continue
    s_lo, s_hi = (None, None) if stat_length is None else stat_length[i]
    for s in (s_lo, s_hi):
      if s is not None and s == 0:
        raise ValueError("stat_length of 0 yields no value for padding")
      if s is not None and s < 0:
        raise ValueError("index can't contain negative values")
    s_lo = n if s_lo is None else _min(s_lo, n)
    s_hi = n if s_hi is None else _min(s_hi, n)
    st_lo = stat_fn(_slice_axis(array, 0, s_lo, i), axis=i, keepdims=True)
    st_hi = stat_fn(_slice_axis(array, n - s_hi, n, i), axis=i, keepdims=True)
    if dtypes.issubdtype(array.dtype, np.integer) and mode in ("mean", "median"):
      st_lo = lax.round(st_lo, lax.RoundingMethod.TO_NEAREST_EVEN)
      st_hi = lax.round(st_hi, lax.RoundingMethod.TO_NEAREST_EVEN)
    st_lo = lax.convert_element_type(st_lo, array.dtype, array.weak_type)
    st_hi = lax.convert_element_type(st_hi, array.dtype, array.weak_type)
    parts = ([_repeat_axis(st_lo, lo, i)] if lo else []) + [array] + \
        ([_repeat_axis(st_hi, hi, i)] if hi else [])
    array = _concat(parts, i)
  return array


def _pad_func(array, pad_width, func, **kwargs):
  """A callable mode: func(vector, (lo, hi), axis, kwargs) -> vector, along each axis."""
  from numjax._src.vmap import vmap
  padded = _pad_constant(array, pad_width, 0)
  for axis in range(padded.ndim):
    moved = _moveaxis(padded, (axis,), (-1,))
    rows = lax.reshape(moved, (math.prod(moved.shape[:-1]), moved.shape[-1]))
    fn = lambda v, _w=pad_width[axis], _a=axis: func(v, _w, _a, kwargs)
    out = vmap(fn)(rows) if rows.shape[0] else rows
    padded = _moveaxis(lax.reshape(util._asarray(out), moved.shape), (-1,), (axis,))
  return padded


# ---------------------------------------------------------------------------------------
# Selection

@util.jit_when_traced
def _where(condition, x, y):
  """where(condition, x, y) with promotion and broadcasting (x and y required)."""
  util.check_arraylike("where", condition, x, y)
  condition = util._asarray(condition)
  if condition.dtype != np.bool_:
    condition = lax.ne(condition, lax._const(condition, 0))
  x, y = util.promote_dtypes(x, y)
  if core._eager_only and type(condition) is Array and type(x) is Array and \
      type(y) is Array:
    # eager: the broadcasts and select_n below, as one np.where (a broadcasting select)
    c, xv, yv = condition._value, x._value, y._value
    try:
      shape = np.broadcast_shapes(c.shape, xv.shape, yv.shape)
    except ValueError:
      shape = None  # (the general path raises JAX's error)
    if shape is not None and 0 not in shape:
      return _make(np.where(c, xv, yv), x.weak_type and y.weak_type)
  if condition.ndim == 0:
    x, y = util._broadcast_arrays(x, y)
  else:
    condition, x, y = util._broadcast_arrays(condition, x, y)
  if 0 in x.shape:
    return x
  return lax.select(condition, x, y)


def where(condition, x=None, y=None, /, *, size=None, fill_value=None):
  """Implementation of numpy.where.

  One argument: jnp.nonzero (a static `size` is needed under jit; missing entries take
  `fill_value`, default 0). Three arguments: elementwise selection.
  """
  if x is None and y is None:
    util.check_arraylike("where", condition)
    return nonzero(condition, size=size, fill_value=fill_value)
  util.check_arraylike("where", condition, x, y)
  if size is not None or fill_value is not None:
    raise ValueError("size and fill_value arguments cannot be used in three-term where "
                     "function.")
  if x is None or y is None:
    raise ValueError("Either both or neither of the x and y arguments should be provided to "
                     f"jax.numpy.where, got {x} and {y}.")
  return _where(condition, x, y)


def nonzero(a, *, size=None, fill_value=None):
  """Implementation of numpy.nonzero (a static `size` is needed under jit)."""
  arr = util.ensure_arraylike("nonzero", a)
  if arr.ndim == 0:
    raise ValueError("Calling nonzero on 0d arrays is not allowed. Use "
                     "jnp.atleast_1d(scalar).nonzero() instead.")
  mask = arr if arr.dtype == np.bool_ else lax.ne(arr, lax._const(arr, 0))
  flat = lax.reshape(mask, (mask.size,))
  int_t = dtypes.canonicalize_dtype(dtypes.int_)
  if size is None:
    count = _red().sum(flat)
    size = core.concrete_dim_or_error(
        count, "The size argument of jnp.nonzero must be statically specified to use "
        "jnp.nonzero within JAX transformations.")
  size = core.concrete_dim_or_error(size, "size argument of jnp.nonzero")
  n = flat.shape[0]
  if n == 0 or size == 0:
    return tuple(lax.full((size,), 0, int_t) for _ in arr.shape)
  # The true positions, in order: sort (not-a-hit, position) and keep the first `size`.
  iota = lax.broadcasted_iota(int_t, (n,), 0)
  key = lax.select(flat, iota, lax.full_like(iota, n))
  srt = lax_sorting.sort(key, dimension=0)
  if size <= n:
    flat_idx = _slice_axis(srt, 0, size, 0)
  else:
    flat_idx = lax_slicing.pad(srt, lax._const(srt, n), ((0, size - n, 0),))
  valid = lax.lt(flat_idx, lax._const(flat_idx, n))
  flat_idx = lax.select(valid, flat_idx, lax.full_like(flat_idx, 0))
  strides = [math.prod(arr.shape[i + 1:]) for i in range(arr.ndim)]
  out = [lax.rem(lax.div(flat_idx, lax._const(flat_idx, st)), lax._const(flat_idx, dim))
         if dim > 0 else flat_idx for st, dim in zip(strides, arr.shape)]
  if fill_value is not None:
    fills = fill_value if np.ndim(fill_value) else (fill_value,) * arr.ndim
    if len(fills) != arr.ndim or _any(np.shape(f) != () for f in fills):
      raise ValueError(f"fill_value must be a scalar or a tuple of length {arr.ndim}; got "
                       f"{fill_value}")
    out = [_where(valid, o, f) for o, f in zip(out, fills)]
  return tuple(out)


def select(condlist, choicelist, default=0):
  """Implementation of numpy.select: the first true condition picks the choice."""
  if len(condlist) != len(choicelist):
    raise ValueError(f"condlist must have length equal to choicelist ({len(condlist)} vs "
                     f"{len(choicelist)})")
  if len(condlist) == 0:
    raise ValueError("condlist must be non-empty")
  util.check_arraylike("select", *condlist, *choicelist, default)
  choices = util.promote_dtypes(default, *choicelist)
  conds = [util._asarray(c) for c in condlist]
  conds = [c if c.dtype == np.bool_ else lax.ne(c, lax._const(c, 0)) for c in conds]
  # The choice for each element: a case index (0 = default), picked by the last-to-first
  # cascade so that the first true condition wins.
  everything = util._broadcast_arrays(*conds, *choices)
  conds, choices = everything[:len(conds)], everything[len(conds):]
  idx_t = np.dtype(np.int32)
  idx = lax.full_like(conds[0], 0, idx_t)
  for k in range(len(conds) - 1, -1, -1):
    idx = lax.select(conds[k], lax.full_like(idx, k + 1), idx)
  return lax.select_n(idx, *choices)


def piecewise(x, condlist, funclist, *args, **kw):
  """Implementation of numpy.piecewise (later true conditions win, as in NumPy).

  Every function is evaluated on the whole of x, and results are selected elementwise.
  """
  x = util.ensure_arraylike("piecewise", x)
  if _is_array(condlist) and np.ndim(condlist) == x.ndim:
    condlist = [condlist]
  conds = [util._asarray(c) for c in condlist]
  nc, nf = len(conds), len(funclist)
  if nf == nc + 1:
    funclist = list(funclist[-1:]) + list(funclist[:-1])
  elif nf == nc:
    funclist = [0] + list(funclist)
  else:
    raise ValueError(f"with {nc} condition(s), either {nc} or {nc + 1} functions are "
                     f"expected; got {nf}")
  vals = []
  for f in funclist:
    v = f(x, *args, **kw) if callable(f) else f
    v = lax.convert_element_type(util._asarray(v), x.dtype)
    vals.append(broadcast_to(v, x.shape))
  conds = [broadcast_to(c if c.dtype == np.bool_ else lax.ne(c, lax._const(c, 0)), x.shape)
           for c in conds]
  idx = lax.full(x.shape, 0, np.int32)
  for k, c in enumerate(conds):
    idx = lax.select(c, lax.full_like(idx, k + 1), idx)
  return lax.select_n(idx, *vals)


@util.jit_when_traced
def clip(arr=None, /, min=None, max=None):
  """Implementation of numpy.clip (NaN propagates; complex input is refused, as JAX)."""
  util.check_arraylike("clip", arr)
  for t in (arr, min, max):
    if t is not None and not isinstance(t, (int, float)) and \
        dtypes.issubdtype(dtypes.dtype(t), np.complexfloating):
      raise ValueError(
          "Clip received a complex value either through the input or the min/max keywords. "
          "Complex values have no ordering and cannot be clipped. Please convert to a real "
          "value or array by taking the real or imaginary components via "
          "jax.numpy.real/imag respectively.")
  if min is not None:
    arr = ufuncs.maximum(min, arr)
  if max is not None:
    arr = ufuncs.minimum(max, arr)
  return util._asarray(arr)
