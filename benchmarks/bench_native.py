"""Native tier benchmarks, numjax (native tier, compiled synchronously) beside JAX in one run.

    PYTHONPATH=. /work/jaxenv/bin/python benchmarks/bench_native.py [name ...]

Cases (median ms over calls alternating between numjax and JAX, so both see the same
machine load; ratio = numjax / JAX; target in brackets):
  axpy      a*2 + b*3 - c*c on 10M float32                     [<= 0.25]
  expcos    exp(-x**2) * cos(exp(x**2)) on 10M float32         [<= 0.25]
  sumsq     sum(a*a + 1) on 10M float32                        [<= 1.0]
  softmax   row softmax of (4096, 1024) float32, the same jnp code [<= 0.5]
  fori      fori_loop of 100k scalar iterations (x*0.99 + 1)    [<= 1.0]
  mlp       MLP 784-512-512-10 train step (batch 128, SGD)      [<= 1.0]
  rnn       scan RNN, 1000 steps, hidden 64, batch 8: loss and grad   [<= 1.0]
  compile   MLP step compile: empty disk cache vs JAX's cold compile  [<= 1.0]
            and with a warm disk cache (fresh in-memory caches)        [<= 0.1]
            (the run-time library, compiled once per machine, is loaded first; its
            compile time is printed on its own line)
"""
from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np

# the compile benchmark needs an empty cache: give this run its own cache directory
_CACHE = tempfile.mkdtemp(prefix="numjax-bench-cache-")
os.environ["NUMJAX_CACHE_DIR"] = _CACHE

import numjax  # noqa: E402
import numjax.numpy as njnp  # noqa: E402
from numjax import lax as nlax  # noqa: E402

from _mlp import mlp_data, mlp_step  # noqa: E402
from _timing import timed  # noqa: E402

try:
  import jax
  import jax.numpy as jjnp
  from jax import lax as jlax
except ImportError:  # pragma: no cover
  jax = None

numjax.config.update("numjax_tier", "native")

N = 10_000_000


def _times(fn, repeat=15, min_time=0.3):
  fn()
  fn()
  out = []
  t_end = time.perf_counter() + min_time
  while len(out) < repeat or time.perf_counter() < t_end:
    out.append(timed(fn))
    if len(out) > 200:
      break
  return out


def _pair(nj_fn, jx_fn, repeat=21, min_time=0.5, block=12, skip=4):
  """Time numjax and JAX in alternating blocks of calls (both see the same machine load).
  The first calls of a block are not counted: for a few calls after a switch, the other
  runtime's idle threads are still spinning on the two cores and its buffers fill the
  cache. Measured on row softmax, per call position after a switch (ms): numjax 0.96 0.74
  0.63 0.56 0.53 0.51 0.51 ..., JAX 1.51 1.24 1.15 1.12 1.10 1.09 1.09 ...; both settle
  after about four calls."""
  if jx_fn is None:
    return _times(nj_fn, repeat, min_time), None
  for f in (nj_fn, jx_fn, nj_fn, jx_fn):
    f()
  a, b = [], []
  t_end = time.perf_counter() + 2 * min_time
  while len(a) < repeat or time.perf_counter() < t_end:
    for f, out in ((nj_fn, a), (jx_fn, b)):
      for _ in range(skip):
        f()
      for _ in range(block - skip):
        out.append(timed(f))
    if len(a) > 300:
      break
  return a, b


def _ms(ts):
  return statistics.median(ts) * 1e3


ROWS = []


def _row(name, nj, jx, target):
  a = _ms(nj)
  line = f"{name:<28} numjax {a:9.3f} ms (min {min(nj) * 1e3:8.3f})"
  ratio = None
  if jx is not None:
    b = _ms(jx)
    ratio = a / b
    ok = "ok" if ratio <= target else "MISS"
    line += (f"   JAX {b:9.3f} ms (min {min(jx) * 1e3:8.3f})   ratio {ratio:6.3f}"
             f" (min/min {min(nj) / min(jx):6.3f})  target <= {target} {ok}")
  print(line, flush=True)
  ROWS.append((name, a, None if jx is None else _ms(jx), ratio, target))


