"""lax odds and ends: bit-level ops (bitcast_convert_type, mulhi, reduce_precision, the
total-order comparisons), structural ops (split, stack, unstack, tile, squeeze), random bit
generation (rng_bit_generator, rng_uniform), optimization_barrier, approx_max_k/min_k,
and small helpers (batch_matmul, collapse, broadcast_like, empty, reciprocal, ...).

Each primitive's impl, shape rule, jvp (or `defnondiff`), transpose (if linear), batching
rule and tier mark sit together, as in lax.py.
"""
from __future__ import annotations

import dataclasses
import enum
import math
import operator
from typing import Any, NamedTuple, Sequence, Union

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.core import Primitive, ShapedArray
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters.ad import Zero
from numjax._src.lax import lax as _lax
from numjax._src.lax import slicing as _slicing
from numjax._src.lax import sorting as _sorting
from numjax._src.lax.lax import asarray
from numjax._src.lax.reductions import checked_eager

_bool = np.dtype(bool)
_u32 = np.dtype(np.uint32)


def _uint_for(itemsize):
  return np.dtype(f"uint{itemsize * 8}")


# ---------------------------------------------------------------------------------------
# bitcast_convert_type: reinterpret the bytes (a trailing dimension appears or disappears
# when the widths differ, as in XLA)

bitcast_convert_type_p = Primitive("bitcast_convert_type")
bitcast_convert_type_p.numpy_tier_only = True


