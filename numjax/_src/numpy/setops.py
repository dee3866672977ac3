"""jnp set operations: unique (and unique_all/_counts/_inverse/_values), union1d,
intersect1d, setdiff1d, setxor1d, isin.

Output sizes depend on the data, so outside of jit the sizes are read from concrete values;
under jit a static `size=` fixes the output length (extra entries take `fill_value`), as in
JAX. Everything is built on `lax.sort` (stable, NaNs last), cumulative sums and
gathers/scatters, so it traces, batches and (where it makes sense) differentiates.
"""
from __future__ import annotations

import math
import operator
from typing import NamedTuple

import numpy as np

from numjax._src import core
from numjax._src import dtypes
from numjax._src.lax import lax
from numjax._src.lax import reductions as lax_red
from numjax._src.lax import slicing as lax_slicing
from numjax._src.lax import sorting as lax_sorting
from numjax._src.numpy import lax_numpy
from numjax._src.numpy import util
from numjax._src.numpy.sorting import argsort, lexsort, searchsorted, _sort_eq

UNIQUE_SIZE_HINT = (
    "To make jnp.unique() compatible with JIT and other transforms, you can specify a "
    "concrete value for the size argument, which will determine the output size.")


def _int():
  return dtypes.canonicalize_dtype(dtypes.int_)


def _arange(n, dtype=None):
  return lax.iota(dtype or _int(), n)


def _take0(x, idx):
  """x[idx] along axis 0 (idx in bounds, or clamped)."""
  return lax_numpy._take_traced(x, idx, 0)


def _sum_int(mask):
  return lax_red.reduce_sum(lax.convert_element_type(mask, _int()), (0,))


def _first_true(mask, size, fill=0):
  """The positions of the first `size` true entries of a 1-D mask (padded with `fill`)."""
  return lax_numpy.nonzero(mask, size=size, fill_value=fill)[0]


def _valid_rows(n_valid, size, like):
  """A bool mask (size, 1, 1, ...) broadcastable against `like`: row i < n_valid."""
  v = lax.lt(_arange(size), lax.convert_element_type(n_valid, _int()))
  return lax.broadcast_in_dim(v, like.shape, (0,)) if like.ndim > 1 else v


def _concrete(name, x, hint=""):
  return core.concrete_or_error(lambda v: v, x, f"The error arose in {name}(). {hint}")


def _static_size(name, size, hint=""):
  return core.concrete_or_error(operator.index, size,
                                f"The error arose for the size argument of {name}(). {hint}")


# ---------------------------------------------------------------------------------------
# unique

def _unique_sorted_mask(ar, axis, equal_nan):
  """The slices along `axis` sorted (lexicographically), a mask of the first slice of each
  run of equal slices, and the sorting permutation."""
  aux = lax_numpy.moveaxis(ar, axis, 0)
  if dtypes.issubdtype(aux.dtype, np.complexfloating):
    # A NaN anywhere makes the whole number NaN (NumPy sorts complex NaNs together).
    nan = lax._const(aux, complex(np.nan, 0))
    bad = lax.bitwise_or(lax.ne(lax.real(aux), lax.real(aux)), lax.ne(lax.imag(aux), lax.imag(aux)))
    aux = lax.select(bad, lax.broadcast(nan, aux.shape), aux)
  size, rest = aux.shape[0], aux.shape[1:]
  if math.prod(rest) == 0:
    size = min(size, 1)  # empty slices are all equal: keep at most one
    perm = lax.full((size,), 0, _int())
  elif aux.ndim == 1:
    perm = argsort(aux)
  else:
    rows = lax.reshape(aux, (size, math.prod(rest)))
    cols = [lax.reshape(lax_slicing.slice_in_dim(rows, j, j + 1, axis=1), (size,))
            for j in range(rows.shape[1])]
    perm = lexsort(cols[::-1])
  aux = _take0(aux, perm)
  if aux.size:
    head, tail = lax_slicing.slice_in_dim(aux, 1, size, axis=0), \
        lax_slicing.slice_in_dim(aux, 0, size - 1, axis=0)
    if equal_nan and dtypes.issubdtype(aux.dtype, np.inexact):
      neq = lax.bitwise_not(_sort_eq_complex(head, tail))
    else:
      neq = lax.ne(head, tail)
    if neq.ndim > 1:
      neq = lax_red.reduce_or(neq, tuple(range(1, neq.ndim)))
    mask = lax_slicing.concatenate([lax.full((1,), True, np.bool_), neq], 0)
  else:
    mask = lax.full((size,), False, np.bool_)
  return aux, mask, perm


