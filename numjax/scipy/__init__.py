"""numjax.scipy: SciPy's API on numjax arrays (thin re-exports of numjax._src.scipy).

Submodules (linalg, special, stats, signal, ...) are imported on first attribute access,
so `import numjax.scipy` stays cheap and `numjax.scipy.linalg` works without an explicit
import (as in JAX).
"""
import importlib as _importlib

_SUBMODULES = ("cluster", "fft", "integrate", "interpolate", "linalg", "ndimage", "optimize",
               "signal", "sparse", "spatial", "special", "stats")


def __getattr__(name):
  if name in _SUBMODULES:
    return _importlib.import_module(f"numjax.scipy.{name}")
  raise AttributeError(f"module 'numjax.scipy' has no attribute {name!r}")
