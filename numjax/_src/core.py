"""The engine's core: avals, primitives and bind, traces and tracers, jaxprs.

`core` knows no primitive. Each interpreter (ad, batching, partial_eval) defines a Trace
subclass and owns its own rule registry; primitives register their rules beside their
declaration in `lax/`.

Traces nest by level (a stack of `MainTrace`s). `bind` sends an operation to the
highest-level trace among its arguments (or to the dynamic trace, when `jit` is staging
everything). With no transformation active, `bind` goes straight to the primitive's NumPy
implementation: that path is the eager hot path and is kept to a handful of attribute reads.
"""
from __future__ import annotations

import itertools
import operator
from contextlib import contextmanager
from typing import Any, Callable, NamedTuple

import numpy as np

from numjax._src import dtypes as _dtypes
from numjax._src import errors

# ---------------------------------------------------------------------------------------
# Abstract values

_SHORT_DTYPE_NAMES = {
    "float16": "f16", "float32": "f32", "float64": "f64", "bfloat16": "bf16",
    "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
    "uint8": "u8", "uint16": "u16", "uint32": "u32", "uint64": "u64",
    "int4": "i4", "uint4": "u4", "int2": "i2", "uint2": "u2",
    "complex64": "c64", "complex128": "c128", "bool": "bool",
}


def short_dtype_name(dtype) -> str:
  if dtype == _dtypes.float0:
    return "float0"
  name = getattr(dtype, "name", str(dtype))
  if name in _SHORT_DTYPE_NAMES:
    return _SHORT_DTYPE_NAMES[name]
  if name.startswith("float"):
    return "f" + name[5:]
  return name


class AbstractValue:
  __slots__ = ()


class ShapedArray(AbstractValue):
  """What a tracer knows about a value: shape, dtype and whether its type is weak."""
  __slots__ = ("shape", "dtype", "weak_type")
  array_abstraction_level = 1

  def __init__(self, shape, dtype, weak_type=False):
    self.shape = tuple(shape)
    self.dtype = np.dtype(dtype) if not isinstance(dtype, np.dtype) else dtype
    self.weak_type = bool(weak_type)

  ndim = property(lambda self: len(self.shape))
  size = property(lambda self: int(np.prod(self.shape, dtype=np.int64)))

  def update(self, shape=None, dtype=None, weak_type=None):
    return ShapedArray(self.shape if shape is None else shape,
                       self.dtype if dtype is None else dtype,
                       self.weak_type if weak_type is None else weak_type)

  def strip_weak_type(self):
    return self.update(weak_type=False) if self.weak_type else self

  def str_short(self, short_dtypes=True):
    dt = short_dtype_name(self.dtype) if short_dtypes else self.dtype.name
    return f"{dt}[{','.join(str(d) for d in self.shape)}]"

  def __eq__(self, other):
    return (type(self) is type(other) and self.shape == other.shape
            and self.dtype == other.dtype and self.weak_type == other.weak_type)

  def __hash__(self):
    return hash((self.shape, self.dtype, self.weak_type))

  def __repr__(self):
    w = ", weak_type=True" if self.weak_type else ""
    return f"ShapedArray({self.str_short(False)}{w})"

  __str__ = str_short

  def __len__(self):
    if not self.shape:
      raise TypeError("len() of unsized object")
    return self.shape[0]


def _trusted_shaped_array(shape, dtype, weak_type, _new=object.__new__):
  """ShapedArray from a tuple shape, an np.dtype and a bool (no normalisation: hot paths)."""
  a = _new(ShapedArray)
  a.shape = shape
  a.dtype = dtype
  a.weak_type = weak_type
  return a


def raise_to_shaped(aval, weak_type=None):
  return aval if weak_type is None else aval.update(weak_type=weak_type)


# type(x) -> function producing x's aval; Array, NumPy and Python scalars register here.
pytype_aval_mappings: dict[type, Callable[[Any], ShapedArray]] = {}


def _np_aval(x):
  return ShapedArray(x.shape, _dtypes.canonicalize_dtype(x.dtype), False)


def _scalar_aval(x):
  return ShapedArray((), _dtypes.dtype(x, canonicalize=True), True)


for _t in (np.ndarray, *{type(np.dtype(c).type(0)) for c in np.typecodes["All"] if c not in "OSUVMm"}):
  pytype_aval_mappings[_t] = _np_aval
for _t in (bool, int, float, complex):
  pytype_aval_mappings[_t] = _scalar_aval


def get_aval(x) -> ShapedArray:
  if isinstance(x, Tracer):
    return x.aval
  fn = pytype_aval_mappings.get(type(x))
  if fn is None:
    for t in type(x).__mro__:
      fn = pytype_aval_mappings.get(t)
      if fn is not None:
        break
    else:
      raise TypeError(f"Value {x!r} with type {type(x)} is not a valid JAX type")
  return fn(x)


