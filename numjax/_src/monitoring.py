"""numjax.monitoring: event listeners (record_event & co. call the registered callbacks)."""
from __future__ import annotations

_event_listeners: list = []
_duration_listeners: list = []
_time_span_listeners: list = []
_scalar_listeners: list = []


def record_event(event: str, **kwargs) -> None:
  """Tell every event listener that `event` happened."""
  for cb in list(_event_listeners):
    cb(event, **kwargs)


def record_event_duration_secs(event: str, duration: float, **kwargs) -> None:
  """Tell every duration listener that `event` took `duration` seconds."""
  for cb in list(_duration_listeners):
    cb(event, duration, **kwargs)


def record_event_time_span(event: str, start_time: float, end_time: float, **kwargs) -> None:
  """Tell every time-span listener that `event` ran from start_time to end_time."""
  for cb in list(_time_span_listeners):
    cb(event, start_time, end_time, **kwargs)


def record_scalar(event: str, value, **kwargs) -> None:
  """Tell every scalar listener that `event` has value `value`."""
  for cb in list(_scalar_listeners):
    cb(event, value, **kwargs)


def register_event_listener(callback) -> None:
  _event_listeners.append(callback)


def register_event_duration_secs_listener(callback) -> None:
  _duration_listeners.append(callback)


def register_event_time_span_listener(callback) -> None:
  _time_span_listeners.append(callback)


def register_scalar_listener(callback) -> None:
  _scalar_listeners.append(callback)


def _unregister(listeners, callback, kind):
  if callback not in listeners:
    raise AssertionError(f"The given callback is not a registered {kind} listener.")
  listeners.remove(callback)


def unregister_event_listener(callback) -> None:
  _unregister(_event_listeners, callback, "event")


def unregister_event_duration_listener(callback) -> None:
  _unregister(_duration_listeners, callback, "event duration")


def unregister_event_time_span_listener(callback) -> None:
  _unregister(_time_span_listeners, callback, "event time span")


def unregister_scalar_listener(callback) -> None:
  _unregister(_scalar_listeners, callback, "scalar")


def clear_event_listeners() -> None:
  """Remove every listener."""
  for listeners in (_event_listeners, _duration_listeners, _time_span_listeners,
                    _scalar_listeners):
    listeners.clear()
