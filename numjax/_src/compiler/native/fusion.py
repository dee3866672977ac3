"""Partition an optimised jaxpr into native steps.

    plan = partition(jaxpr)      # plan.steps: Kernel | Host | Dot | Loop | Cond | Dus

A `Kernel` is one fused loop nest over an iteration space X (a shape). Its members are
scalar operations evaluated per element; values are *full* (one per element of X) or, in a
reduction kernel, *outer* (one per element of X with the reduced axes `red` removed). A
kernel runs in phases: phase p is one sweep over the reduced axes; a reduction of a full
value computed in phase p gives an outer value available from phase p + 1 (so a row softmax
-- max, exp, sum, divide -- is one kernel of three sweeps over each row, which stays in
cache). Full values needed in a later phase are recomputed there (no scratch memory).

Fused into kernels: elementwise primitives (anything whose `native_template` codegen
accepts for the dtypes), converts, selects, clamp, integer_pow, iota, random bits and
threefry, concatenate and pad (guarded index maps), and the monoid reductions and
argmax/argmin with their producers. Broadcasts, reshapes, transposes, static slices,
reversals and dynamic slices (runtime offsets, clamped as XLA does) of materialised values
are *views*: affine index maps, no copy. A broadcast of a kernel's outer value back over
the reduced axes (the `keepdims` pattern) stays inside the kernel. Everything else is
materialised and read through a view.

`Host` steps run a primitive's NumPy implementation between native segments (sort, fft,
linalg, conv, ...). Gather, scatters and the cumulative reductions are native steps of
their own (indexing.py: Gather | Scatter | Cumulative), top level and in loop bodies.
`Dot` is dot_general on the runtime's GEMM (float32/float64; generated loops for other
dtypes inside loop bodies). `Dus` is dynamic_update_slice in a loop body. `Loop`/`Cond` are
while/scan/fori/cond whose bodies (after the compiler's passes) plan fully native: they
compile to C loops and switches.

Shapes compare modulo unit dimensions: a (4, 1) value and a (4,) value are the same data.
"""
from __future__ import annotations

import math

import numpy as np

from numjax._src.core import DropVar, Jaxpr, Literal, Var
from numjax._src.compiler.native import codegen_ops as ops

REDUCTIONS = {"reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "reduce_and",
              "reduce_or", "reduce_xor", "argmax", "argmin"}
VIEWS = {"broadcast_in_dim", "reshape", "transpose", "slice", "rev"}
IDENTITIES = {"stop_gradient", "copy", "optimization_barrier_1", "name"}
SPLIT_MIN = 1 << 15        # a reduction sweep this long over few rows splits across threads


class Unsupported(Exception):
  pass


def nu(shape) -> tuple:
  """A shape without its unit dimensions."""
  return tuple(d for d in shape if d != 1)


def contiguous_strides(shape) -> tuple:
  st, acc = [], 1
  for d in reversed(shape):
    st.append(acc)
    acc *= d
  return tuple(reversed(st))


class Op:
  """One scalar operation of a kernel (a jaxpr equation, or an alias/copy made here)."""
  __slots__ = ("name", "prim", "params", "invars", "outvars")

  def __init__(self, name, prim, params, invars, outvars):
    self.name, self.prim, self.params = name, prim, params
    self.invars, self.outvars = list(invars), list(outvars)

  @classmethod
  def of(cls, eqn):
    return cls(eqn.primitive.name, eqn.primitive, eqn.params, eqn.invars, eqn.outvars)

  def __repr__(self):
    return f"Op({self.name})"


