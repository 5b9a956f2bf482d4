"""Matrix decompositions and solvers: inv, solve, det, slogdet, cholesky, qr, svd, eigh, pinv.

Forward calls the backend's optional ``Backend.linalg(op, ...)`` (LAPACK through ``xp.linalg``
on the NumPy backend); every backward is written with tensor ops (matmul, solve, inv, ...), so
``create_graph=True`` differentiates again. All ops take batches of matrices (``..., m, n``).
"""
from __future__ import annotations

from ..backend.base import LinAlgError
from ._util import InternalFunction, Tensor, dt

# =============================================================================
# checks and the backend call
# =============================================================================


def check_float(op, A):
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}(): argument 'A' must be Tensor, not {type(A).__name__}")
    if not A.dtype.is_floating_point:
        raise RuntimeError(
            f"{op}: Expected a floating point or complex tensor as input. Got "
            f"{dt.scalar_type_name(A.dtype)}")
    if A.dtype.itemsize < 4:
        raise RuntimeError(
            f"{op}: Low precision dtypes not supported. Got {dt.scalar_type_name(A.dtype)}")


def check_matrix(op, A, square=False):
    check_float(op, A)
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"{op}: A must be batches of square matrices, but they are {A.shape[-2]} by "
            f"{A.shape[-1]} matrices")


def _call(op, A, *arrays, **params):
    be = A._backend
    try:
        return be.linalg(op, *arrays, **params)
    except NotImplementedError as exc:
        raise NotImplementedError(
            f"linalg.{op} on device {A.device}: {exc}") from exc


def _wrap(A, data):
    return Tensor._make(data, A._backend, A.dtype, A.device)


def _empty_batch(A):
    return any(s == 0 for s in A.shape)


def _eye_like(A, n=None):
    from .._creation import eye

    n = A.shape[-1] if n is None else n
    return eye(n, dtype=A.dtype, device=A.device)


# =============================================================================
# inverse, solve, determinants
# =============================================================================


class Inv(InternalFunction):
    _backward_name = "LinalgInvExBackward0"

    @staticmethod
    def forward(ctx, A):
        if _empty_batch(A):
            Y = _wrap(A, A._backend.copy(A._data))
        else:
            Y = _wrap(A, _call("inv", A, A._data))
        ctx.save_for_backward(Y)
        return Y

    @staticmethod
    def backward(ctx, g):  # d(A^-1) = -A^-1 dA A^-1  =>  gA = -Y^T g Y^T
        (Y,) = ctx.saved_tensors
        Yt = Y.mT
        return -(Yt @ g @ Yt)


class Solve(InternalFunction):
    _backward_name = "LinalgSolveExBackward0"

    @staticmethod
    def forward(ctx, A, B):
        X = _wrap(A, _call("solve", A, A._data, B._data)) if not _empty_batch(B) else \
            _wrap(A, B._backend.copy(B._data))
        ctx.save_for_backward(A, X)
        return X

    @staticmethod
    def backward(ctx, g):  # X = A^-1 B: gB = A^-T g, gA = -gB X^T
        A, X = ctx.saved_tensors
        gB = Solve.apply(A.mT.contiguous(), g)
        gA = -(gB @ X.mT) if ctx.needs_input_grad[0] else None
        return gA, gB if ctx.needs_input_grad[1] else None


class Det(InternalFunction):
    _backward_name = "LinalgDetBackward0"

    @staticmethod
    def forward(ctx, A):
        d = _wrap(A, _call("det", A, A._data))
        ctx.save_for_backward(A, d)
        return d

    @staticmethod
    def backward(ctx, g):  # d det(A) = det(A) tr(A^-1 dA)  =>  gA = g det(A) A^-T = g adj(A)^T
        A, d = ctx.saved_tensors
        return (g.unsqueeze(-1).unsqueeze(-1)) * cofactor(A, d)


