"""Conformance of the elementwise, reduction, scan, sort and matmul primitives, creation and
casts: each against a float64 NumPy reference, for every dtype the backend supports where the
op applies.

Each test takes the ``backend`` under test as its first argument, so a test can also be called
directly with any backend instance: ``test_unary(my_backend, "exp", flambeau.float32)``.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from flambeau import _dtype as dt
from flambeau.backend import BINARY_OPS, REDUCE_OPS, UNARY_OPS

from .._reference import (
    ALL,
    FLOATS,
    INTS,
    NUMERIC,
    check_array,
    check_exact,
    get,
    np_dtype,
    put,
    require,
    rng_for,
    sample,
    where_,
    wrap,
)
from ._fixtures import over_dtypes

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _erfinv(y):
    """erf's inverse in float64 by bisection (NaN outside [-1, 1], infinite at the ends)."""
    y = np.asarray(y, dtype=np.float64)
    lo, hi = np.full(y.shape, -6.0), np.full(y.shape, 6.0)
    for _ in range(64):
        mid = (lo + hi) / 2
        below = _erf(mid) < y
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    out = (lo + hi) / 2
    out = np.where(y == 1, np.inf, np.where(y == -1, -np.inf, out))
    return np.where(np.isnan(y) | (np.abs(y) > 1), np.nan, out)


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


# op -> (float64 reference, dtypes, (low, high) of the sample, avoid values near zero)
_ROUND = {"floor": np.floor, "ceil": np.ceil, "round": np.rint, "trunc": np.trunc}
UNARY = {
    "neg": (np.negative, NUMERIC, (-3, 3)), "abs": (np.abs, NUMERIC, (-3, 3)),
    "sign": (np.sign, NUMERIC, (-3, 3)), "square": (np.square, NUMERIC, (-3, 3)),
    "exp": (np.exp, FLOATS, (-3, 3)), "exp2": (np.exp2, FLOATS, (-3, 3)),
    "expm1": (np.expm1, FLOATS, (-3, 3)), "log": (np.log, FLOATS, (0.05, 5)),
    "log2": (np.log2, FLOATS, (0.05, 5)), "log10": (np.log10, FLOATS, (0.05, 5)),
    "log1p": (np.log1p, FLOATS, (-0.9, 3)), "sqrt": (np.sqrt, FLOATS, (0, 5)),
    "rsqrt": (lambda x: 1 / np.sqrt(x), FLOATS, (0.05, 5)),
    "reciprocal": (np.reciprocal, FLOATS, (-3, 3)),
    "sin": (np.sin, FLOATS, (-3, 3)), "cos": (np.cos, FLOATS, (-3, 3)),
    "tan": (np.tan, FLOATS, (-1.2, 1.2)), "asin": (np.arcsin, FLOATS, (-0.95, 0.95)),
    "acos": (np.arccos, FLOATS, (-0.95, 0.95)), "atan": (np.arctan, FLOATS, (-3, 3)),
    "sinh": (np.sinh, FLOATS, (-3, 3)), "cosh": (np.cosh, FLOATS, (-3, 3)),
    "tanh": (np.tanh, FLOATS, (-3, 3)), "asinh": (np.arcsinh, FLOATS, (-3, 3)),
    "acosh": (np.arccosh, FLOATS, (1.05, 4)), "atanh": (np.arctanh, FLOATS, (-0.9, 0.9)),
    "sigmoid": (_sigmoid, FLOATS, (-6, 6)), "erf": (_erf, FLOATS, (-2.5, 2.5)),
    "erfinv": (_erfinv, FLOATS, (-0.95, 0.95)),
    **{k: (f, NUMERIC, (-3, 3)) for k, f in _ROUND.items()},
    "isnan": (np.isnan, FLOATS, (-3, 3)), "isinf": (np.isinf, FLOATS, (-3, 3)),
    "isfinite": (np.isfinite, FLOATS, (-3, 3)),
    "logical_not": (np.logical_not, ALL, (-2, 2)), "bitwise_not": (np.invert, INTS, (-9, 9)),
}
_PREDICATES = {"isnan", "isinf", "isfinite", "logical_not"}
assert set(UNARY) == set(UNARY_OPS), set(UNARY) ^ set(UNARY_OPS)

_UNARY_CASES = [(op, d) for op in sorted(UNARY) for d in UNARY[op][1]]


