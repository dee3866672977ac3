"""custom_jvp, custom_vjp and closure_convert.

A custom_jvp/custom_vjp function is called through `Trace.process_custom_jvp_call` /
`process_custom_vjp_call` with its (flattened) Python callables:

- with no transformation active the function just runs;
- a `JVPTrace` applies the custom rule directly (custom_jvp: the user's jvp rule on primals
  and tangents; custom_vjp: the fwd rule, and a `custom_lin` equation whose transpose calls
  the bwd rule — so reverse mode, which transposes what linearize staged, reaches bwd);
- every other trace (vmap, jit staging) traces the function into a jaxpr whose closed-over
  tracers become explicit leading operands (`num_consts`), and binds `custom_jvp_call` /
  `custom_vjp_call` as an ordinary primitive carrying the rules as parameters. Those
  primitives have impl, shape, jvp and batching rules like any other, so a staged jaxpr can
  later be differentiated or batched and still uses the custom rule.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src import errors
from numjax._src import tree_util
from numjax._src.core import ClosedJaxpr, Primitive, ShapedArray, Tracer
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters import partial_eval as pe
from numjax._src.interpreters.ad import Zero

__all__ = ["custom_jvp", "custom_vjp", "custom_gradient", "closure_convert", "SymbolicZero",
           "CustomVJPPrimal", "zero_from_primal"]


# ---------------------------------------------------------------------------------------
# User-facing symbolic zeros

class SymbolicZero:
  """A zero tangent/cotangent that is known to be zero without being materialised
  (passed to rules defined with ``symbolic_zeros=True``)."""

  def __init__(self, aval):
    self.aval = aval

  shape = property(lambda self: self.aval.shape)
  dtype = property(lambda self: self.aval.dtype)
  ndim = property(lambda self: self.aval.ndim)
  size = property(lambda self: self.aval.size)

  def __bool__(self):
    return False

  def __repr__(self):
    return f"SymbolicZero({self.aval.str_short()})"

  def instantiate(self):
    return ad.zeros_like_aval(self.aval)

  @staticmethod
  def from_primal_value(x):
    return SymbolicZero(ad.tangent_aval(core.get_aval(x)))


def zero_from_primal(val, symbolic_zeros=False):
  """A zero tangent for each leaf of `val` (symbolic or instantiated)."""
  def f(x):
    z = SymbolicZero.from_primal_value(x)
    return z if symbolic_zeros else z.instantiate()
  return tree_util.tree_map(f, val)


class CustomVJPPrimal:
  """A primal argument of a custom_vjp fwd rule defined with ``symbolic_zeros=True``:
  its value and whether it is perturbed (has a nonzero tangent)."""

  def __init__(self, value, perturbed):
    self.value, self.perturbed = value, perturbed

  def __repr__(self):
    return f"CustomVJPPrimal(value={self.value!r}, perturbed={self.perturbed})"


def _to_user_zero(t):
  return SymbolicZero(t.aval) if type(t) is Zero else t


def _from_user_zero(t, aval):
  if t is None or isinstance(t, SymbolicZero):
    return Zero(ad.tangent_aval(aval))
  return t


def _is_zero_leaf(x):
  return x is None or isinstance(x, SymbolicZero)


# ---------------------------------------------------------------------------------------
# Rule wrappers: hashable by identity, printed by name (as JAX prints jvp=f_jvp)

class _Rule:
  __slots__ = ("fn", "name", "__weakref__")

  def __init__(self, fn, name):
    self.fn, self.name = fn, name

  def __call__(self, *args):
    return self.fn(*args)

  def __repr__(self):
    return self.name

  __str__ = __repr__


class _Name(str):
  """A function name as a jaxpr parameter: printed bare (name=f), as JAX prints it."""
  __slots__ = ()

  def __repr__(self):
    return str(self)


def _fun_name(f):
  f = getattr(f, "func", f)  # functools.partial
  return getattr(f, "__name__", type(f).__name__)


def _resolve_kwargs(fun, args, kwargs):
  if not kwargs:
    return tuple(args)
  try:
    ba = inspect.signature(fun).bind(*args, **kwargs)
  except TypeError as e:
    raise TypeError(f"The arguments to a custom_jvp/custom_vjp function could not be "
                    f"bound to its signature: {e}") from None
  ba.apply_defaults()
  if ba.kwargs:
    raise TypeError("keyword arguments could not be resolved to positions: "
                    f"{list(ba.kwargs)}. Pass them positionally.")
  return ba.args


def _split_nondiff(args, nondiff_argnums):
  nondiff = [args[i] for i in nondiff_argnums]
  diff = [a for i, a in enumerate(args) if i not in nondiff_argnums]
  return nondiff, diff


def _merge_nondiff(nondiff, diff, nondiff_argnums):
  it_n, it_d = iter(nondiff), iter(diff)
  n = len(nondiff) + len(diff)
  return [next(it_n) if i in nondiff_argnums else next(it_d) for i in range(n)]


def _as_operand(x):
  from numjax._src.lax.lax import asarray
  return asarray(x)


def _avals_str(xs):
  return ", ".join(core.get_aval(x).str_short() for x in xs)


def _check_no_leak(trace, outs, what):
  """A rule that closed over a value being differentiated returns tracers of the very
  trace that is applying it: that is a leak (JAX raises UnexpectedTracerError too)."""
  for o in outs:
    if isinstance(o, Tracer) and o._trace.main is trace.main:
      raise errors.UnexpectedTracerError(
          f"The {what} closes over a value that is being differentiated (an intermediate "
          "of the function being transformed), so its derivative with respect to that "
          "value cannot be computed. Pass the value as an explicit argument of the "
          "custom_jvp/custom_vjp function instead, or use numjax.closure_convert to hoist "
          "it out as an argument." + core._user_line_hint())


# ---------------------------------------------------------------------------------------
# custom_jvp

class custom_jvp:
  """Set up a JAX-transformable function for a custom JVP rule definition.

  ``f = custom_jvp(fun, nondiff_argnums=())``; then ``f.defjvp(rule)`` with
  ``rule(primals, tangents) -> (primal_out, tangent_out)`` (nondiff arguments first), or
  ``f.defjvps(*per_arg)`` with ``per_arg[i](g_i, ans, *primals)``.
  """

  def __init__(self, fun: Callable, nondiff_argnums: tuple = ()):
    functools.update_wrapper(self, fun)
    self.fun = fun
    self.nondiff_argnums = tuple(nondiff_argnums)
    self.jvp = None
    self.symbolic_zeros = False

  def __get__(self, obj, objtype=None):
    if obj is None:
      return self
    return functools.partial(self, obj)

  def defjvp(self, jvp: Callable, symbolic_zeros: bool = False):
    """Define the JVP rule: ``jvp(*nondiff_args, primals, tangents)``."""
    self.jvp = jvp
    self.symbolic_zeros = symbolic_zeros
    return jvp

  def defjvps(self, *jvps):
    """Define the JVP one argument at a time: ``jvps[i](g_i, ans, *primals)`` (None: the
    output does not depend on argument i)."""
    if self.nondiff_argnums:
      raise TypeError("Can't use custom_jvp.defjvps with nondiff_argnums.")

    def jvp(primals, tangents):
      ans = self(*primals)
      acc = None
      for fn, t in zip(jvps, tangents):
        if fn is None:
          continue
        contrib = fn(t, ans, *primals)
        acc = contrib if acc is None else tree_util.tree_map(_add_any, acc, contrib)
      if acc is None:
        acc = zero_from_primal(ans)
      return ans, acc
    self.defjvp(jvp)

  def __call__(self, *args, **kwargs):
    name = _fun_name(self.fun)
    if self.jvp is None:
      raise AttributeError(f"No JVP defined for custom_jvp function {name} using defjvp.")
    args = _resolve_kwargs(self.fun, args, kwargs)
    nondiff_argnums = tuple(i % len(args) for i in self.nondiff_argnums) if args else ()
    if core._eager_only:  # nothing to differentiate: just run the function
      return self.fun(*args)
    nondiff, diff = _split_nondiff(args, set(nondiff_argnums))
    flat, in_tree = tree_util.tree_flatten(tuple(diff))
    flat = [_as_operand(x) for x in flat]
    out_tree_box = []
    flat_fun = _flat_fun(self.fun, nondiff, nondiff_argnums, in_tree, out_tree_box, name)

    jvp_name = _fun_name(self.jvp)
    rule, sz = self.jvp, self.symbolic_zeros

    def flat_jvp(primals, tangents):
      py_p = tree_util.tree_unflatten(in_tree, primals)
      py_t = tree_util.tree_unflatten(in_tree, [_to_user_zero(t) for t in tangents])
      out = rule(*nondiff, tuple(py_p), tuple(py_t))
      if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(f"Custom JVP rule {jvp_name} for function {name} must produce a pair "
                        "(list or tuple of length two) representing primal and tangent "
                        f"outputs, but got {out}.")
      po, to = out
      po_flat, po_tree = tree_util.tree_flatten(po)
      to_flat, to_tree = tree_util.tree_flatten(to, is_leaf=_is_zero_leaf)
      if po_tree != to_tree:
        raise TypeError(f"Custom JVP rule {jvp_name} for function {name} must produce primal "
                        "and tangent outputs with equal container (pytree) structures, but "
                        f"got {po_tree} and {to_tree} respectively.")
      if out_tree_box and out_tree_box[0] != po_tree:
        raise TypeError(f"Custom JVP rule {jvp_name} for function {name} must produce "
                        "primal outputs with the same container (pytree) structure as the "
                        f"function's outputs, but got {po_tree} and {out_tree_box[0]}.")
      _store(out_tree_box, po_tree)
      po_flat = [_as_operand(p) for p in po_flat]
      to_out = []
      for p, t in zip(po_flat, to_flat):
        pa = core.get_aval(p)
        t = _from_user_zero(t, pa)
        if type(t) is not Zero:
          t = _as_operand(t)
          _check_tangent(pa, core.get_aval(t), jvp_name, name)
        to_out.append(t)
      return po_flat, to_out

    outs = _bind_custom_jvp(flat_fun, _Rule(flat_jvp, jvp_name), flat, sz)
    return tree_util.tree_unflatten(out_tree_box[0], outs)


def _flat_fun(fun, nondiff, nondiff_argnums, in_tree, out_tree_box, name):
  """`fun` of flat differentiable operands (the nondiff arguments merged back in), returning
  flat operands; the output's tree goes into `out_tree_box`."""
  def flat_fun(*xs):
    dargs = tree_util.tree_unflatten(in_tree, xs)
    out = fun(*_merge_nondiff(nondiff, list(dargs), nondiff_argnums))
    out_flat, out_tree = tree_util.tree_flatten(out)
    _store(out_tree_box, out_tree)
    return [_as_operand(o) for o in out_flat]
  flat_fun.__name__ = name
  return flat_fun


