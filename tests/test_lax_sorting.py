"""lax.sort / sort_key_val / top_k: NumPy parity over dtypes and shapes (NaNs, signed
zeros, ties), jit parity, vmap against a loop at every batch position, gradients against
finite differences, JAX's errors and jaxpr text (recorded from JAX 0.10.2)."""
import contextlib

import ml_dtypes
import numpy as np
import pytest

import numjax
import numjax.experimental
import numjax.lax as lax
from numjax._src.lax.lax import asarray
from numjax.test_util import check_grads
from records import INT, Rec, make_nonempty_grad_test, make_tests, uniform

FLOATS = ("float16", "bfloat16", "float32")
ALL = ("bool",) + FLOATS + INT + ("complex64",)
REAL = ("bool",) + FLOATS + INT


def special(rng, shape, dtype):
  """Random values sprinkled with NaN, +-inf, -0.0 and repeated values."""
  base = uniform()(rng, shape, dtype)
  dt = np.dtype(dtype) if dtype != "bfloat16" else np.dtype(np.float32)
  if dt.kind not in "fc" or base.size == 0:
    return base
  flat = base.reshape(-1).copy()
  picks = np.array([np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0, 1.0, 1.0], dt)
  where = rng.random(flat.size) < 0.4
  flat[where] = rng.choice(picks, where.sum())
  return flat.reshape(shape)


def _stable_sort(x, axis):
  # NumPy's stable sort orders as XLA: NaNs last, -0.0 == 0.0, complex lexicographic
  if str(x.dtype) == "bfloat16":
    return np.sort(x.astype(np.float32), axis=axis, kind="stable").astype(x.dtype)
  return np.sort(x, axis=axis, kind="stable")


SORT_RECORDS = [
    Rec(f"sort{dim}{'' if dom is not special else 'special'}",
        lambda x, dim=dim: lax.sort(x, dimension=dim),
        lambda x, dim=dim: _stable_sort(x, dim), shapes=shapes, dtypes=ALL, domain=dom,
        grad=2, tol={"float16": 0, "bfloat16": 0, "float32": 0, "complex64": 0})
    for dim, shapes in ((-1, [(6,), (3, 5), (0,)]), (0, [(5, 3)]), (1, [(2, 4, 3)]))
    for dom in (uniform(), special)]
# gradients are checked on the `uniform` records only (finite differences need finite data)
for _r in SORT_RECORDS[1::2]:
  _r.grad = 0


def _lexsort_ref(num_keys, dim):
  def ref(*ops):
    moved = [np.moveaxis(o, dim, -1) for o in ops]
    perm = np.lexsort([moved[i] for i in reversed(range(num_keys))], axis=-1)
    return tuple(np.moveaxis(np.take_along_axis(m, perm, -1), -1, dim) for m in moved)
  return ref


def _small_ints(rng, shape, dtype):
  return rng.integers(0, 3, shape).astype(dtype)


MULTI_RECORDS = [
    Rec("sort_key_val", lambda k, v: lax.sort_key_val(k, v), _lexsort_ref(1, -1),
        shapes=[((7,), (7,)), ((3, 6), (3, 6))], nargs=2, dtypes=("int32", "float32"),
        domain=[_small_ints, uniform()]),
    Rec("sort_2keys_dim0", lambda a, b, c: lax.sort((a, b, c), dimension=0, num_keys=2),
        _lexsort_ref(2, 0), shapes=[((8, 3), (8, 3), (8, 3))], nargs=3,
        dtypes=("int32", "float32"), domain=[_small_ints, _small_ints, uniform()]),
]


