"""The parts of PyTorch's namespace around the ops: ``flambeau.cuda``, ``backends.cudnn``/``mps``,
``testing.assert_close``/``make_tensor``, ``autograd.Variable``/``functional``, ``flambeau.func``,
``out=``, the switches and window functions, and the smaller ops (``meshgrid``, ``cdist``,
``searchsorted``, ``mode``, ``unfold``, ...) against NumPy references and PyTorch's literal
values."""
from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from helpers import assert_close as close
from helpers import numerical_grad, to_numpy

import flambeau
import flambeau.testing
from flambeau.testing import assert_close, make_tensor

T = flambeau.tensor


# =============================================================================
# flambeau.cuda, flambeau.backends.cudnn / mps
# =============================================================================


def test_cuda_module_without_a_gpu_is_inert():
    cuda = flambeau.cuda
    avail = flambeau.backends.is_available("cuda")
    assert cuda.is_available() is avail
    if not avail:
        assert cuda.device_count() == 0
        assert cuda.memory_allocated() == 0 and cuda.max_memory_allocated() == 0
        cuda.synchronize()
        cuda.empty_cache()
        with pytest.raises(AssertionError, match="cuda"):
            cuda.get_device_name()
    cuda.manual_seed(1)
    cuda.manual_seed_all(2)
    assert cuda.initial_seed() == 2
    prev = cuda.current_device()
    cuda.set_device(0)
    with cuda.device(0):
        assert cuda.current_device() == 0
    assert cuda.current_device() == 0
    cuda.set_device(prev)


def test_cuda_is_available_imports_no_gpu_library():
    code = ("import sys, flambeau; flambeau.cuda.is_available(); flambeau.cuda.manual_seed(0); "
            "flambeau.backends.cudnn.benchmark = True; "
            "assert 'cupy' not in sys.modules and 'numpy' not in sys.modules, sorted(sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       env={"FLAMBEAU_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": ""})
    assert r.returncode == 0, r.stderr


def test_backend_library_flags():
    cudnn = flambeau.backends.cudnn
    assert cudnn.enabled is True and cudnn.benchmark is False and cudnn.deterministic is False
    old = cudnn.deterministic
    cudnn.deterministic = True
    assert cudnn.deterministic is True
    cudnn.deterministic = old
    assert cudnn.is_available() == flambeau.backends.is_available("cuda")
    assert flambeau.backends.mps.is_available() is False
    assert flambeau.backends.mps.is_built() is False
    flambeau.backends.cuda.matmul.allow_tf32 = True
    assert "benchmark" in repr(cudnn)


# =============================================================================
# flambeau.testing.assert_close / make_tensor
# =============================================================================


def _message(fn):
    with pytest.raises(AssertionError) as info:
        fn()
    return str(info.value)


def test_assert_close_passes_within_default_tolerances():
    assert_close(T([1.0, 2.0]), T([1.0, 2.0 + 1e-6]))
    assert_close(T([1, 2]), T([1, 2]))
    assert_close(1.0, 1.0 + 1e-8)
    assert_close([T(1.0), {"a": T([2.0])}], [T(1.0), {"a": T([2.0])}])
    assert_close(T([1.0, math.nan]), T([1.0, math.nan]), equal_nan=True)
    assert_close(T([1.0, 2.0]), T([1, 2]), check_dtype=False)
    assert_close(T([1.0, 2.0]), T([1.0, 2.5]), rtol=0.3, atol=0)
    assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.0]))