class View:
  """An affine view of a materialised value `base`: element (i0, ..) of the view is
  base_flat[offset + sum(i_d * strides[d])]. `offset` may hold C text (runtime offsets of
  dynamic slices: terms of (coefficient, var, clamp_hi))."""
  __slots__ = ("base", "offset", "shape", "strides", "dyn", "chain")

  def __init__(self, base, offset, shape, strides, dyn=(), chain=()):
    self.base, self.offset = base, offset
    self.shape, self.strides = tuple(shape), tuple(strides)
    self.dyn = tuple(dyn)          # ((stride, index_var, max_start), ...) runtime offset terms
    self.chain = tuple(chain)      # the view equations from `base`, to replay in Python

  def is_contiguous(self):
    return (not self.dyn and self.offset == 0
            and all(s == c for s, c, d in zip(self.strides, contiguous_strides(self.shape),
                                              self.shape) if d != 1))


class Kernel:
  def __init__(self, idx, space):
    self.idx = idx
    self.space = tuple(space)
    self.red = ()              # reduced axes of `space` (never unit axes)
    self.ops: list[Op] = []
    self.level: dict = {}      # var -> "full" | "outer"
    self.phase: dict = {}      # full var -> phase computed; outer var -> phase available
    self.outputs: list = []    # member vars stored to buffers
    self.nphases = 1

  @property
  def kept(self):
    return tuple(d for i, d in enumerate(self.space) if i not in self.red)

  def __repr__(self):
    return (f"Kernel#{self.idx}(space={self.space}, red={self.red}, "
            f"ops={[o.name for o in self.ops]}, out={len(self.outputs)})")


class Host:
  def __init__(self, idx, eqn):
    self.idx, self.eqn = idx, eqn

  def __repr__(self):
    return f"Host#{self.idx}({self.eqn.primitive.name})"


class Dot:
  def __init__(self, idx, eqn):
    self.idx, self.eqn = idx, eqn

  def __repr__(self):
    return f"Dot#{self.idx}"


class Dus:
  """dynamic_update_slice (copy the operand, write the window at a clamped start) or a
  one-window scatter (set/add/... at one index vector; out-of-bounds windows dropped or
  clamped by the mode), in loop bodies."""
  def __init__(self, idx, eqn):
    self.idx, self.eqn = idx, eqn


class Loop:
  def __init__(self, idx, eqn, kind, plans):
    self.idx, self.eqn, self.kind, self.plans = idx, eqn, kind, plans

  def __repr__(self):
    return f"Loop#{self.idx}({self.kind})"


class Cond:
  def __init__(self, idx, eqn, plans):
    self.idx, self.eqn, self.plans = idx, eqn, plans


class Plan:
  def __init__(self, jaxpr):
    self.jaxpr = jaxpr
    self.steps: list = []
    self.views: dict = {}       # var -> View
    self.splats: dict = {}      # var -> Literal (a broadcast scalar constant)
    self.aliases: dict = {}     # var -> var (same data, e.g. identity ops)
    self.member: dict = {}      # var -> Kernel that computes it
    self.made_at: dict = {}     # materialised var -> index of the step producing it
    self.py_needed: set = set() # vars the Python driver touches (host operands, outputs)

  def __repr__(self):
    return "Plan(" + ", ".join(map(repr, self.steps)) + ")"


# ---------------------------------------------------------------------------------------

def _is_var(v):
  return type(v) is Var


def _view_of_view(v: View, eqn) -> View | None:
  """Compose a view equation onto view v (None if not affine)."""
  name, p = eqn.primitive.name, eqn.params
  out_shape = eqn.outvars[0].aval.shape
  chain = v.chain + (eqn,)
  if name == "broadcast_in_dim":
    dims = p["broadcast_dimensions"]
    st = [0] * len(out_shape)
    for j, d in enumerate(dims):
      st[d] = v.strides[j] if v.shape[j] == out_shape[d] else 0
    return View(v.base, v.offset, out_shape, st, v.dyn, chain)
  if name == "transpose":
    perm = p["permutation"]
    return View(v.base, v.offset, out_shape, [v.strides[i] for i in perm], v.dyn, chain)
  if name == "reshape":
    shape, strides = v.shape, v.strides
    if p.get("dimensions") is not None:
      perm = p["dimensions"]
      shape = tuple(shape[i] for i in perm)
      strides = tuple(strides[i] for i in perm)
    st = reshape_strides(shape, strides, out_shape)
    if st is None:
      return None
    return View(v.base, v.offset, out_shape, st, v.dyn, chain)
  if name == "slice":
    starts, steps = p["start_indices"], p["strides"] or (1,) * len(v.shape)
    off = v.offset + sum(s * k for s, k in zip(starts, v.strides))
    return View(v.base, off, out_shape, [k * s for k, s in zip(v.strides, steps)], v.dyn,
                chain)
  if name == "rev":
    off, st = v.offset, list(v.strides)
    for d in p["dimensions"]:
      if v.shape[d] > 0:
        off += (v.shape[d] - 1) * st[d]
      st[d] = -st[d]
    return View(v.base, off, out_shape, st, v.dyn, chain)
  return None


