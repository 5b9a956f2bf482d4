"""Tensor ops against float64 NumPy references; gradients by central differences.

Every op is a row of a table: the table's test checks its values (from float32 and float64
inputs), dtype and shape against NumPy, and its gradient in float64 with
``flambeau.autograd.gradcheck``. Tensors are created on the default device (``--device``).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import assert_close, to_numpy

import flambeau
from flambeau.autograd import gradcheck, gradgradcheck

F32, F64 = flambeau.float32, flambeau.float64


def arr(*shape, lo=-2.0, hi=2.0, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(dtype)


def away(*shape, lo=0.2, hi=2.0, seed=0):
    """Values of random sign with |x| in [lo, hi] (away from kinks at 0)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(lo, hi, shape) * rng.choice([-1.0, 1.0], shape)


def off_int(*shape, seed=0):
    """Values at least 0.2 from any integer or half-integer (away from rounding jumps)."""
    rng = np.random.default_rng(seed)
    return rng.integers(-3, 3, shape) + rng.choice([0.2, 0.3, 0.7, 0.8], shape)


def t64(a, requires_grad=True):
    return flambeau.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


_erf = np.vectorize(math.erf)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# =============================================================================
# unary elementwise: name, NumPy reference, input generator
# =============================================================================

UNARY = [
    ("neg", np.negative, arr), ("abs", np.abs, away), ("sign", np.sign, away),
    ("sgn", np.sign, away),
    ("reciprocal", np.reciprocal, away), ("exp", np.exp, arr), ("exp2", np.exp2, arr),
    ("expm1", np.expm1, arr),
    ("log", np.log, lambda *s: arr(*s, lo=0.1, hi=3)), ("log2", np.log2, lambda *s: arr(*s, lo=0.1, hi=3)),
    ("log10", np.log10, lambda *s: arr(*s, lo=0.1, hi=3)),
    ("log1p", np.log1p, lambda *s: arr(*s, lo=-0.5, hi=3)),
    ("sqrt", np.sqrt, lambda *s: arr(*s, lo=0.1, hi=3)),
    ("rsqrt", lambda x: 1 / np.sqrt(x), lambda *s: arr(*s, lo=0.1, hi=3)),
    ("square", np.square, arr), ("sin", np.sin, arr), ("cos", np.cos, arr),
    ("tan", np.tan, lambda *s: arr(*s, lo=-1.2, hi=1.2)),
    ("asin", np.arcsin, lambda *s: arr(*s, lo=-0.9, hi=0.9)),
    ("acos", np.arccos, lambda *s: arr(*s, lo=-0.9, hi=0.9)),
    ("atan", np.arctan, arr), ("sinh", np.sinh, arr), ("cosh", np.cosh, arr), ("tanh", np.tanh, arr),
    ("asinh", np.arcsinh, arr), ("acosh", np.arccosh, lambda *s: arr(*s, lo=1.1, hi=3)),
    ("atanh", np.arctanh, lambda *s: arr(*s, lo=-0.9, hi=0.9)),
    ("sigmoid", _sigmoid, arr), ("erf", _erf, arr), ("erfc", lambda x: 1 - _erf(x), arr),
    ("floor", np.floor, off_int), ("ceil", np.ceil, off_int), ("round", np.round, off_int),
    ("trunc", np.trunc, off_int), ("frac", lambda x: x - np.trunc(x), off_int),
    ("deg2rad", np.deg2rad, arr), ("rad2deg", np.rad2deg, arr),
    ("logit", lambda x: np.log(x / (1 - x)), lambda *s: arr(*s, lo=0.1, hi=0.9)),
    ("nan_to_num", lambda x: x, arr), ("positive", lambda x: x, arr),
]


@pytest.mark.parametrize("name,ref,gen", UNARY, ids=[u[0] for u in UNARY])
def test_unary_values_and_gradient(name, ref, gen):
    x = gen(3, 4)
    for dtype, rtol in ((F32, 2e-5), (F64, 1e-10)):
        t = flambeau.tensor(x, dtype=dtype)
        out = getattr(flambeau, name)(t)
        assert out.dtype is dtype and out.shape == (3, 4), f"{name} {dtype}"
        assert_close(out, ref(x.astype(dtype.name).astype(np.float64)), rtol=rtol, atol=rtol,
                     msg=f"{name} {dtype}")
        if name != "positive":  # the method form gives the same values
            assert_close(getattr(t, name)(), out, rtol=0, atol=0, msg=name)
    assert gradcheck(getattr(flambeau, name), (t64(x),)), name
    assert gradgradcheck(getattr(flambeau, name), (t64(gen(2, 2)),)), name


@pytest.mark.parametrize("name", ["exp", "sqrt", "sin", "tanh", "sigmoid", "abs", "neg", "floor"])
def test_unary_in_place_matches_out_of_place(name):
    x = arr(5, lo=0.1, hi=2)
    t = flambeau.tensor(x)
    same = getattr(t, name + "_")()
    assert same is t
    assert_close(t, getattr(flambeau, name)(flambeau.tensor(x)), msg=name)


@pytest.mark.parametrize("name,dtype,expected", [
    ("exp", flambeau.int64, F32), ("sqrt", flambeau.int32, F32), ("sigmoid", flambeau.bool, F32),
    ("abs", flambeau.int64, flambeau.int64), ("neg", flambeau.int32, flambeau.int32),
    ("square", flambeau.int32, flambeau.int32), ("square", flambeau.bool, flambeau.int64),
    ("floor", flambeau.int64, flambeau.int64), ("sign", flambeau.int64, flambeau.int64),
    ("isnan", flambeau.int64, flambeau.bool), ("logical_not", F32, flambeau.bool),
])
def test_unary_result_dtypes(name, dtype, expected):
    assert getattr(flambeau, name)(flambeau.ones(2, dtype=dtype)).dtype is expected


def test_special_values():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.5, -2.5, 0.5, 2.5], dtype=np.float32)
    t = flambeau.tensor(x)
    assert to_numpy(t.sign()).tolist()[:5] == [0, 0, 1, -1, 0]  # sign(nan) = 0, as PyTorch
    assert to_numpy(t.round()).tolist()[5:] == [2.0, -2.0, 0.0, 2.0]  # half to even
    assert to_numpy(t.isnan()).tolist() == [False] * 4 + [True] + [False] * 4
    assert to_numpy(t.isinf()).tolist() == [False, False, True, True] + [False] * 5
    assert to_numpy(t.isfinite()).tolist() == [True, True, False, False, False] + [True] * 4
    assert to_numpy(t.signbit()).tolist()[:4] == [False, True, False, True]
    big = np.finfo(np.float32).max
    assert to_numpy(t.nan_to_num())[2:5].tolist() == [big, -big, 0.0]
    assert to_numpy(t.nan_to_num(nan=1.0, posinf=2.0, neginf=-3.0))[2:5].tolist() == [2, -3, 1]
    s = to_numpy(flambeau.tensor([-100.0, 100.0]).sigmoid())
    assert 0 <= s[0] < 1e-40 and s[1] == 1.0
    assert_close(flambeau.tensor([1.2345, 2.5]).round(decimals=2), [1.23, 2.5], atol=1e-6)


def test_unary_errors():
    b = flambeau.tensor([True, False])
    with pytest.raises(RuntimeError, match="Negation"):
        b.neg()
    with pytest.raises(TypeError):
        ~flambeau.tensor([1.0])
    with pytest.raises(NotImplementedError):
        b.abs()


# =============================================================================
# binary elementwise: name, flambeau call, NumPy reference, operand generators
# =============================================================================

def _pos(*s, seed=1):
    return arr(*s, lo=0.5, hi=2.0, seed=seed)


BINARY = [
    ("add", lambda a, b: a + b, np.add, arr, arr),
    ("sub", lambda a, b: a - b, np.subtract, arr, arr),
    ("mul", lambda a, b: a * b, np.multiply, arr, arr),
    ("div", lambda a, b: a / b, np.divide, arr, away),
    ("pow", lambda a, b: a ** b, np.power, _pos, arr),
    ("atan2", flambeau.atan2, np.arctan2, away, away),
    ("maximum", flambeau.maximum, np.maximum, arr, arr),
    ("minimum", flambeau.minimum, np.minimum, arr, arr),
    ("fmax", flambeau.fmax, np.fmax, arr, arr),
    ("fmin", flambeau.fmin, np.fmin, arr, arr),
    ("fmod", flambeau.fmod, np.fmod, lambda *s, seed: away(*s, lo=0.1, hi=1.4, seed=seed),
     lambda *s, seed: np.full(s, 1.5)),
    ("remainder", lambda a, b: a % b, np.mod, lambda *s, seed: away(*s, lo=0.1, hi=1.4, seed=seed),
     lambda *s, seed: np.full(s, 1.5)),
    ("hypot", flambeau.hypot, np.hypot, away, away),
    ("copysign", flambeau.copysign, np.copysign, away, away),
    ("xlogy", flambeau.xlogy, lambda a, b: a * np.log(b), arr, _pos),
    ("logaddexp", flambeau.logaddexp, np.logaddexp, arr, arr),
    ("lerp", lambda a, b: flambeau.lerp(a, b, 0.3), lambda a, b: a + 0.3 * (b - a), arr, arr),
    ("addcmul", lambda a, b: flambeau.addcmul(a, b, b, value=0.5), lambda a, b: a + 0.5 * b * b,
     arr, arr),
    ("addcdiv", lambda a, b: flambeau.addcdiv(a, a, b, value=2), lambda a, b: a + 2 * a / b, arr,
     away),
    ("float_power", flambeau.float_power, np.power, _pos, arr),
]
BROADCASTS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 1, 4), (3, 1)), ((), (3,))]