def cofactor(A, d):
    """The cofactor matrix ``adj(A)^T`` (``det(A) A^-T`` when A is invertible), through the SVD
    when some matrix of the batch is singular."""
    if bool((d != 0).all()):
        return d.unsqueeze(-1).unsqueeze(-1) * Inv.apply(A).mT
    # A = U S V^T  =>  adj(A)^T = det(U) det(V) U diag(prod_{j != i} s_j) V^T
    from .shape import cat, flip

    U, S, Vh = svd(A, full_matrices=False)
    ones = S[..., :1] * 0 + 1
    before = cat([ones, S[..., :-1].cumprod(-1)], -1)
    after = flip(cat([ones, flip(S, (-1,))[..., :-1].cumprod(-1)], -1), (-1,))
    others = before * after
    sign = Det.apply(U) * Det.apply(Vh)
    return sign.unsqueeze(-1).unsqueeze(-1) * ((U * others.unsqueeze(-2)) @ Vh)


class SlogDet(InternalFunction):
    _backward_name = "LinalgSlogdetBackward0"

    @staticmethod
    def forward(ctx, A):
        sign, logabs = _call("slogdet", A, A._data)
        sign = _wrap(A, sign)
        logabs = _wrap(A, logabs)
        ctx.mark_non_differentiable(sign)
        ctx.save_for_backward(A)
        return sign, logabs

    @staticmethod
    def backward(ctx, g_sign, g_logabs):  # d log|det A| = tr(A^-1 dA)  =>  gA = g A^-T
        (A,) = ctx.saved_tensors
        return g_logabs.unsqueeze(-1).unsqueeze(-1) * Inv.apply(A).mT


# =============================================================================
# factorizations
# =============================================================================


class Cholesky(InternalFunction):
    _backward_name = "LinalgCholeskyExBackward0"

    @staticmethod
    def forward(ctx, A):
        L = _wrap(A, _call("cholesky", A, A._data))
        ctx.save_for_backward(L)
        return L

    @staticmethod
    def backward(ctx, gL):
        # A = L L^T: with P = tril(L^T gL) and S = (P + tril(P, -1)^T) / 2 (symmetric),
        # gA = L^-T S L^-1
        (L,) = ctx.saved_tensors
        P = (L.mT @ gL).tril()
        S = 0.5 * (P + P.tril(-1).mT)
        Linv = Inv.apply(L)
        return Linv.mT @ S @ Linv


class QR(InternalFunction):
    _backward_name = "LinalgQrBackward0"

    @staticmethod
    def forward(ctx, A, mode):
        q, r = _call("qr", A, A._data, mode=mode)
        Q, R = _wrap(A, q), _wrap(A, r)
        ctx.mode = mode
        ctx.save_for_backward(Q, R)
        return Q, R

    @staticmethod
    def backward(ctx, gQ, gR):
        Q, R = ctx.saved_tensors
        m, n = Q.shape[-2], R.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError(
                "The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if m >= n:
            return _qr_backward_tall(Q, R, gQ, gR), None
        # wide: A = [X | Y] with X = Q U (square QR), R = [U | V], V = Q^T Y
        from .shape import cat

        U, gU, gV = R[..., :, :m], gR[..., :, :m], gR[..., :, m:]
        Y = Q @ R[..., :, m:]
        gQ = gQ + Y @ gV.mT
        gX = _qr_backward_tall(Q, U, gQ, gU)
        gY = Q @ gV
        return cat([gX, gY], -1), None


def _qr_backward_tall(Q, R, gQ, gR):
    # m >= n, reduced: M = R gR^T - gQ^T Q; gA = (gQ + Q copyltu(M)) R^-T, where copyltu(M)
    # mirrors the lower triangle of M onto the upper one
    M = R @ gR.mT - gQ.mT @ Q
    low = M.tril(-1)
    sym = low + low.mT + M.diagonal(0, -2, -1).diag_embed()
    B = gQ + Q @ sym
    return B @ Inv.apply(R).mT


class SVD(InternalFunction):
    _backward_name = "LinalgSvdBackward0"

    @staticmethod
    def forward(ctx, A, full_matrices):
        u, s, vh = _call("svd", A, A._data, full_matrices=full_matrices)
        U, S, Vh = _wrap(A, u), _wrap(A, s), _wrap(A, vh)
        ctx.full = full_matrices
        ctx.save_for_backward(U, S, Vh)
        return U, S, Vh

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        k = S.shape[-1]
        if ctx.full:  # only the first k singular vectors take part in A
            U, gU = U[..., :, :k], gU[..., :, :k]
            Vh, gVh = Vh[..., :k, :], gVh[..., :k, :]
        return svd_backward(U, S, Vh, gU, gS, gVh), None


def svd_backward(U, S, Vh, gU, gS, gVh):
    """gA for A = U diag(S) Vh (reduced), as in PyTorch: with J = skew(U^T gU),
    K = skew(Vh gVh^T) and E_ij = S_j^2 - S_i^2 (1 on the diagonal),
    gA = U [(J S + S K) / E + diag(gS)] Vh, plus the parts of gU (m > n) and gVh (m < n) outside
    the span of U and V."""
    m, n = U.shape[-2], Vh.shape[-1]
    J = U.mT @ gU
    J = J - J.mT
    K = Vh @ gVh.mT
    K = K - K.mT
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1)
    E = E + _eye_like(E)
    inner = (J * S.unsqueeze(-2) + S.unsqueeze(-1) * K) / E + gS.diag_embed()
    if m > n:
        gUS = gU / S.unsqueeze(-2)
        return (U @ inner + gUS - U @ (U.mT @ gUS)) @ Vh
    if m < n:
        SgVh = gVh / S.unsqueeze(-1)
        return U @ (inner @ Vh + SgVh - (SgVh @ Vh.mT) @ Vh)
    return U @ inner @ Vh


