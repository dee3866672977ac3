"""all_to_all, pswapaxes, pshuffle, pbroadcast, pcast, tokens and the placement primitives
(lax/parallel.py), checked against NumPy transposes/indexing of the stacked members."""
import numpy as np
import pytest

import numjax
import numjax.numpy as jnp
from numjax import lax
from numjax.test_util import check_grads


def vm(f, x, name="i", **kw):
  return np.asarray(numjax.vmap(f, axis_name=name, **kw)(x))


def ref_all_to_all(x, s, c, tiled):
  """Python loop: member j gets chunk j of every member i (along the split axis), stacked
  (untiled) or concatenated (tiled) along the concat axis in member order."""
  n = x.shape[0]
  outs = []
  for j in range(n):
    chunks = [np.split(x[i], n, axis=s)[j] for i in range(n)]
    if tiled:
      outs.append(np.concatenate(chunks, axis=c))
    else:
      chunks = [np.squeeze(ch, axis=s) for ch in chunks]
      outs.append(np.stack(chunks, axis=c))
  return np.stack(outs)


@pytest.mark.parametrize("s,c,tiled", [(0, 0, False), (0, 1, False), (1, 0, False),
                                       (0, 1, True), (1, 0, True), (1, 1, True)])
def test_all_to_all_matches_loop(s, c, tiled):
  rng = np.random.default_rng(0)
  shape = [4, 3]
  shape[s] = 8 if tiled else 4
  x = rng.standard_normal((4, *shape)).astype(np.float32)
  out = vm(lambda a: lax.all_to_all(a, "i", s, c, tiled=tiled), x)
  np.testing.assert_array_equal(out, ref_all_to_all(x, s, c, tiled))


def test_all_to_all_batch_dim_not_leading_and_unbatched():
  x = np.arange(4 * 4 * 3, dtype=np.float32).reshape(4, 4, 3)
  out = vm(lambda a: lax.all_to_all(a, "i", 0, 0), np.moveaxis(x, 0, 2), in_axes=2)
  np.testing.assert_array_equal(out, ref_all_to_all(x, 0, 0, False))
  # The same value in every member
  y = np.arange(12.0, dtype=np.float32).reshape(3, 4)
  out = vm(lambda a: lax.all_to_all(a, "i", 1, 0), y, in_axes=None, axis_size=4)
  np.testing.assert_array_equal(out, ref_all_to_all(np.stack([y] * 4), 1, 0, False))


def test_all_to_all_nested_axes():
  x = np.arange(2 * 4 * 4 * 3, dtype=np.float32).reshape(2, 4, 4, 3)
  inner_i = numjax.vmap(numjax.vmap(lambda a: lax.all_to_all(a, "i", 0, 1), axis_name="i"),
                        axis_name="j")(x)
  np.testing.assert_array_equal(np.asarray(inner_i),
                                np.stack([ref_all_to_all(x[k], 0, 1, False) for k in range(2)]))
  outer_i = numjax.vmap(numjax.vmap(lambda a: lax.all_to_all(a, "i", 0, 1), axis_name="j"),
                        axis_name="i")(np.swapaxes(x, 0, 1))
  np.testing.assert_array_equal(np.asarray(outer_i), np.swapaxes(np.stack(
      [ref_all_to_all(x[k], 0, 1, False) for k in range(2)]), 0, 1))


def test_all_to_all_under_jit_and_errors():
  x = np.arange(4 * 4 * 2, dtype=np.float32).reshape(4, 4, 2)
  out = numjax.jit(numjax.vmap(lambda a: lax.all_to_all(a, "i", 0, 1), axis_name="i"))(x)
  np.testing.assert_array_equal(np.asarray(out), ref_all_to_all(x, 0, 1, False))
  with pytest.raises(ValueError, match="split_axis"):
    vm(lambda a: lax.all_to_all(a, "i", 1, 0), x)
  with pytest.raises(ValueError, match="divisible"):
    vm(lambda a: lax.all_to_all(a, "i", 1, 0, tiled=True), np.ones((4, 3, 3), np.float32))
  with pytest.raises(NameError):
    lax.all_to_all(x, "i", 0, 0)


def test_all_to_all_grads():
  x = np.random.default_rng(1).standard_normal((4, 4, 3)).astype(np.float32)
  w = np.random.default_rng(2).standard_normal((4, 3, 4)).astype(np.float32)
  f = lambda x: jnp.sum(numjax.vmap(lambda a: lax.all_to_all(a, "i", 0, 1),
                                    axis_name="i")(x) * w)
  check_grads(f, (x,), order=2, modes=["fwd", "rev"])
  # the transpose routes each cotangent back: grad = w laid out as the inverse all_to_all
  g = numjax.grad(f)(x)
  np.testing.assert_allclose(np.asarray(g), np.transpose(w, (2, 0, 1)))


def test_pswapaxes():
  x = np.arange(4 * 3 * 4, dtype=np.float32).reshape(4, 3, 4)
  out = vm(lambda a: lax.pswapaxes(a, "i", 1), x)
  np.testing.assert_array_equal(out, np.swapaxes(x, 0, 2))


