"""``flambeau.nn.functional``: the stateless forms of the layers, with PyTorch's signatures.

>>> import flambeau
>>> import flambeau.nn.functional as F
>>> F.relu(flambeau.tensor([-1.0, 2.0]))
tensor([0., 2.])

Hot paths are single Functions with analytic backwards (``nn/_functions``): linear,
softmax/log_softmax, layer/batch/group norm, cross-entropy, the binary cross-entropies.
Everything else is a composition of tensor ops.
"""
from __future__ import annotations

import math
import warnings

import flambeau
from flambeau import _dtype as dt
from flambeau._ops._util import inplace as _inplace

from ._functions import activation as _act
from ._functions import linear as _lin
from ._functions import loss as _loss
from ._functions import normalization as _norm

# =============================================================================
# linear
# =============================================================================


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``; ``weight`` is ``(out_features, in_features)``."""
    xs, ws = input._data.shape, weight._data.shape  # (native shapes: cheap on this hot path)
    if not xs or len(ws) != 2:
        if weight.ndim == 1:
            out = input.matmul(weight)
            return out + bias if bias is not None else out
        raise RuntimeError(
            f"linear(): expected a 2-D weight and an input with at least 1 dim, got input "
            f"{list(input.shape)} and weight {list(weight.shape)}"
        )
    if xs[-1] != ws[1]:
        lead = list(input.shape[:-1]) or [1]
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({math.prod(lead)}x{input.shape[-1]} "
            f"and {weight.shape[1]}x{weight.shape[0]})"
        )
    if input.dtype is not weight.dtype:
        raise RuntimeError(
            f"mat1 and mat2 must have the same dtype, but got {_scalar_type_name(input)} and "
            f"{_scalar_type_name(weight)}"
        )
    if input.device is not weight.device and input.device != weight.device:
        raise RuntimeError(
            f"Expected all tensors to be on the same device, but found at least two devices, "
            f"{input.device} and {weight.device}!"
        )
    if len(xs) == 2:  # PyTorch's node names: addmm with a bias, mm without
        if bias is not None:
            return _lin.Addmm.apply(bias, input, weight)
        return _named(_lin.Linear.apply(input, weight, None), "MmBackward0", input)
    return _lin.Linear.apply(input, weight, bias)


def bilinear(input1, input2, weight, bias=None):
    """``y_k = x1^T W_k x2 + b_k``; ``weight`` is ``(out, in1, in2)``."""
    out = flambeau.einsum("...i,kij,...j->...k", input1, weight, input2)
    return out + bias if bias is not None else out


# =============================================================================
# activations
# =============================================================================


def _maybe_inplace(input, fn, name, inplace):
    if inplace:
        return _inplace(input, fn, name)
    return fn(input)


def relu(input, inplace=False):
    """``max(x, 0)``."""
    return _maybe_inplace(input, _act.ReLU.apply, "relu_", inplace)


def relu_(input):
    return relu(input, inplace=True)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """``clamp(x, min_val, max_val)`` with zero gradient at and beyond the bounds."""
    return _maybe_inplace(input, lambda x: _act.Hardtanh.apply(x, min_val, max_val), "hardtanh_",
                          inplace)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, True)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x`` for positive ``x``, ``negative_slope * x`` otherwise."""
    return _maybe_inplace(input, lambda x: _act.LeakyReLU.apply(x, float(negative_slope)),
                          "leaky_relu_", inplace)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, True)


def elu(input, alpha=1.0, inplace=False):
    """``x`` for positive ``x``, ``alpha * (exp(x) - 1)`` otherwise."""
    return _maybe_inplace(input, lambda x: _act.ELU.apply(x, float(alpha), 1.0, 1.0), "elu_",
                          inplace)


