"""flambeau's backend conformance suite, as pytest tests.

Every test takes the backend under test from the fixture ``backend`` (or the device string
from ``conformance_device``), which resolves the device from, in order: the runner of
``python -m flambeau.testing --device <type>``, a ``--device`` pytest option if your conftest
defines one, ``$FLAMBEAU_TEST_DEVICE``, and flambeau's default device.

Modules: ``primitives`` (elementwise, reductions, scans, sort, matmul, creation, casts),
``shape_ops`` (shape, memory and indexing), ``random_ops``, ``composites`` and ``conv_composites``
(the default implementations of ``Backend`` and a backend's overrides), ``linalg_ops`` (the
optional ``Backend.linalg``), ``tensor_level`` (forward and backward of Tensor ops on the device,
error behaviour).

To run the suite inside your own pytest session, import it into one of your test modules::

    from flambeau.testing.conformance import *  # noqa: F401,F403

That brings in the tests and the fixtures they need, and nothing else.
"""
from __future__ import annotations

from . import (
    composites,
    conv_composites,
    linalg_ops,
    primitives,
    random_ops,
    shape_ops,
    tensor_level,
)
from ._fixtures import backend, conformance_device  # noqa: F401  (exported by __all__)
from .tensor_level import peer_device  # noqa: F401

MODULES = (primitives, shape_ops, random_ops, composites, conv_composites, linalg_ops,
           tensor_level)
_FIXTURES = ("backend", "conformance_device", "peer_device")

__all__ = list(_FIXTURES)
for _module in MODULES:
    for _name, _obj in vars(_module).items():
        if _name.startswith("test_") and callable(_obj):
            if _name in __all__:
                raise ImportError(f"two conformance tests are called {_name}")
            __all__.append(_name)
            globals()[_name] = _obj
del _module, _name, _obj
