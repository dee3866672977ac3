"""The native tier: semantics per dtype, fusion shapes, loops, tiering, and the disk cache.

Programs are compiled through `native.deferred()` in module fixtures (a few compiler runs
for the whole file); the cache tests use their own temporary cache directories and
subprocesses, so that nothing here maps a library the test then corrupts.
"""
from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest

import numjax
import numjax.numpy as jnp
from numjax import lax
from numjax._src import compiler
from numjax._src.compiler import native
from numjax.experimental import enable_x64
from records import assert_close

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.skipif(not native.backend.available(), reason="no C compiler")


def _jit_native(fn, *args):
  """(compiled on the native tier, compiled on the NumPy tier) for fn at args."""
  with numjax.config._override("numjax_tier", "native"):
    cn = numjax.jit(fn).lower(*args).compile()
  with numjax.config._override("numjax_tier", "numpy"):
    cp = numjax.jit(fn).lower(*args).compile()
  return cn, cp


class _Batch:
  """Stage many (fn, args) natively under one deferred compile."""

  def __init__(self):
    self.items = {}

  def add(self, name, fn, *args):
    self.items[name] = (fn, args)

  def build(self):
    out = {}
    with native.deferred():
      for name, (fn, args) in self.items.items():
        with warnings.catch_warnings(record=True) as w:
          warnings.simplefilter("always")
          cn, cp = _jit_native(fn, *args)
        bad = [str(x.message) for x in w if "native compilation" in str(x.message)]
        out[name] = (cn, cp, args, bad)
    return out


def _check(staged, name, rtol=1e-5, native_expected=True):
  cn, cp, args, bad = staged[name]
  assert not bad, bad
  if native_expected:
    assert cn._exe.tier == "native", f"{name} did not compile natively"
  a = cn(*args)
  b = cp(*args)
  fa, fb = numjax.tree_util.tree_leaves(a), numjax.tree_util.tree_leaves(b)
  assert len(fa) == len(fb)
  for x, y in zip(fa, fb):
    x, y = np.asarray(x), np.asarray(y)
    assert x.dtype == y.dtype and x.shape == y.shape, (name, x.dtype, y.dtype, x.shape, y.shape)
    assert_close(x, y, rtol)
  return a


# ---------------------------------------------------------------------------------------
# semantics per dtype

def _ints(dt, n=64, lo=-100, hi=100, seed=0):
  info = np.iinfo(dt)
  r = np.random.default_rng(seed).integers(max(lo, info.min), min(hi, info.max), n)
  return jnp.asarray(r.astype(dt))


_F32 = np.array([1.5, -2.5, 0.5, -0.5, np.nan, np.inf, -np.inf, 300.7, -1e10, 1e10, -0.0,
                 3e-39, 65520.0, 65504.0, 1.0000001, 2.5], np.float32)


def _semantic_cases(b: _Batch):
  for dt in ("int8", "int16", "int32", "uint8", "uint32"):
    x, y = _ints(dt), _ints(dt, lo=-3, hi=4, seed=1)
    b.add(f"intops_{dt}", lambda x, y: (x + y * 3, x * y, lax.div(x, y), lax.rem(x, y),
                                          x // y, x % y, -x, jnp.abs(x), x > y,
                                          jnp.maximum(x, y), x & y, x | y, x ^ y, ~x,
                                          lax.shift_left(x, y), lax.shift_right_logical(x, y),
                                          lax.shift_right_arithmetic(x, y), jnp.sum(x),
                                          jnp.max(x), jnp.argmin(x), x ** 3), x, y)
  # wrap-around at the ends of the range, INT_MIN / -1
  i32 = jnp.asarray(np.array([2**31 - 1, -2**31, -2**31, 7, -7, 0], np.int32))
  d32 = jnp.asarray(np.array([1, -1, 0, 0, 2, -3], np.int32))
  b.add("int_edges", lambda x, d: (x + 1, x - 1, x * 2, lax.div(x, d), lax.rem(x, d), -x,
                                   jnp.abs(x)), i32, d32)
  f = jnp.asarray(_F32)
  b.add("convert_f32", lambda a: (a.astype(jnp.int32), a.astype(jnp.uint8), a.astype(jnp.int8),
                                  a.astype(jnp.uint32), a.astype(jnp.bool_),
                                  a.astype(jnp.bfloat16), a.astype(jnp.float16),
                                  a.astype(jnp.complex64)), f)
  b.add("nan_inf", lambda a: (jnp.max(a), jnp.min(a), jnp.argmax(a), jnp.argmin(a),
                              jnp.maximum(a, 0.0), jnp.minimum(a, 0.0), jnp.sum(a),
                              jnp.isfinite(a), jnp.exp(a), jnp.sqrt(a), a / 0.0,
                              jnp.clip(a, -1.0, 1.0), jnp.sign(a)), f)
  for dt in ("float16", "bfloat16"):
    x = jnp.asarray(np.random.default_rng(2).standard_normal(64).astype(np.float32)).astype(dt)
    y = jnp.asarray(np.random.default_rng(3).standard_normal(64).astype(np.float32)).astype(dt)
    b.add(f"lowp_{dt}", lambda x, y: (x * y + x, x / y, jnp.exp(x), jnp.tanh(y), jnp.sum(x),
                                      jnp.mean(y), jnp.max(x), x.astype(jnp.float32),
                                      (x * 1000).astype(jnp.int32), x > y, x ** 2), x, y)
  c = jnp.asarray((np.random.default_rng(4).standard_normal(32)
                   + 1j * np.random.default_rng(5).standard_normal(32)).astype(np.complex64))
  b.add("complex64", lambda c: (c * c + 1, c / (c + 2), jnp.exp(c), jnp.abs(c), c.real,
                                c.imag, jnp.conj(c), jnp.sum(c), jnp.prod(c[:4]), c == c,
                                jnp.sqrt(c), jnp.sign(c)), c)
  bo = jnp.asarray(np.random.default_rng(6).random(40) < 0.5)
  b.add("bool", lambda p: (~p, p & ~p[::-1], p | p[::-1], jnp.any(p), jnp.all(p),
                           p.astype(jnp.int32).sum(), jnp.where(p, 1.0, -1.0)), bo)
  e = jnp.zeros((0, 3), jnp.float32)
  b.add("empty", lambda a: (jnp.sum(a), jnp.sum(a, axis=0), jnp.max(a, axis=0, initial=-1.0),
                            jnp.prod(a, axis=1), a * 2), e)


