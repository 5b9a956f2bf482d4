"""Anomaly detection: record where each node was created and fail on NaN gradients."""
from __future__ import annotations

from .grad_mode import _DecoratorContextManager, _state


def is_anomaly_enabled() -> bool:
    return _state.anomaly


class detect_anomaly(_DecoratorContextManager):
    """Inside the block, backward raises when a node returns NaN, naming the node and showing
    the traceback of the forward call that created it.

    >>> with flambeau.autograd.detect_anomaly():
    ...     y = (x * 0).log() * 0   # the NaN gradient is traced back to LogBackward0
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def _args(self):
        return (self.check_nan,)

    def __enter__(self):
        self._prev = _state.anomaly
        _state.anomaly = self.check_nan or True

    def __exit__(self, *exc):
        _state.anomaly = self._prev
        return False


class set_detect_anomaly(_DecoratorContextManager):
    """Turn anomaly detection on or off (a call, a context manager or a decorator)."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self._prev = _state.anomaly
        self.mode = bool(mode)
        _state.anomaly = self.mode

    def _args(self):
        return (self.mode,)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _state.anomaly = self._prev
        return False