def is_array_like(x) -> bool:
  return isinstance(x, Tracer) or type(x) in pytype_aval_mappings or hasattr(x, "__jax_array__")


# ---------------------------------------------------------------------------------------
# Primitives

class Primitive:
  """A named operation. Interpreters attach rules to it in their own registries."""
  multiple_results = False
  # Collectives over a named (vmap) axis: batched even when no operand is (lax/parallel.py).
  collective = False
  # Staging memoises single-result shape rules per (avals, params); set this on a primitive
  # whose rule depends on anything else (pe._abstract_eval).
  uncached_shape_rule = False
  # Params not shown when a jaxpr is printed (JAX hides e.g. dot_general's precision=None).
  hidden_params: frozenset = frozenset()
  # Params not shown while they hold this default value (dot_general's precision=None).
  hidden_if_default: dict = {}
  # Sub-jaxprs in params printed with fresh variable names (as JAX prints `jit`).
  fresh_names_in_params = False
  # param name -> fn(value) -> its text in printed jaxprs, where JAX's differs from str().
  param_printers: dict = {}
  # NumPy implementation on raw buffers: impl(*np_arrays, **params) -> np array(s).
  impl: Callable | None = None
  # Shape/dtype rule: abstract_eval(*avals, **params) -> aval (or list of avals).
  abstract_eval: Callable | None = None

  def __init__(self, name: str):
    self.name = name
    self.eager = self._default_eager

  def __repr__(self):
    return self.name

  def bind(self, *args, **params):
    if _eager_only:
      return self.eager(*args, **params)
    return bind_with_trace(self, args, params)

  def def_impl(self, impl):
    self.impl = impl
    return impl

  def def_abstract_eval(self, rule):
    self.abstract_eval = rule
    return rule

  def def_eager(self, fn):
    """Override the eager path (args are concrete Arrays)."""
    self.eager = fn
    return fn

  # Weak-type rule for the eager path: the result is weak iff every input is.
  def weak_type_rule(self, args, params):
    if not args:
      return False
    for a in args:
      if not a.weak_type:
        return False
    return True

  def _default_eager(self, *args, **params):
    vals = []
    for a in args:  # (a loop: a list comprehension is one more frame in 3.11)
      vals.append(a._value)
    out = self.impl(*vals, **params)
    weak = self.weak_type_rule(args, params)
    if self.multiple_results:
      return [_wrap_array(o, weak) for o in out]
    return _wrap_array(out, weak)


def rule_error(p, args, params, err=None):
  """Run p's shape rule on the operands' avals, so an invalid eager call raises JAX's error
  (not NumPy's). If the rule accepts the operands, re-raise `err` (the impl's own failure)."""
  p.abstract_eval(*[get_aval(a) for a in args], **params)
  if err is not None:
    raise err


def def_eager_checked_on_error(p, suspect=None):
  """Eager path that validates only when something looks wrong: when the NumPy impl raises,
  or when `suspect(*np_values, **params)` (a cheap test for invalid input NumPy would
  silently accept) is true, the shape rule runs and raises JAX's error. Valid calls pay
  nothing beyond `suspect`."""
  impl, multiple = p.impl, p.multiple_results

  def eager(*args, **params):
    vals = [a._value for a in args]
    if suspect is not None and suspect(*vals, **params):
      rule_error(p, args, params)
    try:
      out = impl(*vals, **params)
    except Exception as e:  # noqa: BLE001 - the rule decides which error the user sees
      err = e
    else:
      weak = p.weak_type_rule(args, params)
      if multiple:
        return [_wrap_array(o, weak) for o in out]
      return _wrap_array(out, weak)
    rule_error(p, args, params, err)  # (outside the except block: no chained traceback)
  p.eager = eager
  return p


def _wrap_array_unset(val, weak):  # replaced by array.py at import
  raise RuntimeError("numjax.Array is not initialised")


_wrap_array = _wrap_array_unset


def set_array_wrapper(fn):
  global _wrap_array
  _wrap_array = fn


# ---------------------------------------------------------------------------------------
# Traces and tracers

class MainTrace:
  __slots__ = ("level", "trace_type", "global_data", "alive", "trace")

  def __init__(self, level, trace_type, global_data=None):
    self.level, self.trace_type, self.global_data = level, trace_type, global_data
    self.alive = True
    self.trace = trace_type(self)  # traces hold nothing but `main`: one per MainTrace

  def __repr__(self):
    return f"MainTrace({self.level},{self.trace_type.__name__})"

  def with_cur_sublevel(self):
    return self.trace_type(self)


