"""Convolutions (conv1d/2d/3d, conv_transpose, unfold/fold) and the Conv layers: forward against
float64 NumPy loop references, gradients by finite differences (first and second order), shape
rules and error messages, and PyTorch's reprs, parameter shapes and initialisation."""
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

RNG = np.random.default_rng(20240)


def t(a, requires_grad=False, dtype=None):
    a = np.asarray(a)
    return flambeau.tensor(a if dtype is None else a.astype(dtype), requires_grad=requires_grad)


def rand(*shape):
    return RNG.standard_normal(shape)


# =============================================================================
# float64 NumPy references: plain loops over output positions
# =============================================================================


def np_conv(x, w, b=None, stride=1, pads=0, dilation=1, groups=1):
    """Cross-correlation of ``x`` (N, C, *S) with ``w`` (O, C/g, *K); ``pads`` per dim as
    (before, after) pairs or an int."""
    nsp = x.ndim - 2
    stride = (stride,) * nsp if isinstance(stride, int) else stride
    dilation = (dilation,) * nsp if isinstance(dilation, int) else dilation
    if isinstance(pads, int):
        pads = ((pads, pads),) * nsp
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(pads))
    k = w.shape[2:]
    out = [(xp.shape[2 + i] - dilation[i] * (k[i] - 1) - 1) // stride[i] + 1 for i in range(nsp)]
    n, c = x.shape[:2]
    o = w.shape[0]
    cg, og = c // groups, o // groups
    y = np.zeros((n, o, *out))
    for pos in itertools.product(*(range(v) for v in out)):
        win = xp[(slice(None), slice(None)) + tuple(
            slice(pos[i] * stride[i], pos[i] * stride[i] + dilation[i] * (k[i] - 1) + 1, dilation[i])
            for i in range(nsp))]
        for g in range(groups):
            part = win[:, g * cg:(g + 1) * cg].reshape(n, cg * int(np.prod(k)))
            y[(slice(None), slice(g * og, (g + 1) * og)) + pos] = part @ w[g * og:(g + 1) * og].reshape(og, -1).T
    if b is not None:
        y += b.reshape((1, o) + (1,) * nsp)
    return y


def np_conv_transpose(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1,
                      dilation=1):
    """Transposed convolution by its definition: every input element scatters ``x * w``."""
    nsp = x.ndim - 2
    s, p, op, d = ((v,) * nsp if isinstance(v, int) else v
                   for v in (stride, padding, output_padding, dilation))
    n, cin = x.shape[:2]
    cog = w.shape[1]
    k = w.shape[2:]
    full = [(x.shape[2 + i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 + op[i] for i in range(nsp)]
    y = np.zeros((n, cog * groups, *full))
    cig = cin // groups
    for pos in itertools.product(*(range(v) for v in x.shape[2:])):
        for kk in itertools.product(*(range(v) for v in k)):
            at = tuple(pos[i] * s[i] + kk[i] * d[i] for i in range(nsp))
            for g in range(groups):
                xin = x[(slice(None), slice(g * cig, (g + 1) * cig)) + pos]  # (N, cig)
                wk = w[(slice(g * cig, (g + 1) * cig), slice(None)) + kk]  # (cig, cog)
                y[(slice(None), slice(g * cog, (g + 1) * cog)) + at] += xin @ wk
    y = y[(slice(None), slice(None)) + tuple(slice(p[i], full[i] - p[i]) for i in range(nsp))]
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * nsp)
    return y


def same_pads(k, d):
    total = d * (k - 1)
    return (total // 2, total - total // 2)


# =============================================================================
# forward against the reference, float64 and float32
# =============================================================================

# (x shape, w shape, kwargs, numpy pads) -- pads None means symmetric from kwargs
CONV2D = [
    ((2, 3, 7, 6), (4, 3, 3, 3), dict(padding=1)),
    ((2, 1, 8, 8), (16, 1, 3, 3), dict(padding=1)),  # the digits CNN's first layer
    ((3, 16, 4, 4), (32, 16, 3, 3), dict(padding=1)),  # ... and its second
    ((2, 4, 9, 8), (6, 2, 3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)),
    ((1, 4, 7, 7), (4, 1, 3, 3), dict(padding=2, dilation=2, groups=4)),  # depthwise
    ((2, 4, 6, 6), (8, 1, 3, 3), dict(groups=4, stride=2)),  # depthwise, channel multiplier 2
    ((2, 3, 5, 7), (2, 3, 1, 1), dict()),  # 1x1
    ((2, 3, 6, 5), (2, 3, 4, 3), dict(padding="same")),  # even kernel: asymmetric 'same'
    ((2, 3, 6, 6), (2, 3, 3, 2), dict(padding="same", dilation=(1, 3))),
    ((2, 3, 6, 5), (2, 3, 3, 3), dict(padding="valid", stride=(1, 2))),
    ((0, 3, 5, 5), (2, 3, 3, 3), dict(padding=1)),  # empty batch
]


def _np_pads(kw, k, nsp):
    d = kw.get("dilation", 1)
    d = (d,) * nsp if isinstance(d, int) else d
    p = kw.get("padding", 0)
    if p == "same":
        return tuple(same_pads(k[i], d[i]) for i in range(nsp))
    if p == "valid":
        return ((0, 0),) * nsp
    p = (p,) * nsp if isinstance(p, int) else p
    return tuple((v, v) for v in p)


@pytest.mark.parametrize("xs,ws,kw", CONV2D, ids=[str(c[2]) + str(c[0]) for c in CONV2D])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv2d_forward(xs, ws, kw, dtype):
    x, w, b = rand(*xs), rand(*ws), rand(ws[0])
    ref = np_conv(x, w, b, kw.get("stride", 1), _np_pads(kw, ws[2:], 2), kw.get("dilation", 1),
                  kw.get("groups", 1))
    out = F.conv2d(t(x, dtype=dtype), t(w, dtype=dtype), t(b, dtype=dtype), **kw)
    tol = 1e-10 if dtype is np.float64 else 2e-5
    assert_close(out, ref, rtol=tol, atol=tol * 10, msg=f"conv2d {xs} {ws} {kw}")
    assert out.dtype is (flambeau.float64 if dtype is np.float64 else flambeau.float32)
    assert out.is_contiguous()


CONV1D = [
    ((2, 3, 10), (4, 3, 3), dict(stride=2, padding=2, dilation=2)),
    ((2, 4, 9), (4, 2, 4), dict(padding="same", groups=2)),
    ((1, 2, 5), (3, 2, 5), dict()),
]


@pytest.mark.parametrize("xs,ws,kw", CONV1D)
def test_conv1d_forward(xs, ws, kw):
    x, w, b = rand(*xs), rand(*ws), rand(ws[0])
    ref = np_conv(x, w, b, kw.get("stride", 1), _np_pads(kw, ws[2:], 1), kw.get("dilation", 1),
                  kw.get("groups", 1))
    assert_close(F.conv1d(t(x), t(w), t(b), **kw), ref, rtol=1e-10, atol=1e-10)


def test_conv3d_forward():
    x, w = rand(2, 2, 4, 5, 3), rand(3, 2, 2, 3, 2)
    ref = np_conv(x, w, None, (1, 2, 1), ((1, 1), (0, 0), (1, 1)), 1, 1)
    assert_close(F.conv3d(t(x), t(w), stride=(1, 2, 1), padding=(1, 0, 1)), ref, rtol=1e-10,
                 atol=1e-10)


def test_conv_unbatched_and_literal():
    # PyTorch: F.conv2d(torch.arange(16.).reshape(1, 4, 4), torch.ones(1, 1, 2, 2))
    out = F.conv2d(flambeau.arange(16.0).reshape(1, 4, 4), flambeau.ones(1, 1, 2, 2))
    assert out.shape == (1, 3, 3)
    assert out.tolist() == [[[10.0, 14.0, 18.0], [26.0, 30.0, 34.0], [42.0, 46.0, 50.0]]]
    out = F.conv1d(flambeau.ones(1, 5), flambeau.ones(1, 1, 3), padding="same")
    assert out.tolist() == [[2.0, 3.0, 3.0, 3.0, 2.0]]


CONVT = [
    ((2, 4, 5, 5), (4, 3, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ((2, 4, 3, 4), (4, 2, 3, 2), dict(stride=(2, 3), padding=(0, 1), output_padding=(1, 2),
                                      groups=2, dilation=(1, 2))),
    ((1, 2, 4, 4), (2, 3, 2, 3), dict(stride=(2, 1), padding=(1, 0), output_padding=(1, 0),
                                      dilation=(1, 2))),
    ((2, 3, 3, 3), (3, 2, 3, 3), dict(dilation=2, padding=2, output_padding=1)),
    ((2, 3, 4, 4), (3, 2, 1, 1), dict()),
]


@pytest.mark.parametrize("xs,ws,kw", CONVT)
def test_conv_transpose2d_forward(xs, ws, kw):
    x, w, b = rand(*xs), rand(*ws), rand(ws[1] * kw.get("groups", 1))
    ref = np_conv_transpose(x, w, b, **kw)
    assert_close(F.conv_transpose2d(t(x), t(w), t(b), **kw), ref, rtol=1e-10, atol=1e-10,
                 msg=f"conv_transpose2d {xs} {ws} {kw}")


def test_conv_transpose1d_forward():
    x, w = rand(2, 4, 5), rand(4, 2, 3)
    kw = dict(stride=3, padding=1, output_padding=2)
    assert_close(F.conv_transpose1d(t(x), t(w), **kw), np_conv_transpose(x, w, **kw),
                 rtol=1e-10, atol=1e-10)


def test_conv_transpose_is_the_input_gradient_of_conv():
    x = t(rand(2, 3, 7, 7), requires_grad=True)
    w = t(rand(4, 3, 3, 3))
    g = t(rand(2, 4, 4, 4))
    F.conv2d(x, w, stride=2, padding=1).backward(g)
    assert_close(x.grad, F.conv_transpose2d(g, w, stride=2, padding=1, output_padding=0),
                 rtol=1e-10, atol=1e-10)


# =============================================================================
# gradients by finite differences (float64), first and second order
# =============================================================================

GRAD_CASES = [
    ("conv2d", F.conv2d, (1, 2, 4, 4), (2, 2, 3, 3), 2, dict(padding=1)),
    ("conv2d strided grouped", F.conv2d, (2, 2, 5, 4), (2, 1, 2, 2), 2,
     dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)),
    ("conv2d same even", F.conv2d, (1, 1, 4, 3), (2, 1, 2, 2), 2, dict(padding="same")),
    ("conv1d", F.conv1d, (2, 2, 6), (2, 2, 3), 2, dict(stride=2, padding=1, dilation=2)),
    ("conv_transpose2d", F.conv_transpose2d, (1, 2, 3, 3), (2, 2, 3, 2), 2,
     dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose2d op>pad", F.conv_transpose2d, (1, 2, 2, 3), (2, 1, 2, 2), 2,
     dict(stride=2, output_padding=1, groups=2)),
    ("conv_transpose1d", F.conv_transpose1d, (2, 2, 3), (2, 1, 3), 1,
     dict(stride=2, padding=1, dilation=2, output_padding=1)),
]


@pytest.mark.parametrize("name,fn,xs,ws,nb,kw", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_conv_gradcheck(name, fn, xs, ws, nb, kw):
    transposed = "transpose" in name
    x = t(rand(*xs), requires_grad=True)
    w = t(rand(*ws), requires_grad=True)
    bias = ws[1] * kw.get("groups", 1) if transposed else ws[0]
    b = t(rand(bias), requires_grad=True)
    assert gradcheck(lambda x, w, b: fn(x, w, b, **kw), (x, w, b))


@pytest.mark.parametrize("name,fn,xs,ws,nb,kw", GRAD_CASES[:1] + GRAD_CASES[4:5],
                         ids=[GRAD_CASES[0][0], GRAD_CASES[4][0]])
def test_conv_gradgradcheck(name, fn, xs, ws, nb, kw):
    x = t(rand(*xs), requires_grad=True)
    w = t(rand(*ws), requires_grad=True)
    assert gradgradcheck(lambda x, w: fn(x, w, **kw), (x, w))


def test_conv_grad_matches_reference_gradient():
    # d/dx and d/dw of sum(conv(x, w) * g) against the reference's own adjoint formulas
    x, w, g = rand(2, 3, 6, 5), rand(4, 3, 3, 2), rand(2, 4, 6, 5)
    xt, wt = t(x, requires_grad=True), t(w, requires_grad=True)
    F.conv2d(xt, wt, padding="same").backward(t(g))
    pads = (same_pads(3, 1), same_pads(2, 1))
    gw = np.zeros_like(w)
    xp = np.pad(x, ((0, 0), (0, 0)) + pads)
    for i, j in itertools.product(range(3), range(2)):
        gw[:, :, i, j] = np.einsum("nohw,nchw->oc", g, xp[:, :, i:i + 6, j:j + 5])
    assert_close(wt.grad, gw, rtol=1e-10, atol=1e-10)
    gx = np_conv_transpose(g, w, None, 1, 0, 0, 1, 1)[:, :, pads[0][0]:pads[0][0] + 6,
                                                       pads[1][0]:pads[1][0] + 5]
    assert_close(xt.grad, gx, rtol=1e-10, atol=1e-10)


def test_conv_bias_and_weight_grads_float32_digits_shapes():
    x = t(rand(8, 16, 4, 4), dtype=np.float32)
    conv = nn.Conv2d(16, 32, 3, padding=1)
    out = conv(x)
    out.sum().backward()
    assert conv.weight.grad.shape == (32, 16, 3, 3)
    assert_close(conv.bias.grad, np.full(32, 8 * 16.0), rtol=1e-6)
    assert conv.weight.grad.dtype is flambeau.float32


@pytest.mark.parametrize("shape,wshape,pad", [((1, 1, 4, 4), (1, 1, 1, 1), 1),
                                              ((1, 1, 3, 3), (1, 1, 3, 3), 1),
                                              ((2, 3, 5, 4), (4, 3, 3, 3), (1, 0))])
def test_results_survive_later_calls(shape, wshape, pad):
    """Backends may reuse temporary buffers between calls: earlier results must not change."""
    x1, x2, w = rand(*shape), rand(*shape), rand(*wshape)
    a = t(x1, requires_grad=True)
    y1 = F.conv2d(a, t(w), padding=pad)
    y1.backward(t(np.ones(y1.shape)))
    p1, (v1, i1) = F.avg_pool2d(a, 2, 1, 1), F.max_pool2d(a, 2, 1, 1, return_indices=True)
    keep = [to_numpy(v).copy() for v in (y1, a.grad, p1, v1, i1)]
    b = t(x2, requires_grad=True)
    y2 = F.conv2d(b, t(w), padding=pad)
    y2.backward(t(np.full(y2.shape, 2.0)))
    F.avg_pool2d(b, 2, 1, 1), F.max_pool2d(b, 2, 1, 1)
    for v, k in zip((y1, a.grad, p1, v1, i1), keep):
        np.testing.assert_array_equal(to_numpy(v), k)


# =============================================================================
# unfold / fold
# =============================================================================


def np_unfold(x, k, d, p, s):
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    oh = (xp.shape[2] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (xp.shape[3] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    cols = np.zeros((x.shape[0], x.shape[1], k[0], k[1], oh, ow))
    for i, j in itertools.product(range(k[0]), range(k[1])):
        cols[:, :, i, j] = xp[:, :, i * d[0]:i * d[0] + s[0] * (oh - 1) + 1:s[0],
                              j * d[1]:j * d[1] + s[1] * (ow - 1) + 1:s[1]]
    return cols.reshape(x.shape[0], -1, oh * ow)


def test_unfold_fold():
    x = rand(2, 3, 7, 6)
    args = dict(kernel_size=(3, 2), dilation=(1, 2), padding=1, stride=(2, 1))
    ref = np_unfold(x, (3, 2), (1, 2), (1, 1), (2, 1))
    cols = F.unfold(t(x), **args)
    assert_close(cols, ref, rtol=0, atol=0)
    # fold is unfold's adjoint: <unfold(x), c> == <x, fold(c)>
    c = rand(*ref.shape)
    folded = to_numpy(F.fold(t(c), (7, 6), **args))
    assert np.isclose((ref * c).sum(), (x * folded).sum(), rtol=1e-12)
    # PyTorch's example: fold(unfold(x)) counts how many blocks cover each pixel
    ones = F.fold(F.unfold(flambeau.ones(1, 1, 3, 3), 2), (3, 3), 2)
    assert ones[0, 0].tolist() == [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]


def test_unfold_fold_gradcheck():
    x = t(rand(1, 2, 4, 3), requires_grad=True)
    assert gradcheck(lambda x: F.unfold(x, 2, padding=1, stride=(1, 2)), (x,))
    c = t(rand(1, 8, 6), requires_grad=True)
    assert gradgradcheck(lambda c: F.fold(c, (3, 4), 2, stride=1) ** 2, (c,))


# =============================================================================
# shape rules and errors
# =============================================================================

ERRORS = [
    (lambda: F.conv2d(flambeau.ones(2, 3, 8, 8), flambeau.ones(16, 1, 3, 3)),
     r"Given groups=1, weight of size \[16, 1, 3, 3\], expected input\[2, 3, 8, 8\] to have 1 "
     r"channels, but got 3 channels instead"),
    (lambda: F.conv2d(flambeau.ones(2, 3, 8, 8), flambeau.ones(3, 1, 3, 3), groups=2),
     r"Given groups=2, expected weight to be divisible by 2 at dimension 0, but got weight of "
     r"size \[3, 1, 3, 3\]"),
    (lambda: F.conv2d(flambeau.ones(2, 3, 8, 8), flambeau.ones(4, 1, 3, 3), groups=2),
     r"expected input\[2, 3, 8, 8\] to have 2 channels"),
    (lambda: F.conv2d(flambeau.ones(2, 3, 8, 8), flambeau.ones(16, 3, 9, 9)),
     r"Calculated padded input size per channel: \(8 x 8\). Kernel size: \(9 x 9\). Kernel size "
     r"can't be greater than actual input size"),
    (lambda: F.conv2d(flambeau.ones(2, 3, 4, 4), flambeau.ones(1, 3, 3, 3), dilation=3, padding=1),
     r"padded input size per channel: \(6 x 6\). Kernel size: \(7 x 7\)"),
    (lambda: F.conv1d(flambeau.ones(2, 3, 2), flambeau.ones(4, 3, 3)),
     r"Calculated padded input size per channel: \(2\). Kernel size: \(3\)"),
    (lambda: F.conv2d(flambeau.ones(2, 3), flambeau.ones(1, 3, 1, 1)),
     r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of size: \[2, 3\]"),
    (lambda: F.conv2d(flambeau.ones(1, 3, 8, 8), flambeau.ones(4, 3, 3, 3), stride=2, padding="same"),
     "padding='same' is not supported for strided convolutions"),
    (lambda: F.conv2d(flambeau.ones(1, 3, 8, 8), flambeau.ones(4, 3, 3, 3), padding="full"),
     "Invalid padding string: 'full'"),
    (lambda: F.conv2d(flambeau.ones(1, 3, 8, 8), flambeau.ones(4, 3, 3, 3), flambeau.ones(3)),
     r"expected bias to be 1-dimensional with 4 elements, but got bias of size \[3\]"),
    (lambda: F.conv2d(flambeau.ones(1, 3, 8, 8), flambeau.ones(4, 3, 3, 3), padding=(1, 2, 3)),
     r"expected padding to be a single integer value or a list of 2 values"),
    (lambda: F.conv2d(flambeau.ones(1, 3, 8, 8), flambeau.ones(4, 3, 3, 3), stride=0),
     "non-positive stride is not supported"),
    (lambda: F.conv2d(flambeau.ones(1, 3, 8, 8), flambeau.ones(4, 3, 3, 3), padding=-1),
     "negative padding is not supported"),
    (lambda: F.conv2d(flambeau.ones(1, 3, 8, 8, dtype=flambeau.float64), flambeau.ones(4, 3, 3, 3)),
     "expected scalar type Double but found Float"),
    (lambda: F.conv_transpose2d(flambeau.ones(2, 3, 8, 8), flambeau.ones(4, 3, 3, 3)),
     r"Given transposed=1, weight of size \[4, 3, 3, 3\], expected input\[2, 3, 8, 8\] to have 4 "
     r"channels, but got 3 channels instead"),
    (lambda: F.conv_transpose2d(flambeau.ones(1, 3, 4, 4), flambeau.ones(3, 3, 3, 3), stride=2,
                                output_padding=2),
     "output padding must be smaller than either stride or dilation"),
    (lambda: F.unfold(flambeau.ones(2, 3, 2, 2), 3),
     r"calculated shape of the array of sliding blocks as \(0, 0\), but its components must be at "
     "least one"),
    (lambda: F.fold(flambeau.ones(2, 27, 10), (8, 8), 3),
     r"expected size of input's dimension 2 to match the calculated number of sliding blocks 6 \* "
     r"6 = 36, but got input.size\(2\)=10"),
]


@pytest.mark.parametrize("fn,match", ERRORS, ids=range(len(ERRORS)))
def test_conv_errors(fn, match):
    with pytest.raises(RuntimeError, match=match):
        fn()


def test_conv_transpose_padding_string_is_a_type_error():
    with pytest.raises(TypeError, match="must be tuple of ints, not str"):
        F.conv_transpose2d(flambeau.ones(1, 3, 4, 4), flambeau.ones(3, 3, 3, 3), padding="same")


# =============================================================================
# layers
# =============================================================================

REPRS = [
    (lambda: nn.Conv2d(1, 16, 3, padding=1),
     "Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"),
    (lambda: nn.Conv2d(16, 32, kernel_size=3),
     "Conv2d(16, 32, kernel_size=(3, 3), stride=(1, 1))"),
    (lambda: nn.Conv2d(4, 8, (3, 2), stride=2, dilation=2, groups=4, bias=False,
                       padding_mode="reflect"),
     "Conv2d(4, 8, kernel_size=(3, 2), stride=(2, 2), dilation=(2, 2), groups=4, bias=False, "
     "padding_mode=reflect)"),
    (lambda: nn.Conv2d(3, 5, 4, padding="same"),
     "Conv2d(3, 5, kernel_size=(4, 4), stride=(1, 1), padding=same)"),
    (lambda: nn.Conv1d(3, 4, 5, stride=2), "Conv1d(3, 4, kernel_size=(5,), stride=(2,))"),
    (lambda: nn.Conv3d(2, 3, 3, padding=(1, 0, 1)),
     "Conv3d(2, 3, kernel_size=(3, 3, 3), stride=(1, 1, 1), padding=(1, 0, 1))"),
    (lambda: nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1),
     "ConvTranspose2d(16, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
     "output_padding=(1, 1))"),
    (lambda: nn.ConvTranspose1d(4, 2, 3), "ConvTranspose1d(4, 2, kernel_size=(3,), stride=(1,))"),
]


@pytest.mark.parametrize("make,expected", REPRS, ids=[r[1].split("(")[0] + str(i) for i, r in enumerate(REPRS)])
def test_conv_layer_repr(make, expected):
    assert repr(make()) == expected


@pytest.mark.parametrize("cls,args,kw,wshape", [
    (nn.Conv1d, (3, 4, 5), {}, (4, 3, 5)),
    (nn.Conv2d, (4, 8, (3, 2)), dict(groups=2), (8, 2, 3, 2)),
    (nn.Conv3d, (2, 4, 2), {}, (4, 2, 2, 2, 2)),
    (nn.ConvTranspose2d, (4, 6, 3), dict(groups=2), (4, 3, 3, 3)),
    (nn.ConvTranspose1d, (4, 2, 3), {}, (4, 2, 3)),
])
def test_conv_layer_parameters_and_init(cls, args, kw, wshape):
    m = cls(*args, **kw)
    assert list(m.state_dict()) == ["weight", "bias"]
    assert m.weight.shape == wshape
    out_channels = args[1]
    assert m.bias.shape == (out_channels,)
    # kaiming_uniform_(a=sqrt(5)) is U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the bias shares it
    fan_in = wshape[1] * math.prod(wshape[2:])
    bound = 1 / math.sqrt(fan_in)
    w, b = to_numpy(m.weight), to_numpy(m.bias)
    assert np.abs(w).max() <= bound + 1e-7 and np.abs(b).max() <= bound + 1e-7
    assert np.abs(w).max() > 0.5 * bound
    assert cls(*args, **kw, bias=False).bias is None


def test_conv2d_layer_matches_functional_and_padding_modes():
    x = rand(2, 3, 6, 5)
    for mode, np_mode in [("zeros", "constant"), ("reflect", "reflect"), ("replicate", "edge"),
                          ("circular", "wrap")]:
        m = nn.Conv2d(3, 4, 3, padding=(1, 2), padding_mode=mode).double()
        w, b = to_numpy(m.weight), to_numpy(m.bias)
        ref = np_conv(np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2)), mode=np_mode), w, b)
        assert_close(m(t(x)), ref, rtol=1e-10, atol=1e-10, msg=mode)
    m = nn.Conv1d(2, 2, 4, padding="same", padding_mode="circular").double()
    x = rand(1, 2, 7)
    ref = np_conv(np.pad(x, ((0, 0), (0, 0), (1, 2)), mode="wrap"), to_numpy(m.weight),
                  to_numpy(m.bias))
    assert_close(m(t(x)), ref, rtol=1e-10, atol=1e-10)


def test_conv_transpose2d_layer_output_size():
    m = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1).double()
    x = t(rand(1, 3, 4, 4))
    assert m(x).shape == (1, 2, 7, 7)
    assert m(x, output_size=(8, 8)).shape == (1, 2, 8, 8)
    assert m(x, output_size=[1, 2, 8, 7]).shape == (1, 2, 8, 7)
    with pytest.raises(ValueError, match="requested an output size of"):
        m(x, output_size=(10, 10))


def test_conv_layer_argument_errors():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(4, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(4, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported'):
        nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect")


def test_conv_state_dict_round_trip_and_training_step():
    torchlike = {"weight": rand(16, 1, 3, 3).astype(np.float32),
                 "bias": rand(16).astype(np.float32)}
    m = nn.Conv2d(1, 16, 3, padding=1)
    m.load_state_dict({k: t(v) for k, v in torchlike.items()})
    x = rand(4, 1, 8, 8).astype(np.float32)
    ref = np_conv(x.astype(np.float64), torchlike["weight"].astype(np.float64),
                  torchlike["bias"].astype(np.float64), 1, 1)
    assert_close(m(t(x)), ref, rtol=1e-5, atol=1e-5)
    # one SGD step lowers a simple loss
    opt = flambeau.optim.SGD(m.parameters(), lr=0.01)
    xt = t(x)
    before = (m(xt) ** 2).mean()
    before.backward()
    opt.step()
    assert (m(xt) ** 2).mean().item() < before.item()
