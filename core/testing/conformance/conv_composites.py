"""Conformance of the convolution and pooling composites of ``Backend`` (``im2col``,
``col2im``, ``conv``, ``conv_input_grad``, ``conv_weight_grad``, ``max_pool``,
``max_pool_backward``, ``avg_pool``, ``avg_pool_backward``) against explicit NumPy loops in
float64, for 1-, 2- and 3-D windows with stride, uneven padding, dilation and groups.

As in ``composites``, each runs as the backend implements it and as ``Backend``'s default on
the backend's primitives.
"""
from __future__ import annotations

import itertools

import numpy as np

from flambeau import _dtype as dt

from .._reference import FLOATS, check_array, check_exact, np_dtype, put, require, rng_for, sample
from ._fixtures import composite, over_dtypes, over_impls

# x shape, kernel, stride, padding, dilation
CASES = [
    ((2, 4, 7), (3,), (2,), ((1, 1),), (1,)),
    ((1, 2, 9), (2,), (3,), ((0, 2),), (3,)),
    ((2, 2, 5, 6), (2, 3), (1, 2), ((1, 0), (2, 1)), (2, 1)),
    ((2, 4, 5, 5), (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1)),
    ((1, 1, 4, 4), (1, 1), (1, 1), ((0, 0), (0, 0)), (1, 1)),
    ((1, 2, 4, 5, 3), (2, 2, 2), (1, 2, 1), ((0, 1), (1, 1), (0, 0)), (1, 1, 2)),
]


def _case_name(case):
    shape, kernel, stride, padding, dilation = case
    return (f"x {shape}, kernel={kernel}, stride={stride}, padding={padding}, "
            f"dilation={dilation}")


def _out_size(size, kernel, stride, padding, dilation):
    return tuple((size[i] + sum(padding[i]) - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1
                 for i in range(len(kernel)))


def _im2col_ref(x, kernel, stride, padding, dilation, fill=0):
    """``(N, C, *kernel, *out)`` windows of ``x`` padded with ``fill``, by explicit loops."""
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(padding), constant_values=fill)
    out = _out_size(x.shape[2:], kernel, stride, padding, dilation)
    cols = np.zeros(x.shape[:2] + tuple(kernel) + out, x.dtype)
    for k in itertools.product(*(range(n) for n in kernel)):
        for o in itertools.product(*(range(n) for n in out)):
            src = tuple(o[i] * stride[i] + k[i] * dilation[i] for i in range(len(kernel)))
            cols[(slice(None), slice(None)) + k + o] = xp[(slice(None), slice(None)) + src]
    return cols


def _col2im_ref(cols, size, kernel, stride, padding, dilation):
    """Windows of ``cols`` summed back into ``(N, C, *size)`` by explicit loops (float64)."""
    nsp = len(kernel)
    out = cols.shape[2 + nsp:]
    padded = tuple(size[i] + sum(padding[i]) for i in range(nsp))
    x = np.zeros(cols.shape[:2] + padded, np.float64)
    for k in itertools.product(*(range(n) for n in kernel)):
        for o in itertools.product(*(range(n) for n in out)):
            dst = tuple(o[i] * stride[i] + k[i] * dilation[i] for i in range(nsp))
            x[(slice(None), slice(None)) + dst] += cols[(slice(None), slice(None)) + k + o]
    crop = tuple(slice(padding[i][0], padding[i][0] + size[i]) for i in range(nsp))
    return x[(slice(None), slice(None)) + crop]


@over_impls
@over_dtypes(FLOATS)
def test_im2col_col2im(backend, dtype, impl):
    """``im2col`` unfolds windows to ``(N, C, *kernel, *out)`` (zero padding); ``col2im``
    sums windows back into ``(N, C, *size)``, overlaps adding up."""
    require(backend, dtype)
    im2col, col2im = composite(backend, "im2col", impl), composite(backend, "col2im", impl)
    rng = rng_for("im2col", dtype.name)
    for case in CASES:
        shape, kernel, stride, padding, dilation = case
        x = sample(rng, dtype, shape)
        ref = _im2col_ref(x, kernel, stride, padding, dilation)
        cols = im2col(put(backend, x, dtype), kernel, stride, padding, dilation)
        check_exact(backend, cols, ref, dtype, f"{impl} im2col of {_case_name(case)}")
        c = sample(rng, dtype, ref.shape)
        back = col2im(put(backend, c, dtype), shape[2:], kernel, stride, padding, dilation)
        c64 = c.astype(np.float64)
        check_array(backend, back, _col2im_ref(c64, shape[2:], kernel, stride, padding, dilation),
                    dtype, f"{impl} col2im of {_case_name(case)}", tol=2,
                    scale=_col2im_ref(np.abs(c64), shape[2:], kernel, stride, padding, dilation))


