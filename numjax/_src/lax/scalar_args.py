"""Python scalars meeting arrays in lax's binary operations: JAX's dtype-mismatch errors."""
from __future__ import annotations

import builtins
import functools

import numpy as np

from numjax._src import dtypes as _dtypes
from numjax._src.array import Array
from numjax._src.core import Tracer

# lax name -> its promoting jnp counterpart (for the tip in dtype errors)
_JNP_NAMES = {"sub": "subtract", "mul": "multiply", "div": "divide", "rem": "remainder",
              "max": "maximum", "min": "minimum", "atan2": "arctan2", "and": "bitwise_and",
              "or": "bitwise_or", "xor": "bitwise_xor", "shift_left": "left_shift",
              "shift_right_arithmetic": "right_shift", "shift_right_logical": "right_shift",
              "eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal",
              "gt": "greater", "ge": "greater_equal", "pow": "power"}


_PY_SCALAR_TYPES = (builtins.bool, builtins.int, builtins.float, builtins.complex)


def _scalar_kind_check(name, args):
  """A Python scalar of a higher kind than the array it meets (a float with an integer
  array, a complex with a real one), or an int out of the array's integer range, is an
  error as in JAX (which types the scalar int32/float32/complex64 and requires equal
  dtypes), not a silent truncation. Same-kind scalars still take the array's dtype."""
  dt = None
  for a in args:
    if isinstance(a, (Array, Tracer, np.ndarray)):
      dt = a.dtype
      break
  if dt is None:
    return
  k = dt.kind
  for a in args:
    t = type(a)
    if t is builtins.float:
      bad = k in "biu"
    elif t is builtins.complex:
      bad = k != "c"
    elif t is builtins.int and k in "iu":
      lo, hi = _int_range(dt)
      bad = not lo <= a <= hi
    else:
      continue
    if bad:
      got = ", ".join(str(_dtypes.canonicalize_dtype(x.dtype)) if type(x) not in _PY_SCALAR_TYPES
                      else str(_dtypes.canonicalize_dtype(_dtypes.python_scalar_dtypes[type(x)]))
                      for x in args)
      raise TypeError(f"lax.{name} requires arguments to have the same dtypes, got {got}. "
                      f"(Tip: jnp.{_JNP_NAMES.get(name, name)} is a similar function that "
                      "does automatic type promotion on inputs).")


@functools.lru_cache(maxsize=None)
def _int_range(dt):
  info = np.iinfo(dt)
  return int(info.min), int(info.max)
