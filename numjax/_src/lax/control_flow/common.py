"""Shared machinery of the control-flow primitives.

- Tracing user functions into closed jaxprs whose closed-over values (constants or tracers
  of outer transformations) become explicit leading operands.
- JAX's type checks and error messages for carries and branches.
- Jaxpr-to-jaxpr transformations used by the rules: jvp, batching (with chosen batch axes),
  transposition, known/unknown splitting, reordering of binders.
- The eager path: run `impl` on buffers and wrap outputs with their abstract weak types.
"""
from __future__ import annotations

import inspect

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src import tree_util
from numjax._src.core import ClosedJaxpr, Jaxpr
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters import partial_eval as pe
from numjax._src.interpreters.ad import Zero


# ---------------------------------------------------------------------------------------
# Tracing user functions

def flatten_fun(fun, in_tree, out_tree_box):
  """fun over pytrees -> function over flat lists; records the output treedef."""
  def flat(*args):
    out = fun(*tree_util.tree_unflatten(in_tree, args))
    leaves, tree = tree_util.tree_flatten(out)
    out_tree_box.append(tree)
    return leaves
  return flat


def trace_jaxpr(flat_fun, in_avals):
  """Stage `flat_fun`; returns (ClosedJaxpr over [*consts, *args] with no consts, consts).

  The closed-over values (outer tracers or constants) become leading operands, so a
  primitive's sub-jaxpr never captures a tracer."""
  closed = pe.trace_to_jaxpr(flat_fun, in_avals)
  return lift_consts(closed)


def lift_consts(closed):
  j = closed.jaxpr
  if not j.constvars:
    return closed, []
  lifted = Jaxpr([], list(j.constvars) + list(j.invars), j.outvars, j.eqns, j.effects,
                 j.debug_info)
  return ClosedJaxpr(lifted, []), list(closed.consts)


def trace_user_fun(fun, in_tree, in_avals):
  """Trace a user function of pytrees; returns (closed, consts, out_tree, out_avals)."""
  box = []
  closed, consts = trace_jaxpr(flatten_fun(fun, in_tree, box), in_avals)
  return closed, consts, box[0], closed.out_avals


def to_array(x):
  from numjax._src.lax.lax import asarray
  return asarray(x)


def aval_of(x):
  return core.get_aval(x)


# ---------------------------------------------------------------------------------------
# Errors, in JAX's words

def _capitalize(s):
  return s[0].upper() + s[1:] if s else s


def _is_leaf(x):
  leaves, tree = tree_util.tree_flatten(x)
  return tree_util.treedef_is_leaf(tree) and len(leaves) == 1 and leaves[0] is x


def _tree_diffs(a, b, leaf_desc, path=()):
  """Where two pytrees (of avals) differ in structure: [(path, thing1, thing2, why)]."""
  if tree_util.tree_structure(a) == tree_util.tree_structure(b):
    return []
  a_leaf, b_leaf = _is_leaf(a), _is_leaf(b)
  if a_leaf or b_leaf or type(a) is not type(b):
    return [(path, leaf_desc(a) if a_leaf else str(type(a)),
             leaf_desc(b) if b_leaf else str(type(b)), "so their Python types differ")]
  if isinstance(a, (tuple, list)):
    if len(a) != len(b):
      return [(path, f"{type(a).__name__} of length {len(a)}",
               f"{type(b).__name__} of length {len(b)}", "so the lengths do not match")]
    out = []
    for i, (x, y) in enumerate(zip(a, b)):
      out += _tree_diffs(x, y, leaf_desc, path + (tree_util.SequenceKey(i),))
    return out
  if isinstance(a, dict):
    if set(a) != set(b):
      return [(path, f"dict with keys {sorted(a, key=str)}",
               f"dict with keys {sorted(b, key=str)}", "so the dictionary keys do not match")]
    out = []
    for k in a:
      out += _tree_diffs(a[k], b[k], leaf_desc, path + (tree_util.DictKey(k),))
    return out
  return [(path, str(tree_util.tree_structure(a)), str(tree_util.tree_structure(b)),
           "so their pytree structures differ")]


def _aval_class(x):
  return f"<class '{type(x).__module__}.{type(x).__name__}'>"


def _mismatch_extra(a1, a2):
  if a1.shape != a2.shape and a1.dtype != a2.dtype:
    return ", so the shapes and dtypes do not match"
  if a1.shape != a2.shape:
    return ", so the shapes do not match"
  if a1.dtype != a2.dtype:
    return ", so the dtypes do not match"
  return ""


def _join_diffs(diffs):
  if len(diffs) == 1:
    return f"{_capitalize(diffs[0])}.\n"
  return "\n".join(f"  * {d};\n" for d in diffs[:-1]) + f"  * {diffs[-1]}.\n"


