"""Slicing and indexing primitives: slice, concatenate, pad, rev, dynamic_slice,
dynamic_update_slice, gather and the scatter family.

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
import enum
import operator
from typing import NamedTuple, Sequence

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.array import Array, _make
from numjax._src.core import Primitive, ShapedArray, Tracer
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters.ad import Zero
from numjax._src.lax import lax as lax_
from numjax._src.lax.lax import asarray

_slice = builtins.slice


def _zero(x):
  """A rank-0 zero of x's dtype (strong), usable as a pad value or scatter init."""
  return _make(np.zeros((), dtype=x.dtype), False)


def _aval(x):
  return x.aval if ad.is_undefined_primal(x) else core.get_aval(x)


def _ints(xs, what="indices"):
  return tuple(core.concrete_dim_or_error(x, f"lax {what} must be static") for x in xs)


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


# ---------------------------------------------------------------------------------------
# gather

class GatherDimensionNumbers(NamedTuple):
  """How operand, start_indices and output dimensions of a gather relate (XLA's Gather).

  The index vector dimension is always the last dimension of start_indices."""
  offset_dims: tuple
  collapsed_slice_dims: tuple
  start_index_map: tuple
  operand_batching_dims: tuple = ()
  start_indices_batching_dims: tuple = ()


class ScatterDimensionNumbers(NamedTuple):
  """How operand, scatter_indices and updates dimensions of a scatter relate (XLA's Scatter).

  The index vector dimension is always the last dimension of scatter_indices."""
  update_window_dims: tuple
  inserted_window_dims: tuple
  scatter_dims_to_operand_dims: tuple
  operand_batching_dims: tuple = ()
  scatter_indices_batching_dims: tuple = ()


class GatherScatterMode(enum.Enum):
  """Out-of-bounds handling: CLIP clamps windows into bounds; FILL_OR_DROP fills gathered
  windows (with fill_value) and drops scattered ones; PROMISE_IN_BOUNDS does what XLA does
  (gathers clamp, scatters drop)."""
  CLIP = enum.auto()
  FILL_OR_DROP = enum.auto()
  PROMISE_IN_BOUNDS = enum.auto()
  ONE_HOT = enum.auto()

  @staticmethod
  def from_any(s):
    if isinstance(s, GatherScatterMode):
      return s
    if s == "clip":
      return GatherScatterMode.CLIP
    if s is None or s == "fill" or s == "drop":
      return GatherScatterMode.FILL_OR_DROP
    if s == "promise_in_bounds":
      return GatherScatterMode.PROMISE_IN_BOUNDS
    if s == "one_hot":
      return GatherScatterMode.ONE_HOT
    raise ValueError(f'Unknown gather mode "{s}"')


_CLIP, _FILL = GatherScatterMode.CLIP, GatherScatterMode.FILL_OR_DROP
_PROMISE = GatherScatterMode.PROMISE_IN_BOUNDS


def _tuple_ints(xs):
  return tuple(int(x) for x in xs)


def _canon_gather_dnums(dn):
  if not isinstance(dn, GatherDimensionNumbers):
    raise TypeError(f"dimension_numbers must be a lax.GatherDimensionNumbers, got {dn!r}")
  return GatherDimensionNumbers(*(_tuple_ints(f) for f in dn))


def _canon_scatter_dnums(dn):
  if not isinstance(dn, ScatterDimensionNumbers):
    raise TypeError(f"dimension_numbers must be a lax.ScatterDimensionNumbers, got {dn!r}")
  return ScatterDimensionNumbers(*(_tuple_ints(f) for f in dn))


def _window_starts(operand_shape, indices, start_index_map, operand_batching_dims,
                   indices_batching_dims, window, mode, clamp_promise):
  """Per operand dim, the window start for every batch position (or None: start 0), and
  the mask of in-bounds windows (None when every window is kept/clamped)."""
  batch_shape = indices.shape[:-1]
  nb = len(batch_shape)
  idx = indices.astype(np.int64, copy=False)
  starts = [None] * len(operand_shape)
  clamp = mode is _CLIP or (mode is _PROMISE and clamp_promise)
  ok = None
  for k, d in enumerate(start_index_map):
    s = idx[..., k]
    hi = operand_shape[d] - window[d]
    if not clamp:  # windows not fully in bounds are filled / dropped
      inb = (s >= 0) & (s <= hi)
      ok = inb if ok is None else ok & inb
    starts[d] = np.clip(s, 0, builtins.max(hi, 0))
  for od, idim in zip(operand_batching_dims, indices_batching_dims):
    starts[od] = np.arange(batch_shape[idim]).reshape(
        [-1 if a == idim else 1 for a in range(nb)])
  return starts, ok


def _window_index(operand_shape, starts, window, nb, dims):
  """Advanced-index arrays (over `dims`) addressing every window element: each has shape
  batch (broadcastable) + the window sizes of `dims`."""
  arrays = []
  nd = len(dims)
  for p, d in enumerate(dims):
    w = np.arange(window[d]).reshape([1] * nb + [window[d] if q == p else 1 for q in range(nd)])
    s = starts[d]
    arrays.append(w if s is None else s.reshape(s.shape + (1,) * nd) + w)
  return arrays