def test_assert_close_messages_are_pytorchs():
    # the messages PyTorch 2.13 prints for the same calls
    assert _message(lambda: assert_close(T([1.0, 2.0, 3.0]), T([1.0, 2.5, 3.0]))) == (
        "Tensor-likes are not close!\n\nMismatched elements: 1 / 3 (33.3%)\n"
        "Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)\n"
        "Greatest relative difference: 0.20000000298023224 at index (1,) (up to 1.3e-06 allowed)")
    assert _message(lambda: assert_close(T([1, 2, 3]), T([1, 3, 3]))) == (
        "Tensor-likes are not equal!\n\nMismatched elements: 1 / 3 (33.3%)\n"
        "Greatest absolute difference: 1 at index (1,)\n"
        "Greatest relative difference: 0.3333333432674408 at index (1,)")
    assert _message(lambda: assert_close(1.0, 1.5)) == (
        "Scalars are not close!\n\nExpected 1.5 but got 1.0.\n"
        "Absolute difference: 0.5 (up to 1e-07 allowed)\n"
        "Relative difference: 0.3333333333333333 (up to 1e-07 allowed)")
    assert _message(lambda: assert_close([T(1.0), T(2.0)], [T(1.0), T(3.0)])).endswith(
        "\n\nThe failure occurred for item [1]")
    assert _message(lambda: assert_close({"a": T([1.0])}, {"a": T([2.0])})).endswith(
        "The failure occurred for item ['a']")
    assert "attribute 'shape'" in _message(lambda: assert_close(T([1.0]), T([1.0, 2.0])))
    assert "attribute 'dtype'" in _message(
        lambda: assert_close(T([1.0]), T([1.0], dtype=flambeau.float64)))
    assert _message(lambda: assert_close(T([1.0]), T([2.0]), msg="custom")) == "custom"
    assert _message(lambda: assert_close([1, 2], [1, 2, 3])) == \
        "The length of the sequences mismatch: 2 != 3"
    m = _message(lambda: assert_close(T([[1.0, 2.0], [3.0, 4.0]]), T([[1.0, 2.0], [3.0, 5.0]])))
    assert "at index (1, 1)" in m
    with pytest.raises(ValueError, match="Both 'rtol' and 'atol'"):
        assert_close(T([1.0]), T([1.0]), rtol=0.1)
    with pytest.raises(TypeError, match="No comparison pair"):
        assert_close(T([1.0]), [1.0])


def test_assert_allclose_legacy_tolerances():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flambeau.testing.assert_allclose(T([1.0, 2.0]), [1.0, 2.00001])
        with pytest.raises(AssertionError, match="up to 0.0001 allowed"):
            flambeau.testing.assert_allclose(T([1.0, 2.0]), T([1.0, 2.5]))


def test_make_tensor():
    x = make_tensor((2, 3), dtype=flambeau.float32, low=-1, high=1)
    assert x.shape == (2, 3) and x.dtype is flambeau.float32
    assert bool((x >= -1).all()) and bool((x < 1).all())
    i = make_tensor(50, dtype=flambeau.int64, low=0, high=3)
    assert set(i.tolist()) <= {0, 1, 2}
    assert make_tensor(4, dtype=flambeau.bool).dtype is flambeau.bool
    z = make_tensor(100, dtype=flambeau.int64, low=-1, high=2, exclude_zero=True)
    assert 0 not in z.tolist()
    assert make_tensor(3, dtype=flambeau.float64, requires_grad=True).requires_grad
    with pytest.raises(ValueError):
        make_tensor(3, dtype=flambeau.int64, low=3, high=1)


def test_import_testing_needs_neither_pytest_nor_numpy():
    code = ("import sys; import flambeau.testing as t; t.assert_close; "
            "assert 'pytest' not in sys.modules and 'numpy' not in sys.modules")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


# =============================================================================
# autograd: Variable, grad_mode, functional, func transforms
# =============================================================================


def test_variable_is_the_tensor():
    t = flambeau.ones(2)
    v = flambeau.autograd.Variable(t, requires_grad=True)
    assert v is t and v.requires_grad
    assert isinstance(flambeau.zeros(1), flambeau.autograd.Variable)
    assert not isinstance(3, flambeau.autograd.Variable)
    assert flambeau.autograd.grad_mode.no_grad is flambeau.no_grad


def test_grad_fn_class_names_are_pytorchs():
    x = T([1.0, 2.0], requires_grad=True)
    assert type((x * 2).grad_fn).__name__ == "MulBackward0"

    class Exp(flambeau.autograd.Function):
        @staticmethod
        def forward(ctx, i):
            r = i.exp()
            ctx.save_for_backward(r)
            return r

        @staticmethod
        def backward(ctx, g):
            (r,) = ctx.saved_tensors
            return g * r

    y = Exp.apply(x)
    assert type(y.grad_fn).__name__ == "ExpBackward"
    y.sum().backward()
    close(x.grad, np.exp([1.0, 2.0]))


def test_hvp_vhp():
    from flambeau.autograd.functional import hvp, vhp

    def f(x):
        return (x ** 3).sum()

    x = T([0.5, 1.0, 2.0], dtype=flambeau.float64)
    v = T([1.0, 0.0, 2.0], dtype=flambeau.float64)
    out, hv = hvp(f, x, v)
    close(out, 0.125 + 1 + 8)
    close(hv, 6 * np.array([0.5, 1.0, 2.0]) * np.array([1.0, 0.0, 2.0]))
    _, vh = vhp(f, x, v)
    close(vh, hv)
    with pytest.raises(RuntimeError, match="single element"):
        hvp(lambda x: x ** 2, x, v)


