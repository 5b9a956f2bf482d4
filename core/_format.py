"""``repr`` of tensors in PyTorch's layout: ``tensor([1., 2.], requires_grad=True)``."""
from __future__ import annotations

import math

from . import _dtype as dt


class _PrintOptions:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None


_opts = _PrintOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None):
    """Set how tensors print, as ``torch.set_printoptions``."""
    if profile == "default":
        _opts.precision, _opts.threshold, _opts.edgeitems, _opts.linewidth = 4, 1000, 3, 80
    elif profile == "short":
        _opts.precision, _opts.threshold, _opts.edgeitems, _opts.linewidth = 2, 1000, 2, 80
    elif profile == "full":
        _opts.precision, _opts.threshold, _opts.edgeitems, _opts.linewidth = 4, math.inf, 3, 80
    if precision is not None:
        _opts.precision = precision
    if threshold is not None:
        _opts.threshold = threshold
    if edgeitems is not None:
        _opts.edgeitems = edgeitems
    if linewidth is not None:
        _opts.linewidth = linewidth
    _opts.sci_mode = sci_mode


def _summarize(arr, edge):
    """Indices of the elements shown, per dim, when printing a summary."""
    import numpy as np

    if arr.ndim == 0:
        return arr.reshape(-1)
    parts = []
    if arr.shape[0] > 2 * edge:
        parts = [arr[:edge], arr[-edge:]]
    else:
        parts = [arr]
    return np.concatenate([_summarize(p[i], edge) for p in parts for i in range(p.shape[0])]) \
        if arr.ndim > 1 else np.concatenate(parts)


class _Formatter:
    def __init__(self, values, dtype):
        import numpy as np

        self.floating = dtype.is_floating_point
        self.bool = dtype is dt.bool_
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if self.bool:
            self.max_width = 5 if values.size and not values.all() else 4
            return
        if not self.floating:
            for v in values:
                self.max_width = max(self.max_width, len(str(v)))
            return
        vals = values.astype(np.float64)
        finite = vals[np.isfinite(vals)]
        nonzero = np.abs(finite[finite != 0])
        self.int_mode = bool(np.all(np.ceil(finite) == finite)) if finite.size else True
        if nonzero.size:
            mx, mn = float(nonzero.max()), float(nonzero.min())
            if self.int_mode:
                self.sci_mode = mx / mn > 1000.0 or mx > 1.0e8
            else:
                self.sci_mode = mx / mn > 1000.0 or mx > 1.0e8 or mn < 1.0e-4
        if _opts.sci_mode is not None:
            self.sci_mode = _opts.sci_mode
        # as PyTorch: only nonzero finite values set the width (0., nan and inf don't)
        for v in finite[finite != 0]:
            self.max_width = max(self.max_width, len(self._fmt(float(v))))

    def _fmt(self, v):
        p = _opts.precision
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if self.sci_mode:
            return f"{v:.{p}e}"
        if self.int_mode:
            return f"{v:.0f}."
        return f"{v:.{p}f}"

    def format(self, v):
        if self.bool:
            s = str(bool(v))
        elif self.floating:
            s = self._fmt(float(v))
        else:
            s = str(int(v))
        return " " * (self.max_width - len(s)) + s


def _tensor_str(arr, indent, fmt, summarize):
    if arr.ndim == 0:
        return fmt.format(arr.item())
    edge = _opts.edgeitems
    if arr.ndim == 1:
        items = [fmt.format(v) for v in arr.tolist()]
        if summarize and arr.shape[0] > 2 * edge:
            items = items[:edge] + [" ..."] + items[-edge:]
        per_line = max(1, (_opts.linewidth - indent) // (fmt.max_width + 2))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    n = arr.shape[0]
    idx = list(range(n))
    if summarize and n > 2 * edge:
        idx = list(range(edge)) + [None] + list(range(n - edge, n))
    rows = ["..." if i is None else _tensor_str(arr[i], indent + 1, fmt, summarize) for i in idx]
    sep = "," + "\n" * (arr.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(rows) + "]"


def format_tensor(t, prefix="tensor("):
    arr = t._backend.to_host(t._data)
    indent = len(prefix)
    summarize = arr.size > _opts.threshold
    shown = _summarize(arr, _opts.edgeitems) if summarize else arr.reshape(-1)
    fmt = _Formatter(shown, t.dtype)
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    if arr.size == 0:
        body = "[]"
        if arr.ndim != 1:
            suffixes.append(f"size={tuple(arr.shape)}")
    else:
        body = _tensor_str(arr, indent, fmt, summarize)
    if t.dtype not in (dt.get_default_dtype(), dt.int64, dt.bool_) or (
        arr.size == 0 and t.dtype is not dt.get_default_dtype()
    ):
        suffixes.append(f"dtype={t.dtype!r}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    out = prefix + body
    if suffixes:
        out += ", " + ", ".join(suffixes)
    return out + ")"
