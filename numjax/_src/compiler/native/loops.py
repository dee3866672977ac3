"""Native control flow: while_loop / fori_loop / scan / cond whose bodies plan fully
native (fusion.Loop / fusion.Cond steps) become C loops and switches.

    for (int64_t it = 0; it < length; it++) {       // scan (fori_loop with static bounds)
      int64_t i = reverse ? length - 1 - it : it;
      <body: its kernels / dots / nested loops, reading carries c_j and xs + i * slice,
             writing new carries n_j and ys + i * slice>
      <carries: rank-0 ones are C locals (c_j = n_j); arrays swap their two buffers>
    }

The body is the same code a top-level program would get (kernels, dots as loops, views,
dynamic slices with runtime offsets), emitted inline, so a scalar fori_loop is a tight C
loop over locals and a scan's matrix-vector body has no call overhead per iteration. The
body's temporaries are allocated once, before the loop.
"""
from __future__ import annotations

import math

import numpy as np

from numjax._src.core import DropVar, Literal, Var
from numjax._src.compiler.native import codegen as cg
from numjax._src.compiler.native import codegen_ops as ops
from numjax._src.compiler.native import fusion as fu


def _alloc_in(mod, pre: cg.Code, post: cg.Code):
  def alloc(v):
    ct = ops.ctype(v.aval.dtype)
    if v.aval.shape == ():
      nm = mod.fresh("s")
      pre(f"{ct} {nm};")
      return cg.St("local", nm, v.aval.dtype, ())
    nm = mod.fresh("t")
    n = max(1, math.prod(v.aval.shape)) * v.aval.dtype.itemsize
    pre(f"{ct} *restrict {nm} = ({ct} *)nj_alloc({n});")
    post(f"free({nm});")
    return cg.St("ptr", nm, v.aval.dtype, v.aval.shape)
  return alloc


def _sub_env(parent: cg.Env, plan, closed):
  env = cg.Env(plan, bind=None)
  env.root_const = parent.root_const
  for cv, c in zip(plan.jaxpr.constvars, plan.consts):
    env.st[cv] = parent.root_const(cv, c)
  return env


def _carry_buffers(mod, pre: cg.Code, post: cg.Code, avals, prefix):
  """Two storages per carry: current and next."""
  cur, nxt = [], []
  for a in avals:
    ct = ops.ctype(a.dtype)
    if a.shape == ():
      c, n = mod.fresh(prefix), mod.fresh(prefix)
      pre(f"{ct} {c}, {n};")
      cur.append(cg.St("local", c, a.dtype, ()))
      nxt.append(cg.St("local", n, a.dtype, ()))
    else:
      nbytes = max(1, math.prod(a.shape)) * np.dtype(a.dtype).itemsize
      c, n = mod.fresh(prefix), mod.fresh(prefix)
      pre(f"{ct} *{c} = ({ct} *)nj_alloc({nbytes}), *{n} = ({ct} *)nj_alloc({nbytes});")
      post(f"free({c}); free({n});")
      cur.append(cg.St("ptr", c, a.dtype, a.shape))
      nxt.append(cg.St("ptr", n, a.dtype, a.shape))
  return cur, nxt


def _init_from(code, env: cg.Env, src, dst: cg.St):
  cg.emit_copy(code, env, src, dst)


def _bind_outputs(plan, env: cg.Env, outs, targets):
  """Pre-bind the body's results to their target storages where a step computes them;
  returns the (value, target) pairs that need a copy after the body."""
  copies = []
  for v, t in zip(outs, targets):
    if t is None:
      continue
    r = env.resolve(v)
    if type(r) is Var and r not in env.st and plan.made_at.get(r, -1) >= 0 and \
        r not in plan.views and r not in plan.splats:
      env.st[r] = t
    else:
      copies.append((v, t))
  return copies


def _body(mod, code: cg.Code, plan, env: cg.Env, outs, targets):
  """Emit a body plan whose results go to `targets` (St or None per output)."""
  pre, body, post = cg.Code(code.ind), cg.Code(code.ind + 1), cg.Code(code.ind)
  copies = _bind_outputs(plan, env, outs, targets)
  alloc = _alloc_in(mod, pre, post)
  body.ind = code.ind
  cg.emit_plan(mod, plan, env, body, alloc)
  for v, t in copies:
    cg.emit_copy(body, env, v, t)
  return pre, body, post