def test_func_transforms():
    from flambeau.func import grad, grad_and_value, hessian, jacrev, jvp, vjp, vmap

    x = T([0.0, 1.0, 2.0], dtype=flambeau.float64)
    close(vmap(grad(lambda t: t.sin()))(x), np.cos([0.0, 1.0, 2.0]))
    close(grad(grad(lambda t: t ** 3))(T(2.0)), 12.0)
    close(jacrev(lambda t: t.exp())(x), np.diag(np.exp([0.0, 1.0, 2.0])))
    close(hessian(lambda t: (t ** 3).sum())(x), np.diag([0.0, 6.0, 12.0]))
    g, value = grad_and_value(lambda a, b: (a * b).sum(), argnums=(0, 1))(x, x + 1)
    close(g[0], [1.0, 2.0, 3.0])
    close(g[1], [0.0, 1.0, 2.0])
    close(value, 0 + 2 + 6)
    out, fn = vjp(lambda t: t ** 2, x)
    close(fn(flambeau.ones(3, dtype=flambeau.float64))[0], [0.0, 2.0, 4.0])
    _, tangent = jvp(lambda t: t ** 2, (x,), (flambeau.ones(3, dtype=flambeau.float64),))
    close(tangent, [0.0, 2.0, 4.0])
    a = flambeau.arange(6.0).reshape(2, 3)
    close(vmap(lambda r: r.sum(), in_dims=1)(a), [3.0, 5.0, 7.0])
    close(vmap(lambda r: r * 2, out_dims=1)(a), (to_numpy(a) * 2).T)
    close(vmap(lambda u, w: u * w, in_dims=(0, None))(flambeau.ones(2, 3), flambeau.arange(3.0)),
          [[0.0, 1.0, 2.0]] * 2)
    close(flambeau.vmap(flambeau.dot)(flambeau.ones(4, 3), a.repeat(2, 1)), [3.0, 12.0, 3.0, 12.0])


def test_functional_call_and_per_sample_grads():
    from flambeau.func import functional_call, grad, vmap

    model = flambeau.nn.Linear(3, 2)
    zeros = {k: flambeau.zeros_like(v) for k, v in model.named_parameters()}
    close(functional_call(model, zeros, (flambeau.ones(1, 3),)), [[0.0, 0.0]])
    assert float(model.weight.abs().sum()) > 0  # restored

    def loss(p, xb, yb):
        return ((functional_call(model, p, (xb,)) - yb) ** 2).mean()

    params = dict(model.named_parameters())
    xb, yb = flambeau.randn(4, 3), flambeau.randn(4, 2)
    per = vmap(grad(loss), in_dims=(None, 0, 0))(params, xb.unsqueeze(1), yb.unsqueeze(1))
    full = grad(loss)(params, xb, yb)
    close(per["weight"].mean(0), full["weight"], atol=1e-6)
    close(per["bias"].mean(0), full["bias"], atol=1e-6)


# =============================================================================
# out=, switches, windows
# =============================================================================


def test_out_argument():
    y = flambeau.empty(2)
    r = flambeau.add(flambeau.ones(2), 1, out=y)
    assert r is y
    close(y, [2.0, 2.0])
    a = flambeau.ones(2, 2)
    res = flambeau.empty(2, 2)
    flambeau.matmul(a, a, out=res)
    close(res, [[2.0, 2.0], [2.0, 2.0]])
    v, i = flambeau.empty(0), flambeau.empty(0, dtype=flambeau.int64)
    flambeau.max(T([[1.0, 5.0], [3.0, 2.0]]), 1, out=(v, i))
    close(v, [5.0, 3.0])
    assert i.tolist() == [1, 0]
    with pytest.warns(UserWarning, match="resized"):
        flambeau.sum(flambeau.ones(3, 2), 0, out=flambeau.empty(5))
    with pytest.raises(RuntimeError, match="can't be cast"):
        flambeau.add(flambeau.ones(2), 1.5, out=flambeau.empty(2, dtype=flambeau.int64))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        flambeau.mul(flambeau.ones(2, requires_grad=True), 2, out=flambeau.empty(2))