def _unary_input(op, dtype, shape=(3, 4)):
    _, _, (low, high) = UNARY[op]
    x = sample(rng_for("unary", op, dtype.name), dtype, shape, low, high)
    if op == "reciprocal":  # keep away from the pole at 0
        x = np.where(np.abs(x) < 0.25, np.asarray(0.5, x.dtype), x)
    if op == "round" and dtype.is_floating_point:  # ties go to the even neighbour
        x.flat[:6] = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5]
    return x


@pytest.mark.parametrize("op,dtype", _UNARY_CASES, ids=[f"{o}-{d.name}" for o, d in _UNARY_CASES])
def test_unary(backend, op, dtype):
    """``unary(op, x)`` against NumPy in float64; predicates give bool, others keep the dtype."""
    require(backend, dtype)
    x = _unary_input(op, dtype)
    xa = put(backend, x, dtype)
    out = backend.unary(op, xa)
    ref_fn = UNARY[op][0]
    what = f"unary({op!r})"
    if op in _PREDICATES:
        check_array(backend, out, ref_fn(x), dt.bool_, what, inputs=[x])
    elif dtype.is_floating_point:
        with np.errstate(all="ignore"):
            ref = ref_fn(x.astype(np.float64))
        check_array(backend, out, ref, dtype, what, inputs=[x])
    else:
        check_array(backend, out, wrap(ref_fn(x.astype(np.int64)), dtype), dtype, what, inputs=[x])
    check_exact(backend, xa, x, dtype, f"{what} must not modify its input")


_SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, 30.0, -30.0,
            1e4, -1e4]
_SPECIAL_SKIP = {"sign", "bitwise_not"}
_TRIG = {"sin", "cos", "tan"}


@pytest.mark.parametrize("op", sorted(set(UNARY) - _SPECIAL_SKIP))
@over_dtypes(FLOATS)
def test_unary_special_values(backend, op, dtype):
    """NaN, infinities, signed zeros, halves and overflowing inputs follow IEEE and NumPy:
    ``exp(inf) = inf``, ``log(0) = -inf``, ``sqrt(-1) = nan``, ``sigmoid(-1e4) = 0``, no NaN
    from overflow in ``sigmoid``/``tanh``, ``round`` halves to even."""
    require(backend, dtype)
    vals = [v for v in _SPECIAL if not (op in _TRIG and abs(v) > 1)]
    x = np.array(vals, dtype=np_dtype(dtype))
    out = backend.unary(op, put(backend, x, dtype))
    ref_fn = UNARY[op][0]
    with np.errstate(all="ignore"):
        ref = ref_fn(x.astype(np.float64))
    if op in _PREDICATES:
        check_array(backend, out, ref, dt.bool_, f"unary({op!r})", inputs=[x])
        return
    # the float64 reference rounded to the dtype, so overflow to inf is expected where it occurs
    with np.errstate(all="ignore"):
        ref = ref.astype(np_dtype(dtype)).astype(np.float64)
    check_array(backend, out, ref, dtype, f"unary({op!r}) on special values", inputs=[x], tol=2)


# op -> (reference on int64/float64, dtypes, (low, high) of a, (low, high) of b, scalar b)
def _floordiv(a, b):
    return np.floor_divide(a, b)


