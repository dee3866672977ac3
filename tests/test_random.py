"""numjax.random: the threefry primitive against a plain-Python Threefry-2x32, keys (typed and
raw: printing, shapes, indexing, errors), and the samplers under jit, vmap and grad."""
import numpy as np
import pytest

import numjax
import numjax.numpy as jnp
from numjax import random as R
from numjax._src.random import prng

# ---------------------------------------------------------------------------------------
# threefry2x32 against the specification (Salmon et al., Random123), one word at a time

_M = 0xFFFFFFFF


def _rotl(v, r):
  return ((v << r) | (v >> (32 - r))) & _M


def threefry_reference(k0, k1, x0, x1):
  ks = [k0, k1, k0 ^ k1 ^ 0x1BD11BDA]
  rot = [[13, 15, 26, 6], [17, 29, 16, 24]]
  x0, x1 = (x0 + ks[0]) & _M, (x1 + ks[1]) & _M
  for g in range(5):
    for r in rot[g % 2]:
      x0 = (x0 + x1) & _M
      x1 = _rotl(x1, r) ^ x0
    x0 = (x0 + ks[(g + 1) % 3]) & _M
    x1 = (x1 + ks[(g + 2) % 3] + g + 1) & _M
  return x0, x1


def test_threefry_known_answer():
  # Random123's known-answer vector for threefry2x32_20 with zero key and counter
  y = prng.threefry2x32_p.bind(*[numjax.numpy.asarray(np.uint32(0))] * 4)
  assert [int(v) for v in y] == [0x6B200159, 0x99BA4EFE]
  assert threefry_reference(0, 0, 0, 0) == (0x6B200159, 0x99BA4EFE)


@pytest.mark.parametrize("n", [1, 7, 40_000])  # 40k crosses the kernel's block size
def test_threefry_matches_reference(n):
  rng = np.random.default_rng(n)
  k = rng.integers(0, 2 ** 32, (2, n), dtype=np.uint32)
  x = rng.integers(0, 2 ** 32, (2, n), dtype=np.uint32)
  y0, y1 = prng.threefry2x32_p.bind(*[jnp.asarray(a) for a in (k[0], k[1], x[0], x[1])])
  idx = rng.integers(0, n, 50)
  for i in idx:
    assert (int(y0[i]), int(y1[i])) == threefry_reference(int(k[0, i]), int(k[1, i]),
                                                          int(x[0, i]), int(x[1, i]))


def test_threefry_scalar_key_broadcasts():
  x = np.arange(5, dtype=np.uint32)
  y0, y1 = prng.threefry2x32_p.bind(jnp.asarray(np.uint32(3)), jnp.asarray(np.uint32(9)),
                                    jnp.asarray(np.zeros(5, np.uint32)), jnp.asarray(x))
  for i in range(5):
    assert (int(y0[i]), int(y1[i])) == threefry_reference(3, 9, 0, i)


def test_threefry_rejects_non_uint32():
  with pytest.raises(TypeError, match="uint32"):
    numjax.jit(lambda a: prng.threefry2x32_p.bind(a, a, a, a))(jnp.zeros(2, jnp.int32))


def test_threefry_under_vmap_and_jit():
  k = jnp.asarray(np.arange(6, dtype=np.uint32).reshape(3, 2))
  x = jnp.asarray(np.arange(12, dtype=np.uint32).reshape(3, 4))
  f = lambda kk, xx: prng.threefry2x32_p.bind(kk[0], kk[1], xx, xx)
  got = numjax.vmap(f)(k, x)
  jitted = numjax.jit(numjax.vmap(f))(k, x)
  for i in range(3):
    for j in range(4):
      want = threefry_reference(2 * i, 2 * i + 1, 4 * i + j, 4 * i + j)
      assert (int(got[0][i, j]), int(got[1][i, j])) == want
      assert (int(jitted[0][i, j]), int(jitted[1][i, j])) == want


def test_random_bits_counters_are_the_flat_index():
  # partitionable threefry: bits[i] = xor of threefry(key, (0, i))
  b = np.asarray(R.bits(R.PRNGKey(5), (2, 3)))
  for i in range(6):
    y0, y1 = threefry_reference(0, 5, 0, i)
    assert b.reshape(-1)[i] == y0 ^ y1