def _gather_impl(operand, indices, *, dimension_numbers, slice_sizes, unique_indices,
                 indices_are_sorted, mode, fill_value):
  dn = dimension_numbers
  shape = operand.shape
  batch_shape = indices.shape[:-1]
  nb = len(batch_shape)
  starts, ok = _window_starts(shape, indices, dn.start_index_map, dn.operand_batching_dims,
                              dn.start_indices_batching_dims, slice_sizes, mode, True)
  # Dims sliced whole with no start index stay basic slices (moved last); the others are
  # addressed with broadcast index arrays, all at once.
  full = [d for d in range(len(shape)) if starts[d] is None and slice_sizes[d] == shape[d]]
  part = [d for d in range(len(shape)) if d not in full]
  xt = np.transpose(operand, part + full) if full and part else operand
  out = xt[tuple(_window_index(shape, starts, slice_sizes, nb, part))] if part else xt
  win_shape = tuple(slice_sizes[d] for d in part + full)
  out = np.broadcast_to(out, batch_shape + win_shape)
  if full and part:  # window dims back to operand order
    inv = np.argsort(part + full)
    out = np.transpose(out, tuple(range(nb)) + tuple(nb + int(i) for i in inv))
  if ok is not None:
    fill = np.asarray(_default_fill(operand.dtype) if fill_value is None else fill_value)
    out = np.where(ok.reshape(ok.shape + (1,) * len(shape)), out,
                   fill.astype(operand.dtype))
  # drop collapsed / batching window dims, then place offset dims in the output
  keep = [d for d in range(len(shape))
          if d not in dn.collapsed_slice_dims and d not in dn.operand_batching_dims]
  out = out.reshape(batch_shape + tuple(slice_sizes[d] for d in keep))
  out_rank = nb + len(keep)
  batch_pos = [i for i in range(out_rank) if i not in dn.offset_dims]
  perm = [0] * out_rank
  for j, i in enumerate(batch_pos):
    perm[i] = j
  for j, i in enumerate(dn.offset_dims):
    perm[i] = nb + j
  return np.transpose(out, perm)


def _default_fill(dtype):
  if _dtypes.issubdtype(dtype, np.inexact):
    return np.nan
  if _dtypes.issubdtype(dtype, np.signedinteger):
    return np.iinfo(dtype).min
  if _dtypes.issubdtype(dtype, np.unsignedinteger):
    return np.iinfo(dtype).max
  if dtype == np.bool_:
    return True
  raise ValueError(f"Unsupported dtype for gather fill_value {dtype}")


def _check_sorted(dims, op, name):
  if list(dims) != sorted(dims):
    raise TypeError(f"{name} in {op} op must be sorted; got {dims}")


def _check_unique(dims, op, name):
  if len(set(dims)) != len(dims):
    raise TypeError(f"{name} in {op} op must not repeat; got: {dims}.")


def _check_range(dims, rank, op, name):
  for d in dims:
    if not 0 <= d < rank:
      raise TypeError(f"Invalid {name} set in {op} op; valid range is [0, {rank}); got: {d}.")


def _check_disjoint(a, b, op, na, nb_):
  if set(a) & set(b):
    raise TypeError(f"{na} and {nb_} in {op} op must be disjoint; got: {a} and {b}.")


def _check_batching(op, operand, indices, obd, ibd, iname):
  _check_unique(obd, op, "operand_batching_dims")
  _check_sorted(obd, op, "operand_batching_dims")
  _check_range(obd, operand.ndim, op, "operand_batching_dims")
  _check_unique(ibd, op, iname)
  _check_range(ibd, indices.ndim, op, iname)
  if indices.ndim - 1 in ibd:
    raise TypeError(f"{op.capitalize()} op cannot have the index vector dimension as a "
                    f"batching dimension; got {ibd}.")
  if len(obd) != len(ibd):
    raise TypeError(f"{op.capitalize()} op requires equal numbers of operand_batching_dims "
                    f"and {iname}, got {obd} and {ibd}.")
  ob = tuple(operand.shape[d] for d in obd)
  ib = tuple(indices.shape[d] for d in ibd)
  if ob != ib:
    raise TypeError(f"{op.capitalize()} op requires operand batching dimensions and indices "
                    f"batching dimensions to have the same shape, got {ob} and {ib}.")


def _gather_shape(operand, indices, dn, slice_sizes):
  if not _dtypes.issubdtype(indices.dtype, np.integer):
    raise ValueError("indices must have an integer type")
  if indices.ndim < 1:
    raise TypeError("Gather indices must have rank >= 1: the last dimension is the index "
                    "vector dimension (add a trailing dimension of size 1 for scalar indices).")
  nb = indices.ndim - 1
  out_rank = len(dn.offset_dims) + nb
  _check_sorted(dn.offset_dims, "gather", "offset_dims")
  _check_unique(dn.offset_dims, "gather", "offset_dims")
  for i, d in enumerate(dn.offset_dims):
    if not 0 <= d < out_rank:
      raise TypeError(f"Offset dimension {i} in gather op is out of bounds; got {d}, but "
                      f"should have been in [0, {out_rank})")
  if len(dn.start_index_map) != indices.shape[-1]:
    raise TypeError(f"Gather op has {len(dn.start_index_map)} elements in start_index_map and "
                    f"the bound of dimension index_vector_dim={nb} of indices is "
                    f"{indices.shape[-1]}. These two numbers must be equal.")
  for i, d in enumerate(dn.start_index_map):
    if not 0 <= d < operand.ndim:
      raise TypeError(f"Invalid start_index_map; domain is [0, {operand.ndim}), got: "
                      f"{i}->{d}.")
  _check_unique(dn.start_index_map, "gather", "start_index_map")
  _check_sorted(dn.collapsed_slice_dims, "gather", "collapsed_slice_dims")
  _check_range(dn.collapsed_slice_dims, operand.ndim, "gather", "collapsed_slice_dims")
  _check_unique(dn.collapsed_slice_dims, "gather", "collapsed_slice_dims")
  _check_disjoint(dn.collapsed_slice_dims, dn.operand_batching_dims, "gather",
                  "collapsed_slice_dims", "operand_batching_dims")
  _check_disjoint(dn.start_index_map, dn.operand_batching_dims, "gather",
                  "start_index_map", "operand_batching_dims")
  _check_batching("gather", operand, indices, dn.operand_batching_dims,
                  dn.start_indices_batching_dims, "start_indices_batching_dims")
  if len(slice_sizes) != operand.ndim:
    raise TypeError(f"Gather op must have one slice size for every input dimension; got: "
                    f"len(slice_sizes)={len(slice_sizes)}, input_shape.rank={operand.ndim}")
  if len(slice_sizes) != (len(dn.offset_dims) + len(dn.collapsed_slice_dims)
                          + len(dn.operand_batching_dims)):
    raise TypeError(f"All components of the offset index in a gather op must either be a "
                    f"offset dimension or explicitly collapsed/batching; got "
                    f"len(slice_sizes)={len(slice_sizes)}, output_slice_sizes="
                    f"{dn.offset_dims}, collapsed_slice_dims={dn.collapsed_slice_dims}, "
                    f"operand_batching_dims={dn.operand_batching_dims}.")
  if indices.size:
    for i, (s, d) in enumerate(zip(slice_sizes, operand.shape)):
      if not 0 <= s <= d:
        raise TypeError(f"Slice size at index {i} in gather op is out of range, must be "
                        f"within [0, {d} + 1), got {s}.")
  for i, d in enumerate(dn.collapsed_slice_dims):
    if slice_sizes[d] != 1:
      raise TypeError(f"Gather op can only collapse slice dims with bound 1, but bound is "
                      f"{slice_sizes[d]} for index {d} at position {i}.")
  for i, d in enumerate(dn.operand_batching_dims):
    if slice_sizes[d] > 1:
      raise TypeError(f"Gather op can only have operand batching dims with bound 0/1, but "
                      f"bound is {slice_sizes[d]} for index {d} at position {i}.")
  batch = iter(indices.shape[:-1])
  win = iter(s for d, s in enumerate(slice_sizes)
             if d not in dn.collapsed_slice_dims and d not in dn.operand_batching_dims)
  return tuple(next(win) if i in dn.offset_dims else next(batch) for i in range(out_rank))