def test_switches():
    flambeau.set_float32_matmul_precision("high")
    assert flambeau.get_float32_matmul_precision() == "high"
    flambeau.set_float32_matmul_precision("highest")
    flambeau.use_deterministic_algorithms(True)
    assert flambeau.are_deterministic_algorithms_enabled()
    flambeau.use_deterministic_algorithms(False)
    assert not flambeau.are_deterministic_algorithms_enabled()
    flambeau.set_default_tensor_type(flambeau.DoubleTensor)
    assert flambeau.get_default_dtype() is flambeau.float64
    flambeau.set_default_tensor_type("torch.FloatTensor")
    assert flambeau.get_default_dtype() is flambeau.float32


def test_windows_match_numpy():
    close(flambeau.hann_window(5, periodic=False), np.hanning(5))
    close(flambeau.hamming_window(6, periodic=False), np.hamming(6))
    close(flambeau.blackman_window(5, periodic=False), np.blackman(5), atol=1e-6)
    close(flambeau.bartlett_window(5, periodic=False), np.bartlett(5))
    close(flambeau.kaiser_window(6, periodic=False, beta=5.0), np.kaiser(6, 5.0), atol=1e-6)
    close(flambeau.hann_window(4), np.hanning(5)[:4])  # periodic: one longer, last dropped
    assert flambeau.hann_window(1).tolist() == [1.0]


def test_inplace_namespace_functions_and_nn_aliases():
    x = T([-1.0, 4.0])
    assert flambeau.abs_(x) is x and x.tolist() == [1.0, 4.0]
    flambeau.sqrt_(x)
    assert x.tolist() == [1.0, 2.0]
    w = flambeau.ones(1, 1, 1, 1)
    close(flambeau.conv2d(flambeau.ones(1, 1, 2, 2), w), np.ones((1, 1, 2, 2)))
    close(flambeau.layer_norm(T([[1.0, 3.0]]), (2,)), [[-1.0, 1.0]], atol=1e-4)
    close(flambeau.embedding(flambeau.eye(3), T([2, 0])), [[0, 0, 1], [1, 0, 0]])
    assert flambeau.dropout(flambeau.ones(3), 0.5, False).tolist() == [1.0, 1.0, 1.0]


# =============================================================================
# grids, index sets, searching
# =============================================================================


def test_meshgrid_and_products():
    a, b = T([1.0, 2.0]), T([3.0, 4.0, 5.0])
    for indexing in ("ij", "xy"):
        got = flambeau.meshgrid(a, b, indexing=indexing)
        ref = np.meshgrid([1.0, 2.0], [3.0, 4.0, 5.0], indexing=indexing)
        for g, r in zip(got, ref):
            close(g, r)
    close(flambeau.cartesian_prod(T([1, 2]), T([3]), T([4, 5])),
          [[1, 3, 4], [1, 3, 5], [2, 3, 4], [2, 3, 5]])
    close(flambeau.combinations(T([1, 2, 3, 4]), 3), [[1, 2, 3], [1, 2, 4], [1, 3, 4], [2, 3, 4]])
    close(flambeau.combinations(T([1, 2, 3]), 2, with_replacement=True),
          [[1, 1], [1, 2], [1, 3], [2, 2], [2, 3], [3, 3]])
    for row, col, off in ((3, 3, 0), (3, 4, 1), (4, 3, -1)):
        close(flambeau.tril_indices(row, col, off), np.stack(np.tril_indices(row, off, col)))
        close(flambeau.triu_indices(row, col, off), np.stack(np.triu_indices(row, off, col)))
    A, B = np.arange(4.0).reshape(2, 2), np.arange(6.0).reshape(2, 3)
    close(flambeau.kron(T(A), T(B)), np.kron(A, B))
    close(flambeau.kron(T([1, 2]), T([1, 10, 100])), np.kron([1, 2], [1, 10, 100]))
    close(flambeau.block_diag(T(A), T(5.0), T([6.0, 7.0])),
          [[0, 1, 0, 0, 0], [2, 3, 0, 0, 0], [0, 0, 5, 0, 0], [0, 0, 0, 6, 7]])
    close(flambeau.cross(T([[1.0, 0, 0]]), T([[0.0, 1, 0]])), [[0, 0, 1]])
    close(flambeau.linalg.vecdot(T(A), T(A)), (A * A).sum(-1))
    for dims in (2, 1, ([1, 2], [0, 1])):
        x, y = np.arange(24.0).reshape(2, 3, 4), np.arange(12.0).reshape(3, 4) \
            if dims != 1 else np.arange(8.0).reshape(4, 2)
        if dims == 2:
            y = np.arange(12.0).reshape(3, 4)
        close(flambeau.tensordot(T(x), T(y), dims=dims), np.tensordot(x, y, axes=dims))


