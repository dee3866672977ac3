"""Array creation: jnp.array/asarray, zeros/ones/full/empty (and *_like), arange, linspace,
logspace, geomspace, eye, identity, tri/tril/triu, meshgrid, indices, from* constructors.

Python values (lists, NumPy arrays, scalars) are converted once on the host; anything that
computes on arrays — including lists that hold tracers — is written in lax.
"""
from __future__ import annotations

import builtins
import operator
import types
from typing import Any, Sequence

import numpy as np

from numjax._src import core
from numjax._src import dtypes
from numjax._src.array import Array, _make
from numjax._src.core import Tracer
from numjax._src.lax import lax
from numjax._src.numpy import util

_py_scalar_types = (builtins.bool, int, float, complex)


# ---------------------------------------------------------------------------------------
# Shapes and concrete values

def canonicalize_shape(shape, context: str = "") -> tuple:
  """A tuple of non-negative Python ints (TypeError, as JAX, for anything else)."""
  if isinstance(shape, types.GeneratorType):
    raise TypeError("expected sequence object with len >= 0 or a single integer")
  if not isinstance(shape, (tuple, list)) and np.ndim(shape) == 0:
    shape = (shape,)
  out = []
  for d in shape:
    if isinstance(d, Tracer):
      c = d.to_concrete_value()
      if c is None:
        raise TypeError(
            f"Shapes must be 1D sequences of concrete values of integer type, got "
            f"{tuple(shape)}.\nIf using `jit`, try using `static_argnums` or applying `jit` "
            "to smaller subfunctions." + (f"\n{context}" if context else "")
            + getattr(d, "_provenance", lambda: "")() + core._user_line_hint())
      d = c
    try:
      out.append(operator.index(d))
    except TypeError:
      raise TypeError("Shapes must be 1D sequences of concrete values of integer type, got "
                      f"{tuple(shape)}.") from None
  if any(d < 0 for d in out):
    raise TypeError(f"broadcast_in_dim shape must have every element be nonnegative, got "
                    f"{tuple(out)}.")
  return tuple(out)


def _concrete(x, context):
  """The concrete (host) value of x: a Python/NumPy scalar or array, never a tracer."""
  if isinstance(x, Tracer):
    c = x.to_concrete_value()
    if c is None:
      return core.concrete_or_error(None, x, context)  # raises ConcretizationTypeError
    x = c
  if isinstance(x, Array):
    v = x._value
    return v[()] if v.ndim == 0 else v
  return x


def _check_forgot_shape_tuple(name, shape, dtype):
  if isinstance(dtype, int) and isinstance(shape, int):
    raise TypeError(f"Cannot interpret '{dtype}' as a data type.\n\nDid you accidentally "
                    f"write `jax.numpy.{name}({shape}, {dtype})` when you meant "
                    f"`jax.numpy.{name}(({shape}, {dtype}))`, i.e. with a single tuple "
                    "argument for the shape?")


# ---------------------------------------------------------------------------------------
# array / asarray

def _flatten_nested(obj, out):
  if isinstance(obj, (list, tuple)):
    for o in obj:
      _flatten_nested(o, out)
  else:
    out.append(obj)
  return out


def _host_value(obj):
  """Nested lists with concrete Arrays replaced by their buffers (for np.array)."""
  if isinstance(obj, (list, tuple)):
    return [_host_value(o) for o in obj]
  if isinstance(obj, Array):
    return obj._value
  if hasattr(obj, "__jax_array__"):
    return _host_value(obj.__jax_array__())
  return obj


def _check_leaf(leaf):
  if leaf is None:
    raise ValueError("None is not a valid value for jnp.array")
  if isinstance(leaf, (Array, Tracer)) or type(leaf) in _py_scalar_types:
    return leaf
  if isinstance(leaf, (str, bytes)) or not isinstance(getattr(leaf, "dtype", None), np.dtype):
    leaf = np.asarray(leaf)  # also foreign arrays (their dtype is not a NumPy dtype)
  dt = leaf.dtype
  if isinstance(dt, np.dtype) and dt not in dtypes._jax_dtype_set:
    raise TypeError(f"Value '{leaf}' with dtype {dt} is not a valid JAX array type. Only "
                    "arrays of numeric types are supported by JAX.")
  return leaf


