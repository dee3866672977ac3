"""numjax.Array and Tracer: repr/str, immutability, pickling, NumPy interop (__array__,
dlpack), Python conversions, operators (incl. reflected and with NumPy/Python operands) and
the jax.Array methods and properties, eagerly and on tracers (jit, vmap, grad)."""
import copy
import operator
import pickle
import warnings

import numpy as np
import pytest

import numjax
import numjax.numpy as jnp
from numjax import errors
from numjax.experimental import enable_x64


# ---------------------------------------------------------------------------------------
# repr / str: strings recorded from JAX 0.10.2

REPRS = [
    (lambda: jnp.array([1, 2, 3]), "Array([1, 2, 3], dtype=int32)", "[1 2 3]"),
    (lambda: jnp.array(3.0), "Array(3., dtype=float32, weak_type=True)", "3.0"),
    (lambda: jnp.zeros((2, 2)), "Array([[0., 0.],\n       [0., 0.]], dtype=float32)",
     "[[0. 0.]\n [0. 0.]]"),
    (lambda: jnp.zeros((0,)), "Array([], shape=(0,), dtype=float32)", "[]"),
    (lambda: jnp.zeros((2, 0)), "Array([], shape=(2, 0), dtype=float32)", "[]"),
    (lambda: jnp.array([True, False]), "Array([ True, False], dtype=bool)", "[ True False]"),
    (lambda: jnp.array([1.5, 2], jnp.bfloat16), "Array([1.5, 2], dtype=bfloat16)", "[1.5 2]"),
    (lambda: jnp.array([1 + 2j]), "Array([1.+2.j], dtype=complex64)", "[1.+2.j]"),
    (lambda: jnp.arange(12).reshape(3, 4),
     "Array([[ 0,  1,  2,  3],\n       [ 4,  5,  6,  7],\n       [ 8,  9, 10, 11]], dtype=int32)",
     "[[ 0  1  2  3]\n [ 4  5  6  7]\n [ 8  9 10 11]]"),
    (lambda: jnp.array(5), "Array(5, dtype=int32, weak_type=True)", "5"),
    (lambda: jnp.float32(2.5), "Array(2.5, dtype=float32)", "2.5"),
]


@pytest.mark.parametrize("make,r,s", REPRS, ids=[r for _, r, _ in REPRS])
def test_repr_str(make, r, s):
  x = make()
  assert repr(x) == r
  assert str(x) == s


def test_format():
  assert f"{jnp.float32(2.5):.2f}" == "2.50"
  assert format(jnp.array(3), "d") == "3"


# ---------------------------------------------------------------------------------------
# Immutability, pickling, NumPy interop

def test_item_assignment_is_a_type_error_with_advice():
  x = jnp.arange(3)
  with pytest.raises(TypeError, match=r"x\.at\[idx\]\.set\(y\)"):
    x[0] = 1


def test_item_assignment_on_tracer():
  def f(x):
    x[0] = 1.0
    return x
  with pytest.raises(TypeError, match=r"\.at\[idx\]\.set\(y\)"):
    numjax.jit(f)(jnp.ones(3))


def test_numpy_view_is_read_only():
  x = jnp.arange(4.0)
  a = np.asarray(x)
  assert not a.flags.writeable
  with pytest.raises(ValueError):
    a[0] = 7.0
  np.testing.assert_array_equal(np.asarray(x), [0, 1, 2, 3])


def test_array_copies_user_numpy_buffers():
  a = np.arange(3.0, dtype=np.float32)
  x = jnp.array(a)
  y = jnp.asarray(a)
  a[0] = 100.0
  assert float(x[0]) == 0.0 and float(y[0]) == 0.0


@pytest.mark.parametrize("make", [
    lambda: jnp.arange(6.0).reshape(2, 3), lambda: jnp.array(2.0), lambda: jnp.array(7),
    lambda: jnp.array([1.5, -2], jnp.bfloat16), lambda: jnp.array([True, False]),
    lambda: jnp.zeros((0, 3), jnp.int8), lambda: jnp.array([1 + 2j])])