def reshape_strides(shape, strides, new_shape):
  """Strides of a reshape of a strided view, or None when it would need a copy."""
  if 0 in shape or 0 in new_shape:
    return None
  old = [(s, st) for s, st in zip(shape, strides) if s != 1]
  new_nu = [n for n in new_shape if n != 1]
  res = [0] * len(new_nu)
  i = j = 0
  while i < len(old) and j < len(new_nu):
    np_, op = new_nu[j], old[i][0]
    ni, oi = [j], [i]
    while np_ != op:
      if np_ < op:
        j += 1
        np_ *= new_nu[j]
        ni.append(j)
      else:
        i += 1
        op *= old[i][0]
        oi.append(i)
    for k in oi[:-1]:
      if old[k][1] != old[k + 1][1] * old[k + 1][0]:
        return None
    st = old[oi[-1]][1]
    for jj in reversed(ni):
      res[jj] = st
      st *= new_nu[jj]
    i += 1
    j += 1
  out, it = [], iter(res)
  for n in new_shape:
    out.append(0 if n == 1 else next(it))
  return tuple(out)


def _map_nonunit(src_shape, dst_shape):
  """src dim -> dst dim pairing the non-unit dimensions in order (same nu shapes)."""
  s = [i for i, d in enumerate(src_shape) if d != 1]
  t = [i for i, d in enumerate(dst_shape) if d != 1]
  return dict(zip(s, t))


