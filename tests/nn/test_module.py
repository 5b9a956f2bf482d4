"""The module system: registration, iteration, state_dict/load_state_dict (keys, errors and
atomicity as PyTorch), modes, conversion, hooks, repr, containers and ``nn.utils``."""
from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest
from helpers import assert_close, to_numpy

import flambeau
from flambeau import nn
from flambeau.nn import Parameter


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU())
        self.heads = nn.ModuleList([nn.Linear(4, 2) for _ in range(2)])
        self.scale = nn.Parameter(flambeau.ones(1))
        self.register_buffer("steps", flambeau.zeros(2))
        self.register_buffer("scratch", flambeau.zeros(2), persistent=False)

    def forward(self, x):
        return self.heads[0](self.body(x)) * self.scale


def make_net():
    return nn.Sequential(OrderedDict(block=Block(), out=nn.Linear(2, 1)))


# the same architecture in PyTorch gives exactly these names
STATE_KEYS = [
    "block.scale", "block.steps", "block.body.0.weight", "block.body.0.bias", "block.body.1.weight",
    "block.body.1.bias", "block.body.1.running_mean", "block.body.1.running_var",
    "block.body.1.num_batches_tracked", "block.heads.0.weight", "block.heads.0.bias",
    "block.heads.1.weight", "block.heads.1.bias", "out.weight", "out.bias",
]


# =============================================================================
# registration and iteration
# =============================================================================


def test_named_members_follow_pytorch_order():
    net = make_net()
    assert list(net.state_dict()) == STATE_KEYS
    assert [n for n, _ in net.named_parameters()] == [
        "block.scale", "block.body.0.weight", "block.body.0.bias", "block.body.1.weight",
        "block.body.1.bias", "block.heads.0.weight", "block.heads.0.bias", "block.heads.1.weight",
        "block.heads.1.bias", "out.weight", "out.bias",
    ]
    assert [n for n, _ in net.named_buffers()] == [
        "block.steps", "block.scratch", "block.body.1.running_mean", "block.body.1.running_var",
        "block.body.1.num_batches_tracked",
    ]
    assert [n for n, _ in net.named_modules()] == [
        "", "block", "block.body", "block.body.0", "block.body.1", "block.body.2", "block.heads",
        "block.heads.0", "block.heads.1", "out",
    ]
    assert [n for n, _ in net.named_children()] == ["block", "out"]
    assert [n for n, _ in net.block.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in net.named_parameters(prefix="m")][0] == "m.block.scale"
    assert len(list(net.parameters())) == 11 and len(list(net.modules())) == 10


def test_shared_parameters_and_modules_are_listed_once():
    lin = nn.Linear(2, 2)
    net = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(net.parameters())) == 2
    assert len(list(net.named_parameters(remove_duplicate=False))) == 4
    assert [n for n, _ in net.named_modules()] == ["", "0", "1"]
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_setattr_registers_and_delattr_removes():
    m = nn.Module()
    m.w = Parameter(flambeau.zeros(2))
    m.sub = nn.Linear(1, 1)
    m.register_buffer("b", flambeau.ones(1))
    m.plain = flambeau.zeros(1)  # a plain tensor attribute is not state
    assert list(m._parameters) == ["w"] and list(m._modules) == ["sub"]
    assert list(m.state_dict()) == ["w", "b", "sub.weight", "sub.bias"]
    m.b = flambeau.full((1,), 5.0)  # assigning to a buffer name updates the buffer
    assert m.state_dict()["b"].item() == 5.0
    m.w = None
    assert m.w is None and "w" not in m.state_dict()
    del m.sub
    assert "sub" not in m._modules
    with pytest.raises(AttributeError, match="has no attribute 'sub'"):
        _ = m.sub
    m.buf2 = nn.Buffer(flambeau.zeros(3), persistent=False)
    assert "buf2" in m._buffers and "buf2" not in m.state_dict()


