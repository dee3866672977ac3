"""Native gather, scatter and cumulative reductions (steps `Gather`, `Scatter`, `Cumulative`).

Each step is one generated C function `f(ctx, lo, hi)` (ctx: an array of the pointers it
reads and writes) called directly or over the runtime's thread pool (`nj_parallel`), so
these primitives no longer cut native segments, and loop bodies holding them compile to C
loops. The semantics follow the NumPy implementations in numjax/_src/lax exactly:

  gather      per batch position (indices without their last, index-vector, dim): window
              starts from the index vector (`start_index_map`; batching dims take the batch
              position); CLIP / PROMISE_IN_BOUNDS clamp starts into [0, dim - size], other
              modes fill windows not fully in bounds with `fill_value` (default: NaN,
              INT_MIN, UINT_MAX, True). Window dims not collapsed/batching land on
              `offset_dims` of the output, in order.
  scatter*    out = operand; then, in index order, window elements combine into out (set:
              the last write wins; add/sub/mul/min/max as the ufuncs). CLIP clamps starts,
              every other mode drops windows not fully in bounds. Large scatters run in
              parallel by *ownership*: each thread scans every index but applies only the
              windows whose row (along one operand dim the windows do not span) it owns, so
              each element still sees its updates in index order (bitwise equal results).
  cum*        sequential along the axis (first output = first input), forward or reverse;
              float16/bfloat16 accumulate in float32 and round each output once (as the
              NumPy impl's np.cumsum(dtype=float32)); cumlogsumexp uses NumPy's logaddexp.
              Independent rows (or blocks of columns, when the axis is not innermost) run in
              parallel.
"""
from __future__ import annotations

import math

import numpy as np

from numjax._src.core import Literal
from numjax._src.compiler.native import codegen as cg
from numjax._src.compiler.native import codegen_ops as ops
from numjax._src.compiler.native import fusion as fu

CUMULATIVE = ("cumsum", "cumprod", "cummax", "cummin", "cumlogsumexp")
PAR_MIN_WORK = 1 << 16       # elements moved below which a step runs on one thread
SCATTER_PAR_WINDOW = 8       # ownership-parallel scatters need windows at least this big
LANE_BLOCK = 256             # columns per unit of a cumulative along a non-inner axis


class _Step:
  indexing = True            # codegen.emit_step dispatches on this

  def __init__(self, idx, eqn):
    self.idx, self.eqn = idx, eqn

  def __repr__(self):
    return f"{type(self).__name__}#{self.idx}({self.eqn.primitive.name})"


class Gather(_Step):
  pass


class Scatter(_Step):
  pass


class Cumulative(_Step):
  pass


def handles(name) -> bool:
  return name == "gather" or name in ops.SCATTER_COMBINE or name in CUMULATIVE


# ---------------------------------------------------------------------------------------
# Which equations run natively

def _mode(m) -> str:
  return str(getattr(m, "name", m)).upper()


def _int_dtype(dt) -> bool:
  return np.dtype(dt).kind in "iu" and ops.known(dt)


def default_fill(dtype):
  """The gather fill of out-of-bounds windows when fill_value is None (as lax)."""
  dt = np.dtype(dtype)
  if dt.kind in "fc" or ops.kind(dt) == "h":
    return np.nan
  if dt.kind == "i":
    return np.iinfo(dt).min
  if dt.kind == "u":
    return np.iinfo(dt).max
  return True


