# ruff: noqa: F401, F811, I001
# This module is the public namespace: most imports are re-exports, in an order that installs
# the Tensor methods before the names that use them; functions take torch-style `dtype=` args.
"""flambeau: a define-by-run deep-learning framework with PyTorch's API and pluggable backends.

>>> import flambeau as torch
>>> x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> (x ** 2).sum().backward()
>>> x.grad
tensor([2., 4., 6.])

Importing flambeau loads no backend library: backends are plugins, found through Python entry
points the first time a device is used (see ``flambeau.backends`` and ``python -m flambeau``).
"""
from __future__ import annotations

__version__ = "0.1.0"

from . import _dtype
from ._device import device
from ._dtype import (
    can_cast, finfo, get_default_dtype, iinfo, promote_types, result_type, set_default_dtype,
)
from ._dtype import dtype  # noqa: F401  (flambeau.dtype is the class, as torch.dtype)
from ._tensor import Size, Tensor
from ._format import set_printoptions
from .autograd.grad_mode import (
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
    set_grad_enabled,
)
from . import _ops  # installs the Tensor methods
from ._creation import (
    arange, as_tensor, asarray, empty, empty_like, eye, from_dlpack, from_numpy, full, full_like,
    get_default_device, linspace, logspace, ones, ones_like, scalar_tensor, set_default_device,
    tensor, zeros, zeros_like, _LEGACY_TYPES,
)
from ._random import (
    Generator, bernoulli, default_generator, get_rng_state, initial_seed, manual_seed,
    multinomial, normal, poisson, rand, rand_like, randint, randint_like, randn, randn_like,
    randperm, seed, set_rng_state,
)
from ._ops.elementwise import *  # noqa: F401,F403
from ._ops.elementwise import (  # noqa: F401
    abs, add, clamp, div, eq, ge, gt, le, lt, maximum, minimum, mul, ne, pow, round, sub, where,
)
from ._ops.reduction import (  # noqa: F401
    all, amax, amin, aminmax, any, argmax, argmin, argsort, count_nonzero, cummax, cummin,
    cumprod, cumsum, kthvalue, logcumsumexp, logsumexp, max, mean, median, min, msort, nanmean,
    nansum, norm, prod, quantile, sort, std, std_mean, sum, topk, unique, var, var_mean,
    bincount, histc,
)
from ._ops.shape import (  # noqa: F401
    atleast_1d, atleast_2d, atleast_3d, broadcast_shapes, broadcast_tensors, broadcast_to, cat,
    chunk, clone, column_stack, concat, concatenate, diag, diag_embed, diagonal, dstack, expand,
    flatten, flip, fliplr, flipud, hstack, movedim, moveaxis, narrow, permute, ravel,
    repeat_interleave, reshape, roll, rot90, row_stack, select, split, squeeze, stack, swapaxes,
    swapdims, t, tensor_split, tile, trace, transpose, tril, triu, unbind, unflatten, unsqueeze,
    vstack,
)
from ._ops.indexing import (  # noqa: F401
    argwhere, gather, index_add, index_copy, index_fill, index_put, index_select, masked_fill,
    masked_scatter, masked_select, nonzero, scatter, scatter_add, scatter_reduce, take,
    take_along_dim,
)
from ._ops.linalg import (  # noqa: F401
    addbmm, addmm, addmv, baddbmm, bmm, dot, einsum, ger, inner, matmul, mm, mv, outer,
    tensordot, vdot,
)
from ._ops.misc import (  # noqa: F401  (also installs their Tensor methods)
    block_diag, bucketize, cartesian_prod, cdist, chain_matmul, cholesky, cholesky_inverse,
    cholesky_solve, combinations, corrcoef, cov, cross, cumulative_trapezoid, det, diff, dist,
    heaviside, inverse, kron, logdet, matrix_exp, matrix_power, meshgrid, pinverse, qr, renorm,
    searchsorted, slogdet, svd, trapezoid, trapz, triangular_solve, tril_indices, triu_indices,
    unravel_index, vander,
)
from . import autograd, backends, linalg  # noqa: F401

globals().update(_LEGACY_TYPES)  # FloatTensor, LongTensor, ... (legacy typed constructors)

# dtypes under their PyTorch names
bool = _dtype.bool_  # noqa: A001
uint8 = _dtype.uint8
int8 = _dtype.int8
int16 = _dtype.int16
short = _dtype.int16
int32 = _dtype.int32
int = _dtype.int32  # noqa: A001
int64 = _dtype.int64
long = _dtype.int64
float16 = _dtype.float16
half = _dtype.float16
float32 = _dtype.float32
float = _dtype.float32  # noqa: A001
float64 = _dtype.float64
double = _dtype.float64