def _native(f):
  exe = next(iter(f._cache.values())).exe
  assert exe.tier == "native", f"{f} did not compile natively"


def _jblock(x):
  return jax.block_until_ready(x)


def _data(shape, seed=0):
  return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def bench_elementwise():
  a, b, c = _data(N, 0), _data(N, 1), _data(N, 2)
  cases = [
      ("axpy", lambda a, b, c: a * 2 + b * 3 - c * c, (a, b, c), 0.25),
      ("expcos", lambda x, *_: njnp.exp(-x ** 2) * njnp.cos(njnp.exp(x ** 2)), (a,), 0.25),
      ("sumsq", lambda a, *_: njnp.sum(a * a + 1), (a,), 1.0),
  ]
  jcases = {
      "axpy": lambda a, b, c: a * 2 + b * 3 - c * c,
      "expcos": lambda x: jjnp.exp(-x ** 2) * jjnp.cos(jjnp.exp(x ** 2)),
      "sumsq": lambda a: jjnp.sum(a * a + 1),
  }
  for name, fn, args, target in cases:
    nargs = [njnp.asarray(x) for x in args]
    f = numjax.jit(fn)
    f(*nargs)
    _native(f)
    jrun = None
    if jax is not None:
      jargs = [jjnp.asarray(x) for x in args]
      jf = jax.jit(jcases[name])
      jrun = lambda: _jblock(jf(*jargs))
    nj, jx = _pair(lambda: f(*nargs), jrun)
    _row(name, nj, jx, target)


def bench_softmax():
  x = _data((4096, 1024))

  def sm(m):
    def f(x):
      z = x - m.max(x, axis=-1, keepdims=True)
      e = m.exp(z)
      return e / m.sum(e, axis=-1, keepdims=True)
    return f
  nx = njnp.asarray(x)
  f = numjax.jit(sm(njnp))
  f(nx)
  _native(f)
  jrun = None
  if jax is not None:
    jxx = jjnp.asarray(x)
    jf = jax.jit(sm(jjnp))     # the same program on both sides
    jrun = lambda: _jblock(jf(jxx))
  nj, jx = _pair(lambda: f(nx), jrun)
  _row("softmax", nj, jx, 0.5)


def bench_fori():
  body = lambda i, x: x * 0.99 + 1.0
  f = numjax.jit(lambda x: nlax.fori_loop(0, 100_000, body, x))
  x = njnp.float32(1.0)
  f(x)
  _native(f)
  jrun = None
  if jax is not None:
    jf = jax.jit(lambda x: jlax.fori_loop(0, 100_000, body, x))
    jxx = jjnp.float32(1.0)
    jrun = lambda: _jblock(jf(jxx))
  nj, jx = _pair(lambda: f(x), jrun)
  _row("fori", nj, jx, 1.0)


def bench_mlp():
  params, x, y = mlp_data(njnp.asarray)
  step = numjax.jit(mlp_step(njnp, numjax.tree.map, numjax.grad))
  step(params, x, y)
  _native(step)
  jrun = None
  if jax is not None:
    jp, jx_, jy = mlp_data(jjnp.asarray)
    jstep = jax.jit(mlp_step(jjnp, jax.tree.map, jax.grad))
    jrun = lambda: _jblock(jstep(jp, jx_, jy))
  nj, jx = _pair(lambda: step(params, x, y), jrun, repeat=41)
  _row("mlp", nj, jx, 1.0)


def _rnn(m, lax_, grad):
  def loss(params, xs):
    W, U, b = params

    def step(h, x):
      h = m.tanh(h @ W + x @ U + b)
      return h, h
    h0 = m.zeros((8, 64), m.float32)
    _, hs = lax_.scan(step, h0, xs)
    return m.sum(hs ** 2)
  return lambda params, xs: (loss(params, xs), grad(loss)(params, xs))


