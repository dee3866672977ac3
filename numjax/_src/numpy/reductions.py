"""jnp reductions: sums and products, extrema, logical reductions, moments, cumulative
reductions, the nan-ignoring variants, order statistics (quantile/median) and averages.

Everything is written with lax primitives (reduce_sum & co., cumsum & co., sort), so it
traces, differentiates and batches. Dtype rules follow JAX 0.10.2: sums and products of
narrow integers accumulate in the default int, float16/bfloat16 sums accumulate in float32,
means of integers are floats, and 'out=' is refused.
"""
from __future__ import annotations

import builtins
import math
import operator

import numpy as np

from numjax._src import core
from numjax._src import dtypes
from numjax._src.array import Array
from numjax._src.config import config
from numjax._src.core import Tracer
from numjax._src.lax import lax
from numjax._src.lax import reductions as lax_red
from numjax._src.lax import slicing as lax_slicing
from numjax._src.lax import sorting as lax_sorting
from numjax._src.numpy import lax_numpy
from numjax._src.numpy import util

_all, _any, _max, _min, _sum = builtins.all, builtins.any, builtins.max, builtins.min, builtins.sum
_BOOL = np.dtype(bool)


# ---------------------------------------------------------------------------------------
# Shared helpers

def _check_out(name, out):
  if out is not None:
    raise NotImplementedError(f"The 'out' argument to jnp.{name} is not supported.")


def _static_axis(axis, name):
  """axis as None, an int or a tuple of ints (concrete values only)."""
  if axis is None:
    return None
  if isinstance(axis, (tuple, list)):
    return tuple(core.concrete_or_error(operator.index, a, f"axis argument to jnp.{name}().")
                 for a in axis)
  return core.concrete_or_error(operator.index, axis, f"axis argument to jnp.{name}().")


def _reduction_dims(a, axis):
  """(positive dims, dims) for a reduction over `axis` of `a`."""
  nd = np.ndim(a) if not hasattr(a, "ndim") else a.ndim
  if axis is None:
    return tuple(range(nd))
  if isinstance(axis, tuple):
    dims = tuple(util.canonicalize_axis(x, nd) for x in axis)
    if len(set(dims)) != len(dims):
      raise ValueError(f"duplicate value in 'axis': {axis}")
    return dims
  return (util.canonicalize_axis(axis, nd),)


def _upcast_f16(dt):
  """float16/bfloat16 accumulate in float32 (as JAX on CPU)."""
  dt = np.dtype(dt)
  if dt in (np.dtype(np.float16), np.dtype(dtypes.bfloat16)):
    return np.dtype(np.float32)
  return dt


def _promote_integer_dtype(dt):
  """Narrow integers (and bool) are promoted to the default int of their signedness."""
  dt = np.dtype(dt)
  if dt == np.bool_:
    return dtypes.default_int_dtype()
  if dtypes.issubdtype(dt, np.unsignedinteger):
    if dtypes.iinfo(dt).bits < dtypes.iinfo(dtypes.default_uint_dtype()).bits:
      return dtypes.default_uint_dtype()
  elif dtypes.issubdtype(dt, np.integer):
    if dtypes.iinfo(dt).bits < dtypes.iinfo(dtypes.default_int_dtype()).bits:
      return dtypes.default_int_dtype()
  return dt


def _init_value(dt, init):
  """The reduction's identity as a NumPy scalar of dtype `dt` (±inf saturate for ints)."""
  dt = np.dtype(dt)
  if dt == np.bool_:
    return np.array(init > 0, dtype=dt)
  if dtypes.issubdtype(dt, np.integer) and not np.isfinite(init):
    info = dtypes.iinfo(dt)
    return np.array(info.min if init < 0 else info.max, dtype=dt)
  return np.array(init, dtype=dt)


def _const(x, val):
  """A weakly typed rank-0 constant with x's dtype."""
  return lax._const(x, val)


def _isnan(x):
  return lax.ne(x, x)


def _user_dtype(dtype, name):
  if dtype is None:
    return None
  dtypes.check_user_dtype_supported(dtype, name)
  return dtypes.canonicalize_dtype(dtype)


_where = lax_numpy._where


def _check_where(name, where):
  """where-masks must be boolean arrays (as JAX: no implicit truthiness)."""
  if where is None:
    return None
  util.check_arraylike(name, where)
  where = util._asarray(where)
  if where.dtype != np.bool_:
    raise ValueError(f"jnp.{name}: where must be None or a boolean array; got "
                     f"where.dtype={where.dtype!r}.")
  return where


def _count(a, axis, keepdims, where, dtype):
  """How many elements each reduction sees (the mean/var normaliser), in `dtype`."""
  if where is None:
    return lax.convert_element_type(_axis_size(a, axis), dtype)
  return sum(util._broadcast_to(where, a.shape), axis, dtype=dtype, keepdims=keepdims)


def _to_array(name, a):
  util.check_arraylike(name, a)
  return util._asarray(a)


# Which lax reduction implements a binary op (and its boolean stand-in).
_REDUCERS = {
    "add": lax_red.reduce_sum, "mul": lax_red.reduce_prod, "max": lax_red.reduce_max,
    "min": lax_red.reduce_min, "and": lax_red.reduce_and, "or": lax_red.reduce_or,
}
_BINOPS = {"add": lax.add, "mul": lax.mul, "max": lax.max, "min": lax.min,
           "and": lax.bitwise_and, "or": lax.bitwise_or}


def _reduction_plan(a_dtype, dtype, preproc, upcast, promote_integers):
  """(dtype after preproc, result dtype, computation dtype) for a reduction: pure dtype
  arithmetic, cached (the eager path calls this on every reduction)."""
  key = (a_dtype, dtype, preproc, upcast, promote_integers, config.jax_enable_x64)
  plan = _plan_cache.get(key)
  if plan is None:
    pre = a_dtype
    if preproc is _cast_to_numeric and a_dtype == _BOOL:
      pre = dtypes.to_numeric_dtype(a_dtype)
    elif preproc is _cast_to_bool:
      pre = _BOOL
    result = dtype if dtype is not None else pre
    if dtype is None and promote_integers:
      result = _promote_integer_dtype(result)
    result = dtypes.canonicalize_dtype(result)
    comp = _upcast_f16(result) if upcast and dtypes.issubdtype(result, np.inexact) else result
    plan = _plan_cache[key] = (pre, result, comp)
  return plan


