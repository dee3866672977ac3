"""numjax.stages: the ahead-of-time stages of a jitted function.

    traced = jitted.trace(*args)     # Traced: .jaxpr, .out_info, .lower()
    lowered = jitted.lower(*args)    # Lowered: .as_text() (optimised jaxpr), .compile()
    compiled = lowered.compile()     # Compiled: callable, .as_text() (generated code)
"""
from numjax._src.jit import Traced, Lowered, Compiled, JitWrapped as Wrapped  # noqa: F401
