"""Collectives over a named axis: psum, pmean, pmax, pmin, all_gather, psum_scatter,
ppermute, axis_index, axis_size.

A named axis is the `axis_name` of an enclosing vmap (pmap and shard_map reuse the same
rules). Each collective is a primitive whose *axis* batching rule (it needs the axis size)
turns the named axis into a positional one once the vmap that owns the name batches it:
e.g. `psum(x, 'i')` becomes a sum over x's batch dimension, and its result is the same for
every member of the axis (an unbatched value). With integer `axes`, psum/pmax/pmin are plain
reductions, which is what the batching rules produce.
"""
from __future__ import annotations

import contextlib
import math
import operator

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src import tree_util
from numjax._src.core import Primitive, ShapedArray, Tracer
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters.ad import Zero
from numjax._src.lax import lax

__all__ = ["psum", "pmean", "pmax", "pmin", "all_gather", "psum_scatter", "ppermute",
           "axis_index", "axis_size", "psum_p", "pmax_p", "pmin_p", "all_gather_p",
           "psum_scatter_p", "ppermute_p", "axis_index_p"]


# ---------------------------------------------------------------------------------------
# Named axes in scope

# Extra axis names visible while staging without a vmap (make_jaxpr(axis_env=...)).
_axis_env: list[tuple] = []


@contextlib.contextmanager
def extend_axis_env(axis_name, size):
  """Make `axis_name` (of `size`) a known axis while tracing (for make_jaxpr's axis_env)."""
  _axis_env.append((axis_name, size))
  try:
    yield
  finally:
    _axis_env.pop()


def _find_axis_main(name):
  """The innermost active vmap whose axis_name is `name` (or None)."""
  for main in reversed(core.trace_stack):
    if main.trace_type is batching.BatchTrace and main.global_data.name == name:
      return main
  return None


def _axis_size(name):
  main = _find_axis_main(name)
  if main is not None:
    return main.global_data.size
  for n, s in reversed(_axis_env):
    if n == name:
      return s
  raise NameError(f"Found an unbound axis name: {name}. To fix this, call the collective "
                  "inside a function mapped with vmap(..., axis_name=...) (or pmap / "
                  "shard_map) that names this axis.")


def _names(axes):
  return tuple(a for a in axes if not isinstance(a, (int, np.integer)))


def _positional(axes):
  return tuple(int(a) for a in axes if isinstance(a, (int, np.integer)))


def _bind_in_axis(prim, args, axes, **params):
  """Bind `prim` so that the vmaps owning the named axes see it even when no argument is
  one of their tracers (e.g. psum(1, 'i')): lift the arguments into the innermost one."""
  mains = [m for m in (_find_axis_main(n) for n in _names(axes)) if m is not None]
  if mains:
    main = max(mains, key=lambda m: m.level)
    trace = batching.BatchTrace(main)
    args = [trace.full_raise(a) if not isinstance(a, Tracer) or a._trace.main.level <
            main.level else a for a in args]
  else:
    for n in _names(axes):
      _axis_size(n)  # raises NameError for unknown names
  return prim.bind(*args, axes=axes, **params)


def _check_names_bound(axes):
  for n in _names(axes):
    _axis_size(n)


# ---------------------------------------------------------------------------------------
# psum / pmax / pmin: reductions over named (and positional) axes

def _reduce_impl(np_fn):
  def impl(*xs, axes, axis_index_groups=None):
    names = _names(axes)
    if names:
      raise NameError(f"unbound axis name: {names[0]}. Collectives need an enclosing "
                      "vmap(..., axis_name=...) (or pmap / shard_map) naming the axis.")
    pos = _positional(axes)
    return [np.asarray(np_fn(x, axis=pos, dtype=x.dtype)) if np_fn is np.sum else
            np.asarray(np_fn(x, axis=pos)) for x in xs]
  return impl


def _reduce_abstract(*avals, axes, axis_index_groups=None):
  _check_names_bound(axes)
  pos = set(_positional(axes))
  return [ShapedArray(tuple(d for i, d in enumerate(a.shape) if i not in pos), a.dtype,
                      a.weak_type) for a in avals]


def _make_collective_reduce(name, np_fn):
  p = Primitive(name)
  p.multiple_results = True
  p.numpy_tier_only = True
  p.collective = True
  p.impl = _reduce_impl(np_fn)
  p.abstract_eval = _reduce_abstract
  p.weak_type_rule = lambda args, params: all(a.weak_type for a in args)
  return p


psum_p = _make_collective_reduce("psum", np.sum)
pmax_p = _make_collective_reduce("pmax", np.max)
pmin_p = _make_collective_reduce("pmin", np.min)


