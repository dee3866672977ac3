"""Reductions: the monoid reductions (reduce_sum/max/min/prod/and/or/xor), argmax/argmin,
the generic variadic `reduce`, and the cumulative reductions (cumsum, cumprod, cummax,
cummin, cumlogsumexp).

Each primitive keeps its impl (NumPy on raw buffers), shape/dtype rule, jvp or transpose,
batching rule and native template together. Reductions carry a `native_template` dict
describing their accumulator: `init` (a C expression for the identity; `{ctype}` is the
element type) and `combine` (a C expression of `{acc}` and `{x}`).
"""
from __future__ import annotations

import operator

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.config import config
from numjax._src.core import Primitive, ShapedArray
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters.ad import Zero
from numjax._src.lax import lax as _lax
from numjax._src.lax import slicing
from numjax._src.lax.lax import asarray

_bool = np.dtype(bool)
_f32 = np.dtype(np.float32)
_INT_ONLY = frozenset({int})


_LOWP_ACC = frozenset({np.dtype(np.float16), *_lax._lowp})


def _lowp_accumulate(dt):
  """float16/bfloat16/float8 reductions accumulate in float32 (NumPy has no fast,
  accurate low-precision accumulators), then round once."""
  return dt in _LOWP_ACC


def _is_int_or_bool(dt):
  return dt == _bool or _dtypes.issubdtype(dt, np.integer)


_checked_caches: list = []  # cleared on any config change (a rule may read a flag)
config.on_change(lambda name, value: [c.clear() for c in _checked_caches])


def checked_eager(p):
  """Eager path that runs the shape/dtype rule (JAX's errors, eagerly too) and takes the
  result's weak type from it. The rule runs once per signature (input shapes, dtypes, weak
  types and params): later calls with that signature pay a dict lookup, not the rule.
  Failed checks are not cached, so invalid inputs raise every time."""
  impl, rule = p.impl, p.abstract_eval
  multiple = p.multiple_results
  wrap = core._wrap_array
  checked: dict = {}  # signature -> out weak type (a tuple of them for multiple results)
  _checked_caches.append(checked)

  def eager(*args, **params):
    if len(args) == 1:  # (most checked primitives are unary: skip the comprehensions)
      a = args[0]
      v = a._value
      vals = [v]
      sig = (v.shape, v.dtype, a.weak_type)
    else:
      vals = [a._value for a in args]
      sig = [(v.shape, v.dtype, a.weak_type) for v, a in zip(vals, args)]
    try:
      key = (*sig, *params.items())
      weak = checked.get(key)
    except TypeError:  # an unhashable parameter: check every time
      key = weak = None
    if weak is None:
      out_aval = rule(*[a.aval for a in args], **params)
      weak = (tuple(a.weak_type for a in out_aval) if multiple else out_aval.weak_type)
      if key is not None:
        if len(checked) >= 4096:
          checked.clear()
        checked[key] = weak
    out = impl(*vals, **params)
    if multiple:
      return [wrap(o, w) for o, w in zip(out, weak)]
    return wrap(out, weak)
  p.eager = eager
  return p


# ---------------------------------------------------------------------------------------
# Shape rule shared by the reductions

def _check_axes(aval, axes):
  nd = len(aval.shape)
  for a in axes:
    if not 0 <= a < nd:
      raise ValueError(f"reduction axes {tuple(axes)} contains out-of-bounds indices for "
                       f"{aval.str_short(False)}.")
  if len(axes) > 1 and len(set(axes)) != len(axes):
    raise ValueError(f"duplicate value in 'axes' of reduction: {tuple(axes)}")


def _reduced_shape(shape, axes):
  return tuple(s for i, s in enumerate(shape) if i not in axes)


def _kept_dims(ndim, axes):
  return tuple(i for i in range(ndim) if i not in axes)


def _normalize_axes(axes):
  """Static axes as a tuple of Python ints (JAX keeps the caller's order)."""
  if type(axes) is tuple and _INT_ONLY.issuperset(map(type, axes)):
    return axes
  if isinstance(axes, (int, np.integer)):
    axes = (axes,)
  return tuple(operator.index(core.concrete_or_error(
      operator.index, a, "Reduction axes must be static.")) for a in axes)


def _batch_axes(axes, bdim):
  """Unbatched reduction axes -> axes of the batched operand, and the new batch dim."""
  new_axes = tuple(a + (a >= bdim) for a in axes)
  out_bdim = bdim - sum(1 for a in new_axes if a < bdim)
  return new_axes, out_bdim


# ---------------------------------------------------------------------------------------
# Monoid reductions: one table row each

