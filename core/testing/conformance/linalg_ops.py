"""Conformance of the optional ``Backend.linalg`` (decompositions and solvers) against NumPy's
float64 results.

A backend that does not implement ``linalg`` (it raises NotImplementedError) skips these
checks: ``flambeau.linalg``'s decompositions are then unavailable on its device, and nothing
else depends on them. Decompositions whose factors are defined up to signs (QR, SVD, eigh) are
checked through what is unique: the reconstruction, orthonormality, and the values.
"""
from __future__ import annotations

import numpy as np
import pytest

from flambeau import _dtype as dt

from .._reference import check_array, get, np_dtype, put, require, rng_for, where_
from ._fixtures import over_dtypes

LINALG_DTYPES = (dt.float32, dt.float64)


def _spd(rng, n, batch=()):
    a = rng.uniform(-1, 1, batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _close(backend, out, ref, dtype, what, inputs, tol=50.0):
    check_array(backend, out, np.asarray(ref).astype(np.float64), dtype, what, inputs=inputs,
                tol=tol)


@over_dtypes(LINALG_DTYPES)
def test_linalg(backend, dtype):
    """``linalg(op, ...)`` for every op of ``LINALG_OPS`` on a batch of well-conditioned
    matrices: values, shapes and dtypes as NumPy's float64 results; singular input raises
    ``LinAlgError``."""
    from flambeau.backend.base import LinAlgError

    require(backend, dtype)
    rng = rng_for("linalg", dtype.name)
    nd = np_dtype(dtype)
    A = _spd(rng, 4, (2,)).astype(nd)
    B = rng.uniform(-1, 1, (2, 4, 3)).astype(nd)
    W = rng.uniform(-1, 1, (2, 5, 3)).astype(nd)  # tall
    a, b, w = (put(backend, x, dtype) for x in (A, B, W))
    A64, B64, W64 = (x.astype(np.float64) for x in (A, B, W))
    try:
        inv = backend.linalg("inv", a)
    except NotImplementedError:
        pytest.skip(f"backend {backend.name!r} does not implement the optional linalg")
    _close(backend, inv, np.linalg.inv(A64), dtype, "linalg('inv', a)", [A])
    _close(backend, backend.linalg("solve", a, b), np.linalg.solve(A64, B64), dtype,
           "linalg('solve', a, b)", [A, B])
    _close(backend, backend.linalg("det", a), np.linalg.det(A64), dtype, "linalg('det', a)", [A])
    sign, logabs = backend.linalg("slogdet", a)
    ref_sign, ref_logabs = np.linalg.slogdet(A64)
    _close(backend, sign, ref_sign, dtype, "linalg('slogdet', a)[0]", [A])
    _close(backend, logabs, ref_logabs, dtype, "linalg('slogdet', a)[1]", [A])
    _close(backend, backend.linalg("cholesky", a), np.linalg.cholesky(A64), dtype,
           "linalg('cholesky', a)", [A])
    for mode in ("reduced", "complete"):
        q, r = (get(backend, x).astype(np.float64) for x in backend.linalg("qr", w, mode=mode))
        k = 3 if mode == "reduced" else 5
        msg = where_(backend, f"linalg('qr', w, mode={mode!r})", dtype, [W])
        assert q.shape == (2, 5, k) and r.shape == (2, k, 3), f"{msg}: shapes {q.shape}, {r.shape}"
        np.testing.assert_allclose(q @ r, W64, atol=1e-4, err_msg=msg)
        np.testing.assert_allclose(np.swapaxes(q, -1, -2) @ q, np.broadcast_to(np.eye(k), (2, k, k)),
                                   atol=1e-4, err_msg=msg)
        np.testing.assert_allclose(np.tril(r, -1), 0, atol=1e-6, err_msg=msg)
    for full in (False, True):
        u, s, vh = (get(backend, x).astype(np.float64)
                    for x in backend.linalg("svd", w, full_matrices=full))
        msg = where_(backend, f"linalg('svd', w, full_matrices={full})", dtype, [W])
        np.testing.assert_allclose(s, np.linalg.svd(W64, compute_uv=False), rtol=1e-4,
                                   err_msg=msg)
        np.testing.assert_allclose((u[..., :, :3] * s[..., None, :]) @ vh[..., :3, :], W64,
                                   atol=1e-4, err_msg=msg)
        assert u.shape == ((2, 5, 5) if full else (2, 5, 3)), f"{msg}: U shape {u.shape}"
    _close(backend, backend.linalg("svdvals", w), np.linalg.svd(W64, compute_uv=False), dtype,
           "linalg('svdvals', w)", [W])
    for uplo in ("L", "U"):
        half = np.tril(A64) if uplo == "L" else np.triu(A64)  # the other triangle is ignored
        garbage = half + (np.triu(np.full_like(A64, 7.0), 1) if uplo == "L" else
                          np.tril(np.full_like(A64, 7.0), -1))
        g = put(backend, garbage.astype(nd), dtype)
        ref_w = np.linalg.eigvalsh(A64)
        _close(backend, backend.linalg("eigvalsh", g, uplo=uplo), ref_w, dtype,
               f"linalg('eigvalsh', a, uplo={uplo!r})", [garbage])
        wv, v = backend.linalg("eigh", g, uplo=uplo)
        _close(backend, wv, ref_w, dtype, f"linalg('eigh', a, uplo={uplo!r})[0]", [garbage])
        v = get(backend, v).astype(np.float64)
        np.testing.assert_allclose((v * ref_w[..., None, :]) @ np.swapaxes(v, -1, -2), A64,
                                   atol=1e-3, err_msg=where_(backend, "linalg('eigh')", dtype))
    singular = put(backend, np.zeros((3, 3), nd), dtype)
    for op in ("inv", "cholesky"):
        with pytest.raises(LinAlgError):
            backend.linalg(op, singular if op == "inv" else put(backend, -np.eye(3, dtype=nd), dtype))