@pytest.mark.parametrize("shapes", BROADCASTS, ids=str)
@pytest.mark.parametrize("name,fn,ref,ga,gb", BINARY, ids=[b[0] for b in BINARY])
def test_binary_values_broadcasting_and_gradient(name, fn, ref, ga, gb, shapes):
    sa, sb = shapes
    a, b = ga(*sa, seed=2), gb(*sb, seed=3)
    expected = ref(a, b)
    for dtype, rtol in ((F32, 1e-5), (F64, 1e-10)):
        out = fn(flambeau.tensor(a, dtype=dtype), flambeau.tensor(b, dtype=dtype))
        want = F64 if name == "float_power" else dtype
        assert out.dtype is want and out.shape == expected.shape, f"{name} {shapes} {dtype}"
        assert_close(out, expected, rtol=rtol, atol=rtol, msg=f"{name} {shapes} {dtype}")
    assert gradcheck(fn, (t64(a), t64(b))), f"{name} {shapes}"
    if shapes == BROADCASTS[1]:
        assert gradgradcheck(fn, (t64(a), t64(b))), name


def test_maximum_ties_split_gradient_fmax_does_not():
    a = t64([1.0, 2.0, 3.0])
    b = t64([1.0, 0.0, 5.0])
    flambeau.maximum(a, b).sum().backward()
    assert to_numpy(a.grad).tolist() == [0.5, 1.0, 0.0]
    assert to_numpy(b.grad).tolist() == [0.5, 0.0, 1.0]
    a.grad = b.grad = None
    flambeau.fmax(a, b).sum().backward()
    assert to_numpy(a.grad).tolist() == [1.0, 1.0, 0.0]


def test_pow_gradient_edge_cases():
    x = t64([0.0, 1.0, -2.0])
    (x ** 2).sum().backward()
    assert to_numpy(x.grad).tolist() == [0.0, 2.0, -4.0]
    base = t64([0.0, 0.0, 2.0])
    exp = t64([0.0, 2.0, 1.0])
    (base ** exp).sum().backward()
    assert to_numpy(base.grad).tolist() == [0.0, 0.0, 1.0]
    assert_close(exp.grad, [0.0, 0.0, 2 * math.log(2)])
    y = t64([1.0, 2.0])
    (2.0 ** y).sum().backward()  # reflected: d 2^y = 2^y ln 2
    assert_close(y.grad, [2 * math.log(2), 4 * math.log(2)])


@pytest.mark.parametrize("a,b", [([-7, 7, -7, 7], [2, -2, -2, 2])])
def test_integer_division_and_modulo_signs(a, b):
    ta, tb = flambeau.tensor(a), flambeau.tensor(b)
    na, nb = np.array(a), np.array(b)
    assert to_numpy(ta // tb).tolist() == (na // nb).tolist()
    assert to_numpy(ta % tb).tolist() == (na % nb).tolist()
    assert to_numpy(flambeau.fmod(ta, tb)).tolist() == np.fmod(na, nb).tolist()
    assert to_numpy(flambeau.div(ta, tb, rounding_mode="trunc")).tolist() == [-3, -3, 3, 3]
    assert to_numpy(flambeau.div(ta, tb, rounding_mode="floor")).tolist() == [-4, -4, 3, 3]
    q = ta / tb
    assert q.dtype is F32 and to_numpy(q).tolist() == [-3.5, -3.5, 3.5, 3.5]
    fa = flambeau.tensor([-7.5, 7.5])
    assert to_numpy(fa.div(2, rounding_mode="trunc")).tolist() == [-3.0, 3.0]
    assert to_numpy(fa.div(2, rounding_mode="floor")).tolist() == [-4.0, 3.0]


def test_comparisons_and_logical_ops():
    a, b = arr(3, 4, seed=1), arr(4, seed=2)
    ta, tb = flambeau.tensor(a), flambeau.tensor(b)
    for name, ref in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
                      ("gt", np.greater), ("ge", np.greater_equal)]:
        out = getattr(flambeau, name)(ta, tb)
        assert out.dtype is flambeau.bool and out.shape == (3, 4)
        assert (to_numpy(out) == ref(a.astype(np.float32), b.astype(np.float32))).all(), name
    ma, mb = a > 0, b > 0
    for name, ref in [("logical_and", np.logical_and), ("logical_or", np.logical_or),
                      ("logical_xor", np.logical_xor)]:
        out = getattr(flambeau, name)(flambeau.tensor(a), flambeau.tensor(mb))
        assert (to_numpy(out) == ref(a != 0, mb)).all(), name
    assert (to_numpy(flambeau.logical_not(flambeau.tensor(ma))) == ~ma).all()
    n = flambeau.tensor([float("nan"), 1.0])
    assert to_numpy(n == n).tolist() == [False, True]
    assert to_numpy(n != n).tolist() == [True, False]


def test_clamp_values_and_gradients():
    x = arr(3, 4, seed=4)
    t = flambeau.tensor(x)
    assert_close(t.clamp(-0.5, 0.5), np.clip(x, -0.5, 0.5))
    assert_close(t.clamp(min=0), np.maximum(x, 0))
    assert_close(flambeau.clip(t, max=0.2), np.minimum(x, 0.2))
    assert_close(t.clamp(1, 0), np.ones_like(x) * 0)  # min > max: everything becomes max
    assert t.long().clamp(0, 1).dtype is flambeau.int64
    assert t.long().clamp(0.5, 1.5).dtype is F32
    lo, hi = arr(4, lo=-1, hi=0, seed=5), arr(3, 1, lo=0, hi=1, seed=6)
    out = t.clamp(flambeau.tensor(lo), flambeau.tensor(hi))
    assert_close(out, np.minimum(np.maximum(x, lo), hi))
    xs = away(3, 4, lo=0.05, hi=2, seed=7)
    assert gradcheck(lambda v: v.clamp(-0.5, 0.5), (t64(xs),))
    assert gradcheck(lambda v, a, b: v.clamp(a, b), (t64(xs), t64(lo - 0.03), t64(hi + 0.03)))
    edge = t64([0.0, 1.0, 0.5, -1.0, 2.0])
    edge.clamp(0, 1).sum().backward()  # the bounds themselves pass the gradient
    assert to_numpy(edge.grad).tolist() == [1.0, 1.0, 1.0, 0.0, 0.0]
    with pytest.raises(RuntimeError):
        t.clamp()


def test_where():
    c = arr(3, 4, seed=8) > 0
    a, b = arr(3, 4, seed=9), arr(4, seed=10)
    tc = flambeau.tensor(c)
    out = flambeau.where(tc, flambeau.tensor(a), flambeau.tensor(b))
    assert_close(out, np.where(c, a, b))
    assert flambeau.where(tc, flambeau.tensor(a, dtype=F32), 0.0).dtype is F32
    assert flambeau.where(tc, 1, 0).dtype is flambeau.int64
    assert flambeau.where(tc, 1.0, 0).dtype is F32
    assert flambeau.where(tc, flambeau.ones(4, dtype=flambeau.int64), 2.5).dtype is F32
    assert flambeau.where(tc, flambeau.ones(4, dtype=F64), flambeau.ones(4)).dtype is F64
    ta = flambeau.tensor(a)
    assert_close(ta.where(ta > 0, flambeau.tensor(b)), np.where(a > 0, a, b))  # method form
    assert gradcheck(lambda x, y: flambeau.where(tc, x, y), (t64(a), t64(b)))


# =============================================================================
# reductions: name, flambeau call with (input, dim, keepdim), NumPy reference
# =============================================================================

def _np_var(x, axis, keepdims, ddof=1):
    return np.var(x, axis=axis, keepdims=keepdims, ddof=ddof)


def _np_lse(x, axis, keepdims):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


