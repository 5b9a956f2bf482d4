"""A third-party flambeau plugin for tests: device type ``testdev``, computed with NumPy.

Only public flambeau API is used (``flambeau.hookimpl``, ``flambeau.backends.BackendSpec``,
``flambeau.backend.ArrayModuleBackend``); NumPy is imported when a ``testdev`` tensor is first
created, not here.
"""
from __future__ import annotations

import flambeau
from flambeau.backends import BackendSpec

__version__ = "0.1.0"


def _available() -> tuple[bool, str]:
    try:
        import numpy
    except Exception as exc:
        return False, f"cannot import numpy: {exc}"
    return True, f"numpy {numpy.__version__} underneath"


@flambeau.hookimpl
def flambeau_backends() -> list[BackendSpec]:
    return [
        BackendSpec(
            name="testbackend",
            device_type="testdev",
            distribution="flambeau-testbackend",
            version=__version__,
            loader="flambeau_testbackend.backend:TestdevBackend",
            is_available=_available,
        )
    ]
