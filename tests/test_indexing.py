"""jnp indexing: x[idx], x.at[idx].<op>(...), take, take_along_axis.

Checked against NumPy indexing / in-place updates / ufunc.at, with JAX's documented
differences (out-of-bounds gets clamp, out-of-bounds updates are dropped, dtype casting of
update values), under jit, under vmap (against a loop) and for gradients (finite
differences).
"""
import warnings

import numpy as np
import pytest

import numjax
import numjax.numpy as jnp
from numjax import errors
from numjax.test_util import check_grads

RNG = np.random.default_rng(0)


def rand(shape, dtype=np.float32, rng=RNG):
  dt = np.dtype(dtype)
  if dt == np.bool_:
    return rng.random(shape) < 0.5
  if np.issubdtype(dt, np.integer):
    return rng.integers(0 if dt.kind == "u" else -5, 10, shape).astype(dt)
  if dt.kind == "c":
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)
  return rng.standard_normal(shape).astype(dt)


def close(a, b, tol=1e-6, check_dtype=True):
  a, b = np.asarray(a), np.asarray(b)
  assert a.shape == b.shape, (a.shape, b.shape)
  if check_dtype:
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
  if a.dtype.kind in "fc":
    np.testing.assert_allclose(a, b.astype(a.dtype), rtol=tol, atol=tol, equal_nan=True)
  else:
    np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------------------
# x[idx] against NumPy

X_SHAPE = (3, 4, 5)
XN = np.arange(60).reshape(X_SHAPE)
INDICES = [
    1, -1, (0, 2), (slice(None), 1), (Ellipsis, 2), (None,), (None, 1), (1, None, 2),
    (slice(None, None, -1),), (0, slice(3, 0, -2)), (slice(1, None, 2), slice(None, -1)),
    (slice(-100, 100),), (slice(5, 10),), (slice(None), slice(None), slice(None, None, -3)),
    (np.array([0, 2, 2]),), (slice(None), np.array([3, 0])), (np.array([0, 1]), slice(None),
                                                              np.array([1, 2])),
    (np.array([[0], [1]]), np.array([0, 3])), (XN > 30,), (slice(None), XN[0] % 3 == 0),
    (0, XN[0, :, 0] > 10), (True,), (False,), (None, Ellipsis, None),
    (1, np.array([0, 3]), slice(1, 3)), (np.array([1, 0]), None, np.array([2, 1])),
    (Ellipsis, np.array([4, -1])), (slice(1, None), [0, 2]), (0, True), (np.array(1),),
    (np.array([], np.int32),), (np.array([-3, -1]), 0), ([0, 1], [1, 2]), ((0, 1), 1),
    (np.array([[1, 2], [0, 1]]), Ellipsis, 0), (np.int32(2), np.uint8(3)),
    (slice(np.int64(1), np.int32(3)),), (np.array([True, False, True]), 1),
]


def _np_index(idx):
  return idx


@pytest.mark.parametrize("idx", INDICES, ids=[str(i)[:40] for i in range(len(INDICES))])
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.bool_, np.uint8, np.complex64])
def test_getitem_numpy(idx, dtype):
  x = rand(X_SHAPE, dtype)
  expected = x[idx]
  close(jnp.asarray(x)[idx], expected)
  close(numjax.jit(lambda x: x[idx])(x), expected)


@pytest.mark.parametrize("idx", INDICES, ids=[str(i)[:40] for i in range(len(INDICES))])
def test_getitem_traced_index_arrays(idx):
  # the index arrays are traced (bool masks excluded: they must be concrete)
  x = rand(X_SHAPE)
  parts = idx if isinstance(idx, tuple) else (idx,)
  if any(np.asarray(p).dtype == np.bool_ for p in parts if p is not None and p is not Ellipsis
         and not isinstance(p, slice)):
    return
  arrays = [i for i, p in enumerate(parts) if isinstance(p, (np.ndarray, list, tuple))]
  if not arrays:
    return

  def f(x, *arrs):
    p = list(parts)
    for i, a in zip(arrays, arrs):
      p[i] = a
    return x[tuple(p)]
  args = [np.asarray(parts[i]).astype(np.int32) for i in arrays]
  close(numjax.jit(f)(x, *args), x[idx])


