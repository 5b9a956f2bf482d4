"""flambeau.save / flambeau.load: round trips, map_location, atomic writes, corrupt files and
files laid out as PyTorch writes them (tests/data/*.safetensors were written by PyTorch with
``safetensors.torch.save_file``; see tests/data/make_pytorch_fixtures.py)."""
from __future__ import annotations

import collections
import contextlib
import io
import json
import math
import os
import pathlib
from collections import OrderedDict

import numpy as np
import pytest
import safetensors.numpy
from helpers import to_numpy
from hypothesis import given, settings
from hypothesis import strategies as st

import flambeau
from flambeau import serialization

DATA = pathlib.Path(__file__).parent / "data"

# (dtype, values): extremes of each dtype survive the round trip bit for bit
DTYPE_VALUES = [
    (flambeau.bool, [[True, False], [False, True]]),
    (flambeau.uint8, [[0, 255], [1, 128]]),
    (flambeau.int8, [[-128, 127], [0, -1]]),
    (flambeau.int16, [[-32768, 32767], [0, -1]]),
    (flambeau.int32, [[-2 ** 31, 2 ** 31 - 1], [0, -1]]),
    (flambeau.int64, [[-2 ** 63, 2 ** 63 - 1], [0, -1]]),
    (flambeau.float16, [[65504.0, -0.0], [6e-08, math.inf]]),
    (flambeau.float32, [[3.4e38, -1.5], [1e-45, -math.inf]]),
    (flambeau.float64, [[1.7e308, math.pi], [5e-324, math.nan]]),
]


def _same(a, b):
    """Deep equality of saved/loaded structures: tensors by dtype, shape, device and values."""
    if isinstance(a, flambeau.Tensor):
        assert isinstance(b, flambeau.Tensor), f"{b!r} is not a tensor"
        assert (a.dtype, tuple(a.shape), a.device) == (b.dtype, tuple(b.shape), b.device)
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
        assert a.requires_grad == b.requires_grad
        return
    assert type(a) is type(b), f"{type(a).__name__} != {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def _roundtrip(obj, tmp_path, **load_kwargs):
    path = tmp_path / "obj.safetensors"
    flambeau.save(obj, path)
    return flambeau.load(path, **load_kwargs)


# ---------------------------------------------------------------------------
# round trips
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype,values", DTYPE_VALUES, ids=[d.name for d, _ in DTYPE_VALUES])
def test_roundtrip_every_dtype(dtype, values, tmp_path, device):
    t = flambeau.tensor(values, dtype=dtype)
    shapes = {
        "2-d": t,
        "0-d": t[0, 1],
        "empty": t[:0],
        "strided view": t.t(),  # non-contiguous: saved as a contiguous copy
    }
    out = _roundtrip(shapes, tmp_path)
    assert list(out) == list(shapes)
    for name, ref in shapes.items():
        got = out[name]
        assert got.dtype is dtype and tuple(got.shape) == tuple(ref.shape), f"{dtype} {name}"
        assert str(got.device) == device, f"{dtype} {name}: loaded on {got.device}"
        np.testing.assert_array_equal(to_numpy(got), to_numpy(ref), err_msg=f"{dtype} {name}")


def test_roundtrip_checkpoint_structure(tmp_path):
    model = OrderedDict(
        [("fc.weight", flambeau.randn(3, 2)), ("fc.bias", flambeau.zeros(3)),
         ("bn.num_batches_tracked", flambeau.tensor(5))]
    )
    model._metadata = OrderedDict([("", {"version": 1}), ("bn", {"version": 2})])
    ckpt = {
        "model": model,
        "optimizer": {
            "state": {0: {"step": flambeau.tensor(3.0), "exp_avg": flambeau.ones(3, 2)},
                      1: {"momentum_buffer": None}},
            "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False,
                              "foreach": None, "params": [0, 1], "weight_decay": 0}],
        },
        "epoch": 3,
        "best": float("inf"),
        "worst": -math.inf,
        "missing": math.nan,
        "name": "digits",
        "big": 2 ** 70,
        "history": [0.5, 0.25],
        "dtype": flambeau.float16,
        "where": flambeau.device("cpu"),
        "size": flambeau.Size([2, 3]),
        "milestones": collections.Counter([30, 60, 60]),
        (1, "a"): "tuple key",
        None: "none key",
        2.5: "float key",
    }
    out = _roundtrip(ckpt, tmp_path)
    _same(ckpt, out)
    assert out["model"]._metadata == model._metadata
    assert out["dtype"] is flambeau.float16
    assert isinstance(out["size"], flambeau.Size)


