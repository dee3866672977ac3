import numpy as np, sys, importlib
jax = importlib.import_module(sys.argv[1]); jnp = importlib.import_module(sys.argv[1] + '.numpy'); img = importlib.import_module(sys.argv[1] + '.image')
x = np.random.default_rng(0).normal(size=(5, 7, 2)).astype(np.float32)
res = {}
for m in ['nearest', 'linear', 'cubic', 'lanczos3', 'lanczos5', 'area', 'cubic-pytorch']:
  for shp in [(9, 4, 2), (3, 11, 2)]:
    for aa in [True, False]:
      res[f'{m}-{shp}-{aa}'] = np.asarray(img.resize(x, shp, m, antialias=aa))
res['st'] = np.asarray(img.scale_and_translate(x, (6, 6, 2), (0, 1), jnp.array([1.3, 0.7]), jnp.array([0.2, -0.4]), 'linear'))
res['st2'] = np.asarray(img.scale_and_translate(x, (6, 6, 2), (0, 1), jnp.array([1.3, 0.7]), jnp.array([0.2, -0.4]), 'cubic-pytorch', antialias=False))
res['grad'] = np.asarray(jax.grad(lambda s: img.scale_and_translate(x, (6, 6, 2), (0, 1), s, jnp.array([0.2, -0.4]), 'lanczos3').sum())(jnp.array([1.3, 0.7])))
np.savez(f'/tmp/nj/img_{sys.argv[1]}.npz', **res)
