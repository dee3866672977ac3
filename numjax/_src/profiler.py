"""numjax.profiler: JAX's profiler API. numjax has no XLA profiler: traces and annotations
are accepted and cost nothing; device memory profiles are empty."""
from __future__ import annotations

import contextlib
import functools
import os

_active_trace = None


class ProfileOptions:
  """Options of a profiling session (accepted and recorded)."""

  def __init__(self):
    self.host_tracer_level = 2
    self.python_tracer_level = 0
    self.device_tracer_level = 1
    self.start_timestamp_ns = 0
    self.duration_ms = 0
    self.advanced_configuration = {}
    self.raise_error_on_start_failure = False


def start_trace(log_dir, create_perfetto_link=False, create_perfetto_trace=False,
                profiler_options=None):
  """Start a profiling session writing to log_dir (nothing is recorded)."""
  global _active_trace
  if _active_trace is not None:
    raise RuntimeError("Profile has already been started. Only one profile may be run at a "
                       "time.")
  _active_trace = os.fspath(log_dir)


def stop_trace():
  """Stop the current profiling session."""
  global _active_trace
  if _active_trace is None:
    raise RuntimeError("No profile started")
  _active_trace = None


@contextlib.contextmanager
def trace(log_dir, create_perfetto_link=False, create_perfetto_trace=False,
          profiler_options=None):
  """Context manager around start_trace/stop_trace."""
  start_trace(log_dir, create_perfetto_link, create_perfetto_trace, profiler_options)
  try:
    yield
  finally:
    stop_trace()


class TraceAnnotation:
  """Context manager naming a region of the trace (no cost here)."""

  def __init__(self, name: str, **kwargs):
    self.name, self.kwargs = name, kwargs

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    return False


class StepTraceAnnotation(TraceAnnotation):
  """TraceAnnotation for a training step (`step_num` keyword)."""


def annotate_function(func=None, name=None, **decorator_kwargs):
  """Decorator wrapping every call of func in a TraceAnnotation."""
  if func is None:
    return functools.partial(annotate_function, name=name, **decorator_kwargs)

  @functools.wraps(func)
  def wrapper(*args, **kwargs):
    with TraceAnnotation(name or getattr(func, "__qualname__", "fn"), **decorator_kwargs):
      return func(*args, **kwargs)
  return wrapper


def device_memory_profile(backend=None) -> bytes:
  """A pprof-format device memory profile (empty: arrays live in host memory)."""
  return b""


def save_device_memory_profile(filename, backend=None) -> None:
  """Write device_memory_profile() to filename."""
  with open(filename, "wb") as f:
    f.write(device_memory_profile(backend))


class _Server:
  def __init__(self, port):
    self.port = port


_server = None


def start_server(port: int):
  """Start a profiler server (a placeholder object: nothing listens)."""
  global _server
  if _server is not None:
    raise ValueError("Only one profiler server can be active at a time.")
  _server = _Server(port)
  return _server


def stop_server():
  """Stop the profiler server."""
  global _server
  if _server is None:
    raise ValueError("No active profiler server.")
  _server = None


def register_subprocess(*args, **kwargs):
  """Register a subprocess to be profiled (no-op)."""


class _NoXSpace:
  @classmethod
  def from_file(cls, path):
    raise NotImplementedError("numjax records no XSpace profiles to read.")

  @classmethod
  def from_serialized_xspace(cls, data):
    raise NotImplementedError("numjax records no XSpace profiles to read.")

  @classmethod
  def from_raw_cpp_ptr(cls, ptr):
    raise NotImplementedError("numjax records no XSpace profiles to read.")


class ProfileData(_NoXSpace):
  """Profile data (XSpace) reader: not available in numjax."""


class ProfilePlane(_NoXSpace):
  """A plane of a ProfileData: not available in numjax."""


class ProfileEvent(_NoXSpace):
  """An event of a ProfilePlane: not available in numjax."""
