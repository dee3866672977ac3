"""Windowed reductions: reduce_window_sum/max/min, the generic (variadic) reduce_window,
and select_and_gather_add / select_and_scatter_add, the pair that differentiates max/min
pooling (as XLA/JAX do it: the tangent of a window is the tangent at its first extremum, and
its transpose scatters the cotangent back to that position).

Impls work on a strided window view of the padded, base-dilated operand and loop over the
window's taps only (each tap is one vectorised NumPy op over the whole output).
"""
from __future__ import annotations

import operator

import numpy as np

from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src.core import Primitive, ShapedArray
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters.ad import Zero
from numjax._src.lax import lax as _lax
from numjax._src.lax import slicing
from numjax._src.lax import reductions as _red
from numjax._src.lax.convolution import (
    _dilate_dim, _dilate_shape, _stride_dim, _vjp_lhs_padding, pad_and_dilate, padtype_to_pads)
from numjax._src.lax.reductions import checked_eager

_bool = np.dtype(bool)
_f32 = np.dtype(np.float32)


# ---------------------------------------------------------------------------------------
# Shapes

def reduce_window_shape_tuple(operand_shape, window_dimensions, window_strides, padding,
                              base_dilation=None, window_dilation=None):
  """The output shape of a reduce_window."""
  if base_dilation is not None:
    operand_shape = _dilate_shape(operand_shape, base_dilation)
  if window_dilation is not None:
    window_dimensions = _dilate_shape(window_dimensions, window_dilation)
  padded = [int(d) + lo + hi for d, (lo, hi) in zip(operand_shape, padding)]
  return tuple(_stride_dim(d, int(w), int(s))
               for d, w, s in zip(padded, window_dimensions, window_strides))


def _check_shapelike(name, what, xs, non_zero=False):
  for x in xs:
    if int(x) < 0 or (non_zero and int(x) == 0):
      raise TypeError(f"{name} {what} must have every element be "
                      f"{'strictly positive' if non_zero else 'nonnegative'}, got {tuple(xs)}.")


def _check_window_strides(name, window_dimensions, window_strides):
  """select_and_scatter(_add)'s checks of its window dimensions and strides."""
  _check_shapelike(name, "window_dimensions", window_dimensions)
  _check_shapelike(name, "window_strides", window_strides)
  if len(window_dimensions) != len(window_strides):
    raise TypeError(f"{name} got inconsistent window_strides and "
                    f"window_dimensions: got window_strides {window_strides} and "
                    f"window_dimensions {window_dimensions}.")


def _two_at_front(vals, dims):
  """The first two operands with their batch dims at the front (broadcast if unbatched)."""
  size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
  return [batching.bdim_at_front(v, d, size) for v, d in zip(vals[:2], dims[:2])]


def _window_shape_rule(aval, window_dimensions, window_strides, padding, base_dilation,
                       window_dilation, name="reduce_window"):
  _check_shapelike(name, "window_dimensions", window_dimensions, True)
  _check_shapelike(name, "window_strides", window_strides, True)
  _check_shapelike(name, "base_dilation", base_dilation, True)
  _check_shapelike(name, "window_dilation", window_dilation, True)
  n = len(window_dimensions)
  if aval.ndim != n:
    raise TypeError(f"{name} got the wrong number of window_dimensions for operand: got "
                    f"operand shape {aval.shape} with window_dimensions {window_dimensions}.")
  for what, v in (("window_strides", window_strides), ("base_dilation", base_dilation),
                  ("window_dilation", window_dilation)):
    if len(v) != n:
      raise TypeError(f"{name} got inconsistent {what} and window_dimensions: got {what} "
                      f"{v} and window_dimensions {window_dimensions}.")
  if len(padding) != n:
    raise TypeError(f"{name} got inconsistent padding and window_dimensions: got padding "
                    f"{padding} and window_dimensions {window_dimensions}.")
  dil = _dilate_shape(aval.shape, base_dilation)
  padded = [d + lo + hi for d, (lo, hi) in zip(dil, padding)]
  if any(d < 0 for d in padded):
    raise ValueError(f"Negative padding is larger than the size of the corresponding "
                     f"dimension: got padding={padding} for operand shape {aval.shape}")
  return reduce_window_shape_tuple(aval.shape, window_dimensions, window_strides, padding,
                                   base_dilation, window_dilation)