BINARY = {
    "add": (np.add, NUMERIC, (-9, 9), (-9, 9), 2), "sub": (np.subtract, NUMERIC, (-9, 9), (-9, 9), 3),
    "mul": (np.multiply, NUMERIC, (-9, 9), (-9, 9), 3), "div": (np.true_divide, FLOATS, (-3, 3), (0.5, 3), 2.5),
    "floordiv": (_floordiv, NUMERIC, (-9, 9), (1, 4), 2), "remainder": (np.remainder, NUMERIC, (-9, 9), (1, 4), 3),
    "fmod": (np.fmod, NUMERIC, (-9, 9), (1, 4), 3), "pow": (np.power, NUMERIC, (0.2, 3), (-2, 2), 2),
    "maximum": (np.maximum, NUMERIC, (-9, 9), (-9, 9), 1), "minimum": (np.minimum, NUMERIC, (-9, 9), (-9, 9), 1),
    "fmax": (np.fmax, FLOATS, (-3, 3), (-3, 3), 0.5), "fmin": (np.fmin, FLOATS, (-3, 3), (-3, 3), 0.5),
    "atan2": (np.arctan2, FLOATS, (-3, 3), (-3, 3), -1.5),
    **{op: (f, ALL, (-2, 2), (-2, 2), 1) for op, f in [
        ("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
        ("gt", np.greater), ("ge", np.greater_equal), ("logical_and", np.logical_and),
        ("logical_or", np.logical_or), ("logical_xor", np.logical_xor)]},
    **{op: (f, (dt.bool_,) + INTS, (-9, 9), (-9, 9), 5) for op, f in [
        ("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or),
        ("bitwise_xor", np.bitwise_xor)]},
    "bitwise_left_shift": (np.left_shift, INTS, (-9, 9), (0, 3), 2),
    "bitwise_right_shift": (np.right_shift, INTS, (-9, 9), (0, 3), 1),
}
_BOOL_RESULT = {"eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"}
assert set(BINARY) == set(BINARY_OPS), set(BINARY) ^ set(BINARY_OPS)

_BINARY_CASES = [(op, d) for op in sorted(BINARY) for d in BINARY[op][1]]


def _binary_inputs(op, dtype, shape_a=(3, 1, 4), shape_b=(2, 4)):
    _, _, (alo, ahi), (blo, bhi), _ = BINARY[op]
    rng = rng_for("binary", op, dtype.name)
    if op == "pow" and not dtype.is_floating_point:
        alo, ahi, blo, bhi = -3, 3, 0, 3  # integer powers: no negative exponents
    a = sample(rng, dtype, shape_a, alo, ahi)
    b = sample(rng, dtype, shape_b, blo, bhi)
    if dtype is dt.bool_ or op in _BOOL_RESULT:
        b.flat[: min(3, b.size)] = a.flat[: min(3, b.size)]  # equal pairs for the comparisons
    return a, b


def _binary_ref(op, a, b, dtype):
    fn = BINARY[op][0]
    if op in _BOOL_RESULT:
        return fn(a, b), dt.bool_
    if dtype.is_floating_point:
        with np.errstate(all="ignore"):
            return fn(np.asarray(a, np.float64), np.asarray(b, np.float64)), dtype
    if dtype is dt.bool_:
        return fn(a, b), dtype
    return wrap(fn(np.asarray(a, np.int64), np.asarray(b, np.int64)), dtype), dtype


def _scale(op, a, b):
    """What an op's rounding error is relative to (remainders lose |a| / |b| digits)."""
    a64, b64 = np.abs(np.asarray(a, np.float64)), np.abs(np.asarray(b, np.float64))
    if op in ("remainder", "fmod", "floordiv"):
        return a64 + b64
    if op in ("add", "sub"):
        return a64 + b64
    return None


@pytest.mark.parametrize("op,dtype", _BINARY_CASES, ids=[f"{o}-{d.name}" for o, d in _BINARY_CASES])
def test_binary(backend, op, dtype):
    """``binary(op, a, b)`` with broadcasting (3,1,4) x (2,4), and with ``b`` a Python scalar.

    ``floordiv``/``remainder`` round toward -inf (Python), ``fmod`` toward zero (C); integer
    arithmetic wraps around; comparisons and ``logical_*`` give bool.
    """
    require(backend, dtype)
    a, b = _binary_inputs(op, dtype)
    aa, ba = put(backend, a, dtype), put(backend, b, dtype)
    what = f"binary({op!r}) of shapes {a.shape} and {b.shape}"
    ref, out_dtype = _binary_ref(op, a, b, dtype)
    if op == "floordiv" and dtype.is_floating_point:
        # floor(a / b) may land on the other side of an integer when a / b is rounded
        ref = np.floor(np.asarray(a, np.float64) / np.asarray(b, np.float64))
    check_array(backend, backend.binary(op, aa, ba), ref, out_dtype, what, inputs=[a, b],
                scale=_scale(op, a, b))
    check_exact(backend, aa, a, dtype, f"{what} must not modify its input")
    scalar = BINARY[op][4]
    if dtype is dt.bool_:
        scalar = True
    elif dtype.is_floating_point:
        scalar = float(scalar)
    ref, out_dtype = _binary_ref(op, a, np.asarray(scalar, np_dtype(dtype)), dtype)
    check_array(backend, backend.binary(op, aa, scalar), ref, out_dtype,
                f"binary({op!r}) of shape {a.shape} and Python scalar {scalar!r}", inputs=[a],
                scale=_scale(op, a, np.asarray(scalar, np.float64)))


_PROPERTY_OPS = ("add", "sub", "mul", "maximum", "minimum", "lt", "eq", "logical_and")


@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_binary_broadcasting_property(backend, data):
    """Any two mutually broadcastable shapes (0-d included) give NumPy's broadcast result, for
    any supported dtype and operand order."""
    dtype = data.draw(st.sampled_from([d for d in ALL if d in backend.supported_dtypes]), "dtype")
    op = data.draw(st.sampled_from([o for o in _PROPERTY_OPS if dtype in BINARY[o][1]]), "op")
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3))
    rng = rng_for("property", data.draw(st.integers(0, 2**16), "seed"))
    a, b = (sample(rng, dtype, s, -9, 9) for s in shapes.input_shapes)
    ref, out_dtype = _binary_ref(op, a, b, dtype)
    check_array(backend, backend.binary(op, put(backend, a, dtype), put(backend, b, dtype)),
                ref, out_dtype, f"binary({op!r}) of shapes {a.shape} and {b.shape}",
                inputs=[a, b], scale=_scale(op, a, b))


