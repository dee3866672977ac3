"""Loops: `scan_p` and `while_p`, and lax.scan / while_loop / fori_loop / map.

scan_p operands: (*consts, *init_carry, *xs); params jaxpr, length, reverse, num_consts,
num_carry, unroll (as JAX 0.10.2). while_p operands: (*cond_consts, *body_consts, *init);
params cond_jaxpr, cond_nconsts, body_jaxpr, body_nconsts. A while predicate of rank > 0
(from vmap) means "run while any lane is true, freezing finished lanes".

Eagerly (and on the NumPy tier) both run a generated Python loop over NumPy buffers
(`codegen`). Reverse mode: scan's jvp under linearize emits a primal scan that also stacks
the residuals and a linear tangent scan (transposable); while_loop's is in `while_grad`.
"""
from __future__ import annotations

import operator

import numpy as np

from numjax._src import core
from numjax._src import errors
from numjax._src import tree_util
from numjax._src.config import config
from numjax._src.core import ClosedJaxpr, Jaxpr, Primitive
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters import partial_eval as pe
from numjax._src.interpreters.ad import Zero
from numjax._src.lax import lax
from numjax._src.lax.control_flow import codegen
from numjax._src.lax.control_flow import common as cf

_bool = np.dtype(bool)


def _split(xs, *sizes):
  return core.split_list(list(xs), list(sizes))


def _stacked(aval, length):
  return aval.update(shape=(length,) + tuple(aval.shape))


def _unstacked(aval):
  return aval.update(shape=tuple(aval.shape[1:]))


# =======================================================================================
# scan_p

scan_p = Primitive("scan")
scan_p.multiple_results = True
scan_p.numpy_tier_only = True  # the native tier compiles whole loops itself


def _scan_impl(*args, jaxpr, length, reverse, num_consts, num_carry, unroll):
  fn = codegen.scan_fn(jaxpr, num_consts=num_consts, num_carry=num_carry, length=length,
                       reverse=reverse)
  return list(fn(*args))


def _scan_out_avals(jaxpr, length, num_carry):
  outs = jaxpr.out_avals
  return list(outs[:num_carry]) + [_stacked(a, length) for a in outs[num_carry:]]


def _scan_abstract_eval(*avals, jaxpr, length, reverse, num_consts, num_carry, unroll):
  if len(avals) != len(jaxpr.in_avals):
    raise ValueError("scan number of arguments doesn't match the number of jaxpr "
                     f"arguments: {len(avals)} vs {len(jaxpr.in_avals)}")
  consts, carry, xs = _split(avals, num_consts, num_carry)
  j_consts, j_carry, j_xs = _split(jaxpr.in_avals, num_consts, num_carry)
  bad = [(a, b) for a, b in zip(consts + carry, j_consts + j_carry) if not core.typematch(a, b)]
  bad += [(a, b) for a, b in zip(xs, j_xs)
          if not (a.shape[:1] == (length,) and core.typematch(_unstacked(a), b))]
  if bad:
    raise TypeError("scan operands do not match the body's input types: "
                    + ", ".join(f"{a.str_short(False)} vs {b.str_short(False)}" for a, b in bad))
  if not all(core.typematch(a, b) for a, b in zip(carry, jaxpr.out_avals[:num_carry])):
    raise TypeError("scan carry input and output types differ.")
  return _scan_out_avals(jaxpr, length, num_carry)


scan_p.impl = _scan_impl
scan_p.abstract_eval = _scan_abstract_eval
cf.def_eager_with_avals(scan_p, lambda jaxpr, length, num_carry, **_:
                        _scan_out_avals(jaxpr, length, num_carry))


# ---- scan jvp -------------------------------------------------------------------------

def _carry_fixpoint_jvp(jaxpr, const_nz, carry_nz, xs_nz, num_ys):
  """Which carries have nonzero tangents: nonzero initially, or made so by the body."""
  num_carry = len(carry_nz)
  for _ in range(1 + num_carry):
    jvp_j, out_nz = cf.jvp_jaxpr(jaxpr, const_nz + carry_nz + xs_nz,
                                 carry_nz + [False] * num_ys)
    if out_nz[:num_carry] == carry_nz:
      return jvp_j, carry_nz, out_nz[num_carry:]
    carry_nz = [a or b for a, b in zip(carry_nz, out_nz[:num_carry])]
  raise AssertionError("jvp fixpoint not reached")