gather_p = Primitive("gather")
gather_p.numpy_tier_only = True


def _gather_abstract(operand, indices, *, dimension_numbers, slice_sizes, unique_indices,
                     indices_are_sorted, mode, fill_value):
  shape = _gather_shape(operand, indices, dimension_numbers, slice_sizes)
  return ShapedArray(shape, operand.dtype, operand.weak_type)


def _gather_jvp(primals, tangents, *, dimension_numbers, slice_sizes, unique_indices,
                indices_are_sorted, mode, fill_value):
  operand, indices = primals
  params = dict(dimension_numbers=dimension_numbers, slice_sizes=slice_sizes,
                unique_indices=unique_indices, indices_are_sorted=indices_are_sorted, mode=mode)
  out = gather_p.bind(operand, indices, fill_value=fill_value, **params)
  g = tangents[0]
  if type(g) is Zero:
    return out, Zero(ad.tangent_aval(core.get_aval(out)))
  # out-of-bounds windows are filled with a constant: their tangent is zero
  return out, gather_p.bind(g, indices, fill_value=0 if mode is _FILL else None, **params)


def _scatter_dnums_of(dn):
  return ScatterDimensionNumbers(
      update_window_dims=dn.offset_dims, inserted_window_dims=dn.collapsed_slice_dims,
      scatter_dims_to_operand_dims=dn.start_index_map,
      operand_batching_dims=dn.operand_batching_dims,
      scatter_indices_batching_dims=dn.start_indices_batching_dims)


def _gather_dnums_of(dn):
  return GatherDimensionNumbers(
      offset_dims=dn.update_window_dims, collapsed_slice_dims=dn.inserted_window_dims,
      start_index_map=dn.scatter_dims_to_operand_dims,
      operand_batching_dims=dn.operand_batching_dims,
      start_indices_batching_dims=dn.scatter_indices_batching_dims)


def _gather_transpose(ct, operand, indices, *, dimension_numbers, slice_sizes, unique_indices,
                      indices_are_sorted, mode, fill_value):
  assert ad.is_undefined_primal(operand) and not ad.is_undefined_primal(indices)
  if type(ct) is Zero:
    return [Zero(operand.aval), None]
  zeros = lax_.full(operand.aval.shape, 0, core.get_aval(ct).dtype)
  out = scatter_add(zeros, indices, ct, _scatter_dnums_of(dimension_numbers),
                    indices_are_sorted=indices_are_sorted, unique_indices=unique_indices,
                    mode=mode)  # as JAX: with PROMISE_IN_BOUNDS, out-of-bounds reads get no
                                # cotangent (the scatter drops them)
  return [out, None]


def _gather_batch(vals, dims, *, dimension_numbers, slice_sizes, unique_indices,
                  indices_are_sorted, mode, fill_value):
  operand, indices = vals
  od, id_ = dims
  dn = dimension_numbers
  up = lambda ds: tuple(d + 1 for d in ds)
  if id_ is None:
    # Batched operand only: the batch axis becomes a full window dimension.
    operand = batching.moveaxis(operand, od, 0)
    size = core.get_aval(operand).shape[0]
    dnums = GatherDimensionNumbers(
        offset_dims=(0,) + up(dn.offset_dims), collapsed_slice_dims=up(dn.collapsed_slice_dims),
        start_index_map=up(dn.start_index_map), operand_batching_dims=up(dn.operand_batching_dims),
        start_indices_batching_dims=dn.start_indices_batching_dims)
    out = gather_p.bind(operand, indices, dimension_numbers=dnums,
                        slice_sizes=(size,) + tuple(slice_sizes), unique_indices=unique_indices,
                        indices_are_sorted=indices_are_sorted, mode=mode, fill_value=fill_value)
    return out, 0
  indices = batching.moveaxis(indices, id_, 0)
  if od is None:
    # Batched indices only: one more batch dimension of the indices (output axis 0).
    dnums = dn._replace(offset_dims=up(dn.offset_dims),
                        start_indices_batching_dims=up(dn.start_indices_batching_dims))
    out = gather_p.bind(operand, indices, dimension_numbers=dnums, slice_sizes=slice_sizes,
                        unique_indices=False, indices_are_sorted=False, mode=mode,
                        fill_value=fill_value)
    return out, 0
  # Both batched: pair the two batch axes as operand/indices batching dimensions.
  operand = batching.moveaxis(operand, od, 0)
  size = core.get_aval(operand).shape[0]
  dnums = GatherDimensionNumbers(
      offset_dims=up(dn.offset_dims), collapsed_slice_dims=up(dn.collapsed_slice_dims),
      start_index_map=up(dn.start_index_map),
      operand_batching_dims=(0,) + up(dn.operand_batching_dims),
      start_indices_batching_dims=(0,) + up(dn.start_indices_batching_dims))
  out = gather_p.bind(operand, indices, dimension_numbers=dnums,
                      slice_sizes=(1 if size else 0,) + tuple(slice_sizes),
                      unique_indices=unique_indices, indices_are_sorted=indices_are_sorted,
                      mode=mode, fill_value=fill_value)
  return out, 0