@over_dtypes(FLOATS)
def test_binary_nan_semantics(backend, dtype):
    """``maximum``/``minimum`` propagate NaN, ``fmax``/``fmin`` ignore it; comparisons with NaN
    are false except ``ne``; ``remainder`` and ``fmod`` follow their sign rules on floats."""
    require(backend, dtype)
    a = np.array([np.nan, 1.0, np.nan, -np.inf, 2.0, -5.5, 5.5, -5.5], np_dtype(dtype))
    b = np.array([1.0, np.nan, np.nan, 0.0, np.inf, 2.0, -2.0, -2.0], np_dtype(dtype))
    aa, ba = put(backend, a, dtype), put(backend, b, dtype)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    with np.errstate(all="ignore"):
        for op in ("maximum", "minimum", "fmax", "fmin", "eq", "ne", "lt", "le", "gt", "ge",
                   "add", "mul"):
            ref, out_dtype = _binary_ref(op, a, b, dtype)
            check_array(backend, backend.binary(op, aa, ba), ref, out_dtype,
                        f"binary({op!r}) with NaN", inputs=[a, b])
        fin = slice(5, 8)
        for op, fn in (("remainder", np.remainder), ("fmod", np.fmod),
                       ("floordiv", np.floor_divide)):
            out = backend.binary(op, put(backend, a[fin], dtype), put(backend, b[fin], dtype))
            check_array(backend, out, fn(a64[fin], b64[fin]), dtype,
                        f"binary({op!r}) sign rule", inputs=[a[fin], b[fin]])


_INPLACE_OPS = ("add", "sub", "mul", "div", "maximum", "minimum")


@pytest.mark.parametrize("op", _INPLACE_OPS)
@over_dtypes(NUMERIC)
def test_binary_inplace(backend, op, dtype):
    """``binary_inplace`` writes into ``a`` and returns it; ``b`` broadcasts, may be a scalar or
    of another dtype (the result is computed, then cast to ``a``'s dtype)."""
    require(backend, dtype)
    if op == "div" and not dtype.is_floating_point:
        pytest.skip("core sends true division of integers to a floating dtype")
    a, b = _binary_inputs(op if op != "div" else "div", dtype, (2, 3, 4), (3, 4))
    aa = put(backend, a, dtype)
    ret = backend.binary_inplace(op, aa, put(backend, b, dtype))
    ref, _ = _binary_ref(op, a, b, dtype)
    what = f"binary_inplace({op!r}) of shapes {a.shape} and {b.shape}"
    assert ret is aa, f"{where_(backend, what, dtype)}: must return its first argument"
    check_array(backend, aa, ref, dtype, what, inputs=[a, b], scale=_scale(op, a, b))
    # b of another dtype: the op is computed, then cast to a's dtype
    other = dt.float64 if dtype is not dt.float64 else dt.float32
    if other not in backend.supported_dtypes or op == "div" and not dtype.is_floating_point:
        return
    bo = np.array([0.5, -1.75, 2.25, 1.5], np_dtype(other))
    aa = put(backend, a, dtype)
    backend.binary_inplace(op, aa, put(backend, bo, other))
    with np.errstate(all="ignore"):
        ref = BINARY[op][0](a.astype(np.float64), bo.astype(np.float64))
    if not dtype.is_floating_point:
        ref = wrap(np.trunc(ref), dtype)
    check_array(backend, aa, ref, dtype, f"{what[:-1]} with b of dtype {other.name})",
                inputs=[a, bo], scale=_scale(op, a, bo), tol=2)


