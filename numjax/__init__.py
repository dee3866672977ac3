"""numjax: JAX's programming model on NumPy."""
