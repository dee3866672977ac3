"""Per-op eager overhead: small eager ops in numjax beside the same op in NumPy, and beside
JAX (eager, no jit) when importable. Median µs per call; small operands, so the numbers are
dispatch overhead, not arithmetic.

Run: PYTHONPATH=. python benchmarks/bench_eager_ops.py
(With JAX: PYTHONPATH=. /work/jaxenv/bin/python benchmarks/bench_eager_ops.py)
"""
import numpy as np

from _timing import median_us


def cases(jax, jnp, lax, random, host):
  """(name, thunk) pairs; `host` is NumPy for the baseline or None for a numjax/JAX run."""
  x8 = jnp.arange(8, dtype=jnp.float32) * 0.5
  m8 = jnp.ones((8, 8), jnp.float32) * 0.25
  m10 = jnp.arange(100, dtype=jnp.float32).reshape(10, 10) * 0.1
  idx = jnp.array([0, 3, 5], jnp.int32)
  key = random.PRNGKey(0)
  f = lambda v: jnp.sum(jnp.sin(v) * v)
  g = jax.grad(f)
  return [
      ("x + x (8,)", lambda: x8 + x8),
      ("jnp.sin(x) (8,)", lambda: jnp.sin(x8)),
      ("jnp.sum(x) (8,)", lambda: jnp.sum(x8)),
      ("lax.reduce_sum(m, (0,)) (8,8)", lambda: lax.reduce_sum(m8, (0,))),
      ("x[3]", lambda: x8[3]),
      ("x[1:5]", lambda: x8[1:5]),
      ("x[idx] (gather, 3 of 8)", lambda: x8[idx]),
      ("x.at[2].set(1.)", lambda: x8.at[2].set(1.)),
      ("x.at[idx].add(1.) (scatter)", lambda: x8.at[idx].add(1.)),
      ("jnp.dot(m, m) (8,8)", lambda: jnp.dot(m8, m8)),
      ("jnp.var(m) (10,10)", lambda: jnp.var(m10)),
      ("jnp.mean(m, axis=0) (10,10)", lambda: jnp.mean(m10, axis=0)),
      ("jnp.where(x > 1, x, 0.) (8,)", lambda: jnp.where(x8 > 1, x8, 0.)),
      ("random.normal(k, (3,))", lambda: random.normal(key, (3,))),
      ("random.split(k)", lambda: random.split(key)),
      ("grad(sum(sin(x)*x)) (8,)", lambda: g(x8)),
  ]


def numpy_cases():
  x8 = np.arange(8, dtype=np.float32) * 0.5
  m8 = np.ones((8, 8), np.float32) * 0.25
  m10 = np.arange(100, dtype=np.float32).reshape(10, 10) * 0.1
  idx = np.array([0, 3, 5], np.int32)
  rng = np.random.default_rng(0)

  def at_set():
    y = x8.copy()
    y[2] = 1.
    return y

  def at_add():
    y = x8.copy()
    np.add.at(y, idx, 1.)
    return y

  def grad_by_hand():  # d/dx sum(sin(x) * x) = cos(x) * x + sin(x)
    return np.cos(x8) * x8 + np.sin(x8)
  return {
      "x + x (8,)": lambda: x8 + x8,
      "jnp.sin(x) (8,)": lambda: np.sin(x8),
      "jnp.sum(x) (8,)": lambda: np.sum(x8),
      "lax.reduce_sum(m, (0,)) (8,8)": lambda: np.sum(m8, axis=0),
      "x[3]": lambda: x8[3],
      "x[1:5]": lambda: x8[1:5],
      "x[idx] (gather, 3 of 8)": lambda: x8[idx],
      "x.at[2].set(1.)": at_set,
      "x.at[idx].add(1.) (scatter)": at_add,
      "jnp.dot(m, m) (8,8)": lambda: np.dot(m8, m8),
      "jnp.var(m) (10,10)": lambda: np.var(m10),
      "jnp.mean(m, axis=0) (10,10)": lambda: np.mean(m10, axis=0),
      "jnp.where(x > 1, x, 0.) (8,)": lambda: np.where(x8 > 1, x8, 0.),
      "random.normal(k, (3,))": lambda: rng.standard_normal(3, dtype=np.float32),
      "random.split(k)": lambda: rng.integers(0, 2**32, (2, 2), dtype=np.uint32),
      "grad(sum(sin(x)*x)) (8,)": grad_by_hand,
  }


def main():
  import numjax
  import numjax.numpy as jnp
  from numjax import lax, random
  nj = [(name, median_us(fn)) for name, fn in cases(numjax, jnp, lax, random, None)]
  npc = numpy_cases()
  jx = {}
  try:
    import jax
    import jax.numpy as jjnp
    from jax import lax as jlax, random as jrandom
    for name, fn in cases(jax, jjnp, jlax, jrandom, None):
      jx[name] = median_us(lambda fn=fn: jax.block_until_ready(fn()))
  except ImportError:
    pass
  print(f"{'eager op (median µs)':<34}{'numjax':>9}{'NumPy':>9}{'JAX':>9}{'nj/np':>8}")
  for name, t in nj:
    tn = median_us(npc[name])
    tj = jx.get(name)
    print(f"{name:<34}{t:>9.2f}{tn:>9.2f}{(f'{tj:.2f}' if tj else 'n/a'):>9}{t / tn:>8.1f}")
  print("NumPy columns: the same work written directly (random: NumPy's own generator; "
        "grad: the derivative by hand).")


if __name__ == "__main__":
  main()
