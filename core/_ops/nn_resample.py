"""Resampling ops: ``interpolate`` (nearest, nearest-exact, (bi/tri)linear, bicubic, area) and
``pixel_shuffle`` / ``pixel_unshuffle``.

Index arithmetic is PyTorch's, in float32 where PyTorch computes in float32 (source indices,
scales and weights), so nearest modes pick the same pixels and the linear modes the same weights.
The linear and cubic modes are separable linear maps: one small ``(Out, In)`` weight matrix per
spatial dim, applied with ``matmul`` (autograd, and double backward, come for free).
"""
from __future__ import annotations

import math
import struct

from ._util import Tensor, dt
from .nn_adaptive import _adaptive_avg, _along, _matrix

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle",
           "pixel_unshuffle"]


_F32 = struct.Struct("f")


def _f32(v):
    """``v`` rounded to float32, as PyTorch's float index arithmetic does."""
    return _F32.unpack(_F32.pack(v))[0]


def _same(v):
    return v


def _nearest_index(insize, outsize, scale, exact):
    """PyTorch's ``nearest_idx`` / ``nearest_exact_idx`` (float32 arithmetic; only the legacy
    'nearest' shortcuts equal and doubled sizes)."""
    if not exact and outsize == insize:
        return list(range(outsize))
    if not exact and outsize == 2 * insize:
        return [o >> 1 for o in range(outsize)]
    ratio = _f32(1.0 / scale) if scale is not None and scale > 0 else _f32(insize / outsize)
    if exact:
        return [min(math.floor(_f32((o + 0.5) * ratio)), insize - 1) for o in range(outsize)]
    return [min(math.floor(_f32(_f32(o) * ratio)), insize - 1) for o in range(outsize)]


def _linear_matrix(insize, outsize, scale, align_corners, rnd):
    """``(Out, In)`` weights of linear interpolation along one dim, with PyTorch's source index
    ``align_corners ? o * (In-1)/(Out-1) : max((o + 0.5) * In/Out - 0.5, 0)`` in the op's
    precision (``rnd`` rounds to float32 for float32/float16 inputs)."""
    rows = [[0.0] * insize for _ in range(outsize)]
    if outsize == insize:
        for o in range(outsize):
            rows[o][o] = 1.0
        return rows
    if align_corners:
        ratio = rnd((insize - 1) / (outsize - 1)) if outsize > 1 else 0.0
    else:
        ratio = rnd(1.0 / scale) if scale is not None and scale > 0 else rnd(insize / outsize)
    for o in range(outsize):
        if align_corners:
            src = rnd(ratio * o)
        else:
            # one rounding: PyTorch's compiled kernel fuses this multiply-add (FMA)
            src = max(rnd(ratio * (o + 0.5) - 0.5), 0.0)
        i0 = min(math.floor(src), insize - 1)
        l1 = min(max(rnd(src - i0), 0.0), 1.0)
        i1 = i0 + (1 if i0 < insize - 1 else 0)
        rows[o][i0] += rnd(1.0 - l1)
        rows[o][i1] += l1
    return rows


def _cubic_matrix(insize, outsize, scale, align_corners, rnd):
    """``(Out, In)`` weights of bicubic interpolation along one dim: PyTorch's cubic
    convolution (A = -0.75) over the 4 neighbours of ``floor(src)``, indices clamped to the
    edges; ``src`` as for linear but not clamped at 0."""
    a = -0.75

    def near(x):  # |x| <= 1
        return rnd(rnd(rnd(rnd((a + 2) * x) - (a + 3)) * x) * x + 1)

    def far(x):  # 1 < |x| < 2
        return rnd(rnd(rnd(rnd(rnd(a * x) - 5 * a) * x) + 8 * a) * x - 4 * a)

    rows = [[0.0] * insize for _ in range(outsize)]
    if align_corners:
        ratio = rnd((insize - 1) / (outsize - 1)) if outsize > 1 else 0.0
    else:
        ratio = rnd(1.0 / scale) if scale is not None and scale > 0 else rnd(insize / outsize)
    for o in range(outsize):
        src = rnd(ratio * o) if align_corners else rnd(ratio * (o + 0.5) - 0.5)
        i0 = min(math.floor(src), insize - 1)
        t = min(max(rnd(src - i0), 0.0), 1.0)
        coeffs = (far(rnd(t + 1)), near(t), near(rnd(1 - t)), far(rnd(rnd(1 - t) + 1)))
        for j, c in enumerate(coeffs):
            rows[o][max(min(i0 - 1 + j, insize - 1), 0)] += c
    return rows