def _store(box, tree):
  if not box:
    box.append(tree)


def _add_any(a, b):
  if _is_zero_leaf(a):
    return b
  if _is_zero_leaf(b):
    return a
  return ad.add_tangents(_as_operand(a), _as_operand(b))


def _check_tangent(primal_aval, tangent_aval, rule_name, fun_name):
  expected = ad.tangent_aval(primal_aval)
  if tangent_aval.shape != expected.shape or tangent_aval.dtype != expected.dtype:
    raise TypeError(
        f"Custom JVP rule {rule_name} for function {fun_name} must produce primal and "
        "tangent outputs with corresponding shapes and dtypes. Expected "
        f"{expected.str_short(False)} (tangent type of {primal_aval.str_short(False)}) but "
        f"got {tangent_aval.str_short(False)}.")


def _bind_custom_jvp(fun, jvp, args, symbolic_zeros):
  trace = core.find_top_trace(args)
  tracers = [trace.full_raise(a) for a in args]
  outs = trace.process_custom_jvp_call(custom_jvp_call_p, fun, jvp, tracers,
                                       symbolic_zeros=symbolic_zeros)
  return [core.full_lower(o) for o in outs]


def _jvp_of_custom_jvp(trace, prim, fun, jvp, tracers, symbolic_zeros):
  """JVPTrace: apply the custom rule to the primals and tangents."""
  primals = [t.primal for t in tracers]
  tangents = [t.tangent for t in tracers]
  if all(type(t) is Zero for t in tangents):
    outs = _bind_custom_jvp(fun, jvp, primals, symbolic_zeros)
    return [ad.JVPTracer(trace, o, Zero.from_primal_value(o)) for o in outs]
  if not symbolic_zeros:
    tangents = [ad.instantiate_zeros(t) for t in tangents]
  po, to = jvp(primals, tangents)
  _check_no_leak(trace, list(po) + [t for t in to if type(t) is not Zero],
                 f"custom JVP rule {jvp}")
  return [ad.JVPTracer(trace, p, t) for p, t in zip(po, to)]