def _carry_arg_name(fun):
  try:
    params = list(inspect.signature(fun).parameters)
  except (TypeError, ValueError):
    return None
  return params[0] if params else None


def check_carry_type(name, body_fun, in_tree, in_avals, out_tree, out_avals):
  """Raise TypeError (JAX's wording) if the carry output's structure or types differ."""
  carry_name = _carry_arg_name(body_fun)

  def component(path):
    ks = tree_util.keystr(tuple(path)) if path else ""
    if carry_name:
      return f"the input carry component {carry_name}{ks}" if path else \
          f"the input carry {carry_name}"
    return f"the input carry at path {ks}" if path else "the input carry"

  if in_tree != out_tree:
    a = tree_util.tree_unflatten(in_tree, in_avals)
    try:
      b = tree_util.tree_unflatten(out_tree, out_avals)
    except Exception:  # noqa: BLE001
      b = None
    if b is None:
      differences = (f"the input tree structure is:\n{in_tree}\n"
                     f"the output tree structure is:\n{out_tree}\n")
    else:
      diffs = [f"{component(p)} is a {t1} but the corresponding component of the carry "
               f"output is a {t2}, {why}"
               for p, t1, t2, why in _tree_diffs(a, b, _aval_class)]
      if not diffs:
        diffs = [f"{component(())} has structure {in_tree} but the carry output has "
                 f"structure {out_tree}, so their pytree structures differ"]
      differences = _join_diffs(diffs)
    raise TypeError(
        f"{name} function carry input and carry output must have the same pytree "
        f"structure, but they differ:\n\n{differences}\nRevise the function so that the "
        "carry output has the same pytree structure as the carry input.")
  paths = [p for p, _ in tree_util.tree_flatten_with_path(
      tree_util.tree_unflatten(in_tree, in_avals))[0]]
  diffs = [f"{component(p)} has type {a.str_short(False)} but the "
           f"corresponding output carry component has type {b.str_short(False)}"
           f"{_mismatch_extra(a, b)}"
           for p, a, b in zip(paths, in_avals, out_avals) if not core.typematch(a, b)]
  if diffs:
    raise TypeError(
        f"{name} function carry input and carry output must have equal types, but they "
        f"differ:\n\n{_join_diffs(diffs)}\nRevise the function so that all output types "
        "match the corresponding input types.")


def fun_sourceinfo(fun):
  name = getattr(fun, "__name__", None) or type(fun).__name__
  code = getattr(fun, "__code__", None)
  if code is None:
    return str(name)
  return f"{name} at {code.co_filename}:{code.co_firstlineno}"


def check_branch_outputs(api_name, name1, name2, f1, f2, tree1, avals1, tree2, avals2):
  """cond/switch: all branches must return the same structure and types (JAX's wording)."""
  info = f"{name1} is {fun_sourceinfo(f1)}\n{name2} is {fun_sourceinfo(f2)}\n\n"
  if tree1 != tree2:
    a = tree_util.tree_unflatten(tree1, avals1)
    b = tree_util.tree_unflatten(tree2, avals2)

    def comp(p):
      return f" at path {tree_util.keystr(tuple(p))}" if p else ""
    diffs = [f"{name1} output{comp(p)} is a {t1} but {name2} output{comp(p)} is a {t2}, "
             f"{why}" for p, t1, t2, why in _tree_diffs(a, b, lambda x: "pytree leaf")]
    if not diffs:
      diffs = [f"{name1} output has structure {tree1} but {name2} output has structure "
               f"{tree2}, so their pytree structures differ"]
    differences = (f"{diffs[0]}.\n" if len(diffs) == 1 else
                   "\n".join(f"  * {d};\n" for d in diffs[:-1]) + f"  * {diffs[-1]}.\n")
    raise TypeError(
        f"{api_name} branch outputs must have the same pytree structure, but they differ:"
        f"\n\n{info}{differences}\nRevise {name1} and/or {name2} so that they have the "
        "same pytree structure.")
  paths = [p for p, _ in tree_util.tree_flatten_with_path(
      tree_util.tree_unflatten(tree1, avals1))[0]]

  def comp(p):
    return f" at path {tree_util.keystr(tuple(p))}" if p else ""
  diffs = [f"the output of {name1}{comp(p)} has type {a1.str_short(False)} but the "
           f"corresponding output of {name2} has type {a2.str_short(False)}"
           f"{_mismatch_extra(a1, a2)}"
           for p, a1, a2 in zip(paths, avals1, avals2) if not core.typematch(a1, a2)]
  if diffs:
    differences = (f"{_capitalize(diffs[0])}.\n" if len(diffs) == 1 else
                   "\n".join(f"  * {d};" for d in diffs[:-1]) + f"\n  * {diffs[-1]}.\n")
    raise TypeError(
        f"{api_name} branches must have equal output types but they differ.\n\n{info}"
        f"{differences}\nRevise {name1} and/or {name2} so that all output types match.")


