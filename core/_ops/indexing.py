"""Indexing: ``x[key]``, ``x[key] = v``, gather/scatter, index_select/index_add, masks."""
from __future__ import annotations

from ._util import InternalFunction, Tensor, check_device, dt, grad_state, inplace, named, wrap_dim
from .shape import _mark_view

# =============================================================================
# key normalisation
# =============================================================================


def _norm_key(x, key):
    """Turn a user key into a tuple of ints, slices, None, Ellipsis and native index arrays.

    Returns ``(native_key, is_basic, replay_key)``; ``replay_key`` holds tensors as given (to
    replay the indexing on another tensor of the same shape, e.g. the gradient).
    """
    simple = _simple_key(x._data.shape, key)
    if simple is not None:
        return simple, True
    if not isinstance(key, tuple):
        # PyTorch (as NumPy once did) reads a list holding sequences, slices, None, Ellipsis
        # or tensors as a tuple of indices: x[[[0, 1], [2, 2]]] is x[[0, 1], [2, 2]]
        if isinstance(key, list) and any(
            k is None or k is Ellipsis or isinstance(k, (list, tuple, slice, Tensor)) for k in key
        ):
            key = tuple(key)
        else:
            key = (key,)
    b = x._backend
    out = []
    basic = True
    for k in key:
        if k is None or k is Ellipsis or isinstance(k, bool):
            if isinstance(k, bool):
                basic = False
                out.append(b.asarray(k, dt.bool_))
            else:
                out.append(k)
        elif isinstance(k, int):
            out.append(k)
        elif isinstance(k, slice):
            start, stop, step = (_as_int(v) for v in (k.start, k.stop, k.step))
            if step is not None and step <= 0:
                raise ValueError("step must be greater than zero")
            out.append(slice(start, stop, step))
        elif isinstance(k, Tensor):
            if k.device is not x.device and k.device != x.device:
                if k.device.type == "cpu":
                    k = k.to(x.device)
                else:
                    raise RuntimeError(
                        f"indices should be either on cpu or on the same device as the indexed "
                        f"tensor ({x.device}), got {k.device}"
                    )
            if k.dtype is dt.bool_ or k.dtype is dt.uint8:
                basic = False
                out.append(k._data if k.dtype is dt.bool_ else b.astype(k._data, dt.bool_))
            elif k.dtype.is_floating_point:
                raise IndexError(
                    "tensors used as indices must be long, int, byte or bool tensors"
                )
            else:
                basic = False
                out.append(k._data if k.dtype is dt.int64 else b.astype(k._data, dt.int64))
        elif isinstance(k, (list, tuple, range)):  # x[range(n), target]: an index list
            basic = False
            if len(k) and all(isinstance(v, bool) for v in k):
                out.append(b.asarray(list(k), dt.bool_))
            else:
                vals = [int(v.item()) if isinstance(v, Tensor) else v for v in k]
                try:
                    out.append(b.asarray(vals, dt.int64))
                except (TypeError, ValueError) as exc:
                    raise IndexError(f"invalid index {k!r}: {exc}") from None
        elif hasattr(k, "dtype") and hasattr(k, "shape") and k.shape != ():  # a NumPy array
            basic = False
            kind = str(k.dtype)
            out.append(b.asarray(k, dt.bool_ if kind == "bool" else dt.int64))
        elif hasattr(k, "__index__"):
            out.append(k.__index__())
        else:
            raise IndexError(
                f"only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                f"are valid indices (got {type(k).__name__})"
            )
    _check_bounds(x, out)
    if basic and not any(k is Ellipsis for k in out):
        # a trailing Ellipsis makes NumPy return a 0-d view, not a scalar copy, for x[i] of 1-D x
        out.append(Ellipsis)
    return tuple(out), basic


def _simple_key(shape, key):
    """The native key for the common keys of in-range ints and slices of ints (``x[i]``,
    ``x[1:3]``, ``x[:, 0]``), as the general path builds it; None for any other key (the general
    path then handles it, or raises its error)."""
    tk = type(key)
    if tk is int or tk is slice:
        key = (key,)
    elif tk is not tuple:
        return None
    if len(key) > len(shape):
        return None
    for size, k in zip(shape, key):
        tk = type(k)
        if tk is int:
            if k < -size or k >= size:
                return None
        elif tk is slice:
            start, stop, step = k.start, k.stop, k.step
            if (start is not None and type(start) is not int) or (
                    stop is not None and type(stop) is not int) or (
                    step is not None and (type(step) is not int or step <= 0)):
                return None
        else:
            return None
    # a trailing Ellipsis makes NumPy return a 0-d view, not a scalar copy, for x[i] of 1-D x
    return key + (Ellipsis,)


