"""jnp products: dot, matmul (and matvec/vecmat), tensordot, einsum, outer/inner/vdot/vecdot,
kron, cross, and the diagonal family (trace, diagonal, diag, diagflat).

Every contraction is one lax.dot_general whose preferred_element_type is the result dtype
(as JAX, so mixed-dtype operands are not converted first). einsum picks a contraction order
with opt_einsum at trace time and lowers each pairwise step to dot_general with batch
dimensions; single-operand steps become diagonal masks and reduce_sums.
"""
from __future__ import annotations

import collections
import math
import operator

import numpy as np

from numjax._src import core
from numjax._src import dtypes
from numjax._src.core import Tracer
from numjax._src.lax import dot as lax_dot
from numjax._src.lax import lax
from numjax._src.lax import reductions as lax_red
from numjax._src.lax import slicing as lax_slicing
from numjax._src.numpy import lax_numpy
from numjax._src.numpy import reductions
from numjax._src.numpy import util


def _result_dtype(name, args, preferred_element_type):
  """(dtype, weak) of a product: the promoted dtype, or the user's preferred type."""
  if preferred_element_type is None:
    return dtypes.result_type(*args, return_weak_type_flag=True)
  dtypes.check_user_dtype_supported(preferred_element_type, name)
  return dtypes.canonicalize_dtype(preferred_element_type), False


def _dot_general(lhs, rhs, dims, precision, pet):
  # validate here too: the eager path of dot_general skips its shape rule
  lax_dot._dot_general_shape(lhs.shape, rhs.shape, dims)
  return lax.dot_general(lhs, rhs, dims, precision=precision, preferred_element_type=pet)


# ---------------------------------------------------------------------------------------
# dot / matmul / tensordot

def dot(a, b, *, precision=None, preferred_element_type=None, out_sharding=None):
  """Implementation of numpy.dot (scalars multiply; N-d operands contract the last axis of
  `a` with the second-to-last of `b`, their batch axes stacked, not broadcast)."""
  a, b = util.ensure_arraylike("dot", a, b)
  if preferred_element_type is None and util._already_promoted((a, b), "biufc"):
    pet, weak = a.dtype, a.weak_type  # one dtype and weak type already: their own join
  else:
    pet, weak = _result_dtype("dot", (a, b), preferred_element_type)
  if a.ndim == 0 or b.ndim == 0:
    contract = ((), ())
  elif b.ndim == 1:
    contract = ((a.ndim - 1,), (0,))
  else:
    contract = ((a.ndim - 1,), (b.ndim - 2,))
  out = _dot_general(a, b, (contract, ((), ())), precision, pet)
  return lax.convert_element_type(out, pet, weak)


