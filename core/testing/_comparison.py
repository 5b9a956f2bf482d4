"""``assert_close``, ``assert_allclose`` and ``make_tensor``, as in ``torch.testing``.

Values are compared on the host (NumPy, imported when a comparison runs), in the inputs' own
dtype, so the reported differences are the ones PyTorch reports.

>>> import flambeau
>>> from flambeau.testing import assert_close
>>> assert_close(flambeau.tensor([1.0, 2.0]), flambeau.tensor([1.0, 2.0 + 1e-7]))
"""
from __future__ import annotations

import collections.abc
import math

from .. import _dtype as dt

__all__ = ["assert_close", "assert_allclose", "make_tensor"]

#: default ``(rtol, atol)`` per dtype, as ``torch.testing.assert_close``
_DEFAULT_TOLERANCES = {
    dt.float16: (1e-3, 1e-5),
    dt.float32: (1.3e-6, 1e-5),
    dt.float64: (1e-7, 1e-7),
}
for _name in ("bfloat16",):
    if hasattr(dt, _name):
        _DEFAULT_TOLERANCES[getattr(dt, _name)] = (1.6e-2, 1e-5)

#: the legacy ``assert_allclose`` defaults
_LEGACY_TOLERANCES = {dt.float16: (1e-3, 1e-3), dt.float32: (1e-4, 1e-5), dt.float64: (1e-5, 1e-8)}


class _UnsupportedInputs(Exception):
    pass


def _tolerances(*dtypes, table=_DEFAULT_TOLERANCES):
    rtols, atols = zip(*[table.get(d, (0.0, 0.0)) for d in dtypes])
    return max(rtols), max(atols)


def _is_tensor_like(x):
    from .._tensor import Tensor

    if isinstance(x, Tensor):
        return True
    return type(x).__module__ == "numpy" and type(x).__name__ == "ndarray"


def _as_tensor(x):
    from .._tensor import Tensor

    if isinstance(x, Tensor):
        return x
    from .._creation import from_numpy

    return from_numpy(x)


def _fail(msg, custom):
    if custom is not None:
        msg = custom(msg) if callable(custom) else custom
    raise AssertionError(msg)


def _diff_line(kind, diff, idx, tol, equality):
    line = f"{kind.title()} difference: {diff}" if idx is None else \
        f"Greatest {kind} difference: {diff} at index {idx}"
    return line + ("" if equality else f" (up to {tol} allowed)")


def _mismatch_msg(identifier, extra, abs_diff, abs_idx, atol, rel_diff, rel_idx, rtol):
    equality = rtol == 0 and atol == 0
    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n{extra.strip()}\n"
    msg += _diff_line("absolute", abs_diff, abs_idx, atol, equality) + "\n"
    msg += _diff_line("relative", rel_diff, rel_idx, rtol, equality)
    return msg.strip()


def _compare_tensors(actual, expected, rtol, atol, equal_nan, check_device, check_dtype,
                     check_stride, custom_msg, table):
    import numpy

    actual = _as_tensor(actual)
    expected = _as_tensor(expected)
    if actual.shape != expected.shape:
        _fail(f"The values for attribute 'shape' do not match: {actual.shape} != {expected.shape}.",
              custom_msg)
    if check_device and actual.device != expected.device:
        _fail(f"The values for attribute 'device' do not match: {actual.device} != "
              f"{expected.device}.", custom_msg)
    if check_dtype and actual.dtype is not expected.dtype:
        _fail(f"The values for attribute 'dtype' do not match: {actual.dtype} != {expected.dtype}.",
              custom_msg)
    if check_stride and actual.stride() != expected.stride():
        _fail(f"The values for attribute 'stride()' do not match: {actual.stride()} != "
              f"{expected.stride()}.", custom_msg)
    if rtol is None:
        rtol, atol = _tolerances(actual.dtype, expected.dtype, table=table)
    common = dt.promote_types(actual.dtype, expected.dtype)
    a = actual.detach().cpu().numpy()
    e = expected.detach().cpu().numpy()
    native = numpy.dtype("bool" if common is dt.bool_ else common.name)
    a = a.astype(native, copy=False)
    e = e.astype(native, copy=False)
    with numpy.errstate(all="ignore"):
        if common.is_floating_point:
            matches = (a == e) | (numpy.abs(a - e) <= atol + rtol * numpy.abs(e))
            matches &= numpy.isfinite(a) & numpy.isfinite(e) | (a == e)
            if equal_nan:
                matches |= numpy.isnan(a) & numpy.isnan(e)
        elif common is dt.bool_:
            matches = a == e
        else:
            a64 = a.astype(numpy.int64)
            e64 = e.astype(numpy.int64)
            matches = numpy.abs(a64 - e64) <= atol + rtol * numpy.abs(e64)
        if bool(numpy.all(matches)):
            return
        if a.shape == ():  # a 0-dim tensor is reported as a scalar, as PyTorch does
            av, ev = a.item(), e.item()
            diff = abs(av - ev)
            rel = float("inf") if ev == 0 else diff / abs(ev)
            _fail(_mismatch_msg("Scalars", f"Expected {ev} but got {av}.", diff, None, atol,
                                rel, None, rtol), custom_msg)
        total = matches.size
        mismatches = total - int(matches.sum())
        extra = f"Mismatched elements: {mismatches} / {total} ({mismatches / total:.1%})"
        af = a.reshape(-1)
        ef = e.reshape(-1)
        if not common.is_floating_point:
            af = af.astype(numpy.int64)
            ef = ef.astype(numpy.int64)
        abs_diff = numpy.abs(af - ef)
        flat_matches = matches.reshape(-1)
        abs_diff[flat_matches] = 0
        abs_i = int(numpy.argmax(numpy.where(numpy.isnan(abs_diff), numpy.inf, abs_diff)))
        rel_diff = abs_diff / numpy.abs(ef)
        if not common.is_floating_point:
            rel_diff = rel_diff.astype(numpy.float32)  # PyTorch divides int64 into the default float
        rel_diff[flat_matches] = 0
        rel_i = int(numpy.argmax(numpy.where(numpy.isnan(rel_diff), numpy.inf, rel_diff)))
    shape = tuple(a.shape)
    _fail(_mismatch_msg("Tensor-likes", extra, abs_diff[abs_i].item(), _unravel(abs_i, shape),
                        atol, float(rel_diff[rel_i]), _unravel(rel_i, shape), rtol), custom_msg)


