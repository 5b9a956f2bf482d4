"""Spatial sampling functionals of ``flambeau.nn.functional``: ``affine_grid`` and
``grid_sample`` (spatial transformer networks), as PyTorch computes them.

``grid_sample`` reads ``input`` at the normalised ``(x, y[, z])`` locations of ``grid`` (-1 and
1 are the edges: the corner pixels' centres with ``align_corners=True``, their outer borders
otherwise), with ``bilinear`` (trilinear for 5-D input) or ``nearest`` interpolation and
``zeros``, ``border`` or ``reflection`` padding. It is written with tensor ops (a gather per
corner), so gradients reach both ``input`` and ``grid``.

>>> import flambeau
>>> import flambeau.nn.functional as F
>>> theta = flambeau.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
>>> x = flambeau.arange(16.0).reshape(1, 1, 4, 4)
>>> bool((F.grid_sample(x, F.affine_grid(theta, (1, 1, 4, 4), align_corners=False),
...                     align_corners=False) == x).all())
True
"""
from __future__ import annotations

import itertools

import flambeau
from flambeau import _dtype as dt

__all__ = ["affine_grid", "grid_sample"]


def _linspace_from_neg_one(theta, steps, align_corners):
    if steps <= 1:
        return flambeau.zeros(1, dtype=theta.dtype, device=theta.device)
    r = flambeau.linspace(-1, 1, steps, dtype=theta.dtype, device=theta.device)
    if not align_corners:
        r = r * (steps - 1) / steps
    return r


def affine_grid(theta, size, align_corners=None):
    """The sampling grid ``(N, H, W, 2)`` (or ``(N, D, H, W, 3)``) of the affine maps ``theta``
    ``(N, 2, 3)`` (or ``(N, 3, 4)``) for an output of ``size``."""
    if align_corners is None:
        align_corners = False
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = list(size)
    if len(size) == 4:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{size}. Got {list(theta.shape)}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{size}. Got {list(theta.shape)}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    n = size[0]
    # base grid: (..., x, y[, z], 1) with x varying fastest
    axes = [_linspace_from_neg_one(theta, s, align_corners) for s in reversed(spatial)]
    mesh = flambeau.meshgrid(*reversed(axes), indexing="ij")  # D/H/W order
    coords = list(reversed(mesh)) + [flambeau.ones_like(mesh[0])]
    base = flambeau.stack(coords, -1).reshape(1, -1, len(coords)).expand(n, -1, -1)
    grid = base.bmm(theta.transpose(1, 2))
    return grid.reshape(n, *spatial, len(spatial))


def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, twice_low, twice_high):
    if twice_low == twice_high:
        return flambeau.zeros_like(coord)
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    coord = (coord - low).abs()
    extra = coord.fmod(span)
    flips = (coord / span).floor().detach()
    even = flips.fmod(2) == 0
    return flambeau.where(even, extra + low, span - extra + low)


def _source_index(coord, size, padding_mode, align_corners):
    coord = _unnormalize(coord, size, align_corners)
    if padding_mode == "border":
        coord = coord.clamp(0, size - 1)
    elif padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        coord = coord.clamp(0, size - 1)
    return coord


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` ``(N, C, H, W)`` (or ``(N, C, D, H, W)``) at ``grid`` ``(N, Ho, Wo, 2)``
    (or ``(N, Do, Ho, Wo, 3)``)."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if mode == "bicubic":
        raise NotImplementedError("grid_sample: mode='bicubic' is not supported by flambeau")
    if align_corners is None:
        align_corners = False
    nd = input.dim() - 2
    if nd not in (2, 3) or grid.dim() != input.dim() or grid.shape[-1] != nd:
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number "
                           f"of dimensions, but got input with sizes {list(input.shape)} and "
                           f"grid with sizes {list(grid.shape)}")
    n, c = input.shape[:2]
    in_sizes = list(input.shape[2:])  # (D,) H, W
    out_sizes = list(grid.shape[1:-1])
    sizes_xyz = list(reversed(in_sizes))  # W, H(, D): grid[..., k] indexes sizes_xyz[k]
    if grid.dtype is not input.dtype:
        from .functional import _scalar_type_name

        raise RuntimeError(f"expected scalar type {_scalar_type_name(input)} but found "
                           f"{_scalar_type_name(grid)}")
    coords = [_source_index(grid[..., k], sizes_xyz[k], padding_mode, align_corners)
              for k in range(nd)]
    flat = input.reshape(n, c, -1)
    m = 1
    for s in out_sizes:
        m *= s

    def read(corner):  # corner: integer coordinate tensors (x, y[, z]) of shape (N, *out)
        valid = None
        index = None
        stride = 1
        for k, ck in enumerate(corner):
            ok = (ck >= 0) & (ck <= sizes_xyz[k] - 1)
            valid = ok if valid is None else valid & ok
            term = ck.clamp(0, sizes_xyz[k] - 1).to(dt.int64) * stride
            index = term if index is None else index + term
            stride *= sizes_xyz[k]
        vals = flat.gather(2, index.reshape(n, 1, m).expand(n, c, m)).reshape(n, c, *out_sizes)
        return vals * valid.unsqueeze(1).to(input.dtype)

    if mode == "nearest":
        out = read([ck.round().detach() for ck in coords])
        if grid.requires_grad:  # PyTorch gives grid a zero gradient
            out = out + (coords[0] * 0).unsqueeze(1)
        return out
    lower = [ck.floor().detach() for ck in coords]
    upper = [lo + 1 for lo in lower]
    out = None
    for bits in itertools.product((0, 1), repeat=nd):  # z, y, x order (x varies fastest)
        bits = bits[::-1]  # bits[k] for coordinate k = x, y(, z)
        weight = None
        for k in range(nd):
            wk = (coords[k] - lower[k]) if bits[k] else (upper[k] - coords[k])
            weight = wk if weight is None else weight * wk
        corner = [upper[k] if bits[k] else lower[k] for k in range(nd)]
        term = read(corner) * weight.unsqueeze(1)
        out = term if out is None else out + term
    return out