@over_dtypes(ALL)
def test_where(backend, dtype):
    """``where(cond, a, b)`` broadcasts all three and keeps the dtype of ``a``/``b``; either of
    ``a``/``b`` may be a Python scalar."""
    require(backend, dtype)
    rng = rng_for("where", dtype.name)
    cond = rng.random((2, 1, 4)) < 0.5
    a, b = sample(rng, dtype, (3, 4)), sample(rng, dtype, (1, 4))
    ca, aa, ba = put(backend, cond), put(backend, a, dtype), put(backend, b, dtype)
    check_exact(backend, backend.where(ca, aa, ba), np.where(cond, a, b), dtype,
                "where(cond (2,1,4), a (3,4), b (1,4))", inputs=[cond, a, b])
    s = True if dtype is dt.bool_ else (2.5 if dtype.is_floating_point else 7)
    ref = np.where(cond, a, np.asarray(s, np_dtype(dtype)))
    check_exact(backend, backend.where(ca, aa, s), ref, dtype, f"where(cond, a, {s!r})",
                inputs=[cond, a])
    ref = np.where(cond, np.asarray(s, np_dtype(dtype)), b)
    check_exact(backend, backend.where(ca, s, ba), ref, dtype, f"where(cond, {s!r}, b)",
                inputs=[cond, b])


# =============================================================================
# reductions and scans
# =============================================================================

_REDUCE_DTYPES = {"sum": ALL, "prod": ALL, "max": ALL, "min": ALL, "all": ALL, "any": ALL,
                  "mean": FLOATS}
assert set(_REDUCE_DTYPES) == set(REDUCE_OPS)
_REDUCE_CASES = [(op, d) for op in sorted(_REDUCE_DTYPES) for d in _REDUCE_DTYPES[op]]
_AXES = [(), (0,), (1,), (2,), (0, 2), (0, 1, 2)]


def _reduce_result_dtype(op, dtype):
    if op in ("all", "any"):
        return dt.bool_
    if op in ("sum", "prod") and not dtype.is_floating_point:
        return dt.int64
    return dtype


@pytest.mark.parametrize("op,dtype", _REDUCE_CASES, ids=[f"{o}-{d.name}" for o, d in _REDUCE_CASES])
def test_reduce(backend, op, dtype):
    """``reduce(op, x, axes, keepdims)`` over every axes combination of a (3, 4, 5) array.

    ``sum``/``prod`` of bool and integers give int64, ``all``/``any`` bool, the others keep the
    dtype; ``axes=()`` reduces nothing.
    """
    require(backend, dtype)
    low, high = (0.5, 1.5) if op == "prod" and dtype.is_floating_point else (-2, 2)
    x = sample(rng_for("reduce", op, dtype.name), dtype, (3, 4, 5), low, high)
    if dtype.is_floating_point and op in ("all", "any"):
        x[0] = 0.0  # whole slices of zeros
    xa = put(backend, x, dtype)
    out_dtype = _reduce_result_dtype(op, dtype)
    fn = {"sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min, "all": np.all,
          "any": np.any, "mean": np.mean}[op]
    host = x.astype(np.float64) if dtype.is_floating_point else (
        x if dtype is dt.bool_ or op in ("all", "any", "max", "min") else x.astype(np.int64))
    for axes in _AXES:
        for keepdims in (False, True):
            ref = fn(host, axis=axes, keepdims=keepdims)
            if op in ("max", "min") and dtype is not dt.bool_:
                ref = ref.astype(np_dtype(dtype))
            scale = None
            if op in ("sum", "mean", "prod") and dtype.is_floating_point:
                scale = fn(np.abs(host), axis=axes, keepdims=keepdims)
            check_array(backend, backend.reduce(op, xa, axes, keepdims), ref, out_dtype,
                        f"reduce({op!r}, axes={axes}, keepdims={keepdims}) of shape {x.shape}",
                        inputs=[x], scale=scale)
    check_exact(backend, xa, x, dtype, f"reduce({op!r}) must not modify its input")


