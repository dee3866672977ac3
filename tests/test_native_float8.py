"""float8 on the native tier: bits in uint8, computed in float, rounded after every operation.

The conversions are checked bit for bit against ml_dtypes (what JAX and the NumPy tier use):
all 256 bit patterns to float32, and float32 to float8 for every float16 and every bfloat16
value, each format's rounding boundaries and random bit patterns. Elementwise programs in
each format are then compared with the NumPy tier, which computes through ml_dtypes' loops.
"""
from __future__ import annotations

import warnings

import ml_dtypes
import numpy as np
import pytest

import numjax
import numjax.numpy as jnp
from numjax import lax
from numjax._src import compiler
from numjax._src.compiler import native
from numjax.experimental import enable_x64

pytestmark = pytest.mark.skipif(not native.backend.available(), reason="no C compiler")

F8 = ["float8_e3m4", "float8_e4m3", "float8_e5m2", "float8_e4m3fn", "float8_e4m3fnuz",
      "float8_e4m3b11fnuz", "float8_e5m2fnuz", "float8_e8m0fnu"]
F8 = [n for n in F8 if hasattr(jnp, n)]


def _dt(name):
  return np.dtype(getattr(jnp, name))


def _all_bits(name):
  return np.arange(256, dtype=np.uint8).view(_dt(name))


def _boundaries(name):
  """float32 values where float32 -> name must decide: each finite value, the midpoints
  between neighbours (ties), one float32 ulp either side of them, half an ulp above the
  maximum, below the smallest subnormal, and the specials."""
  v = _all_bits(name).astype(np.float32)
  v = np.unique(v[np.isfinite(v)]).astype(np.float64)
  mid = (v[1:] + v[:-1]) / 2                                      # exact in float32
  top = v[-1] + (v[-1] - v[-2]) / 2                               # half an ulp above max
  low = v[v > 0][0] / 2
  pts = np.concatenate([v, mid, [top, low, -top, -low]]).astype(np.float32)
  near = np.concatenate([pts, np.nextafter(pts, np.float32(np.inf)),
                         np.nextafter(pts, np.float32(-np.inf))])
  nan_bits = np.array([0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fbfffff],
                      np.uint32).view(np.float32)
  specials = np.array([np.inf, -np.inf, 0.0, -0.0, 3.4028235e38, -3.4028235e38, 1e-45,
                       -1e-45, 1.1754942e-38, 5.877472e-39, 5.8774724e-39, 8.816208e-39],
                      np.float32)
  return np.concatenate([near, nan_bits, specials])


def _dense_f32():
  h = np.arange(1 << 16, dtype=np.uint16).view(np.float16).astype(np.float32)
  b = (np.arange(1 << 16, dtype=np.uint32) << 16).view(np.float32)      # every bfloat16
  r = np.random.default_rng(0).integers(0, 1 << 32, 100_000, dtype=np.uint32).view(np.float32)
  return np.concatenate([h, b, r])


def _native_and_numpy(fn, *args):
  with numjax.config._override("numjax_tier", "native"):
    cn = numjax.jit(fn).lower(*args).compile()
  with numjax.config._override("numjax_tier", "numpy"):
    cp = numjax.jit(fn).lower(*args).compile()
  return cn, cp


def _all_native(cn):
  """Every equation of the program ran in C (no NumPy-tier step between kernels)."""
  assert cn._exe.tier == "native"
  src = compiler.native_backend().source(cn._exe.native_fn)
  assert "_Q()" not in src, src[src.index("/* driver:"):]


def _same(x, y):
  """Equal bit for bit, where a NaN may be any NaN of the same format."""
  x, y = np.atleast_1d(np.asarray(x)), np.atleast_1d(np.asarray(y))
  assert x.dtype == y.dtype and x.shape == y.shape, (x.dtype, y.dtype, x.shape, y.shape)
  if x.dtype.kind in "biu":
    np.testing.assert_array_equal(x, y)
    return
  xb, yb = x.view(f"u{x.dtype.itemsize}"), y.view(f"u{y.dtype.itemsize}")
  nan = np.isnan(x.astype(np.float32)) & np.isnan(y.astype(np.float32))
  bad = np.nonzero((xb != yb) & ~nan)[0]
  assert bad.size == 0, (x.dtype, bad[:8], x[bad[:8]], y[bad[:8]])


# ---------------------------------------------------------------------------------------
# conversions, bit-exact against ml_dtypes

def _conversion_programs():
  out = {}
  dense = _dense_f32()
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    with native.deferred():
      for name in F8:
        dt = _dt(name)
        src = np.concatenate([dense, _boundaries(name)])
        x8 = jnp.asarray(_all_bits(name))
        widen = _native_and_numpy(lambda a: (a.astype(jnp.float32), a.astype(jnp.bfloat16),
                                             a.astype(jnp.float16)), x8)
        narrow = _native_and_numpy(lambda a, dt=dt: a.astype(dt), jnp.asarray(src))
        out[name] = (x8, widen, jnp.asarray(src), narrow)
  return out