def matmul(a, b, *, precision=None, preferred_element_type=None, out_sharding=None):
  """Implementation of numpy.matmul: batched matrix products with broadcast batch axes and
  NumPy's 1-D promotion rules."""
  a, b = util.ensure_arraylike("matmul", a, b)
  for i, x in enumerate((a, b)):
    if x.ndim < 1:
      raise ValueError(f"matmul input operand {i} must have ndim at least 1, but it has "
                       f"ndim {x.ndim}")
  pet, weak = _result_dtype("matmul", (a, b), preferred_element_type)
  a_mat, b_mat = a.ndim > 1, b.ndim > 1
  a_batch = a.shape[:-2] if a_mat else ()
  b_batch = b.shape[:-2] if b_mat else ()
  nb = max(len(a_batch), len(b_batch))
  a_batch = (None,) * (nb - len(a_batch)) + a_batch
  b_batch = (None,) * (nb - len(b_batch)) + b_batch
  # Sort each output batch position into: a true batch dim of dot_general (both sizes
  # equal), a free dim of one operand (the other is absent or 1: squeezed away), or a
  # position where both are 1 (squeezed from both, re-inserted at the end).
  a_sq, b_sq, both_sq = [], [], []
  a_bd, b_bd = [], []
  out_batch, out_a, out_b = [], [], []
  a_pos = b_pos = 0   # index of the current batch dim in a / b before squeezing
  for i, (sa, sb) in enumerate(zip(a_batch, b_batch)):
    if sa is None:
      out_b.append(i)
    elif sb is None:
      out_a.append(i)
    elif sa == 1 and sb == 1:
      a_sq.append(a_pos)
      b_sq.append(b_pos)
      both_sq.append(i)
    elif sa == 1:
      a_sq.append(a_pos)
      out_b.append(i)
    elif sb == 1:
      b_sq.append(b_pos)
      out_a.append(i)
    elif sa == sb:
      a_bd.append(a_pos - len([d for d in a_sq if d < a_pos]))
      b_bd.append(b_pos - len([d for d in b_sq if d < b_pos]))
      out_batch.append(i)
    else:
      raise ValueError(f"Incompatible types for matmul arguments: "
                       f"{a.aval.str_short(False)} and {b.aval.str_short(False)}")
    a_pos += sa is not None
    b_pos += sb is not None
  if a_mat:
    out_a.append(nb)
  if b_mat:
    out_b.append(nb + a_mat)
  a = lax.squeeze(a, tuple(a_sq)) if a_sq else a
  b = lax.squeeze(b, tuple(b_sq)) if b_sq else b
  dims = (((a.ndim - 1,), (b.ndim - 1 - b_mat,)), (tuple(a_bd), tuple(b_bd)))
  out = _dot_general(a, b, dims, precision, pet)
  perm = tuple(int(p) for p in np.argsort(out_batch + out_a + out_b))
  out = lax.transpose(out, perm)
  if both_sq:
    out = lax.expand_dims(out, tuple(both_sq))
  return lax.convert_element_type(out, pet, weak)


def _bcast_batch(name, x1, x2, core1, core2):
  """Broadcast the leading (batch) axes of x1, x2 (which end in core1/core2 axes)."""
  b1, b2 = x1.shape[:x1.ndim - core1], x2.shape[:x2.ndim - core2]
  try:
    batch = tuple(np.broadcast_shapes(b1, b2))
  except ValueError:
    raise ValueError(f"{name}: batch dimensions {b1} and {b2} are not broadcast-compatible."
                     ) from None
  x1 = lax_numpy.broadcast_to(x1, batch + x1.shape[x1.ndim - core1:])
  x2 = lax_numpy.broadcast_to(x2, batch + x2.shape[x2.ndim - core2:])
  return x1, x2, len(batch)


def matvec(x1, x2, /):
  """Implementation of numpy.matvec: (..., m, n) x (..., n) -> (..., m)."""
  x1, x2 = util.ensure_arraylike("matvec", x1, x2)
  if x1.ndim < 2 or x2.ndim < 1:
    raise ValueError(f"matvec: x1 must be at least 2-D and x2 at least 1-D; got shapes "
                     f"{x1.shape} and {x2.shape}")
  pet, weak = _result_dtype("matvec", (x1, x2), None)
  x1, x2, nb = _bcast_batch("matvec", x1, x2, 2, 1)
  bd = tuple(range(nb))
  out = _dot_general(x1, x2, (((nb + 1,), (nb,)), (bd, bd)), None, pet)
  return lax.convert_element_type(out, pet, weak)


def vecmat(x1, x2, /):
  """Implementation of numpy.vecmat: conj(x1) (..., m) x (..., m, n) -> (..., n)."""
  x1, x2 = util.ensure_arraylike("vecmat", x1, x2)
  if x1.ndim < 1 or x2.ndim < 2:
    raise ValueError(f"vecmat: x1 must be at least 1-D and x2 at least 2-D; got shapes "
                     f"{x1.shape} and {x2.shape}")
  pet, weak = _result_dtype("vecmat", (x1, x2), None)
  if dtypes.issubdtype(x1.dtype, np.complexfloating):
    x1 = lax.conj(x1)
  x1, x2, nb = _bcast_batch("vecmat", x1, x2, 1, 2)
  bd = tuple(range(nb))
  out = _dot_general(x1, x2, (((nb,), (nb,)), (bd, bd)), None, pet)
  return lax.convert_element_type(out, pet, weak)