_plan_cache: dict = {}


# Static plans of the common calls (array operand, no out/where/initial, a canonical or no
# dtype): per (function, operand shape/dtype, static arguments), everything that does not
# depend on the values -- axes, dtypes, counts -- is worked out (and validated) once.
# Errors are never cached; cleared on any config change.
_plans: dict = {}
config.on_change(lambda name, value: _plans.clear())
_ArrayOrTracer = (Array, Tracer)


def _plan_dtype_ok(dtype):
  """dtype=None or already canonical (so _user_dtype would neither change nor warn)."""
  return dtype is None or (isinstance(dtype, np.dtype) and
                           dtypes.canonicalize_dtype(dtype) is dtype)


def _get_plan(key, build):
  try:
    plan = _plans.get(key)
  except TypeError:  # an unhashable (or traced) static argument: no plan
    return None
  if plan is None:
    plan = build()
    if len(_plans) >= 4096:
      _plans.clear()
    _plans[key] = plan
  return plan


def _reduction(a, name, op, init_val, *, has_identity=True, preproc=None, bool_op=None,
               upcast_f16_for_computation=False, axis=None, dtype=None, out=None,
               keepdims=False, initial=None, where_=None, promote_integers=False):
  """The one reduction driver: dtype rules, where-masks, `initial`, keepdims."""
  if (out is None and initial is None and where_ is None and isinstance(a, _ArrayOrTracer)
      and _plan_dtype_ok(dtype)):
    shape, a_dtype = a.shape, a.dtype

    def build():
      dims = tuple(range(len(shape))) if axis is None else \
          _reduction_dims(a, _static_axis(axis, name))
      if not has_identity:
        for d in dims:
          if shape[d] == 0:
            raise ValueError(f"zero-size array to reduction operation {name} which has no "
                             "identity")
      pre, result_dtype, comp = _reduction_plan(a_dtype, dtype, preproc,
                                                upcast_f16_for_computation, promote_integers)
      opname = op if comp != _BOOL else (bool_op or op)
      return dims, pre, comp, _REDUCERS[opname], result_dtype
    plan = _get_plan((name, shape, a_dtype, axis, dtype, keepdims, promote_integers), build)
    if plan is not None:
      dims, pre, comp, reducer, result_dtype = plan
      if pre != a_dtype:
        a = lax.convert_element_type(a, pre)
      result = reducer(lax.convert_element_type(a, comp), dims)
      if keepdims:
        result = lax.expand_dims(result, dims)
      return lax.convert_element_type(result, result_dtype)
  if out is not None:
    _check_out(name, out)
  if not isinstance(a, (Array, Tracer)):
    util.check_arraylike(name, a)
    a = util._asarray(a)
  if where_ is not None:
    where_ = _check_where(name, where_)
    if initial is None and not has_identity:
      raise ValueError(f"reduction operation {name} does not have an identity, so to use a "
                       "where mask one has to specify 'initial'")
  if dtype is not None:
    dtype = _user_dtype(dtype, name)
  if axis is None:
    dims = tuple(range(a.ndim))
  else:
    dims = _reduction_dims(a, _static_axis(axis, name))
  if initial is None and not has_identity:
    shape = a.shape
    for d in dims:
      if shape[d] == 0:
        raise ValueError(f"zero-size array to reduction operation {name} which has no "
                         "identity")
  pre, result_dtype, computation_dtype = _reduction_plan(
      a.dtype, dtype, preproc, upcast_f16_for_computation, promote_integers)
  if pre != a.dtype:
    a = lax.convert_element_type(a, pre)
  a = lax.convert_element_type(a, computation_dtype)
  opname = op if computation_dtype != _BOOL else (bool_op or op)
  if where_ is not None:
    a = _where(where_, a, _init_value(computation_dtype, init_val))
  result = _REDUCERS[opname](a, dims)
  if initial is not None:
    init_arr = lax.convert_element_type(initial, computation_dtype)
    if np.shape(init_arr) != ():
      raise ValueError(f"initial value must be a scalar. Got array of shape "
                       f"{np.shape(init_arr)}")
    result = _BINOPS[opname](init_arr, result)
  if keepdims:
    result = lax.expand_dims(result, dims)
  return lax.convert_element_type(result, result_dtype)


def _cast_to_numeric(a):
  return lax.convert_element_type(a, dtypes.to_numeric_dtype(a.dtype)) \
      if a.dtype == np.bool_ else a


def _cast_to_bool(a):
  return lax.convert_element_type(a, _BOOL) if a.dtype != np.bool_ else a


# ---------------------------------------------------------------------------------------
# Sums, products, extrema, logical reductions

def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None,
        promote_integers=True):
  """Implementation of numpy.sum.

  Narrow integers and bool are summed in the default int type (promote_integers=True, as
  JAX); float16/bfloat16 accumulate in float32.
  """
  return _reduction(a, "sum", "add", 0, preproc=_cast_to_numeric, bool_op="or",
                    upcast_f16_for_computation=True, axis=axis, dtype=dtype, out=out,
                    keepdims=keepdims, initial=initial, where_=where,
                    promote_integers=promote_integers)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None,
         promote_integers=True):
  """Implementation of numpy.prod (integer promotion as jnp.sum)."""
  return _reduction(a, "prod", "mul", 1, preproc=_cast_to_numeric, bool_op="and",
                    upcast_f16_for_computation=True, axis=axis, dtype=dtype, out=out,
                    keepdims=keepdims, initial=initial, where_=where,
                    promote_integers=promote_integers)


def max(a, axis=None, out=None, keepdims=False, initial=None, where=None):
  """Implementation of numpy.max (a `where` mask needs `initial`, as in NumPy)."""
  return _reduction(a, "max", "max", -np.inf, has_identity=False, axis=axis, out=out,
                    keepdims=keepdims, initial=initial, where_=where)


def min(a, axis=None, out=None, keepdims=False, initial=None, where=None):
  """Implementation of numpy.min (a `where` mask needs `initial`, as in NumPy)."""
  return _reduction(a, "min", "min", np.inf, has_identity=False, axis=axis, out=out,
                    keepdims=keepdims, initial=initial, where_=where)


amax = max
amin = min


def all(a, axis=None, out=None, keepdims=False, *, where=None):
  """Implementation of numpy.all."""
  return _reduction(a, "all", "and", True, preproc=_cast_to_bool, axis=axis, out=out,
                    keepdims=keepdims, where_=where)


