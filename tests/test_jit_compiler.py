"""The compiler: passes (inline, DCE, CSE, bounded constant folding, algebraic identities),
the NumPy-tier code generator (dtype fix-ups, buffer reuse that never clobbers a live or
shared buffer) and the tier seam for a native backend."""
import re
import time
import warnings

import numpy as np
import pytest

import numjax as jax
import numjax.numpy as jnp
from numjax import lax
from numjax._src import compiler, core
from numjax._src.compiler import numpy_tier, passes

f32 = np.float32
BIG = 4 * numpy_tier.INPLACE_MIN_ELEMENTS   # large enough for buffer reuse


def _prims(lowered):
  return [e.primitive.name for e in lowered.compiler_ir().jaxpr.eqns]


def _source(jitted, *args):
  """The generated NumPy-tier source after the first (guarded) call."""
  jitted(*args)
  jitted(*args)
  return next(iter(jitted._cache.values())).exe.as_text()


# ---------------------------------------------------------------------------------------
# passes, as seen in .lower().as_text()

def test_dce_removes_unused_work():
  f = jax.jit(lambda x: (jnp.sin(x), jnp.cos(x))[0])
  low = f.lower(jnp.ones(3))
  assert _prims(low) == ["sin"]
  assert "cos" not in low.as_text()


def test_cse_merges_identical_equations():
  f = jax.jit(lambda x: jnp.sin(x) * jnp.sin(x) + jnp.exp(x) / jnp.exp(x))
  assert _prims(f.lower(jnp.ones(3))) == ["sin", "mul", "exp", "div", "add"]
  x = np.linspace(0, 1, 3).astype(f32)
  np.testing.assert_allclose(f(x), np.sin(x) ** 2 + 1, rtol=1e-6)


def test_bounded_constant_folding():
  f = jax.jit(lambda x: x + jnp.arange(3.0) * 2 + jnp.sin(jnp.float32(1.0)))
  low = f.lower(jnp.ones(3))
  assert _prims(low) == ["add", "add"]          # iota, mul and sin were folded
  assert "iota" not in low.as_text()
  np.testing.assert_allclose(f(jnp.ones(3)), 1 + np.arange(3) * 2 + np.sin(1.0), rtol=1e-6)
  # large results are not folded into constants (bounded)
  g = jax.jit(lambda x: x + jnp.zeros((400, 400)))
  assert "broadcast_in_dim" in g.lower(1.0).as_text()


def test_algebraic_identities():
  f = jax.jit(lambda x: lax.sub(lax.add(lax.mul(x, 1.0), 0.0), 0.0))
  low = f.lower(jnp.ones(3))
  assert _prims(low) == []
  assert low.as_text() == "{ lambda ; a:f32[3]. let  in (a,) }"
  g = jax.jit(lambda x: lax.neg(lax.neg(jnp.reshape(x, (3,)))) * 2)
  assert _prims(g.lower(jnp.ones(3))) == ["mul"]
  # not applied when it would change the type: x + 0 for a weak x and a strong zero
  h = jax.jit(lambda x: lax.add(x, jnp.float32(0)))
  assert h(1.0).weak_type is False


def test_nested_jits_are_inlined():
  inner = jax.jit(lambda x: jnp.sin(x) * 2)
  f = jax.jit(lambda x: inner(x) + inner(x + 1))
  low = f.lower(jnp.ones(3))
  assert "jit" not in low.as_text()
  assert _prims(low).count("sin") == 2
  np.testing.assert_allclose(f(jnp.zeros(3)), 2 * np.sin(1.0) * np.ones(3), rtol=1e-6)