def test_searchsorted_bucketize_match_numpy():
    s = np.array([1, 3, 5, 7, 9])
    v = np.array([[3, 6, 9], [0, 5, 10]])
    for side in ("left", "right"):
        got = flambeau.searchsorted(T(s), T(v), right=side == "right")
        close(got, np.searchsorted(s, v, side=side))
        assert got.dtype is flambeau.int64
        close(flambeau.searchsorted(T(s), T(v), side=side), np.searchsorted(s, v, side=side))
    assert flambeau.searchsorted(T(s), 5).item() == 2
    assert flambeau.searchsorted(T(s), T(v), out_int32=True).dtype is flambeau.int32
    rows = T([[1, 3, 5], [2, 4, 6]])
    close(flambeau.searchsorted(rows, T([[3], [5]])), [[1], [2]])
    close(flambeau.bucketize(T(v), T(s)), np.searchsorted(s, v, side="left"))
    close(flambeau.bucketize(T(v), T(s), right=True), np.searchsorted(s, v, side="right"))
    perm = T([2, 0, 1])
    close(flambeau.searchsorted(T([5, 1, 3]), T([2, 4]), sorter=perm), [1, 2])


def test_unravel_index():
    got = flambeau.unravel_index(T([4, 7, 0]), (2, 4))
    for g, r in zip(got, np.unravel_index([4, 7, 0], (2, 4))):
        close(g, r)


# =============================================================================
# differences, integrals, distances, statistics
# =============================================================================


def test_diff_and_trapezoid_match_numpy():
    x = np.array([1.0, 4.0, 9.0, 16.0, 25.0])
    close(flambeau.diff(T(x)), np.diff(x))
    close(flambeau.diff(T(x), n=2), np.diff(x, n=2))
    m = np.array([[1, 3, 6], [4, 9, 2]])
    close(flambeau.diff(T(m), dim=0), np.diff(m, axis=0))
    close(flambeau.diff(T(x), prepend=T([0.0]), append=T([30.0, 40.0])),
          np.diff(x, prepend=[0.0], append=[30.0, 40.0]))
    assert flambeau.diff(T([True, True, False])).tolist() == [False, True]
    xs = np.array([0.0, 0.5, 2.0, 3.0, 4.5])
    trapezoid = getattr(np, "trapezoid", None) or np.trapz  # NumPy 1.x names it trapz
    close(flambeau.trapezoid(T(x)), trapezoid(x))
    close(flambeau.trapezoid(T(x), T(xs)), trapezoid(x, xs))
    close(flambeau.trapezoid(T(x), dx=0.5), trapezoid(x, dx=0.5))
    close(flambeau.trapz(T(m.astype(float)), dim=0), trapezoid(m.astype(float), axis=0))
    running = np.cumsum((x[1:] + x[:-1]) / 2 * np.diff(xs))
    close(flambeau.cumulative_trapezoid(T(x), T(xs)), running)


def test_cdist_matches_numpy_and_gradients():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    d = a[:, None, :] - b[None, :, :]
    refs = {2.0: np.sqrt((d ** 2).sum(-1)), 1.0: np.abs(d).sum(-1),
            math.inf: np.abs(d).max(-1), 3.0: (np.abs(d) ** 3).sum(-1) ** (1 / 3)}
    for p, ref in refs.items():
        close(flambeau.cdist(T(a), T(b), p=p), ref, rtol=1e-5)
    big_a, big_b = rng.normal(size=(30, 3)), rng.normal(size=(27, 3))
    ref = np.sqrt(((big_a[:, None] - big_b[None]) ** 2).sum(-1))
    close(flambeau.cdist(T(big_a), T(big_b)), ref, rtol=1e-4, atol=1e-4)  # matmul path
    close(flambeau.cdist(T(a).expand(2, 5, 3), T(b)), np.broadcast_to(refs[2.0], (2, 5, 4)))
    # gradients, both paths, against finite differences in float64
    for P in (5, 30):
        xa = rng.normal(size=(P, 3))
        xt = T(xa, dtype=flambeau.float64, requires_grad=True)
        flambeau.cdist(xt, T(b, dtype=flambeau.float64)).sum().backward()

        def f(arr):
            return np.sqrt(((arr[:, None] - b[None]) ** 2).sum(-1)).sum()

        close(xt.grad, numerical_grad(f, [xa.copy()], 0), rtol=1e-5, atol=1e-6)
    same = T([[0.0, 0.0], [1.0, 1.0]], requires_grad=True)
    flambeau.cdist(same, same).sum().backward()
    assert bool(same.grad.isfinite().all())


