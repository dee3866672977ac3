"""lax bit-level, structural, random-bit and helper ops (lax/misc.py): NumPy / exact-integer
references through op records (jit, vmap at every batch position, gradients), jaxpr text
and errors as JAX 0.10.2 prints/raises them."""
import struct

import numpy as np
import pytest

import numjax
import numjax.numpy as jnp
from numjax import lax
from records import Rec, make_tests, uniform

F = ("float32",)


def _view(dt):
  """NumPy reference of bitcast_convert_type (trailing dimension as XLA)."""
  dt = np.dtype(dt)

  def ref(x):
    a, b = x.dtype.itemsize, dt.itemsize
    out = np.ascontiguousarray(x).view(dt)
    if a > b:
      return out.reshape(x.shape + (a // b,))
    if a < b:
      return out.reshape(x.shape[:-1])
    return out.reshape(x.shape)
  return ref


def _mulhi_ref(x, y):
  bits = x.dtype.itemsize * 8
  out = [(int(a) * int(b)) >> bits for a, b in zip(x.ravel(), y.ravel())]
  mask = (1 << bits) - 1
  return np.array([v & mask for v in out], dtype=np.dtype(f"uint{bits}")).view(
      x.dtype).reshape(np.broadcast_shapes(x.shape, y.shape))


def _total_key(x):
  """Integers ordered as floats in the IEEE total order (-NaN < -inf < ... < NaN)."""
  b = x.astype(np.float32).view(np.int32).astype(np.int64)
  return np.where(b < 0, -(b & 0x7FFFFFFF) - 1, b)


SPECIAL = np.array([np.nan, -np.nan, 0., -0., 1., -1., np.inf, -np.inf], np.float32)


def special(rng, shape, dtype):
  return rng.choice(SPECIAL, size=shape).astype(dtype)


def _rp_ref(exp_bits, man_bits, dt):
  def ref(x):
    return x.astype(dt).astype(x.dtype)
  return ref


NORMAL = uniform(0.5, 300.)
BIG_INT = uniform(-2 ** 31, 2 ** 31 - 1)

RECORDS = [
    Rec("bitcast[f32->i32]", lambda x: lax.bitcast_convert_type(x, np.int32), _view(np.int32),
        [(), (3, 2)], dtypes=F, domain=special),
    Rec("bitcast[f32->u8]", lambda x: lax.bitcast_convert_type(x, np.uint8), _view(np.uint8),
        [(3,), (2, 2)], dtypes=F),
    Rec("bitcast[u8->f32]", lambda x: lax.bitcast_convert_type(x, np.float32),
        _view(np.float32), [(4,), (2, 4)], dtypes=("uint8",), domain=uniform(0, 250)),
    Rec("bitcast[i16->u16]", lambda x: lax.bitcast_convert_type(x, np.uint16),
        _view(np.uint16), [(5,)], dtypes=("int16",), domain=uniform(-300, 300)),
    Rec("mulhi", lax.mulhi, _mulhi_ref, [(6,), (2, 3)], nargs=2,
        dtypes=("uint32", "int32", "uint8", "int16"), domain=uniform(-2 ** 31, 2 ** 31 - 1)),
    Rec("reduce_precision[f16]", lambda x: lax.reduce_precision(x, 5, 10),
        _rp_ref(5, 10, np.float16), [(7,), (2, 3)], domain=NORMAL),
    Rec("reduce_precision[bf16]", lambda x: lax.reduce_precision(x, 8, 7),
        lambda x: x.astype(jnp.bfloat16).astype(np.float32), [(7,)],
        domain=uniform(-1e30, 1e30)),
    Rec("eq_to", lambda x, y: lax.eq_to_p.bind(jnp.asarray(x), jnp.asarray(y)), lambda x, y: _total_key(x) == _total_key(y), [(16,)],
        nargs=2, domain=special),
    Rec("lt_to", lambda x, y: lax.lt_to_p.bind(jnp.asarray(x), jnp.asarray(y)), lambda x, y: _total_key(x) < _total_key(y), [(16,)],
        nargs=2, domain=special),
    Rec("le_to", lambda x, y: lax.le_to_p.bind(jnp.asarray(x), jnp.asarray(y)), lambda x, y: _total_key(x) <= _total_key(y), [(4, 4)],
        nargs=2, domain=special),
    Rec("split", lambda x: lax.split(x, (1, 0, 2), axis=1),
        lambda x: np.split(x, [1, 1], axis=1), [(2, 3), (4, 3, 2)], dtypes=("float32", "int32"),
        grad=1),
    Rec("stack", lambda x, y: lax.stack([x, y, x], axis=-1),
        lambda x, y: np.stack([x, y, x], axis=-1), [((2, 3), (2, 3)), ((), ())], nargs=2,
        grad=1),
    Rec("unstack", lambda x: lax.unstack(x, axis=-1),
        lambda x: [np.take(x, i, axis=-1) for i in range(x.shape[-1])], [(2, 3), (3,)],
        grad=1),
    Rec("tile", lambda x: lax.tile(x, (2, 1, 3)), lambda x: np.tile(x, (2, 1, 3)),
        [(2, 3, 1)], grad=1),
    Rec("squeeze_p", lambda x: lax.squeeze_p.bind(jnp.asarray(x), dimensions=(0, 2)),
        lambda x: np.squeeze(x, (0, 2)), [(1, 3, 1, 2)], grad=1),
    Rec("optimization_barrier", lambda x, y: lax.optimization_barrier((x, y)),
        lambda x, y: (x, y), [((3,), (2, 2))], nargs=2, grad=2),
    Rec("approx_max_k", lambda x: lax.approx_max_k(x, 3),
        lambda x: (-np.sort(-x, axis=-1)[..., :3], np.argsort(-x, axis=-1, kind="stable")[..., :3]),
        [(7,), (2, 5)], check_dtype=False),
    Rec("approx_max_k[values]", lambda x: lax.approx_max_k(x, 3)[0],
        lambda x: -np.sort(-x, axis=-1)[..., :3], [(2, 5)], grad=2),
    Rec("approx_min_k", lambda x: lax.approx_min_k(x, 2, reduction_dimension=0),
        lambda x: (np.sort(x, axis=0)[:2], np.argsort(x, axis=0, kind="stable")[:2]),
        [(6, 3)], dtypes=("float32", "int32"), check_dtype=False),
    Rec("approx_min_k[values]", lambda x: lax.approx_min_k(x, 2, reduction_dimension=0)[0],
        lambda x: np.sort(x, axis=0)[:2], [(6, 3)], grad=2),
    Rec("batch_matmul", lax.batch_matmul, np.matmul, [((2, 3, 4), (2, 4, 5)), ((3, 2), (2, 2))],
        nargs=2, grad=1, tol={"float32": 1e-5}),
    Rec("collapse", lambda x: lax.collapse(x, 1, 3), lambda x: x.reshape(2, 12, 5),
        [(2, 3, 4, 5)], grad=1),
    Rec("broadcast_like", lambda x, y: lax.broadcast_like(x, y),
        lambda x, y: np.broadcast_to(x, y.shape), [((3,), (2, 3)), ((), (2,))], nargs=2,
        grad=1),
    Rec("reciprocal", lax.reciprocal, lambda x: 1 / x, [(4,)], domain=uniform(0.5, 3),
        grad=2),
]

# Core lax elementwise/shape functions not exercised by name elsewhere
RECORDS += [
    Rec("clz", lax.clz, lambda x: np.array([32 - int(v).bit_length() if v >= 0 else 0
                                           for v in x.ravel()], np.int32).reshape(x.shape),
        [(8,)], dtypes=("int32",), domain=uniform(-2, 2 ** 20)),
    Rec("population_count", lax.population_count, lambda x: np.bitwise_count(x).astype(x.dtype),
        [(8,)], dtypes=("uint8", "int32"), domain=uniform(0, 200)),
    Rec("nextafter", lax.nextafter, np.nextafter, [(6,)], nargs=2),
    Rec("complex", lax.complex, lambda a, b: a + 1j * b, [(4,)], nargs=2, grad=1),
    Rec("conj/real/imag", lambda z: (lax.conj(z), lax.real(z), lax.imag(z)),
        lambda z: (np.conj(z), np.real(z), np.imag(z)), [(5,)], dtypes=("complex64",)),
    Rec("is_finite", lax.is_finite, np.isfinite, [(8,)], domain=special),
    Rec("le", lax.le, np.less_equal, [(6,)], nargs=2, dtypes=("float32", "int32"),
        domain=uniform(-2, 2)),
    Rec("bitwise_not", lax.bitwise_not, np.invert, [(5,)], dtypes=("int32", "uint8", "bool"),
        domain=uniform(0, 100)),
    Rec("dot", lax.dot, np.dot, [((3, 4), (4,)), ((2, 3), (3, 2))], nargs=2, grad=1,
        tol={"float32": 1e-5}),
    Rec("full_like", lambda x: lax.full_like(x, 2), lambda x: np.full_like(x, 2), [(2, 3)],
        dtypes=("float32", "int32")),
    Rec("squeeze", lambda x: lax.squeeze(x, (0, -1)), lambda x: np.squeeze(x, (0, -1)),
        [(1, 3, 1)], grad=1),
    Rec("polygamma", lambda x: lax.polygamma(jnp.full_like(x, 1.), x),
        lambda x: __import__("scipy.special").special.polygamma(1, x).astype(np.float32),
        [(5,)], domain=uniform(0.5, 4), tol={"float32": 1e-4}),
    Rec("zeta", lambda x, q: lax.zeta(x + 1.5, q), lambda x, q: __import__(
        "scipy.special").special.zeta(x + 1.5, q).astype(np.float32), [(5,)], nargs=2,
        domain=uniform(0.5, 4), tol={"float32": 1e-4}),
    Rec("broadcast_to_rank", lambda x: lax.broadcast_to_rank(x, 3),
        lambda x: x.reshape((1,) * (3 - x.ndim) + x.shape), [(2,), (2, 3)], grad=1),
]

test_numpy, test_jit, test_vmap, test_grad = make_tests(RECORDS)


def test_lax_shape_helpers():
  assert lax.broadcast_shapes((2, 1), (3,)) == (2, 3)
  assert lax.reduce_window_shape_tuple((4, 6), (2, 3), (2, 3), [(0, 0), (0, 0)]) == (2, 2)
  assert lax.conv_general_permutations(("NCHW", "OIHW", "NCHW")) == (
      (0, 1, 2, 3), (0, 1, 2, 3), (0, 1, 2, 3))
  assert tuple(lax.conv_transpose_shape_tuple((1, 1, 4, 4), (1, 1, 3, 3), (1, 1), "VALID",
                                              ("NCHW", "OIHW", "NCHW"))) == (1, 1, 6, 6)
  assert lax.RoundingMethod.TO_NEAREST_EVEN.value == 1
  dn = lax.DotDimensionNumbers((((1,), (0,)), ((), ())))
  assert dn[0] == ((1,), (0,))
  assert lax.ConvGeneralDilatedDimensionNumbers is not None
  assert lax.PrecisionLike is not None and lax.linalg.cholesky is not None


@pytest.mark.parametrize("dt", ["int64", "uint64"])
def test_mulhi_64bit(dt):
  rng = np.random.default_rng(0)
  with numjax.experimental.enable_x64():
    x = rng.integers(np.iinfo(dt).min, np.iinfo(dt).max, 50, dtype=dt, endpoint=True)
    y = rng.integers(np.iinfo(dt).min, np.iinfo(dt).max, 50, dtype=dt, endpoint=True)
    np.testing.assert_array_equal(lax.mulhi(x, y), _mulhi_ref(x, y))


def test_reduce_precision_specials():
  x = np.array([1.2345678, 65519., 1e-8, np.nan, np.inf, 70000., -70000., -1e-30], np.float32)
  out = np.asarray(lax.reduce_precision(x, 5, 10))
  # values recorded from JAX 0.10.2 (overflow to inf, underflow to signed zero, NaN kept)
  np.testing.assert_array_equal(out, np.array([1.234375, 65504., 0., np.nan, np.inf, np.inf,
                                               -np.inf, -0.], np.float32))
  assert np.signbit(out[-1])
  assert np.isnan(lax.reduce_precision(np.float32(np.nan), 5, 0))  # NaN kept, as JAX
  # the derivative is the reduce_precision of the cotangent (piecewise-constant in x, but
  # JAX treats the op as linear): 1 and 3 here, as JAX
  assert numjax.grad(lambda x: lax.reduce_precision(x, 5, 2))(1.3) == 1.0
  assert numjax.grad(lambda x: lax.reduce_precision(x * 3, 5, 2))(1.3) == 3.0
  assert numjax.jvp(lambda x: lax.reduce_precision(x, 5, 2), (1.3,), (1.0,))[1] == 1.0
  # bfloat16 input stays bfloat16
  assert lax.reduce_precision(jnp.ones(2, jnp.bfloat16), 5, 2).dtype == jnp.bfloat16


def test_bitcast_errors_and_jaxpr():
  with pytest.raises(TypeError, match="does not support bool or complex"):
    lax.bitcast_convert_type(np.array([True]), np.uint8)
  with pytest.raises(ValueError, match=r"3 \* 8 != 32"):
    lax.bitcast_convert_type(np.array([1, 2, 3], np.uint8), np.float32)
  text = str(numjax.make_jaxpr(lambda x: lax.bitcast_convert_type(x, jnp.uint8))(
      jnp.ones((2, 3))))
  assert "b:u8[2,3,4] = bitcast_convert_type[new_dtype=uint8] a" in text
  assert lax.bitcast_convert_type(1.0, jnp.int32) == struct.unpack("<i", struct.pack("<f", 1.0))[0]
  assert numjax.grad(lambda x: lax.bitcast_convert_type(x, np.float32).sum())(
      jnp.float32(2.)) == 0.


def test_structural_jaxprs_as_jax():
  x = jnp.arange(6.).reshape(2, 3)
  assert str(numjax.make_jaxpr(lambda x: lax.stack([x, x], 1))(x)) == (
      "{ lambda ; a:f32[2,3]. let b:f32[2,2,3] = stack[axis=1] a a in (b,) }")
  assert str(numjax.make_jaxpr(lambda x: lax.tile(x, (2, 1)))(x)) == (
      "{ lambda ; a:f32[2,3]. let b:f32[4,3] = tile[reps=(2, 1)] a in (b,) }")
  assert "b:f32[2,1] c:f32[2,2] = split[axis=1 sizes=(1, 2)] a" in str(
      numjax.make_jaxpr(lambda x: lax.split(x, (1, 2), 1))(x))
  assert "b:f32[2] c:f32[2] d:f32[2] = unstack[axis=1] a" in str(
      numjax.make_jaxpr(lambda x: lax.unstack(x, 1))(x))
  assert "b:f32[2,3] c:f32[] = optimization_barrier a 1.0:f32[]" in str(
      numjax.make_jaxpr(lambda x: lax.optimization_barrier((x, 1.)))(x))
  with pytest.raises(TypeError, match="reps length must be equal to the ndim"):
    lax.tile(x, (2,))


def test_rng_bit_generator():
  # key zero: the bits equal JAX 0.10.2's (Philox4x32); the counter advances as XLA's
  key, bits = lax.rng_bit_generator(jnp.zeros(4, jnp.uint32), (2, 3))
  np.testing.assert_array_equal(key, [0, 0, 2, 0])
  np.testing.assert_array_equal(bits, [[1713891541, 3781805453, 3159862348],
                                       [2600524760, 4175744164, 1555169499]])
  key, bits = lax.rng_bit_generator(jnp.array([1, 2, 3, 4], jnp.uint32), (7,), dtype=jnp.uint8)
  np.testing.assert_array_equal(key, [1, 2, 5, 4])
  assert bits.dtype == np.uint8 and bits.shape == (7,)
  key, _ = lax.rng_bit_generator(jnp.array([5, 2 ** 32 - 1, 2 ** 32 - 1, 2 ** 32 - 1],
                                           jnp.uint32), (3, 5))
  np.testing.assert_array_equal(key, [5, 2 ** 32 - 1, 3, 0])  # 64-bit counter wraps
  key, _ = lax.rng_bit_generator(jnp.array([1, 2, 3, 4], jnp.uint32), (3, 5),
                                 algorithm=lax.RandomAlgorithm.RNG_THREE_FRY)
  np.testing.assert_array_equal(key, [1, 2, 11, 4])
  # deterministic, jit-stable, and vmap over keys equals a loop
  keys = jnp.array([[0, 0, 0, 0], [1, 2, 3, 4], [9, 9, 9, 9]], jnp.uint32)
  f = lambda k: lax.rng_bit_generator(k, (4,))
  batched = numjax.vmap(f)(keys)
  for i in range(3):
    k_i, b_i = numjax.jit(f)(keys[i])
    np.testing.assert_array_equal(batched[0][i], k_i)
    np.testing.assert_array_equal(batched[1][i], b_i)
  with pytest.raises(TypeError, match="unsupported dtype"):
    lax.rng_bit_generator(jnp.zeros(4, jnp.uint32), (2,), dtype=jnp.int32)
  # the bits look uniform
  _, many = lax.rng_bit_generator(jnp.array([7, 0, 0, 0], jnp.uint32), (20000,))
  frac = np.asarray(many, np.float64) / 2 ** 32
  assert abs(frac.mean() - 0.5) < 0.01 and abs(frac.std() - 0.2887) < 0.01


def test_rng_uniform():
  u = lax.rng_uniform(2., 5., (1000,))
  assert u.shape == (1000,) and u.dtype == np.float32
  assert float(u.min()) >= 2. and float(u.max()) < 5.
  b = numjax.vmap(lambda lo: lax.rng_uniform(lo, 10., (3,)))(jnp.array([0., 5., 9.]))
  assert b.shape == (3, 3) and bool((b[2] >= 9.).all())


def test_helpers():
  assert lax.dtype(1.) == np.float32 and lax.dtype(np.arange(2)) == np.int32
  v = lax.shape_as_value((2, 3))
  assert v.dtype == np.int32 and list(np.asarray(v)) == [2, 3]
  np.testing.assert_array_equal(lax.empty((2,), jnp.float32), np.zeros(2, np.float32))
  assert lax.platform_dependent(1., cpu=lambda x: x + 1, default=lambda x: x) == 2.
  assert lax.platform_dependent(1., default=lambda x: x * 3) == 3.
  f = lax.composite(lambda x: x * 2, name="my.double")
  np.testing.assert_array_equal(f(jnp.arange(3.)), [0., 2., 4.])
  with pytest.raises(TypeError, match="Integers cannot be raised to negative powers"):
    lax.reciprocal(jnp.array([2, 4]))
  assert lax.DotAlgorithm(jnp.float32, jnp.float32, jnp.float32).lhs_component_count == 1
  assert lax.DotAlgorithmPreset.F32_F32_F32.name == "F32_F32_F32"
  with pytest.raises(ValueError, match="At least one of atol"):
    lax.Tolerance()
  assert [m.name for m in lax.AccuracyMode] == ["HIGHEST", "DEFAULT"]
  assert [m.value for m in lax.RandomAlgorithm] == [0, 1, 2]
  np.testing.assert_array_equal(lax.stop_gradient_p.bind(jnp.ones(2)), [1., 1.])


def _ragged_ref(lhs, rhs, sizes):
  out = np.zeros((lhs.shape[0], rhs.shape[2]), np.float32)
  start = 0
  for g, s in enumerate(sizes):
    out[start:start + s] = lhs[start:start + s] @ rhs[g]
    start += s
  return out


def test_ragged_dot():
  rng = np.random.default_rng(0)
  lhs = rng.normal(size=(6, 3)).astype(np.float32)
  rhs = rng.normal(size=(3, 3, 4)).astype(np.float32)
  for sizes in ([2, 3, 1], [0, 4, 1], [6, 0, 0]):
    gs = np.array(sizes, np.int32)
    np.testing.assert_allclose(lax.ragged_dot(lhs, rhs, gs), _ragged_ref(lhs, rhs, sizes),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(numjax.jit(lax.ragged_dot)(lhs, rhs, gs),
                               _ragged_ref(lhs, rhs, sizes), rtol=1e-5, atol=1e-5)
  gs = np.array([2, 3, 1], np.int32)
  from numjax.test_util import check_grads
  check_grads(lambda a, b: lax.ragged_dot(a, b, gs), (jnp.asarray(lhs), jnp.asarray(rhs)),
              order=1, modes=("fwd", "rev"), atol=2e-2, rtol=2e-2)
  batched = numjax.vmap(lambda a: lax.ragged_dot(a, rhs, gs))(np.stack([lhs, 2 * lhs]))
  np.testing.assert_allclose(batched[1], 2 * _ragged_ref(lhs, rhs, [2, 3, 1]), rtol=1e-5,
                             atol=1e-5)
  dn = lax.RaggedDotDimensionNumbers(dot_dimension_numbers=(([0], [2]), ([], [])),
                                     lhs_ragged_dimensions=[1], rhs_group_dimensions=[1])
  got = lax.ragged_dot_general(lhs.T, np.transpose(rhs, (2, 0, 1)), gs, dn)
  np.testing.assert_allclose(got, _ragged_ref(lhs, rhs, [2, 3, 1]), rtol=1e-5, atol=1e-5)


def test_copy_stage_dce_sink():
  x = jnp.ones(3)
  assert str(numjax.make_jaxpr(lambda x: lax.copy_p.bind(x))(x)) == (
      "{ lambda ; a:f32[3]. let b:f32[3] = copy a in (b,) }")
  assert str(numjax.make_jaxpr(lax.stage)(x)) == "{ lambda ; a:f32[3]. let  in (a,) }"
  assert str(numjax.make_jaxpr(lambda x: lax.dce_sink(x))(x)) == (
      "{ lambda ; a:f32[3]. let dce_sink[prevent_mlir_dce=False] a in () }")
  np.testing.assert_array_equal(numjax.jit(lambda x: (lax.dce_sink(x), x * 2)[1])(x), [2.] * 3)
  np.testing.assert_array_equal(numjax.grad(lambda x: lax.copy_p.bind(x).sum())(x), [1.] * 3)
  np.testing.assert_array_equal(numjax.jit(lambda: lax.stage(np.ones(2)))(), [1., 1.])
  np.testing.assert_array_equal(numjax.vmap(lambda v: lax.copy_p.bind(v) * 2)(jnp.ones((2, 3))),
                                np.full((2, 3), 2.))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "uint16", "int64", "bool",
                                   "float16"])
def test_select_n_large_random_mask_is_bitwise_where(dtype):
  """Large eager selects with a boolean predicate use a branch-free bit select; it must
  equal np.where bit for bit (NaN payloads, -0.0), also with a rank-0 case."""
  from numjax.experimental import enable_x64
  with enable_x64(np.dtype(dtype).itemsize == 8):
    _check_bit_select(dtype)


def _check_bit_select(dtype):
  rng = np.random.default_rng(4)
  shape = (64, 129)
  which = rng.random(shape) > 0.5
  f = (rng.standard_normal(shape) * 10).astype(dtype)
  t = (rng.standard_normal(shape) * 10).astype(dtype)
  if np.dtype(dtype).kind == "f":
    f[0, 0] = np.nan
    t[0, 1] = -0.0
    f[0, 1] = np.float32(np.inf)
  got = np.asarray(lax.select_n(jnp.asarray(which), jnp.asarray(f), jnp.asarray(t)))
  want = np.where(which, t, f)
  assert got.dtype == want.dtype and got.shape == want.shape
  assert np.array_equal(got.view(np.uint8), want.view(np.uint8))
  s = np.asarray(3, dtype)
  got = np.asarray(jnp.where(jnp.asarray(which), jnp.asarray(s), jnp.asarray(f)))
  assert np.array_equal(got.view(np.uint8), np.where(which, s, f).view(np.uint8))
