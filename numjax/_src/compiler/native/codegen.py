"""C for a plan's steps: value storage (St, Env), the sequencing of steps, copies, views,
dot_general (the runtime's GEMM, or loops), dynamic_update_slice and one-window scatters.
Fused kernels are kernels.py; loops and conds are loops.py.
"""
from __future__ import annotations

import math

import numpy as np

from numjax._src.core import DropVar, Literal, Var
from numjax._src.compiler.native import codegen_ops as ops
from numjax._src.compiler.native import fusion as fu


class St:
  """Where a value lives in emitted code: `ptr` (a C pointer expression to contiguous or
  strided elements) or `local` (a rank-0 C variable of the storage type)."""
  __slots__ = ("kind", "expr", "dtype", "shape", "strides")

  def __init__(self, kind, expr, dtype, shape, strides=None):
    self.kind, self.expr = kind, expr
    self.dtype, self.shape = np.dtype(dtype), tuple(shape)
    self.strides = tuple(strides) if strides is not None else fu.contiguous_strides(shape)

  def __repr__(self):
    return f"St({self.kind}, {self.expr}, {self.dtype}, {self.shape}, {self.strides})"


class Module:
  """One translation unit being assembled."""

  def __init__(self, tc):
    self.tc = tc
    self.funcs: list[str] = []
    self.n = 0
    self.support: dict = {}

  def fresh(self, prefix):
    self.n += 1
    return f"{prefix}{self.n}"


class Code:
  """Lines of C with indentation."""

  def __init__(self, indent=1):
    self.lines: list[str] = []
    self.ind = indent

  def __call__(self, line):
    self.lines.append("  " * self.ind + line)

  def open(self, line):
    self(line + " {" if line else "{")
    self.ind += 1

  def close(self, tail=""):
    self.ind -= 1
    self("}" + tail)

  def extend(self, other):
    self.lines.extend(other.lines)

  def text(self):
    return "\n".join(self.lines)


def _lit_of(v):
  val = v.val
  if hasattr(val, "_value"):
    val = val._value
  return np.asarray(val)


# ---------------------------------------------------------------------------------------
# Steps of a plan

class Env:
  """Storage of the values of one plan during emission. `slot(v)` is called for values
  the enclosing context holds (function parameters, loop buffers) that are not yet bound."""

  def __init__(self, plan, bind=None, root_const=None):
    self.plan = plan
    self.st: dict = {}
    self.bind = bind
    self.root_const = root_const   # (var, value) -> St: a constant held by the driver

  def resolve(self, v):
    while type(v) is Var and v in self.plan.aliases:
      v = self.plan.aliases[v]
    return v

  def storage(self, v) -> St:
    v = self.resolve(v)
    st = self.st.get(v)
    if st is not None:
      return st
    view = self.plan.views.get(v)
    if view is not None:
      base = self.storage(view.base)
      off = [str(view.offset)] if view.offset else []
      for stride, iv, hi in view.dyn:
        ix = self.scalar(iv)
        off.append(f"(int64_t)({ix} < 0 ? 0 : ({ix} > {hi} ? {hi} : {ix})) * {stride}")
      ptr = f"(&{base.expr})" if base.kind == "local" else base.expr
      expr = f"({ptr} + {' + '.join(off)})" if off else ptr
      return St("ptr", expr, v.aval.dtype, view.shape, view.strides)
    if self.bind is not None:
      st = self.bind(v)
      if st is not None:
        self.st[v] = st
        return st
    raise KeyError(f"no storage for {v}")

  def scalar(self, v) -> str:
    """C expression (compute type) of a rank-0 value."""
    v = self.resolve(v)
    if type(v) is Literal:
      return ops.literal(_lit_of(v), v.aval.dtype)
    if v in self.plan.splats:
      return ops.literal(_lit_of(self.plan.splats[v]), v.aval.dtype)
    st = self.storage(v)
    if st.kind == "local":
      return ops.load(st.dtype, st.expr)
    return ops.load(st.dtype, f"({st.expr})[0]")

  def out_storage(self, v) -> St:
    return self.st[self.resolve(v)]


def emit_plan(mod: Module, plan, env: Env, code: Code, alloc):
  """Emit every step of `plan` into `code`. alloc(var) -> St for values the steps produce
  (skipped for values already bound in env, e.g. a loop body's output buffers)."""
  for step in plan.steps:
    emit_step(mod, plan, step, env, code, alloc)


