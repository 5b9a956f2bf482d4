"""Conformance at the Tensor level: does this backend compute what flambeau's ops promise?

A representative table of differentiable ops runs forward and backward on the device under
test (in float32, and in float64 where supported) and is compared with the same formula in
float64 NumPy and with finite-difference gradients of it. Also: errors for unsupported dtypes
and for mixing devices, host round trips, and seeded random tensors.

This layer is deliberately moderate: the project's own ``tests/`` check every op in depth; here
the question is only whether this backend gives the same answers.
"""
from __future__ import annotations

import numpy as np
import pytest

import flambeau
from flambeau import _dtype as dt
from flambeau.backend import ArrayModuleBackend

from .._reference import ALL, FLOATS, np_dtype, require, rng_for, sample
from ._fixtures import over_dtypes


def _host(t):
    """A tensor's values as a float64 (or its own dtype's) NumPy array, from any device."""
    return np.asarray(t.detach().tolist())


def _F():
    try:
        import flambeau.nn.functional as F
    except ImportError:  # pragma: no cover - nn is part of the distribution
        return None
    return F


def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _np_logsumexp(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.exp(x - m).sum(axis=axis))


_IDX = np.array([0, 2, 2], np.int64)
_GATHER = np.array([[0, 2, 1, 1], [3, 0, 0, 2], [1, 1, 3, 0]], np.int64)

# name -> (flambeau fn, NumPy fn, input specs (shape, low, high)); integer index arrays are
# module constants, moved to the device by the flambeau side.
OPS = {
    "add_broadcast": (lambda a, b: a + b, lambda a, b: a + b, [((3, 1, 4), -2, 2), ((2, 4), -2, 2)]),
    "sub_mul": (lambda a, b: (a - b) * a, lambda a, b: (a - b) * a, [((3, 4), -2, 2), ((4,), -2, 2)]),
    "div": (lambda a, b: a / b, lambda a, b: a / b, [((3, 4), -2, 2), ((3, 1), 0.5, 2)]),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b, [((3, 4), 0.5, 2), ((3, 4), -1.5, 1.5)]),
    "exp_log": (lambda a: a.exp() + (a + 3).log(), lambda a: np.exp(a) + np.log(a + 3), [((3, 4), -2, 2)]),
    "tanh_sigmoid": (lambda a: a.tanh() * a.sigmoid(), lambda a: np.tanh(a) / (1 + np.exp(-a)), [((3, 4), -3, 3)]),
    "sqrt_sin": (lambda a: a.sqrt() + a.sin(), lambda a: np.sqrt(a) + np.sin(a), [((3, 4), 0.3, 3)]),
    "maximum": (lambda a, b: flambeau.maximum(a, b), np.maximum, [((3, 4), -2, 2), ((3, 4), -2, 2)]),
    "where": (lambda a, b: flambeau.where(a > 0, a, b * 2), lambda a, b: np.where(a > 0, a, b * 2),
              [((3, 4), -2, 2), ((4,), -2, 2)]),
    "clamp": (lambda a: a.clamp(-0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7), [((3, 4), -2, 2)]),
    "sum_mean": (lambda a: a.sum(1) * a.mean((0, 1)), lambda a: a.sum(1) * a.mean((0, 1)),
                 [((2, 3, 4), -2, 2)]),
    "prod": (lambda a: a.prod(1), lambda a: a.prod(1), [((3, 4), 0.5, 1.5)]),
    "amax": (lambda a: a.amax(1), lambda a: a.max(1), [((3, 4), -2, 2)]),
    "var": (lambda a: a.var(1), lambda a: a.var(1, ddof=1), [((3, 4), -2, 2)]),
    "logsumexp": (lambda a: a.logsumexp(1), lambda a: _np_logsumexp(a, 1), [((3, 4), -2, 2)]),
    "cumsum": (lambda a: a.cumsum(1), lambda a: a.cumsum(1), [((3, 4), -2, 2)]),
    "matmul_batched": (lambda a, b: a @ b, np.matmul, [((2, 3, 4), -1, 1), ((4, 2), -1, 1)]),
    "matmul_vector": (lambda a, b: a @ b, np.matmul, [((3, 4), -1, 1), ((4,), -1, 1)]),
    "permute_reshape": (lambda a: a.permute(2, 0, 1).reshape(4, 6) * 2,
                        lambda a: a.transpose(2, 0, 1).reshape(4, 6) * 2, [((2, 3, 4), -2, 2)]),
    "getitem_repeated": (lambda a: a[1:, flambeau.tensor(_IDX, device=a.device)] * 3,
                         lambda a: a[1:, _IDX] * 3, [((3, 4), -2, 2)]),
    "gather": (lambda a: a.gather(0, flambeau.tensor(_GATHER, device=a.device)),
               lambda a: np.take_along_axis(a, _GATHER, 0), [((4, 4), -2, 2)]),
    "cat_stack": (lambda a, b: flambeau.cat([a, b], 0) + flambeau.stack([a, a], 0).sum(0).repeat(2, 1),
                  lambda a, b: np.concatenate([a, b]) + np.tile(2 * a, (2, 1)), [((2, 3), -2, 2), ((2, 3), -2, 2)]),
    "flip_tril": (lambda a: a.flip(0).tril(), lambda a: np.tril(np.flip(a, 0)), [((3, 3), -2, 2)]),
    "sort_values": (lambda a: a.sort(1).values * flambeau.arange(4, device=a.device),
                    lambda a: np.sort(a, 1) * np.arange(4), [((3, 4), -2, 2)]),
    "masked_fill": (lambda a: a.masked_fill(a < 0, 0.5) * a, lambda a: np.where(a < 0, 0.5, a) * a,
                    [((3, 4), -2, 2)]),
    "norm": (lambda a: a.norm().reshape(1), lambda a: np.linalg.norm(a).reshape(1), [((3, 4), -2, 2)]),
    "einsum": (lambda a, b: flambeau.einsum("ij,jk->ik", a, b), lambda a, b: a @ b,
               [((2, 3), -1, 1), ((3, 2), -1, 1)]),
    "softmax": (lambda a: _F().softmax(a, 1), lambda a: _np_softmax(a, 1), [((3, 4), -3, 3)]),
    "log_softmax": (lambda a: _F().log_softmax(a, 0), lambda a: np.log(_np_softmax(a, 0)), [((3, 4), -3, 3)]),
}

