"""numjax.custom_derivatives: custom JVP/VJP rules (as jax.custom_derivatives)."""
from numjax._src.custom_derivatives import (  # noqa: F401
    custom_jvp, custom_vjp, custom_gradient, closure_convert, SymbolicZero, CustomVJPPrimal,
    zero_from_primal)
