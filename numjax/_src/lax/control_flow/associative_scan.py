"""lax.associative_scan: a parallel prefix scan with an associative binary function.

The O(log n)-depth pairwise algorithm lives in `lax.reductions.associative_scan_impl` (it
also gives the cumulative reductions their derivatives); this is the public pytree API.
"""
from __future__ import annotations

import operator

from numjax._src import core
from numjax._src import tree_util
from numjax._src.lax.control_flow import common as cf


def associative_scan(fn, elems, reverse: bool = False, axis: int = 0):
  """Scan `elems` (a pytree of arrays sharing the `axis` length) with an associative
  `fn(a, b)`: the k-th result combines the first k elements, ``[a, fn(a, b),
  fn(fn(a, b), c), ...]`` (from the end if `reverse`). `fn` must act elementwise along
  `axis` (e.g. be vmapped)."""
  from numjax._src.lax.reductions import associative_scan_impl
  if not callable(fn):
    raise TypeError("lax.associative_scan: fn argument should be callable.")
  elems_flat, tree = tree_util.tree_flatten(elems)
  elems_flat = [cf.to_array(e) for e in elems_flat]
  if not elems_flat:
    return elems
  ndim = core.get_aval(elems_flat[0]).ndim
  axis = operator.index(axis)
  if not -ndim <= axis < ndim:
    raise ValueError(f"axis {axis} is out of bounds for array of dimension {ndim}")
  axis %= ndim
  n = core.get_aval(elems_flat[0]).shape[axis]
  if not all(core.get_aval(e).ndim > axis and core.get_aval(e).shape[axis] == n
             for e in elems_flat[1:]):
    raise ValueError("Array inputs to associative_scan must have the same first dimension. "
                     f"(saw: {[core.get_aval(e).shape for e in elems_flat]})")

  def combine(a_flat, b_flat):
    c = fn(tree_util.tree_unflatten(tree, a_flat), tree_util.tree_unflatten(tree, b_flat))
    c_flat, c_tree = tree_util.tree_flatten(c)
    if c_tree != tree:
      raise TypeError("associative_scan: fn must return a value with the same structure as "
                      f"its inputs, got {c_tree} for inputs {tree}.")
    return c_flat

  out = associative_scan_impl(combine, elems_flat, axis, reverse=bool(reverse))
  return tree_util.tree_unflatten(tree, out)
