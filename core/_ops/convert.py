"""dtype and device conversion: ``Tensor.to`` and its gradient."""
from __future__ import annotations

from .._device import device as _device
from ..backends import get_backend
from ._util import InternalFunction, Tensor, dt


class ToCopy(InternalFunction):
    @staticmethod
    def forward(ctx, x, dtype, backend):
        src = x._backend
        ctx.src = (x.dtype, src.device)
        data = x._data
        if backend is not src:
            if backend.device.type == src.device.type and hasattr(backend, "xp") and hasattr(src, "xp") \
                    and backend.xp is src.xp and backend.device.type != "cuda":
                data = backend.copy(data)
            else:
                data = backend.asarray(src.to_host(data), x.dtype)
        if dtype is not x.dtype:
            data = backend.astype(data, dtype)
            if data is x._data:
                data = backend.copy(data)
        elif data is x._data:
            data = backend.copy(data)
        return Tensor._make(data, backend, dtype, backend.device)

    @staticmethod
    def backward(ctx, g):  # move the gradient back to the input's dtype and device
        dtype, dev = ctx.src
        return g.to(device=dev, dtype=dtype if dtype.is_floating_point else g.dtype), None, None


def _parse_to(args, kwargs):
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, dt.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, (str, _device)):
            device = a
        elif isinstance(a, int) and not isinstance(a, bool):
            device = _device("cuda", a)
        elif isinstance(a, bool):
            copy = a if a is not None else copy
        elif a is None:
            continue
        else:
            raise TypeError(f"to() received an invalid argument of type {type(a).__name__}")
    return dtype, device, copy


def to(self, *args, **kwargs):
    """Convert dtype and/or device: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``,
    ``to(other)``; returns ``self`` when nothing changes (unless ``copy=True``)."""
    if len(args) == 1 and not kwargs:
        # x.to(dtype) and x.to(device) that change nothing (model.to(device), x.float() on floats
        # ...) return self: a branch, not the argument parsing below
        a = args[0]
        if a is self.dtype:
            return self
        if type(a) is str or type(a) is _device:
            if get_backend(a) is self._backend:
                return self
    dtype, device, copy = _parse_to(args, dict(kwargs))
    backend = self._backend
    if device is not None:
        backend = get_backend(device)
    if dtype is None:
        dtype = self.dtype
    if backend is self._backend and dtype is self.dtype and not copy:
        return self
    if dtype not in backend.supported_dtypes:
        raise TypeError(f"backend {backend.name!r} ({backend.device}) does not support dtype {dtype!r}")
    return ToCopy.apply(self, dtype, backend)


class CopyFrom(InternalFunction):
    """``dst.copy_(src)`` out of place: ``src`` cast and broadcast to ``dst``'s dtype, device and shape."""

    @staticmethod
    def forward(ctx, dst, src):
        ctx.src_meta = (src.shape, src.dtype, src.device)
        v = src if src.device == dst.device else src.to(dst.device)
        b = dst._backend
        data = v._data if v.dtype is dst.dtype else b.astype(v._data, dst.dtype)
        data = b.copy(b.broadcast_to(data, tuple(dst.shape)))
        return Tensor._make(data, b, dst.dtype, dst.device)

    @staticmethod
    def backward(ctx, g):  # dst is overwritten: no gradient; src gets g summed to its shape
        shape, dtype, dev = ctx.src_meta
        gs = None
        if ctx.needs_input_grad[1]:
            gs = g.sum_to_size(shape) if tuple(g.shape) != tuple(shape) else g
            gs = gs.to(device=dev, dtype=dtype if dtype.is_floating_point else gs.dtype)
        return (g * 0 if ctx.needs_input_grad[0] else None), gs
