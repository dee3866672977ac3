"""checkpoint / remat: recompute a function's intermediates in the backward pass.

`checkpoint(fun)` stages fun into a jaxpr and binds `remat2` (JAX's name for it). Its jvp
binds, besides the primal `remat2`, a second `remat2[differentiated=True]` that computes the
tangents *from the primal inputs* — so when linearize stages the tangent program, the only
residuals it keeps are those inputs. Transposing that equation re-runs the primal part of
its body (the recomputation) and then its linear part backwards, all inside another
`remat2[differentiated=True]`.

Policies are accepted; `everything_saveable` turns rematerialisation off, every other
policy rematerialises everything (correct values, at most the memory JAX would use).
"""
from __future__ import annotations

import functools

import numpy as np

from numjax._src import core
from numjax._src import tree_util
from numjax._src.core import ClosedJaxpr, Jaxpr, Primitive
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters import partial_eval as pe
from numjax._src.interpreters.ad import Zero

__all__ = ["checkpoint", "remat", "checkpoint_policies", "checkpoint_name"]


# ---------------------------------------------------------------------------------------
# Policies: (prim, *avals, **params) -> whether the result may be saved as a residual

def everything_saveable(*_, **__):
  return True


def nothing_saveable(*_, **__):
  return False


def dots_saveable(prim, *_, **__):
  return prim.name == "dot_general"


checkpoint_dots = dots_saveable


def dots_with_no_batch_dims_saveable(prim, *_, **params):
  if prim.name != "dot_general":
    return False
  (_, _), (lb, rb) = params["dimension_numbers"]
  return not lb and not rb


checkpoint_dots_with_no_batch_dims = dots_with_no_batch_dims_saveable


def save_anything_except_these_names(*names_not_to_save):
  def policy(prim, *_, **params):
    return not (prim.name == "name" and params.get("name") in names_not_to_save)
  return policy


def save_any_names_but_these(*names_not_to_save):
  def policy(prim, *_, **params):
    return prim.name == "name" and params.get("name") not in names_not_to_save
  return policy


def save_only_these_names(*names_which_can_be_saved):
  def policy(prim, *_, **params):
    return prim.name == "name" and params.get("name") in names_which_can_be_saved
  return policy


def save_from_both_policies(policy_1, policy_2):
  def policy(prim, *args, **params):
    return policy_1(prim, *args, **params) or policy_2(prim, *args, **params)
  return policy


def save_and_offload_only_these_names(*, names_which_can_be_saved=(),
                                      names_which_can_be_offloaded=(), offload_src=None,
                                      offload_dst=None):
  return save_only_these_names(*names_which_can_be_saved, *names_which_can_be_offloaded)


def offload_dot_with_no_batch_dims(offload_src=None, offload_dst=None):
  return dots_with_no_batch_dims_saveable


class _Policies:
  """The `checkpoint_policies` namespace."""
  everything_saveable = staticmethod(everything_saveable)
  nothing_saveable = staticmethod(nothing_saveable)
  dots_saveable = staticmethod(dots_saveable)
  checkpoint_dots = staticmethod(checkpoint_dots)
  dots_with_no_batch_dims_saveable = staticmethod(dots_with_no_batch_dims_saveable)
  checkpoint_dots_with_no_batch_dims = staticmethod(checkpoint_dots_with_no_batch_dims)
  save_anything_except_these_names = staticmethod(save_anything_except_these_names)
  save_any_names_but_these = staticmethod(save_any_names_but_these)
  save_only_these_names = staticmethod(save_only_these_names)
  save_from_both_policies = staticmethod(save_from_both_policies)
  save_and_offload_only_these_names = staticmethod(save_and_offload_only_these_names)
  offload_dot_with_no_batch_dims = staticmethod(offload_dot_with_no_batch_dims)


checkpoint_policies = _Policies()


# ---------------------------------------------------------------------------------------
# checkpoint_name: an identity that names a value for the policies

name_p = Primitive("name")
name_p.impl = lambda x, *, name: x
name_p.abstract_eval = lambda x, *, name: x
name_p.native_template = "{0}"
name_p.weak_type_rule = lambda args, params: args[0].weak_type
ad.deflinear(name_p, lambda ct, x, *, name: [ct])
batching.defvectorized(name_p)


def checkpoint_name(x, name):
  """Identity on every leaf of `x`, tagging it with `name` for checkpoint policies."""
  from numjax._src.lax.lax import asarray
  return tree_util.tree_map(lambda v: name_p.bind(asarray(v), name=name), x)


# ---------------------------------------------------------------------------------------
# The remat primitive

remat_p = Primitive("remat2")
remat_p.multiple_results = True
remat_p.numpy_tier_only = True  # a call: executors run its body (`jaxpr`)
remat_p.call_jaxpr_param = "jaxpr"


def _eval(jaxpr, *args):
  return core.eval_jaxpr(jaxpr, [], *args)


def _remat_impl_np(*np_args, jaxpr, **_):
  from numjax._src.array import _make
  outs = _eval(jaxpr, *[_make(a, False) for a in np_args])
  return [np.asarray(o._value) for o in outs]


remat_p.impl = _remat_impl_np
remat_p.def_eager(lambda *args, jaxpr, **_: _eval(jaxpr, *args))
remat_p.abstract_eval = lambda *avals, jaxpr, **_: [v.aval for v in jaxpr.outvars]


