"""Which dtypes DLPack can exchange."""
import numpy as np

from numjax._src import dtypes

_SUPPORTED = {np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64, np.uint8,
                                    np.uint16, np.uint32, np.uint64, np.float16, np.float32,
                                    np.float64, np.complex64, np.complex128, np.bool_)}
_SUPPORTED.add(np.dtype(dtypes.bfloat16))


def is_supported_dtype(dtype) -> bool:
  """Whether arrays of `dtype` can be exchanged through DLPack."""
  return np.dtype(dtype) in _SUPPORTED
