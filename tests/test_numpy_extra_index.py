"""jnp index helpers (mgrid/ogrid/r_/c_/s_/ix_, diagonal and triangle index sets,
ravel_multi_index/unravel_index, functional fill_diagonal/put/put_along_axis/place) and
polynomials (poly, polyval, polyadd/sub/mul/div, polyder/polyint, polyfit, roots): NumPy
parity through op records (jit, vmap, gradients), and JAX's departures from NumPy."""
import numpy as np
import pytest

import numjax
import numjax.numpy as jnp
from numjax import errors
from records import POSITIVE, Rec, make_tests, uniform

F = ("float32",)
FI = ("float32", "int32")


def _np_update(fn):
  """A NumPy in-place update applied to a copy, returning it."""
  def ref(x, *args):
    y = np.array(x, copy=True)
    fn(y, *args)
    return y
  return ref


def _np_polydiv(u, v):
  q, r = np.polydiv(u, v)
  return q, np.concatenate([np.zeros(len(u) - len(r), r.dtype), r])  # JAX keeps u's length


IDX = uniform(-4, 6)  # indices partly out of bounds

RECORDS = [
    Rec("fill_diagonal", lambda x, v: jnp.fill_diagonal(x, v, inplace=False),
        _np_update(np.fill_diagonal), [((3, 3), ()), ((4, 3), (2,)), ((2, 2, 2), ())],
        nargs=2, dtypes=FI, grad=1),
    Rec("put[clip]", lambda x, v: jnp.put(x, np.array([0, 7, -9]), v, inplace=False),
        _np_update(lambda y, v: np.put(y, [0, 7, -9], v, mode="clip")),
        [((2, 3), (3,)), ((5,), (2,))], nargs=2, dtypes=FI, grad=1),
    Rec("put[wrap]", lambda x, v: jnp.put(x, np.array([1, 8]), v, mode="wrap", inplace=False),
        _np_update(lambda y, v: np.put(y, [1, 8], v, mode="wrap")), [((5,), (2,))], nargs=2,
        grad=1),
    Rec("put_along_axis", lambda x, v: jnp.put_along_axis(x, np.array([[1], [0]]), v, axis=1,
                                                          inplace=False),
        _np_update(lambda y, v: np.put_along_axis(y, np.array([[1], [0]]), v, axis=1)),
        [((2, 3), (2, 1)), ((2, 4), ())], nargs=2, dtypes=FI, grad=1),
    Rec("place", lambda x, v: jnp.place(x, np.array([1, 0, 1, 1, 0], bool), v, inplace=False),
        _np_update(lambda y, v: np.place(y, np.array([1, 0, 1, 1, 0], bool), v)),
        [((5,), (2,)), ((5,), (4,))], nargs=2, dtypes=FI, grad=1),
    Rec("ravel_multi_index[clip]",
        lambda i, j: jnp.ravel_multi_index((i, j), (3, 4), mode="clip"),
        lambda i, j: np.ravel_multi_index((i, j), (3, 4), mode="clip"),
        [((5,), (5,)), ((2, 3), (2, 3))], nargs=2, dtypes=("int32",), domain=IDX,
        check_dtype=False),
    Rec("ravel_multi_index[wrap,F]",
        lambda i, j: jnp.ravel_multi_index((i, j), (3, 4), mode="wrap", order="F"),
        lambda i, j: np.ravel_multi_index((i, j), (3, 4), mode="wrap", order="F"),
        [((6,), (6,))], nargs=2, dtypes=("int32",), domain=IDX, check_dtype=False),
    Rec("unravel_index", lambda i: jnp.unravel_index(i, (3, 4)),
        lambda i: [a.astype(np.int32) for a in np.unravel_index(i, (3, 4))], [(6,), (2, 2)],
        dtypes=("int32",), domain=uniform(1, 10), check_dtype=False),
    Rec("polyval", jnp.polyval, np.polyval, [((4,), (3,)), ((3,), ()), ((1,), (2,))],
        nargs=2, dtypes=FI, grad=1, tol={"float32": 1e-5}),
    Rec("polyadd", jnp.polyadd, np.polyadd, [((3,), (5,)), ((4,), (2,))], nargs=2, dtypes=FI,
        grad=1),
    Rec("polysub", jnp.polysub, np.polysub, [((3,), (5,))], nargs=2, dtypes=FI, grad=1),
    Rec("polymul", jnp.polymul, np.polymul, [((3,), (4,))], nargs=2, dtypes=FI, grad=1,
        check_dtype=False, tol={"int32": 1e-6}),
    Rec("polydiv", jnp.polydiv, _np_polydiv, [((5,), (2,)), ((4,), (4,))], nargs=2,
        domain=POSITIVE, grad=1, tol={"float32": 1e-4}),
    Rec("polyder", lambda p: jnp.polyder(p, 2), lambda p: np.polyder(p, 2), [(5,), (2,)],
        dtypes=F, grad=1),
    Rec("polyint", lambda p: jnp.polyint(p, 2, k=np.array([1., -2.])),
        lambda p: np.polyint(p, 2, k=[1., -2.]), [(4,)], dtypes=F, grad=1),
    Rec("polyfit", lambda x, y: jnp.polyfit(x, y, 2), lambda x, y: np.polyfit(x, y, 2),
        [((8,), (8,)), ((8,), (8, 2))], nargs=2, tol={"float32": 2e-3}, grad=1,
        grad_tol=5e-2),
    Rec("polyfit[w]", lambda x, y, w: jnp.polyfit(x, y, 1, w=w),
        lambda x, y, w: np.polyfit(x, y, 1, w=w), [((7,), (7,), (7,))], nargs=3,
        domain=[uniform(), uniform(), POSITIVE], tol={"float32": 2e-3}),
    Rec("poly", jnp.poly, np.poly, [(3,), (1,)], dtypes=FI, grad=1, check_dtype=False,
        tol={"int32": 1e-6, "float32": 1e-5}),
    Rec("roots", lambda p: jnp.sort_complex(jnp.roots(p)),
        lambda p: np.sort_complex(np.roots(p)), [(3,), (5,)], tol={"float32": 1e-4},
        jit=False, vmap=False, check_dtype=False),
    Rec("roots[strip_zeros=False]",
        lambda p: jnp.sort_complex(jnp.roots(p, strip_zeros=False)),
        lambda p: np.sort_complex(np.roots(p)), [(4,)], tol={"float32": 1e-4},
        check_dtype=False),
]

