"""NumPy indexing on numjax arrays: ``x[idx]``, ``x.at[idx].set/add/...``, take,
take_along_axis — lowered to lax slice / dynamic_slice / gather / scatter, as JAX does.

``x[idx]`` tries, in order: static slicing (ints, slices, None, Ellipsis -> slice, rev,
reshape), dynamic slicing (scalar traced indices -> dynamic_slice) and finally a gather
(integer arrays, concrete boolean masks, mixes; NumPy's advanced-index placement rules).
Out-of-bounds integer indices clamp (gathers PROMISE_IN_BOUNDS); ``.at[...]`` updates drop
out-of-bounds windows unless ``mode='clip'``.
"""
from __future__ import annotations

import operator
import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from numjax._src import core
from numjax._src import dtypes
from numjax._src import errors
from numjax._src.array import Array, _make
from numjax._src.array import _narrow  # 64->32-bit map while x64 is off
from numjax._src.core import Tracer
from numjax._src.lax import lax
from numjax._src.lax import slicing
from numjax._src.numpy import util

_NONE, _ELLIPSIS, _INT, _SLICE, _ARRAY, _BOOL = "none", "ellipsis", "int", "slice", "array", "bool"


# Slicing / gather plans of static basic indices, per (shape, index): x[3], x.at[1:].set(...)
_plan_cache: dict = {}


class _Entry(NamedTuple):
  kind: str
  value: object
  axes: tuple  # the axes of x this entry consumes


# ---------------------------------------------------------------------------------------
# Parsing

def _is_int(i):
  return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))


def _as_tuple(idx):
  if isinstance(idx, tuple):
    return idx
  if isinstance(idx, Sequence) and not isinstance(idx, str):
    # JAX (unlike NumPy's heuristics) refuses every non-tuple sequence here.
    inner = any(isinstance(i, (Sequence, slice)) or i is Ellipsis or i is None or
                (isinstance(i, (np.ndarray, Array, Tracer)) and np.ndim(i) != 0) for i in idx)
    fix = "arr[tuple(seq)]" if inner else "arr[array(seq)]"
    raise TypeError("Using a non-tuple sequence for multidimensional indexing is not allowed; "
                    f"use `{fix}` instead of `arr[seq]`. See "
                    "https://github.com/jax-ml/jax/issues/4564 for more information.")
  return (idx,)


def _seq_to_array(seq):
  """A (nested) Python sequence index as an array; elements may be traced."""
  def has_arrays(s):
    return any(isinstance(e, (Array, Tracer)) or (isinstance(e, Sequence) and has_arrays(e))
               for e in s)
  if not has_arrays(seq):
    a = np.asarray(seq)
    if a.size == 0:
      a = a.astype(np.int32)
    return lax.asarray(a)
  parts = [lax.asarray(e) if not isinstance(e, Sequence) else _seq_to_array(e) for e in seq]
  parts = util.promote_dtypes(*parts)
  parts = [lax.expand_dims(p, (0,)) for p in parts]
  return slicing.concatenate(parts, 0)


def _kind(idx):
  if idx is None:
    return _NONE
  if idx is Ellipsis:
    return _ELLIPSIS
  if isinstance(idx, slice):
    return _SLICE
  if isinstance(idx, (bool, np.bool_)):
    return _BOOL
  if _is_int(idx):
    return _INT
  if isinstance(idx, (Array, Tracer, np.ndarray)):
    if idx.dtype == np.bool_:
      return _BOOL
    if dtypes.issubdtype(idx.dtype, np.integer):
      return _ARRAY
    raise TypeError(f"Indexer must have integer or boolean type, got indexer with type "
                    f"{idx.dtype}")
  if isinstance(idx, str):
    raise TypeError(f"JAX does not support string indexing; got idx={idx!r}")
  if isinstance(idx, (float, complex, np.generic)):
    raise TypeError(f"Indexer must have integer or boolean type, got indexer with type "
                    f"{np.dtype(type(idx))}")
  raise IndexError("only integers, slices (`:`), ellipsis (`...`), newaxis (`None`) and "
                   f"integer or boolean arrays are valid indices. Got {idx}")


def _parse(idx, shape):
  """The index as a list of entries (sequences become arrays), with consumed axes."""
  raw = []
  for i in _as_tuple(idx):
    if hasattr(i, "__jax_array__") and not isinstance(i, (Array, Tracer)):
      i = i.__jax_array__()
    if isinstance(i, Sequence) and not isinstance(i, str):
      i = _seq_to_array(i)
    raw.append((_kind(i), i))
  n_ell = sum(k == _ELLIPSIS for k, _ in raw)
  if n_ell > 1:
    raise IndexError("an index can only have a single ellipsis ('...')")
  used = [0 if k in (_NONE, _ELLIPSIS) else (np.ndim(v) if k == _BOOL else 1) for k, v in raw]
  total = sum(used)
  if total > len(shape):
    raise IndexError(f"Too many indices: array is {len(shape)}-dimensional, but {total} were "
                     "indexed")
  out, axis = [], 0
  for (k, v), n in zip(raw, used):
    if k == _ELLIPSIS:
      n = len(shape) - total
    out.append(_Entry(k, v, tuple(range(axis, axis + n))))
    axis += n
  return out