class Trace:
  __slots__ = ("main",)

  def __init__(self, main: MainTrace):
    self.main = main

  @property
  def level(self):
    return self.main.level

  def pure(self, val):
    raise NotImplementedError(type(self))

  def lift(self, val):
    raise NotImplementedError(type(self))

  def full_raise(self, val):
    if not isinstance(val, Tracer):
      return self.pure(val)
    main = val._trace.main
    if main is self.main:
      return val
    if not main.alive:
      raise escaped_tracer_error(val)
    if main.level < self.main.level:
      return self.lift(val)
    raise escaped_tracer_error(
        val, f"Can't lift level {main.level} to {self.main.level}: the tracer belongs to "
        "a transformation that is not active in this context.")

  def process_primitive(self, primitive, tracers, params):
    raise NotImplementedError(type(self))

  # custom_jvp / custom_vjp functions arrive here with their Python callables. EvalTrace
  # just calls the function and JVPTrace applies the custom rule; every other trace uses
  # the default installed by custom_derivatives.py: trace the function to a jaxpr (its
  # closed-over tracers become explicit operands) and bind it as an ordinary primitive.
  def process_custom_jvp_call(self, prim, fun, jvp, tracers, *, symbolic_zeros):
    return custom_call_hooks["custom_jvp"](self, prim, fun, jvp, tracers, symbolic_zeros)

  def process_custom_vjp_call(self, prim, fun, fwd, bwd, tracers, out_trees, symbolic_zeros):
    return custom_call_hooks["custom_vjp"](self, prim, fun, fwd, bwd, tracers, out_trees,
                                           symbolic_zeros)

  def __repr__(self):
    return f"{type(self).__name__}(level={self.level})"


custom_call_hooks: dict[str, Callable] = {}


class EvalTrace(Trace):
  __slots__ = ()
  pure = lift = lambda self, x: x

  def process_primitive(self, primitive, tracers, params):
    return primitive.eager(*tracers, **params)

  def process_custom_jvp_call(self, prim, fun, jvp, tracers, *, symbolic_zeros):
    del prim, jvp, symbolic_zeros
    return fun(*tracers)

  def process_custom_vjp_call(self, prim, fun, fwd, bwd, tracers, out_trees, symbolic_zeros):
    del prim, fwd, bwd, out_trees, symbolic_zeros
    return fun(*tracers)


trace_stack: list[MainTrace] = [MainTrace(0, EvalTrace, None)]
dynamic_trace: MainTrace | None = None
_eager_only = True  # True iff no transformation is active: bind may skip the trace logic


def _update_eager_flag():
  global _eager_only
  # (the base trace is ShardingEvalTrace while committed arrays exist:
  # sharding_propagation.py lays out eager results then, through bind_with_trace)
  _eager_only = len(trace_stack) == 1 and dynamic_trace is None and \
      trace_stack[0].trace_type is EvalTrace


class new_main:
  """`with new_main(trace_type, dynamic=False, global_data=None) as main:` pushes a MainTrace
  (a class rather than a generator context manager: every grad/jvp/vmap call enters two)."""
  __slots__ = ("main", "dynamic", "prev_dynamic")

  def __init__(self, trace_type, dynamic: bool = False, global_data=None):
    self.main = MainTrace(len(trace_stack), trace_type, global_data)
    self.dynamic = dynamic

  def __enter__(self):
    global dynamic_trace
    main = self.main
    main.level = len(trace_stack)  # (the stack may have changed since __init__)
    trace_stack.append(main)
    if self.dynamic:
      self.prev_dynamic, dynamic_trace = dynamic_trace, main
    _update_eager_flag()
    return main

  def __exit__(self, *exc):
    global dynamic_trace
    trace_stack.pop()
    if self.dynamic:
      dynamic_trace = self.prev_dynamic
    main = self.main
    main.alive = False
    main.trace = None  # (main <-> trace is a cycle: without it, refcounting frees a trace)
    _update_eager_flag()
    return False


@contextmanager
def new_base_main(trace_type=EvalTrace):
  """Run with no transformation visible (used by ensure_compile_time_eval / callbacks)."""
  global trace_stack, dynamic_trace
  prev_stack, prev_dyn = trace_stack, dynamic_trace
  trace_stack, dynamic_trace = [MainTrace(0, trace_type, None)], None
  _update_eager_flag()
  try:
    yield
  finally:
    trace_stack, dynamic_trace = prev_stack, prev_dyn
    _update_eager_flag()


def find_top_trace(xs) -> Trace:
  top = trace_stack[0]
  for x in xs:
    if isinstance(x, Tracer):
      m = x._trace.main
      if m.level > top.level:
        top = m
  if dynamic_trace is not None and dynamic_trace.level > top.level:
    top = dynamic_trace
  if not top.alive:  # a tracer outlived its transformation (saved in a global, ...)
    raise escaped_tracer_error(next(x for x in xs if isinstance(x, Tracer)
                                    and x._trace.main is top))
  return top.trace


