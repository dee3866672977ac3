"""numjax.ops: segment reductions."""
from numjax._src.ops import segment_max, segment_min, segment_prod, segment_sum  # noqa: F401
