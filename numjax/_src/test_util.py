"""Gradient checking against finite differences (`numjax.test_util`).

`check_jvp` compares a forward-mode derivative with a central finite difference along one
random direction; `check_vjp` checks a reverse-mode derivative through the inner-product
identity <t, vjp(c)> == <jvp(t), c>; `check_grads` applies both and recurses on the
derivative functions themselves to check higher orders.

The finite differences run in NumPy on concrete values (this is a test tool, not library
code): inputs are perturbed in their own dtype, so float32 checks see float32 rounding.
"""
from __future__ import annotations

import functools

import numpy as np

from numjax._src import dtypes as _dtypes
from numjax._src import tree_util

__all__ = ["check_grads", "check_jvp", "check_vjp"]

EPS = 1e-4

# Per-dtype tolerances for comparing derivatives (atol and rtol alike), as JAX's.
default_gradient_tolerance = {
    np.dtype(_dtypes.bfloat16): 1e-1,
    np.dtype(np.float16): 1e-2,
    np.dtype(np.float32): 2e-3,
    np.dtype(np.float64): 1e-5,
    np.dtype(np.complex64): 1e-3,
    np.dtype(np.complex128): 1e-5,
}

# Value tolerances for dtypes that have no gradient tolerance (exact comparison).
_exact_tolerance = 0

_py_scalars = (bool, int, float, complex)


def _is_py_scalar(x):
  return isinstance(x, _py_scalars) and not isinstance(x, np.generic)


def _dtype(x):
  if hasattr(x, "dtype"):
    return np.dtype(x.dtype)
  if _is_py_scalar(x):
    return _dtypes.dtype(x, canonicalize=True)
  return np.asarray(x).dtype


def _to_np(x):
  """A concrete NumPy value (or Python scalar) for a numjax/NumPy/Python leaf."""
  if _is_py_scalar(x):
    return x
  return np.asarray(x)


def _merge_tolerance(tol, default):
  if tol is None:
    return default
  if not isinstance(tol, dict):
    return tol
  out = dict(default)
  out.update({np.dtype(k): v for k, v in tol.items()})
  return out


def _tolerance(dtype, tol):
  if not isinstance(tol, dict):
    return tol
  dtype = _dtypes.canonicalize_dtype(np.dtype(dtype))
  return tol.get(dtype, _exact_tolerance)


def _assert_close_leaf(a, b, atol, rtol, err_msg):
  a, b = np.asarray(a), np.asarray(b)
  assert a.shape == b.shape, f"{err_msg}: shapes differ, {a.shape} vs {b.shape}"
  if a.dtype == _dtypes.float0 or b.dtype == _dtypes.float0:
    assert a.dtype == b.dtype, f"{err_msg}: dtypes differ, {a.dtype} vs {b.dtype}"
    return
  # Tolerances grow with the number of elements, as in JAX's check_grads.
  at = max(_tolerance(a.dtype, atol), _tolerance(b.dtype, atol)) * a.size
  rt = max(_tolerance(a.dtype, rtol), _tolerance(b.dtype, rtol)) * b.size
  up = lambda x: x.astype(np.float32) if x.dtype == _dtypes.bfloat16 or (
      x.dtype.kind == "V") else x
  with np.errstate(invalid="ignore"):
    np.testing.assert_allclose(up(a), up(b), atol=at or 0, rtol=rt or 1e-7,
                               err_msg=err_msg)


def check_close(xs, ys, atol=None, rtol=None, err_msg=""):
  """Assert two pytrees are leafwise close (tolerances: number or dtype -> number dict)."""
  atol = _merge_tolerance(atol, default_gradient_tolerance)
  rtol = _merge_tolerance(rtol, default_gradient_tolerance)
  xl, xt = tree_util.tree_flatten(xs)
  yl, yt = tree_util.tree_flatten(ys)
  assert xt == yt, f"{err_msg}: tree structures differ, {xt} vs {yt}"
  for a, b in zip(xl, yl):
    _assert_close_leaf(a, b, atol, rtol, err_msg)


def _leafwise(fn, *trees):
  return tree_util.tree_map(fn, *trees)


def _add(x, y):
  dt = _dtype(x)
  r = np.asarray(np.add(_to_np(x), _to_np(y), dtype=dt))
  return r.item() if _is_py_scalar(x) else r


def _sub(x, y):
  dt = _dtype(x)
  r = np.asarray(np.subtract(_to_np(x), _to_np(y), dtype=dt))
  return r.item() if _is_py_scalar(x) else r


def _safe_sub(x, y):
  """x - y with inf - inf == 0 (a function that is infinite on both sides is flat)."""
  x, y = np.asarray(x), np.asarray(y)
  dt = x.dtype
  with np.errstate(invalid="ignore", over="ignore"):
    return np.where(np.equal(x, y), np.zeros((), dt), np.subtract(x, y, dtype=dt))


def _scale(x, a):
  dt = _dtype(x)
  r = np.multiply(_to_np(x), np.asarray(a, dtype=dt), dtype=dt)
  return r.item() if _is_py_scalar(x) else np.asarray(r)


def _conj(x):
  r = np.conj(_to_np(x))
  return r.item() if _is_py_scalar(x) else np.asarray(r, dtype=_dtype(x))


def _rand_like(rng, x):
  shape = np.shape(_to_np(x))
  dt = _dtype(x)
  draw = lambda: np.asarray(rng.randn(*shape), dtype=dt)
  if _dtypes.issubdtype(dt, np.complexfloating):
    r = draw() + dt.type(1j) * draw()
  else:
    r = draw()
  return r.item() if _is_py_scalar(x) else r


