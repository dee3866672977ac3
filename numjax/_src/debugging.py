"""Host callbacks: debug.print, debug.callback, pure_callback, io_callback.

Each is a primitive whose NumPy implementation calls back into Python with numjax Arrays,
so it runs at execution time inside `jit` (in program order), once per element under
`vmap` (the batching rules wrap the callback in a loop), and on primal values under `grad`
(the jvp rules pass only primals). debug.print/debug.callback/io_callback have effects:
no pass removes, merges or folds them.
"""
from __future__ import annotations

import re
import string

import numpy as np

from numjax._src import core
from numjax._src import tree_util
from numjax._src.array import Array
from numjax._src.core import Primitive, ShapedArray
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters.ad import Zero

__all__ = ["debug_print", "debug_callback", "pure_callback", "io_callback",
           "debug_print_p", "debug_callback_p", "pure_callback_p", "io_callback_p"]


def _masked(obj) -> str:
  """repr with the object address masked, as JAX prints callbacks in jaxprs."""
  return re.sub(r" at 0x([0-9a-fA-F]+)", lambda m: " at 0x" + "X" * len(m.group(1)), repr(obj))


def _arrays(bufs, weak=None):
  new = object.__new__
  out = []
  for i, b in enumerate(bufs):
    a = new(Array)
    b = np.asarray(b)
    if b.flags.writeable:
      b = b.copy()
      b.flags.writeable = False
    a._buf = b
    a.weak_type = bool(weak[i]) if weak else False
    out.append(a)
  return out


class _Loop:
  """A batched operand layout: `dims` (one per operand, None = unbatched) and `size`."""
  __slots__ = ("dims", "size")

  def __init__(self, dims, size):
    self.dims, self.size = tuple(dims), size

  def __repr__(self):
    return f"_Loop({self.dims}, {self.size})"

  def __eq__(self, o):
    return isinstance(o, _Loop) and (o.dims, o.size) == (self.dims, self.size)

  def __hash__(self):
    return hash((self.dims, self.size))

  def slices(self, bufs):
    for i in range(self.size):
      yield [b if d is None else np.take(b, i, axis=d) for b, d in zip(bufs, self.dims)]


def _unrolled(bufs, loops, fn):
  """Call fn(element_bufs) once per element of every vmap level (outermost first)."""
  if not loops:
    fn(bufs)
    return
  for elem in loops[-1].slices(bufs):
    _unrolled(elem, loops[:-1], fn)


# ---------------------------------------------------------------------------------------
# debug.print

debug_print_p = Primitive("debug_print")
debug_print_p.multiple_results = True
debug_print_p.has_effects = True
debug_print_p.numpy_tier_only = True


def _format_print(bufs, *, fmt, in_tree, static_args, np_printoptions, weak=None):
  args, kwargs = tree_util.tree_unflatten(in_tree, _arrays(bufs, weak))
  with np.printoptions(**dict(np_printoptions)):
    print(fmt.format(*args, **kwargs))


def _debug_print_impl(*bufs, fmt, has_placeholders, in_tree, logging_record, np_printoptions,
                      ordered, partitioned, static_args, _loops=(), _weak=None):
  _unrolled(list(bufs), list(_loops), lambda b: _format_print(
      b, fmt=fmt, in_tree=in_tree, static_args=static_args, np_printoptions=np_printoptions,
      weak=_weak))
  return []


debug_print_p.def_impl(_debug_print_impl)
debug_print_p.def_abstract_eval(lambda *avals, **params: [])


def _eager_with_weak(p):
  def eager(*args, **params):
    weak = tuple(bool(getattr(a, "weak_type", False)) for a in args)
    bufs = [a._value if hasattr(a, "_value") else np.asarray(a) for a in args]
    out = p.impl(*bufs, **params, _weak=weak) if "_weak" not in params else p.impl(*bufs, **params)
    return [core._wrap_array(o, False) for o in out]
  return eager


debug_print_p.def_eager(_eager_with_weak(debug_print_p))


