"""numjax.distributed: numjax runs in one process, so initialize() accepts exactly the
one-process configuration and refuses others with a clear error."""
from __future__ import annotations

_initialized = False


def initialize(coordinator_address=None, num_processes=None, process_id=None,
               local_device_ids=None, cluster_detection_method=None,
               initialization_timeout=300, heartbeat_timeout_seconds=100,
               shutdown_timeout_seconds=300, coordinator_bind_address=None,
               slice_index=None, partition_index=None):
  """Initialise the (single-process) distributed system."""
  global _initialized
  if _initialized:
    raise RuntimeError("distributed.initialize should only be called once.")
  if num_processes not in (None, 1) or process_id not in (None, 0):
    raise NotImplementedError(
        f"numjax runs in a single process (got num_processes={num_processes}, "
        f"process_id={process_id}); multi-process execution is not supported. Use several "
        "logical CPU devices (jax_num_cpu_devices) with shard_map/pmap instead.")
  _initialized = True


def is_initialized() -> bool:
  """Whether initialize() has been called."""
  return _initialized


def shutdown():
  """Shut the distributed system down (allowed whether or not it was initialised)."""
  global _initialized
  _initialized = False