def _concatenate0(parts):
  """Concatenate along axis 0."""
  if len(parts) == 1:
    return parts[0]
  from numjax._src.lax.slicing import concatenate
  return concatenate(parts, 0)


def _stack_nested(obj, dtype):
  """A nested list/tuple holding tracers as one array (rows stacked along axis 0)."""
  if not isinstance(obj, (list, tuple)):
    return lax.convert_element_type(obj, dtype, False)
  if not obj:
    return _make(np.zeros((0,), dtype), False)
  parts = [_stack_nested(o, dtype) for o in obj]
  shapes = {p.shape for p in parts}
  if len(shapes) > 1:
    raise ValueError("setting an array element with a sequence. The requested array has an "
                     f"inhomogeneous shape: found parts of shapes {sorted(shapes)}.")
  return _concatenate0([lax.broadcast_in_dim(p, (1,) + p.shape, tuple(range(1, p.ndim + 1)))
                        for p in parts])


def _copy(x):
  if isinstance(x, Array):
    # A fresh buffer: a donated original may later be updated in place.
    return _make(np.array(x._value), x.weak_type)
  return x


def array(object: Any, dtype=None, copy: builtins.bool = True, order: str | None = "K",
          ndmin: int = 0, *, device=None, out_sharding=None) -> Array:
  """Implementation of numpy.array.

  Lists may hold Arrays and tracers (they are stacked with lax). Python scalars give weakly
  typed arrays; an explicit dtype is canonicalised (64-bit types need x64). Only order='K'.
  """
  if order is not None and order != "K":
    raise NotImplementedError("Only implemented for order='K'")
  if dtype is None and ndmin == 0:
    if isinstance(object, Tracer):
      return object
    if isinstance(object, Array):
      return _copy(object) if copy else object
  if dtype is not None:
    dtype = dtypes.check_and_canonicalize_user_dtype(dtype, "array")
  if not isinstance(object, (Array, Tracer, list, tuple) + _py_scalar_types):
    m = getattr(object, "__jax_array__", None)
    if m is not None:
      object = m()
  weak_type = dtype is None and dtypes.is_weakly_typed(object)
  if type(object) is int:
    dtypes.coerce_to_array(object, dtype)  # OverflowError for ints out of range

  leaves = [l.__jax_array__() if hasattr(l, "__jax_array__") and
            not isinstance(l, (Array, Tracer)) else l for l in _flatten_nested(object, [])]
  leaves = [_check_leaf(l) for l in leaves]
  if dtype is None:
    dtype = dtypes.result_type(*leaves) if leaves else dtypes.default_float_dtype()
  dtype = dtypes.canonicalize_dtype(dtype)

  if isinstance(object, (Array, Tracer)):
    out = lax.convert_element_type(object, dtype, weak_type)
    out = _copy(out) if copy and out is object else out
  elif not any(isinstance(l, Tracer) for l in leaves):
    host = _host_value(object) if isinstance(object, (list, tuple)) else object
    with np.errstate(invalid="ignore"):
      val = np.array(host, dtype=dtype)
    out = _make(val, weak_type)
    if weak_type and (type(object) is float or type(object) is builtins.complex):
      out._pyval = object  # a jaxpr literal prints the Python value, as JAX's
  else:
    out = _stack_nested(object, dtype)
  if ndmin > out.ndim:
    out = lax.expand_dims(out, tuple(range(ndmin - out.ndim)))
  return out


