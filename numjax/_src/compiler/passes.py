"""Jaxpr-to-jaxpr optimisation passes run before any tier generates code.

    inline  -> explicit broadcasts -> simplify (substitution, bounded constant folding, algebraic rules, CSE) -> DCE

Every pass is linear in the number of equations (dict lookups only), so that a
1000-equation function compiles in milliseconds. Passes never mutate their input: jaxprs
are shared with the tracing caches and with printing.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from numjax._src import core
from numjax._src.core import ClosedJaxpr, DropVar, Jaxpr, Literal, Var

# ---------------------------------------------------------------------------------------
# Which equations are calls whose body can be spliced into the caller.
# name -> params -> ClosedJaxpr (its invars line up with the equation's operands).

inline_rules: dict[str, Callable[[dict], ClosedJaxpr | None]] = {}


def _param(name):
  def get(params):
    j = params.get(name)
    if isinstance(j, Jaxpr):
      return ClosedJaxpr(j, []) if not j.constvars else None
    return j if isinstance(j, ClosedJaxpr) else None
  return get


for _n, _p in (("jit", "jaxpr"), ("pjit", "jaxpr"), ("closed_call", "call_jaxpr"),
               ("core_call", "call_jaxpr"), ("custom_jvp_call", "call_jaxpr"),
               ("custom_vjp_call", "call_jaxpr"), ("custom_vjp_call_jaxpr", "fun_jaxpr"),
               ("checkpoint", "jaxpr"), ("remat", "jaxpr"), ("remat2", "jaxpr"),
               ("named_call", "call_jaxpr")):
  inline_rules[_n] = _param(_p)


def has_effects(eqn) -> bool:
  return bool(getattr(eqn.primitive, "has_effects", False))


def _is_var(v) -> bool:
  return type(v) is Var


# ---------------------------------------------------------------------------------------
# inline

def inline_calls(jaxpr: Jaxpr, consts) -> tuple[Jaxpr, list]:
  """Splice the bodies of nested call equations (jit, custom_jvp/vjp calls, ...) in place."""
  if not any(e.primitive.name in inline_rules for e in jaxpr.eqns):
    return jaxpr, list(consts)
  constvars, constvals = list(jaxpr.constvars), list(consts)
  const_ids = {id(c): v for v, c in zip(constvars, constvals)}
  subst: dict = {}
  eqns: list = []

  def r(v):
    return subst.get(v, v) if type(v) is Var else v

  for eqn in jaxpr.eqns:
    rule = inline_rules.get(eqn.primitive.name)
    closed = rule(eqn.params) if rule is not None else None
    if closed is None or len(closed.jaxpr.invars) != len(eqn.invars):
      eqns.append(eqn._replace(invars=[r(v) for v in eqn.invars]))
      continue
    inner, inner_consts = inline_calls(closed.jaxpr, closed.consts)
    env: dict = {}
    for cv, c in zip(inner.constvars, inner_consts):
      known = const_ids.get(id(c))
      if known is None:
        known = Var(cv.aval)
        constvars.append(known)
        constvals.append(c)
        const_ids[id(c)] = known
      env[cv] = known
    for iv, arg in zip(inner.invars, eqn.invars):
      env[iv] = r(arg)
    for e in inner.eqns:
      outs = []
      for ov in e.outvars:
        if type(ov) is DropVar:
          outs.append(ov)
        else:
          nv = env[ov] = Var(ov.aval)
          outs.append(nv)
      eqns.append(e._replace(invars=[env.get(v, v) if type(v) is Var else v for v in e.invars],
                             outvars=outs))
    for ov, iv in zip(eqn.outvars, inner.outvars):
      if type(ov) is not DropVar:
        subst[ov] = env.get(iv, iv) if type(iv) is Var else iv
  outvars = [r(v) for v in jaxpr.outvars]
  return Jaxpr(constvars, jaxpr.invars, outvars, eqns, jaxpr.effects, jaxpr.debug_info), constvals


# ---------------------------------------------------------------------------------------
# simplify: one forward pass doing substitution, constant folding, algebra and CSE

FOLD_MAX_ELEMENTS = 1 << 16   # bounded constant folding: results up to this size
_NEVER_FOLD = {"rng_bit_generator", "rng_uniform"}


def _literal_value(v):
  """The NumPy value of a Literal (0-d)."""
  val = v.val
  if hasattr(val, "_value"):
    val = val._value
  return np.asarray(val)


def _lit_key(v):
  val = _literal_value(v)
  return ("lit", v.aval, val.tobytes())


def _is_scalar_const(v, x) -> bool:
  """Is atom v a literal whose value equals x (any dtype)?"""
  if type(v) is not Literal:
    return False
  val = _literal_value(v)
  if val.dtype.kind not in "biufc":
    return False
  try:
    return bool(val == x)
  except Exception:
    return False


def _params_key(params):
  try:
    items = tuple(sorted(params.items()))
    hash(items)
    return items
  except TypeError:
    return None


def _same_aval(a, b) -> bool:
  return a.shape == b.shape and a.dtype == b.dtype and a.weak_type == b.weak_type


def _identity_of(eqn, read):
  """If the equation returns one of its operands unchanged, that operand; else None."""
  name = eqn.primitive.name
  ins = [read(v) for v in eqn.invars]
  if eqn.primitive.multiple_results or len(eqn.outvars) != 1:
    return None
  out_aval = eqn.outvars[0].aval
  p = eqn.params

  def ok(x):
    return x if _same_aval(x.aval, out_aval) else None

  if name in ("add", "sub") and len(ins) == 2:
    if _is_scalar_const(ins[1], 0):
      return ok(ins[0])
    if name == "add" and _is_scalar_const(ins[0], 0):
      return ok(ins[1])
  elif name == "mul" and len(ins) == 2:
    if _is_scalar_const(ins[1], 1):
      return ok(ins[0])
    if _is_scalar_const(ins[0], 1):
      return ok(ins[1])
  elif name == "div" and len(ins) == 2:
    if _is_scalar_const(ins[1], 1):
      return ok(ins[0])
  elif name == "integer_pow":
    if p.get("y") == 1:
      return ok(ins[0])
  elif name == "convert_element_type":
    return ok(ins[0])
  elif name == "reshape":
    if p.get("dimensions") is None:
      return ok(ins[0])
  elif name == "transpose":
    perm = tuple(p.get("permutation", ()))
    if perm == tuple(range(len(perm))):
      return ok(ins[0])
  elif name == "broadcast_in_dim":
    dims = tuple(p.get("broadcast_dimensions", ()))
    if dims == tuple(range(len(dims))):
      return ok(ins[0])
  elif name in ("reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "reduce_and",
                "reduce_or"):
    if not tuple(p.get("axes", (0,))):
      return ok(ins[0])
  elif name in ("stop_gradient", "copy", "optimization_barrier"):
    return ok(ins[0])
  elif name == "select_n" and len(ins) >= 2 and type(ins[0]) is Literal:
    which = int(_literal_value(ins[0]))
    if 0 <= which < len(ins) - 1:
      return ok(ins[1 + which])
  return None


def _transposed_dot(eqn, read, producers, uses):
  """transpose(dot_general(x, y), (1, 0)) of 1-2-D operands, the dot used only here, is
  dot_general(y, x): the result comes out in row-major order (no strided copies later)."""
  if eqn.primitive.name != "transpose" or tuple(eqn.params.get("permutation", ())) != (1, 0):
    return None
  x = read(eqn.invars[0])
  prod = producers.get(x)
  if prod is None or prod.primitive.name != "dot_general" or uses.get(x, 0) != 1:
    return None
  dn = prod.params["dimension_numbers"]
  (lc, rc), (lb, rb) = dn
  if lb or rb:
    return None
  new_dn = type(dn)(((tuple(rc), tuple(lc)), ((), ()))) if isinstance(dn, tuple) else None
  if new_dn is None:
    return None
  return prod._replace(invars=[prod.invars[1], prod.invars[0]],
                       params=dict(prod.params, dimension_numbers=new_dn),
                       outvars=list(eqn.outvars))


def _double_negation(eqn, read, producers):
  if eqn.primitive.name != "neg":
    return None
  x = read(eqn.invars[0])
  prod = producers.get(x)
  if prod is not None and prod.primitive.name == "neg":
    inner = prod.invars[0]
    if type(inner) is Var and _same_aval(inner.aval, eqn.outvars[0].aval):
      return inner
  return None


def _real_float(dt) -> bool:
  dt = np.dtype(dt)
  return dt.kind == "f" or dt.name in ("bfloat16", "float8_e4m3fn", "float8_e5m2",
                                       "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e4m3b11fnuz")


def _reciprocal_divisor(eqn, read, producers):
  """XLA's rewrite of a division by a broadcast value: `a / broadcast(b)` becomes
  `a * broadcast(1 / b)` (also for a rank-0 divisor), for real floating types. JAX's jit
  computes these quotients this way (1 / b rounded first), so jit results match JAX's
  bit for bit, and a row of divisions becomes one reciprocal and a row of products.
  Returns the replacement equations, or None."""
  if eqn.primitive.name != "div" or len(eqn.invars) != 2:
    return None
  out = eqn.outvars[0]
  if not _real_float(out.aval.dtype) or not out.aval.shape:
    return None
  a, b = eqn.invars
  size = math.prod(out.aval.shape)
  bcast = None
  if b.aval.shape == ():
    small = b
  else:
    bcast = producers.get(b) if type(b) is Var else None
    if bcast is None or bcast.primitive.name != "broadcast_in_dim" or len(bcast.invars) != 1:
      return None
    small = read(bcast.invars[0])
    if math.prod(small.aval.shape) >= size or small.aval.dtype != out.aval.dtype:
      return None
  dt = np.dtype(small.aval.dtype)
  one = Literal(np.array(1, dt), core.ShapedArray((), dt, weak_type=True))
  div_p = eqn.primitive
  r = Var(core.ShapedArray(small.aval.shape, dt, weak_type=small.aval.weak_type))
  new = [core.JaxprEqn(div_p, [one, small], {}, [r], eqn.source_info)]
  if bcast is not None:
    rb = Var(b.aval)
    new.append(core.JaxprEqn(bcast.primitive, [r], dict(bcast.params), [rb],
                             bcast.source_info))
  else:
    rb = r
  from numjax._src.lax import lax as _lax
  new.append(core.JaxprEqn(_lax.mul_p, [a, rb], {}, list(eqn.outvars), eqn.source_info))
  return new


def _splat_value(v, producers, folder):
  """The scalar every element of v equals, when v is a broadcast of a literal or a folded
  constant with one distinct value; else None."""
  if type(v) is Literal:
    return _literal_value(v)
  prod = producers.get(v)
  if prod is not None and prod.primitive.name == "broadcast_in_dim" and \
      type(prod.invars[0]) is Literal:
    return _literal_value(prod.invars[0])
  if folder is not None:
    val = folder.values.get(v)
    if val is not None:
      arr = np.asarray(val._value if hasattr(val, "_value") else val)
      if arr.size and arr.dtype.kind in "biufc":
        first = arr.reshape(-1)[0]
        if np.all(arr == first):
          return first
  return None


def _splat_identity(eqn, producers, folder):
  """x * ones -> x and x + zeros -> x, where the ones/zeros are a broadcast literal or a
  folded constant array (a gradient's seed: sum's cotangent is a broadcast 1.0; a scatter's
  zero operand) and x already has the result's shape and type."""
  name = eqn.primitive.name
  if name not in ("mul", "add", "sub") or len(eqn.invars) != 2:
    return None
  out = eqn.outvars[0].aval
  a, b = eqn.invars
  unit = 1 if name == "mul" else 0
  for x, other in ((a, b), (b, a)) if name != "sub" else ((a, b),):
    if not _same_aval(x.aval, out) or type(other) is Literal:
      continue   # rank-0 literals are _identity_of's
    val = _splat_value(other, producers, folder)
    if val is not None:
      try:
        if bool(val == unit):
          return x
      except Exception:
        pass
  return None


