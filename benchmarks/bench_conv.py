"""conv2d forward and forward + gradient: batch 32, 28x28x1 input, 32 3x3 filters ('SAME'),
NHWC/HWIO, loss = mean(relu(conv(x, w) + b) ** 2). numjax (eager and jit) beside JAX (eager
and jit) when importable, and beside the same computation written by hand in NumPy
(im2col + matmul).

Run: PYTHONPATH=. python benchmarks/bench_conv.py
"""
import os
import timeit

import numpy as np

N, H, W, C, O, K = 32, 28, 28, 1, 32, 3
DN = ("NHWC", "HWIO", "NHWC")


def best_ms(fn, number=5, repeat=15):
  return float(np.min(timeit.repeat(fn, number=number, repeat=repeat))) / number * 1e3


def _drain_native():
  """Wait for numjax's background native compiles, so that no measurement runs beside
  the C compiler (the machine has two cores)."""
  from numjax._src import compiler
  if compiler._pool is not None:
    compiler._pool.submit(lambda: None).result()


def _tier(jitted):
  entries = list(jitted._cache.values())
  return entries[0].exe.tier if entries and entries[0].exe is not None else "?"


def make(jax, jnp):
  lax = jax.lax

  def fwd(w, b, x):
    y = lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=DN)
    return jnp.maximum(y + b, 0)

  def loss(w, b, x):
    return jnp.mean(fwd(w, b, x) ** 2)
  grad = jax.grad(loss, argnums=(0, 1))
  grad_x = jax.grad(loss, argnums=(0, 1, 2))
  return fwd, grad, grad_x


def numpy_fwd_grad(w, b, x):
  """What a careful NumPy programmer writes: im2col, matmul, and the transposed matmul."""
  xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
  cols = np.lib.stride_tricks.sliding_window_view(xp, (K, K), axis=(1, 2))  # N,H,W,C,K,K
  cols = cols.transpose(0, 1, 2, 4, 5, 3).reshape(N * H * W, K * K * C)
  y = (cols @ w.reshape(K * K * C, O)).reshape(N, H, W, O) + b
  r = np.maximum(y, 0)
  g = 2 * r * (y > 0) / r.size
  g2 = g.reshape(-1, O)
  return (cols.T @ g2).reshape(K, K, C, O), g2.sum(0)


