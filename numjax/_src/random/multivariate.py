"""Samplers with a linear-algebra step: multivariate_normal and orthogonal."""
from __future__ import annotations

import operator

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.lax import lax
from numjax._src.random.samplers import (
    _normal, broadcast_shapes, canonicalize_shape, check_shape, float_dtype, key_arg, shape_of)
from numjax._src.random.plans import planned


@planned
def multivariate_normal(key, mean, cov, shape=None, dtype=None, method="cholesky", *,
                        out_sharding=None):
  """Samples of N(mean, cov): mean + factor @ z, with factor from a Cholesky ('cholesky',
  the default), eigen ('eigh') or singular value ('svd') decomposition of cov."""
  import numjax.numpy as jnp
  from numjax._src.numpy.util import promote_dtypes_inexact
  key = key_arg("multivariate_normal", key)
  mean, cov = promote_dtypes_inexact(mean, cov)
  if method not in {"svd", "eigh", "cholesky"}:
    raise ValueError("method must be one of {'svd', 'eigh', 'cholesky'}")
  if dtype is None:
    dtype = mean.dtype
  else:
    dtype = _dtypes.check_and_canonicalize_user_dtype(dtype)
  if not _dtypes.issubdtype(dtype, np.floating):
    raise ValueError(f"dtype argument to `multivariate_normal` must be a float dtype, got "
                     f"{dtype}")
  if shape is not None:
    shape = canonicalize_shape(shape)
  if not mean.ndim >= 1:
    raise ValueError(f"multivariate_normal requires mean.ndim >= 1, got mean.ndim == "
                     f"{mean.ndim}")
  if not cov.ndim >= 2:
    raise ValueError(f"multivariate_normal requires cov.ndim >= 2, got cov.ndim == {cov.ndim}")
  n = mean.shape[-1]
  if tuple(cov.shape[-2:]) != (n, n):
    raise ValueError(f"multivariate_normal requires cov.shape == (..., n, n) for n={n}, but "
                     f"got cov.shape == {tuple(cov.shape)}.")
  if shape is None:
    shape = broadcast_shapes(tuple(mean.shape[:-1]), tuple(cov.shape[:-2]))
  else:
    check_shape("normal", shape, tuple(mean.shape[:-1]), tuple(cov.shape[:-2]))
  if method == "svd":
    u, s, _ = jnp.linalg.svd(cov)
    factor = jnp.multiply(u, jnp.sqrt(s[..., None, :]))
  elif method == "eigh":
    w, v = jnp.linalg.eigh(cov)
    factor = jnp.multiply(v, jnp.sqrt(w[..., None, :]))
  else:
    factor = jnp.linalg.cholesky(cov)
  normal_samples = _normal(key, tuple(shape) + (n,), np.dtype(dtype))
  return jnp.add(mean, jnp.einsum("...ij,...j->...i", factor, normal_samples))


@planned
def orthogonal(key, n, shape=(), dtype=None, m=None, *, out_sharding=None):
  """Random (n, m) matrices with orthonormal rows or columns (Haar measure when square):
  the Q of the QR decomposition of a Gaussian matrix, signs fixed by diag(R)."""
  import numjax.numpy as jnp
  m_ = n if m is None else m
  shape = canonicalize_shape(shape)
  key = key_arg("orthogonal", key)
  dtype = float_dtype(dtype, "orthogonal", np.inexact, "a float or complex")
  check_shape("orthogonal", shape)
  n = core.concrete_or_error(operator.index, n, "The error occurred in jax.random.orthogonal()")
  m_ = core.concrete_or_error(operator.index, m_, "The error occurred in jax.random.orthogonal()")
  z = _normal(key, (*shape, max(n, m_), min(n, m_)), dtype)
  q, r = jnp.linalg.qr(z)
  d = jnp.diagonal(r, axis1=-2, axis2=-1)
  x = jnp.multiply(q, jnp.expand_dims(jnp.sign(d), -2))
  if n < m_:
    return jnp.swapaxes(x, -1, -2)
  return x