def _collective_batch(prim, on_unbatched):
  """Axis rule: a named axis owned by this vmap becomes the operand's batch dimension."""
  def rule(axis_data, vals, dims, *, axes, axis_index_groups=None):
    ours = axis_data.name in _names(axes)
    outs, out_dims = [], []
    for v, d in zip(vals, dims):
      rest = tuple(a for a in axes if a != axis_data.name or not ours)
      if d is batching.not_mapped:
        # The same value in every lane: only our named axis acts specially.
        if ours:
          v = on_unbatched(v, axis_data.size)
        o = _bind_in_axis(prim, [v], rest, axis_index_groups=None)[0] if rest else v
        outs.append(o)
        out_dims.append(None)
        continue
      shifted = tuple(a + (a >= d) if isinstance(a, (int, np.integer)) else a for a in rest)
      new_axes = shifted + ((d,) if ours else ())
      o = _bind_in_axis(prim, [v], new_axes, axis_index_groups=None)[0] if new_axes else v
      outs.append(o)
      if ours:
        out_dims.append(None)
      else:
        out_dims.append(d - sum(1 for a in _positional(shifted) if a < d))
    return outs, out_dims
  batching.axis_primitive_batchers[prim] = rule
  return rule


_collective_batch(psum_p, lambda v, n: lax.mul(v, lax._const(v, n)))
_collective_batch(pmax_p, lambda v, n: v)
_collective_batch(pmin_p, lambda v, n: v)


def _psum_transpose(cts, *args, axes, axis_index_groups=None):
  names, pos = _names(axes), _positional(axes)
  out = []
  for ct, x in zip(cts, args):
    if type(ct) is Zero:
      out.append(Zero(x.aval) if ad.is_undefined_primal(x) else None)
      continue
    if names:  # psum over a named axis is self-adjoint
      ct = _bind_in_axis(psum_p, [ct], names, axis_index_groups=None)[0]
    if pos:
      shape = x.aval.shape
      kept = tuple(i for i in range(len(shape)) if i not in pos)
      ct = lax.broadcast_in_dim(ct, shape, kept)
    out.append(ct)
  return out


def _psum_jvp(primals, tangents, *, axes, axis_index_groups=None):
  outs = psum_p.bind(*primals, axes=axes, axis_index_groups=axis_index_groups)
  if all(type(t) is Zero for t in tangents):
    return outs, [Zero.from_primal_value(o) for o in outs]
  ts = [ad.instantiate_zeros(t) for t in tangents]
  return outs, _bind_in_axis(psum_p, ts, axes, axis_index_groups=None)


ad.primitive_jvps[psum_p] = _psum_jvp
ad.primitive_transposes[psum_p] = _psum_transpose


def _pminmax_jvp(prim):
  """Tangent of the chosen elements, averaged over ties (as reduce_max's)."""
  def jvp(primals, tangents, *, axes, axis_index_groups=None):
    outs = prim.bind(*primals, axes=axes, axis_index_groups=axis_index_groups)
    t_outs = []
    pos = _positional(axes)
    for x, t, o in zip(primals, tangents, outs):
      if type(t) is Zero:
        t_outs.append(Zero.from_primal_value(o))
        continue
      ob = o
      if pos:
        shape = core.get_aval(x).shape
        kept = tuple(i for i in range(len(shape)) if i not in pos)
        ob = lax.broadcast_in_dim(o, shape, kept)
      mask = lax.convert_element_type(lax.eq(x, ob), core.get_aval(t).dtype)
      num = _bind_in_axis(psum_p, [lax.mul(t, mask)], axes, axis_index_groups=None)[0]
      den = _bind_in_axis(psum_p, [mask], axes, axis_index_groups=None)[0]
      t_outs.append(lax.div(num, den))
    return outs, t_outs
  return jvp


ad.primitive_jvps[pmax_p] = _pminmax_jvp(pmax_p)
ad.primitive_jvps[pmin_p] = _pminmax_jvp(pmin_p)


def _canonical_axes(axis_name):
  return tuple(axis_name) if isinstance(axis_name, (tuple, list)) else (axis_name,)


def _leaves(x):
  leaves, tree = tree_util.tree_flatten(x)
  return [lax.asarray(l) for l in leaves], tree


def psum(x, axis_name, *, axis_index_groups=None):
  """Sum of x over the named axis (or axes): every member gets the total."""
  if axis_index_groups is not None:
    raise NotImplementedError("psum: axis_index_groups is not supported")
  axes = _canonical_axes(axis_name)
  leaves, tree = _leaves(x)
  leaves = [lax.convert_element_type(l, np.dtype(np.int32)) if l.dtype == np.bool_ else l
            for l in leaves]
  outs = _bind_in_axis(psum_p, leaves, axes, axis_index_groups=None) if leaves else []
  return tree_util.tree_unflatten(tree, outs)