def main():
  rng = np.random.default_rng(0)
  x = rng.standard_normal((N, H, W, C)).astype(np.float32)
  w = (rng.standard_normal((K, K, C, O)) / 3).astype(np.float32)
  b = np.zeros(O, np.float32)
  rows = []

  import numjax
  import numjax.numpy as njnp
  nfwd, ngrad, ngrad_x = make(numjax, njnp)
  xs, ws, bs = njnp.asarray(x), njnp.asarray(w), njnp.asarray(b)
  jf, jg, jgx = numjax.jit(nfwd), numjax.jit(ngrad), numjax.jit(ngrad_x)
  for f in (jf, jg, jgx):
    f(ws, bs, xs)
  _drain_native()
  for f in (jf, jg, jgx):  # now on the tier the compile produced
    f(ws, bs, xs)
  print("numjax jit tiers:", ", ".join(_tier(f) for f in (jf, jg, jgx)))
  rows.append(("numjax eager", best_ms(lambda: np.asarray(nfwd(ws, bs, xs))),
               best_ms(lambda: [np.asarray(g) for g in ngrad(ws, bs, xs)]),
               best_ms(lambda: [np.asarray(g) for g in ngrad_x(ws, bs, xs)])))
  rows.append(("numjax jit", best_ms(lambda: np.asarray(jf(ws, bs, xs))),
               best_ms(lambda: [np.asarray(g) for g in jg(ws, bs, xs)]),
               best_ms(lambda: [np.asarray(g) for g in jgx(ws, bs, xs)])))
  rows.append(("NumPy by hand", float("nan"), best_ms(lambda: numpy_fwd_grad(w, b, x)),
               float("nan")))
  try:
    import jax
    import jax.numpy as jjnp
  except ImportError:
    jax = None
  wj = xj = None
  if jax is not None:
    jfwd, jgrad, jgrad_x = make(jax, jjnp)
    xj, wj, bj = jjnp.asarray(x), jjnp.asarray(w), jjnp.asarray(b)
    jjf, jjg, jjgx = jax.jit(jfwd), jax.jit(jgrad), jax.jit(jgrad_x)
    for f in (jjf, jjg, jjgx):
      jax.block_until_ready(f(wj, bj, xj))
    rows.append(("JAX eager", best_ms(lambda: jax.block_until_ready(jfwd(wj, bj, xj))),
                 best_ms(lambda: jax.block_until_ready(jgrad(wj, bj, xj))),
                 best_ms(lambda: jax.block_until_ready(jgrad_x(wj, bj, xj)))))
    rows.append(("JAX jit", best_ms(lambda: jax.block_until_ready(jjf(wj, bj, xj))),
                 best_ms(lambda: jax.block_until_ready(jjg(wj, bj, xj))),
                 best_ms(lambda: jax.block_until_ready(jjgx(wj, bj, xj)))))
    # same numbers?
    gn = ngrad_x(ws, bs, xs)
    gj = jgrad_x(wj, bj, xj)
    err = max(float(np.max(np.abs(np.asarray(a) - np.asarray(c)))) for a, c in zip(gn, gj))
    print(f"max |grad numjax - grad JAX| = {err:.2e}")
  # the convolutions alone: forward, and the two transposed convolutions of its vjp
  def conv_only(lax):
    return lambda w, x: lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=DN)
  ct = rng.standard_normal((N, H, W, O)).astype(np.float32)
  nconv = numjax.jit(conv_only(numjax.lax))
  nvjp = numjax.jit(lambda w, x, ct: numjax.vjp(conv_only(numjax.lax), w, x)[1](ct))
  nconv(ws, xs), nvjp(ws, xs, ct)
  _drain_native()
  nconv(ws, xs), nvjp(ws, xs, ct)
  conv_rows = [("numjax jit", best_ms(lambda: np.asarray(nconv(ws, xs))),
                best_ms(lambda: [np.asarray(g) for g in nvjp(ws, xs, ct)]))]
  if jax is not None:
    jconv = jax.jit(conv_only(jax.lax))
    jvjp = jax.jit(lambda w, x, ct: jax.vjp(conv_only(jax.lax), w, x)[1](ct))
    jax.block_until_ready(jconv(wj, xj)), jax.block_until_ready(jvjp(wj, xj, ct))
    conv_rows.append(("JAX jit", best_ms(lambda: jax.block_until_ready(jconv(wj, xj))),
                      best_ms(lambda: jax.block_until_ready(jvjp(wj, xj, ct)))))
  impl_rows = _impl_times(numjax, ws, xs, ct)
  print(f"conv2d {N}x{H}x{W}x{C} * {K}x{K}x{C}x{O} 'SAME' (median-free best of 15, ms)")
  print(f"{'':16s} {'forward':>10s} {'fwd+grad(w,b)':>14s} {'fwd+grad(w,b,x)':>16s}")
  for name, a, g, gx in rows:
    print(f"{name:16s} {a:10.3f} {g:14.3f} {gx:16.3f}")
  print("the convolutions alone (no relu/mean): forward, and vjp (d/dw and d/dx)")
  for name, a, g in conv_rows:
    print(f"{name:16s} {a:10.3f} {g:14.3f}")
  print("numjax's conv_general_dilated impl (NumPy kernels) on each conv of that vjp:")
  for name, t in impl_rows:
    print(f"  {name:44s} {t:8.3f}")
  print("load average (1, 5, 15 min): %.1f %.1f %.1f  (2 cores; timings above are only "
        "comparable within one run)" % os.getloadavg())


def _impl_times(numjax, ws, xs, ct):
  """Time the primitive's impl on the forward conv and the two transposed convs of its vjp
  (the calls the jit tiers make between their kernels)."""
  from numjax._src import core
  from numjax._src.lax.convolution import conv_general_dilated_p

  def f(w, x):
    return numjax.lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=DN)
  jaxpr = numjax.make_jaxpr(lambda w, x, c: numjax.vjp(f, w, x)[1](c))(ws, xs, ct).jaxpr
  env = dict(zip(jaxpr.invars, (np.asarray(ws), np.asarray(xs), ct)))
  rows, names = [], iter(("forward", "rhs transpose (d/dw)", "lhs transpose (d/dx)"))
  for e in jaxpr.eqns:
    args = [v.val if isinstance(v, core.Literal) else env[v] for v in e.invars]
    out = e.primitive.impl(*args, **e.params)
    env[e.outvars[0]] = out
    if e.primitive is conv_general_dilated_p:
      shapes = " x ".join(str(tuple(a.shape)) for a in args)
      rows.append((f"{next(names)}: {shapes}",
                   best_ms(lambda: e.primitive.impl(*args, **e.params))))
  return rows


if __name__ == "__main__":
  main()