def _as_int(v):
    if v is None:
        return None
    if isinstance(v, Tensor):
        return int(v.item())
    return v.__index__() if not isinstance(v, int) else v


def _check_bounds(x, key):
    """IndexError for integer indices outside the dims they index (NumPy wraps none, CuPy would)."""
    shape = x.shape
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis and not (
        hasattr(k, "dtype") and str(getattr(k, "dtype", "")) == "bool"))
    n_bool_dims = sum(k.ndim for k in key if hasattr(k, "dtype") and str(k.dtype) == "bool")
    if n_real + n_bool_dims > len(shape):
        raise IndexError(
            f"too many indices for tensor of dimension {len(shape)}"
        )
    dim = 0
    for i, k in enumerate(key):
        if k is None:
            continue
        if k is Ellipsis:
            rest = sum(1 for kk in key[i + 1:] if kk is not None and kk is not Ellipsis)
            dim = len(shape) - rest
            continue
        if isinstance(k, int):
            size = shape[dim]
            if k < -size or k >= size:
                raise IndexError(
                    f"index {k} is out of bounds for dimension {dim} with size {size}"
                )
            dim += 1
        elif isinstance(k, slice):
            dim += 1
        elif hasattr(k, "dtype") and str(k.dtype) == "bool":
            for j in range(k.ndim):
                if dim + j < len(shape) and k.shape[j] != shape[dim + j]:
                    raise IndexError(
                        f"The shape of the mask {list(k.shape)} at index {j} does not match the "
                        f"shape of the indexed tensor {list(shape)} at index {dim + j}"
                    )
            dim += k.ndim
        else:
            size = shape[dim]
            if getattr(k, "size", 0):
                hi = int(k.max())
                lo = int(k.min())
                if hi >= size or lo < -size:
                    bad = hi if hi >= size else lo
                    raise IndexError(
                        f"index {bad} is out of bounds for dimension {dim} with size {size}"
                    )
            dim += 1


# =============================================================================
# x[key]
# =============================================================================


class Index(InternalFunction):
    @staticmethod
    def forward(ctx, x, key, user_key, basic):
        b = x._backend
        data = b.getitem(x._data, key)
        ctx.key = key
        ctx.meta = (x.shape, x.dtype)
        out = Tensor._make(data, b, x.dtype, x.device)
        if basic:
            _mark_view(out, x, lambda t, k=user_key: t[k])
        elif data is x._data:
            out._data = b.copy(data)
        return out

    @staticmethod
    def backward(ctx, g):  # scatter-add the gradient into zeros of the input's shape
        shape, dtype = ctx.meta
        return IndexAddInto.apply(g, ctx.key, shape, dtype), None, None, None


class IndexAddInto(InternalFunction):
    """zeros(shape) with ``g`` added at ``key`` (repeated indices accumulate)."""

    @staticmethod
    def forward(ctx, g, key, shape, dtype):
        b = g._backend
        out = b.full(tuple(shape), 0, dtype)
        gd = g._data if g.dtype is dtype else b.astype(g._data, dtype)
        b.index_add(out, key, gd)
        ctx.key = key
        return Tensor._make(out, b, dtype, g.device)

    @staticmethod
    def backward(ctx, gg):  # the adjoint of scatter-add is gather
        return Tensor._make(gg._backend.getitem(gg._data, ctx.key), gg._backend, gg.dtype,
                            gg.device), None, None, None


def getitem(x, key):
    nkey, basic = _norm_key(x, key)
    out = Index.apply(x, nkey, key, basic)
    if basic and out.grad_fn is not None:
        out.grad_fn._name = _basic_name(nkey)
    return out


def _basic_name(nkey):
    """PyTorch's node for basic indexing: that of the last step (select, slice or unsqueeze)."""
    for k in reversed(nkey):
        if k is None:
            return "UnsqueezeBackward0"
        if isinstance(k, int):
            return "SelectBackward0"
        if isinstance(k, slice):
            return "SliceBackward0"
    return "AliasBackward0"


# =============================================================================
# x[key] = value
# =============================================================================


