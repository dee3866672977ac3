"""The snippets of ../shared/seeds/, run on numjax as the notes describe them.

Expected values come from the notes themselves (the outputs they print) or from NumPy.
Sharding snippets (seed 002's mesh) live in test_sharding.py.
"""
import contextlib
import io
from functools import partial

import numpy as np
import pytest

import numjax as jax
import numjax.numpy as jnp
from numjax import jit, lax, random, vmap


def _printed(fn):
  buf = io.StringIO()
  with contextlib.redirect_stdout(buf):
    fn()
  return buf.getvalue()


# ---- seed 000 ---------------------------------------------------------------------------

def test_seed000_immutable_update():
  X = jnp.array([1, 2, 3, 4, 5])
  with pytest.raises(TypeError, match="at\\[idx\\]"):
    X[3] = 10
  Y = X.at[3].set(10)
  np.testing.assert_array_equal(Y, [1, 2, 3, 10, 5])
  np.testing.assert_array_equal(X, [1, 2, 3, 4, 5])  # the original is untouched


def test_seed000_matmul_spellings_agree():
  rng = np.random.default_rng(0)
  c = (rng.random((1000, 128)) < 0.5).astype(np.float32)
  w = rng.standard_normal((1, 128)).astype(np.float32)

  @jax.jit
  def new_matmul(w, c):
    return jnp.matmul(w, c)

  @jax.jit
  def old_matmul(w, c):
    return w @ c
  ref = w @ c.T
  np.testing.assert_allclose(new_matmul(w, c.T), ref, rtol=1e-5)
  np.testing.assert_allclose(old_matmul(w, c.T), ref, rtol=1e-5)


def test_seed000_interleave_concat():
  @jax.jit
  def interleave_concat(t1, t2, t3):
    res = jnp.zeros((t1.shape[0] * 3, t1.shape[1]), dtype=jnp.int8)
    return res.at[0::3, :].set(t1).at[1::3, :].set(t2).at[2::3, :].set(t3)
  t = [np.full((4, 2), i + 1, np.int8) for i in range(3)]
  out = interleave_concat(*t)
  ref = np.zeros((12, 2), np.int8)
  ref[0::3], ref[1::3], ref[2::3] = t
  assert out.dtype == jnp.int8
  np.testing.assert_array_equal(out, ref)


def test_seed000_cond_under_vmap_becomes_select():
  def f(p, x):
    return lax.cond(p, lambda x: x * 2.0, lambda x: x - 1.0, x)
  text = str(jax.make_jaxpr(vmap(f))(jnp.array([True, False]), jnp.array([1.0, 2.0])))
  assert "select_n" in text
  np.testing.assert_allclose(vmap(f)(jnp.array([True, False]), jnp.array([1.0, 2.0])),
                             [2.0, 1.0])


# ---- seed 001 ---------------------------------------------------------------------------

def test_seed001_at_set_add():
  x = jnp.array([1, 2, 3])
  assert str(x.at[1:].set(0)) == "[1 0 0]"
  assert str(x.at[1:].add(1)) == "[1 3 4]"


def test_seed001_random_numbers_as_printed_in_the_notes():
  k = random.key(42)
  k, k1 = random.split(k)
  out1 = random.normal(k1, (3,))
  k, k2 = random.split(k)
  dfs = jnp.array([1, 2])
  out2 = vmap(random.t, in_axes=(None, 0))(k2, dfs)
  # the values the JAX issue text quotes for this snippet
  np.testing.assert_allclose(out1, [0.60576403, 0.7990441, -0.908927], rtol=1e-6)
  np.testing.assert_allclose(out2, [-1.8834321, -0.83157206], rtol=1e-6)


def test_seed001_vmap_in_out_axes():
  def f(x, y):
    return x + y
  out = vmap(f, in_axes=(0, None), out_axes=1)(jnp.array([0, 1, 2, 3]), jnp.array([4, 5]))
  assert str(out) == "[[4 5 6 7]\n [5 6 7 8]]"


def test_seed001_jit_of_python_if_fails():
  @jit
  def f(x):
    if x > 0:
      return x
    else:
      return jnp.stack([x, x])
  with pytest.raises(jax.errors.TracerBoolConversionError) as e:
    f(3)
  assert "test_seeds.py" in str(e.value)


def test_seed001_static_argnums_loop_and_while_loop():
  @partial(jit, static_argnums=1)
  def g(x, n):
    i = 0
    while i < n:
      i += 1
    return x + i
  assert int(g(1, 5)) == 6

  def cond_fun(val):
    i, n = val
    return i < n

  def body_fun(val):
    i, n = val
    return i + 1, n

  @jit
  def g2(x, n):
    end, _ = lax.while_loop(cond_fun, body_fun, (0, n))
    return x + end
  assert int(g2(1, 5)) == 6


def test_seed001_hessian_by_composition():
  f = lambda x: jnp.sum(x ** 3)
  np.testing.assert_allclose(jax.jacfwd(jax.jacrev(f))(jnp.array([1.0, 2.0])),
                             [[6.0, 0.0], [0.0, 12.0]])


# ---- seed 002 ---------------------------------------------------------------------------

def _func(x):
  return jnp.exp(-x ** 2) * jnp.cos(jnp.exp(x ** 2))