REDUCTIONS = [
    ("sum", lambda t, d, k: t.sum(d, keepdim=k), np.sum),
    ("mean", lambda t, d, k: t.mean(d, keepdim=k), np.mean),
    ("amax", lambda t, d, k: t.amax(d, keepdim=k), np.max),
    ("amin", lambda t, d, k: flambeau.amin(t, d, keepdim=k), np.min),
    ("var", lambda t, d, k: t.var(d, keepdim=k), _np_var),
    ("var_c0", lambda t, d, k: t.var(d, keepdim=k, correction=0),
     lambda x, axis, keepdims: _np_var(x, axis, keepdims, 0)),
    ("std", lambda t, d, k: flambeau.std(t, d, keepdim=k),
     lambda x, axis, keepdims: np.sqrt(_np_var(x, axis, keepdims))),
    ("std_c05", lambda t, d, k: t.std(d, keepdim=k, correction=0.5),
     lambda x, axis, keepdims: np.sqrt(_np_var(x, axis, keepdims, 0.5))),
    ("norm", lambda t, d, k: t.norm(dim=d, keepdim=k),
     lambda x, axis, keepdims: np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))),
    ("norm1", lambda t, d, k: t.norm(1, dim=d, keepdim=k),
     lambda x, axis, keepdims: np.sum(np.abs(x), axis=axis, keepdims=keepdims)),
    ("norm3", lambda t, d, k: t.norm(3, dim=d, keepdim=k),
     lambda x, axis, keepdims: np.sum(np.abs(x) ** 3, axis=axis, keepdims=keepdims) ** (1 / 3)),
    ("norm_inf", lambda t, d, k: t.norm(float("inf"), dim=d, keepdim=k),
     lambda x, axis, keepdims: np.max(np.abs(x), axis=axis, keepdims=keepdims)),
    ("logsumexp", lambda t, d, k: t.logsumexp(d, keepdim=k), _np_lse),
    ("nansum", lambda t, d, k: t.nansum(d, keepdim=k), np.nansum),
]
DIMS = [0, -1, (0, 2), (-1, 1)]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("name,fn,ref", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reduction_values_and_gradient(name, fn, ref, dim, keepdim):
    x = away(2, 3, 4, seed=11)
    axis = dim if isinstance(dim, int) else tuple(dim)
    expected = ref(x, axis=axis, keepdims=keepdim)
    for dtype, rtol in ((F32, 1e-5), (F64, 1e-10)):
        out = fn(flambeau.tensor(x, dtype=dtype), dim, keepdim)
        assert out.dtype is dtype and out.shape == expected.shape, f"{name} {dim} {keepdim}"
        assert_close(out, expected, rtol=rtol, atol=rtol, msg=f"{name} dim={dim} {dtype}")
    xs = away(2, 3, 2, seed=12)
    assert gradcheck(lambda v: fn(v, dim, keepdim), (t64(xs),)), f"{name} {dim} {keepdim}"
    if dim == DIMS[2] and not keepdim:
        assert gradgradcheck(lambda v: fn(v, dim, keepdim), (t64(xs),)), name


@pytest.mark.parametrize("name,fn,ref", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reduction_over_every_dim(name, fn, ref):
    x = away(2, 3, seed=13)
    out = fn(flambeau.tensor(x, dtype=F64), (), False)  # dim=() reduces every dim
    assert out.shape == (), name
    assert_close(out, ref(x, axis=None, keepdims=False), rtol=1e-10, msg=name)
    assert fn(flambeau.tensor(1.5), 0, False).shape == ()  # a 0-d tensor accepts dim 0
    assert gradcheck(lambda v: fn(v, (), False), (t64(x),)), name


@pytest.mark.parametrize("name,ref", [
    ("sum", np.sum), ("mean", np.mean), ("prod", np.prod), ("var", lambda x: np.var(x, ddof=1)),
    ("std", lambda x: np.std(x, ddof=1)), ("norm", np.linalg.norm), ("nansum", np.nansum),
    ("amax", np.max), ("max", np.max), ("min", np.min),
])
def test_reduction_without_dim(name, ref):
    x = away(2, 3, seed=13)
    out = getattr(flambeau.tensor(x, dtype=F64), name)()
    assert out.shape == () and out.dtype is F64, name
    assert_close(out, ref(x), rtol=1e-10, msg=name)
    assert_close(getattr(flambeau, name)(flambeau.tensor(x, dtype=F64)), out, rtol=0, atol=0)
    assert gradcheck(lambda v: getattr(v, name)(), (t64(x),)), name


def test_prod_and_cumulative_ops_with_zeros():
    x = np.array([[1.5, 0.0, 3.0, 2.0], [0.0, 0.0, 2.0, 1.0], [2.0, -3.0, 0.5, 5.0]])
    t = flambeau.tensor(x)
    assert_close(t.prod(), np.prod(x))
    for d in (0, 1, -1):
        assert_close(t.prod(d), np.prod(x, d))
        assert_close(t.prod(d, keepdim=True), np.prod(x, d, keepdims=True))
        assert_close(t.cumsum(d), np.cumsum(x, d))
        assert_close(t.cumprod(d), np.cumprod(x, d))
        for fn in (lambda v, d=d: v.prod(d), lambda v, d=d: v.cumsum(d), lambda v, d=d: v.cumprod(d)):
            assert gradcheck(fn, (t64(x),)), d
    assert gradcheck(lambda v: v.prod(), (t64(x),))
    assert gradcheck(lambda v: v.prod(), (t64(away(2, 3)),))
    assert t.long().cumsum(0).dtype is flambeau.int64
    assert flambeau.ones(3, dtype=flambeau.int32).cumsum(0).dtype is flambeau.int64
    assert t.cumsum(0, dtype=F64).dtype is F64
    assert_close(flambeau.logcumsumexp(t, 1), np.logaddexp.accumulate(x, 1), rtol=1e-6)
    cm = flambeau.cummax(t, 1)
    assert_close(cm.values, np.maximum.accumulate(x, 1))
    assert_close(flambeau.cummin(t, 0).values, np.minimum.accumulate(x, 0))


def test_max_min_with_dim_return_values_and_indices():
    x = np.array([[1.0, 3.0, 3.0], [3.0, 0.0, 3.0], [2.0, 2.0, 2.0]])
    t = flambeau.tensor(x)
    for name, ref, aref in (("max", np.max, np.argmax), ("min", np.min, np.argmin)):
        for d in (0, 1, -1):
            for keepdim in (False, True):
                res = getattr(t, name)(d, keepdim)
                values, indices = res
                assert res.values is values and res.indices is indices
                assert_close(values, ref(x, d, keepdims=keepdim))
                assert indices.dtype is flambeau.int64
                assert (to_numpy(indices) == aref(x, d, keepdims=keepdim)).all()  # first of ties
        whole = getattr(t, name)()
        assert whole.shape == () and float(whole) == ref(x)
    assert to_numpy(t.argmax()).item() == 1 and t.argmax(1, keepdim=True).shape == (3, 1)
    assert t.argmin(keepdim=True).shape == (1, 1)
    xs = t64(arr(3, 4, seed=14))
    assert gradcheck(lambda v: v.max(1).values, (xs,))
    assert gradcheck(lambda v: v.min(0, keepdim=True)[0], (xs,))
    ties = t64(x)
    ties.max().backward()  # ties of the global max share the gradient
    assert_close(ties.grad, (x == 3) / 4)
    ties.grad = None
    ties.amax(1).sum().backward()
    assert_close(ties.grad, (x == x.max(1, keepdims=True)) / (x == x.max(1, keepdims=True)).sum(1, keepdims=True))
    mx = flambeau.max(t, flambeau.tensor([0.5, 2.5, 2.5]))  # elementwise form
    assert_close(mx, np.maximum(x, [0.5, 2.5, 2.5]))
    with pytest.raises(RuntimeError):
        flambeau.zeros(0).max()
    with pytest.raises(IndexError):
        flambeau.zeros(2, 0).amax(1)


def test_logical_reductions_and_counts():
    x = np.array([[0, 1, 2], [0, 0, 0]])
    t = flambeau.tensor(x)
    for name, ref in (("all", np.all), ("any", np.any)):
        assert getattr(t, name)().dtype is flambeau.bool
        assert bool(getattr(t, name)()) == bool(ref(x))
        assert (to_numpy(getattr(t, name)(1)) == ref(x, 1)).all()
        assert getattr(t, name)(0, keepdim=True).shape == (1, 3)
        assert getattr(t.to(flambeau.uint8), name)().dtype is flambeau.uint8
    assert bool(flambeau.zeros(0).all()) and not bool(flambeau.zeros(0).any())
    assert to_numpy(flambeau.count_nonzero(t, 1)).tolist() == [2, 0]


def test_reduction_dtypes():
    i = flambeau.tensor([[1, 2], [3, 4]], dtype=flambeau.int32)
    assert i.sum().dtype is flambeau.int64 and i.prod(1).dtype is flambeau.int64
    assert i.sum(0, dtype=flambeau.int32).dtype is flambeau.int32
    assert i.nansum().dtype is flambeau.int64
    assert flambeau.tensor([True, True]).sum().item() == 2
    assert i.amax().dtype is flambeau.int32 and i.max(0).values.dtype is flambeau.int32
    assert i.mean(dtype=F32).item() == 2.5
    with pytest.raises(RuntimeError):
        i.mean()
    x = t64(arr(3, 4, seed=15)).float().detach().requires_grad_()
    x.sum(dtype=F64).backward()
    assert x.grad.dtype is F32
    assert flambeau.zeros(3, 0).logsumexp(1).tolist() == [-math.inf] * 3


def test_sort_argsort_topk():
    x = arr(3, 5, seed=16)
    t = flambeau.tensor(x)
    for d in (0, 1, -1):
        for desc in (False, True):
            values, indices = t.sort(d, descending=desc)
            ref = np.sort(x.astype(np.float32), d)
            ref = np.flip(ref, d) if desc else ref
            assert_close(values, ref)
            assert (np.take_along_axis(x, to_numpy(indices), d) == to_numpy(values)).all()
            assert (to_numpy(t.argsort(d, descending=desc)) == to_numpy(indices)).all()
        assert gradcheck(lambda v, d=d: v.sort(d)[0], (t64(x),))
    ties = flambeau.tensor([2, 1, 2, 1, 2])
    assert to_numpy(ties.sort(stable=True).indices).tolist() == [1, 3, 0, 2, 4]
    assert to_numpy(ties.sort(descending=True, stable=True).indices).tolist() == [0, 2, 4, 1, 3]
    top = t.topk(2)
    assert_close(top.values, -np.sort(-x.astype(np.float32), 1)[:, :2])
    small = t.topk(2, dim=0, largest=False)
    assert_close(small.values, np.sort(x.astype(np.float32), 0)[:2])
    assert gradcheck(lambda v: v.topk(3).values, (t64(x),))
    with pytest.raises(RuntimeError):
        t.topk(6)
    assert_close(flambeau.kthvalue(t, 2, 1).values, np.sort(x.astype(np.float32), 1)[:, 1])
    assert_close(t.median(), np.sort(x.astype(np.float32).ravel())[7])  # the lower median
    assert_close(flambeau.quantile(t64(x, False), 0.3, dim=1), np.quantile(x, 0.3, axis=1))
    vals, inv, counts = flambeau.unique(flambeau.tensor([3, 1, 3, 2]), return_inverse=True,
                                        return_counts=True)
    assert to_numpy(vals).tolist() == [1, 2, 3] and to_numpy(inv).tolist() == [2, 0, 2, 1]
    assert to_numpy(counts).tolist() == [1, 1, 2]


# =============================================================================
# shape ops: flambeau call, NumPy reference, input shape
# =============================================================================

SHAPE_OPS = [
    ("reshape", lambda t: t.reshape(4, 6), lambda a: a.reshape(4, 6)),
    ("reshape-1", lambda t: flambeau.reshape(t, (-1, 3)), lambda a: a.reshape(-1, 3)),
    ("view", lambda t: t.view(6, 4), lambda a: a.reshape(6, 4)),
    ("flatten", lambda t: t.flatten(1), lambda a: a.reshape(2, 12)),
    ("unflatten", lambda t: t.unflatten(2, (2, -1)), lambda a: a.reshape(2, 3, 2, 2)),
    ("squeeze", lambda t: t[:, :1].squeeze(), lambda a: a[:, 0]),
    ("squeeze_dim", lambda t: t[:, :1].squeeze((1, 2)), lambda a: a[:, 0]),
    ("unsqueeze", lambda t: t.unsqueeze(-1), lambda a: a[..., None]),
    ("transpose", lambda t: t.transpose(0, 2), lambda a: a.transpose(2, 1, 0)),
    ("permute", lambda t: t.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1)),
    ("mT", lambda t: t.mT, lambda a: a.swapaxes(-1, -2)),
    ("movedim", lambda t: t.movedim(0, -1), lambda a: np.moveaxis(a, 0, -1)),
    ("expand", lambda t: t[:, :1].expand(2, 3, 4), lambda a: np.broadcast_to(a[:, :1], (2, 3, 4))),
    ("broadcast_to", lambda t: flambeau.broadcast_to(t[0], (5, 3, 4)),
     lambda a: np.broadcast_to(a[0], (5, 3, 4))),
    ("repeat", lambda t: t.repeat(2, 1, 1, 3), lambda a: np.tile(a, (2, 1, 1, 3))),
    ("tile", lambda t: t.tile((2,)), lambda a: np.tile(a, (1, 1, 2))),
    ("repeat_interleave", lambda t: t.repeat_interleave(2, dim=1), lambda a: np.repeat(a, 2, 1)),
    ("flip", lambda t: t.flip(0, 2), lambda a: a[::-1, :, ::-1]),
    ("roll", lambda t: t.roll(1, 2), lambda a: np.roll(a, 1, 2)),
    ("roll2", lambda t: t.roll((-1, 5), (0, 1)), lambda a: np.roll(a, (-1, 5), (0, 1))),
    ("roll_flat", lambda t: t.roll(3), lambda a: np.roll(a, 3)),
    ("rot90", lambda t: t.rot90(1, (1, 2)), lambda a: np.rot90(a, 1, (1, 2))),
    ("tril", lambda t: t.tril(), lambda a: np.tril(a)),
    ("triu1", lambda t: t.triu(1), lambda a: np.triu(a, 1)),
    ("tril-1", lambda t: t.tril(-1), lambda a: np.tril(a, -1)),
    ("narrow", lambda t: t.narrow(2, 1, 2), lambda a: a[:, :, 1:3]),
    ("select", lambda t: t.select(1, -1), lambda a: a[:, -1]),
    ("contiguous", lambda t: t.transpose(0, 1).contiguous(), lambda a: a.transpose(1, 0, 2)),
    ("diagonal", lambda t: t.diagonal(1, 1, 2), lambda a: np.diagonal(a, 1, 1, 2)),
    ("cat", lambda t: flambeau.cat([t, t[:1] * 2], 0), lambda a: np.concatenate([a, a[:1] * 2])),
    ("cat-1", lambda t: flambeau.cat((t, t), dim=-1), lambda a: np.concatenate([a, a], -1)),
    ("stack", lambda t: flambeau.stack([t, t + 1], 1), lambda a: np.stack([a, a + 1], 1)),
    ("hstack", lambda t: flambeau.hstack([t, t]), lambda a: np.hstack([a, a])),
    ("vstack", lambda t: flambeau.vstack([t[0], t[1]]), lambda a: np.vstack([a[0], a[1]])),
    ("split", lambda t: flambeau.cat(t.split(2, dim=2)[::-1], 2),
     lambda a: np.concatenate([a[:, :, 2:], a[:, :, :2]], 2)),
    ("split_sizes", lambda t: t.split([1, 3], dim=2)[1], lambda a: a[:, :, 1:]),
    ("chunk", lambda t: t.chunk(2, 1)[1], lambda a: a[:, 2:]),
    ("unbind", lambda t: t.unbind(1)[2], lambda a: a[:, 2]),
    ("tensor_split", lambda t: t.tensor_split([1, 3], dim=2)[1], lambda a: a[:, :, 1:3]),
    ("clone", lambda t: t.clone(), lambda a: a),
    ("sum_to_size", lambda t: t.sum_to_size(1, 3, 1), lambda a: a.sum((0, 2), keepdims=True)),
    ("trace", lambda t: t[0].trace(), lambda a: np.trace(a[0])),
    ("diag", lambda t: flambeau.diag(t[0, 0], 1), lambda a: np.diag(a[0, 0], 1)),
    ("diag_embed", lambda t: flambeau.diag_embed(t[0]), lambda a: np.stack([np.diag(r) for r in a[0]])),
]


@pytest.mark.parametrize("name,fn,ref", SHAPE_OPS, ids=[s[0] for s in SHAPE_OPS])
def test_shape_op_values_and_gradient(name, fn, ref):
    x = arr(2, 3, 4, seed=17)
    out = fn(flambeau.tensor(x, dtype=F64))
    expected = ref(x)
    assert out.dtype is F64
    assert_close(out, expected, rtol=0, atol=0, msg=name)
    assert gradcheck(fn, (t64(x),)), name
    assert gradgradcheck(fn, (t64(x),)), name


def test_views_share_memory_and_version():
    x = flambeau.zeros(2, 3)
    views = [lambda: x.view(6), lambda: x[0], lambda: x.t(), lambda: x.unsqueeze(0),
             lambda: x.narrow(1, 0, 2), lambda: x.reshape(3, 2), lambda: x.permute(1, 0),
             lambda: x[:, 1], lambda: x.unbind(0)[1], lambda: x.split(1)[0], lambda: x[..., None],
             lambda: x.select(1, 2), lambda: x.squeeze(), lambda: x.movedim(0, 1)]
    for i, make in enumerate(views):
        view = make()
        v0 = x._version
        view.add_(1)
        assert x._version == v0 + 1 and view._version == x._version, i
    assert to_numpy(x).sum() == 2 * len(views) * 3 or to_numpy(x).min() >= 1
    c = x.t().contiguous()
    c.add_(100)
    assert to_numpy(x).max() < 100  # contiguous() of a non-contiguous view copies
    r = x.t().reshape(-1)  # reshape copies when a view is impossible
    r.add_(100)
    assert to_numpy(x).max() < 100
    with pytest.raises(RuntimeError, match="view"):
        x.t().view(-1)


def test_shape_errors_and_metadata():
    x = flambeau.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size(-1) == 4
    assert isinstance(x.shape, flambeau.Size) and repr(x.shape) == "flambeau.Size([2, 3, 4])"
    assert x.shape[1:] == (3, 4) and isinstance(x.shape[1:], flambeau.Size)
    assert x.dim() == x.ndim == 3 and x.numel() == 24 and len(x) == 2
    assert x.stride() == (12, 4, 1) and x.transpose(0, 2).stride() == (1, 4, 12)
    assert x.T.shape == (4, 3, 2) and flambeau.zeros(3).t().shape == (3,)
    assert flambeau.broadcast_shapes((3, 1), (4,), (2, 1, 1)) == (2, 3, 4)
    for bad in (lambda: x.reshape(5, -1), lambda: x.view(-1, -1), lambda: x.expand(3, 3, 4),
                lambda: flambeau.cat([x, flambeau.zeros(2, 4, 4)], 2),
                lambda: flambeau.stack([x, x[0]]), lambda: x.split([1, 2], 2),
                lambda: x.narrow(0, 1, 2), lambda: flambeau.broadcast_shapes((2,), (3,))):
        with pytest.raises(RuntimeError):
            bad()
    for bad in (lambda: x.unsqueeze(4), lambda: x.transpose(0, 3), lambda: x.sum(3)):
        with pytest.raises(IndexError):
            bad()
    with pytest.raises(TypeError):
        len(flambeau.tensor(1.0))


def test_cat_and_stack_promote():
    i = flambeau.tensor([[1, 2]])
    f = flambeau.tensor([[0.5, 1.5]])
    assert flambeau.cat([i, f]).dtype is F32
    assert flambeau.cat([i, flambeau.tensor([[True, False]])]).dtype is flambeau.int64
    assert flambeau.stack([f[0], flambeau.tensor([1.0, 2.0], dtype=F64)]).dtype is F64
    assert flambeau.cat([f, flambeau.zeros(0)]).shape == (1, 2)  # legacy empty 1-D is skipped
    a, b = t64([[1.0, 2.0]]), t64([[3.0, 4.0]]).float().detach().requires_grad_()
    flambeau.cat([a, b]).sum().backward()
    assert a.grad.dtype is F64 and b.grad.dtype is F32


# =============================================================================
# linear algebra
# =============================================================================

MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                 ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)),
                 ((5, 1, 2, 3), (4, 3, 2)), ((3,), (5, 3, 4)), ((5, 2, 3), (3,)), ((0, 3), (3, 2))]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=str)
