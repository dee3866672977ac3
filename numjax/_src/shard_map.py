"""shard_map: run a function on each device's block of its arguments.

numjax has one buffer per array and logical devices, so a shard_map is a vmap per manual
mesh axis: every argument is split into its per-device blocks along a stacked leading axis
per mesh axis it is partitioned over, the function runs batched over those axes with the
mesh axis names bound (so `lax.psum(x, 'x')`, `all_gather`, `axis_index`, ... are the
collectives of lax/parallel.py over vmap axis names), and the per-device results are
concatenated back as out_specs say. An output the batching interpreter left unbatched along
a mesh axis is the same on every device of that axis; that is how out_specs that promise
replication are checked (JAX's `check_vma`).
"""
from __future__ import annotations

import functools
import inspect
import math

from numjax._src import core
from numjax._src import tree_util
from numjax._src.array import Array
from numjax._src.interpreters import batching
from numjax._src.sharding import (AxisType, Mesh, AbstractMesh, NamedSharding, PartitionSpec,
                                  DuplicateSpecError, get_mesh, get_abstract_mesh)

__all__ = ["shard_map", "smap"]


class _InferSpecs:
  """The default of `in_specs`: take each argument's PartitionSpec from its sharding."""
  def __repr__(self):
    return "jax.sharding.Infer"


Infer = _InferSpecs()


def _lax():
  from numjax._src.lax import lax
  return lax


def shard_map(f=None, /, *, out_specs, in_specs=Infer, mesh=None, axis_names=frozenset(),
              check_vma=True):
  """Map `f` over the blocks of its arguments on the devices of `mesh`.

  in_specs / out_specs: pytree prefixes of the arguments / outputs whose leaves are
  PartitionSpecs (P() or None: the same value on every device). axis_names: the mesh axes
  `f` is manual over (default: all); collectives in `f` name them. check_vma: check that
  outputs whose out_specs omit a mesh axis are the same over that axis. Usable as a
  decorator: `@shard_map(mesh=..., in_specs=..., out_specs=...)`."""
  if f is None:
    return lambda g: shard_map(g, out_specs=out_specs, in_specs=in_specs, mesh=mesh,
                               axis_names=axis_names, check_vma=check_vma)
  if not callable(f):
    raise TypeError(f"shard_map requires a callable for its first argument, but got {f!r}")

  @functools.wraps(f)
  def wrapped(*args):
    m = mesh if mesh is not None else _context_mesh()
    return _shard_map_call(f, m, in_specs, out_specs, frozenset(axis_names), check_vma, args)
  return wrapped


def _context_mesh():
  am = get_abstract_mesh()
  m = get_mesh()
  if m.empty and am.empty:
    raise ValueError("The context mesh cannot be empty. Use `jax.set_mesh(mesh)` to enter "
                     "into a mesh context")
  return m if not m.empty else am


# ---------------------------------------------------------------------------------------
# Spec checks (JAX's messages)

def _fun_name(f):
  return getattr(f, "__name__", str(f))


def _arg_desc(f, nargs, path):
  """', where args[0] is bound to f's parameter 'x',' for an argument leaf's key path."""
  try:
    ba = inspect.signature(f).bind(*([False] * nargs))
  except (TypeError, ValueError):
    return ""
  params = [(n, p) for n, p in ba.signature.parameters.items()
            if p.kind not in (p.KEYWORD_ONLY, p.VAR_KEYWORD)]
  idx = path[0].idx
  name = _fun_name(f)
  if idx >= len(params) or params[idx][1].kind == inspect.Parameter.VAR_POSITIONAL:
    return (f", where args{tree_util.keystr(path[:1])} is the index "
            f"{idx - len(params) + 1} component of {name}'s varargs parameter "
            f"'{params[-1][0]}',")
  return f", where args{tree_util.keystr(path[:1])} is bound to {name}'s parameter " \
         f"'{params[idx][0]}',"


def _check_spec_names(spec, manual, which):
  seen = set()
  for i in range(len(spec)):
    for n in spec._axis_names(i):
      if n not in manual:
        raise ValueError(f"shard_map {which} argument must refer to an axis marked as "
                         f"manual ({manual}), but:\n\n  {which} refers to {n!r}\n\nCheck the "
                         f"{which} values passed to shard_map.")
      if n in seen:
        raise DuplicateSpecError(
            "A single NamedSharding spec specification can map every mesh axis to at most "
            f"one positional dimension, but {spec!r} has duplicate entries for `{n}`")
      seen.add(n)


