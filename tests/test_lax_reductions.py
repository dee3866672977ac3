"""lax reductions, argmax/argmin, generic reduce and cumulative reductions: NumPy parity over
dtypes and shapes, jit parity, vmap against a loop at every batch position, gradients
against finite differences, JAX's errors and jaxpr text (recorded from JAX 0.10.2)."""

import numpy as np
import pytest

import numjax
import numjax.experimental
import numjax.lax as lax
from numjax._src.lax.lax import asarray
from records import INT, Rec, assert_close, make_nonempty_grad_test, make_tests, uniform, wide

FLOATS = ("float16", "bfloat16", "float32")
NUMBER = FLOATS + INT + ("complex64",)
ORDERED = ("bool",) + FLOATS + INT
LOGICAL = ("bool",) + INT

# (shape, axes): scalars, axes=(), unsorted axes, 0-size reductions
AXES_CASES = [((), ()), ((5,), ()), ((5,), (0,)), ((3, 4), (1,)), ((3, 4), (1, 0)),
              ((0, 3), (0,)), ((2, 0), (1,)), ((2, 3, 4), (0, 2))]


def _identity(name, dt):
  dt = np.dtype(dt)
  if name == "max":
    if dt == bool:
      return False
    return np.iinfo(dt).min if dt.kind in "iu" else -np.inf
  if dt == bool:
    return True
  return np.iinfo(dt).max if dt.kind in "iu" else np.inf


def np_reduce(name, axes):
  def ref(x):
    dt = x.dtype
    if name == "sum":
      out = np.sum(wide(x), axis=axes, dtype=None if dt.kind in "iu" else wide(x).dtype)
      return np.asarray(out).astype(dt)
    if name == "prod":
      return np.asarray(np.prod(wide(x), axis=axes)).astype(dt)
    if name in ("max", "min"):
      uf = np.maximum if name == "max" else np.minimum
      init = _identity(name, dt)
      xw = wide(x) if dt.kind == "f" or str(dt) == "bfloat16" else x
      return np.asarray(uf.reduce(xw, axis=axes, initial=init)).astype(dt)
    uf = {"and": (np.logical_and, np.bitwise_and), "or": (np.logical_or, np.bitwise_or),
          "xor": (np.logical_xor, np.bitwise_xor)}[name][dt != bool]
    if x.size == 0:
      ident = (-1 if name == "and" else 0)
      return np.full([s for i, s in enumerate(x.shape) if i not in axes],
                     np.array(ident).astype(dt), dt)
    res = x
    for a in sorted(axes, reverse=True):
      res = uf.reduce(res, axis=a)
    return np.asarray(res, dtype=dt)
  return ref


_WRAPPERS = {"sum": lax.reduce_sum, "prod": lax.reduce_prod, "max": lax.reduce_max,
             "min": lax.reduce_min, "and": lax.reduce_and, "or": lax.reduce_or,
             "xor": lax.reduce_xor}
_DTYPES = {"sum": NUMBER, "prod": NUMBER, "max": ORDERED, "min": ORDERED,
           "and": LOGICAL, "or": LOGICAL, "xor": LOGICAL}
_GRAD = {"sum": 2, "prod": 2, "max": 1, "min": 1}


def _reduction_records():
  recs = []
  for name, fn in _WRAPPERS.items():
    for shape, axes in AXES_CASES:
      recs.append(Rec(f"reduce_{name}{list(axes)}", lambda x, fn=fn, axes=axes: fn(x, axes),
                      np_reduce(name, axes), shapes=[shape], dtypes=_DTYPES[name],
                      domain=uniform(0.5, 2.0) if name == "prod" else uniform(),
                      tol={"float16": 2e-2, "bfloat16": 1e-1},
                      grad=_GRAD.get(name, 0)))
  return recs


def _np_argminmax(np_fn, axis):
  return lambda x: np.asarray(np_fn(wide(x), axis=axis)).astype(np.int32)


