"""Reverse-mode differentiation through `while_loop` with a data-dependent trip count.

JAX refuses this (XLA needs static memory bounds). Here the loop's jvp, when it is being
linearized, records what the backward pass needs:

- Concrete inputs (eager `grad`): the forward loop runs once on NumPy buffers, recording
  each iteration's residuals; the trip count N is then known, so the tangent program is a
  linear `scan` of length N over the stacked residuals, and its transpose is a reversed
  scan. (Inputs that are tracers of an outer `jvp` but still carry concrete values: N is
  counted, and the loop is differentiated as a scan of length N.)
- Traced inputs (under `jit`): N is unknown while staging. The primal `while` runs as usual
  and the tangent is `while_lin` (the jvp'd loop, linear in its tangent operands). Its
  transpose `while_lin_transpose` replays the forward loop from the same inputs, recording
  the residuals of every iteration (or a checkpoint of the carry every
  `CHECKPOINT_EVERY` iterations, recomputing each segment), then runs the transposed body
  backwards over them.

A batched predicate (vmap) keeps its meaning: finished lanes are frozen, and the backward
pass applies each iteration only to the lanes that were active in it.

Higher orders with a traced trip count: the jvp of the reverse sweep is a reverse sweep over
the loop differentiated once more (forward-over-reverse, `jit(hessian(f))`); under
linearize its part linear in the primal tangents is `while_sweep_tangent`, whose transpose
is the reverse mode of the forward tangent loop (reverse-over-reverse, `jit(grad(grad(f)))`).
"""
from __future__ import annotations

import numpy as np

from numjax._src import core
from numjax._src.array import Array, _make
from numjax._src.core import Primitive
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters import partial_eval as pe
from numjax._src.interpreters.ad import Zero
from numjax._src.lax import lax
from numjax._src.lax.control_flow import codegen
from numjax._src.lax.control_flow import common as cf
from numjax._src.lax.control_flow import loops

# None: record every iteration's residuals. An int k: keep the carry every k iterations
# and recompute each segment's residuals during the backward sweep (memory O(N/k + k)).
CHECKPOINT_EVERY = None


def _split(xs, *sizes):
  return core.split_list(list(xs), list(sizes))


def _masked_body(cond_jaxpr, body_jaxpr, ncc, nbc):
  """(cconsts, bconsts, carry) -> where(pred, body(carry), carry): one step of a loop whose
  predicate is batched, as a scan body."""
  pred_aval = cond_jaxpr.out_avals[0]
  avals = list(cond_jaxpr.in_avals[:ncc]) + list(body_jaxpr.in_avals)

  def f(*args):
    cc, bc, carry = _split(args, ncc, nbc)
    p, = core.eval_jaxpr(cond_jaxpr.jaxpr, cond_jaxpr.consts, *cc, *carry)
    new = core.eval_jaxpr(body_jaxpr.jaxpr, body_jaxpr.consts, *bc, *carry)
    out = []
    for n, c in zip(new, carry):
      shape = core.get_aval(c).shape
      pb = p if len(shape) == pred_aval.ndim else lax.broadcast_in_dim(
          p, shape, tuple(range(pred_aval.ndim)))
      out.append(lax.select(pb, n, c))
    return out
  return pe.trace_to_jaxpr(f, avals)


def _concrete(x):
  if isinstance(x, Array):
    return x._value
  if isinstance(x, core.Tracer):
    c = x.to_concrete_value()
    if c is None:
      return None
    return c._value if hasattr(c, "_value") else np.asarray(c)
  return np.asarray(x)


def _count_trips(cond_jaxpr, body_jaxpr, cc, bc, init):
  cond_fn, body_fn = codegen.jaxpr_fn(cond_jaxpr), codegen.jaxpr_fn(body_jaxpr)
  batched = cond_jaxpr.out_avals[0].ndim > 0
  carry, n = list(init), 0
  while True:
    p, = cond_fn(*cc, *carry)
    if not (np.any(p) if batched else p):
      return n
    new = body_fn(*bc, *carry)
    if batched:
      new = [np.where(p.reshape(p.shape + (1,) * (np.ndim(c) - p.ndim)), a, c)
             for a, c in zip(new, carry)]
    carry, n = list(new), n + 1