def pmean(x, axis_name, *, axis_index_groups=None):
  """Mean of x over the named axis (or axes)."""
  total = psum(x, axis_name, axis_index_groups=axis_index_groups)
  n = axis_size(axis_name)

  def mean(v):  # true division: integer sums become the default float type (as jnp)
    if not _dtypes.issubdtype(v.dtype, np.inexact):
      v = lax.convert_element_type(v, _dtypes.canonicalize_dtype(np.float64), v.weak_type)
    return lax.div(v, lax._const(v, n))
  return tree_util.tree_map(mean, total)


def pmax(x, axis_name, *, axis_index_groups=None):
  """Maximum of x over the named axis (or axes)."""
  axes = _canonical_axes(axis_name)
  leaves, tree = _leaves(x)
  outs = _bind_in_axis(pmax_p, leaves, axes, axis_index_groups=None) if leaves else []
  return tree_util.tree_unflatten(tree, outs)


def pmin(x, axis_name, *, axis_index_groups=None):
  """Minimum of x over the named axis (or axes)."""
  axes = _canonical_axes(axis_name)
  leaves, tree = _leaves(x)
  outs = _bind_in_axis(pmin_p, leaves, axes, axis_index_groups=None) if leaves else []
  return tree_util.tree_unflatten(tree, outs)


def axis_size(axis_name):
  """The size of the named axis (a product for a tuple of names)."""
  return math.prod(_axis_size(n) for n in _canonical_axes(axis_name))


# ---------------------------------------------------------------------------------------
# axis_index

axis_index_p = Primitive("axis_index")
axis_index_p.numpy_tier_only = True
axis_index_p.collective = True


def _axis_index_impl(*, axis_name):
  raise NameError(f"unbound axis name: {axis_name}. axis_index needs an enclosing "
                  "vmap(..., axis_name=...) (or pmap / shard_map) naming the axis.")


def _axis_index_abstract(*, axis_name):
  _axis_size(axis_name)
  return ShapedArray((), np.dtype(np.int32))


axis_index_p.impl = _axis_index_impl
axis_index_p.abstract_eval = _axis_index_abstract
ad.defnondiff(axis_index_p)


def _axis_index_batch(axis_data, vals, dims, *, axis_name):
  del vals, dims
  if axis_data.name != axis_name:
    return axis_index_p.bind(axis_name=axis_name), None
  return lax.iota(np.int32, axis_data.size), 0


batching.axis_primitive_batchers[axis_index_p] = _axis_index_batch


def axis_index(axis_name):
  """This member's position along the named axis (an int32 scalar)."""
  if isinstance(axis_name, (tuple, list)):
    idx = None
    for n in axis_name:  # row-major over the named axes
      i = axis_index(n)
      idx = i if idx is None else lax.add(lax.mul(idx, np.int32(_axis_size(n))), i)
    return idx
  main = _find_axis_main(axis_name)
  if main is None:
    return axis_index_p.bind(axis_name=axis_name)  # staged (axis_env) or NameError
  trace = batching.BatchTrace(main)
  return batching.BatchTracer(trace, lax.iota(np.int32, main.global_data.size), 0)


# ---------------------------------------------------------------------------------------
# all_gather and psum_scatter (each other's transpose)

all_gather_p = Primitive("all_gather")
all_gather_p.numpy_tier_only = True
psum_scatter_p = Primitive("reduce_scatter")
psum_scatter_p.numpy_tier_only = True
all_gather_p.collective = psum_scatter_p.collective = True


def _unbound(name):
  def impl(*args, **params):
    raise NameError(f"unbound axis name: {params['axis_name']}. {name} needs an enclosing "
                    "vmap(..., axis_name=...) (or pmap / shard_map) naming the axis.")
  return impl


def _all_gather_abstract(x, *, axis_name, all_gather_dimension, axis_size, tiled):
  _axis_size(axis_name)
  shape = list(x.shape)
  if tiled:
    shape[all_gather_dimension] *= axis_size
  else:
    shape.insert(all_gather_dimension, axis_size)
  return x.update(shape=tuple(shape))


def _psum_scatter_abstract(x, *, axis_name, scatter_dimension, axis_size, tiled):
  _axis_size(axis_name)
  shape = list(x.shape)
  if tiled:
    shape[scatter_dimension] //= axis_size
  else:
    del shape[scatter_dimension]
  return x.update(shape=tuple(shape))


