"""Differentiation API: jvp, linearize, vjp, grad, value_and_grad, jacfwd, jacrev, hessian,
linear_transpose — pytrees in and out, on the ad interpreter.

Reverse mode is linearize + transpose (`ad.linearize_flat`, `ad.backward_pass`). Integer and
boolean values have float0 tangents; zero tangents stay symbolic inside and are
materialised only at this API boundary.
"""
from __future__ import annotations

import functools
import operator

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src import tree_util
from numjax._src.array import Array
from numjax._src.core import Tracer
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters import partial_eval as pe
from numjax._src.interpreters.ad import Zero

__all__ = ["jvp", "linearize", "vjp", "grad", "value_and_grad", "jacfwd", "jacrev",
           "jacobian", "hessian", "linear_transpose", "fwd_and_bwd"]

_float0 = _dtypes.float0


def _asarray(x):
  if isinstance(x, (Array, Tracer)):  # (lax.asarray's own first test, without the import)
    return x
  from numjax._src.lax.lax import asarray
  return asarray(x)


def _float0_zeros(shape):
  return np.zeros(shape, dtype=_float0)


def _instantiate(t, aval=None):
  """A concrete tangent/cotangent for the user: float0 zeros as NumPy arrays (as JAX)."""
  if type(t) is Zero:
    if t.aval.dtype == _float0:
      return _float0_zeros(t.aval.shape)
    return ad.zeros_like_aval(t.aval)
  if aval is not None and aval.dtype == _float0:
    return _float0_zeros(aval.shape)
  return t


def _fun_name(fun):
  f = getattr(fun, "func", fun)
  return getattr(f, "__name__", type(f).__name__)


def _flatten_fun(fun, in_tree, has_aux=False):
  """fun on pytrees -> f on flat lists; the output (and aux) trees land in `store`.

  Array-like aux leaves are extra outputs (so the transformation lowers them to plain
  values); other aux leaves bypass it (`_aux_out` puts them back)."""
  store = {}

  def f(*flat):
    out = fun(*tree_util.tree_unflatten(in_tree, flat))
    aux_arrays = []
    if has_aux:
      if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError("expected function with aux output to return a two-element tuple, "
                        f"but got type {type(out)} with value {out!r}")
      out, aux = out
      aux_flat, aux_tree = tree_util.tree_flatten(aux)
      store["aux_tree"] = aux_tree
      store["aux_leaves"] = aux_flat
      store["aux_idx"] = [i for i, a in enumerate(aux_flat) if core.is_array_like(a)]
      aux_arrays = [aux_flat[i] for i in store["aux_idx"]]
    out_flat, out_tree = tree_util.tree_flatten(out)
    store["out_tree"] = out_tree
    store["n_out"] = len(out_flat)
    store["n_aux"] = len(aux_arrays)
    return [_asarray(o) for o in out_flat] + aux_arrays
  return f, store


def _aux_out(store, aux_vals):
  leaves = list(store["aux_leaves"])
  for i, v in zip(store["aux_idx"], aux_vals):
    leaves[i] = v
  return tree_util.tree_unflatten(store["aux_tree"], leaves)


# ---------------------------------------------------------------------------------------
# jvp and linearize

def _check_jvp_args(primals, tangents):
  if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
    raise TypeError("primal and tangent arguments to jax.jvp must be tuples or lists; found "
                    f"{type(primals).__name__} and {type(tangents).__name__}.")
  p_flat, p_tree = tree_util.tree_flatten(tuple(primals))
  t_flat, t_tree = tree_util.tree_flatten(tuple(tangents))
  if p_tree != t_tree:
    raise TypeError("primal and tangent arguments to jax.jvp must have the same tree "
                    f"structure; primals have tree structure {p_tree} whereas tangents have "
                    f"tree structure {t_tree}.")
  return p_flat, t_flat, p_tree