_MONOID_REDUCTIONS = ("reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "reduce_and",
                      "reduce_or", "reduce_xor")


def _unit_reduction(eqn):
  """A reduction over size-1 axes only is a reshape (the transpose of an implicit
  broadcast of a (1, n) operand sums over its unit axis): [reshape equation], or None."""
  if eqn.primitive.name not in _MONOID_REDUCTIONS:
    return None
  x = eqn.invars[0]
  out = eqn.outvars[0]
  axes = tuple(eqn.params.get("axes", ()))
  if not axes or any(x.aval.shape[a] != 1 for a in axes) or x.aval.dtype != out.aval.dtype:
    return None
  from numjax._src.lax import lax as _lax
  return [core.JaxprEqn(_lax.reshape_p, [x], dict(new_sizes=tuple(out.aval.shape),
                                                  dimensions=None, sharding=None),
                        list(eqn.outvars), eqn.source_info)]


class _Folder:
  """Evaluates constant equations at compile time with the primitives' eager paths."""

  def __init__(self, constvars, consts):
    self.values = {v: c for v, c in zip(constvars, consts)}

  def value(self, atom):
    if type(atom) is Literal:
      val = atom.val
      if not hasattr(val, "_value"):
        from numjax._src.array import _make
        val = _make(np.asarray(val, dtype=atom.aval.dtype), atom.aval.weak_type)
      return val
    return self.values.get(atom)

  def foldable(self, eqn) -> bool:
    p = eqn.primitive
    if p.name in _NEVER_FOLD or has_effects(eqn) or p.name in inline_rules:
      return False
    if any(isinstance(x, (Jaxpr, ClosedJaxpr)) for x in core.subjaxprs(eqn.params)):
      return False
    for v in eqn.outvars:
      if math.prod(v.aval.shape) > FOLD_MAX_ELEMENTS:
        return False
    for v in eqn.invars:
      if type(v) is Literal:
        continue
      if v not in self.values:
        return False
      if math.prod(v.aval.shape) > 4 * FOLD_MAX_ELEMENTS:
        return False
    return True

  def fold(self, eqn):
    """Returns the output values (Arrays), or None if evaluation failed."""
    args = [self.value(v) for v in eqn.invars]
    try:
      with core.new_base_main():
        out = eqn.primitive.bind(*args, **eqn.params)
    except Exception:
      return None
    outs = out if eqn.primitive.multiple_results else [out]
    for o, v in zip(outs, eqn.outvars):
      if isinstance(o, core.Tracer) or not hasattr(o, "_value"):
        return None
      if tuple(o.shape) != tuple(v.aval.shape) or o.dtype != v.aval.dtype:
        return None
    return outs