def test_matmul_broadcasting_and_gradient(sa, sb):
    a, b = arr(*sa, seed=18), arr(*sb, seed=19)
    for dtype, rtol in ((F32, 1e-5), (F64, 1e-10)):
        out = flambeau.tensor(a, dtype=dtype) @ flambeau.tensor(b, dtype=dtype)
        assert out.dtype is dtype
        assert_close(out, a @ b, rtol=rtol, atol=rtol, msg=f"{sa}@{sb}")
        assert_close(flambeau.matmul(flambeau.tensor(a, dtype=dtype), flambeau.tensor(b, dtype=dtype)),
                     out, rtol=0, atol=0)
    assert gradcheck(flambeau.matmul, (t64(a), t64(b))), f"{sa}@{sb}"
    assert gradgradcheck(flambeau.matmul, (t64(a), t64(b))), f"{sa}@{sb}"


LINALG = [
    ("mm", flambeau.mm, np.matmul, (2, 3), (3, 4)),
    ("bmm", flambeau.bmm, np.matmul, (4, 2, 3), (4, 3, 2)),
    ("mv", flambeau.mv, np.matmul, (2, 3), (3,)),
    ("dot", flambeau.dot, np.dot, (3,), (3,)),
    ("vdot", flambeau.vdot, np.dot, (3,), (3,)),
    ("inner", flambeau.inner, np.inner, (2, 3), (4, 3)),
    ("outer", flambeau.outer, np.outer, (3,), (4,)),
    ("tensordot", lambda a, b: flambeau.tensordot(a, b, ([1, 0], [0, 1])),
     lambda a, b: np.tensordot(a, b, ([1, 0], [0, 1])), (3, 4, 2), (4, 3)),
    ("addmm", lambda a, b: flambeau.addmm(a[:, :1], a, b, beta=0.5, alpha=2),
     lambda a, b: 0.5 * a[:, :1] + 2 * a @ b, (2, 3), (3, 4)),
]