@pytest.mark.parametrize("shape,idx", [
    ((), ()), ((), None), ((), Ellipsis), ((0,), slice(None)), ((0, 3), (slice(None), 1)),
    ((0,), np.array([], np.int32)), ((2, 0), (1,)), ((4,), np.zeros((0, 2), np.int32)),
    ((1,), 0), ((5,), slice(2, 2)),
])
def test_getitem_edge_shapes(shape, idx):
  x = rand(shape)
  close(jnp.asarray(x)[idx], x[idx])
  close(numjax.jit(lambda x: x[idx])(x), x[idx])


def test_getitem_out_of_bounds_clamps():
  x = np.arange(5.0, dtype=np.float32)
  xj = jnp.asarray(x)
  assert float(xj[7]) == 4.0 and float(xj[-9]) == 0.0
  close(xj[np.array([5, -7, 1])], x[np.array([4, 0, 1])])
  f = numjax.jit(lambda x, i: x[i])
  assert float(f(x, 11)) == 4.0 and float(f(x, -11)) == 0.0 and float(f(x, -2)) == 3.0
  close(xj.at[np.array([5, -7, 1])].get(mode="fill"), np.array([np.nan, np.nan, 1.0],
                                                                np.float32))
  close(xj.at[9].get(mode="fill", fill_value=-1), np.float32(-1))
  close(jnp.arange(3).at[5].get(mode="fill"), np.int32(np.iinfo(np.int32).min))
  close(xj.at[7].get(mode="clip"), np.float32(4.0))
  close(xj.at[-1].get(wrap_negative_indices=False), np.float32(0.0))


def test_getitem_traced_scalar_indices():
  x = rand((4, 6))
  f = numjax.jit(lambda x, i, j: x[i, 1:4])
  g = numjax.jit(lambda x, i, j: x[i, ::-1][j])
  for i in range(-4, 4):
    close(f(x, i, 3), x[i, 1:4])
    for j in (-6, 0, 5):
      close(g(x, i, j), x[i, ::-1][j])


def test_lowering_uses_slices_when_static():
  x = np.zeros((4, 5), np.float32)
  prims = lambda f, *a: [e.primitive.name for e in numjax.make_jaxpr(f)(x, *a).eqns]
  assert "gather" not in prims(lambda x: x[1:, ::-2])
  assert "slice" in prims(lambda x: x[1])
  assert "dynamic_slice" in prims(lambda x, i: x[i], 1)
  assert "gather" in prims(lambda x, i: x[i], np.array([0, 1], np.int32))
  assert "scatter" in prims(lambda x: x.at[1:].set(0.0))
  assert "scatter-add" in prims(lambda x: x.at[1].add(1.0))


@pytest.mark.parametrize("idx,exc", [
    ([0, 1], TypeError), ([slice(None), 1], TypeError), (1.0, TypeError), ("a", TypeError),
    ((0, 0, 0), IndexError), ((Ellipsis, Ellipsis), IndexError),
    (np.array([True, False]), IndexError), (np.array([0.5]), TypeError), (object(), IndexError),
    ((slice(0, 1.5),), TypeError),
])
def test_getitem_errors(idx, exc):
  with pytest.raises(exc):
    jnp.zeros((3, 4))[idx]


def test_nonconcrete_boolean_index_error():
  x = jnp.arange(3.0)
  with pytest.raises(errors.NonConcreteBooleanIndexError) as e:
    numjax.jit(lambda x: x[x > 1])(x)
  assert "Array boolean indices must be concrete; got bool[3]" in str(e.value)
  with pytest.raises(errors.NonConcreteBooleanIndexError):
    numjax.jit(lambda x: x.at[x > 1].set(0.0))(x)
  with pytest.raises(IndexError):
    numjax.jit(lambda x, i: x[i:i + 1])(x, 1)  # traced slice bounds are not allowed