def _identity(name, dt):
  """The reduction's identity for dtype dt (what XLA returns for an empty reduction)."""
  if name in ("sum", "or", "xor"):
    return np.zeros((), dt)
  if name == "prod":
    return np.ones((), dt)
  if name == "and":
    return np.array(True) if dt == _bool else np.array(-1).astype(dt)
  big = name == "min"
  if dt == _bool:
    return np.array(big)
  if _dtypes.issubdtype(dt, np.integer):
    info = np.iinfo(dt)
    return np.array(info.max if big else info.min, dt)
  if not _dtypes.supports_inf(dt):   # float8s without inf: +-max (as JAX), not NaN
    m = _dtypes.finfo(dt).max
    return np.array(m if big else -m, dt)
  return np.array(np.inf if big else -np.inf, dt)


def _np_reduce_sum(x, *, axes, out_sharding=None):
  dt = x.dtype
  if dt in _LOWP_ACC:
    return np.asarray(np.add.reduce(x, axis=axes, dtype=_f32)).astype(dt)
  return np.asarray(np.add.reduce(x, axis=axes, dtype=dt))  # np.sum, minus its dispatch


def _np_reduce_prod(x, *, axes):
  dt = x.dtype
  with np.errstate(all="ignore"):
    if dt in _LOWP_ACC:
      return np.asarray(np.multiply.reduce(x, axis=axes, dtype=_f32)).astype(dt)
    return np.asarray(np.multiply.reduce(x, axis=axes, dtype=dt))


def _np_chooser(ufunc, name):
  def impl(x, *, axes):
    dt = x.dtype
    if not axes:
      return x
    init = _identity(name, dt)
    if dt in _lax._lowp:
      res = ufunc.reduce(x.astype(_f32), axis=axes, initial=init.astype(_f32))
      return np.asarray(res).astype(dt)
    if dt.kind == "c":
      return np.asarray(ufunc.reduce(x, axis=axes, initial=init) if x.size else
                        np.full(_reduced_shape(x.shape, axes), init, dt))
    return np.asarray(ufunc.reduce(x, axis=axes, initial=init))
  return impl


def _np_logical(bool_ufunc, int_ufunc, name):
  def impl(x, *, axes):
    dt = x.dtype
    if not axes:
      return x
    uf = bool_ufunc if dt == _bool else int_ufunc
    if x.size == 0:
      return np.full(_reduced_shape(x.shape, axes), _identity(name, dt), dt)
    res = x
    # ufunc.reduce takes a tuple of axes only for reorderable ufuncs: reduce one at a time
    for a in sorted(axes, reverse=True):
      res = uf.reduce(res, axis=a)
    return np.asarray(res, dtype=dt)
  return impl


def _dtype_check_number(name):
  def check(dt):
    if not _dtypes.issubdtype(dt, np.number):
      raise TypeError(f"{name} does not accept dtype {np.dtype(dt).name}. Accepted dtypes "
                      "are subtypes of number.")
  return check


def _dtype_check_any(name):
  return lambda dt: None


def _dtype_check_logical(name):
  def check(dt):
    if not _is_int_or_bool(dt):
      raise TypeError(f"logical reduction requires operand dtype bool or int, got "
                      f"{np.dtype(dt).name}.")
  return check


def _make_reduction(name, impl, dtype_check, template, extra_params=()):
  p = Primitive(f"reduce_{name}")
  p.impl = impl
  p.native_template = template
  p.reduction = name
  check = dtype_check(p.name)
  ok_dtypes = set()  # dtypes already accepted: keeps the eager check to a set lookup

  def abstract_eval(x, *, axes, **params):
    dt = x.dtype
    if dt not in ok_dtypes:
      check(dt)
      ok_dtypes.add(dt)
    _check_axes(x, axes)
    return ShapedArray(_reduced_shape(x.shape, axes), dt, x.weak_type)
  p.abstract_eval = abstract_eval

  def batch(vals, dims, *, axes, **params):
    (x,), (d,) = vals, dims
    new_axes, out_d = _batch_axes(axes, d)
    return p.bind(x, axes=new_axes, **params), out_d
  batching.primitive_batchers[p] = batch
  return checked_eager(p)


_T = "{ctype}"
reduce_sum_p = _make_reduction(
    "sum", _np_reduce_sum, _dtype_check_number,
    {"init": "0", "combine": "({acc}+{x})"})
reduce_prod_p = _make_reduction(
    "prod", _np_reduce_prod, _dtype_check_number,
    {"init": "1", "combine": "({acc}*{x})"})
reduce_max_p = _make_reduction(
    "max", _np_chooser(np.maximum, "max"), _dtype_check_any,
    {"init": "nj_lowest(" + _T + ")", "combine": "nj_max({acc},{x})"})
reduce_min_p = _make_reduction(
    "min", _np_chooser(np.minimum, "min"), _dtype_check_any,
    {"init": "nj_highest(" + _T + ")", "combine": "nj_min({acc},{x})"})
