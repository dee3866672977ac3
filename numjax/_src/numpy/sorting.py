"""jnp sorting and searching: sort, argsort, lexsort, partition, argpartition, sort_complex,
searchsorted.

All of it is lax: `lax.sort` (stable, NaNs last, -0.0 == 0.0), `lax.top_k` for the
partitions, gathers and `fori_loop` for the binary search. Axes and `kth` are static.
"""
from __future__ import annotations

import operator

import numpy as np

from numjax._src import core
from numjax._src import dtypes
from numjax._src.lax import lax
from numjax._src.lax import reductions as lax_red
from numjax._src.lax import slicing as lax_slicing
from numjax._src.lax import sorting as lax_sorting
from numjax._src.numpy import util


def _int_dtype():
  return dtypes.canonicalize_dtype(dtypes.int_)


def _index_dtype(n):
  """int32 for indices into an axis of length n (int64 past 2**31, as JAX)."""
  return np.dtype(np.int64) if n >= 2 ** 31 else _int_dtype()


def _check_kind_order(name, kind, order):
  if kind is not None:
    raise TypeError(f"'kind' argument to {name} is not supported. Use stable=True or "
                    "stable=False to specify sort stability.")
  if order is not None:
    raise TypeError(f"'order' argument to {name} is not supported.")


def _flat_or_axis(arr, axis):
  if axis is None:
    return lax.reshape(arr, (arr.size,)), 0
  return arr, util.canonicalize_axis(axis, arr.ndim)


@util.jit_when_traced(static_argnames=("axis", "kind", "order", "stable", "descending"))
def sort(a, axis=-1, *, kind=None, order=None, stable=True, descending=False):
  """Implementation of numpy.sort (`descending` reverses the sorted axis, as JAX)."""
  arr = util.ensure_arraylike("sort", a)
  _check_kind_order("sort", kind, order)
  arr, dim = _flat_or_axis(arr, axis)
  out = lax_sorting.sort(arr, dimension=dim, is_stable=stable)
  return lax_slicing.rev(out, (dim,)) if descending else out


@util.jit_when_traced(static_argnames=("axis", "kind", "order", "stable", "descending"))
def argsort(a, axis=-1, *, kind=None, order=None, stable=True, descending=False):
  """Implementation of numpy.argsort (int32 indices; stable by default)."""
  arr = util.ensure_arraylike("argsort", a)
  _check_kind_order("argsort", kind, order)
  arr, dim = _flat_or_axis(arr, axis)
  iota = lax.broadcasted_iota(_index_dtype(arr.shape[dim]), arr.shape, dim)
  if descending and stable:
    # Reverse first so that equal entries keep their original order once reversed back.
    arr = lax_slicing.rev(arr, (dim,))
    iota = lax_slicing.rev(iota, (dim,))
  _, idx = lax_sorting.sort_key_val(arr, iota, dimension=dim, is_stable=stable)
  return lax_slicing.rev(idx, (dim,)) if descending else idx


def lexsort(keys, axis=-1):
  """Implementation of numpy.lexsort: indices sorting by the last key first."""
  keys = util.ensure_arraylike_tuple("lexsort", tuple(keys))
  if len(keys) == 0:
    raise TypeError("need sequence of keys with len > 0 in lexsort")
  if len({k.shape for k in keys}) > 1:
    raise ValueError("all keys need to be the same shape")
  if keys[0].ndim == 0:
    return lax.full((), 0, _int_dtype())
  dim = util.canonicalize_axis(axis, keys[0].ndim)
  iota = lax.broadcasted_iota(_index_dtype(keys[0].shape[dim]), keys[0].shape, dim)
  return lax_sorting.sort((*keys[::-1], iota), dimension=dim, num_keys=len(keys))[-1]


def _kth(kth, n):
  kth = core.concrete_or_error(operator.index, kth, "The kth argument of jnp.partition")
  if not -n <= kth < n:
    raise ValueError(f"axis {kth} is out of bounds for array of dimension {n}")
  return kth % n


def _bottom_k(arr, k):
  """The k smallest entries along the last axis (ascending) and their indices, from
  top_k of the negation (unsigned ints: of -(x + 1), so that 0 does not wrap onto 0)."""
  if dtypes.issubdtype(arr.dtype, np.unsignedinteger):
    vals, idx = lax_sorting.top_k(lax.neg(lax.add(arr, lax._const(arr, 1))), k)
    return lax.sub(lax.neg(vals), lax._const(vals, 1)), idx
  if arr.dtype == np.bool_:
    vals, idx = lax_sorting.top_k(lax.bitwise_not(arr), k)
    return lax.bitwise_not(vals), idx
  vals, idx = lax_sorting.top_k(lax.neg(arr), k)
  return lax.neg(vals), idx


