"""What every jax.scipy.stats distribution shares, so that each one states only its formulas.

A distribution is a subclass of `Distribution` whose body holds
- formulas decorated with `@promoted`: written on arguments already promoted to a common
  inexact dtype (and broadcast-compatible), with the public signature and defaults; and
- one-line derived functions, `pdf = derived(lax.exp, "logpdf")`: op(source(...)), taking the
  source's arguments; and for distributions symmetric about loc, `sf = reflected("cdf")`.
Subclassing turns both into static functions (the public numjax.scipy.stats.<name> modules
re-export them).
"""
from __future__ import annotations

import functools
import inspect

from numjax._src.lax import lax
from numjax._src.numpy.util import promote_args_inexact


def jnp():
  import numjax.numpy as jnp  # lazy: numjax.numpy imports scipy pieces at import time
  return jnp


def const(x, v):
  """v as a constant of x's dtype."""
  return lax._const(x, v)


def std(x, loc, scale):
  return (x - loc) / scale  # jnp operators: NumPy broadcasting of the parameters


def promoted(fn):
  """fn with all its arguments (defaults included) first promoted by promote_args_inexact
  under the name '<distribution>.<function>' (fn's qualified name)."""
  sig = inspect.signature(fn)
  defaults = tuple(p.default for p in sig.parameters.values())
  name = fn.__qualname__

  @functools.wraps(fn)
  def wrapper(*args, **kwargs):
    if kwargs or len(args) > len(defaults) or inspect.Parameter.empty in defaults[len(args):]:
      try:
        bound = sig.bind(*args, **kwargs)
      except TypeError:
        fn(*args, **kwargs)  # raises Python's own message for a bad call
        raise
      bound.apply_defaults()
      args = bound.args
    else:
      args = args + defaults[len(args):]
    return fn(*promote_args_inexact(name, *args))
  return wrapper


class derived:
  """A class-body marker: the function op(<source>(*args)) with <source>'s signature."""

  def __init__(self, op, source):
    self.op = op
    self.source = source


class reflected:
  """A class-body marker for a distribution symmetric about loc: the promoted function
  (x, loc=0, scale=1) -> <source>(-x, -loc, scale), e.g. sf from cdf."""

  def __init__(self, source):
    self.source = source


class Distribution:
  """Base of the distribution namespaces: resolves `derived` markers, makes functions static."""

  def __init_subclass__(cls, **kwargs):
    super().__init_subclass__(**kwargs)
    body = dict(vars(cls))
    for name, v in body.items():
      if isinstance(v, derived):
        v = _make_derived(cls, name, v, body)
      elif isinstance(v, reflected):
        v = _make_reflected(cls, name, v.source)
      elif name.startswith("_") or not inspect.isfunction(v):
        continue
      setattr(cls, name, staticmethod(v))


def _make_derived(cls, name, marker, body):
  root = marker
  while isinstance(root, derived):  # a derived function may derive from another
    root = body[root.source]
  op, source = marker.op, marker.source

  def fn(*args, **kwargs):
    return op(getattr(cls, source)(*args, **kwargs))
  fn.__name__ = name
  fn.__qualname__ = f"{cls.__name__}.{name}"
  fn.__module__ = cls.__module__
  fn.__signature__ = inspect.signature(root)
  return fn


def _make_reflected(cls, name, source):
  def fn(x, loc=0, scale=1):
    return getattr(cls, source)(-x, -loc, scale)
  fn.__name__ = name
  fn.__qualname__ = f"{cls.__name__}.{name}"
  fn.__module__ = cls.__module__
  return promoted(fn)