def _scan_jvp(primals, tangents, *, jaxpr, length, reverse, num_consts, num_carry, unroll):
  num_xs = len(primals) - num_consts - num_carry
  num_ys = len(jaxpr.out_avals) - num_carry
  nz = [type(t) is not Zero for t in tangents]
  const_nz, init_nz, xs_nz = _split(nz, num_consts, num_carry)
  jvp_j, carry_nz, ys_nz = _carry_fixpoint_jvp(jaxpr, const_nz, init_nz, xs_nz, num_ys)
  consts, init, xs = _split(primals, num_consts, num_carry)
  t_consts, t_init, t_xs = _split(tangents, num_consts, num_carry)
  const_dots = [t for t, n in zip(t_consts, const_nz) if n]
  carry_dots = [ad.instantiate_zeros(t) for t, n in zip(t_init, carry_nz) if n]
  xs_dots = [t for t, n in zip(t_xs, xs_nz) if n]
  ncd, nccd, nxd = len(const_dots), len(carry_dots), len(xs_dots)
  params = dict(length=length, reverse=reverse, unroll=unroll)
  if not cf.is_linearizing(const_dots + carry_dots + xs_dots):
    # forward mode: one scan over (primal, tangent) pairs
    n_in = num_consts + num_carry + num_xs
    order = (list(range(num_consts)) + list(range(n_in, n_in + ncd))
             + list(range(num_consts, num_consts + num_carry))
             + list(range(n_in + ncd, n_in + ncd + nccd))
             + list(range(num_consts + num_carry, n_in)) + list(range(n_in + ncd + nccd,
                                                                        n_in + ncd + nccd + nxd)))
    n_out = num_carry + num_ys
    nyd = sum(ys_nz)
    out_order = (list(range(num_carry)) + list(range(n_out, n_out + nccd))
                 + list(range(num_carry, n_out)) + list(range(n_out + nccd, n_out + nccd + nyd)))
    body = cf.permute_outvars(cf.permute_invars(jvp_j, order), out_order)
    outs = scan_p.bind(*consts, *const_dots, *init, *carry_dots, *xs, *xs_dots, jaxpr=body,
                       num_consts=num_consts + ncd, num_carry=num_carry + nccd, **params)
    carry_out, carry_dot_out, ys, ys_dot = _split(outs, num_carry, nccd, num_ys)
    primal_out = carry_out + ys
    tans = iter(carry_dot_out + ys_dot)
  else:
    primal_out, tans = _scan_linearize(
        jvp_j, consts, init, xs, const_dots, carry_dots, xs_dots, num_ys=num_ys,
        nyd=sum(ys_nz), **params)
    tans = iter(tans)
  out_nz = carry_nz + ys_nz
  return primal_out, [next(tans) if n else Zero.from_primal_value(p)
                      for p, n in zip(primal_out, out_nz)]


def split_scan_body(jvp_j, nc, ncar, nxs, ncd, nccd, nxd, nys, nyd):
  """Split a jvp'd loop body (consts, carry, xs, const_dots, carry_dots, xs_dots) ->
  (carry, ys, carry_dots, ys_dots) into

    known:     (consts, carry, xs) -> (carry, ys, per-iteration residuals to stack)
    invariant: (consts) -> residuals that do not change across iterations (hoisted)
    tangent:   (inv_res, const_dots | carry_dots | per-iteration res, xs_dots)
                 -> (carry_dots, ys_dots)   -- linear in the dots

  Per-iteration residuals that are slices of `xs` are read from `xs` itself, not stacked
  again: `res_src[i]` is the index into xs of the i-th per-iteration residual, or None for
  the stacked ones (in order). Returns (known, invariant, tangent, n_invariant, res_src)."""
  n_p_in, n_t_in = nc + ncar + nxs, ncd + nccd + nxd
  n_p_out, n_t_out = ncar + nys, nccd + nyd
  known, unknown, out_unk, nres = cf.partial_eval_split(
      jvp_j, [False] * n_p_in + [True] * n_t_in, [False] * n_p_out + [True] * n_t_out)
  assert out_unk == [False] * n_p_out + [True] * n_t_out, out_unk
  res_inv = cf.invariant_outputs(known, [False] * nc + [True] * (ncar + nxs))[n_p_out:]
  xs_pos = {v: i for i, v in enumerate(known.jaxpr.invars[nc + ncar:])}
  res_vars_known = known.jaxpr.outvars[n_p_out:]
  res_src = [xs_pos.get(v) for v, i in zip(res_vars_known, res_inv) if not i]
  stacked = [not i and xs_pos.get(v) is None for v, i in zip(res_vars_known, res_inv)]
  known_body = cf.prune_outvars(known, [True] * n_p_out + stacked)
  inv = cf.prune_outvars(known, [False] * n_p_out + res_inv)
  dj, _ = pe.dce_jaxpr(inv.jaxpr, [True] * len(inv.jaxpr.outvars), instantiate=True)
  inv_j = ClosedJaxpr(Jaxpr(dj.constvars, dj.invars[:nc], dj.outvars, dj.eqns), inv.consts)
  uv = unknown.jaxpr.invars
  res_vars, cd, ccd, xd = _split(uv, nres, ncd, nccd)
  inv_vars = [v for v, i in zip(res_vars, res_inv) if i]
  var_vars = [v for v, i in zip(res_vars, res_inv) if not i]
  tan_body = cf.rebind(unknown, invars=inv_vars + cd + ccd + var_vars + xd)
  return known_body, inv_j, tan_body, len(inv_vars), res_src


