"""``flambeau.jit``: accepted for compatibility, as no-ops (flambeau runs eagerly).

``@torch.jit.script`` and ``torch.jit.trace(model, example)`` return the function or module
unchanged, so code written for TorchScript runs and gives the same values.
"""
from __future__ import annotations

__all__ = ["export", "ignore", "is_scripting", "is_tracing", "script", "trace", "unused",
           "Final", "annotate", "fork", "wait"]


def script(obj=None, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """Return ``obj`` unchanged (TorchScript compilation is not needed to run it)."""
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    """Return ``func`` unchanged (tracing records nothing in flambeau)."""
    return func


def trace_module(mod, inputs=None, *args, **kwargs):
    return mod


def ignore(drop=False, **kwargs):
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    return fn


def export(fn):
    return fn


def is_scripting():
    return False


def is_tracing():
    return False


def annotate(the_type, the_value):
    return the_value


class _Future:
    def __init__(self, value):
        self._value = value

    def wait(self):
        return self._value


def fork(func, *args, **kwargs):
    return _Future(func(*args, **kwargs))


def wait(future):
    return future.wait()


from typing import Final  # noqa: E402,F401  (torch.jit.Final is typing.Final)
