"""The jnp library, written in lax primitives (public names: numjax/numpy)."""
