"""conv_general_dilated's evaluation strategies, at sizes that reach them: im2col copied as
rows or as columns, the tap-wise path with virtual (also negative) padding, GEMMs split into
row or contraction blocks, per-tap multiply-adds for depthwise convs, every dimension_numbers layout, 1-D/2-D/3-D, feature and batch
groups, strides and dilations; and the two transposed convolutions of the vjp.

The reference is written independently of the implementation: the input is dilated and
padded by slicing, then each kernel tap contributes an einsum over the (grouped) channels
of its strided window, in float64. Gradients are checked element by element against the
reference's exact transpose (columns of its Jacobian from basis vectors) on small cases,
by the adjoint identity <ct, conv(x, w)> = <x, dx> = <w, dw> on large ones, and by
check_grads.
"""
import itertools

import numpy as np
import pytest

import numjax
from numjax import lax
from numjax.test_util import check_grads

RNG = np.random.default_rng(7)


def ref_conv(lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
             dimension_numbers=None, feature_group_count=1, batch_group_count=1):
  dn = lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
  x = np.transpose(np.asarray(lhs, np.float64), dn.lhs_spec)
  w = np.transpose(np.asarray(rhs, np.float64), dn.rhs_spec)
  nsp = x.ndim - 2
  lhs_dilation = lhs_dilation or (1,) * nsp
  rhs_dilation = rhs_dilation or (1,) * nsp
  ksz = w.shape[2:]
  if isinstance(padding, str):
    kd = [(k - 1) * r + 1 for k, r in zip(ksz, rhs_dilation)]
    padding = lax.padtype_to_pads(x.shape[2:], kd, window_strides, padding)
  for ax, (d, (lo, hi)) in enumerate(zip(lhs_dilation, padding)):
    a = 2 + ax
    n = x.shape[a]
    shp = list(x.shape)
    shp[a] = (n - 1) * d + 1 if n else 0
    y = np.zeros(shp)
    idx = [slice(None)] * x.ndim
    idx[a] = slice(None, None, d)
    y[tuple(idx)] = x
    shp[a] = shp[a] + max(lo, 0) + max(hi, 0)
    z = np.zeros(shp)
    idx[a] = slice(max(lo, 0), max(lo, 0) + y.shape[a])
    z[tuple(idx)] = y
    idx[a] = slice(max(-lo, 0), z.shape[a] - max(-hi, 0))
    x = z[tuple(idx)]
  o, cg = w.shape[:2]
  fg, bg = feature_group_count, batch_group_count
  n = x.shape[0] // bg
  kd = [(k - 1) * r + 1 for k, r in zip(ksz, rhs_dilation)]
  out_sp = [max(0, (p - k) // s + 1) for p, k, s in zip(x.shape[2:], kd, window_strides)]
  out = np.zeros((n, o) + tuple(out_sp))
  groups = max(fg, bg)
  og = o // groups
  for tap in np.ndindex(*ksz):
    sl = tuple(slice(j * r, j * r + (q - 1) * s + 1, s) if q else slice(0, 0)
               for j, r, q, s in zip(tap, rhs_dilation, out_sp, window_strides))
    xs = x[(slice(None), slice(None)) + sl]
    for g in range(groups):
      xg = (xs[:, g * cg:(g + 1) * cg] if fg > 1 else
            xs[g * n:(g + 1) * n] if bg > 1 else xs)
      wg = w[(slice(g * og, (g + 1) * og), slice(None)) + tap]
      out[:, g * og:(g + 1) * og] += np.einsum("nc...,oc->no...", xg, wg)
  return np.transpose(out, np.argsort(dn.out_spec))


def ref_vjp(ct, x, w, **cfg):
  """The reference's exact transpose in each argument, from the columns of its Jacobian."""
  ct = np.asarray(ct, np.float64)
  grads = []
  for k, a in enumerate((x, w)):
    g = np.zeros(a.size)
    for i in range(a.size):
      e = np.zeros(a.size)
      e[i] = 1
      args = [x, w]
      args[k] = e.reshape(a.shape)
      g[i] = np.sum(ct * ref_conv(*args, **cfg))
    grads.append(g.reshape(a.shape))
  return grads


def _spec_shape(spec, sizes):
  return tuple(sizes[c] for c in spec)


def _case(lspec, rspec, ospec, n, c, o, sp, k, fg=1, bg=1, **cfg):
  """Arrays for a conv with the given layouts (letters N C / O I and the spatial letters)."""
  sps = [ch for ch in lspec if ch not in "NC"]
  lsz = dict(N=n, C=c, **{ch: d for ch, d in zip(sps, sp)})
  rsz = dict(O=o, I=c // fg, **{ch: d for ch, d in zip(sps, k)})
  x = RNG.standard_normal(_spec_shape(lspec, lsz)).astype(np.float32)
  w = RNG.standard_normal(_spec_shape(rspec, rsz)).astype(np.float32)
  cfg = dict(cfg, dimension_numbers=(lspec, rspec, ospec), feature_group_count=fg,
             batch_group_count=bg)
  return x, w, cfg


def _close(a, b, tol=1e-4):
  b = np.asarray(b)
  scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
  a = np.asarray(a)
  a = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)
  np.testing.assert_allclose(a, b, rtol=tol, atol=tol * scale)


# ---------------------------------------------------------------------------------------
# every layout (2-D): forward eager and jit, and the vjp element by element

LHS_SPECS = ("NCHW", "NHWC", "CHWN", "HWNC")
RHS_SPECS = ("OIHW", "HWIO", "IOHW", "HWOI")
OUT_SPECS = ("NCHW", "NHWC", "HCWN")


@pytest.mark.parametrize("lspec,rspec,ospec",
                         list(itertools.product(LHS_SPECS, RHS_SPECS, OUT_SPECS)))
def test_layouts_forward(lspec, rspec, ospec):
  x, w, cfg = _case(lspec, rspec, ospec, 3, 4, 5, (6, 5), (3, 2), window_strides=(2, 1),
                    padding=((1, 1), (0, 1)))
  ref = ref_conv(x, w, **cfg)
  _close(lax.conv_general_dilated(x, w, **cfg), ref)
  _close(numjax.jit(lambda a, b: lax.conv_general_dilated(a, b, **cfg))(x, w), ref)


@pytest.mark.parametrize("lspec,rspec,ospec", [
    ("NCHW", "OIHW", "NCHW"), ("NHWC", "HWIO", "NHWC"), ("CHWN", "IOHW", "HCWN"),
    ("HWNC", "HWOI", "NHWC")])
@pytest.mark.parametrize("fg,bg", [(1, 1), (2, 1), (1, 2)])
def test_layouts_vjp(lspec, rspec, ospec, fg, bg):
  x, w, cfg = _case(lspec, rspec, ospec, 2 * bg, 2 * fg, 2 * max(fg, bg), (5, 4), (2, 3),
                    fg=fg, bg=bg, window_strides=(2, 1), padding=((1, 0), (1, 2)),
                    rhs_dilation=(1, 2))
  f = lambda a, b: lax.conv_general_dilated(a, b, **cfg)
  y, vjp = numjax.vjp(f, x, w)
  ct = RNG.standard_normal(y.shape).astype(np.float32)
  gx, gw = vjp(ct)
  rx, rw = ref_vjp(ct, x, w, **cfg)
  _close(gx, rx)
  _close(gw, rw)
  jx, jw = numjax.jit(lambda a, b, c: numjax.vjp(f, a, b)[1](c))(x, w, ct)
  _close(jx, rx)
  _close(jw, rw)


# ---------------------------------------------------------------------------------------
# the strategies at sizes that reach them

PATH_CASES = [
    # NHWC with one channel, as the benchmark: im2col copied as columns
    ("cols_nhwc_c1", ("NHWC", "HWIO", "NHWC"), 4, 1, 8, (12, 11), (3, 3),
     dict(window_strides=(1, 1), padding="SAME")),
    # many channels, NHWC: im2col rows
    ("rows_nhwc", ("NHWC", "HWIO", "NHWC"), 3, 16, 12, (9, 8), (3, 3),
     dict(window_strides=(2, 1), padding=((1, 1), (2, 0)))),
    # NCHW with many channels: rows from a channels-first source
    ("rows_nchw", ("NCHW", "OIHW", "NCHW"), 2, 12, 6, (8, 9), (2, 3),
     dict(window_strides=(1, 2), padding="VALID", rhs_dilation=(2, 1))),
    # few outputs, many channels: the tap-wise path, with negative and uneven padding
    ("taps", ("NHWC", "HWIO", "NHWC"), 3, 24, 1, (9, 10), (3, 3),
     dict(window_strides=(1, 1), padding=((2, 1), (-1, 2)))),
    ("taps_strided_dilated", ("NCHW", "OIHW", "NHWC"), 2, 20, 2, (11, 9), (3, 2),
     dict(window_strides=(2, 3), padding=((3, -1), (1, 1)), rhs_dilation=(2, 3))),
    ("taps_lhs_dilated", ("NHWC", "HWIO", "NCHW"), 2, 16, 1, (5, 4), (3, 3),
     dict(window_strides=(1, 1), padding=((2, 2), (1, 3)), lhs_dilation=(2, 3))),
    ("taps_groups", ("NHWC", "HWIO", "NHWC"), 2, 32, 4, (7, 6), (3, 3),
     dict(window_strides=(1, 1), padding="SAME", feature_group_count=4)),
    ("taps_batch_groups", ("NCHW", "OIHW", "NCHW"), 4, 24, 2, (6, 7), (3, 3),
     dict(window_strides=(1, 1), padding="SAME", batch_group_count=2)),
    # depthwise (one channel per group, channel multiplier 1 or 2): per-tap multiply-adds
    ("depthwise", ("NHWC", "HWIO", "NHWC"), 2, 6, 6, (9, 8), (3, 3),
     dict(window_strides=(2, 1), padding=((1, 2), (0, 1)), rhs_dilation=(1, 2),
          feature_group_count=6)),
    ("depthwise_mult2", ("NCHW", "OIHW", "NHWC"), 2, 4, 8, (6, 5), (3, 2),
     dict(window_strides=(1, 1), padding=((2, 2), (1, -1)), lhs_dilation=(2, 1),
          feature_group_count=4)),
    ("depthwise_1d", ("NWC", "WIO", "NWC"), 3, 5, 5, (13,), (4,),
     dict(window_strides=(2,), padding="SAME", feature_group_count=5)),
    # GEMMs past OpenBLAS's threading threshold: row blocks (forward) ...
    ("row_blocks", ("NHWC", "HWIO", "NHWC"), 8, 8, 16, (32, 32), (3, 3),
     dict(window_strides=(1, 1), padding="SAME")),
    ("row_blocks_cols", ("NHWC", "HWIO", "NCHW"), 16, 1, 64, (30, 31), (3, 3),
     dict(window_strides=(1, 1), padding="SAME")),
    ("row_blocks_groups", ("NCHW", "OIHW", "NHWC"), 6, 16, 32, (24, 24), (3, 3),
     dict(window_strides=(1, 1), padding="SAME", feature_group_count=2)),
    # ... and contraction blocks (a weight gradient written as a conv: huge window)
    ("depth_blocks", ("CHWN", "IHWO", "CHWN"), 2, 12, 16, (30, 40), (28, 38),
     dict(window_strides=(1, 1), padding="VALID")),
    # 1-D and 3-D
    ("1d_strided_dilated", ("NWC", "WIO", "NCW"), 3, 6, 5, (20,), (4,),
     dict(window_strides=(3,), padding=((2, 1),), rhs_dilation=(2,), lhs_dilation=(2,))),
    ("1d_groups", ("NCW", "OIW", "NWC"), 2, 9, 6, (17,), (5,),
     dict(window_strides=(2,), padding="SAME", feature_group_count=3)),
    ("3d", ("NDHWC", "DHWIO", "NDHWC"), 2, 3, 4, (5, 6, 4), (2, 3, 2),
     dict(window_strides=(1, 2, 1), padding="SAME")),
    ("3d_groups_dilated", ("NCDHW", "OIDHW", "NDHWC"), 2, 4, 6, (6, 5, 7), (2, 2, 3),
     dict(window_strides=(2, 1, 1), padding=((1, 0), (1, 1), (0, 2)), rhs_dilation=(2, 1, 1),
          feature_group_count=2)),
    ("3d_batch_groups", ("NDHWC", "DHWIO", "NCDHW"), 4, 3, 4, (4, 5, 3), (2, 2, 2),
     dict(window_strides=(1, 1, 1), padding="VALID", batch_group_count=2)),
]


def _path_arrays(name):
  _, (lspec, rspec, ospec), n, c, o, sp, k, cfg = next(p for p in PATH_CASES if p[0] == name)
  cfg = dict(cfg)
  fg, bg = cfg.pop("feature_group_count", 1), cfg.pop("batch_group_count", 1)
  return _case(lspec, rspec, ospec, n, c, o, sp, k, fg=fg, bg=bg, **cfg)


@pytest.mark.parametrize("name", [p[0] for p in PATH_CASES])
def test_paths_forward_and_adjoint(name):
  x, w, cfg = _path_arrays(name)
  f = lambda a, b: lax.conv_general_dilated(a, b, **cfg)
  ref = ref_conv(x, w, **cfg)
  _close(f(x, w), ref)
  y, vjp = numjax.vjp(f, x, w)
  _close(y, ref)
  ct = RNG.standard_normal(y.shape).astype(np.float32)
  gx, gw = vjp(ct)
  # bilinear: <ct, conv(x, w)> = <x, d/dx> = <w, d/dw>
  s = float(np.sum(ct.astype(np.float64) * ref))
  tol = 1e-4 * (1 + float(np.sum(np.abs(ct) * np.abs(ref))))
  assert abs(float(np.sum(x * np.asarray(gx, np.float64))) - s) <= tol
  assert abs(float(np.sum(w * np.asarray(gw, np.float64))) - s) <= tol
  jx, jw = numjax.jit(lambda a, b, c: numjax.vjp(f, a, b)[1](c))(x, w, ct)
  _close(jx, gx, 1e-5)
  _close(jw, gw, 1e-5)


@pytest.mark.parametrize("name", ["taps_strided_dilated", "1d_strided_dilated", "3d_groups_dilated",
                                  "taps_batch_groups", "depthwise", "depthwise_mult2"])
def test_paths_vjp_elementwise(name):
  x, w, cfg = _path_arrays(name)
  f = lambda a, b: lax.conv_general_dilated(a, b, **cfg)
  y, vjp = numjax.vjp(f, x, w)
  ct = RNG.standard_normal(y.shape).astype(np.float32)
  gx, gw = vjp(ct)
  rx, rw = ref_vjp(ct, x, w, **cfg)
  _close(gx, rx)
  _close(gw, rw)


@pytest.mark.parametrize("name", ["cols_nhwc_c1", "taps", "1d_groups", "3d", "depthwise_1d"])
def test_paths_check_grads(name):
  x, w, cfg = _path_arrays(name)
  x, w = x[:2], w  # keep finite differences cheap
  check_grads(lambda a, b: lax.conv_general_dilated(a, b, **cfg), (x, w), order=1,
              modes=("rev", "fwd"), atol=5e-2, rtol=5e-2)


@pytest.mark.parametrize("dtype", ["float64", "complex64", "int32"])
def test_split_gemm_dtypes(dtype):
  # the blocked GEMMs run for floating and complex types; integers take NumPy's matmul
  x, w, cfg = _path_arrays("row_blocks")
  if dtype == "complex64":
    x = x + 1j * RNG.standard_normal(x.shape).astype(np.float32)
    w = w - 1j * RNG.standard_normal(w.shape).astype(np.float32)
  elif dtype == "int32":
    x, w = np.round(x * 3), np.round(w * 3)
  x, w = x.astype(dtype), w.astype(dtype)
  ref = ref_conv(x.real, w.real, **cfg)
  if dtype == "complex64":
    ref = (ref - ref_conv(x.imag, w.imag, **cfg)
           + 1j * (ref_conv(x.real, w.imag, **cfg) + ref_conv(x.imag, w.real, **cfg)))
  out = lax.conv_general_dilated(x, w, **cfg)
  expected = {"float64": "float32", "complex64": "complex64", "int32": "int32"}[dtype]
  assert out.dtype == np.dtype(expected)  # x64 off: float64 inputs arrive as float32
  if dtype == "int32":
    np.testing.assert_array_equal(np.asarray(out), ref.astype(np.int64))
  else:
    _close(out, ref)


def test_benchmark_shape_gradients():
  # the benchmark's conv (NHWC, one input channel, 'SAME'), smaller batch: loss gradient
  # in w, b and x against the reference's exact transpose through relu and the mean
  x, w, cfg = _case("NHWC", "HWIO", "NHWC", 2, 1, 4, (6, 7), (3, 3), window_strides=(1, 1),
                    padding="SAME")
  b = RNG.standard_normal(4).astype(np.float32)

  def loss(w, b, x):
    y = lax.conv_general_dilated(x, w, **cfg) + b
    return numjax.numpy.mean(numjax.numpy.maximum(y, 0) ** 2)
  gw, gb, gx = numjax.grad(loss, argnums=(0, 1, 2))(w, b, x)
  y = ref_conv(x, w, **cfg) + b
  ct = 2 * np.maximum(y, 0) / y.size
  rx, rw = ref_vjp(ct, x, w, **cfg)
  _close(gw, rw)
  _close(gx, rx)
  _close(gb, ct.sum((0, 1, 2)))
  jw, jb, jx = numjax.jit(numjax.grad(loss, argnums=(0, 1, 2)))(w, b, x)
  _close(jw, rw)
  _close(jb, ct.sum((0, 1, 2)))
  _close(jx, rx)
