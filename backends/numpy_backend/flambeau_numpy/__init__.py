"""flambeau's CPU backend on NumPy: the plugin.

This module only describes the backend; importing it must stay cheap, so NumPy is imported by
``flambeau_numpy.backend`` when a ``cpu`` tensor is first created.
"""
from __future__ import annotations

import flambeau
from flambeau.backends import BackendSpec

__version__ = "0.1.0"


def _numpy_available() -> tuple[bool, str]:
    try:
        import numpy
    except Exception as exc:  # pragma: no cover - numpy is a dependency
        return False, f"cannot import numpy: {exc}"
    return True, f"numpy {numpy.__version__}"


@flambeau.hookimpl
def flambeau_backends() -> list[BackendSpec]:
    return [
        BackendSpec(
            name="numpy",
            device_type="cpu",
            priority=100,
            distribution="flambeau-numpy",
            version=__version__,
            loader="flambeau_numpy.backend:NumpyBackend",
            is_available=_numpy_available,
        )
    ]
