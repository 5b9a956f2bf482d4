"""Conformance of the composite ops of ``Backend`` against direct NumPy formulas in float64.

Each composite is checked twice where the backend overrides it: as the backend implements it
(``impl="backend"``), and as ``Backend``'s default implementation running on this backend's
primitives (``impl="default"``), the path a backend's override falls back to with ``super()``.

``COMPOSITE_CHECKS`` maps each composite to its test; the project's tests fail when ``Backend``
gains a composite that has no check here.
"""
from __future__ import annotations

import numpy as np
import pytest

from flambeau import _dtype as dt

from .._reference import (
    ALL,
    FLOATS,
    NUMERIC,
    check_array,
    check_exact,
    get,
    np_dtype,
    put,
    require,
    rng_for,
    sample,
)
from . import conv_composites as _conv
from . import linalg_ops as _linalg
from ._fixtures import composite, over_dtypes, over_impls

# =============================================================================
# elementwise and reductions
# =============================================================================

@over_impls
@over_dtypes(NUMERIC)
def test_clip(backend, dtype, impl):
    """``clip(x, lo, hi)`` with scalar, array (broadcast) or None bounds keeps ``x``'s dtype;
    NaN stays NaN."""
    require(backend, dtype)
    clip = composite(backend, "clip", impl)
    rng = rng_for("clip", dtype.name)
    x = sample(rng, dtype, (3, 4), -9, 9)
    if dtype.is_floating_point:
        x[0, 0] = np.nan
    lo_a, hi_a = sample(rng, dtype, (1, 4), -4, 0), sample(rng, dtype, (3, 1), 1, 5)
    lo_s, hi_s = (-2.5, 3.5) if dtype.is_floating_point else (-2, 3)
    if not dtype.is_signed:
        lo_s = 1
    xa = put(backend, x, dtype)
    for lo, hi in [(lo_s, hi_s), (lo_s, None), (None, hi_s), (lo_a, hi_a), (None, None)]:
        ref = x.astype(np.float64)
        if lo is not None:
            ref = np.where(np.isnan(ref), ref, np.maximum(ref, np.asarray(lo, np.float64)))
        if hi is not None:
            ref = np.where(np.isnan(ref), ref, np.minimum(ref, np.asarray(hi, np.float64)))
        args = [put(backend, b, dtype) if isinstance(b, np.ndarray) else b for b in (lo, hi)]
        kind = [None if b is None else ("array" if isinstance(b, np.ndarray) else b) for b in (lo, hi)]
        check_array(backend, clip(xa, *args), ref.astype(np_dtype(dtype)), dtype,
                    f"{impl} clip(x, {kind[0]}, {kind[1]})", inputs=[x])


def _logsumexp(x, axes, keepdims):
    m = np.max(x, axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axes)


def _softmax_inputs(dtype, whole_slice=False):
    rng = rng_for("softmax", dtype.name)
    x = sample(rng, dtype, (3, 4, 5), -5, 5)
    shifted = (x.astype(np.float64) + 1000).astype(np_dtype(dtype))  # exp would overflow
    with_inf = x.copy()
    with_inf[0, 1, 2] = with_inf[2, 3, 4] = with_inf[2, 3, 0] = -np.inf
    cases = [("x", x), ("x + 1000", shifted), ("x with -inf", with_inf)]
    if whole_slice:  # a slice along axis 1 all -inf: its logsumexp is -inf
        all_inf = with_inf.copy()
        all_inf[0, :, 0] = -np.inf
        cases.append(("x with a -inf slice", all_inf))
    return cases


def _check_softmax(backend, dtype, impl, name):
    require(backend, dtype)
    fn = composite(backend, name, impl)
    tol = 3 if dtype is dt.float16 else 2
    for label, x in _softmax_inputs(dtype):
        xa = put(backend, x, dtype)
        x64 = x.astype(np.float64)
        for axis in range(3):
            lse = _logsumexp(x64, (axis,), True)
            with np.errstate(invalid="ignore"):
                ref_log = x64 - lse
            what = f"{impl} {name}(axis={axis}) of {label}"
            if name == "softmax":
                check_array(backend, fn(xa, axis), np.exp(ref_log), dtype, what, inputs=[x],
                            tol=tol, scale=np.maximum(np.exp(ref_log), 1e-3))
            else:  # x - lse loses the digits of lse in x's precision
                check_array(backend, fn(xa, axis), ref_log, dtype, what, inputs=[x], tol=tol,
                            scale=np.abs(ref_log) + np.abs(lse) * (dtype is not dt.float64))


