"""The layer library and ``nn.functional``: forward against float64 NumPy references and values
PyTorch gives, gradients by finite differences (``gradcheck``, and ``gradgradcheck`` for the
fused ops), and PyTorch's state_dict keys and reprs."""
from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import assert_close, to_numpy

import flambeau
import flambeau.nn.functional as F
from flambeau import nn
from flambeau.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(1234)


def t64(a, requires_grad=False):
    return flambeau.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def _erf(x):
    return np.vectorize(math.erf)(x)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softplus(x):
    return np.logaddexp(0, x)


# =============================================================================
# activations: one table, forward vs NumPy, first and second derivatives by differences
# =============================================================================
SELU_A, SELU_S = 1.6732632423543772, 1.0507009873554805
ACTIVATIONS = {
    # name: (flambeau function, float64 NumPy reference)
    "relu": (F.relu, lambda x: np.maximum(x, 0)),
    "relu6": (F.relu6, lambda x: np.clip(x, 0, 6)),
    "hardtanh": (lambda x: F.hardtanh(x, -0.5, 0.8), lambda x: np.clip(x, -0.5, 0.8)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    "elu": (lambda x: F.elu(x, 0.7), lambda x: np.where(x > 0, x, 0.7 * np.expm1(x))),
    "selu": (F.selu, lambda x: SELU_S * np.where(x > 0, x, SELU_A * np.expm1(x))),
    "celu": (lambda x: F.celu(x, 0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x / 0.5))),
    "gelu": (F.gelu, lambda x: x * 0.5 * (1 + _erf(x / np.sqrt(2)))),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    "silu": (F.silu, lambda x: x * _sigmoid(x)),
    "mish": (F.mish, lambda x: x * np.tanh(_softplus(x))),
    "softplus": (lambda x: F.softplus(x, 2.0, 3.0),
                 lambda x: np.where(2 * x > 3.0, x, _softplus(2 * x) / 2)),
    "softsign": (F.softsign, lambda x: x / (1 + np.abs(x))),
    "logsigmoid": (F.logsigmoid, lambda x: -_softplus(-x)),
    "hardsigmoid": (F.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    "hardswish": (F.hardswish, lambda x: x * np.clip(x / 6 + 0.5, 0, 1)),
    "tanhshrink": (F.tanhshrink, lambda x: x - np.tanh(x)),
    "softmax": (lambda x: F.softmax(x, dim=1),
                lambda x: np.exp(x - x.max(1, keepdims=True))
                / np.exp(x - x.max(1, keepdims=True)).sum(1, keepdims=True)),
    "log_softmax": (lambda x: F.log_softmax(x, dim=-1),
                    lambda x: x - x.max(-1, keepdims=True)
                    - np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True))),
    "softmin": (lambda x: F.softmin(x, dim=0),
                lambda x: np.exp(-x) / np.exp(-x).sum(0, keepdims=True)),
}
# the piecewise ones have no second derivative worth checking
SMOOTH = {"gelu", "gelu_tanh", "silu", "mish", "softplus", "logsigmoid", "softmax",
          "log_softmax", "softmin", "elu", "selu", "celu"}


def _away_from_kinks(shape):
    x = RNG.uniform(-4, 4, shape)
    for kink in (0.0, -0.5, 0.8, 6.0, -3.0, 3.0, 1.5):
        x = np.where(np.abs(x - kink) < 0.05, x + 0.1, x)
    return x


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_forward_matches_numpy(name):
    fn, ref = ACTIVATIONS[name]
    x = _away_from_kinks((3, 5))
    assert_close(fn(t64(x)), ref(x), rtol=1e-10, atol=1e-12, msg=name)
    # float32 as well, through the same path
    out32 = fn(flambeau.tensor(x.astype(np.float32)))
    assert out32.dtype is flambeau.float32, name
    assert_close(out32, ref(x).astype(np.float32), rtol=1e-4, atol=1e-5, msg=name)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_gradients(name):
    fn, _ = ACTIVATIONS[name]
    x = t64(_away_from_kinks((2, 4)), requires_grad=True)
    assert gradcheck(fn, (x,)), name
    if name in SMOOTH:
        assert gradgradcheck(fn, (x,)), name


