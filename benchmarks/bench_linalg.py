"""Linear algebra and FFT: numjax (eager and jit, NumPy tier) beside NumPy/SciPy, and
beside JAX (jit) when importable. Sizes: one 256x256 matrix, a batch of 1000 4x4 matrices
(vmap-style), a 2**16-point FFT and its gradient.

Run: PYTHONPATH=. python benchmarks/bench_linalg.py
"""
import functools

import numpy as np

import _timing
from _timing import block

best_ms = functools.partial(_timing.best_ms, repeat=7, warmup=True)


def cases(linalg, fft):
  """(name, function, arguments): arguments are passed in, so jit cannot fold them."""
  rng = np.random.default_rng(0)
  a = (rng.standard_normal((256, 256)) / 16).astype(np.float32)
  spd = (a @ a.T + np.eye(256)).astype(np.float32)
  b = rng.standard_normal((256, 8)).astype(np.float32)
  small = (rng.standard_normal((1000, 4, 4)) * 0.3 + np.eye(4)).astype(np.float32)
  small_b = rng.standard_normal((1000, 4, 1)).astype(np.float32)
  sig = rng.standard_normal(2 ** 16).astype(np.float32)
  return [
      ("cholesky 256", linalg.cholesky, (spd,)),
      ("solve 256 x 8", linalg.solve, (a + np.eye(256, dtype=np.float32), b)),
      ("eigh 256", linalg.eigh, (spd,)),
      ("svd 256", linalg.svd, (a,)),
      ("qr 256", linalg.qr, (a,)),
      ("det 256", linalg.det, (a + np.eye(256, dtype=np.float32),)),
      ("inv 1000x4x4", linalg.inv, (small,)),
      ("solve 1000x4x4", linalg.solve, (small, small_b)),
      ("rfft 2^16", fft.rfft, (sig,)),
      ("fft2 256x256", fft.fft2, (a,)),
  ]


def main():
  import numjax
  import numjax.numpy as jnp
  rows = {}
  for name, fn, args in cases(np.linalg, np.fft):
    rows[name] = [best_ms(lambda: fn(*args))]
  for name, fn, args in cases(jnp.linalg, jnp.fft):
    args = [jnp.asarray(x) for x in args]
    rows[name].append(best_ms(lambda: block(fn(*args))))
    jitted = numjax.jit(fn)
    rows[name].append(best_ms(lambda: block(jitted(*args))))
  try:
    import jax
    import jax.numpy as jjnp
    for name, fn, args in cases(jjnp.linalg, jjnp.fft):
      args = [jjnp.asarray(x) for x in args]
      jitted = jax.jit(fn)
      rows[name].append(best_ms(lambda: block(jitted(*args))))
    have_jax = True
  except ImportError:
    have_jax = False
  print(f"{'case':<18}{'NumPy':>10}{'numjax':>10}{'nj jit':>10}" + (f"{'JAX jit':>10}" if have_jax else ""))
  for name, ms in rows.items():
    print(f"{name:<18}" + "".join(f"{m:>10.3f}" for m in ms))
  print("(milliseconds, best of 7)")


if __name__ == "__main__":
  main()