_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
_LINEAR = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resample ``(N, C, *spatial)`` to ``size`` or by ``scale_factor``, as
    ``torch.nn.functional.interpolate``: modes 'nearest' (source ``floor(dst * scale)``),
    'nearest-exact', 'linear'/'bilinear'/'trilinear' and 'bicubic' (``align_corners`` False or
    True) and 'area' (adaptive average pooling). Source indices and weights follow PyTorch's
    float32 arithmetic, so results agree with PyTorch's to rounding.

    >>> interpolate(flambeau.tensor([[[1., 2.]]]), scale_factor=2).tolist()
    [[[1.0, 1.0, 2.0, 2.0]]]
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate(): argument 'input' must be Tensor, not {type(input).__name__}")
    if mode not in _MODES:
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the "
            f"modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact "
            f"(got {mode})"
        )
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(
                "align_corners option can only be set with the interpolating modes: "
                "linear | bilinear | bicubic | trilinear"
            )
    elif align_corners is None:
        align_corners = False
    if antialias:
        raise NotImplementedError("interpolate(): antialias=True is not supported by flambeau")
    nsp = input.ndim - 2
    if nsp not in (1, 2, 3):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the "
            f"modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact "
            f"(got {mode})"
        )
    if mode in _LINEAR and _LINEAR[mode] != nsp:
        raise NotImplementedError(
            f"Got {input.ndim}D input, but {mode} mode needs {_LINEAR[mode] + 2}D input"
        )
    in_size = tuple(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        out = (int(size),) * nsp if isinstance(size, (int, float)) else tuple(int(v) for v in size)
        if len(out) != nsp:
            raise ValueError(
                f"Input and output must have the same number of spatial dimensions, but got input "
                f"with spatial dimensions of {list(in_size)} and output size of {tuple(size)}. "
                f"Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                f"(o1, o2, ...,oK) format."
            )
        scales = (None,) * nsp
    elif scale_factor is not None:
        if isinstance(scale_factor, (int, float)):
            scales = (float(scale_factor),) * nsp
        else:
            scales = tuple(float(v) for v in scale_factor)
            if len(scales) != nsp:
                raise ValueError(
                    f"Input and scale_factor must have the same number of spatial dimensions, but "
                    f"got input with spatial dimensions of {list(in_size)} and scale_factor of "
                    f"shape {tuple(scale_factor)}. Please provide input tensor in (N, C, d1, d2, "
                    f"...,dK) format and scale_factor in (s1, s2, ...,sK) format."
                )
        out = tuple(math.floor(float(in_size[i]) * scales[i]) for i in range(nsp))
        if recompute_scale_factor:
            scales = (None,) * nsp
    else:
        raise ValueError("either size or scale_factor should be defined")
    if mode == "area":
        return _adaptive_avg(f"adaptive_avg_pool{nsp}d", nsp, input, out)
    if any(o <= 0 for o in out):
        names = ("D", "H", "W")[3 - nsp:]
        raise RuntimeError(
            "Input and output sizes should be greater than 0, but got input ("
            + ", ".join(f"{a}: {v}" for a, v in zip(names, in_size)) + ") output ("
            + ", ".join(f"{a}: {v}" for a, v in zip(names, out)) + ")"
        )
    if mode in ("nearest", "nearest-exact"):
        y = input
        for d in range(nsp):
            idx = _nearest_index(in_size[d], out[d], scales[d], mode == "nearest-exact")
            be = input._backend
            if idx == list(range(in_size[d])):
                continue
            it = Tensor._make(be.asarray(idx, dt.int64), be, dt.int64, input.device)
            y = y.index_select(2 + d, it)
        return y if y is not input else input.clone()
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"interpolate: mode '{mode}' needs a floating point input, got "
                           f"{input.dtype.name}")
    rnd = _same if input.dtype is dt.float64 else _f32
    y = input
    for d in range(nsp):
        if out[d] == in_size[d]:
            continue
        weights = _cubic_matrix if mode == "bicubic" else _linear_matrix
        rows = weights(in_size[d], out[d], scales[d], align_corners, rnd)
        y = _along(y, 2 + d, _matrix(input, rows, in_size[d]))
    return y.contiguous() if y is not input else input.clone()


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate``, as ``torch.nn.functional.upsample``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """``interpolate(..., mode='bilinear', align_corners=True)``, as PyTorch's deprecated alias."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# =============================================================================
# pixel shuffle
# =============================================================================


def pixel_shuffle(input, upscale_factor):
    """``(*, C*r*r, H, W)`` to ``(*, C, H*r, W*r)``, as ``torch.nn.functional.pixel_shuffle``."""
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
            f"of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}"
        )
    nl = len(lead)
    y = input.reshape(*lead, c // (r * r), r, r, h, w)
    perm = tuple(range(nl)) + (nl, nl + 3, nl + 1, nl + 4, nl + 2)
    return y.permute(perm).reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """``(*, C, H*r, W*r)`` to ``(*, C*r*r, H, W)``, as ``torch.nn.functional.pixel_unshuffle``."""
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(
            f"pixel_unshuffle expects height and width to be divisible by downscale_factor, but "
            f"input.size(-2)={h} and input.size(-1)={w} are not divisible by {r}"
        )
    nl = len(lead)
    y = input.reshape(*lead, c, h // r, r, w // r, r)
    perm = tuple(range(nl)) + (nl, nl + 2, nl + 4, nl + 1, nl + 3)
    return y.permute(perm).reshape(*lead, c * r * r, h // r, w // r)
