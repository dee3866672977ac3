"""jit: stage a Python function into a jaxpr once per signature, compile it, run it.

    f = numjax.jit(fun, static_argnums=..., donate_argnums=...)
    f(*args)            # cache hit: flatten, key, run the compiled executable
    f.lower(*args)      # Lowered: .as_text() is the optimised jaxpr, .compile() -> Compiled
    f.trace(*args)      # Traced: .jaxpr

The cache key is (pytree structure, per-leaf (shape, dtype, weak_type), static argument
values, trace-relevant config). Called under a transformation (or inside another jit) a
jitted function stages a `jit` equation carrying its jaxpr, as JAX 0.10.2 does; the
primitive's jvp/transpose/batching rules transform that inner jaxpr and stage a new `jit`,
so `grad(jit(f))`, `vmap(jit(f))` and `jit(grad(f))` all keep compiled inner programs.
"""
from __future__ import annotations

import functools
import inspect
import logging
import time
import types
import weakref
from typing import Callable

import numpy as np

from numjax._src import compiler
from numjax._src import core
from numjax._src import dtypes as _dtypes
from numjax._src import traceback_util
from numjax._src import tree_util
from numjax._src import sharding_propagation as _sprop
from numjax._src.array import Array
from numjax._src.config import config
from numjax._src.core import ClosedJaxpr, Jaxpr, Tracer
from numjax._src.interpreters import ad, batching
from numjax._src.interpreters import partial_eval as pe
from numjax._src.interpreters.ad import Zero

logger = logging.getLogger("numjax._src.jit")

# ---------------------------------------------------------------------------------------
# Flags read on the hot path, kept in module globals (updated by a config observer)

_ctx = [config.trace_context()]
_disabled = [config.jax_disable_jit]
_verbose = [config.jax_log_compiles or config.jax_explain_cache_misses]


def _on_config(name, value):
  _ctx[0] = config.trace_context()
  _disabled[0] = config.jax_disable_jit
  _verbose[0] = config.jax_log_compiles or config.jax_explain_cache_misses


config.on_change(_on_config)

_flatten = tree_util.tree_flatten
_ndarray = np.ndarray
_unflatten = tree_util.tree_unflatten
_LEAF = tree_util.tree_structure(0)


def _fun_name(fun) -> str:
  while isinstance(fun, functools.partial):
    fun = fun.func
  return getattr(fun, "__name__", None) or type(fun).__name__


def _fun_source(fun) -> str:
  while isinstance(fun, functools.partial):
    fun = fun.func
  fun = inspect.unwrap(fun) if callable(fun) else fun
  code = getattr(fun, "__code__", None)
  if code is None:
    return "<unknown>"
  return f"{code.co_filename}:{code.co_firstlineno}"


# ---------------------------------------------------------------------------------------
# The `jit` primitive: a call of a closed jaxpr

jit_p = core.Primitive("jit")
jit_p.multiple_results = True
jit_p.hidden_params = frozenset({"donated_invars", "inline", "keep_unused"})
jit_p.inlined_by_compiler = True   # the compiler splices its body into the caller
jit_p.numpy_tier_only = True       # never reaches a tier: the compiler inlines it first

# compiled executables per inner jaxpr (wrapping Arrays / raw buffers)
_exe_cache: "weakref.WeakKeyDictionary[ClosedJaxpr, dict]" = weakref.WeakKeyDictionary()


def executable_for(closed: ClosedJaxpr, name="f", donated=(), wrap=True):
  """The compiled executable of a closed jaxpr (cached on the jaxpr object)."""
  per = _exe_cache.get(closed)
  if per is None:
    per = _exe_cache[closed] = {}
  key = (tuple(donated), wrap)
  exe = per.get(key)
  if exe is None:
    t0 = time.perf_counter()
    exe = per[key] = compiler.compile_jaxpr(closed, name=name, donated=donated, wrap=wrap)
    if config.jax_log_compiles:
      logger.warning("Finished NumPy-tier code generation of jit(%s) in %.6f sec", name,
                     time.perf_counter() - t0)
  return exe


def _jit_abstract_eval(*avals, jaxpr, **params):
  return list(jaxpr.out_avals)


def _to_buf(x, aval):
  if type(x) is Array:
    return x._value
  if hasattr(x, "_value"):
    return x._value
  return np.asarray(x, dtype=aval.dtype)


def _jit_impl(*bufs, jaxpr, name, **params):
  return list(executable_for(jaxpr, name, wrap=False)(*bufs))


def _jit_eager(*args, jaxpr, name, **params):
  exe = executable_for(jaxpr, name)
  return list(exe.fn(*[_to_buf(a, v.aval) for a, v in zip(args, jaxpr.jaxpr.invars)]))


jit_p.def_abstract_eval(_jit_abstract_eval)
jit_p.def_impl(_jit_impl)
jit_p.def_eager(_jit_eager)


class _Bare(str):
  """A string param printed without quotes (JAX prints `name=f`)."""
  def _pp_param(self):
    return str(self)


def _jit_pp_params(eqn, names):
  """Print `name` first; show donated_invars only when something is donated; name the
  inner jaxpr's binders like the equation's operands and results (as JAX does)."""
  p = eqn.params
  inner = p["jaxpr"].jaxpr if isinstance(p["jaxpr"], ClosedJaxpr) else p["jaxpr"]
  if not names.is_shared(inner):
    names.suggest(inner.invars, eqn.invars)
    names.suggest(inner.outvars, eqn.outvars)
  out = [("name", _Bare(p["name"]))]
  rest = {"jaxpr": p["jaxpr"]}
  if any(p.get("donated_invars", ())):
    rest["donated_invars"] = p["donated_invars"]
  if p.get("keep_unused"):
    rest["keep_unused"] = True
  out += sorted(rest.items())
  return out


jit_p.pp_params = _jit_pp_params


def _derived_params(params, n_in):
  return dict(name=params["name"], donated_invars=(False,) * n_in,
              inline=params.get("inline", False), keep_unused=params.get("keep_unused", False))


# ---- jvp --------------------------------------------------------------------------------