def linearize_while(cconsts, bconsts, init, bconst_dots, init_dots, bconst_nz, carry_nz,
                    body_jvp, *, cond_jaxpr, body_jaxpr):
  """The jvp of while_p under linearize: returns (primal outputs, tangents of the nonzero
  carries), the tangents being produced by a linear (transposable) program."""
  ncc, nbc = len(cconsts), len(bconsts)
  batched = cond_jaxpr.out_avals[0].ndim > 0
  if all(isinstance(x, Array) for x in (*cconsts, *bconsts, *init)):
    return _record_and_scan(cconsts, bconsts, init, bconst_dots, init_dots, bconst_nz,
                            carry_nz, body_jvp, cond_jaxpr, body_jaxpr)
  vals = [_concrete(x) for x in (*cconsts, *bconsts, *init)]
  if all(v is not None for v in vals):
    cc, bc, ini = _split(vals, ncc, nbc)
    n = _count_trips(cond_jaxpr, body_jaxpr, cc, bc, ini)
    if batched:
      body, consts = _masked_body(cond_jaxpr, body_jaxpr, ncc, nbc), cconsts + bconsts
      const_t = [Zero(ad.tangent_aval(core.get_aval(c))) for c in cconsts]
    else:
      body, consts, const_t = body_jaxpr, bconsts, []
    it_b, it_c = iter(bconst_dots), iter(init_dots)
    const_t += [next(it_b) if nz else Zero(ad.tangent_aval(core.get_aval(c)))
                for c, nz in zip(bconsts, bconst_nz)]
    carry_t = [next(it_c) if nz else Zero(ad.tangent_aval(core.get_aval(c)))
               for c, nz in zip(init, carry_nz)]
    out, tans = loops._scan_jvp(list(consts) + list(init), const_t + carry_t, jaxpr=body,
                                length=n, reverse=False, num_consts=len(consts),
                                num_carry=len(init), unroll=1)
    return out, [t for t, nz in zip(tans, carry_nz) if nz]
  # traced: N is unknown until run time
  outs = loops.while_p.bind(*cconsts, *bconsts, *init, cond_jaxpr=cond_jaxpr,
                            body_jaxpr=body_jaxpr, cond_nconsts=ncc, body_nconsts=nbc)
  params = loops.jvp_while_params(cond_jaxpr, body_jvp, ncc, nbc, len(bconst_dots),
                                  len(init), len(init_dots))
  tans = while_lin_p.bind(*cconsts, *bconsts, *bconst_dots, *init, *init_dots, **params,
                          num_lin_consts=len(bconst_dots), num_lin_carry=len(init_dots))
  return outs, tans


def _record_and_scan(cconsts, bconsts, init, bconst_dots, init_dots, bconst_nz, carry_nz,
                     body_jvp, cond_jaxpr, body_jaxpr):
  """Eager: run the forward loop once on buffers recording every iteration's residuals,
  then stage the tangent as a linear scan over them."""
  ncc, nbc, ncar = len(cconsts), len(bconsts), len(init)
  batched = cond_jaxpr.out_avals[0].ndim > 0
  if batched:
    body = _masked_body(cond_jaxpr, body_jaxpr, ncc, nbc)
    jvp_j, _ = cf.jvp_jaxpr(body, [False] * ncc + list(bconst_nz) + list(carry_nz),
                            list(carry_nz))
    consts = list(cconsts) + list(bconsts)
  else:
    jvp_j, consts = body_jvp, list(bconsts)
  nc, ncd, nccd = len(consts), len(bconst_dots), len(init_dots)
  known, inv_j, tan_body, n_inv, res_src = loops.split_scan_body(jvp_j, nc, ncar, 0, ncd,
                                                                 nccd, 0, 0, 0)
  n_var = len(res_src)
  cond_fn, known_fn = codegen.jaxpr_fn(cond_jaxpr), codegen.jaxpr_fn(known)
  cc = [x._value for x in cconsts]
  kc = [x._value for x in consts]
  carry = [x._value for x in init]
  tape = [[] for _ in range(n_var)]
  n = 0
  while True:
    p, = cond_fn(*cc, *carry)
    if not (np.any(p) if batched else p):
      break
    outs = known_fn(*kc, *carry)
    carry = outs[:ncar]
    for lst, r in zip(tape, outs[ncar:]):
      lst.append(r)
    n += 1
  res_avals = known.out_avals[ncar:]
  stacked = [_make(np.stack([np.asarray(r) for r in lst]) if lst else
                   np.empty((0,) + a.shape, a.dtype), a.weak_type)
             for lst, a in zip(tape, res_avals)]
  primal_out = [_make(np.asarray(c), a.weak_type) for c, a in zip(carry, body_jaxpr.out_avals)]
  inv_vals = core.eval_jaxpr(inv_j.jaxpr, inv_j.consts, *consts)
  tans = loops.scan_p.bind(*inv_vals, *bconst_dots, *init_dots, *stacked, jaxpr=tan_body,
                           length=n, reverse=False, num_consts=n_inv + ncd, num_carry=nccd,
                           unroll=1)
  return primal_out, tans


