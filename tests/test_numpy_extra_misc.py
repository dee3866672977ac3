"""jnp miscellany (append/insert/delete, diff/gradient/trapezoid/unwrap, cov/corrcoef,
histograms, bincount/digitize, choose/compress/extract/argwhere, vectorize &
apply_along_axis, packbits, vander, windows): NumPy parity through op records (jit, vmap
at every batch position, gradients against finite differences) plus JAX's semantics where
they differ from NumPy."""
import numpy as np
import pytest

import numjax
import numjax.numpy as jnp
from numjax import errors
from records import Rec, make_tests, uniform

F = ("float32",)
FI = ("float32", "int32")
SMALL_INT = uniform(-3, 3)
TOL4 = {"float32": 1e-4, "int32": 1e-5}
NONNEG = uniform(1, 5)  # integers 0..6
BITS = uniform(0, 1)


def _pad_rows(x, size, fill):
  x = np.asarray(x)
  if x.shape[0] >= size:
    return x[:size]
  return np.concatenate([x, np.full((size - x.shape[0],) + x.shape[1:], fill, x.dtype)])


def _idx(*v):
  return np.array(v)


RECORDS = [
    Rec("append", jnp.append, np.append, [((2, 3), (4,)), ((3,), ())], nargs=2, dtypes=FI,
        grad=1),
    Rec("append[axis]", lambda a, b: jnp.append(a, b, axis=1),
        lambda a, b: np.append(a, b, axis=1), [((2, 3), (2, 2))], nargs=2, grad=1),
    Rec("insert[int]", lambda x: jnp.insert(x, 1, 9.), lambda x: np.insert(x, 1, 9.),
        [(4,), (2, 3)], dtypes=FI, grad=1),
    Rec("insert[axis,values]", lambda x, v: jnp.insert(x, 2, v, axis=1),
        lambda x, v: np.insert(x, 2, v, axis=1), [((2, 3), (2,)), ((2, 3), ())], nargs=2,
        grad=1),
    Rec("insert[array]", lambda x, v: jnp.insert(x, _idx(3, 0, 3), v),
        lambda x, v: np.insert(x, _idx(3, 0, 3), v), [((4,), (3,))], nargs=2, dtypes=FI,
        grad=1),
    Rec("insert[slice]", lambda x: jnp.insert(x, slice(0, 3), -1.),
        lambda x: np.insert(x, slice(0, 3), -1.), [(5,)], grad=1),
    Rec("delete[int]", lambda x: jnp.delete(x, -2, axis=0), lambda x: np.delete(x, -2, axis=0),
        [(5,), (4, 2)], dtypes=FI, grad=1),
    Rec("delete[slice]", lambda x: jnp.delete(x, slice(1, None, 2)),
        lambda x: np.delete(x, slice(1, None, 2)), [(3, 3)], grad=1),
    Rec("delete[array]", lambda x: jnp.delete(x, _idx(0, 2, 2), axis=1),
        lambda x: np.delete(x, _idx(0, 2, 2), axis=1), [(2, 4)], dtypes=FI, grad=1),
    Rec("delete[unique]", lambda x: jnp.delete(x, _idx(3, 0), assume_unique_indices=True),
        lambda x: np.delete(x, _idx(3, 0)), [(6,)], grad=1),
    Rec("diff", jnp.diff, np.diff, [(5,), (3, 4)], dtypes=("float32", "int32", "bool"),
        grad=1),
    Rec("diff[n2,axis0,prepend]", lambda x: jnp.diff(x, n=2, axis=0, prepend=1.),
        lambda x: np.diff(x, n=2, axis=0, prepend=1.), [(4, 3)], grad=1),
    Rec("diff[append]", lambda x, y: jnp.diff(x, append=y), lambda x, y: np.diff(x, append=y),
        [((2, 3), (2, 2))], nargs=2, grad=1),
    Rec("ediff1d", lambda x: jnp.ediff1d(x, to_begin=_idx(-1, -2), to_end=5),
        lambda x: np.ediff1d(x, to_begin=_idx(-1, -2), to_end=5), [(4,), (2, 3)], dtypes=FI,
        grad=1),
    Rec("gradient", jnp.gradient, np.gradient, [(5,)], dtypes=FI, grad=1),
    Rec("gradient[2d,spacing]", lambda x: jnp.gradient(x, 0.5, 2.0),
        lambda x: np.gradient(x, 0.5, 2.0), [(3, 4)], grad=1),
    Rec("gradient[coords,axis]",
        lambda x, c: jnp.gradient(x, jnp.cumsum(jnp.abs(c) + 0.5), axis=1),
        lambda x, c: np.gradient(x, np.cumsum(np.abs(c) + 0.5), axis=1),
        [((2, 5), (5,))], nargs=2, grad=1),
    Rec("trapezoid", jnp.trapezoid, np.trapezoid, [(5,), (3, 4)], dtypes=FI, grad=1),
    Rec("trapezoid[x]", lambda y, x: jnp.trapezoid(y, x, axis=0),
        lambda y, x: np.trapezoid(y, x, axis=0), [((4, 2), (4,)), ((4, 2), (4, 2))], nargs=2,
        grad=1),
    Rec("unwrap", jnp.unwrap, np.unwrap, [(8,), (2, 6)], domain=uniform(-9, 9), grad=1),
    Rec("unwrap[period,axis]", lambda x: jnp.unwrap(x, discont=3, axis=0, period=4),
        lambda x: np.unwrap(x, discont=3, axis=0, period=4), [(6, 2)],
        domain=uniform(-9, 9), grad=1),
    Rec("cov", jnp.cov, np.cov, [(3, 6), (5,)], dtypes=FI, grad=1, tol=TOL4),
    Rec("cov[y,rowvar,bias]", lambda x, y: jnp.cov(x, y, rowvar=False, bias=True),
        lambda x, y: np.cov(x, y, rowvar=False, bias=True), [((6, 2), (6, 2))], nargs=2,
        grad=1, tol=TOL4),
    Rec("cov[weights]",
        lambda x: jnp.cov(x, ddof=2, fweights=_idx(1, 2, 1, 3, 1), aweights=jnp.arange(1., 6)),
        lambda x: np.cov(x, ddof=2, fweights=_idx(1, 2, 1, 3, 1), aweights=np.arange(1., 6)),
        [(2, 5)], grad=1, tol=TOL4),
    Rec("corrcoef", jnp.corrcoef, np.corrcoef, [(3, 6)], grad=1, tol=TOL4),
    Rec("histogram[range]", lambda x: jnp.histogram(x, bins=4, range=(-3, 3)),
        lambda x: np.histogram(x, bins=4, range=(-3, 3)), [(20,), (3, 5)], dtypes=FI,
        check_dtype=False),
    Rec("histogram[edges,weights,density]",
        lambda x, w: jnp.histogram(x, bins=_idx(-3., -1, 0, 2, 3), weights=w, density=True),
        lambda x, w: np.histogram(x, bins=_idx(-3., -1, 0, 2, 3), weights=w, density=True),
        [((12,), (12,))], nargs=2, check_dtype=False),
    Rec("histogram[data_range]", lambda x: jnp.histogram(x, bins=5),
        lambda x: np.histogram(x, bins=5), [(15,)], check_dtype=False),
    Rec("histogram_bin_edges", lambda x: jnp.histogram_bin_edges(x, 6),
        lambda x: np.histogram_bin_edges(x, 6), [(9,)], dtypes=FI, check_dtype=False,
        tol={"int32": 1e-6}),
    Rec("histogram2d", lambda x, y: jnp.histogram2d(x, y, bins=(3, 2), range=[(-3, 3), (-3, 3)]),
        lambda x, y: np.histogram2d(x, y, bins=(3, 2), range=[(-3, 3), (-3, 3)]),
        [((10,), (10,))], nargs=2, check_dtype=False),
    Rec("histogramdd[density]",
        lambda s: jnp.histogramdd(s, bins=3, range=[(-3, 3)] * 3, density=True),
        lambda s: np.histogramdd(s, bins=3, range=[(-3, 3)] * 3, density=True), [(16, 3)],
        check_dtype=False),
    Rec("bincount[length]", lambda x: jnp.bincount(x, length=8),
        lambda x: np.bincount(x, minlength=8)[:8], [(10,)], dtypes=("int32", "uint8"),
        domain=NONNEG, check_dtype=False),
    Rec("bincount[weights]", lambda x, w: jnp.bincount(jnp.abs(x).astype(int), w, length=6),
        lambda x, w: np.bincount(np.abs(x).astype(int), w, minlength=6)[:6],
        [((9,), (9,))], nargs=2, domain=SMALL_INT, grad=1),
    Rec("digitize", lambda x: jnp.digitize(x, _idx(-1., 0, 2)),
        lambda x: np.digitize(x, _idx(-1., 0, 2)).astype(np.int32), [(7,), (2, 3)],
        dtypes=FI, domain=SMALL_INT),
    Rec("digitize[decreasing,right]", lambda x: jnp.digitize(x, _idx(2., 0, -1), right=True),
        lambda x: np.digitize(x, _idx(2., 0, -1), right=True).astype(np.int32), [(7,)],
        dtypes=FI, domain=SMALL_INT),
    Rec("choose[clip]", lambda i, a, b: jnp.choose(i.astype(int), [a, b], mode="clip"),
        lambda i, a, b: np.choose(i.astype(int), [a, b], mode="clip"),
        [((5,), (5,), (5,)), ((2, 3), (3,), ())], nargs=3, domain=SMALL_INT, grad=1),
    Rec("choose[wrap]", lambda i, a, b: jnp.choose(i.astype(int), [a, b], mode="wrap"),
        lambda i, a, b: np.choose(i.astype(int), [a, b], mode="wrap"), [((6,), (6,), (6,))],
        nargs=3, domain=SMALL_INT, dtypes=FI),
    Rec("compress[size]", lambda x: jnp.compress(_idx(1, 0, 1, 1), x, axis=1, size=2),
        lambda x: np.compress(_idx(1, 0, 1, 1), x, axis=1)[:, :2], [(2, 4)], dtypes=FI,
        grad=1),
    Rec("compress[fill]", lambda x: jnp.compress(x > 0, x, size=6, fill_value=-9),
        lambda x: _pad_rows(np.compress(x > 0, x), 6, -9), [(6,)], dtypes=FI),
    Rec("extract[size]", lambda x: jnp.extract(x > 0, x, size=6, fill_value=7),
        lambda x: _pad_rows(np.extract(x > 0, x), 6, 7), [(2, 3)], dtypes=FI),
    Rec("argwhere[size]", lambda x: jnp.argwhere(x > 0, size=5, fill_value=-1),
        lambda x: _pad_rows(np.argwhere(x > 0), 5, -1).astype(np.int32), [(2, 3), (6,)],
        dtypes=FI, check_dtype=False),
    Rec("flatnonzero[size]", lambda x: jnp.flatnonzero(x, size=4),
        lambda x: _pad_rows(np.flatnonzero(x), 4, 0).astype(np.int32), [(2, 3)],
        dtypes=FI, domain=SMALL_INT, check_dtype=False),
    Rec("apply_along_axis", lambda x: jnp.apply_along_axis(lambda v: v * v.sum(), 1, x),
        lambda x: np.apply_along_axis(lambda v: v * v.sum(), 1, x), [(2, 3, 4)], grad=1),
    Rec("apply_along_axis[scalar]", lambda x: jnp.apply_along_axis(jnp.max, 0, x),
        lambda x: np.apply_along_axis(np.max, 0, x), [(3, 2)], dtypes=FI, grad=1),
    Rec("apply_over_axes", lambda x: jnp.apply_over_axes(jnp.sum, x, (0, 2)),
        lambda x: np.apply_over_axes(np.sum, x, (0, 2)), [(2, 3, 4)], grad=1),
    Rec("vectorize", lambda a, b: jnp.vectorize(lambda u, v: u * 2 + v)(a, b),
        lambda a, b: np.vectorize(lambda u, v: u * 2 + v)(a, b), [((2, 3), (3,)), ((), (4,))],
        nargs=2, grad=1),
    Rec("vectorize[signature]",
        lambda a, b: jnp.vectorize(jnp.dot, signature="(n),(n)->()")(a, b),
        lambda a, b: np.vectorize(np.dot, signature="(n),(n)->()")(a, b),
        [((4, 3), (3,)), ((2, 1, 3), (5, 3))], nargs=2, grad=1),
    Rec("vectorize[matmul_outer]",
        lambda a: jnp.vectorize(lambda m: (m @ m.T, m.sum()), signature="(m,n)->(m,m),()")(a),
        lambda a: np.vectorize(lambda m: (m @ m.T, m.sum()), signature="(m,n)->(m,m),()")(a),
        [(2, 2, 3)], grad=1),
    Rec("packbits", jnp.packbits, np.packbits, [(11,), (2, 9)], dtypes=("bool", "int32"),
        domain=BITS),
    Rec("packbits[axis,little]", lambda x: jnp.packbits(x, axis=0, bitorder="little"),
        lambda x: np.packbits(x, axis=0, bitorder="little"), [(10, 3)], dtypes=("uint8",),
        domain=BITS),
    Rec("unpackbits", jnp.unpackbits, np.unpackbits, [(3,), (2, 2)], dtypes=("uint8",),
        domain=uniform(0, 254)),
    Rec("unpackbits[axis,count]", lambda x: jnp.unpackbits(x, axis=1, count=-3),
        lambda x: np.unpackbits(x, axis=1, count=-3), [(2, 2)], dtypes=("uint8",),
        domain=uniform(0, 254)),
    Rec("vander", jnp.vander, np.vander, [(4,)], dtypes=FI, domain=SMALL_INT, grad=1),
    Rec("vander[N,increasing]", lambda x: jnp.vander(x, 3, increasing=True),
        lambda x: np.vander(x, 3, increasing=True), [(5,)], grad=1),
]

