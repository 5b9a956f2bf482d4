"""Saving and loading: ``flambeau.save`` / ``flambeau.load`` in the safetensors format.

A file written by ``flambeau.save`` is an ordinary safetensors file: every tensor of the saved
object is one safetensors tensor (bytes through the ``safetensors`` package), and everything
else (the nesting of dicts, lists and tuples, Python numbers, strings, ``None``) is JSON in the
header's ``__metadata__`` under the key ``"flambeau"``. Nothing is ever pickled, so loading a
file never runs code.

    >>> sd = {"model": {"weight": flambeau.ones(2, 3)}, "epoch": 3}
    >>> flambeau.save(sd, "ckpt.safetensors")                        # doctest: +SKIP
    >>> flambeau.load("ckpt.safetensors")["epoch"]                   # doctest: +SKIP
    3

Tensor names in the file are the dotted paths of the tensors in the saved object
(``"model.weight"``, ``"optimizer.state.0.exp_avg"``), so a flat ``state_dict`` keeps its own
keys and loads in PyTorch with ``safetensors.torch.load_file``. A safetensors file without
flambeau's metadata (written by PyTorch, for example) loads as a flat ``{name: tensor}`` dict.

Layout of the ``"flambeau"`` metadata (JSON, format version 1)::

    {"version": 1, "object": NODE}
    NODE = null | true | false | <int> | <float> | <str> | [NODE, ...]        (a list)
         | {"$tuple": [NODE, ...]}      | {"$dict": [[KEY, NODE], ...]}
         | {"$odict": [[KEY, NODE], ...], "_metadata": NODE?}   (collections.OrderedDict,
                                         with a state_dict's ``_metadata`` attribute)
         | {"$counter": [[KEY, NODE], ...]}   (collections.Counter)
         | {"$tensor": <name>, "device": <str>?, "requires_grad": true?, "parameter": true?}
         | {"$float": "inf" | "-inf" | "nan"} | {"$dtype": <name>} | {"$device": <str>}
         | {"$size": [<int>, ...]}

Writes to a path are atomic: the bytes go to a temporary file in the same directory, which is
flushed, fsync'ed and then renamed over the destination (``os.replace``); on any error the
temporary file is removed and an existing file is left untouched.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import stat
import warnings
from collections import Counter, OrderedDict

from . import _dtype as dt
from ._device import device as _device
from ._tensor import Size, Tensor

__all__ = ["save", "load", "save_file", "load_file"]

_META_KEY = "flambeau"
_FORMAT_VERSION = 1

# safetensors dtype names <-> flambeau dtypes
_TO_ST = {
    dt.bool_: "BOOL", dt.uint8: "U8", dt.int8: "I8", dt.int16: "I16", dt.int32: "I32",
    dt.int64: "I64", dt.float16: "F16", dt.float32: "F32", dt.float64: "F64",
}
_FROM_ST = {v: k for k, v in _TO_ST.items()}
_PICKLE_PROTOCOLS = (b"\x02", b"\x03", b"\x04", b"\x05")  # after b"\x80", a pickle's first bytes


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------

def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True):
    """Save ``obj`` to ``f`` (a path or a binary file object) as a safetensors file.

    ``obj`` is a tensor, or nested dicts (any str/int/float/bool/None/tuple keys), lists and
    tuples of tensors, Python numbers, strings, ``None``, dtypes, devices and sizes: a
    ``state_dict``, an optimizer's ``state_dict``, or a checkpoint holding both. Other objects
    raise ``TypeError``: nothing is pickled. ``pickle_module`` and ``pickle_protocol`` are
    accepted for PyTorch compatibility and ignored.

    Each tensor is stored as its own contiguous copy, so tensors that share memory (views, tied
    weights) are saved and loaded as independent tensors.

    >>> flambeau.save({"model": model.state_dict(), "epoch": 3}, "ckpt.safetensors")  # doctest: +SKIP
    """
    structure, arrays = _Encoder().encode(obj)
    meta = json.dumps({"version": _FORMAT_VERSION, "object": structure},
                      allow_nan=False, separators=(",", ":"))
    payload = _serialize(arrays, {"format": "pt", _META_KEY: meta})
    _write(payload, f)


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None,
         **pickle_load_args):
    """Load an object saved by ``flambeau.save``, or any safetensors file, from ``f``.

    ``f`` is a path or a binary file object. Tensors return to the device they were saved from,
    unless ``map_location`` says otherwise, as in PyTorch: a device (``"cpu"``,
    ``flambeau.device("cuda:0")``) for all tensors, a dict mapping saved locations to new ones
    (``{"cuda:1": "cuda:0"}``), or a callable ``fn(tensor_on_cpu, saved_location)`` returning a
    tensor (or ``None`` for the default). A safetensors file without flambeau's metadata (one
    PyTorch wrote with ``safetensors.torch.save_file``) loads as a flat ``{name: tensor}`` dict
    on the CPU (or ``map_location``); bfloat16 tensors in it load as float32, which holds them
    exactly.

    Loading never runs code, so ``weights_only`` is always in effect; ``pickle_module``,
    ``mmap`` and other pickle options are accepted for compatibility and ignored. A file that is
    not a safetensors file, or is truncated or corrupt, raises ``RuntimeError`` naming the file.

    >>> model.load_state_dict(flambeau.load("model.safetensors"))   # doctest: +SKIP
    """
    data, name = _read(f)
    header, entries = _parse(data, name)
    meta = header.get("__metadata__") or {}
    restore = _Restorer(entries, map_location, name)
    if _META_KEY not in meta:
        # stacklevel 3: the caller of flambeau.load, which delegates here
        return restore.finish({key: restore.tensor(key, "cpu") for key in entries}, 3)
    try:
        doc = json.loads(meta[_META_KEY])
        version = doc["version"]
        structure = doc["object"]
    except (ValueError, TypeError, KeyError) as exc:
        raise RuntimeError(f"flambeau.load: {name}: flambeau metadata is malformed ({exc})") from exc
    if not isinstance(version, int) or version > _FORMAT_VERSION:
        raise RuntimeError(
            f"flambeau.load: {name} was written in flambeau format version {version!r}; this "
            f"flambeau reads versions up to {_FORMAT_VERSION}: upgrade flambeau to load it"
        )
    try:
        return restore.finish(restore.decode(structure), 3)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        if exc is restore.tensor_error:  # from map_location or a device: not the metadata's fault
            raise
        raise RuntimeError(f"flambeau.load: {name}: flambeau metadata is malformed ({exc})") from exc


def save_file(tensors, filename, metadata=None):
    """Save a flat ``{name: tensor}`` dict as a plain safetensors file (atomically).

    The same as ``safetensors.torch.save_file`` for flambeau tensors: ``metadata`` is an optional
    ``{str: str}`` dict for the header. Read it back with ``load_file`` (or ``flambeau.load``,
    PyTorch's ``safetensors.torch.load_file``, ...).
    """
    if not isinstance(tensors, dict):
        raise TypeError(f"save_file expects a dict of tensors, got {type(tensors).__name__}")
    arrays = {}
    for key, value in tensors.items():
        if not isinstance(key, str):
            raise TypeError(f"save_file: keys must be str, got {key!r}")
        if not isinstance(value, Tensor):
            raise TypeError(f"save_file: value of {key!r} is a {type(value).__name__}, not a tensor")
        arrays[key] = _host_array(value)
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("save_file: metadata must be a dict of str to str")
    _write(_serialize(arrays, metadata), filename)


def load_file(filename, device="cpu"):
    """Load every tensor of a safetensors file as a flat ``{name: tensor}`` dict on ``device``.

    The same as ``safetensors.torch.load_file``: flambeau's structure metadata, if any, is
    ignored (use ``flambeau.load`` to get the saved object back).
    """
    data, name = _read(filename)
    _header, entries = _parse(data, name)
    restore = _Restorer(entries, device, name)
    return restore.finish({key: restore.tensor(key, "cpu") for key in entries}, 2)


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------

def _host_array(t):
    """A C-contiguous host NumPy copy (or view) of ``t``'s values."""
    import numpy as np

    arr = np.asarray(t._backend.to_host(t.detach()._data))
    # not np.ascontiguousarray: it turns 0-d arrays into 1-d ones
    return arr if arr.flags.c_contiguous else np.array(arr, order="C")


def _serialize(arrays, metadata):
    from safetensors.numpy import save as st_save

    try:
        return st_save(arrays, metadata=metadata)
    except Exception as exc:  # safetensors raises its own SafetensorError
        raise RuntimeError(f"flambeau.save: safetensors could not serialize the tensors: {exc}") \
            from exc


def _write(payload, f):
    if hasattr(f, "write"):
        f.write(payload)
        return
    if not isinstance(f, (str, bytes, os.PathLike)):
        raise TypeError(f"expected a path or a writable binary file object, got {type(f).__name__}")
    _atomic_write(os.fsdecode(os.fspath(f)), payload)


def _write_all(fh, payload):
    """Write ``payload`` to the open file ``fh`` (one place tests can make fail mid-write)."""
    view = memoryview(payload)
    chunk = 1 << 24
    for start in range(0, len(view), chunk):
        fh.write(view[start:start + chunk])


def _atomic_write(path, payload):
    if os.path.islink(path):  # write through a symlink, as open(path, "wb") would
        path = os.path.realpath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise RuntimeError(f"Parent directory {directory} does not exist.")
    if os.path.isdir(path):
        raise IsADirectoryError(f"flambeau.save: {path} is a directory")
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    # 0o666 through the umask: the file gets the permissions open(path, "wb") would give it
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_all(fh, payload)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileNotFoundError):  # keep an existing file's permissions
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    # makes the rename itself durable on POSIX; directories can't be opened on Windows
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _Encoder:
    """Turns a saved object into (JSON node, {name: host array})."""

    def __init__(self):
        self.arrays = {}
        self._active = set()

    def encode(self, obj):
        return self._node(obj, []), self.arrays

    def _name(self, path):
        base = ".".join(str(p) for p in path) or "tensor"
        name, n = base, 1
        while name in self.arrays:
            n += 1
            name = f"{base}#{n}"
        return name

    def _node(self, obj, path):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            if math.isfinite(obj):
                return float(obj)
            return {"$float": repr(float(obj))}
        if isinstance(obj, Tensor):
            return self._tensor(obj, path)
        if isinstance(obj, dt.dtype):
            return {"$dtype": obj.name}
        if isinstance(obj, _device):
            return {"$device": str(obj)}
        if type(obj).__module__ == "numpy" and hasattr(obj, "item") and getattr(obj, "ndim", 1) == 0:
            return self._node(obj.item(), path)  # NumPy scalars become Python numbers
        if isinstance(obj, (list, tuple, dict)):
            if id(obj) in self._active:
                raise ValueError(f"flambeau.save: {_where(path)} contains itself (a reference cycle)")
            self._active.add(id(obj))
            try:
                return self._container(obj, path)
            finally:
                self._active.discard(id(obj))
        raise TypeError(
            f"flambeau.save can't store {_where(path)}, a {type(obj).__module__}."
            f"{type(obj).__qualname__}: only tensors, dicts, lists, tuples, numbers, str, None, "
            "dtypes and devices are saved (flambeau never pickles)"
        )

    def _container(self, obj, path):
        if isinstance(obj, Size):
            return {"$size": [int(s) for s in obj]}
        if isinstance(obj, list):
            return [self._node(v, path + [i]) for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            return {"$tuple": [self._node(v, path + [i]) for i, v in enumerate(obj)]}
        items = []
        for k, v in obj.items():
            if isinstance(k, (Tensor, list, dict)):
                raise TypeError(f"flambeau.save: {_where(path)} has a key of type "
                                f"{type(k).__name__}; keys must be numbers, str, None or tuples")
            items.append([self._node(k, path + ["<key>"]), self._node(v, path + [k])])
        if isinstance(obj, Counter):  # MultiStepLR's milestones
            return {"$counter": items}
        if not isinstance(obj, OrderedDict):
            return {"$dict": items}
        node = {"$odict": items}
        meta = getattr(obj, "_metadata", None)  # a state_dict's per-module versions
        if isinstance(meta, dict):
            node["_metadata"] = self._node(meta, path + ["_metadata"])
        return node

    def _tensor(self, t, path):
        if t.dtype not in _TO_ST:
            raise TypeError(f"flambeau.save: {_where(path)} has dtype {t.dtype}, which "
                            "safetensors can't store")
        name = self._name(path)
        self.arrays[name] = _host_array(t)
        node = {"$tensor": name}
        if t.device.type != "cpu":
            node["device"] = str(t.device)
        if t.requires_grad:
            node["requires_grad"] = True
        if type(t) is not Tensor and type(t).__name__ == "Parameter":
            node["parameter"] = True
        return node


def _where(path):
    return "obj" + "".join(f"[{p!r}]" for p in path)


# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------

def _read(f):
    if hasattr(f, "read"):
        data = f.read()
        name = repr(getattr(f, "name", None) or f)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"flambeau.load: {name} must be opened in binary mode ('rb')")
        return bytes(data), name
    if not isinstance(f, (str, bytes, os.PathLike)):
        raise TypeError(f"expected a path or a readable binary file object, got {type(f).__name__}")
    path = os.fsdecode(os.fspath(f))
    with open(path, "rb") as fh:
        return fh.read(), repr(path)


