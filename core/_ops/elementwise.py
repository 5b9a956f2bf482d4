"""Elementwise ops: unary math, binary arithmetic, comparisons, where, clamp, lerp."""
from __future__ import annotations

import math

from ._util import (
    InternalFunction,
    Tensor,
    binary_operands,
    check_device,
    dt,
    grad_state,
    inplace,
    named,
    to_tensor,
    unbroadcast,
    wrap_int,
)

# =============================================================================
# unary
# =============================================================================


class _Unary(InternalFunction):
    op = ""
    save = ""  # which of "x" (input) and "y" (output) backward needs
    floating = True  # integer inputs are computed in the default float dtype

    @classmethod
    def forward(cls, ctx, x):
        b = x._backend
        data = x._data
        if cls.floating and not x.dtype.is_floating_point:
            data = b.astype(data, dt.get_default_dtype())
            x = Tensor._make(data, b, dt.get_default_dtype(), x.device)
        y = Tensor._make(b.unary(cls.op, data), b, x.dtype, x.device)
        if cls.save == "x":
            ctx.save_for_backward(x)
        elif cls.save == "y":
            ctx.save_for_backward(y)
        elif cls.save == "xy":
            ctx.save_for_backward(x, y)
        return y

    @classmethod
    def backward(cls, ctx, g):
        return cls.derivative(g, *ctx.saved_tensors)


def _unary(name, op, save, deriv, floating=True):
    cls = type(name, (_Unary,), {"op": op, "save": save, "floating": floating,
                                 "derivative": staticmethod(deriv)})
    return cls


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

Neg = _unary("Neg", "neg", "", lambda g: -g, floating=False)
Abs = _unary("Abs", "abs", "x", lambda g, x: g * x.sign(), floating=False)   # d|x| = sign(x)
Exp = _unary("Exp", "exp", "y", lambda g, y: g * y)                          # d e^x = e^x
Exp2 = _unary("Exp2", "exp2", "y", lambda g, y: g * y * _LN2)                # d 2^x = 2^x ln2
Expm1 = _unary("Expm1", "expm1", "y", lambda g, y: g * (y + 1))              # d (e^x - 1) = e^x
Log = _unary("Log", "log", "x", lambda g, x: g / x)                          # d ln x = 1/x
Log2 = _unary("Log2", "log2", "x", lambda g, x: g / (x * _LN2))
Log10 = _unary("Log10", "log10", "x", lambda g, x: g / (x * _LN10))
Log1p = _unary("Log1p", "log1p", "x", lambda g, x: g / (x + 1))
Log1p._backward_name = "Log1PBackward0"
Sqrt = _unary("Sqrt", "sqrt", "y", lambda g, y: g / (2 * y))                 # d sqrt x = 1/(2 sqrt x)
Rsqrt = _unary("Rsqrt", "rsqrt", "y", lambda g, y: -0.5 * g * y * y * y)     # d x^-1/2 = -x^-3/2 / 2
Reciprocal = _unary("Reciprocal", "reciprocal", "y", lambda g, y: -g * y * y)  # d 1/x = -1/x^2
Square = _unary("Square", "square", "x", lambda g, x: g * 2 * x, floating=False)
Square._backward_name = "PowBackward0"  # PyTorch computes square as pow(x, 2)
Sin = _unary("Sin", "sin", "x", lambda g, x: g * x.cos())
Cos = _unary("Cos", "cos", "x", lambda g, x: -g * x.sin())
Tan = _unary("Tan", "tan", "y", lambda g, y: g * (1 + y * y))                # d tan = 1 + tan^2
Asin = _unary("Asin", "asin", "x", lambda g, x: g * (1 - x * x).rsqrt())
Acos = _unary("Acos", "acos", "x", lambda g, x: -g * (1 - x * x).rsqrt())
Atan = _unary("Atan", "atan", "x", lambda g, x: g / (1 + x * x))
Sinh = _unary("Sinh", "sinh", "x", lambda g, x: g * x.cosh())
Cosh = _unary("Cosh", "cosh", "x", lambda g, x: g * x.sinh())
Tanh = _unary("Tanh", "tanh", "y", lambda g, y: g * (1 - y * y))             # d tanh = 1 - tanh^2
Asinh = _unary("Asinh", "asinh", "x", lambda g, x: g * (x * x + 1).rsqrt())
Acosh = _unary("Acosh", "acosh", "x", lambda g, x: g * (x * x - 1).rsqrt())
Atanh = _unary("Atanh", "atanh", "x", lambda g, x: g / (1 - x * x))
Sigmoid = _unary("Sigmoid", "sigmoid", "y", lambda g, y: g * y * (1 - y))    # d s = s (1 - s)
Erf = _unary("Erf", "erf", "x", lambda g, x: g * _TWO_OVER_SQRT_PI * (-(x * x)).exp())
Erfinv = _unary("Erfinv", "erfinv", "y",
                lambda g, y: g * (math.sqrt(math.pi) / 2) * (y * y).exp())


