"""jax.nn: activation functions, softmax & co, one_hot, standardize, dot_product_attention
and the (reference) block-scaled matmuls. Written with jnp/lax, so everything jits, vmaps and
differentiates; relu, relu6 and log1mexp carry JAX's custom derivatives.
"""
from __future__ import annotations

import dataclasses
import operator
import warnings
from typing import Any

import numpy as np

from numjax._src import core
from numjax._src import dtypes
from numjax._src.custom_derivatives import custom_jvp
from numjax._src.lax import lax
from numjax._src.numpy import util
from numjax._src.scipy.special import logsumexp  # noqa: F401 (jax.nn.logsumexp)


def _jnp():
  import numjax.numpy as jnp
  return jnp


def identity(x):
  """Identity activation: returns x unchanged."""
  return util.ensure_arraylike("identity", x)


@custom_jvp
@util.jit_when_traced
def relu(x):
  """Rectified linear unit max(x, 0); its derivative at 0 is 0 (as JAX)."""
  return _jnp().maximum(x, 0)


relu.defjvps(lambda g, ans, x: lax.select(x > 0, g, lax.full_like(g, 0)))


@custom_jvp
@util.jit_when_traced
def relu6(x):
  """min(max(x, 0), 6); derivative 0 at 0 and at 6 (as JAX)."""
  jnp = _jnp()
  return jnp.minimum(jnp.maximum(x, 0), 6.0)


relu6.defjvps(lambda g, ans, x: lax.select((x > 0) & (x < 6), g, lax.full_like(g, 0)))


def squareplus(x, b=4):
  """(x + sqrt(x^2 + b)) / 2."""
  jnp = _jnp()
  x, b = util.ensure_arraylike("squareplus", x, b)
  return (x + jnp.sqrt(jnp.square(x) + b)) / 2


@util.jit_when_traced
def softplus(x):
  """log(1 + exp(x)), computed as logaddexp(x, 0)."""
  return _jnp().logaddexp(x, 0)


def sparse_plus(x):
  """0 for x <= -1, (x + 1)^2 / 4 on (-1, 1), x for x >= 1."""
  jnp = _jnp()
  x = util.ensure_arraylike("sparse_plus", x)
  return jnp.where(x <= -1.0, 0.0, jnp.where(x >= 1.0, x, (x + 1.0) ** 2 / 4))


def soft_sign(x):
  """x / (|x| + 1)."""
  jnp = _jnp()
  x = util.ensure_arraylike("soft_sign", x)
  return x / (jnp.abs(x) + 1)


def sigmoid(x):
  """The logistic sigmoid 1 / (1 + exp(-x))."""
  return lax.logistic(x)


def sparse_sigmoid(x):
  """clip((x + 1) / 2, 0, 1): the derivative of sparse_plus."""
  return 0.5 * _jnp().clip(x + 1.0, 0.0, 2.0)


@util.jit_when_traced
def silu(x):
  """x * sigmoid(x) (also called swish)."""
  x = util.ensure_arraylike("silu", x)
  return x * sigmoid(x)


swish = silu


def mish(x):
  """x * tanh(softplus(x))."""
  x = util.ensure_arraylike("mish", x)
  return x * _jnp().tanh(softplus(x))


@util.jit_when_traced
def log_sigmoid(x):
  """log(sigmoid(x)) = -softplus(-x)."""
  x = util.ensure_arraylike("log_sigmoid", x)
  return -softplus(-x)


@util.jit_when_traced
def elu(x, alpha=1.0):
  """x for x > 0, alpha * (exp(x) - 1) otherwise."""
  jnp = _jnp()
  x = util.ensure_arraylike("elu", x)
  return jnp.where(x > 0, x, alpha * jnp.expm1(jnp.where(x > 0, 0.0, x)))


@util.jit_when_traced
def leaky_relu(x, negative_slope=0.01):
  """x for x >= 0, negative_slope * x otherwise."""
  x = util.ensure_arraylike("leaky_relu", x)
  return _jnp().where(x >= 0, x, negative_slope * x)