def _effect_jvp(p):
  def jvp(primals, tangents, **params):
    out = p.bind(*primals, **params)
    return out, [Zero(core.get_aval(o)) for o in out]
  return jvp


def _loop_batcher(p):
  """Batched operands: the callback runs once per element (JAX's 'sequential')."""
  def rule(vals, dims, **params):
    size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
    loops = tuple(params.pop("_loops", ())) + (_Loop(dims, size),)
    return p.bind(*vals, **params, _loops=loops), []
  return rule


ad.primitive_jvps[debug_print_p] = _effect_jvp(debug_print_p)
batching.primitive_batchers[debug_print_p] = _loop_batcher(debug_print_p)


def _check_fmt(fmt, args, kwargs):
  try:
    names = [f for _, f, _, _ in string.Formatter().parse(fmt) if f is not None]
  except ValueError as e:
    raise ValueError(f"debug.print: invalid format string {fmt!r}: {e}") from None
  return bool(names)


class _RawStr(str):
  """A string param printed as is (JAX prints `fmt=x={x}`)."""
  __slots__ = ()

  def _pp_param(self):
    return str(self)


def debug_print(fmt: str, *args, ordered: bool = False, partitioned: bool = False,
                **kwargs) -> None:
  """Print `fmt.format(*args, **kwargs)` with the *runtime* values of traced arrays
  (inside jit, vmap and grad alike)."""
  if not isinstance(fmt, str):
    raise TypeError(f"debug.print: fmt must be a string, got {type(fmt)}")
  has_placeholders = _check_fmt(fmt, args, kwargs)
  flat, in_tree = tree_util.tree_flatten((args, kwargs))
  from numjax._src.lax.lax import asarray
  flat = [asarray(x) for x in flat]
  debug_print_p.bind(*flat, fmt=_RawStr(fmt), has_placeholders=has_placeholders, in_tree=in_tree,
                     logging_record=None, np_printoptions=tuple(np.get_printoptions().items()),
                     ordered=bool(ordered), partitioned=bool(partitioned), static_args=())


# ---------------------------------------------------------------------------------------
# debug.callback

class _FlatCallback:
  """A user callback taking pytrees, called on flat buffers (printed like JAX's)."""
  __slots__ = ("callback_func", "in_tree")

  def __init__(self, callback_func, in_tree):
    self.callback_func, self.in_tree = callback_func, in_tree

  def __call__(self, arrays):
    args, kwargs = tree_util.tree_unflatten(self.in_tree, arrays)
    return self.callback_func(*args, **kwargs)

  def __repr__(self):
    return (f"_FlatCallback(callback_func={_masked(self.callback_func)}, "
            f"in_tree={self.in_tree})")

  def _pp_param(self):
    return repr(self)

  def __eq__(self, o):
    return (isinstance(o, _FlatCallback) and o.callback_func is self.callback_func
            and o.in_tree == self.in_tree)

  def __hash__(self):
    return hash((id(self.callback_func), self.in_tree))


class _Effect:
  def __init__(self, name):
    self.name = name

  def __repr__(self):
    return self.name

  _pp_param = __repr__


_DEBUG = _Effect("Debug")

debug_callback_p = Primitive("debug_callback")
debug_callback_p.multiple_results = True
debug_callback_p.has_effects = True
debug_callback_p.numpy_tier_only = True


def _debug_callback_impl(*bufs, callback, effect, partitioned, _loops=(), _weak=None):
  _unrolled(list(bufs), list(_loops), lambda b: callback(_arrays(b, _weak)))
  return []


debug_callback_p.def_impl(_debug_callback_impl)
debug_callback_p.def_abstract_eval(lambda *avals, **params: [])
debug_callback_p.def_eager(_eager_with_weak(debug_callback_p))
ad.primitive_jvps[debug_callback_p] = _effect_jvp(debug_callback_p)
batching.primitive_batchers[debug_callback_p] = _loop_batcher(debug_callback_p)


