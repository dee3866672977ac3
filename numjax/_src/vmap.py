"""vmap: in_axes/out_axes pytrees, sizes and errors, on the batching interpreter."""
from __future__ import annotations

import collections
import functools
import inspect

from numjax._src import core
from numjax._src import tree_util
from numjax._src.core import Tracer
from numjax._src.interpreters import batching

__all__ = ["vmap"]

_IN_AXES_MSG = ("vmap in_axes must be an int, None, or a tuple of entries corresponding to "
                "the positional arguments passed to the function")


class _NoneSentinel:
  """Stands for a None (not mapped) in an axes spec while it is flattened."""
  def __repr__(self):
    return "None"


_none = _NoneSentinel()


def _flatten_axes(name, tree_def, full_tree, axes):
  """One axis (int or None) per leaf of `full_tree`, from the prefix spec `axes`."""
  spec = tree_util._replace_nones(_none, axes)
  try:
    leaves = tree_util.broadcast_prefix(spec, full_tree)
  except ValueError:
    errs = tree_util.prefix_errors(spec, full_tree)
    details = "\n".join("  " + str(e(name)) for e in errs[:1])
    raise ValueError(f"{name} specification must be a tree prefix of the corresponding "
                     f"value; \n  Mismatch details ({len(errs)} found):\n{details}") from None
  del tree_def
  return [None if a is _none else a for a in leaves]


def _check_axis_leaf(ax, where):
  if ax is None or ax is _none:
    return
  if isinstance(ax, bool) or not isinstance(ax, int):
    raise TypeError(f"{_IN_AXES_MSG}, but got {ax}." if where == "in" else
                    f"vmap out_axes must be an int, None, or (nested) container with those "
                    f"types as leaves, but got {ax}.")


def _arg_names(fun, nargs, kwargs):
  """Names for argument positions (for error messages), as JAX prints them."""
  try:
    sig = inspect.signature(fun)
    ba = sig.bind_partial(*([None] * nargs))
    names = []
    for i in range(nargs):
      found = None
      for k, v in ba.arguments.items():
        p = sig.parameters[k]
        if p.kind == p.VAR_POSITIONAL:
          start = list(ba.arguments).index(k)
          if i >= start:
            found = ("args", i - start) if i > start else (k, None)
          break
        if list(ba.arguments).index(k) == i:
          found = (k, None)
          break
      names.append(found)
    return names
  except (TypeError, ValueError):
    return [None] * nargs


def _leaf_descriptions(fun, args, kwargs):
  """'argument x[1]' style descriptions for every leaf of (args, kwargs)."""
  names = _arg_names(fun, len(args), kwargs)
  descs = []
  for i, a in enumerate(args):
    paths, _ = tree_util.tree_flatten_with_path(a)
    nm = names[i] if i < len(names) else None
    for p, _ in paths:
      ks = tree_util.keystr(p)
      if nm is None:
        descs.append(f"args[{i}]{ks}")
      elif nm[1] is not None:
        descs.append(f"args[{i}]{ks}")
      else:
        descs.append(f"argument {nm[0]}{ks}")
  for k in sorted(kwargs):
    paths, _ = tree_util.tree_flatten_with_path(kwargs[k])
    for p, _ in paths:
      descs.append(f"argument {k}{tree_util.keystr(p)}")
  return descs


def _mapped_axis_size(fun, flat, dims, args, kwargs, axis_size):
  sizes = []
  for x, d in zip(flat, dims):
    if d is None:
      sizes.append(None)
      continue
    shape = core.get_aval(x).shape
    sizes.append(shape[d])
  mapped = [s for s in sizes if s is not None]
  if axis_size is None:
    if not mapped:
      if not flat:
        raise ValueError("vmap wrapped function must be passed at least one argument "
                         "containing an array or axis_size must be specified, got empty "
                         f"*args={tuple(args)} and **kwargs={kwargs}")
      raise ValueError("vmap must have at least one non-None value in in_axes or axis_size "
                       "must be specified")
    if all(s == mapped[0] for s in mapped):
      return mapped[0]
  elif all(s == axis_size for s in mapped):
    return axis_size
  # Inconsistent: describe every group of sizes, as JAX does.
  descs = _leaf_descriptions(fun, args, kwargs)
  def example(sz):
    i = sizes.index(sz)
    x = flat[i]
    return (f"axis {dims[i]} of {descs[i]} of type "
            f"{core.get_aval(x).str_short(False).replace('[', '[', 1)}")
  counts = collections.Counter(mapped).most_common()
  lines = []
  if axis_size is not None:
    lines.append(f"  * the `axis_size` argument was {axis_size}")
  for k, (sz, ct) in enumerate(counts):
    if ct == 1:
      lines.append(f"  * one axis had size {sz}: {example(sz)}")
    elif k == 0:
      lines.append(f"  * most axes ({ct} of them) had size {sz}, e.g. {example(sz)}")
    else:
      lines.append(f"  * some axes ({ct} of them) had size {sz}, e.g. {example(sz)}")
  raise ValueError("vmap got inconsistent sizes for array axes to be mapped:\n"
                   + ";\n".join(lines))


