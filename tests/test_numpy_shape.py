"""jnp shape manipulation, joining/splitting, flips/rolls, padding and selection: NumPy
parity over dtypes and shapes, jit parity, vmap against a loop at every batch position,
gradients against finite differences; JAX's errors."""
import functools
import re

import numpy as np
import pytest

import numjax
import numjax.numpy as jnp
from records import Rec as _Rec, assert_close, make_tests, uniform

ALL = ("bool", "int8", "uint8", "int32", "float16", "bfloat16", "float32", "complex64")
F32 = ("float32",)
SOME = ("int32", "float32", "bool")


def Rec(*args, **kw):
  kw.setdefault("check_dtype", True)
  return _Rec(*args, **kw)


def _np(fn):
  """NumPy reference with the results (and list results) as arrays."""
  def f(*args):
    out = fn(*args)
    return [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else out
  return f


def mask(rng, shape, dtype):
  return rng.random(shape) < 0.5


RECORDS = [
    # reshaping
    Rec("reshape", lambda x: jnp.reshape(x, (-1, 2)), _np(lambda x: np.reshape(x, (-1, 2))),
        [(4,), (2, 3, 2), (0, 2)], dtypes=ALL, grad=1),
    Rec("reshape[F]", lambda x: jnp.reshape(x, (3, 4), order="F"),
        lambda x: np.reshape(x, (3, 4), order="F"), [(12,), (2, 6), (4, 3)], dtypes=SOME,
        grad=1),
    Rec("reshape[int]", lambda x: jnp.reshape(x, 6), lambda x: np.reshape(x, 6), [(2, 3)]),
    Rec("ravel", jnp.ravel, np.ravel, [(), (3,), (2, 3, 4)], dtypes=SOME, grad=1),
    Rec("ravel[F]", lambda x: jnp.ravel(x, order="F"), lambda x: np.ravel(x, order="F"),
        [(2, 3, 4)]),
    Rec("transpose", jnp.transpose, np.transpose, [(), (3,), (2, 3), (2, 3, 4)], dtypes=ALL,
        grad=1),
    Rec("transpose[axes]", lambda x: jnp.transpose(x, (1, -1, 0)),
        lambda x: np.transpose(x, (1, -1, 0)), [(2, 3, 4)], grad=1),
    Rec("permute_dims", lambda x: jnp.permute_dims(x, (2, 0, 1)),
        lambda x: np.permute_dims(x, (2, 0, 1)), [(2, 3, 4)]),
    Rec("matrix_transpose", jnp.matrix_transpose, np.matrix_transpose, [(2, 3), (4, 2, 3)],
        grad=1),
    Rec("moveaxis", lambda x: jnp.moveaxis(x, 0, -1), lambda x: np.moveaxis(x, 0, -1),
        [(2, 3, 4)], grad=1),
    Rec("moveaxis[multi]", lambda x: jnp.moveaxis(x, (0, 1), (2, 0)),
        lambda x: np.moveaxis(x, (0, 1), (2, 0)), [(2, 3, 4)]),
    Rec("swapaxes", lambda x: jnp.swapaxes(x, 0, 2), lambda x: np.swapaxes(x, 0, 2),
        [(2, 3, 4)], grad=1),
    Rec("rollaxis", lambda x: jnp.rollaxis(x, 2, 1), lambda x: np.rollaxis(x, 2, 1),
        [(2, 3, 4)]),
    Rec("expand_dims", lambda x: jnp.expand_dims(x, (0, -1)),
        lambda x: np.expand_dims(x, (0, -1)), [(), (3,), (2, 3)], dtypes=SOME, grad=1),
    Rec("squeeze", jnp.squeeze, np.squeeze, [(1,), (1, 3, 1), (2, 3)], dtypes=SOME, grad=1),
    Rec("squeeze[axis]", lambda x: jnp.squeeze(x, -1), lambda x: np.squeeze(x, -1),
        [(1, 3, 1)]),
    Rec("atleast_1d", jnp.atleast_1d, np.atleast_1d, [(), (3,), (2, 3)]),
    Rec("atleast_2d", jnp.atleast_2d, np.atleast_2d, [(), (3,), (2, 3)]),
    Rec("atleast_3d", jnp.atleast_3d, np.atleast_3d, [(), (3,), (2, 3), (2, 3, 4)], grad=1),
    Rec("atleast_2d[multi]", lambda x, y: jnp.atleast_2d(x, y), _np(np.atleast_2d),
        [((), (3,))], nargs=2, vmap=False),
    Rec("broadcast_to", lambda x: jnp.broadcast_to(x, (2, 3, 4)),
        lambda x: np.broadcast_to(x, (2, 3, 4)), [(), (4,), (3, 1), (2, 3, 4)], dtypes=SOME,
        grad=1),
    Rec("broadcast_arrays", jnp.broadcast_arrays, _np(np.broadcast_arrays),
        [((3, 1), (4,)), ((), (2, 3)), ((2, 3), (2, 3))], nargs=2, grad=1),
    # joining
    Rec("concatenate", lambda x, y: jnp.concatenate([x, y, x], axis=1),
        lambda x, y: np.concatenate([x, y, x], axis=1), [((2, 3), (2, 1)), ((2, 0), (2, 2))],
        nargs=2, dtypes=ALL, grad=1),
    Rec("concatenate[None]", lambda x, y: jnp.concatenate([x, y], axis=None),
        lambda x, y: np.concatenate([x, y], axis=None), [((2, 3), (4,))], nargs=2, grad=1),
    Rec("concatenate[array]", lambda x: jnp.concatenate(x, axis=1),
        lambda x: np.concatenate(x, axis=1), [(3, 2, 4)]),
    Rec("concatenate[mixed dtypes]", lambda x, y: jnp.concatenate([x, y.astype(jnp.int8)]),
        lambda x, y: np.concatenate([x, y.astype(np.int8)]), [((3,), (2,))], nargs=2),
    Rec("concat", lambda x, y: jnp.concat([x, y], axis=-1),
        lambda x, y: np.concat([x, y], axis=-1), [((2, 3), (2, 2))], nargs=2),
    Rec("stack", lambda x, y: jnp.stack([x, y], axis=1), lambda x, y: np.stack([x, y], axis=1),
        [((3,), (3,)), ((2, 3), (2, 3))], nargs=2, dtypes=SOME, grad=1),
    Rec("stack[scalars]", lambda x, y: jnp.stack([x, y]), lambda x, y: np.stack([x, y]),
        [((), ())], nargs=2),
    Rec("stack[-1,dtype]", lambda x, y: jnp.stack([x, y], -1, dtype=jnp.float32),
        lambda x, y: np.stack([x, y], -1, dtype=np.float32), [((2, 3), (2, 3))], nargs=2,
        dtypes=("int32",)),
    Rec("stack[array]", lambda x: jnp.stack(x, axis=1), lambda x: np.stack(x, axis=1),
        [(3, 2, 4)]),
    Rec("hstack", lambda x, y: jnp.hstack([x, y]), lambda x, y: np.hstack([x, y]),
        [((), (3,)), ((2, 3), (2, 1))], nargs=2, grad=1),
    Rec("vstack", lambda x, y: jnp.vstack([x, y]), lambda x, y: np.vstack([x, y]),
        [((3,), (3,)), ((2, 3), (1, 3))], nargs=2),
    Rec("dstack", lambda x, y: jnp.dstack([x, y]), lambda x, y: np.dstack([x, y]),
        [((3,), (3,)), ((2, 3), (2, 3))], nargs=2),
    Rec("column_stack", lambda x, y: jnp.column_stack([x, y]),
        lambda x, y: np.column_stack([x, y]), [((3,), (3, 2))], nargs=2),
    Rec("block", lambda x, y: jnp.block([[x, y], [y, x]]),
        lambda x, y: np.block([[x, y], [y, x]]), [((2, 2), (2, 2)), ((3,), (3,))], nargs=2),
    Rec("unstack", lambda x: jnp.unstack(x, axis=1), _np(lambda x: np.unstack(x, axis=1)),
        [(2, 3), (2, 3, 4)], grad=1),
    # splitting
    Rec("split", lambda x: jnp.split(x, 3, axis=1), _np(lambda x: np.split(x, 3, axis=1)),
        [(2, 6), (0, 3)], dtypes=SOME, grad=1),
    # (JAX 0.10.2 rejects decreasing or out-of-range points, which NumPy accepts: the
    # error is tested in test_jit_fidelity_extra.py)
    Rec("split[indices]", lambda x: jnp.split(x, [1, 4, 4, 6]),
        _np(lambda x: np.split(x, [1, 4, 4, 6])), [(6,), (6, 2)]),
    Rec("array_split", lambda x: jnp.array_split(x, 4), _np(lambda x: np.array_split(x, 4)),
        [(7,), (10, 2)]),
    Rec("hsplit", lambda x: jnp.hsplit(x, 2), _np(lambda x: np.hsplit(x, 2)), [(4,), (2, 4)]),
    Rec("vsplit", lambda x: jnp.vsplit(x, [1]), _np(lambda x: np.vsplit(x, [1])), [(3, 2)]),
    Rec("dsplit", lambda x: jnp.dsplit(x, 2), _np(lambda x: np.dsplit(x, 2)), [(2, 3, 4)]),
    # tiling and repeating
    Rec("tile", lambda x: jnp.tile(x, (2, 1, 3)), lambda x: np.tile(x, (2, 1, 3)),
        [(), (3,), (2, 3), (2, 3, 1, 2)], dtypes=SOME, grad=1),
    Rec("tile[int]", lambda x: jnp.tile(x, 2), lambda x: np.tile(x, 2), [(), (2, 3)]),
    Rec("repeat", lambda x: jnp.repeat(x, 2), lambda x: np.repeat(x, 2), [(), (3,), (2, 3)],
        dtypes=SOME, grad=1),
    Rec("repeat[axis]", lambda x: jnp.repeat(x, 3, axis=-1),
        lambda x: np.repeat(x, 3, axis=-1), [(2, 3), (2, 0)], grad=1),
    Rec("repeat[array]", lambda x: jnp.repeat(x, np.array([1, 0, 3]), axis=0),
        lambda x: np.repeat(x, [1, 0, 3], axis=0), [(3,), (3, 2)], grad=1),
    Rec("repeat[total]", lambda x: jnp.repeat(x, np.array([2, 1, 1]), axis=0,
                                              total_repeat_length=6),
        lambda x: np.repeat(x, [2, 1, 1], axis=0)[np.minimum(np.arange(6), 3)],
        [(3,), (3, 2)]),
    Rec("resize", lambda x: jnp.resize(x, (3, 5)), lambda x: np.resize(x, (3, 5)),
        [(4,), (2, 3), (20,)]),
    # flips and rolls
    Rec("flip", jnp.flip, np.flip, [(), (3,), (2, 3, 4)], dtypes=ALL, grad=1),
    Rec("flip[axis]", lambda x: jnp.flip(x, (0, -1)), lambda x: np.flip(x, (0, -1)),
        [(2, 3, 4)], grad=1),
    Rec("fliplr", jnp.fliplr, np.fliplr, [(2, 3)]),
    Rec("flipud", jnp.flipud, np.flipud, [(3,), (2, 3)]),
    Rec("roll", lambda x: jnp.roll(x, 2), lambda x: np.roll(x, 2), [(), (5,), (2, 3)],
        dtypes=SOME, grad=1),
    Rec("roll[axes]", lambda x: jnp.roll(x, (1, -5), axis=(0, 2)),
        lambda x: np.roll(x, (1, -5), axis=(0, 2)), [(2, 3, 4), (2, 0, 4)], grad=1),
    Rec("roll[one shift, two axes]", lambda x: jnp.roll(x, 1, axis=(0, 1)),
        lambda x: np.roll(x, 1, axis=(0, 1)), [(3, 4)]),
    Rec("rot90", jnp.rot90, np.rot90, [(2, 3), (2, 3, 4)], grad=1),
    Rec("rot90[k,axes]", lambda x: [jnp.rot90(x, k, axes=(2, 0)) for k in (-1, 2, 3, 4)],
        lambda x: [np.rot90(x, k, axes=(2, 0)) for k in (-1, 2, 3, 4)], [(2, 3, 4)]),
    # selection
    Rec("where", lambda c, x, y: jnp.where(c, x, y), np.where,
        [((2, 3), (2, 3), (2, 3)), ((), (3,), ()), ((3, 1), (4,), ())], nargs=3,
        domain=[mask, uniform(), uniform()], dtypes=ALL),
    Rec("where[grad]", lambda x, y: jnp.where(x > y, x * 2, y), lambda x, y: np.where(
        x > y, x * 2, y), [((2, 3), (2, 3)), ((3,), ())], nargs=2, grad=2),
    Rec("where[promote]", lambda c, x, y: jnp.where(c, x, y.astype(jnp.int8)),
        lambda c, x, y: np.where(c, x, y.astype(np.int8)), [((2, 3), (2, 3), (2, 3))],
        nargs=3, domain=[mask, uniform(), uniform()], dtypes=("float16", "int32")),
    Rec("where[scalars]", lambda c: jnp.where(c, 1.0, 0), lambda c: np.where(c, 1.0, 0)
        .astype(np.float32), [(2, 3)], domain=mask, dtypes=("bool",)),
    Rec("where[nonbool cond]", lambda c, x: jnp.where(c, x, -x),
        lambda c, x: np.where(c, x, -x), [((4,), (4,))], nargs=2, dtypes=("int32",)),
    Rec("select", lambda c1, c2, x: jnp.select([c1, c2], [x, -x], 7.0),
        lambda c1, c2, x: np.select([c1, c2], [x, -x], 7.0), [((2, 3), (2, 3), (2, 3)),
                                                              ((3,), (), (2, 3))],
        nargs=3, domain=[mask, mask, uniform()]),
    Rec("select[grad]", lambda x, y: jnp.select([x > 1, y < 0], [x * y, y], x),
        lambda x, y: np.select([x > 1, y < 0], [x * y, y], x), [((2, 3), (2, 3))], nargs=2,
        grad=1),
    Rec("piecewise", lambda x: jnp.piecewise(x, [x < -1, x > 1], [lambda v: v * 2, 5.0,
                                                                  lambda v: -v]),
        lambda x: np.piecewise(x, [x < -1, x > 1], [lambda v: v * 2, 5.0, lambda v: -v]),
        [(), (7,), (2, 3)], grad=1),
    Rec("piecewise[overlap]", lambda x: jnp.piecewise(x, [x < 1, x > -1], [1.0, 2.0]),
        lambda x: np.piecewise(x, [x < 1, x > -1], [1.0, 2.0]), [(9,)]),
    Rec("clip", lambda x: jnp.clip(x, -1, 1.5), lambda x: np.clip(x, -1, 1.5),
        [(), (5,), (2, 3)], dtypes=("int8", "int32", "float16", "float32"), grad=1,
        check_dtype=False),
    Rec("clip[arrays]", lambda x, lo: jnp.clip(x, lo, 2.0), lambda x, lo: np.clip(x, lo, 2.0),
        [((2, 3), (3,))], nargs=2, grad=1),
    Rec("clip[max only]", lambda x: jnp.clip(x, max=0), lambda x: np.clip(x, None, 0),
        [(5,)], dtypes=("int32", "float32")),
]

# pad: every mode, on several widths (including reflections longer than the axis)
PAD_WIDTHS = [1, (2, 0), ((0, 3), (4, 1)), ((5, 7), (1, 2))]
PAD_MODES = [("constant", {}), ("constant", {"constant_values": 3}),
             ("constant", {"constant_values": ((1, 2), (3, 4))}), ("edge", {}), ("wrap", {}),
             ("reflect", {}), ("symmetric", {}), ("reflect", {"reflect_type": "odd"}),
             ("symmetric", {"reflect_type": "odd"}), ("linear_ramp", {}),
             ("linear_ramp", {"end_values": (5, -3)}), ("maximum", {}), ("minimum", {}),
             ("mean", {}), ("median", {}), ("mean", {"stat_length": 2}),
             ("maximum", {"stat_length": ((1, 2), (3, 1))}), ("empty", {})]
for _mode, _kw in PAD_MODES:
  _tag = f"pad[{_mode}{',' + ','.join(f'{k}={v}' for k, v in _kw.items()) if _kw else ''}]"
  for _w in PAD_WIDTHS:
    _ref = functools.partial(np.pad, pad_width=_w, mode=_mode, **_kw)
    if _mode == "empty":
      _ref = functools.partial(np.pad, pad_width=_w, mode="constant")
    RECORDS.append(Rec(f"{_tag}[{_w}]", functools.partial(jnp.pad, pad_width=_w, mode=_mode,
                                                          **_kw),
                       _ref, [(3, 4), (1, 2)] if (_w != 1 or "((" in _tag) else
                       [(), (1,), (5,), (3, 4)],
                       # (integer linear ramps round as JAX, not NumPy: tested below)
                       dtypes=(F32 if _mode == "linear_ramp" else
                               ("int32", "float32") if _mode != "constant" else SOME),
                       grad=1 if _mode in ("constant", "edge", "reflect", "mean") else 0,
                       tol={"float32": 1e-5}))

test_numpy, test_jit, test_vmap, test_grad = make_tests(RECORDS)


# ---------------------------------------------------------------------------------------
# Traced arguments and the one-argument where

def test_roll_traced_shift():
  x = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
  f = numjax.jit(lambda x, s: jnp.roll(x, s, axis=2))
  for s in (-5, -1, 0, 3, 9):
    assert_close(f(x, s), np.roll(x, s, axis=2), 0)
  g = numjax.jit(lambda x, s: jnp.roll(x, s, axis=(0, 2)))
  assert_close(g(x, np.array([1, -2])), np.roll(x, (1, -2), axis=(0, 2)), 0)
  h = numjax.jit(lambda x, s: jnp.roll(x, s))
  assert_close(h(x, 7), np.roll(x, 7), 0)
  v = numjax.vmap(lambda s: jnp.roll(x, s, axis=1))(np.array([0, 1, 5]))
  assert_close(v, np.stack([np.roll(x, s, axis=1) for s in (0, 1, 5)]), 0)
  gr = numjax.grad(lambda x, s: jnp.sum(jnp.roll(x, s, axis=2) * np.arange(4.0)))(x, 1)
  assert_close(gr, np.broadcast_to(np.roll(np.arange(4.0), -1), x.shape), 1e-6)


def test_repeat_traced_repeats_with_total():
  x = np.arange(6.0, dtype=np.float32).reshape(3, 2)
  f = numjax.jit(lambda x, r: jnp.repeat(x, r, axis=0, total_repeat_length=5))
  assert_close(f(x, np.array([2, 0, 3])), np.repeat(x, [2, 0, 3], axis=0), 0)
  # truncated, and padded with the last row
  assert_close(f(x, np.array([3, 3, 3])), np.repeat(x, 3, axis=0)[:5], 0)
  assert_close(f(x, np.array([1, 1, 1])), np.concatenate([x, x[-1:], x[-1:]]), 0)
  # past the end JAX repeats the last row, even one repeated zero times; static repeats
  # (no tracing) follow the same rule
  assert_close(f(x, np.array([1, 1, 0])), np.concatenate([x[:2], x[-1:], x[-1:], x[-1:]]), 0)
  assert_close(jnp.repeat(x, np.array([1, 1, 0]), axis=0, total_repeat_length=4),
               np.concatenate([x[:2], x[-1:], x[-1:]]), 0)
  assert_close(jnp.repeat(x, 0, axis=0, total_repeat_length=2), x[[2, 2]], 0)


def test_repeat_traced_without_total_is_an_error():
  with pytest.raises(numjax.errors.ConcretizationTypeError, match="total_repeat_length"):
    numjax.jit(lambda x, r: jnp.repeat(x, r))(np.ones(3), np.array([1, 2, 1]))


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2)])
def test_where_one_argument(shape):
  rng = np.random.default_rng(0)
  x = rng.integers(-1, 2, shape).astype(np.float32)
  want = np.nonzero(x)
  got = jnp.where(x)
  assert len(got) == len(want)
  for g, w in zip(got, want):
    assert g.dtype == np.int32
    assert_close(g, w, 0)
  got = jnp.nonzero(x > 0)
  for g, w in zip(got, np.nonzero(x > 0)):
    assert_close(g, w, 0)
  k = len(want[0])
  jitted = numjax.jit(lambda x: jnp.where(x, size=k + 2, fill_value=-1))(x)
  for g, w in zip(jitted, want):
    assert_close(g, np.concatenate([w, [-1, -1]]), 0)
  small = numjax.jit(lambda x: jnp.nonzero(x, size=1))(x)
  for g, w in zip(small, want):
    assert_close(g, w[:1], 0)
  default_fill = jnp.nonzero(x, size=k + 1)
  for g, w in zip(default_fill, want):
    assert_close(g, np.concatenate([w, [0]]), 0)