def supported(eqn) -> bool:
  name = eqn.primitive.name
  try:
    if not all(ops.known(v.aval.dtype) for v in list(eqn.invars) + list(eqn.outvars)):
      return False
    if name == "gather":
      x, ind = eqn.invars
      dn = eqn.params["dimension_numbers"]
      ss = eqn.params["slice_sizes"]
      if not _int_dtype(ind.aval.dtype) or ind.aval.ndim < 1:
        return False
      if any(ss[d] != 1 for d in dn.operand_batching_dims):
        return False
      _fill_literal(eqn)
      return True
    if name in ops.SCATTER_COMBINE:
      p = eqn.params
      if p.get("update_jaxpr") is not None and name == "scatter":
        return False     # scatter_apply: an arbitrary combiner
      x, ind, upd = eqn.invars
      if not _int_dtype(ind.aval.dtype) or ind.aval.ndim < 1:
        return False
      if x.aval.dtype != upd.aval.dtype or eqn.outvars[0].aval.dtype != x.aval.dtype:
        return False
      k = ops.kind(x.aval.dtype)
      if k == "c" and name in ("scatter-min", "scatter-max"):
        return False
      if k == "b" and name == "scatter-sub":
        return False
      return True
    if name in CUMULATIVE:
      (x,) = eqn.invars
      if eqn.outvars[0].aval.dtype != x.aval.dtype:
        return False
      k = ops.kind(x.aval.dtype)
      if name == "cumlogsumexp":
        return k in "hf"
      if name in ("cummax", "cummin"):
        return k in "hfiuc"
      return k in "hfiuc"
  except (ops.Unsupported, fu.Unsupported, TypeError, ValueError, KeyError):
    return False
  return False


def place(part, eqn) -> bool:
  """Partitioner hook: make `eqn` a native step (its operands materialised), or False."""
  if not supported(eqn):
    return False
  part.host_operands(eqn)
  name = eqn.primitive.name
  cls = Gather if name == "gather" else (Cumulative if name in CUMULATIVE else Scatter)
  st = part.add_step(cls(len(part.plan.steps), eqn))
  part.mark_made(eqn, st)
  return True


# ---------------------------------------------------------------------------------------
# Emission helpers

class _Acc:
  """How a generated function reaches one value: a compile-time constant (literal or
  splat), or `f<i>`, a pointer passed in the context array (rank-0 locals by address)."""

  def __init__(self, env, v, ctx, out=False):
    r = env.resolve(v)
    self.dtype = np.dtype(v.aval.dtype)
    shape = tuple(v.aval.shape)
    self.const = None
    self.decl = None
    if not out and (type(r) is Literal or r in env.plan.splats):
      self.const = env.scalar(r)
      self.strides = (0,) * len(shape)
      return
    st = env.out_storage(v) if out else env.storage(v)
    ptr = f"(&{st.expr})" if st.kind == "local" else st.expr
    if st.kind == "local" or math.prod(shape) <= 1:
      strides = (0,) * len(shape)
    elif len(st.strides) == len(shape) and tuple(st.shape) == shape:
      strides = tuple(st.strides)
    elif st.strides == fu.contiguous_strides(st.shape) and math.prod(st.shape) == \
        math.prod(shape):
      strides = fu.contiguous_strides(shape)
    else:
      raise fu.Unsupported(f"storage {st} for a value of shape {shape}")
    self.strides = strides
    i = len(ctx)
    ctx.append(ptr)
    self.name = f"f{i}"
    ct = ops.ctype(self.dtype)
    self.decl = f"{'' if out else 'const '}{ct} *restrict f{i} = ({ct} *)c[{i}];"

  def load(self, off) -> str:
    if self.const is not None:
      return self.const
    return ops.load(self.dtype, f"{self.name}[{off}]")

  def ref(self, off) -> str:
    return f"{self.name}[{off}]"


def _sum(terms) -> str:
  terms = [t for t in terms if t and t != "0"]
  return " + ".join(terms) if terms else "0"


def _decompose(b: cg.Code, var, sizes, prefix):
  """Row-major coordinates `prefix<i>` of the flat index `var` over `sizes`."""
  if not sizes:
    return
  b(f"int64_t {prefix}r = {var};")
  for i in range(len(sizes) - 1, 0, -1):
    b(f"int64_t {prefix}{i} = {prefix}r % {sizes[i]}; {prefix}r /= {sizes[i]};")
  b(f"int64_t {prefix}0 = {prefix}r;")