def _closure_convert_call(fun, tracers):
  """Trace fun at the tracers' avals: (call_jaxpr without consts, consts)."""
  closed = pe.trace_to_jaxpr(fun, [t.aval for t in tracers])
  call = ClosedJaxpr(pe.convert_constvars_jaxpr(closed.jaxpr), [])
  return call, list(closed.consts)


def _custom_jvp_as_primitive(trace, prim, fun, jvp, tracers, symbolic_zeros):
  call_jaxpr, consts = _closure_convert_call(fun, tracers)
  return prim.bind(*consts, *tracers, call_jaxpr=call_jaxpr, jvp=jvp,
                   num_consts=len(consts), symbolic_zeros=symbolic_zeros,
                   name=_Name(getattr(fun, "__name__", "fun")))


def _eval_call(call_jaxpr, *args):
  return core.eval_jaxpr(call_jaxpr.jaxpr, call_jaxpr.consts, *args)


def _call_impl_np(*np_args, call_jaxpr, **_):
  """The NumPy-buffer impl (for executors that call `impl`): evaluate the body."""
  from numjax._src.array import _make
  outs = _eval_call(call_jaxpr, *[_make(a, False) for a in np_args])
  return [np.asarray(o._value) for o in outs]


def _call_primitive(name, hidden_params):
  """A primitive calling its `call_jaxpr` param on its operands (eagerly: evaluates the
  body); custom_jvp_call, custom_vjp_call and custom_vmap_call add their own rules."""
  p = Primitive(name)
  p.multiple_results = True
  p.hidden_params = frozenset(hidden_params)
  # A call: executors inline `call_jaxpr` (the compiler compiles the body, not the call).
  p.numpy_tier_only = True
  p.call_jaxpr_param = "call_jaxpr"
  p.impl = _call_impl_np
  p.def_eager(lambda *args, call_jaxpr, **_: _eval_call(call_jaxpr, *args))
  p.abstract_eval = lambda *avals, call_jaxpr, **_: list(call_jaxpr.out_avals)
  return p