def _inner_prod(xs, ys):
  xl, yl = tree_util.tree_leaves(xs), tree_util.tree_leaves(ys)
  total = 0.0
  for x, y in zip(xl, yl):
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype == _dtypes.float0 or y.dtype == _dtypes.float0:
      continue
    up = lambda v: v.astype(np.float32) if v.dtype == _dtypes.bfloat16 else v
    total = total + np.real(np.dot(np.conj(up(x)).reshape(-1), up(y).reshape(-1)))
  return np.asarray(total)


def numerical_jvp(f, primals, tangents, eps=EPS):
  """Central finite difference of f at primals along tangents."""
  delta = _leafwise(lambda t: _scale(t, eps), tangents)
  f_pos = f(*_leafwise(_add, primals, delta))
  f_neg = f(*_leafwise(_sub, primals, delta))
  diff = _leafwise(_safe_sub, _np_tree(f_pos), _np_tree(f_neg))
  return _leafwise(lambda d: _scale(d, 0.5 / eps), diff)


def _np_tree(t):
  return tree_util.tree_map(lambda x: np.asarray(x), t)


def _check_dtypes_match(xs, ys, err_msg):
  for x, y in zip(tree_util.tree_leaves(xs), tree_util.tree_leaves(ys)):
    dx = _dtypes.canonicalize_dtype(_dtype(x))
    dy = _dtypes.canonicalize_dtype(_dtype(y))
    assert dx == dy, f"{err_msg}: dtypes differ, {dx} vs {dy}"


def check_jvp(f, f_jvp, args, atol=None, rtol=None, eps=EPS, err_msg=""):
  """Check f_jvp (typically ``partial(jvp, f)``) against finite differences of f at args,
  along one random direction."""
  args = _leafwise(_to_np, tuple(args))
  rng = np.random.RandomState(0)
  tangent = _leafwise(functools.partial(_rand_like, rng), args)
  v_out, t_out = f_jvp(args, tangent)
  _check_dtypes_match(v_out, t_out, f"{err_msg or 'JVP'}: primal vs tangent output")
  v_expected = f(*args)
  _check_dtypes_match(v_out, v_expected, f"{err_msg or 'JVP'}: primal output")
  t_expected = numerical_jvp(f, args, tangent, eps=eps)
  check_close(_np_tree(v_out), _np_tree(v_expected), atol, rtol,
              f"{err_msg} primal" if err_msg else "primal")
  check_close(_np_tree(t_out), t_expected, atol, rtol,
              f"{err_msg} tangent" if err_msg else "tangent")


def check_vjp(f, f_vjp, args, atol=None, rtol=None, eps=EPS, err_msg=""):
  """Check f_vjp (typically ``partial(vjp, f)``) with the inner-product identity
  <t, vjp(c)> == <fd_jvp(t), c> for random t and c."""
  args = _leafwise(_to_np, tuple(args))
  rand = functools.partial(_rand_like, np.random.RandomState(0))
  v_out, vjp_fn = f_vjp(*args)
  v_expected = f(*args)
  check_close(_np_tree(v_out), _np_tree(v_expected), atol, rtol,
              f"{err_msg} primal" if err_msg else "primal")
  tangent = _leafwise(rand, args)
  tangent_out = numerical_jvp(f, args, tangent, eps=eps)
  cotangent = _leafwise(rand, _np_tree(v_out))
  ct_in = _leafwise(_conj, _np_tree(vjp_fn(_leafwise(_conj, cotangent))))
  ip = _inner_prod(tangent, ct_in)
  ip_expected = _inner_prod(tangent_out, cotangent)
  check_close(ip, ip_expected, atol, rtol,
              f"{err_msg} cotangent projection" if err_msg else "cotangent projection")


def check_grads(f, args, order, modes=("fwd", "rev"), atol=None, rtol=None, eps=None):
  """Check derivatives of f at args up to `order` against finite differences.

  modes: "fwd" (jvp), "rev" (vjp), "lin" (linearize). Higher orders differentiate the
  derivative functions again (jvp of jvp, vjp of vjp). Raises AssertionError on mismatch.
  """
  from numjax._src import autodiff
  args = tuple(args)
  eps = eps or EPS
  cj = functools.partial(check_jvp, atol=atol, rtol=rtol, eps=eps)
  cv = functools.partial(check_vjp, atol=atol, rtol=rtol, eps=eps)

  def jvp_from_lin(fun, primals, tangents):
    out, f_lin = autodiff.linearize(fun, *primals)
    return out, f_lin(*tangents)

  def rec(fun, xs, k, msg):
    if "fwd" in modes:
      m = f"JVP of {msg}" if msg else "JVP"
      cj(fun, functools.partial(autodiff.jvp, fun), xs, err_msg=m)
      if k > 1:
        rec(functools.partial(autodiff.jvp, fun), (xs, xs), k - 1, m)
    if "rev" in modes:
      m = f"VJP of {msg}" if msg else "VJP"
      cv(fun, functools.partial(autodiff.vjp, fun), xs, err_msg=m)
      if k > 1:
        def fun_vjp(*ys):
          out, pullback = autodiff.vjp(fun, *ys)
          return pullback(out)
        rec(fun_vjp, xs, k - 1, m)
    if "lin" in modes:
      m = f"LIN of {msg}" if msg else "LIN"
      cj(fun, functools.partial(jvp_from_lin, fun), xs, err_msg=m)
      if k > 1:
        rec(functools.partial(jvp_from_lin, fun), (xs, xs), k - 1, m)

  rec(f, args, order, "")
