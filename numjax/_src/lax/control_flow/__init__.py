"""Control flow: cond/switch, while_loop/fori_loop/scan/map, associative_scan."""
from numjax._src.lax.control_flow.conditionals import cond, switch, cond_p  # noqa: F401
from numjax._src.lax.control_flow.loops import (  # noqa: F401
    scan, while_loop, fori_loop, map, scan_p, while_p)
from numjax._src.lax.control_flow import while_grad  # noqa: F401  (registers its primitives)
from numjax._src.lax.control_flow.associative_scan import associative_scan  # noqa: F401
