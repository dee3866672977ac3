"""Eager fast path for the samplers: one compiled plan per static signature.

Called eagerly, a sampler would bind a dozen primitives one by one, re-validating its
arguments and rebuilding its constants every time. JAX jits its samplers; numjax does the
same here: the first eager call with a given signature (key kind, the shapes/dtypes of its
array arguments, the values of its static arguments, the trace-relevant config) traces
the sampler -- the very same lax code -- into a jaxpr and compiles it (NumPy tier, native
tier per `numjax_tier`); later calls run that executable directly on the key's buffer.

Anything unusual -- an active transformation, an argument that is neither an Array nor a
small hashable constant, a trace that fails (bad arguments: the plain path then raises
the error as usual) -- takes the plain path, so results and errors are those of the
op-by-op code.
"""
from __future__ import annotations

import functools
import itertools

import numpy as np

from numjax._src import core
from numjax._src import tree_util
from numjax._src.array import Array
from numjax._src.config import config
from numjax._src.interpreters import partial_eval as pe

_MAX_PLANS = 4096
_plans: dict = {}
_NO_PLAN = object()    # signatures whose trace failed: always the plain path
_state = {}


def _refresh(name=None, value=None):
  _plans.clear()
  _state["ctx"] = config.trace_context()
  # op-by-op semantics are wanted (or NaN checks name the failing primitive): no plans
  _state["off"] = bool(config.jax_disable_jit or config.jax_debug_nans or
                       config.jax_debug_infs)


_refresh()
config.on_change(_refresh)
_state["building"] = False


def building() -> bool:
  """True while a plan is being traced (no user sees that jaxpr: samplers may stage their
  shortest equivalent form)."""
  return _state["building"]


class _Unplannable(Exception):
  pass


_SIMPLE = (int, bool, str, type(None))


def _static_key(v):
  """A hashable key for a static argument that tells apart values that sample
  differently (1 vs 1.0 vs True, 0.0 vs -0.0); _Unplannable for anything else."""
  t = type(v)
  if t in _SIMPLE:
    return (t, v)
  if t is float:
    return (t, v.hex())
  if t is complex:
    return (t, v.real.hex(), v.imag.hex())
  if t is tuple or t is list:
    return (t, tuple(_static_key(x) for x in v))
  if isinstance(v, np.generic) and v.dtype.kind in "biuf":
    return (t, float(v).hex() if v.dtype.kind == "f" else int(v))
  if t is np.dtype or isinstance(v, type):
    return (t, v)
  raise _Unplannable


def sampler_jit(*, name, static_argnums=None, static_argnames=None):
  """`util.jit_when_traced` for the samplers' jitted helpers (a `jit[name=...]` equation
  when traced, as JAX's), except while a plan is traced: then the body runs inline. The
  plans inline jit equations anyway, and the body they trace may use compact forms
  (`building()`) that must not land in the jit cache that user traces print from."""
  def deco(fun):
    from numjax._src.numpy.util import jit_when_traced
    jitted = jit_when_traced(fun, static_argnums=static_argnums,
                             static_argnames=static_argnames, name=name)

    @functools.wraps(fun)
    def wrapper(*args, **kwargs):
      if _state["building"]:
        return fun(*args, **kwargs)
      return jitted(*args, **kwargs)
    wrapper._fun = fun
    return wrapper
  return deco


def planned(fn):
  """Decorator for a public sampler `fn(key, *args, **kwargs)`: eager calls run a cached
  compiled plan of `fn` (see the module docstring)."""
  from numjax._src.random.keys import PRNGKeyArray
  fid = object()  # this sampler's part of the cache key

  @functools.wraps(fn)
  def wrapper(key, *args, **kwargs):
    if not core._eager_only or _state["off"]:
      return fn(key, *args, **kwargs)
    tk = type(key)
    if tk is PRNGKeyArray:
      data = key._base_array
      if type(data) is not Array:
        return fn(key, *args, **kwargs)
      kind = key._impl
    elif tk is Array:
      data, kind = key, None
    else:
      return fn(key, *args, **kwargs)
    buf = data._buf
    if type(buf) is not np.ndarray:
      return fn(key, *args, **kwargs)
    bufs = [buf]
    sig = [fid, _state["ctx"], kind, buf.shape, buf.dtype]
    dyn = []  # positions (int) / names (str) of Array arguments
    try:
      items = enumerate(args) if not kwargs else itertools.chain(
          enumerate(args), ((name, kwargs[name]) for name in sorted(kwargs)))
      for i, a in items:  # i: a position, or a keyword's name
        if type(a) is Array:
          b = a._buf
          if type(b) is not np.ndarray:
            raise _Unplannable
          bufs.append(b)
          dyn.append(i)
          sig.append((i, b.shape, b.dtype, a.weak_type))
        else:
          sig.append(_static_key(a) if type(i) is int else (i, _static_key(a)))
      sig = tuple(sig)
      plan = _plans.get(sig)
    except (_Unplannable, TypeError):  # TypeError: an unhashable static value
      return fn(key, *args, **kwargs)
    if plan is None:
      plan = _build(fn, kind, args, kwargs, dyn, [data] + [
          args[d] if type(d) is int else kwargs[d] for d in dyn])
      if len(_plans) >= _MAX_PLANS:
        _plans.clear()
      _plans[sig] = plan
    if plan is _NO_PLAN:
      return fn(key, *args, **kwargs)
    exe, out_tree = plan
    return tree_util.tree_unflatten(out_tree, exe.fn(*bufs))

  wrapper.__wrapped__ = fn
  return wrapper


def _build(fn, kind, args, kwargs, dyn, dyn_vals):
  """Trace and compile fn for this signature; _NO_PLAN when it does not trace."""
  from numjax._src import compiler
  from numjax._src.random.keys import PRNGKeyArray
  box = []

  def flat_fun(key_data, *xs):
    a, kw = list(args), dict(kwargs)
    for d, x in zip(dyn, xs):
      if type(d) is int:
        a[d] = x
      else:
        kw[d] = x
    key = key_data if kind is None else PRNGKeyArray(kind, key_data)
    out_flat, out_tree = tree_util.tree_flatten(fn(key, *a, **kw))
    box.append(out_tree)
    return out_flat

  _state["building"] = True
  try:
    closed = pe.trace_to_jaxpr(flat_fun, [core.get_aval(v) for v in dyn_vals])
  except Exception:  # the plain path raises it (or copes with it) as usual
    return _NO_PLAN
  finally:
    _state["building"] = False
  if any(isinstance(c, core.Tracer) for c in closed.consts):
    return _NO_PLAN
  # the samplers stage jit[name=...] equations (as JAX's); splice them in so the compiler
  # sees (and sizes, for tiering) one flat program
  from numjax._src.compiler import passes
  jaxpr, consts = passes.inline_calls(closed.jaxpr, closed.consts)
  closed = core.ClosedJaxpr(jaxpr, consts)
  return compiler.compile_jaxpr(closed, name=fn.__name__), box[0]
