"""dot_general: the contraction primitive (impl on BLAS via np.matmul, shape rule, jvp,
transposes, batching) and its wrappers lax.dot_general / lax.dot.

Split out of lax.py (which re-exports these names) to keep modules under ~1,500 lines.
"""
from __future__ import annotations

import enum
import math

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.core import Primitive, ShapedArray
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters.ad import Zero
from numjax._src.lax.lax import (_arrays, _bool, _lowp, _out_dtype, _promote_lax_args,
                                 asarray, transpose)


dot_general_p = Primitive("dot_general")
dot_general_p.hidden_params = frozenset({"out_sharding"})
dot_general_p.hidden_if_default = {"precision": None, "preferred_element_type": None}


def _dot_general_shape(lhs_shape, rhs_shape, dimension_numbers):
  try:  # memoised: jnp.dot & co. validate shapes on every eager call
    key = (lhs_shape, rhs_shape, dimension_numbers)
    out = _dot_shapes.get(key)
  except TypeError:
    key = out = None
  if out is None:
    out = _dot_general_shape_checked(lhs_shape, rhs_shape, dimension_numbers)
    if key is not None:
      if len(_dot_shapes) >= 1024:
        _dot_shapes.clear()
      _dot_shapes[key] = out
  return out


_dot_shapes: dict = {}


def _dot_general_shape_checked(lhs_shape, rhs_shape, dimension_numbers):
  (lc, rc), (lb, rb) = dimension_numbers
  for side, shape, c, b in (("lhs", lhs_shape, lc, lb), ("rhs", rhs_shape, rc, rb)):
    if not all(0 <= d < len(shape) for d in (*c, *b)):
      raise TypeError(f"dot_general requires {side} dimension numbers to be nonnegative and "
                      f"less than the number of axes of the {side} value, got {side}_batch of "
                      f"{b} and {side}_contracting of {c} for {side} of rank {len(shape)}")
  if len(lb) != len(rb):
    raise TypeError("dot_general requires equal numbers of lhs_batch and rhs_batch "
                    f"dimensions, got lhs_batch {lb} and rhs_batch {rb}.")
  if len(lc) != len(rc):
    raise TypeError(f"dot_general requires contracting dimensions to have the same shape, "
                    f"got {tuple(lhs_shape[i] for i in lc)} and "
                    f"{tuple(rhs_shape[i] for i in rc)}.")
  for side, c, b in (("lhs", lc, lb), ("rhs", rc, rb)):
    if len(set(b)) != len(b):
      raise TypeError(f"dot_general requires {side} batch dimensions to be distinct, got "
                      f"{side}_batch {b}.")
    if len(set(c)) != len(c):
      raise TypeError(f"dot_general requires {side} contracting dimensions to be distinct, "
                      f"got {side}_contracting {c}.")
    if set(c) & set(b):
      raise TypeError(f"dot_general requires {side} batch dimensions to be disjoint from "
                      f"contracting dimensions, got {side}_batch {b} and {side}_contracting "
                      f"{c}.")
  for a, b in zip(lc, rc):
    if lhs_shape[a] != rhs_shape[b]:
      raise TypeError(f"dot_general requires contracting dimensions to have the same shape, "
                      f"got {tuple(lhs_shape[i] for i in lc)} and {tuple(rhs_shape[i] for i in rc)}.")
  for a, b in zip(lb, rb):
    if lhs_shape[a] != rhs_shape[b]:
      raise TypeError(f"dot_general requires lhs batch dimensions and rhs batch dimensions to "
                      f"have the same shape, got {tuple(lhs_shape[i] for i in lb)} and "
                      f"{tuple(rhs_shape[i] for i in rb)}.")
  batch = tuple(lhs_shape[i] for i in lb)
  lfree = tuple(s for i, s in enumerate(lhs_shape) if i not in lc and i not in lb)
  rfree = tuple(s for i, s in enumerate(rhs_shape) if i not in rc and i not in rb)
  return batch + lfree + rfree


def _dot_general_abstract(lhs, rhs, *, dimension_numbers, precision=None,
                          preferred_element_type=None, out_sharding=None):
  shape = _dot_general_shape(lhs.shape, rhs.shape, dimension_numbers)
  if preferred_element_type is not None:
    dt = np.dtype(preferred_element_type)
  else:
    if lhs.dtype != rhs.dtype:
      raise TypeError(f"dot_general requires operands of the same dtype, got {lhs.dtype} "
                      f"and {rhs.dtype}.")
    dt = lhs.dtype
  return ShapedArray(shape, dt, lhs.weak_type and rhs.weak_type)


