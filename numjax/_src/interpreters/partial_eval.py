"""Staging: trace Python functions into jaxprs.

`StagingTrace` records every primitive applied to its tracers as a jaxpr equation. Pushed as
the *dynamic* trace (jit, make_jaxpr, control-flow bodies) it stages every operation, even
those on constants; pushed as an ordinary trace (linearize) it stages only the operations that
touch its tracers, so the primal work runs below it and only the linear tangent program is
recorded.

`partial_eval_jaxpr` splits an existing jaxpr into a known and an unknown part (used by
control flow to separate residual computation from linear tangent computation).
"""
from __future__ import annotations

import sys
from typing import Callable, NamedTuple, Sequence

import numpy as np

from numjax._src import core
from numjax._src.array import Array
from numjax._src.config import config
from numjax._src.core import (ClosedJaxpr, Jaxpr, JaxprEqn, Literal, ShapedArray, Tracer,
                              Var)


class TracingDebugInfo(NamedTuple):
  """What is being traced, for error messages: 'the function f at file:line for jit'."""
  traced_for: str            # "jit", "make_jaxpr", ...
  func_name: str
  func_src: str              # "file:line" of the definition
  arg_names: list | None     # one per flat input


_is_internal_code: dict = {}  # code object -> whether its frames are numjax's (skipped)


def source_info(_getframe=sys._getframe):
  """(file, line, function) of the innermost user frame (cheap: no frame is kept, and
  whether a code object is numjax's own is decided once per code object)."""
  f = _getframe(2)
  while f is not None:
    code = f.f_code
    internal = _is_internal_code.get(code)
    if internal is None:
      fn = code.co_filename
      internal = _is_internal_code[code] = (
          fn.startswith(core._NUMJAX_DIR) or fn.endswith(("contextlib.py", "functools.py")))
    if not internal:
      return (code.co_filename, f.f_lineno, code.co_name)
    f = f.f_back
  return None


class StagingTracer(Tracer):
  __slots__ = ("_aval", "_debug")

  def __init__(self, trace, aval, debug=None):
    self._trace = trace
    self._aval = aval
    self._debug = debug

  @property
  def aval(self):
    return self._aval

  shape = property(lambda self: self._aval.shape)
  dtype = property(lambda self: self._aval.dtype)
  weak_type = property(lambda self: self._aval.weak_type)

  def __repr__(self):
    a = self._aval
    return f"JitTracer({'~' if a.weak_type else ''}{a.str_short(False)})"

  def _var(self):
    b = self._trace.main.global_data
    return b.tracer_to_var.get(id(self)) if isinstance(b, JaxprBuilder) else None

  def _provenance(self):
    """Which function was being traced and which of its arguments this value depends on,
    and (for derived values) the operations that made it a tracer."""
    b = self._trace.main.global_data
    if not isinstance(b, JaxprBuilder):
      return ""
    info = b.debug_info
    var = self._var()
    deps, ops = b.dependencies(var) if var is not None else ([], [])
    msg = ""
    if isinstance(info, TracingDebugInfo):
      msg += (f"\nThe error occurred while tracing the function {info.func_name} at "
              f"{info.func_src} for {info.traced_for}.")
      names = info.arg_names
      if deps and names and all(i < len(names) for i in deps):
        args = [names[i] for i in deps]
        if len(args) == 1:
          msg += (" This concrete value was not available in Python because it depends on "
                  f"the value of the argument {args[0]}.")
        else:
          msg += (" This concrete value was not available in Python because it depends on "
                  f"the values of the arguments {', '.join(args[:-1])} and {args[-1]}.")
    elif self._debug:
      msg += f"\nThe value depends on {self._debug}."
    if ops:
      lines = []
      for e in ops[-5:]:
        si = e.source_info
        where = f"\n    from line {si[0]}:{si[1]} ({si[2]})" if si else ""
        lines.append(f"  operation {_pp_short_eqn(e)}{where}")
      msg += ("\nThis value became a tracer due to JAX operations on these lines:\n\n"
              + "\n\n".join(lines) + "\n")
    return msg

  @property
  def _creation_site(self):
    b = self._trace.main.global_data
    if not isinstance(b, JaxprBuilder):
      return None
    var = self._var()
    for e in b.eqns:
      if var in e.outvars and e.source_info:
        si = e.source_info
        return f"{si[0]}:{si[1]} (in {si[2]}), by `{e.primitive.name}`"
    info = b.debug_info
    if isinstance(info, TracingDebugInfo):
      return (f"the start of tracing {info.func_name} (defined at {info.func_src}) for "
              f"{info.traced_for}: it is one of its arguments")
    return None

  def _short_repr(self):
    return f"traced array with shape {self._aval.str_short(False)}"


