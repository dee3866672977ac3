"""numjax: JAX's programming model — jit, grad, vmap, pytrees, explicit-key random — on NumPy.

    import numjax as jax
    import numjax.numpy as jnp
"""
__version__ = "0.1.0"

from numjax._src.config import config  # noqa: F401
from numjax._src import memory as _memory
_memory.tune_allocator()   # mid-sized arrays from the heap: no page fault per new array
_memory.quiet_float_warnings()   # JAX computes inf - inf quietly: NumPy's warnings stay inside
from numjax._src.array import Array  # noqa: F401
from numjax._src.devices import (devices, local_devices, device_count,  # noqa: F401
                                 local_device_count, default_backend, process_index,
                                 process_count, process_indices, host_id, host_count,
                                 host_ids, Device)
from numjax._src.array import Shard  # noqa: F401
from numjax._src.sharding import (NamedSharding, PartitionSpec as P,  # noqa: F401
                                  make_mesh, set_mesh, default_device)
from numjax._src.pmap import pmap  # noqa: F401
from numjax._src.shard_map import shard_map, smap  # noqa: F401
from numjax._src.jit import (jit, make_jaxpr, eval_shape, ShapeDtypeStruct,  # noqa: F401
                             clear_caches, ensure_compile_time_eval, named_call, named_scope,
                             device_put, device_get, block_until_ready)
# device_put/device_get with shardings (these supersede jit.py's host-only versions)
from numjax._src.sharding_api import (device_put, device_get, reshard,  # noqa: F401
                                      make_array_from_callback,
                                      make_array_from_single_device_arrays,
                                      make_array_from_process_local_data)
from numjax._src.debugging import pure_callback, effects_barrier  # noqa: F401
from numjax._src.autodiff import (jvp, vjp, grad, value_and_grad, linearize,  # noqa: F401
                                  jacfwd, jacrev, jacobian, hessian, linear_transpose,
                                  fwd_and_bwd)
from numjax._src.custom_derivatives import (custom_jvp, custom_vjp,  # noqa: F401
                                            custom_gradient, closure_convert)
from numjax._src.ad_checkpoint import checkpoint, remat, checkpoint_policies  # noqa: F401
from numjax._src.vmap import vmap  # noqa: F401
from numjax._src.config import disable_jit  # noqa: F401
from numjax._src.lax.lax import stop_gradient  # noqa: F401 (jax.lax.stop_gradient too)

from numjax import dtypes  # noqa: F401,E402
from numjax import tree_util  # noqa: F401,E402
from numjax import tree  # noqa: F401,E402
from numjax import errors  # noqa: F401,E402
from numjax import lax  # noqa: F401,E402
from numjax import numpy  # noqa: F401,E402
from numjax import custom_derivatives  # noqa: F401,E402
from numjax import ad_checkpoint  # noqa: F401,E402
from numjax import experimental  # noqa: F401,E402  (jax.experimental is an attribute too)
from numjax import random  # noqa: F401,E402
from numjax import debug  # noqa: F401,E402
from numjax import sharding  # noqa: F401,E402
from numjax import stages  # noqa: F401,E402
from numjax import nn  # noqa: F401,E402
from numjax import scipy  # noqa: F401,E402  (submodules load on first attribute access)
# ---- config-flag context managers, small top-level helpers and modules (api_extras.py) ----
from numjax._src.api_extras import (  # noqa: F401,E402
    enable_x64, debug_nans, debug_infs, log_compiles, explain_cache_misses,
    default_matmul_precision, numpy_dtype_promotion, numpy_rank_promotion, enable_checks,
    check_tracer_leaks, checking_leaks, transfer_guard, transfer_guard_host_to_device,
    transfer_guard_device_to_device, transfer_guard_device_to_host, default_prng_impl,
    threefry_partitionable, legacy_prng_key, enable_custom_prng, debug_key_reuse,
    softmax_custom_jvp, jax2tf_associative_scan_reductions, allow_f16_reductions,
    thread_guard, array_garbage_collection_guard, no_tracing, no_execution, auto_pcast,
    remove_size_one_mesh_axis_from_type, float0, typeof, print_environment_info, live_arrays,
    copy_to_host_async, make_user_context, ad, memory)
from numjax import (  # noqa: F401,E402
    api_util, core, custom_batching, distributed, dlpack, export, ffi, image, interpreters,
    lib, monitoring, ops, profiler, typing, version)
from numjax._src.state import Ref, ds, empty_ref, free_ref, freeze, new_ref  # noqa: F401,E402
from numjax import ref  # noqa: F401,E402
# ---- end of api_extras ----
