"""Loop bodies as straight-line Python over NumPy buffers (the NumPy tier of control flow).

A loop runs its body once per iteration, so the body must not go through `bind`, tracers or
`Array` wrapping each time. A jaxpr is turned once into Python source that calls each
primitive's `impl` on raw NumPy values; for `scan` and `while` the whole loop (body inlined)
is generated, so the per-iteration cost is the NumPy calls plus a Python loop step.

Generated functions are cached per ClosedJaxpr object (jit keeps its jaxprs alive, so a
jitted loop compiles its body once). `set_jaxpr_compiler` lets the general compiler replace
the body runner with its own executables.
"""
from __future__ import annotations

import collections
import functools
import itertools
import re
import weakref

import numpy as np

from numjax._src import core
from numjax._src.interpreters import partial_eval as pe

# A general compiler can install itself here: fn(ClosedJaxpr) -> callable(*np) -> seq.
_compiler_hook = None


def set_jaxpr_compiler(fn):
  """Use `fn(closed_jaxpr) -> callable(*np_arrays) -> outputs` to run loop bodies."""
  global _compiler_hook
  _compiler_hook = fn
  _cache.clear()


_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
# Eager control flow re-traces its body on every call: equal jaxprs share generated code.
_by_structure: "collections.OrderedDict" = collections.OrderedDict()
_STRUCTURE_CACHE_SIZE = 512


def _cached(closed, key, build):
  per = _cache.get(closed)
  if per is None:
    per = _cache[closed] = {}
  fn = per.get(key)
  if fn is None:
    fp = fingerprint(closed)
    skey = None if fp is None else (fp, _key_fingerprint(key))
    if skey is not None and None not in skey:
      fn = _by_structure.get(skey)
      if fn is not None:
        _by_structure.move_to_end(skey)
    if fn is None:
      fn = build()
      if skey is not None and None not in skey:
        _by_structure[skey] = fn
        if len(_by_structure) > _STRUCTURE_CACHE_SIZE:
          _by_structure.popitem(last=False)
    per[key] = fn
  return fn


def _key_fingerprint(key):
  if isinstance(key, core.ClosedJaxpr):
    return fingerprint(key)
  if isinstance(key, tuple):
    parts = tuple(_key_fingerprint(k) for k in key)
    return None if None in parts else parts
  return key


def fingerprint(closed):
  """A hashable description of a closed jaxpr's computation (equal for re-traces of the
  same function), or None when it has constants or unhashable parameters."""
  fp = _fp_cache.get(closed)
  if fp is None and closed not in _fp_cache:
    fp = _fp_cache[closed] = _fingerprint(closed)
  return fp


_fp_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _fingerprint(closed):
  if closed.consts:
    return None
  j = closed.jaxpr
  ids: dict = {}

  def var(v):
    if type(v) is core.Literal:
      val = np.asarray(v.val._value if hasattr(v.val, "_value") else v.val)
      return ("lit", v.aval, val.tobytes())
    if isinstance(v, core.DropVar):
      return ("drop", v.aval)
    i = ids.get(v)
    if i is None:
      i = ids[v] = len(ids)
    return (i, v.aval)

  def param(x):
    if isinstance(x, (core.ClosedJaxpr, core.Jaxpr)):
      sub = fingerprint(x if isinstance(x, core.ClosedJaxpr) else core.ClosedJaxpr(x, []))
      if sub is None:
        raise _Unhashable
      return ("jaxpr", sub)
    if isinstance(x, (tuple, list)):
      return tuple(param(y) for y in x)
    try:
      hash(x)
    except TypeError:
      raise _Unhashable from None
    return x

  try:
    parts = [tuple(var(v) for v in j.invars)]
    for e in j.eqns:
      ps = tuple((k, param(e.params[k])) for k in sorted(e.params))
      parts.append((e.primitive, tuple(var(v) for v in e.invars),
                    tuple(var(v) for v in e.outvars), ps))
    parts.append(tuple(var(v) for v in j.outvars))
  except _Unhashable:
    return None
  return tuple(parts)


class _Unhashable(Exception):
  pass


def _np_value(x, aval=None):
  v = x._value if hasattr(x, "_value") else x
  v = np.asarray(v)
  if aval is not None and v.dtype != aval.dtype:
    v = v.astype(aval.dtype)
  return v


def _via_eager(prim, params):
  """For a primitive without an `impl`: wrap buffers as Arrays and use its eager path."""
  from numjax._src.array import _make

  def f(*args):
    out = prim.eager(*[_make(np.asarray(a), False) for a in args], **params)
    if prim.multiple_results:
      return [o._value for o in out]
    return out._value
  return f