def _pp_short_eqn(e):
  names = core._Names()
  outs = " ".join(f"{names(v)}:{v.aval.str_short()}" for v in e.outvars)
  ins = " ".join(names(v) for v in e.invars)
  return f"{outs} = {e.primitive.name} {ins}"


class JaxprBuilder:
  """The mutable state of one staging: equations, and where each tracer's value lives."""

  def __init__(self, debug_info=None):
    self.eqns: list[JaxprEqn] = []
    self.tracer_to_var: dict[int, Var] = {}
    self.constid_to_tracer: dict[int, StagingTracer] = {}
    self.constvar_to_val: dict[Var, object] = {}
    self.tracers: list[StagingTracer] = []  # keeps ids stable while staging
    self.debug_info = debug_info
    self.invars: list[Var] = []
    # Equations remember the user's source line (error messages, debug_nans). Linearize's
    # tangent program turns that off: walking the Python stack costs more than the op.
    self.record_source = True

  def dependencies(self, var):
    """(indices of the inputs `var` depends on, the equations on the way) - error paths only."""
    producer = {}
    for e in self.eqns:
      for v in e.outvars:
        producer[v] = e
    pos = {v: i for i, v in enumerate(self.invars)}
    deps, ops, seen, stack = set(), [], set(), [var]
    while stack:
      v = stack.pop()
      if v in seen or type(v) is not Var:
        continue
      seen.add(v)
      if v in pos:
        deps.add(pos[v])
      e = producer.get(v)
      if e is not None:
        ops.append(e)
        stack.extend(e.invars)
    order = {id(e): i for i, e in enumerate(self.eqns)}
    uniq = {id(e): e for e in ops}
    ops = sorted(uniq.values(), key=lambda e: order[id(e)])
    return sorted(deps), ops

  def new_tracer(self, trace, aval, debug=None) -> StagingTracer:
    t = StagingTracer(trace, aval, debug)
    self.tracers.append(t)
    return t

  def add_var(self, tracer) -> Var:
    v = self.tracer_to_var[id(tracer)] = Var(tracer.aval)
    return v

  def getvar(self, tracer) -> Var:
    return self.tracer_to_var[id(tracer)]

  def add_eqn(self, eqn):
    self.eqns.append(eqn)

  def release_tracers(self):
    """Staging is over: drop the references to tracers (each points back here through its
    trace: a cycle), so that the staging state is freed by refcounting rather than by the
    cyclic GC later. An escaped tracer still finds its variable in `tracer_to_var`."""
    self.tracers = []
    self.constid_to_tracer = {}

  def to_jaxpr(self, in_tracers, out_tracers):
    invars = [self.getvar(t) for t in in_tracers]
    outvars = [self.getvar(t) for t in out_tracers]
    constvars, constvals = [], []
    literals: dict[Var, Literal] = {}
    for v, val in self.constvar_to_val.items():
      if _literalable(val):
        literals[v] = Literal(val, v.aval)
      else:
        constvars.append(v)
        constvals.append(val)
    if literals:
      get = literals.get
      sub = lambda x: get(x, x) if type(x) is Var else x
      lit_isdisjoint = literals.keys().isdisjoint
      eqns = []
      for e in self.eqns:  # rebuild only the equations that read a literal
        if not lit_isdisjoint(e.invars):  # (as e._replace(invars=...), without its frames)
          e = _new_eqn(JaxprEqn, (e[0], [get(x, x) for x in e.invars], *e[2:]))
        eqns.append(e)
      outvars = [sub(x) for x in outvars]
    else:
      eqns = list(self.eqns)
    if constvars and not _used_vars(eqns, outvars).issuperset(constvars):
      used = _used_vars(eqns, outvars)
      keep = [i for i, v in enumerate(constvars) if v in used]
      constvars = [constvars[i] for i in keep]
      constvals = [constvals[i] for i in keep]
    jaxpr = Jaxpr(constvars, invars, outvars, eqns, debug_info=self.debug_info)
    return jaxpr, constvals


def _used_vars(eqns, outvars):
  """The variables read by `eqns` or returned (Literals may be in the set too: they hash by
  identity, so they never match a Var)."""
  used = set(outvars)
  for e in eqns:
    used.update(e.invars)
  return used


