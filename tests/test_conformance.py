"""The shipped conformance suite (``flambeau.testing``) on the device under test, and proof that
the suite catches broken backends.

``from flambeau.testing.conformance import *`` brings in every conformance test and the fixtures
they use; they test the device given to pytest with ``--device``. The tests below register
sabotaged backends at runtime and check that the relevant conformance test fails on them (and
passes on the same backend unsabotaged), that a backend with fewer dtypes passes through
``python -m flambeau.testing --backend``, and that every composite of ``Backend`` has a check.
"""
from __future__ import annotations

import itertools
import os
import subprocess
import sys

import numpy as np
import pytest

import flambeau
from flambeau import _dtype as dt
from flambeau.backend import ArrayModuleBackend, Backend
from flambeau.testing.conformance import *  # noqa: F401,F403
from flambeau.testing.conformance import (
    composites,
    conv_composites,
    primitives,
    random_ops,
    shape_ops,
    tensor_level,
)

HERE = os.path.dirname(os.path.abspath(__file__))


class HealthyBackend(ArrayModuleBackend):
    """NumPy underneath, nothing changed: the control for the sabotaged variants."""

    name = "conformance-healthy"
    device_type = "healthydev"

    def __init__(self, device):
        super().__init__(device, np)


class NoHalfNoDoubleBackend(HealthyBackend):
    """A backend without float16 and float64 (like some accelerators): the suite must skip what
    it cannot hold and still pass, and creating those dtypes must raise TypeError."""

    name = "conformance-no-f16-f64"
    device_type = "nohalfdev"
    supported_dtypes = frozenset(dt.all_dtypes) - {dt.float16, dt.float64}


class ExpBrokenBackend(HealthyBackend):
    """exp off by one part in a thousand: the whole suite must fail, through the CLI too."""

    name = "conformance-exp-broken"
    device_type = "expbrokendev"

    def unary(self, op, x):
        out = super().unary(op, x)
        return out * out.dtype.type(1.001) if op == "exp" else out


# ---------------------------------------------------------------- sabotage, one primitive each

def _unary_exp_off(self, op, x):
    out = HealthyBackend.unary(self, op, x)
    return out * out.dtype.type(1.001) if op == "exp" else out


def _tanh_off(self, op, x):
    out = HealthyBackend.unary(self, op, x)
    return out * out.dtype.type(1.01) if op == "tanh" else out


def _floordiv_truncates(self, op, a, b):
    if op == "floordiv":
        return np.trunc(np.true_divide(a, b)).astype(a.dtype)
    return HealthyBackend.binary(self, op, a, b)


def _remainder_c_rule(self, op, a, b):
    return HealthyBackend.binary(self, "fmod" if op == "remainder" else op, a, b)


def _maximum_ignores_nan(self, op, a, b):
    return HealthyBackend.binary(self, {"maximum": "fmax"}.get(op, op), a, b)


def _inplace_returns_copy(self, op, a, b):
    out = HealthyBackend.binary(self, op, a, b).astype(a.dtype)
    a[...] = out
    return out


def _argmax_last_tie(self, op, x, axis, keepdims):
    if op != "argmax" or axis is None:
        return HealthyBackend.arg_reduce(self, op, x, axis, keepdims)
    n = x.shape[axis]
    out = (n - 1) - np.argmax(np.flip(x, axis), axis=axis)
    return np.expand_dims(out, axis) if keepdims else out


def _argmax_skips_nan(self, op, x, axis, keepdims):
    if op != "argmax" or x.dtype.kind != "f" or axis is None:
        return HealthyBackend.arg_reduce(self, op, x, axis, keepdims)
    out = np.argmax(np.where(np.isnan(x), -np.inf, x), axis=axis)
    return np.expand_dims(out, axis) if keepdims else out


def _sum_keeps_int_dtype(self, op, x, axes, keepdims):
    if op == "sum" and x.dtype.kind in "iu":
        return np.sum(x, axis=axes, keepdims=keepdims, dtype=x.dtype)
    return HealthyBackend.reduce(self, op, x, axes, keepdims)


def _max_drops_keepdims(self, op, x, axes, keepdims):
    return HealthyBackend.reduce(self, op, x, axes, False if op == "max" else keepdims)


def _cumsum_keeps_dtype(self, op, x, axis):
    return (np.cumsum if op == "cumsum" else np.cumprod)(x, axis=axis, dtype=x.dtype)