reduce_and_p = _make_reduction(
    "and", _np_logical(np.logical_and, np.bitwise_and, "and"), _dtype_check_logical,
    {"init": "((" + _T + ")~0)", "combine": "({acc}&{x})"})
reduce_or_p = _make_reduction(
    "or", _np_logical(np.logical_or, np.bitwise_or, "or"), _dtype_check_logical,
    {"init": "0", "combine": "({acc}|{x})"})
reduce_xor_p = _make_reduction(
    "xor", _np_logical(np.logical_xor, np.bitwise_xor, "xor"), _dtype_check_logical,
    {"init": "0", "combine": "({acc}^{x})"})
# reduce_sum carries an out_sharding param (printed, as JAX prints it); the others don't.


def _reduction_wrapper(p, with_sharding=False):
  if with_sharding:
    def f(operand, axes, *, out_sharding=None):
      return p.bind(asarray(operand), axes=_normalize_axes(axes), out_sharding=out_sharding)
  else:
    def f(operand, axes):
      return p.bind(asarray(operand), axes=_normalize_axes(axes))
  f.__name__ = p.name
  f.__doc__ = (f"lax.{p.name}(operand, axes): {p.reduction}-reduce `operand` over `axes` "
               "(keeps the dtype; an empty reduction gives the identity).")
  return f


reduce_sum = _reduction_wrapper(reduce_sum_p, with_sharding=True)
reduce_prod = _reduction_wrapper(reduce_prod_p)
reduce_max = _reduction_wrapper(reduce_max_p)
reduce_min = _reduction_wrapper(reduce_min_p)
reduce_and = _reduction_wrapper(reduce_and_p)
reduce_or = _reduction_wrapper(reduce_or_p)
reduce_xor = _reduction_wrapper(reduce_xor_p)


# ---- derivatives ----------------------------------------------------------------------

def _reduce_sum_transpose(ct, x, *, axes, out_sharding=None):
  shape = x.aval.shape
  if type(ct) is Zero:
    return [Zero(x.aval)]
  return [_lax.broadcast_in_dim(ct, shape, _kept_dims(len(shape), axes))]


ad.deflinear(reduce_sum_p, _reduce_sum_transpose)


def _reduce_chooser_jvp(p):
  # The tangent is the mean of the tangents at the locations of the extremum (ties share).
  def jvp(primals, tangents, *, axes):
    (x,), (g,) = primals, tangents
    ans = p.bind(x, axes=axes)
    if type(g) is Zero:
      return ans, Zero(ad.tangent_aval(core.get_aval(ans)))
    shape = core.get_aval(x).shape
    ans_b = _lax.broadcast_in_dim(ans, shape, _kept_dims(len(shape), axes))
    where = _lax.convert_element_type(_lax.eq(x, ans_b), core.get_aval(g).dtype)
    counts = reduce_sum(where, axes)
    return ans, _lax.div(reduce_sum(_lax.mul(g, where), axes), counts)
  ad.primitive_jvps[p] = jvp


_reduce_chooser_jvp(reduce_max_p)
_reduce_chooser_jvp(reduce_min_p)
for _p in (reduce_and_p, reduce_or_p, reduce_xor_p):
  ad.defnondiff(_p)


def _reduce_prod_jvp(primals, tangents, *, axes):
  # d prod = sum_j t_j * prod_{k != j} x_k, computed as the jvp of a pairwise product tree
  # so that zeros are handled exactly (no division) and higher orders come for free.
  (x,), (g,) = primals, tangents
  ans = reduce_prod_p.bind(x, axes=axes)
  if type(g) is Zero or not axes:
    return ans, (g if axes == () else Zero(ad.tangent_aval(core.get_aval(ans))))
  aval = core.get_aval(x)
  kept = _kept_dims(aval.ndim, axes)
  perm = tuple(axes) + kept
  n = int(np.prod([aval.shape[a] for a in axes], dtype=np.int64))
  rest = tuple(aval.shape[k] for k in kept)
  xs = _lax.reshape(_lax.transpose(x, perm), (n,) + rest)
  gs = _lax.reshape(_lax.transpose(g, perm), (n,) + rest)
  _, t = _prod_tree_jvp(xs, gs)
  return ans, t


