"""Helpers for the optimizers written with tensor ops (``Adadelta``, ``Adamax``, ``NAdam``,
``RAdam``, ``ASGD``, ``Rprop``).

Those optimizers are less used than SGD/Adam, so their updates are compositions of in-place
tensor ops run under ``no_grad`` (no backend composite to fuse). Each follows PyTorch's
single-tensor (``foreach=False``) code operation by operation, so float32 results agree with
PyTorch's to rounding.
"""
from __future__ import annotations

from .optimizer import _new_step


def lerp_(a, b, w):
    """``a += w * (b - a)`` in place, in PyTorch's two-sided form (exact at ``w`` = 0 and 1)."""
    diff = b - a
    if w < 0.5:
        return a.add_(diff * w)
    return a.copy_(b - diff * (1 - w))


def apply_weight_decay(p, grad, lr, weight_decay, decoupled):
    """Adam-style weight decay, returning the gradient to use: with ``decoupled`` (AdamW's form)
    ``param *= 1 - lr * weight_decay`` in place; otherwise an L2 term,
    ``grad + weight_decay * param``."""
    if weight_decay != 0:
        if decoupled:
            p.mul_(1 - lr * weight_decay)
        else:
            grad = grad.add(p, alpha=weight_decay)
    return grad


def update_moments_(exp_avg, exp_avg_sq, grad, beta1, beta2):
    """Adam's moment updates in place: ``m = beta1 m + (1 - beta1) g``,
    ``v = beta2 v + (1 - beta2) g^2``."""
    lerp_(exp_avg, grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)


def scalar_state(p, value):
    """A 0-d state scalar (``step``, ``mu_product``, ``eta``, ``mu``) holding ``value``, of the
    dtype and on the device of ``step`` counters (see ``optimizer._new_step``)."""
    return _new_step(p, value)


def check_lr(lr):
    from .._tensor import Tensor

    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def check_betas_eps_wd(betas, eps, weight_decay):
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")