def _parse(data, name):
    """Validate the bytes of a safetensors file: (header dict, {name: (dtype, shape, bytes)})."""
    try:
        return _parse_safetensors(data, name)
    except RuntimeError as exc:
        # checked only after failing: a safetensors header size may begin with these bytes
        if data[:4] == b"PK\x03\x04" or (data[:1] == b"\x80" and data[1:2] in _PICKLE_PROTOCOLS):
            raise RuntimeError(
                f"flambeau.load: {name} looks like a PyTorch pickle checkpoint (torch.save), not "
                "a safetensors file; flambeau never unpickles (it can run code). Convert it in "
                "PyTorch: safetensors.torch.save_file(torch.load(path), 'model.safetensors')"
            ) from exc
        raise


def _parse_safetensors(data, name):
    n = len(data)
    if n < 8:
        raise RuntimeError(f"flambeau.load: {name} is not a safetensors file: it is only {n} bytes "
                           "long (the file is empty or truncated)")
    size = int.from_bytes(data[:8], "little")
    if size > n - 8:
        raise RuntimeError(
            f"flambeau.load: {name} is truncated or not a safetensors file: its header claims "
            f"{size} bytes but only {n - 8} bytes follow"
        )
    try:
        header = json.loads(data[8:8 + size].decode("utf-8"))
        if not isinstance(header, dict):
            raise ValueError("the header is not a JSON object")
        end = 0
        for key, info in header.items():
            if key != "__metadata__":
                end = max(end, int(info["data_offsets"][1]))
    except (ValueError, UnicodeDecodeError, TypeError, KeyError, IndexError) as exc:
        raise RuntimeError(f"flambeau.load: {name} is not a safetensors file or is corrupt: its "
                           f"header is not valid safetensors JSON ({exc})") from exc
    if 8 + size + end > n:
        raise RuntimeError(
            f"flambeau.load: {name} is truncated: its tensors need {8 + size + end} bytes but the "
            f"file has {n}"
        )
    from safetensors import deserialize

    try:
        views = deserialize(data)
    except Exception as exc:
        raise RuntimeError(f"flambeau.load: {name} is corrupt: {exc}") from exc
    # the header's order (PyTorch's load_file order), not deserialize's
    order = {k: int(v["data_offsets"][0]) for k, v in header.items() if k != "__metadata__"}
    entries = {k: (v["dtype"], tuple(v["shape"]), v["data"]) for k, v in views}
    entries = {k: entries[k] for k in sorted(entries, key=lambda k: (order.get(k, 0), k))}
    return header, entries


