"""Attention and the Transformer family against float64 NumPy re-implementations of PyTorch's
documented equations, finite differences, literal values computed with PyTorch, and PyTorch's
state_dict keys."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from helpers import assert_close, to_numpy

import flambeau
import flambeau.nn.functional as F
from flambeau import nn
from flambeau.autograd import gradcheck

T64 = flambeau.float64


def t(a, requires_grad=False):
    return flambeau.tensor(np.asarray(a), requires_grad=requires_grad)


# =============================================================================
# float64 NumPy references
# =============================================================================


def np_softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def np_sdpa(q, k, v, mask=None, is_causal=False, scale=None):
    """PyTorch's documented reference: bool mask True = attend, float mask added."""
    L, S = q.shape[-2], k.shape[-2]
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if is_causal:
        mask = np.tril(np.ones((L, S), bool))
    if mask is not None:
        scores = np.where(mask, scores, -np.inf) if mask.dtype == bool else scores + mask
    dead = np.isneginf(scores).all(-1, keepdims=True)
    w = np_softmax(np.where(dead, 0.0, scores))
    return np.where(dead, 0.0, w) @ v


def _mha_params(m):
    p = {k: to_numpy(v) for k, v in m.state_dict().items()}
    E = m.embed_dim
    if "in_proj_weight" in p:
        p["q_proj_weight"], p["k_proj_weight"], p["v_proj_weight"] = np.split(p["in_proj_weight"], 3)
    b = p.get("in_proj_bias", np.zeros(3 * E))
    p["bq"], p["bk"], p["bv"] = np.split(b, 3)
    p.setdefault("out_proj.bias", np.zeros(E))
    return p


def np_mha(q, k, v, p, H, key_padding_mask=None, attn_mask=None, zero_attn=False):
    """Multi-head attention on sequence-first ``(L, N, E)`` inputs; masks: True/-inf = excluded.
    Returns ``(output (L, N, E), weights (N, H, L, S))``."""
    L, N, E = q.shape
    d = E // H
    Q = q @ p["q_proj_weight"].T + p["bq"]
    K = k @ p["k_proj_weight"].T + p["bk"]
    V = v @ p["v_proj_weight"].T + p["bv"]
    S = K.shape[0]
    am = np.zeros((N, H, L, S))
    if attn_mask is not None:
        m = np.where(attn_mask, -np.inf, 0.0) if attn_mask.dtype == bool else attn_mask
        am = am + (m.reshape(N, H, L, S) if m.ndim == 3 else m)
    if key_padding_mask is not None:
        m = np.where(key_padding_mask, -np.inf, 0.0) if key_padding_mask.dtype == bool \
            else key_padding_mask
        am = am + m[:, None, None, :]
    if "bias_k" in p:  # a learned extra key/value every query may attend to
        K = np.concatenate([K, np.broadcast_to(p["bias_k"], (1, N, E))])
        V = np.concatenate([V, np.broadcast_to(p["bias_v"], (1, N, E))])
        am = np.concatenate([am, np.zeros((N, H, L, 1))], -1)
    heads = lambda X: X.reshape(X.shape[0], N, H, d).transpose(1, 2, 0, 3)  # noqa: E731
    Qh, Kh, Vh = heads(Q), heads(K), heads(V)
    if zero_attn:
        Kh = np.concatenate([Kh, np.zeros((N, H, 1, d))], 2)
        Vh = np.concatenate([Vh, np.zeros((N, H, 1, d))], 2)
        am = np.concatenate([am, np.zeros((N, H, L, 1))], -1)
    w = np_softmax(Qh @ Kh.transpose(0, 1, 3, 2) / math.sqrt(d) + am)
    out = (w @ Vh).transpose(2, 0, 1, 3).reshape(L, N, E)
    return out @ p["out_proj.weight"].T + p["out_proj.bias"], w


def np_layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    out = (x - mu) / np.sqrt(var + eps)
    return out * w + (b if b is not None else 0)


_erf = np.vectorize(math.erf)
ACTS = {"relu": lambda x: np.maximum(x, 0), "gelu": lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2)))}