test_numpy, test_jit, test_vmap, test_grad = make_tests(RECORDS)


@pytest.mark.parametrize("name", ["bartlett", "blackman", "hamming", "hanning"])
@pytest.mark.parametrize("M", [0, 1, 2, 7])
def test_windows(name, M):
  got = getattr(jnp, name)(M)
  assert got.dtype == np.float32 and got.shape == (M,)
  np.testing.assert_allclose(got, getattr(np, name)(M), atol=1e-6)


@pytest.mark.parametrize("M,beta", [(0, 1.), (1, 2.), (6, 5.), (9, 0.5)])
def test_kaiser(M, beta):
  np.testing.assert_allclose(jnp.kaiser(M, beta), np.kaiser(M, beta), rtol=1e-5, atol=1e-6)


def test_data_dependent_sizes_outside_jit():
  x = np.array([[0, 3, 0], [2, 0, 1]])
  np.testing.assert_array_equal(jnp.argwhere(x), np.argwhere(x))
  np.testing.assert_array_equal(jnp.flatnonzero(x), np.flatnonzero(x))
  np.testing.assert_array_equal(jnp.extract(x > 0, x), np.extract(x > 0, x))
  np.testing.assert_array_equal(jnp.compress(np.array([1, 0]), x, axis=0),
                                np.compress([1, 0], x, axis=0))
  np.testing.assert_array_equal(jnp.bincount(np.array([0, 1, 1, 4])),
                                np.bincount([0, 1, 1, 4]))
  np.testing.assert_array_equal(jnp.delete(np.arange(6), np.array([True, False] * 3)),
                                np.delete(np.arange(6), [True, False] * 3))
  for trim in ("fb", "f", "b"):
    np.testing.assert_array_equal(jnp.trim_zeros(np.array([0, 0, 1, 2, 0]), trim),
                                  np.trim_zeros(np.array([0, 0, 1, 2, 0]), trim))
  assert jnp.argwhere(np.array(3)).shape == np.argwhere(np.array(3)).shape