class _Rounding(InternalFunction):
    """floor, ceil, round, trunc: piecewise constant, so the gradient is zero."""

    op = ""

    @classmethod
    def forward(cls, ctx, x):
        if not x.dtype.is_floating_point:
            return Tensor._make(x._backend.copy(x._data), x._backend, x.dtype, x.device)
        return x._new(x._backend.unary(cls.op, x._data))

    @staticmethod
    def backward(ctx, g):
        return g * 0


Floor = type("Floor", (_Rounding,), {"op": "floor"})
Ceil = type("Ceil", (_Rounding,), {"op": "ceil"})
Round = type("Round", (_Rounding,), {"op": "round"})
Trunc = type("Trunc", (_Rounding,), {"op": "trunc"})


class Sign(InternalFunction):
    @staticmethod
    def forward(ctx, x):
        b = x._backend
        if x.dtype is dt.bool_:
            return x._new(b.copy(x._data))
        out = b.unary("sign", x._data)
        if x.dtype.is_floating_point:  # PyTorch: sign(nan) = 0
            out = b.where(b.unary("isnan", out), b.full((), 0, x.dtype), out)
        return x._new(out)

    @staticmethod
    def backward(ctx, g):  # sign is piecewise constant
        return g * 0


def _predicate(op, integer_value):
    """isnan/isinf/isfinite: an elementwise bool test; integer and bool tensors are all
    ``integer_value`` (never NaN or infinite)."""
    def fn(input):
        b = input._backend
        if not input.dtype.is_floating_point:
            return Tensor._make(b.full(tuple(input.shape), integer_value, dt.bool_), b, dt.bool_,
                                input.device)
        return Tensor._make(b.unary(op, input._data), b, dt.bool_, input.device)

    fn.__name__ = op
    return fn


isnan = _predicate("isnan", False)
isinf = _predicate("isinf", False)
isfinite = _predicate("isfinite", True)


def isposinf(input):
    return isinf(input) & (input > 0)


def isneginf(input):
    return isinf(input) & (input < 0)


def logical_not(input):
    return Tensor._make(input._backend.unary("logical_not", input._data), input._backend, dt.bool_, input.device)


def bitwise_not(input):
    if input.dtype.is_floating_point:
        raise NotImplementedError(f"bitwise_not: not implemented for '{input.dtype.name}'; expects integer or bool")
    return input._new(input._backend.unary("logical_not" if input.dtype is dt.bool_ else "bitwise_not", input._data))


# =============================================================================
# binary
# =============================================================================