def _tangent_in(p, t):
  """Validate one (primal, tangent) pair and return the tangent (Zero for float0)."""
  pa = core.get_aval(p)
  t_dtype = np.asarray(t).dtype if not hasattr(t, "dtype") else np.dtype(t.dtype)
  if _is_py_scalar(t):
    t_dtype = _dtypes.dtype(t, canonicalize=True)
  t_shape = np.shape(t) if not hasattr(t, "shape") else tuple(t.shape)
  if t_shape != pa.shape:
    raise ValueError("jvp called with different primal and tangent shapes;Got primal "
                     f"shape {pa.shape} and tangent shape as {t_shape}")
  expected = ad.tangent_dtype(pa.dtype)
  if t_dtype != expected:
    raise TypeError("primal and tangent arguments to jax.jvp do not match; dtypes must be "
                    "equal, or in case of int/bool primal dtype the tangent dtype must be "
                    f"float0.Got primal dtype {pa.dtype} and so expected tangent dtype "
                    f"{expected}, but got tangent dtype {t_dtype} instead.")
  if expected == _float0:
    return Zero(ad.tangent_aval(pa))
  return _asarray(t)


def _is_py_scalar(x):
  return isinstance(x, (bool, int, float, complex)) and not isinstance(x, np.generic)


def jvp(fun, primals, tangents, has_aux=False):
  """Forward-mode derivative: ``(fun(*primals), J(primals) @ tangents)`` (and aux)."""
  p_flat, t_flat, in_tree = _check_jvp_args(primals, tangents)
  p_flat = [_asarray(p) for p in p_flat]
  t_flat = [_tangent_in(p, t) for p, t in zip(p_flat, t_flat)]
  f, store = _flatten_fun(fun, in_tree, has_aux)
  po, to = ad.jvp_flat(f, p_flat, t_flat)
  n = store["n_out"]
  out_tree = store["out_tree"]
  primals_out = tree_util.tree_unflatten(out_tree, po[:n])
  tangents_out = tree_util.tree_unflatten(out_tree, [_instantiate(t) for t in to[:n]])
  if has_aux:
    return primals_out, tangents_out, _aux_out(store, po[n:])
  return primals_out, tangents_out


def linearize(fun, *primals, has_aux=False):
  """``(fun(*primals), f_jvp)`` where ``f_jvp(*tangents)`` evaluates the linear map (the
  primal computation is done once; f_jvp replays only the tangent program)."""
  p_flat, in_tree = tree_util.tree_flatten(primals)
  p_flat = [_asarray(p) for p in p_flat]
  f, store = _flatten_fun(fun, in_tree, has_aux)
  po, lin, out_zero = ad.linearize_flat(f, p_flat)
  n = store["n_out"]
  out_tree = store["out_tree"]
  in_avals = [core.get_aval(p) for p in p_flat]
  out_avals = [ad.tangent_aval(core.get_aval(o)) for o in po[:n]]

  def f_jvp(consts, *tangents):
    t_flat, t_tree = tree_util.tree_flatten(tangents)
    if t_tree != in_tree:
      raise ValueError(f"linearized function called on tangent values inconsistent with the "
                       f"original primal values: expected structure {in_tree}, got {t_tree}.")
    ts = []
    for p_aval, t in zip(in_avals, t_flat):
      ta = ad.tangent_aval(p_aval)
      if ta.dtype == _float0:
        ts.append(ad.zeros_like_aval(ta))
        continue
      t = _asarray(t)
      if core.get_aval(t).shape != ta.shape or t.dtype != ta.dtype:
        raise ValueError("linearized function called on tangent values inconsistent with "
                         f"the original primal values: got tangent {core.get_aval(t)} for "
                         f"primal {p_aval}.")
      ts.append(t)
    outs = core.eval_jaxpr(lin.jaxpr, consts, *ts)
    outs = [_float0_zeros(a.shape) if a.dtype == _float0 else o
            for o, a in zip(outs[:n], out_avals)]
    return tree_util.tree_unflatten(out_tree, outs)
  primals_out = tree_util.tree_unflatten(out_tree, po[:n])
  f_jvp = _ResidualFun(f_jvp, list(lin.consts), None)
  if has_aux:
    return primals_out, f_jvp, _aux_out(store, po[n:])
  return primals_out, f_jvp


# ---------------------------------------------------------------------------------------
# vjp

