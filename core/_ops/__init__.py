# ruff: noqa: B009, B010
# Methods are installed with setattr/getattr on purpose: Tensor gains them at import time, and
# type checkers would read plain attribute assignments as reassigning methods.
"""Op families and the Tensor methods built on them.

Each family module defines its ``Function`` subclasses and public functions; ``install`` puts
the method forms on ``Tensor`` (``x.exp()``, ``x.sum(1)``, ``x + y``, ``x.add_(y)``).
"""
from __future__ import annotations

import functools
import sys

from .. import _dtype as dt
from .._tensor import Tensor
from . import convert, elementwise, indexing, linalg, reduction, shape
from ._util import inplace, named
from .elementwise import inplace_binary

E, R, S, I, L = elementwise, reduction, shape, indexing, linalg


def _inplace_method(fn, name):
    def m(self, *args, **kwargs):
        return inplace(self, lambda s: fn(s, *args, **kwargs), name)

    m.__name__ = name
    return m


_FUNCS = {}
for _mod in (E, R, S, I, L):
    for _name in dir(_mod):
        _obj = getattr(_mod, _name)
        if callable(_obj) and not _name.startswith("_") and not isinstance(_obj, type) \
                and getattr(_obj, "__module__", "").startswith("flambeau._ops"):
            _FUNCS[_name] = _obj

def _numpy_names(fn):
    """Accept NumPy's ``axis=`` and ``keepdims=`` for ``dim=`` and ``keepdim=``, as PyTorch does."""
    def wrapper(*args, **kwargs):
        if kwargs:
            if "axis" in kwargs:
                kwargs["dim"] = kwargs.pop("axis")
            if "keepdims" in kwargs:
                kwargs["keepdim"] = kwargs.pop("keepdims")
        return fn(*args, **kwargs)

    functools.update_wrapper(wrapper, fn)
    return wrapper


for _name, _obj in list(_FUNCS.items()):
    _code = getattr(_obj, "__code__", None)
    if _code is not None and "dim" in _code.co_varnames[:_code.co_argcount + _code.co_kwonlyargcount]:
        _FUNCS[_name] = _wrapped = _numpy_names(_obj)
        setattr(sys.modules[_obj.__module__], _name, _wrapped)

# functions that are methods of Tensor with the same name
_METHOD_NAMES = """
neg negative abs absolute sign sgn signbit exp exp2 expm1 log log2 log10 log1p sqrt rsqrt
reciprocal square sin cos tan asin acos atan arcsin arccos arctan sinh cosh tanh asinh acosh
atanh arcsinh arccosh arctanh sigmoid erf erfc erfinv floor ceil round trunc fix frac isnan
isinf isfinite isposinf isneginf logical_not bitwise_not nan_to_num logit deg2rad rad2deg
add sub subtract mul multiply div divide true_divide floor_divide pow float_power maximum
minimum fmax fmin atan2 arctan2 fmod remainder eq ne lt le gt ge greater greater_equal less
less_equal not_equal logical_and logical_or logical_xor bitwise_and bitwise_or bitwise_xor
bitwise_left_shift bitwise_right_shift where clamp clip clamp_min clamp_max lerp xlogy hypot
copysign addcmul addcdiv logaddexp
sum nansum mean nanmean prod amax amin max min aminmax argmax argmin all any count_nonzero
var std norm logsumexp cumsum cumprod cummax cummin logcumsumexp sort argsort msort topk
kthvalue median quantile unique bincount histc
reshape view view_as reshape_as flatten ravel unflatten squeeze unsqueeze permute transpose
swapaxes swapdims t movedim moveaxis expand expand_as broadcast_to sum_to_size clone
contiguous narrow select split tensor_split chunk unbind repeat tile repeat_interleave flip
fliplr flipud roll rot90 tril triu diagonal diag diag_embed trace
gather scatter scatter_add scatter_reduce index_select index_add index_copy index_fill
index_put take take_along_dim masked_fill masked_select masked_scatter nonzero argwhere
matmul mm bmm mv dot vdot inner outer ger addmm addmv baddbmm addbmm
""".split()