class _Binary(InternalFunction):
    op = ""
    save = False  # whether backward needs the inputs
    save_out = False  # whether backward needs the output too
    uses = ("ab", "ab")  # the operands d/da and d/db read: only those are saved (as PyTorch does)
    floating = False  # integer operands are computed in the default float dtype (true division)
    bool_ok = True  # whether the op is defined when both operands promote to bool

    @classmethod
    def forward(cls, ctx, a, b):
        out_dtype = None
        if cls.floating:
            d = dt.result_type(a, b)
            if not d.is_floating_point:
                out_dtype = dt.get_default_dtype()
        backend, device, ad, bd, dtype = binary_operands(cls.op, a, b, out_dtype)
        if dtype is dt.bool_ and not cls.bool_ok and (cls.op != "pow" or isinstance(b, Tensor)):
            raise NotImplementedError(f"\"{cls.op}\" not implemented for 'Bool'")
        try:
            y = Tensor._make(backend.binary(cls.op, ad, bd), backend, dtype, device)
        except ValueError:
            raise _broadcast_error(a, b) from None
        if ctx.needs_input_grad:
            ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
            # (native shapes: plain tuples, cheaper than building Sizes)
            ctx.a_meta = (a._data.shape, a.dtype) if ta else None
            ctx.b_meta = (b._data.shape, b.dtype) if tb else None
            if cls.save:
                need = ctx.needs_input_grad
                ua, ub = cls.uses
                sa = ta and ((need[0] and "a" in ua) or (need[1] and "a" in ub))
                sb = tb and ((need[0] and "b" in ua) or (need[1] and "b" in ub))
                ctx.save_for_backward(a if sa else None, b if sb else None,
                                      y if cls.save_out else None)
                ctx.scalars = (None if ta else a, None if tb else b)
        return y

    @classmethod
    def backward(cls, ctx, g):
        if cls.save:
            a, b, y = ctx.saved_tensors
            sa, sb = ctx.scalars
            a = sa if a is None else a
            b = sb if b is None else b
        else:
            a = b = y = None
        ga, gb = cls.derivative(ctx, g, a, b, y)
        if ga is not None and ctx.a_meta is not None and ctx.needs_input_grad[0]:
            ga = unbroadcast(ga, *ctx.a_meta)
        else:
            ga = None
        if gb is not None and ctx.b_meta is not None and ctx.needs_input_grad[1]:
            gb = unbroadcast(gb, *ctx.b_meta)
        else:
            gb = None
        return ga, gb


class Add(_Binary):
    op = "add"

    @staticmethod
    def derivative(ctx, g, a, b, y):  # d(a+b) = (1, 1)
        return g, g


class Sub(_Binary):
    op = "sub"

    @staticmethod
    def derivative(ctx, g, a, b, y):  # d(a-b) = (1, -1)
        return g, -g


class Mul(_Binary):
    op = "mul"
    save = True
    uses = ("b", "a")

    @staticmethod
    def derivative(ctx, g, a, b, y):  # d(ab) = (b, a)
        return (g * b if ctx.needs_input_grad[0] else None,
                g * a if ctx.needs_input_grad[1] else None)


class Div(_Binary):
    op = "div"
    save = True
    uses = ("b", "ab")
    floating = True

    @staticmethod
    def derivative(ctx, g, a, b, y):  # d(a/b) = (1/b, -a/b^2)
        ga = g / b if ctx.needs_input_grad[0] else None
        gb = -g * a / (b * b) if ctx.needs_input_grad[1] else None
        return ga, gb


class Pow(_Binary):
    op = "pow"
    bool_ok = False
    save = True
    save_out = True

    @staticmethod
    def derivative(ctx, g, a, b, y):
        ga = gb = None
        if ctx.needs_input_grad[0]:  # d a^b / da = b a^(b-1)
            if isinstance(b, Tensor):
                ga = g * b * a ** (b - 1)
                ga = ga.masked_fill(b == 0, 0.0) if ga.dtype.is_floating_point else ga
            elif b == 0:
                ga = g * 0
            else:
                ga = g * b * a ** (b - 1)
        if ctx.needs_input_grad[1]:  # d a^b / db = a^b ln a, taken as 0 where a == 0 and b >= 0
            if isinstance(a, Tensor):
                gb = g * y * a.log()
                gb = gb.masked_fill((a == 0) & (b >= 0), 0.0)
            else:
                gb = g * y * math.log(a) if a > 0 else (g * y * math.log(a) if a < 0 else g * 0)
        return ga, gb


class Maximum(_Binary):
    op = "maximum"
    save = True

    @staticmethod
    def derivative(ctx, g, a, b, y):  # the gradient goes to the larger input, split on ties
        return _minmax_grads(g, a, b, a > b)


class Minimum(_Binary):
    op = "minimum"
    save = True

    @staticmethod
    def derivative(ctx, g, a, b, y):
        return _minmax_grads(g, a, b, a < b)


def _minmax_grads(g, a, b, a_wins):
    tie = (a == b)
    half = g * 0.5
    ga = where(a_wins, g, where(tie, half, g * 0))
    gb = where(a_wins, g * 0, where(tie, half, g))
    return ga, gb