def test_where_one_argument_needs_size_under_jit():
  with pytest.raises(numjax.errors.ConcretizationTypeError, match="size argument"):
    numjax.jit(lambda x: jnp.where(x))(np.ones(3))


def test_pad_integer_linear_ramp_rounds_as_jax():
  # JAX computes the ramp as start*(1-t) + stop*t in float32 and floors it; NumPy's
  # start + k*step can round differently. Recorded from JAX 0.10.2.
  x = np.array([[2, -1, 4], [-5, 0, 3]], np.int32)
  want = [[7, 7, 7, 7, 7, 7, 7, 7, 7], [7, 6, 5, 5, 4, 6, 6, 6, 7], [7, 5, 4, 3, 1, 5, 5, 6, 7],
          [7, 5, 3, 2, -1, 4, 5, 6, 7], [7, 2, -2, -5, 0, 3, 4, 5, 7], [7, 3, 0, -2, 2, 4, 5, 6, 7],
          [7, 5, 3, 2, 4, 5, 5, 6, 7], [7, 7, 7, 7, 7, 7, 7, 7, 7]]
  out = jnp.pad(x, 3, mode="linear_ramp", end_values=7)
  assert out.dtype == np.int32
  assert_close(out, np.array(want), 0)


def test_pad_callable_mode():
  def pad_with(vector, pad_width, iaxis, kwargs):
    return vector.at[:pad_width[0]].set(kwargs.get("v", 10)).at[
        vector.shape[0] - pad_width[1]:].set(kwargs.get("v", 10))
  x = np.arange(6.0, dtype=np.float32).reshape(2, 3)

  def np_pad_with(vector, pad_width, iaxis, kwargs):
    vector[:pad_width[0]] = kwargs.get("v", 10)
    vector[vector.shape[0] - pad_width[1]:] = kwargs.get("v", 10)
  assert_close(jnp.pad(x, 2, pad_with), np.pad(x, 2, np_pad_with), 0)
  assert_close(jnp.pad(x, 1, pad_with, v=-1), np.pad(x, 1, np_pad_with, v=-1), 0)


