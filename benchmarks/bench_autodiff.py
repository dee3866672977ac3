"""Eager reverse mode: grad of an MLP loss (784-512-512-10, batch 128, tanh, MSE), numjax
beside the same forward + backward written by hand in NumPy, and beside JAX (eager and jit)
when importable. Target: numjax eager grad within 1.5x of hand-written NumPy.

Run: PYTHONPATH=. python benchmarks/bench_autodiff.py
"""
import numpy as np

from _mlp import BATCH, SIZES, mlp_data, mlp_loss
from _timing import best_ms, paired_ms


def numpy_grad(params, x, y):
  """Forward and backward by hand: what a careful NumPy programmer writes."""
  hs = [x]
  h = x
  for i, (w, b) in enumerate(params):
    z = h @ w + b
    h = np.tanh(z) if i < len(params) - 1 else z
    hs.append(h)
  diff = h - y
  loss = np.mean(diff * diff)
  g = (2.0 / diff.size) * diff
  grads = [None] * len(params)
  for i in reversed(range(len(params))):
    w, _ = params[i]
    h_in = hs[i]
    grads[i] = (h_in.T @ g, g.sum(0))
    if i:
      g = (g @ w.T) * (1 - hs[i] * hs[i])
  return loss, grads


def main():
  import numjax
  import numjax.numpy as jnp
  params, x, y = mlp_data(np.asarray)
  nj_params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in params]
  nj_x, nj_y = jnp.asarray(x), jnp.asarray(y)
  vg = numjax.value_and_grad(mlp_loss(jnp))

  # Same numbers first.
  l_nj, g_nj = vg(nj_params, nj_x, nj_y)
  l_np, g_np = numpy_grad(params, x, y)
  np.testing.assert_allclose(float(l_nj), l_np, rtol=1e-4)
  for (gw, gb), (hw, hb) in zip(g_nj, g_np):
    np.testing.assert_allclose(np.asarray(gw), hw, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(np.asarray(gb), hb, rtol=1e-3, atol=1e-5)

  t_nj, t_np = paired_ms(lambda: vg(nj_params, nj_x, nj_y),
                         lambda: numpy_grad(params, x, y))
  rows = [("numjax eager value_and_grad", t_nj), ("NumPy by hand", t_np)]
  t_jit = None
  try:
    jvg = numjax.jit(vg)
    jvg(nj_params, nj_x, nj_y)
    t_jit = best_ms(lambda: jvg(nj_params, nj_x, nj_y))
    rows.append(("numjax jit(value_and_grad)", t_jit))
  except Exception as e:  # jit tiers are still landing: report, don't fail the benchmark
    rows.append((f"numjax jit: unavailable ({type(e).__name__})", None))
  try:
    import jax
    import jax.numpy as jjnp
    jp = [(jjnp.asarray(w), jjnp.asarray(b)) for w, b in params]
    jx, jy = jjnp.asarray(x), jjnp.asarray(y)
    jvg_eager = jax.value_and_grad(mlp_loss(jjnp))
    jax.block_until_ready(jvg_eager(jp, jx, jy))
    rows.append(("JAX eager value_and_grad",
                 best_ms(lambda: jax.block_until_ready(jvg_eager(jp, jx, jy)))))
    jvg_jit = jax.jit(jvg_eager)
    jax.block_until_ready(jvg_jit(jp, jx, jy))
    rows.append(("JAX jit(value_and_grad)",
                 best_ms(lambda: jax.block_until_ready(jvg_jit(jp, jx, jy)))))
  except ImportError:
    rows.append(("JAX: not importable", None))
  print(f"MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, tanh, MSE: loss + gradient "
        "(best ms per call; numjax and NumPy timed in alternation)")
  for name, t in rows:
    print(f"  {name:<44}{'' if t is None else f'{t:8.2f}'}")
  print(f"  numjax eager / NumPy by hand: {t_nj / t_np:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
  main()
