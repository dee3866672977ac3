"""The result-dtype check shared by test_numpy_reductions and test_numpy_tensor: the tables of
tests/data/record_jnp_b_dtypes.py evaluated on numjax.numpy against the values it recorded
from JAX 0.10.2 (tests/data/jnp_b_dtypes.json), x64 off and on."""
import importlib.util
import json
import os
import warnings

import pytest

import numjax.experimental
import numjax.numpy as jnp

_DATA = os.path.join(os.path.dirname(__file__), "data")

with open(os.path.join(_DATA, "jnp_b_dtypes.json")) as _f:
  GOLDEN = json.load(_f)

_spec = importlib.util.spec_from_file_location(
    "record_jnp_b_dtypes", os.path.join(_DATA, "record_jnp_b_dtypes.py"))
RECORDER = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(RECORDER)


def result_dtypes_test(section):
  """A test of the table `section` ('reductions' or 'products') in both x64 modes."""
  @pytest.mark.parametrize("mode", ["x32", "x64"])
  def test_result_dtypes_match_jax(mode):
    ctx = (numjax.experimental.enable_x64() if mode == "x64"
           else numjax.experimental.disable_x64())
    with ctx, warnings.catch_warnings():
      warnings.simplefilter("ignore")
      ours = RECORDER.table(jnp, mode == "x64")[section]
    want = GOLDEN[mode][section]
    diffs = [(name, k, ours[name][k], exp) for name, row in want.items()
             for k, exp in row.items() if ours[name][k] != exp]
    assert not diffs, diffs
  return test_result_dtypes_match_jax