@pytest.mark.parametrize("name,fn,ref,sa,sb", LINALG, ids=[r[0] for r in LINALG])
def test_linalg_values_and_gradient(name, fn, ref, sa, sb):
    a, b = arr(*sa, seed=20), arr(*sb, seed=21)
    assert_close(fn(flambeau.tensor(a, dtype=F64), flambeau.tensor(b, dtype=F64)), ref(a, b),
                 rtol=1e-10, msg=name)
    assert gradcheck(fn, (t64(a), t64(b))), name
    assert gradgradcheck(fn, (t64(a), t64(b))), name


EINSUM = [
    ("ij,jk->ik", (2, 3), (3, 4)), ("ij,jk", (2, 3), (3, 4)), ("bij,bjk->bik", (2, 2, 3), (2, 3, 4)),
    ("i,i->", (3,), (3,)), ("i,j->ij", (3,), (4,)), ("ij->ji", (2, 3)), ("ii->i", (3, 3)),
    ("ii", (3, 3)), ("iij->j", (3, 3, 2)), ("...ij,...jk->...ik", (2, 2, 3), (2, 3, 4)),
    ("...ij,jk", (3, 2, 2, 3), (3, 4)), ("ij...,j->i...", (2, 3, 4), (3,)),
    ("b...,b->...", (2, 3, 4), (2,)), ("bhqd,bhkd->bhqk", (2, 1, 3, 2), (2, 1, 4, 2)),
    ("i,i,i->i", (3,), (3,), (3,)), ("ijk,ik->j", (2, 3, 4), (2, 4)), ("ij,ij->ij", (2, 3), (1, 3)),
    ("i j , j k -> i k", (2, 3), (3, 4)),
]


@pytest.mark.parametrize("eq_shapes", EINSUM, ids=[e[0] for e in EINSUM])
def test_einsum_values_and_gradient(eq_shapes):
    eq, *shapes = eq_shapes
    ops = [arr(*s, seed=22 + i) for i, s in enumerate(shapes)]
    np_eq = eq.replace(" ", "")
    expected = np.einsum(np_eq, *[np.broadcast_to(o, np.broadcast_shapes(o.shape, (2, 3))) if
                                  np_eq == "ij,ij->ij" else o for o in ops])
    assert_close(flambeau.einsum(eq, *[flambeau.tensor(o) for o in ops]), expected, rtol=1e-5,
                 atol=1e-5, msg=eq)
    assert gradcheck(lambda *ts: flambeau.einsum(eq, *ts), tuple(t64(o) for o in ops)), eq
    assert gradgradcheck(lambda *ts: flambeau.einsum(eq, *ts), tuple(t64(o) for o in ops)), eq


def test_linalg_errors():
    a = flambeau.zeros(2, 3)
    for bad in (lambda: a @ flambeau.zeros(4, 2), lambda: flambeau.zeros(2, 2, 3) @ flambeau.zeros(3, 3, 2),
                lambda: flambeau.mm(a, flambeau.zeros(2, 3)), lambda: flambeau.dot(a[0], a[1, :2]),
                lambda: flambeau.bmm(flambeau.zeros(2, 2, 3), flambeau.zeros(3, 3, 2)),
                lambda: a @ flambeau.zeros(3, 2, dtype=F64), lambda: flambeau.tensor(1.0) @ a):
        with pytest.raises(RuntimeError):
            bad()


# =============================================================================
# creation
# =============================================================================

