"""jit and staging entry points: make_jaxpr, jit, eval_shape.

This first version traces once per signature and runs the jaxpr with `eval_jaxpr`; the
compiler pipeline (passes, NumPy-tier executable, native tier) replaces the execution step.
"""
from __future__ import annotations

import functools
import inspect

import numpy as np

from numjax._src import core
from numjax._src import tree_util
from numjax._src.config import config
from numjax._src.interpreters import partial_eval as pe


def _static_tuple(argnums, nargs):
  if argnums is None:
    return ()
  if isinstance(argnums, int):
    argnums = (argnums,)
  return tuple(sorted(a % nargs if nargs else a for a in argnums))


def _abstractify(x):
  return core.get_aval(x)


def _trace_flat(fun, args, kwargs, static_argnums=()):
  """Flatten args, stage fun into a ClosedJaxpr. Returns (closed_jaxpr, out_tree, flat_args)."""
  static = set(static_argnums)
  dyn_args = [a for i, a in enumerate(args) if i not in static]
  flat, in_tree = tree_util.tree_flatten((dyn_args, kwargs))
  out_tree_box = []

  def flat_fun(*flat_tracers):
    dargs, dkw = tree_util.tree_unflatten(in_tree, flat_tracers)
    it = iter(dargs)
    full = [a if i in static else next(it) for i, a in enumerate(args)]
    out = fun(*full, **dkw)
    out_flat, out_tree = tree_util.tree_flatten(out)
    out_tree_box.append(out_tree)
    return out_flat

  avals = [_abstractify(x) for x in flat]
  closed = pe.trace_to_jaxpr(flat_fun, avals)
  return closed, out_tree_box[0], flat


def make_jaxpr(fun, static_argnums=(), axis_env=None, return_shape=False):
  """Return a function that gives the ClosedJaxpr of `fun` at the given arguments."""
  @functools.wraps(fun)
  def make(*args, **kwargs):
    closed, out_tree, _ = _trace_flat(fun, args, kwargs,
                                      _static_tuple(static_argnums, len(args)))
    if return_shape:
      shapes = [ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type)
                for a in closed.out_avals]
      return closed, tree_util.tree_unflatten(out_tree, shapes)
    return closed
  return make


class ShapeDtypeStruct:
  __slots__ = ("shape", "dtype", "sharding", "weak_type")

  def __init__(self, shape, dtype, *, sharding=None, weak_type=False):
    self.shape = tuple(shape)
    self.dtype = np.dtype(dtype)
    self.sharding = sharding
    self.weak_type = weak_type

  ndim = property(lambda self: len(self.shape))
  size = property(lambda self: int(np.prod(self.shape)))

  def __repr__(self):
    w = ", weak_type=True" if self.weak_type else ""
    return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype.name}{w})"

  def __eq__(self, other):
    return (isinstance(other, ShapeDtypeStruct) and self.shape == other.shape
            and self.dtype == other.dtype and self.weak_type == other.weak_type)

  def __hash__(self):
    return hash((self.shape, self.dtype, self.weak_type))


core.pytype_aval_mappings[ShapeDtypeStruct] = (
    lambda s: core.ShapedArray(s.shape, s.dtype, s.weak_type))


def eval_shape(fun, *args, **kwargs):
  closed, out_tree, _ = _trace_flat(fun, args, kwargs)
  return tree_util.tree_unflatten(out_tree, [ShapeDtypeStruct(a.shape, a.dtype,
                                                              weak_type=a.weak_type)
                                             for a in closed.out_avals])


def jit(fun=None, *, static_argnums=None, static_argnames=None, donate_argnums=None,
        donate_argnames=None, keep_unused=False, device=None, backend=None, inline=False,
        in_shardings=None, out_shardings=None, abstracted_axes=None, compiler_options=None):
  """Stage `fun` once per argument signature and run the staged program."""
  if fun is None:
    return functools.partial(jit, static_argnums=static_argnums,
                             static_argnames=static_argnames, donate_argnums=donate_argnums,
                             donate_argnames=donate_argnames, keep_unused=keep_unused,
                             inline=inline)
  cache = {}

  @functools.wraps(fun)
  def wrapped(*args, **kwargs):
    if config.jax_disable_jit:
      return fun(*args, **kwargs)
    sa = _static_tuple(static_argnums, len(args))
    dyn = [a for i, a in enumerate(args) if i not in sa]
    flat, in_tree = tree_util.tree_flatten((dyn, kwargs))
    from numjax._src.lax.lax import asarray
    flat = [asarray(x) for x in flat]
    key = (in_tree, tuple(core.get_aval(x) for x in flat),
           tuple(args[i] for i in sa), config.trace_context())
    entry = cache.get(key)
    if entry is None:
      closed, out_tree, _ = _trace_flat(fun, args, kwargs, sa)
      entry = cache[key] = (closed, out_tree)
    closed, out_tree = entry
    outs = core.eval_jaxpr(closed.jaxpr, closed.consts, *flat)
    return tree_util.tree_unflatten(out_tree, outs)
  return wrapped