_TOL = {dt.float32: dict(fwd=(1e-4, 1e-5), grad=(2e-3, 2e-4)),
        dt.float64: dict(fwd=(1e-9, 1e-10), grad=(1e-5, 1e-6))}


def _numerical_grads(np_fn, arrays, weight, eps=1e-6):
    """Central differences of ``sum(np_fn(*arrays) * weight)`` w.r.t. each array (float64)."""
    grads = []
    for x in arrays:
        g = np.zeros_like(x)
        for i in np.ndindex(*x.shape):
            orig = x[i]
            x[i] = orig + eps
            plus = np.sum(np_fn(*arrays) * weight)
            x[i] = orig - eps
            minus = np.sum(np_fn(*arrays) * weight)
            x[i] = orig
            g[i] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


def _compare(got, ref, rtol, atol, what):
    got = np.asarray(got, np.float64)
    assert got.shape == ref.shape, f"{what}: shape {got.shape}, expected {ref.shape}"
    err = np.abs(got - ref)
    bound = atol + rtol * np.maximum(np.abs(ref), 1)
    if np.any(err > bound):
        i = tuple(int(v) for v in np.argwhere(err > bound)[0])
        raise AssertionError(f"{what}: at {i} got {got[i]!r}, expected {ref[i]!r} "
                             f"(max error {err.max():.3g})")


