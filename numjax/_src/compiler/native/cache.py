"""The native tier's disk cache of compiled libraries.

    path = cache.lookup(key)          # a verified .so, or None
    path = cache.store(key, build)    # build(tmp_so_path) writes the library; atomic

Layout: `$NUMJAX_CACHE_DIR` (default `~/.cache/numjax`, or `$XDG_CACHE_HOME/numjax`), with
the libraries under `native/`: `<key>.so` and `<key>.json` (its size and SHA-256). `key` is a
content hash of the C source, the compiler and its flags. A program compiled inside a bundle
(loader.prebuild) has a `<key>.alias` naming the bundle's key instead.

Atomic: a library is built into a temporary file in the same directory and renamed into
place (`os.replace`), then its record is written the same way, so a compile killed halfway
leaves at most a stray `tmp-*` file (swept later), never a corrupt entry. A library whose
record is missing or does not match its bytes (truncated, overwritten) is treated as absent
and rebuilt; so is one that fails to load (see loader.py).

Bounded: `$NUMJAX_CACHE_MAX_MB` (default 512). After each store, the least recently used
libraries (by mtime, refreshed on every hit) are removed until the cache is under 80% of
the bound.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time

_TMP_MAX_AGE = 3600.0   # stray temporaries older than this are removed


def root_dir() -> str:
  d = os.environ.get("NUMJAX_CACHE_DIR")
  if d:
    return d
  if sys.platform == "darwin":
    base = os.path.expanduser("~/Library/Caches")
  else:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
  return os.path.join(base, "numjax")


def native_dir() -> str:
  d = os.path.join(root_dir(), "native")
  try:
    os.makedirs(d, exist_ok=True)
    if os.access(d, os.W_OK):
      return d
  except OSError:
    pass
  # an unwritable cache location (read-only home, ...): a private temporary one
  d = os.path.join(tempfile.gettempdir(), f"numjax-{os.getuid() if hasattr(os, 'getuid') else 0}",
                   "native")
  os.makedirs(d, exist_ok=True)
  return d


def max_bytes() -> int:
  try:
    return int(float(os.environ.get("NUMJAX_CACHE_MAX_MB", "512")) * (1 << 20))
  except ValueError:
    return 512 << 20


def _sha256_file(path) -> str:
  h = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      h.update(block)
  return h.hexdigest()


def _atomic_write(path: str, data: bytes):
  d = os.path.dirname(path)
  fd, tmp = tempfile.mkstemp(prefix="tmp-", dir=d)
  try:
    with os.fdopen(fd, "wb") as f:
      f.write(data)
    os.replace(tmp, path)
  except BaseException:
    try:
      os.unlink(tmp)
    except OSError:
      pass
    raise


def paths(key: str) -> tuple[str, str]:
  d = native_dir()
  return os.path.join(d, key + ".so"), os.path.join(d, key + ".json")


def lookup(key: str) -> str | None:
  """The path of a verified library for `key` (its own, or the bundle holding it), or None
  (missing or corrupt)."""
  path = _lookup_own(key)
  if path is not None:
    return path
  try:
    with open(os.path.join(native_dir(), key + ".alias"), "r") as f:
      bundle = f.read().strip()
  except OSError:
    return None
  if not bundle or bundle == key:
    return None
  return _lookup_own(bundle)


def has_stale(key: str) -> bool:
  """Is there a library file for `key` that failed verification?"""
  return os.path.exists(paths(key)[0])


def store_alias(key: str, bundle: str):
  """Record that the library of `key` is inside the bundle library `bundle`."""
  _atomic_write(os.path.join(native_dir(), key + ".alias"), bundle.encode())


def _lookup_own(key: str) -> str | None:
  so, meta = paths(key)
  try:
    with open(meta, "rb") as f:
      rec = json.loads(f.read())
    st = os.stat(so)
  except (OSError, ValueError):
    return None
  if not isinstance(rec, dict) or st.st_size != rec.get("size"):
    return None
  if _sha256_file(so) != rec.get("sha256"):
    return None
  try:
    os.utime(so)   # LRU: a hit makes the entry recent
  except OSError:
    pass
  return so


def invalidate(key: str):
  """Drop an entry (e.g. one that failed to load)."""
  for p in paths(key) + (os.path.join(native_dir(), key + ".alias"),):
    try:
      os.unlink(p)
    except OSError:
      pass


def store(key: str, build) -> str:
  """Build the library for `key` with build(tmp_so_path) and install it atomically."""
  so, meta = paths(key)
  d = os.path.dirname(so)
  fd, tmp = tempfile.mkstemp(prefix="tmp-", suffix=".so", dir=d)
  os.close(fd)
  try:
    build(tmp)
    size = os.stat(tmp).st_size
    digest = _sha256_file(tmp)
    os.replace(tmp, so)
  except BaseException:
    try:
      os.unlink(tmp)
    except OSError:
      pass
    raise
  _atomic_write(meta, json.dumps({"size": size, "sha256": digest}).encode())
  try:
    evict()
  except OSError:
    pass
  return so


def evict(limit: int | None = None):
  """Remove least recently used libraries until the cache is under 80% of `limit`, and
  temporaries left by killed compiles."""
  limit = max_bytes() if limit is None else limit
  d = native_dir()
  now = time.time()
  entries, total = [], 0
  with os.scandir(d) as it:
    for e in it:
      try:
        st = e.stat()
      except OSError:
        continue
      if e.name.startswith("tmp-"):
        if now - st.st_mtime > _TMP_MAX_AGE:
          try:
            os.unlink(e.path)
          except OSError:
            pass
        continue
      if e.name.endswith(".so"):
        entries.append((st.st_mtime, st.st_size, e.name[:-3]))
        total += st.st_size
  if total <= limit:
    return
  entries.sort()
  target = int(limit * 0.8)
  for _, size, key in entries:
    if total <= target:
      break
    invalidate(key)
    total -= size


# ---------------------------------------------------------------------------------------
# small JSON records (the compiler probe)

def read_meta(name: str):
  try:
    with open(os.path.join(native_dir(), name + ".json"), "rb") as f:
      return json.loads(f.read())
  except (OSError, ValueError):
    return None


def write_meta(name: str, value):
  try:
    _atomic_write(os.path.join(native_dir(), name + ".json"), json.dumps(value).encode())
  except OSError:
    pass
