"""Autograd: backward and autograd.grad, higher-order gradients, grad modes, hooks, custom
Functions, gradcheck, anomaly detection, version counters and the engine's memory behaviour."""
from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest
from helpers import assert_close, numerical_grad, to_numpy

import flambeau
from flambeau.autograd import Function, gradcheck, gradgradcheck

F64 = flambeau.float64


def t64(values, requires_grad=True):
    return flambeau.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def leaf():
    return flambeau.tensor([1.0, 2.0, 3.0], requires_grad=True)


# =============================================================================
# backward and autograd.grad
# =============================================================================

def test_backward_with_gradient_and_accumulation():
    x = leaf()
    (x * 2).backward(flambeau.tensor([1.0, 0.5, 2.0]))
    assert to_numpy(x.grad).tolist() == [2.0, 1.0, 4.0]
    (x * 3).sum().backward()  # .grad accumulates across calls
    assert to_numpy(x.grad).tolist() == [5.0, 4.0, 7.0]
    x.grad.zero_()
    (x ** 2).sum().backward()
    assert to_numpy(x.grad).tolist() == [2.0, 4.0, 6.0]
    x.grad = None
    x.sum().backward(flambeau.tensor(2.0))
    assert to_numpy(x.grad).tolist() == [2.0, 2.0, 2.0]


