"""Helpers shared by the linear-algebra primitive modules (lax/linalg.py and
lax/linalg_solve.py): small matrix helpers written with lax ops (so rules using them
differentiate and batch), and the machinery every linalg primitive shares: dtype and
batch-shape checks, the NumPy-tier-only primitive with its shape-checked eager path and
batch-to-the-front batching rule, and the per-matrix LAPACK loop with NaN on failure."""
from __future__ import annotations

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.core import Primitive
from numjax._src.interpreters import ad, batching
from numjax._src.lax import lax as _lax
from numjax._src.lax import slicing
from numjax._src.lax.lax import asarray
from numjax._src.lax.reductions import checked_eager

_f32 = np.dtype(np.float32)
_i32 = np.dtype(np.int32)


# ---------------------------------------------------------------------------------------
# Helpers written with lax ops (used by wrappers and rules, so they differentiate/batch)

def _ndim(x):
  return core.get_aval(x).ndim


def _shape(x):
  return core.get_aval(x).shape


def _dtype(x):
  return core.get_aval(x).dtype


def _is_complex(x):
  return _dtypes.issubdtype(_dtype(x), np.complexfloating)


def _T(x):
  nd = _ndim(x)
  return _lax.transpose(x, (*range(nd - 2), nd - 1, nd - 2))


def _H(x):
  x = _T(x)
  return _lax.conj(x) if _is_complex(x) else x


def _conj(x):
  return _lax.conj(x) if _is_complex(x) else x


def _real(x):
  return _lax.real(x) if _is_complex(x) else x


def symmetrize(x):
  """(x + x^H) / 2."""
  x = asarray(x)
  if not _dtypes.issubdtype(_dtype(x), np.inexact):
    x = _lax.convert_element_type(x, _dtypes.to_inexact_dtype(_dtype(x)))
  return _lax.div(_lax.add(x, _H(x)), _lax._const(x, 2))


def _tri_mask(shape, k):
  """bool[shape[-2], shape[-1]] mask of j <= i + k, broadcast to `shape`."""
  n, m = shape[-2:]
  rows = _lax.broadcasted_iota(_i32, (n, m), 0)
  cols = _lax.broadcasted_iota(_i32, (n, m), 1)
  mask = _lax.ge(_lax.add(rows, _lax._const(rows, k)) if k else rows, cols)
  if len(shape) > 2:
    mask = _lax.broadcast_in_dim(mask, tuple(shape), (len(shape) - 2, len(shape) - 1))
  return mask


def _tril(x, k=0):
  shape = _shape(x)
  return _lax.select(_tri_mask(shape, k), x, _lax.full_like(x, 0))


def _triu(x, k=0):
  shape = _shape(x)
  return _lax.select(_tri_mask(shape, k - 1), _lax.full_like(x, 0), x)


def _eye(dtype, n, m=None, batch=()):
  m = n if m is None else m
  e = _lax.convert_element_type(
      _lax.eq(_lax.broadcasted_iota(_i32, (n, m), 0), _lax.broadcasted_iota(_i32, (n, m), 1)),
      dtype)
  if batch:
    e = _lax.broadcast_in_dim(e, tuple(batch) + (n, m), (len(batch), len(batch) + 1))
  return e


def _eye_like(x):
  s = _shape(x)
  return _eye(_dtype(x), s[-2], s[-1], s[:-2])


def _matmul(a, b):
  """Batched a @ b over equal (or broadcastable-by-rank) leading dimensions."""
  na, nb = _ndim(a), _ndim(b)
  if na < nb:
    a = _lax.broadcast_in_dim(a, _shape(b)[:nb - na] + _shape(a), tuple(range(nb - na, nb)))
  elif nb < na:
    b = _lax.broadcast_in_dim(b, _shape(a)[:na - nb] + _shape(b), tuple(range(na - nb, na)))
  nd = max(na, nb)
  batch = tuple(range(nd - 2))
  return _lax.dot_general(a, b, (((nd - 1,), (nd - 2,)), (batch, batch)),
                          precision=_lax.Precision.HIGHEST)


def _extract_diagonal(x):
  """x[..., i, i] for i < min(m, n): a strided slice of the flattened matrix (linear)."""
  shape = _shape(x)
  m, n = shape[-2:]
  k = min(m, n)
  batch = shape[:-2]
  flat = _lax.reshape(x, batch + (m * n,))
  if k == 0:
    return _lax.reshape(slicing.slice(flat, (0,) * len(batch) + (0,), batch + (0,)),
                        batch + (0,))
  nb = len(batch)
  return slicing.slice(flat, (0,) * (nb + 1), batch + ((k - 1) * (n + 1) + 1,),
                       (1,) * nb + (n + 1,))


def _construct_diagonal(s):
  """A (batched) diagonal matrix with s on its diagonal."""
  shape = _shape(s)
  n = shape[-1]
  full = shape + (n,)
  sb = _lax.broadcast_in_dim(s, full, tuple(range(len(shape) - 1)) + (len(shape),))
  return _lax.select(_lax.broadcast_in_dim(
      _lax.eq(_lax.broadcasted_iota(_i32, (n, n), 0), _lax.broadcasted_iota(_i32, (n, n), 1)),
      full, (len(full) - 2, len(full) - 1)), sb, _lax.full_like(sb, 0))