def tensordot(a, b, axes=2, *, precision=None, preferred_element_type=None,
              out_sharding=None):
  """Implementation of numpy.tensordot (axes: an int, or a pair of ints or sequences)."""
  a, b = util.ensure_arraylike("tensordot", a, b)
  pet, weak = _result_dtype("tensordot", (a, b), preferred_element_type)
  if type(axes) is int:
    if axes > min(a.ndim, b.ndim):
      raise TypeError(f"Number of tensordot axes (axes {axes}) exceeds input ranks "
                      f"({a.shape} and {b.shape})")
    contract = (tuple(range(a.ndim - axes, a.ndim)), tuple(range(axes)))
  elif isinstance(axes, (tuple, list)) and len(axes) == 2:
    ax1, ax2 = axes
    if type(ax1) == type(ax2) == int:
      contract = ((util.canonicalize_axis(ax1, a.ndim),), (util.canonicalize_axis(ax2, b.ndim),))
    elif isinstance(ax1, (tuple, list)) and isinstance(ax2, (tuple, list)):
      if len(ax1) != len(ax2):
        raise TypeError(f"tensordot requires axes lists to have equal length, got {ax1} and "
                        f"{ax2}.")
      contract = (tuple(util.canonicalize_axis(i, a.ndim) for i in ax1),
                  tuple(util.canonicalize_axis(i, b.ndim) for i in ax2))
    else:
      raise TypeError(f"tensordot requires both axes lists to be either ints, tuples or "
                      f"lists, got {ax1} and {ax2}")
  else:
    raise TypeError("tensordot axes argument must be an int, a pair of ints, or a pair of "
                    "lists/tuples of ints.")
  out = _dot_general(a, b, (contract, ((), ())), precision, pet)
  return lax.convert_element_type(out, pet, weak)


# ---------------------------------------------------------------------------------------
# outer / inner / vdot / vecdot / kron / cross

def _mul_bcast(x, y):
  x, y = util.promote_shapes("multiply", x, y)
  return lax.mul(x, y)


def outer(a, b, out=None):
  """Implementation of numpy.outer (inputs are flattened)."""
  if out is not None:
    raise NotImplementedError("The 'out' argument to jnp.outer is not supported.")
  util.check_arraylike("outer", a, b)
  a, b = util.promote_dtypes(a, b)
  a = lax.reshape(a, (a.size,))
  b = lax.reshape(b, (b.size,))
  # a column times a row (lax broadcasts the unit dims), as JAX's jaxpr shows
  col = lax.broadcast_in_dim(a, (a.shape[0], 1), (0,))
  row = lax.broadcast_in_dim(b, (1, b.shape[0]), (1,))
  if a.dtype == np.bool_:
    return lax.bitwise_and(col, row)
  return lax.mul(col, row)


def inner(a, b, *, precision=None, preferred_element_type=None):
  """Implementation of numpy.inner: contract the last axes."""
  a, b = util.ensure_arraylike("inner", a, b)
  if a.ndim == 0 or b.ndim == 0:
    if preferred_element_type is not None:
      dt = dtypes.canonicalize_dtype(preferred_element_type)
      a, b = lax.convert_element_type(a, dt), lax.convert_element_type(b, dt)
    a, b = util.promote_dtypes(a, b)
    return _mul_bcast(a, b) if a.dtype != np.bool_ else lax.bitwise_and(
        *util.promote_shapes("inner", a, b))
  return tensordot(a, b, (-1, -1), precision=precision,
                   preferred_element_type=preferred_element_type)


def vdot(a, b, *, precision=None, preferred_element_type=None):
  """Implementation of numpy.vdot: conj(a) . b over the flattened inputs."""
  a, b = util.ensure_arraylike("vdot", a, b)
  if dtypes.issubdtype(a.dtype, np.complexfloating):
    a = lax.conj(a)
  return dot(lax.reshape(a, (a.size,)), lax.reshape(b, (b.size,)), precision=precision,
             preferred_element_type=preferred_element_type)


