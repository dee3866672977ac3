"""jnp products (dot, matmul, matvec/vecmat, tensordot, einsum, outer/inner/vdot/vecdot,
kron, cross) and the diagonal family: NumPy parity over dtypes and shapes, jit parity, vmap
against a loop at every batch position, gradients against finite differences; result dtypes
against a table recorded from JAX 0.10.2; JAX's errors and jaxpr text (seed 003)."""
import functools
import re

import numpy as np
import pytest

import numjax
import numjax.experimental
import numjax.numpy as jnp
from jnp_b_dtypes import result_dtypes_test
from records import Rec as _Rec, assert_close, make_tests, uniform, wide

ALL = ("bool", "int8", "uint8", "int32", "float16", "bfloat16", "float32", "complex64")
SOME = ("int32", "float16", "float32", "complex64")
F32 = ("float32",)
TOL = {"float16": 3e-2, "bfloat16": 1e-1, "float32": 1e-5, "complex64": 1e-5}


def Rec(*args, **kw):
  kw.setdefault("tol", TOL)
  return _Rec(*args, **kw)


def ref(fn, **kw):
  def f(*args):
    return fn(*[wide(a) for a in args], **kw)
  return f


def _cross3(a, b):
  """np.cross with 2-vectors zero-extended to 3 (NumPy deprecates mixing them)."""
  pad = lambda v: np.concatenate([v, np.zeros(v.shape[:-1] + (1,), v.dtype)], -1) \
      if v.shape[-1] == 2 else v
  return np.cross(pad(a), pad(b))


