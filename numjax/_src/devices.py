"""The devices numjax computes on: the host CPU (one device), and a single-device sharding."""


class Device:
  platform = "cpu"
  device_kind = "cpu"
  process_index = 0
  host_id = 0

  def __init__(self, id=0):
    self.id = id

  def __repr__(self):
    return f"CpuDevice(id={self.id})"

  def __eq__(self, other):
    return isinstance(other, Device) and other.id == self.id

  def __hash__(self):
    return hash(("cpu", self.id))

  @property
  def client(self):
    return None

  def memory(self, kind=None):
    return "device"


_DEVICES = [Device(0)]


def devices(backend=None):
  return list(_DEVICES)


def local_devices(process_index=None, backend=None, host_id=None):
  return list(_DEVICES)


def device_count(backend=None):
  return len(_DEVICES)


def local_device_count(backend=None):
  return len(_DEVICES)


def default_backend():
  return "cpu"


def process_index(backend=None):
  return 0


def process_count(backend=None):
  return 1


class SingleDeviceSharding:
  """Placeholder sharding of an unsharded array (the sharding issue replaces its users)."""

  def __init__(self, device=None, *, memory_kind=None):
    self._device = device if device is not None else _DEVICES[0]
    self.memory_kind = memory_kind

  @property
  def device_set(self):
    return {self._device}

  def __repr__(self):
    return f"SingleDeviceSharding(device={self._device!r}, memory_kind=device)"

  def __eq__(self, other):
    return isinstance(other, SingleDeviceSharding) and other._device == self._device

  def __hash__(self):
    return hash(self._device)

  is_fully_replicated = True
  is_fully_addressable = True
  num_devices = 1

  def addressable_devices_indices_map(self, shape):
    return {self._device: tuple(slice(None) for _ in shape)}

  def devices_indices_map(self, shape):
    return self.addressable_devices_indices_map(shape)

  def shard_shape(self, shape):
    return tuple(shape)