def np_encoder_layer(x, p, H, act, norm_first, eps, pre="", **masks):
    g = lambda n: p.get(pre + n)  # noqa: E731
    sub = {k[len(pre) + 10:]: v for k, v in p.items() if k.startswith(pre + "self_attn.")}
    sa = lambda y: np_mha(y, y, y, _np_mha_p(sub), H, **masks)[0]  # noqa: E731
    ff = lambda y: (ACTS[act](y @ g("linear1.weight").T + g("linear1.bias"))  # noqa: E731
                    @ g("linear2.weight").T + g("linear2.bias"))
    n1 = lambda y: np_layer_norm(y, g("norm1.weight"), g("norm1.bias"), eps)  # noqa: E731
    n2 = lambda y: np_layer_norm(y, g("norm2.weight"), g("norm2.bias"), eps)  # noqa: E731
    if norm_first:
        x = x + sa(n1(x))
        return x + ff(n2(x))
    x = n1(x + sa(x))
    return n2(x + ff(x))


def _np_mha_p(sd):
    p = dict(sd)
    p["q_proj_weight"], p["k_proj_weight"], p["v_proj_weight"] = np.split(p["in_proj_weight"], 3)
    p["bq"], p["bk"], p["bv"] = np.split(p["in_proj_bias"], 3)
    return p


def _randomize(module, rng, scale=0.5):
    module.double()
    with flambeau.no_grad():
        for name, p in module.named_parameters():
            lo, hi = (0.5, 1.5) if "norm" in name and name.endswith("weight") else (-scale, scale)
            p.copy_(flambeau.tensor(rng.uniform(lo, hi, tuple(p.shape)), dtype=T64))
    return {k: to_numpy(v) for k, v in module.state_dict().items()}


# =============================================================================
# scaled_dot_product_attention
# =============================================================================


@pytest.mark.parametrize("mask_kind,is_causal,scale,L", [
    (m, c, s, L) for m, c, s, L in itertools.product(
        [None, "bool", "float", "bool_bcast", "dead_row"], [False, True], [None, 0.3], [3, 5])
    if not (c and m)
])
def test_sdpa_matches_reference(mask_kind, is_causal, scale, L):
    rng = np.random.default_rng(L)
    S = 5
    q, k, v = (rng.standard_normal((2, 3, n, e)) for n, e in ((L, 4), (S, 4), (S, 6)))
    mask = {
        None: None,
        "bool": rng.random((2, 3, L, S)) > 0.4,
        "float": rng.standard_normal((2, 3, L, S)),
        "bool_bcast": rng.random((L, S)) > 0.4,
        "dead_row": np.ones((2, 1, L, S), bool),
    }[mask_kind]
    if mask_kind == "dead_row":
        mask[0, 0, 1] = False  # query 1 of batch 0 attends to nothing: its output is 0
    out = F.scaled_dot_product_attention(t(q), t(k), t(v), attn_mask=None if mask is None
                                         else t(mask), is_causal=is_causal, scale=scale)
    assert_close(out, np_sdpa(q, k, v, mask, is_causal, scale), 1e-10, 1e-10,
                 f"sdpa mask={mask_kind} causal={is_causal} scale={scale} L={L}")


def test_sdpa_gradients_and_dead_rows():
    rng = np.random.default_rng(0)
    q, k, v = (t(rng.standard_normal(s), True) for s in ((2, 3, 2), (2, 4, 2), (2, 4, 3)))
    fmask = t(rng.standard_normal((3, 4)))
    bmask = t(np.array([[True, False, True, True], [False] * 4, [True] * 4]))
    for kw in ({}, {"attn_mask": fmask}, {"attn_mask": bmask}, {"is_causal": True}):
        assert gradcheck(lambda q, k, v, kw=kw: F.scaled_dot_product_attention(q, k, v, **kw),
                         (q, k, v))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=bmask)
    out.sum().backward()
    assert_close(out[:, 1], np.zeros((2, 3)), 0, 0)
    assert np.isfinite(to_numpy(q.grad)).all() and (to_numpy(q.grad)[:, 1] == 0).all()