def asarray(a: Any, dtype=None, order: str | None = None, *, copy: builtins.bool | None = None,
            device=None, out_sharding=None) -> Array:
  """Implementation of numpy.asarray (no copy of an Array that already has the dtype)."""
  if dtype is None and isinstance(a, (Array, Tracer)) and not copy:
    return a
  if dtype is not None:
    dtype = dtypes.check_and_canonicalize_user_dtype(dtype, "asarray")
  return array(a, dtype=dtype, copy=builtins.bool(copy), order=order)


def astype(x, dtype, /, *, copy: builtins.bool = False, device=None) -> Array:
  """Implementation of numpy.astype (dtype=None gives the default float; complex -> bool
  compares with 0; complex -> real warns that it will become an error, as JAX)."""
  import warnings
  x = util.ensure_arraylike("astype", x)
  dtype = dtypes.default_float_dtype() if dtype is None else \
      dtypes.check_and_canonicalize_user_dtype(dtype, "astype")
  if dtypes.issubdtype(x.dtype, np.complexfloating):
    if dtypes.isdtype(dtype, ("integral", "real floating")):
      warnings.warn("Casting from complex to real dtypes will soon raise a ValueError. "
                    "Please first use jnp.real or jnp.imag to take the real/imaginary "
                    "component of your input.", DeprecationWarning,
                    stacklevel=dtypes._user_stacklevel())
    elif np.dtype(dtype) == np.bool_:
      x = lax.ne(x, lax.convert_element_type(0, x.dtype))
  out = lax.convert_element_type(x, dtype)
  return _copy(out) if copy and out is x else out


def copy(a, order: str | None = None) -> Array:
  """Implementation of numpy.copy."""
  util.check_arraylike("copy", a)
  return array(a, copy=True, order=order)


# ---------------------------------------------------------------------------------------
# Filled arrays

def zeros(shape, dtype=None, *, device=None, out_sharding=None) -> Array:
  """Implementation of numpy.zeros (default dtype: float32, float64 under x64)."""
  _check_forgot_shape_tuple("zeros", shape, dtype)
  dtype = dtypes.check_and_canonicalize_user_dtype(float if dtype is None else dtype, "zeros")
  return lax.full(canonicalize_shape(shape), 0, dtype)


def ones(shape, dtype=None, *, device=None, out_sharding=None) -> Array:
  """Implementation of numpy.ones (default dtype: float32, float64 under x64)."""
  _check_forgot_shape_tuple("ones", shape, dtype)
  dtype = dtypes.check_and_canonicalize_user_dtype(float if dtype is None else dtype, "ones")
  return lax.full(canonicalize_shape(shape), 1, dtype)


def empty(shape, dtype=None, *, device=None, out_sharding=None) -> Array:
  """Implementation of numpy.empty: JAX arrays are never uninitialised, so zeros."""
  _check_forgot_shape_tuple("empty", shape, dtype)
  dtype = dtypes.check_and_canonicalize_user_dtype(float if dtype is None else dtype, "empty")
  return lax.full(canonicalize_shape(shape), 0, dtype)


def full(shape, fill_value, dtype=None, *, device=None, out_sharding=None) -> Array:
  """Implementation of numpy.full (a non-scalar fill_value is broadcast to shape)."""
  if dtype is not None:
    dtype = dtypes.check_and_canonicalize_user_dtype(dtype, "full")
  util.check_arraylike("full", fill_value)
  if np.ndim(fill_value) == 0:
    return lax.full(canonicalize_shape(shape), fill_value, dtype)
  return util._broadcast_to(asarray(fill_value, dtype=dtype), canonicalize_shape(shape))


def _like_aval(name, a):
  """(shape, dtype, weak_type) of a value or duck-typed array (e.g. ShapeDtypeStruct)."""
  if isinstance(a, (Array, Tracer)):
    return a.shape, a.dtype, a.weak_type
  if hasattr(a, "dtype") and hasattr(a, "shape") and not isinstance(a, np.ndarray):
    return (tuple(a.shape), dtypes.canonicalize_dtype(a.dtype),
            builtins.bool(getattr(a, "weak_type", False)))
  m = getattr(a, "__jax_array__", None)
  if m is not None:
    a = m()
  util.check_arraylike(name, a)
  aval = core.get_aval(a)
  return aval.shape, aval.dtype, aval.weak_type


