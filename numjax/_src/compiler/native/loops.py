"""Native loops: while_loop / fori_loop / scan / cond whose bodies are fully native."""
from __future__ import annotations

from numjax._src.compiler.native import fusion as fu


def emit_control(mod, code, step, env):
  raise fu.Unsupported("native loops: not yet")