class Partitioner:
  def __init__(self, jaxpr: Jaxpr, in_loop: bool):
    self.jaxpr = jaxpr
    self.in_loop = in_loop
    self.plan = Plan(jaxpr)
    for v in list(jaxpr.invars) + list(jaxpr.constvars):
      self.plan.made_at[v] = -1

  # ---- helpers -------------------------------------------------------------------------
  def resolve(self, v):
    while _is_var(v) and v in self.plan.aliases:
      v = self.plan.aliases[v]
    return v

  def is_splat(self, v):
    return type(v) is Literal or v in self.plan.splats

  def materialize(self, v):
    """Make v live in a buffer (a member becomes an output of its kernel)."""
    v = self.resolve(v)
    if not _is_var(v) or v in self.plan.made_at or v in self.plan.views or \
        v in self.plan.splats:
      return
    k = self.plan.member.get(v)
    if k is None:
      raise AssertionError(f"unknown value {v}")
    if v not in k.outputs:
      k.outputs.append(v)
    self.plan.made_at[v] = k.idx

  def avail_step(self, v):
    """The step index after which external value v can be read (-1: always)."""
    v = self.resolve(v)
    if type(v) is Literal or v in self.plan.splats:
      return -1
    if v in self.plan.views:
      view = self.plan.views[v]
      s = self.avail_step(view.base)
      for _, iv, _ in view.dyn:
        s = max(s, self.avail_step(iv))
      return s
    return self.plan.made_at[v]

  def add_step(self, step):
    self.plan.steps.append(step)
    return step

  def new_kernel(self, space):
    return self.add_step(Kernel(len(self.plan.steps), space))

  def host_operands(self, eqn):
    for v in eqn.invars:
      if _is_var(v):
        self.need_external(v)

  def need_external(self, v):
    v = self.resolve(v)
    if not _is_var(v):
      return
    if v in self.plan.views:
      self.need_external(self.plan.views[v].base)
      for _, iv, _ in self.plan.views[v].dyn:
        self.need_external(iv)
      return
    if v in self.plan.splats:
      return
    self.materialize(v)

  # ---- main loop -----------------------------------------------------------------------
  def run(self):
    for eqn in self.jaxpr.eqns:
      self.place(eqn)
    for v in self.jaxpr.outvars:
      if _is_var(v):
        self.need_external(v)
    return self.plan

  def place(self, eqn):
    name = eqn.primitive.name
    if name in IDENTITIES and len(eqn.invars) == 1 and len(eqn.outvars) == 1 and \
        eqn.invars[0].aval.shape == eqn.outvars[0].aval.shape and \
        eqn.invars[0].aval.dtype == eqn.outvars[0].aval.dtype:
      x = eqn.invars[0]
      if type(x) is Literal:
        self.plan.splats[eqn.outvars[0]] = x
      else:
        self.plan.aliases[eqn.outvars[0]] = self.resolve(x)
      return
    if name in VIEWS:
      if self.place_view(eqn):
        return
    if name == "dynamic_slice" and self.place_dynamic_slice(eqn):
      return
    if name in REDUCTIONS and self.place_reduction(eqn):
      return
    if ops.is_elementwise(eqn) and self.place_elementwise(eqn):
      return
    if name in ("concatenate", "pad") and self.place_concat(eqn):
      return
    if name == "dot_general" and ops.dot_supported(eqn):
      self.host_operands(eqn)
      native = self.in_loop or self.gemm_ok(eqn)
      if not native:
        for v in eqn.invars:
          if _is_var(v):
            self.plan.py_needed.add(self.resolve(v))
      st = self.add_step(Dot(len(self.plan.steps), eqn) if native
                         else Host(len(self.plan.steps), eqn))
      self.mark_made(eqn, st)
      return
    if name == "gather" or name in ops.SCATTER_COMBINE or name.startswith("cum"):
      from numjax._src.compiler.native import indexing   # Gather | Scatter | Cumulative
      if indexing.handles(name) and indexing.place(self, eqn):
        return
    if self.in_loop and ((name == "dynamic_update_slice" and ops.dus_supported(eqn)) or
                         ops.scatter_supported(eqn)):
      self.host_operands(eqn)
      self.mark_made(eqn, self.add_step(Dus(len(self.plan.steps), eqn)))
      return
    if name in ("while", "scan", "cond"):
      st = self.place_control(eqn)
      if st is not None:
        return
    if self.in_loop:
      raise Unsupported(f"{name} in a native loop body")
    self.host_operands(eqn)
    for v in eqn.invars:
      if _is_var(v):
        self.plan.py_needed.add(self.resolve(v))
    self.mark_made(eqn, self.add_step(Host(len(self.plan.steps), eqn)))

  def gemm_ok(self, eqn):
    """A top-level dot_general runs natively when it is a float GEMM over its operands'
    views (the runtime's GEMM beats a BLAS call from Python at these sizes)."""
    from numjax._src.compiler.native.codegen import gemm_dims
    strides = []
    for v in eqn.invars:
      v = self.resolve(v)
      if type(v) is Literal or v in self.plan.splats:
        return False
      view = self.plan.views.get(v)
      if view is not None and view.dyn:
        return False
      strides.append(view.strides if view is not None else contiguous_strides(v.aval.shape))
    return gemm_dims(eqn, *strides) is not None

  def mark_made(self, eqn, step):
    for v in eqn.outvars:
      if type(v) is not DropVar:
        self.plan.made_at[v] = step.idx

  # ---- views -----------------------------------------------------------------------------
  def place_view(self, eqn) -> bool:
    x = self.resolve(eqn.invars[0])
    out = eqn.outvars[0]
    if self.is_splat(x):
      if eqn.primitive.name in ("broadcast_in_dim", "reshape", "transpose", "slice", "rev"):
        self.plan.splats[out] = x if type(x) is Literal else self.plan.splats[x]
        return True
      return False
    k = self.plan.member.get(x)
    if k is not None and self.member_view(eqn, x, k):
      return True
    if k is not None:
      self.materialize(x)
    base_view = self.plan.views.get(x)
    if base_view is None:
      if x not in self.plan.made_at:
        return False
      base_view = View(x, 0, x.aval.shape, contiguous_strides(x.aval.shape))
    v = _view_of_view(base_view, eqn)
    if v is None:
      return False
    self.plan.views[out] = v
    return True

  def member_view(self, eqn, x, k: Kernel) -> bool:
    """A view op on a kernel member that keeps it inside the kernel (alias), if any."""
    name = eqn.primitive.name
    out = eqn.outvars[0]
    ishape, oshape = x.aval.shape, out.aval.shape
    lvl = k.level[x]
    if name in ("reshape", "broadcast_in_dim") and nu(ishape) == nu(oshape) and \
        math.prod(ishape) == math.prod(oshape):
      if name == "broadcast_in_dim" and not self._bcast_keeps_order(eqn):
        return False
      if name == "reshape" and eqn.params.get("dimensions") is not None:
        return False
      self.add_member(k, Op("alias", None, {}, [x], [out]), lvl, k.phase[x])
      return True
    if name == "broadcast_in_dim" and lvl == "outer" and k.red and \
        nu(oshape) == nu(k.space):
      # keepdims pattern: x's non-unit dims must land on the kept axes, in order
      o2x = _map_nonunit(oshape, k.space)
      kept_nu = [a for a in range(len(k.space)) if a not in k.red and k.space[a] != 1]
      dims = eqn.params["broadcast_dimensions"]
      land = [o2x.get(dims[j]) for j, d in enumerate(ishape) if d != 1]
      if land == kept_nu:
        if self.split_worthy(k):
          return False
        self.add_member(k, Op("alias", None, {}, [x], [out]), "full", k.phase[x])
        return True
    return False

  def _bcast_keeps_order(self, eqn):
    dims = eqn.params["broadcast_dimensions"]
    ishape = eqn.invars[0].aval.shape
    nz = [dims[j] for j, d in enumerate(ishape) if d != 1]
    return nz == sorted(nz)

  def split_worthy(self, k: Kernel):
    """Few rows and long sweeps: better split at the phase boundary (the reduction runs
    across threads, the rest as a parallel map) than run rows serially."""
    rows = math.prod(k.kept)
    sweep = math.prod(k.space[a] for a in k.red)
    return rows < 64 and sweep >= SPLIT_MIN

  def place_dynamic_slice(self, eqn) -> bool:
    x = self.resolve(eqn.invars[0])
    idx = [self.resolve(i) for i in eqn.invars[1:]]
    if not all(i.aval.shape == () and np.dtype(i.aval.dtype).kind in "iu" for i in idx):
      return False
    if x in self.plan.member:
      self.materialize(x)
    base_view = self.plan.views.get(x)
    if base_view is None:
      if x not in self.plan.made_at:
        return False
      base_view = View(x, 0, x.aval.shape, contiguous_strides(x.aval.shape))
    sizes = eqn.params["slice_sizes"]
    dyn = list(base_view.dyn)
    for d, (i, s) in enumerate(zip(idx, sizes)):
      hi = base_view.shape[d] - s
      if type(i) is Literal:
        start = int(np.clip(int(np.asarray(i.val._value if hasattr(i.val, "_value")
                                           else i.val)), 0, hi))
        base_view = View(base_view.base, base_view.offset + start * base_view.strides[d],
                         base_view.shape, base_view.strides, dyn, base_view.chain)
        continue
      if i in self.plan.member:
        self.materialize(i)
      if i in self.plan.views or i in self.plan.splats:
        return False
      dyn.append((base_view.strides[d], i, hi))
    self.plan.views[eqn.outvars[0]] = View(base_view.base, base_view.offset,
                                           eqn.outvars[0].aval.shape, base_view.strides, dyn,
                                           base_view.chain + (eqn,))
    return True

  # ---- kernel membership -----------------------------------------------------------------
  def add_member(self, k: Kernel, op: Op, level, phase):
    k.ops.append(op)
    for v in op.outvars:
      if type(v) is DropVar:
        continue
      k.level[v] = level
      k.phase[v] = phase
      self.plan.member[v] = k
    if level == "full":
      k.nphases = max(k.nphases, phase + 1)

  def external_ok(self, v, k: Kernel, level) -> bool:
    """Can kernel k read external value v at this level?"""
    v = self.resolve(v)
    if self.is_splat(v):
      return True
    if self.avail_step(v) >= k.idx:
      return False
    shape = v.aval.shape
    if not nu(shape):
      return True
    target = k.space if level == "full" else k.kept
    return nu(shape) == nu(target)

  def operand_info(self, eqn):
    """(member operands by kernel, external operands)"""
    mem, ext = {}, []
    for v in eqn.invars:
      r = self.resolve(v)
      k = self.plan.member.get(r) if _is_var(r) else None
      if k is not None and r not in self.plan.made_at:
        mem.setdefault(k, []).append(r)
      elif k is not None:
        mem.setdefault(k, []).append(r)
      else:
        ext.append(r)
    return mem, ext

  def place_concat(self, eqn) -> bool:
    """concatenate and pad as index maps: each element reads the operand whose range holds
    its index along the axis (pad: the operand's element, if the index lands on one, else
    the padding value). Operands are materialised values or constants."""
    if not all(ops.known(v.aval.dtype) for v in eqn.invars):
      return False
    ext = []
    for v in eqn.invars:
      r = self.resolve(v)
      if _is_var(r) and r in self.plan.views and self.plan.views[r].dyn:
        return False
      if _is_var(r) and r in self.plan.member:
        self.materialize(r)
      ext.append(r)
    shape = eqn.outvars[0].aval.shape
    k = None
    need = max([self.avail_step(v) for v in ext if _is_var(v)] + [-1])
    last = self.plan.steps[-1] if self.plan.steps else None
    if type(last) is Kernel and last.idx > need and not last.red and \
        nu(last.space) == nu(shape) and math.prod(last.space) == math.prod(shape):
      k = last
    if k is None:
      k = self.new_kernel(shape)
    self.add_member(k, Op.of(eqn), "full", 0)
    return True

  def place_elementwise(self, eqn) -> bool:
    if not ops.supported(eqn):
      return False
    if eqn.primitive.name == "random_bits":
      key = self.resolve(eqn.invars[0])
      if self.is_splat(key) or key in self.plan.views:
        return False
      if key in self.plan.member:
        self.materialize(key)     # read whole (two words) by the kernel
    out = eqn.outvars[0]
    shape = out.aval.shape
    mem, ext = self.operand_info(eqn)
    cand = max(mem, key=lambda k: k.idx) if mem else None
    if cand is not None:
      lvl = self.level_for(cand, shape)
      ok = lvl is not None and all(cand.level[v] == lvl for v in mem[cand])
      if ok and lvl == "full":
        ph = self.phase_of(cand, mem[cand])
        if ph > 0 and self.split_worthy(cand):
          ok = False
      if ok:
        others = [v for k, vs in mem.items() if k is not cand for v in vs]
        for v in others:
          self.materialize(v)
        if all(self.external_ok(v, cand, lvl) for v in ext + others):
          ph = self.phase_of(cand, mem[cand])
          self.add_member(cand, Op.of(eqn), lvl, ph)
          return True
      for vs in mem.values():
        for v in vs:
          self.materialize(v)
      ext = [self.resolve(v) for v in eqn.invars]
    # no member operands (or they could not be joined): an existing map kernel, else new
    k = self.find_kernel(shape, ext)
    if k is None:
      k = self.new_kernel(shape)
    self.add_member(k, Op.of(eqn), "full", 0)
    return True

  def level_for(self, k: Kernel, shape):
    if nu(shape) == nu(k.space) and math.prod(shape) == math.prod(k.space):
      return "full"
    if k.red and nu(shape) == nu(k.kept):
      return "outer"
    return None

  def phase_of(self, k: Kernel, members):
    ph = 0
    for v in members:
      ph = max(ph, k.phase[v])
    return ph

  def find_kernel(self, shape, ext, red=None):
    """The latest kernel (after every producer of `ext`) a new value can join."""
    need = max([self.avail_step(v) for v in ext if _is_var(v)] + [-1])
    for st in reversed(self.plan.steps[-4:]):
      if st.idx <= need:
        break
      if type(st) is not Kernel:
        continue
      if red is None:
        if st.red or nu(st.space) != nu(shape) or math.prod(st.space) != math.prod(shape):
          continue
        if all(self.external_ok(v, st, "full") for v in ext):
          return st
      else:
        if st.space == shape and st.red == red and st.nphases == 1 and \
            all(self.external_ok(v, st, "full") for v in ext):
          return st
    return None

  def place_reduction(self, eqn) -> bool:
    if not ops.reduction_supported(eqn):
      return False
    x = self.resolve(eqn.invars[0])
    if self.is_splat(x):
      return False
    axes = tuple(eqn.params["axes"])
    xs = x.aval.shape
    red_nu = tuple(a for a in axes if xs[a] != 1)
    if not red_nu:
      return False
    k = self.plan.member.get(x)
    if k is not None and k.level.get(x) == "full":
      m = _map_nonunit(xs, k.space)
      red = tuple(sorted(m[a] for a in red_nu))
      ok = False
      if not k.red and k.nphases == 1 and all(l == "full" for l in k.level.values()):
        k.red = red
        ok = True
      elif k.red == red:
        ok = True
      if ok:
        self.add_member(k, Op.of(eqn), "outer", k.phase[x] + 1)
        return True
      self.materialize(x)
    elif k is not None:
      self.materialize(x)
    space = x.aval.shape
    red = tuple(sorted(red_nu))
    k2 = self.find_kernel(space, [x], red=red)
    if k2 is None:
      k2 = self.new_kernel(space)
      k2.red = red
    self.add_member(k2, Op.of(eqn), "outer", 1)
    k2.nphases = max(k2.nphases, 1)
    return True

  # ---- control flow ------------------------------------------------------------------------
  def place_control(self, eqn):
    name = eqn.primitive.name
    p = eqn.params
    try:
      if name == "while":
        if p["cond_jaxpr"].out_avals[0].shape != ():
          return None   # a batched predicate
        plans = (partition_body(p["cond_jaxpr"]), partition_body(p["body_jaxpr"]))
        kind = "while"
      elif name == "scan":
        plans = (partition_body(p["jaxpr"]),)
        kind = "scan"
      else:
        plans = tuple(partition_body(b) for b in p["branches"])
        kind = "cond"
    except Unsupported:
      return None
    for v in eqn.invars:
      if _is_var(v):
        self.need_external(v)
    idx = len(self.plan.steps)
    st = Cond(idx, eqn, plans) if kind == "cond" else Loop(idx, eqn, kind, plans)
    self.add_step(st)
    self.mark_made(eqn, st)
    return st


def partition(jaxpr: Jaxpr, in_loop=False) -> Plan:
  """Plan `jaxpr` (raises Unsupported inside loop bodies when a step cannot be native)."""
  return Partitioner(jaxpr, in_loop).run()


def partition_body(closed) -> Plan:
  """Plan a loop body or branch, after the compiler's passes (the top-level pipeline does
  not descend into sub-jaxprs): `plan.consts` are its constants."""
  from numjax._src.compiler import passes
  jaxpr, consts = passes.optimize(closed)
  plan = partition(jaxpr, in_loop=True)
  plan.consts = list(consts)
  return plan
