"""Conformance of the shape, memory and indexing primitives: reshape, permute, broadcast_to,
contiguity, getitem/setitem, index_add, concatenate, pad, flip, take/put_along_axis, nonzero.

Values are compared exactly: moving elements around must not change them.
"""
from __future__ import annotations

import numpy as np

from flambeau import _dtype as dt

from .._reference import (
    ALL,
    check_array,
    check_exact,
    get,
    np_dtype,
    put,
    require,
    rng_for,
    sample,
    where_,
    wrap,
)
from ._fixtures import over_dtypes


def _data(backend, dtype, shape=(3, 4, 5), key="shape"):
    host = sample(rng_for(key, dtype.name), dtype, shape, -9, 9)
    return host, put(backend, host, dtype)


@over_dtypes(ALL)
def test_reshape_permute_broadcast(backend, dtype):
    """``reshape`` (also of a permuted array), ``permute`` and ``broadcast_to`` give NumPy's
    values; ``ascontiguous`` gives a C-contiguous array with the same values."""
    require(backend, dtype)
    host, x = _data(backend, dtype)
    for shape in [(12, 5), (60,), (3, 20, 1), (1, 3, 4, 5)]:
        check_exact(backend, backend.reshape(x, shape), host.reshape(shape), dtype,
                    f"reshape {host.shape} -> {shape}")
    for axes in [(2, 0, 1), (1, 0, 2), (0, 1, 2)]:
        p = backend.permute(x, axes)
        check_exact(backend, p, host.transpose(axes), dtype, f"permute{axes}")
        check_exact(backend, backend.reshape(p, (60,)), host.transpose(axes).reshape(60), dtype,
                    f"reshape of permute{axes} to (60,)")
        c = backend.ascontiguous(p)
        check_exact(backend, c, host.transpose(axes), dtype, f"ascontiguous(permute{axes})")
        assert backend.is_contiguous(c), f"{where_(backend, 'is_contiguous(ascontiguous(...))', dtype)}"
    assert backend.is_contiguous(x), f"{where_(backend, 'is_contiguous(asarray(...))', dtype)}"
    small = host[:, :1, 0]  # (3, 1)
    for shape in [(3, 1), (2, 3, 4), (5, 3, 7)]:
        check_exact(backend, backend.broadcast_to(put(backend, small, dtype), shape),
                    np.broadcast_to(small, shape), dtype, f"broadcast_to (3, 1) -> {shape}")
    scalar = put(backend, host.flat[0], dtype)
    check_exact(backend, backend.broadcast_to(scalar, (2, 2)), np.full((2, 2), host.flat[0]),
                dtype, "broadcast_to () -> (2, 2)")


def _keys(backend):
    """(description, native key, host key) for basic and advanced indexing of a (3, 4, 5)."""
    i64 = np.array([2, 0, 2, 1], np.int64)
    j64 = np.array([[1], [2]], np.int64)
    mask = sample(rng_for("mask"), dt.bool_, (3, 4, 5))
    row_mask = np.array([True, False, True])
    keys = [
        ("[1]", (1,)), ("[:, 2]", (slice(None), 2)), ("[1:, ::2]", (slice(1, None), slice(None, None, 2))),
        ("[..., 1]", (Ellipsis, 1)), ("[None, 0]", (None, 0)), ("[-1, 1:3, None]", (-1, slice(1, 3), None)),
        ("[2:1]", (slice(2, 1),)),
        ("[int64 idx]", (i64,)), ("[:, int64 idx]", (slice(None), i64)),
        ("[int64 (2,1), int64 (4,)] broadcast", (j64, i64)),
        ("[bool mask of the shape]", (mask,)), ("[bool mask of dim 0]", (row_mask,)),
        ("[1, int64 idx, ::2]", (1, i64, slice(None, None, 2))),
    ]
    out = []
    for name, key in keys:
        native = tuple(put(backend, k) if isinstance(k, np.ndarray) else k for k in key)
        out.append((name, native, key))
    return out


@over_dtypes(ALL)
def test_getitem(backend, dtype):
    """``getitem`` with ints, slices (with steps, empty), None, Ellipsis, int64 and bool arrays,
    as NumPy indexes."""
    require(backend, dtype)
    host, x = _data(backend, dtype, key="getitem")
    for name, key, hkey in _keys(backend):
        check_exact(backend, backend.getitem(x, key), host[hkey], dtype, f"getitem{name}")