@over_impls
@over_dtypes(FLOATS)
def test_softmax(backend, dtype, impl):
    """``softmax`` along each axis matches the float64 formula, also for inputs whose exp
    overflows and with -inf entries (probability 0)."""
    _check_softmax(backend, dtype, impl, "softmax")


@over_impls
@over_dtypes(FLOATS)
def test_log_softmax(backend, dtype, impl):
    """``log_softmax`` along each axis matches the float64 formula, also for inputs whose exp
    overflows and with -inf entries (log-probability -inf)."""
    _check_softmax(backend, dtype, impl, "log_softmax")


@over_impls
@over_dtypes(FLOATS)
def test_logsumexp(backend, dtype, impl):
    """``logsumexp(x, axes, keepdims)`` is stable for large inputs and gives -inf (not NaN)
    for slices that are all -inf."""
    require(backend, dtype)
    logsumexp = composite(backend, "logsumexp", impl)
    for label, x in _softmax_inputs(dtype, whole_slice=True):
        xa = put(backend, x, dtype)
        x64 = x.astype(np.float64)
        for axes in [(0,), (1,), (0, 2), (0, 1, 2)]:
            for keepdims in (False, True):
                ref = _logsumexp(x64, axes, keepdims)
                check_array(backend, logsumexp(xa, axes, keepdims), ref, dtype,
                            f"{impl} logsumexp(axes={axes}, keepdims={keepdims}) of {label}",
                            inputs=[x], tol=2)


@over_impls
@over_dtypes(ALL)
def test_tril_triu(backend, dtype, impl):
    """``tril``/``triu`` zero above/below the ``k``-th diagonal of the last two axes, batched,
    for square and non-square matrices."""
    require(backend, dtype)
    tril, triu = composite(backend, "tril", impl), composite(backend, "triu", impl)
    for shape in [(4, 3), (2, 3, 5)]:
        x = sample(rng_for("tri", dtype.name, shape), dtype, shape, 1, 9)
        xa = put(backend, x, dtype)
        for k in (-2, -1, 0, 1, 3):
            check_exact(backend, tril(xa, k), np.tril(x, k), dtype, f"{impl} tril(k={k}) of {shape}")
            check_exact(backend, triu(xa, k), np.triu(x, k), dtype, f"{impl} triu(k={k}) of {shape}")


# =============================================================================
# normalisation
# =============================================================================

@over_impls
@over_dtypes(FLOATS)
def test_layer_norm(backend, dtype, impl):
    """``layer_norm(x, weight, bias, axes, eps)`` returns ``(y, mean, rstd)`` with the biased
    variance; ``mean`` and ``rstd`` keep the reduced axes; weight/bias may be None."""
    require(backend, dtype)
    layer_norm = composite(backend, "layer_norm", impl)
    rng = rng_for("layer_norm", dtype.name)
    x = sample(rng, dtype, (2, 3, 4, 5), -2, 4)
    cases = [((3,), (5,)), ((2, 3), (4, 5)), ((0, 2, 3), (1, 3, 1, 1))]
    for axes, wshape in cases:
        w, b = sample(rng, dtype, wshape, 0.5, 1.5), sample(rng, dtype, wshape, -1, 1)
        x64 = x.astype(np.float64)
        mean = x64.mean(axis=axes, keepdims=True)
        rstd = 1 / np.sqrt(x64.var(axis=axes, keepdims=True) + 1e-5)
        for weight, bias in [(None, None), (w, b), (w, None)]:
            y = (x64 - mean) * rstd
            if weight is not None:
                y = y * weight
            if bias is not None:
                y = y + bias
            args = [None if a is None else put(backend, a, dtype) for a in (weight, bias)]
            out = layer_norm(put(backend, x, dtype), *args, axes, 1e-5)
            what = f"{impl} layer_norm(axes={axes}, weight={weight is not None}, bias={bias is not None})"
            tol = 4 if dtype is dt.float16 else 2
            check_array(backend, out[0], y, dtype, what + " y", inputs=[x], tol=tol,
                        scale=np.abs(y) + 1)
            check_array(backend, out[1], mean, dtype, what + " mean", inputs=[x], tol=tol,
                        scale=np.abs(mean) + 1)
            check_array(backend, out[2], rstd, dtype, what + " rstd", inputs=[x], tol=tol)