def vecdot(x1, x2, /, *, axis=-1, precision=None, preferred_element_type=None):
  """Implementation of numpy.vecdot: conj(x1) . x2 along `axis`, batch axes broadcast."""
  x1, x2 = util.ensure_arraylike("jnp.vecdot", x1, x2)
  if x1.shape[axis] != x2.shape[axis]:
    raise ValueError(f"axes must match; got shapes {x1.shape} and {x2.shape} with "
                     f"axis={axis}")
  pet, weak = _result_dtype("vecdot", (x1, x2), preferred_element_type)
  x1 = lax_numpy.moveaxis(x1, axis, -1)
  x2 = lax_numpy.moveaxis(x2, axis, -1)
  if dtypes.issubdtype(x1.dtype, np.complexfloating):
    x1 = lax.conj(x1)
  x1, x2, nb = _bcast_batch("vecdot", x1, x2, 1, 1)
  bd = tuple(range(nb))
  out = _dot_general(x1, x2, (((nb,), (nb,)), (bd, bd)), precision, pet)
  return lax.convert_element_type(out, pet, weak)


@util.jit_when_traced
def kron(a, b):
  """Implementation of numpy.kron."""
  util.check_arraylike("kron", a, b)
  a, b = util.promote_dtypes(a, b)
  if a.ndim < b.ndim:
    a = lax.reshape(a, (1,) * (b.ndim - a.ndim) + a.shape)
  elif b.ndim < a.ndim:
    b = lax.reshape(b, (1,) * (a.ndim - b.ndim) + b.shape)
  nd = a.ndim
  # as JAX: a and b get interleaved unit dims; mul broadcasts them against each other
  a2 = lax.expand_dims(a, tuple(range(1, 2 * nd, 2)))
  b2 = lax.expand_dims(b, tuple(range(0, 2 * nd, 2)))
  if a2.dtype == np.bool_:
    raise TypeError("mul does not accept dtype bool. Accepted dtypes are subtypes of "
                    "number.")
  prod = lax.mul(a2, b2)
  return lax.reshape(prod, tuple(x * y for x, y in zip(a.shape, b.shape)))


def _component(x, i):
  return lax.squeeze(lax_numpy._slice_axis(x, i, i + 1, x.ndim - 1), (x.ndim - 1,))


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
  """Implementation of numpy.cross (vectors of length 2 or 3)."""
  util.check_arraylike("cross", a, b)
  a, b = util.promote_dtypes(a, b)
  if axis is not None:
    axisa = axisb = axisc = axis
  a = lax_numpy.moveaxis(a, axisa, -1)
  b = lax_numpy.moveaxis(b, axisb, -1)
  if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
    raise ValueError("Dimension must be either 2 or 3 for cross product")
  a, b, _ = _bcast_batch("cross", a, b, 1, 1)

  def sub(x, y):
    return lax.sub(x, y)
  a0, a1 = _component(a, 0), _component(a, 1)
  b0, b1 = _component(b, 0), _component(b, 1)
  if a.shape[-1] == 2 and b.shape[-1] == 2:
    return sub(lax.mul(a0, b1), lax.mul(a1, b0))
  a2 = _component(a, 2) if a.shape[-1] == 3 else lax.full_like(a0, 0)
  b2 = _component(b, 2) if b.shape[-1] == 3 else lax.full_like(b0, 0)
  c = [sub(lax.mul(a1, b2), lax.mul(a2, b1)), sub(lax.mul(a2, b0), lax.mul(a0, b2)),
       sub(lax.mul(a0, b1), lax.mul(a1, b0))]
  c = lax_numpy.stack(c, axis=-1)
  return lax_numpy.moveaxis(c, -1, axisc)


# ---------------------------------------------------------------------------------------
# Diagonals

