"""Records tests/data/nn_initializers_golden.json with JAX 0.10.2:
    /work/jaxenv/bin/python tests/data/record_nn_initializers_golden.py > tests/data/nn_initializers_golden.json
"""
import numpy as np, jax, json
import jax.nn.initializers as I
k = jax.random.key(7)
out = {}
for name, args, shape in [("uniform", (0.3,), (2, 3)), ("normal", (0.2,), (2, 3)), ("truncated_normal", (0.5,), (2, 3)),
                          ("glorot_uniform", (), (3, 4)), ("glorot_normal", (), (3, 4)), ("lecun_uniform", (), (2, 2, 3)),
                          ("he_normal", (), (2, 2, 3)), ("orthogonal", (), (3, 2)), ("delta_orthogonal", (), (3, 2, 2))]:
  out[name] = np.asarray(getattr(I, name)(*args)(k, shape)).tolist()
out["variance_scaling_fan_geo_avg_uniform_batch"] = np.asarray(I.variance_scaling(2.0, "fan_geo_avg", "uniform", in_axis=1, out_axis=2, batch_axis=0)(k, (2, 3, 4))).tolist()
out["variance_scaling_complex_normal"] = [[ [c.real, c.imag] for c in row] for row in np.asarray(I.variance_scaling(1.0, "fan_in", "normal")(k, (2, 3), jax.numpy.complex64)).tolist()]
print(json.dumps(out))
