"""What the linalg test files (test_lax_linalg, test_numpy_linalg, test_scipy_linalg) share:
input generators for well-behaved matrices, the complex-gradient record clones and the
float64-under-x64 parity test over a record table."""
import dataclasses

import numpy as np
import pytest

import numjax
import numjax.experimental

F = ("float32", "complex64")
GD = ("float32", "float64")
WIDE = {"float32": "float64", "complex64": "complex128"}


def ct(x):
  """Conjugate transpose of the last two axes."""
  return np.conj(np.swapaxes(x, -1, -2))


def general(rng, shape, dtype):
  dt = np.dtype(dtype)
  x = rng.normal(size=shape)
  if dt.kind == "c":
    x = x + 1j * rng.normal(size=shape)
  return x.astype(dt)


def well(rng, shape, dtype):
  """Well-conditioned square (or rectangular) matrices: I-dominated."""
  m, n = shape[-2:]
  return (general(rng, shape, dtype) * 0.3 + np.eye(m, n)).astype(dtype)


def spd(rng, shape, dtype):
  """Hermitian positive definite, well conditioned."""
  a = general(rng, shape, dtype)
  n = shape[-1]
  return (a @ ct(a) / n + np.eye(n)).astype(dtype)


def spread(rng, shape, dtype):
  """Well-conditioned matrices with separated singular values."""
  m, n = shape[-2:]
  k = min(m, n)
  u, _ = np.linalg.qr(general(rng, shape[:-2] + (m, m), dtype))
  v, _ = np.linalg.qr(general(rng, shape[:-2] + (n, n), dtype))
  s = np.zeros(shape, np.float64)
  idx = np.arange(k)
  s[..., idx, idx] = 1.0 + 1.3 * np.arange(k)[::-1]
  return (u @ s @ v).astype(dtype)


def complex_grad_clones(records, keep):
  """Records' default gradient tolerance for complex64 is float64's: for the records named
  by keep(name) that take complex inputs, clones that only run check_grads on complex64 with
  float32's tolerance."""
  return [dataclasses.replace(r, name=r.name + "_cgrad", ref=None, dtypes=("complex64",),
                              grad_dtypes=("complex64",), grad_tol=3e-2, jit=False, vmap=False)
          for r in records if r.grad and "complex64" in r.dtypes and keep(r.name)]


def float64_test(records, tol):
  """A test of each record with a reference at float64/complex128 under enable_x64 (the
  records themselves run with x64 off): results of the wide dtype, within tol."""
  cases = [(r, s, WIDE[d]) for r in records if r.ref is not None for s, d in r.cases()
           if d in WIDE]

  @pytest.mark.parametrize("rec,shapes,wide", cases,
                           ids=[f"{r.name}-{w}-{'x'.join(map(str, s))}" for r, s, w in cases])
  def test_float64(rec, shapes, wide):
    with numjax.experimental.enable_x64():
      args = rec.args(shapes, wide)
      out = rec.fn(*args)
      ref = rec.ref(*args)
      outs = out if isinstance(out, (tuple, list)) else (out,)
      refs = ref if isinstance(ref, (tuple, list)) else (ref,)
      for o, r in zip(outs, refs):
        o, r = np.asarray(o), np.asarray(r)
        if r.dtype.kind in "fc":
          assert o.dtype in (np.float64, np.complex128), o.dtype
          np.testing.assert_allclose(o, r, rtol=tol, atol=tol)
        else:
          np.testing.assert_array_equal(o, r)
  return test_float64
