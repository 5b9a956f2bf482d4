"""Normalisation: one Function normalises over a set of axes (layer, batch and group norm
differ only in which axes and how the affine parameters broadcast)."""
from __future__ import annotations

from flambeau._tensor import Tensor
from flambeau.autograd.function import InternalFunction
from flambeau.autograd.grad_mode import _state as _grad_state


def _unbroadcast(g, shape):
    return g if tuple(g.shape) == tuple(shape) else g.sum_to_size(shape)


class Normalize(InternalFunction):
    """``y = (x - mean) / sqrt(var + eps) * weight + bias`` with mean and (biased) var over
    ``axes``; ``weight``/``bias`` are tensors broadcastable to ``x`` or None. Returns ``y`` and
    the (non-differentiable) batch ``mean`` and ``var``, which batch norm needs for its running
    statistics."""

    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps):
        b = x._backend
        y, mean, rstd = b.layer_norm(x._data, None if weight is None else weight._data,
                                     None if bias is None else bias._data, axes, eps)
        mk = lambda d: Tensor._make(d, b, x.dtype, x.device)  # noqa: E731
        mean_t, rstd_t = mk(mean), mk(rstd)
        ctx.save_for_backward(x, weight, mean_t, rstd_t)
        ctx.axes = axes
        ctx.eps = eps
        ctx.has_bias = bias is not None
        ctx.bias_shape = None if bias is None else bias.shape
        var = b.binary("sub", b.unary("reciprocal", b.binary("mul", rstd, rstd)), eps)
        var_t = mk(var)
        ctx.mark_non_differentiable(mean_t, var_t)
        return mk(y), mean_t, var_t

    @staticmethod
    def backward(ctx, g, _gmean, _gvar):
        # xhat = (x - mean) rstd, y = xhat w + b:
        # dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dxhat = g w
        # dw = sum(g xhat), db = sum(g) over the broadcast axes
        x, weight, mean, rstd = ctx.saved_tensors
        axes = ctx.axes
        if _grad_state.enabled:
            # create_graph: recompute the statistics from x so the graph of dx reaches them
            mean = x.mean(axes, keepdim=True)
            xc = x - mean
            rstd = ((xc * xc).mean(axes, keepdim=True) + ctx.eps).rsqrt()
            xhat = xc * rstd
        else:
            xhat = (x - mean) * rstd
        needs = ctx.needs_input_grad
        gx = gw = gb = None
        gxhat = g * weight if weight is not None else g
        if needs[0]:
            gx = rstd * (gxhat - gxhat.mean(axes, keepdim=True)
                         - xhat * (gxhat * xhat).mean(axes, keepdim=True))
        if weight is not None and needs[1]:
            gw = _unbroadcast(g * xhat, weight.shape)
        if ctx.has_bias and needs[2]:
            gb = _unbroadcast(g, ctx.bias_shape)
        return gx, gw, gb, None, None