def test_jax_semantics_differing_from_numpy():
  # bincount: negative entries count in bin 0, entries past `length` are dropped
  np.testing.assert_array_equal(jnp.bincount(np.array([0, 1, -1, 9]), length=4), [2, 1, 0, 0])
  # histogram counts are floats; histogramdd counts are ints
  assert jnp.histogram(np.array([1, 2, 3]))[0].dtype == np.float32
  assert jnp.histogramdd(np.ones((3, 2)), bins=2)[0].dtype == np.int32
  # packbits: any nonzero entry is a 1 bit
  np.testing.assert_array_equal(jnp.packbits(np.array([-1, 0, 2])), [160])
  # diff of booleans: not_equal
  np.testing.assert_array_equal(jnp.diff(np.array([True, False, False])), [True, False])
  # cov of one variable is a scalar
  assert jnp.cov(np.array([1., 2., 4.])).shape == ()


def test_size_needed_under_jit():
  x = np.array([1, 0, 2])
  for fn in (jnp.argwhere, jnp.flatnonzero, lambda v: jnp.extract(v, v), jnp.bincount,
             jnp.trim_zeros, lambda v: jnp.delete(v, v)):
    with pytest.raises(errors.ConcretizationTypeError):
      numjax.jit(fn)(x)
  np.testing.assert_array_equal(numjax.jit(lambda v: jnp.bincount(v, length=4))(x),
                                [1, 1, 1, 0])


