"""Quickstart: the demo of seed 002 — f(x) = exp(-x**2) * cos(exp(x**2)) on linspace(-2, 2, 10000).

Run: python examples/quickstart.py
"""
import time

import numpy as np

import numjax as jax
import numjax.numpy as jnp


def func(x):
  return jnp.exp(-x ** 2) * jnp.cos(jnp.exp(x ** 2))


def timed(label, fn, *args, repeat=50):
  fn(*args)  # warm-up
  ts = []
  for _ in range(repeat):
    t = time.perf_counter()
    out = fn(*args)
    if hasattr(out, "block_until_ready"):
      out.block_until_ready()
    ts.append(time.perf_counter() - t)
  print(f"{label:<28} median {np.median(ts) * 1e3:8.3f} ms")
  return out


x = jnp.linspace(-2, 2, 10000)
y = func(x)
print("x:", x)
print("f(x):", y)
print("f(x) at x = -2, 0, 2:", y[0], func(jnp.float32(0.0)), y[-1])

timed("eager f(x)", func, x)
timed("numpy f(x)", lambda v: np.exp(-v ** 2) * np.cos(np.exp(v ** 2)), np.asarray(x))

# Transformations: gradient, vectorisation and compilation.
derivative = jax.grad(func)
derivative_vec = jax.vmap(derivative)
y_prime = derivative_vec(x)
print("f'(x) via vmap(grad(f)):", y_prime)
print("f'(0.5):", derivative(0.5))

func_jit = jax.jit(func)
y_jit = func_jit(x)
print("jit(f)(x) equals f(x):", bool(jnp.allclose(y_jit, y)))
timed("jit f(x)", func_jit, x)
print(jax.make_jaxpr(func)(1.0))