def full_like(a, fill_value, dtype=None, shape=None, *, device=None,
              out_sharding=None) -> Array:
  """Implementation of numpy.full_like (the result is weak iff `a` is and no dtype given)."""
  util.check_arraylike("full_like", fill_value)
  a_shape, a_dtype, a_weak = _like_aval("full_like", a)
  if dtype is not None:
    dtype = dtypes.check_and_canonicalize_user_dtype(dtype, "full_like")
  shape = a_shape if shape is None else canonicalize_shape(shape)
  if np.ndim(fill_value) == 0:
    weak = dtype is None and a_weak
    fill = util._convert(fill_value, dtype or a_dtype, weak)
    return lax.broadcast(fill, shape) if shape else fill
  return util._broadcast_to(asarray(fill_value, dtype=dtype or a_dtype), shape)


def zeros_like(a, dtype=None, shape=None, *, device=None, out_sharding=None) -> Array:
  """Implementation of numpy.zeros_like."""
  return _filled_like("zeros_like", a, 0, dtype, shape)


def ones_like(a, dtype=None, shape=None, *, device=None, out_sharding=None) -> Array:
  """Implementation of numpy.ones_like."""
  return _filled_like("ones_like", a, 1, dtype, shape)


def empty_like(prototype, dtype=None, shape=None, *, device=None,
               out_sharding=None) -> Array:
  """Implementation of numpy.empty_like (zeros: JAX arrays are always initialised)."""
  return _filled_like("empty_like", prototype, 0, dtype, shape)


def _filled_like(name, a, value, dtype, shape):
  a_shape, a_dtype, a_weak = _like_aval(name, a)
  if dtype is not None:
    dtype = dtypes.check_and_canonicalize_user_dtype(dtype, name)
  shape = a_shape if shape is None else canonicalize_shape(shape)
  fill = lax.convert_element_type(value, dtype or a_dtype, dtype is None and a_weak)
  return lax.broadcast(fill, shape) if shape else fill


# ---------------------------------------------------------------------------------------
# Ranges

def arange(start, stop=None, step=None, dtype=None, *, device=None, out_sharding=None) -> Array:
  """Implementation of numpy.arange.

  start/stop/step must be concrete scalars (they fix the shape). The dtype follows JAX's
  promotion of the arguments (Python ints: int32; floats: float32 without x64);
  float16/bfloat16 ranges are computed in float32.
  """
  if dtype is not None:
    dtype = dtypes.check_and_canonicalize_user_dtype(dtype, "arange")
  util.check_arraylike_or_none("arange", start, stop, step)
  start_name = "stop" if stop is None and step is None else "start"
  start = _concrete(start, f"It arose in the jnp.arange argument '{start_name}'")
  stop = _concrete(stop, "It arose in the jnp.arange argument 'stop'")
  step = _concrete(step, "It arose in the jnp.arange argument 'step'")
  for name, val in ((start_name, start), ("stop", stop), ("step", step)):
    if val is not None and np.ndim(val) != 0:
      raise ValueError(f"jax.numpy.arange: arguments must be scalars; got {name}={val}")
  if dtype is None:
    dtype = dtypes.result_type(start, *(x for x in (stop, step) if x is not None))
  dtype = dtypes.jax_dtype(dtype)
  if any(np.iscomplexobj(v) for v in (start, stop, step) if v is not None):
    raise ValueError("Passing complex start/stop/step to jnp.arange is no longer supported "
                     "starting in JAX v0.10.0.")
  if stop is None:
    start, stop = 0, start
  if step is not None:
    if step == 0:
      raise ZeroDivisionError("division by zero: jnp.arange step must be nonzero")
    work = dtype
    if dtypes.issubdtype(dtype, np.floating) and dtypes.finfo(dtype).bits < 32:
      work = np.dtype(np.float32)
    size = builtins.max(0, int(np.ceil((stop - start) / step)))
    out = lax.add(lax.convert_element_type(start, work),
                  lax.mul(lax.convert_element_type(step, work),
                          lax.broadcasted_iota(work, (size,), 0)))
    return lax.convert_element_type(out, dtype)
  if start == 0:
    return lax.broadcasted_iota(dtype, (builtins.max(0, int(np.ceil(stop))),), 0)
  size = builtins.max(0, int(np.ceil(stop - start)))
  return lax.add(lax.convert_element_type(start, dtype), lax.broadcasted_iota(dtype, (size,), 0))


