"""Sorting: `sort` (variadic, stable, lexicographic over `num_keys` keys) and `top_k`.

Orders follow XLA as JAX uses it: `sort` compares floats with -0.0 == 0.0 and every NaN
equal and greater than +inf (so NaNs go to the end); complex numbers compare
lexicographically (real part, then imaginary part). `top_k` uses the IEEE total order
(-NaN < -inf < ... < -0.0 < 0.0 < ... < +inf < +NaN) and prefers the lower index on ties.

Derivatives permute the tangents with the sort permutation (a take-along-axis gather), so
they are linear and transpose to a scatter.
"""
from __future__ import annotations

import operator
from typing import Sequence

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.core import Primitive, ShapedArray
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters.ad import Zero
from numjax._src.lax import lax as _lax
from numjax._src.lax import slicing
from numjax._src.lax.lax import asarray
from numjax._src.lax.reductions import checked_eager

_bool = np.dtype(bool)
_f32 = np.dtype(np.float32)


# ---------------------------------------------------------------------------------------
# Sort keys: every operand becomes one or two integer arrays whose order is the wanted order

def _float_bits_key(x, canonicalize):
  """Unsigned ints ordered as the floats' IEEE total order. With `canonicalize`, -0.0 and
  0.0 compare equal and every NaN is +NaN (larger than +inf), as in `sort`."""
  if x.dtype.itemsize < 4:  # float16/bfloat16/float8: float32 holds them exactly
    x = x.astype(_f32)
  if canonicalize:
    x = np.where(x == 0, np.zeros((), x.dtype), x)
    x = np.where(np.isnan(x), np.array(np.nan, x.dtype), x)
  ut = np.dtype(f"uint{x.dtype.itemsize * 8}")
  b = np.ascontiguousarray(x).view(ut)
  top = ut.type(1 << (x.dtype.itemsize * 8 - 1))
  return np.where(b & top, ~b, b | top)


def _keys(x, canonicalize=True):
  """Unsigned-integer sort keys for one operand, most significant first."""
  dt = x.dtype
  if dt == _bool:
    return [x.astype(np.uint8)]
  if dt.kind == "u":
    return [x]
  if dt.kind == "i":  # flipping the sign bit maps two's complement order to unsigned order
    ut = np.dtype(f"uint{dt.itemsize * 8}")
    return [np.ascontiguousarray(x).view(ut) ^ ut.type(1 << (dt.itemsize * 8 - 1))]
  if dt.kind == "c":
    return [_float_bits_key(np.real(x), canonicalize), _float_bits_key(np.imag(x), canonicalize)]
  return [_float_bits_key(x, canonicalize)]


def _packed_order(key):
  """For one key of at most 32 bits: the key and the position packed into one uint64, so
  that NumPy's fast (unstable) sort yields the stable order. None if it does not fit."""
  n = key.shape[-1]
  if key.dtype.itemsize > 4 or n >= 2 ** 32:
    return None
  return (key.astype(np.uint64) << np.uint64(32)) | np.arange(n, dtype=np.uint64)


_LOW32 = np.uint64(0xFFFFFFFF)


def _argsort_last(keys):
  """A stable argsort along the last axis, lexicographic over `keys` (first = primary)."""
  if len(keys) == 1:
    packed = _packed_order(keys[0])
    if packed is not None:
      return (np.sort(packed, axis=-1) & _LOW32).astype(np.intp)
    return np.argsort(keys[0], axis=-1, kind="stable")
  return np.lexsort(keys[::-1], axis=-1)


def _sort_values(x, axis):
  """Sort one real array: NumPy's fast sort has XLA's order (NaNs last, -0.0 == 0.0); only
  the order inside runs of equal zeros and of NaNs can differ from a stable sort, and those
  runs are restored from the input."""
  if x.dtype.kind in "biu":
    return np.sort(x, axis=axis)
  lowp = x.dtype.itemsize < 4 and x.dtype != np.float16
  xs = x.astype(_f32) if lowp else x
  out = np.sort(xs, axis=axis)
  for pick in (lambda v: v == 0, np.isnan):
    where_in = pick(xs)
    if where_in.any():
      out = np.moveaxis(out, axis, -1).copy()
      out[pick(out)] = np.moveaxis(xs, axis, -1)[np.moveaxis(where_in, axis, -1)]
      out = np.moveaxis(out, -1, axis)
  return out.astype(x.dtype) if lowp else out


