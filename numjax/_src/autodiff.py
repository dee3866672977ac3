"""Differentiation API: jvp, linearize, vjp, grad, value_and_grad, jacobians."""
from __future__ import annotations

import functools

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src import tree_util
from numjax._src.interpreters import ad


def _flat_fun(fun, in_tree, out_tree_box):
  def f(*flat):
    out = fun(*tree_util.tree_unflatten(in_tree, flat))
    out_flat, out_tree = tree_util.tree_flatten(out)
    out_tree_box.append(out_tree)
    return out_flat
  return f


def _instantiate(ts):
  return [ad.instantiate_zeros(t) for t in ts]


def jvp(fun, primals, tangents, has_aux=False):
  """(primals_out, tangents_out) of fun at primals along tangents."""
  from numjax._src.lax.lax import asarray
  flat_p, in_tree = tree_util.tree_flatten(tuple(primals))
  flat_t, _ = tree_util.tree_flatten(tuple(tangents))
  box = []
  po, to = ad.jvp_flat(_flat_fun(fun, in_tree, box), [asarray(p) for p in flat_p],
                       [asarray(t) for t in flat_t])
  out_tree = box[0]
  return tree_util.tree_unflatten(out_tree, po), tree_util.tree_unflatten(out_tree, _instantiate(to))


def vjp(fun, *primals, has_aux=False):
  from numjax._src.lax.lax import asarray
  flat_p, in_tree = tree_util.tree_flatten(primals)
  box = []
  po, vjp_flat_fn, _ = ad.vjp_flat(_flat_fun(fun, in_tree, box), [asarray(p) for p in flat_p])
  out_tree = box[0]

  def vjp_fn(ct):
    cts, _ = tree_util.tree_flatten(ct)
    cts_in = vjp_flat_fn([asarray(c) for c in cts])
    return tree_util.tree_unflatten(in_tree, _instantiate(cts_in))
  return tree_util.tree_unflatten(out_tree, po), vjp_fn


def value_and_grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False,
                   reduce_axes=()):
  @functools.wraps(fun)
  def vg(*args, **kwargs):
    from numjax._src.lax.lax import asarray, full_like
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    def f(*diff):
      full = list(args)
      for i, d in zip(nums, diff):
        full[i] = d
      return fun(*full, **kwargs)
    ans, pullback = vjp(f, *[args[i] for i in nums])
    g = pullback(full_like(asarray(ans), 1))
    return ans, (g[0] if isinstance(argnums, int) else g)
  return vg


def grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False, reduce_axes=()):
  vg = value_and_grad(fun, argnums, has_aux, holomorphic, allow_int)

  @functools.wraps(fun)
  def g(*args, **kwargs):
    return vg(*args, **kwargs)[1]
  return g
