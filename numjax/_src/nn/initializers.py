"""jax.nn.initializers: functions (key, shape, dtype) -> array, drawn from numjax.random
exactly as JAX draws them (so the numbers are JAX's)."""
from __future__ import annotations

import math
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

from numjax._src import core
from numjax._src import dtypes


def _jnp():
  import numjax.numpy as jnp
  return jnp


def _random():
  import numjax.random as random
  return random


def _float(dtype):
  return dtypes.default_float_dtype() if dtype is None else dtype


def _no_sharding(out_sharding, name):
  if out_sharding is not None:
    raise NotImplementedError(f"{name}: out_sharding is not supported by numjax (a single "
                              "CPU device): pass out_sharding=None.")


@runtime_checkable
class Initializer(Protocol):
  """The type of an initializer: (key, shape, dtype=None, out_sharding=None) -> Array."""

  def __call__(self, key, shape, dtype=None, out_sharding=None):
    raise NotImplementedError


def zeros(key, shape, dtype=None, out_sharding=None):
  """An initializer returning zeros."""
  _no_sharding(out_sharding, "zeros")
  return _jnp().zeros(shape, _float(dtype))


def ones(key, shape, dtype=None, out_sharding=None):
  """An initializer returning ones."""
  _no_sharding(out_sharding, "ones")
  return _jnp().ones(shape, _float(dtype))


def constant(value, dtype=None):
  """An initializer returning `value` everywhere."""
  def init(key, shape, dtype=dtype, out_sharding=None):
    _no_sharding(out_sharding, "constant")
    return _jnp().full(shape, value, dtype=_float(dtype))
  return init


def uniform(scale=1e-2, dtype=None):
  """An initializer drawing uniformly from [0, scale)."""
  def init(key, shape, dtype=dtype, out_sharding=None):
    _no_sharding(out_sharding, "uniform")
    dtype = _float(dtype)
    return _random().uniform(key, shape, dtype) * _jnp().array(scale, dtype)
  return init


def normal(stddev=1e-2, dtype=None):
  """An initializer drawing from a normal distribution with standard deviation stddev."""
  def init(key, shape, dtype=dtype, out_sharding=None):
    _no_sharding(out_sharding, "normal")
    dtype = _float(dtype)
    return _random().normal(key, shape, dtype) * _jnp().array(stddev, dtype)
  return init


def truncated_normal(stddev=1e-2, dtype=None, lower=-2.0, upper=2.0):
  """An initializer drawing from a normal truncated to [lower, upper] (in units of
  stddev) and scaled by stddev."""
  def init(key, shape, dtype=dtype, out_sharding=None):
    _no_sharding(out_sharding, "truncated_normal")
    dtype = _float(dtype)
    return (_random().truncated_normal(key, lower, upper, shape, dtype)
            * _jnp().array(stddev, dtype))
  return init


def _compute_fans(shape, in_axis=-2, out_axis=-1, batch_axis=()):
  """(fan_in, fan_out) of a weight shape: in/out sizes times the receptive field."""
  if isinstance(in_axis, int) and in_axis == -2 and len(shape) <= 1:
    raise ValueError(f"Can't compute input and output sizes of a {len(shape)}-dimensional "
                     "weights tensor with default in_axis. Must be at least 2D or specify "
                     "in_axis explicitly.")
  size = lambda ax: shape[ax] if isinstance(ax, int) else math.prod(shape[i] for i in ax)
  in_size, out_size, batch_size = size(in_axis), size(out_axis), size(batch_axis)
  receptive = math.prod(shape) / in_size / out_size / batch_size
  return in_size * receptive, out_size * receptive


def _complex_uniform(key, shape, dtype):
  """Uniform on the unit-area disk: r = sqrt(2 u), theta uniform."""
  jnp, random = _jnp(), _random()
  key_r, key_theta = random.split(key)
  real_dt = np.array(0, dtype).real.dtype
  cdt = dtypes.to_complex_dtype(real_dt) if hasattr(dtypes, "to_complex_dtype") else \
      np.result_type(real_dt, np.complex64)
  r = jnp.sqrt(2 * random.uniform(key_r, shape, real_dt)).astype(cdt)
  theta = 2 * np.pi * random.uniform(key_theta, shape, real_dt).astype(cdt)
  return r * jnp.exp(1j * theta)


def _complex_truncated_normal(key, upper, shape, dtype):
  jnp, random = _jnp(), _random()
  key_r, key_theta = random.split(key)
  real_dt = np.array(0, dtype).real.dtype
  cdt = dtypes.to_complex_dtype(real_dt) if hasattr(dtypes, "to_complex_dtype") else \
      np.result_type(real_dt, np.complex64)
  t = (1 - jnp.exp(jnp.array(-upper ** 2, cdt))) * random.uniform(key_r, shape,
                                                                   real_dt).astype(cdt)
  r = jnp.sqrt(-jnp.log(1 - t))
  theta = 2 * np.pi * random.uniform(key_theta, shape, real_dt).astype(cdt)
  return r * jnp.exp(1j * theta)


