"""Eager dispatch and import time: numjax beside NumPy, and beside JAX when importable.

Run: python benchmarks/bench_eager.py
"""
import functools
import os
import subprocess
import sys

import numpy as np

import _timing

median_us = functools.partial(_timing.median_us, number=20000)  # fixed calls per run


def import_time(module, runs=5):
  code = ("import time; t = time.perf_counter(); import {m}; "
          "print(time.perf_counter() - t)").format(m=module)
  # Measure the import a user gets: bytecode cached (pip compiles it at install). A warm-up
  # run writes __pycache__ even where PYTHONDONTWRITEBYTECODE is set for this shell.
  env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
  env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                       env.get("PYTHONPATH", "")])
  subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, env=env)
  ts = []
  for _ in range(runs):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if out.returncode:
      return None
    ts.append(float(out.stdout.strip()))
  return float(np.median(ts))


def main():
  rows = []
  import numjax.numpy as jnp
  x = jnp.ones(8, dtype=jnp.float32)
  a = np.ones(8, dtype=np.float32)
  rows.append(("x + x, 8 x f32 (µs)", median_us(lambda: x + x), median_us(lambda: a + a)))
  rows.append(("jnp.sin(x), 8 x f32 (µs)", median_us(lambda: jnp.sin(x)), median_us(lambda: np.sin(a))))
  try:
    import jax
    import jax.numpy as jjnp
    jx = jjnp.ones(8, dtype=jjnp.float32)
    (jx + jx).block_until_ready()
    jax_rows = [median_us(lambda: jx + jx, number=5000), median_us(lambda: jjnp.sin(jx), number=5000)]
  except ImportError:
    jax_rows = [None, None]
  t_nj = import_time("numjax")
  t_np = import_time("numpy")
  t_jax = import_time("jax")
  print(f"{'benchmark':<28}{'numjax':>10}{'NumPy':>10}{'JAX':>10}")
  for (name, nj, npv), jv in zip(rows, jax_rows):
    print(f"{name:<28}{nj:>10.2f}{npv:>10.2f}{(f'{jv:.2f}' if jv else 'n/a'):>10}")
  fmt = lambda v: f"{v:.3f}" if v is not None else "n/a"
  print(f"{'import (s)':<28}{fmt(t_nj):>10}{fmt(t_np):>10}{fmt(t_jax):>10}")


if __name__ == "__main__":
  main()
