"""custom_vmap: a function with a user-defined batching rule, and sequential_vmap.

A call binds `custom_vmap_call_p`, whose operands are the closed-over constants and the
flattened arguments and whose params hold the traced body and the user's rule. Outside
vmap the body runs; under vmap the rule runs (on the batched values, as
`rule(axis_size, in_batched, *args) -> (out, out_batched)`); under differentiation the
body's ordinary derivative is used (the primal keeps the custom rule).
"""
from __future__ import annotations

import functools

from numjax._src import core
from numjax._src import tree_util
from numjax._src.core import ClosedJaxpr
from numjax._src.custom_derivatives import (_Name, _Rule, _call_primitive, _eval_call,
                                            _fun_name)
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters import partial_eval as pe
from numjax._src.interpreters.ad import Zero


class custom_vmap:
  """Wrap `fun` so that vmap uses the rule given with `def_vmap` instead of batching the
  function's body."""

  def __init__(self, fun):
    functools.update_wrapper(self, fun)
    self.fun = fun
    self.vmap_rule = None

  def def_vmap(self, vmap_rule):
    """Define the rule: vmap_rule(axis_size, in_batched, *args) -> (out, out_batched),
    in_batched/out_batched being pytrees of bools matching args/out."""
    self.vmap_rule = vmap_rule
    return vmap_rule

  def __call__(self, *args, **kwargs):
    name = _fun_name(self.fun)
    if kwargs:
      raise TypeError(f"custom_vmap function {name} does not accept keyword arguments; pass "
                      "them positionally.")
    if self.vmap_rule is None:
      raise AttributeError(f"No batching rule defined for custom_vmap function {name} using "
                           "def_vmap.")
    if core._eager_only:
      return self.fun(*args)
    flat, in_tree = tree_util.tree_flatten(args)
    flat = [core.full_lower(x) if isinstance(x, core.Tracer) else _operand(x) for x in flat]
    out_tree_box = []

    def flat_fun(*xs):
      out = self.fun(*tree_util.tree_unflatten(in_tree, xs))
      out_flat, out_tree = tree_util.tree_flatten(out)
      out_tree_box[:] = [out_tree]
      return [_operand(o) for o in out_flat]

    closed = pe.trace_to_jaxpr(flat_fun, [core.get_aval(x) for x in flat])
    call = ClosedJaxpr(pe.convert_constvars_jaxpr(closed.jaxpr), [])
    consts = list(closed.consts)
    rule = _Rule(functools.partial(_flat_rule, self.vmap_rule, in_tree, out_tree_box[0]),
                 _fun_name(self.vmap_rule))
    outs = custom_vmap_call_p.bind(*consts, *flat, call_jaxpr=call, rule=rule,
                                   num_consts=len(consts), name=_Name(name))
    return tree_util.tree_unflatten(out_tree_box[0], outs)


def _operand(x):
  from numjax._src.lax.lax import asarray
  return asarray(x)


def _flat_rule(user_rule, in_tree, out_tree, axis_size, in_batched_flat, *args_flat):
  args = tree_util.tree_unflatten(in_tree, args_flat)
  in_batched = tree_util.tree_unflatten(in_tree, list(in_batched_flat))
  res = user_rule(axis_size, in_batched, *args)
  if not (isinstance(res, (tuple, list)) and len(res) == 2):
    raise TypeError("A custom_vmap rule must return a pair (outputs, out_batched), got "
                    f"{res!r}")
  out, out_batched = res
  out_flat, tree = tree_util.tree_flatten(out)
  if tree != out_tree:
    raise ValueError(f"custom_vmap rule output structure {tree} differs from the function's "
                     f"output structure {out_tree}")
  ob_flat = tree_util.tree_flatten(out_batched)[0]
  if len(ob_flat) != len(out_flat):
    raise ValueError("custom_vmap rule: out_batched must match the output pytree "
                     f"({len(ob_flat)} flags for {len(out_flat)} outputs)")
  return [_operand(o) for o in out_flat], [bool(b) for b in ob_flat]


custom_vmap_call_p = _call_primitive("custom_vmap_call", {"num_consts"})


def _custom_vmap_batch(axis_data, vals, dims, *, call_jaxpr, rule, num_consts, name):
  size = axis_data.size
  const_dims, arg_dims = dims[:num_consts], dims[num_consts:]
  if any(d is not batching.not_mapped for d in const_dims):
    # A batched value closed over by the function: the rule cannot see it, so batch the
    # body itself.
    closed = batching.batch_jaxpr(call_jaxpr, axis_data, list(dims), 0)
    outs = core.eval_jaxpr(closed.jaxpr, closed.consts, *vals)
    return outs, [0] * len(outs)
  args = [batching.moveaxis(v, d, 0) if d is not batching.not_mapped else v
          for v, d in zip(vals[num_consts:], arg_dims)]
  in_batched = [d is not batching.not_mapped for d in arg_dims]
  outs, out_batched = rule(size, in_batched, *args)
  return outs, [0 if b else batching.not_mapped for b in out_batched]


batching.axis_primitive_batchers[custom_vmap_call_p] = _custom_vmap_batch


def _custom_vmap_jvp(primals, tangents, *, call_jaxpr, rule, num_consts, name):
  po = custom_vmap_call_p.bind(*primals, call_jaxpr=call_jaxpr, rule=rule,
                               num_consts=num_consts, name=name)
  if all(type(t) is Zero for t in tangents):
    return po, [Zero.from_primal_value(p) for p in po]
  _, to = ad.jvp_flat(lambda *xs: _eval_call(call_jaxpr, *xs), list(primals), list(tangents))
  return po, list(to)


ad.primitive_jvps[custom_vmap_call_p] = _custom_vmap_jvp


def sequential_vmap(f):
  """A custom_vmap whose rule loops over the batch (lax.map) instead of vectorising."""
  f = custom_vmap(f)

  @f.def_vmap
  def rule(axis_size, in_batched, *args):
    from numjax._src.lax.control_flow import map as lax_map
    from numjax._src.lax import lax as _lax
    leaves, tree = tree_util.tree_flatten(args)
    flags = tree_util.tree_flatten(in_batched)[0]
    batched = [x for x, b in zip(leaves, flags) if b]

    def body(xs):
      it = iter(xs)
      full = [next(it) if b else x for x, b in zip(leaves, flags)]
      return f.fun(*tree_util.tree_unflatten(tree, full))
    out = lax_map(body, batched)
    return out, tree_util.tree_map(lambda _: True, out)
  return f