def test_effects_survive_every_pass(capsys):
  from numjax.experimental import io_callback
  seen = []

  def f(x):
    jax.debug.print("v={}", x * 0 + 1)  # foldable inputs, unused result: still printed
    io_callback(lambda a: seen.append(float(a)) or a, jax.ShapeDtypeStruct((), f32), x)
    jax.pure_callback(lambda a: seen.append("pure") or a, jax.ShapeDtypeStruct((), f32), x)
    return x
  jf = jax.jit(f)
  prims = _prims(jf.lower(2.0))
  assert "debug_print" in prims and "io_callback" in prims
  assert "pure_callback" not in prims  # pure and unused: removed, as JAX does
  jf(2.0)
  jf(2.0)
  assert capsys.readouterr().out == "v=1.0\nv=1.0\n"
  assert seen == [2.0, 2.0]


def test_optimize_pipeline_is_pure():
  closed = jax.make_jaxpr(lambda x: jnp.sin(x) + jnp.sin(x) * 1.0)(jnp.ones(2))
  before = str(closed)
  jaxpr, consts = passes.optimize(closed)
  assert str(closed) == before            # input jaxpr untouched
  assert len(jaxpr.eqns) == 2


# ---------------------------------------------------------------------------------------
# NumPy tier: code, fix-ups, buffer reuse

def test_generated_code_reuses_dead_temporaries():
  f = jax.jit(lambda x: jnp.exp(jnp.sin(x) * 2.0) + 1.0)
  x = jnp.asarray(np.linspace(0, 1, BIG, dtype=f32))
  src = _source(f, x)
  assert "out=t0" in src and "_ok(t0)" in src
  np.testing.assert_allclose(f(x), np.exp(np.sin(np.asarray(x)) * 2) + 1, rtol=1e-6)


