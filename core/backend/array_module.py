"""``ArrayModuleBackend``: every primitive of ``Backend`` over a NumPy-compatible namespace ``xp``.

The NumPy backend is this class with ``xp = numpy``; the CUDA backend uses ``xp = cupy``. A
third party with a NumPy-like library gets a working backend by subclassing it:

    class MyBackend(ArrayModuleBackend):
        name = "mine"
        device_type = "mydev"

        def __init__(self, device):
            import mylib
            super().__init__(device, mylib)
"""
from __future__ import annotations

import contextlib
import json
import math

from .. import _dtype as dt
from .base import Backend

_UNARY_NAMES = {
    "neg": "negative", "abs": "abs", "sign": "sign", "exp": "exp", "exp2": "exp2",
    "expm1": "expm1", "log": "log", "log2": "log2", "log10": "log10", "log1p": "log1p",
    "sqrt": "sqrt", "reciprocal": "reciprocal", "square": "square", "sin": "sin", "cos": "cos",
    "tan": "tan", "asin": "arcsin", "acos": "arccos", "atan": "arctan", "sinh": "sinh",
    "cosh": "cosh", "tanh": "tanh", "asinh": "arcsinh", "acosh": "arccosh", "atanh": "arctanh",
    "floor": "floor", "ceil": "ceil", "round": "rint", "trunc": "trunc", "isnan": "isnan",
    "isinf": "isinf", "isfinite": "isfinite", "logical_not": "logical_not",
    "bitwise_not": "invert",
}

_BINARY_NAMES = {
    "add": "add", "sub": "subtract", "mul": "multiply", "div": "true_divide",
    "floordiv": "floor_divide", "remainder": "remainder", "fmod": "fmod", "pow": "power",
    "maximum": "maximum", "minimum": "minimum", "fmax": "fmax", "fmin": "fmin",
    "atan2": "arctan2", "eq": "equal",
    "ne": "not_equal", "lt": "less", "le": "less_equal", "gt": "greater", "ge": "greater_equal",
    "logical_and": "logical_and", "logical_or": "logical_or", "logical_xor": "logical_xor",
    "bitwise_and": "bitwise_and", "bitwise_or": "bitwise_or", "bitwise_xor": "bitwise_xor",
    "bitwise_left_shift": "left_shift", "bitwise_right_shift": "right_shift",
}

# ops whose NumPy ufunc warns on ordinary inputs (log(0), 1/0, overflow); PyTorch stays silent,
# so these run under errstate(all="ignore"). The others skip that context manager's cost.
_WARNING_UNARY = frozenset(
    """exp exp2 expm1 log log2 log10 log1p sqrt rsqrt reciprocal asin acos acosh atanh sinh cosh
    tan square erfinv""".split()
)
_WARNING_BINARY = frozenset("div floordiv remainder fmod pow atan2 mul".split())

# PyTorch's messages for the failures of LAPACK-backed linear algebra
_LINALG_ERRORS = {
    "inv": "linalg.inv: The diagonal element is zero, the inversion could not be completed "
           "because the input matrix is singular.",
    "solve": "linalg.solve: The solver failed because the input matrix is singular.",
    "cholesky": "linalg.cholesky: The factorization could not be completed because the input "
                "is not positive-definite.",
    "eigh": "linalg.eigh: The algorithm failed to converge because the input matrix is "
            "ill-conditioned or has too many repeated eigenvalues.",
    "svd": "linalg.svd: The algorithm failed to converge because the input matrix is "
           "ill-conditioned or has too many repeated singular values.",
}

_BOOL_RESULT = frozenset("eq ne lt le gt ge logical_and logical_or logical_xor".split())


class _NativeDtypes(dict):
    """flambeau dtype -> native dtype, for the supported dtypes; others raise TypeError."""

    __slots__ = ("backend_name",)

    def __init__(self, backend_name):
        super().__init__()
        self.backend_name = backend_name

    def __missing__(self, dtype):
        raise TypeError(f"backend {self.backend_name!r} does not support dtype {dtype!r}")


