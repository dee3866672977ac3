"""numjax.interpreters: the transformation interpreters (ad, batching, partial_eval)."""
from numjax._src.interpreters import ad, batching, partial_eval  # noqa: F401