def _partition_args(name, a, kth, axis):
  """(a with `axis` swapped last, kth and axis made static and non-negative)."""
  arr = util.ensure_arraylike(name, a)
  if dtypes.issubdtype(arr.dtype, np.complexfloating):
    raise NotImplementedError(f"jnp.{name} for complex dtype is not implemented.")
  axis = util.canonicalize_axis(axis, arr.ndim)
  kth = _kth(kth, arr.shape[axis])
  return _swap_last(arr, axis), kth, axis


def partition(a, kth, axis=-1):
  """Implementation of numpy.partition (static kth): entries before position kth are no
  larger than the kth smallest, those after no smaller (in the order JAX returns them)."""
  x, kth, axis = _partition_args("partition", a, kth, axis)
  bottom, _ = _bottom_k(x, kth + 1)
  top, _ = lax_sorting.top_k(x, x.shape[-1] - kth - 1)
  return _swap_last(lax_slicing.concatenate([bottom, top], x.ndim - 1), axis)


def argpartition(a, kth, axis=-1):
  """Implementation of numpy.argpartition (static kth)."""
  x, kth, axis = _partition_args("argpartition", a, kth, axis)
  _, bottom_idx = _bottom_k(x, kth + 1)
  # The rest: the positions not taken by the bottom part, found by the top_k of a 0/1
  # mask (ties prefer the lower index, so duplicates of the pivot are never taken twice).
  n = x.shape[-1]
  full = bottom_idx.shape + (n,)
  taken = lax.eq(lax.broadcast_in_dim(bottom_idx, full, tuple(range(x.ndim))),
                 lax.broadcasted_iota(bottom_idx.dtype, full, x.ndim))
  taken = lax_red.reduce_or(taken, (x.ndim - 1,))
  proxy = lax.convert_element_type(lax.bitwise_not(taken), np.float32)
  _, top_idx = lax_sorting.top_k(proxy, n - kth - 1)
  return _swap_last(lax_slicing.concatenate([bottom_idx, top_idx], x.ndim - 1), axis)


def _swap_last(x, axis):
  if axis == x.ndim - 1:
    return x
  perm = list(range(x.ndim))
  perm[axis], perm[-1] = perm[-1], perm[axis]
  return lax.transpose(x, tuple(perm))


def sort_complex(a):
  """Implementation of numpy.sort_complex: sort along the last axis, as complex."""
  a = util.ensure_arraylike("sort_complex", a)
  out = lax_sorting.sort(a, dimension=-1) if a.ndim else a
  return lax.convert_element_type(out, dtypes.to_complex_dtype(out.dtype))


# ---------------------------------------------------------------------------------------
# searchsorted

def _isnan(x):
  return lax.ne(x, x)


def _sort_lt(x, y):
  """x < y in lax.sort's order: NaNs after everything; complex numbers lexicographic."""
  if dtypes.issubdtype(x.dtype, np.complexfloating):
    xr, xi, yr, yi = lax.real(x), lax.imag(x), lax.real(y), lax.imag(y)
    return lax.bitwise_or(_sort_lt(xr, yr),
                          lax.bitwise_and(_sort_eq(xr, yr), _sort_lt(xi, yi)))
  if dtypes.issubdtype(x.dtype, np.floating):
    return lax.bitwise_or(lax.lt(x, y), lax.bitwise_and(_isnan(y), lax.bitwise_not(_isnan(x))))
  if x.dtype == np.bool_:
    return lax.bitwise_and(lax.bitwise_not(x), y)
  return lax.lt(x, y)


def _sort_eq(x, y):
  if dtypes.issubdtype(x.dtype, np.floating):
    return lax.bitwise_or(lax.eq(x, y), lax.bitwise_and(_isnan(x), _isnan(y)))
  return lax.eq(x, y)


def _sort_le(x, y):
  return lax.bitwise_not(_sort_lt(y, x))


def _take1d(a, idx):
  """a[idx] for a 1-D a and an index array of any shape (indices clamped into range)."""
  dnums = lax_slicing.GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=(0,),
                                             start_index_map=(0,))
  return lax_slicing.gather(a, lax.expand_dims(idx, (idx.ndim,)), dnums, (1,),
                            mode=lax_slicing.GatherScatterMode.CLIP)


