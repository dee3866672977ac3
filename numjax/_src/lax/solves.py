"""Implicitly differentiated solvers: custom_linear_solve (the primitive linear_solve_p) and
custom_root.

`linear_solve_p` carries four jaxprs (matvec, vecmat, solve, transpose_solve), each with its
closed-over values lifted to leading operands, followed by the right-hand side b. Its value
is solve(matvec, b). Differentiation never looks inside `solve`:

* jvp:   x_dot = solve(matvec, b_dot - (d matvec)(x)), the derivative of matvec taken with
  respect to its closed-over values only (a second linear_solve);
* transpose (linear in b): b_ct = transpose_solve(vecmat, x_ct), i.e. the same primitive
  with the roles of (matvec, solve) and (vecmat, transpose_solve) swapped;
* batching: each jaxpr is batched, b and x batched at axis 0.

custom_root uses custom_jvp: the root's tangent solves the linearised system with the
user's tangent_solve (implicit function theorem).
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from numjax._src import core
from numjax._src import tree_util
from numjax._src.core import Primitive
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters.ad import Zero
from numjax._src.lax.control_flow import common


class _LinearSolveTuple(NamedTuple):
  matvec: Any
  vecmat: Any
  solve: Any
  transpose_solve: Any

  def transpose(self):
    return type(self)(self.vecmat, self.matvec, self.transpose_solve, self.solve)

  def _pp_param(self):
    parts = []
    for name, v in zip(self._fields, self):
      parts.append(f"{name}={'None' if v is None else (v if isinstance(v, int) else 'jaxpr')}")
    return "(" + ", ".join(parts) + ")"


def _split(args, const_lengths):
  """(params as a _LinearSolveTuple of lists, b)."""
  out, i = [], 0
  for n in const_lengths:
    out.append(list(args[i:i + n]))
    i += n
  return _LinearSolveTuple(*out), list(args[i:])


def _eval(closed, *args):
  return core.eval_jaxpr(closed.jaxpr, closed.consts, *args)


def _num_x(jaxprs):
  return len(jaxprs.matvec.out_avals)


linear_solve_p = Primitive("custom_linear_solve")
linear_solve_p.multiple_results = True
linear_solve_p.numpy_tier_only = True


def _impl_np(*np_args, const_lengths, jaxprs):
  from numjax._src.array import _make
  args = [_make(a, False) for a in np_args]
  return [np.asarray(o._value) for o in _eager(*args, const_lengths=const_lengths,
                                                jaxprs=jaxprs)]


def _eager(*args, const_lengths, jaxprs):
  params, b = _split(args, const_lengths)
  return list(_eval(jaxprs.solve, *params.solve, *b))


def _abstract(*avals, const_lengths, jaxprs):
  return list(jaxprs.solve.out_avals)


linear_solve_p.impl = _impl_np
linear_solve_p.def_eager(_eager)
linear_solve_p.abstract_eval = _abstract


def _jvp(primals, tangents, *, const_lengths, jaxprs):
  outs = linear_solve_p.bind(*primals, const_lengths=const_lengths, jaxprs=jaxprs)
  nx = _num_x(jaxprs)
  x = outs[:nx]
  params, _ = _split(primals, const_lengths)
  params_dot, b_dot = _split(tangents, const_lengths)
  zero_aux = [Zero.from_primal_value(o) for o in outs[nx:]]
  rhs = list(b_dot)
  if any(type(t) is not Zero for t in params_dot.matvec):
    # the derivative of A x with respect to A's closed-over values, x fixed
    mv_tangents = list(params_dot.matvec) + [Zero(ad.tangent_aval(core.get_aval(v)))
                                              for v in x]
    _, mv_dot = ad.jvp_flat(lambda *a: _eval(jaxprs.matvec, *a), list(params.matvec) + x,
                            mv_tangents)
    rhs = [_sub_tangent(r, m) for r, m in zip(rhs, mv_dot)]
  if all(type(r) is Zero for r in rhs):
    return outs, [Zero.from_primal_value(o) for o in outs]
  rhs = [ad.instantiate_zeros(r) for r in rhs]
  x_dot = linear_solve_p.bind(*[p for group in params for p in group], *rhs,
                              const_lengths=const_lengths, jaxprs=jaxprs)
  return outs, list(x_dot[:nx]) + zero_aux


def _sub_tangent(a, b):
  from numjax._src.lax import lax
  if type(b) is Zero:
    return a
  if type(a) is Zero:
    return lax.neg(b)
  return lax.sub(a, b)


def _transpose(cts, *primals, const_lengths, jaxprs):
  if jaxprs.transpose_solve is None:
    raise TypeError("transpose_solve required for backwards mode automatic differentiation "
                    "of custom_linear_solve")
  params, b = _split(primals, const_lengths)
  if any(ad.is_undefined_primal(p) for group in params for p in group):
    raise TypeError("custom_linear_solve is only linear in b (not in the values its "
                    "matvec/solve functions close over)")
  nx = _num_x(jaxprs)
  cts = cts if isinstance(cts, (list, tuple)) else [cts]
  ct_x = [ad.zeros_like_aval(ad.tangent_aval(v.aval)) if type(c) is Zero else c
          for c, v in zip(cts[:nx], b)]
  t_params = params.transpose()
  ct_b = linear_solve_p.bind(*[p for group in t_params for p in group], *ct_x,
                             const_lengths=const_lengths.transpose(),
                             jaxprs=jaxprs.transpose())
  return [None] * sum(const_lengths) + list(ct_b[:nx])


ad.primitive_jvps[linear_solve_p] = _jvp
ad.primitive_transposes[linear_solve_p] = _transpose
ad.linear_primitives.add(linear_solve_p)


def _batch(axis_data, vals, dims, *, const_lengths, jaxprs):
  size = axis_data.size
  vals = [batching.moveaxis(v, d, 0) if d is not batching.not_mapped else v
          for v, d in zip(vals, dims)]
  batched = [d is not batching.not_mapped for d in dims]
  params, b = _split(vals, const_lengths)
  pbat, _ = _split(batched, const_lengths)
  b = [batching.broadcast(v, size, 0) if not d else v for v, d in zip(b, batched[-len(b):])] \
      if b else b
  new_jaxprs, new_params, new_lengths = [], [], []
  for closed, group, gbat in zip(jaxprs, params, pbat):
    if closed is None:
      new_jaxprs.append(None)
      new_params.append([])
      new_lengths.append(0)
      continue
    nin = len(closed.in_avals) - len(group)
    bj, _ = common.batch_jaxpr(closed, axis_data, list(gbat) + [True] * nin, True)
    bj, consts = common.lift_consts(bj)
    new_jaxprs.append(bj)
    new_params.append(list(consts) + list(group))
    new_lengths.append(len(consts) + len(group))
  outs = linear_solve_p.bind(*[p for g in new_params for p in g], *b,
                             const_lengths=_LinearSolveTuple(*new_lengths),
                             jaxprs=_LinearSolveTuple(*new_jaxprs))
  return outs, [0] * len(outs)


batching.axis_primitive_batchers[linear_solve_p] = _batch


def _trace(fun, tree, avals, name):
  closed, consts, out_tree, out_avals = common.trace_user_fun(fun, tree, avals)
  return closed, consts, out_tree, out_avals


def _check_tree(name, expected_tree, expected_avals, tree, avals):
  if tree != expected_tree:
    raise TypeError(f"{name}() output pytree structure must match b, got {tree} and "
                    f"{expected_tree}.")
  for a, e in zip(avals, expected_avals):
    if a.shape != e.shape or a.dtype != e.dtype:
      raise TypeError(f"{name}() output shapes must match b, got {a.str_short()} and "
                      f"{e.str_short()}.")


def custom_linear_solve(matvec, b, solve, transpose_solve=None, symmetric=False,
                        has_aux=False):
  """lax.custom_linear_solve: x = solve(matvec, b) for the linear map `matvec`, with
  derivatives by implicit differentiation (solve is never differentiated): forward mode
  needs only `solve`; reverse mode also `transpose_solve(vecmat, b)` (symmetric=True:
  `solve` serves as its own transpose).
  """
  if transpose_solve is None and symmetric:
    transpose_solve = solve  # a symmetric map is its own transpose
  b_flat, tree = tree_util.tree_flatten(b)
  b_flat = [common.to_array(x) for x in b_flat]
  b_avals = [core.get_aval(x) for x in b_flat]
  def unflat(fun):
    return lambda x: fun(x)

  mv_jaxpr, mv_consts, mv_tree, mv_avals = _trace(unflat(matvec), _tuple_tree(tree),
                                                  b_avals, "matvec")
  _check_tree("matvec", tree, b_avals, mv_tree, mv_avals)

  def solve_fn(x):
    out = solve(matvec, x)
    return out
  s_jaxpr, s_consts, s_tree, s_avals = _trace(solve_fn, _tuple_tree(tree), b_avals, "solve")
  if has_aux:
    sol_tree, aux_tree = tree_util.tree_structure(
        tree_util.tree_unflatten(s_tree, [0] * s_tree.num_leaves)).children()
    _check_tree("solve", tree, b_avals, sol_tree, s_avals[:tree.num_leaves])
  else:
    aux_tree = None
    _check_tree("solve", tree, b_avals, s_tree, s_avals)
  if transpose_solve is None:
    vm_jaxpr = ts_jaxpr = None
    vm_consts = ts_consts = []
  else:
    if symmetric:
      vecmat = matvec
    else:
      from numjax._src.autodiff import linear_transpose
      vecmat_t = linear_transpose(matvec, b)
      vecmat = lambda y: vecmat_t(y)[0]
    vm_jaxpr, vm_consts, vm_tree, vm_avals = _trace(unflat(vecmat), _tuple_tree(tree),
                                                    b_avals, "vecmat")
    _check_tree("vecmat", tree, b_avals, vm_tree, vm_avals)
    ts_jaxpr, ts_consts, ts_tree, ts_avals = _trace(
        lambda x: transpose_solve(vecmat, x), _tuple_tree(tree), b_avals, "transpose_solve")
    if has_aux:
      ts_tree = tree_util.tree_structure(
          tree_util.tree_unflatten(ts_tree, [0] * ts_tree.num_leaves)).children()[0]
      ts_avals = ts_avals[:tree.num_leaves]
      ts_jaxpr = common.prune_outvars(ts_jaxpr, [True] * tree.num_leaves + [False] * (
          len(ts_jaxpr.out_avals) - tree.num_leaves))
    _check_tree("transpose_solve", tree, b_avals, ts_tree, ts_avals)
  consts = _LinearSolveTuple(mv_consts, vm_consts, s_consts, ts_consts)
  lengths = _LinearSolveTuple(*(len(c) for c in consts))
  jaxprs = _LinearSolveTuple(mv_jaxpr, vm_jaxpr, s_jaxpr, ts_jaxpr)
  outs = linear_solve_p.bind(*[c for group in consts for c in group], *b_flat,
                             const_lengths=lengths, jaxprs=jaxprs)
  x = tree_util.tree_unflatten(tree, outs[:tree.num_leaves])
  if has_aux:
    return x, tree_util.tree_unflatten(aux_tree, outs[tree.num_leaves:])
  return x


def _tuple_tree(tree):
  """The treedef of the 1-tuple (x,) whose only element has structure `tree`."""
  return tree_util.tree_structure((tree_util.tree_unflatten(tree, [0] * tree.num_leaves),))


# ---------------------------------------------------------------------------------------
# custom_root

def custom_root(f, initial_guess, solve, tangent_solve, has_aux=False):
  """lax.custom_root: solution = solve(f, initial_guess) with f(solution) = 0, whose
  derivative (w.r.t. values f closes over) comes from the implicit function theorem:
  d solution = -tangent_solve(J_f(solution), (d f / d params)[d params]).

  tangent_solve(g, y) solves g(x) = y for the linearised f `g`."""
  from numjax._src.custom_derivatives import closure_convert, custom_jvp
  from numjax._src.autodiff import jvp
  from numjax._src.lax.lax import stop_gradient, neg

  f_conv, consts = closure_convert(f, initial_guess)
  n = len(consts)

  def run_solve(cs, guess):
    return solve(lambda x: f_conv(x, *cs), guess)

  @custom_jvp
  def root(cs, guess):
    return run_solve(cs, stop_gradient(guess))

  @root.defjvp
  def root_jvp(primals, tangents):
    cs, guess = primals
    cs_dot, _ = tangents
    out = root(cs, guess)
    sol, aux = (out if has_aux else (out, None))
    # rhs: how f(sol) moves with the parameters; then solve J_f(sol) dx = -rhs
    _, rhs = jvp(lambda *c: f_conv(sol, *c), tuple(cs), tuple(cs_dot)) if n else (None, None)
    if rhs is None:
      zero = tree_util.tree_map(lambda v: v * 0, sol)
      return out, ((zero, tree_util.tree_map(lambda v: v * 0, aux)) if has_aux else zero)
    lin = lambda y: jvp(lambda x: f_conv(x, *cs), (sol,), (y,))[1]
    sol_dot = tree_util.tree_map(neg, tangent_solve(lin, rhs))
    if has_aux:
      return out, (sol_dot, tree_util.tree_map(lambda v: v * 0, aux))
    return out, sol_dot

  return root(tuple(consts), initial_guess)