def test_sdpa_grouped_query_attention_and_errors():
    rng = np.random.default_rng(1)
    q = rng.standard_normal((1, 4, 3, 2))
    k, v = rng.standard_normal((1, 2, 5, 2)), rng.standard_normal((1, 2, 5, 2))
    out = F.scaled_dot_product_attention(t(q), t(k), t(v), enable_gqa=True)
    ref = np_sdpa(q, np.repeat(k, 2, 1), np.repeat(v, 2, 1))
    assert_close(out, ref, 1e-10, 1e-10)
    with pytest.raises(RuntimeError, match="attn_mask should not be set when is_causal"):
        F.scaled_dot_product_attention(t(q), t(q), t(q), attn_mask=t(np.ones((3, 3), bool)),
                                       is_causal=True)


def test_sdpa_dropout():
    q = flambeau.randn(2, 3, 4)
    v = flambeau.randn(2, 3, 5)
    assert_close(F.scaled_dot_product_attention(q, q, v, dropout_p=1.0), np.zeros((2, 3, 5)), 0, 0)
    a = F.scaled_dot_product_attention(q, q, v, dropout_p=0.5)
    b = F.scaled_dot_product_attention(q, q, v)
    assert not np.allclose(to_numpy(a), to_numpy(b))


# =============================================================================
# MultiheadAttention
# =============================================================================


MHA_CASES = [
    # (constructor kwargs, unbatched, key_padding_mask kind, attn_mask kind, self-attention)
    ({}, False, None, None, True),
    ({"batch_first": True}, False, "bool", "bool", True),
    ({"batch_first": True}, False, "float", "float", False),
    ({}, False, None, "3d", False),
    ({"kdim": 5, "vdim": 3}, False, "bool", None, False),
    ({"kdim": 5, "vdim": 3, "batch_first": True, "bias": False}, False, None, "float", False),
    ({"add_bias_kv": True}, False, "bool", "bool", True),
    ({"add_zero_attn": True, "batch_first": True}, False, "float", "float3d", False),
    ({"add_bias_kv": True, "add_zero_attn": True}, False, None, None, False),
    ({}, True, "bool", "bool", True),
    ({"kdim": 5, "vdim": 3}, True, None, "float", False),
]


@pytest.mark.parametrize("kwargs,unbatched,kpm_kind,am_kind,self_attn", MHA_CASES)
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_mha_matches_reference(kwargs, unbatched, kpm_kind, am_kind, self_attn, need_weights,
                               average):
    rng = np.random.default_rng(len(str(kwargs)) + 7 * unbatched)
    E, H, L, S, N = 8, 2, 3, 4, 2
    if self_attn:
        S = L
    m = nn.MultiheadAttention(E, H, **kwargs).eval()
    _randomize(m, rng)
    p = _mha_params(m)
    if kwargs.get("add_bias_kv"):
        p["bias_k"], p["bias_v"] = to_numpy(m.bias_k)[0], to_numpy(m.bias_v)[0]
    kd, vd = kwargs.get("kdim", E), kwargs.get("vdim", E)
    q = rng.standard_normal((L, N, E))
    k = q if self_attn else rng.standard_normal((S, N, kd))
    v = q if self_attn else rng.standard_normal((S, N, vd))
    kpm = {None: None, "bool": rng.random((N, S)) > 0.6,
           "float": np.where(rng.random((N, S)) > 0.6, -np.inf, rng.standard_normal((N, S)))
           }[kpm_kind]
    if kpm is not None:
        kpm[:, 0] = False if kpm.dtype == bool else 0.0  # no query attends to nothing
    am = {None: None, "bool": rng.random((L, S)) > 0.7, "float": rng.standard_normal((L, S)),
          "3d": rng.standard_normal((N * H, L, S)), "float3d": rng.standard_normal((N * H, L, S))
          }[am_kind]
    if am is not None and am.dtype == bool:
        am[:, 0] = False
    ref_out, ref_w = np_mha(q, k, v, p, H, kpm, am, kwargs.get("add_zero_attn", False))
    if unbatched:  # batch 0 alone
        q, k, v = q[:, 0], k[:, 0], v[:, 0]
        kpm = None if kpm is None else kpm[0]
        ref_out, ref_w = ref_out[:, 0], ref_w[0]
    bf = kwargs.get("batch_first") and not unbatched
    tq = t(q.swapaxes(0, 1) if bf else q)
    tk = tq if self_attn else t(k.swapaxes(0, 1) if bf else k)
    tv = tq if self_attn else t(v.swapaxes(0, 1) if bf else v)
    out, w = m(tq, tk, tv, key_padding_mask=None if kpm is None else t(kpm),
               attn_mask=None if am is None else t(am), need_weights=need_weights,
               average_attn_weights=average)
    msg = f"MHA {kwargs} unbatched={unbatched} kpm={kpm_kind} mask={am_kind}"
    assert_close(out, ref_out.swapaxes(0, 1) if bf else ref_out, 1e-10, 1e-10, msg)
    if need_weights:
        assert_close(w, ref_w.mean(-3) if average else ref_w, 1e-10, 1e-10, msg)
    else:
        assert w is None