def linspace(start, stop, num: int = 50, endpoint: builtins.bool = True,
             retstep: builtins.bool = False, dtype=None, axis: int = 0, *, device=None):
  """Implementation of numpy.linspace (integer dtypes take the floor, as JAX)."""
  num = core.concrete_or_error(operator.index, num, "'num' argument of jnp.linspace")
  axis = core.concrete_or_error(operator.index, axis, "'axis' argument of jnp.linspace")
  if num < 0:
    raise ValueError(f"Number of samples, {num}, must be non-negative.")
  util.check_arraylike("linspace", start, stop)
  return _linspace(start, stop, num, endpoint, retstep, dtype, axis)


@util.jit_when_traced(static_argnames=("num", "endpoint", "retstep", "dtype", "axis"))
def _linspace(start, stop, num, endpoint, retstep, dtype, axis):
  start, stop = util.ensure_arraylike("linspace", start, stop)
  if dtype is None:
    dtype = dtypes.to_inexact_dtype(dtypes.result_type(start, stop))
  else:
    dtype = dtypes.check_and_canonicalize_user_dtype(dtype, "linspace")
  cdt = dtypes.to_inexact_dtype(dtype)
  start = lax.convert_element_type(start, cdt)
  stop = lax.convert_element_type(stop, cdt)
  bshape = list(np.broadcast_shapes(start.shape, stop.shape))
  start_b = util._broadcast_to(start, tuple(bshape))
  stop_b = util._broadcast_to(stop, tuple(bshape))
  axis = len(bshape) + axis + 1 if axis < 0 else axis
  if not 0 <= axis <= len(bshape):
    raise ValueError(f"axis {axis} is out of bounds for array of dimension {len(bshape) + 1}")
  div = (num - 1) if endpoint else num
  out_shape = bshape[:axis] + [num] + bshape[axis:]
  dims = tuple(d for d in range(len(out_shape)) if d != axis)
  if num > 1:
    # as JAX: start * (1 - t) + stop * t on `div` samples t = i / div; with endpoint,
    # `stop` itself is concatenated as the last sample
    delta = lax.div(lax.sub(stop, start), lax.convert_element_type(div, cdt))
    real_dt = dtypes.finfo(cdt).dtype
    ishape = [1] * len(bshape)
    ishape.insert(axis, div)
    idx = lax.broadcasted_iota(real_dt, (div,), 0)
    if bshape:
      idx = lax.reshape(idx, tuple(ishape))
    step = lax.convert_element_type(lax.div(idx, lax.convert_element_type(div, real_dt)), cdt)
    sshape = tuple(bshape[:axis] + [1] + bshape[axis:])
    s = lax.reshape(start_b, sshape)
    out = lax.mul(s, lax.sub(lax.convert_element_type(1, cdt), step))
    out = lax.add(out, lax.mul(lax.reshape(stop_b, sshape), step))
    if endpoint:
      from numjax._src.lax import slicing as lax_slicing
      out = lax_slicing.concatenate([out, lax.expand_dims(stop_b, (axis,))], axis)
  elif num == 1:
    delta = lax.full((), np.nan if endpoint else 0, cdt)
    if not endpoint:
      delta = lax.sub(stop, start)
    out = lax.broadcast_in_dim(start_b, tuple(out_shape), dims)
  else:
    delta = lax.full((), np.nan, cdt)
    out = lax.full(tuple(out_shape), 0, cdt)
  if dtypes.issubdtype(dtype, np.integer) and not dtypes.issubdtype(out.dtype, np.integer):
    out = lax.floor(out)
  result = lax.convert_element_type(out, dtype)
  return (result, delta) if retstep else result


