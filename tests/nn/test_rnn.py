"""Recurrent layers (RNN, LSTM, GRU, cells, packed sequences) against float64 NumPy
re-implementations of PyTorch's documented equations, finite differences, literal values
computed with PyTorch, and PyTorch's state_dict keys."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from helpers import assert_close, to_numpy

import flambeau
from flambeau import nn
from flambeau.autograd import gradcheck, gradgradcheck
from flambeau.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)

# =============================================================================
# float64 NumPy reference: the equations of PyTorch's documentation
# =============================================================================


def _sig(x):
    return 1 / (1 + np.exp(-x))


def np_cell(mode, x, h, c, p):
    """One step; ``p`` maps w_ih, w_hh, b_ih, b_hh, w_hr to arrays or None."""
    gi = x @ p["w_ih"].T + (p["b_ih"] if p["b_ih"] is not None else 0)
    gh = h @ p["w_hh"].T + (p["b_hh"] if p["b_hh"] is not None else 0)
    if mode == "LSTM":
        i, f, g, o = np.split(gi + gh, 4, -1)
        c = _sig(f) * c + _sig(i) * np.tanh(g)
        h = _sig(o) * np.tanh(c)
        if p.get("w_hr") is not None:
            h = h @ p["w_hr"].T
        return h, c
    if mode == "GRU":
        ir, iz, in_ = np.split(gi, 3, -1)
        hr, hz, hn = np.split(gh, 3, -1)
        r, z = _sig(ir + hr), _sig(iz + hz)
        n = np.tanh(in_ + r * hn)
        return (1 - z) * n + z * h, None
    pre = gi + gh
    return (np.tanh(pre) if mode == "RNN_TANH" else np.maximum(pre, 0)), None


def np_rnn(mode, x, h0, c0, params, num_layers, num_dirs):
    """``x (T, B, I)``; returns ``(output (T, B, D*H), h_n, c_n)``."""
    T = x.shape[0]
    layer_in, hn, cn = x, [], []
    for layer in range(num_layers):
        outs = []
        for d in range(num_dirs):
            sfx = "_reverse" if d else ""
            p = {k: params.get(f"{n}_l{layer}{sfx}") for k, n in
                 [("w_ih", "weight_ih"), ("w_hh", "weight_hh"), ("b_ih", "bias_ih"),
                  ("b_hh", "bias_hh"), ("w_hr", "weight_hr")]}
            k = layer * num_dirs + d
            h, c = h0[k], (c0[k] if c0 is not None else None)
            out = [None] * T
            for t in (range(T) if d == 0 else reversed(range(T))):
                h, c = np_cell(mode, layer_in[t], h, c, p)
                out[t] = h
            outs.append(np.stack(out))
            hn.append(h)
            cn.append(c)
        layer_in = np.concatenate(outs, -1)
    return layer_in, np.stack(hn), (np.stack(cn) if mode == "LSTM" else None)


def _make(mode, *args, **kwargs):
    if mode.startswith("RNN"):
        kwargs["nonlinearity"] = "tanh" if mode == "RNN_TANH" else "relu"
        return nn.RNN(*args, **kwargs)
    return getattr(nn, mode)(*args, **kwargs)


def _randomize(module, rng, scale=0.6):
    """Fresh float64 weights (returned as host arrays by name)."""
    module.double()
    params = {}
    with flambeau.no_grad():
        for name, p in module.named_parameters():
            a = rng.uniform(-scale, scale, tuple(p.shape))
            p.copy_(flambeau.tensor(a, dtype=flambeau.float64))
            params[name] = a
    return params


MODES = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]

# =============================================================================
# forward against the NumPy reference
# =============================================================================


@pytest.mark.parametrize("mode,num_layers,bidirectional,batch_first,extra", [
    (m, nl, bi, bf, ex) for m, nl, bi, bf in itertools.product(MODES, [1, 2], [False, True],
                                                               [False, True])
    for ex in ([{}, {"bias": False}] + ([{"proj_size": 2}] if m == "LSTM" else []))
    if not (ex and (nl, bi, bf) != (2, True, True))  # variants on the richest configuration
])
def test_forward_matches_reference(mode, num_layers, bidirectional, batch_first, extra):
    rng = np.random.default_rng(hash((mode, num_layers, bidirectional, batch_first)) % 2**32)
    I, H, T, B = 3, 4, 5, 2
    m = _make(mode, I, H, num_layers=num_layers, bidirectional=bidirectional,
              batch_first=batch_first, **extra)
    params = _randomize(m, rng)
    D = 2 if bidirectional else 1
    Hr = extra.get("proj_size", H)
    x = rng.standard_normal((T, B, I))
    h0 = rng.standard_normal((num_layers * D, B, Hr))
    c0 = rng.standard_normal((num_layers * D, B, H))
    ref_out, ref_h, ref_c = np_rnn(mode, x, h0, c0 if mode == "LSTM" else None, params,
                                   num_layers, D)
    xin = x.transpose(1, 0, 2) if batch_first else x
    hx = flambeau.tensor(h0)
    if mode == "LSTM":
        hx = (hx, flambeau.tensor(c0))
    out, hn = m(flambeau.tensor(xin), hx)
    msg = f"{mode} layers={num_layers} bi={bidirectional} batch_first={batch_first} {extra}"
    assert_close(out, ref_out.transpose(1, 0, 2) if batch_first else ref_out, 1e-10, 1e-10, msg)
    if mode == "LSTM":
        assert_close(hn[0], ref_h, 1e-10, 1e-10, msg)
        assert_close(hn[1], ref_c, 1e-10, 1e-10, msg)
    else:
        assert_close(hn, ref_h, 1e-10, 1e-10, msg)


@pytest.mark.parametrize("mode", MODES)
def test_default_state_is_zero_and_unbatched_input(mode):
    rng = np.random.default_rng(1)
    m = _make(mode, 3, 4, num_layers=2, bidirectional=True)
    params = _randomize(m, rng)
    x = rng.standard_normal((5, 3))
    zeros = np.zeros((4, 1, 4))
    ref_out, ref_h, ref_c = np_rnn(mode, x[:, None], zeros, zeros, params, 2, 2)
    out, hn = m(flambeau.tensor(x))
    assert tuple(out.shape) == (5, 8)
    assert_close(out, ref_out[:, 0], 1e-10, 1e-10, mode)
    if mode == "LSTM":
        assert tuple(hn[0].shape) == tuple(hn[1].shape) == (4, 4)
        assert_close(hn[1], ref_c[:, 0], 1e-10, 1e-10, mode)
        hn = hn[0]
    assert_close(hn, ref_h[:, 0], 1e-10, 1e-10, mode)
    # an unbatched input takes an unbatched state
    h0 = flambeau.zeros(4, 4, dtype=flambeau.float64)
    out2, _ = m(flambeau.tensor(x), (h0, h0) if mode == "LSTM" else h0)
    assert_close(out2, out, 0, 0)


@pytest.mark.parametrize("mode,bias", [(m, b) for m in MODES for b in (True, False)])
def test_cells_match_reference(mode, bias):
    rng = np.random.default_rng(2)
    cls = {"LSTM": nn.LSTMCell, "GRU": nn.GRUCell}.get(mode, nn.RNNCell)
    kw = {"nonlinearity": "relu"} if mode == "RNN_RELU" else {}
    cell = cls(3, 4, bias=bias, **kw)
    params = _randomize(cell, rng)
    p = {"w_ih": params["weight_ih"], "w_hh": params["weight_hh"],
         "b_ih": params.get("bias_ih"), "b_hh": params.get("bias_hh")}
    x, h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    ref_h, ref_c = np_cell(mode, x, h, c, p)
    if mode == "LSTM":
        out_h, out_c = cell(flambeau.tensor(x), (flambeau.tensor(h), flambeau.tensor(c)))
        assert_close(out_c, ref_c, 1e-10, 1e-10, mode)
        # unbatched
        uh, uc = cell(flambeau.tensor(x[0]), (flambeau.tensor(h[0]), flambeau.tensor(c[0])))
        assert_close(uh, ref_h[0], 1e-10, 1e-10, mode)
        # no state means zeros
        zh, _ = cell(flambeau.tensor(x))
        assert_close(zh, np_cell(mode, x, 0 * h, 0 * c, p)[0], 1e-10, 1e-10, mode)
    else:
        out_h = cell(flambeau.tensor(x), flambeau.tensor(h))
        assert_close(cell(flambeau.tensor(x[0]), flambeau.tensor(h[0])), ref_h[0], 1e-10, 1e-10)
        assert_close(cell(flambeau.tensor(x)), np_cell(mode, x, 0 * h, None, p)[0], 1e-10, 1e-10)
    assert_close(out_h, ref_h, 1e-10, 1e-10, mode)


# =============================================================================
# gradients: finite differences through inputs, states and every parameter
# =============================================================================


@pytest.mark.parametrize("mode,bidirectional", [("RNN_TANH", True), ("RNN_RELU", False),
                                                ("LSTM", True), ("GRU", True)])
def test_gradcheck_layers(mode, bidirectional):
    rng = np.random.default_rng(3)
    m = _make(mode, 2, 2, num_layers=2, bidirectional=bidirectional, batch_first=True)
    _randomize(m, rng, scale=0.8)
    D = 2 if bidirectional else 1
    x = flambeau.tensor(rng.standard_normal((2, 3, 2)), requires_grad=True)
    h0 = flambeau.tensor(rng.standard_normal((2 * D, 2, 2)), requires_grad=True)
    c0 = flambeau.tensor(rng.standard_normal((2 * D, 2, 2)), requires_grad=True)
    params = list(m.parameters())

    def fn(x, h0, c0, *ps):
        if mode == "LSTM":
            out, (h, c) = m(x, (h0, c0))
            return out, h, c
        out, h = m(x, h0)
        return out, h

    assert gradcheck(fn, (x, h0, c0, *params))


def test_gradcheck_lstm_projection():
    rng = np.random.default_rng(4)
    m = nn.LSTM(2, 3, proj_size=2, bidirectional=True)
    _randomize(m, rng)
    x = flambeau.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    assert gradcheck(lambda x, *ps: m(x)[0], (x, *m.parameters()))


@pytest.mark.parametrize("mode", MODES)
def test_gradcheck_cells(mode):
    rng = np.random.default_rng(5)
    cls = {"LSTM": nn.LSTMCell, "GRU": nn.GRUCell}.get(mode, nn.RNNCell)
    cell = cls(2, 3, **({"nonlinearity": "relu"} if mode == "RNN_RELU" else {}))
    _randomize(cell, rng, scale=0.8)
    x = flambeau.tensor(rng.standard_normal((2, 2)), requires_grad=True)
    h = flambeau.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    c = flambeau.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    ps = list(cell.parameters())
    if mode == "LSTM":
        fn = lambda x, h, c, *ps: cell(x, (h, c))  # noqa: E731
        inputs = (x, h, c, *ps)
    else:
        fn = lambda x, h, *ps: cell(x, h)  # noqa: E731
        inputs = (x, h, *ps)
    assert gradcheck(fn, inputs)
    # second derivatives go through the activations rebuilt inside the graph
    assert gradgradcheck(fn, inputs[:3] if mode == "LSTM" else inputs[:2])


# =============================================================================
# values computed with PyTorch 2.13 (float64), pasted; weights are sin(0.37 k + j) / 2
# =============================================================================


def _det_weights(module):
    module.double()
    with flambeau.no_grad():
        for j, (_, p) in enumerate(module.named_parameters()):
            n = p.numel()
            vals = [0.5 * math.sin(0.37 * k + j) for k in range(n)]
            p.copy_(flambeau.tensor(vals, dtype=flambeau.float64).reshape(p.shape))


def _det_input(*shape):
    n = math.prod(shape)
    return flambeau.tensor([math.cos(0.5 * k) for k in range(n)],
                           dtype=flambeau.float64).reshape(shape)


TORCH_VALUES = {
    # mode: (module kwargs, output[-1] flattened, h_n flattened)
    "LSTM": ({'num_layers': 2, 'bidirectional': True},
        [0.1542309993, 0.1542575272, 0.0926082397, 0.3475677069, -0.2001771337, -0.2526512251,
        -0.0884391701, -0.1628544193, 0.1801653634, 0.1372824369, 0.1118057092, 0.3270652261,
        -0.217797133, -0.2497751143, -0.1384425707, -0.1308487135],
        [-0.2222016038, -0.7586985028, -0.4201156952, 0.3066350343, -0.4045352984, -0.4099157662,
        -0.1896296487, 0.2622332199, -0.086691242, -0.1440220799, -0.5981347017, -1.1410296911,
        0.0446306032, -0.7102659499, -1.0348745219, -0.8534643766, 0.2328570512, 0.2839042964,
        0.2220372514, 1.0008969525, 0.2647700637, 0.2609086797, 0.2592356958, 0.9357649169,
        -0.5436052235, -0.7741180571, -0.260650507, -0.1743088134, -0.6603898533, -0.7401988328,
        -0.4400667335, 0.0747796203]),
    "GRU": ({'num_layers': 2},
        [0.1139210301, -0.050636796, -0.5376171915, -0.648798315, 0.225007828, 0.1147900544,
        -0.5367513182, -0.7396645384],
        [-0.1321289856, -0.6848367968, -0.3081866917, 0.2193261884, -0.4557512113, -0.5944516334,
        -0.2507513091, 0.2266712321, 0.1139210301, -0.050636796, -0.5376171915, -0.648798315,
        0.225007828, 0.1147900544, -0.5367513182, -0.7396645384]),
    "RNN_RELU": ({'bidirectional': True},
        [1.7387118039, 2.0772508645, 0.0, 0.0, 0.0, 0.0, 1.1255117355, 2.1530851324, 1.286692994,
        0.8911947428, 0.0, 0.0, 0.0766611485, 0.236968518, 0.6080208597, 1.0033651914],
        [1.7387118039, 2.0772508645, 0.0, 0.0, 1.286692994, 0.8911947428, 0.0, 0.0, 0.0,
        1.3690845366, 3.2579357737, 0.6204245382, 0.0, 2.2294305033, 1.8224190443, 0.0]),
}


@pytest.mark.parametrize("mode", sorted(TORCH_VALUES))
def test_literal_pytorch_values(mode):
    kwargs, out_last, h_last = TORCH_VALUES[mode]
    m = _make(mode, 3, 4, **kwargs)
    _det_weights(m)
    out, hn = m(_det_input(5, 2, 3))
    if mode == "LSTM":
        hn = hn[1]  # the cell state
    assert_close(out[-1].reshape(-1), out_last, 1e-7, 1e-8, mode)
    assert_close(hn.reshape(-1), h_last, 1e-7, 1e-8, mode)


# =============================================================================
# parameters: names, shapes, initialisation, state_dict
# =============================================================================


def test_state_dict_keys_and_shapes_are_pytorchs():
    m = nn.LSTM(10, 20, num_layers=2, bidirectional=True, proj_size=5)
    sd = m.state_dict()
    expected = []
    for layer, sfx in itertools.product([0, 1], ["", "_reverse"]):
        expected += [f"weight_ih_l{layer}{sfx}", f"weight_hh_l{layer}{sfx}",
                     f"bias_ih_l{layer}{sfx}", f"bias_hh_l{layer}{sfx}", f"weight_hr_l{layer}{sfx}"]
    assert list(sd) == expected
    assert tuple(sd["weight_ih_l0"].shape) == (80, 10)
    assert tuple(sd["weight_ih_l1"].shape) == (80, 10)  # 2 directions * proj_size
    assert tuple(sd["weight_hh_l0"].shape) == (80, 5)
    assert tuple(sd["weight_hr_l1_reverse"].shape) == (5, 20)
    assert list(nn.GRU(3, 4, bias=False).state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    g = nn.GRU(3, 4, num_layers=2)
    assert [tuple(v.shape) for v in g.state_dict().values()] == [
        (12, 3), (12, 4), (12,), (12,), (12, 4), (12, 4), (12,), (12,)]
    for cell in (nn.RNNCell(3, 4), nn.LSTMCell(3, 4), nn.GRUCell(3, 4)):
        assert list(cell.state_dict()) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    assert list(nn.LSTMCell(3, 4, bias=False).state_dict()) == ["weight_ih", "weight_hh"]
    assert tuple(nn.LSTMCell(3, 4).weight_ih.shape) == (16, 3)


def test_default_init_is_uniform_in_one_over_sqrt_hidden():
    m = nn.LSTM(8, 16, num_layers=2)
    bound = 1 / math.sqrt(16)
    allv = np.concatenate([to_numpy(p).ravel() for p in m.parameters()])
    assert np.abs(allv).max() <= bound
    assert allv.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)  # U(-b, b) has std b/sqrt 3


def test_repr_and_constructor_checks():
    assert repr(nn.LSTM(10, 20, num_layers=2, batch_first=True)) == \
        "LSTM(10, 20, num_layers=2, batch_first=True)"
    assert repr(nn.RNN(3, 4, 1, "relu")) == "RNN(3, 4)"  # PyTorch 2.13 does not show it
    assert repr(nn.GRUCell(3, 4, bias=False)) == "GRUCell(3, 4, bias=False)"
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="proj_size has to be smaller"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="only supported for LSTM"):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="dropout should be a number"):
        nn.GRU(3, 4, dropout=1.5)
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.5)


def test_input_and_state_checks():
    m = nn.GRU(3, 4, num_layers=2)
    with pytest.raises(RuntimeError, match="Expected 3, got 5"):
        m(flambeau.randn(5, 2, 5))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \[2, 2, 4\], got \[1, 2, 4\]"):
        m(flambeau.randn(5, 2, 3), flambeau.zeros(1, 2, 4))
    with pytest.raises(RuntimeError, match="hx should also be 3-D"):
        m(flambeau.randn(5, 2, 3), flambeau.zeros(2, 4))
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D"):
        m(flambeau.randn(5))
    with pytest.raises(ValueError, match="input must have the type"):
        m(flambeau.randn(5, 2, 3, dtype=flambeau.float64))


# =============================================================================
# dropout between layers, training and eval
# =============================================================================


def test_dropout_between_layers_only_in_training():
    m = nn.GRU(3, 4, num_layers=2, dropout=1.0)  # p=1 zeroes the second layer's input
    x = flambeau.randn(5, 2, 3)
    ref = nn.GRU(4, 4)
    with flambeau.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(ref, name + "_l0").copy_(getattr(m, name + "_l1"))
    out_train, _ = m(x)
    assert_close(out_train, ref(flambeau.zeros(5, 2, 4))[0], 1e-6, 1e-6)
    m.eval()
    out_eval, _ = m(x)
    assert not np.allclose(to_numpy(out_eval), to_numpy(out_train))
    m2 = nn.GRU(3, 4, num_layers=2, dropout=0.3).eval()
    a, _ = m2(x)
    b, _ = m2(x)
    assert_close(a, b, 0, 0)


# =============================================================================
# packed and padded sequences
# =============================================================================


def test_pad_sequence():
    seqs = [flambeau.tensor([1.0, 2.0]), flambeau.tensor([3.0, 4.0, 5.0]), flambeau.tensor([6.0])]
    assert_close(pad_sequence(seqs), [[1, 3, 6], [2, 4, 0], [0, 5, 0]], 0, 0)
    assert_close(pad_sequence(seqs, batch_first=True, padding_value=-1, padding_side="left"),
                 [[-1, 1, 2], [3, 4, 5], [-1, -1, 6]], 0, 0)
    seqs2 = [flambeau.ones(2, 3), flambeau.ones(1, 3)]
    assert tuple(pad_sequence(seqs2, batch_first=True).shape) == (2, 2, 3)
    with pytest.raises(ValueError, match="padding_side"):
        pad_sequence(seqs, padding_side="middle")


def test_pack_pad_round_trip_and_gradient():
    x = flambeau.arange(12.0).reshape(4, 3, 1).requires_grad_()  # (T, B, 1)
    packed = pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False)
    assert isinstance(packed, PackedSequence)
    assert packed.batch_sizes.tolist() == [3, 2, 1, 1]
    assert packed.sorted_indices.tolist() == [1, 0, 2]
    assert packed.unsorted_indices.tolist() == [1, 0, 2]
    # time step by time step, longest first: (t0: b1 b0 b2) (t1: b1 b0) (t2: b1) (t3: b1)
    assert to_numpy(packed.data).ravel().tolist() == [1, 0, 2, 4, 3, 7, 10]
    padded, lengths = pad_packed_sequence(packed, batch_first=True, padding_value=-1)
    assert lengths.tolist() == [2, 4, 1] and lengths.device.type == "cpu"
    assert to_numpy(padded)[..., 0].tolist() == [[0, 3, -1, -1], [1, 4, 7, 10], [2, -1, -1, -1]]
    padded.sum().backward()
    mask = [[1, 1, 1], [1, 1, 0], [0, 1, 0], [0, 1, 0]]
    assert_close(x.grad[..., 0], mask, 0, 0)
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        pack_padded_sequence(x, [2, 4, 1])
    with pytest.raises(ValueError, match="total_length"):
        pad_packed_sequence(packed, total_length=2)
    seqs = [flambeau.randn(3, 2), flambeau.randn(1, 2)]
    for a, b in zip(unpack_sequence(pack_sequence(seqs)), seqs):
        assert_close(a, b, 0, 0)
    for a, b in zip(unpad_sequence(pad_sequence(seqs), [3, 1]), seqs):
        assert_close(a, b, 0, 0)


@pytest.mark.parametrize("mode,bidirectional", [("LSTM", True), ("GRU", True), ("RNN_TANH", False)])
def test_rnn_on_packed_equals_each_sequence_alone(mode, bidirectional):
    rng = np.random.default_rng(6)
    m = _make(mode, 3, 4, num_layers=2, bidirectional=bidirectional)
    params = _randomize(m, rng)
    D = 2 if bidirectional else 1
    lengths = [3, 5, 1]
    seqs = [rng.standard_normal((n, 3)) for n in lengths]
    h0 = rng.standard_normal((2 * D, 3, 4))
    packed = pack_sequence([flambeau.tensor(s) for s in seqs], enforce_sorted=False)
    hx = flambeau.tensor(h0)
    out, hn = m(packed, (hx, hx * 0.5) if mode == "LSTM" else hx)
    assert isinstance(out, PackedSequence)
    padded, lens = pad_packed_sequence(out, batch_first=True)
    assert lens.tolist() == lengths and tuple(padded.shape) == (3, 5, 4 * D)
    for b, s in enumerate(seqs):
        hb = h0[:, b:b + 1]
        ref_out, ref_h, ref_c = np_rnn(mode, s[:, None], hb, hb * 0.5, params, 2, D)
        assert_close(padded[b, :lengths[b]], ref_out[:, 0], 1e-10, 1e-10, f"seq {b}")
        assert_close(padded[b, lengths[b]:], np.zeros((5 - lengths[b], 4 * D)), 0, 0)
        h = hn[0] if mode == "LSTM" else hn
        assert_close(h[:, b], ref_h[:, 0], 1e-10, 1e-10, f"h_n of seq {b}")
        if mode == "LSTM":
            assert_close(hn[1][:, b], ref_c[:, 0], 1e-10, 1e-10, f"c_n of seq {b}")


def test_packed_gradcheck():
    rng = np.random.default_rng(7)
    m = nn.LSTM(2, 2, bidirectional=True)
    _randomize(m, rng)
    x = flambeau.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)

    def fn(x, *ps):
        out, (h, c) = m(pack_padded_sequence(x, [1, 3], enforce_sorted=False))
        return pad_packed_sequence(out)[0], h, c

    assert gradcheck(fn, (x, *m.parameters()))


def test_float32_training_step_runs():
    m = nn.LSTM(4, 8, num_layers=2, batch_first=True)
    x = flambeau.randn(3, 6, 4)
    out, (h, c) = m(x)
    out.pow(2).mean().backward()
    assert out.dtype is flambeau.float32
    assert all(p.grad is not None and p.grad.shape == p.shape for p in m.parameters())
