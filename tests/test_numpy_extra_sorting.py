"""jnp sorting, searching and set operations: NumPy parity (records: NumPy, jit, vmap at
every batch position, gradients), JAX's size=/fill_value= semantics under jit, and JAX's
errors. Expected values with `size=` are NumPy's results padded the way JAX pads them."""
import numpy as np
import pytest

import numjax
import numjax.numpy as jnp
from numjax import errors
from records import Rec, make_tests, uniform

F = ("float32",)
FI = ("float32", "int32")
SMALL_INT = uniform(-3, 3)   # many ties


def _pad(x, size, fill):
  x = np.asarray(x)
  if x.shape[0] >= size:
    return x[:size]
  return np.concatenate([x, np.full((size - x.shape[0],) + x.shape[1:], fill, x.dtype)])


def _part_pieces(mod, out, kth):
  """The pivot and the sorted pieces before/after it (what partition guarantees)."""
  return (out[..., kth], mod.sort(out[..., :kth], axis=-1), mod.sort(out[..., kth + 1:], axis=-1))


def _np_part(x, kth):
  return _part_pieces(np, np.partition(x, kth, axis=-1), kth)


def _jnp_part(x, kth):
  return _part_pieces(jnp, jnp.partition(x, kth, axis=-1), kth)


def _np_argpart(x, kth):
  return _np_part(x, kth)


def _jnp_argpart(x, kth):
  idx = jnp.argpartition(x, kth, axis=-1)
  return _part_pieces(jnp, jnp.take_along_axis(x, idx, axis=-1), kth)


def _searchsorted(method, side):
  return Rec(f"searchsorted[{method},{side}]",
             lambda a, v: jnp.searchsorted(jnp.sort(a), v, side=side, method=method),
             lambda a, v: np.searchsorted(np.sort(a), v, side=side).astype(np.int32),
             [((7,), (5,)), ((6,), (2, 3)), ((0,), (3,))], dtypes=FI, nargs=2,
             domain=SMALL_INT, check_dtype=False)


RECORDS = [
    Rec("sort", jnp.sort, np.sort, [(7,), (3, 4)], dtypes=("float32", "int32", "bool"),
        grad=1),
    Rec("sort[axis0]", lambda x: jnp.sort(x, axis=0), lambda x: np.sort(x, axis=0),
        [(4, 3)], grad=1),
    Rec("sort[None]", lambda x: jnp.sort(x, axis=None), lambda x: np.sort(x, axis=None),
        [(2, 3)]),
    Rec("sort[desc]", lambda x: jnp.sort(x, descending=True),
        lambda x: np.flip(np.sort(x, axis=-1), -1), [(6,), (2, 5)], dtypes=FI, grad=1),
    Rec("argsort", jnp.argsort, lambda x: np.argsort(x, kind="stable").astype(np.int32),
        [(8,), (3, 5)], dtypes=FI, domain=SMALL_INT, check_dtype=False),
    Rec("argsort[desc]", lambda x: jnp.argsort(x, axis=0, descending=True),
        lambda x: np.argsort(-x, axis=0, kind="stable").astype(np.int32), [(7, 2)],
        dtypes=FI, domain=SMALL_INT, check_dtype=False),
    Rec("lexsort", lambda a, b: jnp.lexsort((a, b)),
        lambda a, b: np.lexsort((a, b)).astype(np.int32), [((9,), (9,)), ((2, 6), (2, 6))],
        dtypes=("int32",), nargs=2, domain=SMALL_INT, check_dtype=False),
    Rec("partition", lambda x: _jnp_part(x, 2), lambda x: _np_part(x, 2), [(7,), (3, 6)],
        dtypes=("float32", "int32", "uint8"), grad=1),
    Rec("argpartition", lambda x: _jnp_argpart(x, 3), lambda x: _np_argpart(x, 3),
        [(7,), (2, 5)], dtypes=FI, domain=SMALL_INT),
    Rec("sort_complex", jnp.sort_complex, np.sort_complex, [(6,), (2, 4)],
        dtypes=("complex64", "float32", "int32"), domain=SMALL_INT),
    *[_searchsorted(m, s) for m in ("scan", "scan_unrolled", "sort", "compare_all")
      for s in ("left", "right")],
    Rec("unique[size]", lambda x: jnp.unique(x, size=8, fill_value=-7),
        lambda x: _pad(np.unique(x), 8, -7), [(10,), (3, 4)], dtypes=FI, domain=SMALL_INT),
    Rec("unique[size,default_fill]", lambda x: jnp.unique(x, size=9),
        lambda x: _pad(np.unique(x), 9, np.unique(x)[0]), [(10,)], dtypes=FI,
        domain=SMALL_INT),
    Rec("unique[axis0,size]", lambda x: jnp.unique(x, axis=0, size=5, fill_value=0),
        lambda x: _pad(np.unique(x, axis=0), 5, 0), [(7, 2)], dtypes=("int32",),
        domain=uniform(0, 1)),
    Rec("unique[all,size]",
        lambda x: jnp.unique(x, return_index=True, return_inverse=True, return_counts=True,
                             size=4),
        lambda x: _unique_all_padded(x, 4), [(9,)], dtypes=("int32",), domain=SMALL_INT,
        check_dtype=False),
    Rec("isin", jnp.isin, np.isin, [((5,), (4,)), ((2, 3), (6,)), ((0,), (3,))],
        dtypes=FI, nargs=2, domain=SMALL_INT),
    Rec("isin[invert,sort]", lambda a, b: jnp.isin(a, b, invert=True, method="sort"),
        lambda a, b: np.isin(a, b, invert=True), [((6,), (4,))], dtypes=FI, nargs=2,
        domain=SMALL_INT),
    Rec("isin[binary_search]", lambda a, b: jnp.isin(a, b, method="binary_search"),
        np.isin, [((6,), (4,))], dtypes=FI, nargs=2, domain=SMALL_INT),
    Rec("union1d[size]", lambda a, b: jnp.union1d(a, b, size=12, fill_value=9),
        lambda a, b: _pad(np.union1d(a, b), 12, 9), [((5,), (6,))], dtypes=FI, nargs=2,
        domain=SMALL_INT),
    Rec("intersect1d[size]", lambda a, b: jnp.intersect1d(a, b, size=6, fill_value=9),
        lambda a, b: _pad(np.intersect1d(a, b), 6, 9), [((7,), (6,))], dtypes=FI, nargs=2,
        domain=SMALL_INT),
    Rec("setdiff1d[size]", lambda a, b: jnp.setdiff1d(a, b, size=7, fill_value=9),
        lambda a, b: _pad(np.setdiff1d(a, b), 7, 9), [((7,), (3,))], dtypes=FI, nargs=2,
        domain=SMALL_INT),
    Rec("setxor1d[size]", lambda a, b: jnp.setxor1d(a, b, size=8, fill_value=9),
        lambda a, b: _pad(np.setxor1d(a, b), 8, 9), [((6,), (5,))], dtypes=FI, nargs=2,
        domain=SMALL_INT),
]