# ---------------------------------------------------------------------------------------
# NumPy kernels

def _identity(kind, dt):
  if kind == "sum":
    return np.zeros((), dt)
  return _red._identity(kind, dt)


def _tap_slices(window, strides, wdil, out_shape):
  """For each tap of the window, the strided slice (of the padded operand) it reads."""
  for tap in np.ndindex(*window):
    yield tap, tuple(slice(t * r, t * r + (o - 1) * s + 1 if o else t * r, s)
                     for t, r, o, s in zip(tap, wdil, out_shape, strides))


def _padded(x, padding, base_dilation, fill):
  return pad_and_dilate(x, tuple(padding), tuple(base_dilation), fill)


def _make_window_impl(kind):
  ufunc = {"sum": np.add, "max": np.maximum, "min": np.minimum}[kind]

  def impl(x, *, window_dimensions, window_strides, padding, base_dilation, window_dilation):
    dt = x.dtype
    acc_dt = _f32 if (dt == np.float16 or dt in _lax._lowp) else dt
    if acc_dt != dt:
      x = x.astype(acc_dt)
    xp = _padded(x, padding, base_dilation, _identity(kind, acc_dt))
    out_shape = reduce_window_shape_tuple(x.shape, window_dimensions, window_strides, padding,
                                          base_dilation, window_dilation)
    out = np.full(out_shape, _identity(kind, acc_dt), acc_dt)
    if 0 not in out_shape:
      with np.errstate(all="ignore"):
        for _, sl in _tap_slices(window_dimensions, window_strides, window_dilation,
                                 out_shape):
          ufunc(out, xp[sl], out=out)
    return out.astype(dt, copy=False)
  return impl


def _make_window_prim(kind):
  p = Primitive(f"reduce_window_{kind}")
  p.impl = _make_window_impl(kind)
  p.numpy_tier_only = True  # a tap loop of NumPy ops; no C template yet

  def abstract_eval(x, *, window_dimensions, window_strides, padding, base_dilation,
                    window_dilation):
    if kind == "sum" and not _dtypes.issubdtype(x.dtype, np.number):
      raise TypeError(f"operand to reduce_window_sum must have a number dtype, got "
                      f"{x.dtype.name}")
    shape = _window_shape_rule(x, window_dimensions, window_strides, padding, base_dilation,
                               window_dilation)
    return ShapedArray(shape, x.dtype, x.weak_type)
  p.abstract_eval = abstract_eval

  def batch(vals, dims, *, window_dimensions, window_strides, padding, base_dilation,
            window_dilation):
    (x,), (d,) = vals, dims
    ins = lambda t, v: t[:d] + (v,) + t[d:]
    return p.bind(x, window_dimensions=ins(window_dimensions, 1),
                  window_strides=ins(window_strides, 1), padding=ins(padding, (0, 0)),
                  base_dilation=ins(base_dilation, 1),
                  window_dilation=ins(window_dilation, 1)), d
  batching.primitive_batchers[p] = batch
  return checked_eager(p)


reduce_window_sum_p = _make_window_prim("sum")
reduce_window_max_p = _make_window_prim("max")
reduce_window_min_p = _make_window_prim("min")


def _window_params(window_dimensions, window_strides, padding, base_dilation,
                   window_dilation):
  n = len(window_dimensions)
  return dict(window_dimensions=tuple(int(w) for w in window_dimensions),
              window_strides=tuple(int(s) for s in window_strides),
              padding=tuple((int(lo), int(hi)) for lo, hi in padding),
              base_dilation=(1,) * n if base_dilation is None else
              tuple(int(b) for b in base_dilation),
              window_dilation=(1,) * n if window_dilation is None else
              tuple(int(w) for w in window_dilation))


def _reduce_window_sum(operand, window_dimensions, window_strides, padding,
                       base_dilation=None, window_dilation=None):
  return reduce_window_sum_p.bind(operand, **_window_params(
      window_dimensions, window_strides, padding, base_dilation, window_dilation))


def _reduce_window_max(operand, window_dimensions, window_strides, padding,
                       base_dilation=None, window_dilation=None):
  return reduce_window_max_p.bind(operand, **_window_params(
      window_dimensions, window_strides, padding, base_dilation, window_dilation))


