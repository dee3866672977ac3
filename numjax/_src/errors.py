"""JAX's error classes. Messages name the user's line (added by the raiser) and the fix."""


class JAXTypeError(TypeError):
  pass


class JAXIndexError(IndexError):
  pass


class _TracerError:
  _doc = ""

  def __init__(self, message):
    super().__init__(message + self._doc)


class ConcretizationTypeError(_TracerError, TypeError):
  _doc = ("\nSee https://docs.jax.dev/en/latest/errors.html"
          "#jax.errors.ConcretizationTypeError")


class NonConcreteBooleanIndexError(_TracerError, IndexError):
  _doc = ("\nSee https://docs.jax.dev/en/latest/errors.html"
          "#jax.errors.NonConcreteBooleanIndexError")


class TracerArrayConversionError(_TracerError, TypeError):
  _doc = ("\nSee https://docs.jax.dev/en/latest/errors.html"
          "#jax.errors.TracerArrayConversionError")


class TracerBoolConversionError(ConcretizationTypeError):
  _doc = ("\nSee https://docs.jax.dev/en/latest/errors.html"
          "#jax.errors.TracerBoolConversionError")


class TracerIntegerConversionError(_TracerError, TypeError):
  _doc = ("\nSee https://docs.jax.dev/en/latest/errors.html"
          "#jax.errors.TracerIntegerConversionError")


class UnexpectedTracerError(_TracerError, Exception):
  _doc = ("\nSee https://docs.jax.dev/en/latest/errors.html"
          "#jax.errors.UnexpectedTracerError")


class KeyReuseError(RuntimeError):
  pass


class JaxRuntimeError(RuntimeError):
  pass
