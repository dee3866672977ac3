"""numjax.test_util: gradient checking against finite differences (as jax.test_util)."""
from numjax._src.test_util import check_grads, check_jvp, check_vjp  # noqa: F401
