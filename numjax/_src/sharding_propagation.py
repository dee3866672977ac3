"""Sharding propagation: the layout reported by results computed from placed arrays.

numjax computes every array in one NumPy buffer, so a sharding is metadata: the values
never depend on it. What this module decides is the `.sharding` a result reports, so that
`f(y)` and `jit(f)(y)` on a `NamedSharding`-placed `y` say what JAX says (a result still
split over the same mesh; a reduction over a split axis replicated; ...).

When it runs. While no committed array exists, nothing here runs: the base trace is the
plain `EvalTrace` and eager ops and cached jit calls take their usual fast paths. The first
time an array is committed (`device_put` to a device or sharding, pmap/shard_map results,
the result of a jitted function with a staged `with_sharding_constraint`), the base trace
becomes
`ShardingEvalTrace`, which runs each primitive eagerly and then gives its outputs a layout;
`jit` calls made then run their executable and lay out the outputs by propagating the
layouts through the jaxpr. When the last committed array dies, the plain trace is back.

Placement. Uncommitted operands follow the committed ones. Committed operands must share
one set of devices (else JAX's "Received incompatible devices for jitted computation"
ValueError). All committed operands on one device: the results are committed to it.
Operands on a mesh: the results are laid out over that mesh (the first NamedSharding's)
by the rules below. A result that depends on no committed operand stays uncommitted.

Rules (per primitive, on per-dimension tuples of mesh axis names):
- elementwise, and any primitive not named below whose result has an operand's shape
  (cumsum, sort, select_n, scatter, dynamic_update_slice, ...): the operands' specs of
  that shape (size-1 dimensions broadcasting, unsplit) merged dimension by dimension,
  the first operand that splits a dimension winning; a mesh axis already used by an
  earlier dimension is dropped;
- reductions (reduce_*, argmax/argmin): the reduced dimensions are dropped;
- transpose: dimensions permuted; broadcast_in_dim: operand dimensions move to their
  broadcast positions (new and size-1 broadcast dimensions are not split); squeeze: dropped;
- reshape: within each group of dimensions whose sizes multiply to the same product, the
  split of the group's major-most (size > 1) input dimension moves to its major-most
  output dimension when that size is divisible by the split, others become unsplit;
- dot_general: batch dimensions and each operand's free dimensions keep their split
  (lhs first); contracted dimensions are dropped (the sum is replicated over them);
- slice / dynamic_slice / pad / concatenate / split / top_k: dimensions whose size is
  unchanged keep their split, the others are not split;
- jit, custom_jvp/vjp calls, remat: propagated through the inner jaxpr; while / scan: the
  loop carry keeps its layout when the body preserves it (else replicated); cond: the
  branches' common layout; sharding_constraint / device_put: the requested sharding;
- anything else: replicated over the mesh.
Finally a dimension whose size its split does not divide becomes unsplit.

Reporting (as JAX): on a mesh whose axes are all Explicit the spec has one entry per
dimension (`P('x', None)`); otherwise (Auto axes: XLA's choice converted back) trailing
unsplit entries are dropped (`P('x')`), except that a result laid out exactly as an
input of the same rank reports that input's sharding.

Not modelled: JAX's explicit-mode ShardingTypeErrors for ambiguous layouts (numjax applies
the rules above instead), unreduced/reduced specs, and lax.full_like-style creation ops
taking the sharding of their template (results depend on no committed operand, so they
stay uncommitted).
"""
from __future__ import annotations

import math
import weakref

from numjax._src import core
from numjax._src.array import Array as _Array
from numjax._src.sharding import NamedSharding, SingleDeviceSharding, Sharding

__all__ = ["ShardingEvalTrace", "note_committed", "has_placement", "jit_outputs",
           "call_with_shardings", "propagate_jaxpr"]


# ---------------------------------------------------------------------------------------
# Switching the base trace on and off

_live: dict = {}     # id(weakref) -> weakref, one per committed Array alive (Arrays are
                     # unhashable, so no WeakSet)


def _dead(ref):
  _live.pop(id(ref), None)


