"""The threefry-2x32 PRNG: the `threefry2x32` primitive and the key-level primitives.

JAX's default PRNG (with `jax_threefry_partitionable=True`, the 0.10.2 default) is a
counter-based hash: a key is two uint32 words, and the random bits at position `i` of an
output of shape `s` are `threefry2x32(key, (hi32(i), lo32(i)))`, i.e. the counter is the
row-major index of the element as a 64-bit number.

- `threefry2x32_p(k0, k1, x0, x1) -> (y0, y1)`: the hash itself, elementwise (rank-0 operands
  broadcast), as `jax._src.prng.threefry2x32_p`.
- `random_seed_p`, `random_split_p`, `random_fold_in_p`, `random_bits_p`: the operations on
  keys, named as in JAX's jaxprs. They act on the raw key data (uint32[..., 2]) and accept
  leading key dimensions, so their batching rules just move the batch axis to the front.

All impls share one vectorised NumPy kernel (`_threefry_blocks`) that works through the
output in cache-sized blocks, with the uint32 arithmetic done in place (wrap-around is
NumPy's unsigned arithmetic). None of these is differentiable.
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.core import Primitive, ShapedArray
from numjax._src.interpreters import ad, batching

_u32 = np.dtype(np.uint32)
_M32 = 0xFFFFFFFF
_PARITY = 0x1BD11BDA             # Threefry's key-schedule constant
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_BLOCK = 1 << 15                 # elements per block: the working set stays in L2

UINT_DTYPES = {8: np.dtype("uint8"), 16: np.dtype("uint16"), 32: np.dtype("uint32"),
               64: np.dtype("uint64")}


# ---------------------------------------------------------------------------------------
# The NumPy kernel

def _rounds(ks, x0, x1, tmp):
  """Threefry-2x32's 20 rounds on one block, in place. ks: three keys (ints or arrays)."""
  scalar = isinstance(ks[0], int)
  if scalar:
    x0 += np.uint32(ks[0])
    x1 += np.uint32(ks[1])
  else:
    x0 += ks[0]
    x1 += ks[1]
  for g in range(5):
    for r in _ROTATIONS[g & 1]:
      np.add(x0, x1, out=x0)
      np.right_shift(x1, 32 - r, out=tmp)        # rotate left by r ...
      np.left_shift(x1, r, out=x1)
      np.bitwise_or(x1, tmp, out=x1)             # ... done
      np.bitwise_xor(x1, x0, out=x1)
    # key injection after every four rounds
    a, b = ks[(g + 1) % 3], ks[(g + 2) % 3]
    if scalar:
      x0 += np.uint32(a)
      x1 += np.uint32((b + g + 1) & _M32)
    else:
      x0 += a
      x1 += b
      x1 += np.uint32(g + 1)


_ROUND_PLAN = tuple((r, 32 - r) for g in range(5) for r in _ROTATIONS[g & 1])


_SMALL = 8  # up to this many words, hash them all at once on Python ints (below)

# Small inputs: the n words of an operand are packed into one Python int, word i in bits
# [64i, 64i + 32) with a zero gap above it ("SIMD within a register"). Additions carry into
# the gap and rotations spill into the neighbours' gaps; masking with _LANES[n] after each
# step clears both, so every round is a handful of big-int operations whatever n is --
# instead of ~100 NumPy calls, or n passes of the one-word version above.
_LANES = [sum(_M32 << (64 * i) for i in range(n)) for n in range(_SMALL + 1)]
_ONES = [sum(1 << (64 * i) for i in range(n)) for n in range(_SMALL + 1)]


def _threefry_lanes_loop(k0, k1, x0, x1, n):
  """One Threefry-2x32 hash per word, on n words at once (all operands packed, see above;
  the readable form of the generated `_threefry_lanes`)."""
  m, ones = _LANES[n], _ONES[n]
  k2 = k0 ^ k1 ^ (_PARITY * ones)
  ks = (k0, k1, k2)
  x0 = (x0 + k0) & m
  x1 = (x1 + k1) & m
  plan = _ROUND_PLAN
  for g in range(5):
    for r, rr in plan[4 * g:4 * g + 4]:
      x0 = (x0 + x1) & m
      x1 = (((x1 << r) | (x1 >> rr)) & m) ^ x0
    x0 = (x0 + ks[(g + 1) % 3]) & m
    x1 = (x1 + ks[(g + 2) % 3] + (g + 1) * ones) & m
  return x0, x1


