"""Fused kernels: a fusion.Kernel becomes one C function over a range of *units*:

    static void k3(const float *restrict p0, float *restrict p1, int64_t lo, int64_t hi) {
      for (int64_t u = lo; u < hi; u++) {      // a unit: one outer index (and a V block)
        ...                                   // phases: sweeps over the reduced axes
      }
    }

Loop dimensions are the iteration space's non-unit axes, adjacent ones merged when every
access allows it (so a contiguous elementwise chain is one flat loop). The last dimension
is the vector dimension V when it is not reduced (map kernels, and "column" reductions
whose accumulators are arrays over a block of V); otherwise the kernel is a "row" kernel
whose innermost sweep accumulates in 32 (16 for 8-byte types) independent lanes, so it
vectorises without reassociating the user's arithmetic in an unpredictable way, and gives
the same bits at any thread count. Large kernels run their units on all threads
(`nj_parallel`); a row reduction over few rows splits each sweep into fixed blocks whose
partial results are combined in order (also thread-count independent).
"""
from __future__ import annotations

import math
import re

import numpy as np

from numjax._src.core import DropVar, Literal, Var
from numjax._src.compiler.native import codegen_ops as ops
from numjax._src.compiler.native import fusion as fu
from numjax._src.compiler.native.codegen import Code, _lit_of


PAR_MIN_WORK = 1 << 16     # below this (elements x op cost) a kernel runs on one thread
SPLIT_BLOCK = 1 << 15      # elements per partial sum when a row sweep splits over threads
COL_BLOCK = 512            # V block of a column reduction (its accumulators live on the stack)
UNIT_TARGET = 32           # aim for at least this many units when a kernel is parallel
SCRATCH_MAX = 1 << 14      # row scratch arrays (on the stack) up to this many elements
STREAM_MIN_BYTES = 24 << 20  # map outputs this large are written with streaming stores
STREAM_BLOCK = 1024        # elements computed into L1 before each streaming copy
PIPE_CHUNK = 128           # elements per step of a row-pipelined kernel (a multiple of 32)
PIPE_MAX_BYTES = 48 << 10  # scratch rows in flight of a row-pipelined kernel (L1-sized)
_COST = {"exp": 8, "log": 8, "sin": 10, "cos": 10, "tan": 12, "tanh": 10, "pow": 16,
         "erf_inv": 20, "logistic": 10, "atan2": 14, "lgamma": 30, "div": 3, "sqrt": 3,
         "rem": 6, "expm1": 8, "log1p": 8, "erf": 8, "erfc": 8}


# ---------------------------------------------------------------------------------------
# Kernels

_LOCAL = re.compile(r"\b(?:NJP_k|x|a|sc|sb|o|P)\d+\b")


def _canonical(text):
  """A kernel's text with its generated names renumbered by first appearance."""
  ids = {}
  return _LOCAL.sub(lambda m: ids.setdefault(m.group(0), f"@{len(ids)}"), text)


class _Access:
  __slots__ = ("param", "strides", "dtype", "local")

  def __init__(self, param, strides, dtype, local=False):
    self.param, self.strides, self.dtype, self.local = param, list(strides), dtype, local


