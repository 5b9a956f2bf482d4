"""Pooling ops: max and average pooling (1-3 d), max unpooling and power-average pooling
(adaptive pooling is in ``nn_adaptive``, resampling in ``nn_resample``).

Max pooling returns PyTorch's flat ``indices`` (``h * W + w`` per sample and channel); its
gradient scatters into those positions (``MaxPoolScatter``), whose own gradient gathers from
them, so double backward works. Average pooling and its adjoint are a pair of linear Functions
in the same way.
"""
from __future__ import annotations

from ._util import InternalFunction, Tensor, dt
from .nn_conv import _prod

__all__ = [
    "max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
    "max_pool2d_with_indices", "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d",
    "avg_pool3d", "max_unpool1d", "max_unpool2d", "max_unpool3d", "lp_pool1d", "lp_pool2d",
]


# =============================================================================
# Functions
# =============================================================================


class MaxPoolNd(InternalFunction):
    _backward_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, kernel, stride, pads, dilation):
        be = x._backend
        values, indices = be.max_pool(x._data, kernel, stride, pads, dilation)
        v = Tensor._make(values, be, x.dtype, x.device)
        i = Tensor._make(indices, be, dt.int64, x.device)
        ctx.mark_non_differentiable(i)
        ctx.save_for_backward(i)
        ctx.size = tuple(x.shape[2:])
        # windows that cannot overlap pick distinct elements: the gradient is a plain scatter
        ctx.unique = all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))
        return v, i

    @staticmethod
    def backward(ctx, g, _):  # the gradient flows to each window's maximum
        indices, = ctx.saved_tensors
        return MaxPoolScatter.apply(g, indices, ctx.size, ctx.unique), None, None, None, None


class MaxPoolScatter(InternalFunction):
    """zeros of spatial ``size`` with ``g`` added at the flat ``indices``."""

    _backward_name = "MaxPool2DWithIndicesBackwardBackward0"

    @staticmethod
    def forward(ctx, g, indices, size, unique):
        be = g._backend
        out = be.max_pool_backward(g._data, indices._data, size, unique)
        ctx.save_for_backward(indices)
        return Tensor._make(out, be, g.dtype, g.device)

    @staticmethod
    def backward(ctx, gg):  # the adjoint of scatter-add is gather
        indices, = ctx.saved_tensors
        n, c = indices.shape[:2]
        picked = gg.reshape(n, c, -1).gather(2, indices.reshape(n, c, -1))
        return picked.reshape(indices.shape), None, None, None


class AvgPoolNd(InternalFunction):
    _backward_name = "AvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, geom):
        be = x._backend
        kernel, stride, pads, divisor = geom
        out = be.avg_pool(x._data, kernel, stride, pads, divisor)
        ctx.geom = geom
        ctx.size = tuple(x.shape[2:])
        return Tensor._make(out, be, x.dtype, x.device)

    @staticmethod
    def backward(ctx, g):  # each input element gets g / divisor of every window it is in
        return AvgPoolAdjoint.apply(g, ctx.size, ctx.geom), None


class AvgPoolAdjoint(InternalFunction):
    _backward_name = "AvgPool2DBackwardBackward0"

    @staticmethod
    def forward(ctx, g, size, geom):
        be = g._backend
        kernel, stride, pads, divisor = geom
        out = be.avg_pool_backward(g._data, size, kernel, stride, pads, divisor)
        ctx.geom = geom
        return Tensor._make(out, be, g.dtype, g.device)

    @staticmethod
    def backward(ctx, gg):  # the adjoint of the adjoint is average pooling again
        return AvgPoolNd.apply(gg, ctx.geom), None, None


# =============================================================================
# argument checks
# =============================================================================

_NAMES = {1: "one", 2: "two", 3: "three"}


def _pool_tuple(value, nsp, name, op, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * nsp
    try:
        vals = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f"{op}(): argument '{name}' must be an int or a tuple of ints, not "
                        f"{type(value).__name__}") from None
    if allow_none and len(vals) == 0:
        return None
    if len(vals) == 1:
        return vals * nsp
    if len(vals) != nsp:
        raise RuntimeError(
            f"{op}: {name} must either be a single int, or a tuple of {_NAMES[nsp]} ints"
        )
    return vals