def _track(arr):
  r = weakref.ref(arr, _dead)
  _live[id(r)] = r


def _set_base(on):
  base = core.trace_stack[0]
  if on and base.trace_type is core.EvalTrace:
    core.trace_stack[0] = core.MainTrace(0, ShardingEvalTrace, None)
  elif not on and base.trace_type is ShardingEvalTrace:
    core.trace_stack[0] = core.MainTrace(0, core.EvalTrace, None)
  else:
    return
  core._update_eager_flag()


def note_committed(arr):
  """Record a committed Array (called wherever `_sharding` is set): propagation is on
  while any is alive."""
  _track(arr)
  if core.trace_stack[0].trace_type is core.EvalTrace:
    _set_base(True)


def _maybe_off():
  if not _live:
    _set_base(False)


def base_only():
  """True when no transformation is active (only the base trace)."""
  return len(core.trace_stack) == 1 and core.dynamic_trace is None


# ---------------------------------------------------------------------------------------
# Layout context: where the committed operands live

class _Ctx:
  """The placement of one computation: `single` (a SingleDeviceSharding all committed
  operands share) or `mesh` (the mesh results are laid out over)."""
  __slots__ = ("single", "mesh", "sizes", "explicit", "inputs")

  def __init__(self, single=None, mesh=None, inputs=()):
    self.single, self.mesh, self.inputs = single, mesh, inputs
    if mesh is not None:
      self.sizes = dict(zip(mesh.axis_names, mesh.axis_sizes))
      self.explicit = bool(mesh.axis_names) and mesh.are_all_axes_explicit

  def dims_of(self, s, ndim):
    """An operand's per-dimension axis names (all unsplit unless on this mesh)."""
    if self.mesh is not None and isinstance(s, NamedSharding) and s.mesh == self.mesh:
      return tuple(s.spec._axis_names(i) for i in range(ndim))
    if self.mesh is not None and isinstance(s, NamedSharding) and \
        s.mesh.axis_names == self.mesh.axis_names and \
        s.mesh.axis_sizes == self.mesh.axis_sizes:  # the same mesh with other axis types
      return tuple(s.spec._axis_names(i) for i in range(ndim))
    return ((),) * ndim

  def render(self, dims, shape):
    """The Sharding reported by a result of `shape` laid out as `dims`."""
    if self.single is not None:
      return self.single
    dims = _fit(dims, shape, self.sizes)
    if not self.explicit:
      for s, nd in self.inputs:  # as JAX: an input of this rank laid out the same way
        if nd == len(shape) and isinstance(s, NamedSharding) and s.mesh == self.mesh and \
            len(s.spec) <= nd and tuple(s.spec._axis_names(i) for i in range(nd)) == dims:
          return s  # reports its sharding
      n = len(dims)
      while n and not dims[n - 1]:
        n -= 1
      dims = dims[:n]
    return NamedSharding(self.mesh, _pspec(dims))


def _pspec(dims):
  from numjax._src.sharding import PartitionSpec
  return PartitionSpec(*[None if not d else d[0] if len(d) == 1 else d for d in dims])


def _fit(dims, shape, sizes):
  """Drop splits that do not divide their dimension or reuse a mesh axis."""
  out, used = [], set()
  for d, n in zip(dims, shape):
    if d and (any(a in used or a not in sizes for a in d) or
              n % math.prod(sizes[a] for a in d)):
      d = ()
    used.update(d)
    out.append(d)
  return tuple(out)


def _ids(s):
  return sorted(d.id for d in s._device_list)


def _incompatible(first, other, what="argument"):
  (n1, s1), (n2, s2) = first, other
  second = (f"{what} {n2}" if what == "argument" else "explicit output sharding") + \
      f" and with device ids {_ids(s2)} on platform CPU"
  raise ValueError(f"Received incompatible devices for jitted computation. Got argument "
                   f"{n1} and with device ids {_ids(s1)} on platform CPU and {second}. Place "
                   "the operands on the same devices (jax.device_put) first.")