ARG_RECORDS = [
    Rec(f"{name}{axis}", lambda x, f=f, axis=axis: f(x, axis, np.int32),
        _np_argminmax(np_fn, axis), shapes=shapes, dtypes=ORDERED)
    for name, f, np_fn in (("argmax", lax.argmax, np.argmax), ("argmin", lax.argmin, np.argmin))
    for axis, shapes in ((0, [(5,), (4, 3)]), (1, [(4, 3), (2, 3, 4)]))]


def np_cum(name, axis, reverse):
  def ref(x):
    dt = x.dtype
    xw = wide(x)
    if reverse:
      xw = np.flip(xw, axis)
    if name == "cumsum":
      out = np.cumsum(xw, axis=axis, dtype=dt if dt.kind in "iu" else None)
    elif name == "cumprod":
      out = np.cumprod(xw, axis=axis, dtype=dt if dt.kind in "iu" else None)
    elif name == "cummax":
      out = np.maximum.accumulate(xw, axis=axis)
    elif name == "cummin":
      out = np.minimum.accumulate(xw, axis=axis)
    else:
      out = np.logaddexp.accumulate(xw, axis=axis)
    if reverse:
      out = np.flip(out, axis)
    return np.asarray(out).astype(dt)
  return ref


_CUM = {"cumsum": (lax.cumsum, NUMBER, 2), "cumprod": (lax.cumprod, NUMBER, 2),
        "cummax": (lax.cummax, FLOATS + INT, 1), "cummin": (lax.cummin, FLOATS + INT, 1),
        "cumlogsumexp": (lax.cumlogsumexp, FLOATS, 2)}

CUM_RECORDS = [
    Rec(f"{name}{axis}{'r' if reverse else ''}",
        lambda x, f=f, axis=axis, reverse=reverse: f(x, axis, reverse),
        np_cum(name, axis, reverse), shapes=shapes, dtypes=dts, grad=grad,
        domain=uniform(0.5, 1.5) if name == "cumprod" else uniform(),
        tol={"float16": 2e-2, "bfloat16": 1e-1})
    for name, (f, dts, grad) in _CUM.items()
    for axis, reverse, shapes in ((0, False, [(7,), (0,), (4, 3)]), (1, True, [(3, 5)]),
                                  (1, False, [(2, 6, 3)]))]


def _pick_max_with_index(a, b):
  """A variadic (value, index) reduction: argmax as a monoid (first index on ties)."""
  av, ai = a
  bv, bi = b
  take_b = lax.bitwise_or(lax.gt(bv, av), lax.bitwise_and(lax.eq(bv, av), lax.lt(bi, ai)))
  return lax.select(take_b, bv, av), lax.select(take_b, bi, ai)


def _generic_argmax(x):
  idx = lax.broadcasted_iota(np.int32, x.shape, 0)
  return lax.reduce((x, idx), (np.float32(-np.inf), np.int32(2 ** 31 - 1)),
                    _pick_max_with_index, (0,))


def _affine_sum(x):
  # add with a non-identity init: not a monoid, so it stays a generic `reduce`
  return lax.reduce(x, np.array(1.5, x.dtype), lax.add, (1,))


def _scaled_prod(x):
  return lax.reduce(x, np.array(2.0, x.dtype), lax.mul, (0, 2))


REDUCE_RECORDS = [
    Rec("reduce_argmax", _generic_argmax, lambda x: (np.max(x, 0), np.argmax(x, 0)),
        shapes=[(5,), (6, 3), (7, 2, 2)], check_dtype=False),
    Rec("reduce_affine_sum", _affine_sum, lambda x: np.sum(wide(x), 1) + 1.5,
        shapes=[(3, 5), (2, 7, 3), (2, 0)], grad=2, check_dtype=False),
    Rec("reduce_scaled_prod", _scaled_prod, lambda x: 2 * np.prod(wide(x), (0, 2)),
        shapes=[(3, 2, 3), (2, 5, 1)], grad=2, domain=uniform(0.5, 1.5), check_dtype=False),
]

ALL_RECORDS = _reduction_records() + ARG_RECORDS + CUM_RECORDS + REDUCE_RECORDS
test_numpy, test_jit, test_vmap, _ = make_tests(ALL_RECORDS)
# gradients against finite differences, float32 and float64
test_grad = make_nonempty_grad_test(ALL_RECORDS)