def _sort_ties_reversed(self, x, axis, descending, stable):
    if descending:
        return HealthyBackend.sort(self, x, axis, descending, stable)
    # sort the reversed array and map back: equal elements come out in reverse order, which is
    # a valid unstable sort but not a stable one
    n = x.shape[axis]
    idx = ((n - 1) - np.argsort(np.flip(x, axis), axis=axis, kind="stable")).astype(np.int64)
    return np.take_along_axis(x, idx, axis), idx


def _descending_nan_last(self, x, axis, descending, stable):
    if not descending:
        return HealthyBackend.sort(self, x, axis, descending, stable)
    idx = np.argsort(-x, axis=axis, kind="stable").astype(np.int64)
    return np.take_along_axis(x, idx, axis), idx


def _matmul_1d_keeps_dims(self, a, b):
    if a.ndim == 1 and b.ndim == 1:
        return np.matmul(a[None], b[:, None])[0]
    return np.matmul(a, b)


def _index_add_buffered(self, x, key, value):
    x[key] += value  # repeated indices count once


def _astype_rounds(self, x, dtype):
    native = self._to_native[dtype]
    if x.dtype.kind == "f" and native.kind in "iu":
        return np.rint(x).astype(native)
    return x.astype(native, copy=False)


def _astype_bool_truncates(self, x, dtype):
    native = self._to_native[dtype]
    if x.dtype.kind == "f" and native.kind == "b":
        with np.errstate(invalid="ignore"):
            return x.astype(np.int64).astype(native)  # 0.3 -> 0 -> False
    return x.astype(native, copy=False)


def _pad_ignores_value(self, x, pad_width, value):
    return np.pad(x, pad_width)


def _nonzero_column_major(self, x):
    idx = np.nonzero(x)
    order = np.lexsort(idx)  # the last dimension varies slowest
    return tuple(i[order].astype(np.int64) for i in idx)


def _generator_ignores_seed(self, seed):
    return np.random.default_rng(0)


def _set_state_does_nothing(self, gen, state):
    pass


def _integers_include_high(self, gen, low, high, shape, dtype):
    return gen.integers(low, high, size=shape, endpoint=True).astype(self._to_native[dtype])


def _softmax_overflows(self, x, axis):
    with np.errstate(all="ignore"):
        e = np.exp(x)
        return e / e.sum(axis=axis, keepdims=True)


