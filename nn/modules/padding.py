"""Padding layers, as ``torch.nn``: ``ConstantPad{1,2,3}d``, ``ZeroPad{1,2,3}d``,
``ReflectionPad{1,2,3}d``, ``ReplicationPad{1,2,3}d`` and ``CircularPad{1,2,3}d``, each a thin
layer over ``F.pad``.

>>> import flambeau
>>> from flambeau import nn
>>> nn.ReflectionPad2d(1)(flambeau.zeros(1, 3, 4, 4)).shape
flambeau.Size([1, 3, 6, 6])
"""
from __future__ import annotations

from flambeau._module import Module

__all__ = [
    "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d",
    "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d",
]


def _padding(padding, n):
    """An int pads all ``2 n`` sides alike; a tuple is ``(left, right, top, bottom, ...)``."""
    if isinstance(padding, int):
        return (padding,) * (2 * n)
    return tuple(padding)


def _pad(input, padding, mode, value=None):
    from .. import functional as F

    return F.pad(input, padding, mode, value)


class _ConstantPadNd(Module):
    __constants__ = ["padding", "value"]

    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, input):
        return _pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value``: ``padding`` is an int or ``(left, right)``."""

    def __init__(self, padding, value):
        super().__init__(value)
        self.padding = _padding(padding, 1)


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims with ``value``: ``(left, right, top, bottom)`` or an int."""

    def __init__(self, padding, value):
        super().__init__(value)
        self.padding = _padding(padding, 2)


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims with ``value``: ``(left, right, top, bottom, front, back)``."""

    def __init__(self, padding, value):
        super().__init__(value)
        self.padding = _padding(padding, 3)


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last 2 dims with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last 3 dims with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class _ModePadNd(Module):
    __constants__ = ["padding"]
    _mode = ""
    _n = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _padding(padding, self._n)

    def forward(self, input):
        return _pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_ModePadNd):
    """Pad the last dim with its reflection (the edge is not repeated)."""
    _mode, _n = "reflect", 1


class ReflectionPad2d(_ModePadNd):
    """Pad the last 2 dims with their reflection."""
    _mode, _n = "reflect", 2


class ReflectionPad3d(_ModePadNd):
    """Pad the last 3 dims with their reflection."""
    _mode, _n = "reflect", 3


class ReplicationPad1d(_ModePadNd):
    """Pad the last dim by repeating its edge values."""
    _mode, _n = "replicate", 1


class ReplicationPad2d(_ModePadNd):
    """Pad the last 2 dims by repeating their edge values."""
    _mode, _n = "replicate", 2


class ReplicationPad3d(_ModePadNd):
    """Pad the last 3 dims by repeating their edge values."""
    _mode, _n = "replicate", 3


class _CircularPadNd(_ModePadNd):
    _mode = "circular"

    def forward(self, input):
        if input.dim() not in (self._n + 1, self._n + 2):
            raise ValueError(
                f"expected {self._n + 1}D or {self._n + 2}D input (got {input.dim()}D input)")
        return super().forward(input)


class CircularPad1d(_CircularPadNd):
    """Pad the last dim by wrapping around (periodic boundary)."""
    _n = 1


class CircularPad2d(_CircularPadNd):
    """Pad the last 2 dims by wrapping around."""
    _n = 2


class CircularPad3d(_CircularPadNd):
    """Pad the last 3 dims by wrapping around."""
    _n = 3