class _Gen:
  """Accumulates source lines and the globals they refer to."""

  def __init__(self):
    self.glb = {"np": np, "_asarray": np.asarray, "_where": np.where, "_any": np.any}
    self.lines: list[str] = []
    self._ids = itertools.count()
    self._impls: dict = {}

  def fresh(self, prefix="v"):
    return f"{prefix}{next(self._ids)}"

  def const(self, val, prefix="k"):
    name = self.fresh(prefix)
    self.glb[name] = val
    return name

  def impl(self, prim, params):
    key = (prim, id(params))
    name = self._impls.get(key)
    if name is None:
      fn = prim.impl
      if fn is None:
        fn = _via_eager(prim, params)
      elif params:
        fn = functools.partial(fn, **params)
      name = self._impls[key] = self.const(fn, "f")
    return name

  def emit(self, line, indent):
    self.lines.append("  " * indent + line)

  def jaxpr(self, closed, in_exprs, indent, inline_outputs=True):
    """Emit the equations of `closed` reading inputs from `in_exprs`; returns the output
    expressions. An operator expression whose value is used once is not assigned but
    inlined where it is used (outputs too, when each is consumed once)."""
    jaxpr = closed.jaxpr
    jaxpr, _ = pe.dce_jaxpr(jaxpr, [True] * len(jaxpr.outvars), instantiate=True)
    uses: dict = {}
    for e in jaxpr.eqns:
      for v in e.invars:
        if type(v) is core.Var:
          uses[v] = uses.get(v, 0) + 1
    for v in jaxpr.outvars:
      if type(v) is core.Var:
        uses[v] = uses.get(v, 0) + (1 if inline_outputs else 2)
    env = {}
    for v, c in zip(jaxpr.constvars, closed.consts):
      env[v] = self.const(_np_value(c, v.aval))
    for v, e in zip(jaxpr.invars, in_exprs):
      env[v] = e

    def read(a):
      if type(a) is core.Literal:
        return self.const(_np_value(a.val, a.aval)[()])
      return env[a]

    for eqn in jaxpr.eqns:
      prim = eqn.primitive
      expr = _fast_expr(eqn, [read(v) for v in eqn.invars])
      if expr is not None:
        out = eqn.outvars[0]
        if uses.get(out, 0) == 1 and expr.startswith("("):
          env[out] = expr  # pure and used once: evaluated where it is used
        else:
          env[out] = name = self.fresh()
          self.emit(f"{name} = {expr}", indent)
        continue
      fn = self.impl(prim, eqn.params)
      args = [read(v) for v in eqn.invars]
      if not getattr(prim, "elementwise", False):
        # ufuncs return NumPy scalars for rank-0 values; other impls get real arrays.
        args = [f"_asarray({a})" if v.aval.ndim == 0 else a
                for a, v in zip(args, eqn.invars)]
      outs = []
      for v in eqn.outvars:
        if isinstance(v, core.DropVar):
          outs.append("_")
        else:
          env[v] = name = self.fresh()
          outs.append(name)
      call = f"{fn}({', '.join(args)})"
      if prim.multiple_results:
        lhs = ", ".join(outs) + ("," if len(outs) == 1 else "")
        self.emit(f"{lhs} = {call}" if outs else call, indent)
      else:
        self.emit(f"{outs[0]} = {call}", indent)
    return [read(v) for v in jaxpr.outvars]

  def build(self, name, params, quiet=False, scalars=()):
    """Define the function. `quiet`: NumPy floating-point warnings off (JAX never warns);
    `scalars`: rank-0 parameters turned into NumPy scalars first (fast scalar math)."""
    lines = [f"  {p} = {p}[()]" for p in scalars] + self.lines
    if quiet:
      self.glb["_errstate"] = np.errstate
      lines = ["  with _errstate(all='ignore'):"] + ["  " + l for l in lines]
    # constants and kernels as keyword defaults: local-variable reads inside the loop
    text = "\n".join(lines)
    locs = [k for k in self.glb if k not in ("np",) and re.search(rf"\b{k}\b", text)]
    sig = ", ".join(list(params) + ([f"*, {', '.join(f'{k}={k}' for k in locs)}"]
                                    if locs else []))
    src = f"def {name}({sig}):\n" + text + "\n"
    code = compile(src, f"<numjax control flow: {name}>", "exec")
    ns = dict(self.glb)
    exec(code, ns)
    fn = ns[name]
    fn.__source__ = src
    return fn


# Elementwise primitives that Python operators compute exactly as their NumPy ufuncs do
# (same dtype rules for NumPy scalars and arrays), but without the ufunc call overhead on
# scalars (~1 us per call versus ~50 ns): this is what makes scalar loop bodies cheap.
_BINOPS = {"add": "+", "sub": "-", "mul": "*", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
           "eq": "==", "ne": "!="}
_BITOPS = {"and": "&", "or": "|", "xor": "^"}
_IDENTITY = {"stop_gradient", "optimization_barrier"}