RECORDS = [
    Rec("dot", jnp.dot, ref(np.dot),
        [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((), (2, 3)),
         ((2, 3), ()), ((2, 2, 3), (4, 3, 2)), ((0, 3), (3, 2)), ((2, 0), (0, 3))],
        nargs=2, dtypes=ALL, grad=2, check_dtype=False),
    Rec("matmul", jnp.matmul, ref(np.matmul),
        [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
         ((5, 2, 3), (3, 4)), ((5, 2, 3), (5, 3, 4)), ((5, 2, 3), (1, 3, 4)),
         ((1, 2, 3), (1, 3, 4)), ((2, 1, 2, 3), (3, 3, 2)), ((3,), (2, 3, 4)),
         ((2, 2, 3), (3,)), ((0, 2, 3), (3, 4))],
        nargs=2, dtypes=ALL, grad=2, check_dtype=False),
    Rec("matmul[f16 x f32]", lambda a, b: jnp.matmul(a.astype(jnp.float16), b),
        ref(lambda a, b: np.matmul(a.astype(np.float16), b)), [((2, 3), (3, 4))], nargs=2,
        tol={"float32": 3e-3}, check_dtype=False),
    Rec("matvec", jnp.matvec, ref(np.matvec), [((2, 3), (3,)), ((4, 2, 3), (1, 3)),
                                               ((2, 3), (5, 3))],
        nargs=2, dtypes=SOME, grad=1, check_dtype=False),
    Rec("vecmat", jnp.vecmat, ref(np.vecmat), [((3,), (3, 2)), ((4, 3), (1, 3, 2))],
        nargs=2, dtypes=SOME, grad=1, check_dtype=False),
    Rec("tensordot[2]", jnp.tensordot, ref(np.tensordot),
        [((2, 3, 4), (3, 4, 5)), ((3, 4), (3, 4))], nargs=2, dtypes=SOME, grad=1,
        check_dtype=False),
    Rec("tensordot[0]", lambda a, b: jnp.tensordot(a, b, 0), ref(lambda a, b: np.tensordot(
        a, b, 0)), [((2,), (3,))], nargs=2, check_dtype=False),
    Rec("tensordot[pairs]", lambda a, b: jnp.tensordot(a, b, ((0, -1), (2, 0))),
        ref(lambda a, b: np.tensordot(a, b, ((0, -1), (2, 0)))), [((2, 3, 4), (4, 5, 2))],
        nargs=2, grad=1, check_dtype=False),
    Rec("tensordot[int pair]", lambda a, b: jnp.tensordot(a, b, (1, 0)),
        ref(lambda a, b: np.tensordot(a, b, (1, 0))), [((2, 3), (3, 4))], nargs=2,
        check_dtype=False),
    Rec("outer", jnp.outer, ref(np.outer), [((3,), (4,)), ((2, 2), ()), ((0,), (2,))],
        nargs=2, dtypes=ALL, grad=1, check_dtype=False),
    Rec("inner", jnp.inner, ref(np.inner), [((3,), (3,)), ((2, 3), (4, 3)), ((), (2, 3)),
                                            ((2, 2, 3), (3,))],
        nargs=2, dtypes=SOME, grad=1, check_dtype=False),
    Rec("vdot", jnp.vdot, ref(np.vdot), [((3,), (3,)), ((2, 3), (3, 2))], nargs=2,
        dtypes=SOME, grad=1, check_dtype=False),
    Rec("vecdot", jnp.vecdot, ref(np.vecdot), [((3,), (3,)), ((2, 3), (3,)),
                                               ((4, 1, 3), (2, 3))],
        nargs=2, dtypes=SOME, grad=1, check_dtype=False),
    Rec("vecdot[axis]", lambda a, b: jnp.vecdot(a, b, axis=0), ref(lambda a, b: np.vecdot(
        a, b, axis=0)), [((3, 2), (3, 2))], nargs=2, check_dtype=False),
    Rec("kron", jnp.kron, ref(np.kron), [((2,), (3,)), ((2, 3), (2, 2)), ((2,), (2, 3)),
                                         ((), (3,))],
        nargs=2, dtypes=SOME, grad=1, check_dtype=False),
    Rec("cross", jnp.cross, ref(_cross3), [((3,), (3,)), ((4, 3), (4, 3)), ((4, 3), (3,)),
                                            ((5, 3), (5, 2)), ((5, 2), (5, 3))],
        nargs=2, dtypes=("int32", "float32"), grad=1, check_dtype=False),
    Rec("cross[2x2]", jnp.cross, ref(lambda a, b: a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]),
        [((2,), (2,)), ((4, 2), (4, 2))], nargs=2, check_dtype=False),
    Rec("cross[axes]", lambda a, b: jnp.cross(a, b, axisa=0, axisb=1, axisc=0),
        ref(lambda a, b: np.cross(a, b, axisa=0, axisb=1, axisc=0)), [((3, 4), (4, 3))],
        nargs=2, check_dtype=False),
    Rec("cross[axis]", lambda a, b: jnp.cross(a, b, axis=0),
        ref(lambda a, b: np.cross(a, b, axis=0)), [((3, 4), (3, 4))], nargs=2,
        check_dtype=False),
    # diagonals
    Rec("trace", jnp.trace, ref(np.trace), [(3, 3), (2, 4), (2, 3, 4)], dtypes=ALL[1:],
        grad=1, check_dtype=False),
    Rec("trace[offset,axes]", lambda a: jnp.trace(a, offset=-1, axis1=2, axis2=0),
        ref(lambda a: np.trace(a, offset=-1, axis1=2, axis2=0)), [(3, 2, 4), (1, 2, 1)],
        check_dtype=False),
    Rec("trace[dtype]", lambda a: jnp.trace(a, dtype=jnp.float32),
        ref(lambda a: np.trace(a, dtype=np.float32)), [(3, 3)], dtypes=("int8",),
        check_dtype=False),
    Rec("diagonal", jnp.diagonal, ref(np.diagonal), [(3, 3), (2, 4), (4, 2), (2, 3, 4),
                                                     (0, 3)],
        dtypes=ALL, grad=1, check_dtype=False),
    Rec("diagonal[offsets]", lambda a: [jnp.diagonal(a, k) for k in (-3, -1, 1, 2, 5)],
        ref(lambda a: [np.diagonal(a, k) for k in (-3, -1, 1, 2, 5)]), [(3, 4), (4, 3)],
        grad=1, check_dtype=False),
    Rec("diagonal[axes]", lambda a: jnp.diagonal(a, 1, axis1=-1, axis2=0),
        ref(lambda a: np.diagonal(a, 1, axis1=-1, axis2=0)), [(3, 2, 4)], check_dtype=False),
    Rec("diag", lambda v: [jnp.diag(v, k) for k in (-2, 0, 1)],
        ref(lambda v: [np.diag(v, k) for k in (-2, 0, 1)]), [(3,), (3, 4), (0,)],
        dtypes=("bool", "int32", "float32"), grad=1, check_dtype=False),
    Rec("diagflat", lambda v: jnp.diagflat(v, -1), ref(lambda v: np.diagflat(v, -1)),
        [(2, 2), (3,)], grad=1, check_dtype=False),
]

