"""numjax.custom_batching: functions with custom vmap rules."""
from numjax._src.custom_batching import custom_vmap, sequential_vmap  # noqa: F401
