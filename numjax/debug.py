"""numjax.debug: printing and host callbacks that work inside jit, vmap and grad."""
from numjax._src.debugging import debug_print as print  # noqa: F401,A001
from numjax._src.debugging import debug_callback as callback  # noqa: F401


def breakpoint(*, backend=None, filter_frames=True, num_frames=None, ordered=False,
               token=None, **kwargs):  # noqa: A001
  """Enter Python's debugger at run time (eagerly: at the call)."""
  import pdb
  pdb.Pdb().set_trace()


def visualize_array_sharding(arr, **kwargs):
  """Print the (single-device) sharding of `arr`."""
  import builtins
  shape = getattr(arr, "shape", ())
  builtins.print(f"CPU 0 (whole array, shape={tuple(shape)})")


def inspect_array_sharding(value, *, callback):
  """Call `callback(sharding)` with the array's sharding (single device)."""
  from numjax._src.devices import SingleDeviceSharding
  callback(SingleDeviceSharding())