def _conv_refs(x, w, b, g, case, groups):
    """Forward, input gradient and weight gradient of a grouped convolution, in float64."""
    shape, kernel, stride, padding, dilation = case
    n, c = shape[:2]
    o = w.shape[0]
    cols = _im2col_ref(x, kernel, stride, padding, dilation)
    out = cols.shape[2 + len(kernel):]
    kf, lf = int(np.prod(kernel)), int(np.prod(out))
    cm = cols.reshape(n, groups, c // groups, kf, lf)
    wm = w.reshape(groups, o // groups, c // groups, kf)
    gm = g.reshape(n, groups, o // groups, lf)
    y = np.einsum("ngckl,gock->ngol", cm, wm).reshape((n, o) + out)
    if b is not None:
        y = y + b.reshape((o,) + (1,) * len(kernel))
    dcols = np.einsum("gock,ngol->ngckl", wm, gm).reshape(cols.shape)
    dx = _col2im_ref(dcols, shape[2:], kernel, stride, padding, dilation)
    dw = np.einsum("ngol,ngckl->gock", gm, cm).reshape(w.shape)
    scale_y = np.einsum("ngckl,gock->ngol", np.abs(cm), np.abs(wm)).reshape((n, o) + out) + 1
    return y, dx, dw, scale_y


@over_impls
@over_dtypes(FLOATS)
def test_conv(backend, dtype, impl):
    """``conv`` (with bias or None, groups 1 and 2), ``conv_input_grad`` and
    ``conv_weight_grad`` (with and without the ``cache`` that ``conv`` fills) give the
    cross-correlation and its two adjoints."""
    require(backend, dtype)
    conv = composite(backend, "conv", impl)
    input_grad = composite(backend, "conv_input_grad", impl)
    weight_grad = composite(backend, "conv_weight_grad", impl)
    rng = rng_for("conv", dtype.name)
    tol = 3 if dtype is dt.float16 else 2
    for case in CASES:
        shape, kernel, stride, padding, dilation = case
        for groups in (1, 2):
            if shape[1] % groups:
                continue
            o = 2 * groups
            x = sample(rng, dtype, shape, -1, 1)
            w = sample(rng, dtype, (o, shape[1] // groups) + kernel, -1, 1)
            b = sample(rng, dtype, (o,), -1, 1) if groups == 1 else None
            what = f"{impl} conv of {_case_name(case)}, groups={groups}, bias={b is not None}"
            f64 = [None if a is None else a.astype(np.float64) for a in (x, w, b)]
            out_shape = (shape[0], o) + _out_size(shape[2:], kernel, stride, padding, dilation)
            g = sample(rng, dtype, out_shape, -1, 1)
            y, dx, dw, scale_y = _conv_refs(*f64, g.astype(np.float64), case, groups)
            xa, wa, ga = put(backend, x, dtype), put(backend, w, dtype), put(backend, g, dtype)
            ba = None if b is None else put(backend, b, dtype)
            for cache in (None, {}):
                out = conv(xa, wa, ba, stride, padding, dilation, groups, cache=cache)
                check_array(backend, out, y, dtype, what, scale=scale_y, tol=tol)
                gx = input_grad(ga, wa, shape[2:], stride, padding, dilation, groups, cache=cache)
                check_array(backend, gx, dx, dtype, f"{what}: conv_input_grad",
                            scale=np.abs(dx) + np.prod(kernel), tol=tol)
                gw = weight_grad(xa, ga, kernel, stride, padding, dilation, groups, cache=cache)
                check_array(backend, gw, dw, dtype,
                            f"{what}: conv_weight_grad (cache={'dict' if cache is not None else None})",
                            scale=np.abs(dw) + np.prod(out_shape) / o, tol=tol)


def _max_pool_ref(x, kernel, stride, padding, dilation):
    """Values and flat indices (into each unpadded plane) of the first maximum per window;
    NaN counts as the maximum."""
    nsp = len(kernel)
    size = x.shape[2:]
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    cols = _im2col_ref(x, kernel, stride, padding, dilation, fill).astype(np.float64)
    out = cols.shape[2 + nsp:]
    flat = cols.reshape(x.shape[:2] + (-1,) + out)
    arg = np.argmax(flat, axis=2)  # first maximum; NaN wins
    values = np.take_along_axis(flat, arg[:, :, None], 2)[:, :, 0]
    offsets = list(itertools.product(*(range(k) for k in kernel)))
    index = np.zeros(arg.shape, np.int64)
    for pos in np.ndindex(*arg.shape):
        k = offsets[arg[pos]]
        o = pos[2:]
        coord = [o[i] * stride[i] - padding[i][0] + k[i] * dilation[i] for i in range(nsp)]
        index[pos] = np.ravel_multi_index(coord, size)
    return values, index


@over_impls
@over_dtypes(FLOATS + (dt.int32,))
def test_max_pool(backend, dtype, impl):
    """``max_pool`` gives the first maximum of each window (NaN counts as the maximum; padding
    never wins) and its flat index in the unpadded plane; ``max_pool_backward`` adds gradients
    at those indices (overlapping windows sum)."""
    require(backend, dtype)
    max_pool = composite(backend, "max_pool", impl)
    backward = composite(backend, "max_pool_backward", impl)
    rng = rng_for("max_pool", dtype.name)
    for case in CASES:
        shape, kernel, stride, padding, dilation = case
        if any(max(p) > k // 2 for p, k in zip(padding, kernel)):
            continue  # PyTorch's rule: padding at most half the kernel
        x = sample(rng, dtype, shape, -3, 3)
        if dtype.is_floating_point:
            x.flat[::7] = x.flat[1]  # ties
            x.flat[5] = np.nan
        else:
            x = (x // 2).astype(x.dtype)  # ties
        values, index = max_pool(put(backend, x, dtype), kernel, stride, padding, dilation)
        ref_v, ref_i = _max_pool_ref(x, kernel, stride, padding, dilation)
        what = f"{impl} max_pool of {_case_name(case)}"
        check_exact(backend, values, ref_v.astype(np_dtype(dtype)), dtype, what + " values")
        check_exact(backend, index, ref_i, dt.int64, what + " indices")
        if not dtype.is_floating_point:
            continue
        g = sample(rng, dtype, ref_i.shape, -1, 1)
        gx = backward(put(backend, g, dtype), put(backend, ref_i), shape[2:])
        ref = np.zeros(shape[:2] + (int(np.prod(shape[2:])),))
        n, c = np.indices(shape[:2])
        for pos in np.ndindex(*ref_i.shape[2:]):
            np.add.at(ref, (n, c, ref_i[(slice(None), slice(None)) + pos]),
                      g[(slice(None), slice(None)) + pos].astype(np.float64))
        check_array(backend, gx, ref.reshape(shape), dtype, f"{impl} max_pool_backward of "
                    f"{_case_name(case)}", scale=np.abs(ref.reshape(shape)) + 1, tol=2)


@over_impls
@over_dtypes(FLOATS)
def test_avg_pool(backend, dtype, impl):
    """``avg_pool`` divides each zero-padded window's sum by ``divisor`` (a number or an array
    broadcastable to the output); ``avg_pool_backward`` spreads ``grad / divisor`` back."""
    require(backend, dtype)
    avg_pool = composite(backend, "avg_pool", impl)
    backward = composite(backend, "avg_pool_backward", impl)
    rng = rng_for("avg_pool", dtype.name)
    for case in CASES:
        shape, kernel, stride, padding, _ = case
        nsp = len(kernel)
        dil = (1,) * nsp
        x = sample(rng, dtype, shape, -3, 3)
        cols = _im2col_ref(x.astype(np.float64), kernel, stride, padding, dil)
        sums = cols.sum(axis=tuple(range(2, 2 + nsp)))
        out = sums.shape[2:]
        per_window = sample(rng, dtype, (1, 1) + out, 1, 4)  # like count_include_pad=False
        for divisor in (float(np.prod(kernel)), per_window):
            d64 = np.asarray(divisor, np.float64)
            dn = put(backend, divisor, dtype) if isinstance(divisor, np.ndarray) else divisor
            kind = "array" if isinstance(divisor, np.ndarray) else divisor
            what = f"{impl} avg_pool of {_case_name(case)}, divisor={kind}"
            scale = np.abs(cols).sum(axis=tuple(range(2, 2 + nsp))) / d64 + 1
            check_array(backend, avg_pool(put(backend, x, dtype), kernel, stride, padding, dn),
                        sums / d64, dtype, what, scale=scale, tol=2)
            g = sample(rng, dtype, shape[:2] + out, -1, 1)
            spread = np.broadcast_to((g / d64).reshape(shape[:2] + (1,) * nsp + out),
                                     shape[:2] + tuple(kernel) + out)
            ref = _col2im_ref(spread, shape[2:], kernel, stride, padding, dil)
            gx = backward(put(backend, g, dtype), shape[2:], kernel, stride, padding, dn)
            check_array(backend, gx, ref, dtype, what.replace("avg_pool", "avg_pool_backward"),
                        scale=np.abs(ref) + 1, tol=2)