def elu_(input, alpha=1.0):
    return elu(input, alpha, True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    return _maybe_inplace(input, lambda x: _act.ELU.apply(x, _SELU_ALPHA, _SELU_SCALE, 1.0),
                          "selu_", inplace)


def celu(input, alpha=1.0, inplace=False):
    return _maybe_inplace(input, lambda x: _act.ELU.apply(x, float(alpha), 1.0, 1.0 / alpha),
                          "celu_", inplace)


def selu_(input):
    return selu(input, True)


def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


def gelu(input, approximate="none"):
    """``x * Phi(x)`` (``approximate='none'``) or its tanh approximation (``'tanh'``)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate!r}")
    return _act.GELU.apply(input, approximate)


def silu(input, inplace=False):
    """``x * sigmoid(x)`` (a.k.a. swish)."""
    return _maybe_inplace(input, _act.SiLU.apply, "silu_", inplace)


def mish(input, inplace=False):
    """``x * tanh(softplus(x))``."""
    return _maybe_inplace(input, lambda x: x * softplus(x).tanh(), "mish_", inplace)


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta x)) / beta``, linear above ``threshold`` (in ``beta x``)."""
    return _act.Softplus.apply(input, beta, threshold)


def softsign(input):
    return input / (1 + input.abs())


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def hardsigmoid(input, inplace=False):
    return _maybe_inplace(input, lambda x: _act.Hardtanh.apply(x / 6 + 0.5, 0.0, 1.0),
                          "hardsigmoid_", inplace)


def hardswish(input, inplace=False):
    return _maybe_inplace(input, lambda x: x * hardsigmoid(x), "hardswish_", inplace)


def logsigmoid(input):
    """``log(sigmoid(x)) = -softplus(-x)``, stable."""
    return -softplus(-input)


def tanhshrink(input):
    return input - input.tanh()


def softshrink(input, lambd=0.5):
    return flambeau.where(input > lambd, input - lambd,
                          flambeau.where(input < -lambd, input + lambd, input * 0))


def hardshrink(input, lambd=0.5):
    return flambeau.where(input.abs() > lambd, input, input * 0)


def threshold(input, threshold, value, inplace=False):
    return _maybe_inplace(input, lambda x: flambeau.where(x > threshold, x, value), "threshold_",
                          inplace)


def threshold_(input, threshold, value):
    return globals()["threshold"](input, threshold, value, True)  # the argument shadows it


def prelu(input, weight):
    """``x`` for positive ``x``, ``weight * x`` otherwise; ``weight`` has 1 or C (dim 1)
    elements."""
    if weight.numel() != 1:
        if input.ndim < 2 and input.ndim != 1:
            raise RuntimeError("prelu: a per-channel weight needs an input with a channel dim")
        shape = [1] * input.ndim
        shape[1 if input.ndim >= 2 else 0] = weight.numel()
        weight = weight.reshape(shape)
    return flambeau.where(input > 0, input, weight * input)


def glu(input, dim=-1):
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()


def _softmax_dim(ndim):
    warnings.warn(
        "Implicit dimension choice for softmax has been deprecated. Change the call to include "
        "dim=X as an argument.", stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_input(input, dim, dtype, op):
    if dim is None:
        dim = _softmax_dim(input.ndim)
    if dtype is not None:
        input = input.to(dtype)
    elif not input.dtype.is_floating_point:
        raise RuntimeError(f'"{op}" not implemented for \'{input.dtype.name}\'')
    if input.ndim == 0:
        return input.reshape(1), 0, True
    return input, flambeau._tensor._wrap_dim(dim, input.ndim, op), False


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim``, computed stably."""
    x, axis, scalar = _softmax_input(input, dim, dtype, "softmax")
    out = _act.Softmax.apply(x, axis)
    return out.reshape(()) if scalar else out


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``x - logsumexp(x)`` along ``dim``."""
    x, axis, scalar = _softmax_input(input, dim, dtype, "log_softmax")
    out = _act.LogSoftmax.apply(x, axis)
    return out.reshape(()) if scalar else out


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    return softmax(-input, dim, dtype=dtype)


# =============================================================================
# dropout
# =============================================================================


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout_mask(input, shape, p):
    with flambeau.no_grad():
        # PyTorch's noise.bernoulli_(1 - p): a float64 uniform below 1 - p keeps the element
        keep = flambeau.rand(shape, dtype=dt.float64, device=input.device) < 1 - p
        return keep.to(input.dtype) * (0.0 if p == 1 else 1.0 / (1.0 - p))


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)``
    (only when ``training``)."""
    _check_p(p)
    if not training or p == 0:
        return input
    mask = _dropout_mask(input, tuple(input.shape), p)
    return _maybe_inplace(input, lambda x: x * mask, "dropout_", inplace)


def _feature_dropout(input, p, training, inplace, batched_ndim, name):
    _check_p(p)
    if not training or p == 0:
        return input
    if input.ndim not in (batched_ndim, batched_ndim - 1):
        raise RuntimeError(
            f"{name}: Expected {batched_ndim - 1}D or {batched_ndim}D input, but received a "
            f"{input.ndim}D input"
        )
    nfeat = input.ndim - (batched_ndim - 2)  # batch (and channel) dims that get own masks
    shape = tuple(input.shape[:nfeat]) + (1,) * (input.ndim - nfeat)
    mask = _dropout_mask(input, shape, p)
    return _maybe_inplace(input, lambda x: x * mask, name + "_", inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of ``(N, C, L)`` (or ``(C, L)``) input."""
    return _feature_dropout(input, p, training, inplace, 3, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of ``(N, C, H, W)`` (or ``(C, H, W)``) input."""
    return _feature_dropout(input, p, training, inplace, 4, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 5, "dropout3d")


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    _check_p(p)
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    alpha = -_SELU_ALPHA * _SELU_SCALE
    a = ((1 - p) * (1 + p * alpha * alpha)) ** -0.5
    b = -a * alpha * p
    with flambeau.no_grad():
        keep = (flambeau.rand(tuple(input.shape), dtype=dt.float64, device=input.device) < 1 - p)
        keep = keep.to(input.dtype)
    return (input * keep + alpha * (1 - keep)) * a + b


# =============================================================================
# sparse
# =============================================================================


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` at the integer indices ``input``; output is ``input.shape + (D,)``.

    ``padding_idx`` rows get no gradient; with ``max_norm`` the looked-up rows are renormalised
    in place to at most that norm first, as PyTorch.
    """
    if input.dtype.is_floating_point:
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {input.type()} instead (while checking arguments for "
            "embedding)"
        )
    if padding_idx is not None:
        if padding_idx < 0:
            if padding_idx < -weight.shape[0]:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = weight.shape[0] + padding_idx
        elif padding_idx >= weight.shape[0]:
            raise AssertionError("Padding_idx must be within num_embeddings")
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    return _lin.Embedding.apply(weight, input, padding_idx, scale_grad_by_freq)


def _embedding_renorm_(weight, input, max_norm, norm_type):
    with flambeau.no_grad():
        rows = input.reshape(-1).long().unique()
        sel = weight.index_select(0, rows)
        norms = sel.norm(p=norm_type, dim=1, keepdim=True)
        scale = flambeau.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight.index_copy_(0, rows, sel * scale)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    if input.ndim == 2:
        emb = embedding(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq)
        if per_sample_weights is not None:
            emb = emb * per_sample_weights.unsqueeze(-1)
        if mode == "sum":
            return emb.sum(1)
        if mode == "max":
            return emb.amax(1)
        return emb.mean(1)
    bounds = offsets.tolist() + ([] if include_last_offset else [input.shape[0]])
    bags = []
    for i in range(len(bounds) - 1):
        idx = input[bounds[i]:bounds[i + 1]]
        w = per_sample_weights[bounds[i]:bounds[i + 1]] if per_sample_weights is not None else None
        bags.append(embedding_bag(idx.unsqueeze(0), weight, None, max_norm, norm_type,
                                  scale_grad_by_freq, mode, sparse,
                                  None if w is None else w.unsqueeze(0), padding_idx=padding_idx))
    return flambeau.cat(bags, 0)


def one_hot(tensor, num_classes=-1):
    """``(..., num_classes)`` int64 tensor with a 1 at each index of ``tensor``."""
    if tensor.dtype.is_floating_point or tensor.dtype is dt.bool_:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        num_classes = int(tensor.max().item()) + 1 if tensor.numel() else 0
    if tensor.numel() and (int(tensor.min().item()) < 0):
        raise RuntimeError("Class values must be non-negative.")
    if tensor.numel() and int(tensor.max().item()) >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    classes = flambeau.arange(num_classes, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).long()


# =============================================================================
# normalisation
# =============================================================================


def _channel_shape(input, n):
    shape = [1] * input.ndim
    shape[1] = n
    return shape


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) over the batch and spatial dims.

    In training, uses the batch statistics and updates ``running_mean``/``running_var`` in
    place: ``running = (1 - momentum) * running + momentum * batch`` with the unbiased batch
    variance. Otherwise uses the running statistics.
    """
    if input.ndim < 2:
        raise ValueError(f"expected 2D or higher input (got {input.ndim}D input)")
    c = input.shape[1]
    cshape = _channel_shape(input, c)
    if training:
        axes = (0,) + tuple(range(2, input.ndim))
        n = input.numel() // c if c else 0
        if n <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size "
                f"{input.shape}"
            )
        w = weight.reshape(cshape) if weight is not None else None
        b = bias.reshape(cshape) if bias is not None else None
        y, mean, var = _norm.Normalize.apply(input, w, b, axes, eps)
        if running_mean is not None or running_var is not None:
            with flambeau.no_grad():
                if running_mean is not None:
                    running_mean.mul_(1 - momentum).add_(
                        mean.reshape(c).to(running_mean.dtype) * momentum)
                if running_var is not None:
                    unbiased = var.reshape(c) * (n / (n - 1))
                    running_var.mul_(1 - momentum).add_(unbiased.to(running_var.dtype) * momentum)
        return y
    if running_mean is None or running_var is None:
        raise RuntimeError("batch_norm: running_mean and running_var are needed in eval mode")
    # eval: a per-channel affine map, folded so the big tensor sees one multiply and one add
    scale = (running_var.to(input.dtype) + eps).rsqrt()
    if weight is not None:
        scale = scale * weight
    shift = -running_mean.to(input.dtype) * scale
    if bias is not None:
        shift = shift + bias
    return input * scale.reshape(cshape) + shift.reshape(cshape)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each (sample, channel) over its spatial dims."""
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    c = input.shape[1]
    cshape = _channel_shape(input, c)
    axes = tuple(range(2, input.ndim))
    w = weight.reshape(cshape) if weight is not None else None
    b = bias.reshape(cshape) if bias is not None else None
    y, mean, var = _norm.Normalize.apply(input, w, b, axes, eps)
    if running_mean is not None:
        n = math.prod(input.shape[2:])
        with flambeau.no_grad():
            running_mean.mul_(1 - momentum).add_(mean.reshape(-1, c).mean(0) * momentum)
            running_var.mul_(1 - momentum).add_(
                (var.reshape(-1, c) * (n / max(n - 1, 1))).mean(0) * momentum)
    return y


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last ``len(normalized_shape)`` dims, then scale and shift."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.ndim - k:]) != normalized_shape or input.ndim < k:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size"
            f"{list(input.shape)}"
        )
    axes = tuple(range(input.ndim - k, input.ndim))
    return _norm.Normalize.apply(input, weight, bias, axes, eps)[0]


