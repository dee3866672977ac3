"""numjax.distributed: single-process initialize/shutdown."""
from numjax._src.distributed import initialize, is_initialized, shutdown  # noqa: F401
