"""jit benchmarks: dispatch cost, an MLP train step (first call and steady state), and
compile time versus program size. Prints numjax beside JAX when JAX is importable.

    PYTHONPATH=. python benchmarks/bench_jit.py            # numjax only
    PYTHONPATH=. /work/jaxenv/bin/python benchmarks/bench_jit.py   # beside JAX

Figures are medians (and minima) over repeated runs, in microseconds or milliseconds.
"""
from __future__ import annotations

import statistics
import sys
import time

import numpy as np

import numjax
import numjax.numpy as njnp
from numjax import lax as nlax

from _mlp import mlp_data, mlp_step
from _timing import block, drain_native, tier_of, timed

try:  # JAX is optional: only benchmarks import it
  import jax
  import jax.numpy as jjnp
  from jax import lax as jlax
except ImportError:  # pragma: no cover
  jax = None


def _repeat(fn, number, repeat=7):
  """Per-call times (seconds) of `repeat` rounds of `number` calls."""
  return [timed(fn, number) for _ in range(repeat)]


def _fmt(ts, unit):
  scale = {"us": 1e6, "ms": 1e3, "s": 1.0}[unit]
  return f"{statistics.median(ts) * scale:9.2f} {unit} (min {min(ts) * scale:.2f})"


def _row(name, nj, jx, unit):
  line = f"{name:<46} numjax {_fmt(nj, unit)}"
  if jx is not None:
    line += f"   JAX {_fmt(jx, unit)}"
  print(line, flush=True)


# ---------------------------------------------------------------------------------------
# dispatch

def bench_dispatch():
  print("== cached-jit dispatch (small arrays) ==")
  cases = [
      ("small array: f(x) = x * 2 + 1, f32[8]", lambda m: lambda x: x * 2.0 + 1.0,
       lambda m: m.ones(8, dtype=np.float32)),
      ("dict of 20 arrays -> sum of values", lambda m: lambda d: sum(d.values()),
       lambda m: {f"k{i}": m.ones(8, dtype=np.float32) for i in range(20)}),
      ("dict of 20 arrays -> dict of 20 (v + 1)", lambda m: lambda d: {k: v + 1.0 for k, v
                                                                     in d.items()},
       lambda m: {f"k{i}": m.ones(8, dtype=np.float32) for i in range(20)}),
  ]
  for name, make_f, make_x in cases:
    f, x = numjax.jit(make_f(njnp)), make_x(njnp)
    f(x)
    f(x)
    nj = _repeat(lambda: f(x), 3000)
    jx = None
    if jax is not None:
      g, y = jax.jit(make_f(jjnp)), make_x(jjnp)
      block(g(y))
      jx = _repeat(lambda: g(y), 3000)
    _row(name, nj, jx, "us")


# ---------------------------------------------------------------------------------------
# MLP train step: 784-512-512-10, batch 128, grad + SGD over a list of (W, b)

def bench_mlp():
  print("== MLP train step (784-512-512-10, batch 128, grad + SGD) ==")
  params, x, y = mlp_data(njnp.asarray)
  firsts = []
  for _ in range(3):
    drain_native()
    numjax.clear_caches()
    step = numjax.jit(mlp_step(njnp, numjax.tree.map, numjax.grad))
    t0 = time.perf_counter()
    out = step(params, x, y)
    np.asarray(out[0][0])
    firsts.append(time.perf_counter() - t0)
  jfirst = None
  if jax is not None:
    jparams, jx_, jy = mlp_data(jjnp.asarray)
    jfirst = []
    for _ in range(3):
      jax.clear_caches()
      jstep = jax.jit(mlp_step(jjnp, jax.tree.map, jax.grad))
      t0 = time.perf_counter()
      jout = jstep(jparams, jx_, jy)
      jax.block_until_ready(jout)
      jfirst.append(time.perf_counter() - t0)
  _row("first call (trace + compile + run)", firsts, jfirst, "ms")
  # the same without running it: what the first call adds to a steady-state step
  aot, jaot = [], ([] if jax is not None else None)
  for _ in range(3):
    drain_native()
    numjax.clear_caches()
    f = numjax.jit(mlp_step(njnp, numjax.tree.map, numjax.grad))
    t0 = time.perf_counter()
    f.lower(params, x, y).compile()
    aot.append(time.perf_counter() - t0)
    if jax is not None:
      jax.clear_caches()
      g = jax.jit(mlp_step(jjnp, jax.tree.map, jax.grad))
      t0 = time.perf_counter()
      g.lower(jparams, jx_, jy).compile()
      jaot.append(time.perf_counter() - t0)
  _row("trace + compile only (.lower().compile())", aot, jaot, "ms")

  p = params
  for _ in range(3):
    p = step(p, x, y)
  drain_native()
  # per-call times; numjax first, then JAX (XLA's worker threads spin for a while after
  # each call, which would slow NumPy's BLAS threads if the two were interleaved)
  nj = _repeat(lambda: step(params, x, y), 1, repeat=60)
  jx = None
  if jax is not None:
    for _ in range(3):
      jax.block_until_ready(jstep(jparams, jx_, jy))
    jx = _repeat(lambda: jax.block_until_ready(jstep(jparams, jx_, jy)), 1, repeat=60)
  _row(f"steady-state step (per call, {tier_of(step)} tier)", nj, jx, "ms")
  if jx is not None:
    print(f"   steady-state ratio numjax/JAX = "
          f"{statistics.median(nj) / statistics.median(jx):.2f}")


# ---------------------------------------------------------------------------------------
# compile time versus size

def _chain(lax_mod, n_eqns):
  def f(x):
    for i in range(n_eqns // 3):
      x = lax_mod.sin(x)
      x = lax_mod.mul(x, np.float32(1.0 + 1e-3 * (i % 7)))
      x = lax_mod.add(x, np.float32(0.5))
    return x
  return f


def bench_compile_scaling():
  print("== compile time vs program size (trace + passes + codegen + first run) ==")
  x = np.ones(16, np.float32)
  for n in (250, 500, 1000, 2000):
    f = _chain(nlax, n)
    ts_nj = []
    neqn = None
    for _ in range(3):
      drain_native()
      t0 = time.perf_counter()
      jf = numjax.jit(f)
      np.asarray(jf(x))
      ts_nj.append(time.perf_counter() - t0)
      neqn = len(numjax.make_jaxpr(f)(x).eqns)
    ts_j = None
    if jax is not None and n <= 1000:
      g = _chain(jlax, n)
      ts_j = []
      for _ in range(2):
        jax.clear_caches()
        t0 = time.perf_counter()
        jax.block_until_ready(jax.jit(g)(x))
        ts_j.append(time.perf_counter() - t0)
    _row(f"{neqn} equations: first call", ts_nj, ts_j, "s")


def main(argv):
  import os
  which = argv[1:] or ["dispatch", "mlp", "compile"]
  print(f"numjax {numjax.__version__} (numjax_tier={numjax.config.numjax_tier})"
        + (f", JAX {jax.__version__}" if jax else ", JAX not importable")
        + f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
  print("(matmuls run on NumPy's BLAS: on an oversubscribed machine its threads contend; "
        "compare the minima, or set OPENBLAS_NUM_THREADS=1)")
  if "dispatch" in which:
    bench_dispatch()
  if "mlp" in which:
    bench_mlp()
  if "compile" in which:
    bench_compile_scaling()


if __name__ == "__main__":
  main(sys.argv)
