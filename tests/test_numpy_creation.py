"""jnp array creation and scalar types: values against NumPy, result dtypes and weak types
against a golden recorded from JAX 0.10.2 (both x64 modes), lists holding tracers under
jit/vmap/grad, errors."""
import json
import os
import warnings

import numpy as np
import pytest

import numjax
import numjax.numpy as jnp
from numjax import errors
from numjax.experimental import enable_x64

from records import Rec, make_tests

HERE = os.path.dirname(__file__)
GOLDEN = json.load(open(os.path.join(HERE, "data", "jnp_part_a_golden.json")))


def _creation_cases():
  # The cases are defined once, in the recording script (which the test reads, not runs).
  src = open(os.path.join(HERE, "data", "record_jnp_part_a_golden.py")).read()
  start = src.index("  cases = {")
  end = src.index("  }\n", start)
  ns = {"jnp": jnp}
  exec("cases = {" + src[start + len("  cases = {"):end] + "}", ns)  # noqa: S102
  return ns["cases"]


def _describe(r):
  if isinstance(r, (tuple, list)):
    return [_describe(x) for x in r]
  return str(r.dtype) + (" weak" if getattr(r, "weak_type", False) else "")


@pytest.mark.parametrize("mode", ["x64_off", "x64_on"])
def test_creation_dtypes_match_jax_golden(mode):
  cases = _creation_cases()
  assert len(cases) == len(GOLDEN[mode]["creation"])
  bad = []
  with enable_x64(mode == "x64_on"), warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for name, f in cases.items():
      got = _describe(f())
      if got != GOLDEN[mode]["creation"][name]:
        bad.append(f"{name}: got {got}, JAX gives {GOLDEN[mode]['creation'][name]}")
  assert not bad, "\n".join(bad)


# ---------------------------------------------------------------------------------------
# Op records: creation functions of array arguments (NumPy, jit, vmap, grads)

RECORDS = [
    Rec("tril", jnp.tril, np.tril, [(3, 3), (2, 4), (2, 3, 3)], dtypes=("float32", "int32"),
        grad=1),
    Rec("tril_k", lambda m: jnp.tril(m, k=-1), lambda m: np.tril(m, k=-1), [(3, 4)], grad=1),
    Rec("triu", jnp.triu, np.triu, [(3, 3), (4, 2), (2, 3, 3)], dtypes=("float32", "bool"),
        grad=1),
    Rec("triu_k", lambda m: jnp.triu(m, 1), lambda m: np.triu(m, 1), [(3, 3)], grad=1),
    Rec("zeros_like", jnp.zeros_like, np.zeros_like, [(), (0,), (2, 3)],
        dtypes=("float32", "int8", "bool", "bfloat16", "complex64")),
    Rec("ones_like", jnp.ones_like, np.ones_like, [(), (2, 3)], dtypes=("float32", "uint8")),
    Rec("full_like", lambda a: jnp.full_like(a, 7), lambda a: np.full_like(a, 7),
        [(), (3,)], dtypes=("float32", "int32")),
    Rec("array_of_list", lambda a, b: jnp.array([a, b, a]), lambda a, b: np.array([a, b, a]),
        [(3,), (2, 2), ()], nargs=2, grad=2),
    Rec("asarray", jnp.asarray, np.asarray, [(), (2, 3)], dtypes=("float32", "int16"), grad=1),
    Rec("linspace", lambda a, b: jnp.linspace(a, b, 5), lambda a, b: np.linspace(a, b, 5),
        [((), ()), ((3,), (3,)), ((2,), ())], nargs=2, grad=2,
        domain=[lambda r, s, d: r.uniform(-2, 0, s).astype(d),
                lambda r, s, d: r.uniform(1, 3, s).astype(d)]),
    Rec("linspace_axis1", lambda a, b: jnp.linspace(a, b, 4, endpoint=False, axis=-1),
        lambda a, b: np.linspace(a, b, 4, endpoint=False, axis=-1), [((2,), (2,))], nargs=2,
        grad=2),
    Rec("logspace", lambda a, b: jnp.logspace(a, b, 4), lambda a, b: np.logspace(a, b, 4),
        [((), ()), ((2,), (2,))], nargs=2, grad=2, tol={"float32": 2e-5},
        domain=[lambda r, s, d: r.uniform(-1, 0, s).astype(d),
                lambda r, s, d: r.uniform(0.5, 1, s).astype(d)]),
    Rec("geomspace", lambda a, b: jnp.geomspace(a, b, 4), lambda a, b: np.geomspace(a, b, 4),
        [((), ()), ((2,), (2,))], nargs=2, grad=2, tol={"float32": 2e-5},
        domain=[lambda r, s, d: r.uniform(0.5, 1, s).astype(d),
                lambda r, s, d: r.uniform(2, 4, s).astype(d)]),
    Rec("meshgrid", lambda a, b: tuple(jnp.meshgrid(a, b)), lambda a, b: tuple(np.meshgrid(a, b)),
        [((3,), (2,))], nargs=2, grad=1),
    Rec("meshgrid_ij_sparse", lambda a, b: tuple(jnp.meshgrid(a, b, indexing="ij", sparse=True)),
        lambda a, b: tuple(np.meshgrid(a, b, indexing="ij", sparse=True)), [((3,), (2,))],
        nargs=2, grad=1),
]