TORCH_VALUES = {
    # F.<name>(x) computed with PyTorch 2 in float64 for x below
    "gelu": [-0.00404969409489031, -0.15865525393145702, -0.10032341857926907, 0.0,
             0.34573123063700656, 1.9544997361036416, 25.0],
    "gelu_tanh": [-0.0036373920817729943, -0.15880800939172324, -0.100324649298315, 0.0,
                  0.34571400982514394, 1.954597694087775, 25.0],
    "silu": [-0.14227761953270035, -0.2689414213699951, -0.10945587477855048, 0.0,
             0.3112296656009273, 1.7615941559557646, 24.9999999996528],
    "elu": [-0.950212931632136, -0.6321205588285577, -0.22119921692859512, 0.0, 0.5, 2.0, 25.0],
    "softplus_b2_t5": [0.0012378425688652247, 0.06346400552148625, 0.23703849209005334,
                       0.34657359027997264, 0.6566308437591114, 2.0090749639589047, 25.0],
    "mish": [-0.1456474612756246, -0.30340146137410895, -0.129926963679141, 0.0,
             0.3752452113048951, 1.9439589595339946, 25.0],
    "logsigmoid": [-3.048587351573742, -1.3132616875182228, -0.8259394198788436,
                   -0.6931471805599453, -0.4740769841801067, -0.1269280110429725,
                   -1.3887943864867583e-11],
    "selu": [-1.6705687287671118, -1.1113307378125625, -0.388890197478119, 0.0,
             0.5253504936777402, 2.101401974710961, 26.26752468388701],
    "hardswish": [0.0, -0.3333333333333333, -0.11458333333333333, 0.0, 0.2916666666666667,
                  1.6666666666666667, 25.0],
}


@pytest.mark.parametrize("name", sorted(TORCH_VALUES))
def test_activation_values_pytorch_gives(name):
    x = t64([-3.0, -1.0, -0.25, 0.0, 0.5, 2.0, 25.0])
    fn = {"gelu_tanh": lambda v: F.gelu(v, approximate="tanh"),
          "softplus_b2_t5": lambda v: F.softplus(v, 2, 5)}.get(name) or getattr(F, name)
    assert_close(fn(x), TORCH_VALUES[name], rtol=1e-9, atol=1e-12, msg=name)


def test_activation_modules_match_functional_and_repr():
    x = flambeau.tensor(_away_from_kinks((4, 6)).astype(np.float32))
    cases = [
        (nn.ReLU(), F.relu(x), "ReLU()"),
        (nn.ReLU(inplace=True), F.relu(x), "ReLU(inplace=True)"),
        (nn.LeakyReLU(0.2), F.leaky_relu(x, 0.2), "LeakyReLU(negative_slope=0.2)"),
        (nn.ELU(alpha=0.5), F.elu(x, 0.5), "ELU(alpha=0.5)"),
        (nn.GELU("tanh"), F.gelu(x, approximate="tanh"), "GELU(approximate='tanh')"),
        (nn.SiLU(), F.silu(x), "SiLU()"),
        (nn.Tanh(), x.tanh(), "Tanh()"),
        (nn.Sigmoid(), x.sigmoid(), "Sigmoid()"),
        (nn.Softplus(), F.softplus(x), "Softplus(beta=1.0, threshold=20.0)"),
        (nn.Softmax(dim=1), F.softmax(x, 1), "Softmax(dim=1)"),
        (nn.LogSoftmax(dim=1), F.log_softmax(x, 1), "LogSoftmax(dim=1)"),
        (nn.ReLU6(), F.relu6(x), "ReLU6()"),
        (nn.Hardtanh(), F.hardtanh(x), "Hardtanh(min_val=-1.0, max_val=1.0)"),
        (nn.Mish(), F.mish(x), "Mish()"),
        (nn.Softsign(), F.softsign(x), "Softsign()"),
    ]
    for module, expected, rep in cases:
        assert_close(module(x.clone()), expected, msg=rep)
        assert repr(module) == rep