class IndexPut(InternalFunction):
    @staticmethod
    def forward(ctx, x, key, value, accumulate):
        b = x._backend
        out = b.copy(x._data)
        if isinstance(value, Tensor):
            vd = value._data if value.dtype is x.dtype else b.astype(value._data, x.dtype)
            ctx.vmeta = (value.shape, value.dtype)
        else:
            vd = value
            ctx.vmeta = None
        if accumulate:
            sel_shape = b.getitem(out, key).shape
            b.index_add(out, key, b.broadcast_to(vd, sel_shape) if hasattr(vd, "shape") else b.full(sel_shape, vd, x.dtype))
        else:
            try:
                b.setitem(out, key, vd)
            except ValueError as exc:
                raise RuntimeError(
                    f"shape mismatch: value tensor of shape {list(getattr(vd, 'shape', ()))} cannot "
                    f"be broadcast to the indexing result ({exc})"
                ) from None
        ctx.key = key
        ctx.accumulate = accumulate
        return Tensor._make(out, b, x.dtype, x.device)

    @staticmethod
    def backward(ctx, g):  # input: g outside the written region; value: g at the region
        key = ctx.key
        gx = g if ctx.accumulate else IndexPut.apply(g, key, 0.0, False)
        gv = None
        if ctx.vmeta is not None and ctx.needs_input_grad[2]:
            sel = Index.apply(g, key, None, False)
            shape, dtype = ctx.vmeta
            gv = sel.sum_to_size(shape) if tuple(sel.shape) != tuple(shape) else sel
            if gv.dtype is not dtype:
                gv = gv.to(dtype)
        return gx, None, gv, None


def index_put(x, key, value, accumulate=False):
    """Out-of-place ``x[key] = value`` (``accumulate`` adds instead, repeated indices summing)."""
    if not isinstance(key, tuple):
        key = (key,)
    nkey, _ = _norm_key(x, key)
    if isinstance(value, Tensor):
        check_device("index_put", x, value)
    return IndexPut.apply(x, nkey, value, accumulate)


def setitem(x, key, value):
    if isinstance(value, Tensor) and value.device != x.device:
        if value.ndim == 0 and value.device.type == "cpu":
            value = value.to(x.device)
        else:
            raise RuntimeError(
                f"setitem: value is on {value.device} but the tensor is on {x.device}; move it with .to()"
            )
    recording = grad_state.enabled and (
        x._requires_grad or (isinstance(value, Tensor) and value._requires_grad)
    )
    if not recording:
        nkey, _ = _norm_key(x, key)
        b = x._backend
        if isinstance(value, Tensor):
            vd = value._data if value.dtype is x.dtype else b.astype(value._data, x.dtype)
        elif isinstance(value, (int, float, bool)):
            vd = value
        else:
            from .._creation import tensor

            vd = tensor(value, dtype=x.dtype, device=x.device)._data
        try:
            b.setitem(x._data, nkey, vd)
        except ValueError as exc:
            raise RuntimeError(f"setitem: {exc}. Shapes: tensor {list(x.shape)}, value "
                               f"{list(getattr(value, 'shape', ()))}") from exc
        x._vc[0] += 1
        return
    if not isinstance(value, (Tensor, int, float, bool)):
        from .._creation import tensor

        value = tensor(value, dtype=x.dtype, device=x.device)
    inplace(x, lambda s: _setitem_out(s, key, value), "setitem")


def _setitem_out(x, key, value):
    out = index_put(x, key, value)
    if out.grad_fn is not None and _norm_key(x, key)[1]:
        out.grad_fn._name = "CopySlices"  # PyTorch writes a basic-indexed view in place
    return out


def index_put_(x, indices, values, accumulate=False):
    inplace(x, lambda s: index_put(s, tuple(indices), values, accumulate), "index_put_")
    return x


# =============================================================================
# gather / scatter
# =============================================================================


def _grid_key(index, dim):
    """Coordinates addressing ``out[i][j][index[i][j][k]]`` for every position of ``index``."""
    b = index._backend
    nd = index.ndim
    key = []
    for d in range(nd):
        if d == dim:
            key.append(index._data if index.dtype is dt.int64 else b.astype(index._data, dt.int64))
        else:
            shape = [1] * nd
            shape[d] = index.shape[d]
            key.append(b.reshape(b.arange(0, index.shape[d], 1, dt.int64), tuple(shape)))
    return tuple(key)


def _check_gather(op, input, dim, index, src=None):
    if index.dtype is not dt.int64 and index.dtype is not dt.int32:
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {index.dtype.name}")
    if index.ndim != input.ndim and not (index.ndim <= 1 and input.ndim <= 1):
        raise RuntimeError(
            f"Index tensor must have the same number of dimensions as {'self' if src is None else 'input'} "
            f"tensor ({index.ndim} vs {input.ndim}) in {op}"
        )
    for d in range(index.ndim):
        if d != dim and index.ndim == input.ndim and index.shape[d] > input.shape[d]:
            raise RuntimeError(
                f"Size does not match at dimension {d} expected index {list(index.shape)} to be "
                f"smaller than self {list(input.shape)} apart from dimension {dim}"
            )
        if src is not None and index.shape[d] > src.shape[d]:
            raise RuntimeError(
                f"Expected index {list(index.shape)} to be smaller than self {list(input.shape)} "
                f"apart from dimension {dim} and to be smaller size than src {list(src.shape)}"
            )
    if index.numel():
        hi = int(index.max().item())
        lo = int(index.min().item())
        size = input.shape[dim] if input.ndim else 1
        if hi >= size or lo < -size:
            raise RuntimeError(
                f"index {hi if hi >= size else lo} is out of bounds for dimension {dim} with size {size}"
            )
    check_device(op, input, index)