def test_boolean_mask_under_grad_is_concrete():
  x = np.array([1.0, -2.0, 3.0], np.float32)
  g = numjax.grad(lambda x: (x[x > 0] ** 2).sum())(x)
  close(g, np.where(x > 0, 2 * x, 0).astype(np.float32))


def test_item_assignment_raises():
  with pytest.raises(TypeError):
    x = jnp.zeros(3)
    x[0] = 1.0


# ---------------------------------------------------------------------------------------
# x.at[idx].<op> against NumPy in-place updates and ufunc.at (seed 004's table)

UPDATE_INDICES = [
    1, -1, (slice(1, None),), (slice(None, None, -2),), (np.array([0, 2, 0]),),
    (np.array([[1], [2]]), np.array([0, 3])), (Ellipsis, 1), (None, 2), (XN[:, :, 0] > 20,),
    (slice(None), np.array([3, 3, 1]), 0), (np.array([1, 0]), None, 2), (True,),
]


def _ref_update(op, x, idx, y):
  """x after x[idx] <op>= y, NumPy style (ufunc.at so repeated indices accumulate)."""
  x = x.copy()
  y = np.asarray(y)
  if op == "set":
    x[idx] = y  # only used with unique indices
    return x
  ufunc = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply,
           "min": np.minimum, "max": np.maximum}[op]
  target_shape = x[idx].shape
  # ufunc.at broadcasts values against the indexed shape
  ufunc.at(x, idx, np.broadcast_to(y, target_shape))
  return x


def _unique(idx):
  parts = idx if isinstance(idx, tuple) else (idx,)
  return not any(isinstance(p, np.ndarray) and p.dtype != np.bool_ and p.ndim and
                 len(np.unique(p)) != p.size for p in parts)


@pytest.mark.parametrize("op", ["set", "add", "subtract", "multiply", "min", "max"])
@pytest.mark.parametrize("idx", UPDATE_INDICES, ids=[str(i) for i in range(len(UPDATE_INDICES))])
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_at_update_numpy(op, idx, dtype):
  if op == "set" and not _unique(idx):
    return
  x = rand(X_SHAPE, dtype)
  y = rand(x[idx].shape[-1:], dtype)  # broadcast along the leading indexed dims
  expected = _ref_update(op, x, idx, y)
  fn = lambda x, y: getattr(jnp.asarray(x).at[idx], op)(y)
  close(fn(x, y), expected, 1e-5)
  close(numjax.jit(fn)(x, y), expected, 1e-5)


def test_at_divide_power_apply_get():
  x = rand((6,), np.float32) + 3
  xj = jnp.asarray(x)
  idx = np.array([1, 1, 4])
  ref = x.copy()
  np.divide.at(ref, idx, np.float32(2))
  close(xj.at[idx].divide(2.0), ref, 1e-6)
  ref = x.copy()
  np.power.at(ref, np.array([1, 4]), np.float32(2))
  close(xj.at[np.array([1, 4])].power(2.0), ref, 1e-5)
  ref = x.copy()
  np.sin.at(ref, idx)  # applied once per occurrence
  close(xj.at[idx].apply(jnp.sin), ref, 1e-6)
  close(xj.at[idx].get(), x[idx])
  # integer arrays: divide is true division, power stays integer
  xi = jnp.arange(4)
  close(xi.at[1].divide(2), np.array([0, 0.5, 2, 3], np.float32))
  close(xi.at[2].power(3), np.array([0, 1, 8, 3], np.int32))
  close(xi.at[2].mul(5), np.array([0, 1, 10, 3], np.int32))


def test_seed_snippets():
  X = jnp.array([1, 2, 3, 4, 5])
  close(X.at[3].set(10), np.array([1, 2, 3, 10, 5], np.int32))
  x = jnp.array([1, 2, 3])
  close(x.at[1:].set(0), np.array([1, 0, 0], np.int32))
  close(x.at[1:].add(1), np.array([1, 3, 4], np.int32))
  close(x, np.array([1, 2, 3], np.int32))  # the original is unchanged

  @numjax.jit
  def interleave_concat(t1, t2, t3):
    res = jnp.zeros((t1.shape[0] * 3, t1.shape[1]), dtype=jnp.int8)
    return res.at[0::3, :].set(t1).at[1::3, :].set(t2).at[2::3, :].set(t3)
  t = [rand((4, 2), np.int8) for _ in range(3)]
  expected = np.zeros((12, 2), np.int8)
  for k in range(3):
    expected[k::3] = t[k]
  close(interleave_concat(*t), expected)