def bind_with_trace(primitive, args, params):
  # find_top_trace, inlined: the highest-level main among the operands' traces
  top = None
  same = True  # every operand a tracer of the same main (then none needs raising)
  for x in args:
    if isinstance(x, Tracer):
      m = x._trace.main
      if top is None:
        top = m
      elif m is not top:
        same = False
        if m.level > top.level:
          top = m
    else:
      same = False
  dyn = dynamic_trace
  if top is None:
    # Concrete operands and nothing staging everything (e.g. the primal half of
    # linearize, or a jvp rule's primal bind): the eager path, without an EvalTrace.
    base = trace_stack[0]
    if dyn is None and base.trace_type is EvalTrace:
      return primitive.eager(*args, **params)
    top = base
  if dyn is not None and dyn.level > top.level:
    top = dyn
    same = False
  if not top.alive:  # a tracer outlived its transformation (saved in a global, ...)
    raise escaped_tracer_error(next(x for x in args if isinstance(x, Tracer)
                                    and x._trace.main is top))
  trace = top.trace
  main = top
  if same and args:
    tracers = list(args)
  else:  # full_raise, inlined (an operand of the top trace as is, a constant via pure)
    tracers = [(a if a._trace.main is main else trace.full_raise(a))
               if isinstance(a, Tracer) else trace.pure(a) for a in args]
  out = trace.process_primitive(primitive, tracers, params)
  if primitive.multiple_results:
    return [full_lower(o) for o in out]
  return out.full_lower() if isinstance(out, Tracer) else out


def full_lower(val):
  if isinstance(val, Tracer):
    return val.full_lower()
  return val


def cur_level() -> int:
  return len(trace_stack) - 1


class Tracer:
  """A value inside a transformation. Its operators are installed by the numpy layer."""
  __slots__ = ("_trace", "__weakref__")
  __array_priority__ = 1000
  __hash__ = None  # like JAX: unhashable

  def __init__(self, trace: Trace):
    self._trace = trace

  @property
  def aval(self) -> ShapedArray:
    raise NotImplementedError(type(self))

  def full_lower(self):
    return self

  def to_concrete_value(self):
    """The concrete value if this tracer carries one (e.g. a jvp primal), else None."""
    return None

  shape = property(lambda self: self.aval.shape)
  dtype = property(lambda self: self.aval.dtype)
  ndim = property(lambda self: self.aval.ndim)
  size = property(lambda self: self.aval.size)
  weak_type = property(lambda self: self.aval.weak_type)

  def __len__(self):
    return len(self.aval)

  # Reaching for the buffer of a tracer means it leaked out of its transformation
  # (the eager path reads `_value` directly): that is JAX's UnexpectedTracerError.
  @property
  def _value(self):
    raise escaped_tracer_error(self)

  def __bool__(self):
    return bool(self._concrete_or_raise(errors.TracerBoolConversionError, "bool"))

  def __int__(self):
    return int(self._concrete_or_raise(_IntConversionError, "int"))

  def __index__(self):
    return operator.index(self._concrete_or_raise(errors.TracerIntegerConversionError,
                                                  "index"))

  def __float__(self):
    return float(self._concrete_or_raise(errors.ConcretizationTypeError, "float"))

  def __complex__(self):
    return complex(self._concrete_or_raise(errors.ConcretizationTypeError, "complex"))

  def __array__(self, dtype=None, copy=None):
    raise errors.TracerArrayConversionError(concretization_message(self, "array"))

  def item(self, *args):
    return self._concrete_or_raise(errors.ConcretizationTypeError, "item").item(*args)

  def tolist(self):
    return self._concrete_or_raise(errors.ConcretizationTypeError, "tolist").tolist()

  def _concrete_or_raise(self, err_cls, what):
    c = self.to_concrete_value()
    if c is not None:
      return c._value if hasattr(c, "_value") else np.asarray(c)
    raise err_cls(concretization_message(self, what))

  def _short_repr(self):
    return f"traced array with shape {self.aval.str_short(False)}"

  def __repr__(self):
    base = f"Traced<{self.aval.str_short(False)}>with<{type(self._trace).__name__}>"
    return base

  def __setitem__(self, idx, val):
    raise TypeError(
        f"'{type(self).__name__}' object does not support item assignment. JAX arrays are "
        "immutable. Instead of ``x[idx] = y``, use ``x = x.at[idx].set(y)`` or another "
        ".at[] method: https://docs.jax.dev/en/latest/_autosummary/jax.numpy.ndarray.at.html")

  def __deepcopy__(self, memo):
    return self

  def __copy__(self):
    return self


# Where a tracer first hit Python control flow: the user's frame, not numjax's.
_NUMJAX_DIR = __file__.rsplit("/_src/", 1)[0]