def test_mha_gradcheck():
    rng = np.random.default_rng(2)
    m = nn.MultiheadAttention(4, 2, kdim=3, vdim=2, add_bias_kv=True)
    _randomize(m, rng)
    q = t(rng.standard_normal((2, 1, 4)), True)
    k = t(rng.standard_normal((3, 1, 3)), True)
    v = t(rng.standard_normal((3, 1, 2)), True)
    kpm = t(np.array([[False, True, False]]))
    assert gradcheck(lambda q, k, v, *ps: m(q, k, v, key_padding_mask=kpm),
                     (q, k, v, *m.parameters()))


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # the NaN rows
def test_mha_dropout_and_fully_masked_rows():
    m = nn.MultiheadAttention(4, 2, dropout=1.0)
    x = flambeau.randn(3, 2, 4)
    out, w = m(x, x, x)  # training: every attention weight dropped, only the out bias is left
    assert_close(w, np.zeros((2, 3, 3)), 0, 0)
    assert_close(out, np.broadcast_to(to_numpy(m.out_proj.bias), (3, 2, 4)), 0, 0)
    m.eval()
    _, w = m(x, x, x)
    assert_close(w.sum(-1), np.ones((2, 3)), 1e-6, 1e-6)
    # a sequence whose keys are all padding: PyTorch gives NaN with weights, 0 without
    kpm = t(np.array([[False, False, False], [True, True, True]]))
    out, w = m(x, x, x, key_padding_mask=kpm)
    assert np.isnan(to_numpy(out)[:, 1]).all() and np.isfinite(to_numpy(out)[:, 0]).all()
    out, _ = m(x, x, x, key_padding_mask=kpm, need_weights=False)
    assert_close(out[:, 1], np.broadcast_to(to_numpy(m.out_proj.bias), (3, 4)), 1e-6, 1e-6)


def test_mha_parameters_init_and_errors():
    m = nn.MultiheadAttention(8, 2)
    assert list(m.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight",
                                    "out_proj.bias"]
    assert tuple(m.in_proj_weight.shape) == (24, 8)
    assert (to_numpy(m.in_proj_bias) == 0).all() and (to_numpy(m.out_proj.bias) == 0).all()
    bound = math.sqrt(6 / (8 + 24))  # xavier_uniform_ of the (3E, E) packed weight
    assert np.abs(to_numpy(m.in_proj_weight)).max() <= bound
    m2 = nn.MultiheadAttention(8, 2, kdim=5, vdim=3, bias=False, add_bias_kv=True)
    assert list(m2.state_dict()) == ["q_proj_weight", "k_proj_weight", "v_proj_weight",
                                     "bias_k", "bias_v", "out_proj.weight"]
    assert [tuple(v.shape) for v in m2.state_dict().values()] == [
        (8, 8), (8, 5), (8, 3), (1, 1, 8), (1, 1, 8), (8, 8)]
    assert m2.in_proj_weight is None and m2.in_proj_bias is None
    assert "NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=True)" in repr(m)
    with pytest.raises(AssertionError, match="divisible by num_heads"):
        nn.MultiheadAttention(6, 4)
    x = flambeau.randn(3, 2, 8)
    with pytest.raises(RuntimeError, match="shape of the 2D attn_mask"):
        m(x, x, x, attn_mask=flambeau.zeros(3, 4))
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)


# =============================================================================
# Transformer layers
# =============================================================================