class Eigh(InternalFunction):
    _backward_name = "LinalgEighBackward0"

    @staticmethod
    def forward(ctx, A, uplo):
        w, v = _call("eigh", A, A._data, uplo=uplo)
        W, V = _wrap(A, w), _wrap(A, v)
        ctx.save_for_backward(W, V)
        return W, V

    @staticmethod
    def backward(ctx, gW, gV):
        # A = V diag(W) V^T: gA = V [skew(V^T gV)/2 / E + diag(gW)] V^T, E_ij = W_j - W_i
        W, V = ctx.saved_tensors
        X = V.mT @ gV
        X = 0.5 * (X - X.mT)
        E = W.unsqueeze(-2) - W.unsqueeze(-1)
        E = E + _eye_like(E)
        inner = X / E + gW.diag_embed()
        return V @ inner @ V.mT, None


class Pinv(InternalFunction):
    _backward_name = "LinalgPinvBackward0"

    @staticmethod
    def forward(ctx, A, atol, rtol):
        U, S, Vh = svd(A.detach(), full_matrices=False)
        cutoff = _cutoff(S, atol, rtol, A)
        keep = S > cutoff
        Sinv = (1 / S.masked_fill(~keep, 1)).masked_fill(~keep, 0)
        P = (Vh.mT * Sinv.unsqueeze(-2)) @ U.mT
        ctx.save_for_backward(A, P)
        return P

    @staticmethod
    def backward(ctx, g):
        # with P = A^+: gA = -P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A)  (real case)
        A, P = ctx.saved_tensors
        Pt, gt = P.mT, g.mT
        first = -(Pt @ g @ Pt)
        second = (gt - A @ (P @ gt)) @ (P @ Pt)
        third = (Pt @ P) @ (gt - (gt @ P) @ A)
        return first + second + third, None, None


def _cutoff(S, atol, rtol, A):
    """``max(atol, rtol * S_max)`` per matrix, keeping a trailing dim for broadcasting."""
    smax = S.amax(-1, keepdim=True) if S.shape[-1] else S.sum(-1, keepdim=True)
    if atol is None and rtol is None:
        rtol = max(A.shape[-2], A.shape[-1]) * dt.finfo(A.dtype).eps
        atol = 0.0
    elif rtol is None:
        rtol = 0.0 if (atol is not None and not _is_zero(atol)) else \
            max(A.shape[-2], A.shape[-1]) * dt.finfo(A.dtype).eps
    if atol is None:
        atol = 0.0
    if isinstance(atol, Tensor):
        atol = atol.unsqueeze(-1)
    if isinstance(rtol, Tensor):
        rtol = rtol.unsqueeze(-1)
    from .elementwise import maximum

    a = atol if isinstance(atol, Tensor) else smax * 0 + atol
    return maximum(a, rtol * smax)


