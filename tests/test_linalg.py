"""``flambeau.linalg`` and the legacy top-level linear-algebra names: forward against NumPy in
float64, gradients against central differences (decompositions through sign-invariant
functions of their factors), batching, errors, and ``create_graph`` for a second derivative."""
from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import assert_close as close
from helpers import numerical_grad

import flambeau
from flambeau import linalg as LA

F64 = flambeau.float64


def t64(a, grad=False):
    return flambeau.tensor(np.asarray(a, dtype=np.float64), dtype=F64, requires_grad=grad)


def rng():
    return np.random.default_rng(1234)


def _expm(a):
    """exp(a) of a symmetric-or-not small matrix through its eigendecomposition (float64;
    SciPy is not a test dependency)."""
    w, v = np.linalg.eig(a)
    return ((v * np.exp(w)) @ np.linalg.inv(v)).real


def spd(r, n, batch=()):
    a = r.uniform(-1, 1, batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def check_grad(fn_flambeau, fn_numpy, arrays, rtol=1e-5, atol=1e-6):
    """The gradient of the scalar ``fn_flambeau(*tensors)`` matches central differences of
    ``fn_numpy(*arrays)`` for every input."""
    ts = [t64(a, grad=True) for a in arrays]
    fn_flambeau(*ts).backward()
    for i, t in enumerate(ts):
        ref = numerical_grad(fn_numpy, [np.array(a, dtype=np.float64) for a in arrays], i)
        close(t.grad, ref, rtol=rtol, atol=atol, msg=f"input {i}")


# =============================================================================
# forward
# =============================================================================


def test_forward_matches_numpy():
    r = rng()
    A = spd(r, 4, (2,))
    B = r.uniform(-1, 1, (2, 4, 3))
    M = r.uniform(-1, 1, (5, 3))
    close(LA.inv(t64(A)), np.linalg.inv(A))
    close(LA.solve(t64(A), t64(B)), np.linalg.solve(A, B))
    close(LA.det(t64(A)), np.linalg.det(A))
    sign, logabs = LA.slogdet(t64(A))
    close(sign, np.linalg.slogdet(A)[0])
    close(logabs, np.linalg.slogdet(A)[1])
    close(LA.cholesky(t64(A)), np.linalg.cholesky(A))
    close(LA.cholesky(t64(A), upper=True), np.swapaxes(np.linalg.cholesky(A), -1, -2))
    close(LA.eigvalsh(t64(A)), np.linalg.eigvalsh(A))
    close(LA.svdvals(t64(M)), np.linalg.svd(M, compute_uv=False))
    close(LA.pinv(t64(M)), np.linalg.pinv(M))
    close(LA.matrix_power(t64(A[0]), 3), np.linalg.matrix_power(A[0], 3))
    close(LA.matrix_power(t64(A[0]), -2), np.linalg.matrix_power(A[0], -2))
    close(LA.matrix_power(t64(A), 0), np.broadcast_to(np.eye(4), (2, 4, 4)))
    close(LA.multi_dot([t64(M.T), t64(M), t64(M[0])]), M.T @ M @ M[0])
    close(LA.multi_dot([t64(M[:, 0]), t64(M), t64(M[0])]), M[:, 0] @ M @ M[0])
    assert LA.matrix_rank(t64(M)).item() == 3
    assert LA.matrix_rank(flambeau.ones(3, 3)).item() == 1
    close(LA.lstsq(t64(M), t64(B[0, :, :2].repeat(2, 0)[:5])).solution,
          np.linalg.lstsq(M, B[0, :, :2].repeat(2, 0)[:5], rcond=None)[0])
    close(LA.solve_triangular(t64(np.tril(A[0])), t64(B[0]), upper=False),
          np.linalg.solve(np.tril(A[0]), B[0]))
    close(LA.matrix_exp(t64([[0.0, 1.0], [-1.0, 0.0]])),
          [[math.cos(1), math.sin(1)], [-math.sin(1), math.cos(1)]])
    close(LA.matrix_exp(t64(A[0] / 4)), _expm(A[0] / 4), rtol=1e-9)
    close(LA.cond(t64(A[0])), np.linalg.cond(A[0]))


def test_decompositions_reconstruct():
    r = rng()
    for shape in ((5, 3), (3, 5), (2, 4, 4)):
        M = r.uniform(-1, 1, shape)
        U, S, Vh = LA.svd(t64(M), full_matrices=False)
        close((U * S.unsqueeze(-2)) @ Vh, M)
        Q, R = LA.qr(t64(M))
        close(Q @ R, M)
        close(Q.mT @ Q, np.broadcast_to(np.eye(Q.shape[-1]), Q.shape[:-2] + (Q.shape[-1],) * 2),
              atol=1e-12)
        assert bool((R.tril(-1).abs() < 1e-12).all())
    Qc, Rc = LA.qr(t64(r.uniform(size=(5, 3))), mode="complete")
    assert Qc.shape == (5, 5) and Rc.shape == (5, 3)
    assert LA.qr(t64(r.uniform(size=(5, 3))), mode="r").Q.numel() == 0
    A = spd(r, 4)
    w, V = LA.eigh(t64(A))
    close((V * w) @ V.mT, A)
    assert LA.svd(t64(r.uniform(size=(5, 3)))).U.shape == (5, 5)


def test_norms_match_numpy():
    r = rng()
    A = r.uniform(-2, 2, (3, 4))
    b = r.uniform(-2, 2, 5)
    for ord_ in ("fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf):
        close(LA.norm(t64(A), ord_), np.linalg.norm(A, ord_), msg=f"ord={ord_}")
        close(LA.matrix_norm(t64(A), ord_), np.linalg.norm(A, ord_), msg=f"ord={ord_}")
    for ord_ in (None, 1, 2, 3, math.inf, -math.inf, 0):
        close(LA.norm(t64(b), ord_), np.linalg.norm(b, ord_), msg=f"ord={ord_}")
    close(LA.norm(t64(A)), np.linalg.norm(A))
    close(LA.norm(t64(A), dim=1), np.linalg.norm(A, axis=1))
    close(LA.norm(t64(A), 1, dim=(0, 1)), np.linalg.norm(A, 1, axis=(0, 1)))
    close(LA.vector_norm(t64(A), 1), np.abs(A).sum())
    assert LA.matrix_norm(t64(A).expand(2, 3, 4), 2, keepdim=True).shape == (2, 1, 1)
    with pytest.raises(RuntimeError, match="must be 1D or 2D"):
        LA.norm(t64(np.ones((2, 2, 2))), 2)


def test_cross_and_legacy_names():
    a, b = np.array([[1.0, 2.0, 3.0], [0.5, 0.0, 1.0]]), np.array([[4.0, 5.0, 6.0], [1.0, 1.0, 0.0]])
    close(LA.cross(t64(a), t64(b)), np.cross(a, b))
    close(flambeau.cross(t64(a.T), t64(b.T), dim=0), np.cross(a, b).T)
    r = rng()
    A = spd(r, 3)
    close(flambeau.inverse(t64(A)), np.linalg.inv(A))
    close(t64(A).inverse(), np.linalg.inv(A))
    close(flambeau.det(t64(A)), np.linalg.det(A))
    close(flambeau.logdet(t64(A)), np.log(np.linalg.det(A)))
    assert math.isnan(flambeau.logdet(t64(-np.eye(3))).item())
    close(flambeau.cholesky(t64(A)), np.linalg.cholesky(A))
    close(flambeau.matrix_power(t64(A), 2), A @ A)
    close(flambeau.pinverse(t64(A)), np.linalg.inv(A))
    close(flambeau.chain_matmul(t64(A), t64(A), t64(A)), A @ A @ A)
    L = np.linalg.cholesky(A)
    rhs = r.uniform(size=(3, 2))
    close(flambeau.cholesky_solve(t64(rhs), t64(L)), np.linalg.solve(A, rhs))
    close(flambeau.cholesky_inverse(t64(L)), np.linalg.inv(A))
    M = r.uniform(-1, 1, (4, 3))
    U, S, V = flambeau.svd(t64(M))
    close((U * S) @ V.mT, M)
    sol, coeff = flambeau.triangular_solve(t64(rhs), t64(np.triu(A)))
    close(sol, np.linalg.solve(np.triu(A), rhs))
    sign, logabs = flambeau.slogdet(t64(A))
    close(sign * logabs.exp(), np.linalg.det(A))


def test_solve_shapes_and_batching():
    A = t64(spd(rng(), 2))
    assert LA.solve(A, t64(np.ones(2))).shape == (2,)
    assert LA.solve(A.expand(3, 2, 2), t64(np.ones((3, 2)))).shape == (3, 2)  # batch of vectors
    assert LA.solve(A, t64(np.ones((3, 2, 1)))).shape == (3, 2, 1)  # broadcast batch
    X = LA.solve(A, t64(np.eye(2)), left=False)
    close(X @ A, np.eye(2))


def test_errors():
    with pytest.raises(RuntimeError, match="must be batches of square matrices"):
        LA.inv(flambeau.ones(2, 3))
    with pytest.raises(RuntimeError, match="Expected a floating point"):
        LA.inv(flambeau.ones(2, 2, dtype=flambeau.int64))
    with pytest.raises(RuntimeError, match="Low precision dtypes not supported"):
        LA.inv(flambeau.ones(2, 2, dtype=flambeau.float16))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        LA.det(flambeau.ones(3))
    with pytest.raises(LA.LinAlgError, match="singular"):
        LA.inv(flambeau.zeros(2, 2))
    with pytest.raises(LA.LinAlgError, match="singular"):
        LA.solve(flambeau.zeros(2, 2), flambeau.ones(2))
    with pytest.raises(LA.LinAlgError, match="positive-definite"):
        LA.cholesky(-flambeau.eye(2))
    assert issubclass(LA.LinAlgError, RuntimeError)
    _, info = LA.inv_ex(flambeau.zeros(2, 2))
    assert info.item() != 0
    _, info = LA.cholesky_ex(flambeau.eye(2))
    assert info.item() == 0
    with pytest.raises(NotImplementedError, match="complex"):
        LA.eig(flambeau.eye(2))


# =============================================================================
# gradients against finite differences
# =============================================================================

W_A = np.array([[0.3, -1.2, 0.5, 2.0], [1.1, 0.4, -0.7, 0.2], [0.9, 1.5, 0.1, -0.3],
                [-0.6, 0.8, 1.3, 0.5]])  # fixed weights that make the losses asymmetric


def _sym(a):
    return (a + np.swapaxes(a, -1, -2)) / 2


def test_grad_inv_det_slogdet_solve():
    r = rng()
    A = r.uniform(-1, 1, (4, 4)) + 3 * np.eye(4)
    b = r.uniform(-1, 1, (4, 2))
    W = flambeau.tensor(W_A, dtype=F64)
    check_grad(lambda a: (LA.inv(a) * W).sum(), lambda a: (np.linalg.inv(a) * W_A).sum(), [A])
    check_grad(lambda a: LA.det(a), lambda a: np.linalg.det(a), [A])
    check_grad(lambda a: LA.slogdet(a).logabsdet, lambda a: np.linalg.slogdet(a)[1], [A])
    check_grad(lambda a, x: (LA.solve(a, x) * W[:, :2]).sum(),
               lambda a, x: (np.linalg.solve(a, x) * W_A[:, :2]).sum(), [A, b])
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])  # det's gradient is the cofactor matrix
    check_grad(lambda a: LA.det(a), lambda a: np.linalg.det(a), [singular])
    Ab = r.uniform(-1, 1, (2, 3, 3)) + 2 * np.eye(3)
    check_grad(lambda a: LA.det(a).sum() + LA.inv(a).sum(),
               lambda a: np.linalg.det(a).sum() + np.linalg.inv(a).sum(), [Ab])