def test_at_out_of_bounds_modes():
  x = jnp.arange(5.0)
  close(x.at[10].add(10), np.arange(5.0, dtype=np.float32))
  close(x.at[20].add(10, mode="clip"), np.array([0, 1, 2, 3, 14], np.float32))
  close(x.at[-1].set(99), np.array([0, 1, 2, 3, 99], np.float32))
  close(x.at[-1].set(99, wrap_negative_indices=False, mode="drop"), np.arange(5.0,
                                                                              dtype=np.float32))
  close(x.at[np.array([7, 1, -9])].set(5.0), np.array([0, 5, 2, 3, 4], np.float32))
  close(x.at[np.array([7, 1, -9])].set(5.0, mode="clip"), np.array([5, 5, 2, 3, 5], np.float32))
  close(x.at[np.array([7, 1, -9])].add(1.0, mode="promise_in_bounds"),
        np.array([0, 2, 2, 3, 4], np.float32))
  close(x.at[np.array([0, 0, 3])].add(1.0), np.array([2, 1, 2, 4, 4], np.float32))
  m = jnp.zeros((3, 4))
  close(m.at[1, 9].set(1.0), np.zeros((3, 4), np.float32))
  f = numjax.jit(lambda m, i: m.at[i].set(1.0))
  close(f(m, 3), np.zeros((3, 4), np.float32))
  close(f(m, -1), np.zeros((3, 4), np.float32) + (np.arange(3) == 2)[:, None])


def test_at_dtype_handling():
  i32 = jnp.arange(3)
  with pytest.warns(FutureWarning):
    out = i32.at[1].set(2.7)
  close(out, np.array([0, 2, 2], np.int32))
  with pytest.warns(FutureWarning):
    out = i32.at[1].add(2.7)
  close(out, np.array([0, 3, 2], np.int32))  # computed in float, cast back
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    close(jnp.arange(3, dtype=jnp.uint8).at[1].set(-1), np.array([0, 255, 2], np.uint8))
    close(jnp.arange(3, dtype=jnp.int8).at[1].set(100), np.array([0, 100, 2], np.int8))
    close(jnp.arange(3.0).at[0].set(jnp.int32(7)), np.array([7, 1, 2], np.float32))
  with pytest.warns(FutureWarning):
    out = jnp.arange(3, dtype=jnp.int8).at[1].add(jnp.int32(300))
  close(out, np.array([0, 45, 2], np.int8))
  with pytest.warns(FutureWarning):
    out = jnp.arange(4, dtype=jnp.float16).at[1].set(jnp.float32(7))
  assert out.dtype == np.float16
  w = numjax.lax.full((3,), 2.0)
  assert w.weak_type and w.at[0].set(1.0).weak_type
  assert not jnp.zeros(3).at[0].set(1.0).weak_type
  with pytest.raises(ValueError):
    jnp.arange(3.0).at[1].set(jnp.ones(2))


# ---------------------------------------------------------------------------------------
# take / take_along_axis

@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("mode", [None, "fill", "clip", "wrap"])
def test_take(axis, mode):
  x = rand((3, 4))
  n = x.size if axis is None else x.shape[axis]
  idx = np.array([[0, n - 1], [-1, 2], [n + 2, -n - 3]], np.int32)
  if mode in (None, "fill"):
    wrapped = np.where(idx < 0, idx + n, idx)
    ok = (wrapped >= 0) & (wrapped < n)
    ref_idx = np.where(ok, wrapped, 0)
  elif mode == "clip":
    ref_idx, ok = np.clip(idx, 0, n - 1), None
  else:
    ref_idx, ok = idx % n, None
  expected = np.take(x, ref_idx, axis=axis)
  if ok is not None:
    ax = 0 if axis is None else axis % 2
    shape = [1] * expected.ndim
    mask_axes = list(range(ax, ax + 2))
    for d, s in zip(mask_axes, ok.shape):
      shape[d] = s
    expected = np.where(ok.reshape(shape), expected, np.nan)
  close(jnp.take(x, idx, axis=axis, mode=mode), expected.astype(np.float32))
  close(numjax.jit(lambda x, i: jnp.take(x, i, axis=axis, mode=mode))(x, idx),
        expected.astype(np.float32))


