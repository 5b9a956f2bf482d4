"""``flambeau.special``: the special functions of ``torch.special``, by their ``scipy.special``
names, as compositions of flambeau ops."""
from __future__ import annotations

import math

__all__ = [
    "digamma", "entr", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln", "i0",
    "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp", "ndtr", "ndtri", "psi", "round",
    "sinc", "softmax", "xlog1py", "xlogy",
]


def _f():
    import flambeau

    return flambeau


def expit(input):
    return input.sigmoid()


def logit(input, eps=None):
    return _f().logit(input, eps)


def erf(input):
    return input.erf()


def erfc(input):
    return input.erfc()


def erfinv(input):
    return input.erfinv()


def exp2(input):
    return input.exp2()


def expm1(input):
    return input.expm1()


def log1p(input):
    return input.log1p()


def round(input, decimals=0):  # noqa: A001
    return _f().round(input, decimals=decimals)


def gammaln(input):
    return _f().lgamma(input)


def digamma(input):
    return _f().digamma(input)


psi = digamma


def i0(input):
    return _f().i0(input)


def sinc(input):
    return _f().sinc(input)


def xlogy(input, other):
    return _f().xlogy(input, other)


def xlog1py(input, other):
    """``x * log1p(y)``, 0 where ``x == 0``."""
    f = _f()
    if not isinstance(other, f.Tensor):
        other = f.full_like(input, other)
    if not isinstance(input, f.Tensor):
        input = f.full_like(other, input)
    return f.where(input == 0, input * 0, input * other.log1p())


def entr(input):
    """``-x log x`` for ``x > 0``, 0 at 0, ``-inf`` below."""
    f = _f()
    out = f.where(input > 0, -input * f.where(input > 0, input, input * 0 + 1).log(), input * 0)
    return out.masked_fill(input < 0, -math.inf)


def ndtr(input):
    """The standard normal CDF."""
    return 0.5 * (1 + (input / math.sqrt(2)).erf())


def ndtri(input):
    """The inverse of ``ndtr``."""
    return math.sqrt(2) * (2 * input - 1).erfinv()


def log_ndtr(input):
    """``log(ndtr(x))``, computed through ``erfc`` for negative ``x``."""
    f = _f()
    neg = 0.5 * (-input / math.sqrt(2)).erfc()
    return f.where(input < 0, neg.log(), (-0.5 * (input / math.sqrt(2)).erfc()).log1p())


def logsumexp(input, dim, keepdim=False):
    return input.logsumexp(dim, keepdim)


def softmax(input, dim, *, dtype=None):
    return _f().softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    return _f().log_softmax(input, dim, dtype=dtype)