def test_pshuffle():
  x = np.arange(4.0, dtype=np.float32) * 10
  perm = [2, 0, 3, 1]
  np.testing.assert_array_equal(vm(lambda a: lax.pshuffle(a, "i", perm), x), x[perm])
  with pytest.raises(ValueError, match="permutation"):
    vm(lambda a: lax.pshuffle(a, "i", [0, 0, 1, 2]), x)
  y = np.random.default_rng(3).standard_normal(4).astype(np.float32)
  t = np.random.default_rng(5).standard_normal(4).astype(np.float32)
  w = np.arange(1.0, 5.0, dtype=np.float32)
  f = lambda x: vm_sum(lambda a: lax.pshuffle(a, "i", perm) ** 2, x)
  np.testing.assert_allclose(float(numjax.jvp(f, (y,), (t,))[1]),
                             np.sum(2 * y[perm] * t[perm] * w), rtol=1e-5)
  expected = np.zeros(4, np.float32)
  expected[perm] = 2 * y[perm] * w
  np.testing.assert_allclose(np.asarray(numjax.grad(f)(y)), expected, rtol=1e-5)
  check_grads(lambda x: vm_sum(lambda a: lax.pshuffle(a, "i", perm), x), (y,), order=1,
              modes=["fwd", "rev"])


def vm_sum(f, x):
  out = numjax.vmap(f, axis_name="i")(x)
  w = jnp.arange(1.0, x.shape[0] + 1).reshape((-1,) + (1,) * (out.ndim - 1))
  return jnp.sum(out * w)


def test_pbroadcast():
  x = np.arange(12.0, dtype=np.float32).reshape(4, 3)
  out = vm(lambda a: lax.pbroadcast(a, "i", 2), x)
  np.testing.assert_array_equal(out, np.stack([x[2]] * 4))
  y = np.random.default_rng(4).standard_normal((4, 3)).astype(np.float32)
  check_grads(lambda x: vm_sum(lambda a: lax.pbroadcast(a, "i", 2), x), (y,), order=1,
              modes=["fwd", "rev"])
  # the gradient reaches only the source member: the sum of all members' cotangents
  g = numjax.grad(lambda x: vm_sum(lambda a: jnp.sum(lax.pbroadcast(a, "i", 1)), x))(x)
  expected = np.zeros_like(x)
  expected[1] = 1 + 2 + 3 + 4
  np.testing.assert_allclose(np.asarray(g), expected)
  with pytest.raises(ValueError):
    vm(lambda a: lax.pbroadcast(a, "i", 7), x)


def test_pcast_is_identity_and_unsupported_names_raise():
  x = np.arange(4.0, dtype=np.float32)
  np.testing.assert_array_equal(vm(lambda a: lax.pcast(a, "i", to="varying"), x), x)
  with pytest.raises(ValueError):
    vm(lambda a: lax.pcast(a, "i", to="sideways"), x)
  with pytest.raises(NotImplementedError, match="ppermute"):
    vm(lambda a: lax.psend(a, "i", [(0, 1)]), x)
  with pytest.raises(NotImplementedError, match="ppermute"):
    lax.precv(None, x, "i", [(0, 1)])
  with pytest.raises(NotImplementedError, match="ragged_all_to_all"):
    lax.ragged_all_to_all(x, x, x, x, x, x, axis_name="i")
  assert lax.all_to_all_p.name == "all_to_all"
  assert lax.ragged_all_to_all_p.name == "ragged_all_to_all"


def test_tokens():
  t = lax.create_token()
  t2 = lax.after_all(t, lax.create_token(), jnp.ones(3))
  assert np.asarray(t2).size == 0
  text = str(numjax.make_jaxpr(lambda x: lax.after_all(lax.create_token(), x))(1.0))
  assert "create_token" in text and "after_all" in text
  assert lax.create_token_p.name == "create_token" and lax.after_all_p.name == "after_all"


def test_placement_primitives_in_jaxprs_and_transforms():
  d = numjax.devices()[0]
  s = numjax.sharding.SingleDeviceSharding(d)
  x = np.arange(6.0, dtype=np.float32).reshape(3, 2)
  text = str(numjax.make_jaxpr(lambda a: numjax.device_put(a, d) * 2)(x))
  assert "device_put[" in text and "ArrayCopySemantics.REUSE_INPUT" in text
  text = str(numjax.make_jaxpr(lambda a: lax.with_sharding_constraint(a, s))(x))
  assert "sharding_constraint[" in text
  f = lambda a: jnp.sum(lax.with_sharding_constraint(numjax.device_put(a, d), s) ** 2)
  np.testing.assert_allclose(np.asarray(numjax.jit(numjax.grad(f))(x)), 2 * x)
  check_grads(f, (x,), order=2, modes=["fwd", "rev"])
  out = numjax.vmap(lambda a: lax.with_sharding_constraint(numjax.device_put(a, d), s))(x)
  np.testing.assert_array_equal(np.asarray(out), x)
  assert lax.device_put_p.name == "device_put"
  assert lax.sharding_constraint_p.name == "sharding_constraint"