@pytest.mark.parametrize("ishape,axis", [((3, 2), 1), ((1, 4), 0), ((3, 1), 1), ((2, 4), 0),
                                         ((3, 6), 1), ((5,), None)])
def test_take_along_axis(ishape, axis):
  x = rand((3, 4))
  n = x.size if axis is None else x.shape[axis]
  idx = RNG.integers(-n, n, ishape).astype(np.int32)
  xa = x.ravel() if axis is None else x
  expected = np.take_along_axis(xa, idx, axis=0 if axis is None else axis)
  close(jnp.take_along_axis(x, idx, axis=axis), expected)
  close(numjax.jit(lambda x, i: jnp.take_along_axis(x, i, axis=axis))(x, idx), expected)
  oob = np.full(ishape, n + 3, np.int32)
  assert np.isnan(np.asarray(jnp.take_along_axis(x, oob, axis=axis))).all()
  close(jnp.take_along_axis(x, oob, axis=axis, mode="clip"),
        np.take_along_axis(xa, np.full(ishape, n - 1), axis=0 if axis is None else axis))


def test_take_along_axis_broadcasts_operand():
  x = rand((1, 5))
  idx = np.array([[0, 4], [1, 1], [3, 2]], np.int32)
  expected = np.take_along_axis(np.broadcast_to(x, (3, 5)), idx, 1)
  close(jnp.take_along_axis(x, idx, 1), expected)


# ---------------------------------------------------------------------------------------
# vmap and grad

def _loop(f, in_axes, args, nb):
  outs = []
  for b in range(nb):
    outs.append(f(*[jnp.asarray(a if ax is None else np.take(a, b, axis=ax))
                    for a, ax in zip(args, in_axes)]))
  return np.stack([np.asarray(o) for o in outs])


@pytest.mark.parametrize("in_axes", [(0, None), (None, 0), (0, 0), (1, 0), (2, None)])
def test_vmap_getitem(in_axes):
  nb = 3
  x = rand((nb, 4, 5)) if in_axes[0] in (0, None) else np.moveaxis(rand((nb, 4, 5)), 0,
                                                                  in_axes[0])
  if in_axes[0] is None:
    x = x[0]
  i = np.array([3, -1, 7], np.int32) if in_axes[1] == 0 else np.int32(2)
  for f in (lambda x, i: x[i], lambda x, i: x[:, i], lambda x, i: x[i, 1:4],
            lambda x, i: x[np.array([0, 3]), i], lambda x, i: x[i][::-1]):
    out = numjax.vmap(f, in_axes=in_axes)(jnp.asarray(x), i)
    close(out, _loop(f, in_axes, (x, i), nb))


@pytest.mark.parametrize("op", ["set", "add", "multiply", "min", "max"])
@pytest.mark.parametrize("in_axes", [(0, None, None), (None, 0, None), (None, None, 0),
                                     (0, 0, 0), (1, None, 0), (None, 0, 0), (0, 0, None)])
def test_vmap_at(op, in_axes):
  nb = 3
  x = rand((nb, 4, 5))
  if in_axes[0] == 1:
    x = np.moveaxis(x, 0, 1)
  elif in_axes[0] is None:
    x = x[0]
  i = np.array([[1, 1], [3, 0], [-1, 9]], np.int32) if in_axes[1] == 0 else \
      np.array([2, 0], np.int32)
  if op == "set" and in_axes[1] == 0:
    i = np.array([[1, 2], [3, 0], [-1, 9]], np.int32)
  v = rand((nb, 2, 5)) if in_axes[2] == 0 else rand((2, 5))
  f = lambda x, i, v: getattr(x.at[i], op)(v)
  out = numjax.vmap(f, in_axes=in_axes)(jnp.asarray(x), i, v)
  close(out, _loop(f, in_axes, (x, i, v), nb), 1e-6)


