"""Timing helpers shared by the benchmark scripts (imported as `_timing`: a script's own
folder is first on sys.path when it runs as `python benchmarks/bench_X.py`)."""
from __future__ import annotations

import gc
import statistics
import time
import timeit

import numpy as np


def timed(fn, number=1):
  """Seconds per call of `number` calls of fn, timed with the garbage collector off."""
  gc.disable()
  try:
    t0 = time.perf_counter()
    for _ in range(number):
      fn()
    return (time.perf_counter() - t0) / number
  finally:
    gc.enable()


def best_ms(fn, number=3, repeat=10, warmup=False):
  """Best per-call time (ms) over `repeat` runs of `number` calls (after one call first if
  warmup: tracing, compilation, caches)."""
  if warmup:
    fn()
  return float(np.min(timeit.repeat(fn, number=number, repeat=repeat))) / number * 1e3


def paired_ms(fa, fb, number=3, repeat=15):
  """Best times (ms) of A and B, timed in alternation (fair on a machine with a varying
  load)."""
  ta, tb = [], []
  for _ in range(repeat):
    ta.append(timeit.timeit(fa, number=number) / number)
    tb.append(timeit.timeit(fb, number=number) / number)
  return float(np.min(ta)) * 1e3, float(np.min(tb)) * 1e3


def median_us(fn, number=None, repeat=7, budget=0.05):
  """Median over `repeat` runs of the mean time of one call (µs). number=None: one call
  first, then as many calls per run as take about `budget` seconds."""
  if number is None:
    fn()
    n, t = 1, 0.0
    while t < budget / 4:  # calibrate the number of calls per run
      n *= 4
      t = timeit.timeit(fn, number=n)
    number = max(1, int(n * budget / max(t, 1e-9) / 4))
  return float(np.median(timeit.repeat(fn, number=number, repeat=repeat))) / number * 1e6


def median_ms(fn, repeat=5, number=1):
  """Median per-call time (ms) over `repeat` runs of `number` calls, after one warm-up call
  (trace / compile)."""
  fn()
  ts = []
  for _ in range(repeat):
    t0 = time.perf_counter()
    for _ in range(number):
      fn()
    ts.append((time.perf_counter() - t0) / number)
  return statistics.median(ts) * 1e3


def min_s(fn, budget=0.2, max_number=5000, repeat=3):
  """Best per-call time (s) over `repeat` runs of as many calls (at most max_number) as one
  call's time fits in `budget` seconds, after one warm-up call."""
  fn()
  n = max(1, int(budget / max(timeit.timeit(fn, number=1), 1e-7)))
  n = min(n, max_number)
  return min(timeit.repeat(fn, number=n, repeat=repeat)) / n


def block(x):
  """Wait for x (an array, or a tuple/list of them) where it is asynchronous (JAX)."""
  leaves = x if isinstance(x, (tuple, list)) else (x,)
  for leaf in leaves:
    if hasattr(leaf, "block_until_ready"):
      leaf.block_until_ready()
  return x


def drain_native():
  """Wait until background native compiles (numjax_tier='auto') are done, so that one
  measurement does not run beside the compiler started by the previous one."""
  from numjax._src import compiler
  if compiler._pool is not None:
    compiler._pool.submit(lambda: None).result()


def tier_of(jitted):
  """The tier ('numpy', 'native', ...) a numjax.jit function's first entry compiled to."""
  entries = list(jitted._cache.values())
  return entries[0].exe.tier if entries and entries[0].exe is not None else "?"