def test_cov_corrcoef_match_numpy():
    m = np.array([[0.0, 1.0, 2.0, 4.0], [2.0, 1.0, 0.5, -1.0], [1.0, 1.5, 1.0, 0.0]])
    close(flambeau.cov(T(m)), np.cov(m))
    close(flambeau.cov(T(m), correction=0), np.cov(m, bias=True))
    fw, aw = np.array([1, 2, 1, 1]), np.array([0.5, 1.0, 1.0, 2.0])
    close(flambeau.cov(T(m), fweights=T(fw), aweights=T(aw)), np.cov(m, fweights=fw, aweights=aw),
          rtol=1e-5)
    close(flambeau.corrcoef(T(m)), np.corrcoef(m), atol=1e-6)
    close(flambeau.cov(T([1.0, 2.0, 4.0])), np.cov([1.0, 2.0, 4.0]))


def test_elementwise_extras():
    x = np.array([-1.5, 0.0, 2.0])
    close(flambeau.heaviside(T(x.tolist()), T([0.5])), np.heaviside(x, 0.5))
    close(flambeau.vander(T([1, 2, 3])), np.vander([1, 2, 3]))
    close(flambeau.vander(T([1.0, 2.0]), N=3, increasing=True), np.vander([1.0, 2.0], 3, True))
    close(flambeau.sinc(T([0.0, 0.5, 1.5])), np.sinc([0.0, 0.5, 1.5]), atol=1e-6)
    close(flambeau.logaddexp2(T([1.0]), T([2.0])), [np.logaddexp2(1.0, 2.0)])
    close(flambeau.gcd(T([4, 6, 0]), T([6, 9, 5])), np.gcd([4, 6, 0], [6, 9, 5]))
    close(flambeau.lcm(T([4, 6]), T([6, 9])), np.lcm([4, 6], [6, 9]))
    close(flambeau.ldexp(T([1.0, 0.5]), T([3, 2])), np.ldexp([1.0, 0.5], [3, 2]))
    m, e = flambeau.frexp(T([8.0, 0.3, -5.0, 0.0]))
    rm, re = np.frexp([8.0, 0.3, -5.0, 0.0])
    close(m, rm)
    assert e.tolist() == re.tolist()
    close(flambeau.i0(T([0.0, 1.0, 2.5])), np.i0([0.0, 1.0, 2.5]), rtol=1e-5)
    close(flambeau.dist(T([1.0, 2.0]), T([4.0, 6.0])), 5.0)
    close(flambeau.renorm(T([[1.0, 2.0], [3.0, 4.0]]), 2, 0, 3),
          [[1.0, 2.0], [3 * 3 / 5, 4 * 3 / 5]], rtol=1e-5)


def test_statistics_extras():
    x = T([[1.0, 2.0, 2.0, 3.0, 3.0], [5.0, 1.0, 5.0, 1.0, 7.0]])
    mode = flambeau.mode(x)  # PyTorch: the smallest most-frequent value, its last index
    assert mode.values.tolist() == [2.0, 1.0] and mode.indices.tolist() == [2, 3]
    mode0 = x.mode(0)
    assert mode0.values.tolist() == [1.0, 1.0, 2.0, 1.0, 3.0]
    assert mode0.indices.tolist() == [0, 1, 0, 1, 0]
    assert flambeau.mode(T([2, 2, 1, 1, 2])).indices.item() == 4
    nan = math.nan
    assert flambeau.nanmedian(T([1.0, nan, 3.0, 2.0])).item() == 2.0
    r = flambeau.nanmedian(T([[1.0, nan, 3.0, 2.0]]), 1)
    assert r.values.tolist() == [2.0] and r.indices.tolist() == [3]
    close(flambeau.nanquantile(T([1.0, nan, 3.0, 5.0]), 0.25), np.nanquantile([1.0, nan, 3.0, 5.0], 0.25))
    close(T([[1.0, 2.0], [3.0, 4.0]]).nanquantile(0.5, dim=1), [1.5, 3.5])
    out = flambeau.unique_consecutive(T([1, 1, 2, 2, 3, 1, 1, 2]), return_inverse=True,
                                      return_counts=True)
    assert [o.tolist() for o in out] == [[1, 2, 3, 1, 2], [0, 0, 1, 1, 2, 3, 3, 4], [2, 2, 1, 2, 1]]
    data = np.array([1.0, 2.0, 1.0, 2.9, 0.2])
    hist, edges = flambeau.histogram(T(data), bins=4, range=(0.0, 3.0))
    rh, re = np.histogram(data, bins=4, range=(0.0, 3.0))
    close(hist, rh)
    close(edges, re)
    hist, _ = flambeau.histogram(T(data), T([0.0, 1.5, 3.0]))
    close(hist, np.histogram(data, [0.0, 1.5, 3.0])[0])
    assert flambeau.isin(T([[1, 2], [3, 4]]), T([2, 3])).tolist() == [[False, True], [True, False]]
    assert flambeau.isin(T([1, 2]), T([2]), invert=True).tolist() == [True, False]