@pytest.mark.parametrize("name", sorted(OPS))
@over_dtypes((dt.float32, dt.float64))
def test_forward_backward(conformance_device, name, dtype):
    """Forward values and gradients of representative ops on the device equal float64 NumPy and
    finite differences of it."""
    be = flambeau.backends.get_backend(conformance_device)
    require(be, dtype)
    fn, np_fn, specs = OPS[name]
    if name in ("softmax", "log_softmax") and _F() is None:
        pytest.skip("flambeau.nn.functional is not available")
    rng = rng_for("tensor", name)
    arrays = [sample(rng, dt.float64, shape, low, high) for shape, low, high in specs]
    # inputs as the device will see them: rounded to dtype first
    arrays = [a.astype(np_dtype(dtype)).astype(np.float64) for a in arrays]
    ref = np.asarray(np_fn(*arrays), np.float64)
    weight = rng.uniform(-1, 1, ref.shape)
    ref_grads = _numerical_grads(np_fn, [a.copy() for a in arrays], weight)
    ts = [flambeau.tensor(a, dtype=dtype, device=conformance_device, requires_grad=True) for a in arrays]
    out = fn(*ts)
    what = f"[{be.name} on {conformance_device}] {name} in {dtype.name}"
    assert out.device == ts[0].device, f"{what}: result on {out.device}"
    assert out.dtype is dtype, f"{what}: result dtype {out.dtype!r}"
    _compare(_host(out), ref, *_TOL[dtype]["fwd"], what + " forward")
    (out * flambeau.tensor(weight, dtype=dtype, device=conformance_device)).sum().backward()
    for i, (t, g) in enumerate(zip(ts, ref_grads)):
        assert t.grad is not None, f"{what}: no gradient for input {i}"
        assert t.grad.device == t.device and t.grad.dtype is dtype, (
            f"{what}: gradient of input {i} is {t.grad.dtype!r} on {t.grad.device}"
        )
        _compare(_host(t.grad), g, *_TOL[dtype]["grad"], f"{what} gradient of input {i}")


@over_dtypes(ALL)
def test_host_round_trip(conformance_device, dtype):
    """A tensor made on the device from host data has the dtype, shape and values, and
    ``.tolist()`` brings them back."""
    be = flambeau.backends.get_backend(conformance_device)
    require(be, dtype)
    host = sample(rng_for("round trip", dtype.name), dtype, (2, 3))
    t = flambeau.tensor(host, device=conformance_device)
    assert t.dtype is dtype and tuple(t.shape) == (2, 3), f"{be.name}: tensor() gave {t.dtype!r} {t.shape}"
    assert t.device == be.device, f"{be.name}: tensor(device={conformance_device!r}) is on {t.device}"
    assert np.array_equal(np.asarray(t.tolist(), dtype=np_dtype(dtype)), host), (
        f"{be.name}: values changed in a round trip through the device ({dtype.name})"
    )
    for other in FLOATS:
        if other in be.supported_dtypes:
            u = t.to(other)
            assert u.dtype is other and u.device == t.device, f"{be.name}: .to({other!r})"


@over_dtypes(ALL)
def test_unsupported_dtype_raises(conformance_device, dtype):
    """Creating a tensor of a dtype the backend does not support, or converting to one,
    raises TypeError naming the backend."""
    be = flambeau.backends.get_backend(conformance_device)
    if dtype in be.supported_dtypes:
        pytest.skip(f"backend {be.name!r} supports {dtype.name}")
    ok = next(d for d in (dt.float32, dt.int64, dt.bool_, *ALL) if d in be.supported_dtypes)
    attempts = {
        "zeros": lambda: flambeau.zeros(2, dtype=dtype, device=conformance_device),
        "full": lambda: flambeau.full((2,), 1, dtype=dtype, device=conformance_device),
        "empty": lambda: flambeau.empty(2, dtype=dtype, device=conformance_device),
        "tensor": lambda: flambeau.tensor([1, 0], dtype=dtype, device=conformance_device),
        ".to": lambda: flambeau.zeros(2, dtype=ok, device=conformance_device).to(dtype),
    }
    for what, make in attempts.items():
        with pytest.raises(TypeError) as info:
            make()
        assert be.name in str(info.value), (
            f"{what}(dtype={dtype.name}) on {conformance_device}: the TypeError does not name "
            f"backend {be.name!r}: {info.value}"
        )