class _ResidualFun:
  """The function returned by vjp (`name` set: the pullback) or linearize (the linear map).
  A pytree whose leaves are the residuals it closes over, as JAX's `Partial`: returned from
  a traced function (make_jaxpr, jit) they are its outputs."""
  __slots__ = ("_fn", "_consts", "_name")

  def __init__(self, fn, consts, fun_name):
    self._fn, self._consts, self._name = fn, consts, fun_name

  def __call__(self, *args):
    return self._fn(self._consts, *args)

  def __repr__(self):
    return f"<vjp of {self._name}>" if self._name is not None else "<linearized function>"


_VJPFun = _ResidualFun
tree_util.register_pytree_node(
    _ResidualFun, lambda f: (f._consts, (f._fn, f._name)),
    lambda aux, consts: _ResidualFun(aux[0], list(consts), aux[1]))


def _vjp(fun, primals, has_aux, name):
  p_flat, in_tree = tree_util.tree_flatten(tuple(primals))
  p_flat = [_asarray(p) for p in p_flat]
  f, store = _flatten_fun(fun, in_tree, has_aux)
  po, lin, _ = ad.linearize_flat(f, p_flat)
  n = store["n_out"]
  out_tree = store["out_tree"]
  in_avals = [ad.tangent_aval(core.get_aval(p)) for p in p_flat]
  out_avals = [core.get_aval(o) for o in po[:n]]
  n_aux = len(po) - n

  def pullback_flat(cts_flat, consts=lin.consts):
    """Flat cotangents (or Zero) -> flat input cotangents (Zero where unused)."""
    cts = list(cts_flat) + [Zero(ad.tangent_aval(core.get_aval(a))) for a in po[n:]]
    args = [ad.UndefinedPrimal(a) for a in in_avals]
    res = ad.backward_pass(lin.jaxpr, consts, args, cts)
    return [Zero(a) if c is None else c for c, a in zip(res, in_avals)]

  def pullback(consts, *ct):
    if len(ct) != 1:
      raise TypeError(f"The function returned by `jax.vjp` applied to {name} takes exactly "
                      f"one argument (the cotangent of the output), got {len(ct)}.")
    ct = ct[0]
    c_flat, c_tree = tree_util.tree_flatten(ct)
    if c_tree != out_tree:
      raise ValueError(
          "unexpected tree structure.\n\nThe argument to a VJP function returned by "
          "`jax.vjp` must match the pytree structure of the differentiated function "
          f"{name}.\n\nBut the tree structures differ: expected {out_tree}, got {c_tree}.")
    cts = []
    for c, a in zip(c_flat, out_avals):
      ta = ad.tangent_aval(a)
      if ta.dtype == _float0:
        cts.append(Zero(ta))
        continue
      if isinstance(c, np.ndarray) and c.dtype == _float0:
        cts.append(Zero(ta))
        continue
      c = _asarray(c)
      ca = core.get_aval(c)
      if ca.shape != ta.shape or ca.dtype != ta.dtype:
        raise ValueError(
            "unexpected JAX type (e.g. shape/dtype) for argument to VJP function: got "
            f"{ca.str_short(False)}, but expected {ta.str_short(False)} because the "
            "corresponding output of the differentiated function had JAX type "
            f"{a.str_short(False)}")
      cts.append(c)
    res = pullback_flat(cts, consts)
    return tree_util.tree_unflatten(in_tree, [_instantiate(c) for c in res])

  primals_out = tree_util.tree_unflatten(out_tree, po[:n])
  aux = _aux_out(store, po[n:]) if has_aux else None
  del n_aux
  return primals_out, _ResidualFun(pullback, list(lin.consts), name), pullback_flat, aux, (
      in_tree, out_tree,
                                                                   out_avals, in_avals,
                                                                   p_flat)


def vjp(fun, *primals, has_aux=False):
  """Reverse-mode derivative: ``(fun(*primals), vjp_fn)`` (and aux) where ``vjp_fn(ct)``
  returns the tuple of cotangents of the primals."""
  out, pullback, _, aux, _ = _vjp(fun, primals, has_aux, _fun_name(fun))
  if has_aux:
    return out, pullback, aux
  return out, pullback