custom_jvp_call_p = _call_primitive("custom_jvp_call", {"num_consts"})


def _add_closure_tangents(call_jaxpr, primals, tangents, num_consts, to):
  """The custom rule's output tangents `to` plus the contribution of the closed-over (now
  explicit) operands: the ordinary jvp of the body with respect to them (the custom rule
  covers the explicit arguments)."""
  const_tangents = tangents[:num_consts]
  if all(type(t) is Zero for t in const_tangents):
    return to
  tangents = list(const_tangents) + [Zero(ad.tangent_aval(core.get_aval(p)))
                                     for p in primals[num_consts:]]
  _, extra = ad.jvp_flat(lambda *xs: _eval_call(call_jaxpr, *xs), primals, tangents)
  return [ad.add_tangents(a, b) for a, b in zip(to, extra)]


def _custom_jvp_call_jvp(primals, tangents, *, call_jaxpr, jvp, num_consts, symbolic_zeros,
                         name):
  args_p, args_t = primals[num_consts:], tangents[num_consts:]
  if symbolic_zeros:
    ts = list(args_t)
  else:
    ts = [ad.instantiate_zeros(t) for t in args_t]
  if all(type(t) is Zero for t in args_t):
    po = custom_jvp_call_p.bind(*primals, call_jaxpr=call_jaxpr, jvp=jvp,
                                num_consts=num_consts, symbolic_zeros=symbolic_zeros,
                                name=name)
    to = [Zero.from_primal_value(p) for p in po]
  else:
    po, to = jvp(list(args_p), ts)
  return list(po), list(_add_closure_tangents(call_jaxpr, primals, tangents, num_consts, to))


ad.primitive_jvps[custom_jvp_call_p] = _custom_jvp_call_jvp


def _batch_call_jaxpr(call_jaxpr, axis_data, dims):
  """call_jaxpr vmapped over `dims` (all outputs batched at 0): (ClosedJaxpr without
  consts, the consts as operands)."""
  closed = batching.batch_jaxpr(call_jaxpr, axis_data, dims, 0)
  return ClosedJaxpr(pe.convert_constvars_jaxpr(closed.jaxpr), []), list(closed.consts)


def _custom_jvp_call_batch(axis_data, vals, dims, *, call_jaxpr, jvp, num_consts,
                           symbolic_zeros, name):
  size = axis_data.size
  new_call, consts = _batch_call_jaxpr(call_jaxpr, axis_data, dims)
  nc = num_consts
  arg_dims = list(dims[nc:])

  def batched_jvp(primals, tangents):
    # primals/tangents are the batched explicit arguments, laid out as `arg_dims`.
    zero_mask = [type(t) is Zero for t in tangents]
    live_t = [t for t in tangents if type(t) is not Zero]
    live_dims = [d for t, d in zip(tangents, arg_dims) if type(t) is not Zero]
    n_out = len(call_jaxpr.out_avals)

    def per_example(*xs):
      ps = list(xs[:len(primals)])
      it = iter(xs[len(primals):])
      ts = [Zero(_unbatched_tangent_aval(t, d)) if z else next(it)
            for t, d, z in zip(tangents, arg_dims, zero_mask)]
      po, to = jvp(ps, ts)
      return list(po) + [ad.instantiate_zeros(t) for t in to]
    outs = batching.vmap_flat(per_example, arg_dims + live_dims, lambda: [0] * (2 * n_out),
                              size, axis_data.name, axis_data.spmd_name,
                              list(primals) + live_t)
    return outs[:n_out], outs[n_out:]
  outs = custom_jvp_call_p.bind(*consts, *vals, call_jaxpr=new_call,
                                jvp=_Rule(batched_jvp, jvp.name), num_consts=len(consts) + nc,
                                symbolic_zeros=symbolic_zeros, name=name)
  # NB: the batched rule sees only the explicit arguments; the closed-over consts of the
  # new jaxpr (none, normally) and the original consts get the ordinary derivative.
  return outs, [0] * len(outs)