# =======================================================================================
# while_lin: the tangent of a while loop whose trip count is only known at run time.
#
# Operands and params are those of the combined (primal, tangent) while_p produced by the
# jvp, plus which trailing body consts / carries are the linear tangent ones; the outputs
# are the final tangent carries.

while_lin_p = Primitive("while_lin")
while_lin_p.multiple_results = True
while_lin_p.numpy_tier_only = True


def _lin_split(params):
  nlc, nlt = params["num_lin_consts"], params["num_lin_carry"]
  return nlc, nlt


def _while_params(params):
  return {k: params[k] for k in ("cond_jaxpr", "body_jaxpr", "cond_nconsts", "body_nconsts")}


def _while_lin_impl(*args, num_lin_consts, num_lin_carry, **params):
  outs = loops._while_impl(*args, **params)
  return outs[len(outs) - num_lin_carry:]


def _while_lin_avals(*, body_jaxpr, num_lin_carry, **_):
  outs = body_jaxpr.out_avals
  return list(outs[len(outs) - num_lin_carry:])


def _while_lin_abstract(*avals, **params):
  loops._while_abstract_eval(*avals, **_while_params(params))
  return _while_lin_avals(**params)


while_lin_p.impl = _while_lin_impl
while_lin_p.abstract_eval = _while_lin_abstract
cf.def_eager_with_avals(while_lin_p, _while_lin_avals)


def _while_lin_jvp(primals, tangents, *, num_lin_consts, num_lin_carry, **params):
  # while_lin is a while loop whose outputs are projected: differentiate it as one.
  out, tans = loops._while_jvp(primals, tangents, **params)
  k = len(out) - num_lin_carry
  return out[k:], tans[k:]


def _while_lin_layout(args, params):
  ncc, nb = params["cond_nconsts"], params["body_nconsts"]
  nlc, nlt = params["num_lin_consts"], params["num_lin_carry"]
  cconsts, bconsts, carry = _split(args, ncc, nb)
  return cconsts, bconsts[:nb - nlc], bconsts[nb - nlc:], carry[:len(carry) - nlt], \
      carry[len(carry) - nlt:]


def _while_lin_transpose(cts, *args, **params):
  cconsts, bc, bdots, init, tinit = _while_lin_layout(args, params)
  if any(ad.is_undefined_primal(x) for x in (*cconsts, *bc, *init)):
    raise NotImplementedError("while_lin transpose: the primal operands must be known.")
  if all(type(c) is Zero for c in cts):
    ct_bd = [Zero(x.aval) if ad.is_undefined_primal(x) else None for x in bdots]
    ct_t = [Zero(x.aval) if ad.is_undefined_primal(x) else None for x in tinit]
  else:
    avals = _while_lin_avals(**params)
    cts = [ad.zeros_like_aval(ad.tangent_aval(a)) if type(c) is Zero else c
           for c, a in zip(cts, avals)]
    outs = while_lin_transpose_p.bind(*cconsts, *bc, *init, *cts, **params)
    ct_bd_v, ct_t_v = outs[:len(bdots)], outs[len(bdots):]
    # tangent slots holding known values (instantiated zeros) get no cotangent
    ct_bd = [c if ad.is_undefined_primal(x) else None for c, x in zip(ct_bd_v, bdots)]
    ct_t = [c if ad.is_undefined_primal(x) else None for c, x in zip(ct_t_v, tinit)]
  return [None] * (len(cconsts) + len(bc)) + ct_bd + [None] * len(init) + ct_t


