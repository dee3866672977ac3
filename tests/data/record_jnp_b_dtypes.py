"""Records the result dtypes (and weak types) of jnp reductions and products in JAX 0.10.2,
for tests/test_numpy_reductions.py and tests/test_numpy_tensor.py.

Run with a real JAX:  /work/jaxenv/bin/python tests/data/record_jnp_b_dtypes.py
Writes tests/data/jnp_b_dtypes.json. Entries are 'dtype', 'dtype*' (weakly typed) or
'ERR:<exception class>'. The same tables (REDUCTIONS, PRODUCTS) are evaluated by the tests
against numjax.numpy, so they are defined in terms of a `jnp` argument.
"""
import json
import os

import numpy as np

DTYPES = ['bool', 'int8', 'uint8', 'int16', 'int32', 'uint32', 'float16', 'bfloat16',
          'float32', 'complex64']
DTYPES_X64 = DTYPES + ['int64', 'uint64', 'float64', 'complex128']
PRODUCT_DTYPES = ['bool', 'int8', 'uint8', 'int32', 'float16', 'bfloat16', 'float32',
                  'complex64']


def reductions(jnp):
  return {
      'sum': jnp.sum, 'prod': jnp.prod, 'max': jnp.max, 'min': jnp.min, 'mean': jnp.mean,
      'var': jnp.var, 'std': jnp.std, 'all': jnp.all, 'any': jnp.any, 'argmax': jnp.argmax,
      'argmin': jnp.argmin, 'cumsum': jnp.cumsum, 'cumprod': jnp.cumprod,
      'cumulative_sum': jnp.cumulative_sum, 'cumulative_prod': jnp.cumulative_prod,
      'nansum': jnp.nansum, 'nanprod': jnp.nanprod, 'nanmean': jnp.nanmean,
      'nanvar': jnp.nanvar, 'nanstd': jnp.nanstd, 'nanmax': jnp.nanmax, 'nanmin': jnp.nanmin,
      'nanargmax': jnp.nanargmax, 'nancumsum': jnp.nancumsum, 'nancumprod': jnp.nancumprod,
      'ptp': jnp.ptp, 'count_nonzero': jnp.count_nonzero, 'average': jnp.average,
      'median': jnp.median, 'quantile': lambda a: jnp.quantile(a, 0.5),
      'percentile': lambda a: jnp.percentile(a, 50), 'nanmedian': jnp.nanmedian,
      'sum_f32': lambda a: jnp.sum(a, dtype=jnp.float32),
      'mean_f16': lambda a: jnp.mean(a, dtype=jnp.float16),
      'cumsum_bool': lambda a: jnp.cumsum(a, dtype=bool),
      'sum_nopromote': lambda a: jnp.sum(a, promote_integers=False),
      'trace': lambda a: jnp.trace(jnp.stack([a[:2], a[:2]])),
  }


def products(jnp):
  return {
      'dot': jnp.dot, 'matmul': jnp.matmul, 'vdot': jnp.vdot, 'inner': jnp.inner,
      'outer': jnp.outer, 'kron': jnp.kron, 'tensordot': lambda a, b: jnp.tensordot(a, b, 1),
      'einsum': lambda a, b: jnp.einsum('i,i->', a, b), 'vecdot': jnp.vecdot,
      'cross': jnp.cross, 'where': lambda a, b: jnp.where(a != 0, a, b),
      'concatenate': lambda a, b: jnp.concatenate([a, b]),
      'stack': lambda a, b: jnp.stack([a, b]), 'clip': lambda a, b: jnp.clip(a, b, b),
      'select': lambda a, b: jnp.select([a != 0], [a], b),
  }


def describe(fn, *args):
  try:
    r = fn(*args)
  except Exception as e:  # noqa: BLE001 - the class is the recorded value
    return 'ERR:' + type(e).__name__
  return np.dtype(r.dtype).name + ('*' if r.weak_type else '')


def table(jnp, x64):
  red = {}
  for name, fn in reductions(jnp).items():
    red[name] = {dt: describe(fn, jnp.array([1, 0, 1], dtype=dt))
                 for dt in (DTYPES_X64 if x64 else DTYPES)}
  prod = {}
  for name, fn in products(jnp).items():
    row = {}
    for d1 in PRODUCT_DTYPES:
      a = jnp.array([1, 0, 1], dtype=d1)
      for d2 in PRODUCT_DTYPES:
        row[f'{d1},{d2}'] = describe(fn, a, jnp.array([1, 1, 0], dtype=d2))
      row[f'{d1},int'] = describe(fn, a, 1)
      row[f'{d1},float'] = describe(fn, a, 1.0)
    prod[name] = row
  return {'reductions': red, 'products': prod}


if __name__ == '__main__':
  import warnings
  warnings.simplefilter('ignore')
  import jax
  import jax.numpy as jnp
  out = {'x32': table(jnp, False)}
  jax.config.update('jax_enable_x64', True)
  out['x64'] = table(jnp, True)
  path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'jnp_b_dtypes.json')
  with open(path, 'w') as f:
    json.dump(out, f, indent=0, sort_keys=True)
