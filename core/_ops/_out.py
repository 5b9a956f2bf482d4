"""``out=`` for the functions of the ``flambeau`` namespace (``torch.mul(a, b, out=c)``).

The op functions accept ``out`` in their signatures but compute out of place; ``install``
wraps the public functions that have an ``out`` parameter so that, when ``out`` is given, the
result is written into it (resized when its shape differs, as PyTorch does) and ``out`` is
returned. Operators and Tensor methods call the unwrapped functions, so the common path pays
nothing for this.
"""
from __future__ import annotations

import functools
import warnings

from .. import _dtype as dt
from .._tensor import Tensor
from ..autograd.grad_mode import _state as grad_state


def write_out(res, out, name):
    """Copy ``res`` (a tensor or a tuple of tensors) into ``out`` (the same structure)."""
    if isinstance(res, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(res):
            raise TypeError(f"{name}(): argument 'out' must be a tuple of {len(res)} Tensors")
        for r, o in zip(res, out):
            write_out(r, o, name)
        return type(res)(*out) if hasattr(res, "_fields") else tuple(out)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if not isinstance(res, Tensor):
        return res
    if grad_state.enabled and (res.requires_grad or out.requires_grad):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad.")
    if res.dtype is not out.dtype and not dt.can_cast(res.dtype, out.dtype):
        raise RuntimeError(
            f"result type {_torch_name(res.dtype)} can't be cast to the desired output type "
            f"{_torch_name(out.dtype)}")
    b = out._backend
    data = res._data if res.dtype is out.dtype else b.astype(res._data, out.dtype)
    if out.shape != res.shape:
        if out.numel() != 0:
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(out.shape)}, which does not match the required output shape "
                f"{list(res.shape)}. This behavior is deprecated, and in a future PyTorch "
                "release outputs will not be resized unless they have zero elements. You can "
                "explicitly reuse an out tensor t by resizing it, inplace, to zero elements "
                "with t.resize_(0).", UserWarning, stacklevel=3)
        out._data = b.copy(data)
    else:
        b.setitem(out._data, (Ellipsis,), data)
    out._vc[0] += 1
    return out


def _torch_name(d):
    return dt.scalar_type_name(d)


def with_out(fn):
    """``fn`` accepting ``out=``: the result is computed without it, then written into it."""

    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        return write_out(fn(*args, **kwargs), out, fn.__name__)

    wrapper._takes_out = True
    return wrapper


def _has_out(fn):
    while hasattr(fn, "__wrapped__"):
        fn = fn.__wrapped__
    code = getattr(fn, "__code__", None)
    if code is None:
        return False
    names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    return "out" in names


def install(namespace):
    """Wrap every public function of ``namespace`` (a module's globals) that takes ``out``."""
    for name, obj in list(namespace.items()):
        if name.startswith("_") or isinstance(obj, type) or not callable(obj):
            continue
        if getattr(obj, "_takes_out", False) or not _has_out(obj):
            continue
        if not getattr(obj, "__module__", "").startswith("flambeau"):
            continue
        namespace[name] = with_out(obj)