def test_pickle_roundtrip(make):
  x = make()
  y = pickle.loads(pickle.dumps(x))
  assert type(y) is type(x)
  assert y.dtype == x.dtype and y.shape == x.shape and y.weak_type == x.weak_type
  np.testing.assert_array_equal(np.asarray(y), np.asarray(x))


def test_copy_and_deepcopy():
  x = jnp.arange(3.0)
  for y in (copy.copy(x), copy.deepcopy(x), x.copy(), jnp.copy(x)):
    np.testing.assert_array_equal(y, x)
    assert y.dtype == x.dtype


def test_dunder_array():
  x = jnp.arange(3, dtype=jnp.int32)
  a = np.asarray(x)
  assert a.dtype == np.int32
  np.testing.assert_array_equal(a, [0, 1, 2])
  b = np.asarray(x, dtype=np.float64)
  assert b.dtype == np.float64
  c = np.array(x)  # a copy is writable
  c[0] = 5
  assert int(x[0]) == 0


def test_dlpack_roundtrip_with_numpy():
  x = jnp.arange(6.0).reshape(2, 3)
  a = np.from_dlpack(x)
  np.testing.assert_array_equal(a, np.arange(6.0, dtype=np.float32).reshape(2, 3))
  b = np.arange(4, dtype=np.int16)
  y = jnp.from_dlpack(b)
  assert y.dtype == np.int16
  np.testing.assert_array_equal(y, b)
  z = jnp.from_dlpack(x)
  np.testing.assert_array_equal(z, x)


def test_numpy_operands_on_the_left_give_arrays():
  x = jnp.arange(3.0)
  for out in (np.arange(3.0) + x, np.float32(2) * x, np.arange(3) - x):
    assert isinstance(out, numjax.Array)
  np.testing.assert_array_equal(np.arange(3.0) + x, [0, 2, 4])


# ---------------------------------------------------------------------------------------
# Python conversions

def test_scalar_conversions():
  assert int(jnp.array(3)) == 3 and type(int(jnp.array(3))) is int
  assert float(jnp.array(2.5)) == 2.5
  assert bool(jnp.array(0)) is False and bool(jnp.array([1])) is True
  assert complex(jnp.array(1j)) == 1j
  assert operator.index(jnp.array(2)) == 2
  assert [10, 20, 30][jnp.array(1)] == 20
  assert jnp.array(7).item() == 7 and jnp.arange(3).tolist() == [0, 1, 2]


@pytest.mark.parametrize("conv", [int, float, complex])
def test_non_scalar_conversion_errors(conv):
  with pytest.raises(TypeError, match="Only scalar arrays can be converted to Python "
                     "scalars; got arr.ndim=1"):
    conv(jnp.arange(2))


def test_bool_of_many_elements_is_ambiguous():
  with pytest.raises(ValueError, match="ambiguous"):
    bool(jnp.arange(2))


@pytest.mark.parametrize("x", [jnp.array([2]), jnp.array(2.0)])
def test_index_conversion_errors(x):
  with pytest.raises(TypeError, match="Only integer scalar arrays can be converted to a "
                     "scalar index"):
    operator.index(x)


def test_len_and_iteration():
  with pytest.raises(TypeError, match="len"):
    len(jnp.array(1))
  x = jnp.arange(6).reshape(3, 2)
  assert len(x) == 3
  rows = list(x)
  assert len(rows) == 3 and rows[1].tolist() == [2, 3]
  assert [r.tolist() for r in reversed(x)] == [[4, 5], [2, 3], [0, 1]]


def test_unhashable():
  with pytest.raises(TypeError, match="unhashable"):
    hash(jnp.arange(3))