def _log_range_args(name, start, stop, num, axis, dtype):
  """logspace's and geomspace's arguments checked: start and stop as arrays, static num
  and axis, the result dtype (inexact unless given) and the inexact dtype computed in."""
  num = core.concrete_or_error(operator.index, num, f"'num' argument of jnp.{name}")
  axis = core.concrete_or_error(operator.index, axis, f"'axis' argument of jnp.{name}")
  if dtype is None:
    dtype = dtypes.to_inexact_dtype(dtypes.result_type(start, stop))
  else:
    dtype = dtypes.check_and_canonicalize_user_dtype(dtype, name)
  cdt = dtypes.to_inexact_dtype(dtype)
  start, stop = util.ensure_arraylike(name, start, stop)
  return start, stop, num, axis, dtype, cdt


def logspace(start, stop, num: int = 50, endpoint: builtins.bool = True, base=10.0,
             dtype=None, axis: int = 0) -> Array:
  """Implementation of numpy.logspace: base ** linspace(start, stop)."""
  from numjax._src.numpy.ufuncs import power
  start, stop, num, axis, dtype, cdt = _log_range_args("logspace", start, stop, num, axis,
                                                       dtype)
  lin = linspace(lax.convert_element_type(start, cdt), lax.convert_element_type(stop, cdt),
                 num, endpoint=endpoint, axis=axis)
  return lax.convert_element_type(power(base, lin), dtype)


def geomspace(start, stop, num: int = 50, endpoint: builtins.bool = True, dtype=None,
              axis: int = 0) -> Array:
  """Implementation of numpy.geomspace (negative ranges keep their sign)."""
  from numjax._src.numpy import ufuncs
  start, stop, num, axis, dtype, cdt = _log_range_args("geomspace", start, stop, num, axis,
                                                       dtype)
  start = lax.convert_element_type(start, cdt)
  stop = lax.convert_element_type(stop, cdt)
  sign = ufuncs.sign(start)
  res = ufuncs.multiply(sign, logspace(ufuncs.log10(ufuncs.true_divide(start, sign)),
                                       ufuncs.log10(ufuncs.true_divide(stop, sign)),
                                       num, endpoint=endpoint, base=10.0, dtype=cdt, axis=0))
  axis = util.canonicalize_axis(axis, res.ndim)
  if axis != 0:
    res = lax.transpose(res, (*range(1, axis + 1), 0, *range(axis + 1, res.ndim)))
  return lax.convert_element_type(res, dtype)


# ---------------------------------------------------------------------------------------
# Matrices

def _dim(d, what):
  return core.concrete_or_error(operator.index, d, f"argument {what}")


def eye(N, M=None, k=0, dtype=None, *, device=None) -> Array:
  """Implementation of numpy.eye (k may be a traced integer)."""
  dtype = dtypes.check_and_canonicalize_user_dtype(float if dtype is None else dtype, "eye")
  if type(k) is int and not np.iinfo(np.int32).min <= k <= np.iinfo(np.int32).max:
    k = int(np.clip(k, np.iinfo(np.int32).min, np.iinfo(np.int32).max))
  offset = util.ensure_arraylike("eye", k)
  if not (offset.shape == () and dtypes.issubdtype(offset.dtype, np.integer)):
    raise ValueError(f"k must be a scalar integer; got {k}")
  n = _dim(N, "'N' of jnp.eye()")
  m = n if M is None else _dim(M, "'M' of jnp.eye()")
  if n < 0 or m < 0:
    raise ValueError(f"negative dimensions are not allowed, got {N} and {M}")
  i = lax.broadcasted_iota(offset.dtype, (n, m), 0)
  j = lax.broadcasted_iota(offset.dtype, (n, m), 1)
  return lax.convert_element_type(lax.eq(lax.add(i, util._convert(offset, offset.dtype, False)),
                                         j), dtype)