def _sort_eq_complex(x, y):
  if dtypes.issubdtype(x.dtype, np.complexfloating):
    return lax.bitwise_and(_sort_eq(lax.real(x), lax.real(y)), _sort_eq(lax.imag(x), lax.imag(y)))
  return _sort_eq(x, y)


def _unique(ar, axis, return_index=False, return_inverse=False, return_counts=False,
            equal_nan=True, size=None, fill_value=None, return_true_size=False):
  axis = util.canonicalize_axis(axis, ar.ndim)
  if ar.shape[axis] == 0 and size and fill_value is None:
    raise ValueError("jnp.unique: for zero-sized input with nonzero size argument, "
                     "fill_value must be specified")
  aux, mask, perm = _unique_sorted_mask(ar, axis, equal_nan)
  if size is None:
    mask = core.concrete_or_error(lambda v: v, mask,
                                  "The error arose in jnp.unique(). " + UNIQUE_SIZE_HINT)
    ind = lax_numpy.nonzero(mask)[0]
  else:
    ind = _first_true(mask, size)
  result = _take0(aux, ind) if aux.size else aux
  if size is not None and fill_value is not None:
    fill = lax.convert_element_type(util._asarray(fill_value), result.dtype)
    if result.shape[0]:
      result = lax.select(_valid_rows(_sum_int(mask), size, result), result,
                          lax.broadcast(fill, result.shape))
    else:
      result = lax.broadcast(fill, (size,) + result.shape[1:])
  result = lax_numpy.moveaxis(result, 0, axis)
  ret = (result,)
  if return_index:
    ret += (_take0(perm, ind) if aux.size else perm,)
  if return_inverse:
    if aux.size:
      cs = lax_red.cumsum(lax.convert_element_type(mask, _int()), axis=0)
      imask = lax.sub(cs, lax._const(cs, 1))
      inv = lax.full(mask.shape, 0, _int()).at[perm].set(imask, unique_indices=True)
    else:
      inv = lax.full((ar.shape[axis],), 0, _int())
    ret += (inv,)
  if return_counts:
    n = mask.shape[0]
    if aux.size:
      if size is None:
        idx = lax_slicing.concatenate([ind, lax.full((1,), n, ind.dtype)], 0)
      else:
        idx = _first_true(mask, size + 1)
        tail = lax_slicing.slice_in_dim(idx, 1, size + 1)
        tail = lax.select(lax.ne(tail, lax._const(tail, 0)), tail, lax.full_like(tail, n))
        idx = lax_slicing.concatenate([lax_slicing.slice_in_dim(idx, 0, 1), tail], 0)
      counts = lax.sub(lax_slicing.slice_in_dim(idx, 1, idx.shape[0]),
                       lax_slicing.slice_in_dim(idx, 0, idx.shape[0] - 1))
      ret += (counts,)
    elif ar.shape[axis]:
      ret += (lax.full((1,), ar.shape[axis], _int()),)
    else:
      ret += (lax.full((0,), 0, _int()),)
  if return_true_size:
    ret += (_sum_int(mask),)
  return ret[0] if len(ret) == 1 else ret


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None,
           *, equal_nan=True, size=None, fill_value=None, sorted=True):
  """Implementation of numpy.unique.

  Under jit a static `size` is required: the first `size` sorted unique values are
  returned, padded with `fill_value` (default: the smallest unique value).
  """
  del sorted
  arr = util.ensure_arraylike("unique", ar)
  if size is None:
    arr = _concrete("jnp.unique", arr, UNIQUE_SIZE_HINT)
  else:
    size = _static_size("jnp.unique", size, UNIQUE_SIZE_HINT)
  shape = arr.shape
  if axis is None:
    arr, axis_int = lax.reshape(arr, (arr.size,)), 0
  else:
    axis_int = util.canonicalize_axis(axis, arr.ndim)
  result = _unique(arr, axis_int, return_index, return_inverse, return_counts,
                   equal_nan=equal_nan, size=size, fill_value=fill_value)
  if return_inverse and axis is None:
    i = 2 if return_index else 1
    result = (*result[:i], lax.reshape(result[i], shape), *result[i + 1:])
  return result


