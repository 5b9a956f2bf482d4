"""Convolution ops: conv1d/2d/3d, conv_transpose1d/2d/3d, unfold and fold.

Three linear Functions carry every convolution, each the adjoint of the others in one argument:

* ``ConvNd(x, w)``: the cross-correlation ``y = conv(x, w)`` (``Backend.conv``);
* ``ConvInputGrad(y, w)``: its adjoint in ``x``, the transposed convolution
  (``Backend.conv_input_grad``), which is also ``conv_transpose``;
* ``ConvWeightGrad(x, y)``: its adjoint in ``w`` (``Backend.conv_weight_grad``).

Because each one's backward is written with the other two, gradients of any order work.
Geometry travels as ``geom = (stride, padding, dilation, groups)`` with ``padding`` as
``((before, after), ...)`` per spatial dim, so asymmetric 'same' padding needs no copy.
"""
from __future__ import annotations

from ._util import InternalFunction, Tensor, check_device, dt

__all__ = [
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "unfold", "fold",
]


# =============================================================================
# argument parsing shared with pooling
# =============================================================================


def ntuple(value, n, name, op="convolution"):
    """``value`` (an int or a sequence of 1 or ``n`` ints) as a tuple of ``n`` ints."""
    if isinstance(value, bool):
        raise TypeError(f"{op}(): argument '{name}' must be an int or a tuple of ints, not bool")
    if isinstance(value, int):
        return (value,) * n
    if isinstance(value, Tensor):
        value = value.tolist()
    try:
        vals = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(
            f"{op}(): argument '{name}' must be an int or a tuple of ints, not "
            f"{type(value).__name__}"
        ) from None
    if len(vals) == 1:
        return vals * n
    if len(vals) != n:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {n} values to match "
            f"the convolution dimensions, but got {name}={list(vals)}"
        )
    return vals


def _sizes(shape):
    return " x ".join(str(s) for s in shape)


def _prod(xs):
    n = 1
    for v in xs:
        n *= v
    return n


# =============================================================================
# the three convolution Functions
# =============================================================================


class ConvNd(InternalFunction):
    _backward_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, geom):
        be = x._backend
        stride, padding, dilation, groups = geom
        needs = ctx.needs_input_grad
        # the unfolded input serves the weight gradient too: let the backend keep it
        cache = {} if needs and needs[1] else None
        out = be.conv(x._data, weight._data, None if bias is None else bias._data, stride,
                      padding, dilation, groups, cache)
        ctx.save_for_backward(x, weight)
        ctx.geom = geom
        ctx.cache = cache
        return Tensor._make(out, be, x.dtype, x.device)

    @staticmethod
    def backward(ctx, g):  # dx = conv_transpose(g, w); dw = correlate(x, g); db = sum of g
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        geom = ctx.geom
        cache = ctx.cache if ctx.cache is not None else {}
        gx = gw = gb = None
        if needs[0]:
            gx = ConvInputGrad.apply(g, w, tuple(x.shape[2:]), geom, cache)
        if needs[1]:
            gw = ConvWeightGrad.apply(x, g, tuple(w.shape[2:]), geom, cache)
        if needs[2]:
            gb = g.sum((0,) + tuple(range(2, g.ndim)))
        return gx, gw, gb, None


class ConvInputGrad(InternalFunction):
    """``conv_transpose(y, w)``: the adjoint of ``conv(., w)``, output spatial ``size``."""

    _backward_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, y, weight, size, geom, cache=None):
        be = y._backend
        out = be.conv_input_grad(y._data, weight._data, size, *geom, cache=cache)
        ctx.save_for_backward(y, weight)
        ctx.geom = geom
        return Tensor._make(out, be, y.dtype, y.device)

    @staticmethod
    def backward(ctx, gg):  # <T(y, w), gg> = <y, conv(gg, w)> = <w, correlate(gg, y)>
        y, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        gy = gw = None
        if needs[0]:
            gy = ConvNd.apply(gg, w, None, ctx.geom)
        if needs[1]:
            gw = ConvWeightGrad.apply(gg, y, tuple(w.shape[2:]), ctx.geom, None)
        return gy, gw, None, None, None


class ConvWeightGrad(InternalFunction):
    """``correlate(x, y)``: the adjoint of ``conv(x, .)``, weight-shaped."""

    _backward_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def forward(ctx, x, y, kernel, geom, cache=None):
        be = x._backend
        out = be.conv_weight_grad(x._data, y._data, kernel, *geom, cache=cache)
        ctx.save_for_backward(x, y)
        ctx.geom = geom
        return Tensor._make(out, be, x.dtype, x.device)

    @staticmethod
    def backward(ctx, gw):  # <Wg(x, y), G> = <y, conv(x, G)> = <x, T(y, G)>
        x, y = ctx.saved_tensors
        needs = ctx.needs_input_grad
        gx = gy = None
        if needs[0]:
            gx = ConvInputGrad.apply(y, gw, tuple(x.shape[2:]), ctx.geom, None)
        if needs[1]:
            gy = ConvNd.apply(x, gw, None, ctx.geom)
        return gx, gy, None, None, None


