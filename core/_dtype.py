"""flambeau's dtypes and PyTorch's type-promotion rules.

dtypes are flambeau's own objects; each backend maps them to its native types.
Nothing here imports a backend library.
"""
from __future__ import annotations

import threading


class dtype:
    """A tensor element type, such as ``flambeau.float32``."""

    __slots__ = ("name", "itemsize", "is_floating_point", "is_signed", "_category", "_rank")

    def __init__(self, name, itemsize, category, rank, is_signed):
        self.name = name
        self.itemsize = itemsize
        self._category = category  # 0 bool, 1 integer, 2 floating
        self._rank = rank
        self.is_floating_point = category == 2
        self.is_signed = is_signed

    @property
    def is_complex(self):
        return False

    def to_real(self):
        return self

    def __repr__(self):
        return f"flambeau.{self.name}"

    def __reduce__(self):
        return self.name


bool_ = dtype("bool", 1, 0, 0, False)
uint8 = dtype("uint8", 1, 1, 1, False)
int8 = dtype("int8", 1, 1, 2, True)
int16 = dtype("int16", 2, 1, 3, True)
int32 = dtype("int32", 4, 1, 4, True)
int64 = dtype("int64", 8, 1, 5, True)
float16 = dtype("float16", 2, 2, 6, True)
float32 = dtype("float32", 4, 2, 7, True)
float64 = dtype("float64", 8, 2, 8, True)

all_dtypes = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)
_by_name = {d.name: d for d in all_dtypes}
_by_name.update(
    {
        "float": float32, "double": float64, "half": float16, "long": int64,
        "int": int32, "short": int16, "bool_": bool_,
    }
)


# PyTorch's ScalarType names, which its error messages and legacy tensor types use
_SCALAR_TYPE_NAMES = {
    "bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
    "int64": "Long", "float16": "Half", "float32": "Float", "float64": "Double",
}


def scalar_type_name(d: dtype) -> str:
    """PyTorch's name of ``d`` in messages: ``Float``, ``Double``, ``Long``, ``Bool``, ..."""
    return _SCALAR_TYPE_NAMES[d.name]


def _lookup(name: str) -> dtype:
    try:
        return _by_name[name]
    except KeyError:
        raise TypeError(
            f"unknown dtype {name!r}; flambeau supports {', '.join(d.name for d in all_dtypes)}"
        ) from None


# ---------------------------------------------------------------------------
# promotion: the lattice of torch.promote_types for the dtypes flambeau has
# ---------------------------------------------------------------------------

def _promote_pair(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a._category != b._category:
        hi, lo = (a, b) if a._category > b._category else (b, a)
        return hi  # bool < integer < floating: the higher category wins unchanged
    if a._category == 1:
        # uint8 with a signed type needs the next signed type that holds both
        if a is uint8 or b is uint8:
            other = b if a is uint8 else a
            return int16 if other is int8 else other
        return a if a._rank > b._rank else b
    return a if a._rank > b._rank else b


_promote_table = {(a, b): _promote_pair(a, b) for a in all_dtypes for b in all_dtypes}


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both ``a`` and ``b`` cast to safely (``torch.promote_types``)."""
    return _promote_table[(a, b)]


def _combine_categories(higher, lower):
    # PyTorch's rule: a lower-priority operand only matters when it is of a higher category
    if higher is None:
        return lower
    if lower is None or higher._category == 2:
        return higher
    if higher is bool_ or lower._category == 2:
        return _promote_table[(higher, lower)]
    return higher


_state = threading.local()


def get_default_dtype() -> dtype:
    """The floating dtype that Python floats and factory functions take (float32 at start)."""
    return getattr(_state, "default", float32)


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype (float16, float32 or float64)."""
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f"set_default_dtype only supports floating point dtypes, got {d!r}")
    _state.default = d
    _default_holder[0] = d


# module-level copy for the hot path (threads rarely change it)
_default_holder = [float32]


def scalar_dtype(value) -> dtype:
    """The dtype a Python scalar takes as a tensor on its own: bool, int64 or the default float."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int64
    if isinstance(value, float):
        return get_default_dtype()
    raise TypeError(f"expected a number, got {type(value).__name__}")


def result_type(*operands) -> dtype:
    """PyTorch's ``torch.result_type`` over tensors and Python scalars.

    Dimensioned tensors outrank zero-dim tensors, which outrank Python scalars, except that an
    operand of a higher category (bool < integer < floating) always lifts the result.
    """
    dim = zero = wrapped = None
    for op in operands:
        d = getattr(op, "dtype", None)
        if d is not None and isinstance(d, dtype):
            if op.ndim:
                dim = d if dim is None else _promote_table[(dim, d)]
            else:
                zero = d if zero is None else _promote_table[(zero, d)]
        else:
            if isinstance(op, bool):
                d = bool_
            elif isinstance(op, int):
                d = int64
            elif isinstance(op, float):
                d = get_default_dtype()
            else:
                raise TypeError(
                    f"unsupported operand of type {type(op).__name__}; expected a Tensor or a number"
                )
            wrapped = d if wrapped is None else _promote_table[(wrapped, d)]
    return _combine_categories(dim, _combine_categories(zero, wrapped))


def can_cast(from_: dtype, to: dtype) -> bool:
    """``torch.can_cast``: False only when the cast lowers the category (float to int, int to bool)."""
    return from_._category <= to._category


class finfo:
    """Machine limits of a floating dtype, as ``torch.finfo``."""

    _table = {
        "float16": (2 ** -10, 65504.0, 6.103515625e-05, 5.960464477539063e-08, 3, 0.001),
        "float32": (1.1920928955078125e-07, 3.4028234663852886e38, 1.1754943508222875e-38,
                    1.401298464324817e-45, 6, 1e-06),
        "float64": (2.220446049250313e-16, 1.7976931348623157e308, 2.2250738585072014e-308,
                    5e-324, 15, 1e-15),
    }

    def __init__(self, type=None):
        type = type or get_default_dtype()
        if not type.is_floating_point:
            raise TypeError(f"finfo expects a floating point dtype, got {type!r}")
        self.dtype = type.name
        self.bits = type.itemsize * 8
        self.eps, self.max, self.tiny, self.smallest_subnormal, self.precision, self.resolution = (
            self._table[type.name]
        )
        self.min = -self.max
        self.smallest_normal = self.tiny

    def __repr__(self):
        return (f"finfo(resolution={self.resolution}, min={self.min:e}, max={self.max:e}, "
                f"eps={self.eps:e}, smallest_normal={self.tiny:e}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype, as ``torch.iinfo``."""

    def __init__(self, type):
        if type._category == 2:
            raise TypeError(f"iinfo expects an integer dtype, got {type!r}")
        self.bits = type.itemsize * 8
        self.dtype = type.name
        if type is bool_:
            self.min, self.max = 0, 1
        elif type.is_signed:
            self.min, self.max = -(2 ** (self.bits - 1)), 2 ** (self.bits - 1) - 1
        else:
            self.min, self.max = 0, 2 ** self.bits - 1

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