@pytest.fixture(scope="module")
def conversions():
  return _conversion_programs()


@pytest.mark.parametrize("name", F8)
def test_float8_to_float_all_256_bit_patterns(conversions, name):
  x8, (cn, _), _, _ = conversions[name]
  _all_native(cn)
  f32, bf16, f16 = (np.asarray(o) for o in cn(x8))
  ref = np.asarray(x8).astype(np.float32)
  np.testing.assert_array_equal(f32.view(np.uint32), ref.view(np.uint32))
  with np.errstate(all="ignore"):
    np.testing.assert_array_equal(bf16.view(np.uint16),
                                  ref.astype(ml_dtypes.bfloat16).view(np.uint16))
    np.testing.assert_array_equal(f16.view(np.uint16), ref.astype(np.float16).view(np.uint16))


@pytest.mark.parametrize("name", F8)
def test_float_to_float8_bit_exact(conversions, name):
  _, _, src, (cn, cp) = conversions[name]
  _all_native(cn)
  got = np.asarray(cn(src))
  with np.errstate(all="ignore"):
    ref = np.asarray(src).astype(_dt(name))
  assert got.dtype == _dt(name)
  assert src.size > 2 * 65536 + 100_000
  bad = np.nonzero(got.view(np.uint8) != ref.view(np.uint8))[0]
  assert bad.size == 0, [(float(np.asarray(src)[i]), hex(got.view(np.uint8)[i]),
                          hex(ref.view(np.uint8)[i])) for i in bad[:8]]
  np.testing.assert_array_equal(np.asarray(cp(src)).view(np.uint8), ref.view(np.uint8))


def test_float8_conversion_specials_follow_each_format():
  # spot checks of the rules the exhaustive comparison covers, from the formats' definitions
  specials = np.array([np.inf, -np.inf, np.nan, -0.0, 1e6], np.float32)
  want = {"float8_e5m2": [0x7c, 0xfc, 0x7e, 0x80, 0x7c],          # inf, quiet NaN, -0
          "float8_e4m3fn": [0x7f, 0xff, 0x7f, 0x80, 0x7f],        # no inf: NaN
          "float8_e4m3fnuz": [0x80, 0x80, 0x80, 0x00, 0x80],      # one NaN, no -0
          "float8_e8m0fnu": [0xff, 0xff, 0xff, 0xff, 0x93]}       # 1e6 -> 2^20
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for name, bits in want.items():
      if name not in F8:
        continue
      cn, _ = _native_and_numpy(lambda a, dt=_dt(name): a.astype(dt), jnp.asarray(specials))
      _all_native(cn)
      assert list(np.asarray(cn(jnp.asarray(specials))).view(np.uint8)) == bits, name


def test_float64_and_int_to_float8_go_through_float32_as_ml_dtypes():
  # ml_dtypes converts float64 and integers to float32 first (a double rounding); the
  # native tier does the same, so both tiers agree with astype
  d = np.array([1 + 2.0 ** -4 + 2.0 ** -40, 1 + 2.0 ** -4, 1e-300, -1e-300, 3e38, 1e39,
                1.5 * 2.0 ** -127 * (1 - 2.0 ** -40), 240.00001, 448.5],
               np.float64)
  i = np.array([0, 1, -3, 447, 449, 464, 465, 57344, 61440, 2**24 + 1, 3 * 2**22 - 1,
                -(2**31)], np.int32)
  with enable_x64(), warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for name in F8:
      dt = _dt(name)
      for src in (d, i, i.astype(np.int64)):
        cn, _ = _native_and_numpy(lambda a, dt=dt: a.astype(dt), jnp.asarray(src))
        _all_native(cn)
        got = np.asarray(cn(jnp.asarray(src)))
        with np.errstate(all="ignore"):
          np.testing.assert_array_equal(got.view(np.uint8), src.astype(dt).view(np.uint8),
                                        err_msg=f"{src.dtype} -> {name}")


# ---------------------------------------------------------------------------------------
# elementwise programs against the NumPy tier