def any(a, axis=None, out=None, keepdims=False, *, where=None):
  """Implementation of numpy.any."""
  return _reduction(a, "any", "or", False, preproc=_cast_to_bool, axis=axis, out=out,
                    keepdims=keepdims, where_=where)


def _axis_size(a, axis):
  dims = _reduction_dims(a, axis)
  return math.prod(a.shape[d] for d in dims)


def count_nonzero(a, axis=None, keepdims=False):
  """Implementation of numpy.count_nonzero (result in the default int type)."""
  a = _to_array("count_nonzero", a)
  nz = lax.ne(a, lax._const(a, 0))
  return sum(nz, axis=axis, dtype=dtypes.default_int_dtype(), keepdims=keepdims)


def ptp(a, axis=None, out=None, keepdims=False):
  """Implementation of numpy.ptp: max - min."""
  _check_out("ptp", out)
  a = _to_array("ptp", a)
  return lax.sub(max(a, axis=axis, keepdims=keepdims), min(a, axis=axis, keepdims=keepdims))


# ---------------------------------------------------------------------------------------
# Moments

def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None,
         upcast_f16_for_computation=True):
  """Implementation of numpy.mean (integers average to the default float)."""
  if out is None and where is None and isinstance(a, _ArrayOrTracer) and _plan_dtype_ok(dtype):
    def build():
      ax = _static_axis(axis, "mean")
      if dtype is None:
        result_dtype = dtypes.to_inexact_dtype(dtypes.canonicalize_dtype(a.dtype))
      else:
        result_dtype = dtype
      if upcast_f16_for_computation and dtypes.issubdtype(result_dtype, np.inexact):
        computation_dtype = _upcast_f16(result_dtype)
      else:
        computation_dtype = result_dtype
      return ax, result_dtype, computation_dtype, _axis_size(a, ax)
    plan = _get_plan(("mean", a.shape, a.dtype, axis, dtype, keepdims,
                      upcast_f16_for_computation), build)
    if plan is not None:
      ax, result_dtype, computation_dtype, count = plan
      total = sum(a, ax, dtype=computation_dtype, keepdims=keepdims)
      normalizer = lax.convert_element_type(count, computation_dtype)
      return lax.convert_element_type(lax.div(total, normalizer), result_dtype)
  _check_out("mean", out)
  a = _to_array("mean", a)
  axis = _static_axis(axis, "mean")
  where = _check_where("mean", where)
  if dtype is None:
    result_dtype = dtypes.to_inexact_dtype(dtypes.canonicalize_dtype(a.dtype))
  else:
    result_dtype = _user_dtype(dtype, "mean")
  if upcast_f16_for_computation and dtypes.issubdtype(result_dtype, np.inexact):
    computation_dtype = _upcast_f16(result_dtype)
  else:
    computation_dtype = result_dtype
  total = sum(a, axis, dtype=computation_dtype, keepdims=keepdims, where=where)
  normalizer = _count(a, axis, keepdims, where, computation_dtype)
  return lax.convert_element_type(lax.div(total, normalizer), result_dtype)


_mean = mean


def _complex_elem_type(dt):
  dt = np.dtype(dt)
  if dt == np.complex64:
    return np.dtype(np.float32)
  if dt == np.complex128:
    return np.dtype(np.float64)
  return dt


def _var_promote_types(a_dtype, dtype):
  if dtype is not None:
    if (not dtypes.issubdtype(dtype, np.complexfloating)
        and dtypes.issubdtype(a_dtype, np.complexfloating)):
      raise ValueError(
          "jax.numpy.var does not yet support real dtype parameters when computing the "
          "variance of an array of complex values. The semantics of numpy.var seem unclear "
          "in this case. Please comment on https://github.com/jax-ml/jax/issues/2283 if "
          "this behavior is important to you.")
    computation_dtype = dtype
  elif not dtypes.issubdtype(a_dtype, np.inexact):
    dtype = dtypes.canonicalize_dtype(dtypes.to_inexact_dtype(a_dtype))
    computation_dtype = dtype
  else:
    dtype = _complex_elem_type(a_dtype)
    computation_dtype = a_dtype
  return _upcast_f16(computation_dtype), np.dtype(dtype)


def _abs2(centered):
  if dtypes.issubdtype(centered.dtype, np.complexfloating):
    return lax.real(lax.mul(centered, lax.conj(centered)))
  return lax.square(centered)


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
        mean=None, correction=None):
  """Implementation of numpy.var (`correction` is the array-API name of `ddof`).

  A non-positive normaliser (e.g. ddof >= n) gives NaN, as JAX.
  """
  if (core._eager_only and out is None and where is None and mean is None and correction is None
      and type(ddof) is int and isinstance(a, _ArrayOrTracer) and _plan_dtype_ok(dtype)):
    def build():
      ax = _static_axis(axis, "var")
      comp, res_dtype = _var_promote_types(a.dtype, dtype)
      dims = _reduction_dims(a, ax)
      kept = tuple(d for d in range(a.ndim) if d not in dims)
      return ax, comp, res_dtype, kept, _axis_size(a, ax) - ddof
    plan = _get_plan(("var", a.shape, a.dtype, axis, dtype, ddof, keepdims), build)
    if plan is not None:  # the general path below, with its static parts precomputed
      ax, comp, res_dtype, kept, n = plan
      a = lax.convert_element_type(a, comp)
      m = _mean(a, ax, dtype=comp)
      centered = _abs2(lax.sub(a, lax.broadcast_in_dim(m, a.shape, kept)))
      result = sum(centered, ax, dtype=centered.dtype, keepdims=keepdims)
      if n > 0:
        return lax.convert_element_type(lax.div(result, float(n)), res_dtype)
      return lax.full_like(result, np.nan, res_dtype)
  if correction is None:
    correction = ddof
  elif not isinstance(ddof, int) or ddof != 0:
    raise ValueError("ddof and correction can't be provided simultaneously.")
  a = _to_array("var", a)
  axis = _static_axis(axis, "var")
  if not core._eager_only and where is None and mean is None and out is None and \
      isinstance(correction, (int, float, Tracer, Array)) and not isinstance(correction, bool):
    # traced: JAX's `jit[name=_var]` with the correction as an operand
    return _var_traced(a, correction, axis=axis, dtype=dtype, keepdims=keepdims)
  _check_out("var", out)
  where = _check_where("var", where)
  computation_dtype, dtype = _var_promote_types(a.dtype, _user_dtype(dtype, "var"))
  a = lax.convert_element_type(a, computation_dtype)
  dims = _reduction_dims(a, axis)
  if mean is not None:
    util.check_arraylike("var", mean)
    centered = _sub_bcast(a, lax.convert_element_type(util._asarray(mean), computation_dtype))
  else:
    m = _mean(a, axis, dtype=computation_dtype, where=where)
    kept = tuple(d for d in range(a.ndim) if d not in dims)
    centered = lax.sub(a, lax.broadcast_in_dim(m, a.shape, kept))
  centered = _abs2(centered)
  computation_dtype = centered.dtype  # complex input: |x - mean|^2 is real
  result = sum(centered, axis, dtype=computation_dtype, keepdims=keepdims, where=where)
  if where is None and isinstance(correction, (int, float)) and not isinstance(correction,
                                                                             bool):
    # static normaliser: no runtime division by an array or NaN select needed
    n = _axis_size(a, axis) - correction
    if n > 0:
      return lax.convert_element_type(lax.div(result, float(n)), dtype)
    return lax.full_like(result, np.nan, dtype)
  normalizer = _count(a, axis, keepdims, where, computation_dtype)
  normalizer = lax.sub(normalizer, lax.convert_element_type(correction, computation_dtype))
  result = lax.convert_element_type(lax.div(result, normalizer), dtype)
  return _where(lax.gt(normalizer, _const(normalizer, 0)), result, np.nan)


