"""Operators, methods and properties of `Array` and `Tracer` (installed once, on both).

Operators forward to the jnp functions, so `x + 1` promotes exactly as `jnp.add(x, 1)`.
Methods whose functions live in other jnp modules (reductions, shape ops, sorting,
indexing) are looked up lazily, so import order between those modules doesn't matter.
`__getitem__` and `.at` are installed by the indexing module.
"""
from __future__ import annotations

import importlib
import math
import operator
import warnings

import numpy as np

from numjax._src import core
from numjax._src import dtypes
from numjax._src.array import Array
from numjax._src.core import Tracer
from numjax._src.lax import lax
from numjax._src.numpy import ufuncs
from numjax._src.numpy import util

# ---------------------------------------------------------------------------------------
# Lazy lookup of jnp functions defined in sibling modules

_SIBLINGS = ("reductions", "lax_numpy", "tensor_contractions", "sorting", "indexing",
             "ufuncs", "creation")
_fn_cache: dict = {}


def _jnp(name):
  fn = _fn_cache.get(name)
  if fn is not None:
    return fn
  for mod_name in _SIBLINGS:
    full = f"numjax._src.numpy.{mod_name}"
    try:
      mod = importlib.import_module(full)
    except ModuleNotFoundError as e:
      if e.name != full:
        raise
      continue
    fn = getattr(mod, name, None)
    if callable(fn):
      _fn_cache[name] = fn
      return fn
  import numjax.numpy as public  # a function living in another module of the library
  fn = getattr(public, name, None)
  if callable(fn):
    _fn_cache[name] = fn
    return fn
  raise NotImplementedError(f"jnp.{name} is not implemented yet (needed by an Array method).")


# ---------------------------------------------------------------------------------------
# Operators

_accepted_binop_types = (int, float, complex, np.generic, np.ndarray, Array, Tracer)


def _coerce_other(other):
  m = getattr(other, "__jax_array__", None)
  if m is not None and not isinstance(other, (Array, Tracer)):
    return m()
  return other


def _binop(fn, reflected, symbol, reject_sequences=False):
  if reflected:
    def op(self, other):
      if type(other) is not Array and not isinstance(other, _accepted_binop_types):
        other = _coerce_other(other)
        if not isinstance(other, _accepted_binop_types):
          if reject_sequences and type(other) in (tuple, list):
            raise TypeError(f"unsupported operand type(s) for {symbol}: "
                            f"{type(other).__name__!r} and {type(self).__name__!r}")
          return NotImplemented
      return fn(other, self)
  else:
    def op(self, other):
      if type(other) is not Array and not isinstance(other, _accepted_binop_types):
        other = _coerce_other(other)
        if not isinstance(other, _accepted_binop_types):
          if reject_sequences and type(other) in (tuple, list, dict, set):
            raise TypeError(f"unsupported operand type(s) for {symbol}: "
                            f"{type(self).__name__!r} and {type(other).__name__!r}")
          return NotImplemented
      return fn(self, other)
  return op


def _matmul(a, b):
  return _jnp("matmul")(a, b)


def _operator_round(number, ndigits=None):
  out = ufuncs.round(number, decimals=ndigits or 0)
  # round(x) with no ndigits gives an integer, as for Python floats
  return _astype(out, int) if ndigits is None else out


def _contains(self, other):
  if other is None or isinstance(other, str):
    raise TypeError(f"Array.__contains__: unsupported operand type {type(other)}.")
  query = util.ensure_arraylike("Array.__contains__", other)
  if self.ndim != 1:
    raise ValueError("Array.__contains__: search array must be one-dimensional, got "
                     f"arr.shape={self.shape}.")
  if query.ndim != 0:
    raise ValueError(f"Array.__contains__: query value must be a scalar, got "
                     f"query.shape={query.shape}")
  from numjax._src.lax.reductions import reduce_or
  return reduce_or(ufuncs.equal(self, query), (0,))


def _tracer_iter(self):
  if self.ndim == 0:
    raise TypeError("iteration over a 0-d array")
  from numjax._src.lax.slicing import index_in_dim
  return iter([index_in_dim(self, i, 0, keepdims=False) for i in range(self.shape[0])])


def _tracer_reversed(self):
  return reversed(list(_tracer_iter(self)))


