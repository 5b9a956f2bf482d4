"""The suite runs once per backend: ``pytest --device cpu`` (default), ``--device testdev``,
``--device cuda``. The chosen device becomes flambeau's default device, so tests create tensors
without naming one; ``to_numpy`` brings results back to the host for comparison."""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=15, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser):
    parser.addoption(
        "--device",
        default=os.environ.get("FLAMBEAU_TEST_DEVICE", "cpu"),
        help="device type whose backend the suite runs on (cpu, testdev, cuda, ...)",
    )


def pytest_configure(config):
    import flambeau

    dev = config.getoption("--device")
    flambeau.set_default_device(dev)
    config._flambeau_device = dev


def pytest_report_header(config):
    import flambeau

    b = flambeau.backends.get_backend(config.getoption("--device"))
    return f"flambeau backend: {b.name} on {b.device}"


@pytest.fixture
def device(request):
    """The device under test, as a string."""
    import flambeau

    return str(flambeau.get_default_device())


@pytest.fixture(autouse=True)
def _reset_state():
    """Each test starts with the default dtype, grad mode and a fixed seed."""
    import flambeau

    flambeau.manual_seed(0)
    yield
    flambeau.set_default_dtype(flambeau.float32)
    flambeau.set_grad_enabled(True)