@util.jit_when_traced
def hard_tanh(x):
  """clip(x, -1, 1)."""
  jnp = _jnp()
  x = util.ensure_arraylike("hard_tanh", x)
  return jnp.where(x > 1, 1, jnp.where(x < -1, -1, x))


@util.jit_when_traced
def celu(x, alpha=1.0):
  """max(x, 0) + alpha * expm1(min(x, 0) / alpha)."""
  jnp = _jnp()
  return jnp.maximum(x, 0.0) + alpha * jnp.expm1(jnp.minimum(x, 0.0) / alpha)


@util.jit_when_traced
def selu(x):
  """Scaled ELU with the self-normalising constants."""
  alpha = 1.6732632423543772848170429916717
  scale = 1.0507009873554804934193349852946
  return scale * elu(x, alpha)


def gelu(x, approximate=True):
  """Gaussian error linear unit: the tanh approximation (default) or exact via erfc."""
  jnp = _jnp()
  (x,) = util.promote_args_inexact("gelu", x)
  if approximate:
    c = np.sqrt(2 / np.pi).astype(x.dtype)
    return x * (0.5 * (1.0 + jnp.tanh(c * (x + 0.044715 * x ** 3))))
  half = np.sqrt(0.5).astype(x.dtype)
  return jnp.asarray(0.5 * x * lax.erfc(-x * half), dtype=x.dtype)


@util.jit_when_traced(static_argnames=("axis",))
def glu(x, axis=-1):
  """Gated linear unit: the first half of x along `axis` times sigmoid of the second."""
  jnp = _jnp()
  x = util.ensure_arraylike("glu", x)
  if x.shape[axis] % 2:
    raise AssertionError("axis size must be divisible by 2")
  x1, x2 = jnp.split(x, 2, axis)
  return x1 * sigmoid(x2)


def _count(x, axis, where, keepdims, dtype):
  jnp = _jnp()
  x = jnp.asarray(x)
  if where is None:
    axes = tuple(range(x.ndim)) if axis is None else (
        tuple(axis) if isinstance(axis, (tuple, list)) else (axis,))
    axes = tuple(util.canonicalize_axis(a, x.ndim) for a in axes)
    n = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    shape = tuple(1 if i in axes else s for i, s in enumerate(x.shape)) if keepdims else \
        tuple(s for i, s in enumerate(x.shape) if i not in axes)
    return jnp.full(shape, n, dtype)
  return jnp.sum(jnp.broadcast_to(where, x.shape), axis=axis, keepdims=keepdims, dtype=dtype)


def logmeanexp(x, axis=None, where=None, keepdims=False):
  """log(mean(exp(x))) = logsumexp(x) - log(n), over `axis` (masked by `where`)."""
  lse = logsumexp(x, axis=axis, where=where, keepdims=keepdims)
  n = _count(x, axis, where, keepdims, lse.dtype)
  return lse - _jnp().log(n)


@util.jit_when_traced(static_argnames=("axis",))
def log_softmax(x, axis=-1, where=None):
  """log(softmax(x)), computed stably; masked-out elements (where=False) give -inf."""
  jnp = _jnp()
  x = util.ensure_arraylike("log_softmax", x)
  x_max = jnp.max(x, axis, where=where, initial=-np.inf, keepdims=True)
  x_safe = x if where is None else jnp.where(where, x, -np.inf)
  shifted = x_safe - lax.stop_gradient(x_max)
  lse = jnp.log(jnp.sum(jnp.exp(shifted), axis, where=where, keepdims=True))
  out = shifted - lse
  return jnp.where(where, out, -np.inf) if where is not None else out


def softmax(x, axis=-1, where=None):
  """exp(x) / sum(exp(x)) along `axis` (the max is subtracted under stop_gradient, as JAX
  0.10.2's default); masked-out elements (where=False) give 0."""
  jnp = _jnp()
  x = util.ensure_arraylike("softmax", x)
  x_max = jnp.max(x, axis, where=where, initial=-np.inf, keepdims=True)
  x_safe = x if where is None else jnp.where(where, x, -np.inf)
  unnorm = jnp.exp(x_safe - lax.stop_gradient(x_max))
  out = unnorm / jnp.sum(unnorm, axis, where=where, keepdims=True)
  return jnp.where(where, out, 0) if where is not None else out