# =============================================================================
# optimizer updates
# =============================================================================

def _sgd_ref(p, g, buf, lr, momentum, dampening, nesterov, weight_decay, maximize, first_step):
    g = -g if maximize else g
    g = g + weight_decay * p
    if momentum:
        buf = g.copy() if first_step else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    return p - lr * g, buf


def _adam_ref(p, g, m, v, vmax, step, lr, beta1, beta2, eps, weight_decay, decoupled, amsgrad,
              maximize):
    g = -g if maximize else g
    if decoupled:
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    if amsgrad:
        vmax = np.maximum(vmax, v)
    denom = np.sqrt(vmax if amsgrad else v) / np.sqrt(1 - beta2 ** step) + eps
    return p - lr / (1 - beta1 ** step) * m / denom, m, v, vmax


def _rmsprop_ref(p, g, s, a, buf, lr, alpha, eps, weight_decay, momentum, centered, maximize):
    g = -g if maximize else g
    g = g + weight_decay * p
    s = alpha * s + (1 - alpha) * g * g
    if centered:
        a = alpha * a + (1 - alpha) * g
        avg = np.sqrt(s - a * a) + eps
    else:
        avg = np.sqrt(s) + eps
    if momentum > 0:
        buf = momentum * buf + g / avg
        return p - lr * buf, s, a, buf
    return p - lr * g / avg, s, a, buf


def _adagrad_ref(p, g, total, step, lr, lr_decay, weight_decay, eps, maximize):
    g = -g if maximize else g
    g = g + weight_decay * p
    total = total + g * g
    return p - lr / (1 + (step - 1) * lr_decay) * g / (np.sqrt(total) + eps), total


_OPTIMIZERS = {
    # name -> (reference, state names, list of hyper-parameter dicts)
    "sgd_step": (_sgd_ref, ("buf",), [
        dict(lr=0.1, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0, maximize=False),
        dict(lr=0.1, momentum=0.9, dampening=0.0, nesterov=False, weight_decay=0.01, maximize=False),
        dict(lr=0.05, momentum=0.8, dampening=0.3, nesterov=False, weight_decay=0.0, maximize=True),
        dict(lr=0.05, momentum=0.9, dampening=0.0, nesterov=True, weight_decay=0.1, maximize=False),
    ]),
    "adam_step": (_adam_ref, ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"), [
        dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False,
             amsgrad=False, maximize=False),
        dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.1, decoupled=False,
             amsgrad=True, maximize=False),
        dict(lr=0.02, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.05, decoupled=True,
             amsgrad=False, maximize=True),
    ]),
    "rmsprop_step": (_rmsprop_ref, ("square_avg", "grad_avg", "momentum_buffer"), [
        dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
             maximize=False),
        dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.9, centered=True,
             maximize=True),
    ]),
    "adagrad_step": (_adagrad_ref, ("state_sum",), [
        dict(lr=0.1, lr_decay=0.0, weight_decay=0.0, eps=1e-10, maximize=False),
        dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, eps=1e-10, maximize=True),
    ]),
}


def _unused_states(name, hp):
    if name == "sgd_step" and not hp["momentum"]:
        return {"buf"}
    if name == "adam_step" and not hp["amsgrad"]:
        return {"max_exp_avg_sq"}
    if name == "rmsprop_step":
        return ({"grad_avg"} if not hp["centered"] else set()) | \
            ({"momentum_buffer"} if not hp["momentum"] else set())
    return set()