# =============================================================================
# public convolutions
# =============================================================================


def _check_common(op, nsp, input, weight, bias):
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(
            f"{op}(): expected input and weight to be Tensors, got {type(input).__name__} and "
            f"{type(weight).__name__}"
        )
    check_device(op, input, weight, bias)
    if input.ndim not in (nsp + 1, nsp + 2):
        raise RuntimeError(
            f"Expected {nsp + 1}D (unbatched) or {nsp + 2}D (batched) input to {op}, but got "
            f"input of size: {list(input.shape)}"
        )
    if weight.ndim != nsp + 2:
        raise RuntimeError(
            f"{op}: expected weight to be {nsp + 2}-dimensional (out_channels, "
            f"in_channels / groups, *kernel_size), but got weight of size {list(weight.shape)}"
        )
    if input.dtype is not weight.dtype:
        raise RuntimeError(
            f"expected scalar type {dt.scalar_type_name(input.dtype)} but found "
            f"{dt.scalar_type_name(weight.dtype)} ({op}: input is {input.dtype.name}, weight is "
            f"{weight.dtype.name}; convert one with .to())"
        )
    if input.dtype is dt.bool_:
        raise RuntimeError(f"{op}: \"slow_conv\" not implemented for 'Bool'")
    if bias is not None:
        if not isinstance(bias, Tensor):
            raise TypeError(f"{op}(): argument 'bias' must be a Tensor or None")
        if bias.dtype is not input.dtype:
            raise RuntimeError(
                f"Input type ({input.dtype.name}) and bias type ({bias.dtype.name}) should be "
                "the same"
            )


def _check_geometry(stride, dilation, groups, pads):
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if any(p < 0 for p in pads):
        raise RuntimeError("negative padding is not supported")


