"""Argument handling shared by the jnp functions: array-likeness checks, dtype promotion on
JAX's lattice, NumPy broadcasting, axis canonicalisation.

Everything here is written with lax functions, so the helpers trace, differentiate and
batch like any other jnp code. Static shape arithmetic uses Python/NumPy on shapes only.
"""
from __future__ import annotations

import operator
import warnings
from typing import Any, Sequence

import numpy as np

from numjax._src import core
from numjax._src import dtypes
from numjax._src.array import Array
from numjax._src.array import _narrow  # 64->32-bit map while x64 is off
from numjax._src.config import config
from numjax._src.core import Tracer
from numjax._src.lax import lax

_py_scalar_types = (bool, int, float, complex)


# ---------------------------------------------------------------------------------------
# Array-likeness

_arraylike_types = (np.ndarray, Array, Tracer)


def _arraylike(x) -> bool:
  return (isinstance(x, _arraylike_types) or getattr(x, "__jax_array__", None) is not None
          or np.isscalar(x))


def check_arraylike(fun_name: str, *args: Any, emit_warning: bool = False, stacklevel: int = 3):
  """TypeError (as JAX) if an argument is not an array or scalar (e.g. a list or tuple)."""
  for pos, arg in enumerate(args):
    if type(arg) is not Array and not _arraylike(arg):
      msg = (f"{fun_name} requires ndarray or scalar arguments, got {type(arg)} at position "
             f"{pos}.")
      if emit_warning:
        warnings.warn(msg + " In a future JAX release this will be an error.",
                      category=DeprecationWarning, stacklevel=stacklevel)
        return
      raise TypeError(msg)


def check_arraylike_or_none(fun_name: str, *args: Any):
  for pos, arg in enumerate(args):
    if not (arg is None or _arraylike(arg)):
      raise TypeError(f"{fun_name} requires ndarray, scalar, or None arguments, got "
                      f"{type(arg)} at position {pos}.")


def _check_jax_array_protocol(x):
  m = getattr(x, "__jax_array__", None)
  return m() if m is not None and not isinstance(x, (Array, Tracer)) else x


def _asarray(x):
  """An Array/Tracer for an array-like (Python scalars stay weakly typed)."""
  if type(x) is Array or isinstance(x, (Array, Tracer)):
    return x
  return lax.asarray(_check_jax_array_protocol(x))


def ensure_arraylike(fun_name: str, /, *args: Any):
  """check_arraylike, then convert: one Array for one argument, else a tuple."""
  check_arraylike(fun_name, *args)
  if len(args) == 1:
    return _asarray(args[0])
  return tuple([_asarray(a) for a in args])


def ensure_arraylike_tuple(fun_name: str, tup: Sequence[Any]) -> tuple:
  check_arraylike(fun_name, *tup)
  return tuple(_asarray(a) for a in tup)


def check_no_float0s(fun_name: str, *args: Any):
  for a in args:
    if dtypes.dtype(a) == dtypes.float0:
      raise TypeError(
          f"Called {fun_name} with a float0 array. float0s do not support any operations by "
          "design because they are not compatible with non-trivial vector spaces. No "
          "implicit dtype conversion is done. You can use np.zeros_like(arr, dtype=np.float) "
          "to cast a float0 array to a regular zeros array. \nIf you didn't expect to get a "
          "float0 you might have accidentally taken a gradient with respect to an integer "
          "argument.")


_check_no_float0s = check_no_float0s


# ---------------------------------------------------------------------------------------
# Dtype promotion

def _convert(x, dtype, weak_type):
  """x converted to (dtype, weak_type); values already there pass through untouched."""
  if isinstance(x, (Array, Tracer)):
    if x.dtype == dtype and x.weak_type == weak_type:
      return x
    if type(x) is Array:  # a constant: convert it now (a literal in jaxprs, as JAX)
      return lax.convert_element_type_p.eager(x, new_dtype=dtypes.canonicalize_dtype(dtype),
                                              weak_type=bool(weak_type), sharding=None)
    return lax.convert_element_type(x, dtype, weak_type)
  if type(x) is int:
    # JAX first reads a Python int as the default int type (so 2**40 overflows with x64
    # off), then casts, wrapping, to the target (so int8(1) + 1000 wraps).
    dt = dtypes.default_int_dtype()
    info = np.iinfo(dt)
    if not info.min <= x <= info.max:
      raise OverflowError(f"Python int {x} too large to convert to {dt}")
    if np.issubdtype(dtype, np.integer) and dtype.itemsize < dt.itemsize:
      return lax.convert_element_type(lax.convert_element_type(x, dt, True), dtype, weak_type)
  return lax.convert_element_type(x, dtype, weak_type)


