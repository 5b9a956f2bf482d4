"""Shared helpers of the op families: promotion, device checks, gradient reduction, in-place."""
from __future__ import annotations

from .. import _dtype as dt
from .._tensor import Tensor, _wrap_dim
from ..autograd.function import InternalFunction, rename_node_class
from ..autograd.grad_mode import _state as grad_state

__all__ = [
    "Tensor", "InternalFunction", "grad_state", "dt", "wrap_dim", "binary_operands",
    "unbroadcast", "inplace", "wrap_dims", "check_device", "to_tensor", "named", "wrap_int",
]

wrap_dim = _wrap_dim


def _device_error(op, a, b):
    return RuntimeError(
        f"Expected all tensors to be on the same device, but found at least two devices, "
        f"{a.device} and {b.device}! (when checking argument for op '{op}'). Move them with "
        ".to(device) first."
    )


def check_device(op, *tensors):
    first = None
    for t in tensors:
        if isinstance(t, Tensor):
            if first is None:
                first = t
            elif t.device is not first.device and t.device != first.device:
                raise _device_error(op, first, t)


def binary_operands(op, a, b, out_dtype=None):
    """Promote ``a`` and ``b`` (a Tensor and a Tensor or Python number, either order).

    Returns ``(backend, device, a_native_or_scalar, b_native_or_scalar, dtype)`` where dtype is
    the promoted dtype both operands now have (``out_dtype`` forces it, e.g. float for true
    division of integers). A Python scalar in first position becomes a 0-d array.
    """
    ta = isinstance(a, Tensor)
    tb = isinstance(b, Tensor)
    if ta and tb:
        if a.device is not b.device:
            # PyTorch lets a 0-dim CPU tensor take part in an op on another device
            if b.ndim == 0 and b.device.type == "cpu":
                b = b.to(a.device)
            elif a.ndim == 0 and a.device.type == "cpu":
                a = a.to(b.device)
            else:
                raise _device_error(op, a, b)
        dtype = a.dtype if a.dtype is b.dtype else dt.result_type(a, b)
        ref = a
    elif ta:
        ref = a
        dtype = a.dtype if _scalar_fits(a.dtype, b) else dt.result_type(a, b)
    elif tb:
        ref = b
        dtype = b.dtype if _scalar_fits(b.dtype, a) else dt.result_type(a, b)
    else:
        raise TypeError(f"{op}(): expected at least one tensor operand")
    if out_dtype is not None:
        dtype = out_dtype
    backend = ref._backend
    if ta:
        ad = a._data if a.dtype is dtype else backend.astype(a._data, dtype)
    else:
        if type(a) is int and dtype._category == 1:
            a = wrap_int(a, dtype)
        ad = backend.full((), a, dtype)
    if tb:
        bd = b._data if b.dtype is dtype else backend.astype(b._data, dtype)
    else:
        if isinstance(b, Tensor):
            bd = b._data
        elif not dtype.is_floating_point and isinstance(b, float):
            bd = backend.full((), b, dtype)
        elif type(b) is int and dtype._category == 1:
            bd = wrap_int(b, dtype)
        else:
            bd = b
        if isinstance(bd, bool) and dtype is not dt.bool_:
            bd = int(bd)
    return backend, ref.device, ad, bd, dtype


def wrap_int(value, dtype):
    """A Python int as the value it has in the integer ``dtype`` (two's complement wrap-around,
    as PyTorch computes ``uint8_tensor * -1``; NumPy 2 would refuse an out-of-range scalar)."""
    bits = dtype.itemsize * 8
    if dtype.is_signed:
        lo = -(1 << (bits - 1))
        if lo <= value < -lo:
            return value
        value &= (1 << bits) - 1
        return value - (1 << bits) if value >= -lo else value
    if 0 <= value < (1 << bits):
        return value
    return value & ((1 << bits) - 1)


def _scalar_fits(d, s):
    """Whether Python scalar ``s`` leaves a tensor of dtype ``d`` unpromoted."""
    if isinstance(s, bool):
        return True
    if isinstance(s, int):
        return d is not dt.bool_
    if isinstance(s, float):
        return d.is_floating_point
    if isinstance(s, Tensor):
        return False
    raise TypeError(
        f"unsupported operand type {type(s).__name__}; expected a Tensor or a Python number"
    )


def to_tensor(x, like):
    """``x`` as a tensor on ``like``'s device (a Python number becomes a 0-dim tensor)."""
    if isinstance(x, Tensor):
        return x
    b = like._backend
    d = dt.scalar_dtype(x)
    return Tensor._make(b.full((), x, d), b, d, like.device)


