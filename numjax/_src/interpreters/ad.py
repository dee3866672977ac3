"""Forward- and reverse-mode differentiation.

One derivative table: `primitive_jvps` (non-linear primitives) and `primitive_transposes`
(linear primitives). Reverse mode is linearize + transpose: `linearize` runs the primal
computation on the traces below and stages only the tangent computation (a linear jaxpr) with
a non-dynamic `StagingTrace`; `backward_pass` then transposes that jaxpr.

Tangents may be symbolic zeros (`Zero`), so that integer inputs and unused paths cost
nothing. Rules registered with `defjvp` get the zero handling for free.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.array import Array
from numjax._src.core import Primitive, ShapedArray, Tracer
from numjax._src.interpreters import partial_eval as pe

primitive_jvps: dict[Primitive, Callable] = {}
primitive_transposes: dict[Primitive, Callable] = {}
# Primitives whose outputs have no derivative (comparisons, argmax, iota, ...).
nondifferentiable: set = set()
# Primitives declared linear (in all or some inputs): they must have a transpose rule.
linear_primitives: set = set()


# ---------------------------------------------------------------------------------------
# Symbolic zeros and tangent types

class Zero:
  __slots__ = ("aval",)

  def __init__(self, aval):
    self.aval = aval

  def __repr__(self):
    return f"Zero({self.aval.str_short()})"

  @staticmethod
  def from_primal_value(val):
    return Zero(tangent_aval(val.aval if isinstance(val, _has_aval) else core.get_aval(val)))


_has_aval = (Tracer, Array)  # values whose .aval is their abstract value


def tangent_dtype(dtype):
  if _dtypes.issubdtype(dtype, np.inexact):
    return dtype
  return _dtypes.float0


def tangent_aval(aval: ShapedArray) -> ShapedArray:
  if aval.dtype.kind in "fc":  # (float/complex: its own tangent type, no lattice query)
    return aval
  dt = tangent_dtype(aval.dtype)
  if dt is aval.dtype or dt == aval.dtype:
    return aval
  return ShapedArray(aval.shape, dt, False)


class UndefinedPrimal:
  """Marks a linear input of an equation during transposition."""
  __slots__ = ("aval",)

  def __init__(self, aval):
    self.aval = aval

  def __repr__(self):
    return f"UndefinedPrimal({self.aval})"


def is_undefined_primal(x):
  return type(x) is UndefinedPrimal


# Filled in by lax (it owns the primitives these need): zeros of an aval, and a + b.
_hooks: dict[str, Callable] = {}


def register_hooks(*, zeros_like_aval, add):
  _hooks["zeros"] = zeros_like_aval
  _hooks["add"] = add


def zeros_like_aval(aval):
  if aval.dtype == _dtypes.float0:
    return core._wrap_array(np.zeros(aval.shape, _dtypes.float0), False)
  return _hooks["zeros"](aval)


def instantiate_zeros(t):
  return zeros_like_aval(t.aval) if type(t) is Zero else t


def add_tangents(a, b):
  if type(a) is Zero:
    return b
  if type(b) is Zero:
    return a
  return _hooks["add"](a, b)


# ---------------------------------------------------------------------------------------
# JVP interpreter

class JVPTracer(Tracer):
  __slots__ = ("primal", "tangent", "_aval")

  def __init__(self, trace, primal, tangent):
    self._trace = trace
    self.primal = primal
    self.tangent = tangent
    self._aval = None

  @property
  def aval(self):
    a = self._aval  # the primal never changes: compute its aval once
    if a is None:
      p = self.primal
      a = self._aval = p.aval if type(p) is Array else core.get_aval(p)
    return a

  # (one Python frame per metadata read, instead of Tracer's property -> aval -> attribute)
  @property
  def shape(self):
    a = self._aval
    return (a if a is not None else self.aval).shape

  @property
  def dtype(self):
    a = self._aval
    return (a if a is not None else self.aval).dtype

  @property
  def weak_type(self):
    a = self._aval
    return (a if a is not None else self.aval).weak_type

  def full_lower(self):
    if type(self.tangent) is Zero:
      return core.full_lower(self.primal)
    return self

  def to_concrete_value(self):
    p = self.primal
    if isinstance(p, Tracer):
      return p.to_concrete_value()
    return p


class JVPTrace(core.Trace):
  __slots__ = ()

  def pure(self, val):
    return JVPTracer(self, val, Zero.from_primal_value(val))

  lift = pure

  def process_primitive(self, primitive, tracers, params):
    primals, tangents = [], []
    nonzero = False
    for t in tracers:  # (one loop: two list comprehensions are two frames in 3.11)
      primals.append(t.primal)
      g = t.tangent
      tangents.append(g)
      if not nonzero and type(g) is not Zero:
        nonzero = True
    if not nonzero or primitive in nondifferentiable:
      out = _bind(primitive, primals, params)
      if primitive.multiple_results:
        return [JVPTracer(self, o, Zero.from_primal_value(o)) for o in out]
      return JVPTracer(self, out, Zero.from_primal_value(out))
    rule = primitive_jvps.get(primitive)
    if rule is None:
      raise NotImplementedError(f"Differentiation rule for '{primitive.name}' not implemented")
    primal_out, tangent_out = rule(primals, tangents, **params)
    if primitive.multiple_results:
      return [JVPTracer(self, p, t) for p, t in zip(primal_out, tangent_out)]
    return JVPTracer(self, primal_out, tangent_out)

  # custom_jvp / custom_vjp functions are differentiated with their own rules; the logic
  # lives in custom_derivatives.py, which installs it in `custom_hooks`.
  def process_custom_jvp_call(self, prim, fun, jvp, tracers, *, symbolic_zeros):
    return custom_hooks["jvp_of_custom_jvp"](self, prim, fun, jvp, tracers, symbolic_zeros)

  def process_custom_vjp_call(self, prim, fun, fwd, bwd, tracers, out_trees, symbolic_zeros):
    return custom_hooks["jvp_of_custom_vjp"](self, prim, fun, fwd, bwd, tracers, out_trees,
                                             symbolic_zeros)


custom_hooks: dict[str, Callable] = {}


def _bind(primitive, args, params):
  """primitive.bind(*args, **params) from a jvp rule. Under a transformation every bind
  (Primitive.bind, lax's checked elementwise bind) is `core.bind_with_trace`: go there
  directly (two frames fewer per differentiated operation)."""
  if core._eager_only:
    return primitive.bind(*args, **params)
  return core.bind_with_trace(primitive, args, params)


def jvp_flat(fun: Callable, primals, tangents):
  """fun: list -> list. Returns (primals_out, tangents_out); tangent outputs may be Zero."""
  with core.new_main(JVPTrace) as main:
    trace = JVPTrace(main)
    ins = [JVPTracer(trace, p, t) for p, t in zip(primals, tangents)]
    outs = fun(*ins)
    outs = [trace.full_raise(o) for o in outs]
    return [o.primal for o in outs], [o.tangent for o in outs]


# ---------------------------------------------------------------------------------------
# Rule helpers (so that rules are one line each)

def defjvp(primitive, *jvp_fns):
  """Per-argument JVPs: jvp_fns[i](g_i, *primals, **params) -> contribution (None: zero)."""
  def rule(primals, tangents, **params):
    out = _bind(primitive, primals, params)
    acc = None
    for fn, t in zip(jvp_fns, tangents):
      if fn is None or type(t) is Zero:
        continue
      contrib = fn(t, *primals, **params)
      acc = contrib if acc is None else add_tangents(acc, contrib)
    return out, (Zero.from_primal_value(out) if acc is None else acc)
  primitive_jvps[primitive] = rule
  return rule


def defjvp2(primitive, *jvp_fns):
  """Like defjvp, but each fn also receives the primal output: fn(g, ans, *primals)."""
  def rule(primals, tangents, **params):
    ans = _bind(primitive, primals, params)
    acc = None
    for fn, t in zip(jvp_fns, tangents):
      if fn is None or type(t) is Zero:
        continue
      contrib = fn(t, ans, *primals, **params)
      acc = contrib if acc is None else add_tangents(acc, contrib)
    return ans, (Zero.from_primal_value(ans) if acc is None else acc)
  primitive_jvps[primitive] = rule
  return rule


def deflinear(primitive, transpose_rule):
  """A primitive linear in all its inputs: jvp applies it to the tangents."""
  def jvp(primals, tangents, **params):
    out = _bind(primitive, primals, params)
    for t in tangents:
      if type(t) is not Zero:
        break
    else:
      return out, Zero.from_primal_value(out)
    ts = [instantiate_zeros(t) if type(t) is Zero else t for t in tangents]
    return out, primitive.bind(*ts, **params)
  primitive_jvps[primitive] = jvp
  primitive_transposes[primitive] = transpose_rule
  linear_primitives.add(primitive)


def deflinear2(primitive, transpose_rule):
  """Linear in some inputs (those marked UndefinedPrimal at transpose time)."""
  primitive_transposes[primitive] = transpose_rule
  linear_primitives.add(primitive)


def defnondiff(primitive):
  nondifferentiable.add(primitive)


# ---------------------------------------------------------------------------------------
# Linearize and transpose

def linearize_flat(fun: Callable, primals):
  """Returns (primals_out, linear ClosedJaxpr: tangents_in -> tangents_out, out_zero_mask).

  The primal computation runs on the traces below (eagerly, when nothing else is active);
  only operations touching a tangent are staged, so the jaxpr is linear in its inputs and
  its constants are the residuals. Integer/bool inputs get symbolic-zero (float0) tangents.
  """
  builder = pe.JaxprBuilder()
  builder.record_source = False  # the tangent program is internal: no user source lines
  with core.new_main(pe.StagingTrace, global_data=builder) as tmain:
    ttrace = pe.StagingTrace(tmain)
    avals = [core.get_aval(p) for p in primals]
    tan_in = [ttrace.new_arg(tangent_aval(a)) for a in avals]
    with core.new_main(JVPTrace) as jmain:
      jtrace = JVPTrace(jmain)
      ins = [JVPTracer(jtrace, p, t if is_differentiable_aval(a) else Zero(t.aval))
             for p, t, a in zip(primals, tan_in, avals)]
      outs = fun(*ins)
      outs = [jtrace.full_raise(o) for o in outs]
      primals_out = [o.primal for o in outs]
      tangents_out = [o.tangent for o in outs]
    out_zero = [type(t) is Zero for t in tangents_out]
    tan_out = [ttrace.full_raise(instantiate_zeros(t)) for t in tangents_out]
    jaxpr, consts = builder.to_jaxpr(tan_in, tan_out)
  builder.release_tracers()  # (no cyclic garbage: residual buffers freed promptly)
  return primals_out, core.ClosedJaxpr(jaxpr, consts), out_zero


def is_differentiable_aval(aval) -> bool:
  return _dtypes.issubdtype(aval.dtype, np.inexact)


def jvp_jaxpr(closed: core.ClosedJaxpr, nonzeros, instantiate=True):
  """The jvp of a jaxpr as a jaxpr: (primals..., nonzero tangents...) ->
  (primal outs..., tangent outs...). `instantiate` (bool or per-output list) makes zero
  tangent outputs concrete zeros; returns (ClosedJaxpr, out_nonzeros)."""
  n_out = len(closed.out_avals)
  if isinstance(instantiate, bool):
    instantiate = [instantiate] * n_out
  in_avals = list(closed.in_avals)
  tan_avals = [tangent_aval(a) for a, nz in zip(in_avals, nonzeros) if nz]
  out_nz_box = []

  def f(*args):
    primals, tans = args[:len(in_avals)], list(args[len(in_avals):])
    tangents = [tans.pop(0) if nz else Zero(tangent_aval(a))
                for a, nz in zip(in_avals, nonzeros)]
    po, to = jvp_flat(lambda *xs: core.eval_jaxpr(closed.jaxpr, closed.consts, *xs),
                      primals, tangents)
    to = [instantiate_zeros(t) if inst else t for t, inst in zip(to, instantiate)]
    out_nz_box.append([type(t) is not Zero for t in to])
    return list(po) + [t for t in to if type(t) is not Zero]
  out = pe.trace_to_jaxpr(f, in_avals + tan_avals)
  return out, out_nz_box[0]


def backward_pass(jaxpr: core.Jaxpr, consts, args, cts_out):
  """Transpose `jaxpr` w.r.t. the inputs given as UndefinedPrimal in `args`.

  Equations that do not depend on a linear input are evaluated forward first (they compute
  values the linear part needs). Returns one cotangent (or Zero) per jaxpr input.
  """
  # (Vars and Literals hash by identity, so set/dict membership needs no type test: a
  # Literal is never in `linear` nor in `ct_env`.)
  primal_env = dict(zip(jaxpr.constvars, consts))
  linear = set()
  for v, a in zip(jaxpr.invars, args):
    if type(a) is UndefinedPrimal:
      linear.add(v)
    else:
      primal_env[v] = a
  Literal = core.Literal

  def read_primal(v):
    if type(v) is Literal:
      return v.val
    if v in linear:
      return UndefinedPrimal(v.aval)
    return primal_env[v]

  lin_eqns = []
  isdisjoint = linear.isdisjoint
  for eqn in jaxpr.eqns:
    if not isdisjoint(eqn.invars):
      lin_eqns.append(eqn)
      linear.update(eqn.outvars)
    else:
      outs = eqn.primitive.bind(*[read_primal(v) for v in eqn.invars], **eqn.params)
      if eqn.primitive.multiple_results:
        primal_env.update(zip(eqn.outvars, outs))
      else:
        primal_env[eqn.outvars[0]] = outs

  ct_env = {}

  def write_ct(v, ct):
    if ct is None or type(ct) is Zero:
      return
    prev = ct_env.get(v)
    ct_env[v] = ct if prev is None else add_tangents(prev, ct)

  for v, ct in zip(jaxpr.outvars, cts_out):
    if v in linear:
      write_ct(v, ct)

  pop, get = ct_env.pop, ct_env.get
  for eqn in reversed(lin_eqns):
    prim = eqn.primitive
    if prim.multiple_results:
      cts = [pop(v, None) for v in eqn.outvars]
      if all(c is None for c in cts):
        continue
      ct = [Zero(v.aval) if c is None else c for c, v in zip(cts, eqn.outvars)]
    else:
      ct = pop(eqn.outvars[0], None)
      if ct is None:
        continue
    rule = primitive_transposes.get(prim)
    if rule is None:
      raise NotImplementedError(f"Transpose rule (for reverse-mode differentiation) for "
                                f"'{prim.name}' not implemented")
    invars = eqn.invars
    args = []  # read_primal and write_ct inlined: this loop runs once per linear equation
    for v in invars:
      if type(v) is Literal:
        args.append(v.val)
      elif v in linear:
        args.append(UndefinedPrimal(v.aval))
      else:
        args.append(primal_env[v])
    cts_in = rule(ct, *args, **eqn.params)
    for v, c in zip(invars, cts_in):
      if c is None or type(c) is Zero or v not in linear:
        continue
      prev = get(v)
      ct_env[v] = c if prev is None else add_tangents(prev, c)
  out = []
  for v in jaxpr.invars:
    if v in linear:
      ct = pop(v, None)
      out.append(Zero(v.aval) if ct is None else ct)
    else:
      out.append(None)
  return out


def vjp_flat(fun: Callable, primals):
  """Returns (primals_out, vjp_fn: cts_out -> cts_in (Zero for unused))."""
  primals_out, lin, out_zero = linearize_flat(fun, primals)
  in_avals = [tangent_aval(core.get_aval(p)) for p in primals]

  def vjp_fn(cts_out):
    args = [UndefinedPrimal(a) for a in in_avals]
    cts = backward_pass(lin.jaxpr, lin.consts, args, cts_out)
    return [Zero(a) if c is None else c for c, a in zip(cts, in_avals)]
  return primals_out, vjp_fn, lin