class KernelGen:
  """Emit one fusion.Kernel. `env` resolves external values to St; `outs` gives the St
  each stored member goes to."""

  def __init__(self, mod, plan, k, env):
    self.mod, self.plan, self.k, self.env = mod, plan, k, env
    self.X = k.space
    self.red = set(k.red)
    self.nan_flags = {}         # float max/min reduction -> its lanes' NaN-flag array
    self.prod = {}
    for op in k.ops:
      for v in op.outvars:
        if type(v) is not DropVar:
          self.prod[v] = op

  # ---- values -------------------------------------------------------------------------
  def resolve(self, v):
    return self.plan_resolve(v)

  def plan_resolve(self, v):
    while type(v) is Var and v in self.plan.aliases:
      v = self.plan.aliases[v]
    return v

  def map_to_space(self, shape, level):
    """dim of `shape` -> axis of X (non-unit dims, in order)."""
    if level == "full":
      targets = [a for a in range(len(self.X)) if self.X[a] != 1]
    else:
      targets = [a for a in range(len(self.X)) if a not in self.red and self.X[a] != 1]
    src = [d for d, n in enumerate(shape) if n != 1]
    assert len(src) == len(targets), (shape, self.X, level)
    return dict(zip(src, targets))

  def build(self):
    k = self.k
    self.params = []           # (C decl, call expr)
    self.param_of = {}         # call expr -> param name
    self.acc_read = {}         # (var, level) -> _Access
    self.acc_out = {}          # var -> _Access
    self.iota_axes = set()
    self.acc_whole = {}        # random key var -> (param, stride)
    self.concat_parts = {}     # concatenate out var -> [(start, size, _Access | None)]
    self.pad_src_strides = {}
    self.concat_accs = []
    self.is_member = set(self.prod)

    def add_param(call, decl_fn):
      if call not in self.param_of:
        name = f"q{len(self.params)}"
        self.param_of[call] = name
        self.params.append((decl_fn(name), call))
      return self.param_of[call]

    for op in k.ops:
      lvl = k.level[op.outvars[0]] if type(op.outvars[0]) is not DropVar else "full"
      if op.name in fu.REDUCTIONS:
        lvl = "full"   # a reduction reads its operand at every element of the sweep
      if op.name == "iota":
        ov = op.outvars[0]
        d = op.params["dimension"]
        if ov.aval.shape[d] != 1:
          self.iota_axes.add(self.map_to_space(ov.aval.shape, "full")[d])
      if op.name == "concatenate":
        self.build_concat(op, add_param)
        continue
      if op.name == "pad":
        self.build_pad(op, add_param, lvl)
        continue
      if op.name == "random_bits":
        # the key is read whole (two words), not elementwise
        kv = self.resolve(op.invars[0])
        if kv not in self.acc_whole:
          if kv in self.is_member or type(kv) is Literal or kv in self.plan.splats:
            raise fu.Unsupported("computed random key")
          st = self.env.storage(kv)
          if st.kind != "ptr":
            raise fu.Unsupported("random key storage")
          p = add_param(st.expr, lambda n, st=st: f"const uint32_t *restrict {n}")
          self.acc_whole[kv] = (p, st.strides[0])
        continue
      for v in op.invars:
        v = self.resolve(v)
        if type(v) is Literal or v in self.plan.splats or v in self.is_member:
          continue
        key = (v, lvl)
        if key in self.acc_read:
          continue
        st = self.env.storage(v)
        if st.kind == "local":
          p = add_param(st.expr, lambda n, st=st: f"{ops.ctype(st.dtype)} {n}")
          self.acc_read[key] = _Access(p, [0] * len(self.X), st.dtype, local=True)
          continue
        p = add_param(st.expr, lambda n, st=st: f"const {ops.ctype(st.dtype)} *restrict {n}")
        strides = [0] * len(self.X)
        if any(n != 1 for n in st.shape):
          m = self.map_to_space(st.shape, lvl)
          for d, a in m.items():
            strides[a] = st.strides[d]
        self.acc_read[key] = _Access(p, strides, st.dtype)
    for v in k.outputs:
      st = self.env.out_storage(v)
      lvl = k.level[v]
      if st.kind == "local":
        p = add_param("&" + st.expr, lambda n, st=st: f"{ops.ctype(st.dtype)} *restrict {n}")
        self.acc_out[v] = _Access(p, [0] * len(self.X), st.dtype, local=True)
        continue
      p = add_param(st.expr, lambda n, st=st: f"{ops.ctype(st.dtype)} *restrict {n}")
      strides = [0] * len(self.X)
      if any(n != 1 for n in st.shape):
        for d, a in self.map_to_space(st.shape, lvl).items():
          strides[a] = st.strides[d]
      self.acc_out[v] = _Access(p, strides, st.dtype)
    self.make_dims()

  def build_concat(self, op, add_param):
    """Accesses of a concatenate's operands: strides over X, base shifted back by the
    operand's start along the axis (reads are guarded by the index)."""
    ov = op.outvars[0]
    d = op.params["dimension"]
    oshape = ov.aval.shape
    m = self.map_to_space(oshape, "full")
    if oshape[d] != 1:
      self.iota_axes.add(m[d])
    start = 0
    self.concat_parts[ov] = parts = []
    for v in op.invars:
      v = self.resolve(v)
      n = v.aval.shape[d]
      if type(v) is Literal or v in self.plan.splats:
        parts.append((start, n, None))
        start += n
        continue
      st = self.env.storage(v)
      if st.kind == "local":
        p = add_param(st.expr, lambda nm, st=st: f"{ops.ctype(st.dtype)} {nm}")
        parts.append((start, n, _Access(p, [0] * len(self.X), st.dtype, local=True)))
        start += n
        continue
      shift = start * st.strides[d]
      call = f"({st.expr} - {shift})" if shift else st.expr
      p = add_param(call, lambda nm, st=st: f"const {ops.ctype(st.dtype)} *restrict {nm}")
      strides = [0] * len(self.X)
      for j, a in m.items():   # along the axis the index moves through [start, start + n)
        strides[a] = st.strides[j] if (v.aval.shape[j] != 1 or j == d) else 0
      acc = _Access(p, strides, st.dtype)
      self.concat_accs.append(acc)
      parts.append((start, n, acc))
      start += n

  def build_pad(self, op, add_param, lvl):
    """pad: the operand read where the index lands on one of its elements; the padding
    value (a rank-0 operand) elsewhere. Padded axes keep their own loop index."""
    ov = op.outvars[0]
    oshape = ov.aval.shape
    m = self.map_to_space(oshape, "full")
    x, pv = (self.resolve(v) for v in op.invars)
    for j, (lo, hi, it) in enumerate(op.params["padding_config"]):
      if (lo, hi, it) != (0, 0, 0) and oshape[j] != 1:
        self.iota_axes.add(m[j])
    acc = None
    if not (type(x) is Literal or x in self.plan.splats):
      st = self.env.storage(x)
      if st.kind == "local":
        p = add_param(st.expr, lambda nm, st=st: f"{ops.ctype(st.dtype)} {nm}")
        acc = _Access(p, [0] * len(self.X), st.dtype, local=True)
      else:
        p = add_param(st.expr, lambda nm, st=st: f"const {ops.ctype(st.dtype)} *restrict {nm}")
        strides = [0] * len(self.X)
        for j, a in m.items():
          if op.params["padding_config"][j] == (0, 0, 0):
            strides[a] = st.strides[j]
        acc = _Access(p, strides, st.dtype)
        self.concat_accs.append(acc)
      self.pad_src_strides[ov] = st.strides
    self.concat_parts[ov] = [(x, acc)]
    if not (type(pv) is Literal or pv in self.plan.splats or pv in self.is_member):
      key = (pv, "full")
      if key not in self.acc_read:
        st = self.env.storage(pv)
        if st.kind == "local":
          p = add_param(st.expr, lambda nm, st=st: f"{ops.ctype(st.dtype)} {nm}")
          self.acc_read[key] = _Access(p, [0] * len(self.X), st.dtype, local=True)
        else:
          p = add_param(st.expr, lambda nm, st=st: f"const {ops.ctype(st.dtype)} *restrict {nm}")
          self.acc_read[key] = _Access(p, [0] * len(self.X), st.dtype)

  def pad_val(self, code, v, op, memo, loopvars):
    ov = op.outvars[0]
    (x, acc), = self.concat_parts[ov]
    pv = self.full_val(code, op.invars[1], memo, loopvars)
    ct = ops.comp(v.aval.dtype)
    if acc is None:
      src = self.full_val(code, x, memo, loopvars)
    elif acc.local:
      src = ops.load(acc.dtype, acc.param)
    else:
      off = [self.offset_expr(acc, loopvars, self.accs.index(acc))]
    conds = []
    oshape = v.aval.shape
    m = self.map_to_space(oshape, "full")
    for j, (lo, hi, it) in enumerate(op.params["padding_config"]):
      if (lo, hi, it) == (0, 0, 0):
        continue
      n = x.aval.shape[j]
      if oshape[j] == 1:
        idx = "0"
      else:
        jj = self.axis_dim[m[j]]
        idx = loopvars.get(jj, f"i{jj}")
      t = f"(({idx}) - ({lo}))"
      s_ = it + 1
      conds.append(f"{t} >= 0 && {t} < {(n - 1) * s_ + 1 if n else 0}" +
                   (f" && {t} % {s_} == 0" if s_ > 1 else ""))
      if acc is not None and not acc.local:
        st = self.pad_src_strides[ov][j]
        off.append(f"({t} / {s_}) * {st}" if s_ > 1 else f"{t} * {st}")
    if acc is not None and not acc.local:
      src = ops.load(acc.dtype, f"{acc.param}[{' + '.join(off)}]")
    cond = " && ".join(f"({c})" for c in conds) or "1"
    nm = self.mod.fresh("x")
    code(f"{ct} {nm} = ({cond}) ? ({ct})({src}) : {pv};")
    memo[v] = nm
    return nm

  def make_dims(self):
    X = self.X
    accs = list(self.acc_read.values()) + list(self.acc_out.values()) + self.concat_accs
    axes = [a for a in range(len(X)) if X[a] != 1]
    dims = []   # each: [size, red, {acc_id: stride}, axes]
    for a in axes:
      cur = [X[a], a in self.red, [acc.strides[a] for acc in accs], [a]]
      if dims:
        prev = dims[-1]
        ok = (prev[1] == cur[1] and not (set(prev[3]) | {a}) & self.iota_axes and
              all(ps == cs * X[a] for ps, cs in zip(prev[2], cur[2])))
        if ok:
          prev[0] *= X[a]
          prev[2] = cur[2]
          prev[3].append(a)
          continue
      dims.append(cur)
    self.accs = accs
    self.dims = dims
    # per access, per dim: stride
    for i, acc in enumerate(accs):
      acc.strides = [d[2][i] for d in dims]
    self.axis_dim = {}
    for j, d in enumerate(dims):
      for a in d[3]:
        self.axis_dim[a] = j

  # ---- emission -------------------------------------------------------------------------
  def cost(self):
    c = 0
    for op in self.k.ops:
      c += _COST.get(op.name, 1)
    return max(c, 1) + len(self.acc_read) + len(self.acc_out)

  def emit(self, code: Code):
    """Emit the kernel function and its call into `code`."""
    self.build()
    k = self.k
    dims = self.dims
    total = math.prod(self.X)
    work = total * self.cost()
    nd = len(dims)
    vdim = nd - 1 if nd and not dims[-1][1] else None
    kdims = [j for j in range(nd) if not dims[j][1] and j != vdim]
    rdims = [j for j in range(nd) if dims[j][1]]
    self.vdim, self.kdims, self.rdims = vdim, kdims, rdims
    kcount = math.prod(dims[j][0] for j in kdims)
    parallel = work >= PAR_MIN_WORK
    self.vb = dims[vdim][0] if vdim is not None else 1
    nblocks = 1
    if vdim is not None:
      V = dims[vdim][0]
      vb = V
      if rdims or k.red:
        vb = min(vb, COL_BLOCK)
      if parallel and kcount * -(-V // vb) < UNIT_TARGET:
        vb = min(vb, max(1024, -(-V * kcount // UNIT_TARGET)))
      vb = max(vb, 1)
      nblocks = -(-V // vb)
      self.vb = vb
    self.nblocks = nblocks
    units = kcount * nblocks
    rtotal = math.prod(dims[j][0] for j in rdims)
    split = (vdim is None and rdims and k.nphases == 1 and units < UNIT_TARGET and
             rtotal >= fu.SPLIT_MIN and parallel)
    name = self.mod.fresh("NJP_k")
    if split:
      self.emit_split(code, name, units)
      return
    self.streamed = False
    sig = ", ".join([d for d, _ in self.params] + ["int64_t lo", "int64_t hi"])
    text = self.emit_pipelined(name, sig) if self.pipelinable() else None
    if text is None:
      body = Code(2)
      self.emit_units(body)
      fn = [f"static void {name}({sig}) {{", "  for (int64_t u = lo; u < hi; u++) {"]
      fn += body.lines + ["  }"] + (["  nj_sfence();"] if self.streamed else []) + ["}"]
      text = "\n".join(fn)
    # identical kernels (the layers of an MLP, forward and backward twins) are emitted once:
    # same text up to the names of locals means the same function
    seen = self.mod.__dict__.setdefault("kernel_texts", {})
    canon = _canonical(text)
    if canon in seen:
      name = seen[canon]
    else:
      seen[canon] = name
      self.mod.funcs.append(text)
    calls = [c for _, c in self.params]
    if parallel and units > 1:
      # a streaming kernel is bound by memory bandwidth: one contiguous piece per thread
      # keeps each thread's streams long (measured ~8% faster than 16 interleaved pieces)
      self.emit_parallel_call(code, name, calls, units, 0 if self.streamed else units)
    else:
      code(f"{name}({', '.join(calls + ['0', str(units)])});")

  # ---- row pipelining ----------------------------------------------------------------------
  def pipelinable(self):
    """A row kernel of several sweeps over long rows (softmax, layer norm), with only full
    outputs and no arg reductions."""
    k = self.k
    if self.vdim is not None or len(self.rdims) != 1 or k.nphases < 2:
      return False
    if any(k.level[v] != "full" for v in k.outputs):
      return False
    if any(op.name in ("argmax", "argmin") for op in k.ops):
      return False
    n = self.dims[self.rdims[0]][0]
    return 2 * PIPE_CHUNK <= n <= SCRATCH_MAX

  def emit_pipelined(self, name, sig):
    """The kernel's sweeps software-pipelined over rows: iteration t runs sweep p of row
    t - p, and the sweeps advance together chunk by chunk, so one loop nest interleaves
    the first sweep's reads of a new row from memory, the middle sweeps' arithmetic in L1
    and the last sweep's writes of an older row. Run one after another, the memory sweeps
    left the arithmetic units idle and the arithmetic left memory idle (softmax in a C
    harness: 0.68 -> 0.52 ms). Per-row state (scratch rows, reduction results) lives in
    one slot per row in flight; the lanes see the elements in the same order as the
    unpipelined kernel, so the results are the same bits (up to libm's vector and scalar
    variants, whose split over a loop's remainder moves with the chunks). None if the
    slots would not stay in L1."""
    k = self.k
    P = k.nphases
    n = self.dims[self.rdims[0]][0]
    self.scope_outer = {}
    self.plan_scratch(Code(2))
    # a scratch row written by sweep q is read until sweep P - 1: P - q rows in flight
    nslot = {v: P - k.phase[v] for v in self.scratch}
    nbytes = sum(nslot[v] * n * np.dtype(v.aval.dtype).itemsize for v in self.scratch)
    if nbytes > PIPE_MAX_BYTES:
      return None
    state, init = Code(1), Code(2)
    slots = {}
    for v, nm in self.scratch.items():
      slot = self.mod.fresh("sc")
      ct = ops.comp(v.aval.dtype)
      state(f"{ct} {slot}[{nslot[v]}][{n}] __attribute__((aligned(64)));")
      slots[nm] = (ct, slot, nslot[v])
    pipe = {"state": state, "init": init, "fin": None, "P": P, "results": []}
    chunks, fins = [], []
    for p in range(P):
      pro, body, fin = Code(4), Code(4), Code(3)
      self.decompose(pro)
      for nm, (ct, slot, ns) in slots.items():
        pro(f"{ct} *{nm} = {slot}[u % {ns}];")
      for ov, res, t, slot in pipe["results"]:
        pro(f"{t} {res} = {slot}[u % {P}];")
      self.scope_outer = {ov: (res, False) for ov, res, _, _ in pipe["results"]}
      self.pre = pro
      pipe["fin"] = fin
      self.emit_phase(body, p, pipe)
      chunks.append(pro.lines + body.lines)
      fins.append(fin.lines)
    fn = [f"static void {name}({sig}) {{"] + state.lines
    fn.append(f"  for (int64_t t = lo; t < hi + {P - 1}; t++) {{")
    fn += init.lines
    fn.append(f"    for (int64_t c = 0; c < {n}; c += {PIPE_CHUNK}) {{")
    fn.append(f"      int64_t ce = c + {PIPE_CHUNK} < {n} ? c + {PIPE_CHUNK} : {n};")
    for p in range(P):
      if len(chunks[p]) > 0:
        fn.append(f"      if (t - {p} >= lo && t - {p} < hi) {{")
        fn.append(f"        int64_t u = t - {p};")
        fn += chunks[p]
        fn.append("      }")
    fn.append("    }")
    for p in range(P):
      if fins[p]:
        fn.append(f"    if (t - {p} >= lo && t - {p} < hi) {{")
        fn.append(f"      int64_t u = t - {p};")
        fn += fins[p]
        fn.append("    }")
    fn += ["  }", "}"]
    return "\n".join(fn)

  def emit_parallel_call(self, code, name, calls, units, chunks=None):
    fields = [d for d, _ in self.params]
    self.parallel_struct(name, fields)
    code.open("")
    code(f"{name}_ctx c = {{ {self.ctx_init(fields, calls)} }};")
    code(f"nj_parallel({name}_chunk, &c, {units}, {units if chunks is None else chunks});")
    code.close()

  # ---- units -------------------------------------------------------------------------------
  def decompose(self, code: Code, uvar="u"):
    """Unit index -> outer indices and per-access base offsets."""
    dims = self.dims
    if self.vdim is not None and self.nblocks > 1:
      code(f"int64_t blk = {uvar} % {self.nblocks}, o = {uvar} / {self.nblocks};")
    else:
      code(f"int64_t o = {uvar};")
    idx = {}
    for j in reversed(self.kdims):
      n = dims[j][0]
      if j == self.kdims[0]:
        code(f"int64_t i{j} = o;")
      else:
        code(f"int64_t i{j} = o % {n}; o /= {n};")
      idx[j] = f"i{j}"
    for a_i, acc in enumerate(self.accs):
      if acc.local:
        continue
      terms = [f"i{j} * {acc.strides[j]}" for j in self.kdims if acc.strides[j]]
      code(f"int64_t b{a_i} = {' + '.join(terms) if terms else '0'};")
    if self.vdim is not None:
      V = dims[self.vdim][0]
      if self.nblocks > 1:
        code(f"int64_t v0 = blk * {self.vb}, v1 = v0 + {self.vb} < {V} ? v0 + {self.vb} : {V};")
      else:
        code(f"int64_t v0 = 0, v1 = {V};")

  def emit_units(self, code: Code):
    self.decompose(code)
    self.scope_outer = {}       # outer var -> C name (scalar, or array over the V block)
    self.pre = code
    k = self.k
    if self.vdim is None and not self.rdims:
      # rank-0 space: straight-line
      memo = {}
      for v in k.outputs:
        self.store_full(code, v, memo, {}) if k.level[v] == "full" else None
      for v in k.outputs:
        if k.level[v] == "outer":
          self.store_outer(code, v)
      return
    self.plan_scratch(code)
    self.prefetch_next_row(code)
    for p in range(k.nphases):
      self.emit_phase(code, p)
    for v in k.outputs:
      if k.level[v] == "outer":
        self.store_outer(code, v)

  def plan_scratch(self, code):
    """Row kernels: an expensive full value computed in one sweep and used again in a
    later one (softmax's exp) is kept in a row-sized scratch array instead of recomputed."""
    k = self.k
    self.scratch = {}
    self.pre_scratch = set()
    self.cur_phase = 0
    if self.vdim is not None or not self.rdims:
      return
    rtotal = math.prod(self.dims[j][0] for j in self.rdims)
    if rtotal > SCRATCH_MAX:
      return
    for op in k.ops:
      ov = op.outvars[0]
      if type(ov) is DropVar or k.level.get(ov) != "full":
        continue
      for x in op.invars:
        x = self.resolve(x)
        if type(x) is not Var or x not in self.is_member or k.level[x] != "full":
          continue
        if k.phase[x] < k.phase[ov] and x not in self.scratch and self.recompute_cost(x) >= 8:
          nm = self.mod.fresh("sc")
          code(f"{ops.comp(x.aval.dtype)} {nm}[{rtotal}];")
          self.scratch[x] = nm

  def prefetch_next_row(self, code):
    """A row kernel of several sweeps reads its row from memory in the first sweep and then
    works on it in cache; the hardware prefetcher does not run ahead across the later
    sweeps, so each unit starts with a stall. Prefetching the next unit's rows at the start
    of this one overlaps that fetch with this unit's work (softmax: ~15% faster)."""
    if (self.vdim is not None or not self.rdims or self.k.nphases < 2 or
        len(self.kdims) != 1):
      return
    kd = self.kdims[0]
    rows = [self.dims[j][0] for j in self.rdims]
    rtotal = math.prod(rows)
    for a_i, acc in enumerate(self.accs):
      if acc.local or acc not in self.acc_read.values():
        continue
      # the unit's elements must be one contiguous run, and the next unit's run follow it
      want, ok = 1, True
      for j in reversed(self.rdims):
        if acc.strides[j] != want:
          ok = False
        want *= self.dims[j][0]
      if not ok or acc.strides[kd] != rtotal:
        continue
      nbytes = rtotal * np.dtype(acc.dtype).itemsize
      if nbytes > (16 << 10):
        continue
      code(f"if (u + 1 < hi) for (int64_t z = 0; z < {rtotal}; z += {max(1, 64 // np.dtype(acc.dtype).itemsize)}) "
           f"__builtin_prefetch(&{acc.param}[b{a_i} + {rtotal} + z]);")

  def recompute_cost(self, v):
    k = self.k
    seen, stack, cost = set(), [v], 0
    while stack:
      x = self.resolve(stack.pop())
      if type(x) is not Var or x in seen or x not in self.is_member:
        continue
      seen.add(x)
      if k.level[x] != "full" or k.phase[x] != k.phase[v]:
        continue
      op = self.prod[x]
      cost += _COST.get(op.name, 1)
      stack.extend(op.invars)
    return cost

  def phase_work(self, p):
    k = self.k
    reds = [op for op in k.ops if op.name in fu.REDUCTIONS and
            k.phase[op.outvars[0]] == p + 1 and k.level[op.outvars[0]] == "outer"]
    stores = [v for v in k.outputs if k.level[v] == "full" and k.phase[v] == p]
    return reds, stores

  def emit_phase(self, code: Code, p, pipe=None):
    """Emit sweep p. With `pipe` (a row-pipelined kernel, see emit_pipelined) the sweep
    covers one chunk [c, ce) of the row: accumulators are declared in pipe["state"] and
    reset in pipe["init"], and the reductions finish in pipe["fin"]."""
    reds, stores = self.phase_work(p)
    self.cur_phase = p
    saves = [v for v in getattr(self, "scratch", {}) if self.k.phase[v] == p]
    dims = self.dims
    rd = self.rdims
    vec = self.vdim is not None
    pre = []
    if saves and rd and not vec:
      pre = [v for v in saves if self.row_exp(v)]
      saves = [v for v in saves if v not in pre]
    stores = stores + [("scratch", v) for v in saves]
    if not reds and not stores:
      for v in pre:
        self.emit_row_exp(code, v, pipe)
      return
    lanes = 1
    if not vec and rd and reds:
      lanes = 16 if any(np.dtype(self.red_dtype(op)).itemsize >= 8 for op in reds) else 32
    # a sweep that is one float32 row reduction may be done by a vector helper (row_helper)
    single = (len(rd) == 1 and lanes == 32 and not stores and len(reds) == 1 and
              np.dtype(self.red_dtype(reds[0])) == np.float32)
    # softmax's sum of its exp: nj_vexpf_acc adds the row into the 32 lanes as it goes
    fused = (single and reds[0].name == "reduce_sum" and
             self.resolve(reds[0].invars[0]) in pre)
    # accumulators
    accs = {}
    decl = pipe["state"] if pipe else code
    reset = pipe["init"] if pipe else code
    for op in reds:
      t, init = self.red_init(op)[1], self.red_init(op)[0]
      nm = self.mod.fresh("a")
      n = self.vb if vec else lanes
      accs[op] = nm
      if op.name in ("argmax", "argmin"):
        code(f"{t} {nm}v[{n}]; int64_t {nm}i[{n}];")
        code(f"for (int l = 0; l < {n}; l++) {{ {nm}v[l] = {init}; {nm}i[l] = -1; }}")
      else:
        decl(f"{t} {nm}[{n}];")
        reset(f"for (int l = 0; l < {n}; l++) {nm}[l] = {init};")
        if not vec and lanes > 1:
          self.declare_nan_flag(decl, op, nm, n, reset)
    for v in pre:
      acc = accs[reds[0]] if fused and self.resolve(reds[0].invars[0]) is v else None
      self.emit_row_exp(code, v, pipe, acc)
    if single and not fused:
      fused = self.row_helper(code, reds[0], accs[reds[0]], pipe)
    if fused:
      reds_done, reds = reds, []
    # loops over reduced dims (all but the innermost one for row kernels); outer values
    # first used inside are computed before the loops (into `code`, via self.pre)
    main = code
    code = Code(main.ind)
    code.open("")
    outer_r = rd if vec else rd[:-1]
    for j in outer_r:
      code.open(f"for (int64_t i{j} = 0; i{j} < {dims[j][0]}; i{j}++)")
    stream = vec and not rd and not reds and self.streamable(stores)
    if stream:
      # large map outputs: compute a block into L1, then stream it to memory
      # the first block ends where the first output reaches a 64-byte boundary, so every
      # later block streams from an aligned scratch to aligned memory (nj_stream copied
      # the misaligned head byte by byte and loaded across lines: axpy ~15% slower)
      acc0 = self.acc_out[stores[0]]
      off0 = self.offset_expr(acc0, {self.vdim: "vs"}, self.accs.index(acc0))
      isz = np.dtype(stores[0].aval.dtype).itemsize
      code.open(f"for (int64_t vs = v0, ve; vs < v1; vs = ve)")
      code(f"ve = vs + {STREAM_BLOCK};")
      code(f"if (vs == v0) {{ int64_t h = (int64_t)((64 - ((uintptr_t)&{acc0.param}[{off0}] & 63)) & 63) / {isz}; "
           f"if (h) ve = vs + h; }}")
      code("if (ve > v1) ve = v1;")
      self.stream_to = {}
      for v in stores:
        nm = self.mod.fresh("sb")
        code(f"{ops.ctype(v.aval.dtype)} {nm}[{STREAM_BLOCK}] __attribute__((aligned(64)));")
        self.stream_to[v] = nm
      code.open("for (int64_t v = vs; v < ve; v++)")
      self.emit_body(code, p, reds, stores, accs, "v - v0", {self.vdim: "v"})
      code.close()
      for v in stores:
        acc = self.acc_out[v]
        off = self.offset_expr(acc, {self.vdim: "vs"}, self.accs.index(acc))
        code(f"nj_stream(&{acc.param}[{off}], {self.stream_to[v]}, "
             f"(size_t)(ve - vs) * {np.dtype(v.aval.dtype).itemsize});")
      self.stream_to = {}
      self.streamed = True
      code.close()
    elif vec:
      code.open("for (int64_t v = v0; v < v1; v++)")
      self.emit_body(code, p, reds, stores, accs, "v - v0", {self.vdim: "v"})
      code.close()
    elif rd:
      j = rd[-1]
      n = dims[j][0]
      start = "0"
      if pipe:
        start, n = "c", "ce"
      if lanes > 1:
        code(f"int64_t r{j} = {start};")
        code.open(f"for (; r{j} + {lanes} <= {n}; r{j} += {lanes})")
        code.open(f"for (int l = 0; l < {lanes}; l++)")
        self.emit_body(code, p, reds, stores, accs, "l", {j: f"(r{j} + l)"})
        code.close()
        code.close()
        code.open(f"for (; r{j} < {n}; r{j}++)")
        self.emit_body(code, p, reds, stores, accs, "0", {j: f"r{j}"})
        code.close()
      else:
        code.open(f"for (int64_t i{j} = {start}; i{j} < {n}; i{j}++)")
        self.emit_body(code, p, reds, stores, accs, "0", {j: f"i{j}"})
        code.close()
    for _ in outer_r:
      code.close()
    code.close()
    if fused:
      reds = reds_done
    else:
      main.extend(code)
    code = pipe["fin"] if pipe else main
    # finish reductions -> outer values
    for op in reds:
      ov = op.outvars[0]
      nm = accs[op]
      t = self.red_init(op)[1]
      dt = op.outvars[0].aval.dtype
      if vec:
        self.scope_outer[ov] = (nm, True)
        if op.name in ("argmax", "argmin"):
          res = self.mod.fresh("o")
          code(f"{ops.comp(dt)} {res}[{self.vb}];")
          code(f"for (int64_t l = 0; l < {self.vb}; l++) {res}[l] = ({ops.comp(dt)}){nm}i[l];")
          self.scope_outer[ov] = (res, True)
        elif ops.kind(dt) == "h":
          code(f"for (int64_t l = 0; l < {self.vb}; l++) {nm}[l] = {ops.rnd(dt, f'{nm}[l]')};")
        continue
      res = self.mod.fresh("o")
      if op.name in ("argmax", "argmin"):
        code(f"{t} {res}v = {nm}v[0]; int64_t {res}i = {nm}i[0];")
        code.open(f"for (int l = 1; l < {lanes}; l++)")
        self.arg_merge(code, op, f"{res}v", f"{res}i", f"{nm}v[l]", f"{nm}i[l]")
        code.close()
        code(f"{ops.comp(dt)} {res} = ({ops.comp(dt)}){res}i;")
      else:
        self.combine_lanes(code, op, nm, lanes, res)
        if ops.kind(dt) == "h":
          code(f"{res} = {ops.rnd(dt, res)};")
        if pipe:
          # the result waits in its row's slot for the later sweeps (later iterations)
          slot = self.mod.fresh("o")
          pipe["state"](f"{t} {slot}[{pipe['P']}];")
          code(f"{slot}[u % {pipe['P']}] = {res};")
          pipe["results"].append((ov, res, t, slot))
      self.scope_outer[ov] = (res, False)

  def row_exp(self, v):
    """Is scratch value v a float32 exp (computed by its own sweep and nj_vexpf)?"""
    op = self.prod.get(v)
    return (op is not None and op.name == "exp" and np.dtype(v.aval.dtype) == np.float32 and
            np.dtype(op.invars[0].aval.dtype) == np.float32)

  def emit_row_exp(self, code, v, pipe=None, acc=None):
    """Softmax's exp sweep, split in two: a flat loop writes exp's argument over the row
    into v's scratch, then nj_vexpf exponentiates the row in place (AVX-512: vscalefps,
    no calls); the phase's own sweep then reads v from the scratch. In the fused loop,
    libmvec's calls made the accumulators spill around every call (~30% slower)."""
    op = self.prod[v]
    sc = self.scratch[v]
    rd = self.rdims
    if self.emit_row_exp_sub(code, v, pipe, acc):
      return
    code.open("")
    for j in rd:
      lo_, hi_ = ("c", "ce") if pipe else ("0", self.dims[j][0])
      code.open(f"for (int64_t i{j} = {lo_}; i{j} < {hi_}; i{j}++)")
    loopvars = {j: f"i{j}" for j in rd}
    val = self.full_val(code, op.invars[0], {}, loopvars)
    code(f"{sc}[{self.red_index(None, loopvars)}] = {val};")
    for _ in rd:
      code.close()
    code.close()
    fn, extra = ("nj_vexpf_acc", f", {acc}") if acc else ("nj_vexpf", "")
    if pipe:
      code(f"{fn}({sc} + c, ce - c{extra});")
    else:
      code(f"{fn}({sc}, {math.prod(self.dims[j][0] for j in rd)}{extra});")
    self.pre_scratch.add(v)

  def row_helper(self, code, op, acc, pipe):
    """Emit a sweep that is the one float32 reduction `op` over a row as a vector-helper
    call, if one fits; False otherwise (the lane loop is emitted).
    - log_softmax's sum(exp(x - m)): the exp goes through a buffer (a chunk, or the row),
      summed as it is made (the libmvec calls inside the lane loop were ~2x slower);
    - a max/min of a row read from memory: nj_vmaxf_acc / nj_vminf_acc."""
    n = self.dims[self.rdims[0]][0]
    v = self.resolve(op.invars[0])
    if (op.name == "reduce_sum" and (pipe or n <= SCRATCH_MAX) and type(v) is Var and
        v in self.is_member and self.row_exp(v) and v not in self.scratch):
      buf = self.mod.fresh("sc")
      code(f"float {buf}[{PIPE_CHUNK if pipe else n}] __attribute__((aligned(64)));")
      self.scratch[v] = buf
      done = self.emit_row_exp_sub(code, v, pipe, acc, dst=buf)
      del self.scratch[v]
      self.pre_scratch.discard(v)
      return done
    return self.emit_row_minmax(code, op, acc, pipe)

  def emit_row_minmax(self, code, op, acc, pipe):
    """A float32 row max/min of a row read contiguously from memory (softmax's first
    sweep): nj_vmaxf_acc / nj_vminf_acc, one vmaxps and one compare into a mask register
    per 16 elements (the lane loop's NaN flags took three vector ops more). The same
    lanes, the same bits."""
    if op.name not in ("reduce_max", "reduce_min") or op not in self.nan_flags:
      return False
    x = self.resolve(op.invars[0])
    if type(x) is not Var or x in self.is_member or x in self.plan.splats:
      return False
    a = self.acc_read.get((x, "full"))
    j = self.rdims[0]
    if a is None or a.local or np.dtype(a.dtype) != np.float32 or a.strides[j] != 1:
      return False
    start, n = ("c", "ce - c") if pipe else ("0", str(self.dims[j][0]))
    src = f"&{a.param}[{self.offset_expr(a, {j: start}, self.accs.index(a))}]"
    fn = "nj_vmaxf_acc" if op.name == "reduce_max" else "nj_vminf_acc"
    code(f"{fn}({src}, {n}, {acc}, {self.nan_flags[op]});")
    return True

  def emit_row_exp_sub(self, code, v, pipe, acc, dst=None):
    """exp(x - m) with x a float32 row read contiguously from memory and m a value of the
    row (softmax's max): one call, nj_vexpf_sub[_acc], reads x, subtracts, exponentiates
    into the scratch (and sums) -- no argument sweep through the scratch (~20% of
    softmax in a C harness). Same operations, so the same bits as the two-sweep form.
    When m is the max of the same row, x - m <= 0 (or NaN) and the exp skips its upper
    clamp (~7%; the same values)."""
    arg = self.resolve(self.prod[v].invars[0])
    sub = self.prod.get(arg)
    if sub is None or sub.name != "sub" or len(self.rdims) != 1:
      return False
    x, m = (self.resolve(a) for a in sub.invars)
    f32 = np.dtype(np.float32)
    if type(x) is not Var or x in self.is_member or x in self.plan.splats:
      return False
    a = self.acc_read.get((x, "full"))
    j = self.rdims[0]
    if a is None or a.local or np.dtype(a.dtype) != f32 or a.strides[j] != 1:
      return False
    while type(m) is Var and m in self.is_member and self.k.level[m] != "outer" and \
        self.prod[m].name in ("broadcast_in_dim", "alias"):
      m = self.resolve(self.prod[m].invars[0])
    if type(m) is Var and m in self.is_member and self.k.level[m] != "outer":
      return False
    if type(m) is Var and m not in self.is_member and m not in self.plan.splats:
      return False
    if np.dtype(m.aval.dtype) != f32:
      return False
    pm = self.prod.get(m) if type(m) is Var else None
    while pm is not None and pm.name in ("alias", "reshape", "broadcast_in_dim"):
      pm = self.prod.get(self.resolve(pm.invars[0]))
    le0 = int(pm is not None and pm.name == "reduce_max" and self.resolve(pm.invars[0]) is x)
    mv = self.outer_expr(self.pre, m, {}, {}) if type(m) is Var and m in self.is_member \
        else self.full_val(self.pre, m, {}, {})
    start, n = ("c", "ce - c") if pipe else ("0", str(self.dims[j][0]))
    sc = self.scratch[v]
    src = f"&{a.param}[{self.offset_expr(a, {j: start}, self.accs.index(a))}]"
    dst = dst or (f"{sc} + c" if pipe else sc)
    if acc:
      code(f"nj_vexpf_sub_acc({dst}, {src}, {mv}, {n}, {acc}, {le0});")
    else:
      code(f"nj_vexpf_sub({dst}, {src}, {mv}, {n}, {le0});")
    self.pre_scratch.add(v)
    return True

  def emit_body(self, code, p, reds, stores, accs, lane, loopvars):
    memo = {}
    for op in reds:
      x = self.full_val(code, op.invars[0], memo, loopvars)
      nm = accs[op]
      if op.name in ("argmax", "argmin"):
        idx = self.red_index(op, loopvars)
        better = self.arg_better(op, x, f"{nm}v[{lane}]", f"{nm}i[{lane}]")
        code(f"if ({better}) {{ {nm}v[{lane}] = {x}; {nm}i[{lane}] = {idx}; }}")
      elif op in self.nan_flags:
        # float max/min with a NaN flag: the accumulator takes x only when x is larger
        # (`x > a ? x : a` is one vmaxps; a NaN x is never taken, so the accumulator never
        # holds NaN) and a separate flag records NaNs. The NaN-aware select chain
        # (compare, compare, or, blend per step) made softmax's max sweep latency-bound.
        if not x.isidentifier():
          t = self.mod.fresh("x")
          code(f"{self.red_init(op)[1]} {t} = {x};")
          x = t
        cmp = ">" if op.name == "reduce_max" else "<"
        code(f"{nm}[{lane}] = {x} {cmp} {nm}[{lane}] ? {x} : {nm}[{lane}];")
        code(f"{self.nan_flags[op]}[{lane}] |= {x} != {x};")
      else:
        _, _, comb = self.red_parts(op)
        code(f"{nm}[{lane}] = {comb(f'{nm}[{lane}]', x)};")
    for v in stores:
      if isinstance(v, tuple):
        val = self.full_val(code, v[1], memo, loopvars)
        code(f"{self.scratch[v[1]]}[{self.red_index(None, loopvars)}] = {val};")
      else:
        self.store_full(code, v, memo, loopvars)

  def declare_nan_flag(self, code, op, nm, n, reset=None):
    """Lane accumulators of a float max/min get a NaN flag per lane (see emit_body)."""
    if op.name not in ("reduce_max", "reduce_min") or ops.kind(self.red_dtype(op)) not in "hf":
      return
    ft = "int64_t" if ops.comp(self.red_dtype(op)) == "double" else "int32_t"
    code(f"{ft} {nm}n[{n}];")
    (reset or code)(f"for (int l = 0; l < {n}; l++) {nm}n[l] = 0;")
    self.nan_flags[op] = f"{nm}n"

  def combine_lanes(self, code, op, nm, lanes, res):
    """Declare `res` = the lanes of accumulator `nm` combined, as a tree of halvings
    (each level a vector operation: a sequential chain over 32 lanes cost ~150 cycles per
    row, a fifth of softmax's time)."""
    t = self.red_init(op)[1]
    fl = self.nan_flags.pop(op, None)
    if fl is not None:
      cmp = ">" if op.name == "reduce_max" else "<"
      comb = lambda a, b: f"{b} {cmp} {a} ? {b} : {a}"
    else:
      comb = self.red_parts(op)[2]
    code(f"for (int w = {lanes} / 2; w > 0; w /= 2) for (int l = 0; l < w; l++) "
         f"{nm}[l] = {comb(f'{nm}[l]', f'{nm}[l + w]')};")
    code(f"{t} {res} = {nm}[0];")
    if fl is not None:
      code(f"{{ {'int64_t' if t == 'double' else 'int32_t'} nan = 0; "
           f"for (int l = 0; l < {lanes}; l++) nan |= {fl}[l]; if (nan) {res} = ({t})NAN; }}")

  def red_index(self, op, loopvars):
    """Index along the reduced axis of an argmax/argmin (its axis is the only reduced one)."""
    rd = self.rdims
    terms, mult = [], 1
    for j in reversed(rd):
      terms.append(f"{loopvars.get(j, f'i{j}')} * {mult}")
      mult *= self.dims[j][0]
    return " + ".join(terms)

  def arg_better(self, op, x, bv, bi):
    k = ops.kind(op.invars[0].aval.dtype)
    cmp = ">" if op.name == "argmax" else "<"
    if k in "hf":
      return f"{bi} < 0 || ({bv} == {bv} && ({x} {cmp} {bv} || {x} != {x}))"
    return f"{bi} < 0 || {x} {cmp} {bv}"

  def arg_merge(self, code, op, rv, ri, lv, li):
    """Merge lane (lv, li) into (rv, ri): the better value, ties to the lower index."""
    k = ops.kind(op.invars[0].aval.dtype)
    cmp = ">" if op.name == "argmax" else "<"
    if k in "hf":
      cond = (f"{li} >= 0 && ({ri} < 0 || ({lv} != {lv} ? ({rv} == {rv} || {li} < {ri}) : "
              f"({rv} == {rv} && ({lv} {cmp} {rv} || ({lv} == {rv} && {li} < {ri})))))")
    else:
      cond = f"{li} >= 0 && ({ri} < 0 || {lv} {cmp} {rv} || ({lv} == {rv} && {li} < {ri}))"
    code(f"if ({cond}) {{ {rv} = {lv}; {ri} = {li}; }}")

  def red_dtype(self, op):
    return op.invars[0].aval.dtype

  def red_parts(self, op):
    return ops.reduction(op.name, self.red_dtype(op))

  def red_init(self, op):
    dt = self.red_dtype(op)
    if op.name in ("argmax", "argmin"):
      t = ops.comp(dt)
      return (f"(({t})0)", t)
    t, init, _ = ops.reduction(op.name, dt)
    return init, t

  # ---- value expressions -----------------------------------------------------------------
  def offset_expr(self, acc, loopvars, a_i):
    terms = [f"b{a_i}"] if self.kdims else []
    for j, var in loopvars.items():
      s = acc.strides[j]
      if s:
        terms.append(f"{var} * {s}" if s != 1 else var)
    for j in self.rdims:
      if j not in loopvars and acc.strides[j]:
        terms.append(f"i{j} * {acc.strides[j]}")
    return " + ".join(terms) if terms else "0"

  def read_external(self, v, level, loopvars):
    acc = self.acc_read[(v, level)]
    if acc.local:
      return ops.load(acc.dtype, acc.param)
    a_i = self.accs.index(acc)
    return ops.load(acc.dtype, f"{acc.param}[{self.offset_expr(acc, loopvars, a_i)}]")

  def full_val(self, code, v, memo, loopvars):
    """C name (or literal) of value v at the current element of a sweep."""
    v = self.resolve(v)
    if type(v) is Literal:
      return ops.literal(_lit_of(v), v.aval.dtype)
    if v in self.plan.splats:
      lit = self.plan.splats[v]
      return ops.literal(_lit_of(lit), v.aval.dtype)
    if v in memo:
      return memo[v]
    if v not in self.is_member:
      nm = self.mod.fresh("x")
      code(f"{ops.comp(v.aval.dtype)} {nm} = {self.read_external(v, 'full', loopvars)};")
      memo[v] = nm
      return nm
    if self.k.level[v] == "outer":
      nm, arr = self.outer_val(v)
      return f"{nm}[v - v0]" if arr else nm
    sc = getattr(self, "scratch", {}).get(v)
    if sc is not None and (self.k.phase[v] < self.cur_phase or v in self.pre_scratch):
      nm = self.mod.fresh("x")
      code(f"{ops.comp(v.aval.dtype)} {nm} = {sc}[{self.red_index(None, loopvars)}];")
      memo[v] = nm
      return nm
    op = self.prod[v]
    if op.name == "pad":
      return self.pad_val(code, v, op, memo, loopvars)
    if op.name == "concatenate":
      d = op.params["dimension"]
      shape = v.aval.shape
      ct = ops.comp(v.aval.dtype)
      if shape[d] == 1:
        idx = "0"
      else:
        j = self.axis_dim[self.map_to_space(shape, "full")[d]]
        idx = loopvars.get(j, f"i{j}")
      e = None
      for (start, n, acc), x in reversed(list(zip(self.concat_parts[v], op.invars))):
        if acc is None:
          val = self.full_val(code, x, memo, loopvars)
        elif acc.local:
          val = ops.load(acc.dtype, acc.param)
        else:
          val = ops.load(acc.dtype, f"{acc.param}[{self.offset_expr(acc, loopvars, self.accs.index(acc))}]")
        e = val if e is None else f"(({idx}) < {start + n} ? ({ct})({val}) : {e})"
      nm = self.mod.fresh("x")
      code(f"{ct} {nm} = {e};")
      memo[v] = nm
      return nm
    if op.name == "random_bits":
      p, st = self.acc_whole[self.resolve(op.invars[0])]
      nm = self.mod.fresh("x")
      ct = ops.comp(v.aval.dtype)
      code(f"{ct} {nm} = ({ct})nj_random_bits({p}[0], {p}[{st}], (uint64_t)({self.flat_index(loopvars)}), "
           f"{op.params['bit_width']});")
      memo[v] = nm
      return nm
    if op.name == "iota":
      d = op.params["dimension"]
      shape = v.aval.shape
      if shape[d] == 1:
        e = "0"
      else:
        a = self.map_to_space(shape, "full")[d]
        j = self.axis_dim[a]
        e = loopvars.get(j, f"i{j}")
      nm = self.mod.fresh("x")
      code(f"{ops.comp(v.aval.dtype)} {nm} = ({ops.comp(v.aval.dtype)})({e});")
      memo[v] = nm
      return nm
    self.warm(code, op, memo, loopvars)
    args = [self.full_val(code, x, memo, loopvars) for x in op.invars]
    self.apply(code, op, args, memo)
    return memo[v]

  def warm(self, code, op, memo, loopvars):
    """Evaluate the operands of `op` that plain ops produce, deepest first, with an explicit
    stack: full_val's recursion would otherwise follow a 2000-op chain 2000 frames deep.
    Same order as the recursion (operands left to right, post-order)."""
    stack = [(op, 0)]
    seen = set()
    while stack:
      o, i = stack.pop()
      if i < len(o.invars):
        stack.append((o, i + 1))
        x = self.resolve(o.invars[i])
        if (type(x) is Literal or x in memo or x in seen or x in self.plan.splats or
            x not in self.is_member or self.k.level[x] == "outer"):
          continue
        sc = getattr(self, "scratch", {}).get(x)
        if sc is not None and (self.k.phase[x] < self.cur_phase or x in self.pre_scratch):
          continue
        seen.add(x)
        px = self.prod[x]
        if px.name in ("pad", "concatenate", "random_bits", "iota"):
          self.full_val(code, x, memo, loopvars)
        else:
          stack.append((px, 0))
      elif o is not op and o.outvars[0] not in memo:
        args = [self.full_val(code, x, memo, loopvars) for x in o.invars]
        self.apply(code, o, args, memo)

  def flat_index(self, loopvars):
    """Row-major flat index of the current element of the iteration space."""
    terms, mult = [], 1
    for j in reversed(range(len(self.dims))):
      terms.append(f"{loopvars.get(j, f'i{j}')} * {mult}")
      mult *= self.dims[j][0]
    return " + ".join(terms) if terms else "0"

  def apply(self, code, op, args, memo):
    ins = [x.aval.dtype for x in op.invars]
    outs = [o.aval.dtype for o in op.outvars]
    e = ops.expr(op.name, op.prim, op.params, ins, outs, args,
                 [x.aval.shape for x in op.invars])
    if op.name == "threefry2x32":
      y0, y1 = self.mod.fresh("x"), self.mod.fresh("x")
      code(f"uint32_t {y0}, {y1}; nj_threefry2x32({', '.join(args)}, &{y0}, &{y1});")
      for ov, y in zip(op.outvars, (y0, y1)):
        memo[ov] = y
      return y0
    if isinstance(e, list):
      raise fu.Unsupported(op.name)
    ov = op.outvars[0]
    if op.name == "alias":
      memo[ov] = args[0]
      return args[0]
    nm = self.mod.fresh("x")
    code(f"{ops.comp(ov.aval.dtype)} {nm} = {e};")
    memo[ov] = nm
    return nm

  def outer_val(self, v):
    """(name, is_array) of an outer value, computing it in the unit scope when first used."""
    v = self.resolve(v)
    if v in self.scope_outer:
      return self.scope_outer[v]
    code = self.pre
    vec = self.vdim is not None
    if vec:
      nm = self.mod.fresh("o")
      code(f"{ops.comp(v.aval.dtype)} {nm}[{self.vb}];")
      code.open("for (int64_t v = v0; v < v1; v++)")
      e = self.outer_expr(code, v, {}, {self.vdim: "v"})
      code(f"{nm}[v - v0] = {e};")
      code.close()
      self.scope_outer[v] = (nm, True)
      return nm, True
    e = self.outer_expr(code, v, {}, {})
    self.scope_outer[v] = (e, False)
    return e, False

  def outer_expr(self, code, v, memo, loopvars):
    """Expression of outer value v inside a loop over the V block (or the unit scope)."""
    v = self.resolve(v)
    if type(v) is Literal:
      return ops.literal(_lit_of(v), v.aval.dtype)
    if v in self.plan.splats:
      return ops.literal(_lit_of(self.plan.splats[v]), v.aval.dtype)
    if v in memo:
      return memo[v]
    if v in self.scope_outer:
      nm, arr = self.scope_outer[v]
      return f"{nm}[v - v0]" if arr else nm
    if v not in self.is_member:
      nm = self.mod.fresh("x")
      code(f"{ops.comp(v.aval.dtype)} {nm} = {self.read_external(v, 'outer', loopvars)};")
      memo[v] = nm
      return nm
    op = self.prod[v]
    if op.name in fu.REDUCTIONS:
      raise AssertionError("reduction value used before its sweep")
    args = [self.outer_expr(code, x, memo, loopvars) for x in op.invars]
    self.apply(code, op, args, memo)
    return memo[v]

  # ---- stores -----------------------------------------------------------------------------
  def streamable(self, stores):
    """Stream the stores of a map sweep when its outputs are large (they will not stay in
    cache) and contiguous along the vector dimension."""
    if not stores or any(isinstance(v, tuple) for v in stores):
      return False
    total = 0
    for v in stores:
      acc = self.acc_out[v]
      if acc.local or acc.strides[self.vdim] != 1:
        return False
      total += math.prod(v.aval.shape) * np.dtype(v.aval.dtype).itemsize
    return total >= STREAM_MIN_BYTES

  def store_full(self, code, v, memo, loopvars):
    val = self.full_val(code, v, memo, loopvars)
    sb = getattr(self, "stream_to", {}).get(v)
    if sb is not None:
      code(f"{sb}[v - vs] = {ops.store(np.dtype(v.aval.dtype), val)};")
      return
    acc = self.acc_out[v]
    if acc.local:
      code(f"*{acc.param} = {ops.store(acc.dtype, val)};")
      return
    a_i = self.accs.index(acc)
    code(f"{acc.param}[{self.offset_expr(acc, loopvars, a_i)}] = {ops.store(acc.dtype, val)};")

  def store_outer(self, code, v):
    acc = self.acc_out[v]
    vec = self.vdim is not None
    if vec:
      code.open("for (int64_t v = v0; v < v1; v++)")
      e = self.outer_expr(code, v, {}, {self.vdim: "v"})
      a_i = self.accs.index(acc)
      code(f"{acc.param}[{self.offset_expr(acc, {self.vdim: 'v'}, a_i)}] = "
           f"{ops.store(acc.dtype, e)};")
      code.close()
      return
    e = self.outer_expr(code, v, {}, {})
    if acc.local:
      code(f"*{acc.param} = {ops.store(acc.dtype, e)};")
    else:
      a_i = self.accs.index(acc)
      code(f"{acc.param}[{self.offset_expr(acc, {}, a_i)}] = {ops.store(acc.dtype, e)};")

  # ---- split row reductions ----------------------------------------------------------------
  def emit_split(self, code, name, units):
    """A single-sweep row kernel over few rows: fixed blocks of the outermost reduced dim
    produce partial results in parallel; they are combined in block order, so the result
    does not depend on the number of threads."""
    k = self.k
    dims = self.dims
    rd = self.rdims
    j0 = rd[0]
    inner = math.prod(dims[j][0] for j in rd[1:])
    n0 = dims[j0][0]
    rb = max(1, SPLIT_BLOCK // max(inner, 1))
    nblk = -(-n0 // rb)
    reds, stores = self.phase_work(0)
    lanes = 16 if any(np.dtype(self.red_dtype(op)).itemsize >= 8 for op in reds) else 32
    parts, extra = [], []
    for op in reds:
      t = self.red_init(op)[1]
      nm = self.mod.fresh("P")
      if op.name in ("argmax", "argmin"):
        extra += [(f"{t} *restrict {nm}v", f"{nm}v"), (f"int64_t *restrict {nm}i", f"{nm}i")]
      else:
        extra.append((f"{t} *restrict {nm}", nm))
      parts.append((op, nm, t))
    body = Code(2)
    body(f"int64_t uu = u / {nblk}, bk = u % {nblk};")
    self.decompose(body, "uu")
    self.scope_outer = {}
    self.pre = body
    accs = {}
    for op, nm, t in parts:
      init = self.red_init(op)[0]
      a = self.mod.fresh("a")
      accs[op] = a
      if op.name in ("argmax", "argmin"):
        body(f"{t} {a}v[{lanes}]; int64_t {a}i[{lanes}];")
        body(f"for (int l = 0; l < {lanes}; l++) {{ {a}v[l] = {init}; {a}i[l] = -1; }}")
      else:
        body(f"{t} {a}[{lanes}];")
        body(f"for (int l = 0; l < {lanes}; l++) {a}[l] = {init};")
        self.declare_nan_flag(body, op, a, lanes)
    lo0 = f"bk * {rb}"
    hi0 = f"(bk * {rb} + {rb} < {n0} ? bk * {rb} + {rb} : {n0})"
    loop = Code(body.ind)
    if len(rd) == 1:
      loop(f"int64_t r{j0} = {lo0}, e{j0} = {hi0};")
      loop.open(f"for (; r{j0} + {lanes} <= e{j0}; r{j0} += {lanes})")
      loop.open(f"for (int l = 0; l < {lanes}; l++)")
      self.emit_body(loop, 0, reds, stores, accs, "l", {j0: f"(r{j0} + l)"})
      loop.close()
      loop.close()
      loop.open(f"for (; r{j0} < e{j0}; r{j0}++)")
      self.emit_body(loop, 0, reds, stores, accs, "0", {j0: f"r{j0}"})
      loop.close()
    else:
      loop.open(f"for (int64_t i{j0} = {lo0}; i{j0} < {hi0}; i{j0}++)")
      for j in rd[1:-1]:
        loop.open(f"for (int64_t i{j} = 0; i{j} < {dims[j][0]}; i{j}++)")
      jl = rd[-1]
      nl = dims[jl][0]
      loop(f"int64_t r{jl} = 0;")
      loop.open(f"for (; r{jl} + {lanes} <= {nl}; r{jl} += {lanes})")
      loop.open(f"for (int l = 0; l < {lanes}; l++)")
      self.emit_body(loop, 0, reds, stores, accs, "l", {jl: f"(r{jl} + l)"})
      loop.close()
      loop.close()
      loop.open(f"for (; r{jl} < {nl}; r{jl}++)")
      self.emit_body(loop, 0, reds, stores, accs, "0", {jl: f"r{jl}"})
      loop.close()
      for _ in rd[1:-1]:
        loop.close()
      loop.close()
    body.extend(loop)
    for op, nm, t in parts:
      a = accs[op]
      body.open("")
      if op.name in ("argmax", "argmin"):
        body(f"{t} rv = {a}v[0]; int64_t ri = {a}i[0];")
        body.open(f"for (int l = 1; l < {lanes}; l++)")
        self.arg_merge(body, op, "rv", "ri", f"{a}v[l]", f"{a}i[l]")
        body.close()
        body(f"{nm}v[u] = rv; {nm}i[u] = ri;")
      else:
        self.combine_lanes(body, op, a, lanes, "s")
        body(f"{nm}[u] = s;")
      body.close()
    sig = ", ".join([d for d, _ in self.params] + [d for d, _ in extra] +
                    ["int64_t lo", "int64_t hi"])
    fn = [f"static void {name}({sig}) {{", "  for (int64_t u = lo; u < hi; u++) {"]
    fn += body.lines + ["  }", "}"]
    self.mod.funcs.append("\n".join(fn))
    # caller: partials, blocks in parallel, combine in block order, epilogue per row
    code.open("")
    for op, nm, t in parts:
      if op.name in ("argmax", "argmin"):
        code(f"{t} *{nm}v = ({t} *)nj_alloc(sizeof({t}) * {units * nblk});")
        code(f"int64_t *{nm}i = (int64_t *)nj_alloc(sizeof(int64_t) * {units * nblk});")
      else:
        code(f"{t} *{nm} = ({t} *)nj_alloc(sizeof({t}) * {units * nblk});")
    fields = [d for d, _ in self.params] + [d for d, _ in extra]
    vals = [c for _, c in self.params] + [c for _, c in extra]
    self.parallel_struct(name, fields)
    code.open("")
    code(f"{name}_ctx c = {{ {self.ctx_init(fields, vals)} }};")
    code(f"nj_parallel({name}_chunk, &c, {units * nblk}, {units * nblk});")
    code.close()
    # the epilogue names the kernel's parameters: bind them to the call expressions
    for decl, call in self.params:
      pname = decl.split()[-1].lstrip("*")
      ct = decl.rsplit(" ", 1)[0].replace("restrict ", "").strip()
      code(f"{ct} {pname} = ({ct})({call});")
    code.open(f"for (int64_t u = 0; u < {units}; u++)")
    self.pre = code
    self.scope_outer = {}
    self.decompose(code)
    for op, nm, t in parts:
      ov = op.outvars[0]
      dt = ov.aval.dtype
      res = self.mod.fresh("o")
      if op.name in ("argmax", "argmin"):
        code(f"{t} {res}v = {nm}v[u * {nblk}]; int64_t {res}i = {nm}i[u * {nblk}];")
        code.open(f"for (int64_t b = 1; b < {nblk}; b++)")
        self.arg_merge(code, op, f"{res}v", f"{res}i", f"{nm}v[u * {nblk} + b]",
                       f"{nm}i[u * {nblk} + b]")
        code.close()
        code(f"{ops.comp(dt)} {res} = ({ops.comp(dt)}){res}i;")
      else:
        _, _, comb = self.red_parts(op)
        code(f"{t} {res} = {nm}[u * {nblk}];")
        code(f"for (int64_t b = 1; b < {nblk}; b++) {res} = "
             f"{comb(res, f'{nm}[u * {nblk} + b]')};")
        if ops.kind(dt) == "h":
          code(f"{res} = {ops.rnd(dt, res)};")
      self.scope_outer[ov] = (res, False)
    for v in k.outputs:
      if k.level[v] == "outer":
        self.store_outer(code, v)
    code.close()
    for op, nm, t in parts:
      code(f"free({nm}v); free({nm}i);" if op.name in ("argmax", "argmin") else f"free({nm});")
    code.close()

  def parallel_struct(self, name, fields):
    names = [f.split()[-1].lstrip("*") for f in fields]
    ctx = f"{name}_ctx"
    done = self.mod.__dict__.setdefault("ctx_structs", set())
    if ctx in done:         # a deduplicated kernel's context and chunk already exist
      return
    done.add(ctx)
    struct = "typedef struct { " + " ".join(f.replace("restrict ", "") + ";" for f in fields) + \
        f" }} {ctx};"
    chunk = (f"static void {name}_chunk(void *c, int64_t lo, int64_t hi) {{ {ctx} *x = ({ctx} *)c; "
             f"{name}({', '.join([f'x->{n}' for n in names] + ['lo', 'hi'])}); }}")
    self.mod.funcs.append(struct + "\n" + chunk)

  @staticmethod
  def ctx_init(fields, vals):
    return ", ".join(f"({f.rsplit(' ', 1)[0].replace('restrict ', '').strip()})({v})"
                     for f, v in zip(fields, vals))