def test_errors_as_jax():
  with pytest.raises(ValueError, match="invalid entry in choice array"):
    jnp.choose(np.array([0, 5]), [np.arange(2), np.arange(2)])
  with pytest.raises(errors.ConcretizationTypeError):
    numjax.jit(lambda i: jnp.choose(i, [np.arange(2), np.arange(2)]))(np.array([0, 1]))
  with pytest.raises(ValueError, match="size must be positive"):
    jnp.extract(np.array([1, 0, 1]), np.array([4, 5, 6]), size=4)
  with pytest.raises(NotImplementedError, match="edge_order"):
    jnp.gradient(np.ones(3), edge_order=1)
  with pytest.raises(ValueError, match="at least 2 elements"):
    jnp.gradient(np.ones(1))
  with pytest.raises(TypeError, match="unsigned byte"):
    jnp.unpackbits(np.array([5]))
  with pytest.raises(TypeError, match="integer type"):
    jnp.bincount(np.array([1.5]))
  with pytest.raises(ValueError, match="index array must be integer"):
    jnp.insert(np.arange(3), np.array([1.5]), 0)


def test_vectorize_excluded_and_kwargs():
  f = jnp.vectorize(lambda x, p, scale=1.0: (x ** p) * scale, excluded={1})
  np.testing.assert_allclose(f(np.arange(3.), 2, scale=np.array([1., 2., 3.])),
                             np.arange(3.) ** 2 * np.array([1., 2., 3.]))
  with pytest.raises(ValueError, match="inconsistent size for core dimension"):
    jnp.vectorize(jnp.dot, signature="(n),(n)->()")(np.ones(3), np.ones(4))


