"""Small end-to-end training programs, as PyTorch users write them, checked against numbers
PyTorch 2.13 printed for the same programs (pasted in: torch is not a test dependency), and
the behaviours whole programs rely on: new optimizers, checkpoint resume, deepcopy after
training, the Transformer encoder's padded inference, loss dtype rules, shuffling order."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from helpers import assert_close, to_numpy

import flambeau
import flambeau.nn as nn
import flambeau.nn.functional as F
from flambeau.backend import TorchRandomMixin


def _torch_rng(device=None):
    """Whether ``device``'s backend draws PyTorch's CPU random numbers (the NumPy backend)."""
    b = flambeau.backends.get_backend(device or str(flambeau.get_default_device()))
    return isinstance(b, TorchRandomMixin)


# ---------------------------------------------------------------------------------------------
# optimizers written with tensor ops: 6 steps on a small least-squares problem, float64
# ---------------------------------------------------------------------------------------------
W0 = [[0.5, -1.0, 0.25], [1.5, 0.3, -0.7]]
X = [[1.0, 2.0, -1.0], [0.5, -0.3, 0.8], [-1.2, 0.4, 0.9], [0.1, 0.1, 0.1]]
Y = [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [-1.0, 2.0]]

# (optimizer, options, parameter after 6 steps as PyTorch computes it, state keys)
OPTIM_CASES = [
    ("Adadelta", {"lr": 1.0},
     [[0.5189953544633163, -0.9802776598779044, 0.23041532353552097],
      [1.4802595163990802, 0.28032104988700807, -0.6802517398333958]],
     ["acc_delta", "square_avg", "step"]),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1},
     [[0.5072081088569945, -0.9926468771480822, 0.242665285161538],
      [1.4926442451969641, 0.29265306541490743, -0.6926439801663624]],
     ["acc_delta", "square_avg", "step"]),
    ("Adamax", {"lr": 0.1},
     [[0.5941118955874006, -0.4859717816109438, -0.1708482256528378],
      [0.9790588421578894, -0.17413637111921543, -0.17298961348934183]],
     ["exp_avg", "exp_inf", "step"]),
    ("Adamax", {"lr": 0.1, "betas": (0.3, 0.9), "weight_decay": 0.1},
     [[0.2533961808681256, -0.39552346768342583, -0.1788128630676012],
      [0.9013470117276068, -0.17296353889939584, -0.09732637439582789]],
     ["exp_avg", "exp_inf", "step"]),
    ("NAdam", {"lr": 0.1},
     [[0.44782961275980354, -0.5601904827270646, -0.12641072622544086],
      [1.0614629824153454, -0.10325277973513816, -0.25747543715069005]],
     ["exp_avg", "exp_avg_sq", "mu_product", "step"]),
    ("NAdam", {"lr": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": True,
               "momentum_decay": 0.01},
     [[0.4178650216419635, -0.516747830705763, -0.12647786351783816],
      [0.991107979607214, -0.10209729717756535, -0.23228914732208225]],
     ["exp_avg", "exp_avg_sq", "mu_product", "step"]),
    ("RAdam", {"lr": 0.1},
     [[0.542411072068667, -0.32715548264937094, 0.01421771005189863],
      [0.9032651732688965, -0.15102616050589326, -0.019715451293758027]],
     ["exp_avg", "exp_avg_sq", "step"]),
    ("RAdam", {"lr": 0.1, "betas": (0.9, 0.5), "weight_decay": 0.1},
     [[0.5083382723087136, -0.18421553967179377, -0.02169091104127851],
      [0.7477402049338158, -0.20477331411108465, 0.10423513136358897]],
     ["exp_avg", "exp_avg_sq", "step"]),
    ("ASGD", {"lr": 0.1},
     [[0.5027533576949494, -0.31769992237506833, 0.03684758717794285],
      [0.9085095079290145, -0.09518929763320899, -0.013164592574060975]],
     ["ax", "eta", "mu", "step"]),
    ("ASGD", {"lr": 0.1, "lambd": 0.01, "alpha": 0.5, "t0": 2, "weight_decay": 0.1},
     [[0.47034156408838507, -0.2856323767998818, 0.03147483970477946],
      [0.8471674312263173, -0.08995011576967318, -0.002351660343381572]],
     ["ax", "eta", "mu", "step"]),
    ("Rprop", {"lr": 0.1},
     [[0.5015999999999999, -0.007008000000000125, -0.20039999999999997],
      [0.507008, -0.44415999999999994, 0.2929919999999999]],
     ["prev", "step", "step_size"]),
    ("Rprop", {"lr": 0.1, "etas": (0.3, 1.5), "step_sizes": (0.01, 0.2), "maximize": True},
     [[-0.55, -2.05, 1.2999999999999998], [2.5500000000000003, 1.3499999999999999,
                                           -1.7499999999999998]],
     ["prev", "step", "step_size"]),
]


def _least_squares_steps(opt, w, n):
    x = flambeau.tensor(X, dtype=flambeau.float64)
    y = flambeau.tensor(Y, dtype=flambeau.float64)
    for _ in range(n):
        opt.zero_grad()
        loss = ((x @ w.t() - y) ** 2).mean() + w.abs().sum() * 0.01
        loss.backward()
        opt.step()


@pytest.mark.parametrize("name,options,expected,keys", OPTIM_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(OPTIM_CASES)])
def test_tensor_op_optimizers_match_pytorch(name, options, expected, keys):
    w = flambeau.tensor(W0, dtype=flambeau.float64, requires_grad=True)
    opt = getattr(flambeau.optim, name)([w], **options)
    _least_squares_steps(opt, w, 6)
    assert_close(w, np.array(expected), rtol=1e-12, atol=1e-12, msg=f"{name} {options}")
    assert sorted(opt.state_dict()["state"][0]) == keys
    assert opt.state[w]["step"].item() == 6


def test_asgd_average_and_decays_match_pytorch():
    w = flambeau.tensor(W0, dtype=flambeau.float64, requires_grad=True)
    opt = flambeau.optim.ASGD([w], lr=0.1, lambd=0.01, alpha=0.5, t0=2, weight_decay=0.1)
    _least_squares_steps(opt, w, 6)
    state = opt.state[w]
    assert_close(state["ax"], np.array(
        [[0.48629385600423186, -0.37147379539771075, 0.05090057814195662],
         [0.9225330685988163, -0.062043027823392584, -0.08440785255078977]]), rtol=1e-12)
    # eta and mu are float32 scalars, as PyTorch keeps them
    assert state["eta"].item() == pytest.approx(0.09970134496688843, rel=1e-7)
    assert state["mu"].item() == 0.25


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"])
def test_tensor_op_optimizer_resume_equals_continuous_run(name):
    def make():
        w = flambeau.tensor(W0, dtype=flambeau.float64, requires_grad=True)
        return w, getattr(flambeau.optim, name)([w], lr=0.05)

    w1, opt1 = make()
    _least_squares_steps(opt1, w1, 6)
    w2, opt2 = make()
    _least_squares_steps(opt2, w2, 3)
    sd = copy.deepcopy(opt2.state_dict())
    w3, opt3 = make()
    with flambeau.no_grad():
        w3.copy_(w2)
    opt3.load_state_dict(sd)
    _least_squares_steps(opt3, w3, 3)
    # loading casts NAdam's float32 mu_product to the parameter's dtype, as PyTorch does, so
    # the resumed run differs from the continuous one by rounding (PyTorch's too: 2e-11)
    assert_close(w3, w1, rtol=1e-9, atol=1e-10, msg=name)


def test_tensor_op_optimizers_reject_bad_options_like_pytorch():
    w = flambeau.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="Invalid rho value: 1.5"):
        flambeau.optim.Adadelta([w], rho=1.5)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        flambeau.optim.NAdam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid eta values: 0.5, 0.9"):
        flambeau.optim.Rprop([w], etas=(0.5, 0.9))
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        flambeau.optim.RAdam([w], lr=-1)


def test_step_counter_dtype_follows_default_dtype():
    # PyTorch's _get_scalar_dtype: float64 state scalars while float64 is the default
    flambeau.set_default_dtype(flambeau.float64)
    w = flambeau.zeros(2, requires_grad=True)
    opt = flambeau.optim.Adam([w])
    w.sum().backward()
    opt.step()
    assert opt.state[w]["step"].dtype is flambeau.float64


# ---------------------------------------------------------------------------------------------
# whole programs
# ---------------------------------------------------------------------------------------------
def test_polynomial_fit_with_rmsprop_and_steplr_matches_pytorch():
    # "Learning PyTorch with Examples": nn.Sequential + optim, in float64
    flambeau.set_default_dtype(flambeau.float64)
    x = flambeau.linspace(-math.pi, math.pi, 200)
    y = flambeau.sin(x)
    xx = x.unsqueeze(-1).pow(flambeau.tensor([1, 2, 3]))
    model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
    with flambeau.no_grad():
        model[0].weight.copy_(flambeau.tensor([[0.1, -0.2, 0.05]]))
        model[0].bias.fill_(0.3)
    loss_fn = nn.MSELoss(reduction="sum")
    optimizer = flambeau.optim.RMSprop(model.parameters(), lr=1e-3)
    scheduler = flambeau.optim.lr_scheduler.StepLR(optimizer, 50, 0.5)
    for _ in range(200):
        loss = loss_fn(model(xx), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
    assert loss.item() == pytest.approx(47.68314288901887, rel=1e-10)
    assert_close(model[0].weight, np.array(
        [[0.26962928129006575, -0.07059882643218485, -0.01028949833281682]]), rtol=1e-10)
    assert_close(model[0].bias, np.array([0.3226603809271405]), rtol=1e-10)


def test_checkpoint_resume_equals_continuous_training(tmp_path):
    # torch.save({'model': ..., 'optimizer': ..., 'scheduler': ...}) / torch.load, then resume
    rng = np.random.default_rng(0)
    xs = flambeau.tensor(rng.standard_normal((24, 5)).astype(np.float32))
    ys = flambeau.tensor(rng.integers(0, 3, 24))
    init = {k: v.clone() for k, v in nn.Sequential(
        nn.Linear(5, 8), nn.Tanh(), nn.LayerNorm(8), nn.Linear(8, 3)).state_dict().items()}

    def make():
        m = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.LayerNorm(8), nn.Linear(8, 3))
        m.load_state_dict(init)
        opt = flambeau.optim.NAdam(m.parameters(), lr=1e-2, weight_decay=1e-3)
        sch = flambeau.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6)
        return m, opt, sch

    def epoch(m, opt, sch):
        for i in range(0, 24, 8):
            opt.zero_grad()
            F.cross_entropy(m(xs[i:i + 8]), ys[i:i + 8]).backward()
            opt.step()
        sch.step()

    m1, o1, s1 = make()
    for _ in range(4):
        epoch(m1, o1, s1)
    m2, o2, s2 = make()
    for _ in range(2):
        epoch(m2, o2, s2)
    path = tmp_path / "ckpt.pt"
    flambeau.save({"epoch": 2, "model": m2.state_dict(), "optimizer": o2.state_dict(),
                   "scheduler": s2.state_dict()}, path)
    ckpt = flambeau.load(path, map_location="cpu", weights_only=True)
    m3, o3, s3 = make()
    m3.load_state_dict(ckpt["model"])
    o3.load_state_dict(ckpt["optimizer"])
    s3.load_state_dict(ckpt["scheduler"])
    for _ in range(ckpt["epoch"], 4):
        epoch(m3, o3, s3)
    for (name, a), b in zip(m1.state_dict().items(), m3.state_dict().values()):
        assert_close(b, a, rtol=1e-6, atol=1e-7, msg=name)
    assert s3.get_last_lr() == s1.get_last_lr()


def test_deepcopy_of_a_trained_model_and_its_state_dict():
    # early stopping keeps copy.deepcopy(model.state_dict()); model copies are trained apart
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    m(flambeau.randn(5, 3)).sum().backward()
    best = copy.deepcopy(m.state_dict())
    m2 = copy.deepcopy(m)
    assert m2[0].weight.grad is not m[0].weight.grad
    assert_close(m2[0].weight.grad, m[0].weight.grad)
    grad_before = to_numpy(m[0].weight.grad).copy()
    m2(flambeau.randn(5, 3)).sum().backward()  # accumulates into the copy only
    np.testing.assert_array_equal(to_numpy(m[0].weight.grad), grad_before)
    assert m2[1].running_mean is not m[1].running_mean
    m.load_state_dict(best)


def test_parameter_str_and_legacy_type_conversion():
    p = nn.Parameter(flambeau.zeros(2))
    assert str(p).startswith("Parameter containing:\ntensor([0., 0.]")
    assert str(p) == repr(p)
    x = flambeau.tensor([1.5, 2.5])
    assert x.type(flambeau.LongTensor).dtype is flambeau.int64
    assert x.type(flambeau.DoubleTensor).dtype is flambeau.float64
    assert x.type(flambeau.float16).dtype is flambeau.float16


def test_lr_scheduler_private_base_is_a_subclass():
    from flambeau.optim import lr_scheduler

    opt = flambeau.optim.SGD([flambeau.zeros(1, requires_grad=True)], lr=0.1)
    s = lr_scheduler.StepLR(opt, 1)
    assert isinstance(s, lr_scheduler.LRScheduler)
    assert not isinstance(s, lr_scheduler._LRScheduler)
    assert issubclass(lr_scheduler._LRScheduler, lr_scheduler.LRScheduler)


# ---------------------------------------------------------------------------------------------
# nn pieces whole programs hit
# ---------------------------------------------------------------------------------------------
def test_square_subsequent_mask_follows_default_dtype():
    assert nn.Transformer.generate_square_subsequent_mask(3).dtype is flambeau.float32
    flambeau.set_default_dtype(flambeau.float64)
    mask = nn.Transformer.generate_square_subsequent_mask(3)
    assert mask.dtype is flambeau.float64
    assert to_numpy(mask).tolist() == [[0, -math.inf, -math.inf], [0, 0, -math.inf], [0, 0, 0]]


def test_transformer_encoder_zeroes_padded_positions_in_inference():
    # PyTorch packs a right-padded batch into a nested tensor in eval mode without grad: the
    # padded positions come out as zeros (before the final norm)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    enc = nn.TransformerEncoder(layer, 2)
    x = flambeau.randn(2, 5, 8)
    pad = flambeau.tensor([[False, False, False, True, True], [False] * 5])
    train_out = enc(x, src_key_padding_mask=pad)
    enc.eval()
    with flambeau.no_grad():
        out = enc(x, src_key_padding_mask=pad)
        causal = enc(x, mask=nn.Transformer.generate_square_subsequent_mask(5))
    assert_close(out[0, :3], train_out[0, :3], rtol=1e-5, atol=1e-5)
    assert_close(out[1], train_out[1], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(to_numpy(out[0, 3:]), 0)
    assert np.abs(to_numpy(causal)).min(-1).max() > 0  # with a mask, nothing is packed
    # with grad enabled (parameters require grad) the padded rows are computed
    out_grad = enc(x, src_key_padding_mask=pad)
    assert_close(out_grad, train_out, rtol=1e-5, atol=1e-5)
    # padding that is not at the end is not packed either
    with flambeau.no_grad():
        out_left = enc(x, src_key_padding_mask=pad.flip(1))
    assert np.abs(to_numpy(out_left[0, :2])).max() > 0


def test_transformer_encoder_warns_when_nested_tensors_cannot_be_used():
    layer = nn.TransformerEncoderLayer(8, 2, 16)  # batch_first=False
    with pytest.warns(UserWarning, match="self.use_nested_tensor is False because "
                                         "encoder_layer.self_attn.batch_first was not True"):
        enc = nn.TransformerEncoder(layer, 1)
    assert enc.use_nested_tensor is False
    assert layer.activation_relu_or_gelu == 1
    assert nn.TransformerEncoderLayer(8, 2, activation="gelu").activation_relu_or_gelu == 2


def test_binary_cross_entropy_dtype_rules_are_pytorchs():
    p = flambeau.tensor([0.2, 0.7])
    with pytest.raises(RuntimeError, match="Found dtype Double but expected Float"):
        F.binary_cross_entropy(p, flambeau.tensor([0.0, 1.0], dtype=flambeau.float64))
    with pytest.raises(RuntimeError, match="Found dtype Long but expected Float"):
        nn.BCELoss()(p, flambeau.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                           "output type Long"):
        F.binary_cross_entropy_with_logits(p, flambeau.tensor([0, 1]))
    # with logits the loss takes the target's dtype
    loss = F.binary_cross_entropy_with_logits(p.double(), flambeau.tensor([0.0, 1.0]))
    assert loss.dtype is flambeau.float32
    expected = np.mean(np.log1p(np.exp([0.2, 0.7])) - np.array([0.0, 0.7]))
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_embedding_bag_from_pretrained():
    weight = flambeau.tensor([[1.0, 2.3, 3.0], [4.0, 5.1, 6.3]])
    bag = nn.EmbeddingBag.from_pretrained(weight)
    assert not bag.weight.requires_grad
    assert_close(bag(flambeau.tensor([[1, 0]])), np.array([[2.5, 3.7, 4.65]]))
    bag = nn.EmbeddingBag.from_pretrained(weight, freeze=False, mode="sum")
    assert bag.weight.requires_grad and bag.mode == "sum"
    assert_close(bag(flambeau.tensor([0, 1, 1]), flambeau.tensor([0, 1])),
                 np.array([[1.0, 2.3, 3.0], [8.0, 10.2, 12.6]]))


# ---------------------------------------------------------------------------------------------
# PyTorch's random numbers (on backends that draw them: the NumPy one)
# ---------------------------------------------------------------------------------------------
def test_trunc_normal_draws_pytorchs_numbers():
    if not _torch_rng():
        pytest.skip("this backend's random numbers are not PyTorch's CPU ones")
    init = nn.init
    flambeau.manual_seed(0)
    cases = [
        (init.trunc_normal_(flambeau.empty(6), std=0.02),
         [0.03081992268562317, -0.00586857832968235, -0.04357578605413437,
          0.011368625797331333, -0.021690446883440018, -0.027971908450126648]),
        (init.trunc_normal_(flambeau.empty(5), mean=0.5, a=0.0, b=1.0),
         [0.903346836566925, 0.8731146454811096, 0.47912052273750305, 0.09665647149085999,
          0.6227012276649475]),
        (init.trunc_normal_(flambeau.empty(5), std=1.0, a=1.0, b=3.0),
         [1.0102647542953491, 1.8737826347351074, 1.5457251071929932, 1.2286432981491089,
          2.0919923782348633]),
    ]
    for got, expected in cases:
        assert_close(got, np.array(expected, dtype=np.float32), rtol=1e-5, atol=1e-6)


def test_shuffling_follows_manual_seed_as_pytorch():
    if not _torch_rng("cpu"):
        pytest.skip("the CPU backend's random numbers are not PyTorch's")
    from flambeau.utils.data import DataLoader, RandomSampler

    flambeau.manual_seed(0)
    first = [b.tolist() for b in DataLoader(range(10), batch_size=4, shuffle=True)]
    second = [b.tolist() for b in DataLoader(range(10), batch_size=4, shuffle=True)]
    assert first == [[6, 7, 1, 4], [2, 0, 9, 8], [3, 5]]
    assert second == [[2, 4, 7, 0], [8, 9, 5, 3], [6, 1]]
    assert list(RandomSampler(range(6), replacement=True)) == [4, 3, 1, 2, 3, 4]


def test_rrelu_gumbel_feature_alpha_dropout_draw_pytorchs_numbers():
    if not _torch_rng():
        pytest.skip("this backend's random numbers are not PyTorch's CPU ones")
    flambeau.manual_seed(0)
    assert_close(F.rrelu(flambeau.linspace(-2, 2, 9), training=True), np.array(
        [-0.6541887521743774, -0.40869373083114624, -0.22070477902889252,
         -0.15841121971607208, 0.0, 0.5, 1.0, 1.5, 2.0], dtype=np.float32))
    flambeau.manual_seed(0)
    assert_close(F.gumbel_softmax(flambeau.arange(6.0).reshape(2, 3), tau=0.5), np.array(
        [[0.000544194714166224, 0.03269349783658981, 0.9667623043060303],
         [0.005309807602316141, 0.23506703972816467, 0.7596231698989868]], dtype=np.float32),
        rtol=1e-4, atol=1e-6)
    flambeau.manual_seed(0)
    out = F.feature_alpha_dropout(flambeau.linspace(-1, 1, 12).reshape(2, 3, 2), 0.5, True)
    dropped = -0.7791939377784729
    assert_close(out, np.array(
        [[[dropped] * 2, [dropped] * 2, [0.5374471545219421, 0.6986116766929626]],
         [[dropped] * 2, [dropped] * 2, [dropped] * 2]], dtype=np.float32))


def test_rrelu_and_gumbel_semantics():
    x = flambeau.linspace(-2, 2, 9, requires_grad=True)
    y = nn.RReLU(0.1, 0.3)(x)  # training: slopes in [0.1, 0.3] on the non-positive side
    slope = to_numpy(y)[:4] / to_numpy(x)[:4]
    assert np.all((slope >= 0.1) & (slope <= 0.3))
    y.sum().backward()
    assert_close(x.grad[:4], slope, rtol=1e-6)  # the gradient is the drawn slope
    assert_close(nn.RReLU(0.1, 0.3).eval()(x), np.where(to_numpy(x) > 0, to_numpy(x),
                                                         0.2 * to_numpy(x)), rtol=1e-6)
    assert repr(nn.RReLU(0.1, 0.2, True)) == "RReLU(lower=0.1, upper=0.2, inplace=True)"
    logits = flambeau.randn(4, 5, requires_grad=True)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    assert to_numpy(hard).sum(1).tolist() == [1.0] * 4
    assert set(np.unique(to_numpy(hard)).tolist()) <= {0.0, 1.0}
    (hard * flambeau.arange(5.0)).sum().backward()
    assert logits.grad is not None and float(logits.grad.abs().sum()) > 0


def test_inplace_activation_variants():
    x = flambeau.tensor([-1.0, 0.5, 2.0])
    assert F.threshold_(x, 1.0, -3.0) is x
    assert to_numpy(x).tolist() == [-3.0, -3.0, 2.0]
    x = flambeau.tensor([-1.0, 0.5])
    F.selu_(x)
    assert_close(x, np.array([-1.1113307, 0.5253505]))
    x = flambeau.tensor([-1.0, 0.5])
    F.celu_(x, 2.0)
    assert_close(x, np.array([-0.7869387, 0.5]))


@pytest.mark.parametrize("layer,ndim,mode", [
    ("ZeroPad1d((1, 2))", 1, "constant"), ("ZeroPad2d(2)", 2, "constant"),
    ("ConstantPad2d((1, 0, 2, 1), 3.5)", 2, "constant"), ("ConstantPad3d(1, -1.0)", 3, "constant"),
    ("ReflectionPad1d(2)", 1, "reflect"), ("ReflectionPad2d((1, 2, 2, 1))", 2, "reflect"),
    ("ReplicationPad2d(2)", 2, "edge"), ("ReplicationPad3d(1)", 3, "edge"),
    ("CircularPad1d((1, 2))", 1, "wrap"), ("CircularPad2d(1)", 2, "wrap"),
])
def test_padding_layers(layer, ndim, mode):
    m = eval("nn." + layer)
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5, 6)[:ndim + 2]).astype(np.float32)
    pad = m.padding
    widths = [(0, 0), (0, 0)] + [(pad[2 * i], pad[2 * i + 1]) for i in range(ndim)][::-1]
    kwargs = {"constant_values": m.value} if mode == "constant" else {}
    assert_close(m(flambeau.tensor(x)), np.pad(x, widths, mode=mode, **kwargs), msg=layer)
    name = layer.split("(")[0]
    if name.startswith("Constant"):
        assert repr(m) == f"{name}(padding={pad}, value={m.value})"
    else:
        assert repr(m) == f"{name}({pad})"


def test_distance_layers():
    a = flambeau.tensor([[1.0, 2.0, 2.0], [0.0, 3.0, 4.0]])
    b = flambeau.tensor([[2.0, 4.0, 4.0], [0.0, -3.0, 4.0]])
    assert_close(nn.CosineSimilarity(dim=1)(a, b), np.array([1.0, 7.0 / 25.0]))
    assert_close(nn.PairwiseDistance()(a, b), np.array([3.0, 6.0]) + np.array([3e-6, 2e-6]) * 0,
                 rtol=1e-5)
    assert nn.PairwiseDistance(keepdim=True)(a, b).shape == (2, 1)
    assert repr(nn.CosineSimilarity()) == "CosineSimilarity()"


def test_activation_checkpointing_gives_the_same_values_and_gradients():
    from flambeau.utils.checkpoint import checkpoint, checkpoint_sequential

    block = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 4))
    x = flambeau.randn(3, 4, requires_grad=True)
    ref = block(x)
    ref.sum().backward()
    ref_grads = [to_numpy(p.grad).copy() for p in block.parameters()] + [to_numpy(x.grad).copy()]
    block.zero_grad()
    x.grad = None
    out = checkpoint(block, x, use_reentrant=False)
    out.sum().backward()
    assert_close(out, ref)
    for got, want in zip([p.grad for p in block.parameters()] + [x.grad], ref_grads):
        assert_close(got, want)
    out = checkpoint_sequential(block, 2, x, use_reentrant=False)
    assert_close(out, ref)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        checkpoint(block, x)
    # the reentrant variant only differentiates through its input tensors
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        out = checkpoint(block, x.detach(), use_reentrant=True)
    assert not out.requires_grad
    assert checkpoint(block, x.detach(), use_reentrant=False).requires_grad
    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
        checkpoint(block, x, use_reentrant=True, scale=2)


def test_loss_and_linear_nodes_have_pytorchs_names():
    # the 60-minute blitz prints loss.grad_fn and walks next_functions
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    out = net(flambeau.randn(5, 3))
    loss = nn.MSELoss()(out, flambeau.randn(5, 2))
    assert type(loss.grad_fn).__name__ == "MseLossBackward0"
    addmm = loss.grad_fn.next_functions[0][0]
    assert type(addmm).__name__ == "AddmmBackward0"
    assert type(addmm.next_functions[0][0]).__name__ == "AccumulateGrad"
    assert type(addmm.next_functions[1][0]).__name__ == "ReluBackward0"
    t = flambeau.tensor([0, 1, 1, 0, 1])
    names = {
        "MmBackward0": F.linear(flambeau.randn(2, 3), flambeau.randn(4, 3, requires_grad=True)),
        "NllLossBackward0": F.cross_entropy(out, t),
        "SmoothL1LossBackward0": F.smooth_l1_loss(out, out.detach() + 1, reduction="sum"),
        "HuberLossBackward0": F.huber_loss(out, out.detach() + 1),
        "BinaryCrossEntropyWithLogitsBackward0":
            F.binary_cross_entropy_with_logits(out, flambeau.ones(5, 2)),
        "BinaryCrossEntropyBackward0": F.binary_cross_entropy(out.sigmoid(), flambeau.ones(5, 2)),
    }
    for name, value in names.items():
        assert value.grad_fn.name() == name and name in repr(value.grad_fn)
    assert F.nll_loss(out.log_softmax(1), t, reduction="none").grad_fn.name() == "NllLossBackward0"


@pytest.mark.parametrize("needs", [(False, True, True), (True, False, True), (True, True, False),
                                   (False, False, True), (False, True, False)])
def test_linear_gradients_for_each_combination_of_inputs_that_need_them(needs):
    # (input, weight, bias) requiring grad or not: frozen layers, fixed inputs
    rng = np.random.default_rng(1)
    xs, ws, bs = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    x, w, b = (flambeau.tensor(a, requires_grad=n) for a, n in zip((xs, ws, bs), needs))
    (F.linear(x, w, b) * flambeau.tensor([[1.0, -2.0]])).sum().backward()
    g = np.tile([[1.0, -2.0]], (4, 1))
    expected = (g @ ws, g.T @ xs, g.sum(0))
    for t, n, e in zip((x, w, b), needs, expected):
        if n:
            assert_close(t.grad, e.astype(np.float32), rtol=1e-5)
        else:
            assert t.grad is None


def test_mse_loss_single_node_broadcasts_and_differentiates_twice():
    x = flambeau.randn(3, 4, dtype=flambeau.float64, requires_grad=True)
    y = flambeau.randn(4, dtype=flambeau.float64, requires_grad=True)
    for reduction in ("mean", "sum", "none"):
        assert flambeau.autograd.gradcheck(
            lambda a, r=reduction: F.mse_loss(a, x.detach(), reduction=r), (x,))
        assert flambeau.autograd.gradgradcheck(
            lambda a, b, r=reduction: F.mse_loss(a, b.expand(3, 4), reduction=r), (x, y))
    with pytest.warns(UserWarning, match="target size"):
        loss = F.mse_loss(x, y)
    expected = ((to_numpy(x) - to_numpy(y)) ** 2).mean()
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    assert F.mse_loss(x, y.float().expand(3, 4)).dtype is flambeau.float64


def test_indexing_with_a_range():
    # "What is torch.nn really?": -input[range(target.shape[0]), target].mean()
    x = flambeau.arange(12.0).reshape(3, 4)
    assert to_numpy(x[range(3), flambeau.tensor([0, 2, 1])]).tolist() == [0.0, 6.0, 9.0]
    assert x[range(1, 3)].shape == (2, 4)
    x[range(2)] = 0
    assert x.sum().item() == 38.0


# ---------------------------------------------------------------------------------------------
# weight / spectral normalization and parametrize
# ---------------------------------------------------------------------------------------------
def _np_weight_norm(v, g, dim):
    if dim is None:
        return v * (g / np.linalg.norm(v))
    axes = tuple(i for i in range(v.ndim) if i != dim % v.ndim)
    return v * (g / np.sqrt((v ** 2).sum(axis=axes, keepdims=True)))


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_hooks_and_parametrization(dim):
    conv = nn.Conv1d(2, 3, 3)
    w0 = to_numpy(conv.weight).copy()
    with pytest.warns(FutureWarning, match="weight_norm` is deprecated"):
        old = nn.utils.weight_norm(conv, dim=dim)
    assert list(old.state_dict()) == ["bias", "weight_g", "weight_v"]
    assert [n for n, _ in old.named_parameters()] == ["bias", "weight_g", "weight_v"]
    g_shape = () if dim is None else tuple(3 if i == 0 and dim == 0 else 2 if i == 1 and dim == 1
                                           else 1 for i in range(3))
    assert tuple(old.weight_g.shape) == g_shape
    assert_close(old.weight, w0)  # g and v start where the weight was
    with flambeau.no_grad():
        old.weight_g.mul_(2.0)
    x = flambeau.randn(4, 2, 5)
    y = old(x)  # the pre-hook recomputes the weight
    expected_w = _np_weight_norm(to_numpy(old.weight_v), to_numpy(old.weight_g), dim)
    assert_close(old.weight, expected_w, rtol=1e-5)
    y.sum().backward()
    assert old.weight_g.grad is not None and old.weight_v.grad is not None
    new = nn.utils.parametrizations.weight_norm(nn.Conv1d(2, 3, 3), dim=dim)
    assert list(new.state_dict()) == ["bias", "parametrizations.weight.original0",
                                      "parametrizations.weight.original1"]
    new.load_state_dict(old.state_dict())  # the old keys load through the compat hook
    assert_close(new(x), y, rtol=1e-5, atol=1e-6)
    nn.utils.remove_weight_norm(old)
    assert list(old.state_dict()) == ["bias", "weight"]
    assert_close(old.weight, expected_w, rtol=1e-5)


def test_spectral_norm_hooks_and_parametrization_semantics():
    lin = nn.utils.spectral_norm(nn.Linear(5, 4))
    assert list(lin.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    for _ in range(30):  # power iteration converges to the top singular value
        lin(flambeau.randn(2, 5))
    sigma = np.linalg.svd(to_numpy(lin.weight_orig), compute_uv=False)[0]
    assert_close(lin.weight, to_numpy(lin.weight_orig) / sigma, rtol=1e-4, atol=1e-6)
    lin.eval()
    u = to_numpy(lin.weight_u).copy()
    lin(flambeau.randn(2, 5))
    np.testing.assert_array_equal(to_numpy(lin.weight_u), u)  # no power iteration in eval
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
        nn.utils.spectral_norm(lin)
    nn.utils.remove_spectral_norm(lin)
    assert list(lin.state_dict()) == ["bias", "weight"]
    assert nn.utils.spectral_norm(nn.ConvTranspose2d(3, 2, 3)).weight_u.shape == (2,)
    p = nn.utils.parametrizations.spectral_norm(nn.Linear(5, 4))
    assert list(p.state_dict()) == ["bias", "parametrizations.weight.original",
                                    "parametrizations.weight.0._u",
                                    "parametrizations.weight.0._v"]
    for _ in range(30):
        p(flambeau.randn(2, 5))
    sigma = np.linalg.svd(to_numpy(p.parametrizations.weight.original), compute_uv=False)[0]
    assert_close(p.weight, to_numpy(p.parametrizations.weight.original) / sigma, rtol=1e-4,
                 atol=1e-6)


def test_spectral_norm_draws_pytorchs_vectors():
    if not _torch_rng():
        pytest.skip("this backend's random numbers are not PyTorch's CPU ones")
    flambeau.manual_seed(0)
    m = nn.utils.spectral_norm(nn.Linear(3, 2))
    with flambeau.no_grad():
        m.weight_orig.copy_(flambeau.tensor([[1.0, 2.0, 0.5], [-1.0, 0.3, 2.0]]))
    m(flambeau.ones(1, 3))
    assert_close(m.weight_u, np.array([-0.6435654759407043, -0.7653910517692566]), rtol=1e-5)
    assert_close(m.weight_v, np.array([0.07412753999233246, -0.6109671592712402,
                                       -0.7881777882575989]), rtol=1e-5)
    assert_close(m.weight, np.array([[0.41738587617874146, 0.8347717523574829,
                                      0.20869293808937073],
                                     [-0.41738587617874146, 0.12521576881408691,
                                      0.8347717523574829]]), rtol=1e-5)
    flambeau.manual_seed(0)
    p = nn.utils.parametrizations.spectral_norm(nn.Linear(3, 2))
    sn = p.parametrizations.weight[0]
    assert_close(sn._u, np.array([0.7856073379516602, -0.6187253594398499]), rtol=1e-4)
    assert_close(p.weight, np.array([[-0.006572856567800045, 0.4709565043449402,
                                      -0.7225707769393921],
                                     [-0.6460983157157898, -0.33813613653182983,
                                      0.23542168736457825]]), rtol=1e-4, atol=1e-6)


def test_register_parametrization_round_trip():
    P = nn.utils.parametrize

    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()

    class Half(nn.Module):
        def forward(self, X):
            return X * 0.5

    layer = nn.Linear(3, 3)
    original = layer.weight
    P.register_parametrization(layer, "weight", Symmetric())
    assert type(layer).__name__ == "ParametrizedLinear" and isinstance(layer, nn.Linear)
    assert P.is_parametrized(layer) and P.is_parametrized(layer, "weight")
    assert not P.is_parametrized(layer, "bias")
    assert P.type_before_parametrizations(layer) is nn.Linear
    assert layer.parametrizations.weight.original is original  # the same Parameter object
    assert list(layer.state_dict()) == ["bias", "parametrizations.weight.original"]
    w = to_numpy(layer.weight)
    np.testing.assert_array_equal(w, w.T)
    layer(flambeau.randn(2, 3)).sum().backward()
    assert original.grad is not None
    layer.weight = flambeau.eye(3) * 2  # through right_inverse
    assert_close(layer.weight, np.eye(3) * 2)
    with P.cached():
        assert layer.weight is layer.weight
    P.register_parametrization(layer, "weight", Half())
    assert_close(layer.weight, np.eye(3))
    with pytest.raises(RuntimeError, match="parametrization Half does not implement "
                                           "right_inverse"):
        layer.weight = flambeau.eye(3)
    P.remove_parametrizations(layer, "weight")
    assert type(layer) is nn.Linear and not hasattr(layer, "parametrizations")
    assert layer.weight is original
    assert_close(layer.weight, np.eye(3))
    with pytest.raises(ValueError, match="may not change the shape"):
        P.register_parametrization(layer, "weight", type("Row", (nn.Module,), {
            "forward": lambda self, X: X[0]})())


# ---------------------------------------------------------------------------------------------
# weight averaging (optim.swa_utils)
# ---------------------------------------------------------------------------------------------
def test_averaged_model_swa_ema_and_custom_averages():
    from flambeau.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    swa = AveragedModel(model)
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9))
    half = AveragedModel(model, avg_fn=lambda a, m, n: 0.5 * a + 0.5 * m)
    ema_buffers = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.5), use_buffers=True)
    snapshots = []
    for k in range(4):
        with flambeau.no_grad():
            for p in model.parameters():
                p.add_(float(k + 1))
        model(flambeau.randn(4, 2))  # moves the BatchNorm running statistics
        snapshots.append([to_numpy(p).copy() for p in model.parameters()])
        for avg in (swa, ema, half, ema_buffers):
            avg.update_parameters(model)
    assert int(swa.n_averaged) == 4
    for i, p in enumerate(swa.module.parameters()):
        assert_close(p, np.mean([s[i] for s in snapshots], axis=0), rtol=1e-5)
    for i, p in enumerate(ema.module.parameters()):
        want = snapshots[0][i]
        for s in snapshots[1:]:
            want = 0.9 * want + 0.1 * s[i]
        assert_close(p, want, rtol=1e-5)
    for i, p in enumerate(half.module.parameters()):
        want = snapshots[0][i]
        for s in snapshots[1:]:
            want = 0.5 * want + 0.5 * s[i]
        assert_close(p, want, rtol=1e-5)
    # without use_buffers the buffers are copied; with it they are averaged too
    assert_close(swa.module[1].running_mean, model[1].running_mean)
    assert not np.allclose(to_numpy(ema_buffers.module[1].running_mean),
                           to_numpy(model[1].running_mean))
    assert list(swa.state_dict())[0] == "n_averaged"  # its own buffer, before the copy


def test_swalr_schedule_and_update_bn():
    from flambeau.optim.swa_utils import SWALR, AveragedModel, update_bn

    w = nn.Parameter(flambeau.zeros(1))
    opt = flambeau.optim.SGD([w], lr=0.5)
    sched = SWALR(opt, swa_lr=0.05, anneal_epochs=4)
    lrs = []
    for _ in range(6):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    np.testing.assert_allclose(lrs, [0.4340990257669732, 0.275, 0.11590097423302682, 0.05,
                                     0.05, 0.05], rtol=1e-12)
    sd = sched.state_dict()
    assert "anneal_func" not in sd and "optimizer" not in sd
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear'"):
        SWALR(opt, swa_lr=0.1, anneal_strategy="exp")
    model = AveragedModel(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)))
    data = [flambeau.randn(8, 3) for _ in range(3)]
    update_bn([(x, 0) for x in data], model)  # one pass, cumulative averages
    h = np.concatenate([to_numpy(model.module[0](x)) for x in data])
    assert_close(model.module[1].running_mean, h.reshape(3, 8, 4).mean(1).mean(0), rtol=1e-5,
                 atol=1e-6)
    assert model.module[1].momentum == 0.1


# ---------------------------------------------------------------------------------------------
# CTC loss
# ---------------------------------------------------------------------------------------------
def _ctc_log_probs():
    x = np.cos(np.arange(6 * 2 * 4).reshape(6, 2, 4) * 0.7)
    return flambeau.tensor(x).log_softmax(2).detach().requires_grad_()


def test_ctc_loss_matches_pytorch_values_and_leaf_gradient():
    lp = _ctc_log_probs()
    targets = flambeau.tensor([[1, 2, 2], [3, 1, 0]])
    loss = F.ctc_loss(lp, targets, (6, 5), (3, 2), reduction="none")
    assert_close(loss, np.array([5.490402231285809, 2.141797322812109]), rtol=1e-12)
    assert loss.grad_fn.name() == "CtcLossBackward0"
    loss.sum().backward()
    # PyTorch's gradient (exp(log_probs) - posterior), zero past the input length
    assert_close(lp.grad[:, 0], np.array([
        [0.06578497737555195, -0.3345526648120613, 0.17808011761913803, 0.09068756981737115],
        [0.06927484751879848, -0.19550040217102588, -0.016274806711082168, 0.14250036136330954],
        [-0.08387744604183978, 0.11126536002284054, -0.2825023934589653, 0.2551144794779644],
        [-0.3296157869460967, 0.18291537111024617, -0.25204039023580327, 0.3987408060716537],
        [-0.4558890843489188, 0.14087783543143992, -0.17773414279141997, 0.4927453917088987],
        [-0.04061454633302683, 0.1478196178011181, -0.580101319848031, 0.4728962483799395]]),
        rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(to_numpy(lp.grad[5, 1]), 0.0)
    # concatenated targets, mean over target lengths then batch
    mean = nn.CTCLoss()(lp, flambeau.tensor([1, 2, 2, 3, 1]), flambeau.tensor([6, 5]),
                        flambeau.tensor([3, 2]))
    assert mean.item() == pytest.approx(1.450516369250662, rel=1e-12)


def test_ctc_loss_impossible_alignments_and_unbatched_input():
    lp = _ctc_log_probs()
    targets = flambeau.tensor([[1, 1, 1], [2, 0, 0]])
    loss = F.ctc_loss(lp, targets, (2, 5), (3, 0), reduction="none")
    assert to_numpy(loss)[0] == np.inf  # 3 labels (with a repeat) cannot fit in 2 frames
    loss.sum().backward()
    assert np.isnan(to_numpy(lp.grad)[:2, 0]).all()  # as PyTorch: NaN gradients
    lp.grad = None
    loss = F.ctc_loss(lp, targets, (2, 5), (3, 0), zero_infinity=True)
    loss.backward()
    np.testing.assert_array_equal(to_numpy(lp.grad)[:, 0], 0.0)
    single = F.ctc_loss(lp[:, 1], flambeau.tensor([3, 1]), (5,), (2,), reduction="sum")
    batched = F.ctc_loss(lp[:, 1:], flambeau.tensor([[3, 1]]), (5,), (2,), reduction="sum")
    assert single.shape == () and single.item() == pytest.approx(batched.item(), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# margin losses, channel shuffle, gradient clipping with a precomputed norm
# ---------------------------------------------------------------------------------------------
def test_margin_losses_match_pytorch():
    x = flambeau.tensor(np.sin(np.arange(20).reshape(4, 5) * 1.3), requires_grad=True)
    y = flambeau.tensor([0, 3, 4, 1])
    w = flambeau.tensor([0.5, 1.0, 1.5, 2.0, 0.7], dtype=flambeau.float64)
    labels = flambeau.tensor([[0, 1, -1, 2, 2], [3, -1, 0, 0, 0], [1, 2, 3, 0, 4],
                              [-1, 1, 1, 1, 1]])
    assert_close(F.multi_margin_loss(x, y, reduction="none"), np.array(
        [0.7815677484669059, 1.6164167976470716, 1.4009799860582928, 0.13534892712847213]),
        rtol=1e-12)
    loss = nn.MultiMarginLoss(p=2, margin=0.5, weight=w)(x, y)
    assert loss.item() == pytest.approx(1.4504736731676204, rel=1e-12)
    assert loss.grad_fn.name() == "MultiMarginLossBackward0"
    with pytest.raises(RuntimeError, match="expected scalar type Double but found Float"):
        F.multi_margin_loss(x, y, weight=w.float())
    assert_close(nn.MultiLabelMarginLoss(reduction="none")(x, labels),
                 np.array([0.49924474866432167, 1.6164167976470716, 0.0, 0.0]), rtol=1e-12)
    triplet = nn.TripletMarginWithDistanceLoss(margin=2.0, swap=True)
    assert triplet(x, x.flip(0), x * 0.5).item() == pytest.approx(1.9136150216091652, rel=1e-12)
    assert repr(triplet) == ("TripletMarginWithDistanceLoss(\n  (distance_function): "
                             "PairwiseDistance()\n)")
    assert flambeau.autograd.gradcheck(lambda a: F.multi_margin_loss(a, y, p=2, weight=w), (x,))
    assert flambeau.autograd.gradcheck(lambda a: F.multilabel_margin_loss(a, labels), (x,))


def test_channel_shuffle_and_clip_grads_with_norm():
    out = nn.ChannelShuffle(2)(flambeau.arange(8.0).reshape(1, 4, 2))
    assert to_numpy(out).tolist() == [[[0.0, 1.0], [4.0, 5.0], [2.0, 3.0], [6.0, 7.0]]]
    assert repr(nn.ChannelShuffle(2)) == "ChannelShuffle(groups=2)"
    w = flambeau.ones(3, requires_grad=True)
    (w * 10).sum().backward()
    total = nn.utils.get_total_norm([w.grad])
    nn.utils.clip_grads_with_norm_([w], 1.0, total)
    assert_close(w.grad, np.full(3, 10 / (math.sqrt(300) + 1e-6)), rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# spatial transformer sampling
# ---------------------------------------------------------------------------------------------
def test_grid_sample_and_affine_grid_match_pytorch():
    x = flambeau.tensor(np.arange(12.0).reshape(1, 1, 3, 4))
    g = flambeau.tensor([[[[-1.2, -0.9], [0.3, 0.1], [1.4, 0.95]]]], dtype=flambeau.float64)
    expected = {"zeros": [0.0, 6.7, 0.0], "border": [0.0, 6.7, 11.0],
                "reflection": [0.0, 6.7, 10.7]}
    for pad, want in expected.items():
        out = F.grid_sample(x, g, padding_mode=pad, align_corners=False)
        assert_close(out.reshape(-1), np.array(want), rtol=1e-12, atol=1e-12, msg=pad)
    theta = flambeau.tensor([[[0.5, 0.2, 0.1], [-0.3, 1.0, 0.0]]])
    assert_close(F.affine_grid(theta, (1, 1, 2, 3), align_corners=False).reshape(-1), np.array(
        [-0.3333333432674408, -0.29999998211860657, 0.0, -0.5, 0.3333333432674408,
         -0.7000000476837158, -0.13333335518836975, 0.7000000476837158, 0.20000000298023224,
         0.5, 0.5333333611488342, 0.29999998211860657], dtype=np.float32), rtol=1e-6)
    with pytest.raises(RuntimeError, match="expected scalar type Double but found Float"):
        F.grid_sample(x, g.float(), align_corners=False)


@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_identity_and_gradients(align_corners):
    x = flambeau.randn(2, 3, 4, 5, dtype=flambeau.float64)
    eye = flambeau.tensor([[1.0, 0, 0], [0, 1.0, 0]], dtype=flambeau.float64).expand(2, 2, 3)
    grid = F.affine_grid(eye, (2, 3, 4, 5), align_corners=align_corners)
    for mode in ("bilinear", "nearest"):
        out = F.grid_sample(x, grid, mode=mode, align_corners=align_corners)
        assert_close(out, x, rtol=1e-12, atol=1e-12, msg=mode)
    rng = np.random.default_rng(3)
    xs = flambeau.tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True)
    gs = flambeau.tensor(rng.uniform(-1.1, 1.1, (1, 2, 3, 2)), requires_grad=True)
    for pad in ("zeros", "border", "reflection"):
        assert flambeau.autograd.gradcheck(
            lambda a, b, p=pad: F.grid_sample(a, b, padding_mode=p, align_corners=align_corners),
            (xs, gs), eps=1e-6, atol=1e-5)
    out = F.grid_sample(xs, gs, mode="nearest", align_corners=align_corners)
    out.sum().backward()
    np.testing.assert_array_equal(to_numpy(gs.grad), 0.0)  # as PyTorch: zeros, not None


def test_docstring_examples_of_the_new_modules():
    import doctest
    import importlib

    if str(flambeau.get_default_device()) != "cpu":
        pytest.skip("the examples print CPU tensors")
    for mod in ("optim.adadelta", "optim.adamax", "optim.nadam", "optim.radam", "optim.asgd",
                "optim.rprop", "optim.swa_utils", "utils.checkpoint", "nn.functional_random",
                "nn.functional_margin", "nn.functional_sampling", "nn.functional_ctc",
                "nn.modules.padding", "nn.utils.parametrize", "amp"):
        module = importlib.import_module(f"flambeau.{mod}")
        result = doctest.testmod(module, extraglobs={"flambeau": flambeau})
        assert result.failed == 0, mod


# ---------------------------------------------------------------------------------------------
# mixed-precision API (flambeau.amp)
# ---------------------------------------------------------------------------------------------
def test_grad_scaler_training_loop_gives_unscaled_results_and_adapts_the_scale():
    def run(scaler):
        flambeau.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
        opt = flambeau.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        x, y = flambeau.randn(6, 4), flambeau.randn(6, 2)
        scales = []
        for step in range(6):
            opt.zero_grad()
            with flambeau.autocast(device_type="cpu", enabled=False):
                loss = F.mse_loss(model(x), y)
            scaler.scale(loss).backward()
            if step == 2:
                model[0].weight.grad[0, 0] = float("inf")  # this step is skipped
            scaler.unscale_(opt)
            if step != 2:
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(opt)
            scaler.update()
            scales.append(scaler.get_scale())
        return [to_numpy(p) for p in model.parameters()], scales

    scaled, scales = run(flambeau.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=2))
    assert scales == [1024.0, 2048.0, 1024.0, 1024.0, 2048.0, 2048.0]

    class SkipThird:  # the same loop without scaling: skip step 2 by hand
        def __init__(self):
            self.n = 0

        def scale(self, loss):
            return loss

        def unscale_(self, opt):
            pass

        def step(self, opt):
            if self.n != 2:
                opt.step()
            self.n += 1

        def update(self):
            pass

        def get_scale(self):
            return 1.0

    plain, _ = run(SkipThird())
    for a, b in zip(scaled, plain):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_amp_without_a_device_disables_itself_like_pytorch():
    if flambeau.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.warns(UserWarning, match="GradScaler is enabled, but CUDA is not available"):
        scaler = flambeau.amp.GradScaler()
    assert not scaler.is_enabled() and scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    loss = flambeau.ones(1, requires_grad=True).sum()
    assert scaler.scale(loss) is loss
    with pytest.warns(UserWarning, match="CUDA is not available or torch_xla is imported"):
        with flambeau.autocast(device_type="cuda"):
            assert not flambeau.is_autocast_enabled("cuda")
    with pytest.warns(FutureWarning, match=r"torch.cuda.amp.GradScaler\(args...\)` is deprecated"):
        with pytest.warns(UserWarning):
            flambeau.cuda.amp.GradScaler()
    s = flambeau.amp.GradScaler("cpu")
    w = flambeau.ones(2, requires_grad=True)
    opt = flambeau.optim.SGD([w], lr=0.1)
    s.scale(w.sum()).backward()
    s.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called since the last"):
        s.step(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step"):
        s.unscale_(opt)
    s.update()
    state = s.state_dict()
    assert state["scale"] == 65536.0 and state["_growth_tracker"] == 1


# ---------------------------------------------------------------------------------------------
# module backward hooks (Grad-CAM style code)
# ---------------------------------------------------------------------------------------------
def test_full_backward_hooks_see_and_replace_gradients():
    lin = nn.Linear(2, 2)
    with flambeau.no_grad():
        lin.weight.copy_(flambeau.tensor([[1.0, 2.0], [3.0, 4.0]]))
        lin.bias.zero_()
    seen = []

    def record(module, grad_input, grad_output):
        seen.append(([None if g is None else to_numpy(g).copy() for g in grad_input],
                     [to_numpy(g).copy() for g in grad_output]))

    h1 = lin.register_full_backward_hook(record)
    h2 = lin.register_full_backward_pre_hook(lambda m, go: (go[0] * 2,))
    h3 = lin.register_full_backward_hook(lambda m, gi, go: (gi[0] * 10,))
    x = flambeau.tensor([[1.0, -1.0]], requires_grad=True)
    lin(x).sum().backward()
    grad_output = np.array([[2.0, 2.0]])  # ones, doubled by the pre-hook
    assert_close(seen[0][1][0], grad_output)
    assert_close(seen[0][0][0], grad_output @ np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert_close(x.grad, 10 * grad_output @ np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert_close(lin.weight.grad, grad_output.T @ np.array([[1.0, -1.0]]))  # sees the pre-hook
    for h in (h1, h2, h3):
        h.remove()
    seen.clear()
    lin.register_full_backward_hook(record)
    with pytest.warns(UserWarning, match="Full backward hook is firing when gradients are "
                                         "computed with respect to module outputs"):
        lin(flambeau.ones(1, 2)).sum().backward()
    assert seen[0][0] == [None]
    lin.register_full_backward_hook(lambda m, gi, go: (flambeau.ones(1, 2),))
    with pytest.raises(RuntimeError, match="where no input requires gradient should always "
                                           "return None"):
        with pytest.warns(UserWarning):
            lin(flambeau.ones(1, 2)).sum().backward()
    with flambeau.no_grad():
        assert lin(flambeau.ones(1, 2)).grad_fn is None  # no wrapping without grad
