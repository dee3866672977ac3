"""numjax.dlpack: arrays from DLPack producers."""
from numjax._src.numpy.creation import from_dlpack  # noqa: F401
from numjax._src.dlpack_util import is_supported_dtype  # noqa: F401
