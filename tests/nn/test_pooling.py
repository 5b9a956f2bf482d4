"""Pooling and resampling (max/avg/adaptive pooling, interpolate, pixel_shuffle) and their layers:
forward and indices against float64 NumPy loop references that follow PyTorch's index formulas,
values PyTorch gives, gradients by finite differences, error messages and reprs."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from helpers import assert_close, to_numpy

import flambeau
import flambeau.nn.functional as F
from flambeau import nn
from flambeau.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(777)


def t(a, requires_grad=False, dtype=None):
    a = np.asarray(a)
    return flambeau.tensor(a if dtype is None else a.astype(dtype), requires_grad=requires_grad)


def rand(*shape):
    return RNG.standard_normal(shape)


def tup(v, n):
    return (v,) * n if isinstance(v, int) else tuple(v)


# =============================================================================
# float64 NumPy references (loops over output positions, PyTorch's formulas)
# =============================================================================


def pool_out(size, k, s, p, d, ceil):
    num = size + 2 * p - d * (k - 1) - 1
    out = (-(-num // s) if ceil else num // s) + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


def np_max_pool(x, k, s=None, p=0, d=1, ceil=False):
    nsp = x.ndim - 2
    k, p, d = tup(k, nsp), tup(p, nsp), tup(d, nsp)
    s = k if s is None else tup(s, nsp)
    size = x.shape[2:]
    out = [pool_out(size[i], k[i], s[i], p[i], d[i], ceil) for i in range(nsp)]
    vals = np.zeros(x.shape[:2] + tuple(out))
    idx = np.zeros(x.shape[:2] + tuple(out), dtype=np.int64)
    for n, c in itertools.product(range(x.shape[0]), range(x.shape[1])):
        for pos in itertools.product(*(range(o) for o in out)):
            best, best_i = -np.inf, None
            for kk in itertools.product(*(range(v) for v in k)):
                at = [pos[i] * s[i] - p[i] + kk[i] * d[i] for i in range(nsp)]
                if any(a < 0 or a >= size[i] for i, a in enumerate(at)):
                    continue
                v = x[(n, c) + tuple(at)]
                if best_i is None or v > best or np.isnan(v):  # PyTorch: the last NaN wins
                    best, best_i = v, int(np.ravel_multi_index(at, size))
            vals[(n, c) + pos], idx[(n, c) + pos] = best, best_i
    return vals, idx


def np_avg_pool(x, k, s=None, p=0, ceil=False, count_include_pad=True, divisor_override=None):
    nsp = x.ndim - 2
    k, p = tup(k, nsp), tup(p, nsp)
    s = k if s is None else tup(s, nsp)
    size = x.shape[2:]
    out = [pool_out(size[i], k[i], s[i], p[i], 1, ceil) for i in range(nsp)]
    y = np.zeros(x.shape[:2] + tuple(out))
    for pos in itertools.product(*(range(o) for o in out)):
        start = [pos[i] * s[i] - p[i] for i in range(nsp)]
        end = [min(start[i] + k[i], size[i] + p[i]) for i in range(nsp)]
        pool = math.prod(end[i] - start[i] for i in range(nsp))
        start = [max(v, 0) for v in start]
        end = [min(end[i], size[i]) for i in range(nsp)]
        win = x[(slice(None), slice(None)) + tuple(slice(start[i], end[i]) for i in range(nsp))]
        div = divisor_override or (pool if count_include_pad else
                                   math.prod(end[i] - start[i] for i in range(nsp)))
        y[(slice(None), slice(None)) + pos] = win.sum(tuple(range(2, 2 + nsp))) / div
    return y


def adaptive_window(o, insize, outsize):
    return (o * insize) // outsize, math.ceil((o + 1) * insize / outsize)


def np_adaptive(x, out, op):
    nsp = x.ndim - 2
    size = x.shape[2:]
    out = [size[i] if out[i] is None else out[i] for i in range(nsp)]
    y = np.zeros(x.shape[:2] + tuple(out))
    idx = np.zeros(x.shape[:2] + tuple(out), dtype=np.int64)
    for pos in itertools.product(*(range(o) for o in out)):
        win = [adaptive_window(pos[i], size[i], out[i]) for i in range(nsp)]
        sl = (slice(None), slice(None)) + tuple(slice(a, b) for a, b in win)
        part = x[sl]
        if op == "avg":
            y[(slice(None), slice(None)) + pos] = part.mean(tuple(range(2, 2 + nsp)))
        else:
            flat = part.reshape(part.shape[:2] + (-1,))
            arg = flat.argmax(-1)
            y[(slice(None), slice(None)) + pos] = flat.max(-1)
            local = np.unravel_index(arg, part.shape[2:])
            glob = tuple(local[i] + win[i][0] for i in range(nsp))
            idx[(slice(None), slice(None)) + pos] = np.ravel_multi_index(glob, size)
    return y, idx


def np_linear_weights(insize, outsize, align_corners, scale=None):
    """(Out, In) float64 linear-interpolation matrix from PyTorch's source-index formula."""
    m = np.zeros((outsize, insize))
    for o in range(outsize):
        if outsize == insize:
            m[o, o] = 1
            continue
        if align_corners:
            src = o * (insize - 1) / (outsize - 1) if outsize > 1 else 0.0
        else:
            ratio = 1 / scale if scale else insize / outsize
            src = max((o + 0.5) * ratio - 0.5, 0.0)
        i0 = min(int(math.floor(src)), insize - 1)
        i1 = i0 + (1 if i0 < insize - 1 else 0)
        l1 = min(max(src - i0, 0.0), 1.0)
        m[o, i0] += 1 - l1
        m[o, i1] += l1
    return m


