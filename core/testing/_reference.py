"""What the conformance suite compares against: sample inputs, float64 NumPy references,
tolerances per dtype, and assertions whose messages name the backend, op, dtype and shapes.

NumPy is the reference (and the host interchange type), so this module imports it; importing
``flambeau.testing`` alone does not.
"""
from __future__ import annotations

import zlib

import numpy as np

import flambeau
from flambeau import _dtype as dt

FLOATS = (dt.float16, dt.float32, dt.float64)
SIGNED = (dt.int8, dt.int16, dt.int32, dt.int64)
INTS = (dt.uint8,) + SIGNED
NUMERIC = INTS + FLOATS
ALL = (dt.bool_,) + NUMERIC

#: ``(rtol, atol)`` per floating dtype for one correctly rounded op. Integer and bool results
#: must match exactly. float16 is loose: NumPy and GPUs compute it in float32 and round, and a
#: composite rounds several times.
TOLERANCE = {dt.float16: (4e-3, 1e-3), dt.float32: (2e-5, 2e-6), dt.float64: (1e-10, 1e-12)}


def np_dtype(dtype):
    """The NumPy dtype of flambeau ``dtype``."""
    return np.dtype("bool" if dtype is dt.bool_ else dtype.name)


def rng_for(*key):
    """A NumPy generator seeded from ``key`` (op name, dtype, ...): the same data every run."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def sample(rng, dtype, shape, low=-3.0, high=3.0):
    """Host array of ``dtype``: uniform floats in ``[low, high)``, integers in the same range
    (clipped to what the dtype holds), or random booleans."""
    if dtype is dt.bool_:
        return rng.random(shape) < 0.5
    if dtype.is_floating_point:
        return rng.uniform(low, high, shape).astype(np_dtype(dtype))
    lo = int(np.floor(low))
    hi = int(np.ceil(high))
    if not dtype.is_signed:
        lo, hi = max(lo, 0), max(hi, 1)
    return rng.integers(lo, hi, shape, endpoint=True).astype(np_dtype(dtype))


def supported(backend, dtypes):
    """The dtypes of ``dtypes`` that ``backend`` supports, in order."""
    return [d for d in dtypes if d in backend.supported_dtypes]


def require(backend, dtype):
    """Skip the calling test when ``backend`` does not support ``dtype``."""
    if dtype not in backend.supported_dtypes:
        import pytest

        pytest.skip(f"backend {backend.name!r} does not support {dtype.name}")


def put(backend, host, dtype=None):
    """``host`` (a NumPy array or scalar) as a native array of ``backend``."""
    host = np.asarray(host)
    if dtype is None:
        dtype = dt._lookup(str(host.dtype))
    return backend.asarray(host, dtype)


def get(backend, x):
    """Native array ``x`` as a host NumPy array (a copy)."""
    return np.array(backend.to_host(x), copy=True)


def where_(backend, what, dtype=None, inputs=()):
    """The prefix of a failure message: backend, device, op, dtype and the inputs."""
    parts = [f"[{backend.name} on {backend.device}] {what}"]
    if dtype is not None:
        parts.append(f"dtype={dtype.name}")
    for i, x in enumerate(inputs):
        x = np.asarray(x)
        if x.size <= 12:
            parts.append(f"input{i}={x.tolist()!r} ({x.dtype})")
        else:
            parts.append(f"input{i}: shape {x.shape} ({x.dtype})")
    return ", ".join(parts)


def check_array(backend, out, expected, dtype, what, *, inputs=(), scale=None, tol=1.0,
                check_dtype=True):
    """Assert native array ``out`` has ``dtype``, ``expected``'s shape and its values.

    ``expected`` is a host array (any dtype; float64 for references). Floating results must be
    within ``tol * (atol + rtol * scale)`` of it, where ``scale`` defaults to ``|expected|``
    (pass the same reduction of ``|inputs|`` for sums and products, whose rounding error grows
    with the terms, not the result). NaNs and infinities must match exactly; other dtypes must
    match exactly.
    """
    msg = where_(backend, what, dtype, inputs)
    host, expected = _host_result(backend, out, expected, dtype, msg, check_dtype)
    if not dtype.is_floating_point:
        same = host.astype(np.int64) == expected.astype(np.int64) if dtype is not dt.bool_ \
            else host.astype(bool) == expected.astype(bool)
        _assert_all_same(msg, same, host, expected)
        return
    got = host.astype(np.float64)
    ref = expected.astype(np.float64)
    nan_ref, nan_got = np.isnan(ref), np.isnan(got)
    if not np.array_equal(nan_ref, nan_got):
        i = tuple(int(v) for v in np.argwhere(nan_ref != nan_got)[0])
        raise AssertionError(f"{msg}: NaN mismatch at {i}: got {_py(got[i])!r}, expected {_py(ref[i])!r}")
    inf_ref = np.isinf(ref)
    if not np.array_equal(np.where(inf_ref, ref, 0), np.where(inf_ref, got, 0)) or \
            np.any(np.isinf(got) & ~inf_ref):
        i = tuple(int(v) for v in np.argwhere((np.isinf(got) | inf_ref) & (got != ref))[0])
        raise AssertionError(f"{msg}: infinity mismatch at {i}: got {_py(got[i])!r}, expected {_py(ref[i])!r}")
    finite = ~(nan_ref | inf_ref)
    rtol, atol = TOLERANCE[dtype]
    bound = np.abs(ref) if scale is None else np.abs(np.asarray(scale, dtype=np.float64))
    bound = tol * (atol + rtol * np.broadcast_to(bound, ref.shape))
    err = np.where(finite, np.abs(got - np.where(finite, ref, 0)), 0)
    bad = err > bound
    if np.any(bad):
        i = tuple(int(v) for v in np.argwhere(bad)[0])
        raise AssertionError(
            f"{msg}: {int(bad.sum())} of {bad.size} elements outside tolerance; first at {i}: "
            f"got {_py(got[i])!r}, expected {_py(ref[i])!r} (error {err[i]:.3g} > {bound[i]:.3g})"
        )


def check_exact(backend, out, expected, dtype, what, *, inputs=()):
    """Like ``check_array`` but every value, floats included, must be equal (NaN equals NaN)."""
    msg = where_(backend, what, dtype, inputs)
    host, expected = _host_result(backend, out, expected, dtype, msg)
    same = host == expected
    if dtype.is_floating_point:
        same |= np.isnan(host.astype(np.float64)) & np.isnan(expected.astype(np.float64))
    _assert_all_same(msg, same, host, expected)


def _host_result(backend, out, expected, dtype, msg, check_dtype=True):
    """``(out on the host, expected as an array)``, having asserted that ``out`` has ``dtype``
    (with ``check_dtype``) and ``expected``'s shape."""
    if check_dtype:
        got_dtype = backend.dtype_of(out)
        assert got_dtype is dtype, f"{msg}: result dtype is {got_dtype!r}, expected {dtype!r}"
    host = get(backend, out)
    expected = np.asarray(expected)
    assert tuple(host.shape) == tuple(expected.shape), (
        f"{msg}: result shape {tuple(host.shape)}, expected {tuple(expected.shape)}"
    )
    return host, expected