def make_context(shardings, names, ndims):
  """The _Ctx of operands with these committed shardings (None: uncommitted) and ranks,
  or None when none is committed. `names(i)` describes operand i for error messages."""
  first = None
  devs = None
  mesh = None
  for i, s in enumerate(shardings):
    if s is None:
      continue
    d = s._device_list
    if first is None:
      first, devs = i, set(d)
    elif set(d) != devs:
      _incompatible((names(first), shardings[first]), (names(i), s))
    if mesh is None and isinstance(s, NamedSharding) and len(d) > 1:
      mesh = s.mesh
  if first is None:
    return None
  if mesh is None:
    s = shardings[first]
    if isinstance(s, NamedSharding):  # a one-device mesh
      mesh = s.mesh
    else:
      return _Ctx(single=s)
  return _Ctx(mesh=mesh, inputs=[(x, n) for x, n in zip(shardings, ndims)
                                 if x is not None])


# ---------------------------------------------------------------------------------------
# Rules: rule(in_dims, in_shapes, out_shapes, params) -> one dims tuple per output

_rules: dict = {}


def _rule(*names):
  def reg(fn):
    for n in names:
      _rules[n] = fn
    return fn
  return reg


def _replicated(out_shapes):
  return [((),) * len(s) for s in out_shapes]


def _merge(cands, ndim):
  out, used = [], set()
  for i in range(ndim):
    e = ()
    for d in cands:
      if d[i] and not any(a in used for a in d[i]):
        e = d[i]
        break
    used.update(e)
    out.append(e)
  return tuple(out)


def _generic(in_dims, in_shapes, out_shapes, params):
  res = []
  for shp in out_shapes:
    # operands of the result's shape (size-1 dimensions broadcasting, unsplit)
    cands = [tuple(e if a == b else () for e, a, b in zip(d, s, shp))
             for d, s in zip(in_dims, in_shapes)
             if len(s) == len(shp) and s and all(a == b or a == 1 for a, b in zip(s, shp))]
    res.append(_merge(cands, len(shp)) if cands else ((),) * len(shp))
  return res


@_rule("reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "reduce_and", "reduce_or",
       "reduce_xor", "argmax", "argmin")
def _reduce(in_dims, in_shapes, out_shapes, params):
  axes = set(params.get("axes", ()))
  d = tuple(e for i, e in enumerate(in_dims[0]) if i not in axes)
  return [d if len(d) == len(s) else ((),) * len(s) for s in out_shapes]


@_rule("transpose")
def _transpose(in_dims, in_shapes, out_shapes, params):
  return [tuple(in_dims[0][p] for p in params["permutation"])]


@_rule("broadcast_in_dim")
def _broadcast_in_dim(in_dims, in_shapes, out_shapes, params):
  out = [()] * len(out_shapes[0])
  for i, j in enumerate(params["broadcast_dimensions"]):
    if in_shapes[0][i] == out_shapes[0][j]:
      out[j] = in_dims[0][i]
  return [tuple(out)] + _replicated(out_shapes[1:])


@_rule("squeeze")
def _squeeze(in_dims, in_shapes, out_shapes, params):
  nd = len(in_shapes[0])
  drop = {d % nd for d in params["dimensions"]}
  return [tuple(e for i, e in enumerate(in_dims[0]) if i not in drop)]


@_rule("expand_dims")
def _expand_dims(in_dims, in_shapes, out_shapes, params):
  return _reshape(in_dims, in_shapes, out_shapes, params)


@_rule("reshape")
def _reshape(in_dims, in_shapes, out_shapes, params):
  src, dst, d = in_shapes[0], out_shapes[0], in_dims[0]
  if params.get("dimensions") is not None:
    return _replicated(out_shapes)
  out = [()] * len(dst)
  i = j = 0
  while i < len(src) and j < len(dst):
    i0, j0 = i, j
    ps, pd = src[i], dst[j]
    i += 1
    j += 1
    while ps != pd:
      if ps < pd and i < len(src):
        ps *= src[i]
        i += 1
      elif j < len(dst):
        pd *= dst[j]
        j += 1
      else:
        break
    major_in = next((k for k in range(i0, i) if src[k] != 1), None)
    major_out = next((k for k in range(j0, j) if dst[k] != 1), None)
    if major_in is not None and major_out is not None:
      # only the major-most input dimension's split carries over
      out[major_out] = d[major_in]
  return [tuple(out)]