# ---------------------------------------------------------------------------------------
# sort

sort_p = Primitive("sort")
sort_p.multiple_results = True
sort_p.numpy_tier_only = True


def _sort_impl(*operands, dimension, is_stable, num_keys):
  if len(operands) == 1 and operands[0].dtype.kind != "c":
    return [_sort_values(operands[0], dimension)]
  moved = [np.moveaxis(x, dimension, -1) for x in operands]
  keys = [k for x in moved[:num_keys] for k in _keys(x)]
  perm = _argsort_last(keys)
  return [np.moveaxis(np.take_along_axis(x, perm, axis=-1), -1, dimension) for x in moved]


def _sort_abstract(*operands, dimension, is_stable, num_keys):
  if not operands:
    raise TypeError("Sort requires at least one operand")
  shape = operands[0].shape
  if any(o.shape != shape for o in operands):
    raise TypeError("Arguments to sort must have equal shapes, got: "
                    + " ".join(str(o.shape) for o in operands))
  if not 0 <= dimension < len(shape):
    raise ValueError(f"axis {dimension} is out of bounds for array of dimension {len(shape)}")
  if not 1 <= num_keys <= len(operands):
    raise ValueError(f"num_keys={num_keys} must be between 1 and "
                     f"len(operand)={len(operands)}")
  return [ShapedArray(o.shape, o.dtype, o.weak_type) for o in operands]


def _sort_batch(vals, dims, *, dimension, is_stable, num_keys):
  size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
  vals = [batching.bdim_at_front(v, d, size) for v, d in zip(vals, dims)]
  outs = sort_p.bind(*vals, dimension=dimension + 1, is_stable=is_stable, num_keys=num_keys)
  return outs, [0] * len(outs)


def _sort_jvp(primals, tangents, *, dimension, is_stable, num_keys):
  shape = core.get_aval(primals[0]).shape
  iota = _lax.broadcasted_iota(_index_dtype(shape[dimension]), shape, dimension)
  *outs, perm = sort_p.bind(*primals, iota, dimension=dimension, is_stable=is_stable,
                            num_keys=num_keys)
  t_out = [Zero(ad.tangent_aval(core.get_aval(o))) if type(t) is Zero
           else take_along_axis(t, perm, dimension) for o, t in zip(outs, tangents)]
  return outs, t_out


sort_p.impl = _sort_impl
sort_p.abstract_eval = _sort_abstract
checked_eager(sort_p)  # validates eagerly; each output keeps its operand's weak type
ad.primitive_jvps[sort_p] = _sort_jvp
batching.primitive_batchers[sort_p] = _sort_batch


def _canonical_dim(dim, ndim):
  dim = operator.index(dim)
  if not -ndim <= dim < ndim:
    raise ValueError(f"axis {dim} is out of bounds for array of dimension {ndim}")
  return dim % ndim


def sort(operand, dimension: int = -1, is_stable: bool = True, num_keys: int = 1):
  """lax.sort: sort `operand` (an array, or a sequence of same-shaped arrays sorted together
  by their first `num_keys` arrays, lexicographically) along `dimension`. Stable; NaNs
  last; -0.0 == 0.0."""
  if isinstance(operand, Sequence):
    if len(operand) == 0:
      raise TypeError("Sort requires at least one operand")
    ops = [asarray(o) for o in operand]
    num_keys = operator.index(num_keys)
    if not 1 <= num_keys <= len(ops):
      raise ValueError(f"num_keys={num_keys} must be between 1 and len(operand)={len(ops)}")
    dimension = _canonical_dim(dimension, ops[0].ndim)
    return tuple(sort_p.bind(*ops, dimension=dimension, is_stable=bool(is_stable),
                             num_keys=num_keys))
  if num_keys != 1:
    raise ValueError(f"num_keys={num_keys} must equal 1 for a single operand.")
  x = asarray(operand)
  dimension = _canonical_dim(dimension, x.ndim)
  return sort_p.bind(x, dimension=dimension, is_stable=bool(is_stable), num_keys=1)[0]


def sort_key_val(keys, values, dimension: int = -1, is_stable: bool = True):
  """lax.sort_key_val: sort `keys` along `dimension` and permute `values` alike."""
  keys, values = asarray(keys), asarray(values)
  dimension = _canonical_dim(dimension, keys.ndim)
  k, v = sort_p.bind(keys, values, dimension=dimension, is_stable=bool(is_stable), num_keys=1)
  return k, v