def _unrolled_lanes_source():
  """_threefry_lanes_loop as straight-line code (no loop, slicing or tuple indexing: the
  big-int operations are all that is left, which halves the cost for a few words)."""
  ks = ("k0", "k1", "k2")
  lines = ["def _threefry_lanes(k0, k1, x0, x1, n, _L=_LANES, _O=_ONES):",
           "  m = _L[n]; o = _O[n]",
           f"  k2 = k0 ^ k1 ^ ({_PARITY} * o)",
           "  x0 = (x0 + k0) & m", "  x1 = (x1 + k1) & m"]
  for g in range(5):
    for r, rr in _ROUND_PLAN[4 * g:4 * g + 4]:
      lines.append("  x0 = (x0 + x1) & m")
      lines.append(f"  x1 = (((x1 << {r}) | (x1 >> {rr})) & m) ^ x0")
    lines.append(f"  x0 = (x0 + {ks[(g + 1) % 3]}) & m")
    lines.append(f"  x1 = (x1 + {ks[(g + 2) % 3]} + {g + 1} * o) & m")
  lines.append("  return x0, x1")
  return "\n".join(lines) + "\n"


exec(_unrolled_lanes_source())  # defines _threefry_lanes


def _pack(v, shape, n):
  """An operand (broadcast to `shape`) packed into lanes, as above."""
  v = np.asarray(v)
  if v.size == 1:
    return int(v.reshape(())) * _ONES[n]
  w = np.broadcast_to(v, shape).reshape(n).astype(np.uint64)
  return int.from_bytes(w.tobytes(), "little")


def _unpack(x, shape, n):
  return np.frombuffer(x.to_bytes(8 * n, "little"), np.uint64).astype(_u32).reshape(shape)


_COUNTERS = [int.from_bytes(np.arange(n, dtype=np.uint64).tobytes(), "little")
             for n in range(_SMALL + 1)]


def _threefry_small(k0, k1, x0, x1, shape, n, combine):
  if x1 is None:  # counter mode: x0 = 0, x1 = the flat index
    x0, x1 = 0, _COUNTERS[n]
  else:
    x0, x1 = _pack(x0, shape, n), _pack(x1, shape, n)
  y0, y1 = _threefry_lanes(_pack(k0, shape, n), _pack(k1, shape, n), x0, x1, n)
  if combine is not None:
    return _unpack(y0 ^ y1, shape, n)
  return _unpack(y0, shape, n), _unpack(y1, shape, n)


def _scalar_key_counters(keys, n):
  """The packed (y0, y1) of one key (uint32[2]) hashing the counters 0..n-1 (n <= _SMALL):
  the common eager case, without the general path's broadcasting and packing."""
  k0, k1 = keys.tolist()
  o = _ONES[n]
  return _threefry_lanes(k0 * o, k1 * o, 0, _COUNTERS[n], n)


def _words(x, n, shape, dtype=_u32):
  """Packed 64-bit lanes -> an array of `shape` (uint64 lanes narrowed to `dtype`)."""
  w = np.frombuffer(x.to_bytes(8 * n, "little"), np.uint64)
  return (w if dtype == np.uint64 else w.astype(dtype)).reshape(shape)


def _pairs(y0, y1, n, shape):
  """Packed y0, y1 -> uint32[*shape, 2] of (y0_i, y1_i): y1 goes in each lane's high half."""
  return np.frombuffer((y0 | (y1 << 32)).to_bytes(8 * n, "little"), _u32).reshape(
      shape + (2,)).copy()


def _as_flat(x, shape, n):
  """x broadcast to `shape`, flattened; size-1 operands come back as Python ints."""
  if x.size == 1:
    return int(x.reshape(()))
  if x.shape == shape:
    return np.ascontiguousarray(x).reshape(n)
  return np.broadcast_to(x, shape).reshape(n)