def _search_scan(a, v, cmp, dtype, unrolled):
  # Binary search over [low, high): after ceil(log2(n + 1)) halvings low == high is the
  # number of entries of `a` before which v goes.
  n = a.shape[0]
  steps = int(n).bit_length()
  low = lax.full(v.shape, 0, dtype)
  high = lax.full(v.shape, n, dtype)
  one, two = lax._const(low, 1), lax._const(low, 2)

  def step(_, state):
    low, high = state
    mid = lax.add(low, lax.div(lax.sub(high, low), two))
    go_right = lax.bitwise_and(cmp(_take1d(a, mid), v), lax.lt(low, high))
    go_left = lax.bitwise_and(lax.bitwise_not(go_right), lax.lt(low, high))
    return (lax.select(go_right, lax.add(mid, one), low), lax.select(go_left, mid, high))

  if unrolled:
    state = (low, high)
    for i in range(steps):
      state = step(i, state)
    return state[0]
  from numjax._src.lax.control_flow import fori_loop
  return fori_loop(0, steps, step, (low, high))[0]


def _search_compare_all(a, v, cmp, dtype):
  hits = cmp(lax.broadcast_in_dim(a, v.shape + a.shape, (v.ndim,)),
             lax.broadcast_in_dim(v, v.shape + a.shape, tuple(range(v.ndim))))
  return lax_red.reduce_sum(lax.convert_element_type(hits, dtype), (v.ndim,))


def _search_sort(a, v, side, dtype):
  # Sort `a` and the queries together (queries before equal entries of `a` for
  # side='left', after them for 'right'); a query's answer is the number of `a` entries
  # before it in that order.
  n, flat = a.shape[0], lax.reshape(v, (v.size,))
  vals = lax_slicing.concatenate([a, flat], 0)
  order = lax.broadcasted_iota(dtype, (n + flat.shape[0],), 0)
  from_a = lax.lt(order, lax._const(order, n))
  tie = lax.convert_element_type(from_a if side == "left" else lax.bitwise_not(from_a),
                                 np.int8)
  _, _, order_sorted = lax_sorting.sort((vals, tie, order), dimension=0, num_keys=2)
  a_before = lax_red.cumsum(lax.convert_element_type(
      lax.lt(order_sorted, lax._const(order_sorted, n)), dtype), axis=0)
  qpos = lax.sub(order_sorted, lax._const(order_sorted, n))
  qpos = lax.select(lax.ge(qpos, lax._const(qpos, 0)), qpos,
                    lax.full_like(qpos, flat.shape[0]))  # entries of `a`: dropped
  dnums = lax_slicing.ScatterDimensionNumbers(update_window_dims=(),
                                              inserted_window_dims=(0,),
                                              scatter_dims_to_operand_dims=(0,))
  out = lax_slicing.scatter(lax.full((flat.shape[0],), 0, dtype),
                            lax.expand_dims(qpos, (1,)), a_before, dnums,
                            mode=lax_slicing.GatherScatterMode.FILL_OR_DROP)
  return lax.reshape(out, v.shape)


def searchsorted(a, v, side="left", sorter=None, *, method="scan"):
  """Implementation of numpy.searchsorted (method: 'scan', 'scan_unrolled', 'sort' or
  'compare_all', as JAX; all give the same indices, int32)."""
  if sorter is None:
    a, v = util.ensure_arraylike("searchsorted", a, v)
  else:
    a, v, sorter = util.ensure_arraylike("searchsorted", a, v, sorter)
  if a.ndim != 1:
    raise ValueError("a should be 1-dimensional")
  a, v = util.promote_dtypes(a, v)
  if sorter is not None:
    a = _take1d(a, lax.convert_element_type(sorter, _int_dtype()))
  if side not in ("left", "right"):
    raise ValueError(f"{side!r} is an invalid value for keyword 'side'. Expected one of "
                     "['left', 'right'].")
  if method not in ("scan", "scan_unrolled", "sort", "compare_all"):
    raise ValueError(f"method={method!r} not recognized; expected one of 'scan', "
                     "'scan_unrolled', 'sort', 'compare_all'.")
  # int32 unless the array is too long for it (even with x64 on, as JAX)
  dtype = np.dtype(np.int64) if a.shape[0] >= 2 ** 31 else np.dtype(np.int32)
  if a.shape[0] == 0 or v.size == 0:
    return lax.full(v.shape, 0, dtype)
  # A query goes right of a[i] when a[i] < v ('left') or a[i] <= v ('right').
  cmp = _sort_lt if side == "left" else _sort_le
  if method == "compare_all":
    return _search_compare_all(a, v, cmp, dtype)
  if method == "sort":
    return _search_sort(a, v, side, dtype)
  return _search_scan(a, v, cmp, dtype, method == "scan_unrolled")
