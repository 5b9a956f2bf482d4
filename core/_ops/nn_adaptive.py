"""Adaptive pooling: ``adaptive_avg_pool1d/2d/3d`` and ``adaptive_max_pool1d/2d/3d``.

Window ``o`` of a dim covers PyTorch's ``[floor(o * In / Out), ceil((o + 1) * In / Out))``.
When the windows tile the input evenly this is plain pooling (``nn_pool``'s Functions, the
backend's fast paths); otherwise average pooling is a separable linear map (one small averaging
matrix per spatial dim, applied with ``matmul``) and max pooling gathers the windows, padded to
the longest by repeating their last element, and reuses max pooling's gradient scatter.
"""
from __future__ import annotations

from ._util import Tensor, dt
from .nn_conv import _prod
from .nn_pool import AvgPoolNd, MaxPoolNd, MaxPoolScatter, _batched

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "adaptive_max_pool3d", "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices",
]


class AdaptiveMaxPoolNd(MaxPoolNd):
    _backward_name = "AdaptiveMaxPool2DBackward0"

    @staticmethod
    def forward(ctx, x, out_size):
        be = x._backend
        size = tuple(x.shape[2:])
        nsp = len(size)
        n, c = x.shape[:2]
        key = [slice(None), slice(None)]
        table = None
        kmax = []
        for d in range(nsp):
            starts, ends = _adaptive_ranges(size[d], out_size[d])
            k = max(e - s for s, e in zip(starts, ends))
            kmax.append(k)
            # window positions, the last one repeated to pad short windows (the max is unchanged)
            rows = [[min(s + j, e - 1) for j in range(k)] for s, e in zip(starts, ends)]
            idx = be.asarray(rows, dt.int64)  # (Out_d, K_d)
            shape = [1] * (2 * nsp)
            shape[2 * d], shape[2 * d + 1] = out_size[d], k
            idx = be.reshape(idx, tuple(shape))
            key.append(idx)
            flat = be.binary("mul", idx, _prod(size[d + 1:]))
            table = flat if table is None else be.binary("add", table, flat)
        win = be.getitem(x._data, tuple(key))  # (N, C, O_0, K_0, O_1, K_1, ...)
        perm = (0, 1) + tuple(2 + 2 * d for d in range(nsp)) + tuple(3 + 2 * d for d in range(nsp))
        kk = _prod(kmax)
        win = be.reshape(be.permute(win, perm), (n, c) + tuple(out_size) + (kk,))
        arg = be._pool_argmax(win, nsp + 2)
        values = be.reshape(be.take_along_axis(win, arg, nsp + 2), (n, c) + tuple(out_size))
        tperm = tuple(2 * d for d in range(nsp)) + tuple(2 * d + 1 for d in range(nsp))
        full = []
        for d in range(nsp):
            full += [out_size[d], kmax[d]]
        table = be.reshape(be.permute(be.broadcast_to(table, tuple(full)), tperm),
                           (1, 1) + tuple(out_size) + (kk,))
        table = be.broadcast_to(table, (n, c) + tuple(out_size) + (kk,))
        indices = be.reshape(be.take_along_axis(table, arg, nsp + 2), (n, c) + tuple(out_size))
        v = Tensor._make(values, be, x.dtype, x.device)
        i = Tensor._make(indices, be, dt.int64, x.device)
        ctx.mark_non_differentiable(i)
        ctx.save_for_backward(i)
        ctx.size = size
        return v, i

    @staticmethod
    def backward(ctx, g, _):
        indices, = ctx.saved_tensors
        return MaxPoolScatter.apply(g, indices, ctx.size, False), None