test_numpy, test_jit, test_vmap, test_grad = make_tests(RECORDS)


# ---------------------------------------------------------------------------------------
# array / asarray

def test_array_from_python_values():
  np.testing.assert_array_equal(jnp.array([[1, 2], [3, 4]]), [[1, 2], [3, 4]])
  assert jnp.array([1, 2.5]).dtype == np.float32
  assert jnp.array([True, 2]).dtype == np.int32
  assert jnp.array([1, 2], dtype=jnp.uint8).dtype == np.uint8
  assert jnp.array(np.float64(2.0)).dtype == np.float32 and not jnp.array(np.float64(2)).weak_type
  assert jnp.array((1, 2)).shape == (2,)
  assert jnp.array([]).dtype == np.float32 and jnp.array([]).shape == (0,)
  assert jnp.array(3, ndmin=2).shape == (1, 1) and jnp.array([1, 2], ndmin=3).shape == (1, 1, 2)
  np.testing.assert_array_equal(jnp.array([jnp.int8(1), 2]), [1, 2])
  assert jnp.array([jnp.int8(1), 2]).dtype == np.int8
  np.testing.assert_array_equal(jnp.array([jnp.arange(2), np.arange(2) + 2]), [[0, 1], [2, 3]])
  assert jnp.array(2.5, dtype=jnp.int32).dtype == np.int32 and int(jnp.array(2.7, dtype=int)) == 2
  np.testing.assert_array_equal(jnp.array([1.5, 0.0], dtype=bool), [True, False])
  assert jnp.array(1 + 2j).dtype == np.complex64


def test_array_copy_semantics():
  x = jnp.arange(3)
  assert jnp.asarray(x) is x
  assert jnp.array(x, copy=False) is x
  y = jnp.array(x)
  assert y is not x and y._value is not x._value
  np.testing.assert_array_equal(y, x)
  assert jnp.asarray(x, dtype=jnp.float32).dtype == np.float32


def test_array_errors():
  with pytest.raises(ValueError, match="None is not a valid value for jnp.array"):
    jnp.array([1, None])
  with pytest.raises(TypeError, match="not a valid JAX array type"):
    jnp.array("abc")
  with pytest.raises(TypeError, match="not a valid JAX array type"):
    jnp.array(object())
  with pytest.raises(ValueError, match="inhomogeneous"):
    jnp.array([[1, 2], [3]])
  with pytest.raises(OverflowError):
    jnp.array(2 ** 40)
  with pytest.raises(OverflowError):
    jnp.array([1, 2 ** 40])
  with pytest.raises(NotImplementedError, match="order='K'"):
    jnp.array([1], order="F")
  with pytest.warns(UserWarning, match="Explicitly requested dtype float64"):
    jnp.array([1.0], dtype=np.float64)