def named(out, name, *inputs):
    """Give ``out``'s node PyTorch's name for the op a composite implements (``grad_fn`` shows
    ``RepeatBackward0``, not the name of the composite's last step). Returns ``out``."""
    fn = out.grad_fn
    if fn is not None:
        for t in inputs:
            if out is t:  # the composite returned an input unchanged: its node is not ours
                return out
        fn._name = name
        rename_node_class(fn, name)
    return out


def unbroadcast(g, shape, dtype):
    """Reduce gradient ``g`` to an input of ``shape`` and ``dtype`` (undo broadcasting)."""
    if g._data.shape != shape:  # (a Size or tuple compares equal to the native shape tuple)
        g = g.sum_to_size(shape)
    if g.dtype is not dtype and dtype.is_floating_point:
        g = g.to(dtype)
    return g


def wrap_dims(dim, ndim, op="op"):
    """``dim`` (None, int or sequence) as a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        axes = tuple(sorted({_wrap_dim(d, ndim, op) for d in dim}))
        if len(axes) != len(dim):
            raise RuntimeError(f"{op}(): dim {tuple(dim)} appears multiple times in the list of dims")
        return axes
    return (_wrap_dim(dim, ndim, op),)


def inplace(self, compute, op):
    """Run the out-of-place ``compute(src)`` and write its result into ``self``'s memory.

    With autograd recording, ``self`` (and, for a view, its base) gets the new history; without,
    it is a plain write. Raises PyTorch's errors for leaves that require grad and for results
    that can't be cast back to ``self``'s dtype or shape.
    """
    recording = grad_state.enabled
    if recording:
        self._check_inplace_allowed()
        # compute on a copy when the result will have history: the op may save its input for
        # backward, and ``self`` is about to change (PyTorch saves the original value too)
        if self._requires_grad:
            res = compute(self.clone())
        else:
            res = compute(self)
            if res._requires_grad:  # another operand requires grad: redo it on a copy
                res = compute(self.clone())
        recording = res._requires_grad
    else:
        res = compute(self)
    _write_result(self, res, op)
    if recording:
        if self._base is not None:
            _rebase_view(self, res)
        else:
            self.grad_fn = res.grad_fn
            self._output_nr = res._output_nr
            self._requires_grad = True
    self._vc[0] += 1
    if recording and self._base is not None:
        self._view_version = self._vc[0]  # its new grad_fn reflects this version
    return self


def _write_result(self, res, op):
    if res.shape != self.shape:
        raise RuntimeError(
            f"{op}: output with shape {list(self.shape)} doesn't match the broadcast shape "
            f"{list(res.shape)}"
        )
    if res.dtype is not self.dtype:
        if not dt.can_cast(res.dtype, self.dtype):
            raise RuntimeError(
                f"{op}: result type {res.dtype.name} can't be cast to the desired output type "
                f"{self.dtype.name}"
            )
        data = self._backend.astype(res._data, self.dtype)
    else:
        data = res._data
    try:
        self._backend.setitem(self._data, (Ellipsis,), data)
    except ValueError as exc:
        raise RuntimeError(
            f"{op}: unsupported operation: the tensor being written to is a read-only view "
            "(e.g. the result of expand()) whose elements share memory. Call .clone() first."
        ) from exc


class CopySlices(InternalFunction):
    """Writes a modified view back into its base's history."""

    _backward_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, new_view, view_fn):
        ctx.view_fn = view_fn
        return base._shallow_alias()

    @staticmethod
    def backward(ctx, g):  # d base: g outside the view region; d view: g inside it
        from ..autograd.grad_mode import no_grad

        with no_grad():
            mask = Tensor._make(g._backend.full(tuple(g.shape), 1, g.dtype), g._backend, g.dtype, g.device)
            region = ctx.view_fn(mask)
            region._backend.setitem(region._data, (Ellipsis,), 0)
        return g * mask, ctx.view_fn(g), None


def _rebase_view(view, res):
    base = view._base
    view_fn = view._view_fn
    if view_fn is None:
        raise RuntimeError(
            "in-place operation with autograd on a view that flambeau cannot replay; clone the "
            "tensor first"
        )
    alias = CopySlices.apply(base, res, view_fn)
    base.grad_fn = alias.grad_fn
    base._output_nr = 0
    base._requires_grad = True
    fresh = view_fn(base)
    view.grad_fn = fresh.grad_fn
    view._output_nr = fresh._output_nr
    view._requires_grad = True
