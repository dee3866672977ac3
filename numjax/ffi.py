"""numjax.ffi: XLA foreign-function interface (not available: raises with a hint)."""
from numjax._src.ffi import (  # noqa: F401
    build_ffi_lowering_function, ffi_call, ffi_lowering, include_dir, pycapsule,
    register_ffi_target, register_ffi_target_as_batch_partitionable, register_ffi_type,
    register_ffi_type_id)