def _f64_cases(b: _Batch):
  with enable_x64():
    x = jnp.asarray(np.random.default_rng(7).standard_normal((33, 17)))
    i = jnp.asarray(np.arange(-5, 5, dtype=np.int64))
    b.add("f64", lambda x: (jnp.sin(x) * x, jnp.sum(x, axis=0), jnp.exp(x).mean(1),
                            x @ x.T), x)
    b.add("i64", lambda i: (i * (2**40), lax.div(i, i - 1), jnp.cumsum(i) + 1, i.astype(jnp.float64)), i)


@pytest.fixture(scope="module")
def semantics():
  b = _Batch()
  _semantic_cases(b)
  staged = b.build()
  with enable_x64():
    b2 = _Batch()
    _f64_cases(b2)
    staged.update(b2.build())
  return staged


@pytest.mark.parametrize("name", ["intops_int8", "intops_int16", "intops_int32", "intops_uint8",
                                  "intops_uint32", "int_edges", "convert_f32", "nan_inf",
                                  "lowp_float16", "lowp_bfloat16", "complex64", "bool",
                                  "empty"])
def test_semantics_match_numpy_tier(semantics, name):
  tol = 1e-2 if "lowp" in name else 1e-5
  _check(semantics, name, rtol=tol)


def test_float64_and_int64(semantics):
  with enable_x64():
    _check(semantics, "f64", rtol=1e-12)
    _check(semantics, "i64")


def test_integer_division_follows_xla(semantics):
  cn, _, args, _ = semantics["int_edges"]
  out = [np.asarray(o) for o in cn(*args)]
  # x / 0 = -1, x % 0 = x, INT_MIN / -1 = INT_MIN (JAX 0.10.2 on CPU)
  np.testing.assert_array_equal(out[3], [2**31 - 1, -2**31, -1, -1, -3, 0])
  np.testing.assert_array_equal(out[4], [0, 0, -2**31, 7, -1, 0])
  np.testing.assert_array_equal(out[0][:2], [-2**31, -2**31 + 1])   # wraps


def test_float_to_int_saturates_and_nan_is_zero(semantics):
  cn, _, args, _ = semantics["convert_f32"]
  i32, u8 = (np.asarray(o) for o in cn(*args)[:2])
  np.testing.assert_array_equal(i32[4:10], [0, 2**31 - 1, -2**31, 300, -2**31, 2**31 - 1])
  np.testing.assert_array_equal(u8[4:8], [0, 255, 0, 255])


def test_bfloat16_float16_round_to_nearest_even(semantics):
  import ml_dtypes
  cn, _, args, _ = semantics["convert_f32"]
  outs = cn(*args)
  bf, h = np.asarray(outs[5]), np.asarray(outs[6])
  ok = ~np.isnan(_F32)
  np.testing.assert_array_equal(bf.view(np.uint16)[ok],
                                _F32.astype(ml_dtypes.bfloat16).view(np.uint16)[ok])
  assert np.isnan(bf.astype(np.float32)[~ok]).all()
  with np.errstate(over="ignore"):
    ref = _F32.astype(np.float16)
  assert np.array_equal(h, ref, equal_nan=True)


# ---------------------------------------------------------------------------------------
# fusion shapes

def _fusion_cases(b: _Batch):
  rng = np.random.default_rng(10)
  x = jnp.asarray(rng.standard_normal((37, 53)).astype(np.float32))
  y = jnp.asarray(rng.standard_normal((37, 53)).astype(np.float32))
  z3 = jnp.asarray(rng.standard_normal((6, 7, 8)).astype(np.float32))
  big = jnp.asarray(rng.standard_normal(1 << 18).astype(np.float32))
  b.add("chain", lambda a, c: jnp.sin(a) * jnp.exp(c) + jnp.tanh(a - c) / (1 + c * c), x, y)
  b.add("bias", lambda a, c: a + c[0], x, y)
  b.add("transpose_view", lambda a, c: a.T * 2 + c.T, x, y)
  b.add("slices", lambda a: a[1:10:2, ::-1] * 2 + a[:5, 3:8].sum(), x)
  b.add("rows", lambda a: (a.sum(1), a.max(1), jnp.argmax(a, 1), a.mean(1)), x)
  b.add("cols", lambda a: (a.sum(0), a.min(0), jnp.argmin(a, 0), a.var(0)), x)
  b.add("middle", lambda a: (a.sum(1), a.sum((0, 2)), a - a.mean((0, 2), keepdims=True)), z3)
  b.add("softmax", lambda a: jnp.exp(a - a.max(-1, keepdims=True)) /
        jnp.exp(a - a.max(-1, keepdims=True)).sum(-1, keepdims=True), x)
  b.add("layernorm", lambda a: (a - a.mean(-1, keepdims=True)) /
        jnp.sqrt(a.var(-1, keepdims=True) + 1e-5), x)
  b.add("split_sum", lambda a: (jnp.sum(a * a + 1), jnp.max(a), jnp.argmax(a)), big)
  b.add("minus_mean", lambda a: a - a.mean(), big)
  b.add("iota", lambda a: a + jnp.arange(53, dtype=jnp.float32) * jnp.arange(37.0)[:, None], x)
  b.add("dot", lambda a, c: jnp.tanh(a @ c.T + 1).sum(0), x, y)
  b.add("dot_batch", lambda a: jnp.einsum("bij,bkj->bik", a, a), z3)
  b.add("host_between", lambda a: jnp.sort(a * 2, axis=1)[:, :3] + 1, x)
  huge = jnp.asarray(rng.standard_normal(7_000_003).astype(np.float32))   # 28 MB: streamed
  b.add("streamed", lambda a: (a * 2 + 1, jnp.abs(a)), huge)


@pytest.fixture(scope="module")
def fused():
  b = _Batch()
  _fusion_cases(b)
  return b.build()


@pytest.mark.parametrize("name", ["chain", "bias", "transpose_view", "slices", "rows", "cols",
                                  "middle", "softmax", "layernorm", "split_sum", "minus_mean",
                                  "iota", "dot", "dot_batch", "host_between", "streamed"])
def test_fused_programs_match_numpy_tier(fused, name):
  _check(fused, name, rtol=1e-4)


def test_large_outputs_are_streamed(fused):
  src = compiler.native_backend().source(fused["streamed"][0]._exe.native_fn)
  assert "nj_stream(" in src and "nj_sfence()" in src


def test_softmax_is_one_kernel(fused):
  import re
  src = compiler.native_backend().source(fused["softmax"][0]._exe.native_fn)
  kernels = re.findall(r"static void (nj\w+_k\d+)\(", src)
  assert len(kernels) == 1, kernels     # max, exp-sum and divide: three sweeps of one kernel