def test_aliases_scalar_types_and_metadata():
  x = np.array([[1., -2.], [3., 0.5]], np.float32)
  np.testing.assert_array_equal(jnp.amax(x, 0), np.amax(x, 0))
  np.testing.assert_array_equal(jnp.amin(x, 1), np.amin(x, 1))
  np.testing.assert_allclose(jnp.atan2(x, 2.), np.arctan2(x, 2.), rtol=1e-6)
  np.testing.assert_allclose(jnp.pow(np.abs(x), 1.5), np.abs(x) ** 1.5, rtol=1e-6)
  assert jnp.iscomplexobj(np.ones(2, np.complex64)) and not jnp.iscomplexobj(x)
  assert jnp.isrealobj(x) and not jnp.isrealobj(np.ones(2, np.complex64))
  assert jnp.ndim(x) == 2 and jnp.size(x) == 4 and jnp.size(x, 0) == 2
  assert isinstance(jnp.asarray(x), jnp.ndarray)
  assert "1." in jnp.array_repr(np.array([1.])) and jnp.array_str(np.array([2])) == "[2]"
  with jnp.printoptions(precision=2):
    assert jnp.get_printoptions()["precision"] == 2
  old = jnp.get_printoptions()["precision"]
  jnp.set_printoptions(precision=old)
  for t, want in ((jnp.cdouble, np.complex128), (jnp.csingle, np.complex64),
                  (jnp.double, np.float64), (jnp.uint, np.uint64), (jnp.complex_, np.complex128)):
    assert np.dtype(t) == np.dtype(want)
  assert jnp.int1(1).dtype.itemsize == 1 and jnp.uint1(1).dtype.itemsize == 1
  for cls, dt in ((jnp.signedinteger, np.int8), (jnp.unsignedinteger, np.uint16),
                  (jnp.inexact, np.float32), (jnp.complexfloating, np.complex64),
                  (jnp.generic, np.bool_), (jnp.character, np.str_), (jnp.flexible, np.str_),
                  (jnp.object_, np.object_)):
    assert jnp.issubdtype(dt, cls)
  assert jnp.euler_gamma == np.euler_gamma and issubclass(jnp.ComplexWarning, Warning)


