"""jnp part B eager costs: reductions, shape ops, selection and products on small (10x10)
and medium (1000x1000) arrays, numjax beside NumPy and beside JAX (eager) when importable.

Run: PYTHONPATH=. python benchmarks/bench_numpy_b.py
"""
import numpy as np

from _timing import min_s


def cases(xp, x, y, m):
  return {
      "sum": lambda: xp.sum(x),
      "sum(axis=0)": lambda: xp.sum(x, axis=0),
      "mean(axis=1)": lambda: xp.mean(x, axis=1),
      "var": lambda: xp.var(x),
      "max": lambda: xp.max(x),
      "argmax": lambda: xp.argmax(x),
      "cumsum(axis=0)": lambda: xp.cumsum(x, axis=0),
      "median": lambda: xp.median(x),
      "reshape": lambda: xp.reshape(x, (-1,)),
      "transpose": lambda: xp.transpose(x),
      "concatenate": lambda: xp.concatenate([x, y]),
      "stack": lambda: xp.stack([x, y]),
      "where": lambda: xp.where(m, x, y),
      "clip": lambda: xp.clip(x, 0, 1),
      "pad": lambda: xp.pad(x, 1),
      "dot": lambda: xp.dot(x, y),
      "einsum ij,jk": lambda: xp.einsum("ij,jk->ik", x, y),
  }


def main():
  import numjax.numpy as jnp
  try:
    import jax.numpy as jjnp
  except ImportError:
    jjnp = None
  rng = np.random.default_rng(0)
  for size in (10, 1000):
    x = rng.standard_normal((size, size)).astype(np.float32)
    y = rng.standard_normal((size, size)).astype(np.float32)
    m = x > 0
    rows = {"numpy": cases(np, x, y, m),
            "numjax": cases(jnp, jnp.asarray(x), jnp.asarray(y), jnp.asarray(m))}
    if jjnp is not None:
      rows["jax"] = cases(jjnp, jjnp.asarray(x), jjnp.asarray(y), jjnp.asarray(m))
    print(f"\n{size}x{size} float32, median-of-3 time per call (us)")
    print(f"{'op':16s}" + "".join(f"{k:>12s}" for k in rows))
    for name in rows["numpy"]:
      times = []
      for k in rows:
        fn = rows[k][name]
        if k == "jax":
          fn = (lambda f: lambda: f().block_until_ready())(fn) if name not in () else fn
        times.append(min_s(fn) * 1e6)
      print(f"{name:16s}" + "".join(f"{t:12.1f}" for t in times))


if __name__ == "__main__":
  main()