def test_large_sum_is_accurate(fused):
  cn, _, args, _ = fused["split_sum"]
  s = float(np.asarray(cn(*args)[0]))
  a = np.asarray(args[0]).astype(np.float64)
  assert abs(s - np.sum(a * a + 1)) <= 1e-5 * abs(np.sum(a * a + 1))


# ---------------------------------------------------------------------------------------
# dot_general on the runtime's GEMM: packed and small paths, transposed operands, batches

GEMM_CASES = [(70, 300, 45), (128, 784, 65), (8, 64, 64), (3, 5, 70), (33, 17, 129),
              (300, 8, 40)]


@pytest.fixture(scope="module")
def gemms():
  b = _Batch()
  rng = np.random.default_rng(30)
  for m, k, n in GEMM_CASES:
    for dt in ("float32", "float64"):
      with enable_x64(dt == "float64"):
        a = jnp.asarray(rng.standard_normal((m, k)).astype(dt))
        c = jnp.asarray(rng.standard_normal((k, n)).astype(dt))
        b.add((m, k, n, dt, "nn"), lambda a, c: a @ c, a, c)
        b.add((m, k, n, dt, "tt"), lambda at, ct: at.T @ ct.T, a.T + 0, c.T + 0)
  x = jnp.asarray(rng.standard_normal((4, 9, 33)).astype(np.float32))
  y = jnp.asarray(rng.standard_normal((4, 33, 7)).astype(np.float32))
  b.add("batched", lambda x, y: jnp.einsum("bij,bjk->bik", x, y), x, y)
  b.add("batched_t", lambda x, y: jnp.einsum("bij,bkj->bik", x, jnp.swapaxes(y, 1, 2)), x, y)
  staged = {}
  with enable_x64():
    staged.update(b.build())
  return staged


@pytest.mark.parametrize("case", [(m, k, n, dt, t) for m, k, n in GEMM_CASES
                                  for dt in ("float32", "float64") for t in ("nn", "tt")]
                         + ["batched", "batched_t"])
def test_gemm(gemms, case):
  cn, _, args, bad = gemms[case]
  assert not bad
  assert cn._exe.tier == "native"
  with enable_x64():
    out = np.asarray(cn(*args))
  a, c = (np.asarray(v).astype(np.float64) for v in args)
  if isinstance(case, tuple):
    ref = a @ c if case[4] == "nn" else a.T @ c.T
    tol = 1e-4 if case[3] == "float32" else 1e-10
  else:
    ref = np.einsum("bij,bjk->bik", a, c) if case == "batched" else \
        np.einsum("bij,bkj->bik", a, np.swapaxes(c, 1, 2))
    tol = 1e-4
  np.testing.assert_allclose(out, ref, rtol=tol, atol=tol * np.abs(ref).max())


def test_gemm_packed_copies_do_not_outlive_a_call():
  """Threads keep packed copies of A rows and B columns for their next tile of the same
  GEMM call; a later call on the same buffers with new contents must pack them again --
  and a chain of products in one program (the MLP's layers, buffers reused) stays exact."""
  rng = np.random.default_rng(31)
  a = rng.standard_normal((128, 784)).astype(np.float32)
  w = rng.standard_normal((784, 512)).astype(np.float32)
  v = rng.standard_normal((512, 512)).astype(np.float32)
  f = numjax.jit(lambda a, w, v: (a @ w, jnp.tanh(a @ w) @ v, (a @ w).T @ (a @ w)))
  g = numjax.jit(lambda a, w: jnp.tanh(a) @ w)     # A: a pooled temporary, same address
  with numjax.config._override("numjax_tier", "native"):
    c = f.lower(a, w, v).compile()
    cg = g.lower(a, w).compile()
    assert c._exe.tier == "native" and cg._exe.tier == "native"
    for step in range(3):
      r = np.tanh(a.astype(np.float64)) @ w.astype(np.float64)
      np.testing.assert_allclose(np.asarray(cg(a, w)), r, rtol=1e-4, atol=1e-4 * np.abs(r).max())
      got = [np.asarray(o).astype(np.float64) for o in c(a, w, v)]
      a64, w64, v64 = (t.astype(np.float64) for t in (a, w, v))
      want = [a64 @ w64, np.tanh(a64 @ w64) @ v64, (a64 @ w64).T @ (a64 @ w64)]
      for g, r in zip(got, want):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-4 * np.abs(r).max())
      a[...] = rng.standard_normal(a.shape)      # same buffers, new contents
      w[...] = rng.standard_normal(w.shape)


# ---------------------------------------------------------------------------------------
# a randomised comparison of tiers on elementwise + reduction programs

_UN = [jnp.sin, jnp.tanh, jnp.abs, lambda v: -v, lambda v: jnp.exp(-v * v),
       lambda v: jnp.sqrt(jnp.abs(v)), jnp.log1p if hasattr(jnp, "log1p") else jnp.abs,
       lambda v: v * v, lambda v: jnp.where(v > 0, v, 0.1 * v)]
_BIN = [jnp.add, jnp.subtract, jnp.multiply, jnp.maximum, jnp.minimum,
        lambda u, v: u / (1 + v * v)]


def _random_program(seed):
  rng = np.random.default_rng(seed)
  nd = int(rng.integers(1, 4))
  shape = tuple(int(d) for d in rng.integers(1, 9, nd))
  steps = []
  for _ in range(int(rng.integers(3, 9))):
    kind = rng.choice(["un", "bin", "red", "bcast"])
    steps.append((kind, int(rng.integers(0, 1 << 30))))

  def prog(a, b):
    vals = [a, b]
    for kind, k in steps:
      r = np.random.default_rng(k)
      u = vals[int(r.integers(len(vals)))]
      if kind == "un":
        vals.append(_UN[int(r.integers(len(_UN)))](u))
      elif kind == "bin":
        v = vals[int(r.integers(len(vals)))]
        if v.shape != u.shape:
          v = jnp.broadcast_to(jnp.sum(v), u.shape)
        vals.append(_BIN[int(r.integers(len(_BIN)))](u, v))
      elif kind == "red" and u.ndim:
        ax = int(r.integers(u.ndim))
        red = [jnp.sum, jnp.max, jnp.min, jnp.mean][int(r.integers(4))]
        vals.append(u - red(u, axis=ax, keepdims=True))
        vals.append(red(u, axis=ax))
      elif kind == "bcast" and u.ndim:
        vals.append(u * jnp.swapaxes(u, 0, -1).sum() + jnp.swapaxes(u, 0, -1).T)
    return vals[2:] + [jnp.sum(vals[-1])]
  a = jnp.asarray(rng.standard_normal(shape).astype(np.float32))
  b = jnp.asarray(rng.standard_normal(shape).astype(np.float32))
  return prog, a, b


