"""The NumPy tier: a jaxpr becomes one straight-line Python function calling each
primitive's NumPy implementation (`p.impl`) on raw buffers.

    def _jit_f(a0, a1):
        t0 = _sin(a0)
        if _ok(t0):
            t1 = _mul(t0, L0, out=t0)       # t0 is dead: reuse its buffer
        else:
            t1 = _mul(t0, L0)
        return (_w(t1),)

Buffer planning. A buffer is reused (an elementwise ufunc writes its result into it with
`out=`, or a primitive's in-place implementation updates it) only when the value it holds
is dead after this equation and nothing else can see it. "Dead" is decided statically
(liveness over the straight-line code); "nothing else can see it" at run time, cheaply and
exactly: the array must own its memory and its reference count must be the count the
generated code itself holds (a view of it, an Array wrapping it or a constant table would
add a reference). Donated inputs are deleted before the call, so their buffers qualify.
Small arrays skip all of this: allocation is cheaper than the check.

Dtype/rank fix-ups. NumPy kernels sometimes answer in another dtype (int64 sums, float64
from Python scalars) or with a NumPy scalar for rank 0. The first call runs a *guarded*
version that checks every result against its aval and records which ones needed fixing;
the code is then regenerated with fix-ups exactly where they were needed.
"""
from __future__ import annotations

import functools
import itertools
import linecache
import math
import sys
import weakref

import numpy as np

from numjax._src import core
from numjax._src.core import DropVar, Jaxpr, Literal, Var

INPLACE_MIN_ELEMENTS = 2048   # below this, allocating is cheaper than checking for reuse
_ndarray = np.ndarray
_grc = sys.getrefcount


def _lowp_dtypes():
  try:
    from numjax._src.lax.lax import _lowp
    return set(_lowp)
  except Exception:
    return set()


# ---------------------------------------------------------------------------------------
# Run-time helpers referenced by generated code

def _refcount_probe():
  """The reference counts a reusable buffer has inside generated code, measured once."""
  def ok(v):
    return _grc(v)
  ns = {"ok": ok, "np": np}
  exec("def tmp():\n  t = np.empty(4)\n  return ok(t)\n"
       "def arg(a0):\n  return ok(a0)\n", ns)
  k_tmp = ns["tmp"]()
  bufs = [np.empty(4)]
  k_arg = ns["arg"](*bufs)
  return k_tmp, k_arg


_K_TMP, _K_ARG = _refcount_probe()


def _ok(v):
  """May a dead temporary's buffer be overwritten? (owned, C/F-contiguous, unshared)"""
  if type(v) is _ndarray and v.flags.owndata and _grc(v) == _K_TMP:
    v.flags.writeable = True
    return True
  return False


def _oki(v):
  """Same for a donated input buffer (the caller holds two more references)."""
  if type(v) is _ndarray and v.flags.owndata and _grc(v) == _K_ARG:
    v.flags.writeable = True
    return True
  return False


def _fix(t, dt):
  t = np.asarray(t)
  if t.dtype != dt:
    t = t.astype(dt)
  return t


def _make_wrappers():
  from numjax._src.array import Array
  new = object.__new__

  def w(v):
    v.setflags(write=False)   # (cheaper than v.flags.writeable = False)
    a = new(Array)
    a._buf = v
    a.weak_type = False
    return a

  def ww(v):
    v.setflags(write=False)
    a = new(Array)
    a._buf = v
    a.weak_type = True
    return a
  return w, ww


class _Quiet:
  """errstate(all='ignore') for in-place calls of kernels whose impl runs quietly."""
  __slots__ = ("old",)

  def __enter__(self):
    self.old = np.seterr(all="ignore")

  def __exit__(self, *a):
    np.seterr(**self.old)


# ---------------------------------------------------------------------------------------
# Kernel selection

def ufunc_of(prim, dtype, lowp):
  """(ufunc, quiet) if the primitive's impl is (a thin wrapper of) a NumPy ufunc."""
  f, quiet = prim.impl, False
  while f is not None and not isinstance(f, np.ufunc):
    if getattr(f, "lowp_detour", False) and dtype in lowp:
      return None, False
    if getattr(f, "quiet", False):
      quiet = True
    f = getattr(f, "__wrapped__", None)
  return f, quiet


# Compiler-side in-place kernels for primitives that do not (yet) carry `impl_inplace`:
# name -> fn(buffer, *other_operands, **params) writing into `buffer`.
inplace_impls: dict = {}


def _dus_inplace(x, upd, *idx):
  starts = []
  for i, s, n in zip(idx, x.shape, upd.shape):
    starts.append(min(max(int(i) if int(i) >= 0 else 0, 0), s - n))
  x[tuple(slice(s, s + n) for s, n in zip(starts, upd.shape))] = upd
  return x