def _threefry_blocks(k0, k1, x0, x1, shape, combine=None):
  """Hash (x0, x1) under key (k0, k1), all broadcast to `shape`.

  `x1=None` means "the counter": x1 = lo32(i), x0 = hi32(i) for the flat index i (the
  partitionable iota), generated block by block. `combine(y0, y1, out)` reduces the two
  output words to one array (e.g. xor for 32-bit random bits); without it both words are
  returned.
  """
  n = math.prod(shape)
  if 0 < n <= _SMALL and combine in (None, _xor_into):
    return _threefry_small(k0, k1, x0, x1, shape, n, combine)
  y0 = np.empty(n, _u32)
  y1 = y0 if combine is not None else np.empty(n, _u32)
  if n == 0:
    return y0.reshape(shape) if combine is not None else (y0.reshape(shape), y1.reshape(shape))
  k0, k1 = _as_flat(k0, shape, n), _as_flat(k1, shape, n)
  scalar_keys = isinstance(k0, int) and isinstance(k1, int)
  if scalar_keys:
    ks = (k0, k1, k0 ^ k1 ^ _PARITY)
  else:
    k0 = np.broadcast_to(np.uint32(k0), (n,)) if isinstance(k0, int) else k0
    k1 = np.broadcast_to(np.uint32(k1), (n,)) if isinstance(k1, int) else k1
    k2 = k0 ^ k1 ^ np.uint32(_PARITY)
  if x1 is not None:
    x0, x1 = _as_flat(x0, shape, n), _as_flat(x1, shape, n)
  blk = min(_BLOCK, n)

  def run(lo, hi):  # blocks [lo, hi) of the output, with this worker's own scratch
    a = np.empty(blk, _u32)
    b = np.empty(blk, _u32)
    tmp = np.empty(blk, _u32)
    for s in range(lo, hi, blk):
      e = min(hi, s + blk)
      m = e - s
      ab, bb, tb = a[:m], b[:m], tmp[:m]
      if x1 is None:  # the 64-bit counter, split in two words
        if e - 1 <= _M32:
          ab[...] = 0
          bb[...] = np.arange(s, e, dtype=_u32)
        else:
          idx = np.arange(s, e, dtype=np.uint64)
          ab[...] = idx >> np.uint64(32)
          bb[...] = idx & np.uint64(_M32)
      else:
        ab[...] = x0 if isinstance(x0, int) else x0[s:e]
        bb[...] = x1 if isinstance(x1, int) else x1[s:e]
      _rounds(ks if scalar_keys else (k0[s:e], k1[s:e], k2[s:e]), ab, bb, tb)
      if combine is not None:
        combine(ab, bb, y0[s:e])
      else:
        y0[s:e] = ab
        y1[s:e] = bb

  run(0, n)
  if combine is not None:
    return y0.reshape(shape)
  return y0.reshape(shape), y1.reshape(shape)


def _xor_into(a, b, out):
  np.bitwise_xor(a, b, out=out)


# ---------------------------------------------------------------------------------------
# threefry2x32_p: the hash as an elementwise primitive with two results

threefry2x32_p = Primitive("threefry2x32")
threefry2x32_p.multiple_results = True
threefry2x32_p.elementwise = True


def _threefry2x32_impl(k0, k1, x0, x1):
  shape = np.broadcast_shapes(k0.shape, k1.shape, x0.shape, x1.shape)
  return list(_threefry_blocks(k0, k1, x0, x1, shape))


def _threefry2x32_abstract_eval(*avals):
  if any(a.dtype != _u32 for a in avals):
    raise TypeError("Arguments to threefry2x32 must have uint32 type, got "
                    f"{[str(a.dtype) for a in avals]}.")
  shapes = {a.shape for a in avals if a.shape}
  if len(shapes) > 1:
    raise TypeError("threefry2x32 got incompatible shapes for broadcasting: "
                    f"{', '.join(str(a.shape) for a in avals)}.")
  shape = shapes.pop() if shapes else ()
  return [ShapedArray(shape, _u32), ShapedArray(shape, _u32)]


threefry2x32_p.impl = _threefry2x32_impl
threefry2x32_p.abstract_eval = _threefry2x32_abstract_eval
threefry2x32_p.weak_type_rule = lambda args, params: False
ad.defnondiff(threefry2x32_p)
batching.broadcast_batcher(threefry2x32_p)