_jvp_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _jvp_jaxpr(closed: ClosedJaxpr, nz: tuple):
  """(jaxpr of (primals, nonzero tangents) -> (primal outs, nonzero tangent outs), out_nz)."""
  per = _jvp_cache.setdefault(closed, {})
  hit = per.get(nz)
  if hit is not None:
    return hit
  in_avals = closed.in_avals
  t_avals = [ad.tangent_aval(a) for a, z in zip(in_avals, nz) if z]
  n = len(in_avals)
  box = []

  def fun(*xs):
    primals, tans = xs[:n], iter(xs[n:])
    tangents = [next(tans) if z else Zero(ad.tangent_aval(a)) for a, z in zip(in_avals, nz)]
    po, to = ad.jvp_flat(lambda *ys: core.eval_jaxpr(closed.jaxpr, closed.consts, *ys),
                         list(primals), tangents)
    out_nz = tuple(type(t) is not Zero for t in to)
    box.append(out_nz)
    return list(po) + [t for t in to if type(t) is not Zero]

  jvp_closed = pe.trace_to_jaxpr(fun, list(in_avals) + t_avals,
                                 debug_info=getattr(closed.jaxpr, "debug_info", None))
  res = per[nz] = (jvp_closed, box[0])
  return res


_split_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _split_jvp(jvp_closed: ClosedJaxpr, n_primals: int, n_tangents: int, n_out: int,
               n_tan_out: int):
  """Known part (primals -> primal outs + residuals) and linear part (residuals + tangents
  -> tangent outs) of a jvp jaxpr, for linearize."""
  hit = _split_cache.get(jvp_closed)
  if hit is not None:
    return hit
  unknowns = [False] * n_primals + [True] * n_tangents
  inst = [False] * n_out + [True] * n_tan_out
  # (known inputs needed by the linear part are forwarded to it, not returned as
  # residuals: JAX's known jit returns only what it computes)
  sp = pe.partial_eval_jaxpr_fwd(jvp_closed.jaxpr, unknowns, inst)
  if any(sp.out_unknowns[:n_out]):  # a primal output depends on a tangent: cannot split
    res = None
  else:
    res = (ClosedJaxpr(sp.known, jvp_closed.consts), ClosedJaxpr(sp.unknown, []), sp.out_fwd,
           sp.res_fwd)
  _split_cache[jvp_closed] = res
  return res


def _is_linearize_tracer(t) -> bool:
  return isinstance(t, pe.StagingTracer) and t._trace.main is not core.dynamic_trace


def _jit_jvp(primals, tangents, *, jaxpr, name, **params):
  nz = tuple(type(t) is not Zero for t in tangents)
  jvp_closed, out_nz = _jvp_jaxpr(jaxpr, nz)
  tan_in = [t for t in tangents if type(t) is not Zero]
  n_out = len(jaxpr.out_avals)
  n_tan_out = sum(out_nz)
  split = None
  if any(_is_linearize_tracer(t) for t in tan_in):
    split = _split_jvp(jvp_closed, len(primals), len(tan_in), n_out, n_tan_out)
    if split is None:
      # Primal outputs depend on an equation the split cannot separate: differentiate the
      # body in place (primal work runs below, tangent work is staged), always correct.
      return ad.jvp_flat(lambda *xs: core.eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, *xs),
                         list(primals), list(tangents))
  if split is not None:
    known, linear, out_fwd, res_fwd = split
    kouts = jit_p.bind(*primals, jaxpr=known, **_derived_params(params | {"name": name},
                                                                  len(primals)))
    primals_out, res = pe.merge_forwarded(kouts, primals, out_fwd, res_fwd)
    touts = jit_p.bind(*res, *tan_in, jaxpr=linear,
                       **_derived_params(params | {"name": name}, len(res) + len(tan_in)))
  else:
    outs = jit_p.bind(*primals, *tan_in, jaxpr=jvp_closed,
                      **_derived_params(params | {"name": name}, len(primals) + len(tan_in)))
    primals_out, touts = outs[:n_out], outs[n_out:]
  it = iter(touts)
  tangents_out = [next(it) if z else Zero(ad.tangent_aval(a))
                  for z, a in zip(out_nz, jaxpr.out_avals)]
  return primals_out, tangents_out


ad.primitive_jvps[jit_p] = _jit_jvp


def _jit_partial_eval_rule(eqn, unk_in):
  """Split a jit equation with some known operands into a known jit (known operands ->
  known results + residuals) and an unknown one (residuals + unknown operands -> the rest)."""
  closed = eqn.params["jaxpr"]
  sp = pe.partial_eval_jaxpr_fwd(closed.jaxpr, unk_in)
  known, unknown, out_unk = sp.known, sp.unknown, sp.out_unknowns
  # Residuals that are known operands (or known results) of the equation are read from
  # there, as JAX forwards them; known results that are operands stay results (they are
  # the equation's outvars), the others become fresh residual variables.
  kin = [v for v, u in zip(eqn.invars, unk_in) if not u]
  known_outs = [v for v, u in zip(eqn.outvars, out_unk) if not u]
  n_known_out = len(known_outs)
  known_jaxpr_outs = list(known.outvars)
  if any(f is not None for f in sp.out_fwd):  # (a jaxpr equation keeps all its results)
    it = iter(known_jaxpr_outs)
    outs = [next(it) if f is None else known.invars[f] for f in sp.out_fwd]
    known_jaxpr_outs = outs + list(it)
    known = core.Jaxpr(known.constvars, known.invars, known_jaxpr_outs, known.eqns)
  res_new = [core.Var(v.aval) for v in known_jaxpr_outs[n_known_out:]]
  it = iter(res_new)
  res_vars = [next(it) if f is None else (kin[f[1]] if f[0] == "in" else known_outs[f[1]])
              for f in sp.res_fwd]
  p = eqn.params
  uin = res_vars + [v for v, u in zip(eqn.invars, unk_in) if u]
  known_e = eqn._replace(invars=kin, outvars=known_outs + res_new,
                         params=dict(p, jaxpr=ClosedJaxpr(known, closed.consts),
                                     donated_invars=(False,) * len(kin)))
  unk_e = eqn._replace(invars=uin, outvars=[v for v, u in zip(eqn.outvars, out_unk) if u],
                       params=dict(p, jaxpr=ClosedJaxpr(unknown, []),
                                   donated_invars=(False,) * len(uin)))
  return known_e, unk_e, out_unk