def _function(mod, code: cg.Code, accs, ctx, body: cg.Code, n, parallel, chunks=None):
  """Emit `static void NAME(void *cv, int64_t lo, int64_t hi)` running `body` (which reads
  its range from lo/hi) and its call over [0, n) (on the pool when `parallel`)."""
  name = mod.fresh("NJP_ix")
  lines = [f"static void {name}(void *cv, int64_t lo, int64_t hi) {{",
           "  void **c = (void **)cv; (void)c;"]
  lines += ["  " + a.decl for a in accs if a.decl is not None]
  lines += body.lines
  lines.append("}")
  mod.funcs.append("\n".join(lines))
  code.open("")
  items = ", ".join(f"(void *)({p})" for p in ctx) if ctx else "0"
  code(f"void *{name}_c[{max(1, len(ctx))}] = {{ {items} }};")
  if parallel and n > 1:
    code(f"nj_parallel({name}, {name}_c, {n}, {n if chunks is None else chunks});")
  else:
    code(f"{name}({name}_c, 0, {n});")
  code.close()


def emit(mod, plan, step, env: cg.Env, code: cg.Code):
  """Emit one indexing step (its outputs are already bound in env)."""
  eqn = step.eqn
  if math.prod(eqn.outvars[0].aval.shape) == 0:
    return
  if isinstance(step, Gather):
    emit_gather(mod, code, eqn, env)
  elif isinstance(step, Scatter):
    emit_scatter(mod, code, eqn, env)
  else:
    emit_cumulative(mod, code, eqn, env)


# ---------------------------------------------------------------------------------------
# gather

def _fill_literal(eqn) -> str:
  dt = np.dtype(eqn.invars[0].aval.dtype)
  fv = eqn.params.get("fill_value")
  fill = default_fill(dt) if fv is None else fv
  with np.errstate(all="ignore"):
    val = np.asarray(fill).astype(dt)
  return ops.store(dt, ops.literal(val, dt))


def emit_gather(mod, code, eqn, env):
  x, ind = eqn.invars
  ov = eqn.outvars[0]
  p = eqn.params
  dn, ss = p["dimension_numbers"], tuple(p["slice_sizes"])
  xs, ish, osh = x.aval.shape, ind.aval.shape, ov.aval.shape
  ctx = []
  X, I, O = _Acc(env, x, ctx), _Acc(env, ind, ctx), _Acc(env, ov, ctx, out=True)
  bshape = ish[:-1]
  nb = len(bshape)
  clamp = _mode(p["mode"]) in ("CLIP", "PROMISE_IN_BOUNDS")
  keep = [d for d in range(len(xs))
          if d not in dn.collapsed_slice_dims and d not in dn.operand_batching_dims]
  batch_pos = [i for i in range(len(osh)) if i not in dn.offset_dims]
  units = math.prod(bshape)
  b = cg.Code(1)
  b.open("for (int64_t u = lo; u < hi; u++)")
  _decompose(b, "u", bshape, "q")
  ioff = _sum(f"q{i} * {I.strides[i]}" for i in range(nb) if I.strides[i])
  ooff = _sum(f"q{i} * {O.strides[batch_pos[i]]}" for i in range(nb) if O.strides[batch_pos[i]])
  if not clamp:
    b("int ok = 1;")
  starts = {}
  for k, d in enumerate(dn.start_index_map):
    hi_raw = xs[d] - ss[d]
    hi = max(hi_raw, 0)
    off = _sum([ioff, f"{k * I.strides[-1]}" if I.strides[-1] else "0"])
    b(f"int64_t s{d} = (int64_t)({I.load(off)});")
    if not clamp:
      b(f"if (s{d} < 0 || s{d} > {hi_raw}) ok = 0;")
    b(f"s{d} = s{d} < 0 ? 0 : (s{d} > {hi} ? {hi} : s{d});")
    starts[d] = f"s{d}"
  for od, idim in zip(dn.operand_batching_dims, dn.start_indices_batching_dims):
    starts[od] = f"q{idim}"
  xoff = _sum(f"{starts[d]} * {X.strides[d]}" for d in starts if X.strides[d])
  b(f"int64_t xb = {xoff}, ob = {ooff};")
  wsz = [ss[d] for d in keep]

  def window(val):
    for j, n in enumerate(wsz):
      b.open(f"for (int64_t w{j} = 0; w{j} < {n}; w{j}++)")
    oo = _sum(["ob"] + [f"w{j} * {O.strides[dn.offset_dims[j]]}" for j in range(len(keep))
                        if O.strides[dn.offset_dims[j]]])
    b(f"{O.ref(oo)} = {val};")
    for _ in wsz:
      b.close()

  xo = _sum(["xb"] + [f"w{j} * {X.strides[d]}" for j, d in enumerate(keep) if X.strides[d]])
  copy = X.ref(xo) if X.const is None else ops.store(X.dtype, X.const)
  if clamp:
    window(copy)
  else:
    b.open("if (ok)")
    window(copy)
    b.close()
    b.open("else")
    window(_fill_literal(eqn))
    b.close()
  b.close()
  work = math.prod(osh)
  _function(mod, code, [X, I, O], ctx, b, units, work >= PAR_MIN_WORK)


