"""Shape ops: views (reshape, permute, expand, squeeze, ...), joins and splits, flips, triangles."""
from __future__ import annotations

from ._util import InternalFunction, Tensor, check_device, dt, named, wrap_dim, wrap_dims

# =============================================================================
# view bookkeeping
# =============================================================================


def _mark_view(out, src, view_fn):
    """Record that ``out`` shares ``src``'s memory: same version counter, replayable from the
    base by ``view_fn`` (used when an in-place op on the view must update the base's history)."""
    base = src._base
    if base is None:
        out._base = src
        out._view_fn = view_fn
    else:
        out._base = base
        prev = src._view_fn
        out._view_fn = None if prev is None else (lambda t, prev=prev: view_fn(prev(t)))
    out._vc = out._base._vc
    out._view_version = out._vc[0]
    return out


def _infer_shape(shape, numel, op):
    if -1 not in shape:  # nothing to infer: only check the sizes (the common case, made cheap)
        known = 1
        for s in shape:
            if s < 0:
                raise RuntimeError(f"{op}: invalid shape dimension {s}")
            known *= s
        if known != numel:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        return tuple(shape)
    shape = list(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"{op}: invalid shape dimension {s}")
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape[neg[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(map(int, shape))


# =============================================================================
# reshape family
# =============================================================================


class Reshape(InternalFunction):
    _backward_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, x, shape, must_view):
        b = x._backend
        numel = x.numel()
        shape = _infer_shape(shape, numel, "view" if must_view else "reshape")
        data = b.reshape(x._data, shape)
        shares = numel == 0 or b.shares_memory(data, x._data)
        if must_view and not shares:
            raise RuntimeError(
                f"view size is not compatible with input tensor's size and stride (shape "
                f"{list(x.shape)} to {list(shape)}): at least one dimension spans across two "
                "contiguous subspaces. Use .reshape(...) instead."
            )
        ctx.in_shape = x._data.shape
        out = Tensor._make(data, b, x.dtype, x.device)
        if shares:
            _mark_view(out, x, lambda t, s=shape: t.reshape(s))
        elif ctx.needs_input_grad:
            ctx._name = "UnsafeViewBackward0"  # PyTorch's name when reshape had to copy
        return out

    @staticmethod
    def backward(ctx, g):  # reshape back
        return g.reshape(ctx.in_shape), None, None


def reshape(input, *shape):
    shape = _shape_args(shape)
    if input._data.shape == shape:
        return Reshape.apply(input, shape, False) if input._requires_grad else _alias_view(input)
    return Reshape.apply(input, shape, False)


def view(input, *shape):
    if len(shape) == 1 and isinstance(shape[0], dt.dtype):
        return _view_dtype(input, shape[0])
    return Reshape.apply(input, _shape_args(shape), True)


def _alias_view(x):
    if x._requires_grad:  # an identity view that stays in the graph
        return Permute.apply(x, tuple(range(x.ndim)))
    out = Tensor._make(x._data, x._backend, x.dtype, x.device)
    return _mark_view(out, x, lambda t: t)


def _view_dtype(x, dtype):
    if dtype.itemsize != x.dtype.itemsize:
        raise RuntimeError("view(dtype) with a different element size is not supported")
    data = x._data.view(x._backend.native_dtype(dtype))
    return _mark_view(Tensor._make(data, x._backend, dtype, x.device), x, None)


def view_as(input, other):
    return view(input, other.shape)


def reshape_as(input, other):
    return reshape(input, other.shape)


def flatten(input, start_dim=0, end_dim=-1):
    nd = input.ndim
    if nd == 0:
        return reshape(input, (1,))
    s = wrap_dim(start_dim, nd, "flatten")
    e = wrap_dim(end_dim, nd, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input.shape
    n = 1
    for d in shape[s:e + 1]:
        n *= d
    return reshape(input, tuple(shape[:s]) + (n,) + tuple(shape[e + 1:]))


def ravel(input):
    return reshape(input, (-1,))


def unflatten(input, dim, sizes):
    d = wrap_dim(dim, input.ndim, "unflatten")
    sizes = list(sizes)
    if -1 in sizes:
        known = 1
        for s in sizes:
            if s != -1:
                known *= s
        sizes[sizes.index(-1)] = input.shape[d] // known if known else 0
    prod = 1
    for s in sizes:
        prod *= s
    if prod != input.shape[d]:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
            f"({input.shape[d]}) in the input tensor"
        )
    shape = tuple(input.shape)
    return reshape(input, shape[:d] + tuple(sizes) + shape[d + 1:])


def squeeze(input, dim=None):
    shape = tuple(input.shape)
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = wrap_dims(dim, input.ndim, "squeeze") if input.ndim else ()
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    kind = 0 if dim is None else 2 if isinstance(dim, (tuple, list)) else 1
    return named(reshape(input, new), f"SqueezeBackward{kind}", input)


def unsqueeze(input, dim):
    d = wrap_dim(dim, input.ndim + 1, "unsqueeze")
    shape = tuple(input.shape)
    return named(reshape(input, shape[:d] + (1,) + shape[d:]), "UnsqueezeBackward0", input)


# =============================================================================
# permutations
# =============================================================================


class Permute(InternalFunction):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        out = Tensor._make(x._backend.permute(x._data, dims), x._backend, x.dtype, x.device)
        return _mark_view(out, x, lambda t, d=dims: t.permute(d))

    @staticmethod
    def backward(ctx, g):  # apply the inverse permutation
        inv = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inv[d] = i
        return g.permute(tuple(inv)), None


def permute(input, *dims):
    dims = _shape_args(dims)
    nd = input.ndim
    if len(dims) != nd:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal "
            f"to len(dims) = {len(dims)}"
        )
    dims = tuple(wrap_dim(d, nd, "permute") for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError(f"permute(): duplicate dims are not allowed in {dims}")
    return Permute.apply(input, dims)


def transpose(input, dim0, dim1):
    nd = input.ndim
    if nd == 0:
        wrap_dim(dim0, 0, "transpose")
        wrap_dim(dim1, 0, "transpose")
        return _alias_view(input)
    d0 = wrap_dim(dim0, nd, "transpose")
    d1 = wrap_dim(dim1, nd, "transpose")
    dims = list(range(nd))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return named(Permute.apply(input, tuple(dims)), "TransposeBackward0")


swapaxes = swapdims = transpose


def t(input):
    nd = input.ndim
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    if nd < 2:
        return named(_alias_view(input), "TBackward0", input)
    return named(Permute.apply(input, (1, 0)), "TBackward0")  # transpose(input, 0, 1)


def movedim(input, source, destination):
    nd = input.ndim
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError("movedim: Invalid source or destination dims: source and destination must have the same length")
    src = [wrap_dim(s, nd, "movedim") for s in src]
    dst = [wrap_dim(d, nd, "movedim") for d in dst]
    order = [None] * nd
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(nd) if i not in src)
    order = [o if o is not None else next(rest) for o in order]
    return Permute.apply(input, tuple(order))