def simplify(jaxpr: Jaxpr, consts, *, fold=True, cse=True, algebra=True) -> tuple[Jaxpr, list]:
  """Substitute, fold constants, apply algebraic identities and eliminate common
  subexpressions in one forward pass."""
  constvars, constvals = list(jaxpr.constvars), list(consts)
  subst: dict = {}
  producers: dict = {}
  seen: dict = {}
  eqns: list = []
  folder = _Folder(constvars, constvals) if fold else None

  def read(v):
    if type(v) is Var:
      while v in subst:
        v = subst[v]
    return v

  def key_of(atom):
    return _lit_key(atom) if type(atom) is Literal else atom

  uses: dict = {}
  if algebra:
    for e in jaxpr.eqns:
      for v in e.invars:
        if type(v) is Var:
          uses[v] = uses.get(v, 0) + 1
    for v in jaxpr.outvars:
      if type(v) is Var:
        uses[v] = uses.get(v, 0) + 1

  work = list(reversed(jaxpr.eqns))   # a stack: rewrites push their equations back
  while work:
    eqn = work.pop()
    invars = [read(v) for v in eqn.invars]
    eqn = eqn._replace(invars=invars)
    if algebra:
      repl = _reciprocal_divisor(eqn, read, producers) or _unit_reduction(eqn)
      if repl is not None:
        work.extend(reversed(repl))
        continue
      ident = _identity_of(eqn, read)
      if ident is None:
        ident = _double_negation(eqn, read, producers)
      if ident is None:
        ident = _splat_identity(eqn, producers, folder)
      if ident is not None:
        subst[eqn.outvars[0]] = ident
        continue
      swapped = _transposed_dot(eqn, read, producers, uses)
      if swapped is not None:
        eqn = swapped
        invars = list(eqn.invars)
    if folder is not None and folder.foldable(eqn):
      outs = folder.fold(eqn)
      if outs is not None:
        for ov, o in zip(eqn.outvars, outs):
          if type(ov) is DropVar:
            continue
          if ov.aval.shape == ():
            subst[ov] = Literal(o, ov.aval)
          else:
            constvars.append(ov)
            constvals.append(o)
            folder.values[ov] = o
        continue
    if cse and not has_effects(eqn):
      pk = _params_key(eqn.params)
      if pk is not None:
        try:
          key = (eqn.primitive, tuple(key_of(v) for v in invars), pk)
          hash(key)
        except TypeError:
          key = None
        if key is not None:
          prev = seen.get(key)
          if prev is not None:
            for ov, pv in zip(eqn.outvars, prev.outvars):
              if type(ov) is not DropVar and type(pv) is not DropVar:
                subst[ov] = pv
            if all(type(pv) is not DropVar or type(ov) is DropVar
                   for ov, pv in zip(eqn.outvars, prev.outvars)):
              continue
          else:
            seen[key] = eqn
    for ov in eqn.outvars:
      producers[ov] = eqn
    eqns.append(eqn)
  outvars = [read(v) for v in jaxpr.outvars]
  return Jaxpr(constvars, jaxpr.invars, outvars, eqns, jaxpr.effects, jaxpr.debug_info), constvals