def test_prelu_per_channel():
    m = nn.PReLU(3)
    assert repr(m) == "PReLU(num_parameters=3)"
    assert_close(m.weight, [0.25] * 3)
    x = RNG.standard_normal((2, 3, 4))
    with flambeau.no_grad():
        m.weight.copy_(flambeau.tensor([0.1, 0.2, 0.3]))
    m = m.double()
    out = m(t64(x))
    a = np.array([0.1, 0.2, 0.3]).reshape(1, 3, 1)
    assert_close(out, np.where(x > 0, x, a * x), rtol=1e-6)
    xg = t64(_away_from_kinks((2, 3, 4)), requires_grad=True)
    assert gradcheck(lambda v, w: F.prelu(v, w), (xg, m.weight))


def test_inplace_activations_write_into_input():
    x = flambeau.tensor([-1.0, 2.0, -3.0])
    y = F.relu(x, inplace=True)
    assert y is x
    assert x.tolist() == [0.0, 2.0, 0.0]
    x = flambeau.tensor([-1.0, 2.0])
    nn.LeakyReLU(0.5, inplace=True)(x)
    assert x.tolist() == [-0.5, 2.0]


def test_top_level_activation_aliases():
    x = flambeau.tensor([[-1.0, 0.5, 2.0]])
    assert flambeau.relu(x).tolist() == [[0.0, 0.5, 2.0]]
    assert_close(flambeau.softmax(x, 1), F.softmax(x, 1))
    assert_close(x.log_softmax(-1), F.log_softmax(x, -1))
    assert_close(x.softmax(dim=0), np.ones((1, 3)))
    assert_close(F.softmax(x, 1, dtype=flambeau.float64).sum(1), [1.0])
    assert F.softmax(x, 1, dtype=flambeau.float64).dtype is flambeau.float64


def test_softmax_is_stable_for_large_inputs():
    x = flambeau.tensor([[1000.0, 1000.0, -1000.0]])
    assert_close(F.softmax(x, 1), [[0.5, 0.5, 0.0]])
    assert_close(F.log_softmax(x, 1), [[-math.log(2), -math.log(2), -2000 - math.log(2)]],
                 rtol=1e-5)


# =============================================================================
# Linear, Bilinear, Identity, Flatten
# =============================================================================


def test_linear_forward_backward_matches_numpy():
    m = nn.Linear(5, 3).double()
    x = RNG.standard_normal((2, 4, 5))
    w, b = to_numpy(m.weight), to_numpy(m.bias)
    xt = t64(x, requires_grad=True)
    out = m(xt)
    assert_close(out, x @ w.T + b, rtol=1e-12)
    g = RNG.standard_normal(out.shape)
    out.backward(t64(g))
    assert_close(xt.grad, g @ w, rtol=1e-12)
    assert_close(m.weight.grad, g.reshape(-1, 3).T @ x.reshape(-1, 5), rtol=1e-12)
    assert_close(m.bias.grad, g.reshape(-1, 3).sum(0), rtol=1e-12)
    assert gradcheck(F.linear, (t64(x[0], True), t64(w, True), t64(b, True)))
    assert gradgradcheck(F.linear, (t64(x[0], True), t64(w, True), t64(b, True)))


def test_linear_without_bias_and_errors():
    m = nn.Linear(4, 2, bias=False)
    assert m.bias is None and [n for n, _ in m.named_parameters()] == ["weight"]
    assert repr(m) == "Linear(in_features=4, out_features=2, bias=False)"
    assert m(flambeau.ones(3, 4)).shape == (3, 2)
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        m(flambeau.ones(3, 5))
    # 1-D input works, as in PyTorch
    assert m(flambeau.ones(4)).shape == (2,)


def test_linear_default_init_bounds():
    flambeau.manual_seed(3)
    m = nn.Linear(100, 50)
    bound = 1 / math.sqrt(100)  # kaiming_uniform_(a=sqrt(5)) gives the same bound
    w, b = to_numpy(m.weight), to_numpy(m.bias)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01


def test_bilinear_identity_flatten_unflatten():
    m = nn.Bilinear(3, 4, 2).double()
    x1, x2 = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 4))
    w, b = to_numpy(m.weight), to_numpy(m.bias)
    assert_close(m(t64(x1), t64(x2)), np.einsum("ni,kij,nj->nk", x1, w, x2) + b, rtol=1e-10)
    assert repr(m) == "Bilinear(in1_features=3, in2_features=4, out_features=2, bias=True)"
    x = flambeau.randn(2, 3, 4, 5)
    assert nn.Identity(54, unused="x")(x) is x
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Unflatten(1, (3, 1))(flambeau.randn(2, 3, 4)).shape == (2, 3, 1, 4)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Unflatten(1, (2, 2))) == "Unflatten(dim=1, unflattened_size=(2, 2))"


