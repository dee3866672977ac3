"""vmap: in_axes/out_axes handling over pytrees, on the batching interpreter."""
from __future__ import annotations

import functools

from numjax._src import core
from numjax._src import tree_util
from numjax._src.interpreters import batching


def vmap(fun, in_axes=0, out_axes=0, axis_name=None, axis_size=None, spmd_axis_name=None):
  @functools.wraps(fun)
  def vmapped(*args):
    from numjax._src.lax.lax import asarray
    flat, in_tree = tree_util.tree_flatten(args)
    if isinstance(in_axes, int) or in_axes is None:
      dims = [in_axes] * len(flat)
    else:
      dims = []
      for a, ax in zip(args, in_axes):
        n = len(tree_util.tree_leaves(a))
        dims += [ax] * n
    flat = [asarray(x) for x in flat]
    dims = [None if d is None else d % core.get_aval(x).ndim for x, d in zip(flat, dims)]
    size = axis_size
    for x, d in zip(flat, dims):
      if d is not None:
        size = core.get_aval(x).shape[d]
        break
    box = []

    def f(*xs):
      out = fun(*tree_util.tree_unflatten(in_tree, xs))
      of, ot = tree_util.tree_flatten(out)
      box.append(ot)
      return of
    outs = batching.vmap_flat(f, dims, lambda: [out_axes] * 1000, size, axis_name,
                              spmd_axis_name, flat)
    return tree_util.tree_unflatten(box[0], outs)
  return vmapped