def test_registration_errors_match_pytorch():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"cannot assign 'flambeau.FloatTensor' as parameter "
                                        r"'weight' \(flambeau.nn.Parameter or None expected\)"):
        m.weight = flambeau.zeros(2, 2)
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        m.register_buffer("weight", flambeau.zeros(1))
    with pytest.raises(KeyError, match="contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("x", 3)
    with pytest.raises(AttributeError, match="before Module.__init__"):
        class Bad(nn.Module):
            def __init__(self):
                self.w = Parameter(flambeau.zeros(1))

        Bad()
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


def test_parameter_basics():
    data = flambeau.tensor([1.0, 2.0])
    p = Parameter(data)
    assert isinstance(p, flambeau.Tensor) and isinstance(p, Parameter)
    assert p.requires_grad and p.is_leaf
    assert repr(p).startswith("Parameter containing:\ntensor([1., 2.]")
    assert repr(p).endswith("requires_grad=True)")
    with flambeau.no_grad():
        p.mul_(2)
    assert data.tolist() == [2.0, 4.0]  # shares memory with the tensor it wraps
    assert not Parameter(flambeau.zeros(1), requires_grad=False).requires_grad
    assert Parameter().shape == (0,)
    from flambeau.nn.parameter import Parameter as P2

    assert P2 is Parameter and nn.Module is flambeau.nn.modules.module.Module
    q = copy.deepcopy(p)
    assert isinstance(q, Parameter) and q.requires_grad and q.tolist() == p.tolist()
    with flambeau.no_grad():
        q.zero_()
    assert p.tolist() == [2.0, 4.0]


def test_get_submodule_parameter_buffer():
    net = make_net()
    assert net.get_submodule("block.body.1") is net.block.body[1]
    assert net.get_submodule("") is net
    assert net.get_parameter("out.bias") is net.out.bias
    assert net.get_buffer("block.steps") is net.block.steps
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        net.get_submodule("block.nope")
    with pytest.raises(AttributeError, match="not an nn.Parameter"):
        net.get_parameter("block.steps")
    net.set_submodule("block.body.2", nn.Tanh())
    assert isinstance(net.block.body[2], nn.Tanh)


def test_dir_lists_members():
    names = dir(make_net().block)
    for n in ("body", "heads", "scale", "steps", "forward", "state_dict"):
        assert n in names


# =============================================================================
# state_dict / load_state_dict
# =============================================================================


def test_state_dict_shares_memory_and_is_detached():
    net = make_net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert not sd["out.weight"].requires_grad and sd["out.weight"].grad_fn is None
    with flambeau.no_grad():
        sd["out.weight"].fill_(3.0)
    assert to_numpy(net.out.weight).tolist() == [[3.0, 3.0]]
    kv = net.state_dict(keep_vars=True)
    assert kv["out.weight"] is net.out.weight
    assert list(net.block.state_dict(prefix="pre.").keys())[0] == "pre.scale"


def test_load_state_dict_roundtrip_between_models():
    a, b = make_net(), make_net()
    a.block.body[1](flambeau.randn(5, 4))  # give BatchNorm running stats
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        assert_close(va, vb, msg=k)
    # values are copied, not aliased
    with flambeau.no_grad():
        a.out.weight.fill_(7.0)
    assert to_numpy(b.out.weight).max() != 7.0


def test_failed_strict_load_reports_like_pytorch_and_changes_nothing():
    net = make_net()
    before = {k: to_numpy(v).copy() for k, v in net.state_dict().items()}
    sd = OrderedDict((k, flambeau.zeros_like(v)) for k, v in net.state_dict().items()
                     if k != "out.bias")
    sd["block.body.0.weight"] = flambeau.zeros(5, 3)
    sd["zzz"] = flambeau.zeros(1)
    sd["block.heads.7.weight"] = flambeau.zeros(1)
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(sd)
    assert str(err.value) == (
        "Error(s) in loading state_dict for Sequential:\n"
        '\tMissing key(s) in state_dict: "out.bias". \n'
        '\tUnexpected key(s) in state_dict: "zzz", "block.heads.7.weight". \n'
        "\tsize mismatch for block.body.0.weight: copying a param with shape "
        "flambeau.Size([5, 3]) from checkpoint, the shape in current model is "
        "flambeau.Size([4, 3])."
    )
    after = {k: to_numpy(v) for k, v in net.state_dict().items()}
    for k in before:
        np.testing.assert_array_equal(before[k], after[k], err_msg=k)


def test_non_strict_load_and_size_mismatch_always_raises():
    net = make_net()
    sd = {k: v for k, v in net.state_dict().items() if k != "out.bias"}
    sd["extra"] = flambeau.zeros(1)
    res = net.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["out.bias"] and res.unexpected_keys == ["extra"]
    assert res == (["out.bias"], ["extra"])
    sd["out.weight"] = flambeau.zeros(3, 3)
    w = to_numpy(net.block.body[0].weight).copy()
    sd["block.body.0.weight"] = flambeau.zeros(4, 3)
    with pytest.raises(RuntimeError, match="size mismatch for out.weight"):
        net.load_state_dict(sd, strict=False)
    np.testing.assert_array_equal(to_numpy(net.block.body[0].weight), w)


def test_load_casts_dtype_and_keeps_parameter_identity():
    net = nn.Linear(2, 2)
    w = net.weight
    net.load_state_dict({"weight": flambeau.ones(2, 2, dtype=flambeau.float64),
                         "bias": flambeau.zeros(2, dtype=flambeau.float64)})
    assert net.weight is w and net.weight.dtype is flambeau.float32
    assert to_numpy(net.weight).tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_load_with_assign_and_batchnorm_legacy_keys():
    net = nn.Linear(2, 2)
    new_w = flambeau.full((2, 2), 2.0)
    net.load_state_dict({"weight": new_w, "bias": flambeau.zeros(2)}, assign=True)
    assert isinstance(net.weight, Parameter) and net.weight.requires_grad
    with flambeau.no_grad():
        new_w.add_(1)
    assert net.weight[0, 0].item() == 3.0  # holds the given tensor's memory
    bn = nn.BatchNorm1d(2)
    # checkpoints without num_batches_tracked (and without version metadata) still load
    bn.load_state_dict({"weight": flambeau.ones(2), "bias": flambeau.zeros(2),
                        "running_mean": flambeau.ones(2), "running_var": flambeau.ones(2)})
    assert bn.running_mean.tolist() == [1.0, 1.0]


def test_state_dict_and_load_hooks():
    m = nn.Linear(1, 1)
    seen = []
    h = m.register_state_dict_post_hook(lambda mod, sd, prefix, meta: sd.__setitem__(
        prefix + "extra_key", flambeau.zeros(1)))
    assert "extra_key" in m.state_dict()
    h.remove()
    assert "extra_key" not in m.state_dict()

    def post(mod, keys):
        seen.append(list(keys.unexpected_keys))
        keys.unexpected_keys.clear()

    m.register_load_state_dict_post_hook(post)
    m.load_state_dict({"weight": flambeau.ones(1, 1), "bias": flambeau.ones(1),
                       "junk": flambeau.ones(1)})
    assert seen == [["junk"]]


def test_extra_state_round_trip():
    class WithExtra(nn.Module):
        def __init__(self):
            super().__init__()
            self.value = 1

        def get_extra_state(self):
            return {"value": self.value}

        def set_extra_state(self, state):
            self.value = state["value"]

    a, b = WithExtra(), WithExtra()
    a.value = 5
    sd = a.state_dict()
    assert list(sd) == ["_extra_state"]
    b.load_state_dict(sd)
    assert b.value == 5


# =============================================================================
# modes, conversion, gradients
# =============================================================================


def test_train_eval_propagate():
    net = make_net()
    assert net.training and net.block.body[1].training
    assert net.eval() is net
    assert not net.training and not net.block.body[1].training
    net.train()
    assert net.block.heads[1].training
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_to_double_float_keep_identity_and_integer_buffers():
    net = make_net()
    p = net.out.weight
    net(flambeau.randn(3, 3)).sum().backward()
    assert net.double() is net
    assert net.out.weight is p and p.dtype is flambeau.float64
    assert p.grad.dtype is flambeau.float64
    assert net.block.steps.dtype is flambeau.float64
    assert net.block.body[1].num_batches_tracked.dtype is flambeau.int64
    out = net(flambeau.randn(3, 3, dtype=flambeau.float64))
    assert out.dtype is flambeau.float64
    out.sum().backward()  # gradients flow into the converted parameters
    net.float()
    assert p.dtype is flambeau.float32
    net.to(flambeau.float64)
    assert p.dtype is flambeau.float64
    net.to(flambeau.get_default_device(), flambeau.float32)
    assert p.dtype is flambeau.float32
    assert net.to(flambeau.get_default_device()) is net
    with pytest.raises(TypeError, match="floating point"):
        net.to(flambeau.int64)
    net.half()
    assert p.dtype is flambeau.float16


def test_to_other_device_if_available():
    devices = {str(flambeau.get_default_device()).split(":")[0], "cpu"}
    if len(devices) < 2:
        pytest.skip("needs a non-CPU default device")
    net = nn.Linear(2, 2).to("cpu")
    assert net.weight.device.type == "cpu"
    net.to(flambeau.get_default_device())
    assert net.weight.device == flambeau.get_default_device()


def test_zero_grad_and_requires_grad():
    net = make_net()
    net(flambeau.randn(4, 3)).sum().backward()
    used = [p for n, p in net.named_parameters() if "heads.1" not in n]
    assert all(p.grad is not None for p in used)
    net.zero_grad(set_to_none=False)
    assert all(to_numpy(p.grad).max() == 0 for p in used)
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.block.requires_grad_(False)
    assert not net.block.scale.requires_grad and net.out.weight.requires_grad
    net(flambeau.randn(4, 3)).sum().backward()
    assert net.block.scale.grad is None and net.out.weight.grad is not None


def test_apply_and_deepcopy():
    net = make_net()
    names = []
    net.apply(lambda m: names.append(type(m).__name__))
    assert names == ["Linear", "BatchNorm1d", "ReLU", "Sequential", "Linear", "Linear",
                     "ModuleList", "Block", "Linear", "Sequential"]

    def init_zero(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    net.apply(init_zero)
    assert to_numpy(net.out.weight).max() == 0
    clone = copy.deepcopy(net)
    assert clone.out.weight is not net.out.weight
    assert isinstance(clone.out.weight, Parameter)
    with flambeau.no_grad():
        clone.out.weight.fill_(1)
    assert to_numpy(net.out.weight).max() == 0
    assert list(clone.state_dict()) == STATE_KEYS


# =============================================================================
# hooks
# =============================================================================


def test_forward_hooks_run_modify_and_remove():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: calls.append("pre") or (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append("post"))
    h3 = lin.register_forward_hook(lambda m, args, out: out + 100)
    out = lin(flambeau.ones(1, 2))
    assert calls == ["pre", "post"]
    assert_close(out, to_numpy(lin.bias)[None] + 100)
    for h in (h1, h2, h3):
        h.remove()
    h1.remove()  # removing twice is harmless
    out = lin(flambeau.ones(1, 2))
    assert calls == ["pre", "post"]
    with lin.register_forward_hook(lambda m, a, o: o * 0):
        assert to_numpy(lin(flambeau.ones(1, 2))).max() == 0
    assert len(lin._forward_hooks) == 0


def test_hooks_with_kwargs_prepend_and_global():
    m = nn.Identity()
    order = []
    m.register_forward_pre_hook(lambda mod, args, kw: ((args[0] + 1,), kw), with_kwargs=True)
    m.register_forward_hook(lambda mod, args, kw, out: order.append(("kw", out)),
                            with_kwargs=True)
    m.register_forward_hook(lambda mod, args, out: order.append("first"), prepend=True)
    assert m(1) == 2
    assert order == ["first", ("kw", 2)]
    from flambeau.nn.modules.module import register_module_forward_hook

    seen = []
    h = register_module_forward_hook(lambda mod, args, out: seen.append(type(mod).__name__))
    try:
        nn.Sequential(nn.ReLU())(flambeau.ones(1))
    finally:
        h.remove()
    assert seen == ["ReLU", "Sequential"]


def test_feature_extraction_with_hook():
    net = make_net()
    feats = {}
    net.block.body.register_forward_hook(lambda m, a, o: feats.setdefault("body", o.detach()))
    net(flambeau.randn(5, 3))
    assert feats["body"].shape == (5, 4)


# =============================================================================
# repr
# =============================================================================


def test_repr_tree_is_pytorchs():
    assert repr(make_net()) == """Sequential(
  (block): Block(
    (body): Sequential(
      (0): Linear(in_features=3, out_features=4, bias=True)
      (1): BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
      (2): ReLU()
    )
    (heads): ModuleList(
      (0-1): 2 x Linear(in_features=4, out_features=2, bias=True)
    )
  )
  (out): Linear(in_features=2, out_features=1, bias=True)
)"""
    ml = nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh(), nn.ReLU()])
    assert repr(ml) == "ModuleList(\n  (0-1): 2 x ReLU()\n  (2): Tanh()\n  (3): ReLU()\n)"
    assert repr(nn.ModuleList()) == "ModuleList()"

    class Custom(nn.Module):
        def extra_repr(self):
            return "a=1\nb=2"

    assert repr(Custom()) == "Custom(\n  a=1\n  b=2\n)"
    pl = nn.ParameterList([Parameter(flambeau.zeros(2, 3))])
    dev = flambeau.get_default_device()
    where = "" if dev.type == "cpu" else f" ({dev})"
    assert repr(pl) == ("ParameterList(  (0): Parameter containing: [flambeau.float32 of size "
                        f"2x3{where}])")