def identity(n, dtype=None) -> Array:
  """Implementation of numpy.identity."""
  if dtype is not None:
    dtype = dtypes.check_and_canonicalize_user_dtype(dtype, "identity")
  return eye(n, dtype=dtype)


def _tri_mask(n, m, k):
  i = lax.add(lax.broadcasted_iota(np.int32, (n, m), 0), np.int32(k))
  return lax.ge(i, lax.broadcasted_iota(np.int32, (n, m), 1))


def tri(N, M=None, k: int = 0, dtype=None) -> Array:
  """Implementation of numpy.tri (default dtype float32, as JAX, even under x64)."""
  dtype = np.dtype(np.float32) if dtype is None else \
      dtypes.check_and_canonicalize_user_dtype(dtype, "tri")
  n = _dim(N, "'N' of jnp.tri()")
  m = n if M is None else _dim(M, "'M' of jnp.tri()")
  k = core.concrete_or_error(operator.index, k, "'k' argument of jnp.tri")
  return lax.convert_element_type(_tri_mask(n, m, k), dtype)


def _tril_triu(name, m, k, lower):
  m = util.ensure_arraylike(name, m)
  if m.ndim < 2:
    raise ValueError(f"Argument to jax.numpy.{name} must be at least 2D")
  k = core.concrete_or_error(operator.index, k, f"'k' argument of jnp.{name}")
  n_, m_ = m.shape[-2:]
  mask = _tri_mask(n_, m_, k if lower else k - 1)
  which = lax.broadcast(mask, m.shape[:-2])
  zero = lax.full_like(m, 0)
  return lax.select(which, m, zero) if lower else lax.select(which, zero, m)


@util.jit_when_traced(static_argnames=("k",))
def tril(m, k: int = 0) -> Array:
  """Implementation of numpy.tril (batched over leading dimensions)."""
  return _tril_triu("tril", m, k, True)


@util.jit_when_traced(static_argnames=("k",))
def triu(m, k: int = 0) -> Array:
  """Implementation of numpy.triu (batched over leading dimensions)."""
  return _tril_triu("triu", m, k, False)


# ---------------------------------------------------------------------------------------
# Grids

def meshgrid(*xi, copy: builtins.bool = True, sparse: builtins.bool = False,
             indexing: str = "xy") -> list:
  """Implementation of numpy.meshgrid (inputs must be 1-D; copy=False unsupported)."""
  args = list(util.ensure_arraylike_tuple("meshgrid", tuple(xi)))
  if not copy:
    raise ValueError("jax.numpy.meshgrid only supports copy=True")
  if indexing not in ("xy", "ij"):
    raise ValueError(f"Valid values for indexing are 'xy' and 'ij', got {indexing}")
  if any(a.ndim != 1 for a in args):
    raise ValueError("Arguments to jax.numpy.meshgrid must be 1D, got shapes "
                     f"{[a.shape for a in args]}")
  swap = indexing == "xy" and len(args) >= 2
  if swap:
    args[0], args[1] = args[1], args[0]
  shape = [1 if sparse else a.shape[0] for a in args]
  out = []
  for i, a in enumerate(args):
    s = shape[:i] + [a.shape[0]] + shape[i + 1:] if sparse else shape
    out.append(lax.broadcast_in_dim(a, tuple(s), (i,)))
  if swap:
    out[0], out[1] = out[1], out[0]
  return out