def _top_k_ref(k):
  def ref(x):
    xs = x.astype(np.float64) if x.dtype.kind == "f" or str(x.dtype) == "bfloat16" else x
    idx = np.argsort(-xs if xs.dtype.kind == "f" else ~xs, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(x, idx, -1), idx.astype(np.int32)
  return ref


def _distinct(rng, shape, dtype):
  """Distinct values (a permutation), so that the order is unambiguous in any dtype."""
  n = int(np.prod(shape))
  vals = rng.permutation(n) - n // 2
  if np.dtype(dtype if dtype != "bfloat16" else "float32").kind == "u":
    vals = vals + n
  if dtype == "bool":
    return rng.random(shape) < 0.5
  return vals.reshape(shape).astype(dtype if dtype != "bfloat16" else np.float32)


def _top_k_bool_ref(k):
  def ref(x):
    idx = np.argsort(~x, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(x, idx, -1), idx.astype(np.int32)
  return ref


TOPK_RECORDS = [
    Rec(f"top_k{k}", lambda x, k=k: lax.top_k(x, k), _top_k_ref(k), shapes=shapes,
        dtypes=FLOATS + INT, domain=_distinct, grad=2)
    for k, shapes in ((1, [(5,), (3, 4)]), (3, [(6,), (2, 3, 5)]), (0, [(4,)]))
] + [
    Rec("top_k_bool", lambda x: lax.top_k(x, 3), _top_k_bool_ref(3), shapes=[(6,), (2, 7)],
        dtypes=("bool",)),
    Rec("top_k_axis0", lambda x: lax.top_k(x, 2, axis=0),
        lambda x: tuple(np.swapaxes(o, 0, -1) for o in _top_k_ref(2)(np.swapaxes(x, 0, -1))),
        shapes=[(5, 3)], dtypes=("float32", "int32"), domain=_distinct, grad=2),
]
for _r in TOPK_RECORDS:
  if _r.name == "top_k0":
    _r.grad = 0

ALL_RECORDS = SORT_RECORDS + MULTI_RECORDS + TOPK_RECORDS
test_numpy, test_jit, test_vmap, _ = make_tests(ALL_RECORDS)
# gradients against finite differences (of the first output of multi-output ops)
test_grad = make_nonempty_grad_test(ALL_RECORDS,
    lambda rec: rec.fn if rec.name.startswith("sort") else (lambda x, f=rec.fn: f(x)[0]))


def test_sort_multi_operand_grad_wrt_values():
  keys = np.array([2, 1, 2, 0, 1], np.int32)
  vals = np.random.default_rng(0).uniform(size=5).astype(np.float32)
  f = lambda v: lax.sort_key_val(keys, v)[1]  # noqa: E731
  check_grads(f, (asarray(vals),), order=2, modes=("fwd", "rev"), atol=2e-2, rtol=2e-2)
  g = numjax.grad(lambda v: lax.reduce_sum(lax.mul(f(v), np.arange(5, dtype=np.float32)),
                                           (0,)))(vals)
  # the stable permutation of keys is [3, 1, 4, 0, 2]: value i gets the weight of its slot
  np.testing.assert_array_equal(np.asarray(g), [3., 1., 4., 0., 2.])


# ---- orders and ties -------------------------------------------------------------------------

def test_sort_float_order():
  x = np.array([1., -np.nan, np.nan, -0., 0., -np.inf, 2., -0.], np.float32)
  out = np.asarray(lax.sort(x))
  np.testing.assert_array_equal(out[:6], [-np.inf, 0., 0., 0., 1., 2.])
  assert np.isnan(out[6:]).all()
  # -0.0 and 0.0 compare equal: the stable sort keeps their input order
  np.testing.assert_array_equal(np.signbit(out[1:4]), [True, False, True])


def test_sort_complex_lexicographic():
  x = np.array([1 + 1j, np.nan, 1 - 1j, 5j, complex(np.nan, np.nan), complex(1, np.nan)],
               np.complex64)
  out = np.asarray(lax.sort(x))
  np.testing.assert_array_equal(out[:3], np.array([5j, 1 - 1j, 1 + 1j], np.complex64))
  assert out[3].real == 1 and np.isnan(out[3].imag)
  assert np.isnan(out[4].real) and out[4].imag == 0
  assert np.isnan(out[5].real) and np.isnan(out[5].imag)


def test_sort_stability_with_num_keys():
  k = np.array([2, 1, 2, 1])
  v = np.array([1., 2., 3., 4.], np.float32)
  sk, sv = lax.sort((k, v), num_keys=1)
  np.testing.assert_array_equal(np.asarray(sv), [2., 4., 1., 3.])
  sk, sv = lax.sort([k, np.array([4., 2., 3., 1.], np.float32)], num_keys=2)
  np.testing.assert_array_equal(np.asarray(sv), [1., 2., 3., 4.])
  assert isinstance(lax.sort([k, v]), tuple)


@pytest.mark.parametrize("dtype", FLOATS)
def test_top_k_total_order_and_ties(dtype):
  dt = ml_dtypes.bfloat16 if dtype == "bfloat16" else np.dtype(dtype)
  x = np.array([1., -np.nan, np.nan, -np.inf, 2.], np.float32).astype(dt)
  vals, idx = lax.top_k(x, 5)
  # +NaN is the largest, -NaN the smallest (IEEE total order)
  np.testing.assert_array_equal(np.asarray(idx), [2, 4, 0, 3, 1])
  vals, idx = lax.top_k(np.array([-0., 0., -0.], np.float32).astype(dt), 2)
  np.testing.assert_array_equal(np.asarray(idx), [1, 0])  # 0.0 > -0.0; ties: lower index
  vals, idx = lax.top_k(np.array([1, 5, 5, 2, 5], np.float32).astype(dt), 3)
  np.testing.assert_array_equal(np.asarray(idx), [1, 2, 4])
  assert vals.dtype == dt and idx.dtype == np.int32


def test_top_k_grad_goes_to_selected_entries():
  x = np.array([3., 1., 3., 2.], np.float32)
  g = numjax.grad(lambda x: lax.reduce_sum(lax.mul(lax.top_k(x, 2)[0],
                                                   np.arange(2., dtype=np.float32)), (0,)))(x)
  np.testing.assert_array_equal(np.asarray(g), [0., 0., 1., 0.])
  g = numjax.grad(lambda x: lax.reduce_sum(lax.mul(lax.sort(x),
                                                   np.arange(4., dtype=np.float32)), (0,)))(x)
  np.testing.assert_array_equal(np.asarray(g), [2., 0., 3., 1.])


def test_weak_types():
  assert lax.sort(asarray(3.0)[None] if False else lax.broadcast(asarray(3.0), (2,))).weak_type
  vals, idx = lax.top_k(lax.broadcast(asarray(3.0), (2,)), 1)
  assert vals.weak_type and idx.weak_type  # as JAX: both outputs follow the operand
  k, v = lax.sort_key_val(np.array([2., 1.], np.float32), lax.broadcast(asarray(3), (2,)))
  assert not k.weak_type and v.weak_type


# ---- JAX's errors ---------------------------------------------------------------------------

@pytest.mark.parametrize("thunk,exc,msg", [
    (lambda: lax.top_k(np.array([3., 1.]), 5), ValueError,
     "k argument to top_k must be no larger than size along axis"),
    (lambda: lax.top_k(np.array([3., 1.]), -1), ValueError, "must be nonnegative"),
    (lambda: lax.top_k(np.float32(3.), 1), ValueError,
     "axis -1 is out of bounds for array of dimension 0"),
    (lambda: lax.top_k(np.ones((2, 3)), 1, axis=2), ValueError, "axis 2 is out of bounds"),
    (lambda: lax.top_k(np.ones(3, np.complex64), 1), ValueError,
     "top_k is not compatible with complex inputs"),
    (lambda: lax.sort((np.ones(4), np.ones(3))), TypeError,
     "Arguments to sort must have equal shapes"),
    (lambda: lax.sort((np.ones(4), np.ones(4)), num_keys=3), ValueError,
     r"num_keys=3 must be between 1 and len\(operand\)=2"),
    (lambda: lax.sort(np.ones(4), num_keys=0), ValueError,
     "num_keys=0 must equal 1 for a single operand"),
    (lambda: lax.sort(np.ones(4), dimension=1), ValueError,
     "axis 1 is out of bounds for array of dimension 1"),
    (lambda: lax.sort(np.float32(2.)), ValueError,
     "axis -1 is out of bounds for array of dimension 0"),
    (lambda: lax.sort(()), TypeError, "Sort requires at least one operand"),
])
def test_errors(thunk, exc, msg):
  with pytest.raises(exc, match=msg):
    thunk()


_X = np.ones((2, 3), np.float32)


@pytest.mark.parametrize("fn,expected", [
    (lambda x: lax.sort(x),
     "{ lambda ; a:f32[2,3]. let\n    b:f32[2,3] = sort[dimension=1 is_stable=True num_keys=1] a"
     "\n  in (b,) }"),
    (lambda x: lax.sort((x, x), num_keys=1),
     "{ lambda ; a:f32[2,3]. let\n    b:f32[2,3] c:f32[2,3] = sort[dimension=1 is_stable=True "
     "num_keys=1] a a\n  in (b, c) }"),
    (lambda x: lax.top_k(x, 2),
     "{ lambda ; a:f32[2,3]. let\n    b:f32[2,2] c:i32[2,2] = top_k[axis=1 k=2] a\n  in (b, c) }"),
    (lambda x: lax.top_k(x, 1, axis=-2),
     "{ lambda ; a:f32[2,3]. let\n    b:f32[1,3] c:i32[1,3] = top_k[axis=0 k=1] a\n  in (b, c) }"),
])
def test_jaxpr_text(fn, expected):
  assert str(numjax.make_jaxpr(fn)(_X)) == expected


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("shape,dim", [((3000,), 0), ((300, 7), 0), ((5, 400), 1)])
def test_sort_large_keeps_signed_zeros_and_nans_in_input_order(dtype, shape, dim):
  # large enough that NumPy's fast sort is not an insertion sort: zero and NaN runs must be
  # restored to their (stable) input order, signs and payloads included
  rng = np.random.default_rng(1)
  dt = ml_dtypes.bfloat16 if dtype == "bfloat16" else np.dtype(dtype)
  x = rng.choice(np.array([-0.0, 0.0, np.nan, -np.nan, 1.5, -2.0, np.inf], np.float32),
                 shape).astype(dt)
  ctx = numjax.experimental.enable_x64() if dtype == "float64" else contextlib.nullcontext()
  with ctx:
    out = np.asarray(lax.sort(x, dimension=dim)).astype(np.float64)
  ref = np.sort(x.astype(np.float64), axis=dim, kind="stable")
  np.testing.assert_array_equal(out, ref)
  np.testing.assert_array_equal(np.signbit(out), np.signbit(ref))
  # and the stable permutation (the jvp's) agrees
  _, perm = lax.sort_key_val(x, lax.broadcasted_iota(np.int32, shape, dim), dimension=dim)
  np.testing.assert_array_equal(np.asarray(perm),
                                np.argsort(x.astype(np.float64), axis=dim, kind="stable"))


@pytest.mark.parametrize("dtype", ["int8", "int32", "uint16", "float32", "float64"])
def test_top_k_large_with_ties(dtype):
  rng = np.random.default_rng(2)
  x = rng.integers(-5, 5, (4, 5000)).astype(dtype)
  ctx = numjax.experimental.enable_x64() if dtype == "float64" else contextlib.nullcontext()
  with ctx:
    vals, idx = lax.top_k(x, 20)
  ref_idx = np.argsort(-x.astype(np.float64), axis=-1, kind="stable")[:, :20]
  np.testing.assert_array_equal(np.asarray(idx), ref_idx)
  np.testing.assert_array_equal(np.asarray(vals), np.take_along_axis(x, ref_idx, -1))