class _Restorer:
    """Builds flambeau tensors from a file's entries, honouring ``map_location``."""

    def __init__(self, entries, map_location, name):
        self.entries = entries
        self.map_location = map_location
        self.name = name
        self._bf16 = []
        self.tensor_error = None  # the exception the last tensor() raised, if any

    def tensor(self, key, location):
        try:
            return self._tensor(key, location)
        except Exception as exc:
            self.tensor_error = exc
            raise

    def _tensor(self, key, location):
        import numpy as np

        from ._creation import from_numpy, tensor

        st_dtype, shape, raw = self.entries[key]
        if st_dtype == "BF16":  # bfloat16 is the top half of a float32
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32).reshape(shape)
            self._warn_bf16(key)
        elif st_dtype in _FROM_ST:  # safetensors stores little-endian
            arr = np.frombuffer(raw, dtype=_np_name(st_dtype)).reshape(shape)
            if not arr.dtype.isnative:
                arr = arr.astype(arr.dtype.newbyteorder("="))
        else:
            supported = ", ".join(sorted(_FROM_ST)) + ", BF16"
            raise RuntimeError(
                f"flambeau.load: {self.name}: tensor {key!r} has safetensors dtype {st_dtype}, "
                f"which flambeau doesn't support (it loads {supported}); convert it before saving"
            )
        ml = self.map_location
        if callable(ml) and not isinstance(ml, (str, _device)):
            out = ml(from_numpy(arr.copy()), location)
            if out is not None:
                if not isinstance(out, Tensor):
                    raise TypeError(f"map_location returned {type(out).__name__}, not a tensor")
                return out
            target = location
        elif isinstance(ml, dict):
            target = ml.get(location, ml.get(_device(location), location))
        elif ml is not None:
            target = ml
        else:
            target = location
        from .backends import get_backend

        try:
            get_backend(target)
        except (RuntimeError, ValueError, TypeError) as exc:
            raise RuntimeError(
                f"flambeau.load: {self.name}: tensor {key!r} (saved on {location!r}) can't be "
                f"put on {str(target)!r}; pass map_location='cpu' (or another available device) "
                f"to load it elsewhere. The device's error: {exc}"
            ) from exc
        return tensor(arr, device=target)

    def _warn_bf16(self, key):
        self._bf16.append(key)

    def finish(self, result, stacklevel):
        """``result``, after warning once about bfloat16 tensors loaded as float32."""
        if self._bf16:
            more = f" and {len(self._bf16) - 1} more" if len(self._bf16) > 1 else ""
            warnings.warn(
                f"flambeau.load: {self.name}: bfloat16 tensors ({self._bf16[0]!r}{more}) were "
                "loaded as float32, which represents them exactly (flambeau has no bfloat16)",
                UserWarning, stacklevel=stacklevel + 1,
            )
        return result

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict) or len(node) == 0:
            raise ValueError(f"unexpected node {node!r}")
        if "$tensor" in node:
            key = node["$tensor"]
            if key not in self.entries:
                raise KeyError(f"it refers to tensor {key!r}, which the file doesn't hold")
            t = self.tensor(key, node.get("device", "cpu"))
            if node.get("parameter"):
                return _parameter(t, bool(node.get("requires_grad", False)))
            if node.get("requires_grad"):
                t.requires_grad_()
            return t
        tags = [k for k in node if k.startswith("$")]
        if len(tags) != 1:
            raise ValueError(f"unexpected node {node!r}")
        tag, value = tags[0], node[tags[0]]
        if tag == "$tuple":
            return tuple(self.decode(v) for v in value)
        if tag == "$dict":
            return {_hashable(self.decode(k)): self.decode(v) for k, v in value}
        if tag == "$odict":
            od = OrderedDict((_hashable(self.decode(k)), self.decode(v)) for k, v in value)
            if "_metadata" in node:
                od._metadata = self.decode(node["_metadata"])  # type: ignore[attr-defined]
            return od
        if tag == "$counter":
            return Counter({_hashable(self.decode(k)): self.decode(v) for k, v in value})
        if tag == "$float":
            return float(value)
        if tag == "$dtype":
            return dt._lookup(value)
        if tag == "$device":
            return _device(value)
        if tag == "$size":
            return Size(int(s) for s in value)
        raise ValueError(f"unknown tag {tag!r}")


def _hashable(key):
    if isinstance(key, list):
        return tuple(_hashable(k) for k in key)
    return key


def _np_name(st_dtype):
    if st_dtype == "BOOL":
        return "bool"
    d = _FROM_ST[st_dtype]
    return d.name if d.itemsize == 1 else "<" + {"F": "f", "I": "i", "U": "u"}[st_dtype[0]] \
        + str(d.itemsize)


def _parameter(t, requires_grad):
    from ._module import Parameter

    return Parameter(t, requires_grad=requires_grad)