def _literalable(val) -> bool:
  if type(val) is Array:
    return not val.shape
  if isinstance(val, Tracer):
    return False
  shape = getattr(val, "shape", ())
  return shape == () and not hasattr(val, "_is_prng_key")


class StagingTrace(core.Trace):
  __slots__ = ()

  @property
  def builder(self) -> JaxprBuilder:
    return self.main.global_data

  def new_arg(self, aval, debug=None) -> StagingTracer:
    b = self.builder
    t = b.new_tracer(self, aval, debug)
    b.invars.append(b.add_var(t))
    return t

  def pure(self, val):
    b = self.main.global_data
    t = b.constid_to_tracer.get(id(val))
    if t is None:
      aval = val.aval if type(val) is Array else core.get_aval(val)
      t = StagingTracer(self, aval)
      b.tracers.append(t)
      var = b.tracer_to_var[id(t)] = Var(aval)
      b.constid_to_tracer[id(val)] = t
      b.constvar_to_val[var] = val
      b.tracers.append(val)  # keep val alive so its id stays unique
    return t

  lift = pure

  def process_primitive(self, primitive, tracers, params):
    # (the operands were raised to this trace: all StagingTracers, read `_aval` directly)
    b = self.main.global_data
    t2v = b.tracer_to_var
    if primitive.name in const_fold_rules:
      folded = _try_fold(self, b, primitive, tracers, params)
      if folded is not None:
        return folded
    avals_in, invars, key = [], [], [primitive]
    for t in tracers:  # (one loop, not three list comprehensions: one frame each in 3.11)
      a = t._aval
      avals_in.append(a)
      key.append((a.shape, a.dtype, a.weak_type))
      invars.append(t2v[id(t)])
    if primitive.multiple_results or primitive.collective or primitive.uncached_shape_rule:
      out = primitive.abstract_eval(*avals_in, **params)
    else:  # the memoised shape rule (see _abstract_eval), inlined
      try:
        key = (*key, *params.items())
        out = _aval_cache.get(key)
      except TypeError:
        key = out = None
      if out is None:
        out = _abstract_eval(primitive, avals_in, params)
    keep = b.tracers
    if primitive.multiple_results:
      outs = [StagingTracer(self, a) for a in out]
      outvars = []
      for t, a in zip(outs, out):
        keep.append(t)
        v = t2v[id(t)] = Var(a)
        outvars.append(v)
    else:  # (StagingTracer(self, out) and Var(out), inlined: no __init__ frames)
      outs = _new_obj(StagingTracer)
      outs._trace, outs._aval, outs._debug = self, out, None
      keep.append(outs)
      v = _new_obj(Var)
      v.count, v.aval, v.suffix = next(Var._counter), out, ""
      t2v[id(outs)] = v
      outvars = [v]
    b.eqns.append(_new_eqn(JaxprEqn, (primitive, invars, params, outvars,
                                      source_info() if b.record_source else None)))
    return outs


# primitive name -> rule(const values, **params) -> value or None: JAX's constant folding at
# staging time. convert_element_type of a scalar literal becomes a literal of the new type
# (`mul a 2.0:f32[]`, not a convert of `2.0`), as JAX folds it.
const_fold_rules: dict = {}


def _fold_convert(x, *, new_dtype, weak_type, sharding=None):
  if type(x) is not Array or x.shape:
    return None
  from numjax._src.lax.convert import convert_element_type_p
  return convert_element_type_p.eager(x, new_dtype=new_dtype, weak_type=weak_type,
                                      sharding=sharding)


const_fold_rules["convert_element_type"] = _fold_convert


def _try_fold(trace, b, primitive, tracers, params):
  vals = []
  for t in tracers:
    v = b.tracer_to_var.get(id(t))
    if v is None or v not in b.constvar_to_val:
      return None
    vals.append(b.constvar_to_val[v])
  out = const_fold_rules[primitive.name](*vals, **params)
  return None if out is None else trace.pure(out)


_new_eqn = tuple.__new__  # JaxprEqn without NamedTuple.__new__'s Python-level frame
_new_obj = object.__new__

# Shape rules of single-result primitives, memoised per (primitive, input avals, params):
# staging the same op twice (every grad call re-stages its tangent program) pays a dict
# lookup. Not for multiple-result (call-like) primitives, collectives (their rule reads the
# axis environment) or effectful ones; failures are not cached; cleared on config change.
_aval_cache: dict = {}
config.on_change(lambda name, value: _aval_cache.clear())