def test_grad_cholesky_eigh_symmetric_inputs():
    A = spd(rng(), 4)
    W = flambeau.tensor(W_A, dtype=F64)
    # the functions are evaluated on the symmetric part, as the decompositions read one triangle
    check_grad(lambda a: (LA.cholesky((a + a.mT) / 2) * W).sum(),
               lambda a: (np.linalg.cholesky(_sym(a)) * W_A).sum(), [A])
    check_grad(lambda a: (LA.eigvalsh((a + a.mT) / 2) * W[0]).sum(),
               lambda a: (np.linalg.eigvalsh(_sym(a)) * W_A[0]).sum(), [A])
    # eigenvectors up to sign: use |V|
    check_grad(lambda a: (LA.eigh((a + a.mT) / 2).eigenvectors.abs() * W).sum(),
               lambda a: (np.abs(np.linalg.eigh(_sym(a))[1]) * W_A).sum(), [A])


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4)])
def test_grad_svd_qr_pinv(shape):
    M = rng().uniform(-1, 1, shape)
    k = min(shape)
    Wk = W_A[:k, :k]
    Wm = np.resize(W_A, shape)
    W_k, W_m = flambeau.tensor(Wk, dtype=F64), flambeau.tensor(Wm, dtype=F64)

    def svd_loss_np(a):
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        return s @ Wk[0] + (np.abs(u) * np.resize(W_A, u.shape)).sum() + \
            (np.abs(vh) * np.resize(W_A, vh.shape)).sum()

    def svd_loss(a):
        u, s, vh = LA.svd(a, full_matrices=False)
        return (s * W_k[0]).sum() + (u.abs() * flambeau.tensor(np.resize(W_A, u.shape), dtype=F64)).sum() \
            + (vh.abs() * flambeau.tensor(np.resize(W_A, vh.shape), dtype=F64)).sum()

    check_grad(svd_loss, svd_loss_np, [M], rtol=1e-4, atol=1e-6)
    check_grad(lambda a: (LA.svdvals(a) * W_k[0]).sum(),
               lambda a: np.linalg.svd(a, compute_uv=False) @ Wk[0], [M])

    def qr_np(a):
        q, r_ = np.linalg.qr(a)
        s = np.sign(np.diag(r_))  # fix LAPACK's signs: R with a positive diagonal
        return ((q * s) * np.resize(W_A, q.shape)).sum() + ((r_ * s[:, None]) * np.resize(W_A, r_.shape)).sum()

    def qr_f(a):
        q, r_ = LA.qr(a)
        s = r_.diagonal().sign()
        return ((q * s) * flambeau.tensor(np.resize(W_A, q.shape), dtype=F64)).sum() + \
            ((r_ * s.unsqueeze(-1)) * flambeau.tensor(np.resize(W_A, r_.shape), dtype=F64)).sum()

    check_grad(qr_f, qr_np, [M])
    check_grad(lambda a: (LA.pinv(a) * W_m.mT).sum(), lambda a: (np.linalg.pinv(a) * Wm.T).sum(), [M])
    check_grad(lambda a: LA.norm(a, "nuc") + LA.norm(a, 2),
               lambda a: np.linalg.norm(a, "nuc") + np.linalg.norm(a, 2), [M])