_operators = {
    "neg": ufuncs._negative,
    "pos": ufuncs.positive,
    "abs": ufuncs.abs,
    "invert": ufuncs.invert,
    "eq": _binop(ufuncs.equal, False, "==", True),
    "ne": _binop(ufuncs.not_equal, False, "!=", True),
    "lt": _binop(ufuncs.less, False, "<"),
    "le": _binop(ufuncs.less_equal, False, "<="),
    "gt": _binop(ufuncs.greater, False, ">"),
    "ge": _binop(ufuncs.greater_equal, False, ">="),
    "add": _binop(ufuncs.add_fn, False, "+", True),
    "radd": _binop(ufuncs.add_fn, True, "+", True),
    "sub": _binop(ufuncs.subtract_fn, False, "-"),
    "rsub": _binop(ufuncs.subtract_fn, True, "-"),
    "mul": _binop(ufuncs.multiply_fn, False, "*", True),
    "rmul": _binop(ufuncs.multiply_fn, True, "*", True),
    "truediv": _binop(ufuncs.true_divide, False, "/"),
    "rtruediv": _binop(ufuncs.true_divide, True, "/"),
    "floordiv": _binop(ufuncs.floor_divide, False, "//"),
    "rfloordiv": _binop(ufuncs.floor_divide, True, "//"),
    "divmod": _binop(ufuncs.divmod, False, "divmod"),
    "rdivmod": _binop(ufuncs.divmod, True, "divmod"),
    "mod": _binop(ufuncs.mod, False, "%"),
    "rmod": _binop(ufuncs.mod, True, "%"),
    "pow": _binop(ufuncs.power, False, "**"),
    "rpow": _binop(ufuncs.power, True, "**"),
    "matmul": _binop(_matmul, False, "@"),
    "rmatmul": _binop(_matmul, True, "@"),
    "and": _binop(ufuncs._bitwise_and, False, "&"),
    "rand": _binop(ufuncs._bitwise_and, True, "&"),
    "or": _binop(ufuncs._bitwise_or, False, "|"),
    "ror": _binop(ufuncs._bitwise_or, True, "|"),
    "xor": _binop(ufuncs._bitwise_xor, False, "^"),
    "rxor": _binop(ufuncs._bitwise_xor, True, "^"),
    "lshift": _binop(ufuncs.left_shift, False, "<<"),
    "rlshift": _binop(ufuncs.left_shift, True, "<<"),
    "rshift": _binop(ufuncs.right_shift, False, ">>"),
    "rrshift": _binop(ufuncs.right_shift, True, ">>"),
    "round": _operator_round,
    "contains": _contains,
}


# ---------------------------------------------------------------------------------------
# Methods

def _forward(name, doc=None):
  def method(self, *args, **kwargs):
    return _jnp(name)(self, *args, **kwargs)
  method.__name__ = method.__qualname__ = name
  method.__doc__ = doc or f"Equivalent to jnp.{name}(self, ...)."
  return method


def _astype(self, dtype, copy: bool = False, device=None):
  """Cast to dtype (None means the default float); complex -> bool compares with 0."""
  from numjax._src.numpy.creation import astype
  return astype(self, dtype, copy=copy, device=device)


def _compute_newshape(arr, newshape):
  orig = newshape
  try:
    iter(newshape)
  except TypeError:
    newshape = [newshape]
  from numjax._src.numpy.creation import canonicalize_shape
  dims = []
  for d in newshape:  # -1 is allowed here: canonicalize every other entry
    if isinstance(d, (int, np.integer)) and int(d) == -1:
      dims.append(-1)
    else:
      dims.extend(canonicalize_shape((d,)))
  neg = [i for i, d in enumerate(dims) if d == -1]
  if len(neg) > 1:
    raise TypeError(f"can only specify one unknown axis size with a `-1` value, got {orig}")
  size = math.prod(arr.shape)
  if neg:
    others = math.prod(d for d in dims if d != -1)
    if others == 0 or size % others:
      raise TypeError(f"cannot reshape array of shape {arr.shape} (size {size}) into shape "
                      f"{orig} because the product of specified axis sizes ({others}) does "
                      f"not evenly divide {size}")
    dims[neg[0]] = size // others
  elif size != math.prod(dims):
    raise TypeError(f"cannot reshape array of shape {arr.shape} (size {size}) into shape "
                    f"{orig} (size {math.prod(dims)})")
  return tuple(dims)