def _eye_mask(n, m, k):
  """bool[n, m]: True where column - row == k."""
  i = lax.broadcasted_iota(np.int32, (n, m), 0)
  j = lax.broadcasted_iota(np.int32, (n, m), 1)
  return lax.eq(lax.add(i, lax._const(i, k)), j)


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
  """Implementation of numpy.trace."""
  a = util.ensure_arraylike("trace", a)
  if out is not None:
    raise NotImplementedError("The 'out' argument to jnp.trace is not supported.")
  if a.ndim < 2:
    raise ValueError("diag requires an array of at least two dimensions")
  ax1, ax2 = util.canonicalize_axis(axis1, a.ndim), util.canonicalize_axis(axis2, a.ndim)
  if ax1 == ax2:
    raise ValueError(f"axis1 and axis2 can not be same. axis1={axis1} and axis2={axis2}")
  offset = core.concrete_or_error(operator.index, offset, "'offset' argument of jnp.trace()")
  if dtype is not None:
    dtypes.check_user_dtype_supported(dtype, "trace")
  a = lax_numpy._moveaxis(a, (ax1, ax2), (-2, -1))
  n, m = a.shape[-2:]
  mask = lax.broadcast_in_dim(_eye_mask(n, m, offset), a.shape, (a.ndim - 2, a.ndim - 1))
  a = lax.select(mask, a, lax.full_like(a, 0))
  return reductions.sum(a, axis=(-2, -1), dtype=dtype)


@util.jit_when_traced(static_argnames=("offset", "axis1", "axis2"))
def diagonal(a, offset=0, axis1=0, axis2=1):
  """Implementation of numpy.diagonal (a new array: strided slice of the flattened
  matrix, so it is differentiable and batchable without gather)."""
  a = util.ensure_arraylike("diagonal", a)
  if a.ndim < 2:
    raise ValueError("diagonal requires an array of at least two dimensions.")
  offset = core.concrete_or_error(operator.index, offset,
                                  "'offset' argument of jnp.diagonal()")
  ax1, ax2 = util.canonicalize_axis(axis1, a.ndim), util.canonicalize_axis(axis2, a.ndim)
  if ax1 == ax2:
    raise ValueError("axis1 and axis2 cannot be the same")
  a = lax_numpy._moveaxis(a, (ax1, ax2), (-2, -1))
  nd = a.ndim
  n, m = a.shape[-2:]
  if offset >= 0:
    a = lax_numpy._slice_axis(a, min(offset, m), m, nd - 1)
  else:
    a = lax_numpy._slice_axis(a, min(-offset, n), n, nd - 2)
  n, m = a.shape[-2:]
  size = min(n, m)
  batch = a.shape[:-2]
  if size == 0:
    return lax.full(batch + (0,), 0, a.dtype) if a.size == 0 else \
        lax.reshape(lax_numpy._slice_axis(lax.reshape(a, batch + (n * m,)), 0, 0, nd - 2),
                    batch + (0,))
  a = lax_numpy._slice_axis(a, 0, size, nd - 2)
  flat = lax.reshape(a, batch + (size * m,))
  return lax_numpy._slice_axis(flat, 0, size * m, nd - 2, stride=m + 1)


def diag(v, k=0):
  """Implementation of numpy.diag: build a diagonal matrix (1-D) or read one (2-D)."""
  v = util.ensure_arraylike("diag", v)
  k = core.concrete_or_error(operator.index, k, "'k' argument of jnp.diag")
  if v.ndim == 1:
    n = v.shape[0] + abs(k)
    vp = lax_slicing.pad(v, lax._const(v, 0), ((max(0, k), max(0, -k), 0),))
    rows = lax.broadcast_in_dim(vp, (n, n), (1,))
    return lax.select(_eye_mask(n, n, k), rows, lax.full_like(rows, 0))
  if v.ndim == 2:
    return diagonal(v, offset=k)
  raise ValueError("diag input must be 1d or 2d")