def _unravel(flat, shape):
    idx = []
    for size in reversed(shape):
        idx.append(flat % size)
        flat //= size
    return tuple(reversed(idx))


def _compare_numbers(actual, expected, rtol, atol, equal_nan, custom_msg):
    if isinstance(actual, bool) and isinstance(expected, bool):
        if actual is not expected:
            _fail(f"Booleans mismatch: {actual} is not {expected}", custom_msg)
        return
    if rtol is None:
        floats = isinstance(actual, float) or isinstance(expected, float)
        rtol, atol = (1e-7, 1e-7) if floats else (0, 0)
    if actual == expected:
        return
    if equal_nan and isinstance(actual, float) and isinstance(expected, float) \
            and math.isnan(actual) and math.isnan(expected):
        return
    abs_diff = abs(actual - expected)
    if math.isfinite(abs_diff) and abs_diff <= atol + rtol * abs(expected):
        return
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    _fail(_mismatch_msg("Scalars", f"Expected {expected} but got {actual}.", abs_diff, None, atol,
                        rel_diff, None, rtol), custom_msg)


def _compare(actual, expected, path, **kw):
    from .._tensor import Tensor

    try:
        if _is_tensor_like(actual) and _is_tensor_like(expected):
            return _compare_tensors(actual, expected, kw["rtol"], kw["atol"], kw["equal_nan"],
                                    kw["check_device"], kw["check_dtype"], kw["check_stride"],
                                    kw["msg"], kw["table"])
        numbers = (int, float)
        if isinstance(actual, numbers) and isinstance(expected, numbers) \
                and not isinstance(actual, Tensor):
            return _compare_numbers(actual, expected, kw["rtol"], kw["atol"], kw["equal_nan"],
                                    kw["msg"])
        if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
            if set(actual) != set(expected):
                missing = sorted(map(repr, set(expected) - set(actual)))
                extra = sorted(map(repr, set(actual) - set(expected)))
                raise AssertionError(
                    "The keys of the mappings do not match:\n"
                    + (f"Missing keys in the actual mapping: {', '.join(missing)}\n" if missing else "")
                    + (f"Extra keys in the actual mapping: {', '.join(extra)}\n" if extra else "")
                )
            for k in expected:
                _compare(actual[k], expected[k], path + [repr(k)], **kw)
            return
        seq = collections.abc.Sequence
        if isinstance(actual, seq) and isinstance(expected, seq) \
                and not isinstance(actual, str) and not isinstance(expected, str):
            if len(actual) != len(expected):
                raise AssertionError(
                    f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
            for i, (x, y) in enumerate(zip(actual, expected)):
                _compare(x, y, path + [str(i)], **kw)
            return
        if actual is None and expected is None:
            return
    except AssertionError as exc:
        if path and not getattr(exc, "_flambeau_located", False):
            located = AssertionError(
                f"{exc}\n\nThe failure occurred for item {''.join(f'[{p}]' for p in path)}")
            located._flambeau_located = True
            raise located from None
        raise
    raise TypeError(
        f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}."
    )


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Assert that ``actual`` and ``expected`` are close, as ``torch.testing.assert_close``.

    Tensors (and NumPy arrays) must match in shape, device and dtype (``check_dtype=False``
    compares in the promoted dtype) and satisfy ``|actual - expected| <= atol + rtol *
    |expected|`` elementwise. Without ``rtol``/``atol`` the defaults of the dtype apply (float32:
    ``rtol=1.3e-6, atol=1e-5``; float64: ``1e-7, 1e-7``; float16: ``1e-3, 1e-5``; integers and
    bool: exact). Python numbers, sequences and mappings of them are compared item by item.
    ``msg`` (a string, or a callable taking the generated message) replaces the message.

    >>> assert_close(flambeau.tensor([1.0, 2.0]), flambeau.tensor([1.0, 2.5]))  # doctest: +SKIP
    AssertionError: Tensor-likes are not close!
    <BLANKLINE>
    Mismatched elements: 1 / 2 (50.0%)
    Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)
    Greatest relative difference: 0.20000000298023224 at index (1,) (up to 1.3e-06 allowed)
    """
    if (rtol is None) != (atol is None):
        raise ValueError(
            f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
            f"{'rtol' if rtol is None else 'atol'}."
        )
    _compare(actual, expected, [], rtol=rtol, atol=atol, equal_nan=equal_nan,
             check_device=check_device, check_dtype=check_dtype, check_stride=check_stride,
             msg=msg, table=_DEFAULT_TOLERANCES)


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """The deprecated ``torch.testing.assert_allclose``: ``expected`` may be any tensor-like
    input (converted to ``actual``'s dtype); legacy tolerances (float32: ``1e-4, 1e-5``)."""
    import warnings

    from .._creation import as_tensor
    from .._tensor import Tensor

    warnings.warn(
        "`flambeau.testing.assert_allclose()` is deprecated (as in PyTorch). Please use "
        "`flambeau.testing.assert_close()` instead.", FutureWarning, stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = as_tensor(actual)
    if not isinstance(expected, Tensor):
        expected = as_tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = _tolerances(actual.dtype, expected.dtype, table=_LEGACY_TOLERANCES)
    _compare(actual, expected, [], rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True,
             check_dtype=False, check_stride=False, msg=msg or None, table=_LEGACY_TOLERANCES)


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad=False,
                noncontiguous=False, exclude_zero=False, memory_format=None):
    """A tensor of ``shape`` with random values, as ``torch.testing.make_tensor``.

    Floats are uniform in ``[low, high)`` (default ``[-9, 9)``), integers in ``[low, high)``
    (default ``[-9, 10)``, ``[0, 10)`` for uint8), bools 0 or 1. ``exclude_zero`` replaces
    zeros by the smallest positive value (1 for integers).

    >>> make_tensor((2, 3), dtype=flambeau.float32, low=-1, high=1).shape
    flambeau.Size([2, 3])
    """
    from .._creation import empty
    from .._random import randint

    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)

    def bounds(lowest, highest, default_low, default_high):
        lo = default_low if low is None else low
        hi = default_high if high is None else high
        if any(isinstance(v, float) and math.isnan(v) for v in (lo, hi)):
            raise ValueError(f"`low` and `high` cannot be NaN, but got low={lo} and high={hi}")
        if lo > hi or (lo == hi and not dtype.is_floating_point):
            raise ValueError(f"`low` must be less than `high`, but got {lo} >= {hi}")
        lo = min(max(lo, lowest), highest)
        hi = min(max(hi, lowest), highest)
        if not dtype.is_floating_point:
            return math.ceil(lo), math.ceil(hi)
        return lo, hi

    if dtype is dt.bool_:
        result = randint(0, 2, shape, device=device, dtype=dtype)
    elif not dtype.is_floating_point:
        info = dt.iinfo(dtype)
        lo, hi = bounds(info.min, info.max, 0 if dtype is dt.uint8 else -9, 10)
        result = randint(lo, hi, shape, device=device, dtype=dtype)
    else:
        info = dt.finfo(dtype)
        lo, hi = bounds(info.min, info.max, -9, 9)
        result = empty(shape, device=device, dtype=dtype)
        if hi - lo >= info.max:
            result.uniform_(lo / 2, hi / 2).mul_(2)
        else:
            result.uniform_(lo, hi)
    if noncontiguous and result.numel() > 1:
        from .._ops.shape import cat

        result = cat([result.unsqueeze(-1)] * 2, -1)[..., 0]
    if exclude_zero:
        repl = 1 if not dtype.is_floating_point else dt.finfo(dtype).tiny
        result[result == 0] = repl
    if requires_grad:
        result.requires_grad_(True)
    return result
