"""Stochastic functionals of ``flambeau.nn.functional``: ``rrelu``, ``gumbel_softmax`` and
``feature_alpha_dropout``. They draw their random numbers the way PyTorch's CPU kernels do, so on
a backend with PyTorch's generator (the NumPy one) a seeded program gets PyTorch's values.

>>> import flambeau
>>> import flambeau.nn.functional as F
>>> F.rrelu(flambeau.tensor([-1.0, 2.0]))          # eval: slope (lower + upper) / 2
tensor([-0.2292,  2.0000])
"""
from __future__ import annotations

import flambeau
from flambeau import _dtype as dt

__all__ = ["rrelu", "rrelu_", "gumbel_softmax", "feature_alpha_dropout"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _F():
    from . import functional

    return functional


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: in training each non-positive element gets its own slope drawn
    from U(lower, upper) (one float64 draw per such element, in order, as PyTorch); in eval the
    slope is ``(lower + upper) / 2``."""
    F = _F()
    if not training:
        return F.leaky_relu(input, (lower + upper) / 2, inplace)
    with flambeau.no_grad():
        negative = input <= 0
        noise = flambeau.ones_like(input)
        count = int(negative.sum().item())
        if count:
            u = flambeau.rand(count, dtype=dt.float64, device=input.device)
            noise[negative] = (u * (upper - lower) + lower).to(input.dtype)
    return F._maybe_inplace(input, lambda x: x * noise, "rrelu_", inplace)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, True)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """Softmax of ``(logits + g) / tau`` with Gumbel noise ``g = -log(Exp(1))``; with ``hard``
    the forward value is one-hot at the argmax and the gradient is the soft sample's
    (straight-through). ``eps`` is unused, as in PyTorch."""
    gumbels = -flambeau.empty_like(logits).exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = flambeau.zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels: one keep/drop draw per ``(N, C)`` pair, the dropped
    channels set to SELU's negative saturation, then an affine map keeping mean and variance."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0 or input.numel() == 0:
        return input
    F = _F()
    if p == 1:
        return F._maybe_inplace(input, lambda x: x * 0, "feature_alpha_dropout_", inplace)
    alpha = _SELU_ALPHA * _SELU_SCALE
    a = 1.0 / ((alpha * alpha * p + 1) * (1 - p)) ** 0.5
    with flambeau.no_grad():
        shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
        keep = (flambeau.rand(shape, dtype=dt.float64, device=input.device) < 1 - p)
        keep = keep.to(input.dtype)
        b = (keep - 1) * (alpha * a) + alpha * a * p
        scale = keep * a
    return F._maybe_inplace(input, lambda x: x * scale + b, "feature_alpha_dropout_", inplace)