def _abstract_eval(primitive, avals_in, params):
  if primitive.multiple_results or primitive.collective or primitive.uncached_shape_rule:
    return primitive.abstract_eval(*avals_in, **params)
  try:
    key = (primitive, *[(a.shape, a.dtype, a.weak_type) for a in avals_in],
           *params.items())
    out = _aval_cache.get(key)
  except TypeError:  # an unhashable param (or an aval of another kind)
    return primitive.abstract_eval(*avals_in, **params)
  if out is None:
    out = primitive.abstract_eval(*avals_in, **params)
    if type(out) is ShapedArray:
      if len(_aval_cache) >= 8192:
        _aval_cache.clear()
      _aval_cache[key] = out
  return out


def trace_to_jaxpr(fun: Callable, in_avals: Sequence[ShapedArray], debug=None,
                   debug_info=None) -> ClosedJaxpr:
  """Stage `fun(*tracers) -> list of outputs` into a ClosedJaxpr (consts may be tracers)."""
  builder = JaxprBuilder(debug_info)
  with core.new_main(StagingTrace, dynamic=True, global_data=builder) as main:
    trace = StagingTrace(main)
    in_tracers = [trace.new_arg(a, None if debug is None else debug[i])
                  for i, a in enumerate(in_avals)]
    outs = fun(*in_tracers)
    out_tracers = [trace.full_raise(o) for o in outs]
    jaxpr, consts = builder.to_jaxpr(in_tracers, out_tracers)
  builder.release_tracers()
  return ClosedJaxpr(jaxpr, consts)


def convert_constvars_jaxpr(jaxpr: Jaxpr) -> Jaxpr:
  """Move constvars to the front of invars."""
  return Jaxpr([], jaxpr.constvars + jaxpr.invars, jaxpr.outvars, jaxpr.eqns,
               jaxpr.effects, jaxpr.debug_info)


def dce_jaxpr(jaxpr: Jaxpr, used_outputs: Sequence[bool], instantiate=False):
  """Drop equations whose results are unused. Returns (jaxpr, used_inputs)."""
  outvars = [v for v, u in zip(jaxpr.outvars, used_outputs) if u]
  live = set(v for v in outvars if type(v) is Var)
  new_eqns = []
  for e in reversed(jaxpr.eqns):
    if any(v in live for v in e.outvars) or getattr(e.primitive, "has_effects", False):
      new_eqns.append(e)
      live.update(v for v in e.invars if type(v) is Var)
  new_eqns.reverse()
  used_inputs = [v in live for v in jaxpr.invars]
  invars = jaxpr.invars if instantiate else [v for v, u in zip(jaxpr.invars, used_inputs) if u]
  return Jaxpr(jaxpr.constvars, invars, outvars, new_eqns, jaxpr.effects,
               jaxpr.debug_info), used_inputs


# primitive -> rule(eqn, unknown_inputs) -> (known eqn or None, unknown eqn, out_unknowns) or
# None: how partial_eval_jaxpr splits an equation with some known inputs (call primitives).
partial_eval_jaxpr_rules: dict = {}


