"""Slicing and indexing primitives: slice, concatenate, pad, rev, dynamic_slice,
dynamic_update_slice. Gather and the scatter family live in lax/gather_scatter.py and are
re-exported here (numjax.lax and internal users import them from this module).

Each primitive keeps its impl (NumPy on raw buffers, vectorised), shape rule (raising JAX's
TypeErrors), jvp or transpose, and batching rule together. Rules are written with lax
functions so they are themselves differentiable and batchable.

Out-of-bounds semantics follow XLA, as JAX does: dynamic_slice / dynamic_update_slice clamp
their start indices so the window stays in bounds; gather clamps (CLIP, PROMISE_IN_BOUNDS) or
fills (FILL_OR_DROP); scatter drops out-of-bounds windows (FILL_OR_DROP, PROMISE_IN_BOUNDS)
or clamps them (CLIP).
"""
from __future__ import annotations

import builtins
import operator

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.array import Array, _make
from numjax._src.core import Primitive, ShapedArray, Tracer
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters.ad import Zero
from numjax._src.lax import lax as lax_
from numjax._src.lax.lax import asarray
from numjax._src.lax.slicing_common import _aval, _checked_eager, _ints
from numjax._src.lax.gather_scatter import (  # noqa: F401
    GatherDimensionNumbers, GatherScatterMode, ScatterDimensionNumbers, _gather_batch,
    _scatter_batch, _scatter_dnums_of, gather, gather_p, scatter, scatter_add, scatter_add_p,
    scatter_apply, scatter_max, scatter_max_p, scatter_min, scatter_min_p, scatter_mul,
    scatter_mul_p, scatter_p, scatter_sub, scatter_sub_p)

_slice = builtins.slice


def _zero(x):
  """A rank-0 zero of x's dtype (strong), usable as a pad value or scatter init."""
  return _make(np.zeros((), dtype=x.dtype), False)


def _reduce_sum_all(x):
  from numjax._src.lax.reductions import reduce_sum  # sibling family, imported lazily
  return reduce_sum(x, tuple(range(core.get_aval(x).ndim)))


def _check_shapelike(name, what, xs, allow_negative=False):
  if not allow_negative and any(int(v) < 0 for v in xs):
    raise TypeError(f"{name} {what} must have every element be nonnegative, got "
                    f"{tuple(xs)}.")


# ---------------------------------------------------------------------------------------
# slice

slice_p = Primitive("slice")
slice_p.numpy_tier_only = True


def _slice_impl(x, *, start_indices, limit_indices, strides):
  st = strides or (1,) * x.ndim
  return x[tuple(_slice(s, l, k) for s, l, k in zip(start_indices, limit_indices, st))]


