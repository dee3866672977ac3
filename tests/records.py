"""Op records: tests as data.

A family's test module lists `Rec`s and hands them to `parametrize`; one record drives
NumPy/SciPy parity, jit-vs-eager parity, vmap-vs-loop (every batch-axis position) and
check_grads. Tolerances live in the record, never in `if` statements in test bodies.

    RECORDS = [Rec("sin", jnp.sin, np.sin, shapes=[(3,), (2, 3), ()], dtypes=FLOAT, grad=2)]
    test_numpy, test_jit, test_vmap, test_grad = make_tests(RECORDS)
"""
from __future__ import annotations

import dataclasses
import itertools
from typing import Any, Callable, Sequence

import numpy as np
import pytest

FLOAT = ("float32",)
FLOAT_ALL = ("float16", "bfloat16", "float32", "float64")
INT = ("int8", "int32", "uint8", "uint32")
BOOL = ("bool",)
COMPLEX = ("complex64",)
NUMERIC = FLOAT + ("int32",)

DEFAULT_TOL = {"float16": 1e-2, "bfloat16": 5e-2, "float32": 1e-5, "float64": 1e-12,
               "complex64": 1e-5, "complex128": 1e-12}


def uniform(lo=-3.0, hi=3.0):
  def make(rng, shape, dtype):
    dt = np.dtype(dtype) if dtype != "bfloat16" else np.float32
    if np.issubdtype(dt, np.bool_):
      return rng.random(shape) < 0.5
    if np.issubdtype(dt, np.integer):
      info = np.iinfo(dt)
      return rng.integers(max(info.min, int(lo) - 1), min(info.max, int(hi) + 2), shape).astype(dt)
    if np.issubdtype(dt, np.complexfloating):
      return (rng.uniform(lo, hi, shape) + 1j * rng.uniform(lo, hi, shape)).astype(dt)
    return rng.uniform(lo, hi, shape).astype(dt)
  return make


POSITIVE = uniform(0.1, 3.0)
UNIT = uniform(-0.9, 0.9)
DEFAULT = uniform()