def _scan_linearize(jvp_j, consts, init, xs, const_dots, carry_dots, xs_dots, *, num_ys,
                    nyd, length, reverse, unroll):
  nc, ncar, nxs = len(consts), len(init), len(xs)
  ncd, nccd, nxd = len(const_dots), len(carry_dots), len(xs_dots)
  known, inv_j, tan_body, n_inv, res_src = split_scan_body(jvp_j, nc, ncar, nxs, ncd, nccd,
                                                           nxd, num_ys, nyd)
  inv_vals = core.eval_jaxpr(inv_j.jaxpr, inv_j.consts, *consts)
  outs = scan_p.bind(*consts, *init, *xs, jaxpr=known, length=length, reverse=reverse,
                     num_consts=nc, num_carry=ncar, unroll=unroll)
  primal_out, stacked = outs[:ncar + num_ys], iter(outs[ncar + num_ys:])
  var_res = [next(stacked) if j is None else xs[j] for j in res_src]
  tans = scan_p.bind(*inv_vals, *const_dots, *carry_dots, *var_res, *xs_dots,
                     jaxpr=tan_body, length=length, reverse=reverse,
                     num_consts=n_inv + ncd, num_carry=nccd, unroll=unroll)
  return primal_out, tans


def _scan_transpose(cts, *args, jaxpr, length, reverse, num_consts, num_carry, unroll):
  consts, init, xs = _split(args, num_consts, num_carry)
  const_lin = [ad.is_undefined_primal(c) for c in consts]
  xs_lin = [ad.is_undefined_primal(x) for x in xs]
  # Carries of a linear scan are all tangents; one holding a known value (an instantiated
  # zero) is still treated as linear, and gets no cotangent.
  init_lin = [ad.is_undefined_primal(c) for c in init]
  num_ys = len(jaxpr.out_avals) - num_carry
  ct_carry, ct_ys = cts[:num_carry], cts[num_carry:]
  carry_ct_avals = [ad.tangent_aval(a) for a in jaxpr.out_avals[:num_carry]]
  ys_ct_avals = [ad.tangent_aval(a) for a in jaxpr.out_avals[num_carry:]]
  if all(type(c) is Zero for c in cts):
    return ([Zero(c.aval) if l else None for c, l in zip(consts, const_lin)]
            + [Zero(c.aval) if l else None for c, l in zip(init, init_lin)]
            + [Zero(x.aval) if l else None for x, l in zip(xs, xs_lin)])
  ct_carry = [ad.zeros_like_aval(a) if type(c) is Zero else c
              for c, a in zip(ct_carry, carry_ct_avals)]
  ys_nz = [type(c) is not Zero for c in ct_ys]  # zero ys cotangents are not scanned over
  ct_ys = [c for c in ct_ys if type(c) is not Zero]
  ys_ct_avals_nz = [a for a, n in zip(ys_ct_avals, ys_nz) if n]
  res_consts = [c for c, l in zip(consts, const_lin) if not l]
  res_xs = [x for x, l in zip(xs, xs_lin) if not l]
  j_consts, _, j_xs = _split(jaxpr.in_avals, num_consts, num_carry)
  lin_const_avals = [ad.tangent_aval(a) for a, l in zip(j_consts, const_lin) if l]
  res_x_avals = [a for a, l in zip(j_xs, xs_lin) if not l]
  n_rc, n_lc, n_rx = len(res_consts), len(lin_const_avals), len(res_x_avals)

  def body(*a):
    rc, acc, ctc, rx, cty = _split(a, n_rc, n_lc, num_carry, n_rx)
    rc_it, rx_it = iter(rc), iter(rx)
    prim = ([ad.UndefinedPrimal(av) if l else next(rc_it) for av, l in zip(j_consts, const_lin)]
            + [ad.UndefinedPrimal(av) for av in jaxpr.in_avals[num_consts:num_consts + num_carry]]
            + [ad.UndefinedPrimal(av) if l else next(rx_it) for av, l in zip(j_xs, xs_lin)])
    cty_it = iter(cty)
    cty = [next(cty_it) if n else Zero(a) for a, n in zip(ys_ct_avals, ys_nz)]
    ct_in = ad.backward_pass(jaxpr.jaxpr, jaxpr.consts, prim, list(ctc) + cty)
    ct_in = [None if c is None else (ad.zeros_like_aval(ad.tangent_aval(av))
                                     if type(c) is Zero else c)
             for c, av in zip(ct_in, jaxpr.in_avals)]
    c_c, c_carry, c_x = _split(ct_in, num_consts, num_carry)
    new_acc = [ad.add_tangents(x, y) for x, y, l in zip(acc, [c for c, l in zip(c_c, const_lin)
                                                               if l], [True] * n_lc)]
    return new_acc + c_carry + [c for c, l in zip(c_x, xs_lin) if l]
  body_t = pe.trace_to_jaxpr(body, [*[core.get_aval(c) for c in res_consts], *lin_const_avals,
                                    *carry_ct_avals, *res_x_avals, *ys_ct_avals_nz])
  zeros_acc = [ad.zeros_like_aval(a) for a in lin_const_avals]
  outs = scan_p.bind(*res_consts, *zeros_acc, *ct_carry, *res_xs, *ct_ys, jaxpr=body_t,
                     length=length, reverse=not reverse, num_consts=n_rc,
                     num_carry=n_lc + num_carry, unroll=unroll)
  ct_lc, ct_init, ct_lx = _split(outs, n_lc, num_carry)
  ct_lc, ct_lx = iter(ct_lc), iter(ct_lx)
  return ([next(ct_lc) if l else None for l in const_lin]
          + [c if l else None for c, l in zip(ct_init, init_lin)]
          + [next(ct_lx) if l else None for l in xs_lin])