def _dot_general_impl(lhs, rhs, *, dimension_numbers, precision=None,
                      preferred_element_type=None, out_sharding=None):
  out_dt = np.dtype(preferred_element_type) if preferred_element_type is not None else lhs.dtype
  compute_dt = out_dt
  if out_dt in _lowp or out_dt == np.float16:
    compute_dt = np.dtype(np.float32)
  elif out_dt == _bool:
    compute_dt = np.dtype(np.int32)
  lhs = lhs.astype(compute_dt, copy=False)
  rhs = rhs.astype(compute_dt, copy=False)
  key = (lhs.shape, rhs.shape, dimension_numbers)
  try:
    plan = _dot_plans.get(key)
  except TypeError:  # dimension numbers given as lists
    key, plan = None, None
  if plan is None:
    plan = _dot_plan(lhs.shape, rhs.shape, dimension_numbers)
    if key is not None:
      if len(_dot_plans) >= 1024:
        _dot_plans.clear()
      _dot_plans[key] = plan
  lperm, rperm, lshape, rshape, shape = plan
  # batch, free, contract  @  batch, contract, free  -> a (batched) matmul on BLAS
  lt = lhs if lperm is None else lhs.transpose(lperm)
  rt = rhs if rperm is None else rhs.transpose(rperm)
  out = np.matmul(lt.reshape(lshape), rt.reshape(rshape)).reshape(shape)
  if out_dt == _bool:
    return out != 0
  return out.astype(out_dt, copy=False)


_dot_plans: dict = {}  # (lhs shape, rhs shape, dimension numbers) -> matmul plan


def _dot_plan(lhs_shape, rhs_shape, dimension_numbers):
  """Transposes and reshapes that turn dot_general into one matmul: (perm of lhs or None,
  perm of rhs or None, lhs matrix shape, rhs matrix shape, result shape). Without batch
  dimensions the matmul is 2-D (a plain GEMM call)."""
  (lc, rc), (lb, rb) = dimension_numbers
  lnd, rnd = len(lhs_shape), len(rhs_shape)
  lfree = [i for i in range(lnd) if i not in lc and i not in lb]
  rfree = [i for i in range(rnd) if i not in rc and i not in rb]
  lperm = tuple(lb) + tuple(lfree) + tuple(lc)
  rperm = tuple(rb) + tuple(rc) + tuple(rfree)
  nb = math.prod(lhs_shape[i] for i in lb)
  m = math.prod(lhs_shape[i] for i in lfree)
  k = math.prod(lhs_shape[i] for i in lc)
  n = math.prod(rhs_shape[i] for i in rfree)
  shape = tuple(lhs_shape[i] for i in lb) + tuple(lhs_shape[i] for i in lfree) + \
      tuple(rhs_shape[i] for i in rfree)
  lmat, rmat = ((nb, m, k), (nb, k, n)) if lb else ((m, k), (k, n))
  return (None if lperm == tuple(range(lnd)) else lperm,
          None if rperm == tuple(range(rnd)) else rperm, lmat, rmat, shape)


def _ranges_like(*xs):
  start = 0
  for x in xs:
    yield tuple(range(start, start + len(x)))
    start += len(x)


def _remaining(original, *removed_lists):
  removed = set(itertools_chain(removed_lists))
  return [i for i in original if i not in removed]


def itertools_chain(lists):
  for l in lists:
    yield from l


def _dot_general_transpose_lhs(g, x, y, *, dimension_numbers, precision=None,
                               preferred_element_type=None, out_sharding=None, swap_ans=False):
  key = (dimension_numbers, x.aval.ndim, core.get_aval(y).ndim, swap_ans)
  plan = _dot_transpose_plans.get(key)
  if plan is None:
    plan = _dot_transpose_plans[key] = _dot_transpose_plan(*key)
  dims, out_axes = plan
  out = dot_general(g, y, dims, precision=precision, preferred_element_type=x.aval.dtype)
  return out if out_axes is None else transpose(out, out_axes)


_dot_transpose_plans: dict = {}  # static dimension arithmetic of the transposes, memoised