def _reduce_window_min(operand, window_dimensions, window_strides, padding,
                       base_dilation=None, window_dilation=None):
  return reduce_window_min_p.bind(operand, **_window_params(
      window_dimensions, window_strides, padding, base_dilation, window_dilation))


# ---- derivatives ----------------------------------------------------------------------

def _reduce_window_sum_transpose(ct, x, *, window_dimensions, window_strides, padding,
                                 base_dilation, window_dilation):
  # Each input position receives the sum of the cotangents of the windows covering it:
  # spread ct back onto the padded, dilated grid (interior padding = stride - 1) and sum
  # windows of the same size, stepping by the base dilation.
  if type(ct) is Zero:
    return [Zero(x.aval)]
  in_shape = x.aval.shape
  pads = _vjp_lhs_padding(in_shape, window_dimensions, window_strides,
                          core.get_aval(ct).shape, padding, base_dilation, window_dilation)
  cfg = [(lo, hi, s - 1) for (lo, hi), s in zip(pads, window_strides)]
  padded = slicing.pad(ct, _lax._const(ct, 0), cfg)
  ones = (1,) * len(in_shape)
  out = _reduce_window_sum(padded, window_dimensions, base_dilation,
                           [(0, 0)] * len(in_shape), ones, window_dilation)
  return [out]


ad.deflinear(reduce_window_sum_p, _reduce_window_sum_transpose)


def _chooser_jvp(select_prim):
  def jvp(g, x, **params):
    return select_and_gather_add_p.bind(g, x, select_prim=select_prim, **params)
  return jvp


# ---------------------------------------------------------------------------------------
# select_and_gather_add(tangents, operand): per window, the tangent at the first position
# where `select_prim` (ge for max, le for min) prefers the operand value.

def _select_fns(select_prim):
  if select_prim is _lax.ge_p:
    return "max", np.greater_equal
  if select_prim is _lax.le_p:
    return "min", np.less_equal
  raise ValueError(f"select_prim must be ge_p or le_p, got {select_prim}")


def _argselect(xp, kind, keep, window, strides, wdil, out_shape, from_identity):
  """The selected tap of every window, scanning the taps in order as XLA does: a tap
  replaces the current choice unless `keep(current, tap)` (ge/le), so the first of equal
  extrema wins and NaNs win. `from_identity`: start from the reduction's identity (index
  -1, as reduce_window's init) rather than from the first tap (select_and_scatter)."""
  best = np.full(out_shape, _identity(kind, xp.dtype), xp.dtype)
  idx = np.full(out_shape, -1, np.int64)
  with np.errstate(invalid="ignore"):
    for t, (_, sl) in enumerate(_tap_slices(window, strides, wdil, out_shape)):
      v = xp[sl]
      if t == 0 and not from_identity:
        np.copyto(best, v)
        idx[...] = 0
        continue
      take = ~keep(best, v)
      np.copyto(best, v, where=take)
      idx[take] = t
  return idx


def _select_and_gather_add_impl(t, x, *, select_prim, window_dimensions, window_strides,
                                padding, base_dilation, window_dilation):
  kind, keep = _select_fns(select_prim)
  dt = t.dtype
  xc = x.astype(_f32) if (x.dtype == np.float16 or x.dtype in _lax._lowp) else x
  xp = _padded(xc, padding, base_dilation, _identity(kind, xc.dtype))
  tp = _padded(t, padding, base_dilation, np.zeros((), dt))
  out_shape = reduce_window_shape_tuple(x.shape, window_dimensions, window_strides, padding,
                                        base_dilation, window_dilation)
  out = np.zeros(out_shape, dt)
  if 0 in out_shape:
    return out
  idx = _argselect(xp, kind, keep, window_dimensions, window_strides, window_dilation,
                   out_shape, from_identity=True)
  for k, (_, sl) in enumerate(_tap_slices(window_dimensions, window_strides, window_dilation,
                                          out_shape)):
    np.copyto(out, tp[sl], where=idx == k)
  return out