@util.jit_when_traced(static_argnames=("axis", "dtype", "keepdims"), name="_var")
def _var_traced(a, correction, *, axis, dtype, keepdims):
  computation_dtype, dtype = _var_promote_types(a.dtype, _user_dtype(dtype, "var"))
  a = lax.convert_element_type(a, computation_dtype)
  centered = _abs2(lax.sub(a, mean(a, axis, dtype=computation_dtype, keepdims=True)))
  computation_dtype = centered.dtype  # complex input: |x - mean|^2 is real
  normalizer = lax.sub(lax.convert_element_type(_axis_size(a, axis), computation_dtype),
                       lax.convert_element_type(correction, computation_dtype))
  result = sum(centered, axis, dtype=computation_dtype, keepdims=keepdims)
  result = lax.convert_element_type(lax.div(result, normalizer), dtype)
  return _where(lax.gt(normalizer, _const(normalizer, 0)), result, np.nan)


def _sub_bcast(a, m):
  a, m = util.promote_shapes("var", a, m)
  return lax.sub(a, m)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
        mean=None, correction=None):
  """Implementation of numpy.std: sqrt(var)."""
  _check_out("std", out)
  if not core._eager_only:  # traced: JAX's `jit[name=_std]` around the variance
    if correction is None:
      correction = ddof
    elif not isinstance(ddof, int) or ddof != 0:
      raise ValueError("ddof and correction can't be provided simultaneously.")
    return _std_traced(a, axis=_static_axis(axis, "std"), dtype=dtype, keepdims=keepdims,
                       where=where, mean=mean, correction=correction)
  return lax.sqrt(var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, where=where,
                      mean=mean, correction=correction))


@util.jit_when_traced(static_argnames=("axis", "dtype", "keepdims"), name="_std")
def _std_traced(a, *, axis, dtype, keepdims, where, mean, correction):
  return lax.sqrt(var(a, axis=axis, dtype=dtype, keepdims=keepdims, where=where,
                      mean=mean, correction=correction))


def average(a, axis=None, weights=None, returned=False, keepdims=False):
  """Implementation of numpy.average (weights may cover just the reduced axes)."""
  util.check_arraylike("average", a)
  axis = _static_axis(axis, "average")
  a = util._asarray(a)
  axis_tuple = util.canonicalize_axis_tuple(axis, a.ndim)
  if weights is None:
    a, = util.promote_dtypes_inexact(a)
    avg = mean(a, axis=axis, keepdims=keepdims)
    weights_sum = lax.full((), math.prod(a.shape[d] for d in axis_tuple), dtype=avg.dtype)
  else:
    util.check_arraylike("average", weights)
    a, weights = util.promote_dtypes_inexact(a, util._asarray(weights))
    if a.shape != weights.shape:
      if axis is None:
        raise ValueError("Axis must be specified when shapes of a and weights differ.")
      if weights.shape != tuple(a.shape[d] for d in axis_tuple):
        raise ValueError("Shape of weights must be consistent with shape of a along "
                         "specified axis.")
      # weights[k...] lines up with the reduced axes, in the order they were given
      order = tuple(int(i) for i in np.argsort(axis_tuple))
      weights = lax.transpose(weights, order)
      weights = lax.broadcast_in_dim(weights, a.shape, tuple(sorted(axis_tuple)))
    weights_sum = sum(weights, axis=axis, keepdims=keepdims)
    avg = lax.div(sum(lax.mul(a, weights), axis=axis, keepdims=keepdims), weights_sum)
  if returned:
    if avg.shape != weights_sum.shape:
      weights_sum = util._broadcast_to(weights_sum, avg.shape)
    return avg, weights_sum
  return avg


# ---------------------------------------------------------------------------------------
# argmax / argmin

def _arg_reduction(name, lax_fn, a, axis, out, keepdims):
  _check_out(name, out)
  a = _to_array(name, a)
  if axis is None:
    dims = tuple(range(a.ndim))
    if a.size == 0:
      raise ValueError(f"attempt to get {name} of an empty sequence")
    flat = lax.reshape(a, (a.size,))
    res = lax_fn(flat, 0, dtypes.canonicalize_dtype(dtypes.int_))
  else:
    axis = util.canonicalize_axis(_static_axis(axis, name), a.ndim)
    if a.shape[axis] == 0:
      raise ValueError(f"attempt to get {name} of an empty sequence")
    dims = (axis,)
    res = lax_fn(a, axis, dtypes.canonicalize_dtype(dtypes.int_))
  return lax.expand_dims(res, dims) if keepdims else res


def argmax(a, axis=None, out=None, keepdims=None):
  """Implementation of numpy.argmax (the first maximum; NaN counts as the maximum)."""
  return _arg_reduction("argmax", lax_red.argmax, a, axis, out, keepdims)


def argmin(a, axis=None, out=None, keepdims=None):
  """Implementation of numpy.argmin (the first minimum; NaN counts as the minimum)."""
  return _arg_reduction("argmin", lax_red.argmin, a, axis, out, keepdims)


