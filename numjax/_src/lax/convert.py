"""lax.convert_element_type and bitcast_convert_type: the primitive, its impl (NumPy casts
with JAX's rules: saturating float->int, NaN->0, bool/complex cases), shape rule, jvp,
transpose and batching rule. (Split out of lax.py, which re-exports these names.)"""
from __future__ import annotations

import builtins

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.array import Array, _make
from numjax._src.array import _narrow as _array_narrow
from numjax._src.core import Primitive, ShapedArray, Tracer
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters.ad import Zero
from numjax._src.lax.lax import (_bool, _float0, _py_scalars, _quiet, asarray, real)


convert_element_type_p = Primitive("convert_element_type")
convert_element_type_p.elementwise = True
convert_element_type_p.native_template = "(({new_ctype})({0}))"
convert_element_type_p.hidden_params = frozenset({"sharding"})


def _convert_impl(x, *, new_dtype, weak_type, sharding=None):
  if x.dtype == new_dtype:
    return x
  # (dtype kinds stand for np.issubdtype here: 'iu' integer, 'f' floating, 'c' complex;
  # ml_dtypes' types are kind 'V' for both)
  new_kind, kind = np.dtype(new_dtype).kind, x.dtype.kind
  if kind == "V" and _dtypes.issubdtype(x.dtype, np.floating):
    kind = "f"   # bfloat16/float8: ml_dtypes' own casts to integers wrap instead
  if new_kind in "iu" and kind == "f":
    with np.errstate(all="ignore"):
      # XLA truncates toward zero and saturates; NaN becomes 0
      info = np.iinfo(new_dtype)
      xf = np.trunc(np.nan_to_num(x.astype(np.float64), nan=0.0))
      return np.clip(xf, info.min, info.max).astype(new_dtype)
  if new_kind in "iu" and kind == "c":
    return _convert_impl(np.real(x), new_dtype=new_dtype, weak_type=weak_type)
  if new_kind != "c" and kind == "c":
    return np.real(x).astype(new_dtype)
  if new_dtype == _bool:
    return x != 0
  return _quiet_astype(x, new_dtype)


_quiet_astype = _quiet(lambda x, dtype: x.astype(dtype))


convert_element_type_p.impl = _convert_impl
convert_element_type_p.abstract_eval = (
    lambda x, *, new_dtype, weak_type, sharding=None: ShapedArray(x.shape, new_dtype, weak_type))
convert_element_type_p.weak_type_rule = lambda args, params: params["weak_type"]
batching.defvectorized(convert_element_type_p)


def _convert_jvp(primals, tangents, *, new_dtype, weak_type, sharding=None):
  (x,), (t,) = primals, tangents
  out = convert_element_type_p.bind(x, new_dtype=new_dtype, weak_type=weak_type,
                                    sharding=sharding)
  out_t_aval = ad.tangent_aval(core.get_aval(out))
  if type(t) is Zero or out_t_aval.dtype == _float0 or core.get_aval(t).dtype == _float0:
    return out, Zero(out_t_aval)
  return out, convert_element_type_p.bind(t, new_dtype=new_dtype, weak_type=weak_type,
                                          sharding=sharding)


def _convert_transpose(ct, x, *, new_dtype, weak_type, sharding=None):
  old = x.aval.dtype
  if type(ct) is Zero:
    return [Zero(x.aval)]
  if _dtypes.issubdtype(old, np.complexfloating) or not _dtypes.issubdtype(new_dtype, np.complexfloating):
    return [convert_element_type_p.bind(ct, new_dtype=old, weak_type=x.aval.weak_type,
                                        sharding=sharding)]
  return [convert_element_type_p.bind(real(ct), new_dtype=old, weak_type=x.aval.weak_type,
                                      sharding=sharding)]


ad.primitive_jvps[convert_element_type_p] = _convert_jvp
ad.primitive_transposes[convert_element_type_p] = _convert_transpose


_PY_INEXACT = (float, builtins.complex)


def convert_element_type(x, new_dtype, weak_type: bool = False):
  """lax.convert_element_type: cast x to new_dtype (canonicalised)."""
  # Eager no-op cast (the jnp layer calls this on every result): x already has that
  # (canonical) dtype and weak type.
  if type(x) is Array:
    if x.weak_type == weak_type:
      dt = x._value.dtype
      if dt is new_dtype and dt not in _array_narrow:
        return x
  elif isinstance(x, np.floating) and isinstance(new_dtype, np.dtype) and new_dtype.kind == "f":
    # a NumPy float scalar to a float dtype: what asarray + the convert primitive do
    dt = _dtypes.canonicalize_dtype(new_dtype)
    return _make(_quiet_astype(np.asarray(x).astype(_dtypes.canonicalize_dtype(x.dtype)), dt),
                 bool(weak_type))
  elif isinstance(x, Tracer):
    a = x.aval
    if a.weak_type == weak_type and a.dtype is new_dtype and new_dtype not in _array_narrow:
      return x
  # arrays and jnp scalar types carry a .dtype; NumPy scalar types (np.bool_) only a
  # descriptor there, and np.dtype() understands them directly
  if not isinstance(new_dtype, np.dtype) and isinstance(getattr(new_dtype, "dtype", None),
                                                        np.dtype):
    new_dtype = new_dtype.dtype
  new_dtype = _dtypes.canonicalize_dtype(new_dtype)
  if isinstance(x, _py_scalars) and not isinstance(x, np.generic):
    out = _make(np.asarray(x).astype(new_dtype) if not isinstance(x, builtins.complex) or
                np.issubdtype(new_dtype, np.complexfloating)
                else np.asarray(x.real).astype(new_dtype), weak_type)
    if weak_type and type(x) in _PY_INEXACT and new_dtype == _dtypes.dtype(x, canonicalize=True):
      out._pyval = x  # still the Python literal (JAX keeps it unconverted): printed as such
    return out
  x = asarray(x)
  if x.dtype == new_dtype and x.weak_type == weak_type:
    return x
  return convert_element_type_p.bind(x, new_dtype=new_dtype, weak_type=bool(weak_type),
                                     sharding=None)


def bitcast_convert_type(x, new_dtype):
  from numjax._src.lax.misc import bitcast_convert_type as f  # noqa (the primitive lives there)
  return f(x, new_dtype)