def _rank_error(f, which, spec, aval, where):
  kind = "in" if which == "in_specs" else "out"
  msg = (f"shard_map applied to the function '{_fun_name(f)}' was given an {which} entry "
         f"which is too long to be compatible with the corresponding {kind}put value from "
         f"the function:\n\n{which} is {spec!r} which has length {len(spec)}, but {where} has "
         f"shape {aval.str_short(False)}, which has rank {aval.ndim} (and {aval.ndim} < "
         f"{len(spec)})\n\nEntries in {which} must be of length no greater than the number "
         f"of axes in the corresponding {kind}put value.\n\nEither revise the spec to be "
         f"shorter, or modify '{_fun_name(f)}' so that its {kind}puts have sufficient rank.")
  if aval.ndim == 0:
    msg += (f"\n\nFor scalar values (rank 0), consider using an {which} entry of `P()`, where "
            "`P = jax.sharding.PartitionSpec`.")
    if kind == "out":
      msg += (" In particular, for rank 0 outputs which are not constant over the mesh, add "
              "at least one (singleton) axis to them so that they can be concatenated using "
              "out_specs.")
  return ValueError(msg)


def _divisibility_error(f, sizes, mesh_names, spec, aval, dim, where_arg, desc):
  names = spec._axis_names(dim)
  sz = math.prod(sizes[n] for n in names)
  axis = f"axes {names}" if len(names) > 1 else f"axis '{names[0]}'"
  total = "total " if len(names) > 1 else ""
  name = _fun_name(f)
  return ValueError(
      f"shard_map applied to the function '{name}' was given argument arrays with axis "
      "sizes that are not evenly divisible by the corresponding mesh axis sizes:\n\n"
      f"The mesh given has shape {tuple(sizes[n] for n in mesh_names)} with corresponding "
      f"axis names {mesh_names}.\n\n"
      f"the passed {where_arg} of shape {aval.str_short(False)}{desc} corresponds to "
      f"in_specs of value {spec!r}, which maps array axis {dim} (of size "
      f"{aval.shape[dim]}) to mesh {axis} (of {total}size {sz}), but {sz} does not evenly "
      f"divide {aval.shape[dim]}\n\n"
      "Array arguments' axis sizes must be evenly divisible by the mesh axis or axes "
      "indicated by the corresponding elements of the argument's in_specs entry. Consider "
      "checking that in_specs are correct, and if so consider changing the mesh axis sizes "
      f"or else padding the input and adapting '{name}' appropriately.")


def _vma_error(f, mesh_names, sizes, failures):
  msgs = []
  for spec, varying in failures:
    used = {n for i in range(len(spec)) for n in spec._axis_names(i)}
    unmentioned = [n for n in mesh_names if n not in used]
    if len(unmentioned) > 1:
      need = ",".join(n for n in mesh_names if n in used)
      diff = ",".join(n for n in unmentioned if n in varying)
      got = ",".join(n for n in mesh_names if n in varying)
      msgs.append(f"out_specs is {spec!r} which implies that the corresponding output value "
                  f"is only varying across mesh axes {{{need}}} and not {{{diff}}}, but it "
                  f"was inferred to be possibly varying over {{{got}}}")
    else:
      msgs.append(f"out_specs is {spec!r} which implies that the corresponding output value "
                  f"is replicated across mesh axis '{unmentioned[0]}', but could not infer "
                  "replication over any axes")
  if len(msgs) > 1:
    msgs = ["* " + m for m in msgs]
  return ValueError(
      f"shard_map applied to the function '{_fun_name(f)}' was given out_specs which "
      f"require replication which can't be statically inferred given the mesh:\n\nThe mesh "
      f"given has shape {tuple(sizes[n] for n in mesh_names)} with corresponding axis names "
      f"{mesh_names}.\n\n" + "\n\n".join(msgs) + "\n\nCheck if these output values are "
      "meant to be replicated over those mesh axes. If not, consider revising the "
      "corresponding out_specs entries. If so, consider disabling the check by passing the "
      "check_vma=False argument to `jax.shard_map`.")


def _specs_for(name, specs, tree_value):
  """One PartitionSpec per leaf of `tree_value` from the prefix `specs` (None: P())."""
  try:
    leaves = tree_util.broadcast_prefix(specs, tree_value, is_leaf=lambda x: x is None)
  except ValueError:
    errs = tree_util.prefix_errors(specs, tree_value, is_leaf=lambda x: x is None)
    raise errs[0](f"shard_map {name}") from None
  out = []
  for s in leaves:
    if s is None:
      s = PartitionSpec()
    if not isinstance(s, PartitionSpec):
      raise TypeError(f"shard_map {name} argument must be a pytree of "
                      f"`jax.sharding.PartitionSpec` instances, but it was {s!r}")
    out.append(s)
  return out