gather_p.impl = _gather_impl
gather_p.abstract_eval = _gather_abstract
gather_p.weak_type_rule = lambda args, params: args[0].weak_type
ad.primitive_jvps[gather_p] = _gather_jvp
ad.primitive_transposes[gather_p] = _gather_transpose
batching.primitive_batchers[gather_p] = _gather_batch


def gather(operand, start_indices, dimension_numbers, slice_sizes, *, unique_indices=False,
           indices_are_sorted=False, mode=None, fill_value=None):
  """lax.gather (XLA Gather); the index vector dimension is the last of start_indices.

  mode None means PROMISE_IN_BOUNDS (out-of-bounds windows clamp, as XLA); 'fill'
  fills them with fill_value (default NaN / the dtype's extreme / True)."""
  operand, start_indices = asarray(operand), asarray(start_indices)
  mode = _PROMISE if mode is None else GatherScatterMode.from_any(mode)
  if mode in (_FILL, GatherScatterMode.ONE_HOT):
    if fill_value is None:
      fill_value = _default_fill(operand.dtype)
    fill_value = core.concrete_or_error(
        lambda v: np.asarray(v).item(), fill_value, "fill_value of gather must be concrete")
  else:
    fill_value = None
  return gather_p.bind(operand, start_indices,
                       dimension_numbers=_canon_gather_dnums(dimension_numbers),
                       slice_sizes=_ints(slice_sizes, "gather slice_sizes"),
                       unique_indices=bool(unique_indices),
                       indices_are_sorted=bool(indices_are_sorted), mode=mode,
                       fill_value=fill_value)


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


# ---------------------------------------------------------------------------------------
# scatter family: scatter (set), scatter-add, -sub, -mul, -min, -max, and scatter_apply

def _scatter_layout(operand_shape, indices, updates_shape, dn):
  """(window sizes per operand dim, permutation bringing updates to batch + window order)."""
  nb = indices.ndim - 1
  win_dims = [d for d in range(len(operand_shape))
              if d not in dn.inserted_window_dims and d not in dn.operand_batching_dims]
  window = [1] * len(operand_shape)
  for i, d in enumerate(win_dims):
    window[d] = updates_shape[dn.update_window_dims[i]]
  scatter_dims = [d for d in range(len(updates_shape)) if d not in dn.update_window_dims]
  return window, scatter_dims + list(dn.update_window_dims), nb


_SCATTER_UFUNC = {"scatter-add": np.add, "scatter-sub": np.subtract, "scatter-mul": np.multiply,
                  "scatter-min": np.minimum, "scatter-max": np.maximum}


def _scatter_impl_for(name, inplace=False):
  # inplace: write into `operand` (the compiler's buffer planning calls this on dead buffers)
  def impl(operand, indices, updates, *, dimension_numbers, indices_are_sorted, unique_indices,
           mode, update_jaxpr, update_consts):
    dn = dimension_numbers
    shape = operand.shape
    window, perm, nb = _scatter_layout(shape, indices, updates.shape, dn)
    batch_shape = indices.shape[:-1]
    upd = np.transpose(updates, perm).reshape(batch_shape + tuple(window))
    starts, ok = _window_starts(shape, indices, dn.scatter_dims_to_operand_dims,
                                dn.operand_batching_dims, dn.scatter_indices_batching_dims,
                                window, mode, False)
    full_shape = batch_shape + tuple(window)
    idx = [np.broadcast_to(a, full_shape)
           for a in _window_index(shape, starts, window, nb, list(range(len(shape))))]
    if ok is not None:  # out-of-bounds windows are dropped whole
      if not ok.all():
        m = np.broadcast_to(ok.reshape(ok.shape + (1,) * len(shape)), full_shape)
        idx = [a[m] for a in idx]
        upd = upd[m]
    idx = tuple(idx)
    out = operand if inplace else np.array(operand, copy=True)
    if name == "scatter":
      if update_jaxpr is None:
        out[idx] = upd
      else:
        _scatter_apply_impl(out, idx, update_jaxpr, update_consts)
      return out
    ufunc = _SCATTER_UFUNC[name]
    with np.errstate(all="ignore"):
      ufunc.at(out, idx, upd)
    return out
  return impl


def _scatter_apply_impl(out, idx, jaxpr, consts):
  """Apply the unary function in `jaxpr` once per occurrence of each index (as XLA's
  combiner would), vectorised over the positions hit at least r times in round r."""
  lin = np.ravel_multi_index(idx, out.shape) if out.ndim else np.zeros(
      np.shape(idx[0]) if idx else (1,), np.int64).ravel()
  lin = np.asarray(lin).ravel()
  if lin.size == 0:
    return
  uniq, counts = np.unique(lin, return_counts=True)
  flat = out.reshape(-1)
  fn = _vector_fn(jaxpr, consts)
  for r in range(int(counts.max())):
    sel = uniq[counts > r]
    flat[sel] = fn(flat[sel])