def _deflinear_axis(prim, transpose):
  """Linear collective with one operand: its jvp binds it on the tangent *inside* the axis
  (the tangent may be a constant that no vmap tracer wraps)."""
  def jvp(primals, tangents, **params):
    out = prim.bind(*primals, **params)
    (t,) = tangents
    if type(t) is Zero:
      return out, Zero.from_primal_value(out)
    return out, _bind_in_axis_single(prim, t, params["axis_name"], **params)
  ad.primitive_jvps[prim] = jvp
  ad.primitive_transposes[prim] = transpose


all_gather_p.impl = _unbound("all_gather")
all_gather_p.abstract_eval = _all_gather_abstract
psum_scatter_p.impl = _unbound("psum_scatter")
psum_scatter_p.abstract_eval = _psum_scatter_abstract


def _merge_tiled(x, axis):
  """(.., n, k, ..) -> (.., n*k, ..) at `axis`."""
  shape = core.get_aval(x).shape
  new = shape[:axis] + (shape[axis] * shape[axis + 1],) + shape[axis + 2:]
  return lax.reshape(x, new)


def _all_gather_batch(axis_data, vals, dims, *, axis_name, all_gather_dimension, axis_size,
                      tiled):
  (x,), (d,) = vals, dims
  if axis_data.name != axis_name:
    out = all_gather_p.bind(x, axis_name=axis_name, all_gather_dimension=all_gather_dimension
                            + (d is not None and d <= all_gather_dimension),
                            axis_size=axis_size, tiled=tiled)
    return out, (None if d is None else d + (d > all_gather_dimension) * (not tiled))
  # The gathered array is the batched value with its batch axis at the gather position.
  x = batching.matchaxis(d, all_gather_dimension, axis_data.size, x) if d is not None else \
      batching.broadcast(x, axis_data.size, all_gather_dimension)
  if tiled:
    x = _merge_tiled(x, all_gather_dimension)
  return x, None