ad.primitive_jvps[while_lin_p] = _while_lin_jvp
ad.primitive_transposes[while_lin_p] = _while_lin_transpose


def _while_lin_batch(axis_data, args, dims, **params):
  new_args, wparams, carry_dims = loops.batch_while(axis_data, args, dims,
                                                    **_while_params(params))
  outs = while_lin_p.bind(*new_args, **wparams, num_lin_consts=params["num_lin_consts"],
                          num_lin_carry=params["num_lin_carry"])
  return outs, carry_dims[len(carry_dims) - params["num_lin_carry"]:]


batching.axis_primitive_batchers[while_lin_p] = _while_lin_batch


# =======================================================================================
# while_lin_transpose: operands (cconsts, primal bconsts, primal init, cts of the final
# tangent carries); outputs (cts of the tangent body consts, cts of the initial tangents).

while_lin_transpose_p = Primitive("while_lin_transpose")
while_lin_transpose_p.multiple_results = True
while_lin_transpose_p.numpy_tier_only = True


def _t_avals(*, body_jaxpr, body_nconsts, num_lin_consts, num_lin_carry, **_):
  ins = body_jaxpr.in_avals
  bd = ins[body_nconsts - num_lin_consts:body_nconsts]
  tc = ins[len(ins) - num_lin_carry:]
  return [ad.tangent_aval(a) for a in (*bd, *tc)]


def _t_abstract(*avals, **params):
  return _t_avals(**params)


def _t_pieces(params):
  """The known step, the transposed tangent step and their NumPy runners (cached)."""
  body = params["body_jaxpr"]
  key = ("while_T", params["cond_jaxpr"], params["body_nconsts"], params["num_lin_consts"],
         params["num_lin_carry"])
  return codegen._cached(body, key, lambda: _build_t_pieces(params))


def _build_t_pieces(params):
  body = params["body_jaxpr"]
  nb, nlc, nlt = params["body_nconsts"], params["num_lin_consts"], params["num_lin_carry"]
  ncar = len(body.out_avals)
  nbn, ncn = nb - nlc, ncar - nlt
  unknowns = [False] * nbn + [True] * nlc + [False] * ncn + [True] * nlt
  known, unknown, out_unk, nres = cf.partial_eval_split(body, unknowns,
                                                        [False] * ncn + [True] * nlt)
  assert out_unk == [False] * ncn + [True] * nlt
  bwd = cf.transpose_jaxpr(unknown, [False] * nres + [True] * (nlc + nlt))
  return dict(known=codegen.jaxpr_fn(known), bwd=codegen.jaxpr_fn(bwd), ncn=ncn, nbn=nbn,
              cond=codegen.jaxpr_fn(params["cond_jaxpr"]), nres=nres, keep=(known, bwd))


def _t_impl(*args, **params):
  pc = _t_pieces(params)
  ncc, nlc = params["cond_nconsts"], params["num_lin_consts"]
  pred_aval = params["cond_jaxpr"].out_avals[0]
  batched = pred_aval.ndim > 0
  cc, bc, carry, cts = _split(args, ncc, pc["nbn"], pc["ncn"])
  cond_fn, known_fn, bwd_fn = pc["cond"], pc["known"], pc["bwd"]
  ncn = pc["ncn"]
  no_tangents = [None] * params["num_lin_carry"]

  def step(carry):
    """One forward iteration: (new carry, residuals, mask) or None when the loop ends."""
    p, = cond_fn(*cc, *carry, *no_tangents)  # the cond never reads the tangent carries
    if not (np.any(p) if batched else p):
      return None
    outs = known_fn(*bc, *carry)
    new = list(outs[:ncn])
    if batched:
      new = [np.where(_bcast(p, c), a, c) for a, c in zip(new, carry)]
    return new, outs[ncn:], p

  def sweep(tape, ct_t, acc):
    for res, p in reversed(tape):
      if batched:
        masked = [np.where(_bcast(p, c), c, np.zeros_like(c)) for c in ct_t]
        outs = bwd_fn(*res, *masked)
        ct_bd, ct_prev = outs[:nlc], outs[nlc:]
        ct_t = [np.where(_bcast(p, c), n, c) for n, c in zip(ct_prev, ct_t)]
      else:
        outs = bwd_fn(*res, *ct_t)
        ct_bd, ct_t = outs[:nlc], list(outs[nlc:])
      acc = [a + b for a, b in zip(acc, ct_bd)]
    return ct_t, acc

  ct_t = [np.asarray(c) for c in cts]
  acc = [np.zeros(a.shape, a.dtype) for a in _t_avals(**params)[:nlc]]
  k = CHECKPOINT_EVERY
  if not k:
    tape, c = [], list(carry)
    while (s := step(c)) is not None:
      c, res, p = s
      tape.append((res, p))
    ct_t, acc = sweep(tape, ct_t, acc)
  else:
    # checkpoints of the carry every k iterations; each segment is replayed backwards
    checkpoints, c, n = [list(carry)], list(carry), 0
    while (s := step(c)) is not None:
      c, n = s[0], n + 1
      if n % k == 0:
        checkpoints.append(list(c))
    for seg in range(len(checkpoints) - 1, -1, -1):
      c, tape = checkpoints[seg], []
      for _ in range(k if seg < len(checkpoints) - 1 else n - seg * k):
        c, res, p = step(c)
        tape.append((res, p))
      ct_t, acc = sweep(tape, ct_t, acc)
  return acc + ct_t