def np_nearest_index(insize, outsize, scale=None):
    """PyTorch's legacy 'nearest': src = min(floor(dst * scale), in - 1) in float32."""
    if outsize == insize:
        return np.arange(outsize)
    if outsize == 2 * insize:
        return np.arange(outsize) // 2
    ratio = np.float32(1 / scale) if scale else np.float32(insize) / np.float32(outsize)
    return np.minimum(np.floor(np.arange(outsize, dtype=np.float32) * ratio).astype(int), insize - 1)


# =============================================================================
# max pooling
# =============================================================================

MAXPOOL = [
    ((2, 3, 8, 8), dict(kernel_size=2)),
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((1, 2, 9, 7), dict(kernel_size=(3, 2), stride=(2, 3), padding=1, dilation=(2, 1),
                        ceil_mode=True)),
    ((2, 2, 5, 5), dict(kernel_size=3, stride=1, padding=1, dilation=2)),
    ((3, 6, 6), dict(kernel_size=2, stride=1, ceil_mode=True)),  # unbatched
    ((2, 3, 10, 10), dict(kernel_size=3, stride=3, padding=1, ceil_mode=True)),
]


@pytest.mark.parametrize("shape,kw", MAXPOOL, ids=[str(c) for c in MAXPOOL])
def test_max_pool2d_values_and_indices(shape, kw):
    x = rand(*shape)
    xb = x if x.ndim == 4 else x[None]
    ref, ref_idx = np_max_pool(xb, kw["kernel_size"], kw.get("stride"), kw.get("padding", 0),
                               kw.get("dilation", 1), kw.get("ceil_mode", False))
    if x.ndim == 3:
        ref, ref_idx = ref[0], ref_idx[0]
    out, idx = F.max_pool2d(t(x), **kw, return_indices=True)
    assert_close(out, ref, rtol=0, atol=0)
    assert idx.dtype is flambeau.int64
    np.testing.assert_array_equal(to_numpy(idx), ref_idx)
    assert_close(F.max_pool2d(t(x, dtype=np.float32), **kw), ref.astype(np.float32), rtol=0, atol=0)


def test_max_pool1d_and_3d():
    x = rand(2, 3, 11)
    ref, ridx = np_max_pool(x, 3, 2, 1, 2, True)
    out, idx = F.max_pool1d(t(x), 3, 2, 1, 2, ceil_mode=True, return_indices=True)
    assert_close(out, ref, rtol=0, atol=0)
    np.testing.assert_array_equal(to_numpy(idx), ridx)
    x = rand(1, 2, 4, 5, 6)
    ref, ridx = np_max_pool(x, 2, (1, 2, 2), 1, 1, True)
    out, idx = F.max_pool3d(t(x), 2, (1, 2, 2), 1, ceil_mode=True, return_indices=True)
    assert_close(out, ref, rtol=0, atol=0)
    np.testing.assert_array_equal(to_numpy(idx), ridx)