def _nan_arg_reduction(name, arg_fn, nan_fill, a, axis, out, keepdims):
  """arg_fn with NaNs replaced by nan_fill (never chosen); an all-NaN slice gives -1."""
  _check_out(name, out)
  a = _to_array(name, a)
  if not dtypes.issubdtype(a.dtype, np.inexact):
    return arg_fn(a, axis=axis, keepdims=keepdims)
  nan_mask = _isnan(a)
  res = arg_fn(_where(nan_mask, nan_fill, a), axis=axis, keepdims=keepdims)
  return _where(all(nan_mask, axis=axis, keepdims=keepdims), -1, res)


def nanargmax(a, axis=None, out=None, keepdims=None):
  """Implementation of numpy.nanargmax; an all-NaN slice gives -1 (NumPy raises)."""
  return _nan_arg_reduction("nanargmax", argmax, -np.inf, a, axis, out, keepdims)


def nanargmin(a, axis=None, out=None, keepdims=None):
  """Implementation of numpy.nanargmin; an all-NaN slice gives -1 (NumPy raises)."""
  return _nan_arg_reduction("nanargmin", argmin, np.inf, a, axis, out, keepdims)


# ---------------------------------------------------------------------------------------
# nan-ignoring reductions

def _nan_reduction(a, name, jnp_reduction, init_val, nan_if_all_nan, axis=None,
                   keepdims=False, where=None, **kwargs):
  a = _to_array(name, a)
  where = _check_where(name, where)
  if not dtypes.issubdtype(a.dtype, np.inexact):
    return jnp_reduction(a, axis=axis, keepdims=keepdims, where=where, **kwargs)
  nan = _isnan(a)
  out = jnp_reduction(_where(nan, _init_value(a.dtype, init_val), a), axis=axis,
                      keepdims=keepdims, where=where, **kwargs)
  if nan_if_all_nan:
    return _where(all(nan, axis=axis, keepdims=keepdims), _const(a, np.nan), out)
  return out


def nanmin(a, axis=None, out=None, keepdims=False, initial=None, where=None):
  """Implementation of numpy.nanmin (an all-NaN slice gives NaN)."""
  _check_out("nanmin", out)
  return _nan_reduction(a, "nanmin", min, np.inf, True, axis=axis, keepdims=keepdims,
                        initial=initial, where=where)


def nanmax(a, axis=None, out=None, keepdims=False, initial=None, where=None):
  """Implementation of numpy.nanmax (an all-NaN slice gives NaN)."""
  _check_out("nanmax", out)
  return _nan_reduction(a, "nanmax", max, -np.inf, True, axis=axis, keepdims=keepdims,
                        initial=initial, where=where)


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
  """Implementation of numpy.nansum (NaNs count as zero)."""
  _check_out("nansum", out)
  return _nan_reduction(a, "nansum", sum, 0, False, axis=axis, keepdims=keepdims,
                        dtype=dtype, initial=initial, where=where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
  """Implementation of numpy.nanprod (NaNs count as one)."""
  _check_out("nanprod", out)
  return _nan_reduction(a, "nanprod", prod, 1, False, axis=axis, keepdims=keepdims,
                        dtype=dtype, initial=initial, where=where)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, where=None):
  """Implementation of numpy.nanmean."""
  _check_out("nanmean", out)
  a = _to_array("nanmean", a)
  where = _check_where("nanmean", where)
  if a.dtype == np.bool_ or dtypes.issubdtype(a.dtype, np.integer):
    return mean(a, axis, dtype, out, keepdims, where=where)
  if dtype is None:
    dtype = dtypes.to_inexact_dtype(dtypes.canonicalize_dtype(a.dtype))
  else:
    dtype = _user_dtype(dtype, "nanmean")
  not_nan = lax.bitwise_not(_isnan(a))
  normalizer = sum(not_nan, axis=axis, dtype=dtype, keepdims=keepdims, where=where)
  return lax.div(nansum(a, axis, dtype=dtype, keepdims=keepdims, where=where), normalizer)


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None,
           mean=None):
  """Implementation of numpy.nanvar."""
  _check_out("nanvar", out)
  a = _to_array("nanvar", a)
  axis = _static_axis(axis, "nanvar")
  where = _check_where("nanvar", where)
  computation_dtype, dtype = _var_promote_types(a.dtype, _user_dtype(dtype, "nanvar"))
  a = lax.convert_element_type(a, computation_dtype)
  if mean is not None:
    util.check_arraylike("nanvar", mean)
    a_mean = lax.convert_element_type(util._asarray(mean), computation_dtype)
  else:
    a_mean = nanmean(a, axis, dtype=computation_dtype, keepdims=True, where=where)
  nan = _isnan(a)
  centered = _abs2(_where(nan, 0, _sub_bcast(a, a_mean)))
  normalizer = sum(lax.bitwise_not(nan), axis=axis, keepdims=keepdims, where=where)
  normalizer = lax.sub(normalizer, lax.convert_element_type(ddof, normalizer.dtype))
  empty = lax.le(normalizer, _const(normalizer, 0))
  result = sum(centered, axis, keepdims=keepdims, where=where)
  result = _where(empty, np.nan, result)
  divisor = _where(empty, 1, normalizer)
  result = lax.div(result, lax.convert_element_type(divisor, result.dtype))
  return lax.convert_element_type(result, dtype)


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None,
           mean=None):
  """Implementation of numpy.nanstd: sqrt(nanvar)."""
  _check_out("nanstd", out)
  return lax.sqrt(nanvar(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims,
                         where=where, mean=mean))


# ---------------------------------------------------------------------------------------
# Cumulative reductions

_CUMULATIVE = {"add": "cumsum", "mul": "cumprod", "max": "cummax", "min": "cummin"}