def _bcast(p, x):
  extra = np.ndim(x) - p.ndim
  return p.reshape(p.shape + (1,) * extra) if extra else p


while_lin_transpose_p.impl = _t_impl
while_lin_transpose_p.abstract_eval = _t_abstract
cf.def_eager_with_avals(while_lin_transpose_p, _t_avals)


def _doubled(params):
  """The loop differentiated once more, as while_lin_transpose params: body consts
  [bc, bc_dot(float), bd, bd_dot], carries [c, c_dot(float), t, t_dot]; the cond ignores the
  new carries. Returns (params, float mask of bc, float mask of c)."""
  return codegen._cached(params["body_jaxpr"], ("doubled", params["cond_jaxpr"],
                                                params["body_nconsts"],
                                                params["num_lin_consts"],
                                                params["num_lin_carry"]),
                         lambda: _build_doubled(params))


def _build_doubled(params):
  ncc, nb = params["cond_nconsts"], params["body_nconsts"]
  nlc, nlt = params["num_lin_consts"], params["num_lin_carry"]
  body, cond = params["body_jaxpr"], params["cond_jaxpr"]
  ncar = len(body.out_avals)
  nbn, ncn = nb - nlc, ncar - nlt
  in_avals = body.in_avals
  diff = [a.dtype.kind in "fc" for a in in_avals]
  bcf, _, cf_, _ = _split(diff, nbn, nlc, ncn)
  nz = bcf + [True] * nlc + cf_ + [True] * nlt
  b2, _ = cf.jvp_jaxpr(body, nz, [a.dtype.kind in "fc" for a in body.out_avals])
  nbf, ncf = sum(bcf), sum(cf_)
  n_in = nb + ncar
  # b2 inputs: [bc, bd, c, t, bc_dot(float), bd_dot, c_dot(float), t_dot]
  i_bc, i_bd = list(range(nbn)), list(range(nbn, nb))
  i_c, i_t = list(range(nb, nb + ncn)), list(range(nb + ncn, n_in))
  j = n_in
  i_bcd, i_bdd = list(range(j, j + nbf)), list(range(j + nbf, j + nbf + nlc))
  j += nbf + nlc
  i_cd, i_td = list(range(j, j + ncf)), list(range(j + ncf, j + ncf + nlt))
  b2 = cf.permute_invars(b2, i_bc + i_bcd + i_bd + i_bdd + i_c + i_cd + i_t + i_td)
  # b2 outputs: [c', t', c_dot'(float), t_dot'] -> [c', c_dot', t', t_dot']
  o_c, o_t = list(range(ncn)), list(range(ncn, ncar))
  o_cd = list(range(ncar, ncar + ncf))
  o_td = list(range(ncar + ncf, ncar + ncf + nlt))
  b2 = cf.permute_outvars(b2, o_c + o_cd + o_t + o_td)
  cj = cond.jaxpr.invars
  c_dot_avals = [ad.tangent_aval(a) for a, f in zip(in_avals[nb:nb + ncn], cf_) if f]
  t_avals = in_avals[nb + ncn:]
  cond2 = cf.rebind(cond, invars=list(cj[:ncc + ncn]) + [core.Var(a) for a in c_dot_avals]
                    + list(cj[ncc + ncn:]) + [core.Var(a) for a in t_avals])
  p2 = dict(cond_jaxpr=cond2, body_jaxpr=b2, cond_nconsts=ncc,
            body_nconsts=2 * nlc + nbn + nbf, num_lin_consts=2 * nlc, num_lin_carry=2 * nlt)
  return p2, bcf, cf_


