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


I4 = np.arange(4, dtype=np.int32)

# Functions JAX wraps in `jax.jit` (a `jit[name=...]` equation, hoisted as `let` when long),
# squeeze where JAX squeezes, autodiff's add_any and JAX's jvp rule forms, literal printing.
PROGRAMS.update({
    'where': (lambda a: jnp.where(a > 0, a, 0.0), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:bool[3,4] = gt a 0.0:f32[]\n    c:f32[3,4] = jit[\n      name=_where\n      jaxpr={ lambda ; b:bool[3,4] a:f32[3,4] d:f32[]. let\n          e:f32[] = convert_element_type[new_dtype=float32 weak_type=False] d\n          f:f32[3,4] = broadcast_in_dim e\n          c:f32[3,4] = select_n b f a\n        in (c,) }\n    ] b a 0.0:f32[]\n  in (c,) }'),
    'clip': (lambda a: jnp.clip(a, 0, 1), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,4] = jit[\n      name=clip\n      jaxpr={ lambda ; a:f32[3,4] c:i32[] d:i32[]. let\n          e:f32[] = convert_element_type[new_dtype=float32 weak_type=False] c\n          f:f32[3,4] = max e a\n          g:f32[] = convert_element_type[new_dtype=float32 weak_type=False] d\n          b:f32[3,4] = min g f\n        in (b,) }\n    ] a 0:i32[] 1:i32[]\n  in (b,) }'),
    'clip_max_only': (lambda a: jnp.clip(a, max=1.0), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,4] = jit[\n      name=clip\n      jaxpr={ lambda ; a:f32[3,4] c:f32[]. let\n          d:f32[] = convert_element_type[new_dtype=float32 weak_type=False] c\n          b:f32[3,4] = min d a\n        in (b,) }\n    ] a 1.0:f32[]\n  in (b,) }'),
    'cumsum': (lambda v: jnp.cumsum(v), (v,),
        '{ lambda ; a:f32[4]. let\n    b:f32[4] = jit[\n      name=cumsum\n      jaxpr={ lambda ; a:f32[4]. let\n          b:f32[4] = cumsum[axis=0 reverse=False] a\n        in (b,) }\n    ] a\n  in (b,) }'),
    'cumulative_sum_initial': (lambda a: jnp.cumulative_sum(a, axis=1, include_initial=True), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,4] = jit[\n      name=_cumsum_with_promotion\n      jaxpr={ lambda ; a:f32[3,4]. let\n          b:f32[3,4] = cumsum[axis=1 reverse=False] a\n        in (b,) }\n    ] a\n    c:f32[3,1] = broadcast_in_dim 0.0:f32[]\n    d:f32[3,5] = concatenate[dimension=1] c b\n  in (d,) }'),
    'relu': (lambda a: jax.nn.relu(a), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,4] = custom_jvp_call[\n      name=relu\n      call_jaxpr={ lambda ; c:f32[3,4]. let\n          d:f32[3,4] = jit[\n            name=relu\n            jaxpr={ lambda ; c:f32[3,4]. let\n                d:f32[3,4] = max c 0.0:f32[]\n              in (d,) }\n          ] c\n        in (d,) }\n      jvp=jvp\n      symbolic_zeros=False\n    ] a\n  in (b,) }'),
    'grad_relu': (lambda a: jax.grad(lambda a: jax.nn.relu(a).sum())(a), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,4] = custom_jvp_call[\n      name=relu\n      call_jaxpr={ lambda ; c:f32[3,4]. let\n          d:f32[3,4] = jit[\n            name=relu\n            jaxpr={ lambda ; c:f32[3,4]. let\n                d:f32[3,4] = max c 0.0:f32[]\n              in (d,) }\n          ] c\n        in (d,) }\n      jvp=jvp\n      symbolic_zeros=False\n    ] a\n    e:bool[3,4] = gt a 0.0:f32[]\n    _:f32[3,4] = broadcast_in_dim 0.0:f32[]\n    _:f32[] = reduce_sum[axes=(0, 1) out_sharding=None] b\n    f:f32[3,4] = broadcast_in_dim 1.0:f32[]\n    g:f32[3,4] = broadcast_in_dim 0.0:f32[]\n    h:f32[3,4] = select_n e g f\n  in (h,) }'),
    'elu': (lambda a: jax.nn.elu(a), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,4] = jit[\n      name=elu\n      jaxpr={ lambda ; a:f32[3,4]. let\n          c:bool[3,4] = gt a 0.0:f32[]\n          d:bool[3,4] = gt a 0.0:f32[]\n          e:f32[3,4] = jit[\n            name=_where\n            jaxpr={ lambda ; d:bool[3,4] f:f32[] a:f32[3,4]. let\n                g:f32[] = convert_element_type[\n                  new_dtype=float32\n                  weak_type=False\n                ] f\n                h:f32[3,4] = broadcast_in_dim g\n                e:f32[3,4] = select_n d a h\n              in (e,) }\n          ] d 0.0:f32[] a\n          i:f32[3,4] = expm1 e\n          j:f32[3,4] = mul 1.0:f32[] i\n          b:f32[3,4] = jit[\n            name=_where\n            jaxpr={ lambda ; c:bool[3,4] a:f32[3,4] j:f32[3,4]. let\n                b:f32[3,4] = select_n c j a\n              in (b,) }\n          ] c a j\n        in (b,) }\n    ] a\n  in (b,) }'),
    'log_softmax': (lambda a: jax.nn.log_softmax(a), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,4] = jit[\n      name=log_softmax\n      jaxpr={ lambda ; a:f32[3,4]. let\n          c:f32[3] = reduce_max[axes=(1,)] a\n          d:f32[3] = max -inf:f32[] c\n          e:f32[3,1] = broadcast_in_dim[broadcast_dimensions=(0,)] d\n          f:f32[3,1] = stop_gradient e\n          g:f32[3,4] = sub a f\n          h:f32[3,4] = exp g\n          i:f32[3] = reduce_sum[axes=(1,) out_sharding=None] h\n          j:f32[3,1] = broadcast_in_dim[broadcast_dimensions=(0,)] i\n          k:f32[3,1] = log j\n          b:f32[3,4] = sub g k\n        in (b,) }\n    ] a\n  in (b,) }'),
    'one_hot': (lambda i: jax.nn.one_hot(i, 5), (I4,),
        '{ lambda ; a:i32[4]. let\n    b:f32[4,5] = jit[\n      name=_one_hot\n      jaxpr={ lambda ; a:i32[4]. let\n          c:i32[4,1] = broadcast_in_dim[broadcast_dimensions=(0,)] a\n          d:i32[1,5] = iota[dimension=1 dtype=int32 shape=(1, 5) sharding=None] \n          e:bool[4,5] = eq c d\n          b:f32[4,5] = convert_element_type[new_dtype=float32 weak_type=False] e\n        in (b,) }\n    ] a\n  in (b,) }'),
    'linspace': (lambda s: jnp.linspace(0, s, 5), (f32(2),),
        'let _linspace = { lambda ; a:i32[] b:f32[]. let\n    c:f32[] = convert_element_type[new_dtype=float32 weak_type=False] a\n    d:f32[] = sub b c\n    e:f32[] = div d 4.0:f32[]\n    f:f32[4] = iota[dimension=0 dtype=float32 shape=(4,) sharding=None] \n    g:f32[4] = div f 4.0:f32[]\n    h:f32[1] = reshape[dimensions=None new_sizes=(1,) sharding=None] c\n    i:f32[4] = sub 1.0:f32[] g\n    j:f32[4] = mul h i\n    k:f32[1] = reshape[dimensions=None new_sizes=(1,) sharding=None] b\n    l:f32[4] = mul k g\n    m:f32[4] = add j l\n    n:f32[1] = broadcast_in_dim b\n    o:f32[5] = concatenate[dimension=0] m n\n  in (o,) } in\n{ lambda ; p:f32[]. let\n    q:f32[5] = jit[name=_linspace jaxpr=_linspace] 0:i32[] p\n  in (q,) }'),
    'linspace_no_endpoint': (lambda s: jnp.linspace(0.0, s, 4, endpoint=False), (f32(2),),
        'let _linspace = { lambda ; a:f32[] b:f32[]. let\n    c:f32[] = convert_element_type[new_dtype=float32 weak_type=False] a\n    d:f32[] = sub b c\n    e:f32[] = div d 4.0:f32[]\n    f:f32[4] = iota[dimension=0 dtype=float32 shape=(4,) sharding=None] \n    g:f32[4] = div f 4.0:f32[]\n    h:f32[1] = reshape[dimensions=None new_sizes=(1,) sharding=None] c\n    i:f32[4] = sub 1.0:f32[] g\n    j:f32[4] = mul h i\n    k:f32[1] = reshape[dimensions=None new_sizes=(1,) sharding=None] b\n    l:f32[4] = mul k g\n    m:f32[4] = add j l\n  in (m,) } in\n{ lambda ; n:f32[]. let\n    o:f32[4] = jit[name=_linspace jaxpr=_linspace] 0.0:f32[] n\n  in (o,) }'),
    'var': (lambda a: jnp.var(a, axis=0), (a,),
        'let _var = { lambda ; a:f32[3,4] b:i32[]. let\n    c:f32[4] = reduce_sum[axes=(0,) out_sharding=None] a\n    d:f32[1,4] = broadcast_in_dim[broadcast_dimensions=(1,)] c\n    e:f32[1,4] = div d 3.0:f32[]\n    f:f32[3,4] = sub a e\n    g:f32[3,4] = square f\n    h:f32[] = convert_element_type[new_dtype=float32 weak_type=False] b\n    i:f32[] = sub 3.0:f32[] h\n    j:f32[4] = reduce_sum[axes=(0,) out_sharding=None] g\n    k:f32[4] = div j i\n    l:bool[] = gt i 0.0:f32[]\n    m:f32[4] = jit[\n      name=_where\n      jaxpr={ lambda ; l:bool[] k:f32[4] n:f32[]. let\n          o:f32[] = convert_element_type[new_dtype=float32 weak_type=False] n\n          p:f32[4] = broadcast_in_dim o\n          m:f32[4] = select_n l p k\n        in (m,) }\n    ] l k nan:f32[]\n  in (m,) } in\n{ lambda ; q:f32[3,4]. let\n    r:f32[4] = jit[name=_var jaxpr=_var] q 0:i32[]\n  in (r,) }'),
    'std': (lambda a: jnp.std(a, axis=1), (a,),
        'let _var = { lambda ; a:f32[3,4] b:i32[]. let\n    c:f32[3] = reduce_sum[axes=(1,) out_sharding=None] a\n    d:f32[3,1] = broadcast_in_dim[broadcast_dimensions=(0,)] c\n    e:f32[3,1] = div d 4.0:f32[]\n    f:f32[3,4] = sub a e\n    g:f32[3,4] = square f\n    h:f32[] = convert_element_type[new_dtype=float32 weak_type=False] b\n    i:f32[] = sub 4.0:f32[] h\n    j:f32[3] = reduce_sum[axes=(1,) out_sharding=None] g\n    k:f32[3] = div j i\n    l:bool[] = gt i 0.0:f32[]\n    m:f32[3] = jit[\n      name=_where\n      jaxpr={ lambda ; l:bool[] k:f32[3] n:f32[]. let\n          o:f32[] = convert_element_type[new_dtype=float32 weak_type=False] n\n          p:f32[3] = broadcast_in_dim o\n          m:f32[3] = select_n l p k\n        in (m,) }\n    ] l k nan:f32[]\n  in (m,) } in\n{ lambda ; q:f32[3,4]. let\n    r:f32[3] = jit[\n      name=_std\n      jaxpr={ lambda ; q:f32[3,4] s:i32[]. let\n          t:f32[3] = jit[name=_var jaxpr=_var] q s\n          r:f32[3] = sqrt t\n        in (r,) }\n    ] q 0:i32[]\n  in (r,) }'),
    'norm_keepdims': (lambda a: jnp.linalg.norm(a, axis=1, keepdims=True), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,1] = jit[\n      name=norm\n      jaxpr={ lambda ; a:f32[3,4]. let\n          c:f32[3,4] = mul a a\n          d:f32[3] = reduce_sum[axes=(1,) out_sharding=None] c\n          e:f32[3,1] = broadcast_in_dim[broadcast_dimensions=(0,)] d\n          b:f32[3,1] = sqrt e\n        in (b,) }\n    ] a\n  in (b,) }'),
    'index_int': (lambda a: a[0], (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[1,4] = slice[limit_indices=(1, 4) start_indices=(0, 0) strides=None] a\n    c:f32[4] = squeeze[dimensions=(0,)] b\n  in (c,) }'),
    'index_two_ints': (lambda a: a[1, 2], (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[1,1] = slice[limit_indices=(2, 3) start_indices=(1, 2) strides=None] a\n    c:f32[] = squeeze[dimensions=(0, 1)] b\n  in (c,) }'),
    'jnp_squeeze': (lambda a: jnp.squeeze(a[None, :, None]), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[1,3,1,4] = broadcast_in_dim[broadcast_dimensions=(1, 3)] a\n    c:f32[3,4] = squeeze[dimensions=(0, 2)] b\n  in (c,) }'),
    'lax_squeeze': (lambda a: lax.squeeze(a[None], (0,)), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[1,3,4] = broadcast_in_dim[broadcast_dimensions=(1, 2)] a\n    c:f32[3,4] = squeeze[dimensions=(0,)] b\n  in (c,) }'),
    'vmap_index': (lambda a: jax.vmap(lambda r: r[1])(a), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,1] = slice[limit_indices=(3, 2) start_indices=(0, 1) strides=None] a\n    c:f32[3] = squeeze[dimensions=(1,)] b\n  in (c,) }'),
    'jvp_squeeze': (lambda a: jax.jvp(lambda a: jnp.squeeze(a[None]), (a,), (a,)), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[1,3,4] = broadcast_in_dim[broadcast_dimensions=(1, 2)] a\n    c:f32[1,3,4] = broadcast_in_dim[broadcast_dimensions=(1, 2)] a\n    d:f32[3,4] = squeeze[dimensions=(0,)] b\n    e:f32[3,4] = squeeze[dimensions=(0,)] c\n  in (d, e) }'),
    'grad_tanh_row_bias': (lambda a, v: jax.grad(lambda v: jnp.sum(jnp.tanh(a * v)))(v), (a, v),
        '{ lambda ; a:f32[3,4] b:f32[4]. let\n    c:f32[1,4] = broadcast_in_dim[broadcast_dimensions=(1,)] b\n    d:f32[3,4] = mul a c\n    e:f32[3,4] = tanh d\n    f:f32[3,4] = sub 1.0:f32[] e\n    _:f32[] = reduce_sum[axes=(0, 1) out_sharding=None] e\n    g:f32[3,4] = broadcast_in_dim 1.0:f32[]\n    h:f32[3,4] = mul g f\n    i:f32[3,4] = mul h e\n    j:f32[3,4] = add_any h i\n    k:f32[3,4] = mul a j\n    l:f32[4] = reduce_sum[axes=(0,) out_sharding=None] k\n    m:f32[1,4] = reshape[dimensions=None new_sizes=(1, 4) sharding=None] l\n    n:f32[4] = reduce_sum[axes=(0,) out_sharding=None] m\n  in (n,) }'),
    'jvp_div': (lambda x, y: jax.jvp(lax.div, (x, y), (x, y)), (v, v + 1),
        '{ lambda ; a:f32[4] b:f32[4]. let\n    c:f32[4] = div a b\n    d:f32[4] = div a b\n    e:f32[4] = neg b\n    f:f32[4] = mul e a\n    g:f32[4] = integer_pow[y=-2] b\n    h:f32[4] = mul f g\n    i:f32[4] = add_any d h\n  in (c, i) }'),
    'jvp_max': (lambda x, y: jax.jvp(lax.max, (x, y), (x, y)), (v, v[::-1].copy()),
        '{ lambda ; a:f32[4] b:f32[4]. let\n    c:f32[4] = max a b\n    d:bool[4] = eq a c\n    e:f32[4] = broadcast_in_dim 1.0:f32[]\n    f:f32[4] = broadcast_in_dim 0.0:f32[]\n    g:f32[4] = select_n d f e\n    h:bool[4] = eq b c\n    i:f32[4] = broadcast_in_dim 2.0:f32[]\n    j:f32[4] = broadcast_in_dim 1.0:f32[]\n    k:f32[4] = select_n h j i\n    l:f32[4] = div g k\n    m:f32[4] = mul a l\n    n:bool[4] = eq b c\n    o:f32[4] = broadcast_in_dim 1.0:f32[]\n    p:f32[4] = broadcast_in_dim 0.0:f32[]\n    q:f32[4] = select_n n p o\n    r:bool[4] = eq a c\n    s:f32[4] = broadcast_in_dim 2.0:f32[]\n    t:f32[4] = broadcast_in_dim 1.0:f32[]\n    u:f32[4] = select_n r t s\n    v:f32[4] = div q u\n    w:f32[4] = mul b v\n    x:f32[4] = add_any m w\n  in (c, x) }'),
    'grad_max_scalar': (lambda x: jax.grad(lambda x: lax.max(x, 0.5).sum())(x), (v,),
        '{ lambda ; a:f32[4]. let\n    b:f32[4] = max a 0.5:f32[]\n    c:bool[4] = eq a b\n    d:f32[4] = broadcast_in_dim 1.0:f32[]\n    e:f32[4] = broadcast_in_dim 0.0:f32[]\n    f:f32[4] = select_n c e d\n    g:bool[4] = eq 0.5:f32[] b\n    h:f32[4] = broadcast_in_dim 2.0:f32[]\n    i:f32[4] = broadcast_in_dim 1.0:f32[]\n    j:f32[4] = select_n g i h\n    k:f32[4] = div f j\n    _:f32[] = reduce_sum[axes=(0,) out_sharding=None] b\n    l:f32[4] = broadcast_in_dim 1.0:f32[]\n    m:f32[4] = mul l k\n  in (m,) }'),
    'jvp_sqrt': (lambda x: jax.jvp(lax.sqrt, (x,), (x,)), (v,),
        '{ lambda ; a:f32[4]. let\n    b:f32[4] = sqrt a\n    c:f32[4] = div 0.5:f32[] b\n    d:f32[4] = mul a c\n  in (b, d) }'),
    'jvp_abs': (lambda x: jax.jvp(lax.abs, (x,), (x,)), (v,),
        '{ lambda ; a:f32[4]. let\n    b:f32[4] = abs a\n    c:bool[4] = ge a 0.0:f32[]\n    d:f32[4] = neg a\n    e:f32[4] = select_n c d a\n  in (b, e) }'),
    'jvp_cbrt': (lambda x: jax.jvp(lax.cbrt, (x,), (x,)), (v,),
        '{ lambda ; a:f32[4]. let\n    b:f32[4] = cbrt a\n    c:f32[4] = integer_pow[y=-2] b\n    d:f32[4] = mul 0.3333333432674408:f32[] c\n    e:f32[4] = mul a d\n  in (b, e) }'),
    'jvp_exp2': (lambda x: jax.jvp(lax.exp2, (x,), (x,)), (v,),
        '{ lambda ; a:f32[4]. let\n    b:f32[4] = exp2 a\n    c:f32[] = log 2.0:f32[]\n    d:f32[4] = mul a b\n    e:f32[4] = mul c d\n  in (b, e) }'),
    'jvp_pow': (lambda x, y: jax.jvp(lax.pow, (x, y), (x, y)), (v, v[::-1].copy()),
        '{ lambda ; a:f32[4] b:f32[4]. let\n    c:f32[4] = pow a b\n    d:f32[4] = broadcast_in_dim 1.0:f32[]\n    e:f32[4] = sub b d\n    f:f32[4] = pow a e\n    g:f32[4] = mul b f\n    h:f32[4] = mul a g\n    i:bool[4] = eq a 0.0:f32[]\n    j:f32[4] = broadcast_in_dim 1.0:f32[]\n    k:f32[4] = select_n i a j\n    l:f32[4] = log k\n    m:f32[4] = mul l c\n    n:f32[4] = mul b m\n    o:f32[4] = add_any h n\n  in (c, o) }'),
    'grad_atan2': (lambda x, y: jax.grad(lambda x, y: lax.atan2(x, y).sum(), (0, 1))(x, y), (v, v + 1),
        '{ lambda ; a:f32[4] b:f32[4]. let\n    c:f32[4] = atan2 a b\n    d:f32[4] = square a\n    e:f32[4] = square b\n    f:f32[4] = add d e\n    g:f32[4] = div b f\n    h:f32[4] = neg a\n    i:f32[4] = square a\n    j:f32[4] = square b\n    k:f32[4] = add i j\n    l:f32[4] = div h k\n    _:f32[] = reduce_sum[axes=(0,) out_sharding=None] c\n    m:f32[4] = broadcast_in_dim 1.0:f32[]\n    n:f32[4] = mul m l\n    o:f32[4] = mul m g\n  in (o, n) }'),
    'gelu_literals': (lambda a: jax.nn.gelu(a), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,4] = integer_pow[y=3] a\n    c:f32[3,4] = mul 0.044714998453855515:f32[] b\n    d:f32[3,4] = add a c\n    e:f32[3,4] = mul 0.7978845834732056:f32[] d\n    f:f32[3,4] = tanh e\n    g:f32[3,4] = add 1.0:f32[] f\n    h:f32[3,4] = mul 0.5:f32[] g\n    i:f32[3,4] = mul a h\n  in (i,) }'),
    'float_literal': (lambda a: a * 0.1 + 1 / 3, (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,4] = mul a 0.10000000149011612:f32[]\n    c:f32[3,4] = add b 0.3333333432674408:f32[]\n  in (c,) }'),
    'unused_inside_jit': (lambda x: jax.jit(lambda x: (jnp.exp(x), jnp.cos(x))[1])(x), (v,),
        '{ lambda ; a:f32[4]. let\n    b:f32[4] = jit[\n      name=<lambda>\n      jaxpr={ lambda ; a:f32[4]. let\n          c:f32[4] = exp a\n          b:f32[4] = cos a\n        in (b,) }\n    ] a\n  in (b,) }'),
    'grad_through_jit': (jax.grad(lambda x: jax.jit(lambda x: jnp.sin(x) * 2)(x)), (f32(1),),
        '{ lambda ; a:f32[]. let\n    _:f32[] b:f32[] = jit[\n      name=<lambda>\n      jaxpr={ lambda ; a:f32[]. let\n          c:f32[] = sin a\n          b:f32[] = cos a\n          _:f32[] = mul c 2.0:f32[]\n        in (_, b) }\n    ] a\n    d:f32[] = jit[\n      name=<lambda>\n      jaxpr={ lambda ; b:f32[] e:f32[]. let\n          f:f32[] = mul e 2.0:f32[]\n          d:f32[] = mul f b\n        in (d,) }\n    ] b 1.0:f32[]\n  in (d,) }'),
})
# more of JAX's jitted jnp/nn functions (bodies included)
PROGRAMS.update({
    'round_decimals': (lambda a: jnp.round(a, 1), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,4] = jit[\n      name=round\n      jaxpr={ lambda ; a:f32[3,4]. let\n          c:f32[3,4] = mul a 10.0:f32[]\n          d:f32[3,4] = round[rounding_method=1] c\n          b:f32[3,4] = div d 10.0:f32[]\n        in (b,) }\n    ] a\n  in (b,) }'),
    'rint': (lambda a: jnp.rint(a), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,4] = jit[\n      name=rint\n      jaxpr={ lambda ; a:f32[3,4]. let\n          b:f32[3,4] = round[rounding_method=1] a\n        in (b,) }\n    ] a\n  in (b,) }'),
    'trunc': (lambda a: jnp.trunc(a), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,4] = jit[\n      name=trunc\n      jaxpr={ lambda ; a:f32[3,4]. let\n          c:bool[3,4] = lt a 0.0:f32[]\n          d:f32[3,4] = ceil a\n          e:f32[3,4] = floor a\n          b:f32[3,4] = jit[\n            name=_where\n            jaxpr={ lambda ; c:bool[3,4] d:f32[3,4] e:f32[3,4]. let\n                b:f32[3,4] = select_n c e d\n              in (b,) }\n          ] c d e\n        in (b,) }\n    ] a\n  in (b,) }'),
    'fmax': (lambda a: jnp.fmax(a, 0.5), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,4] = jit[\n      name=fmax\n      jaxpr={ lambda ; a:f32[3,4] c:f32[]. let\n          d:f32[] = convert_element_type[new_dtype=float32 weak_type=False] c\n          e:bool[3,4] = gt a d\n          f:bool[] = ne c c\n          g:bool[] = convert_element_type[new_dtype=bool weak_type=False] f\n          h:bool[3,4] = or e g\n          b:f32[3,4] = jit[\n            name=_where\n            jaxpr={ lambda ; h:bool[3,4] a:f32[3,4] c:f32[]. let\n                i:f32[] = convert_element_type[\n                  new_dtype=float32\n                  weak_type=False\n                ] c\n                j:f32[3,4] = broadcast_in_dim i\n                b:f32[3,4] = select_n h j a\n              in (b,) }\n          ] h a c\n        in (b,) }\n    ] a 0.5:f32[]\n  in (b,) }'),
    'remainder': (lambda a: jnp.remainder(a, 2.0), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,4] = jit[\n      name=remainder\n      jaxpr={ lambda ; a:f32[3,4] c:f32[]. let\n          d:f32[] = convert_element_type[new_dtype=float32 weak_type=False] c\n          e:f32[3,4] = rem a d\n          f:bool[3,4] = ne e 0.0:f32[]\n          g:bool[3,4] = lt e 0.0:f32[]\n          h:bool[] = lt d 0.0:f32[]\n          i:bool[3,4] = ne g h\n          j:bool[3,4] = and i f\n          k:f32[3,4] = add e d\n          b:f32[3,4] = select_n j e k\n        in (b,) }\n    ] a 2.0:f32[]\n  in (b,) }'),
    'floor_divide': (lambda a: jnp.floor_divide(a, 2.0), (a,),
        'let floor_divide = { lambda ; a:f32[3,4] b:f32[]. let\n    c:f32[] = convert_element_type[new_dtype=float32 weak_type=False] b\n    d:f32[3,4] = rem a c\n    e:bool[] = eq c 0.0:f32[]\n    f:f32[3,4] = sub a d\n    g:f32[3,4] = jit[\n      name=_where\n      jaxpr={ lambda ; e:bool[] a:f32[3,4] f:f32[3,4]. let\n          g:f32[3,4] = select_n e f a\n        in (g,) }\n    ] e a f\n    h:f32[3,4] = div g c\n    i:bool[3,4] = ne d 0.0:f32[]\n    j:f32[] = sign c\n    k:f32[3,4] = sign d\n    l:bool[3,4] = ne j k\n    m:bool[3,4] = and i l\n    n:f32[3,4] = add d c\n    o:f32[3,4] = select_n m d n\n    p:f32[3,4] = sub h 1.0:f32[]\n    q:f32[3,4] = select_n m h p\n    r:f32[3,4] = round[rounding_method=0] q\n  in (r,) } in\n{ lambda ; s:f32[3,4]. let\n    t:f32[3,4] = jit[name=floor_divide jaxpr=floor_divide] s 2.0:f32[]\n  in (t,) }'),
    'signbit': (lambda a: jnp.signbit(a), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:bool[3,4] = jit[\n      name=signbit\n      jaxpr={ lambda ; a:f32[3,4]. let\n          c:i32[3,4] = bitcast_convert_type[new_dtype=int32] a\n          d:i32[3,4] = shift_right_arithmetic c 31:i32[]\n          b:bool[3,4] = convert_element_type[new_dtype=bool weak_type=False] d\n        in (b,) }\n    ] a\n  in (b,) }'),
    'heaviside': (lambda a: jnp.heaviside(a, 0.5), (a,),
        'let _where = { lambda ; a:bool[3,4] b:f32[] c:f32[3,4]. let\n    d:f32[3,4] = broadcast_in_dim b\n    e:f32[3,4] = select_n a c d\n  in (e,) } in\n{ lambda ; f:f32[3,4]. let\n    g:f32[3,4] = jit[\n      name=heaviside\n      jaxpr={ lambda ; f:f32[3,4] h:f32[]. let\n          i:f32[] = convert_element_type[new_dtype=float32 weak_type=False] h\n          j:bool[3,4] = lt f 0.0:f32[]\n          k:bool[3,4] = gt f 0.0:f32[]\n          l:bool[3,4] = ne f f\n          m:f32[3,4] = jit[\n            name=_where\n            jaxpr={ lambda ; l:bool[3,4] f:f32[3,4] i:f32[]. let\n                n:f32[3,4] = broadcast_in_dim i\n                m:f32[3,4] = select_n l n f\n              in (m,) }\n          ] l f i\n          o:f32[3,4] = jit[name=_where jaxpr=_where] k 1.0:f32[] m\n          g:f32[3,4] = jit[name=_where jaxpr=_where] j 0.0:f32[] o\n        in (g,) }\n    ] f 0.5:f32[]\n  in (g,) }'),
    'angle': (lambda a: jnp.angle(a), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,4] = jit[\n      name=angle\n      jaxpr={ lambda ; a:f32[3,4]. let\n          c:f32[3,4] = broadcast_in_dim 0.0:f32[]\n          b:f32[3,4] = atan2 c a\n        in (b,) }\n    ] a\n  in (b,) }'),
    'modf': (lambda a: jnp.modf(a), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,4] c:f32[3,4] = jit[\n      name=modf\n      jaxpr={ lambda ; a:f32[3,4]. let\n          d:bool[3,4] = ge a 0.0:f32[]\n          e:f32[3,4] = floor a\n          f:f32[3,4] = ceil a\n          c:f32[3,4] = jit[\n            name=_where\n            jaxpr={ lambda ; d:bool[3,4] e:f32[3,4] f:f32[3,4]. let\n                c:f32[3,4] = select_n d f e\n              in (c,) }\n          ] d e f\n          b:f32[3,4] = sub a c\n        in (b, c) }\n    ] a\n  in (b, c) }'),
    'sort': (lambda a: jnp.sort(a, axis=0), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,4] = jit[\n      name=sort\n      jaxpr={ lambda ; a:f32[3,4]. let\n          b:f32[3,4] = sort[dimension=0 is_stable=True num_keys=1] a\n        in (b,) }\n    ] a\n  in (b,) }'),
    'argsort_descending': (lambda a: jnp.argsort(a, descending=True), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:i32[3,4] = jit[\n      name=argsort\n      jaxpr={ lambda ; a:f32[3,4]. let\n          c:i32[3,4] = iota[dimension=1 dtype=int32 shape=(3, 4) sharding=None] \n          d:f32[3,4] = rev[dimensions=(1,)] a\n          e:i32[3,4] = rev[dimensions=(1,)] c\n          f:f32[3,4] g:i32[3,4] = sort[dimension=1 is_stable=True num_keys=1] d e\n          b:i32[3,4] = rev[dimensions=(1,)] g\n        in (b,) }\n    ] a\n  in (b,) }'),
    'tril': (lambda a: jnp.tril(a), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,4] = jit[\n      name=tril\n      jaxpr={ lambda ; a:f32[3,4]. let\n          c:i32[3,4] = iota[dimension=0 dtype=int32 shape=(3, 4) sharding=None] \n          d:i32[3,4] = add c 0:i32[]\n          e:i32[3,4] = iota[dimension=1 dtype=int32 shape=(3, 4) sharding=None] \n          f:bool[3,4] = ge d e\n          g:f32[3,4] = broadcast_in_dim 0.0:f32[]\n          b:f32[3,4] = select_n f g a\n        in (b,) }\n    ] a\n  in (b,) }'),
    'triu': (lambda a: jnp.triu(a, 1), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,4] = jit[\n      name=triu\n      jaxpr={ lambda ; a:f32[3,4]. let\n          c:i32[3,4] = iota[dimension=0 dtype=int32 shape=(3, 4) sharding=None] \n          d:i32[3,4] = add c 0:i32[]\n          e:i32[3,4] = iota[dimension=1 dtype=int32 shape=(3, 4) sharding=None] \n          f:bool[3,4] = ge d e\n          g:f32[3,4] = broadcast_in_dim 0.0:f32[]\n          b:f32[3,4] = select_n f a g\n        in (b,) }\n    ] a\n  in (b,) }'),
    'kron': (lambda a: jnp.kron(a, a), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[9,16] = jit[\n      name=kron\n      jaxpr={ lambda ; a:f32[3,4] c:f32[3,4]. let\n          d:f32[3,1,4,1] = broadcast_in_dim[broadcast_dimensions=(0, 2)] a\n          e:f32[1,3,1,4] = broadcast_in_dim[broadcast_dimensions=(1, 3)] c\n          f:f32[3,3,4,4] = mul d e\n          b:f32[9,16] = reshape[dimensions=None new_sizes=(9, 16) sharding=None] f\n        in (b,) }\n    ] a a\n  in (b,) }'),
    'atleast_2d': (lambda v: jnp.atleast_2d(v), (v,),
        '{ lambda ; a:f32[4]. let\n    b:f32[1,4] = jit[\n      name=atleast_2d\n      jaxpr={ lambda ; a:f32[4]. let\n          b:f32[1,4] = broadcast_in_dim[broadcast_dimensions=(1,)] a\n        in (b,) }\n    ] a\n  in (b,) }'),
    'softplus': (lambda a: jax.nn.softplus(a), (a,),
        '{ lambda ; a:f32[3,4]. let\n    b:f32[3,4] = jit[\n      name=softplus\n      jaxpr={ lambda ; a:f32[3,4]. let\n          b:f32[3,4] = custom_jvp_call[\n            name=logaddexp\n            call_jaxpr={ lambda ; c:f32[3,4] d:f32[]. let\n                e:f32[3,4] = max c d\n                f:f32[3,4] = sub c d\n                g:bool[3,4] = ne f f\n                h:f32[3,4] = add c d\n                i:f32[3,4] = abs f\n                j:f32[3,4] = neg i\n                k:f32[3,4] = exp j\n                l:f32[3,4] = log1p k\n                m:f32[3,4] = add e l\n                n:f32[3,4] = select_n g m h\n              in (n,) }\n            jvp=_logaddexp_jvp\n            symbolic_zeros=False\n          ] a 0.0:f32[]\n        in (b,) }\n    ] a\n  in (b,) }'),
    'standardize': (lambda a: jax.nn.standardize(a), (a,),
        'let standardize = { lambda ; a:f32[3,4]. let\n    b:f32[3] = reduce_sum[axes=(1,) out_sharding=None] a\n    c:f32[3,1] = broadcast_in_dim[broadcast_dimensions=(0,)] b\n    d:f32[3,1] = div c 4.0:f32[]\n    e:f32[3,4] = square a\n    f:f32[3] = reduce_sum[axes=(1,) out_sharding=None] e\n    g:f32[3,1] = broadcast_in_dim[broadcast_dimensions=(0,)] f\n    h:f32[3,1] = div g 4.0:f32[]\n    i:f32[3,1] = square d\n    j:f32[3,1] = sub h i\n    k:f32[3,1] = jit[\n      name=clip\n      jaxpr={ lambda ; j:f32[3,1] l:i32[]. let\n          m:f32[] = convert_element_type[new_dtype=float32 weak_type=False] l\n          k:f32[3,1] = max m j\n        in (k,) }\n    ] j 0:i32[]\n    n:f32[3,4] = sub a d\n    o:f32[3,1] = add k 9.999999747378752e-06:f32[]\n    p:f32[3,1] = rsqrt o\n    q:f32[3,4] = mul n p\n  in (q,) } in\n{ lambda ; r:f32[3,4]. let\n    s:f32[3,4] = jit[name=standardize jaxpr=standardize] r\n  in (s,) }'),
})