def _slice_shape(shape, start_indices, limit_indices, strides):
  if len(start_indices) != len(shape):
    raise TypeError(f"slice start_indices must have length equal to the number of dimensions "
                    f"of the operand, got indices {start_indices} for operand shape {shape}.")
  if len(limit_indices) != len(start_indices):
    raise TypeError(f"slice limit_indices must have the same length as start_indices, got "
                    f"start_indices {start_indices} and limit_indices {limit_indices}.")
  if any(l > d for l, d in zip(limit_indices, shape)):
    raise TypeError(f"slice limit_indices must be less than or equal to operand shape, got "
                    f"limit_indices {limit_indices} for operand shape {shape}.")
  if any(s < 0 for s in start_indices):
    raise TypeError(f"slice start_indices must be greater than or equal to zero, got "
                    f"start_indices of {start_indices}.")
  if any(l < s for s, l in zip(start_indices, limit_indices)):
    raise TypeError(f"slice limit_indices must be greater than or equal to start_indices, got "
                    f"start_indices {start_indices} and limit_indices {limit_indices}.")
  if strides is None:
    return tuple(l - s for s, l in zip(start_indices, limit_indices))
  if len(strides) != len(shape):
    raise TypeError(f"slice strides must have length equal to the number of dimensions of the "
                    f"operand, got strides {strides} for operand shape {shape}.")
  if any(k <= 0 for k in strides):
    raise TypeError(f"slice strides must be positive, got {strides}.")
  return tuple((l - s + k - 1) // k for s, l, k in zip(start_indices, limit_indices, strides))


def _slice_abstract(x, *, start_indices, limit_indices, strides):
  shape = _slice_shape(x.shape, start_indices, limit_indices, strides)
  return ShapedArray(shape, x.dtype, x.weak_type)


def _slice_transpose(ct, x, *, start_indices, limit_indices, strides):
  if type(ct) is Zero:
    return [Zero(x.aval)]
  shape = x.aval.shape
  st = strides or (1,) * len(shape)
  ct_shape = core.get_aval(ct).shape
  config = []
  for s, n, k, d in zip(start_indices, ct_shape, st, shape):
    used = s + ((n - 1) * k + 1 if n else 0)
    config.append((s, d - used, k - 1))
  return [pad(ct, _zero(ct), config)]


def _slice_batch(vals, dims, *, start_indices, limit_indices, strides):
  (x,), (d,) = vals, dims
  size = core.get_aval(x).shape[d]
  start = start_indices[:d] + (0,) + start_indices[d:]
  limit = limit_indices[:d] + (size,) + limit_indices[d:]
  st = None if strides is None else strides[:d] + (1,) + strides[d:]
  return slice_p.bind(x, start_indices=start, limit_indices=limit, strides=st), d


slice_p.impl = _slice_impl
slice_p.abstract_eval = _slice_abstract
ad.deflinear(slice_p, _slice_transpose)
batching.primitive_batchers[slice_p] = _slice_batch


def slice(operand, start_indices, limit_indices, strides=None):
  """lax.slice: the static window [start, limit) with optional positive strides."""
  operand = asarray(operand)
  start = _ints(start_indices, "slice start_indices")
  limit = _ints(limit_indices, "slice limit_indices")
  st = None if strides is None else _ints(strides, "slice strides")
  _check_shapelike("slice", "start_indices", start)
  _check_shapelike("slice", "limit_indices", limit)
  if st is not None:
    _check_shapelike("slice", "strides", st)
  return slice_p.bind(operand, start_indices=start, limit_indices=limit, strides=st)


def slice_in_dim(operand, start_index, limit_index, stride=1, axis=0):
  """lax.slice_in_dim: slice along one axis (None and negative bounds allowed)."""
  operand = asarray(operand)
  shape = operand.shape
  axis = operator.index(axis)
  n = shape[axis]
  start = 0 if start_index is None else operator.index(start_index)
  limit = n if limit_index is None else operator.index(limit_index)
  start = start + n if start < 0 else start
  limit = limit + n if limit < 0 else limit
  starts = [0] * len(shape)
  limits = list(shape)
  strides = [1] * len(shape)
  starts[axis], limits[axis], strides[axis] = start, limit, operator.index(stride)
  return slice(operand, starts, limits, strides)


def index_in_dim(operand, index, axis=0, keepdims=True):
  """lax.index_in_dim: one static index along an axis (negative wraps)."""
  operand = asarray(operand)
  index, axis = operator.index(index), operator.index(axis)
  n = operand.shape[axis]
  wrapped = index + n if index < 0 else index
  if not 0 <= wrapped < n:
    raise IndexError(f"index {index} is out of bounds for axis {axis} with size {n}")
  out = slice_in_dim(operand, wrapped, wrapped + 1, 1, axis)
  return out if keepdims else lax_.squeeze(out, (axis,))


# ---------------------------------------------------------------------------------------
# concatenate

concatenate_p = Primitive("concatenate")
concatenate_p.numpy_tier_only = True


def _concatenate_abstract(*xs, dimension):
  if not xs:
    raise TypeError("concatenate expects at least one operand, got 0.")
  if len({x.ndim for x in xs}) != 1:
    raise TypeError("Cannot concatenate arrays with different numbers of dimensions: got "
                    f"{', '.join(str(x.shape) for x in xs)}.")
  if not 0 <= dimension < xs[0].ndim:
    raise TypeError(f"concatenate dimension out of bounds: dimension {dimension} for shapes "
                    f"{', '.join(str(x.shape) for x in xs)}.")
  rest = [x.shape[:dimension] + x.shape[dimension + 1:] for x in xs]
  if any(r != rest[0] for r in rest):
    raise TypeError("Cannot concatenate arrays with shapes that differ in dimensions other "
                    f"than the one being concatenated: concatenating along dimension "
                    f"{dimension} for shapes {', '.join(str(x.shape) for x in xs)}.")
  if len({x.dtype for x in xs}) != 1:
    lax_._check_same_dtypes("concatenate", xs)
  shape = list(xs[0].shape)
  shape[dimension] = sum(x.shape[dimension] for x in xs)
  return ShapedArray(tuple(shape), xs[0].dtype, all(x.weak_type for x in xs))


def _concatenate_transpose(ct, *xs, dimension):
  if type(ct) is Zero:
    return [Zero(x.aval) if ad.is_undefined_primal(x) else None for x in xs]
  out, start = [], 0
  for x in xs:
    n = _aval(x).shape[dimension]
    out.append(slice_in_dim(ct, start, start + n, 1, dimension)
               if ad.is_undefined_primal(x) else None)
    start += n
  return out


def _concatenate_batch(vals, dims, *, dimension):
  size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
  vals = [batching.bdim_at_front(v, d, size) for v, d in zip(vals, dims)]
  return concatenate_p.bind(*vals, dimension=dimension + 1), 0


concatenate_p.impl = lambda *xs, dimension: np.concatenate(xs, axis=dimension)
concatenate_p.abstract_eval = _concatenate_abstract
ad.deflinear(concatenate_p, _concatenate_transpose)
batching.primitive_batchers[concatenate_p] = _concatenate_batch


def concatenate(operands, dimension):
  """lax.concatenate: join arrays of one dtype along `dimension` (no promotion)."""
  if len(operands) == 0:
    raise ValueError("concatenate requires a non-empty sequences of arrays")
  if len(operands) == 1 and isinstance(operands[0], (Array, Tracer)):
    return operands[0]
  xs = [asarray(x) for x in operands]
  return concatenate_p.bind(*xs, dimension=operator.index(dimension))


# ---------------------------------------------------------------------------------------
# pad: low/high (possibly negative) and interior padding

pad_p = Primitive("pad")
pad_p.numpy_tier_only = True


def _dilated(d, interior):
  return 0 if d == 0 else (d - 1) * (interior + 1) + 1


def _pad_impl(x, pv, *, padding_config):
  # Pad with the non-negative edges and interior first, then crop negative edges.
  shape = [builtins.max(lo, 0) + builtins.max(hi, 0) + _dilated(d, i)
           for (lo, hi, i), d in zip(padding_config, x.shape)]
  out = np.full(shape, pv, dtype=x.dtype)
  inner = tuple(_slice(builtins.max(lo, 0), builtins.max(lo, 0) + _dilated(d, i), i + 1)
                for (lo, hi, i), d in zip(padding_config, x.shape))
  out[inner] = x
  crop = tuple(_slice(-lo if lo < 0 else 0, n + hi if hi < 0 else n)
               for (lo, hi, _), n in zip(padding_config, shape))
  return out[crop]


def _pad_abstract(x, pv, *, padding_config):
  if x.dtype != pv.dtype:
    raise TypeError(f"pad operand and padding_value must be same dtype: got {x.dtype} and "
                    f"{pv.dtype}.")
  if pv.ndim != 0:
    raise ValueError(f"padding_value must be a scalar; got np.shape(padding_value)={pv.shape}")
  if len(padding_config) != x.ndim:
    raise ValueError("length of padding_config must equal the number of axes of operand, got "
                     f"padding_config {padding_config} for operand shape {x.shape}")
  if any(i < 0 for _, _, i in padding_config):
    raise ValueError("interior padding in padding_config must be nonnegative, got "
                     f"padding_config {padding_config}")
  shape = tuple(lo + hi + _dilated(d, i) for (lo, hi, i), d in zip(padding_config, x.shape))
  if any(d < 0 for d in shape):
    raise ValueError(f"Dimension size after padding is not at least 0, got result shape "
                     f"{shape}, for padding_config {padding_config} and operand shape "
                     f"{x.shape}")
  return ShapedArray(shape, x.dtype, x.weak_type and pv.weak_type)


def _pad_transpose(ct, x, pv, *, padding_config):
  if type(ct) is Zero:
    return [Zero(x.aval) if ad.is_undefined_primal(x) else None,
            Zero(pv.aval) if ad.is_undefined_primal(pv) else None]
  ct_x = None
  if ad.is_undefined_primal(x) or ad.is_undefined_primal(pv):
    # undo the edges (a pad by the negated amounts), then step over the interior padding
    unpadded = pad(ct, _zero(ct), [(-lo, -hi, 0) for lo, hi, _ in padding_config])
    ushape = core.get_aval(unpadded).shape
    ct_x = slice(unpadded, (0,) * len(ushape), ushape,
                 tuple(i + 1 for _, _, i in padding_config))
  ct_pv = None
  if ad.is_undefined_primal(pv):
    ct_pv = lax_.sub(_reduce_sum_all(ct), _reduce_sum_all(ct_x))
  return [ct_x if ad.is_undefined_primal(x) else None, ct_pv]


def _pad_batch(vals, dims, *, padding_config):
  x, pv = vals
  xd, pd = dims
  if xd is None:
    size = core.get_aval(pv).shape[pd]
    x, xd = batching.broadcast(x, size, 0), 0
  config = list(padding_config)
  config.insert(xd, (0, 0, 0))
  config = tuple(config)
  if pd is None:
    return pad_p.bind(x, pv, padding_config=config), xd
  # A batched padding value: pad with zeros, then select the padding value by a mask.
  pv = batching.moveaxis(pv, pd, 0)
  padded = pad_p.bind(x, _zero(x), padding_config=config)
  mask = pad_p.bind(lax_.full_like(x, True, np.dtype(bool)), _make(np.array(False), False),
                    padding_config=config)
  out_shape = core.get_aval(padded).shape
  fill = lax_.broadcast_in_dim(pv, out_shape, (xd,))
  return lax_.select(mask, padded, fill), xd


pad_p.impl = _pad_impl
pad_p.abstract_eval = _pad_abstract
ad.deflinear(pad_p, _pad_transpose)
batching.primitive_batchers[pad_p] = _pad_batch


def pad(operand, padding_value, padding_config):
  """lax.pad: (low, high, interior) padding per axis; negative low/high crop."""
  operand, padding_value = asarray(operand), asarray(padding_value)
  config = tuple((int(lo), int(hi), int(i)) for lo, hi, i in padding_config)
  return pad_p.bind(operand, padding_value, padding_config=config)


# ---------------------------------------------------------------------------------------
# rev

rev_p = Primitive("rev")
rev_p.numpy_tier_only = True


def _rev_abstract(x, *, dimensions):
  if len(set(dimensions)) != len(dimensions):
    raise TypeError(f"rev dimensions must be unique, got {dimensions}.")
  if dimensions and builtins.max(dimensions) >= x.ndim:
    raise TypeError(f"rev dimensions must all be less than operand ndim, got dimensions "
                    f"{dimensions} for operand ndim {x.ndim}.")
  return x


rev_p.impl = lambda x, *, dimensions: np.flip(x, dimensions) if dimensions else x
rev_p.abstract_eval = _rev_abstract
ad.deflinear(rev_p, lambda ct, x, *, dimensions: [
    Zero(x.aval) if type(ct) is Zero else rev_p.bind(ct, dimensions=dimensions)])
batching.primitive_batchers[rev_p] = lambda vals, dims, *, dimensions: (
    rev_p.bind(vals[0], dimensions=tuple(d + (d >= dims[0]) for d in dimensions)), dims[0])


def rev(operand, dimensions):
  """lax.rev: reverse the order of elements along `dimensions`."""
  operand = asarray(operand)
  dims = tuple(operator.index(d) for d in dimensions)
  _check_shapelike("rev", "dimensions", dims)
  return rev_p.bind(operand, dimensions=dims)


# ---------------------------------------------------------------------------------------
# dynamic_slice / dynamic_update_slice (start indices clamped so the window fits, as XLA)

def _clamped_starts(idx, shape, sizes):
  return [builtins.min(builtins.max(int(i), 0), d - s) for i, d, s in zip(idx, shape, sizes)]


def _check_index_dtypes(name, idx):
  if any(i.dtype != idx[0].dtype or not _dtypes.issubdtype(i.dtype, np.integer) for i in idx):
    raise TypeError(f"index arguments to {name} must be integers of the same type, got: "
                    f"{', '.join(i.dtype.name for i in idx)}")
  if any(i.ndim != 0 for i in idx):
    raise TypeError(f"start_indices arguments to {name} must be scalars, got indices "
                    f"{[i.str_short() for i in idx]}")


dynamic_slice_p = Primitive("dynamic_slice")
dynamic_slice_p.numpy_tier_only = True


def _dynamic_slice_impl(x, *idx, slice_sizes):
  starts = _clamped_starts(idx, x.shape, slice_sizes)
  return x[tuple(_slice(s, s + n) for s, n in zip(starts, slice_sizes))]


def _dynamic_slice_abstract(x, *idx, slice_sizes):
  if len(slice_sizes) != x.ndim or len(idx) != x.ndim:
    raise TypeError(f"dynamic_slice needs one start index and one slice size per operand "
                    f"dimension, got {len(idx)} indices and slice_sizes {slice_sizes} for "
                    f"operand shape {x.shape}.")
  if any(s > d for s, d in zip(slice_sizes, x.shape)):
    raise TypeError(f"slice slice_sizes must be less than or equal to operand shape, got "
                    f"slice_sizes {slice_sizes} for operand shape {x.shape}.")
  if any(s < 0 for s in slice_sizes):
    raise TypeError(f"slice slice_sizes must be greater than or equal to zero, got "
                    f"slice_sizes of {slice_sizes}.")
  if idx:
    _check_index_dtypes("dynamic_slice", idx)
  return ShapedArray(slice_sizes, x.dtype, x.weak_type)


def _dynamic_slice_jvp(primals, tangents, *, slice_sizes):
  out = dynamic_slice_p.bind(*primals, slice_sizes=slice_sizes)
  t = tangents[0]
  if type(t) is Zero:
    return out, Zero(ad.tangent_aval(core.get_aval(out)))
  return out, dynamic_slice_p.bind(t, *primals[1:], slice_sizes=slice_sizes)


def _dynamic_slice_transpose(ct, x, *idx, slice_sizes):
  assert ad.is_undefined_primal(x) and not any(ad.is_undefined_primal(i) for i in idx)
  if type(ct) is Zero:
    return [Zero(x.aval)] + [None] * len(idx)
  zeros = lax_.full(x.aval.shape, 0, x.aval.dtype)
  return [dynamic_update_slice_p.bind(zeros, ct, *idx)] + [None] * len(idx)


def _index_dtype(idx):
  return core.get_aval(idx[0]).dtype if idx else np.dtype(np.int32)


def _dynamic_slice_batch(vals, dims, *, slice_sizes):
  x, *idx = vals
  xd, *idims = dims
  if all(d is None for d in idims):
    # Only the operand is batched: slice the whole batch axis.
    zero = _make(np.zeros((), _index_dtype(idx)), False)
    idx.insert(xd, zero)
    sizes = slice_sizes[:xd] + (core.get_aval(x).shape[xd],) + slice_sizes[xd:]
    return dynamic_slice_p.bind(x, *idx, slice_sizes=sizes), xd
  # Batched start indices: an equivalent gather (one index vector per example), as JAX.
  size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
  ivec = _stack_index_vector(idx, idims, size)
  nd = len(slice_sizes)
  dnums = GatherDimensionNumbers(offset_dims=tuple(range(nd)), collapsed_slice_dims=(),
                                 start_index_map=tuple(range(nd)))
  return _gather_batch([x, ivec], [xd, 0], dimension_numbers=dnums, slice_sizes=slice_sizes,
                       indices_are_sorted=True, unique_indices=True,
                       mode=GatherScatterMode.CLIP, fill_value=None)


def _stack_index_vector(idx, idims, size):
  """Scalar start indices (some batched) -> one (size, n) index array, batch axis first."""
  cols = [lax_.reshape(batching.bdim_at_front(i, d, size), (size, 1)) for i, d in zip(idx, idims)]
  if not cols:
    return lax_.full((size, 0), 0, np.int32)
  return concatenate_p.bind(*cols, dimension=1) if len(cols) > 1 else cols[0]


dynamic_slice_p.impl = _dynamic_slice_impl
dynamic_slice_p.abstract_eval = _dynamic_slice_abstract
dynamic_slice_p.weak_type_rule = lambda args, params: args[0].weak_type
ad.primitive_jvps[dynamic_slice_p] = _dynamic_slice_jvp
ad.primitive_transposes[dynamic_slice_p] = _dynamic_slice_transpose
batching.primitive_batchers[dynamic_slice_p] = _dynamic_slice_batch


dynamic_update_slice_p = Primitive("dynamic_update_slice")
dynamic_update_slice_p.numpy_tier_only = True


def _dynamic_update_slice_impl(x, upd, *idx):
  starts = _clamped_starts(idx, x.shape, upd.shape)
  out = x.copy()
  out[tuple(_slice(s, s + n) for s, n in zip(starts, upd.shape))] = upd
  return out


def _dynamic_update_slice_abstract(x, upd, *idx):
  if x.ndim != upd.ndim:
    raise TypeError(f"dynamic_update_slice update must have the same rank as operand, got "
                    f"update shape {upd.shape} for operand shape {x.shape}.")
  if len(idx) != x.ndim:
    raise TypeError(f"dynamic_update_slice start_indices must have length equal to the rank "
                    f"of operand, got {len(idx)} indices for operand shape {x.shape}.")
  if any(u > d for u, d in zip(upd.shape, x.shape)):
    raise TypeError(f"dynamic_update_slice update shape must be smaller than operand shape, "
                    f"got update shape {upd.shape} for operand shape {x.shape}.")
  if x.dtype != upd.dtype:
    lax_._check_same_dtypes("dynamic_update_slice", (x, upd))
  if idx:
    _check_index_dtypes("dynamic_update_slice", idx)
  return ShapedArray(x.shape, x.dtype, x.weak_type and upd.weak_type)


def _dynamic_update_slice_jvp(primals, tangents):
  x, upd, *idx = primals
  tx, tu = tangents[:2]
  out = dynamic_update_slice_p.bind(x, upd, *idx)
  if type(tx) is Zero and type(tu) is Zero:
    return out, Zero(ad.tangent_aval(core.get_aval(out)))
  tx, tu = ad.instantiate_zeros(tx), ad.instantiate_zeros(tu)
  return out, dynamic_update_slice_p.bind(tx, tu, *idx)


def _dynamic_update_slice_transpose(ct, x, upd, *idx):
  assert not any(ad.is_undefined_primal(i) for i in idx)
  ux, uu = ad.is_undefined_primal(x), ad.is_undefined_primal(upd)
  ua = _aval(upd)
  if type(ct) is Zero:
    return [Zero(x.aval) if ux else None, Zero(ua) if uu else None] + [None] * len(idx)
  ct_x = dynamic_update_slice_p.bind(ct, lax_.full(ua.shape, 0, ua.dtype), *idx) if ux else None
  ct_u = dynamic_slice_p.bind(ct, *idx, slice_sizes=ua.shape) if uu else None
  return [ct_x, ct_u] + [None] * len(idx)


def _dynamic_update_slice_batch(vals, dims):
  x, upd, *idx = vals
  xd, ud, *idims = dims
  size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
  x = batching.bdim_at_front(x, xd, size)
  upd = batching.bdim_at_front(upd, ud, size)
  if all(d is None for d in idims):
    zero = _make(np.zeros((), _index_dtype(idx)), False)
    return dynamic_update_slice_p.bind(x, upd, zero, *idx), 0
  # Batched start indices: an equivalent scatter, as JAX.
  ivec = _stack_index_vector(idx, idims, size)
  nd = len(idx)
  dnums = ScatterDimensionNumbers(update_window_dims=tuple(range(nd)), inserted_window_dims=(),
                                  scatter_dims_to_operand_dims=tuple(range(nd)))
  return _scatter_batch(scatter_p, [x, ivec, upd], [0, 0, 0], dimension_numbers=dnums,
                        indices_are_sorted=True, unique_indices=True,
                        mode=GatherScatterMode.CLIP, update_jaxpr=None, update_consts=())


dynamic_update_slice_p.impl = _dynamic_update_slice_impl
dynamic_update_slice_p.abstract_eval = _dynamic_update_slice_abstract
dynamic_update_slice_p.weak_type_rule = lambda args, params: args[0].weak_type and args[1].weak_type
ad.primitive_jvps[dynamic_update_slice_p] = _dynamic_update_slice_jvp
ad.primitive_transposes[dynamic_update_slice_p] = _dynamic_update_slice_transpose
batching.primitive_batchers[dynamic_update_slice_p] = _dynamic_update_slice_batch


def _dynamic_slice_indices(shape, start_indices, allow_negative_indices=True):
  """Start indices as index arrays; negative ones count from the end (when allowed)."""
  if not isinstance(start_indices, (list, tuple)):
    si = asarray(start_indices)
    if si.ndim != 1:
      raise ValueError(f"Slice indices must be a 1D sequence, got {si.shape}")
    start_indices = [lax_.reshape(slice(si, (k,), (k + 1,)), ()) for k in range(si.shape[0])]
  if len(start_indices) != len(shape):
    raise ValueError(f"Length of slice indices must match number of operand dimensions "
                     f"({len(start_indices)} vs {shape})")
  if isinstance(allow_negative_indices, bool):
    allow_negative_indices = [allow_negative_indices] * len(shape)
  out = []
  for i, d, neg in zip(start_indices, shape, allow_negative_indices):
    if isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)):
      if i < 0 and not neg:
        raise ValueError(f"Index {i} is out of bounds for dimension {d} if "
                         "allow_negative_indices=False")
      dt = _dtypes.dtype(i, canonicalize=True)
      out.append(_make(np.asarray(i + d if i < 0 else i, dtype=dt), False))
      continue
    i = asarray(i)
    if _dtypes.issubdtype(i.dtype, np.unsignedinteger) or not neg:
      out.append(i)
    elif isinstance(i, Array) and i.ndim == 0 and _dtypes.issubdtype(i.dtype, np.integer):
      v = int(i._value)  # concrete: normalise without staging ops
      out.append(_make(np.asarray(v + d if v < 0 else v, dtype=i.dtype), False) if v < 0 else i)
    else:
      d_arr = lax_.convert_element_type(d, i.dtype)
      out.append(lax_.select(lax_.lt(i, _make(np.zeros((), i.dtype), False)),
                             lax_.add(i, d_arr), i))
  return out