# einsum: one record per spec (shapes given per operand)
EINSUM = [
    ("ij,jk->ik", ((2, 3), (3, 4))), ("ij,jk", ((2, 3), (3, 4))), ("ij,kj->ik", ((2, 3), (4, 3))),
    ("i,i->", ((3,), (3,))), ("i,i", ((3,), (3,))), ("i,j->ij", ((2,), (3,))),
    ("bij,bjk->bik", ((2, 3, 4), (2, 4, 5))), ("bij,bjk->kbi", ((2, 3, 4), (2, 4, 5))),
    ("ii->i", ((3, 3),)), ("ii", ((3, 3),)), ("iij->ji", ((2, 2, 3),)), ("ij->", ((2, 3),)),
    ("ij->ji", ((2, 3),)), ("ijk->kj", ((2, 3, 4),)), ("iii->i", ((2, 2, 2),)),
    ("...ij,...jk->...ik", ((5, 2, 3), (5, 3, 4))), ("...i,...i->...", ((2, 3), (1, 3))),
    ("ij,ij->ij", ((1, 3), (2, 3))), ("ij,ij->i", ((2, 1), (2, 3))),
    ("ijk,kji->", ((2, 3, 4), (4, 3, 2))), ("ij,jk,kl->il", ((2, 3), (3, 4), (4, 2))),
    ("ab,bc,cd,da->", ((2, 3), (3, 4), (4, 2), (2, 2))), ("ii,i->i", ((3, 3), (3,))),
    ("ij,i->j", ((3, 4), (3,))), ("i,jk->ijk", ((2,), (3, 4))), (",ij->ij", ((), (2, 3))),
    ("ijj,jk->ik", ((2, 3, 3), (3, 4))),
]
for _spec, _shapes in EINSUM:
  _n = len(_shapes)
  RECORDS.append(Rec(
      f"einsum[{_spec}]", functools.partial(jnp.einsum, _spec),
      ref(functools.partial(np.einsum, _spec)), [_shapes] if _n > 1 else [_shapes[0]],
      nargs=_n, dtypes=SOME if _n == 2 else F32, grad=1 if _n <= 2 else 0,
      check_dtype=False))
RECORDS += [
    Rec("einsum[bool]", functools.partial(jnp.einsum, "ij,jk->ik"),
        ref(functools.partial(np.einsum, "ij,jk->ik")), [((2, 3), (3, 4))], nargs=2,
        dtypes=("bool", "int8", "bfloat16"), check_dtype=False),
    Rec("einsum[optimize=False]", lambda a, b, c: jnp.einsum("ij,jk,kl", a, b, c,
                                                             optimize=False),
        ref(lambda a, b, c: np.einsum("ij,jk,kl", a, b, c)), [((2, 3), (3, 4), (4, 2))],
        nargs=3, check_dtype=False),
    Rec("einsum[optimize=greedy]", lambda a, b, c: jnp.einsum("ij,jk,kl", a, b, c,
                                                              optimize="greedy"),
        ref(lambda a, b, c: np.einsum("ij,jk,kl", a, b, c)), [((2, 3), (3, 4), (4, 2))],
        nargs=3, check_dtype=False),
    Rec("einsum[interleaved]", lambda a, b: jnp.einsum(a, [0, 1], b, [1, 2], [0, 2]),
        ref(lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [0, 2])), [((2, 3), (3, 4))],
        nargs=2, grad=1, check_dtype=False),
    Rec("einsum[preferred]", lambda a, b: jnp.einsum("ij,jk", a, b,
                                                     preferred_element_type=jnp.float32),
        ref(lambda a, b: np.einsum("ij,jk", a, b).astype(np.float32)), [((2, 3), (3, 4))],
        nargs=2, dtypes=("int8", "float16"), check_dtype=False),
]

