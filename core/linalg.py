"""``flambeau.linalg``: norms and products (``torch.linalg``)."""
from __future__ import annotations

from ._ops.linalg import matmul, vdot  # noqa: F401
from ._ops.reduction import vector_norm


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """Vector 2-norm by default; ``ord="fro"`` for the Frobenius norm of matrices."""
    if ord is None or ord == "fro":
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.norm: unsupported ord {ord!r}")
    if dim is not None and isinstance(dim, (tuple, list)) and len(dim) == 2:
        raise RuntimeError("linalg.norm: matrix norms other than 'fro' are not supported")
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    if ord != "fro":
        raise RuntimeError(f"linalg.matrix_norm: only ord='fro' is supported, got {ord!r}")
    return vector_norm(A, 2, dim, keepdim, dtype=dtype)


__all__ = ["norm", "vector_norm", "matrix_norm", "matmul", "vdot"]