def _concrete(x):
  """The concrete NumPy value of x, or None if x is traced."""
  if isinstance(x, Tracer):
    c = x.to_concrete_value()
    return None if c is None else np.asarray(c._value if hasattr(c, "_value") else c)
  if isinstance(x, Array):
    return x._value
  return np.asarray(x)


def _static_int(v):
  """v as a Python int if it is static (not traced), else None."""
  if v is None or _is_int(v):
    return v
  if isinstance(v, (Array, np.ndarray)) and np.ndim(v) == 0 and \
      dtypes.issubdtype(v.dtype, np.integer):
    return int(np.asarray(v))
  if isinstance(v, Tracer) and v.ndim == 0:
    c = v.to_concrete_value()
    return None if c is None else int(np.asarray(c._value if hasattr(c, "_value") else c))
  if hasattr(v, "__index__") and not isinstance(v, (Array, np.ndarray, Tracer)):
    return operator.index(v)
  return None


def _static_slice_or_raise(s, position):
  parts = [s.start, s.stop, s.step]
  ints = [_static_int(p) for p in parts]
  for p, i in zip(parts, ints):
    if p is not None and i is None:
      if isinstance(p, (float, complex, np.floating)):
        raise TypeError(f"slice indices must be integers or None or have an __index__ "
                        f"method, got {p!r}")
      raise IndexError(f"Slice entries must be static integers. Got {s} at position "
                       f"{position}")
  if ints[2] == 0:
    raise ValueError("slice step cannot be zero")
  return slice(*ints)


def _slice_range(s, n):
  """(start, step, size) of a static slice over an axis of length n, as NumPy."""
  start, stop, step = s.indices(n)
  return start, step, len(range(start, stop, step))


def _expand_bool_masks(entries, shape):
  """Boolean array masks (which must be concrete) become integer index arrays."""
  out = []
  for pos, e in enumerate(entries):
    if e.kind != _BOOL or np.ndim(e.value) == 0:
      out.append(e if e.kind != _BOOL else e._replace(value=bool(_bool_value(e.value))))
      continue
    mask = _bool_value(e.value)
    expected = [shape[a] for a in e.axes]
    if not all(s in (0, t) for s, t in zip(mask.shape, expected)):
      raise IndexError(f"boolean index did not match shape of indexed array in index {pos}: "
                       f"got {mask.shape}, expected {expected}")
    for ix, a in zip(np.nonzero(mask), e.axes):
      out.append(_Entry(_ARRAY, lax.asarray(ix.astype(np.int32) if ix.size < 2**31 else ix),
                        (a,)))
  return out


def _bool_value(v):
  c = _concrete(v)
  if c is None:
    raise errors.NonConcreteBooleanIndexError(
        f"Array boolean indices must be concrete; got {v.aval.str_short(False)}\n"
        f"{core._user_line_hint().lstrip()}\nThe number of selected elements would set the "
        "result's shape, which must be static under jit/vmap. Use jnp.where(mask, x, fill) "
        "to keep the shape, or pass a static size= to jnp.nonzero / jnp.where.")
  return c


# ---------------------------------------------------------------------------------------
# x[idx]: static slice, dynamic slice, or gather

def _ellipsis_expanded(entries, ndim):
  out, axis = [], 0
  for e in entries:
    if e.kind == _ELLIPSIS:
      out.extend(_Entry(_SLICE, slice(None), (a,)) for a in e.axes)
    else:
      out.append(e)
    axis += len(e.axes)
  out.extend(_Entry(_SLICE, slice(None), (a,)) for a in range(axis, ndim))
  return out


def _mode_allows_slicing(mode):
  return mode is None or slicing.GatherScatterMode.from_any(mode) in (
      slicing.GatherScatterMode.PROMISE_IN_BOUNDS, slicing.GatherScatterMode.CLIP)


def _static_slice_plan(shape, entries, normalize):
  """(window, rev_axes, new_shape, squeeze_axes, newaxis_dims) for x[idx] by lax.slice /
  rev / squeeze / expand_dims (JAX's sequence and window numbers) when idx has only static
  ints, slices, None and Ellipsis; None if it does not apply."""
  if any(e.kind not in (_NONE, _ELLIPSIS, _INT, _SLICE) for e in entries):
    return None
  starts, limits, strides, rev_axes, new_shape = [], [], [], [], []
  squeeze_axes, newaxis_dims = [], []
  for pos, e in enumerate(_ellipsis_expanded(entries, len(shape))):
    if e.kind == _NONE:
      new_shape.append(1)
      newaxis_dims.append(len(starts) - len(squeeze_axes) + len(newaxis_dims))
      continue
    a, = e.axes
    n = shape[a]
    if e.kind == _INT:
      if n == 0:
        raise IndexError(f"index is out of bounds for axis {a} with size 0")
      i = int(e.value)
      if normalize and i < 0:
        i += n
      i = min(max(i, 0), n - 1)  # out-of-bounds integers clamp, as a gather would
      starts.append(i)
      limits.append(i + 1)
      strides.append(1)
      squeeze_axes.append(a)
      continue
    s = _static_slice_or_raise(e.value, pos)
    start, step, size = _slice_range(s, n)
    stop = s.indices(n)[1]
    new_shape.append(size)
    if step > 0:
      starts.append(start)
      limits.append(max(start, stop))
      strides.append(step)
    else:  # read the same elements in increasing order, then reverse (JAX's window)
      first = min(n, stop + 1 + (abs(start - stop - 1) % -step))
      starts.append(first)
      limits.append(max(first, start + 1))
      strides.append(-step)
      rev_axes.append(a)
  unit = all(k == 1 for k in strides)
  trivial = unit and starts == [0] * len(shape) and limits == list(shape)
  return (None if trivial else (tuple(starts), tuple(limits), None if unit else tuple(strides)),
          tuple(rev_axes), tuple(new_shape), tuple(squeeze_axes), tuple(newaxis_dims))