class _UniqueAllResult(NamedTuple):
  values: object
  indices: object
  inverse_indices: object
  counts: object


class _UniqueCountsResult(NamedTuple):
  values: object
  counts: object


class _UniqueInverseResult(NamedTuple):
  values: object
  inverse_indices: object


def unique_all(x, /, *, size=None, fill_value=None):
  """Implementation of numpy.unique_all (array API; NaNs are all distinct)."""
  x = util.ensure_arraylike("unique_all", x)
  v, i, inv, c = unique(x, return_index=True, return_inverse=True, return_counts=True,
                        equal_nan=False, size=size, fill_value=fill_value)
  return _UniqueAllResult(values=v, indices=i, inverse_indices=inv, counts=c)


def unique_counts(x, /, *, size=None, fill_value=None):
  """Implementation of numpy.unique_counts (array API)."""
  x = util.ensure_arraylike("unique_counts", x)
  v, c = unique(x, return_counts=True, equal_nan=False, size=size, fill_value=fill_value)
  return _UniqueCountsResult(values=v, counts=c)


def unique_inverse(x, /, *, size=None, fill_value=None):
  """Implementation of numpy.unique_inverse (array API)."""
  x = util.ensure_arraylike("unique_inverse", x)
  v, inv = unique(x, return_inverse=True, equal_nan=False, size=size, fill_value=fill_value)
  return _UniqueInverseResult(values=v, inverse_indices=inv)


def unique_values(x, /, *, size=None, fill_value=None):
  """Implementation of numpy.unique_values (array API)."""
  x = util.ensure_arraylike("unique_values", x)
  return unique(x, equal_nan=False, size=size, fill_value=fill_value)


# ---------------------------------------------------------------------------------------
# Membership

def _in1d(ar1, ar2, invert, method="auto", assume_unique=False):
  arr1, arr2 = util.promote_dtypes(ar1, ar2)
  arr1, arr2 = lax.reshape(arr1, (arr1.size,)), lax.reshape(arr2, (arr2.size,))
  if arr1.size == 0 or arr2.size == 0:
    return lax.full(arr1.shape, bool(invert), np.bool_)
  if method in ("auto", "compare_all"):
    shape = (arr1.size, arr2.size)
    a = lax.broadcast_in_dim(arr1, shape, (0,))
    b = lax.broadcast_in_dim(arr2, shape, (1,))
    if invert:
      return lax_red.reduce_and(lax.ne(a, b), (1,))
    return lax_red.reduce_or(lax.eq(a, b), (1,))
  if method == "binary_search":
    srt = lax_sorting.sort(arr2, dimension=0)
    ind = searchsorted(srt, arr1)
    found = lax.eq(arr1, _take0(srt, ind))
    return lax.bitwise_not(found) if invert else found
  if method == "sort":
    # Sort ar1's unique values together with ar2: a value of ar1 is found when the entry
    # after it in the stable order is equal (ar2's values come after ar1's equal ones).
    n1 = arr1.size
    if assume_unique:
      ind_out = None
    else:
      arr1, ind_out = _unique(arr1, 0, return_inverse=True, size=n1,
                              fill_value=lax_red.reduce_max(arr2, (0,)))
    both = lax_slicing.concatenate([arr1, arr2], 0)
    aux, order = lax_sorting.sort_key_val(both, _arange(both.shape[0]))
    same = lax.eq(lax_slicing.slice_in_dim(aux, 1, aux.shape[0]),
                  lax_slicing.slice_in_dim(aux, 0, aux.shape[0] - 1))
    if invert:
      same = lax.bitwise_not(same)
    out = lax.full((n1,), bool(invert), np.bool_).at[
        lax_slicing.slice_in_dim(order, 0, order.shape[0] - 1)].set(same, mode="drop")
    return out if ind_out is None else _take0(out, ind_out)
  raise ValueError(f"method={method!r} is not implemented; options are 'compare_all', "
                   "'binary_search', 'sort', and 'auto'")