RANDOM_SEEDS = list(range(40))


@pytest.fixture(scope="module")
def randomised():
  b = _Batch()
  for s in RANDOM_SEEDS:
    prog, x, y = _random_program(s)
    b.add(s, prog, x, y)
  return b.build()


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_random_programs_agree_across_tiers(randomised, seed):
  cn, cp, args, bad = randomised[seed]
  assert not bad
  a = cn(*args)
  b = cp(*args)
  with numjax.disable_jit():
    prog, _, _ = _random_program(seed)
    c = prog(*args)
  for x, y, z in zip(a, b, c):
    assert_close(x, y, 1e-4)
    assert_close(x, z, 1e-4)


# ---------------------------------------------------------------------------------------
# loops

def _loop_cases(b: _Batch):
  body = lambda i, x: x * 0.99 + 1.0
  b.add("fori", lambda x: lax.fori_loop(0, 1000, body, x), jnp.float32(1.0))
  b.add("fori_traced_bounds", lambda x, n: lax.fori_loop(0, n, body, x), jnp.float32(1.0),
        jnp.int32(77))
  b.add("while_data_dependent", lambda x: lax.while_loop(
      lambda c: c[1] < 1e4, lambda c: (c[0] + 1, c[1] * 1.5 + 1.0), (0, x)), jnp.float32(1.0))
  b.add("while_arrays", lambda v: lax.while_loop(
      lambda c: jnp.sum(c[1]) < 100.0, lambda c: (c[0] + 1, c[1] * 1.1 + c[0]), (0, v)),
      jnp.arange(4.0))
  rng = np.random.default_rng(20)
  W = jnp.asarray(rng.standard_normal((16, 16)).astype(np.float32) * 0.3)
  xs = jnp.asarray(rng.standard_normal((30, 4, 16)).astype(np.float32))

  def rnn(W, xs):
    def step(h, x):
      h = jnp.tanh(h @ W + x)
      return h, h.sum()
    return lax.scan(step, jnp.zeros((4, 16)), xs)
  b.add("scan_rnn", rnn, W, xs)
  b.add("scan_rnn_grad", numjax.grad(lambda W, xs: rnn(W, xs)[1].sum()), W, xs)
  b.add("scan_reverse", lambda xs: lax.scan(lambda c, x: (c * 0.5 + x, c), jnp.zeros(16),
                                            xs[:, 0], reverse=True), xs)
  b.add("cond", lambda p, v: lax.cond(p, lambda v: v * 2, lambda v: v - 1, v), jnp.bool_(True),
        jnp.arange(5.0))
  b.add("cond_in_loop", lambda v: lax.fori_loop(0, 10, lambda i, v: lax.cond(
      i % 3 == 0, lambda v: v * 2, lambda v: v - 1, v), v), jnp.arange(5.0))
  b.add("dynamic_index", lambda xs: lax.fori_loop(
      0, 10, lambda i, acc: acc + xs[i] * i, jnp.zeros(3)), jnp.arange(30.0).reshape(10, 3))
  b.add("dynamic_update", lambda v: lax.fori_loop(
      0, 5, lambda i, a: lax.dynamic_update_slice(a, jnp.full((2,), i * 1.0), (i,)), v),
      jnp.zeros(8))
  b.add("nested", lambda x: lax.fori_loop(0, 5, lambda i, x: lax.fori_loop(
      0, 4, lambda j, y: y + i * j, x), x), jnp.float32(0.0))


@pytest.fixture(scope="module")
def looped():
  b = _Batch()
  _loop_cases(b)
  return b.build()


@pytest.mark.parametrize("name", ["fori", "fori_traced_bounds", "while_data_dependent",
                                  "while_arrays", "scan_rnn", "scan_rnn_grad", "scan_reverse",
                                  "cond", "cond_in_loop", "dynamic_index", "dynamic_update",
                                  "nested"])
def test_loops_compile_natively_and_match(looped, name):
  _check(looped, name, rtol=1e-4)
  src = compiler.native_backend().source(looped[name][0]._exe.native_fn)
  assert "for (" in src    # the loop itself is C


# ---------------------------------------------------------------------------------------
# tiering and text

def test_as_text_shows_the_c_source():
  with numjax.config._override("numjax_tier", "native"):
    c = numjax.jit(lambda a: a * 2 + 1).lower(jnp.ones(3)).compile()
    txt = c.as_text()
  assert "NJ_EXPORT void" in txt and "seg0" in txt


def test_auto_tier_switches_to_native_in_the_background():
  big = jnp.ones(1 << 15)
  with numjax.config._override("numjax_tier", "auto"):
    f = numjax.jit(lambda a: jnp.sin(a) * 3 + 2)
    out = f(big)                       # the NumPy tier answers at once
    exe = next(iter(f._cache.values())).exe
    deadline = time.time() + 60
    while exe.tier != "native" and time.time() < deadline:
      time.sleep(0.01)
    assert exe.tier == "native"
    out2 = f(big)
  assert_close(out, out2, 1e-6)


def test_auto_tier_skips_trivial_programs():
  with numjax.config._override("numjax_tier", "auto"):
    assert not native.worth_compiling(numjax.make_jaxpr(lambda a: a + 1)(jnp.ones(3)).jaxpr)
    assert native.worth_compiling(numjax.make_jaxpr(
        lambda a: lax.fori_loop(0, 3, lambda i, v: v + 1, a))(jnp.ones(3)).jaxpr)


def test_no_compiler_warns_once_and_stays_on_numpy(monkeypatch):
  from numjax._src.compiler.native import cc
  monkeypatch.setattr(cc, "_candidates", lambda: iter([["/nonexistent/cc"]]))
  cc.reset()
  old = native.backend._avail
  native.backend._avail = None
  native._warned.clear()
  monkeypatch.setattr(compiler, "_warned_missing", set())
  try:
    with warnings.catch_warnings(record=True) as w:
      warnings.simplefilter("always")
      assert native.backend.available() is False
      assert native.backend.available() is False
    assert sum("no working C compiler" in str(x.message) for x in w) == 1
    with numjax.config._override("numjax_tier", "native"), \
        pytest.warns(RuntimeWarning, match="no native backend"):
      f = numjax.jit(lambda a: a * 3)
      np.testing.assert_array_equal(f(jnp.ones(2)), [3, 3])
      assert next(iter(f._cache.values())).exe.tier == "numpy"
  finally:
    monkeypatch.undo()
    cc.reset()
    native.backend._avail = old