def _select_and_gather_add_abstract(t, x, *, select_prim, window_dimensions, window_strides,
                                    padding, base_dilation, window_dilation):
  if t.shape != x.shape:
    raise TypeError(f"select_and_gather_add tangents and operand shapes must match, got "
                    f"{t.shape} and {x.shape}.")
  shape = _window_shape_rule(x, window_dimensions, window_strides, padding, base_dilation,
                             window_dilation, "select_and_gather_add")
  return ShapedArray(shape, t.dtype, t.weak_type)


select_and_gather_add_p = Primitive("select_and_gather_add")
select_and_gather_add_p.impl = _select_and_gather_add_impl
select_and_gather_add_p.abstract_eval = _select_and_gather_add_abstract
select_and_gather_add_p.numpy_tier_only = True
checked_eager(select_and_gather_add_p)


def _select_and_gather_add_transpose(ct, t, x, *, select_prim, window_dimensions,
                                     window_strides, padding, base_dilation, window_dilation):
  assert ad.is_undefined_primal(t) and not ad.is_undefined_primal(x)
  if any(d != 1 for d in window_dilation):
    raise NotImplementedError(f"VJP not implemented for select_and_gather (MaxPool) with "
                              f"window dilation, got window_dilation={window_dilation}.")
  if type(ct) is Zero:
    return [Zero(t.aval), None]
  dilated = any(d != 1 for d in base_dilation)
  if dilated:
    # holes of the dilated grid hold the identity, so they are never selected
    kind, _ = _select_fns(select_prim)
    ident = _lax._const(x, _identity(kind, core.get_aval(x).dtype)[()])
    x = slicing.pad(x, ident, tuple((0, 0, d - 1) for d in base_dilation))
  res = select_and_scatter_add_p.bind(ct, x, select_prim=select_prim,
                                      window_dimensions=window_dimensions,
                                      window_strides=window_strides, padding=padding)
  if dilated:
    shape = core.get_aval(res).shape
    res = slicing.slice(res, (0,) * len(shape), shape, base_dilation)
  return [res, None]


def _sga_batch(vals, dims, *, select_prim, window_dimensions, window_strides, padding,
               base_dilation, window_dilation):
  t, x = _two_at_front(vals, dims)
  out = select_and_gather_add_p.bind(
      t, x, select_prim=select_prim, window_dimensions=(1,) + window_dimensions,
      window_strides=(1,) + window_strides, padding=((0, 0),) + padding,
      base_dilation=(1,) + base_dilation, window_dilation=(1,) + window_dilation)
  return out, 0


ad.defjvp(select_and_gather_add_p,
          lambda g, t, x, **params: select_and_gather_add_p.bind(g, x, **params), None)
ad.primitive_transposes[select_and_gather_add_p] = _select_and_gather_add_transpose
ad.linear_primitives.add(select_and_gather_add_p)
batching.primitive_batchers[select_and_gather_add_p] = _sga_batch

ad.defjvp(reduce_window_max_p, _chooser_jvp(_lax.ge_p))
ad.defjvp(reduce_window_min_p, _chooser_jvp(_lax.le_p))


# ---------------------------------------------------------------------------------------
# select_and_scatter_add(source, operand): each window's source value is added at the
# operand position the window selects (its first maximum for ge, minimum for le).

def _select_and_scatter_add_impl(s, x, *, select_prim, window_dimensions, window_strides,
                                 padding):
  kind, keep = _select_fns(select_prim)
  n = x.ndim
  xc = x.astype(_f32) if (x.dtype == np.float16 or x.dtype in _lax._lowp) else x
  ones = (1,) * n
  xp = _padded(xc, padding, ones, _identity(kind, xc.dtype))
  out_shape = s.shape
  acc_dt = _f32 if (s.dtype == np.float16 or s.dtype in _lax._lowp) else s.dtype
  res = np.zeros(xp.shape, acc_dt)
  if 0 not in out_shape and res.size:
    idx = _argselect(xp, kind, keep, window_dimensions, window_strides, ones, out_shape,
                     from_identity=False)
    zero = np.zeros((), acc_dt)
    for k, (_, sl) in enumerate(_tap_slices(window_dimensions, window_strides, ones,
                                            out_shape)):
      # within one tap, windows read distinct positions: the strided += has no collisions
      res[sl] += np.where(idx == k, s, zero)
  # back to the operand's positions (undo the padding; negative padding leaves zeros)
  out = np.zeros(x.shape, acc_dt)
  src, dst = [], []
  for d, (lo, hi), pd in zip(x.shape, padding, xp.shape):
    i0, i1 = builtins_max(0, -lo), builtins_min(d, pd - lo)
    src.append(slice(i0 + lo, builtins_max(i0, i1) + lo))
    dst.append(slice(i0, builtins_max(i0, i1)))
  out[tuple(dst)] = res[tuple(src)]
  return out.astype(s.dtype, copy=False)