def _prod_tree_jvp(x, t):
  """(prod over axis 0, its tangent) for x, t of shape (n, ...), by a pairwise tree."""
  n = core.get_aval(x).shape[0]
  if n == 0:
    rest = core.get_aval(x).shape[1:]
    return (_lax.full(rest, 1, core.get_aval(x).dtype),
            _lax.full(rest, 0, core.get_aval(t).dtype))
  while n > 1:
    if n % 2:
      one = _lax._const(x, 1)
      zero = _lax._const(t, 0)
      cfg = [(0, 1, 0)] + [(0, 0, 0)] * (core.get_aval(x).ndim - 1)
      x = slicing.pad(x, one, cfg)
      t = slicing.pad(t, zero, cfg)
      n += 1
    h = n // 2
    xa, xb = slicing.slice_in_dim(x, 0, h, axis=0), slicing.slice_in_dim(x, h, n, axis=0)
    ta, tb = slicing.slice_in_dim(t, 0, h, axis=0), slicing.slice_in_dim(t, h, n, axis=0)
    x, t = _lax.mul(xa, xb), _lax.add(_lax.mul(ta, xb), _lax.mul(xa, tb))
    n = h
  rest = core.get_aval(x).shape[1:]
  return _lax.reshape(x, rest), _lax.reshape(t, rest)


ad.primitive_jvps[reduce_prod_p] = _reduce_prod_jvp


# ---------------------------------------------------------------------------------------
# argmax / argmin: first occurrence; NaN counts as the extremum (as XLA)

def _make_argminmax(name, np_fn):
  p = Primitive(name)

  def impl(x, *, axes, index_dtype):
    (axis,) = axes
    if x.dtype in _lax._lowp or x.dtype == np.float16:
      x = x.astype(_f32)
    # np.argmax/argmin return the first NaN if any, else the first extremum: XLA's rule.
    return np.asarray(np_fn(x, axis=axis)).astype(index_dtype)

  def abstract_eval(x, *, axes, index_dtype):
    if len(axes) != 1:
      raise ValueError(f"{name} requires exactly one axis, got axes={axes}.")
    (axis,) = axes
    if not 0 <= axis < x.ndim:
      raise ValueError(f"Invalid axis {axis} for operand shape {x.shape}")
    if x.shape[axis] == 0:
      raise ValueError(f"argmin and argmax require non-empty reduced dimension. "
                       f"operand.shape={x.shape} axis={axis}")
    if not _dtypes.issubdtype(index_dtype, np.integer):
      raise TypeError(f"index_dtype must be an integer type, but got {np.dtype(index_dtype).name}")
    if x.dtype.kind == "c":
      raise TypeError(f"{'gt' if name == 'argmax' else 'lt'} does not accept dtype "
                      f"{x.dtype.name} at position 0. Accepted dtypes at position 0 are "
                      "subtypes of integer, floating, bool.")
    return ShapedArray(_reduced_shape(x.shape, axes), index_dtype, False)

  def batch(vals, dims, *, axes, index_dtype):
    (x,), (d,) = vals, dims
    new_axes, out_d = _batch_axes(axes, d)
    return p.bind(x, axes=new_axes, index_dtype=index_dtype), out_d

  p.impl = impl
  p.abstract_eval = abstract_eval
  p.weak_type_rule = lambda args, params: False
  p.native_template = {"init": "0", "combine": ("nj_arg" + name[3:] + "({acc},{acc_val},{x},"
                                                "{idx})")}
  p.reduction = name
  batching.primitive_batchers[p] = batch
  ad.defnondiff(p)
  return checked_eager(p)


argmax_p = _make_argminmax("argmax", np.argmax)
argmin_p = _make_argminmax("argmin", np.argmin)


def _argminmax_wrapper(p):
  def f(operand, axis, index_dtype):
    operand = asarray(operand)
    axis = operator.index(axis)
    if not 0 <= axis < operand.ndim:
      raise ValueError(f"Invalid axis {axis} for operand shape {operand.shape}")
    if not _dtypes.issubdtype(index_dtype, np.integer):
      raise TypeError(f"index_dtype must be an integer type, but got "
                      f"{np.dtype(index_dtype).name}")
    index_dtype = _dtypes.canonicalize_dtype(index_dtype)
    return p.bind(operand, axes=(axis,), index_dtype=index_dtype)
  f.__name__ = p.name
  f.__doc__ = (f"lax.{p.name}(operand, axis, index_dtype): index of the first "
               f"{p.name[3:]}imum along `axis` (NaN counts as the {p.name[3:]}imum).")
  return f


argmax = _argminmax_wrapper(argmax_p)
argmin = _argminmax_wrapper(argmin_p)


# ---------------------------------------------------------------------------------------
# Cumulative reductions: cumsum, cumprod, cummax, cummin, cumlogsumexp

def _flip_if(x, axis, reverse):
  return np.flip(x, axis) if reverse else x


def _np_complex_logaddexp(a, b):
  hi = np.where(np.real(a) >= np.real(b), a, b)
  lo = np.where(np.real(a) >= np.real(b), b, a)
  with np.errstate(all="ignore"):
    out = hi + np.log1p(np.exp(lo - hi))
    return np.where(np.isneginf(np.real(hi)), lo, out)