def user_frame():
  """The innermost stack frame that is not inside numjax (or the stdlib's contextlib/functools)."""
  import sys
  f = sys._getframe(1)
  while f is not None:
    fn = f.f_code.co_filename
    if not (fn.startswith(_NUMJAX_DIR) or fn.endswith(("contextlib.py", "functools.py"))):
      return f
    f = f.f_back
  return None


def _user_line_hint():
  f = user_frame()
  if f is None:
    return ""
  return f"\nThe error occurred at {f.f_code.co_filename}:{f.f_lineno} (in {f.f_code.co_name})."


class _IntConversionError(errors.TracerIntegerConversionError, errors.ConcretizationTypeError):
  """`int(tracer)`. JAX 0.10.2 raises ConcretizationTypeError here, numjax's spec names
  TracerIntegerConversionError: this error is an instance of both."""


_IntConversionError.__name__ = _IntConversionError.__qualname__ = "TracerIntegerConversionError"
_IntConversionError.__module__ = "numjax.errors"

_CONCRETIZATION_HINTS = {
    "bool": ("Python control flow such as `if`, `while` or `and`/`or` needs a concrete "
             "boolean. Use jnp.where / lax.cond / lax.while_loop instead, or mark the "
             "argument static with static_argnums / static_argnames."),
    "int": ("If the value is a shape or a loop bound, make the argument static "
            "(static_argnums / static_argnames), or use lax.fori_loop / lax.dynamic_slice "
            "with traced indices."),
    "index": ("A traced value was used where Python needs a concrete integer (an index, a "
              "shape or a range bound). Mark the argument static with static_argnums, or "
              "use lax.dynamic_slice / lax.dynamic_index_in_dim."),
    "array": ("This happens when a traced value is passed to a NumPy function (np.asarray, "
              "np.sum, ...) or to a library built on NumPy: use numjax.numpy (jnp) functions "
              "instead, or mark the argument static."),
}


def concretization_message(tracer, what):
  """JAX's wording, then where the value came from, the user's line and how to fix it."""
  short = tracer._short_repr()
  if what == "bool":
    head = f"Attempted boolean conversion of {short}."
  elif what == "index":
    head = f"The __index__() method was called on {short}"
  elif what == "array":
    head = f"The numpy.ndarray conversion method __array__() was called on {short}"
  elif what in ("int", "float", "complex"):
    head = (f"Abstract tracer value encountered where concrete value is expected: {short}\n"
            f"The problem arose with the `{what}` function. If trying to convert the data "
            f"type of a value, try using `x.astype({what})` or `jnp.array(x, {what})` "
            "instead.")
  else:
    head = f"Abstract tracer value encountered where concrete value is expected: {short}"
  hint = _CONCRETIZATION_HINTS.get(what, "The value must be known at trace time: mark the "
                                   "argument static (static_argnums / static_argnames) or "
                                   "compute it with numpy on static data.")
  prov = getattr(tracer, "_provenance", lambda: "")()
  return f"{head}{prov}{_user_line_hint()}\n{hint}"


def escaped_tracer_error(tracer, detail=None):
  where = getattr(tracer, "_creation_site", None)
  msg = ("Encountered an unexpected tracer. A function transformed by JAX had a side "
         "effect, allowing for a reference to an intermediate value with type "
         f"{tracer.aval.str_short(False)} wrapped in a {type(tracer).__name__} to escape the "
         "scope of the transformation.\nJAX transformations require that functions "
         "explicitly return their outputs, and disallow saving intermediate values to "
         "global state.")
  if where:
    msg += f"\nThe tracer was created at {where}."
  if detail:
    msg += "\n" + detail
  msg += _user_line_hint()
  msg += ("\nTo fix it, return the value from the transformed function instead of storing "
          "it in a global, a closure or an object attribute.")
  return errors.UnexpectedTracerError(msg)


def concrete_or_error(force, val, context=""):
  """`force(val)` for a concrete value, else ConcretizationTypeError naming the context."""
  if isinstance(val, Tracer):
    c = val.to_concrete_value()
    if c is None:
      msg = concretization_message(val, "value")
      if context:
        msg = msg + "\n" + context
      raise errors.ConcretizationTypeError(msg)
    val = c
  return force(val)


def concrete_dim_or_error(val, context=""):
  return concrete_or_error(operator.index, val, context)


# ---------------------------------------------------------------------------------------
# Jaxprs

class Var:
  __slots__ = ("count", "aval", "suffix")
  _counter = itertools.count()

  def __init__(self, aval, suffix=""):
    self.count = next(Var._counter)
    self.aval = aval
    self.suffix = suffix

  def __repr__(self):
    return f"Var(id={self.count}){self.suffix}:{self.aval.str_short()}"


class DropVar(Var):
  """An unused output binder, printed as `_`."""
  __slots__ = ()


