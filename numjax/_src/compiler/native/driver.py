"""A jaxpr's native program: C segments between NumPy steps, and the Python that runs them.

    prog = build(jaxpr, consts, tc, name)   # None if nothing in it runs natively
    outs = prog.fn(*numpy_buffers)          # list of NumPy results

The plan's steps are cut at its Host steps (primitives that stay on NumPy: sort, fft,
linalg, top-level dot_general on BLAS, ...) into native segments. Each segment is
one exported C function taking a tuple of NumPy arrays (its inputs, and the output buffers
the driver allocated for it). Rank-0 temporaries that never leave a segment are C locals.
The driver is generated Python, like the NumPy tier's:

    def _native_f(a0, a1):
      t2 = _empty((1000,), T3)            # buffers the segment writes
      _S0((a0, a1, t2))                   # one ctypes call, GIL released
      h4 = _fixc(F5(t2), T6)              # a NumPy step
      ...
      return [t2, h4]
"""
from __future__ import annotations

import itertools
import linecache
import sys

import numpy as np

from numjax._src.core import DropVar, Literal, Var
from numjax._src.compiler import numpy_tier
from numjax._src.compiler.native import codegen as cg
from numjax._src.compiler.native import codegen_ops as ops
from numjax._src.compiler.native import fusion as fu
from numjax._src.compiler.native import loader

_ids = itertools.count()


def _fixc(t, dt):
  if type(t) is not np.ndarray or t.dtype != dt:
    t = np.asarray(t)
    if t.dtype != dt:
      t = t.astype(dt)
  if not t.flags.c_contiguous:
    t = np.ascontiguousarray(t)
  return t


def _contig(a):
  return a if a.flags.c_contiguous else np.ascontiguousarray(a)


# ---------------------------------------------------------------------------------------
# Output buffers. A fresh 40 MB array costs ~10,000 page faults (the OS zeroes and maps each
# page on first touch): more than the kernel filling it. Large buffers therefore come from
# a pool of byte blocks the driver owns: a block is reused once nothing but the pool
# refers to it (the arrays handed out are views whose .base is the block, so the block's
# reference count says exactly when the caller has dropped them).

POOL_MIN_BYTES = 1 << 18     # smaller buffers come from NumPy's allocator
POOL_MAX_BLOCK = 1 << 27     # larger ones too (a one-off giant array is not kept)
POOL_MAX_BYTES = 1 << 28     # total the pool may hold
_pool: dict = {}          # nbytes -> [blocks]
_pool_bytes = [0]
_grc = sys.getrefcount


def _free_refcount():
  lst = [np.empty(8, np.uint8)]
  for b in lst:
    return _grc(b)


_K_FREE = _free_refcount()


def _empty(shape, dtype, _empty_np=np.empty):
  nbytes = dtype.itemsize
  for d in shape:
    nbytes *= d
  if nbytes < POOL_MIN_BYTES or nbytes > POOL_MAX_BLOCK:
    return _empty_np(shape, dtype)
  lst = _pool.get(nbytes)
  if lst is None:
    lst = _pool[nbytes] = []
  for b in lst:
    if _grc(b) == _K_FREE:
      return b.view(dtype).reshape(shape)
  if _pool_bytes[0] + nbytes > POOL_MAX_BYTES:
    _trim(nbytes)
    if _pool_bytes[0] + nbytes > POOL_MAX_BYTES:   # all in use: not pooled
      return _empty_np(shape, dtype)
    lst = _pool[nbytes]
  b = _empty_np(nbytes, np.uint8)
  lst.append(b)
  _pool_bytes[0] += nbytes
  return b.view(dtype).reshape(shape)


def release_memory():
  """Forget the pooled buffers (those still in use stay with their arrays)."""
  _pool.clear()
  _pool_bytes[0] = 0


def _trim(need):
  """Drop free blocks (largest first) until `need` more bytes fit under the bound."""
  for size in sorted(_pool, reverse=True):
    lst = _pool[size]
    keep = []
    for b in lst:
      if _grc(b) == _K_FREE and _pool_bytes[0] + need > POOL_MAX_BYTES:
        _pool_bytes[0] -= size
      else:
        keep.append(b)
    _pool[size] = keep


class Program:
  """The compiled program: `fn(*buffers) -> list`, its C and Python sources."""

  def __init__(self, fn, source, py_source, lib, plan, builder=None):
    self.fn, self.source, self.py_source, self.lib, self.plan = fn, source, py_source, lib, plan
    self.builder = builder


def _resolve(plan, v):
  while type(v) is Var and v in plan.aliases:
    v = plan.aliases[v]
  return v


def _step_inputs(st):
  if isinstance(st, fu.Kernel):
    for op in st.ops:
      yield from op.invars
  else:
    yield from st.eqn.invars


