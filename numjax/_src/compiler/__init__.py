"""jaxpr -> executable: optimisation passes, then a tier's code generator.

    exe = compile_jaxpr(closed_jaxpr, name="f", donated=(False, True))
    outs = exe.fn(*numpy_buffers)        # a tuple of numjax Arrays

Tiers are `Backend`s. The NumPy tier (numpy_tier.py) is always there and answers first
calls; a native tier registers itself with `register_backend("native", backend)` and is
used per config `numjax_tier`:
  "numpy"   NumPy tier only;
  "native"  compile natively at once (NumPy tier if the backend declines or is missing);
  "auto"    NumPy tier now, native compile in the background; calls switch over when ready.

What the compiler reads from a primitive (all optional except `impl`):
  impl(*buffers, **params)         the NumPy kernel (a NumPy ufunc, or a thin wrapper that
                                   exposes it as `__wrapped__`, runs with `out=` into dead
                                   buffers when its primitive is `elementwise`);
  impl_inplace(buffer, *rest, **p) writes its result into its first operand (used when that
                                   operand is dead and unshared: scatter, ...);
  has_effects                      never removed, merged or folded (callbacks);
  passes.inline_rules[name]        call-like primitives whose body is spliced in (jit, ...).
"""
from __future__ import annotations

import threading
import warnings
import weakref
from typing import Callable, Sequence

import numpy as np

from numjax._src import core
from numjax._src.compiler import numpy_tier, passes
from numjax._src.config import config

__all__ = ["Backend", "Executable", "compile_jaxpr", "register_backend", "compile_jaxpr_numpy",
           "optimize"]

optimize = passes.optimize


class Backend:
  """A compilation tier. Subclasses implement `compile`."""
  name = "backend"

  def available(self) -> bool:
    return True

  def compile(self, jaxpr: core.Jaxpr, consts: list, *, name: str,
              donated: Sequence[bool], force: bool = False) -> Callable | None:
    """Return fn(*numpy_buffers) -> list of NumPy results (one per jaxpr output), or None
    when this jaxpr is not supported (the NumPy tier keeps it). `force`: compile even a
    program the 'auto' policy would skip (it has become hot)."""
    raise NotImplementedError

  def source(self, fn) -> str | None:
    """The generated source of a compiled function, for `Compiled.as_text()`."""
    return getattr(fn, "source", None)


_backends: dict[str, Backend] = {}
_warned_missing = set()


def register_backend(name: str, backend: Backend):
  _backends[name] = backend


def native_backend() -> Backend | None:
  b = _backends.get("native")
  if b is None:
    return None
  try:
    return b if b.available() else None
  except Exception:
    return None


class Executable:
  """One compiled signature. `fn` is swapped as better code becomes available:
  guarded NumPy code (first call) -> precise NumPy code -> native code."""
  __slots__ = ("fn", "jaxpr", "consts", "name", "donated", "wrap", "tier", "numpy_source",
               "native_fn", "_fixes", "_lock", "_checks", "__weakref__")

  def __init__(self, jaxpr, consts, name, donated, wrap):
    self.jaxpr, self.consts, self.name = jaxpr, consts, name
    self.donated, self.wrap = tuple(donated), wrap
    self.tier = "numpy"
    self.native_fn = None
    self._fixes = None
    self._lock = threading.Lock()
    self._checks = dict(debug_nans=bool(config.jax_debug_nans),
                        debug_infs=bool(config.jax_debug_infs))
    box = []
    gen = numpy_tier.generate(jaxpr, consts, name=name, donated=self.donated, wrap=wrap,
                              guarded=True, on_done=lambda: self._finish_first(box[0]),
                              **self._checks)
    box.append(gen.namespace["_needed"])
    self.numpy_source = gen.source
    self.fn = gen.fn   # guarded: records the fix-ups, then swaps in the precise code

  def _finish_first(self, needed):
    with self._lock:
      if self._fixes is not None:
        return
      self._fixes = frozenset(needed)
      gen = numpy_tier.generate(self.jaxpr, self.consts, name=self.name, donated=self.donated,
                                wrap=self.wrap, fixes=self._fixes, **self._checks)
      self.numpy_source = gen.source
      if self.native_fn is None:
        self.fn = gen.fn
    _maybe_native(self)

  def finalize(self):
    """Generate the precise NumPy code now (AOT `.compile()` without running)."""
    return self

  def as_text(self) -> str:
    b = native_backend() if config.numjax_tier != "numpy" else None
    if self.native_fn is not None:
      src = b.source(self.native_fn) if b is not None else None
      if src:
        return src
    elif b is not None and hasattr(b, "render"):
      src = b.render(self.jaxpr, self.consts)   # the C it will run (compiled or not yet)
      if src:
        return src
    return self.numpy_source

  def __call__(self, *bufs):
    return self.fn(*bufs)