def promote_dtypes(*args):
  """Convert the arguments to their common dtype on JAX's promotion lattice."""
  if len(args) < 2:
    return [_asarray(a) for a in args]
  to_dtype, weak_type = dtypes.result_type(*args, return_weak_type_flag=True)
  return [_convert(x, to_dtype, weak_type) for x in args]


def promote_dtypes_inexact(*args):
  """Promote to the common dtype, then to an inexact (floating or complex) one."""
  to_dtype, weak_type = dtypes.result_type(*args, return_weak_type_flag=True)
  to_dtype = dtypes.to_inexact_dtype(to_dtype)
  return [_convert(x, to_dtype, weak_type) for x in args]


def promote_dtypes_numeric(*args):
  """Promote to the common dtype, then to a numeric (non-bool) one."""
  to_dtype, weak_type = dtypes.result_type(*args, return_weak_type_flag=True)
  to_dtype = dtypes.to_numeric_dtype(to_dtype)
  return [_convert(x, to_dtype, weak_type) for x in args]


def promote_dtypes_complex(*args):
  """Promote to the common dtype, then to a complex one."""
  to_dtype, weak_type = dtypes.result_type(*args, return_weak_type_flag=True)
  to_dtype = dtypes.to_complex_dtype(to_dtype)
  return [_convert(x, to_dtype, weak_type) for x in args]


# ---------------------------------------------------------------------------------------
# Shape promotion (NumPy broadcasting)

def _shape(x):
  s = getattr(x, "shape", None)
  return tuple(s) if s is not None else np.shape(x)


def _rank_promotion_warning_or_error(fun_name, shapes):
  mode = config.jax_numpy_rank_promotion
  if mode == "warn":
    warnings.warn(
        f"Following NumPy automatic rank promotion for {fun_name} on shapes "
        f"{' '.join(map(str, shapes))}. Set the jax_numpy_rank_promotion config option to "
        "'allow' to disable this warning; for more information, see "
        "https://docs.jax.dev/en/latest/rank_promotion_warning.html.",
        stacklevel=dtypes._user_stacklevel())
  elif mode == "raise":
    raise ValueError(
        f"Operands could not be broadcast together for {fun_name} on shapes "
        f"{' '.join(map(str, shapes))} and with the config option "
        "jax_numpy_rank_promotion='raise'. For more information, see "
        "https://docs.jax.dev/en/latest/rank_promotion_warning.html.")


def broadcast_shapes_or_error(fun_name, shapes):
  """The broadcast of `shapes`, raising JAX's error classes when they don't broadcast."""
  out = []
  rank = max(len(s) for s in shapes)
  for i in range(rank):
    sizes = {s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0}
    sizes.discard(1)
    if len(sizes) > 1:
      if all(len(s) == rank for s in shapes):
        raise TypeError(f"{fun_name} got incompatible shapes for broadcasting: "
                        f"{', '.join(map(str, shapes))}.")
      raise ValueError(f"Incompatible shapes for broadcasting: shapes={list(shapes)}")
    out.append(sizes.pop() if sizes else 1)
  return tuple(out)


_broadcast_cache: dict = {}  # operand shapes -> their broadcast shape


def promote_shapes(fun_name: str, *args):
  """NumPy broadcasting for elementwise lax ops, as JAX does it: ranks only.

  lax's binary ops broadcast rank-0 operands and equal-rank operands' size-1 dims
  themselves, so operands of one rank (or rank 0 beside one rank) are left alone; when
  ranks differ, every operand of lower rank (rank 0 too) gets leading size-1 dims
  (`broadcast_in_dim`, as JAX's jaxprs show: `f32[1,4] = broadcast_in_dim b`).
  """
  if len(args) < 2:
    return [_asarray(a) for a in args]
  shapes = [_shape(a) for a in args]
  r0 = len(shapes[0])
  for s in shapes:
    if len(s) != r0:
      break
  else:
    return [_asarray(a) for a in args]
  if len({len(s) for s in shapes if s}) < 2:
    return [_asarray(a) for a in args]
  if config.jax_numpy_rank_promotion != "allow":
    _rank_promotion_warning_or_error(fun_name, shapes)
  key = tuple(shapes)
  result = _broadcast_cache.get(key)
  if result is None:  # (errors are raised here every time: only results are cached)
    result = broadcast_shapes_or_error(fun_name, shapes)
    if len(_broadcast_cache) >= 4096:
      _broadcast_cache.clear()
    _broadcast_cache[key] = result
  nd = len(result)
  out = []
  for a, s in zip(args, shapes):
    a = _asarray(a)
    if len(s) != nd:
      a = lax.broadcast_in_dim(a, (1,) * (nd - len(s)) + s, tuple(range(nd - len(s), nd)))
    out.append(a)
  return out


