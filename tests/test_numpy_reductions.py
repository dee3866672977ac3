"""jnp reductions: NumPy parity over dtypes, shapes and axis/keepdims/where/initial/dtype
variants, jit parity, vmap against a loop at every batch position, gradients against finite
differences; result dtypes against a table recorded from JAX 0.10.2 (x64 off and on); JAX's
errors."""
import functools
import math
import re
import warnings

import numpy as np
import pytest

import numjax
import numjax.experimental
import numjax.numpy as jnp
from jnp_b_dtypes import result_dtypes_test
from records import Rec as _Rec, assert_close, make_tests, uniform, wide

ALL = ("bool", "int8", "uint8", "int32", "float16", "bfloat16", "float32", "complex64")
NUM = ("int8", "uint8", "int32", "float16", "bfloat16", "float32", "complex64")
REAL = ("bool", "int8", "uint8", "int32", "float16", "bfloat16", "float32")
FLT = ("float16", "bfloat16", "float32")
F32 = ("float32",)
TOL = {"float16": 2e-2, "bfloat16": 8e-2, "float32": 2e-5, "complex64": 2e-5, "bool": 1e-6,
       "int8": 1e-6, "uint8": 1e-6, "int32": 1e-6}


def Rec(*args, **kw):
  kw.setdefault("tol", TOL)
  return _Rec(*args, **kw)