def _wrap_native(exe, fn):
  out_weak = [getattr(v.aval, "weak_type", False) for v in exe.jaxpr.outvars]
  if not exe.wrap:
    return fn
  w, ww = numpy_tier._make_wrappers()

  def run(*bufs):
    outs = fn(*bufs)
    return tuple((ww if wk else w)(np.asarray(o)) for o, wk in zip(outs, out_weak))
  return run


_pool = None


def _maybe_native(exe):
  tier = config.numjax_tier
  if tier == "numpy" or any(exe._checks.values()):  # NaN/Inf checks: NumPy tier only
    return
  b = native_backend()
  if b is None:
    if tier == "native" and "native" not in _warned_missing:
      _warned_missing.add("native")
      warnings.warn("numjax_tier='native' but no native backend is available; using the "
                    "NumPy tier.", RuntimeWarning, stacklevel=3)
    return

  if tier == "auto" and hasattr(b, "worth_compiling") and not b.worth_compiling(exe.jaxpr):
    _compile_when_hot(exe)
    return

  if tier == "native":
    _build_native(exe, b)
  else:
    _in_background(_build_native, exe, b)


def _build_native(exe, b, force=False):
  """Compile exe natively with backend b and switch its calls over (a failure warns and
  leaves the NumPy tier in place: it must never break a program)."""
  try:
    kw = {"force": True} if force else {}   # (backends need not know the keyword)
    fn = b.compile(exe.jaxpr, exe.consts, name=exe.name, donated=exe.donated, **kw)
  except Exception as e:
    warnings.warn(f"native compilation of {exe.name} failed ({e}); staying on the NumPy "
                  "tier.", RuntimeWarning)
    return
  if fn is not None:
    exe.native_fn = fn
    exe.fn = _wrap_native(exe, fn)
    exe.tier = "native"


def _in_background(fn, *args):
  global _pool
  if _pool is None:
    from concurrent.futures import ThreadPoolExecutor
    _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="numjax-native")
  _pool.submit(fn, *args)


HOT_CALLS = 100      # a small program called this often is compiled natively after all
HOT_MIN_EQNS = 4     # ... if it has enough operations to gain from one C call


def _compile_when_hot(exe):
  """'auto' skips programs that are small (little data, no loops): the NumPy tier runs them
  at about native speed per operation. Called often, though, one C call beats an operation
  per NumPy call, so count calls and build natively (in the background) once it is hot."""
  if len(exe.jaxpr.eqns) < HOT_MIN_EQNS:
    return
  fn = exe.fn
  left = [HOT_CALLS]

  def counting(*bufs):
    left[0] -= 1
    if left[0] == 0:
      exe.fn = fn
      _submit_native(exe)
    return fn(*bufs)
  exe.fn = counting


def _submit_native(exe):
  b = native_backend()
  if b is not None:
    _in_background(_build_native, exe, b, True)


def compile_jaxpr(closed: core.ClosedJaxpr, *, name="f", donated=(), wrap=True,
                  passes_=passes.PIPELINE) -> Executable:
  """Optimise `closed` and build its executable (NumPy tier first)."""
  jaxpr, consts = passes.optimize(closed, passes_)
  exe = Executable(jaxpr, consts, name, donated, wrap)
  if config.numjax_tier == "native":
    _maybe_native(exe)
  return exe


_raw_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def compile_jaxpr_numpy(closed: core.ClosedJaxpr) -> Callable:
  """fn(*numpy_buffers) -> list of NumPy buffers, cached per ClosedJaxpr (for primitives
  whose impl evaluates a sub-jaxpr, e.g. loop bodies)."""
  exe = _raw_cache.get(closed)
  if exe is None:
    exe = _raw_cache[closed] = compile_jaxpr(closed, name="body", wrap=False)
  return exe


# The native tier registers itself (it probes for a C compiler lazily, on first use).
from numjax._src.compiler import native as _native  # noqa: E402,F401