def partial_eval_jaxpr(jaxpr: Jaxpr, unknowns: Sequence[bool], instantiate=False):
  """Split `jaxpr` by which inputs are unknown.

  Returns (known_jaxpr, unknown_jaxpr, out_unknowns, num_res):
    known_jaxpr:   known inputs -> known outputs + residuals
    unknown_jaxpr: residuals + unknown inputs -> unknown outputs
  An equation is unknown when any of its inputs is. Constvars count as known.
  """
  unk = set(v for v, u in zip(jaxpr.invars, unknowns) if u)
  known_eqns, unk_eqns = [], []
  for e in jaxpr.eqns:
    unk_in = [type(v) is Var and v in unk for v in e.invars]
    if any(unk_in):
      rule = partial_eval_jaxpr_rules.get(e.primitive)
      split = rule(e, unk_in) if rule is not None and not all(unk_in) else None
      if split is not None:  # e.g. a nested jit: split its body too
        known_e, unk_e, out_unk = split
        if known_e is not None:
          known_eqns.append(known_e)
        unk_eqns.append(unk_e)
        unk.update(v for v, u in zip(e.outvars, out_unk) if u)
        continue
      unk_eqns.append(e)
      unk.update(e.outvars)
    else:
      known_eqns.append(e)
  if isinstance(instantiate, bool):
    instantiate = [instantiate] * len(jaxpr.outvars)
  out_unknowns = [(type(v) is Var and v in unk) or inst
                  for v, inst in zip(jaxpr.outvars, instantiate)]
  # residuals: known vars read by the unknown side
  defined_unknown = set(unk)
  res, seen = [], set()

  def need(v):
    if type(v) is Var and v not in defined_unknown and v not in seen:
      seen.add(v)
      res.append(v)
  for e in unk_eqns:
    for v in e.invars:
      need(v)
  for v, u in zip(jaxpr.outvars, out_unknowns):
    if u:
      need(v)
  known_in = [v for v, u in zip(jaxpr.invars, unknowns) if not u]
  known_out = [v for v, u in zip(jaxpr.outvars, out_unknowns) if not u]
  known = Jaxpr(jaxpr.constvars, known_in, known_out + res, known_eqns)
  unk_in = [v for v, u in zip(jaxpr.invars, unknowns) if u]
  res_vars = [Var(v.aval) for v in res]
  rename = dict(zip(res, res_vars))
  r = lambda v: rename.get(v, v) if type(v) is Var else v
  unk_eqns = [e._replace(invars=[r(v) for v in e.invars]) for e in unk_eqns]
  unknown = Jaxpr([], res_vars + unk_in,
                  [r(v) for v, u in zip(jaxpr.outvars, out_unknowns) if u], unk_eqns)
  known, _ = dce_jaxpr(known, [True] * len(known.outvars), instantiate=True)
  return known, unknown, out_unknowns, len(res)


class PartialEvalFwd(NamedTuple):
  """`partial_eval_jaxpr` with JAX's forwarding: a residual that is a known input (or a
  known output) is not also an output of the known jaxpr; a known output that is just a
  known input is not computed either. The caller takes those from its own operands."""
  known: Jaxpr          # known inputs -> kept known outputs + kept residuals
  unknown: Jaxpr        # residuals + unknown inputs -> unknown outputs
  out_unknowns: list
  num_res: int          # all residuals (the unknown jaxpr's leading inputs)
  out_fwd: list         # per known output: index of the known input it is, or None
  res_fwd: list         # per residual: ("in", i) known input i, ("out", j) known output j,
                        # or None (an output of the known jaxpr)


def partial_eval_jaxpr_fwd(jaxpr: Jaxpr, unknowns: Sequence[bool], instantiate=False):
  """Split `jaxpr` as `partial_eval_jaxpr`, forwarding known inputs instead of returning
  them (see PartialEvalFwd)."""
  known, unknown, out_unk, num_res = partial_eval_jaxpr(jaxpr, unknowns, instantiate)
  n_known_out = len(known.outvars) - num_res
  kin = {v: i for i, v in enumerate(known.invars)}
  outs, res = known.outvars[:n_known_out], known.outvars[n_known_out:]
  out_fwd = [kin.get(v) if type(v) is Var else None for v in outs]
  out_pos = {}
  for j, v in enumerate(outs):
    if type(v) is Var and out_fwd[j] is None:
      out_pos.setdefault(v, j)
  res_fwd = []
  for v in res:
    if v in kin:
      res_fwd.append(("in", kin[v]))
    elif v in out_pos:
      res_fwd.append(("out", out_pos[v]))
    else:
      res_fwd.append(None)
  kept = ([v for v, f in zip(outs, out_fwd) if f is None]
          + [v for v, f in zip(res, res_fwd) if f is None])
  if len(kept) != len(known.outvars):
    known = Jaxpr(known.constvars, known.invars, kept, known.eqns,
                  debug_info=getattr(known, "debug_info", None))
    known, _ = dce_jaxpr(known, [True] * len(kept), instantiate=True)
  return PartialEvalFwd(known, unknown, out_unk, num_res, out_fwd, res_fwd)


def merge_forwarded(known_outs, known_operands, out_fwd, res_fwd):
  """(known outputs, residuals) in full from a forwarding known jaxpr's results
  `known_outs` and the operands it was applied to."""
  it = iter(known_outs)
  outs = [next(it) if f is None else known_operands[f] for f in out_fwd]
  res = []
  for f in res_fwd:
    if f is None:
      res.append(next(it))
    elif f[0] == "in":
      res.append(known_operands[f[1]])
    else:
      res.append(outs[f[1]])
  return outs, res