@pytest.mark.parametrize("obj", [
    flambeau.arange(6).reshape(2, 3), [flambeau.ones(2), 3, "x"], (1, 2.0), 7, None, "s", {},
], ids=["tensor", "list", "tuple", "int", "None", "str", "empty dict"])
def test_roundtrip_top_level_objects(obj, tmp_path):
    _same(obj, _roundtrip(obj, tmp_path))


def test_requires_grad_and_parameters(tmp_path):
    w = flambeau.randn(2, requires_grad=True)
    p = flambeau.nn.Parameter(flambeau.ones(3))
    out = _roundtrip({"w": w, "p": p, "y": w * 2}, tmp_path)
    assert out["w"].requires_grad and out["w"].is_leaf
    assert isinstance(out["p"], flambeau.nn.Parameter) and out["p"].requires_grad
    assert out["y"].requires_grad and out["y"].grad_fn is None  # a leaf again, as in PyTorch


def test_shared_memory_tensors(tmp_path):
    base = flambeau.arange(12.0).reshape(3, 4)
    tied = {"a": base, "a_again": base, "row": base[1], "col": base[:, 2], "t": base.t()}
    out = _roundtrip(tied, tmp_path)
    _same(tied, out)
    out["a"].add_(1)  # loaded tensors are independent copies
    assert out["a_again"][0, 0].item() == 0.0 and out["row"][0].item() == 4.0


def test_file_objects_and_paths(tmp_path):
    obj = {"x": flambeau.arange(4), "n": 1}
    buf = io.BytesIO()
    flambeau.save(obj, buf)
    buf.seek(0)
    _same(obj, flambeau.load(buf))
    flambeau.save(obj, str(tmp_path / "s.safetensors"))
    _same(obj, flambeau.load(str(tmp_path / "s.safetensors")))
    with open(tmp_path / "f.safetensors", "wb") as fh:
        flambeau.save(obj, fh)
    with open(tmp_path / "f.safetensors", "rb") as fh:
        _same(obj, flambeau.load(fh))
    with pytest.raises(FileNotFoundError):
        flambeau.load(tmp_path / "missing.safetensors")
    with pytest.raises(RuntimeError, match="Parent directory"):
        flambeau.save(obj, tmp_path / "no" / "such" / "dir.safetensors")


@pytest.mark.parametrize("obj,error,match", [
    ({"a": [object()]}, TypeError, r"can't store obj\['a'\]\[0\], a builtins.object"),
    ({"f": lambda: 0}, TypeError, "never pickles"),
    ({flambeau.ones(1): 1}, TypeError, "has a key of type Tensor"),
    ({"b": b"bytes"}, TypeError, "builtins.bytes"),
])
def test_unsupported_objects(obj, error, match, tmp_path):
    with pytest.raises(error, match=match):
        flambeau.save(obj, tmp_path / "x.safetensors")
    assert list(tmp_path.iterdir()) == [], "a failed save must leave no file behind"


def test_reference_cycle(tmp_path):
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="reference cycle"):
        flambeau.save(loop, tmp_path / "x.safetensors")


def test_file_layout_is_plain_safetensors(tmp_path):
    """A flat state_dict keeps its keys in the file: what safetensors.torch.load_file reads."""
    sd = OrderedDict([("features.0.weight", flambeau.randn(2, 1, 3, 3)),
                      ("features.1.num_batches_tracked", flambeau.tensor(0)),
                      ("classifier.bias", flambeau.zeros(3, dtype=flambeau.float16))])
    path = tmp_path / "sd.safetensors"
    flambeau.save(sd, path)
    raw = safetensors.numpy.load_file(str(path))
    assert set(raw) == set(sd)
    for k, t in sd.items():
        assert raw[k].dtype == to_numpy(t).dtype and raw[k].shape == tuple(t.shape)
        np.testing.assert_array_equal(raw[k], to_numpy(t))
    with safetensors.safe_open(str(path), framework="np") as f:
        meta = f.metadata()
    assert meta["format"] == "pt"
    assert json.loads(meta["flambeau"])["version"] == 1
    nested = tmp_path / "ckpt.safetensors"
    flambeau.save({"model": sd, "optimizer": {"state": {0: {"exp_avg": flambeau.ones(2)}}}}, nested)
    assert set(safetensors.numpy.load_file(str(nested))) == {
        "model.features.0.weight", "model.features.1.num_batches_tracked",
        "model.classifier.bias", "optimizer.state.0.exp_avg"}