def _promote_checks(fun_name, args):
  check_arraylike(fun_name, *args)
  args = tuple(_check_jax_array_protocol(a) for a in args)
  for a in args:
    if getattr(a, "dtype", None) == dtypes.float0:
      check_no_float0s(fun_name, a)
  return args


def _already_promoted(args, ok_kinds):
  """True when every argument is an Array/Tracer of one dtype (of a kind in `ok_kinds`)
  and one weak type, with equal (or rank-0) shapes: promotion would change nothing. The
  common case inside jnp functions and under grad, decided without the lattice.
  `_BROADCAST_ONLY` when only the shapes need promoting."""
  dt = weak = shape = None
  same_shapes = True
  for a in args:
    if type(a) is Array:
      v = a._value
      a_dt, a_weak, a_shape = v.dtype, a.weak_type, v.shape
    elif isinstance(a, Tracer):
      av = a.aval
      a_dt, a_weak, a_shape = av.dtype, av.weak_type, av.shape
    else:
      return False
    if dt is None:
      dt, weak = a_dt, a_weak
      if dt.kind not in ok_kinds or dt in _narrow:  # (a 64-bit value with x64 off)
        return False
    elif a_dt != dt or a_weak != weak:
      return False
    if a_shape:
      if shape is None:
        shape = a_shape
      elif a_shape != shape:
        same_shapes = False
  if dt is None:
    return False
  return True if same_shapes else _BROADCAST_ONLY


_BROADCAST_ONLY = 2  # (truthy: check `is True` for "nothing to do")


def _promote_args_with(fun_name, args, kinds, promote_dtypes_fn):
  """check_arraylike + promote_dtypes_fn + promote_shapes, skipping what `args` (of dtype
  kinds `kinds`) already satisfy."""
  done = _already_promoted(args, kinds)
  if done is True:
    return list(args)
  if done:  # one dtype already: only the shapes to broadcast
    return promote_shapes(fun_name, *args)
  args = _promote_checks(fun_name, args)
  return promote_shapes(fun_name, *promote_dtypes_fn(*args))


def promote_args(fun_name: str, *args):
  """check_arraylike + promote_dtypes + promote_shapes."""
  return _promote_args_with(fun_name, args, "biufc", promote_dtypes)


def promote_args_numeric(fun_name: str, *args):
  """As promote_args, with a boolean result promoted to a numeric dtype."""
  return _promote_args_with(fun_name, args, "iufc", promote_dtypes_numeric)


def promote_args_inexact(fun_name: str, *args):
  """As promote_args, with non-inexact results promoted to the default float/complex."""
  return _promote_args_with(fun_name, args, "fc", promote_dtypes_inexact)


def promote_args_complex(fun_name: str, *args):
  args = _promote_checks(fun_name, args)
  return promote_shapes(fun_name, *promote_dtypes_complex(*args))


def _broadcast_to(arr, shape):
  """arr broadcast to `shape` (NumPy rules; no views, a lax.broadcast_in_dim)."""
  arr = _asarray(arr)
  if not isinstance(shape, tuple) and np.ndim(shape) == 0:
    shape = (shape,)
  shape = tuple(core.concrete_dim_or_error(d, "broadcast_to shape") for d in shape)
  s = arr.shape
  if s == shape:
    return arr
  nd = len(shape)
  if len(s) > nd or any(a not in (1, b) for a, b in zip(s[::-1], shape[::-1])):
    raise ValueError(f"Cannot broadcast to shape with fewer dimensions: arr_shape={s} "
                     f"shape={shape}" if len(s) > nd else
                     f"Incompatible shapes for broadcasting: {s} and requested shape {shape}")
  return lax.broadcast_in_dim(arr, shape, tuple(range(nd - len(s), nd)))


