"""numjax.lib: (jaxlib's home in JAX; numjax has no compiled extension to expose)."""