@_rule("dot_general")
def _dot_general(in_dims, in_shapes, out_shapes, params):
  (lc, rc), (lb, rb) = params["dimension_numbers"]
  ld, rd = in_dims[0], in_dims[1]
  nl, nr = len(in_shapes[0]), len(in_shapes[1])
  out = [ld[a] or rd[b] for a, b in zip(lb, rb)]
  out += [ld[i] for i in range(nl) if i not in lc and i not in lb]
  out += [rd[i] for i in range(nr) if i not in rc and i not in rb]
  return [_merge([tuple(out)], len(out))]


def _keep_same_size(in_dims, in_shapes, out_shapes, params):
  d, s = in_dims[0], in_shapes[0]
  return [tuple(d[i] if i < len(s) and s[i] == n else () for i, n in enumerate(o))
          if len(o) == len(s) else ((),) * len(o) for o in out_shapes]


for _n in ("slice", "dynamic_slice", "pad", "split", "top_k", "rng_uniform"):
  _rules[_n] = _keep_same_size


@_rule("concatenate")
def _concatenate(in_dims, in_shapes, out_shapes, params):
  k = params["dimension"]
  merged = list(_merge(in_dims, len(out_shapes[0])))
  if any(d[k] != in_dims[0][k] for d in in_dims):
    merged[k] = ()
  return [tuple(merged)]


@_rule("iota", "rng_bit_generator", "random_bits", "random_seed", "random_wrap",
       "random_unwrap", "gather", "conv_general_dilated", "fft")
def _unknown(in_dims, in_shapes, out_shapes, params):
  return _replicated(out_shapes)


@_rule("sharding_constraint")
def _constraint(in_dims, in_shapes, out_shapes, params):
  s = params.get("sharding")
  if isinstance(s, NamedSharding):
    return [tuple(s.spec._axis_names(i) for i in range(len(out_shapes[0])))]
  return _replicated(out_shapes)


@_rule("device_put")
def _device_put(in_dims, in_shapes, out_shapes, params):
  res = []
  for d, shp, s in zip(in_dims, out_shapes, params.get("devices", ())):
    if isinstance(s, NamedSharding):
      res.append(tuple(s.spec._axis_names(i) for i in range(len(shp))))
    else:
      res.append(d)
  return res


# Primitives with inner jaxprs: rule(in_dims (None: uncommitted), params) -> out dims
_call_rules: dict = {}


def _inner(j):
  return j if isinstance(j, core.ClosedJaxpr) else core.ClosedJaxpr(j, ())


def _call_rule(key):
  return lambda in_dims, params: propagate_jaxpr(_inner(params[key]), in_dims)


for _n, _k in (("jit", "jaxpr"), ("custom_jvp_call", "call_jaxpr"),
               ("custom_vjp_call", "call_jaxpr"), ("remat2", "jaxpr"),
               ("custom_vmap_call", "call_jaxpr"), ("checkpoint", "jaxpr")):
  _call_rules[_n] = _call_rule(_k)


def _meet(a, b):
  """Layouts two paths agree on (None: uncommitted)."""
  if a is None:
    return b
  if b is None:
    return a
  return tuple(x if x == y else () for x, y in zip(a, b))


def _loop_fixpoint(body, consts, carry, extra, n_carry):
  """Carry layouts a loop body preserves: start from the initial ones; where the body's
  output differs, the carry becomes unsplit. Returns (carry, per-iteration outputs)."""
  carry = list(carry)
  for _ in range(4):
    outs = propagate_jaxpr(body, list(consts) + carry + list(extra))
    new = [_meet(c, o) for c, o in zip(carry, outs[:n_carry])]
    if new == carry:
      return carry, outs[n_carry:]
    carry = new
  return [None if c is None else ((),) * len(c) for c in carry], outs[n_carry:]


