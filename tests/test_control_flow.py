"""lax control flow: values against Python loops, API forms, JAX's errors and jaxpr text.

Derivatives are in test_control_flow_ad.py, vmap in test_control_flow_vmap.py.
"""
import numpy as np
import pytest

import numjax as jax
import numjax.numpy as jnp
from numjax import lax


def close(a, b, tol=1e-5):
  np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


# ---------------------------------------------------------------------------------------
# while_loop

def test_seed_001_while_loop_example():
  def cond_fun(val):
    i, n = val
    return i < n

  def body_fun(val):
    i, n = val
    return i + 1, n

  @jax.jit
  def g(x, n):
    end, _ = lax.while_loop(cond_fun, body_fun, (0, n))
    return x + end
  assert int(g(1, 5)) == 6


def test_while_loop_matches_python_loop():
  def collatz_len(n):
    def cond(c):
      return c[0] != 1

    def body(c):
      x, k = c
      return jnp.where(x % 2 == 0, x // 2, 3 * x + 1), k + 1
    return lax.while_loop(cond, body, (n, 0))[1]

  def py(n):
    k = 0
    while n != 1:
      n = n // 2 if n % 2 == 0 else 3 * n + 1
      k += 1
    return k
  for n in (1, 6, 27):
    assert int(collatz_len(jnp.int32(n))) == py(n)
    assert int(jax.jit(collatz_len)(jnp.int32(n))) == py(n)


def test_while_loop_pytree_carry_and_dtypes():
  init = {"x": jnp.ones(3, jnp.float32), "i": jnp.int32(0), "t": (jnp.float32(2.0),)}
  out = lax.while_loop(lambda c: c["i"] < 4,
                       lambda c: {"x": c["x"] * c["t"][0], "i": c["i"] + 1, "t": c["t"]}, init)
  close(out["x"], np.full(3, 16.0))
  assert out["i"].dtype == np.int32 and int(out["i"]) == 4
  assert out["x"].dtype == np.float32


def test_while_loop_promotes_weak_typed_init():
  # a Python-int carry that the body makes float is promoted (as JAX)
  out = lax.while_loop(lambda c: c < 10, lambda c: c + 1.0, 0)
  assert out.dtype == np.float32
  assert float(out) == 10.0


def test_while_loop_zero_iterations():
  out = lax.while_loop(lambda c: c > 100, lambda c: c * 2, jnp.float32(3.0))
  assert float(out) == 3.0


def test_while_loop_closure_over_traced_values():
  @jax.jit
  def f(x, y):
    return lax.while_loop(lambda c: c < y, lambda c: c + x, 0.0)
  assert float(f(1.5, 5.0)) == 6.0


def test_while_loop_errors():
  with pytest.raises(TypeError, match="cond_fun must return a boolean scalar, but got output "
                     r"type\(s\) \[ShapedArray\(float32\[\], weak_type=True\)\]"):
    lax.while_loop(lambda c: c, lambda c: c, 1.0)
  with pytest.raises(TypeError, match=r"cond_fun must return a boolean scalar, but got output "
                     r"type\(s\) \[ShapedArray\(bool\[2\]\)\]"):
    lax.while_loop(lambda c: jnp.array([True, False]), lambda c: c, 1.0)
  with pytest.raises(TypeError, match="while_loop body function carry input and carry output "
                     "must have the same pytree structure"):
    lax.while_loop(lambda c: c < 10, lambda c: (c + 1, c), 0)
  with pytest.raises(TypeError) as e:
    lax.while_loop(lambda c: c[0] < 10, lambda c: (c[0] + 1, jnp.zeros(3)), (0, jnp.zeros(2)))
  msg = str(e.value)
  assert "while_loop body function carry input and carry output must have equal types" in msg
  assert ("The input carry component c[1] has type float32[2] but the corresponding output "
          "carry component has type float32[3], so the shapes do not match.") in msg
  with pytest.raises(TypeError, match="body_fun and cond_fun arguments should be callable"):
    lax.while_loop(1, lambda c: c, 0)


def test_while_loop_jaxpr_text():
  def g(x):
    return lax.while_loop(lambda c: c[0] < 10, lambda c: (c[0] + 1, c[1] * x), (0, x))
  # as printed by JAX 0.10.2 (the body closes over x: body_nconsts=1)
  assert str(jax.make_jaxpr(g)(2.0)) == (
      "{ lambda ; a:f32[]. let\n"
      "    b:i32[] c:f32[] = while[\n"
      "      body_jaxpr={ lambda ; d:f32[] e:i32[] f:f32[]. let\n"
      "          g:i32[] = add e 1:i32[]\n"
      "          h:f32[] = mul f d\n"
      "        in (g, h) }\n"
      "      body_nconsts=1\n"
      "      cond_jaxpr={ lambda ; i:i32[] j:f32[]. let\n"
      "          k:bool[] = lt i 10:i32[]\n"
      "        in (k,) }\n"
      "      cond_nconsts=0\n"
      "    ] a 0:i32[] a\n"
      "  in (b, c) }")
  text = str(jax.make_jaxpr(lambda: lax.while_loop(lambda c: c < 10, lambda c: c + 1.0, 0))())
  assert "cond_jaxpr={ lambda ; d:f32[]. let e:bool[] = lt d 10.0:f32[] in (e,) }" in text
  assert "] 0.0:f32[]" in text  # the weakly typed int init was promoted to float


# ---------------------------------------------------------------------------------------
# fori_loop

def test_fori_loop_static_and_dynamic_bounds():
  def body(i, x):
    return x * 2.0 + i
  expect = 1.0
  for i in range(2, 7):
    expect = expect * 2.0 + i
  close(lax.fori_loop(2, 7, body, 1.0), expect)
  close(jax.jit(lambda lo, hi: lax.fori_loop(lo, hi, body, 1.0))(2, 7), expect)
  # static bounds lower to scan, traced bounds to while (as JAX)
  assert "scan[" in str(jax.make_jaxpr(lambda x: lax.fori_loop(0, 5, body, x))(1.0))
  assert "while[" in str(jax.make_jaxpr(lambda x, n: lax.fori_loop(0, n, body, x))(1.0, 5))
  # empty range
  assert float(lax.fori_loop(5, 2, body, 1.0)) == 1.0


def test_fori_loop_bound_dtypes():
  assert lax.fori_loop(0, 3, lambda i, c: c + i, 0).dtype == np.int32
  assert int(lax.fori_loop(jnp.int32(0), 3, lambda i, c: c + i, 0)) == 3
  with pytest.raises(TypeError, match="lower and upper arguments to fori_loop must have equal "
                     "types, got int32 and float32"):
    lax.fori_loop(0, 3.0, lambda i, c: c + i, 0.0)
  with pytest.raises(ValueError, match="Can only use `unroll` in `fori_loop` if the loop bounds "
                     "are statically known"):
    jax.jit(lambda n: lax.fori_loop(0, n, lambda i, c: c, 0.0, unroll=2))(3)


def test_fori_loop_jaxpr_text():
  text = str(jax.make_jaxpr(lambda x: lax.fori_loop(0, 5, lambda i, c: c * x, x))(2.0))
  # JAX 0.10.2: the counter is a carry starting at a literal 0, x a const
  assert ":i32[] = add " in text and " 1:i32[]\n" in text
  assert ("      length=5\n"
          "      num_carry=2\n"
          "      num_consts=1\n"
          "      reverse=False\n"
          "      unroll=1\n"
          "    ] a 0:i32[] a") in text


# ---------------------------------------------------------------------------------------
# scan and map

def _py_scan(f, init, xs, reverse=False):
  carry, ys = init, []
  idx = range(len(xs) - 1, -1, -1) if reverse else range(len(xs))
  for i in idx:
    carry, y = f(carry, xs[i])
    ys.append(y)
  if reverse:
    ys.reverse()
  return carry, np.stack(ys)


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_matches_python_loop(reverse):
  rng = np.random.default_rng(0)
  xs = rng.normal(size=(6, 3)).astype(np.float32)
  w = rng.normal(size=(3, 3)).astype(np.float32)

  def f(c, x):
    c = jnp.tanh(c @ w + x)
    return c, c.sum()

  def f_np(c, x):
    c = np.tanh(c @ w + x)
    return c, c.sum()
  c0 = np.zeros(3, np.float32)
  carry, ys = lax.scan(f, c0, xs, reverse=reverse)
  rc, rys = _py_scan(f_np, c0, xs, reverse)
  close(carry, rc)
  close(ys, rys)
  carry_j, ys_j = jax.jit(lambda c, xs: lax.scan(f, c, xs, reverse=reverse))(c0, xs)
  close(carry_j, rc)
  close(ys_j, rys)


def test_scan_pytrees_none_xs_and_length():
  xs = {"a": jnp.arange(4.0), "b": (jnp.ones((4, 2)),)}

  def f(c, x):
    return c + x["a"], {"s": x["b"][0] * c, "t": None}
  c, ys = lax.scan(f, 0.0, xs)
  assert float(c) == 6.0
  close(ys["s"], np.outer([0.0, 0.0, 1.0, 3.0], np.ones(2)))
  assert ys["t"] is None
  c, ys = lax.scan(lambda c, _: (c * 2, c), 1.0, None, length=5)
  assert float(c) == 32.0
  close(ys, [1, 2, 4, 8, 16])
  # zero-length scan
  c, ys = lax.scan(lambda c, x: (c + x.sum(), x * 2), 1.0, jnp.zeros((0, 3)))
  assert float(c) == 1.0
  assert ys.shape == (0, 3)


def test_scan_unroll_does_not_change_results():
  xs = jnp.arange(10.0)
  f = lambda c, x: (c * 0.5 + x, c)
  base = lax.scan(f, 1.0, xs)
  for unroll in (2, 3, True, False):
    out = lax.scan(f, 1.0, xs, unroll=unroll)
    close(out[0], base[0])
    close(out[1], base[1])


def test_scan_errors():
  with pytest.raises(ValueError, match=r"scan got `length` argument of 4 which disagrees with "
                     r"leading axis sizes \[3\]"):
    lax.scan(lambda c, x: (c + 1.0, x), 0.0, jnp.ones(3), length=4)
  with pytest.raises(ValueError, match="scan got no values to scan over and `length` not "
                     "provided"):
    lax.scan(lambda c, x: (c, x), 0.0, None)
  with pytest.raises(ValueError, match="scan got values with different leading axis sizes: 3, 4"):
    lax.scan(lambda c, x: (c, x), 0.0, [jnp.ones(3), jnp.ones(4)])
  with pytest.raises(TypeError, match="scan body output must be a pair"):
    lax.scan(lambda c, x: c, 0.0, jnp.ones(3))
  with pytest.raises(TypeError, match="scan body function carry input and carry output must "
                     "have equal types"):
    lax.scan(lambda c, x: (c.astype(jnp.int32), x), jnp.float32(0), jnp.ones(3))
  with pytest.raises(TypeError, match="f argument should be a callable"):
    lax.scan(0, 0.0, jnp.ones(3))


def test_scan_jaxpr_text():
  def h(c, xs):
    return lax.scan(lambda c, x: (c * x, c + x), c, xs)
  text = str(jax.make_jaxpr(h)(1.0, jnp.ones(3)))
  assert text.startswith("{ lambda ; a:f32[] b:f32[3]. let\n    c:f32[] d:f32[3] = scan[\n")
  assert "      length=3\n      num_carry=1\n      num_consts=0\n      reverse=False\n" \
         "      unroll=1\n    ] a b\n  in (c, d) }" in text


def test_map_and_batch_size():
  xs = jnp.arange(10.0).reshape(10, 1) * jnp.ones((1, 3))
  f = lambda x: jnp.sin(x) * 2.0
  expect = np.sin(np.asarray(xs)) * 2.0
  close(lax.map(f, xs), expect)
  for bs in (1, 3, 5, 10, 20, 0):
    close(lax.map(f, xs, batch_size=bs), expect)
  out = lax.map(lambda t: (t[0] + 1, t[1] * 2), (jnp.arange(4), jnp.ones(4)))
  close(out[0], np.arange(4) + 1)
  close(out[1], np.full(4, 2.0))


# ---------------------------------------------------------------------------------------
# cond and switch

def test_cond_forms():
  assert float(lax.cond(True, lambda x: x + 1.0, lambda x: x * 2.0, 3.0)) == 4.0
  assert float(lax.cond(False, lambda x: x + 1.0, lambda x: x * 2.0, 3.0)) == 6.0
  # numeric predicates compare with zero
  assert float(lax.cond(2, lambda x: x + 1.0, lambda x: x * 2.0, 3.0)) == 4.0
  assert float(lax.cond(0.0, lambda x: x + 1.0, lambda x: x * 2.0, 3.0)) == 6.0
  # no operands, operand= keyword, several operands, pytrees
  assert float(lax.cond(True, lambda: 1.0, lambda: 2.0)) == 1.0
  assert float(lax.cond(False, lambda x: x, lambda x: -x, operand=5.0)) == -5.0
  out = lax.cond(True, lambda a, b: {"s": a + b, "p": (a * b,)},
                 lambda a, b: {"s": a - b, "p": (a / b,)}, 6.0, 3.0)
  assert float(out["s"]) == 9.0 and float(out["p"][0]) == 18.0
  # the old five-argument form
  assert float(lax.cond(True, 1.0, lambda x: x + 1, 2.0, lambda x: x * 10)) == 2.0
  f = jax.jit(lambda p, x: lax.cond(p > 0, jnp.sin, jnp.cos, x))
  close(f(1.0, 0.5), np.sin(0.5))
  close(f(-1.0, 0.5), np.cos(0.5))


def test_cond_closure_and_weak_types():
  y = jnp.arange(3.0)
  out = jax.jit(lambda p: lax.cond(p, lambda: y * 2, lambda: y + 1))(True)
  close(out, [0.0, 2.0, 4.0])
  assert lax.cond(True, lambda: 1.0, lambda: 2.0).weak_type


def test_cond_errors():
  with pytest.raises(TypeError) as e:
    lax.cond(True, lambda x: x, lambda x: x * 1.0, 1)
  msg = str(e.value)
  assert msg.startswith("cond branches must have equal output types but they differ.")
  assert ("The output of true_fun has type int32[] but the corresponding output of false_fun "
          "has type float32[], so the dtypes do not match.") in msg
  assert "true_fun is <lambda> at " in msg
  with pytest.raises(TypeError) as e:
    lax.cond(True, lambda x: x, lambda x: (x, x), 1.0)
  assert ("true_fun output is a pytree leaf but false_fun output is a <class 'tuple'>, so "
          "their Python types differ.") in str(e.value)
  with pytest.raises(TypeError, match="so the shapes do not match"):
    lax.cond(True, lambda x: x, lambda x: jnp.zeros(2), 1.0)
  with pytest.raises(TypeError, match=r"Pred must be a scalar, got \[ True False\] of shape "
                     r"\(2,\)"):
    lax.cond(jnp.array([True, False]), lambda x: x, lambda x: x, 1.0)
  with pytest.raises(TypeError, match="cond predicate is None"):
    lax.cond(None, lambda: 1, lambda: 2)
  with pytest.raises(TypeError, match="true_fun and false_fun arguments should be callable"):
    lax.cond(True, 1, 2)


def test_switch():
  branches = [lambda x: x + 1.0, lambda x: x * 2.0, jnp.sin]
  for i, expect in [(-3, 4.0), (0, 4.0), (1, 6.0), (2, np.sin(3.0)), (7, np.sin(3.0))]:
    close(lax.switch(i, branches, 3.0), expect)
    close(jax.jit(lambda i, x: lax.switch(i, branches, x))(i, 3.0), expect)
  assert float(lax.switch(5, [lambda: 1.0], )) == 1.0
  with pytest.raises(ValueError, match="Empty branch sequence"):
    lax.switch(0, [], 1.0)
  with pytest.raises(TypeError, match="Index type must be an integer, got 1.0 as float32"):
    lax.switch(1.0, branches, 1.0)
  with pytest.raises(TypeError, match="Branch index must be scalar"):
    lax.switch(jnp.array([0, 1]), branches, 1.0)


def test_cond_switch_jaxpr_text():
  def f(p, x):
    return lax.cond(p, lambda x: x + 1.0, lambda x: x * 2.0, x)
  assert str(jax.make_jaxpr(f)(True, 1.0)) == (
      "{ lambda ; a:bool[] b:f32[]. let\n"
      "    c:i32[] = convert_element_type[new_dtype=int32 weak_type=False] a\n"
      "    d:f32[] = cond[\n"
      "      branches=(\n"
      "        { lambda ; e:f32[]. let f:f32[] = mul e 2.0:f32[] in (f,) }\n"
      "        { lambda ; g:f32[]. let h:f32[] = add g 1.0:f32[] in (h,) }\n"
      "      )\n"
      "    ] c b\n"
      "  in (d,) }")
  text = str(jax.make_jaxpr(lambda i, x: lax.switch(
      i, [lambda x: x + 1.0, lambda x: x * 2.0, jnp.sin], x))(1, 1.0))
  assert "d:i32[] = clamp 0:i32[] c 2:i32[]" in text
  assert "{ lambda ; j:f32[]. let k:f32[] = sin j in (k,) }" in text


# ---------------------------------------------------------------------------------------
# associative_scan

def test_associative_scan():
  x = np.arange(1.0, 8.0, dtype=np.float32)
  close(lax.associative_scan(jnp.add, x), np.cumsum(x))
  close(lax.associative_scan(jnp.add, x, reverse=True), np.cumsum(x[::-1])[::-1])
  close(lax.associative_scan(jnp.multiply, x), np.cumprod(x))
  m = np.random.default_rng(1).normal(size=(3, 5)).astype(np.float32)
  close(lax.associative_scan(jnp.maximum, m, axis=1), np.maximum.accumulate(m, axis=1))
  # pytree elements: an affine recurrence h = a * h + b as (a, b) pairs
  a = np.random.default_rng(2).uniform(0.5, 1.0, 6).astype(np.float32)
  b = np.random.default_rng(3).normal(size=6).astype(np.float32)

  def comb(l, r):
    return (l[0] * r[0], r[0] * l[1] + r[1])
  _, hs = lax.associative_scan(comb, (a, b))
  h, ref = 0.0, []
  for ai, bi in zip(a, b):
    h = ai * h + bi
    ref.append(h)
  close(hs, ref, 1e-5)
  close(jax.jit(lambda x: lax.associative_scan(jnp.add, x))(x), np.cumsum(x))
  with pytest.raises(ValueError, match="must have the same first dimension"):
    lax.associative_scan(lambda a, b: a, (jnp.ones(3), jnp.ones(4)))


# ---------------------------------------------------------------------------------------
# nesting, jit, disable_jit

def test_nested_loops():
  def f(x):
    def outer(i, c):
      inner = lax.scan(lambda s, y: (s + y * c, s), 0.0, jnp.arange(3.0))[0]
      return lax.cond(i % 2 == 0, lambda v: v + inner, lambda v: v - 1.0, c)
    return lax.while_loop(lambda c: c < 100.0, lambda c: lax.fori_loop(0, 3, outer, c), x)

  def py(x):
    while x < 100.0:
      for i in range(3):
        inner = sum(k * x for k in range(3))
        x = x + inner if i % 2 == 0 else x - 1.0
    return x
  close(f(1.0), py(1.0))
  close(jax.jit(f)(1.0), py(1.0))


def test_disable_jit_runs_python_control_flow():
  with jax.disable_jit():
    assert float(lax.while_loop(lambda c: c < 5, lambda c: c + 1, 0)) == 5
    c, ys = lax.scan(lambda c, x: (c + x, c), 0.0, jnp.arange(3.0))
    assert float(c) == 3.0
    close(ys, [0.0, 0.0, 1.0])
    assert float(lax.cond(True, lambda: 1.0, lambda: 2.0)) == 1.0
    assert float(lax.fori_loop(0, 4, lambda i, c: c + i, 0)) == 6


def test_loop_body_compiled_once_per_jaxpr():
  # the eager NumPy-tier loop is generated code over NumPy buffers
  from numjax._src.lax.control_flow import codegen
  jaxpr = jax.make_jaxpr(lambda x: lax.fori_loop(0, 10, lambda i, c: c * 0.5 + 1.0, x))(1.0)
  eqn = jaxpr.eqns[0]
  fn = codegen.scan_fn(eqn.params["jaxpr"], num_consts=eqn.params["num_consts"],
                       num_carry=eqn.params["num_carry"], length=10, reverse=False)
  assert fn is codegen.scan_fn(eqn.params["jaxpr"], num_consts=eqn.params["num_consts"],
                               num_carry=eqn.params["num_carry"], length=10, reverse=False)
  assert "for it in range(10)" in fn.__source__


def test_loop_codegen_counters_wrap_and_shared_expressions():
  # an int carry stepped by a constant is advanced after the loop in one step; int32
  # wrap-around must match step-by-step arithmetic
  def f(c, _):
    i, k, x = c
    return (i + 3, k + i, x * 2.0 + 1.0), None
  init = (jnp.int32(2 ** 31 - 5), jnp.int32(0), jnp.float32(1.0))
  (i, k, x), _ = lax.scan(f, init, None, length=4)
  ri, rk, rx = np.int32(2 ** 31 - 5), np.int32(0), np.float32(1.0)
  with np.errstate(over="ignore"):
    for _ in range(4):
      ri, rk, rx = ri + np.int32(3), rk + ri, rx * np.float32(2.0) + np.float32(1.0)
  assert int(i) == int(ri) and int(k) == int(rk) and float(x) == float(rx)
  # a value used twice is computed once; carries swapping places
  (a, b), _ = lax.scan(lambda c, _: ((c[1] * c[1], c[0] + c[1] * c[1]), None),
                       (1.0, 2.0), None, length=3)
  ra, rb = 1.0, 2.0
  for _ in range(3):
    ra, rb = rb * rb, ra + rb * rb
  assert (float(a), float(b)) == (ra, rb)