moveaxis = movedim


def _T(input):
    return Permute.apply(input, tuple(reversed(range(input.ndim))))


def _mT(input):
    if input.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
    return transpose(input, -2, -1)


# =============================================================================
# broadcasting
# =============================================================================


def broadcast_shapes(*shapes):
    """The shape that ``shapes`` broadcast to, or RuntimeError naming them."""
    out = []
    for shape in shapes:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        for i, s in enumerate(reversed(shape)):
            if i >= len(out):
                out.append(s)
            elif out[i] == 1:
                out[i] = s
            elif s != 1 and s != out[i]:
                raise RuntimeError(
                    f"shape mismatch: objects cannot be broadcast to a single shape; the sizes "
                    f"{list(shapes)} are incompatible (size {s} vs {out[i]} at dimension "
                    f"{-1 - i})"
                )
    from .._tensor import Size

    return Size(reversed(out))


class Expand(InternalFunction):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        out = Tensor._make(x._backend.broadcast_to(x._data, shape), x._backend, x.dtype, x.device)
        return _mark_view(out, x, lambda t, s=shape: t.expand(s))

    @staticmethod
    def backward(ctx, g):  # sum over the broadcast dims
        return g.sum_to_size(ctx.in_shape), None


def expand(input, *sizes):
    sizes = _shape_args(sizes)
    nd = input.ndim
    if len(sizes) < nd:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
            f"number of dimensions in the tensor ({nd})"
        )
    shape = list(sizes)
    lead = len(sizes) - nd
    for i, s in enumerate(input.shape):
        want = sizes[lead + i]
        if want == -1:
            shape[lead + i] = s
        elif s != 1 and s != want:
            raise RuntimeError(
                f"The expanded size of the tensor ({want}) must match the existing size ({s}) at "
                f"non-singleton dimension {lead + i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                f"{list(input.shape)}"
            )
    for i in range(lead):
        if shape[i] < 0:
            raise RuntimeError(f"expand: the expanded size {shape[i]} is not allowed in a leading, non-existing dimension")
    shape = tuple(shape)
    if shape == tuple(input.shape):
        return _alias_view(input) if not input._requires_grad else Expand.apply(input, shape)
    return Expand.apply(input, shape)