def _t_jvp(primals, tangents, **params):
  """The jvp of the reversed sweep is itself a reversed sweep, over the jvp of the loop.

  The tangent program maps (bdots, t0) to t_N linearly, through a matrix A that depends on
  the primal operands; this op computes A^T ct. Differentiating the loop once more gives a
  loop over (t, t_dot) whose linear map is [[A, 0], [A_dot, A]]; its transpose applied to
  (ct_dot, ct) yields (A^T ct_dot + A_dot^T ct, A^T ct): the tangent and the primal output.
  Under linearize the two terms are kept apart, so that each is transposable:
  A^T ct_dot is this op again, and A_dot^T ct is `while_sweep_tangent`.
  """
  ncc, nb = params["cond_nconsts"], params["body_nconsts"]
  nlc, nlt = params["num_lin_consts"], params["num_lin_carry"]
  ncn = len(params["body_jaxpr"].out_avals) - nlt
  nbn = nb - nlc
  cc, bc, init, cts = _split(primals, ncc, nbn, ncn)
  _, bc_t, init_t, cts_t = _split(tangents, ncc, nbn, ncn)
  p2, bcf, cf_ = _doubled(params)
  bc_dot = [t for t, f in zip(bc_t, bcf) if f]
  init_dot = [t for t, f in zip(init_t, cf_) if f]
  out = while_lin_transpose_p.bind(*primals, **params)
  live = [t for t in (*bc_dot, *init_dot, *cts_t) if type(t) is not Zero]
  if cf.is_linearizing(live):
    terms = []
    if any(type(t) is not Zero for t in cts_t):
      terms.append(while_lin_transpose_p.bind(*cc, *bc, *init,
                                              *[ad.instantiate_zeros(t) for t in cts_t],
                                              **params))
    if any(type(t) is not Zero for t in (*bc_dot, *init_dot)):
      terms.append(while_sweep_tangent_p.bind(
          *cc, *bc, *init, *cts, *[ad.instantiate_zeros(t) for t in (*bc_dot, *init_dot)],
          **params))
    if not terms:
      return out, [Zero(ad.tangent_aval(core.get_aval(o))) for o in out]
    tan = terms[0] if len(terms) == 1 else [ad.add_tangents(a, b) for a, b in zip(*terms)]
    return out, tan
  inst = lambda t: ad.instantiate_zeros(t) if type(t) is Zero else t
  outs = while_lin_transpose_p.bind(
      *cc, *bc, *[inst(t) for t in bc_dot], *init, *[inst(t) for t in init_dot],
      *[inst(t) for t in cts_t], *cts, **p2)
  ct_bd, _, ct_t, _ = _split(outs, nlc, nlc, nlt)
  # The doubled sweep also yields the primal output, but batched like the tangents under
  # vmap; the primal computed on its own stays exactly as batched as its inputs.
  return out, ct_bd + ct_t


def _t_transpose(cts, *args, **params):
  # while_lin_transpose computes A^T ct; its transpose is the forward tangent loop A.
  ncc, nb = params["cond_nconsts"], params["body_nconsts"]
  nlc, nlt = params["num_lin_consts"], params["num_lin_carry"]
  ncn = len(params["body_jaxpr"].out_avals) - nlt
  cc, bc, init, ct_in = _split(args, ncc, nb - nlc, ncn)
  if any(ad.is_undefined_primal(x) for x in (*cc, *bc, *init)):
    raise NotImplementedError("while_lin_transpose: the primal operands must be known.")
  avals = _t_avals(**params)
  cts = [ad.zeros_like_aval(a) if type(c) is Zero else c for c, a in zip(cts, avals)]
  outs = while_lin_p.bind(*cc, *bc, *cts[:nlc], *init, *cts[nlc:], **params)
  return [None] * (len(args) - len(ct_in)) + [o if ad.is_undefined_primal(x) else None
                                              for o, x in zip(outs, ct_in)]


