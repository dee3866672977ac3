"""random.normal(key, (10_000_000,)) under jit: numjax beside JAX (when importable) and beside
NumPy's default_rng().standard_normal (float32). Also the pieces: raw 32-bit random bits,
uniform floats, and eager (un-jitted) normal; then eager calls on small shapes (per-call
overhead: the samplers' cached plans, the key primitives' one-key paths), numjax beside
JAX. Times are the best of several runs, taken in alternation so that a varying machine
load hits every contender alike.

Run: PYTHONPATH=. python benchmarks/bench_random.py [--eager-only]
"""
import time
import timeit

import numpy as np

N = 10_000_000


def best_ms(fns, number=1, repeat=5):
  """Best time (ms) of each function, timed round-robin."""
  times = {name: [] for name in fns}
  for _ in range(repeat):
    for name, fn in fns.items():
      times[name].append(timeit.timeit(fn, number=number) / number)
  return {name: min(t) * 1e3 for name, t in times.items()}


def main():
  import numjax
  from numjax import random as R

  k = R.key(0)
  nj_normal = numjax.jit(lambda k: R.normal(k, (N,)))
  nj_uniform = numjax.jit(lambda k: R.uniform(k, (N,)))
  nj_bits = numjax.jit(lambda k: R.bits(k, (N,)))
  for f in (nj_normal, nj_uniform, nj_bits):
    f(k).block_until_ready()  # trace (and compile) once
  from numjax._src import compiler
  if compiler._pool is not None:  # numjax_tier='auto': time the native code, not the switch
    compiler._pool.submit(lambda: None).result()
  tiers = {n: list(f._cache.values())[0].exe.tier
           for n, f in (("normal", nj_normal), ("uniform", nj_uniform), ("bits", nj_bits))}
  rng = np.random.default_rng(0)

  fns = {
      "numjax jit normal": lambda: nj_normal(k).block_until_ready(),
      "numjax eager normal": lambda: R.normal(k, (N,)).block_until_ready(),
      "numjax jit uniform": lambda: nj_uniform(k).block_until_ready(),
      "numjax jit bits": lambda: nj_bits(k).block_until_ready(),
      "numpy default_rng normal f32": lambda: rng.standard_normal(N, dtype=np.float32),
      "numpy default_rng random f32": lambda: rng.random(N, dtype=np.float32),
  }
  try:
    import jax
    from jax import random as JR
    jk = JR.key(0)
    j_normal = jax.jit(lambda k: JR.normal(k, (N,)))
    j_uniform = jax.jit(lambda k: JR.uniform(k, (N,)))
    j_bits = jax.jit(lambda k: JR.bits(k, (N,)))
    for f in (j_normal, j_uniform, j_bits):
      f(jk).block_until_ready()
    fns["jax jit normal"] = lambda: j_normal(jk).block_until_ready()
    fns["jax jit uniform"] = lambda: j_uniform(jk).block_until_ready()
    fns["jax jit bits"] = lambda: j_bits(jk).block_until_ready()
    same = np.array_equal(np.asarray(j_normal(jk)), np.asarray(nj_normal(k)))
  except ImportError:
    same = None

  res = best_ms(fns)
  print(f"random.normal(key, ({N:_},)) and friends, best of 5 (ms); numjax jit tiers: {tiers}")
  for name, ms in res.items():
    print(f"  {name:32s} {ms:9.1f}")
  if "jax jit normal" in res:
    print(f"  numjax jit normal / jax jit normal: {res['numjax jit normal'] / res['jax jit normal']:.2f}x")
    print(f"  numjax and JAX normals bit-identical: {same}")
  print(f"  numjax jit normal / numpy default_rng normal: "
        f"{res['numjax jit normal'] / res['numpy default_rng normal f32']:.2f}x")


def best_us(fns, number=200, repeat=15):
  """Best time (µs) per call of each function, timed round-robin in process CPU time (all
  threads of the process): on a shared, loaded machine wall time mostly measures the
  neighbours, CPU time what each call costs."""
  times = {name: [] for name in fns}
  for fn in fns.values():
    fn()  # trace / compile / fill caches
  for _ in range(repeat):
    for name, fn in fns.items():
      times[name].append(timeit.timeit(fn, number=number, timer=time.process_time) / number)
  return {name: min(t) * 1e6 for name, t in times.items()}


def eager_small():
  from numjax import random as R
  k, rk = R.key(0), R.PRNGKey(0)
  cases = {
      "normal(key, (3,))": lambda R, k, rk: R.normal(k, (3,)),
      "normal(raw key, (3,))": lambda R, k, rk: R.normal(rk, (3,)),
      "normal(key, (100,))": lambda R, k, rk: R.normal(k, (100,)),
      "uniform(key, (3,), -1, 2)": lambda R, k, rk: R.uniform(k, (3,), minval=-1., maxval=2.),
      "bits(key, (3,))": lambda R, k, rk: R.bits(k, (3,)),
      "randint(key, (3,), 0, 10)": lambda R, k, rk: R.randint(k, (3,), 0, 10),
      "split(key)": lambda R, k, rk: R.split(k),
      "fold_in(key, 3)": lambda R, k, rk: R.fold_in(k, 3),
  }
  fns = {}
  for name, f in cases.items():
    fns["numjax " + name] = (lambda f=f: f(R, k, rk).block_until_ready())
  try:
    from jax import random as JR
    jk, jrk = JR.key(0), JR.PRNGKey(0)
    for name, f in cases.items():
      fns["jax    " + name] = (lambda f=f: f(JR, jk, jrk).block_until_ready())
  except ImportError:
    pass
  res = best_us(fns)
  print("eager calls on small shapes, best of 15 (µs of process CPU time per call):")
  for name in cases:
    nj = res["numjax " + name]
    jx = res.get("jax    " + name)
    tail = f"   jax {jx:7.1f}   ratio {nj / jx:5.2f}x" if jx is not None else ""
    print(f"  {name:28s} numjax {nj:7.1f}{tail}")


if __name__ == "__main__":
  import sys
  if "--eager-only" not in sys.argv:
    main()
  eager_small()
