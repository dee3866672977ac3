"""The native tier: jaxprs compiled to fused, multithreaded C (see DESIGN.md, Execution).

    from numjax._src.compiler import native   # registers the "native" backend

Pipeline: fusion.partition (kernels, views, NumPy steps) -> kernels / codegen / loops (C)
-> cc (the machine's C compiler) -> cache (disk, by content hash) -> loader (ctypes) ->
driver (the Python that sequences native segments and NumPy steps). runtime.py is the
shared run-time library: the thread pool and the GEMM.

Settings (environment):
  NUMJAX_TIER          numpy | native | auto (default; also config `numjax_tier`)
  CC                   the C compiler (else cc, gcc, clang on PATH)
  NUMJAX_PORTABLE=1    no -march=native (libraries that run on any CPU of the family)
  NUMJAX_CACHE_DIR     the cache directory (default ~/.cache/numjax); libraries in native/
  NUMJAX_CACHE_MAX_MB  the disk cache bound (default 512; least recently used go first)
  NUMJAX_NUM_THREADS   threads of the pool (default: the CPUs this process may use)
  NUMJAX_SPIN_US       how long idle pool threads spin before sleeping (default 300)
"""
from __future__ import annotations

import threading
import warnings

from numjax._src import compiler as _compiler

_warned = []


class NativeBackend(_compiler.Backend):
  name = "native"

  def __init__(self):
    self._avail = None
    self._lock = threading.Lock()

  def available(self) -> bool:
    if self._avail is None:
      with self._lock:
        if self._avail is None:
          from numjax._src.compiler.native import cc, loader  # lazily: keeps import fast
          ok = loader.usable() and cc.toolchain() is not None
          if not ok and not _warned:
            _warned.append(True)
            warnings.warn("numjax: no working C compiler found (set $CC); jit stays on the "
                          "NumPy tier.", RuntimeWarning, stacklevel=4)
          self._avail = ok
    return self._avail

  def worth_compiling(self, jaxpr) -> bool:
    return worth_compiling(jaxpr)

  def compile(self, jaxpr, consts, *, name, donated, force=False):
    from numjax._src.compiler.native import cc, driver
    from numjax._src.config import config
    tc = cc.toolchain()
    if tc is None:
      return None
    if config.numjax_tier == "auto" and not force and not worth_compiling(jaxpr):
      return None
    if _deferred is not None:
      b = driver.prepare(jaxpr, consts, tc, name)
      if b is None:
        return None
      _deferred.append(b)
      return _lazy(b)
    prog = driver.build(jaxpr, consts, tc, name)
    if prog is None:
      return None
    fn = prog.fn
    fn.program = prog
    return fn

  def render(self, jaxpr, consts):
    """The C source the native tier runs (or will run) for this jaxpr, without compiling."""
    from numjax._src.compiler.native import cc, driver
    tc = cc.toolchain()
    b = driver.prepare(jaxpr, consts, tc) if tc is not None else None
    if b is None:
      return None
    return _text(b)

  def source(self, fn):
    prog = getattr(fn, "program", None)
    b = getattr(fn, "builder", None) or getattr(prog, "builder", None)
    if b is not None:
      return _text(b)
    return getattr(fn, "source", None)


def _text(b):
  """The program's C (the shared prelude of helpers is summarised) and its Python driver."""
  from numjax._src.compiler.native import loader
  key = loader.program_key(b.prelude, b.body, b.tc)
  n = b.prelude.count("\n")
  return (f"// numjax native tier: program {key[:16]} ({b.tc.cmd[0]} "
          f"{' '.join(b.tc.cflags)})\n// prelude of {n} lines (types, helpers, "
          f"runtime declarations) omitted\n\n"
          + b.body.replace(loader.PLACEHOLDER, loader.prefix_of(key))
          + "\n/* driver:\n" + b.py_src + "*/\n")


AUTO_MIN_ELEMENTS = 1 << 14
_deferred = None


class deferred:
  """Within this context, native compiles only generate their sources; on exit all of them
  are compiled at once, several programs per compiler process (loader.prebuild), and each
  program loads on its first call. The test suite uses this to compile its whole jit
  parity table in a few compiler runs.

      with native.deferred():
        execs = [jit(f).lower(*args).compile() for f, args in cases]
      outs = [c(*args) for c, (f, args) in zip(execs, cases)]
  """

  def __enter__(self):
    global _deferred
    self.prev, _deferred = _deferred, []
    return self

  def __exit__(self, *exc):
    global _deferred
    pending, _deferred = _deferred, self.prev
    if exc[0] is None and pending:
      from numjax._src.compiler.native import cc, loader
      loader.prebuild([(b.prelude, b.body) for b in pending], cc.toolchain())
    return False


def _lazy(builder):
  """fn(*bufs) that loads the prepared program on first use."""
  box = []

  def run(*bufs):
    if not box:
      box.append(builder.finish())
      run.program = box[0]
    return box[0].fn(*bufs)
  run.program = None
  run.builder = builder
  return run


def worth_compiling(jaxpr) -> bool:
  """In 'auto' mode, skip programs the NumPy tier already runs at native speed: no loops
  and little data (a C compile costs ~100 ms of a core)."""
  total = 0
  for e in jaxpr.eqns:
    if e.primitive.name in ("while", "scan", "cond"):
      return True
    for v in e.outvars:
      n = 1
      for d in v.aval.shape:
        n *= d
      total += n
  return total >= AUTO_MIN_ELEMENTS


backend = NativeBackend()
_compiler.register_backend("native", backend)
