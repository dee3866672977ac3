"""vmap: the batching interpreter.

A `BatchTracer` carries a value with one extra (batch) axis at position `batch_dim`, or
`not_mapped`. Each primitive's batching rule, registered beside the primitive in `lax/`,
maps `(vals, dims, **params) -> (out, out_dim)` (lists for multiple results).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from numjax._src import core
from numjax._src.core import Primitive, Tracer

not_mapped = None
primitive_batchers: dict[Primitive, Callable] = {}
# Rules that need the axis (size, name): rule(axis_data, vals, dims, **params).
axis_primitive_batchers: dict[Primitive, Callable] = {}


class AxisData:
  __slots__ = ("name", "size", "spmd_name")

  def __init__(self, name, size, spmd_name=None):
    self.name, self.size, self.spmd_name = name, size, spmd_name

  def __repr__(self):
    return f"AxisData(name={self.name!r}, size={self.size})"


class BatchTracer(Tracer):
  __slots__ = ("val", "batch_dim")

  def __init__(self, trace, val, batch_dim):
    self._trace = trace
    self.val = val
    self.batch_dim = batch_dim

  @property
  def aval(self):
    aval = core.get_aval(self.val)
    if self.batch_dim is not_mapped:
      return aval
    shape = list(aval.shape)
    del shape[self.batch_dim]
    return aval.update(shape=tuple(shape))

  def full_lower(self):
    if self.batch_dim is not_mapped:
      return core.full_lower(self.val)
    return self


class BatchTrace(core.Trace):
  __slots__ = ()

  @property
  def axis_data(self) -> AxisData:
    return self.main.global_data

  def pure(self, val):
    return BatchTracer(self, val, not_mapped)

  lift = pure

  def process_primitive(self, primitive, tracers, params):
    vals = [t.val for t in tracers]
    dims = [t.batch_dim for t in tracers]
    # Collectives over this vmap's axis act even on unbatched values (psum(1, 'i') == size).
    if all(d is not_mapped for d in dims) and not primitive.collective:
      out = primitive.bind(*vals, **params)
      if primitive.multiple_results:
        return [BatchTracer(self, o, not_mapped) for o in out]
      return BatchTracer(self, out, not_mapped)
    rule = axis_primitive_batchers.get(primitive)
    if rule is not None:
      out, out_dim = rule(self.axis_data, vals, dims, **params)
    else:
      rule = primitive_batchers.get(primitive)
      if rule is None:
        raise NotImplementedError(f"Batching rule for '{primitive.name}' not implemented")
      out, out_dim = rule(vals, dims, **params)
    if primitive.multiple_results:
      return [BatchTracer(self, o, d) for o, d in zip(out, out_dim)]
    return BatchTracer(self, out, out_dim)


def _lax():
  from numjax._src.lax import lax as _l  # lazy: lax imports this module to register rules
  return _l


def moveaxis(x, src, dst):
  if src == dst:
    return x
  nd = core.get_aval(x).ndim
  perm = [i for i in range(nd) if i != src]
  perm.insert(dst, src)
  return _lax().transpose(x, tuple(perm))


def broadcast(x, size, axis):
  """Insert a new axis of `size` at `axis` (for unbatched values that must be batched)."""
  aval = core.get_aval(x)
  shape = list(aval.shape)
  shape.insert(axis, size)
  # NumPy integers, as JAX's (its jaxprs print `broadcast_dimensions=(np.int64(1),)`)
  dims = tuple(np.delete(np.arange(len(shape)), axis))
  lax = _lax()
  if not isinstance(x, Tracer):
    x = lax.asarray(x)
  return lax.broadcast_in_dim_p.bind(x, shape=tuple(shape), broadcast_dimensions=dims,
                                     sharding=None)


def bdim_at_front(x, bdim, size):
  if bdim is not_mapped:
    return broadcast(x, size, 0)
  return moveaxis(x, bdim, 0)


def matchaxis(src, dst, size, x):
  """Move/broadcast x's batch axis from `src` to `dst`."""
  if src == dst:
    return x
  if src is not_mapped:
    return broadcast(x, size, dst)
  if dst is not_mapped:
    raise ValueError("vmap has mapped output but out_axes is None")
  return moveaxis(x, src, dst)


def batch_trace_flat(fun: Callable, in_dims, axis_size, axis_name=None, spmd_axis_name=None,
                     args=()):
  """Run fun: list -> list on `args` batched along `in_dims` (int or None per arg).
  Returns (out_vals, out_dims) with the batch axis wherever the rules left it."""
  with core.new_main(BatchTrace, global_data=AxisData(axis_name, axis_size,
                                                      spmd_axis_name)) as main:
    trace = BatchTrace(main)
    ins = [BatchTracer(trace, a, d) if d is not not_mapped else a
           for a, d in zip(args, in_dims)]
    outs = fun(*ins)
    outs = [trace.full_raise(o) for o in outs]
    return [o.val for o in outs], [o.batch_dim for o in outs]