def dynamic_slice(operand, start_indices, slice_sizes, *, allow_negative_indices=True):
  """lax.dynamic_slice: a window of static size at (possibly traced) start indices.

  Start indices are clamped so the window stays inside the operand (XLA semantics)."""
  operand = asarray(operand)
  idx = _dynamic_slice_indices(operand.shape, start_indices, allow_negative_indices)
  sizes = _ints(slice_sizes, "dynamic_slice slice_sizes")
  return dynamic_slice_p.bind(operand, *idx, slice_sizes=sizes)


def dynamic_update_slice(operand, update, start_indices, *, allow_negative_indices=True):
  """lax.dynamic_update_slice: write `update` at (clamped) start indices."""
  operand, update = asarray(operand), asarray(update)
  idx = _dynamic_slice_indices(operand.shape, start_indices, allow_negative_indices)
  return dynamic_update_slice_p.bind(operand, update, *idx)


def _axis_indices(operand, index, axis):
  if isinstance(index, int):
    zero = 0
  elif isinstance(index, np.integer):
    zero = index.dtype.type(0)
  else:
    index = asarray(index)
    zero = _make(np.zeros((), index.dtype), False)
  starts = [zero] * operand.ndim
  starts[axis] = index
  return starts


def dynamic_slice_in_dim(operand, start_index, slice_size, axis=0, *,
                         allow_negative_indices=True):
  """lax.dynamic_slice_in_dim: dynamic_slice along one axis."""
  operand = asarray(operand)
  axis = operator.index(axis)
  sizes = list(operand.shape)
  sizes[axis] = operator.index(slice_size)
  return dynamic_slice(operand, _axis_indices(operand, start_index, axis), sizes,
                       allow_negative_indices=allow_negative_indices)


