"""The fixtures every conformance module uses: the device under test and its backend."""
from __future__ import annotations

import pytest

import flambeau
from flambeau.backend import Backend

from .._reference import ALL, device_of


@pytest.fixture
def conformance_device(request):
    """The device under test, as a string (see ``flambeau.testing._reference.device_of``)."""
    return device_of(request.config)


@pytest.fixture
def backend(conformance_device):
    """The ``Backend`` instance that computes on the device under test."""
    return flambeau.backends.get_backend(conformance_device)


def dtype_id(d):
    return d.name


def over_dtypes(dtypes=ALL):
    """``@pytest.mark.parametrize("dtype", ...)`` over ``dtypes``, named by dtype name."""
    return pytest.mark.parametrize("dtype", dtypes, ids=dtype_id)


IMPLS = ["backend", "default"]


def composite(backend, name, impl):
    """``backend``'s own ``name`` (``impl="backend"``) or ``Backend``'s default bound to it;
    skips the default when the backend does not override ``name`` (the two are the same)."""
    if impl == "backend":
        return getattr(backend, name)
    if getattr(type(backend), name) is getattr(Backend, name):
        pytest.skip(f"backend {backend.name!r} does not override {name}")
    return getattr(Backend, name).__get__(backend)


over_impls = pytest.mark.parametrize("impl", IMPLS)
