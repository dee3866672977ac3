"""numjax.api_util: helpers for writing transformations over flattened pytrees."""
from __future__ import annotations

import operator
from typing import Any, Callable, NamedTuple, Sequence

from numjax._src import core
from numjax._src import tree_util


def safe_map(f, *args):
  """map() that insists the sequences have equal lengths."""
  args = list(map(list, args))
  n = len(args[0])
  for a in args[1:]:
    if len(a) != n:
      raise ValueError(f"length mismatch: {list(map(len, args))}")
  return list(map(f, *args))


def shaped_abstractify(x):
  """The ShapedArray of a value (arrays, scalars, or objects with .shape and .dtype)."""
  if hasattr(x, "shape") and hasattr(x, "dtype") and not hasattr(x, "aval"):
    import numpy as np
    try:
      return core.get_aval(x)
    except TypeError:
      return core.ShapedArray(tuple(x.shape), np.dtype(x.dtype),
                              getattr(x, "weak_type", False))
  return core.get_aval(x)


def flatten_axes(name, treedef, axis_tree, *, kws=False, tupled_args=False):
  """One entry of `axis_tree` (a prefix of the tree) per leaf of `treedef`."""
  from numjax._src.vmap import _flatten_axes
  full = tree_util.tree_unflatten(treedef, [object()] * treedef.num_leaves)
  return _flatten_axes(name, treedef, full, axis_tree)


def rebase_donate_argnums(donate_argnums, static_argnums):
  """donate_argnums renumbered for the argument list with the static ones removed."""
  static = set(static_argnums)
  out = []
  for i in sorted(set(donate_argnums)):
    if i in static:
      raise ValueError(f"Argument {i} is both static and donated")
    out.append(i - sum(1 for s in static if s < i))
  return tuple(out)


def donation_vector(donate_argnums, donate_argnames, in_tree, kws: bool = True):
  """A bool per leaf of in_tree ((args, kwargs) when kws) saying whether it is donated."""
  args_tree, kwargs_tree = (tree_util.tree_unflatten(in_tree, [None] * in_tree.num_leaves)
                            if kws else (tree_util.tree_unflatten(in_tree,
                                                                  [None] * in_tree.num_leaves),
                                         {}))
  res = []
  for i, arg in enumerate(args_tree):
    n = len(tree_util.tree_leaves(arg, is_leaf=lambda x: x is None))
    res.extend([i in set(donate_argnums)] * n)
  for k in sorted(kwargs_tree) if isinstance(kwargs_tree, dict) else []:
    n = len(tree_util.tree_leaves(kwargs_tree[k], is_leaf=lambda x: x is None))
    res.extend([k in set(donate_argnames or ())] * n)
  return tuple(res)


def argnums_partial(f, dyn_argnums, args, require_static_args_hashable=True):
  """(g, dyn_args): g(*dyn_args) calls f with the other arguments fixed to `args`."""
  dyn_argnums = tuple(sorted(operator.index(i) for i in (
      dyn_argnums if isinstance(dyn_argnums, (tuple, list)) else (dyn_argnums,))))
  fixed = {i: a for i, a in enumerate(args) if i not in dyn_argnums}
  if require_static_args_hashable:
    for i, a in fixed.items():
      try:
        hash(a)
      except TypeError:
        raise ValueError(f"Non-hashable static arguments are not supported: argument {i} "
                         f"of type {type(a)}") from None

  def g(*dyn):
    it = iter(dyn)
    return f(*[fixed[i] if i in fixed else next(it) for i in range(len(args))])
  return g, tuple(args[i] for i in dyn_argnums)


def flatten_fun_nokwargs(f, in_tree):
  """(flat_f, out_tree_thunk): flat_f takes and returns flat lists of leaves."""
  box = []

  def flat_f(*leaves):
    out = f(*tree_util.tree_unflatten(in_tree, leaves))
    out_leaves, out_tree = tree_util.tree_flatten(out)
    box[:] = [out_tree]
    return out_leaves
  return flat_f, lambda: box[0]


def flatten_fun(f, in_tree):
  """As flatten_fun_nokwargs, with in_tree the tree of (args, kwargs)."""
  box = []

  def flat_f(*leaves):
    args, kwargs = tree_util.tree_unflatten(in_tree, leaves)
    out = f(*args, **kwargs)
    out_leaves, out_tree = tree_util.tree_flatten(out)
    box[:] = [out_tree]
    return out_leaves
  return flat_f, lambda: box[0]


class DebugInfo(NamedTuple):
  """Where a traced function came from, for error messages."""
  traced_for: str
  func_src_info: str
  arg_names: tuple
  result_paths: Any = None


def debug_info(traced_for: str, fun: Callable, args: Sequence, kwargs: dict, *,
               static_argnums=(), static_argnames=()):
  """DebugInfo for `fun` called with args/kwargs (names of the dynamic arguments)."""
  import inspect
  try:
    src = f"{fun.__name__} at {inspect.getsourcefile(fun)}:{inspect.getsourcelines(fun)[1]}"
  except (TypeError, OSError, AttributeError):
    src = getattr(fun, "__name__", str(fun))
  try:
    ba = inspect.signature(fun).bind(*args, **kwargs)
    names = tuple(k for k in ba.arguments if k not in static_argnames)
  except (TypeError, ValueError):
    names = tuple(f"args[{i}]" for i in range(len(args)))
  return DebugInfo(traced_for, src, names)