def _is_zero(v):
    return (not isinstance(v, Tensor)) and v == 0


# =============================================================================
# public functions (flambeau.linalg.* and the legacy top-level forms)
# =============================================================================


def inv(A, *, out=None):
    """The inverse of each square matrix in ``A``; LinAlgError if one is singular."""
    check_matrix("linalg.inv", A, square=True)
    return Inv.apply(A)


def inv_ex(A, *, check_errors=False, out=None):
    from .._creation import zeros

    try:
        res = inv(A)
        info = zeros(A.shape[:-2], dtype=dt.int32, device=A.device)
    except LinAlgError:
        if check_errors:
            raise
        from .._creation import full

        res = full(A.shape, float("nan"), dtype=A.dtype, device=A.device)
        info = zeros(A.shape[:-2], dtype=dt.int32, device=A.device) + 1
    return _ret("linalg_inv_ex", ("inverse", "info"))(res, info)


def _is_vector_rhs(A, B):
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def solve(A, B, *, left=True, out=None):
    """``X`` with ``A @ X = B`` (``X @ A = B`` with ``left=False``); ``B`` may be a (batch of)
    vector(s). Batch dims broadcast."""
    check_matrix("linalg.solve", A, square=True)
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg.solve(): argument 'B' must be Tensor, not {type(B).__name__}")
    if A.dtype is not B.dtype:
        raise RuntimeError(
            f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
            f"{A.dtype.name.capitalize()} and B of type {B.dtype.name.capitalize()} instead")
    if not left:
        return solve(A.mT, B.mT if B.ndim > 1 else B, left=True).mT if B.ndim > 1 else \
            solve(A.mT, B, left=True)
    vector = _is_vector_rhs(A, B)
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.shape[-2] != A.shape[-1]:
        raise RuntimeError(
            f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
            f"({A.shape[-2]}x{A.shape[-1]} and {Bm.shape[-2]}x{Bm.shape[-1]})")
    from .shape import broadcast_shapes

    batch = broadcast_shapes(A.shape[:-2], Bm.shape[:-2])
    Ab = A.expand(*batch, *A.shape[-2:]) if tuple(A.shape[:-2]) != tuple(batch) else A
    Bb = Bm.expand(*batch, *Bm.shape[-2:]) if tuple(Bm.shape[:-2]) != tuple(batch) else Bm
    try:
        X = Solve.apply(Ab, Bb)
    except LinAlgError as exc:
        raise LinAlgError(str(exc).replace("linalg.solve", "torch.linalg.solve")) from None
    return X.squeeze(-1) if vector else X


def det(A, *, out=None):
    """The determinant of each square matrix in ``A``."""
    check_matrix("linalg.det", A, square=True)
    return Det.apply(A)


def slogdet(A, *, out=None):
    """``(sign, logabsdet)`` of each square matrix: ``det = sign * exp(logabsdet)``."""
    check_matrix("linalg.slogdet", A, square=True)
    sign, logabs = SlogDet.apply(A)
    return _ret("linalg_slogdet", ("sign", "logabsdet"))(sign, logabs)


def logdet(input):
    """``log(det(A))``: NaN for a negative determinant, ``-inf`` for a singular matrix."""
    check_matrix("logdet", input, square=True)
    sign, logabs = SlogDet.apply(input)
    from .elementwise import where

    nan = logabs.detach() * float("nan")  # a constant: no gradient flows into it
    return where(sign < 0, nan, logabs)


def cholesky(A, *, upper=False, out=None):
    """The lower Cholesky factor ``L`` (``A = L L^T``) of each symmetric positive-definite
    matrix (``upper=True``: ``U = L^T``)."""
    check_matrix("linalg.cholesky", A, square=True)
    L = Cholesky.apply(A)
    return L.mT if upper else L


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    from .._creation import full, zeros

    try:
        L = cholesky(A, upper=upper)
        info = zeros(A.shape[:-2], dtype=dt.int32, device=A.device)
    except LinAlgError:
        if check_errors:
            raise
        L = full(A.shape, float("nan"), dtype=A.dtype, device=A.device)
        info = zeros(A.shape[:-2], dtype=dt.int32, device=A.device) + 1
    return _ret("linalg_cholesky_ex", ("L", "info"))(L, info)