class Fmax(_Binary):
    op = "fmax"
    save = True

    @staticmethod
    def derivative(ctx, g, a, b, y):  # the gradient goes to the input that was taken (a on ties)
        a_wins = (a >= b) | b.isnan()
        return where(a_wins, g, g * 0), where(a_wins, g * 0, g)


class Fmin(_Binary):
    op = "fmin"
    save = True

    @staticmethod
    def derivative(ctx, g, a, b, y):
        a_wins = (a <= b) | b.isnan()
        return where(a_wins, g, g * 0), where(a_wins, g * 0, g)


class Atan2(_Binary):
    op = "atan2"
    save = True
    floating = True

    @staticmethod
    def derivative(ctx, g, a, b, y):  # d atan2(a, b) = (b, -a) / (a^2 + b^2)
        r = a * a + b * b
        return g * b / r, g * -a / r


class Fmod(_Binary):
    op = "fmod"
    bool_ok = False
    save = True
    uses = ("", "ab")

    @staticmethod
    def derivative(ctx, g, a, b, y):  # a - trunc(a/b) b
        gb = -g * (a / b).trunc() if ctx.needs_input_grad[1] else None
        return g, gb


class Remainder(_Binary):
    op = "remainder"
    bool_ok = False
    save = True
    uses = ("", "ab")

    @staticmethod
    def derivative(ctx, g, a, b, y):  # a - floor(a/b) b
        gb = -g * (a / b).floor() if ctx.needs_input_grad[1] else None
        return g, gb


class FloorDivide(_Binary):
    op = "floordiv"
    bool_ok = False

    @staticmethod
    def derivative(ctx, g, a, b, y):  # piecewise constant
        return g * 0, g * 0


def _broadcast_error(a, b):
    """PyTorch's RuntimeError for operands whose shapes don't broadcast."""
    sa = tuple(a.shape) if isinstance(a, Tensor) else ()
    sb = tuple(b.shape) if isinstance(b, Tensor) else ()
    n = max(len(sa), len(sb))
    pa = (1,) * (n - len(sa)) + sa
    pb = (1,) * (n - len(sb)) + sb
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            return RuntimeError(
                f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at "
                f"non-singleton dimension {i}"
            )
    return RuntimeError(f"shapes {list(sa)} and {list(sb)} cannot be broadcast together")


def _nondiff_binary(op, bool_out):
    def fn(input, other):
        backend, device, ad, bd, dtype = binary_operands(op, input, other)
        try:
            out = backend.binary(op, ad, bd)
        except ValueError:
            raise _broadcast_error(input, other) from None
        return Tensor._make(out, backend, dt.bool_ if bool_out else dtype, device)

    fn.__name__ = op
    return fn


eq = _nondiff_binary("eq", True)
ne = _nondiff_binary("ne", True)
lt = _nondiff_binary("lt", True)
le = _nondiff_binary("le", True)
gt = _nondiff_binary("gt", True)
ge = _nondiff_binary("ge", True)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _logical(op):
    def fn(input, other):
        check_device(op, input, other)
        a = input if isinstance(input, Tensor) else to_tensor(input, other)
        b = other if isinstance(other, Tensor) else to_tensor(other, a)
        ab = a._backend
        ad = a._data if a.dtype is dt.bool_ else ab.binary("ne", a._data, 0)
        bd = b._data if b.dtype is dt.bool_ else ab.binary("ne", b._data, 0)
        try:
            return Tensor._make(ab.binary(op, ad, bd), ab, dt.bool_, a.device)
        except ValueError:
            raise _broadcast_error(a, b) from None

    fn.__name__ = op
    return fn


logical_and = _logical("logical_and")
logical_or = _logical("logical_or")
logical_xor = _logical("logical_xor")


def _bitwise(op):
    raw = _nondiff_binary(op, False)

    def fn(input, other):
        for t in (input, other):
            if (isinstance(t, Tensor) and t.dtype.is_floating_point) or isinstance(t, float):
                raise NotImplementedError(
                    f"{op}: not implemented for floating point operands; expects integer or bool"
                )
        if isinstance(input, Tensor) and input.dtype is dt.bool_ and (
            not isinstance(other, Tensor) or other.dtype is dt.bool_
        ) and op in ("bitwise_and", "bitwise_or", "bitwise_xor") and not (
            isinstance(other, int) and not isinstance(other, bool)
        ):
            return _logical(op.replace("bitwise", "logical"))(input, other)
        return raw(input, other)

    fn.__name__ = op
    return fn