builtins_max, builtins_min = max, min


def _select_and_scatter_add_abstract(s, x, *, select_prim, window_dimensions, window_strides,
                                     padding):
  _check_window_strides("select_and_scatter_add", window_dimensions, window_strides)
  expected = reduce_window_shape_tuple(x.shape, window_dimensions, window_strides, padding)
  if s.shape != expected:
    raise TypeError(f"select_and_scatter_add source shape {s.shape} does not match the "
                    f"windows of the operand {x.shape}: expected {expected}.")
  return ShapedArray(x.shape, s.dtype, s.weak_type)


select_and_scatter_add_p = Primitive("select_and_scatter_add")
select_and_scatter_add_p.impl = _select_and_scatter_add_impl
select_and_scatter_add_p.abstract_eval = _select_and_scatter_add_abstract
select_and_scatter_add_p.numpy_tier_only = True
checked_eager(select_and_scatter_add_p)


def _select_and_scatter_add_transpose(ct, s, x, *, select_prim, window_dimensions,
                                      window_strides, padding):
  assert ad.is_undefined_primal(s) and not ad.is_undefined_primal(x)
  if type(ct) is Zero:
    return [Zero(s.aval), None]
  ones = (1,) * len(window_dimensions)
  return [select_and_gather_add_p.bind(ct, x, select_prim=select_prim,
                                       window_dimensions=window_dimensions,
                                       window_strides=window_strides, padding=padding,
                                       base_dilation=ones, window_dilation=ones), None]


def _ssa_batch(vals, dims, *, select_prim, window_dimensions, window_strides, padding):
  s, x = _two_at_front(vals, dims)
  out = select_and_scatter_add_p.bind(
      s, x, select_prim=select_prim, window_dimensions=(1,) + window_dimensions,
      window_strides=(1,) + window_strides, padding=((0, 0),) + padding)
  return out, 0


ad.defjvp(select_and_scatter_add_p,
          lambda g, s, x, **params: select_and_scatter_add_p.bind(g, x, **params), None)
ad.primitive_transposes[select_and_scatter_add_p] = _select_and_scatter_add_transpose
ad.linear_primitives.add(select_and_scatter_add_p)
batching.primitive_batchers[select_and_scatter_add_p] = _ssa_batch


# ---------------------------------------------------------------------------------------
# Generic select_and_scatter(operand, source, init_value): per window, `select_jaxpr`
# (a, b -> keep a?) picks a position as XLA scans the window; the source value is combined
# into it with `scatter_jaxpr`, starting from init_value. Padding is never selected.

select_and_scatter_p = Primitive("select_and_scatter")
select_and_scatter_p.numpy_tier_only = True  # arbitrary select/scatter jaxprs


def _elementwise_fn(jaxpr, consts):
  """NumPy arrays in, NumPy array out: the scalar jaxpr vmapped over flattened arrays."""
  from numjax._src.array import _make

  def fn(*arrays):
    shape = arrays[0].shape
    size = int(np.prod(shape, dtype=np.int64))
    flat = [_make(np.ascontiguousarray(a).reshape(size), False) for a in arrays]
    with core.new_base_main():
      (out,) = batching.vmap_flat(lambda *xs: core.eval_jaxpr(jaxpr, list(consts), *xs),
                                  [0] * len(flat), lambda: [0], size, args=flat)
      return np.asarray(out._value).reshape(shape)
  return fn