@pytest.mark.parametrize("data,dtype", [
    (1, flambeau.int64), (1.5, F32), (True, flambeau.bool), ([1, 2], flambeau.int64),
    ([1.0, 2], F32), ([True, False], flambeau.bool), ([[1, 2], [3, 4]], flambeau.int64),
    ([], F32), ([1, 2.5, True], F32), ((1, 2), flambeau.int64), (np.float64(2.0), F64),
    (np.int32(3), flambeau.int32), ([np.int32(1), np.int32(2)], flambeau.int32),
    ([np.float64(1.5)], F64), ([np.float32(1), 2.0], F32), ([np.int32(1), 2], flambeau.int64),
    (np.array([1, 2], dtype=np.int16), flambeau.int16), (np.array(1.5), F64),
])
def test_tensor_infers_dtype(data, dtype):
    t = flambeau.tensor(data)
    assert t.dtype is dtype
    assert to_numpy(t).tolist() == np.asarray(data).astype(dtype.name).tolist()


def test_tensor_construction_options_and_errors():
    assert flambeau.tensor([1.7, -2.7], dtype=flambeau.int64).tolist() == [1, -2]
    t = flambeau.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf
    assert flambeau.tensor([flambeau.tensor(1.0), flambeau.tensor(2.0)]).tolist() == [1.0, 2.0]
    copy = flambeau.tensor(t)
    assert not copy.requires_grad and copy.is_leaf
    with pytest.raises(ValueError):
        flambeau.tensor([[1], [2, 3]])
    with pytest.raises(RuntimeError):
        flambeau.tensor([1, None])
    with pytest.raises(TypeError):
        flambeau.tensor("abc")
    with pytest.raises(RuntimeError):
        flambeau.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError):
        flambeau.zeros(2, -1)
    flambeau.set_default_dtype(F64)
    assert flambeau.tensor([1.0]).dtype is F64 and flambeau.zeros(2).dtype is F64
    assert (flambeau.tensor([1, 2]) / 2).dtype is F64 and flambeau.arange(0, 1, 0.5).dtype is F64
    assert (flambeau.ones(2, dtype=F32) * 2.5).dtype is F32


def test_as_tensor_and_from_numpy_share_memory():
    a = np.zeros(3, np.float32)
    t = flambeau.from_numpy(a)
    a[0] = 5
    t[1] = 3
    assert t.tolist() == [5.0, 3.0, 0.0] and a.tolist() == [5.0, 3.0, 0.0]
    assert flambeau.from_numpy(np.arange(3)).dtype is flambeau.int64
    with pytest.raises(TypeError):
        flambeau.from_numpy([1, 2])
    assert flambeau.as_tensor([1, 2]).dtype is flambeau.int64
    assert flambeau.as_tensor(np.array([1.0, 2.0])).dtype is F64
    assert flambeau.as_tensor(np.array([1.0, 2.0]), dtype=F32).dtype is F32
    x = flambeau.ones(2)
    assert flambeau.as_tensor(x) is x


