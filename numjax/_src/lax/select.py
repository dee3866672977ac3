"""lax.select_n / lax.select: cases[which] elementwise -- the primitive, its impl (a
branch-free bit select for large boolean selects), shape rule, jvp/transpose, batching rule
and native template. (Split out of lax.py, which re-exports these names.)"""
from __future__ import annotations

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.core import Primitive, ShapedArray
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters.ad import Zero
from numjax._src.lax.lax import (_bool, _promote_lax_args, asarray, broadcast_in_dim,
                                 full_like, max)


select_n_p = Primitive("select_n")
select_n_p.elementwise = True
select_n_p.native_template = "nj_select({which}, {cases})"


_UINT_OF_SIZE = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _bit_select(which, f, t):
  """which ? t : f by bit masks. np.where branches per element: with an unpredictable mask
  (a relu's gradient) it took 3.1 ms on 800k float32 against 0.4 ms for these six passes.
  Bits are copied exactly (NaN payloads, -0.0)."""
  shape = np.broadcast_shapes(which.shape, f.shape, t.shape)
  ut = _UINT_OF_SIZE[t.dtype.itemsize]
  mask = np.broadcast_to(which, shape).view(np.uint8).astype(ut)
  np.negative(mask, out=mask)                    # 1 -> all ones
  tb = np.broadcast_to(t, shape).view(ut)
  fb = np.broadcast_to(f, shape).view(ut)
  out = np.bitwise_and(tb, mask)
  np.invert(mask, out=mask)
  np.bitwise_and(fb, mask, out=mask)
  np.bitwise_or(out, mask, out=out)
  return out.view(t.dtype)


def _select_n_impl(which, *cases):
  if len(cases) == 1:
    return cases[0]
  if which.dtype == _bool:
    f, t = cases
    if (which.size >= 4096 and f.dtype == t.dtype and f.dtype.itemsize in _UINT_OF_SIZE
        and f.dtype.kind in "fiub" and which.ndim >= max(f.ndim, t.ndim)):
      return _bit_select(which, np.asarray(f), np.asarray(t))
    return np.where(which, cases[1], cases[0])
  return np.choose(which, cases, mode="clip") if which.ndim else cases[int(np.clip(which, 0, len(cases) - 1))].copy()


def _select_n_abstract(which, *cases):
  if not cases:
    raise ValueError("select_n() must have at least one case")
  if any(c.shape != cases[0].shape for c in cases):
    raise TypeError(f"select cases must have the same shapes, got {[c.shape for c in cases]}.")
  if any(c.dtype != cases[0].dtype for c in cases):
    raise TypeError("select cases must have the same dtypes, got "
                    f"{[str(c.dtype) for c in cases]}.")
  if which.dtype != _bool and not _dtypes.issubdtype(which.dtype, np.integer):
    raise TypeError(f"select `which` must be boolean or integer type, got {which.dtype}.")
  if which.dtype == _bool and len(cases) > 2:
    raise TypeError("select with boolean `which` cannot have > 2 cases.")
  if which.shape and which.shape != cases[0].shape:
    raise TypeError("select `which` must be scalar or have the same shape as cases, got "
                    f"`which` shape {which.shape} but case shape {cases[0].shape}.")
  return ShapedArray(cases[0].shape, cases[0].dtype, all(c.weak_type for c in cases))


def _select_n_jvp(primals, tangents):
  which, *cases = primals
  out = select_n_p.bind(which, *cases)
  ts = tangents[1:]
  if all(type(t) is Zero for t in ts):
    return out, Zero(ad.tangent_aval(core.get_aval(out)))
  ts = [ad.instantiate_zeros(t) for t in ts]
  return out, select_n_p.bind(which, *ts)


def _select_n_transpose(ct, which, *cases):
  assert not ad.is_undefined_primal(which)
  if type(ct) is Zero:
    return [None] + [Zero(c.aval) if ad.is_undefined_primal(c) else None for c in cases]
  zeros = full_like(ct, 0)
  res = [None]
  for i, c in enumerate(cases):
    if ad.is_undefined_primal(c):
      pick = [zeros] * len(cases)
      pick[i] = ct
      res.append(select_n_p.bind(which, *pick))
    else:
      res.append(None)
  return res


def _select_n_batch(vals, dims, **params):
  which, *cases = vals
  wd, *cds = dims
  size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
  case_shape = None
  for c, d in zip(cases, cds):
    s = core.get_aval(c).shape
    case_shape = s if d is None else s[:d] + s[d + 1:]
  cases = [batching.bdim_at_front(c, d, size) for c, d in zip(cases, cds)]
  w_aval = core.get_aval(which)
  if wd is None and w_aval.ndim == 0:
    return select_n_p.bind(which, *cases), 0
  which = batching.bdim_at_front(which, wd, size)
  if core.get_aval(which).ndim == 1 and case_shape:
    which = broadcast_in_dim(which, (size,) + case_shape, (0,))
  return select_n_p.bind(which, *cases), 0


select_n_p.impl = _select_n_impl
select_n_p.abstract_eval = _select_n_abstract


def _select_n_suspect(which, *cases):
  """NumPy broadcasts and promotes the cases (and `which`); JAX requires them to agree."""
  if not cases:
    return True
  c0 = cases[0]
  s, dt = c0.shape, c0.dtype
  for c in cases:
    if c.shape != s or c.dtype != dt:
      return True
  ws = which.shape
  return (bool(ws) and ws != s) or (which.dtype == _bool and len(cases) > 2)


core.def_eager_checked_on_error(select_n_p, _select_n_suspect)
select_n_p.weak_type_rule = lambda args, params: all(a.weak_type for a in args[1:])
ad.primitive_jvps[select_n_p] = _select_n_jvp
ad.primitive_transposes[select_n_p] = _select_n_transpose
batching.primitive_batchers[select_n_p] = _select_n_batch


def select_n(which, *cases):
  """lax.select_n: cases[which] elementwise (which: bool for two cases, else int)."""
  if not cases:
    raise ValueError("select_n() must have at least one case")
  cases = _promote_lax_args(cases)
  if any(c.dtype != cases[0].dtype for c in cases):
    raise TypeError("lax.select requires arguments to have the same dtypes, got "
                    f"{', '.join(str(c.dtype) for c in cases)}. (Tip: jnp.where is a similar "
                    "function that does automatic type promotion on inputs).")
  return select_n_p.bind(asarray(which), *cases)


def select(pred, on_true, on_false):
  """lax.select: on_true where pred else on_false."""
  return select_n(pred, on_false, on_true)
