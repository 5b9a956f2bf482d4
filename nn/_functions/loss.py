"""Fused losses: cross-entropy (log-softmax + NLL in one node) and the binary cross-entropies,
whose analytic gradients are exact where a composition of ops would hit a kink (at logit 0)."""
from __future__ import annotations

from flambeau import _dtype as dt
from flambeau._tensor import Tensor
from flambeau.autograd.function import InternalFunction
from flambeau.autograd.grad_mode import _state as _grad_state

from .activation import LogSoftmax


class CrossEntropy(InternalFunction):
    """Cross-entropy of logits ``x`` (N, C, *d) against class indices ``target`` (N, *d).

    Per position: ``(1 - eps) w[t] (-log p[t]) + eps/C sum_c w[c] (-log p[c])``, zero where
    ``t == ignore_index``; ``mean`` divides the sum by the summed ``w[t]`` of the positions
    that count, as PyTorch.
    """

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, eps, reduction):
        b = x._backend
        n_classes = x.shape[1]
        lsm = b.log_softmax(x._data, 1)
        t = target._data
        if target.dtype is not dt.int64:
            t = b.astype(t, dt.int64)
        valid = b.binary("ne", t, ignore_index)
        tc = b.where(valid, t, 0)
        idx_shape = (tc.shape[0], 1) + tuple(tc.shape[1:])
        picked = b.reshape(b.take_along_axis(lsm, b.reshape(tc, idx_shape), 1), tc.shape)
        validf = b.astype(valid, x.dtype)
        if weight is not None:
            wt = b.binary("mul", b.getitem(weight._data, (tc,)), validf)
        else:
            wt = validf
        loss = b.unary("neg", b.binary("mul", picked, wt))
        if eps:
            wl = lsm
            if weight is not None:
                wshape = (1, n_classes) + (1,) * (x.ndim - 2)
                wl = b.binary("mul", lsm, b.reshape(weight._data, wshape))
            smooth = b.binary("mul", b.unary("neg", b.reduce("sum", wl, (1,), False)), validf)
            loss = b.binary("add", b.binary("mul", loss, 1.0 - eps),
                            b.binary("mul", smooth, eps / n_classes))
        denom = None
        if reduction == "sum":
            loss = b.reduce("sum", loss, tuple(range(loss.ndim)), False)
        elif reduction == "mean":
            denom = b.reduce("sum", wt, tuple(range(wt.ndim)), False)
            loss = b.binary("div", b.reduce("sum", loss, tuple(range(loss.ndim)), False), denom)
        mk = lambda d: Tensor._make(d, b, x.dtype, x.device)  # noqa: E731
        ctx.save_for_backward(x, mk(lsm), target, weight, mk(wt), mk(validf),
                              None if denom is None else mk(denom))
        ctx.params = (eps, reduction, n_classes)
        return mk(loss)

    @staticmethod
    def backward(ctx, g):
        # d/dx_k = s * (a p_k - b_k) with p = softmax(x), s the upstream scale, and
        # a = (1-eps) w[t] + eps/C sum(w) v,  b_k = (1-eps) w[t] 1[k = t] + eps/C w[k] v
        x, lsm, target, weight, wt, validf, denom = ctx.saved_tensors
        eps, reduction, n_classes = ctx.params
        if _grad_state.enabled:
            lsm = LogSoftmax.apply(x, 1)
        p = lsm.exp()
        cshape = (1, n_classes) + (1,) * (x.ndim - 2)
        onehot = _onehot(target, cshape, x)
        wt1 = wt.unsqueeze(1)
        if eps:
            v1 = validf.unsqueeze(1)
            wsum = float(n_classes) if weight is None else weight.sum()
            wk = 1.0 if weight is None else weight.reshape(cshape)
            a = (1 - eps) * wt1 + (eps / n_classes) * wsum * v1
            grad = a * p - ((1 - eps) * wt1 * onehot + (eps / n_classes) * wk * v1)
        else:
            grad = wt1 * (p - onehot)
        if reduction == "none":
            scale = g.unsqueeze(1)
        elif reduction == "sum":
            scale = g
        else:
            scale = g / denom
        return grad * scale, None, None, None, None, None


def _onehot(target, cshape, like):
    """``1[target == k]`` in ``like``'s dtype, classes ``k`` along dim 1 (of shape ``cshape``):
    a constant of the backward pass, so it is built on native arrays, not with tensor ops."""
    b = like._backend
    t = target._data
    classes = b.reshape(b.arange(0, cshape[1], 1, dt.int64), cshape)
    hit = b.binary("eq", b.reshape(t, t.shape[:1] + (1,) + t.shape[1:]), classes)
    return Tensor._make(b.astype(hit, like.dtype), b, like.dtype, like.device)