# ---------------------------------------------------------------------------------------
# the disk cache

_PROG = "static double NJP_twice(double x) { return 2 * x; }\nNJ_EXPORT double NJP_f(double x) { return NJP_twice(x) + %d; }\n"

_CHILD = textwrap.dedent("""
    import os, sys, signal
    sys.path.insert(0, {root!r})
    from numjax._src.compiler.native import cc, loader, codegen_ops, cache
    tc = cc.toolchain()
    prelude = codegen_ops.prelude(tc, loader.abi_defines())
    body = {body!r}
    if {kill}:
      real = type(tc).compile
      def dying(self, c_path, so_path):
        with open(so_path, "wb") as f:
          f.write(b"\\x7fELF half a library")
        os.kill(os.getpid(), signal.SIGKILL)
      type(tc).compile = dying
    loader.load_program(prelude, body, tc)
    print(loader.program_key(prelude, body, tc))
""")


def _child(tmp_path, body, kill=False):
  env = dict(os.environ, NUMJAX_CACHE_DIR=str(tmp_path))
  code = _CHILD.format(root=ROOT, body=body, kill=kill)
  return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                        timeout=300)


def _load_here(tmp_path, body, monkeypatch):
  from numjax._src.compiler.native import cc, codegen_ops, loader
  monkeypatch.setenv("NUMJAX_CACHE_DIR", str(tmp_path))
  tc = cc.toolchain()
  prelude = codegen_ops.prelude(tc, loader.abi_defines())
  lib, prefix = loader.load_program(prelude, body, tc)
  import ctypes
  f = getattr(lib, prefix + "f")
  f.restype, f.argtypes = ctypes.c_double, (ctypes.c_double,)
  return f, loader.program_key(prelude, body, tc)


def test_cache_survives_a_killed_compile(tmp_path, monkeypatch):
  from numjax._src.compiler.native import cache
  body = _PROG % 11
  p = _child(tmp_path, body, kill=True)
  assert p.returncode != 0                      # killed halfway through writing the library
  native_dir = tmp_path / "native"
  assert any(n.startswith("tmp-") for n in os.listdir(native_dir))   # the partial file
  f, key = _load_here(tmp_path, body, monkeypatch)
  assert f(2.0) == 15.0                          # rebuilt, loads, runs
  assert cache.lookup(key) is not None