def dynamic_index_in_dim(operand, index, axis=0, keepdims=True, *,
                         allow_negative_indices=True):
  """lax.dynamic_index_in_dim: one (traced) index along an axis."""
  out = dynamic_slice_in_dim(operand, index, 1, axis,
                             allow_negative_indices=allow_negative_indices)
  return out if keepdims else lax_.squeeze(out, (operator.index(axis),))


def dynamic_update_slice_in_dim(operand, update, start_index, axis, *,
                                allow_negative_indices=True):
  """lax.dynamic_update_slice_in_dim: dynamic_update_slice along one axis."""
  operand = asarray(operand)
  axis = operator.index(axis)
  return dynamic_update_slice(operand, update, _axis_indices(operand, start_index, axis),
                              allow_negative_indices=allow_negative_indices)


def dynamic_update_index_in_dim(operand, update, index, axis, *, allow_negative_indices=True):
  """lax.dynamic_update_index_in_dim: write one slice (rank may be one less) at `index`."""
  operand, update = asarray(operand), asarray(update)
  axis = operator.index(axis)
  if update.ndim + 1 == operand.ndim:
    update = lax_.expand_dims(update, (axis,))
  return dynamic_update_slice_in_dim(operand, update, index, axis,
                                     allow_negative_indices=allow_negative_indices)


def index_take(src, idxs, axes):
  """lax.index_take: src indexed by one integer array per axis in `axes` (indices wrap)."""
  src = asarray(src)
  axes = tuple(operator.index(a) for a in axes)
  idxs = [asarray(i) for i in idxs]
  cols = [lax_.expand_dims(i, (1,)) for i in idxs]
  indices = concatenate(cols, 1)
  bounds = _make(np.asarray([src.shape[a] for a in axes], dtype=indices.dtype), False)
  bounds = lax_.broadcast_in_dim(bounds, indices.shape, (indices.ndim - 1,))
  indices = lax_.rem(lax_.add(lax_.rem(indices, bounds), bounds), bounds)
  sizes = list(src.shape)
  for a in axes:
    sizes[a] = 1
  dnums = GatherDimensionNumbers(offset_dims=tuple(range(1, src.ndim - len(axes) + 1)),
                                 collapsed_slice_dims=axes, start_index_map=axes)
  return gather(src, indices, dnums, tuple(sizes))


# Eager paths run the shape rule first (see slicing_common._checked_eager).
for _p in (slice_p, concatenate_p, pad_p, rev_p, dynamic_slice_p, dynamic_update_slice_p):
  _checked_eager(_p)