# ---------------------------------------------------------------------------------------
# scatter, scatter-add/-sub/-mul/-min/-max

def _combine(name, dt, old, new):
  comb = ops.SCATTER_COMBINE[name]
  if comb is None:
    return new
  k = ops.kind(dt)
  t = ops.comp(dt)
  if comb in ("min", "max"):
    f = ops._mine if comb == "min" else ops._maxe
    return f(f"(({t}){old})", f"(({t}){new})", k)
  return ops.rnd(dt, f"(({t})({old} {comb} {new}))")


def emit_scatter(mod, code, eqn, env):
  x, ind, upd = eqn.invars
  ov = eqn.outvars[0]
  p = eqn.params
  name = eqn.primitive.name
  dn = p["dimension_numbers"]
  so = env.out_storage(ov)
  xs, ish, ush = x.aval.shape, ind.aval.shape, upd.aval.shape
  if math.prod(ush) == 0 or math.prod(xs) == 0:
    cg.emit_copy(code, env, x, so)
    return
  ctx = []
  O, I, U = _Acc(env, ov, ctx, out=True), _Acc(env, ind, ctx), _Acc(env, upd, ctx)
  bshape = ish[:-1]
  nb = len(bshape)
  uwd = tuple(dn.update_window_dims)
  win_dims = [d for d in range(len(xs))
              if d not in dn.inserted_window_dims and d not in dn.operand_batching_dims]
  window = [1] * len(xs)
  for i, d in enumerate(win_dims):
    window[d] = ush[uwd[i]]
  scatter_dims = [d for d in range(len(ush)) if d not in uwd]
  clamp = _mode(p["mode"]) == "CLIP"
  units = math.prod(bshape)
  wsize = math.prod(window)
  # the ownership dim: one the windows do not span (their row along it is their start)
  cands = [d for d in dn.scatter_dims_to_operand_dims if window[d] == 1]
  cands += list(dn.operand_batching_dims)
  pd = max(cands, key=lambda d: xs[d]) if cands else None
  parallel = (pd is not None and xs[pd] >= 2 and wsize >= SCATTER_PAR_WINDOW and
              units * wsize >= PAR_MIN_WORK)
  b = cg.Code(1)
  X = _Acc(env, x, ctx) if parallel and pd == 0 else None
  contig = fu.contiguous_strides(xs)
  if X is not None and O.strides == contig and (X.const is not None or X.strides == contig):
    # each thread first copies the operand rows it owns (a parallel, cache-warm copy)
    row = math.prod(xs[1:])
    if X.const is not None:
      b(f"for (int64_t z = lo * {row}; z < hi * {row}; z++) {O.name}[z] = "
        f"{ops.store(X.dtype, X.const)};")
    else:
      b(f"memcpy({O.name} + lo * {row}, {X.name} + lo * {row}, "
        f"(size_t)(hi - lo) * {row * X.dtype.itemsize});")
  else:
    cg.emit_copy(code, env, x, so)
  b.open(f"for (int64_t u = 0; u < {units}; u++)")
  _decompose(b, "u", bshape, "q")
  ioff = _sum(f"q{i} * {I.strides[i]}" for i in range(nb) if I.strides[i])
  uoff = _sum(f"q{i} * {U.strides[scatter_dims[i]]}" for i in range(nb)
              if U.strides[scatter_dims[i]])
  starts = {}
  for k, d in enumerate(dn.scatter_dims_to_operand_dims):
    hi = xs[d] - window[d]
    off = _sum([ioff, f"{k * I.strides[-1]}" if I.strides[-1] else "0"])
    b(f"int64_t s{d} = (int64_t)({I.load(off)});")
    if clamp:
      b(f"s{d} = s{d} < 0 ? 0 : (s{d} > {max(hi, 0)} ? {max(hi, 0)} : s{d});")
    else:
      b(f"if (s{d} < 0 || s{d} > {hi}) continue;")
    starts[d] = f"s{d}"
  for od, idim in zip(dn.operand_batching_dims, dn.scatter_indices_batching_dims):
    starts[od] = f"q{idim}"
  if parallel:
    b(f"if ({starts[pd]} < lo || {starts[pd]} >= hi) continue;")
  ob = _sum(f"{starts[d]} * {O.strides[d]}" for d in starts if O.strides[d])
  b(f"int64_t ob = {ob}, ub = {uoff};")
  for j, d in enumerate(win_dims):
    b.open(f"for (int64_t w{j} = 0; w{j} < {window[d]}; w{j}++)")
  oo = _sum(["ob"] + [f"w{j} * {O.strides[d]}" for j, d in enumerate(win_dims) if O.strides[d]])
  uo = _sum(["ub"] + [f"w{j} * {U.strides[uwd[j]]}" for j in range(len(win_dims))
                      if U.strides[uwd[j]]])
  tgt = O.ref(oo)
  new = _combine(name, O.dtype, ops.load(O.dtype, tgt), U.load(uo))
  b(f"{tgt} = {ops.store(O.dtype, new)};")
  for _ in win_dims:
    b.close()
  b.close()
  if parallel:
    _function(mod, code, [O, I, U] + ([X] if X else []), ctx, b, xs[pd], True, chunks=0)
  else:
    _function(mod, code, [O, I, U] + ([X] if X else []), ctx, b, 1, False)


