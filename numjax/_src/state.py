"""Mutable array references (jax.new_ref, Ref, jax.ref.get/set/swap/addupdate, freeze,
empty_ref, free_ref) and jax.ds.

A Ref is a box holding an array value. Reads and writes are functional updates of the
held value (gathers and `.at[...]` scatters), so a Ref created and used inside one
function traces, differentiates and batches like the equivalent functional code.

numjax has no effect system: a Ref may be read anywhere, but written only under the
transformations active when it was created (writing an outer Ref from inside jit, grad
or vmap raises NotImplementedError rather than silently updating it once at trace time).
"""
from __future__ import annotations

import operator
from typing import Any, NamedTuple

import numpy as np

from numjax._src import core
from numjax._src import dtypes


class Slice(NamedTuple):
  """A slice of `size` elements from a (possibly traced) `start`, every `stride`."""
  start: Any
  size: int
  stride: int = 1


def ds(start, size=None, stride=None):
  """jax.ds: ds(None) is `:`, ds(j) is `:j`, ds(i, j) is `i:i+j`, ds(i, j, s) is
  `i:i+j:s`. A static start gives a plain `slice` (usable to index any array); a traced
  start gives a Slice (usable to index a Ref)."""
  if start is None:
    return slice(None)
  if size is None:
    start, size = 0, start
  stride = 1 if stride is None else operator.index(stride)
  size = core.concrete_dim_or_error(size, "The size argument of jax.ds must be static.")
  if not isinstance(start, core.Tracer):
    start = operator.index(start)
    return slice(start, start + size, stride)
  return Slice(start, size, stride)


class AbstractRef:
  """The type of a Ref: a reference to an array of the inner type."""

  def __init__(self, inner_aval):
    self.inner_aval = inner_aval

  shape = property(lambda self: self.inner_aval.shape)
  dtype = property(lambda self: self.inner_aval.dtype)
  ndim = property(lambda self: len(self.inner_aval.shape))

  def __eq__(self, other):
    return isinstance(other, AbstractRef) and other.inner_aval == self.inner_aval

  def __hash__(self):
    return hash(("AbstractRef", self.inner_aval))

  def __repr__(self):
    return f"Ref{{{self.inner_aval.str_short(False)}}}"


class Ref:
  """A mutable reference to an array: `ref[idx]` reads, `ref[idx] = v` writes."""

  def __init__(self, value):
    self._value = value
    self._stack = tuple(core.trace_stack)
    self._dynamic = core.dynamic_trace
    self._freed = False

  # -- metadata
  @property
  def aval(self):
    return AbstractRef(core.get_aval(self._value))

  shape = property(lambda self: core.get_aval(self._value).shape)
  dtype = property(lambda self: core.get_aval(self._value).dtype)
  ndim = property(lambda self: len(core.get_aval(self._value).shape))
  size = property(lambda self: int(np.prod(core.get_aval(self._value).shape)))

  def __len__(self):
    if not self.shape:
      raise TypeError("len() of unsized object")
    return self.shape[0]

  def __repr__(self):
    if isinstance(self._value, core.Tracer):
      return f"Ref({self._value!r})"
    return "Ref(" + np.array2string(np.asarray(self._value), separator=", ",
                                    prefix="Ref(") + f", dtype={self.dtype})"

  # -- access
  def __getitem__(self, idx):
    return get(self, idx)

  def __setitem__(self, idx, value):
    set(self, idx, value)


def _check_alive(ref):
  if ref._freed:
    raise RuntimeError("Ref used after free_ref().")


def _check_writable(ref, value):
  """Writes must happen under the transformations the Ref was created under."""
  outer = core.dynamic_trace is not ref._dynamic or len(core.trace_stack) != len(ref._stack) \
      or any(a is not b for a, b in zip(core.trace_stack, ref._stack))
  if outer:
    raise NotImplementedError(
        "numjax Refs can only be written under the transformations they were created under: "
        "this Ref was created outside the current jit/grad/vmap. Create the Ref inside the "
        "transformed function, or pass the value in and return the new one.")