ad.primitive_jvps[scan_p] = _scan_jvp
ad.primitive_transposes[scan_p] = _scan_transpose


# ---- scan batching --------------------------------------------------------------------

def _scan_batch(axis_data, args, dims, *, jaxpr, length, reverse, num_consts, num_carry,
                unroll):
  num_ys = len(jaxpr.out_avals) - num_carry
  bat = [d is not None for d in dims]
  const_bat, init_bat, xs_bat = _split(bat, num_consts, num_carry)
  carry_bat = init_bat
  for _ in range(1 + num_carry):
    jb, out_bat = cf.batch_jaxpr(jaxpr, axis_data, const_bat + carry_bat + xs_bat,
                                 carry_bat + [False] * num_ys)
    if out_bat[:num_carry] == carry_bat:
      break
    carry_bat = [a or b for a, b in zip(carry_bat, out_bat[:num_carry])]
  ys_bat = out_bat[num_carry:]
  consts, init, xs = _split(args, num_consts, num_carry)
  c_dims, i_dims, x_dims = _split(dims, num_consts, num_carry)
  size = axis_data.size
  new_consts = [batching.moveaxis(x, d, 0) if d is not None else x
                for x, d in zip(consts, c_dims)]
  new_init = [batching.bdim_at_front(x, d, size) if b else x
              for x, d, b in zip(init, i_dims, carry_bat)]
  new_xs = [batching.moveaxis(x, d, 1) if d is not None else x for x, d in zip(xs, x_dims)]
  outs = scan_p.bind(*new_consts, *new_init, *new_xs, jaxpr=jb, length=length,
                     reverse=reverse, num_consts=num_consts, num_carry=num_carry,
                     unroll=unroll)
  return outs, [0 if b else None for b in carry_bat] + [1 if b else None for b in ys_bat]


batching.axis_primitive_batchers[scan_p] = _scan_batch


# =======================================================================================
# while_p

while_p = Primitive("while")
while_p.multiple_results = True
while_p.numpy_tier_only = True