def _conv_padding(padding, kernel, stride, dilation, nsp):
    """``padding`` (int, tuple, 'valid' or 'same') as ``((before, after), ...)``."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nsp
        if padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            # PyTorch puts the odd extra element of 'same' padding after (right/bottom)
            pads = []
            for i in range(nsp):
                total = dilation[i] * (kernel[i] - 1)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    p = ntuple(padding, nsp, "padding")
    if any(v < 0 for v in p):
        raise RuntimeError("negative padding is not supported")
    return tuple((v, v) for v in p)


def _conv(op, nsp, input, weight, bias, stride, padding, dilation, groups):
    _check_common(op, nsp, input, weight, bias)
    stride = ntuple(stride, nsp, "stride")
    dilation = ntuple(dilation, nsp, "dilation")
    groups = int(groups)
    kernel = tuple(weight.shape[2:])
    pads = _conv_padding(padding, kernel, stride, dilation, nsp)
    _check_geometry(stride, dilation, groups, [p for pr in pads for p in pr])
    unbatched = input.ndim == nsp + 1
    if unbatched:
        input = input.unsqueeze(0)
    o, cg = weight.shape[:2]
    if o % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size {list(weight.shape)} instead"
        )
    if input.shape[1] != cg * groups:
        shape = list(input.shape[1:] if unbatched else input.shape)
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input{shape} "
            f"to have {cg * groups} channels, but got {input.shape[1]} channels instead"
        )
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != o):
        raise RuntimeError(
            f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with "
            f"{o} elements, but got bias of size {list(bias.shape)} instead"
        )
    padded = tuple(input.shape[2 + i] + pads[i][0] + pads[i][1] for i in range(nsp))
    eff = tuple(dilation[i] * (kernel[i] - 1) + 1 for i in range(nsp))
    if any(padded[i] < eff[i] for i in range(nsp)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({_sizes(padded)}). Kernel size: "
            f"({_sizes(eff)}). Kernel size can't be greater than actual input size"
        )
    out = ConvNd.apply(input, weight, bias, (stride, pads, dilation, groups))
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation over ``(N, C_in, L)`` with ``weight`` ``(C_out, C_in/groups, k)``,
    as ``torch.nn.functional.conv1d``. ``padding`` may be an int, a tuple, 'valid' or 'same'.

    >>> conv1d(flambeau.ones(1, 1, 5), flambeau.ones(1, 1, 3)).tolist()
    [[[3.0, 3.0, 3.0]]]
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation over ``(N, C_in, H, W)`` with ``weight`` ``(C_out, C_in/groups,
    kH, kW)``, as ``torch.nn.functional.conv2d``: unfold + one matmul.

    >>> conv2d(flambeau.ones(1, 1, 4, 4), flambeau.ones(2, 1, 3, 3), padding="same").shape
    flambeau.Size([1, 2, 4, 4])
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation over ``(N, C_in, D, H, W)``, as ``torch.nn.functional.conv3d``."""
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(op, nsp, input, weight, bias, stride, padding, output_padding, groups,
                    dilation):
    if isinstance(padding, str):
        raise TypeError(f"{op}(): argument 'padding' must be tuple of ints, not str")
    _check_common(op, nsp, input, weight, bias)
    stride = ntuple(stride, nsp, "stride")
    dilation = ntuple(dilation, nsp, "dilation")
    pad = ntuple(padding, nsp, "padding")
    opad = ntuple(output_padding, nsp, "output_padding")
    groups = int(groups)
    _check_geometry(stride, dilation, groups, pad)
    if any(v < 0 for v in opad):
        raise RuntimeError("negative output_padding is not supported")
    if any(opad[i] >= stride[i] and opad[i] >= dilation[i] for i in range(nsp)):
        raise RuntimeError(
            "output padding must be smaller than either stride or dilation, but got "
            f"output_padding={list(opad)}, stride={list(stride)}, dilation={list(dilation)}"
        )
    unbatched = input.ndim == nsp + 1
    if unbatched:
        input = input.unsqueeze(0)
    cin, cog = weight.shape[:2]
    if cin % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size {list(weight.shape)} instead"
        )
    if input.shape[1] != cin:
        shape = list(input.shape[1:] if unbatched else input.shape)
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected input{shape} to "
            f"have {cin} channels, but got {input.shape[1]} channels instead"
        )
    cout = cog * groups
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != cout):
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected bias to be "
            f"1-dimensional with {cout} elements, but got bias of size {list(bias.shape)} instead"
        )
    kernel = tuple(weight.shape[2:])
    insize = tuple(input.shape[2:])
    full = tuple((insize[i] - 1) * stride[i] - 2 * pad[i] + dilation[i] * (kernel[i] - 1)
                 + 1 + opad[i] for i in range(nsp))
    if any(s <= 0 for s in full):
        raise RuntimeError(
            f"Given input size per channel: ({_sizes(insize)}). Calculated output size per "
            f"channel: ({_sizes(full)}). Output size is too small"
        )
    # output padding adds rows after the last window; as long as it fits in ``pad`` it is the
    # same convolution geometry with less padding after (no copy); beyond, zeros are appended
    inner = tuple(min(opad[i], pad[i]) for i in range(nsp))
    extra = tuple(opad[i] - inner[i] for i in range(nsp))
    pads = tuple((pad[i], pad[i] - inner[i]) for i in range(nsp))
    size = tuple(full[i] - extra[i] for i in range(nsp))
    out = ConvInputGrad.apply(input, weight, size, (stride, pads, dilation, groups), None)
    if any(extra):
        out = _pad_end(out, extra)
    if bias is not None:
        out = out + bias.reshape((cout,) + (1,) * nsp)
    return out.squeeze(0) if unbatched else out


def _pad_end(x, extra):
    from .shape import cat

    for i, e in enumerate(extra):
        if e:
            d = 2 + i
            shape = list(x.shape)
            shape[d] = e
            z = Tensor._make(x._backend.full(tuple(shape), 0, x.dtype), x._backend, x.dtype, x.device)
            x = cat([x, z], d)
    return x


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-D transposed convolution, as ``torch.nn.functional.conv_transpose1d``; ``weight`` is
    ``(C_in, C_out/groups, k)``."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution ("deconvolution"), as ``torch.nn.functional.conv_transpose2d``:
    the gradient of ``conv2d`` with respect to its input.

    >>> conv_transpose2d(flambeau.ones(1, 1, 2, 2), flambeau.ones(1, 1, 2, 2), stride=2).shape
    flambeau.Size([1, 1, 4, 4])
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """3-D transposed convolution, as ``torch.nn.functional.conv_transpose3d``."""
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


# =============================================================================
# unfold / fold (im2col / col2im as tensor ops)
# =============================================================================