def test_array_of_list_holding_tracers():
  def f(x):
    return jnp.array([[x, 2 * x], [3.0, x * x]])
  out = numjax.jit(f)(2.0)
  np.testing.assert_array_equal(out, [[2, 4], [3, 4]])
  g = numjax.grad(lambda x: f(x).sum())(2.0)
  assert float(g) == 1 + 2 + 4
  vs = numjax.vmap(f)(jnp.arange(3.0))
  assert vs.shape == (3, 2, 2)
  np.testing.assert_array_equal(vs[:, 1, 1], [0, 1, 4])
  jaxpr = str(numjax.make_jaxpr(lambda x: jnp.array([x, x]))(jnp.float32(1)))
  assert "concatenate[dimension=0]" in jaxpr
  with pytest.raises(ValueError, match="inhomogeneous"):
    numjax.jit(lambda x: jnp.array([x, jnp.stack([x, x])]))(1.0)


def test_array_of_many_tracers():
  out = numjax.jit(lambda x: jnp.array([x + i for i in range(40)]))(1.0)
  np.testing.assert_array_equal(out, np.arange(40) + 1.0)


def test_jax_array_protocol_and_ducks():
  class Duck:
    def __jax_array__(self):
      return jnp.arange(3.0)
  np.testing.assert_array_equal(jnp.array(Duck()), [0, 1, 2])
  np.testing.assert_array_equal(jnp.asarray([Duck(), Duck()]), [[0, 1, 2]] * 2)
  spec = numjax.ShapeDtypeStruct((2, 3), jnp.int16)
  z = jnp.zeros_like(spec)
  assert z.shape == (2, 3) and z.dtype == np.int16


def test_copy():
  x = jnp.arange(3.0)
  c = jnp.copy(x)
  np.testing.assert_array_equal(c, x)
  assert c is not x
  with pytest.raises(TypeError, match="copy requires ndarray"):
    jnp.copy([1, 2])


# ---------------------------------------------------------------------------------------
# Filled arrays

@pytest.mark.parametrize("shape", [(), 0, 3, (2, 3), (2, 0, 1), [4], np.int64(2)])
@pytest.mark.parametrize("dtype", [None, "int8", "bool", "bfloat16", "complex64", int, float])
def test_zeros_ones_full_empty(shape, dtype):
  exp_dt = np.dtype(jnp.float32) if dtype is None else (
      np.dtype("int32") if dtype is int else np.dtype("float32") if dtype is float else
      np.dtype(jnp.bfloat16.dtype) if dtype == "bfloat16" else np.dtype(dtype))
  np_shape = tuple(shape) if isinstance(shape, list) else shape
  for f, ref in ((jnp.zeros, 0), (jnp.ones, 1), (jnp.empty, 0)):
    out = f(shape, dtype)
    assert out.dtype == exp_dt and not out.weak_type
    np.testing.assert_array_equal(np.asarray(out, np.complex128),
                                  np.full(np_shape, ref, np.complex128))
  out = jnp.full(shape, 2, dtype)
  assert out.shape == np.zeros(np_shape).shape
  if dtype is None:  # the fill value's type: a weak int
    exp_dt = np.dtype(np.int32)
    assert out.weak_type
  assert out.dtype == exp_dt
  np.testing.assert_array_equal(np.asarray(out, np.complex128),
                                np.full(np_shape, 2).astype(exp_dt).astype(np.complex128))


def test_full_broadcasts_array_fill():
  out = jnp.full((2, 3), jnp.arange(3))
  np.testing.assert_array_equal(out, np.full((2, 3), np.arange(3)))
  assert jnp.full((2,), np.array([1.5, 2.5]), dtype=jnp.float16).dtype == np.float16
  with pytest.raises(ValueError):
    jnp.full((2,), jnp.arange(3))