def ref(fn, **kw):
  """A NumPy reference run on widened inputs, warnings silenced (NaN results expected)."""
  def f(*args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
      warnings.simplefilter("ignore")
      return fn(*[wide(a) for a in args], **kw)
  return f


def with_nans(base=uniform()):
  """Floating inputs get NaNs in about a quarter of the entries (and one all-NaN row)."""
  def make(rng, shape, dtype):
    x = base(rng, shape, dtype)
    if np.dtype(dtype if dtype != "bfloat16" else "float32").kind in "fc" and x.size:
      x = np.array(x)
      x[rng.random(shape) < 0.25] = np.nan
      if x.ndim >= 2:
        x[0] = np.nan
    return x
  return make


def mask_domain(rng, shape, dtype):
  return rng.random(shape) < 0.6


def _shapes_for(axis):
  """Shapes on which `axis` is valid: scalars, vectors, matrices, 3-D and 0-size."""
  if axis is None:
    return [(), (5,), (3, 4), (2, 3, 4), (0, 3)]
  if axis == ():
    return [(3, 4)]
  if isinstance(axis, tuple):
    return [(2, 3, 4)]
  if axis in (0, -1):
    return [(5,), (3, 4), (2, 3, 4), (0, 3)]
  return [(3, 4), (2, 3, 4)]


def _no_empty(shapes):
  return [s for s in shapes if 0 not in s]


AXES = [None, 0, -1, 1, (0, 2), ()]


def axis_records(name, jfn, nfn, dtypes, grad=0, kw=None, nonempty=False, vmap_all=False,
                 domain=uniform(), tol=None, keepdims=True, reduce_something=False):
  """Records for every axis variant (and keepdims on one of them). Dtype sweeps run NumPy
  and jit parity; vmap and gradients run on float32."""
  recs = []
  kw = dict(kw or {})
  for axis in AXES:
    for kd in ((False, True) if keepdims and axis == -1 else (False,)):
      shapes = _shapes_for(axis)
      if nonempty:
        shapes = _no_empty(shapes)
      if reduce_something:  # (std: a one-element reduction has an infinite derivative)
        shapes = [s for s in shapes if axis != () and math.prod(s) > 1]
      if not shapes:
        continue
      k = dict(kw, axis=axis, **({"keepdims": True} if kd else {}))
      tag = f"{name}[axis={axis}{',kd' if kd else ''}]"
      j = functools.partial(jfn, **k)
      n = ref(nfn, **k)
      recs.append(Rec(tag, j, n, shapes, dtypes=dtypes, domain=domain, tol=tol or TOL,
                      vmap=vmap_all, check_dtype=False))
      recs.append(Rec(tag + "/f32", j, n, shapes, dtypes=F32, domain=domain,
                      tol=tol or TOL, grad=grad, grad_dtypes=("float32",),
                      check_dtype=False))
  return recs


def _np_max(x, **kw):
  return np.max(x, **kw)


RECORDS = (
    axis_records("sum", jnp.sum, np.sum, ALL, grad=2)
    + axis_records("prod", jnp.prod, np.prod, ALL, grad=1, domain=uniform(0.5, 1.5))
    + axis_records("max", jnp.max, np.max, REAL, grad=1, nonempty=True)
    + axis_records("min", jnp.min, np.min, REAL, grad=1, nonempty=True)
    + axis_records("mean", jnp.mean, np.mean, NUM, grad=1, nonempty=True)
    + axis_records("var", jnp.var, np.var, FLT + ("int32", "complex64"), grad=1,
                   nonempty=True)
    + axis_records("std", jnp.std, np.std, FLT + ("int32",), grad=1, nonempty=True,
                   domain=uniform(0.5, 3.0), reduce_something=True)
    + axis_records("all", jnp.all, np.all, ALL)
    + axis_records("any", jnp.any, np.any, ALL)
    + axis_records("count_nonzero", jnp.count_nonzero, np.count_nonzero, ALL,
                   keepdims=False)
    + axis_records("ptp", jnp.ptp, np.ptp, ("int8", "int32", "float16", "float32"),
                   nonempty=True)
    + axis_records("nansum", jnp.nansum, np.nansum, ("int32", "float16", "float32"),
                   grad=1, domain=with_nans())
    + axis_records("nanmax", jnp.nanmax, np.nanmax, ("int32", "float32"), nonempty=True,
                   domain=with_nans())
    + axis_records("nanmean", jnp.nanmean, np.nanmean, ("int32", "float16", "float32"),
                   nonempty=True, domain=with_nans())
    + axis_records("nanvar", jnp.nanvar, np.nanvar, ("float32",), nonempty=True,
                   domain=with_nans())
    + axis_records("median", jnp.median, np.median, ("int32", "float16", "float32"),
                   grad=1, nonempty=True)
    + axis_records("nanmedian", jnp.nanmedian, np.nanmedian, F32, nonempty=True,
                   domain=with_nans())
    + [
        # where / initial / dtype / ddof variants
        Rec("sum[where]", lambda x, m: jnp.sum(x, axis=0, where=m),
            ref(lambda x, m: np.sum(x, axis=0, where=m)), [((3, 4), (3, 4)), ((3, 4), (4,))],
            nargs=2, dtypes=("int32", "float32"), domain=[uniform(), mask_domain],
            check_dtype=False),
        Rec("sum[initial]", lambda x: jnp.sum(x, axis=1, initial=2.5),
            ref(lambda x: np.sum(x, axis=1, initial=2.5)), [(3, 4), (3, 0)],
            dtypes=F32, grad=1, grad_dtypes=("float32",), check_dtype=False),
        Rec("sum[dtype]", lambda x: jnp.sum(x, axis=0, dtype=jnp.float32),
            ref(lambda x: np.sum(x, axis=0, dtype=np.float32)), [(3, 4)],
            dtypes=("bool", "int8", "float16"), check_dtype=False),
        Rec("max[where,initial]", lambda x, m: jnp.max(x, axis=1, where=m, initial=-1.0),
            ref(lambda x, m: np.max(x, axis=1, where=m, initial=-1.0)), [((3, 4), (3, 4))],
            nargs=2, dtypes=F32, domain=[uniform(), mask_domain], check_dtype=False),
        Rec("min[initial]", lambda x: jnp.min(x, initial=0.5),
            ref(lambda x: np.min(x, initial=0.5)), [(3, 4), (0,)], dtypes=("int32", "float32"),
            check_dtype=False),
        Rec("mean[where]", lambda x, m: jnp.mean(x, axis=-1, where=m),
            ref(lambda x, m: np.mean(x, axis=-1, where=m)), [((3, 4), (3, 4))], nargs=2,
            dtypes=F32, domain=[uniform(), mask_domain], check_dtype=False),
        Rec("var[ddof,where]", lambda x, m: jnp.var(x, axis=0, ddof=1, where=m),
            ref(lambda x, m: np.var(x, axis=0, ddof=1, where=m)), [((5, 3), (5, 3))],
            nargs=2, dtypes=F32, domain=[uniform(), mask_domain], check_dtype=False),
        Rec("std[correction]", lambda x: jnp.std(x, axis=1, correction=1),
            ref(lambda x: np.std(x, axis=1, ddof=1)), [(3, 5)], dtypes=F32,
            grad=1, grad_dtypes=("float32",), domain=uniform(0.5, 3), check_dtype=False),
        Rec("std[correction >= n]", lambda x: jnp.std(x, axis=1, correction=1),
            ref(lambda x: np.std(x, axis=1, ddof=1)), [(3, 1)], dtypes=F32,
            check_dtype=False),
        Rec("var[mean]", lambda x: jnp.var(x, axis=1, mean=jnp.mean(x, axis=1, keepdims=True)),
            ref(lambda x: np.var(x, axis=1)), [(3, 5)], dtypes=F32, check_dtype=False),
        Rec("all[where]", lambda x, m: jnp.all(x, axis=0, where=m),
            ref(lambda x, m: np.all(x, axis=0, where=m)), [((3, 4), (3, 4))], nargs=2,
            dtypes=("bool",), domain=[uniform(), mask_domain]),
        Rec("nanmin[initial]", lambda x: jnp.nanmin(x, axis=0, initial=0.0),
            ref(lambda x: np.nanmin(x, axis=0, initial=0.0)), [(4, 3)], dtypes=F32,
            domain=with_nans(), check_dtype=False),
        Rec("nanprod", lambda x: jnp.nanprod(x, axis=0), ref(lambda x: np.nanprod(x, axis=0)),
            [(4, 3)], dtypes=F32, domain=with_nans(uniform(0.5, 1.5)), check_dtype=False),
        Rec("nanstd", lambda x: jnp.nanstd(x, axis=1, ddof=1),
            ref(lambda x: np.nanstd(x, axis=1, ddof=1)), [(3, 6)], dtypes=F32,
            domain=with_nans(), check_dtype=False),
        # argmax family
        Rec("argmax", jnp.argmax, ref(np.argmax), [(5,), (3, 4), (2, 3, 4)], dtypes=REAL),
        Rec("argmin[axis=1]", lambda x: jnp.argmin(x, axis=1), ref(lambda x: np.argmin(x, 1)),
            [(3, 4), (2, 3, 4)], dtypes=REAL),
        Rec("argmax[axis=-1,kd]", lambda x: jnp.argmax(x, axis=-1, keepdims=True),
            ref(lambda x: np.argmax(x, -1, keepdims=True)), [(3, 4)], dtypes=F32),
        Rec("argmax[nan]", lambda x: jnp.argmax(x, axis=0), ref(lambda x: np.argmax(x, 0)),
            [(6, 3)], dtypes=F32, domain=with_nans()),
        Rec("nanargmax", lambda x: jnp.nanargmax(x, axis=1),
            ref(lambda x: np.where(np.isnan(x).all(1), -1, np.nanargmax(
                np.where(np.isnan(x).all(1, keepdims=True), 0, x), 1))),
            [(3, 6)], dtypes=F32, domain=with_nans(), vmap=False),
        Rec("nanargmin", lambda x: jnp.nanargmin(x, axis=0),
            ref(lambda x: np.nanargmin(x, 0)), [(6, 3)], dtypes=F32,
            domain=with_nans(uniform()), vmap=False),
        # cumulative
        Rec("cumsum", jnp.cumsum, ref(np.cumsum), [(), (5,), (3, 4), (0, 2)], dtypes=ALL,
            tol={"float16": 5e-2, "bfloat16": 2e-1}, grad=2, grad_dtypes=("float32",),
            domain=uniform(0, 3), check_dtype=False),
        Rec("cumsum[axis=1]", lambda x: jnp.cumsum(x, axis=1), ref(lambda x: np.cumsum(x, 1)),
            [(3, 4), (2, 3, 4)], dtypes=("int8", "float32"), grad=1,
            grad_dtypes=("float32",), check_dtype=False),
        Rec("cumprod[axis=-1]", lambda x: jnp.cumprod(x, axis=-1),
            ref(lambda x: np.cumprod(x, -1)), [(3, 4)], dtypes=("int32", "float32"), grad=1,
            grad_dtypes=("float32",), domain=uniform(0.5, 1.5), check_dtype=False),
        Rec("cumsum[dtype=f32]", lambda x: jnp.cumsum(x, axis=0, dtype=jnp.float32),
            ref(lambda x: np.cumsum(x, 0, dtype=np.float32)), [(4, 3)],
            dtypes=("bool", "int8"), check_dtype=False),
        Rec("cumulative_sum[include_initial]",
            lambda x: jnp.cumulative_sum(x, axis=1, include_initial=True),
            ref(lambda x: np.cumulative_sum(x, axis=1, include_initial=True)), [(3, 4)],
            dtypes=("int8", "float32"), check_dtype=False),
        Rec("cumulative_prod", lambda x: jnp.cumulative_prod(x),
            ref(lambda x: np.cumulative_prod(x)), [(5,)], dtypes=("int32", "float32"),
            domain=uniform(0.5, 1.5), check_dtype=False),
        Rec("nancumsum", lambda x: jnp.nancumsum(x, axis=0), ref(lambda x: np.nancumsum(x, 0)),
            [(4, 3)], dtypes=F32, domain=with_nans(), check_dtype=False),
        Rec("nancumprod", jnp.nancumprod, ref(np.nancumprod), [(6,)], dtypes=F32,
            domain=with_nans(uniform(0.5, 1.5)), check_dtype=False),
        # order statistics
        Rec("quantile[q]", lambda x, q: jnp.quantile(x, q, axis=-1),
            ref(lambda x, q: np.quantile(x, q, axis=-1)), [((3, 7), ()), ((3, 7), (4,))],
            nargs=2, dtypes=F32, domain=[uniform(), uniform(0, 1)], grad=1,
            grad_dtypes=("float32",), check_dtype=False),
        Rec("quantile[axis=(0,2),kd]", lambda x: jnp.quantile(
            x, jnp.array([0.1, 0.5, 0.9]), axis=(0, 2), keepdims=True),
            ref(lambda x: np.quantile(x, [0.1, 0.5, 0.9], axis=(0, 2), keepdims=True)),
            [(2, 3, 4)], dtypes=F32, check_dtype=False),
        Rec("percentile", lambda x: jnp.percentile(x, 30.0),
            ref(lambda x: np.percentile(x, 30.0)), [(9,), (3, 4)], dtypes=("int32", "float32"),
            check_dtype=False),
        Rec("nanquantile", lambda x: jnp.nanquantile(x, jnp.array([0.2, 0.7]), axis=1),
            ref(lambda x: np.nanquantile(x, [0.2, 0.7], axis=1)), [(3, 8)], dtypes=F32,
            domain=with_nans(), check_dtype=False),
        Rec("nanpercentile", lambda x: jnp.nanpercentile(x, 75, axis=0, keepdims=True),
            ref(lambda x: np.nanpercentile(x, 75, axis=0, keepdims=True)), [(8, 3)],
            dtypes=F32, domain=with_nans(), check_dtype=False),
        Rec("median[nan]", lambda x: jnp.median(x, axis=0), ref(lambda x: np.median(x, 0)),
            [(5, 3)], dtypes=F32, domain=with_nans(), check_dtype=False),
        Rec("quantile[inverted_cdf]", lambda x: jnp.quantile(
            x, jnp.array([0.0, 0.1, 0.5, 0.9, 1.0]), axis=1, method="inverted_cdf"),
            ref(lambda x: np.quantile(x, [0.0, 0.1, 0.5, 0.9, 1.0], axis=1,
                                      method="inverted_cdf")), [(3, 7), (2, 1)],
            dtypes=("int32", "float32"), check_dtype=False),
        Rec("quantile[weights]", lambda x, w: jnp.quantile(
            x, jnp.array([0.1, 0.5, 0.9]), axis=1, method="inverted_cdf", weights=w),
            ref(lambda x, w: np.quantile(x, [0.1, 0.5, 0.9], axis=1, method="inverted_cdf",
                                         weights=w)), [((3, 7), (3, 7))], nargs=2,
            dtypes=F32, domain=[uniform(), uniform(0.1, 2)], check_dtype=False),
        Rec("percentile[weights on axis]", lambda x, w: jnp.percentile(
            x, 30, axis=0, method="inverted_cdf", weights=w),
            ref(lambda x, w: np.percentile(x, 30, axis=0, method="inverted_cdf",
                                           weights=np.broadcast_to(w[:, None], x.shape))),
            [((6, 3), (6,))], nargs=2, dtypes=F32, domain=[uniform(), uniform(0.1, 2)],
            check_dtype=False),
        Rec("nanquantile[weights]", lambda x, w: jnp.nanquantile(
            x, 0.5, axis=1, method="inverted_cdf", weights=w),
            ref(lambda x, w: np.nanquantile(x, 0.5, axis=1, method="inverted_cdf",
                                            weights=w)), [((3, 7), (3, 7))], nargs=2,
            dtypes=F32, domain=[with_nans(), uniform(0.1, 2)], check_dtype=False,
            vmap=False),
        # averages
        Rec("average[weights]", lambda x, w: jnp.average(x, axis=1, weights=w),
            ref(lambda x, w: np.average(x, axis=1, weights=w)), [((3, 4), (4,)),
                                                                ((3, 4), (3, 4))],
            nargs=2, dtypes=F32, domain=[uniform(), uniform(0.5, 2)], grad=1,
            grad_dtypes=("float32",), check_dtype=False),
        Rec("average[returned]", lambda x: jnp.average(x, axis=0, returned=True),
            ref(lambda x: np.average(x, axis=0, returned=True)), [(3, 4)],
            dtypes=("int32", "float32"), check_dtype=False),
        Rec("average[weights,axes]", lambda x, w: jnp.average(x, axis=(2, 0), weights=w,
                                                              returned=True),
            ref(lambda x, w: np.average(x, axis=(2, 0), weights=np.transpose(w)[:, None, :] *
                                        np.ones((1, 3, 1)), returned=True)),
            [((2, 3, 4), (4, 2))], nargs=2, dtypes=F32,
            domain=[uniform(), uniform(0.5, 2)], check_dtype=False),
    ]
)

def _nearest_quantile(x, q, axis):
  """JAX's 'nearest': a position exactly halfway goes to the lower index (NumPy's rounds
  it to the even one)."""
  pos = np.asarray(q) * (x.shape[axis] - 1)
  idx = np.where(pos - np.floor(pos) <= 0.5, np.floor(pos), np.ceil(pos)).astype(int)
  return np.take(np.sort(x, axis=axis), idx, axis=axis)


QUANTILE_METHODS = ["linear", "lower", "higher", "midpoint"]
QS = np.array([0.0, 0.3, 0.5, 1.0])
RECORDS += [
    Rec(f"quantile[{m}]", functools.partial(jnp.quantile, q=jnp.array(QS), axis=0, method=m),
        ref(functools.partial(np.quantile, q=QS, axis=0, method=m)),
        [(1, 3), (6, 2), (7,)], dtypes=("int32", "float32"), check_dtype=False)
    for m in QUANTILE_METHODS]
RECORDS += [
    Rec("quantile[nearest]", lambda x: jnp.quantile(x, jnp.array(QS), axis=0,
                                                     method="nearest"),
        ref(lambda x: _nearest_quantile(x, QS, 0)), [(1, 3), (6, 2), (7,)],
        dtypes=("int32", "float32"), check_dtype=False)]

test_numpy, test_jit, test_vmap, test_grad = make_tests(RECORDS)


# ---------------------------------------------------------------------------------------
# Result dtypes and weak types, against JAX 0.10.2 (tests/data/record_jnp_b_dtypes.py)

test_result_dtypes_match_jax = result_dtypes_test("reductions")


X64_CASES = [
    ("sum", jnp.sum, np.sum, "int32"), ("sum", jnp.sum, np.sum, "float64"),
    ("mean", jnp.mean, np.mean, "int64"), ("var", jnp.var, np.var, "float64"),
    ("cumsum", jnp.cumsum, np.cumsum, "uint32"), ("prod", jnp.prod, np.prod, "complex128"),
    ("median", jnp.median, np.median, "float64"), ("argmax", jnp.argmax, np.argmax, "float64"),
]


@pytest.mark.parametrize("name,jfn,nfn,dtype", X64_CASES, ids=[f"{c[0]}-{c[3]}" for c in X64_CASES])
def test_x64_values(name, jfn, nfn, dtype):
  rng = np.random.default_rng(0)
  x = (rng.uniform(-3, 3, (4, 5)) * (1 if dtype[0] in "fc" else 1)).astype(
      dtype if dtype[0] != "u" else "float64")
  x = np.abs(x).astype(dtype) if dtype[0] == "u" else x
  with numjax.experimental.enable_x64():
    out = jfn(x, axis=0) if name not in ("median",) else jfn(x)
    exp = nfn(x, axis=0) if name not in ("median",) else nfn(x)
    assert_close(out, exp, 1e-12, check_dtype=False)
    jitted = numjax.jit(lambda a: jfn(a, axis=0) if name != "median" else jfn(a))(x)
    assert jitted.dtype == out.dtype
    assert_close(jitted, out, 1e-12)


def test_weak_types():
  assert not jnp.sum(2.0).weak_type and jnp.sum(2.0).dtype == np.float32
  assert not jnp.mean(2).weak_type and jnp.mean(2).dtype == np.float32
  assert not jnp.max(2.0).weak_type
  assert jnp.cumsum(2.0).shape == (1,)


def test_sum_of_python_scalars_and_numpy_arrays():
  assert jnp.sum(np.arange(5)) == 10
  assert jnp.sum(True) == 1 and jnp.sum(True).dtype == np.int32


# ---------------------------------------------------------------------------------------
# Errors (classes and messages as JAX 0.10.2)

X = np.arange(6.0, dtype=np.float32).reshape(2, 3)
ERRORS = [
    (lambda: jnp.sum([1, 2]), TypeError, "sum requires ndarray or scalar arguments"),
    (lambda: jnp.sum(X, out=1), NotImplementedError, "The 'out' argument to jnp.sum"),
    (lambda: jnp.sum(X, axis=3), ValueError, "axis 3 is out of bounds for array of dimension 2"),
    (lambda: jnp.sum(X, axis=(0, 0)), ValueError, "duplicate value in 'axis'"),
    (lambda: jnp.sum(np.float32(1), axis=0), ValueError, "out of bounds"),
    (lambda: jnp.max(X, where=X > 0), ValueError, "to use a where mask one has to specify 'initial'"),
    (lambda: jnp.max(np.zeros((0,))), ValueError, "zero-size array to reduction operation max"),
    (lambda: jnp.min(np.zeros((0, 2)), axis=0), ValueError, "which has no identity"),
    (lambda: jnp.sum(X, initial=np.ones(2)), ValueError, "initial value must be a scalar"),
    (lambda: jnp.sum(X, where=np.ones((2, 3))), ValueError, "where must be None or a boolean"),
    (lambda: jnp.argmax(np.zeros(0)), ValueError, "attempt to get argmax of an empty sequence"),
    (lambda: jnp.argmax(X, axis=(0,)), TypeError, ""),
    (lambda: jnp.var(X, ddof=1, correction=1), ValueError, "ddof and correction"),
    (lambda: jnp.var(X.astype(np.complex64), dtype=np.float32), ValueError,
     "does not yet support real dtype"),
    (lambda: jnp.quantile(X, 0.5, method="foo"), ValueError, "method can only be"),
    (lambda: jnp.quantile(X, np.full((2, 2), 0.5)), ValueError, "q must be have rank <= 1"),
    (lambda: jnp.quantile(X.astype(np.complex64), 0.5), ValueError, "does not support complex"),
    (lambda: jnp.quantile(X, 0.5, out=1), ValueError, "does not support overwrite_input"),
    (lambda: jnp.median(X, overwrite_input=True), ValueError, "overwrite_input"),
    (lambda: jnp.quantile(X, 0.5, weights=np.ones((2, 3))), NotImplementedError,
     "linear doesn't support weights. Only method 'inverted_cdf' supports weights."),
    (lambda: jnp.quantile(X, 0.5, method="inverted_cdf", weights=np.ones(3, np.complex64)),
     ValueError, "Weights cannot be complex types."),
    (lambda: jnp.quantile(X, 0.5, method="inverted_cdf", weights=np.ones(3)), ValueError,
     "Weights shape must match 'a' shape when axis is None."),
    (lambda: jnp.quantile(X, 0.5, axis=0, method="inverted_cdf", weights=np.ones(3)),
     ValueError, "Weights shape (3,) must match reduction axes (2,)"),
    (lambda: jnp.cumulative_sum(X), ValueError, "axis was not set to an explicit value"),
    (lambda: jnp.cumulative_sum(np.float32(1)), ValueError, "must be non-scalar"),
    (lambda: jnp.cumsum(X, out=1), NotImplementedError, "'out' argument to jnp.cumsum"),
    (lambda: jnp.average(X, weights=np.ones(3)), ValueError, "Axis must be specified"),
    (lambda: jnp.average(X, axis=0, weights=np.ones(3)), ValueError,
     "Shape of weights must be consistent"),
]


@pytest.mark.parametrize("fn,exc,msg", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors(fn, exc, msg):
  with pytest.raises(exc, match=re.escape(msg) if msg else None):
    fn()


def test_traced_axis_is_an_error():
  with pytest.raises(numjax.errors.ConcretizationTypeError):
    numjax.jit(lambda x, a: jnp.sum(x, axis=a))(X, 0)


def test_nan_semantics():
  x = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]], np.float32)
  assert_close(jnp.nanmax(x, axis=1), np.array([3.0, np.nan]), 0)
  assert_close(jnp.nanargmax(x, axis=1), np.array([2, -1]), 0)
  assert_close(jnp.nanmean(x, axis=1), np.array([2.0, np.nan]), 1e-6)
  assert_close(jnp.median(x, axis=1), np.array([np.nan, np.nan]), 0)
  assert_close(jnp.var(np.ones((1, 3), np.float32), axis=0, ddof=1), np.full(3, np.nan), 0)