def _reshape(self, *args, order: str = "C", out_sharding=None):
  """Returns an array containing the same data with a new shape (C or F order)."""
  newshape = _compute_newshape(self, args[0] if len(args) == 1 else args)
  if order == "C":
    return lax.reshape(self, newshape, None)
  if order == "F":
    dims = tuple(range(self.ndim)[::-1])
    out = lax.reshape(self, newshape[::-1], dims)
    return lax.transpose(out, tuple(range(out.ndim)[::-1]))
  if order == "A":
    raise NotImplementedError("np.reshape order=A is not implemented.")
  raise ValueError(f"Unexpected value for 'order' argument: {order}.")


def _index_tuple(x):
  if isinstance(x, (tuple, list)):
    return tuple(operator.index(i) for i in x)
  return (operator.index(x),)


def _transpose(self, *args):
  """Transpose: x.transpose(), x.transpose(1, 0) and x.transpose((1, 0)) all work."""
  if not args:
    axes = None
  elif len(args) == 1:
    axes = None if args[0] is None else _index_tuple(args[0])
  else:
    axes = _index_tuple(args)
  return _permute(self, axes)


def _permute(x, axes):
  nd = x.ndim
  if axes is None:
    return lax.transpose(x, tuple(range(nd)[::-1]))
  perm = tuple(util.canonicalize_axis(a, nd) for a in axes)
  if sorted(perm) != list(range(nd)):  # eager lax skips shape rules: check here, as JAX
    raise TypeError(f"transpose permutation isn't a permutation of operand dimensions, got "
                    f"permutation {perm} for operand shape {x.shape}.")
  return lax.transpose(x, perm)


def _T(self):
  return lax.transpose(self, tuple(range(self.ndim)[::-1]))


def _mT(self):
  if self.ndim < 2:
    raise ValueError("x must be at least two-dimensional for matrix_transpose; got "
                     f"ndim={self.ndim}")
  perm = tuple(range(self.ndim - 2)) + (self.ndim - 1, self.ndim - 2)
  return lax.transpose(self, perm)


def _flatten(self, order: str = "C", *, out_sharding=None):
  """A 1-D copy of the array (C or F order)."""
  if order == "F":
    self = lax.transpose(self, tuple(range(self.ndim)[::-1]))
  elif order not in ("C", "A", "K"):
    raise ValueError(f"Unexpected value for 'order' argument: {order}.")
  if order in ("A", "K") and self.ndim > 1:
    raise NotImplementedError(f"Ravel not implemented for order={order!r}.")
  return lax.reshape(self, (math.prod(self.shape),))


