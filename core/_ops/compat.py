"""Smaller parts of PyTorch's Tensor and namespace API, as compositions of other ops:
comparisons as methods (``allclose``), statistics (``mode``, ``nanmedian``, ``isin``,
``histogram``, ``unique_consecutive``), views and splits (``unfold``, ``hsplit``), in-place
shape methods (``squeeze_``), fills (``fill_diagonal_``), real-only complex helpers (``conj``,
``real``) and the inert flags of features flambeau does not have (sparse, quantized, pinned).

``install`` puts each method on ``Tensor`` only where no other module defined it first.
"""
from __future__ import annotations

import math

from ._util import Tensor, dt, wrap_dim
from .reduction import values_indices

# =============================================================================
# comparisons and predicates
# =============================================================================


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    import flambeau

    return flambeau.allclose(input, other, rtol, atol, equal_nan)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    import flambeau

    return flambeau.isclose(input, other, rtol, atol, equal_nan)


def equal(input, other):
    import flambeau

    return flambeau.equal(input, other)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of ``elements`` is in ``test_elements`` (either may be a scalar)."""
    from .._creation import tensor

    ref = elements if isinstance(elements, Tensor) else test_elements
    if not isinstance(elements, Tensor):
        elements = tensor(elements, device=ref.device)
    if not isinstance(test_elements, Tensor):
        test_elements = tensor(test_elements, device=ref.device)
    test = test_elements.detach().reshape(-1)
    hit = (elements.detach().unsqueeze(-1) == test).any(-1) if test.numel() else \
        elements.detach() != elements.detach()
    return ~hit if invert else hit


def is_nonzero(input):
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.item())


def is_same_size(input, other):
    return input.shape == other.shape


def is_signed(input):
    return input.dtype is not dt.uint8 and input.dtype is not dt.bool_


def is_complex(input):
    return False


def is_conj(input):
    return False


def is_neg(input):
    return False


def is_inference(input):
    return False


# real tensors: conj is the identity, the real part is the tensor, there is no imaginary part
def conj(input):
    return input


def resolve_conj(input):
    return input


def resolve_neg(input):
    return input


def real(input):
    return input


def imag(input):
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def isreal(input):
    return input == input if input.dtype is not dt.bool_ else input | True


def adjoint(input):
    return input.mT


# =============================================================================
# statistics
# =============================================================================


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` (the smallest among equally frequent ones) and the
    index of its last occurrence."""
    from .._creation import arange
    from .elementwise import where

    if input.ndim == 0:
        return values_indices["mode"](input.clone(), input.new_zeros((), dtype=dt.int64))
    d = wrap_dim(dim, input.ndim, "mode")
    x = input.detach().movedim(d, -1)
    counts = (x.unsqueeze(-1) == x.unsqueeze(-2)).sum(-1)
    best = counts == counts.amax(-1, keepdim=True)
    big = math.inf if x.dtype.is_floating_point else dt.iinfo(x.dtype).max
    candidates = where(best, x, x.new_full((), big)) if x.dtype is not dt.bool_ else where(best, x, True)
    value = candidates.amin(-1, keepdim=True)
    pos = arange(x.shape[-1], device=x.device)
    index = where(x == value, pos, -1).amax(-1, keepdim=True)
    values = input.movedim(d, -1).gather(-1, index)
    if keepdim:
        values, index = values.movedim(-1, d), index.movedim(-1, d)
    else:
        values, index = values.squeeze(-1), index.squeeze(-1)
    return values_indices["mode"](values, index)


_nanmedian_ret = None