def _apply_static_plan(arr, plan):
  window, rev_axes, new_shape, squeeze_axes, newaxis_dims = plan
  out = arr
  if window is not None:
    start, limit, strides = window
    out = slicing.slice_p.bind(out, start_indices=start, limit_indices=limit, strides=strides)
  if rev_axes:
    out = slicing.rev_p.bind(out, dimensions=rev_axes)
  if squeeze_axes:
    out = lax.squeeze(out, squeeze_axes)
  if newaxis_dims:
    out = lax.expand_dims(out, newaxis_dims)
  return out


def _try_static_slice(arr, entries, normalize):
  plan = _static_slice_plan(arr.shape, entries, normalize)
  return None if plan is None else _apply_static_plan(arr, plan)


def _try_dynamic_slice(arr, entries, normalize):
  """x[idx] by lax.dynamic_slice when idx has scalar (possibly traced) integer indices and
  unit-step slices; None if it does not apply."""
  shape = arr.shape
  for e in entries:
    if e.kind in (_NONE, _ELLIPSIS, _INT):
      continue
    if e.kind == _ARRAY and np.ndim(e.value) == 0:
      continue
    if e.kind == _SLICE:
      s = e.value
      step = _static_int(s.step) if s.step is not None else 1
      if step in (1, -1) and all(_static_int(p) is not None or p is None
                                 for p in (s.start, s.stop)):
        continue
    return None
  starts, sizes, rev_axes, new_shape = [], [], [], []
  for e in _ellipsis_expanded(entries, len(shape)):
    if e.kind == _NONE:
      new_shape.append(1)
      continue
    a, = e.axes
    n = shape[a]
    if e.kind in (_INT, _ARRAY):
      if n == 0:
        raise IndexError(f"index is out of bounds for axis {a} with size 0")
      starts.append(e.value)
      sizes.append(1)
      continue
    s = slice(*(_static_int(p) for p in (e.value.start, e.value.stop, e.value.step)))
    start, step, size = _slice_range(s, n)
    new_shape.append(size)
    starts.append(0 if size == 0 else (start if step > 0 else start - size + 1))
    sizes.append(size)
    if step < 0:
      rev_axes.append(a)
  dt = _index_dtype(shape)
  starts = [_to_index(i, dt) for i in starts]
  out = slicing.dynamic_slice(arr, starts, sizes, allow_negative_indices=normalize)
  if rev_axes:
    out = slicing.rev(out, rev_axes)
  if not any(e.kind == _NONE for e in entries):  # as JAX: the scalar-indexed dims squeezed
    dims = tuple(e.axes[0] for e in _ellipsis_expanded(entries, len(shape))
                 if e.kind in (_INT, _ARRAY))
    return lax.squeeze(out, dims)
  return lax.reshape(out, tuple(new_shape))


def _index_dtype(shape):
  big = any(d >= 2**31 - 1 for d in shape)
  return np.dtype(np.int64 if big and dtypes.canonicalize_dtype(np.int64) == np.int64
                  else np.int32)


def _to_index(i, dt):
  if _is_int(i):
    return _make(np.asarray(i, dtype=dt), False)
  i = lax.asarray(i)
  return i if i.dtype == dt else lax.convert_element_type(i, dt)


class _GatherPlan(NamedTuple):
  slice_shape: tuple          # shape of x[idx] (None axes included)
  gather_slice_shape: tuple
  indices: object             # the gather's start indices (index vector last)
  dnums: slicing.GatherDimensionNumbers
  unique_indices: bool
  indices_are_sorted: bool
  reversed_y_dims: tuple
  newaxis_dims: tuple
  scalar_bool_dims: tuple