ad.primitive_jvps[while_lin_transpose_p] = _t_jvp
ad.primitive_transposes[while_lin_transpose_p] = _t_transpose


def _t_batch(axis_data, args, dims, **params):
  ncc, nb = params["cond_nconsts"], params["body_nconsts"]
  nlc, nlt = params["num_lin_consts"], params["num_lin_carry"]
  ncar = len(params["body_jaxpr"].out_avals)
  ncn = ncar - nlt
  cc, bc, init, cts = _split(args, ncc, nb - nlc, ncn)
  cc_d, bc_d, init_d, ct_d = _split(dims, ncc, nb - nlc, ncn)
  # The linear operands are absent here: batch them (at axis 0) so every lane gets its
  # own cotangents.
  full_dims = cc_d + bc_d + [0] * nlc + init_d + [None] * nlt
  wparams, carry_dims = loops.batch_while_jaxprs(
      axis_data, full_dims, **_while_params(params),
      force_carry=[False] * ncn + [True] * nlt)
  size = axis_data.size
  new_init = [x if nd is None else batching.matchaxis(d, nd, size, x)
              for x, d, nd in zip(init, init_d, carry_dims[:ncn])]
  new_cts = [batching.matchaxis(d, nd, size, x)
             for x, d, nd in zip(cts, ct_d, carry_dims[ncn:])]
  outs = while_lin_transpose_p.bind(*cc, *bc, *new_init, *new_cts, **wparams,
                                    num_lin_consts=nlc, num_lin_carry=nlt)
  return outs, [0] * nlc + carry_dims[ncn:]


batching.axis_primitive_batchers[while_lin_transpose_p] = _t_batch


# =======================================================================================
# while_sweep_tangent: A_dot^T ct, the part of the reverse sweep's derivative that is
# linear in the tangents of the primal operands (reverse-over-reverse, e.g. grad of grad
# under jit). Operands (cconsts, bconsts, init, ct, float bconst tangents, float init
# tangents); params those of while_lin_transpose; outputs its outputs' tangents.
# Transposing it needs the gradient of <ct, A(p) w> with respect to p: the reverse mode of
# the forward tangent loop `while_lin`, which is again a while loop.

while_sweep_tangent_p = Primitive("while_sweep_tangent")
while_sweep_tangent_p.multiple_results = True
while_sweep_tangent_p.numpy_tier_only = True


def _st_layout(args, params):
  ncc, nb = params["cond_nconsts"], params["body_nconsts"]
  nlc, nlt = params["num_lin_consts"], params["num_lin_carry"]
  ncn = len(params["body_jaxpr"].out_avals) - nlt
  _, bcf, cf_ = _doubled(params)
  return _split(args, ncc, nb - nlc, ncn, nlt, sum(bcf))


def _st_impl(*args, **params):
  cc, bc, init, ct, bc_dot, c_dot = _st_layout(args, params)
  p2, _, _ = _doubled(params)
  nlc = params["num_lin_consts"]
  zeros = [np.zeros(np.shape(c), np.asarray(c).dtype) for c in ct]
  outs = _t_impl(*cc, *bc, *bc_dot, *init, *c_dot, *zeros, *ct, **p2)
  nlt = params["num_lin_carry"]
  ct_bd, _, ct_t, _ = _split(outs, nlc, nlc, nlt)
  return ct_bd + ct_t


while_sweep_tangent_p.impl = _st_impl
while_sweep_tangent_p.abstract_eval = _t_abstract
cf.def_eager_with_avals(while_sweep_tangent_p, _t_avals)