# Native tier: a C helper (emitted once per translation unit) and the per-element call.
THREEFRY2X32_C = r"""
static inline uint32_t nj_rotl32(uint32_t v, int r) { return (v << r) | (v >> (32 - r)); }
static inline void nj_threefry2x32(uint32_t k0, uint32_t k1, uint32_t x0, uint32_t x1,
                                   uint32_t *y0, uint32_t *y1) {
  static const int R[8] = {13, 15, 26, 6, 17, 29, 16, 24};
  uint32_t ks[3] = {k0, k1, k0 ^ k1 ^ 0x1BD11BDAu};
  x0 += ks[0]; x1 += ks[1];
  for (int g = 0; g < 5; ++g) {
    for (int j = 0; j < 4; ++j) {
      x0 += x1; x1 = nj_rotl32(x1, R[(g & 1) * 4 + j]); x1 ^= x0;
    }
    x0 += ks[(g + 1) % 3]; x1 += ks[(g + 2) % 3] + (uint32_t)(g + 1);
  }
  *y0 = x0; *y1 = x1;
}
"""
threefry2x32_p.native_support = THREEFRY2X32_C
threefry2x32_p.native_template = "nj_threefry2x32({0}, {1}, {2}, {3}, &{out0}, &{out1})"


def threefry_2x32(keypair, count):
  """Apply the Threefry-2x32 hash to `count` (uint32, any shape) under `keypair`.

  As `jax._src.prng.threefry_2x32`: the flattened count is split into two halves (padded
  with a zero when odd), hashed as (x0, x1) pairs, and the two outputs concatenated.
  """
  from numjax._src.lax import lax
  from numjax._src.lax import slicing
  key0, key1 = keypair
  count = lax.asarray(count)
  if not (key0.dtype == key1.dtype == count.dtype == _u32):
    raise TypeError("threefry_2x32 requires uint32 arguments, got "
                    f"{[str(x.dtype) for x in (key0, key1, count)]}")
  flat = lax.reshape(count, (count.size,))
  odd = flat.shape[0] % 2
  if odd:
    flat = slicing.concatenate([flat, lax.full((1,), 0, _u32)], 0)
  half = flat.shape[0] // 2
  x0 = slicing.slice(flat, (0,), (half,))
  x1 = slicing.slice(flat, (half,), (2 * half,))
  y0, y1 = threefry2x32_p.bind(key0, key1, x0, x1)
  out = slicing.concatenate([y0, y1], 0)
  if odd:
    out = slicing.slice(out, (0,), (count.size,))
  return lax.reshape(out, count.shape)


# ---------------------------------------------------------------------------------------
# Key-level primitives on raw key data (uint32[..., 2])

def _key_words(keys):
  """(k0, k1) of key data uint32[*ks, 2], each shaped ks."""
  return keys[..., 0], keys[..., 1]


def _check_key_data_aval(name, aval):
  if aval.dtype != _u32 or not aval.shape or aval.shape[-1] != 2:
    raise TypeError(f"{name} expects threefry key data (uint32[..., 2]), got "
                    f"{aval.str_short(False)}.")


def _keys_first_batcher(prim):
  """Batching for ops that accept leading key dimensions: the batch axis goes in front."""
  def rule(vals, dims, **params):
    (keys,), (d,) = vals, dims
    return prim.bind(batching.moveaxis(keys, d, 0), **params), 0
  batching.primitive_batchers[prim] = rule


# random_seed: integer seeds[*s] -> key data uint32[*s, 2]

class PRNGImpl(NamedTuple):
  """A PRNG implementation: key shape, name and tag, and its key-level functions."""
  key_shape: tuple
  seed: Callable
  split: Callable
  random_bits: Callable
  fold_in: Callable
  name: str = "<unnamed>"
  tag: str = "?"

  def __hash__(self):
    return hash(self.tag)

  def __eq__(self, other):
    return isinstance(other, PRNGImpl) and self.tag == other.tag and self.name == other.name

  def __ne__(self, other):
    return not self == other

  def __str__(self):
    return self.tag

  def _pp_param(self):
    return self.tag


random_seed_p = Primitive("random_seed")


def _random_seed_impl(seeds, *, impl):
  s = seeds.astype(np.uint64) if seeds.dtype.itemsize == 8 else seeds.astype(np.int64)
  # A 64-bit seed is bit-cast to two words; a 32-bit one is zero-padded (JAX: the high word
  # is `seed >> 32` as a logical shift of the seed's own width, which is 0 for 32 bits).
  if seeds.dtype.itemsize == 8:
    hi = (s >> np.uint64(32)).astype(_u32)
    lo = (s & np.uint64(_M32)).astype(_u32)
  else:
    hi = np.zeros(seeds.shape, _u32)
    lo = (s & _M32).astype(_u32)
  return np.stack([hi, lo], axis=-1)