def vmap_flat(fun: Callable, in_dims, out_dims_thunk, axis_size, axis_name=None,
              spmd_axis_name=None, args=()):
  """fun: list -> list, batched along in_dims (int or None per arg). out_dims_thunk() gives
  the output batch positions (a list, or one int/None for all) once fun has run."""
  vals, dims = batch_trace_flat(fun, in_dims, axis_size, axis_name, spmd_axis_name, args)
  out_dims = out_dims_thunk()
  if not isinstance(out_dims, (list, tuple)):
    out_dims = [out_dims] * len(vals)
  res = []
  for v, d, od in zip(vals, dims, out_dims):
    if od is not_mapped and d is not not_mapped:
      raise ValueError(f"vmap has mapped output but out_axes is None (the output is "
                       f"batched along axis {d}).")
    if od is not not_mapped:
      od = od % (core.get_aval(v).ndim + (d is not_mapped))
    res.append(v if od is not_mapped else matchaxis(d, od, axis_size, v))
  return res


def batch_jaxpr(closed: core.ClosedJaxpr, axis_data: AxisData, in_dims, out_dim=0):
  """A jaxpr batched along in_dims, all outputs at `out_dim`: (ClosedJaxpr, batched avals).
  The result's consts are the (possibly traced) consts of the original."""
  from numjax._src.interpreters import partial_eval as pe

  def f(*xs):
    return vmap_flat(lambda *ys: core.eval_jaxpr(closed.jaxpr, closed.consts, *ys), in_dims,
                     lambda: out_dim, axis_data.size, axis_data.name, axis_data.spmd_name,
                     xs)
  avals = [batched_aval(a, d, axis_data.size) for a, d in zip(closed.in_avals, in_dims)]
  return pe.trace_to_jaxpr(f, avals)


def batched_aval(aval, d, size):
  """aval with a batch axis of `size` inserted at d (unchanged for not_mapped)."""
  if d is not_mapped:
    return aval
  shape = list(aval.shape)
  shape.insert(d, size)
  return aval.update(shape=tuple(shape))


# ---------------------------------------------------------------------------------------
# Rule helpers

def broadcast_batcher(prim, implicit=False):
  """Elementwise n-ary rule. Operands have equal shapes or rank 0 (as lax allows). The
  batch axis stays where a full-rank batched operand has it (no transpose of the big
  operand); other batched operands are moved there and unbatched ones broadcast into that
  layout, unless they are rank 0. With `implicit` (the primitive broadcasts size-1 dims
  itself, as JAX's binary lax ops) the rule is JAX's: batch axes to the front, unbatched
  operands get a size-1 leading axis, batched rank-0 elements get trailing size-1 axes."""
  if implicit:
    def implicit_rule(vals, dims, **params):
      avals = [core.get_aval(v) for v in vals]
      shape, dim = next((a.shape, d) for a, d in zip(avals, dims) if d is not not_mapped)
      if all(a.shape == shape and d == dim for a, d in zip(avals, dims) if a.ndim):
        out = prim.bind(*vals, **params)
        return out, ([dim] * len(out) if prim.multiple_results else dim)
      new = [bdim_at_front(v, d, 1) if a.ndim else v for v, a, d in zip(vals, avals, dims)]
      nd = max(core.get_aval(v).ndim for v in new)
      lax = _lax()
      for i, (v, d) in enumerate(zip(new, dims)):
        r = core.get_aval(v).ndim
        if d is not not_mapped and r != nd:
          new[i] = lax.expand_dims(v, tuple(range(r, nd)))
      out = prim.bind(*new, **params)
      return out, ([0] * len(out) if prim.multiple_results else 0)
    primitive_batchers[prim] = implicit_rule
    return implicit_rule

  def rule(vals, dims, **params):
    avals = [core.get_aval(v) for v in vals]
    if all(d == dims[0] for d in dims) and all(a.shape == avals[0].shape for a in avals):
      out = prim.bind(*vals, **params)  # all batched alike: nothing to align
      return out, ([dims[0]] * len(out) if prim.multiple_results else dims[0])
    size = next(a.shape[d] for a, d in zip(avals, dims) if d is not not_mapped)
    elem_shape = ()
    for a, d in zip(avals, dims):
      s = a.shape if d is not_mapped else a.shape[:d] + a.shape[d + 1:]
      if s:
        elem_shape = s
    target = 0
    for a, d in zip(avals, dims):
      if d is not not_mapped and a.ndim == len(elem_shape) + 1:
        target = d
        break
    full = elem_shape[:target] + (size,) + elem_shape[target:]
    others = tuple(i for i in range(len(full)) if i != target)
    new = []
    for v, a, d in zip(vals, avals, dims):
      if d is not_mapped:
        new.append(v if a.ndim == 0 else _lax().broadcast_in_dim(v, full, others))
      elif a.ndim == 1 and elem_shape:
        new.append(_lax().broadcast_in_dim(v, full, (target,)))
      else:
        new.append(moveaxis(v, d, target))
    out = prim.bind(*new, **params)
    return out, ([target] * len(out) if prim.multiple_results else target)
  primitive_batchers[prim] = rule
  return rule


def defvectorized(prim):
  """Unary elementwise (or any op acting independently along every axis)."""
  def rule(vals, dims, **params):
    (x,), (d,) = vals, dims
    return prim.bind(x, **params), d
  primitive_batchers[prim] = rule
  return rule