bitwise_and = _bitwise("bitwise_and")
bitwise_or = _bitwise("bitwise_or")
bitwise_xor = _bitwise("bitwise_xor")
bitwise_left_shift = _bitwise("bitwise_left_shift")
bitwise_right_shift = _bitwise("bitwise_right_shift")


# =============================================================================
# public functions
# =============================================================================


def add(input, other, *, alpha=1, out=None):
    if alpha != 1:
        other = other * alpha
    return Add.apply(input, other)


def sub(input, other, *, alpha=1, out=None):
    if _is_bool(input) or _is_bool(other):
        if _is_bool(input) and _is_bool(other) and isinstance(input, Tensor) and isinstance(other, Tensor):
            raise RuntimeError(
                "Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
                "`^` or `logical_xor()` operator instead."
            )
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying "
            "to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    if alpha != 1:
        other = other * alpha
    return Sub.apply(input, other)


subtract = sub


def mul(input, other, *, out=None):
    return Mul.apply(input, other)


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    """True division; ``rounding_mode="trunc"`` or ``"floor"`` rounds the quotient."""
    if rounding_mode is None:
        return Div.apply(input, other)
    if rounding_mode == "floor":
        if _both_int(input, other):
            return FloorDivide.apply(input, other)
        return Div.apply(input, other).floor()
    if rounding_mode == "trunc":
        if _both_int(input, other):
            q = FloorDivide.apply(input, other)
            # floor and trunc differ where the exact quotient is negative and inexact
            r = input - q * other
            fix = (r != 0) & ((input < 0) ^ (other < 0))
            return where(fix, q + 1, q)
        return Div.apply(input, other).trunc()
    raise ValueError(
        f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'"
    )


divide = div
true_divide = div


def _both_int(a, b):
    ia = (not a.dtype.is_floating_point) if isinstance(a, Tensor) else not isinstance(a, float)
    ib = (not b.dtype.is_floating_point) if isinstance(b, Tensor) else not isinstance(b, float)
    return ia and ib


def floor_divide(input, other, *, out=None):
    if _both_int(input, other):
        return FloorDivide.apply(input, other)
    return Div.apply(input, other).floor()


def pow(input, exponent, *, out=None):
    if isinstance(input, Tensor) and isinstance(exponent, int) and not isinstance(exponent, bool) \
            and exponent < 0 and not input.dtype.is_floating_point:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if isinstance(input, Tensor) and isinstance(exponent, (int, float)) and exponent == 2 \
            and not isinstance(exponent, bool):
        if input.dtype.is_floating_point or isinstance(exponent, int):
            return square(input)
    out = Pow.apply(input, exponent)
    if isinstance(exponent, Tensor):  # PyTorch's overloads: pow(Tensor, Tensor), pow(Scalar, Tensor)
        named(out, "PowBackward1" if isinstance(input, Tensor) else "PowBackward2")
    return out


def float_power(input, exponent):
    a = input.double() if isinstance(input, Tensor) else float(input)
    e = exponent.double() if isinstance(exponent, Tensor) else float(exponent)
    return Pow.apply(a, e)


def maximum(input, other, *, out=None):
    return Maximum.apply(input, other)


def minimum(input, other, *, out=None):
    return Minimum.apply(input, other)


def fmax(input, other, *, out=None):
    return Fmax.apply(input, other)


def fmin(input, other, *, out=None):
    return Fmin.apply(input, other)


def atan2(input, other, *, out=None):
    return Atan2.apply(input, other)


arctan2 = atan2


def fmod(input, other, *, out=None):
    return Fmod.apply(input, other)


def remainder(input, other, *, out=None):
    return Remainder.apply(input, other)


def rsub(input, other, *, alpha=1):
    return sub(other, input, alpha=alpha)


# -----------------------------------------------------------------------------
# where, clamp, lerp
# -----------------------------------------------------------------------------