class Literal:
  __slots__ = ("val", "aval")

  def __init__(self, val, aval):
    self.val = val
    self.aval = aval

  def __repr__(self):
    return f"Literal({self.val})"

  def pp(self):
    py = getattr(self.val, "_pyval", None)
    if py is not None:  # a weak Python float/complex literal: JAX prints the Python value
      return f"{py!r}:{self.aval.str_short()}"
    v = np.asarray(self.val._value if hasattr(self.val, "_value") else self.val)
    if v.dtype.kind == "f" or (v.dtype.kind == "V" and "float" in v.dtype.name):
      s = repr(float(v[()]))  # JAX prints the rounded value as a Python float: 0.10000000149011612
    else:
      s = str(v[()]) if v.dtype.kind in "biu" else repr(complex(v))
    return f"{s}:{self.aval.str_short()}"


class JaxprEqn(NamedTuple):
  primitive: Primitive
  invars: list
  params: dict
  outvars: list
  source_info: Any = None


class Jaxpr:
  __slots__ = ("constvars", "invars", "outvars", "eqns", "effects", "debug_info")

  def __init__(self, constvars, invars, outvars, eqns, effects=frozenset(), debug_info=None):
    self.constvars, self.invars = list(constvars), list(invars)
    self.outvars, self.eqns = list(outvars), list(eqns)
    self.effects, self.debug_info = effects, debug_info

  @property
  def in_avals(self):
    return [v.aval for v in self.invars]

  @property
  def out_avals(self):
    return [v.aval for v in self.outvars]

  def __str__(self):
    return pp_jaxpr(self)

  __repr__ = __str__

  def pretty_print(self, **kw):
    return pp_jaxpr(self)


class ClosedJaxpr:
  __slots__ = ("jaxpr", "consts", "__weakref__")

  def __init__(self, jaxpr: Jaxpr, consts):
    assert len(consts) == len(jaxpr.constvars)
    self.jaxpr, self.consts = jaxpr, list(consts)

  in_avals = property(lambda self: self.jaxpr.in_avals)
  out_avals = property(lambda self: self.jaxpr.out_avals)
  eqns = property(lambda self: self.jaxpr.eqns)
  effects = property(lambda self: self.jaxpr.effects)

  def __str__(self):
    return pp_jaxpr(self.jaxpr)

  __repr__ = __str__

  def pretty_print(self, **kw):
    return pp_jaxpr(self.jaxpr)

  def __call__(self, *args):
    return eval_jaxpr(self.jaxpr, self.consts, *args)


def jaxpr_as_fun(closed: ClosedJaxpr):
  return lambda *args: eval_jaxpr(closed.jaxpr, closed.consts, *args)


def eval_jaxpr(jaxpr: Jaxpr, consts, *args):
  """Interpret a jaxpr by binding each equation's primitive (so it composes with traces)."""
  env = {}

  def read(v):
    return v.val if type(v) is Literal else env[v]

  for v, x in zip(jaxpr.constvars, consts):
    env[v] = x
  if len(args) != len(jaxpr.invars):
    raise TypeError(f"jaxpr takes {len(jaxpr.invars)} arguments, got {len(args)}")
  for v, x in zip(jaxpr.invars, args):
    env[v] = x
  for eqn in jaxpr.eqns:
    outs = eqn.primitive.bind(*[read(v) for v in eqn.invars], **eqn.params)
    if eqn.primitive.multiple_results:
      for v, o in zip(eqn.outvars, outs):
        env[v] = o
    else:
      env[eqn.outvars[0]] = outs
  return [read(v) for v in jaxpr.outvars]


def subjaxprs(params):
  for v in params.values():
    if isinstance(v, (Jaxpr, ClosedJaxpr)):
      yield v
    elif isinstance(v, (tuple, list)):
      for x in v:
        if isinstance(x, (Jaxpr, ClosedJaxpr)):
          yield x


# ---------------------------------------------------------------------------------------
# Pretty printing, in JAX's text format

def _encode_name(n: int) -> str:
  s = ""
  while True:
    s = chr(ord("a") + n % 26) + s
    n //= 26
    if n == 0:
      return s


class _Names:
  """Variable names of one printout: one namespace for a jaxpr and all its sub-jaxprs.
  `shared` holds the sub-jaxprs printed once at the top (`let f = { ... } in`)."""

  def __init__(self):
    self.names = {}
    self.n = 0
    self.shared: dict = {}
    self.shared_names: set = set()

  def __call__(self, v):
    if type(v) is Literal:
      return v.pp()
    if isinstance(v, DropVar):
      return "_"
    name = self.names.get(v)
    if name is None:
      while True:
        name = _encode_name(self.n)
        self.n += 1
        if name not in self.shared_names:
          break
      name = self.names[v] = name + v.suffix
    return name

  def suggest(self, for_vars, like_vars):
    """Name `for_vars` (a sub-jaxpr's binders) like `like_vars` (the equation's operands or
    results) where possible, as JAX prints `jit`."""
    if len(for_vars) != len(like_vars):
      return
    used = set()
    for f, like in zip(for_vars, like_vars):
      if (isinstance(like, Var) and like not in used and type(f) is Var
          and f not in self.names):
        used.add(like)
        self.names[f] = self(like)

  def is_shared(self, jaxpr):
    return jaxpr in self.shared