@over_dtypes(ALL)
def test_setitem(backend, dtype):
    """``setitem`` writes a Python scalar or a broadcast array into the selection, in place;
    with repeated indices the last write wins."""
    require(backend, dtype)
    rng = rng_for("setitem", dtype.name)
    host, _ = _data(backend, dtype, key="setitem")
    for name, key, hkey in _keys(backend):
        sel_shape = host[hkey].shape
        value = sample(rng, dtype, sel_shape[-1:] if sel_shape else ())
        for v in (value, value.flat[0].item() if value.size else None):
            if v is None:
                continue
            x = put(backend, host, dtype)
            ref = host.copy()
            ref[hkey] = v
            native_v = put(backend, v, dtype) if isinstance(v, np.ndarray) else v
            ret = backend.setitem(x, key, native_v)
            assert ret is None or ret is x, f"{where_(backend, 'setitem', dtype)}: returns a new array"
            kind = "array" if isinstance(v, np.ndarray) else "scalar"
            check_exact(backend, x, ref, dtype, f"setitem{name} = {kind} of shape {np.shape(v)}")
    x = put(backend, host, dtype)
    idx = np.array([0, 2, 0], np.int64)
    vals = sample(rng, dtype, (3, 4, 5))
    backend.setitem(x, (put(backend, idx),), put(backend, vals, dtype))
    ref = host.copy()
    ref[1], ref[2], ref[0] = host[1], vals[1], vals[2]
    check_exact(backend, x, ref, dtype, "setitem[[0, 2, 0]]: the last write must win")


@over_dtypes(ALL)
def test_setitem_through_view(backend, dtype):
    """Writing into the result of basic indexing, or of ``reshape``/``permute``, where the backend
    returns views, must land in the base array; where it returns copies the base is unchanged.
    Either way the written array itself holds the values."""
    require(backend, dtype)
    host, x = _data(backend, dtype, key="view")
    view = backend.getitem(x, (1, slice(None, None, 2)))
    backend.setitem(view, (Ellipsis,), host.flat[7].item())
    check_exact(backend, view, np.full((2, 5), host.flat[7]), dtype, "setitem into x[1, ::2]")
    ref = host.copy()
    if backend.shares_memory(view, x):
        ref[1, ::2] = host.flat[7]
    got = get(backend, x)
    ok = np.array_equal(got, ref) or np.array_equal(got, host)
    assert ok, f"{where_(backend, 'setitem into a view', dtype)}: base array is partly changed"


@over_dtypes(tuple(d for d in ALL if d is not dt.bool_))
def test_index_add(backend, dtype):
    """``index_add`` is unbuffered: repeated indices accumulate (``numpy.add.at``), for int64
    index arrays along any axis, with slices, and for bool masks."""
    require(backend, dtype)
    rng = rng_for("index_add", dtype.name)
    host = sample(rng, dtype, (4, 3, 2), -3, 3)
    idx = np.array([0, 2, 0, 0, 3], np.int64)
    mask = sample(rng, dt.bool_, (4, 3, 2))
    cases = [
        ("[[0, 2, 0, 0, 3]]", (idx,)), ("[:, [1, 1, 0]]", (slice(None), np.array([1, 1, 0]))),
        ("[1:3, [0, 0]]", (slice(1, 3), np.array([0, 0]))), ("[bool mask]", (mask,)),
        ("[[0, 0], [1, 1], [0, 0]]", (np.array([0, 0]), np.array([1, 1]), np.array([0, 0]))),
    ]
    for name, hkey in cases:
        key = tuple(put(backend, k.astype(k.dtype if k.dtype == bool else np.int64))
                    if isinstance(k, np.ndarray) else k for k in hkey)
        value = sample(rng, dtype, host[hkey].shape, -3, 3)
        x = put(backend, host, dtype)
        ref = host.astype(np.float64 if dtype.is_floating_point else np.int64)
        np.add.at(ref, hkey, value.astype(ref.dtype))
        backend.index_add(x, key, put(backend, value, dtype))
        what = f"index_add{name} (repeated indices accumulate)"
        if dtype.is_floating_point:
            check_array(backend, x, ref, dtype, what, scale=np.abs(ref) + 6, tol=2)
        else:
            check_exact(backend, x, wrap(ref, dtype), dtype, what)


