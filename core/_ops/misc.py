"""Assorted ``torch.*`` functions built from other ops: grids and index sets (meshgrid,
cartesian_prod, combinations, tril/triu_indices), searching (searchsorted, bucketize),
differences and integrals (diff, trapezoid), products (kron, block_diag, cross, cdist),
statistics (cov, corrcoef) and the legacy linear-algebra names (det, inverse, svd, ...).

Each is a composition of differentiable ops, except ``cdist``'s matmul path, which is one
Function with PyTorch's formula and gradient.
"""
from __future__ import annotations

import itertools
import warnings

from . import linalg_decomp as LD
from ._util import InternalFunction, Tensor, dt, wrap_dim

# =============================================================================
# grids and index sets
# =============================================================================


def meshgrid(*tensors, indexing=None):
    """Coordinate grids of 1-D tensors: ``indexing="ij"`` (default) gives outputs of shape
    ``(len(t0), len(t1), ...)``; ``"xy"`` swaps the first two dims (NumPy's default)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(
                f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
    flat = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:
        flat[0], flat[1] = flat[1], flat[0]
    shape = [t.shape[0] for t in flat]
    n = len(flat)
    grids = []
    for i, t in enumerate(flat):
        view = [1] * n
        view[i] = shape[i]
        grids.append(t.reshape(view).expand(shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors):
    """All combinations of one element from each 1-D tensor, as rows (``itertools.product``)."""
    from .shape import stack

    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """The ``r``-length combinations of the elements of the 1-D ``input``, as rows."""
    from .._creation import empty, tensor

    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return empty(0, dtype=input.dtype, device=input.device)
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = list(pick(range(input.shape[0]), r))
    if not idx:
        return empty(0, r, dtype=input.dtype, device=input.device)
    index = tensor(idx, dtype=dt.int64, device=input.device)
    return input[index]


def _tri_indices(row, col, offset, lower, dtype, device):
    from .._creation import tensor

    rows, cols = [], []
    for i in range(row):
        for j in range(col):
            if (j - i <= offset) if lower else (j - i >= offset):
                rows.append(i)
                cols.append(j)
    return tensor([rows, cols], dtype=dtype or dt.int64, device=device).reshape(2, len(rows))


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The ``(2, N)`` row and column indices of the lower triangle of a ``row x col`` matrix
    (``offset`` shifts the diagonal), row by row."""
    return _tri_indices(row, col, offset, True, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The ``(2, N)`` indices of the upper triangle (see ``tril_indices``)."""
    return _tri_indices(row, col, offset, False, dtype, device)


def unravel_index(indices, shape):
    """The coordinates of flat ``indices`` in an array of ``shape``: a tuple of tensors."""
    from .._creation import tensor

    if isinstance(shape, int):
        shape = (shape,)
    if not isinstance(indices, Tensor):
        indices = tensor(indices)
    if indices.dtype.is_floating_point or indices.dtype is dt.bool_:
        raise TypeError("expected 'indices' to be integer dtype, but got " + indices.dtype.name)
    total = 1
    for s in shape:
        total *= s
    if indices.numel() and (bool((indices < -total).any()) or bool((indices >= total).any())):
        raise RuntimeError("'indices' must be in range [-prod(shape), prod(shape) - 1]")
    idx = indices.to(dt.int64) % total if total else indices.to(dt.int64)
    out = []
    for s in reversed(shape):
        out.append(idx % s)
        idx = idx.div(s, rounding_mode="floor")
    return tuple(reversed(out))


# =============================================================================
# searching
# =============================================================================


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None, out=None):
    """Indices where ``input`` would be inserted into the innermost dim of
    ``sorted_sequence`` to keep it sorted (the first such place, or the last with
    ``right=True``/``side="right"``)."""
    from .._creation import tensor

    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError(
                "torch.searchsorted(): side and right can't be set to opposites, got side of "
                "left while right was True")
        right = side == "right"
    seq = sorted_sequence
    if sorter is not None:
        seq = seq.gather(-1, sorter)
    scalar = not isinstance(input, Tensor)
    values = tensor(input, dtype=seq.dtype, device=seq.device) if scalar else input
    if seq.ndim > 1 and values.ndim != seq.ndim:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            "dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(seq.shape)} and input value tensor {list(values.shape)}")
    seq = seq.detach()
    values = values.detach()
    if seq.dtype is not values.dtype:
        common = dt.promote_types(seq.dtype, values.dtype)
        seq, values = seq.to(common), values.to(common)
    if seq.ndim == 1:
        below = (seq <= values.unsqueeze(-1)) if right else (seq < values.unsqueeze(-1))
    else:
        below = (seq.unsqueeze(-2) <= values.unsqueeze(-1)) if right else \
            (seq.unsqueeze(-2) < values.unsqueeze(-1))
    idx = below.sum(-1)
    return idx.to(dt.int32) if out_int32 else idx


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The bucket of each value given 1-D sorted ``boundaries``: ``i`` with
    ``boundaries[i-1] < x <= boundaries[i]`` (``right=True``: ``boundaries[i-1] <= x <
    boundaries[i]``)."""
    if boundaries.ndim != 1:
        raise RuntimeError(
            f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# =============================================================================
# differences and integrals
# =============================================================================


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim`` (``out[i] = x[i+1] - x[i]``), after
    concatenating ``prepend`` and ``append``; bool inputs give ``x[i+1] != x[i]``."""
    from .shape import cat

    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    d = wrap_dim(dim, input.ndim, "diff")

    def piece(extra):
        if isinstance(extra, Tensor) and extra.ndim > 0:
            return extra
        from .._creation import full

        shape = list(input.shape)
        shape[d] = 1
        v = extra.item() if isinstance(extra, Tensor) else extra
        return full(shape, v, dtype=input.dtype, device=input.device)

    pieces = ([piece(prepend)] if prepend is not None else []) + [input] + \
        ([piece(append)] if append is not None else [])
    x = cat(pieces, d) if len(pieces) > 1 else input
    for _ in range(n):
        length = x.shape[d]
        if length == 0:
            break
        hi = x.narrow(d, 1, length - 1)
        lo = x.narrow(d, 0, length - 1)
        x = (hi != lo) if x.dtype is dt.bool_ else hi - lo
    return x


def _trapezoid_pieces(y, x, dx, dim):
    d = wrap_dim(dim, y.ndim, "trapezoid")
    length = y.shape[d]
    avg = (y.narrow(d, 1, length - 1) + y.narrow(d, 0, length - 1)) if length else y
    if x is not None:
        if x.ndim == 1:
            if x.shape[0] != length:
                raise RuntimeError(
                    f"trapezoid: There must be one `x` value for each sample point ({length} "
                    f"vs {x.shape[0]})")
            dxs = diff(x)
            view = [1] * y.ndim
            view[d] = max(length - 1, 0)
            dxs = dxs.reshape(view)
        else:
            dxs = diff(x, dim=d)
        return avg * dxs / 2, d
    return avg * ((1.0 if dx is None else dx) / 2), d


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoidal rule along ``dim``: ``sum((y[i+1] + y[i]) / 2 * (x[i+1] - x[i]))``
    (spacing ``dx``, default 1, without ``x``)."""
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        dx, x = x, None
    pieces, d = _trapezoid_pieces(y, x, dx, dim)
    if y.shape[d] == 0:
        return pieces.sum(d)
    return pieces.sum(d)


def trapz(y, x=None, *, dx=None, dim=-1):
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal integral along ``dim`` (one fewer element than ``y``)."""
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        dx, x = x, None
    pieces, d = _trapezoid_pieces(y, x, dx, dim)
    return pieces.cumsum(d)


# =============================================================================
# products
# =============================================================================


def kron(input, other, *, out=None):
    """The Kronecker product: blocks ``input[i, j] * other``."""
    nd = max(input.ndim, other.ndim)
    a = input.reshape((1,) * (nd - input.ndim) + tuple(input.shape))
    b = other.reshape((1,) * (nd - other.ndim) + tuple(other.shape))
    a_view, b_view, out_shape = [], [], []
    for sa, sb in zip(a.shape, b.shape):
        a_view += [sa, 1]
        b_view += [1, sb]
        out_shape.append(sa * sb)
    return (a.reshape(a_view) * b.reshape(b_view)).reshape(out_shape)


def block_diag(*tensors):
    """A block-diagonal matrix of the 0-, 1- or 2-D ``tensors`` (a 1-D tensor is one row)."""
    from .._creation import zeros
    from .shape import cat

    if not tensors:
        return zeros(1, 0)
    mats = []
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(
                f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} "
                f"has {t.ndim} dimensions")
        mats.append(t.reshape(1, 1) if t.ndim == 0 else (t.reshape(1, -1) if t.ndim == 1 else t))
    dtype = mats[0].dtype
    for m in mats[1:]:
        dtype = dt.promote_types(dtype, m.dtype)
    total = sum(m.shape[1] for m in mats)
    rows = []
    before = 0
    for m in mats:
        r, c = m.shape
        parts = []
        if before:
            parts.append(zeros(r, before, dtype=dtype, device=m.device))
        parts.append(m.to(dtype))
        if total - before - c:
            parts.append(zeros(r, total - before - c, dtype=dtype, device=m.device))
        rows.append(cat(parts, 1) if len(parts) > 1 else parts[0])
        before += c
    return cat(rows, 0)


def cross(input, other, dim=None, *, out=None):
    """The cross product along ``dim`` (default: the first dim of size 3)."""
    from ..linalg import cross as linalg_cross

    if dim is None:
        for d, (sa, sb) in enumerate(zip(input.shape, other.shape)):
            if sa == 3 and sb == 3:
                dim = d
                break
        else:
            raise RuntimeError("no dimension of size 3 in input")
    return linalg_cross(input, other, dim=dim)


class EuclideanDist(InternalFunction):
    """PyTorch's matmul form of the 2-norm distances, used when either set has more than 25
    points: ``sqrt(max(|a|^2 + |b|^2 - 2 a.b, 0))``."""

    _backward_name = "CdistBackward0"

    @staticmethod
    def forward(ctx, x1, x2):
        from .._creation import ones_like
        from .shape import cat

        n1 = (x1 * x1).sum(-1, keepdim=True)
        n2 = (x2 * x2).sum(-1, keepdim=True)
        a = cat([x1 * -2, n1, ones_like(n1)], -1)
        b = cat([x2, ones_like(n2), n2], -1)
        res = (a @ b.mT).clamp_min(0).sqrt()
        ctx.save_for_backward(x1, x2, res)
        return res

    @staticmethod
    def backward(ctx, g):  # d/da |a - b| = (a - b) / |a - b|, taken as 0 at 0
        x1, x2, res = ctx.saved_tensors
        ratio = g / res
        ratio = ratio.masked_fill(res == 0, 0)
        g1 = x1 * ratio.sum(-1, keepdim=True) - ratio @ x2
        g2 = x2 * ratio.sum(-2).unsqueeze(-1) - ratio.mT @ x1
        return g1, g2


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The ``p``-norm distance between each row of ``x1`` (``B x P x M``) and each row of
    ``x2`` (``B x R x M``): ``B x P x R``."""
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(
            f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: "
            f"{x2.shape[-1]}")
    if not x1.dtype.is_floating_point:
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {x1.dtype}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    from .shape import broadcast_shapes

    batch = broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    a = x1.expand(*batch, *x1.shape[-2:]) if tuple(x1.shape[:-2]) != tuple(batch) else x1
    b = x2.expand(*batch, *x2.shape[-2:]) if tuple(x2.shape[:-2]) != tuple(batch) else x2
    P, R = a.shape[-2], b.shape[-2]
    use_mm = p == 2 and (compute_mode == "use_mm_for_euclid_dist" or (
        compute_mode in (None, "use_mm_for_euclid_dist_if_necessary") and (P > 25 or R > 25)))
    if use_mm:
        return EuclideanDist.apply(a, b)
    from .reduction import vector_norm

    d = a.unsqueeze(-2) - b.unsqueeze(-3)
    return vector_norm(d, p, -1)


def dist(input, other, p=2):
    """The ``p``-norm of ``input - other``."""
    from .reduction import vector_norm

    return vector_norm(input - other, p)


# =============================================================================
# statistics
# =============================================================================


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in the rows of ``input`` (observations in
    columns), as ``numpy.cov``; a 1-D input is one variable."""
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input.ndim} dimensions")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    if not x.dtype.is_floating_point:
        x = x.to(dt.get_default_dtype())
    n_obs = x.shape[1]
    w = None
    if fweights is not None:
        w = fweights.to(x.dtype)
    if aweights is not None:
        w = aweights.to(x.dtype) if w is None else w * aweights.to(x.dtype)
    if w is None:
        w_sum = float(n_obs)
        avg = x.mean(1, keepdim=True)
        norm_factor = w_sum - correction
    else:
        w_sum_t = w.sum()
        avg = (x * w).sum(1, keepdim=True) / w_sum_t
        if correction == 0:
            norm_factor = w_sum_t
        elif aweights is None:
            norm_factor = w_sum_t - correction
        else:
            norm_factor = w_sum_t - correction * (w * aweights.to(x.dtype)).sum() / w_sum_t
    if not isinstance(norm_factor, Tensor) and norm_factor <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", RuntimeWarning, stacklevel=2)
        norm_factor = 0.0
    xc = x - avg
    xw = xc if w is None else xc * w
    c = (xw @ xc.mT) / norm_factor
    return c.squeeze() if input.ndim < 2 else c


def corrcoef(input):
    """Pearson correlation coefficients of the rows of ``input`` (``cov`` normalised to a
    unit diagonal, clipped to [-1, 1])."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.diagonal()
    std = d.sqrt()
    c = c / std.unsqueeze(1)
    c = c / std.unsqueeze(0)
    return c.clamp(-1, 1)


# =============================================================================
# elementwise odds and ends
# =============================================================================


def heaviside(input, values, *, out=None):
    """0 where ``input < 0``, 1 where ``input > 0`` and ``values`` where ``input == 0``."""
    from .elementwise import where

    if isinstance(values, Tensor) and values.dtype is not input.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes")
    pos = (input > 0).to(input.dtype)
    return where(input == 0, values, pos)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D ``x``: columns ``x^(N-1), ..., x^0`` (increasing with
    ``increasing=True``)."""
    from .._creation import arange

    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    powers = arange(n, device=x.device)
    if not increasing:
        powers = powers.flip(0)
    base = x if (x.dtype.is_floating_point) else x.to(dt.int64)
    return base.unsqueeze(-1) ** powers


def renorm(input, p, dim, maxnorm):
    """Rescale each slice along ``dim`` whose ``p``-norm exceeds ``maxnorm`` to norm
    ``maxnorm``."""
    from .elementwise import where
    from .reduction import vector_norm

    d = wrap_dim(dim, input.ndim, "renorm")
    axes = tuple(i for i in range(input.ndim) if i != d)
    norms = vector_norm(input, p, axes, keepdim=True)
    factor = where(norms > maxnorm, maxnorm / (norms + 1e-7), norms * 0 + 1)
    return input * factor.detach()


# =============================================================================
# legacy linear-algebra names and the Tensor methods of this module
# =============================================================================


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    """Legacy ``torch.triangular_solve``: ``(X, A.clone())`` with ``op(A) X = b``."""
    T = A.mT if transpose else A
    X = LD.solve_triangular(T, b, upper=upper != transpose, unitriangular=unitriangular)
    return LD._ret("triangular_solve", ("solution", "cloned_coefficient"))(X, A.clone())


def matrix_exp(A):
    from ..linalg import matrix_exp as _matrix_exp

    return _matrix_exp(A)


det = LD.det
logdet = LD.logdet
slogdet = LD.legacy_slogdet
inverse = LD.inverse
pinverse = LD.pinverse
matrix_power = LD.matrix_power
chain_matmul = LD.chain_matmul
cholesky_solve = LD.cholesky_solve
cholesky_inverse = LD.cholesky_inverse
svd = LD.legacy_svd
qr = LD.legacy_qr


def cholesky(input, upper=False, *, out=None):
    """Legacy ``torch.cholesky`` (``upper=True`` returns ``U`` with ``A = U^T U``)."""
    return LD.cholesky(input, upper=upper)


PUBLIC = [
    "meshgrid", "cartesian_prod", "combinations", "tril_indices", "triu_indices",
    "unravel_index", "searchsorted", "bucketize", "diff", "trapezoid", "trapz",
    "cumulative_trapezoid", "kron", "block_diag", "cross", "cdist", "dist", "cov", "corrcoef",
    "heaviside", "vander", "renorm", "triangular_solve", "matrix_exp", "det", "logdet",
    "slogdet", "inverse", "pinverse", "matrix_power", "chain_matmul", "cholesky_solve",
    "cholesky_inverse", "svd", "qr", "cholesky",
]

_METHODS = """diff kron cross dist cov corrcoef heaviside renorm triangular_solve matrix_exp det
logdet slogdet inverse pinverse matrix_power cholesky_solve cholesky_inverse svd qr cholesky
""".split()


def _install():
    g = globals()
    for name in _METHODS:
        setattr(Tensor, name, g[name])
    Tensor.bucketize = lambda self, boundaries, **kw: bucketize(self, boundaries, **kw)
    Tensor.heaviside_ = lambda self, values: self.copy_(heaviside(self, values))
    Tensor.renorm_ = lambda self, p, dim, maxnorm: self.copy_(renorm(self, p, dim, maxnorm))


_install()
