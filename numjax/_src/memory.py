"""Process-wide settings made at import: allocator settings for array workloads (glibc only),
and the floating-point warning filter (quiet_float_warnings).

glibc serves each allocation above a (dynamic, starting at 128 KiB) threshold with a fresh
mmap, and gives freed memory at the top of the heap back to the OS: every new mid-sized
array -- 0.1 to 32 MB, the bulk of an eager program's temporaries -- then pays a page fault
per 4 KiB page on first touch (~2.5 us each on this kind of VM). Measured: an eager conv +
bias + relu on a (32, 28, 28, 32) output took 5.4 ms with glibc's defaults and 0.8 ms with
mid-sized blocks kept in the heap. So, at import: allocations up to 32 MB come from the heap,
and up to 256 MB of free heap is kept. Set NUMJAX_MALLOC_TUNING=0 to keep glibc's defaults.
"""
from __future__ import annotations

import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20    # glibc's maximum for the mmap threshold on 64-bit
TRIM_THRESHOLD = 256 << 20

applied = False


def tune_allocator() -> bool:
  """Apply the settings (once); False when not on glibc or switched off."""
  global applied
  if applied:
    return True
  if os.environ.get("NUMJAX_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
    return False
  try:
    import ctypes
    libc = ctypes.CDLL("libc.so.6")
    mallopt = libc.mallopt
  except (OSError, AttributeError):   # not glibc (musl, ...)
    return False
  mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
  ok = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
  ok = mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
  applied = ok
  return ok


def quiet_float_warnings():
  """NumPy's floating-point RuntimeWarnings ("invalid value encountered in subtract", ...)
  raised inside numjax's own code are ignored: JAX computes NaN and inf without a word, and
  a user's program running on numjax should print what it printed on JAX. Only warnings
  attributed to numjax's modules (and its generated NumPy-tier programs) are filtered --
  NumPy code of the user's own warns as before. An errstate around every eager operation
  would cost ~1 us each (x + x takes ~1.2 us); a filter costs nothing until a warning."""
  import warnings
  warnings.filterwarnings(
      "ignore", message=r"(invalid value|divide by zero|overflow|underflow) encountered",
      category=RuntimeWarning, module=r"numjax\.")