def _fast_expr(eqn, args):
  name = eqn.primitive.name
  if eqn.primitive.multiple_results or len(eqn.outvars) != 1:
    return None
  out = eqn.outvars[0].aval
  in_avals = [v.aval for v in eqn.invars]
  if name in _BINOPS and len(args) == 2:
    return f"({args[0]} {_BINOPS[name]} {args[1]})"
  if name in _BITOPS and len(args) == 2 and in_avals[0].dtype.kind in "biu":
    return f"({args[0]} {_BITOPS[name]} {args[1]})"
  if name == "div" and out.dtype.kind in "fc" and len(args) == 2:
    return f"({args[0]} / {args[1]})"
  if name == "neg" and out.dtype.kind in "fciu":
    return f"(-{args[0]})"
  if name == "not" and out.dtype.kind in "biu":
    return f"(~{args[0]})"
  if name == "integer_pow" and out.dtype.kind in "fc" and eqn.params.get("y") == 2:
    return f"({args[0]} * {args[0]})"
  if name == "square" and out.dtype.kind in "fc":
    return f"({args[0]} * {args[0]})"
  if name in _IDENTITY and len(args) == 1:
    return args[0]
  if name == "convert_element_type" and in_avals[0].dtype == out.dtype:
    return args[0]
  if (name == "select_n" and len(args) == 3 and in_avals[0].dtype == np.bool_
      and in_avals[0].ndim == 0):
    return f"({args[2]} if {args[0]} else {args[1]})"
  return None


def _tuple(exprs):
  return "(" + ", ".join(exprs) + ("," if len(exprs) == 1 else "") + ")"


def jaxpr_fn(closed):
  """A callable(*np_values) -> tuple of outputs running `closed` on NumPy buffers."""
  if _compiler_hook is not None:
    return _cached(closed, "hook", lambda: _compiler_hook(closed))
  return _cached(closed, "fn", lambda: _build_fn(closed))


def _build_fn(closed):
  g = _Gen()
  ins = [f"a{i}" for i in range(len(closed.jaxpr.invars))]
  outs = g.jaxpr(closed, ins, 1)
  g.emit(f"return {_tuple(outs)}", 1)
  return g.build("body", ins)


# ---------------------------------------------------------------------------------------
# Whole loops

def scan_fn(closed, *, num_consts, num_carry, length, reverse):
  """callable(*consts, *init, *xs) -> [*carry, *ys] running the scan loop."""
  key = ("scan", num_consts, num_carry, length, reverse)
  return _cached(closed, key, lambda: _build_scan(closed, num_consts, num_carry, length,
                                                  reverse))


def _counter_carries(closed, num_consts, num_carry):
  """Integer carries the body only steps by a constant (`c + k`, as fori_loop's index when
  the body ignores it): {carry index: literal step}. Their final value is computed after
  the loop in one step (integer wrap-around is the same), keeping the loop body minimal."""
  j = closed.jaxpr
  uses: dict = {}
  for e in j.eqns:
    for v in e.invars:
      if type(v) is core.Var:
        uses[v] = uses.get(v, 0) + 1
  for v in j.outvars:
    if type(v) is core.Var:
      uses[v] = uses.get(v, 0) + 1
  producer = {e.outvars[0]: e for e in j.eqns if len(e.outvars) == 1}
  found = {}
  for i in range(num_carry):
    inv, outv = j.invars[num_consts + i], j.outvars[i]
    e = producer.get(outv) if type(outv) is core.Var else None
    if (e is None or e.primitive.name != "add" or inv.aval.dtype.kind not in "iu"
        or uses.get(inv, 0) != 1 or uses.get(outv, 0) != 1):
      continue
    a, b = e.invars
    lit = b if a is inv else a if b is inv else None
    if type(lit) is core.Literal and lit.aval.shape == ():
      found[i] = np.asarray(lit.val._value if hasattr(lit.val, "_value") else lit.val,
                            inv.aval.dtype)
  return found


