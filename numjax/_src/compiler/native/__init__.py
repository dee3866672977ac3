"""The native tier: jaxprs compiled to fused, multithreaded C (see DESIGN.md, Execution).

    from numjax._src.compiler import native   # registers the "native" backend

Pipeline: fusion.partition (kernels, views, NumPy steps) -> codegen (C) -> cc (the
machine's C compiler) -> cache (disk, by content hash) -> loader (ctypes) -> driver (the
Python that sequences native segments and NumPy steps).
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

  def compile(self, jaxpr, consts, *, name, donated):
    from numjax._src.compiler.native import cc, driver
    from numjax._src.config import config
    tc = cc.toolchain()
    if tc is None:
      return None
    if config.numjax_tier == "auto" and not worth_compiling(jaxpr):
      return None
    prog = driver.build(jaxpr, consts, tc, name)
    if prog is None:
      return None
    fn = prog.fn
    fn.program = prog
    return fn

  def source(self, fn):
    prog = getattr(fn, "program", None)
    return prog.source if prog is not None else getattr(fn, "source", None)


AUTO_MIN_ELEMENTS = 1 << 14


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
