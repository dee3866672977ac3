"""numjax.ops: segment reductions (segment_sum/prod/max/min), as scatters into an array of
num_segments rows initialised with the reduction's identity."""
from __future__ import annotations

import numpy as np

from numjax._src import core
from numjax._src import dtypes
from numjax._src.lax import lax
from numjax._src.lax import slicing
from numjax._src.numpy import reductions
from numjax._src.numpy import util


def _segment_reduce(name, scatter, identity, data, segment_ids, num_segments,
                    indices_are_sorted, unique_indices, bucket_size, mode):
  data, segment_ids = util.ensure_arraylike(name, data, segment_ids)
  if segment_ids.ndim != 1 or data.ndim < 1 or data.shape[0] != segment_ids.shape[0]:
    raise ValueError(f"{name}: segment_ids must be 1-D with one entry per row of data; got "
                     f"data.shape={data.shape}, segment_ids.shape={segment_ids.shape}")
  if not dtypes.issubdtype(segment_ids.dtype, np.integer):
    raise TypeError(f"{name}: segment_ids must be integers, got {segment_ids.dtype}")
  if num_segments is None:
    ids = core.concrete_or_error(np.asarray, segment_ids, f"The num_segments argument of "
                                 f"{name} must be given when segment_ids is not concrete.")
    num_segments = int(ids.max()) + 1 if ids.size else 0
  num_segments = core.concrete_dim_or_error(num_segments, f"num_segments argument of {name}")
  gmode = slicing.GatherScatterMode.from_any(mode) if mode is not None else \
      slicing.GatherScatterMode.FILL_OR_DROP
  init = lax.full((num_segments,) + data.shape[1:], identity(data.dtype), data.dtype)
  dnums = slicing.ScatterDimensionNumbers(
      update_window_dims=tuple(range(1, data.ndim)), inserted_window_dims=(0,),
      scatter_dims_to_operand_dims=(0,))
  idx = lax.reshape(segment_ids, (segment_ids.shape[0], 1))
  # bucket_size (a performance hint for accelerators) is accepted and ignored.
  return scatter(init, idx, data, dnums, indices_are_sorted=indices_are_sorted,
                 unique_indices=unique_indices, mode=gmode)


def _lowest(dt):
  return -np.inf if dtypes.issubdtype(dt, np.inexact) else (
      False if dt == np.bool_ else dtypes.iinfo(dt).min)


def _highest(dt):
  return np.inf if dtypes.issubdtype(dt, np.inexact) else (
      True if dt == np.bool_ else dtypes.iinfo(dt).max)


def segment_sum(data, segment_ids, num_segments=None, indices_are_sorted=False,
                unique_indices=False, bucket_size=None, mode=None):
  """Sum of the rows of data in each segment (ids out of [0, num_segments) are dropped)."""
  return _segment_reduce("segment_sum", slicing.scatter_add, lambda dt: 0, data, segment_ids,
                         num_segments, indices_are_sorted, unique_indices, bucket_size, mode)


def segment_prod(data, segment_ids, num_segments=None, indices_are_sorted=False,
                 unique_indices=False, bucket_size=None, mode=None):
  """Product of the rows of data in each segment (empty segments give 1)."""
  return _segment_reduce("segment_prod", slicing.scatter_mul, lambda dt: 1, data,
                         segment_ids, num_segments, indices_are_sorted, unique_indices,
                         bucket_size, mode)


def segment_max(data, segment_ids, num_segments=None, indices_are_sorted=False,
                unique_indices=False, bucket_size=None, mode=None):
  """Maximum of the rows of data in each segment (empty segments: the lowest value)."""
  return _segment_reduce("segment_max", slicing.scatter_max, _lowest, data, segment_ids,
                         num_segments, indices_are_sorted, unique_indices, bucket_size, mode)


def segment_min(data, segment_ids, num_segments=None, indices_are_sorted=False,
                unique_indices=False, bucket_size=None, mode=None):
  """Minimum of the rows of data in each segment (empty segments: the highest value)."""
  return _segment_reduce("segment_min", slicing.scatter_min, _highest, data, segment_ids,
                         num_segments, indices_are_sorted, unique_indices, bucket_size, mode)