def test_pad_traced_constant_value():
  x = np.ones((2, 2), np.float32)
  out = numjax.jit(lambda x, c: jnp.pad(x, 1, constant_values=c))(x, 5.0)
  assert_close(out, np.pad(x, 1, constant_values=5.0), 0)
  g = numjax.grad(lambda c: jnp.sum(jnp.pad(x, 1, constant_values=c)))(2.0)
  assert_close(g, 12.0, 1e-6)


def test_shapes_and_weak_types():
  assert jnp.broadcast_shapes((2, 1), (3,)) == (2, 3)
  assert jnp.broadcast_shapes() == ()
  assert jnp.broadcast_shapes(3, (2, 1)) == (2, 3)
  assert jnp.reshape(2.0, (1,)).weak_type
  assert not jnp.concatenate([jnp.ones(2), jnp.ones(2, jnp.int32)]).weak_type
  assert jnp.stack([1.0, 2.0]).weak_type
  assert jnp.where(True, 1.0, 2).weak_type
  assert jnp.where(True, 1.0, 2).dtype == np.float32


def test_split_returns_list_and_unstack_tuple():
  parts = jnp.split(np.arange(6.0), 3)
  assert isinstance(parts, list) and len(parts) == 3
  assert isinstance(jnp.unstack(np.ones((2, 3))), tuple)


