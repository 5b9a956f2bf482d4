"""``ctc_loss``: the Connectionist Temporal Classification loss (Graves et al., 2006) of
``flambeau.nn.functional``, as ``torch.nn.functional.ctc_loss``.

The forward (alpha) recursion runs in log space over time with tensor ops, vectorised over the
batch and the extended label sequence (blanks between and around the labels); the gradient is
autograd's through that recursion. PyTorch's CTC backward returns ``exp(log_probs) -
posterior`` rather than the exact ``-posterior``: the extra ``exp(log_probs)`` vanishes once
the gradient passes through ``log_softmax``, but shows in ``log_probs.grad`` when
``log_probs`` is a leaf, so flambeau adds it too (a term whose value is exactly zero).

>>> import flambeau
>>> import flambeau.nn.functional as F
>>> lp = flambeau.randn(6, 2, 4).log_softmax(2)
>>> F.ctc_loss(lp, flambeau.tensor([[1, 2], [3, 3]]), (6, 5), (2, 2)).shape
flambeau.Size([])
"""
from __future__ import annotations

import flambeau
from flambeau import _dtype as dt

__all__ = ["ctc_loss"]


def _lengths(x, name):
    if isinstance(x, flambeau.Tensor):
        return [int(v) for v in x.reshape(-1).tolist()]
    if isinstance(x, int):
        return [x]
    return [int(v) for v in x]


def _lse(terms, neg_inf):
    """log(sum(exp(terms))) elementwise, -inf where every term is -inf, with finite gradients
    (no -inf - -inf)."""
    m = terms[0]
    for t in terms[1:]:
        m = flambeau.maximum(m, t)
    m = flambeau.where(m == neg_inf, 0.0, m).detach()
    s = terms[0].sub(m).exp()
    for t in terms[1:]:
        s = s + t.sub(m).exp()
    empty = s == 0
    out = m + flambeau.where(empty, 1.0, s).log()
    return flambeau.where(empty, neg_inf, out)


class _PyTorchCtcGrad(flambeau.autograd.Function):
    """Identity on the per-sample losses whose backward also sends ``w * grad`` to
    ``log_probs``: the ``exp(log_probs)`` term of PyTorch's CTC gradient."""

    @staticmethod
    def forward(ctx, nll, lp, w):
        ctx.save_for_backward(w)
        return nll.clone()

    @staticmethod
    def backward(ctx, g):
        (w,) = ctx.saved_tensors
        return g, w * g.reshape(1, -1, 1), None


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """CTC loss of ``log_probs`` ``(T, N, C)`` (log-softmax outputs; ``(T, C)`` unbatched)
    against ``targets`` (``(N, S)`` padded, or the concatenated 1-D targets), with per-sample
    ``input_lengths`` and ``target_lengths``. ``mean`` divides each loss by its target length
    (at least 1) and averages over the batch; ``zero_infinity`` zeroes impossible alignments
    (infinite losses) and their gradients."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    unbatched = log_probs.dim() == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    T, N, C = lp.shape
    il = _lengths(input_lengths, "input_lengths")
    tl = _lengths(target_lengths, "target_lengths")
    if len(il) != N or len(tl) != N:
        raise RuntimeError(f"input_lengths and target_lengths must have {N} entries (the batch "
                           f"size), got {len(il)} and {len(tl)}")
    for length in il:
        if length > T:
            raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got "
                               f"value {length} (while checking arguments for ctc_loss_cpu)")
    # per-sample target sequences
    tgt = targets.to(flambeau.int64)
    if unbatched:
        tgt = tgt.reshape(1, -1)
    if tgt.dim() == 1:  # concatenated
        offsets, rows = 0, []
        for length in tl:
            rows.append(tgt[offsets:offsets + length].tolist())
            offsets += length
    else:
        rows = [tgt[n, :tl[n]].tolist() for n in range(N)]
    s_max = max(tl) if tl else 0
    L = 2 * s_max + 1
    ext = [[blank] * L for _ in range(N)]
    skip = [[False] * L for _ in range(N)]
    for n, row in enumerate(rows):
        for i, c in enumerate(row):
            ext[n][2 * i + 1] = c
        for s in range(2, L):
            skip[n][s] = ext[n][s] != blank and ext[n][s] != ext[n][s - 2]
    dev = lp.device
    ext_t = flambeau.tensor(ext, dtype=dt.int64, device=dev)
    skip_t = flambeau.tensor(skip, dtype=dt.bool_, device=dev)
    neg_inf = float("-inf")
    lp_ext = lp.gather(2, ext_t.unsqueeze(0).expand(T, N, L))  # (T, N, L)
    alpha = lp_ext[0]
    if L > 2:
        alpha = flambeau.cat([alpha[:, :2], flambeau.full((N, L - 2), neg_inf, dtype=lp.dtype,
                                                          device=dev)], 1)
    pad1 = flambeau.full((N, 1), neg_inf, dtype=lp.dtype, device=dev)
    pad2 = flambeau.full((N, 2), neg_inf, dtype=lp.dtype, device=dev)
    il_t = flambeau.tensor(il, dtype=dt.int64, device=dev)
    for t in range(1, T):
        stay = alpha
        step = flambeau.cat([pad1, alpha[:, :-1]], 1)
        jump = flambeau.where(skip_t, flambeau.cat([pad2, alpha[:, :-2]], 1), neg_inf) \
            if L > 2 else None
        terms = [stay, step] if jump is None else [stay, step, jump]
        new = _lse(terms, neg_inf) + lp_ext[t]
        alpha = flambeau.where((il_t > t).unsqueeze(1), new, alpha)
    tl_t = flambeau.tensor(tl, dtype=dt.int64, device=dev)
    last = alpha.gather(1, (2 * tl_t).unsqueeze(1)).squeeze(1)
    before = alpha.gather(1, (2 * tl_t - 1).clamp_min(0).unsqueeze(1)).squeeze(1)
    before = flambeau.where(tl_t > 0, before, neg_inf)
    nll = -_lse([last, before], neg_inf)
    finite = nll != float("inf")
    if zero_infinity:
        nll = flambeau.where(finite, nll, 0.0)
    # PyTorch's gradient adds exp(log_probs) for t < input_length (see the module docstring),
    # is NaN there for an impossible alignment, and zero with zero_infinity
    with flambeau.no_grad():
        in_time = (flambeau.arange(T, device=dev).unsqueeze(1) < il_t).unsqueeze(2)
        w = lp.exp() * in_time
        bad = (~finite).reshape(1, N, 1) & in_time
        w = flambeau.where(bad, 0.0 if zero_infinity else float("nan"), w)
    nll = _PyTorchCtcGrad.apply(nll, lp, w)
    if reduction == "none":
        out = nll.squeeze(0) if unbatched else nll
        from flambeau._ops._util import named

        return named(out, "CtcLossBackward0", log_probs)
    if reduction == "sum":
        return nll.sum()
    return (nll / tl_t.clamp_min(1).to(nll.dtype)).mean()