def promote_weak_typed_inputs(vals, in_avals, out_avals):
  """A weakly typed initial carry takes the type the body gives it (as JAX): returns
  (new_vals, changed)."""
  from numjax._src.array import Array, _make
  from numjax._src.lax.lax import convert_element_type
  new, changed = [], False
  for v, a, b in zip(vals, in_avals, out_avals):
    if a.weak_type and not core.typematch(a, b):
      dt = _dtypes.result_type(v, b.dtype)
      if isinstance(v, Array):  # a constant: convert now, as JAX does for Python scalars
        new.append(_make(v._value.astype(dt), False))
      else:
        new.append(convert_element_type(v, dt))
      changed = True
    else:
      new.append(v)
  return new, changed


# ---------------------------------------------------------------------------------------
# Jaxpr surgery

def rebind(closed, invars=None, outvars=None):
  """The same equations with reordered/extended binders."""
  j = closed.jaxpr
  return ClosedJaxpr(Jaxpr(j.constvars, j.invars if invars is None else invars,
                           j.outvars if outvars is None else outvars, j.eqns, j.effects,
                           j.debug_info), closed.consts)


def permute_invars(closed, order):
  """New jaxpr whose i-th input is the old jaxpr's input order[i]."""
  iv = closed.jaxpr.invars
  return rebind(closed, invars=[iv[i] for i in order])


def permute_outvars(closed, order):
  ov = closed.jaxpr.outvars
  return rebind(closed, outvars=[ov[i] for i in order])


def add_dummy_invars(closed, avals, at_end=True):
  new = [core.Var(a) for a in avals]
  iv = list(closed.jaxpr.invars)
  return rebind(closed, invars=iv + new if at_end else new + iv)


def prune_outvars(closed, keep):
  return rebind(closed, outvars=[v for v, k in zip(closed.jaxpr.outvars, keep) if k])


def forwarding(closed):
  """For each output, the index of the input it returns unchanged, else None."""
  pos = {v: i for i, v in enumerate(closed.jaxpr.invars)}
  return [pos.get(v) if type(v) is core.Var else None for v in closed.jaxpr.outvars]


def used_inputs(closed, used_outputs=None):
  j = closed.jaxpr
  if used_outputs is None:
    used_outputs = [True] * len(j.outvars)
  _, used = pe.dce_jaxpr(j, used_outputs, instantiate=True)
  return used


# ---------------------------------------------------------------------------------------
# Transformations of jaxprs (each returns a new ClosedJaxpr)

def _eval(closed):
  return lambda *xs: core.eval_jaxpr(closed.jaxpr, closed.consts, *xs)


def jvp_jaxpr(closed, nonzeros, instantiate):
  """(primals..., tangents of nonzero inputs...) -> (primal outs..., tangent outs...).

  Zero output tangents are dropped unless `instantiate`d; returns (jaxpr, out_nonzeros)."""
  n_out = len(closed.out_avals)
  if isinstance(instantiate, bool):
    instantiate = [instantiate] * n_out
  in_avals = list(closed.in_avals)
  tan_avals = [ad.tangent_aval(a) for a, nz in zip(in_avals, nonzeros) if nz]
  box = []

  def f(*args):
    primals = list(args[:len(in_avals)])
    it = iter(args[len(in_avals):])
    tangents = [next(it) if nz else Zero(ad.tangent_aval(a))
                for a, nz in zip(in_avals, nonzeros)]
    po, to = ad.jvp_flat(_eval(closed), primals, tangents)
    to = [ad.instantiate_zeros(t) if inst else t for t, inst in zip(to, instantiate)]
    box.append([type(t) is not Zero for t in to])
    return list(po) + [t for t in to if type(t) is not Zero]
  out = pe.trace_to_jaxpr(f, in_avals + tan_avals)
  return out, box[0]


def _batched_aval(aval, size, dim):
  if dim is None:
    return aval
  shape = list(aval.shape)
  shape.insert(dim, size)
  return aval.update(shape=tuple(shape))


def _batch_trace(closed, axis_data, in_dims, place_out):
  """Stage the batched version of `closed`. place_out(vals, dims) -> outputs."""
  size = axis_data.size
  in_avals = [_batched_aval(a, size, d) for a, d in zip(closed.in_avals, in_dims)]

  def f(*args):
    with core.new_main(batching.BatchTrace, global_data=axis_data) as main:
      trace = batching.BatchTrace(main)
      ins = [batching.BatchTracer(trace, a, d) if d is not None else a
             for a, d in zip(args, in_dims)]
      outs = _eval(closed)(*ins)
      outs = [trace.full_raise(o) for o in outs]
      vals = [o.val for o in outs]
      dims = [o.batch_dim for o in outs]
    return place_out(vals, dims)
  return pe.trace_to_jaxpr(f, in_avals)