class BinaryCrossEntropy(InternalFunction):
    """``-(y log x + (1 - y) log(1 - x))`` per element, each log clamped at -100 as PyTorch."""

    @staticmethod
    def forward(ctx, x, y):
        b = x._backend
        xd, yd = x._data, y._data
        logx = b.binary("maximum", b.unary("log", xd), -100.0)
        log1mx = b.binary("maximum", b.unary("log1p", b.unary("neg", xd)), -100.0)
        # -(y logx + (1-y) log1mx) = -(log1mx + y (logx - log1mx))
        out = b.unary("neg", b.binary("add", log1mx, b.binary("mul", yd, b.binary("sub", logx, log1mx))))
        ctx.save_for_backward(x, y)
        return Tensor._make(out, b, x.dtype, x.device)

    @staticmethod
    def backward(ctx, g):
        # dx = (x - y) / max(x (1 - x), 1e-12) (PyTorch's formula); dy = log(1-x) - log(x)
        x, y = ctx.saved_tensors
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = g * (x - y) / (x * (1 - x)).clamp_min(1e-12)
        if ctx.needs_input_grad[1]:
            gy = g * ((-x).log1p() - x.log())
        return gx, gy


class BinaryCrossEntropyWithLogits(InternalFunction):
    """``(1 - y) x + L softplus(-x)`` per element with ``L = 1 + (pos_weight - 1) y``: the
    binary cross-entropy of ``sigmoid(x)``, stable for large logits."""

    @staticmethod
    def forward(ctx, x, y, pos_weight):
        b = x._backend
        xd, yd = x._data, y._data
        # softplus(-x) = max(-x, 0) + log1p(exp(-|x|))
        sp = b.binary("add", b.binary("maximum", b.unary("neg", xd), 0),
                      b.unary("log1p", b.unary("exp", b.unary("neg", b.unary("abs", xd)))))
        if pos_weight is not None:
            lw = b.binary("add", b.binary("mul", b.binary("sub", pos_weight._data, 1), yd), 1)
            sp = b.binary("mul", sp, lw)
        one_minus_y = b.unary("neg", b.binary("sub", yd, 1))
        out = b.binary("add", b.binary("mul", one_minus_y, xd), sp)
        ctx.save_for_backward(x, y, pos_weight)
        return Tensor._make(out, b, x.dtype, x.device)

    @staticmethod
    def backward(ctx, g):
        # dx = L sigmoid(x) - pos_weight y  (= sigmoid(x) - y without pos_weight)
        # dy = -x + (pos_weight - 1) softplus(-x)
        x, y, pw = ctx.saved_tensors
        gx = gy = None
        s = x.sigmoid()
        if ctx.needs_input_grad[0]:
            if pw is None:
                gx = g * (s - y)
            else:
                gx = g * ((1 + (pw - 1) * y) * s - pw * y)
            if tuple(gx.shape) != tuple(x.shape):
                gx = gx.sum_to_size(x.shape)
        if ctx.needs_input_grad[1]:
            if pw is None:
                gy = -g * x
            else:
                from flambeau.nn.functional import softplus

                gy = g * (-x + (pw - 1) * softplus(-x))
            if tuple(gy.shape) != tuple(y.shape):
                gy = gy.sum_to_size(y.shape)
        return gx, gy, None


class MseLoss(InternalFunction):
    """``(x - y)^2`` reduced by ``reduction`` (``mean``, ``sum`` or ``none``) in one node, so
    ``loss.grad_fn`` is ``MseLossBackward0`` with the input's node next, as in PyTorch. ``x``
    and ``y`` have the same shape (the functional broadcasts them first)."""

    @staticmethod
    def forward(ctx, x, y, reduction):
        b = x._backend
        d = b.binary("sub", x._data, y._data)
        sq = b.binary("mul", d, d)
        if reduction != "none":
            sq = b.reduce(reduction, sq, tuple(range(len(x.shape))), False)
        ctx.save_for_backward(x, y)
        ctx.reduction = reduction
        return Tensor._make(sq, b, x.dtype, x.device)

    @staticmethod
    def backward(ctx, g):
        # d/dx = 2 (x - y) g (/ numel for mean); d/dy = -d/dx
        x, y = ctx.saved_tensors
        gx = 2 * (x - y) * g
        if ctx.reduction == "mean":
            gx = gx / max(x.numel(), 1)
        gy = -gx if ctx.needs_input_grad[1] else None
        return (gx if ctx.needs_input_grad[0] else None), gy, None
