"""numjax.nn and numjax.nn.initializers: activations, softmax & co, one_hot, standardize
and dot_product_attention against NumPy/SciPy references (jit, vmap, check_grads through
the records); JAX's custom derivatives at the kinks; initializers against values recorded
from JAX 0.10.2 (same keys, same numbers) and their variance rules."""
import json
import os

import numpy as np
import pytest
import scipy.special as ss

import numjax
import numjax.numpy as jnp
from numjax import nn
from numjax.nn import initializers as init
from numjax.test_util import check_grads

from records import Rec, make_tests, uniform

RNG = np.random.default_rng(0)
DATA = os.path.join(os.path.dirname(__file__), "data")


def _np_gelu(x, approximate):
  if approximate:
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
  return 0.5 * x * (1 + ss.erf(x / np.sqrt(2)))


_SELU_A, _SELU_S = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
ELEMENTWISE = [
    ("relu", nn.relu, lambda x: np.maximum(x, 0)),
    ("relu6", nn.relu6, lambda x: np.minimum(np.maximum(x, 0), 6)),
    ("sigmoid", nn.sigmoid, ss.expit),
    ("softplus", nn.softplus, lambda x: np.logaddexp(x, 0)),
    ("sparse_plus", nn.sparse_plus,
     lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4))),
    ("soft_sign", nn.soft_sign, lambda x: x / (np.abs(x) + 1)),
    ("sparse_sigmoid", nn.sparse_sigmoid, lambda x: np.clip((x + 1) / 2, 0, 1)),
    ("silu", nn.silu, lambda x: x * ss.expit(x)),
    ("swish", nn.swish, lambda x: x * ss.expit(x)),
    ("mish", nn.mish, lambda x: x * np.tanh(np.logaddexp(x, 0))),
    ("log_sigmoid", nn.log_sigmoid, lambda x: -np.logaddexp(-x, 0)),
    ("elu", nn.elu, lambda x: np.where(x > 0, x, np.expm1(x))),
    ("elu_alpha", lambda x: nn.elu(x, 0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    ("leaky_relu", nn.leaky_relu, lambda x: np.where(x >= 0, x, 0.01 * x)),
    ("hard_tanh", nn.hard_tanh, lambda x: np.clip(x, -1, 1)),
    ("celu", lambda x: nn.celu(x, 0.7),
     lambda x: np.maximum(x, 0) + 0.7 * np.expm1(np.minimum(x, 0) / 0.7)),
    ("selu", nn.selu, lambda x: _SELU_S * np.where(x > 0, x, _SELU_A * np.expm1(x))),
    ("gelu", nn.gelu, lambda x: _np_gelu(x, True)),
    ("gelu_exact", lambda x: nn.gelu(x, approximate=False), lambda x: _np_gelu(x, False)),
    ("hard_sigmoid", nn.hard_sigmoid, lambda x: np.clip(x + 3, 0, 6) / 6),
    ("hard_silu", nn.hard_silu, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    ("hard_swish", nn.hard_swish, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    ("squareplus", nn.squareplus, lambda x: (x + np.sqrt(x * x + 4)) / 2),
    ("identity", nn.identity, lambda x: x),
    ("tanh", nn.tanh, np.tanh),
]

def _same_dtype(ref):
  # NumPy/SciPy may widen float16 (and scalars); the reference keeps the input dtype
  return lambda x: np.asarray(ref(x.astype(np.float64))).astype(x.dtype)


RECORDS = [Rec(n, f, _same_dtype(r), shapes=[(), (4,), (2, 5)], dtypes=("float32", "float16"), grad=2,
               domain=uniform(-7, 7), tol={"float32": 2e-5, "float16": 2e-2})
           for n, f, r in ELEMENTWISE]
RECORDS.append(Rec("log1mexp", nn.log1mexp, lambda x: np.log(-np.expm1(-x)), shapes=[(6,)],
                   domain=uniform(0.05, 5), grad=2))
RECORDS.append(Rec("glu", nn.glu, lambda x: x[..., :2] * ss.expit(x[..., 2:]),
                   shapes=[(4,), (3, 4)], grad=2))
RECORDS.append(Rec("glu_axis0", lambda x: nn.glu(x, axis=0),
                   lambda x: x[:2] * ss.expit(x[2:]), shapes=[(4, 3)], grad=1))
for ax in (-1, 0, None, (0, 1)):
  RECORDS.append(Rec(f"softmax_{ax}", lambda x, ax=ax: nn.softmax(x, axis=ax),
                     lambda x, ax=ax: ss.softmax(x, axis=ax), shapes=[(3, 5)], grad=2))
  RECORDS.append(Rec(f"log_softmax_{ax}", lambda x, ax=ax: nn.log_softmax(x, axis=ax),
                     lambda x, ax=ax: ss.log_softmax(x, axis=ax), shapes=[(3, 5)], grad=2))
  RECORDS.append(Rec(f"logsumexp_{ax}", lambda x, ax=ax: nn.logsumexp(x, axis=ax),
                     lambda x, ax=ax: ss.logsumexp(x, axis=ax), shapes=[(3, 5)], grad=2))
  RECORDS.append(Rec(f"logmeanexp_{ax}", lambda x, ax=ax: nn.logmeanexp(x, axis=ax),
                     lambda x, ax=ax: ss.logsumexp(x, axis=ax) - np.log(
                         np.size(x) / np.size(ss.logsumexp(x, axis=ax))),
                     shapes=[(3, 5)], grad=1))
  RECORDS.append(Rec(f"standardize_{ax}", lambda x, ax=ax: nn.standardize(x, axis=ax),
                     lambda x, ax=ax: (x - x.mean(ax, keepdims=True)) /
                     np.sqrt(x.var(ax, keepdims=True) + 1e-5),
                     shapes=[(3, 5)], grad=1, tol={"float32": 1e-4}))
RECORDS.append(Rec("standardize_stable", lambda x: nn.standardize(x, algorithm="stable"),
                   lambda x: (x - x.mean(-1, keepdims=True)) /
                   np.sqrt(x.var(-1, keepdims=True) + 1e-5), shapes=[(3, 5)], grad=1,
                   tol={"float32": 1e-4}))
MASK = np.array([[True, False, True, True, False], [False, True, True, False, True],
                 [True, True, True, True, True]])


def _np_masked_softmax(x):
  e = np.where(MASK, np.exp(x - np.max(np.where(MASK, x, -np.inf), -1, keepdims=True)), 0)
  return e / e.sum(-1, keepdims=True)


RECORDS.append(Rec("softmax_where", lambda x: nn.softmax(x, where=MASK), _np_masked_softmax,
                   shapes=[(3, 5)], grad=1, vmap=False))
RECORDS.append(Rec("log_softmax_where", lambda x: nn.log_softmax(x, where=MASK),
                   lambda x: np.where(MASK, np.log(np.where(MASK, _np_masked_softmax(x), 1)),
                                      -np.inf), shapes=[(3, 5)], vmap=False))
RECORDS.append(Rec("logsumexp_b_sign", lambda x, b: nn.logsumexp(x, 1, b=b, return_sign=True),
                   lambda x, b: ss.logsumexp(x, 1, b=b, return_sign=True),
                   shapes=[((3, 4), (3, 4))], nargs=2, grad=0))
RECORDS.append(Rec("logsumexp_b_keepdims", lambda x, b: nn.logsumexp(x, 0, b=b,
                                                                     keepdims=True),
                   lambda x, b: ss.logsumexp(x, 0, b=b, keepdims=True),
                   shapes=[((3, 4), (3, 4))], nargs=2, grad=1,
                   domain=[uniform(), uniform(0.1, 2)]))


def _np_attention(q, k, v, bias=None, mask=None, causal=False, scale=None):
  """Reference: per batch, per head, softmax(q k^T * scale + bias) v with masked logits."""
  b, t, n, h = q.shape
  s, kh = k.shape[1], k.shape[2]
  g = n // kh
  scale = 1 / np.sqrt(h) if scale is None else scale
  out = np.zeros((b, t, n, h))
  for bi in range(b):
    for ni in range(n):
      logits = q[bi, :, ni] @ k[bi, :, ni // g].T * scale
      if bias is not None:
        logits = logits + bias[bi if bias.shape[0] > 1 else 0, ni if bias.shape[1] > 1 else 0]
      keep = np.ones((t, s), bool)
      if mask is not None:
        keep &= mask[bi if mask.shape[0] > 1 else 0, ni if mask.shape[1] > 1 else 0]
      if causal:
        keep &= np.tril(np.ones((t, s), bool))
      logits = np.where(keep, logits, -0.7 * np.finfo(np.float32).max)
      out[bi, :, ni] = ss.softmax(logits, -1) @ v[bi, :, ni // g]
  return out


ATT_Q, ATT_K = (2, 5, 4, 8), (2, 6, 2, 8)
ATT_BIAS = RNG.standard_normal((2, 4, 5, 6)).astype(np.float32)
ATT_MASK = RNG.random((2, 1, 5, 6)) > 0.3
ATT_MASK[..., 0] = True
for kw in (dict(), dict(is_causal=True), dict(bias=ATT_BIAS), dict(mask=ATT_MASK),
           dict(scale=0.2, is_causal=True, bias=ATT_BIAS[:, :1])):
  name = "attention_" + "_".join(kw) if kw else "attention"
  RECORDS.append(Rec(
      name, lambda q, k, v, kw=kw: nn.dot_product_attention(q, k, v, **kw),
      lambda q, k, v, kw=kw: _np_attention(q, k, v, kw.get("bias"), kw.get("mask"),
                                           kw.get("is_causal", False), kw.get("scale")),
      shapes=[(ATT_Q, ATT_K, ATT_K)], nargs=3, grad=1, tol={"float32": 1e-4},
      grad_dtypes=("float32",),  # as JAX, the softmax runs in float32 even for float64
      check_dtype=False, vmap=not kw))

test_numpy, test_jit, test_vmap, test_grad = make_tests(RECORDS)


def test_relu_kinks_have_jax_derivatives():
  # derivative 0 at relu's kink, and at both kinks of relu6 (JAX's custom rules)
  g = numjax.vmap(numjax.grad(nn.relu))(jnp.array([-1.0, 0.0, 2.0]))
  np.testing.assert_array_equal(g, [0, 0, 1])
  g = numjax.vmap(numjax.grad(nn.relu6))(jnp.array([-1.0, 0.0, 3.0, 6.0, 7.0]))
  np.testing.assert_array_equal(g, [0, 0, 1, 0, 0])
  g = numjax.vmap(numjax.grad(nn.hard_tanh))(jnp.array([-2.0, 0.5, 2.0]))
  np.testing.assert_array_equal(g, [0, 1, 0])


def test_dtypes_and_weak_types():
  assert nn.relu(np.int32(3)).dtype == np.int32
  assert nn.gelu(np.int32(3)).dtype == np.float32
  assert nn.relu(2.0).weak_type
  assert nn.sigmoid(jnp.ones(2, jnp.float16)).dtype == np.float16
  assert nn.softmax(jnp.ones(3, jnp.bfloat16)).dtype == jnp.bfloat16


def test_one_hot():
  x = np.array([[0, 2, 5], [1, -1, 4]])
  for axis in (-1, 0, 1):
    out = nn.one_hot(x, 5, axis=axis)
    ref = np.moveaxis((x[..., None] == np.arange(5)).astype(np.float32), -1, axis)
    np.testing.assert_array_equal(out, ref)
    assert out.dtype == np.float32
  assert nn.one_hot(x, 3, dtype=jnp.int32).dtype == np.int32
  np.testing.assert_array_equal(numjax.jit(lambda x: nn.one_hot(x, 5))(x), nn.one_hot(x, 5))
  # a named vmap axis: lane i gives x_i == i (recorded with JAX 0.10.2)
  out = numjax.vmap(lambda i: nn.one_hot(i, 3, axis="i"), axis_name="i")(np.array([0, 2, 1]))
  np.testing.assert_array_equal(out, [1, 0, 0])


def test_attention_grouped_heads_padding_and_residual():
  q = RNG.standard_normal(ATT_Q).astype(np.float32)
  k = RNG.standard_normal(ATT_K).astype(np.float32)
  v = RNG.standard_normal(ATT_K).astype(np.float32)
  ql, kl = np.array([3, 5], np.int32), np.array([6, 2], np.int32)
  out = nn.dot_product_attention(q, k, v, query_seq_lengths=ql, key_value_seq_lengths=kl)
  m = np.zeros((2, 1, 5, 6), bool)
  for b in range(2):
    m[b, 0, :ql[b], :kl[b]] = True
    m[b, 0, ql[b]:, :] = True  # padded queries: computed, then zeroed
  ref = _np_attention(q, k, v, mask=m)
  for b in range(2):
    ref[b, ql[b]:] = 0
  np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)
  # local windows: key j visible to query i iff i - 1 <= j <= i + 2
  out = nn.dot_product_attention(q, k, v, local_window_size=(1, 2))
  win = np.array([[i - 1 <= j <= i + 2 for j in range(6)] for i in range(5)])
  np.testing.assert_allclose(out, _np_attention(q, k, v, mask=win[None, None]), rtol=1e-4,
                             atol=1e-5)
  enc, lse = nn.dot_product_attention(q, k, v, is_causal=True, return_residual=True)
  assert enc.shape == ATT_Q and lse.shape == ATT_Q[:3]
  logits = np.einsum("btnh,bsnh->bnts", q, np.repeat(k, 2, 2)) / np.sqrt(8)
  logits = np.where(np.tril(np.ones((5, 6), bool)), logits, -0.7 * np.finfo(np.float32).max)
  np.testing.assert_allclose(lse, np.transpose(ss.logsumexp(logits, -1), (0, 2, 1)),
                             rtol=1e-4, atol=1e-4)
  # 3-d inputs (no batch dim)
  np.testing.assert_allclose(nn.dot_product_attention(q[0], k[0], v[0]),
                             _np_attention(q[:1], k[:1], v[:1])[0], rtol=1e-4, atol=1e-5)
  with pytest.raises(ValueError, match="multiple of key/value heads"):
    nn.dot_product_attention(q[:, :, :3], k, v)
  with pytest.raises(ValueError, match="Unsupported implementation"):
    nn.dot_product_attention(q, k, v, implementation="flash")


def test_scaled_matmul_reference():
  RNG = np.random.default_rng(11)
  a = RNG.standard_normal((2, 3, 64)).astype(np.float32)
  b = RNG.standard_normal((2, 4, 64)).astype(np.float32)
  sa = RNG.random((2, 3, 2)).astype(np.float32)
  sb = RNG.random((2, 4, 2)).astype(np.float32)
  out = nn.scaled_matmul(a, b, sa, sb)
  ref = np.einsum("bmk,bnk->bmn", a * np.repeat(sa, 32, -1), b * np.repeat(sb, 32, -1))
  np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
  cfg = nn.get_scaled_dot_general_config("mxfp8")
  assert cfg.block_size == 32 and cfg.mode == "mxfp8"
  x = RNG.standard_normal((4, 64)).astype(np.float32)
  y = RNG.standard_normal((64, 3)).astype(np.float32)
  dn = (((1,), (0,)), ((), ()))
  np.testing.assert_allclose(nn.scaled_dot_general(x, y, dn), x @ y, rtol=1e-5, atol=1e-5)
  q = nn.scaled_dot_general(x, y, dn, configs=[cfg, cfg])
  np.testing.assert_allclose(q, x @ y, rtol=0.1, atol=1.0)  # float8 quantisation error


# ---------------------------------------------------------------------------------------
# Initializers

GOLDEN = json.load(open(os.path.join(DATA, "nn_initializers_golden.json")))
GOLDEN_CASES = [("uniform", (0.3,), (2, 3)), ("normal", (0.2,), (2, 3)),
                ("truncated_normal", (0.5,), (2, 3)), ("glorot_uniform", (), (3, 4)),
                ("glorot_normal", (), (3, 4)), ("lecun_uniform", (), (2, 2, 3)),
                ("he_normal", (), (2, 2, 3)), ("orthogonal", (), (3, 2)),
                ("delta_orthogonal", (), (3, 2, 2))]


@pytest.mark.parametrize("name,args,shape", GOLDEN_CASES, ids=[c[0] for c in GOLDEN_CASES])
def test_initializers_match_jax(name, args, shape):
  # JAX 0.10.2's numbers for the same key (bit-exact random; QR may differ in the last ulp)
  out = getattr(init, name)(*args)(numjax.random.key(7), shape)
  assert out.shape == shape and out.dtype == np.float32
  np.testing.assert_allclose(out, np.asarray(GOLDEN[name], np.float32), rtol=2e-6, atol=1e-6)


def test_variance_scaling_match_jax():
  k = numjax.random.key(7)
  out = init.variance_scaling(2.0, "fan_geo_avg", "uniform", in_axis=1, out_axis=2,
                              batch_axis=0)(k, (2, 3, 4))
  np.testing.assert_array_equal(
      out, np.asarray(GOLDEN["variance_scaling_fan_geo_avg_uniform_batch"], np.float32))
  out = init.variance_scaling(1.0, "fan_in", "normal")(k, (2, 3), jnp.complex64)
  ref = np.asarray(GOLDEN["variance_scaling_complex_normal"], np.float32)
  np.testing.assert_allclose(out, ref[..., 0] + 1j * ref[..., 1], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("mode,dist", [(m, d) for m in ("fan_in", "fan_out", "fan_avg")
                                       for d in ("normal", "uniform", "truncated_normal")])
def test_variance_scaling_variance(mode, dist):
  shape = (3, 3, 40, 60)  # receptive field 9: fan_in 360, fan_out 540
  out = np.asarray(init.variance_scaling(2.0, mode, dist)(numjax.random.key(1), shape))
  fan = {"fan_in": 360, "fan_out": 540, "fan_avg": 450}[mode]
  np.testing.assert_allclose(out.var(), 2.0 / fan, rtol=0.05)
  np.testing.assert_allclose(out.mean(), 0, atol=0.01)


def test_simple_initializers():
  k = numjax.random.key(0)
  np.testing.assert_array_equal(init.zeros(k, (2, 3)), np.zeros((2, 3), np.float32))
  np.testing.assert_array_equal(init.ones(k, (2,), jnp.int32), np.ones(2, np.int32))
  np.testing.assert_array_equal(init.constant(-0.5)(k, (3,)), np.full(3, -0.5, np.float32))
  assert init.constant(1, jnp.float16)(k, (2,)).dtype == np.float16
  assert isinstance(init.glorot_uniform(), init.Initializer)
  assert init.xavier_uniform is init.glorot_uniform and init.kaiming_normal is init.he_normal
  q = np.asarray(init.orthogonal()(k, (5, 3)))
  np.testing.assert_allclose(q.T @ q, np.eye(3), atol=1e-5)
  d = np.asarray(init.delta_orthogonal()(k, (3, 3, 4, 4)))
  np.testing.assert_allclose(d[1, 1].T @ d[1, 1], np.eye(4), atol=1e-5)
  assert np.count_nonzero(d) == np.count_nonzero(d[1, 1])
  with pytest.raises(ValueError, match="at least 2D or specify in_axis"):
    init.glorot_normal()(k, (5,))
  with pytest.raises(ValueError, match="3D, 4D or 5D"):
    init.delta_orthogonal()(k, (3, 3))
  w = numjax.jit(lambda k: init.he_uniform()(k, (4, 5)))(k)
  np.testing.assert_array_equal(w, init.he_uniform()(k, (4, 5)))
