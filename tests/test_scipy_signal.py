"""jnp.convolve / jnp.correlate and numjax.scipy.signal against NumPy and SciPy, with jit,
vmap and gradients; the convolution examples of seed 004 (JAX's convolutions notebook:
jnp.convolve smoothing, jax.scipy.signal.convolve on an image, lax.conv_general_dilated
with dimension numbers)."""
import numpy as np
import pytest
import scipy.signal as ss

import numjax
import numjax.numpy as jnp
import numjax.scipy.signal as jss
from numjax import lax
from numjax.test_util import check_grads

from records import Rec, make_tests

RNG = np.random.default_rng(0)
MODES = ("full", "same", "valid")

# ---------------------------------------------------------------------------------------
# Records: 1-d jnp, N-d scipy.signal

def _inexact(a):
  # jnp.convolve computes in an inexact type (float32 for int32, as JAX)
  return a.astype(np.float32) if a.dtype.kind in "biu" else a


RECORDS = []
for mode in MODES:
  for s1, s2 in [((7,), (3,)), ((3,), (7,)), ((5,), (5,)), ((1,), (4,))]:
    RECORDS.append(Rec(f"jnp.convolve_{mode}", lambda a, v, m=mode: jnp.convolve(a, v, m),
                       lambda a, v, m=mode: np.convolve(_inexact(a), _inexact(v), m),
                       shapes=[(s1, s2)], nargs=2, dtypes=("float32", "int32", "complex64"),
                       grad=2,
                       tol={"float32": 1e-5, "complex64": 1e-5}))
    RECORDS.append(Rec(f"jnp.correlate_{mode}", lambda a, v, m=mode: jnp.correlate(a, v, m),
                       lambda a, v, m=mode: np.correlate(a, v, m), shapes=[(s1, s2)], nargs=2,
                       dtypes=("float32", "complex64"), grad=1))
  for s1, s2 in [((7,), (3,)), ((6, 5), (2, 3)), ((2, 3), (6, 5)), ((4, 3, 5), (2, 3, 2))]:
    RECORDS.append(Rec(f"signal.convolve_{mode}", lambda a, b, m=mode: jss.convolve(a, b, m),
                       lambda a, b, m=mode: ss.convolve(a, b, m), shapes=[(s1, s2)], nargs=2,
                       dtypes=("float32",), grad=1, tol={"float32": 1e-4}))
    RECORDS.append(Rec(f"signal.correlate_{mode}",
                       lambda a, b, m=mode: jss.correlate(a, b, m),
                       lambda a, b, m=mode: ss.correlate(a, b, m), shapes=[(s1, s2)], nargs=2,
                       dtypes=("float32", "complex64"), grad=0, tol={"float32": 1e-4,
                                                                     "complex64": 1e-4}))
    RECORDS.append(Rec(f"signal.fftconvolve_{mode}",
                       lambda a, b, m=mode: jss.fftconvolve(a, b, m),
                       lambda a, b, m=mode: ss.fftconvolve(a, b, m), shapes=[(s1, s2)],
                       nargs=2, dtypes=("float32",), grad=0, tol={"float32": 1e-4},
                       vmap=False))
  for s1, s2 in [((6, 5), (2, 3)), ((2, 3), (6, 5)), ((4, 4), (4, 4))]:
    RECORDS.append(Rec(f"signal.convolve2d_{mode}",
                       lambda a, b, m=mode: jss.convolve2d(a, b, m),
                       lambda a, b, m=mode: ss.convolve2d(a, b, m), shapes=[(s1, s2)], nargs=2,
                       dtypes=("float32",), grad=1, tol={"float32": 1e-4}))
    RECORDS.append(Rec(f"signal.correlate2d_{mode}",
                       lambda a, b, m=mode: jss.correlate2d(a, b, m),
                       lambda a, b, m=mode: ss.correlate2d(a, b, m), shapes=[(s1, s2)],
                       nargs=2, dtypes=("float32", "complex64"), grad=1,
                       tol={"float32": 1e-4, "complex64": 1e-4}))
RECORDS.append(Rec("signal.detrend_linear", lambda x: jss.detrend(x),
                   lambda x: ss.detrend(x), shapes=[(20,), (3, 16)], grad=1,
                   tol={"float32": 1e-4}))