def diagflat(v, k=0):
  """Implementation of numpy.diagflat: diag of the flattened input."""
  v = util.ensure_arraylike("diagflat", v)
  return diag(lax.reshape(v, (v.size,)), k)


# ---------------------------------------------------------------------------------------
# einsum

def _opt_einsum():
  import opt_einsum  # imported on first use: keeps `import numjax` fast
  return opt_einsum


_unoptimized_cls = None


def _unoptimized():
  """A path that contracts operands left to right, in the order given (optimize=False)."""
  global _unoptimized_cls
  if _unoptimized_cls is None:
    oe = _opt_einsum()

    class Unoptimized(oe.paths.PathOptimizer):
      def __call__(self, inputs, output, size_dict, memory_limit=None):
        return [(0, 1)] * (len(inputs) - 1)
    _unoptimized_cls = Unoptimized
  return _unoptimized_cls()


def _path_type(optimize):
  if optimize is True:
    return "optimal"
  if optimize is False:
    return _unoptimized()
  return optimize


def _einsum_operands(name, subscripts, operands):
  """The einsum arguments with every array operand converted (sublists left alone)."""
  if isinstance(subscripts, str):
    util.check_arraylike(name, *operands)
    return (subscripts, *[util._asarray(x) for x in operands])
  # interleaved form: op0, sublist0, op1, sublist1, ..., [output sublist]
  args = (subscripts, *operands)
  out = []
  for i, x in enumerate(args):
    if i % 2 == 0 and not (i == len(args) - 1 and isinstance(x, (list, tuple))):
      util.check_arraylike(name, x)
      out.append(util._asarray(x))
    else:
      out.append(x)
  return tuple(out)


def einsum(subscripts, /, *operands, out=None, optimize="auto", precision=None,
           preferred_element_type=None, _dot_general=lax.dot_general, out_sharding=None):
  """Implementation of numpy.einsum.

  The contraction order comes from opt_einsum (optimize: 'auto', 'optimal', 'greedy', ...,
  True = 'optimal', False = left to right, or an explicit path); each pairwise step is one
  dot_general with batch dimensions.
  """
  if out is not None:
    raise NotImplementedError("The 'out' argument to jnp.einsum is not supported.")
  args = _einsum_operands("einsum", subscripts, operands)
  oe = _opt_einsum()
  ops, contractions = oe.contract_path(*args, einsum_call=True, use_blas=True,
                                       optimize=_path_type(optimize))
  contractions = tuple((c[0], frozenset(c[1]), c[2]) for c in contractions)
  pet, weak = _result_dtype("einsum", ops, preferred_element_type)
  return _einsum(list(ops), contractions, precision, pet, weak, _dot_general)


def einsum_path(subscripts, /, *operands, optimize="auto"):
  """Implementation of numpy.einsum_path (opt_einsum's path and its report)."""
  args = _einsum_operands("einsum_path", subscripts, operands)
  return _opt_einsum().contract_path(*args, optimize=_path_type(optimize))


def _drop_names(names, drop):
  return "".join(n for n in names if n not in drop)


def _einsum_sum(x, axes, pet):
  if not axes:
    return x
  dt = dtypes.result_type(x, pet)
  if dt != x.dtype:
    x = lax.convert_element_type(x, dt)
  red = lax_red.reduce_or if x.dtype == np.bool_ else lax_red.reduce_sum
  return red(x, tuple(axes))


def _sum_uniques(x, names, uniques, pet):
  """Sum out indices that occur once here and nowhere else."""
  if not uniques:
    return x, names
  x = _einsum_sum(x, [names.index(n) for n in uniques], pet)
  return x, _drop_names(names, uniques)


