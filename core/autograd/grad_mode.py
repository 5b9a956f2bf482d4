"""Grad mode: whether ops record the graph. Thread-local, as in PyTorch."""
from __future__ import annotations

import functools
import threading


class _GradState(threading.local):
    enabled = True
    inference = False
    anomaly = False
    anomaly_check_nan = True


_state = _GradState()


def is_grad_enabled() -> bool:
    """Whether ops on tensors that require grad record the graph in this thread."""
    return _state.enabled


def is_inference_mode_enabled() -> bool:
    return _state.inference


class _DecoratorContextManager:
    """A context manager that also works as a function decorator (``@no_grad()``)."""

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)

        return wrapper

    def _args(self):
        return ()


class no_grad(_DecoratorContextManager):
    """Disable graph recording in this thread inside the block.

    >>> x = flambeau.ones(2, requires_grad=True)
    >>> with flambeau.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    def __init__(self, orig_func=None):
        self._func = orig_func
        if orig_func is not None and callable(orig_func):
            functools.update_wrapper(self, orig_func)

    def __call__(self, *args, **kwargs):
        if self._func is not None:
            with no_grad():
                return self._func(*args, **kwargs)
        return super().__call__(args[0])

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = False

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False


class enable_grad(_DecoratorContextManager):
    """Enable graph recording inside the block (for example within ``no_grad``)."""

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = True

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False


class set_grad_enabled(_DecoratorContextManager):
    """Set grad mode on or off; works as a function call, a context manager or a decorator."""

    def __init__(self, mode: bool):
        self._prev = _state.enabled
        self.mode = bool(mode)
        _state.enabled = self.mode

    def _args(self):
        return (self.mode,)

    def __call__(self, fn):
        # as a decorator, the mode applies only while fn runs: undo the switch made in __init__
        _state.enabled = self._prev
        return super().__call__(fn)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False


class inference_mode(_DecoratorContextManager):
    """Like ``no_grad``, for code that will never need gradients of what it computes."""

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def _args(self):
        return (self.mode,)

    def __enter__(self):
        self._prev = (_state.enabled, _state.inference)
        if self.mode:
            _state.enabled = False
            _state.inference = True

    def __exit__(self, *exc):
        _state.enabled, _state.inference = self._prev
        return False