# ---------------------------------------------------------------------------------------
# explicit broadcasts: lax's binary elementwise ops broadcast equal-rank operands' size-1
# dims implicitly (as JAX's); code generators (the native tier above all) see only equal
# shapes (or rank 0): each such operand goes through an explicit broadcast_in_dim first.

def explicit_broadcasts(jaxpr: Jaxpr, consts) -> tuple[Jaxpr, list]:
  eqns = None
  for i, eqn in enumerate(jaxpr.eqns):
    name = eqn.primitive.name
    if name == "add_any" or name == "squeeze":
      # printing-only forms of JAX's jaxprs: code generators see add and reshape
      if eqns is None:
        eqns = list(jaxpr.eqns[:i])
      eqn = _as_add_or_reshape(eqn)
    elif name in _AS_VIEWS:
      # split / unstack / tile as the slices, reshapes and broadcasts they are (views the
      # native tier fuses, as before jnp staged them as one primitive)
      if eqns is None:
        eqns = list(jaxpr.eqns[:i])
      eqns.extend(_AS_VIEWS[name](eqn))
      continue
    if (len(eqn.invars) < 2 or len(eqn.outvars) != 1
        or not getattr(eqn.primitive, "elementwise", False)):
      if eqns is not None:
        eqns.append(eqn)
      continue
    shape = eqn.outvars[0].aval.shape
    if all(not v.aval.shape or v.aval.shape == shape for v in eqn.invars):
      if eqns is not None:
        eqns.append(eqn)
      continue
    if eqns is None:
      eqns = list(jaxpr.eqns[:i])
    bid = _broadcast_in_dim_p()
    ins = []
    for v in eqn.invars:
      if v.aval.shape and v.aval.shape != shape:
        nv = Var(v.aval.update(shape=shape))
        eqns.append(core.JaxprEqn(bid, [v], dict(shape=shape, broadcast_dimensions=tuple(
            range(len(shape))), sharding=None), [nv], eqn.source_info))
        v = nv
      ins.append(v)
    eqns.append(eqn._replace(invars=ins))
  if eqns is None:
    return jaxpr, consts
  return Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.outvars, eqns, jaxpr.effects,
               jaxpr.debug_info), consts


