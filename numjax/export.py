"""numjax.export: Exported functions within this process (no StableHLO serialisation)."""
from numjax._src.export import (  # noqa: F401
    DisabledSafetyCheck, Exported, SymbolicScope, default_export_platform, deserialize,
    export, is_symbolic_dim, maximum_supported_calling_convention_version,
    minimum_supported_calling_convention_version, register_namedtuple_serialization,
    register_pytree_node_serialization, symbolic_args_specs, symbolic_shape)