def batch_jaxpr(closed, axis_data, in_batched, instantiate):
  """Batch with every batched value's axis at 0. Outputs that are batched (or forced by
  `instantiate`) get the axis at 0. Returns (jaxpr, out_batched)."""
  n_out = len(closed.out_avals)
  if isinstance(instantiate, bool):
    instantiate = [instantiate] * n_out
  box = []

  def place(vals, dims):
    outs, bat = [], []
    for v, d, inst in zip(vals, dims, instantiate):
      if d is None and not inst:
        outs.append(v)
        bat.append(False)
      else:
        outs.append(batching.matchaxis(d, 0, axis_data.size, v))
        bat.append(True)
    box.append(bat)
    return outs
  j = _batch_trace(closed, axis_data, [0 if b else None for b in in_batched], place)
  return j, box[0]


def batch_jaxpr_axes(closed, axis_data, in_dims, out_dims):
  """Batch with explicit input/output batch axes (None: unbatched; an unbatched output
  asked for an axis is broadcast). Returns the jaxpr."""
  def place(vals, dims):
    outs = []
    for v, d, od in zip(vals, dims, out_dims):
      if od is None:
        if d is not None:
          raise AssertionError("batched output where an unbatched one was required")
        outs.append(v)
      else:
        outs.append(batching.matchaxis(d, od, axis_data.size, v))
    return outs
  return _batch_trace(closed, axis_data, in_dims, place)


def out_batched(closed, axis_data, in_batched):
  """Which outputs of `closed` are batched when the given inputs are."""
  return batch_jaxpr(closed, axis_data, in_batched, False)[1]


def transpose_jaxpr(closed, linear, cts_avals=None):
  """(non-linear inputs..., cts of outputs...) -> (cts of linear inputs...), zeros
  instantiated. `linear[i]` marks the inputs to transpose with respect to."""
  in_avals = closed.in_avals
  res_avals = [a for a, l in zip(in_avals, linear) if not l]
  ct_avals = cts_avals or [ad.tangent_aval(a) for a in closed.out_avals]

  def f(*args):
    res = iter(args[:len(res_avals)])
    cts = list(args[len(res_avals):])
    prim_args = [ad.UndefinedPrimal(a) if l else next(res) for a, l in zip(in_avals, linear)]
    cts_in = ad.backward_pass(closed.jaxpr, closed.consts, prim_args, cts)
    out = []
    for a, l, c in zip(in_avals, linear, cts_in):
      if l:
        out.append(ad.zeros_like_aval(ad.tangent_aval(a)) if c is None or type(c) is Zero
                   else c)
    return out
  return pe.trace_to_jaxpr(f, res_avals + list(ct_avals))


def partial_eval_split(closed, unknowns, instantiate):
  """Split into known (known inputs -> known outputs + residuals) and unknown (residuals +
  unknown inputs -> unknown outputs) ClosedJaxprs. Returns (known, unknown, out_unknowns,
  num_res)."""
  known, unknown, out_unk, num_res = pe.partial_eval_jaxpr(closed.jaxpr, unknowns,
                                                           instantiate)
  return (ClosedJaxpr(known, closed.consts), ClosedJaxpr(unknown, []), out_unk, num_res)


def invariant_outputs(closed, variant_inputs):
  """Which outputs do not depend on any of the `variant_inputs` (a bool per input)."""
  j = closed.jaxpr
  variant = set(v for v, b in zip(j.invars, variant_inputs) if b)
  for e in j.eqns:
    if any(type(v) is core.Var and v in variant for v in e.invars):
      variant.update(e.outvars)
  return [not (type(v) is core.Var and v in variant) for v in j.outvars]


def is_linearizing(tangents):
  """True when the tangents are being staged (by `linearize`, or into a jaxpr such as a jit
  body or an enclosing loop's jvp body that may later be split into known and unknown
  parts). The rules then emit the primal work and the linear tangent program as separate
  equations (a single combined loop could not be split). Concrete tangents (plain forward
  mode) get one combined loop."""
  return any(isinstance(t, pe.StagingTracer) for t in tangents)


# ---------------------------------------------------------------------------------------
# Eager path

def def_eager_with_avals(prim, out_avals_fn):
  """Eager: run `impl` on buffers and wrap each output with its abstract weak type."""
  from numjax._src.array import _make

  def eager(*args, **params):
    outs = prim.impl(*[a._value for a in args], **params)
    avals = out_avals_fn(**params)
    return [_make(o, a.weak_type) for o, a in zip(outs, avals)]
  prim.eager = eager


def zeros_like(aval):
  return ad.zeros_like_aval(aval)