@over_dtypes(ALL)
def test_reduce_empty_and_nan(backend, dtype):
    """Reducing an empty axis gives the identity (0, 1, True, False); ``max``/``min``/``sum``
    propagate NaN."""
    require(backend, dtype)
    x = put(backend, np.zeros((0, 3), np_dtype(dtype)), dtype)
    for op, value in (("sum", 0), ("prod", 1), ("all", True), ("any", False)):
        out_dtype = _reduce_result_dtype(op, dtype)
        check_exact(backend, backend.reduce(op, x, (0,), False),
                    np.full(3, value, np_dtype(out_dtype)), out_dtype,
                    f"reduce({op!r}) over an empty axis")
    if dtype.is_floating_point:
        h = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]], np_dtype(dtype))
        xa = put(backend, h, dtype)
        for op, fn in (("max", np.max), ("min", np.min), ("sum", np.sum)):
            check_array(backend, backend.reduce(op, xa, (1,), False), fn(h.astype(np.float64), 1),
                        dtype, f"reduce({op!r}) with NaN", inputs=[h])


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@over_dtypes(NUMERIC)
def test_arg_reduce(backend, op, dtype):
    """``arg_reduce`` returns int64 indices of the *first* extreme along an axis or over the
    flattened array (``axis=None``); NaN counts as the extreme for both ``argmax`` and
    ``argmin``; ``keepdims`` keeps size-1 axes."""
    require(backend, dtype)
    x = sample(rng_for(op, dtype.name), dtype, (3, 4, 5), 0, 3)  # few values: many ties
    if dtype.is_floating_point:
        x[1, 2, 3] = x[2, 0, 1] = x[2, 0, 4] = np.nan
    xa = put(backend, x, dtype)
    fn = np.argmax if op == "argmax" else np.argmin
    for axis in (None, 0, 1, 2):
        for keepdims in (False, True):
            ref = fn(x, axis=axis)
            if keepdims:
                ref = np.reshape(ref, (1,) * x.ndim) if axis is None else np.expand_dims(ref, axis)
            check_exact(backend, backend.arg_reduce(op, xa, axis, keepdims), ref.astype(np.int64),
                        dt.int64, f"arg_reduce({op!r}, axis={axis}, keepdims={keepdims})",
                        inputs=[x])


@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
@over_dtypes(ALL)
def test_cumulative(backend, op, dtype):
    """Inclusive ``cumsum``/``cumprod`` along each axis; bool and integers give int64."""
    require(backend, dtype)
    low, high = (0.5, 1.5) if op == "cumprod" and dtype.is_floating_point else (-2, 2)
    x = sample(rng_for(op, dtype.name), dtype, (3, 4, 5), low, high)
    xa = put(backend, x, dtype)
    out_dtype = dtype if dtype.is_floating_point else dt.int64
    fn = np.cumsum if op == "cumsum" else np.cumprod
    host = x.astype(np.float64 if dtype.is_floating_point else np.int64)
    for axis in range(3):
        scale = fn(np.abs(host), axis=axis) if dtype.is_floating_point else None
        check_array(backend, backend.cumulative(op, xa, axis), fn(host, axis=axis), out_dtype,
                    f"cumulative({op!r}, axis={axis})", inputs=[x], scale=scale)


def _stable_argsort(x, axis, descending):
    """Reference indices of a stable sort where NaN is the largest value."""
    x64 = np.moveaxis(np.asarray(x, np.float64), axis, -1)
    nan = np.isnan(x64)
    out = np.empty(x64.shape, np.int64)
    for idx in np.ndindex(*x64.shape[:-1]):
        row, rnan = x64[idx], nan[idx]
        if descending:  # NaN first, then larger values; ties keep their order
            out[idx] = np.lexsort((-np.where(rnan, 0, row), ~rnan))
        else:
            out[idx] = np.lexsort((np.where(rnan, 0, row), rnan))
    return np.moveaxis(out, -1, axis)


