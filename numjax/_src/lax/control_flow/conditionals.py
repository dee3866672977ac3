"""`cond_p`: run one of several branch jaxprs, chosen by an int32 index.

Operands are `(index, *consts, *operands)`; every branch takes `(*consts, *operands)` (the
closed-over values of all branches, merged). `lax.cond` and `lax.switch` build it.

Rules: jvp (under linearize, split into a primal cond that also returns the residuals and
a linear tangent cond consuming them), transpose (of the tangent cond), batching (a batched
index turns into `select_n` over all branches, as JAX).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src import tree_util
from numjax._src.config import config
from numjax._src.core import Primitive
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters import partial_eval as pe
from numjax._src.interpreters.ad import Zero
from numjax._src.lax import lax
from numjax._src.lax.control_flow import codegen
from numjax._src.lax.control_flow import common as cf

_int32 = np.dtype(np.int32)

cond_p = Primitive("cond")
cond_p.multiple_results = True
cond_p.numpy_tier_only = True  # the native tier compiles branches itself


def _cond_impl(index, *ops, branches):
  i = int(np.clip(index, 0, len(branches) - 1))
  with np.errstate(all="ignore"):
    return list(codegen.jaxpr_fn(branches[i])(*ops))


def _cond_abstract_eval(index, *ops, branches):
  if index.shape != () or index.dtype != _int32:
    raise TypeError(f"cond index must be an int32 scalar, got {index.str_short(False)}.")
  for b in branches:
    if len(b.in_avals) != len(ops) or not all(
        core.typematch(a, o) for a, o in zip(b.in_avals, ops)):
      raise TypeError("cond branches must take the operand types "
                      f"{[o.str_short(False) for o in ops]}, got "
                      f"{[a.str_short(False) for a in b.in_avals]}.")
  return list(branches[0].out_avals)


cond_p.impl = _cond_impl
cond_p.abstract_eval = _cond_abstract_eval
cf.def_eager_with_avals(cond_p, lambda branches: branches[0].out_avals)


# ---- jvp ------------------------------------------------------------------------------

def _cond_jvp(primals, tangents, *, branches):
  index, *ops = primals
  ops_dot = tangents[1:]
  ops_nz = [type(t) is not Zero for t in ops_dot]
  n_out = len(branches[0].out_avals)
  out_nz = [False] * n_out
  for b in branches:
    _, nz = cf.jvp_jaxpr(b, ops_nz, False)
    out_nz = [x or y for x, y in zip(out_nz, nz)]
  jvps = [cf.jvp_jaxpr(b, ops_nz, out_nz)[0] for b in branches]
  dots = [t for t in ops_dot if type(t) is not Zero]
  if not cf.is_linearizing(dots):
    outs = cond_p.bind(index, *ops, *dots, branches=tuple(jvps))
    primal_out, tan = outs[:n_out], iter(outs[n_out:])
  else:
    primal_out, tan = _cond_linearize(index, ops, dots, jvps, n_out, out_nz)
  tangent_out = [next(tan) if nz else Zero.from_primal_value(p)
                 for p, nz in zip(primal_out, out_nz)]
  return primal_out, tangent_out


def _cond_linearize(index, ops, dots, jvps, n_out, out_nz):
  """Primal cond (outputs + residuals, run now) and a linear tangent cond (staged)."""
  n_ops, n_dots, n_tan = len(ops), len(dots), sum(out_nz)
  parts = [cf.partial_eval_split(j, [False] * n_ops + [True] * n_dots,
                                 [False] * n_out + [True] * n_tan) for j in jvps]
  # Residuals of all branches share slots by type; a branch fills others' with zeros.
  slots, assign = [], []
  for known, unknown, _, nres in parts:
    taken, idxs = set(), []
    for a in unknown.in_avals[:nres]:
      k = next((k for k, s in enumerate(slots) if s == a and k not in taken), None)
      if k is None:
        k = len(slots)
        slots.append(a)
      taken.add(k)
      idxs.append(k)
    assign.append(idxs)
  known_b, unknown_b = [], []
  op_avals = list(jvps[0].in_avals[:n_ops])
  for (known, unknown, _, nres), idxs in zip(parts, assign):
    def f(*xs, known=known, idxs=idxs):
      outs = core.eval_jaxpr(known.jaxpr, known.consts, *xs)
      vals = [None] * len(slots)
      for k, r in zip(idxs, outs[n_out:]):
        vals[k] = r
      return list(outs[:n_out]) + [cf.zeros_like(s) if v is None else v
                                   for v, s in zip(vals, slots)]
    known_b.append(pe.trace_to_jaxpr(f, op_avals))
    res_vars = unknown.jaxpr.invars[:nres]
    slot_vars = [core.Var(s) for s in slots]
    for k, v in zip(idxs, res_vars):
      slot_vars[k] = v
    unknown_b.append(cf.rebind(unknown, invars=slot_vars + unknown.jaxpr.invars[nres:]))
  outs = cond_p.bind(index, *ops, branches=tuple(known_b))
  primal_out, res = outs[:n_out], outs[n_out:]
  tan = cond_p.bind(index, *res, *dots, branches=tuple(unknown_b))
  return primal_out, iter(tan)


def _cond_transpose(cts, index, *ops, branches):
  linear = [ad.is_undefined_primal(x) for x in ops]
  if all(type(c) is Zero for c in cts):
    return [None] + [Zero(x.aval) if l else None for x, l in zip(ops, linear)]
  ct_avals = [ad.tangent_aval(a) for a in branches[0].out_avals]
  cts = [ad.zeros_like_aval(a) if type(c) is Zero else c for c, a in zip(cts, ct_avals)]
  res = [x for x, l in zip(ops, linear) if not l]
  branches_t = tuple(cf.transpose_jaxpr(b, linear, ct_avals) for b in branches)
  out = iter(cond_p.bind(index, *res, *cts, branches=branches_t))
  return [None] + [next(out) if l else None for l in linear]


ad.primitive_jvps[cond_p] = _cond_jvp
ad.primitive_transposes[cond_p] = _cond_transpose


# ---- batching -------------------------------------------------------------------------

def _bcast_to(pred, shape):
  if len(shape) == core.get_aval(pred).ndim:
    return pred
  return lax.broadcast_in_dim(pred, shape, tuple(range(core.get_aval(pred).ndim)))


def _cond_batch(axis_data, vals, dims, *, branches):
  index, *ops = vals
  idim, *op_dims = dims
  size = axis_data.size
  if idim is not None:
    # Every branch runs on every lane; select_n picks each lane's result. A branch sees
    # stop_gradient'ed inputs on the lanes it does not own, so that its (unused) values
    # cannot poison gradients there.
    index = batching.bdim_at_front(index, idim, size)
    ops = [batching.bdim_at_front(x, d, size) for x, d in zip(ops, op_dims)]
    n_out = len(branches[0].out_avals)
    branch_outs = []
    for i, b in enumerate(branches):
      bj, _ = cf.batch_jaxpr(b, axis_data, [True] * len(ops), True)
      mine = lax.eq(index, lax._const(index, i))
      ops_i = [lax.select(_bcast_to(mine, core.get_aval(x).shape), x, lax.stop_gradient(x))
               for x in ops]
      branch_outs.append(core.eval_jaxpr(bj.jaxpr, bj.consts, *ops_i))
    out = []
    for j in range(n_out):
      cases = [o[j] for o in branch_outs]
      which = _bcast_to(index, core.get_aval(cases[0]).shape)
      out.append(lax.select_n(which, *cases))
    return out, [0] * n_out
  ops_bat = [d is not None for d in op_dims]
  ops = [batching.moveaxis(x, d, 0) if d is not None else x for x, d in zip(ops, op_dims)]
  out_bat = [False] * len(branches[0].out_avals)
  for b in branches:
    out_bat = [x or y for x, y in zip(out_bat, cf.out_batched(b, axis_data, ops_bat))]
  branches_b = tuple(cf.batch_jaxpr(b, axis_data, ops_bat, out_bat)[0] for b in branches)
  out = cond_p.bind(index, *ops, branches=branches_b)
  return out, [0 if b else None for b in out_bat]


batching.axis_primitive_batchers[cond_p] = _cond_batch


# ---- API ------------------------------------------------------------------------------

_no_operand_sentinel = object()


def _is_concrete(x):
  return not isinstance(x, core.Tracer) or x.to_concrete_value() is not None


def switch(index, branches: Sequence, *operands, operand=_no_operand_sentinel):
  """Apply exactly one of `branches` given by `index` (clamped into range).

  Semantics: ``branches[clamp(0, index, len(branches) - 1)](*operands)``; under vmap
  with a batched index every branch runs and `select_n` picks per lane."""
  if not all(callable(b) for b in branches):
    raise TypeError("lax.switch: branches argument should be a sequence of callables.")
  if operand is not _no_operand_sentinel:
    if operands:
      raise TypeError("if 'operand' keyword is passed then no positional operands can be "
                      f"passed, got operand={operand} and positional operands {operands}")
    operands = (operand,)
  if len(np.shape(index)) != 0:
    raise TypeError(f"Branch index must be scalar, got {index} of shape {np.shape(index)}.")
  try:
    index_dtype = _dtypes.result_type(index)
  except TypeError as err:
    raise TypeError(f"Index type must be an integer, got {index}.") from err
  if index_dtype.kind not in "iu":
    raise TypeError(f"Index type must be an integer, got {index} as {index_dtype}")
  branches = tuple(branches)
  if not branches:
    raise ValueError("Empty branch sequence")
  if len(branches) == 1:
    return branches[0](*operands)
  index = lax.convert_element_type(index, _int32)
  index = lax.clamp(np.array(0, _int32), index, np.array(len(branches) - 1, _int32))
  names = ["branch 0"] + [f"branch{i}" for i in range(1, len(branches))]
  return _cond_internal("switch", index, branches, names, operands)


def cond(pred, true_fun, false_fun, *operands, operand=_no_operand_sentinel):
  """Conditionally apply `true_fun` or `false_fun` to `operands`.

  `pred` is a scalar bool (or number, compared with 0). Both branches are traced; under
  vmap with a batched predicate both run and `select_n` picks per lane (as JAX)."""
  if not (callable(true_fun) and callable(false_fun)):
    # the old calling convention: cond(pred, x_true, f_true, x_false, f_false)
    if callable(false_fun) and len(operands) == 2 and callable(operands[1]):
      x_true, f_true, x_false, f_false = true_fun, false_fun, *operands
      return cond(pred, lambda x, _: f_true(x), lambda _, x: f_false(x), x_true, x_false)
    raise TypeError("lax.cond: true_fun and false_fun arguments should be callable.")
  if operand is not _no_operand_sentinel:
    if operands:
      raise TypeError("if 'operand' keyword is passed then no positional operands can be "
                      f"passed, got operand={operand} and positional operands {operands}")
    operands = (operand,)
  if pred is None:
    raise TypeError("cond predicate is None")
  if isinstance(pred, Sequence) or np.ndim(pred) != 0:
    raise TypeError(f"Pred must be a scalar, got {pred} of " +
                    (f"type {type(pred)}" if isinstance(pred, Sequence)
                     else f"shape {np.shape(pred)}."))
  try:
    pred_dtype = _dtypes.result_type(pred)
  except TypeError as err:
    raise TypeError(f"Pred type must be either boolean or number, got {pred}.") from err
  if pred_dtype.kind != "b":
    if pred_dtype.kind in "iuf":
      pred = lax.ne(pred, lax._const(lax.asarray(pred), 0))
    else:
      raise TypeError(f"Pred type must be either boolean or number, got {pred_dtype}.")
  if config.jax_disable_jit and _is_concrete(pred):
    return true_fun(*operands) if bool(pred) else false_fun(*operands)
  index = lax.convert_element_type(pred, _int32)
  return _cond_internal("cond", index, (false_fun, true_fun), ["false_fun", "true_fun"],
                        operands, check_order=(1, 0))


def _cond_internal(api, index, branches, names, operands, check_order=None):
  if api == "switch" and config.jax_disable_jit and _is_concrete(index):
    return branches[int(index)](*operands)
  flat, in_tree = tree_util.tree_flatten(tuple(operands))
  flat = [cf.to_array(x) for x in flat]
  avals = [core.get_aval(x) for x in flat]
  traced = [cf.trace_user_fun(lambda *xs, b=b: b(*xs), in_tree, avals) for b in branches]
  # error messages compare against the first branch (true_fun for cond, as JAX)
  order = check_order or tuple(range(len(branches)))
  first = order[0]
  for i in order[1:]:
    cf.check_branch_outputs(api, names[first], names[i], branches[first], branches[i],
                            traced[first][2], traced[first][3], traced[i][2], traced[i][3])
  # merge the closed-over values of all branches (by identity)
  consts, pos = [], {}
  for _, cs, _, _ in traced:
    for c in cs:
      if id(c) not in pos:
        pos[id(c)] = len(consts)
        consts.append(c)
  jaxprs = []
  for closed, cs, _, _ in traced:
    cvars = [core.Var(core.get_aval(c)) for c in consts]
    own = closed.jaxpr.invars[:len(cs)]
    for c, v in zip(cs, own):
      cvars[pos[id(c)]] = v
    jaxprs.append(cf.rebind(closed, invars=cvars + closed.jaxpr.invars[len(cs):]))
  # outputs every branch forwards from the same input are not routed through cond
  fwds = [cf.forwarding(j) for j in jaxprs]
  in_fwd = [xs[0] if len(set(xs)) == 1 else None for xs in zip(*fwds)]
  keep = [f is None for f in in_fwd]
  jaxprs = tuple(cf.prune_outvars(j, keep) for j in jaxprs)
  all_in = consts + flat
  out = iter(cond_p.bind(index, *all_in, branches=jaxprs))
  res = [next(out) if f is None else lax.asarray(all_in[f]) for f in in_fwd]
  return tree_util.tree_unflatten(traced[first][2], res)
