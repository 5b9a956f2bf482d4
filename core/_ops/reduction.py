"""Reductions and scans: sum, mean, prod, max/min, var/std, norm, logsumexp, cumsum, sort, topk."""
from __future__ import annotations

import builtins
import collections
import math

from ._util import InternalFunction, Tensor, dt, named, wrap_dim, wrap_dims


def _ret(name, fields):
    cls = collections.namedtuple(name, fields)
    cls.__module__ = "flambeau.return_types"
    cls.__repr__ = _ret_repr  # as PyTorch: flambeau.return_types.max(\nvalues=...,\nindices=...)
    return cls


def _ret_repr(self):
    body = ",\n".join(f"{k}={v!r}" for k, v in zip(self._fields, self))
    return f"flambeau.return_types.{type(self).__name__}(\n{body})"


values_indices = {n: _ret(n, ["values", "indices"]) for n in
                  ("max", "min", "sort", "topk", "kthvalue", "median", "mode", "cummax", "cummin",
                   "aminmax")}
values_indices["aminmax"] = _ret("aminmax", ["min", "max"])


def _axes(dim, ndim, op):
    """Reduction axes: None or an empty sequence means every dim; a 0-d tensor accepts dim 0 or
    -1 and reduces over nothing."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    axes = wrap_dims(dim, ndim, op)
    return axes if ndim else ()


def _keep_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _expand_back(g, in_shape, axes, keepdim):
    """Broadcast a reduced gradient back over the reduced ``axes`` of ``in_shape``."""
    if not keepdim and g.ndim:  # (a 0-d g, every axis reduced, expands as it is)
        g = g.reshape(_keep_shape(in_shape, axes))
    return g.expand(in_shape)


class Sum(InternalFunction):
    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        b = x._backend
        data = x._data
        if dtype is not None and dtype is not x.dtype:
            data = b.astype(data, dtype)
        out = b.reduce("sum", data, axes, keepdim)
        if dtype is not None and b.dtype_of(out) is not dtype:
            out = b.astype(out, dtype)
        ctx.in_shape = x._data.shape
        ctx.axes = axes
        ctx.keepdim = keepdim
        return Tensor._make(out, b, b.dtype_of(out), x.device)

    @staticmethod
    def backward(ctx, g):  # d sum = 1 for every element
        return _expand_back(g, ctx.in_shape, ctx.axes, ctx.keepdim), None, None, None


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    axes = _axes(dim, input.ndim, "sum")
    if dtype is not None and input._requires_grad and dtype is not input.dtype:
        input = input.to(dtype)  # the gradient flows back through the cast in input's dtype
    return (Sum if dim is None else _SumDim).apply(input, axes, keepdim, dtype)


class _SumDim(Sum):
    _backward_name = "SumBackward1"  # PyTorch's node for sum(dim=...)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    from .elementwise import where

    if input.dtype.is_floating_point:
        return named(sum(where(input.isnan(), 0.0, input), dim, keepdim, dtype=dtype),
                     "NansumBackward0")
    return sum(input, dim, keepdim, dtype=dtype)


class Mean(InternalFunction):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        b = x._backend
        ctx.in_shape = x.shape
        ctx.axes = axes
        ctx.keepdim = keepdim
        n = 1
        for a in axes:
            n *= x.shape[a]
        ctx.n = n
        return Tensor._make(b.reduce("mean", x._data, axes, keepdim), b, x.dtype, x.device)

    @staticmethod
    def backward(ctx, g):  # d mean = 1/n for every element
        return _expand_back(g, ctx.in_shape, ctx.axes, ctx.keepdim) / ctx.n, None, None


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    if dtype is not None:
        input = input.to(dtype)
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {dt.scalar_type_name(input.dtype)}"
        )
    return (Mean if dim is None else _MeanDim).apply(input, _axes(dim, input.ndim, "mean"), keepdim)


class _MeanDim(Mean):
    _backward_name = "MeanBackward1"


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    notnan = ~input.isnan()
    return nansum(input, dim, keepdim, dtype=dtype) / notnan.sum(dim, keepdim)


class Prod(InternalFunction):
    @staticmethod
    def forward(ctx, x, axis, keepdim, dtype):
        b = x._backend
        data = x._data if dtype is None else b.astype(x._data, dtype)
        axes = tuple(range(x.ndim)) if axis is None else (axis,)
        out = b.reduce("prod", data, axes, keepdim)
        ctx.save_for_backward(x)
        ctx.axis = axis
        ctx.keepdim = keepdim
        return Tensor._make(out, b, b.dtype_of(out), x.device)

    @staticmethod
    def backward(ctx, g):  # d prod / dx_i = product of the other elements (zero-safe)
        x, = ctx.saved_tensors
        axis = ctx.axis
        flat = x.reshape(-1) if axis is None else x.movedim(axis, -1)
        others = _exclusive_prod(flat)
        if axis is None:
            others = others.reshape(x.shape)
            return g.reshape(()).expand(x.shape) * others, None, None, None
        others = others.movedim(-1, axis)
        if not ctx.keepdim:
            g = g.unsqueeze(axis)
        return g * others, None, None, None


def _exclusive_prod(x):
    """For each position along the last dim, the product of all other elements."""
    n = x.shape[-1]
    if n == 0:
        return x
    ones = x.new_ones(*x.shape[:-1], 1)
    left = cat_([ones, x.narrow(-1, 0, n - 1).cumprod(-1)], -1)
    rev = x.flip(-1)
    right = cat_([ones, rev.narrow(-1, 0, n - 1).cumprod(-1)], -1).flip(-1)
    return left * right


def cat_(ts, dim):
    from .shape import cat

    return cat(ts, dim)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    axis = None if dim is None else wrap_dim(dim, input.ndim, "prod")
    if axis is not None and input.ndim == 0:
        axis = None
    if dtype is not None and input._requires_grad and dtype is not input.dtype:
        input, dtype = input.to(dtype), None
    return (Prod if dim is None else _ProdDim).apply(input, axis, keepdim, dtype)


class _ProdDim(Prod):
    _backward_name = "ProdBackward1"


# -----------------------------------------------------------------------------
# max / min
# -----------------------------------------------------------------------------


class _AllReduceMinMax(InternalFunction):
    """amax/amin (and max()/min() without dim): ties share the gradient evenly."""

    op = "max"
    name = "amax"

    @classmethod
    def forward(cls, ctx, x, axes, keepdim):
        b = x._backend
        if x.numel() == 0 and (not axes or builtins.any(x.shape[a] == 0 for a in axes)):
            if x.ndim == 0 or len(axes) == x.ndim:
                raise RuntimeError(
                    f"{cls.name}(): Expected reduction dim to be specified for input.numel() == 0. "
                    "Specify the reduction dim with the 'dim' argument."
                )
            bad = next(a for a in axes if x.shape[a] == 0)
            raise IndexError(f"{cls.name}(): Expected reduction dim {bad} to have non-zero size.")
        out = Tensor._make(b.reduce(cls.op, x._data, axes, keepdim), b, x.dtype, x.device)
        ctx.save_for_backward(x, out)
        ctx.axes = axes
        ctx.keepdim = keepdim
        return out

    @classmethod
    def backward(cls, ctx, g):  # gradient / number of elements equal to the extreme
        x, out = ctx.saved_tensors
        o = out if ctx.keepdim else out.reshape(_keep_shape(x.shape, ctx.axes))
        gk = g if ctx.keepdim else g.reshape(_keep_shape(x.shape, ctx.axes))
        mask = (x == o).to(g.dtype)
        count = mask.sum(ctx.axes, keepdim=True)
        return mask * (gk / count), None, None


class Amax(_AllReduceMinMax):
    op = "max"
    name = "amax"


class Amin(_AllReduceMinMax):
    op = "min"
    name = "amin"


class _Max(Amax):
    name = "max"
    _backward_name = "MaxBackward1"  # max() of everything


class _Min(Amin):
    name = "min"
    _backward_name = "MinBackward1"


def amax(input, dim=(), keepdim=False, *, out=None):
    return Amax.apply(input, _axes(dim, input.ndim, "amax"), keepdim)


def amin(input, dim=(), keepdim=False, *, out=None):
    return Amin.apply(input, _axes(dim, input.ndim, "amin"), keepdim)


class MaxDim(InternalFunction):
    """``max(input, dim)``: the values and (non-differentiable) indices of the first maximum."""

    op = "argmax"
    _backward_name = "MaxBackward0"

    @classmethod
    def forward(cls, ctx, x, d, keepdim):
        b = x._backend
        idx = b.arg_reduce(cls.op, x._data, d, True)
        key = tuple(idx if i == d else b.reshape(b.arange(0, n, 1, dt.int64),
                                                  tuple(n if j == i else 1 for j in range(x.ndim)))
                    for i, n in enumerate(x.shape))
        values = b.getitem(x._data, key)
        if not keepdim:
            shape = tuple(n for i, n in enumerate(x.shape) if i != d)
            values, idx = b.reshape(values, shape), b.reshape(idx, shape)
        ind = Tensor._make(idx, b, dt.int64, x.device)
        ctx.mark_non_differentiable(ind)
        ctx.save_for_backward(ind)
        ctx.meta = (x.shape, d, keepdim)
        return Tensor._make(values, b, x.dtype, x.device), ind

    @staticmethod
    def backward(ctx, g, g_ind):  # the gradient goes to the selected element of each slice
        (ind,) = ctx.saved_tensors
        shape, d, keepdim = ctx.meta
        if not keepdim:
            g, ind = g.unsqueeze(d), ind.unsqueeze(d)
        return g.new_zeros(shape).scatter(d, ind, g), None, None


class MinDim(MaxDim):
    op = "argmin"
    _backward_name = "MinBackward0"


def _minmax_dim(input, dim, keepdim, op):
    d = wrap_dim(dim, input.ndim, op)
    if input.ndim and input.shape[d] == 0:
        raise IndexError(
            f"{op}(): Expected reduction dim {d} to have non-zero size."
        )
    if input.ndim == 0:
        b = input._backend
        return values_indices[op](input.clone(), Tensor._make(b.full((), 0, dt.int64), b, dt.int64,
                                                              input.device))
    return values_indices[op](*(MaxDim if op == "max" else MinDim).apply(input, d, keepdim))


def max(input, dim=None, keepdim=False, *, out=None):
    """``max(input)``: the largest value; ``max(input, dim)``: (values, indices);
    ``max(input, other)``: elementwise maximum."""
    if isinstance(dim, Tensor):
        from .elementwise import maximum

        return maximum(input, dim)
    if dim is None:
        return _Max.apply(input, tuple(range(input.ndim)), False)
    return _minmax_dim(input, dim, keepdim, "max")


def min(input, dim=None, keepdim=False, *, out=None):
    if isinstance(dim, Tensor):
        from .elementwise import minimum

        return minimum(input, dim)
    if dim is None:
        return _Min.apply(input, tuple(range(input.ndim)), False)
    return _minmax_dim(input, dim, keepdim, "min")


def aminmax(input, *, dim=None, keepdim=False):
    if dim is None:
        return values_indices["aminmax"](amin(input), amax(input))
    return values_indices["aminmax"](amin(input, dim, keepdim), amax(input, dim, keepdim))


def _arg(input, dim, keepdim, op):
    b = input._backend
    if input.numel() == 0:
        raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0.")
    if dim is None:
        out = b.arg_reduce(op, input._data, None, False)
        t = Tensor._make(out, b, dt.int64, input.device)
        return t.reshape((1,) * input.ndim) if keepdim else t
    d = wrap_dim(dim, input.ndim, op)
    out = b.arg_reduce(op, input._data, d if input.ndim else None, keepdim)
    return Tensor._make(out, b, dt.int64, input.device)


def argmax(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, "argmax")


def argmin(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, "argmin")


# -----------------------------------------------------------------------------
# logical reductions (not differentiable)
# -----------------------------------------------------------------------------


def _logical_reduce(input, dim, keepdim, op):
    b = input._backend
    axes = _axes(dim, input.ndim, op)
    data = input._data if input.dtype is dt.bool_ else b.binary("ne", input._data, 0)
    out = b.reduce(op, data, axes, keepdim)
    # PyTorch returns uint8 for uint8 input, bool otherwise
    res = Tensor._make(out, b, dt.bool_, input.device)
    return res.to(dt.uint8) if input.dtype is dt.uint8 else res


def all(input, dim=None, keepdim=False, *, out=None):
    return _logical_reduce(input, dim, keepdim, "all")


def any(input, dim=None, keepdim=False, *, out=None):
    return _logical_reduce(input, dim, keepdim, "any")


def count_nonzero(input, dim=None):
    return (input != 0).sum(dim)


# -----------------------------------------------------------------------------
# statistics
# -----------------------------------------------------------------------------


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


class Var(InternalFunction):
    """Variance (``std``: its square root) over ``axes`` with Bessel's ``correction``."""

    root = False

    @classmethod
    def forward(cls, ctx, x, axes, keepdim, correction):
        b = x._backend
        n = 1
        for a in axes:
            n *= x.shape[a]
        d = b.binary("sub", x._data, b.reduce("mean", x._data, axes, True))
        out = b.binary("div", b.reduce("sum", b.binary("mul", d, d), axes, keepdim),
                       float(builtins_max(n - correction, 0)))
        if cls.root:
            out = b.unary("sqrt", out)
        y = Tensor._make(out, b, x.dtype, x.device)
        ctx.save_for_backward(x, y if cls.root else None)
        ctx.meta = (axes, keepdim, n - correction)
        return y

    @classmethod
    def backward(cls, ctx, g):  # d var = 2 (x - mean) / (n - c); d std = d var / (2 std)
        x, y = ctx.saved_tensors
        axes, keepdim, dof = ctx.meta
        if cls.root:
            g = g / (2 * y)
        if not keepdim:
            g = g.reshape(_keep_shape(x.shape, axes))
        scale = 2.0 / dof if dof > 0 else math.inf  # no degrees of freedom: inf/nan, as PyTorch
        return g * scale * (x - x.mean(axes, keepdim=True)), None, None, None


