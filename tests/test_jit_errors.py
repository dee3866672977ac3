"""JAX's tracer errors under jit: the exception classes JAX 0.10.2 raises, messages that
name the user's own source line, the argument the value came from and the fix; leaked
tracers; traceback filtering."""
import inspect
import operator
import traceback

import numpy as np
import pytest

import numjax as jax
import numjax.numpy as jnp
from numjax import errors
from numjax._src import traceback_util

HERE = __file__


def _line(fn, marker):
  """The line number of the source line of `fn` containing `marker`."""
  lines, start = inspect.getsourcelines(fn)
  for i, line in enumerate(lines):
    if marker in line:
      return start + i
  raise AssertionError(marker)


def test_if_on_traced_value_is_tracer_bool_conversion_error():
  def f(x):
    if x > 0:  # <- bool
      return x
    return -x
  with pytest.raises(errors.TracerBoolConversionError) as info:
    jax.jit(f)(3.0)
  msg = str(info.value)
  assert msg.startswith("Attempted boolean conversion of traced array with shape bool[].")
  assert f"{HERE}:{_line(f, '<- bool')}" in msg          # the user's line
  assert "depends on the value of the argument x" in msg  # where the value came from
  assert "lax.cond" in msg and "static_argnums" in msg    # how to fix it
  assert isinstance(info.value, errors.ConcretizationTypeError)


def test_int_of_tracer():
  def f(x):
    return int(x)  # <- int
  with pytest.raises(errors.TracerIntegerConversionError) as info:
    jax.jit(f)(3.0)
  # JAX 0.10.2 raises ConcretizationTypeError for int(): numjax's error is both.
  assert isinstance(info.value, errors.ConcretizationTypeError)
  msg = str(info.value)
  assert "The problem arose with the `int` function" in msg
  assert f"{HERE}:{_line(f, '<- int')}" in msg


def test_index_of_tracer():
  def f(x):
    return list(range(x))  # <- index
  with pytest.raises(errors.TracerIntegerConversionError) as info:
    jax.jit(f)(3)
  msg = str(info.value)
  assert msg.startswith("The __index__() method was called on traced array with shape int32[]")
  assert f"{HERE}:{_line(f, '<- index')}" in msg
  with pytest.raises(errors.TracerIntegerConversionError):
    jax.jit(lambda i: [1, 2, 3][i])(1)
  with pytest.raises(errors.TracerIntegerConversionError):
    jax.jit(operator.index)(1)


def test_float_of_tracer_is_concretization_error():
  with pytest.raises(errors.ConcretizationTypeError, match="`float` function"):
    jax.jit(lambda x: float(x))(1.0)


def test_numpy_conversion_of_tracer():
  def f(x):
    return np.asarray(x)  # <- array
  with pytest.raises(errors.TracerArrayConversionError) as info:
    jax.jit(f)(jnp.ones(3))
  msg = str(info.value)
  assert msg.startswith("The numpy.ndarray conversion method __array__() was called on "
                        "traced array with shape float32[3]")
  assert f"{HERE}:{_line(f, '<- array')}" in msg
  assert "jnp" in msg


def test_seed_003_boolean_index_under_jit():
  def get_negatives(x):
    return x[x < 0]  # <- mask
  with pytest.raises(errors.NonConcreteBooleanIndexError) as info:
    jax.jit(get_negatives)(jnp.asarray([1.0, -2.0, 3.0]))
  msg = str(info.value)
  assert "Array boolean indices must be concrete; got bool[3]" in msg
  assert f"{HERE}:{_line(get_negatives, '<- mask')}" in msg
  # eagerly it works
  np.testing.assert_array_equal(get_negatives(jnp.asarray([1.0, -2.0, 3.0])), [-2.0])


def test_seed_003_reshape_with_traced_size():
  def f(x):
    return x.reshape(jnp.array(x.shape).prod())  # <- reshape
  with pytest.raises(TypeError, match="Shapes must be 1D sequences of concrete values of "
                                      "integer type") as info:
    jax.jit(f)(jnp.ones((2, 3)))
  msg = str(info.value)
  assert f"{HERE}:{_line(f, '<- reshape')}" in msg
  assert "static_argnums" in msg and "reduce_prod" in msg


