"""`fma(a, b, c) = a * b + c` with a single rounding.

XLA's CPU compiler contracts `a * b + c` into a fused multiply-add inside a fusion, and
JAX's samplers are jitted, so e.g. `uniform(key, minval=a, maxval=b)` rounds
`u * (b - a) + a` once. The samplers use this primitive at those steps to give JAX's
numbers bit for bit. NumPy has no FMA: float32 is computed in float64 (the product of two
float32 is exact there, so the sum is rounded once, then once more to float32 -- the two
roundings disagree only on exact float32 midpoints), float64 with an error-free product.
"""
from __future__ import annotations

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.core import Primitive, ShapedArray
from numjax._src.interpreters import ad, batching

fma_p = Primitive("fma")
fma_p.elementwise = True
fma_p.native_template = "fma({0}, {1}, {2})"

_f32 = np.dtype(np.float32)
_f64 = np.dtype(np.float64)


def _two_prod(a, b):
  """a*b = p + e exactly (Dekker/Veltkamp splitting), float64."""
  p = a * b
  split = 134217729.0  # 2**27 + 1
  def halves(x):
    t = split * x
    hi = t - (t - x)
    return hi, x - hi
  ah, al = halves(a)
  bh, bl = halves(b)
  e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
  return p, e


def _fma_impl(a, b, c):
  dt = np.result_type(a, b, c)
  with np.errstate(all="ignore"):
    if dt == _f64:
      p, e = _two_prod(a, b)
      s = p + c
      bv = s - p
      t = (p - (s - bv)) + (c - bv)  # s + t = p + c exactly
      out = s + (t + e)
      return np.where(np.isfinite(out), out, a * b + c)
    if dt.kind == "f" or dt in (np.dtype(_dtypes.bfloat16),):
      out = a.astype(_f64) * b.astype(_f64) + c.astype(_f64)
      return out.astype(dt)
    return (a * b + c).astype(dt)


def _fma_abstract(a, b, c):
  dts = {a.dtype, b.dtype, c.dtype}
  if len(dts) > 1:
    raise TypeError(f"fma requires arguments to have the same dtypes, got "
                    f"{', '.join(str(x.dtype) for x in (a, b, c))}.")
  if not _dtypes.issubdtype(a.dtype, np.floating):
    raise TypeError(f"fma does not accept dtype {a.dtype}. Accepted dtypes are subtypes of "
                    "floating.")
  shape = _out_shape(a.shape, b.shape, c.shape)
  return ShapedArray(shape, a.dtype, a.weak_type and b.weak_type and c.weak_type)


def _out_shape(*shapes):
  """As lax's binary ops: rank-0 operands broadcast; the others have one rank and their
  size-1 dims broadcast implicitly."""
  shapes = [s for s in shapes if s]
  if not shapes:
    return ()
  if len({len(s) for s in shapes}) > 1:
    raise TypeError("fma got incompatible shapes for broadcasting: "
                    f"{', '.join(map(str, shapes))}.")
  out = []
  for ds in zip(*shapes):
    big = {d for d in ds if d != 1}
    if len(big) > 1:
      raise TypeError("fma got incompatible shapes for broadcasting: "
                      f"{', '.join(map(str, shapes))}.")
    out.append(big.pop() if big else 1)
  return tuple(out)


def _fma_jvp(primals, tangents):
  from numjax._src.lax import lax
  a, b, c = primals
  ta, tb, tc = tangents
  out = fma_p.bind(a, b, c)
  oaval = core.get_aval(out)
  terms = []
  if type(ta) is not ad.Zero:
    terms.append(lax.mul(ta, b))
  if type(tb) is not ad.Zero:
    terms.append(lax.mul(a, tb))
  if type(tc) is not ad.Zero:
    terms.append(tc)
  if not terms:
    return out, ad.Zero(ad.tangent_aval(oaval))
  t = terms[0]
  for x in terms[1:]:
    t = lax.add(t, x)
  tshape = core.get_aval(t).shape
  if tshape != oaval.shape:
    t = lax.broadcast_in_dim(t, oaval.shape, tuple(range(len(tshape))))
  return out, t


def _fma_pp_eqns(eqn):
  """fma prints as the `mul` and `add` of JAX's jaxpr (which XLA contracts into this one
  rounding): a printing form only, the equation stays one fma."""
  from numjax._src.lax import lax
  a, b, c = eqn.invars
  out = eqn.outvars[0]
  prod = core.Var(out.aval.update(shape=_out_shape(a.aval.shape, b.aval.shape),
                                  weak_type=a.aval.weak_type and b.aval.weak_type))
  return (core.JaxprEqn(lax.mul_p, [a, b], {}, [prod], eqn.source_info),
          core.JaxprEqn(lax.add_p, [prod, c], {}, [out], eqn.source_info))


fma_p.impl = _fma_impl
fma_p.abstract_eval = _fma_abstract
ad.primitive_jvps[fma_p] = _fma_jvp
fma_p.pp_eqns = _fma_pp_eqns
batching.broadcast_batcher(fma_p, implicit=True)


def fma(a, b, c):
  """a * b + c rounded once (operands share a dtype; rank-0 operands and, as in lax's
  binary ops, size-1 dims of equal-rank operands broadcast)."""
  from numjax._src.lax import lax
  a, b, c = lax._promote_lax_args((a, b, c))
  return fma_p.bind(a, b, c)