def isin(element, test_elements, assume_unique=False, invert=False, *, method="auto"):
  """Implementation of numpy.isin (method: 'auto'/'compare_all', 'binary_search', 'sort')."""
  element, test_elements = util.ensure_arraylike("isin", element, test_elements)
  out = _in1d(element, test_elements, invert=invert, method=method,
              assume_unique=assume_unique)
  return lax.reshape(out, element.shape)


# ---------------------------------------------------------------------------------------
# Set operations on 1-D arrays

def _pad_min(vals, n_valid):
  """Entries past n_valid replaced by the smallest valid entry (0 when none is valid)."""
  valid = lax.lt(_arange(vals.shape[0]), lax.convert_element_type(n_valid, _int()))
  zero = lax.full_like(vals, 0)
  vals = lax.select(valid, vals, zero)
  big = lax.broadcast(lax_red.reduce_max(vals, (0,)), vals.shape)
  small = lax.broadcast(lax_red.reduce_min(lax.select(valid, vals, big), (0,)), vals.shape)
  return lax.select(valid, vals, small)


def _pad_with(vals, n_valid, fill_value):
  valid = lax.lt(_arange(vals.shape[0]), lax.convert_element_type(n_valid, _int()))
  fill = lax.convert_element_type(util._asarray(fill_value), vals.dtype)
  return lax.select(valid, vals, lax.broadcast(fill, vals.shape))


def union1d(ar1, ar2, *, size=None, fill_value=None):
  """Implementation of numpy.union1d (a static `size` is needed under jit)."""
  ar1, ar2 = util.ensure_arraylike("union1d", ar1, ar2)
  if size is None:
    ar1, ar2 = _concrete("union1d", ar1), _concrete("union1d", ar2)
  else:
    size = _static_size("union1d", size)
  both = lax_numpy.concatenate((ar1, ar2), axis=None)
  return unique(both, size=size, fill_value=fill_value)


def setdiff1d(ar1, ar2, assume_unique=False, *, size=None, fill_value=None):
  """Implementation of numpy.setdiff1d: sorted unique values of ar1 not in ar2 (a static
  `size` is needed under jit; padding takes `fill_value`, default 0)."""
  ar1, ar2 = util.ensure_arraylike("setdiff1d", ar1, ar2)
  arr1 = lax.reshape(ar1, (ar1.size,))
  arr2 = lax.reshape(ar2, (ar2.size,))
  if size is None:
    arr1 = _concrete("setdiff1d", arr1)
  else:
    size = _static_size("setdiff1d", size)
  fill = lax.convert_element_type(util._asarray(0 if fill_value is None else fill_value),
                                  arr1.dtype, arr1.weak_type)
  if arr1.size == 0 or size == 0:
    return lax.broadcast(fill, (size or 0,))
  n_valid = None
  if not assume_unique:
    if size is None:
      arr1 = unique(arr1)
    else:
      arr1, n_valid = _unique(arr1, 0, size=arr1.size, return_true_size=True)
  mask = _in1d(arr1, arr2, invert=True, assume_unique=assume_unique)
  if n_valid is not None:
    mask = lax.bitwise_and(mask, lax.lt(_arange(arr1.size), n_valid))
  if size is None:
    return _take0(arr1, lax_numpy.nonzero(mask)[0])
  vals = _take0(arr1, _first_true(mask, size))
  return lax.select(lax.lt(_arange(size), _sum_int(mask)), vals, lax.broadcast(fill, (size,)))