# =============================================================================
# Tensor methods
# =============================================================================


def test_unfold_and_splits():
    x = flambeau.arange(1.0, 8.0)
    close(x.unfold(0, 2, 1), np.lib.stride_tricks.sliding_window_view(np.arange(1.0, 8.0), 2))
    close(x.unfold(0, 3, 2), [[1, 2, 3], [3, 4, 5], [5, 6, 7]])
    m = flambeau.arange(12.0).reshape(3, 4)
    assert m.unfold(1, 2, 2).shape == (3, 2, 2)
    close(m.unfold(0, 2, 1)[1], [[4, 8], [5, 9], [6, 10], [7, 11]])
    g = flambeau.arange(5.0, requires_grad=True)
    g.unfold(0, 2, 1).sum().backward()
    close(g.grad, [1, 2, 2, 2, 1])
    a = np.arange(16.0).reshape(4, 4)
    for got, ref in zip(flambeau.hsplit(T(a), 2), np.hsplit(a, 2)):
        close(got, ref)
    for got, ref in zip(flambeau.vsplit(T(a), [1, 3]), np.vsplit(a, [1, 3])):
        close(got, ref)
    with pytest.raises(RuntimeError, match="divisible"):
        flambeau.hsplit(T(a), 3)


def test_tensor_method_extras():
    t = T([1.0, 2.0])
    assert t.allclose(T([1.0, 2.000001])) and t.equal(t.clone()) and bool(t.isclose(t).all())
    assert T([1, 2]).apply_(lambda v: v * 10).tolist() == [10, 20]
    assert T([3.0]).is_signed() and not T([3], dtype=flambeau.uint8).is_signed()
    z = flambeau.zeros(3, 4)
    z.fill_diagonal_(5)
    close(z, np.eye(3, 4) * 5)
    tall = np.zeros((7, 3))
    np.fill_diagonal(tall, 5, wrap=True)
    close(flambeau.zeros(7, 3).fill_diagonal_(5, wrap=True), tall)
    close(flambeau.diagflat(T([[1, 2], [3, 4]]), 1), np.diagflat([[1, 2], [3, 4]], 1))
    u = flambeau.zeros(2, 1, 3)
    u.squeeze_()
    assert u.shape == (2, 3)
    u.unsqueeze_(0)
    assert u.shape == (1, 2, 3)
    r = flambeau.arange(6.0)
    r.resize_(2, 3)
    close(r, np.arange(6.0).reshape(2, 3))
    r.resize_(7)
    assert r.shape == (7,) and r.tolist()[:6] == list(range(6))
    p = flambeau.zeros(2, 2)
    p.put_(T([0, 3]), T([1.0, 2.0]))
    close(p, [[1, 0], [0, 2]])
    close(flambeau.addr(flambeau.zeros(2, 2), T([1.0, 2.0]), T([3.0, 4.0])), np.outer([1, 2], [3, 4]))
    assert t.new([5, 6]).dtype is flambeau.float32
    assert flambeau.conj(t) is t and flambeau.real(t) is t and not flambeau.is_complex(t)
    assert not t.is_pinned() and t.pin_memory() is t and not t.is_sparse
    assert T([1, 2]).bernoulli(0.0).tolist() == [0, 0]
    with pytest.warns(UserWarning, match="deprecated"):
        assert flambeau.range(1, 4, 1).tolist() == [1.0, 2.0, 3.0, 4.0]


# =============================================================================
# special functions, as_strided, unique(dim), autograd odds
# =============================================================================