pe.partial_eval_jaxpr_rules[jit_p] = _jit_partial_eval_rule


# ---- transpose ----------------------------------------------------------------------------

_transpose_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _transpose_jaxpr(closed: ClosedJaxpr, undef: tuple, ct_nz: tuple, res_avals: tuple):
  per = _transpose_cache.setdefault(closed, {})
  key = (undef, ct_nz, res_avals)
  hit = per.get(key)
  if hit is not None:
    return hit
  invars, outvars = closed.jaxpr.invars, closed.jaxpr.outvars
  ct_avals = [ad.tangent_aval(v.aval) for v, z in zip(outvars, ct_nz) if z]
  n_res = len(res_avals)
  box = []

  def fun(*xs):
    res, cts = iter(xs[:n_res]), iter(xs[n_res:])
    args = [ad.UndefinedPrimal(v.aval) if u else next(res) for v, u in zip(invars, undef)]
    cts_full = [next(cts) if z else Zero(ad.tangent_aval(v.aval)) for v, z in zip(outvars, ct_nz)]
    cts_in = ad.backward_pass(closed.jaxpr, closed.consts, args, cts_full)
    mask, outs = [], []
    for u, c in zip(undef, cts_in):
      if not u:
        continue
      nonzero = c is not None and type(c) is not Zero
      mask.append(nonzero)
      if nonzero:
        outs.append(c)
    box.append(tuple(mask))
    return outs

  t_closed = pe.trace_to_jaxpr(fun, list(res_avals) + ct_avals)
  hit = per[key] = (t_closed, box[0])
  return hit


def _jit_transpose(cts, *args, jaxpr, name, **params):
  undef = tuple(ad.is_undefined_primal(a) for a in args)
  ct_nz = tuple(type(c) is not Zero for c in cts)
  res = [a for a, u in zip(args, undef) if not u]
  res_avals = tuple(core.get_aval(r) for r in res)
  t_closed, mask = _transpose_jaxpr(jaxpr, undef, ct_nz, res_avals)
  nz_cts = [c for c in cts if type(c) is not Zero]
  outs = jit_p.bind(*res, *nz_cts, jaxpr=t_closed,
                    **_derived_params(params | {"name": name}, len(res) + len(nz_cts)))
  it_out, it_mask = iter(outs), iter(mask)
  result = []
  for a, u in zip(args, undef):
    if not u:
      result.append(None)
    elif next(it_mask):
      result.append(next(it_out))
    else:
      result.append(Zero(a.aval))
  return result


ad.primitive_transposes[jit_p] = _jit_transpose


# ---- batching -----------------------------------------------------------------------------

_batch_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _batch_jaxpr(closed: ClosedJaxpr, dims: tuple, axis_data, in_avals: tuple):
  per = _batch_cache.setdefault(closed, {})
  key = (dims, axis_data.size, axis_data.name, in_avals)
  hit = per.get(key)
  if hit is not None:
    return hit
  box = []

  def fun(*xs):
    with core.new_main(batching.BatchTrace,
                       global_data=batching.AxisData(axis_data.name, axis_data.size,
                                                     axis_data.spmd_name)) as main:
      trace = batching.BatchTrace(main)
      ins = [batching.BatchTracer(trace, x, d) if d is not None else x
             for x, d in zip(xs, dims)]
      outs = core.eval_jaxpr(closed.jaxpr, closed.consts, *ins)
      outs = [trace.full_raise(o) for o in outs]
      vals = [o.val for o in outs]
      odims = [o.batch_dim for o in outs]
    res = [v if d is None else batching.moveaxis(v, d, 0) for v, d in zip(vals, odims)]
    box.append([None if d is None else 0 for d in odims])
    return res

  b_closed = pe.trace_to_jaxpr(fun, list(in_avals))
  hit = per[key] = (b_closed, box[0])
  return hit


def _jit_batch(axis_data, vals, dims, *, jaxpr, name, **params):
  in_avals = tuple(core.get_aval(v) for v in vals)
  b_closed, out_dims = _batch_jaxpr(jaxpr, tuple(dims), axis_data, in_avals)
  outs = jit_p.bind(*vals, jaxpr=b_closed, **_derived_params(params | {"name": name}, len(vals)))
  return outs, out_dims


batching.axis_primitive_batchers[jit_p] = _jit_batch


# ---------------------------------------------------------------------------------------
# Argument handling

def _norm_argnums(nums):
  if nums is None:
    return ()
  if isinstance(nums, (int, np.integer)):
    return (int(nums),)
  return tuple(int(n) for n in nums)


def _norm_argnames(names):
  if names is None:
    return ()
  if isinstance(names, str):
    return (names,)
  return tuple(names)


def _signature(fun):
  try:
    return inspect.signature(fun)
  except (ValueError, TypeError):
    return None


def _infer_nums_and_names(sig, nums, names):
  """JAX's rule: static_argnums and static_argnames complete each other via the signature."""
  if sig is None:
    return nums, names
  params = list(sig.parameters.values())
  positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
  if nums and not names:
    names = tuple(positional[i].name for i in nums
                  if -len(positional) <= i < len(positional)
                  and positional[i].kind == positional[i].POSITIONAL_OR_KEYWORD)
  elif names and not nums:
    nums = tuple(i for i, p in enumerate(positional) if p.name in names)
  return nums, names