def _as_add_or_reshape(eqn):
  from numjax._src.lax import lax as _lax  # lazy: lax imports the compiler
  if eqn.primitive.name == "add_any":
    return eqn._replace(primitive=_lax.add_p)
  return eqn._replace(primitive=_lax.reshape_p, params=dict(
      new_sizes=eqn.outvars[0].aval.shape, dimensions=None, sharding=None))


def _slice_eqns(eqn, axis, bounds, squeeze):
  """One slice (and, with `squeeze`, a reshape dropping `axis`) per output of eqn."""
  from numjax._src.lax import lax as _lax
  from numjax._src.lax.slicing import slice_p
  x = eqn.invars[0]
  shape = x.aval.shape
  out = []
  for (lo, hi), o in zip(bounds, eqn.outvars):
    if isinstance(o, DropVar):
      continue
    start = tuple(lo if d == axis else 0 for d in range(len(shape)))
    limit = tuple(hi if d == axis else n for d, n in enumerate(shape))
    piece = shape[:axis] + (hi - lo,) + shape[axis + 1:]
    v = Var(o.aval.update(shape=piece)) if squeeze else o
    out.append(core.JaxprEqn(slice_p, [x], dict(start_indices=start, limit_indices=limit,
                                                strides=None), [v], eqn.source_info))
    if squeeze:
      out.append(core.JaxprEqn(_lax.reshape_p, [v], dict(
          new_sizes=o.aval.shape, dimensions=None, sharding=None), [o], eqn.source_info))
  return out