def _while_impl(*args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
  fn = codegen.while_fn(cond_jaxpr, body_jaxpr, cond_nconsts=cond_nconsts,
                        body_nconsts=body_nconsts)
  return list(fn(*args))


def _check_pred(pred, carry):
  if pred.dtype != _bool:
    raise TypeError(f"cond_fun must return a boolean scalar, but got output type(s) "
                    f"[{pred!r}].")
  for a in carry:
    if tuple(a.shape[:pred.ndim]) != tuple(pred.shape):
      raise TypeError(f"while_loop: a batched predicate of shape {pred.shape} must be a "
                      f"prefix of every carry's shape, got {a.shape}.")


def _while_abstract_eval(*avals, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
  carry = avals[cond_nconsts + body_nconsts:]
  pred, = cond_jaxpr.out_avals
  _check_pred(pred, carry)
  if not all(core.typematch(a, b) for a, b in zip(carry, body_jaxpr.out_avals)):
    raise TypeError("while_loop carry input and body output types differ: "
                    f"{[a.str_short(False) for a in carry]} vs "
                    f"{[a.str_short(False) for a in body_jaxpr.out_avals]}.")
  return list(body_jaxpr.out_avals)


while_p.impl = _while_impl
while_p.abstract_eval = _while_abstract_eval
cf.def_eager_with_avals(while_p, lambda body_jaxpr, **_: body_jaxpr.out_avals)


def _while_jvp(primals, tangents, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
  nz = [type(t) is not Zero for t in tangents]
  _, bconst_nz, init_nz = _split(nz, cond_nconsts, body_nconsts)
  num_carry = len(init_nz)
  carry_nz = init_nz
  for _ in range(1 + num_carry):
    body_jvp, out_nz = cf.jvp_jaxpr(body_jaxpr, bconst_nz + carry_nz, carry_nz)
    if out_nz == carry_nz:
      break
    carry_nz = [a or b for a, b in zip(carry_nz, out_nz)]
  cconsts, bconsts, init = _split(primals, cond_nconsts, body_nconsts)
  _, t_bconsts, t_init = _split(tangents, cond_nconsts, body_nconsts)
  bconst_dots = [t for t, n in zip(t_bconsts, bconst_nz) if n]
  init_dots = [ad.instantiate_zeros(t) for t, n in zip(t_init, carry_nz) if n]
  if cf.is_linearizing(bconst_dots + init_dots):
    from numjax._src.lax.control_flow import while_grad
    primal_out, tans = while_grad.linearize_while(
        cconsts, bconsts, init, bconst_dots, init_dots, bconst_nz, carry_nz, body_jvp,
        cond_jaxpr=cond_jaxpr, body_jaxpr=body_jaxpr)
  else:
    outs = while_p.bind(*cconsts, *bconsts, *bconst_dots, *init, *init_dots,
                        **jvp_while_params(cond_jaxpr, body_jvp, cond_nconsts, body_nconsts,
                                           len(bconst_dots), num_carry, len(init_dots)))
    primal_out, tans = outs[:num_carry], outs[num_carry:]
  tans = iter(tans)
  return primal_out, [next(tans) if n else Zero.from_primal_value(p)
                      for p, n in zip(primal_out, carry_nz)]


def jvp_while_params(cond_jaxpr, body_jvp, cond_nconsts, body_nconsts, n_bdots, num_carry,
                     n_tdots):
  """while_p params of the combined (primal, tangent) loop: body consts (bconsts,
  bconst_dots), carry (carry, carry_dots); the cond ignores the tangents."""
  nb = body_nconsts
  order = (list(range(nb)) + list(range(nb + num_carry, nb + num_carry + n_bdots))
           + list(range(nb, nb + num_carry))
           + list(range(nb + num_carry + n_bdots, nb + num_carry + n_bdots + n_tdots)))
  body = cf.permute_invars(body_jvp, order)
  tan_avals = body_jvp.out_avals[num_carry:]
  cond_aug = cf.add_dummy_invars(cond_jaxpr, tan_avals)
  return dict(cond_jaxpr=cond_aug, cond_nconsts=cond_nconsts, body_jaxpr=body,
              body_nconsts=nb + n_bdots)


ad.primitive_jvps[while_p] = _while_jvp


def _while_batch(axis_data, args, dims, *, cond_jaxpr, body_jaxpr, cond_nconsts,
                 body_nconsts):
  new_args, params, out_dims = batch_while(axis_data, args, dims, cond_jaxpr=cond_jaxpr,
                                           body_jaxpr=body_jaxpr, cond_nconsts=cond_nconsts,
                                           body_nconsts=body_nconsts)
  return while_p.bind(*new_args, **params), out_dims


def batch_while(axis_data, args, dims, *, cond_jaxpr, body_jaxpr, cond_nconsts,
                body_nconsts):
  """The batched while (as JAX): returns (new operands, params, carry batch dims)."""
  params, carry_dims = batch_while_jaxprs(axis_data, dims, cond_jaxpr=cond_jaxpr,
                                          body_jaxpr=body_jaxpr, cond_nconsts=cond_nconsts,
                                          body_nconsts=body_nconsts)
  cconsts, bconsts, init = _split(args, cond_nconsts, body_nconsts)
  init_dims = dims[cond_nconsts + body_nconsts:]
  new_init = [x if nd is None else batching.matchaxis(d, nd, axis_data.size, x)
              for x, d, nd in zip(init, init_dims, carry_dims)]
  return cconsts + bconsts + new_init, params, carry_dims


def batch_while_jaxprs(axis_data, dims, *, cond_jaxpr, body_jaxpr, cond_nconsts,
                       body_nconsts, force_carry=None):
  """Carries are batched to a fixed point; if the predicate ends up batched, every carry is
  batched and the predicate keeps its batch axis (the loop runs until all lanes are done,
  freezing finished ones). Returns (while params, carry batch dims)."""
  bat = [d is not None for d in dims]
  cc_bat, bc_bat, init_bat = _split(bat, cond_nconsts, body_nconsts)
  cc_dims, bc_dims, _ = _split(dims, cond_nconsts, body_nconsts)
  carry_bat = [a or bool(f) for a, f in zip(init_bat, force_carry or [False] * len(init_bat))]
  num_carry = len(carry_bat)
  for _ in range(1 + num_carry):
    _, out_bat = cf.batch_jaxpr(body_jaxpr, axis_data, bc_bat + carry_bat, carry_bat)
    if out_bat == carry_bat:
      break
    carry_bat = [a or b for a, b in zip(carry_bat, out_bat)]
  pred_bat, = cf.out_batched(cond_jaxpr, axis_data, cc_bat + carry_bat)
  if pred_bat:
    carry_dims = [0] * num_carry
    cond_b = cf.batch_jaxpr_axes(cond_jaxpr, axis_data, cc_dims + carry_dims, [0])
  else:
    # keep the (possibly already batched) predicate's shape a prefix of every carry's
    rank = cond_jaxpr.out_avals[0].ndim
    carry_dims = [rank if b else None for b in carry_bat]
    cond_b = cf.batch_jaxpr_axes(cond_jaxpr, axis_data, cc_dims + carry_dims, [None])
  body_b = cf.batch_jaxpr_axes(body_jaxpr, axis_data, bc_dims + carry_dims, carry_dims)
  params = dict(cond_jaxpr=cond_b, body_jaxpr=body_b, cond_nconsts=cond_nconsts,
                body_nconsts=body_nconsts)
  return params, carry_dims


batching.axis_primitive_batchers[while_p] = _while_batch


# =======================================================================================
# Public API

def _trace_carry_fun(fun, carry_tree, avals, extra_trees=()):
  """Trace fun(carry, *extras) where carry (and extras) are pytrees given flat."""
  in_tree = tree_util.treedef_tuple((carry_tree,) + tuple(extra_trees))
  return cf.trace_user_fun(fun, in_tree, avals)


def _flat_arrays(tree):
  leaves, t = tree_util.tree_flatten(tree)
  return [cf.to_array(x) for x in leaves], t


def _is_concrete(x):
  return not isinstance(x, core.Tracer) or x.to_concrete_value() is not None


def while_loop(cond_fun, body_fun, init_val):
  """Call `body_fun` repeatedly while `cond_fun` is True.

  Semantics: ``val = init_val; while cond_fun(val): val = body_fun(val)``. The carry keeps
  a fixed structure, shape and dtype. Unlike JAX, reverse-mode differentiation works even
  with a data-dependent trip count (the forward loop records what the backward pass needs).
  """
  if not (callable(body_fun) and callable(cond_fun)):
    raise TypeError("lax.while_loop: body_fun and cond_fun arguments should be callable.")
  if config.jax_disable_jit:
    try:
      val = tree_util.tree_map(cf.to_array, init_val)
      while cond_fun(val):
        val = tree_util.tree_map(cf.to_array, body_fun(val))
      return val
    except errors.ConcretizationTypeError:
      pass  # e.g. under vmap: fall back to the primitive
  init, carry_tree = _flat_arrays(init_val)
  init_avals = [core.get_aval(x) for x in init]

  def create(avals):
    cond_c, cond_consts, cond_tree, cond_out = _trace_carry_fun(cond_fun, carry_tree, avals)
    if not tree_util.treedef_is_leaf(cond_tree) or len(cond_out) != 1:
      raise TypeError(f"cond_fun must return a boolean scalar, but got pytree {cond_tree}.")
    pred = cond_out[0]
    if pred.shape != () or pred.dtype != _bool:
      raise TypeError("cond_fun must return a boolean scalar, but got output type(s) "
                      f"[{pred!r}].")
    body_c, body_consts, body_tree, body_out = _trace_carry_fun(body_fun, carry_tree, avals)
    return cond_c, cond_consts, body_c, body_consts, body_tree, body_out

  cond_c, cond_consts, body_c, body_consts, body_tree, body_out = create(init_avals)
  if body_tree == carry_tree:
    init, changed = cf.promote_weak_typed_inputs(init, init_avals, body_out)
    if changed:
      init_avals = [core.get_aval(x) for x in init]
      cond_c, cond_consts, body_c, body_consts, body_tree, body_out = create(init_avals)
  cf.check_carry_type("while_loop body", body_fun, carry_tree, init_avals, body_tree, body_out)
  # A carry the body returns unchanged and the cond does not read becomes a body const.
  nbc, ncc = len(body_consts), len(cond_consts)
  fwd = cf.forwarding(body_c)
  cond_used = cf.used_inputs(cond_c)[ncc:]
  move = [f == nbc + i and not u for i, (f, u) in enumerate(zip(fwd, cond_used))]
  if any(move):
    bj = body_c.jaxpr
    b_consts_v, b_carry_v = bj.invars[:nbc], bj.invars[nbc:]
    moved_v = [v for v, m in zip(b_carry_v, move) if m]
    kept_v = [v for v, m in zip(b_carry_v, move) if not m]
    body_c = cf.rebind(body_c, invars=moved_v + b_consts_v + kept_v,
                       outvars=[v for v, m in zip(bj.outvars, move) if not m])
    cj = cond_c.jaxpr
    cond_c = cf.rebind(cond_c, invars=cj.invars[:ncc] + [v for v, m in
                                                        zip(cj.invars[ncc:], move) if not m])
    body_consts = [x for x, m in zip(init, move) if m] + body_consts
    loop_init = [x for x, m in zip(init, move) if not m]
  else:
    loop_init = init
  outs = while_p.bind(*cond_consts, *body_consts, *loop_init, cond_jaxpr=cond_c,
                      body_jaxpr=body_c, cond_nconsts=len(cond_consts),
                      body_nconsts=len(body_consts))
  it = iter(outs)
  outs = [x if m else next(it) for x, m in zip(init, move)]
  return tree_util.tree_unflatten(carry_tree, outs)


def _infer_scan_length(xs_flat, length):
  try:
    lengths = [x.shape[0] for x in xs_flat]
  except (AttributeError, IndexError) as err:
    raise ValueError("scan got value with no leading axis to scan over: "
                     f"{', '.join(str(x) for x in xs_flat if not np.shape(x))}.") from err
  if length is not None:
    try:
      length = int(length)
    except errors.ConcretizationTypeError:
      raise errors.ConcretizationTypeError(
          "The `length` argument to `scan` expects a concrete `int` value. For scan-like "
          "iteration with a dynamic length, use `while_loop` or `fori_loop`.") from None
    if not all(length == n for n in lengths):
      raise ValueError(f"scan got `length` argument of {length} which disagrees with "
                       f"leading axis sizes {lengths}.")
    return length
  unique = set(lengths)
  if len(unique) > 1:
    raise ValueError("scan got values with different leading axis sizes: "
                     f"{', '.join(str(n) for n in lengths)}.")
  if not unique:
    raise ValueError("scan got no values to scan over and `length` not provided.")
  return unique.pop()


def _stack(ys):
  return lax_slicing().concatenate([lax.expand_dims(y, (0,)) for y in ys], 0)


def lax_slicing():
  from numjax._src.lax import slicing
  return slicing


def scan(f, init, xs=None, length=None, reverse=False, unroll=1, _split_transpose=False):
  """Scan `f: (carry, x) -> (carry, y)` over the leading axis of `xs`.

  Semantics: ``for x in xs: carry, y = f(carry, x); ys.append(y)``, returning
  ``(carry, stack(ys))``; `xs` may be any pytree (or None with `length`), `reverse` runs
  from the end. `unroll` is accepted (it does not change results)."""
  if not callable(f):
    raise TypeError("lax.scan: f argument should be a callable.")
  init_flat, init_tree = _flat_arrays(init)
  xs_flat, xs_tree = _flat_arrays(xs)
  length = _infer_scan_length(xs_flat, length)
  if config.jax_disable_jit:
    if length == 0:
      raise ValueError("zero-length scan is not supported in disable_jit() mode because "
                       "the output type is unknown.")
    carry, ys = tree_util.tree_unflatten(init_tree, init_flat), []
    idx = range(length - 1, -1, -1) if reverse else range(length)
    sl = lax_slicing()
    for i in idx:
      x = tree_util.tree_unflatten(xs_tree, [sl.index_in_dim(v, i, keepdims=False)
                                             for v in xs_flat])
      carry, y = f(carry, x)
      ys.append(y)
    if reverse:
      ys.reverse()
    return carry, tree_util.tree_map(lambda *v: _stack(v), *ys)
  x_avals = [_unstacked(core.get_aval(x)) for x in xs_flat]

  def create(carry_avals):
    closed, consts, out_tree, out_avals = _trace_carry_fun(f, init_tree, carry_avals + x_avals,
                                                           (xs_tree,))
    out = tree_util.tree_unflatten(out_tree, out_avals)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
      raise TypeError(f"scan body output must be a pair, got {out}.")
    carry_tree = tree_util.tree_structure(out[0])
    ys_tree = tree_util.tree_structure(out[1])
    return closed, consts, carry_tree, ys_tree, out_avals
  init_avals = [core.get_aval(x) for x in init_flat]
  closed, consts, carry_tree, ys_tree, out_avals = create(init_avals)
  ncar = carry_tree.num_leaves
  if carry_tree == init_tree:
    init_flat, changed = cf.promote_weak_typed_inputs(init_flat, init_avals,
                                                      out_avals[:ncar])
    if changed:
      init_avals = [core.get_aval(x) for x in init_flat]
      closed, consts, carry_tree, ys_tree, out_avals = create(init_avals)
  cf.check_carry_type("scan body", f, init_tree, init_avals, carry_tree, out_avals[:ncar])
  unroll = core.concrete_or_error(lambda u: u, unroll, "The `unroll` argument to `scan` expects a "
                                  "concrete `int` or `bool` value.")
  if isinstance(unroll, (bool, np.bool_)):
    unroll = max(length, 1) if unroll else 1
  unroll = operator.index(unroll)
  if unroll < 0:
    raise ValueError("`unroll` must be a `bool` or a non-negative `int`.")
  nc, nxs = len(consts), len(xs_flat)
  num_ys = len(out_avals) - ncar
  # carries the body forwards unchanged become consts; ys that are xs are not copied
  fwd = cf.forwarding(closed)
  move = [f == nc + i for i, f in enumerate(fwd[:ncar])]
  y_from_x = [f - nc - ncar if f is not None and f >= nc + ncar else None
              for f in fwd[ncar:]]
  j = closed.jaxpr
  c_v, car_v, x_v = _split(j.invars, nc, ncar)
  keep_out = [not m for m in move] + [f is None for f in y_from_x]
  closed = cf.rebind(closed, invars=[v for v, m in zip(car_v, move) if m] + c_v
                     + [v for v, m in zip(car_v, move) if not m] + x_v,
                     outvars=[v for v, k in zip(j.outvars, keep_out) if k])
  new_consts = [x for x, m in zip(init_flat, move) if m] + consts
  loop_init = [x for x, m in zip(init_flat, move) if not m]
  outs = scan_p.bind(*new_consts, *loop_init, *xs_flat, jaxpr=closed, length=length,
                     reverse=bool(reverse), num_consts=len(new_consts),
                     num_carry=len(loop_init), unroll=unroll)
  it = iter(outs)
  carry_out = [x if m else next(it) for x, m in zip(init_flat, move)]
  ys = [next(it) if f is None else xs_flat[f] for f in y_from_x]
  return (tree_util.tree_unflatten(carry_tree, carry_out),
          tree_util.tree_unflatten(ys_tree, ys))


def fori_loop(lower, upper, body_fun, init_val, *, unroll=None):
  """Loop `body_fun(i, val)` for i in [lower, upper).

  Static bounds lower to `scan` (reverse-mode differentiable, as JAX); traced bounds to
  `while_loop` (also differentiable here)."""
  if not callable(body_fun):
    raise TypeError("lax.fori_loop: body_fun argument should be callable.")
  from numjax._src import dtypes as _dtypes
  lower_dtype = _dtypes.dtype(lower, canonicalize=True)
  upper_dtype = _dtypes.dtype(upper, canonicalize=True)
  if lower_dtype == upper_dtype:
    dtype = lower_dtype
  else:
    dtype = None
    if (np.issubdtype(lower_dtype, np.signedinteger)
        and np.issubdtype(upper_dtype, np.signedinteger)):
      lw, uw = _dtypes.is_weakly_typed(lower), _dtypes.is_weakly_typed(upper)
      if lw and not uw:
        dtype = upper_dtype
      elif uw and not lw:
        dtype = lower_dtype
    if dtype is None:
      raise TypeError("lower and upper arguments to fori_loop must have equal types, got "
                      f"{lower_dtype.name} and {upper_dtype.name}")
  use_scan = False
  if _is_concrete(lower) and _is_concrete(upper):
    try:
      lower_, upper_ = int(lower), int(upper)
      use_scan = True
    except (TypeError, ValueError):
      use_scan = False
  if use_scan:
    if unroll is None:
      unroll = False
    length = max(upper_ - lower_, 0)
    if config.jax_disable_jit and length == 0:
      return init_val

    def scanned(carry, _):
      i, x = carry
      return (lax.add(i, lax._const(i, 1)), body_fun(i, x)), None
    (_, result), _ = scan(scanned, (lower_, init_val), None, length=length, unroll=unroll)
    return result
  if unroll is not None and unroll is not False and unroll != 1:
    raise ValueError("Can only use `unroll` in `fori_loop` if the loop bounds are statically "
                     "known.")
  lower = lax.convert_element_type(lower, dtype) if lower_dtype != dtype else lower
  upper = lax.convert_element_type(upper, dtype) if upper_dtype != dtype else upper

  def cond(carry):
    return lax.lt(carry[0], carry[1])

  def body(carry):
    i, u, x = carry
    return lax.add(i, lax._const(i, 1)), u, body_fun(i, x)
  _, _, result = while_loop(cond, body, (lower, upper, init_val))
  return result


def map(f, xs, *, batch_size=None):
  """Map `f` over the leading axis of `xs` with a scan (`batch_size`: vmap chunks)."""
  if batch_size is not None:
    from numjax._src.vmap import vmap
    sl = lax_slicing()
    leaves, tree = tree_util.tree_flatten(xs)
    leaves = [cf.to_array(x) for x in leaves]
    n = leaves[0].shape[0] if leaves else 0
    num_batches, rem = (0, n) if batch_size == 0 else divmod(n, batch_size)
    elems = num_batches * batch_size
    ys_scan = ys_rem = None
    if num_batches:
      scan_leaves = [lax.reshape(sl.slice_in_dim(x, 0, elems, 1, 0),
                                 (num_batches, batch_size) + tuple(x.shape[1:])) for x in leaves]
      _, ys_scan = scan(lambda _, x: ((), vmap(f)(x)), (),
                        tree_util.tree_unflatten(tree, scan_leaves))
      ys_scan = tree_util.tree_map(
          lambda y: lax.reshape(y, (elems,) + tuple(y.shape[2:])), ys_scan)
    if rem:
      rem_leaves = [sl.slice_in_dim(x, elems, n, 1, 0) for x in leaves]
      ys_rem = vmap(f)(tree_util.tree_unflatten(tree, rem_leaves))
    if ys_scan is None:
      return ys_rem
    if ys_rem is None:
      return ys_scan
    return tree_util.tree_map(lambda a, b: sl.concatenate([a, b], 0), ys_scan, ys_rem)
  _, ys = scan(lambda _, x: ((), f(x)), (), xs)
  return ys