# ---------------------------------------------------------------------------------------
# cumsum, cumprod, cummax, cummin, cumlogsumexp

_LOGE2 = "0.693147180559945309417232121458176568"


def _cum_update(b: cg.Code, name, k, at, acc, v):
  """Statement(s): acc <- combine(acc, v), in the accumulator type `at`."""
  if name == "cumsum":
    b(f"{acc} = ({at})({acc} + {v});")
  elif name == "cumprod":
    b(f"{acc} = ({at})({acc} * {v});")
  elif name in ("cummax", "cummin") and k == "c":
    # lexicographic (real part, then imaginary) as np.maximum/np.minimum on complex: acc
    # stays if it has a NaN or is >= (<=) y, where a NaN imaginary part makes the real
    # comparison fail; else y (so a NaN propagates, the earlier one first)
    op = ">" if name == "cummax" else "<"
    rt = "float" if at == "float _Complex" else "double"
    b(f"{{ {at} y_ = {v}; {rt} ar_ = creal({acc}), ai_ = cimag({acc}), yr_ = creal(y_), "
      f"yi_ = cimag(y_); "
      f"if (!(ar_ != ar_ || ai_ != ai_ || (ar_ {op} yr_ && yi_ == yi_) || "
      f"(ar_ == yr_ && ai_ {op}= yi_))) {acc} = y_; }}")
  elif name in ("cummax", "cummin"):
    f = ops._maxe if name == "cummax" else ops._mine
    b(f"{{ {at} y_ = {v}; {acc} = {f(acc, 'y_', 'f' if k == 'h' else k)}; }}")
  else:   # NumPy's npy_logaddexp(acc, y)
    sfx = "f" if at == "float" else ""
    b(f"{{ {at} y_ = {v}; if ({acc} == y_) {acc} = {acc} + {_LOGE2}{sfx}; else {{ "
      f"{at} t_ = {acc} - y_; if (t_ > 0) {acc} = {acc} + log1p(exp(-t_)); "
      f"else if (t_ <= 0) {acc} = y_ + log1p(exp(t_)); else {acc} = t_; }} }}")