def test_save_file_and_load_file(tmp_path):
    tensors = {"w": flambeau.randn(2, 2), "i": flambeau.arange(3, dtype=flambeau.int32)}
    path = tmp_path / "flat.safetensors"
    serialization.save_file(tensors, path, metadata={"note": "hi"})
    out = serialization.load_file(path)
    assert set(out) == set(tensors)
    for k in tensors:
        assert out[k].device == flambeau.device("cpu")
        np.testing.assert_array_equal(to_numpy(out[k]), to_numpy(tensors[k]))
    with safetensors.safe_open(str(path), framework="np") as f:
        assert f.metadata() == {"note": "hi"}
    assert set(flambeau.load(path)) == set(tensors)  # no flambeau metadata: a flat dict
    with pytest.raises(TypeError, match="not a tensor"):
        serialization.save_file({"a": 1}, path)
    with pytest.raises(TypeError, match="keys must be str"):
        serialization.save_file({1: flambeau.ones(1)}, path)
    with pytest.raises(TypeError, match="metadata"):
        serialization.save_file(tensors, path, metadata={"a": 1})


# ---------------------------------------------------------------------------
# map_location
# ---------------------------------------------------------------------------

def test_map_location(tmp_path, device):
    obj = {"a": flambeau.arange(3.0), "b": [flambeau.ones(2, dtype=flambeau.int8)]}
    path = tmp_path / "m.safetensors"
    flambeau.save(obj, path)
    cpu = flambeau.device("cpu")
    assert flambeau.load(path)["a"].device == flambeau.device(device)  # back where it was saved
    for loc in ("cpu", cpu, {device: "cpu"}, {flambeau.device(device): cpu}):
        out = flambeau.load(path, map_location=loc)
        assert out["a"].device == cpu and out["b"][0].device == cpu, loc
        np.testing.assert_array_equal(to_numpy(out["a"]), [0.0, 1.0, 2.0])
    assert flambeau.load(path, map_location={"other:0": "cpu"})["a"].device == flambeau.device(device)
    seen = []

    def fn(t, location):
        seen.append((location, t.device))
        return t * 10 if t.dtype.is_floating_point else None

    out = flambeau.load(path, map_location=fn)
    assert sorted(seen, key=str) == [(device, cpu)] * 2
    assert out["a"].tolist() == [0.0, 10.0, 20.0]
    assert out["b"][0].device == flambeau.device(device)  # None: restored as saved
    with pytest.raises(RuntimeError, match="map_location"):
        flambeau.load(path, map_location="nosuchdevice")


def test_tensor_saved_on_unavailable_device(tmp_path):
    meta = {"version": 1, "object": {"$dict": [["w", {"$tensor": "w", "device": "nosuchdev:1"}]]}}
    path = tmp_path / "gpu.safetensors"
    safetensors.numpy.save_file({"w": np.ones(2, np.float32)}, str(path),
                                metadata={"flambeau": json.dumps(meta)})
    with pytest.raises(RuntimeError, match=r"saved on 'nosuchdev:1'.*map_location='cpu'"):
        flambeau.load(path)
    out = flambeau.load(path, map_location="cpu")
    assert out["w"].tolist() == [1.0, 1.0] and out["w"].device == flambeau.device("cpu")


# ---------------------------------------------------------------------------
# atomic writes
# ---------------------------------------------------------------------------

def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name != "ckpt.safetensors")