def test_max_pool_nan_ties_and_integers():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan  # two NaNs in the first window: the last one wins
    x[0, 0, 2:, 2:] = 5.0  # a tie: the first maximum wins
    out, idx = F.max_pool2d(t(x), 2, return_indices=True)
    assert np.isnan(to_numpy(out)[0, 0, 0, 0])
    assert to_numpy(idx)[0, 0].tolist() == [[4, 2], [8, 10]]
    xi = flambeau.arange(16).reshape(1, 1, 4, 4)
    assert F.max_pool2d(xi, 2).tolist() == [[[[5, 7], [13, 15]]]]


def test_max_pool_gradient_goes_to_the_argmax():
    x = rand(2, 2, 7, 7)
    xt = t(x, requires_grad=True)
    g = rand(2, 2, 4, 4)
    F.max_pool2d(xt, 3, 2, 1, ceil_mode=False).backward(t(g))  # overlapping windows accumulate
    _, idx = np_max_pool(x, 3, 2, 1, 1, False)
    ref = np.zeros((2, 2, 49))
    for n, c in itertools.product(range(2), range(2)):
        np.add.at(ref[n, c], idx[n, c].ravel(), g[n, c].ravel())
    assert_close(xt.grad, ref.reshape(x.shape), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fn,shape", [
    (lambda x: F.max_pool2d(x, 3, 2, 1), (1, 2, 5, 5)),
    (lambda x: F.max_pool2d(x, (2, 3), (1, 2), ceil_mode=True), (2, 1, 4, 5)),
    (lambda x: F.max_pool1d(x, 2, dilation=2), (2, 2, 6)),
    (lambda x: F.adaptive_max_pool2d(x, (2, 3)), (1, 2, 5, 7)),
])
def test_max_pool_gradcheck(fn, shape):
    x = t(RNG.permutation(math.prod(shape)).reshape(shape) / 7.0, requires_grad=True)  # no ties
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


# =============================================================================
# average pooling
# =============================================================================

AVGPOOL = [
    ((2, 3, 8, 8), dict(kernel_size=2)),
    ((2, 3, 9, 8), dict(kernel_size=3, stride=2, padding=1)),
    ((2, 3, 9, 8), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ((2, 3, 9, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((2, 3, 9, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                        count_include_pad=False)),
    ((1, 2, 7, 6), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), divisor_override=4)),
    ((3, 5, 5), dict(kernel_size=2, stride=3, ceil_mode=True)),  # unbatched, uncovered border
]


@pytest.mark.parametrize("shape,kw", AVGPOOL, ids=[str(c[1]) for c in AVGPOOL])
def test_avg_pool2d(shape, kw):
    x = rand(*shape)
    xb = x if x.ndim == 4 else x[None]
    ref = np_avg_pool(xb, kw["kernel_size"], kw.get("stride"), kw.get("padding", 0),
                      kw.get("ceil_mode", False), kw.get("count_include_pad", True),
                      kw.get("divisor_override"))
    ref = ref if x.ndim == 4 else ref[0]
    assert_close(F.avg_pool2d(t(x), **kw), ref, rtol=1e-12, atol=1e-12)
    assert_close(F.avg_pool2d(t(x, dtype=np.float32), **kw), ref, rtol=1e-5, atol=1e-6)


def test_avg_pool1d_and_3d():
    x = rand(2, 3, 10)
    assert_close(F.avg_pool1d(t(x), 3, 2, 1, ceil_mode=True, count_include_pad=False),
                 np_avg_pool(x, 3, 2, 1, True, False), rtol=1e-12)
    x = rand(1, 2, 4, 5, 6)
    assert_close(F.avg_pool3d(t(x), 2, (1, 2, 2), 1, ceil_mode=True, count_include_pad=False),
                 np_avg_pool(x, 2, (1, 2, 2), 1, True, False), rtol=1e-12)


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1,
                                                            ceil_mode=True, count_include_pad=False)])