# =============================================================================
# dropout
# =============================================================================


def test_dropout_train_eval_and_scaling():
    flambeau.manual_seed(0)
    x = flambeau.ones(200, 100)
    m = nn.Dropout(0.3)
    y = to_numpy(m(x))
    zero_frac = (y == 0).mean()
    assert abs(zero_frac - 0.3) < 0.02
    assert np.allclose(y[y != 0], 1 / 0.7)
    m.eval()
    assert m(x) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert to_numpy(F.dropout(x, 1.0)).max() == 0
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    assert repr(nn.Dropout(0.2)) == "Dropout(p=0.2, inplace=False)"


def test_dropout_gradient_is_the_mask():
    x = flambeau.ones(50, 40, requires_grad=True)
    y = F.dropout(x, 0.4)
    y.sum().backward()
    assert_close(x.grad, to_numpy(y))


def test_channel_dropout_zeroes_whole_channels():
    flambeau.manual_seed(1)
    x = flambeau.ones(8, 16, 5, 5)
    y = to_numpy(nn.Dropout2d(0.5)(x))
    per_channel = y.reshape(8, 16, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert 0.2 < (per_channel[..., 0] == 0).mean() < 0.8
    y1 = to_numpy(nn.Dropout1d(0.5)(flambeau.ones(4, 6, 7)))
    assert np.all((y1 == 0).all(-1) | (y1 == 2.0).all(-1))


# =============================================================================
# Embedding
# =============================================================================


def test_embedding_lookup_and_gradient_with_padding_idx():
    m = nn.Embedding(6, 3, padding_idx=2)
    assert repr(m) == "Embedding(6, 3, padding_idx=2)"
    assert to_numpy(m.weight)[2].tolist() == [0.0, 0.0, 0.0]
    idx = flambeau.tensor([[0, 2, 5], [5, 5, 1]])
    out = m(idx)
    w = to_numpy(m.weight)
    assert_close(out, w[np.array([[0, 2, 5], [5, 5, 1]])])
    g = RNG.standard_normal((2, 3, 3)).astype(np.float32)
    out.backward(flambeau.tensor(g))
    expected = np.zeros((6, 3), np.float32)
    np.add.at(expected, np.array([0, 2, 5, 5, 5, 1]), g.reshape(-1, 3))
    expected[2] = 0  # the padding row gets no gradient
    assert_close(m.weight.grad, expected, rtol=1e-5)


def test_embedding_negative_padding_idx_scale_grad_and_max_norm():
    assert nn.Embedding(5, 2, padding_idx=-1).padding_idx == 4
    m = nn.Embedding(4, 2, scale_grad_by_freq=True)
    m(flambeau.tensor([1, 1, 3])).sum().backward()
    assert_close(m.weight.grad, [[0, 0], [1, 1], [0, 0], [1, 1]])
    m = nn.Embedding(4, 3, max_norm=1.0)
    with flambeau.no_grad():
        m.weight.copy_(flambeau.tensor([[3.0, 4.0, 0.0], [0.1, 0.0, 0.0], [1.0, 1.0, 1.0],
                                        [0.0, 0.0, 2.0]]))
    out = m(flambeau.tensor([0, 1]))
    assert_close(out, [[0.6, 0.8, 0.0], [0.1, 0.0, 0.0]], rtol=1e-5)
    assert_close(m.weight[0], [0.6, 0.8, 0.0], rtol=1e-5)  # renormalised in place
    assert_close(m.weight[3], [0.0, 0.0, 2.0])  # rows not looked up stay


def test_embedding_from_pretrained_and_errors():
    w = flambeau.tensor([[1.0, 2.0], [3.0, 4.0]])
    m = nn.Embedding.from_pretrained(w)
    assert not m.weight.requires_grad
    assert m(flambeau.tensor([1])).tolist() == [[3.0, 4.0]]
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    with pytest.raises(RuntimeError, match="indices"):
        m(flambeau.tensor([0.0]))
    emb = F.embedding(flambeau.tensor([[1, 0]]), w)
    assert emb.shape == (1, 2, 2)


def test_embedding_init_is_standard_normal():
    flambeau.manual_seed(0)
    w = to_numpy(nn.Embedding(400, 50).weight)
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02


def test_one_hot():
    out = F.one_hot(flambeau.tensor([0, 2, 1]))
    assert out.dtype is flambeau.int64
    assert out.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert F.one_hot(flambeau.tensor([[1], [0]]), 4).shape == (2, 1, 4)
    with pytest.raises(RuntimeError):
        F.one_hot(flambeau.tensor([3]), 2)


# =============================================================================
# normalisation
# =============================================================================


def _np_bn_train(x, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    mean = x.mean(axes, keepdims=True)
    var = x.var(axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps), mean.reshape(-1), var.reshape(-1)


@pytest.mark.parametrize("shape,cls", [((6, 4), nn.BatchNorm1d), ((5, 4, 7), nn.BatchNorm1d),
                                       ((3, 4, 5, 6), nn.BatchNorm2d)])
def test_batchnorm_training_running_stats_and_eval(shape, cls):
    m = cls(4, momentum=0.2).double()
    with flambeau.no_grad():
        m.weight.copy_(t64([1.0, 2.0, 0.5, -1.0]))
        m.bias.copy_(t64([0.0, 0.1, -0.2, 0.3]))
    w = np.array([1.0, 2.0, 0.5, -1.0]).reshape([1, 4] + [1] * (len(shape) - 2))
    b = np.array([0.0, 0.1, -0.2, 0.3]).reshape(w.shape)
    rm, rv = np.zeros(4), np.ones(4)
    for step in range(3):
        x = RNG.standard_normal(shape) * (step + 1) + step
        out = m(t64(x))
        xhat, mean, var = _np_bn_train(x)
        n = x.size / 4
        assert_close(out, xhat * w + b, rtol=1e-9, atol=1e-10)
        rm = 0.8 * rm + 0.2 * mean
        rv = 0.8 * rv + 0.2 * var * n / (n - 1)  # the running variance is unbiased
        assert_close(m.running_mean, rm, rtol=1e-10)
        assert_close(m.running_var, rv, rtol=1e-10)
        assert m.num_batches_tracked.item() == step + 1
    m.eval()
    x = RNG.standard_normal(shape)
    shp = w.shape
    expected = (x - rm.reshape(shp)) / np.sqrt(rv.reshape(shp) + 1e-5) * w + b
    assert_close(m(t64(x)), expected, rtol=1e-9)
    assert m.num_batches_tracked.item() == 3  # eval mode does not count batches


def test_batchnorm_gradients_train_and_eval():
    x = t64(RNG.standard_normal((4, 3, 2, 2)), requires_grad=True)
    w = t64(RNG.uniform(0.5, 1.5, 3), requires_grad=True)
    b = t64(RNG.standard_normal(3), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x, w, b))
    assert gradgradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                         (x, w, b))
    rm, rv = t64([0.1, -0.2, 0.3]), t64([1.0, 2.0, 0.5])
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False), (x, w, b))