def debug_callback(callback, *args, ordered: bool = False, partitioned: bool = False,
                   **kwargs) -> None:
  """Call `callback(*args, **kwargs)` on the host with the runtime values (returns None);
  kept by every compiler pass, run once per element under vmap."""
  if not callable(callback):
    raise TypeError(f"debug.callback expects a callable, got {type(callback)}")
  flat, in_tree = tree_util.tree_flatten((args, kwargs))
  from numjax._src.lax.lax import asarray
  flat = [asarray(x) for x in flat]
  debug_callback_p.bind(*flat, callback=_FlatCallback(callback, in_tree), effect=_DEBUG,
                        partitioned=bool(partitioned))


# ---------------------------------------------------------------------------------------
# pure_callback and io_callback

def _result_avals(result_shape_dtypes):
  flat, tree = tree_util.tree_flatten(result_shape_dtypes)
  avals = []
  from numjax._src import dtypes as _dtypes
  for s in flat:
    if not (hasattr(s, "shape") and hasattr(s, "dtype")):
      raise ValueError("result_shape_dtypes must be a pytree of objects with .shape and "
                       f".dtype (e.g. numjax.ShapeDtypeStruct), got {s!r}")
    avals.append(ShapedArray(tuple(s.shape), _dtypes.canonicalize_dtype(s.dtype)))
  return tuple(avals), tree


def _run_callback(callback, bufs, result_avals, weak=None):
  out = callback(_arrays(bufs, weak))
  flat = tree_util.tree_leaves(out)
  if len(flat) != len(result_avals):
    raise RuntimeError(f"Callback {_masked(callback)} returned {len(flat)} values, but "
                       f"result_shape_dtypes describes {len(result_avals)}.")
  res = []
  for o, a in zip(flat, result_avals):
    o = np.asarray(o)
    if o.shape != a.shape:
      raise RuntimeError(f"Incorrect output shape for return value {o.shape}: expected "
                         f"{a.shape} (from result_shape_dtypes).")
    if o.dtype != a.dtype:
      o = o.astype(a.dtype)
    res.append(o)
  return res


def _vmapped_callback(callback, loop: _Loop, vmap_method, result_avals):
  """The callback seen by the batched primitive: one call per element ('sequential'), or
  one call on the batched operands ('expand_dims', 'broadcast_all', 'legacy_vectorized')."""
  size = loop.size

  def seq(arrays):
    bufs = [a._value for a in arrays]
    outs = [[] for _ in result_avals]
    for elem in loop.slices(bufs):
      for k, o in enumerate(_run_callback(callback, elem, result_avals)):
        outs[k].append(o)
    return [np.stack(o) if o else np.zeros((0,) + a.shape, a.dtype)
            for o, a in zip(outs, result_avals)]

  def vec(arrays):
    bufs = []
    for a, d in zip(arrays, loop.dims):
      b = a._value
      if d is None:
        if vmap_method == "expand_dims":
          b = b[None]
        elif vmap_method == "broadcast_all":
          b = np.broadcast_to(b[None], (size,) + b.shape)
      else:
        b = np.moveaxis(b, d, 0)
      bufs.append(b)
    batched = tuple(ShapedArray((size,) + a.shape, a.dtype) for a in result_avals)
    return _run_callback(callback, bufs, batched)

  f = seq if vmap_method in ("sequential", "sequential_unrolled") else vec
  f.__name__ = getattr(callback, "__name__", "callback")
  return f


pure_callback_p = Primitive("pure_callback")
pure_callback_p.multiple_results = True
pure_callback_p.numpy_tier_only = True

io_callback_p = Primitive("io_callback")
io_callback_p.multiple_results = True
io_callback_p.has_effects = True
io_callback_p.numpy_tier_only = True


def _callback_impl(*bufs, callback, result_avals, _weak=None, **params):
  return _run_callback(callback, bufs, result_avals, _weak)


for _p in (pure_callback_p, io_callback_p):
  _p.def_impl(_callback_impl)
  _p.def_abstract_eval(lambda *avals, result_avals, **params: list(result_avals))