def _cumulative_reduction(name, op, a, axis, dtype, out, *, fill_nan=False, fill_value=0,
                          promote_integers=False):
  _check_out(name, out)
  a = _to_array(name, a)
  dtype = _user_dtype(dtype, name)
  if axis is None or a.ndim == 0:
    a = lax.reshape(a, (a.size,))
  axis = 0 if axis is None else _static_axis(axis, name)
  axis = util.canonicalize_axis(axis, a.ndim)
  if fill_nan and dtypes.issubdtype(a.dtype, np.inexact):
    a = _where(_isnan(a), np.array(fill_value, a.dtype), a)  # (a strong constant, as JAX)
  result_type = dtype if dtype is not None else a.dtype
  if (dtype is None and promote_integers) or result_type == np.bool_:
    result_type = _promote_integer_dtype(result_type)
  result_type = dtypes.canonicalize_dtype(result_type)
  if a.dtype != np.bool_ and dtype == np.bool_:
    a = lax.convert_element_type(a, _BOOL)
  a = lax.convert_element_type(a, result_type)
  result = getattr(lax_red, _CUMULATIVE[op])(a, axis=axis)
  if dtype is not None and dtype == np.bool_:
    result = lax.convert_element_type(result, _BOOL)
  return result


@util.jit_when_traced(static_argnames=("axis", "dtype"))
def cumsum(a, axis=None, dtype=None, out=None):
  """Implementation of numpy.cumsum (axis=None flattens; bool accumulates in int)."""
  return _cumulative_reduction("cumsum", "add", a, axis, dtype, out)


@util.jit_when_traced(static_argnames=("axis", "dtype"))
def cumprod(a, axis=None, dtype=None, out=None):
  """Implementation of numpy.cumprod."""
  return _cumulative_reduction("cumprod", "mul", a, axis, dtype, out)


@util.jit_when_traced(static_argnames=("axis", "dtype"))
def nancumsum(a, axis=None, dtype=None, out=None):
  """Implementation of numpy.nancumsum (NaNs count as zero)."""
  return _cumulative_reduction("nancumsum", "add", a, axis, dtype, out, fill_nan=True,
                               fill_value=0)


@util.jit_when_traced(static_argnames=("axis", "dtype"))
def nancumprod(a, axis=None, dtype=None, out=None):
  """Implementation of numpy.nancumprod (NaNs count as one)."""
  return _cumulative_reduction("nancumprod", "mul", a, axis, dtype, out, fill_nan=True,
                               fill_value=1)


def _cumulative_array_api(name, op, x, axis, dtype, include_initial):
  x = _to_array(name, x)
  if x.ndim == 0:
    raise ValueError(f"The input must be non-scalar to take a cumulative "
                     f"{'sum' if op == 'add' else 'product'}, however a scalar value or "
                     "scalar array was given.")
  if axis is None:
    axis = 0
    if x.ndim > 1:
      raise ValueError(f"The input array has rank {x.ndim}, however axis was not set to an "
                       "explicit value. The axis argument is only optional for "
                       "one-dimensional arrays.")
  axis = util.canonicalize_axis(_static_axis(axis, name), x.ndim)
  dtypes.check_user_dtype_supported(dtype, name)
  # (as JAX 0.10.2: cumulative_sum promotes narrow integers, cumulative_prod does not)
  if op == "add":
    out = _cumsum_with_promotion(x, axis=axis, dtype=dtype)
  else:
    out = _cumulative_reduction(name, op, x, axis, dtype, None)
  if include_initial:
    shape = list(x.shape)
    shape[axis] = 1
    init = lax.full(tuple(shape), 0 if op == "add" else 1, dtype=out.dtype)
    out = lax_slicing.concatenate([init, out], axis)
  return out


@util.jit_when_traced(static_argnames=("axis", "dtype"))
def _cumsum_with_promotion(a, axis=None, dtype=None):
  return _cumulative_reduction("cumulative_sum", "add", a, axis, dtype, None,
                               promote_integers=True)


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
  """Implementation of numpy.cumulative_sum (array API; narrow ints are promoted)."""
  return _cumulative_array_api("cumulative_sum", "add", x, axis, dtype, include_initial)


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
  """Implementation of numpy.cumulative_prod (array API; narrow ints are promoted)."""
  return _cumulative_array_api("cumulative_prod", "mul", x, axis, dtype, include_initial)


# ---------------------------------------------------------------------------------------
# Order statistics

_QUANTILE_METHODS = ("linear", "lower", "higher", "midpoint", "nearest", "inverted_cdf")


def _sort(a, dimension):
  return lax_sorting.sort(a, dimension=dimension)


def _last(x, i):
  """x[..., i] for a static index i (a slice and a reshape)."""
  return lax.squeeze(lax_numpy._slice_axis(x, i, i + 1, x.ndim - 1), (x.ndim - 1,))


def _take_last(a, idx, q_scalar):
  """a[..., idx] for a static index vector, with the index axis moved to the front (or
  dropped, for a scalar q)."""
  if q_scalar:
    return _last(a, int(idx[0]))
  v = lax_numpy._take_static(a, np.asarray(idx), a.ndim - 1)
  return lax.transpose(v, (a.ndim - 1,) + tuple(range(a.ndim - 1)))


def _pick_along_last(a, idx):
  """a[..., idx[k, ...]]: per-row picks along the last axis of `a` (shape (*b, n)) for
  integer indices idx of shape (*q, *b), written as a one-hot select + sum so it is
  differentiable and batchable without gather."""
  n = a.shape[-1]
  q_nd = idx.ndim - (a.ndim - 1)
  b_nd = a.ndim - 1
  full_shape = idx.shape + (n,)
  a_b = lax.broadcast_in_dim(a, full_shape, tuple(range(q_nd, q_nd + b_nd + 1)))
  idx_b = lax.broadcast_in_dim(idx, full_shape, tuple(range(idx.ndim)))
  hit = lax.eq(lax.broadcasted_iota(idx.dtype, full_shape, len(full_shape) - 1), idx_b)
  picked = lax.select(hit, a_b, lax.full_like(a_b, 0))
  return lax_red.reduce_sum(picked, (len(full_shape) - 1,))


def _bcast_q(x, q_shape, kept_shape):
  """A per-q value (shape q_shape) broadcast over the kept (non-reduced) axes."""
  return lax.broadcast_in_dim(x, q_shape + kept_shape, tuple(range(len(q_shape))))


def _bcast_rows(x, q_shape, kept_shape):
  """A per-row value (shape kept_shape) broadcast over the q axis."""
  return lax.broadcast_in_dim(x, q_shape + kept_shape,
                              tuple(range(len(q_shape), len(q_shape) + len(kept_shape))))