def _while_rule(in_dims, params):
  cn, bn = params["cond_nconsts"], params["body_nconsts"]
  body = _inner(params["body_jaxpr"])
  carry, _ = _loop_fixpoint(body, in_dims[cn:cn + bn], in_dims[cn + bn:], (),
                            len(in_dims) - cn - bn)
  return list(carry)


def _scan_rule(in_dims, params):
  nc, nk = params["num_consts"], params["num_carry"]
  body = _inner(params["jaxpr"])
  xs = [None if d is None else d[1:] for d in in_dims[nc + nk:]]
  carry, ys = _loop_fixpoint(body, in_dims[:nc], in_dims[nc:nc + nk], xs, nk)
  return list(carry) + [None if y is None else ((),) + tuple(y) for y in ys]


def _cond_rule(in_dims, params):
  outs = None
  for br in params["branches"]:
    o = propagate_jaxpr(_inner(br), in_dims[1:])
    if in_dims[0] is not None:
      o = [((),) * len(v.aval.shape) if x is None else x
           for x, v in zip(o, _inner(br).jaxpr.outvars)]
    outs = o if outs is None else [_meet(a, b) for a, b in zip(outs, o)]
  return outs


_call_rules["while"] = _while_rule
_call_rules["scan"] = _scan_rule
_call_rules["cond"] = _cond_rule


_PLACEMENTS = ("sharding_constraint", "device_put")


def propagate_eqn(name, in_dims, in_shapes, out_shapes, params):
  """Output layouts of one primitive application (None where no operand is committed)."""
  call = _call_rules.get(name)
  if call is not None:
    try:
      return list(call(list(in_dims), params))
    except Exception:  # an unexpected inner form: replicated
      return _replicated(out_shapes)
  if name not in _PLACEMENTS and all(d is None for d in in_dims):
    return [None] * len(out_shapes)
  full = [((),) * len(s) if d is None else d for d, s in zip(in_dims, in_shapes)]
  try:
    return list(_rules.get(name, _generic)(full, in_shapes, out_shapes, params))
  except Exception:  # a rule meeting a form it does not know: replicated
    return _replicated(out_shapes)


_jaxpr_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def propagate_jaxpr(closed, in_dims):
  """Output layouts of a closed jaxpr given its inputs' (None: uncommitted)."""
  key = tuple(in_dims)
  try:
    per = _jaxpr_cache.get(closed)
  except TypeError:
    per = None
  if per is not None and key in per:
    return per[key]
  jaxpr = closed.jaxpr
  env = {}
  for v, d in zip(jaxpr.invars, in_dims):
    env[v] = d
  read = lambda v: env.get(v) if isinstance(v, core.Var) else None
  for eqn in jaxpr.eqns:
    ins = [read(v) for v in eqn.invars]
    name = eqn.primitive.name
    if name not in _call_rules and name not in _PLACEMENTS and \
        all(d is None for d in ins):
      continue
    outs = propagate_eqn(name, ins, [tuple(v.aval.shape) for v in eqn.invars],
                         [tuple(getattr(v.aval, "shape", ())) for v in eqn.outvars],
                         eqn.params)
    for v, d in zip(eqn.outvars, outs):
      env[v] = d
  res = [read(v) for v in jaxpr.outvars]
  try:
    _jaxpr_cache.setdefault(closed, {})[key] = res
  except TypeError:
    pass
  return res


# ---------------------------------------------------------------------------------------
# The eager trace

def _commit(out, s, args):
  """`out` reporting sharding `s` (a new Array object if `out` is one of the inputs);
  propagation is on while it lives."""
  if any(out is a for a in args):
    new = object.__new__(_Array)
    new._buf, new.weak_type = out._buf, out.weak_type
    out = new
  out._sharding = s
  note_committed(out)
  return out


_ARG_NAMES = ("x", "y")