def _check_argnums(sig, nums, what):
  if sig is None:
    return
  params = list(sig.parameters.values())
  if any(p.kind == p.VAR_POSITIONAL for p in params):
    return
  n = sum(1 for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
  for i in nums:
    if not -n <= i < n:
      raise ValueError(f"Jitted function has {what}={tuple(nums)}, but only accepts {n} "
                       "positional arguments.")


def _arg_names(sig, nargs, kwnames):
  names = []
  if sig is not None:
    pos = [p.name for p in sig.parameters.values()
           if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    var = next((p.name for p in sig.parameters.values() if p.kind == p.VAR_POSITIONAL), "args")
  else:
    pos, var = [], "args"
  for i in range(nargs):
    names.append(pos[i] if i < len(pos) else f"{var}[{i}]")
  return names


def _hash_static(val):
  try:
    hash(val)
  except TypeError as e:
    raise ValueError(
        "Non-hashable static arguments are not supported. An error occurred while trying to "
        f"hash an object of type {type(val)}, {val!r}. The error was:\nTypeError: {e}\n"
        "Pass hashable values (tuples instead of lists, frozen dataclasses, ...) as static "
        "arguments, or make the argument a regular (traced) argument.") from None


def _leaf_to_array(x):
  """A Python/NumPy leaf as an Array (TypeError for values that are not arrays)."""
  if isinstance(x, (Array, Tracer)):
    return x
  if isinstance(x, (str, bytes)) or x is None or callable(x):
    raise TypeError(type(x))
  from numjax._src.lax.lax import asarray
  try:
    a = asarray(x)
  except (TypeError, ValueError) as e:
    raise TypeError(str(e)) from None
  if type(x) is float or type(x) is complex:
    a._pyval = x  # a literal operand of a nested jit prints as the Python value (JAX's 0.1)
  return a


def _abstract_leaf(x, fun):
  """A leaf for tracing only: arrays, tracers, ShapeDtypeStructs (or any object with
  .shape and .dtype); Python/NumPy values become Arrays."""
  if isinstance(x, (Array, Tracer, ShapeDtypeStruct)):
    return x
  if hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, (np.ndarray,
                                                                         np.generic)):
    return ShapeDtypeStruct(x.shape, x.dtype, weak_type=getattr(x, "weak_type", False))
  try:
    return _leaf_to_array(x)
  except TypeError:
    raise TypeError(f"Error interpreting argument to {fun!r} as an abstract array: the "
                    f"value {x!r} of type {type(x)} is not an array, a Python scalar or a "
                    "ShapeDtypeStruct.") from None


def _sig_of(flat):
  """Per-leaf (shape, dtype, weak_type), flattened into one tuple."""
  sig = []
  for x in flat:
    a = x.aval if isinstance(x, Tracer) else None
    if a is not None:
      sig += (a.shape, a.dtype, a.weak_type)
    else:
      v = x._value
      sig += (v.shape, v.dtype, x.weak_type)
  return sig


class _Entry:
  """One cached signature: the staged jaxpr and, lazily, its executable."""
  __slots__ = ("closed", "out_tree", "exe", "unflatten", "donated", "in_avals", "arg_names",
               "has_donation", "n_consts", "extra")

  def __init__(self, closed, out_tree, donated, in_avals, arg_names):
    self.closed, self.out_tree = closed, out_tree
    self.donated = tuple(donated)
    self.has_donation = any(donated)
    self.in_avals, self.arg_names = in_avals, arg_names
    self.exe = None
    self.n_consts = 0
    self.extra = ()
    if out_tree == _LEAF:
      self.unflatten = lambda outs: outs[0]
    else:
      self.unflatten = functools.partial(_unflatten, out_tree)


# All live jitted functions, for clear_caches().
_all_jitted: "weakref.WeakSet" = weakref.WeakSet()


class JitWrapped:
  """A function compiled with `numjax.jit`. Call it, or stage it ahead of time with
  `.trace(*args)`, `.lower(*args)`, `.eval_shape(*args)`."""

  def __init__(self, fun, static_argnums=None, static_argnames=None, donate_argnums=None,
               donate_argnames=None, keep_unused=False, inline=False, in_shardings=None,
               out_shardings=None):
    if not callable(fun):
      raise TypeError(f"Expected a callable value, got {fun!r}")
    try:  # name/doc/__wrapped__ only: copying fun.__dict__ could clobber our state
      functools.update_wrapper(self, fun, updated=())
    except (AttributeError, TypeError):
      pass
    self._fun = fun
    self._name = _fun_name(fun)
    sig = _signature(fun)
    self._sig = sig
    snums, snames = _infer_nums_and_names(sig, _norm_argnums(static_argnums),
                                          _norm_argnames(static_argnames))
    dnums, dnames = _infer_nums_and_names(sig, _norm_argnums(donate_argnums),
                                          _norm_argnames(donate_argnames))
    _check_argnums(sig, _norm_argnums(static_argnums), "static_argnums")
    _check_argnums(sig, _norm_argnums(donate_argnums), "donate_argnums")
    self._static_nums, self._static_names = snums, frozenset(snames)
    self._donate_nums, self._donate_names = dnums, frozenset(dnames)
    self._keep_unused, self._inline = bool(keep_unused), bool(inline)
    # in/out shardings (sharding_propagation.call_with_shardings): never the fast path
    self._shardings = None if in_shardings is None and out_shardings is None else \
        (in_shardings, out_shardings)
    self._fast = not (snums or snames or dnums or dnames) and self._shardings is None
    self._static_only = bool(snums) and not (dnums or dnames) and self._shardings is None
    self._static_pos: dict = {}
    self._cache: dict = {}
    self._seen_keys: list = []   # for jax_explain_cache_misses
    _all_jitted.add(self)

  # ---- descriptors / repr ---------------------------------------------------------------
  def __get__(self, obj, objtype=None):
    if obj is None:
      return self
    return types.MethodType(self, obj)

  def __repr__(self):
    return f"<numjax.jit of {self._fun!r}>"

  # ---- calling --------------------------------------------------------------------------
  def __call__(self, *args, **kwargs):
    # Hot path: no kwargs or donated args, nothing traced, a known signature.
    if not kwargs and core._eager_only and not _disabled[0] and (
        self._fast or self._static_only):
      pos = None
      if not self._fast:
        pos = self._static_pos.get(len(args))
        if pos is None:
          pos = self._static_positions(len(args))
      if not pos:
        flat, tree = _flatten(args)
        key = [tree, _ctx[0]]
        tail = None
      else:  # static positional arguments: the same key as the general path builds
        dyn = tuple([a for i, a in enumerate(args) if i not in pos])
        flat, tree = _flatten(dyn)
        key = [tree, _ctx[0]]
        tail = ("static",) + tuple([(i, args[i]) for i in sorted(pos)])
      bufs = []
      add, addb = key.append, bufs.append
      for x in flat:
        if type(x) is not Array:
          break
        b = x._buf
        if type(b) is not _ndarray:
          b = x._value   # deleted (raises) or pending
        addb(b)
        add(b.shape)
        add(b.dtype)
        add(x.weak_type)
      else:
        if tail is not None:
          add(tail)
        try:
          entry = self._cache.get(tuple(key))
        except TypeError:   # an unhashable static argument: the general path explains
          entry = None
        if entry is not None and entry.exe is not None:
          try:
            return entry.unflatten(entry.exe.fn(*bufs))
          except Exception as e:
            raise traceback_util.filter_exception(e)
    try:
      if self._shardings is not None:
        return _sprop.call_with_shardings(self, args, kwargs)
      return self._call(args, kwargs)
    except Exception as e:
      raise traceback_util.filter_exception(e)

  def _static_positions(self, nargs):
    pos = frozenset(i + nargs if i < 0 else i for i in self._static_nums
                    if -nargs <= i < nargs)
    self._static_pos[nargs] = pos
    return pos

  def _split(self, args, kwargs):
    """(dynamic positional args, dynamic kwargs, static key, donated arg positions)."""
    sn, snames = self._static_nums, self._static_names
    nargs = len(args)
    static_pos = set()
    for i in sn:
      j = i + nargs if i < 0 else i
      if 0 <= j < nargs:
        static_pos.add(j)
    statics = []
    dyn = []
    for i, a in enumerate(args):
      if i in static_pos:
        _hash_static(a)
        statics.append((i, a))
      else:
        dyn.append(a)
    dkw = {}
    for k, v in kwargs.items():
      if k in snames:
        _hash_static(v)
        statics.append((k, v))
      else:
        dkw[k] = v
    return dyn, dkw, tuple(statics), static_pos

  def _donated_mask(self, args, kwargs, static_pos, dyn_tree_leaves_per_arg):
    if not (self._donate_nums or self._donate_names):
      return None
    nargs = len(args)
    dpos = {(i + nargs if i < 0 else i) for i in self._donate_nums}
    mask = []
    for i, n in dyn_tree_leaves_per_arg:
      donated = (i in dpos) if isinstance(i, int) else (i in self._donate_names)
      mask += [donated] * n
    return mask

  def _prepare(self, args, kwargs):
    """Flatten and key a call. Returns (key, flat, in_tree, statics, donated, dyn_info)."""
    dyn, dkw, statics, static_pos = self._split(args, kwargs)
    if not statics and not kwargs:
      flat, in_tree = _flatten(args)
      form = "args"
    elif not dkw:   # only static keyword arguments (or none): key on the dynamic tuple
      flat, in_tree = _flatten(tuple(dyn))
      form = "dyn"
    else:
      flat, in_tree = _flatten((tuple(dyn), dkw))
      form = "args_kwargs"
    flat = self._convert_leaves(flat, args, kwargs, static_pos, statics)
    sig = _sig_of(flat)
    if form == "args":
      key = tuple([in_tree, _ctx[0]] + sig)
    else:
      key = tuple([in_tree, _ctx[0]] + sig + [("static",) + statics])
    donated = None
    if self._donate_nums or self._donate_names:
      per_arg = []
      dyn_idx = [i for i in range(len(args)) if i not in static_pos]
      for i, a in zip(dyn_idx, dyn):
        per_arg.append((i, len(tree_util.tree_leaves(a))))
      for k, v in dkw.items():
        per_arg.append((k, len(tree_util.tree_leaves(v))))
      donated = self._donated_mask(args, kwargs, static_pos, per_arg)
    return key, flat, in_tree, form, statics, donated, dyn, dkw

  def _call(self, args, kwargs):
    if _disabled[0]:
      return self._fun(*args, **kwargs)
    key, flat, in_tree, form, statics, donated, dyn, dkw = self._prepare(args, kwargs)
    entry = self._cache.get(key)
    if entry is None:
      entry = self._trace_entry(key, args, kwargs, flat, in_tree, form, statics, donated)
    closed = entry.closed
    if not core._eager_only and not _sprop.base_only():
      # Staged (inside a transformation or another jit): a `jit` equation, or inline.
      extra = entry.extra
      if self._inline:
        outs = core.eval_jaxpr(closed.jaxpr, closed.consts, *extra, *flat)
      else:
        outs = jit_p.bind(*extra, *flat, jaxpr=closed, name=self._name,
                          donated_invars=(False,) * len(extra) + tuple(donated or
                                                                       (False,) * len(flat)),
                          inline=self._inline, keep_unused=self._keep_unused)
      return entry.unflatten(outs)
    if entry.exe is None:
      entry.exe = executable_for(closed, self._name, entry.donated if entry.has_donation else ())
    if entry.has_donation:
      outs = _run_donated(entry, flat)
    else:
      outs = entry.exe.fn(*[x._value for x in flat])
    if not core._eager_only or self._shardings is not None:  # lay the results out
      outs = _sprop.jit_outputs(self, closed, flat, outs, args, kwargs)
    return entry.unflatten(outs)

  def _trace_entry(self, key, args, kwargs, flat, in_tree, form, statics, donated):
    if _verbose[0] and config.jax_explain_cache_misses:
      dyn, dkw, st, static_pos = self._split(args, kwargs)
      names = _flat_arg_names(self._sig, args, kwargs, static_pos, form, st)
      self._explain_miss(key, flat, in_tree, statics, names)
    t0 = time.perf_counter()
    closed, out_tree = self._trace(args, kwargs, flat, in_tree, form)
    if self._shardings is None and _sprop.has_placement(closed):
      # a staged sharding constraint: results are laid out on every call (slow path)
      self._shardings = (None, None)
      self._fast = self._static_only = False
    if config.jax_log_compiles:
      logger.warning("Finished tracing + transforming %s for jit in %.6f sec", self._name,
                     time.perf_counter() - t0)
      logger.warning("Compiling %s with global shapes and types %s.", self._name,
                     [str(core.get_aval(x)) for x in flat])
    avals = [core.get_aval(x) for x in flat]
    entry = _Entry(closed, out_tree, donated or (False,) * len(flat), avals, None)
    tracer_consts = [i for i, c in enumerate(closed.consts) if isinstance(c, Tracer)]
    if tracer_consts:
      # Closed over values of an enclosing transformation: they become leading operands
      # (as JAX hoists them); such a trace is tied to that transformation, so not cached.
      entry.closed, entry.extra = _hoist_tracer_consts(closed, tracer_consts)
      entry.n_consts = len(entry.extra)
      return entry
    self._cache[key] = entry
    self._seen_keys.append((key, [core.get_aval(x) for x in flat], in_tree, statics))
    return entry

  def _trace(self, args, kwargs, flat, in_tree, form):
    dyn, dkw, statics, static_pos = self._split(args, kwargs)
    fun = self._fun
    box = []
    nargs = len(args)
    static_kw = {k: v for k, v in statics if isinstance(k, str)}

    def flat_fun(*xs):
      if form == "args":
        full_args, full_kw = _unflatten(in_tree, xs), {}
      else:
        if form == "dyn":
          dargs, dkws = _unflatten(in_tree, xs), {}
        else:
          dargs, dkws = _unflatten(in_tree, xs)
        it = iter(dargs)
        full_args = [args[i] if i in static_pos else next(it) for i in range(nargs)]
        full_kw = dict(dkws)
        full_kw.update(static_kw)
      out = fun(*full_args, **full_kw)
      out_flat, out_tree = _flatten(out)
      box.append(out_tree)
      return out_flat

    names = _flat_arg_names(self._sig, args, kwargs, static_pos, form, statics)
    info = pe.TracingDebugInfo("jit", self._name, _fun_source(fun), names)
    closed = pe.trace_to_jaxpr(flat_fun, [core.get_aval(x) for x in flat], debug_info=info)
    return closed, box[0]

  def _explain_miss(self, key, flat, in_tree, statics, arg_names=None):
    f = core.user_frame()
    where = f"{f.f_code.co_filename}:{f.f_lineno} ({f.f_code.co_name})" if f else "?"
    if not self._seen_keys:
      logger.warning("TRACING CACHE MISS at %s:\n  never seen function:\n    %s id=%d "
                     "defined at %s", where, self._name, id(self._fun), _fun_source(self._fun))
      return
    avals = [core.get_aval(x) for x in flat]

    def aval_diff(a, b):
      return (a.shape != b.shape) + (a.dtype != b.dtype) + (a.weak_type != b.weak_type)

    best, best_score = None, None
    for k, pav, ptree, pstat in self._seen_keys:   # the closest; the latest on ties
      score = (ptree != in_tree) * 1000 + (pstat != statics) * 100 + \
          (sum(aval_diff(a, b) for a, b in zip(avals, pav)) if len(avals) == len(pav)
           else 50)
      if best_score is None or score <= best_score:
        best, best_score = (k, pav, ptree, pstat), score
    _, pav, ptree, pstat = best
    lines = [f"TRACING CACHE MISS at {where}:",
             f"  for {self._name} defined at {_fun_source(self._fun)}",
             "  all previously seen cache keys differ. For the closest previous key:"]
    if ptree != in_tree:
      lines.append("  different input pytree:")
      lines.append(f"  * now {in_tree} and before {ptree}")
    elif pstat != statics:
      lines.append("  different value of static args:")
      old = dict(pstat)
      new = dict(statics)
      names = _arg_names(self._sig, max([k for k in list(old) + list(new)
                                          if isinstance(k, int)] + [-1]) + 1, ())
      for k in sorted(set(old) | set(new), key=str):
        if old.get(k, "<absent>") != new.get(k, "<absent>"):
          nm = names[k] if isinstance(k, int) and k < len(names) else k
          lines.append(f"  * at {nm}, now {new.get(k, '<absent>')!r} and before "
                       f"{old.get(k, '<absent>')!r}")
    else:
      lines.append("  different input types:")
      names = arg_names or [f"argument {i}" for i in range(len(flat))]
      for nm, a, b in zip(names, avals, pav):
        if a != b:
          what = "weak type" if (a.shape == b.shape and a.dtype == b.dtype) else (
              "dtype" if a.shape == b.shape else "shape")
          lines.append(f"  * at {nm}, now {_aval_str(a)} and before "
                       f"{_aval_str(b)} (the {what} changed)")
    lines.append("  (the config part of the key: "
                 + ("unchanged" if best[0][1] == _ctx[0] else "changed") + ")")
    logger.warning("\n".join(lines))

  # ---- AOT ------------------------------------------------------------------------------
  def trace(self, *args, **kwargs) -> "Traced":
    """Stage the function for these arguments (arrays or ShapeDtypeStructs)."""
    key, flat, in_tree, form, statics, donated = self._prepare_abstract(args, kwargs)
    closed, out_tree = self._trace(args, kwargs, flat, in_tree, form)
    return Traced(self, closed, in_tree, out_tree, flat, donated)

  def lower(self, *args, **kwargs) -> "Lowered":
    """Stage and optimise for these arguments; `.as_text()` shows the optimised jaxpr."""
    return self.trace(*args, **kwargs).lower()

  def eval_shape(self, *args, **kwargs):
    """Output ShapeDtypeStructs of the function for these arguments."""
    t = self.trace(*args, **kwargs)
    return t.out_info

  def _prepare_abstract(self, args, kwargs):
    dyn, dkw, statics, static_pos = self._split(args, kwargs)
    if not statics and not kwargs:
      flat, in_tree = _flatten(args)
      form = "args"
    elif not dkw:
      flat, in_tree = _flatten(tuple(dyn))
      form = "dyn"
    else:
      flat, in_tree = _flatten((tuple(dyn), dkw))
      form = "args_kwargs"
    flat = self._convert_leaves(flat, args, kwargs, static_pos, statics, abstract=True)
    return None, flat, in_tree, form, statics, None

  def _convert_leaves(self, flat, args, kwargs, static_pos, statics, abstract=False):
    """Arrays and tracers pass; Python/NumPy values become Arrays; anything else is JAX's
    TypeError naming the argument path."""
    ok = (Array, Tracer, ShapeDtypeStruct) if abstract else (Array, Tracer)
    out = []
    for i, x in enumerate(flat):
      if type(x) is Array or isinstance(x, ok):
        out.append(x)
        continue
      try:
        out.append(_leaf_to_array(x))
      except TypeError:
        names = _flat_arg_names(self._sig, args, kwargs, static_pos, None, statics) or []
        path = names[i] if i < len(names) else f"argument {i}"
        raise TypeError(
            f"Error interpreting argument to {self._fun!r} as an abstract array. The "
            f"problematic value is of type {type(x)} and was passed to the function at path "
            f"{path}.\nThis typically means that a jit-wrapped function was called with a "
            "non-array argument, and this argument was not marked as static using the "
            "static_argnums or static_argnames parameters of jax.jit.") from None
    return out

  def clear_cache(self):
    self._cache.clear()
    self._seen_keys.clear()

  def _cache_size(self):
    return len(self._cache)


def _hoist_tracer_consts(closed, idx):
  """Constants that are tracers of an enclosing transformation become leading invars.
  Returns (ClosedJaxpr with the remaining constants, the hoisted tracers)."""
  j = closed.jaxpr
  idx_set = set(idx)
  tvars = [j.constvars[i] for i in idx]
  tvals = [closed.consts[i] for i in idx]
  cvars = [v for i, v in enumerate(j.constvars) if i not in idx_set]
  cvals = [c for i, c in enumerate(closed.consts) if i not in idx_set]
  new = Jaxpr(cvars, tvars + j.invars, j.outvars, j.eqns, j.effects, j.debug_info)
  return ClosedJaxpr(new, cvals), tvals


def _run_donated(entry, flat):
  """Delete donated inputs before running (so their buffers may be reused in place)."""
  bufs = [x._value for x in flat]
  donated = [x for x, d in zip(flat, entry.donated) if d and type(x) is Array]
  for x in donated:
    x.delete()
  try:
    return entry.exe.fn(*bufs)
  except BaseException:
    for x, d in zip(flat, entry.donated):
      if d and type(x) is Array:
        x._buf = bufs[flat.index(x)]
    raise


def _aval_str(a):
  return a.str_short() + ("{weak_type=True}" if a.weak_type else "")


def _flat_arg_names(sig, args, kwargs, static_pos, form, statics):
  """Names of the flat (dynamic) arguments, e.g. `x`, `params['w']`, `xs[0]`."""
  try:
    names = _arg_names(sig, len(args), ())
    out = []
    for i, a in enumerate(args):
      if i in static_pos:
        continue
      for path, _ in tree_util.tree_flatten_with_path(a)[0]:
        out.append(names[i] + tree_util.keystr(path))
    static_kw = {k for k, _ in statics if isinstance(k, str)}
    for k, v in kwargs.items():
      if k in static_kw:
        continue
      for path, _ in tree_util.tree_flatten_with_path(v)[0]:
        out.append(k + tree_util.keystr(path))
    return out
  except Exception:
    return None


# ---------------------------------------------------------------------------------------
# AOT stages

class Traced:
  """A staged function: `.jaxpr`, `.out_info`, `.lower()`."""

  def __init__(self, wrapped, closed, in_tree, out_tree, flat, donated):
    self._wrapped, self.jaxpr = wrapped, closed
    self.in_tree, self.out_tree = in_tree, out_tree
    self._in_avals = [core.get_aval(x) for x in flat]
    self._donated = donated
    self.fun_name = wrapped._name

  @property
  def out_info(self):
    return _unflatten(self.out_tree, [ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type)
                                      for a in self.jaxpr.out_avals])

  @property
  def in_avals(self):
    return self._in_avals

  def lower(self, *, lowering_platforms=None, **kw) -> "Lowered":
    return Lowered(self)