@pytest.mark.parametrize("args,kwargs", [
    ((5,), {}), ((2, 8), {}), ((0, 1, 0.1), {}), ((1, 2.5, 0.5), {}), ((0, 10, 3), {}),
    ((10, 0, -2), {}), ((0.5,), {}), ((-1.5, 1.5, 0.25), {}), ((3, 3), {}), ((5,), {"dtype": F32}),
    ((0, 5, 1.5), {"dtype": flambeau.int64}), ((0, 1, 0.1), {"dtype": F64}),
])
def test_arange(args, kwargs):
    t = flambeau.arange(*args, **kwargs)
    dtype = kwargs.get("dtype") or (F32 if any(isinstance(a, float) for a in args) else flambeau.int64)
    assert t.dtype is dtype
    if dtype is flambeau.int64:
        expected = np.arange(*[int(a) for a in args])
    else:
        expected = np.arange(*args, dtype=np.float64)
    assert_close(t, expected.astype(dtype.name), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("start,end,steps", [(0, 1, 5), (0, 1, 1), (0, 1, 0), (-1, 1, 4),
                                             (1, 0, 6), (0.1, 0.9, 9), (0, 10, 7)])
def test_linspace(start, end, steps):
    assert_close(flambeau.linspace(start, end, steps), np.linspace(start, end, steps), atol=1e-6)
    assert_close(flambeau.linspace(start, end, steps, dtype=F64), np.linspace(start, end, steps),
                 rtol=1e-12, atol=1e-12)


def test_factories():
    for name, value in (("zeros", 0), ("ones", 1)):
        fn = getattr(flambeau, name)
        for t in (fn(2, 3), fn((2, 3)), fn([2, 3])):
            assert t.shape == (2, 3) and t.dtype is F32 and (to_numpy(t) == value).all()
        like = getattr(flambeau, name + "_like")(flambeau.ones(2, dtype=flambeau.int32))
        assert like.dtype is flambeau.int32 and like.shape == (2,)
        assert getattr(flambeau, name + "_like")(like, dtype=F64).dtype is F64
    assert flambeau.empty(2, 3).shape == (2, 3) and flambeau.empty_like(flambeau.ones(4)).shape == (4,)
    assert flambeau.full((2,), 1.5).dtype is F32 and flambeau.full((2,), 7).dtype is flambeau.int64
    assert flambeau.full((2,), True).dtype is flambeau.bool
    assert flambeau.full_like(flambeau.ones(2, dtype=flambeau.int64), 2.5).tolist() == [2, 2]
    assert flambeau.zeros(2, requires_grad=True).requires_grad
    assert_close(flambeau.eye(3), np.eye(3))
    assert_close(flambeau.eye(2, 4), np.eye(2, 4))
    assert flambeau.eye(2, dtype=flambeau.bool).dtype is flambeau.bool
    assert flambeau.zeros(()).shape == () and flambeau.ones(0, 3).shape == (0, 3)
    assert_close(flambeau.logspace(0, 2, 3), [1.0, 10.0, 100.0], rtol=1e-6)


@pytest.mark.parametrize("make,shape,dtype", [
    (lambda: flambeau.rand(2, 3), (2, 3), F32), (lambda: flambeau.rand((4,), dtype=F64), (4,), F64),
    (lambda: flambeau.randn(4), (4,), F32), (lambda: flambeau.randn(2, dtype=flambeau.float16), (2,), flambeau.float16),
    (lambda: flambeau.randint(0, 5, (3, 2)), (3, 2), flambeau.int64),
    (lambda: flambeau.randint(5, (3,)), (3,), flambeau.int64),
    (lambda: flambeau.randint(0, 5, (3,), dtype=flambeau.int32), (3,), flambeau.int32),
    (lambda: flambeau.randperm(5), (5,), flambeau.int64),
    (lambda: flambeau.normal(0.0, 1.0, (2, 3)), (2, 3), F32),
    (lambda: flambeau.normal(flambeau.zeros(3, 1), flambeau.ones(4)), (3, 4), F32),
    (lambda: flambeau.bernoulli(flambeau.full((3,), 0.5)), (3,), F32),
    (lambda: flambeau.multinomial(flambeau.tensor([0.2, 0.3, 0.5]), 2), (2,), flambeau.int64),
    (lambda: flambeau.multinomial(flambeau.ones(2, 3), 5, replacement=True), (2, 5), flambeau.int64),
    (lambda: flambeau.rand_like(flambeau.zeros(2, dtype=F64)), (2,), F64),
    (lambda: flambeau.randint_like(flambeau.zeros(2, 2), 5), (2, 2), F32),
    (lambda: flambeau.zeros(3).uniform_(2, 3), (3,), F32),
    (lambda: flambeau.zeros(3).normal_(0, 2), (3,), F32),
    (lambda: flambeau.zeros(3).bernoulli_(0.5), (3,), F32),
])
def test_random_shapes_and_dtypes(make, shape, dtype):
    t = make()
    assert t.shape == shape and t.dtype is dtype and not t.requires_grad


def test_random_ranges_and_reproducibility():
    flambeau.manual_seed(3)
    a, b = flambeau.rand(100), flambeau.randn(3)
    flambeau.manual_seed(3)
    assert (flambeau.rand(100) == a).all() and (flambeau.randn(3) == b).all()
    assert 0 <= float(a.min()) and float(a.max()) < 1
    dev = flambeau.get_default_device()
    g1, g2 = flambeau.Generator(dev).manual_seed(5), flambeau.Generator(dev).manual_seed(5)
    assert (flambeau.rand(3, generator=g1) == flambeau.rand(3, generator=g2)).all()
    assert g1.initial_seed() == 5
    state = flambeau.get_rng_state()  # the CPU generator's, as in PyTorch
    first = flambeau.randn(4, device="cpu")
    flambeau.set_rng_state(state)
    assert (flambeau.randn(4, device="cpu") == first).all()
    r = flambeau.randint(2, 5, (200,))
    assert int(r.min()) >= 2 and int(r.max()) <= 4
    assert sorted(flambeau.randperm(10).tolist()) == list(range(10))
    s = flambeau.multinomial(flambeau.tensor([0.0, 1.0, 1.0]), 2)
    assert sorted(s.tolist()) == [1, 2]
    with pytest.raises(RuntimeError):
        flambeau.multinomial(flambeau.ones(3), 5)
    u = flambeau.zeros(1000).uniform_(2, 3)
    assert 2 <= float(u.min()) and float(u.max()) < 3


# =============================================================================
# dtypes, conversion, Python protocol
# =============================================================================

@pytest.mark.parametrize("method,dtype", [
    ("float", F32), ("double", F64), ("half", flambeau.float16), ("long", flambeau.int64),
    ("int", flambeau.int32), ("short", flambeau.int16), ("char", flambeau.int8),
    ("byte", flambeau.uint8), ("bool", flambeau.bool),
])
def test_conversion_methods(method, dtype):
    x = np.array([-1.7, -0.5, 0.0, 0.5, 2.9])
    out = getattr(flambeau.tensor(x, dtype=F32), method)()
    assert out.dtype is dtype
    with np.errstate(invalid="ignore"):
        expected = x.astype(np.float32).astype(dtype.name if dtype is not flambeau.bool else bool)
    if dtype is not flambeau.uint8:  # negative floats to uint8 are platform-defined
        assert to_numpy(out).tolist() == expected.tolist()


def test_to_and_type():
    x = flambeau.tensor([1.5, 2.5])
    assert x.to(F32) is x and x.float() is x
    assert x.to(F32, copy=True) is not x
    assert x.to(F64).dtype is F64 and x.to(dtype=flambeau.float16).dtype is flambeau.float16
    assert x.to(flambeau.ones(1, dtype=flambeau.int64)).dtype is flambeau.int64
    assert x.to(x.device) is x and x.to(str(x.device), F64).dtype is F64
    assert x.type_as(flambeau.ones(1, dtype=F64)).dtype is F64
    assert x.type() == "flambeau.FloatTensor" and x.type(flambeau.int32).dtype is flambeau.int32
    g = t64([1.0, 2.0])
    (g.float() * g.half().float()).sum().backward()
    assert g.grad.dtype is F64


def test_item_tolist_numpy_dlpack():
    x = flambeau.tensor([[1.5, 2.0]])
    assert x[0, 0].item() == 1.5 and isinstance(flambeau.tensor([3]).item(), int)
    assert isinstance(flambeau.tensor(True).item(), bool)
    assert x.tolist() == [[1.5, 2.0]] and flambeau.tensor(4).tolist() == 4
    assert float(x[0, 1]) == 2.0 and int(flambeau.tensor(2.7)) == 2 and bool(flambeau.tensor([1]))
    assert [10, 20, 30][flambeau.tensor(1)] == 20
    with pytest.raises(RuntimeError):
        x.item()
    with pytest.raises(RuntimeError):
        bool(x)
    with pytest.raises(TypeError):
        [1, 2][flambeau.tensor(1.0)]
    assert f"{flambeau.tensor(1.23456):.2f}" == "1.23"
    assert np.asarray(x).tolist() == [[1.5, 2.0]]
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert len(list(x[0])) == 2 and 2.0 in x and 7 not in x
    with pytest.raises(RuntimeError):
        flambeau.ones(2, requires_grad=True).numpy()
    a = np.arange(3.0)
    t = flambeau.from_dlpack(a)
    assert t.dtype is F64 and t.tolist() == [0.0, 1.0, 2.0]
    a[0] = 7  # from_dlpack shares the producer's memory (a NumPy array: a CPU tensor)
    assert t[0].item() == 7.0
    if str(x.device) == "cpu":
        assert np.from_dlpack(flambeau.tensor([1.0, 2.0])).tolist() == [1.0, 2.0]
        assert x.numpy().dtype == np.float32


# =============================================================================
# Python operators
# =============================================================================

OPERATORS = [
    ("+", lambda a, b: a + b), ("-", lambda a, b: a - b), ("*", lambda a, b: a * b),
    ("/", lambda a, b: a / b), ("//", lambda a, b: a // b), ("%", lambda a, b: a % b),
    ("**", lambda a, b: a ** b), ("==", lambda a, b: a == b), ("<", lambda a, b: a < b),
    (">=", lambda a, b: a >= b), ("!=", lambda a, b: a != b),
]


@pytest.mark.parametrize("scalar", [2, 2.5])
@pytest.mark.parametrize("sym,op", OPERATORS, ids=[o[0] for o in OPERATORS])
def test_python_operators_and_reflected(sym, op, scalar):
    a = arr(2, 3, lo=0.5, hi=2, seed=30)
    b = arr(3, lo=0.5, hi=2, seed=31)
    ta, tb = flambeau.tensor(a, dtype=F64), flambeau.tensor(b, dtype=F64)
    with np.errstate(all="ignore"):
        assert_close(op(ta, tb), op(a, b), rtol=1e-12, msg=sym)
        assert_close(op(ta, scalar), op(a, scalar), rtol=1e-12, msg=sym)
        assert_close(op(scalar, ta), op(scalar, a), rtol=1e-12, msg=sym)
    ints = flambeau.tensor([[1, 2, 3], [4, 5, 6]])
    out = op(ints, scalar)
    if sym in ("==", "<", ">=", "!="):
        assert out.dtype is flambeau.bool
    elif sym == "/" or isinstance(scalar, float):
        assert out.dtype is F32, sym
    else:
        assert out.dtype is flambeau.int64, sym


def test_bitwise_and_unary_operators():
    i, j = flambeau.tensor([1, 2, 12]), flambeau.tensor([3, 3, 10])
    assert to_numpy(i & j).tolist() == [1, 2, 8] and to_numpy(i | j).tolist() == [3, 3, 14]
    assert to_numpy(i ^ j).tolist() == [2, 1, 6] and to_numpy(~i).tolist() == [-2, -3, -13]
    assert to_numpy(i << 1).tolist() == [2, 4, 24] and to_numpy(2 << i).tolist() == [4, 8, 8192]
    assert to_numpy(j >> 1).tolist() == [1, 1, 5] and to_numpy(1 & i).tolist() == [1, 0, 0]
    m = flambeau.tensor([True, False])
    assert (m & True).dtype is flambeau.bool and to_numpy(~m).tolist() == [False, True]
    x = flambeau.tensor([-1.5, 2.0])
    assert to_numpy(-x).tolist() == [1.5, -2.0] and to_numpy(abs(x)).tolist() == [1.5, 2.0]
    assert (+x) is x
    for bad in (lambda: x & 1, lambda: m - m, lambda: m - 1, lambda: m ** m):
        with pytest.raises(RuntimeError):  # NotImplementedError is a RuntimeError
            bad()


IN_PLACE = [("+=", "__iadd__", np.add), ("-=", "__isub__", np.subtract),
            ("*=", "__imul__", np.multiply), ("/=", "__itruediv__", np.divide),
            ("//=", "__ifloordiv__", np.floor_divide), ("%=", "__imod__", np.mod),
            ("**=", "__ipow__", np.power)]


@pytest.mark.parametrize("sym,method,ref", IN_PLACE, ids=[o[0] for o in IN_PLACE])
def test_in_place_operators(sym, method, ref):
    a = arr(2, 3, lo=0.5, hi=2, seed=32)
    b = arr(3, lo=0.5, hi=2, seed=33)
    t = flambeau.tensor(a, dtype=F64)
    same = getattr(t, method)(flambeau.tensor(b, dtype=F64))
    assert same is t
    assert_close(t, ref(a, b), rtol=1e-12, msg=sym)
    t = flambeau.tensor(a, dtype=F32)
    getattr(t, method)(flambeau.tensor(b, dtype=F64))  # the result is cast back to float32
    assert t.dtype is F32
    i = flambeau.tensor([[1, 2, 3]])
    if sym == "/=":
        with pytest.raises(RuntimeError):
            getattr(i, method)(2)
    else:
        assert getattr(i, method)(2).dtype is flambeau.int64
    with pytest.raises(RuntimeError):  # the output can't broadcast to the result's shape
        getattr(flambeau.ones(3, dtype=F64), method)(flambeau.ones(2, 3, dtype=F64))
    with pytest.raises(RuntimeError):  # in place on a leaf that requires grad
        getattr(flambeau.ones(3, requires_grad=True), method)(2)


def test_in_place_methods_with_autograd():
    for name, args in (("add_", (1,)), ("sub_", (1,)), ("mul_", (2,)), ("div_", (2,)),
                       ("pow_", (2,)), ("clamp_", (0, 1)), ("exp_", ()), ("lerp_", (None, 0.3))):
        a, b = t64(arr(3, lo=0.5, hi=2, seed=34)), t64(arr(3, seed=35))

        def fn(x, w, name=name, args=args):
            y = x * 1
            out = getattr(y, name)(*[w if v is None else v for v in args])
            assert out is y
            return y * w

        assert gradcheck(fn, (a, b)), name
    x, v = t64([1.0, 2.0, 3.0]), t64(2.0)
    y = (x * 1).fill_(v)
    y.sum().backward()
    assert to_numpy(x.grad).tolist() == [0.0, 0.0, 0.0] and v.grad.item() == 3.0
    z = flambeau.zeros(2, 3).copy_(x[:3].float())
    assert z.tolist() == [[1.0, 2.0, 3.0]] * 2
    with pytest.raises(RuntimeError):
        flambeau.ones(1, 3).expand(2, 3).add_(1)  # overlapping memory


# =============================================================================
# repr, as PyTorch prints
# =============================================================================

REPRS = [
    ("tensor([1., 2., 3.])", lambda: flambeau.tensor([1.0, 2.0, 3.0])),
    ("tensor([1, 2, 3])", lambda: flambeau.tensor([1, 2, 3])),
    ("tensor([ True, False])", lambda: flambeau.tensor([True, False])),
    ("tensor(3.5000)", lambda: flambeau.tensor(3.5)),
    ("tensor(3)", lambda: flambeau.tensor(3)),
    ("tensor([[1., 2.],\n        [3., 4.]])", lambda: flambeau.tensor([[1.0, 2.0], [3.0, 4.0]])),
    ("tensor([1.5000, 2.2500])", lambda: flambeau.tensor([1.5, 2.25])),
    ("tensor([1.0000e-05, 1.0000e+00])", lambda: flambeau.tensor([1e-5, 1.0])),
    ("tensor([0.1000, 0.2000], dtype=flambeau.float64)",
     lambda: flambeau.tensor([0.1, 0.2], dtype=F64)),
    ("tensor([1, 2], dtype=flambeau.int32)", lambda: flambeau.tensor([1, 2], dtype=flambeau.int32)),
    ("tensor([1., 2.], requires_grad=True)", lambda: flambeau.tensor([1.0, 2.0], requires_grad=True)),
    ("tensor([2., 4.], grad_fn=<MulBackward0>)",
     lambda: flambeau.tensor([1.0, 2.0], requires_grad=True) * 2),
    ("tensor(3., grad_fn=<SumBackward0>)", lambda: flambeau.tensor([1.0, 2.0], requires_grad=True).sum()),
    ("tensor([])", lambda: flambeau.zeros(0)),
    ("tensor([], size=(0, 3))", lambda: flambeau.zeros(0, 3)),
    ("tensor([], dtype=flambeau.int32)", lambda: flambeau.zeros(0, dtype=flambeau.int32)),
    ("tensor([   0,    1,    2,  ..., 1997, 1998, 1999])", lambda: flambeau.arange(2000)),
    ("tensor([nan, inf, -inf, 1.])", lambda: flambeau.tensor([math.nan, math.inf, -math.inf, 1.0])),
    ("tensor([1.5000,    nan])", lambda: flambeau.tensor([1.5, math.nan])),
    ("tensor([0., -0.])", lambda: flambeau.tensor([0.0, -0.0])),
    ("tensor([-1.5000,  2.0000])", lambda: flambeau.tensor([-1.5, 2.0])),
    ("tensor([1.0000e+08, 1.0000e+00])", lambda: flambeau.tensor([1e8, 1.0])),
    ("tensor([[[0, 1],\n         [2, 3]],\n\n        [[4, 5],\n         [6, 7]]])",
     lambda: flambeau.arange(8).reshape(2, 2, 2)),
    ("tensor([0.3333, 0.3333])", lambda: flambeau.ones(2) / 3),
]


@pytest.mark.parametrize("expected,make", REPRS, ids=[r[0] for r in REPRS])
def test_repr_matches_pytorch(expected, make):
    t = make()
    if str(t.device) != "cpu":  # PyTorch puts device= first among the suffixes
        expected = _with_device(expected, t.device)
    assert repr(t) == expected


def _with_device(text, device):
    depth = 0
    for i, c in enumerate(text):
        if c in "[(":
            depth += 1
        elif c in "])":
            depth -= 1
        elif depth == 1 and text.startswith(", ", i):
            return f"{text[:i]}, device='{device}'{text[i:]}"
    return f"{text[:-1]}, device='{device}')"


# =============================================================================
# PyTorch API conveniences
# =============================================================================

def test_numpy_style_keyword_aliases():
    x = arr(3, 4, seed=40)
    t = flambeau.tensor(x, dtype=F64)
    assert_close(t.sum(axis=0), x.sum(0))
    assert_close(flambeau.mean(t, axis=1, keepdims=True), x.mean(1, keepdims=True))
    assert_close(t.max(axis=1).values, x.max(1))
    assert_close(flambeau.cat([t, t], axis=1), np.concatenate([x, x], 1))
    assert t.argmax(axis=0).shape == (4,) and t[None].squeeze(axis=0).shape == (3, 4)
    assert_close(t.flip(dims=[0]), x[::-1])
    assert [p.shape for p in t.split(split_size=3, dim=1)] == [(3, 3), (3, 1)]
    assert flambeau.zeros(size=(2, 3)).shape == (2, 3) and flambeau.randn(size=(4,)).shape == (4,)


def test_legacy_tensor_types():
    f = flambeau.FloatTensor([1, 2])
    assert f.dtype is F32 and f.tolist() == [1.0, 2.0]
    assert flambeau.LongTensor(2, 3).shape == (2, 3) and flambeau.LongTensor(2).dtype is flambeau.int64
    assert isinstance(f, flambeau.FloatTensor) and not isinstance(f, flambeau.LongTensor)
    assert isinstance(flambeau.tensor([True]), flambeau.BoolTensor)
    assert flambeau.Tensor([1, 2]).dtype is F32 and flambeau.Tensor(2, 3).shape == (2, 3)


def test_counting_ops_and_return_types():
    idx = flambeau.tensor([0, 1, 1, 3])
    assert to_numpy(flambeau.bincount(idx)).tolist() == [1, 2, 0, 1]
    assert to_numpy(flambeau.bincount(idx, minlength=6)).tolist() == [1, 2, 0, 1, 0, 0]
    w = flambeau.bincount(idx, weights=flambeau.tensor([1.0, 2.0, 3.0, 4.0]))
    assert w.dtype is F32 and to_numpy(w).tolist() == [1.0, 5.0, 0.0, 4.0]
    h = flambeau.histc(flambeau.tensor([1.0, 2, 1, 3, 0, -1, 4]), bins=4, min=0, max=3)
    assert to_numpy(h).tolist() == [1.0, 2.0, 1.0, 1.0]
    assert to_numpy(flambeau.histc(flambeau.tensor([1.0, 1.0]), bins=4)).tolist() == [0, 0, 2, 0]
    assert to_numpy(flambeau.repeat_interleave(flambeau.tensor([1, 0, 2]))).tolist() == [0, 2, 2]
    r = flambeau.tensor([[1, 2]]).max(1)
    if str(r.values.device) == "cpu":
        assert repr(r) == ("flambeau.return_types.max(\nvalues=tensor([2]),\n"
                           "indices=tensor([1]))")
    assert type(r).__name__ == "max" and r._fields == ("values", "indices")


def test_numpy_scalars_and_arrays_as_operands():
    t = flambeau.ones(2)
    for out in (np.float64(2.0) * t, t * np.float64(2.0), t / np.int64(2), np.float32(1.0) + t):
        assert isinstance(out, flambeau.Tensor) and out.dtype is F32
    i = flambeau.ones(2, dtype=flambeau.int32)
    assert (i * np.int64(3)).dtype is flambeau.int32
    assert (np.int64(2) - i).dtype is flambeau.int32
    s = t + np.ones(2)  # an array operand is a tensor of its dtype
    assert isinstance(s, flambeau.Tensor) and s.dtype is F64
    assert flambeau.full((2,), np.float64(1.5)).dtype is F32
    assert flambeau.full((2,), np.int32(1)).dtype is flambeau.int64
    if str(t.device) == "cpu":
        r = np.sqrt(flambeau.tensor([4.0, 9.0]))  # a ufunc on a tensor gives a tensor
        assert isinstance(r, flambeau.Tensor) and r.tolist() == [2.0, 3.0]


def test_integer_overflow_wraps_around():
    i8 = flambeau.tensor([100], dtype=flambeau.int8)
    assert (i8 * 1000).tolist() == [-96] and (1000 * i8).tolist() == [-96]
    u8 = flambeau.tensor([250], dtype=flambeau.uint8)
    assert (u8 + 10).tolist() == [4] and (u8 * -1).tolist() == [6]
    assert flambeau.tensor([1], dtype=flambeau.uint8).sub_(2).tolist() == [255]
    assert flambeau.tensor([1, 2], dtype=flambeau.uint8).fill_(-1).tolist() == [255, 255]
    assert (flambeau.tensor([1], dtype=flambeau.int16) + 70000).tolist() == [4465]