def test_reuse_never_clobbers_views_inputs_or_constants():
  c = np.arange(BIG, dtype=f32)

  def f(x):
    t = jnp.exp(x)
    v = jnp.reshape(t, (BIG // 64, 64))   # a view of t's buffer, alive after t dies
    u = t * 2.0                           # t dies here: its buffer must NOT be reused
    w = v + 1.0
    y = x * 3.0                           # x is an input (not donated): never written
    z = y + c                             # a constant: never written
    return u, w, z
  jf = jax.jit(f)
  x = jnp.asarray(np.linspace(0, 1, BIG, dtype=f32))
  x_copy = np.array(x)
  for _ in range(3):
    u, w, z = jf(x)
    e = np.exp(x_copy)
    np.testing.assert_allclose(u, e * 2, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(w).ravel(), e + 1, rtol=1e-6)
    np.testing.assert_allclose(z, x_copy * 3 + c, rtol=1e-6)
    np.testing.assert_array_equal(x, x_copy)


def test_outputs_are_read_only_and_independent():
  f = jax.jit(lambda x: (x + 1.0, x + 1.0, x))
  x = jnp.ones(BIG)
  a, b, c = f(x)
  for o in (a, b, c):
    assert not np.asarray(o).flags.writeable
  a2, _, _ = f(x)
  np.testing.assert_array_equal(a, a2)


def test_in_place_dynamic_update_slice_on_a_dead_buffer():
  def f(x, u):
    y = x * 2.0                               # fresh buffer
    for i in range(3):
      y = lax.dynamic_update_slice(y, u, (i * 10,))
    return y
  jf = jax.jit(f)
  x = jnp.ones(BIG)
  u = jnp.zeros(5)
  src = _source(jf, x, u)
  assert src.count("_ok(") >= 3
  ref = np.full(BIG, 2.0, f32)
  for i in range(3):
    ref[i * 10:i * 10 + 5] = 0
  np.testing.assert_array_equal(jf(x, u), ref)
  np.testing.assert_array_equal(x, np.ones(BIG))


def test_seed_000_interleave_concat():
  @jax.jit
  def interleave_concat(t1, t2, t3):
    res = jnp.zeros((t1.shape[0] * 3, t1.shape[1]), dtype=jnp.int8)
    return res.at[0::3, :].set(t1).at[1::3, :].set(t2).at[2::3, :].set(t3)
  n, m = 2000, 8
  t = [jnp.asarray(np.full((n, m), k, np.int8)) for k in (1, 2, 3)]
  out = interleave_concat(*t)
  out = interleave_concat(*t)
  ref = np.zeros((3 * n, m), np.int8)
  ref[0::3], ref[1::3], ref[2::3] = 1, 2, 3
  np.testing.assert_array_equal(out, ref)
  # the 2nd and 3rd updates write into the dead result of the previous one (the first one
  # copies the zeros, which are a read-only broadcast): one copy instead of three
  exe = next(iter(interleave_concat._cache.values())).exe
  src = exe.as_text()
  assert re.search(r"t1 = I\d+\(t0, ", src) and re.search(r"t2 = I\d+\(t1, ", src)
  # and at run time both checks pass: the in-place kernels (not the copying ones) run
  g = exe.fn.__globals__
  names = [k for k in g if re.fullmatch(r"I\d+", k)]
  calls, saved = [], {k: g[k] for k in names}
  for k in names:
    g[k] = (lambda f, k: lambda *a: calls.append(k) or f(*a))(saved[k], k)
  try:
    np.testing.assert_array_equal(interleave_concat(*t), ref)
  finally:
    g.update(saved)
  assert len(calls) == 2


def test_dtype_fixups_are_recorded_on_the_first_call():
  f = jax.jit(lambda x: jnp.sum(x) + 1)
  x = jnp.arange(5, dtype=jnp.int32)
  out = f(x)
  assert out.dtype == np.int32 and int(out) == 11
  src = next(iter(f._cache.values())).exe.as_text()
  assert "_fix(" in src and "_needed" not in src   # the precise code after the first call
  assert f(x).dtype == np.int32


def test_thousand_equation_function_runs_and_matches_eager():
  def f(x):
    for i in range(333):
      x = lax.sin(x)
      x = lax.mul(x, f32(1.001))
      x = lax.add(x, f32(0.5))
    return x
  x = jnp.asarray(np.linspace(-1, 1, 8, dtype=f32))
  jf = jax.jit(f)
  assert len(jf.lower(x).compiler_ir().jaxpr.eqns) == 999
  np.testing.assert_allclose(jf(x), f(x), rtol=1e-5)
  np.testing.assert_allclose(jf(x), f(x), rtol=1e-5)


def test_compile_jaxpr_numpy_runs_on_buffers():
  closed = jax.make_jaxpr(lambda x, y: (x * y, x - y))(jnp.ones(3), jnp.ones(3))
  exe = compiler.compile_jaxpr_numpy(closed)
  assert compiler.compile_jaxpr_numpy(closed) is exe
  for _ in range(2):
    a, b = exe(np.full(3, 2.0, f32), np.full(3, 3.0, f32))
    assert type(a) is np.ndarray
    np.testing.assert_array_equal(a, [6, 6, 6])
    np.testing.assert_array_equal(b, [-1, -1, -1])


# ---------------------------------------------------------------------------------------
# the tier seam

class _FakeNative(compiler.Backend):
  name = "native"

  def __init__(self, decline=False, fail=False):
    self.decline, self.fail, self.compiled = decline, fail, []

  def compile(self, jaxpr, consts, *, name, donated):
    if self.fail:
      raise RuntimeError("no compiler today")
    if self.decline:
      return None
    self.compiled.append(name)

    def run(*bufs):
      from numjax._src.array import _make
      with core.new_base_main():
        outs = core.eval_jaxpr(jaxpr, [c for c in consts], *[_make(b) for b in bufs])
      return [np.asarray(o) for o in outs]
    run.source = f"// native code for {name}"
    return run


@pytest.fixture
def fake_native():
  backends = dict(compiler._backends)
  old_tier = jax.config.numjax_tier
  yield
  compiler._backends.clear()
  compiler._backends.update(backends)
  jax.config.update("numjax_tier", old_tier)


def test_native_tier_synchronous(fake_native):
  b = _FakeNative()
  compiler.register_backend("native", b)
  jax.config.update("numjax_tier", "native")
  f = jax.jit(lambda x: x * 2 + 1)
  np.testing.assert_array_equal(f(jnp.ones(3)), [3, 3, 3])
  exe = next(iter(f._cache.values())).exe
  assert exe.tier == "native" and b.compiled
  assert exe.as_text() == "// native code for <lambda>"
  np.testing.assert_array_equal(f(jnp.ones(3)), [3, 3, 3])


def test_auto_tier_switches_in_the_background(fake_native):
  b = _FakeNative()
  compiler.register_backend("native", b)
  jax.config.update("numjax_tier", "auto")
  f = jax.jit(lambda x: x - 1)
  np.testing.assert_array_equal(f(jnp.ones(2)), [0, 0])   # answered by the NumPy tier
  exe = next(iter(f._cache.values())).exe
  deadline = time.time() + 10
  while exe.tier != "native" and time.time() < deadline:
    time.sleep(0.01)
  assert exe.tier == "native"
  out = f(jnp.ones(2))
  np.testing.assert_array_equal(out, [0, 0])
  assert out.dtype == f32 and not out.weak_type


def test_native_decline_or_failure_keeps_the_numpy_tier(fake_native):
  jax.config.update("numjax_tier", "native")
  compiler.register_backend("native", _FakeNative(decline=True))
  f = jax.jit(lambda x: x + 1)
  f(1.0)
  assert next(iter(f._cache.values())).exe.tier == "numpy"
  compiler.register_backend("native", _FakeNative(fail=True))
  g = jax.jit(lambda x: x + 2)
  with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    assert float(g(1.0)) == 3.0
  assert any("native compilation" in str(x.message) for x in w)
  assert next(iter(g._cache.values())).exe.tier == "numpy"


def test_transposed_dot_is_computed_row_major():
  def f(a, b):
    return jnp.transpose(jnp.dot(a.T, b)) - 1.0     # as grad produces for weight updates
  jf = jax.jit(f)
  low = jf.lower(jnp.ones((5, 3)), jnp.ones((5, 4)))
  # only the operand's a.T remains (a view); the result comes out of the dot directly
  assert _prims(low) == ["transpose", "dot_general", "sub"]
  a = np.random.default_rng(0).standard_normal((5, 3)).astype(f32)
  b = np.random.default_rng(1).standard_normal((5, 4)).astype(f32)
  out = jf(a, b)
  np.testing.assert_allclose(out, (a.T @ b).T - 1, rtol=1e-5, atol=1e-6)
  assert np.asarray(out).flags.c_contiguous


def test_custom_derivative_and_remat_calls_are_inlined():
  @jax.custom_jvp
  def f(x):
    return jnp.sin(x)
  f.defjvp(lambda p, t: (f(p[0]), jnp.cos(p[0]) * t[0]))
  g = lambda x: jax.checkpoint(lambda y: f(y) * 2)(x)
  jg = jax.jit(g)
  assert _prims(jg.lower(1.0)) == ["sin", "mul"]
  np.testing.assert_allclose(jg(1.0), 2 * np.sin(1.0), rtol=1e-6)
  np.testing.assert_allclose(jax.jit(jax.grad(g))(1.0), 2 * np.cos(1.0), rtol=1e-6)


def test_debug_nans_names_the_primitive_and_line():
  def f(x):
    y = jnp.log(x)  # <- nan here
    return y * 2
  jf = jax.jit(f)
  jax.config.update("jax_debug_nans", True)
  try:
    assert float(jf(1.0)) == 0.0
    with pytest.raises(FloatingPointError, match="invalid value \\(nan\\) encountered in log") \
        as info:
      jf(-1.0)
    import inspect
    lines, start = inspect.getsourcelines(f)
    line = start + next(i for i, l in enumerate(lines) if "<- nan here" in l)
    assert f"{__file__}:{line}" in str(info.value)
  finally:
    jax.config.update("jax_debug_nans", False)
  assert np.isnan(jf(-1.0))   # flag off: another cache entry, no checks


def test_in_place_kernels_stay_quiet_like_jax():
  f = jax.jit(lambda x: jnp.log(x * 2.0 - 1.0) + 1.0)
  x = jnp.asarray(np.linspace(0, 1, BIG, dtype=f32))
  src = _source(f, x)
  assert "with _quiet:" in src
  with warnings.catch_warnings():
    warnings.simplefilter("error")      # NumPy would warn on log(<0); JAX never does
    out = np.asarray(f(x))
  with np.errstate(all="ignore"):
    ref = np.log(np.asarray(x, np.float64) * 2 - 1) + 1
  ok = np.isfinite(ref)
  np.testing.assert_allclose(out[ok], ref[ok], rtol=1e-5, atol=1e-5)
  assert np.isnan(out[:BIG // 4]).all()


# ---------------------------------------------------------------------------------------
# division by a broadcast value: XLA (and so JAX's jit) multiplies by the reciprocal

@pytest.mark.parametrize("tier", ["numpy", "native"])
def test_division_by_broadcast_is_multiplication_by_reciprocal(tier):
  rng = np.random.default_rng(3)
  a = rng.standard_normal((64, 33)).astype(f32)
  b = (rng.standard_normal(64) + 3).astype(f32)
  one = f32(1)
  cases = [  # (function, what XLA computes: reciprocal first, rounded to float32)
      (lambda a, b: a / b[:, None], a * (one / b)[:, None]),
      (lambda a, b: a / b[None, :33], a * (one / b[:33])[None, :]),
      (lambda a, b: a / b[0], a * (one / b[0])),
      (lambda a, b: a / 3.0, a * (one / f32(3))),
  ]
  with jax.config._override("numjax_tier", tier):
    for fn, want in cases:
      got = np.asarray(jax.jit(fn)(a, b))
      assert got.dtype == np.float32
      np.testing.assert_array_equal(got, want)
      assert not np.array_equal(want, fn(a, b))   # the case does tell the two apart
    # a full-size divisor is a true division; integers keep integer division
    np.testing.assert_array_equal(np.asarray(jax.jit(lambda a: a / (a + 5))(a)), a / (a + 5))
    ia = np.arange(-20, 20, dtype=np.int32).reshape(4, 10)
    ib = np.array([3, -7, 2, 5], np.int32)
    got = np.asarray(jax.jit(lambda x, y: lax.div(x, y[:, None] * jnp.ones((1, 10), jnp.int32)))(ia, ib))
    np.testing.assert_array_equal(got, np.trunc(ia / ib[:, None]).astype(np.int32))
  # eager division stays exact (as in JAX, where each op runs on its own)
  np.testing.assert_array_equal(np.asarray(jnp.asarray(a) / jnp.asarray(b)[:, None]), a / b[:, None])


def test_multiplying_by_broadcast_ones_and_adding_broadcast_zeros_is_dropped():
  """A gradient's seed (sum's cotangent: ones) multiplies the next cotangent; a scatter-add's
  operand is zeros. x * ones and x + zeros are x, whether the ones/zeros are a broadcast
  literal or a folded constant array."""
  big = 1 << 17    # past constant folding: a broadcast
  for n in (64, big):
    x = jnp.asarray(np.random.default_rng(0).standard_normal(n).astype(f32))
    f = jax.jit(lambda x: jax.grad(lambda x: jnp.sum(x * 3.0))(x) + x * jnp.ones_like(x))
    low = f.lower(x)
    prims = _prims(low)
    assert prims.count("mul") <= 1, prims          # only 3.0 * ..., no * ones
    np.testing.assert_allclose(np.asarray(f(x)), 3.0 + np.asarray(x), rtol=1e-6)
  g = jax.jit(lambda x: x * jnp.full_like(x, 2.0) + jnp.zeros_like(x))
  assert "mul" in _prims(g.lower(jnp.ones(8)))     # a splat that is not 1 stays
  np.testing.assert_array_equal(np.asarray(g(jnp.arange(8.0))), 2 * np.arange(8.0, dtype=f32))