class ArrayModuleBackend(Backend):
    """All primitives of ``Backend`` implemented over the array namespace ``xp``."""

    name = "array-module"

    def __init__(self, device, xp):
        super().__init__(device)
        self.xp = xp
        # only the supported dtypes map to native ones: creating an array of another dtype
        # raises TypeError naming this backend (the dict's __missing__), at no cost otherwise
        self._to_native = _NativeDtypes(self.name)
        self._from_native = {}
        for d in dt.all_dtypes:
            native = xp.dtype("bool" if d is dt.bool_ else d.name)
            if d in self.supported_dtypes:
                self._to_native[d] = native
            self._from_native[native] = d
        self._unary = {k: getattr(xp, v) for k, v in _UNARY_NAMES.items() if hasattr(xp, v)}
        self._unary["sigmoid"] = self._sigmoid
        self._unary["rsqrt"] = lambda x: xp.reciprocal(xp.sqrt(x))
        self._unary["erf"] = self._erf
        self._unary["erfinv"] = self._erfinv
        for name in ("floor", "ceil", "round", "trunc"):
            # integers are already whole: NumPy's rint (and NumPy 1.x's floor/ceil/trunc) would
            # return floats for them
            self._unary[name] = _keep_integers(self._unary[name])
        self._binary = {k: getattr(xp, v) for k, v in _BINARY_NAMES.items()}
        self._reduce = {
            "sum": xp.sum, "prod": xp.prod, "max": xp.max, "min": xp.min, "all": xp.all,
            "any": xp.any, "mean": xp.mean,
        }
        errstate = getattr(xp, "errstate", None)
        self._quiet = (lambda: errstate(all="ignore")) if errstate else contextlib.nullcontext
        self._int64 = xp.dtype("int64")  # indices are int64 on every backend
        self._ndarray = xp.ndarray
        # NumPy 1.x computes a 0-d array with a Python float in float64 (value-based casting);
        # NumPy 2 and PyTorch compute in the array's dtype. Cast such scalars first on NumPy 1.
        version = getattr(xp, "__version__", "2")
        self._weak_scalar_fix = xp.__name__ == "numpy" and version.split(".")[0] == "1"

    # ------------------------------------------------------------------ dtypes
    def native_dtype(self, dtype):
        return self._to_native[dtype]

    def dtype_of(self, x):
        return self._from_native[x.dtype]

    # ------------------------------------------------------------------ creation
    def asarray(self, obj, dtype):
        return self.xp.array(obj, dtype=self._to_native[dtype])

    def to_host(self, x):
        get = getattr(x, "get", None)  # CuPy and friends copy to the host with .get()
        if get is not None and type(x).__module__.split(".")[0] != "numpy":
            return get()
        return x

    def empty(self, shape, dtype):
        return self.xp.empty(shape, dtype=self._to_native[dtype])

    def full(self, shape, value, dtype):
        return self.xp.full(shape, value, dtype=self._to_native[dtype])

    def arange(self, start, stop, step, dtype):
        return self.xp.arange(start, stop, step, dtype=self._to_native[dtype])

    def copy(self, x):
        return self.xp.array(x, copy=True, order="C")

    def astype(self, x, dtype):
        return x.astype(self._to_native[dtype], copy=False)

    def from_dlpack(self, obj):
        return self.xp.from_dlpack(obj)

    # ------------------------------------------------------------------ elementwise
    def _call_quiet(self, fn, *args, **kwargs):
        """``fn(*args, **kwargs)`` with floating-point warnings silenced; a backend may override
        it with something cheaper than entering ``self._quiet()`` (it runs once per op)."""
        with self._quiet():
            return fn(*args, **kwargs)

    def unary(self, op, x):
        if op in _WARNING_UNARY:
            out = self._call_quiet(self._unary[op], x)
        else:
            out = self._unary[op](x)
        return out if type(out) is self._ndarray else self.xp.asarray(out)

    def binary(self, op, a, b):
        if self._weak_scalar_fix and a.ndim == 0 and type(b) in (float, int):
            b = a.dtype.type(b)
        if op in _WARNING_BINARY:
            out = self._call_quiet(self._binary[op], a, b)
        else:
            out = self._binary[op](a, b)
        if op not in _BOOL_RESULT and out.dtype != a.dtype:
            out = out.astype(a.dtype)
        return out if type(out) is self._ndarray else self.xp.asarray(out)

    def binary_inplace(self, op, a, b):
        if self._weak_scalar_fix and a.ndim == 0 and type(b) in (float, int):
            b = a.dtype.type(b)
        self._call_quiet(self._binary[op], a, b, out=a, casting="unsafe")
        return a

    def where(self, cond, a, b):
        out = self.xp.where(cond, a, b)
        ref = a if hasattr(a, "dtype") else b
        if hasattr(ref, "dtype") and out.dtype != ref.dtype:
            out = out.astype(ref.dtype)
        return out if type(out) is self._ndarray else self.xp.asarray(out)

    def _sigmoid(self, x):
        xp = self.xp
        # split by sign so that exp never overflows: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) otherwise
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)

    def _erf(self, x):
        special = _scipy_special(self.xp)
        if special is not None:
            return special.erf(x).astype(x.dtype, copy=False)  # scipy computes float16 as float32
        vec = self.xp.vectorize(math.erf, otypes=[x.dtype])
        return vec(x) if x.size else x.copy()

    def _erfinv(self, x):
        special = _scipy_special(self.xp)
        if special is not None:
            return special.erfinv(x).astype(x.dtype, copy=False)
        xp = self.xp
        # Giles' single-precision approximation, then Newton steps on erf for full precision
        w = -xp.log((1.0 - x) * (1.0 + x))
        small = w < 5.0
        ws = w - 2.5
        wl = xp.sqrt(xp.where(small, 5.0, w)) - 3.0
        p_small = _polyval(ws, (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                                0.00021858087, -0.00125372503, -0.00417768164, 0.246640727,
                                1.50140941))
        p_large = _polyval(wl, (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
                                0.00573950773, -0.0076224613, 0.00943887047, 1.00167406,
                                2.83297682))
        y = xp.where(small, p_small, p_large) * x
        for _ in range(3):
            err = self._erf(y) - x
            y = y - err / (2.0 / math.sqrt(math.pi) * xp.exp(-y * y))
        y = xp.where(x == 1, xp.inf, xp.where(x == -1, -xp.inf, y))
        return y.astype(x.dtype, copy=False)

    # ------------------------------------------------------------------ reductions
    def _arr(self, out):
        """NumPy returns scalars, not 0-d arrays, from reductions and ufuncs on 0-d input;
        flambeau's arrays must stay arrays (writable, with views)."""
        return out if type(out) is self._ndarray else self.xp.asarray(out)

    def reduce(self, op, x, axes, keepdims):
        return self._arr(self._reduce_raw(op, x, axes, keepdims))

    def _reduce_raw(self, op, x, axes, keepdims):
        xp = self.xp
        if op in ("sum", "prod") and x.dtype.kind in "biu":
            return self._reduce[op](x, axis=axes, keepdims=keepdims, dtype=self._int64)
        if op == "mean":
            return xp.mean(x, axis=axes, keepdims=keepdims, dtype=x.dtype)
        return self._reduce[op](x, axis=axes, keepdims=keepdims)

    def arg_reduce(self, op, x, axis, keepdims):
        return self._arr(self._arg_reduce_raw(op, x, axis, keepdims))

    def _arg_reduce_raw(self, op, x, axis, keepdims):
        fn = self.xp.argmax if op == "argmax" else self.xp.argmin
        if axis is None:
            out = fn(x.reshape(-1))
            return out.reshape((1,) * x.ndim) if keepdims else out
        out = fn(x, axis=axis)
        return self.xp.expand_dims(out, axis) if keepdims else out

    def cumulative(self, op, x, axis):
        dtype = self._int64 if x.dtype.kind in "biu" else x.dtype
        fn = self.xp.cumsum if op == "cumsum" else self.xp.cumprod
        return fn(x, axis=axis, dtype=dtype)

    def sort(self, x, axis, descending, stable):
        xp = self.xp
        kind = "stable" if stable or descending else None
        if descending:
            # sort the reversed array ascending (stably), then reverse back: equal elements keep
            # their original order, as PyTorch's stable descending sort does
            n = x.shape[axis]
            rev = xp.flip(x, axis)
            idx = xp.flip(xp.argsort(rev, axis=axis, kind=kind), axis)
            idx = (n - 1) - idx
        else:
            idx = xp.argsort(x, axis=axis, kind=kind)
        idx = idx.astype(self._int64, copy=False)
        return xp.take_along_axis(x, idx, axis), idx

    # ------------------------------------------------------------------ linear algebra
    def matmul(self, a, b):
        return self._arr(self.xp.matmul(a, b))

    def linalg(self, op, *arrays, **params):
        """``Backend.linalg`` over ``xp.linalg`` (LAPACK for NumPy, cuSOLVER for CuPy)."""
        from .base import LinAlgError

        la = self.xp.linalg
        try:
            with self._quiet():
                if op == "svdvals":
                    return self._arr(la.svd(arrays[0], compute_uv=False))
                if op == "svd":
                    return tuple(la.svd(arrays[0], full_matrices=params.get("full_matrices", True)))
                if op == "qr":
                    return tuple(la.qr(arrays[0], mode=params.get("mode", "reduced")))
                if op in ("eigh", "eigvalsh"):
                    out = getattr(la, op)(arrays[0], UPLO=params.get("uplo", "L"))
                    return tuple(out) if op == "eigh" else out
                if op == "slogdet":
                    sign, logabs = la.slogdet(arrays[0])
                    return self._arr(sign), self._arr(logabs)
                if op in ("inv", "solve", "det", "cholesky"):
                    return self._arr(getattr(la, op)(*arrays))
        except Exception as exc:  # xp's LinAlgError (NumPy's; CuPy reuses it), by name
            if type(exc).__name__ != "LinAlgError":
                raise
            raise LinAlgError(_LINALG_ERRORS.get(op, f"linalg.{op}: {exc}")) from None
        return super().linalg(op, *arrays, **params)

    def einsum(self, equation, *operands):
        """Faster path for ``flambeau.einsum`` forward (optional; core has a composite)."""
        return self._arr(self.xp.einsum(equation, *operands, optimize=True))

    # ------------------------------------------------------------------ shape
    def reshape(self, x, shape):
        return x.reshape(shape)

    def permute(self, x, axes):
        return x.transpose(axes)

    def broadcast_to(self, x, shape):
        return self.xp.broadcast_to(x, shape)

    def ascontiguous(self, x):
        return self.xp.ascontiguousarray(x)

    def is_contiguous(self, x):
        return bool(x.flags.c_contiguous)

    def shares_memory(self, a, b):
        return bool(self.xp.may_share_memory(a, b))

    def getitem(self, x, key):
        out = x[key]
        if type(out) is not self._ndarray:
            # an element: index with a trailing Ellipsis to get a 0-d view instead of a scalar
            if not any(k is Ellipsis for k in key):
                return x[key + (Ellipsis,)]
            return self.xp.asarray(out)
        return out

    def setitem(self, x, key, value):
        x[key] = value

    def index_add(self, x, key, value):
        add_at = self.xp.add.at if hasattr(self.xp.add, "at") else None
        if add_at is not None:
            add_at(x, key, value)
        else:  # CuPy spells it scatter_add
            import cupyx  # type: ignore

            cupyx.scatter_add(x, key, value)

    def concatenate(self, arrays, axis):
        return self.xp.concatenate(arrays, axis=axis)

    def pad(self, x, pad_width, value):
        return self.xp.pad(x, pad_width, mode="constant", constant_values=value)

    def flip(self, x, axes):
        return self.xp.flip(x, axes)

    def take_along_axis(self, x, indices, axis):
        return self.xp.take_along_axis(x, indices, axis)

    def put_along_axis(self, x, indices, values, axis):
        self.xp.put_along_axis(x, indices, values, axis)

    def nonzero(self, x):
        return tuple(i.astype(self._int64, copy=False) for i in self.xp.nonzero(x))

    # ------------------------------------------------------------------ composites with xp fast paths
    # composites over inf/NaN-prone arithmetic (fully masked rows give -inf - -inf): NumPy
    # would warn where PyTorch is silent
    def softmax(self, x, axis):
        with self._quiet():
            return super().softmax(x, axis)

    def log_softmax(self, x, axis):
        with self._quiet():
            return super().log_softmax(x, axis)

    def logsumexp(self, x, axes, keepdims):
        with self._quiet():
            return super().logsumexp(x, axes, keepdims)

    def tril(self, x, k):
        return self.xp.tril(x, k)

    def triu(self, x, k):
        return self.xp.triu(x, k)

    def clip(self, x, lo, hi):
        if lo is None and hi is None:
            return x
        out = self.xp.clip(x, lo, hi)
        return out if out.dtype == x.dtype else out.astype(x.dtype)

    # im2col, conv*, max_pool*, avg_pool*: the defaults of ``ConvComposites``; a backend adds the
    # strided-view fast paths of ``ArrayConvMixin`` (``_array_conv.py``) by mixing it in, as
    # the NumPy backend does

    # ------------------------------------------------------------------ random
    def generator(self, seed):
        return self.xp.random.default_rng(seed)

    def generator_get_state(self, gen):
        import numpy

        state = json.dumps(gen.bit_generator.state, default=int).encode()
        return numpy.frombuffer(state, dtype=numpy.uint8).copy()

    def generator_set_state(self, gen, state):
        gen.bit_generator.state = json.loads(bytes(bytearray(state.tolist())).decode())

    def random_uniform(self, gen, shape, dtype):
        native = self._to_native[dtype]
        if native.itemsize >= 4:
            return gen.random(shape, dtype=native)
        # float16 has 11 significant bits: rounding a finer draw would give 1.0 about once in
        # 4096 draws; multiples of 2**-11 are exact and stay in [0, 1)
        out = gen.integers(0, 2048, size=shape).astype(native)
        out *= 2.0 ** -11  # in place: a 0-d result stays an array
        return out

    def random_normal(self, gen, shape, dtype):
        native = self._to_native[dtype]
        if native.itemsize >= 4:
            return gen.standard_normal(shape, dtype=native)
        return gen.standard_normal(shape).astype(native)

    def random_integers(self, gen, low, high, shape, dtype):
        return gen.integers(low, high, size=shape).astype(self._to_native[dtype], copy=False)

    def random_permutation(self, gen, n):
        return gen.permutation(n).astype(self._int64, copy=False)


def _keep_integers(fn):
    def rounding(x):
        return fn(x) if x.dtype.kind == "f" else x.copy()

    return rounding


def _polyval(x, coeffs):
    out = coeffs[0]
    for c in coeffs[1:]:
        out = out * x + c
    return out


_special_cache: dict = {}


def _scipy_special(xp):
    """``scipy.special`` (or CuPy's) when installed: erf and erfinv to full precision."""
    key = xp.__name__
    if key not in _special_cache:
        mod = None
        try:
            if key == "numpy":
                import scipy.special as mod  # type: ignore
            elif key == "cupy":
                import cupyx.scipy.special as mod  # type: ignore
        except ImportError:
            mod = None
        _special_cache[key] = mod
    return _special_cache[key]