def test_error_names_the_argument_among_several():
  def f(a, b, c):
    return jnp.where(b > 0, a, c) if c.sum() > 0 else a  # <- c
  with pytest.raises(errors.TracerBoolConversionError, match="argument c"):
    jax.jit(f)(jnp.ones(2), jnp.ones(2), jnp.ones(2))

  def g(params):
    if params["w"][0] > 0:
      return params["b"]
    return params["w"]
  with pytest.raises(errors.TracerBoolConversionError, match=r"argument params\['w'\]"):
    jax.jit(g)({"w": jnp.ones(2), "b": jnp.ones(2)})


def test_leaked_tracer_names_where_it_was_created():
  saved = []

  def f(x):
    y = x * 2  # <- created
    saved.append(y)
    return x
  jax.jit(f)(1.0)
  with pytest.raises(errors.UnexpectedTracerError) as info:
    saved[0] + 1
  msg = str(info.value)
  assert msg.startswith("Encountered an unexpected tracer.")
  assert f"{HERE}:{_line(f, '<- created')}" in msg
  with pytest.raises(errors.UnexpectedTracerError):
    jnp.sin(saved[0])
  with pytest.raises(errors.UnexpectedTracerError):
    jax.jit(lambda z: z + 1)(saved[0])


def test_leaked_input_tracer_used_inside_another_transformation():
  saved = []
  jax.jit(lambda x: saved.append(x) or x)(1.0)
  with pytest.raises(errors.UnexpectedTracerError, match="one of its arguments"):
    jax.jit(lambda y: y + saved[0])(2.0)
  with pytest.raises(errors.UnexpectedTracerError):
    jax.grad(lambda y: y * saved[0])(2.0)


def test_item_assignment_on_tracer_is_type_error():
  def f(x):
    x[0] = 1.0
    return x
  with pytest.raises(TypeError, match=r"\.at\[idx\]\.set"):
    jax.jit(f)(jnp.ones(3))


def _numjax_frames(tb):
  return [fs for fs in traceback.extract_tb(tb)
          if fs.filename.startswith(traceback_util._NUMJAX_DIR)]


def test_tracebacks_hide_numjax_frames_by_default():
  def f(x):
    if x > 0:
      return x
    return x
  try:
    jax.jit(f)(1.0)
  except errors.TracerBoolConversionError as e:
    frames = traceback.extract_tb(e.__traceback__)
    assert len(_numjax_frames(e.__traceback__)) <= 1   # at most the API boundary itself
    assert frames[-1].filename == HERE and frames[-1].name == "f"
    assert any("removed its internal frames" in n for n in getattr(e, "__notes__", []))
  else:
    raise AssertionError("no error")


def test_traceback_filtering_off_keeps_every_frame():
  jax.config.update("jax_traceback_filtering", "off")
  try:
    try:
      jax.jit(lambda x: int(x))(1.0)
    except errors.ConcretizationTypeError as e:
      assert len(_numjax_frames(e.__traceback__)) > 3
  finally:
    jax.config.update("jax_traceback_filtering", "auto")


def test_non_array_argument_names_its_path():
  f = jax.jit(lambda x, opts: x)
  with pytest.raises(TypeError, match="problematic value is of type <class 'str'> and was "
                                      r"passed to the function at path opts\['mode'\]"):
    f(1.0, {"mode": "fast"})


def test_nested_jit_errors_are_filtered_at_every_boundary():
  inner = jax.jit(lambda x: int(x))
  outer = jax.jit(lambda x: inner(x) + 1)
  with pytest.raises(errors.ConcretizationTypeError) as info:
    outer(1.0)
  assert len(_numjax_frames(info.value.__traceback__)) <= 1
  assert sum("removed its internal frames" in n for n in info.value.__notes__) == 1