inplace_impls["dynamic_update_slice"] = _dus_inplace


def inplace_impl_of(prim):
  f = getattr(prim, "impl_inplace", None)
  return f if f is not None else inplace_impls.get(prim.name)


_BLAS = {np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.complex64),
         np.dtype(np.complex128)}


def _dot2d(eqn):
  """For a plain 1-D/2-D dot_general: the operand expressions' transposes, else None."""
  if eqn.primitive.name != "dot_general":
    return None
  x, y = eqn.invars
  (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
  xa, ya = x.aval, y.aval
  pet = eqn.params.get("preferred_element_type")
  if lb or rb or len(lc) != 1 or len(rc) != 1 or xa.dtype != ya.dtype:
    return None
  if xa.dtype not in _BLAS or (pet is not None and np.dtype(pet) != xa.dtype):
    return None
  if not (1 <= xa.ndim <= 2 and 1 <= ya.ndim <= 2):
    return None
  lt = xa.ndim == 2 and tuple(lc) == (0,)
  rt = ya.ndim == 2 and tuple(rc) == (1,)
  return lt, rt


# ---------------------------------------------------------------------------------------
# Code generation

_ids = itertools.count()


class Generated:
  __slots__ = ("source", "fn", "namespace", "filename")


def _size(aval):
  return math.prod(aval.shape)


def _float_checker(nans, infs, where):
  """jax_debug_nans / jax_debug_infs: raise at the first equation producing a NaN/Inf,
  naming the primitive and the user's line that staged it."""
  def chk(t, k):
    if t.dtype.kind not in "fc" and str(t.dtype) != "bfloat16":
      return
    a = np.asarray(t)
    if nans and np.isnan(a).any():
      what = "nan"
    elif infs and np.isinf(a).any():
      what = "inf"
    else:
      return
    prim, si = where[k]
    line = f" (from {si[0]}:{si[1]}, in {si[2]})" if si else ""
    raise FloatingPointError(f"invalid value ({what}) encountered in {prim}{line}. "
                             "jax_debug_nans/jax_debug_infs is set: fix the computation "
                             "(e.g. guard log/div/sqrt inputs) or unset the flag.")
  return chk


def generate(jaxpr: Jaxpr, consts, *, name="f", donated=(), wrap=True, guarded=False,
             fixes=frozenset(), inplace=True, on_done=None, debug_nans=False,
             debug_infs=False) -> Generated:
  """Generate, compile and return the straight-line function for `jaxpr`.

  wrap:    return a tuple of numjax Arrays (jit entry points) instead of raw buffers.
  guarded: check every result's dtype/rank and record the ones needing a fix-up in
           `namespace['_needed']`; call `on_done()` before returning (the first call).
  fixes:   result ids needing a fix-up (from a guarded run).
  """
  lowp = _lowp_dtypes()
  needed: set = set()

  def _guard(t, dt, n):  # the first call: check a result, record the fix it needed
    if type(t) is not _ndarray or t.dtype != dt:
      needed.add(n)
      return _fix(t, dt)
    return t
  g: dict = {"__name__": __name__ + "_program",  # numjax's floating-point warning filter
             "np": np, "_ok": _ok, "_oki": _oki, "_fix": _fix, "_quiet": _Quiet(),
             "_needed": needed, "_guard": _guard, "_done": on_done or (lambda: None)}
  checks: list = []
  if debug_nans or debug_infs:
    g["_chk"] = _float_checker(debug_nans, debug_infs, checks)
  w, ww = _make_wrappers()
  g["_w"], g["_ww"] = w, ww
  lines: list[str] = []
  names: dict = {}
  temp_ids: dict = {}
  counter = itertools.count()
  donated = tuple(donated) + (False,) * (len(jaxpr.invars) - len(donated))

  def glob(prefix, value):
    n = f"{prefix}{len(g)}"
    g[n] = value
    return n

  for i, v in enumerate(jaxpr.invars):
    names[v] = f"a{i}"
  for v, c in zip(jaxpr.constvars, consts):
    names[v] = glob("K", _buffer(c, v.aval))

  def atom(v):
    if type(v) is Literal:
      key = ("lit", id(v))
      n = names.get(key)
      if n is None:
        n = names[key] = glob("L", _literal_buffer(v))
      return n
    return names[v]

  # liveness
  last_use: dict = {}
  for i, e in enumerate(jaxpr.eqns):
    for v in e.invars:
      if type(v) is Var:
        last_use[v] = i
  end = len(jaxpr.eqns)
  for v in jaxpr.outvars:
    if type(v) is Var:
      last_use[v] = end
  donated_vars = {v for v, d in zip(jaxpr.invars, donated) if d}
  produced_fresh: set = set()   # temps produced by kernels that allocate (pool candidates)
  pool: dict = {}               # (shape, dtype) -> [dead fresh temps]

  body = lines.append
  for i, eqn in enumerate(jaxpr.eqns):
    prim = eqn.primitive
    ins = [atom(v) for v in eqn.invars]
    outs = []
    for v in eqn.outvars:
      if type(v) is DropVar:
        outs.append("_")
      else:
        n = next(counter)
        temp_ids[v] = n
        names[v] = f"t{n}"
        outs.append(f"t{n}")
    single = not prim.multiple_results and len(eqn.outvars) == 1
    out_aval = eqn.outvars[0].aval if single else None
    params = eqn.params
    done = False
    if single and type(eqn.outvars[0]) is not DropVar:
      ov = eqn.outvars[0]
      tgt = outs[0]
      big = inplace and out_aval.shape and _size(out_aval) >= INPLACE_MIN_ELEMENTS
      uf, quiet = (ufunc_of(prim, out_aval.dtype, lowp) if getattr(prim, "elementwise", False)
                   and not params else (None, False))
      fixed = temp_ids[ov] in fixes
      if uf is not None:
        ufn = glob("U", uf)
        plain = f"{ufn}({', '.join(ins)})" if not quiet else \
            f"{glob('F', prim.impl)}({', '.join(ins)})"
        cand = None
        if big and not fixed:
          cand = _pick_candidate(eqn, i, last_use, donated_vars, temp_ids, fixes, pool,
                                 produced_fresh)
        if cand is not None:
          chk = "_oki" if cand in donated_vars else "_ok"
          cn = names[cand]
          body(f"  if {chk}({cn}):")
          if quiet:
            body("    with _quiet:")
            body(f"      {tgt} = {ufn}({', '.join(ins)}, out={cn})")
          else:
            body(f"    {tgt} = {ufn}({', '.join(ins)}, out={cn})")
          body("  else:")
          body(f"    {tgt} = {plain}")
          body(f"  del {cn}")
          names[cand] = None
        else:
          body(f"  {tgt} = {plain}")
        produced_fresh.add(ov)
        done = True
      elif (ipf := inplace_impl_of(prim)) is not None and big and not fixed:
        x = eqn.invars[0]
        if (type(x) is Var and last_use.get(x) == i and (x in temp_ids or x in donated_vars)
            and x.aval.shape == out_aval.shape and x.aval.dtype == out_aval.dtype
            and sum(1 for v in eqn.invars if v is x) == 1 and temp_ids.get(x) not in fixes):
          chk = "_oki" if x in donated_vars else "_ok"
          ipn = glob("I", functools.partial(ipf, **params) if params else ipf)
          fn = glob("F", functools.partial(prim.impl, **params) if params else prim.impl)
          body(f"  if {chk}({ins[0]}):")
          body(f"    {tgt} = {ipn}({', '.join(ins)})")
          body("  else:")
          body(f"    {tgt} = {fn}({', '.join(ins)})")
          body(f"  del {ins[0]}")
          names[x] = None
          produced_fresh.add(ov)
          done = True
      elif (d2 := _dot2d(eqn)) is not None:
        lt, rt = d2
        lx = ins[0] + (".T" if lt else "")
        ry = ins[1] + (".T" if rt else "")
        body(f"  {tgt} = {glob('D', np.dot)}({lx}, {ry})")
        produced_fresh.add(ov)
        done = True
    if not done:
      fn = _callable_for(eqn)
      fname = glob("F", fn)
      if not outs:
        body(f"  {fname}({', '.join(ins)})")
      else:
        lhs = outs[0] if single else (", ".join(outs) + ("," if len(outs) == 1 else ""))
        body(f"  {lhs} = {fname}({', '.join(ins)})")
    # fix-ups
    for v, o in zip(eqn.outvars, outs):
      if type(v) is DropVar:
        continue
      n = temp_ids[v]
      dt = glob("T", v.aval.dtype) if (guarded or n in fixes) else None
      if guarded:
        body(f"  {o} = _guard({o}, {dt}, {n})")
      elif n in fixes:
        body(f"  {o} = _fix({o}, {dt})")
      if "_chk" in g and np.dtype(v.aval.dtype).kind in "fcV":
        checks.append((prim.name, eqn.source_info))
        body(f"  _chk({o}, {len(checks) - 1})")
    # buffers dying here: pool the fresh ones, drop the others' references
    if inplace:
      for v in set(x for x in eqn.invars if type(x) is Var):
        if last_use.get(v) != i or names.get(v) is None:
          continue
        if not (v in temp_ids or v in donated_vars):
          continue
        if _size(v.aval) < INPLACE_MIN_ELEMENTS or not v.aval.shape:
          continue
        if v in produced_fresh or v in donated_vars:
          pool.setdefault((v.aval.shape, v.aval.dtype), []).append(v)
        else:
          body(f"  del {names[v]}")
          names[v] = None

  # outputs
  ret = []
  const_index = {v: k for k, v in enumerate(jaxpr.constvars)}
  for v in jaxpr.outvars:
    if type(v) is Literal:
      buf = _literal_buffer(v)
      ret.append(glob("R", _array(buf, v.aval.weak_type)) if wrap else atom(v))
    elif v in const_index:
      c = consts[const_index[v]]
      if wrap:
        ret.append(glob("R", _array(_buffer(c, v.aval), v.aval.weak_type)))
      else:
        ret.append(names[v])
    else:
      n = names[v]
      ret.append(("_ww" if v.aval.weak_type else "_w") + f"({n})" if wrap else n)
  fname = "".join(ch if ch.isalnum() else "_" for ch in name)[:40] or "f"
  args = ", ".join(f"a{i}" for i in range(len(jaxpr.invars)))
  head = [f"def _jit_{fname}({args}):"]
  if not lines:
    lines.append("  pass")
  if guarded:
    lines.append("  _done()")
  tail = f"  return ({', '.join(ret)}{',' if len(ret) == 1 else ''})"
  src = "\n".join(head + lines + [tail]) + "\n"
  gen = Generated()
  gen.filename = f"<numjax-numpy-tier:{fname}:{next(_ids)}>"
  gen.source = src
  code = compile(src, gen.filename, "exec")
  linecache.cache[gen.filename] = (len(src), None, src.splitlines(True), gen.filename)
  exec(code, g)
  gen.fn = g[f"_jit_{fname}"]
  # tracebacks can show the generated lines while the function lives; then forget them
  weakref.finalize(gen.fn, linecache.cache.pop, gen.filename, None)
  gen.namespace = g
  return gen


def _pick_candidate(eqn, i, last_use, donated_vars, temp_ids, fixes, pool, produced_fresh):
  """A dead buffer of the output's shape and dtype: an operand dying here, else a pooled one."""
  out_aval = eqn.outvars[0].aval
  # donated inputs first: a donated buffer left unused is wasted, a temp can serve later
  ordered = sorted(eqn.invars, key=lambda v: type(v) is not Var or v not in donated_vars)
  for v in ordered:
    if type(v) is not Var or last_use.get(v) != i:
      continue
    if not (v in temp_ids or v in donated_vars):
      continue
    if v.aval.shape != out_aval.shape or v.aval.dtype != out_aval.dtype:
      continue
    if temp_ids.get(v) in fixes:
      continue
    return v
  lst = pool.get((out_aval.shape, out_aval.dtype))
  while lst:
    v = lst.pop()
    if last_use.get(v, -1) < i:
      return v
  return None


def _callable_for(eqn):
  prim, params = eqn.primitive, eqn.params
  impl = prim.impl
  if impl is None:
    return _eager_adapter(prim, params, [v.aval.weak_type for v in eqn.invars])
  if params:
    return functools.partial(impl, **params)
  return impl


def _eager_adapter(prim, params, weak):
  """A primitive without a NumPy impl: call its eager path on Array wrappers."""
  from numjax._src.array import Array
  new = object.__new__
  multiple = prim.multiple_results

  def run(*bufs):
    args = []
    for b, w in zip(bufs, weak):
      a = new(Array)
      a._buf = np.asarray(b)
      a.weak_type = w
      args.append(a)
    with core.new_base_main():
      out = prim.bind(*args, **params)
    return [o._value for o in out] if multiple else out._value
  run.__name__ = f"{prim.name}_eager"
  return run


def _buffer(c, aval):
  if hasattr(c, "_value"):
    return c._value
  b = np.asarray(c)
  if b.dtype != aval.dtype:
    b = b.astype(aval.dtype)
  b.flags.writeable = False
  return b


def _literal_buffer(v):
  val = v.val
  if hasattr(val, "_value"):
    b = val._value
  else:
    b = np.asarray(val, dtype=v.aval.dtype)
  if b.dtype != v.aval.dtype:
    b = b.astype(v.aval.dtype)
  if b.flags.writeable:
    b = b.copy()
    b.flags.writeable = False
  return b


def _array(buf, weak):
  from numjax._src.array import Array
  a = object.__new__(Array)
  a._buf = buf
  a.weak_type = bool(weak)
  return a