class Lowered:
  """The optimised program: `.as_text()` (the jaxpr after the compiler passes),
  `.compile()`."""

  def __init__(self, traced: Traced):
    self._traced = traced
    closed = traced.jaxpr
    if any(isinstance(c, Tracer) for c in closed.consts):
      raise ValueError("Cannot lower a function that closes over values of an enclosing "
                       "transformation; call it inside that transformation instead.")
    self._jaxpr, self._consts = compiler.optimize(closed)
    self.in_tree, self.out_tree = traced.in_tree, traced.out_tree

  @property
  def out_info(self):
    return self._traced.out_info

  def as_text(self, dialect=None, **kw) -> str:
    return core.pp_jaxpr(self._jaxpr)

  def compiler_ir(self, dialect=None):
    return core.ClosedJaxpr(self._jaxpr, self._consts)

  def cost_analysis(self):
    return {"equations": len(self._jaxpr.eqns)}

  def compile(self, compiler_options=None) -> "Compiled":
    t = self._traced
    exe = executable_for(t.jaxpr, t.fun_name, tuple(t._donated or ()))
    return Compiled(exe, t)


class Compiled:
  """An executable for one signature: call it; `.as_text()` is the generated code."""

  def __init__(self, exe, traced):
    self._exe, self._traced = exe, traced
    self.in_tree, self.out_tree = traced.in_tree, traced.out_tree

  def as_text(self) -> str:
    return self._exe.as_text()

  @property
  def out_info(self):
    return self._traced.out_info

  def cost_analysis(self):
    return {"equations": len(self._exe.jaxpr.eqns)}

  def memory_analysis(self):
    return None

  def __call__(self, *args, **kwargs):
    w = self._traced._wrapped
    key, flat, in_tree, form, statics, donated, dyn, dkw = w._prepare(args, kwargs)
    if in_tree != self.in_tree:
      raise TypeError(f"Function compiled with input pytree does not match the input "
                      f"pytree it was called with: expected {self.in_tree}, got {in_tree}.")
    avals = [core.get_aval(x) for x in flat]
    for i, (a, b) in enumerate(zip(avals, self._traced.in_avals)):
      if a.shape != b.shape or a.dtype != b.dtype:
        raise TypeError(f"Argument types differ from the types for which this computation "
                        f"was compiled: argument {i} is {a.str_short()}, expected "
                        f"{b.str_short()}.")
    outs = self._exe.fn(*[x._value for x in flat])
    return _unflatten(self.out_tree, outs)