def _index_to_gather(shape, entries, normalize):
  """NumPy basic + advanced indexing as one gather (plus rev / expand_dims)."""
  for pos, e in enumerate(entries):
    if e.kind == _SLICE:
      entries[pos] = e._replace(value=_static_slice_or_raise(e.value, pos))
  adv_pos = [i for i, e in enumerate(entries) if e.kind in (_ARRAY, _INT)]
  contiguous = all(b - a == 1 for a, b in zip(adv_pos, adv_pos[1:]))
  entries = _ellipsis_expanded(entries, len(shape))
  # Scalar booleans add a unit axis, indexed by [0] (True) or [] (False), as NumPy.
  shape = list(shape)
  scalar_bool_dims, fixed, axis = [], [], 0
  for e in entries:
    if e.kind == _BOOL:
      shape.insert(axis, 1)
      scalar_bool_dims.append(axis)
      fixed.append(_Entry(_ARRAY, lax.asarray(np.arange(int(e.value), dtype=np.int32)),
                          (axis,)))
      axis += 1
    else:
      fixed.append(e._replace(axes=tuple(range(axis, axis + len(e.axes)))))
      axis += len(e.axes)
  entries = fixed
  shape = tuple(shape)
  dt = _index_dtype(shape)
  if normalize:
    entries = [_normalized(e, shape) for e in entries]
  advanced = any(e.kind == _ARRAY and np.ndim(e.value) > 0 for e in entries)
  adv = []
  if advanced:
    x_axis = 0
    for pos, e in enumerate(entries):
      if e.kind in (_ARRAY, _INT):
        adv.append((pos, x_axis, e.value))
      if e.kind != _NONE:
        x_axis += 1
    if scalar_bool_dims:  # positions changed: recompute contiguity on the final list
      ps = [p for p, _, _ in adv]
      contiguous = all(b - a == 1 for a, b in zip(ps, ps[1:]))
  adv_positions = {p for p, _, _ in adv}
  offset_dims, collapsed, start_index_map = [], [], []
  gather_indices, gather_indices_shape = [], []
  slice_shape, newaxis_dims, reversed_y_dims, gather_slice_shape = [], [], [], []
  x_axis = y_axis = cy_axis = 0
  for pos, e in enumerate(entries):
    if adv and ((contiguous and pos == adv[0][0]) or (not contiguous and pos == 0)):
      arrs = util._broadcast_arrays(*[lax.asarray(v) for _, _, v in adv])
      bshape = tuple(arrs[0].shape)
      start = len(gather_indices_shape)
      gather_indices.extend((_to_index(a, dt), start) for a in arrs)
      gather_indices_shape.extend(bshape)
      start_index_map.extend(xa for _, xa, _ in adv)
      collapsed.extend(xa for _, xa, _ in adv)
      slice_shape.extend(bshape)
      y_axis += len(bshape)
      cy_axis += len(bshape)
    if pos in adv_positions:
      x_axis += 1
      gather_slice_shape.append(1)
      continue
    if e.kind in (_INT, _ARRAY):  # scalar index (no advanced indexing in play)
      if shape[x_axis] == 0:
        raise IndexError(f"index is out of bounds for axis {x_axis} with size 0")
      gather_indices.append((_to_index(e.value, dt), len(gather_indices_shape)))
      collapsed.append(x_axis)
      gather_slice_shape.append(1)
      start_index_map.append(x_axis)
      x_axis += 1
    elif e.kind == _NONE:
      slice_shape.append(1)
      newaxis_dims.append(y_axis)
      y_axis += 1
    elif e.kind == _SLICE:
      start, step, size = _slice_range(e.value, shape[x_axis])
      slice_shape.append(size)
      if step == 1:
        if size != shape[x_axis]:  # a partial window: one start index
          gather_indices.append((_make(np.asarray(start, dt), False),
                                 len(gather_indices_shape)))
          start_index_map.append(x_axis)
        gather_slice_shape.append(size)
        offset_dims.append(cy_axis)
      else:  # a strided slice: an index array read in increasing order
        ix = start + step * np.arange(size, dtype=np.int64)
        if step < 0:
          reversed_y_dims.append(cy_axis)
          ix = ix[::-1]
        gather_slice_shape.append(1)
        gather_indices.append((_make(np.ascontiguousarray(ix).astype(dt), False),
                               len(gather_indices_shape)))
        start_index_map.append(x_axis)
        gather_indices_shape.append(size)
        collapsed.append(x_axis)
      cy_axis += 1
      y_axis += 1
      x_axis += 1
    else:
      raise IndexError(f"Got unsupported indexer at position {pos}: {e.value!r}")
  if not gather_indices:
    indices = _make(np.zeros((0,), dt), False)
  elif len(gather_indices) == 1:
    g, _ = gather_indices[0]
    indices = lax.expand_dims(g, (g.ndim,))
  else:
    full = tuple(gather_indices_shape) + (1,)
    indices = slicing.concatenate(
        [lax.broadcast_in_dim(g, full, tuple(range(i, i + g.ndim))) for g, i in gather_indices],
        len(gather_indices_shape))
  dnums = slicing.GatherDimensionNumbers(offset_dims=tuple(offset_dims),
                                         collapsed_slice_dims=tuple(sorted(collapsed)),
                                         start_index_map=tuple(start_index_map))
  return _GatherPlan(tuple(slice_shape), tuple(gather_slice_shape), indices, dnums,
                     not adv, not adv, tuple(reversed_y_dims), tuple(newaxis_dims),
                     tuple(scalar_bool_dims))


def _normalized(e, shape):
  """Negative integer indices count from the end (static ints statically)."""
  if e.kind == _INT:
    n = shape[e.axes[0]]
    if isinstance(e.value, np.unsignedinteger) or e.value >= 0:
      return e
    return e._replace(value=int(e.value) + n)
  if e.kind == _ARRAY:
    v = e.value
    if dtypes.issubdtype(v.dtype, np.unsignedinteger):
      return e
    n = shape[e.axes[0]]
    v = lax.asarray(v)
    zero = _make(np.zeros((), v.dtype), False)
    return e._replace(value=lax.select(lax.lt(v, zero), lax.add(v, lax.convert_element_type(
        n, v.dtype)), v))
  return e