def test_avg_pool_gradcheck(kw):
    x = t(rand(1, 2, 5, 4), requires_grad=True)
    assert gradcheck(lambda x: F.avg_pool2d(x, **kw), (x,))
    assert gradgradcheck(lambda x: F.avg_pool2d(x, **kw) ** 2, (x,))


# =============================================================================
# adaptive pooling
# =============================================================================

ADAPTIVE = [((2, 3, 8, 8), (3, 5)), ((2, 3, 10, 7), (4, None)), ((2, 3, 8, 8), 1),
            ((2, 3, 8, 8), (4, 2)), ((3, 9, 6), (5, 4)), ((1, 2, 7, 7), (7, 3)),
            ((1, 1, 3, 2), (5, 4))]  # output larger than input: overlapping windows


@pytest.mark.parametrize("shape,out", ADAPTIVE, ids=[str(c) for c in ADAPTIVE])
def test_adaptive_pool2d(shape, out):
    x = rand(*shape)
    xb = x if x.ndim == 4 else x[None]
    outs = (out, out) if isinstance(out, int) else out
    ref_avg, _ = np_adaptive(xb, outs, "avg")
    ref_max, ref_idx = np_adaptive(xb, outs, "max")
    if x.ndim == 3:
        ref_avg, ref_max, ref_idx = ref_avg[0], ref_max[0], ref_idx[0]
    assert_close(F.adaptive_avg_pool2d(t(x), out), ref_avg, rtol=1e-12, atol=1e-12)
    vals, idx = F.adaptive_max_pool2d(t(x), out, return_indices=True)
    assert_close(vals, ref_max, rtol=0, atol=0)
    np.testing.assert_array_equal(to_numpy(idx), ref_idx)


def test_adaptive_pool1d_3d_and_gradients():
    x = rand(2, 3, 10)
    for o in (3, 4, 10, 13):
        assert_close(F.adaptive_avg_pool1d(t(x), o), np_adaptive(x, (o,), "avg")[0], rtol=1e-12)
        assert_close(F.adaptive_max_pool1d(t(x), o), np_adaptive(x, (o,), "max")[0], rtol=0)
    x = rand(1, 2, 4, 5, 6)
    assert_close(F.adaptive_avg_pool3d(t(x), (2, 3, 4)), np_adaptive(x, (2, 3, 4), "avg")[0],
                 rtol=1e-12)
    xt = t(rand(1, 2, 5, 7), requires_grad=True)
    assert gradcheck(lambda x: F.adaptive_avg_pool2d(x, (3, 4)), (xt,))
    assert gradgradcheck(lambda x: F.adaptive_avg_pool2d(x, (3, 4)) ** 2, (xt,))


# =============================================================================
# interpolate
# =============================================================================


@pytest.mark.parametrize("insize,outsize,scale", [(5, 3, None), (5, 12, None), (5, 6, 1.3),
                                                  (7, 3, 0.5), (4, 8, None), (3, 3, None),
                                                  (6, 13, 2.2), (8, 2, 1 / 3)])
def test_interpolate_nearest_indices(insize, outsize, scale):
    x = np.arange(float(insize)).reshape(1, 1, insize) + 0.5
    kw = dict(scale_factor=scale) if scale else dict(size=outsize)
    out = F.interpolate(t(x), **kw)
    assert out.shape == (1, 1, outsize)
    assert to_numpy(out)[0, 0].tolist() == (x[0, 0][np_nearest_index(insize, outsize, scale)]).tolist()


