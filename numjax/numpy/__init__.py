"""numjax.numpy: NumPy's API on numjax arrays (thin re-exports of numjax._src.numpy)."""
from numjax._src.array import Array as ndarray  # noqa: F401