def test_like_functions():
  a = jnp.arange(6, dtype=jnp.int16).reshape(2, 3)
  assert jnp.zeros_like(a, dtype=jnp.float32).dtype == np.float32
  assert jnp.ones_like(a, shape=(4,)).shape == (4,)
  np.testing.assert_array_equal(jnp.full_like(a, 2.7), np.full_like(np.asarray(a), 2.7))
  np.testing.assert_array_equal(jnp.full_like(a, np.arange(3)), np.tile(np.arange(3), (2, 1)))
  assert jnp.empty_like(a).dtype == np.int16
  assert jnp.zeros_like(2).weak_type and jnp.zeros_like(2).dtype == np.int32
  with pytest.raises(TypeError, match="zeros_like requires ndarray"):
    jnp.zeros_like([1, 2])


def test_shape_errors():
  with pytest.raises(TypeError, match=r"Did you accidentally write `jax.numpy.zeros\(2, 3\)`"):
    jnp.zeros(2, 3)
  with pytest.raises(TypeError, match="Shapes must be 1D sequences of concrete values of "
                     "integer type"):
    jnp.zeros((2.0,))
  with pytest.raises(TypeError, match="nonnegative"):
    jnp.ones(-1)
  with pytest.raises(TypeError, match="Shapes must be 1D sequences of concrete values"):
    numjax.jit(lambda n: jnp.zeros(n))(3)
  with pytest.raises(TypeError, match="expected sequence object"):
    jnp.zeros(d for d in (1, 2))
  np.testing.assert_array_equal(numjax.jit(lambda n: jnp.zeros(n), static_argnums=0)(3),
                                np.zeros(3))


# ---------------------------------------------------------------------------------------
# Ranges

@pytest.mark.parametrize("args,kw", [
    ((5,), {}), ((5.0,), {}), ((2, 9), {}), ((1, 5, 0.5), {}), ((10, 0, -3), {}),
    ((0.1, 1.0, 0.3), {}), ((-2.5, 2.5), {}), ((3,), {"dtype": "int8"}),
    ((0, 3), {"dtype": "float16"}), ((0, 1, 0.25), {"dtype": "bfloat16"}), ((0,), {}),
    ((5, 2), {}), ((np.int16(4),), {}), ((0, 10, 3), {"dtype": float}),
])
def test_arange_matches_numpy(args, kw):
  out = jnp.arange(*args, **kw)
  np_kw = dict(kw)
  if np_kw.get("dtype") == "bfloat16":
    np_kw["dtype"] = np.float32
  ref = np.arange(*args, **np_kw)
  np.testing.assert_allclose(np.asarray(out, np.float64), ref.astype(np.float64), rtol=1e-6)


def test_arange_dtypes_and_errors():
  assert jnp.arange(jnp.int8(3)).dtype == np.int8
  assert jnp.arange(3).dtype == np.int32 and not jnp.arange(3).weak_type
  assert jnp.arange(0.5, 3).dtype == np.float32
  with enable_x64():
    assert jnp.arange(3).dtype == np.int64 and jnp.arange(3.0).dtype == np.float64
  with pytest.raises(ValueError, match="arguments must be scalars"):
    jnp.arange(jnp.array([1, 2]))
  with pytest.raises(errors.ConcretizationTypeError, match="jnp.arange argument 'stop'"):
    numjax.jit(lambda n: jnp.arange(n))(3)
  with pytest.raises(ValueError, match="complex"):
    jnp.arange(1j)
  with pytest.raises(TypeError, match="arange requires ndarray, scalar, or None"):
    jnp.arange([3])
  np.testing.assert_array_equal(numjax.jit(lambda n: jnp.arange(n), static_argnums=0)(4),
                                np.arange(4))