class Where(InternalFunction):
    @staticmethod
    def forward(ctx, cond, a, b):
        if isinstance(a, Tensor) or isinstance(b, Tensor):
            backend, device, ad, bd, dtype = binary_operands("where", a, b)
        else:
            ref = cond
            dtype = dt.result_type(a, b)
            backend, device = ref._backend, ref.device
            ad, bd = a, b
        check_device("where", cond, a if isinstance(a, Tensor) else None)
        c = cond._data if cond.dtype is dt.bool_ else backend.binary("ne", cond._data, 0)
        if not hasattr(ad, "shape"):
            ad = backend.full((), ad, dtype)
        if not hasattr(bd, "shape"):
            bd = backend.full((), bd, dtype)
        ctx.cond = cond
        ctx.metas = tuple((t.shape, t.dtype) if isinstance(t, Tensor) else None for t in (a, b))
        return Tensor._make(backend.where(c, ad, bd), backend, dtype, device)

    @staticmethod
    def backward(ctx, g):  # the gradient flows to the branch that was taken
        zero = g * 0
        ga = unbroadcast(where(ctx.cond, g, zero), *ctx.metas[0]) if ctx.needs_input_grad[1] else None
        gb = unbroadcast(where(ctx.cond, zero, g), *ctx.metas[1]) if ctx.needs_input_grad[2] else None
        return None, ga, gb


def where(condition, input=None, other=None, *, out=None):
    """Elementwise ``input if condition else other``; ``where(cond)`` is ``nonzero(as_tuple=True)``."""
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if not isinstance(condition, Tensor):
        raise TypeError("where(): argument 'condition' must be a Tensor")
    if condition.dtype is not dt.bool_ and condition.dtype is not dt.uint8:
        raise RuntimeError(
            f"where expected condition to be a boolean tensor, but got a tensor with dtype {condition.dtype.name}"
        )
    return Where.apply(condition, input, other)


class Clamp(InternalFunction):
    @staticmethod
    def forward(ctx, x, lo, hi):
        b = x._backend
        dtype = x.dtype
        for v in (lo, hi):
            if v is not None:
                d = dt.result_type(x, v)
                if d is not dtype:
                    dtype = d
        data = x._data if dtype is x.dtype else b.astype(x._data, dtype)
        lod = lo._data if isinstance(lo, Tensor) else lo
        hid = hi._data if isinstance(hi, Tensor) else hi
        if isinstance(lo, Tensor) and lo.dtype is not dtype:
            lod = b.astype(lod, dtype)
        if isinstance(hi, Tensor) and hi.dtype is not dtype:
            hid = b.astype(hid, dtype)
        out = b.clip(data, lod, hid)
        if isinstance(lo, Tensor) and isinstance(hi, Tensor):
            # PyTorch: min(max(x, lo), hi) elementwise, so hi wins where lo > hi
            out = b.binary("minimum", b.binary("maximum", data, lod), hid)
        ctx.save_for_backward(x, lo if isinstance(lo, Tensor) else None, hi if isinstance(hi, Tensor) else None)
        ctx.bounds = (lo, hi)
        return Tensor._make(out, b, dtype, x.device)

    @staticmethod
    def backward(ctx, g):  # 1 inside [lo, hi], 0 outside; bounds get the gradient where they bind
        x, lo_t, hi_t = ctx.saved_tensors
        lo, hi = ctx.bounds
        lo = lo_t if lo_t is not None else lo
        hi = hi_t if hi_t is not None else hi
        mask = None
        if lo is not None:
            mask = x >= lo
        if hi is not None:
            m = x <= hi
            mask = m if mask is None else mask & m
        zero = g * 0
        gx = where(mask, g, zero) if mask is not None else g
        glo = ghi = None
        if lo_t is not None and ctx.needs_input_grad[1]:
            sel = x < lo_t
            if hi is not None:
                sel = sel & (lo_t < hi)
            glo = unbroadcast(where(sel, g, zero), lo_t.shape, lo_t.dtype)
        if hi_t is not None and ctx.needs_input_grad[2]:
            sel = x > hi_t
            if lo is not None:
                sel = sel | (hi_t < lo)  # lo > hi: the result is hi everywhere
            ghi = unbroadcast(where(sel, g, zero), hi_t.shape, hi_t.dtype)
        return unbroadcast(gx, x.shape, x.dtype), glo, ghi


