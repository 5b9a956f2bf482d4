"""Top-level ``torch.*`` names that are not ops on tensors' data: global switches
(``set_float32_matmul_precision``, ``set_default_tensor_type``, ...), window functions, the
functional forms of in-place methods (``torch.exp_(x)``), and the ``torch.conv2d``-style
aliases of ``nn.functional`` (resolved lazily: ``flambeau.nn`` is not imported before use).
"""
from __future__ import annotations

import builtins
import math

from . import _dtype as dt

_settings = {"matmul_precision": "highest", "deterministic": False, "deterministic_warn_only": False,
             "warn_always": False, "interop_threads": 1}


def set_float32_matmul_precision(precision):
    """Accepted for compatibility (``"highest"``, ``"high"``, ``"medium"``): flambeau's float32
    matmuls are always computed in float32."""
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(
            f"Invalid mode '{precision}': expected 'highest', 'high' or 'medium'")
    _settings["matmul_precision"] = precision


def get_float32_matmul_precision():
    return _settings["matmul_precision"]


def are_deterministic_algorithms_enabled():
    return _settings["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _settings["deterministic_warn_only"]


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Recorded for ``are_deterministic_algorithms_enabled``: flambeau's CPU ops are
    deterministic anyway."""
    _settings["deterministic"] = bool(mode)
    _settings["deterministic_warn_only"] = bool(warn_only)


def set_deterministic_debug_mode(debug_mode):
    _settings["deterministic"] = debug_mode not in (0, "default")


def get_deterministic_debug_mode():
    return 1 if _settings["deterministic"] else 0


def set_warn_always(b):
    _settings["warn_always"] = bool(b)


def is_warn_always_enabled():
    return _settings["warn_always"]


def set_flush_denormal(mode):
    """Not supported on every backend: returns False, as PyTorch does where it cannot."""
    return False


def get_num_interop_threads():
    return _settings["interop_threads"]


def set_num_interop_threads(n):
    _settings["interop_threads"] = int(n)


def set_default_tensor_type(t):
    """Legacy: ``set_default_tensor_type(torch.DoubleTensor)`` (or its name) sets the default
    floating dtype."""
    name = t if isinstance(t, str) else getattr(t, "__name__", str(t))
    name = name.rsplit(".", 1)[-1]
    table = {"FloatTensor": dt.float32, "DoubleTensor": dt.float64, "HalfTensor": dt.float16}
    if name not in table:
        raise TypeError(f"only floating-point types are supported as the default type, got {t}")
    dt.set_default_dtype(table[name])


def is_anomaly_enabled():
    from .autograd.anomaly import is_anomaly_enabled as enabled

    return enabled()


def set_anomaly_enabled(enabled, check_nan=True):
    from .autograd.grad_mode import _state

    _state.anomaly = bool(enabled)


def is_anomaly_check_nan_enabled():
    return is_anomaly_enabled()


def range(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):  # noqa: A001
    """Deprecated ``torch.range``: ``start .. end`` *inclusive*, default float dtype."""
    import warnings

    from ._creation import arange

    warnings.warn(
        "torch.range is deprecated and will be removed in a future release because its "
        "behavior is inconsistent with Python's range builtin. Instead, use torch.arange, which "
        "produces values in [start, end).", UserWarning, stacklevel=2)
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    out = arange(n, dtype=dt.float64, device=device) * step + start
    out = out.to(dtype or dt.get_default_dtype())
    if requires_grad:
        out.requires_grad_()
    return out


def detach(input):
    return input.detach()


def detach_(input):
    return input.detach_()


def fill(input, value):
    return input.clone().fill_(value)


def zero_(input):
    return input.zero_()


def fill_(input, value):
    return input.fill_(value)


# --------------------------------------------------------------------------- windows
def _window(n, periodic, dtype, device, requires_grad, fn):
    from ._creation import arange, ones, tensor

    dtype = dtype or dt.get_default_dtype()
    if n == 0:
        return tensor([], dtype=dtype, device=device)
    if n == 1:
        return ones(1, dtype=dtype, device=device)
    m = n if periodic else n - 1
    k = arange(n, dtype=dt.float64, device=device)
    out = fn(k, m).to(dtype)
    if requires_grad:
        out.requires_grad_()
    return out


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                requires_grad=False):
    return _window(window_length, periodic, dtype, device, requires_grad,
                   lambda k, m: 0.5 - 0.5 * (2 * math.pi * k / m).cos())


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, requires_grad=False):
    return _window(window_length, periodic, dtype, device, requires_grad,
                   lambda k, m: alpha - beta * (2 * math.pi * k / m).cos())


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    return _window(window_length, periodic, dtype, device, requires_grad,
                   lambda k, m: 0.42 - 0.5 * (2 * math.pi * k / m).cos()
                   + 0.08 * (4 * math.pi * k / m).cos())


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    return _window(window_length, periodic, dtype, device, requires_grad,
                   lambda k, m: 1 - (2 * k / m - 1).abs())


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None,
                  device=None, requires_grad=False):
    def fn(k, m):
        r = 2 * k / m - 1
        return _i0(beta * (1 - r * r).clamp(min=0).sqrt()) / _i0(k.new_full((), beta))

    return _window(window_length, periodic, dtype, device, requires_grad, fn)


def _i0(x):
    """The modified Bessel function I0 by its power series (enough terms for |x| < 50)."""
    term = x * 0 + 1
    total = term
    q = x * x / 4
    for k in builtins.range(1, 80):
        term = term * q / (k * k)
        total = total + term
    return total


def i0(input):
    """The modified Bessel function of the first kind of order 0."""
    x = input if input.dtype.is_floating_point else input.to(dt.get_default_dtype())
    return _i0(x.to(dt.float64)).to(x.dtype)


# ------------------------------------------------------- torch.<op>_ and nn.functional aliases
#: ``torch.name_(t, ...)`` is ``t.name_(...)`` for these
INPLACE_FUNCTIONS = """abs_ acos_ acosh_ asin_ asinh_ atan_ atanh_ arccos_ arccosh_ arcsin_
arcsinh_ arctan_ arctanh_ ceil_ clamp_ clamp_max_ clamp_min_ clip_ cos_ cosh_ deg2rad_ erf_
erfc_ exp2_ exp_ expm1_ fix_ floor_ frac_ log10_ log1p_ log2_ log_ logit_ nan_to_num_ neg_
negative_ rad2deg_ reciprocal_ round_ rsqrt_ sigmoid_ sin_ sinc_ sinh_ sqrt_ square_ tan_
tanh_ trunc_ xlogy_ index_put_ dropout_ alpha_dropout_ feature_alpha_dropout_ selu_ celu_
rrelu_ threshold_""".split()

#: ``torch.name`` that forwards to ``nn.functional.name`` with the same signature
FUNCTIONAL_SAME = """conv1d conv2d conv3d conv_transpose1d conv_transpose2d conv_transpose3d
avg_pool1d max_pool1d max_pool2d max_pool3d adaptive_avg_pool1d adaptive_max_pool1d
pixel_shuffle pixel_unshuffle channel_shuffle prelu selu celu rrelu hardshrink
cosine_similarity pairwise_distance pdist bilinear kl_div hinge_embedding_loss
margin_ranking_loss poisson_nll_loss triplet_margin_loss cosine_embedding_loss ctc_loss
group_norm instance_norm binary_cross_entropy_with_logits rms_norm""".split()


def _functional(name):
    import importlib

    return getattr(importlib.import_module("flambeau.nn.functional"), name)


def make_inplace_function(name):
    def fn(input, *args, **kwargs):
        if name in ("dropout_", "alpha_dropout_", "feature_alpha_dropout_"):
            p, train = (list(args) + [0.5, True])[:2] if args else (kwargs.get("p", 0.5),
                                                                   kwargs.get("train", True))
            return _functional(name[:-1])(input, p, train, inplace=True)
        if name in ("selu_", "celu_", "rrelu_", "threshold_"):
            return _functional(name)(input, *args, **kwargs)
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = name
    return fn


def make_functional_alias(name):
    def fn(*args, **kwargs):
        return _functional(name)(*args, **kwargs)

    fn.__name__ = name
    return fn


def dropout(input, p, train):
    """``torch.dropout(input, p, train)`` (positional ``train``)."""
    return _functional("dropout")(input, p, train)


def alpha_dropout(input, p, train):
    return _functional("alpha_dropout")(input, p, train)


def feature_alpha_dropout(input, p, train):
    return _functional("feature_alpha_dropout")(input, p, train)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    return _functional("layer_norm")(input, normalized_shape, weight, bias, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled=True):
    """``torch.batch_norm`` (its argument order differs from ``nn.functional.batch_norm``)."""
    return _functional("batch_norm")(input, running_mean, running_var, weight, bias, training,
                                     momentum, eps)


def embedding(weight, input, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """``torch.embedding(weight, indices)`` (arguments in the opposite order of
    ``nn.functional.embedding``)."""
    return _functional("embedding")(input, weight, None if padding_idx == -1 else padding_idx)


def threshold(input, threshold, value):  # noqa: F811
    return _functional("threshold")(input, threshold, value)


def frobenius_norm(input, dim=(-2, -1), keepdim=False):
    from .linalg import vector_norm

    return vector_norm(input, 2, dim, keepdim)


def nuclear_norm(input, dim=(-2, -1), keepdim=False):
    from .linalg import matrix_norm

    if isinstance(dim, bool):
        dim, keepdim = (-2, -1), dim
    return matrix_norm(input, "nuc", dim, keepdim)


def matrix_rank(input, tol=None, symmetric=False):
    from .linalg import matrix_rank as rank

    return rank(input, tol=tol)


def lu(A, pivot=True, get_infos=False):
    raise NotImplementedError(
        "torch.lu is not available in flambeau; use flambeau.linalg.solve, inv or det")


PUBLIC = [
    "set_float32_matmul_precision", "get_float32_matmul_precision",
    "are_deterministic_algorithms_enabled", "is_deterministic_algorithms_warn_only_enabled",
    "use_deterministic_algorithms", "set_deterministic_debug_mode",
    "get_deterministic_debug_mode", "set_warn_always", "is_warn_always_enabled",
    "set_flush_denormal", "get_num_interop_threads", "set_num_interop_threads",
    "set_default_tensor_type", "is_anomaly_enabled", "set_anomaly_enabled",
    "is_anomaly_check_nan_enabled", "range", "detach", "detach_", "fill", "fill_", "zero_",
    "hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window", "i0",
    "dropout", "alpha_dropout", "feature_alpha_dropout", "layer_norm", "batch_norm",
    "embedding", "threshold", "frobenius_norm", "nuclear_norm", "matrix_rank",
]


def install(namespace):
    """Add the names of this module to ``namespace`` (flambeau's globals) where it has none."""
    g = globals()
    for name in PUBLIC:
        namespace.setdefault(name, g[name])
    # replaces the no-op stub, so that are_deterministic_algorithms_enabled() reports the mode
    namespace["use_deterministic_algorithms"] = use_deterministic_algorithms
    for name in INPLACE_FUNCTIONS:
        namespace.setdefault(name, make_inplace_function(name))
    for name in FUNCTIONAL_SAME:
        namespace.setdefault(name, make_functional_alias(name))