@pytest.mark.parametrize("norm_first,activation,batch_first", [
    (False, "relu", False), (True, "gelu", True), (False, "gelu", True), (True, "relu", False)])
def test_encoder_layer_matches_reference(norm_first, activation, batch_first):
    rng = np.random.default_rng(3)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=12, activation=activation,
                                       norm_first=norm_first, batch_first=batch_first,
                                       layer_norm_eps=1e-4).eval()
    p = _randomize(layer, rng)
    x = rng.standard_normal((4, 2, 8))
    kpm = np.array([[0.0] * 4, [0.0, 0.0, 0.0, -np.inf]])  # float, as the causal mask
    cm = np.triu(np.full((4, 4), -np.inf), 1)
    ref = np_encoder_layer(x, p, 2, activation, norm_first, 1e-4, key_padding_mask=kpm,
                           attn_mask=cm)
    xin = x.swapaxes(0, 1) if batch_first else x
    out = layer(t(xin), src_mask=nn.Transformer.generate_square_subsequent_mask(4, dtype=T64),
                src_key_padding_mask=t(kpm))
    assert_close(out, ref.swapaxes(0, 1) if batch_first else ref, 1e-10, 1e-10)


def test_decoder_layer_matches_reference():
    rng = np.random.default_rng(4)
    layer = nn.TransformerDecoderLayer(8, 2, dim_feedforward=12).eval()
    p = _randomize(layer, rng)
    x, mem = rng.standard_normal((3, 2, 8)), rng.standard_normal((5, 2, 8))
    cm = np.triu(np.full((3, 3), -np.inf), 1)
    mkpm = np.array([[False] * 5, [False, True, False, False, True]])

    def sub(prefix):
        return _np_mha_p({k[len(prefix):]: v for k, v in p.items() if k.startswith(prefix)})

    def n(i, y):
        return np_layer_norm(y, p[f"norm{i}.weight"], p[f"norm{i}.bias"], 1e-5)

    y = n(1, x + np_mha(x, x, x, sub("self_attn."), 2, attn_mask=cm)[0])
    y = n(2, y + np_mha(y, mem, mem, sub("multihead_attn."), 2, key_padding_mask=mkpm)[0])
    ff = np.maximum(y @ p["linear1.weight"].T + p["linear1.bias"], 0) @ p["linear2.weight"].T
    ref = n(3, y + ff + p["linear2.bias"])
    out = layer(t(x), t(mem), tgt_mask=t(cm), memory_key_padding_mask=t(mkpm))
    assert_close(out, ref, 1e-10, 1e-10)


def test_encoder_layer_gradcheck_and_train_mode_dropout():
    rng = np.random.default_rng(5)
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.5).eval()
    _randomize(layer, rng)
    x = t(rng.standard_normal((3, 1, 4)), True)
    assert gradcheck(lambda x, *ps: layer(x), (x, *layer.parameters()))
    a, b = layer(x), layer(x)
    assert_close(a, b, 0, 0)
    layer.train()
    assert not np.allclose(to_numpy(layer(x)), to_numpy(a))


def test_stacks_and_transformer_state_dict_keys_are_pytorchs():
    layer_keys = ["self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
                  "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
                  "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"]
    dec_keys = (layer_keys[:4] + [k.replace("self_attn", "multihead_attn") for k in layer_keys[:4]]
                + layer_keys[4:] + ["norm3.weight", "norm3.bias"])
    assert list(nn.TransformerEncoderLayer(8, 2).state_dict()) == layer_keys
    assert list(nn.TransformerDecoderLayer(8, 2).state_dict()) == dec_keys
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2, norm=nn.LayerNorm(8),
                                enable_nested_tensor=False)
    assert list(enc.state_dict()) == (
        [f"layers.0.{k}" for k in layer_keys] + [f"layers.1.{k}" for k in layer_keys]
        + ["norm.weight", "norm.bias"])
    tr = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=2,
                        dim_feedforward=16)
    assert list(tr.state_dict()) == (
        [f"encoder.layers.0.{k}" for k in layer_keys] + ["encoder.norm.weight", "encoder.norm.bias"]
        + [f"decoder.layers.{i}.{k}" for i in (0, 1) for k in dec_keys]
        + ["decoder.norm.weight", "decoder.norm.bias"])
    # copies are independent; Xavier-uniform for every matrix of a Transformer
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    w = to_numpy(tr.encoder.layers[0].linear1.weight)
    assert np.abs(w).max() <= math.sqrt(6 / (8 + 16))
    assert list(nn.TransformerEncoderLayer(8, 2, bias=False).state_dict()) == [
        "self_attn.in_proj_weight", "self_attn.out_proj.weight", "linear1.weight",
        "linear2.weight", "norm1.weight", "norm2.weight"]