test_numpy, test_jit, test_vmap, test_grad = make_tests(RECORDS)


# ---------------------------------------------------------------------------------------
# Result dtypes and weak types, against JAX 0.10.2 (tests/data/record_jnp_b_dtypes.py)

test_result_dtypes_match_jax = result_dtypes_test("products")


def test_x64_products():
  rng = np.random.default_rng(0)
  a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
  with numjax.experimental.enable_x64():
    for fn, nfn in [(jnp.dot, np.dot), (jnp.matmul, np.matmul),
                    (functools.partial(jnp.einsum, "ij,jk"), functools.partial(np.einsum,
                                                                               "ij,jk"))]:
      out = fn(a, b)
      assert out.dtype == np.float64
      assert_close(out, nfn(a, b), 1e-12)
      assert_close(numjax.jit(fn)(a, b), out, 1e-12)
    out = jnp.dot(a.astype(np.int64), b.astype(np.int64))
    assert out.dtype == np.int64


def test_weak_types():
  assert jnp.dot(2.0, 3.0).weak_type
  assert not jnp.dot(jnp.ones(2, jnp.int8), jnp.ones(2, jnp.int8)).weak_type
  assert jnp.dot(jnp.ones(2, jnp.int8), jnp.ones(2, jnp.int8)).dtype == np.int8
  assert jnp.einsum("i,i", np.ones(2, np.float32), 1.0 * np.ones(2, np.float32)).dtype == \
      np.float32


# ---------------------------------------------------------------------------------------
# jaxpr text (the dot of seed 003, recorded from JAX 0.10.2)

SEED_003 = """{ lambda ; a:f32[2,3] b:f32[3,4]. let
    c:f32[2,3] = add a 1.0:f32[]
    d:f32[3,4] = add b 1.0:f32[]
    e:f32[2,4] = dot_general[
      dimension_numbers=(([1], [0]), ([], []))
      preferred_element_type=float32
    ] c d
  in (e,) }"""


def test_seed_003_jaxpr_is_jax_byte_for_byte():
  x, y = jnp.ones((2, 3)), jnp.ones((3, 4))

  def f(x, y):
    return jnp.dot(x + 1, y + 1)
  assert str(numjax.make_jaxpr(f)(x, y)) == SEED_003


def test_jaxpr_of_contractions_matches_jax():
  x = jnp.ones((2, 3))
  # recorded from JAX 0.10.2
  assert str(numjax.make_jaxpr(lambda x: jnp.matmul(x, x.T))(x)) == (
      "{ lambda ; a:f32[2,3]. let\n"
      "    b:f32[3,2] = transpose[permutation=(1, 0)] a\n"
      "    c:f32[2,2] = dot_general[\n"
      "      dimension_numbers=(([1], [0]), ([], []))\n"
      "      preferred_element_type=float32\n"
      "    ] a b\n"
      "  in (c,) }")
  assert str(numjax.make_jaxpr(lambda x: jnp.einsum("ij,kj->ik", x, x))(x)) == (
      "{ lambda ; a:f32[2,3]. let\n"
      "    b:f32[2,2] = dot_general[\n"
      "      dimension_numbers=(([1], [1]), ([], []))\n"
      "      preferred_element_type=float32\n"
      "    ] a a\n"
      "  in (b,) }")
  i8, f32 = jnp.ones(2, jnp.int8), jnp.ones(2, jnp.float32)
  assert str(numjax.make_jaxpr(jnp.dot)(i8, f32)) == (
      "{ lambda ; a:i8[2] b:f32[2]. let\n"
      "    c:f32[] = dot_general[\n"
      "      dimension_numbers=(([0], [0]), ([], []))\n"
      "      preferred_element_type=float32\n"
      "    ] a b\n"
      "  in (c,) }")


def test_einsum_contracts_pairwise_with_dot_general():
  a, b, c = np.ones((2, 3)), np.ones((3, 4)), np.ones((4, 5))
  jaxpr = numjax.make_jaxpr(lambda a, b, c: jnp.einsum("ij,jk,kl->il", a, b, c))(a, b, c)
  assert [e.primitive.name for e in jaxpr.eqns].count("dot_general") == 2
  batched = numjax.make_jaxpr(lambda a, b: jnp.einsum("bij,bjk->bik", a, b))(
      np.ones((5, 2, 3)), np.ones((5, 3, 4)))
  dots = [e for e in batched.eqns if e.primitive.name == "dot_general"]
  assert len(dots) == 1 and dots[0].params["dimension_numbers"][1] == ((0,), (0,))