def _adaptive_ranges(insize, outsize):
    """PyTorch's windows: ``[floor(o * In / Out), ceil((o + 1) * In / Out))`` for each ``o``."""
    starts = [(o * insize) // outsize for o in range(outsize)]
    ends = [-((-(o + 1) * insize) // outsize) for o in range(outsize)]
    return starts, ends


def _adaptive_args(op, nsp, input, output_size):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim not in (nsp + 1, nsp + 2) or any(v == 0 for v in input.shape[-nsp:]):
        raise RuntimeError(
            f"{op}(): Expected {nsp + 1}D or {nsp + 2}D tensor with non-zero spatial sizes, but "
            f"got {list(input.shape)}"
        )
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size,) * nsp
    output_size = tuple(output_size)
    if len(output_size) == 1 and nsp > 1:
        output_size = output_size * nsp
    if len(output_size) != nsp:
        raise RuntimeError(
            f"{op}: output_size must be {nsp} ints (or None to keep a size), got {output_size}"
        )
    size = tuple(input.shape[-nsp:])
    out = tuple(size[i] if v is None else int(v) for i, v in enumerate(output_size))
    if any(v < 0 for v in out):
        raise RuntimeError(f"{op}: elements of output_size must be non-negative, got {out}")
    return size, out


def _along(x, dim, matrix):
    """Apply ``matrix`` ``(Out, In)`` along ``dim`` of ``x``: ``y[..., o, ...] = sum_i
    matrix[o, i] * x[..., i, ...]``, as one matmul."""
    last = dim == x.ndim - 1
    xt = x if last else x.movedim(dim, -1)
    y = xt.reshape(-1, xt.shape[-1]).matmul(matrix.t()).reshape(tuple(xt.shape[:-1]) + (matrix.shape[0],))
    return y if last else y.movedim(-1, dim)


def _matrix(x, rows, insize):
    be = x._backend
    data = be.asarray(rows, x.dtype) if rows else be.full((0, insize), 0, x.dtype)
    return Tensor._make(data, be, x.dtype, x.device)


def _adaptive_avg(op, nsp, input, output_size):
    size, out = _adaptive_args(op, nsp, input, output_size)
    x, unbatched = _batched(input, nsp)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{op}: \"adaptive_avg_pool\" not implemented for '{x.dtype.name}'")
    if all(o == 1 for o in out):
        y = x.mean(tuple(range(2, 2 + nsp)), keepdim=True)  # global average pooling
    elif all(o > 0 and s % o == 0 for s, o in zip(size, out)):
        k = tuple(s // o for s, o in zip(size, out))  # equal windows: plain average pooling
        y = AvgPoolNd.apply(x, (k, k, ((0, 0),) * nsp, float(_prod(k))))
    else:
        y = x
        for d in range(nsp):
            if out[d] == size[d]:
                continue
            starts, ends = _adaptive_ranges(size[d], out[d])
            rows = [[1.0 / (e - s) if s <= i < e else 0.0 for i in range(size[d])]
                    for s, e in zip(starts, ends)]
            y = _along(y, 2 + d, _matrix(x, rows, size[d]))
        y = y.contiguous()
    return y.squeeze(0) if unbatched else y


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a fixed output length, as ``torch.nn.functional.adaptive_avg_pool1d``
    (window ``o`` covers ``[floor(o*L/Out), ceil((o+1)*L/Out))``)."""
    if isinstance(input, Tensor) and input.ndim not in (2, 3):
        raise RuntimeError(
            f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor for argument "
            "#1 'self' (while checking arguments for adaptive_avg_pool1d)"
        )
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed ``(H_out, W_out)`` (None keeps that size), as
    ``torch.nn.functional.adaptive_avg_pool2d``.

    >>> adaptive_avg_pool2d(flambeau.arange(16.).reshape(1, 1, 4, 4), 1).flatten().tolist()
    [7.5]
    """
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """Average pooling to a fixed ``(D_out, H_out, W_out)``, as
    ``torch.nn.functional.adaptive_avg_pool3d``."""
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


def _adaptive_max(op, nsp, input, output_size, return_indices):
    size, out = _adaptive_args(op, nsp, input, output_size)
    x, unbatched = _batched(input, nsp)
    if any(o == 0 for o in out):
        raise RuntimeError(f"{op}: output_size must be greater than 0, but got {out}")
    if all(s % o == 0 for s, o in zip(size, out)):
        k = tuple(s // o for s, o in zip(size, out))
        values, indices = MaxPoolNd.apply(x, k, k, ((0, 0),) * nsp, (1,) * nsp)
    else:
        values, indices = AdaptiveMaxPoolNd.apply(x, out)
    if unbatched:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return (values, indices) if return_indices else values


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to a fixed output length, as ``torch.nn.functional.adaptive_max_pool1d``."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed ``(H_out, W_out)``, as ``torch.nn.functional.adaptive_max_pool2d``.
    """
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling to a fixed ``(D_out, H_out, W_out)``, as
    ``torch.nn.functional.adaptive_max_pool3d``."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool3d(input, output_size, True)