def emit_step(mod: Module, plan, step, env: Env, code: Code, alloc):
  if isinstance(step, fu.Kernel):
    for v in step.outputs:
      if v not in env.st:
        env.st[v] = alloc(v)
    from numjax._src.compiler.native.kernels import KernelGen
    KernelGen(mod, plan, step, env).emit(code)
  elif isinstance(step, (fu.Dot, fu.Dus)):
    ov = step.eqn.outvars[0]
    if ov not in env.st:
      env.st[ov] = alloc(ov)
    (emit_dot if isinstance(step, fu.Dot) else emit_dus)(code, step.eqn, env)
  elif isinstance(step, (fu.Loop, fu.Cond)):
    for ov in step.eqn.outvars:
      if type(ov) is not DropVar and ov not in env.st:
        env.st[ov] = alloc(ov)
    from numjax._src.compiler.native import loops
    loops.emit_control(mod, code, step, env)
  elif getattr(step, "indexing", False):    # gather, scatters, cumulatives: indexing.py
    ov = step.eqn.outvars[0]
    if ov not in env.st:
      env.st[ov] = alloc(ov)
    from numjax._src.compiler.native import indexing
    indexing.emit(mod, plan, step, env, code)
  else:
    raise fu.Unsupported(f"{step!r} in native code")


def _nest(code: Code, shape, prefix):
  for d, n in enumerate(shape):
    code.open(f"for (int64_t {prefix}{d} = 0; {prefix}{d} < {n}; {prefix}{d}++)")


def _unnest(code: Code, shape):
  for _ in shape:
    code.close()


def _off(prefix, strides):
  terms = [f"{prefix}{d} * {s}" for d, s in enumerate(strides) if s]
  return " + ".join(terms) if terms else "0"


def emit_copy(code: Code, env: Env, src, dst: St):
  """dst <- value src (any value: literal, splat, view, buffer, local)."""
  src = env.resolve(src)
  shape = dst.shape
  code.open("")
  if type(src) is Literal or src in env.plan.splats:
    val = env.scalar(src)
  else:
    s = env.storage(src)
    if s.kind == "local":
      val = s.expr if np.dtype(s.dtype) == dst.dtype else None
      val = ops.load(s.dtype, s.expr)
    else:
      val = None
  if dst.kind == "local":
    if val is None:
      val = ops.load(s.dtype, f"({s.expr})[0]")
    code(f"{dst.expr} = {ops.store(dst.dtype, val)};")
    code.close()
    return
  if val is not None:
    n = math.prod(shape)
    code(f"for (int64_t z = 0; z < {n}; z++) ({dst.expr})[z] = {ops.store(dst.dtype, val)};")
    code.close()
    return
  if s.strides == fu.contiguous_strides(shape) and s.dtype == dst.dtype:
    code(f"memcpy({dst.expr}, {s.expr}, {math.prod(shape) * dst.dtype.itemsize});")
    code.close()
    return
  _nest(code, shape, "zc")
  code(f"({dst.expr})[{_off('zc', dst.strides)}] = ({s.expr})[{_off('zc', s.strides)}];")
  _unnest(code, shape)
  code.close()


def _collapse(dims, shape, strides):
  """(size, stride) of dims flattened into one strided dim, or None."""
  ds = [d for d in dims if shape[d] != 1]
  size = math.prod(shape[d] for d in dims)
  if not ds:
    return size, 0
  for a, b in zip(ds, ds[1:]):
    if strides[a] != strides[b] * shape[b]:
      return None
  return size, strides[ds[-1]]