@over_dtypes(NUMERIC)
def test_sort(backend, dtype):
    """``sort`` gives ``(values, int64 indices)`` ascending or descending along an axis; NaN is
    the largest value; ``stable=True`` keeps equal elements in their order (also descending);
    without it the indices must still point at the values."""
    require(backend, dtype)
    x = sample(rng_for("sort", dtype.name), dtype, (3, 4, 9), 0, 4)  # many ties
    if dtype.is_floating_point:
        x[0, 0, 2] = x[0, 0, 5] = x[1, 2, 0] = np.nan
        x[2, 1, 3] = np.inf
        x[2, 1, 4] = -np.inf
    xa = put(backend, x, dtype)
    for axis in (0, 2):
        for descending in (False, True):
            for stable in (False, True):
                what = f"sort(axis={axis}, descending={descending}, stable={stable})"
                values, indices = backend.sort(xa, axis, descending, stable)
                ref_idx = _stable_argsort(x, axis, descending)
                ref_vals = np.take_along_axis(x, ref_idx, axis)
                check_exact(backend, values, ref_vals, dtype, what + " values", inputs=[x])
                if stable:
                    check_exact(backend, indices, ref_idx, dt.int64, what + " indices", inputs=[x])
                    continue
                assert backend.dtype_of(indices) is dt.int64, f"{where_(backend, what)}: indices dtype"
                idx = get(backend, indices)
                assert np.array_equal(np.sort(idx, axis), np.broadcast_to(
                    np.expand_dims(np.arange(x.shape[axis]), tuple(i for i in range(3) if i != axis)),
                    x.shape)), f"{where_(backend, what, dtype)}: indices are not a permutation"
                got = np.take_along_axis(x, idx, axis)
                assert np.array_equal(got, ref_vals, equal_nan=dtype.is_floating_point), (
                    f"{where_(backend, what, dtype)}: x[indices] differs from the sorted values"
                )
    check_exact(backend, xa, x, dtype, "sort must not modify its input")


# =============================================================================
# matmul
# =============================================================================

_MATMUL_SHAPES = [
    ((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
    ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)), ((3, 0), (0, 2)),
]


@over_dtypes(NUMERIC)
def test_matmul(backend, dtype):
    """``matmul`` with NumPy's semantics: batch dims broadcast; a 1-D left operand is a row,
    a 1-D right operand a column, and the added axis is dropped (1-D @ 1-D is 0-d)."""
    require(backend, dtype)
    rng = rng_for("matmul", dtype.name)
    for sa, sb in _MATMUL_SHAPES:
        a, b = sample(rng, dtype, sa, -3, 3), sample(rng, dtype, sb, -3, 3)
        host = np.float64 if dtype.is_floating_point else np.int64
        ref = np.matmul(a.astype(host), b.astype(host))
        scale = np.matmul(np.abs(a.astype(np.float64)), np.abs(b.astype(np.float64)))
        check_array(backend, backend.matmul(put(backend, a, dtype), put(backend, b, dtype)),
                    wrap(ref, dtype), dtype, f"matmul of shapes {sa} and {sb}", inputs=[a, b],
                    scale=scale, tol=2)


# =============================================================================
# creation, host transfer and casts
# =============================================================================

@over_dtypes(ALL)
def test_dtype_mapping(backend, dtype):
    """A supported dtype has a native dtype; arrays round-trip through the host with their
    dtype and values; ``asarray`` copies; an unsupported dtype raises TypeError."""
    if dtype not in backend.supported_dtypes:
        with pytest.raises(TypeError):
            backend.native_dtype(dtype)
        return
    backend.native_dtype(dtype)
    host = sample(rng_for("mapping", dtype.name), dtype, (2, 3))
    x = backend.asarray(host, dtype)
    assert backend.dtype_of(x) is dtype, f"{where_(backend, 'dtype_of(asarray(...))', dtype)}"
    assert tuple(x.shape) == (2, 3) and x.ndim == 2, f"{where_(backend, 'asarray shape', dtype)}"
    back = backend.to_host(x)
    assert isinstance(back, np.ndarray) and back.dtype == np_dtype(dtype), (
        f"{where_(backend, 'to_host', dtype)}: gave {type(back).__name__} of "
        f"{getattr(back, 'dtype', None)}, expected numpy.ndarray of {np_dtype(dtype)}"
    )
    check_exact(backend, x, host, dtype, "asarray(host array) round trip")
    host_copy = host.copy()
    host[...] = host[0, 0]
    check_exact(backend, x, host_copy, dtype, "asarray must copy its input")
    nested = host_copy.tolist()
    check_exact(backend, backend.asarray(nested, dtype), host_copy, dtype, "asarray(nested lists)")
    scalar = host_copy.flat[0].item()
    check_exact(backend, backend.asarray(scalar, dtype), np.asarray(scalar, np_dtype(dtype)),
                dtype, "asarray(Python scalar) is 0-d")