def _concat_unique(arr1, arr2):
  """[unique(arr1), unique(arr2), padding] in one array of the total length, and the
  number of real entries."""
  u1, n1 = _unique(arr1, 0, size=arr1.size, return_true_size=True)
  u2, n2 = _unique(arr2, 0, size=arr2.size, return_true_size=True)
  dt = dtypes.result_type(u1, u2)
  arr = lax.full((arr1.size + arr2.size,), 0, dt)
  arr = lax_slicing.dynamic_update_slice(arr, lax.convert_element_type(u1, dt), (0,))
  arr = lax_slicing.dynamic_update_slice(arr, lax.convert_element_type(u2, dt), (n1,))
  return arr, lax.add(n1, n2)


def setxor1d(ar1, ar2, assume_unique=False, *, size=None, fill_value=None):
  """Implementation of numpy.setxor1d: sorted values in exactly one of the arrays (a static
  `size` pads with `fill_value`, default the smallest result)."""
  ar1, ar2 = util.ensure_arraylike("setxor1d", ar1, ar2)
  arr1, arr2 = util.promote_dtypes(lax.reshape(ar1, (ar1.size,)), lax.reshape(ar2, (ar2.size,)))
  if size is None:
    if not assume_unique:
      arr1, arr2 = unique(arr1), unique(arr2)
    aux = lax_slicing.concatenate([arr1, arr2], 0)
    if aux.size == 0:
      return aux
    aux = lax_sorting.sort(aux, dimension=0)
    keep = _isolated(aux, lax.full(aux.shape, True, np.bool_))
    return _take0(aux, lax_numpy.nonzero(keep)[0])
  size = _static_size("setxor1d", size)
  if assume_unique:
    aux = lax_sorting.sort(lax_slicing.concatenate([arr1, arr2], 0), dimension=0)
    valid = lax.full(aux.shape, True, np.bool_)
  else:
    arr, n = _concat_unique(arr1, arr2)
    valid = lax.lt(_arange(arr.size), n)
    _, aux = lax_sorting.sort((lax.bitwise_not(valid), arr), dimension=0, num_keys=2)
  if aux.size == 0:
    return lax.full((size,), 0, aux.dtype)
  keep = _isolated(aux, valid)
  n_res = _sum_int(keep)
  vals = _take0(aux, _first_true(keep, size))
  if size == 0:
    return vals
  return _pad_min(vals, n_res) if fill_value is None else _pad_with(vals, n_res, fill_value)


def _isolated(aux, valid):
  """Entries of sorted `aux` (valid ones) equal to neither neighbour."""
  n = aux.shape[0]
  if n == 1:
    return valid
  diff = lax.ne(lax_slicing.slice_in_dim(aux, 1, n), lax_slicing.slice_in_dim(aux, 0, n - 1))
  last_valid = lax.bitwise_not(lax_slicing.slice_in_dim(valid, 1, n))  # next one is padding
  right = lax_slicing.concatenate([lax.bitwise_or(diff, last_valid),
                                   lax.full((1,), True, np.bool_)], 0)
  left = lax_slicing.concatenate([lax.full((1,), True, np.bool_), diff], 0)
  return lax.bitwise_and(valid, lax.bitwise_and(left, right))