def _logsumexp_naive(self, x, axes, keepdims):
    m = np.max(x, axis=axes, keepdims=True)
    with np.errstate(all="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axes)


def _im2col_ignores_dilation(self, x, kernel, stride, padding, dilation):
    return HealthyBackend.im2col(self, x, kernel, stride, padding, (1,) * len(kernel))


def _sgd_ignores_dampening(self, *args, **kw):
    kw["dampening"] = 0.0
    return Backend.sgd_step(self, *args, **kw)


def _adam_without_bias_correction(self, param, grad, m, v, vmax, step, **kw):
    return Backend.adam_step(self, param, grad, m, v, vmax, 1e9, **kw)


f32, i32 = dt.float32, dt.int32
P, S, R, C, T = primitives, shape_ops, random_ops, composites, tensor_level
CC = conv_composites

#: what is broken -> (the method replaced, its replacement, the conformance test that must fail)
SABOTAGE = {
    "exp off by 1e-3": ("unary", _unary_exp_off, lambda be: P.test_unary(be, "exp", f32)),
    "floordiv truncates": ("binary", _floordiv_truncates, lambda be: P.test_binary(be, "floordiv", i32)),
    "remainder takes the dividend's sign": ("binary", _remainder_c_rule,
                                            lambda be: P.test_binary(be, "remainder", f32)),
    "maximum ignores NaN": ("binary", _maximum_ignores_nan, lambda be: P.test_binary_nan_semantics(be, f32)),
    "binary_inplace returns a new array": ("binary_inplace", _inplace_returns_copy,
                                           lambda be: P.test_binary_inplace(be, "add", f32)),
    "argmax takes the last tie": ("arg_reduce", _argmax_last_tie, lambda be: P.test_arg_reduce(be, "argmax", i32)),
    "argmax skips NaN": ("arg_reduce", _argmax_skips_nan, lambda be: P.test_arg_reduce(be, "argmax", f32)),
    "sum of int32 stays int32": ("reduce", _sum_keeps_int_dtype, lambda be: P.test_reduce(be, "sum", i32)),
    "cumsum of int8 stays int8": ("cumulative", _cumsum_keeps_dtype,
                                  lambda be: P.test_cumulative(be, "cumsum", dt.int8)),
    "stable sort reverses ties": ("sort", _sort_ties_reversed, lambda be: P.test_sort(be, i32)),
    "descending sort puts NaN last": ("sort", _descending_nan_last, lambda be: P.test_sort(be, f32)),
    "1-D @ 1-D is not 0-d": ("matmul", _matmul_1d_keeps_dims, lambda be: P.test_matmul(be, f32)),
    "astype rounds floats to ints": ("astype", _astype_rounds, lambda be: P.test_astype(be, f32)),
    "astype to bool truncates first": ("astype", _astype_bool_truncates, lambda be: P.test_astype(be, f32)),
    "index_add is buffered": ("index_add", _index_add_buffered, lambda be: S.test_index_add(be, f32)),
    "pad ignores the value": ("pad", _pad_ignores_value, lambda be: S.test_pad_flip(be, f32)),
    "nonzero is column-major": ("nonzero", _nonzero_column_major, lambda be: S.test_nonzero(be, i32)),
    "generator ignores the seed": ("generator", _generator_ignores_seed,
                                   lambda be: R.test_random_reproducible(be, "uniform")),
    "set_state does nothing": ("generator_set_state", _set_state_does_nothing,
                               lambda be: R.test_generator_state_round_trip(be, "normal")),
    "random_integers includes high": ("random_integers", _integers_include_high,
                                      lambda be: R.test_random_integers(be, dt.int64)),
    "softmax override overflows": ("softmax", _softmax_overflows, lambda be: C.test_softmax(be, f32, "backend")),
    "max drops keepdims (breaks default softmax)": (
        "reduce", _max_drops_keepdims, lambda be: C.test_softmax(be, f32, "backend")),
    "logsumexp gives NaN for -inf slices": ("logsumexp", _logsumexp_naive,
                                            lambda be: C.test_logsumexp(be, f32, "backend")),
    "im2col ignores dilation": ("im2col", _im2col_ignores_dilation,
                                lambda be: CC.test_im2col_col2im(be, f32, "backend")),
    "sgd_step ignores dampening": ("sgd_step", _sgd_ignores_dampening,
                                   lambda be: C.test_optimizer_step(be, f32, "backend", "sgd_step", 2)),
    "adam_step skips bias correction": ("adam_step", _adam_without_bias_correction,
                                        lambda be: C.test_optimizer_step(be, f32, "backend", "adam_step", 0)),
    "tanh off by 1% (Tensor level)": ("unary", _tanh_off,
                                      lambda be: T.test_forward_backward(str(be.device), "tanh_sigmoid", f32)),
}

_counter = itertools.count()


def _registered(methods):
    """Register a fresh HealthyBackend subclass with ``methods`` replaced; return its backend."""
    i = next(_counter)
    cls = type(f"Sabotaged{i}", (HealthyBackend,),
               {"name": f"conformance-sabotaged-{i}", "device_type": f"sabotaged{i}", **methods})
    name = flambeau.backends.register(cls)
    return name, flambeau.backends.get_backend(f"sabotaged{i}")


@pytest.mark.parametrize("what", sorted(SABOTAGE))
def test_suite_catches_sabotage(what):
    method, replacement, check = SABOTAGE[what]
    name, healthy = _registered({})
    try:
        check(healthy)  # the check passes on the backend as it is ...
    finally:
        flambeau.backends.unregister(name)
    name, broken = _registered({method: replacement})
    try:
        with pytest.raises((AssertionError, ValueError)):  # ... and fails once one is broken
            check(broken)
    finally:
        flambeau.backends.unregister(name)


class CopyingBackend(HealthyBackend):
    """Basic indexing returns copies, as ``Backend.getitem`` allows ("may return a view")."""

    name = "conformance-copying"
    device_type = "copyingdev"

    def getitem(self, x, key):
        return np.array(x[key], copy=True)

    def shares_memory(self, a, b):
        return False


_COMPOSITE_TESTS = sorted({fn.__name__: fn for fn in composites.COMPOSITE_CHECKS.values()}.items())


@pytest.mark.parametrize("check", [fn for _, fn in _COMPOSITE_TESTS], ids=[n for n, _ in _COMPOSITE_TESTS])
def test_composite_defaults_do_not_rely_on_views(check):
    """Every composite, as ``Backend`` implements it, works on a backend whose basic indexing
    gives copies: the defaults may not write through the result of ``getitem``."""
    import inspect

    name = flambeau.backends.register(CopyingBackend)
    try:
        be = flambeau.backends.get_backend("copyingdev")
        params = inspect.signature(check).parameters
        cases = [dict(name=n, case=i) for n, (_, _, hps) in composites._OPTIMIZERS.items()
                 for i in range(len(hps))] if "case" in params else [{}]
        for extra in cases:
            for impl in ("backend", "default"):
                try:
                    check(be, f32, impl, **extra) if "impl" in params else check(be, f32, **extra)
                except pytest.skip.Exception:
                    pass  # the default is what the backend uses: already checked
    finally:
        flambeau.backends.unregister(name)


def test_every_composite_has_a_check():
    """A composite added to ``Backend`` needs a conformance check in
    ``flambeau/testing/conformance/`` (registered in ``composites.COMPOSITE_CHECKS``)."""
    methods = {name for name in dir(Backend)
               if not name.startswith("_") and callable(getattr(Backend, name))}
    primitives_ = {name for name in methods if _raises_not_implemented(getattr(Backend, name))}
    optional = {"from_dlpack", "shares_memory"}
    missing = sorted(methods - primitives_ - optional - set(composites.COMPOSITE_CHECKS))
    assert not missing, f"Backend composites without a conformance check: {missing}"


def _raises_not_implemented(fn):
    import inspect

    try:
        src = inspect.getsource(fn)
    except (OSError, TypeError):
        return False
    body = src.split('"""')[-1] if src.count('"""') >= 2 else src
    return body.strip().endswith("raise NotImplementedError")


def _cli(*args, pythonpath=HERE):
    env = dict(os.environ, PYTHONPATH=pythonpath + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "flambeau.testing", *args], capture_output=True,
                          text=True, env=env, timeout=300)