test_numpy, test_jit, test_vmap, test_grad = make_tests(RECORDS)


def _eq(a, b):
  a = [np.asarray(x) for x in a] if isinstance(a, (list, tuple)) else np.asarray(a)
  b = [np.asarray(x) for x in b] if isinstance(b, (list, tuple)) else np.asarray(b)
  if isinstance(a, list):
    assert len(a) == len(b)
    for x, y in zip(a, b):
      np.testing.assert_array_equal(x, y)
  else:
    np.testing.assert_array_equal(a, b)


def test_grids():
  _eq(jnp.mgrid[0:3, 0:2], np.mgrid[0:3, 0:2])
  np.testing.assert_allclose(jnp.mgrid[0:1:3j, 0:2:0.5], np.mgrid[0:1:3j, 0:2:0.5])
  _eq(jnp.ogrid[0:3, 1:4:2], np.ogrid[0:3, 1:4:2])
  _eq(jnp.mgrid[-2:3], np.mgrid[-2:3])
  assert jnp.mgrid[0:3, 0:2].dtype == np.int32
  assert jnp.mgrid[0:1:3j].dtype == np.float32


def test_concatenators():
  a, b = np.array([1, 2]), np.array([3, 4])
  _eq(jnp.r_[1:4, 0, a], np.r_[1:4, 0, a])
  _eq(jnp.r_["0,2", [1, 2], [3, 4]], np.r_["0,2", [1, 2], [3, 4]])
  _eq(jnp.r_["1,2,0", [1, 2], [3, 4]], np.r_["1,2,0", [1, 2], [3, 4]])
  _eq(jnp.r_["-1", np.ones((2, 2)), np.zeros((2, 1))], np.r_["-1", np.ones((2, 2)),
                                                              np.zeros((2, 1))])
  _eq(jnp.c_[a, b], np.c_[a, b])
  _eq(jnp.c_[np.ones((2, 2)), 3 * np.ones((2, 1))], np.c_[np.ones((2, 2)), 3 * np.ones((2, 1))])
  np.testing.assert_allclose(jnp.r_[0:1:5j], np.r_[0:1:5j])
  _eq(jnp.r_["r", [1, 2]], [[1, 2]])
  assert jnp.s_[1:2, ::3] == np.s_[1:2, ::3]
  assert jnp.index_exp[1] == np.index_exp[1]