# (dtype, weak_type) of every output, recorded from JAX 0.10.2 with x64 off and on
_DTYPE_CASES = lambda x, f: {
    'argsort': jnp.argsort(x),
    'lexsort': jnp.lexsort([x]),
    'searchsorted': jnp.searchsorted(jnp.sort(x), x),
    'unique_all': jnp.unique(x, return_index=True, return_inverse=True, return_counts=True),
    'argwhere': jnp.argwhere(x),
    'flatnonzero': jnp.flatnonzero(x),
    'bincount': jnp.bincount(x),
    'digitize': jnp.digitize(f, jnp.array([0., 1.])),
    'hist': jnp.histogram(f),
    'argpartition': jnp.argpartition(x, 1),
    'ravel_multi': jnp.ravel_multi_index((x, x), (4, 4)),
    'unravel': jnp.unravel_index(x, (2, 2)),
    'tril_indices': jnp.tril_indices(2),
    'diag_indices': jnp.diag_indices(2),
    'mgrid': jnp.mgrid[0:2],
    'mgridf': jnp.mgrid[0:1:3j],
    'diff': jnp.diff(f),
    'cov': jnp.cov(f),
    'polyval': jnp.polyval(x, 2),
    'polyfit': jnp.polyfit(f, f, 1),
    'vander': jnp.vander(x),
    'hamming': jnp.hamming(3),
    'kaiser': jnp.kaiser(3, 1.0),
    'trapezoid': jnp.trapezoid(x),
    'gradient': jnp.gradient(x),
    'unique_w': jnp.unique(2.0 * jnp.ones(3)),
    'append_weak': jnp.append(jnp.array(1.0), 2.0),
    'packbits': jnp.packbits(x),
    'isin': jnp.isin(x, x),
    'setdiff': jnp.setdiff1d(x, x, size=2),
    'sort_complex': jnp.sort_complex(x),
    'poly': jnp.poly(x),
    'corrcoef': jnp.corrcoef(f),
    'interp_edges': jnp.histogram_bin_edges(x, 2),
    'choose': jnp.choose(jnp.array([0, 1]), [jnp.arange(2), jnp.arange(2.)]),
}
_JAX_X32 = {'append_weak': [('float32', True)],
            'argpartition': [('int32', False)],
            'argsort': [('int32', False)],
            'argwhere': [('int32', False)],
            'bincount': [('int32', False)],
            'choose': [('float32', False)],
            'corrcoef': [('float32', False)],
            'cov': [('float32', False)],
            'diag_indices': [('int32', False), ('int32', False)],
            'diff': [('float32', False)],
            'digitize': [('int32', False)],
            'flatnonzero': [('int32', False)],
            'gradient': [('float32', False)],
            'hamming': [('float32', False)],
            'hist': [('float32', False), ('float32', False)],
            'interp_edges': [('float32', False)],
            'isin': [('bool', False)],
            'kaiser': [('float32', False)],
            'lexsort': [('int32', False)],
            'mgrid': [('int32', False)],
            'mgridf': [('float32', False)],
            'packbits': [('uint8', False)],
            'poly': [('float32', False)],
            'polyfit': [('float32', False)],
            'polyval': [('int32', False)],
            'ravel_multi': [('int32', False)],
            'searchsorted': [('int32', False)],
            'setdiff': [('int32', False)],
            'sort_complex': [('complex64', False)],
            'trapezoid': [('float32', False)],
            'tril_indices': [('int32', False), ('int32', False)],
            'unique_all': [('int32', False), ('int32', False), ('int32', False), ('int32', False)],
            'unique_w': [('float32', False)],
            'unravel': [('int32', False), ('int32', False)],
            'vander': [('int32', False)]}