# ---- semantics that the random records do not reach ---------------------------------------

def test_reduce_max_ties_share_gradient():
  g = numjax.grad(lambda x: lax.reduce_max(x, (0,)))(np.array([1., 3., 3., 2.], np.float32))
  np.testing.assert_array_equal(np.asarray(g), [0, 0.5, 0.5, 0])


@pytest.mark.parametrize("x,expected", [
    ([1., 0., 3., 2.], [0., 6., 0., 0.]),
    ([1., 0., 0., 2.], [0., 0., 0., 0.]),
    ([0., 2., 3.], [6., 0., 0.]),
])
def test_reduce_prod_grad_with_zeros(x, expected):
  # exact: the product of the other entries, computed without dividing by zero
  g = numjax.grad(lambda x: lax.reduce_prod(x, (0,)))(np.array(x, np.float32))
  np.testing.assert_array_equal(np.asarray(g), expected)


def test_reduce_prod_hessian_with_zero():
  x = np.array([1., 0., 3., 2.], np.float32)
  h = numjax.jacfwd(numjax.grad(lambda x: lax.reduce_prod(x, (0,))))(x) \
      if hasattr(numjax, "jacfwd") else None
  if h is None:  # build the Hessian column by column from jvp-of-grad
    cols = []
    for i in range(4):
      e = np.zeros(4, np.float32)
      e[i] = 1
      cols.append(np.asarray(numjax.jvp(numjax.grad(lambda x: lax.reduce_prod(x, (0,))),
                                        (x,), (e,))[1]))
    h = np.stack(cols, 1)
  # d2/dxi dxj prod(x) = prod of the entries other than i and j
  expected = np.zeros((4, 4))
  for i in range(4):
    for j in range(4):
      if i != j:
        expected[i, j] = np.prod([x[k] for k in range(4) if k not in (i, j)])
  np.testing.assert_allclose(np.asarray(h), expected)


def test_cumulative_grads_with_zeros_and_ties():
  # cumprod through a zero is exact; cummax splits ties evenly at each combine (as JAX)
  g = numjax.grad(lambda x: lax.reduce_sum(lax.cumprod(x, 0), (0,)))(
      np.array([1., 0., 3., 2.], np.float32))
  np.testing.assert_array_equal(np.asarray(g), [1., 10., 0., 0.])
  g = numjax.grad(lambda x: lax.reduce_sum(lax.cummax(x, 0), (0,)))(
      np.array([1., 3., 3., 2.], np.float32))
  np.testing.assert_array_equal(np.asarray(g), [1., 2., 1., 0.])
  g = numjax.grad(lambda x: lax.reduce_sum(lax.cummax(x, 0), (0,)))(
      np.array([3., 1., 3., 2.], np.float32))
  np.testing.assert_array_equal(np.asarray(g), [3., 0., 1., 0.])


@pytest.mark.parametrize("fn,np_fn", [(lax.argmax, np.argmax), (lax.argmin, np.argmin)])
@pytest.mark.parametrize("dtype", ["float16", "float32", "bfloat16"])
def test_argminmax_nan_first_occurrence(fn, np_fn, dtype):
  import ml_dtypes
  dt = ml_dtypes.bfloat16 if dtype == "bfloat16" else np.dtype(dtype)
  rows = [[1., np.nan, 3., np.nan], [2., 5., 5., 1.], [-0., 0., -1., -1.], [4., 4., 4., 4.]]
  x = np.array(rows).astype(dt)
  out = np.asarray(fn(x, 1, np.int32))
  # NumPy's rule is XLA's: the first NaN if any, else the first extremum; -0.0 == 0.0
  np.testing.assert_array_equal(out, np_fn(np.array(rows), axis=1))
  assert out.dtype == np.int32


def test_argmax_index_dtype_and_weak_type():
  x = np.array([[1, 2], [3, 0]], np.int8)
  out = lax.argmax(x, 1, np.uint8)
  assert out.dtype == np.uint8 and not out.weak_type
  np.testing.assert_array_equal(np.asarray(out), [1, 0])
  assert not lax.argmax(asarray(3.0) if False else np.array([2.0]), 0, np.int32).weak_type


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min"])
def test_nan_propagates(name):
  x = np.array([1., np.nan, 3.], np.float32)
  assert np.isnan(np.asarray(_WRAPPERS[name](x, (0,))))


