"""Conformance of the random primitives: shapes, dtypes, ranges, rough distributions,
reproducibility from a seed, and generator state save/restore.

The streams of two backends need not be equal; the same backend must repeat itself.
"""
from __future__ import annotations

import numpy as np
import pytest

from flambeau import _dtype as dt

from .._reference import FLOATS, NUMERIC, get, np_dtype, require, where_
from ._fixtures import over_dtypes

_SHAPES = [(), (0,), (3, 4), (2, 1, 3)]
_N = 20000


def _draw(backend, kind, gen, shape, dtype):
    if kind == "uniform":
        return backend.random_uniform(gen, shape, dtype)
    if kind == "normal":
        return backend.random_normal(gen, shape, dtype)
    if kind == "integers":
        return backend.random_integers(gen, -5, 7, shape, dtype)
    return backend.random_permutation(gen, shape[0] if shape else 7)


def _check_meta(backend, x, shape, dtype, what):
    msg = where_(backend, what, dtype)
    assert tuple(x.shape) == tuple(shape), f"{msg}: shape {tuple(x.shape)}, expected {shape}"
    assert backend.dtype_of(x) is dtype, f"{msg}: dtype {backend.dtype_of(x)!r}, expected {dtype!r}"


@over_dtypes(FLOATS)
def test_random_uniform(backend, dtype):
    """``random_uniform`` gives floats of the dtype in [0, 1) (never 1.0, also after rounding
    to float16), with mean 1/2 and variance 1/12."""
    require(backend, dtype)
    gen = backend.generator(1234)
    for shape in _SHAPES:
        _check_meta(backend, backend.random_uniform(gen, shape, dtype), shape, dtype,
                    f"random_uniform({shape})")
    h = get(backend, backend.random_uniform(gen, (_N,), dtype)).astype(np.float64)
    msg = where_(backend, f"random_uniform(({_N},))", dtype)
    assert h.min() >= 0.0 and h.max() < 1.0, f"{msg}: values outside [0, 1): [{h.min()}, {h.max()}]"
    assert abs(h.mean() - 0.5) < 0.02, f"{msg}: mean {h.mean():.4f}, expected 0.5"
    assert abs(h.var() - 1 / 12) < 0.01, f"{msg}: variance {h.var():.4f}, expected 1/12"
    assert len(np.unique(h)) > 100, f"{msg}: only {len(np.unique(h))} distinct values"


@over_dtypes(FLOATS)
def test_random_normal(backend, dtype):
    """``random_normal`` gives finite floats of the dtype with mean 0 and standard deviation 1."""
    require(backend, dtype)
    gen = backend.generator(99)
    for shape in _SHAPES:
        _check_meta(backend, backend.random_normal(gen, shape, dtype), shape, dtype,
                    f"random_normal({shape})")
    h = get(backend, backend.random_normal(gen, (_N,), dtype)).astype(np.float64)
    msg = where_(backend, f"random_normal(({_N},))", dtype)
    assert np.all(np.isfinite(h)), f"{msg}: non-finite values"
    assert abs(h.mean()) < 0.05, f"{msg}: mean {h.mean():.4f}, expected 0"
    assert abs(h.std() - 1) < 0.05, f"{msg}: standard deviation {h.std():.4f}, expected 1"
    assert np.mean(np.abs(h) < 1) == pytest.approx(0.6827, abs=0.03), f"{msg}: not normal"