@pytest.mark.parametrize("what", ["bool", "int", "float", "index"])
def test_tracer_conversion_errors(what):
  cls = {"bool": errors.TracerBoolConversionError, "int": errors.TracerIntegerConversionError,
         "float": errors.ConcretizationTypeError,
         "index": errors.TracerIntegerConversionError}[what]
  fn = {"bool": bool, "int": int, "float": float, "index": operator.index}[what]
  with pytest.raises(cls):
    numjax.jit(lambda x: fn(x))(jnp.array(1))


def test_tracer_array_conversion_error():
  with pytest.raises(errors.TracerArrayConversionError):
    numjax.jit(lambda x: np.asarray(x))(jnp.arange(3.0))


# ---------------------------------------------------------------------------------------
# Operators

BINOPS = [
    ("+", operator.add), ("-", operator.sub), ("*", operator.mul), ("/", operator.truediv),
    ("//", operator.floordiv), ("%", operator.mod), ("**", operator.pow),
    ("==", operator.eq), ("!=", operator.ne), ("<", operator.lt), ("<=", operator.le),
    (">", operator.gt), (">=", operator.ge),
]
INT_BINOPS = [("&", operator.and_), ("|", operator.or_), ("^", operator.xor),
              ("<<", operator.lshift), (">>", operator.rshift)]


def _ref_dtype(x, y, op):
  # The dtype JAX gives for same-dtype operands (x and y share `dtype`).
  if op in (operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge):
    return np.dtype(bool)
  if op is operator.truediv and x.dtype.kind in "iub":
    return np.dtype(np.float32)
  return x.dtype


@pytest.mark.parametrize("sym,op", BINOPS, ids=[s for s, _ in BINOPS])
@pytest.mark.parametrize("dtype", ["int32", "uint8", "float32", "float16"])
def test_binary_operators_match_numpy(sym, op, dtype):
  rng = np.random.default_rng(0)
  a = rng.integers(1, 5, (2, 3)).astype(dtype)
  b = rng.integers(1, 4, (3,)).astype(dtype)
  x, y = jnp.asarray(a), jnp.asarray(b)
  with np.errstate(all="ignore"):
    expected = op(a, b)
  for out in (op(x, y), op(x, b), op(a, y)):
    assert isinstance(out, numjax.Array)
    assert out.dtype == _ref_dtype(a, b, op)
    np.testing.assert_allclose(np.asarray(out, np.float64), expected.astype(np.float64),
                               rtol=1e-3 if dtype == "float16" else 1e-6)


@pytest.mark.parametrize("sym,op", INT_BINOPS, ids=[s for s, _ in INT_BINOPS])
@pytest.mark.parametrize("dtype", ["int8", "int32", "uint32"])
def test_bitwise_operators_match_numpy(sym, op, dtype):
  rng = np.random.default_rng(1)
  a = rng.integers(0, 100, (4,)).astype(dtype)
  b = rng.integers(0, 5, (4,)).astype(dtype)
  out = op(jnp.asarray(a), jnp.asarray(b))
  assert out.dtype == np.dtype(dtype)
  np.testing.assert_array_equal(out, op(a, b))
  # with a Python int on either side
  np.testing.assert_array_equal(op(jnp.asarray(a), 2), op(a, a.dtype.type(2)))
  np.testing.assert_array_equal(op(3, jnp.asarray(b)), op(b.dtype.type(3), b))


def test_bool_operators_are_logical():
  t = jnp.array([True, False, True])
  u = jnp.array([True, True, False])
  np.testing.assert_array_equal(t & u, [True, False, False])
  np.testing.assert_array_equal(t | u, [True, True, True])
  np.testing.assert_array_equal(t ^ u, [False, True, True])
  np.testing.assert_array_equal(~t, [False, True, False])
  assert (t + u).dtype == np.bool_ and (t * u).dtype == np.bool_