def rewriting_take(arr, idx, *, indices_are_sorted=False, unique_indices=False, mode=None,
                   fill_value=None, normalize_indices=True):
  """arr[idx] (NumPy semantics; out-of-bounds integer indices clamp unless mode='fill')."""
  arr = lax.asarray(arr)
  entries = _parse(idx, arr.shape)
  if _mode_allows_slicing(mode):
    out = _try_static_slice(arr, entries, normalize_indices)
    if out is not None:
      return out
    out = _try_dynamic_slice(arr, entries, normalize_indices)
    if out is not None:
      return out
  entries = _expand_bool_masks(entries, arr.shape)
  plan = _index_to_gather(arr.shape, entries, normalize_indices)
  y = arr
  if fill_value is not None:
    fill_value = core.concrete_or_error(np.asarray, fill_value,
                                        "fill_value argument to indexed get()")
    if np.ndim(fill_value) != 0:
      raise ValueError("fill_value argument to indexed get() must be a scalar")
    fill_value = fill_value.item()
  if plan.scalar_bool_dims:
    y = lax.expand_dims(y, plan.scalar_bool_dims)
  if 0 in plan.slice_shape:
    return lax.full_like(y, 0, shape=plan.slice_shape)
  if plan.indices.size:
    y = slicing.gather(y, plan.indices, plan.dnums, plan.gather_slice_shape,
                       unique_indices=unique_indices or plan.unique_indices,
                       indices_are_sorted=indices_are_sorted or plan.indices_are_sorted,
                       mode=mode, fill_value=fill_value)
  if plan.reversed_y_dims:
    y = slicing.rev(y, plan.reversed_y_dims)
  if plan.newaxis_dims:
    y = lax.expand_dims(y, plan.newaxis_dims)
  return y


def _static_key(idx):
  """A hashable form of a purely static basic index (ints, int slices, None, ...), or None."""
  parts = idx if type(idx) is tuple else (idx,)
  key = []
  for i in parts:
    t = type(i)
    if t is int:
      key.append(i)
    elif t is slice:
      if not all(type(v) is int or v is None for v in (i.start, i.stop, i.step)):
        return None
      key.append(("s", i.start, i.stop, i.step))
    elif i is None or i is Ellipsis:
      key.append(i)
    else:
      return None
  return tuple(key)


def _cache_plan(key, plan):
  if len(_plan_cache) > 4096:
    _plan_cache.clear()
  _plan_cache[key] = plan


def _np_index_of(plan):
  """The NumPy basic index (and final reshape) doing what `_apply_static_plan` does with
  slice/rev/reshape primitives, for the eager path: (window index, reversing index, shape)."""
  window, rev_axes, new_shape = plan[:3]
  win = None
  if window is not None:
    start, limit, strides = window
    strides = strides or (1,) * len(start)
    win = tuple(slice(s, l, k) for s, l, k in zip(start, limit, strides))
  rev = None
  if rev_axes:
    nd = len(window[0]) if window is not None else max(rev_axes) + 1
    rev = tuple(slice(None, None, -1) if a in rev_axes else slice(None) for a in range(nd))
  return win, rev, new_shape


def _getitem(self, idx):
  # Fast path for repeated static basic indices: the slicing plan is cached per shape.
  key = _static_key(idx)
  if key is not None:
    shape = self.shape
    entry = _plan_cache.get((shape, key))
    if entry is None:
      plan = _static_slice_plan(shape, _parse(idx, shape), True)
      entry = (plan, _np_index_of(plan) if plan is not None else None)
      _cache_plan((shape, key), entry)
    plan, np_index = entry
    if core._eager_only and type(self) is Array and np_index is not None:
      # Eager: the slice/rev/reshape primitives, applied as one NumPy basic index (a view)
      win, rev, new_shape = np_index
      v = self._value
      if win is not None:
        v = v[win]
      if rev is not None:
        v = v[rev]
      if v.shape != new_shape:
        v = v.reshape(new_shape)
      return _make(v, self.weak_type)
    return _apply_static_plan(self, plan)
  if core._eager_only and type(self) is Array:
    ti = type(idx)
    if ti is Array or ti is np.ndarray:
      out = _eager_take(self, idx._value if ti is Array else idx)
      if out is not None:
        return out
  return rewriting_take(self, idx)


_I32 = np.dtype(np.int32)


def _eager_take(x, iv):
  """x[i] for an int32 index array `i` (eager): the gather rewriting_take builds, as one
  NumPy take -- negative indices wrap, out-of-bounds ones clamp. None if not applicable."""
  v = x._value
  if iv.dtype != _I32 or not v.ndim or not v.shape[0]:
    return None
  n = v.shape[0]
  return _make(v.take(np.where(iv < 0, iv + n, iv), axis=0, mode="clip"), x.weak_type)


# x.at[i].<op>(y), eager: the scatter primitive -> NumPy assignment / ufunc.at (None: set)
_quiet_ufunc_at = lax._quiet(lambda ufunc, out, i, y: ufunc.at(out, i, y))


