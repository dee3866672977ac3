"""numjax.sharding: meshes, partition specs and shardings (as `jax.sharding`)."""
from numjax._src.sharding import (  # noqa: F401
    AbstractMesh, AxisType, Mesh, NamedSharding, PartitionSpec, Sharding,
    SingleDeviceSharding, get_abstract_mesh, get_mesh, make_single_device_sharding,
    set_mesh, use_abstract_mesh)
from numjax._src.sharding_api import reshard, auto_axes, explicit_axes  # noqa: F401