_WIDTH = 80  # JAX's printer breaks a group onto several lines when it passes 80 columns


def _pp_param(v, names, indent, key_len=6):
  """A param value; `indent` is the column where the value starts its own lines and
  `key_len` the width of the `key=` before it (a jaxpr fits on one line when the line does)."""
  if isinstance(v, ClosedJaxpr):
    v = v.jaxpr
  if isinstance(v, Jaxpr) and v in names.shared:
    return names.shared[v]
  if isinstance(v, Jaxpr):
    return _pp_jaxpr(v, names, indent, start_col=indent + 2 + key_len)
  if isinstance(v, np.dtype):
    return v.name
  if isinstance(v, type) and issubclass(v, np.generic):
    return np.dtype(v).name
  if isinstance(v, (tuple, list)) and v and all(isinstance(x, (Jaxpr, ClosedJaxpr)) for x in v):
    inner = [_pp_jaxpr(x.jaxpr if isinstance(x, ClosedJaxpr) else x, names, indent + 2,
                       start_col=indent + 2) for x in v]
    pad = " " * (indent + 2)
    return "(\n" + "".join(pad + x + "\n" for x in inner) + " " * indent + ")"
  if hasattr(v, "_pp_param"):
    return v._pp_param()
  return repr(v) if isinstance(v, str) else str(v)


def _pp_eqn(eqn, names, indent, used=None):
  """One equation starting at column `indent` (the caller adds the indentation).
  Outputs not in `used` print as `_`, as JAX does."""
  if used is not None:  # unused top-level results print as `_` (and so do the inner
    for v in eqn.outvars:  # jit binders named after them, as JAX)
      if v not in used and type(v) is Var and v not in names.names:
        names.names[v] = "_"
  rule = getattr(eqn.primitive, "pp_params", None)  # may pre-name binders (jit)
  custom = rule(eqn, names) if rule is not None else None
  outs = " ".join(
      f"_:{v.aval.str_short()}" if isinstance(v, DropVar) or (used is not None and v not in used)
      else f"{names(v)}:{v.aval.str_short()}" for v in eqn.outvars)
  if custom is None:
    prim = eqn.primitive
    hidden, defaults = prim.hidden_params, prim.hidden_if_default
    params = [(k, eqn.params[k]) for k in sorted(eqn.params)
              if not k.startswith("_") and k not in hidden
              and not (k in defaults and _same(eqn.params[k], defaults[k]))]
    if prim.name in ("custom_jvp_call", "custom_vjp_call"):  # JAX prints `name` first
      params.sort(key=lambda kv: kv[0] != "name")
  else:
    params = custom
  names_p = _Names() if eqn.primitive.fresh_names_in_params else names
  ins = [names(v) for v in eqn.invars]
  head = f"{outs} = {eqn.primitive.name}" if eqn.outvars else eqn.primitive.name
  if not params:
    return f"{head} {_pp_operands(ins, indent + len(head), indent)}"
  printers = eqn.primitive.param_printers
  rendered = [(k, printers[k](v) if k in printers else _pp_param(v, names_p, indent + 2,
                                                                len(k) + 1)) for k, v in params]
  group = f"[{' '.join(f'{k}={r}' for k, r in rendered)}]"
  # JAX's printer keeps the [params] group flat when the group itself fits in the line;
  # the operands after it don't count.
  if "\n" not in group and indent + len(head) + len(group) <= _WIDTH:
    return f"{head}{group} {_pp_operands(ins, indent + len(head) + len(group), indent)}"
  pad = " " * (indent + 2)
  body = "".join(f"{pad}{k}={r}\n" for k, r in rendered)
  return f"{head}[\n{body}{' ' * indent}] {_pp_operands(ins, indent + 1, indent)}"


def _pp_operands(ins, col, indent):
  """The operands, each after a space, the first at column `col` + 1. JAX breaks before a
  later operand (onto a line indented 2 past the equation) only when the column after the
  previous one is already past 79: each break is its own group, what follows not counting."""
  if not ins:
    return ""
  out = [ins[0]]
  col += 1 + len(ins[0])
  for v in ins[1:]:
    if col + 1 > _WIDTH:
      out.append("\n" + " " * (indent + 2) + v)
      col = indent + 2 + len(v)
    else:
      out.append(" " + v)
      col += 1 + len(v)
  return "".join(out)


def _same(a, b):
  try:
    return type(a) is type(b) and bool(a == b)
  except Exception:
    return False