def rms_norm(input, normalized_shape, weight=None, eps=None):
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    dims = tuple(range(-len(normalized_shape), 0))
    if eps is None:
        eps = flambeau.finfo(input.dtype).eps
    out = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return out * weight if weight is not None else out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each group of ``C / num_groups`` channels over the group and spatial dims."""
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    n, c = input.shape[:2]
    if c % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {input.shape} and num_groups={num_groups}"
        )
    x = input.reshape(n, num_groups, -1)
    y = _norm.Normalize.apply(x, None, None, (2,), eps)[0].reshape(input.shape)
    cshape = _channel_shape(input, c)
    if weight is not None:
        y = y * weight.reshape(cshape)
    if bias is not None:
        y = y + bias.reshape(cshape)
    return y


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    div = (input * input).unsqueeze(1)
    pad_front = size // 2
    pad_back = (size - 1) // 2
    shape = div.shape
    div = div.reshape(shape[0], 1, shape[2], -1)
    div = pad(div, (0, 0, pad_front, pad_back))
    windows = flambeau.stack([div[:, :, i:i + shape[2]] for i in range(size)], 0).mean(0)
    div = windows.reshape(shape).squeeze(1)
    return input / (div * alpha + k) ** beta


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input / max(||input||_p, eps)`` along ``dim``."""
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    return input / denom