def _cum_impl(name):
  def impl(x, *, axis, reverse):
    dt = x.dtype
    if x.shape[axis] == 0:
      return x
    x = _flip_if(x, axis, reverse)
    acc_dt = _f32 if _lowp_accumulate(dt) else dt
    with np.errstate(all="ignore"):
      if name == "cumsum":
        out = np.cumsum(x, axis=axis, dtype=acc_dt)
      elif name == "cumprod":
        out = np.cumprod(x, axis=axis, dtype=acc_dt)
      elif name in ("cummax", "cummin"):
        uf = np.maximum if name == "cummax" else np.minimum
        out = uf.accumulate(x.astype(acc_dt, copy=False), axis=axis)
      elif dt.kind == "c":  # cumlogsumexp of complex: a sequential complex logaddexp
        out = np.array(x, copy=True)
        xs = np.moveaxis(out, axis, 0)
        for i in range(1, xs.shape[0]):
          xs[i] = _np_complex_logaddexp(xs[i - 1], xs[i])
      else:
        out = np.logaddexp.accumulate(x.astype(acc_dt, copy=False), axis=axis)
    return np.asarray(_flip_if(out, axis, reverse)).astype(dt, copy=False)
  return impl


def _make_cumulative(name, template):
  p = Primitive(name)
  p.impl = _cum_impl(name)
  p.native_template = template
  p.cumulative = name

  ok_dtypes = set()

  def abstract_eval(x, *, axis, reverse):
    if axis < 0:
      raise ValueError("XLA operations do not allow negative axes")
    if axis >= x.ndim:
      raise ValueError(f"axis {axis} is out of bounds for array of shape {x.shape}")
    if x.dtype in ok_dtypes:
      return x
    ok = (_dtypes.issubdtype(x.dtype, np.inexact) if name == "cumlogsumexp"
          else _dtypes.issubdtype(x.dtype, np.number))
    if ok:
      ok_dtypes.add(x.dtype)
    else:
      kind = "inexact" if name == "cumlogsumexp" else "number"
      raise TypeError(f"{name} does not accept dtype {x.dtype.name}. Accepted dtypes are "
                      f"subtypes of {kind}.")
    return x

  def batch(vals, dims, *, axis, reverse):
    (x,), (d,) = vals, dims
    return p.bind(x, axis=axis + (axis >= d), reverse=reverse), d

  p.abstract_eval = abstract_eval
  batching.primitive_batchers[p] = batch
  return checked_eager(p)


cumsum_p = _make_cumulative("cumsum", {"init": "0", "combine": "({acc}+{x})"})
cumprod_p = _make_cumulative("cumprod", {"init": "1", "combine": "({acc}*{x})"})
cummax_p = _make_cumulative("cummax", {"init": "nj_lowest({ctype})",
                                       "combine": "nj_max({acc},{x})"})
cummin_p = _make_cumulative("cummin", {"init": "nj_highest({ctype})",
                                       "combine": "nj_min({acc},{x})"})
cumlogsumexp_p = _make_cumulative("cumlogsumexp", {"init": "(-INFINITY)",
                                                   "combine": "nj_logaddexp({acc},{x})"})


def _cum_wrapper(p):
  def f(operand, axis: int = 0, reverse: bool = False):
    operand = asarray(operand)
    axis = operator.index(axis)
    return p.bind(operand, axis=axis, reverse=bool(reverse))
  f.__name__ = p.name
  f.__doc__ = (f"lax.{p.name}(operand, axis=0, reverse=False): cumulative "
               f"{p.name[3:]} along `axis` (from the end when `reverse`).")
  return f


cumsum = _cum_wrapper(cumsum_p)
cumprod = _cum_wrapper(cumprod_p)
cummax = _cum_wrapper(cummax_p)
cummin = _cum_wrapper(cummin_p)
cumlogsumexp = _cum_wrapper(cumlogsumexp_p)

ad.deflinear(cumsum_p, lambda ct, x, *, axis, reverse: [
    Zero(x.aval) if type(ct) is Zero else cumsum(ct, axis, not reverse)])


def _logaddexp(a, b):
  """log(exp(a) + exp(b)) in lax ops (stable; differentiable through max/abs/log1p)."""
  amax = _lax.max(a, b)
  delta = _lax.sub(a, b)
  isnan = _lax.ne(delta, delta)
  out = _lax.add(amax, _lax.log1p(_lax.exp(_lax.neg(_lax.abs(delta)))))
  return _lax.select(isnan, _lax.add(a, b), out)


def _interleave(a, b, axis):
  """Elements of a at even positions and of b at odd positions along `axis`."""
  pad = slicing.pad
  na, nb = core.get_aval(a).shape[axis], core.get_aval(b).shape[axis]
  nd = core.get_aval(a).ndim
  cfg_a = [(0, 0, 0)] * nd
  cfg_b = [(0, 0, 0)] * nd
  cfg_a[axis] = (0, 1 if na == nb else 0, 1)
  cfg_b[axis] = (1, 0 if na == nb else 1, 1)
  combine = _lax.bitwise_or if core.get_aval(a).dtype == _bool else _lax.add
  return combine(pad(a, _lax._const(a, 0), cfg_a), pad(b, _lax._const(b, 0), cfg_b))