# ---------------------------------------------------------------------------------------
# grad and value_and_grad

def _check_argnums(argnums, nargs):
  nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
  for a in nums:
    if not isinstance(a, (int, np.integer)):
      raise TypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}.")
  if nums and max(nums) >= nargs or (nums and min(nums) < -nargs):
    raise TypeError(f"differentiating with respect to argnums={argnums} requires at least "
                    f"{max(nums) + 1} positional arguments to be passed by the caller, but "
                    f"got only {nargs} positional arguments.")
  return tuple(operator.index(a) % nargs for a in nums)


def _check_input_dtype_grad(name, holomorphic, allow_int, x):
  dt = _dtypes.dtype(x) if not hasattr(x, "dtype") else np.dtype(x.dtype)
  if _is_py_scalar(x):
    dt = _dtypes.dtype(x, canonicalize=True)
  if holomorphic:
    if not _dtypes.issubdtype(dt, np.complexfloating):
      raise TypeError(f"{name} with holomorphic=True requires inputs with complex dtype, "
                      f"but got {dt.name}.")
  if (_dtypes.issubdtype(dt, np.integer) or _dtypes.issubdtype(dt, np.bool_)
      or dt == _float0):
    if not allow_int:
      raise TypeError(f"{name} requires real- or complex-valued inputs (input dtype that "
                      f"is a sub-dtype of np.inexact), but got {dt.name}. If you want to use "
                      "Boolean- or integer-valued inputs, use vjp or set allow_int to True.")
  elif not _dtypes.issubdtype(dt, np.inexact):
    raise TypeError(f"{name} requires numerical-valued inputs (input dtype that is a "
                    f"sub-dtype of np.bool_ or np.number), but got {dt.name}.")


def _check_scalar_output(x):
  if x is None:
    raise TypeError("Gradient only defined for scalar-output functions. Output was None.")
  aval = core.get_aval(_asarray(x)) if not isinstance(x, (Tracer,)) else x.aval
  if aval.shape != ():
    raise TypeError("Gradient only defined for scalar-output functions. Output had shape: "
                    f"{aval.shape}.")
  return aval


def _check_output_dtype(name, holomorphic, dt):
  if holomorphic:
    if not _dtypes.issubdtype(dt, np.complexfloating):
      raise TypeError(f"{name} with holomorphic=True requires outputs with complex dtype, "
                      f"but got {dt.name}.")
  elif _dtypes.issubdtype(dt, np.complexfloating):
    raise TypeError(f"{name} requires real-valued outputs (output dtype that is a sub-dtype "
                    f"of np.floating), but got {dt.name}. For holomorphic differentiation, "
                    "pass holomorphic=True. For differentiation of non-holomorphic functions "
                    "involving complex outputs, use jax.vjp directly.")
  elif not _dtypes.issubdtype(dt, np.floating):
    raise TypeError(f"{name} requires real-valued outputs (output dtype that is a sub-dtype "
                    f"of np.floating), but got {dt.name}. For differentiation of functions "
                    "with integer outputs, use jax.vjp directly.")


def _match_input(ct, x_aval):
  """Cotangent of an input takes the input's dtype and weak type (as JAX's grad does)."""
  if isinstance(ct, np.ndarray) and ct.dtype == _float0:
    return ct
  ca = core.get_aval(ct)
  if ca.dtype != x_aval.dtype or ca.weak_type != x_aval.weak_type:
    from numjax._src.lax.lax import convert_element_type
    if ad.tangent_dtype(x_aval.dtype) == x_aval.dtype:
      return convert_element_type(ct, x_aval.dtype, x_aval.weak_type)
  return ct