def _bcast_last(x, shape, axis):
  """x of shape shape[:-2] + (shape[axis],) broadcast along the other matrix axis."""
  nd = len(shape)
  keep = tuple(range(nd - 2)) + ((nd - 1,) if axis in (-1, nd - 1) else (nd - 2,))
  return _lax.broadcast_in_dim(x, tuple(shape), keep)


def _complex_basetype(dt):
  dt = np.dtype(dt)
  if dt == np.complex64:
    return _f32
  if dt == np.complex128:
    return np.dtype(np.float64)
  return dt


# ---------------------------------------------------------------------------------------
# Shared primitive machinery: shape/dtype checks, eager path, batching

_FLOAT_OR_COMPLEX = "floating, complexfloating"


def _check_inexact(name, avals, positions=None):
  for i, a in enumerate(avals):
    if positions is not None and i not in positions:
      continue
    if not _dtypes.issubdtype(a.dtype, np.inexact):
      raise TypeError(f"{name} does not accept dtype {a.dtype.name} at position {i}. "
                      f"Accepted dtypes at position {i} are subtypes of {_FLOAT_OR_COMPLEX}.")


def _split_batch(name, avals, ranks):
  """(batch_shape, core shapes): JAX's rank checks, equal batch dimensions required."""
  batch, cores = None, []
  for i, (rank, a) in enumerate(zip(ranks, avals)):
    if a.ndim < rank:
      raise TypeError(f"Input {i} to {name} must have rank at least {rank}, but got "
                      f"shape={a.shape}")
    b = a.shape[:a.ndim - rank]
    if batch is None:
      batch = b
    elif len(b) != len(batch):
      raise TypeError(f"All inputs to {name} must have the same number of batch "
                      f"dimensions, but got {[len(x.shape) - r for x, r in zip(avals, ranks)]} "
                      "batch dimensions for the inputs.")
    elif b != batch:
      raise ValueError(f"All inputs to {name} must have the same batch dimensions, got "
                       f"{[x.shape[:x.ndim - r] for x, r in zip(avals, ranks)]}.")
    cores.append(a.shape[a.ndim - rank:])
  return tuple(batch), cores


def _linalg_primitive(name, multiple_results=False):
  p = Primitive(name)
  p.multiple_results = multiple_results
  p.numpy_tier_only = True  # LAPACK through NumPy/SciPy is the kernel
  return p


def _finish(p, impl, abstract_eval):
  p.impl = impl
  p.abstract_eval = abstract_eval
  checked_eager(p)
  p.weak_type_rule = lambda args, params: False

  def batch_rule(vals, dims, **params):
    size = next(_shape(v)[d] for v, d in zip(vals, dims) if d is not None)
    vals = [batching.bdim_at_front(v, d, size) for v, d in zip(vals, dims)]
    out = p.bind(*vals, **params)
    return out, ([0] * len(out) if p.multiple_results else 0)
  batching.primitive_batchers[p] = batch_rule
  return p


def _no_jvp(p):
  """JAX defines no derivative for p: differentiating it raises (rather than giving a
  silent zero)."""
  def rule(primals, tangents, **params):
    raise NotImplementedError(f"Differentiation rule for '{p.name}' not implemented")
  ad.primitive_jvps[p] = rule


def _compute_dtype(dt):
  """NumPy's LAPACK has no float16/bfloat16: those compute in float32."""
  dt = np.dtype(dt)
  if dt.kind == "c":
    return dt
  return dt if dt in (np.float32, np.float64) else _f32


def _as_compute(x):
  cd = _compute_dtype(x.dtype)
  return x.astype(cd, copy=False)


def _nan_like(shape, dtype):
  dtype = np.dtype(dtype)
  v = complex(np.nan, np.nan) if dtype.kind == "c" else np.nan
  return np.full(shape, v, dtype)


def _per_matrix(fn, *xs, n_out):
  """Apply fn (one matrix per operand -> tuple of outputs) over the leading batch dims;
  a LinAlgError for one matrix gives NaN outputs (shapes from the first success or
  `fn`'s shapes), as LAPACK's `info != 0` does in JAX."""
  batch = xs[0].shape[:-2] if xs[0].ndim >= 2 else ()
  flat = [x.reshape((-1,) + x.shape[len(batch):]) for x in xs]
  nb = flat[0].shape[0]
  results, failed = [None] * nb, []
  for i in range(nb):
    args = [f[i] for f in flat]
    if not all(np.isfinite(a).all() for a in args if a.dtype.kind in "fc"):
      failed.append(i)  # LAPACK rejects NaN/inf (and prints to stderr): NaN results
      continue
    try:
      results[i] = fn(*args)
    except (np.linalg.LinAlgError, ValueError):
      failed.append(i)
  ok = next((r for r in results if r is not None), None)
  if ok is None:
    return None
  for i in failed:
    results[i] = tuple(_nan_like(o.shape, o.dtype) if o.dtype.kind in "fc" else o
                       for o in ok)
  outs = []
  for j in range(n_out):
    arr = np.stack([r[j] for r in results]) if nb else np.zeros((0,) + ok[j].shape,
                                                                   ok[j].dtype)
    outs.append(arr.reshape(batch + arr.shape[1:]))
  return outs


def _slice_last2(x, rows, cols):
  """x[..., rows[0]:rows[1], cols[0]:cols[1]]."""
  shape = _shape(x)
  nb = len(shape) - 2
  return slicing.slice(x, (0,) * nb + (rows[0], cols[0]), shape[:nb] + (rows[1], cols[1]))