@over_dtypes(ALL)
def test_creation(backend, dtype):
    """``empty``/``full``/``arange``/``copy`` give the asked shape, dtype and values; ``full``
    casts its value (floats into integers truncate); ``copy`` shares no memory."""
    require(backend, dtype)
    nd = np_dtype(dtype)
    for shape in [(), (0,), (2, 3), (1, 0, 2)]:
        x = backend.empty(shape, dtype)
        assert tuple(x.shape) == shape and backend.dtype_of(x) is dtype, (
            f"{where_(backend, f'empty({shape})', dtype)}: got shape {x.shape}, "
            f"dtype {backend.dtype_of(x)!r}"
        )
    values = [0, 1, True] + ([-2] if dtype.is_signed else []) + \
        ([2.5, -0.0] if dtype.is_floating_point else []) + ([2.7, -2.7] if dtype.is_signed and not dtype.is_floating_point else [])
    for v in values:
        ref = np.full((2, 3), np.trunc(v) if isinstance(v, float) and not dtype.is_floating_point else v, nd)
        check_exact(backend, backend.full((2, 3), v, dtype), ref, dtype, f"full((2, 3), {v!r})")
    if dtype is not dt.bool_:
        ranges = [(0, 5, 1), (-3, 4, 2)] + ([(5, 0, -2)] if dtype.is_signed else [])
        if dtype.is_floating_point:
            ranges += [(0.0, 1.0, 0.25), (1.0, -1.0, -0.5)]
        for start, stop, step in ranges:
            if not dtype.is_signed and start < 0:
                continue
            check_array(backend, backend.arange(start, stop, step, dtype),
                        np.arange(start, stop, step).astype(nd), dtype,
                        f"arange({start}, {stop}, {step})")
    host = sample(rng_for("copy", dtype.name), dtype, (2, 3, 4))
    x = backend.asarray(host, dtype)
    for src, ref in ((x, host), (backend.permute(x, (2, 0, 1)), host.transpose(2, 0, 1))):
        c = backend.copy(src)
        check_exact(backend, c, ref, dtype, "copy")
        assert backend.is_contiguous(c), f"{where_(backend, 'copy', dtype)}: not contiguous"
        backend.setitem(c, (Ellipsis,), backend.full((), host.flat[1].item(), dtype))
        check_exact(backend, src, ref, dtype, "writing into a copy changed the original")


_CAST_VALUES = {
    "float": [-2.7, -1.0, -0.5, -0.0, 0.0, 0.3, 0.5, 1.9, 3.0, 100.25],
    "int": [-100, -5, -1, 0, 1, 7, 100],
    "bool": [True, False, True],
}


@over_dtypes(ALL)
def test_astype(backend, dtype):
    """``astype`` from ``dtype`` to every supported dtype: floats to integers truncate toward
    zero, anything to bool is ``!= 0`` (NaN is true), bool to numbers is 0/1, integers narrow
    by wrapping around."""
    require(backend, dtype)
    kind = "bool" if dtype is dt.bool_ else ("float" if dtype.is_floating_point else "int")
    for target in backend.supported_dtypes:
        vals = list(_CAST_VALUES[kind])
        if kind == "int" and not dtype.is_signed:
            vals = [v % 256 for v in vals]
        if kind == "float" and not target.is_floating_point and target is not dt.bool_:
            if not target.is_signed:  # negative floats to unsigned integers are undefined in C
                vals = [v for v in vals if v >= 0]
            vals = [v for v in vals if abs(v) < 127]
        if kind == "float" and target is dt.bool_:
            vals.append(float("nan"))
        host = np.array(vals, np.float64 if kind == "float" else None).astype(np_dtype(dtype))
        with np.errstate(all="ignore"):
            ref = host.astype(np_dtype(target))
        out = backend.astype(put(backend, host, dtype), target)
        check_exact(backend, out, ref, target, f"astype({dtype.name} -> {target.name})",
                    inputs=[host])