def _elementwise(x, y, f, b, i):
  dt = x.dtype
  other = jnp.float8_e5m2 if dt != jnp.float8_e5m2 else jnp.float8_e4m3fn
  if dt == jnp.float8_e8m0fnu:
    other = jnp.bfloat16   # ml_dtypes (the NumPy tier) has no e8m0 <-> float8 casts
  return (x + y, x * y, x - y, x / y, jnp.exp(x), jnp.tanh(y), -x, jnp.abs(x),
          jnp.sqrt(x), x * 2 + 1, x < y, x == y, x >= y, x != y, jnp.isfinite(x),
          jnp.where(x > y, x, y), lax.select(x < y, y, x * y), jnp.maximum(x, y),
          jnp.minimum(x, y), x.astype(jnp.float32), x.astype(jnp.bfloat16),
          x.astype(jnp.float16), x.astype(jnp.int32), x.astype(jnp.uint8),
          x.astype(jnp.bool_), x.astype(other), f.astype(dt), b.astype(dt), i.astype(dt),
          (f * 3).astype(dt) + x, jnp.max(x), jnp.min(y))


@pytest.fixture(scope="module")
def programs():
  rng = np.random.default_rng(1)
  f = jnp.asarray(np.concatenate([rng.standard_normal(200) * 50,
                                  rng.standard_normal(56) * 1e-3]).astype(np.float32))
  b = f.astype(jnp.bfloat16) * 0.37
  i = jnp.asarray(rng.integers(-600, 600, 256).astype(np.int32))
  out = {}
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    with native.deferred():
      for name in F8:
        x = jnp.asarray(_all_bits(name))                          # every value of the format
        y = jnp.asarray(rng.permutation(_all_bits(name)))
        out[name] = (_native_and_numpy(_elementwise, x, y, f, b, i), (x, y, f, b, i))
  return out


@pytest.mark.parametrize("name", F8)
def test_float8_elementwise_matches_numpy_tier(programs, name):
  (cn, cp), args = programs[name]
  _all_native(cn)
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")   # NumPy's own (inf * 0, ...) from the NumPy tier
    got, ref = cn(*args), cp(*args)
  assert len(got) == len(ref)
  with np.errstate(all="ignore"):
    for k, (a, r) in enumerate(zip(got, ref)):
      try:
        _same(a, r)
      except AssertionError as e:
        raise AssertionError(f"output {k} of {name}: {e}") from None


def _structured(x, i):
  return (jnp.sum(x, 1), jnp.sum(x), jnp.mean(x, 0), jnp.max(x, 0), jnp.min(x, 1),
          jnp.argmax(x, 1), jnp.argmin(x, 0), jnp.cumsum(x, 1), lax.cummax(x, 0),
          lax.cummin(x, 1, reverse=True), jnp.cumprod(x[:, :4], 1), x[i], x[:, i],
          x.T[::2] * 2, x.at[i].add(x[0]), x.at[i].max(x[1]), x.at[:, i].set(x[:, 0:1]),
          jnp.concatenate([x, x[::-1]], 0).reshape(-1) + 1)


@pytest.fixture(scope="module")
def structured():
  rng = np.random.default_rng(2)
  out = {}
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    with native.deferred():
      for name in F8:
        v = rng.standard_normal((16, 24)) * 3
        if name == "float8_e8m0fnu":
          v = np.abs(v) + 0.01     # unsigned: negatives are NaN
        x = jnp.asarray(v.astype(np.float32)).astype(_dt(name))
        i = jnp.asarray(rng.integers(0, 16, 10).astype(np.int32))
        out[name] = (_native_and_numpy(_structured, x, i), (x, i))
  return out


@pytest.mark.parametrize("name", F8)
def test_float8_reductions_cumulative_gather_scatter_match_numpy_tier(structured, name):
  (cn, cp), args = structured[name]
  _all_native(cn)
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    got, ref = cn(*args), cp(*args)
  for k, (a, r) in enumerate(zip(got, ref)):
    try:
      _same(a, r)
    except AssertionError as e:
      raise AssertionError(f"output {k} of {name}: {e}") from None


@pytest.mark.parametrize("name", F8)
def test_float8_empty_max_min_are_jax_identities(name):
  # JAX: +-inf in the dtype, or +-finfo.max for the formats without inf (not NaN);
  # float8_e8m0fnu stores inf as NaN
  dt = _dt(name)
  fi = ml_dtypes.finfo(dt)
  has_inf = name not in ("float8_e4m3fn", "float8_e4m3fnuz", "float8_e4m3b11fnuz",
                         "float8_e5m2fnuz")
  big = np.inf if has_inf else float(fi.max)
  with np.errstate(all="ignore"):
    want_max = np.full(3, -big, np.float32).astype(dt)
    want_min = np.full(3, big, np.float32).astype(dt)
  z = jnp.zeros((0, 3), dt)
  for tier in ("native", "numpy"):
    with numjax.config._override("numjax_tier", tier):
      mx, mn = numjax.jit(lambda z: (lax.reduce_max(z, (0,)), lax.reduce_min(z, (0,))))(z)
    _same(mx, want_max)
    _same(mn, want_min)
  _same(lax.reduce_max(z, (0,)), want_max)
  x = jnp.asarray(np.array([[0.5, -3.0], [2.0, 0.25]], np.float32)).astype(dt)
  if name == "float8_e8m0fnu":
    return                        # the NaN identity makes every max/min NaN, as in JAX
  with numjax.config._override("numjax_tier", "native"):
    got = numjax.jit(lambda x: jnp.max(x, 0))(x)
  _same(got, np.asarray(x).astype(np.float32).max(0).astype(dt))
  _same(jnp.max(x, 0), np.asarray(x).astype(np.float32).max(0).astype(dt))