class ShardingEvalTrace(core.EvalTrace):
  """The base trace while committed arrays exist: eager evaluation, then the results'
  layouts from the operands' (module docstring)."""
  __slots__ = ()

  def process_primitive(self, primitive, tracers, params):
    # The primitive's own bind on the eager fast path: its eager checks (JAX's errors for
    # invalid calls) run as usual; inner binds run unlaid-out (the rules cover them).
    core._eager_only = True
    try:
      out = primitive.bind(*tracers, **params)
    finally:
      core._update_eager_flag()
    shardings = tuple([getattr(a, "_sharding", None) for a in tracers])
    for s in shardings:
      if s is not None:
        break
    else:
      _maybe_off()
      return out
    outs = out if primitive.multiple_results else [out]
    need = [type(o) is _Array and not hasattr(o, "_sharding") for o in outs]
    if not any(need):
      return out  # laid out already (an inner evaluation committed them), or identities
    in_shapes = tuple([a.shape if type(a) is _Array else tuple(core.get_aval(a).shape)
                       for a in tracers])
    try:  # the layout depends on (primitive, operand shardings and shapes, params) only
      key = (primitive, shardings, in_shapes, tuple(params.items()))
      layout = _layouts.get(key)
    except TypeError:  # an unhashable parameter
      key = layout = None
    if layout is None:
      layout = _eager_layout(primitive, tracers, shardings, in_shapes, outs, params)
      if key is not None:
        if len(_layouts) >= 4096:
          _layouts.clear()
        _layouts[key] = layout
    res = [_commit(o, s, tracers) if n and s is not None else o
           for o, s, n in zip(outs, layout, need)]
    return res if primitive.multiple_results else res[0]


_layouts: dict = {}   # (primitive, shardings, shapes, params) -> output shardings


def _eager_layout(primitive, tracers, shardings, in_shapes, outs, params):
  """The Sharding (or None: uncommitted) of each output of one eager primitive."""
  name = primitive.name
  nargs = len(tracers)
  ctx = make_context(shardings, lambda i: (
      f"{_ARG_NAMES[i] if nargs <= 2 else f'args[{i}]'} of {name} with shape "
      f"{core.get_aval(tracers[i]).str_short(False)}"), [len(sh) for sh in in_shapes])
  in_dims = [None if s is None else ctx.dims_of(s, len(sh))
             for s, sh in zip(shardings, in_shapes)]
  out_shapes = [tuple(getattr(o, "shape", ())) for o in outs]
  dims = propagate_eqn(name, in_dims, in_shapes, out_shapes, params)
  return [None if d is None else ctx.render(d, shp) for d, shp in zip(dims, out_shapes)]


# ---------------------------------------------------------------------------------------
# jit

def _fun_label(wrapped):
  fun = wrapped._fun
  return getattr(fun, "__qualname__", None) or wrapped._name


def _jit_arg_namer(wrapped, args, kwargs, closed, flat):
  def name(i):
    try:
      from numjax._src import jit as _jit
      dyn, dkw, statics, static_pos = wrapped._split(args, kwargs)
      names = _jit._flat_arg_names(wrapped._sig, args, kwargs, static_pos, None, statics)
      n = names[i]
    except Exception:
      n = f"args[{i}]"
    aval = closed.jaxpr.invars[i].aval
    return f"{n} of {_fun_label(wrapped)} with shape {aval.str_short(False)}"
  return name


_jit_layouts: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def jit_outputs(wrapped, closed, flat, outs, args, kwargs):
  """Lay out the results of an eagerly run jit (propagation is on)."""
  shardings = tuple([getattr(x, "_sharding", None) for x in flat])
  if all(s is None for s in shardings) and not has_placement(closed):
    return outs
  try:
    per = _jit_layouts.get(closed)
    if per is None:
      per = _jit_layouts[closed] = {}
    layout = per.get(shardings)
  except TypeError:
    per = layout = None
  if layout is None:
    namer = _jit_arg_namer(wrapped, args, kwargs, closed, flat)
    layout = _jit_layout(closed, shardings, namer)
    if per is not None:
      if len(per) >= 256:
        per.clear()
      per[shardings] = layout
  return [_commit(o, s, flat) if s is not None and type(o) is _Array and
          getattr(o, "_sharding", None) != s else o for o, s in zip(outs, layout)]