def test_batchnorm_values_pytorch_gives():
    # nn.BatchNorm1d(3, momentum=None) (cumulative average) and the default momentum, two steps
    xs = [[[1.0, 2.0, 3.0], [2.0, 0.0, -1.0]], [[0.0, 1.0, 1.0], [4.0, 1.0, 5.0], [1.0, 1.0, 1.0]]]
    m = nn.BatchNorm1d(3, momentum=None).double()
    for x in xs:
        out = m(t64(x))
    assert_close(m.running_mean, [1.5833333333333335, 1.0, 1.6666666666666667], rtol=1e-12)
    assert_close(m.running_var, [2.4166666666666665, 1.0, 6.666666666666667], rtol=1e-12)
    assert m.num_batches_tracked.item() == 2
    assert_close(out, [[-0.9805789785364644, 0.0, -0.707105786819734],
                       [1.3728105699510502, 0.0, 1.4142115736394678],
                       [-0.39223159141458575, 0.0, -0.707105786819734]], rtol=1e-9)
    m = nn.BatchNorm1d(3).double()
    for x in xs:
        m(t64(x))
    assert_close(m.running_mean, [0.30166666666666675, 0.19, 0.32333333333333336], rtol=1e-12)
    assert_close(m.running_var, [1.2883333333333336, 0.9900000000000001, 2.0633333333333335],
                 rtol=1e-12)
    m.eval()
    assert_close(m(t64(xs[0])), [[0.6152434025639346, 1.8191092582218784, 1.8634105114405743],
                                 [1.496260208144748, -0.1909562204763298, -0.9212627310609066]],
                 rtol=1e-9)