for _name in _METHOD_NAMES:
    # the function itself: on the class it is a method, ``self`` binding to ``input`` (a wrapper
    # would cost a call per op)
    setattr(Tensor, _name, _FUNCS[_name])
setattr(Tensor, "to", convert.to)
setattr(Tensor, "where", lambda self, condition, y: E.where(condition, self, y))
setattr(Tensor, "positive", lambda self: E.positive(self))

# in-place forms: x.name_(...) computes name(x, ...) and writes it into x
_INPLACE = """
neg abs sign exp exp2 expm1 log log2 log10 log1p sqrt rsqrt reciprocal square sin cos tan asin
acos atan sinh cosh tanh asinh acosh atanh sigmoid erf erfc erfinv floor ceil round trunc frac
nan_to_num logit deg2rad rad2deg pow fmod remainder clamp clip clamp_min clamp_max
lerp xlogy hypot copysign addcmul addcdiv floor_divide atan2 maximum minimum
logical_not logical_and logical_or logical_xor bitwise_and bitwise_or bitwise_xor bitwise_not
masked_fill scatter scatter_add scatter_reduce index_add index_copy index_fill index_put
masked_scatter tril triu eq ne lt le gt ge cumsum cumprod t transpose
""".split()

for _name in _INPLACE:
    setattr(Tensor, _name + "_", _inplace_method(_FUNCS[_name], _name + "_"))
setattr(Tensor, "negative_", getattr(Tensor, "neg_"))
setattr(Tensor, "sgn_", getattr(Tensor, "sign_"))
setattr(Tensor, "absolute_", getattr(Tensor, "abs_"))
setattr(Tensor, "arctan2_", getattr(Tensor, "atan2_"))
setattr(Tensor, "fix_", getattr(Tensor, "trunc_"))


def _fast_inplace(name, fn):
    def m(self, other, *, alpha=1, rounding_mode=None):
        kw = {}
        if alpha != 1:
            kw["alpha"] = alpha
        if rounding_mode is not None:
            kw["rounding_mode"] = rounding_mode
        return inplace_binary(self, fn, other, name, **kw)

    m.__name__ = name
    return m


setattr(Tensor, "add_", _fast_inplace("add_", E.add))
setattr(Tensor, "sub_", _fast_inplace("sub_", E.sub))
setattr(Tensor, "subtract_", getattr(Tensor, "sub_"))
setattr(Tensor, "mul_", _fast_inplace("mul_", E.mul))
setattr(Tensor, "multiply_", getattr(Tensor, "mul_"))
setattr(Tensor, "div_", _fast_inplace("div_", E.div))
setattr(Tensor, "divide_", getattr(Tensor, "div_"))
setattr(Tensor, "true_divide_", getattr(Tensor, "div_"))


def _fill_(self, value):
    from ..autograd.grad_mode import _state

    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} dimensions."
            )
    recording = _state.enabled and (
        self._requires_grad or (isinstance(value, Tensor) and value._requires_grad))
    if recording:
        # CopyFrom gives the old values a zero gradient and the fill value the sum of g
        src = value if isinstance(value, Tensor) else _const(self, value)
        return inplace(self, lambda s: convert.CopyFrom.apply(s, src), "fill_")
    if isinstance(value, Tensor):
        value = value.item()
    if type(value) is int and self.dtype._category == 1:
        from ._util import wrap_int

        value = wrap_int(value, self.dtype)
    self._check_inplace_allowed()
    try:
        self._backend.setitem(self._data, (Ellipsis,), value)
    except ValueError as exc:
        raise RuntimeError(
            "fill_: unsupported operation: more than one element of the written-to tensor refers "
            "to a single memory location. Please clone() the tensor before performing the operation."
        ) from exc
    self._vc[0] += 1
    return self