def value_and_grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False,
                   reduce_axes=()):
  """``(fun(*args), gradient of fun w.r.t. the argnums arguments)`` (fun scalar-valued)."""
  del reduce_axes
  name = _fun_name(fun)

  @functools.wraps(fun)
  def value_and_grad_f(*args, **kwargs):
    nums = _check_argnums(argnums, len(args))
    diff_args = tuple(args[i] for i in nums)
    for leaf in tree_util.tree_leaves(diff_args):
      if not holomorphic and type(leaf) is Array and leaf.dtype.kind in "fc":
        continue  # (a float/complex Array always passes)
      _check_input_dtype_grad("grad", holomorphic, allow_int, leaf)

    def f(*dargs):
      full = list(args)
      for i, d in zip(nums, dargs):
        full[i] = d
      return fun(*full, **kwargs)
    ans, pullback, pullback_flat, aux, (in_tree, out_tree, out_avals, _, x_flat) = _vjp(
        f, diff_args, has_aux, name)
    out_leaves = tree_util.tree_leaves(ans)
    if ans is None or len(out_leaves) != 1 or not tree_util.treedef_is_leaf(out_tree):
      if ans is None:
        _check_scalar_output(None)
      raise TypeError("Gradient only defined for scalar-output functions. Output was "
                      f"{ans!r}.")
    aval = _check_scalar_output(ans)
    _check_output_dtype("grad", holomorphic, aval.dtype)
    from numjax._src.lax.lax import full_like
    cts = pullback_flat([full_like(ans, 1)])
    g_flat = []
    for c, x in zip(cts, x_flat):
      if type(c) is Array and type(x) is Array and c.dtype == x.dtype and \
          c.weak_type == x.weak_type:
        g_flat.append(c)  # (already the input's type: what _match_input returns)
      else:
        g_flat.append(_match_input(_instantiate(c), core.get_aval(x)))
    g = tree_util.tree_unflatten(in_tree, g_flat)
    g = g[0] if isinstance(argnums, int) else g
    if has_aux:
      return (ans, aux), g
    return ans, g
  return value_and_grad_f


def grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False, reduce_axes=()):
  """The gradient of scalar-valued `fun` with respect to the argument(s) `argnums`
  (returned with the same pytree structure as those arguments)."""
  vg = value_and_grad(fun, argnums, has_aux, holomorphic, allow_int, reduce_axes)

  @functools.wraps(fun)
  def grad_f(*args, **kwargs):
    (ans_aux, g) = vg(*args, **kwargs)
    if has_aux:
      return g, ans_aux[1]
    return g
  return grad_f


# ---------------------------------------------------------------------------------------
# Jacobians

def _std_basis(aval):
  """Identity matrix reshaped to (n,) + shape: row k is the k-th unit vector (constant)."""
  n = int(np.prod(aval.shape, dtype=np.int64))
  eye = np.eye(n, dtype=aval.dtype).reshape((n,) + tuple(aval.shape))
  from numjax._src.array import _make
  return _make(eye, False)


def _check_input_dtype_jacfwd(holomorphic, x):
  dt = np.dtype(x.dtype) if hasattr(x, "dtype") else _dtypes.dtype(x, canonicalize=True)
  if holomorphic:
    if not _dtypes.issubdtype(dt, np.complexfloating):
      raise TypeError("jacfwd with holomorphic=True requires inputs with complex dtype, "
                      f"but got {dt.name}.")
  elif not _dtypes.issubdtype(dt, np.floating):
    raise TypeError("jacfwd requires real-valued inputs (input dtype that is a sub-dtype of "
                    f"np.floating), but got {dt.name}. For holomorphic differentiation, pass "
                    "holomorphic=True. For differentiation of non-holomorphic functions "
                    "involving complex inputs or integer inputs, use jax.jvp directly.")


def _reshape(x, shape):
  from numjax._src.lax.lax import reshape
  if core.get_aval(x).shape == tuple(shape):
    return x
  return reshape(x, tuple(shape))


def _assemble(blocks, out_tree, in_tree, argnums):
  """blocks[i][j]: d out_i / d in_j -> out pytree of (in pytree) jacobians."""
  per_out = []
  for row in blocks:
    t = tree_util.tree_unflatten(in_tree, row)
    per_out.append(t[0] if isinstance(argnums, int) else t)
  return tree_util.tree_unflatten(out_tree, per_out)


