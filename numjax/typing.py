"""numjax.typing: type annotations for array-like values and dtypes."""
from numjax._src.typing import Array, ArrayLike, DTypeLike, Shape  # noqa: F401