def _const(like, value):
    b = like._backend
    return Tensor._make(b.full((), value, like.dtype), b, like.dtype, like.device)


def _zero_(self):
    return _fill_(self, 0)


def _copy_(self, src, non_blocking=False):
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    if S.broadcast_shapes(self.shape, src.shape) != self.shape:
        raise RuntimeError(
            f"copy_: the source of shape {list(src.shape)} can't be broadcast to the destination "
            f"of shape {list(self.shape)}"
        )
    return inplace(self, lambda s: convert.CopyFrom.apply(s, src), "copy_")


setattr(Tensor, "fill_", _fill_)
setattr(Tensor, "zero_", _zero_)
setattr(Tensor, "copy_", _copy_)


def _random_method(sample):
    def m(self, *args, generator=None, **kwargs):
        from . import _random_fill

        with_gen = _random_fill.draw(self, sample, args, kwargs, generator)
        b = self._backend
        data = with_gen._data if with_gen.dtype is self.dtype else b.astype(with_gen._data, self.dtype)
        if self._requires_grad and self.grad_fn is None:
            from ..autograd.grad_mode import _state

            if _state.enabled:
                raise RuntimeError(
                    "a leaf Variable that requires grad is being used in an in-place operation. "
                    "Wrap the update in `with flambeau.no_grad():`."
                )
        b.setitem(self._data, (Ellipsis,), data)
        self._vc[0] += 1
        return self

    return m


setattr(Tensor, "uniform_", _random_method("uniform"))
setattr(Tensor, "normal_", _random_method("normal"))
setattr(Tensor, "bernoulli_", _random_method("bernoulli"))
setattr(Tensor, "random_", _random_method("random"))
setattr(Tensor, "exponential_", _random_method("exponential"))
setattr(Tensor, "geometric_", _random_method("geometric"))
setattr(Tensor, "log_normal_", _random_method("log_normal"))
setattr(Tensor, "cauchy_", _random_method("cauchy"))


# ---------------------------------------------------------------------------
# properties and Python operators
# ---------------------------------------------------------------------------
setattr(Tensor, "T", property(S._T))
setattr(Tensor, "mT", property(S._mT))
setattr(Tensor, "H", property(S._T))
setattr(Tensor, "mH", property(S._mT))
setattr(Tensor, "__getitem__", I.getitem)
setattr(Tensor, "__setitem__", I.setitem)


def _sum_to_size(self, *size):
    return S.sum_to_size(self, *size)


setattr(Tensor, "sum_to_size", _sum_to_size)


def _coerce(self, other):
    """The operand an operator can use: a NumPy scalar as a Python number, a NumPy array as a
    tensor on ``self``'s device, as PyTorch accepts them; None for anything else."""
    if type(other).__module__ != "numpy":
        return None
    import numpy

    if isinstance(other, numpy.generic):
        return other.item()
    if isinstance(other, numpy.ndarray):
        from .._creation import tensor

        return tensor(other, device=self.device)
    return None


def _binop(fn):
    def op(self, other):
        if not isinstance(other, (Tensor, int, float, bool)):
            other = _coerce(self, other)
            if other is None:
                return NotImplemented
        return fn(self, other)

    return op


def _rbinop(fn):
    def op(self, other):
        if not isinstance(other, (int, float, bool)):
            other = _coerce(self, other)
            if other is None:
                return NotImplemented
        return fn(other, self)

    return op