def jacfwd(fun, argnums=0, has_aux=False, holomorphic=False):
  """Jacobian of `fun` by forward mode (one vmapped jvp per input leaf)."""
  @functools.wraps(fun)
  def jacfun(*args, **kwargs):
    nums = _check_argnums(argnums, len(args))
    diff_args = tuple(args[i] for i in nums)
    x_flat, in_tree = tree_util.tree_flatten(diff_args)
    x_flat = [_asarray(x) for x in x_flat]
    for x in x_flat:
      _check_input_dtype_jacfwd(holomorphic, x)
    x_avals = [core.get_aval(x) for x in x_flat]

    def f(*dargs):
      full = list(args)
      for i, d in zip(nums, dargs):
        full[i] = d
      return fun(*full, **kwargs)
    ff, store = _flatten_fun(f, in_tree, has_aux)
    columns = []  # per input leaf: the outputs' jvps along every basis direction
    primals_out = None
    for j, xa in enumerate(x_avals):
      def push(t, j=j):
        tangents = [Zero(ad.tangent_aval(a)) for a in x_avals]
        tangents[j] = t
        po, to = ad.jvp_flat(ff, x_flat, tangents)
        n = store["n_out"]
        return list(po) + [_instantiate_for_batch(tt) for tt in to[:n]]
      outs = batching.vmap_flat(push, [0], lambda: _out_dims_fwd(store), xa.size,
                                args=[_std_basis(xa)])
      n_all = len(outs) - store["n_out"]
      primals_out = outs[:n_all]
      columns.append(outs[n_all:])
    if not x_avals:  # nothing to differentiate: still evaluate
      primals_out = ff(*x_flat)
    n = store["n_out"]
    blocks = []
    for i in range(n):
      oa = core.get_aval(primals_out[i])
      row = []
      for j, xa in enumerate(x_avals):
        col = columns[j][i]  # shape out_shape + (n_j,)
        if ad.tangent_dtype(oa.dtype) == _float0:
          row.append(_float0_zeros(oa.shape + xa.shape))
        else:
          row.append(_reshape(col, oa.shape + xa.shape))
      blocks.append(row)
    jac = _assemble(blocks, store["out_tree"], in_tree, argnums)
    if has_aux:
      return jac, _aux_out(store, primals_out[n:])
    return jac
  return jacfun


def _out_dims_fwd(store):
  n_all = store["n_out"] + store.get("n_aux", 0)
  return [None] * n_all + [-1] * store["n_out"]


def _instantiate_for_batch(t):
  if type(t) is Zero:
    if t.aval.dtype == _float0:
      # integer outputs: a placeholder (the block is replaced by float0 zeros)
      from numjax._src.lax.lax import full
      return full(t.aval.shape, 0, np.float32)
    return ad.zeros_like_aval(t.aval)
  return t


def jacrev(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False):
  """Jacobian of `fun` by reverse mode (one vmapped pullback per output leaf)."""
  @functools.wraps(fun)
  def jacfun(*args, **kwargs):
    nums = _check_argnums(argnums, len(args))
    diff_args = tuple(args[i] for i in nums)
    for leaf in tree_util.tree_leaves(diff_args):
      _check_input_dtype_grad("jacrev", holomorphic, allow_int, leaf)

    def f(*dargs):
      full = list(args)
      for i, d in zip(nums, dargs):
        full[i] = d
      return fun(*full, **kwargs)
    ans, _, pullback_flat, aux, (in_tree, out_tree, out_avals, in_avals, _) = _vjp(
        f, diff_args, has_aux, _fun_name(fun))
    for oa in out_avals:
      if holomorphic:
        if not _dtypes.issubdtype(oa.dtype, np.complexfloating):
          raise TypeError("jacrev with holomorphic=True requires outputs with complex dtype, "
                          f"but got {oa.dtype.name}.")
    blocks = []
    for i, oa in enumerate(out_avals):
      ta = ad.tangent_aval(oa)
      if ta.dtype == _float0:
        blocks.append([_float0_zeros(oa.shape + a.shape) for a in in_avals])
        continue

      def pull(c, i=i):
        cts = [Zero(ad.tangent_aval(a)) for a in out_avals]
        cts[i] = c
        return [_instantiate_for_batch(r) for r in pullback_flat(cts)]
      rows = batching.vmap_flat(pull, [0], lambda: 0, oa.size, args=[_std_basis(ta)])
      row = []
      for r, a in zip(rows, in_avals):
        if a.dtype == _float0:
          row.append(_float0_zeros(oa.shape + a.shape))
        else:
          row.append(_reshape(r, oa.shape + a.shape))
      blocks.append(row)
    jac = _assemble(blocks, out_tree, in_tree, argnums)
    if has_aux:
      return jac, aux
    return jac
  return jacfun


