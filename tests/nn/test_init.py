"""``nn.init``: gains and fans as PyTorch computes them, and the distributions each function
draws from (bounds, moments, orthogonality), filled in place without recording gradients."""
from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import to_numpy

import flambeau
from flambeau import nn
from flambeau.nn import init


def test_calculate_gain_values_pytorch_documents():
    assert init.calculate_gain("linear") == 1
    assert init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


def test_fan_in_and_fan_out():
    assert init._calculate_fan_in_and_fan_out(flambeau.empty(5, 3)) == (3, 5)
    assert init._calculate_fan_in_and_fan_out(flambeau.empty(8, 4, 3, 3)) == (36, 72)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(flambeau.empty(5))


def _filled(fn, shape=(200, 300), **kw):
    t = flambeau.empty(*shape)
    out = fn(t, **kw)
    assert out is t
    return to_numpy(t)


def test_uniform_normal_constant():
    u = _filled(init.uniform_, a=-2.0, b=3.0)
    assert u.min() >= -2 and u.max() < 3 and abs(u.mean() - 0.5) < 0.05
    n = _filled(init.normal_, mean=1.0, std=0.5)
    assert abs(n.mean() - 1) < 0.01 and abs(n.std() - 0.5) < 0.01
    assert (_filled(init.constant_, shape=(2, 2), val=0.3) == np.float32(0.3)).all()
    assert (_filled(init.ones_, shape=(2, 2)) == 1).all()
    assert (_filled(init.zeros_, shape=(2, 2)) == 0).all()
    assert (_filled(init.eye_, shape=(2, 3)) == np.eye(2, 3)).all()


@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_xavier(gain):
    fan_in, fan_out = 300, 200
    std = gain * math.sqrt(2 / (fan_in + fan_out))
    u = _filled(init.xavier_uniform_, gain=gain)
    bound = math.sqrt(3) * std
    assert np.abs(u).max() <= bound and np.abs(u).max() > 0.99 * bound
    assert abs(u.std() - std) < 0.02 * std
    n = _filled(init.xavier_normal_, gain=gain)
    assert abs(n.std() - std) < 0.02 * std and abs(n.mean()) < 0.02 * std


@pytest.mark.parametrize("mode,nonlinearity,a", [("fan_in", "leaky_relu", 0), ("fan_out", "relu", 0),
                                                 ("fan_in", "leaky_relu", math.sqrt(5))])
def test_kaiming(mode, nonlinearity, a):
    fan = 300 if mode == "fan_in" else 200
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    u = _filled(init.kaiming_uniform_, a=a, mode=mode, nonlinearity=nonlinearity)
    assert np.abs(u).max() <= math.sqrt(3) * std
    assert abs(u.std() - std) < 0.02 * std
    n = _filled(init.kaiming_normal_, a=a, mode=mode, nonlinearity=nonlinearity)
    assert abs(n.std() - std) < 0.02 * std
    with pytest.raises(ValueError, match="Mode"):
        init.kaiming_uniform_(flambeau.empty(2, 2), mode="fan_avg")


def test_trunc_normal():
    t = _filled(init.trunc_normal_, mean=0.5, std=1.0, a=-0.5, b=1.0)
    assert t.min() >= -0.5 and t.max() <= 1.0
    # the mean of N(0.5, 1) truncated to [-0.5, 1]: mu + (phi(alpha) - phi(beta)) / Z
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    alpha, beta = -1.0, 0.5
    expected = 0.5 + (phi(alpha) - phi(beta)) / (cdf(beta) - cdf(alpha))
    assert abs(t.mean() - expected) < 0.01
    s = _filled(init.trunc_normal_, std=0.02)
    assert abs(s.std() - 0.02) < 0.001  # the [-2, 2] cut is 100 std away: plain normal


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (8, 2, 3)])
def test_orthogonal(shape):
    t = flambeau.empty(*shape)
    init.orthogonal_(t, gain=2.0)
    q = to_numpy(t).reshape(shape[0], -1).astype(np.float64) / 2.0
    rows, cols = q.shape
    if rows >= cols:
        np.testing.assert_allclose(q.T @ q, np.eye(cols), atol=1e-5)
    else:
        np.testing.assert_allclose(q @ q.T, np.eye(rows), atol=1e-5)
    with pytest.raises(ValueError):
        init.orthogonal_(flambeau.empty(3))


def test_dirac_and_sparse():
    w = flambeau.empty(4, 2, 3, 3)
    init.dirac_(w, groups=2)
    x = np.zeros((4, 2, 3, 3))
    x[0, 0, 1, 1] = x[1, 1, 1, 1] = x[2, 0, 1, 1] = x[3, 1, 1, 1] = 1
    np.testing.assert_array_equal(to_numpy(w), x)
    s = flambeau.empty(10, 4)
    init.sparse_(s, sparsity=0.3)
    assert ((to_numpy(s) == 0).sum(0) >= 3).all()


def test_init_is_in_place_without_autograd_and_seeded():
    p = nn.Parameter(flambeau.empty(3, 4))
    init.kaiming_normal_(p)  # a leaf that requires grad: allowed, done under no_grad
    assert p.grad_fn is None and p.requires_grad
    flambeau.manual_seed(11)
    a = to_numpy(init.xavier_uniform_(flambeau.empty(4, 4))).copy()
    flambeau.manual_seed(11)
    b = to_numpy(init.xavier_uniform_(flambeau.empty(4, 4)))
    np.testing.assert_array_equal(a, b)
    g = flambeau.Generator(flambeau.get_default_device()).manual_seed(3)
    c = to_numpy(init.normal_(flambeau.empty(3), generator=g)).copy()
    g.manual_seed(3)
    np.testing.assert_array_equal(c, to_numpy(init.normal_(flambeau.empty(3), generator=g)))


def test_layer_default_inits_follow_pytorch():
    flambeau.manual_seed(0)
    bn = nn.BatchNorm2d(4)
    assert to_numpy(bn.weight).tolist() == [1.0] * 4 and to_numpy(bn.bias).tolist() == [0.0] * 4
    ln = nn.LayerNorm(3)
    assert to_numpy(ln.weight).tolist() == [1.0] * 3
    lin = nn.Linear(64, 1000)
    b = to_numpy(lin.bias)
    assert np.abs(b).max() <= 1 / 8 and abs(b.std() - (1 / 8) / math.sqrt(3)) < 0.005