def _pure_callback_eager(*args, **params):
  weak = tuple(bool(getattr(a, "weak_type", False)) for a in args)
  outs = _callback_impl(*[a._value for a in args], **params, _weak=weak)
  return [core._wrap_array(o, False) for o in outs]


pure_callback_p.def_eager(_pure_callback_eager)
io_callback_p.def_eager(_pure_callback_eager)


def _pure_callback_jvp(primals, tangents, **params):
  raise ValueError("Pure callbacks do not support JVP. Please use `jax.custom_jvp` to use "
                   "callbacks while taking gradients.")


def _io_callback_jvp(primals, tangents, **params):
  raise ValueError("IO callbacks do not support JVP.")


ad.primitive_jvps[pure_callback_p] = _pure_callback_jvp
ad.primitive_jvps[io_callback_p] = _io_callback_jvp


def _pure_callback_batch(vals, dims, *, callback, result_avals, vmap_method, sharding):
  if vmap_method not in ("sequential", "sequential_unrolled", "expand_dims", "broadcast_all",
                         "legacy_vectorized"):
    raise NotImplementedError(
        "vmap is only supported for the pure_callback primitive when vmap_method is one of "
        "'sequential', 'sequential_unrolled', 'expand_dims', 'broadcast_all', or "
        f"'legacy_vectorized'. Got vmap_method={vmap_method!r}.")
  size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
  loop = _Loop(dims, size)
  new_cb = _vmapped_callback(callback, loop, vmap_method, result_avals)
  out_avals = tuple(ShapedArray((size,) + a.shape, a.dtype) for a in result_avals)
  outs = pure_callback_p.bind(*vals, callback=new_cb, result_avals=out_avals,
                              vmap_method=vmap_method, sharding=sharding)
  return outs, [0] * len(outs)


def _io_callback_batch(vals, dims, *, callback, result_avals, ordered, sharding):
  size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
  new_cb = _vmapped_callback(callback, _Loop(dims, size), "sequential", result_avals)
  out_avals = tuple(ShapedArray((size,) + a.shape, a.dtype) for a in result_avals)
  outs = io_callback_p.bind(*vals, callback=new_cb, result_avals=out_avals, ordered=ordered,
                            sharding=sharding)
  return outs, [0] * len(outs)


batching.primitive_batchers[pure_callback_p] = _pure_callback_batch
batching.primitive_batchers[io_callback_p] = _io_callback_batch


def pure_callback(callback, result_shape_dtypes, *args, sharding=None, vmap_method=None,
                  **kwargs):
  """Call a pure host function `callback(*args, **kwargs)` from traced code. Its results
  must match `result_shape_dtypes`; under vmap it follows `vmap_method` ('sequential',
  'expand_dims', 'broadcast_all', 'legacy_vectorized')."""
  result_avals, out_tree = _result_avals(result_shape_dtypes)
  flat, in_tree = tree_util.tree_flatten((args, kwargs))
  from numjax._src.lax.lax import asarray
  flat = [asarray(x) for x in flat]
  outs = pure_callback_p.bind(*flat, callback=_FlatCallback(callback, in_tree),
                              result_avals=result_avals, vmap_method=vmap_method,
                              sharding=sharding)
  return tree_util.tree_unflatten(out_tree, outs)


def io_callback(callback, result_shape_dtypes, *args, sharding=None, ordered=False, **kwargs):
  """Call an impure host function from traced code (never removed or merged)."""
  result_avals, out_tree = _result_avals(result_shape_dtypes)
  flat, in_tree = tree_util.tree_flatten((args, kwargs))
  from numjax._src.lax.lax import asarray
  flat = [asarray(x) for x in flat]
  outs = io_callback_p.bind(*flat, callback=_FlatCallback(callback, in_tree),
                            result_avals=result_avals, ordered=bool(ordered), sharding=sharding)
  return tree_util.tree_unflatten(out_tree, outs)


def effects_barrier():
  """Wait until every pending callback has run (numjax runs them synchronously)."""
  return None


# Printing: hide numjax-private params, mask callback addresses.
for _p in (debug_print_p, debug_callback_p):
  _p.hidden_params = frozenset()