def clamp(input, min=None, max=None, *, out=None):
    """Clamp all elements into ``[min, max]`` (either bound may be None or a tensor)."""
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    out = Clamp.apply(input, min, max)
    return named(out, "ClampBackward0" if isinstance(min, Tensor) or isinstance(max, Tensor)
                 else "ClampBackward1")


clip = clamp


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


def lerp(input, end, weight, *, out=None):
    """``input + weight * (end - input)``."""
    return named(input + weight * (end - input), "LerpBackward0")


def frac(input):
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"frac_cpu\" not implemented for '{input.dtype.name}'")
    return input - input.trunc()


def round(input, *, decimals=0):
    if input.dtype is dt.bool_:
        raise NotImplementedError("\"round\" not implemented for 'Bool'")
    if decimals == 0:
        return Round.apply(input)
    scale = 10.0 ** decimals
    return Round.apply(input * scale) / scale


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    if not input.dtype.is_floating_point:
        return input.clone()
    from .._dtype import finfo

    fi = finfo(input.dtype)
    posinf = fi.max if posinf is None else posinf
    neginf = fi.min if neginf is None else neginf
    out = where(input.isnan(), nan, input)
    out = where(out == math.inf, posinf, out)
    return where(out == -math.inf, neginf, out)


def sigmoid(input, *, out=None):
    return Sigmoid.apply(input)


def xlogy(input, other):
    out = input * (other.log() if isinstance(other, Tensor) else math.log(other))
    if isinstance(input, Tensor):
        out = where(input == 0, 0.0, out)
    return where(other.isnan(), math.nan, out) if isinstance(other, Tensor) else out


def square(input):
    if input.dtype is dt.bool_:  # as pow(input, 2): bool promotes with the int 2
        input = input.to(dt.int64)
    return Square.apply(input)


def _is_bool(x):
    return x.dtype is dt.bool_ if isinstance(x, Tensor) else isinstance(x, bool)


def hypot(input, other):
    return (input * input + other * other).sqrt()


class Copysign(InternalFunction):
    @staticmethod
    def forward(ctx, a, b):
        d = dt.result_type(a, b)
        if not d.is_floating_point:
            d = dt.get_default_dtype()
        ctx.metas = tuple((t.shape, t.dtype) if isinstance(t, Tensor) else None for t in (a, b))
        a = a.to(d) if isinstance(a, Tensor) else float(a)
        mag = a.abs() if isinstance(a, Tensor) else math.fabs(a)
        neg = signbit(b) if isinstance(b, Tensor) else math.copysign(1.0, b) < 0
        if isinstance(neg, bool):
            out = -mag if neg else mag * 1.0
        else:
            out = where(neg, -mag, mag)
        ctx.save_for_backward(a if isinstance(a, Tensor) else None, out)
        return out.detach()

    @staticmethod
    def backward(ctx, g):  # d/da = copysign(1, b) * sign(a) (0 at a == 0); d/db = 0
        a, out = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ratio = where(a == 0, 0.0, out / a).detach()  # +-1, piecewise constant in a
            ga = unbroadcast(g * ratio, *ctx.metas[0])
        if ctx.needs_input_grad[1]:
            gb = unbroadcast(g * 0, *ctx.metas[1])
        return ga, gb


def copysign(input, other):
    if not isinstance(input, Tensor):
        raise TypeError("copysign(): argument 'input' must be Tensor")
    return Copysign.apply(input, other)


def addcmul(input, tensor1, tensor2, *, value=1):
    return input + value * tensor1 * tensor2


def addcdiv(input, tensor1, tensor2, *, value=1):
    return input + value * tensor1 / tensor2


UNARY_FUNCTIONS = {
    "neg": Neg, "abs": Abs, "exp": Exp, "exp2": Exp2, "expm1": Expm1, "log": Log, "log2": Log2,
    "log10": Log10, "log1p": Log1p, "sqrt": Sqrt, "rsqrt": Rsqrt, "reciprocal": Reciprocal,
    "sin": Sin, "cos": Cos, "tan": Tan, "asin": Asin, "acos": Acos, "atan": Atan,
    "sinh": Sinh, "cosh": Cosh, "tanh": Tanh, "asinh": Asinh, "acosh": Acosh, "atanh": Atanh,
    "erf": Erf, "erfinv": Erfinv, "floor": Floor, "ceil": Ceil, "trunc": Trunc,
    "sign": Sign,
}