# =============================================================================
# distances
# =============================================================================


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps))`` along ``dim``."""
    x1, x2 = flambeau.broadcast_tensors(x1, x2)
    n1 = x1.norm(2, dim, keepdim=True).clamp_min(eps)
    n2 = x2.norm(2, dim, keepdim=True).clamp_min(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    return (x1 - x2 + eps).norm(p, -1, keepdim=keepdim)


def pdist(input, p=2):
    n = input.shape[0]
    rows, cols = [], []
    for i in range(n):
        for j in range(i + 1, n):
            rows.append(i)
            cols.append(j)
    r = flambeau.tensor(rows, dtype=flambeau.int64, device=input.device)
    c = flambeau.tensor(cols, dtype=flambeau.int64, device=input.device)
    return (input[r] - input[c]).norm(p, -1)


# =============================================================================
# padding
# =============================================================================


def _pad_index(n, before, after, mode):
    if mode == "reflect":
        if before >= n or after >= n:
            raise RuntimeError(
                f"Argument #4: Padding size should be less than the corresponding input dimension, "
                f"but got: padding ({before}, {after}) at dimension of input of size {n}"
            )
        return list(range(before, 0, -1)) + list(range(n)) + list(range(n - 2, n - 2 - after, -1))
    if mode == "replicate":
        return [0] * before + list(range(n)) + [n - 1] * after
    if mode == "circular":
        if before > n or after > n:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        return list(range(n - before, n)) + list(range(n)) + list(range(after))
    raise NotImplementedError(f"Unrecognised padding mode {mode}")


def pad(input, pad, mode="constant", value=None):
    """Pad the last ``len(pad) // 2`` dims: ``pad = (left, right, top, bottom, ...)`` starting
    from the last dim. ``mode``: ``constant`` (with ``value``; negative pads crop), ``reflect``,
    ``replicate`` or ``circular``."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(pad) // 2
    if k > input.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension")
    widths = [(0, 0)] * input.ndim
    for i in range(k):
        widths[input.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        crop = tuple(slice(-b if b < 0 else None, (n + a) if a < 0 else None)
                     for (b, a), n in zip(widths, input.shape))
        if any(b < 0 or a < 0 for b, a in widths):
            input = input[crop]
            widths = [(max(b, 0), max(a, 0)) for b, a in widths]
        if not any(b or a for b, a in widths):
            return input.clone()
        return _lin.ConstantPad.apply(input, tuple(widths), 0 if value is None else value)
    if value:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    out = input
    for d in range(input.ndim - k, input.ndim):
        b, a = widths[d]
        if b or a:
            if b < 0 or a < 0:
                raise RuntimeError(f"{mode} padding does not support negative pads")
            idx = flambeau.tensor(_pad_index(out.shape[d], b, a, mode), dtype=flambeau.int64,
                                  device=input.device)
            out = out.index_select(d, idx)
    return out


# =============================================================================
# losses
# =============================================================================


def _legacy_reduction(size_average, reduce, reduction):
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _named(loss, name, *inputs):
    """Give a loss computed in several steps the single node name PyTorch's loss has."""
    from flambeau._ops._util import named

    return named(loss, name, *inputs)


def _check_target_size(input, target, op):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.", stacklevel=3,
        )


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error ``(input - target)^2``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_target_size(input, target, "mse_loss")
    if weight is None and reduction in ("mean", "sum", "none"):
        if tuple(input.shape) != tuple(target.shape):
            input, target = flambeau.broadcast_tensors(input, target)
        if target.dtype is not input.dtype:
            dtype = flambeau.promote_types(input.dtype, target.dtype)
            input, target = input.to(dtype), target.to(dtype)
        return _loss.MseLoss.apply(input, target, reduction)
    d = input - target
    loss = d * d
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error ``|input - target|``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_target_size(input, target, "l1_loss")
    loss = (input - target).abs()
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """``0.5 d^2 / beta`` where ``|d| < beta``, ``|d| - 0.5 beta`` elsewhere."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _check_target_size(input, target, "smooth_l1_loss")
    d = input - target
    ad = d.abs()
    if beta == 0:
        return _reduce(ad, reduction)
    loss = flambeau.where(ad < beta, 0.5 * d * d / beta, ad - 0.5 * beta)
    return _named(_reduce(loss, reduction), "SmoothL1LossBackward0", input, target)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """``0.5 d^2`` where ``|d| < delta``, ``delta (|d| - 0.5 delta)`` elsewhere."""
    _check_target_size(input, target, "huber_loss")
    d = input - target
    ad = d.abs()
    loss = flambeau.where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))
    if weight is not None:
        loss = loss * weight
    return _named(_reduce(loss, reduction), "HuberLossBackward0", input, target)


def _batched_class_input(input, target, op):
    """(N, C, ...) input and (N, ...) target, unsqueezing an unbatched (C,) input."""
    if input.ndim == 0:
        raise ValueError(f"{op}: input tensor should be 1D or more")
    if input.ndim == 1:
        if target.ndim != 0 and not target.dtype.is_floating_point:
            raise RuntimeError(f"{op}: 0D target tensor expected for a 1D input, got {target.ndim}D")
        return input.unsqueeze(0), target.unsqueeze(0), True
    if not target.dtype.is_floating_point:
        if target.shape[0] != input.shape[0]:
            raise ValueError(
                f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                f"({target.shape[0]})."
            )
        if tuple(target.shape[1:]) != tuple(input.shape[2:]):
            raise RuntimeError(
                f"{op}: expected target of size {[input.shape[0]] + list(input.shape[2:])}, got "
                f"{list(target.shape)}"
            )
    return input, target, False


def _check_classes(target, n_classes, ignore_index):
    if target.numel() == 0:
        return
    # the common case costs two reductions: every target is a class index (ignore_index or not)
    if int(target.min()) >= 0 and int(target.max()) < n_classes:
        return
    valid = target[target != ignore_index] if ignore_index is not None else target
    if valid.numel() and (int(valid.max().item()) >= n_classes or int(valid.min().item()) < 0):
        raise IndexError(
            f"Target {int(valid.max().item()) if int(valid.max().item()) >= n_classes else int(valid.min().item())} "
            f"is out of bounds."
        )


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits ``input`` ``(N, C, *d)`` (or ``(C,)``) and ``target``:
    class indices ``(N, *d)`` or class probabilities of ``input``'s shape.

    >>> F.cross_entropy(flambeau.zeros(2, 3), flambeau.tensor([0, 2]))
    tensor(1.0986)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    x, t, unbatched = _batched_class_input(input, target, "cross_entropy")
    n_classes = x.shape[1]
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != n_classes):
        raise RuntimeError(
            f"weight tensor should be defined either for all {n_classes} classes or no classes "
            f"but got weight tensor of shape: {list(weight.shape)}"
        )
    if t.dtype.is_floating_point:
        # class probabilities: -sum_c w_c y_c log p_c; "mean" divides by the number of positions
        if tuple(t.shape) != tuple(x.shape):
            raise RuntimeError(
                f"Expected target size {list(x.shape)}, got {list(t.shape)}"
            )
        if label_smoothing > 0:
            t = t * (1 - label_smoothing) + label_smoothing / n_classes
        lsm = log_softmax(x, 1)
        prod = lsm * t
        if weight is not None:
            prod = prod * weight.reshape(_channel_shape(x, n_classes))
        loss = -prod.sum(1)
        if reduction == "mean":
            return _named(loss.sum() / (x.numel() // n_classes if n_classes else 1),
                          "DivBackward1", input)
        if reduction == "sum":
            return loss.sum()
        return loss.squeeze(0) if unbatched else loss
    _check_classes(t, n_classes, ignore_index)
    if weight is not None and weight.dtype is not x.dtype:
        weight = weight.to(x.dtype)
    loss = _loss.CrossEntropy.apply(x, t, weight, ignore_index, float(label_smoothing), reduction)
    loss = loss.squeeze(0) if unbatched and reduction == "none" else loss
    # PyTorch's cross_entropy is log_softmax + nll_loss (its node is NllLossBackward0), plus
    # the smoothing term when label_smoothing > 0
    return _named(loss, "AddBackward0" if label_smoothing > 0 else "NllLossBackward0", input)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` ``(N, C, *d)`` at class indices
    ``target``; ``mean`` divides by the summed weights of the targets that count."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, t, unbatched = _batched_class_input(input, target, "nll_loss")
    n_classes = x.shape[1]
    _check_classes(t, n_classes, ignore_index)
    valid = t != ignore_index
    tc = flambeau.where(valid, t, 0).long()
    picked = x.gather(1, tc.unsqueeze(1)).squeeze(1)
    wt = valid.to(x.dtype)
    if weight is not None:
        wt = wt * weight.to(x.dtype)[tc]
    loss = -picked * wt
    if reduction == "none":
        loss = loss.squeeze(0) if unbatched else loss
    elif reduction == "sum":
        loss = loss.sum()
    elif reduction == "mean":
        loss = loss.sum() / wt.sum()
    else:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return _named(loss, "NllLossBackward0", input)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """``-w (y log x + (1 - y) log(1 - x))`` with probabilities ``input``; logs are clamped at
    -100, as PyTorch."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}) is deprecated. Please ensure they have the same size."
        )
    if target.dtype is not input.dtype:  # PyTorch does not promote here
        raise RuntimeError(
            f"Found dtype {_scalar_type_name(target)} but expected {_scalar_type_name(input)}")
    if input.numel() and not bool(((input >= 0) & (input <= 1)).all()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    loss = _loss.BinaryCrossEntropy.apply(input, target.to(input.dtype))
    if weight is not None:
        loss = loss * weight
    return _named(_reduce(loss, reduction), "BinaryCrossEntropyBackward0", input, target)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Binary cross-entropy of ``sigmoid(input)``, computed stably from the logits;
    ``pos_weight`` weighs the positive term (broadcast over the last dim: one per class)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Target size ({target.shape}) must be the same as input size ({input.shape})"
        )
    if not target.dtype.is_floating_point:
        raise RuntimeError(
            f"result type {_scalar_type_name(input)} can't be cast to the desired output type "
            f"{_scalar_type_name(target)}")
    loss = _loss.BinaryCrossEntropyWithLogits.apply(input, target.to(input.dtype), pos_weight)
    if weight is not None:
        loss = loss * weight
    if loss.dtype is not target.dtype:  # PyTorch computes the loss in place in target's dtype
        loss = loss.to(target.dtype)
    return _named(_reduce(loss, reduction), "BinaryCrossEntropyWithLogitsBackward0", input,
                  target)