def _random_seed_abstract_eval(seeds, *, impl):
  if not _dtypes.issubdtype(seeds.dtype, np.integer):
    raise TypeError(f"PRNG key seed must be an integer; got {seeds.str_short(False)}.")
  return ShapedArray(seeds.shape + (2,), _u32)


random_seed_p.impl = _random_seed_impl
random_seed_p.abstract_eval = _random_seed_abstract_eval
random_seed_p.weak_type_rule = lambda args, params: False
random_seed_p.numpy_tier_only = True  # a handful of integer ops, once per key
ad.defnondiff(random_seed_p)
_keys_first_batcher(random_seed_p)


# random_split: keys[*ks, 2] -> keys[*ks, *shape, 2]

random_split_p = Primitive("random_split")


def _random_split_impl(keys, *, shape):
  ks = keys.shape[:-1]
  n = math.prod(shape)
  if not ks and 0 < n <= _SMALL:
    return _pairs(*_scalar_key_counters(keys, n), n, tuple(shape))
  k0, k1 = _key_words(keys)
  nd = len(shape)
  full = ks + tuple(shape)
  k0 = k0.reshape(ks + (1,) * nd)
  k1 = k1.reshape(ks + (1,) * nd)
  if ks:
    # each key hashes the counters of `shape`: counters repeat across the key axes
    cnt = np.broadcast_to(np.arange(math.prod(shape), dtype=_u32).reshape(shape), full)
    y0, y1 = _threefry_blocks(k0, k1, np.uint32(0), cnt, full)
  else:
    y0, y1 = _threefry_blocks(k0, k1, None, None, full)
  return np.stack([y0, y1], axis=-1)


def _random_split_abstract_eval(keys, *, shape):
  _check_key_data_aval("random_split", keys)
  return ShapedArray(keys.shape[:-1] + tuple(shape) + (2,), _u32)


random_split_p.impl = _random_split_impl
random_split_p.abstract_eval = _random_split_abstract_eval
random_split_p.weak_type_rule = lambda args, params: False
random_split_p.numpy_tier_only = True
ad.defnondiff(random_split_p)
_keys_first_batcher(random_split_p)


# random_fold_in: keys[*ks, 2], msgs uint32[*ms] (broadcast) -> keys[*bcast, 2]

random_fold_in_p = Primitive("random_fold_in")


def _random_fold_in_impl(keys, msgs):
  if keys.shape == (2,) and msgs.shape == ():  # one key, one message: one hash of (0, m)
    k0, k1 = keys.tolist()
    y0, y1 = _threefry_lanes(k0, k1, 0, int(msgs) & _M32, 1)
    return np.array([y0, y1], _u32)
  k0, k1 = _key_words(keys)
  shape = np.broadcast_shapes(k0.shape, msgs.shape)
  # fold_in(key, m) = threefry_2x32(key, seed(m)) with seed(m) = (0, m): one hash of (0, m)
  y0, y1 = _threefry_blocks(k0, k1, np.uint32(0), msgs.astype(_u32), shape)
  return np.stack([y0, y1], axis=-1)


def _random_fold_in_abstract_eval(keys, msgs):
  _check_key_data_aval("random_fold_in", keys)
  ks = keys.shape[:-1]
  if msgs.shape and ks and msgs.shape != ks:
    raise TypeError(f"random_fold_in got incompatible shapes for broadcasting: {ks}, "
                    f"{msgs.shape}.")
  return ShapedArray((ks or msgs.shape) + (2,), _u32)


def _random_fold_in_batch(vals, dims):
  keys, msgs = vals
  kd, md = dims
  size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
  keys = batching.bdim_at_front(keys, kd, size)
  msgs = batching.bdim_at_front(msgs, md, size)
  ks = core.get_aval(keys).shape[:-1]
  ms = core.get_aval(msgs).shape
  from numjax._src.lax import lax
  full = ks if len(ks) >= len(ms) else ms
  if ks != full:
    keys = lax.broadcast_in_dim(keys, full + (2,), tuple(range(len(ks))) + (len(full),))
  if ms != full:
    msgs = lax.broadcast_in_dim(msgs, full, tuple(range(len(ms))))
  return random_fold_in_p.bind(keys, msgs), 0