def _st_transpose(cts, *args, **params):
  cc, bc, init, ct, bc_dot, c_dot = _st_layout(args, params)
  if any(ad.is_undefined_primal(x) for x in (*cc, *bc, *init, *ct)):
    raise NotImplementedError("while_sweep_tangent: only the tangent operands are linear.")
  _, bcf, cf_ = _doubled(params)
  nlc = params["num_lin_consts"]
  avals = _t_avals(**params)
  w = [ad.zeros_like_aval(a) if type(c) is Zero else c for c, a in zip(cts, avals)]
  w_bd, w_t0 = w[:nlc], w[nlc:]
  bcf_idx = [i for i, f in enumerate(bcf) if f]
  cf_idx = [i for i, f in enumerate(cf_) if f]

  def forward_tangent(*p):
    bc_full, init_full = list(bc), list(init)
    for i, v in zip(bcf_idx, p[:len(bcf_idx)]):
      bc_full[i] = v
    for i, v in zip(cf_idx, p[len(bcf_idx):]):
      init_full[i] = v
    return while_lin_p.bind(*cc, *bc_full, *w_bd, *init_full, *w_t0, **params)
  # <ct, A(p) w> differentiated with respect to p
  _, pullback, _ = ad.vjp_flat(forward_tangent, [bc[i] for i in bcf_idx]
                               + [init[i] for i in cf_idx])
  grads = pullback(list(ct))
  grads = [None if type(g) is Zero else g for g in grads]
  lin = [ad.is_undefined_primal(x) for x in (*bc_dot, *c_dot)]
  return ([None] * (len(cc) + len(bc) + len(init) + len(ct))
          + [g if l else None for g, l in zip(grads, lin)])


def _st_jvp(primals, tangents, **params):
  raise NotImplementedError(
      "Forward-mode differentiation of a second-order reverse-mode derivative (e.g. "
      "jacfwd(grad(grad(f))) under jit) through a while_loop whose trip count is only known "
      "at run time is not supported; use reverse mode (grad of grad of grad works), "
      "differentiate eagerly, or use scan / fori_loop with static bounds.")


ad.primitive_jvps[while_sweep_tangent_p] = _st_jvp
ad.primitive_transposes[while_sweep_tangent_p] = _st_transpose


def _st_batch(axis_data, args, dims, **params):
  ncc, nb = params["cond_nconsts"], params["body_nconsts"]
  nlc, nlt = params["num_lin_consts"], params["num_lin_carry"]
  ncn = len(params["body_jaxpr"].out_avals) - nlt
  _, bcf, cf_ = _doubled(params)
  cc, bc, init, ct, bc_dot, c_dot = _st_layout(args, params)
  cc_d, bc_d, init_d, ct_d, bcd_d, cd_d = _st_layout(dims, params)
  size = axis_data.size
  # a value and its tangent must be batched alike (the doubled loop pairs them)
  bc, bc_d = list(bc), list(bc_d)
  it = iter(bcd_d)
  new_bc_dot = []
  for i, f in enumerate(bcf):
    if not f:
      continue
    td, x = next(it), bc_dot[len(new_bc_dot)]
    if bc_d[i] is not None or td is not None:
      bc[i] = batching.bdim_at_front(bc[i], bc_d[i], size)
      bc_d[i] = 0
      x = batching.bdim_at_front(x, td, size)
    new_bc_dot.append(x)
  force = [False] * ncn
  it = iter(cd_d)
  for i, f in enumerate(cf_):
    if f and next(it) is not None:
      force[i] = True
  full_dims = cc_d + bc_d + [0] * nlc + list(init_d) + [None] * nlt
  wparams, carry_dims = loops.batch_while_jaxprs(
      axis_data, full_dims, **_while_params(params), force_carry=force + [True] * nlt)
  new_init = [x if nd is None else batching.matchaxis(d, nd, size, x)
              for x, d, nd in zip(init, init_d, carry_dims[:ncn])]
  new_ct = [batching.matchaxis(d, nd, size, x)
            for x, d, nd in zip(ct, ct_d, carry_dims[ncn:])]
  new_c_dot = []
  it = iter(zip(c_dot, cd_d))
  for i, f in enumerate(cf_):
    if f:
      x, d = next(it)
      nd = carry_dims[i]
      new_c_dot.append(x if nd is None and d is None else batching.matchaxis(d, nd, size, x))
  outs = while_sweep_tangent_p.bind(*cc, *bc, *new_init, *new_ct, *new_bc_dot, *new_c_dot,
                                    **wparams, num_lin_consts=nlc, num_lin_carry=nlt)
  return outs, [0] * nlc + carry_dims[ncn:]


batching.axis_primitive_batchers[while_sweep_tangent_p] = _st_batch