def nanmedian(input, dim=None, keepdim=False):
    """The lower median ignoring NaN; with ``dim``, (values, indices)."""
    global _nanmedian_ret
    from .reduction import _ret

    if _nanmedian_ret is None:
        _nanmedian_ret = _ret("nanmedian", ["values", "indices"])
    flat = dim is None
    x = input.reshape(-1) if flat else input
    d = 0 if flat else wrap_dim(dim, x.ndim, "nanmedian")
    if x.ndim == 0:
        return x.clone() if flat else _nanmedian_ret(x.clone(), x.new_zeros((), dtype=dt.int64))
    order = x.detach().argsort(d, stable=True)  # NaN sorts last
    valid = (~x.detach().isnan()).sum(d, keepdim=True)
    k = ((valid - 1).clamp(min=0)) // 2
    index = order.gather(d, k)
    values = x.gather(d, index)
    if flat:
        return values.reshape(())
    if not keepdim:
        values, index = values.squeeze(d), index.squeeze(d)
    return _nanmedian_ret(values, index)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """``quantile`` ignoring NaN (rows that are all NaN give NaN)."""
    from .._creation import tensor

    scalar_q = not isinstance(q, Tensor)
    qs = tensor([q] if scalar_q else q, dtype=input.dtype, device=input.device).reshape(-1)
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else wrap_dim(dim, x.ndim, "nanquantile")
    s = x.sort(d).values  # NaN last
    n_valid = (~x.isnan()).sum(d, keepdim=True).to(x.dtype)
    outs = []
    for qv in qs.tolist():
        pos = (n_valid - 1).clamp(min=0) * qv
        lo = pos.floor()
        hi = pos.ceil()
        if interpolation == "lower":
            hi = lo
        elif interpolation == "higher":
            lo = hi
        elif interpolation == "nearest":
            lo = hi = pos.round()
        vlo = s.gather(d, lo.to(dt.int64))
        vhi = s.gather(d, hi.to(dt.int64))
        if interpolation == "midpoint":
            v = (vlo + vhi) / 2
        else:
            v = vlo + (vhi - vlo) * (pos - lo)
        v = v.masked_fill(n_valid == 0, math.nan)
        outs.append(v if keepdim and dim is not None else v.squeeze(d))
    if scalar_q:
        out = outs[0]
        return out.reshape(()) if dim is None and not keepdim else out
    from .shape import stack

    return stack(outs, 0)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """The elements of ``input`` (flattened) with consecutive repeats collapsed."""
    from .._creation import tensor
    from .shape import cat

    if dim is not None:
        raise NotImplementedError("unique_consecutive(dim=...) is not supported yet")
    x = input.reshape(-1)
    if x.numel() == 0:
        empty = x.new_zeros(0, dtype=dt.int64)
        out = [x.clone()]
    else:
        change = cat([tensor([True], device=x.device), x[1:] != x[:-1]])
        out = [x[change]]
        group = change.to(dt.int64).cumsum(0) - 1
        if return_inverse:
            out.append(group.reshape(input.shape))
        if return_counts:
            starts = change.nonzero().reshape(-1)
            ends = cat([starts[1:], tensor([x.numel()], device=x.device)])
            out.append(ends - starts)
        return out[0] if len(out) == 1 else tuple(out)
    if return_inverse:
        out.append(empty.reshape(input.shape))
    if return_counts:
        out.append(empty)
    return out[0] if len(out) == 1 else tuple(out)


_histogram_ret = None


def histogram(input, bins=100, *, range=None, weight=None, density=False, out=None):  # noqa: A002
    """``(hist, bin_edges)``: counts (or summed ``weight``) in ``bins`` equal bins over
    ``range`` (the data's min and max by default), or between the given ``bins`` edges."""
    global _histogram_ret
    from .._creation import linspace, zeros
    from .indexing import index_add
    from .reduction import _ret

    if _histogram_ret is None:
        _histogram_ret = _ret("histogram", ["hist", "bin_edges"])
    x = input.detach().reshape(-1)
    if isinstance(bins, Tensor):
        edges = bins.detach().to(x.dtype)
    else:
        if range is not None:
            lo, hi = float(range[0]), float(range[1])
        elif x.numel():
            lo, hi = float(x.min()), float(x.max())
        else:
            lo, hi = 0.0, 1.0
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = linspace(lo, hi, int(bins) + 1, dtype=x.dtype, device=x.device)
    nb = edges.shape[0] - 1
    keep = (x >= edges[0]) & (x <= edges[-1])
    xs = x[keep]
    # bin i holds edges[i] <= x < edges[i+1]; the last bin also holds its right edge
    idx = ((xs.unsqueeze(-1) >= edges[1:]).sum(-1)).clamp(max=nb - 1)
    w = xs.new_ones(xs.shape) if weight is None else weight.detach().reshape(-1)[keep].to(x.dtype)
    hist = index_add(zeros(nb, dtype=x.dtype, device=x.device), 0, idx, w)
    if density:
        hist = hist / (hist.sum() * (edges[1:] - edges[:-1]))
    return _histogram_ret(hist, edges)


# =============================================================================
# shapes, views and splits
# =============================================================================