def test_square_subsequent_mask_and_errors():
    m = nn.Transformer.generate_square_subsequent_mask(3)
    assert m.dtype is flambeau.float32
    assert to_numpy(m).tolist() == [[0, -math.inf, -math.inf], [0, 0, -math.inf], [0, 0, 0]]
    tr = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                        dim_feedforward=8)
    with pytest.raises(RuntimeError, match="batch number of src and tgt"):
        tr(flambeau.randn(3, 2, 8), flambeau.randn(3, 1, 8))
    with pytest.raises(RuntimeError, match="feature number"):
        tr(flambeau.randn(3, 2, 8), flambeau.randn(3, 2, 4))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")


# =============================================================================
# values computed with PyTorch 2.13 (float64, eval), pasted; parameter j holds
# sin(0.37 k + j) / 2 (LayerNorm weights 1 + that), inputs cos(0.5 k)
# =============================================================================


def _det_weights(module):
    module.double()
    with flambeau.no_grad():
        for j, (name, p) in enumerate(module.named_parameters()):
            vals = np.array([0.5 * math.sin(0.37 * k + j) for k in range(p.numel())])
            if "norm" in name and name.endswith("weight"):
                vals = vals + 1
            p.copy_(flambeau.tensor(vals.reshape(tuple(p.shape)), dtype=T64))


def _det_input(*shape):
    n = math.prod(shape)
    return flambeau.tensor(np.cos(0.5 * np.arange(n)).reshape(shape), dtype=T64)


TORCH_MHA_OUT = [-1.412120258, 0.1786554742, -0.02026348259, -0.9485147714, 0.9022805595, 0.1580947018,
    -2.129401084, 0.9692460627, -0.2588893282, -1.450581766, 1.747957889, -0.3623506036,
    -1.40801801, 0.09575882113, 0.07586498855, -0.9818474894, 0.8464548292, 0.258926564]
TORCH_MHA_WEIGHTS = [0.3363473848, 0.3031740743, 0, 0.360478541, 0.2627891151, 0.4901757464, 0, 0.2470351385,
    0.3337870622, 0.2980631162, 0, 0.3681498216]
TORCH_TRANSFORMER_OUT = [-1.04190598, 2.300326385, 0.7170925677, -1.423745162, 1.74432011, -0.7021507034,
    -0.8012921172, 0.1308096726, 1.670448774, -2.063691997, 1.372947131, 1.147314809]


def test_literal_pytorch_values():
    mha = nn.MultiheadAttention(6, 3, kdim=4, vdim=5, batch_first=True).eval()
    _det_weights(mha)
    q, k, v = _det_input(2, 3, 6), _det_input(2, 4, 4) * 0.7, _det_input(2, 4, 5) * -1.3
    kpm = t(np.array([[False, False, True, False], [False] * 4]))
    out, w = mha(q, k, v, key_padding_mask=kpm)
    assert_close(out[1].reshape(-1), TORCH_MHA_OUT, 1e-7, 1e-8, "MHA output")
    assert_close(w[0].reshape(-1), TORCH_MHA_WEIGHTS, 1e-7, 1e-8, "MHA weights")
    tr = nn.Transformer(d_model=6, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                        dim_feedforward=10, activation="gelu", norm_first=True).eval()
    _det_weights(tr)
    src, tgt = _det_input(4, 2, 6), _det_input(3, 2, 6) * 0.5
    out = tr(src, tgt, tgt_mask=tr.generate_square_subsequent_mask(3, dtype=T64))
    assert_close(out[-1].reshape(-1), TORCH_TRANSFORMER_OUT, 1e-7, 1e-8, "Transformer output")