@pytest.mark.parametrize("n", [1, 2, 3, 8, 9])  # the one-key small path (<= 8) and past it
def test_key_primitives_small_and_general_paths_match_reference(n):
  key = np.array([0x12345678, 0xDEADBEEF], np.uint32)
  kd = jnp.asarray(key)
  ref = [threefry_reference(int(key[0]), int(key[1]), 0, i) for i in range(n)]
  shape = (n,) if n % 3 else (n // 3, 3)
  for width, dt in ((8, np.uint8), (16, np.uint16), (32, np.uint32), (64, np.uint64)):
    got = np.asarray(prng._random_bits_impl(key, bit_width=width, shape=shape)).reshape(-1)
    assert got.dtype == dt
    want = [((y0 << 32) | y1) if width == 64 else (y0 ^ y1) & ((1 << width) - 1)
            for y0, y1 in ref]
    assert [int(v) for v in got] == want
  split = np.asarray(prng.random_split_p.bind(kd, shape=shape)).reshape(-1, 2)
  assert [tuple(int(v) for v in row) for row in split] == ref
  for m in (0, 7, 0xFFFFFFFF):
    folded = prng.random_fold_in_p.bind(kd, jnp.asarray(np.uint32(m)))
    assert tuple(int(v) for v in np.asarray(folded)) == threefry_reference(
        int(key[0]), int(key[1]), 0, m)


# ---------------------------------------------------------------------------------------
# keys

def test_typed_key_prints_like_jax():
  k = R.key(0)
  assert str(k) == "Array((), dtype=key<fry>) overlaying:\n[0 0]"
  assert repr(k) == str(k)
  ks = R.split(k, 3)
  assert repr(ks).startswith("Array((3,), dtype=key<fry>) overlaying:\n[[")
  assert str(k.dtype) == "key<fry>" and k.dtype.name == "key<fry>"
  assert str(R.key_dtype()) == "key<fry>"


def test_key_metadata():
  ks = R.split(R.key(1), (2, 3))
  assert ks.shape == (2, 3) and ks.ndim == 2 and ks.size == 6 and len(ks) == 2
  assert ks.itemsize == 8
  assert numjax.dtypes.issubdtype(ks.dtype, numjax.dtypes.prng_key)
  assert R.key_impl(ks) == "threefry2x32"
  assert R.key_impl(R.PRNGKey(0)) == "threefry2x32"
  assert isinstance(ks, numjax.Array)
  assert R.key_data(ks).shape == (2, 3, 2) and R.key_data(ks).dtype == np.uint32


def test_key_indexing_and_reshaping_follow_the_key_data():
  ks = R.split(R.key(2), (2, 3))
  data = np.asarray(R.key_data(ks))
  np.testing.assert_array_equal(R.key_data(ks[1]), data[1])
  np.testing.assert_array_equal(R.key_data(ks[:, 0]), data[:, 0])
  np.testing.assert_array_equal(R.key_data(ks[..., 2]), data[..., 2, :])
  np.testing.assert_array_equal(R.key_data(ks.T), np.swapaxes(data, 0, 1))
  np.testing.assert_array_equal(R.key_data(ks.reshape(3, 2)), data.reshape(3, 2, 2))
  np.testing.assert_array_equal(R.key_data(ks.reshape(-1)), data.reshape(6, 2))
  np.testing.assert_array_equal(R.key_data(ks.ravel()), data.reshape(6, 2))
  rows = list(ks)
  assert len(rows) == 2 and rows[0].shape == (3,)
  a, b = R.split(R.key(3))
  assert a.shape == () and b.shape == ()


def test_key_data_round_trip_and_equality():
  k = R.key(42)
  data = R.key_data(k)
  k2 = R.wrap_key_data(data)
  assert bool(k2 == k) and not bool(k2 != k)
  assert R.wrap_key_data(data, impl="threefry2x32").dtype == k.dtype
  np.testing.assert_array_equal(R.key_data(R.PRNGKey(42)), data)
  np.testing.assert_array_equal(np.asarray(R.split(k) == R.split(k)), [True, True])
  assert R.key_data(R.clone(k)).tolist() == data.tolist()


def test_typed_and_raw_keys_agree():
  typed, raw = R.key(7), R.PRNGKey(7)
  np.testing.assert_array_equal(R.key_data(R.split(typed)), R.split(raw))
  np.testing.assert_array_equal(R.key_data(R.fold_in(typed, 5)), R.fold_in(raw, 5))
  np.testing.assert_array_equal(R.normal(typed, (4,)), R.normal(raw, (4,)))
  assert R.split(raw).dtype == np.uint32 and R.split(raw).shape == (2, 2)
  assert R.split(typed).shape == (2,)


def test_split_is_fold_in_of_the_index():
  k = R.key(11)
  ks = R.split(k, 4)
  for i in range(4):
    np.testing.assert_array_equal(R.key_data(ks[i]), R.key_data(R.fold_in(k, i)))


def test_seeds():
  np.testing.assert_array_equal(R.PRNGKey(np.int32(-1)), [0, 0xFFFFFFFF])
  np.testing.assert_array_equal(R.PRNGKey(jnp.int32(5)), [0, 5])
  np.testing.assert_array_equal(R.PRNGKey(np.uint32(7)), [0, 7])


def test_seeds_x64():
  with numjax.config.update_context("jax_enable_x64", True) if hasattr(
      numjax.config, "update_context") else _x64():
    np.testing.assert_array_equal(R.PRNGKey(2 ** 40 + 3), [256, 3])
    np.testing.assert_array_equal(R.PRNGKey(-1), [0xFFFFFFFF, 0xFFFFFFFF])
    assert R.uniform(R.key(0), (2,), jnp.float64).dtype == np.float64
    assert R.bits(R.key(0), (2,)).dtype == np.uint64


class _x64:
  def __enter__(self):
    self.old = numjax.config.jax_enable_x64
    numjax.config.update("jax_enable_x64", True)

  def __exit__(self, *a):
    numjax.config.update("jax_enable_x64", self.old)


@pytest.mark.parametrize("op", [
    lambda k: k + 1, lambda k: 1 + k, lambda k: k * k, lambda k: -k, lambda k: k < k,
    lambda k: abs(k), lambda k: k @ k, lambda k: k ** 2, lambda k: bool(k), lambda k: hash(k),
    lambda k: np.asarray(k), lambda k: float(k), lambda k: k == 1])
def test_arithmetic_on_keys_is_rejected(op):
  with pytest.raises(TypeError):
    op(R.key(0))


def test_add_error_names_the_dtypes():
  with pytest.raises(TypeError, match=r"add does not accept dtypes key<fry>, int32"):
    R.key(0) + 1


def test_key_errors():
  k = R.key(0)
  with pytest.raises(ValueError, match="normal accepts a single key"):
    R.normal(R.split(k))
  with pytest.raises(ValueError, match="split accepts a single key"):
    R.split(R.split(k))
  with pytest.raises(TypeError, match="scalar seed"):
    R.key(jnp.array([1, 2]))
  with pytest.raises(TypeError, match="seed must be an integer"):
    R.key(1.0)
  with pytest.raises(TypeError, match="was given a PRNG key"):
    R.PRNGKey(k)
  with pytest.raises(TypeError, match="fold_in accepts a scalar"):
    R.fold_in(k, jnp.array([1, 2]))
  with pytest.raises(OverflowError):
    R.fold_in(k, -1)
  with pytest.raises(TypeError, match="shape to end with"):
    R.wrap_key_data(jnp.zeros(3, jnp.uint32))
  with pytest.raises(TypeError, match="dtype = uint32"):
    R.wrap_key_data(jnp.zeros(2, jnp.int32))
  with pytest.raises(TypeError, match="shape to end with"):
    R.normal(jnp.zeros(3, jnp.uint32))
  with pytest.raises(TypeError, match="unexpected PRNG key type"):
    R.normal("key")
  with pytest.raises(TypeError):
    len(k)
  with pytest.raises(IndexError):
    k[0]


def test_argument_errors():
  k = R.key(0)
  with pytest.raises(ValueError, match="must be a float dtype"):
    R.uniform(k, (2,), jnp.int32)
  with pytest.raises(TypeError, match="integer dtypes"):
    R.randint(k, (2,), 0, 10, jnp.float32)
  with pytest.raises(ValueError, match="unsigned int dtype"):
    R.bits(k, (2,), jnp.float32)
  with pytest.raises(ValueError, match="Incompatible shapes for broadcasting"):
    R.randint(k, (3,), jnp.zeros(2, jnp.int32), 5)
  with pytest.raises(ValueError, match="Cannot take a larger sample"):
    R.choice(k, 3, (5,), replace=False)
  with pytest.raises(TypeError, match="must be a sequence"):
    R.choice(k, 3, 5)
  with pytest.raises(TypeError, match="bernoulli probability"):
    R.bernoulli(k, 1)
  with pytest.raises(ValueError, match="method must be one of"):
    R.multivariate_normal(k, jnp.zeros(2), jnp.eye(2), method="x")
  with pytest.raises(TypeError, match="Shapes must be 1D sequences"):
    numjax.jit(lambda n: R.normal(k, (n,)))(3)


def test_shapes_and_dtypes():
  k = R.key(0)
  assert R.normal(k, 3).shape == (3,)
  assert R.normal(k, (0,)).shape == (0,)
  assert R.split(k, 0).shape == (0,)
  assert R.uniform(k, (2,), jnp.bfloat16).dtype == jnp.bfloat16
  assert R.normal(k, (2,), jnp.complex64).dtype == np.complex64
  assert R.randint(k, (4,), -128, 127, jnp.int8).dtype == np.int8
  assert R.rademacher(k, (4,), jnp.float32).dtype == np.float32
  assert R.poisson(k, 2.).dtype == np.int32 and R.poisson(k, 2.).shape == ()
  assert R.binomial(k, 5., 0.5).dtype == np.float32
  assert R.uniform(k, (2, 3), minval=jnp.array([0., 1., 2.]), maxval=5.).shape == (2, 3)
  assert R.gamma(k, jnp.ones((2, 3))).shape == (2, 3)
  assert R.dirichlet(k, jnp.ones(3), (5,)).shape == (5, 3)
  assert R.double_sided_maxwell(k, jnp.zeros(2), 1., (3,)).shape == (3, 2)
  assert R.categorical(k, jnp.zeros((4, 5))).shape == (4,)
  assert R.permutation(k, jnp.arange(12).reshape(3, 4), axis=1).shape == (3, 4)
  assert R.ball(k, 3, shape=(4,)).shape == (4, 3)


def test_sampler_edge_values():
  k = R.key(0)
  p = np.asarray(R.poisson(k, jnp.array([0., 1e-3])))
  assert p[0] == 0
  b = np.asarray(R.binomial(k, jnp.array([-1., 5., jnp.inf, 10.]),
                            jnp.array([0.5, jnp.nan, 0.5, 1.2])))
  assert np.isnan(b[0]) and np.isnan(b[1]) and np.isinf(b[2]) and np.isnan(b[3])
  np.testing.assert_array_equal(R.geometric(k, jnp.array([1.0, 1.0])), [1, 1])
  t = np.asarray(R.truncated_normal(k, 0., 0.1, (100,)))
  assert np.all((t > 0) & (t < 0.1))
  assert np.all(np.asarray(R.randint(k, (50,), 3, 3)) == 3)  # empty range gives minval
  u8 = np.asarray(R.randint(k, (500,), 0, 256, jnp.uint8))
  assert u8.max() > 250  # maxval beyond the dtype is handled


def test_permutation_independent_and_arrays():
  k = R.key(5)
  x = jnp.arange(20).reshape(4, 5)
  p = np.asarray(R.permutation(k, x, axis=1, independent=True))
  assert np.all(np.sort(p, axis=1) == np.asarray(x))
  q = np.asarray(R.permutation(k, x))  # rows permuted together
  assert sorted(map(tuple, q.tolist())) == sorted(map(tuple, np.asarray(x).tolist()))


# ---------------------------------------------------------------------------------------
# transformations

SAMPLERS = [
    ("uniform", lambda k: R.uniform(k, (5,), minval=-2., maxval=1.)),
    ("normal", lambda k: R.normal(k, (2, 3))),
    ("randint", lambda k: R.randint(k, (6,), -3, 9)),
    ("bernoulli", lambda k: R.bernoulli(k, 0.25, (6,))),
    ("truncated_normal", lambda k: R.truncated_normal(k, -0.5, 1.5, (4,))),
    ("gumbel", lambda k: R.gumbel(k, (4,))),
    ("exponential", lambda k: R.exponential(k, (4,))),
    ("gamma", lambda k: R.gamma(k, jnp.array([0.5, 1., 3.]))),
    ("loggamma", lambda k: R.loggamma(k, 0.7, (3,))),
    ("beta", lambda k: R.beta(k, 2., 0.5, (3,))),
    ("t", lambda k: R.t(k, 4., (3,))),
    ("poisson", lambda k: R.poisson(k, jnp.array([2., 30.]))),
    ("binomial", lambda k: R.binomial(k, 20., jnp.array([0.1, 0.6]))),
    ("categorical", lambda k: R.categorical(k, jnp.array([[0., 1., 2.], [2., 1., 0.]]))),
    ("permutation", lambda k: R.permutation(k, 6)),
    ("choice", lambda k: R.choice(k, 10, (3,), replace=False)),
    ("split", lambda k: R.key_data(R.split(k, 3))),
    ("fold_in", lambda k: R.key_data(R.fold_in(k, 17))),
    ("bits", lambda k: R.bits(k, (3,), jnp.uint16)),
]


@pytest.mark.parametrize("name,f", SAMPLERS, ids=[s[0] for s in SAMPLERS])
def test_jit_matches_eager(name, f):
  k = R.key(3)
  np.testing.assert_array_equal(numjax.jit(f)(k), f(k))


@pytest.mark.parametrize("name,f", SAMPLERS, ids=[s[0] for s in SAMPLERS])
def test_vmap_over_keys_matches_loop(name, f):
  ks = R.split(R.key(4), 3)
  got = np.asarray(numjax.vmap(f)(ks))
  want = np.stack([np.asarray(f(ks[i])) for i in range(3)])
  np.testing.assert_array_equal(got, want)


def test_vmap_over_raw_keys_and_jit_of_vmap():
  ks = R.split(R.PRNGKey(4), 3)
  f = lambda k: R.normal(k, (2,))
  want = np.stack([np.asarray(f(ks[i])) for i in range(3)])
  np.testing.assert_array_equal(numjax.vmap(f)(ks), want)
  np.testing.assert_array_equal(numjax.jit(numjax.vmap(f))(ks), want)


def test_vmap_over_parameters_uses_the_same_key():
  # as JAX: an unbatched key is broadcast, so lane i equals the unbatched call
  k = R.key(9)
  dfs = jnp.array([1., 2., 5.])
  got = np.asarray(numjax.vmap(R.t, in_axes=(None, 0))(k, dfs))
  for i in range(3):
    np.testing.assert_array_equal(got[i], R.t(k, dfs[i]))
  a = jnp.array([0.3, 1., 4.])
  got = np.asarray(numjax.vmap(lambda x: R.gamma(k, x))(a))
  for i in range(3):
    np.testing.assert_array_equal(got[i], R.gamma(k, a[i]))


def test_vmap_keys_and_parameters_together():
  ks = R.split(R.key(1), 4)
  lam = jnp.array([0.5, 3., 12., 40.])
  got = np.asarray(numjax.vmap(lambda k, l: R.poisson(k, l, (5,)))(ks, lam))
  for i in range(4):
    np.testing.assert_array_equal(got[i], R.poisson(ks[i], lam[i], (5,)))


def test_seed_001_snippet():
  k = R.key(42)
  k, k1 = R.split(k)
  out1 = R.normal(k1, (3,))
  k, k2 = R.split(k)
  out2 = numjax.vmap(R.t, in_axes=(None, 0))(k2, jnp.array([1, 2]))
  assert str(out1) == str(np.array([0.60576403, 0.7990441, -0.908927], np.float32))
  assert str(out2) == str(np.array([-1.8834321, -0.83157206], np.float32))


def test_jit_returns_keys_and_closes_over_keys():
  k = R.key(2)
  ks = numjax.jit(lambda k: R.split(k, 4))(k)
  assert ks.shape == (4,) and str(ks.dtype) == "key<fry>"
  np.testing.assert_array_equal(R.key_data(ks), R.key_data(R.split(k, 4)))
  g = numjax.jit(lambda x: x + R.normal(k, (2,)))
  np.testing.assert_allclose(g(jnp.zeros(2)), R.normal(k, (2,)))


def test_jaxpr_shows_the_key_primitives():
  text = str(numjax.make_jaxpr(lambda k: R.uniform(k, (3,)))(R.PRNGKey(0)))
  assert "random_bits[bit_width=32 shape=(3,)]" in text
  text = str(numjax.make_jaxpr(lambda k: R.split(k, 2))(R.PRNGKey(0)))
  assert "random_split[shape=(2,)]" in text


def test_grad_of_reparameterised_samplers():
  k = R.key(0)
  z = np.asarray(R.normal(k, (5,)))
  g = numjax.grad(lambda s, m: jnp.sum(s * R.normal(k, (5,)) + m), argnums=(0, 1))(2., 1.)
  np.testing.assert_allclose(g[0], z.sum(), rtol=1e-6)
  np.testing.assert_allclose(g[1], 5.)
  u = np.asarray(R.uniform(k, (4,)))
  gmax = numjax.grad(lambda hi: jnp.sum(R.uniform(k, (4,), minval=0., maxval=hi)))(3.)
  np.testing.assert_allclose(gmax, u.sum(), rtol=1e-5)


@pytest.mark.parametrize("a", [0.4, 1.0, 2.5, 7.0])
def test_gamma_grad_is_the_implicit_derivative(a):
  # d x / d a holding the CDF value u = P(a, x) fixed: x(a) = P^-1(a, u), by SciPy
  import scipy.special as sp
  k = R.key(1)
  with _x64():
    f = lambda x: R.gamma(k, x, dtype=jnp.float64)
    g = float(numjax.grad(f)(jnp.float64(a)))
    x = float(f(jnp.float64(a)))
  u = sp.gammainc(a, x)
  h = 1e-5 * a
  fd = (sp.gammaincinv(a + h, u) - sp.gammaincinv(a - h, u)) / (2 * h)
  np.testing.assert_allclose(g, fd, rtol=1e-5)


def test_gamma_grad_is_unbiased():
  # E[x] = a, so the reparameterisation gradient averages to 1
  ks = R.split(R.key(3), 4000)
  for a in (0.5, 3.0):
    g = numjax.vmap(numjax.grad(lambda x, k: R.gamma(k, x)), in_axes=(None, 0))(a, ks)
    np.testing.assert_allclose(np.mean(np.asarray(g)), 1.0, atol=0.05)


def test_loggamma_and_derived_grads():
  import scipy.special as sp
  k = R.key(1)
  with _x64():
    lg = lambda x: R.loggamma(k, x, dtype=jnp.float64)
    g_log = float(numjax.grad(lg)(jnp.float64(1.7)))
    x = float(np.exp(lg(jnp.float64(1.7))))
    g_lin = float(numjax.grad(lambda a: R.gamma(k, a, dtype=jnp.float64))(jnp.float64(1.7)))
    g_chi = float(numjax.grad(lambda d: R.chisquare(k, d, dtype=jnp.float64))(
        jnp.float64(3.4)))
  u = sp.gammainc(1.7, x)
  h = 1e-5
  dx = (sp.gammaincinv(1.7 + h, u) - sp.gammaincinv(1.7 - h, u)) / (2 * h)
  np.testing.assert_allclose(g_log, dx / x, rtol=1e-5)  # d log x / d a
  assert np.isfinite(g_lin) and np.isfinite(g_chi)


def test_gamma_grad_under_vmap_and_jit():
  k = R.key(2)
  a = jnp.array([0.5, 2., 6.])
  f = lambda x: R.gamma(k, x)
  g_vmap = np.asarray(numjax.vmap(numjax.grad(f))(a))
  g_loop = np.array([float(numjax.grad(f)(a[i])) for i in range(3)])
  np.testing.assert_allclose(g_vmap, g_loop, rtol=1e-6)
  np.testing.assert_allclose(numjax.jit(numjax.grad(f))(2.), numjax.grad(f)(2.), rtol=1e-6)


def test_random_gamma_p_is_public():
  assert R.random_gamma_p.name == "random_gamma"