def _vector_fn(jaxpr, consts):
  """The scalar function of a (x, unused) update jaxpr, applied over a vector by vmap."""
  def fn(v):
    with core.new_base_main():
      x = _make(np.ascontiguousarray(v), False)
      dummy = _make(np.zeros_like(v), False)
      out = batching.vmap_flat(lambda a, b: core.eval_jaxpr(jaxpr, consts, a, b), [0, 0],
                               lambda: [0], v.shape[0], None, None, [x, dummy])
      return np.asarray(out[0]._value)
  return fn


def _scatter_shape(operand, indices, updates, dn):
  if not _dtypes.issubdtype(indices.dtype, np.integer):
    raise ValueError("indices must have an integer type")
  if operand.dtype != updates.dtype:
    lax_._check_same_dtypes("scatter", (operand, updates))
  if indices.ndim < 1:
    raise TypeError("Scatter indices must have rank >= 1: the last dimension is the index "
                    "vector dimension (add a trailing dimension of size 1 for scalar indices).")
  nb = indices.ndim - 1
  expected = nb + len(dn.update_window_dims)
  if updates.ndim != expected:
    raise TypeError(f"Updates tensor must be of rank {expected}; got {updates.ndim}.")
  _check_sorted(dn.update_window_dims, "scatter", "update_window_dims")
  _check_unique(dn.update_window_dims, "scatter", "update_window_dims")
  _check_range(dn.update_window_dims, updates.ndim, "scatter", "update_window_dims")
  _check_sorted(dn.inserted_window_dims, "scatter", "inserted_window_dims")
  _check_unique(dn.inserted_window_dims, "scatter", "inserted_window_dims")
  _check_range(dn.inserted_window_dims, operand.ndim, "scatter", "inserted_window_dims")
  _check_disjoint(dn.inserted_window_dims, dn.operand_batching_dims, "scatter",
                  "inserted_window_dims", "operand_batching_dims")
  _check_disjoint(dn.scatter_dims_to_operand_dims, dn.operand_batching_dims, "scatter",
                  "scatter_dims_to_operand_dims", "operand_batching_dims")
  _check_batching("scatter", operand, indices, dn.operand_batching_dims,
                  dn.scatter_indices_batching_dims, "scatter_indices_batching_dims")
  scatter_dims = [d for d in range(updates.ndim) if d not in dn.update_window_dims]
  ub = tuple(updates.shape[scatter_dims[d]] for d in dn.scatter_indices_batching_dims)
  ob = tuple(operand.shape[d] for d in dn.operand_batching_dims)
  if ob != ub:
    raise TypeError(f"Scatter op requires operand batching dimensions and updates batching "
                    f"dimensions to have the same shape, got {ob} and {ub}.")
  wsize = len(dn.update_window_dims) + len(dn.inserted_window_dims) + len(dn.operand_batching_dims)
  if wsize != operand.ndim:
    raise TypeError(f"Scatter op has window of size {wsize}; doesn't match operand of rank "
                    f"{operand.ndim}.")
  if len(dn.scatter_dims_to_operand_dims) != indices.shape[-1]:
    raise TypeError(f"Scatter op has {len(dn.scatter_dims_to_operand_dims)} elements in "
                    f"scatter_dims_to_operand_dims and the bound of dimension "
                    f"index_vector_dim={nb} of indices is {indices.shape[-1]}. These two "
                    "numbers must be equal")
  for i, d in enumerate(dn.scatter_dims_to_operand_dims):
    if not 0 <= d < operand.ndim:
      raise TypeError(f"Invalid scatter_dims_to_operand_dims mapping; domain is "
                      f"[0, {operand.ndim}), got: {i}->{d}.")
  _check_unique(dn.scatter_dims_to_operand_dims, "scatter", "scatter_dims_to_operand_dims")
  max_sizes = [operand.shape[d] for d in range(operand.ndim)
               if d not in dn.inserted_window_dims and d not in dn.operand_batching_dims]
  for i, d in enumerate(dn.update_window_dims):
    if max_sizes[i] < updates.shape[d]:
      raise TypeError(f"Bounds of the window dimensions of updates must not exceed the bounds "
                      f"of the corresponding dimensions of operand. For dimension {d}, updates "
                      f"bound is {updates.shape[d]}, operand bound is {max_sizes[i]}.")
  for j, d in enumerate(scatter_dims):
    if updates.shape[d] != indices.shape[j]:
      raise TypeError(f"Bounds of the scatter dimensions of updates must be the same as the "
                      f"bounds of the corresponding dimensions of scatter indices. For scatter "
                      f"dimension {d}, updates bound is {updates.shape[d]}, indices bound is "
                      f"{indices.shape[j]}.")
  return operand.shape


def _make_scatter_p(name):
  p = Primitive(name)
  p.numpy_tier_only = True
  p.impl = _scatter_impl_for(name)
  p.impl_inplace = _scatter_impl_for(name, inplace=True)

  def abstract(operand, indices, updates, *, dimension_numbers, indices_are_sorted,
               unique_indices, mode, update_jaxpr, update_consts):
    _scatter_shape(operand, indices, updates, dimension_numbers)
    return ShapedArray(operand.shape, operand.dtype, operand.weak_type)
  p.abstract_eval = abstract
  p.weak_type_rule = lambda args, params: args[0].weak_type
  batching.primitive_batchers[p] = lambda vals, dims, **params: _scatter_batch(
      p, vals, dims, **params)
  return p


scatter_p = _make_scatter_p("scatter")
scatter_add_p = _make_scatter_p("scatter-add")
scatter_sub_p = _make_scatter_p("scatter-sub")
scatter_mul_p = _make_scatter_p("scatter-mul")
scatter_min_p = _make_scatter_p("scatter-min")
scatter_max_p = _make_scatter_p("scatter-max")