@over_dtypes(NUMERIC)
def test_random_integers(backend, dtype):
    """``random_integers(low, high)`` draws every integer of [low, high) and nothing else,
    as values of ``dtype``."""
    require(backend, dtype)
    gen = backend.generator(7)
    for shape in _SHAPES:
        _check_meta(backend, backend.random_integers(gen, 0, 3, shape, dtype), shape, dtype,
                    f"random_integers(0, 3, {shape})")
    ranges = [(0, 5), (3, 4)] + ([(-5, 7)] if dtype.is_signed else []) + \
        ([(0, 256)] if dtype is dt.uint8 else []) + ([(-128, 128)] if dtype is dt.int8 else [])
    for low, high in ranges:
        h = get(backend, backend.random_integers(gen, low, high, (4000,), dtype))
        msg = where_(backend, f"random_integers({low}, {high})", dtype)
        assert h.dtype == np_dtype(dtype), f"{msg}: host dtype {h.dtype}"
        seen = np.unique(h.astype(np.int64))
        assert np.array_equal(seen, np.arange(low, high)), (
            f"{msg}: drew the values {seen.tolist()}, expected each of {low}..{high - 1}"
        )


def test_random_permutation(backend):
    """``random_permutation(n)`` is an int64 permutation of 0..n-1 (and not always the
    identity)."""
    gen = backend.generator(5)
    for n in (0, 1, 10, 1000):
        p = backend.random_permutation(gen, n)
        _check_meta(backend, p, (n,), dt.int64, f"random_permutation({n})")
        h = get(backend, p)
        assert np.array_equal(np.sort(h), np.arange(n)), (
            f"{where_(backend, f'random_permutation({n})')}: not a permutation: {h[:20].tolist()}"
        )
    h = get(backend, backend.random_permutation(gen, 1000))
    assert not np.array_equal(h, np.arange(1000)), f"{where_(backend, 'random_permutation')}: identity"


_KINDS = ["uniform", "normal", "integers", "permutation"]


def _dtype_for(backend, kind):
    if kind == "integers":
        return dt.int64
    if kind == "permutation":
        return dt.int64
    return dt.float32 if dt.float32 in backend.supported_dtypes else next(
        d for d in FLOATS if d in backend.supported_dtypes)


@pytest.mark.parametrize("kind", _KINDS)
def test_random_reproducible(backend, kind):
    """Two generators made from the same seed give the same numbers; another seed gives
    others; drawing again from one generator gives new numbers."""
    dtype = _dtype_for(backend, kind)
    shape = (50,)
    a = get(backend, _draw(backend, kind, backend.generator(2024), shape, dtype))
    g = backend.generator(2024)
    b = get(backend, _draw(backend, kind, g, shape, dtype))
    msg = where_(backend, f"random {kind}", dtype)
    assert np.array_equal(a, b), f"{msg}: the same seed gave different numbers"
    c = get(backend, _draw(backend, kind, backend.generator(2025), shape, dtype))
    assert not np.array_equal(a, c), f"{msg}: seeds 2024 and 2025 gave the same numbers"
    d = get(backend, _draw(backend, kind, g, shape, dtype))
    assert not np.array_equal(b, d), f"{msg}: a second draw repeated the first"


@pytest.mark.parametrize("kind", _KINDS)
def test_generator_state_round_trip(backend, kind):
    """``generator_get_state`` gives a host uint8 array; restoring it (into the same or another
    generator) replays the numbers drawn after it was taken."""
    dtype = _dtype_for(backend, kind)
    g = backend.generator(31)
    _draw(backend, kind, g, (5,), dtype)
    state = backend.generator_get_state(g)
    msg = where_(backend, f"generator state ({kind})", dtype)
    assert isinstance(state, np.ndarray) and state.dtype == np.uint8, (
        f"{msg}: generator_get_state gave {type(state).__name__} of {getattr(state, 'dtype', None)},"
        " expected a numpy.ndarray of uint8"
    )
    saved = state.copy()
    first = get(backend, _draw(backend, kind, g, (40,), dtype))
    backend.generator_set_state(g, saved)
    again = get(backend, _draw(backend, kind, g, (40,), dtype))
    assert np.array_equal(first, again), f"{msg}: restoring the state did not replay the numbers"
    other = backend.generator(77)
    backend.generator_set_state(other, saved)
    third = get(backend, _draw(backend, kind, other, (40,), dtype))
    assert np.array_equal(first, third), (
        f"{msg}: a state restored into another generator did not replay the numbers"
    )