def associative_scan_impl(fn, elems, axis, reverse=False):
  """Prefix scan of a list of arrays with an associative `fn(list, list) -> list`, by
  recursive pairwise combination (a Blelloch-style tree: O(log n) depth). Used for the
  derivatives of the cumulative reductions."""
  slice_in_dim, rev, concatenate = slicing.slice_in_dim, slicing.rev, slicing.concatenate
  if reverse:
    elems = [rev(e, (axis,)) for e in elems]

  def scan(xs):
    n = core.get_aval(xs[0]).shape[axis]
    if n < 2:
      return xs
    pairs = fn([slice_in_dim(e, 0, n - 1, 2, axis) for e in xs],
               [slice_in_dim(e, 1, n, 2, axis) for e in xs])
    odd = scan(pairs)
    m = core.get_aval(odd[0]).shape[axis]
    rest = [slice_in_dim(e, 2, n, 2, axis) for e in xs]
    if n % 2 == 0:
      even = fn([slice_in_dim(e, 0, m - 1, 1, axis) for e in odd], rest)
    else:
      even = fn(odd, rest)
    even = [concatenate([slice_in_dim(e, 0, 1, 1, axis), r], axis) for e, r in zip(xs, even)]
    return [_interleave(e, o, axis) for e, o in zip(even, odd)]

  out = scan(list(elems))
  if reverse:
    out = [rev(e, (axis,)) for e in out]
  return out


def _cumulative_jvp(p, combine):
  # As JAX: the jvp of the parallel prefix scan (ties in max/min split the tangent evenly
  # at each combine; zeros in products are exact).
  def jvp(primals, tangents, *, axis, reverse):
    (x,), (t,) = primals, tangents
    out = p.bind(x, axis=axis, reverse=reverse)
    if type(t) is Zero:
      return out, Zero(ad.tangent_aval(core.get_aval(out)))
    def scan(y):
      return associative_scan_impl(lambda a, b: [combine(a[0], b[0])], [y], axis, reverse)
    _, (t_out,) = ad.jvp_flat(scan, [x], [t])
    return out, ad.instantiate_zeros(t_out) if type(t_out) is Zero else t_out
  ad.primitive_jvps[p] = jvp


_cumulative_jvp(cumprod_p, _lax.mul)
_cumulative_jvp(cummax_p, _lax.max)
_cumulative_jvp(cummin_p, _lax.min)
_cumulative_jvp(cumlogsumexp_p, _logaddexp)


# ---------------------------------------------------------------------------------------
# Generic (variadic) reduce: monoids dispatch to the primitives above; anything else is a
# `reduce` equation carrying the computation as a jaxpr over scalars.

reduce_p = Primitive("reduce")
reduce_p.multiple_results = True
reduce_p.native_template = None
reduce_p.numpy_tier_only = True  # the combiner is an arbitrary jaxpr

_MONOIDS = {"add": (reduce_sum, "sum"), "mul": (reduce_prod, "prod"),
            "max": (reduce_max, "max"), "min": (reduce_min, "min"),
            "and": (reduce_and, "and"), "or": (reduce_or, "or"), "xor": (reduce_xor, "xor")}


def _split_half(args):
  n = len(args) // 2
  return list(args[:n]), list(args[n:])


def _combine_with(jaxpr):
  """A combiner (list a, list b) -> list evaluating the scalar jaxpr elementwise over arrays
  of equal shape (by vmapping it over their flattened elements)."""
  n_out = len(jaxpr.out_avals)

  def fun(*xs):
    return core.eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, *xs)

  def combine(a, b):
    shape = core.get_aval(a[0]).shape
    size = int(np.prod(shape, dtype=np.int64))
    flat = [_lax.reshape(x, (size,)) for x in list(a) + list(b)]
    outs = batching.vmap_flat(fun, [0] * len(flat), lambda: [0] * n_out, size, args=flat)
    return [_lax.reshape(o, shape) for o in outs]
  return combine


