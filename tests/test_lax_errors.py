"""Eager (no transformation) raw lax calls with invalid operands raise JAX's exception class
and message, not NumPy's (or, worse, a silently broadcast/promoted result).

Expected classes and message fragments were recorded from JAX 0.10.2 (jax.lax on CPU) for
the same calls; the valid-call cases check values against NumPy.
"""
import numpy as np
import pytest

import numjax
import numjax.lax as lax
import numjax.numpy as jnp


def f32(*shape):
  return jnp.ones(shape, jnp.float32)


def i32(*shape):
  return jnp.ones(shape, jnp.int32)


def b(*shape):
  return jnp.ones(shape, bool)


# (id, call, JAX's exception class, a fragment of JAX's message)
CASES = [
    # elementwise: shapes NumPy would broadcast or reject with a ValueError
    ("add_shape", lambda: lax.add(f32(3), f32(4)), TypeError,
     "add got incompatible shapes for broadcasting: (3,), (4,)"),
    ("sub_shape", lambda: lax.sub(f32(2, 3), f32(3, 2)), TypeError,
     "sub got incompatible shapes for broadcasting: (2, 3), (3, 2)"),
    ("eq_shape", lambda: lax.eq(f32(2), f32(3)), TypeError, "eq got incompatible shapes"),
    ("rem_shape", lambda: lax.rem(f32(2), f32(3)), TypeError, "rem got incompatible shapes"),
    ("atan2_shape", lambda: lax.atan2(f32(2), f32(3)), TypeError, "atan2 got incompatible"),
    ("pow_shape", lambda: lax.pow(f32(2), f32(3)), TypeError, "pow got incompatible shapes"),
    ("shift_shape", lambda: lax.shift_left(i32(2), i32(3)), TypeError,
     "shift_left got incompatible shapes"),
    ("complex_shape", lambda: lax.complex(f32(2), f32(3)), TypeError,
     "complex got incompatible shapes"),
    ("add_rank", lambda: lax.add(f32(3), f32(2, 3)), TypeError,
     "add: arrays must have the same number of dimensions, got {1, 2}"),
    ("max_rank", lambda: lax.max(f32(2, 3), f32(3)), TypeError,
     "max: arrays must have the same number of dimensions"),
    ("add_p_rank", lambda: lax.add_p.bind(f32(3), f32(2, 3)), TypeError,
     "add: arrays must have the same number of dimensions"),
    # elementwise: dtypes NumPy would promote or compute on
    ("add_dtype", lambda: lax.add(f32(3), i32(3)), TypeError,
     "lax.add requires arguments to have the same dtypes, got float32, int32"),
    ("mul_dtype", lambda: lax.mul(f32(3), i32(3)), TypeError, "jnp.multiply"),
    ("sub_dtype", lambda: lax.sub(f32(3), i32(3)), TypeError, "jnp.subtract"),
    ("add_p_dtype", lambda: lax.add_p.bind(f32(3), i32(3)), TypeError,
     "add requires arguments to have the same dtypes"),
    ("sin_int", lambda: lax.sin(i32(3)), TypeError, "sin does not accept dtype int32"),
    ("sin_p_int", lambda: lax.sin_p.bind(i32(3)), TypeError, "sin does not accept dtype int32"),
    ("expm1_int", lambda: lax.expm1(i32(3)), TypeError, "expm1 does not accept dtype int32"),
    ("real_int", lambda: lax.real(i32(3)), TypeError, "real does not accept dtype int32"),
    ("neg_bool", lambda: lax.neg(b(3)), TypeError, "neg does not accept dtype bool"),
    ("and_float", lambda: lax.bitwise_and(f32(3), f32(3)), TypeError,
     "and does not accept dtype float32"),
    ("popcount_float", lambda: lax.population_count(f32(3)), TypeError,
     "population_count does not accept dtype float32"),
    ("add_list", lambda: lax.add([1., 2.], f32(2)), TypeError,
     "Error interpreting argument to add as a JAX value"),
    ("sin_list", lambda: lax.sin([1., 2.]), TypeError,
     "Error interpreting argument to sin as a JAX value"),
    # integer_pow
    ("integer_pow_bool", lambda: lax.integer_pow(b(3), 2), TypeError,
     "integer_pow does not accept dtype bool"),
    ("integer_pow_int_neg", lambda: lax.integer_pow(i32(3), -2), TypeError,
     "Integers cannot be raised to negative powers, got integer_pow(int32[3], -2)"),
    # dot_general / dot
    ("dot_general_contract", lambda: lax.dot_general(
        f32(2, 3), f32(4, 5), (((1,), (0,)), ((), ()))), TypeError,
     "dot_general requires contracting dimensions to have the same shape, got (3,) and (4,)"),
    ("dot_general_contract1", lambda: lax.dot_general(
        f32(2, 3), f32(1, 5), (((1,), (0,)), ((), ()))), TypeError,
     "contracting dimensions to have the same shape, got (3,) and (1,)"),
    ("dot_general_contract_count", lambda: lax.dot_general(
        f32(2, 3), f32(3, 3), (((1,), (0, 1)), ((), ()))), TypeError,
     "contracting dimensions to have the same shape, got (3,) and (3, 3)"),
    ("dot_general_batch", lambda: lax.dot_general(
        f32(2, 3, 4), f32(5, 4, 6), (((2,), (1,)), ((0,), (0,)))), TypeError,
     "lhs batch dimensions and rhs batch dimensions to have the same shape, got (2,) and (5,)"),
    ("dot_general_batch1", lambda: lax.dot_general(
        f32(2, 3, 4), f32(1, 4, 6), (((2,), (1,)), ((0,), (0,)))), TypeError,
     "batch dimensions to have the same shape, got (2,) and (1,)"),
    ("dot_general_dim_oob", lambda: lax.dot_general(
        f32(2, 3), f32(3, 5), (((2,), (0,)), ((), ()))), TypeError,
     "dot_general requires lhs dimension numbers to be nonnegative and less than the number "
     "of axes of the lhs value"),
    ("dot_general_dim_neg", lambda: lax.dot_general(
        f32(2, 3), f32(3, 5), (((-1,), (0,)), ((), ()))), TypeError,
     "lhs dimension numbers to be nonnegative"),
    ("dot_general_dup", lambda: lax.dot_general(
        f32(2, 3), f32(3, 3), (((1, 1), (0, 1)), ((), ()))), TypeError,
     "dot_general requires lhs contracting dimensions to be distinct"),
    ("dot_general_batch_count", lambda: lax.dot_general(
        f32(2, 3), f32(3, 3), (((1,), (0,)), ((0,), ()))), TypeError,
     "dot_general requires equal numbers of lhs_batch and rhs_batch dimensions"),
    ("dot_shape", lambda: lax.dot(f32(2, 3), f32(4, 5)), ValueError,
     "jax.lax.dot: dimension_numbers must be specified"),
    ("dot_rank3", lambda: lax.dot(f32(2, 3, 4), f32(4, 5)), ValueError,
     "jax.lax.dot: dimension_numbers must be specified"),
    # broadcast_in_dim / broadcast
    ("bid_bad_shape", lambda: lax.broadcast_in_dim(f32(3), (4, 5), (1,)), TypeError,
     "broadcast_in_dim operand dimension sizes must either be 1, or be equal to their "
     "corresponding dimensions in the target broadcast shape"),
    ("bid_dims_unsorted", lambda: lax.broadcast_in_dim(f32(3, 4), (3, 4), (1, 0)), TypeError,
     "broadcast_in_dim operand dimension sizes must either be 1"),
    ("bid_dims_len", lambda: lax.broadcast_in_dim(f32(3), (4, 3), (0, 1)), TypeError,
     "broadcast_in_dim broadcast_dimensions must have length equal to operand ndim"),
    ("bid_rank_shrink", lambda: lax.broadcast_in_dim(f32(3, 4), (12,), (0,)), TypeError,
     "broadcast_dimensions must have length equal to operand ndim"),
    ("bid_dims_oob", lambda: lax.broadcast_in_dim(f32(3), (4, 3), (2,)), TypeError,
     "broadcast_in_dim broadcast_dimensions must be a subset of output dimensions"),
    ("bid_dims_oob_unit", lambda: lax.broadcast_in_dim(f32(1), (3,), (3,)), TypeError,
     "broadcast_dimensions must be a subset of output dimensions"),
    ("bid_dims_neg", lambda: lax.broadcast_in_dim(f32(3), (3, 3), (-1,)), TypeError,
     "broadcast_in_dim broadcast_dimensions must have every element be nonnegative"),
    ("broadcast_neg", lambda: lax.broadcast(f32(3), (-1,)), TypeError,
     "broadcast_in_dim shape must have every element be nonnegative, got (-1, 3)"),
    # reshape
    ("reshape_size", lambda: lax.reshape(f32(6), (4,)), ValueError, ""),
    ("reshape_neg", lambda: lax.reshape(f32(6), (-1,)), TypeError,
     "reshape new_sizes must all be positive, got (-1,)"),
    ("reshape_neg2", lambda: lax.reshape(f32(2, 3), (3, -2)), TypeError,
     "reshape new_sizes must all be positive"),
    ("reshape_dims", lambda: lax.reshape(f32(2, 3), (3, 2), dimensions=(0,)), TypeError,
     "reshape dimensions must be a permutation of operand dimensions"),
    ("reshape_dims_oob", lambda: lax.reshape(f32(2, 3), (3, 2), dimensions=(0, 2)), TypeError,
     "reshape dimensions must be a permutation of operand dimensions"),
    # transpose
    ("transpose_short", lambda: lax.transpose(f32(2, 3), (0,)), TypeError,
     "transpose permutation isn't a permutation of operand dimensions"),
    ("transpose_dup", lambda: lax.transpose(f32(2, 3), (0, 0)), TypeError,
     "isn't a permutation of operand dimensions, got permutation (0, 0)"),
    ("transpose_oob", lambda: lax.transpose(f32(2, 3), (0, 2)), TypeError,
     "isn't a permutation of operand dimensions"),
    ("transpose_neg", lambda: lax.transpose(f32(2, 3), (-1, 0)), TypeError,
     "isn't a permutation of operand dimensions"),
    # select_n / select
    ("select_n_shape", lambda: lax.select_n(b(3), f32(3), f32(4)), TypeError,
     "select cases must have the same shapes, got [(3,), (4,)]"),
    ("select_n_case_bcast", lambda: lax.select_n(b(3), f32(3), f32(1)), TypeError,
     "select cases must have the same shapes"),
    ("select_n_pred_shape", lambda: lax.select_n(b(2), f32(3), f32(3)), TypeError,
     "select `which` must be scalar or have the same shape as cases"),
    ("select_n_pred_bcast", lambda: lax.select_n(b(1), f32(3), f32(3)), TypeError,
     "select `which` must be scalar or have the same shape as cases"),
    ("select_n_dtype", lambda: lax.select_n(b(3), f32(3), i32(3)), TypeError,
     "lax.select requires arguments to have the same dtypes, got float32, int32"),
    ("select_n_pred_dtype", lambda: lax.select_n(f32(3), f32(3), f32(3)), TypeError,
     "select `which` must be boolean or integer type, got float32"),
    ("select_n_bool_3", lambda: lax.select_n(b(3), f32(3), f32(3), f32(3)), TypeError,
     "select with boolean `which` cannot have > 2 cases"),
    ("select_n_none", lambda: lax.select_n(b(3)), ValueError,
     "select_n() must have at least one case"),
    ("select_bcast", lambda: lax.select(b(3), f32(3, 1), f32(1, 3)), TypeError,
     "select cases must have the same shapes"),
    # clamp
    ("clamp_shape", lambda: lax.clamp(jnp.zeros(2), f32(3), f32(3)), TypeError,
     "clamp requires min.shape == operand.shape or min.shape == (), got min.shape=(2,), "
     "operand.shape=(3,)"),
    ("clamp_max_shape", lambda: lax.clamp(jnp.float32(0), f32(3), f32(2)), TypeError,
     "clamp requires max.shape == operand.shape or max.shape == ()"),
    ("clamp_bcast", lambda: lax.clamp(jnp.zeros((3, 1)), f32(3, 3), jnp.ones(())), TypeError,
     "clamp requires min.shape == operand.shape"),
    ("clamp_dtype", lambda: lax.clamp(jnp.float32(0), i32(3), jnp.int32(1)), TypeError,
     "lax.clamp requires arguments to have the same dtypes, got float32, int32, int32"),
    # iota
    ("iota_neg", lambda: lax.iota(jnp.int32, -1), TypeError,
     "iota shape must have every element be nonnegative, got (-1,)"),
    ("iota_neg2", lambda: lax.broadcasted_iota(jnp.int32, (2, -3), 0), TypeError,
     "iota shape must have every element be nonnegative"),
    ("iota_dim", lambda: lax.broadcasted_iota(jnp.int32, (2, 3), 2), ValueError,
     "iota dimension must be between 0 and len(shape), got dimension=2 for shape=(2, 3)"),
    ("iota_dim_neg", lambda: lax.broadcasted_iota(jnp.int32, (2, 3), -1), ValueError,
     "iota dimension must be between 0 and len(shape)"),
    # squeeze / expand_dims
    ("squeeze_size", lambda: lax.squeeze(f32(2, 3), (0,)), ValueError,
     "cannot select an axis to squeeze out which has size not equal to one"),
    ("squeeze_oob", lambda: lax.squeeze(f32(1, 3), (3,)), ValueError,
     "axis 3 is out of bounds for array of dimension 2"),
    ("expand_dims_oob", lambda: lax.expand_dims(f32(2, 3), (5,)), ValueError,
     "axis 5 is out of bounds for array of dimension 3"),
    ("expand_dims_neg", lambda: lax.expand_dims(f32(2, 3), (-5,)), ValueError,
     "axis -5 is out of bounds for array of dimension 3"),
    # reduce_precision
    ("reduce_precision_exp", lambda: lax.reduce_precision(f32(3), exponent_bits=0,
                                                          mantissa_bits=2), ValueError,
     "reduce_precision: exponent_bits must be positive; got 0"),
    ("reduce_precision_mant", lambda: lax.reduce_precision(f32(3), exponent_bits=2,
                                                           mantissa_bits=-1), ValueError,
     "reduce_precision: mantissa_bits must be non-negative; got -1"),
    # families that already validated eagerly (kept here as regression checks)
    ("concat_shape", lambda: lax.concatenate([f32(2, 3), f32(2, 4)], 0), TypeError,
     "Cannot concatenate arrays with shapes that differ in dimensions other than the one "
     "being concatenated"),
    ("concat_dtype", lambda: lax.concatenate([f32(2, 3), i32(2, 3)], 0), TypeError,
     "lax.concatenate requires arguments to have the same dtypes"),
    ("concat_dim", lambda: lax.concatenate([f32(2, 3), f32(2, 3)], 2), TypeError,
     "concatenate dimension out of bounds"),
    ("pad_rank", lambda: lax.pad(f32(2, 3), 0., [(1, 1, 0)]), ValueError,
     "length of padding_config must equal the number of axes of operand"),
    ("pad_dtype", lambda: lax.pad(f32(2, 3), jnp.int32(0), [(1, 1, 0), (0, 0, 0)]), TypeError,
     "pad operand and padding_value must be same dtype"),
    ("pad_interior", lambda: lax.pad(f32(2, 3), 0., [(1, 1, -1), (0, 0, 0)]), ValueError,
     "interior padding in padding_config must be nonnegative"),
    ("slice_oob", lambda: lax.slice(f32(5), (0,), (7,)), TypeError,
     "must be less than or equal to operand shape"),
    ("dynamic_slice_rank", lambda: lax.dynamic_slice(f32(5, 5), (0,), (3,)), ValueError,
     "Length of slice indices must match number of operand dimensions"),
    ("dynamic_slice_size", lambda: lax.dynamic_slice(f32(5), (0,), (7,)), TypeError,
     "slice slice_sizes must be less than or equal to operand shape"),
    ("dynamic_update_rank", lambda: lax.dynamic_update_slice(f32(5, 5), f32(3), (0, 0)),
     TypeError, "dynamic_update_slice update must have the same rank as operand"),
    ("dynamic_update_dtype", lambda: lax.dynamic_update_slice(f32(5), i32(2), (0,)),
     TypeError, "lax.dynamic_update_slice requires arguments to have the same dtypes"),
    ("reduce_sum_axes", lambda: lax.reduce_sum(f32(2, 3), (2,)), ValueError,
     "reduction axes (2,) contains out-of-bounds indices for float32[2,3]"),
    ("reduce_max_dup", lambda: lax.reduce_max(f32(2, 3), (0, 0)), ValueError,
     "duplicate value in 'axes' of reduction: (0, 0)"),
    ("reduce_and_float", lambda: lax.reduce_and(f32(2, 3), (0,)), TypeError,
     "logical reduction requires operand dtype bool or int, got float32"),
    ("argmax_axis", lambda: lax.argmax(f32(2, 3), 2, jnp.int32), ValueError,
     "Invalid axis 2 for operand shape (2, 3)"),
    ("cumsum_axis", lambda: lax.cumsum(f32(2, 3), 2), ValueError,
     "axis 2 is out of bounds for array of shape (2, 3)"),
    ("conv_features", lambda: lax.conv_general_dilated(f32(1, 3, 8, 8), f32(4, 2, 3, 3),
                                                       (1, 1), "VALID"), ValueError,
     "conv_general_dilated lhs feature dimension size divided by feature_group_count must "
     "equal the rhs input feature dimension size"),
    ("conv_rank", lambda: lax.conv_general_dilated(f32(1, 3, 8), f32(4, 3, 3, 3), (1, 1),
                                                   "VALID"), TypeError,
     "convolution requires lhs and rhs ndim to be equal"),
    ("sort_shapes", lambda: lax.sort((f32(3), f32(4)), num_keys=1), TypeError,
     "Arguments to sort must have equal shapes"),
    ("top_k_big", lambda: lax.top_k(f32(3), 5), ValueError,
     "k argument to top_k must be no larger than size along axis"),
]