def _read(ref, idx):
  from numjax._src.lax import slicing
  from numjax._src.numpy import util
  val = ref._value
  if idx is Ellipsis or idx == ():
    return val
  if isinstance(idx, Slice):
    idx = (idx,)
  if isinstance(idx, tuple) and any(isinstance(i, Slice) for i in idx):
    for axis, i in reversed(list(enumerate(idx))):
      if isinstance(i, Slice):
        if i.stride != 1:
          raise NotImplementedError("jax.ds with a traced start supports stride 1 only.")
        val = slicing.dynamic_slice_in_dim(val, util._asarray(i.start), i.size, axis)
    rest = tuple(slice(None) if isinstance(i, Slice) else i for i in idx)
    return val[rest] if any(r != slice(None) for r in rest) else val
  return val[idx]


def _write(ref, idx, value, how):
  from numjax._src.lax import lax
  from numjax._src.lax import slicing
  from numjax._src.numpy import util
  value = util._asarray(value)
  cur = ref._value
  if idx is Ellipsis or idx == ():
    shape, dt = core.get_aval(cur).shape, core.get_aval(cur).dtype
    value = lax.convert_element_type(value, dt)
    value = util._broadcast_to(value, shape)
    return value if how == "set" else lax.add(cur, value)
  if isinstance(idx, Slice):
    idx = (idx,)
  if isinstance(idx, tuple) and any(isinstance(i, Slice) for i in idx):
    if len(idx) != 1 or idx[0].stride != 1:
      raise NotImplementedError("Writing through jax.ds with a traced start supports one "
                                "leading Slice of stride 1.")
    s = idx[0]
    start = util._asarray(s.start)
    shape = (s.size,) + core.get_aval(cur).shape[1:]
    value = util._broadcast_to(lax.convert_element_type(value, cur.dtype), shape)
    if how == "add":
      value = lax.add(slicing.dynamic_slice_in_dim(cur, start, s.size, 0), value)
    return slicing.dynamic_update_slice_in_dim(cur, value, start, 0)
  at = cur.at[idx]
  return at.set(value) if how == "set" else at.add(value)


def get(ref, idx=()):
  """jax.ref.get: ref[idx] (the whole array for idx=() or ...)."""
  _check_alive(ref)
  return _read(ref, idx)


def set(ref, idx, value):  # noqa: A001 (JAX's name)
  """jax.ref.set: ref[idx] = value."""
  _check_alive(ref)
  _check_writable(ref, value)
  ref._value = _write(ref, idx, value, "set")


def swap(ref, idx, value):
  """jax.ref.swap: write value at idx and return what was there."""
  old = get(ref, idx)
  set(ref, idx, value)
  return old


def addupdate(ref, idx, value):
  """jax.ref.addupdate: ref[idx] += value."""
  _check_alive(ref)
  _check_writable(ref, value)
  ref._value = _write(ref, idx, value, "add")


def new_ref(init_val, *, memory_space=None, kind=None):
  """jax.new_ref: a mutable reference initialised with (a copy of) init_val."""
  from numjax._src.numpy import util
  return Ref(util._asarray(init_val))


def empty_ref(ty, memory_space=None):
  """jax.empty_ref: a Ref of the given type (ShapedArray / ShapeDtypeStruct), zero-filled."""
  from numjax._src.lax import lax
  return Ref(lax.full(tuple(ty.shape), 0, dtypes.canonicalize_dtype(ty.dtype)))


def freeze(ref):
  """jax.freeze: the Ref's current value as an (immutable) array."""
  _check_alive(ref)
  return ref._value


def free_ref(ref):
  """jax.free_ref: release the Ref (later uses raise)."""
  _check_alive(ref)
  ref._freed = True