def _update(code: cg.Code, cur, nxt):
  for c, n in zip(cur, nxt):
    if c.kind == "local":
      code(f"{c.expr} = {n.expr};")
    else:
      ct = ops.ctype(c.dtype)
      code(f"{{ {ct} *sw = {c.expr}; {c.expr} = {n.expr}; {n.expr} = sw; }}")


def emit_control(mod, code: cg.Code, step, env: cg.Env):
  if isinstance(step, fu.Loop) and step.kind == "scan":
    _scan(mod, code, step, env)
  elif isinstance(step, fu.Loop):
    _while(mod, code, step, env)
  else:
    _cond(mod, code, step, env)


def _outs_storage(env, eqn):
  return [None if type(v) is DropVar else env.out_storage(v) for v in eqn.outvars]


def _scan(mod, code, step, env):
  eqn = step.eqn
  p = eqn.params
  closed = p["jaxpr"]
  (plan,) = step.plans
  nc, nk = p["num_consts"], p["num_carry"]
  length, reverse = p["length"], p["reverse"]
  consts = eqn.invars[:nc]
  init = eqn.invars[nc:nc + nk]
  xs = eqn.invars[nc + nk:]
  outs = _outs_storage(env, eqn)
  carry_out, ys_out = outs[:nk], outs[nk:]
  code.open("")
  pre, post = cg.Code(code.ind), cg.Code(code.ind)
  cur, nxt = _carry_buffers(mod, pre, post, [v.aval for v in init], "cr")
  code.extend(pre)
  for v, c in zip(init, cur):
    _init_from(code, env, v, c)
  benv = _sub_env(env, plan, closed)
  bj = plan.jaxpr
  for bv, v in zip(bj.invars[:nc], consts):
    benv.st[bv] = _as_storage(env, v, code, mod)
  for bv, c in zip(bj.invars[nc:nc + nk], cur):
    benv.st[bv] = c
  xs_st = [_as_storage(env, v, code, mod) for v in xs]
  for bv, s in zip(bj.invars[nc + nk:], xs_st):
    benv.st[bv] = cg.St("ptr", f"({s.expr} + i * {s.strides[0]})", s.dtype, s.shape[1:],
                        s.strides[1:])
  targets = list(nxt)
  for yo in ys_out:
    if yo is None:
      targets.append(None)
    else:
      targets.append(cg.St("ptr", f"({yo.expr} + i * {yo.strides[0]})", yo.dtype,
                           yo.shape[1:], yo.strides[1:]))
  bpre, body, bpost = _body(mod, code, plan, benv, bj.outvars, targets)
  code.extend(bpre)
  code.open(f"for (int64_t it = 0; it < {length}; it++)")
  code(f"int64_t i = {f'{length - 1} - it' if reverse else 'it'};")
  _reindent(body, 1)
  code.extend(body)
  _update(code, cur, nxt)
  code.close()
  code.extend(bpost)
  for c, o in zip(cur, carry_out):
    if o is not None:
      _copy_st(code, c, o)
  code.extend(post)
  code.close()