def test_cache_rebuilds_a_corrupted_library(tmp_path, monkeypatch):
  from numjax._src.compiler.native import loader
  body = _PROG % 5
  p = _child(tmp_path, body)          # compiled by another process: never mapped here
  assert p.returncode == 0, p.stderr
  key = p.stdout.strip().splitlines()[-1]
  so = os.path.join(tmp_path, "native", key + ".so")
  size = os.path.getsize(so)
  with open(so, "r+b") as fh:
    fh.truncate(size // 2)
  before = loader.stats["rebuilt_corrupt"]
  f, key2 = _load_here(tmp_path, body, monkeypatch)
  assert key2 == key
  assert f(1.0) == 7.0
  assert loader.stats["rebuilt_corrupt"] == before + 1
  assert os.path.getsize(so) == size


def test_cache_is_bounded_lru(tmp_path, monkeypatch):
  from numjax._src.compiler.native import cache
  monkeypatch.setenv("NUMJAX_CACHE_DIR", str(tmp_path))
  d = cache.native_dir()
  for i in range(6):
    key = f"k{i}"
    cache.store(key, lambda tmp, i=i: open(tmp, "wb").write(b"x" * 1000))
    os.utime(os.path.join(d, key + ".so"), (1000 + i, 1000 + i))
  cache.evict(limit=3500)
  left = sorted(n for n in os.listdir(d) if n.endswith(".so"))
  assert left == ["k3.so", "k4.so", "k5.so"] or len(left) <= 3 and "k5.so" in left
  assert cache.lookup("k5") is not None and cache.lookup("k0") is None


def test_long_chain_compiles_natively_without_recursion():
  """A chain of ~1,800 dependent elementwise ops is one kernel; emitting it used to follow
  the chain recursively and hit Python's recursion limit (the program then stayed on the
  NumPy tier with a warning)."""
  def f(x):
    for _ in range(600):
      x = jnp.sin(x) * 1.0001 + 0.5
    return x
  x = jnp.linspace(0.0, 1.0, 257)
  with warnings.catch_warnings():
    warnings.simplefilter("error")         # a fallback warning fails the test
    with numjax.config._override("numjax_tier", "native"):
      g = numjax.jit(f)
      out = g(x)
      assert next(iter(g._cache.values())).exe.tier == "native"
  ref = np.asarray(x, np.float32)
  for _ in range(600):
    ref = (np.sin(ref) * np.float32(1.0001) + np.float32(0.5)).astype(np.float32)
  assert_close(out, ref, 1e-5)


def test_large_programs_compile_as_parallel_units(tmp_path, monkeypatch):
  """A long program is compiled as several translation units (one compiler process each)
  and linked; the library behaves exactly like the one-unit build."""
  from numjax._src.compiler.native import cc, loader
  monkeypatch.setenv("NUMJAX_CACHE_DIR", str(tmp_path))
  monkeypatch.setattr(loader, "SPLIT_MIN_LINES", 0)
  monkeypatch.setattr(loader, "_jobs", lambda: 3)
  calls = []
  orig = cc.Toolchain.compile_parts

  def spy(self, paths, so):
    calls.append(len(paths))
    return orig(self, paths, so)
  monkeypatch.setattr(cc.Toolchain, "compile_parts", spy)

  def f(x, y):
    a = jnp.sum(jnp.exp(x) * y, axis=1)
    b = jax_softmax(x + y[:1]) * 2.0
    return a, b, jnp.max(b, axis=0) - jnp.min(x)

  def jax_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = jnp.exp(z)
    return e / e.sum(axis=-1, keepdims=True)

  rng = np.random.default_rng(0)
  x = rng.standard_normal((300, 400)).astype(np.float32)
  y = rng.standard_normal((300, 400)).astype(np.float32)
  loader.clear_memory()
  with numjax.config._override("numjax_tier", "native"):
    g = numjax.jit(f)
    got = g(x, y)
    assert next(iter(g._cache.values())).exe.tier == "native"
  assert calls and calls[0] >= 2
  with numjax.config._override("numjax_tier", "numpy"):
    want = numjax.jit(f)(x, y)
  for a, b in zip(got, want):
    assert_close(a, b, 1e-5)


def test_split_units_keeps_unknown_forms_in_one_unit():
  from numjax._src.compiler.native import loader
  body = ("static void NJP_k1(float *p) {\n  p[0] = 1;\n}\n\n"
          "static const float NJP_tab[2] = {1, 2};\n\n"
          "NJ_EXPORT void NJP_seg0(void *a) {\n  NJP_k1(a);\n}\n") * 1
  assert loader.split_units("", body * 50, 2) is None
  ok = ("static void NJP_k1(float *p) {\n  p[0] = 1;\n}\n\n"
        "NJ_EXPORT void NJP_seg0(void *a) {\n  NJP_k1(a);\n}\n")
  parts = loader.split_units("/*prelude*/", ok + "\n" * 700, 2)
  assert parts is not None and len(parts) == 2
  for p in parts:
    assert p.startswith("/*prelude*/")
    assert 'visibility("hidden"))) void NJP_k1(float *p);' in p   # every unit declares all
  assert sum('visibility("hidden"))) void NJP_k1(float *p) {' in p for p in parts) == 1


def test_runtime_library_builds_from_parallel_units(tmp_path):
  """The run-time library's two-unit build (pool + float32 GEMM | float64 GEMM) links into a
  library whose GEMMs compute A @ B."""
  import ctypes
  from numjax._src.compiler.native import cc, loader, runtime
  tc = cc.toolchain()
  so = str(tmp_path / "rt.so")
  loader._build(runtime.SOURCE, tc, so, runtime._parts())
  lib = ctypes.CDLL(so)
  rng = np.random.default_rng(1)
  for dt, fn in ((np.float32, lib.nj_gemm_f32), (np.float64, lib.nj_gemm_f64)):
    a = rng.standard_normal((37, 53)).astype(dt)
    b = rng.standard_normal((53, 29)).astype(dt)
    c = np.zeros((37, 29), dt)
    p = ctypes.c_void_p
    i64 = ctypes.c_int64
    fn.argtypes = (i64, i64, i64, p, i64, i64, p, i64, i64, p, i64)
    fn(37, 29, 53, a.ctypes.data, 53, 1, b.ctypes.data, 29, 1, c.ctypes.data, 29)
    np.testing.assert_allclose(c, a.astype(np.float64) @ b, rtol=1e-4 if dt == np.float32 else 1e-12,
                               atol=1e-4 if dt == np.float32 else 1e-12)


def test_row_exp_kernel_accuracy_and_special_values(tmp_path):
  """nj_vexpf (softmax's exp sweep) against exp in float64: within 1 ulp over the float32
  range, exact at the special values, gradual underflow kept; nj_vexpf_acc gives the same
  values and adds them into 32 lanes in a lane loop's order."""
  import ctypes
  from numjax._src.compiler.native import cc, codegen_ops, loader
  tc = cc.toolchain()
  src = codegen_ops.prelude(tc, loader.abi_defines()) + (
      "\nNJ_EXPORT void t_vexp(float *p, int64_t n) { nj_vexpf(p, n); }\n"
      "NJ_EXPORT void t_vexp_acc(float *p, int64_t n, float *a) { nj_vexpf_acc(p, n, a); }\n"
      "#ifdef NJ_VEXP16\nNJ_EXPORT int t_own_exp(void) { return 1; }\n"
      "#else\nNJ_EXPORT int t_own_exp(void) { return 0; }\n#endif\n")
  c, so = tmp_path / "t.c", tmp_path / "t.so"
  c.write_text(src)
  tc.compile(str(c), str(so))
  lib = ctypes.CDLL(str(so))
  x = np.concatenate([np.linspace(-110, 95, 400_003, dtype=np.float32),
                      np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -87.5, 88.72, 89.0,
                                -104.0, -150.0], np.float32)])
  y = x.copy()
  lib.t_vexp(ctypes.c_void_p(y.ctypes.data), ctypes.c_int64(y.size))
  ref = np.exp(x.astype(np.float64))
  with np.errstate(over="ignore"):
    ref32 = ref.astype(np.float32)
  normal = np.isfinite(ref32) & (ref32 >= np.finfo(np.float32).tiny)
  ulp = np.abs(y[normal] - ref[normal]) / np.spacing(ref32[normal]).astype(np.float64)
  # numjax's AVX-512 exp: within 1 ulp (0.89 over all inputs); elsewhere it is libm's
  # (vectorised) expf, which glibc's libmvec keeps within a few ulp
  assert ulp.max() <= (1.0 if lib.t_own_exp() else 4.0)
  sub = (ref32 > 0) & (ref32 < np.finfo(np.float32).tiny)
  assert np.all(np.abs(y[sub] - ref[sub]) <= 1.5 * 2.0 ** -149)
  assert np.isnan(y[-11]) and y[-10] == np.inf and y[-9] == 0.0 and y[-8] == 1.0 and y[-7] == 1.0
  assert y[-3] == np.inf or y[-3] == ref32[-3]      # exp(89) overflows float32
  assert y[-2] == 0.0 and y[-1] == 0.0
  for n in (1000, 1003, 17):
    z = x[:n].copy()
    acc = np.arange(32, dtype=np.float32)
    lib.t_vexp_acc(ctypes.c_void_p(z.ctypes.data), ctypes.c_int64(n),
                   ctypes.c_void_p(acc.ctypes.data))
    np.testing.assert_array_equal(z, y[:n])
    want = np.arange(32, dtype=np.float32)
    full = n // 32 * 32
    for i in range(0, full, 32):
      want = want + y[i:i + 32]
    for i in range(full, n):
      want[0] = want[0] + y[i]
    np.testing.assert_array_equal(acc, want)


def test_softmax_exp_sweep_matches_float64():
  rng = np.random.default_rng(5)
  x = (rng.standard_normal((64, 300)) * 20).astype(np.float32)
  x[3, 7] = -np.inf
  x[5, :] = -np.inf
  x[5, 2] = 1.0
  x[9, 4] = np.nan

  def sm(a):
    z = a - a.max(axis=-1, keepdims=True)
    e = jnp.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
  with numjax.config._override("numjax_tier", "native"):
    f = numjax.jit(sm)
    c = f.lower(x).compile()
    assert "nj_vexpf" in c.as_text()
    got = np.asarray(f(x))
  with np.errstate(invalid="ignore"):
    z = (x - x.max(-1, keepdims=True)).astype(np.float64)   # float32 subtraction, as computed
    e = np.exp(z)
    want = e / e.sum(-1, keepdims=True)
  ok = ~np.isnan(want)
  assert np.all(np.isnan(got[~ok]))
  np.testing.assert_allclose(got[ok], want[ok], rtol=2e-6, atol=1e-37)
  assert got[3, 7] == 0.0 and got[5, 2] == 1.0