def emit_cumulative(mod, code, eqn, env):
  (x,) = eqn.invars
  ov = eqn.outvars[0]
  name = eqn.primitive.name
  axis, reverse = eqn.params["axis"], eqn.params["reverse"]
  shape = x.aval.shape
  n = shape[axis]
  ctx = []
  X, O = _Acc(env, x, ctx), _Acc(env, ov, ctx, out=True)
  dt = np.dtype(x.aval.dtype)
  k = ops.kind(dt)
  at = "float" if k == "h" else ops.comp(dt)
  sgn = -1 if reverse else 1
  xa, oa = sgn * X.strides[axis], sgn * O.strides[axis]
  x0 = (n - 1) * X.strides[axis] if reverse else 0
  o0 = (n - 1) * O.strides[axis] if reverse else 0
  inner = [d for d in range(axis + 1, len(shape))]
  isize = math.prod(shape[d] for d in inner)
  lane = None
  if isize > 1:
    cx = cg._collapse(inner, shape, X.strides) if X.const is None else (isize, 0)
    co = cg._collapse(inner, shape, O.strides)
    if cx is not None and co is not None:
      lane = (isize, cx[1], co[1])
  rows = [d for d in range(len(shape)) if d != axis and (lane is None or d < axis)]
  rsizes = [shape[d] for d in rows]
  nrows = math.prod(rsizes)
  ld = X.load     # float16/bfloat16 load as float: the accumulator type
  st = lambda e: ops.store(dt, f"(({ops.comp(dt)})({e}))" if k == "h" else e)
  b = cg.Code(1)

  def bases(row):
    """xb, ob: the first input and output element of row number `row`'s sequence."""
    _decompose(b, row, rsizes, "q")
    xb, ob = (_sum([str(z0)] + [f"q{i} * {A.strides[d]}" for i, d in enumerate(rows)
                                if A.strides[d]]) for A, z0 in ((X, x0), (O, o0)))
    b(f"int64_t xb = {xb}, ob = {ob};")

  b.open("for (int64_t u = lo; u < hi; u++)")
  if lane is None:
    bases("u")
    b(f"{at} acc = {ld('xb')};")
    b(f"{O.ref('ob')} = {st('acc')};")
    b.open(f"for (int64_t j = 1; j < {n}; j++)")
    _cum_update(b, name, k, at, "acc", ld(_sum(["xb", f"j * {xa}" if xa else "0"])))
    b(f"{O.ref(_sum(['ob', f'j * ({oa})' if oa else '0']))} = {st('acc')};")
    b.close()
    units = nrows
  else:
    isz, xi, oi = lane
    nblk = -(-isz // LANE_BLOCK)
    blk = min(isz, LANE_BLOCK)
    b(f"int64_t blk = u % {nblk}, o = u / {nblk};")
    bases("o")
    b(f"int64_t c0 = blk * {blk}, c1 = c0 + {blk} < {isz} ? c0 + {blk} : {isz};")
    b(f"{at} acc[{blk}];")
    xl = lambda row: _sum(["xb", row, f"c * {xi}" if xi else "0"])
    ol = lambda row: _sum(["ob", row, f"c * {oi}" if oi else "0"])
    b.open("for (int64_t c = c0; c < c1; c++)")
    b(f"acc[c - c0] = {ld(xl('0'))};")
    b(f"{O.ref(ol('0'))} = {st('acc[c - c0]')};")
    b.close()
    b.open(f"for (int64_t j = 1; j < {n}; j++)")
    b.open("for (int64_t c = c0; c < c1; c++)")
    _cum_update(b, name, k, at, "acc[c - c0]", ld(xl(f"j * ({xa})" if xa else "0")))
    b(f"{O.ref(ol(f'j * ({oa})' if oa else '0'))} = {st('acc[c - c0]')};")
    b.close()
    b.close()
    units = nrows * nblk
  b.close()
  work = math.prod(shape)
  _function(mod, code, [X, O], ctx, b, units, work >= PAR_MIN_WORK)