def _scatter_batch(prim, vals, dims, *, dimension_numbers, indices_are_sorted, unique_indices,
                   mode, update_jaxpr, update_consts):
  operand, indices, updates = vals
  od, id_, ud = dims
  dn = dimension_numbers
  up = lambda ds: tuple(d + 1 for d in ds)
  size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
  operand = batching.bdim_at_front(operand, od, size)
  updates = batching.bdim_at_front(updates, ud, size)
  params = dict(indices_are_sorted=indices_are_sorted, unique_indices=unique_indices, mode=mode,
                update_jaxpr=update_jaxpr, update_consts=update_consts)
  if id_ is None:
    # Shared indices: the batch axis is one more (full) window dimension.
    dnums = ScatterDimensionNumbers(
        update_window_dims=(0,) + up(dn.update_window_dims),
        inserted_window_dims=up(dn.inserted_window_dims),
        scatter_dims_to_operand_dims=up(dn.scatter_dims_to_operand_dims),
        operand_batching_dims=up(dn.operand_batching_dims),
        scatter_indices_batching_dims=dn.scatter_indices_batching_dims)
    return prim.bind(operand, indices, updates, dimension_numbers=dnums, **params), 0
  indices = batching.bdim_at_front(indices, id_, size)
  dnums = ScatterDimensionNumbers(
      update_window_dims=up(dn.update_window_dims),
      inserted_window_dims=up(dn.inserted_window_dims),
      scatter_dims_to_operand_dims=up(dn.scatter_dims_to_operand_dims),
      operand_batching_dims=(0,) + up(dn.operand_batching_dims),
      scatter_indices_batching_dims=(0,) + up(dn.scatter_indices_batching_dims))
  return prim.bind(operand, indices, updates, dimension_numbers=dnums, **params), 0


def _gather_slice_sizes(operand_shape, updates_shape, dn):
  """slice_sizes of the gather that reads back the windows a scatter writes."""
  sizes, pos = [], 0
  for d in range(len(operand_shape)):
    if d in dn.inserted_window_dims or d in dn.operand_batching_dims:
      sizes.append(1)
    else:
      sizes.append(updates_shape[dn.update_window_dims[pos]])
      pos += 1
  return tuple(sizes)


def _gather_back(x, indices, dn, updates_shape, mode):
  """The windows a scatter with dnums `dn` and `mode` writes, read back from x (shape of
  updates). FILL_OR_DROP windows the scatter drops read as zeros; CLIP ones are clamped
  alike; PROMISE_IN_BOUNDS reads clamp while its scatters drop (as JAX)."""
  return gather(x, indices, _gather_dnums_of(dn),
                _gather_slice_sizes(core.get_aval(x).shape, updates_shape, dn), mode=mode,
                fill_value=0)


def _zeros_of(x):
  a = core.get_aval(x)
  return lax_.full(a.shape, 0, a.dtype)


def _ones_of(x):
  a = core.get_aval(x)
  return lax_.full(a.shape, 1, a.dtype)


def _scatter_params(params):
  return {k: params[k] for k in ("indices_are_sorted", "unique_indices", "mode")}


# scatter-add / scatter-sub: linear in (operand, updates)

def _scatter_addsub_jvp(prim, primals, tangents, **params):
  operand, indices, updates = primals
  g_op, _, g_up = tangents
  out = prim.bind(operand, indices, updates, **params)
  if type(g_op) is Zero and type(g_up) is Zero:
    return out, Zero(ad.tangent_aval(core.get_aval(out)))
  g_op, g_up = ad.instantiate_zeros(g_op), ad.instantiate_zeros(g_up)
  return out, prim.bind(g_op, indices, g_up, **params)


def _scatter_addsub_transpose(prim, ct, operand, indices, updates, *, dimension_numbers,
                              **params):
  assert not ad.is_undefined_primal(indices)
  uo, uu = ad.is_undefined_primal(operand), ad.is_undefined_primal(updates)
  ua = _aval(updates)
  if type(ct) is Zero:
    return [Zero(operand.aval) if uo else None, None, Zero(ua) if uu else None]
  ct_up = None
  if uu:
    ct_up = _gather_back(ct, indices, dimension_numbers, ua.shape, params["mode"])
    if prim is scatter_sub_p:
      ct_up = lax_.neg(ct_up)
  return [ct if uo else None, None, ct_up]


for _p in (scatter_add_p, scatter_sub_p):
  ad.primitive_jvps[_p] = (lambda p: lambda primals, tangents, **kw:
                           _scatter_addsub_jvp(p, primals, tangents, **kw))(_p)
  ad.primitive_transposes[_p] = (lambda p: lambda ct, *args, **kw:
                                 _scatter_addsub_transpose(p, ct, *args, **kw))(_p)


# scatter-mul: linear in the operand; in the updates only with unique indices (as JAX)

def _scatter_mul_jvp_updates(g, x, i, y, *, dimension_numbers, **params):
  if not params["unique_indices"]:
    raise NotImplementedError(
        "scatter_mul gradients with respect to the updates are only implemented if "
        "`unique_indices=True` (pass unique_indices=True to .at[...].multiply() or "
        "lax.scatter_mul if no index repeats).")
  return lax_.mul(x, scatter_add(_zeros_of(x), i, g, dimension_numbers,
                                 **_scatter_params(params)))