def gather(input, dim, index, *, sparse_grad=False, out=None):
    """``out[i][j] = input[i][index[i][j]]`` for ``dim=1`` (and likewise for other dims)."""
    d = wrap_dim(dim, input.ndim, "gather")
    _check_gather("gather", input, d, index)
    if input.ndim == 0:
        return input.reshape(1)[index.reshape(-1)].reshape(index.shape)
    return named(Index.apply(input, _grid_key(index, d), None, False), "GatherBackward0")


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """Out-of-place ``scatter_``: ``out[i][index[i][j]] = src[i][j]`` for ``dim=1``."""
    if src is None:
        src = value
    d = wrap_dim(dim, input.ndim, "scatter")
    _check_gather("scatter", input, d, index, src if isinstance(src, Tensor) else None)
    key = _grid_key(index, d)
    if isinstance(src, Tensor):
        if index.ndim and tuple(src.shape) != tuple(index.shape):
            src = src[tuple(slice(0, n) for n in index.shape)]
    if reduce is None:
        return named(IndexPut.apply(input, key, src, False),
                     "ScatterBackward0" if isinstance(src, Tensor) else "ScatterBackward1")
    if reduce in ("add", "sum"):
        return named(IndexPut.apply(input, key, src, True), "ScatterAddBackward0")
    if reduce in ("multiply", "prod"):
        return _ufunc_at(input, key, src, "multiply")
    raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got {reduce!r}")


def _ufunc_at(input, key, src, name):
    """Unbuffered ``input[key] op= src`` through NumPy's ``ufunc.at`` on the host (not
    differentiable; used by the rarely hot ``reduce=`` forms of scatter)."""
    import numpy as np

    b = input._backend
    host = np.array(b.to_host(input._data), copy=True)
    hkey = tuple(b.to_host(k) if hasattr(k, "shape") else k for k in key)
    vals = b.to_host(src._data) if isinstance(src, Tensor) else src
    if isinstance(src, Tensor) and src.dtype is not input.dtype:
        vals = vals.astype(host.dtype)
    getattr(np, name).at(host, hkey, vals)
    return Tensor._make(b.asarray(host, input.dtype), b, input.dtype, input.device)


def scatter_add(input, dim, index, src):
    d = wrap_dim(dim, input.ndim, "scatter_add")
    _check_gather("scatter_add", input, d, index, src)
    if index.ndim and tuple(src.shape) != tuple(index.shape):
        src = src[tuple(slice(0, n) for n in index.shape)]
    return named(IndexPut.apply(input, _grid_key(index, d), src, True), "ScatterAddBackward0")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    if reduce == "sum":
        base = input if include_self else scatter(input, dim, index, 0.0)
        return scatter_add(base, dim, index, src)
    if reduce == "mean":
        base = input if include_self else scatter(input, dim, index, 0.0)
        total = scatter_add(base, dim, index, src)
        ones = input.new_ones(index.shape)
        count = scatter_add(input.new_full(input.shape, 1 if include_self else 0), dim, index, ones)
        count = count.clamp(min=1)
        out = total / count
        return out if input.dtype.is_floating_point else out.floor().to(input.dtype)
    if reduce in ("amax", "amin"):
        d = wrap_dim(dim, input.ndim, "scatter_reduce")
        key = _grid_key(index, d)
        src = src[tuple(slice(0, n) for n in index.shape)]
        ufunc = "maximum" if reduce == "amax" else "minimum"
        if include_self:
            return _ufunc_at(input, key, src, ufunc)
        touched = scatter(input.new_zeros(input.shape, dtype=dt.bool_), d, index, True)
        start = scatter(input, d, index, src)  # any member of each group, then reduce the rest
        from .elementwise import where

        return where(touched, _ufunc_at(start, key, src, ufunc), input)
    if reduce == "prod":
        return scatter(input if include_self else scatter(input, dim, index, 1.0), dim, index, src,
                       reduce="multiply")
    raise RuntimeError(f"scatter_reduce(): unknown reduce {reduce!r}")


