"""Native gather / scatter / cumulative steps (numjax/_src/compiler/native/indexing.py).

Every case is jitted on the native tier and on the NumPy tier; the native executable must
be native, must run these primitives in C (no NumPy step left in its driver) and must give
the NumPy tier's results (bitwise where the arithmetic is the same sequence of roundings).
All programs compile in one deferred batch (a few compiler runs).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import numjax
import numjax.numpy as jnp
from numjax import lax
from numjax._src.compiler import native

pytestmark = pytest.mark.skipif(not native.backend.available(), reason="no C compiler")

GDN = lax.GatherDimensionNumbers
SDN = lax.ScatterDimensionNumbers
_rng = np.random.default_rng(0)
CASES = {}       # name -> (fn, args, exact, host_ok)


def case(name, fn, *args, exact=True, host_ok=()):
  CASES[name] = (fn, args, exact, tuple(host_ok))


def _data(shape, dtype):
  dt = np.dtype(dtype)
  if dt == np.bool_:
    return jnp.asarray(_rng.random(shape) > 0.5)
  if dt.kind in "iu":
    info = np.iinfo(dt)
    return jnp.asarray(_rng.integers(max(info.min, -100), min(info.max, 100), shape).astype(dt))
  if dt.kind == "c":
    return jnp.asarray((_rng.standard_normal(shape) + 1j * _rng.standard_normal(shape)).astype(dt))
  return jnp.asarray(_rng.standard_normal(shape).astype(np.float32)).astype(dtype)


# ---- gather -------------------------------------------------------------------------------
_DTYPES = ["float32", "int8", "uint16", "int32", "bool", "float16", "bfloat16",
           "complex64"]
for _dt in _DTYPES:
  _x = _data((20, 7), _dt)
  _i = jnp.asarray(_rng.integers(-25, 25, (13,)).astype(np.int32))
  case(f"take_rows_{_dt}", lambda x, i: x[i], _x, _i)
  for _mode in ("clip", "fill", "promise_in_bounds"):
    case(f"rows_{_mode}_{_dt}",
         lambda x, i, m=_mode: lax.gather(x, i[:, None], GDN((1,), (0,), (0,)), (1, 7), mode=m),
         _x, _i)

for _idt in ("int8", "int16", "int64", "uint8", "uint32"):
  _x = _data((30, 5), "float32")
  _i = jnp.asarray(_rng.integers(0, 40, (11, 1)).astype(_idt))
  case(f"index_dtype_{_idt}", lambda x, i: (
      lax.gather(x, i, GDN((1,), (0,), (0,)), (1, 5), mode="fill"),
      lax.gather(x, i, GDN((1,), (0,), (0,)), (1, 5), mode="clip")), _x, _i)

_x3 = _data((6, 9, 4), "float32")
# windows over several dims, index vectors of length 2, out-of-bounds starts
_iw = jnp.asarray(np.array([[0, 0], [5, 7], [3, 6], [-2, 1], [4, 3], [9, -9]], np.int32))
for _mode in ("clip", "fill"):
  case(f"windows_{_mode}", lambda x, i, m=_mode: lax.gather(
      x, i, GDN(offset_dims=(1, 2, 3), collapsed_slice_dims=(), start_index_map=(0, 1)),
      (2, 3, 4), mode=m), _x3, _iw)
  case(f"point_pairs_{_mode}", lambda x, i, m=_mode: lax.gather(
      x, i, GDN(offset_dims=(1,), collapsed_slice_dims=(0, 1), start_index_map=(0, 1)),
      (1, 1, 4), mode=m, fill_value=-7.0), _x3, _iw)
  # offset dims in front of the batch dims, start_index_map out of order
  case(f"offset_first_{_mode}", lambda x, i, m=_mode: lax.gather(
      x, i, GDN(offset_dims=(0, 1), collapsed_slice_dims=(1,), start_index_map=(1, 0)),
      (3, 1, 2), mode=m), _x3, _iw)
# columns: x[:, idx] and a 2-D batch of indices
_xc = _data((8, 40), "float32")
_ic = jnp.asarray(_rng.integers(-40, 40, (3, 5)).astype(np.int32))
case("take_columns", lambda x, i: x[:, i], _xc, _ic)
case("take_along", lambda x, i: jnp.take_along_axis(x[:, :5], jnp.abs(i[:2]) % 8, axis=0),
     _xc, _ic)
# operand / start-indices batching dims
_xb = _data((4, 10, 3), "float32")
_ib = jnp.asarray(_rng.integers(-2, 12, (6, 4, 1)).astype(np.int32))
for _mode in ("clip", "fill"):
  case(f"batching_{_mode}", lambda x, i, m=_mode: lax.gather(
      x, i, GDN(offset_dims=(2,), collapsed_slice_dims=(1,), start_index_map=(1,),
                operand_batching_dims=(0,), start_indices_batching_dims=(1,)),
      (1, 1, 3), mode=m), _xb, _ib)
# a strided operand view (transpose / slice / reverse feed the gather without a copy)
case("view_operand", lambda x, i: x.T[::-1][i % 40], _xc, _ic)
case("big_embedding", lambda x, i: x[i],
     _data((500, 64), "float32"), jnp.asarray(_rng.integers(0, 500, (3000,)).astype(np.int32)))
case("gather_then_fused", lambda x, i: jnp.tanh(x[i] * 2.0).sum(axis=1), _xc[:, :6],
     jnp.asarray(_rng.integers(0, 8, (50,)).astype(np.int32)), exact=False)

# ---- scatter ------------------------------------------------------------------------------
_SOPS = {"set": "set", "add": "add", "mul": "multiply", "min": "min", "max": "max"}
for _dt in ["float32", "int8", "uint8", "int32", "bool", "float16", "bfloat16",
            "complex64"]:
  _x = _data((12, 5), _dt)
  _u = _data((9, 5), _dt)
  _i = jnp.asarray(np.array([3, 3, -1, 11, 15, 0, 3, -20, 7], np.int32))   # dups, OOB
  for _op, _meth in _SOPS.items():
    if (np.dtype(_dt).kind == "c" and _op in ("min", "max")) or (_dt == "bool" and _op != "set"):
      continue
    for _mode in ("clip", "drop", "promise_in_bounds"):
      case(f"scatter_{_op}_{_mode}_{_dt}",
           lambda x, i, u, m=_meth, mode=_mode: getattr(x.at[i], m)(u, mode=mode), _x, _i, _u)
_xs = _data((7, 8, 3), "float32")
_is = jnp.asarray(np.array([[0, 0], [5, 6], [2, 7], [-1, 2], [6, 1]], np.int32))
_us = _data((5, 2, 3), "float32")
for _mode in ("clip", "fill"):
  case(f"scatter_windows_{_mode}", lambda x, i, u, m=_mode: lax.scatter_add(
      x, i, u, SDN(update_window_dims=(1, 2), inserted_window_dims=(0,),
                   scatter_dims_to_operand_dims=(0, 1)), mode=m), _xs, _is, _us)
  case(f"scatter_batching_{_mode}", lambda x, i, u, m=_mode: lax.scatter(
      x, i, u, SDN(update_window_dims=(2,), inserted_window_dims=(1,),
                   scatter_dims_to_operand_dims=(1,), operand_batching_dims=(0,),
                   scatter_indices_batching_dims=(1,)), mode=m),
      _data((4, 10, 3), "float32"), jnp.asarray(_rng.integers(-2, 12, (6, 4, 1)).astype(np.int32)),
      _data((6, 4, 3), "float32"))
case("scatter_sub", lambda x, i, u: lax.scatter_sub(
    x, i[:, None], u, SDN((1,), (0,), (0,))), _data((12, 5), "int32"),
     jnp.asarray(np.array([1, 1, 4, 30], np.int32)), _data((4, 5), "int32"))
# the gradient of an embedding lookup: a large scatter-add (parallel by row ownership)
_emb = _data((300, 32), "float32")
_eidx = jnp.asarray(_rng.integers(0, 300, (5000,)).astype(np.int32))
case("embedding_grad", lambda e, i: numjax.grad(lambda e: jnp.sum(jnp.sin(e[i])))(e), _emb, _eidx,
     exact=False)   # cos is the native tier's own (not NumPy's) to an ulp
case("scatter_big_set", lambda e, i: e.at[i].set(e[i] * 2.0 - 1.0), _emb, _eidx)
case("histogram", lambda i: jnp.zeros(300, jnp.int32).at[i].add(1), _eidx)

# ---- cumulative ---------------------------------------------------------------------------
_CUM = {"cumsum": lax.cumsum, "cumprod": lax.cumprod, "cummax": lax.cummax,
        "cummin": lax.cummin, "cumlogsumexp": lax.cumlogsumexp}
for _dt in ["float32", "int8", "uint16", "int32", "float16", "bfloat16", "complex64"]:
  _x = _data((5, 6, 7), _dt)
  if np.dtype(_dt).kind in "fc" or _dt in ("float16", "bfloat16"):
    _x = _x * 0.5 if _dt != "complex64" else _x * 0.3
  for _name, _f in _CUM.items():
    k = np.dtype(_dt).kind
    if _name == "cumlogsumexp" and k not in "f" and _dt not in ("float16", "bfloat16"):
      continue
    if _name in ("cummax", "cummin") and k == "c":
      continue
    exact = _name != "cumlogsumexp" and not (k == "c" and _name == "cumprod")
    for _ax in (0, 1, 2):
      case(f"{_name}_{_dt}_ax{_ax}", lambda x, f=_f, a=_ax: (f(x, a), f(x, a, reverse=True)),
           _x, exact=exact)
# strided inputs: transposed, reversed (negative strides), sliced; jnp.cumsum of bool/ints
_xv = _data((9, 33), "float32")
case("cum_views", lambda x: (lax.cumsum(x.T, 0, reverse=True), lax.cumsum(x[::-1, ::2], 1),
                             lax.cummax(x[:, ::-1], 1, reverse=True),
                             lax.cumprod(jnp.transpose(x)[::-1], 1)), _xv)
case("cum_jnp_dtypes", lambda b, i: (jnp.cumsum(b), jnp.cumsum(i, axis=1, dtype=jnp.int8),
                                     jnp.cumprod(b, axis=0)),
     _data((6, 40), "bool"), _data((6, 40), "int32"))
case("cum_large_rows", lambda x: (jnp.cumsum(x, axis=1), jnp.cumsum(x, axis=0)),
     _data((300, 700), "float32"))
case("cum_nan_inf", lambda x: (lax.cummax(x, 0), lax.cummin(x, 0, reverse=True),
                               lax.cumlogsumexp(x, 0), lax.cumsum(x, 0)),
     jnp.asarray(np.array([1.0, np.nan, 3.0, -np.inf, np.inf, -np.inf, 2.0], np.float32)),
     exact=False)
case("cum_grad", lambda x: numjax.grad(lambda x: jnp.sum(jnp.cumsum(x, 1) ** 2))(x), _xv)

# ---- loops whose bodies hold these primitives (now native C loops) --------------------------
_tab = _data((64, 16), "float32")
_seq = jnp.asarray(_rng.integers(0, 64, (40,)).astype(np.int32))


def _scan_gather(t, s):
  def body(h, i):
    h = jnp.tanh(h + t[jnp.stack([i, (i * 3) % 64])].sum(0))   # a gather per step
    return h, h.sum()
  return lax.scan(body, jnp.zeros(16, jnp.float32), s)


def _fori_gather(t, s):
  return lax.fori_loop(0, 40, lambda k, h: h * 0.5 + t[s[k]] + t[s][k % 7], jnp.zeros(16))


def _scan_scatter(t, s):
  def body(acc, i):
    acc = acc.at[jnp.stack([i, (i * 7) % 64])].add(t[i] * 2.0)
    return acc, jnp.cumsum(acc[i])
  return lax.scan(body, jnp.zeros_like(t), s)


def _while_cum(t, s):
  def cond(c):
    return c[0] < 10

  def body(c):
    k, h = c
    return k + 1, lax.cummax(jnp.sin(h + t[s[k]]), 0, reverse=True)
  return lax.while_loop(cond, body, (0, jnp.zeros(16)))


LOOPS = {"scan_gather": _scan_gather, "fori_gather": _fori_gather,
         "scan_scatter": _scan_scatter, "while_cum": _while_cum}
for _n, _f in LOOPS.items():
  case(f"loop_{_n}", _f, _tab, _seq, exact=False)
case("loop_vmap_gather", lambda t, s: numjax.vmap(lambda r: _scan_gather(t * r, s)[1])(
    jnp.arange(3.0)), _tab, _seq, exact=False)


# ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def staged():
  out = {}
  with native.deferred():
    for name, (fn, args, exact, host_ok) in CASES.items():
      with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
          with numjax.config._override("numjax_tier", "native"):
            cn = numjax.jit(fn).lower(*args).compile()
          with numjax.config._override("numjax_tier", "numpy"):
            cp = numjax.jit(fn).lower(*args).compile()
        except Exception as e:   # reported by the case's test
          cn = cp = e
      bad = [str(x.message) for x in w if "native compilation" in str(x.message)]
      out[name] = (cn, cp, bad)
  return out


_PRIMS = ("gather", "scatter", "cumsum", "cumprod", "cummax", "cummin", "cumlogsumexp")


def _host_steps(cn):
  """Primitives the native program runs as NumPy steps (the driver plans the same way)."""
  from numjax._src.compiler.native import fusion as fu
  plan = fu.partition(cn._exe.jaxpr)
  return [s.eqn.primitive.name for s in plan.steps if isinstance(s, fu.Host)]


@pytest.mark.parametrize("name", list(CASES))
def test_native_matches_numpy_tier(staged, name):
  fn, args, exact, host_ok = CASES[name]
  cn, cp, bad = staged[name]
  if isinstance(cn, Exception):
    raise cn
  assert not bad, bad
  assert cn._exe.tier == "native"
  hosts = [h for h in _host_steps(cn) if h.startswith(_PRIMS)]
  assert not hosts, hosts
  a = numjax.tree_util.tree_leaves(cn(*args))
  b = numjax.tree_util.tree_leaves(cp(*args))
  assert len(a) == len(b)
  for x, y in zip(a, b):
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype.itemsize == 2 and x.dtype.kind not in "iu":   # float16/bfloat16: exactly
      x, y = x.astype(np.float32), y.astype(np.float32)
    assert x.dtype == y.dtype and x.shape == y.shape
    if exact:
      np.testing.assert_array_equal(x, y)
    else:
      tol = 1e-2 if x.dtype.itemsize <= 2 else 1e-5
      np.testing.assert_allclose(x.astype(np.complex128 if x.dtype.kind == "c" else np.float64),
                                 y.astype(np.complex128 if y.dtype.kind == "c" else np.float64),
                                 rtol=tol, atol=tol)


@pytest.mark.parametrize("name", list(LOOPS))
def test_loops_compile_to_c_loops(staged, name):
  """A loop whose body gathers / scatters / accumulates is one C loop: no NumPy step in the
  driver, and the C shows the loop and the indexing function."""
  from numjax._src.compiler.native import fusion as fu
  cn = staged[f"loop_{name}"][0]
  with numjax.config._override("numjax_tier", "native"):
    txt = cn.as_text()
  driver = txt.split("/* driver:")[1]
  assert " = F" not in driver, driver
  c_src = txt.split("/* driver:")[0]
  assert "for (" in c_src and "_ix" in c_src
  loops = [s for s in fu.partition(cn._exe.jaxpr).steps if isinstance(s, fu.Loop)]
  assert loops
  body_steps = [s for lp in loops for p in lp.plans for s in p.steps]
  assert any(getattr(s, "indexing", False) for s in body_steps), body_steps


def test_out_of_bounds_fill_values():
  """Default fills per dtype (NaN, INT_MIN, UINT_MAX, True) and explicit fill_value."""
  idx = jnp.asarray(np.array([[1], [-1], [3], [9]], np.int32))
  dn = GDN((1,), (0,), (0,))
  for dt in ("float32", "int16", "uint8", "bool", "complex64"):
    x = _data((4, 2), dt)
    f = lambda x, i: (lax.gather(x, i, dn, (1, 2), mode="fill"),
                      lax.gather(x, i, dn, (1, 2), mode="fill", fill_value=1))
    with numjax.config._override("numjax_tier", "native"):
      c = numjax.jit(f).lower(x, idx).compile()
    assert c._exe.tier == "native"
    got = c(x, idx)
    want = f(x, idx)   # eager: the NumPy implementation
    for g, w_ in zip(got, want):
      np.testing.assert_array_equal(np.asarray(g), np.asarray(w_))