def _unique_all_padded(x, size):
  v, i, inv, c = np.unique(x, return_index=True, return_inverse=True, return_counts=True)
  n = len(v)
  return (_pad(v, size, v[0]), _pad(i, size, i[0]), inv, _pad(c, size, 0)) if n < size else \
      (v[:size], i[:size], inv, c[:size])


test_numpy, test_jit, test_vmap, test_grad = make_tests(RECORDS)


# ---------------------------------------------------------------------------------------
# Data-dependent sizes outside jit (NumPy's results exactly)

SET_CASES = [(np.array([5, 1, 3, 3, 7]), np.array([3, 4, 5, 6, 9])),
             (np.array([2., 2., np.nan, 1.]), np.array([1., 8.])),
             (np.array([], np.int32), np.array([1, 2]))]


@pytest.mark.parametrize("a,b", SET_CASES)
def test_set_operations_without_size(a, b):
  for name in ("union1d", "intersect1d", "setdiff1d", "setxor1d"):
    got = getattr(jnp, name)(a, b)
    want = getattr(np, name)(a, b)
    np.testing.assert_array_equal(np.asarray(got), want.astype(np.asarray(got).dtype),
                                  err_msg=name)


def test_intersect1d_return_indices():
  a, b = np.array([5, 1, 3, 3, 7]), np.array([3, 4, 5, 6, 9])
  for got, want in zip(jnp.intersect1d(a, b, return_indices=True),
                       np.intersect1d(a, b, return_indices=True)):
    np.testing.assert_array_equal(got, want)
  # with size: values padded with the smallest result, indices with an out-of-bounds index
  v, i1, i2 = jnp.intersect1d(a, b, size=4, return_indices=True)
  np.testing.assert_array_equal(v, [3, 5, 3, 3])
  np.testing.assert_array_equal(i1, [2, 0, 5, 5])
  np.testing.assert_array_equal(i2, [0, 2, 5, 5])


@pytest.mark.parametrize("x", [np.array([3., 1, 3, 2, np.nan, np.nan, 1]),
                               np.array([[1, 2], [1, 2], [0, 5]]), np.array([4])])
def test_unique_matches_numpy(x):
  got = jnp.unique(x, return_index=True, return_inverse=True, return_counts=True)
  want = np.unique(x, return_index=True, return_inverse=True, return_counts=True,
                   equal_nan=True)
  for g, w in zip(got, want):
    np.testing.assert_array_equal(np.asarray(g), w)
  vals = jnp.unique(x, axis=0) if x.ndim == 2 else jnp.unique(x, equal_nan=False)
  np.testing.assert_array_equal(vals, np.unique(x, axis=0) if x.ndim == 2 else
                                np.unique(x, equal_nan=False))


