"""`jnp.ufunc`: NumPy's ufunc object (call, outer, reduce, accumulate, at, reduceat).

jnp.add, jnp.multiply, jnp.maximum, ... are ufunc instances whose reduce/accumulate/at use
the dedicated jnp functions (sum, cumsum, .at[].add); user ufuncs from `jnp.frompyfunc`
get generic versions built from the scalar function (vmapped calls, unrolled loops over a
static axis length).
"""
from __future__ import annotations

import math
import operator
from typing import Any, Callable

import numpy as np

from numjax._src import dtypes
from numjax._src.lax import lax
from numjax._src.numpy import util
from numjax._src.numpy.util import check_arraylike


def _dtype_of_result(func, nargs, dtype_like):
  from numjax._src.jit import eval_shape
  one = lax.convert_element_type(1, dtype_like)
  out = eval_shape(func, *([one] * nargs))
  return out.dtype


def _moveaxis0(x, axis):
  if axis == 0:
    return x
  perm = (axis,) + tuple(i for i in range(x.ndim) if i != axis)
  return lax.transpose(x, perm)


def _index0(x, i):
  from numjax._src.lax.slicing import index_in_dim
  return index_in_dim(x, i, 0, keepdims=False)


class ufunc:
  """Implementation of numpy.ufunc: a function with call/outer/reduce/accumulate/at."""

  def __init__(self, func: Callable, /, nin: int, nout: int, *, name: str | None = None,
               nargs: int | None = None, identity: Any = None, call: Callable | None = None,
               reduce: Callable | None = None, accumulate: Callable | None = None,
               at: Callable | None = None, reduceat: Callable | None = None):
    self.__doc__ = func.__doc__
    self.__name__ = name or func.__name__
    # Properties are read-only so that a ufunc works as a static (hashable) argument.
    self.__props = dict(func=func, nin=operator.index(nin), nout=operator.index(nout),
                        nargs=operator.index(nargs or nin), identity=identity, call=call,
                        reduce=reduce, accumulate=accumulate, at=at, reduceat=reduceat)
    self._call = call or self._call_vectorized

  _func = property(lambda self: self.__props["func"])
  nin = property(lambda self: self.__props["nin"])
  nout = property(lambda self: self.__props["nout"])
  nargs = property(lambda self: self.__props["nargs"])
  identity = property(lambda self: self.__props["identity"])

  def _key(self):
    return (self._func, self.__name__, self.identity, self.nin, self.nout, self.nargs)

  def __hash__(self):
    return hash(self._key())

  def __eq__(self, other):
    return isinstance(other, ufunc) and self._key() == other._key()

  def __repr__(self):
    return f"<jnp.ufunc '{self.__name__}'>"

  def __call__(self, *args, out=None, where=None):
    if out is not None:
      raise NotImplementedError(f"out argument of {self}")
    if where is not None:
      raise NotImplementedError(f"where argument of {self}")
    return self._call(*args)

  def _call_vectorized(self, *args):
    check_arraylike(self.__name__, *args)
    from numjax._src.vmap import vmap
    arrs = util._broadcast_arrays(*[util._asarray(a) for a in args])
    shape = arrs[0].shape if arrs else ()
    size = math.prod(shape)
    flat = [lax.reshape(a, (size,)) for a in arrs]
    outs = vmap(self._func)(*flat)
    if self.nout == 1:
      return lax.reshape(outs, shape + tuple(outs.shape[1:]))
    return tuple(lax.reshape(o, shape + tuple(o.shape[1:])) for o in outs)

  def _check_binary(self, what):
    if self.nin != 2:
      raise ValueError(f"{what} only supported for binary ufuncs")
    if self.nout != 1:
      raise ValueError(f"{what} only supported for functions returning a single value")

  # ---- outer ----------------------------------------------------------------------------
  def outer(self, A, B, /):
    """ufunc.outer: self(a, b) for every pair of elements; shape A.shape + B.shape."""
    self._check_binary("outer")
    check_arraylike(f"{self.__name__}.outer", A, B)
    A, B = util._asarray(A), util._asarray(B)
    A_r = lax.reshape(A, A.shape + (1,) * B.ndim)
    return self(A_r, B)

  # ---- reduce -----------------------------------------------------------------------------
  def reduce(self, a, axis=0, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """ufunc.reduce: fold the ufunc along `axis`."""
    check_arraylike(f"{self.__name__}.reduce", a)
    self._check_binary("reduce")
    if out is not None:
      raise NotImplementedError(f"out argument of {self.__name__}.reduce()")
    if initial is not None:
      check_arraylike(f"{self.__name__}.reduce", initial)
    if where is not None:
      check_arraylike(f"{self.__name__}.reduce", where)
      if self.identity is None and initial is None:
        raise ValueError(f"reduction operation {self.__name__!r} does not have an identity, "
                         "so to use a where mask one has to specify 'initial'.")
      if dtypes.dtype(where) != np.bool_:
        raise ValueError(f"where argument must have dtype=bool; got dtype={dtypes.dtype(where)}")
    red = self.__props["reduce"] or self._reduce_generic
    return red(a, axis=axis, dtype=dtype, keepdims=keepdims, initial=initial, where=where)

  def _reduce_generic(self, arr, axis=0, dtype=None, keepdims=False, initial=None,
                      where=None):
    arr = util._asarray(arr)
    if initial is None:
      initial = self.identity
    dtype = _dtype_of_result(self._func, 2, arr.dtype) if dtype is None else \
        dtypes.check_and_canonicalize_user_dtype(dtype)
    if where is not None:
      where = util._broadcast_to(where, arr.shape)
    if isinstance(axis, tuple):
      raise NotImplementedError("tuple of axes")
    if axis is None:
      final_shape = (1,) * arr.ndim if keepdims else ()
      arr = lax.reshape(arr, (arr.size,))
      where = None if where is None else lax.reshape(where, (where.size,))
      axis = 0
    else:
      axis = util.canonicalize_axis(axis, arr.ndim)
      final_shape = arr.shape[:axis] + ((1,) if keepdims else ()) + arr.shape[axis + 1:]
    arr = _moveaxis0(arr, axis)
    where = None if where is None else _moveaxis0(where, axis)
    n = arr.shape[0]
    if n == 0:
      if initial is None:
        raise ValueError(f"zero-size array to reduction operation {self.__name__} which "
                         "has no identity")
      return lax.full(final_shape, initial, dtype)
    if initial is None:
      start, acc = 1, lax.convert_element_type(_index0(arr, 0), dtype)
    else:
      start = 0
      acc = util._broadcast_to(lax.convert_element_type(util._asarray(initial), dtype),
                               arr.shape[1:])
    for i in range(start, n):
      nxt = self(acc, lax.convert_element_type(_index0(arr, i), dtype))
      acc = nxt if where is None else util._where(_index0(where, i), nxt, acc)
    return lax.reshape(acc, final_shape) if keepdims else acc

  # ---- accumulate ---------------------------------------------------------------------------
  def accumulate(self, a, axis: int = 0, dtype=None, out=None):
    """ufunc.accumulate: running application of the ufunc along `axis`."""
    self._check_binary("accumulate")
    if out is not None:
      raise NotImplementedError(f"out argument of {self.__name__}.accumulate()")
    acc = self.__props["accumulate"] or self._accumulate_generic
    return acc(a, axis=axis, dtype=dtype)

  def _accumulate_generic(self, arr, axis=0, dtype=None):
    check_arraylike(f"{self.__name__}.accumulate", arr)
    arr = util._asarray(arr)
    dtype = _dtype_of_result(self._func, 2, arr.dtype) if dtype is None else \
        dtypes.check_and_canonicalize_user_dtype(dtype)
    if axis is None or isinstance(axis, tuple):
      raise ValueError("accumulate does not allow multiple axes")
    axis = util.canonicalize_axis(axis, arr.ndim)
    if arr.size == 0:
      return lax.full(arr.shape, 0, dtype)
    x = _moveaxis0(arr, axis)
    rows = [lax.convert_element_type(_index0(x, 0), dtype)]
    for i in range(1, x.shape[0]):
      rows.append(self(rows[-1], lax.convert_element_type(_index0(x, i), dtype)))
    from numjax._src.lax.slicing import concatenate
    res = concatenate([lax.expand_dims(r, (0,)) for r in rows], 0)
    if axis == 0:
      return res
    perm = tuple(range(1, axis + 1)) + (0,) + tuple(range(axis + 1, res.ndim))
    return lax.transpose(res, perm)

  # ---- at -----------------------------------------------------------------------------------
  def at(self, a, indices, b=None, /, *, inplace: bool = True):
    """ufunc.at: a with the ufunc applied at `indices` (repeated indices accumulate)."""
    if inplace:
      raise NotImplementedError(
          "numjax.numpy.ufunc.at does not support inplace=True, because JAX arrays are "
          "immutable. Use inplace=False to return an updated array.")
    fn = self.__props["at"] or self._at_generic
    return fn(a, indices) if b is None else fn(a, indices, b)

  def _at_generic(self, a, indices, *args):
    check_arraylike(f"{self.__name__}.at", a, *args)
    a = util._asarray(a)
    dtype = _dtype_of_result(self._func, 1 + len(args), a.dtype)
    a = lax.convert_element_type(a, dtype)
    args = tuple(lax.convert_element_type(util._asarray(x), dtype) for x in args)
    idx = indices if isinstance(indices, tuple) else (indices,)
    arrays = [np.asarray(i) for i in idx if not isinstance(i, slice) and i is not None
              and i is not Ellipsis]
    shape = np.broadcast_shapes(*[x.shape for x in arrays]) if arrays else ()
    if not shape:
      return a.at[indices].set(self(a.at[indices].get(), *args))
    n = math.prod(shape)
    flat_idx = [i if isinstance(i, slice) or i is None or i is Ellipsis else
                np.broadcast_to(np.asarray(i), shape).reshape(n) for i in idx]
    if args:
      arg = util._broadcast_to(args[0], shape + args[0].shape[len(shape):])
      args = (lax.reshape(arg, (n,) + args[0].shape[len(shape):]),)
    for k in range(n):
      ix = tuple(i if isinstance(i, slice) or i is None or i is Ellipsis else int(i[k])
                 for i in flat_idx)
      a = a.at[ix].set(self(a.at[ix].get(), *(_index0(x, k) for x in args)))
    return a

  # ---- reduceat -----------------------------------------------------------------------------
  def reduceat(self, a, indices, axis: int = 0, dtype=None, out=None):
    """ufunc.reduceat: reductions over the slices a[indices[i]:indices[i+1]]."""
    self._check_binary("reduceat")
    if out is not None:
      raise NotImplementedError(f"out argument of {self.__name__}.reduceat()")
    fn = self.__props["reduceat"] or self._reduceat_generic
    return fn(a, indices, axis=axis, dtype=dtype)

  def _reduceat_generic(self, a, indices, axis=0, dtype=None):
    from numjax._src import core
    from numjax._src.lax.slicing import concatenate, slice_in_dim
    check_arraylike(f"{self.__name__}.reduceat", a, indices)
    a = util._asarray(a)
    if a.ndim == 0:
      raise ValueError(f"reduceat: a must have 1 or more dimension, got a.shape={a.shape}")
    idx = np.asarray(core.concrete_or_error(
        np.asarray, indices, "indices argument of ufunc.reduceat"))
    if idx.ndim != 1:
      raise ValueError(f"reduceat: indices must be one-dimensional, got indices.shape={idx.shape}")
    if axis is None or isinstance(axis, (tuple, list)):
      raise ValueError("reduceat requires a single integer axis.")
    axis = util.canonicalize_axis(axis, a.ndim)
    n = a.shape[axis]
    dtype = a.dtype if dtype is None else dtypes.check_and_canonicalize_user_dtype(dtype)
    pieces = []
    for k, start in enumerate(idx):
      start = int(start)
      stop = int(idx[k + 1]) if k + 1 < len(idx) else n
      if stop <= start:
        stop = start + 1
      seg = lax.convert_element_type(slice_in_dim(a, start, stop, axis=axis), dtype)
      pieces.append(self.reduce(seg, axis=axis, keepdims=True))
    return concatenate(pieces, axis)


def frompyfunc(func: Callable, /, nin: int, nout: int, *, identity: Any = None) -> ufunc:
  """Implementation of numpy.frompyfunc: a jnp.ufunc from a JAX-traceable scalar function."""
  return ufunc(func, nin, nout, identity=identity)
