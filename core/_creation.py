"""Factory functions: tensor, zeros, ones, full, arange, linspace, eye and the ``*_like`` forms."""
from __future__ import annotations

import math

from . import _dtype as dt
from ._device import device as _device
from ._tensor import Tensor

_default_device = [None]


def set_default_device(device):
    """Device that factory functions use when none is given (``None`` resets to cpu)."""
    _default_device[0] = None if device is None else _device(device)


def get_default_device():
    from .backends import get_backend

    return get_backend(_default_device[0] or "cpu").device


def _backend_for(device):
    from .backends import get_backend

    if device is None:
        device = _default_device[0] or "cpu"
    return get_backend(device)


def _size(size, op):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s.item())
        elif not isinstance(s, int):
            if hasattr(s, "__index__"):
                s = s.__index__()
            else:
                raise TypeError(
                    f"{op}(): argument 'size' must be a tuple of ints, but found element of type "
                    f"{type(s).__name__}"
                )
        if s < 0:
            raise RuntimeError(f"{op}(): negative dimension {s} in size {tuple(size)}")
        out.append(s)
    return tuple(out)


def _finish(data, backend, dtype, requires_grad):
    t = Tensor._make(data, backend, dtype, backend.device)
    if requires_grad:
        t.requires_grad = True
    return t


def _host_dtype(arr):
    name = str(arr.dtype)
    try:
        return dt._lookup(name)
    except TypeError:
        raise TypeError(
            f"can't convert an array of dtype {name}; flambeau supports "
            f"{', '.join(d.name for d in dt.all_dtypes)}"
        ) from None


def _infer(data, op="tensor"):
    """(python data with tensors replaced by lists, inferred dtype): the promotion of the
    elements' dtypes, a Python bool/int/float counting as bool/int64/the default float and a
    NumPy scalar, array or tensor as its own dtype (as ``torch.tensor`` infers)."""
    found = [None]
    default = dt.get_default_dtype()

    def see(d):
        found[0] = d if found[0] is None else dt.promote_types(found[0], d)

    def walk(x):
        if isinstance(x, Tensor):
            see(x.dtype)
            return x.tolist()
        if hasattr(x, "dtype") and hasattr(x, "shape"):  # NumPy scalar or array inside a list
            see(_host_dtype(x))
            return x.tolist()
        if isinstance(x, bool):
            see(dt.bool_)
            return x
        if isinstance(x, int):
            see(dt.int64)
            return x
        if isinstance(x, float):
            see(default)
            return x
        if isinstance(x, (list, tuple)):
            return [walk(v) for v in x]
        if isinstance(x, complex):
            raise TypeError(f"{op}(): complex numbers are not supported")
        if isinstance(x, (str, bytes)):
            raise TypeError(f"new(): invalid data type '{type(x).__name__}'")
        raise RuntimeError(f"Could not infer dtype of {type(x).__name__}")

    out = walk(data)
    return out, default if found[0] is None else found[0]