RECORDS.append(Rec("signal.detrend_axis0_bp", lambda x: jss.detrend(x, 0, bp=[4, 9]),
                   lambda x: ss.detrend(x, 0, bp=[4, 9]), shapes=[(15, 3)], grad=1,
                   tol={"float32": 1e-4}, vmap=False))
RECORDS.append(Rec("signal.detrend_constant", lambda x: jss.detrend(x, type="constant"),
                   lambda x: ss.detrend(x, type="constant"), shapes=[(3, 7)], grad=1))

test_numpy, test_jit, test_vmap, test_grad = make_tests(RECORDS)


def test_convolve_dtypes():
  # NumPy's rule: an inexact result, unless preferred_element_type asks otherwise
  a = np.arange(4, dtype=np.int32)
  assert jnp.convolve(a, a).dtype == np.float32
  r = jnp.convolve(a, a, preferred_element_type=np.int32)
  assert r.dtype == np.int32
  np.testing.assert_array_equal(r, np.convolve(a, a))
  assert jss.convolve(a, a).dtype == np.float32


def test_convolve_errors():
  with pytest.raises(ValueError, match="only support 1-dimensional inputs"):
    jnp.convolve(np.ones((2, 2)), np.ones(2))
  with pytest.raises(ValueError, match="inputs cannot be empty"):
    jnp.correlate(np.ones(0), np.ones(2))
  with pytest.raises(ValueError, match="mode must be one of"):
    jnp.convolve(np.ones(3), np.ones(2), mode="wrap")
  with pytest.raises(ValueError, match="same number of dimensions"):
    jss.convolve(np.ones((3, 3)), np.ones(2))
  with pytest.raises(ValueError, match="One input must be smaller than the other"):
    jss.convolve(np.ones((3, 1)), np.ones((1, 3)))
  with pytest.raises(NotImplementedError, match="boundary='fill'"):
    jss.convolve2d(np.ones((3, 3)), np.ones((2, 2)), boundary="wrap")


def test_fftconvolve_axes():
  a = RNG.standard_normal((3, 10, 4))
  b = RNG.standard_normal((3, 4, 4))
  for mode in MODES:
    np.testing.assert_allclose(jss.fftconvolve(a, b, mode, axes=1),
                               ss.fftconvolve(a, b, mode, axes=1), rtol=1e-4, atol=1e-4)


def test_spectral():
  x = RNG.standard_normal((3, 200))
  y = RNG.standard_normal((3, 200))
  f1, p1 = ss.welch(x, nperseg=64)
  f2, p2 = jss.welch(x, nperseg=64)
  np.testing.assert_allclose(f2, f1, rtol=1e-6)
  np.testing.assert_allclose(p2, p1, rtol=1e-4, atol=1e-6)
  _, c1 = ss.csd(x, y, nperseg=50, scaling="spectrum")
  _, c2 = jss.csd(x, y, nperseg=50, scaling="spectrum")
  np.testing.assert_allclose(c2, c1, rtol=1e-4, atol=1e-6)
  f1, t1, z1 = ss.stft(x, nperseg=32)
  f2, t2, z2 = jss.stft(x, nperseg=32)
  np.testing.assert_allclose(t2, t1, rtol=1e-6)
  np.testing.assert_allclose(z2, z1, rtol=1e-4, atol=1e-5)
  _, _, z1 = ss.stft(x.T, nperseg=31, axis=0)
  _, _, z2 = jss.stft(x.T, nperseg=31, axis=0)
  np.testing.assert_allclose(z2, z1, rtol=1e-4, atol=1e-5)
  _, r1 = ss.istft(z1, nperseg=31, time_axis=-1, freq_axis=0)
  _, r2 = jss.istft(z1, nperseg=31, time_axis=-1, freq_axis=0)
  np.testing.assert_allclose(r2, r1, rtol=1e-4, atol=1e-4)
  # stft is differentiable: d sum|Z|^2 / dx through the FFT
  g = numjax.grad(lambda x: jnp.sum(jnp.abs(jss.stft(x, nperseg=16)[2]) ** 2))(x[0, :64])
  assert g.shape == (64,) and np.all(np.isfinite(g))


# ---------------------------------------------------------------------------------------
# Seed 004: JAX's convolutions notebook