def test_einsum_path():
  a, b, c = np.ones((2, 3)), np.ones((3, 40)), np.ones((40, 2))
  path, info = jnp.einsum_path("ij,jk,kl->il", a, b, c, optimize="optimal")
  np_path, _ = np.einsum_path("ij,jk,kl->il", a, b, c, optimize="optimal")
  assert path == np_path[1:]   # NumPy's path starts with the tag 'einsum_path'
  assert isinstance(info, str) or hasattr(info, "__str__")
  path, _ = jnp.einsum_path("ij,jk,kl->il", a, b, c, optimize=False)
  assert path == [(0, 1), (0, 1)]


# ---------------------------------------------------------------------------------------
# Errors (classes and messages as JAX 0.10.2)

X = np.arange(6.0, dtype=np.float32).reshape(2, 3)
ERRORS = [
    (lambda: jnp.dot([1, 2], [3, 4]), TypeError, "dot requires ndarray or scalar arguments"),
    (lambda: jnp.dot(np.ones(3), np.ones(4)), TypeError,
     "dot_general requires contracting dimensions to have the same shape, got (3,) and (4,)."),
    (lambda: jnp.matmul(np.ones(()), np.ones(3)), ValueError,
     "matmul input operand 0 must have ndim at least 1, but it has ndim 0"),
    (lambda: jnp.matmul(np.ones((2, 2, 3)), np.ones((3, 3, 4))), ValueError,
     "Incompatible types for matmul arguments: float32[2,2,3] and float32[3,3,4]"),
    (lambda: jnp.matmul(np.ones((2, 3)), np.ones((4, 5))), TypeError,
     "dot_general requires contracting dimensions to have the same shape"),
    (lambda: jnp.tensordot(X, X, 3), TypeError, "Number of tensordot axes (axes 3) exceeds "
                                                "input ranks"),
    (lambda: jnp.tensordot(X, X, ((0, 1), (0,))), TypeError,
     "tensordot requires axes lists to have equal length"),
    (lambda: jnp.tensordot(X, X, "a"), TypeError, "tensordot axes argument must be an int"),
    (lambda: jnp.einsum("ij,jk", X, X), ValueError, "Size of label 'j' for operand 1 (3) does "
                                                    "not match previous terms (2)."),
    (lambda: jnp.einsum("ij", X, out=X), NotImplementedError, "'out' argument to jnp.einsum"),
    (lambda: jnp.einsum("ij", [[1.0]]), TypeError, "einsum requires ndarray or scalar"),
    (lambda: jnp.cross(np.ones(4), np.ones(4)), ValueError, "Dimension must be either 2 or 3 "
                                                            "for cross product"),
    (lambda: jnp.trace(X, axis1=1, axis2=1), ValueError, "axis1 and axis2 can not be same. "
                                                         "axis1=1 and axis2=1"),
    (lambda: jnp.trace(X, out=1), NotImplementedError, "'out' argument to jnp.trace"),
    (lambda: jnp.diag(np.ones((2, 2, 2))), ValueError, "diag input must be 1d or 2d"),
    (lambda: jnp.diagonal(np.ones(3)), ValueError, "diagonal requires an array of at least "
                                                   "two dimensions."),
    (lambda: jnp.vecdot(np.ones(3), np.ones(4)), ValueError, "axes must match; got shapes "
                                                             "(3,) and (4,) with axis=-1"),
    (lambda: jnp.outer(X, X, out=1), NotImplementedError, "'out' argument to jnp.outer"),
    (lambda: jnp.kron(np.ones(2, bool), np.ones(2, bool)), TypeError, "bool"),
    (lambda: jnp.dot(np.ones(2, np.int8), 1), TypeError, "must not be narrower"),
]


@pytest.mark.parametrize("fn,exc,msg", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors(fn, exc, msg):
  with pytest.raises(exc, match=re.escape(msg) if msg else None):
    fn()
