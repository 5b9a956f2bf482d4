"""Samples for the in-place random fills (``uniform_``, ``normal_``, ``bernoulli_``, ...)."""
from __future__ import annotations

import math

from .. import _dtype as dt
from .._random import _gen_state
from .._tensor import Tensor


def draw(t, kind, args, kwargs, generator):
    b = t._backend
    gen = _gen_state(generator, b)
    shape = tuple(t.shape)
    fdt = t.dtype if t.dtype.is_floating_point else dt.float64

    def wrap(data, dtype):
        return Tensor._make(data, b, dtype, t.device)

    if kind == "uniform":
        lo, hi = _params(args, kwargs, ("from_", "to"), (0.0, 1.0), alt=("a", "b"))
        u = b.random_uniform(gen, shape, fdt)
        return wrap(b.binary("add", b.binary("mul", u, hi - lo), lo), fdt)
    if kind == "normal":
        mean, std = _params(args, kwargs, ("mean", "std"), (0.0, 1.0))
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        z = b.random_normal(gen, shape, fdt)
        return wrap(b.binary("add", b.binary("mul", z, std), mean), fdt)
    if kind == "log_normal":
        mean, std = _params(args, kwargs, ("mean", "std"), (1.0, 2.0))
        z = b.random_normal(gen, shape, fdt)
        return wrap(b.unary("exp", b.binary("add", b.binary("mul", z, std), mean)), fdt)
    if kind == "bernoulli":
        (p,) = _params(args, kwargs, ("p",), (0.5,))
        u = b.random_uniform(gen, shape, dt.float64)
        if isinstance(p, Tensor):
            pd = b.astype(p._data, dt.float64)
            return wrap(b.binary("lt", u, pd), dt.bool_)
        return wrap(b.binary("lt", u, float(p)), dt.bool_)
    if kind == "exponential":
        (lambd,) = _params(args, kwargs, ("lambd",), (1.0,))
        u = b.random_uniform(gen, shape, dt.float64)
        e = b.binary("div", b.unary("neg", b.unary("log1p", b.unary("neg", u))), float(lambd))
        return wrap(e, dt.float64)
    if kind == "geometric":
        (p,) = _params(args, kwargs, ("p",), (0.5,))
        u = b.random_uniform(gen, shape, dt.float64)
        # ceil(log(u) / log(1 - p)), as PyTorch's CPU sampler
        k = b.unary("ceil", b.binary("div", b.unary("log", u), math.log1p(-p)))
        return wrap(k, dt.float64)
    if kind == "cauchy":
        median, sigma = _params(args, kwargs, ("median", "sigma"), (0.0, 1.0))
        u = b.random_uniform(gen, shape, dt.float64)
        c = b.binary("add", b.binary("mul", b.unary("tan", b.binary("mul", b.binary("sub", u, 0.5), math.pi)), sigma), median)
        return wrap(c, dt.float64)
    if kind == "random":
        lo, hi = _params(args, kwargs, ("from", "to"), (None, None))
        if lo is not None and hi is None:
            lo, hi = 0, lo
        if lo is None:
            lo = 0
            hi = 2 ** 24 + 1 if t.dtype is dt.float32 else (2 ** 53 + 1 if t.dtype is dt.float64 else (
                2 ** 11 + 1 if t.dtype is dt.float16 else (2 if t.dtype is dt.bool_ else
                                                           dt.iinfo(t.dtype).max + 1)))
        return wrap(b.random_integers(gen, int(lo), int(hi), shape, dt.int64), dt.int64)
    raise ValueError(kind)


def _params(args, kwargs, names, defaults, alt=()):
    vals = list(defaults)
    for i, a in enumerate(args):
        vals[i] = a
    for i, n in enumerate(names):
        if n in kwargs:
            vals[i] = kwargs[n]
        elif n.rstrip("_") in kwargs:
            vals[i] = kwargs[n.rstrip("_")]
    for i, n in enumerate(alt):
        if n in kwargs:
            vals[i] = kwargs[n]
    return vals