def _infer_in_specs(mesh, manual, args):
  """in_specs not given: each argument's spec from its NamedSharding on this mesh (Explicit
  axes; unsharded arguments are replicated)."""
  if any(t is not AxisType.Explicit for n, t in zip(mesh.axis_names, mesh.axis_types)
         if n in manual):
    raise TypeError("shard_map in_specs argument must be a pytree of "
                    "`jax.sharding.PartitionSpec` instances, but it was `None` when "
                    f"axis_names={manual} are of type AxisType.Auto")

  def spec_of(x):
    s = getattr(x, "sharding", None) if isinstance(x, Array) else None
    if isinstance(s, NamedSharding) and s.mesh.axis_names == mesh.axis_names:
      return s.spec
    return PartitionSpec()
  return tree_util.tree_map(spec_of, args)


# ---------------------------------------------------------------------------------------
# The mapped call

def _shard_map_call(f, mesh, in_specs, out_specs, axis_names, check_vma, args):
  if not isinstance(mesh, (Mesh, AbstractMesh)):
    raise TypeError(f"shard_map requires a `jax.sharding.Mesh` or `AbstractMesh` for its "
                    f"mesh argument, but got {type(mesh)}")
  mesh_names = mesh.axis_names
  sizes = dict(zip(mesh_names, mesh.axis_sizes))
  manual = axis_names or frozenset(mesh_names)
  for n in manual:
    if n not in sizes:
      raise ValueError(f"shard_map axis_names {set(manual)} must be a subset of the mesh's "
                       f"axis names {mesh_names}.")
  # The mapped axes: the manual ones, in mesh order (outermost vmap first).
  axes = [n for n in mesh_names if n in manual]

  if isinstance(in_specs, _InferSpecs):
    in_specs = _infer_in_specs(mesh, manual, args)
  if isinstance(in_specs, list):
    in_specs = tuple(in_specs)
  args = tuple(args)
  paths_leaves, in_tree = tree_util.tree_flatten_with_path(args)
  flat = [_lax().asarray(x) for _, x in paths_leaves]
  specs = _specs_for("in_specs", in_specs, args)
  # Split every argument into per-device blocks, mesh axes stacked at the front.
  blocked, used_by = [], []
  for (path, _), x, spec in zip(paths_leaves, flat, specs):
    aval = core.get_aval(x)
    where = f"the passed args{tree_util.keystr(path)}" + _arg_desc(f, len(args), path)
    if len(spec) > aval.ndim:
      raise _rank_error(f, "in_specs", spec, aval, where)
    _check_spec_names(spec, manual, "in_specs")
    for d in range(len(spec)):
      names = spec._axis_names(d)
      if names and aval.shape[d] % math.prod(sizes[n] for n in names):
        raise _divisibility_error(f, sizes, mesh_names, spec, aval, d,
                                  f"args{tree_util.keystr(path)}",
                                  _arg_desc(f, len(args), path))
    xb, used = _split_blocks(x, aval.shape, spec, sizes, axes)
    blocked.append(xb)
    used_by.append(used)

  store = {}
  failures = []

  def innermost(*blocks):
    outs = f(*tree_util.tree_unflatten(in_tree, list(blocks)))
    out_leaves, out_tree = tree_util.tree_flatten(outs)
    store["tree"] = out_tree
    store["specs"] = _specs_for("out_specs", out_specs, outs)
    store["varying"] = [set() for _ in out_leaves]
    for s in store["specs"]:
      _check_spec_names(s, manual, "out_specs")
    return [_lax().asarray(o) for o in out_leaves]

  def run(level, vals):
    if level == len(axes):
      return innermost(*vals)
    name = axes[level]
    in_dims = [0 if name in used else None for used in used_by]
    outs, out_dims = batching.batch_trace_flat(lambda *vs: run(level + 1, list(vs)),
                                               in_dims, sizes[name], name, None, vals)
    res = []
    for i, (o, d) in enumerate(zip(outs, out_dims)):
      spec = store["specs"][i]
      mentioned = any(name in spec._axis_names(k) for k in range(len(spec)))
      if d is not batching.not_mapped:
        store["varying"][i].add(name)
      if mentioned:  # the per-device results stack along a leading axis
        res.append(batching.matchaxis(d, 0, sizes[name], o))
      elif d is batching.not_mapped:
        res.append(o)
      else:  # varies over an axis out_specs says it doesn't: keep device 0's value
        from numjax._src.lax import slicing
        res.append(slicing.index_in_dim(o, 0, d, keepdims=False))
    return res

  outs = run(0, blocked)
  out_specs_flat = store["specs"]
  if check_vma:
    fails = []
    for s, v in zip(out_specs_flat, store["varying"]):
      used = {n for k in range(len(s)) for n in s._axis_names(k)}
      if any(n in v and n not in used for n in axes):
        fails.append((s, v))
    if fails:
      raise _vma_error(f, mesh_names, sizes, fails)
  results = []
  for o, s in zip(outs, out_specs_flat):
    used_axes = [n for n in axes if any(n in s._axis_names(k) for k in range(len(s)))]
    block_aval = core.get_aval(o)
    block_ndim = block_aval.ndim - len(used_axes)
    if len(s) > block_ndim:
      blk = core.ShapedArray(block_aval.shape[len(used_axes):], block_aval.dtype,
                             block_aval.weak_type)
      raise _rank_error(f, "out_specs", s, blk, f"{_fun_name(f)}(*args)")
    r = _merge_blocks(o, s, used_axes, sizes)
    if isinstance(r, Array) and isinstance(mesh, Mesh):
      from numjax._src.sharding_api import _with_sharding
      r = _with_sharding(r, NamedSharding(mesh, s))
    results.append(r)
  return tree_util.tree_unflatten(store["tree"], results)


