"""The samplers' eager fast path (numjax/_src/random/plans.py): a cached compiled plan per
static signature must give exactly what the op-by-op code gives (checked with
`jax_disable_jit`, which turns plans off), raise the same errors, tell apart static
arguments that compare equal in Python (1 vs 1.0, 0.0 vs -0.0), and follow config."""
import gc

import numpy as np
import pytest

import numjax
import numjax.numpy as jnp
from numjax import random as R
from numjax._src.random import plans
from numjax._src.random.keys import PRNGKeyArray


def _op_by_op(f):
  with numjax.disable_jit():
    return f()


def _same(a, b):
  if isinstance(a, PRNGKeyArray):
    a, b = R.key_data(a), R.key_data(b)
  a, b = np.asarray(a), np.asarray(b)
  assert a.dtype == b.dtype and a.shape == b.shape
  np.testing.assert_array_equal(a, b)


K = R.key(3)
RK = R.PRNGKey(3)
CASES = {
    "normal": lambda k: R.normal(k, (5,)),
    "normal_scalar": lambda k: R.normal(k),
    "normal_f16": lambda k: R.normal(k, (4,), jnp.float16),
    "normal_c64": lambda k: R.normal(k, (3,), jnp.complex64),
    "uniform": lambda k: R.uniform(k, (2, 3)),
    "uniform_bounds": lambda k: R.uniform(k, (7,), minval=-2.0, maxval=3.0),
    "uniform_array_bounds": lambda k: R.uniform(k, (7,), minval=jnp.float32(-1.5),
                                                maxval=jnp.arange(7.0)),
    "bits": lambda k: R.bits(k, (4,), jnp.uint8),
    "randint": lambda k: R.randint(k, (6,), 0, 10),
    "randint_int8": lambda k: R.randint(k, (6,), -3, 100, jnp.int8),
    "bernoulli": lambda k: R.bernoulli(k, 0.3, (5,)),
    "categorical": lambda k: R.categorical(k, jnp.log(jnp.array([0.2, 0.3, 0.5])), shape=(4,)),
    "gumbel": lambda k: R.gumbel(k, (3,)),
    "truncated_normal": lambda k: R.truncated_normal(k, -1.0, 2.0, (4,)),
    "exponential": lambda k: R.exponential(k, (4,)),
    "gamma": lambda k: R.gamma(k, jnp.array([0.5, 1.0, 3.0])),
    "beta": lambda k: R.beta(k, 2.0, 3.0, (3,)),
    "permutation": lambda k: R.permutation(k, 6),
    "choice": lambda k: R.choice(k, 5, (3,), replace=False),
    "multivariate_normal": lambda k: R.multivariate_normal(k, jnp.zeros(2), jnp.eye(2), (3,)),
    "maxwell": lambda k: R.maxwell(k, (2,)),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("key", [K, RK], ids=["typed", "raw"])
def test_plan_matches_op_by_op(name, key):
  f = CASES[name]
  first, second = f(key), f(key)   # trace + compile, then the cached plan
  ref = _op_by_op(lambda: f(key))
  _same(first, ref)
  _same(second, ref)
  assert np.asarray(first).dtype == np.asarray(ref).dtype
  assert getattr(first, "weak_type", False) == getattr(ref, "weak_type", False)


def test_plans_are_cached_per_signature():
  from numjax._src import core
  gc.collect()  # committed (sharded) arrays left by other tests make eager ops lay out
  plans._plans.clear()
  R.normal(K, (3,))
  R.normal(K, (3,))
  n = len(plans._plans)
  R.normal(K, (4,))
  R.normal(RK, (3,))
  R.normal(RK, (3,))
  if core._eager_only:
    assert (n, len(plans._plans)) == (1, 3)
    assert all(p is not plans._NO_PLAN for p in plans._plans.values())
  else:  # eager results get layouts (sharding_propagation's base trace): no plans then
    assert len(plans._plans) == 0


def test_no_plans_while_committed_arrays_exist():
  import numjax.sharding as shd
  from numjax._src import core
  devs = numjax.devices()
  x = numjax.device_put(jnp.ones(2), shd.SingleDeviceSharding(devs[0]))
  assert not core._eager_only   # eager ops now run on sharding_propagation's base trace
  plans._plans.clear()
  a = R.normal(K, (3,))
  assert len(plans._plans) == 0
  del x
  _same(a, _op_by_op(lambda: R.normal(K, (3,))))


def test_static_arguments_that_compare_equal_are_kept_apart():
  a = R.uniform(K, (4,), minval=0.0, maxval=1.0)
  b = R.uniform(K, (4,), minval=-0.0, maxval=1.0)
  _same(a, _op_by_op(lambda: R.uniform(K, (4,), minval=0.0, maxval=1.0)))
  _same(b, _op_by_op(lambda: R.uniform(K, (4,), minval=-0.0, maxval=1.0)))
  i = R.randint(K, (4,), 0, 10)
  assert i.dtype == np.dtype(np.int32)
  w = R.uniform(K, (3,), dtype=jnp.float16)
  assert w.dtype == np.dtype(np.float16)


def test_errors_are_the_op_by_op_errors():
  for call in (lambda: R.normal(K, (-1,)),
               lambda: R.normal(K, (3,), jnp.int32),
               lambda: R.normal(R.split(K, 3), (2,)),
               lambda: R.randint(K, (2,), 0, 3, jnp.float32)):
    with pytest.raises(Exception) as planned_err:
      call()
    with pytest.raises(Exception) as ref_err:
      _op_by_op(call)
    assert type(planned_err.value) is type(ref_err.value)
    assert str(planned_err.value) == str(ref_err.value)


def test_plans_follow_x64():
  a = R.normal(K, (3,))
  with numjax.enable_x64(True):
    b = R.normal(K, (3,))
    ref = _op_by_op(lambda: R.normal(K, (3,)))
  assert a.dtype == np.dtype(np.float32)
  assert b.dtype == np.dtype(np.float64)
  _same(b, ref)
  _same(R.normal(K, (3,)), a)


def test_traced_calls_do_not_use_plans():
  f = numjax.jit(lambda k: R.normal(k, (3,)))
  _same(f(K), R.normal(K, (3,)))
  g = numjax.vmap(lambda k: R.uniform(k, (2,)))
  ks = R.split(K, 3)
  out = g(ks)
  for i in range(3):
    _same(out[i], R.uniform(ks[i], (2,)))
  dx = numjax.grad(lambda s: R.normal(K, (3,)).sum() * s)(2.0)
  assert float(dx) == pytest.approx(float(R.normal(K, (3,)).sum()))


def test_unplannable_arguments_take_the_plain_path():
  p = np.array([0.1, 0.2, 0.7])   # a NumPy array: not planned, still correct
  a = R.choice(K, 3, (4,), p=p)
  b = _op_by_op(lambda: R.choice(K, 3, (4,), p=p))
  _same(a, b)