def indices(dimensions: Sequence[int], dtype=None, sparse: builtins.bool = False):
  """Implementation of numpy.indices (sparse=True gives a tuple of broadcastable grids)."""
  dtype = dtypes.check_and_canonicalize_user_dtype(int if dtype is None else dtype, "indices")
  dims = tuple(core.concrete_or_error(operator.index, d, "dimensions argument of jnp.indices")
               for d in dimensions)
  n = len(dims)
  out = []
  for i, d in enumerate(dims):
    idx = lax.iota(dtype, d)
    s = (1,) * i + (d,) + (1,) * (n - i - 1) if sparse else dims
    out.append(lax.broadcast_in_dim(idx, s, (i,)))
  if sparse:
    return tuple(out)
  if not out:
    return _make(np.zeros((0,), dtype), False)
  return _concatenate0([lax.expand_dims(o, (0,)) for o in out])


# ---------------------------------------------------------------------------------------
# Constructors from other objects

def fromfunction(function, shape, *, dtype=float, **kwargs):
  """Implementation of numpy.fromfunction: `function` is vmapped over index grids."""
  from numjax._src.vmap import vmap
  shape = canonicalize_shape(shape, "shape argument of jnp.fromfunction()")
  for i in range(len(shape)):
    in_axes = [0 if i == j else None for j in range(len(shape))]
    function = vmap(function, in_axes=tuple(in_axes[::-1]))
  return function(*(arange(s, dtype=dtype) for s in shape), **kwargs)


def frombuffer(buffer, dtype=float, count: int = -1, offset: int = 0) -> Array:
  """Implementation of numpy.frombuffer."""
  return asarray(np.frombuffer(buffer=buffer, dtype=dtype, count=count, offset=offset))


def fromstring(string: str, dtype=float, count: int = -1, *, sep: str) -> Array:
  """Implementation of numpy.fromstring (text mode: `sep` is required)."""
  return asarray(np.fromstring(string=string, dtype=dtype, count=count, sep=sep))


def fromiter(*args, **kwargs):
  """Not implemented: iterators may be impure, as JAX says."""
  raise NotImplementedError(
      "jnp.fromiter() is not implemented because it may be non-pure and thus unsafe for use "
      "with JIT and other JAX transformations. Consider using jnp.asarray(np.fromiter(...)) "
      "instead, and if needed pass the result to jnp.array.")


def fromfile(*args, **kwargs):
  """Not implemented: file reads are impure, as JAX says."""
  raise NotImplementedError(
      "jnp.fromfile() is not implemented because it may be non-pure and thus unsafe for use "
      "with JIT and other JAX transformations. Consider using jnp.asarray(np.fromfile(...)) "
      "instead, although care should be taken if np.fromfile is used within jax "
      "transformations because of its potential side-effect of consuming the file object; "
      "for more information see `Common Gotchas: Pure Functions "
      "<https://docs.jax.dev/en/latest/notebooks/Common_Gotchas_in_JAX.html#pure-functions>`_.")


def from_dlpack(x, /, *, device=None, copy=None) -> Array:
  """Implementation of numpy.from_dlpack (objects with __dlpack__, e.g. NumPy or torch)."""
  if isinstance(x, Array):
    return x
  return asarray(np.from_dlpack(x))


def load(file, *args, **kwargs):
  """Implementation of numpy.load (bfloat16 arrays saved by jnp.save come back as such)."""
  out = np.load(file, *args, **kwargs)
  if isinstance(out, np.ndarray):
    if out.dtype == "V2":  # NumPy stores bfloat16 as an opaque 2-byte type
      out = out.view(dtypes.bfloat16)
    try:
      out = asarray(out)
    except TypeError:  # a dtype JAX doesn't support: leave it to NumPy
      pass
  return out


save = np.save
savez = np.savez


def isscalar(element) -> builtins.bool:
  """Implementation of numpy.isscalar: also True for 0-d arrays (as JAX)."""
  if np.isscalar(element):
    return True
  if isinstance(element, (np.ndarray, Array, Tracer)):
    return element.ndim == 0
  if getattr(element, "__jax_array__", None) is not None:
    return asarray(element).ndim == 0
  return False


def iterable(y) -> builtins.bool:
  """Implementation of numpy.iterable."""
  return np.iterable(y)