def expand_as(input, other):
    return expand(input, other.shape)


def broadcast_to(input, shape):
    return expand(input, tuple(shape))


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


class SumToSize(InternalFunction):
    @staticmethod
    def forward(ctx, x, shape):
        b = x._backend
        ctx.in_shape = x.shape
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1
        )
        data = x._data
        if axes:
            data = b.reduce("sum", data, axes, True)
        data = b.reshape(data, tuple(shape))
        if data is x._data:
            data = b.copy(data)
        return Tensor._make(data, b, b.dtype_of(data), x.device)

    @staticmethod
    def backward(ctx, g):  # broadcast back
        return g.expand(ctx.in_shape), None


def sum_to_size(input, *size):
    shape = _shape_args(size)
    if tuple(input.shape) == shape:
        return input
    xs = tuple(input.shape)
    lead = len(xs) - len(shape)
    if lead < 0 or any(s != 1 and s != xs[lead + i] for i, s in enumerate(shape)):
        raise RuntimeError(f"size {list(shape)} is not expandable to size {list(xs)}")
    return SumToSize.apply(input, shape)


# =============================================================================
# copies
# =============================================================================


class Clone(InternalFunction):
    @staticmethod
    def forward(ctx, x):
        return Tensor._make(x._backend.copy(x._data), x._backend, x.dtype, x.device)

    @staticmethod
    def backward(ctx, g):  # identity
        return g


def clone(input, *, memory_format=None):
    return Clone.apply(input)


class Contiguous(InternalFunction):
    _backward_name = "CloneBackward0"
    @staticmethod
    def forward(ctx, x):
        return Tensor._make(x._backend.ascontiguous(x._data), x._backend, x.dtype, x.device)

    @staticmethod
    def backward(ctx, g):  # identity
        return g


def contiguous(input, memory_format=None):
    if input._backend.is_contiguous(input._data):
        return input
    return Contiguous.apply(input)


# =============================================================================
# joins and splits
# =============================================================================


class Cat(InternalFunction):
    @staticmethod
    def forward(ctx, dim, *xs):
        b = xs[0]._backend
        dtype = xs[0].dtype
        for x in xs[1:]:
            if x.dtype is not dtype:
                dtype = dt.promote_types(dtype, x.dtype)
        datas = [x._data if x.dtype is dtype else b.astype(x._data, dtype) for x in xs]
        ctx.sizes = [x.shape[dim] for x in xs]
        ctx.dim = dim
        ctx.dtypes = [x.dtype for x in xs]
        return Tensor._make(b.concatenate(datas, dim), b, dtype, xs[0].device)

    @staticmethod
    def backward(ctx, g):  # slice the gradient back into the pieces
        out = [None]
        start = 0
        for n, d, need in zip(ctx.sizes, ctx.dtypes, ctx.needs_input_grad[1:]):
            piece = g.narrow(ctx.dim, start, n) if need else None
            if piece is not None and piece.dtype is not d:
                piece = piece.to(d)
            out.append(piece)
            start += n
        return tuple(out)