def _dot_transpose_plan(dimension_numbers, x_ndim, y_ndim, swap_ans):
  (x_contract, y_contract), (x_batch, y_batch) = dimension_numbers
  x_kept = _remaining(range(x_ndim), x_contract, x_batch)
  y_kept = _remaining(range(y_ndim), y_contract, y_batch)
  if swap_ans:
    ans_batch, ans_y, _ = _ranges_like(x_batch, y_kept, x_kept)
  else:
    ans_batch, _, ans_y = _ranges_like(x_batch, x_kept, y_kept)
  dims = ((ans_y, tuple(y_kept)), (ans_batch, tuple(y_batch)))
  x_contract_sorted_by_y = list(np.take(x_contract, np.argsort(y_contract))) if x_contract else []
  out_axes = tuple(int(a) for a in np.argsort(list(x_batch) + x_kept + x_contract_sorted_by_y))
  return dims, (None if out_axes == tuple(range(len(out_axes))) else out_axes)


def _dot_general_transpose_rhs(g, x, y, *, dimension_numbers, precision=None,
                               preferred_element_type=None, out_sharding=None):
  (x_contract, y_contract), (x_batch, y_batch) = dimension_numbers
  swapped = ((y_contract, x_contract), (y_batch, x_batch))
  return _dot_general_transpose_lhs(g, y, x, dimension_numbers=swapped, precision=precision,
                                    preferred_element_type=preferred_element_type,
                                    swap_ans=True)


def _dot_general_transpose(ct, x, y, **params):
  if type(ct) is Zero:
    return [Zero(x.aval) if ad.is_undefined_primal(x) else None,
            Zero(y.aval) if ad.is_undefined_primal(y) else None]
  if ad.is_undefined_primal(x):
    return [_dot_general_transpose_lhs(ct, x, y, **params), None]
  return [None, _dot_general_transpose_rhs(ct, x, y, **params)]


def _dot_general_jvp_lhs(g, x, y, **params):
  return dot_general_p.bind(g, y, **params)


def _dot_general_jvp_rhs(g, x, y, **params):
  return dot_general_p.bind(x, g, **params)


def _dot_general_batch(vals, dims, *, dimension_numbers, precision=None,
                       preferred_element_type=None, out_sharding=None):
  lhs, rhs = vals
  ld, rd = dims
  (lc, rc), (lb, rb) = dimension_numbers
  lnd = core.get_aval(lhs).ndim
  rnd = core.get_aval(rhs).ndim
  def shift(dims_, bd):
    return tuple(d + (d >= bd) for d in dims_)
  if ld is not None and rd is not None:
    # both batched: the vmapped axis becomes a new leading batch dimension
    lhs = batching.moveaxis(lhs, ld, 0)
    rhs = batching.moveaxis(rhs, rd, 0)
    dn = ((shift(lc, 0), shift(rc, 0)), ((0,) + shift(lb, 0), (0,) + shift(rb, 0)))
    out = dot_general_p.bind(lhs, rhs, dimension_numbers=dn, precision=precision,
                             preferred_element_type=preferred_element_type,
                             out_sharding=out_sharding)
    return out, 0
  if ld is not None:
    lc2, lb2 = shift(lc, ld), shift(lb, ld)
    dn = ((lc2, rc), (lb2, rb))
    out = dot_general_p.bind(lhs, rhs, dimension_numbers=dn, precision=precision,
                             preferred_element_type=preferred_element_type,
                             out_sharding=out_sharding)
    # position of the vmapped axis among lhs free dims
    lfree = [i for i in range(lnd) if i not in lc2 and i not in lb2]
    return out, len(lb) + lfree.index(ld)
  rc2, rb2 = shift(rc, rd), shift(rb, rd)
  dn = ((lc, rc2), (lb, rb2))
  out = dot_general_p.bind(lhs, rhs, dimension_numbers=dn, precision=precision,
                           preferred_element_type=preferred_element_type,
                           out_sharding=out_sharding)
  lfree_n = lnd - len(lc) - len(lb)
  rfree = [i for i in range(rnd) if i not in rc2 and i not in rb2]
  return out, len(lb) + lfree_n + rfree.index(rd)