# scipy.special.gammaln / digamma at these points (float64)
_X = [0.1, 0.5, 1.0, 2.5, 7.0, 30.0, -0.5, -1.5]
_GAMMALN = [2.252712651734206, 0.5723649429247001, 0.0, 0.2846828704729192, 6.579251212010101,
            71.25703896716801, 1.2655121234846454, 0.8600470153764810]
_DIGAMMA = [-10.423754940411076, -1.9635100260214235, -0.5772156649015329, 0.7031566406452432,
            1.872784335098467, 3.384438132685525, 0.03648997397857651, 0.7031566406452434]


def test_lgamma_digamma_special():
    x = T(_X, dtype=flambeau.float64)
    close(flambeau.lgamma(x), _GAMMALN, rtol=1e-12)
    close(x.digamma(), _DIGAMMA, rtol=1e-10)
    assert flambeau.lgamma(T([0.0, -2.0])).tolist() == [math.inf, math.inf]
    d = flambeau.digamma(T([0.0, -2.0])).tolist()
    assert d[0] == -math.inf and math.isnan(d[1])
    g = T([1.5, 3.0], dtype=flambeau.float64, requires_grad=True)
    flambeau.lgamma(g).sum().backward()
    close(g.grad, flambeau.digamma(g.detach()), rtol=1e-8)
    sp = flambeau.special
    close(sp.gammaln(x), _GAMMALN, rtol=1e-12)
    close(sp.expit(T([0.0])), [0.5])
    close(sp.ndtr(T([0.0, 1.0])), [0.5, 0.8413447460685429])
    close(sp.ndtri(T([0.5, 0.8413447460685429])), [0.0, 1.0], atol=1e-5)
    close(sp.log_ndtr(T([-3.0, 3.0])), [math.log(0.0013498980316301), math.log(0.9986501019683699)],
          rtol=1e-5)
    close(sp.entr(T([0.0, 0.5, -1.0])), [0.0, 0.5 * math.log(2), -math.inf])
    close(sp.xlog1py(T([0.0, 2.0]), T([1.0, 3.0])), [0.0, 2 * math.log(4.0)])


def test_as_strided_and_unique_dim():
    x = flambeau.arange(9.0)
    close(flambeau.as_strided(x, (2, 2), (3, 1)), [[0, 1], [3, 4]])
    close(x.as_strided((3, 3), (1, 1)), [[0, 1, 2], [1, 2, 3], [2, 3, 4]])
    close(x.as_strided((2,), (2,), 3), [3, 5])
    with pytest.raises(RuntimeError, match="out of bounds"):
        x.as_strided((4,), (3,))
    rows = T([[1, 2], [3, 4], [1, 2], [0, 5]])
    vals, inv, counts = flambeau.unique(rows, dim=0, return_inverse=True, return_counts=True)
    assert vals.tolist() == [[0, 5], [1, 2], [3, 4]]
    assert inv.tolist() == [1, 2, 1, 0] and counts.tolist() == [1, 2, 1]
    assert flambeau.unique(rows, dim=1).tolist() == [[1, 2], [3, 4], [1, 2], [0, 5]]


def test_function_setup_context_form_and_accumulate_grad_variable():
    class MyMul(flambeau.autograd.Function):
        @staticmethod
        def forward(x, k):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, k = inputs
            ctx.k = k
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None

    x = T([1.0, 2.0], requires_grad=True)
    y = MyMul.apply(x, 3.0)
    y.sum().backward()
    close(y, [3.0, 6.0])
    close(x.grad, [3.0, 3.0])
    with flambeau.no_grad():
        close(MyMul.apply(x, 2.0), [2.0, 4.0])
    acc = (x * 2).grad_fn.next_functions[0][0]
    assert type(acc).__name__ == "AccumulateGrad" and acc.variable is x


def test_cuda_errors_are_assertion_and_runtime_errors():
    if flambeau.cuda.is_available():
        pytest.skip("a CUDA backend is available")
    with pytest.raises(AssertionError):
        flambeau.ones(1).cuda()
    with pytest.raises(RuntimeError):
        flambeau.ones(1).to("cuda")


def test_random_fill_errors():
    with pytest.raises(RuntimeError, match="std >= 0.0"):
        flambeau.empty(3).normal_(0, -1)
    with pytest.raises(RuntimeError, match="non-negative"):
        flambeau.randperm(-1)
    flambeau.manual_seed(0)
    k = flambeau.empty(1000).geometric_(0.3)
    assert float(k.min()) >= 1 and abs(float(k.mean()) - 1 / 0.3) < 0.3