def _scatter_mul_transpose(ct, operand, indices, updates, *, dimension_numbers, **params):
  assert not ad.is_undefined_primal(indices)
  uo, uu = ad.is_undefined_primal(operand), ad.is_undefined_primal(updates)
  ua = _aval(updates)
  if type(ct) is Zero:
    return [Zero(operand.aval) if uo else None, None, Zero(ua) if uu else None]
  ct_op = ct_up = None
  if uo:
    ct_op = scatter_mul_p.bind(ct, indices, updates, dimension_numbers=dimension_numbers,
                               **params)
  if uu:
    if not params["unique_indices"]:
      raise NotImplementedError(
          "scatter_mul gradients are only implemented if `unique_indices=True`")
    ct_up = _gather_back(lax_.mul(ct, operand), indices, dimension_numbers, ua.shape,
                         params["mode"])
  return [ct_op, None, ct_up]


ad.defjvp(scatter_mul_p,
          lambda g, x, i, y, **kw: scatter_mul_p.bind(g, i, y, **kw),
          None,
          _scatter_mul_jvp_updates)
ad.primitive_transposes[scatter_mul_p] = _scatter_mul_transpose


# scatter-min / scatter-max: ties share the tangent evenly (as JAX's max does)

def _scatter_extremal_jvp(prim, primals, tangents, *, dimension_numbers, **params):
  operand, indices, updates = primals
  g_op, _, g_up = tangents
  dn = dimension_numbers
  out = prim.bind(operand, indices, updates, dimension_numbers=dn, **params)
  if type(g_op) is Zero and type(g_up) is Zero:
    return out, Zero(ad.tangent_aval(core.get_aval(out)))
  g_op, g_up = ad.instantiate_zeros(g_op), ad.instantiate_zeros(g_up)
  sp = _scatter_params(params)
  ushape = core.get_aval(updates).shape
  back = lambda x: _gather_back(x, indices, dn, ushape, params["mode"])
  initial, target = back(operand), back(out)
  won = lax_.eq(updates, target)          # this update is the extremum at its position
  kept = lax_.eq(initial, target)         # the operand value is (one of) the extrema
  zeros_up, ones_up = _zeros_of(updates), _ones_of(updates)
  count = lambda v: back(scatter_add(_zeros_of(operand), indices, v, dn, **sp))
  # (counts are at least 1 wherever an update lands; max() keeps dropped windows finite)
  n_won = count(lax_.select(won, ones_up, zeros_up))
  n_refs = lax_.max(count(ones_up), ones_up)
  share_kept = lax_.div(ones_up, lax_.add(n_won, ones_up))
  share = lax_.div(ones_up, lax_.max(n_won, ones_up))
  up_coef = lax_.select(won, lax_.select(kept, share_kept, share), zeros_up)
  op_coef = lax_.div(lax_.sub(lax_.select(kept, share_kept, zeros_up), ones_up), n_refs)
  t_up = lax_.add(lax_.mul(back(g_op), op_coef), lax_.mul(g_up, up_coef))
  return out, scatter_add(g_op, indices, t_up, dn, **sp)


for _p in (scatter_min_p, scatter_max_p):
  ad.primitive_jvps[_p] = (lambda p: lambda primals, tangents, **kw:
                           _scatter_extremal_jvp(p, primals, tangents, **kw))(_p)


# scatter (set): JVP by update ids (the winning update at each position), as JAX

def _scatter_jvp(primals, tangents, *, dimension_numbers, update_jaxpr, update_consts,
                 **params):
  if update_jaxpr is not None:
    raise NotImplementedError("scatter_apply JVP not implemented")
  operand, indices, updates = primals
  g_op, _, g_up = tangents
  dn = dimension_numbers
  kw = dict(dimension_numbers=dn, update_jaxpr=None, update_consts=(), **params)
  if type(g_op) is Zero and type(g_up) is Zero:
    out = scatter_p.bind(operand, indices, updates, **kw)
    return out, Zero(ad.tangent_aval(core.get_aval(out)))
  g_op, g_up = ad.instantiate_zeros(g_op), ad.instantiate_zeros(g_up)
  if params["unique_indices"]:
    return (scatter_p.bind(operand, indices, updates, **kw),
            scatter_p.bind(g_op, indices, g_up, **kw))
  # Overlapping updates: scatter positive ids to learn which update wins each position,
  # mask the losers (and the overwritten operand entries), then scatter-add.
  ushape = core.get_aval(updates).shape
  id_shape = tuple(1 if d in dn.update_window_dims else s for d, s in enumerate(ushape))
  n_ids = int(np.prod(id_shape, dtype=np.int64))
  id_dt = np.dtype(np.int32)
  ids = lax_.add(lax_.reshape(lax_.iota(id_dt, n_ids), id_shape),
                 _make(np.ones((), id_dt), False))
  ids = lax_.broadcast_in_dim(ids, ushape, tuple(range(len(ushape))))
  scattered = scatter(lax_.full(core.get_aval(operand).shape, 0, id_dt), indices, ids, dn,
                      **_scatter_params(params))
  gathered = _gather_back(scattered, indices, dn, ushape, params["mode"])
  untouched = lax_.eq(scattered, _make(np.zeros((), id_dt), False))
  wins = lax_.eq(ids, gathered)
  sp = _scatter_params(params)
  out = scatter_add(lax_.select(untouched, operand, _zeros_of(operand)), indices,
                    lax_.select(wins, updates, _zeros_of(updates)), dn, **sp)
  t_out = scatter_add(lax_.select(untouched, g_op, _zeros_of(g_op)), indices,
                      lax_.select(wins, g_up, _zeros_of(g_up)), dn, **sp)
  return out, t_out


def _scatter_transpose(ct, operand, indices, updates, *, dimension_numbers, update_jaxpr,
                       update_consts, **params):
  if not params["unique_indices"]:
    raise NotImplementedError("scatter transpose is only implemented where "
                              "unique_indices=True")
  assert not ad.is_undefined_primal(indices)
  uo, uu = ad.is_undefined_primal(operand), ad.is_undefined_primal(updates)
  ua = _aval(updates)
  if type(ct) is Zero:
    return [Zero(operand.aval) if uo else None, None, Zero(ua) if uu else None]
  ct_op = ct_up = None
  if uo:  # entries overwritten by the scatter get no cotangent
    ct_op = scatter_p.bind(ct, indices, lax_.full(ua.shape, 0, core.get_aval(ct).dtype),
                           dimension_numbers=dimension_numbers, update_jaxpr=None,
                           update_consts=(), **params)
  if uu:
    ct_up = _gather_back(ct, indices, dimension_numbers, ua.shape, params["mode"])
  return [ct_op, None, ct_up]