def _eager_scatter(x, idx, y, scatter_op, mode, normalize):
  """x.at[idx].op(y) without tracing machinery, for x an Array, idx a static int or an
  int32 index array on axis 0, and y a Python scalar or array that promotion leaves in x's
  dtype: the same NumPy kernel the scatter primitive runs (negative indices wrap, others
  out of bounds are dropped). None when it does not apply (the general path decides)."""
  if mode is not None or type(x) is not Array:
    return None
  ufunc = _EAGER_SCATTER_UFUNCS.get(scatter_op, False)
  if ufunc is False:
    return None
  v = x._value
  dt = v.dtype
  if not v.ndim or not v.shape[0] or dt in _narrow or dt.kind not in "iufc":
    return None
  n = v.shape[0]
  ti = type(idx)
  if ti is int:
    i = idx + n if normalize and idx < 0 else idx
    upd_shape = v.shape[1:]
  elif ti is Array or ti is np.ndarray:
    i = idx._value if ti is Array else idx
    if i.dtype != _I32:
      return None
    upd_shape = i.shape + v.shape[1:]
  else:
    return None
  ty, kind = type(y), dt.kind
  if ty is float:
    if kind not in "fc":
      return None
  elif ty is int:
    if kind in "iu":
      info = np.iinfo(dt)
      if not info.min <= y <= info.max:
        return None
    elif kind not in "fc" or not -2**31 <= y < 2**31:
      return None
  elif ty is Array or ty is np.ndarray:
    if y.dtype != dt:
      return None
    y = y._value if ty is Array else y
  else:
    return None
  try:
    yb = np.broadcast_to(np.asarray(y, dtype=dt), upd_shape)
  except ValueError:
    return None
  if 0 in upd_shape:
    return x
  out = v.copy()
  if ti is int:
    if not 0 <= i < n:
      return _make(out, x.weak_type)
  else:
    if normalize:
      i = np.where(i < 0, i + n, i)
    ok = (i >= 0) & (i < n)
    if not ok.all():
      i, yb = i[ok], yb[ok]
  if ufunc is None:
    out[i] = yb
  else:
    _quiet_ufunc_at(ufunc, out, i, yb)
  return _make(out, x.weak_type)


# ---------------------------------------------------------------------------------------
# x.at[idx].<op>(y): indexed updates as scatters

def _scatter_update(x, idx, y, scatter_op, indices_are_sorted, unique_indices, mode=None,
                    normalize_indices=True):
  """x with x[idx] <op>= y applied functionally (JAX's dtype rules: computed in the
  promoted dtype, cast back to x's dtype and weak type)."""
  if core._eager_only:
    out = _eager_scatter(x, idx, y, scatter_op, mode, normalize_indices)
    if out is not None:
      return out
  x = lax.asarray(x)
  if (isinstance(y, int) and not isinstance(y, bool) and
      dtypes.issubdtype(x.dtype, np.integer) and
      np.iinfo(x.dtype).min <= y <= np.iinfo(x.dtype).max):
    y = _make(np.asarray(y, dtype=x.dtype), False)
  else:
    y = lax.asarray(y)
  dtype, weak = x.dtype, x.weak_type
  key = _static_key(idx)
  if key is None:
    plan = _index_to_gather(x.shape, _expand_bool_masks(_parse(idx, x.shape), x.shape),
                            normalize_indices)
  else:  # a static index: its gather plan (constant indices) is cached per shape
    ckey = ("scatter", x.shape, key, normalize_indices)
    plan = _plan_cache.get(ckey)
    if plan is None:
      with core.new_base_main():  # constants, even when called under a transformation
        plan = _index_to_gather(x.shape, _parse(idx, x.shape), normalize_indices)
      _cache_plan(ckey, plan)
  if not dtypes.safe_to_cast(y, x):
    warnings.warn(
        "scatter inputs have incompatible types: cannot safely cast value from "
        f"dtype={y.dtype} to dtype={x.dtype} with jax_numpy_dtype_promotion=standard. "
        "In future JAX releases this will result in an error.", FutureWarning, stacklevel=3)
  if 0 in plan.slice_shape:
    return x
  x, y = util.promote_dtypes(x, y)
  y = util._broadcast_to(y, plan.slice_shape)
  if plan.newaxis_dims:
    y = lax.squeeze(y, plan.newaxis_dims)
  if plan.reversed_y_dims:
    y = slicing.rev(y, plan.reversed_y_dims)
  if plan.scalar_bool_dims:
    x = lax.expand_dims(x, plan.scalar_bool_dims)
  dnums = slicing._scatter_dnums_of(plan.dnums)
  out = scatter_op(x, plan.indices, y, dnums,
                   indices_are_sorted=plan.indices_are_sorted or indices_are_sorted,
                   unique_indices=plan.unique_indices or unique_indices, mode=mode)
  if plan.scalar_bool_dims:
    out = lax.squeeze(out, plan.scalar_bool_dims)
  return lax.convert_element_type(out, dtype, weak)


def _divide(a, b):
  from numjax._src.numpy.ufuncs import divide  # noqa: imported late (ufuncs imports us)
  return divide(a, b)


def _power(a, b):
  from numjax._src.numpy.ufuncs import power  # noqa: imported late (ufuncs imports us)
  return power(a, b)


class _IndexUpdateHelper:
  """``x.at``: ``x.at[idx]`` gives an object whose methods return updated copies of x."""
  __slots__ = ("array",)

  def __init__(self, array):
    self.array = array

  def __getitem__(self, index):
    return _IndexUpdateRef(self.array, index)

  def __repr__(self):
    return f"_IndexUpdateHelper({self.array!r})"