def _used_in(jaxpr):
  used = set(v for v in jaxpr.outvars if type(v) is Var)
  for e in _pp_eqns_of(jaxpr):
    used.update(v for v in e.invars if type(v) is Var)
  return used


def _pp_eqns_of(jaxpr):
  """The equations as printed: a primitive with a `pp_eqns(eqn)` rule prints as the
  equations JAX's jaxpr has in its place (fma as the mul + add XLA contracts)."""
  eqns = jaxpr.eqns
  if not any(hasattr(e.primitive, "pp_eqns") for e in eqns):
    return eqns
  return [x for e in eqns for x in (e.primitive.pp_eqns(e) if hasattr(e.primitive, "pp_eqns")
                                     else (e,))]


def _pp_jaxpr(jaxpr, names, indent, start_col=None, top=False):
  """`{ lambda consts; ins. let eqns in (outs) }`, on one line when it fits in 80 columns.
  Only the `top` jaxpr prints its unused results as `_` (JAX marks them when it stages
  the outermost trace; sub-jaxprs keep their names)."""
  start_col = indent if start_col is None else start_col
  cbind = " ".join(f"{names(v)}:{v.aval.str_short()}" for v in jaxpr.constvars)
  ibind = " ".join(f"{names(v)}:{v.aval.str_short()}" for v in jaxpr.invars)
  head = f"{{ lambda {cbind}; {ibind}. let"
  used = _used_in(jaxpr) if top else None
  eqns = [_pp_eqn(e, names, indent + 4, used) for e in _pp_eqns_of(jaxpr)]
  outs = ", ".join(names(v) for v in jaxpr.outvars)
  tail = f"in ({outs}{',' if len(jaxpr.outvars) == 1 else ''}) }}"
  one = f"{head} {'; '.join(eqns)} {tail}"
  if not any("\n" in e for e in eqns) and start_col + len(one) <= _WIDTH:
    return one
  if start_col + len(head) > _WIDTH:  # wrap the binders, continuing 4 columns in
    words = head.split(" ")
    lines, cur = [], ""
    for w in words:
      col = start_col if not lines else indent + 4
      if cur and col + len(cur) + 1 + len(w) > _WIDTH:
        lines.append(cur)
        cur = w
      else:
        cur = f"{cur} {w}" if cur else w
    lines.append(cur)
    head = ("\n" + " " * (indent + 4)).join(lines)
  pad = " " * (indent + 4)
  body = "".join(f"\n{pad}{e}" for e in eqns)
  return f"{head}{body}\n{' ' * (indent + 2)}{tail}"


def _shared_jaxprs(top: Jaxpr) -> list:
  """Sub-jaxprs JAX 0.10.2 prints once at the top: those met more than once, and those
  with more than 10 equations. Named after the equation's `name` param, else `jaxpr`."""
  counts: dict = {}
  names: dict = {}
  queue = [top]
  while queue:
    j = queue.pop(0)
    counts[j] = counts.get(j, 0) + 1
    if j is not top and len(_pp_eqns_of(j)) > 10:
      counts[j] += 1
    for e in j.eqns:
      nm = e.params.get("name")
      for sub in subjaxprs(e.params):
        sub = sub.jaxpr if isinstance(sub, ClosedJaxpr) else sub
        queue.append(sub)
        if isinstance(nm, str):
          names.setdefault(sub, nm.strip("<>"))
  used: dict = {}
  out = []
  for j, c in counts.items():
    if c == 1 or j is top:
      continue
    name = names.get(j, "jaxpr")
    k = used.get(name, 0)
    if k:
      used[name] = k + 1
      name = f"{name}{k}"
    used[name] = used.get(name, 0) + 1
    out.append((name, j))
  return out


def pp_jaxpr(jaxpr: Jaxpr) -> str:
  names = _Names()
  shared = _shared_jaxprs(jaxpr)
  for nm, j in shared:
    names.shared[j] = nm
    names.shared_names.add(nm)
  parts = []
  for nm, j in shared:
    del names.shared[j]  # print its body (it may itself use the shared ones before it)
    body = _pp_jaxpr(j, names, 0, start_col=len(f"let {nm} = ") + 3)
    names.shared[j] = nm
    parts.append(f"let {nm} = {body} in\n")
  return "".join(parts) + _pp_jaxpr(jaxpr, names, 0, top=True)


# ---------------------------------------------------------------------------------------
# Small helpers used across interpreters

def unzip2(pairs):
  a, b = [], []
  for x, y in pairs:
    a.append(x)
    b.append(y)
  return a, b


def split_list(xs, sizes):
  out, i = [], 0
  for n in sizes:
    out.append(list(xs[i:i + n]))
    i += n
  out.append(list(xs[i:]))
  return out


def typematch(a: ShapedArray, b: ShapedArray) -> bool:
  return a.shape == b.shape and a.dtype == b.dtype