def _check_input(op, nsp, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    ok = input.ndim in (nsp + 1, nsp + 2) and all(s > 0 for s in input.shape[-(nsp + 1):])
    if not ok:
        raise RuntimeError(
            f"{op}: non-empty {nsp + 1}D or {nsp + 2}D (batch mode) tensor expected for input, "
            f"but got input of size {list(input.shape)}"
        )


def _pool_out(size, k, s, p, d, ceil_mode):
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1  # the last window must start inside the input or the left padding
    return out


def _pool_geometry(op, nsp, input, kernel_size, stride, padding, dilation, ceil_mode):
    k = _pool_tuple(kernel_size, nsp, "kernel_size", op)
    s = _pool_tuple(stride, nsp, "stride", op, allow_none=True) or k
    p = _pool_tuple(padding, nsp, "padding", op)
    d = _pool_tuple(dilation, nsp, "dilation", op)
    if any(v <= 0 for v in k):
        raise RuntimeError(f"{op}: kernel size should be greater than zero, but got "
                           f"kernel_size={list(k)}")
    if any(v <= 0 for v in s):
        raise RuntimeError(f"{op}: stride should be greater than zero, but got stride={list(s)}")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"{op}: dilation should be greater than zero, but got "
                           f"dilation={list(d)}")
    if any(v < 0 for v in p):
        raise RuntimeError(f"{op}: padding should be non-negative, but got padding={list(p)}")
    for i in range(nsp):
        if p[i] > k[i] // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={p[i]}, "
                f"kernel_size={k[i]} and dilation={d[i]} ({op} on input of size "
                f"{list(input.shape)})"
            )
    size = tuple(input.shape[-nsp:])
    out = tuple(_pool_out(size[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(nsp))
    if any(o < 1 for o in out):
        c = input.shape[-nsp - 1]
        raise RuntimeError(
            f"Given input size: ({'x'.join(map(str, (c,) + size))}). Calculated output size: "
            f"({'x'.join(map(str, (c,) + out))}). Output size is too small ({op} with "
            f"kernel_size={list(k)}, stride={list(s)}, padding={list(p)}, dilation={list(d)})"
        )
    # padding after: whatever the last window needs (ceil mode may need more than ``p``)
    pads = tuple(
        (p[i], max(0, (out[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 - size[i] - p[i]))
        for i in range(nsp)
    )
    return k, s, p, d, pads, out


def _batched(input, nsp):
    return (input.unsqueeze(0), True) if input.ndim == nsp + 1 else (input, False)


# =============================================================================
# max pooling
# =============================================================================


def _max_pool(op, nsp, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    _check_input(op, nsp, input)
    k, s, _, d, pads, _ = _pool_geometry(op, nsp, input, kernel_size, stride, padding, dilation,
                                         ceil_mode)
    x, unbatched = _batched(input, nsp)
    if x.dtype is dt.bool_:
        raise RuntimeError(f"{op}: \"max_pool\" not implemented for 'Bool'")
    values, indices = MaxPoolNd.apply(x, k, s, pads, d)
    if unbatched:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return (values, indices) if return_indices else values


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling over ``(N, C, L)``, as ``torch.nn.functional.max_pool1d``."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling over ``(N, C, H, W)``, as ``torch.nn.functional.max_pool2d``; ``stride``
    defaults to ``kernel_size``. With ``return_indices`` also the flat ``h * W + w`` positions of
    the maxima.

    >>> max_pool2d(flambeau.arange(16.).reshape(1, 1, 4, 4), 2).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """3-D max pooling over ``(N, C, D, H, W)``, as ``torch.nn.functional.max_pool3d``."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# =============================================================================
# average pooling
# =============================================================================


def _avg_counts(size, k, s, p, out, include_pad):
    """Per output position of one dim: the divisor's factor, as PyTorch's avg_pool computes it
    (``include_pad``: the window clipped to the padded input; else clipped to the input)."""
    counts = []
    for o in range(out):
        start = o * s - p
        end = min(start + k, size + p)
        if include_pad:
            counts.append(end - start)
        else:
            counts.append(min(end, size) - max(start, 0))
    return counts


def _divisor(x, size, k, s, p, out, count_include_pad, divisor_override):
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        return float(divisor_override)
    per_dim = [_avg_counts(size[i], k[i], s[i], p[i], out[i], count_include_pad)
               for i in range(len(k))]
    if all(len(set(c)) == 1 for c in per_dim):
        return float(_prod(c[0] for c in per_dim))  # the same everywhere: a scalar
    table = [1.0]
    for c in per_dim:  # outer product over dims, flattened row-major
        table = [t * v for t in table for v in c]
    be = x._backend
    return be.reshape(be.asarray(table, x.dtype), tuple(out))


def _avg_pool(op, nsp, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    _check_input(op, nsp, input)
    k, s, p, _, pads, out = _pool_geometry(op, nsp, input, kernel_size, stride, padding, 1,
                                           ceil_mode)
    x, unbatched = _batched(input, nsp)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{op}: \"avg_pool\" not implemented for '{x.dtype.name}'; convert "
                           "the input to a floating dtype first")
    div = _divisor(x, tuple(x.shape[2:]), k, s, p, out, count_include_pad, divisor_override)
    y = AvgPoolNd.apply(x, (k, s, pads, div))
    return y.squeeze(0) if unbatched else y


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling over ``(N, C, L)``, as ``torch.nn.functional.avg_pool1d``."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling over ``(N, C, H, W)``, as ``torch.nn.functional.avg_pool2d``:
    ``count_include_pad`` counts the zero padding in the divisor; ``divisor_override``
    replaces it.

    >>> avg_pool2d(flambeau.ones(1, 1, 3, 3), 2, padding=1, count_include_pad=False).tolist()
    [[[[1.0, 1.0], [1.0, 1.0]]]]
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """3-D average pooling over ``(N, C, D, H, W)``, as ``torch.nn.functional.avg_pool3d``."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


# =============================================================================
# max unpooling and power-average pooling
# =============================================================================


def _unpool_size(input, kernel, stride, padding, output_size, nsp):
    default = [(input.shape[-nsp + d] - 1) * stride[d] + kernel[d] - 2 * padding[d]
               for d in range(nsp)]
    if output_size is None:
        return tuple(default)
    output_size = list(output_size)
    if len(output_size) == nsp + 2:
        output_size = output_size[2:]
    if len(output_size) != nsp:
        raise ValueError(
            f"output_size should be a sequence containing {nsp} or {nsp + 2} elements, but it has "
            f"a length of '{len(output_size)}'"
        )
    for d in range(nsp):
        lo, hi = default[d] - stride[d], default[d] + stride[d]
        if not lo < output_size[d] < hi:
            raise ValueError(
                f'invalid output_size "{tuple(output_size)}" (dim {d} must be between {lo} and {hi})'
            )
    return tuple(int(v) for v in output_size)


def _max_unpool(op, nsp, input, indices, kernel_size, stride, padding, output_size):
    k = _pool_tuple(kernel_size, nsp, "kernel_size", op)
    s = _pool_tuple(stride, nsp, "stride", op, allow_none=True) or k
    p = _pool_tuple(padding, nsp, "padding", op)
    if not isinstance(indices, Tensor) or indices.dtype is not dt.int64:
        raise RuntimeError(f"{op}: expected indices to be an int64 tensor (from max_pool's "
                           "return_indices)")
    if indices.shape != input.shape:
        raise RuntimeError(
            f"{op}: Expected shape of indices to be same as that of the input tensor "
            f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}"
        )
    size = _unpool_size(input, k, s, p, output_size, nsp)
    x, unbatched = _batched(input, nsp)
    idx = indices.unsqueeze(0) if unbatched else indices
    plane = _prod(size)
    if idx.numel():
        hi, lo = int(idx.max().item()), int(idx.min().item())
        if hi >= plane or lo < 0:
            bad = hi if hi >= plane else lo
            raise RuntimeError(
                f"Found an invalid max index: {bad} (output volumes are of size "
                f"{'x'.join(map(str, size))})"
            )
    y = MaxUnpoolNd.apply(x, idx, size)
    return y.squeeze(0) if unbatched else y


class MaxUnpoolNd(InternalFunction):
    """zeros of spatial ``size`` with each value written at its flat index (a repeated index:
    the last write wins, as PyTorch's kernel)."""

    _backward_name = "MaxUnpool2DBackward0"

    @staticmethod
    def forward(ctx, x, indices, size):
        be = x._backend
        n, c = x.shape[:2]
        out = be.full((n, c, _prod(size)), 0, x.dtype)
        ni = be.reshape(be.arange(0, n, 1, dt.int64), (n, 1, 1))
        ci = be.reshape(be.arange(0, c, 1, dt.int64), (1, c, 1))
        flat = be.reshape(indices._data, (n, c, _prod(indices.shape[2:])))
        be.setitem(out, (ni, ci, flat), be.reshape(x._data, flat.shape))
        ctx.save_for_backward(indices)
        return Tensor._make(be.reshape(out, (n, c) + tuple(size)), be, x.dtype, x.device)

    @staticmethod
    def backward(ctx, g):  # each input reads the gradient at its index (PyTorch: a gather)
        indices, = ctx.saved_tensors
        n, c = indices.shape[:2]
        return g.reshape(n, c, -1).gather(2, indices.reshape(n, c, -1)).reshape(indices.shape), \
            None, None


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool1d``: values back at their ``indices``, zeros elsewhere,
    as ``torch.nn.functional.max_unpool1d``."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool2d``, as ``torch.nn.functional.max_unpool2d``.

    >>> v, i = max_pool2d(flambeau.arange(16.).reshape(1, 1, 4, 4), 2, return_indices=True)
    >>> max_unpool2d(v, i, 2)[0, 0, :2].tolist()
    [[0.0, 0.0, 0.0, 0.0], [0.0, 5.0, 0.0, 7.0]]
    """
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool3d``, as ``torch.nn.functional.max_unpool3d``."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                       output_size)


def _lp_pool(op, nsp, input, norm_type, kernel_size, stride, ceil_mode):
    k = _pool_tuple(kernel_size, nsp, "kernel_size", op)
    pooled = _avg_pool(op, nsp, input.pow(norm_type), kernel_size, stride, 0, ceil_mode, True,
                       None)
    # PyTorch's form: sign(out) * relu(|out|) keeps NaN where the average is negative
    return (pooled.sign() * pooled.abs().clamp_min(0)).mul(_prod(k)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling ``(sum x^p)^(1/p)`` over windows, as
    ``torch.nn.functional.lp_pool1d``."""
    return _lp_pool("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling ``(sum x^p)^(1/p)`` over 2-D windows, as
    ``torch.nn.functional.lp_pool2d``."""
    return _lp_pool("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)
