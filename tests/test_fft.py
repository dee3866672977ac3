"""lax.fft and jnp.fft: NumPy parity over dtypes, shapes, n/s/axes and norm modes; jit,
vmap at every batch position, check_grads (orders 1-2, forward and reverse: the
primitive is linear, its transposes are checked against its jvp), JAX's errors and jaxpr
text."""
import numpy as np
import pytest

import numjax
import numjax.experimental
import numjax.lax as lax
import numjax.numpy as jnp
from numjax.test_util import check_grads
from records import Rec, make_tests, uniform

R = ("float32",)
C = ("complex64",)
GD = ("float32", "float64")
TOL = {"float32": 2e-5, "complex64": 2e-5}


def _ref(name, **kw):
  fn = getattr(np.fft, name)

  def ref(x):
    out = fn(x, **kw)
    single = x.dtype in (np.float32, np.complex64)
    if out.dtype.kind == "c":
      return out.astype(np.complex64 if single else np.complex128)
    return out.astype(np.float32 if single else np.float64)
  return ref


def _rec(name, dtypes, shapes, grad=2, **kw):
  fn = getattr(jnp.fft, name)
  tag = "_".join(f"{k}{v}" for k, v in kw.items()).replace(" ", "")
  return Rec(f"{name}{'_' + tag if tag else ''}", lambda x: fn(x, **kw), _ref(name, **kw),
             shapes=shapes, dtypes=dtypes, grad=grad,
             grad_dtypes=("complex64",) if dtypes == C else GD, grad_tol=3e-2 if dtypes == C
             else None, tol=TOL)


RECORDS = [
    _rec("fft", R + C, [(8,), (3, 5), (2, 3, 4)]),
    _rec("fft", C, [(3, 5)], n=7, axis=0),
    _rec("fft", C, [(6,)], n=4, norm="ortho"),
    _rec("ifft", C, [(8,), (3, 5)]),
    _rec("ifft", C, [(3, 5)], norm="forward"),
    _rec("rfft", R, [(8,), (3, 7), (2, 3, 4)]),
    _rec("rfft", R, [(3, 7)], n=5, axis=0, norm="ortho"),
    _rec("irfft", C, [(5,), (3, 4)]),
    _rec("irfft", C, [(3, 4)], n=7),
    _rec("irfft", C, [(4, 3)], n=6, axis=0, norm="forward"),
    _rec("hfft", C, [(5,), (3, 4)]),
    _rec("ihfft", R, [(6,), (3, 5)], norm="ortho"),
    _rec("fftn", C, [(3, 4), (2, 3, 4)]),
    _rec("fftn", C, [(2, 3, 4)], s=(2, 5), axes=(0, 2), norm="ortho"),
    _rec("ifftn", C, [(2, 3, 4)], axes=(1,)),
    _rec("rfftn", R, [(3, 4), (2, 3, 4)]),
    _rec("irfftn", C, [(3, 4), (2, 3, 4)]),
    _rec("irfftn", C, [(3, 4)], s=(5, 6), axes=(0, 1)),
    _rec("fft2", C, [(3, 4), (2, 3, 4)]),
    _rec("ifft2", C, [(3, 4)], norm="ortho"),
    _rec("rfft2", R, [(3, 4), (2, 4, 5)]),
    _rec("irfft2", C, [(3, 4)], norm="forward"),
    _rec("fftshift", R, [(5,), (4, 6)], grad=1),
    _rec("ifftshift", R, [(5,), (4, 6)], grad=1),
    _rec("fftshift", R, [(4, 5)], axes=1, grad=0),
    Rec("fftn_4d", lambda x: jnp.fft.fftn(x), _ref("fftn"), shapes=[(2, 3, 2, 3)], dtypes=C,
        tol=TOL),
    Rec("lax_fft_fft", lambda x: lax.fft(x, "fft", (4, 5)), _ref("fft2"), shapes=[(2, 4, 5)],
        dtypes=C, tol=TOL),
    Rec("lax_fft_irfft", lambda x: lax.fft(x, lax.FftType.IRFFT, (6,)), _ref("irfft", n=6),
        shapes=[(3, 4)], dtypes=C, tol=TOL,
        grad=2, grad_dtypes=("complex64",), grad_tol=3e-2),
]

test_numpy, test_jit, test_vmap, test_grad = make_tests(RECORDS)


X64_CASES = [(r, s, d) for r in RECORDS for s, d in r.cases()]