def test_batchnorm_options_and_errors():
    m = nn.BatchNorm2d(3, affine=False, track_running_stats=False)
    assert list(m.state_dict()) == []
    assert m.running_mean is None
    m.eval()  # without running stats, eval uses the batch statistics
    out = to_numpy(m(flambeau.randn(4, 3, 2, 2) * 3 + 1))
    assert abs(out.mean()) < 1e-5
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(flambeau.randn(2, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(flambeau.randn(1, 3))
    assert repr(nn.BatchNorm2d(8)) == (
        "BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    )
    m = nn.BatchNorm1d(2)
    m(flambeau.randn(4, 2))
    m.reset_running_stats()
    assert m.num_batches_tracked.item() == 0 and to_numpy(m.running_var).tolist() == [1.0, 1.0]


@pytest.mark.parametrize("normalized_shape", [(5,), (4, 5)])
def test_layer_norm_forward_and_gradients(normalized_shape):
    x = RNG.standard_normal((3, 4, 5))
    m = nn.LayerNorm(normalized_shape).double()
    w = RNG.standard_normal(normalized_shape)
    b = RNG.standard_normal(normalized_shape)
    with flambeau.no_grad():
        m.weight.copy_(t64(w))
        m.bias.copy_(t64(b))
    axes = tuple(range(3 - len(normalized_shape), 3))
    mean = x.mean(axes, keepdims=True)
    var = x.var(axes, keepdims=True)
    assert_close(m(t64(x)), (x - mean) / np.sqrt(var + 1e-5) * w + b, rtol=1e-9)
    xg = t64(x[:2], True)
    wg, bg = t64(w, True), t64(b, True)
    fn = lambda x, w, b: F.layer_norm(x, normalized_shape, w, b)  # noqa: E731
    assert gradcheck(fn, (xg, wg, bg))
    assert gradgradcheck(fn, (xg, wg, bg))
    assert gradcheck(lambda x: F.layer_norm(x, normalized_shape), (xg,))


def test_layer_norm_repr_and_shape_check():
    assert repr(nn.LayerNorm(10)) == "LayerNorm((10,), eps=1e-05, elementwise_affine=True, bias=True)"
    m = nn.LayerNorm(4, elementwise_affine=False)
    assert list(m.state_dict()) == []
    with pytest.raises(RuntimeError, match="normalized_shape"):
        nn.LayerNorm(3)(flambeau.randn(2, 4))


def test_group_norm_forward_and_gradients():
    x = RNG.standard_normal((2, 6, 3, 2))
    m = nn.GroupNorm(3, 6).double()
    w, b = RNG.standard_normal(6), RNG.standard_normal(6)
    with flambeau.no_grad():
        m.weight.copy_(t64(w))
        m.bias.copy_(t64(b))
    g = x.reshape(2, 3, -1)
    xhat = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + 1e-5))
    expected = xhat.reshape(x.shape) * w.reshape(1, 6, 1, 1) + b.reshape(1, 6, 1, 1)
    assert_close(m(t64(x)), expected, rtol=1e-9)
    assert gradcheck(lambda x, w, b: F.group_norm(x, 3, w, b),
                     (t64(x[:1, :, :2], True), t64(w, True), t64(b, True)))
    assert repr(m) == "GroupNorm(3, 6, eps=1e-05, affine=True, bias=True)"
    with pytest.raises(ValueError):
        nn.GroupNorm(4, 6)


def test_instance_norm_and_rms_norm():
    x = RNG.standard_normal((2, 3, 4, 5))
    out = nn.InstanceNorm2d(3).double()(t64(x))
    mean = x.mean((2, 3), keepdims=True)
    assert_close(out, (x - mean) / np.sqrt(x.var((2, 3), keepdims=True) + 1e-5), rtol=1e-9)
    r = nn.RMSNorm(5).double()(t64(x))
    eps = np.finfo(np.float64).eps
    assert_close(r, x / np.sqrt((x * x).mean(-1, keepdims=True) + eps), rtol=1e-9)


# =============================================================================
# padding, normalize, distances
# =============================================================================

_NP_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", [(1, 2), (2, 0, 1, 1)])
def test_pad_modes_match_numpy(mode, pad):
    x = RNG.standard_normal((2, 3, 4, 5))
    widths = [(0, 0)] * 4
    for i in range(len(pad) // 2):
        widths[3 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        expected = np.pad(x, widths, constant_values=0.5)
        out = F.pad(t64(x), pad, value=0.5)
    else:
        expected = np.pad(x, widths, mode=_NP_MODES[mode])
        out = F.pad(t64(x), pad, mode=mode)
    assert_close(out, expected, rtol=1e-12)
    xg = t64(x[:1, :1], True)
    assert gradcheck(lambda v: F.pad(v, pad, mode=mode), (xg,))


def test_pad_negative_crops():
    x = flambeau.arange(12.0).reshape(3, 4)
    assert F.pad(x, (-1, 1)).tolist() == [[1, 2, 3, 0], [5, 6, 7, 0], [9, 10, 11, 0]]
    with pytest.raises(RuntimeError, match="divisible by 2"):
        F.pad(x, (1,))


def test_normalize_and_cosine_similarity():
    x = RNG.standard_normal((4, 3))
    y = RNG.standard_normal((4, 3))
    assert_close(F.normalize(t64(x)), x / np.linalg.norm(x, axis=1, keepdims=True), rtol=1e-10)
    assert_close(F.normalize(t64(x), p=1, dim=0), x / np.abs(x).sum(0, keepdims=True), rtol=1e-10)
    assert_close(F.normalize(flambeau.zeros(2, 3)), np.zeros((2, 3)))
    cos = (x * y).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y, axis=1)
    assert_close(F.cosine_similarity(t64(x), t64(y)), cos, rtol=1e-10)
    assert gradcheck(F.cosine_similarity, (t64(x, True), t64(y, True)))
    assert gradcheck(F.normalize, (t64(x, True),))
    d = F.pairwise_distance(t64(x), t64(y))
    assert_close(d, np.linalg.norm(x - y + 1e-6, axis=1), rtol=1e-10)


# =============================================================================
# state_dict keys and reprs of whole architectures are PyTorch's
# =============================================================================


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.25),
            nn.Linear(16, 16), nn.LayerNorm(16), nn.GELU(),
        )
        self.embed = nn.Embedding(10, 8, padding_idx=0)
        self.head = nn.Linear(16, 4)

    def forward(self, idx):
        return self.head(self.features(self.embed(idx).mean(1)))