def _broadcast_arrays(*args):
  """As np.broadcast_arrays, but each result is a fresh array (no views)."""
  args = [_asarray(a) for a in args]
  shapes = [a.shape for a in args]
  if not shapes or all(s == shapes[0] for s in shapes):
    return args
  result = broadcast_shapes_or_error("broadcast_arrays", shapes)
  return [_broadcast_to(a, result) for a in args]


# ---------------------------------------------------------------------------------------
# Axes

def canonicalize_axis(axis, num_dims: int) -> int:
  """An axis in [-num_dims, num_dims) mapped to [0, num_dims) (ValueError otherwise)."""
  axis = operator.index(axis)
  if not -num_dims <= axis < num_dims:
    raise ValueError(f"axis {axis} is out of bounds for array of dimension {num_dims}")
  return axis + num_dims if axis < 0 else axis


def canonicalize_axis_tuple(axis, num_dims: int, allow_duplicate: bool = False) -> tuple:
  if axis is None:
    return tuple(range(num_dims))
  if isinstance(axis, (tuple, list)):
    out = tuple(canonicalize_axis(a, num_dims) for a in axis)
  else:
    out = (canonicalize_axis(axis, num_dims),)
  if not allow_duplicate and len(set(out)) != len(out):
    raise ValueError(f"repeated axis: {axis}")
  return out


# ---------------------------------------------------------------------------------------
# ndim / shape / size (jnp.ndim & co.: array metadata, no computation)

def ndim(a) -> int:
  """Implementation of numpy.ndim (lists/tuples give a DeprecationWarning, as JAX)."""
  if hasattr(a, "ndim"):
    return a.ndim
  check_arraylike("ndim", a, emit_warning=True)
  return np.ndim(_check_jax_array_protocol(a))


def shape(a) -> tuple:
  """Implementation of numpy.shape."""
  if hasattr(a, "shape"):
    return tuple(a.shape)
  check_arraylike("shape", a, emit_warning=True)
  return np.shape(_check_jax_array_protocol(a))


def size(a, axis=None) -> int:
  """Implementation of numpy.size."""
  if hasattr(a, "shape") and hasattr(a, "size"):
    s = tuple(a.shape)
  else:
    check_arraylike("size", a, emit_warning=True)
    s = np.shape(_check_jax_array_protocol(a))
  if axis is None:
    return int(np.prod(s, dtype=np.int64))
  axes = canonicalize_axis_tuple(axis, len(s))
  return int(np.prod([s[i] for i in axes], dtype=np.int64))


def _where(condition, x, y):
  """jnp.where(condition, x, y) for internal use: promotes x/y, broadcasts all three."""
  condition, x, y = ensure_arraylike("where", condition, x, y)
  if condition.dtype != np.bool_:
    condition = lax.ne(condition, lax.convert_element_type(0, condition.dtype))
  x, y = promote_dtypes(x, y)
  if condition.ndim == 0:
    x, y = _broadcast_arrays(x, y)
  else:
    condition, x, y = _broadcast_arrays(condition, x, y)
  return lax.select(condition, x, y)


# ---------------------------------------------------------------------------------------
# Functions JAX decorates with `jax.jit`

def jit_when_traced(fun=None, *, static_argnames=None, static_argnums=None, name=None):
  """Decorator for the jnp/nn functions JAX wraps in `jax.jit`: under a transformation
  (make_jaxpr, jit, grad, vmap) a call stages a `jit[name=...]` equation whose body is the
  function, as JAX's jaxprs show; with nothing traced it calls the function directly, so
  eager code pays no jit dispatch."""
  if fun is None:
    return lambda f: jit_when_traced(f, static_argnames=static_argnames,
                                     static_argnums=static_argnums, name=name)
  import functools
  box = []

  @functools.wraps(fun)
  def wrapper(*args, **kwargs):
    if core._eager_only or (len(core.trace_stack) == 1 and core.dynamic_trace is None):
      return fun(*args, **kwargs)
    if not box:  # (numjax.jit imports jnp: bind it on first traced use)
      from numjax._src.jit import jit
      j = jit(fun, static_argnames=static_argnames, static_argnums=static_argnums)
      if name is not None:
        j._name = name
      box.append(j)
    return box[0](*args, **kwargs)

  wrapper._fun = fun
  return wrapper


_where = jit_when_traced(_where)  # (JAX's internal _where is jitted too)