jacobian = jacrev


def hessian(fun, argnums=0, has_aux=False, holomorphic=False):
  """Hessian of scalar `fun`: ``jacfwd(jacrev(fun))``."""
  return jacfwd(jacrev(fun, argnums, has_aux=has_aux, holomorphic=holomorphic), argnums,
                has_aux=has_aux, holomorphic=holomorphic)


# ---------------------------------------------------------------------------------------
# linear_transpose

def linear_transpose(fun, *primals, reduce_axes=()):
  """The transpose of linear `fun` (at the shapes/dtypes of `primals`): a function of the
  output cotangent returning the tuple of input cotangents."""
  del reduce_axes
  p_flat, in_tree = tree_util.tree_flatten(primals)
  in_avals = [core.get_aval(x) if not _is_py_scalar(x) else core.get_aval(_asarray(x))
              for x in p_flat]
  in_avals = [a.strip_weak_type() if hasattr(a, "strip_weak_type") else a for a in in_avals]
  f, store = _flatten_fun(fun, in_tree)
  closed = pe.trace_to_jaxpr(f, in_avals)
  out_tree = store["out_tree"]
  out_avals = closed.out_avals
  in_dts = [a.dtype for a in in_avals]
  out_dts = [a.dtype for a in out_avals]
  inexact = lambda dts: all(_dtypes.issubdtype(d, np.inexact) for d in dts)
  integral = lambda dts: all(not _dtypes.issubdtype(d, np.inexact) for d in dts)
  if not ((inexact(in_dts) and inexact(out_dts)) or (integral(in_dts) and integral(out_dts))):
    raise TypeError("linear_transpose only supports [float or complex] -> [float or "
                    "complex], and integer -> integer functions, but got "
                    f"{in_dts} -> {out_dts}.")

  @functools.wraps(fun)
  def transposed(*out_cotangent):
    if len(out_cotangent) == 1:
      out_cotangent = out_cotangent[0]
    c_flat, c_tree = tree_util.tree_flatten(out_cotangent)
    c_flat = [_asarray(c) for c in c_flat]
    c_avals = [core.get_aval(c) for c in c_flat]
    if c_tree != out_tree or any(
        ca.shape != oa.shape or ca.dtype != oa.dtype for ca, oa in zip(c_avals, out_avals)):
      raise TypeError("cotangent type does not match function output, expected "
                      f"{tuple(a.strip_weak_type() for a in out_avals)} but got "
                      f"{tuple(c_avals) if c_tree == out_tree else out_cotangent}")
    args = [ad.UndefinedPrimal(a) for a in in_avals]
    cts = ad.backward_pass(closed.jaxpr, closed.consts, args, c_flat)
    res = [ad.zeros_like_aval(a) if c is None or type(c) is Zero else c
           for c, a in zip(cts, in_avals)]
    return tree_util.tree_unflatten(in_tree, res)
  return transposed


def fwd_and_bwd(fun, argnums=0, has_aux=False, jitted=True):
  """Split reverse-mode differentiation of `fun` into a forward function returning
  ``(out, residual)`` and a backward function ``bwd(residual, ct) -> cotangents``."""
  del jitted

  def fwd(*args):
    nums = _check_argnums(argnums, len(args))

    def f(*dargs):
      full = list(args)
      for i, d in zip(nums, dargs):
        full[i] = d
      return fun(*full)
    res = vjp(f, *[args[i] for i in nums], has_aux=has_aux)
    if has_aux:
      out, pullback, aux = res
      return (out, aux), pullback
    out, pullback = res
    return out, pullback

  def bwd(pullback, ct):
    g = pullback(ct)
    return g[0] if isinstance(argnums, int) else g
  return fwd, bwd