class _PeerBackend(ArrayModuleBackend):
    """A second device for the mixed-device checks, registered only while they run."""

    name = "conformance-peer"
    device_type = "conformancepeer"

    def __init__(self, device):
        import numpy

        super().__init__(device, numpy)


@pytest.fixture
def peer_device():
    name = flambeau.backends.register(_PeerBackend)
    try:
        yield "conformancepeer"
    finally:
        flambeau.backends.unregister(name)


_MIXED = {
    "a + b": lambda a, b: a + b, "b * a": lambda a, b: b * a, "a @ b.T": lambda a, b: a @ b.T,
    "maximum": lambda a, b: flambeau.maximum(a, b), "a == b": lambda a, b: a == b,
    "where": lambda a, b: flambeau.where(a > 0, a, b), "cat": lambda a, b: flambeau.cat([a, b]),
    "stack": lambda a, b: flambeau.stack([b, a]), "a.add_(b)": lambda a, b: a.add_(b),
    "gather": lambda a, b: a.gather(0, b.long()), "a[b > 0]": lambda a, b: a[b > 0],
}


@pytest.mark.parametrize("op", sorted(_MIXED))
def test_mixed_devices_raise(conformance_device, peer_device, op):
    """An op on tensors of two devices raises RuntimeError naming both devices."""
    be = flambeau.backends.get_backend(conformance_device)
    d = next(d for d in (dt.float32, dt.float64, dt.float16) if d in be.supported_dtypes)
    a = flambeau.ones(2, 3, dtype=d, device=conformance_device)
    b = flambeau.ones(2, 3, dtype=d, device=peer_device)
    with pytest.raises(RuntimeError) as info:
        _MIXED[op](a, b)
    msg = str(info.value)
    assert str(a.device) in msg and str(b.device) in msg, (
        f"{op} with tensors on {a.device} and {b.device}: the error does not name both: {msg}"
    )


def test_seeded_random_tensors(conformance_device):
    """``manual_seed`` and ``Generator(device)`` make random tensors on the device repeatable,
    and a generator's saved state replays its numbers."""
    be = flambeau.backends.get_backend(conformance_device)
    d = next(d for d in (dt.float32, dt.float64, dt.float16) if d in be.supported_dtypes)
    draws = []
    for _ in range(2):
        flambeau.manual_seed(123)
        draws.append([flambeau.rand(5, dtype=d, device=conformance_device).tolist(),
                      flambeau.randn(5, dtype=d, device=conformance_device).tolist(),
                      flambeau.randint(0, 10, (5,), device=conformance_device).tolist(),
                      flambeau.randperm(6, device=conformance_device).tolist()])
    assert draws[0] == draws[1], f"{be.name}: manual_seed(123) twice gave different tensors"
    g = flambeau.Generator(device=conformance_device).manual_seed(9)
    first = flambeau.rand(4, dtype=d, generator=g, device=conformance_device)
    g2 = flambeau.Generator(device=conformance_device).manual_seed(9)
    assert first.tolist() == flambeau.rand(4, dtype=d, generator=g2, device=conformance_device).tolist()
    if not flambeau.backends.is_available("cpu"):
        return  # generator states are CPU tensors
    state = g.get_state()
    x = flambeau.randn(4, dtype=d, generator=g, device=conformance_device).tolist()
    g.set_state(state)
    assert x == flambeau.randn(4, dtype=d, generator=g, device=conformance_device).tolist(), (
        f"{be.name}: Generator.set_state(get_state()) did not replay the numbers"
    )