@util.jit_when_traced(static_argnames=("axis", "algorithm"))
def standardize(x, axis=-1, mean=None, variance=None, epsilon=1e-5, where=None, *,
                algorithm="fast"):
  """(x - mean) / sqrt(variance + epsilon) along `axis`; the variance as E[x^2] - mean^2
  ('fast', clipped at 0) or E[(x - mean)^2] ('stable')."""
  jnp = _jnp()
  util.check_arraylike("standardize", x)
  util.check_arraylike_or_none("standardize", mean, variance, where)
  if mean is None:
    mean = jnp.mean(x, axis, keepdims=True, where=where)
  if variance is None:
    if algorithm == "stable":
      variance = jnp.mean(jnp.square(jnp.subtract(x, mean)), axis, keepdims=True,
                          where=where)
    elif algorithm == "fast":
      variance = jnp.mean(jnp.square(x), axis, keepdims=True, where=where) - jnp.square(mean)
      variance = jnp.clip(variance, 0)
    else:
      raise ValueError(f"Unknown algorithm '{algorithm}'. Expected 'fast' or 'stable'.")
  return jnp.subtract(x, mean) * lax.rsqrt(variance + epsilon)


def one_hot(x, num_classes, *, dtype=None, axis=-1):
  """One-hot encoding of integer x along a new axis of size num_classes (out-of-range
  values give all zeros); dtype defaults to the default float type."""
  jnp = _jnp()
  num_classes = core.concrete_dim_or_error(
      num_classes, "The error arose in jax.nn.one_hot argument `num_classes`.")
  x = jnp.asarray(x)
  if not dtypes.issubdtype(x.dtype, np.integer) and x.dtype != np.bool_:
    warnings.warn(f"jax.nn.one_hot input should be integer-typed; got dtype={x.dtype}",
                  DeprecationWarning, stacklevel=2)
  dtype = dtypes.default_float_dtype() if dtype is None else dtype
  if isinstance(axis, str):  # a named (vmap) axis
    size = lax_axis_size(axis)
    if num_classes != size:
      raise ValueError(f"Expected num_classes to match the size of axis {axis}, but "
                       f"{num_classes} != {size}")
    from numjax._src.lax.parallel import axis_index
    return jnp.asarray(x == axis_index(axis), dtype=dtype)
  return _one_hot(x, num_classes, dtype=dtype, axis=axis)


@util.jit_when_traced(static_argnames=("num_classes", "dtype", "axis"))
def _one_hot(x, num_classes, *, dtype, axis):
  out_axis = util.canonicalize_axis(axis, x.ndim + 1)
  lhs = lax.expand_dims(x, (out_axis,))
  shape = [1] * x.ndim
  shape.insert(out_axis, num_classes)
  rhs = lax.broadcasted_iota(x.dtype, shape, out_axis)
  return (lhs == rhs).astype(dtype)


def lax_axis_size(name):
  from numjax._src.lax.parallel import axis_size
  return axis_size(name)


def hard_sigmoid(x):
  """relu6(x + 3) / 6."""
  return relu6(x + 3.0) / 6.0


def hard_silu(x):
  """x * hard_sigmoid(x) (also called hard_swish)."""
  x = util.ensure_arraylike("hard_silu", x)
  return x * hard_sigmoid(x)


hard_swish = hard_silu


@custom_jvp
def _log1mexp(x):
  jnp = _jnp()
  c = jnp.log(2.0)
  return jnp.where(x < c, jnp.log(-jnp.expm1(-x)), jnp.log1p(-jnp.exp(-x)))


_log1mexp.defjvps(lambda g, ans, x: g / _jnp().expm1(x))


def log1mexp(x):
  """log(1 - exp(-x)) for x > 0, switching between log(-expm1(-x)) and log1p(-exp(-x))
  at log 2 for accuracy."""
  x = util.ensure_arraylike("log1mexp", x)
  return _log1mexp(x)


# ---------------------------------------------------------------------------------------
# Attention