def _scalar_type_name(t):
    """PyTorch's ScalarType name of ``t``'s dtype (``Float``, ``Double``, ``Long``, ...)."""
    return dt.scalar_type_name(t.dtype)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """``target * (log target - input)`` with log-probabilities ``input``; ``batchmean``
    divides the sum by the batch size (the mathematically correct KL divergence)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.", stacklevel=2,
        )
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = flambeau.xlogy(target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + flambeau.where(target > 1, stirling, stirling * 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    var = var.clamp_min(eps) if not var.requires_grad else var.clamp(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _named(_reduce(softplus(-target * input), reduction), "SoftMarginLossBackward0", input,
                  target)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    pos = flambeau.where(target == 1, input, input * 0)
    neg = flambeau.where(target == -1, (margin - input).clamp_min(0), input * 0)
    return _reduce(pos + neg, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    cos = cosine_similarity(input1, input2, dim=-1, eps=1e-8)
    loss = flambeau.where(target == 1, 1 - cos, (cos - margin).clamp_min(0))
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = flambeau.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((d_pos - d_neg + margin).clamp_min(0), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(-1) / input.shape[-1]
    return _reduce(loss, reduction)



def _load_families():
    """Publish the public functions of sibling ``functional_*.py`` files (convolution, pooling,
    attention, ... written by other parts of the project) under ``nn.functional``."""
    import importlib
    import pkgutil
    import sys

    pkg = sys.modules[__name__.rpartition(".")[0]]
    g = globals()
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if info.name.startswith("functional_"):
            mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
            names = getattr(mod, "__all__", None)
            if names is None:
                names = [n for n, v in vars(mod).items() if not n.startswith("_") and callable(v)
                         and getattr(v, "__module__", None) == mod.__name__]
            for n in names:
                g.setdefault(n, getattr(mod, n))


_load_families()

__all__ = [n for n in dir() if not n.startswith("_") and n not in (
    "annotations", "math", "warnings", "flambeau", "dt", "Tensor")]
