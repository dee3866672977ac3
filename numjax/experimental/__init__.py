"""numjax.experimental."""
from numjax._src.config import enable_x64  # noqa: F401
from numjax._src.debugging import io_callback  # noqa: F401
from numjax.experimental import shard_map  # noqa: F401  (the module, as jax.experimental)


def disable_x64():
  """Context manager that turns 64-bit mode off for its body."""
  from numjax._src.config import config
  return config._override("jax_enable_x64", False)
