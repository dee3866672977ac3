"""Build (or find in the caches) and load compiled programs; call their entry points.

    lib, prefix = loader.load_program(prelude, body, tc)   # body names its symbols NJP_*
    fn = loader.entry(lib, prefix + "seg0")                # fn(tuple_of_ndarrays) -> None
    loader.prebuild([(prelude, body), ...], tc)            # many programs, few compiles

A program is a shared prelude (helpers, identical for every program of a toolchain) and a
body whose global symbols start with the placeholder `NJP_`. Its key is a content hash of
the toolchain, prelude and body; the placeholder becomes `nj<key>_`, so any number of
programs can share one translation unit: `prebuild` compiles the programs missing from the
cache in a few bundles (one compiler process each, in parallel) and records, for each
program, which bundle holds it (see cache.py). The test suite uses this to compile the whole
parity table in seconds.

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
import re
import tempfile
import threading

import numpy as np

from numjax._src.compiler.native import cache as _cache
from numjax._src.compiler.native.cc import CompileError

_mem: dict = {}          # key -> CDLL
_building: dict = {}     # key -> Lock (one build per key at a time in this process)
_lock = threading.Lock()
stats = {"compiles": 0, "disk_hits": 0, "memory_hits": 0, "rebuilt_corrupt": 0,
         "bundles": 0}
PLACEHOLDER = "NJP_"
BUNDLE_SIZE = 64


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


def program_key(prelude, body, tc) -> str:
  return key_of(prelude + "\0" + body, tc)


def prefix_of(key) -> str:
  return f"nj{key[:16]}_"


def program_source(prelude, body, key) -> str:
  return prelude + "\n" + body.replace(PLACEHOLDER, prefix_of(key))


SPLIT_MIN_LINES = 600      # a body this long compiles as several units in parallel (below it
                           # the per-unit overhead, ~30 ms of compiler start-up and headers,
                           # eats the gain: measured 1.45x faster at 3,300 lines on 2 cores)
_VIS = '__attribute__((visibility("hidden"))) '
_DEF_HEAD = re.compile(r"(?:static |NJ_EXPORT )void (\w+)\(")


def split_units(prelude: str, body: str, n: int):
  """The program as n translation units that compile in parallel, or None. The body is the
  generator's sequence of top-level items separated by blank lines: kernel, chunk and
  segment functions and the chunk functions' context typedefs. Every unit gets the prelude,
  all typedefs and a prototype of every function (hidden visibility instead of static, so
  they link across units); the definitions are dealt out by size. Anything else at top
  level (a form this does not know) keeps the program in one unit."""
  if n < 2 or body.count("\n") < SPLIT_MIN_LINES:
    return None
  typedefs, protos, defs = [], [], []
  for item in body.strip("\n").split("\n\n"):
    lines = item.split("\n")
    while lines and lines[0].startswith("typedef struct {") and lines[0].endswith(";"):
      typedefs.append(lines.pop(0))
    if not lines:
      continue
    text = "\n".join(lines)
    m = _DEF_HEAD.match(text)
    brace = text.find("{")
    if m is None or brace < 0 or text.count("{") != text.count("}"):
      return None
    head = text[:brace].rstrip()
    if text.startswith("static "):
      head = _VIS + head[len("static "):]
      text = _VIS + text[len("static "):]
    protos.append(head + ";")
    defs.append(text)
  if len(defs) < 2:
    return None
  n = min(n, len(defs))
  bins = [[] for _ in range(n)]
  sizes = [0] * n
  for d in sorted(defs, key=len, reverse=True):   # largest first into the lightest unit
    i = sizes.index(min(sizes))
    bins[i].append(d)
    sizes[i] += len(d)
  common = prelude + "\n" + "\n".join(typedefs) + "\n" + "\n".join(protos) + "\n"
  return [common + "\n\n".join(b) + "\n" for b in bins]


def _jobs():
  try:
    return max(1, min(4, len(os.sched_getaffinity(0))))
  except (AttributeError, OSError):
    return max(1, min(4, os.cpu_count() or 1))


def _build(source, tc, tmp_so, parts=None):
  d = os.path.dirname(tmp_so)
  sources = parts or [source]
  paths = []
  try:
    for src in sources:
      fd, c_path = tempfile.mkstemp(prefix="tmp-", suffix=".c", dir=d)
      paths.append(c_path)
      with os.fdopen(fd, "w") as f:
        f.write(src)
    if len(paths) == 1:
      tc.compile(paths[0], tmp_so)
    else:
      tc.compile_parts(paths, tmp_so)
  finally:
    for c_path in paths:
      for q in (c_path, c_path[:-2] + ".o"):
        try:
          os.unlink(q)
        except OSError:
          pass


def _ensure_runtime(tc, mode):
  if mode is None:
    from numjax._src.compiler.native import runtime
    runtime.ensure(tc)
    return ctypes.DEFAULT_MODE
  return mode


def _open(key, make_source, tc, mode, make_parts=None):
  """The loaded library for `key`: memory, disk (its own or a bundle's), else compiled."""
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
    elif _cache.has_stale(key):
      stats["rebuilt_corrupt"] += 1
    if lib is None:
      src = make_source()
      parts = make_parts() if make_parts is not None else None
      path = _cache.store(key, lambda tmp: _build(src, tc, tmp, parts))
      stats["compiles"] += 1
      lib = ctypes.CDLL(path, mode=mode)
    _mem[key] = lib
    return lib


def load(source: str, tc, mode=None, parts=None) -> ctypes.CDLL:
  """The loaded library for a whole C source (the run-time library uses this); `parts`:
  the same code as translation units to compile in parallel (keyed by `source`)."""
  mode = _ensure_runtime(tc, mode)
  return _open(key_of(source, tc), lambda: source, tc, mode,
               (lambda: parts) if parts and _jobs() > 1 else None)


def load_program(prelude: str, body: str, tc):
  """(library, symbol prefix) of a program."""
  mode = _ensure_runtime(tc, None)
  key = program_key(prelude, body, tc)
  lib = _open(key, lambda: program_source(prelude, body, key), tc, mode,
              lambda: split_units(prelude, body.replace(PLACEHOLDER, prefix_of(key)), _jobs()))
  return lib, prefix_of(key)


def entry(lib, name):
  fn = getattr(lib, name)
  fn.argtypes = (ctypes.py_object,)
  fn.restype = None
  return fn


def prebuild(programs, tc, jobs=None):
  """Compile the programs [(prelude, body)] missing from the disk cache, several per
  translation unit, bundles in parallel. Returns the number of programs compiled."""
  from concurrent.futures import ThreadPoolExecutor
  _ensure_runtime(tc, None)
  todo, seen = {}, set()
  for prelude, body in programs:
    key = program_key(prelude, body, tc)
    if key in seen or key in _mem or _cache.lookup(key) is not None:
      continue
    seen.add(key)
    todo.setdefault(prelude, []).append((key, body))
  groups = []
  for prelude, items in todo.items():
    for i in range(0, len(items), BUNDLE_SIZE):
      groups.append((prelude, items[i:i + BUNDLE_SIZE]))

  def build(group):
    prelude, items = group
    src = prelude + "\n" + "\n".join(b.replace(PLACEHOLDER, prefix_of(k)) for k, b in items)
    bkey = key_of("bundle\0" + src, tc)
    if _cache.lookup(bkey) is None:
      try:
        _cache.store(bkey, lambda tmp: _build(src, tc, tmp))
      except CompileError:
        if len(items) == 1:
          return 0   # this program's own compile (on load) reports the error
        h = len(items) // 2
        return build((prelude, items[:h])) + build((prelude, items[h:]))
    for k, _ in items:
      _cache.store_alias(k, bkey)
    return len(items)

  jobs = jobs or max(1, os.cpu_count() or 1)
  with ThreadPoolExecutor(max_workers=jobs) as ex:
    n = sum(ex.map(build, groups))
  stats["bundles"] += len(groups)
  return n


def clear_memory():
  """Forget loaded libraries (they stay mapped; tests use this to exercise the disk)."""
  _mem.clear()


__all__ = ["load", "load_program", "entry", "prebuild", "key_of", "abi_defines", "usable",
           "CompileError", "stats"]