@pytest.mark.parametrize("x64", [False, True])
def test_python_scalar_operands_keep_the_array_dtype(x64):
  with enable_x64(x64):
    for dt in ("int8", "uint8", "int32", "float16", "bfloat16", "float32"):
      x = jnp.ones(3, dt)
      for out in (x + 1, 1 + x, x * 2, 2 - x, x ** 2, x - 1, x == 1, 1 < x):
        expect = np.dtype(bool) if out.dtype == np.bool_ else np.dtype(jnp.dtype(dt))
        assert out.dtype == expect and not out.weak_type
      f = x + 1.5
      assert f.dtype == (x.dtype if x.dtype.kind not in "iu" else
                         np.dtype("float64" if x64 else "float32"))
      assert f.weak_type == (x.dtype.kind in "iu")


def test_python_scalar_results_are_weak():
  x = jnp.asarray(2.0)
  assert x.weak_type
  assert (x + 1).weak_type and (x * x).weak_type and (-x).weak_type
  assert not (x + jnp.float32(1)).weak_type
  assert (jnp.asarray(3) + 1).weak_type


def test_int_overflow_rules_of_python_scalars():
  np.testing.assert_array_equal(jnp.int8(1) + 1000, np.int8(-23))  # wraps (as JAX)
  with pytest.raises(OverflowError):
    jnp.int32(1) + 2 ** 40


def test_unary_operators():
  x = jnp.array([-1.5, 0.0, 2.0])
  np.testing.assert_array_equal(-x, [1.5, -0.0, -2.0])
  np.testing.assert_array_equal(+x, x)
  np.testing.assert_array_equal(abs(x), [1.5, 0, 2])
  np.testing.assert_array_equal(~jnp.array([0, 5], jnp.int8), [-1, -6])