def _unbatched_tangent_aval(t, d):
  aval = t.aval
  if d is batching.not_mapped:
    return aval
  shape = list(aval.shape)
  del shape[d]
  return aval.update(shape=tuple(shape))


batching.axis_primitive_batchers[custom_jvp_call_p] = _custom_jvp_call_batch


# ---------------------------------------------------------------------------------------
# custom_vjp

class custom_vjp:
  """Set up a JAX-transformable function for a custom VJP rule definition.

  ``f = custom_vjp(fun, nondiff_argnums=())``; then ``f.defvjp(fwd, bwd)`` with
  ``fwd(*args) -> (out, residuals)`` and ``bwd(*nondiff_args, residuals, ct_out) ->
  tuple of cotangents, one per (differentiable) argument``.
  """

  def __init__(self, fun: Callable, nondiff_argnums: tuple = ()):
    functools.update_wrapper(self, fun)
    self.fun = fun
    self.nondiff_argnums = tuple(nondiff_argnums)
    self.fwd = self.bwd = None
    self.symbolic_zeros = False

  def __get__(self, obj, objtype=None):
    if obj is None:
      return self
    return functools.partial(self, obj)

  def defvjp(self, fwd: Callable, bwd: Callable, symbolic_zeros: bool = False,
             optimize_remat: bool = False):
    """Define the VJP rule with a forward function (output and residuals) and a backward
    function (residuals and output cotangent -> argument cotangents)."""
    del optimize_remat  # accepted for compatibility; residuals are what fwd returns
    self.fwd, self.bwd, self.symbolic_zeros = fwd, bwd, symbolic_zeros

  def __call__(self, *args, **kwargs):
    name = _fun_name(self.fun)
    if self.fwd is None or self.bwd is None:
      raise AttributeError(f"No VJP defined for custom_vjp function {name} using defvjp.")
    args = _resolve_kwargs(self.fun, args, kwargs)
    nondiff_argnums = tuple(i % len(args) for i in self.nondiff_argnums) if args else ()
    if core._eager_only:
      return self.fun(*args)
    nondiff, diff = _split_nondiff(args, set(nondiff_argnums))
    flat, in_tree = tree_util.tree_flatten(tuple(diff))
    flat = [_as_operand(x) for x in flat]
    in_avals = [core.get_aval(x) for x in flat]
    out_tree_box, res_tree_box = [], []
    fwd_name, bwd_name = _fun_name(self.fwd), _fun_name(self.bwd)
    fwd_rule, bwd_rule, sz = self.fwd, self.bwd, self.symbolic_zeros
    flat_fun = _flat_fun(self.fun, nondiff, nondiff_argnums, in_tree, out_tree_box, name)

    def flat_fwd(primals, perturbed):
      if sz:
        primals = [CustomVJPPrimal(p, pt) for p, pt in zip(primals, perturbed)]
      dargs = tree_util.tree_unflatten(in_tree, primals)
      out = fwd_rule(*_merge_nondiff(nondiff, list(dargs), nondiff_argnums))
      if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(f"Custom VJP fwd rule {fwd_name} for function {name} must produce a "
                        "pair (list or tuple of length two) where the first element "
                        "represents the primal output and the second the residuals, but "
                        f"got {out}.")
      po, res = out
      po_flat, po_tree = tree_util.tree_flatten(po)
      if out_tree_box and out_tree_box[0] != po_tree:
        raise TypeError(f"Custom VJP fwd rule {fwd_name} for function {name} must produce a "
                        "pair whose first element has the same container (pytree) "
                        f"structure as the output of {name}, but got {po_tree} while the "
                        f"function's output structure is {out_tree_box[0]}.")
      _store(out_tree_box, po_tree)
      res_flat, res_tree = tree_util.tree_flatten(res)
      res_tree_box[:] = [res_tree]
      return [_as_operand(o) for o in po_flat], [_as_operand(r) for r in res_flat]

    def flat_bwd(res, cts):
      py_res = tree_util.tree_unflatten(res_tree_box[0], res)
      cts = [SymbolicZero(c.aval) if type(c) is Zero else c for c in cts]
      py_ct = tree_util.tree_unflatten(out_tree_box[0], cts)
      out = bwd_rule(*nondiff, py_res, py_ct)
      return _check_bwd_output(out, in_tree, in_avals, bwd_name, name)

    fwd_r, bwd_r = _Rule(flat_fwd, fwd_name), _Rule(flat_bwd, bwd_name)
    outs = _bind_custom_vjp(flat_fun, fwd_r, bwd_r, flat, lambda: out_tree_box[0], sz)
    return tree_util.tree_unflatten(out_tree_box[0], outs)