def test_index_sets():
  _eq(jnp.ix_(np.array([0, 1]), np.array([2, 4, 5])), np.ix_([0, 1], [2, 4, 5]))
  _eq(jnp.diag_indices(3), np.diag_indices(3))
  _eq(jnp.diag_indices(2, ndim=3), np.diag_indices(2, ndim=3))
  _eq(jnp.diag_indices_from(np.ones((3, 3))), np.diag_indices_from(np.ones((3, 3))))
  for k in (-1, 0, 2):
    _eq(jnp.tril_indices(4, k), np.tril_indices(4, k))
    _eq(jnp.triu_indices(3, k, 5), np.triu_indices(3, k, 5))
    _eq(jnp.tril_indices_from(np.ones((3, 4)), k), np.tril_indices_from(np.ones((3, 4)), k))
    _eq(jnp.triu_indices_from(np.ones((4, 3)), k), np.triu_indices_from(np.ones((4, 3)), k))
  _eq(jnp.mask_indices(3, jnp.triu), np.mask_indices(3, np.triu))
  _eq(jnp.mask_indices(4, jnp.tril, -1), np.mask_indices(4, np.tril, -1))
  assert jnp.tril_indices(3)[0].dtype == np.int32


def test_functional_updates_as_jax():
  # duplicate indices: the last write wins
  _eq(jnp.put(jnp.zeros(5), np.array([1, 2, 1]), np.array([3., 4., 9.]), inplace=False),
      [0., 9., 4., 0., 0.])
  # out-of-range unravel_index entries clip (negative ones past -1 go to 0)
  _eq(jnp.unravel_index(np.array([3, 13, -1, -20]), (3, 4)), ([0, 2, 2, 0], [3, 3, 3, 0]))
  with pytest.raises(NotImplementedError, match="inplace=False"):
    jnp.fill_diagonal(jnp.zeros((3, 3)), 1)
  with pytest.raises(NotImplementedError, match="wrap=True"):
    jnp.fill_diagonal(jnp.zeros((3, 3)), 1, wrap=True, inplace=False)
  for fn in (lambda: jnp.put(jnp.zeros(3), np.array([0]), 1.),
             lambda: jnp.place(jnp.zeros(3), np.ones(3, bool), 1.),
             lambda: jnp.put_along_axis(jnp.zeros((2, 2)), np.zeros((2, 1), int), 1., 1)):
    with pytest.raises(ValueError, match="immutable"):
      fn()
  with pytest.raises(NotImplementedError, match="'raise' mode"):
    jnp.put(jnp.zeros(3), np.array([0]), 1., mode="raise", inplace=False)
  with pytest.raises(NotImplementedError, match="Boolean"):
    jnp.ix_(np.array([True, False]))


def test_ravel_multi_index_raise_mode():
  _eq(jnp.ravel_multi_index((np.array([1, 2]), np.array([0, 3])), (3, 4)), [4, 11])
  with pytest.raises(ValueError, match="invalid entry in coordinates array"):
    jnp.ravel_multi_index((np.array([1, 5]), np.array([0, 3])), (3, 4))
  with pytest.raises(errors.ConcretizationTypeError, match="mode='wrap' or mode='clip'"):
    numjax.jit(lambda i: jnp.ravel_multi_index((i, i), (3, 4)))(np.array([1, 2]))


def test_polynomial_jax_details():
  # dtypes as JAX: sums keep integers, products/derivatives/integrals become floats
  assert jnp.polyadd(np.array([1, 2]), np.array([1, 2, 3])).dtype == np.int32
  assert jnp.polymul(np.array([1, 2]), np.array([1, 2, 3])).dtype == np.float32
  assert jnp.polyder(np.array([1, 2, 3])).dtype == np.float32
  assert jnp.polyval(np.array([1, 2, 3]), np.array([2, 3])).dtype == np.int32
  _eq(jnp.polymul(np.array([0., 1, 2]), np.array([1, 2, 3])), [0., 1, 4, 7, 6])
  _eq(jnp.polymul(np.array([0., 1, 2]), np.array([1, 2, 3]), trim_leading_zeros=True),
      [1., 4, 7, 6])
  np.testing.assert_allclose(jnp.poly(np.array(3.)), [1., -3.])
  # polyfit extras
  x, y = np.arange(6.), np.array([1., 3, 7, 13, 20, 31])
  c, res, rank, sv, rcond = jnp.polyfit(x, y, 2, full=True)
  c_np, res_np, rank_np, sv_np, rcond_np = np.polyfit(x, y, 2, full=True)
  np.testing.assert_allclose(c, c_np, rtol=1e-3, atol=1e-3)
  np.testing.assert_allclose(res, res_np, rtol=1e-2)
  assert int(rank) == rank_np
  c, cov = jnp.polyfit(x, y, 1, cov=True)
  np.testing.assert_allclose(cov, np.polyfit(x, y, 1, cov=True)[1], rtol=1e-3)
  # roots with leading zeros kept: NaN roots at the end
  r = np.asarray(jnp.roots(np.array([0., 0, 1, -3, 2]), strip_zeros=False))
  np.testing.assert_allclose(np.sort_complex(r[:2]), [1., 2.], rtol=1e-5)
  assert np.isnan(r[2:]).all()