class Std(Var):
    root = True


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with Bessel's ``correction`` (1 by default)."""
    if isinstance(dim, bool):  # var(input, unbiased)
        unbiased, dim = dim, None
    c = _correction(unbiased, correction)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"std and var only support floating point and complex dtypes, got {input.dtype.name}")
    return Var.apply(input, _axes(dim, input.ndim, "var"), keepdim, c)


def builtins_max(a, b):
    return a if a > b else b


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    c = _correction(unbiased, correction)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"std and var only support floating point and complex dtypes, got {input.dtype.name}")
    return Std.apply(input, _axes(dim, input.ndim, "std"), keepdim, c)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    return (var(input, dim, unbiased, keepdim, correction=correction),
            input.mean(_axes(dim, input.ndim, "var_mean"), keepdim=keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    return (std(input, dim, unbiased, keepdim, correction=correction),
            input.mean(_axes(dim, input.ndim, "std_mean"), keepdim=keepdim))


class Norm2(InternalFunction):
    _backward_name = "LinalgVectorNormBackward0"
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        b = x._backend
        sq = b.reduce("sum", b.binary("mul", x._data, x._data), axes, keepdim)
        out = Tensor._make(b.unary("sqrt", sq), b, x.dtype, x.device)
        ctx.save_for_backward(x, out)
        ctx.axes = axes
        ctx.keepdim = keepdim
        return out

    @staticmethod
    def backward(ctx, g):  # d ||x|| = x / ||x||, taken as 0 where ||x|| = 0
        from .elementwise import where

        x, out = ctx.saved_tensors
        o = out if ctx.keepdim else out.reshape(_keep_shape(x.shape, ctx.axes))
        gk = g if ctx.keepdim else g.reshape(_keep_shape(x.shape, ctx.axes))
        scale = where(o == 0, o * 0, gk / o)
        return x * scale, None, None


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over ``dim`` (all elements by default); ``p`` in numbers, inf, -inf, 'fro'."""
    if dtype is not None:
        input = input.to(dtype)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point tensor as input. Got {input.dtype.name}")
    if isinstance(p, str):
        if p != "fro":
            if p == "nuc":
                raise RuntimeError("norm(): the nuclear norm is not supported")
            raise RuntimeError(f"norm(): unsupported norm type {p!r}")
        p = 2
    axes = _axes(dim, input.ndim, "norm")
    return vector_norm(input, p, axes, keepdim)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    axes = _axes(dim, x.ndim, "vector_norm")
    if ord == 2:
        return Norm2.apply(x, axes, keepdim)
    a = x.abs()
    if ord == math.inf:
        return amax(a, axes, keepdim)
    if ord == -math.inf:
        return amin(a, axes, keepdim)
    if ord == 0:  # the count of nonzeros; its gradient is zero
        return a.sign().sum(axes, keepdim)
    if ord == 1:
        return a.sum(axes, keepdim)
    return (a ** ord).sum(axes, keepdim) ** (1.0 / ord)


class LogSumExp(InternalFunction):
    _backward_name = "LogsumexpBackward0"
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        b = x._backend
        if x.numel() == 0:  # log(0) = -inf over empty slices, as PyTorch
            shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape)) if keepdim else \
                tuple(n for i, n in enumerate(x.shape) if i not in axes)
            data = b.full(shape, -math.inf, x.dtype)
        else:
            data = b.logsumexp(x._data, axes, keepdim)
        out = Tensor._make(data, b, x.dtype, x.device)
        ctx.save_for_backward(x, out)
        ctx.axes = axes
        ctx.keepdim = keepdim
        return out

    @staticmethod
    def backward(ctx, g):  # d logsumexp = softmax(x)
        x, out = ctx.saved_tensors
        o = out if ctx.keepdim else out.reshape(_keep_shape(x.shape, ctx.axes))
        gk = g if ctx.keepdim else g.reshape(_keep_shape(x.shape, ctx.axes))
        return gk * (x - o).exp(), None, None


def logsumexp(input, dim=None, keepdim=False):
    if not input.dtype.is_floating_point:
        input = input.to(dt.get_default_dtype())
    axes = _axes(dim, input.ndim, "logsumexp")
    return LogSumExp.apply(input, axes, keepdim)


# -----------------------------------------------------------------------------
# scans
# -----------------------------------------------------------------------------


class Cumsum(InternalFunction):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        b = x._backend
        out = b.cumulative("cumsum", x._data, axis) if x.ndim else b.copy(x._data)
        return Tensor._make(out, b, b.dtype_of(out), x.device)

    @staticmethod
    def backward(ctx, g):  # reversed cumulative sum of the gradient
        if g.ndim == 0:
            return g, None
        return g.flip(ctx.axis).cumsum(ctx.axis).flip(ctx.axis), None


def cumsum(input, dim, *, dtype=None, out=None):
    if dtype is not None:
        input = input.to(dtype)
    axis = wrap_dim(dim, input.ndim, "cumsum")
    return Cumsum.apply(input, axis)


class Cumprod(InternalFunction):
    @staticmethod
    def forward(ctx, x, axis):
        b = x._backend
        out = Tensor._make(b.cumulative("cumprod", x._data, axis) if x.ndim else b.copy(x._data),
                           b, None, x.device)
        out.dtype = b.dtype_of(out._data)
        ctx.save_for_backward(x, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):  # d y_k / d x_i = prod_{j<=k, j!=i} x_j for k >= i
        x, y = ctx.saved_tensors
        if x.ndim == 0:
            return g, None
        axis = ctx.axis
        if not bool((x == 0).any()):
            # no zeros: prod_{j<=k, j!=i} x_j = y_k / x_i
            return (g * y).flip(axis).cumsum(axis).flip(axis) / x, None
        from .._creation import arange, eye

        xm = x.movedim(axis, -1)
        gm = g.movedim(axis, -1)
        n = xm.shape[-1]
        ones_on_diag = eye(n, dtype=dt.bool_, device=x.device)
        rows = xm.unsqueeze(-2).expand(*xm.shape[:-1], n, n).masked_fill(ones_on_diag, 1)
        z = rows.cumprod(-1)                      # [..., i, k] = prod_{j<=k, j!=i} x_j
        r = arange(n, device=x.device)
        upper = (r.unsqueeze(1) <= r.unsqueeze(0)).to(g.dtype)  # k >= i
        return (z * gm.unsqueeze(-2) * upper).sum(-1).movedim(-1, axis), None


def cumprod(input, dim, *, dtype=None, out=None):
    if dtype is not None:
        input = input.to(dtype)
    axis = wrap_dim(dim, input.ndim, "cumprod")
    return Cumprod.apply(input, axis)


def _cum_extreme(input, dim, op):
    d = wrap_dim(dim, input.ndim, op)
    x = input.movedim(d, -1)
    n = x.shape[-1]
    from .._creation import arange

    idx = arange(n, device=input.device)
    # running extreme: compare every prefix pair (O(n^2) memory, fine for typical sizes)
    le = idx.unsqueeze(0) <= idx.unsqueeze(1)  # [k, j]: j <= k
    xe = x.unsqueeze(-2).expand(*x.shape[:-1], n, n)
    fill = -math.inf if op == "cummax" else math.inf
    if not input.dtype.is_floating_point:
        from .._dtype import iinfo

        fill = iinfo(input.dtype).min if op == "cummax" else iinfo(input.dtype).max
    masked = xe.masked_fill(~le, fill)
    # last occurrence of the extreme, as PyTorch reports it
    rev = masked.flip(-1)
    r = rev.max(-1) if op == "cummax" else rev.min(-1)
    indices = (n - 1) - r.indices
    values = x.gather(-1, indices)
    return values_indices[op](values.movedim(-1, d), indices.movedim(-1, d))


def cummax(input, dim):
    return _cum_extreme(input, dim, "cummax")


def cummin(input, dim):
    return _cum_extreme(input, dim, "cummin")


def logcumsumexp(input, dim):
    d = wrap_dim(dim, input.ndim, "logcumsumexp")
    m = input.detach().amax(d, keepdim=True)
    from .elementwise import where

    m = where(m.isinf(), 0.0, m)
    return (input - m).exp().cumsum(d).log() + m


# -----------------------------------------------------------------------------
# sorting
# -----------------------------------------------------------------------------


def _sort_indices(input, d, descending, stable):
    b = input._backend
    if input.ndim == 0:
        return Tensor._make(b.full((), 0, dt.int64), b, dt.int64, input.device)
    _, idx = b.sort(input._data, d, descending, stable)
    return Tensor._make(idx, b, dt.int64, input.device)


def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    d = wrap_dim(dim, input.ndim, "sort")
    idx = _sort_indices(input, d, descending, stable)
    values = named(input.gather(d, idx), "SortBackward0") if input.ndim else input.clone()
    return values_indices["sort"](values, idx)


def argsort(input, dim=-1, descending=False, stable=False):
    d = wrap_dim(dim, input.ndim, "argsort")
    return _sort_indices(input, d, descending, stable)


def msort(input):
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    d = wrap_dim(dim, input.ndim, "topk")
    n = input.shape[d] if input.ndim else 1
    if k < 0 or k > n:
        raise RuntimeError(f"selected index k out of range (k={k}, size of dim {d} is {n})")
    idx = _sort_indices(input, d, largest, True).narrow(d, 0, k) if input.ndim else \
        _sort_indices(input, d, largest, True)
    values = named(input.gather(d, idx), "TopkBackward0") if input.ndim else input.clone()
    return values_indices["topk"](values, idx)


def kthvalue(input, k, dim=-1, keepdim=False):
    d = wrap_dim(dim, input.ndim, "kthvalue")
    n = input.shape[d]
    if k < 1 or k > n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    idx = _sort_indices(input, d, False, True).narrow(d, k - 1, 1)
    values = input.gather(d, idx)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return values_indices["kthvalue"](values, idx)


def median(input, dim=None, keepdim=False):
    """The lower median (PyTorch's definition); with ``dim``, (values, indices)."""
    if dim is None:
        flat = input.reshape(-1)
        n = flat.shape[0]
        idx = _sort_indices(flat, 0, False, True).narrow(0, (n - 1) // 2, 1)
        return flat.gather(0, idx).reshape(())
    d = wrap_dim(dim, input.ndim, "median")
    n = input.shape[d]
    idx = _sort_indices(input, d, False, True).narrow(d, (n - 1) // 2, 1)
    values = input.gather(d, idx)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return values_indices["median"](values, idx)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else wrap_dim(dim, input.ndim, "quantile")
    s = sort(x, d).values
    n = s.shape[d]
    qs = q if isinstance(q, Tensor) else None
    qlist = qs.tolist() if qs is not None else q
    scalar_q = not isinstance(qlist, list)
    qlist = [qlist] if scalar_q else qlist
    outs = []
    for qq in qlist:
        pos = qq * (n - 1)
        lo = math.floor(pos)
        hi = builtins_min(lo + 1, n - 1)
        frac = pos - lo
        vlo = s.narrow(d, lo, 1)
        vhi = s.narrow(d, hi, 1)
        if interpolation == "linear":
            v = vlo + (vhi - vlo) * frac
        elif interpolation == "lower":
            v = vlo
        elif interpolation == "higher":
            v = vhi if frac > 0 else vlo
        elif interpolation == "nearest":
            v = vhi if (frac > 0.5 or (frac == 0.5 and lo % 2 == 1)) else vlo
        else:
            v = (vlo + vhi) / 2 if frac > 0 else vlo
        if not keepdim:
            v = v.squeeze(d)
        elif dim is None:
            v = v.reshape((1,) * input.ndim)
        outs.append(v)
    if scalar_q:
        out = outs[0]
        return out.reshape(()) if dim is None and not keepdim else out
    from .shape import stack

    return stack([o.reshape(()) if dim is None and not keepdim else o for o in outs], 0)


def builtins_min(a, b):
    return a if a < b else b


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    import numpy as np

    host = input._backend.to_host(input._data)
    if dim is not None:  # unique slices along dim, sorted lexicographically (as PyTorch)
        d = wrap_dim(dim, input.ndim, "unique")
        vals, inv, counts = np.unique(host, return_inverse=True, return_counts=True, axis=d)
        inv = inv.reshape(-1)  # NumPy 2.0.x shapes it like the input
    else:
        vals, inv, counts = np.unique(host, return_inverse=True, return_counts=True)
        inv = inv.reshape(host.shape)
    from .._creation import tensor

    out = tensor(vals, dtype=input.dtype, device=input.device)
    res = [out]
    if return_inverse:
        res.append(tensor(inv.astype(np.int64), device=input.device))
    if return_counts:
        res.append(tensor(counts.astype(np.int64), device=input.device))
    return res[0] if len(res) == 1 else tuple(res)


# -----------------------------------------------------------------------------
# counting (not differentiable)
# -----------------------------------------------------------------------------


def bincount(input, weights=None, minlength=0):
    """How often each value 0..max(input) occurs in the 1-D int tensor ``input`` (summing
    ``weights`` instead of ones when given)."""
    from .._creation import zeros
    from .indexing import index_add

    if input.ndim != 1 or input.dtype.is_floating_point:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    n = builtins.max(int(input.max().item()) + 1 if input.numel() else 0, minlength)
    if input.numel() and int(input.min().item()) < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return index_add(zeros(n, dtype=dt.int64, device=input.device), 0, input,
                         input.new_ones(input.shape, dtype=dt.int64))
    w = weights.detach()
    return index_add(zeros(n, dtype=w.dtype, device=input.device), 0, input, w)


def histc(input, bins=100, min=0, max=0):  # noqa: A002
    """A histogram of ``bins`` equal-width bins over [min, max] (the data's range when both are
    0); values outside are ignored."""
    from .._creation import zeros
    from .indexing import index_add

    x = input.detach().reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi and x.numel():
        lo, hi = float(x.min().item()), float(x.max().item())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    keep = x[(x >= lo) & (x <= hi)]
    idx = ((keep - lo) * (bins / (hi - lo))).floor().to(dt.int64).clamp(0, bins - 1)
    return index_add(zeros(bins, dtype=input.dtype, device=input.device), 0, idx,
                     keep.new_ones(keep.shape))
