"""numjax.debug: printing and host callbacks that work inside jit, vmap and grad."""
from numjax._src.debugging import debug_print as print  # noqa: F401,A001
from numjax._src.debugging import debug_callback as callback  # noqa: F401


def breakpoint(*, backend=None, filter_frames=True, num_frames=None, ordered=False,
               token=None, **kwargs):  # noqa: A001
  """Enter Python's debugger at run time (eagerly: at the call)."""
  import pdb
  pdb.Pdb().set_trace()


from numjax._src.sharding_api import (visualize_array_sharding,  # noqa: F401,E402
                                      visualize_sharding, inspect_array_sharding)