def _while(mod, code, step, env):
  eqn = step.eqn
  p = eqn.params
  cplan, bplan = step.plans
  ncc, nbc = p["cond_nconsts"], p["body_nconsts"]
  cconsts = eqn.invars[:ncc]
  bconsts = eqn.invars[ncc:ncc + nbc]
  init = eqn.invars[ncc + nbc:]
  outs = _outs_storage(env, eqn)
  code.open("")
  pre, post = cg.Code(code.ind), cg.Code(code.ind)
  cur, nxt = _carry_buffers(mod, pre, post, [v.aval for v in init], "cr")
  code.extend(pre)
  for v, c in zip(init, cur):
    _init_from(code, env, v, c)
  # predicate
  cenv = _sub_env(env, cplan, p["cond_jaxpr"])
  cj = cplan.jaxpr
  for bv, v in zip(cj.invars[:ncc], cconsts):
    cenv.st[bv] = _as_storage(env, v, code, mod)
  for bv, c in zip(cj.invars[ncc:], cur):
    cenv.st[bv] = c
  pred = mod.fresh("pr")
  code(f"_Bool {pred} = 0;")
  cpre, cbody, cpost = _body(mod, code, cplan, cenv, cj.outvars,
                             [cg.St("local", pred, np.dtype(bool), ())])
  # body
  benv = _sub_env(env, bplan, p["body_jaxpr"])
  bj = bplan.jaxpr
  for bv, v in zip(bj.invars[:nbc], bconsts):
    benv.st[bv] = _as_storage(env, v, code, mod)
  for bv, c in zip(bj.invars[nbc:], cur):
    benv.st[bv] = c
  bpre, body, bpost = _body(mod, code, bplan, benv, bj.outvars, list(nxt))
  code.extend(cpre)
  code.extend(bpre)
  code.open("for (;;)")
  _reindent(cbody, 1)
  code.extend(cbody)
  code(f"if (!{pred}) break;")
  _reindent(body, 1)
  code.extend(body)
  _update(code, cur, nxt)
  code.close()
  code.extend(bpost)
  code.extend(cpost)
  for c, o in zip(cur, outs):
    if o is not None:
      _copy_st(code, c, o)
  code.extend(post)
  code.close()


def _cond(mod, code, step, env):
  eqn = step.eqn
  branches = eqn.params["branches"]
  index, *operands = eqn.invars
  outs = _outs_storage(env, eqn)
  code.open("")
  ix = env.scalar(index)
  n = len(branches)
  code(f"int64_t br = (int64_t)({ix}); br = br < 0 ? 0 : (br > {n - 1} ? {n - 1} : br);")
  op_st = [_as_storage(env, v, code, mod) if type(env.resolve(v)) is Var and
           env.resolve(v) not in env.plan.splats else v for v in operands]
  code.open("switch (br)")
  for b, (closed, plan) in enumerate(zip(branches, step.plans)):
    code.open(f"case {b}:")
    benv = _sub_env(env, plan, closed)
    bj = plan.jaxpr
    for bv, s, v in zip(bj.invars, op_st, operands):
      if isinstance(s, cg.St):
        benv.st[bv] = s
      else:
        benv.plan.splats[bv] = s if type(s) is Literal else env.plan.splats[env.resolve(s)]
    bpre, body, bpost = _body(mod, code, plan, benv, bj.outvars, outs)
    code.extend(bpre)
    code.extend(body)
    code.extend(bpost)
    code("break;")
    code.close()
  code.close()
  code.close()


def _as_storage(env: cg.Env, v, code, mod):
  """Storage for an operand of a loop (literals and splats get a local/buffer)."""
  r = env.resolve(v)
  if type(r) is Literal or r in env.plan.splats:
    dt = v.aval.dtype
    ct = ops.ctype(dt)
    if v.aval.shape == ():
      nm = mod.fresh("s")
      code(f"{ct} {nm} = {ops.store(dt, env.scalar(r))};")
      return cg.St("local", nm, dt, ())
    nm = mod.fresh("t")
    code(f"{ct} {nm}[1] = {{ {ops.store(dt, env.scalar(r))} }};")
    return cg.St("ptr", nm, dt, v.aval.shape, (0,) * len(v.aval.shape))
  return env.storage(r)


def _copy_st(code, src: cg.St, dst: cg.St):
  if dst.kind == "local":
    val = src.expr if src.kind == "local" else f"({src.expr})[0]"
    code(f"{dst.expr} = {val};")
    return
  if src.kind == "local":
    code(f"({dst.expr})[0] = {src.expr};")
    return
  n = max(1, math.prod(dst.shape)) * dst.dtype.itemsize
  if dst.strides == fu.contiguous_strides(dst.shape):
    code(f"memcpy({dst.expr}, {src.expr}, {n});")
  else:
    raise fu.Unsupported("strided loop result")


def _reindent(c: cg.Code, by):
  """A body generated outside its loop moves `by` levels in (as_text readability)."""
  c.lines = ["  " * by + line for line in c.lines]