def _tree_reduce(combine, xs, inits):
  """Reduce arrays of shape (n, ...) over axis 0 as XLA defines it: the initial values
  combined with the elements in order. Adjacent pairs are combined level by level (an
  order-preserving tree, so any associative computation gives the sequential result).
  Written in lax ops, so it can be differentiated and batched."""
  slice_in_dim, concatenate = slicing.slice_in_dim, slicing.concatenate
  rest = core.get_aval(xs[0]).shape[1:]
  n = core.get_aval(xs[0]).shape[0]
  if n == 0:
    return [_lax.broadcast_in_dim(i, rest, ()) for i in inits]
  # the initial values go in first (as XLA's sequential definition: init, x0, x1, ...)
  first = combine([_lax.broadcast_in_dim(i, (1,) + rest, ()) for i in inits],
                  [slice_in_dim(x, 0, 1, 1, 0) for x in xs])
  xs = [concatenate([f, slice_in_dim(x, 1, n, 1, 0)], 0) if n > 1 else f
        for f, x in zip(first, xs)]
  while n > 1:
    a = [slice_in_dim(x, 0, n - 1, 2, 0) for x in xs]
    b = [slice_in_dim(x, 1, n, 2, 0) for x in xs]
    c = combine(a, b)
    if n % 2:
      c = [concatenate([y, slice_in_dim(x, n - 1, n, 1, 0)], 0) for y, x in zip(c, xs)]
    xs = c
    n = (n + 1) // 2
  return [_lax.reshape(x, rest) for x in xs]


def _to_front(x, dims):
  """Move `dims` to the front and flatten them into one leading axis."""
  aval = core.get_aval(x)
  kept = _kept_dims(aval.ndim, dims)
  n = int(np.prod([aval.shape[d] for d in dims], dtype=np.int64))
  return _lax.reshape(_lax.transpose(x, tuple(dims) + kept),
                      (n,) + tuple(aval.shape[k] for k in kept))


def _reduce_impl(*args, computation, jaxpr, dimensions):
  from numjax._src.array import _make
  operands, inits = _split_half(args)
  with core.new_base_main():  # evaluate eagerly, whatever transformation is around us
    xs = [_to_front(_make(x, False), dimensions) for x in operands]
    init_arrs = [_make(np.asarray(i), False) for i in inits]
    res = _tree_reduce(_combine_with(jaxpr), xs, init_arrs)
    return [np.asarray(r._value) for r in res]


def _reduce_abstract(*avals, computation, jaxpr, dimensions):
  operands, inits = _split_half(avals)
  if any(a.shape != () for a in inits):
    raise ValueError(f"reduce found non-scalar initial value: {[a.shape for a in inits]}")
  if [o.dtype for o in operands] != [i.dtype for i in inits]:
    raise TypeError("reduce operand dtypes should match corresponding initial value dtypes, "
                    f"got operands={[o.str_short(False) for o in operands]} and "
                    f"initial_values={[i.str_short(False) for i in inits]}")
  shapes = {o.shape for o in operands}
  if len(shapes) != 1:
    raise ValueError(f"reduce operands must have the same shape, got {sorted(shapes)}")
  for o in operands:
    _check_axes(o, dimensions)
  return [ShapedArray(_reduced_shape(o.shape, dimensions), o.dtype,
                      o.weak_type and i.weak_type) for o, i in zip(operands, inits)]


def _reduce_batch(vals, dims, *, computation, jaxpr, dimensions):
  operands, inits = _split_half(vals)
  op_dims, init_dims = _split_half(dims)
  if any(d is not None for d in init_dims):
    raise NotImplementedError("vmap of lax.reduce over batched initial values is not "
                              "supported: pass unbatched (scalar) init_values.")
  size = next(core.get_aval(x).shape[d] for x, d in zip(operands, op_dims) if d is not None)
  operands = [batching.bdim_at_front(x, d, size) for x, d in zip(operands, op_dims)]
  out = reduce_p.bind(*operands, *inits, computation=computation, jaxpr=jaxpr,
                      dimensions=tuple(d + 1 for d in dimensions))
  return out, [0] * len(out)


def _reduce_jvp(primals, tangents, *, computation, jaxpr, dimensions):
  operands, inits = _split_half(primals)
  t_ops, t_inits = _split_half(tangents)
  if any(type(t) is not Zero for t in t_inits):
    raise NotImplementedError("Gradient of general lax.reduce with non-zero tangents for "
                              "initial values to reduction not implemented")
  outs = reduce_p.bind(*operands, *inits, computation=computation, jaxpr=jaxpr,
                       dimensions=dimensions)
  if all(type(t) is Zero for t in t_ops):
    return outs, [Zero(ad.tangent_aval(core.get_aval(o))) for o in outs]
  comb = _combine_with(jaxpr)

  def tree(*xs):
    return _tree_reduce(comb, [_to_front(x, dimensions) for x in xs], inits)
  t_ops = [ad.instantiate_zeros(t) for t in t_ops]
  _, t_out = ad.jvp_flat(tree, operands, t_ops)
  return outs, t_out


reduce_p.impl = _reduce_impl
reduce_p.abstract_eval = _reduce_abstract
checked_eager(reduce_p)
batching.primitive_batchers[reduce_p] = _reduce_batch
ad.primitive_jvps[reduce_p] = _reduce_jvp