def unfold(input, dimension, size, step):
    """Sliding windows of ``size`` with ``step`` along ``dimension``, as a new last dim."""
    from .._creation import arange

    d = wrap_dim(dimension, max(input.ndim, 1), "unfold")
    if input.ndim == 0:
        return input.reshape(1)
    n = input.shape[d]
    if size > n:
        raise RuntimeError(
            f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    count = (n - size) // step + 1
    idx = (arange(count, device=input.device).unsqueeze(1) * step
           + arange(size, device=input.device).unsqueeze(0))  # (count, size)
    x = input.movedim(d, -1)
    windows = x[..., idx]  # (..., count, size)
    return windows.movedim(-2, d)


def _split_sections(input, sections, dim, name):
    from .shape import tensor_split

    if isinstance(sections, int) and input.shape[dim] % sections:
        raise RuntimeError(
            f"torch.{name} attempted to split along dimension {dim}, but the size of the "
            f"dimension {input.shape[dim]} is not divisible by the split_size {sections}!")
    return tensor_split(input, sections, dim)


def hsplit(input, indices_or_sections):
    return _split_sections(input, indices_or_sections, 1 if input.ndim > 1 else 0, "hsplit")


def vsplit(input, indices_or_sections):
    if input.ndim < 2:
        raise RuntimeError(
            f"torch.vsplit requires a tensor with at least 2 dimension, but got a tensor with "
            f"{input.ndim} dimensions!")
    return _split_sections(input, indices_or_sections, 0, "vsplit")


def dsplit(input, indices_or_sections):
    if input.ndim < 3:
        raise RuntimeError(
            f"torch.dsplit requires a tensor with at least 3 dimension, but got a tensor with "
            f"{input.ndim} dimensions!")
    return _split_sections(input, indices_or_sections, 2, "dsplit")


def split_with_sizes(input, split_sizes, dim=0):
    return input.split(list(split_sizes), dim)


def as_strided(input, size, stride, storage_offset=None):
    """The elements at ``storage_offset + sum(i_k * stride[k])`` of ``input``'s elements in
    memory order, shaped ``size``. A gathered copy (differentiable), not a view: writes to it do
    not reach ``input``."""
    from .._creation import arange

    flat = input.contiguous().reshape(-1)
    base = input.storage_offset() if storage_offset is None and input._base is not None else 0
    offset = base if storage_offset is None else storage_offset
    index = arange(1, device=input.device) * 0 + offset
    for n, st in zip(size, stride):
        index = index.unsqueeze(-1) + arange(n, device=input.device) * st
    index = index.reshape(tuple(size))
    if index.numel() and int(index.max()) >= flat.numel():
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset} "
            f"are out of bounds for storage of {flat.numel()} elements")
    return flat[index]


def diagflat(input, offset=0):
    """A 2-D matrix with the flattened ``input`` on its ``offset`` diagonal."""
    return input.reshape(-1).diag_embed(offset)


def narrow_copy(input, dim, start, length):
    return input.narrow(dim, start, length).clone()


def _set_data(self, data):
    """Replace ``self``'s array by ``data`` (a native array) in place of its metadata."""
    self._data = data
    self._vc[0] += 1
    return self


def squeeze_(self, dim=None):
    self._check_inplace_allowed() if self._requires_grad else None
    return _set_data(self, (self.squeeze() if dim is None else self.squeeze(dim)).detach()._data)


def unsqueeze_(self, dim):
    return _set_data(self, self.unsqueeze(dim).detach()._data)


def swapaxes_(self, axis0, axis1):
    return _set_data(self, self.transpose(axis0, axis1).detach()._data)