def _check_rect(data, op):
    """Raise PyTorch's message for ragged nested lists."""
    def shape_of(x, depth):
        if isinstance(x, list):
            n = len(x)
            if n == 0:
                return (0,)
            subs = [shape_of(v, depth + 1) for v in x]
            first = subs[0]
            for s in subs[1:]:
                if len(s) != len(first) or (first and s and s[0] != first[0]):
                    got = s[0] if s else "a scalar"
                    raise ValueError(
                        f"{op}(): expected sequence of length {first[0] if first else 0} at dim "
                        f"{depth + 1} (got {got})"
                    )
            return (n,) + first
        return ()

    shape_of(data, 0)


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor that copies ``data`` (numbers, nested lists, NumPy arrays or tensors).

    >>> flambeau.tensor([[1, 2], [3, 4]]).dtype
    flambeau.int64
    """
    if isinstance(data, Tensor):
        t = data.detach().clone()
        if dtype is not None or device is not None:
            t = t.to(device=device, dtype=dtype)
        if requires_grad:
            t.requires_grad_()
        return t
    backend = _backend_for(device)
    if hasattr(data, "dtype") and hasattr(data, "shape") and not isinstance(data, (list, tuple)):
        host = data
        if type(host).__module__.split(".")[0] != "numpy":
            import numpy

            host = numpy.asarray(host)
        if dtype is None:
            dtype = _host_dtype(host)
        arr = backend.asarray(host, dtype)
    else:
        pydata, inferred = _infer(data)
        if dtype is None:
            dtype = inferred
        _check_rect(pydata, "tensor")
        try:
            arr = backend.asarray(pydata, dtype)
        except OverflowError as exc:
            raise RuntimeError(f"tensor(): value cannot be converted to {dtype} without overflow") from exc
    return _finish(arr, backend, dtype, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a tensor or CPU NumPy array when it can."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (dtype or device) else data
    if (hasattr(data, "__array_interface__") and not isinstance(data, (list, tuple))
            and (device is None or _device(device).type == "cpu")):
        t = from_numpy(data) if hasattr(data, "strides") else tensor(data)
        if t.device != _backend_for(device).device or (dtype is not None and dtype is not t.dtype):
            t = t.to(device=_backend_for(device).device, dtype=dtype)
        return t
    return tensor(data, dtype=dtype, device=device)


def asarray(obj, dtype=None, device=None, copy=None, requires_grad=False):
    t = tensor(obj, dtype=dtype, device=device) if copy else as_tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        t.requires_grad_()
    return t


def from_numpy(ndarray):
    """A CPU tensor sharing memory with the NumPy array ``ndarray``."""
    if not (hasattr(ndarray, "__array_interface__") and hasattr(ndarray, "dtype")):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    backend = _backend_for("cpu")
    dtype = _host_dtype(ndarray)
    data = ndarray
    if data.dtype.byteorder not in ("=", "|", "<"):
        raise TypeError("from_numpy(): big-endian arrays are not supported; call .astype(native) first")
    return Tensor._make(data, backend, dtype, backend.device)


def from_dlpack(ext_tensor):
    """A tensor sharing memory with a DLPack-capable object (NumPy, CuPy, PyTorch, ...)."""
    dev_type = None
    if hasattr(ext_tensor, "__dlpack_device__"):
        code, idx = ext_tensor.__dlpack_device__()
        dev_type = {1: "cpu", 2: f"cuda:{idx}", 3: "cpu"}.get(int(code))
    backend = _backend_for(dev_type or "cpu")
    data = backend.from_dlpack(ext_tensor)
    return Tensor._make(data, backend, backend.dtype_of(data), backend.device)


def _size_kw(size, kw, op):
    """``zeros(2, 3)``, ``zeros((2, 3))`` and ``zeros(size=(2, 3))`` name the same shape."""
    if kw:
        if set(kw) != {"size"} or size:
            raise TypeError(f"{op}() got unexpected keyword arguments {sorted(kw)}")
        return (kw["size"],)
    return size


def _fill(size, value, dtype, device, requires_grad, op):
    size = _size(size, op)
    backend = _backend_for(device)
    return _finish(backend.full(size, value, dtype), backend, dtype, requires_grad)


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          **kw):
    size = _size_kw(size, kw, "zeros")
    return _fill(size, 0, dtype or dt.get_default_dtype(), device, requires_grad, "zeros")


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
         **kw):
    size = _size_kw(size, kw, "ones")
    return _fill(size, 1, dtype or dt.get_default_dtype(), device, requires_grad, "ones")


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None, **kw):
    size = _size(_size_kw(size, kw, "empty"), "empty")
    backend = _backend_for(device)
    dtype = dtype or dt.get_default_dtype()
    return _finish(backend.empty(size, dtype), backend, dtype, requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    if isinstance(fill_value, Tensor) or type(fill_value).__module__ == "numpy":
        fill_value = fill_value.item()  # a NumPy scalar counts as the Python number it holds
    if dtype is None:
        dtype = dt.scalar_dtype(fill_value)
    if isinstance(size, int):
        size = (size,)
    return _fill((tuple(size),), fill_value, dtype, device, requires_grad, "full")


def _like(input, dtype, device):
    return dtype or input.dtype, device or input.device


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    dtype, device = _like(input, dtype, device)
    return _fill((input.shape,), 0, dtype, device, requires_grad, "zeros_like")


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    dtype, device = _like(input, dtype, device)
    return _fill((input.shape,), 1, dtype, device, requires_grad, "ones_like")


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    dtype, device = _like(input, dtype, device)
    return empty(input.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    dtype, device = _like(input, dtype, device)
    return _fill((input.shape,), fill_value, dtype, device, requires_grad, "full_like")


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return full((), s, dtype=dtype or dt.get_default_dtype(), device=device, requires_grad=requires_grad)


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) by ``step``, as ``torch.arange``."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("arange(): step must be nonzero")
    if (end - start) / step < 0 and end != start:
        raise RuntimeError(
            f"arange(): upper bound and larger bound inconsistent with step sign "
            f"(start={start}, end={end}, step={step})"
        )
    if dtype is None:
        dtype = dt.get_default_dtype() if any(isinstance(v, float) for v in vals) else dt.int64
    elif not dtype.is_floating_point:  # an integer arange counts with integer bounds and step
        start, end, step = int(start), int(end), int(step)
        vals = [start, end, step]
        if step == 0:
            raise RuntimeError("arange(): step must be nonzero")
    n = max(0, math.ceil((end - start) / step))
    backend = _backend_for(device)
    if dtype.is_floating_point or any(isinstance(v, float) for v in vals):
        # start + i*step in double precision, then cast (PyTorch's formula)
        data = backend.arange(0, n, 1, dt.float64)
        data = backend.binary("add", backend.binary("mul", data, float(step)), float(start))
        data = backend.astype(data, dtype)
    else:
        data = backend.arange(start, start + n * step, step, dtype)
    return _finish(data, backend, dtype, requires_grad)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if isinstance(start, Tensor):
        start = start.item()
    if isinstance(end, Tensor):
        end = end.item()
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    dtype = dtype or dt.get_default_dtype()
    backend = _backend_for(device)
    if steps == 1:
        data = backend.full((1,), start, dt.float64)
    else:
        step = (end - start) / (steps - 1) if steps > 1 else 0.0
        i = backend.arange(0, steps, 1, dt.float64)
        # PyTorch fills the first half from start and the second half back from end
        lo = backend.binary("add", backend.binary("mul", i, step), float(start))
        hi = backend.binary("add", backend.binary("mul", backend.binary("sub", i, float(steps - 1)), step), float(end))
        half = steps // 2
        data = backend.where(backend.binary("lt", i, half), lo, hi)
    if not dtype.is_floating_point:
        data = backend.unary("trunc", data)
    return _finish(backend.astype(data, dtype), backend, dtype, requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    t = linspace(start, end, steps, dtype=dt.float64, device=device)
    out = (base ** t).to(dtype or dt.get_default_dtype())
    return out.requires_grad_() if requires_grad else out


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A 2-D tensor with ones on the diagonal."""
    m = n if m is None else m
    dtype = dtype or dt.get_default_dtype()
    backend = _backend_for(device)
    r = backend.reshape(backend.arange(0, n, 1, dt.int64), (n, 1))
    c = backend.reshape(backend.arange(0, m, 1, dt.int64), (1, m))
    data = backend.astype(backend.binary("eq", r, c), dtype)
    return _finish(data, backend, dtype, requires_grad)


# ---------------------------------------------------------------------------
# legacy typed constructors: flambeau.FloatTensor([1, 2]), isinstance(t, flambeau.LongTensor)
# ---------------------------------------------------------------------------

class _LegacyTensorType(type):
    """``FloatTensor(data)`` copies data, ``FloatTensor(2, 3)`` is uninitialised; ``isinstance``
    checks the dtype, as PyTorch's legacy tensor types do."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype

    def __call__(cls, *args, device=None):
        if len(args) == 1 and not isinstance(args[0], int):
            return tensor(args[0], dtype=cls.dtype, device=device)
        return empty(*args, dtype=cls.dtype, device=device)

    def __repr__(cls):
        return f"<class 'flambeau.{cls.__name__}'>"


_LEGACY_TYPES = {
    name: _LegacyTensorType(name, (), {"dtype": dtype})
    for name, dtype in (
        ("FloatTensor", dt.float32), ("DoubleTensor", dt.float64), ("HalfTensor", dt.float16),
        ("LongTensor", dt.int64), ("IntTensor", dt.int32), ("ShortTensor", dt.int16),
        ("CharTensor", dt.int8), ("ByteTensor", dt.uint8), ("BoolTensor", dt.bool_),
    )
}