def _split_as_slices(eqn):
  sizes, axis = eqn.params["sizes"], eqn.params["axis"]
  starts = np.cumsum((0,) + tuple(int(k) for k in sizes)).tolist()
  return _slice_eqns(eqn, axis, list(zip(starts[:-1], starts[1:])), False)


def _unstack_as_slices(eqn):
  axis = eqn.params["axis"]
  return _slice_eqns(eqn, axis, [(i, i + 1) for i in range(len(eqn.outvars))], True)


def _tile_as_broadcast(eqn):
  """tile(x, reps): reshape to (1, d0, 1, d1, ...), broadcast to (r0, d0, r1, d1, ...),
  reshape to (r0 * d0, ...)."""
  from numjax._src.lax import lax as _lax
  x, = eqn.invars
  o, = eqn.outvars
  shape, reps = x.aval.shape, tuple(int(r) for r in eqn.params["reps"])
  v1 = Var(x.aval.update(shape=tuple(d for n in shape for d in (1, n))))
  v2 = Var(x.aval.update(shape=tuple(d for r, n in zip(reps, shape) for d in (r, n))))
  si = eqn.source_info
  return [
      core.JaxprEqn(_lax.reshape_p, [x], dict(new_sizes=v1.aval.shape, dimensions=None,
                                              sharding=None), [v1], si),
      core.JaxprEqn(_broadcast_in_dim_p(), [v1], dict(
          shape=v2.aval.shape, broadcast_dimensions=tuple(range(2 * len(shape))),
          sharding=None), [v2], si),
      core.JaxprEqn(_lax.reshape_p, [v2], dict(new_sizes=o.aval.shape, dimensions=None,
                                               sharding=None), [o], si)]


_AS_VIEWS = {"split": _split_as_slices, "unstack": _unstack_as_slices,
             "tile": _tile_as_broadcast}


def _broadcast_in_dim_p():
  from numjax._src.lax.lax import broadcast_in_dim_p  # lazy: lax imports the compiler
  return broadcast_in_dim_p


# ---------------------------------------------------------------------------------------
# DCE

def dce(jaxpr: Jaxpr, consts) -> tuple[Jaxpr, list]:
  """Drop equations whose results are never used (effects are kept), and unused consts."""
  live = set(v for v in jaxpr.outvars if type(v) is Var)
  kept = []
  for e in reversed(jaxpr.eqns):
    if has_effects(e) or any(type(v) is Var and v in live for v in e.outvars):
      kept.append(e)
      live.update(v for v in e.invars if type(v) is Var)
  kept.reverse()
  cv, cs = [], []
  for v, c in zip(jaxpr.constvars, consts):
    if v in live:
      cv.append(v)
      cs.append(c)
  return Jaxpr(cv, jaxpr.invars, jaxpr.outvars, kept, jaxpr.effects, jaxpr.debug_info), cs


# ---------------------------------------------------------------------------------------

PIPELINE = ("inline", "broadcasts", "simplify", "dce")


def optimize(closed: ClosedJaxpr, passes=PIPELINE) -> tuple[Jaxpr, list]:
  """Run the pass pipeline; returns (jaxpr, consts) ready for a tier's code generator."""
  jaxpr, consts = closed.jaxpr, list(closed.consts)
  for name in passes:
    if name == "inline":
      jaxpr, consts = inline_calls(jaxpr, consts)
    elif name == "broadcasts":
      jaxpr, consts = explicit_broadcasts(jaxpr, consts)
    elif name == "simplify":
      jaxpr, consts = simplify(jaxpr, consts)
    elif name == "dce":
      jaxpr, consts = dce(jaxpr, consts)
    else:
      raise ValueError(f"unknown pass {name!r}")
  return jaxpr, consts