def cat(tensors, dim=0, *, out=None):
    """Join tensors along an existing dimension ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"cat(): expected a sequence of Tensors, but element {i} is {type(t).__name__}")
    # PyTorch skips legacy empty 1-D tensors of shape (0,)
    kept = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    check_device("cat", *kept)
    ref = kept[0]
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, ref.ndim, "cat")
    for i, t in enumerate(kept):
        if t.ndim != ref.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref.ndim} and {t.ndim}"
            )
        for j in range(ref.ndim):
            if j != d and t.shape[j] != ref.shape[j]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{ref.shape[j]} but got size {t.shape[j]} for tensor number {i} in the list."
                )
    if len(kept) == 1:
        return kept[0].clone()
    return Cat.apply(d, *kept)


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                f"{list(t.shape)} at entry {i}"
            )
    d = wrap_dim(dim, tensors[0].ndim + 1, "stack")
    return named(cat([unsqueeze(t, d) for t in tensors], d), "StackBackward0", *tensors)


def hstack(tensors):
    tensors = [atleast_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return cat([atleast_2d(t) for t in tensors], 0)


row_stack = vstack


def dstack(tensors):
    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    cols = [t.reshape(-1, 1) if t.ndim <= 1 else t for t in tensors]
    return cat(cols, 1)


def atleast_1d(t):
    return t.reshape(1) if t.ndim == 0 else t


def atleast_2d(t):
    return t.reshape(1, -1) if t.ndim < 2 else t


def atleast_3d(t):
    if t.ndim == 0:
        return t.reshape(1, 1, 1)
    if t.ndim == 1:
        return t.reshape(1, -1, 1)
    if t.ndim == 2:
        return t.unsqueeze(-1)
    return t


def narrow(input, dim, start, length):
    d = wrap_dim(dim, input.ndim, "narrow")
    size = input.shape[d]
    if isinstance(start, Tensor):
        start = int(start.item())
    if start < 0:
        start += size
    if start < 0 or start > size or length < 0 or start + length > size:
        raise RuntimeError(
            f"start ({start}) + length ({length}) exceeds dimension size ({size})."
        )
    key = (slice(None),) * d + (slice(start, start + length),)
    return input[key]


def select(input, dim, index):
    d = wrap_dim(dim, input.ndim, "select")
    size = input.shape[d]
    if index < -size or index >= size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(input.shape)} at dimension {d}"
        )
    return input[(slice(None),) * d + (index,)]


def split(tensor, split_size_or_sections=None, dim=0, *, split_size=None):
    if split_size_or_sections is None:
        split_size_or_sections = split_size
    d = wrap_dim(dim, tensor.ndim, "split")
    size = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and size:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        sizes = [min(step, size - i) for i in range(0, size, step)] if size else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != size:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's "
                f"size at dimension {d}), but got split_sizes={sizes}"
            )
    name = "SplitBackward0" if isinstance(split_size_or_sections, int) else "SplitWithSizesBackward0"
    out = []
    start = 0
    for n in sizes:
        out.append(named(narrow(tensor, d, start, n), name, tensor))
        start += n
    return tuple(out)


def tensor_split(input, indices_or_sections, dim=0):
    d = wrap_dim(dim, input.ndim, "tensor_split")
    size = input.shape[d]
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        q, r = divmod(size, n)
        sizes = [q + 1] * r + [q] * (n - r)
        bounds = []
        acc = 0
        for s in sizes[:-1]:
            acc += s
            bounds.append(acc)
    else:
        bounds = list(indices_or_sections)
    out = []
    prev = 0
    for bnd in bounds + [size]:
        bnd = max(min(bnd, size), prev)
        out.append(narrow(input, d, prev, bnd - prev))
        prev = bnd
    return tuple(out)


def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0")
    d = wrap_dim(dim, input.ndim, "chunk")
    size = input.shape[d]
    step = -(-size // chunks) if size else 1
    return split(input, step, d)


def unbind(input, dim=0):
    d = wrap_dim(dim, input.ndim, "unbind")
    return tuple(named(select(input, d, i), "UnbindBackward0") for i in range(input.shape[d]))


# =============================================================================
# repeats, flips, rolls, triangles
# =============================================================================


def repeat(input, *sizes):
    sizes = _shape_args(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"
        )
    x = input.reshape((1,) * (len(sizes) - input.ndim) + tuple(input.shape))
    # (s0, s1, ...) -> (1, s0, 1, s1, ...) expanded to (r0, s0, r1, s1, ...) then merged
    inter = []
    for s in x.shape:
        inter += [1, s]
    target = []
    for r, s in zip(sizes, x.shape):
        target += [r, s]
    out = x.reshape(inter).expand(target)
    return named(out.reshape(tuple(r * s for r, s in zip(sizes, x.shape))), "RepeatBackward0", input)


def tile(input, dims):
    dims = tuple(dims)
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return repeat(input, dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    if repeats is None:  # repeat_interleave(counts): each index i repeated counts[i] times
        from .._creation import arange

        return repeat_interleave(arange(input.shape[0], device=input.device), input, 0)
    if dim is None:
        input = input.reshape(-1)
        dim = 0
    d = wrap_dim(dim, input.ndim, "repeat_interleave")
    if isinstance(repeats, int):
        shape = list(input.shape)
        x = input.unsqueeze(d + 1)
        exp = list(x.shape)
        exp[d + 1] = repeats
        out = x.expand(exp)
        shape[d] *= repeats
        return out.reshape(shape)
    from .._creation import arange
    from .indexing import index_select

    reps = repeats.tolist()
    idx = [i for i, r in enumerate(reps) for _ in range(r)]
    return index_select(input, d, arange(0, 0, device=input.device).new_tensor(idx, dtype=dt.int64))


class Flip(InternalFunction):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        b = x._backend
        return Tensor._make(b.copy(b.flip(x._data, dims)), b, x.dtype, x.device)

    @staticmethod
    def backward(ctx, g):  # flip back
        return g.flip(ctx.dims), None


def flip(input, *dims, **kw):
    if kw:  # flip(x, dims=[0])
        if set(kw) != {"dims"} or dims:
            raise TypeError(f"flip() got unexpected keyword arguments {sorted(kw)}")
        dims = (kw["dims"],)
    dims = _shape_args(dims)
    return Flip.apply(input, tuple(wrap_dim(d, input.ndim, "flip") for d in dims))


def fliplr(input):
    return flip(input, 1)


def flipud(input):
    return flip(input, 0)


def roll(input, shifts, dims=None):
    if dims is None:
        return named(roll(input.flatten(), shifts, 0).reshape(input.shape), "RollBackward0", input)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    out = input
    for s, d in zip(shifts, dims):
        d = wrap_dim(d, input.ndim, "roll")
        n = input.shape[d]
        if n == 0:
            continue
        s %= n
        if s:
            out = cat([narrow(out, d, n - s, s), narrow(out, d, 0, n - s)], d)
    return named(out, "RollBackward0", input) if out is not input else input.clone()


def rot90(input, k=1, dims=(0, 1)):
    k %= 4
    d0, d1 = dims
    if k == 1:
        return flip(input, d1).transpose(d0, d1)
    if k == 2:
        return flip(input, d0, d1)
    if k == 3:
        return flip(input, d0).transpose(d0, d1)
    return input.clone()


class _Tri(InternalFunction):
    upper = False

    @classmethod
    def forward(cls, ctx, x, k):
        ctx.k = k
        b = x._backend
        data = b.triu(x._data, k) if cls.upper else b.tril(x._data, k)
        return Tensor._make(data, b, x.dtype, x.device)

    @classmethod
    def backward(cls, ctx, g):  # the same mask applied to the gradient
        return (g.triu(ctx.k) if cls.upper else g.tril(ctx.k)), None


class Tril(_Tri):
    upper = False


class Triu(_Tri):
    upper = True


def tril(input, diagonal=0, *, out=None):
    if input.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return Tril.apply(input, diagonal)


def triu(input, diagonal=0, *, out=None):
    if input.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return Triu.apply(input, diagonal)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of ``dim1``/``dim2`` as the last dim (a copy, differentiable)."""
    from .._creation import arange

    nd = input.ndim
    d1 = wrap_dim(dim1, nd, "diagonal")
    d2 = wrap_dim(dim2, nd, "diagonal")
    x = movedim(input, (d1, d2), (-2, -1))
    r, c = x.shape[-2], x.shape[-1]
    if offset >= 0:
        n = max(0, min(r, c - offset))
        rows = arange(n, device=input.device)
        cols = rows + offset
    else:
        n = max(0, min(r + offset, c))
        cols = arange(n, device=input.device)
        rows = cols - offset
    return named(x[..., rows, cols], "DiagonalBackward0")