class _IndexUpdateRef:
  """``x.at[idx]``: get / set / apply / add / subtract / multiply / divide / power / min / max.

  Keyword arguments as JAX: indices_are_sorted, unique_indices, mode ('promise_in_bounds',
  'clip', 'drop', 'fill'), wrap_negative_indices, and fill_value for get()."""
  __slots__ = ("array", "index")

  def __init__(self, array, index):
    self.array = array
    self.index = index

  def __repr__(self):
    return f"_IndexUpdateRef({self.array!r}, {self.index!r})"

  def get(self, *, indices_are_sorted=False, unique_indices=False, mode=None,
          fill_value=None, out_sharding=None, wrap_negative_indices=True):
    """Equivalent to ``x[idx]`` (out-of-bounds indices clamp; mode='fill' fills)."""
    return rewriting_take(self.array, self.index, indices_are_sorted=indices_are_sorted,
                          unique_indices=unique_indices, mode=mode, fill_value=fill_value,
                          normalize_indices=wrap_negative_indices)

  def _update(self, values, op, indices_are_sorted, unique_indices, mode, wrap):
    return _scatter_update(self.array, self.index, values, op, indices_are_sorted,
                           unique_indices, mode=mode, normalize_indices=wrap)

  def set(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
          out_sharding=None, wrap_negative_indices=True):
    """Pure equivalent of ``x[idx] = y``."""
    return self._update(values, slicing.scatter, indices_are_sorted, unique_indices, mode,
                        wrap_negative_indices)

  def apply(self, func, *, indices_are_sorted=False, unique_indices=False, mode=None,
            wrap_negative_indices=True):
    """Pure equivalent of ``func.at(x, idx)`` for a unary function ``func``."""
    def op(x, indices, y, dnums, **kw):
      return slicing.scatter_apply(x, indices, func, dnums, update_shape=y.shape, **kw)
    zero = _make(np.zeros((), lax.asarray(self.array).dtype), False)
    return self._update(zero, op, indices_are_sorted, unique_indices, mode,
                        wrap_negative_indices)

  def add(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
          out_sharding=None, wrap_negative_indices=True):
    """Pure equivalent of ``x[idx] += y`` (repeated indices accumulate)."""
    return self._update(values, slicing.scatter_add, indices_are_sorted, unique_indices, mode,
                        wrap_negative_indices)

  def subtract(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
               out_sharding=None, wrap_negative_indices=True):
    """Pure equivalent of ``x[idx] -= y``."""
    return self._update(values, slicing.scatter_sub, indices_are_sorted, unique_indices, mode,
                        wrap_negative_indices)

  def multiply(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
               out_sharding=None, wrap_negative_indices=True):
    """Pure equivalent of ``x[idx] *= y``."""
    return self._update(values, slicing.scatter_mul, indices_are_sorted, unique_indices, mode,
                        wrap_negative_indices)

  mul = multiply

  def divide(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
             out_sharding=None, wrap_negative_indices=True):
    """Pure equivalent of ``x[idx] /= y`` (true division: integer arrays become float)."""
    ones = lax.full_like(lax.asarray(self.array), 1)
    scale = _scatter_update(ones, self.index, values, slicing.scatter_mul, indices_are_sorted,
                            unique_indices, mode=mode, normalize_indices=wrap_negative_indices)
    return _divide(self.array, scale)

  def power(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
            out_sharding=None, wrap_negative_indices=True):
    """Pure equivalent of ``x[idx] **= y``."""
    ones = lax.full_like(lax.asarray(self.array), 1)
    expo = _scatter_update(ones, self.index, values, slicing.scatter_mul, indices_are_sorted,
                           unique_indices, mode=mode, normalize_indices=wrap_negative_indices)
    return _power(self.array, expo)

  def min(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
          out_sharding=None, wrap_negative_indices=True):
    """Pure equivalent of ``x[idx] = minimum(x[idx], y)``."""
    return self._update(values, slicing.scatter_min, indices_are_sorted, unique_indices, mode,
                        wrap_negative_indices)

  def max(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None,
          out_sharding=None, wrap_negative_indices=True):
    """Pure equivalent of ``x[idx] = maximum(x[idx], y)``."""
    return self._update(values, slicing.scatter_max, indices_are_sorted, unique_indices, mode,
                        wrap_negative_indices)


def _at(self):
  return _IndexUpdateHelper(self)


# ---------------------------------------------------------------------------------------
# take, take_along_axis

def take(a, indices, axis=None, out=None, mode=None, unique_indices=False,
         indices_are_sorted=False, fill_value=None):
  """Implementation of numpy.take. Out-of-bounds indices give fill_value (NaN for floats)
  by default (mode='fill'); mode='clip' clamps, mode='wrap' wraps; 'raise' is unsupported."""
  if out is not None:
    raise NotImplementedError("The 'out' argument to jnp.take is not supported.")
  util.check_arraylike("take", a, indices)
  return _take(a, indices, None if axis is None else operator.index(axis), mode=mode,
               unique_indices=unique_indices, indices_are_sorted=indices_are_sorted,
               fill_value=fill_value)


@util.jit_when_traced(static_argnames=("axis", "mode", "unique_indices", "indices_are_sorted",
                                       "fill_value"), name="_take")