dot_general_p.impl = _dot_general_impl
dot_general_p.native_template = {"kind": "call", "fn": "blas"}  # stays on BLAS between kernels
dot_general_p.abstract_eval = _dot_general_abstract
core.def_eager_checked_on_error(dot_general_p)  # bad operands make the matmul plan fail
ad.defjvp(dot_general_p, _dot_general_jvp_lhs, _dot_general_jvp_rhs)
ad.primitive_transposes[dot_general_p] = _dot_general_transpose
batching.primitive_batchers[dot_general_p] = _dot_general_batch


class DotDimensionNumbers(tuple):
  """((lhs_contract, rhs_contract), (lhs_batch, rhs_batch)); prints as JAX prints it."""
  __slots__ = ()

  def _pp_param(self):
    (lc, rc), (lb, rb) = self
    return f"(({list(lc)}, {list(rc)}), ({list(lb)}, {list(rb)}))"


class Precision(enum.Enum):
  DEFAULT = 0
  HIGH = 1
  HIGHEST = 2

  def __str__(self):
    return self.name


_dot_dnums_cache: dict = {}  # caller's dimension_numbers -> normalised DotDimensionNumbers


def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None,
                out_sharding=None):
  """lax.dot_general: contraction over dimension_numbers ((lc, rc), (lb, rb))."""
  if not (isinstance(lhs, _arrays) and isinstance(rhs, _arrays)):
    lhs, rhs = _promote_lax_args((lhs, rhs))
  try:
    dn = _dot_dnums_cache.get(dimension_numbers)
  except TypeError:  # lists: unhashable
    dn = None
  if dn is None:
    (lc, rc), (lb, rb) = dimension_numbers
    dn = DotDimensionNumbers(((tuple(int(i) for i in lc), tuple(int(i) for i in rc)),
                              (tuple(int(i) for i in lb), tuple(int(i) for i in rb))))
    try:
      if len(_dot_dnums_cache) < 1024:
        _dot_dnums_cache[dimension_numbers] = dn
    except TypeError:
      pass
  pet = None if preferred_element_type is None else _dtypes.canonicalize_dtype(
      preferred_element_type)
  if pet is not None and (lhs.dtype != pet or rhs.dtype != pet):
    _check_dot_preferred(lhs.dtype, rhs.dtype, pet)
  return dot_general_p.bind(lhs, rhs, dimension_numbers=dn, precision=precision,
                            preferred_element_type=pet, out_sharding=out_sharding)


def _dot_bit_width(dt):
  if dt == _bool:
    return 1
  if _dtypes.issubdtype(dt, np.inexact):
    return _dtypes.finfo(dt).bits
  return _dtypes.iinfo(dt).bits


def _check_dot_preferred(ldt, rdt, pet):
  """As XLA (and JAX): an integer accumulation type may not be narrower than the inputs'
  wider type (e.g. int8 x int32 with preferred_element_type=int8)."""
  def props(dt):
    c = _out_dtype("real", dt)
    floating = _dtypes.issubdtype(c, np.floating)
    return (_dtypes.issubdtype(dt, np.complexfloating),
            _dtypes.finfo(c).maxexp if floating else -1,
            _dtypes.finfo(c).nmant if floating else -1, _dot_bit_width(c),
            not _dtypes.issubdtype(c, np.unsignedinteger))
  res = ldt if props(ldt) >= props(rdt) else rdt
  if res != pet and not _dtypes.issubdtype(res, np.floating) and \
      _dot_bit_width(pet) < _dot_bit_width(res):
    raise TypeError("`preferred_element_type` must not be narrower than the original type, "
                    f"got preferred_element_type of {pet} for result type of {res}.")


def dot(lhs, rhs, precision=None, preferred_element_type=None, out_sharding=None, *,
        dimension_numbers=None):
  """lax.dot: vector/matrix products (or a general contraction with dimension_numbers)."""
  lhs, rhs = asarray(lhs), asarray(rhs)
  if dimension_numbers is not None:
    return dot_general(lhs, rhs, dimension_numbers, precision, preferred_element_type)
  if 1 <= lhs.ndim <= 2 and 1 <= rhs.ndim <= 2 and lhs.shape[-1] == rhs.shape[0]:
    dn = (([lhs.ndim - 1], [0]), ([], []))
    return dot_general(lhs, rhs, dn, precision, preferred_element_type)
  raise ValueError("jax.lax.dot: dimension_numbers must be specified when not performing "
                   "simple un-batched matrix-matrix, matrix-vector, or vector-vector products; "
                   f"got lhs_shape={lhs.shape} rhs_shape={rhs.shape}")