def _bitcast_abstract(x, *, new_dtype):
  old = x.dtype
  if old != new_dtype and (old == _bool or new_dtype == _bool or old.kind == "c"
                           or new_dtype.kind == "c"):
    raise TypeError("lax.bitcast_convert_type does not support bool or complex values unless "
                    f"the operand and destination types match. Got operand dtype={old}, "
                    f"new_dtype={new_dtype!r}. Consider using the arr.view() method instead.")
  a, b = old.itemsize, new_dtype.itemsize
  if a == b:
    shape = x.shape
  elif a > b:
    shape = x.shape + (a // b,)
  else:
    if not x.shape or x.shape[-1] * a != b:
      last = x.shape[-1] if x.shape else 1
      raise ValueError(f"Attempting to convert array of shape {x.shape} from {old} of size "
                       f"{a * 8} bits to {new_dtype} of size {b * 8}, bits but {last} * "
                       f"{a * 8} != {b * 8}")
    shape = x.shape[:-1]
  return ShapedArray(shape, new_dtype, False)


def _bitcast_impl(x, *, new_dtype):
  out_shape = _bitcast_abstract(ShapedArray(x.shape, x.dtype), new_dtype=new_dtype).shape
  return np.ascontiguousarray(x).view(new_dtype).reshape(out_shape)


def _bitcast_batch(vals, dims, *, new_dtype):
  (x,), (d,) = vals, dims
  x = batching.moveaxis(x, d, 0)  # the width change acts on the trailing dimension
  return bitcast_convert_type_p.bind(x, new_dtype=new_dtype), 0


bitcast_convert_type_p.impl = _bitcast_impl
bitcast_convert_type_p.abstract_eval = _bitcast_abstract
bitcast_convert_type_p.weak_type_rule = lambda args, params: False
checked_eager(bitcast_convert_type_p)
ad.defnondiff(bitcast_convert_type_p)
batching.primitive_batchers[bitcast_convert_type_p] = _bitcast_batch


def bitcast_convert_type(operand, new_dtype):
  """lax.bitcast_convert_type: the same bits as another dtype. A narrower type adds a
  trailing dimension (width ratio); a wider one consumes it."""
  new_dtype = _dtypes.canonicalize_dtype(new_dtype)
  return bitcast_convert_type_p.bind(asarray(operand), new_dtype=new_dtype)


# ---------------------------------------------------------------------------------------
# mulhi: the high half of the double-width product of two integers

mulhi_p = Primitive("mulhi")
mulhi_p.numpy_tier_only = True
mulhi_p.elementwise = True


def _mulhi_unsigned(x, y, bits):
  if bits <= 32:
    wide = np.uint64
    p = x.astype(wide) * y.astype(wide)
    return (p >> np.uint64(bits)).astype(x.dtype)
  # 64 bits: schoolbook on 32-bit halves
  m = np.uint64(0xFFFFFFFF)
  s = np.uint64(32)
  x0, x1, y0, y1 = x & m, x >> s, y & m, y >> s
  with np.errstate(over="ignore"):
    w0 = x0 * y0
    t = x1 * y0 + (w0 >> s)
    w1 = (t & m) + x0 * y1
    return x1 * y1 + (t >> s) + (w1 >> s)


def _mulhi_impl(x, y):
  bits = x.dtype.itemsize * 8
  if x.dtype.kind == "u":
    return np.asarray(_mulhi_unsigned(x, y, bits), dtype=x.dtype)
  ut = _uint_for(x.dtype.itemsize)
  if bits <= 32:
    p = x.astype(np.int64) * y.astype(np.int64)
    return (p >> np.int64(bits)).astype(x.dtype)
  # signed 64-bit: the unsigned high half, corrected for negative operands (mod 2**64)
  xu, yu = x.view(ut) if x.ndim else x.astype(ut), y.view(ut) if y.ndim else y.astype(ut)
  with np.errstate(over="ignore"):
    hi = _mulhi_unsigned(xu, yu, bits)
    hi = hi - np.where(x < 0, yu, ut.type(0)) - np.where(y < 0, xu, ut.type(0))
  return np.asarray(hi).astype(ut).view(x.dtype) if np.ndim(hi) else np.asarray(hi).astype(x.dtype)


def _mulhi_abstract(x, y):
  if x.dtype != y.dtype:
    raise TypeError(f"mulhi requires arguments to have the same dtypes, got {x.dtype}, {y.dtype}.")
  if not _dtypes.issubdtype(x.dtype, np.integer):
    raise TypeError(f"mulhi does not accept dtype {x.dtype}. Accepted dtypes are subtypes of "
                    "integer.")
  return ShapedArray(_lax._broadcasting_shape("mulhi", [x.shape, y.shape]), x.dtype,
                     x.weak_type and y.weak_type)


mulhi_p.impl = _mulhi_impl
mulhi_p.abstract_eval = _mulhi_abstract
checked_eager(mulhi_p)
ad.defnondiff(mulhi_p)
batching.broadcast_batcher(mulhi_p)


def mulhi(x, y, /):
  """lax.mulhi: the high bits of x * y computed at twice the width."""
  x, y = _lax._promote_lax_args((x, y))
  return mulhi_p.bind(x, y)


# ---------------------------------------------------------------------------------------
# reduce_precision: round to a float format with fewer exponent/mantissa bits (XLA's
# rounding: to nearest even, overflow to inf, underflow (denormals too) to signed zero,
# NaN kept)

reduce_precision_p = Primitive("reduce_precision")
reduce_precision_p.numpy_tier_only = True
reduce_precision_p.elementwise = True


def _reduce_precision_impl(x, *, exponent_bits, mantissa_bits):
  dt = x.dtype
  lowp = dt.itemsize < 4 and dt != np.float16
  xf = x.astype(np.float32) if lowp else x
  info = np.finfo(xf.dtype)
  src_mant, src_exp, nbits = info.nmant, info.nexp, xf.dtype.itemsize * 8
  ut = _uint_for(xf.dtype.itemsize)
  one = ut.type(1)
  bits = np.ascontiguousarray(xf).view(ut).copy() if xf.ndim else np.asarray(xf).reshape(1).view(ut).copy()
  with np.errstate(over="ignore"):
    if mantissa_bits < src_mant:
      shift = ut.type(src_mant - mantissa_bits)
      last = one << shift
      bias = (last >> one) - one
      bits = (bits + ((bits & last) >> shift) + bias) & ~(last - one)
    if exponent_bits < src_exp:
      sign = one << ut.type(nbits - 1)
      exp_mask = ((one << ut.type(src_exp)) - one) << ut.type(src_mant)
      ebias = (1 << (src_exp - 1)) - 1
      rbias = (1 << (exponent_bits - 1)) - 1
      exp = bits & exp_mask
      over = exp > (ut.type(ebias + rbias) << ut.type(src_mant))
      under = exp <= (ut.type(ebias - rbias) << ut.type(src_mant))
      signed_zero = bits & sign
      bits = np.where(over, signed_zero | exp_mask, np.where(under, signed_zero, bits))
  out = bits.view(xf.dtype).reshape(xf.shape)
  nan = np.isnan(xf)
  if nan.any():
    out = np.where(nan, xf, out)  # NaNs stay NaN (even with no mantissa bits, as JAX)
  return out.astype(dt) if lowp else out


def _reduce_precision_abstract(x, *, exponent_bits, mantissa_bits):
  if not _dtypes.issubdtype(x.dtype, np.floating):
    raise TypeError(f"reduce_precision does not accept dtype {x.dtype}. Accepted dtypes are "
                    "subtypes of floating.")
  if exponent_bits < 1:
    raise ValueError(f"reduce_precision: exponent_bits must be positive; got {exponent_bits}")
  if mantissa_bits < 0:
    raise ValueError(f"reduce_precision: mantissa_bits must be non-negative; got "
                     f"{mantissa_bits}")
  return x


reduce_precision_p.impl = _reduce_precision_impl
reduce_precision_p.abstract_eval = _reduce_precision_abstract
core.def_eager_checked_on_error(  # (the bit twiddling would run on bad bit counts)
    reduce_precision_p, lambda x, *, exponent_bits, mantissa_bits:
    exponent_bits < 1 or mantissa_bits < 0)
batching.defvectorized(reduce_precision_p)
ad.deflinear(reduce_precision_p, lambda ct, x, **params: [
    Zero(x.aval) if type(ct) is Zero else reduce_precision_p.bind(ct, **params)])


def reduce_precision(operand, exponent_bits, mantissa_bits):
  """lax.reduce_precision: round to the float format with the given exponent/mantissa
  widths (e.g. (5, 10) is float16, (8, 7) bfloat16), staying in the input dtype."""
  exponent_bits = operator.index(exponent_bits)
  mantissa_bits = operator.index(mantissa_bits)
  return reduce_precision_p.bind(asarray(operand), exponent_bits=exponent_bits,
                                 mantissa_bits=mantissa_bits)


# ---------------------------------------------------------------------------------------
# Total-order comparisons (-NaN < -inf < ... < -0.0 < 0.0 < ... < inf < NaN)

def _total_key(x):
  if x.dtype.kind in "biu":
    return [x]
  return _sorting._keys(x, canonicalize=False)


def _lex_compare(keys_x, keys_y, strict):
  """Lexicographic comparison of key lists (first key most significant)."""
  out = None
  for kx, ky in zip(keys_x[::-1], keys_y[::-1]):
    lt, eq = kx < ky, kx == ky
    if out is None:
      out = lt if strict else (lt | eq)
    else:
      out = lt | (eq & out)
  return out


def _make_total_order(name, fn):
  p = Primitive(name)
  p.numpy_tier_only = True
  p.elementwise = True
  p.impl = fn

  def abstract(x, y):
    if x.dtype != y.dtype:
      raise TypeError(f"{name} requires arguments to have the same dtypes, got {x.dtype}, "
                      f"{y.dtype}.")
    return ShapedArray(_lax._broadcasting_shape(name, [x.shape, y.shape]), _bool,
                       x.weak_type and y.weak_type)
  p.abstract_eval = abstract
  checked_eager(p)
  ad.defnondiff(p)
  batching.broadcast_batcher(p)
  return p


eq_to_p = _make_total_order(
    "eq_to", lambda x, y: np.logical_and.reduce(
        [a == b for a, b in zip(_total_key(x), _total_key(y))]))
lt_to_p = _make_total_order(
    "lt_to", lambda x, y: _lex_compare(_total_key(x), _total_key(y), True))
le_to_p = _make_total_order(
    "le_to", lambda x, y: _lex_compare(_total_key(x), _total_key(y), False))


# ---------------------------------------------------------------------------------------
# split / stack / unstack / tile / squeeze

split_p = Primitive("split")
split_p.multiple_results = True
split_p.numpy_tier_only = True


def _split_abstract(x, *, sizes, axis):
  if not 0 <= axis < x.ndim:
    raise ValueError(f"axis {axis} is out of bounds for array of dimension {x.ndim}")
  if any(s < 0 for s in sizes):
    raise ValueError(f"Sizes passed to split must be nonnegative, got {list(sizes)}")
  if sum(sizes) != x.shape[axis]:
    raise ValueError(f"Sum of sizes {sum(sizes)} must be equal to dimension {axis} of the "
                     f"operand shape {list(x.shape)}")
  return [x.update(shape=x.shape[:axis] + (s,) + x.shape[axis + 1:]) for s in sizes]


def _split_impl(x, *, sizes, axis):
  return [a.copy() for a in np.split(x, np.cumsum(sizes)[:-1].tolist(), axis=axis)]


def _split_transpose(cts, x, *, sizes, axis):
  aval = x.aval
  pieces = []
  for ct, s in zip(cts, sizes):
    shape = aval.shape[:axis] + (s,) + aval.shape[axis + 1:]
    pieces.append(_lax.full(shape, 0, aval.dtype) if type(ct) is Zero else ct)
  return [_slicing.concatenate(pieces, axis)]


def _split_batch(vals, dims, *, sizes, axis):
  (x,), (d,) = vals, dims
  new_axis = axis + (axis >= d)
  return split_p.bind(x, sizes=sizes, axis=new_axis), [d] * len(sizes)


split_p.impl = _split_impl
split_p.abstract_eval = _split_abstract
checked_eager(split_p)
ad.deflinear(split_p, _split_transpose)
batching.primitive_batchers[split_p] = _split_batch


def split(operand, sizes, axis=0):
  """lax.split: pieces of the given sizes along `axis` (sizes sum to that dimension)."""
  x = asarray(operand)
  axis = _sorting._canonical_dim(axis, x.ndim)
  # (NumPy integers stay as given, as JAX keeps them: jnp.split's params print np.int64(2))
  sizes = tuple(s if isinstance(s, np.integer) else core.concrete_dim_or_error(s, "split sizes")
                for s in sizes)
  return split_p.bind(x, sizes=sizes, axis=axis)


stack_p = Primitive("stack")
stack_p.numpy_tier_only = True


def _stack_abstract(*xs, axis):
  if not xs:
    raise ValueError("stack requires at least one operand")
  if any(x.shape != xs[0].shape or x.dtype != xs[0].dtype for x in xs):
    raise TypeError("stack requires operands of the same shape and dtype, got "
                    + ", ".join(x.str_short() for x in xs))
  if not 0 <= axis <= xs[0].ndim:
    raise ValueError(f"axis {axis} is out of bounds for stack of rank {xs[0].ndim} operands")
  s = xs[0].shape
  return ShapedArray(s[:axis] + (len(xs),) + s[axis:], xs[0].dtype,
                     all(x.weak_type for x in xs))


def _stack_transpose(ct, *xs, axis):
  if type(ct) is Zero:
    return [Zero(x.aval) if ad.is_undefined_primal(x) else None for x in xs]
  parts = unstack_p.bind(ct, axis=axis)
  return [p if ad.is_undefined_primal(x) else None for p, x in zip(parts, xs)]


def _stack_batch(vals, dims, *, axis):
  size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
  vals = [batching.bdim_at_front(v, d, size) for v, d in zip(vals, dims)]
  return stack_p.bind(*vals, axis=axis + 1), 0


stack_p.impl = lambda *xs, axis: np.stack(xs, axis=axis)
stack_p.abstract_eval = _stack_abstract
checked_eager(stack_p)
ad.deflinear(stack_p, _stack_transpose)
batching.primitive_batchers[stack_p] = _stack_batch


def stack(operands, axis=0):
  """lax.stack: same-shaped arrays stacked along a new axis."""
  xs = [asarray(o) for o in operands]
  if not xs:
    raise ValueError("stack requires at least one operand")
  axis = _sorting._canonical_dim(axis, xs[0].ndim + 1)
  return stack_p.bind(*xs, axis=axis)


unstack_p = Primitive("unstack")
unstack_p.multiple_results = True
unstack_p.numpy_tier_only = True


def _unstack_abstract(x, *, axis):
  if not 0 <= axis < x.ndim:
    raise ValueError(f"axis {axis} is out of bounds for array of dimension {x.ndim}")
  return [x.update(shape=x.shape[:axis] + x.shape[axis + 1:])] * x.shape[axis]


def _unstack_transpose(cts, x, *, axis):
  aval = x.aval
  piece = ShapedArray(aval.shape[:axis] + aval.shape[axis + 1:], aval.dtype)
  cts = [_lax.full(piece.shape, 0, aval.dtype) if type(ct) is Zero else ct for ct in cts]
  if not cts:
    return [_lax.full(aval.shape, 0, aval.dtype)]
  return [stack_p.bind(*cts, axis=axis)]


def _unstack_batch(vals, dims, *, axis):
  (x,), (d,) = vals, dims
  new_axis = axis + (axis >= d)
  outs = unstack_p.bind(x, axis=new_axis)
  out_d = d if d < new_axis else d - 1
  return outs, [out_d] * len(outs)


unstack_p.impl = lambda x, *, axis: [np.take(x, i, axis=axis) for i in range(x.shape[axis])]
unstack_p.abstract_eval = _unstack_abstract
checked_eager(unstack_p)
ad.deflinear(unstack_p, _unstack_transpose)
batching.primitive_batchers[unstack_p] = _unstack_batch


def unstack(x, axis=0):
  """lax.unstack: the slices of x along `axis`, as a tuple."""
  x = asarray(x)
  axis = _sorting._canonical_dim(axis, x.ndim)
  return tuple(unstack_p.bind(x, axis=axis))


tile_p = Primitive("tile")
tile_p.numpy_tier_only = True


def _tile_abstract(x, *, reps):
  if len(reps) != x.ndim:
    raise TypeError(f"reps length must be equal to the ndim of x, got len(reps)={len(reps)} "
                    f"and x.ndim={x.ndim}.")
  return x.update(shape=tuple(r * s for r, s in zip(reps, x.shape)))


def _tile_transpose(ct, x, *, reps):
  from numjax._src.lax.reductions import reduce_sum
  aval = x.aval
  if type(ct) is Zero:
    return [Zero(aval)]
  split_shape = tuple(d for r, s in zip(reps, aval.shape) for d in (r, s))
  summed = reduce_sum(_lax.reshape(ct, split_shape), tuple(range(0, 2 * aval.ndim, 2)))
  return [summed]


def _tile_batch(vals, dims, *, reps):
  (x,), (d,) = vals, dims
  reps = reps[:d] + (1,) + reps[d:]
  return tile_p.bind(x, reps=reps), d


tile_p.impl = lambda x, *, reps: np.tile(x, reps)
tile_p.abstract_eval = _tile_abstract
checked_eager(tile_p)
ad.deflinear(tile_p, _tile_transpose)
batching.primitive_batchers[tile_p] = _tile_batch


def tile(operand, reps):
  """lax.tile: repeat the array `reps[i]` times along each axis (len(reps) == ndim)."""
  x = asarray(operand)
  reps = tuple(core.concrete_dim_or_error(r, "tile reps") for r in reps)
  return tile_p.bind(x, reps=reps)


squeeze_p = Primitive("squeeze")
# The compiler's pass pipeline rewrites squeeze to reshape before code generation, so the
# native tier meets it as reshape (an index map).
squeeze_p.native_template = _lax.reshape_p.native_template


def _squeeze_abstract(x, *, dimensions):
  for d in dimensions:
    if not 0 <= d < x.ndim or x.shape[d] != 1:
      raise ValueError("cannot select an axis to squeeze out which has size not equal to "
                       f"one, got shape={x.shape} and dimensions={dimensions}")
  return x.update(shape=tuple(s for i, s in enumerate(x.shape) if i not in dimensions))


def _squeeze_batch(vals, dims, *, dimensions):
  (x,), (d,) = vals, dims
  dims_b = tuple(k + (k >= d) for k in dimensions)
  out_d = d - sum(1 for k in dims_b if k < d)
  return squeeze_p.bind(x, dimensions=dims_b), out_d


squeeze_p.impl = lambda x, *, dimensions: np.squeeze(x, axis=dimensions) if dimensions else x
squeeze_p.abstract_eval = _squeeze_abstract
checked_eager(squeeze_p)
ad.deflinear(squeeze_p, lambda ct, x, *, dimensions: [  # (as JAX: expand_dims back)
    Zero(x.aval) if type(ct) is Zero else _lax.expand_dims(ct, dimensions)])
batching.primitive_batchers[squeeze_p] = _squeeze_batch


# ---------------------------------------------------------------------------------------
# optimization_barrier: identity that the compiler may not move computations across

optimization_barrier_p = Primitive("optimization_barrier")
optimization_barrier_p.multiple_results = True
optimization_barrier_p.numpy_tier_only = True
optimization_barrier_p.impl = lambda *xs: list(xs)
optimization_barrier_p.abstract_eval = lambda *xs: list(xs)
optimization_barrier_p.weak_type_rule = lambda args, params: all(a.weak_type for a in args)
optimization_barrier_p.eager = lambda *xs: list(xs)
ad.deflinear(optimization_barrier_p, lambda cts, *xs: [
    (Zero(x.aval) if type(ct) is Zero else ct) if ad.is_undefined_primal(x) else None
    for ct, x in zip(_as_list(cts, len(xs)), xs)])
batching.primitive_batchers[optimization_barrier_p] = lambda vals, dims: (
    optimization_barrier_p.bind(*vals), list(dims))


def _as_list(cts, n):
  return list(cts) if isinstance(cts, (list, tuple)) else [cts] * n


def optimization_barrier(operand, /):
  """lax.optimization_barrier: returns its (pytree) argument unchanged."""
  from numjax._src import tree_util
  leaves, tree = tree_util.tree_flatten(operand)
  leaves = [asarray(x) for x in leaves]
  return tree_util.tree_unflatten(tree, optimization_barrier_p.bind(*leaves))


# ---------------------------------------------------------------------------------------
# Random bits

class RandomAlgorithm(enum.IntEnum):
  """The bit generator used by rng_bit_generator."""
  RNG_DEFAULT = 0
  RNG_THREE_FRY = 1
  RNG_PHILOX = 2

  def __str__(self):
    return self.name


_PHILOX_M = (np.uint64(0xD2511F53), np.uint64(0xCD9E8D57))
_PHILOX_W = (np.uint32(0x9E3779B9), np.uint32(0xBB67AE85))


def _philox4x32(k0, k1, c):
  """Philox4x32-10 on counter words c (4 uint32 arrays) with key (k0, k1)."""
  c0, c1, c2, c3 = c
  low = np.uint64(0xFFFFFFFF)
  with np.errstate(over="ignore"):
    for _ in range(10):
      p0 = c0.astype(np.uint64) * _PHILOX_M[0]
      p1 = c2.astype(np.uint64) * _PHILOX_M[1]
      hi0, lo0 = (p0 >> np.uint64(32)).astype(np.uint32), (p0 & low).astype(np.uint32)
      hi1, lo1 = (p1 >> np.uint64(32)).astype(np.uint32), (p1 & low).astype(np.uint32)
      c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
      k0, k1 = np.uint32(k0 + _PHILOX_W[0]), np.uint32(k1 + _PHILOX_W[1])
  return c0, c1, c2, c3


def _rng_words(key, n32, algorithm):
  """n32 uint32 words from a uint32[4] state (key words 0-1, 64-bit counter words 2-3),
  and the state with the counter advanced past the blocks used."""
  s = [int(v) for v in key]
  per_block = 2 if algorithm == RandomAlgorithm.RNG_THREE_FRY else 4
  nb = -(-n32 // per_block) if n32 else 0
  ctr0 = s[3] << 32 | s[2]
  ctrs = (np.uint64(ctr0) + np.arange(nb, dtype=np.uint64)) if nb else np.zeros(0, np.uint64)
  lo = (ctrs & np.uint64(0xFFFFFFFF)).astype(np.uint32)
  hi = (ctrs >> np.uint64(32)).astype(np.uint32)
  if algorithm == RandomAlgorithm.RNG_THREE_FRY:
    from numjax._src.random.prng import threefry2x32_p
    k0, k1 = np.full(nb, s[0], np.uint32), np.full(nb, s[1], np.uint32)
    words = np.stack(threefry2x32_p.impl(k0, k1, lo, hi), 1)
  else:
    zero = np.zeros(nb, np.uint32)
    words = np.stack(_philox4x32(np.uint32(s[0]), np.uint32(s[1]), (lo, hi, zero, zero)), 1)
  new_ctr = (ctr0 + nb) % (1 << 64)
  new_key = np.array([s[0], s[1], new_ctr & 0xFFFFFFFF, new_ctr >> 32], np.uint32)
  return words.reshape(-1)[:n32], new_key


rng_bit_generator_p = Primitive("rng_bit_generator")
rng_bit_generator_p.multiple_results = True
rng_bit_generator_p.numpy_tier_only = True


def _rbg_impl(key, *, shape, dtype, algorithm, out_sharding=None):
  n = math.prod(shape)
  width = np.dtype(dtype).itemsize
  n32 = n * (2 if width == 8 else 1)
  words, new_key = _rng_words(key, n32, algorithm)
  if width == 8:
    pairs = words.reshape(n, 2).astype(np.uint64)
    bits = pairs[:, 0] | (pairs[:, 1] << np.uint64(32))
  else:
    bits = words
  return [new_key.astype(key.dtype), bits.astype(dtype).reshape(shape)]


def _rbg_abstract(key, *, shape, dtype, algorithm, out_sharding=None):
  if key.shape != (4,) or key.dtype != _u32:
    raise TypeError(f"rng_bit_generator: key must be uint32[4], got {key.str_short()}")
  return [ShapedArray(key.shape, key.dtype), ShapedArray(shape, np.dtype(dtype))]


def _rbg_batch(vals, dims, *, shape, dtype, algorithm, out_sharding=None):
  # One generator per key: the batch is looped over (its size is static).
  (key,), (d,) = vals, dims
  key = batching.moveaxis(key, d, 0)
  n = core.get_aval(key).shape[0]
  keys, bits = [], []
  for i in range(n):
    k = _lax.reshape(_slicing.slice_in_dim(key, i, i + 1, axis=0), (4,))
    nk, b = rng_bit_generator_p.bind(k, shape=shape, dtype=dtype, algorithm=algorithm,
                                     out_sharding=out_sharding)
    keys.append(nk)
    bits.append(b)
  return [stack_p.bind(*keys, axis=0), stack_p.bind(*bits, axis=0)], [0, 0]


rng_bit_generator_p.impl = _rbg_impl
rng_bit_generator_p.abstract_eval = _rbg_abstract
rng_bit_generator_p.weak_type_rule = lambda args, params: False
checked_eager(rng_bit_generator_p)
ad.defnondiff(rng_bit_generator_p)
batching.primitive_batchers[rng_bit_generator_p] = _rbg_batch

_RBG_DTYPES = {np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64)}


def rng_bit_generator(key, shape, dtype=np.uint32, algorithm=RandomAlgorithm.RNG_DEFAULT,
                      *, out_sharding=None):
  """lax.rng_bit_generator: (new_key, random bits of `shape`) from a uint32[4] state.

  A counter-based generator (Philox4x32-10, or Threefry-2x32 for RNG_THREE_FRY): the
  state's counter words advance by the number of blocks used, as XLA's. The bits are
  deterministic given the key but are not XLA's bit streams."""
  dt = _dtypes.canonicalize_dtype(dtype)
  if dt not in _RBG_DTYPES:
    raise TypeError(f"rng_bit_generator: unsupported dtype {np.dtype(dtype)}")
  shape = tuple(core.concrete_dim_or_error(s, "rng_bit_generator shape") for s in shape)
  return tuple(rng_bit_generator_p.bind(asarray(key), shape=shape, dtype=dt,
                                        algorithm=RandomAlgorithm(algorithm),
                                        out_sharding=out_sharding))


rng_uniform_p = Primitive("rng_uniform")
rng_uniform_p.numpy_tier_only = True
_rng_uniform_state = np.random.default_rng(0)


def _rng_uniform_impl(a, b, *, shape):
  dt = a.dtype
  if _dtypes.issubdtype(dt, np.integer):
    return _rng_uniform_state.integers(int(a), int(b), size=shape, dtype=dt, endpoint=False)
  u = _rng_uniform_state.random(size=shape)
  return (a + (b - a) * u).astype(dt)


def _rng_uniform_abstract(a, b, *, shape):
  if a.dtype != b.dtype or a.shape or b.shape:
    raise TypeError("rng_uniform requires scalar bounds of the same dtype, got "
                    f"{a.str_short()} and {b.str_short()}")
  return ShapedArray(shape, a.dtype)


def _rng_uniform_batch(vals, dims, *, shape):
  a, b = vals
  size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
  zero, one = _lax.full((), 0, core.get_aval(a).dtype), _lax.full((), 1, core.get_aval(a).dtype)
  u = rng_uniform_p.bind(zero, one, shape=(size,) + shape)
  bshape = (size,) + (1,) * len(shape)
  a = _lax.reshape(batching.bdim_at_front(a, dims[0], size), bshape)
  b = _lax.reshape(batching.bdim_at_front(b, dims[1], size), bshape)
  full = (size,) + shape
  a = _lax.broadcast_in_dim(a, full, tuple(range(len(full))))
  b = _lax.broadcast_in_dim(b, full, tuple(range(len(full))))
  return _lax.add(a, _lax.mul(_lax.sub(b, a), u)), 0


rng_uniform_p.impl = _rng_uniform_impl
rng_uniform_p.abstract_eval = _rng_uniform_abstract
rng_uniform_p.weak_type_rule = lambda args, params: False
checked_eager(rng_uniform_p)
ad.defnondiff(rng_uniform_p)
batching.primitive_batchers[rng_uniform_p] = _rng_uniform_batch


def rng_uniform(a, b, shape):
  """lax.rng_uniform: stateful uniform samples in [a, b) (not reproducible across runs of
  the program order; prefer numjax.random)."""
  a, b = _lax._promote_lax_args((a, b))
  shape = tuple(core.concrete_dim_or_error(s, "rng_uniform shape") for s in shape)
  return rng_uniform_p.bind(a, b, shape=shape)


# ---------------------------------------------------------------------------------------
# approx_max_k / approx_min_k (computed exactly, which meets any recall target)

approx_top_k_p = Primitive("approx_top_k")
approx_top_k_p.multiple_results = True
approx_top_k_p.numpy_tier_only = True


def _approx_top_k_impl(x, *, k, reduction_dimension, recall_target, is_max_k,
                       reduction_input_size_override, aggregate_to_topk):
  src = x if is_max_k else _neg_order(x)
  vals, idx = _sorting._top_k_impl(src, k=k, axis=reduction_dimension)
  if not is_max_k:
    vals = np.take_along_axis(x, idx.astype(np.intp), axis=reduction_dimension)
  return [vals, idx]


def _neg_order(x):
  """An array whose descending order is x's ascending order (NaNs still largest)."""
  if x.dtype.kind == "f" or x.dtype == np.float16 or x.dtype in _lax._lowp:
    xf = x.astype(np.float32) if x.dtype.itemsize < 4 else x
    return np.where(np.isnan(xf), np.array(-np.inf, xf.dtype), -xf)
  if x.dtype.kind == "u":
    return ~x
  return ~x  # two's complement: ~x = -x - 1 reverses the order without overflow


def _approx_top_k_abstract(x, *, k, reduction_dimension, recall_target, is_max_k,
                           reduction_input_size_override, aggregate_to_topk):
  if not 0 <= reduction_dimension < x.ndim:
    raise ValueError(f"reduction_dimension {reduction_dimension} is out of bounds for array "
                     f"of dimension {x.ndim}")
  if not 0 <= k <= x.shape[reduction_dimension]:
    raise ValueError(f"k must be in [0, {x.shape[reduction_dimension]}], got k={k}")
  shape = list(x.shape)
  shape[reduction_dimension] = k
  return [ShapedArray(tuple(shape), x.dtype, x.weak_type),
          ShapedArray(tuple(shape), np.dtype(np.int32))]


def _approx_top_k_jvp(primals, tangents, **params):
  (x,), (t,) = primals, tangents
  vals, idx = approx_top_k_p.bind(x, **params)
  zi = Zero(ad.tangent_aval(core.get_aval(idx)))
  if type(t) is Zero:
    return [vals, idx], [Zero(ad.tangent_aval(core.get_aval(vals))), zi]
  return [vals, idx], [_sorting.take_along_axis(t, idx, params["reduction_dimension"]), zi]


def _approx_top_k_batch(vals, dims, *, reduction_dimension, **params):
  (x,), (d,) = vals, dims
  rd = reduction_dimension + (reduction_dimension >= d)
  return approx_top_k_p.bind(x, reduction_dimension=rd, **params), [d, d]


approx_top_k_p.impl = _approx_top_k_impl
approx_top_k_p.abstract_eval = _approx_top_k_abstract
checked_eager(approx_top_k_p)
ad.primitive_jvps[approx_top_k_p] = _approx_top_k_jvp
batching.primitive_batchers[approx_top_k_p] = _approx_top_k_batch


def _approx_k(operand, k, reduction_dimension, recall_target, is_max_k,
              reduction_input_size_override, aggregate_to_topk):
  x = asarray(operand)
  rd = _sorting._canonical_dim(reduction_dimension, x.ndim)
  vals, idx = approx_top_k_p.bind(
      x, k=operator.index(k), reduction_dimension=rd, recall_target=float(recall_target),
      is_max_k=is_max_k, reduction_input_size_override=int(reduction_input_size_override),
      aggregate_to_topk=bool(aggregate_to_topk))
  return vals, idx


def approx_max_k(operand, k, reduction_dimension=-1, recall_target=0.95,
                 reduction_input_size_override=-1, aggregate_to_topk=True):
  """lax.approx_max_k: the k largest entries and their indices along a dimension
  (computed exactly here: recall 1)."""
  return _approx_k(operand, k, reduction_dimension, recall_target, True,
                   reduction_input_size_override, aggregate_to_topk)


def approx_min_k(operand, k, reduction_dimension=-1, recall_target=0.95,
                 reduction_input_size_override=-1, aggregate_to_topk=True):
  """lax.approx_min_k: the k smallest entries and their indices (exact)."""
  return _approx_k(operand, k, reduction_dimension, recall_target, False,
                   reduction_input_size_override, aggregate_to_topk)


# ---------------------------------------------------------------------------------------
# Helpers written with existing primitives

def batch_matmul(lhs, rhs, precision=None):
  """lax.batch_matmul: matmul over leading batch dimensions (equal on both sides)."""
  lhs, rhs = asarray(lhs), asarray(rhs)
  if lhs.ndim != rhs.ndim or lhs.ndim < 2:
    raise ValueError(f"Arguments to batch_matmul must be at least 2D and agree on ndim, got "
                     f"{lhs.ndim}, {rhs.ndim}.")
  if lhs.shape[:-2] != rhs.shape[:-2]:
    raise ValueError(f"Arguments to batch_matmul must agree on batch dimensions, got "
                     f"{lhs.shape[:-2]} and {rhs.shape[:-2]}.")
  batch = tuple(range(lhs.ndim - 2))
  dn = (((lhs.ndim - 1,), (rhs.ndim - 2,)), (batch, batch))
  return _lax.dot_general(lhs, rhs, dn, precision=precision)


def broadcast_like(arr, like_arr):
  """lax.broadcast_like: arr broadcast to like_arr's shape (trailing dimensions aligned)."""
  arr, like = asarray(arr), core.get_aval(like_arr)
  nd = len(like.shape)
  return _lax.broadcast_in_dim(arr, like.shape, tuple(range(nd - arr.ndim, nd)))


def collapse(operand, start_dimension, stop_dimension=None):
  """lax.collapse: merge dimensions [start_dimension, stop_dimension) into one."""
  x = asarray(operand)
  lo = _sorting._canonical_dim(start_dimension, x.ndim) if x.ndim else 0
  hi = x.ndim if stop_dimension is None else (
      stop_dimension if stop_dimension >= 0 else stop_dimension + x.ndim)
  if not lo <= hi <= x.ndim:
    raise ValueError(f"collapse: invalid dimensions [{start_dimension}, {stop_dimension}) "
                     f"for shape {x.shape}")
  shape = x.shape[:lo] + (math.prod(x.shape[lo:hi]),) + x.shape[hi:]
  return _lax.reshape(x, shape)


def empty(shape, dtype, *, out_sharding=None):
  """lax.empty: an array of the given shape and dtype whose contents do not matter (zeros
  here)."""
  return _lax.full(shape, 0, _dtypes.canonicalize_dtype(dtype))


def reciprocal(x):
  """lax.reciprocal: 1 / x, as integer_pow(x, -1)."""
  return _lax.integer_pow(x, -1)


def dtype(x, *, canonicalize=False):
  """lax.dtype: the (canonical) dtype of a value, including Python scalars."""
  return _dtypes.dtype(x, canonicalize=True)


def shape_as_value(shape):
  """lax.shape_as_value: a shape as an int32 array."""
  return asarray(np.array([core.concrete_dim_or_error(d, "shape") for d in shape],
                          dtype=np.int32))


def platform_dependent(*args, default=None, **per_platform):
  """lax.platform_dependent: call the function given for this platform ('cpu'), or
  `default`."""
  fn = per_platform.get("cpu", default)
  if fn is None:
    raise NotImplementedError("platform_dependent: no function given for platform 'cpu' and "
                              "no default.")
  return fn(*args)


def composite(decomposition, name, version=0):
  """lax.composite: mark a function as a named composite operation. It runs its
  decomposition (numjax has no backend that would replace it)."""
  import functools

  @functools.wraps(decomposition)
  def wrapped(*args, **kwargs):
    return decomposition(*args, **kwargs)
  wrapped.composite_name, wrapped.composite_version = name, version
  return wrapped


# ---------------------------------------------------------------------------------------
# Types of dot precision configuration (accepted and ignored by dot_general on CPU)

class DotAlgorithm(NamedTuple):
  """A dot algorithm: input storage types, accumulation type and component counts."""
  lhs_precision_type: Any
  rhs_precision_type: Any
  accumulation_type: Any
  lhs_component_count: int = 1
  rhs_component_count: int = 1
  num_primitive_operations: int = 1
  allow_imprecise_accumulation: bool = False


class DotAlgorithmPreset(enum.Enum):
  """Named dot algorithms (as JAX)."""
  DEFAULT = enum.auto()
  ANY_F8_ANY_F8_F32 = enum.auto()
  ANY_F8_ANY_F8_F32_FAST_ACCUM = enum.auto()
  ANY_F8_ANY_F8_ANY = enum.auto()
  ANY_F8_ANY_F8_ANY_FAST_ACCUM = enum.auto()
  F16_F16_F16 = enum.auto()
  F16_F16_F32 = enum.auto()
  BF16_BF16_BF16 = enum.auto()
  BF16_BF16_F32 = enum.auto()
  BF16_BF16_F32_X3 = enum.auto()
  BF16_BF16_F32_X6 = enum.auto()
  BF16_BF16_F32_X9 = enum.auto()
  TF32_TF32_F32 = enum.auto()
  TF32_TF32_F32_X3 = enum.auto()
  F32_F32_F32 = enum.auto()
  F64_F64_F64 = enum.auto()

  def __repr__(self):
    return self.name

  __str__ = __repr__


PrecisionLike = Union[None, str, _lax.Precision, tuple, DotAlgorithm, DotAlgorithmPreset]


class Tolerance:
  """Error tolerance for an accuracy-configurable transcendental (atol, rtol, ulps)."""

  def __init__(self, atol: float = 0.0, rtol: float = 0.0, ulps: int = 0):
    if atol < 0.0 or rtol < 0.0 or ulps < 0:
      raise ValueError("Tolerances must be non-negative.")
    if atol == 0.0 and rtol == 0.0 and ulps == 0:
      raise ValueError("At least one of atol, rtol, or ulps must be set.")
    self.atol, self.rtol, self.ulps = atol, rtol, ulps

  def __repr__(self):
    return f"Tolerance(atol={self.atol}, rtol={self.rtol}, ulps={self.ulps})"


class AccuracyMode(enum.Enum):
  """Accuracy modes of the transcendental functions."""
  HIGHEST = 1
  DEFAULT = 2


# ---------------------------------------------------------------------------------------
# copy / stage / dce_sink: identities and a sink that exist for the compiler's benefit

copy_p = Primitive("copy")
copy_p.native_template = "({0})"
copy_p.impl = lambda x: np.array(x, copy=True)
copy_p.abstract_eval = lambda x: x
batching.defvectorized(copy_p)
ad.deflinear(copy_p, lambda ct, x: [Zero(x.aval) if type(ct) is Zero else copy_p.bind(ct)])

stage_p = Primitive("stage")
stage_p.native_template = "({0})"
stage_p.impl = lambda x: x
stage_p.abstract_eval = lambda x: x
batching.defvectorized(stage_p)
ad.deflinear(stage_p, lambda ct, x: [Zero(x.aval) if type(ct) is Zero else ct])


def stage(x, /):
  """lax.stage: the identity that lifts a constant (Python scalar, NumPy array) into the
  active trace; tracers pass through unchanged."""
  if isinstance(x, core.Tracer):
    return x
  return stage_p.bind(asarray(x))


dce_sink_p = Primitive("dce_sink")
dce_sink_p.multiple_results = True
dce_sink_p.numpy_tier_only = True
dce_sink_p.has_effects = True  # never removed by dead-code elimination
dce_sink_p.impl = lambda *xs, prevent_mlir_dce=False: []
dce_sink_p.abstract_eval = lambda *xs, prevent_mlir_dce=False: []
dce_sink_p.eager = lambda *xs, prevent_mlir_dce=False: []
ad.defnondiff(dce_sink_p)
batching.primitive_batchers[dce_sink_p] = lambda vals, dims, **params: (
    dce_sink_p.bind(*vals, **params), [])


def dce_sink(val, *, prevent_mlir_dce=False):
  """lax.dce_sink: consume a pytree of values (keeps their computation alive); no result."""
  from numjax._src import tree_util
  leaves = [asarray(x) for x in tree_util.tree_leaves(val)]
  dce_sink_p.bind(*leaves, prevent_mlir_dce=bool(prevent_mlir_dce))


# ---------------------------------------------------------------------------------------
# ragged_dot: a matmul whose lhs rows are split in groups, each with its own rhs

class RaggedDotDimensionNumbers(NamedTuple):
  """Dot dimension numbers plus the lhs ragged and rhs group dimensions."""
  dot_dimension_numbers: Any
  lhs_ragged_dimensions: Sequence[int]
  rhs_group_dimensions: Sequence[int]


def _ragged_rows(lhs, rhs, group_sizes, precision, preferred_element_type):
  """lhs (m, k), rhs (g, k, n): out[i] = lhs[i] @ rhs[group of row i] (0 past the groups)."""
  from numjax._src.lax import reductions as _red
  m, g = core.get_aval(lhs).shape[0], core.get_aval(rhs).shape[0]
  sizes = _lax.convert_element_type(asarray(group_sizes), np.int32)
  ends = _red.cumsum(sizes, axis=0)
  rows = _lax.broadcasted_iota(np.int32, (m, g), 0)
  group = _red.reduce_sum(_lax.convert_element_type(
      _lax.ge(rows, _lax.broadcast_in_dim(ends, (m, g), (1,))), np.int32), (1,))
  onehot = _lax.eq(_lax.broadcast_in_dim(group, (m, g), (0,)),
                   _lax.broadcasted_iota(np.int32, (m, g), 1))
  every = _lax.dot_general(lhs, rhs, (((1,), (1,)), ((), ())), precision=precision,
                           preferred_element_type=preferred_element_type)  # (m, g, n)
  shape = core.get_aval(every).shape
  mask = _lax.broadcast_in_dim(onehot, shape, (0, 1))
  picked = _lax.select(mask, every, _lax.full_like(every, 0))
  return _red.reduce_sum(picked, (1,))


def ragged_dot(lhs, rhs, group_sizes, precision=None, preferred_element_type=None,
               group_offset=None):
  """lax.ragged_dot: lhs (m, k) rows in consecutive groups of group_sizes (g,), each
  multiplied by its rhs[g] (k, n); rows past the last group give zeros."""
  if group_offset is not None:
    raise NotImplementedError("ragged_dot: group_offset is not supported.")
  lhs, rhs = _lax._promote_lax_args((lhs, rhs))
  if lhs.ndim != 2 or rhs.ndim != 3 or lhs.shape[1] != rhs.shape[1]:
    raise TypeError(f"ragged_dot requires lhs (m, k) and rhs (g, k, n), got {lhs.shape} and "
                    f"{rhs.shape}")
  if core.get_aval(group_sizes).shape != (rhs.shape[0],):
    raise TypeError(f"ragged_dot: group_sizes must have shape ({rhs.shape[0]},), got "
                    f"{core.get_aval(group_sizes).shape}")
  return _ragged_rows(lhs, rhs, group_sizes, precision, preferred_element_type)


def ragged_dot_general(lhs, rhs, group_sizes, ragged_dot_dimension_numbers, precision=None,
                       preferred_element_type=None, group_offset=None):
  """lax.ragged_dot_general for a ragged non-contracting lhs dimension whose groups select
  slices of an rhs group dimension (ragged_dot's case, any layout; no batch dimensions)."""
  dn = ragged_dot_dimension_numbers
  (lc, rc), (lb, rb) = dn.dot_dimension_numbers
  lhs, rhs = asarray(lhs), asarray(rhs)
  if lb or rb or len(dn.lhs_ragged_dimensions) != 1 or len(dn.rhs_group_dimensions) != 1 \
      or len(lc) != 1 or lhs.ndim != 2 or rhs.ndim != 3:
    raise NotImplementedError("ragged_dot_general: only ragged_dot's case (2-d lhs with a "
                              "ragged non-contracting dimension, 3-d rhs with a group "
                              "dimension, one contracting dimension) is supported.")
  (ragged,), (group,) = dn.lhs_ragged_dimensions, dn.rhs_group_dimensions
  if ragged in lc:
    raise NotImplementedError("ragged_dot_general: a ragged contracting dimension is not "
                              "supported.")
  lhs = _lax.transpose(lhs, (ragged, lc[0]))
  free = [d for d in range(3) if d not in (group, rc[0])][0]
  rhs = _lax.transpose(rhs, (group, rc[0], free))
  return ragged_dot(lhs, rhs, group_sizes, precision, preferred_element_type, group_offset)