def test_reduce_dtype_is_kept():
  x = np.full(300, 100, np.int8)
  out = lax.reduce_sum(x, (0,))
  assert out.dtype == np.int8
  assert int(out) == int(np.sum(x, dtype=np.int8))
  assert lax.reduce_sum(np.ones(3, np.uint32), (0,)).dtype == np.uint32
  assert lax.reduce_and(np.array([True, False]), (0,)).dtype == np.bool_


def test_weak_type_is_kept():
  assert lax.reduce_sum(3.0, ()).weak_type
  assert not lax.reduce_sum(np.ones(3, np.float32), (0,)).weak_type
  assert lax.reduce_max(asarray(2.0), ()).weak_type


def test_cumlogsumexp_complex():
  x = np.array([1 + 1j, 2, -1 + 3j], np.complex64)
  out = np.asarray(lax.cumlogsumexp(x, 0))
  expected = np.log(np.cumsum(np.exp(x.astype(np.complex128))))
  # compare modulo 2*pi*i in the imaginary part
  np.testing.assert_allclose(np.exp(out.astype(np.complex128)), np.exp(expected), rtol=1e-5)


def test_generic_reduce_folds_init_first_and_in_order():
  x = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
  # for two elements XLA's definition is f(f(init, x0), x1)
  out = lax.reduce(x, np.float32(0.), lambda a, b: lax.add(lax.mul(a, b), np.float32(1.)),
                   (0,))
  np.testing.assert_array_equal(np.asarray(out), (0 * x[0] + 1) * x[1] + 1)
  # an associative, non-commutative computation (keep the left operand) gives x0 ... in order
  keep_left = lambda a, b: lax.select(lax.ne(a, a), b, a)  # noqa: E731  (NaN init: "empty")
  y = np.arange(7, dtype=np.float32)
  assert float(lax.reduce(y, np.float32(np.nan), keep_left, (0,))) == 0.0


def test_generic_reduce_monoid_dispatch():
  x = np.ones((2, 3), np.float32)
  for comp, init, prim in [(lax.add, 0., "reduce_sum"), (lax.mul, 1., "reduce_prod"),
                           (lax.max, -np.inf, "reduce_max"), (lax.min, np.inf, "reduce_min"),
                           (lambda a, b: lax.add(a, b), 0., "reduce_sum")]:
    jaxpr = numjax.make_jaxpr(lambda x: lax.reduce(x, init, comp, (0,)))(x)
    assert [e.primitive.name for e in jaxpr.eqns] == [prim]
  b = np.ones((2, 3), bool)
  for comp, init, prim in [(lax.bitwise_and, True, "reduce_and"),
                           (lax.bitwise_or, False, "reduce_or"),
                           (lax.bitwise_xor, False, "reduce_xor")]:
    jaxpr = numjax.make_jaxpr(lambda x: lax.reduce(x, init, comp, (1,)))(b)
    assert [e.primitive.name for e in jaxpr.eqns] == [prim]
  jaxpr = numjax.make_jaxpr(lambda x: lax.reduce(x, 1., lax.add, (0,)))(x)
  assert [e.primitive.name for e in jaxpr.eqns] == ["reduce"]
  # Python-scalar operand and init: the result stays weak, as JAX
  assert lax.reduce(2.0, 0.0, lax.add, ()).weak_type


def test_generic_reduce_errors():
  x = np.ones((2, 3), np.float32)
  with pytest.raises(ValueError, match="same tree structure"):
    lax.reduce((x, x), 0., lax.add, (0,))
  with pytest.raises(TypeError, match="initial value dtypes"):
    lax.reduce(x, np.int32(3), lax.add, (0,))
  with pytest.raises(NotImplementedError, match="initial values"):
    numjax.jvp(lambda i: lax.reduce(x, i, lambda a, b: lax.add(lax.mul(a, b), b), (0,)),
               (np.float32(1.),), (np.float32(1.),))