def _normalize_in_dims(flat, dims):
  out = []
  for x, d in zip(flat, dims):
    if d is None:
      out.append(None)
      continue
    try:
      nd = core.get_aval(x).ndim
    except TypeError:
      nd = 0
    if not -nd <= d < nd:
      shape = core.get_aval(x).shape if core.is_array_like(x) else ()
      need = d + 1 if d >= 0 else -d
      raise ValueError(f"vmap was requested to map its argument along axis {d}, which "
                       f"implies that its rank should be at least {need}, but is only {nd} "
                       f"(its shape is {shape})")
    out.append(d % nd)
  return out


def vmap(fun, in_axes=0, out_axes=0, axis_name=None, axis_size=None, spmd_axis_name=None):
  """Vectorizing map: `fun` mapped over axes of its arguments (in_axes) with the results
  stacked along out_axes. in_axes/out_axes: int, None, or pytree prefixes of the arguments
  / outputs; keyword arguments are always mapped along axis 0."""
  if isinstance(in_axes, list):
    in_axes = tuple(in_axes)  # a top-level list means one entry per argument (as JAX)
  for ax in tree_util.tree_leaves(in_axes):
    _check_axis_leaf(ax, "in")
  for ax in tree_util.tree_leaves(out_axes):
    _check_axis_leaf(ax, "out")
  if not (in_axes is None or isinstance(in_axes, (int, tuple))):
    raise TypeError(f"{_IN_AXES_MSG}, but got {in_axes}.")

  @functools.wraps(fun)
  def vmapped(*args, **kwargs):
    if isinstance(in_axes, tuple) and len(in_axes) != len(args):
      raise ValueError(f"{_IN_AXES_MSG}, but got len(in_axes)={len(in_axes)}, "
                       f"len(args)={len(args)}")
    flat_args, args_tree = tree_util.tree_flatten(tuple(args))
    dims = _flatten_axes("vmap in_axes", args_tree, tuple(args),
                         in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
                         if in_axes is None or isinstance(in_axes, int) else in_axes)
    flat_kw, kw_tree = tree_util.tree_flatten(kwargs)
    flat = flat_args + flat_kw
    dims = list(dims) + [0] * len(flat_kw)
    flat = [_as_array(x) if d is not None else x for x, d in zip(flat, dims)]
    dims = _normalize_in_dims(flat, dims)
    size = _mapped_axis_size(fun, flat, dims, args, kwargs, axis_size)
    store = {}
    n_args = len(flat_args)

    def f(*xs):
      a = tree_util.tree_unflatten(args_tree, xs[:n_args])
      kw = tree_util.tree_unflatten(kw_tree, xs[n_args:])
      out = fun(*a, **kw)
      out_flat, out_tree = tree_util.tree_flatten(out)
      for o in out_flat:
        if not core.is_array_like(o):
          raise TypeError(f"Output from batched function {o!r} with type {type(o)} is not "
                          "a valid JAX type")
      store["out"] = out
      store["out_flat"] = out_flat
      store["out_tree"] = out_tree
      return out_flat

    vals, out_bdims = batching.batch_trace_flat(f, dims, size, axis_name, spmd_axis_name,
                                                flat)
    out_tree = store["out_tree"]
    out_dims = _flatten_axes("vmap out_axes", out_tree, store["out"], out_axes)
    results = []
    for v, d, od, raw in zip(vals, out_bdims, out_dims, store["out_flat"]):
      if od is None:
        if d is not batching.not_mapped:
          raise ValueError(f"at vmap out_axes, got axis spec None but output was batched on "
                           f"axis {d}")
        results.append(v if isinstance(raw, Tracer) or not _is_py_scalar(raw) else raw)
        continue
      v = _as_array(v)
      nd = core.get_aval(v).ndim + (d is batching.not_mapped)
      if not -nd <= od < nd:
        raise ValueError(f"axis {od} is out of bounds for array of dimension {nd}")
      results.append(batching.matchaxis(d, od % nd, size, v))
    return tree_util.tree_unflatten(out_tree, results)
  return vmapped


def _is_py_scalar(x):
  return isinstance(x, (bool, int, float, complex))


def _as_array(x):
  from numjax._src.lax.lax import asarray
  return asarray(x)