random_fold_in_p.impl = _random_fold_in_impl
random_fold_in_p.abstract_eval = _random_fold_in_abstract_eval
random_fold_in_p.weak_type_rule = lambda args, params: False
random_fold_in_p.numpy_tier_only = True
ad.defnondiff(random_fold_in_p)
batching.primitive_batchers[random_fold_in_p] = _random_fold_in_batch


# random_bits: keys[*ks, 2] -> uint{bit_width}[*ks, *shape]

random_bits_p = Primitive("random_bits")


def _combine_for(bit_width):
  if bit_width == 32:
    return _xor_into
  return None


def _random_bits_impl(keys, *, bit_width, shape):
  ks = keys.shape[:-1]
  shape = tuple(shape)
  n = math.prod(shape)
  if not ks and 0 < n <= _SMALL:
    y0, y1 = _scalar_key_counters(keys, n)
    if bit_width == 64:
      return _words(y1 | (y0 << 32), n, shape, np.uint64)
    return _words(y0 ^ y1, n, shape, UINT_DTYPES[bit_width])
  full = ks + shape
  if math.prod(shape) > 2 ** 64:
    raise NotImplementedError("random bits array of size exceeding 2 ** 64")
  k0, k1 = _key_words(keys)
  nd = len(shape)
  k0 = k0.reshape(ks + (1,) * nd)
  k1 = k1.reshape(ks + (1,) * nd)
  if ks:
    cnt = np.broadcast_to(np.arange(math.prod(shape), dtype=_u32).reshape(shape), full)
    hi, lo = np.uint32(0), cnt
  else:
    hi = lo = None
  dtype = UINT_DTYPES[bit_width]
  if bit_width == 32:
    return _threefry_blocks(k0, k1, hi, lo, full, combine=_xor_into)
  y0, y1 = _threefry_blocks(k0, k1, hi, lo, full)
  if bit_width == 64:
    return (y0.astype(np.uint64) << np.uint64(32)) | y1.astype(np.uint64)
  return (y0 ^ y1).astype(dtype)


def _random_bits_abstract_eval(keys, *, bit_width, shape):
  _check_key_data_aval("random_bits", keys)
  if bit_width not in UINT_DTYPES:
    raise TypeError("requires 8-, 16-, 32- or 64-bit field width.")
  return ShapedArray(keys.shape[:-1] + tuple(shape), UINT_DTYPES[bit_width])


random_bits_p.impl = _random_bits_impl
random_bits_p.abstract_eval = _random_bits_abstract_eval
random_bits_p.weak_type_rule = lambda args, params: False
ad.defnondiff(random_bits_p)
_keys_first_batcher(random_bits_p)
# Native tier: element i of a scalar key's output (`{i}` is the flat output index).
random_bits_p.native_support = THREEFRY2X32_C + r"""
static inline uint64_t nj_random_bits(uint32_t k0, uint32_t k1, uint64_t i, int bit_width) {
  uint32_t y0, y1;
  nj_threefry2x32(k0, k1, (uint32_t)(i >> 32), (uint32_t)i, &y0, &y1);
  if (bit_width == 64) return ((uint64_t)y0 << 32) | y1;
  return (uint64_t)(y0 ^ y1);
}
"""
random_bits_p.native_template = "(({out_ctype})nj_random_bits({key0}, {key1}, {i}, {bit_width}))"


# ---------------------------------------------------------------------------------------
# The threefry implementation object (the key-level functions on raw key data)

def threefry_seed(seed):
  return random_seed_p.bind(seed, impl=threefry_prng_impl)


def threefry_split(key, shape):
  return random_split_p.bind(key, shape=tuple(shape))


def threefry_fold_in(key, data):
  return random_fold_in_p.bind(key, data)


def threefry_random_bits(key, bit_width, shape):
  return random_bits_p.bind(key, bit_width=bit_width, shape=tuple(shape))


threefry_prng_impl = PRNGImpl(
    key_shape=(2,), seed=threefry_seed, split=threefry_split,
    random_bits=threefry_random_bits, fold_in=threefry_fold_in,
    name="threefry2x32", tag="fry")

prngs: dict[str, PRNGImpl] = {"threefry2x32": threefry_prng_impl}