Size = Size
inf = __import__("math").inf
nan = __import__("math").nan
pi = __import__("math").pi
e = __import__("math").e
newaxis = None
strided = "strided"
contiguous_format = "contiguous_format"
preserve_format = "preserve_format"
channels_last = "channels_last"


def is_tensor(obj):
    """Whether ``obj`` is a flambeau Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.dtype.is_floating_point


def is_nonzero(input):
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return builtins_bool(input.item())


builtins_bool = __import__("builtins").bool


def numel(input):
    return input.numel()


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether ``|input - other| <= atol + rtol * |other|`` everywhere."""
    return builtins_bool(isclose(input, other, rtol, atol, equal_nan).all().item())


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    if not isinstance(other, Tensor):
        other = full_like(input, other)
    if input.dtype is not other.dtype:
        d = promote_types(input.dtype, other.dtype)
        input, other = input.to(d), other.to(d)
    if not input.dtype.is_floating_point:
        return input == other
    with no_grad():
        diff = (input - other).abs()
        close = (input == other) | (diff <= atol + rtol * other.abs())
        close = close & input.isfinite() & other.isfinite() | (input == other)
        if equal_nan:
            close = close | (input.isnan() & other.isnan())
    return close


def equal(input, other):
    """True if both tensors have the same shape and elements."""
    return input.shape == other.shape and builtins_bool((input == other).all().item())


def get_num_threads():
    import os

    return os.cpu_count() or 1


def set_num_threads(n):
    """Accepted for compatibility: the NumPy backend's BLAS picks its own thread count."""


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Accepted for compatibility: flambeau's CPU ops are deterministic."""


def compile(model=None, **kwargs):  # noqa: A001
    """No-op stand-in for ``torch.compile``: returns the model (flambeau runs eagerly)."""
    if model is None:
        return lambda m: m
    return model


def typename(obj):
    if isinstance(obj, Tensor):
        return obj.type()
    return type(obj).__name__


def save(obj, f, **kwargs):
    """Save ``obj`` (a state_dict, a checkpoint dict, ...) to ``f`` as a safetensors file,
    atomically and without pickle. See ``flambeau.serialization.save``."""
    from .serialization import save as _save

    return _save(obj, f, **kwargs)


def load(f, map_location=None, weights_only=True, **kwargs):
    """Load what ``flambeau.save`` wrote, or any safetensors file; never runs code.
    See ``flambeau.serialization.load``."""
    from .serialization import load as _load

    return _load(f, map_location=map_location, weights_only=weights_only, **kwargs)


# activations PyTorch also has at top level and as Tensor methods; they live in nn.functional
def relu(input):
    """``max(x, 0)`` (``torch.relu``)."""
    from .nn.functional import relu as _relu

    return _relu(input)


def relu_(input):
    from .nn.functional import relu as _relu

    return _relu(input, inplace=True)


def softmax(input, dim, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim`` (``torch.softmax``)."""
    from .nn.functional import softmax as _softmax

    return _softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, dtype=None):
    """``x - logsumexp(x)`` along ``dim`` (``torch.log_softmax``)."""
    from .nn.functional import log_softmax as _log_softmax

    return _log_softmax(input, dim, dtype=dtype)


for _name, _fn in (("relu", relu), ("relu_", relu_), ("softmax", softmax),
                   ("log_softmax", log_softmax)):
    setattr(Tensor, _name, _fn)

# ``flambeau.mul(a, b, out=c)`` writes into ``c`` (operators and methods stay unwrapped)
from ._ops import _out  # noqa: E402

_out.install(globals())
_out.install(vars(linalg))

# smaller parts of PyTorch's API: Tensor methods and namespace functions defined only where no
# op module defines them (``allclose``, ``mode``, ``unfold``, ``isin``, windows, switches, ...)
from ._ops import compat as _compat  # noqa: E402
from . import _namespace  # noqa: E402

_compat.install()
for _name in _compat.NAMESPACE:
    globals().setdefault(_name, getattr(_compat, _name))
_namespace.install(globals())
del _name


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``torch.vmap``: see ``flambeau.func.vmap``."""
    from .func import vmap as _vmap

    return _vmap(func, in_dims, out_dims, randomness, chunk_size=chunk_size)


def __getattr__(name):
    # heavy or optional subpackages load on first use
    import importlib

    if name == "hookimpl":  # pluggy (and typing/inspect) load only when a plugin asks
        from ._plugin import hookimpl

        return hookimpl
    if name in ("nn", "optim", "utils", "testing", "serialization", "cuda", "random", "return_types",
                "examples", "func", "jit", "distributions", "special", "amp"):
        return importlib.import_module(f"flambeau.{name}")
    if name in ("autocast", "is_autocast_enabled"):  # torch.autocast (flambeau.amp)
        return getattr(importlib.import_module("flambeau.amp"), name)
    raise AttributeError(f"module 'flambeau' has no attribute {name!r}")