def test_grad_of_max_splits_ties():
  g = numjax.grad(lambda x: jnp.max(x))(np.array([1.0, 3.0, 3.0], np.float32))
  assert_close(g, np.array([0.0, 0.5, 0.5]), 1e-6)


def test_jaxpr_text_matches_jax():
  # recorded from JAX 0.10.2
  f16 = np.ones((2, 3), np.float16)
  assert str(numjax.make_jaxpr(lambda x: jnp.sum(x, axis=0))(f16)) == (
      "{ lambda ; a:f16[2,3]. let\n"
      "    b:f32[2,3] = convert_element_type[new_dtype=float32 weak_type=False] a\n"
      "    c:f32[3] = reduce_sum[axes=(0,) out_sharding=None] b\n"
      "    d:f16[3] = convert_element_type[new_dtype=float16 weak_type=False] c\n"
      "  in (d,) }")
  i8 = np.ones((2, 3), np.int8)
  assert str(numjax.make_jaxpr(lambda x: jnp.mean(x, axis=0))(i8)) == (
      "{ lambda ; a:i8[2,3]. let\n"
      "    b:f32[2,3] = convert_element_type[new_dtype=float32 weak_type=False] a\n"
      "    c:f32[3] = reduce_sum[axes=(0,) out_sharding=None] b\n"
      "    d:f32[3] = div c 2.0:f32[]\n"
      "  in (d,) }")
  assert str(numjax.make_jaxpr(lambda x: jnp.argmax(x, axis=0))(X)) == (
      "{ lambda ; a:f32[2,3]. let\n"
      "    b:i32[3] = argmax[axes=(0,) index_dtype=int32] a\n"
      "  in (b,) }")
  assert str(numjax.make_jaxpr(lambda x: jnp.all(x, axis=0))(X)) == (
      "{ lambda ; a:f32[2,3]. let\n"
      "    b:bool[2,3] = convert_element_type[new_dtype=bool weak_type=False] a\n"
      "    c:bool[3] = reduce_and[axes=(0,)] b\n"
      "  in (c,) }")