def qr(A, mode="reduced", *, out=None):
    """``(Q, R)`` with ``A = Q R``, ``Q`` orthonormal columns, ``R`` upper triangular.
    ``mode``: ``"reduced"`` (default), ``"complete"`` or ``"r"`` (``Q`` empty)."""
    check_matrix("linalg.qr", A)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
            "'r', or 'complete'")
    ret = _ret("linalg_qr", ("Q", "R"))
    if mode == "r":
        from .._creation import empty

        _, R = QR.apply(A.detach(), "reduced")
        return ret(empty(0, dtype=A.dtype, device=A.device), R)
    Q, R = QR.apply(A, mode)
    return ret(Q, R)


def svd(A, full_matrices=True, *, driver=None, out=None):
    """``(U, S, Vh)`` with ``A = U diag(S) Vh``, ``S`` descending."""
    check_matrix("linalg.svd", A)
    U, S, Vh = SVD.apply(A, full_matrices)
    return _ret("linalg_svd", ("U", "S", "Vh"))(U, S, Vh)


def svdvals(A, *, driver=None, out=None):
    """The singular values of each matrix, descending."""
    check_matrix("linalg.svdvals", A)
    if A.requires_grad:
        return SVD.apply(A, False)[1]
    return _wrap(A, _call("svdvals", A, A._data))


def eigh(A, UPLO="L", *, out=None):
    """``(eigenvalues, eigenvectors)`` of each symmetric matrix (read from its ``UPLO``
    triangle), eigenvalues ascending."""
    check_matrix("linalg.eigh", A, square=True)
    _check_uplo(UPLO)
    W, V = Eigh.apply(A, UPLO)
    return _ret("linalg_eigh", ("eigenvalues", "eigenvectors"))(W, V)


def eigvalsh(A, UPLO="L", *, out=None):
    """The eigenvalues of each symmetric matrix, ascending."""
    check_matrix("linalg.eigvalsh", A, square=True)
    _check_uplo(UPLO)
    if A.requires_grad:
        return Eigh.apply(A, UPLO)[0]
    return _wrap(A, _call("eigvalsh", A, A._data, uplo=UPLO))


def _check_uplo(uplo):
    if uplo not in ("L", "U", "l", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {uplo}")


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """The Moore-Penrose pseudo-inverse; singular values below ``max(atol, rtol * s_max)``
    count as zero (default ``rtol = max(m, n) * eps``)."""
    check_matrix("linalg.pinv", A)
    return Pinv.apply(A, atol, rtol)


def pinverse(input, rcond=1e-15):
    """Legacy ``torch.pinverse``: ``pinv`` with ``rtol=rcond``."""
    return pinv(input, rtol=rcond)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None, out=None):
    """The number of singular values above ``max(atol, rtol * s_max)``, as int64."""
    check_matrix("linalg.matrix_rank", A)
    if tol is not None:
        atol, rtol = tol, 0.0
    from ..autograd.grad_mode import no_grad

    with no_grad():
        S = svdvals(A.detach())
        return (S > _cutoff(S, atol, rtol, A)).sum(-1)