def _large_negative(dtype):
  big = min(float(dtypes.finfo(dtype).max), float(np.finfo(np.float32).max))
  return _jnp().asarray(-0.7 * big, dtype=dtype)


def _masks(logits, mask, is_causal, q_len, kv_len, window):
  jnp = _jnp()
  if mask is None and not is_causal and q_len is None and kv_len is None and window is None:
    return logits
  combined = jnp.ones(logits.shape, dtype=bool)
  if mask is not None:
    combined = combined & mask
  t, s = logits.shape[-2], logits.shape[-1]
  if is_causal:
    combined = combined & jnp.tril(jnp.ones((t, s), dtype=bool))
  if window is not None:
    left, right = window
    qp = np.arange(t)[:, None]
    kp = np.arange(s)[None, :]
    combined = combined & jnp.asarray((qp <= kp + left) & (qp >= kp - right))
  if q_len is not None or kv_len is not None:
    pad = True
    if q_len is not None:
      pad = jnp.arange(t)[None, :, None] < q_len[:, None, None]
    if kv_len is not None:
      kvm = jnp.arange(s)[None, None, :] < kv_len[:, None, None]
      pad = kvm if pad is True else pad & kvm
    pad = jnp.reshape(pad, (pad.shape[0],) + (1,) * (logits.ndim - 3) + pad.shape[1:])
    combined = combined & pad
  return jnp.where(combined, logits, _large_negative(logits.dtype))


def _attention_xla(q, k, v, bias, mask, is_causal, scale, q_len, kv_len, window,
                   return_residual):
  """q (B, T, N, H), k/v (B, S, K, H) with N = K * G query heads per kv head."""
  jnp = _jnp()
  b, t, n, h = q.shape
  _, s, kh, _ = k.shape
  g = n // kh
  qg = jnp.reshape(q, (b, t, kh, g, h))
  logits_dt = jnp.promote_types(q.dtype, np.float32)
  logits = jnp.einsum("BTKGH,BSKH->BKGTS", qg, k, preferred_element_type=logits_dt)
  logits = logits * jnp.asarray(scale, dtype=logits.dtype)

  def grouped(x):  # (B, N or 1, T, S) -> (B, K, G, T, S)
    if x is None:
      return None
    xb, xn, xt, xs = x.shape
    if xn == 1:
      return jnp.broadcast_to(x[:, :, None], (xb, 1, g, xt, xs))
    return jnp.reshape(x, (xb, kh, g, xt, xs))
  if bias is not None:
    logits = (logits + grouped(bias)).astype(logits.dtype)
  mk = grouped(mask)
  padded = _masks(logits, mk, is_causal, q_len, kv_len, window)
  padded = padded.astype(np.float32)
  probs = softmax(padded, axis=-1).astype(k.dtype)
  enc = jnp.einsum("BKGTS,BSKH->BTKGH", probs, v)
  if q_len is not None:
    valid = jnp.arange(t)[None, :] < q_len[:, None]
    enc = enc * valid[:, :, None, None, None].astype(enc.dtype)
  enc = jnp.reshape(enc, (b, t, n, h))
  if return_residual:
    lse = logsumexp(padded, axis=-1).astype(k.dtype)          # B, K, G, T
    lse = jnp.reshape(jnp.transpose(lse, (0, 3, 1, 2)), (b, t, n))
    return enc, lax.stop_gradient(lse)
  return enc


