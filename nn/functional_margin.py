"""Multi-class margin losses and the triplet loss with a custom distance, of
``flambeau.nn.functional``: ``multi_margin_loss``, ``multilabel_margin_loss``,
``triplet_margin_with_distance_loss``, and ``channel_shuffle``.

>>> import flambeau
>>> import flambeau.nn.functional as F
>>> F.multi_margin_loss(flambeau.tensor([[0.1, 0.2, 0.4, 0.8]]), flambeau.tensor([3]))
tensor(0.3250)
"""
from __future__ import annotations

import flambeau
from flambeau._ops._util import named

__all__ = ["multi_margin_loss", "multilabel_margin_loss", "triplet_margin_with_distance_loss",
           "channel_shuffle"]


# functional.py loads this module at its end, so its helpers are imported when called
def _reduce(loss, reduction):
    from .functional import _reduce

    return _reduce(loss, reduction)


def _legacy(size_average, reduce, reduction):
    from .functional import _legacy_reduction

    return _legacy_reduction(size_average, reduce, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """``sum_{i != y} w[y] max(0, margin - x[y] + x[i])^p / C`` per sample (``p`` is 1 or 2)."""
    reduction = _legacy(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    if weight is not None and weight.dtype is not input.dtype:
        from .functional import _scalar_type_name

        raise RuntimeError(f"expected scalar type {_scalar_type_name(input)} but found "
                           f"{_scalar_type_name(weight)}")
    x = input.unsqueeze(0) if input.dim() == 1 else input
    y = target.reshape(-1).long()
    n_classes = x.shape[1]
    picked = x.gather(1, y.unsqueeze(1))
    z = (margin - picked + x).clamp_min(0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[y].unsqueeze(1)
    others = flambeau.ones_like(x).scatter(1, y.unsqueeze(1), 0.0)
    loss = (z * others).sum(1) / n_classes
    if input.dim() == 1:
        loss = loss.squeeze(0)
    return named(_reduce(loss, reduction), "MultiMarginLossBackward0", input)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """``sum_{j in labels, i not in labels} max(0, 1 - (x[j] - x[i])) / C`` per sample; the
    labels of a sample are the entries of its ``target`` row before the first ``-1``."""
    reduction = _legacy(size_average, reduce, reduction)
    x = input.unsqueeze(0) if input.dim() == 1 else input
    t = target.unsqueeze(0) if target.dim() == 1 else target
    n, n_classes = x.shape
    rows = t.long().tolist()
    is_label = [[False] * n_classes for _ in range(n)]
    label_list = []
    for r, row in enumerate(rows):
        labels = []
        for c in row:
            if c < 0:
                break
            labels.append(c)
            is_label[r][c] = True
        label_list.append(labels)
    is_target = flambeau.tensor(is_label, device=x.device)
    losses = []
    for r, labels in enumerate(label_list):
        if not labels:
            losses.append(x[r].sum() * 0)
            continue
        xj = x[r][flambeau.tensor(labels, device=x.device)].unsqueeze(1)  # (J, 1)
        hinge = (1 - (xj - x[r].unsqueeze(0))).clamp_min(0)  # (J, C)
        mask = (~is_target[r]).to(x.dtype).unsqueeze(0)
        losses.append((hinge * mask).sum() / n_classes)
    loss = flambeau.stack(losses)
    if input.dim() == 1:
        loss = loss.squeeze(0)
    return named(_reduce(loss, reduction), "MultilabelMarginLossBackward0", input)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """``max(d(a, p) - d(a, n) + margin, 0)`` with ``distance_function`` (pairwise L2 by
    default); ``swap`` uses ``min(d(a, n), d(p, n))`` as the negative distance."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a_dim, p_dim, n_dim = anchor.ndim, positive.ndim, negative.ndim
    if not (a_dim == p_dim and p_dim == n_dim):
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {a_dim}D, positive {p_dim}D, and negative "
            f"{n_dim}D inputs")
    if distance_function is None:
        from .functional import pairwise_distance as distance_function
    dist_pos = distance_function(anchor, positive)
    dist_neg = distance_function(anchor, negative)
    if swap:
        dist_neg = flambeau.minimum(dist_neg, distance_function(positive, negative))
    loss = (margin + dist_pos - dist_neg).clamp_min(0)
    return _reduce(loss, reduction)


def channel_shuffle(input, groups):
    """Interleave the channels of ``(N, C, *)`` input across ``groups`` (ShuffleNet)."""
    n, c = input.shape[0], input.shape[1]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {groups} groups.")
    rest = tuple(input.shape[2:])
    out = input.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest)
    return named(out, "ChannelShuffleBackward0", input)