def _view(self, dtype=None, type=None):
  """Reinterpret the bytes as another dtype (as numpy's view, through bitcasts)."""
  if type is not None:
    raise NotImplementedError("`type` argument of array.view() is not supported.")
  if dtype is None:
    return self
  dtype = dtypes.check_and_canonicalize_user_dtype(dtype, "view")
  nbits_in = dtypes.itemsize_bits(self.dtype)
  nbits_out = dtypes.itemsize_bits(dtype)
  if self.ndim == 0:
    if nbits_in != nbits_out:
      raise ValueError("view() of a 0d array is only supported if the itemsize is unchanged.")
    return lax.reshape(_view(lax.reshape(self, (1,)), dtype), ())
  if (self.shape[-1] * nbits_in) % nbits_out != 0:
    raise ValueError("When changing to a larger dtype, its size must be a divisor of the "
                     "total size in bytes of the last axis of the array.")
  if self.dtype == dtype:
    return self
  if self.dtype == np.bool_:
    return _view(lax.convert_element_type(self, np.uint8), dtype)
  if dtypes.issubdtype(self.dtype, np.complexfloating):
    re, im = lax.real(self), lax.imag(self)
    parts = lax.reshape(_interleave(re, im), self.shape[:-1] + (self.shape[-1] * 2,))
    return _view(parts, dtype)
  if dtype == np.bool_:
    return lax.convert_element_type(_view(self, np.uint8), np.bool_)
  if dtypes.issubdtype(dtype, np.complexfloating):
    flt = _view(self, dtypes.finfo(dtype).dtype)
    pairs = lax.reshape(flt, flt.shape[:-1] + (flt.shape[-1] // 2, 2))
    from numjax._src.lax.slicing import index_in_dim
    return lax.complex(index_in_dim(pairs, 0, -1, keepdims=False),
                       index_in_dim(pairs, 1, -1, keepdims=False))
  bitcast = lax.bitcast_convert_type
  if nbits_in < nbits_out:
    factor = nbits_out // nbits_in
    out = lax.reshape(self, self.shape[:-1] + (self.shape[-1] // factor, factor))
    return bitcast(out, dtype)
  if nbits_in > nbits_out:
    out = bitcast(self, dtype)
    return lax.reshape(out, out.shape[:-2] + (out.shape[-2] * out.shape[-1],))
  return bitcast(self, dtype)


def _interleave(re, im):
  from numjax._src.lax.slicing import concatenate
  return concatenate([lax.expand_dims(re, (re.ndim,)), lax.expand_dims(im, (im.ndim,))],
                     re.ndim)


def _notimplemented_flat(self):
  raise NotImplementedError("JAX Arrays do not implement the arr.flat property: consider "
                            "arr.flatten() instead.")


def _to_device(self, device, *, stream=None):
  if stream is not None:
    raise NotImplementedError("stream argument of array.to_device()")
  return self


def _array_namespace(self, *, api_version=None):
  import numjax.numpy
  return numjax.numpy


def _conj(self):
  """Complex conjugate (real arrays are returned as they are)."""
  return ufuncs.conjugate(self)


def _round(self, decimals: int = 0, out=None):
  """Round to the given number of decimals (half to even)."""
  return ufuncs.round(self, decimals=decimals, out=out)


def _real(self):
  return ufuncs.real(self)


def _imag(self):
  return ufuncs.imag(self)


def _copy_method(self):
  """A copy of the array (a fresh buffer)."""
  from numjax._src.numpy.creation import copy
  return copy(self)


_methods = {
    "__array_namespace__": _array_namespace,
    "all": _forward("all"),
    "any": _forward("any"),
    "argmax": _forward("argmax"),
    "argmin": _forward("argmin"),
    "argpartition": _forward("argpartition"),
    "argsort": _forward("argsort"),
    "astype": _astype,
    "choose": _forward("choose"),
    "clip": _forward("clip"),
    "compress": lambda self, condition, axis=None, **kw: _jnp("compress")(
        condition, self, axis=axis, **kw),
    "conj": _conj,
    "conjugate": _conj,
    "copy": _copy_method,
    "cumprod": _forward("cumprod"),
    "cumsum": _forward("cumsum"),
    "diagonal": _forward("diagonal"),
    "dot": _forward("dot"),
    "flatten": _flatten,
    "max": _forward("max"),
    "mean": _forward("mean"),
    "min": _forward("min"),
    "nonzero": _forward("nonzero"),
    "prod": _forward("prod"),
    "ptp": _forward("ptp"),
    "ravel": _flatten,
    "repeat": _forward("repeat"),
    "reshape": _reshape,
    "round": _round,
    "searchsorted": _forward("searchsorted"),
    "sort": _forward("sort"),
    "squeeze": _forward("squeeze"),
    "std": _forward("std"),
    "sum": _forward("sum"),
    "swapaxes": _forward("swapaxes"),
    "take": _forward("take"),
    "to_device": _to_device,
    "trace": _forward("trace"),
    "transpose": _transpose,
    "var": _forward("var"),
    "view": _view,
}

_properties = {
    "flat": _notimplemented_flat,
    "T": _T,
    "mT": _mT,
    "real": _real,
    "imag": _imag,
}

_tracer_only_properties = {
    "itemsize": lambda self: self.aval.dtype.itemsize,
    "nbytes": lambda self: self.aval.size * self.aval.dtype.itemsize,
}

_tracer_only_methods = {
    "__iter__": _tracer_iter,
    "__reversed__": _tracer_reversed,
}

_installed = False


def register_array_methods():
  """Install the operators, methods and properties on Array and Tracer (idempotent)."""
  global _installed
  if _installed:
    return
  for cls in (Array, Tracer):
    for name, fn in _operators.items():
      setattr(cls, f"__{name}__", fn)
    for name, fn in _methods.items():
      setattr(cls, name, fn)
    for name, fn in _properties.items():
      setattr(cls, name, property(fn))
  for name, fn in _tracer_only_properties.items():
    setattr(Tracer, name, property(fn))
  for name, fn in _tracer_only_methods.items():
    setattr(Tracer, name, fn)
  _installed = True


register_array_methods()
