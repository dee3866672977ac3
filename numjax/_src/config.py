"""Configuration flags: `numjax.config.update(name, value)`, env vars, context managers.

Hot paths read flags through module attributes of `config` (a plain attribute lookup);
observers registered with `on_change` let caches (dtype canonicalisation, jit keys)
invalidate themselves instead of re-reading the flag on every call.
"""
import contextlib
import os
import threading


def _env_bool(name, default):
  v = os.environ.get(name)
  if v is None:
    return default
  return v.strip().lower() in ("1", "true", "yes", "on", "t", "y")


class _Flag:
  __slots__ = ("name", "default", "help", "parse", "in_trace_context")

  def __init__(self, name, default, help, parse, in_trace_context):
    self.name, self.default, self.help = name, default, help
    self.parse, self.in_trace_context = parse, in_trace_context


class Config:
  """Holds every flag; read as attributes (`config.jax_enable_x64`)."""

  def __init__(self):
    object.__setattr__(self, "_flags", {})
    object.__setattr__(self, "_values", {})
    object.__setattr__(self, "_observers", [])
    object.__setattr__(self, "_local", threading.local())

  def define(self, name, default, help="", parse=None, env=None, in_trace_context=False):
    parse = parse or (lambda v: v)
    self._flags[name] = _Flag(name, default, help, parse, in_trace_context)
    value = default
    envname = env or name.upper()
    if envname in os.environ:
      if isinstance(default, bool):
        value = _env_bool(envname, default)
      else:
        value = parse(os.environ[envname])
    self._values[name] = value
    object.__setattr__(self, name, value)

  def update(self, name, value):
    if name not in self._flags:
      raise AttributeError(f"Unrecognized config option: {name}")
    flag = self._flags[name]
    value = flag.parse(value)
    self._values[name] = value
    object.__setattr__(self, name, value)
    for fn in self._observers:
      fn(name, value)

  def read(self, name):
    return self._values[name]

  @property
  def values(self):
    return dict(self._values)

  def __setattr__(self, name, value):
    raise AttributeError("use numjax.config.update(name, value) to change a flag")

  def on_change(self, fn):
    self._observers.append(fn)
    return fn

  def trace_context(self):
    """The flags that change what a traced program means: part of every jit cache key."""
    return tuple(self._values[n] for n, f in self._flags.items() if f.in_trace_context)

  @contextlib.contextmanager
  def _override(self, name, value):
    old = self._values[name]
    self.update(name, value)
    try:
      yield
    finally:
      self.update(name, old)

  def __repr__(self):
    return f"Config({self._values!r})"


config = Config()
config.define("jax_enable_x64", False, "Enable 64-bit types.", parse=bool, in_trace_context=True)
config.define("jax_default_matmul_precision", None, in_trace_context=True)
config.define("jax_numpy_rank_promotion", "allow", in_trace_context=True)
config.define("jax_numpy_dtype_promotion", "standard", in_trace_context=True)
config.define("jax_disable_jit", False, parse=bool)
config.define("jax_log_compiles", False, parse=bool)
config.define("jax_explain_cache_misses", False, parse=bool)
config.define("jax_debug_nans", False, parse=bool, in_trace_context=True)
config.define("jax_debug_infs", False, parse=bool, in_trace_context=True)
config.define("jax_traceback_filtering", "auto")
config.define("jax_threefry_partitionable", True, parse=bool, in_trace_context=True)
config.define("jax_default_prng_impl", "threefry2x32", in_trace_context=True)
config.define("jax_enable_checks", False, parse=bool)
config.define("jax_platforms", None)
config.define("jax_platform_name", "")
config.define("numjax_tier", "auto", env="NUMJAX_TIER", in_trace_context=False)
# ---- flags behind the top-level context managers (jax.check_tracer_leaks, ...) ----
config.define("jax_check_tracer_leaks", False, parse=bool)
config.define("jax_transfer_guard", None)
config.define("jax_transfer_guard_host_to_device", None)
config.define("jax_transfer_guard_device_to_device", None)
config.define("jax_transfer_guard_device_to_host", None)
config.define("jax_legacy_prng_key", "allow")
config.define("jax_enable_custom_prng", False, parse=bool)
config.define("jax_debug_key_reuse", False, parse=bool, in_trace_context=True)
config.define("jax_softmax_custom_jvp", False, parse=bool, in_trace_context=True)
config.define("jax2tf_associative_scan_reductions", False, parse=bool, in_trace_context=True)
config.define("jax_allow_f16_reductions", True, parse=bool, in_trace_context=True)
config.define("jax_thread_guard", False, parse=bool)
config.define("jax_array_garbage_collection_guard", None)
config.define("jax_no_tracing", False, parse=bool)
config.define("jax_no_execution", False, parse=bool)
config.define("jax_auto_pcast", True, parse=bool, in_trace_context=True)
config.define("jax_remove_size_one_mesh_axis_from_type", False, parse=bool,
              in_trace_context=True)
# ---- end of top-level context-manager flags ----


def enable_x64(new_val: bool = True):
  """Context manager that turns 64-bit mode on (or off) for its body."""
  return config._override("jax_enable_x64", bool(new_val))


def disable_jit(disable: bool = True):
  return config._override("jax_disable_jit", bool(disable))