# ---- JAX's errors ---------------------------------------------------------------------------

@pytest.mark.parametrize("thunk,exc,msg", [
    (lambda: lax.reduce_sum(np.ones((2, 3)), (-1,)), ValueError, "out-of-bounds"),
    (lambda: lax.reduce_sum(np.ones((2, 3)), (2,)), ValueError, "out-of-bounds"),
    (lambda: lax.reduce_sum(np.ones((2, 3)), (0, 0)), ValueError, "duplicate value"),
    (lambda: lax.reduce_and(np.ones((2, 3)), (0,)), TypeError,
     "logical reduction requires operand dtype bool or int, got float32"),
    (lambda: lax.reduce_sum(np.ones(3, bool), (0,)), TypeError,
     "reduce_sum does not accept dtype bool"),
    (lambda: lax.reduce_prod(np.ones(3, bool), (0,)), TypeError,
     "reduce_prod does not accept dtype bool"),
    (lambda: lax.argmax(np.ones((0,)), 0, np.int32), ValueError,
     "argmin and argmax require non-empty reduced dimension"),
    (lambda: lax.argmax(np.ones(3), 1, np.int32), ValueError, "Invalid axis 1"),
    (lambda: lax.argmax(np.ones(3), -1, np.int32), ValueError, "Invalid axis -1"),
    (lambda: lax.argmax(np.float32(3), 0, np.int32), ValueError, "Invalid axis 0"),
    (lambda: lax.argmax(np.ones(3), 0, np.float32), TypeError,
     "index_dtype must be an integer type"),
    (lambda: lax.argmax(np.ones(3, np.complex64), 0, np.int32), TypeError,
     "does not accept dtype complex64"),
    (lambda: lax.cumsum(np.ones(2, bool), 0), TypeError, "cumsum does not accept dtype bool"),
    (lambda: lax.cummax(np.ones(2, bool), 0), TypeError, "cummax does not accept dtype bool"),
    (lambda: lax.cumsum(np.ones(2, np.int8), 1), ValueError, "out of bounds"),
    (lambda: lax.cumsum(np.ones(2, np.int8), -1), ValueError,
     "XLA operations do not allow negative axes"),
    (lambda: lax.cumsum(np.float32(3.0)), ValueError, "out of bounds"),
    (lambda: lax.cumlogsumexp(np.ones(2, np.int32)), TypeError,
     "cumlogsumexp does not accept dtype int32"),
])
def test_errors(thunk, exc, msg):
  with pytest.raises(exc, match=msg):
    thunk()


# ---- jaxpr text, as JAX 0.10.2 prints it ---------------------------------------------------

_X = np.ones((2, 3), np.float32)
_B = np.ones((2, 3), bool)


