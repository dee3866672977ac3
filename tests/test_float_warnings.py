"""JAX computes NaN and inf without warnings; numjax's NumPy-backed paths must not leak
NumPy's floating-point RuntimeWarnings into the user's program -- while the user's own NumPy
code keeps warning. Run in a child process under -W error, so any leaked warning fails."""
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_CHILD = textwrap.dedent("""
  import numpy as np
  import numjax, numjax.numpy as jnp
  a = jnp.array([np.inf, 0.0, 1.0])
  out = [a - a, a / jnp.array([np.inf, 0.0, 0.0]), jnp.log(jnp.array([0.0, -1.0])),
         jnp.exp(jnp.float32(1000.0)), jnp.array([np.nan, np.inf]).astype(jnp.int32),
         numjax.grad(jnp.sqrt)(0.0), numjax.vmap(lambda x: x / 0.0)(a)]
  with numjax.config._override("numjax_tier", "numpy"):
    out.append(numjax.jit(lambda x: (x - x, jnp.log(x - 1.0)))(a))
  vals = [np.asarray(v) for v in numjax.tree_util.tree_leaves(out)]
  assert np.isnan(vals[0][0]) and vals[1][2] == np.inf and vals[2][0] == -np.inf
  assert vals[3] == np.inf and vals[5] == np.inf
  try:
    np.array([np.inf]) - np.array([np.inf])
  except RuntimeWarning:
    print("user-warns")
""")


def test_numjax_is_quiet_about_nan_and_inf_but_user_numpy_is_not():
  env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
  r = subprocess.run([sys.executable, "-W", "error", "-c", _CHILD], capture_output=True,
                     text=True, env=env, timeout=120)
  assert r.returncode == 0, r.stderr[-3000:]
  assert r.stdout.strip() == "user-warns"