@pytest.mark.parametrize("kw", [
    dict(num=5), dict(num=5, endpoint=False), dict(num=1), dict(num=1, endpoint=False),
    dict(num=0), dict(num=7, dtype=np.float16), dict(num=4, retstep=True),
    dict(num=4, endpoint=False, retstep=True), dict(num=2),
])
def test_linspace_matches_numpy(kw):
  with np.errstate(all="ignore"):
    ref = np.linspace(-1.5, 4.0, **kw)
  out = jnp.linspace(-1.5, 4.0, **kw)
  if kw.get("retstep"):
    np.testing.assert_allclose(out[1], ref[1], rtol=1e-6)
    out, ref = out[0], ref[0]
  assert out.dtype == (np.float16 if kw.get("dtype") is np.float16 else np.float32)
  np.testing.assert_allclose(out, ref.astype(out.dtype), rtol=1e-3 if "dtype" in kw else 1e-6)


def test_linspace_integers_axes_and_endpoint():
  np.testing.assert_array_equal(jnp.linspace(0, 10, 5, dtype=int), [0, 2, 5, 7, 10])
  np.testing.assert_array_equal(jnp.linspace(-5, 0, 4, dtype=int), np.floor(np.linspace(-5, 0, 4)))
  start, stop = np.array([0.0, 1.0], np.float32), np.array([1.0, 3.0], np.float32)
  for axis in (0, 1, -1):
    np.testing.assert_allclose(jnp.linspace(start, stop, 3, axis=axis),
                               np.linspace(start, stop, 3, axis=axis), rtol=1e-6)
  out = jnp.linspace(0.1, 0.7, 7)
  assert float(out[-1]) == np.float32(0.7)  # the endpoint is exact
  _, step = jnp.linspace(0, 1, 1, retstep=True)
  assert np.isnan(float(step))
  with pytest.raises(ValueError, match="must be non-negative"):
    jnp.linspace(0, 1, -1)


def test_logspace_geomspace():
  np.testing.assert_allclose(jnp.logspace(0, 3, 4, base=2.0), np.logspace(0, 3, 4, base=2.0))
  np.testing.assert_allclose(jnp.logspace(0, 2, 3, endpoint=False), np.logspace(0, 2, 3,
                                                                              endpoint=False),
                             rtol=1e-6)
  np.testing.assert_allclose(jnp.geomspace(-1, -1000, 4), np.geomspace(-1, -1000, 4), rtol=1e-5)
  a, b = np.array([1.0, 2.0]), np.array([8.0, 32.0])
  np.testing.assert_allclose(jnp.geomspace(a, b, 4, axis=1), np.geomspace(a, b, 4, axis=1),
                             rtol=1e-5)
  assert jnp.logspace(0, 2, 3, dtype=int).dtype == np.int32


# ---------------------------------------------------------------------------------------
# Matrices and grids

@pytest.mark.parametrize("args", [(3,), (2, 4), (4, 2, 1), (3, 3, -2), (3, None, 5), (0,)])
@pytest.mark.parametrize("dtype", [None, "int32", "bool"])
def test_eye_identity_tri(args, dtype):
  n, m, k = tuple(args) + (None, 0)[len(args) - 1:]
  out = jnp.eye(n, m, k, dtype=dtype)
  ref = np.eye(n, m, k, dtype=dtype or np.float32)
  assert out.dtype == ref.dtype
  np.testing.assert_array_equal(out, ref)
  t = jnp.tri(n, m, k, dtype=dtype)
  np.testing.assert_array_equal(t, np.tri(n, m, k, dtype=dtype or np.float32))
  assert t.dtype == np.dtype(dtype or np.float32)
  np.testing.assert_array_equal(jnp.identity(n, dtype), np.identity(n, dtype or np.float32))