def _split_blocks(x, shape, spec, sizes, axes):
  """x with each dimension d split over its mesh axes (n1, .., nk) reshaped to
  (size n1, .., size nk, block) and those mesh dims moved to the front in mesh order.
  Returns (the stacked blocks, the set of mesh axes used)."""
  lax = _lax()
  new_shape, mesh_pos, rest = [], {}, []
  for d, n in enumerate(shape):
    names = spec._axis_names(d)
    for nm in names:
      mesh_pos[nm] = len(new_shape)
      new_shape.append(sizes[nm])
    rest.append(len(new_shape))
    new_shape.append(n // math.prod(sizes[nm] for nm in names) if names else n)
  used = [n for n in axes if n in mesh_pos]
  if not used:
    return x, set()
  x = lax.reshape(x, tuple(new_shape))
  perm = tuple(mesh_pos[n] for n in used) + tuple(rest)
  if perm != tuple(range(len(perm))):
    x = lax.transpose(x, perm)
  return x, set(used)


def _merge_blocks(o, spec, used_axes, sizes):
  """The inverse of _split_blocks for one output: leading mesh dims (mesh order) merged
  into the block dimensions out_specs assigns them to (spec order: major to minor)."""
  if not used_axes:
    return o
  lax = _lax()
  nlead = len(used_axes)
  lead = {n: i for i, n in enumerate(used_axes)}
  shape = core.get_aval(o).shape
  block = shape[nlead:]
  perm, final = [], []
  for d, n in enumerate(block):
    names = spec._axis_names(d)
    perm.extend(lead[nm] for nm in names)
    perm.append(nlead + d)
    final.append(n * math.prod(sizes[nm] for nm in names))
  if tuple(perm) != tuple(range(len(perm))):
    o = lax.transpose(o, tuple(perm))
  return lax.reshape(o, tuple(final))


def smap(f=None, /, *, in_axes=Infer, out_axes, axis_name):
  """shard_map over the one context-mesh axis `axis_name`: argument dimension `in_axes`
  (an int or None per argument, as vmap's) is split over it, results are concatenated
  along `out_axes`."""
  if f is None:
    return lambda g: smap(g, in_axes=in_axes, out_axes=out_axes, axis_name=axis_name)

  def spec(ax):
    return PartitionSpec() if ax is None else PartitionSpec(*([None] * ax), axis_name)

  def to_specs(axes):
    return tree_util.tree_map(spec, axes, is_leaf=lambda a: a is None)

  @functools.wraps(f)
  def wrapped(*args):
    i_axes = in_axes
    if isinstance(i_axes, (int, type(None))):
      i_axes = (i_axes,) * len(args)
    in_specs = in_axes if isinstance(in_axes, _InferSpecs) else to_specs(tuple(i_axes))
    return shard_map(f, mesh=None, in_specs=in_specs, out_specs=to_specs(out_axes),
                     axis_names={axis_name})(*args)
  return wrapped
