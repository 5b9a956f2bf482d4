"""The shortcuts taken for speed change nothing observable: graphs free without the garbage
collector, no-op conversions return ``self``, simple indexing keys behave as the general path,
backward runs nodes in the same order, and the NumPy backend's fast composites give the default
composites' results bit for bit."""
from __future__ import annotations

import gc
import itertools
import weakref

import numpy as np
import pytest
from helpers import to_numpy

import flambeau
import flambeau.nn.functional as F
from flambeau.backend import ArrayModuleBackend, Backend


@pytest.mark.parametrize("op", [
    lambda x: x.exp(), lambda x: x.tanh(), lambda x: x.sigmoid(), lambda x: x.sqrt(),
    lambda x: F.relu(x), lambda x: x * x, lambda x: F.softmax(x, 0),
    lambda x: x.clone().mul_(2),
], ids=["exp", "tanh", "sigmoid", "sqrt", "relu", "mul", "softmax", "inplace"])
def test_dropped_graph_is_freed_without_the_collector(op):
    # a node that saves its own output must not hold the output tensor: tensor -> grad_fn ->
    # tensor would be a cycle that keeps the graph's memory until the garbage collector runs
    x = flambeau.rand(5, requires_grad=True)
    gc.collect()
    gc.disable()
    try:
        y = op(x)
        node = weakref.ref(y.grad_fn)
        out = weakref.ref(y)
        del y
        assert node() is None and out() is None
    finally:
        gc.enable()


def test_noop_conversions_return_self(device):
    x = flambeau.ones(3)
    assert x.to(x.dtype) is x
    assert x.float() is x
    assert x.to(device) is x
    assert x.to(x.device) is x
    assert x.to(x.dtype, copy=True) is not x
    y = x.to(flambeau.float64)
    assert y.dtype is flambeau.float64 and y is not x


@pytest.mark.parametrize("key", [0, -1, 2, slice(1, 3), slice(None, None, 2), (1, 2),
                                 (slice(None), 0), (-3, slice(0, 10)), slice(-100, 100)])
def test_simple_keys_index_as_numpy(key):
    a = np.arange(12.0).reshape(3, 4)
    x = flambeau.tensor(a, requires_grad=True)
    y = x[key]
    np.testing.assert_array_equal(to_numpy(y.detach()), a[key])
    y.sum().backward()
    expected = np.zeros_like(a)
    expected[key] = 1
    np.testing.assert_array_equal(to_numpy(x.grad), expected)


@pytest.mark.parametrize("key,msg", [
    (3, "index 3 is out of bounds for dimension 0 with size 3"),
    (-4, "index -4 is out of bounds for dimension 0 with size 3"),
    ((0, 4), "index 4 is out of bounds for dimension 1 with size 4"),
    ((0, 0, 0), "too many indices for tensor of dimension 2"),
])
def test_simple_keys_raise_as_the_general_path(key, msg):
    x = flambeau.zeros(3, 4)
    with pytest.raises(IndexError, match=msg):
        x[key]


def test_backward_runs_the_newest_ready_node_first():
    # two branches from one input: PyTorch runs the node created last first, and hooks see it
    x = flambeau.ones(2, requires_grad=True)
    order = []
    a = x * 2
    b = x * 3
    a.register_hook(lambda g: order.append("a"))
    b.register_hook(lambda g: order.append("b"))
    (a.sum() + b.sum()).backward()
    assert order == ["b", "a"]
    np.testing.assert_array_equal(to_numpy(x.grad), [5.0, 5.0])


def _numpy_backend():
    be = flambeau.backends.get_backend("cpu")
    if be.name != "numpy":
        pytest.skip("the NumPy backend's fast paths")
    return be


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_sgd_step_is_the_default_bit_for_bit(dtype):
    be = _numpy_backend()
    rng = np.random.default_rng(0)
    for lr, mom, damp, nest, wd, maxi in itertools.product(
            (0.1, 1e-3), (0, 0.9), (0, 0.3), (False, True), (0, 0.01), (False, True)):
        if nest and (mom == 0 or damp != 0):
            continue
        p1 = rng.standard_normal((5, 7)).astype(dtype)
        p2 = p1.copy()
        b1 = np.zeros_like(p1) if mom else None
        b2 = None if b1 is None else b1.copy()
        for step in range(3):
            g = rng.standard_normal((5, 7)).astype(dtype)
            be.sgd_step(p1, g, b1, lr, mom, damp, nest, wd, maxi, step == 0)
            Backend.sgd_step(be, p2, g, b2, lr, mom, damp, nest, wd, maxi, step == 0)
            assert p1.tobytes() == p2.tobytes()
            assert b1 is None or b1.tobytes() == b2.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_adam_step_is_the_default_bit_for_bit(dtype):
    be = _numpy_backend()
    rng = np.random.default_rng(1)
    for lr, beta1, wd, decoupled, amsgrad, maxi in itertools.product(
            (1e-3, 0.1), (0.9, 0.3), (0, 0.05), (False, True), (False, True), (False, True)):
        p1 = rng.standard_normal((5, 7)).astype(dtype)
        p2 = p1.copy()
        s1 = [np.zeros_like(p1) for _ in range(3)]
        s2 = [s.copy() for s in s1]
        if not amsgrad:
            s1[2] = s2[2] = None
        for step in range(1, 4):
            g = rng.standard_normal((7, 5)).astype(dtype).T  # a non-contiguous gradient too
            args = (float(step), lr, beta1, 0.999, 1e-8, wd, decoupled, amsgrad, maxi)
            be.adam_step(p1, g, *s1, *args)
            Backend.adam_step(be, p2, g, *s2, *args)
            assert p1.tobytes() == p2.tobytes()
            for a, b in zip(s1, s2):
                assert a is None or a.tobytes() == b.tobytes()


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_numpy_softmax_is_the_default_bit_for_bit(name, dtype):
    be = _numpy_backend()
    rng = np.random.default_rng(2)
    for shape, axis in [((64, 10), 1), ((7,), 0), ((3, 4, 5), 0), ((3, 4, 5), 2)]:
        x = (rng.standard_normal(shape) * 30).astype(dtype)
        x.flat[0] = np.inf
        for arr in (x, x.T):
            ax = axis if arr is x else arr.ndim - 1 - axis
            fast = getattr(be, name)(arr, ax)
            default = getattr(ArrayModuleBackend, name)(be, arr, ax)
            assert fast.dtype == default.dtype and fast.shape == default.shape
            assert fast.tobytes() == default.tobytes()
