"""The machine's C compiler, found at run time, and the flags the native tier uses.

    tc = toolchain()          # None when no working C compiler is found
    tc.compile(c_path, so_path)

Compiler: `$CC`, else `cc`, `gcc`, `clang` on PATH. One probe compile (cached on disk,
keyed by the compiler's path, size and mtime) learns what it supports:

- `-fopenmp-simd` (OpenMP's `simd` pragmas only; threads come from the native tier's own
  pool, see runtime.py: OpenMP's parallel-for stalls on one descheduled thread);
- libmvec (glibc's vector math): `expf`, `cosf`, ... are re-declared with
  `__attribute__((simd))` so the vectoriser calls `_ZGVeN16v_expf` & co. This is what
  `-ffast-math` would do, without its other effects: NaN/Inf semantics stay intact (no
  `-ffinite-math-only`, no reassociation; reductions vectorise through explicit lanes);
- `_Float16` (exact float16 conversions in hardware where available).

Flags: -O3, -march=native (unless NUMJAX_PORTABLE=1), -fno-math-errno (math calls have no
side effects, so they vectorise), -fno-trapping-math, -fwrapv (signed integer wrap-around
as JAX; no undefined behaviour), -ffp-contract=off (no implicit FMAs: the native tier rounds
like the NumPy tier).
"""
from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading

from numjax._src.compiler.native import cache as _cache

_lock = threading.Lock()
_toolchain = None
_probed = False

MVEC_FUNCS_F32 = ("expf", "logf", "sinf", "cosf", "tanf", "asinf", "acosf", "atanf",
                  "sinhf", "coshf", "tanhf", "asinhf", "acoshf", "atanhf", "expm1f",
                  "log1pf", "exp2f", "log2f", "log10f", "cbrtf", "erff", "erfcf", "powf",
                  "atan2f")
MVEC_FUNCS_F64 = ("exp", "log", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
                  "tanh", "asinh", "acosh", "atanh", "expm1", "log1p", "exp2", "log2",
                  "log10", "cbrt", "erf", "erfc", "pow", "atan2")


class Toolchain:
  """A working C compiler and the options it accepts."""

  def __init__(self, cmd, version, simd, mvec, float16, portable):
    self.cmd = list(cmd)
    self.version = version
    self.simd = simd
    self.mvec = mvec
    self.float16 = float16
    self.portable = portable

  @property
  def cflags(self) -> list:
    f = ["-O3", "-std=gnu11", "-fPIC", "-shared", "-fno-math-errno", "-fno-trapping-math",
         "-fwrapv", "-ffp-contract=off", "-fno-semantic-interposition", "-w",
         "-Werror=implicit-function-declaration"]
    if not self.portable:
      f.append("-march=native")
    f.append("-pthread")
    if self.simd:
      f.append("-fopenmp-simd")
    return f

  @property
  def ldflags(self) -> list:
    return (["-lmvec"] if self.mvec else []) + ["-lm"]

  def key(self) -> str:
    """What a compiled library depends on besides its source."""
    return json.dumps([self.cmd, self.version, self.cflags, self.ldflags])

  def compile(self, c_path: str, so_path: str):
    """Compile c_path into the shared library so_path (raises CompileError)."""
    cmd = self.cmd + self.cflags + [c_path, "-o", so_path] + self.ldflags
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
      raise CompileError(f"{' '.join(shlex.quote(c) for c in cmd)} failed:\n{p.stderr[:1500]}")

  def compile_parts(self, c_paths: list, so_path: str):
    """Compile several translation units in parallel (one compiler process each) and link
    them into the shared library so_path (raises CompileError)."""
    cflags = [f for f in self.cflags if f != "-shared"]
    procs = []
    for c in c_paths:
      cmd = self.cmd + cflags + ["-c", c, "-o", c[:-2] + ".o"]
      procs.append((cmd, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True)))
    err = None
    for cmd, p in procs:
      _, e = p.communicate()
      if p.returncode != 0 and err is None:
        err = f"{' '.join(shlex.quote(c) for c in cmd)} failed:\n{e[:1500]}"
    if err is not None:
      raise CompileError(err)
    cmd = self.cmd + ["-shared", "-fPIC"] + [c[:-2] + ".o" for c in c_paths] + \
        ["-o", so_path] + self.ldflags
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
      raise CompileError(f"{' '.join(shlex.quote(c) for c in cmd)} failed:\n{p.stderr[:1500]}")

  def __repr__(self):
    return (f"Toolchain({' '.join(self.cmd)!r}, {self.version!r}, "
            f"mvec={self.mvec}, float16={self.float16}, simd={self.simd})")