def test_architecture_state_dict_keys_are_pytorchs():
    expected = [
        "features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias",
        "features.1.running_mean", "features.1.running_var", "features.1.num_batches_tracked",
        "features.4.weight", "features.4.bias", "features.5.weight", "features.5.bias",
        "embed.weight", "head.weight", "head.bias",
    ]
    net = SmallCNN()
    assert list(net.state_dict()) == expected
    out = net(flambeau.tensor([[1, 2, 0], [3, 4, 5]]))
    assert out.shape == (2, 4)
    assert repr(net) == """SmallCNN(
  (features): Sequential(
    (0): Linear(in_features=8, out_features=16, bias=True)
    (1): BatchNorm1d(16, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    (2): ReLU()
    (3): Dropout(p=0.25, inplace=False)
    (4): Linear(in_features=16, out_features=16, bias=True)
    (5): LayerNorm((16,), eps=1e-05, elementwise_affine=True, bias=True)
    (6): GELU(approximate='none')
  )
  (embed): Embedding(10, 8, padding_idx=0)
  (head): Linear(in_features=16, out_features=4, bias=True)
)"""


def test_loss_weight_buffers_in_state_dict():
    loss = nn.CrossEntropyLoss(weight=flambeau.ones(3))
    assert list(loss.state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    loss = nn.BCEWithLogitsLoss(pos_weight=flambeau.ones(2))
    assert list(loss.state_dict()) == ["pos_weight"]
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