def _closed_to_operands(closed: ClosedJaxpr):
  """(Jaxpr whose consts are leading invars, the const values)."""
  return pe.convert_constvars_jaxpr(closed.jaxpr), list(closed.consts)


def _remat_jvp(primals, tangents, *, jaxpr, prevent_cse, differentiated, policy):
  params = dict(prevent_cse=prevent_cse, policy=policy)
  if policy is everything_saveable:  # nothing to recompute: differentiate the body inline
    return ad.jvp_flat(lambda *xs: _eval(jaxpr, *xs), primals, tangents)
  primal_out = remat_p.bind(*primals, jaxpr=jaxpr, differentiated=differentiated, **params)
  nonzeros = [type(t) is not Zero for t in tangents]
  jvp_closed, out_nz = ad.jvp_jaxpr(ClosedJaxpr(jaxpr, []), nonzeros, instantiate=False)
  n_out = len(jaxpr.outvars)
  tan_jaxpr, _ = pe.dce_jaxpr(jvp_closed.jaxpr, [False] * n_out + [True] * sum(out_nz),
                              instantiate=True)
  tan_jaxpr, consts = _closed_to_operands(ClosedJaxpr(tan_jaxpr, jvp_closed.consts))
  live_t = [t for t in tangents if type(t) is not Zero]
  outs = remat_p.bind(*consts, *primals, *live_t, jaxpr=tan_jaxpr, differentiated=True,
                      **params) if any(out_nz) else []
  it = iter(outs)
  tangent_out = [next(it) if nz else Zero(ad.tangent_aval(core.get_aval(p)))
                 for p, nz in zip(primal_out, out_nz)]
  return primal_out, tangent_out


def _remat_transpose(cts, *args, jaxpr, prevent_cse, differentiated, policy):
  lin = [ad.is_undefined_primal(a) for a in args]
  known = [a for a, l in zip(args, lin) if not l]
  lin_avals = [a.aval for a, l in zip(args, lin) if l]
  cts = [ad.instantiate_zeros(c) for c in cts]
  nk = len(known)

  def bwd(*xs):
    kv, cv = list(xs[:nk]), list(xs[nk:])
    it = iter(kv)
    full = [ad.UndefinedPrimal(a.aval) if l else next(it) for a, l in zip(args, lin)]
    res = ad.backward_pass(jaxpr, [], full, cv)
    out = [r for r, l in zip(res, lin) if l]
    return [ad.zeros_like_aval(a) if r is None or type(r) is Zero else r
            for r, a in zip(out, lin_avals)]
  in_avals = [core.get_aval(k) for k in known] + [core.get_aval(c) for c in cts]
  bwd_closed = pe.trace_to_jaxpr(bwd, in_avals)
  bwd_jaxpr, consts = _closed_to_operands(bwd_closed)
  outs = remat_p.bind(*consts, *known, *cts, jaxpr=bwd_jaxpr, differentiated=True,
                      prevent_cse=prevent_cse, policy=policy)
  it = iter(outs)
  return [next(it) if l else None for l in lin]


def _remat_batch(axis_data, vals, dims, *, jaxpr, prevent_cse, differentiated, policy):
  closed = batching.batch_jaxpr(ClosedJaxpr(jaxpr, []), axis_data, dims, 0)
  new_jaxpr, consts = _closed_to_operands(closed)
  outs = remat_p.bind(*consts, *vals, jaxpr=new_jaxpr, prevent_cse=prevent_cse,
                      differentiated=differentiated, policy=policy)
  return outs, [0] * len(outs)


ad.primitive_jvps[remat_p] = _remat_jvp
ad.primitive_transposes[remat_p] = _remat_transpose
batching.axis_primitive_batchers[remat_p] = _remat_batch


def checkpoint(fun, *, prevent_cse: bool = True, policy=None, static_argnums=()):
  """Make `fun` recompute its intermediate values when differentiated in reverse mode,
  instead of storing them (memory for compute). `policy` may name values to keep."""
  if isinstance(static_argnums, int):
    static_argnums = (static_argnums,)

  @functools.wraps(fun)
  def fun_remat(*args, **kwargs):
    if core._eager_only:  # nothing is differentiated: nothing to remember or recompute
      return fun(*args, **kwargs)
    static = {i % len(args) for i in static_argnums} if args else set()
    dyn = [a for i, a in enumerate(args) if i not in static]
    flat, in_tree = tree_util.tree_flatten((dyn, kwargs))
    from numjax._src.lax.lax import asarray
    flat = [asarray(x) for x in flat]
    store = []

    def flat_fun(*xs):
      dargs, dkw = tree_util.tree_unflatten(in_tree, xs)
      it = iter(dargs)
      full = [a if i in static else next(it) for i, a in enumerate(args)]
      out = fun(*full, **dkw)
      of, ot = tree_util.tree_flatten(out)
      store.append(ot)
      return [asarray(o) for o in of]
    closed = pe.trace_to_jaxpr(flat_fun, [core.get_aval(x) for x in flat])
    jaxpr, consts = _closed_to_operands(closed)
    outs = remat_p.bind(*consts, *flat, jaxpr=jaxpr, prevent_cse=prevent_cse,
                        differentiated=False, policy=policy)
    return tree_util.tree_unflatten(store[0], outs)
  return fun_remat


remat = checkpoint