def test_numpy_steps_quiesce_the_pool_first():
  """Before a NumPy step (here a sort), the driver tells idle pool workers to stop spinning,
  so that the step's own threads (BLAS) get the cores."""
  from numjax._src.compiler.native import runtime
  def f(a):
    b = jnp.sin(a) * 2.0
    return jnp.sort(b) + 1.0
  x = np.random.default_rng(2).standard_normal(5000).astype(np.float32)
  with numjax.config._override("numjax_tier", "native"):
    c = numjax.jit(f).lower(x).compile()
    txt = c.as_text()
    got = np.asarray(numjax.jit(f)(x))
  driver = txt[txt.index("driver:"):]
  assert "_Q()" in driver and driver.index("_Q()") < driver.index("F", driver.index("_Q()"))
  assert runtime.quiesce_fn() is not None
  runtime.quiesce_fn()()            # callable any time, with or without workers
  np.testing.assert_allclose(got, np.sort(np.sin(x) * np.float32(2)) + 1, rtol=1e-6, atol=1e-6)


def test_erf_inv_and_normal_are_bit_identical_across_tiers():
  """float32 erf_inv reproduces XLA's operations exactly on both tiers (the native one is
  branch-free, so the fused normal sampler vectorises); jit normals equal eager ones."""
  rng = np.random.default_rng(11)
  x = np.concatenate([rng.uniform(-1, 1, 200_000).astype(np.float32),
                      np.linspace(-1, 1, 20_001, dtype=np.float32),
                      np.array([np.nan, 1.0, -1.0, 0.0, -0.0, 1e-30, 0.9999999, -0.9999999,
                                1.5, -2.0, np.inf], np.float32)])
  with numjax.config._override("numjax_tier", "native"):
    got = np.asarray(numjax.jit(lax.erf_inv)(x))
  want = np.asarray(lax.erf_inv(jnp.asarray(x)))
  np.testing.assert_array_equal(got.view(np.uint32)[~np.isnan(want)],
                                want.view(np.uint32)[~np.isnan(want)])
  assert np.array_equal(np.isnan(got), np.isnan(want))
  key = numjax.random.key(7)
  with numjax.config._override("numjax_tier", "native"):
    a = np.asarray(numjax.jit(lambda k: numjax.random.normal(k, (100_003,)))(key))
  with numjax.config._override("numjax_tier", "numpy"):
    b = np.asarray(numjax.jit(lambda k: numjax.random.normal(k, (100_003,)))(key))
  np.testing.assert_array_equal(a, b)


def test_auto_tier_compiles_small_programs_once_they_are_hot():
  """'auto' leaves a small loop-free program on the NumPy tier at first; after
  compiler.HOT_CALLS calls it is built natively in the background and calls switch."""
  def f(a):
    return jnp.tanh(a * 2.0 + 1.0) * jnp.cos(a) - a / 3.0
  x = jnp.asarray(np.linspace(-1, 1, 37, dtype=np.float32))
  with numjax.config._override("numjax_tier", "auto"):
    g = numjax.jit(f)
    first = np.asarray(g(x))
    exe = next(iter(g._cache.values())).exe
    assert exe.tier == "numpy"
    for _ in range(compiler.HOT_CALLS + 1):
      g(x)
    deadline = time.time() + 60
    while exe.tier != "native" and time.time() < deadline:
      time.sleep(0.01)
    assert exe.tier == "native"
    assert_close(np.asarray(g(x)), first, 1e-6)
  tiny = numjax.jit(lambda a: a + 1.0)     # below HOT_MIN_EQNS: never worth a C call
  with numjax.config._override("numjax_tier", "auto"):
    for _ in range(compiler.HOT_CALLS + 5):
      tiny(x)
    assert next(iter(tiny._cache.values())).exe.tier == "numpy"


def test_rnn_gradient_scan_compiles_to_one_native_program():
  """The backward scan of an RNN with a bias (its gradient sums a (1, n) cotangent over the
  unit axis: a reduction that is a reshape) must stay a native loop: no NumPy step."""
  rng = np.random.default_rng(0)
  W = jnp.asarray((rng.standard_normal((16, 16)) * 0.1).astype(np.float32))
  b = jnp.asarray(np.zeros(16, np.float32))
  xs = jnp.asarray(rng.standard_normal((20, 4, 16)).astype(np.float32))

  def loss(params, xs):
    W, b = params
    def step(h, x):
      h = jnp.tanh(h @ W + x + b)
      return h, h
    _, hs = lax.scan(step, jnp.zeros((4, 16), jnp.float32), xs)
    return jnp.sum(hs ** 2)
  f = lambda p, xs: numjax.grad(loss)(p, xs)
  with numjax.config._override("numjax_tier", "native"):
    c = numjax.jit(f).lower((W, b), xs).compile()
    txt = c.as_text()
    got = numjax.jit(f)((W, b), xs)
  driver = txt[txt.index("driver:"):]
  assert re.search(r"= F\d+\(", driver) is None, driver
  with numjax.config._override("numjax_tier", "numpy"):
    want = numjax.jit(f)((W, b), xs)
  for a, w in zip(got, want):
    assert_close(a, w, 1e-4)


@pytest.mark.parametrize("dt", ["float32", "float64", "float16", "bfloat16"])
def test_max_min_reductions_propagate_nan_on_every_lane(dt):
  """Row and split max/min keep a NaN flag beside a plain max (the accumulator never takes
  a NaN): a NaN anywhere in a row -- first element, a lane boundary, the tail after the last
  full 32-lane step -- must still give NaN, and rows of infinities their exact extremes."""
  rng = np.random.default_rng(11)
  x = rng.standard_normal((12, 70)).astype(np.float32)
  for r, c in [(0, 0), (1, 31), (2, 32), (3, 63), (4, 64), (5, 69)]:
    x[r, c] = np.nan
  x[6, :] = -np.inf
  x[7, :] = np.inf
  x[8, 5] = np.inf
  x[8, 6] = -np.inf
  x[9, :] = np.nan
  big = rng.standard_normal(1 << 18).astype(np.float32)
  big_nan = big.copy()
  big_nan[(1 << 18) - 3] = np.nan
  dtype = getattr(jnp, dt)
  ctx = enable_x64() if dt == "float64" else contextlib.nullcontext()
  with ctx:
    args = [jnp.asarray(a).astype(dtype) for a in (x, big, big_nan)]
    fn = lambda a, b, c: (a.max(1), a.min(1), jnp.max(b), jnp.min(b), jnp.max(c), jnp.min(c))
    cn, cp = _jit_native(fn, *args)
    assert cn._exe.tier == "native"
    got, want = cn(*args), cp(*args)
    for one in (lambda a: a.max(1), lambda a: a.min(1)):    # a kernel each (float32: vector helper)
      cn1, cp1 = _jit_native(one, args[0])
      got, want = got + (cn1(args[0]),), want + (cp1(args[0]),)
    for g, w in zip(got, want):
      g, w = np.asarray(g).astype(np.float64), np.asarray(w).astype(np.float64)
      np.testing.assert_array_equal(g, w)
  g = np.asarray(got[0]).astype(np.float64)
  assert np.isnan(g[:6]).all() and np.isnan(g[9]) and g[6] == -np.inf and g[7] == np.inf
  assert np.isnan(np.asarray(got[4]).astype(np.float64))