@dataclasses.dataclass
class Rec:
  name: str
  fn: Callable                    # numjax function of the arrays
  ref: Callable | None            # NumPy/SciPy reference, or None
  shapes: Sequence[Any]           # each case: a shape (one arg) or a tuple of shapes
  dtypes: Sequence[str] = FLOAT
  domain: Callable | Sequence[Callable] = DEFAULT
  nargs: int = 1
  tol: dict | None = None         # dtype name -> rtol/atol for value checks
  grad: int = 0                   # check_grads order (0: not differentiable)
  grad_modes: tuple = ("fwd", "rev")
  grad_tol: float | None = None
  grad_dtypes: Sequence[str] = ("float32", "float64")
  jit: bool = True
  vmap: bool = True
  check_dtype: bool = True        # compare result dtype with the reference's (canonicalised)

  def cases(self):
    for shape, dt in itertools.product(self.shapes, self.dtypes):
      shapes = shape if (self.nargs > 1 and shape and isinstance(shape[0], tuple)) else \
          (shape,) * self.nargs
      yield shapes, dt

  def args(self, shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    doms = self.domain if isinstance(self.domain, (list, tuple)) else [self.domain] * self.nargs
    out = []
    for s, d in zip(shapes, doms):
      a = d(rng, s, dtype)
      if dtype == "bfloat16":
        import ml_dtypes
        a = np.asarray(a).astype(ml_dtypes.bfloat16)
      out.append(np.asarray(a))
    return out

  def rtol(self, dtype):
    t = dict(DEFAULT_TOL)
    t.update(self.tol or {})
    return t.get(str(dtype), 0)


def wide(x):
  """x for a NumPy reference that computes in 64 bits (JAX accumulates narrow floats in
  float32): floating (and bfloat16) to float64, complex to complex128."""
  x = np.asarray(x)
  if x.dtype.kind == "c":
    return x.astype(np.complex128)
  if x.dtype.kind == "f" or str(x.dtype) == "bfloat16":
    return x.astype(np.float64)
  return x


def _ids(rec, shapes, dt):
  return f"{rec.name}-{dt}-{'x'.join(str(s) for s in shapes)}"


def assert_close(actual, expected, rtol, atol=None, check_dtype=False, err_msg=""):
  actual = np.asarray(actual)
  expected = np.asarray(expected)
  assert actual.shape == expected.shape, (actual.shape, expected.shape)
  if check_dtype:
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
  if actual.dtype.kind in "fc" or expected.dtype.kind in "fc" or str(actual.dtype) == "bfloat16":
    np.testing.assert_allclose(actual.astype(np.complex128 if actual.dtype.kind == "c"
                                             else np.float64),
                               expected.astype(np.complex128 if expected.dtype.kind == "c"
                                               else np.float64),
                               rtol=rtol, atol=rtol if atol is None else atol,
                               equal_nan=True, err_msg=err_msg)
  else:
    np.testing.assert_array_equal(actual, expected, err_msg=err_msg)


def _canonical(dt):
  from numjax._src import dtypes
  return dtypes.canonicalize_dtype(dt)


def _tree_np(x):
  from numjax import tree_util
  return tree_util.tree_map(np.asarray, x)


# Every record table handed to make_tests, in import order (tests/test_native_parity.py
# re-runs their jit checks on the native tier).
REGISTRY: list = []


def make_tests(records):
  """Parametrised test functions for a list of records: numpy, jit, vmap, grad."""
  REGISTRY.append(list(records))
  cases = [(r, s, d) for r in records for s, d in r.cases()]
  ids = [_ids(r, s, d) for r, s, d in cases]

  @pytest.mark.parametrize("rec,shapes,dtype", cases, ids=ids)
  def test_numpy(rec, shapes, dtype):
    if rec.ref is None:
      return
    args = rec.args(shapes, dtype)
    expected = rec.ref(*args)
    actual = rec.fn(*args)
    for a, e in zip(_flat(actual), _flat(expected)):
      e = np.asarray(e)
      if rec.check_dtype and e.dtype != object:
        e = e.astype(_canonical(e.dtype)) if e.dtype.kind != "b" else e
      assert_close(a, e, rec.rtol(dtype), check_dtype=rec.check_dtype)

  jit_cases = [c for c in cases if c[0].jit]

  @pytest.mark.parametrize("rec,shapes,dtype", jit_cases,
                           ids=[_ids(r, s, d) for r, s, d in jit_cases])
  def test_jit(rec, shapes, dtype):
    import numjax
    args = rec.args(shapes, dtype)
    eager = rec.fn(*args)
    jitted = numjax.jit(rec.fn)(*args)
    for a, e in zip(_flat(jitted), _flat(eager)):
      assert np.asarray(a).dtype == np.asarray(e).dtype
      assert_close(a, e, rec.rtol(dtype))

  vmap_cases = [c for c in cases if c[0].vmap]

  @pytest.mark.parametrize("rec,shapes,dtype", vmap_cases,
                           ids=[_ids(r, s, d) for r, s, d in vmap_cases])
  def test_vmap(rec, shapes, dtype):
    import numjax
    nb = 3
    base = rec.args(shapes, dtype)
    # Batch each argument along every axis position in turn, the others unbatched; then,
    # with several arguments, all of them at once (at axis 0 and at their last axis).
    plans = []
    for which in range(len(base)):
      for ax in range(base[which].ndim + 1):
        plans.append({which: ax})
    if len(base) > 1:
      plans.append({i: 0 for i in range(len(base))})
      plans.append({i: base[i].ndim for i in range(len(base))})
    for plan in plans:
      lanes = [rec.args([b.shape for b in base], dtype, seed=10 + k) for k in range(nb)]
      args = list(base)
      in_axes = [None] * len(base)
      for i, ax in plan.items():
        args[i] = np.stack([lane[i] for lane in lanes], axis=ax)
        in_axes[i] = ax
      out = numjax.vmap(rec.fn, in_axes=tuple(in_axes))(*args)
      for k in range(nb):
        a2 = [lanes[k][i] if i in plan else base[i] for i in range(len(base))]
        ref = rec.fn(*a2)
        for o, r in zip(_flat(out), _flat(ref)):
          assert_close(np.asarray(o)[k], r, rec.rtol(dtype),
                       err_msg=f"vmap in_axes={tuple(in_axes)}, lane {k}")

  grad_cases = [(r, s, d) for r in records if r.grad for s, _ in r.cases()
                for d in r.grad_dtypes]
  grad_cases = list({_ids(*c): c for c in grad_cases}.values())

  @pytest.mark.parametrize("rec,shapes,dtype", grad_cases,
                           ids=[_ids(r, s, d) for r, s, d in grad_cases])
  def test_grad(rec, shapes, dtype):
    import numjax
    import numjax.experimental  # noqa: F401  (enable_x64)
    from numjax.test_util import check_grads
    ctx = numjax.experimental.enable_x64() if dtype == "float64" else _null()
    with ctx:
      args = [numjax.numpy.asarray(a) for a in rec.args(shapes, dtype)]
      tol = rec.grad_tol or (2e-2 if dtype == "float32" else 1e-5)
      check_grads(rec.fn, args, order=rec.grad, modes=rec.grad_modes, atol=tol, rtol=tol)

  return test_numpy, test_jit, test_vmap, test_grad


def make_nonempty_grad_test(records, fn_of=lambda rec: rec.fn):
  """A test_grad for records with empty (size-0) cases, in place of make_tests': check_grads
  of fn_of(rec) (default rec.fn) on every non-empty case in float32 and float64, forward and
  reverse, at the default tolerances."""
  cases = {}
  for r in records:
    if not r.grad:
      continue
    for shapes, _ in r.cases():
      if any(0 in s for s in shapes):
        continue
      for dt in ("float32", "float64"):
        cases[f"{r.name}-{dt}-{shapes}"] = (r, shapes, dt)

  @pytest.mark.parametrize("key", list(cases))
  def test_grad(key):
    import numjax.experimental
    from numjax._src.lax.lax import asarray
    from numjax.test_util import check_grads
    rec, shapes, dtype = cases[key]
    ctx = numjax.experimental.enable_x64() if dtype == "float64" else _null()
    with ctx:
      args = [asarray(a) for a in rec.args(shapes, dtype)]
      tol = 2e-2 if dtype == "float32" else 1e-5
      check_grads(fn_of(rec), args, order=rec.grad, modes=("fwd", "rev"), atol=tol, rtol=tol)
  return test_grad


class _null:
  def __enter__(self):
    return self

  def __exit__(self, *a):
    return False


def _flat(x):
  if isinstance(x, (tuple, list)):
    return [y for z in x for y in _flat(z)]
  return [x]