def test_interpolate_values_pytorch_gives():
    x = flambeau.arange(5.0).reshape(1, 1, 5)
    assert F.interpolate(x, scale_factor=1.3).tolist() == [[[0.0, 0.0, 1.0, 2.0, 3.0, 3.0]]]
    assert F.interpolate(x, scale_factor=1.3, mode="nearest-exact").tolist() == \
        [[[0.0, 1.0, 1.0, 2.0, 3.0, 4.0]]]
    assert F.interpolate(x, size=3).tolist() == [[[0.0, 1.0, 3.0]]]
    assert F.interpolate(x, scale_factor=2.4).tolist() == \
        [[[0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0]]]
    x = flambeau.arange(4.0).reshape(1, 1, 4)
    lin = [0.0, 0.3571428954601288, 0.9285714626312256, 1.5000001192092896, 2.0714287757873535,
           2.642857313156128, 3.0]  # float32 values from PyTorch, to the last bit
    assert F.interpolate(x, size=7, mode="linear").tolist()[0][0] == lin
    assert F.interpolate(x, size=7, mode="linear", align_corners=True).tolist()[0][0] == \
        [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    assert F.interpolate(x, scale_factor=1.5, mode="linear").tolist()[0][0] == \
        [0.0, 0.5, 1.1666667461395264, 1.8333333730697632, 2.5, 3.0]
    x = flambeau.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    assert F.interpolate(x, scale_factor=2, mode="bilinear").tolist() == \
        [[[[1.0, 1.25, 1.75, 2.0], [1.5, 1.75, 2.25, 2.5], [2.5, 2.75, 3.25, 3.5],
           [3.0, 3.25, 3.75, 4.0]]]]
    assert F.interpolate(x, size=(3, 3), mode="bilinear", align_corners=True).tolist() == \
        [[[[1.0, 1.5, 2.0], [2.0, 2.5, 3.0], [3.0, 3.5, 4.0]]]]


@pytest.mark.parametrize("size,scale,ac", [((7, 4), None, False), ((7, 4), None, True),
                                           (None, (1.5, 2.5), False), (None, 0.6, False),
                                           ((1, 9), None, True), ((5, 6), None, False)])
def test_interpolate_bilinear_reference(size, scale, ac):
    x = rand(2, 3, 5, 6)
    out = F.interpolate(t(x), size=size, scale_factor=scale, mode="bilinear", align_corners=ac)
    if size is None:
        sc = (scale, scale) if isinstance(scale, float) else scale
        size = (int(5 * sc[0]), int(6 * sc[1]))
    else:
        sc = (None, None)
    mh = np_linear_weights(5, size[0], ac, sc[0])
    mw = np_linear_weights(6, size[1], ac, sc[1])
    assert_close(out, np.einsum("oh,nchw,pw->ncop", mh, x, mw), rtol=1e-12, atol=1e-12)


def test_interpolate_bicubic_values_pytorch_gives():
    x = flambeau.arange(12.0, dtype=flambeau.float64).reshape(1, 1, 3, 4) ** 2
    assert_close(F.interpolate(x, size=(2, 5), mode="bicubic"),
                 [[[[1.7837265625000003, 3.2629609375000017, 6.359375, 11.321789062499999,
                     15.92802343750001], [52.74777343750002, 62.91453906249998, 77.515625,
                                          93.98271093749999, 107.27647656250008]]]],
                 rtol=1e-13, atol=1e-13)
    assert_close(F.interpolate(x, size=(2, 5), mode="bicubic", align_corners=True),
                 [[[[0.0, 0.45703125, 2.125, 5.44921875, 9.0],
                    [64.0, 75.14453125, 90.125, 106.76171875, 121.0]]]], rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("mode,ac", [("nearest", None), ("bilinear", False), ("bilinear", True),
                                     ("nearest-exact", None), ("area", None), ("bicubic", False)])
def test_interpolate_gradcheck(mode, ac):
    x = t(rand(1, 2, 4, 5), requires_grad=True)
    fn = lambda x: F.interpolate(x, size=(7, 3), mode=mode, align_corners=ac)  # noqa: E731
    assert gradcheck(fn, (x,))
    if mode == "bilinear":
        assert gradgradcheck(lambda x: fn(x) ** 2, (x,))


def test_interpolate_other_dims_and_modes():
    x = rand(2, 3, 7)
    out = F.interpolate(t(x), size=11, mode="linear", align_corners=True)
    assert_close(out, x @ np_linear_weights(7, 11, True).T, rtol=1e-12, atol=1e-12)
    x = rand(1, 2, 3, 4, 5)
    out = F.interpolate(t(x), scale_factor=2, mode="trilinear")
    ref = np.einsum("ad,ncdhw,bh,ew->ncabe", np_linear_weights(3, 6, False, 2.0), x,
                    np_linear_weights(4, 8, False, 2.0), np_linear_weights(5, 10, False, 2.0))
    assert_close(out, ref, rtol=1e-12, atol=1e-12)
    near = F.interpolate(t(x), size=(4, 4, 7))
    ref = x[:, :, np_nearest_index(3, 4)][:, :, :, np_nearest_index(4, 4)][..., np_nearest_index(5, 7)]
    assert_close(near, ref, rtol=0, atol=0)
    x = rand(1, 1, 6, 6)
    assert_close(F.interpolate(t(x), size=(4, 3), mode="area"), np_adaptive(x, (4, 3), "avg")[0],
                 rtol=1e-12)


INTERP_ERRORS = [
    (ValueError, dict(), "either size or scale_factor should be defined"),
    (ValueError, dict(size=4, scale_factor=2), "only one of size or scale_factor should be defined"),
    (ValueError, dict(size=4, align_corners=True),
     "align_corners option can only be set with the interpolating modes"),
    (ValueError, dict(size=(4, 5, 6)),
     r"Input and output must have the same number of spatial dimensions, but got input with "
     r"spatial dimensions of \[8, 8\] and output size of \(4, 5, 6\)"),
    (NotImplementedError, dict(size=4, mode="linear"), "Got 4D input, but linear mode needs 3D input"),
    (NotImplementedError, dict(size=4, mode="cubic"), "Input Error"),
    (ValueError, dict(size=4, recompute_scale_factor=True),
     "recompute_scale_factor is not meaningful with an explicit size"),
    (RuntimeError, dict(scale_factor=0.1),
     r"Input and output sizes should be greater than 0, but got input \(H: 8, W: 8\) output "
     r"\(H: 0, W: 0\)"),
]


@pytest.mark.parametrize("exc,kw,match", INTERP_ERRORS, ids=range(len(INTERP_ERRORS)))
def test_interpolate_errors(exc, kw, match):
    with pytest.raises(exc, match=match):
        F.interpolate(flambeau.ones(1, 2, 8, 8), **kw)


# =============================================================================
# pixel shuffle
# =============================================================================


def test_pixel_shuffle_round_trip():
    x = rand(2, 8, 3, 4)
    y = F.pixel_shuffle(t(x), 2)
    ref = x.reshape(2, 2, 2, 2, 3, 4).transpose(0, 1, 4, 2, 5, 3).reshape(2, 2, 6, 8)
    assert_close(y, ref, rtol=0, atol=0)
    assert_close(F.pixel_unshuffle(y, 2), x, rtol=0, atol=0)
    with pytest.raises(RuntimeError, match=r"input.size\(-3\)=3 is not divisible by 4"):
        F.pixel_shuffle(flambeau.ones(1, 3, 2, 2), 2)


# =============================================================================
# max unpooling, power-average pooling
# =============================================================================


def test_max_unpool():
    x = rand(2, 3, 7, 6)
    vals, idx = F.max_pool2d(t(x), 3, 2, 1, return_indices=True)
    out = F.max_unpool2d(vals, idx, 3, 2, 1, output_size=(7, 6))
    ref = np.zeros((2, 3, 42))
    v, i = np_max_pool(x, 3, 2, 1)
    for n, c in itertools.product(range(2), range(3)):
        ref[n, c, i[n, c].ravel()] = v[n, c].ravel()  # overlapping windows: last write wins
    assert_close(out, ref.reshape(x.shape), rtol=0, atol=0)
    v1, i1 = F.max_pool1d(flambeau.arange(6.0).reshape(1, 1, 6), 2, return_indices=True)
    assert F.max_unpool1d(v1, i1, 2).tolist() == [[[0.0, 1.0, 0.0, 3.0, 0.0, 5.0]]]
    # the gradient gathers at the indices (as PyTorch; exact when the indices are distinct)
    v2, i2 = F.max_pool2d(t(x), 2, return_indices=True)
    vt = t(to_numpy(v2), requires_grad=True)
    assert gradcheck(lambda v: F.max_unpool2d(v, i2, 2, output_size=(7, 6)), (vt,))
    with pytest.raises(RuntimeError, match=r"Found an invalid max index: \d+ \(output volumes are "
                                           r"of size 6x5\)"):
        F.max_unpool2d(vals, idx, 3, 2, 1, output_size=(6, 5))
    with pytest.raises(ValueError, match=r"invalid output_size \"\(12, 12\)\" \(dim 0 must be "
                                         r"between 5 and 9\)"):
        F.max_unpool2d(vals, idx, 3, 2, 1, output_size=(12, 12))
    m = nn.MaxUnpool2d(3, 2, 1)
    assert repr(m) == "MaxUnpool2d(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))"
    assert m(vals, idx, output_size=(7, 6)).shape == (2, 3, 7, 6)


def test_lp_pool():
    # values PyTorch gives (a negative window sum of x^p gives NaN for p = 1)
    x = flambeau.arange(16.0).reshape(1, 1, 4, 4) - 5
    assert_close(F.lp_pool2d(x, 2, 2), [[[[6.480741024017334, 4.242640495300293],
                                            [11.747340202331543, 15.55634880065918]]]], rtol=1e-6)
    out = F.lp_pool1d(flambeau.arange(6.0).reshape(1, 1, 6) - 2, 3, 2)
    assert np.isnan(to_numpy(out)[0, 0, 0])
    assert_close(out[..., 1:], [[[1.0, 3.271066427230835]]], rtol=1e-6)
    xa = rand(1, 2, 5, 5)
    ref = (np_avg_pool(np.abs(xa) ** 3, 2, 1) * 4) ** (1 / 3)
    assert_close(F.lp_pool2d(t(np.abs(xa)), 3, 2, stride=1), ref, rtol=1e-12)
    xg = t(np.abs(rand(1, 1, 4, 4)) + 0.5, requires_grad=True)
    assert gradcheck(lambda x: F.lp_pool2d(x, 3, 2, ceil_mode=True), (xg,))
    assert repr(nn.LPPool2d(2, 3)) == "LPPool2d(norm_type=2, kernel_size=3, stride=None, ceil_mode=False)"


# =============================================================================
# errors
# =============================================================================

POOL_ERRORS = [
    (lambda: F.max_pool2d(flambeau.ones(2, 3, 8, 8), 3, padding=2),
     "pad should be at most half of effective kernel size, but got pad=2, kernel_size=3 and "
     "dilation=1"),
    (lambda: F.avg_pool2d(flambeau.ones(2, 3, 8, 8), 3, padding=2),
     "pad should be at most half of effective kernel size"),
    (lambda: F.max_pool2d(flambeau.ones(2, 3, 8, 8), 9),
     r"Given input size: \(3x8x8\). Calculated output size: \(3x0x0\). Output size is too small"),
    (lambda: F.avg_pool1d(flambeau.ones(2, 3, 4), 5), r"Given input size: \(3x4\)"),
    (lambda: F.max_pool2d(flambeau.ones(3), 2), "non-empty 3D or 4D"),
    (lambda: F.max_pool2d(flambeau.ones(1, 3, 8, 8), 2, stride=0),
     "stride should be greater than zero"),
    (lambda: F.max_pool2d(flambeau.ones(1, 3, 8, 8), (2, 2, 2)),
     "kernel_size must either be a single int, or a tuple of two ints"),
    (lambda: F.avg_pool2d(flambeau.ones(1, 3, 8, 8), 2, divisor_override=0),
     "divisor must be not zero"),
    (lambda: F.adaptive_avg_pool2d(flambeau.ones(3), 3), r"Expected 3D or 4D tensor"),
    (lambda: F.adaptive_avg_pool1d(flambeau.ones(1, 2, 3, 4), 3),
     "Expected 2 to 3 dimensions, but got 4-dimensional tensor"),
]


@pytest.mark.parametrize("fn,match", POOL_ERRORS, ids=range(len(POOL_ERRORS)))
def test_pool_errors(fn, match):
    with pytest.raises(RuntimeError, match=match):
        fn()


# =============================================================================
# layers
# =============================================================================

REPRS = [
    (nn.MaxPool2d(2), "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"),
    (nn.MaxPool1d(3, 2, 1, ceil_mode=True),
     "MaxPool1d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True)"),
    (nn.AvgPool1d(2), "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))"),
    (nn.AvgPool2d(3, 2, 1), "AvgPool2d(kernel_size=3, stride=2, padding=1)"),
    (nn.AdaptiveAvgPool2d((None, 3)), "AdaptiveAvgPool2d(output_size=(None, 3))"),
    (nn.AdaptiveMaxPool2d(2), "AdaptiveMaxPool2d(output_size=2)"),
    (nn.Upsample(size=(4, 5)), "Upsample(size=(4, 5), mode='nearest')"),
    (nn.Upsample(scale_factor=2, mode="bilinear"), "Upsample(scale_factor=2.0, mode='bilinear')"),
    (nn.UpsamplingBilinear2d(scale_factor=2),
     "UpsamplingBilinear2d(scale_factor=2.0, mode='bilinear')"),
    (nn.PixelShuffle(3), "PixelShuffle(upscale_factor=3)"),
    (nn.Unfold(2, padding=1), "Unfold(kernel_size=2, dilation=1, padding=1, stride=1)"),
]


@pytest.mark.parametrize("m,expected", REPRS, ids=[r[1].split("(")[0] for r in REPRS])
def test_pool_layer_repr(m, expected):
    assert repr(m) == expected
    assert list(m.state_dict()) == []


def test_pool_layers_forward():
    x = rand(2, 3, 8, 8)
    assert_close(nn.MaxPool2d(2)(t(x)), np_max_pool(x, 2)[0], rtol=0)
    vals, idx = nn.MaxPool2d(3, 2, 1, return_indices=True)(t(x))
    np.testing.assert_array_equal(to_numpy(idx), np_max_pool(x, 3, 2, 1)[1])
    assert_close(nn.AvgPool2d(3, 2, 1, count_include_pad=False)(t(x)),
                 np_avg_pool(x, 3, 2, 1, False, False), rtol=1e-12)
    assert_close(nn.AvgPool1d(3, 2)(t(x[:, :, 0])), np_avg_pool(x[:, :, 0], 3, 2), rtol=1e-12)
    assert nn.AdaptiveAvgPool2d((None, 3))(t(x)).shape == (2, 3, 8, 3)
    assert nn.AdaptiveAvgPool2d(1)(t(x)).shape == (2, 3, 1, 1)
    v, i = nn.AdaptiveMaxPool2d(3, return_indices=True)(t(x))
    np.testing.assert_array_equal(to_numpy(i), np_adaptive(x, (3, 3), "max")[1])
    assert nn.Upsample(scale_factor=2)(t(x)).shape == (2, 3, 16, 16)
    assert_close(nn.UpsamplingBilinear2d(size=(5, 9))(t(x)),
                 np.einsum("oh,nchw,pw->ncop", np_linear_weights(8, 5, True), x,
                           np_linear_weights(8, 9, True)), rtol=1e-12, atol=1e-12)
    assert nn.PixelUnshuffle(2)(nn.PixelShuffle(2)(t(np.tile(x[:, :2], (1, 2, 1, 1))))).shape == \
        (2, 4, 8, 8)
    cols = nn.Unfold(3, padding=1)(t(x))
    assert cols.shape == (2, 27, 64)
    assert nn.Fold((8, 8), 3, padding=1)(cols).shape == (2, 3, 8, 8)


def test_digits_cnn_feature_shapes_and_backward():
    """The main job's feature extractor: shapes, and gradients reaching the first conv."""
    feats = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d((2, 2)), nn.Flatten(),
    )
    x = t(rand(8, 1, 8, 8), dtype=np.float32)
    out = feats(x)
    assert out.shape == (8, 128)
    out.sum().backward()
    assert feats[0].weight.grad.shape == (16, 1, 3, 3)
    assert np.isfinite(to_numpy(feats[0].weight.grad)).all()