def _select_and_scatter_impl(operand, source, init, *, select_jaxpr, select_consts,
                             scatter_jaxpr, scatter_consts, window_dimensions,
                             window_strides, padding):
  select = _elementwise_fn(select_jaxpr, select_consts)
  scatter = _elementwise_fn(scatter_jaxpr, scatter_consts)
  n = operand.ndim
  ones = (1,) * n
  xp = _padded(operand, padding, ones, np.zeros((), operand.dtype))
  valid = _padded(np.ones(operand.shape, bool), padding, ones, np.zeros((), bool))
  out_shape = source.shape
  res = np.full(xp.shape, init, operand.dtype)
  if 0 not in out_shape and res.size:
    best = np.zeros(out_shape, operand.dtype)
    have = np.zeros(out_shape, bool)
    idx = np.full(out_shape, -1, np.int64)
    taps = list(_tap_slices(window_dimensions, window_strides, ones, out_shape))
    for t, (_, sl) in enumerate(taps):
      v, ok = xp[sl], valid[sl]
      take = ok & (~have | ~select(best, v).astype(bool))
      np.copyto(best, v, where=take)
      idx[take] = t
      have |= ok
    for t, (_, sl) in enumerate(taps):
      cur = res[sl]
      res[sl] = np.where(idx == t, scatter(cur, source), cur)
  out = np.empty(operand.shape, operand.dtype)
  src, dst = [], []
  for d, (lo, hi), pd in zip(operand.shape, padding, xp.shape):
    i0, i1 = builtins_max(0, -lo), builtins_min(d, pd - lo)
    src.append(slice(i0 + lo, builtins_max(i0, i1) + lo))
    dst.append(slice(i0, builtins_max(i0, i1)))
  out.fill(np.asarray(init, operand.dtype))
  out[tuple(dst)] = res[tuple(src)]
  return out


def _select_and_scatter_abstract(operand, source, init, *, select_jaxpr, select_consts,
                                 scatter_jaxpr, scatter_consts, window_dimensions,
                                 window_strides, padding):
  _check_window_strides("select_and_scatter", window_dimensions, window_strides)
  if operand.dtype != source.dtype or operand.dtype != init.dtype:
    raise TypeError(f"select_and_scatter requires operand, source and init_value of one "
                    f"dtype, got {operand.dtype}, {source.dtype}, {init.dtype}.")
  return ShapedArray(operand.shape, operand.dtype, operand.weak_type)


def _select_and_scatter_jvp(primals, tangents, **params):
  raise NotImplementedError("Differentiation rule for 'select_and_scatter' not implemented "
                            "(as in JAX); for max pooling, differentiate "
                            "lax.reduce_window(x, -inf, lax.max, ...) instead.")


def _select_and_scatter_batch(vals, dims, *, window_dimensions, window_strides, padding,
                              **params):
  init = vals[2]
  if dims[2] is not None:
    raise NotImplementedError("vmap of select_and_scatter over init_value is not supported")
  operand, source = _two_at_front(vals, dims)
  out = select_and_scatter_p.bind(
      operand, source, init, window_dimensions=(1,) + tuple(window_dimensions),
      window_strides=(1,) + tuple(window_strides), padding=((0, 0),) + tuple(padding),
      **params)
  return out, 0


select_and_scatter_p.impl = _select_and_scatter_impl
select_and_scatter_p.abstract_eval = _select_and_scatter_abstract
checked_eager(select_and_scatter_p)
ad.primitive_jvps[select_and_scatter_p] = _select_and_scatter_jvp
batching.primitive_batchers[select_and_scatter_p] = _select_and_scatter_batch


def _select_and_scatter(operand, select, window_dimensions, window_strides, padding, source,
                        init_value, scatter):
  """Bind select_and_scatter with `select`/`scatter` traced to scalar jaxprs."""
  from numjax._src.interpreters import partial_eval as pe
  operand, source = _lax.asarray(operand), _lax.asarray(source)
  init_value = _lax.convert_element_type(init_value, operand.dtype)
  scalar = core.ShapedArray((), operand.dtype)
  sel = pe.trace_to_jaxpr(lambda a, b: [select(a, b)], [scalar, scalar])
  sca = pe.trace_to_jaxpr(lambda a, b: [scatter(a, b)], [scalar, scalar])
  return select_and_scatter_p.bind(
      operand, source, init_value, select_jaxpr=sel.jaxpr, select_consts=tuple(sel.consts),
      scatter_jaxpr=sca.jaxpr, scatter_consts=tuple(sca.consts),
      window_dimensions=tuple(int(w) for w in window_dimensions),
      window_strides=tuple(int(s) for s in window_strides),
      padding=tuple((int(lo), int(hi)) for lo, hi in padding))