# ---------------------------------------------------------------------------------------
# Public entry points

def jit(fun: Callable | None = None, *, static_argnums=None, static_argnames=None,
        donate_argnums=None, donate_argnames=None, keep_unused=False, device=None,
        backend=None, inline=False, in_shardings=None, out_shardings=None,
        abstracted_axes=None, compiler_options=None):
  """Compile `fun`: trace once per argument signature, run the cached executable."""
  if fun is None:
    return functools.partial(jit, static_argnums=static_argnums,
                             static_argnames=static_argnames, donate_argnums=donate_argnums,
                             donate_argnames=donate_argnames, keep_unused=keep_unused,
                             inline=inline, in_shardings=in_shardings,
                             out_shardings=out_shardings)
  return JitWrapped(fun, static_argnums, static_argnames, donate_argnums, donate_argnames,
                    keep_unused, inline, in_shardings, out_shardings)


def make_jaxpr(fun, static_argnums=(), axis_env=None, return_shape=False,
               abstracted_axes=None):
  """Return a function that gives the ClosedJaxpr of `fun` at the given arguments."""
  snums = _norm_argnums(static_argnums)

  @functools.wraps(fun)
  def make(*args, **kwargs):
    nargs = len(args)
    static = {i + nargs if i < 0 else i for i in snums}
    dyn = [a for i, a in enumerate(args) if i not in static]
    flat, in_tree = _flatten((tuple(dyn), kwargs))
    flat = [_abstract_leaf(x, fun) for x in flat]
    box = []

    def flat_fun(*xs):
      dargs, dkw = _unflatten(in_tree, xs)
      it = iter(dargs)
      full = [args[i] if i in static else next(it) for i in range(nargs)]
      out = fun(*full, **dkw)
      of, ot = _flatten(out)
      box.append(ot)
      return of

    sig = _signature(fun)
    names = _flat_arg_names(sig, args, kwargs, static, "args_kwargs", ())
    info = pe.TracingDebugInfo("make_jaxpr", _fun_name(fun), _fun_source(fun), names)
    try:
      closed = pe.trace_to_jaxpr(flat_fun, [core.get_aval(x) for x in flat], debug_info=info)
    except Exception as e:
      raise traceback_util.filter_exception(e)
    if return_shape:
      shapes = [ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type)
                for a in closed.out_avals]
      return closed, _unflatten(box[0], shapes)
    return closed
  return make


