"""Record JAX 0.10.2's decompositions (sign/phase conventions included) and a few gradients
on fixed inputs.

Run with a real JAX:  /work/jaxenv/bin/python tests/data/record_linalg_golden.py
Writes tests/data/linalg_golden.npz, read by tests/test_linalg_golden.py (the tests
themselves never import jax).
"""
import os

import numpy as np


def inputs():
  rng = np.random.default_rng(2024)
  a = rng.normal(size=(3, 5, 4)).astype(np.float32)
  sq = rng.normal(size=(2, 4, 4)).astype(np.float32)
  spd = (sq @ np.swapaxes(sq, -1, -2) + 4 * np.eye(4)).astype(np.float32)
  c = (rng.normal(size=(4, 3)) + 1j * rng.normal(size=(4, 3))).astype(np.complex64)
  sig = rng.normal(size=(2, 8)).astype(np.float32)
  return dict(a=a, sq=sq, spd=spd, c=c, sig=sig)


def compute(np_, jnp_, lax_linalg, grad, jsl_):
  """The recorded quantities, written against a jnp-like namespace (shared with the test)."""
  x = inputs()
  a, sq, spd, c, sig = (x[k] for k in ("a", "sq", "spd", "c", "sig"))
  out = {}
  out["svd_u"], out["svd_s"], out["svd_vh"] = jnp_.linalg.svd(a)
  out["svd_thin_u"], _, out["svd_thin_vh"] = jnp_.linalg.svd(c, full_matrices=False)
  out["qr_q"], out["qr_r"] = jnp_.linalg.qr(a)
  out["qrc_q"], out["qrc_r"] = jnp_.linalg.qr(c, mode="complete")
  out["eigh_w"], out["eigh_v"] = jnp_.linalg.eigh(spd)
  out["eig_w"], out["eig_v"] = jnp_.linalg.eig(sq)
  out["lu"], out["lu_piv"], out["lu_perm"] = lax_linalg.lu(a)
  out["chol"] = jnp_.linalg.cholesky(spd)
  out["det"] = jnp_.linalg.det(sq)
  out["slogdet_s"], out["slogdet_l"] = jnp_.linalg.slogdet(sq)
  out["pinv"] = jnp_.linalg.pinv(a)
  out["expm"] = jsl_.expm(sq[0] * 0.5)
  out["schur_t"], out["schur_z"] = jsl_.schur(sq[0])
  out["grad_det"] = grad(lambda m: jnp_.linalg.det(m))(sq[0])
  out["grad_eigh"] = grad(lambda m: jnp_.sum(jnp_.linalg.eigh(m)[0] ** 2))(spd[0])
  out["grad_svd"] = grad(lambda m: jnp_.sum(jnp_.linalg.svd(m, compute_uv=False)))(a[0])
  out["grad_chol"] = grad(lambda m: jnp_.sum(jnp_.linalg.cholesky(m)))(spd[0])
  out["grad_qr"] = grad(lambda m: jnp_.sum(jnp_.linalg.qr(m)[1]))(a[0])
  out["grad_solve"] = grad(lambda m: jnp_.sum(jnp_.linalg.solve(m, sig[0, :4])))(sq[0])
  out["fft"] = jnp_.fft.fft(sig)
  out["irfft"] = jnp_.fft.irfft(jnp_.fft.rfft(sig), n=8)
  out["grad_rfft"] = grad(lambda s: jnp_.sum(jnp_.abs(jnp_.fft.rfft(s)) ** 2))(sig[0])
  return {k: np_.asarray(v) for k, v in out.items()}


if __name__ == "__main__":
  import jax  # only when recording: the tests import `compute` without jax
  import jax.numpy as jnp
  import jax.scipy.linalg as jsl
  res = compute(np, jnp, jax.lax.linalg, jax.grad, jsl)
  path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "linalg_golden.npz")
  np.savez(path, **res)
  print(f"wrote {len(res)} arrays to {path}")