def _check_bwd_output(out, in_tree, in_avals, bwd_name, name):
  arg_trees = tree_util.treedef_children(in_tree)
  is_seq = isinstance(out, (tuple, list))
  if not is_seq or len(out) != len(arg_trees):
    out_tree = tree_util.tree_structure(tuple(out) if is_seq else out, is_leaf=_is_zero_leaf)
    raise TypeError(
        "Custom VJP bwd rule must produce an output with the same container (pytree) "
        "structure as the args tuple of the primal function, and in particular must "
        "produce a tuple of length equal to the number of arguments to the primal "
        f"function, but got bwd output structure {out_tree} for primal input structure "
        f"{in_tree}.")
  # None stands for a zero cotangent of a whole (possibly nested) argument.
  expanded = []
  for ct, at in zip(out, arg_trees):
    if ct is None:
      expanded.extend([None] * at.num_leaves)
    else:
      leaves, t = tree_util.tree_flatten(ct, is_leaf=_is_zero_leaf)
      if t != at:
        raise TypeError(f"Custom VJP bwd rule {bwd_name} for function {name} must produce "
                        "an output with the same container (pytree) structure as the args "
                        f"tuple of the primal function, but got {t} where {at} was "
                        "expected.")
      expanded.extend(leaves)
  result = []
  for i, (ct, aval) in enumerate(zip(expanded, in_avals)):
    if _is_zero_leaf(ct):
      result.append(Zero(ad.tangent_aval(aval)))
      continue
    ct = _as_operand(ct)
    ca = core.get_aval(ct)
    expected = ad.tangent_aval(aval)
    if ca.shape != expected.shape:
      raise ValueError(
          "Custom VJP bwd rule must produce an output with the same type as the args "
          f"tuple of the primal function, but at output[{i}] the bwd rule produced an "
          f"output of type {ca.str_short(False)} corresponding to an input of type "
          f"{aval.str_short(False)}, so the shapes do not match")
    if expected.dtype == _dtypes.float0:
      result.append(Zero(expected))
      continue
    if ca.dtype != expected.dtype:
      from numjax._src.lax.lax import convert_element_type
      ct = convert_element_type(ct, expected.dtype)
    result.append(ct)
  return result


def _bind_custom_vjp(fun, fwd, bwd, args, out_trees, symbolic_zeros):
  trace = core.find_top_trace(args)
  tracers = [trace.full_raise(a) for a in args]
  outs = trace.process_custom_vjp_call(custom_vjp_call_p, fun, fwd, bwd, tracers, out_trees,
                                       symbolic_zeros)
  return [core.full_lower(o) for o in outs]


def _custom_lin_outputs(fwd, bwd, primals, tangents, symbolic_zeros):
  """fwd on the primals; the output tangents are `custom_lin` of the residuals and input
  tangents (staged by linearize, transposed into a call of bwd)."""
  perturbed = [type(t) is not Zero for t in tangents]
  po, res = fwd(primals, perturbed)
  ts = [ad.instantiate_zeros(t) for t in tangents]
  out_avals = tuple(ad.tangent_aval(core.get_aval(p)) for p in po)
  to = custom_lin_p.bind(*res, *ts, num_res=len(res), bwd=bwd, out_avals=out_avals,
                         symbolic_zeros=symbolic_zeros)
  return po, res, to


def _jvp_of_custom_vjp(trace, prim, fun, fwd, bwd, tracers, out_trees, symbolic_zeros):
  """JVPTrace: run fwd on the primals; the tangents go through `custom_lin`, whose
  transpose is bwd (forward-mode evaluation of it is an error, as in JAX)."""
  primals = [t.primal for t in tracers]
  tangents = [t.tangent for t in tracers]
  if all(type(t) is Zero for t in tangents):
    outs = _bind_custom_vjp(fun, fwd, bwd, primals, out_trees, symbolic_zeros)
    return [ad.JVPTracer(trace, o, Zero.from_primal_value(o)) for o in outs]
  po, res, to = _custom_lin_outputs(fwd, bwd, primals, tangents, symbolic_zeros)
  _check_no_leak(trace, list(po) + list(res), f"custom_vjp fwd rule {fwd}")
  return [ad.JVPTracer(trace, p, t) for p, t in zip(po, to)]


