"""JAX's error classes (numjax.errors)."""
from numjax._src.errors import (ConcretizationTypeError, NonConcreteBooleanIndexError,  # noqa
                                TracerArrayConversionError, TracerBoolConversionError,
                                TracerIntegerConversionError, UnexpectedTracerError,
                                KeyReuseError, JaxRuntimeError, JAXTypeError, JAXIndexError)