def _assert_all_same(msg, same, host, expected):
    """Raise, naming the count and the first differing element, unless ``same`` is all true."""
    if not np.all(same):
        i = tuple(int(v) for v in np.argwhere(~same)[0])
        raise AssertionError(
            f"{msg}: {int((~same).sum())} of {same.size} elements differ; first at {i}: "
            f"got {_py(host[i])!r}, expected {_py(expected[i])!r}"
        )


def _py(value):
    """A NumPy scalar as the Python number it holds (for messages)."""
    return value.item() if hasattr(value, "item") else value


def wrap(values, dtype):
    """Integer ``values`` (computed exactly in int64/float64) wrapped into ``dtype`` as
    two's-complement arithmetic does; other dtypes are returned as float64."""
    values = np.asarray(values)
    if dtype.is_floating_point:
        return values.astype(np.float64)
    if dtype is dt.bool_:
        return values.astype(bool)
    return values.astype(np.int64).astype(np_dtype(dtype))


def device_of(config_or_none=None):
    """The device under test: the pytest option ``--device`` (when some conftest defines it),
    else ``$FLAMBEAU_TEST_DEVICE``, else flambeau's default device."""
    import os

    if config_or_none is not None:
        chosen = getattr(config_or_none, "_flambeau_conformance_device", None)
        if chosen:
            return chosen
        opt = config_or_none.getoption("--device", default=None)
        if opt:
            return str(opt)
    env = os.environ.get("FLAMBEAU_TEST_DEVICE")
    if env:
        return env
    return str(flambeau.get_default_device())
