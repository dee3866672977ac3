"""Tracebacks without numjax's internal frames.

An exception leaving a numjax API boundary (jit, make_jaxpr, eval_shape, ...) keeps only
the frames of user code, so that the first frame shown after the call is the user's own
line that failed. Config `jax_traceback_filtering`:
  "auto" / "remove_frames"  filter and add a note saying so (default);
  "quiet_remove_frames"     filter silently;
  "off"                     keep every frame.
"""
from __future__ import annotations

import functools
import os
import types

from numjax._src.config import config

_NUMJAX_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NOTE = ("--------------------\nFor simplicity, numjax has removed its internal frames from "
         "the traceback of this exception. Set JAX_TRACEBACK_FILTERING=off (or "
         "numjax.config.update('jax_traceback_filtering', 'off')) to include these.")


def is_internal_frame(frame) -> bool:
  fn = frame.f_code.co_filename
  return fn.startswith(_NUMJAX_DIR) or fn.startswith("<numjax")


def filter_traceback(tb):
  """A new traceback chain with the numjax-internal entries removed."""
  kept = []
  while tb is not None:
    if not is_internal_frame(tb.tb_frame):
      kept.append(tb)
    tb = tb.tb_next
  new = None
  for t in reversed(kept):
    new = types.TracebackType(new, t.tb_frame, t.tb_lasti, t.tb_lineno)
  return new


def filter_exception(e: BaseException) -> BaseException:
  """`e` with its traceback filtered (once), per `jax_traceback_filtering`."""
  mode = config.jax_traceback_filtering
  if mode in ("off", "tracebackhide"):
    return e
  # Filter at every boundary it crosses (nested jits add internal frames on the way up);
  # the note is added once.
  tb = filter_traceback(e.__traceback__)
  if tb is not None:
    e.__traceback__ = tb
  if (mode != "quiet_remove_frames" and hasattr(e, "add_note")
      and _NOTE not in getattr(e, "__notes__", ())):
    e.add_note(_NOTE)
  return e


def api_boundary(fun):
  """Decorator: exceptions leaving `fun` lose numjax's internal frames."""
  @functools.wraps(fun)
  def wrapped(*args, **kwargs):
    try:
      return fun(*args, **kwargs)
    except Exception as e:
      raise filter_exception(e) from e.__cause__
  return wrapped
