"""Gather and the scatter family (scatter, scatter-add/-sub/-mul/-min/-max, scatter_apply):
dimension numbers, out-of-bounds modes, impls, shape rules, jvps, transposes and batching
rules. Split out of lax/slicing.py, which re-exports the public names.

Out-of-bounds semantics follow XLA, as JAX does: gather clamps (CLIP, PROMISE_IN_BOUNDS) or
fills (FILL_OR_DROP); scatter drops out-of-bounds windows (FILL_OR_DROP, PROMISE_IN_BOUNDS)
or clamps them (CLIP).
"""
from __future__ import annotations

import builtins
import enum
from typing import NamedTuple

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.array import _make
from numjax._src.core import Primitive, ShapedArray
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters.ad import Zero
from numjax._src.lax import lax as lax_
from numjax._src.lax.lax import asarray
from numjax._src.lax.slicing_common import _aval, _checked_eager, _ints


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


# Eager paths run the shape rule first (see slicing_common._checked_eager).
for _p in (gather_p, scatter_p, scatter_add_p, scatter_sub_p, scatter_mul_p, scatter_min_p,
           scatter_max_p):
  _checked_eager(_p)