def variance_scaling(scale, mode, distribution, in_axis=-2, out_axis=-1, batch_axis=(),
                     dtype=None):
  """An initializer with variance scale / n, n the fan_in, fan_out, their mean
  ('fan_avg') or geometric mean ('fan_geo_avg'); the distribution 'truncated_normal',
  'normal' or 'uniform' (complex dtypes use the disk-shaped analogues)."""
  def init(key, shape, dtype=dtype, out_sharding=None):
    _no_sharding(out_sharding, "variance_scaling")
    jnp, random = _jnp(), _random()
    shape = tuple(core.concrete_dim_or_error(d, "initializer shape") for d in shape)
    dtype = _float(dtype)
    fan_in, fan_out = _compute_fans(shape, in_axis, out_axis, batch_axis)
    if mode == "fan_in":
      denom = fan_in
    elif mode == "fan_out":
      denom = fan_out
    elif mode == "fan_avg":
      denom = (fan_in + fan_out) / 2
    elif mode == "fan_geo_avg":
      denom = (fan_in * fan_out) ** 0.5
    else:
      raise ValueError(f"invalid mode for variance scaling initializer: {mode}")
    variance = jnp.array(scale / denom, dtype=dtype)
    real = dtypes.issubdtype(dtype, np.floating)
    if distribution == "truncated_normal":
      if real:
        # 0.8796... is the std of a standard normal truncated to [-2, 2]
        stddev = jnp.sqrt(variance) / jnp.array(.87962566103423978, dtype)
        return random.truncated_normal(key, -2, 2, shape, dtype) * stddev
      stddev = jnp.sqrt(variance) / jnp.array(.95311164380491208, dtype)
      return _complex_truncated_normal(key, 2, shape, dtype) * stddev
    if distribution == "normal":
      return random.normal(key, shape, dtype) * jnp.sqrt(variance)
    if distribution == "uniform":
      if real:
        return random.uniform(key, shape, dtype, -1) * jnp.sqrt(3 * variance)
      return _complex_uniform(key, shape, dtype) * jnp.sqrt(variance)
    raise ValueError(f"invalid distribution for variance scaling initializer: "
                     f"{distribution}")
  return init


def glorot_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
  """Glorot/Xavier uniform: variance_scaling(1, 'fan_avg', 'uniform')."""
  return variance_scaling(1.0, "fan_avg", "uniform", in_axis, out_axis, batch_axis, dtype)


def glorot_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
  """Glorot/Xavier normal: variance_scaling(1, 'fan_avg', 'truncated_normal')."""
  return variance_scaling(1.0, "fan_avg", "truncated_normal", in_axis, out_axis, batch_axis,
                          dtype)


def lecun_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
  """LeCun uniform: variance_scaling(1, 'fan_in', 'uniform')."""
  return variance_scaling(1.0, "fan_in", "uniform", in_axis, out_axis, batch_axis, dtype)


def lecun_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
  """LeCun normal: variance_scaling(1, 'fan_in', 'truncated_normal')."""
  return variance_scaling(1.0, "fan_in", "truncated_normal", in_axis, out_axis, batch_axis,
                          dtype)


def he_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
  """He/Kaiming uniform: variance_scaling(2, 'fan_in', 'uniform')."""
  return variance_scaling(2.0, "fan_in", "uniform", in_axis, out_axis, batch_axis, dtype)


def he_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
  """He/Kaiming normal: variance_scaling(2, 'fan_in', 'truncated_normal')."""
  return variance_scaling(2.0, "fan_in", "truncated_normal", in_axis, out_axis, batch_axis,
                          dtype)


xavier_uniform = glorot_uniform
xavier_normal = glorot_normal
kaiming_uniform = he_uniform
kaiming_normal = he_normal


def orthogonal(scale=1.0, column_axis=-1, dtype=None):
  """An initializer of (semi-)orthogonal matrices: columns along column_axis, the other
  axes flattened into rows; scaled by `scale`."""
  def init(key, shape, dtype=dtype, out_sharding=None):
    _no_sharding(out_sharding, "orthogonal")
    jnp, random = _jnp(), _random()
    dtype = _float(dtype)
    if len(shape) < 2:
      raise ValueError("orthogonal initializer requires at least a 2D shape")
    if any(d == 0 for d in shape):
      return jnp.zeros(shape, dtype=dtype)
    n_rows, n_cols = math.prod(shape) // shape[column_axis], shape[column_axis]
    q = random.orthogonal(key, n_rows, (), dtype, n_cols)
    q = jnp.reshape(q, tuple(np.delete(shape, column_axis)) + (shape[column_axis],))
    q = jnp.moveaxis(q, -1, column_axis)
    return jnp.array(scale, dtype) * q
  return init


def delta_orthogonal(scale=1.0, column_axis=-1, dtype=None):
  """An initializer for convolution kernels (3-d, 4-d or 5-d, spatial dims first): zero
  except an orthogonal matrix at the spatial centre."""
  def init(key, shape, dtype=dtype, out_sharding=None):
    _no_sharding(out_sharding, "delta_orthogonal")
    jnp = _jnp()
    dtype = _float(dtype)
    if len(shape) not in (3, 4, 5):
      raise ValueError("Delta orthogonal initializer requires a 3D, 4D or 5D shape.")
    if shape[-1] < shape[-2]:
      raise ValueError("`fan_in` must be less or equal than `fan_out`. ")
    ortho = orthogonal(scale=scale, column_axis=column_axis, dtype=dtype)(key, shape[-2:])
    w = jnp.zeros(shape, dtype=dtype)
    centre = tuple((k - 1) // 2 for k in shape[:-2])
    return w.at[centre + (Ellipsis,)].set(ortho)
  return init


del Any, Sequence