def test_vmap_dynamic_scalar_update():
  x = rand((3, 5))
  i = np.array([0, 4, -2], np.int32)
  f = lambda x, i: x.at[i].set(-1.0)
  close(numjax.vmap(f)(jnp.asarray(x), i), _loop(f, (0, 0), (x, i), 3))
  g = lambda x, i: x.at[i].add(x[i])
  close(numjax.vmap(g)(jnp.asarray(x), i), _loop(g, (0, 0), (x, i), 3))


def test_grad_getitem_repeated_indices():
  x = rand((5,))
  idx = np.array([0, 3, 3, 1, 3])
  g = numjax.grad(lambda x: (x[idx] ** 2).sum())(x)
  expected = np.zeros(5, np.float32)
  np.add.at(expected, idx, 2 * x[idx])
  close(g, expected, 1e-5)


MASK = np.random.default_rng(3).random((3, 4)) < 0.5
GRAD_FUNS = [
    ("getitem_basic", lambda x, v: x[1, ::-2] * v[0, :2]),
    ("getitem_advanced", lambda x, v: x[np.array([0, 2, 2]), 1:] * v[1, 1:]),
    ("getitem_mask", lambda x, v: x[MASK] * v[0, 0]),
    ("at_set_unique", lambda x, v: x.at[np.array([0, 2])].set(v[:2])),
    ("at_set_repeated", lambda x, v: x.at[np.array([1, 1, 2])].set(v[:3, :1])),
    ("at_set_slice", lambda x, v: x.at[1:, 2].set(v[:2, 0] ** 2)),
    ("at_add_repeated", lambda x, v: x.at[np.array([1, 1, 2])].add(v[:3])),
    ("at_subtract", lambda x, v: x.at[:, np.array([3, 0])].subtract(v[:3, :2])),
    ("at_multiply_unique", lambda x, v: x.at[np.array([0, 2])].multiply(
        v[:2], unique_indices=True)),
    ("at_divide_static", lambda x, v: x.at[1].divide(v[0] + 3.0)),
    ("at_power_static", lambda x, v: (x * x + 1.0).at[2].power(v[1])),
    ("at_min", lambda x, v: x.at[np.array([0, 0, 2])].min(v[:3])),
    ("at_max", lambda x, v: x.at[np.array([0, 1, 1])].max(v[:3])),
    ("at_get_fill", lambda x, v: x.at[np.array([0, 5]), 1].get(mode="fill", fill_value=2.0)),
    ("take_along_axis", lambda x, v: jnp.take_along_axis(x, np.array([[1], [3], [0]]), 1) * v[0]),
    ("take", lambda x, v: jnp.take(x, np.array([2, 0, 7]), axis=1, mode="clip") + v[:3, :1]),
    ("dynamic_get", lambda x, v: x[np.int32(-1)] * v[2]),
]


@pytest.mark.parametrize("name,f", GRAD_FUNS, ids=[g[0] for g in GRAD_FUNS])
def test_grads(name, f):
  x, v = rand((3, 4)), rand((4, 4))
  g = lambda x, v: f(jnp.asarray(x), jnp.asarray(v))
  check_grads(g, (x, v), order=2, modes=("fwd", "rev"), atol=2e-2, rtol=2e-2)


def test_grad_under_jit_and_vmap():
  x = rand((3, 6))
  idx = np.array([[0, 5, 5], [1, 1, 1], [2, 3, 4]], np.int32)
  f = lambda x, i: (x[i] * x[i]).sum()
  g = numjax.jit(numjax.vmap(numjax.grad(f)))(x, idx)
  for b in range(3):
    expected = np.zeros(6, np.float32)
    np.add.at(expected, idx[b], 2 * x[b][idx[b]])
    close(g[b], expected, 1e-5)