def _custom_vjp_as_primitive(trace, prim, fun, fwd, bwd, tracers, out_trees,
                             symbolic_zeros):
  call_jaxpr, consts = _closure_convert_call(fun, tracers)
  return prim.bind(*consts, *tracers, call_jaxpr=call_jaxpr, fwd=fwd, bwd=bwd,
                   num_consts=len(consts), out_trees=out_trees,
                   symbolic_zeros=symbolic_zeros, name=_Name(getattr(fun, "__name__", "fun")))


custom_vjp_call_p = _call_primitive("custom_vjp_call", {"num_consts", "out_trees"})


def _custom_vjp_call_jvp(primals, tangents, *, call_jaxpr, fwd, bwd, num_consts, out_trees,
                         symbolic_zeros, name):
  args_p, args_t = primals[num_consts:], tangents[num_consts:]
  if all(type(t) is Zero for t in args_t):
    po = custom_vjp_call_p.bind(*primals, call_jaxpr=call_jaxpr, fwd=fwd, bwd=bwd,
                                num_consts=num_consts, out_trees=out_trees,
                                symbolic_zeros=symbolic_zeros, name=name)
    to = [Zero.from_primal_value(p) for p in po]
  else:
    po, _, to = _custom_lin_outputs(fwd, bwd, list(args_p), list(args_t), symbolic_zeros)
  return list(po), list(_add_closure_tangents(call_jaxpr, primals, tangents, num_consts, to))


ad.primitive_jvps[custom_vjp_call_p] = _custom_vjp_call_jvp


def _all_at_front(vals, dims, size):
  return [batching.bdim_at_front(v, d, size) for v, d in zip(vals, dims)]


def _vmap_bwd(bwd, axis_data):
  """bwd vmapped with residuals, cotangents and results all batched at axis 0."""
  def batched_bwd(res, cts):
    live = [c for c in cts if type(c) is not Zero]
    mask = [type(c) is Zero for c in cts]

    def per_example(*xs):
      it = iter(xs[len(res):])
      cs = [Zero(_unbatched_tangent_aval(c, 0)) if z else next(it) for c, z in zip(cts, mask)]
      return [ad.instantiate_zeros(c) for c in bwd(list(xs[:len(res)]), cs)]
    return batching.vmap_flat(per_example, [0] * (len(res) + len(live)), lambda: 0,
                              axis_data.size, axis_data.name, axis_data.spmd_name,
                              list(res) + live)
  return _Rule(batched_bwd, str(bwd))


def _custom_vjp_call_batch(axis_data, vals, dims, *, call_jaxpr, fwd, bwd, num_consts,
                           out_trees, symbolic_zeros, name):
  # Every operand is batched at 0 first (broadcasting unbatched ones outside the call, so
  # the per-example cotangents of an unbatched operand are summed by that broadcast's
  # transpose); the rules are then vmapped with everything at 0.
  size = axis_data.size
  vals = _all_at_front(vals, dims, size)
  n = len(vals) - num_consts
  new_call, consts = _batch_call_jaxpr(call_jaxpr, axis_data, [0] * len(vals))
  vm = functools.partial(batching.vmap_flat, axis_size=size, axis_name=axis_data.name,
                         spmd_axis_name=axis_data.spmd_name)
  n_out = []

  def batched_fwd(primals, perturbed):
    def per_example(*xs):
      po, res = fwd(list(xs), perturbed)
      n_out[:] = [len(po)]
      return list(po) + list(res)
    outs = vm(per_example, [0] * n, lambda: 0, args=list(primals))
    return outs[:n_out[0]], outs[n_out[0]:]

  outs = custom_vjp_call_p.bind(*consts, *vals, call_jaxpr=new_call,
                                fwd=_Rule(batched_fwd, fwd.name),
                                bwd=_vmap_bwd(bwd, axis_data),
                                num_consts=len(consts) + num_consts, out_trees=out_trees,
                                symbolic_zeros=symbolic_zeros, name=name)
  return outs, [0] * len(outs)


batching.axis_primitive_batchers[custom_vjp_call_p] = _custom_vjp_call_batch


# custom_lin: the tangent map of a custom_vjp function, known only through its transpose.
custom_lin_p = Primitive("custom_lin")
custom_lin_p.multiple_results = True
custom_lin_p.hidden_params = frozenset({"bwd", "out_avals", "symbolic_zeros"})
custom_lin_p.numpy_tier_only = True


def _custom_lin_impl(*args, **params):
  raise TypeError("can't apply forward-mode autodiff (jvp) to a custom_vjp function.")