def test_divmod_and_round():
  q, r = divmod(jnp.arange(-3, 4), 2)
  np.testing.assert_array_equal(q, np.arange(-3, 4) // 2)
  np.testing.assert_array_equal(r, np.arange(-3, 4) % 2)
  q, r = divmod(7, jnp.array([2, -3]))
  np.testing.assert_array_equal(q, [3, -3])
  np.testing.assert_array_equal(r, [1, -2])
  out = round(jnp.array(2.5))
  assert out.dtype == np.int32 and int(out) == 2
  out = round(jnp.array(2.567), 2)
  assert out.dtype == np.float32 and abs(float(out) - 2.57) < 1e-6


def test_matmul_operator():
  a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
  b = np.arange(3.0, dtype=np.float32)
  np.testing.assert_allclose(jnp.asarray(a) @ jnp.asarray(b), a @ b)
  np.testing.assert_allclose(a @ jnp.asarray(b), a @ b)


def test_rejected_operands():
  x = jnp.arange(3)
  for bad in ([1, 2, 3], (1, 2, 3)):
    with pytest.raises(TypeError, match="unsupported operand"):
      x + bad
    with pytest.raises(TypeError, match="unsupported operand"):
      x == bad
    with pytest.raises(TypeError, match="unsupported operand"):
      bad * x
  assert (x == None) is False  # noqa: E711 (falls back to identity, as JAX)
  assert (x == "a") is False
  with pytest.raises(TypeError):
    x - "a"


def test_jax_array_protocol_operands():
  class Wrapped:
    def __init__(self, v):
      self.v = v

    def __jax_array__(self):
      return jnp.asarray(self.v)
  np.testing.assert_array_equal(jnp.arange(3) + Wrapped(np.arange(3)), [0, 2, 4])
  np.testing.assert_array_equal(jnp.sin(Wrapped(np.zeros(2, np.float32))), [0, 0])
  np.testing.assert_array_equal(jnp.array(Wrapped(np.arange(2))), [0, 1])


def test_contains():
  x = jnp.arange(3)
  assert 2 in x and 5 not in x
  with pytest.raises(ValueError, match="one-dimensional"):
    1 in jnp.ones((2, 2))
  with pytest.raises(TypeError):
    None in x


# ---------------------------------------------------------------------------------------
# Methods and properties

def test_reshape_forms():
  x = jnp.arange(6.0)
  a = np.arange(6.0)
  for args in [((2, 3),), (2, 3), ((3, -1),), (-1,), ([2, 3],), (6,)]:
    np.testing.assert_array_equal(x.reshape(*args), a.reshape(*args))
  np.testing.assert_array_equal(x.reshape(2, 3, order="F"), a.reshape(2, 3, order="F"))
  with pytest.raises(TypeError, match="only specify one unknown"):
    x.reshape(-1, -1)
  with pytest.raises(TypeError, match="does not evenly divide"):
    x.reshape(4, -1)
  with pytest.raises(TypeError, match=r"into shape 7 \(size 7\)"):
    x.reshape(7)
  with pytest.raises(NotImplementedError):
    x.reshape(6, order="A")


def test_transpose_forms():
  a = np.arange(24.0).reshape(2, 3, 4)
  x = jnp.asarray(a)
  np.testing.assert_array_equal(x.transpose(), a.transpose())
  np.testing.assert_array_equal(x.transpose(1, 0, 2), a.transpose(1, 0, 2))
  np.testing.assert_array_equal(x.transpose((2, 0, 1)), a.transpose((2, 0, 1)))
  np.testing.assert_array_equal(x.transpose([-1, 0, 1]), a.transpose([-1, 0, 1]))
  np.testing.assert_array_equal(x.T, a.T)
  np.testing.assert_array_equal(x.mT, np.swapaxes(a, -1, -2))
  with pytest.raises(TypeError, match="permutation"):
    x.transpose(0)
  with pytest.raises(ValueError, match="at least two-dimensional"):
    jnp.arange(3).mT


def test_flatten_ravel():
  a = np.arange(6).reshape(2, 3)
  x = jnp.asarray(a)
  np.testing.assert_array_equal(x.flatten(), a.flatten())
  np.testing.assert_array_equal(x.ravel(), a.ravel())
  np.testing.assert_array_equal(x.flatten(order="F"), a.flatten(order="F"))
  with pytest.raises(NotImplementedError, match="flat"):
    x.flat


def test_astype():
  x = jnp.arange(3.7, step=0.9)
  np.testing.assert_array_equal(x.astype(int), np.arange(3.7, step=0.9).astype(np.int32))
  assert x.astype(jnp.int8).dtype == np.int8
  assert x.astype("bfloat16").dtype == jnp.bfloat16.dtype
  assert x.astype(None).dtype == np.float32
  assert jnp.array(2.5).astype(jnp.float32).weak_type is False
  np.testing.assert_array_equal(jnp.array([1 + 1j, 0]).astype(bool), [True, False])
  with pytest.warns(DeprecationWarning):
    jnp.array([1 + 1j]).astype(jnp.float32)
  y = jnp.arange(3.0)
  assert y.astype(jnp.float32, copy=True) is not y


def test_view():
  x = jnp.arange(4, dtype=jnp.int8)
  np.testing.assert_array_equal(x.view(jnp.int16), np.arange(4, dtype=np.int8).view(np.int16))
  a = np.array([1.0, -2.0], np.float32)
  np.testing.assert_array_equal(jnp.asarray(a).view(jnp.int32), a.view(np.int32))
  np.testing.assert_array_equal(jnp.asarray(a).view(jnp.uint8), a.view(np.uint8))
  np.testing.assert_array_equal(jnp.asarray(a[:1]).reshape(()).view(jnp.int32),
                                a[:1].view(np.int32)[0])
  with pytest.raises(ValueError, match="0d array"):
    jnp.array(1.0).view(jnp.int8)
  np.testing.assert_array_equal(numjax.jit(lambda v: v.view(jnp.uint16))(a), a.view(np.uint16))
  c = np.array([1 + 2j, 3 - 4j], np.complex64)
  np.testing.assert_array_equal(jnp.asarray(c).view(jnp.float32), c.view(np.float32))
  np.testing.assert_array_equal(jnp.asarray(c.view(np.float32)).view(jnp.complex64), c)
  np.testing.assert_array_equal(jnp.array([True, False]).view(jnp.uint8), [1, 0])
  assert x.view() is x


def test_real_imag_conj_properties():
  c = np.array([1 + 2j, -3j], np.complex64)
  x = jnp.asarray(c)
  np.testing.assert_array_equal(x.real, c.real)
  np.testing.assert_array_equal(x.imag, c.imag)
  np.testing.assert_array_equal(x.conj(), c.conj())
  np.testing.assert_array_equal(x.conjugate(), c.conjugate())
  r = jnp.arange(3.0)
  np.testing.assert_array_equal(r.real, [0, 1, 2])
  np.testing.assert_array_equal(r.imag, [0, 0, 0])
  assert r.conj() is r


def test_metadata_properties():
  x = jnp.zeros((2, 3), jnp.float16)
  assert (x.shape, x.ndim, x.size, x.itemsize, x.nbytes) == ((2, 3), 2, 6, 2, 12)
  assert x.to_device(numjax.devices()[0]) is x
  assert x.__array_namespace__() is jnp


def test_round_method():
  a = np.array([0.5, 1.5, 2.567, -0.5], np.float32)
  np.testing.assert_array_equal(jnp.asarray(a).round(), np.round(a))
  np.testing.assert_allclose(jnp.asarray(a).round(2), np.round(a, 2))


FORWARDED = [
    ("sum", (), {}), ("sum", (0,), {}), ("mean", (), {"axis": 1}), ("max", (), {}),
    ("min", (), {"axis": 0}), ("prod", (), {}), ("all", (), {}), ("any", (), {}),
    ("argmax", (), {}), ("argmin", (), {"axis": 1}), ("cumsum", (), {"axis": 1}),
    ("cumprod", (), {"axis": 0}), ("std", (), {}), ("var", (), {"axis": 0}), ("ptp", (), {}),
    ("clip", (1, 4), {}), ("diagonal", (), {}), ("trace", (), {}), ("swapaxes", (0, 1), {}),
    ("repeat", (2,), {"axis": 0}), ("squeeze", (), {}),
    ("nonzero", (), {}), ("dot", (np.ones((3,), np.float32),), {}),
    ("take", (np.array([0, 2]),), {"axis": 1}),
]


@pytest.mark.parametrize("name,args,kw", FORWARDED, ids=[f[0] for f in FORWARDED])
def test_forwarded_methods_match_numpy(name, args, kw):
  a = np.arange(1.0, 7.0, dtype=np.float32).reshape(2, 3)
  x = jnp.asarray(a)
  out = getattr(x, name)(*args, **kw)
  exp = getattr(np, name)(a, *args, **kw)
  for o, e in zip(out if isinstance(out, tuple) else (out,),
                  exp if isinstance(exp, tuple) else (exp,)):
    np.testing.assert_allclose(np.asarray(o, np.float64), np.asarray(e, np.float64), rtol=1e-6)


# ---------------------------------------------------------------------------------------
# The same surface on tracers (jit, vmap, grad)

def test_methods_on_tracers_under_jit():
  a = np.arange(6.0, dtype=np.float32).reshape(2, 3)

  def f(x):
    y = x.T.reshape(3, 2).transpose(1, 0) + x.real - x.imag
    return (y * 2 - 1) ** 2 / (1 + abs(x)), x.astype(jnp.int32), x.mT, x.flatten(), x.sum(1)
  eager = f(jnp.asarray(a))
  jitted = numjax.jit(f)(a)
  for e, j in zip(eager, jitted):
    assert e.dtype == j.dtype and e.shape == j.shape
    np.testing.assert_allclose(np.asarray(j), np.asarray(e), rtol=1e-6)


def test_tracer_properties_and_iteration():
  seen = {}

  def f(x):
    seen["meta"] = (x.itemsize, x.nbytes, x.shape, x.ndim, x.size)
    rows = list(x)
    return rows[0] + rows[-1], len(x)
  out = numjax.jit(lambda x: f(x)[0])(jnp.ones((3, 2), jnp.float16))
  assert seen["meta"] == (2, 12, (3, 2), 2, 6)
  np.testing.assert_array_equal(out, [2, 2])
  with pytest.raises(TypeError, match="0-d"):
    numjax.jit(lambda x: list(x))(jnp.array(1.0))


def test_operators_under_vmap_and_grad():
  xs = np.linspace(-1, 1, 5, dtype=np.float32)
  out = numjax.vmap(lambda x: x * x + 1 - x / 2)(xs)
  np.testing.assert_allclose(out, xs * xs + 1 - xs / 2, rtol=1e-6)
  g = numjax.grad(lambda x: (x ** 3 + 2 * x).sum())(jnp.asarray(xs))
  np.testing.assert_allclose(g, 3 * xs ** 2 + 2, rtol=1e-5)
  g2 = numjax.grad(lambda x: (x.reshape(5, 1).T @ x.reshape(5, 1))[0, 0])(jnp.asarray(xs))
  np.testing.assert_allclose(g2, 2 * xs, rtol=1e-5)


def test_jaxpr_of_operators():
  jaxpr = numjax.make_jaxpr(lambda x: x + 1)(jnp.ones(3, jnp.int32))
  assert str(jaxpr) == "{ lambda ; a:i32[3]. let b:i32[3] = add a 1:i32[] in (b,) }"
  jaxpr = numjax.make_jaxpr(lambda x: x ** 2)(jnp.ones(3, jnp.int32))
  assert str(jaxpr) == "{ lambda ; a:i32[3]. let b:i32[3] = integer_pow[y=2] a in (b,) }"
  jaxpr = numjax.make_jaxpr(lambda x: x / 2)(jnp.ones(3, jnp.int32))
  assert str(jaxpr) == (
      "{ lambda ; a:i32[3]. let\n"
      "    b:f32[3] = convert_element_type[new_dtype=float32 weak_type=False] a\n"
      "    c:f32[3] = div b 2.0:f32[]\n"
      "  in (c,) }")


def test_eager_fast_path_agrees_with_promotion_path():
  # Same dtype + weak type takes the fast path; mixed goes through promotion: same values.
  a = jnp.arange(4.0)
  b = jnp.arange(4.0).astype(jnp.float16)
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    for op in (operator.add, operator.sub, operator.mul, operator.truediv, operator.lt,
               operator.eq):
      fast = op(a, a)
      slow = numjax.jit(op)(a, a)
      assert fast.dtype == slow.dtype and fast.weak_type == slow.weak_type
      np.testing.assert_array_equal(fast, slow)
      mixed = op(a, b)
      assert mixed.dtype == (np.bool_ if op in (operator.lt, operator.eq) else np.float32)


def test_ndim_shape_size():
  x = jnp.ones((2, 3))
  assert (jnp.ndim(x), jnp.shape(x), jnp.size(x)) == (2, (2, 3), 6)
  assert jnp.size(x, 1) == 3 and jnp.size(x, (0, 1)) == 6
  assert (jnp.ndim(3.0), jnp.shape(3.0), jnp.size(3.0)) == (0, (), 1)
  with pytest.warns(DeprecationWarning, match="ndim requires ndarray or scalar arguments"):
    assert jnp.ndim([1, 2]) == 1
  with pytest.warns(DeprecationWarning, match="shape requires ndarray"):
    assert jnp.shape([[1], [2]]) == (2, 1)
  with pytest.warns(DeprecationWarning, match="size requires ndarray"):
    assert jnp.size([1, 2, 3]) == 3
  seen = []
  numjax.jit(lambda t: seen.append((jnp.ndim(t), jnp.shape(t), jnp.size(t))) or t)(x)
  assert seen == [(2, (2, 3), 6)]