def test_eye_with_traced_offset():
  out = numjax.jit(lambda k: jnp.eye(3, 4, k))(1)
  np.testing.assert_array_equal(out, np.eye(3, 4, 1))
  with pytest.raises(ValueError, match="k must be a scalar integer"):
    jnp.eye(3, k=1.5)
  with pytest.raises(ValueError, match="negative dimensions"):
    jnp.eye(-1)


def test_tril_triu_errors_and_batching():
  with pytest.raises(ValueError, match="at least 2D"):
    jnp.tril(jnp.arange(3))
  a = np.arange(24.0).reshape(2, 3, 4)
  np.testing.assert_array_equal(jnp.triu(a, -1), np.triu(a, -1))


def test_meshgrid():
  x, y, z = np.arange(3), np.arange(2.0), np.arange(4)
  for indexing in ("xy", "ij"):
    for sparse in (False, True):
      out = jnp.meshgrid(x, y, z, indexing=indexing, sparse=sparse)
      ref = np.meshgrid(x, y, z, indexing=indexing, sparse=sparse)
      assert len(out) == 3
      for o, r in zip(out, ref):
        assert o.shape == r.shape
        np.testing.assert_array_equal(o, r)
  assert jnp.meshgrid() == []
  np.testing.assert_array_equal(jnp.meshgrid(x)[0], x)
  with pytest.raises(ValueError, match="only supports copy=True"):
    jnp.meshgrid(x, y, copy=False)
  with pytest.raises(ValueError, match="must be 1D"):
    jnp.meshgrid(np.ones((2, 2)))
  with pytest.raises(ValueError, match="Valid values for indexing"):
    jnp.meshgrid(x, indexing="xx")


def test_indices():
  np.testing.assert_array_equal(jnp.indices((2, 3)), np.indices((2, 3)))
  assert jnp.indices((2, 3)).dtype == np.int32
  for o, r in zip(jnp.indices((2, 3, 1), sparse=True), np.indices((2, 3, 1), sparse=True)):
    assert o.shape == r.shape
    np.testing.assert_array_equal(o, r)
  assert jnp.indices((2,), dtype=jnp.int8).dtype == np.int8
  assert jnp.indices(()).shape == (0,)


def test_fromfunction_and_buffers():
  np.testing.assert_array_equal(jnp.fromfunction(lambda i, j: i * 10 + j, (2, 3)),
                                np.fromfunction(lambda i, j: i * 10 + j, (2, 3)))
  assert jnp.fromfunction(lambda i: i, (3,), dtype=int).dtype == np.int32
  buf = np.arange(4, dtype=np.int16).tobytes()
  np.testing.assert_array_equal(jnp.frombuffer(buf, dtype=np.int16), np.arange(4))
  np.testing.assert_array_equal(jnp.fromstring("1 2 3", dtype=np.int32, sep=" "), [1, 2, 3])
  with pytest.raises(NotImplementedError, match="fromiter"):
    jnp.fromiter(iter([1, 2]), dtype=float)
  with pytest.raises(NotImplementedError, match="fromfile"):
    jnp.fromfile("x")


def test_isscalar_iterable():
  assert jnp.isscalar(1.0) and jnp.isscalar(np.float32(1)) and jnp.isscalar(jnp.array(2))
  assert not jnp.isscalar(jnp.arange(2)) and not jnp.isscalar([1])
  seen = []
  numjax.jit(lambda x: seen.append(jnp.isscalar(x)) or x)(1.0)
  assert seen == [True]
  assert jnp.iterable([1]) and not jnp.iterable(1)


# ---------------------------------------------------------------------------------------
# Scalar types and dtype helpers

SCALAR_TYPES = ["bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                "uint64", "float16", "bfloat16", "float32", "float64", "complex64",
                "complex128", "int4", "uint4", "int2", "uint2", "float8_e4m3fn", "float8_e5m2",
                "float8_e4m3b11fnuz", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e3m4",
                "float8_e4m3", "float8_e8m0fnu", "float4_e2m1fn", "float6_e2m3fn",
                "float6_e3m2fn"]


