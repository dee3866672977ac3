"""lax convolutions and windowed reductions: conv_general_dilated (and its wrappers),
reduce_window (sum/max/min and generic), the max-pool derivatives, and a small CNN.

References are explicit Python loops over output positions that follow XLA's Conv and
ReduceWindow definitions (dilate, pad, slide, contract/reduce), written independently of the
implementation. Records drive NumPy-reference parity, jit parity, vmap against a loop at
every batch-axis position, and check_grads against finite differences.
"""
import itertools

import numpy as np
import pytest

import numjax
import numjax.numpy as jnp
from numjax import lax
from numjax.test_util import check_grads

from records import Rec, make_tests, uniform

RNG = np.random.default_rng(0)


# ---------------------------------------------------------------------------------------
# Loop references

def _dilate_pad(x, lhs_dil, padding, fill=0):
  """x (N, C, *S): interior dilation then (lo, hi) padding (negative crops), by loops."""
  nsp = x.ndim - 2
  for ax in range(nsp):
    d = lhs_dil[ax]
    n = x.shape[2 + ax]
    size = 0 if n == 0 else (n - 1) * d + 1
    shp = list(x.shape)
    shp[2 + ax] = size
    y = np.full(shp, fill, x.dtype)
    for i in range(n):
      idx = [slice(None)] * x.ndim
      idx[2 + ax] = i * d
      src = [slice(None)] * x.ndim
      src[2 + ax] = i
      y[tuple(idx)] = x[tuple(src)]
    lo, hi = padding[ax]
    if lo >= 0:
      blk = list(y.shape)
      blk[2 + ax] = lo
      y = np.concatenate([np.full(blk, fill, x.dtype), y], 2 + ax)
    else:
      y = np.take(y, range(-lo, y.shape[2 + ax]), axis=2 + ax)
    if hi >= 0:
      blk = list(y.shape)
      blk[2 + ax] = hi
      y = np.concatenate([y, np.full(blk, fill, x.dtype)], 2 + ax)
    else:
      y = np.take(y, range(0, y.shape[2 + ax] + hi), axis=2 + ax)
    x = y
  return x