_JAX_X64 = {'append_weak': [('float64', True)],
            'argpartition': [('int32', False)],
            'argsort': [('int64', False)],
            'argwhere': [('int64', False)],
            'bincount': [('int64', False)],
            'choose': [('float64', False)],
            'corrcoef': [('float64', False)],
            'cov': [('float64', False)],
            'diag_indices': [('int64', False), ('int64', False)],
            'diff': [('float64', False)],
            'digitize': [('int32', False)],
            'flatnonzero': [('int64', False)],
            'gradient': [('float64', False)],
            'hamming': [('float64', False)],
            'hist': [('float64', False), ('float64', False)],
            'interp_edges': [('float64', False)],
            'isin': [('bool', False)],
            'kaiser': [('float64', False)],
            'lexsort': [('int64', False)],
            'mgrid': [('int64', False)],
            'mgridf': [('float64', False)],
            'packbits': [('uint8', False)],
            'poly': [('float64', False)],
            'polyfit': [('float64', False)],
            'polyval': [('int64', False)],
            'ravel_multi': [('int64', False)],
            'searchsorted': [('int32', False)],
            'setdiff': [('int64', False)],
            'sort_complex': [('complex128', False)],
            'trapezoid': [('float64', False)],
            'tril_indices': [('int64', False), ('int64', False)],
            'unique_all': [('int64', False), ('int64', False), ('int64', False), ('int64', False)],
            'unique_w': [('float64', False)],
            'unravel': [('int64', False), ('int64', False)],
            'vander': [('int64', False)]}


@pytest.mark.parametrize("x64", [False, True])
def test_result_dtypes_as_jax(x64):
  want = _JAX_X64 if x64 else _JAX_X32
  ctx = numjax.experimental.enable_x64() if x64 else numjax.experimental.enable_x64(False)
  with ctx:
    out = _DTYPE_CASES(jnp.array([3, 1, 2, 1]), jnp.array([0.5, 1.5, 0.2]))
    for k, v in out.items():
      leaves = v if isinstance(v, (tuple, list)) else [v]
      got = [(str(np.asarray(l).dtype), bool(getattr(l, "weak_type", False))) for l in leaves]
      assert got == want[k], (k, got, want[k])


_E, _E2, _S = np.zeros((0,), np.float32), np.zeros((2, 0), np.float32), np.float32(3.)
NAN = float("nan")


def _edge_cases(e, e2, s):
  return {
      'sort_e': lambda: jnp.sort(e),
      'sort_e2': lambda: jnp.sort(e2, axis=0),
      'argsort_e': lambda: jnp.argsort(e),
      'sort_s': lambda: jnp.sort(s),
      'argsort_s': lambda: jnp.argsort(s),
      'unique_e': lambda: jnp.unique(e),
      'unique_s': lambda: jnp.unique(s),
      'unique_e_size': lambda: jnp.unique(e, size=2, fill_value=1.),
      'diff_e': lambda: jnp.diff(e),
      'diff_s': lambda: jnp.diff(s),
      'cumsum': lambda: jnp.cumsum(e),
      'append_e': lambda: jnp.append(e, 1.),
      'insert_e': lambda: jnp.insert(e, 0, 1.),
      'delete_s': lambda: jnp.delete(np.arange(3), 1),
      'searchsorted_s': lambda: jnp.searchsorted(np.arange(3.), 1.5),
      'isin_s': lambda: jnp.isin(1, np.arange(3)),
      'bincount_e': lambda: jnp.bincount(np.zeros(0, np.int32)),
      'bincount_e_len': lambda: jnp.bincount(np.zeros(0, np.int32), length=3),
      'histogram_e': lambda: jnp.histogram(e, bins=3, range=(0, 1)),
      'argwhere_e': lambda: jnp.argwhere(e2),
      'gradient_s': lambda: jnp.gradient(s),
      'cov_e': lambda: jnp.cov(e2),
      'polyval_e': lambda: jnp.polyval(e, 2.),
      'vander_e': lambda: jnp.vander(e),
      'packbits_e': lambda: jnp.packbits(np.zeros(0, np.uint8)),
      'partition_e2': lambda: jnp.partition(np.zeros((2, 0)), 0, axis=0),
      'lexsort_s': lambda: jnp.lexsort([s]),
      'union_e': lambda: jnp.union1d(e, e),
      'intersect_e': lambda: jnp.intersect1d(e, np.ones(2, np.float32)),
      'setdiff_e': lambda: jnp.setdiff1d(e, e),
      'setxor_e': lambda: jnp.setxor1d(e, e),
      'ediff1d_e': lambda: jnp.ediff1d(e),
      'unwrap_e': lambda: jnp.unwrap(e),
      'digitize_s': lambda: jnp.digitize(s, np.arange(5.)),
      'choose_s': lambda: jnp.choose(1, [1., 2.], mode='clip'),
      'compress_e': lambda: jnp.compress(np.zeros(0, bool), e),
      'extract_e': lambda: jnp.extract(e, e),
      'trim_e': lambda: jnp.trim_zeros(np.zeros(3)),
      'roots_s': lambda: jnp.roots(np.array([2.])),
      'poly_e': lambda: jnp.poly(e),
      'unravel_s': lambda: jnp.unravel_index(5, (3, 4)),
      'ravel_s': lambda: jnp.ravel_multi_index((1, 2), (3, 4)),
      'mgrid_e': lambda: jnp.mgrid[0:0],
      'r_e': lambda: jnp.r_[np.zeros(0)],
      'fill_diag_e': lambda: jnp.fill_diagonal(np.zeros((0, 0)), 1., inplace=False),
      'apply_along_e': lambda: jnp.apply_along_axis(jnp.sum, 0, np.zeros((0, 2))),
  }