def index_select(input, dim, index, *, out=None):
    d = wrap_dim(dim, input.ndim, "index_select")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index.dtype.is_floating_point:
        raise RuntimeError("index_select(): Expected dtype int32/int64 for index")
    if input.ndim == 0:
        return input.reshape(1)[index.reshape(-1)].reshape(index.shape)
    return named(input[(slice(None),) * d + (index.reshape(-1),)], "IndexSelectBackward0")


def index_add(input, dim, index, source, *, alpha=1):
    d = wrap_dim(dim, input.ndim, "index_add")
    if alpha != 1:
        source = source * alpha
    return named(IndexPut.apply(input, _norm_key(input, (slice(None),) * d + (index.reshape(-1),))[0],
                                source, True), "IndexAddBackward0")


def index_copy(input, dim, index, source):
    d = wrap_dim(dim, input.ndim, "index_copy")
    return named(index_put(input, (slice(None),) * d + (index,), source), "IndexCopyBackward0")


def index_fill(input, dim, index, value):
    d = wrap_dim(dim, input.ndim, "index_fill")
    return named(index_put(input, (slice(None),) * d + (index,), value), "IndexFillBackward0")


def take(input, index):
    return input.reshape(-1)[index]


def take_along_dim(input, indices, dim=None):
    if dim is None:
        return input.reshape(-1)[indices.reshape(-1)]
    d = wrap_dim(dim, input.ndim, "take_along_dim")
    from .shape import broadcast_shapes

    shape_in = list(input.shape)
    shape_ix = list(indices.shape)
    shape_in[d] = 1
    shape_ix[d] = 1
    bs = list(broadcast_shapes(shape_in, shape_ix))
    xi = list(bs)
    xi[d] = input.shape[d]
    ii = list(bs)
    ii[d] = indices.shape[d]
    return gather(input.expand(xi), d, indices.expand(ii))


# =============================================================================
# masks
# =============================================================================


class MaskedFill(InternalFunction):
    @staticmethod
    def forward(ctx, x, mask, value):
        b = x._backend
        v = value._data if isinstance(value, Tensor) else value
        if isinstance(value, Tensor) and value.dtype is not x.dtype:
            v = b.astype(v, x.dtype)
        if not hasattr(v, "shape"):
            v = b.full((), v, x.dtype)
        m = mask._data if mask.dtype is dt.bool_ else b.astype(mask._data, dt.bool_)
        ctx.mask = mask
        ctx.shape = x.shape
        out = b.where(m, v, x._data)
        if tuple(out.shape) != tuple(x.shape):
            raise RuntimeError(
                f"masked_fill: the mask of shape {list(mask.shape)} broadcasts the tensor of shape "
                f"{list(x.shape)} to {list(out.shape)}; the mask must broadcast to the tensor's shape"
            )
        return Tensor._make(out, b, x.dtype, x.device)

    @staticmethod
    def backward(ctx, g):  # input: g where not masked; value: sum of g where masked
        from .elementwise import where

        zero = g * 0
        gx = where(ctx.mask, zero, g) if ctx.needs_input_grad[0] else None
        gv = where(ctx.mask, g, zero).sum() if ctx.needs_input_grad[2] else None
        return gx, None, gv


def masked_fill(input, mask, value):
    if mask.dtype is not dt.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {mask.dtype.name}")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(
            f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{value.ndim} dimension(s)."
        )
    check_device("masked_fill", input, mask)
    return MaskedFill.apply(input, mask, value)


def masked_select(input, mask):
    from .shape import broadcast_tensors

    x, m = broadcast_tensors(input, mask)
    return named(x[m], "MaskedSelectBackward0")


def masked_scatter(input, mask, source):
    from .shape import broadcast_tensors

    x, m = broadcast_tensors(input, mask)
    n = int(m.sum().item())
    return named(index_put(x.clone() if x is input else x.contiguous(), (m,), source.reshape(-1)[:n]),
                 "MaskedScatterBackward0")


def nonzero(input, *, as_tuple=False):
    b = input._backend
    idx = b.nonzero(input._data) if input.ndim else b.nonzero(b.reshape(input._data, (1,)))
    ts = tuple(Tensor._make(i, b, dt.int64, input.device) for i in idx)
    if as_tuple:
        return ts
    from .shape import stack

    if input.ndim == 0:
        return Tensor._make(b.full((int(bool(input.item())), 0), 0, dt.int64), b, dt.int64, input.device)
    return stack(ts, 1) if ts else Tensor._make(b.full((0, 0), 0, dt.int64), b, dt.int64, input.device)


def argwhere(input):
    return nonzero(input)