def _sum_repeats(x, names, counts, keep_names, pet):
  """An index repeated within one operand: keep its diagonal (mask), then sum it away or
  down to one copy if it is still needed."""
  for name, count in counts.items():
    if count <= 1:
      continue
    axes = [i for i, n in enumerate(names) if n == name]
    iotas = [lax.broadcasted_iota(np.int32, x.shape, ax) for ax in axes]
    mask = lax.eq(iotas[0], iotas[1])
    for it in iotas[2:]:
      mask = lax.bitwise_and(mask, lax.eq(iotas[0], it))
    x = lax.select(mask, x, lax.full_like(x, 0))
    if name not in keep_names:
      x = _einsum_sum(x, axes, pet)
      names = names.replace(name, "")
    else:
      x = _einsum_sum(x, axes[:-1], pet)
      names = names.replace(name, "", count - 1)
  return x, names


def _drop_singletons(x, names, other_shape, other_names):
  """Squeeze size-1 axes whose index has a larger size in the other operand (broadcast)."""
  drop = [i for i, n in enumerate(names)
          if x.shape[i] == 1 and other_names.find(n) != -1
          and other_shape[other_names.find(n)] != 1]
  if not drop:
    return x, names
  return lax.squeeze(x, tuple(drop)), "".join(n for i, n in enumerate(names) if i not in drop)


def _einsum(operands, contractions, precision, pet, weak, dot_general_fn):
  operands = list(util.promote_dtypes(*operands))
  for op_indices, contracted, einstr in contractions:
    contracted = sorted(contracted)
    input_str, result_names = einstr.split("->")
    input_names = input_str.split(",")
    if len(op_indices) == 1:
      x = operands.pop(op_indices[0])
      names, = input_names
      counts = collections.Counter(names)
      x, names = _sum_uniques(x, names, [n for n in contracted if counts[n] == 1], pet)
      x, names = _sum_repeats(x, names, counts, result_names, pet)
    elif len(op_indices) == 2:
      lhs, rhs = (operands.pop(i) for i in op_indices)
      lhs_names, rhs_names = input_names
      lhs, lhs_names = _drop_singletons(lhs, lhs_names, rhs.shape, rhs_names)
      rhs, rhs_names = _drop_singletons(rhs, rhs_names, lhs.shape, lhs_names)
      lc, rc = collections.Counter(lhs_names), collections.Counter(rhs_names)
      lhs, lhs_names = _sum_uniques(
          lhs, lhs_names, [n for n in contracted if lc[n] == 1 and rc[n] == 0], pet)
      rhs, rhs_names = _sum_uniques(
          rhs, rhs_names, [n for n in contracted if rc[n] == 1 and lc[n] == 0], pet)
      lhs, lhs_names = _sum_repeats(lhs, lhs_names, lc, result_names + rhs_names, pet)
      rhs, rhs_names = _sum_repeats(rhs, rhs_names, rc, result_names + lhs_names, pet)
      present = set(lhs_names) | set(rhs_names)
      contracted = [n for n in contracted if n in present]
      shared = set(lhs_names) & set(rhs_names)
      batch = [n for n in result_names if n in shared]
      l_batch = tuple(lhs_names.index(n) for n in batch)
      r_batch = tuple(rhs_names.index(n) for n in batch)
      l_cont = tuple(lhs_names.index(n) for n in contracted)
      r_cont = tuple(rhs_names.index(n) for n in contracted)
      gone = "".join(batch) + "".join(contracted)
      l_rest, r_rest = _drop_names(lhs_names, gone), _drop_names(rhs_names, gone)
      # opt_einsum tends to contract right to left: try (rhs, lhs) first, which often
      # yields the result order directly (no transpose).
      names = "".join(batch) + r_rest + l_rest
      if names == result_names:
        x = dot_general_fn(rhs, lhs, ((r_cont, l_cont), (r_batch, l_batch)),
                           precision=precision, preferred_element_type=pet)
      else:
        names = "".join(batch) + l_rest + r_rest
        x = dot_general_fn(lhs, rhs, ((l_cont, r_cont), (l_batch, r_batch)),
                           precision=precision, preferred_element_type=pet)
    else:
      raise NotImplementedError("einsum contraction of more than two operands at once")
    if names != result_names:
      x = lax.transpose(x, tuple(names.index(n) for n in result_names))
    operands.append(x)
  return lax.convert_element_type(operands[0], pet, weak)