# (shape, dtype, values) per output, or the exception's class, recorded from JAX 0.10.2
_EDGE_JAX = {'append_e': [((1,), 'float32', [1.0])],
 'apply_along_e': [((2,), 'float32', [0.0, 0.0])],
 'argsort_e': [((0,), 'int32', [])],
 'argsort_s': 'ValueError',
 'argwhere_e': [((0, 2), 'int32', [])],
 'bincount_e': [((0,), 'int32', [])],
 'bincount_e_len': [((3,), 'int32', [0, 0, 0])],
 'choose_s': [((), 'float32', 2.0)],
 'compress_e': [((0,), 'float32', [])],
 'cov_e': [((2, 2), 'float32', [[NAN, NAN], [NAN, NAN]])],
 'cumsum': [((0,), 'float32', [])],
 'delete_s': [((2,), 'int32', [0, 2])],
 'diff_e': [((0,), 'float32', [])],
 'diff_s': 'ValueError',
 'digitize_s': [((), 'int32', 4)],
 'ediff1d_e': [((0,), 'float32', [])],
 'extract_e': [((0,), 'float32', [])],
 'fill_diag_e': [((0, 0), 'float32', [])],
 'gradient_s': [],
 'histogram_e': [((3,), 'float32', [0.0, 0.0, 0.0]),
                 ((4,), 'float32', [0.0, 0.3333333432674408, 0.6666666865348816, 1.0])],
 'insert_e': [((1,), 'float32', [1.0])],
 'intersect_e': [((0,), 'float32', [])],
 'isin_s': [((), 'bool', True)],
 'lexsort_s': [((), 'int32', 0)],
 'mgrid_e': [((0,), 'int32', [])],
 'packbits_e': [((0,), 'uint8', [])],
 'partition_e2': [((2, 0), 'float32', [[], []])],
 'poly_e': [((), 'float32', 1.0)],
 'polyval_e': [((), 'float32', 0.0)],
 'r_e': [((0,), 'float32', [])],
 'ravel_s': [((), 'int32', 6)],
 'roots_s': [((0,), 'complex64', [])],
 'searchsorted_s': [((), 'int32', 2)],
 'setdiff_e': [((0,), 'float32', [])],
 'setxor_e': [((0,), 'float32', [])],
 'sort_e': [((0,), 'float32', [])],
 'sort_e2': [((2, 0), 'float32', [[], []])],
 'sort_s': 'ValueError',
 'trim_e': [((0,), 'float32', [])],
 'union_e': [((0,), 'float32', [])],
 'unique_e': [((0,), 'float32', [])],
 'unique_e_size': [((2,), 'float32', [1.0, 1.0])],
 'unique_s': [((1,), 'float32', [3.0])],
 'unravel_s': [((), 'int32', 1), ((), 'int32', 1)],
 'unwrap_e': [((0,), 'float32', [])],
 'vander_e': [((0, 0), 'float32', [])]}


def test_empty_and_scalar_inputs_as_jax():
  got = {}
  for k, f in _edge_cases(_E, _E2, _S).items():
    try:
      r = f()
      leaves = r if isinstance(r, (tuple, list)) else [r]
      got[k] = [(np.asarray(l).shape, str(np.asarray(l).dtype), np.asarray(l).tolist())
                for l in leaves]
    except Exception as ex:
      got[k] = type(ex).__name__
  for k, want in _EDGE_JAX.items():
    assert repr(got[k]) == repr(want), (k, got[k], want)