# JAX's jitted samplers stage jit[name=_uniform/_bernoulli/_exponential/_gumbel] equations.
# Recorded from JAX 0.10.2 with `jax.random.key(0)`; adapted ONLY for the key input: JAX
# prints `key<fry>[]`, numjax's typed key is a pytree over uint32 data, so `u32[2]`.
PROGRAMS.update({
    'random_uniform': (lambda k: jax.random.uniform(k, (2,)), (jax.random.key(0),),
        'let _uniform = { lambda ; a:u32[2] b:f32[] c:f32[]. let\n    d:f32[] = convert_element_type[new_dtype=float32 weak_type=False] b\n    e:f32[] = convert_element_type[new_dtype=float32 weak_type=False] c\n    f:f32[1] = broadcast_in_dim d\n    g:f32[1] = broadcast_in_dim e\n    h:u32[2] = random_bits[bit_width=32 shape=(2,)] a\n    i:u32[2] = shift_right_logical h 9:u32[]\n    j:u32[2] = or i 1065353216:u32[]\n    k:f32[2] = bitcast_convert_type[new_dtype=float32] j\n    l:f32[2] = sub k 1.0:f32[]\n    m:f32[1] = sub g f\n    n:f32[2] = mul l m\n    o:f32[2] = add n f\n    p:f32[2] = max f o\n  in (p,) } in\n{ lambda ; q:u32[2]. let\n    r:f32[2] = jit[name=_uniform jaxpr=_uniform] q 0.0:f32[] 1.0:f32[]\n  in (r,) }'),
    'random_uniform_bounds': (lambda k: jax.random.uniform(k, (2,), minval=-1., maxval=3.), (jax.random.key(0),),
        'let _uniform = { lambda ; a:u32[2] b:f32[] c:f32[]. let\n    d:f32[] = convert_element_type[new_dtype=float32 weak_type=False] b\n    e:f32[] = convert_element_type[new_dtype=float32 weak_type=False] c\n    f:f32[1] = broadcast_in_dim d\n    g:f32[1] = broadcast_in_dim e\n    h:u32[2] = random_bits[bit_width=32 shape=(2,)] a\n    i:u32[2] = shift_right_logical h 9:u32[]\n    j:u32[2] = or i 1065353216:u32[]\n    k:f32[2] = bitcast_convert_type[new_dtype=float32] j\n    l:f32[2] = sub k 1.0:f32[]\n    m:f32[1] = sub g f\n    n:f32[2] = mul l m\n    o:f32[2] = add n f\n    p:f32[2] = max f o\n  in (p,) } in\n{ lambda ; q:u32[2]. let\n    r:f32[2] = jit[name=_uniform jaxpr=_uniform] q -1.0:f32[] 3.0:f32[]\n  in (r,) }'),
    'random_bernoulli': (lambda k: jax.random.bernoulli(k, 0.3, (2,)), (jax.random.key(0),),
        'let _uniform = { lambda ; a:u32[2] b:f32[] c:f32[]. let\n    d:f32[] = convert_element_type[new_dtype=float32 weak_type=False] b\n    e:f32[] = convert_element_type[new_dtype=float32 weak_type=False] c\n    f:f32[1] = broadcast_in_dim d\n    g:f32[1] = broadcast_in_dim e\n    h:u32[2] = random_bits[bit_width=32 shape=(2,)] a\n    i:u32[2] = shift_right_logical h 9:u32[]\n    j:u32[2] = or i 1065353216:u32[]\n    k:f32[2] = bitcast_convert_type[new_dtype=float32] j\n    l:f32[2] = sub k 1.0:f32[]\n    m:f32[1] = sub g f\n    n:f32[2] = mul l m\n    o:f32[2] = add n f\n    p:f32[2] = max f o\n  in (p,) } in\n{ lambda ; q:u32[2]. let\n    r:bool[2] = jit[\n      name=_bernoulli\n      jaxpr={ lambda ; q:u32[2] s:f32[]. let\n          t:f32[2] = jit[name=_uniform jaxpr=_uniform] q 0.0:f32[] 1.0:f32[]\n          r:bool[2] = lt t s\n        in (r,) }\n    ] q 0.30000001192092896:f32[]\n  in (r,) }'),
    'random_exponential': (lambda k: jax.random.exponential(k, (2,)), (jax.random.key(0),),
        'let _uniform = { lambda ; a:u32[2] b:f32[] c:f32[]. let\n    d:f32[] = convert_element_type[new_dtype=float32 weak_type=False] b\n    e:f32[] = convert_element_type[new_dtype=float32 weak_type=False] c\n    f:f32[1] = broadcast_in_dim d\n    g:f32[1] = broadcast_in_dim e\n    h:u32[2] = random_bits[bit_width=32 shape=(2,)] a\n    i:u32[2] = shift_right_logical h 9:u32[]\n    j:u32[2] = or i 1065353216:u32[]\n    k:f32[2] = bitcast_convert_type[new_dtype=float32] j\n    l:f32[2] = sub k 1.0:f32[]\n    m:f32[1] = sub g f\n    n:f32[2] = mul l m\n    o:f32[2] = add n f\n    p:f32[2] = max f o\n  in (p,) } in\n{ lambda ; q:u32[2]. let\n    r:f32[2] = jit[\n      name=_exponential\n      jaxpr={ lambda ; q:u32[2]. let\n          s:f32[2] = jit[name=_uniform jaxpr=_uniform] q 0.0:f32[] 1.0:f32[]\n          t:f32[2] = neg s\n          u:f32[2] = log1p t\n          r:f32[2] = neg u\n        in (r,) }\n    ] q\n  in (r,) }'),
    'random_gumbel': (lambda k: jax.random.gumbel(k, (2,)), (jax.random.key(0),),
        'let _uniform = { lambda ; a:u32[2] b:f32[] c:f32[]. let\n    d:f32[] = convert_element_type[new_dtype=float32 weak_type=False] b\n    e:f32[1] = broadcast_in_dim c\n    f:f32[1] = broadcast_in_dim d\n    g:u32[2] = random_bits[bit_width=32 shape=(2,)] a\n    h:u32[2] = shift_right_logical g 9:u32[]\n    i:u32[2] = or h 1065353216:u32[]\n    j:f32[2] = bitcast_convert_type[new_dtype=float32] i\n    k:f32[2] = sub j 1.0:f32[]\n    l:f32[1] = sub f e\n    m:f32[2] = mul k l\n    n:f32[2] = add m e\n    o:f32[2] = max e n\n  in (o,) } in\n{ lambda ; p:u32[2]. let\n    q:f32[2] = jit[\n      name=_gumbel\n      jaxpr={ lambda ; p:u32[2]. let\n          r:f32[2] = jit[name=_uniform jaxpr=_uniform] p 1.0:f32[] 1.1754943508222875e-38:f32[]\n          s:f32[2] = log r\n          t:f32[2] = neg s\n          u:f32[2] = log t\n          q:f32[2] = neg u\n        in (q,) }\n    ] p\n  in (q,) }'),
})

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