class Unfold(InternalFunction):
    _backward_name = "Im2ColBackward0"

    @staticmethod
    def forward(ctx, x, kernel, geom):
        be = x._backend
        stride, pads, dilation = geom
        cols = be.im2col(x._data, kernel, stride, pads, dilation)
        n, c = x.shape[:2]
        L = _prod(cols.shape[2 + len(kernel):])
        ctx.args = (tuple(x.shape[2:]), kernel, geom)
        out = be.reshape(be.ascontiguous(cols), (n, c * _prod(kernel), L))
        return Tensor._make(out, be, x.dtype, x.device)

    @staticmethod
    def backward(ctx, g):  # the adjoint of unfolding is folding (overlaps add up)
        size, kernel, geom = ctx.args
        return Fold.apply(g, size, kernel, geom), None, None


class Fold(InternalFunction):
    _backward_name = "Col2ImBackward0"

    @staticmethod
    def forward(ctx, cols, size, kernel, geom):
        be = cols._backend
        stride, pads, dilation = geom
        nsp = len(kernel)
        blocks = tuple(
            (size[i] + pads[i][0] + pads[i][1] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1
            for i in range(nsp)
        )
        n, ck = cols.shape[:2]
        c = ck // _prod(kernel)
        data = be.reshape(cols._data, (n, c) + tuple(kernel) + blocks)
        out = be.col2im(data, size, kernel, stride, pads, dilation)
        ctx.args = (kernel, geom)
        return Tensor._make(out, be, cols.dtype, cols.device)

    @staticmethod
    def backward(ctx, g):  # the adjoint of folding is unfolding
        kernel, geom = ctx.args
        return Unfold.apply(g, kernel, geom), None, None, None


def _fold_args(kernel_size, dilation, padding, stride, op):
    k = ntuple(kernel_size, 2, "kernel_size", op)
    d = ntuple(dilation, 2, "dilation", op)
    p = ntuple(padding, 2, "padding", op)
    s = ntuple(stride, 2, "stride", op)
    if any(v <= 0 for v in k):
        raise RuntimeError(f"{op}: kernel size should be greater than zero, but got kernel_size={k}")
    if any(v <= 0 for v in s):
        raise RuntimeError(f"{op}: stride should be greater than zero, but got stride={s}")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"{op}: dilation should be greater than zero, but got dilation={d}")
    if any(v < 0 for v in p):
        raise RuntimeError(f"{op}: padding should be non-negative, but got padding={p}")
    return k, d, p, s


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding blocks: ``(N, C, H, W)`` to ``(N, C * kH * kW, L)``, as
    ``torch.nn.functional.unfold`` (im2col).

    >>> unfold(flambeau.ones(1, 2, 3, 3), 2).shape
    flambeau.Size([1, 8, 4])
    """
    if input.ndim not in (3, 4):
        raise RuntimeError(
            f"Input Error: Only 3D or 4D input Tensors are supported (got {input.ndim}D)"
        )
    k, d, p, s = _fold_args(kernel_size, dilation, padding, stride, "unfold")
    unbatched = input.ndim == 3
    if unbatched:
        input = input.unsqueeze(0)
    blocks = tuple((input.shape[2 + i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1
                   for i in range(2))
    if any(b < 1 for b in blocks):
        raise RuntimeError(
            f"Given input with spatial size {tuple(input.shape[2:])}, kernel_size={k}, "
            f"dilation={d}, padding={p}, calculated shape of the array of sliding blocks as "
            f"{blocks}, but its components must be at least one."
        )
    out = Unfold.apply(input, k, (s, tuple((v, v) for v in p), d))
    return out.squeeze(0) if unbatched else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding blocks back into an image: ``(N, C * kH * kW, L)`` to ``(N, C, H, W)``, as
    ``torch.nn.functional.fold`` (col2im; the adjoint of ``unfold``).

    >>> fold(flambeau.ones(1, 4, 4), (3, 3), 2)[0, 0].tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
            f"(got {input.ndim}D)"
        )
    size = ntuple(output_size, 2, "output_size", "fold")
    k, d, p, s = _fold_args(kernel_size, dilation, padding, stride, "fold")
    unbatched = input.ndim == 2
    if unbatched:
        input = input.unsqueeze(0)
    kk = k[0] * k[1]
    if input.shape[1] % kk:
        raise RuntimeError(
            f"Expected size of input's dimension 1 to be divisible by the product of "
            f"kernel_size, but got input.size(1)={input.shape[1]} and kernel_size={k}"
        )
    blocks = tuple((size[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2))
    if any(b < 1 for b in blocks) or blocks[0] * blocks[1] != input.shape[2]:
        raise RuntimeError(
            f"Given output_size={size}, kernel_size={k}, dilation={d}, padding={p}, stride={s}, "
            f"expected size of input's dimension 2 to match the calculated number of sliding "
            f"blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got "
            f"input.size(2)={input.shape[2]}."
        )
    out = Fold.apply(input, size, k, (s, tuple((v, v) for v in p), d))
    return out.squeeze(0) if unbatched else out