class ShapeDtypeStruct:
  """An abstract array: shape, dtype (and weak_type); usable wherever arguments are only
  traced (eval_shape, .lower(), .trace())."""
  __slots__ = ("shape", "dtype", "sharding", "weak_type")

  def __init__(self, shape, dtype, *, sharding=None, weak_type=False):
    self.shape = tuple(shape)
    self.dtype = _dtypes.canonicalize_dtype(dtype) if dtype is not None else None
    self.sharding = sharding
    self.weak_type = weak_type

  ndim = property(lambda self: len(self.shape))
  size = property(lambda self: int(np.prod(self.shape)))

  def update(self, shape=None, dtype=None, sharding=None, weak_type=None):
    return ShapeDtypeStruct(self.shape if shape is None else shape,
                            self.dtype if dtype is None else dtype,
                            sharding=self.sharding if sharding is None else sharding,
                            weak_type=self.weak_type if weak_type is None else weak_type)

  def __repr__(self):
    w = ", weak_type=True" if self.weak_type else ""
    return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype.name}{w})"

  def __eq__(self, other):
    return (isinstance(other, ShapeDtypeStruct) and self.shape == other.shape
            and self.dtype == other.dtype and self.weak_type == other.weak_type)

  def __hash__(self):
    return hash((self.shape, self.dtype, self.weak_type))


