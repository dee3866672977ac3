"""Annotation types: ArrayLike (anything jnp accepts as an array), DTypeLike, Shape."""
from __future__ import annotations

from typing import Any, Sequence, Union

import numpy as np

from numjax._src.array import Array

ArrayLike = Union[Array, np.ndarray, np.bool_, np.number, bool, int, float, complex]
DTypeLike = Union[str, type, np.dtype, Any]
Shape = Sequence[int]