def resize_(self, *sizes, memory_format=None):
    """Give ``self`` the shape ``sizes``, keeping its leading elements (new ones are zeros)."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    n = 1
    for s in sizes:
        n *= s
    b = self._backend
    flat = b.reshape(b.ascontiguous(self._data), (-1,))
    have = flat.shape[0]
    if n <= have:
        data = b.copy(b.reshape(b.getitem(flat, (slice(0, n),)), tuple(sizes)))
    else:
        pad = b.full((n - have,), 0, self.dtype)
        data = b.reshape(b.concatenate([flat, pad], 0), tuple(sizes))
    return _set_data(self, data)


def resize_as_(self, other, memory_format=None):
    return resize_(self, tuple(other.shape))


def fill_diagonal_(self, fill_value, wrap=False):
    """Fill the main diagonal of a 2-D (or all-equal-dims) tensor in place; ``wrap`` restarts
    it below a tall matrix's square part, as NumPy's ``fill_diagonal``."""
    from .._creation import arange

    if self.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    n = min(self.shape)
    if self.ndim == 2 and wrap and self.shape[0] > self.shape[1]:
        rows = arange(self.shape[0], device=self.device)
        rows = rows[rows % (self.shape[1] + 1) != self.shape[1]]
        cols = rows % (self.shape[1] + 1)
        index = (rows, cols)
    else:
        i = arange(n, device=self.device)
        index = (i,) * self.ndim
    self[index] = fill_value
    return self


def apply_(self, callable_):
    """Replace each element by ``callable_(element)`` (a Python function; CPU semantics, slow)."""
    from .._creation import tensor

    if self._requires_grad:
        raise TypeError("apply_ is only implemented on CPU tensors that do not require grad")
    values = [callable_(v) for v in self.reshape(-1).tolist()]
    new = tensor(values, dtype=self.dtype, device=self.device).reshape(self.shape)
    self._backend.setitem(self._data, (Ellipsis,), new._data)
    self._vc[0] += 1
    return self


def map_(self, tensor_, callable_):
    """``self[i] = callable_(self[i], tensor_[i])`` elementwise (``tensor_`` broadcasts)."""
    from .._creation import tensor

    other = tensor_.expand(self.shape).reshape(-1).tolist()
    values = [callable_(a, b) for a, b in zip(self.reshape(-1).tolist(), other)]
    new = tensor(values, dtype=self.dtype, device=self.device).reshape(self.shape)
    self._backend.setitem(self._data, (Ellipsis,), new._data)
    self._vc[0] += 1
    return self


def put_(self, index, source, accumulate=False):
    """Write ``source`` at the flat positions ``index`` of ``self`` (summing with
    ``accumulate``)."""
    flat = self.view(-1) if self.is_contiguous() else None
    if flat is None:
        raise RuntimeError("put_: the tensor must be contiguous")
    idx = index.reshape(-1) % max(self.numel(), 1)
    flat.index_put_((idx,), source.reshape(-1), accumulate=accumulate)
    return self


def put(input, index, source, accumulate=False):
    return put_(input.clone(), index, source, accumulate)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)``."""
    prod = vec1.unsqueeze(1) * vec2.unsqueeze(0)
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        return prod + input * 0
    return (input if beta == 1 else input * beta) + prod


def sinc(input):
    """``sin(pi x) / (pi x)``, 1 at 0."""
    from .elementwise import where

    x = input if input.dtype.is_floating_point else input.to(dt.get_default_dtype())
    px = x * math.pi
    safe = where(x == 0, px.new_ones(()), px)
    return where(x == 0, px.new_ones(()), safe.sin() / safe)


def logaddexp2(input, other):
    """``log2(2^x + 2^y)``, computed stably."""
    from .elementwise import maximum

    m = maximum(input, other)
    return m + ((input - m).exp2() + (other - m).exp2()).log2()


def ldexp(input, other):
    """``input * 2^other``."""
    x = input if input.dtype.is_floating_point else input.to(dt.get_default_dtype())
    return x * (2.0 ** other.to(x.dtype) if isinstance(other, Tensor) else 2.0 ** other)


def _gcd_loop(a, b):
    from .elementwise import where

    a, b = a.abs(), b.abs()
    while bool((b != 0).any()):
        nz = b != 0
        r = where(nz, a % where(nz, b, b.new_ones(())), b * 0)
        a, b = where(nz, b, a), r
    return a


def gcd(input, other):
    """The greatest common divisor, elementwise (integers)."""
    return _gcd_loop(*_int_pair(input, other, "gcd"))