@pytest.mark.parametrize("name", SCALAR_TYPES)
def test_scalar_types(name):
  t = getattr(jnp, name)
  dt = np.dtype(t)
  assert dt == t.dtype and t == dt.type and hash(t) == hash(dt.type)
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    x = t(1)
    assert isinstance(x, numjax.Array) and x.shape == () and not x.weak_type
    assert x.dtype == numjax.dtypes.canonicalize_dtype(dt)
    assert jnp.zeros(2, dtype=t).dtype == x.dtype
    assert jnp.ones(1).astype(t).dtype == x.dtype
  assert isinstance(dt.type(0), t)
  assert t.__module__ == "numjax.numpy"


def test_scalar_type_calls():
  np.testing.assert_array_equal(jnp.float32([1, 2]), np.array([1, 2], np.float32))
  assert float(jnp.float16(1.5)) == 1.5 and bool(jnp.bool_(2)) is True
  with pytest.raises(OverflowError, match="out of bounds for int8"):
    jnp.int8(300)  # as JAX (NumPy's conversion of the Python int)
  assert int(jnp.int8(2.7)) == 2
  with pytest.warns(UserWarning, match="float64"):
    assert jnp.float64(1).dtype == np.float32
  with enable_x64():
    assert jnp.float64(1).dtype == np.float64 and jnp.int_(1).dtype == np.int64
  assert jnp.bool is jnp.bool_ and jnp.float_ is jnp.float64 and jnp.single is jnp.float32
  from numjax._src import core
  with pytest.raises(TypeError, match="cannot be interpreted as a JAX array"):
    core.get_aval(jnp.float32)
  with pytest.raises(TypeError, match="add requires ndarray or scalar arguments"):
    jnp.add(jnp.float32, 1)


def test_dtype_helpers():
  assert jnp.dtype is np.dtype and jnp.dtype("float32") == np.float32
  assert jnp.result_type(1, 2.0) == np.float32
  assert jnp.result_type(jnp.int8, jnp.uint8) == np.int16
  assert jnp.promote_types("int8", "uint8") == np.int16
  assert jnp.promote_types(jnp.bfloat16, jnp.float16) == np.float32
  assert jnp.can_cast(jnp.int8, jnp.int32) and not jnp.can_cast(jnp.float32, jnp.int32)
  assert jnp.issubdtype(jnp.bfloat16, jnp.floating) and jnp.issubdtype(jnp.int8, jnp.integer)
  assert not jnp.issubdtype(jnp.float32, jnp.integer)
  assert jnp.isdtype(jnp.float32, "real floating") and jnp.isdtype(jnp.int8, "integral")
  assert jnp.finfo(jnp.bfloat16).bits == 16 and jnp.iinfo(jnp.int4).max == 7
  assert jnp.iinfo(jnp.int8).min == -128 and jnp.finfo(jnp.float32).eps == np.finfo(np.float32).eps
  assert (jnp.pi, jnp.e, jnp.inf, jnp.newaxis) == (np.pi, np.e, np.inf, None)
  assert jnp.floating is np.floating and jnp.number is np.number


def test_astype_function_and_save_load(tmp_path):
  assert jnp.astype(jnp.arange(3), jnp.float16).dtype == np.float16
  assert jnp.astype(3, None).dtype == np.float32
  np.testing.assert_array_equal(jnp.astype(np.array([1 + 1j, 0]), bool), [True, False])
  path = str(tmp_path / "x.npy")
  jnp.save(path, jnp.array([1.5, -2], jnp.bfloat16))
  y = jnp.load(path)
  assert isinstance(y, numjax.Array) and y.dtype == jnp.bfloat16.dtype
  np.testing.assert_array_equal(np.asarray(y, np.float32), [1.5, -2])
  jnp.savez(str(tmp_path / "z.npz"), a=np.arange(3))
  assert jnp.load(str(tmp_path / "z.npz"))["a"].tolist() == [0, 1, 2]