ad.primitive_jvps[scatter_p] = _scatter_jvp
ad.primitive_transposes[scatter_p] = _scatter_transpose


# ---- wrappers ---------------------------------------------------------------------------

_update_jaxprs = {}


def _update_jaxpr(name, fn, dtype):
  """The scalar combiner jaxpr shown in a scatter's params (as JAX prints it)."""
  key = (name, dtype)
  jx = _update_jaxprs.get(key)
  if jx is None:
    from numjax._src.interpreters import partial_eval as pe
    aval = ShapedArray((), dtype)
    with core.new_base_main():
      closed = pe.trace_to_jaxpr(lambda a, b: [fn(a, b)], [aval, aval])
    jx = _update_jaxprs[key] = (closed.jaxpr, tuple(closed.consts))
  return jx


def _scatter_bind(prim, combiner, operand, scatter_indices, updates, dimension_numbers,
                  indices_are_sorted, unique_indices, mode):
  operand, updates = lax_._promote_lax_args((operand, updates))
  scatter_indices = asarray(scatter_indices)
  if combiner is None:
    jaxpr, consts = None, ()
  else:
    jaxpr, consts = _update_jaxpr(prim.name, combiner, operand.dtype)
  return prim.bind(operand, scatter_indices, updates,
                   dimension_numbers=_canon_scatter_dnums(dimension_numbers),
                   indices_are_sorted=bool(indices_are_sorted),
                   unique_indices=bool(unique_indices), mode=GatherScatterMode.from_any(mode),
                   update_jaxpr=jaxpr, update_consts=consts)


def _scatter_wrapper(prim, combiner, doc):
  def f(operand, scatter_indices, updates, dimension_numbers, *, indices_are_sorted=False,
        unique_indices=False, mode=None):
    return _scatter_bind(prim, combiner, operand, scatter_indices, updates, dimension_numbers,
                         indices_are_sorted, unique_indices, mode)
  f.__doc__ = doc + " Out-of-bounds windows are dropped unless mode='clip'."
  return f


scatter = _scatter_wrapper(scatter_p, None, "lax.scatter: write updates into windows of operand.")
scatter_add = _scatter_wrapper(scatter_add_p, lambda a, b: lax_.add(a, b),
                               "lax.scatter_add: add updates into windows (repeats accumulate).")
scatter_sub = _scatter_wrapper(scatter_sub_p, lambda a, b: lax_.sub(a, b),
                               "lax.scatter_sub: subtract updates from windows.")
scatter_mul = _scatter_wrapper(scatter_mul_p, lambda a, b: lax_.mul(a, b),
                               "lax.scatter_mul: multiply windows by updates.")
scatter_min = _scatter_wrapper(scatter_min_p, lambda a, b: lax_.min(a, b),
                               "lax.scatter_min: elementwise minimum into windows.")
scatter_max = _scatter_wrapper(scatter_max_p, lambda a, b: lax_.max(a, b),
                               "lax.scatter_max: elementwise maximum into windows.")


for _n in ("scatter", "scatter_add", "scatter_sub", "scatter_mul", "scatter_min", "scatter_max"):
  globals()[_n].__name__ = globals()[_n].__qualname__ = _n


def scatter_apply(operand, scatter_indices, func, dimension_numbers, *, update_shape=(),
                  indices_are_sorted=False, unique_indices=False, mode=None):
  """lax.scatter_apply: apply unary `func` at the scattered positions (once per index
  occurrence). Not differentiable (as in JAX)."""
  operand = asarray(operand)
  unused = lax_.full(tuple(update_shape), 0, operand.dtype)
  from numjax._src.interpreters import partial_eval as pe
  aval = ShapedArray((), operand.dtype)
  with core.new_base_main():
    closed = pe.trace_to_jaxpr(lambda x, _: [func(x)], [aval, aval])
  return scatter_p.bind(operand, asarray(scatter_indices), unused,
                        dimension_numbers=_canon_scatter_dnums(dimension_numbers),
                        indices_are_sorted=bool(indices_are_sorted),
                        unique_indices=bool(unique_indices),
                        mode=GatherScatterMode.from_any(mode), update_jaxpr=closed.jaxpr,
                        update_consts=tuple(closed.consts))


# ---------------------------------------------------------------------------------------
# Eager paths: run the shape rule first, so eager calls raise JAX's errors (the NumPy
# kernels would otherwise accept many invalid parameter sets silently).

def _checked_eager(p):
  impl, rule = p.impl, p.abstract_eval
  checked = {}  # (input types, params) -> result weak type: each signature is checked once

  def eager(*args, **params):
    vals = [a._value for a in args]
    key = (tuple((v.shape, v.dtype, a.weak_type) for v, a in zip(vals, args)),
           tuple(params.items()))
    try:
      weak = checked.get(key)
    except TypeError:  # an unhashable parameter: check every time
      key, weak = None, None
    if weak is None:
      weak = rule(*[a.aval for a in args], **params).weak_type
      if key is not None:
        if len(checked) > 2048:
          checked.clear()
        checked[key] = weak
    return _make(impl(*vals, **params), weak)
  p.eager = eager


for _p in (slice_p, concatenate_p, pad_p, rev_p, dynamic_slice_p, dynamic_update_slice_p,
           gather_p, scatter_p, scatter_add_p, scatter_sub_p, scatter_mul_p, scatter_min_p,
           scatter_max_p):
  _checked_eager(_p)