def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution ``X`` minimising ``||A X - B||``, as ``torch.linalg.lstsq``:
    returns ``(solution, residuals, rank, singular_values)``. The solution is the minimum-norm
    one (``pinv(A) @ B``); like PyTorch's default CPU driver ``gelsy``, residuals and singular
    values are empty and ``rank`` is computed."""
    check_matrix("linalg.lstsq", A)
    from .._creation import empty

    vector = B.ndim == A.ndim - 1
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.shape[-2] != A.shape[-2]:
        raise RuntimeError(
            f"torch.linalg.lstsq: input.size(-2) should match other.size(-2). Got "
            f"{A.shape[-2]} and {Bm.shape[-2]}")
    if rcond is None:
        rtol = max(A.shape[-2], A.shape[-1]) * dt.finfo(A.dtype).eps
    else:
        rtol = rcond
    X = Pinv.apply(A, None, rtol) @ Bm
    if vector:
        X = X.squeeze(-1)
    rank = matrix_rank(A, rtol=rtol)
    none = empty(0, dtype=A.dtype, device=A.device)
    return _ret("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))(
        X, none, rank, none.clone())


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """``X`` with ``A X = B`` (``X A = B`` with ``left=False``) for triangular ``A`` (only its
    ``upper`` or lower triangle is read; ``unitriangular`` takes its diagonal as ones)."""
    check_matrix("linalg.solve_triangular", A, square=True)
    T = A.triu() if upper else A.tril()
    if unitriangular:
        T = T - T.diagonal(0, -2, -1).diag_embed() + _eye_like(T)
    if not left:
        return solve(T.mT, B.mT).mT
    return solve(T, B)


def matrix_power(A, n):
    """``A`` multiplied by itself ``n`` times (``n < 0``: the inverse's power; ``n = 0``:
    identity)."""
    check_matrix("linalg.matrix_power", A, square=True) if A.dtype.is_floating_point else None
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"linalg.matrix_power: A must be batches of square matrices, but they are "
            f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if n == 0:
        from .._creation import eye

        return eye(A.shape[-1], dtype=A.dtype, device=A.device).expand(A.shape).clone()
    if n < 0:
        A = inv(A)
        n = -n
    result = None
    base = A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result


def multi_dot(tensors, *, out=None):
    """The product of a chain of matrices (the first may be a row vector and the last a
    column vector, each 1-D), as ``torch.linalg.multi_dot``."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    first_vec = tensors[0].ndim == 1
    last_vec = tensors[-1].ndim == 1
    mats = list(tensors)
    if first_vec:
        mats[0] = mats[0].unsqueeze(0)
    if last_vec:
        mats[-1] = mats[-1].unsqueeze(-1)
    for i, t in enumerate(mats):
        if t.ndim != 2:
            raise RuntimeError(
                f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    out_ = mats[0]
    for t in mats[1:]:
        out_ = out_ @ t
    if first_vec and last_vec:
        return out_.reshape(())
    if first_vec:
        return out_.squeeze(0)
    if last_vec:
        return out_.squeeze(-1)
    return out_


def chain_matmul(*matrices, out=None):
    if len(matrices) == 1:
        return matrices[0].clone() if matrices[0].ndim == 2 else matrices[0]
    return multi_dot(matrices)


# legacy top-level forms ------------------------------------------------------


def inverse(input, *, out=None):
    return inv(input)


def legacy_svd(input, some=True, compute_uv=True, *, out=None):
    """``torch.svd``: ``(U, S, V)`` (``V``, not ``Vh``); ``some=False`` gives full ``U``/``V``."""
    check_matrix("svd", input)
    if not compute_uv:
        from .._creation import zeros

        S = svdvals(input)
        m, n = input.shape[-2], input.shape[-1]
        return _ret("svd", ("U", "S", "V"))(
            zeros(*input.shape[:-2], m, m if not some else min(m, n), dtype=input.dtype,
                  device=input.device), S,
            zeros(*input.shape[:-2], n, n if not some else min(m, n), dtype=input.dtype,
                  device=input.device))
    U, S, Vh = SVD.apply(input, not some)
    return _ret("svd", ("U", "S", "V"))(U, S, Vh.mT)


def legacy_qr(input, some=True, *, out=None):
    """``torch.qr``: ``(Q, R)``, reduced unless ``some=False``."""
    Q, R = qr(input, "reduced" if some else "complete")
    return _ret("qr", ("Q", "R"))(Q, R)


def legacy_slogdet(input):
    sign, logabs = slogdet(input)
    return _ret("slogdet", ("sign", "logabsdet"))(sign, logabs)


def cholesky_solve(B, L, upper=False, *, out=None):
    """``X`` with ``A X = B`` given the Cholesky factor of ``A`` (lower, or ``upper``)."""
    A = L.mT @ L if upper else L @ L.mT
    return solve(A, B)


def cholesky_inverse(L, upper=False, *, out=None):
    A = L.mT @ L if upper else L @ L.mT
    return inv(A)


_RET_CACHE: dict = {}


def _ret(name, fields):
    cls = _RET_CACHE.get(name)
    if cls is None:
        from .reduction import _ret as make

        cls = _RET_CACHE[name] = make(name, list(fields))
    return cls