def lcm(input, other):
    a, b = _int_pair(input, other, "lcm")
    g = _gcd_loop(a, b)
    from .elementwise import where

    return where(g == 0, g, (a // where(g == 0, g.new_ones(()), g) * b).abs())


def _int_pair(a, b, name):
    from .shape import broadcast_tensors

    if a.dtype.is_floating_point or (isinstance(b, Tensor) and b.dtype.is_floating_point):
        raise RuntimeError(f'"{name}_cpu" not implemented for \'Float\'')
    if not isinstance(b, Tensor):
        b = a.new_full((), b)
    return broadcast_tensors(a, b)


def frexp(input):
    """``(mantissa, exponent)`` with ``input = mantissa * 2^exponent``, ``|mantissa|`` in
    [0.5, 1)."""
    from .elementwise import where
    from .reduction import _ret

    a = input.abs()
    e = (a.log2().floor() + 1)
    e = e.masked_fill((a == 0) | ~e.isfinite(), 0)
    m = input / (2.0 ** e)
    # correct rounding at powers of two
    fix = m.abs() >= 1
    m = where(fix, m / 2, m)
    e = where(fix, e + 1, e)
    return _ret("frexp", ["mantissa", "exponent"])(m, e.to(dt.int32))


_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7)


def lgamma(input):
    """``log|Gamma(x)|``: the Lanczos approximation (g = 7), with the reflection formula below
    1/2; ``inf`` at the poles. A composition, so differentiable (its derivative is digamma's
    approximation)."""
    from .elementwise import where

    x = input if input.dtype.is_floating_point else input.to(dt.get_default_dtype())
    w = x.to(dt.float64)
    small = w < 0.5
    z = where(small, 1 - w, w) - 1
    a = z * 0 + _LANCZOS[0]
    for i, c in enumerate(_LANCZOS[1:], 1):
        a = a + c / (z + i)
    t = z + 7.5
    big = 0.5 * math.log(2 * math.pi) + (z + 0.5) * t.log() - t + a.log()
    sin = (w * math.pi).sin().abs()
    pole = small & (w == w.floor())
    reflected = math.log(math.pi) - where(pole, sin * 0 + 1, sin).log() - big
    out = where(small, reflected, big)
    out = out.masked_fill(pole, math.inf)
    return out.to(x.dtype)


def digamma(input):
    """``d/dx log Gamma(x)``: the recurrence up to x >= 6, then the asymptotic series; the
    reflection formula for x < 0.5; ``-inf`` at 0 and NaN at the negative integers, as
    PyTorch."""
    from .elementwise import where

    x = input if input.dtype.is_floating_point else input.to(dt.get_default_dtype())
    w = x.to(dt.float64)
    small = w < 0.5
    v = where(small, 1 - w, w)
    acc = v * 0
    for _ in range(6):
        low = v < 6
        acc = acc - where(low, 1 / v, v * 0)
        v = where(low, v + 1, v)
    inv2 = 1 / (v * v)
    series = v.log() - 0.5 / v - inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (
        1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132)))))
    psi = series + acc
    pole = small & (w == w.floor())
    tan = (w * math.pi).tan()
    reflected = psi - math.pi / where(pole, tan * 0 + 1, tan)
    out = where(small, reflected, psi)
    out = out.masked_fill(pole, math.nan).masked_fill(w == 0, -math.inf)
    return out.to(x.dtype)


def float_power(input, exponent):
    x = input.to(dt.float64)
    y = exponent.to(dt.float64) if isinstance(exponent, Tensor) else float(exponent)
    return x ** y


def bernoulli(input, p=None, *, generator=None):
    from .._random import bernoulli as _bernoulli

    if p is not None:
        return input.new_empty(input.shape).bernoulli_(p, generator=generator)
    return _bernoulli(input, generator=generator)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    from .._random import multinomial as _multinomial

    return _multinomial(input, num_samples, replacement, generator=generator)


def new(self, *args, **kwargs):
    """Legacy ``Tensor.new``: ``new(sizes)`` is uninitialised, ``new(data)`` copies data; both
    keep ``self``'s dtype and device."""
    from .._creation import empty, tensor

    if len(args) == 1 and not isinstance(args[0], int):
        if isinstance(args[0], Tensor):
            return args[0].to(self.dtype)
        return tensor(args[0], dtype=self.dtype, device=self.device)
    return empty(*args, dtype=self.dtype, device=self.device)


# inert flags: flambeau tensors are dense, strided, unquantized, unpinned
def _false(self, *args, **kwargs):
    return False


def _self(self, *args, **kwargs):
    return self


def storage_offset(self):
    base = self._base
    if base is None:
        return 0
    iface = getattr(self._data, "__array_interface__", None)
    biface = getattr(base._data, "__array_interface__", None)
    if iface is None or biface is None:
        return 0
    return (iface["data"][0] - biface["data"][0]) // self.dtype.itemsize


def output_nr(self):
    return self._output_nr