def test_seed002_function_grad_vmap_jit():
  x_jnp = jnp.linspace(-2, 2, 10000)
  xs = np.linspace(-2, 2, 10000).astype(np.float32)
  y = _func(x_jnp)
  np.testing.assert_allclose(y, np.exp(-xs ** 2) * np.cos(np.exp(xs ** 2)), rtol=1e-5,
                             atol=1e-6)
  y_prime = vmap(jax.grad(_func))(x_jnp)
  x64 = xs.astype(np.float64)
  dref = (-2 * x64 * np.exp(-x64 ** 2) * np.cos(np.exp(x64 ** 2))
          - np.exp(-x64 ** 2) * np.sin(np.exp(x64 ** 2)) * 2 * x64 * np.exp(x64 ** 2))
  np.testing.assert_allclose(y_prime, dref, rtol=2e-3, atol=2e-3)
  np.testing.assert_allclose(jit(_func)(x_jnp), y, rtol=1e-6, atol=1e-7)


# ---- seed 003 ---------------------------------------------------------------------------

def test_seed003_make_jaxpr_dot():
  def f(x, y):
    return jnp.dot(x + 1, y + 1)
  text = str(jax.make_jaxpr(f)(jnp.ones((2, 3)), jnp.ones((3, 4))))
  assert "add a 1.0:f32[]" in text
  assert "dimension_numbers=(([1], [0]), ([], []))" in text


def test_seed003_boolean_index_under_jit():
  def get_negatives(x):
    return x[x < 0]
  x = jnp.array([-1.0, 2.0, -3.0])
  np.testing.assert_array_equal(get_negatives(x), [-1.0, -3.0])  # eager: fine
  with pytest.raises(jax.errors.NonConcreteBooleanIndexError):
    jit(get_negatives)(x)
  np.testing.assert_array_equal(jit(lambda x: jnp.where(x < 0, 0, x))(x), [0.0, 2.0, 0.0])


def test_seed003_static_argnums_retrace_sequence():
  @partial(jit, static_argnums=(1,))
  def f(x, neg):
    print(x)
    return -x if neg else x
  out = _printed(lambda: [print(f(1, True)), print(f(2, True)), print(f(2, False)),
                          print(f(23, False))])
  lines = out.splitlines()
  # the tracer prints on the first call of each static value only
  assert [("Tracer" in l) for l in lines] == [True, False, False, True, False, False]
  assert [l for l in lines if "Tracer" not in l] == ["-1", "-2", "2", "23"]


def test_seed003_reshape_with_traced_size():
  @jit
  def f(x):
    return x.reshape(jnp.array(x.shape).prod())
  with pytest.raises(TypeError, match="concrete"):
    f(jnp.ones((2, 3)))


# ---- seed 004 ---------------------------------------------------------------------------

def test_seed004_at_table():
  x = jnp.array([1.0, 2.0, 3.0, 4.0])
  idx, y = 1, 3.0
  ref = np.asarray(x)

  def np_do(op):
    r = ref.copy()
    op(r)
    return r
  np.testing.assert_allclose(x.at[idx].set(y), np_do(lambda r: r.__setitem__(idx, y)))
  np.testing.assert_allclose(x.at[idx].add(y), np_do(lambda r: np.add.at(r, idx, y)))
  np.testing.assert_allclose(x.at[idx].multiply(y), np_do(lambda r: np.multiply.at(r, idx, y)))
  np.testing.assert_allclose(x.at[idx].divide(y), np_do(lambda r: np.divide.at(r, idx, y)))
  np.testing.assert_allclose(x.at[idx].power(y), np_do(lambda r: np.power.at(r, idx, y)))
  np.testing.assert_allclose(x.at[idx].min(y), np_do(lambda r: np.minimum.at(r, idx, y)))
  np.testing.assert_allclose(x.at[idx].max(y), np_do(lambda r: np.maximum.at(r, idx, y)))
  np.testing.assert_allclose(x.at[idx].apply(jnp.sin), np_do(lambda r: np.sin.at(r, idx)),
                             rtol=1e-6)
  np.testing.assert_allclose(x.at[idx].get(), ref[idx])


def test_seed004_out_of_bound_indexing():
  x = jnp.arange(5.0)
  assert float(x[10]) == 4.0                    # gathers clamp
  np.testing.assert_array_equal(x.at[10].set(99.0), np.arange(5.0))   # scatters drop
  assert np.isnan(float(x.at[10].get(mode="fill")))                   # or fill on request


def test_seed004_donation():
  def add(x, y):
    return x + y
  x = jax.device_put(np.ones((2, 3)))
  y = jax.device_put(np.ones((2, 3)))
  z = jax.jit(add, donate_argnums=(1,))(x, y)
  np.testing.assert_array_equal(z, np.full((2, 3), 2.0))
  assert y.is_deleted() and not x.is_deleted()
  with pytest.raises(RuntimeError, match="deleted"):
    np.asarray(y)


def test_seed004_nested_vmaps_give_n_batch_dimensions():
  f = lambda a, b: jnp.dot(a, b)
  a = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
  b = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4) / 7
  out = vmap(vmap(f))(a, b)
  np.testing.assert_allclose(out, np.einsum("ijk,ijk->ij", a, b), rtol=1e-6)
  out = vmap(vmap(f, in_axes=(1, 1)), in_axes=(0, 0))(a, b)  # map over the last axis too
  np.testing.assert_allclose(out, np.einsum("ijk,ijk->ik", a, b), rtol=1e-6)


def test_seed004_convolutions_match_numpy():
  x = np.array([1.0, 2.0, 3.0, 0.5], np.float32)
  k = np.array([0.2, 0.5, 1.0], np.float32)
  np.testing.assert_allclose(jnp.convolve(x, k), np.convolve(x, k), rtol=1e-6)
  np.testing.assert_allclose(jnp.convolve(x, k, mode="same"), np.convolve(x, k, mode="same"),
                             rtol=1e-6)


def test_seed004_local_devices_and_processes():
  assert jax.process_index() == 0 and jax.process_count() == 1
  assert len(jax.local_devices()) >= 1 and jax.devices()[0].platform == "cpu"
