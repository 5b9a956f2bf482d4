"""Activation Functions: forward on native arrays, backward with tensor ops (so that
``create_graph=True`` differentiates through them)."""
from __future__ import annotations

import math

from flambeau._tensor import Tensor
from flambeau.autograd.function import InternalFunction

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _wrap(x, data):
    return Tensor._make(data, x._backend, x.dtype, x.device)


class ReLU(InternalFunction):
    _backward_name = "ReluBackward0"

    @staticmethod
    def forward(ctx, x):
        y = _wrap(x, x._backend.binary("maximum", x._data, 0))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):  # d relu(x) = 1[x > 0]
        (y,) = ctx.saved_tensors
        return g * (y > 0)


class Hardtanh(InternalFunction):
    @staticmethod
    def forward(ctx, x, lo, hi):
        b = x._backend
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        return _wrap(x, b.binary("minimum", b.binary("maximum", x._data, lo), hi))

    @staticmethod
    def backward(ctx, g):  # 1 strictly inside (lo, hi), 0 outside (PyTorch's convention)
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        return g * ((x > lo) & (x < hi)), None, None


class LeakyReLU(InternalFunction):
    @staticmethod
    def forward(ctx, x, slope):
        b = x._backend
        pos = b.binary("gt", x._data, 0)
        ctx.save_for_backward(x)
        ctx.slope = slope
        return _wrap(x, b.where(pos, x._data, b.binary("mul", x._data, slope)))

    @staticmethod
    def backward(ctx, g):  # d = 1 for x > 0, slope otherwise
        (x,) = ctx.saved_tensors
        from flambeau import where

        return where(x > 0, g, g * ctx.slope), None


class ELU(InternalFunction):
    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        b = x._backend
        xd = x._data
        neg = b.binary("mul", b.unary("expm1", b.binary("mul", xd, input_scale)), alpha)
        y = b.binary("mul", b.where(b.binary("gt", xd, 0), xd, neg), scale)
        ctx.save_for_backward(x)
        ctx.params = (alpha, scale, input_scale)
        return _wrap(x, y)

    @staticmethod
    def backward(ctx, g):  # d = scale for x > 0, scale*alpha*input_scale*e^(input_scale x) else
        (x,) = ctx.saved_tensors
        alpha, scale, input_scale = ctx.params
        from flambeau import where

        d = where(x > 0, scale, (x * input_scale).exp() * (alpha * scale * input_scale))
        return g * d, None, None, None


class GELU(InternalFunction):
    @staticmethod
    def forward(ctx, x, approximate):
        b = x._backend
        xd = x._data
        if approximate == "tanh":
            inner = b.binary("mul", b.binary("add", xd, b.binary("mul", b.binary("mul", b.binary("mul", xd, xd), xd), 0.044715)), _SQRT_2_OVER_PI)
            cdf = b.binary("mul", b.binary("add", b.unary("tanh", inner), 1.0), 0.5)
        else:
            cdf = b.binary("mul", b.binary("add", b.unary("erf", b.binary("mul", xd, _INV_SQRT_2)), 1.0), 0.5)
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        return _wrap(x, b.binary("mul", xd, cdf))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            # y = x/2 (1 + t), t = tanh(k (x + c x^3)): dy = (1 + t)/2 + x/2 (1 - t^2) k (1 + 3c x^2)
            x2 = x * x
            t = ((x + 0.044715 * x2 * x) * _SQRT_2_OVER_PI).tanh()
            d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x2)
        else:
            # y = x Phi(x): dy = Phi(x) + x phi(x)
            cdf = 0.5 * (1 + (x * _INV_SQRT_2).erf())
            pdf = (-0.5 * x * x).exp() * _INV_SQRT_2PI
            d = cdf + x * pdf
        return g * d, None


class SiLU(InternalFunction):
    @staticmethod
    def forward(ctx, x):
        b = x._backend
        ctx.save_for_backward(x)
        return _wrap(x, b.binary("mul", x._data, b.unary("sigmoid", x._data)))

    @staticmethod
    def backward(ctx, g):  # d x s(x) = s (1 + x (1 - s))
        (x,) = ctx.saved_tensors
        s = x.sigmoid()
        return g * s * (1 + x * (1 - s))


class Softplus(InternalFunction):
    @staticmethod
    def forward(ctx, x, beta, threshold):
        b = x._backend
        xd = x._data
        bx = b.binary("mul", xd, beta) if beta != 1 else xd
        # log1p(e^(bx)) = max(bx, 0) + log1p(e^-|bx|): no overflow for large inputs
        soft = b.binary("add", b.binary("maximum", bx, 0),
                        b.unary("log1p", b.unary("exp", b.unary("neg", b.unary("abs", bx)))))
        if beta != 1:
            soft = b.binary("div", soft, beta)
        y = b.where(b.binary("gt", bx, threshold), xd, soft)
        ctx.save_for_backward(x)
        ctx.params = (beta, threshold)
        return _wrap(x, y)

    @staticmethod
    def backward(ctx, g):  # d = sigmoid(beta x), or 1 above the threshold
        (x,) = ctx.saved_tensors
        beta, threshold = ctx.params
        bx = x * beta
        from flambeau import where

        return where(bx > threshold, g, g * bx.sigmoid()), None, None


class Softmax(InternalFunction):
    @staticmethod
    def forward(ctx, x, axis):
        y = _wrap(x, x._backend.softmax(x._data, axis))
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, g):  # dx = y (g - sum(g y))
        (y,) = ctx.saved_tensors
        gy = g * y
        return gy - y * gy.sum(ctx.axis, keepdim=True), None


class LogSoftmax(InternalFunction):
    @staticmethod
    def forward(ctx, x, axis):
        y = _wrap(x, x._backend.log_softmax(x._data, axis))
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, g):  # dx = g - softmax(x) sum(g)
        (y,) = ctx.saved_tensors
        return g - y.exp() * g.sum(ctx.axis, keepdim=True), None

