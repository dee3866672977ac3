"""Build (or find in the caches) and load a compiled library; call its entry points.

    lib = loader.load(source, toolchain)          # ctypes.CDLL, cached in memory and on disk
    fn = loader.entry(lib, "nj_main")             # fn(tuple_of_ndarrays) -> None

Calls go through `ctypes.CDLL`, which releases the GIL for the duration of the call. An
entry point takes ONE argument, a tuple of NumPy arrays, passed as a `PyObject*`; the C
side reads the tuple's items and each array's data pointer at offsets measured here once
(`NJ_TUPLE_OFF`, `NJ_DATA_OFF`, fixed by CPython's and NumPy's ABIs). That costs well under
a microsecond, where converting each array to a ctypes pointer costs about one each.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import tempfile
import threading

import numpy as np

from numjax._src.compiler.native import cache as _cache
from numjax._src.compiler.native.cc import CompileError

_mem: dict = {}          # key -> CDLL
_building: dict = {}     # key -> Lock (one build per key at a time in this process)
_lock = threading.Lock()
stats = {"compiles": 0, "disk_hits": 0, "memory_hits": 0, "rebuilt_corrupt": 0}


def _measure_offsets():
  a = np.arange(3.0)
  b = np.arange(2.0)
  data = a.ctypes.data
  data_off = next((off for off in range(8, 128, 8)
                   if ctypes.c_void_p.from_address(id(a) + off).value == data), None)
  t = (a, b)
  tup_off = next((off for off in range(8, 128, 8)
                  if ctypes.c_void_p.from_address(id(t) + off).value == id(a)
                  and ctypes.c_void_p.from_address(id(t) + off + 8).value == id(b)), None)
  return data_off, tup_off


DATA_OFF, TUPLE_OFF = _measure_offsets()


def abi_defines() -> str:
  return f"#define NJ_DATA_OFF {DATA_OFF}\n#define NJ_TUPLE_OFF {TUPLE_OFF}\n"


def usable() -> bool:
  return DATA_OFF is not None and TUPLE_OFF is not None and ctypes.sizeof(ctypes.c_void_p) == 8


def key_of(source: str, tc) -> str:
  h = hashlib.sha256()
  h.update(tc.key().encode())
  h.update(b"\0")
  h.update(source.encode())
  return h.hexdigest()[:40]


def _build(source, tc, tmp_so):
  d = os.path.dirname(tmp_so)
  fd, c_path = tempfile.mkstemp(prefix="tmp-", suffix=".c", dir=d)
  try:
    with os.fdopen(fd, "w") as f:
      f.write(source)
    tc.compile(c_path, tmp_so)
  finally:
    try:
      os.unlink(c_path)
    except OSError:
      pass


def load(source: str, tc, mode=None) -> ctypes.CDLL:
  """The loaded library for `source`: from memory, else the disk cache, else compiled.
  Programs need the run-time library (thread pool) loaded first: see runtime.py."""
  if mode is None:
    from numjax._src.compiler.native import runtime
    runtime.ensure(tc)
    mode = ctypes.DEFAULT_MODE
  key = key_of(source, tc)
  lib = _mem.get(key)
  if lib is not None:
    stats["memory_hits"] += 1
    return lib
  with _lock:
    klock = _building.setdefault(key, threading.Lock())
  with klock:
    lib = _mem.get(key)
    if lib is not None:
      return lib
    path = _cache.lookup(key)
    if path is not None:
      try:
        lib = ctypes.CDLL(path, mode=mode)
        stats["disk_hits"] += 1
      except OSError:   # verified bytes that do not load: rebuild
        _cache.invalidate(key)
        stats["rebuilt_corrupt"] += 1
        lib = None
    elif os.path.exists(_cache.paths(key)[0]):
      stats["rebuilt_corrupt"] += 1
    if lib is None:
      path = _cache.store(key, lambda tmp: _build(source, tc, tmp))
      stats["compiles"] += 1
      lib = ctypes.CDLL(path, mode=mode)
    _mem[key] = lib
    return lib


def entry(lib, name):
  fn = getattr(lib, name)
  fn.argtypes = (ctypes.py_object,)
  fn.restype = None
  return fn


def clear_memory():
  """Forget loaded libraries (they stay mapped; tests use this to exercise the disk)."""
  _mem.clear()


__all__ = ["load", "entry", "key_of", "abi_defines", "usable", "CompileError", "stats"]