@pytest.mark.parametrize("failure", ["mid-write", "fsync", "replace"])
def test_failed_save_leaves_old_file_intact(failure, tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    flambeau.save({"w": flambeau.zeros(1000), "epoch": 1}, path)
    before = path.read_bytes()

    def half_then_fail(fh, payload):
        fh.write(payload[: len(payload) // 2])
        raise OSError(28, "No space left on device")

    def boom(*args):
        raise OSError("simulated failure")

    if failure == "mid-write":
        monkeypatch.setattr(serialization, "_write_all", half_then_fail)
    elif failure == "fsync":
        monkeypatch.setattr(serialization.os, "fsync", boom)
    else:
        monkeypatch.setattr(serialization.os, "replace", boom)
    with pytest.raises(OSError):
        flambeau.save({"w": flambeau.ones(1000), "epoch": 2}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == [], "the temporary file must be removed"
    assert flambeau.load(path)["epoch"] == 1


def test_interrupted_save_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    flambeau.save({"epoch": 1}, path)

    def interrupt(fh, payload):
        fh.write(payload[:10])
        raise KeyboardInterrupt

    monkeypatch.setattr(serialization, "_write_all", interrupt)
    with pytest.raises(KeyboardInterrupt):
        flambeau.save({"epoch": 2}, path)
    monkeypatch.undo()
    assert flambeau.load(path) == {"epoch": 1} and _leftovers(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_save_keeps_permissions_and_follows_symlinks(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    flambeau.save({"epoch": 1}, path)
    os.chmod(path, 0o640)
    flambeau.save({"epoch": 2}, path)
    assert (os.stat(path).st_mode & 0o777) == 0o640
    link = tmp_path / "latest.safetensors"
    link.symlink_to(path)
    flambeau.save({"epoch": 3}, link)
    assert link.is_symlink() and flambeau.load(path) == {"epoch": 3}


# ---------------------------------------------------------------------------
# corrupt, truncated and foreign files
# ---------------------------------------------------------------------------

def _valid_bytes():
    buf = io.BytesIO()
    flambeau.save({"w": flambeau.arange(64.0), "epoch": 1}, buf)
    return buf.getvalue()


def _with_header(header, payload=b""):
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + payload


CORRUPT = [
    ("empty", lambda good: b"", "only 0 bytes long"),
    ("too short", lambda good: good[:5], "only 5 bytes long"),
    ("truncated header", lambda good: good[:40], "truncated or not a safetensors file"),
    ("truncated data", lambda good: good[:-9], "is truncated: its tensors need"),
    ("text file", lambda good: b"hello world, this is not a tensor file", "truncated or not"),
    ("header not JSON", lambda good: (4).to_bytes(8, "little") + b"{{{{", "not valid safetensors JSON"),
    ("header not an object", lambda good: _with_header([1, 2]), "not a JSON object"),
    ("bad offsets", lambda good: _with_header(
        {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4), "corrupt"),
    ("torch zip", lambda good: b"PK\x03\x04" + good, "PyTorch pickle checkpoint"),
    ("pickle", lambda good: b"\x80\x02" + good, "never unpickles"),
    ("bad flambeau metadata", lambda good: _with_header(
        {"__metadata__": {"flambeau": "{not json"}}), "flambeau metadata is malformed"),
    ("missing tensor", lambda good: _with_header(
        {"__metadata__": {"flambeau": json.dumps({"version": 1, "object": {"$tensor": "x"}})}}),
        "doesn't hold"),
    ("newer format", lambda good: _with_header(
        {"__metadata__": {"flambeau": json.dumps({"version": 99, "object": None})}}),
        "format version 99"),
    ("unsupported dtype", lambda good: _with_header(
        {"c": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 8),
        "dtype C64, which flambeau doesn't support"),
]


@pytest.mark.parametrize("make,match", [c[1:] for c in CORRUPT], ids=[c[0] for c in CORRUPT])
def test_corrupt_files_raise_clear_errors(make, match, tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(make(_valid_bytes()))
    with pytest.raises(RuntimeError, match=match) as info:
        flambeau.load(path)
    assert "bad.safetensors" in str(info.value), "the error must name the file"


def test_corrupt_file_leaves_model_unchanged(tmp_path):
    m = _TinyNet()
    before = {k: to_numpy(v).copy() for k, v in m.state_dict().items()}
    path = tmp_path / "model.safetensors"
    flambeau.save(m.state_dict(), path)
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(RuntimeError, match="truncated"):
        m.load_state_dict(flambeau.load(path))
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(to_numpy(v), before[k])


# ---------------------------------------------------------------------------
# PyTorch interop
# ---------------------------------------------------------------------------

# the fixture model's state_dict: key -> (shape, floating?)
TORCH_KEYS = {
    "0.weight": ((2, 1, 3, 3), True), "0.bias": ((2,), True),
    "1.weight": ((2,), True), "1.bias": ((2,), True), "1.running_mean": ((2,), True),
    "1.running_var": ((2,), True), "1.num_batches_tracked": ((), False),
    "4.weight": ((3, 8), True), "4.bias": ((3,), True),
}


def _fixture_value(shape, floating):
    if not floating:
        return np.array(7, np.int64)
    n = int(np.prod(shape))
    return (np.arange(n, dtype=np.float32) * 0.25 - 1).reshape(shape)


@pytest.mark.parametrize("fname", ["pytorch_cnn.safetensors", "pytorch_cnn_bf16.safetensors"])
def test_load_pytorch_file(fname):
    bf16 = "bf16" in fname
    with pytest.warns(UserWarning, match="bfloat16") if bf16 else contextlib.nullcontext():
        sd = flambeau.load(DATA / fname)
    assert set(sd) == set(TORCH_KEYS)
    for key, (shape, floating) in TORCH_KEYS.items():
        t = sd[key]
        assert tuple(t.shape) == shape, key
        assert t.dtype is (flambeau.float32 if floating else flambeau.int64), key
        assert t.device == flambeau.device("cpu")  # PyTorch's load_file default
        np.testing.assert_array_equal(to_numpy(t), _fixture_value(shape, floating), err_msg=key)
    with pytest.warns(UserWarning, match="bfloat16") if bf16 else contextlib.nullcontext():
        out = serialization.load_file(DATA / fname, device=flambeau.get_default_device())
    assert out["4.bias"].device == flambeau.get_default_device()


class _Conv(flambeau.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = flambeau.nn.Parameter(flambeau.randn(2, 1, 3, 3))
        self.bias = flambeau.nn.Parameter(flambeau.randn(2))


class _BN(flambeau.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = flambeau.nn.Parameter(flambeau.ones(2))
        self.bias = flambeau.nn.Parameter(flambeau.zeros(2))
        self.register_buffer("running_mean", flambeau.zeros(2))
        self.register_buffer("running_var", flambeau.ones(2))
        self.register_buffer("num_batches_tracked", flambeau.tensor(0))


class _Lin(flambeau.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = flambeau.nn.Parameter(flambeau.randn(3, 8))
        self.bias = flambeau.nn.Parameter(flambeau.randn(3))


class _Empty(flambeau.nn.Module):
    pass


def _TinyNet():
    """The fixture's architecture with PyTorch's key names, built without layers."""
    return flambeau.nn.Sequential(_Conv(), _BN(), _Empty(), _Empty(), _Lin())


@pytest.mark.parametrize("fname", ["pytorch_cnn.safetensors", "pytorch_cnn_bf16.safetensors"])
def test_pytorch_state_dict_loads_into_flambeau_module(fname, recwarn, device):
    m = _TinyNet()
    m.load_state_dict(flambeau.load(DATA / fname))
    for key, value in m.state_dict().items():
        shape, floating = TORCH_KEYS[key]
        np.testing.assert_array_equal(to_numpy(value), _fixture_value(shape, floating))
        assert str(value.device) == device  # copied into the module's own tensors


def test_flambeau_state_dict_in_pytorch_layout(tmp_path):
    """What PyTorch's safetensors.torch.load_file sees in a file flambeau.save wrote."""
    m = _TinyNet()
    path = tmp_path / "model.safetensors"
    flambeau.save(m.state_dict(), path)
    raw = safetensors.numpy.load_file(str(path))
    assert set(raw) == set(TORCH_KEYS)
    for key, value in m.state_dict().items():
        assert raw[key].shape == TORCH_KEYS[key][0]
        np.testing.assert_array_equal(raw[key], to_numpy(value))
    m2 = _TinyNet()
    m2.load_state_dict(flambeau.load(path))
    for (k, a), b in zip(m.state_dict().items(), m2.state_dict().values()):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b), err_msg=k)


def test_mismatched_checkpoint_leaves_model_unchanged(tmp_path):
    m = _TinyNet()
    before = {k: to_numpy(v).copy() for k, v in m.state_dict().items()}
    sd = flambeau.load(DATA / "pytorch_cnn.safetensors")
    sd["4.weight"] = flambeau.zeros(4, 8)  # wrong shape
    path = tmp_path / "bad.safetensors"
    flambeau.save(sd, path)
    with pytest.raises(RuntimeError, match="size mismatch for 4.weight"):
        m.load_state_dict(flambeau.load(path))
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(to_numpy(v), before[k], err_msg=f"{k} changed")


def test_checkpoint_with_optimizer_roundtrip(tmp_path):
    m = _TinyNet()
    opt = flambeau.optim.Adam(m.parameters(), lr=0.01)
    loss = sum((p * p).sum() for p in m.parameters())
    loss.backward()
    opt.step()
    path = tmp_path / "ckpt.safetensors"
    flambeau.save({"model": m.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)
    ckpt = flambeau.load(path)
    _same(opt.state_dict(), ckpt["optimizer"])
    m2 = _TinyNet()
    opt2 = flambeau.optim.Adam(m2.parameters(), lr=0.5)
    m2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optimizer"])
    assert opt2.param_groups[0]["lr"] == 0.01 and ckpt["epoch"] == 3
    _same(opt.state_dict()["state"], opt2.state_dict()["state"])


def test_header_size_that_looks_like_a_pickle_still_loads(tmp_path):
    """A header of 640 bytes starts the file with b"\\x80\\x02", a pickle's first bytes."""
    for pad in range(700):
        payload = safetensors.numpy.save({"w": np.ones(2, np.float32)}, metadata={"p": "x" * pad})
        if payload[:2] == b"\x80\x02":
            break
    else:
        pytest.fail("no padding gives a 640-byte header")
    path = tmp_path / "w.safetensors"
    path.write_bytes(payload)
    assert flambeau.load(path)["w"].tolist() == [1.0, 1.0]


def test_colliding_tensor_names(tmp_path):
    obj = {"a.b": flambeau.ones(1), "a": {"b": flambeau.zeros(1)}}
    out = _roundtrip(obj, tmp_path)
    _same(obj, out)
    assert set(safetensors.numpy.load_file(str(tmp_path / "obj.safetensors"))) == {"a.b", "a.b#2"}


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70), st.floats(allow_nan=False),
    st.text(max_size=5),
)
_tensors = st.builds(
    lambda dtype, shape, seed: flambeau.randint(
        -5, 5, shape, generator=flambeau.Generator().manual_seed(seed), device="cpu",
    ).to(flambeau.get_default_device(), dtype),
    st.sampled_from([flambeau.float32, flambeau.int64, flambeau.bool, flambeau.float16]),
    st.lists(st.integers(0, 3), max_size=3).map(tuple),
    st.integers(0, 100),
)
_keys = st.one_of(st.text(max_size=4), st.integers(-3, 3))
_objects = st.recursive(
    st.one_of(_scalars, _tensors),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.lists(children, max_size=3).map(tuple),
        st.dictionaries(_keys, children, max_size=3),
    ),
    max_leaves=8,
)


@settings(max_examples=25, deadline=None)
@given(obj=_objects)
def test_roundtrip_property(obj):
    buf = io.BytesIO()
    flambeau.save(obj, buf)
    buf.seek(0)
    _same(obj, flambeau.load(buf))


def test_lr_scheduler_state_roundtrip(tmp_path):
    params = [flambeau.nn.Parameter(flambeau.ones(2))]
    opt = flambeau.optim.SGD(params, lr=0.1)
    sched = flambeau.optim.lr_scheduler.MultiStepLR(opt, milestones=[1, 3], gamma=0.5)
    for _ in range(2):
        opt.step()
        sched.step()
    ckpt = _roundtrip({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, tmp_path)
    opt2 = flambeau.optim.SGD(params, lr=0.1)
    sched2 = flambeau.optim.lr_scheduler.MultiStepLR(opt2, milestones=[5], gamma=0.5)
    opt2.load_state_dict(ckpt["optimizer"])
    sched2.load_state_dict(ckpt["scheduler"])
    for _ in range(2):
        opt.step()
        sched.step()
        opt2.step()
        sched2.step()
    assert sched2.get_last_lr() == sched.get_last_lr() == [0.025]


def test_pytorch_file_loads_into_flambeau_layers(tmp_path):
    nn = flambeau.nn
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                          nn.Linear(8, 3))
    assert list(model.state_dict()) == list(TORCH_KEYS)  # PyTorch's names, in PyTorch's order
    model.load_state_dict(flambeau.load(DATA / "pytorch_cnn.safetensors"))
    for key, (shape, floating) in TORCH_KEYS.items():
        np.testing.assert_array_equal(to_numpy(model.state_dict()[key]),
                                      _fixture_value(shape, floating), err_msg=key)
    path = tmp_path / "back.safetensors"
    flambeau.save(model.state_dict(), path)
    raw = safetensors.numpy.load_file(str(path))  # what safetensors.torch.load_file reads
    assert {k: (v.dtype.name, v.shape) for k, v in raw.items()} == {
        k: ("float32" if f else "int64", s) for k, (s, f) in TORCH_KEYS.items()}


def test_map_location_errors_pass_through(tmp_path):
    path = tmp_path / "m.safetensors"
    flambeau.save({"a": flambeau.ones(1)}, path)
    with pytest.raises(TypeError, match="map_location returned int, not a tensor"):
        flambeau.load(path, map_location=lambda t, loc: 3)

    def broken(t, loc):
        raise ValueError("user bug")

    with pytest.raises(ValueError, match="user bug"):
        flambeau.load(path, map_location=broken)
