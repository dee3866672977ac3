"""numjax.export: JAX serialises StableHLO; numjax has no StableHLO. `export` still gives an
Exported object for the current process (avals, trees, and `call`), while (de)serialisation
and symbolic shapes raise NotImplementedError."""
from __future__ import annotations

import enum

from numjax._src import core
from numjax._src import tree_util

_NO_HLO = ("numjax compiles jaxprs, not StableHLO: serialised exports ({what}) are not "
           "available. Keep the jitted function itself, or pickle its inputs and re-trace.")


class DisabledSafetyCheck:
  """A safety check to skip when exporting (accepted and ignored)."""

  def __init__(self, name):
    self._name = name

  @classmethod
  def platform(cls):
    return cls("platform")

  @classmethod
  def custom_call(cls, target_name):
    return cls(f"custom_call:{target_name}")

  def __repr__(self):
    return f"DisabledSafetyCheck({self._name})"


class SymbolicScope:
  """Scope of symbolic dimension variables: shape polymorphism is not supported."""

  def __init__(self, constraints_str=()):
    raise NotImplementedError(_NO_HLO.format(what="symbolic shapes"))


def symbolic_shape(shape_spec, *, constraints=(), scope=None, like=None):
  raise NotImplementedError(_NO_HLO.format(what="symbolic shapes"))


def symbolic_args_specs(args, shapes_specs, constraints=(), scope=None):
  raise NotImplementedError(_NO_HLO.format(what="symbolic shapes"))


def is_symbolic_dim(p) -> bool:
  """Whether p is a symbolic dimension (never, in numjax)."""
  return False


def default_export_platform() -> str:
  return "cpu"


maximum_supported_calling_convention_version = 10
minimum_supported_calling_convention_version = 9


class Exported:
  """An exported function: its input/output types and trees, callable in this process."""

  def __init__(self, fun, fun_name, in_tree, in_avals, out_tree, out_avals, platforms):
    self._fun = fun
    self.fun_name, self.in_tree, self.in_avals = fun_name, in_tree, tuple(in_avals)
    self.out_tree, self.out_avals, self.platforms = out_tree, tuple(out_avals), platforms
    self.nr_devices = 1
    self.calling_convention_version = maximum_supported_calling_convention_version

  def call(self, *args, **kwargs):
    return self._fun(*args, **kwargs)

  def serialize(self, vjp_order: int = 0) -> bytearray:
    raise NotImplementedError(_NO_HLO.format(what="Exported.serialize"))

  def mlir_module(self):
    raise NotImplementedError(_NO_HLO.format(what="Exported.mlir_module"))

  def __repr__(self):
    return f"Exported(fun_name={self.fun_name}, in_avals={self.in_avals})"


def export(fun_jit, *, platforms=None, disabled_checks=()):
  """export(jitted)(*arg_specs) -> Exported (in this process only)."""
  if platforms is not None and any(p != "cpu" for p in platforms):
    raise ValueError(f"numjax exports run on 'cpu' only; got platforms={platforms}")

  def do_export(*args_specs, **kwargs_specs):
    from numjax._src.jit import eval_shape
    flat, in_tree = tree_util.tree_flatten((args_specs, kwargs_specs))
    out = eval_shape(fun_jit, *args_specs, **kwargs_specs)
    out_flat, out_tree = tree_util.tree_flatten(out)
    in_avals = [core.ShapedArray(tuple(a.shape), a.dtype) for a in flat]
    out_avals = [core.ShapedArray(tuple(o.shape), o.dtype) for o in out_flat]
    name = getattr(fun_jit, "__name__", "fun")
    return Exported(fun_jit, name, in_tree, in_avals, out_tree, out_avals, ("cpu",))
  return do_export


def deserialize(blob):
  raise NotImplementedError(_NO_HLO.format(what="deserialize"))


_serializable: dict = {}


def register_pytree_node_serialization(nodetype, *, serialized_name, serialize_auxdata,
                                       deserialize_auxdata, from_children=None):
  """Record how to serialise a pytree node type (kept for API compatibility)."""
  _serializable[serialized_name] = (nodetype, serialize_auxdata, deserialize_auxdata)
  return nodetype


def register_namedtuple_serialization(nodetype, *, serialized_name):
  """Record a namedtuple type as serialisable (kept for API compatibility)."""
  _serializable[serialized_name] = (nodetype, None, None)
  return nodetype