def _psum_scatter_batch(axis_data, vals, dims, *, axis_name, scatter_dimension, axis_size,
                        tiled):
  (x,), (d,) = vals, dims
  if axis_data.name != axis_name:
    sd = scatter_dimension + (d is not None and d <= scatter_dimension)
    out = psum_scatter_p.bind(x, axis_name=axis_name, scatter_dimension=sd,
                              axis_size=axis_size, tiled=tiled)
    return out, (None if d is None else d - (d > scatter_dimension) * (not tiled))
  n = axis_data.size
  if d is None:
    x = lax.mul(x, lax._const(x, n))
  else:  # sum over the members; the per-member layout is back
    x = psum_p.bind(x, axes=(d,), axis_index_groups=None)[0]
  sd = scatter_dimension
  if tiled:  # split the scattered axis into (members, block)
    shape = core.get_aval(x).shape
    x = lax.reshape(x, shape[:sd] + (n, shape[sd] // n) + shape[sd + 1:])
  return x, sd


batching.axis_primitive_batchers[all_gather_p] = _all_gather_batch
batching.axis_primitive_batchers[psum_scatter_p] = _psum_scatter_batch
_deflinear_axis(all_gather_p, lambda ct, x, *, axis_name, all_gather_dimension, axis_size,
                tiled: [_psum_scatter_bind(ad.instantiate_zeros(ct), axis_name,
                                           all_gather_dimension, axis_size, tiled)])
_deflinear_axis(psum_scatter_p, lambda ct, x, *, axis_name, scatter_dimension, axis_size,
                tiled: [_all_gather_bind(ad.instantiate_zeros(ct), axis_name,
                                         scatter_dimension, axis_size, tiled)])


def _all_gather_bind(x, axis_name, axis, size, tiled):
  return _bind_in_axis_single(all_gather_p, x, axis_name, axis_name=axis_name,
                              all_gather_dimension=axis, axis_size=size, tiled=tiled)


def _psum_scatter_bind(x, axis_name, axis, size, tiled):
  return _bind_in_axis_single(psum_scatter_p, x, axis_name, axis_name=axis_name,
                              scatter_dimension=axis, axis_size=size, tiled=tiled)


def _bind_in_axis_single(prim, x, name, **params):
  main = _find_axis_main(name)
  if main is not None and (not isinstance(x, Tracer) or x._trace.main.level < main.level):
    x = batching.BatchTrace(main).full_raise(x)
  elif main is None:
    _axis_size(name)
  return prim.bind(x, **params)


def all_gather(x, axis_name, *, axis_index_groups=None, axis=0, tiled=False):
  """Every member gets the stack (or, tiled, the concatenation along `axis`) of all
  members' x."""
  if isinstance(axis_name, (tuple, list)):
    if len(axis_name) != 1:
      raise NotImplementedError("all_gather over several axis names")
    axis_name = axis_name[0]
  size = _axis_size(axis_name)

  def one(v):
    v = lax.asarray(v)
    nd = v.ndim + (0 if tiled else 1)
    ax = operator.index(axis)
    if not -nd <= ax < nd or (tiled and v.ndim == 0):
      raise ValueError(f"axis {axis} is out of bounds for array of dimension {v.ndim}")
    return _all_gather_bind(v, axis_name, ax % nd, size, tiled)
  return tree_util.tree_map(one, x)


def psum_scatter(x, axis_name, *, scatter_dimension=0, axis_index_groups=None, tiled=False):
  """psum, after which each member keeps only its own slice along scatter_dimension."""
  if isinstance(axis_name, (tuple, list)):
    if len(axis_name) != 1:
      raise NotImplementedError("psum_scatter over several axis names")
    axis_name = axis_name[0]
  size = _axis_size(axis_name)

  def one(v):
    v = lax.asarray(v)
    sd = operator.index(scatter_dimension) % max(v.ndim, 1)
    n = v.shape[sd] if v.ndim else None
    if n is None or (n != size if not tiled else n % size):
      raise ValueError(f"psum_scatter: dimension {scatter_dimension} of the operand (shape "
                       f"{v.shape}) must be {'a multiple of ' if tiled else ''}the axis size "
                       f"{size}.")
    return _psum_scatter_bind(v, axis_name, sd, size, tiled)
  return tree_util.tree_map(one, x)


# ---------------------------------------------------------------------------------------
# ppermute

ppermute_p = Primitive("ppermute")
ppermute_p.numpy_tier_only = True
ppermute_p.collective = True
ppermute_p.impl = _unbound("ppermute")


def _ppermute_abstract(x, *, axis_name, perm):
  _axis_size(axis_name)
  return x


ppermute_p.abstract_eval = _ppermute_abstract
_deflinear_axis(ppermute_p, lambda ct, x, *, axis_name, perm: [
    _bind_in_axis_single(ppermute_p, ad.instantiate_zeros(ct), axis_name,
                         axis_name=axis_name, perm=tuple((d, s) for s, d in perm))])


def _ppermute_batch(axis_data, vals, dims, *, axis_name, perm):
  (x,), (d,) = vals, dims
  if axis_data.name != axis_name:
    return ppermute_p.bind(x, axis_name=axis_name, perm=perm), d
  n = axis_data.size
  if d is None:
    x = batching.broadcast(x, n, 0)
    d = 0
  # Member `dst` receives member `src`'s value; members receiving nothing get zeros.
  # A one-hot matrix contraction over the batch axis keeps this one static primitive.
  m = np.zeros((n, n), dtype=core.get_aval(x).dtype)
  for s, t in perm:
    m[t, s] = 1
  from numjax._src.array import _make
  out = lax.dot_general(_make(m, False), x, (((1,), (d,)), ((), ())))
  return out, 0


batching.axis_primitive_batchers[ppermute_p] = _ppermute_batch


def ppermute(x, axis_name, perm):
  """Send each member's x to another member: `perm` lists (source, destination) pairs;
  members that receive nothing get zeros."""
  perm = tuple((int(s), int(d)) for s, d in perm)
  if isinstance(axis_name, (tuple, list)):
    if len(axis_name) != 1:
      raise NotImplementedError("ppermute over several axis names")
    axis_name = axis_name[0]
  size = _axis_size(axis_name)
  srcs, dsts = [s for s, _ in perm], [d for _, d in perm]
  if len(set(srcs)) != len(srcs) or len(set(dsts)) != len(dsts) or any(
      not 0 <= i < size for i in srcs + dsts):
    raise ValueError(f"ppermute sources and destinations must be unique indices into the "
                     f"axis of size {size}, got perm={list(perm)}.")
  return tree_util.tree_map(
      lambda v: _bind_in_axis_single(ppermute_p, lax.asarray(v), axis_name,
                                     axis_name=axis_name, perm=perm), x)


# ---------------------------------------------------------------------------------------
# all_to_all (and pswapaxes, pshuffle, pbroadcast, pcast built on the collectives)

__all__ += ["all_to_all", "all_to_all_p", "pswapaxes", "pshuffle", "pbroadcast", "pcast",
            "pbroadcast_p", "psend", "precv", "ragged_all_to_all", "ragged_all_to_all_p",
            "device_put_p", "sharding_constraint_p", "create_token", "create_token_p",
            "after_all", "after_all_p"]

# The primitive always has the "tiled" layout (as JAX's): the split axis shrinks by the
# axis size and the concat axis grows by it; the untiled form inserts/squeezes a unit axis
# around it in the wrapper.
all_to_all_p = Primitive("all_to_all")
all_to_all_p.numpy_tier_only = True
all_to_all_p.collective = True
all_to_all_p.impl = _unbound("all_to_all")


def _single_name(axis_name, what):
  if isinstance(axis_name, (tuple, list)):
    if len(axis_name) != 1:
      raise NotImplementedError(f"{what} over several axis names at once is not supported "
                                "by numjax; nest one call per axis name.")
    axis_name = axis_name[0]
  return axis_name


def _all_to_all_abstract(x, *, axis_name, split_axis, concat_axis, axis_index_groups, tiled):
  n = _axis_size(axis_name)
  shape = list(x.shape)
  if shape[split_axis] % n:
    raise ValueError(f"all_to_all: dimension {split_axis} of the operand (size "
                     f"{shape[split_axis]}) must be divisible by the axis size {n}.")
  shape[split_axis] //= n
  shape[concat_axis] *= n
  return x.update(shape=tuple(shape))


all_to_all_p.abstract_eval = _all_to_all_abstract


def _all_to_all_batch(axis_data, vals, dims, *, axis_name, split_axis, concat_axis,
                      axis_index_groups, tiled):
  (x,), (d,) = vals, dims
  if axis_data.name != axis_name:
    if d is None:
      return all_to_all_p.bind(x, axis_name=axis_name, split_axis=split_axis,
                               concat_axis=concat_axis, axis_index_groups=axis_index_groups,
                               tiled=tiled), None
    return all_to_all_p.bind(x, axis_name=axis_name, split_axis=split_axis + (d <= split_axis),
                             concat_axis=concat_axis + (d <= concat_axis),
                             axis_index_groups=axis_index_groups, tiled=tiled), d
  n = axis_data.size
  x = batching.broadcast(x, n, 0) if d is None else batching.moveaxis(x, d, 0)
  sh = core.get_aval(x).shape[1:]  # one member's shape
  s, c = split_axis, concat_axis
  # X[i, ..., j, k, ...]: member i's chunk j (of the split axis) goes to member j, which
  # stacks the chunks of all members i in front of its concat axis.
  x = lax.reshape(x, (n,) + sh[:s] + (n, sh[s] // n) + sh[s + 1:])
  pos = [1 + p if p < s else 2 + p for p in range(len(sh))]
  perm = [1 + s]
  for p in range(len(sh)):
    perm += [0, pos[p]] if p == c else [pos[p]]
  x = lax.transpose(x, tuple(perm))
  out_sh = list(sh)
  out_sh[s] //= n
  out_sh[c] *= n
  return lax.reshape(x, (n,) + tuple(out_sh)), 0


batching.axis_primitive_batchers[all_to_all_p] = _all_to_all_batch
_deflinear_axis(all_to_all_p, lambda ct, x, *, axis_name, split_axis, concat_axis,
                axis_index_groups, tiled: [_bind_in_axis_single(
                    all_to_all_p, ad.instantiate_zeros(ct), axis_name, axis_name=axis_name,
                    split_axis=concat_axis, concat_axis=split_axis,
                    axis_index_groups=axis_index_groups, tiled=tiled)])


def all_to_all(x, axis_name, split_axis, concat_axis, *, axis_index_groups=None,
               tiled=False):
  """Split each member's x along `split_axis` into one chunk per member, send chunk j to
  member j, and concatenate (tiled) or stack (untiled) the received chunks along
  `concat_axis`."""
  if axis_index_groups is not None:
    raise NotImplementedError("all_to_all: axis_index_groups is not supported by numjax")
  axis_name = _single_name(axis_name, "all_to_all")
  size = _axis_size(axis_name)

  def one(v):
    v = lax.asarray(v)
    s = operator.index(split_axis) % max(v.ndim, 1)
    c = operator.index(concat_axis) % max(v.ndim, 1)
    if v.ndim == 0:
      raise ValueError("all_to_all needs an operand with at least one dimension.")
    if not tiled:
      if v.shape[s] != size:
        raise ValueError(f"all_to_all requires the size of the mapped axis axis_name to "
                         f"equal x.shape[split_axis], but they are {size} and "
                         f"{v.shape[s]} respectively.")
      if s < c:
        c += 1  # concat_axis counts positions after split_axis is removed
        v = lax.expand_dims(v, (c,))
      elif c < s:
        v = lax.expand_dims(v, (c,))
        s += 1
    elif v.shape[s] % size:
      raise ValueError(f"The size of all_to_all split_axis ({v.shape[s]}) has to be "
                       f"divisible by the size of the named axis {axis_name} ({size})")
    out = _bind_in_axis_single(all_to_all_p, v, axis_name, axis_name=axis_name,
                               split_axis=s, concat_axis=c, axis_index_groups=None,
                               tiled=False)
    if not tiled and s != c:
      out = lax.squeeze(out, (s,))
    return out
  return tree_util.tree_map(one, x)


def pswapaxes(x, axis_name, axis, *, axis_index_groups=None):
  """Swap the named axis with positional `axis` (an all_to_all with split = concat)."""
  return all_to_all(x, axis_name, axis, axis, axis_index_groups=axis_index_groups)


def pshuffle(x, axis_name, perm):
  """Member i gets member perm[i]'s x (`perm` a permutation of range(axis size))."""
  perm = [int(p) for p in perm]
  if sorted(perm) != list(range(len(perm))):
    raise ValueError(f"`perm` does not represent a permutation: {perm}")
  return ppermute(x, axis_name, [(p, i) for i, p in enumerate(perm)])


pbroadcast_p = Primitive("pbroadcast")
pbroadcast_p.numpy_tier_only = True
pbroadcast_p.collective = True
pbroadcast_p.impl = _unbound("pbroadcast")


def _pbroadcast_abstract(x, *, axis_name, source):
  _axis_size(axis_name)
  return x


pbroadcast_p.abstract_eval = _pbroadcast_abstract


def _pbroadcast_batch(axis_data, vals, dims, *, axis_name, source):
  (x,), (d,) = vals, dims
  if axis_data.name != axis_name:
    return pbroadcast_p.bind(x, axis_name=axis_name, source=source), d
  if d is None:
    return x, None
  from numjax._src.lax import slicing  # late: slicing imports this module's neighbours
  return slicing.index_in_dim(x, source, d, keepdims=False), None


def _pbroadcast_transpose(ct, x, *, axis_name, source):
  # Member `source` receives the sum of every member's cotangent; the others nothing.
  ct = ad.instantiate_zeros(ct)
  total = _bind_in_axis(psum_p, [ct], (axis_name,), axis_index_groups=None)[0]
  mine = lax.convert_element_type(lax.eq(axis_index(axis_name), np.int32(source)),
                                  core.get_aval(total).dtype)
  return [lax.mul(total, mine)]


batching.axis_primitive_batchers[pbroadcast_p] = _pbroadcast_batch
_deflinear_axis(pbroadcast_p, _pbroadcast_transpose)


def pbroadcast(x, axis_name, source):
  """Every member gets member `source`'s x."""
  axis_name = _single_name(axis_name, "pbroadcast")
  size = _axis_size(axis_name)
  source = operator.index(source)
  if not 0 <= source < size:
    raise ValueError(f"pbroadcast: source {source} is out of range for the axis "
                     f"'{axis_name}' of size {size}.")
  return tree_util.tree_map(
      lambda v: _bind_in_axis_single(pbroadcast_p, lax.asarray(v), axis_name,
                                     axis_name=axis_name, source=source), x)


_PCAST_TARGETS = ("varying", "invariant", "reduced", "unreduced")


def pcast(x, axis_name, *, to):
  """Change how x varies over `axis_name` (shard_map's varying/invariant types). numjax
  keeps no varying-manual-axes types, so the values pass through unchanged."""
  if to not in _PCAST_TARGETS:
    raise ValueError(f"pcast: `to` must be one of {_PCAST_TARGETS}, got {to!r}.")
  for n in _canonical_axes(axis_name):
    _axis_size(n)
  return tree_util.tree_map(lax.asarray, x)


def psend(x, axis_name, perm):
  """Point-to-point send (paired with `precv`): not supported by numjax."""
  raise NotImplementedError("psend/precv (point-to-point sends between devices) are not "
                            "supported by numjax; use lax.ppermute(x, axis_name, perm), "
                            "which sends and receives in one collective.")


def precv(token, out_shape, axis_name, perm):
  """Point-to-point receive (paired with `psend`): not supported by numjax."""
  psend(None, axis_name, perm)


# ragged_all_to_all: the name exists, the operation (data-dependent chunk sizes) is not
# implemented. Its primitive has the shape rule and rules that explain the gap.
ragged_all_to_all_p = Primitive("ragged_all_to_all")
ragged_all_to_all_p.numpy_tier_only = True
ragged_all_to_all_p.collective = True
_RAGGED_MSG = ("ragged_all_to_all is not supported by numjax (its chunk sizes are data "
               "dependent); use lax.all_to_all on padded equal-size chunks instead.")


def _ragged_unsupported(*args, **params):
  raise NotImplementedError(_RAGGED_MSG)


ragged_all_to_all_p.impl = _ragged_unsupported
ragged_all_to_all_p.abstract_eval = lambda operand, output, *offsets, **params: output
batching.axis_primitive_batchers[ragged_all_to_all_p] = _ragged_unsupported
ad.primitive_jvps[ragged_all_to_all_p] = _ragged_unsupported


def ragged_all_to_all(operand, output, input_offsets, send_sizes, output_offsets,
                      recv_sizes, *, axis_name, axis_index_groups=None):
  """Not supported by numjax (raises NotImplementedError)."""
  raise NotImplementedError(_RAGGED_MSG)


# ---------------------------------------------------------------------------------------
# Placement primitives: device_put and sharding_constraint are the identity on values
# (numjax computes on one buffer); they exist so traced programs record them as JAX does.

class ArrayCopySemantics:
  """How device_put treats its input buffer (printed in jaxprs as JAX does)."""

  def __init__(self, name):
    self.name = name

  def __repr__(self):
    return f"ArrayCopySemantics.{self.name}"

  __str__ = __repr__


ArrayCopySemantics.REUSE_INPUT = ArrayCopySemantics("REUSE_INPUT")
ArrayCopySemantics.ALWAYS_COPY = ArrayCopySemantics("ALWAYS_COPY")

device_put_p = Primitive("device_put")
device_put_p.multiple_results = True
device_put_p.numpy_tier_only = True
device_put_p.impl = lambda *xs, devices, srcs, copy_semantics: list(xs)
device_put_p.abstract_eval = lambda *avals, devices, srcs, copy_semantics: list(avals)
device_put_p.weak_type_rule = lambda args, params: all(a.weak_type for a in args)


def _device_put_batch(vals, dims, **params):
  return device_put_p.bind(*vals, **params), list(dims)


def _device_put_transpose(cts, *args, **params):
  return [(Zero(x.aval) if type(ct) is Zero else ct) if ad.is_undefined_primal(x) else None
          for ct, x in zip(cts, args)]


def _device_put_jvp(primals, tangents, **params):
  outs = device_put_p.bind(*primals, **params)
  live = [i for i, t in enumerate(tangents) if type(t) is not Zero]
  t_outs = [Zero.from_primal_value(o) for o in outs]
  if live:
    sub = dict(params, **{k: tuple(params[k][i] for i in live)
                          for k in ("devices", "srcs", "copy_semantics")})
    for i, t in zip(live, device_put_p.bind(*[tangents[i] for i in live], **sub)):
      t_outs[i] = t
  return outs, t_outs


batching.primitive_batchers[device_put_p] = _device_put_batch
ad.primitive_jvps[device_put_p] = _device_put_jvp
ad.primitive_transposes[device_put_p] = _device_put_transpose

sharding_constraint_p = Primitive("sharding_constraint")
sharding_constraint_p.numpy_tier_only = True
sharding_constraint_p.impl = lambda x, **params: x
sharding_constraint_p.abstract_eval = lambda x, **params: x
batching.defvectorized(sharding_constraint_p)
ad.deflinear(sharding_constraint_p, lambda ct, x, **params: [
    Zero(x.aval) if type(ct) is Zero else sharding_constraint_p.bind(ct, **params)])


# ---------------------------------------------------------------------------------------
# Tokens: numjax has no token type; a token is an empty bool array (it only orders effects,
# and numjax runs effects in program order anyway).

create_token_p = Primitive("create_token")
create_token_p.numpy_tier_only = True
create_token_p.impl = lambda: np.zeros((0,), np.bool_)
create_token_p.abstract_eval = lambda: ShapedArray((0,), np.dtype(np.bool_))
ad.defnondiff(create_token_p)

after_all_p = Primitive("after_all")
after_all_p.numpy_tier_only = True
after_all_p.impl = lambda *xs: np.zeros((0,), np.bool_)
after_all_p.abstract_eval = lambda *avals: ShapedArray((0,), np.dtype(np.bool_))
ad.defnondiff(after_all_p)
batching.primitive_batchers[after_all_p] = lambda vals, dims: (after_all_p.bind(*vals), None)


def create_token(_=None):
  """A fresh token (an empty array in numjax) for ordering side effects."""
  return create_token_p.bind()


def after_all(*operands):
  """A token that depends on all `operands` (tokens or arrays)."""
  return after_all_p.bind(*[lax.asarray(o) for o in operands])