# =============================================================================
# containers
# =============================================================================


def test_sequential_indexing_slicing_and_editing():
    a, b, c = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    seq = nn.Sequential(a, b, c)
    assert seq[0] is a and seq[-1] is c and len(seq) == 3
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    assert list(sub._modules) == ["1", "2"]  # slices keep the original names, as PyTorch
    with pytest.raises(IndexError):
        seq[3]
    seq.append(nn.ELU())
    seq.insert(0, nn.GELU())
    assert [type(m).__name__ for m in seq] == ["GELU", "ReLU", "Tanh", "Sigmoid", "ELU"]
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2", "3"]
    seq[0] = nn.Identity()
    assert isinstance(seq[0], nn.Identity)
    seq.extend([nn.ReLU()])
    assert len(seq) == 5 and len(seq + nn.Sequential(nn.ReLU())) == 6
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]
    assert named.fc is named[0]
    x = flambeau.randn(4, 2)
    assert_close(named(x), flambeau.relu(named.fc(x)))


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh(), nn.Sigmoid()])
    ml.insert(1, nn.ELU())
    assert [type(m).__name__ for m in ml] == ["Linear", "ELU", "ReLU", "Tanh", "Sigmoid"]
    assert isinstance(ml[-1], nn.Sigmoid) and len(ml[1:3]) == 2
    del ml[0]
    assert list(ml._modules) == ["0", "1", "2", "3"]
    with pytest.raises(TypeError):
        ml.extend(nn.ReLU())
    md = nn.ModuleDict({"a": nn.Linear(1, 2), "b": nn.ReLU()})
    md["c"] = nn.Tanh()
    assert list(md.keys()) == ["a", "b", "c"] and "b" in md and len(md) == 3
    assert list(md.state_dict()) == ["a.weight", "a.bias"]
    assert isinstance(md.pop("b"), nn.ReLU) and list(md) == ["a", "c"]