def ref_conv(lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
             dimension_numbers=None, feature_group_count=1, batch_group_count=1):
  """XLA's Conv, output element by output element."""
  nd = lhs.ndim
  nsp = nd - 2
  lhs_dilation = lhs_dilation or (1,) * nsp
  rhs_dilation = rhs_dilation or (1,) * nsp
  dn = lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
  x = np.transpose(lhs, dn.lhs_spec)
  w = np.transpose(rhs, dn.rhs_spec)
  if isinstance(padding, str):
    kd = [(k - 1) * r + 1 for k, r in zip(w.shape[2:], rhs_dilation)]
    padding = lax.padtype_to_pads(x.shape[2:], kd, window_strides, padding)
  acc = np.int64 if x.dtype.kind in "biu" else (np.complex128 if x.dtype.kind == "c"
                                                 else np.float64)
  xp = _dilate_pad(x.astype(acc), lhs_dilation, padding)
  n_all, c = xp.shape[:2]
  o, cg = w.shape[:2]
  ksz = w.shape[2:]
  kd = [(k - 1) * r + 1 for k, r in zip(ksz, rhs_dilation)]
  out_sp = [max(0, (p - k) // s + 1) for p, k, s in zip(xp.shape[2:], kd, window_strides)]
  g = feature_group_count
  b = batch_group_count
  n = n_all // b
  out = np.zeros((n, o) + tuple(out_sp), acc)
  for ni, oi in itertools.product(range(n), range(o)):
    grp = oi // (o // g)                 # feature group of this output feature
    bgrp = oi // (o // b)                # batch group of this output feature
    xn = xp[bgrp * n + ni, grp * cg:(grp + 1) * cg]
    for pos in itertools.product(*[range(q) for q in out_sp]):
      sl = tuple(slice(p * s, p * s + k, r) for p, s, k, r in
                 zip(pos, window_strides, kd, rhs_dilation))
      out[(ni, oi) + pos] = np.sum(xn[(slice(None),) + sl] * w[oi].astype(acc))
  out = np.transpose(out, np.argsort(dn.out_spec))
  if lhs.dtype == np.bool_:
    return out != 0
  return out.astype(lhs.dtype)


def ref_reduce_window(x, init, op, window_dimensions, window_strides, padding,
                      base_dilation=None, window_dilation=None):
  """XLA's ReduceWindow, output element by output element (sequential reduction)."""
  nd = x.ndim
  base_dilation = base_dilation or (1,) * nd
  window_dilation = window_dilation or (1,) * nd
  if isinstance(padding, str):
    wd = [(k - 1) * r + 1 for k, r in zip(window_dimensions, window_dilation)]
    padding = lax.padtype_to_pads(x.shape, wd, window_strides, padding)
  xp = _dilate_pad(x[None, None], base_dilation, padding, fill=init)[0, 0]
  wd = [(k - 1) * r + 1 for k, r in zip(window_dimensions, window_dilation)]
  out_sh = [max(0, (p - k) // s + 1) for p, k, s in zip(xp.shape, wd, window_strides)]
  out = np.empty(out_sh, x.dtype)
  for pos in itertools.product(*[range(q) for q in out_sh]):
    acc = np.asarray(init, x.dtype)
    for tap in itertools.product(*[range(k) for k in window_dimensions]):
      acc = op(acc, xp[tuple(p * s + t * r for p, s, t, r in
                             zip(pos, window_strides, tap, window_dilation))])
    out[pos] = acc
  return out


# ---------------------------------------------------------------------------------------
# conv_general_dilated records

CONV_CASES = [
    ("valid", (2, 3, 6, 5), (4, 3, 3, 2), dict(window_strides=(1, 1), padding="VALID")),
    ("same_stride", (2, 3, 7, 6), (4, 3, 3, 2), dict(window_strides=(2, 1), padding="SAME")),
    ("same_lower", (1, 2, 7, 6), (3, 2, 2, 3), dict(window_strides=(2, 3),
                                                   padding="SAME_LOWER")),
    ("explicit_neg_dil", (2, 2, 5, 6), (3, 2, 3, 2),
     dict(window_strides=(1, 2), padding=((1, 2), (-1, 0)), lhs_dilation=(2, 1),
          rhs_dilation=(1, 2))),
    ("groups", (2, 4, 5, 5), (6, 2, 3, 2), dict(window_strides=(1, 1), padding="SAME",
                                                feature_group_count=2)),
    ("batch_groups", (4, 3, 5, 5), (6, 3, 2, 2),
     dict(window_strides=(1, 2), padding=((0, 1), (1, 0)), batch_group_count=2)),
    ("nhwc", (2, 6, 5, 3), (3, 2, 3, 4), dict(window_strides=(2, 2), padding="SAME",
                                              dimension_numbers=("NHWC", "HWIO", "NHWC"))),
    ("mixed_layouts", (2, 5, 6, 4), (2, 2, 2, 6),
     dict(window_strides=(1, 1), padding="VALID", rhs_dilation=(2, 2),
          dimension_numbers=("NHWC", "HWIO", "NCHW"), feature_group_count=2)),
    ("1d_transposed", (2, 2, 6), (3, 2, 3), dict(window_strides=(2,), padding=[(2, 2)],
                                                 lhs_dilation=(3,))),
    ("3d", (1, 2, 4, 3, 3), (2, 2, 2, 2, 1), dict(window_strides=(1, 2, 1), padding="SAME")),
    ("0d_dense", (3, 5), (2, 5), dict(window_strides=(), padding=())),
    ("taps_path", (2, 12, 6, 6), (1, 12, 3, 3), dict(window_strides=(1, 1),
                                                     padding=((2, 2), (2, 2)))),
    ("taps_path_groups", (2, 12, 7, 7), (2, 6, 3, 3),
     dict(window_strides=(2, 1), padding=((2, 2), (2, 2)), feature_group_count=2,
          rhs_dilation=(2, 1))),
]


def _conv_rec(name, ls, rs, cfg, dtypes=("float32",), grad=2, vmap=True):
  return Rec(f"conv_{name}", lambda x, w: lax.conv_general_dilated(x, w, **cfg),
             lambda x, w: ref_conv(x, w, **cfg), shapes=[(ls, rs)], nargs=2, dtypes=dtypes,
             tol={"float32": 1e-4, "float64": 1e-4, "float16": 2e-2}, grad=grad, vmap=vmap,
             grad_tol=5e-2)


CONV_RECORDS = [_conv_rec(n, ls, rs, cfg, grad=2 if i < 4 else 1)
                for i, (n, ls, rs, cfg) in enumerate(CONV_CASES)]
# dtypes (one layout each): ints and bool accumulate exactly, complex, half precision
CONV_RECORDS += [
    _conv_rec("dtypes", (2, 2, 5, 4), (3, 2, 2, 2),
              dict(window_strides=(1, 1), padding="SAME"),
              dtypes=("float64", "int32", "bool", "complex64", "float16"), grad=0, vmap=False),
]

test_conv_numpy, test_conv_jit, test_conv_vmap, test_conv_grad = make_tests(CONV_RECORDS)


def test_conv_wrappers():
  x = RNG.standard_normal((2, 3, 6, 6)).astype(np.float32)
  w = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)
  np.testing.assert_allclose(lax.conv(x, w, (1, 1), "SAME"),
                             ref_conv(x, w, (1, 1), "SAME"), rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(
      lax.conv_with_general_padding(x, w, (2, 1), ((1, 0), (0, 2)), (1, 2), (2, 1)),
      ref_conv(x, w, (2, 1), ((1, 0), (0, 2)), (1, 2), (2, 1)), rtol=1e-5, atol=1e-5)


def test_conv_transpose_is_gradient_of_conv():
  # With the kernel transposed (flipped, I<->O), conv_transpose is the vjp of a strided conv.
  x = RNG.standard_normal((2, 8, 8, 3)).astype(np.float32)
  w = RNG.standard_normal((3, 3, 3, 4)).astype(np.float32)
  dn = ("NHWC", "HWIO", "NHWC")
  for pad in ("SAME",):
    y, vjp = numjax.vjp(lambda x: lax.conv_general_dilated(x, w, (2, 2), pad,
                                                          dimension_numbers=dn), x)
    ct = RNG.standard_normal(y.shape).astype(np.float32)
    (gx,) = vjp(ct)
    t = lax.conv_transpose(ct, w, (2, 2), pad, dimension_numbers=dn, transpose_kernel=True)
    np.testing.assert_allclose(t, gx, rtol=1e-4, atol=1e-4)


def test_conv_transpose_shape_and_values():
  # a fractionally strided conv: lhs dilated by the strides, kernel not flipped
  x = RNG.standard_normal((1, 5, 2)).astype(np.float32)
  w = RNG.standard_normal((3, 2, 4)).astype(np.float32)
  out = lax.conv_transpose(x, w, (2,), "SAME", dimension_numbers=("NHC", "HIO", "NHC"))
  assert out.shape == (1, 10, 4)
  # explicit: dilate by 2, pad (2, 1) as Keras' SAME for k=3, s=2, correlate
  ref = ref_conv(x, w, (1,), [(2, 1)], lhs_dilation=(2,),
                 dimension_numbers=("NHC", "HIO", "NHC"))
  np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


def test_conv_general_dilated_patches():
  x = RNG.standard_normal((2, 3, 5, 4)).astype(np.float32)
  p = lax.conv_general_dilated_patches(x, (2, 3), (1, 1), "VALID")
  assert p.shape == (2, 3 * 6, 4, 2)
  # feature (c, i, j) of the patch at (h, w) is x[c, h + i, w + j]
  xp = np.asarray(x)
  for c, i, j in itertools.product(range(3), range(2), range(3)):
    np.testing.assert_allclose(p[:, c * 6 + i * 3 + j], xp[:, c, i:i + 4, j:j + 2])


def test_conv_general_dilated_local():
  # an unshared conv equals, at every output position, a dense product with that
  # position's kernel
  x = RNG.standard_normal((2, 3, 5, 4)).astype(np.float32)
  out_sp = (4, 2)
  w = RNG.standard_normal((5, 3 * 6) + out_sp).astype(np.float32)
  y = lax.conv_general_dilated_local(x, w, (1, 1), "VALID", (2, 3))
  assert y.shape == (2, 5) + out_sp
  p = np.asarray(lax.conv_general_dilated_patches(x, (2, 3), (1, 1), "VALID"))
  ref = np.einsum("nfhw,ofhw->nohw", p, w)
  np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)


def test_conv_shape_helpers():
  assert lax.conv_general_shape_tuple((2, 9, 9, 3), (3, 3, 3, 4), (2, 2), "SAME",
                                      ("NHWC", "HWIO", "NHWC")) == (2, 5, 5, 4)
  assert lax.conv_shape_tuple((2, 3, 9, 8), (4, 3, 3, 2), (1, 2), [(1, 1), (0, 0)]) == \
      (2, 4, 9, 4)
  assert lax.padtype_to_pads((5, 6), (3, 2), (2, 2), "SAME") == [(1, 1), (0, 0)]
  assert lax.padtype_to_pads((4,), (3,), (1,), "SAME_LOWER") == [(1, 1)]
  assert lax.padtype_to_pads((4,), (4,), (1,), "SAME_LOWER") == [(2, 1)]
  assert lax.padtype_to_pads((4,), (4,), (1,), "SAME") == [(1, 2)]
  dn = lax.conv_dimension_numbers((1, 5, 6, 3), (3, 3, 3, 4), ("NHWC", "HWIO", "NHWC"))
  assert dn == lax.ConvDimensionNumbers((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))


def test_conv_weak_type_and_preferred_element_type():
  x = jnp.ones((1, 1, 4), jnp.float16)
  w = jnp.ones((1, 1, 2), jnp.float16)
  y = lax.conv_general_dilated(x, w, (1,), "VALID", preferred_element_type=jnp.float32)
  assert y.dtype == np.float32
  np.testing.assert_array_equal(y, np.full((1, 1, 3), 2, np.float32))
  # gradient keeps the input dtypes
  g = numjax.grad(lambda x: lax.conv_general_dilated(
      x, w, (1,), "VALID", preferred_element_type=jnp.float32).sum())(x)
  assert g.dtype == np.float16
  assert not lax.conv(jnp.ones((1, 1, 3)), jnp.ones((1, 1, 2)), (1,), "VALID").weak_type


CONV_ERRORS = [
    (dict(feature_group_count=3), ValueError,
     "feature_group_count must divide lhs feature dimension size, but 3 does not divide 4."),
    (dict(feature_group_count=1), ValueError,
     "lhs feature dimension size divided by feature_group_count must equal the rhs input "
     "feature dimension size, but 4 // 1 != 2."),
    (dict(feature_group_count=2, batch_group_count=2), ValueError,
     "At most one of batch_group_count and feature_group_count may be > 1"),
    (dict(rhs=np.ones((6, 4, 3), np.float32)), TypeError,
     "convolution requires lhs and rhs ndim to be equal, got 4 and 3."),
    (dict(rhs=np.ones((6, 2, 3, 3), np.float16), feature_group_count=2), TypeError,
     "lax.conv_general_dilated requires arguments to have the same dtypes, got float32, "
     "float16."),
    (dict(window_strides=(1,), feature_group_count=2), ValueError,
     "window and window_strides must have the same number of dimensions, but got 2 and 1"),
    (dict(dimension_numbers=("NCHW", "OIHW"), feature_group_count=2), TypeError,
     "convolution dimension_numbers list/tuple must be length 3, got 2."),
    (dict(dimension_numbers=("NCHW", "OIHW", "NCWX"), feature_group_count=2), TypeError,
     "must each have the same set of spatial characters"),
    (dict(padding="FOO", feature_group_count=2), RuntimeError,
     "Unrecognized padding type: expected 'VALID', 'SAME', or 'SAME_LOWER', got FOO."),
    (dict(lhs_dilation=(2, 2), feature_group_count=2), ValueError,
     "String padding is not implemented for transposed convolution"),
    (dict(padding=((-6, 0), (0, 0)), feature_group_count=2), ValueError,
     "Negative padding is larger than the size of the corresponding dimension"),
]


@pytest.mark.parametrize("kw,cls,msg", CONV_ERRORS, ids=[str(i) for i in range(len(CONV_ERRORS))])
def test_conv_errors(kw, cls, msg):
  # classes and messages as JAX 0.10.2 (checked with the jax venv)
  kw = dict(kw)
  x = np.ones((2, 4, 5, 5), np.float32)
  w = kw.pop("rhs", np.ones((6, 2, 3, 3), np.float32))
  args = dict(window_strides=(1, 1), padding="SAME")
  args.update(kw)
  with pytest.raises(cls, match=msg.replace("(", r"\(").replace(")", r"\)")
                     .replace(".", r"\.").replace("[", r"\[")):
    lax.conv_general_dilated(x, w, **args)


JAXPR_CONV = """{ lambda ; a:f32[2,5,5,3] b:f32[3,3,3,4]. let
    c:f32[2,5,5,4] = conv_general_dilated[
      batch_group_count=1
      dimension_numbers=ConvDimensionNumbers(lhs_spec=(0, 3, 1, 2), rhs_spec=(3, 2, 0, 1), out_spec=(0, 3, 1, 2))
      feature_group_count=1
      lhs_dilation=(1, 1)
      out_sharding=None
      padding=((1, 1), (1, 1))
      precision=(Precision.HIGHEST, Precision.HIGHEST)
      preferred_element_type=None
      rhs_dilation=(1, 1)
      window_strides=(1, 1)
    ] a b
  in (c,) }"""


def test_conv_jaxpr_text():
  # recorded from JAX 0.10.2
  f = lambda x, w: lax.conv_general_dilated(x, w, (1, 1), "SAME",
                                            dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                            precision=lax.Precision.HIGHEST)
  text = str(numjax.make_jaxpr(f)(jnp.ones((2, 5, 5, 3)), jnp.ones((3, 3, 3, 4))))
  assert text == JAXPR_CONV


# ---------------------------------------------------------------------------------------
# reduce_window

_INF = np.float32(np.inf)
RW_CASES = [
    ("pool", (3, 6, 5), dict(window_dimensions=(1, 2, 2), window_strides=(1, 2, 2),
                             padding="VALID")),
    ("same", (2, 5, 4), dict(window_dimensions=(1, 3, 3), window_strides=(1, 1, 1),
                             padding="SAME")),
    ("explicit", (3, 5, 4), dict(window_dimensions=(2, 3, 2), window_strides=(1, 2, 1),
                                 padding=((1, 0), (1, 2), (0, 1)))),
    ("base_dil", (2, 4, 3), dict(window_dimensions=(1, 3, 2), window_strides=(1, 1, 2),
                                 padding=((0, 0), (1, 1), (1, 1)), base_dilation=(1, 2, 1))),
    ("win_dil", (2, 6, 5), dict(window_dimensions=(1, 2, 2), window_strides=(1, 1, 1),
                                padding="VALID", window_dilation=(1, 2, 2))),
]


def _distinct(rng, shape, dtype):
  n = int(np.prod(shape))
  return ((rng.permutation(n) - n / 2) / n * 2).reshape(shape).astype(dtype)


def _rw_recs():
  recs = []
  for name, shape, cfg in RW_CASES:
    for op, lop, npop, init in (("sum", lax.add, np.add, 0.0), ("max", lax.max, np.maximum,
                                                                  -_INF),
                                ("min", lax.min, np.minimum, _INF)):
      grad = 0 if (op != "sum" and "window_dilation" in cfg) else 2
      recs.append(Rec(
          f"rw_{op}_{name}",
          lambda x, lop=lop, init=init, cfg=cfg: lax.reduce_window(x, float(init), lop,
                                                                   **cfg),
          lambda x, npop=npop, init=init, cfg=cfg: ref_reduce_window(x, init, npop, **cfg),
          shapes=[shape], grad=grad, grad_tol=3e-2,
          # distinct values (spaced far wider than the finite-difference step): the max/min
          # derivative is well defined
          domain=_distinct if op != "sum" else uniform()))
  # generic (non-monoid) computation: a product, and a max with a non-identity init
  recs.append(Rec("rw_prod", lambda x: lax.reduce_window(x, 1.0, lax.mul, (2, 2),
                                                         (1, 1), "SAME"),
                  lambda x: ref_reduce_window(x, np.float32(1), np.multiply, (2, 2), (1, 1),
                                              "SAME"),
                  shapes=[(4, 5)], grad=1, grad_modes=("fwd", "rev"), grad_tol=3e-2,
                  domain=uniform(0.5, 1.5)))
  recs.append(Rec("rw_max_init", lambda x: lax.reduce_window(x, 0.5, lax.max,
                                                             (3,), (2,), "VALID"),
                  lambda x: ref_reduce_window(x, np.float32(0.5), np.maximum, (3,), (2,),
                                              "VALID"),
                  shapes=[(9,)], grad=1, domain=_distinct))
  recs.append(Rec("rw_int_sum", lambda x: lax.reduce_window(x, np.int32(0), lax.add, (2, 3),
                                                            (1, 2), "SAME"),
                  lambda x: ref_reduce_window(x, np.int32(0), np.add, (2, 3), (1, 2), "SAME"),
                  shapes=[(5, 6)], dtypes=("int32",)))
  recs.append(Rec("rw_bool_max", lambda x: lax.reduce_window(x, False, lax.max, (2, 2),
                                                             (1, 1), "VALID"),
                  lambda x: ref_reduce_window(x, False, np.maximum, (2, 2), (1, 1), "VALID"),
                  shapes=[(4, 5)], dtypes=("bool",)))
  return recs


RW_RECORDS = _rw_recs()
test_rw_numpy, test_rw_jit, test_rw_vmap, test_rw_grad = make_tests(RW_RECORDS)


def test_reduce_window_variadic():
  # argmax pooling with a pair (value, index) reducer
  x = RNG.standard_normal((6, 4)).astype(np.float32)
  idx = np.arange(24, dtype=np.int32).reshape(6, 4)

  def red(a, b):
    (va, ia), (vb, ib) = a, b
    pick = lax.ge(va, vb)
    return lax.select(pick, va, vb), lax.select(pick, ia, ib)
  v, i = lax.reduce_window((x, idx), (-np.inf, np.int32(0)), red, (2, 2), (2, 2), "VALID")
  ref_v = ref_reduce_window(x, -np.inf, np.maximum, (2, 2), (2, 2), "VALID")
  np.testing.assert_array_equal(v, ref_v)
  np.testing.assert_array_equal(np.take(x, np.asarray(i)), ref_v)
  vj, ij = numjax.jit(lambda x, idx: lax.reduce_window((x, idx), (-np.inf, np.int32(0)), red,
                                                      (2, 2), (2, 2), "VALID"))(x, idx)
  np.testing.assert_array_equal(vj, v)
  np.testing.assert_array_equal(ij, i)


def test_max_pool_gradient_ties_and_nans():
  # XLA's tap order: the first of equal maxima gets the cotangent, a NaN wins; these
  # expectations were recorded with JAX 0.10.2
  x = np.zeros((4, 6), np.float32)
  x[0, 0] = 1
  x[1, 1] = 1
  x[2, :] = np.nan
  f = lambda x: lax.reduce_window(x, -np.inf, lax.max, (2, 2), (1, 1), "VALID")
  g = numjax.grad(lambda x: f(x).sum())(x)
  np.testing.assert_array_equal(g, [[1, 0, 1, 1, 1, 0], [0, 1, 0, 0, 0, 0],
                                    [0, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0]])
  t = numjax.jvp(f, (x,), (np.arange(24, dtype=np.float32).reshape(4, 6),))[1]
  np.testing.assert_array_equal(t, [[0, 7, 2, 3, 4], [13, 14, 15, 16, 17],
                                    [18, 19, 20, 21, 22]])


def test_max_pool_gradient_matches_loop():
  x = RNG.standard_normal((2, 7, 6, 3)).astype(np.float32)
  cfg = dict(window_dimensions=(1, 3, 3, 1), window_strides=(1, 2, 2, 1), padding="SAME")
  f = lambda x: lax.reduce_window(x, -np.inf, lax.max, **cfg)
  y = f(x)
  ct = RNG.standard_normal(y.shape).astype(np.float32)
  (g,) = numjax.vjp(f, x)[1](ct)
  # loop: each window sends its cotangent to its (unique) argmax
  pads = lax.padtype_to_pads(x.shape, cfg["window_dimensions"], cfg["window_strides"], "SAME")
  ref = np.zeros_like(x)
  for pos in itertools.product(*[range(s) for s in y.shape]):
    best, arg = -np.inf, None
    for tap in itertools.product(*[range(k) for k in cfg["window_dimensions"]]):
      q = tuple(p * s + t - lo for p, s, t, (lo, _) in
                zip(pos, cfg["window_strides"], tap, pads))
      if all(0 <= a < n for a, n in zip(q, x.shape)) and x[q] > best:
        best, arg = x[q], q
    ref[arg] += ct[pos]
  np.testing.assert_allclose(g, ref, rtol=1e-6)
  # and its derivatives (select_and_scatter_add / select_and_gather_add are linear)
  check_grads(f, (x,), order=2, modes=("fwd", "rev"), atol=3e-2, rtol=3e-2)


def test_reduce_window_jit_grad_vmap_compose():
  x = RNG.standard_normal((3, 6, 6)).astype(np.float32)

  def f(x):
    return jnp.sum(lax.reduce_window(x, -np.inf, lax.max, (2, 2), (2, 2), "VALID") ** 2)
  g = numjax.jit(numjax.vmap(numjax.grad(f)))(x)
  ref = np.stack([numjax.grad(f)(x[i]) for i in range(3)])
  np.testing.assert_allclose(g, ref, rtol=1e-6)


RW_ERRORS = [
    (lambda x: lax.reduce_window(x, 0., lax.add, (2, 2), (1, 1), "VALID"), TypeError,
     "reduce_window got the wrong number of window_dimensions"),
    (lambda x: lax.reduce_window(x, 0., lax.add, (1, 1, 0, 2), (1, 1, 1, 1), "VALID"),
     TypeError, "window_dimensions must have every element be strictly positive"),
    (lambda x: lax.reduce_window(x, np.zeros(2, np.float32), lax.mul, (1, 1, 2, 2),
                                 (1, 1, 1, 1), "VALID"), TypeError,
     "reduce_window expected init_values to be scalars"),
    (lambda x: lax.reduce_window(x, np.int32(1), lax.mul, (1, 1, 2, 2), (1, 1, 1, 1),
                                 "VALID"), TypeError,
     "reduce_window got inconsistent dtypes for operands and init_values"),
]


@pytest.mark.parametrize("fn,cls,msg", RW_ERRORS, ids=[str(i) for i in range(len(RW_ERRORS))])
def test_reduce_window_errors(fn, cls, msg):
  with pytest.raises(cls, match=msg):
    fn(np.ones((2, 4, 5, 5), np.float32))


JAXPR_MAXPOOL = """{ lambda ; a:f32[4,7,6]. let
    b:f32[4,3,3] = reduce_window_max[
      base_dilation=(1, 1, 1)
      padding=((0, 0), (0, 0), (0, 0))
      window_dilation=(1, 1, 1)
      window_dimensions=(1, 2, 2)
      window_strides=(1, 2, 2)
    ] a
  in (b,) }"""


def test_reduce_window_jaxpr_text():
  f = lambda x: lax.reduce_window(x, -np.inf, lax.max, (1, 2, 2), (1, 2, 2), "VALID")
  assert str(numjax.make_jaxpr(f)(jnp.ones((4, 7, 6)))) == JAXPR_MAXPOOL


# ---------------------------------------------------------------------------------------
# A small CNN: conv -> relu -> max pool -> conv -> mean pool -> dense, forward and gradient

def _cnn(params, x):
  w1, b1, w2, b2, wd, bd = params
  dn = ("NHWC", "HWIO", "NHWC")
  h = lax.conv_general_dilated(x, w1, (1, 1), "SAME", dimension_numbers=dn) + b1
  h = jnp.maximum(h, 0)
  h = lax.reduce_window(h, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
  h = lax.conv_general_dilated(h, w2, (2, 2), "SAME", dimension_numbers=dn) + b2
  h = jnp.tanh(h)
  h = lax.reduce_window(h, 0.0, lax.add, (1, 2, 2, 1), (1, 2, 2, 1), "VALID") / 4
  h = h.reshape(h.shape[0], -1)
  return h @ wd + bd


def _cnn_numpy(params, x):
  w1, b1, w2, b2, wd, bd = [np.asarray(p, np.float64) for p in params]
  x = np.asarray(x, np.float64)

  def conv(x, w, stride):  # NHWC x HWIO, SAME, by loops over taps
    kh, kw = w.shape[:2]
    n, hh, ww, _ = x.shape
    oh, ow = -(-hh // stride), -(-ww // stride)
    ph = max((oh - 1) * stride + kh - hh, 0)
    pw = max((ow - 1) * stride + kw - ww, 0)
    xp = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    out = np.zeros((n, oh, ow, w.shape[3]))
    for i, j in itertools.product(range(kh), range(kw)):
      out += xp[:, i:i + (oh - 1) * stride + 1:stride, j:j + (ow - 1) * stride + 1:stride] @ w[i, j]
    return out
  h = np.maximum(conv(x, w1, 1) + b1, 0)
  n, hh, ww, c = h.shape
  h = h[:, :hh // 2 * 2, :ww // 2 * 2].reshape(n, hh // 2, 2, ww // 2, 2, c).max((2, 4))
  h = np.tanh(conv(h, w2, 2) + b2)
  n, hh, ww, c = h.shape
  h = h[:, :hh // 2 * 2, :ww // 2 * 2].reshape(n, hh // 2, 2, ww // 2, 2, c).mean((2, 4))
  return h.reshape(n, -1) @ wd + bd


def _cnn_params(rng):
  shapes = [(3, 3, 1, 4), (4,), (3, 3, 4, 6), (6,), (6 * 2 * 2, 3), (3,)]
  return [(rng.standard_normal(s) / np.sqrt(np.prod(s[:-1]) if len(s) > 1 else 1))
          .astype(np.float32) for s in shapes]


def test_cnn_forward_matches_numpy():
  rng = np.random.default_rng(1)
  params = _cnn_params(rng)
  x = rng.standard_normal((5, 16, 16, 1)).astype(np.float32)
  out = _cnn(params, x)
  assert out.shape == (5, 3) and out.dtype == np.float32
  np.testing.assert_allclose(out, _cnn_numpy(params, x), rtol=1e-4, atol=1e-4)
  np.testing.assert_allclose(numjax.jit(_cnn)(params, x), out, rtol=1e-5, atol=1e-5)


def test_cnn_gradient():
  rng = np.random.default_rng(2)
  params = _cnn_params(rng)
  x = rng.standard_normal((3, 16, 16, 1)).astype(np.float32)
  y = rng.standard_normal((3, 3)).astype(np.float32)

  def loss(params, x):
    return jnp.mean((_cnn(params, x) - y) ** 2)
  check_grads(loss, (params, x), order=1, modes=("rev",), atol=3e-2, rtol=3e-2)
  g = numjax.grad(loss)(params, x)
  gj = numjax.jit(numjax.grad(loss))(params, x)
  for a, b in zip(g, gj):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
  # float64 central differences on one weight entry of each layer, against numpy's forward
  eps = 1e-3
  for k in (0, 2, 4):
    p64 = [np.asarray(p, np.float64) for p in params]
    idx = (0,) * p64[k].ndim
    up = [p.copy() for p in p64]
    dn = [p.copy() for p in p64]
    up[k][idx] += eps
    dn[k][idx] -= eps
    fd = (np.mean((_cnn_numpy(up, x) - y) ** 2) - np.mean((_cnn_numpy(dn, x) - y) ** 2)) / (
        2 * eps)
    np.testing.assert_allclose(np.asarray(g[k])[idx], fd, rtol=2e-2, atol=1e-4)


def test_cnn_per_example_gradients_vmap():
  rng = np.random.default_rng(3)
  params = _cnn_params(rng)
  x = rng.standard_normal((3, 16, 16, 1)).astype(np.float32)
  f = lambda p, xi: jnp.sum(_cnn(p, xi[None]) ** 2)
  per = numjax.vmap(numjax.grad(f), in_axes=(None, 0))(params, x)
  for i in range(3):
    gi = numjax.grad(f)(params, x[i])
    for a, b in zip(per, gi):
      np.testing.assert_allclose(np.asarray(a)[i], b, rtol=1e-4, atol=1e-5)


def test_generic_select_and_scatter():
  from numjax._src.lax.windowed import _select_and_scatter
  rng = np.random.default_rng(5)
  x = rng.standard_normal((4, 6)).astype(np.float32)
  src = rng.standard_normal((2, 3)).astype(np.float32)
  cfg = ((3, 3), (2, 2), ((1, 0), (1, 1)))
  out = _select_and_scatter(x, lax.ge, *cfg, src, np.float32(0), lax.add)
  ref = lax.select_and_scatter_add_p.bind(jnp.asarray(src), jnp.asarray(x), select_prim=lax.ge_p,
                                          window_dimensions=cfg[0], window_strides=cfg[1],
                                          padding=cfg[2])
  np.testing.assert_array_equal(out, ref)
  # loop: each window multiplies its source into its (first) minimum; init 1
  s2 = rng.uniform(0.5, 2, (3, 2)).astype(np.float32)
  out = _select_and_scatter(x, lax.le, (2, 3), (1, 2), ((0, 0), (0, 0)), s2, np.float32(1),
                            lax.mul)
  exp = np.ones_like(x)
  for i, j in itertools.product(range(3), range(2)):
    win = x[i:i + 2, 2 * j:2 * j + 3]
    a, b = np.unravel_index(np.argmin(win), win.shape)
    exp[i + a, 2 * j + b] *= s2[i, j]
  np.testing.assert_allclose(out, exp, rtol=1e-6)
  v = numjax.vmap(lambda x, s: _select_and_scatter(x, lax.le, (2, 3), (1, 2), ((0, 0), (0, 0)),
                                                   s, np.float32(1), lax.mul))(
      np.stack([x, -x]), np.stack([s2, s2]))
  np.testing.assert_allclose(v[0], exp, rtol=1e-6)
  with pytest.raises(NotImplementedError, match="select_and_scatter"):
    numjax.grad(lambda s: _select_and_scatter(x, lax.le, (2, 3), (1, 2), ((0, 0), (0, 0)), s,
                                              np.float32(1), lax.mul).sum())(s2)


def test_select_and_gather_add_primitive():
  # per window, the tangent at the first maximum (loop reference)
  rng = np.random.default_rng(6)
  x = rng.standard_normal((5, 6)).astype(np.float32)
  t = rng.standard_normal((5, 6)).astype(np.float32)
  out = lax.select_and_gather_add_p.bind(
      jnp.asarray(t), jnp.asarray(x), select_prim=lax.ge_p, window_dimensions=(2, 3),
      window_strides=(1, 2), padding=((0, 0), (0, 1)), base_dilation=(1, 1),
      window_dilation=(1, 1))
  xp = np.pad(x, ((0, 0), (0, 1)), constant_values=-np.inf)
  tp = np.pad(t, ((0, 0), (0, 1)))
  ref = np.zeros((4, 3), np.float32)
  for i, j in itertools.product(range(4), range(3)):
    win = xp[i:i + 2, 2 * j:2 * j + 3]
    a, b = np.unravel_index(np.argmax(win), win.shape)
    ref[i, j] = tp[i + a, 2 * j + b]
  np.testing.assert_array_equal(out, ref)
  # generic select_and_scatter_p is what lax.select_and_scatter_add_p generalises
  assert lax.select_and_scatter_p.name == "select_and_scatter"


def test_random_gamma_grad_export():
  # lax.random_gamma_grad: d sample / d a = -(dF/da) / (dF/dx) for the gamma CDF F
  import scipy.special as ssp
  a = np.array([0.7, 2.0, 5.0], np.float32)
  x = np.array([0.4, 1.5, 6.0], np.float32)
  h = 1e-5
  a64, x64 = a.astype(float), x.astype(float)
  dfda = (ssp.gammainc(a64 + h, x64) - ssp.gammainc(a64 - h, x64)) / (2 * h)
  pdf = np.exp((a64 - 1) * np.log(x64) - x64 - ssp.gammaln(a64))
  np.testing.assert_allclose(lax.random_gamma_grad(a, x), -dfda / pdf, rtol=1e-3)