@pytest.mark.parametrize("fn,arg,expected", [
    (lambda x: lax.reduce_sum(x, (1, 0)), _X,
     "{ lambda ; a:f32[2,3]. let\n    b:f32[] = reduce_sum[axes=(1, 0) out_sharding=None] a\n"
     "  in (b,) }"),
    (lambda x: lax.reduce_max(x, (1, 0)), _X,
     "{ lambda ; a:f32[2,3]. let b:f32[] = reduce_max[axes=(1, 0)] a in (b,) }"),
    (lambda x: lax.reduce_min(x, (1, 0)), _X,
     "{ lambda ; a:f32[2,3]. let b:f32[] = reduce_min[axes=(1, 0)] a in (b,) }"),
    (lambda x: lax.reduce_prod(x, (1, 0)), _X,
     "{ lambda ; a:f32[2,3]. let b:f32[] = reduce_prod[axes=(1, 0)] a in (b,) }"),
    (lambda x: lax.reduce_and(x, (1,)), _B,
     "{ lambda ; a:bool[2,3]. let b:bool[2] = reduce_and[axes=(1,)] a in (b,) }"),
    (lambda x: lax.reduce_or(x, (1,)), _B,
     "{ lambda ; a:bool[2,3]. let b:bool[2] = reduce_or[axes=(1,)] a in (b,) }"),
    (lambda x: lax.reduce_xor(x, (1,)), _B,
     "{ lambda ; a:bool[2,3]. let b:bool[2] = reduce_xor[axes=(1,)] a in (b,) }"),
    (lambda x: lax.argmax(x, 1, np.int32), _X,
     "{ lambda ; a:f32[2,3]. let\n    b:i32[2] = argmax[axes=(1,) index_dtype=int32] a\n"
     "  in (b,) }"),
    (lambda x: lax.argmin(x, 1, np.int32), _X,
     "{ lambda ; a:f32[2,3]. let\n    b:i32[2] = argmin[axes=(1,) index_dtype=int32] a\n"
     "  in (b,) }"),
    (lambda x: lax.cumsum(x, 1, reverse=True), _X,
     "{ lambda ; a:f32[2,3]. let b:f32[2,3] = cumsum[axis=1 reverse=True] a in (b,) }"),
    (lambda x: lax.cummax(x, 1, reverse=True), _X,
     "{ lambda ; a:f32[2,3]. let b:f32[2,3] = cummax[axis=1 reverse=True] a in (b,) }"),
    (lambda x: lax.cumlogsumexp(x, 1, reverse=True), _X,
     "{ lambda ; a:f32[2,3]. let\n    b:f32[2,3] = cumlogsumexp[axis=1 reverse=True] a\n"
     "  in (b,) }"),
    (lambda x: lax.reduce(x, 0., lax.add, (0,)), _X,
     "{ lambda ; a:f32[2,3]. let\n    b:f32[3] = reduce_sum[axes=(0,) out_sharding=None] a\n"
     "  in (b,) }"),
    (lambda x: lax.reduce_sum(x, ()), _X,
     "{ lambda ; a:f32[2,3]. let\n    b:f32[2,3] = reduce_sum[axes=() out_sharding=None] a\n"
     "  in (b,) }"),
])
def test_jaxpr_text(fn, arg, expected):
  assert str(numjax.make_jaxpr(fn)(arg)) == expected


def test_generic_reduce_jaxpr_text():
  comp = lambda a, b: (lax.add(a[0], b[0]), lax.mul(a[1], b[1]))  # noqa: E731
  text = str(numjax.make_jaxpr(lambda x: lax.reduce((x, x), (0., 0.), comp, (0,)))(_X))
  expected = (
      "{ lambda ; a:f32[2,3]. let\n"
      "    b:f32[3] c:f32[3] = reduce[\n"
      f"      computation={comp}\n"
      "      dimensions=(0,)\n"
      "      jaxpr={ lambda ; d:f32[] e:f32[] f:f32[] g:f32[]. let\n"
      "          h:f32[] = add d f\n"
      "          i:f32[] = mul e g\n"
      "        in (h, i) }\n"
      "    ] a a 0.0:f32[] 0.0:f32[]\n"
      "  in (b, c) }")
  assert text == expected


def test_vmap_of_reduce_jaxpr_and_jit_of_grad():
  x = np.random.default_rng(0).uniform(size=(3, 4)).astype(np.float32)
  f = numjax.jit(numjax.grad(lambda x: lax.reduce_max(lax.reduce_sum(x, (1,)), (0,))))
  g = np.asarray(f(x))
  expected = np.zeros_like(x)
  expected[np.argmax(x.sum(1))] = 1
  assert_close(g, expected, 1e-6)


def test_primitives_are_complete():
  from numjax._src.interpreters import ad, batching
  from numjax._src.lax import reductions, sorting
  prims = {v for m in (reductions, sorting) for k, v in vars(m).items() if k.endswith("_p")}
  assert len(prims) == 17
  linear = {reductions.reduce_sum_p, reductions.cumsum_p}
  for p in prims:
    assert p.impl is not None and p.abstract_eval is not None, p
    assert p in ad.primitive_jvps or p in ad.nondifferentiable, p
    assert (p in ad.primitive_transposes) == (p in linear), p
    assert p in batching.primitive_batchers, p
    assert getattr(p, "native_template", None) or getattr(p, "numpy_tier_only", False), p