def test_parameter_list_and_dict():
    pl = nn.ParameterList([flambeau.zeros(2), Parameter(flambeau.ones(3))])
    assert all(isinstance(p, Parameter) for p in pl)  # plain tensors get wrapped
    pl.append(flambeau.zeros(1))
    assert len(pl) == 3 and [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    holder = nn.Module()
    holder.pl = pl
    assert len(list(holder.parameters())) == 3
    pd = nn.ParameterDict({"b": flambeau.zeros(1), "a": flambeau.ones(1)})
    assert list(pd.keys()) == ["a", "b"]  # a plain dict is sorted, as PyTorch
    pd["c"] = flambeau.zeros(2)
    assert isinstance(pd["c"], Parameter) and "c" in pd and len(pd) == 3
    assert list(pd.state_dict()) == ["a", "b", "c"]


# =============================================================================
# nn.utils
# =============================================================================


def test_clip_grad_norm():
    p1 = Parameter(flambeau.zeros(3))
    p2 = Parameter(flambeau.zeros(2))
    p1.grad = flambeau.tensor([3.0, 0.0, 0.0])
    p2.grad = flambeau.tensor([0.0, 4.0])
    total = nn.utils.clip_grad_norm_([p1, p2], max_norm=1.0)
    assert_close(total, 5.0)
    assert_close(p1.grad, [3 / (5 + 1e-6), 0, 0], rtol=1e-5)
    assert_close(p2.grad, [0, 4 / (5 + 1e-6)], rtol=1e-5)
    # under the limit nothing changes
    p1.grad = flambeau.tensor([0.1, 0.0, 0.0])
    nn.utils.clip_grad_norm_(p1, 1.0)
    assert_close(p1.grad, [0.1, 0, 0])
    p1.grad = flambeau.tensor([1.0, -7.0, 2.0])
    total = nn.utils.clip_grad_norm_([p1], 3.5, norm_type=float("inf"))
    assert_close(total, 7.0)
    assert_close(p1.grad, np.array([1.0, -7.0, 2.0]) * 3.5 / (7 + 1e-6), rtol=1e-5)
    p1.grad = flambeau.tensor([1.0, 1.0, 1.0])
    assert_close(nn.utils.clip_grad_norm_([p1], 10.0, norm_type=1), 3.0)
    p1.grad = flambeau.tensor([float("nan"), 1.0, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p1], 1.0, error_if_nonfinite=True)
    assert nn.utils.clip_grad_norm_([Parameter(flambeau.zeros(1))], 1.0).item() == 0.0


def test_clip_grad_value_and_vector_conversion():
    p = Parameter(flambeau.zeros(4))
    p.grad = flambeau.tensor([-3.0, -0.5, 0.2, 9.0])
    nn.utils.clip_grad_value_([p], 1.0)
    assert p.grad.tolist() == [-1.0, -0.5, pytest.approx(0.2), 1.0]
    net = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    vec = nn.utils.parameters_to_vector(net.parameters())
    assert vec.shape == (13,)
    nn.utils.vector_to_parameters(flambeau.arange(13.0), net.parameters())
    assert net[0].weight.tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    assert net[1].bias.tolist() == [12.0]
    assert_close(nn.utils.parameters_to_vector(net.parameters()), np.arange(13.0))