def _run_optimizer(backend, name, fn, dtype, hp, steps=3):
    """Apply ``steps`` updates with ``fn`` and with the float64 reference; compare after each."""
    ref_fn, state_names, _ = _OPTIMIZERS[name]
    rng = rng_for(name, dtype.name, tuple(sorted(hp.items())))
    p = sample(rng, dtype, (3, 4), -2, 2)
    unused = _unused_states(name, hp)
    states = {s: np.zeros((3, 4), np.float64) for s in state_names}
    native_states = {s: None if s in unused else put(backend, np.zeros((3, 4), np_dtype(dtype)), dtype)
                     for s in state_names}
    pa = put(backend, p, dtype)
    p64 = p.astype(np.float64)
    tol = 8 if dtype is dt.float16 else 3
    for step in range(1, steps + 1):
        g = sample(rng, dtype, (3, 4), -1, 1)
        g[g == 0] = 0.5  # Adam's first step divides by |g|
        ga = put(backend, g, dtype)
        g64 = g.astype(np.float64)
        if name == "sgd_step":
            ret = fn(pa, ga, native_states["buf"], first_step=step == 1, **hp)
            p64, states["buf"] = ref_fn(p64, g64, states["buf"], first_step=step == 1, **hp)
        elif name == "adam_step":
            ret = fn(pa, ga, *native_states.values(), float(step), **hp)
            p64, *new = ref_fn(p64, g64, *states.values(), float(step), **hp)
            states = dict(zip(state_names, new))
        elif name == "rmsprop_step":
            ret = fn(pa, ga, *native_states.values(), **hp)
            p64, *new = ref_fn(p64, g64, *states.values(), **hp)
            states = dict(zip(state_names, new))
        else:
            ret = fn(pa, ga, native_states["state_sum"], float(step), **hp)
            p64, states["state_sum"] = ref_fn(p64, g64, states["state_sum"], float(step), **hp)
        what = f"{name}({', '.join(f'{k}={v}' for k, v in hp.items())}) step {step}"
        assert ret is None, f"[{backend.name}] {what}: must update in place and return None"
        check_array(backend, pa, p64, dtype, what + ": param", tol=tol, scale=np.abs(p64) + 1)
        for s, arr in native_states.items():
            if arr is not None:
                check_array(backend, arr, states[s], dtype, f"{what}: {s}", tol=tol,
                            scale=np.abs(states[s]) + 1e-2)
        # the gradient is only read
        assert np.array_equal(get(backend, ga), g), f"[{backend.name}] {what}: modified grad"


_OPT_CASES = [(name, i) for name, (_, _, hps) in _OPTIMIZERS.items() for i in range(len(hps))]


@pytest.mark.parametrize("name,case", _OPT_CASES, ids=[f"{n}-{i}" for n, i in _OPT_CASES])
@over_impls
@over_dtypes(FLOATS)
def test_optimizer_step(backend, dtype, impl, name, case):
    """``sgd_step``/``adam_step``/``rmsprop_step``/``adagrad_step`` update the parameter and
    state arrays in place as PyTorch's optimizers do, over three steps."""
    require(backend, dtype)
    fn = composite(backend, name, impl)
    _run_optimizer(backend, name, fn, dtype, _OPTIMIZERS[name][2][case])


#: every composite of ``Backend`` and the test that checks it
COMPOSITE_CHECKS = {
    "clip": test_clip, "softmax": test_softmax, "log_softmax": test_log_softmax,
    "logsumexp": test_logsumexp, "tril": test_tril_triu, "triu": test_tril_triu,
    "layer_norm": test_layer_norm,
    "sgd_step": test_optimizer_step, "adam_step": test_optimizer_step,
    "rmsprop_step": test_optimizer_step, "adagrad_step": test_optimizer_step,
    "im2col": _conv.test_im2col_col2im, "col2im": _conv.test_im2col_col2im, "conv": _conv.test_conv,
    "conv_input_grad": _conv.test_conv, "conv_weight_grad": _conv.test_conv,
    "max_pool": _conv.test_max_pool, "max_pool_backward": _conv.test_max_pool,
    "avg_pool": _conv.test_avg_pool, "avg_pool_backward": _conv.test_avg_pool,
    "linalg": _linalg.test_linalg,
}