def test_seed004_1d_smoothing():
  key = numjax.random.key(1701)
  x = jnp.linspace(0, 10, 500)
  y = jnp.sin(x) + 0.2 * numjax.random.normal(key, shape=(500,))
  window = jnp.ones(10) / 10
  y_smooth = jnp.convolve(y, window, mode="same")
  assert y_smooth.shape == (500,) and y_smooth.dtype == np.float32
  np.testing.assert_allclose(y_smooth, np.convolve(np.asarray(y), np.asarray(window), "same"),
                             rtol=1e-5, atol=1e-6)
  check_grads(lambda y, w: jnp.convolve(y, w, mode="same"), (y[:50], window), order=2,
              modes=("fwd", "rev"), atol=3e-2, rtol=3e-2)


def test_seed004_2d_image_smoothing():
  rng = np.random.default_rng(4)
  image = rng.random((64, 48)).astype(np.float32)
  noisy = image + 0.25 * rng.standard_normal(image.shape).astype(np.float32)
  xx = np.linspace(-3, 3, 7)
  kernel_2d = np.exp(-0.5 * xx ** 2)
  kernel_2d = np.outer(kernel_2d, kernel_2d).astype(np.float32)
  kernel_2d /= kernel_2d.sum()
  smooth = jss.convolve(noisy, kernel_2d, mode="same")
  np.testing.assert_allclose(smooth, ss.convolve(noisy, kernel_2d, mode="same"), rtol=1e-4,
                             atol=1e-5)
  np.testing.assert_allclose(numjax.jit(lambda a, k: jss.convolve(a, k, mode="same"))(
      noisy, kernel_2d), smooth, rtol=1e-5, atol=1e-6)
  check_grads(lambda a, k: jss.convolve(a, k, mode="same"), (noisy[:12, :10], kernel_2d),
              order=1, modes=("fwd", "rev"), atol=3e-2, rtol=3e-2)


def test_seed004_conv_general_dilated():
  # a 3-channel "image" in NHWC convolved with an HWIO edge-detection kernel
  rng = np.random.default_rng(5)
  img = rng.random((1, 20, 30, 3)).astype(np.float32)
  kernel = np.zeros((3, 3, 3, 3), np.float32)
  kernel += np.array([[1, 1, 0], [1, 0, -1], [0, -1, -1]], np.float32)[:, :, None, None]
  kernel[:, :, 0, 0] += rng.standard_normal((3, 3)).astype(np.float32)
  dn = lax.conv_dimension_numbers(img.shape, kernel.shape, ("NHWC", "HWIO", "NHWC"))
  assert dn == lax.ConvDimensionNumbers(lhs_spec=(0, 3, 1, 2), rhs_spec=(3, 2, 0, 1),
                                        out_spec=(0, 3, 1, 2))
  # as cross-correlation against SciPy, channel by channel
  def scipy_ref(img, k, mode):
    out = []
    for o in range(k.shape[3]):
      acc = sum(ss.correlate(img[0, :, :, i], k[:, :, i, o], mode=mode) for i in range(3))
      out.append(acc)
    return np.stack(out, -1)[None]
  for pad, mode in (("SAME", "same"), ("VALID", "valid")):
    out = lax.conv_general_dilated(img, kernel, (1, 1), pad, (1, 1), (1, 1), dn)
    np.testing.assert_allclose(out, scipy_ref(img, kernel, mode), rtol=1e-4, atol=1e-5)
  # strides, rhs dilation (atrous) and lhs dilation (transposed conv): shapes as JAX's
  out = lax.conv_general_dilated(img, kernel, (2, 2), "VALID", (1, 1), (1, 1), dn)
  assert out.shape == (1, 9, 14, 3)
  out = lax.conv_general_dilated(img, kernel, (1, 1), "VALID", (1, 1), (12, 4), dn)
  assert out.shape == (1, 0, 22, 3)  # the dilated kernel (25 rows) exceeds the image
  out = lax.conv_general_dilated(img, kernel, (1, 1), ((0, 0), (0, 0)), (2, 2), (1, 1), dn)
  assert out.shape == (1, 37, 57, 3)
  check_grads(lambda a, k: lax.conv_general_dilated(a, k, (1, 1), "SAME", (1, 1), (1, 1), dn),
              (img[:, :8, :8], kernel), order=2, modes=("fwd", "rev"), atol=5e-2, rtol=5e-2)