class CompileError(RuntimeError):
  pass


def _candidates():
  env = os.environ.get("CC")
  if env:
    yield shlex.split(env)
  for name in ("cc", "gcc", "clang"):
    path = shutil.which(name)
    if path:
      yield [path]


_PROBE_SRC = r"""
#include <math.h>
#include <stdint.h>
#ifdef NJ_TRY_MVEC
__attribute__((__simd__("notinbranch"))) float expf(float);
#endif
#ifdef NJ_TRY_F16
_Float16 nj_h(float x) { return (_Float16)x; }
#endif
void nj_probe(float *restrict x, int64_t n) {
  #pragma omp simd
  for (int64_t i = 0; i < n; i++) x[i] = expf(x[i]);
}
"""


def _probe_one(cmd, flags, defines, libs, tmp):
  src = os.path.join(tmp, "probe.c")
  with open(src, "w") as f:
    f.write(_PROBE_SRC)
  out = os.path.join(tmp, "probe.so")
  args = list(cmd) + ["-O2", "-fPIC", "-shared", "-fno-math-errno"] + flags + \
      [f"-D{d}" for d in defines] + [src, "-o", out] + libs + ["-lm"]
  try:
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
  except (OSError, subprocess.SubprocessError):
    return False
  if p.returncode != 0:
    return False
  try:  # it must also load (a libgomp or libmvec that links but is missing at run time)
    import ctypes
    ctypes.CDLL(out)
  except OSError:
    return False
  return True


def _version(cmd):
  try:
    p = subprocess.run(list(cmd) + ["--version"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30)
  except (OSError, subprocess.SubprocessError):
    return None
  if p.returncode != 0:
    return None
  return (p.stdout.strip().splitlines() or ["?"])[0]


def _fingerprint(cmd):
  exe = shutil.which(cmd[0]) or cmd[0]
  try:
    st = os.stat(os.path.realpath(exe))
    return f"{os.path.realpath(exe)}:{st.st_size}:{st.st_mtime_ns}:{' '.join(cmd[1:])}"
  except OSError:
    return None


def _probe(cmd, portable):
  """Probe a compiler command; None if it does not work."""
  fp = _fingerprint(cmd)
  if fp is None:
    return None
  key = hashlib.sha256(f"probe-v3:{fp}:{sys.platform}:{portable}".encode()).hexdigest()[:24]
  cached = _cache.read_meta(f"probe-{key}")
  if cached is not None:
    return Toolchain(cmd, cached["version"], cached["simd"], cached["mvec"],
                     cached["float16"], portable)
  version = _version(cmd)
  if version is None:
    return None
  arch = [] if portable else ["-march=native"]
  with tempfile.TemporaryDirectory(prefix="numjax-probe-") as tmp:
    # the most capable combination first: one compile in the common case
    full = _probe_one(cmd, arch + ["-fopenmp-simd", "-pthread"], ["NJ_TRY_MVEC", "NJ_TRY_F16"],
                      ["-lmvec"], tmp)
    if full:
      simd = mvec = f16 = True
    else:
      if not _probe_one(cmd, arch + ["-pthread"], [], [], tmp):
        return None
      simd = _probe_one(cmd, arch + ["-fopenmp-simd", "-pthread"], [], [], tmp)
      mvec = _probe_one(cmd, arch + ["-pthread"], ["NJ_TRY_MVEC"], ["-lmvec"], tmp)
      f16 = _probe_one(cmd, arch + ["-pthread"], ["NJ_TRY_F16"], [], tmp)
  _cache.write_meta(f"probe-{key}", {"version": version, "simd": simd, "mvec": mvec,
                                     "float16": f16})
  return Toolchain(cmd, version, simd, mvec, f16, portable)


def toolchain() -> Toolchain | None:
  """The first working C compiler (probed once per process), or None."""
  global _toolchain, _probed
  if _probed:
    return _toolchain
  with _lock:
    if _probed:
      return _toolchain
    portable = os.environ.get("NUMJAX_PORTABLE", "") not in ("", "0")
    tc = None
    for cmd in _candidates():
      tc = _probe(cmd, portable)
      if tc is not None:
        break
    _toolchain = tc
    _probed = True
    return tc


def reset():
  """Forget the probed compiler (tests; after changing $CC)."""
  global _toolchain, _probed
  with _lock:
    _toolchain, _probed = None, False
