"""Native gather / scatter / cumulative steps: numjax native tier vs NumPy tier vs JAX.

    PYTHONPATH=. /work/jaxenv/bin/python benchmarks/bench_native_indexing.py

Cases (best ms per call; the same jitted function on each tier):
  embed      x[idx]: 100k int32 indices into a (50k, 64) float32 table
  embed_grad the gradient of sum(x[idx] * w) wrt x: a 100k-window scatter-add
  cumsum     cumsum of 10M float32
  cumsum_2d  cumsum along axis 0 of (1000, 10000) float32 (independent columns)
  scan_take  scan of 1000 steps, each gathers a row of a (1000, 256) table: h = tanh(h + t[i])
"""
from __future__ import annotations

import numpy as np

import numjax
import numjax.numpy as njnp
from numjax import lax as nlax

from _timing import best_ms  # noqa: E402

try:
  import jax
  import jax.numpy as jjnp
  from jax import lax as jlax
except ImportError:  # pragma: no cover
  jax = None


def _cases(np_, lax_, grad):
  def embed(x, i):
    return x[i]

  def embed_grad(x, i, w):
    return grad(lambda x: np_.sum(x[i] * w))(x)

  def cumsum(v):
    return np_.cumsum(v)

  def cumsum_2d(m):
    return np_.cumsum(m, axis=0)

  def scan_take(t, s):
    def body(h, i):
      h = np_.tanh(h + t[i])
      return h, h[0]
    return lax_.scan(body, np_.zeros(t.shape[1], np_.float32), s)
  return {"embed": embed, "embed_grad": embed_grad, "cumsum": cumsum,
          "cumsum_2d": cumsum_2d, "scan_take": scan_take}


def _inputs():
  rng = np.random.default_rng(0)
  table = rng.standard_normal((50_000, 64)).astype(np.float32)
  idx = rng.integers(0, 50_000, 100_000).astype(np.int32)
  w = rng.standard_normal((100_000, 64)).astype(np.float32)
  return {"embed": (table, idx), "embed_grad": (table, idx, w),
          "cumsum": (rng.standard_normal(10_000_000).astype(np.float32),),
          "cumsum_2d": (rng.standard_normal((1000, 10_000)).astype(np.float32),),
          "scan_take": (rng.standard_normal((1000, 256)).astype(np.float32),
                        rng.integers(0, 1000, 1000).astype(np.int32))}


def _block(out):
  for leaf in numjax.tree_util.tree_leaves(out):
    np.asarray(leaf)


def main():
  inputs = _inputs()
  nj = _cases(njnp, nlax, numjax.grad)
  jx = _cases(jjnp, jlax, jax.grad) if jax is not None else None
  print(f"{'case':<11} {'native ms':>10} {'numpy-tier ms':>14} {'JAX ms':>9} "
        f"{'native/numpy':>13} {'native/JAX':>11}")
  for name, args in inputs.items():
    times = {}
    for tier in ("native", "numpy"):
      with numjax.config._override("numjax_tier", tier):
        nargs = [numjax.numpy.asarray(a) for a in args]
        c = numjax.jit(nj[name]).lower(*nargs).compile()
        ref = c(*nargs)
        times[tier] = best_ms(lambda: _block(c(*nargs)), number=3, repeat=7, warmup=True)
        if tier == "native":
          assert c._exe.tier == "native", name
          out_native = ref
        else:
          for a, b in zip(numjax.tree_util.tree_leaves(out_native),
                          numjax.tree_util.tree_leaves(ref)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-4)
    tj = float("nan")
    if jx is not None:
      jargs = [jjnp.asarray(a) for a in args]
      jf = jax.jit(jx[name])
      tj = best_ms(lambda: jax.block_until_ready(jf(*jargs)), number=3, repeat=7, warmup=True)
    print(f"{name:<11} {times['native']:>10.2f} {times['numpy']:>14.2f} {tj:>9.2f} "
          f"{times['native'] / times['numpy']:>13.2f} {times['native'] / tj:>11.2f}")


if __name__ == "__main__":
  main()