def _make_unary_fn(name, cls):
    def fn(input, *, out=None):
        return cls.apply(input)

    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name}, as ``torch.{name}``."
    return fn


_g = globals()
for _name, _cls in UNARY_FUNCTIONS.items():
    _g[_name] = _make_unary_fn(_name, _cls)


def _no_bool(name, cls, exc, msg):
    def fn(input, *, out=None):
        if input.dtype is dt.bool_:
            raise exc(msg)
        return cls.apply(input)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name}, as ``torch.{name}``."
    return fn


neg = _no_bool("neg", Neg, RuntimeError,
               "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
               "to invert a mask, use the `~` or `logical_not()` operator instead.")
abs = _no_bool("abs", Abs, NotImplementedError, "\"abs_cpu\" not implemented for 'Bool'")
for _name in ("floor", "ceil", "trunc"):
    _g[_name] = _no_bool(_name, UNARY_FUNCTIONS[_name], NotImplementedError,
                         f"\"{_name}\" not implemented for 'Bool'")
negative = neg
absolute = abs
arcsin, arccos, arctan = _g["asin"], _g["acos"], _g["atan"]
arcsinh, arccosh, arctanh = _g["asinh"], _g["acosh"], _g["atanh"]
fix = _g["trunc"]
special_erf = _g["erf"]


def erfc(input):
    return 1 - Erf.apply(input)


def sgn(input):
    return Sign.apply(input)


def signbit(input):
    if not input.dtype.is_floating_point:
        return input < 0
    return (input < 0) | ((input == 0) & ((1 / input) < 0))


def logaddexp(input, other):
    m = maximum(input, other)
    m = where(m.isinf(), 0.0, m.detach()) if isinstance(m, Tensor) else m
    return m + ((input - m).exp() + (other - m).exp()).log()


def logit(input, eps=None):
    if not input.dtype.is_floating_point:
        input = input.to(dt.get_default_dtype())
    x = input if eps is None else input.clamp(eps, 1 - eps)
    return (x / (1 - x)).log()


def deg2rad(input):
    return input * (math.pi / 180.0)


def rad2deg(input):
    return input * (180.0 / math.pi)


def positive(input):
    return input


def inplace_binary(self, fn, other, op, **kw):
    """``self.op_(other)``: fast in-place write when nothing is recorded."""
    if (not grad_state.enabled or not (self._requires_grad or (isinstance(other, Tensor) and other._requires_grad))) \
            and op in _FAST_INPLACE and not kw:
        b = self._backend
        try:
            if isinstance(other, Tensor):
                if other.device is self.device and other.dtype is self.dtype and _broadcastable_into(other.shape, self.shape):
                    b.binary_inplace(_FAST_INPLACE[op], self._data, other._data)
                    self._vc[0] += 1
                    return self
            elif isinstance(other, (int, float)) and not isinstance(other, bool) and (
                self.dtype.is_floating_point or (isinstance(other, int) and op != "div_")
            ) and not (self.dtype is dt.bool_ or (op == "sub_" and self.dtype is dt.bool_)):
                if type(other) is int and self.dtype._category == 1:
                    other = wrap_int(other, self.dtype)
                b.binary_inplace(_FAST_INPLACE[op], self._data, other)
                self._vc[0] += 1
                return self
        except ValueError as exc:  # NumPy refuses to write into a broadcast (expand) view
            raise RuntimeError(
                f"{op}: unsupported operation: more than one element of the written-to tensor "
                "refers to a single memory location. Please clone() the tensor before performing "
                "the operation."
            ) from exc
    return inplace(self, lambda s: fn(s, other, **kw), op)


_FAST_INPLACE = {"add_": "add", "sub_": "sub", "mul_": "mul", "div_": "div"}


def _broadcastable_into(src, dst):
    if len(src) > len(dst):
        return False
    for s, d in zip(reversed(src), reversed(dst)):
        if s != d and s != 1:
            return False
    return True


__all__ = [
    _n for _n, _v in list(globals().items())
    if callable(_v) and not _n.startswith("_") and not isinstance(_v, type)
    and getattr(_v, "__module__", "") == __name__ and _n not in ("inplace_binary",)
]