# ---------------------------------------------------------------------------------------
# Errors (classes and messages as JAX 0.10.2)

X = np.arange(6.0, dtype=np.float32).reshape(2, 3)
ERRORS = [
    (lambda: jnp.reshape([1, 2], (2,)), TypeError, "reshape requires ndarray or scalar"),
    (lambda: jnp.reshape(X, (-1, -1)), TypeError, "can only specify one unknown axis size"),
    (lambda: jnp.reshape(X, (4,)), TypeError, "cannot reshape array of shape (2, 3) (size 6) "
                                              "into shape (4,) (size 4)"),
    (lambda: jnp.reshape(X, (4, -1)), TypeError, "does not evenly divide 6"),
    (lambda: jnp.reshape(X, (3, 2), order="A"), NotImplementedError, "order=A"),
    (lambda: jnp.transpose(X, (0,)), TypeError, "isn't a permutation"),
    (lambda: jnp.transpose(X, (0, 0)), TypeError, "isn't a permutation"),
    (lambda: jnp.moveaxis(X, (0, 1), 0), ValueError, "Inconsistent number of elements: 2 vs 1"),
    (lambda: jnp.moveaxis(X, 0, 5), ValueError, "axis 5 is out of bounds"),
    (lambda: jnp.expand_dims(X, (0, 0)), ValueError, "repeated axis"),
    (lambda: jnp.expand_dims(X, 5), ValueError, "axis 5 is out of bounds for array of "
                                                "dimension 3"),
    (lambda: jnp.squeeze(X, 0), ValueError, "cannot select an axis to squeeze out"),
    (lambda: jnp.squeeze(X, 4), ValueError, "axis 4 is out of bounds"),
    (lambda: jnp.matrix_transpose(np.ones(3)), ValueError, "at least two-dimensional"),
    (lambda: jnp.concatenate([]), ValueError, "Need at least one array to concatenate."),
    (lambda: jnp.concatenate([np.float32(1), np.float32(2)]), ValueError,
     "Zero-dimensional arrays cannot be concatenated."),
    (lambda: jnp.concatenate([X, np.ones(3)]), TypeError, ""),
    (lambda: jnp.concatenate([X, np.ones((3, 3))], axis=1), TypeError, ""),
    (lambda: jnp.stack([]), ValueError, "Need at least one array to stack."),
    (lambda: jnp.stack([X, np.ones((3, 3))]), ValueError, "All input arrays must have the "
                                                          "same shape."),
    (lambda: jnp.stack([X], out=1), NotImplementedError, "'out' argument to jnp.stack"),
    (lambda: jnp.split(np.ones(5), 2), ValueError, "array split does not result in an equal "
                                                   "division: rest is 1"),
    (lambda: jnp.vsplit(np.ones(4), 2), ValueError, "vsplit only works on arrays of 2"),
    (lambda: jnp.broadcast_to(X, (3,)), ValueError, "Cannot broadcast to shape with fewer "
                                                    "dimensions"),
    (lambda: jnp.broadcast_to(X, (4, 3)), ValueError, "Incompatible types for broadcasting: "
                                                      "input type=float32[2,3]"),
    (lambda: jnp.broadcast_arrays(X, np.ones(4)), ValueError, "Incompatible shapes for "
                                                              "broadcasting"),
    (lambda: jnp.broadcast_shapes((2, 3), (4,)), ValueError, "Incompatible shapes for "
                                                             "broadcasting"),
    (lambda: jnp.fliplr(np.ones(3)), ValueError, "axis 1 is out of bounds"),
    (lambda: jnp.rot90(X, axes=(0, 0)), ValueError, "Axes must be different"),
    (lambda: jnp.rot90(X, axes=(0,)), ValueError, "axes must be a tuple of length 2"),
    (lambda: jnp.pad(X, -1), ValueError, "index can't contain negative values"),
    (lambda: jnp.pad(X, 1, mode="foo"), NotImplementedError, "Unimplemented padding mode "
                                                             "'foo' for np.pad."),
    (lambda: jnp.pad(X, 1, mode="edge", constant_values=1), ValueError,
     "unsupported keyword arguments for mode 'edge'"),
    (lambda: jnp.pad(X, 1.5), TypeError, "`pad_width` must be of integral type."),
    (lambda: jnp.pad(X, ((1, 2, 3),)), ValueError, "has unsupported shape (1, 3)"),
    (lambda: jnp.pad(X, 1, constant_values=(1, 2, 3)), ValueError,
     "constant_values has unsupported shape (3,)"),
    (lambda: jnp.pad(np.ones((0, 2)), 1, mode="wrap"), ValueError,
     "Cannot apply 'wrap' padding to empty axis"),
    (lambda: jnp.pad(X, 1, mode="mean", stat_length=0), ValueError,
     "stat_length of 0 yields no value for padding"),
    (lambda: jnp.where(X, 1), TypeError, "where requires ndarray or scalar arguments"),
    (lambda: jnp.where(X > 1, 1, 2, size=3), ValueError, "size and fill_value arguments "
                                                         "cannot be used"),
    (lambda: jnp.nonzero(np.float32(1)), ValueError, "Calling nonzero on 0d arrays"),
    (lambda: jnp.select([X > 1], [X, X]), ValueError, "condlist must have length equal to "
                                                      "choicelist (1 vs 2)"),
    (lambda: jnp.select([], []), ValueError, "condlist must be non-empty"),
    (lambda: jnp.piecewise(X, [X > 1], [1, 2, 3]), ValueError,
     "with 1 condition(s), either 1 or 2 functions are expected; got 3"),
    (lambda: jnp.clip(X.astype(np.complex64), 0, 1), ValueError, "Clip received a complex "
                                                                 "value"),
    (lambda: jnp.clip(X, a_min=1), TypeError, "a_min"),
    (lambda: jnp.unstack(np.float32(1)), ValueError, "axis 0 is out of bounds for array of "
                                                     "dimension 0"),
    (lambda: jnp.atleast_1d([1, 2]), TypeError, "atleast_1d requires ndarray or scalar"),
    (lambda: jnp.repeat(X, [1, 2]), TypeError, "repeat requires ndarray or scalar"),
]


@pytest.mark.parametrize("fn,exc,msg", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors(fn, exc, msg):
  with pytest.raises(exc, match=re.escape(msg) if msg else None):
    fn()
