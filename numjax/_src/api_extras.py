"""Top-level odds and ends of the `numjax` namespace: the config-flag context managers
(`numjax.enable_x64(True)`, `numjax.debug_nans(True)`, ...), float0, typeof,
print_environment_info, live_arrays, copy_to_host_async, make_user_context, and the small
`ad` / `memory` namespaces.
"""
from __future__ import annotations

import contextlib
import enum
import functools
import gc
import platform
import sys
import types

from numjax._src import core
from numjax._src import dtypes
from numjax._src.config import config

_NO_DEFAULT = object()


class State:
  """A config flag as a context manager: `with numjax.debug_nans(True): ...`.

  `.value` reads the flag; calling the state with a value returns a context manager that
  sets the flag for its body (boolean flags default to True when called without one)."""

  def __init__(self, name: str, default_context_value=_NO_DEFAULT):
    self.name = name
    self._default_context_value = default_context_value

  @property
  def value(self):
    return config.read(self.name)

  def __call__(self, new_val=_NO_DEFAULT):
    if new_val is _NO_DEFAULT:
      if self._default_context_value is _NO_DEFAULT:
        raise TypeError(f"Context manager for {self.name} config option requires an "
                        "argument representing the new value for the config option.")
      new_val = self._default_context_value
    return config._override(self.name, new_val)

  def get_global(self):
    return self.value

  def set_global(self, value):
    config.update(self.name, value)

  def __bool__(self):
    raise TypeError(f"bool() not supported for instances of type '{type(self).__name__}' "
                    f"(did you mean to use '{self.name}.value' instead?)")

  def __repr__(self):
    return f"State({self.name}={self.value!r})"


def _bool_state(name):
  return State(name, True)


enable_x64 = _bool_state("jax_enable_x64")
debug_nans = _bool_state("jax_debug_nans")
debug_infs = _bool_state("jax_debug_infs")
log_compiles = _bool_state("jax_log_compiles")
explain_cache_misses = _bool_state("jax_explain_cache_misses")
default_matmul_precision = State("jax_default_matmul_precision")
numpy_dtype_promotion = State("jax_numpy_dtype_promotion")
numpy_rank_promotion = State("jax_numpy_rank_promotion")
enable_checks = _bool_state("jax_enable_checks")
check_tracer_leaks = _bool_state("jax_check_tracer_leaks")
checking_leaks = functools.partial(check_tracer_leaks, True)
transfer_guard_host_to_device = State("jax_transfer_guard_host_to_device")
transfer_guard_device_to_device = State("jax_transfer_guard_device_to_device")
transfer_guard_device_to_host = State("jax_transfer_guard_device_to_host")
default_prng_impl = State("jax_default_prng_impl")
threefry_partitionable = _bool_state("jax_threefry_partitionable")
legacy_prng_key = State("jax_legacy_prng_key")
enable_custom_prng = _bool_state("jax_enable_custom_prng")
debug_key_reuse = _bool_state("jax_debug_key_reuse")
softmax_custom_jvp = _bool_state("jax_softmax_custom_jvp")
jax2tf_associative_scan_reductions = _bool_state("jax2tf_associative_scan_reductions")
allow_f16_reductions = _bool_state("jax_allow_f16_reductions")
thread_guard = _bool_state("jax_thread_guard")
array_garbage_collection_guard = State("jax_array_garbage_collection_guard")
no_tracing = _bool_state("jax_no_tracing")
no_execution = _bool_state("jax_no_execution")
auto_pcast = _bool_state("jax_auto_pcast")
remove_size_one_mesh_axis_from_type = _bool_state("jax_remove_size_one_mesh_axis_from_type")

_TRANSFER_GUARD_LEVELS = ("allow", "log", "disallow", "log_explicit", "disallow_explicit")


@contextlib.contextmanager
def transfer_guard(new_val):
  """Context manager setting the transfer guard level of every kind of transfer.

  numjax has one (host) memory, so transfers are never implicit copies; the levels are
  recorded for code that reads them."""
  if new_val not in _TRANSFER_GUARD_LEVELS:
    raise ValueError(f"Invalid transfer guard level {new_val!r}; expected one of "
                     f"{_TRANSFER_GUARD_LEVELS}")
  with contextlib.ExitStack() as stack:
    for name in ("jax_transfer_guard", "jax_transfer_guard_host_to_device",
                 "jax_transfer_guard_device_to_device", "jax_transfer_guard_device_to_host"):
      stack.enter_context(config._override(name, new_val))
    yield


float0 = dtypes.float0


def typeof(x):
  """The abstract type (a ShapedArray) of a value; TypeError for non-JAX types."""
  from numjax._src.state import Ref
  if isinstance(x, Ref):
    return x.aval
  try:
    return core.get_aval(x)
  except TypeError:
    raise TypeError(f"Value {x!r} with type {type(x)} is not a valid JAX type") from None


def print_environment_info(return_string: bool = False):
  """Print (or return) versions of numjax, NumPy and Python and the devices."""
  import numpy as np
  import numjax
  from numjax._src import devices
  lines = [
      f"numjax:    {numjax.__version__}",
      f"numpy:     {np.__version__}",
      f"python:    {sys.version}",
      f"device info: cpu-{devices.device_count()}, {devices.local_device_count()} local "
      "devices",
      f"process_count: {devices.process_count()}",
      f"platform: {platform.uname()}",
  ]
  info = "\n".join(lines) + "\n"
  if return_string:
    return info
  print(info)
  return None


def live_arrays(platform=None):
  """The numjax Arrays currently alive (found through the garbage collector)."""
  from numjax._src.array import Array
  return [o for o in gc.get_objects() if type(o) is Array]


def copy_to_host_async(x):
  """Start copying the arrays of a pytree to the host: a no-op here (they live there)."""
  from numjax._src import tree_util
  for leaf in tree_util.tree_leaves(x):
    fn = getattr(leaf, "copy_to_host_async", None)
    if fn is not None:
      fn()
  return x


_user_contexts: list = []


def make_user_context(default_value=None):
  """A context whose value is part of every jit cache key (changing it retraces)."""
  name = f"numjax_user_context_{len(_user_contexts)}"
  config.define(name, default_value, in_trace_context=True)
  state = State(name)
  _user_contexts.append(state)
  return state


# ---------------------------------------------------------------------------------------
# jax.ad and jax.memory namespaces

class _Marker:
  def __repr__(self):
    return f"{type(self).__name__}()"


class DidntWant(_Marker):
  """Marks an output whose gradient was not requested."""


class DontWant(_Marker):
  """Marks an input whose gradient is not wanted."""


class GradRef(_Marker):
  """Marks a gradient delivered through a reference."""


class GradValue(_Marker):
  """Marks a gradient delivered as a value."""


ad = types.SimpleNamespace(DidntWant=DidntWant, DontWant=DontWant, GradRef=GradRef,
                           GradValue=GradValue)


class MemorySpace(enum.Enum):
  """Where an array's memory lives (one host memory here)."""
  Device = enum.auto()
  Host = enum.auto()
  Any = enum.auto()

  def __repr__(self):
    return f"MemorySpace.{self.name}"


memory = types.SimpleNamespace(Space=MemorySpace)