def gemm_dims(eqn, xstrides, ystrides):
  """(M, N, K, sam, sak, sbk, sbn) when dot_general is a (batched) float32/float64 GEMM
  over these operand strides, else None."""
  x, y = eqn.invars
  ov = eqn.outvars[0]
  dt = np.dtype(ov.aval.dtype)
  if dt not in (np.dtype(np.float32), np.dtype(np.float64)) or x.aval.dtype != dt or \
      y.aval.dtype != dt:
    return None
  (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
  xs, ys = x.aval.shape, y.aval.shape
  lf = [d for d in range(len(xs)) if d not in lc and d not in lb]
  rf = [d for d in range(len(ys)) if d not in rc and d not in rb]
  m = _collapse(lf, xs, xstrides)
  k1 = _collapse(list(lc), xs, xstrides)
  k2 = _collapse(list(rc), ys, ystrides)
  n = _collapse(rf, ys, ystrides)
  if None in (m, k1, k2, n):
    return None
  return m[0], n[0], k1[0], m[1], k1[1], k2[1], n[1]


def emit_dot(code: Code, eqn, env: Env):
  """dot_general: the runtime's GEMM (float32/float64), else loops."""
  x, y = eqn.invars
  ov = eqn.outvars[0]
  (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
  xs, ys = x.aval.shape, y.aval.shape
  odt = ov.aval.dtype
  sx, sy, so = env.storage(x), env.storage(y), env.out_storage(ov)
  g = gemm_dims(eqn, sx.strides, sy.strides) if sx.kind == "ptr" and sy.kind == "ptr" else None
  if g is not None and so.kind == "ptr" and so.strides == fu.contiguous_strides(so.shape):
    M, N, K, sam, sak, sbk, sbn = g
    suf = "f32" if np.dtype(odt) == np.float32 else "f64"
    code.open("")
    for i, (a, b) in enumerate(zip(lb, rb)):
      code.open(f"for (int64_t g{i} = 0; g{i} < {xs[a]}; g{i}++)")
    xo = " + ".join(f"g{i} * {sx.strides[a]}" for i, a in enumerate(lb)) or "0"
    yo = " + ".join(f"g{i} * {sy.strides[b]}" for i, b in enumerate(rb)) or "0"
    oo = " + ".join(f"g{i} * {so.strides[i]}" for i in range(len(lb))) or "0"
    code(f"nj_gemm_{suf}({M}, {N}, {K}, {sx.expr} + {xo}, {sam}, {sak}, {sy.expr} + {yo}, "
         f"{sbk}, {sbn}, {so.expr} + {oo}, {N});")
    for _ in lb:
      code.close()
    code.close()
    return
  if ops.kind(odt) in "hb":
    raise fu.Unsupported("dot to float16/bool in native code")
  t = ops.comp(odt)
  lf = [d for d in range(len(xs)) if d not in lc and d not in lb]
  rf = [d for d in range(len(ys)) if d not in rc and d not in rb]
  ostr = so.strides
  nb, nlf = len(lb), len(lf)
  code.open("")
  n_out = math.prod(ov.aval.shape)
  code(f"for (int64_t z = 0; z < {n_out}; z++) ({so.expr})[z] = 0;")

  def xv(e):
    return ops.convert(ops.load(sx.dtype, e), sx.dtype, odt)

  def yv(e):
    return ops.convert(ops.load(sy.dtype, e), sy.dtype, odt)
  loops_ = []   # (var, size, x stride, y stride, out stride)
  for i, (a, b) in enumerate(zip(lb, rb)):
    loops_.append((f"db{i}", xs[a], sx.strides[a], sy.strides[b], ostr[i]))
  for i, a in enumerate(lf):
    loops_.append((f"dl{i}", xs[a], sx.strides[a], 0, ostr[nb + i]))
  for i, (a, b) in enumerate(zip(lc, rc)):
    loops_.append((f"dk{i}", xs[a], sx.strides[a], sy.strides[b], 0))
  inner = []
  for i, b in enumerate(rf):
    inner.append((f"dr{i}", ys[b], 0, sy.strides[b], ostr[nb + nlf + i]))
  for var, n, _, _, _ in loops_:
    code.open(f"for (int64_t {var} = 0; {var} < {n}; {var}++)")
  xo = " + ".join(f"{v} * {s}" for v, _, s, _, _ in loops_ if s) or "0"
  code(f"{t} xa = {xv(f'({sx.expr})[{xo}]')};")
  for var, n, _, _, _ in inner:
    code.open(f"for (int64_t {var} = 0; {var} < {n}; {var}++)")
  allv = loops_ + inner
  yo = " + ".join(f"{v} * {s}" for v, _, _, s, _ in allv if s) or "0"
  oo = " + ".join(f"{v} * {s}" for v, _, _, _, s in allv if s) or "0"
  code(f"({so.expr})[{oo}] += xa * {yv(f'({sy.expr})[{yo}]')};")
  for _ in allv:
    code.close()
  code.close()


def emit_scatter(code: Code, eqn, env: Env):
  """One window of a scatter: out = operand; out[start + w] (op)= updates[w]."""
  x, ind, upd = eqn.invars
  ov = eqn.outvars[0]
  so = env.out_storage(ov)
  emit_copy(code, env, x, so)
  dn = eqn.params["dimension_numbers"]
  clip = "CLIP" in str(eqn.params.get("mode"))
  comb = ops.SCATTER_COMBINE[eqn.primitive.name]
  xs = x.aval.shape
  win_dims = [d for d in range(len(xs)) if d not in dn.inserted_window_dims]
  window = [1] * len(xs)
  for i, d in enumerate(win_dims):
    window[d] = upd.aval.shape[i]
  si = env.storage(ind) if type(env.resolve(ind)) is Var and \
      env.resolve(ind) not in env.plan.splats else None
  code.open("")
  code("int ok = 1;")
  for d in range(len(xs)):
    hi = xs[d] - window[d]
    if d in dn.scatter_dims_to_operand_dims:
      k = list(dn.scatter_dims_to_operand_dims).index(d)
      if si is None:
        ix = env.scalar(ind) if not ind.aval.shape else \
            ops.literal(np.asarray(_lit_of(env.plan.splats.get(env.resolve(ind), ind)))
                        .reshape(-1)[0], ind.aval.dtype)
      else:
        ix = ops.load(si.dtype, si.expr if si.kind == "local" else
                      f"({si.expr})[{k * (si.strides[0] if si.strides else 0)}]")
      code(f"int64_t ds{d} = (int64_t)({ix});")
      if clip:
        code(f"ds{d} = ds{d} < 0 ? 0 : (ds{d} > {hi} ? {hi} : ds{d});")
      else:
        code(f"if (ds{d} < 0 || ds{d} > {hi}) ok = 0;")
    else:
      code(f"int64_t ds{d} = 0;")
  code.open("if (ok)")
  ushape = upd.aval.shape
  r = env.resolve(upd)
  if type(r) is Literal or r in env.plan.splats:
    uval = lambda: env.scalar(r)
  else:
    su = env.storage(upd)
    uval = (lambda: ops.load(su.dtype, su.expr)) if su.kind == "local" else \
        (lambda: ops.load(su.dtype, f"({su.expr})[{_off('zc', su.strides)}]"))
  _nest(code, ushape, "zc")
  pos = []
  j = 0
  for d in range(len(xs)):
    if d in dn.inserted_window_dims:
      pos.append(f"ds{d} * {so.strides[d]}")
    else:
      pos.append(f"(ds{d} + zc{j}) * {so.strides[d]}")
      j += 1
  oo = " + ".join(pos) or "0"
  tgt = f"({so.expr})[{oo}]"
  new = uval()
  if comb is not None:
    k = ops.kind(so.dtype)
    old = ops.load(so.dtype, tgt)
    if comb in ("min", "max"):
      new = (ops._mine if comb == "min" else ops._maxe)(f"(({ops.comp(so.dtype)}){old})",
                                                      f"(({ops.comp(so.dtype)}){new})", k)
    else:
      new = ops.rnd(so.dtype, f"(({ops.comp(so.dtype)})({old} {comb} {new}))")
  code(f"{tgt} = {ops.store(so.dtype, new)};")
  _unnest(code, ushape)
  code.close()
  code.close()


def emit_dus(code: Code, eqn, env: Env):
  """dynamic_update_slice: copy the operand, then write the window (start clamped)."""
  if eqn.primitive.name != "dynamic_update_slice":
    return emit_scatter(code, eqn, env)
  x, upd, *idx = eqn.invars
  ov = eqn.outvars[0]
  so = env.out_storage(ov)
  emit_copy(code, env, x, so)
  if type(env.resolve(upd)) is Literal or env.resolve(upd) in env.plan.splats:
    val = env.scalar(upd)
    su = None
  else:
    su = env.storage(upd)
  ushape = upd.aval.shape
  code.open("")
  for d, i in enumerate(idx):
    hi = x.aval.shape[d] - ushape[d]
    ix = env.scalar(i)
    code(f"int64_t ds{d} = (int64_t)({ix}); ds{d} = ds{d} < 0 ? 0 : (ds{d} > {hi} ? {hi} : ds{d});")
  _nest(code, ushape, "zc")
  oo = " + ".join(f"(ds{d} + zc{d}) * {st}" for d, st in enumerate(so.strides)) or "0"
  if su is None:
    code(f"({so.expr})[{oo}] = {ops.store(so.dtype, val)};")
  elif su.kind == "local":
    code(f"({so.expr})[{oo}] = {su.expr};")
  else:
    code(f"({so.expr})[{oo}] = ({su.expr})[{_off('zc', su.strides)}];")
  _unnest(code, ushape)
  code.close()
