"""random.normal(key, (10_000_000,)) under jit: numjax beside JAX (when importable) and beside
NumPy's default_rng().standard_normal (float32). Also the pieces: raw 32-bit random bits,
uniform floats, and eager (un-jitted) normal; then eager calls on small shapes (per-call
overhead: the samplers' cached plans, the key primitives' one-key paths), numjax beside
JAX. Times are the best of several runs, taken in alternation so that a varying machine
load hits every contender alike.

Run: PYTHONPATH=. python benchmarks/bench_random.py [--eager-only] [--proposed-erfinv]
"""
import time
import timeit

import numpy as np

N = 10_000_000


# A proposal for lax/xla_math.py's C_SOURCE (not applied there; `--proposed-erfinv` swaps it
# in memory for this run): nj_xla_erfinvf without branches, so that the fused loop of a
# jitted normal (threefry included) vectorises. Bit-identical to the current function on
# all 2**32 float32 inputs (checked exhaustively in C), so JAX's normals are unchanged.
PROPOSED_ERFINV_C = r"""
/* Branch-free float32 erf_inv (same operations, same order, same fmaf as nj_xla_erfinvf;
   both log1p branches and both Giles polynomials are evaluated and the lane's one kept),
   so that loops calling it vectorise. Checked bit-identical to nj_xla_erfinvf on all 2^32
   float32 bit patterns. */
static inline __attribute__((always_inline)) float nj_xla_logf_nb(float x) {
  uint32_t b = nj_f32_bits(x);   /* x in [min normal, inf) */
  float e = (float)((int32_t)(b >> 23) - 126);
  float m = nj_f32_from_bits((b & 0x807FFFFFu) | 0x3F000000u);
  float t = m - 1.0f;
  int small = m < nj_f32_from_bits(0x3F3504F3u);
  e = small ? e - 1.0f : e;
  t = small ? t + m : t;
  float t2 = t * t, t3 = t2 * t;
  float y1 = fmaf(fmaf(t, nj_f32_from_bits(0x3D9021BBu), nj_f32_from_bits(0xBDEBD1B8u)), t,
                  nj_f32_from_bits(0x3DEF251Au));
  float y2 = fmaf(fmaf(t, nj_f32_from_bits(0xBDFE5D4Fu), nj_f32_from_bits(0x3E11E9BFu)), t,
                  nj_f32_from_bits(0xBE2AAE50u));
  float y3 = fmaf(fmaf(t, nj_f32_from_bits(0x3E4CCEACu), nj_f32_from_bits(0xBE7FFFFCu)), t,
                  nj_f32_from_bits(0x3EAAAAAAu));
  float y = fmaf(fmaf(y1, t3, y2), t3, y3);
  y = fmaf(y, t3, nj_f32_from_bits(0xB95E8083u) * e);
  y = y + (t - 0.5f * (t * t));
  return fmaf(e, nj_f32_from_bits(0x3F318000u), y);
}
static inline __attribute__((always_inline)) float nj_xla_erfinvf(float x) {
  const float min_normal = nj_f32_from_bits(0x00800000u);
  float y = -(x * x);
  float p = 4.5270000862445199635215E-5f, q = 1.0f;   /* log1p(y), |y| < sqrt(2) - 1 */
  p = fmaf(p, y, 4.9854102823193375972212E-1f); q = fmaf(q, y, 1.5062909083469192043167E1f);
  p = fmaf(p, y, 6.5787325942061044846969E0f);  q = fmaf(q, y, 8.3047565967967209469434E1f);
  p = fmaf(p, y, 2.9911919328553073277375E1f);  q = fmaf(q, y, 2.2176239823732856465394E2f);
  p = fmaf(p, y, 6.0949667980987787057556E1f);  q = fmaf(q, y, 3.0909872225312059774938E2f);
  p = fmaf(p, y, 5.7112963590585538103336E1f);  q = fmaf(q, y, 2.1642788614495947685003E2f);
  p = fmaf(p, y, 2.0039553499201281259648E1f);  q = fmaf(q, y, 6.0118660497603843919306E1f);
  float y2 = y * y;
  float s = (y * y2) * (p / q);
  s = -0.5f * y2 + s;
  float l_small = y + s;
  float v = y + 1.0f;                                   /* log1p(y) = log(1 + y) otherwise */
  float l_big = nj_xla_logf_nb(v < min_normal ? 1.0f : v);
  l_big = v < min_normal ? (v > -min_normal ? -INFINITY : NAN) : l_big;
  float w = -(fabsf(y) < 0.41421356237309504880f ? l_small : l_big);
  float wa = w - 2.5f, wb = sqrtf(w) - 3.0f;
  float a = 2.81022636e-08f, c = -0.000200214257f;
  a = fmaf(a, wa, 3.43273939e-07f);  c = fmaf(c, wb, 0.000100950558f);
  a = fmaf(a, wa, -3.5233877e-06f);  c = fmaf(c, wb, 0.00134934322f);
  a = fmaf(a, wa, -4.39150654e-06f); c = fmaf(c, wb, -0.00367342844f);
  a = fmaf(a, wa, 0.00021858087f);   c = fmaf(c, wb, 0.00573950773f);
  a = fmaf(a, wa, -0.00125372503f);  c = fmaf(c, wb, -0.0076224613f);
  a = fmaf(a, wa, -0.00417768164f);  c = fmaf(c, wb, 0.00943887047f);
  a = fmaf(a, wa, 0.246640727f);     c = fmaf(c, wb, 1.00167406f);
  a = fmaf(a, wa, 1.50140941f);      c = fmaf(c, wb, 2.83297682f);
  float r = (w < 5.0f ? a : c) * x;
  r = fabsf(x) == 1.0f ? x * INFINITY : r;
  return x != x ? x : r;
}
"""


def use_proposed_erfinv():
  from numjax._src.lax import xla_math
  src = xla_math.C_SOURCE
  i = src.index("static inline float nj_xla_erfinvf")
  j = src.index("}\n", src.index("return p * x;")) + 2
  xla_math.C_SOURCE = src[:i] + PROPOSED_ERFINV_C + src[j:]


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
  if "--proposed-erfinv" in sys.argv:
    use_proposed_erfinv()
  if "--eager-only" not in sys.argv:
    main()
  eager_small()
