"""The whole jit parity table on the native tier.

Every op record of the test modules that use `records.make_tests` is re-run here with
`numjax_tier='native'`: jit on the native tier must equal eager (dtype exactly, values
within the record's tolerance), and no native compile may fail (a failure would silently
fall back to the NumPy tier). Compiling thousands of programs one compiler run each would
take minutes, so the module fixture stages every case first with the native backend in
deferred mode (`native.deferred()`: sources only), then compiles all of them in a few
compiler runs (several programs per translation unit, bundles in parallel) into the disk
cache shared by the session (the user cache, or $NUMJAX_CACHE_DIR); each case then loads
its program on first call.
"""
from __future__ import annotations

import glob
import importlib
import os
import warnings

import numpy as np
import pytest

import numjax
import records
from records import assert_close

_HERE = os.path.dirname(os.path.abspath(__file__))


def _tables():
  for path in sorted(glob.glob(os.path.join(_HERE, "test_*.py"))):
    name = os.path.basename(path)[:-3]
    if name.startswith("test_native"):
      continue
    with open(path) as f:
      if "make_tests(" not in f.read():
        continue
    importlib.import_module(name)
  return records.REGISTRY


def _cases():
  out, seen = [], set()
  for table in _tables():
    for rec in table:
      if not rec.jit:
        continue
      for shapes, dtype in rec.cases():
        key = (id(rec), repr(shapes), dtype)
        if key in seen:
          continue
        seen.add(key)
        out.append((rec, shapes, dtype))
  return out


CASES = _cases()


def _id(case):
  rec, shapes, dtype = case
  return f"{rec.name}-{dtype}-{'x'.join(str(s) for s in shapes)}"


@pytest.fixture(scope="module")
def staged():
  from numjax._src.compiler import native
  if not native.backend.available():
    pytest.skip("no C compiler")
  old = numjax.config.numjax_tier
  numjax.config.update("numjax_tier", "native")
  out = {}
  try:
    with native.deferred():
      for case in CASES:
        rec, shapes, dtype = case
        args = rec.args(shapes, dtype)
        with warnings.catch_warnings(record=True) as w:
          warnings.simplefilter("always")
          try:
            c = numjax.jit(rec.fn).lower(*args).compile()
          except Exception as e:  # the NumPy-tier jit test reports these
            c = e
        failed = [str(x.message) for x in w if "native compilation" in str(x.message)]
        out[id(case)] = (c, args, failed)
    yield out
  finally:
    numjax.config.update("numjax_tier", old)


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_native_jit(staged, case):
  rec, shapes, dtype = case
  compiled, args, failed = staged[id(case)]
  assert not failed, failed[0][:2000]
  if isinstance(compiled, Exception):   # fails to stage on every tier (test_jit says so too)
    raise compiled
  with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    out = compiled(*args)
  assert not [x for x in w if "native compilation" in str(x.message)]
  eager = rec.fn(*args)
  for a, e in zip(records._flat(out), records._flat(eager)):
    assert np.asarray(a).dtype == np.asarray(e).dtype
    assert_close(a, e, rec.rtol(dtype))