core.pytype_aval_mappings[ShapeDtypeStruct] = (
    lambda s: core.ShapedArray(s.shape, s.dtype, s.weak_type))


def eval_shape(fun, *args, **kwargs):
  """The output shapes/dtypes of `fun(*args, **kwargs)`, computed by tracing only."""
  flat, in_tree = _flatten((args, kwargs))
  flat = [_abstract_leaf(x, fun) for x in flat]
  box = []

  def flat_fun(*xs):
    a, k = _unflatten(in_tree, xs)
    of, ot = _flatten(fun(*a, **k))
    box.append(ot)
    return of

  avals = [core.get_aval(x) for x in flat]
  try:
    closed = pe.trace_to_jaxpr(flat_fun, avals)
  except Exception as e:
    raise traceback_util.filter_exception(e)
  return _unflatten(box[0], [ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type)
                             for a in closed.out_avals])


def device_put(x, device=None, *, src=None, donate=False, may_alias=None):
  """Put every leaf of `x` on the (single, host) device as a numjax Array."""
  from numjax._src.lax.lax import asarray

  def put(leaf):
    if isinstance(leaf, Tracer):
      return leaf
    if isinstance(leaf, Array):
      if may_alias is False:
        return Array(np.array(leaf._value), leaf.weak_type)
      return leaf
    return asarray(leaf)
  return tree_util.tree_map(put, x)


def device_get(x):
  """Every Array leaf of `x` as a NumPy array (other leaves unchanged)."""
  return tree_util.tree_map(lambda a: np.asarray(a) if isinstance(a, Array) else a, x)


def block_until_ready(x):
  """Wait for every Array leaf of `x` (numjax computes synchronously); returns `x`."""
  for leaf in tree_util.tree_leaves(x):
    if hasattr(leaf, "block_until_ready"):
      leaf.block_until_ready()
  return x


def clear_caches():
  """Drop every jit cache: traced jaxprs and compiled executables."""
  for f in list(_all_jitted):
    f.clear_cache()
  _exe_cache.clear()
  _jvp_cache.clear()
  _split_cache.clear()
  _transpose_cache.clear()
  _batch_cache.clear()


class ensure_compile_time_eval:
  """Context manager: operations on concrete values run eagerly even inside `jit`
  (values computed from traced arguments are still traced)."""

  def __enter__(self):
    self._prev = core.dynamic_trace
    core.dynamic_trace = None
    core._update_eager_flag()
    return self

  def __exit__(self, *exc):
    core.dynamic_trace = self._prev
    core._update_eager_flag()
    return False


def named_call(fun: Callable, *, name: str | None = None) -> Callable:
  """Accepted for JAX compatibility: numjax keeps no name stack, so this returns `fun`'s
  behaviour unchanged."""
  @functools.wraps(fun)
  def f(*args, **kwargs):
    return fun(*args, **kwargs)
  return f


class named_scope:
  """Accepted for JAX compatibility (`with numjax.named_scope("layer1"): ...`)."""

  def __init__(self, name: str):
    if not isinstance(name, str):
      raise TypeError("named_scope name argument must be a string.")
    self.name = name

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    return False

  def __call__(self, fun):
    return fun