def _quantile(a, q, axis, method, keepdims, squash_nans, name, weights=None):
  if method not in _QUANTILE_METHODS:
    raise ValueError("method can only be 'linear', 'lower', 'higher', 'midpoint', 'nearest' "
                     "or 'inverted_cdf'")
  axis = _static_axis(axis, name)
  if weights is not None:
    weights = util._asarray(weights)
    if dtypes.issubdtype(weights.dtype, np.complexfloating):
      raise ValueError("Weights cannot be complex types.")
    if method != "inverted_cdf":
      raise NotImplementedError(f"{method} doesn't support weights. Only method "
                                "'inverted_cdf' supports weights.")
    a, weights = util.promote_dtypes_inexact(a, weights)
    if weights.shape != a.shape:
      if axis is None:
        raise ValueError("Weights shape must match 'a' shape when axis is None.")
      ax = util.canonicalize_axis_tuple(axis, a.ndim)
      if weights.shape != tuple(a.shape[d] for d in ax):
        raise ValueError(f"Weights shape {weights.shape} must match reduction axes "
                         f"{tuple(a.shape[d] for d in ax)}")
      weights = lax.transpose(weights, tuple(int(i) for i in np.argsort(ax)))
      weights = lax.broadcast_in_dim(weights, a.shape, tuple(sorted(ax)))
  else:
    a, = util.promote_dtypes_inexact(a)
  if dtypes.issubdtype(a.dtype, np.complexfloating):
    raise ValueError("quantile does not support complex input, as the operation is poorly "
                     "defined.")
  q = util._asarray(q)
  if not dtypes.issubdtype(q.dtype, np.inexact):
    q, = util.promote_dtypes_inexact(q)
  if q.ndim > 1:
    raise ValueError(f"q must be have rank <= 1, got shape {q.shape}")
  nd = a.ndim
  # Move the reduced axes to the end and merge them: the quantile is over the last axis.
  if axis is None:
    dims = tuple(range(nd))
  elif isinstance(axis, tuple):
    dims = tuple(util.canonicalize_axis(d, nd) for d in axis)
    if len(set(dims)) != len(dims):
      raise ValueError("repeated axis")
  else:
    dims = (util.canonicalize_axis(axis, nd),)
  keep = [d for d in range(nd) if d not in dims]
  kept_shape = tuple(a.shape[d] for d in keep)
  n = math.prod(a.shape[d] for d in dims)
  perm = tuple(keep) + dims
  a = lax.reshape(lax.transpose(a, perm), kept_shape + (n,))
  if weights is not None:
    weights = lax.reshape(lax.transpose(weights, perm), kept_shape + (n,))
  q_shape, qdt = q.shape, q.dtype
  out_shape = q_shape + kept_shape
  if n == 0:
    result = lax.full(out_shape, np.nan, a.dtype)
  elif method == "inverted_cdf":
    result = _inverted_cdf(a, q, weights, squash_nans, kept_shape)
  elif squash_nans:
    result = _quantile_nan_squashed(a, q, method, kept_shape)
  elif not isinstance(q, Tracer):
    a = _sort(a, a.ndim - 1)
    result = _quantile_static_q(a, np.asarray(q._value), method, kept_shape)
  else:
    a = _sort(a, a.ndim - 1)
    result = _quantile_traced_q(a, q, method, kept_shape)
  if not squash_nans and n and method != "inverted_cdf":
    # a NaN anywhere in a row makes its quantiles NaN (NaNs sort to an end of the row:
    # the last, or the first for a negative NaN), so look at both ends in one strided slice
    ends = lax_numpy._slice_axis(a, 0, n, a.ndim - 1, stride=_max(n - 1, 1))
    nan_row = lax_red.reduce_or(_isnan(ends), (a.ndim - 1,))
    result = lax.select(_bcast_rows(nan_row, q_shape, kept_shape),
                        lax.full_like(result, np.nan), result)
  result = lax.convert_element_type(result, a.dtype)
  if keepdims:
    full = [1 if d in dims else s for d, s in enumerate(_orig_shape(kept_shape, keep, dims))]
    result = lax.reshape(result, q_shape + tuple(full))
  return result


def _combine(method, low_value, high_value, low_weight, high_weight, qdt):
  if method == "linear":
    return lax.add(lax.mul(lax.convert_element_type(low_value, qdt), low_weight),
                   lax.mul(lax.convert_element_type(high_value, qdt), high_weight))
  if method == "lower":
    return low_value
  if method == "higher":
    return high_value
  if method == "nearest":
    return lax.select(lax.le(high_weight, _const(high_weight, 0.5)), low_value, high_value)
  return lax.mul(lax.add(low_value, high_value), _const(low_value, 0.5))   # midpoint


def _quantile_static_q(a, q_np, method, kept_shape):
  """Concrete q: positions, indices and weights are static (slices, no gather); `a` is
  sorted along its last axis."""
  n = a.shape[-1]
  qdt = q_np.dtype
  pos = np.asarray(q_np * np.asarray(n - 1, qdt), qdt).reshape(-1)
  lo_f, hi_f = np.floor(pos), np.ceil(pos)
  high_w = np.asarray(pos - lo_f, qdt)
  low_w = np.asarray(np.asarray(1, qdt) - high_w, qdt)
  lo = np.clip(lo_f, 0, n - 1).astype(np.int64)
  hi = np.clip(hi_f, 0, n - 1).astype(np.int64)
  scalar = q_np.ndim == 0
  if method == "nearest":   # ties go to the lower index, as JAX
    return _take_last(a, np.where(high_w <= 0.5, lo, hi), scalar)
  if method == "lower":
    return _take_last(a, lo, scalar)
  if method == "higher":
    return _take_last(a, hi, scalar)
  low_v, high_v = _take_last(a, lo, scalar), _take_last(a, hi, scalar)
  if method == "midpoint":
    return _combine(method, low_v, high_v, None, None, qdt)
  lw, hw = (lax.asarray(w.reshape(()) if scalar else w) for w in (low_w, high_w))
  if not scalar:
    lw, hw = (_bcast_q(w, lw.shape, kept_shape) for w in (lw, hw))
  return _combine(method, low_v, high_v, lw, hw, qdt)


def _quantile_traced_q(a, q, method, kept_shape):
  """Traced q (`a` sorted along its last axis): one-hot picks at computed positions."""
  n = a.shape[-1]
  pos = _bcast_q(lax.mul(q, _const(q, n - 1)), q.shape, kept_shape)
  return _interpolate(a, pos, lax.full_like(pos, n - 1), method, q.dtype)