def bench_rnn():
  rng = np.random.default_rng(0)
  W = (rng.standard_normal((64, 64)) * 0.1).astype(np.float32)
  U = (rng.standard_normal((64, 64)) * 0.1).astype(np.float32)
  b = np.zeros(64, np.float32)
  xs = rng.standard_normal((1000, 8, 64)).astype(np.float32)
  p = tuple(njnp.asarray(a) for a in (W, U, b))
  nxs = njnp.asarray(xs)
  f = numjax.jit(_rnn(njnp, nlax, numjax.grad))
  f(p, nxs)
  _native(f)
  jrun = None
  if jax is not None:
    jp = tuple(jjnp.asarray(a) for a in (W, U, b))
    jxs = jjnp.asarray(xs)
    jf = jax.jit(_rnn(jjnp, jlax, jax.grad))
    jrun = lambda: _jblock(jf(jp, jxs))
  nj, jx = _pair(lambda: f(p, nxs), jrun)
  _row("rnn", nj, jx, 1.0)


def bench_compile():
  """Compile of the MLP step: numjax lower().compile() on the native tier, from an empty
  disk cache and from a warm one (in-memory caches cleared), beside JAX's compile of the
  same lowered step (its persistent cache is off)."""
  from numjax._src.compiler.native import cc, loader, runtime
  params, x, y = mlp_data(njnp.asarray)
  # the run-time library (thread pool, GEMM) is compiled once per machine and compiler;
  # load it first, and time its compile separately
  numjax.jit(lambda a: a + 1)(njnp.ones(3))
  tc = cc.toolchain()
  with tempfile.TemporaryDirectory() as d:
    src = os.path.join(d, "rt.c")
    with open(src, "w") as f:
      f.write(runtime.SOURCE)
    t0 = time.perf_counter()
    loader._build(runtime.SOURCE, tc, os.path.join(d, "rt.so"), runtime._parts())  # as ensure()
    rt = time.perf_counter() - t0
  print(f"{'runtime library compile':<28} numjax {rt * 1e3:9.3f} ms (once per machine/compiler,"
        " cached like programs)", flush=True)

  def nj_compile():
    numjax.clear_caches()
    loader.clear_memory()
    step = numjax.jit(mlp_step(njnp, numjax.tree.map, numjax.grad))
    t0 = time.perf_counter()
    c = step.lower(params, x, y).compile()
    t = time.perf_counter() - t0
    assert c._exe.tier == "native"
    return t
  cold = []
  for _ in range(3):
    shutil.rmtree(os.path.join(_CACHE, "native"), ignore_errors=True)
    cold.append(nj_compile())
  warm = [nj_compile() for _ in range(5)]
  jx = None
  if jax is not None:
    jp, jx_, jy = mlp_data(jjnp.asarray)
    jx = []
    for _ in range(3):
      jax.clear_caches()
      jstep = jax.jit(mlp_step(jjnp, jax.tree.map, jax.grad))
      t0 = time.perf_counter()
      jstep.lower(jp, jx_, jy).compile()
      jx.append(time.perf_counter() - t0)
  _row("compile (empty disk cache)", cold, jx, 1.0)
  _row("compile (warm disk cache)", warm, jx, 0.1)


BENCHES = {"elementwise": bench_elementwise, "softmax": bench_softmax, "fori": bench_fori,
           "mlp": bench_mlp, "rnn": bench_rnn, "compile": bench_compile}


def main(argv):
  print(f"numjax {numjax.__version__}" + (f", JAX {jax.__version__}" if jax else "")
        + f", {os.cpu_count()} cpus", flush=True)
  which = argv[1:] or list(BENCHES)
  try:
    for w in which:
      BENCHES[w]()
  finally:
    shutil.rmtree(_CACHE, ignore_errors=True)


if __name__ == "__main__":
  main(sys.argv)