def _row_programs():
  rng = np.random.default_rng(21)
  x = (rng.standard_normal((67, 1000 + 7)) * 4).astype(np.float32)
  x[3, 5] = np.nan
  x[4, :] = -np.inf
  x[4, 9] = 2.0
  x[5, 7] = np.inf
  x[6, 1000 + 3] = 120.0      # x - max with no clamp above: the row's max is its own
  b = rng.standard_normal(1000 + 7).astype(np.float32)

  def softmax(a):
    e = jnp.exp(a - a.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)

  def layernorm(a, c):
    m = a.mean(-1, keepdims=True)
    v = ((a - m) ** 2).mean(-1, keepdims=True)
    return (a - m) / jnp.sqrt(v + 1e-5) * c + 1

  def log_softmax(a):
    z = a - a.max(-1, keepdims=True)
    return z - jnp.log(jnp.exp(z).sum(-1, keepdims=True))

  return [("softmax", softmax, (x,)), ("layernorm", layernorm, (x, b)),
          ("log_softmax", log_softmax, (x,)),
          ("softmax_f64", softmax, (x.astype(np.float64),)),
          ("softmax_bf16", softmax, (x,), "bfloat16")]


@pytest.mark.parametrize("case", range(5))
def test_row_pipelined_kernels_match_unpipelined_bits_and_numpy(case, monkeypatch):
  """Multi-sweep row kernels over long rows run software-pipelined (sweep p of row t - p in
  iteration t, chunk by chunk): the same float32 bits as the kernel run row by row, and the
  NumPy tier's values within float tolerance -- NaN rows, rows of -inf, a ragged tail."""
  from numjax._src.compiler.native import kernels
  name, fn, args, *cast = _row_programs()[case]
  ctx = enable_x64() if name.endswith("f64") else contextlib.nullcontext()
  with ctx:
    args = [jnp.asarray(a) for a in args]
    if cast:
      args = [a.astype(getattr(jnp, cast[0])) for a in args]
    cn, cp = _jit_native(fn, *args)
    assert cn._exe.tier == "native"
    src = compiler.native_backend().source(cn._exe.native_fn)
    assert re.search(r"for \(int64_t t = lo; t < hi \+ \d+; t\+\+\)", src), name
    if name in ("softmax", "log_softmax"):
      assert "nj_vexpf_sub_acc(" in src      # exp(x - max) and its sum: one call per chunk
    got = np.asarray(cn(*args)).astype(np.float64)
    want = np.asarray(cp(*args)).astype(np.float64)
    monkeypatch.setattr(kernels, "PIPE_CHUNK", 1 << 20)     # too long a chunk: row by row
    numjax.clear_caches()
    cu, _ = _jit_native(fn, *args)
    assert "t < hi +" not in compiler.native_backend().source(cu._exe.native_fn)
    plain = np.asarray(cu(*args)).astype(np.float64)
  if name.endswith(("f64", "bf16")):
    # libm's vector and scalar exp can differ by an ulp, and where a loop's remainder
    # falls differs with the chunking; float32's row exp is one vector routine throughout
    np.testing.assert_allclose(got, plain, rtol=1e-15 if name.endswith("f64") else 8e-3)
  else:
    np.testing.assert_array_equal(got, plain)
  assert np.array_equal(np.isnan(got), np.isnan(want))
  ok = ~np.isnan(want)
  rtol, atol = (2e-2, 1e-4) if cast else (1e-5, 1e-6)    # atol: float32 rounding of O(1) values
  np.testing.assert_allclose(got[ok], want[ok], rtol=rtol, atol=atol)


_ROW_AXES = [((300, 700), -1, None), ((700, 300), 0, None), ((5, 60, 513), -1, None),
             ((5, 513, 60), 1, None), ((513, 300), -1, (1, 0)), ((4, 300, 6), 1, (0, 2, 1)),
             ((2, 3, 1000), (1, 2), None), ((64, 4096), -1, None)]


def _row_fns():
  def softmax(a, ax):
    e = jnp.exp(a - a.max(ax, keepdims=True))
    return e / e.sum(ax, keepdims=True)

  def log_softmax(a, ax):
    z = a - a.max(ax, keepdims=True)
    return z - jnp.log(jnp.exp(z).sum(ax, keepdims=True))

  def layernorm(a, ax):
    m = a.mean(ax, keepdims=True)
    return (a - m) / jnp.sqrt(((a - m) ** 2).mean(ax, keepdims=True) + 1e-5)
  return [softmax, log_softmax, layernorm]


@pytest.fixture(scope="module")
def row_axes():
  b = _Batch()
  rng = np.random.default_rng(41)
  for i, (shape, ax, tr) in enumerate(_ROW_AXES):
    x = jnp.asarray(rng.standard_normal(shape).astype(np.float32) * 3)
    for fn in _row_fns():
      b.add((i, fn.__name__),
            lambda a, fn=fn, ax=ax, tr=tr: fn(a.transpose(tr) if tr else a, ax), x)
  return b.build()


@pytest.mark.parametrize("case", [(i, f) for i in range(len(_ROW_AXES))
                                  for f in ("softmax", "log_softmax", "layernorm")])
def test_row_programs_over_any_axes_match_numpy_tier(row_axes, case):
  """Softmax, log-softmax and layer norm over the last axis, a middle one, two merged axes
  and transposed (strided) rows: pipelined or not, equal to the NumPy tier within float
  tolerance (relative to the output's scale: layer norm cancels near zero)."""
  cn, cp, args, bad = row_axes[case]
  assert not bad and cn._exe.tier == "native"
  g, w = np.asarray(cn(*args)), np.asarray(cp(*args))
  np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5 * np.abs(w).max())
