"""numjax.core: abstract values, tracers and jaxpr evaluation."""
from typing import Any, Union

from numjax._src.core import (  # noqa: F401
    AbstractValue, ShapedArray, Trace, Tracer, Var, Literal, eval_jaxpr, Jaxpr, ClosedJaxpr)
from numjax._src.jit import ensure_compile_time_eval  # noqa: F401

eval_context = ensure_compile_time_eval
Atom = Union[Var, Literal]
ParamDict = dict
Value = Any


def max_dim(d1, d2):
  """The larger of two dimension sizes."""
  return max(d1, d2)


def min_dim(d1, d2):
  """The smaller of two dimension sizes."""
  return min(d1, d2)
