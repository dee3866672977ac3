"""Decompositions, determinants, expm, FFTs and their gradients against values recorded from
JAX 0.10.2 (tests/data/record_linalg_golden.py): sign and phase conventions of svd/qr/eigh/
eig/schur, LU pivots and gradients are JAX's."""
import importlib.util
import os

import numpy as np
import pytest

import numjax
import numjax.numpy as jnp
import numjax.scipy.linalg as jsl
from numjax.lax import linalg as lax_linalg

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def _recorder():
  spec = importlib.util.spec_from_file_location(
      "record_linalg_golden", os.path.join(HERE, "record_linalg_golden.py"))
  mod = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(mod)  # imports jax only under __main__
  return mod


GOLDEN = dict(np.load(os.path.join(HERE, "linalg_golden.npz")))
OURS = _recorder().compute(np, jnp, lax_linalg, numjax.grad, jsl)
EXACT = {"lu_piv", "lu_perm"}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_matches_jax(name):
  ours, ref = OURS[name], GOLDEN[name]
  assert ours.shape == ref.shape and ours.dtype == ref.dtype, (ours.dtype, ref.dtype)
  if name in EXACT:
    np.testing.assert_array_equal(ours, ref)
  else:
    np.testing.assert_allclose(ours, ref, rtol=2e-4, atol=2e-4)
