"""The jnp library, written in lax primitives (public names: numjax/numpy)."""
from numjax._src.numpy import indexing as _indexing  # noqa: F401,E402 (installs x[idx], x.at)
