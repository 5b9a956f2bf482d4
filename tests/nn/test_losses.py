"""Losses: forward against float64 NumPy references and values PyTorch gives, gradients by
finite differences, reductions and class weights exactly as PyTorch defines them."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import assert_close

import flambeau
import flambeau.nn.functional as F
from flambeau import nn
from flambeau.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(7)


def t64(a, requires_grad=False):
    return flambeau.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def _reduce(loss, reduction):
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


def _log_softmax(x, axis=1):
    m = x.max(axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis, keepdims=True))


def np_cross_entropy(x, t, weight=None, ignore_index=-100, reduction="mean", eps=0.0):
    """PyTorch's definition, written out: per position ``(1-eps) w[t] nll + eps/C sum_c w_c
    (-log p_c)``, zero at ignored positions; ``mean`` divides by the summed ``w[t]``."""
    c = x.shape[1]
    lsm = _log_softmax(x, 1)
    w = np.ones(c) if weight is None else weight
    valid = t != ignore_index
    tc = np.where(valid, t, 0)
    picked = np.take_along_axis(lsm, tc[:, None], 1)[:, 0]
    wt = w[tc] * valid
    nll = -picked * wt
    smooth = -(lsm * w.reshape((1, c) + (1,) * (x.ndim - 2))).sum(1) * valid
    loss = (1 - eps) * nll + eps / c * smooth
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / wt.sum()


CE_CASES = list(itertools.product(
    ["mean", "sum", "none"],  # reduction
    [0.0, 0.15],  # label smoothing
    [False, True],  # class weights
    [(6, 5), (3, 4, 2, 3)],  # input shape (N, C, *d)
))


@pytest.mark.parametrize("reduction,eps,weighted,shape", CE_CASES)
def test_cross_entropy_class_indices(reduction, eps, weighted, shape):
    x = RNG.standard_normal(shape) * 2
    n, c = shape[:2]
    t = RNG.integers(0, c, (n,) + shape[2:])
    t.reshape(-1)[::4] = -100  # some ignored positions
    w = RNG.uniform(0.5, 2.0, c) if weighted else None
    kw = dict(weight=None if w is None else t64(w), reduction=reduction, label_smoothing=eps)
    out = F.cross_entropy(t64(x), flambeau.tensor(t), **kw)
    expected = np_cross_entropy(x, t, w, reduction=reduction, eps=eps)
    assert_close(out, expected, rtol=1e-10, msg=f"{reduction} eps={eps} w={weighted}")
    xg = t64(x, True)
    assert gradcheck(lambda v: F.cross_entropy(v, flambeau.tensor(t), **kw), (xg,))
    # the module form says the same
    module = nn.CrossEntropyLoss(weight=kw["weight"], reduction=reduction, label_smoothing=eps)
    assert_close(module(t64(x), flambeau.tensor(t)), expected, rtol=1e-10)


def test_cross_entropy_double_backward_and_other_ignore_index():
    x = t64(RNG.standard_normal((4, 3)), True)
    t = flambeau.tensor([0, 2, 1, 2])
    assert gradgradcheck(lambda v: F.cross_entropy(v, t, label_smoothing=0.1), (x,))
    out = F.cross_entropy(x, t, ignore_index=2)
    assert_close(out, np_cross_entropy(to_np(x), np.array([0, 2, 1, 2]), ignore_index=2),
                 rtol=1e-10)


def to_np(t):
    return t.detach().cpu().numpy()


def test_cross_entropy_values_pytorch_gives():
    logits = t64([[1.0, 2.0, 0.5, -1.0], [0.0, -2.0, 3.0, 1.0], [0.3, 0.3, 0.3, 0.3]])
    t = flambeau.tensor([1, 2, 3])
    w = t64([1.0, 2.0, 0.5, 3.0])
    assert_close(F.cross_entropy(logits, t), 0.6856638739408204, rtol=1e-12)
    assert_close(F.cross_entropy(logits, t, weight=w, label_smoothing=0.1), 1.0529664078730758,
                 rtol=1e-12)
    assert_close(F.cross_entropy(logits, flambeau.tensor([1, -100, 3]), weight=w,
                                 label_smoothing=0.1), 1.0417624167398358, rtol=1e-12)
    assert_close(F.cross_entropy(logits, t, reduction="none", label_smoothing=0.2),
                 [0.7701818980858561, 0.6755153626167145, 1.3862943611198906], rtol=1e-12)
    probs = t64([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25], [1, 0, 0, 0]])
    assert_close(F.cross_entropy(logits, probs, label_smoothing=0.1), 2.0898305406074873,
                 rtol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_class_probabilities(reduction):
    x = RNG.standard_normal((5, 4))
    p = RNG.random((5, 4))
    p /= p.sum(1, keepdims=True)
    w = RNG.uniform(0.5, 2, 4)
    loss = -(_log_softmax(x) * p * w).sum(1)
    expected = loss.sum() / 5 if reduction == "mean" else _reduce(loss, reduction)
    out = F.cross_entropy(t64(x), t64(p), weight=t64(w), reduction=reduction)
    assert_close(out, expected, rtol=1e-10)
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, reduction=reduction),
                     (t64(x, True), t64(p, True)))


def test_cross_entropy_unbatched_and_errors():
    x = RNG.standard_normal(5)
    out = F.cross_entropy(t64(x), flambeau.tensor(3))
    assert out.shape == ()
    assert_close(out, -_log_softmax(x[None])[0, 3], rtol=1e-10)
    assert F.cross_entropy(t64(x), flambeau.tensor(3), reduction="none").shape == ()
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(flambeau.randn(2, 3), flambeau.tensor([0, 3]))
    with pytest.raises(ValueError, match="batch_size"):
        F.cross_entropy(flambeau.randn(2, 3), flambeau.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(flambeau.randn(2, 3), flambeau.tensor([0, 1]), reduction="avg")
    # every target ignored: mean is 0/0 = nan, as PyTorch
    assert np.isnan(F.cross_entropy(flambeau.randn(2, 3), flambeau.tensor([-100, -100])).item())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_matches_cross_entropy_of_log_softmax(reduction):
    x = RNG.standard_normal((4, 3, 5))
    t = RNG.integers(0, 3, (4, 5))
    t[0, 0] = -100
    w = RNG.uniform(0.5, 2, 3)
    lsm = F.log_softmax(t64(x), 1)
    out = F.nll_loss(lsm, flambeau.tensor(t), weight=t64(w), reduction=reduction)
    assert_close(out, np_cross_entropy(x, t, w, reduction=reduction), rtol=1e-10)
    m = nn.NLLLoss(weight=t64(w), reduction=reduction)
    assert_close(m(lsm, flambeau.tensor(t)), out, rtol=1e-12)
    assert gradcheck(lambda v: F.nll_loss(v, flambeau.tensor(t), reduction=reduction),
                     (t64(x, True),))


# =============================================================================
# regression losses
# =============================================================================

def _np_smooth_l1(d, beta):
    a = np.abs(d)
    return a if beta == 0 else np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)


def _np_huber(d, delta):
    a = np.abs(d)
    return np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))


REGRESSION = {
    "mse": (F.mse_loss, {}, lambda d: d * d),
    "l1": (F.l1_loss, {}, np.abs),
    "smooth_l1": (F.smooth_l1_loss, {"beta": 0.7}, lambda d: _np_smooth_l1(d, 0.7)),
    "smooth_l1_beta0": (F.smooth_l1_loss, {"beta": 0.0}, lambda d: _np_smooth_l1(d, 0.0)),
    "huber": (F.huber_loss, {"delta": 0.6}, lambda d: _np_huber(d, 0.6)),
}


@pytest.mark.parametrize("name,reduction", list(itertools.product(sorted(REGRESSION),
                                                             ["mean", "sum", "none"])))
def test_regression_losses(name, reduction):
    fn, kw, ref = REGRESSION[name]
    x, y = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    out = fn(t64(x), t64(y), reduction=reduction, **kw)
    assert_close(out, _reduce(ref(x - y), reduction), rtol=1e-12)
    assert gradcheck(lambda a, b: fn(a, b, reduction=reduction, **kw),
                     (t64(x, True), t64(y, True)))


def test_regression_values_pytorch_gives_and_modules():
    a, b = t64([0.0, 1.0, 3.0]), t64([0.5, -1.0, 3.2])
    assert_close(F.huber_loss(a, b, delta=0.8, reduction="none"),
                 [0.125, 1.2800000000000002, 0.020000000000000035], rtol=1e-12)
    assert_close(F.smooth_l1_loss(a, b, beta=0.8, reduction="none"),
                 [0.15625, 1.6, 0.025000000000000043], rtol=1e-12)
    assert_close(nn.MSELoss()(a, b), ((0.5 ** 2) + 4 + 0.04) / 3, rtol=1e-12)
    assert_close(nn.L1Loss(reduction="sum")(a, b), 2.7, rtol=1e-12)
    assert_close(nn.SmoothL1Loss(beta=0.8, reduction="sum")(a, b), 1.78125, rtol=1e-12)
    assert_close(nn.HuberLoss(delta=0.8)(a, b), 1.425 / 3, rtol=1e-12)
    # legacy arguments map onto reduction, as in PyTorch
    assert nn.MSELoss(size_average=False).reduction == "sum"
    assert nn.MSELoss(reduce=False).reduction == "none"
    with pytest.warns(UserWarning, match="target size"):
        F.mse_loss(flambeau.zeros(3, 1), flambeau.zeros(3))


# =============================================================================
# binary cross-entropies and KL
# =============================================================================


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce(reduction):
    x = RNG.uniform(0.05, 0.95, (4, 3))
    y = RNG.random((4, 3))
    w = RNG.uniform(0.5, 2, 3)
    loss = -w * (y * np.log(x) + (1 - y) * np.log(1 - x))
    out = F.binary_cross_entropy(t64(x), t64(y), weight=t64(w), reduction=reduction)
    assert_close(out, _reduce(loss, reduction), rtol=1e-10)
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
                     (t64(x, True), t64(y, True)))
    assert_close(nn.BCELoss(weight=t64(w), reduction=reduction)(t64(x), t64(y)), out)


def test_bce_clamps_logs_like_pytorch():
    out = F.binary_cross_entropy(t64([0.0, 0.3, 1.0, 0.9]), t64([0.0, 1.0, 0.0, 1.0]),
                                 reduction="none")
    assert_close(out, [0.0, 1.2039728043259361, 100.0, 0.10536051565782628], rtol=1e-12)
    x = t64([0.0, 1.0, 0.5], True)
    F.binary_cross_entropy(x, t64([1.0, 0.0, 0.5]), reduction="sum").backward()
    assert np.all(np.isfinite(to_np(x.grad)))  # (x - y) / max(x (1 - x), 1e-12)
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(t64([1.5]), t64([1.0]))
    with pytest.raises(ValueError, match="size"):
        F.binary_cross_entropy(t64([0.5, 0.5]), t64([1.0]))


@pytest.mark.parametrize("reduction,pos_weight", list(itertools.product(["mean", "sum", "none"],
                                                                        [False, True])))
def test_bce_with_logits(reduction, pos_weight):
    x = RNG.standard_normal((4, 3)) * 3
    x[0, 0] = 0.0  # the kink of |x|: the analytic gradient is exact there
    x[1, 1] = 50.0
    y = RNG.random((4, 3))
    w = RNG.uniform(0.5, 2, 3)
    pw = RNG.uniform(0.5, 3, 3) if pos_weight else None
    lw = 1 + (pw - 1) * y if pos_weight else 1.0
    loss = w * ((1 - y) * x + lw * np.logaddexp(0, -x))
    kw = dict(weight=t64(w), reduction=reduction, pos_weight=None if pw is None else t64(pw))
    out = F.binary_cross_entropy_with_logits(t64(x), t64(y), **kw)
    assert_close(out, _reduce(loss, reduction), rtol=1e-10)
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, **kw),
                     (t64(x, True), t64(y, True)))
    m = nn.BCEWithLogitsLoss(weight=kw["weight"], reduction=reduction, pos_weight=kw["pos_weight"])
    assert_close(m(t64(x), t64(y)), out)


def test_bce_with_logits_values_pytorch_gives():
    out = F.binary_cross_entropy_with_logits(t64([-2.0, 0.0, 3.0]), t64([1.0, 0.5, 0.0]),
                                             pos_weight=t64([2.0]), reduction="none")
    assert_close(out, [4.253856022085945, 1.0397207708399179, 3.048587351573742], rtol=1e-12)
    x = t64([0.0], True)
    F.binary_cross_entropy_with_logits(x, t64([1.0])).backward()
    assert_close(x.grad, [-0.5])  # sigmoid(0) - 1


@pytest.mark.parametrize("reduction,log_target", list(itertools.product(
    ["mean", "sum", "none", "batchmean"], [False, True])))
def test_kl_div(reduction, log_target):
    x = _log_softmax(RNG.standard_normal((3, 4)))
    p = np.exp(_log_softmax(RNG.standard_normal((3, 4))))
    target = np.log(p) if log_target else p
    loss = p * (np.log(p) - x)
    expected = loss.sum() / 3 if reduction == "batchmean" else _reduce(loss, reduction)
    with pytest.warns(UserWarning) if reduction == "mean" else _nullcontext():
        out = F.kl_div(t64(x), t64(target), reduction=reduction, log_target=log_target)
    assert_close(out, expected, rtol=1e-10)
    assert gradcheck(lambda a, b: F.kl_div(a, b, reduction="sum", log_target=log_target),
                     (t64(x, True), t64(target, True)))


def _nullcontext():
    import contextlib

    return contextlib.nullcontext()


def test_kl_div_zero_target_and_value_pytorch_gives():
    out = F.kl_div(t64([[-1.0, -0.5], [-2.0, -0.1]]), t64([[0.3, 0.7], [0.0, 1.0]]),
                   reduction="batchmean")
    assert_close(out, 0.06956784897255323, rtol=1e-12)
    assert nn.KLDivLoss(reduction="batchmean", log_target=True).log_target


def test_losses_train_a_model():
    flambeau.manual_seed(0)
    x = flambeau.randn(64, 4)
    y = (x[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    loss_fn = nn.CrossEntropyLoss()
    first = None
    for _ in range(60):
        loss = loss_fn(model(x), y)
        first = first if first is not None else loss.item()
        model.zero_grad()
        loss.backward()
        with flambeau.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
    assert loss.item() < 0.3 * first