NAMESPACE = [
    "isin", "is_nonzero", "is_same_size", "is_signed", "is_complex", "is_conj", "is_neg",
    "is_inference", "conj", "conj_physical", "resolve_conj", "resolve_neg", "real", "imag",
    "isreal", "adjoint", "mode", "nanmedian", "nanquantile", "unique_consecutive",
    "histogram", "hsplit", "vsplit", "dsplit", "split_with_sizes", "diagflat", "narrow_copy",
    "fill_diagonal_", "put", "addr", "sinc", "logaddexp2", "ldexp", "gcd", "lcm", "frexp",
    "as_strided", "lgamma", "digamma",
]
conj_physical = conj

_METHODS = {
    "allclose": allclose, "isclose": isclose, "equal": equal, "isin": None,
    "is_nonzero": is_nonzero, "is_same_size": is_same_size, "is_signed": is_signed,
    "is_conj": is_conj, "is_neg": is_neg, "is_inference": is_inference, "conj": conj,
    "conj_physical": conj, "resolve_conj": resolve_conj, "resolve_neg": resolve_neg,
    "isreal": isreal, "mode": mode, "nanmedian": nanmedian, "nanquantile": nanquantile,
    "unique_consecutive": unique_consecutive, "histogram": histogram, "unfold": unfold,
    "hsplit": hsplit, "vsplit": vsplit, "dsplit": dsplit, "split_with_sizes": split_with_sizes,
    "diagflat": diagflat, "narrow_copy": narrow_copy, "squeeze_": squeeze_,
    "unsqueeze_": unsqueeze_, "swapaxes_": swapaxes_, "swapdims_": swapaxes_,
    "resize_": resize_, "resize_as_": resize_as_, "fill_diagonal_": fill_diagonal_,
    "apply_": apply_, "map_": map_, "put_": put_, "put": put, "addr": addr, "sinc": sinc,
    "logaddexp2": logaddexp2, "ldexp": ldexp, "gcd": gcd, "lcm": lcm, "frexp": frexp,
    "bernoulli": bernoulli, "multinomial": multinomial, "new": new,
    "float_power": float_power, "storage_offset": storage_offset, "output_nr": property(output_nr),
    "is_pinned": _false, "is_shared": _false, "pin_memory": _self, "share_memory_": _self,
    "is_sparse": property(_false), "is_quantized": property(_false), "is_meta": property(_false),
    "is_mps": property(_false), "is_xpu": property(_false), "is_sparse_csr": property(_false),
    "is_mkldnn": property(_false), "is_nested": property(_false), "coalesce": _self,
    "to_dense": _self, "adjoint": adjoint, "as_strided": as_strided, "lgamma": lgamma,
    "digamma": digamma,
}
_INPLACE_OF = {"lgamma_": lgamma, "digamma_": digamma, "sinc_": sinc, "gcd_": gcd, "lcm_": lcm, "ldexp_": ldexp,
               "logaddexp2_": None, "float_power_": float_power}


def install():
    for name, fn in _METHODS.items():
        if fn is None:
            fn = globals()[name]
        if name not in Tensor.__dict__:
            setattr(Tensor, name, fn)
    for name, fn in _INPLACE_OF.items():
        if fn is None or name in Tensor.__dict__:
            continue
        setattr(Tensor, name, _inplace(fn, name))
    # in-place comparison aliases (greater_ is gt_, ...)
    for alias, target in (("greater_", "gt_"), ("greater_equal_", "ge_"), ("less_", "lt_"),
                          ("less_equal_", "le_"), ("not_equal_", "ne_"), ("arccos_", "acos_"),
                          ("arcsin_", "asin_"), ("arctan_", "atan_"), ("arccosh_", "acosh_"),
                          ("arcsinh_", "asinh_"), ("arctanh_", "atanh_"),
                          ("bitwise_left_shift_", None), ("bitwise_right_shift_", None)):
        if alias in Tensor.__dict__:
            continue
        if target is not None and target in Tensor.__dict__:
            setattr(Tensor, alias, Tensor.__dict__[target])
    for name in ("addmm", "addmv", "addbmm", "baddbmm", "addr"):
        if name + "_" not in Tensor.__dict__ and hasattr(Tensor, name):
            setattr(Tensor, name + "_", _inplace(getattr(Tensor, name), name + "_"))


def _inplace(fn, name):
    from ._util import inplace

    def method(self, *args, **kwargs):
        return inplace(self, lambda s: fn(s, *args, **kwargs), name)

    method.__name__ = name
    return method