# ---------------------------------------------------------------------------------------
# Generic reduce_window: any computation, as a jaxpr over scalars. The windows' taps are
# strided slices of the padded operand; they are combined by an order-preserving tree
# (reductions._tree_reduce), written in lax ops so that jvp comes for free.

reduce_window_p = Primitive("reduce_window")
reduce_window_p.multiple_results = True
reduce_window_p.numpy_tier_only = True  # the combiner is an arbitrary jaxpr


def _taps_stacked(x, init, window_dimensions, window_strides, padding, base_dilation,
                  window_dilation):
  """(K, *out_shape): the K taps of every window, in row-major tap order (lax ops)."""
  aval = core.get_aval(x)
  cfg = tuple((lo, hi, b - 1) for (lo, hi), b in zip(padding, base_dilation))
  xp = slicing.pad(x, init, cfg)
  out_shape = reduce_window_shape_tuple(aval.shape, window_dimensions, window_strides,
                                        padding, base_dilation, window_dilation)
  taps = []
  for tap, sl in _tap_slices(window_dimensions, window_strides, window_dilation, out_shape):
    start = tuple(s.start for s in sl)
    stop = tuple(s.stop for s in sl)
    v = slicing.slice(xp, start, stop, tuple(window_strides))
    taps.append(_lax.reshape(v, (1,) + out_shape))
  if not taps:
    return _lax.full((0,) + out_shape, 0, aval.dtype)
  return slicing.concatenate(taps, 0) if len(taps) > 1 else taps[0]


def _generic_window_reduce(operands, inits, jaxpr, params):
  xs = [_taps_stacked(x, i, **params) for x, i in zip(operands, inits)]
  return _red._tree_reduce(_red._combine_with(jaxpr), xs, list(inits))


def _reduce_window_impl(*args, jaxpr, window_dimensions, window_strides, padding,
                        base_dilation, window_dilation):
  from numjax._src.array import _make
  n = len(args) // 2
  params = dict(window_dimensions=window_dimensions, window_strides=window_strides,
                padding=padding, base_dilation=base_dilation, window_dilation=window_dilation)
  with core.new_base_main():
    ops = [_make(np.asarray(a), False) for a in args[:n]]
    inits = [_make(np.asarray(a), False) for a in args[n:]]
    res = _generic_window_reduce(ops, inits, jaxpr, params)
    return [np.asarray(r._value) for r in res]


def _reduce_window_abstract(*avals, jaxpr, window_dimensions, window_strides, padding,
                            base_dilation, window_dilation):
  n = len(avals) // 2
  ops, inits = avals[:n], avals[n:]
  if any(o.dtype != i.dtype for o, i in zip(ops, inits)):
    raise TypeError(f"reduce_window got inconsistent dtypes for operands and init_values: "
                    f"got operand dtypes {[o.dtype for o in ops]} and init_value dtypes "
                    f"{[i.dtype for i in inits]}.")
  if any(i.shape != () for i in inits):
    raise TypeError(f"reduce_window expected init_values to be scalars but init_values have "
                    f"shapes {[i.shape for i in inits]}.")
  shape = _window_shape_rule(ops[0], window_dimensions, window_strides, padding,
                             base_dilation, window_dilation)
  return [ShapedArray(shape, o.dtype, o.weak_type and i.weak_type) for o, i in zip(ops, inits)]


def _reduce_window_jvp(primals, tangents, *, jaxpr, **params):
  n = len(primals) // 2
  ops, inits = primals[:n], primals[n:]
  t_ops, t_inits = tangents[:n], tangents[n:]
  if any(type(t) is not Zero for t in t_inits):
    raise TypeError("reduce_window jvp does not support non-zero init_value_tangent.")
  outs = reduce_window_p.bind(*primals, jaxpr=jaxpr, **params)
  if all(type(t) is Zero for t in t_ops):
    return outs, [Zero(ad.tangent_aval(core.get_aval(o))) for o in outs]
  _, t_out = ad.jvp_flat(lambda *xs: _generic_window_reduce(xs, inits, jaxpr, params),
                         list(ops), [ad.instantiate_zeros(t) for t in t_ops])
  return outs, t_out