def test_grad_matrix_exp_power_cross():
    A = rng().uniform(-0.5, 0.5, (3, 3))
    check_grad(lambda a: (LA.matrix_exp(a) * flambeau.tensor(W_A[:3, :3], dtype=F64)).sum(),
               lambda a: (_expm(a) * W_A[:3, :3]).sum(), [A])
    check_grad(lambda a: LA.matrix_power(a, -2).sum(),
               lambda a: np.linalg.matrix_power(a + 0, -2).sum(), [A + 2 * np.eye(3)])
    check_grad(lambda a, b: (LA.cross(a, b) * flambeau.tensor([1.0, -2.0, 3.0], dtype=F64)).sum(),
               lambda a, b: np.cross(a, b) @ np.array([1.0, -2.0, 3.0]), [A[0], A[1]])


def test_second_derivatives():
    A = t64(rng().uniform(-1, 1, (3, 3)) + 2 * np.eye(3), grad=True)
    assert flambeau.autograd.gradgradcheck(LA.inv, (A,))
    assert flambeau.autograd.gradgradcheck(LA.det, (A,))
    b = t64(np.ones((3, 1)), grad=True)
    assert flambeau.autograd.gradgradcheck(LA.solve, (A, b))
    S = t64(spd(rng(), 3), grad=True)
    assert flambeau.autograd.gradcheck(lambda a: LA.cholesky((a + a.mT) / 2), (S,))


def test_float32_on_device():
    """The decompositions in float32 on the device under test (batched)."""
    r = rng()
    A = spd(r, 3, (2,)).astype(np.float32)
    t = flambeau.tensor(A)
    close(LA.inv(t), np.linalg.inv(A), rtol=1e-4, atol=1e-5)
    close(LA.det(t), np.linalg.det(A), rtol=1e-4)
    L = LA.cholesky(t)
    assert L.dtype is flambeau.float32
    close(L @ L.mT, A, rtol=1e-4, atol=1e-5)
    t.requires_grad_()
    LA.inv(t).sum().backward()
    assert t.grad.shape == (2, 3, 3)


def test_backend_without_linalg_names_itself(monkeypatch):
    """``Backend.linalg`` is optional: its default raises NotImplementedError naming the
    backend, and ``flambeau.linalg`` passes that on with the device."""
    from flambeau.backend import Backend

    A = flambeau.eye(2)
    be = A._backend
    monkeypatch.setattr(type(be), "linalg", Backend.linalg)
    with pytest.raises(NotImplementedError, match=f"backend {be.name!r}.*linalg\\('inv'\\)"):
        LA.inv(A)
    close(LA.norm(A), math.sqrt(2))  # compositions keep working