def _quantile_nan_squashed(a, q, method, kept_shape):
  """nanquantile: NaNs sort last and each row interpolates over its own count."""
  nan = _isnan(a)
  a = _sort(_where(nan, np.nan, a), a.ndim - 1)   # (positive) NaNs sort to the end
  counts = lax_red.reduce_sum(lax.convert_element_type(lax.bitwise_not(nan), np.int32),
                              (a.ndim - 1,))
  counts = _bcast_rows(lax.convert_element_type(counts, q.dtype), q.shape, kept_shape)
  hi_lim = lax.sub(counts, _const(counts, 1))
  pos = lax.mul(_bcast_q(q, q.shape, kept_shape), hi_lim)
  return _interpolate(a, pos, hi_lim, method, q.dtype)


def _interpolate(a, pos, hi_lim, method, qdt):
  low, high = lax.floor(pos), lax.ceil(pos)
  high_weight = lax.sub(pos, low)
  low_weight = lax.sub(_const(high_weight, 1), high_weight)
  low = lax.max(_const(low, 0), lax.min(low, hi_lim))
  high = lax.max(_const(high, 0), lax.min(high, hi_lim))
  idt = dtypes.canonicalize_dtype(dtypes.int_)
  low_value = _pick_along_last(a, lax.convert_element_type(low, idt))
  high_value = _pick_along_last(a, lax.convert_element_type(high, idt))
  return _combine(method, low_value, high_value, low_weight, high_weight, qdt)


def _inverted_cdf(a, q, weights, squash_nans, kept_shape):
  """The first sorted value whose cumulative weight reaches q * total weight."""
  if weights is None:
    weights = lax.full_like(a, 1)
  if squash_nans:
    a = _where(_isnan(a), np.nan, a)
  else:
    any_nan = lax_red.reduce_or(_isnan(a), (a.ndim - 1,))
    a = lax.select(lax.broadcast_in_dim(any_nan, a.shape, tuple(range(a.ndim - 1))),
                   lax.full_like(a, np.nan), a)
  a, weights = lax_sorting.sort_key_val(a, weights, dimension=a.ndim - 1)
  zeros = lax.full_like(weights, 0)
  bad = lax.bitwise_or(lax.lt(weights, zeros), _isnan(weights))
  nan_data = _isnan(a)
  clean = lax.select(lax.bitwise_or(bad, nan_data), zeros, weights)
  cum = lax_red.cumsum(clean, axis=a.ndim - 1)
  n = a.shape[-1]
  total = _last(cum, n - 1)
  q_shape = q.shape
  target = lax.mul(_bcast_q(lax.convert_element_type(q, total.dtype), q_shape, kept_shape),
                   _bcast_rows(total, q_shape, kept_shape))
  full = q_shape + kept_shape + (n,)
  below = lax.lt(lax.broadcast_in_dim(cum, full, tuple(range(len(q_shape), len(full)))),
                 lax.broadcast_in_dim(target, full, tuple(range(len(full) - 1))))
  idt = dtypes.canonicalize_dtype(dtypes.int_)
  idx = lax_red.reduce_sum(lax.convert_element_type(below, idt), (len(full) - 1,))
  if squash_nans:
    valid = lax_red.reduce_sum(lax.convert_element_type(lax.bitwise_not(nan_data), idt),
                               (a.ndim - 1,))
  else:
    valid = lax.full(kept_shape, n, idt)
  limit = _bcast_rows(lax.sub(valid, _const(valid, 1)), q_shape, kept_shape)
  idx = lax.max(_const(idx, 0), lax.min(idx, limit))
  result = _pick_along_last(a, idx)
  any_bad = lax_red.reduce_or(bad, (a.ndim - 1,))
  if squash_nans:
    force_nan = lax.bitwise_or(any_bad, lax.eq(valid, _const(valid, 0)))
  else:
    force_nan = lax.bitwise_or(any_bad, lax_red.reduce_or(nan_data, (a.ndim - 1,)))
  return lax.select(_bcast_rows(force_nan, q_shape, kept_shape),
                    lax.full_like(result, np.nan), result)


def _orig_shape(kept_shape, keep, dims):
  shape = [1] * (len(keep) + len(dims))
  for d, s in zip(keep, kept_shape):
    shape[d] = s
  return shape


def _check_quantile_args(name, a, q, out, overwrite_input, weights):
  util.check_arraylike(name, a, q)
  if weights is not None:
    util.check_arraylike(name, weights)
  if overwrite_input or out is not None:
    raise ValueError(f"jax.numpy.{name} does not support overwrite_input=True or "
                     "out != None")


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None):
  """Implementation of numpy.quantile (methods linear/lower/higher/midpoint/nearest).

  A NaN in a slice makes that slice's quantile NaN.
  """
  _check_quantile_args("quantile", a, q, out, overwrite_input, weights)
  return _quantile(util._asarray(a), q, axis, method, keepdims, False, "quantile", weights)


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, weights=None):
  """Implementation of numpy.nanquantile (NaNs are ignored)."""
  _check_quantile_args("nanquantile", a, q, out, overwrite_input, weights)
  return _quantile(util._asarray(a), q, axis, method, keepdims, True, "nanquantile",
                   weights)


def _percent_to_q(q):
  q, = util.promote_dtypes_inexact(util._asarray(q))
  return lax.div(q, _const(q, 100.0))


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None, out_sharding=None):
  """Implementation of numpy.percentile: quantile(a, q / 100)."""
  _check_quantile_args("percentile", a, q, out, overwrite_input, weights)
  return _quantile(util._asarray(a), _percent_to_q(q), axis, method, keepdims, False,
                   "percentile", weights)


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=False, *, weights=None):
  """Implementation of numpy.nanpercentile: nanquantile(a, q / 100)."""
  _check_quantile_args("nanpercentile", a, q, out, overwrite_input, weights)
  return _quantile(util._asarray(a), _percent_to_q(q), axis, method, keepdims, True,
                   "nanpercentile", weights)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
  """Implementation of numpy.median (a NaN in a slice gives NaN)."""
  util.check_arraylike("median", a)
  return quantile(a, 0.5, axis=axis, out=out, overwrite_input=overwrite_input,
                  keepdims=keepdims, method="midpoint")


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
  """Implementation of numpy.nanmedian (NaNs are ignored)."""
  util.check_arraylike("nanmedian", a)
  return nanquantile(a, 0.5, axis=axis, out=out, overwrite_input=overwrite_input,
                     keepdims=keepdims, method="midpoint")