@pytest.mark.parametrize("rec,shapes,dtype", X64_CASES,
                         ids=[f"{r.name}-{d}-{'x'.join(map(str, s))}" for r, s, d in X64_CASES])
def test_double_precision(rec, shapes, dtype):
  wide = {"float32": "float64", "complex64": "complex128"}[dtype]
  with numjax.experimental.enable_x64():
    x = rec.args(shapes, wide)[0]
    out = np.asarray(rec.fn(x))
    ref = rec.ref(x)
    assert out.dtype == ref.dtype
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n,d", [(1, 1.0), (4, 1.0), (5, 0.1), (8, 2.5)])
def test_fftfreq(n, d):
  out = jnp.fft.fftfreq(n, d)
  assert out.dtype == np.float32
  np.testing.assert_allclose(out, np.fft.fftfreq(n, d), rtol=1e-6)
  out = jnp.fft.rfftfreq(n, d)
  assert out.dtype == np.float32
  np.testing.assert_allclose(out, np.fft.rfftfreq(n, d), rtol=1e-6)
  with numjax.experimental.enable_x64():
    assert jnp.fft.fftfreq(n, d).dtype == np.float64
    np.testing.assert_allclose(jnp.fft.fftfreq(n, d), np.fft.fftfreq(n, d), rtol=1e-14)


def test_dtype_promotion():
  assert jnp.fft.fft(np.arange(4)).dtype == np.complex64
  assert jnp.fft.rfft(np.arange(4)).dtype == np.complex64
  assert jnp.fft.irfft(np.arange(4)).dtype == np.float32
  assert jnp.fft.fft(np.arange(4, dtype=np.float32)).dtype == np.complex64
  with numjax.experimental.enable_x64():
    assert jnp.fft.fft(np.arange(4.0)).dtype == np.complex128
    assert jnp.fft.irfft(np.arange(4.0)).dtype == np.float64


def test_rfft_irfft_roundtrip_and_linearity_of_gradient():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(4, 9)).astype(np.float32)
  np.testing.assert_allclose(jnp.fft.irfft(jnp.fft.rfft(x), n=9), x, atol=1e-5)
  # grad of |rfft(x)|^2 summed: Parseval-weighted, checked against finite differences
  check_grads(lambda v: jnp.sum(jnp.abs(jnp.fft.rfft(v)) ** 2), (x,), order=2,
              modes=("fwd", "rev"), atol=5e-2, rtol=5e-2)


def test_errors():
  with pytest.raises(ValueError, match="does not support repeated axes"):
    jnp.fft.fftn(np.ones((2, 2)), axes=(0, 0))
  with pytest.raises(ValueError, match="Shape and axes have different lengths"):
    jnp.fft.fftn(np.ones((2, 2)), s=(2,), axes=(0, 1))
  with pytest.raises(ValueError, match="Shape should be positive"):
    jnp.fft.fftn(np.ones((2, 2)), s=(0, 2))
  with pytest.raises(ValueError, match="does not support multiple axes"):
    jnp.fft.fft(np.ones((2, 2)), axis=(0, 1))
  with pytest.raises(ValueError, match="only supports 2 axes"):
    jnp.fft.fft2(np.ones((2, 2, 2)), axes=(0, 1, 2))
  with pytest.raises(ValueError, match="Invalid norm value"):
    jnp.fft.fft(np.ones(4), norm="bogus")
  with pytest.raises(ValueError, match="only real valued inputs supported for rfft"):
    lax.fft(np.ones(4, np.complex64), "rfft", (4,))
  with pytest.raises(ValueError, match="minor dimensions must be equal to fft_lengths"):
    lax.fft(np.ones(4, np.complex64), "fft", (5,))
  with pytest.raises(ValueError, match="must have at least as many input dimensions"):
    lax.fft(np.ones(4, np.complex64), "fft", (4, 4))
  with pytest.raises(ValueError, match="Unknown FFT type"):
    lax.fft(np.ones(4, np.complex64), "dct", (4,))
  with pytest.raises(ValueError, match="The n argument of jax.numpy.fft.fftfreq"):
    jnp.fft.fftfreq([4])


def test_jaxpr_text():
  x = np.ones((3, 3), np.float32)
  text = str(numjax.make_jaxpr(lambda v: lax.fft(v, "rfft", (3,)))(x))
  assert "b:c64[3,2] = fft[fft_lengths=(3,) fft_type=2] a" in text
