"""Small helpers shared by the tests."""
from __future__ import annotations

import numpy as np

import flambeau


def to_numpy(t):
    """A tensor's values as a host NumPy array, from any device."""
    return t.detach().cpu().numpy()


def assert_close(actual, expected, rtol=1e-5, atol=1e-6, msg=""):
    a = to_numpy(actual) if isinstance(actual, flambeau.Tensor) else np.asarray(actual)
    e = to_numpy(expected) if isinstance(expected, flambeau.Tensor) else np.asarray(expected)
    assert a.shape == e.shape, f"{msg} shape {a.shape} != expected {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=msg)


def numerical_grad(fn, arrays, i, eps=1e-6):
    """Central differences of the scalar ``fn(*arrays)`` (float64 NumPy) w.r.t. ``arrays[i]``."""
    x = arrays[i]
    g = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        orig = x[idx]
        x[idx] = orig + eps
        plus = fn(*arrays)
        x[idx] = orig - eps
        minus = fn(*arrays)
        x[idx] = orig
        g[idx] = (plus - minus) / (2 * eps)
    return g