def test_backward_errors():
    x = leaf()
    with pytest.raises(RuntimeError, match="scalar"):
        (x * 2).backward()
    with pytest.raises(RuntimeError):
        (x * 2).backward(flambeau.ones(2))
    with pytest.raises(RuntimeError):
        flambeau.ones(2).sum().backward()  # nothing requires grad
    y = (x.exp() ** 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    z = (x.exp() ** 2).sum()
    z.backward(retain_graph=True)
    z.backward()  # the first backward's gradient is there too: 3 times d/dx e^(2x)
    assert_close(x.grad, 3 * 2 * np.exp(2 * np.array([1.0, 2.0, 3.0])), rtol=1e-6)


def test_autograd_grad_options():
    x, y = leaf(), leaf()
    z = x * 2
    gx, gy = flambeau.autograd.grad(z.sum(), (x, y), allow_unused=True)
    assert to_numpy(gx).tolist() == [2.0, 2.0, 2.0] and gy is None and x.grad is None
    with pytest.raises(RuntimeError, match="not have been used"):
        flambeau.autograd.grad((x * 2).sum(), (x, y))
    gx, gy = flambeau.autograd.grad((x * 2).sum(), [x, y], materialize_grads=True)
    assert to_numpy(gy).tolist() == [0.0, 0.0, 0.0]
    (g,) = flambeau.autograd.grad(x * 2, x, grad_outputs=flambeau.ones(3) * 3)
    assert to_numpy(g).tolist() == [6.0, 6.0, 6.0]
    (g,) = flambeau.autograd.grad([(x * 2).sum(), (x ** 2).sum()], [x])
    assert to_numpy(g).tolist() == [4.0, 6.0, 8.0]
    a, b = leaf(), leaf()
    (a * b).sum().backward(inputs=[a])
    assert a.grad is not None and b.grad is None
    flambeau.autograd.backward([(a * 2).sum(), (-a).sum()])
    assert to_numpy(a.grad).tolist() == [2.0, 3.0, 4.0]


# =============================================================================
# higher-order gradients
# =============================================================================

def test_third_derivative_of_cube():
    x = leaf()
    (g,) = flambeau.autograd.grad((x ** 3).sum(), x, create_graph=True)
    (g2,) = flambeau.autograd.grad(g.sum(), x, create_graph=True)
    (g3,) = flambeau.autograd.grad(g2.sum(), x)
    assert to_numpy(g).tolist() == [3.0, 12.0, 27.0]
    assert to_numpy(g2).tolist() == [6.0, 12.0, 18.0]
    assert to_numpy(g3).tolist() == [6.0, 6.0, 6.0]
    y = leaf()
    (y ** 2).sum().backward(create_graph=True)
    assert y.grad.requires_grad
    g = y.grad
    y.grad = None
    g.sum().backward()
    assert to_numpy(y.grad).tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("name,first,second", [
    ("tanh", lambda x: 1 - np.tanh(x) ** 2, lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
    ("sigmoid", lambda x: _sig(x) * (1 - _sig(x)),
     lambda x: _sig(x) * (1 - _sig(x)) * (1 - 2 * _sig(x))),
    ("exp", np.exp, np.exp), ("sin", np.cos, lambda x: -np.sin(x)),
    ("log", lambda x: 1 / x, lambda x: -1 / x ** 2), ("sqrt", lambda x: 0.5 / np.sqrt(x),
                                                     lambda x: -0.25 * x ** -1.5),
])
def test_second_derivatives_of_unary_ops(name, first, second):
    v = np.array([0.3, 1.0, 2.0])
    x = t64(v)
    (g,) = flambeau.autograd.grad(getattr(flambeau, name)(x).sum(), x, create_graph=True)
    (g2,) = flambeau.autograd.grad(g.sum(), x)
    assert_close(g, first(v), rtol=1e-10, msg=name)
    assert_close(g2, second(v), rtol=1e-10, msg=name)


def _sig(x):
    return 1 / (1 + np.exp(-x))


# every differentiable family, checked to second order by finite differences of the gradient
GRADGRAD = [
    ("mul", lambda a, b: a * b), ("div", lambda a, b: a / b), ("pow", lambda a, b: a ** b),
    ("matmul", lambda a, b: a.reshape(3, 1) @ b.reshape(1, 3)), ("dot", flambeau.dot),
    ("maximum", flambeau.maximum), ("atan2", flambeau.atan2), ("where", lambda a, b: flambeau.where(a > 1.5, a * b, b)),
    ("exp_log", lambda a, b: (a * b).exp() + b.log()), ("tanh_sigmoid", lambda a, b: a.tanh() * b.sigmoid()),
    ("erf", lambda a, b: (a - b).erf()), ("sqrt_rsqrt", lambda a, b: a.sqrt() + b.rsqrt()),
    ("sum_mean", lambda a, b: (a * b).sum() + (a * a).mean()), ("norm", lambda a, b: (a * b).norm()),
    ("logsumexp", lambda a, b: (a * b).logsumexp(0)), ("prod", lambda a, b: (a * b).prod()),
    ("cumsum_cumprod", lambda a, b: (a * b).cumsum(0) * b.cumprod(0)),
    ("var_std", lambda a, b: (a * b).var() + b.std()), ("amax", lambda a, b: (a * b).amax()),
    ("max_dim", lambda a, b: (a * b).reshape(1, 3).max(1).values), ("sort", lambda a, b: (a * b).sort().values * a),
    ("index", lambda a, b: a[[0, 0, 2]] * b), ("gather", lambda a, b: a.gather(0, flambeau.tensor([2, 0, 0])) * b),
    ("setitem", lambda a, b: _set(a, b)), ("cat_stack", lambda a, b: flambeau.cat([a, b]) * flambeau.stack([b, a]).reshape(-1)),
    ("expand_permute", lambda a, b: a.expand(2, 3).t() * b.reshape(3, 1)),
    ("clamp", lambda a, b: (a * b).clamp(0.5, 3.0)), ("abs_sign", lambda a, b: (a - b).abs() * b),
    ("einsum", lambda a, b: flambeau.einsum("i,j->ij", a, b)), ("masked_fill", lambda a, b: (a * b).masked_fill(a > 2, 0.0)),
    ("reciprocal_square", lambda a, b: a.reciprocal() * b.square()), ("sin_cos", lambda a, b: a.sin() * b.cos()),
]


def _set(a, b):
    y = a * 1
    y[1:] = b[:2] * a[:2]
    return y


@pytest.mark.parametrize("name,fn", GRADGRAD, ids=[g[0] for g in GRADGRAD])
def test_gradgradcheck(name, fn):
    a, b = t64([1.1, 2.3, 3.7]), t64([0.7, 1.3, 0.4])
    assert gradcheck(fn, (a, b)), name
    assert gradgradcheck(fn, (a, b)), name


def test_gradcheck_detects_a_wrong_gradient():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = t64([1.0, 2.0])
    assert gradcheck(Wrong.apply, (x,), raise_exception=False) is False
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        gradcheck(Wrong.apply, (x,))


# =============================================================================
# grad modes
# =============================================================================

def test_grad_modes_as_context_managers_and_decorators():
    x = leaf()
    with flambeau.no_grad():
        assert not (x * 2).requires_grad and not flambeau.is_grad_enabled()
        with flambeau.enable_grad():
            assert (x * 2).requires_grad
    with flambeau.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    flambeau.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    flambeau.set_grad_enabled(True)
    with flambeau.inference_mode():
        assert not (x * 2).requires_grad and flambeau.is_inference_mode_enabled()
    with flambeau.inference_mode(False):
        assert (x * 2).requires_grad

    @flambeau.no_grad()
    def f(a):
        return a * 2

    @flambeau.no_grad
    def g(a):
        return a * 2

    @flambeau.enable_grad()
    def h(a):
        return a * 2

    @flambeau.inference_mode()
    def k(a):
        return a * 2

    @flambeau.set_grad_enabled(False)
    def m(a):
        return a * 2

    assert not f(x).requires_grad and not g(x).requires_grad and not k(x).requires_grad
    assert not m(x).requires_grad and flambeau.is_grad_enabled()
    with flambeau.no_grad():
        assert h(x).requires_grad
    assert f.__name__ == "f"


def test_grad_mode_is_thread_local():
    x = leaf()
    seen = {}

    def worker():
        seen["enabled"] = flambeau.is_grad_enabled()
        seen["records"] = (x * 2).requires_grad

    with flambeau.no_grad():
        th = threading.Thread(target=worker)
        th.start()
        th.join()
    assert seen == {"enabled": True, "records": True}


def test_in_place_under_no_grad_keeps_the_leaf():
    x = flambeau.ones(2, requires_grad=True)
    with flambeau.no_grad():
        x.mul_(3)
        x[0] = 5.0
    assert x.is_leaf and x.requires_grad and to_numpy(x).tolist() == [5.0, 3.0]


# =============================================================================
# leaves, detach, hooks
# =============================================================================

def test_leaves_detach_and_requires_grad():
    x = leaf()
    y = x * 2
    assert x.is_leaf and not y.is_leaf and y.grad_fn is not None and x.grad_fn is None
    d = x.detach()
    assert not d.requires_grad and d.is_leaf
    d[0] = 10.0  # detach shares memory
    assert x[0].item() == 10.0
    y.detach_()
    assert not y.requires_grad and y.grad_fn is None
    z = flambeau.tensor([1.0, 2.0])
    assert z.requires_grad_() is z and z.requires_grad and (z * 2).requires_grad
    with pytest.raises(RuntimeError):
        (x * 2).requires_grad_(False)
    with pytest.raises(RuntimeError, match="floating point"):
        flambeau.tensor([1, 2]).requires_grad_()
    assert not x.data.requires_grad and x.data.is_leaf
    a = leaf()
    b = a.exp()
    c = b * 2
    b.data.mul_(0)  # .data is outside version tracking: no error, exp's saved output is 0
    c.sum().backward()
    assert to_numpy(a.grad).tolist() == [0.0, 0.0, 0.0]


def test_tensor_hooks_and_retain_grad():
    x = leaf()
    seen = []
    handle = x.register_hook(lambda g: seen.append(to_numpy(g).tolist()) or g * 2)
    (x * 3).sum().backward()
    assert to_numpy(x.grad).tolist() == [6.0, 6.0, 6.0] and seen == [[3.0, 3.0, 3.0]]
    handle.remove()
    (x * 3).sum().backward()
    assert to_numpy(x.grad).tolist() == [9.0, 9.0, 9.0] and len(seen) == 1
    x = leaf()
    y = x * 2
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    assert to_numpy(x.grad).tolist() == [20.0, 20.0, 20.0]
    x = leaf()
    y = x * 2
    y.retain_grad()
    (y ** 2).sum().backward()
    assert y.retains_grad and to_numpy(y.grad).tolist() == [4.0, 8.0, 12.0]
    w = x * 2
    (w ** 2).sum().backward()
    assert w.grad is None  # a non-leaf keeps no .grad unless asked
    with pytest.raises(RuntimeError):
        flambeau.ones(2).register_hook(lambda g: g)
    calls = []
    z = x * 2
    z.grad_fn.register_hook(lambda grad_inputs, grad_outputs: calls.append(len(grad_inputs)))
    z.sum().backward()
    assert calls == [2]


# =============================================================================
# custom Functions
# =============================================================================

def test_function_save_for_backward_and_extra_args():
    class Scale(Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return x * x * k

        @staticmethod
        def backward(ctx, g):  # d k x^2 = 2 k x
            (x,) = ctx.saved_tensors
            return 2 * x * g * ctx.k, None

    x = t64([1.0, 2.0])
    y = Scale.apply(x, 3.0)
    assert y.requires_grad and y.grad_fn.name() == "ScaleBackward"  # no "0", as PyTorch
    y.sum().backward()
    assert to_numpy(x.grad).tolist() == [6.0, 12.0]
    assert gradcheck(lambda v: Scale.apply(v, 3.0), (t64([1.0, 2.0]),))
    assert gradgradcheck(lambda v: Scale.apply(v, 3.0), (t64([1.0, 2.0]),))


def test_function_needs_input_grad_and_non_differentiable_outputs():
    log = []

    class Mul(Function):
        @staticmethod
        def forward(ctx, a, b):
            log.append(ctx.needs_input_grad)
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            log.append(ctx.needs_input_grad)
            a, b = ctx.saved_tensors
            return (g * b if ctx.needs_input_grad[0] else None,
                    g * a if ctx.needs_input_grad[1] else None)

    a = leaf()
    Mul.apply(a, flambeau.ones(3)).sum().backward()
    assert log == [(True, False), (True, False)]

    class MaxWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            i = x.argmax()
            ctx.mark_non_differentiable(i)
            ctx.save_for_backward(x, i)
            return x.max(), i

        @staticmethod
        def backward(ctx, gv, gi):
            x, i = ctx.saved_tensors
            g = flambeau.zeros_like(x)
            g[i] = gv
            return g

    x = leaf()
    v, i = MaxWithIndex.apply(x)
    assert v.requires_grad and not i.requires_grad and i.item() == 2
    v.backward()
    assert to_numpy(x.grad).tolist() == [0.0, 0.0, 1.0]

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):  # an unused output's gradient arrives as zeros
            return g1 * 2 + g2 * 3

    x = leaf()
    first, _ = Two.apply(x)
    first.sum().backward()
    assert to_numpy(x.grad).tolist() == [2.0, 2.0, 2.0]

    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 5

    x = leaf()
    y = Identity.apply(x)
    assert y is not x and x.is_leaf
    y.sum().backward()
    assert to_numpy(x.grad).tolist() == [5.0, 5.0, 5.0]


# =============================================================================
# anomaly detection and version counters
# =============================================================================

@pytest.mark.parametrize("make,node", [
    (lambda x: x.sqrt() * 0, "SqrtBackward0"),  # 0 / (2 sqrt(0)) is NaN
    (lambda x: x.log() * 0, "LogBackward0"),
])
def test_detect_anomaly_names_the_op(make, node):
    x = flambeau.tensor([0.0, 1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=node):
        with flambeau.autograd.detect_anomaly():
            make(x).sum().backward()
    x.grad = None
    make(x).sum().backward()  # without anomaly mode the NaN passes silently
    assert np.isnan(to_numpy(x.grad)).any()


@pytest.mark.parametrize("op,saver", [
    (lambda y: y * y, "MulBackward0"),
    (lambda y: y.sin(), "SinBackward0"),
    (lambda y: y @ y, "DotBackward0"),
])
def test_in_place_change_of_a_saved_tensor_raises(op, saver):
    x = leaf()
    y = x * 1
    z = op(y)
    y.add_(1)
    with pytest.raises(RuntimeError, match=f"modified by an inplace operation.*{saver}"):
        z.sum().backward()
    x = leaf()
    y = x * 1
    z = y * 2  # y is not saved (the other factor is a number): modifying y is fine
    w = y.exp()  # exp saves its output, not y
    y[0] = 0.0
    (z + w).sum().backward()
    assert_close(x.grad, 2 + np.exp([1.0, 2.0, 3.0]), rtol=1e-6)


def test_in_place_on_leaf_requiring_grad_raises():
    for write in (lambda x: x.add_(1), lambda x: x.__setitem__(0, 1.0), lambda x: x[0:1].mul_(2),
                  lambda x: x.__iadd__(1), lambda x: x.zero_(), lambda x: x.copy_(flambeau.ones(3))):
        with pytest.raises(RuntimeError, match="leaf"):
            write(leaf())


# =============================================================================
# engine: deep graphs, memory
# =============================================================================

def test_backward_through_a_100k_op_chain():
    x = flambeau.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert to_numpy(x.grad).tolist() == [1.0, 1.0]


def test_saved_tensors_are_released_after_backward():
    x = flambeau.tensor([1.0, 2.0], requires_grad=True)
    big = x.exp()
    ref = weakref.ref(big)
    y = big.sin()  # saves big
    del big
    gc.collect()
    assert ref() is not None
    y.sum().backward()
    gc.collect()
    assert ref() is None
    big = x.exp()
    ref = weakref.ref(big)
    y = big * big
    del big
    y.sum().backward(retain_graph=True)
    gc.collect()
    assert ref() is not None
    y.sum().backward()
    del y
    gc.collect()
    assert ref() is None


def test_graph_without_references_is_collected():
    x = flambeau.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp().sin()
    node = weakref.ref(y.grad_fn)
    del y
    gc.collect()
    assert node() is None  # no reference cycle keeps a dropped graph alive


def test_functional_jacobian_and_hessian():
    x = t64([1.0, 2.0])
    j = flambeau.autograd.functional.jacobian(lambda a: a ** 2, x)
    assert_close(j, np.diag([2.0, 4.0]))
    h = flambeau.autograd.functional.hessian(lambda a: (a ** 3).sum(), x)
    assert_close(h, np.diag([6.0, 12.0]))
    v = np.array([0.3, -1.2])
    expected = numerical_grad(lambda a: float(np.sum(np.sin(a) * a)), [v.copy()], 0)
    tv = t64(v)
    (g,) = flambeau.autograd.grad((tv.sin() * tv).sum(), tv)
    assert_close(g, expected, rtol=1e-6)


# grad_fn names as PyTorch shows them (in repr(tensor) and grad_fn.name())
GRAD_FN_NAMES = [
    (lambda x: x + 1, "AddBackward0"), (lambda x: 1 - x, "RsubBackward1"),
    (lambda x: x * x, "MulBackward0"), (lambda x: x / 2, "DivBackward0"),
    (lambda x: x ** 2, "PowBackward0"), (lambda x: x ** x, "PowBackward1"),
    (lambda x: 2 ** x, "PowBackward2"), (lambda x: -x, "NegBackward0"),
    (lambda x: x.exp(), "ExpBackward0"), (lambda x: x.sum(), "SumBackward0"),
    (lambda x: x.sum(0), "SumBackward1"), (lambda x: x.mean(), "MeanBackward0"),
    (lambda x: x.mean(1), "MeanBackward1"), (lambda x: x.max(), "MaxBackward1"),
    (lambda x: x.max(0).values, "MaxBackward0"), (lambda x: x.var(), "VarBackward0"),
    (lambda x: x.std(0), "StdBackward0"), (lambda x: x.norm(), "LinalgVectorNormBackward0"),
    (lambda x: x @ x.t(), "MmBackward0"), (lambda x: x[0] @ x[1], "DotBackward0"),
    (lambda x: x @ x[0], "MvBackward0"), (lambda x: x.view(-1), "ViewBackward0"),
    (lambda x: x.t().reshape(-1), "UnsafeViewBackward0"), (lambda x: x.unsqueeze(0), "UnsqueezeBackward0"),
    (lambda x: x[None].squeeze(0), "SqueezeBackward1"), (lambda x: x.t(), "TBackward0"),
    (lambda x: x.transpose(0, 1), "TransposeBackward0"), (lambda x: x.permute(1, 0), "PermuteBackward0"),
    (lambda x: x[0], "SelectBackward0"), (lambda x: x[1:], "SliceBackward0"),
    (lambda x: x[[0, 1]], "IndexBackward0"), (lambda x: x.expand(2, 2, 2), "ExpandBackward0"),
    (lambda x: flambeau.cat([x, x]), "CatBackward0"), (lambda x: flambeau.stack([x, x]), "StackBackward0"),
    (lambda x: x.split(1)[0], "SplitBackward0"), (lambda x: x.unbind()[0], "UnbindBackward0"),
    (lambda x: x.double(), "ToCopyBackward0"), (lambda x: x.clone(), "CloneBackward0"),
    (lambda x: flambeau.where(x > 0, x, 0.0), "WhereBackward0"), (lambda x: x.clamp(0, 1), "ClampBackward1"),
    (lambda x: x.gather(1, flambeau.tensor([[0], [1]])), "GatherBackward0"),
    (lambda x: x.repeat(2, 1), "RepeatBackward0"), (lambda x: x.sigmoid(), "SigmoidBackward0"),
    (lambda x: _set_basic(x), "CopySlices"), (lambda x: x.sort(0).values, "SortBackward0"),
]


def _set_basic(x):
    y = x * 1
    y[0] = 0.0
    return y


@pytest.mark.parametrize("fn,name", GRAD_FN_NAMES, ids=[n for _, n in GRAD_FN_NAMES])
def test_grad_fn_names_match_pytorch(fn, name):
    x = flambeau.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    out = fn(x)
    assert out.grad_fn.name() == name
    assert f"grad_fn=<{name}>" in repr(out)


def test_next_functions():
    x = leaf()
    y = x * 2
    (acc, nr), (none, zero) = y.grad_fn.next_functions
    assert acc.name() == "AccumulateGrad" and nr == 0 and none is None and zero == 0
    assert (y.sum().grad_fn.next_functions[0][0]) is y.grad_fn