# ---------------------------------------------------------------------------------------
# complex cummax/cummin (not float8, but the same kind of check): lexicographic order, real
# part then imaginary (as JAX), NaN and ties as the NumPy tier (np.maximum/np.minimum)

def _complex_cases():
  rng = np.random.default_rng(5)
  # small integer parts: many equal real parts, so the imaginary part decides often
  z = (rng.integers(-3, 4, (6, 40, 5)) + 1j * rng.integers(-3, 4, (6, 40, 5))).astype(
      np.complex64)
  zeros = [complex(0.0, -0.0), complex(-0.0, 0.0), complex(-0.0, -0.0), complex(0.0, 0.0)]
  special = np.array(zeros + [1 + 2j, 1 + 1j, 3 - 1j, complex(np.nan, 0), 0 + 5j, 3 + 4j,
                      complex(2, np.nan), 3 + 4j, complex(0.0, -0.0), complex(-0.0, 0.0),
                      -1 - 1j, complex(np.inf, 1), complex(np.inf, -np.inf), 7 + 0j] + zeros,
                     np.complex64)
  big = (rng.standard_normal((300, 400)) + 1j * rng.integers(-2, 3, (300, 400))).astype(
      np.complex64)
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    with native.deferred():
      progs = {
          "axes": (lambda z: tuple(f(z, a, reverse=r) for f in (lax.cummax, lax.cummin)
                                   for a in (0, 1, 2) for r in (False, True)), z),
          "views": (lambda z: (lax.cummax(z[:, ::-1, 1:4], 1), lax.cummin(
              jnp.transpose(z, (2, 0, 1))[::2], 2, reverse=True)), z),
          "nan_ties_zeros": (lambda s: (lax.cummax(s, 0), lax.cummin(s, 0),
                                        lax.cummax(s, 0, reverse=True),
                                        lax.cummin(s, 0, reverse=True)), special),
          "parallel_rows": (lambda b: (lax.cummax(b, 1), lax.cummin(b, 0, reverse=True)),
                            big),
      }
      out = {}
      for name, (fn, x) in progs.items():
        xs = jnp.asarray(x)
        out[name] = (_native_and_numpy(fn, xs), xs)
      with enable_x64():
        z128 = jnp.asarray(z.astype(np.complex128))
        out["complex128"] = (_native_and_numpy(
            lambda z: (lax.cummax(z, 1), lax.cummin(z, 2, reverse=True)), z128), z128)
  return out


@pytest.fixture(scope="module")
def complex_cum():
  return _complex_cases()


@pytest.mark.parametrize("name", ["axes", "views", "nan_ties_zeros", "parallel_rows",
                                  "complex128"])
def test_complex_cummax_cummin_match_numpy_tier(complex_cum, name):
  (cn, cp), x = complex_cum[name]
  _all_native(cn)
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    got, ref = cn(x), cp(x)
  for a, r in zip(got, ref):
    a, r = np.ascontiguousarray(a).ravel(), np.ascontiguousarray(r).ravel()
    assert a.dtype == r.dtype and a.dtype.kind == "c"
    # bit for bit: the same element is chosen (signed zeros included)
    _same(a.view(f"f{a.dtype.itemsize // 2}"), r.view(f"f{r.dtype.itemsize // 2}"))


def test_complex_cummax_is_lexicographic():
  # independent of both tiers: a Python loop over the lexicographic order
  z = np.array([1 + 2j, 1 + 1j, 3 - 1j, 3 + 0j, 0 + 5j, 3 + 4j, 3 + 3j, 2 + 9j, 1 + 1j],
               np.complex64)
  with numjax.config._override("numjax_tier", "native"):
    f = numjax.jit(lambda z: (lax.cummax(z, 0), lax.cummin(z, 0, reverse=True)))
    mx, mn = (np.asarray(o) for o in f(jnp.asarray(z)))
  key = lambda c: (c.real, c.imag)
  want_mx = [max(z[:i + 1], key=key) for i in range(len(z))]
  want_mn = [min(z[i:], key=key) for i in range(len(z))]
  np.testing.assert_array_equal(mx, want_mx)
  np.testing.assert_array_equal(mn, want_mn)