def diag(input, diagonal=0):
    if input.ndim == 1:
        n = input.shape[0] + abs(diagonal)
        from .._creation import zeros

        out = zeros(n, n, dtype=input.dtype, device=input.device)
        from .._creation import arange

        idx = arange(input.shape[0], device=input.device)
        rows = idx if diagonal >= 0 else idx - diagonal
        cols = idx + diagonal if diagonal >= 0 else idx
        from .indexing import index_put

        return index_put(out, (rows, cols), input)
    if input.ndim == 2:
        return globals()["diagonal"](input, diagonal)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Put the last dim of ``input`` on the ``offset`` diagonal of new ``dim1``/``dim2``."""
    from .._creation import arange, zeros
    from .indexing import index_put

    m = input.shape[-1]
    n = m + abs(offset)
    out = zeros(*input.shape[:-1], n, n, dtype=input.dtype, device=input.device)
    idx = arange(m, device=input.device)
    rows = idx if offset >= 0 else idx - offset
    cols = idx + offset if offset >= 0 else idx
    out = index_put(out, (Ellipsis, rows, cols), input)
    return out if (dim1, dim2) == (-2, -1) else movedim(out, (-2, -1), (dim1, dim2))


def trace(input):
    return named(diagonal(input).sum(), "TraceBackward0")
