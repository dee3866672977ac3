"""numjax.scipy.stats: SciPy's distributions on numjax arrays (thin re-exports).

Each distribution (norm, beta, ...) is a submodule, as in JAX: `numjax.scipy.stats.norm.pdf`
and `import numjax.scipy.stats.norm` both work.
"""
import sys as _sys
import types as _types

from numjax._src.scipy.stats import continuous as _continuous
from numjax._src.scipy.stats import discrete as _discrete
from numjax._src.scipy.stats.core import gaussian_kde, mode, rankdata, sem  # noqa: F401


def _as_module(cls):
  name = f"{__name__}.{cls.__name__}"
  mod = _types.ModuleType(name, cls.__doc__)
  for k, v in vars(cls).items():
    if not k.startswith("_"):
      setattr(mod, k, v.__func__ if isinstance(v, staticmethod) else v)
  _sys.modules[name] = mod
  return mod


for _cls in _continuous.CONTINUOUS + _discrete.DISCRETE:
  globals()[_cls.__name__] = _as_module(_cls)
del _cls
