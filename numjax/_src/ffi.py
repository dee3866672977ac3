"""numjax.ffi: XLA foreign-function calls have no counterpart without XLA. Every entry point
raises NotImplementedError saying what to use instead."""
from __future__ import annotations

_MSG = ("numjax has no XLA runtime, so XLA FFI custom calls ({what}) are not available. To "
        "call host code from traced functions, use numjax.pure_callback (or "
        "numjax.experimental.io_callback for side effects).")


def _unavailable(what):
  def f(*args, **kwargs):
    raise NotImplementedError(_MSG.format(what=what))
  f.__name__ = what
  f.__doc__ = f"Not available in numjax: {what} needs XLA's FFI."
  return f


ffi_call = _unavailable("ffi_call")
ffi_lowering = _unavailable("ffi_lowering")
build_ffi_lowering_function = _unavailable("build_ffi_lowering_function")
register_ffi_target = _unavailable("register_ffi_target")
register_ffi_target_as_batch_partitionable = _unavailable(
    "register_ffi_target_as_batch_partitionable")
register_ffi_type = _unavailable("register_ffi_type")
register_ffi_type_id = _unavailable("register_ffi_type_id")
pycapsule = _unavailable("pycapsule")
include_dir = _unavailable("include_dir")