def test_code_generators_see_add_and_reshape():
  # add_any and squeeze are printing forms: the pass pipeline hands add and reshape on
  f = lambda a, v: jax.grad(lambda v: jnp.sum(jnp.tanh(a * v)[0]))(v)
  closed = jax.make_jaxpr(f)(A, V)
  prims = {e.primitive.name for e in closed.jaxpr.eqns}
  assert {"add_any", "squeeze"} <= prims
  from numjax._src.compiler import passes
  jaxpr, _ = passes.optimize(closed)
  assert not {"add_any", "squeeze"} & {e.primitive.name for e in jaxpr.eqns}
  t = np.tanh(A[0] * V)
  want = A[0] * (1 - t * t)
  for tier in ("numpy", "native"):
    with jax.config._override("numjax_tier", tier):
      got = jax.jit(f)(A, V)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5)


def test_jitted_library_functions_run_directly_when_eager():
  # eagerly, clip/where/linspace/var call their bodies; under a trace they are jit
  # equations: the values match NumPy eagerly, under jit, grad and vmap
  np.testing.assert_allclose(np.asarray(jnp.clip(A, 0.2, 1)), np.clip(A, 0.2, 1))
  np.testing.assert_allclose(np.asarray(jnp.linspace(0, 2, 5)), np.linspace(0, 2, 5), rtol=1e-6)
  np.testing.assert_allclose(np.asarray(jax.jit(lambda s: jnp.linspace(0, s, 7))(f32(3))),
                             np.linspace(0, 3, 7), rtol=1e-6)
  np.testing.assert_allclose(np.asarray(jax.jit(lambda a: jnp.var(a, 0, ddof=1))(A)),
                             np.var(A, 0, ddof=1), rtol=1e-5)
  np.testing.assert_allclose(np.asarray(jax.vmap(lambda r: jnp.where(r > 0.5, r, 0.0))(A)),
                             np.where(A > 0.5, A, 0), rtol=1e-6)
  g = jax.grad(lambda a: jnp.std(jnp.clip(a, 0.1, 1.2)))(A)
  eps = 1e-3
  d = np.zeros_like(A)
  d[1, 2] = eps
  fd = (np.std(np.clip(A + d, 0.1, 1.2)) - np.std(np.clip(A - d, 0.1, 1.2))) / (2 * eps)
  np.testing.assert_allclose(float(g[1, 2]), fd, rtol=1e-2)
