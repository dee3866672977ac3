"""The MLP that bench_jit, bench_native and bench_autodiff time: 784-512-512-10, batch 128,
tanh, MSE loss, grad + SGD over a list of (W, b); written once for numjax and JAX alike."""
import numpy as np

SIZES = [784, 512, 512, 10]
BATCH = 128


def mlp_loss(m):
  """loss(params, x, y): mean squared error of the MLP; m is the numpy module (jnp)."""
  def predict(params, x):
    h = x
    for w, b in params[:-1]:
      h = m.tanh(m.dot(h, w) + b)
    w, b = params[-1]
    return m.dot(h, w) + b

  def loss(params, x, y):
    return m.mean((predict(params, x) - y) ** 2)
  return loss


def mlp_step(m, tree_map, grad):
  """step(params, x, y) -> params after one SGD step."""
  loss = mlp_loss(m)

  def step(params, x, y):
    g = grad(loss)(params, x, y)
    return tree_map(lambda p, gp: p - 0.01 * gp, params, g)
  return step


def mlp_data(asarray):
  """(params, x, y), the same numbers each call, made arrays by asarray."""
  rng = np.random.default_rng(0)
  params = [(asarray((rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32)),
             asarray(np.zeros(b, np.float32))) for a, b in zip(SIZES[:-1], SIZES[1:])]
  x = asarray(rng.standard_normal((BATCH, SIZES[0])).astype(np.float32))
  y = asarray(rng.standard_normal((BATCH, SIZES[-1])).astype(np.float32))
  return params, x, y