def _take(a, indices, axis=None, mode=None, unique_indices=False, indices_are_sorted=False,
          fill_value=None):  # (a jit[name=_take] equation when traced, as JAX's)
  a, indices = lax.asarray(a), lax.asarray(indices)
  if axis is None:
    a = lax.reshape(a, (a.size,))
    axis = 0
  else:
    axis = util.canonicalize_axis(axis, a.ndim)
  if not dtypes.issubdtype(indices.dtype, np.integer):
    raise TypeError(f"take indices must be of integer type, got {indices.dtype}")
  n = a.shape[axis]
  if mode is None or mode == "fill":
    gmode = slicing.GatherScatterMode.FILL_OR_DROP
    indices = util._where(lax.lt(indices, 0), lax.add(indices, n), indices)  # as JAX's _take
  elif mode == "raise":
    raise NotImplementedError("The 'raise' mode to jnp.take is not supported.")
  elif mode == "wrap":
    if n:
      nn = lax.convert_element_type(n, indices.dtype)
      indices = lax.rem(lax.add(lax.rem(indices, nn), nn), nn)
    gmode = slicing.GatherScatterMode.PROMISE_IN_BOUNDS
  elif mode == "clip":
    gmode = slicing.GatherScatterMode.CLIP
  else:
    raise ValueError(f"Invalid mode '{mode}' for np.take")
  sizes = list(a.shape)
  if n == 0:
    if indices.size:
      raise IndexError("Cannot do a non-empty jnp.take() from an empty axis.")
    return a
  if indices.size == 0:
    return lax.full(tuple(sizes[:axis]) + indices.shape + tuple(sizes[axis + 1:]), 0, a.dtype)
  sizes[axis] = 1
  k = indices.ndim
  dnums = slicing.GatherDimensionNumbers(
      offset_dims=tuple(range(axis)) + tuple(range(axis + k, a.ndim + k - 1)),
      collapsed_slice_dims=(axis,), start_index_map=(axis,))
  return slicing.gather(a, lax.expand_dims(indices, (k,)), dnums, tuple(sizes), mode=gmode,
                        unique_indices=unique_indices, indices_are_sorted=indices_are_sorted,
                        fill_value=fill_value)


def take_along_axis(arr, indices, axis=-1, mode=None, fill_value=None, *,
                    wrap_negative_indices=None):
  """Implementation of numpy.take_along_axis. Out-of-bounds indices give fill_value (NaN
  for floats) by default; mode='clip' clamps."""
  util.check_arraylike("take_along_axis", arr, indices)
  a, indices = lax.asarray(arr), lax.asarray(indices)
  if not dtypes.issubdtype(indices.dtype, np.integer):
    raise TypeError(f"take_along_axis indices must be of integer type, got {indices.dtype}")
  if axis is None:
    if indices.ndim != 1:
      raise ValueError(f"take_along_axis indices must be 1D if axis=None, got shape "
                       f"{indices.shape}")
    a = lax.reshape(a, (a.size,))
    axis = 0
  if a.ndim != indices.ndim:
    raise ValueError(f"indices and arr must have the same number of dimensions; "
                     f"{indices.ndim} vs. {a.ndim}")
  axis = util.canonicalize_axis(axis, a.ndim)
  n = a.shape[axis]
  a_shape = a.shape[:axis] + (1,) + a.shape[axis + 1:]
  out_shape = tuple(np.broadcast_shapes(indices.shape, a_shape))
  if n == 0:
    return lax.full(out_shape, 0, a.dtype)
  if wrap_negative_indices is None:
    wrap_negative_indices = mode != "promise_in_bounds"
  if wrap_negative_indices:
    indices = _normalized(_Entry(_ARRAY, indices, (axis,)), a.shape).value
  # Per axis: the indexed axis is collapsed; an axis where indices have size 1 is taken
  # whole from arr; where arr has size 1 it is broadcast (squeezed away); otherwise arr
  # and indices are paired as batching dimensions.
  offset, obatch, ibatch, sizes, squeeze, keep_idx = [], [], [], [], [], []
  new_i = 0
  for i in range(a.ndim):
    if i == axis:
      sizes.append(1)
      collapsed = new_i
      keep_idx.append(i)
      new_i += 1
    elif indices.shape[i] == 1:
      offset.append(i)
      sizes.append(a.shape[i])
      new_i += 1
    elif a.shape[i] == 1:
      squeeze.append(i)
      keep_idx.append(i)
    else:
      sizes.append(1 if a.shape[i] else 0)
      obatch.append(new_i)
      ibatch.append(len(keep_idx))
      keep_idx.append(i)
      new_i += 1
  gidx_shape = tuple(out_shape[i] for i in keep_idx) + (1,)
  gidx = lax.reshape(util._broadcast_to(indices, tuple(
      out_shape[i] if i in keep_idx else 1 for i in range(a.ndim))), gidx_shape)
  a = lax.squeeze(a, squeeze) if squeeze else a
  dnums = slicing.GatherDimensionNumbers(
      offset_dims=tuple(offset), collapsed_slice_dims=(collapsed,), start_index_map=(collapsed,),
      operand_batching_dims=tuple(obatch), start_indices_batching_dims=tuple(ibatch))
  return slicing.gather(a, gidx, dnums, tuple(sizes), mode="fill" if mode is None else mode,
                        fill_value=fill_value)


# ---------------------------------------------------------------------------------------

def _install():
  """Give Array and Tracer NumPy indexing and the ``.at`` property."""
  for cls in (Array, Tracer):
    cls.__getitem__ = _getitem
    cls.at = property(_at)


_install()


_EAGER_SCATTER_UFUNCS = {slicing.scatter: None, slicing.scatter_add: np.add,
                         slicing.scatter_sub: np.subtract, slicing.scatter_mul: np.multiply,
                         slicing.scatter_min: np.minimum, slicing.scatter_max: np.maximum}
