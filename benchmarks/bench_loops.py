"""Loop overhead: fori_loop of 100k scalar iterations (body: x * 0.99 + 1.0).

Run:  PYTHONPATH=/work/main /work/jaxenv/bin/python benchmarks/bench_loops.py

Prints median milliseconds for
  - numjax fori_loop eager (NumPy tier: a generated Python loop over NumPy scalars),
  - numjax fori_loop under jit,
  - plain Python loops doing the same arithmetic: on NumPy float32 scalars, on Python
    floats, and calling the body eagerly with numjax ops (what fori_loop replaces),
  - JAX (jit'ed fori_loop, and its eager Python loop) when importable,
plus a while_loop, a scan over xs, and reverse-mode through while_loop.
"""
from __future__ import annotations

import sys

import numpy as np

from _timing import median_ms as bench

N = 100_000


def body(i, x):
  return x * 0.99 + 1.0


def py_numpy():
  x, a, b = np.float32(1.0), np.float32(0.99), np.float32(1.0)
  for _ in range(N):
    x = x * a + b
  return x


def py_float():
  x = 1.0
  for _ in range(N):
    x = x * 0.99 + 1.0
  return x


def main():
  rows = []
  import numjax as nj
  from numjax import lax
  fori_eager = lambda: lax.fori_loop(0, N, body, 1.0)
  fori_jit = nj.jit(lambda x: lax.fori_loop(0, N, body, x))
  rows.append(("numjax fori_loop eager", bench(fori_eager)))
  rows.append(("numjax fori_loop jit", bench(lambda: fori_jit(1.0).block_until_ready())))
  rows.append(("Python loop, NumPy float32 scalars", bench(py_numpy)))
  rows.append(("Python loop, Python floats", bench(py_float)))
  n_eager = N // 20

  def nj_python_loop():
    x = nj.numpy.float32(1.0)
    for i in range(n_eager):
      x = body(i, x)
    return x
  rows.append(("Python loop calling body with numjax eager ops (extrapolated)",
               bench(nj_python_loop, repeat=3) * (N / n_eager)))

  def cond_w(c):
    return c[0] < N

  def body_w(c):
    return c[0] + 1, c[1] * 0.99 + 1.0
  rows.append(("numjax while_loop eager (same body + counter)",
               bench(lambda: lax.while_loop(cond_w, body_w, (0, 1.0)))))
  xs = nj.numpy.ones(N, dtype=nj.numpy.float32)
  scan_jit = nj.jit(lambda c, xs: lax.scan(lambda c, x: (c * 0.99 + x, c), c, xs))
  rows.append(("numjax scan over 100k xs, jit (carry + ys)",
               bench(lambda: scan_jit(1.0, xs)[0].block_until_ready())))

  def newton(a):
    def c(s):
      return nj.numpy.abs(s * s - a) > 1e-6 * a
    return lax.while_loop(c, lambda s: 0.5 * (s + a / s), a)
  rows.append(("numjax grad(Newton sqrt while_loop, ~6 iterations) eager", bench(lambda: nj.grad(newton)(2.0))))
  g_jit = nj.jit(nj.grad(newton))
  rows.append(("numjax grad(Newton sqrt while_loop, ~6 iterations) jit", bench(lambda: g_jit(2.0))))

  try:
    import jax
    jax.config.update("jax_platforms", "cpu")
    from jax import lax as jlax
    jf = jax.jit(lambda x: jlax.fori_loop(0, N, body, x))
    rows.append(("JAX fori_loop jit", bench(lambda: jf(1.0).block_until_ready())))
    je = lambda: jlax.fori_loop(0, N, body, 1.0)
    rows.append(("JAX fori_loop eager (no jit)", bench(lambda: je().block_until_ready())))
    n_j = N // 100

    def jax_python_loop():
      x = jax.numpy.float32(1.0)
      for i in range(n_j):
        x = body(i, x)
      return x.block_until_ready()
    rows.append(("JAX Python loop calling body eagerly (extrapolated)",
                 bench(jax_python_loop, repeat=3) * (N / n_j)))
    js = jax.jit(lambda c, xs: jlax.scan(lambda c, x: (c * 0.99 + x, c), c, xs))
    jxs = jax.numpy.ones(N, dtype=jax.numpy.float32)
    rows.append(("JAX scan over 100k xs, jit", bench(lambda: js(1.0, jxs)[0].block_until_ready())))
  except ImportError:
    print("(JAX not importable: its rows are skipped)", file=sys.stderr)

  width = max(len(r[0]) for r in rows)
  print(f"fori_loop / while_loop / scan, {N} scalar iterations (median ms)")
  for name, ms in rows:
    per = "" if "Newton" in name else f"   ({ms * 1e3 / N:7.3f} us/iter)"
    print(f"  {name:<{width}}  {ms:10.2f} ms{per}")
  eager = rows[0][1]
  print(f"\nnumjax fori_loop eager / Python NumPy-scalar loop: {eager / rows[2][1]:.2f}x")
  print(f"numjax fori_loop eager / Python loop of numjax ops: {eager / rows[4][1]:.4f}x")


if __name__ == "__main__":
  main()