def test_cli_restricted_dtypes_backend_passes():
    """A backend without float16/float64, registered with ``--backend``, passes the whole suite
    (skipping those dtypes), including the TypeError checks for the missing dtypes."""
    r = _cli("--device", "nohalfdev", "--backend", "test_conformance:NoHalfNoDoubleBackend", "-q",
             "-p", "no:randomly")
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]
    assert "passed" in r.stdout and "failed" not in r.stdout.splitlines()[-1]


def test_cli_fails_a_broken_backend():
    """The one-command entry point exits 1 for a backend whose exp is wrong, naming the op."""
    r = _cli("--device", "expbrokendev", "--backend", "test_conformance:ExpBrokenBackend", "-q")
    assert r.returncode == 1, r.stdout[-3000:] + r.stderr[-3000:]
    assert "unary('exp')" in r.stdout and "test_unary[exp-float32]" in r.stdout


def test_cli_usage_errors():
    """An unknown device exits 4 with the registry's message; ``--device`` is required."""
    r = _cli("--device", "nosuchdev")
    assert r.returncode == 4 and "nosuchdev" in r.stderr
    r = _cli()
    assert r.returncode == 2 and "--device" in r.stderr


def test_missing_pytest_prints_install_hint(monkeypatch, capsys):
    import importlib.util

    import flambeau.testing as ft

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "hypothesis" else real(name, *a))
    assert ft.run("cpu") == 4
    err = capsys.readouterr().err
    assert "hypothesis" in err and 'pip install "flambeau[test]"' in err


def test_erf_erfinv_without_scipy(backend, monkeypatch):
    """ArrayModuleBackend's own erf/erfinv (used when SciPy is missing, as in the tox envs)
    pass the same checks."""
    from flambeau.backend import array_module

    if not isinstance(backend, ArrayModuleBackend):
        pytest.skip("not an ArrayModuleBackend")
    monkeypatch.setitem(array_module._special_cache, backend.xp.__name__, None)
    for d in (dt.float16, dt.float32, dt.float64):
        if d in backend.supported_dtypes:
            for op in ("erf", "erfinv"):
                primitives.test_unary(backend, op, d)
                primitives.test_unary_special_values(backend, op, d)