@pytest.mark.parametrize("call,exc,fragment", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_eager_error(call, exc, fragment):
  with pytest.raises(exc) as info:
    call()
  assert fragment in str(info.value)
  assert type(info.value) is exc or issubclass(type(info.value), exc)


# The same invalid calls under jit raise the same class (the shape rule is the one source).
JIT_CASES = ["add_shape", "add_rank", "bid_bad_shape", "bid_dims_len", "reshape_neg",
             "transpose_dup", "select_n_shape", "select_n_pred_shape", "clamp_shape",
             "dot_general_contract", "dot_general_batch", "dot_general_dim_oob",
             "integer_pow_bool", "iota_dim"]


@pytest.mark.parametrize("name", JIT_CASES)
def test_jit_error_matches_eager(name):
  (call, exc, fragment), = [c[1:] for c in CASES if c[0] == name]
  with pytest.raises(exc) as info:
    numjax.jit(call)()
  assert fragment in str(info.value)


# Valid calls NumPy-alike ops must still accept (JAX 0.10.2 accepts each of them).
def test_valid_calls_still_work():
  x = np.arange(3, dtype=np.float32)
  # rank-0 operands mix with arrays
  np.testing.assert_allclose(lax.add(jnp.asarray(x), jnp.float32(2)), x + 2)
  np.testing.assert_allclose(lax.mul(jnp.float32(2), jnp.asarray(x)), 2 * x)
  # equal-rank operands with unit dimensions broadcast, as in JAX
  a = np.arange(3, dtype=np.float32).reshape(3, 1)
  c = np.arange(3, dtype=np.float32).reshape(1, 3)
  np.testing.assert_allclose(lax.add(jnp.asarray(a), jnp.asarray(c)), a + c)
  # shifts and pow accept what they accepted before
  np.testing.assert_array_equal(lax.shift_left(i32(3), i32(3)), np.full(3, 2, np.int32))
  # broadcast_in_dim with unit dims mapped out of order (JAX accepts it)
  out = lax.broadcast_in_dim(jnp.ones((1, 1)), (3, 3), (1, 0))
  assert out.shape == (3, 3)
  out = lax.broadcast_in_dim(jnp.asarray(x), (2, 3), (1,))
  np.testing.assert_allclose(out, np.broadcast_to(x, (2, 3)))
  # reshape with a dimensions permutation, transpose, select_n with int which
  y = np.arange(6, dtype=np.float32).reshape(2, 3)
  np.testing.assert_allclose(lax.reshape(jnp.asarray(y), (3, 2), dimensions=(1, 0)),
                             y.T.reshape(3, 2))
  np.testing.assert_allclose(lax.transpose(jnp.asarray(y), (1, 0)), y.T)
  w = np.array([0, 1, 0], np.int32)
  np.testing.assert_allclose(lax.select_n(jnp.asarray(w), jnp.asarray(x), jnp.asarray(-x)),
                             np.where(w == 1, -x, x))
  np.testing.assert_allclose(lax.clamp(jnp.float32(0.5), jnp.asarray(x), jnp.float32(1.5)),
                             np.clip(x, 0.5, 1.5))
  np.testing.assert_allclose(lax.integer_pow(jnp.asarray(x), 3), x ** 3)
  np.testing.assert_array_equal(lax.broadcasted_iota(jnp.int32, (2, 3), 1),
                                np.broadcast_to(np.arange(3), (2, 3)))
  np.testing.assert_allclose(lax.dot(jnp.asarray(y), jnp.asarray(y.T)), y @ y.T, rtol=1e-6)
  np.testing.assert_allclose(lax.expand_dims(jnp.asarray(y), (-1,)), y[..., None])
  np.testing.assert_allclose(lax.squeeze(jnp.ones((1, 3)), (-2,)), np.ones(3))


def test_invalid_calls_raise_every_time():
  # validation results are cached for valid signatures only
  for _ in range(2):
    with pytest.raises(TypeError):
      lax.sin(i32(3))
    with pytest.raises(TypeError):
      lax.broadcast_in_dim(f32(3), (4, 5), (1,))


# lax binary ops with a Python scalar of a higher kind than the array (or an int outside
# its range): JAX types the scalar int32/float32/complex64 and raises; messages recorded
# from JAX 0.10.2 (e.g. lax.mul(jnp.arange(3), 0.7)).
_TIP = "(Tip: jnp.{} is a similar function that does automatic type promotion on inputs)."
_SCALAR_MISMATCH = [
    ("mul", "int32", 0.7, "lax.mul requires arguments to have the same dtypes, got int32, float32. "
     + _TIP.format("multiply")),
    ("mul", "uint8", -1, "lax.mul requires arguments to have the same dtypes, got uint8, int32. "
     + _TIP.format("multiply")),
    ("mul", "int8", 300, "lax.mul requires arguments to have the same dtypes, got int8, int32. "
     + _TIP.format("multiply")),
    ("mul", "int32", 1 + 2j, "lax.mul requires arguments to have the same dtypes, got int32, "
     "complex64. " + _TIP.format("multiply")),
    ("mul", "float32", 1j, "lax.mul requires arguments to have the same dtypes, got float32, "
     "complex64. " + _TIP.format("multiply")),
    ("sub", "int32", 0.5, "lax.sub requires arguments to have the same dtypes, got int32, float32. "
     + _TIP.format("subtract")),
]


@pytest.mark.parametrize("name,dt,scalar,msg", _SCALAR_MISMATCH)
def test_python_scalar_of_another_kind_is_a_dtype_error(name, dt, scalar, msg):
  from numjax import lax
  x = jnp.arange(3).astype(dt)
  with pytest.raises(TypeError) as e:
    getattr(lax, name)(x, scalar)
  assert str(e.value) == msg
  with pytest.raises(TypeError):
    numjax.jit(lambda v: getattr(lax, name)(v, scalar))(x)


@pytest.mark.parametrize("dt,scalar", [("float32", 2.5), ("int8", 2), ("uint8", 100),
                                       ("complex64", 2.0), ("bfloat16", 2.0)])
def test_python_scalar_of_the_same_kind_takes_the_array_dtype(dt, scalar):
  from numjax import lax
  x = jnp.arange(3).astype(dt)
  y = lax.mul(x, scalar)
  assert y.dtype == x.dtype
  np.testing.assert_allclose(np.asarray(y).astype(np.complex128),
                             np.asarray(x).astype(np.complex128) * scalar, rtol=1e-2)