def dot_product_attention(query, key, value, bias=None, mask=None, *, scale=None,
                          is_causal=False, query_seq_lengths=None,
                          key_value_seq_lengths=None, local_window_size=None,
                          implementation=None, return_residual=False):
  """Scaled dot-product attention softmax(q k^T * scale + bias, masked) v over inputs
  (B, T, N, H) / (B, S, K, H) (or without the batch dim), with grouped-query heads (N a
  multiple of K). implementation: None or 'xla' ('cudnn' is not available here)."""
  jnp = _jnp()
  out_shape = jnp.asarray(query).shape
  res_shape = out_shape[:-1]

  def as4d(t):
    t = jnp.asarray(t)
    return jnp.expand_dims(t, tuple(range(4 - t.ndim))) if t.ndim < 4 else t
  q, k, v = as4d(query), as4d(key), as4d(value)
  bias = as4d(bias) if bias is not None else None
  mask = as4d(mask) if mask is not None else None
  if query_seq_lengths is not None:
    query_seq_lengths = jnp.asarray(query_seq_lengths)
  if key_value_seq_lengths is not None:
    key_value_seq_lengths = jnp.asarray(key_value_seq_lengths)
  if isinstance(local_window_size, int):
    local_window_size = (local_window_size, local_window_size)

  def check(t, shape, dtype, name):
    if t is None:
      return
    if t.ndim != len(shape):
      raise ValueError(f"{name} ndim should be {len(shape)}, but got {t.ndim}")
    if dtype is not None and t.dtype != dtype:
      raise ValueError(f"{name} dtype should be {dtype}, but got {t.dtype}")
    for i in range(t.ndim):
      if shape[i] != -1 and t.shape[i] != shape[i]:
        raise ValueError(f"{name} shape should be {shape}: but got {t.shape}")
  b, s, kh, h = k.shape
  check(v, [b, s, kh, h], k.dtype, "value")
  check(q, [b, -1, -1, h], k.dtype, "query")
  check(mask, [-1] * 4, np.dtype(bool), "mask")
  check(bias, [-1] * 4, None, "bias")
  check(query_seq_lengths, [b], np.dtype("int32"), "query_seq_lengths")
  check(key_value_seq_lengths, [b], np.dtype("int32"), "key_value_seq_lengths")
  if q.shape[-2] % kh != 0:
    raise ValueError(f"The number of query heads must be a multiple of key/value heads, but "
                     f"got {q.shape[-2]} vs {kh}")
  scale_val = 1.0 / np.sqrt(h) if scale is None else scale
  if implementation == "cudnn":
    raise NotImplementedError("implementation='cudnn' needs a CUDA GPU; numjax runs on the "
                              "CPU: use implementation=None or 'xla'.")
  if implementation not in (None, "xla"):
    raise ValueError(f"Unsupported implementation option: {implementation}")
  out = _attention_xla(q, k, v, bias, mask, is_causal, scale_val, query_seq_lengths,
                       key_value_seq_lengths, local_window_size, return_residual)
  if return_residual:
    enc, res = out
    return jnp.reshape(enc, out_shape), jnp.reshape(res, res_shape)
  return jnp.reshape(out, out_shape)


# ---------------------------------------------------------------------------------------
# Block-scaled matmuls (microscaling formats), evaluated by dequantising

@dataclasses.dataclass
class BlockScaleConfig:
  mode: str
  block_size: int
  data_type: Any
  scale_type: Any
  global_scale: Any
  infer_only: bool


def scaled_matmul(lhs, rhs, lhs_scales, rhs_scales, preferred_element_type=np.float32):
  """Block-scaled batched matmul: out[b, m, n] = sum_k lhs[b, m, k] * lhs_scales[b, m,
  k // blk] * rhs[b, n, k] * rhs_scales[b, n, k // blk] (blk = K / K_scales)."""
  jnp = _jnp()
  a, b_, sa, sb = (jnp.asarray(t) for t in (lhs, rhs, lhs_scales, rhs_scales))
  if not all(t.ndim == 3 for t in (a, b_, sa, sb)):
    raise ValueError("scaled_matmul requires all inputs to be 3-dimensional arrays")
  ba, m, ka = a.shape
  bb, n, kb = b_.shape
  if ka != kb or ba != bb:
    raise ValueError(f"scaled_matmul requires inputs a and b to have matching batch (B) and "
                     f"contract (K) dimensions, but got shapes {a.shape} and {b_.shape}")
  bas, mas, kas = sa.shape
  bbs, nbs, kbs = sb.shape
  if kas != kbs or bas != bbs:
    raise ValueError(f"scaled_matmul requires scales to have matching batch (B) and contract "
                     f"(K) dimensions, but got shapes {sa.shape} and {sb.shape}")
  if mas != m or nbs != n:
    raise ValueError(f"scaled_matmul requires scales to match non-contract dimensions of "
                     f"inputs, but got shapes a: {a.shape}, b: {b_.shape}, a_scales: "
                     f"{sa.shape}, b_scales: {sb.shape}")
  pet = dtypes.canonicalize_dtype(preferred_element_type)
  blk = ka // kas
  deq_a = a.astype(np.float32) * jnp.repeat(sa.astype(np.float32), blk, axis=-1)
  deq_b = b_.astype(np.float32) * jnp.repeat(sb.astype(np.float32), blk, axis=-1)
  out = jnp.einsum("bmk,bnk->bmn", deq_a, deq_b, preferred_element_type=np.float32)
  return out.astype(pet)