def intersect1d(ar1, ar2, assume_unique=False, return_indices=False, *, size=None,
                fill_value=None):
  """Implementation of numpy.intersect1d (optionally with the first indices of each
  value in ar1 and ar2; a static `size` pads values with `fill_value`, default the
  smallest result, and indices with an out-of-bounds index)."""
  ar1, ar2 = util.ensure_arraylike("intersect1d", ar1, ar2)
  arr1, arr2 = util.promote_dtypes(ar1, ar2)
  arr1, arr2 = lax.reshape(arr1, (arr1.size,)), lax.reshape(arr2, (arr2.size,))
  n1, n2 = arr1.size, arr2.size
  if size is None:
    arr1, arr2 = _concrete("intersect1d", arr1), _concrete("intersect1d", arr2)
    ind1 = ind2 = None
    if not assume_unique:
      if return_indices:
        arr1, ind1 = unique(arr1, return_index=True)
        arr2, ind2 = unique(arr2, return_index=True)
      else:
        arr1, arr2 = unique(arr1), unique(arr2)
    both = lax_slicing.concatenate([arr1, arr2], 0)
    m = both.shape[0]
    aux, order = lax_sorting.sort_key_val(both, _arange(m))
    hit = lax.eq(lax_slicing.slice_in_dim(aux, 1, m), lax_slicing.slice_in_dim(aux, 0, m - 1)) \
        if m > 1 else lax.full((0,), False, np.bool_)
    pos = lax_numpy.nonzero(hit)[0] if m > 1 else lax.full((0,), 0, _int())
    vals = _take0(aux, pos)
    if not return_indices:
      return vals
    i1 = _take0(order, pos)
    i2 = lax.sub(_take0(order, lax.add(pos, lax._const(pos, 1))), lax._const(pos, arr1.size))
    if not assume_unique:
      i1, i2 = _take0(ind1, i1), _take0(ind2, i2)
    return vals, i1, i2
  size = _static_size("intersect1d", size)
  if assume_unique:
    ind1, nu1 = _arange(n1), lax.full((), n1, _int())
    ind2 = _arange(n2)
    arr = lax_slicing.concatenate([arr1, arr2], 0)
    aux, order = lax_sorting.sort_key_val(arr, _arange(arr.size))
    valid = lax.full(arr.shape, True, np.bool_)
  else:
    u1, ind1, nu1 = _unique(arr1, 0, size=n1, return_index=True, return_true_size=True,
                            fill_value=0)
    u2, ind2, nu2 = _unique(arr2, 0, size=n2, return_index=True, return_true_size=True,
                            fill_value=0)
    arr = lax.full((n1 + n2,), 0, arr1.dtype)
    arr = lax_slicing.dynamic_update_slice(arr, u1, (0,))
    arr = lax_slicing.dynamic_update_slice(arr, u2, (nu1,))
    valid = lax.lt(_arange(arr.size), lax.add(nu1, nu2))
    _, aux, order = lax_sorting.sort((lax.bitwise_not(valid), arr, _arange(arr.size)),
                                     dimension=0, num_keys=2)
  m = aux.shape[0]
  if m > 1:
    hit = lax.bitwise_and(
        lax.eq(lax_slicing.slice_in_dim(aux, 1, m), lax_slicing.slice_in_dim(aux, 0, m - 1)),
        lax_slicing.slice_in_dim(valid, 1, m))
  else:
    hit = lax.full((max(m - 1, 0),), False, np.bool_)
  n_res = _sum_int(hit)
  if m:
    pos = _first_true(hit, size, fill=m) if hit.shape[0] else lax.full((size,), m, _int())
    vals = _gather_fill(aux, pos, 0)
  else:
    pos = lax.full((size,), 0, _int())
    vals = lax.full((size,), 0, aux.dtype)
  if size:
    vals = _pad_min(vals, n_res) if fill_value is None else _pad_with(vals, n_res, fill_value)
  if not return_indices:
    return vals
  in_res = lax.lt(_arange(size), n_res)
  i1 = _gather_fill(order, pos, n1)
  i1 = lax.select(in_res, i1, lax.full_like(i1, n1))
  # (entries past the results are replaced just below, whatever the gathers give there)
  i2 = lax.sub(_gather_fill(order, lax.add(pos, lax._const(pos, 1)), 0),
               lax.convert_element_type(nu1, order.dtype))
  i2 = lax.select(in_res, i2, lax.full_like(i2, n2))
  if not assume_unique:
    i1 = _gather_fill(ind1, i1, n1)
    i2 = _gather_fill(ind2, i2, n2)
  return vals, i1, i2


def _gather_fill(x, idx, fill):
  """x[idx] with out-of-range indices giving `fill` (mode='fill')."""
  n = x.shape[0]
  ok = lax.bitwise_and(lax.ge(idx, lax._const(idx, 0)), lax.lt(idx, lax._const(idx, n)))
  vals = _take0(x, lax.clamp(lax._const(idx, 0), idx, lax._const(idx, max(n - 1, 0))))
  return lax.select(ok, vals, lax.full_like(vals, fill))
