"""Linear maps, embedding lookup and padding."""
from __future__ import annotations

from flambeau import _dtype as dt
from flambeau._tensor import Tensor
from flambeau.autograd.function import InternalFunction


class Linear(InternalFunction):
    """``y = x W^T + b`` in one node (instead of transpose, matmul and add)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        b = x._backend
        y = b.matmul(x._data, b.permute(weight._data, (1, 0)))
        if bias is not None:
            b.binary_inplace("add", y, bias._data)
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return Tensor._make(y, b, x.dtype, x.device)

    @staticmethod
    def backward(ctx, g):  # dx = g W, dW = g^T x (over all leading dims), db = sum(g)
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        gx = gw = gb = None
        if needs[0]:
            gx = g.matmul(weight)
        if needs[1] or (ctx.has_bias and needs[2]):
            # over all leading dims at once: (N, out) and (N, in) matrices (2-D ones already are)
            g2 = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
            if needs[1]:
                x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
                gw = g2.t().matmul(x2)
            if ctx.has_bias and needs[2]:
                gb = g2.sum(0)
        return gx, gw, gb


class Addmm(Linear):
    """``Linear`` with the arguments in ``torch.addmm(bias, x, weight.T)``'s order, for 2-D
    input: the node reads ``AddmmBackward0`` with the bias's node first in ``next_functions``,
    as PyTorch's ``F.linear``."""

    @staticmethod
    def forward(ctx, bias, x, weight):
        return Linear.forward(ctx, x, weight, bias)

    @staticmethod
    def backward(ctx, g):  # Linear's gradients, in this argument order
        need_b, need_x, need_w = ctx.needs_input_grad
        ctx.needs_input_grad = (need_x, need_w, need_b)
        try:
            gx, gw, gb = Linear.backward(ctx, g)
        finally:
            ctx.needs_input_grad = (need_b, need_x, need_w)
        return gb, gx, gw


class Embedding(InternalFunction):
    """Rows of ``weight`` picked by integer ``indices``; the gradient adds up per row and
    skips ``padding_idx``."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        b = weight._backend
        idx = indices._data
        if indices.dtype is not dt.int64:
            idx = b.astype(idx, dt.int64)
        ctx.save_for_backward(indices)
        ctx.meta = (weight.shape, padding_idx, scale_grad_by_freq)
        out = b.getitem(weight._data, (idx,))
        return Tensor._make(out, b, weight.dtype, weight.device)

    @staticmethod
    def backward(ctx, g):  # dW[i] = sum of g over the positions that looked up row i
        (indices,) = ctx.saved_tensors
        shape, padding_idx, scale_by_freq = ctx.meta
        flat = indices.reshape(-1).long()
        g2 = g.reshape(-1, shape[1])
        if scale_by_freq:
            counts = g2.new_zeros(shape[0]).index_add(0, flat, g2.new_ones(flat.shape[0]))
            g2 = g2 / counts[flat].unsqueeze(1)
        if padding_idx is not None:
            g2 = g2 * (flat != padding_idx).unsqueeze(1)
        gw = g2.new_zeros(shape).index_add(0, flat, g2)
        return gw, None, None, None


class ConstantPad(InternalFunction):
    """Pad with a constant; ``pad_width`` is ``((before, after), ...)`` for every axis."""

    @staticmethod
    def forward(ctx, x, pad_width, value):
        b = x._backend
        ctx.crop = tuple(slice(lo, lo + n) for (lo, _), n in zip(pad_width, x.shape))
        return Tensor._make(b.pad(x._data, pad_width, value), b, x.dtype, x.device)

    @staticmethod
    def backward(ctx, g):  # the gradient of the input is the un-padded region
        return g[ctx.crop], None, None
