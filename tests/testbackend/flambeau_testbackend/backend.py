"""``TestdevBackend``: ``ArrayModuleBackend`` over NumPy, with no fast path of its own.

Unlike the NumPy backend it overrides no composite, so every composite op runs through the
default implementations of ``flambeau.backend.Backend``. Each ``testdev:<n>`` is its own device
with its own instance; arrays are plain ``numpy.ndarray``.
"""
from __future__ import annotations

from flambeau.backend import ArrayModuleBackend


class TestdevBackend(ArrayModuleBackend):
    name = "testbackend"
    device_type = "testdev"
    __test__ = False  # not a pytest test class, despite its name

    def __init__(self, device):
        import numpy

        super().__init__(device, numpy)