# ---------------------------------------------------------------------------------------
# top_k

top_k_p = Primitive("top_k")
top_k_p.multiple_results = True
top_k_p.numpy_tier_only = True


def _top_k_impl(x, *, k, axis):
  moved = np.moveaxis(x, axis, -1)
  (key,) = _keys(moved, canonicalize=False)
  # descending by key, ascending by index on ties: the first k of a stable sort of ~key
  packed = _packed_order(~key)
  if packed is None:
    perm = np.argsort(~key, axis=-1, kind="stable")[..., :k]
  else:
    n = packed.shape[-1]
    if 0 < k < n:  # select the k smallest packed keys, then order only those
      packed = np.partition(packed, k - 1, axis=-1)[..., :k]
    perm = (np.sort(packed, axis=-1)[..., :k] & _LOW32).astype(np.intp)
  vals = np.take_along_axis(moved, perm, axis=-1)
  return [np.moveaxis(vals, -1, axis), np.moveaxis(perm.astype(np.int32), -1, axis)]


def _top_k_abstract(x, *, k, axis):
  if k < 0:
    raise ValueError(f"k argument to top_k must be nonnegative, got {k}")
  if not 0 <= axis < x.ndim:
    raise ValueError(f"axis {axis} is out of bounds for array of dimension {x.ndim}")
  if x.shape[axis] < k:
    raise ValueError(f"k argument to top_k must be no larger than size along axis; got "
                     f"k={k} with shape={list(x.shape)} and axis={axis}")
  if x.dtype.kind == "c":
    raise ValueError("top_k is not compatible with complex inputs.")
  shape = list(x.shape)
  shape[axis] = k
  return [ShapedArray(tuple(shape), x.dtype, x.weak_type),
          ShapedArray(tuple(shape), np.dtype(np.int32), x.weak_type)]


def _top_k_batch(vals, dims, *, k, axis):
  (x,), (d,) = vals, dims
  outs = top_k_p.bind(x, k=k, axis=axis + (axis >= d))
  return outs, [d, d]


def _top_k_jvp(primals, tangents, *, k, axis):
  (x,), (t,) = primals, tangents
  vals, idx = top_k_p.bind(x, k=k, axis=axis)
  if type(t) is Zero:
    return [vals, idx], [Zero(ad.tangent_aval(core.get_aval(vals))),
                         Zero(ad.tangent_aval(core.get_aval(idx)))]
  return [vals, idx], [take_along_axis(t, idx, axis), Zero(ad.tangent_aval(core.get_aval(idx)))]


top_k_p.impl = _top_k_impl
top_k_p.abstract_eval = _top_k_abstract
checked_eager(top_k_p)
ad.primitive_jvps[top_k_p] = _top_k_jvp
batching.primitive_batchers[top_k_p] = _top_k_batch


def top_k(operand, k: int, *, axis: int = -1):
  """lax.top_k: the `k` largest entries along `axis` (default: the last) in descending
  order, and their int32 indices (ties: the lower index first; NaN is largest)."""
  x = asarray(operand)
  k = operator.index(k)
  axis = _canonical_dim(axis, x.ndim)
  vals, idx = top_k_p.bind(x, k=k, axis=axis)
  return vals, idx


# ---------------------------------------------------------------------------------------
# Permuting tangents

def _index_dtype(n):
  return np.dtype(np.int32) if n < 2 ** 31 else np.dtype(np.int64)


def take_along_axis(x, idx, axis):
  """out[..., i, ...] = x[..., idx[..., i, ...], ...] along `axis` (idx in bounds): a gather
  with every other dimension a batching dimension (differentiable: transposes to a
  scatter-add)."""
  nd = core.get_aval(x).ndim
  batch = tuple(d for d in range(nd) if d != axis)
  idx = _lax.reshape(idx, core.get_aval(idx).shape + (1,))
  dnums = slicing.GatherDimensionNumbers(
      offset_dims=(), collapsed_slice_dims=(axis,), start_index_map=(axis,),
      operand_batching_dims=batch, start_indices_batching_dims=batch)
  return slicing.gather(x, idx, dnums, (1,) * nd, indices_are_sorted=False,
                        unique_indices=False, mode=slicing.GatherScatterMode.PROMISE_IN_BOUNDS)
