"""``flambeau.linalg``: norms, products, decompositions and solvers (``torch.linalg``).

Decompositions and solvers call the backend's optional ``Backend.linalg`` in forward (LAPACK on
the NumPy backend) and have gradients written with tensor ops; norms and products are
compositions of other ops.

>>> import flambeau
>>> A = flambeau.tensor([[4.0, 1.0], [1.0, 3.0]])
>>> flambeau.linalg.solve(A, flambeau.tensor([1.0, 2.0]))
tensor([0.0909, 0.6364])
"""
from __future__ import annotations

import math

from ._ops.linalg import matmul, vdot  # noqa: F401
from ._ops.linalg_decomp import (  # noqa: F401
    cholesky,
    cholesky_ex,
    det,
    eigh,
    eigvalsh,
    inv,
    inv_ex,
    lstsq,
    matrix_power,
    matrix_rank,
    multi_dot,
    pinv,
    qr,
    slogdet,
    solve,
    solve_triangular,
    svd,
    svdvals,
)
from ._ops.reduction import vector_norm
from .autograd.grad_mode import no_grad
from .backend.base import LinAlgError

__all__ = [
    "LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh",
    "eigvalsh", "inv", "inv_ex", "lstsq", "matmul", "matrix_exp", "matrix_norm", "matrix_power",
    "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "solve_ex",
    "solve_triangular", "svd", "svdvals", "vander", "vecdot", "vector_norm", "vdot",
]


def _wrap2(dim, ndim):
    d0, d1 = (d % ndim for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    return d0, d1


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """The matrix norm over the two dims ``dim``: ``"fro"`` (default), ``"nuc"`` (sum of
    singular values), ``2``/``-2`` (largest/smallest singular value), ``1``/``-1``
    (max/min column abs-sum), ``inf``/``-inf`` (max/min row abs-sum)."""
    if dtype is not None:
        A = A.to(dtype)
    if A.ndim < 2:
        raise RuntimeError(
            "linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    d0, d1 = _wrap2(dim, A.ndim)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        from ._ops.linalg_decomp import svdvals as _svdvals

        S = _svdvals(A.movedim((d0, d1), (-2, -1)))
        out_ = S.sum(-1) if ord == "nuc" else (S.amax(-1) if ord == 2 else S.amin(-1))
        if keepdim:
            for d in sorted((d0, d1)):
                out_ = out_.unsqueeze(d)
        return out_
    if ord in (1, -1, math.inf, -math.inf):
        red, keep = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = A.abs().sum(red, keepdim=True)
        out_ = sums.amax(keep, keepdim=True) if ord > 0 else sums.amin(keep, keepdim=True)
        if not keepdim:
            out_ = out_.squeeze(max(d0, d1)).squeeze(min(d0, d1))
        return out_
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """A vector norm (1-D input, an int ``dim``, or ``ord=None`` without ``dim``: the 2-norm of
    all elements) or a matrix norm (2-D input with ``ord``, or a 2-tuple ``dim``)."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        if len(dim) == 1:
            return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
        if len(dim) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
        raise RuntimeError(
            f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 1 and not isinstance(ord, str):
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError(
        f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
        f"{A.ndim}D.")


def cond(A, p=None, *, out=None):
    """The condition number ``norm(A, p) * norm(inv(A), p)`` (``p=None``/``2``: the ratio of
    the largest to the smallest singular value)."""
    if p is None or p in (2, -2):
        S = svdvals(A)
        return S[..., 0] / S[..., -1] if p != -2 else S[..., -1] / S[..., 0]
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def cross(input, other, *, dim=-1, out=None):
    """The cross product of 3-vectors along ``dim`` (inputs broadcast)."""
    from ._ops.shape import broadcast_tensors, cat

    a, b = broadcast_tensors(input, other)
    if a.shape[dim] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[dim]} "
            f"and {other.shape[dim]}")
    a0, a1, a2 = (a.narrow(dim, i, 1) for i in range(3))
    b0, b1, b2 = (b.narrow(dim, i, 1) for i in range(3))
    return cat([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim)


def vecdot(x, y, *, dim=-1, out=None):
    """The dot product of vectors along ``dim`` (inputs broadcast)."""
    return (x * y).sum(dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return A.diagonal(offset, dim1, dim2)


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    from ._creation import zeros
    from ._ops.linalg_decomp import _ret

    X = solve(A, B, left=left)
    return _ret("linalg_solve_ex", ("result", "info"))(
        X, zeros(A.shape[:-2], dtype=_int32(), device=A.device))


def _int32():
    from . import _dtype

    return _dtype.int32


def matrix_exp(A):
    """``exp(A) = sum A^k / k!`` for square matrices, by scaling and squaring a Taylor series
    (a composition of matmuls, hence differentiable)."""
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError("linalg.matrix_exp: A must be batches of square matrices")
    from ._creation import eye

    with no_grad():
        norm1 = float(matrix_norm(A.detach(), 1).max()) if A.numel() else 0.0
    s = max(0, int(math.ceil(math.log2(norm1))) + 1) if norm1 > 0.5 else 0
    X = A / (2 ** s)
    term = eye(A.shape[-1], dtype=A.dtype, device=A.device).expand(A.shape)
    result = term
    for k in range(1, 19):
        term = (term @ X) / k
        result = result + term
    for _ in range(s):
        result = result @ result
    return result


def vander(x, *, N=None):
    """``x[..., None] ** arange(N)``: the Vandermonde matrix with increasing powers."""
    from ._creation import arange

    n = x.shape[-1] if N is None else N
    return x.unsqueeze(-1) ** arange(n, device=x.device)


def eig(A, *, out=None):
    raise NotImplementedError(
        "linalg.eig returns complex tensors, which flambeau does not have; for symmetric "
        "matrices use flambeau.linalg.eigh")


def eigvals(A, *, out=None):
    raise NotImplementedError(
        "linalg.eigvals returns complex tensors, which flambeau does not have; for symmetric "
        "matrices use flambeau.linalg.eigvalsh")