def _build_scan(closed, num_consts, num_carry, length, reverse):
  n_in = len(closed.jaxpr.invars)
  num_xs = n_in - num_consts - num_carry
  ys_avals = closed.out_avals[num_carry:]
  counters = {} if _compiler_hook is not None else _counter_carries(closed, num_consts,
                                                                      num_carry)
  if counters:
    j = closed.jaxpr
    outvars = [j.invars[num_consts + i] if i in counters else v
               for i, v in enumerate(j.outvars)]
    closed = core.ClosedJaxpr(core.Jaxpr(j.constvars, j.invars, outvars, j.eqns, j.effects,
                                         j.debug_info), closed.consts)
  g = _Gen()
  consts = [f"k_in{i}" for i in range(num_consts)]
  carry = [f"c{i}" for i in range(num_carry)]
  xs = [f"xs{i}" for i in range(num_xs)]
  ys = [f"ys{i}" for i in range(len(ys_avals))]
  for y, a in zip(ys, ys_avals):
    shape = g.const((length,) + tuple(a.shape), "shape")
    dt = g.const(a.dtype, "dt")
    g.emit(f"{y} = np.empty({shape}, {dt})", 1)
  rng = f"range({length - 1}, -1, -1)" if reverse else f"range({length})"
  g.emit(f"for it in {rng}:", 1)
  if _compiler_hook is not None:
    body = g.const(jaxpr_fn(closed), "body")
    outs = [f"o{i}" for i in range(len(closed.out_avals))]
    g.emit(f"{_tuple(outs)} = {body}({', '.join(consts + carry + [x + '[it]' for x in xs])})",
           2)
  else:
    x_names = [f"x{i}" for i in range(num_xs)]
    for xn, x in zip(x_names, xs):
      g.emit(f"{xn} = {x}[it]", 2)
    outs = g.jaxpr(closed, consts + carry + x_names, 2)
  for y, o in zip(ys, outs[num_carry:]):
    g.emit(f"{y}[it] = {o}", 2)
  moved = [(c, o) for i, (c, o) in enumerate(zip(carry, outs[:num_carry]))
           if c != o and i not in counters]
  if len(moved) == 1:
    g.emit(f"{moved[0][0]} = {moved[0][1]}", 2)
  elif moved:
    g.emit(f"{', '.join(c for c, _ in moved)} = {', '.join(o for _, o in moved)}", 2)
  g.emit("pass", 2)
  for i, step in counters.items():
    total = g.const((np.asarray(length, step.dtype) * step)[()])
    g.emit(f"{carry[i]} = {carry[i]} + {total}", 1)
  g.emit(f"return {_tuple(carry + ys)}", 1)
  rank0 = [n for n, a in zip(consts + carry, closed.in_avals) if a.ndim == 0]
  return g.build("scan_loop", consts + carry + xs, quiet=True, scalars=rank0)


def while_fn(cond_closed, body_closed, *, cond_nconsts, body_nconsts):
  """callable(*cond_consts, *body_consts, *init) -> carry running the while loop.

  A predicate of rank > 0 (a batched loop) runs until no lane is true; lanes whose
  predicate is false keep their carry (the predicate's shape is a prefix of every carry's).
  """
  key = ("while", body_closed, cond_nconsts, body_nconsts)
  return _cached(cond_closed, key, lambda: _build_while(cond_closed, body_closed,
                                                         cond_nconsts, body_nconsts))


def _build_while(cond_closed, body_closed, cond_nconsts, body_nconsts):
  num_carry = len(body_closed.jaxpr.invars) - body_nconsts
  pred_aval = cond_closed.out_avals[0]
  batched = pred_aval.ndim > 0
  carry_avals = body_closed.out_avals
  g = _Gen()
  g.glb["_keep_body"] = body_closed  # the cache is keyed on the cond jaxpr only
  cconsts = [f"cc{i}" for i in range(cond_nconsts)]
  bconsts = [f"bc{i}" for i in range(body_nconsts)]
  carry = [f"c{i}" for i in range(num_carry)]
  g.emit("while True:", 1)
  if _compiler_hook is not None:
    cf = g.const(jaxpr_fn(cond_closed), "cond")
    bf = g.const(jaxpr_fn(body_closed), "body")
    g.emit(f"p, = {cf}({', '.join(cconsts + carry)})", 2)
    pred = "p"
  else:
    pred, = g.jaxpr(cond_closed, cconsts + carry, 2, inline_outputs=not batched)
  if batched:
    g.emit(f"if not _any({pred}): break", 2)
  else:
    g.emit(f"if not {pred}: break", 2)
  if _compiler_hook is not None:
    outs = [f"o{i}" for i in range(num_carry)]
    g.emit(f"{_tuple(outs)} = {bf}({', '.join(bconsts + carry)})", 2)
  else:
    outs = g.jaxpr(body_closed, bconsts + carry, 2)
  if batched:
    # Frozen lanes keep their carry: select with the predicate broadcast over trailing axes.
    new = []
    for o, c, a in zip(outs, carry, carry_avals):
      extra = a.ndim - pred_aval.ndim
      p = pred if extra == 0 else f"{pred}.reshape({pred}.shape + {(1,) * extra})"
      new.append(f"_where({p}, {o}, {c})")
    outs = new
  if carry:
    g.emit(f"{_tuple(carry)} = {_tuple(outs)}", 2)
  g.emit(f"return {_tuple(carry)}", 1)
  rank0 = [n for n, a in zip(cconsts, cond_closed.in_avals) if a.ndim == 0]
  rank0 += [n for n, a in zip(bconsts + carry, body_closed.in_avals) if a.ndim == 0]
  return g.build("while_loop", cconsts + bconsts + carry, quiet=True, scalars=rank0)