# (+, * and / call their Function directly: what add, mul and div do without alpha or
# rounding_mode, one call less on the most common operators)
setattr(Tensor, "__add__", _binop(E.Add.apply))
setattr(Tensor, "__radd__", _rbinop(E.Add.apply))
setattr(Tensor, "__sub__", _binop(E.sub))
setattr(Tensor, "__rsub__", _rbinop(lambda a, b: named(E.sub(a, b), "RsubBackward1")))
setattr(Tensor, "__mul__", _binop(E.Mul.apply))
setattr(Tensor, "__rmul__", _rbinop(E.Mul.apply))
setattr(Tensor, "__truediv__", _binop(E.Div.apply))
setattr(Tensor, "__rtruediv__", _rbinop(lambda a, b: named(E.div(a, b), "MulBackward0")))
setattr(Tensor, "__floordiv__", _binop(E.floor_divide))
setattr(Tensor, "__rfloordiv__", _rbinop(E.floor_divide))
setattr(Tensor, "__mod__", _binop(E.remainder))
setattr(Tensor, "__rmod__", _rbinop(E.remainder))
setattr(Tensor, "__pow__", _binop(E.pow))
setattr(Tensor, "__rpow__", _rbinop(E.pow))
setattr(Tensor, "__matmul__", _binop(L.matmul))
setattr(Tensor, "__rmatmul__", lambda self, other: NotImplemented)
setattr(Tensor, "__and__", _binop(E.bitwise_and))
setattr(Tensor, "__rand__", _rbinop(E.bitwise_and))
setattr(Tensor, "__or__", _binop(E.bitwise_or))
setattr(Tensor, "__ror__", _rbinop(E.bitwise_or))
setattr(Tensor, "__xor__", _binop(E.bitwise_xor))
setattr(Tensor, "__rxor__", _rbinop(E.bitwise_xor))
setattr(Tensor, "__lshift__", _binop(E.bitwise_left_shift))
setattr(Tensor, "__rshift__", _binop(E.bitwise_right_shift))
setattr(Tensor, "__rlshift__", _rbinop(E.bitwise_left_shift))
setattr(Tensor, "__rrshift__", _rbinop(E.bitwise_right_shift))
setattr(Tensor, "__eq__", _binop(E.eq))
setattr(Tensor, "__ne__", _binop(E.ne))
setattr(Tensor, "__lt__", _binop(E.lt))
setattr(Tensor, "__le__", _binop(E.le))
setattr(Tensor, "__gt__", _binop(E.gt))
setattr(Tensor, "__ge__", _binop(E.ge))
setattr(Tensor, "__hash__", lambda self: id(self))
setattr(Tensor, "__neg__", lambda self: E.neg(self) if self.dtype is not dt.bool_ else _bool_neg())
setattr(Tensor, "__pos__", lambda self: self)
setattr(Tensor, "__abs__", lambda self: E.abs(self))
setattr(Tensor, "__invert__", lambda self: E.bitwise_not(self) if not self.dtype.is_floating_point else _float_invert())


def _float_invert():
    raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")


def _bool_neg():
    raise RuntimeError(
        "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert "
        "a mask, use the `~` or `logical_not()` operator instead."
    )


def _iop(name, fn):
    def op(self, other):
        if not isinstance(other, (Tensor, int, float, bool)):
            other = _coerce(self, other)
            if other is None:
                return NotImplemented
        return inplace_binary(self, fn, other, name)

    return op


setattr(Tensor, "__iadd__", _iop("add_", E.add))
setattr(Tensor, "__isub__", _iop("sub_", E.sub))
setattr(Tensor, "__imul__", _iop("mul_", E.mul))
setattr(Tensor, "__itruediv__", _iop("div_", E.div))


def _iop_generic(name, fn):
    def op(self, other):
        return inplace(self, lambda s: fn(s, other), name)

    return op


setattr(Tensor, "__ifloordiv__", _iop_generic("floor_divide_", E.floor_divide))
setattr(Tensor, "__imod__", _iop_generic("remainder_", E.remainder))
setattr(Tensor, "__ipow__", _iop_generic("pow_", E.pow))
setattr(Tensor, "__iand__", _iop_generic("bitwise_and_", E.bitwise_and))
setattr(Tensor, "__ior__", _iop_generic("bitwise_or_", E.bitwise_or))
setattr(Tensor, "__ixor__", _iop_generic("bitwise_xor_", E.bitwise_xor))
setattr(Tensor, "__imatmul__", _iop_generic("matmul_", L.matmul))