def test_unique_array_api_variants():
  x = np.array([[3, 1], [3, 2], [np.nan, np.nan]])
  r = jnp.unique_all(x)
  w = np.unique_all(x)
  for f in ("values", "indices", "inverse_indices", "counts"):
    np.testing.assert_array_equal(getattr(r, f), getattr(w, f), err_msg=f)
  np.testing.assert_array_equal(jnp.unique_counts(x).counts, np.unique_counts(x).counts)
  np.testing.assert_array_equal(jnp.unique_inverse(x).inverse_indices,
                                np.unique_inverse(x).inverse_indices)
  np.testing.assert_array_equal(jnp.unique_values(x), np.unique_values(x))


def test_unique_size_padding_is_jax():
  # JAX's padding: the smallest value, its index, zero counts; inverse untouched.
  x = np.array([3, 3, 1])
  v, i, inv, c = jnp.unique(x, size=4, return_index=True, return_inverse=True,
                            return_counts=True)
  np.testing.assert_array_equal(v, [1, 3, 1, 1])
  np.testing.assert_array_equal(i, [2, 0, 2, 2])
  np.testing.assert_array_equal(inv, [1, 1, 0])
  np.testing.assert_array_equal(c, [1, 2, 0, 0])
  # truncated: the inverse still indexes the full set
  v, inv = jnp.unique(np.array([3, 1, 2]), size=2, return_inverse=True)
  np.testing.assert_array_equal(v, [1, 2])
  np.testing.assert_array_equal(inv, [2, 0, 1])


def test_set_defaults_fill_as_jax():
  a, b = np.array([5, 1, 3, 3, 7]), np.array([3, 4, 5, 6, 9])
  np.testing.assert_array_equal(jnp.setdiff1d(a, b, size=4), [1, 7, 0, 0])
  np.testing.assert_array_equal(jnp.union1d(a, b, size=9), [1, 3, 4, 5, 6, 7, 9, 1, 1])
  np.testing.assert_array_equal(jnp.setxor1d(a, b, size=8), [1, 4, 6, 7, 9, 1, 1, 1])
  np.testing.assert_array_equal(jnp.setxor1d(a, a, size=3), [0, 0, 0])
  np.testing.assert_array_equal(jnp.intersect1d(a, np.array([100]), size=3), [0, 0, 0])


def test_jit_needs_size():
  x = np.array([3, 3, 1])
  for fn in (jnp.unique, lambda v: jnp.union1d(v, v), lambda v: jnp.setdiff1d(v, v),
             lambda v: jnp.intersect1d(v, v)):
    with pytest.raises(errors.ConcretizationTypeError):
      numjax.jit(fn)(x)
  np.testing.assert_array_equal(numjax.jit(lambda v: jnp.unique(v, size=3))(x), [1, 3, 1])


def test_errors_as_jax():
  with pytest.raises(ValueError, match="fill_value must be specified"):
    jnp.unique(np.zeros((0,), np.float32), size=3)
  with pytest.raises(TypeError, match="'kind' argument to sort"):
    jnp.sort(np.ones(3), kind="stable")
  with pytest.raises(ValueError, match="a should be 1-dimensional"):
    jnp.searchsorted(np.ones((2, 2)), 1.0)
  with pytest.raises(NotImplementedError):
    jnp.partition(np.ones(3, np.complex64), 1)
  with pytest.raises(TypeError, match="need sequence of keys"):
    jnp.lexsort(())


def test_searchsorted_nan_and_sorter():
  a = np.array([1., 2., np.nan], np.float32)
  v = np.array([np.nan, 2., 0.5, 3.], np.float32)
  for method in ("scan", "sort", "compare_all"):
    for side in ("left", "right"):
      np.testing.assert_array_equal(jnp.searchsorted(a, v, side=side, method=method),
                                    np.searchsorted(a, v, side=side))
  a = np.array([3, 1, 2])
  order = np.argsort(a)
  np.testing.assert_array_equal(jnp.searchsorted(a, np.array([2, 0, 4]), sorter=order),
                                np.searchsorted(a, [2, 0, 4], sorter=order))


def test_sort_nan_and_signed_zero_order():
  x = np.array([np.nan, 1., -0., 0., -np.inf, np.nan], np.float32)
  np.testing.assert_array_equal(jnp.sort(x), np.sort(x))
  np.testing.assert_array_equal(jnp.argsort(x), np.argsort(x, kind="stable"))


def test_sort_jaxpr_and_method_forwarding():
  x = jnp.array([3., 1., 2.])
  text = str(numjax.make_jaxpr(jnp.sort)(x))
  assert "sort[dimension=0 is_stable=True num_keys=1]" in text
  np.testing.assert_array_equal(x.sort(), [1., 2., 3.])
  np.testing.assert_array_equal(x.argsort(), [1, 2, 0])
  np.testing.assert_array_equal(jnp.array([1, 3, 5]).searchsorted(3), 1)