def _reduce_window_batch(vals, dims, *, jaxpr, window_dimensions, window_strides, padding,
                         base_dilation, window_dilation):
  n = len(vals) // 2
  ops, inits = vals[:n], vals[n:]
  if any(d is not None for d in dims[n:]):
    raise NotImplementedError("reduce_window batching is not implemented for initial "
                              "values")
  size = next(core.get_aval(x).shape[d] for x, d in zip(ops, dims[:n]) if d is not None)
  ops = [batching.bdim_at_front(x, d, size) for x, d in zip(ops, dims[:n])]
  outs = reduce_window_p.bind(
      *ops, *inits, jaxpr=jaxpr, window_dimensions=(1,) + window_dimensions,
      window_strides=(1,) + window_strides, padding=((0, 0),) + padding,
      base_dilation=(1,) + base_dilation, window_dilation=(1,) + window_dilation)
  return outs, [0] * n


reduce_window_p.impl = _reduce_window_impl
reduce_window_p.abstract_eval = _reduce_window_abstract
checked_eager(reduce_window_p)
ad.primitive_jvps[reduce_window_p] = _reduce_window_jvp
batching.primitive_batchers[reduce_window_p] = _reduce_window_batch


# ---------------------------------------------------------------------------------------
# Wrapper

def _monoid_window_reducer(computation, inits):
  """reduce_window_{sum,max,min} when computation is lax.add/max/min with its identity."""
  if len(inits) != 1:
    return None
  kind = {_lax.add: "sum", _lax.max: "max", _lax.min: "min"}.get(computation)
  if kind is None:
    return None
  val = _red._concrete_scalar(inits[0])
  if val is None:
    return None
  dt = _dtypes.canonicalize_dtype(val.dtype)
  if kind == "sum" and not _dtypes.issubdtype(dt, np.number):
    return None
  if kind != "sum" and dt.kind == "c":
    return None
  with np.errstate(all="ignore"):
    ok = np.equal(val, _identity(kind, dt))
  if not ok:
    return None
  return {"sum": _reduce_window_sum, "max": _reduce_window_max,
          "min": _reduce_window_min}[kind]


def reduce_window(operand, init_value, computation, window_dimensions, window_strides=None,
                  padding="VALID", base_dilation=None, window_dilation=None):
  """lax.reduce_window: reduce each (strided, padded, dilated) window of `operand` (a pytree
  of arrays) with `computation` from `init_value` (scalars, same tree). lax.add/max/min with
  their identity become reduce_window_sum/max/min."""
  from numjax._src import tree_util
  flat_ops, op_tree, flat_inits, init_tree = _red._flatten_operands_inits(operand,
                                                                          init_value)
  if not flat_ops:
    raise ValueError("reduce_window must have at least one operand.")
  flat_ops = [_lax.asarray(o) for o in flat_ops]
  window_dimensions = tuple(operator.index(w) for w in window_dimensions)
  if isinstance(padding, str):
    wd = window_dimensions if window_dilation is None else \
        _dilate_shape(window_dimensions, window_dilation)
    padding = padtype_to_pads(flat_ops[0].shape, wd, window_strides or (1,) * len(wd),
                              padding)
  if window_strides is None:
    window_strides = (1,) * len(window_dimensions)
  params = _window_params(window_dimensions, window_strides, padding, base_dilation,
                          window_dilation)
  monoid = _monoid_window_reducer(computation, flat_inits)
  if monoid is not None:
    x = flat_ops[0]
    init = _lax.asarray(flat_inits[0])
    out = monoid(x, **params)
    return _lax.convert_element_type(out, out.dtype, x.weak_type and init.weak_type)
  flat_inits = [_lax.convert_element_type(i, o.dtype, _dtypes.is_weakly_typed(i))
                if not hasattr(i, "dtype") else _lax.asarray(i)
                for i, o in zip(flat_inits, flat_ops)]
  closed, out_tree = _red._computation_jaxpr(computation,
                                             [core.get_aval(i) for i in flat_inits], init_tree)
  if out_tree != op_tree:
    raise ValueError("reduce_window output must have the same tree structure as the "
                     f"operands {op_tree} vs. {out_tree}")
  outs = reduce_window_p.bind(*flat_ops, *flat_inits, jaxpr=closed, **params)
  return tree_util.tree_unflatten(op_tree, outs)
