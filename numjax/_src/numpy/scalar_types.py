"""jnp's scalar types: `jnp.float32(3)` makes a 0-d Array; `jnp.float32` is also a dtype.

NumPy has scalar objects; JAX represents scalars as 0-d arrays, so each jnp scalar type is a
class whose call builds an Array and whose `dtype` attribute lets `np.dtype(jnp.float32)`,
`x.astype(jnp.int8)` and `dtype=jnp.bfloat16` work.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from numjax._src import core
from numjax._src import dtypes


class _ScalarMeta(type):
  dtype: np.dtype

  @property
  def __numpy_dtype__(cls) -> np.dtype:
    return cls.dtype

  def __hash__(cls) -> int:
    return hash(cls.dtype.type)

  def __eq__(cls, other: Any) -> bool:
    return cls is other or cls.dtype.type == other

  def __ne__(cls, other: Any) -> bool:
    return not cls == other

  def __call__(cls, x: Any):
    from numjax._src.numpy.creation import asarray
    return asarray(x, dtype=cls.dtype)

  def __instancecheck__(cls, instance: Any) -> bool:
    return isinstance(instance, cls.dtype.type)


def _not_an_array(x):
  raise TypeError(f"JAX scalar type {x} cannot be interpreted as a JAX array.")


core.pytype_aval_mappings[_ScalarMeta] = _not_an_array


def _make_scalar_type(np_scalar_type) -> _ScalarMeta:
  name = np.dtype(np_scalar_type).type.__name__
  cls = _ScalarMeta(name, (object,), {"dtype": np.dtype(np_scalar_type)})
  cls.__module__ = "numjax.numpy"
  cls.__doc__ = (f"A JAX scalar constructor of type {name}.\n\nWhile NumPy defines scalar "
                 "types for each data type, JAX represents scalars as zero-dimensional arrays.")
  return cls


bool_ = _make_scalar_type(np.bool_)
uint2 = _make_scalar_type(dtypes.uint2)
uint4 = _make_scalar_type(dtypes.uint4)
uint8 = _make_scalar_type(np.uint8)
uint16 = _make_scalar_type(np.uint16)
uint32 = _make_scalar_type(np.uint32)
uint64 = _make_scalar_type(np.uint64)
int2 = _make_scalar_type(dtypes.int2)
int4 = _make_scalar_type(dtypes.int4)
int8 = _make_scalar_type(np.int8)
int16 = _make_scalar_type(np.int16)
int32 = _make_scalar_type(np.int32)
int64 = _make_scalar_type(np.int64)
uint1 = _make_scalar_type(dtypes.uint1) if dtypes.uint1 is not None else None
int1 = _make_scalar_type(dtypes.int1) if dtypes.int1 is not None else None
float4_e2m1fn = _make_scalar_type(dtypes.float4_e2m1fn)
float6_e2m3fn = _make_scalar_type(dtypes.float6_e2m3fn)
float6_e3m2fn = _make_scalar_type(dtypes.float6_e3m2fn)
float8_e3m4 = _make_scalar_type(dtypes.float8_e3m4)
float8_e4m3 = _make_scalar_type(dtypes.float8_e4m3)
float8_e8m0fnu = _make_scalar_type(dtypes.float8_e8m0fnu)
float8_e4m3fn = _make_scalar_type(dtypes.float8_e4m3fn)
float8_e4m3fnuz = _make_scalar_type(dtypes.float8_e4m3fnuz)
float8_e5m2 = _make_scalar_type(dtypes.float8_e5m2)
float8_e5m2fnuz = _make_scalar_type(dtypes.float8_e5m2fnuz)
float8_e4m3b11fnuz = _make_scalar_type(dtypes.float8_e4m3b11fnuz)
bfloat16 = _make_scalar_type(dtypes.bfloat16)
float16 = _make_scalar_type(np.float16)
float32 = single = _make_scalar_type(np.float32)
float64 = double = _make_scalar_type(np.float64)
complex64 = csingle = _make_scalar_type(np.complex64)
complex128 = cdouble = _make_scalar_type(np.complex128)

bool = bool_  # noqa: A001 (jnp.bool, as NumPy 2)
int_ = int64
uint = uint64
float_ = float64
complex_ = complex128
