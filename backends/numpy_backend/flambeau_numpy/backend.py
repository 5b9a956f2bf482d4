"""``NumpyBackend``: ``ArrayModuleBackend`` over NumPy, serving device type ``cpu``.

Hot composites that NumPy can do faster than the defaults of ``flambeau.backend.Backend`` are
overridden here; everything else comes from ``ArrayModuleBackend``.
"""
from __future__ import annotations

from flambeau.backend import ArrayModuleBackend


class NumpyBackend(ArrayModuleBackend):
    """The CPU backend: every primitive is the NumPy function of the same meaning."""

    name = "numpy"
    device_type = "cpu"

    def __init__(self, device):
        import numpy

        super().__init__(device, numpy)