@over_dtypes(ALL)
def test_concatenate(backend, dtype):
    """``concatenate`` along each axis, of three arrays, one of them empty along that axis."""
    require(backend, dtype)
    rng = rng_for("concat", dtype.name)
    for axis in range(3):
        shapes = [(2, 3, 4), (2, 3, 4), (2, 3, 4)]
        shapes = [tuple(n if i != axis else m for i, n in enumerate(s)) for s, m in zip(shapes, (2, 0, 3))]
        parts = [sample(rng, dtype, s) for s in shapes]
        out = backend.concatenate([put(backend, p, dtype) for p in parts], axis)
        check_exact(backend, out, np.concatenate(parts, axis), dtype,
                    f"concatenate shapes {shapes} along {axis}")


@over_dtypes(ALL)
def test_pad_flip(backend, dtype):
    """``pad`` with a constant (zero and non-zero, uneven widths) and ``flip`` over axes."""
    require(backend, dtype)
    host, x = _data(backend, dtype, (2, 3, 4), key="pad")
    fill = True if dtype is dt.bool_ else (7 if not dtype.is_floating_point else -1.5)
    for width in [((0, 0), (1, 2), (0, 3)), ((1, 0), (0, 0), (2, 2))]:
        for value in (0, fill):
            check_exact(backend, backend.pad(x, width, value),
                        np.pad(host, width, constant_values=value), dtype,
                        f"pad({width}, value={value!r})")
    for axes in [(0,), (2,), (1, 2), (0, 1, 2)]:
        check_exact(backend, backend.flip(x, axes), np.flip(host, axes), dtype, f"flip{axes}")


@over_dtypes(ALL)
def test_take_put_along_axis(backend, dtype):
    """``take_along_axis`` gathers at int64 indices (repeats allowed); ``put_along_axis`` writes
    in place (the last write wins for repeated indices)."""
    require(backend, dtype)
    rng = rng_for("along", dtype.name)
    host, x = _data(backend, dtype, (3, 4, 5), key="along")
    for axis in range(3):
        shape = list(host.shape)
        shape[axis] = 6
        idx = rng.integers(0, host.shape[axis], shape).astype(np.int64)
        check_exact(backend, backend.take_along_axis(x, put(backend, idx), axis),
                    np.take_along_axis(host, idx, axis), dtype, f"take_along_axis(axis={axis})")
        # put: a permutation (no repeats) along the axis, then a repeated index
        perm = np.argsort(rng.random(host.shape), axis=axis).astype(np.int64)
        vals = sample(rng, dtype, host.shape)
        y = put(backend, host, dtype)
        backend.put_along_axis(y, put(backend, perm, dtype=dt.int64), put(backend, vals, dtype), axis)
        ref = host.copy()
        np.put_along_axis(ref, perm, vals, axis)
        check_exact(backend, y, ref, dtype, f"put_along_axis(axis={axis})")
    y = put(backend, host, dtype)
    rep = np.zeros((3, 2, 5), np.int64)  # row 0 of axis 1 written twice
    vals = sample(rng, dtype, (3, 2, 5))
    backend.put_along_axis(y, put(backend, rep), put(backend, vals, dtype), 1)
    ref = host.copy()
    ref[:, 0, :] = vals[:, 1, :]
    check_exact(backend, y, ref, dtype, "put_along_axis with a repeated index: last write wins")


@over_dtypes(ALL)
def test_nonzero(backend, dtype):
    """``nonzero`` gives one int64 array per dimension, in row-major order; -0.0 is zero and NaN
    is not; an all-zero input gives empty arrays."""
    require(backend, dtype)
    rng = rng_for("nonzero", dtype.name)
    host = sample(rng, dtype, (3, 4, 5), -1, 1)
    if dtype.is_floating_point:
        host[0, 0, 0], host[0, 0, 1], host[1, 1, 1] = -0.0, np.nan, 0.0
    for h in (host, host[0], np.zeros(4, np_dtype(dtype))):
        out = backend.nonzero(put(backend, h, dtype))
        ref = np.nonzero(h)
        assert isinstance(out, tuple) and len(out) == h.ndim, (
            f"{where_(backend, 'nonzero', dtype)}: expected a tuple of {h.ndim} arrays, got {out!r}"
        )
        for d, (o, r) in enumerate(zip(out, ref)):
            check_exact(backend, o, r.astype(np.int64), dt.int64,
                        f"nonzero of shape {h.shape}: indices of dim {d}", inputs=[h])