def _jit_layout(closed, shardings, namer):
  """The Sharding (or None: uncommitted) of each output of a jaxpr run eagerly."""
  invars = closed.jaxpr.invars
  ctx = make_context(shardings, namer, [len(v.aval.shape) for v in invars])
  in_dims = [None if s is None else ctx.dims_of(s, len(v.aval.shape))
             for s, v in zip(shardings, invars)]
  dims = propagate_jaxpr(closed, in_dims)
  if ctx is None and any(d is not None for d in dims):
    ctx = _constraint_ctx(closed)  # uncommitted inputs, a staged constraint: its mesh
  if ctx is None:
    return [None] * len(dims)
  return [None if d is None else ctx.render(d, tuple(v.aval.shape))
          for d, v in zip(dims, closed.jaxpr.outvars)]


_placements: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def has_placement(closed):
  """Whether a sharding constraint / device_put to a sharding is staged in `closed` (its
  jit then lays results out even when no input is committed)."""
  try:
    r = _placements.get(closed)
    if r is None:
      r = _placements[closed] = _constraint_ctx(closed) is not None
    return r
  except TypeError:
    return _constraint_ctx(closed) is not None


def _constraint_ctx(closed):
  """The mesh of the first sharding constraint / device_put staged in `closed`."""
  stack = [closed.jaxpr]
  while stack:
    j = stack.pop()
    for eqn in j.eqns:
      for s in ([eqn.params.get("sharding")] + list(eqn.params.get("devices", ()) or ())
                if eqn.primitive.name in ("sharding_constraint", "device_put") else []):
        if isinstance(s, NamedSharding):
          return _Ctx(mesh=s.mesh)
        if isinstance(s, SingleDeviceSharding):
          return _Ctx(single=s)
      for p in eqn.params.values():
        for q in (p if isinstance(p, tuple) else (p,)):
          if isinstance(q, core.ClosedJaxpr):
            stack.append(q.jaxpr)
          elif isinstance(q, core.Jaxpr):
            stack.append(q)
  return None


# ---------------------------------------------------------------------------------------
# jit(..., in_shardings=, out_shardings=)

def _resolve(spec, what):
  from numjax._src.sharding import PartitionSpec, get_mesh
  if spec is None or isinstance(spec, Sharding):
    return spec
  if isinstance(spec, PartitionSpec):
    mesh = get_mesh()
    if mesh.empty:
      raise RuntimeError(
          f"jit requires a non-empty mesh in context if you are passing `PartitionSpec`s "
          f"to {what}. You can define a context mesh via `jax.set_mesh(mesh)`. "
          f"Alternatively, provide `Sharding`s to {what} and then the mesh context manager "
          "is not required.")
    return NamedSharding(mesh, spec)
  raise ValueError(f"jit {what} leaves must be a `jax.sharding.Sharding`, a PartitionSpec "
                   f"or None; got {spec!r}.")


def _per_leaf(specs, tree_value, what, top_name):
  from numjax._src import tree_util
  from numjax._src.sharding import PartitionSpec
  from numjax._src.sharding_api import _broadcast_prefix
  if isinstance(specs, (Sharding, PartitionSpec)) or specs is None:
    n = len(tree_util.tree_leaves(tree_value))
    return [_resolve(specs, what)] * n
  if what == "in_shardings" and isinstance(specs, (tuple, list)) and \
      len(specs) != len(tree_value):
    raise ValueError(
        "pjit in_shardings specification must be a tree prefix of the positional arguments "
        "tuple. In particular, pjit in_shardings must either be a Sharding, a "
        "PartitionSpec, or a tuple of length equal to the number of positional arguments. "
        f"But pjit in_shardings is the wrong length: got a tuple or list of length "
        f"{len(specs)} for an args tuple of length {len(tree_value)}.")
  if isinstance(specs, list):
    specs = tuple(specs)
  return [_resolve(s, what) for s in _broadcast_prefix(top_name, specs, tree_value)]


