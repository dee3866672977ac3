"""Helpers shared by the slicing family (lax/slicing.py) and the gather/scatter family
(lax/gather_scatter.py): avals of possibly-undefined primals, static int parameters, and
the shape-checked eager path."""
from __future__ import annotations

from numjax._src import core
from numjax._src.array import _make
from numjax._src.interpreters import ad


def _aval(x):
  return x.aval if ad.is_undefined_primal(x) else core.get_aval(x)


def _ints(xs, what="indices"):
  return tuple(core.concrete_dim_or_error(x, f"lax {what} must be static") for x in xs)


# ---------------------------------------------------------------------------------------
# Eager paths: run the shape rule first, so eager calls raise JAX's errors (the NumPy
# kernels would otherwise accept many invalid parameter sets silently).

def _checked_eager(p):
  impl, rule = p.impl, p.abstract_eval
  checked = {}  # (input types, params) -> result weak type: each signature is checked once

  def eager(*args, **params):
    vals = [a._value for a in args]
    key = (tuple((v.shape, v.dtype, a.weak_type) for v, a in zip(vals, args)),
           tuple(params.items()))
    try:
      weak = checked.get(key)
    except TypeError:  # an unhashable parameter: check every time
      key, weak = None, None
    if weak is None:
      weak = rule(*[a.aval for a in args], **params).weak_type
      if key is not None:
        if len(checked) > 2048:
          checked.clear()
        checked[key] = weak
    return _make(impl(*vals, **params), weak)
  p.eager = eager
