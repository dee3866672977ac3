"""numjax.experimental.shard_map: the pre-`jax.shard_map` spelling (deprecated in JAX)."""
from numjax._src.shard_map import shard_map as _shard_map


def shard_map(f, mesh, in_specs, out_specs, check_rep=True, auto=frozenset()):
  """`jax.shard_map` with positional mesh/in_specs/out_specs; `check_rep` is the old
  name of `check_vma`, `auto` the mesh axes left automatic (not manual)."""
  manual = frozenset(n for n in mesh.axis_names if n not in auto) if auto else frozenset()
  return _shard_map(f, mesh=mesh, in_specs=in_specs, out_specs=out_specs,
                    axis_names=manual, check_vma=check_rep)