def _check_annotation(s, aval, kind, path):
  if not isinstance(s, NamedSharding):
    return
  if len(s.spec) > len(aval.shape):
    extra = " For scalars the PartitionSpec should be P()" if not aval.shape else ""
    raise ValueError(f"One of pjit {kind} with pytree key path {path} is incompatible with "
                     f"its sharding annotation {s}: Sharding {s} is only valid for values of "
                     f"rank at least {len(s.spec)}, but was applied to a value of rank "
                     f"{len(aval.shape)}.{extra}")
  s.shard_shape(aval.shape)  # IndivisibleError


def call_with_shardings(wrapped, args, kwargs):
  """Call a jit-wrapped function given `in_shardings` / `out_shardings`: arguments are
  placed (committed ones must already be laid out so), results reported as asked."""
  from numjax._src import tree_util
  from numjax._src.array import Array
  from numjax._src.core import Tracer
  from numjax._src.sharding_api import _to_array, _with_sharding
  in_s, out_s = wrapped._shardings
  if in_s is not None:
    if kwargs:
      raise ValueError("pjit does not support kwargs when in_shardings is specified.")
    pos = wrapped._static_positions(len(args))
    dyn_idx = [i for i in range(len(args)) if i not in pos]
    dyn = tuple(args[i] for i in dyn_idx)
    leaves_p, tree = tree_util.tree_flatten_with_path(dyn)
    targets = _per_leaf(in_s, dyn, "in_shardings", "pjit in_shardings")
    names = [p for p in _arg_paths(wrapped, dyn_idx, leaves_p)]
    new = []
    for (path, x), s, nm in zip(leaves_p, targets, names):
      if s is None:
        new.append(x)
        continue
      aval = core.get_aval(x) if isinstance(x, (Array, Tracer)) else \
          core.get_aval(_to_array(x))
      _check_annotation(s, aval, "arguments", nm)
      if isinstance(x, Tracer):
        new.append(x)
        continue
      arr = _to_array(x)
      cur = getattr(arr, "_sharding", None)
      if cur is not None and not cur.is_equivalent_to(s, len(aval.shape)):
        raise ValueError(f"Sharding passed to jit does not match the sharding on the "
                         f"respective arg. Got jit sharding: {s},\narg sharding: {cur} for "
                         f"arg type: {aval.str_short(False)}. Place the argument with "
                         "jax.device_put(x, sharding) first, or drop its in_shardings entry.")
      new.append(arr if cur is not None else _with_sharding(arr, s))
    dyn_new = tree_util.tree_unflatten(tree_util.tree_structure(dyn), new)
    it = iter(dyn_new)
    args = tuple(next(it) if i not in pos else a for i, a in enumerate(args))
  outs = wrapped._call(args, kwargs)
  if out_s is None:
    return outs
  leaves_p, _ = tree_util.tree_flatten_with_path(outs)
  targets = _per_leaf(out_s, outs, "out_shardings", "pjit out_shardings")
  res = []
  for (path, o), s in zip(leaves_p, targets):
    if s is not None:
      _check_annotation(s, core.get_aval(o), "outputs", "result" + tree_util.keystr(path))
      if type(o) is Array:
        cur = getattr(o, "_sharding", None)
        if cur is not None and set(cur._device_list) != set(s._device_list) and \
            len(cur._device_list) > 1:
          raise ValueError(
              f"Received incompatible devices for jitted computation. Got arguments with "
              f"device ids {_ids(cur)} on platform CPU and explicit output sharding with "
              f"device ids {_ids(s)} on platform CPU. Make out_shardings use the "
              "arguments' devices.")
        o = _with_sharding(o, s)
    res.append(o)
  return tree_util.tree_unflatten(tree_util.tree_structure(outs), res)


def _arg_paths(wrapped, dyn_idx, leaves_p):
  from numjax._src import tree_util
  try:
    params = list(wrapped._sig.parameters)
  except Exception:
    params = []
  out = []
  for path, _ in leaves_p:
    k = path[0].idx if path and hasattr(path[0], "idx") else 0
    i = dyn_idx[k] if k < len(dyn_idx) else k
    base = params[i] if i < len(params) else f"args[{i}]"
    out.append(base + tree_util.keystr(tuple(path[1:])))
  return out

