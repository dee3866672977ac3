"""Traced programs print the jaxprs JAX 0.10.2 prints (users compare `make_jaxpr` output).

Every expected text below was recorded by running the same program under JAX 0.10.2's
`jax.make_jaxpr` (never produced by numjax). Each program is also run under jit on both
compiler tiers' inputs and checked against NumPy, so the broadcasting it relies on computes
the right numbers.
"""
import numpy as np
import pytest

import numjax as jax
import numjax.numpy as jnp
from numjax import lax

f32 = np.float32
COL = np.arange(1, 4, dtype=f32).reshape(3, 1)
ROW = np.arange(2, 6, dtype=f32).reshape(1, 4)
A = np.arange(12, dtype=f32).reshape(3, 4) / 7
V = np.arange(1, 5, dtype=f32)

a, v, c = A, V, COL  # (the names the recording script used)

# name -> (program, args, JAX 0.10.2's jaxpr text)
PROGRAMS = {
    # lax binary ops broadcast equal-rank operands' size-1 dims implicitly
    "lax_add_implicit": (lambda x, y: lax.add(x, y), (COL, ROW),
        '{ lambda ; a:f32[3,1] b:f32[1,4]. let c:f32[3,4] = add a b in (c,) }'),
    "lax_lt_implicit": (lambda x, y: lax.lt(x, y), (COL, ROW),
        '{ lambda ; a:f32[3,1] b:f32[1,4]. let c:bool[3,4] = lt a b in (c,) }'),
    "grad_mul_implicit": (
        lambda x, y: jax.grad(lambda x, y: lax.mul(x, y).sum(), (0, 1))(x, y), (COL, ROW),
        '{ lambda ; a:f32[3,1] b:f32[1,4]. let\n    c:f32[3,4] = mul a b\n    _:f32[] = reduce_sum[axes=(0, 1) out_sharding=None] c\n    d:f32[3,4] = broadcast_in_dim 1.0:f32[]\n    e:f32[3,4] = mul a d\n    f:f32[4] = reduce_sum[axes=(0,) out_sharding=None] e\n    g:f32[1,4] = reshape[dimensions=None new_sizes=(1, 4) sharding=None] f\n    h:f32[3,4] = mul d b\n    i:f32[3] = reduce_sum[axes=(1,) out_sharding=None] h\n    j:f32[3,1] = reshape[dimensions=None new_sizes=(3, 1) sharding=None] i\n  in (j, g) }'),
    "jvp_add_one_zero": (
        lambda x, y: jax.jvp(lambda x: lax.add(x, y), (x,), (x,)), (COL, ROW),
        '{ lambda ; a:f32[3,1] b:f32[1,4]. let\n    c:f32[3,4] = add a b\n    d:f32[3] = reshape[dimensions=None new_sizes=(3,) sharding=None] a\n    e:f32[3,4] = broadcast_in_dim[broadcast_dimensions=(0,)] d\n  in (c, e) }'),
    "jvp_sub_one_zero": (
        lambda x, y: jax.jvp(lambda y: lax.sub(x, y), (y,), (y,)), (COL, ROW),
        '{ lambda ; a:f32[3,1] b:f32[1,4]. let\n    c:f32[3,4] = sub a b\n    d:f32[1,4] = neg b\n    e:f32[4] = reshape[dimensions=None new_sizes=(4,) sharding=None] d\n    f:f32[3,4] = broadcast_in_dim[broadcast_dimensions=(1,)] e\n  in (c, f) }'),
    "vmap_add_both": (jax.vmap(lax.add), (np.stack([COL, COL + 1]), np.stack([ROW, ROW * 2])),
        '{ lambda ; a:f32[2,3,1] b:f32[2,1,4]. let c:f32[2,3,4] = add a b in (c,) }'),
    "vmap_add_in_axis1": (jax.vmap(lax.add, (1, None)), (A.T.copy(), V),
        '{ lambda ; a:f32[4,3] b:f32[4]. let\n    c:f32[3,4] = transpose[permutation=(1, 0)] a\n    d:f32[1,4] = broadcast_in_dim[broadcast_dimensions=(np.int64(1),)] b\n    e:f32[3,4] = add c d\n  in (e,) }'),
    "lax_expand_dims": (lambda x: lax.expand_dims(x, (0, 2)), (V,),
        '{ lambda ; a:f32[4]. let\n    b:f32[1,4,1] = broadcast_in_dim[broadcast_dimensions=(1,)] a\n  in (b,) }'),
    # jnp: rank promotion only (lax broadcasts unit dims); None/keepdims/expand_dims are
    # broadcast_in_dim; static slices use JAX's window numbers
    "jnp_add_row": (lambda a, v: a + v, (a, v),
        '{ lambda ; a:f32[3,4] b:f32[4]. let\n    c:f32[1,4] = broadcast_in_dim[broadcast_dimensions=(1,)] b\n    d:f32[3,4] = add a c\n  in (d,) }'),
    "jnp_add_col": (lambda a, c: a + c, (a, c),
        '{ lambda ; a:f32[3,4] b:f32[3,1]. let c:f32[3,4] = add a b in (c,) }'),
    "jnp_where_scalar_rank": (lambda a, v: jnp.maximum(a, 2.0) * v, (a, v),
        '{ lambda ; a:f32[3,4] b:f32[4]. let\n    c:f32[3,4] = max a 2.0:f32[]\n    d:f32[1,4] = broadcast_in_dim[broadcast_dimensions=(1,)] b\n    e:f32[3,4] = mul c d\n  in (e,) }'),
    "index_none": (lambda v: v[:, None], (v,),
        '{ lambda ; a:f32[4]. let\n    b:f32[4,1] = broadcast_in_dim[broadcast_dimensions=(0,)] a\n  in (b,) }'),
    "index_ellipsis_none": (lambda a: a[..., None, 1:3], (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,2] = slice[limit_indices=(3, 3) start_indices=(0, 1) strides=None] a\n    c:f32[3,1,2] = broadcast_in_dim[broadcast_dimensions=(0, 2)] b\n  in (c,) }'),
    "index_empty": (lambda a: a[5:2], (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[0,4] = slice[limit_indices=(3, 4) start_indices=(3, 0) strides=None] a\n  in (b,) }'),
    "reshape_step": (lambda a: a.reshape(-1)[::2], (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[12] = reshape[dimensions=None new_sizes=(12,) sharding=None] a\n    c:f32[6] = slice[limit_indices=(12,) start_indices=(0,) strides=(2,)] b\n  in (c,) }'),
    "reshape_neg_step": (lambda a: a.reshape(-1)[::-3], (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[12] = reshape[dimensions=None new_sizes=(12,) sharding=None] a\n    c:f32[4] = slice[limit_indices=(12,) start_indices=(2,) strides=(3,)] b\n    d:f32[4] = rev[dimensions=(0,)] c\n  in (d,) }'),
    "sum_keepdims": (lambda a: jnp.sum(a, 1, keepdims=True), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3] = reduce_sum[axes=(1,) out_sharding=None] a\n    c:f32[3,1] = broadcast_in_dim[broadcast_dimensions=(0,)] b\n  in (c,) }'),
    "expand_dims": (lambda a: jnp.expand_dims(a, (0, -1)), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[1,3,4,1] = broadcast_in_dim[broadcast_dimensions=(1, 2)] a\n  in (b,) }'),
    "softmax": (lambda a: jax.nn.softmax(a), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3] = reduce_max[axes=(1,)] a\n    c:f32[3] = max -inf:f32[] b\n    d:f32[3,1] = broadcast_in_dim[broadcast_dimensions=(0,)] c\n    e:f32[3,1] = stop_gradient d\n    f:f32[3,4] = sub a e\n    g:f32[3,4] = exp f\n    h:f32[3] = reduce_sum[axes=(1,) out_sharding=None] g\n    i:f32[3,1] = broadcast_in_dim[broadcast_dimensions=(0,)] h\n    j:f32[3,4] = div g i\n  in (j,) }'),
    "outer": (lambda v: jnp.outer(v, v), (v,),
        '{ lambda ; a:f32[4]. let\n    b:f32[4,1] = broadcast_in_dim[broadcast_dimensions=(0,)] a\n    c:f32[1,4] = broadcast_in_dim[broadcast_dimensions=(1,)] a\n    d:f32[4,4] = mul b c\n  in (d,) }'),
    "vmap_row_bias": (lambda a, v: jax.vmap(lambda r: r + v)(a), (a, v),
        '{ lambda ; a:f32[3,4] b:f32[4]. let\n    c:f32[1,4] = broadcast_in_dim[broadcast_dimensions=(np.int64(1),)] b\n    d:f32[3,4] = add a c\n  in (d,) }'),
    "matvec": (lambda a, v: a @ v, (a, v),
        '{ lambda ; a:f32[3,4] b:f32[4]. let\n    c:f32[3] = dot_general[\n      dimension_numbers=(([1], [0]), ([], []))\n      preferred_element_type=float32\n    ] a b\n  in (c,) }'),
    "dot_general_batch": (lambda x, y: lax.dot_general(x, y, (((2,), (2,)), ((0,), (0,)))), (np.ones((2, 3, 4), f32), np.ones((2, 3, 4), f32)),
        '{ lambda ; a:f32[2,3,4] b:f32[2,3,4]. let\n    c:f32[2,3,3] = dot_general[dimension_numbers=(([2], [2]), ([0], [0]))] a b\n  in (c,) }'),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_jaxpr_text_matches_jax(name):
  fn, args, expected = PROGRAMS[name]
  assert str(jax.make_jaxpr(fn)(*args)) == expected


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_jit_matches_eager(name):
  fn, args, _ = PROGRAMS[name]
  want = jax.tree_util.tree_leaves(fn(*args))
  got = jax.tree_util.tree_leaves(jax.jit(fn)(*args))
  for w, g in zip(want, got):
    np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-6)


def test_implicit_broadcast_values_match_numpy():
  for f, ref in ((lax.add, np.add), (lax.sub, np.subtract), (lax.mul, np.multiply),
                 (lax.div, np.divide), (lax.max, np.maximum), (lax.min, np.minimum),
                 (lax.pow, np.power), (lax.atan2, np.arctan2), (lax.ge, np.greater_equal)):
    want = ref(COL, ROW)
    np.testing.assert_allclose(np.asarray(f(COL, ROW)), want, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(jax.jit(f)(COL, ROW)), want, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(jax.vmap(f, (0, None))(np.stack([COL, COL]), ROW)),
                               np.stack([want, want]), rtol=1e-6)


def test_implicit_broadcast_gradients_sum_over_broadcast_dims():
  # d/dx sum(x * y) = sum of y over the dims x was broadcast along (and vice versa)
  gx, gy = jax.grad(lambda x, y: lax.mul(x, y).sum(), (0, 1))(COL, ROW)
  np.testing.assert_allclose(np.asarray(gx), np.broadcast_to(ROW.sum(), (3, 1)))
  np.testing.assert_allclose(np.asarray(gy), np.broadcast_to(COL.sum(), (1, 4)))
  gx, gy = jax.jit(jax.grad(lambda x, y: lax.div(x, y).sum(), (0, 1)))(COL, ROW)
  np.testing.assert_allclose(np.asarray(gx), (1 / ROW).sum(1, keepdims=True) + 0 * COL,
                             rtol=1e-6)
  np.testing.assert_allclose(np.asarray(gy), (-COL / ROW ** 2).sum(0, keepdims=True),
                             rtol=1e-6)
  gx = jax.grad(lambda x, y: lax.complex(x, y).real.sum())(COL, ROW)
  np.testing.assert_allclose(np.asarray(gx), np.full((3, 1), 4, f32))


def test_native_tier_sees_explicit_broadcasts():
  # the compiler rewrites each implicitly broadcasting equation into broadcast_in_dim +
  # the equation, so code generators only meet equal shapes
  from numjax._src.compiler import passes
  closed = jax.make_jaxpr(lambda x, y: lax.mul(lax.exp(x), y))(COL, ROW)
  jaxpr, _ = passes.optimize(closed)
  names = [e.primitive.name for e in jaxpr.eqns]
  assert names == ["exp", "broadcast_in_dim", "broadcast_in_dim", "mul"]
  assert all(v.aval.shape == (3, 4) for v in jaxpr.eqns[-1].invars)
  with jax.config._override("numjax_tier", "native"):
    f = jax.jit(lambda x, y: lax.mul(lax.exp(x), y)).lower(COL, ROW).compile()
  np.testing.assert_allclose(np.asarray(f(COL, ROW)), np.exp(COL) * ROW, rtol=1e-6)
