"""vmap of a matrix-vector function over 1000 examples, numjax beside the same computation
batched by hand in NumPy, and beside JAX when importable. Target: within 1.5x of NumPy.

Cases: a shared matrix (in_axes=(None, 0)) and one matrix per example (in_axes=0).
Run: PYTHONPATH=. python benchmarks/bench_vmap.py
"""
import numpy as np

from _timing import best_ms, paired_ms

N = 1000


def layer(jnp):
  def f(m, v, b):
    return jnp.tanh(jnp.dot(m, v) + b)
  return f


def main():
  import numjax
  import numjax.numpy as jnp
  rng = np.random.default_rng(0)
  cases = []
  # shared 256x512 matrix, 1000 vectors
  m = rng.standard_normal((256, 512)).astype(np.float32)
  vs = rng.standard_normal((N, 512)).astype(np.float32)
  b = rng.standard_normal(256).astype(np.float32)
  cases.append(("shared W (256x512) @ v, 1000 v", (None, 0, None), (m, vs, b),
                lambda m, vs, b: np.tanh(vs @ m.T + b)))
  # one 32x64 matrix per example
  ms = rng.standard_normal((N, 32, 64)).astype(np.float32)
  vs2 = rng.standard_normal((N, 64)).astype(np.float32)
  b2 = rng.standard_normal((N, 32)).astype(np.float32)
  cases.append(("per-example W (32x64) @ v, 1000 pairs", (0, 0, 0), (ms, vs2, b2),
                lambda ms, vs, b: np.tanh(np.einsum("nij,nj->ni", ms, vs) + b)))

  try:
    import jax
    import jax.numpy as jjnp
  except ImportError:
    jax = None
  print(f"vmap over {N} examples (best ms per call; numjax and NumPy timed in alternation)")
  for name, in_axes, args, by_hand in cases:
    nj_args = [jnp.asarray(a) for a in args]
    f = numjax.vmap(layer(jnp), in_axes=in_axes)
    np.testing.assert_allclose(np.asarray(f(*nj_args)), by_hand(*args), rtol=1e-4, atol=1e-4)
    t_nj, t_np = paired_ms(lambda: f(*nj_args), lambda: by_hand(*args), number=5)
    print(f"  {name}")
    print(f"    numjax eager vmap        {t_nj:8.3f}")
    print(f"    NumPy batched by hand    {t_np:8.3f}")
    try:
      fj = numjax.jit(f)
      fj(*nj_args)
      print(f"    numjax jit(vmap)         {best_ms(lambda: fj(*nj_args), number=5):8.3f}")
    except Exception as e:  # jit tiers are still landing: report, don't fail
      print(f"    numjax jit(vmap)         unavailable ({type(e).__name__})")
    if jax is not None:
      ja = [jjnp.asarray(a) for a in args]
      g = jax.vmap(layer(jjnp), in_axes=in_axes)
      jax.block_until_ready(g(*ja))
      print(f"    JAX eager vmap           "
            f"{best_ms(lambda: jax.block_until_ready(g(*ja)), number=5):8.3f}")
      gj = jax.jit(g)
      jax.block_until_ready(gj(*ja))
      print(f"    JAX jit(vmap)            "
            f"{best_ms(lambda: jax.block_until_ready(gj(*ja)), number=5):8.3f}")
    print(f"    numjax eager / NumPy: {t_nj / t_np:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
  main()