_jaxpr_cache: dict = {}


def _computation_jaxpr(computation, init_avals, init_tree):
  from numjax._src import tree_util
  key = (computation, tuple(init_avals), init_tree)
  try:
    hit = _jaxpr_cache.get(key)
  except TypeError:  # unhashable computation: no caching
    hit, key = None, None
  if hit is not None:
    return hit
  from numjax._src.interpreters import partial_eval as pe
  out_tree_box = []
  n = len(init_avals)

  def flat_comp(*flat):
    a = tree_util.tree_unflatten(init_tree, flat[:n])
    b = tree_util.tree_unflatten(init_tree, flat[n:])
    out = computation(a, b)
    out_flat, out_tree = tree_util.tree_flatten(out)
    out_tree_box.append(out_tree)
    return [asarray(o) for o in out_flat]
  avals = [a.strip_weak_type() for a in init_avals]
  closed = pe.trace_to_jaxpr(flat_comp, avals + avals)
  if any(isinstance(c, core.Tracer) for c in closed.consts):
    raise NotImplementedError("Reduction computations can't close over Tracers: pass the "
                              "traced value as an operand instead.")
  res = (closed, out_tree_box[0])
  if key is not None:
    if len(_jaxpr_cache) > 512:
      _jaxpr_cache.clear()
    _jaxpr_cache[key] = res
  return res


def _concrete_scalar(init):
  """An init value as a rank-0 NumPy array, or None when it is traced or not a scalar."""
  if isinstance(init, core.Tracer):
    init = init.to_concrete_value()
    if init is None:
      return None
  val = np.asarray(init._value if hasattr(init, "_value") else init)
  return val if val.shape == () else None


def _flatten_operands_inits(operands, init_values):
  """(flat operands, their tree, flat init values, their tree), checking they match."""
  from numjax._src import tree_util
  flat_ops, op_tree = tree_util.tree_flatten(operands)
  flat_inits, init_tree = tree_util.tree_flatten(init_values)
  if op_tree != init_tree:
    raise ValueError("Operands must have the same tree structure as init_values: "
                     f"{op_tree} vs. {init_tree}")
  if len(flat_ops) != len(flat_inits):
    raise ValueError("Must have same total number of operands as init_values: "
                     f" {len(flat_ops)} vs. {len(flat_inits)}")
  return flat_ops, op_tree, flat_inits, init_tree


def _monoid_reducer(closed, inits):
  """The monoid primitive's wrapper when `closed` is one of add/mul/max/min/and/or/xor of
  its two inputs and the (concrete, scalar) init value is that monoid's identity."""
  if len(inits) != 1:
    return None
  jaxpr = closed.jaxpr
  if len(jaxpr.eqns) != 1 or closed.consts or len(jaxpr.outvars) != 1:
    return None
  eqn = jaxpr.eqns[0]
  if eqn.primitive.name not in _MONOIDS or eqn.outvars[0] is not jaxpr.outvars[0]:
    return None
  if {id(v) for v in eqn.invars} != {id(v) for v in jaxpr.invars} or len(eqn.invars) != 2:
    return None
  val = _concrete_scalar(inits[0])
  if val is None:
    return None
  fn, name = _MONOIDS[eqn.primitive.name]
  dt = jaxpr.invars[0].aval.dtype
  if name in ("and", "or", "xor") and not _is_int_or_bool(dt):
    return None
  if name in ("max", "min") and dt.kind == "c":
    return None
  ident = _identity(name, dt)
  with np.errstate(all="ignore"):
    return fn if np.equal(val.astype(dt), ident) else None


def reduce(operands, init_values, computation, dimensions, out_sharding=None):
  """lax.reduce: reduce `operands` (a pytree of arrays) over `dimensions` with
  `computation`, starting from the scalar `init_values` (same tree structure). Monoids
  (add/mul/max/min/and/or/xor with their identity) become reduce_sum & co."""
  from numjax._src import tree_util
  flat_ops, _, flat_inits, init_tree = _flatten_operands_inits(operands, init_values)
  dimensions = _normalize_axes(dimensions)
  flat_ops = [asarray(o) for o in flat_ops]
  flat_inits = [asarray(i) for i in flat_inits]
  init_avals = [core.get_aval(i) for i in flat_inits]
  closed, out_tree = _computation_jaxpr(computation, init_avals, init_tree)
  monoid = _monoid_reducer(closed, flat_inits)
  if monoid is not None:
    weak = flat_ops[0].weak_type and flat_inits[0].weak_type
    out = monoid(flat_ops[0], dimensions)
    return _lax.convert_element_type(out, out.dtype, weak)
  outs = reduce_p.bind(*flat_ops, *flat_inits, computation=computation, jaxpr=closed,
                       dimensions=dimensions)
  return tree_util.tree_unflatten(out_tree, outs)