def get_scaled_dot_general_config(mode, global_scale=None):
  """The block-scaling config of 'nvfp4' (16-element blocks of float4_e2m1fn with
  float8_e4m3fn scales) or 'mxfp8' (32-element blocks of float8_e4m3fn, float8_e8m0fnu
  scales)."""
  jnp = _jnp()
  if mode == "nvfp4":
    one = jnp.ones((1,), dtype=np.float32)
    return BlockScaleConfig("nvfp4", 16, dtypes.float4_e2m1fn, dtypes.float8_e4m3fn,
                            one if global_scale is None else global_scale, False)
  if mode == "mxfp8":
    return BlockScaleConfig("mxfp8", 32, dtypes.float8_e4m3fn, dtypes.float8_e8m0fnu, None,
                            False)
  raise ValueError(f"Unsupported mode: {mode}")


def _quantize(x, contract_axis, config):
  """x quantised in blocks along contract_axis to config.data_type with per-block scales
  of config.scale_type, returned dequantised (the numbers the scaled matmul would use)."""
  jnp = _jnp()
  x = jnp.moveaxis(jnp.asarray(x, np.float32), contract_axis, -1)
  k = x.shape[-1]
  blk = config.block_size
  pad = (-k) % blk
  if pad:
    x = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, pad)])
  xb = jnp.reshape(x, x.shape[:-1] + (x.shape[-1] // blk, blk))
  amax = jnp.max(jnp.abs(xb), axis=-1, keepdims=True)
  dmax = float(dtypes.finfo(config.data_type).max)
  gscale = 1.0 if config.global_scale is None else jnp.asarray(config.global_scale,
                                                               np.float32).reshape(())
  raw = amax / dmax / gscale
  if np.dtype(config.scale_type) == np.dtype(dtypes.float8_e8m0fnu):
    # power-of-two scales (MX formats): round up, so no element overflows the data type
    raw = jnp.exp2(jnp.ceil(jnp.log2(jnp.where(raw > 0, raw, 1.0))))
  scale = raw.astype(config.scale_type).astype(np.float32) * gscale
  safe = jnp.where(scale == 0, 1.0, scale)
  q = jnp.clip(xb / safe, -dmax, dmax).astype(config.data_type).astype(np.float32)
  deq = jnp.reshape(q * scale, x.shape)[..., :k]
  return jnp.moveaxis(deq, -1, contract_axis)


def scaled_dot_general(lhs, rhs, dimension_numbers, preferred_element_type=np.float32,
                       configs=None, implementation=None):
  """lax.dot_general on block-quantised operands (configs: [lhs_config, rhs_config] from
  get_scaled_dot_general_config); without configs, a plain dot_general."""
  if implementation is not None:
    warnings.warn("Backend selector, now ignored. The system chooses the backend "
                  "automatically.", DeprecationWarning)
  if configs is None:
    return lax.dot_general(lhs, rhs, dimension_numbers,
                           preferred_element_type=preferred_element_type)
  (lc, rc), _ = dimension_numbers
  if len(lc) != 1 or len(rc) != 1:
    raise ValueError("scaled_dot_general supports exactly one contracting dimension.")
  ql = _quantize(lhs, operator.index(lc[0]), configs[0])
  qr = _quantize(rhs, operator.index(rc[0]), configs[1])
  out = lax.dot_general(ql, qr, dimension_numbers, preferred_element_type=np.float32)
  return out.astype(dtypes.canonicalize_dtype(preferred_element_type))

