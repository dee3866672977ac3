"""The devices numjax computes on: N logical host CPU devices.

Like JAX on a CPU-only machine, there is one CPU device unless
`XLA_FLAGS=--xla_force_host_platform_device_count=N` is set in the environment (or the
`jax_num_cpu_devices` config option is updated) before the devices are first asked for.
All of them share the one host memory: a sharded Array stays one NumPy buffer, and a
device is a label that sharding, pmap and shard_map reason about.
"""
from __future__ import annotations

import os
import re
import warnings

from numjax._src.config import config


class Device:
  """A logical CPU device (`jax.Device`): `CpuDevice(id=N)`."""
  platform = "cpu"
  device_kind = "cpu"
  process_index = 0
  host_id = 0
  task_id = 0
  slice_index = 0

  __slots__ = ("id",)

  def __init__(self, id=0):
    self.id = id

  @property
  def local_hardware_id(self):
    return self.id

  def __repr__(self):
    return f"CpuDevice(id={self.id})"

  def __str__(self):
    return f"cpu:{self.id}"

  def __eq__(self, other):
    return isinstance(other, Device) and other.id == self.id

  def __hash__(self):
    return hash(("cpu", self.id))

  def __reduce__(self):
    return (_device_by_id, (self.id,))

  @property
  def client(self):
    return None

  def memory(self, kind=None):
    return "device"

  def default_memory(self):
    return _Memory(f"CPU_DEVICE_{self.id}", "device")

  def addressable_memories(self):
    return [self.default_memory(), _Memory(f"PINNED_HOST_{self.id + 1}", "pinned_host"),
            _Memory(f"UNPINNED_HOST_{self.id + 2}", "unpinned_host")]

  def memory_stats(self):
    return None

  def live_buffers(self):
    return []


class _Memory:
  """A memory space of a device (all of them are host memory here)."""
  __slots__ = ("_name", "kind")

  def __init__(self, name, kind):
    self._name, self.kind = name, kind

  def __repr__(self):
    return self._name

  def __eq__(self, other):
    return isinstance(other, _Memory) and other._name == self._name

  def __hash__(self):
    return hash(self._name)


# ---------------------------------------------------------------------------------------
# The device list: built on first use (as JAX initialises its backend lazily)

_DEVICES: list | None = None
_FLAG_RE = re.compile(r"--xla_force_host_platform_device_count=(\d+)")

config.define("jax_num_cpu_devices", -1, "Number of logical CPU devices (-1: XLA_FLAGS "
              "or 1).", parse=int)


def _requested_count():
  n = config.jax_num_cpu_devices
  if n is not None and n >= 0:
    return max(int(n), 1)
  m = None
  for m in _FLAG_RE.finditer(os.environ.get("XLA_FLAGS", "")):
    pass  # the last occurrence wins, as in XLA's flag parser
  return max(int(m.group(1)), 1) if m else 1


def _devices() -> list:
  global _DEVICES
  if _DEVICES is None:
    _DEVICES = [Device(i) for i in range(_requested_count())]
  return _DEVICES


class _device_count_override:
  """Context manager (for tests): act as if `n` devices had been configured. Arrays and
  shardings made inside keep their devices afterwards (devices compare by id)."""

  def __init__(self, n):
    self._n = n

  def __enter__(self):
    global _DEVICES
    self._prev = _DEVICES
    _DEVICES = [Device(i) for i in range(self._n)]

  def __exit__(self, *exc):
    global _DEVICES
    _DEVICES = self._prev
    return False


def _device_by_id(i):
  return _devices()[i]


@config.on_change
def _num_cpu_devices_changed(name, value):
  if name == "jax_num_cpu_devices" and _DEVICES is not None and value is not None \
      and value >= 0 and max(int(value), 1) != len(_DEVICES):
    raise RuntimeError("jax_num_cpu_devices config should be updated before backends are "
                       "initialized i.e. before any JAX operation is executed. You should "
                       "initialize this config immediately after `import jax`.")


def _check_backend(backend):
  if backend is None or not isinstance(backend, str):
    return
  if backend.lower() != "cpu":
    raise RuntimeError(f"Unknown backend: '{backend}' requested, but no platforms that are "
                       "instances of " + backend + " are present. Platforms present are: cpu")


def devices(backend=None):
  """All devices (numjax: the logical CPU devices)."""
  _check_backend(backend)
  return list(_devices())


def local_devices(process_index=None, backend=None, host_id=None):
  """The devices this process addresses (all of them: numjax runs one process)."""
  _check_backend(backend)
  if process_index not in (None, 0) or host_id not in (None, 0):
    return []
  return list(_devices())


def device_count(backend=None):
  """The number of devices."""
  _check_backend(backend)
  return len(_devices())


def local_device_count(backend=None):
  """The number of devices this process addresses."""
  _check_backend(backend)
  return len(_devices())


def default_backend():
  return "cpu"


def process_index(backend=None):
  """This process's index among the processes (always 0)."""
  return 0


def process_count(backend=None):
  """The number of processes (always 1)."""
  return 1


def process_indices(backend=None):
  """The indices of all processes ([0])."""
  return [0]


def host_id(backend=None):
  warnings.warn("jax.host_id has been renamed to jax.process_index. This alias will "
                "eventually be removed; please update your code.", UserWarning, stacklevel=2)
  return 0


def host_count(backend=None):
  warnings.warn("jax.host_count has been renamed to jax.process_count. This alias will "
                "eventually be removed; please update your code.", UserWarning, stacklevel=2)
  return 1


def host_ids(backend=None):
  warnings.warn("jax.host_ids has been renamed to jax.process_indices. This alias will "
                "eventually be removed; please update your code.", UserWarning, stacklevel=2)
  return [0]