def _quiesce():
  """Idle pool workers stop spinning (before a NumPy step whose BLAS wants the cores)."""
  from numjax._src.compiler.native import runtime
  fn = runtime.quiesce_fn()
  if fn is not None:
    fn()


class _Seg:
  def __init__(self, idx):
    self.idx = idx
    self.args: list = []        # Python expressions of the tuple items
    self.slot: dict = {}        # var -> tuple index
    self.allocs: list = []      # (var, python name): buffers to allocate before the call
    self.code = cg.Code(1)
    self.decls = cg.Code(1)
    self.declared: set = set()


class Builder:
  def __init__(self, jaxpr, consts, tc, name):
    self.jaxpr, self.tc, self.name = jaxpr, tc, name
    self.plan = fu.partition(jaxpr)
    self.mod = cg.Module(tc)
    self.g: dict = {"np": np, "_empty": _empty, "_fixc": _fixc, "_contig": _contig}
    self.py: list[str] = []
    self.pyname: dict = {}
    self.native_inputs: set = set()
    for i, v in enumerate(jaxpr.invars):
      self.pyname[v] = f"a{i}"
    for v, c in zip(jaxpr.constvars, consts):
      buf = numpy_tier._buffer(c, v.aval)
      self.pyname[v] = self.glob("K", np.ascontiguousarray(buf))
    self.cur: _Seg | None = None
    self.seg_ids: list = []
    self.env = cg.Env(self.plan, bind=self.bind, root_const=self.add_const)
    self._uses()

  def glob(self, prefix, value):
    n = f"{prefix}{len(self.g)}"
    self.g[n] = value
    return n

  # ---- which values leave their segment --------------------------------------------------
  def _uses(self):
    plan = self.plan
    self.seg_of = {}
    seg = 0
    for st in plan.steps:
      if isinstance(st, fu.Host):
        self.seg_of[st.idx] = "py"
        seg += 1
      else:
        self.seg_of[st.idx] = seg
    self.uses: dict = {}
    for st in plan.steps:
      for v in _step_inputs(st):
        self.note_use(v, self.seg_of[st.idx])
    for v in self.jaxpr.outvars:
      self.note_use(v, "py")

  def note_use(self, v, s):
    v = _resolve(self.plan, v)
    if type(v) is not Var:
      return
    self.uses.setdefault(v, set()).add(s)
    view = self.plan.views.get(v)
    if view is not None:
      self.note_use(view.base, s)
      for _, iv, _ in view.dyn:
        self.note_use(iv, s)

  # ---- Python-side values ------------------------------------------------------------------
  def py_value(self, v):
    v = _resolve(self.plan, v)
    if type(v) is Literal:
      return self.glob("L", numpy_tier._literal_buffer(v))
    if v in self.plan.splats:
      lit = numpy_tier._literal_buffer(self.plan.splats[v])
      return self.glob("L", np.broadcast_to(lit, v.aval.shape))
    if v in self.pyname:
      return self.pyname[v]
    view = self.plan.views.get(v)
    if view is None:
      raise KeyError(v)
    cur = self.py_value(view.base)
    for eqn in view.chain:   # replay the view's equations with their NumPy implementations
      f = self.glob("F", numpy_tier._callable_for(eqn))
      args = [cur] + [self.py_value(x) for x in eqn.invars[1:]]
      nm = f"w{next(_ids)}"
      self.py.append(f"  {nm} = {f}({', '.join(args)})")
      cur = nm
    self.pyname[v] = cur
    return cur

  # ---- segment storage --------------------------------------------------------------------
  def slot_st(self, s: _Seg, v):
    i = s.slot[v]
    nm = f"p{i}"
    ct = ops.ctype(v.aval.dtype)
    if nm not in s.declared:
      s.declared.add(nm)
      s.decls(f"{ct} *restrict {nm} = ({ct} *)NJ_ARR(args, {i});")
    return cg.St("ptr", nm, v.aval.dtype, v.aval.shape)

  def bind(self, v):
    s = self.cur
    if v in s.slot:
      return self.slot_st(s, v)
    if v not in self.pyname:
      return None
    s.slot[v] = len(s.args)
    if v in self.jaxpr.invars:
      self.native_inputs.add(self.pyname[v])
    s.args.append(self.pyname[v])
    return self.slot_st(s, v)

  def add_const(self, v, value):
    """A constant of a loop body or branch: held by the driver, passed to the segment."""
    if v not in self.pyname:
      buf = numpy_tier._buffer(value, v.aval)
      self.pyname[v] = self.glob("K", np.ascontiguousarray(buf))
    return self.bind(v)

  def alloc(self, v):
    s = self.cur
    outside = self.uses.get(v, set()) - {s.idx}
    if v.aval.shape == () and not outside:
      nm = self.mod.fresh("s")
      s.decls(f"{ops.ctype(v.aval.dtype)} {nm};")
      return cg.St("local", nm, v.aval.dtype, ())
    pn = f"t{len(self.pyname)}"
    self.pyname[v] = pn
    s.allocs.append((v, pn))
    s.slot[v] = len(s.args)
    s.args.append(pn)
    return self.slot_st(s, v)

  def flush(self):
    s = self.cur
    if s is None:
      return
    for v, pn in s.allocs:
      self.py.append(f"  {pn} = _empty({v.aval.shape!r}, {self.glob('T', np.dtype(v.aval.dtype))})")
    body = s.decls.lines + s.code.lines
    self.mod.funcs.append(f"NJ_EXPORT void NJP_seg{s.idx}(void *args) {{\n" + "\n".join(body)
                          + "\n}")
    tup = ", ".join(s.args) + ("," if len(s.args) == 1 else "")
    self.py.append(f"  _S{s.idx}(({tup}))")
    self.seg_ids.append(s.idx)
    self.cur = None

  def host(self, st):
    eqn = st.eqn
    args = [self.py_value(x) for x in eqn.invars]
    d2 = numpy_tier._dot2d(eqn)
    if d2 is not None:
      lt, rt = d2
      call = (f"{self.glob('D', np.dot)}({args[0]}{'.T' if lt else ''}, "
              f"{args[1]}{'.T' if rt else ''})")
    else:
      call = f"{self.glob('F', numpy_tier._callable_for(eqn))}({', '.join(args)})"
    names = []
    for o in eqn.outvars:
      if type(o) is DropVar:
        names.append("_")
      else:
        n = f"h{len(self.pyname)}"
        self.pyname[o] = n
        names.append(n)
    # kernels (of this call or the last) may have left pool workers spinning
    self.g["_Q"] = _quiesce
    self.py.append("  _Q()")
    if eqn.primitive.multiple_results:
      self.py.append(f"  {', '.join(names)}{',' if len(names) == 1 else ''} = {call}")
    else:
      self.py.append(f"  {names[0]} = {call}")
    for o, n in zip(eqn.outvars, names):
      if type(o) is not DropVar:
        self.py.append(f"  {n} = _fixc({n}, {self.glob('T', o.aval.dtype)})")

  def prepare(self) -> bool:
    """Generate the C and Python sources (no compiler yet). False: nothing runs natively."""
    plan = self.plan
    if all(isinstance(s, fu.Host) for s in plan.steps):
      return False
    for st in plan.steps:
      if isinstance(st, fu.Host):
        self.flush()
        self.host(st)
        continue
      if self.cur is None:
        self.cur = _Seg(self.seg_of[st.idx])
        self.env.st = {}   # storages are per segment function
      cg.emit_step(self.mod, plan, st, self.env, self.cur.code, self.alloc)
    self.flush()
    outs = [self.py_value(v) for v in self.jaxpr.outvars]
    self.fname = "".join(ch if ch.isalnum() else "_" for ch in self.name)[:40] or "f"
    head = [f"def _native_{self.fname}("
            f"{', '.join(f'a{i}' for i in range(len(self.jaxpr.invars)))}):"]
    head += [f"  {a} = _contig({a})" for a in sorted(self.native_inputs)]
    self.py_src = "\n".join(head + self.py + [f"  return [{', '.join(outs)}]"]) + "\n"
    self.body = "\n\n".join(self.mod.funcs) + "\n"
    self.prelude = ops.prelude(self.tc, loader.abi_defines(), self.body)
    return True

  def finish(self) -> Program:
    """Compile (or find in the caches) and load the C, then the Python driver."""
    prelude, body = self.prelude, self.body
    lib, prefix = loader.load_program(prelude, body, self.tc)
    c_src = loader.program_source(prelude, body, loader.program_key(prelude, body, self.tc))
    for i in self.seg_ids:
      self.g[f"_S{i}"] = loader.entry(lib, f"{prefix}seg{i}")
    filename = f"<numjax-native:{self.fname}:{next(_ids)}>"
    code = compile(self.py_src, filename, "exec")
    linecache.cache[filename] = (len(self.py_src), None, self.py_src.splitlines(True), filename)
    exec(code, self.g)
    fn = self.g[f"_native_{self.fname}"]
    fn.source = c_src
    return Program(fn, c_src, self.py_src, lib, self.plan, self)


def build(jaxpr, consts, tc, name="f"):
  """The native program for an optimised jaxpr, or None when nothing runs natively."""
  b = Builder(jaxpr, consts, tc, name)
  return b.finish() if b.prepare() else None


def prepare(jaxpr, consts, tc, name="f"):
  """A Builder with its sources generated (`.prelude`, `.body`; `.finish()` loads it), or
  None when nothing runs natively."""
  b = Builder(jaxpr, consts, tc, name)
  return b if b.prepare() else None