custom_lin_p.impl = _custom_lin_impl
custom_lin_p.def_eager(_custom_lin_impl)
custom_lin_p.abstract_eval = lambda *avals, num_res, bwd, out_avals, symbolic_zeros: list(
    out_avals)


def _custom_lin_transpose(cts, *args, num_res, bwd, out_avals, symbolic_zeros):
  res = list(args[:num_res])
  if not symbolic_zeros:
    cts = [ad.instantiate_zeros(c) for c in cts]
  cts_in = bwd(res, list(cts))
  return [None] * num_res + list(cts_in)


def _custom_lin_jvp(primals, tangents, **params):
  _custom_lin_impl()


def _custom_lin_batch(axis_data, vals, dims, *, num_res, bwd, out_avals, symbolic_zeros):
  vals = _all_at_front(vals, dims, axis_data.size)
  new_avals = tuple(a.update(shape=(axis_data.size,) + a.shape) for a in out_avals)
  outs = custom_lin_p.bind(*vals, num_res=num_res,
                           bwd=_vmap_bwd(bwd, axis_data),
                           out_avals=new_avals, symbolic_zeros=symbolic_zeros)
  return outs, [0] * len(outs)


ad.primitive_jvps[custom_lin_p] = _custom_lin_jvp
ad.primitive_transposes[custom_lin_p] = _custom_lin_transpose
batching.axis_primitive_batchers[custom_lin_p] = _custom_lin_batch

ad.custom_hooks["jvp_of_custom_jvp"] = _jvp_of_custom_jvp
ad.custom_hooks["jvp_of_custom_vjp"] = _jvp_of_custom_vjp
core.custom_call_hooks["custom_jvp"] = _custom_jvp_as_primitive
core.custom_call_hooks["custom_vjp"] = _custom_vjp_as_primitive


# ---------------------------------------------------------------------------------------
# custom_gradient, closure_convert, linear_call

def custom_gradient(fun):
  """``fun(*args) -> (out, vjp_fn)`` becomes a function whose reverse-mode derivative is
  ``vjp_fn(ct) -> cotangents`` (a tuple, one per argument; a bare value for one argument)."""
  @custom_vjp
  def wrapped(*args):
    return fun(*args)[0]

  def fwd(*args):
    out, vjp_fn = fun(*args)
    return out, _Box(vjp_fn)

  def bwd(box, ct):
    cts = box.fn(ct)
    return tuple(cts) if isinstance(cts, (tuple, list)) else (cts,)
  wrapped.defvjp(fwd, bwd)
  return wrapped


class _Box:
  """A residual holding a Python callable (a pytree with no leaves)."""
  def __init__(self, fn):
    self.fn = fn


tree_util.register_pytree_node(_Box, lambda b: ((), b.fn), lambda fn, _: _Box(fn))


def closure_convert(fun: Callable, *example_args):
  """Closure-convert `fun` at the example arguments' shapes: returns ``(converted,
  hoisted)`` where ``converted(*args, *hoisted) == fun(*args)`` and `hoisted` are the
  closed-over tracers (values that a transformation may differentiate)."""
  flat, in_tree = tree_util.tree_flatten(example_args)
  avals = [core.get_aval(_as_operand(x)) for x in flat]
  out_tree_box = []

  def flat_fun(*xs):
    out = fun(*tree_util.tree_unflatten(in_tree, xs))
    of, ot = tree_util.tree_flatten(out)
    out_tree_box.append(ot)
    return [_as_operand(o) for o in of]
  closed = pe.trace_to_jaxpr(flat_fun, avals)
  consts = list(closed.consts)
  hoist = [isinstance(c, Tracer) for c in consts]
  hoisted = [c for c, h in zip(consts, hoist) if h]
  kept = [c for c, h in zip(consts, hoist) if not h]
  jaxpr = closed.jaxpr
  n_args = len(flat)
  out_tree = out_tree_box[0]

  def converted(*args):
    *args, = args
    user_args, hoisted_vals = args[:len(args) - len(hoisted)], args[len(args) - len(hoisted):]
    af, at = tree_util.tree_flatten(tuple(user_args))
    if at != in_tree or len(af) != n_args:
      raise TypeError(f"closure-converted function expected arguments with structure "
                      f"{in_tree}, got {at}.")
    it_h, it_k = iter(hoisted_vals), iter(kept)
    cvals = [next(it_h) if h else next(it_k) for h in hoist]
    outs = core.eval_jaxpr(jaxpr, cvals, *[_as_operand(a) for a in af])
    return tree_util.tree_unflatten(out_tree, outs)
  converted.__name__ = _fun_name(fun)
  return converted, hoisted
