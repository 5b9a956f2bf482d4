"""Random numbers: ``Generator``, ``manual_seed`` and the sampling factories.

Each device type has a default generator; a ``Generator`` holds a backend-native state created
on first use, so seeding never imports a backend library.
"""
from __future__ import annotations

import os

from . import _dtype as dt
from ._creation import _backend_for, _finish, _size, _size_kw
from ._device import device as _device
from ._tensor import Tensor
from .autograd.grad_mode import no_grad

_DEFAULT_SEED = 67280421310721


class Generator:
    """A source of random numbers for one device, as ``torch.Generator``.

    >>> g = flambeau.Generator().manual_seed(0)
    >>> a = flambeau.rand(3, generator=g)
    """

    def __init__(self, device="cpu"):
        self.device = _device(device)
        self._seed = _DEFAULT_SEED
        self._state = None
        self._backend = None

    def manual_seed(self, seed):
        seed = int(seed)
        if seed < 0:
            seed = seed + 2 ** 64
        self._seed = seed
        self._state = None
        return self

    def seed(self):
        s = int.from_bytes(os.urandom(8), "little") >> 1
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def _native(self, backend):
        if self._state is None or self._backend is not backend:
            self._backend = backend
            self._state = backend.generator(self._seed)
        return self._state

    def get_state(self):
        """The state as a uint8 CPU tensor (restore it with ``set_state``)."""
        backend = _backend_for(self.device)
        host = backend.generator_get_state(self._native(backend))
        from ._creation import from_numpy

        return from_numpy(host.copy())

    def set_state(self, new_state):
        backend = _backend_for(self.device)
        backend.generator_set_state(self._native(backend), new_state.numpy())
        return self

    def __repr__(self):
        return f"<flambeau.Generator device={self.device}>"


_defaults: dict = {}
_global_seed = [None]


def _default_generator(device_type):
    g = _defaults.get(device_type)
    if g is None:
        g = _defaults[device_type] = Generator(device_type)
        if _global_seed[0] is not None:
            g.manual_seed(_global_seed[0])
    return g


default_generator = _default_generator("cpu")


def manual_seed(seed):
    """Seed the default generators of every device; returns the CPU generator."""
    _global_seed[0] = int(seed)
    for g in _defaults.values():
        g.manual_seed(seed)
    return default_generator


def seed():
    s = default_generator.seed()
    manual_seed(s)
    return s


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


def _gen_state(generator, backend):
    if generator is None:
        generator = _default_generator(backend.device.type)
    elif generator.device.type != backend.device.type:
        raise RuntimeError(
            f"Expected a '{backend.device.type}' device type for generator but found "
            f"'{generator.device.type}'"
        )
    return generator._native(backend)


def _float_dtype(dtype, op):
    dtype = dtype or dt.get_default_dtype()
    if not dtype.is_floating_point:
        raise RuntimeError(f"{op}(): expected a floating point dtype, got {dtype}")
    return dtype


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False, **kw):
    """Uniform samples from [0, 1)."""
    size = _size(_size_kw(size, kw, "rand"), "rand")
    dtype = _float_dtype(dtype, "rand")
    backend = _backend_for(device)
    data = backend.random_uniform(_gen_state(generator, backend), size, dtype)
    return _finish(data, backend, dtype, requires_grad)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
           pin_memory=False, **kw):
    """Samples from the standard normal distribution."""
    size = _size(_size_kw(size, kw, "randn"), "randn")
    dtype = _float_dtype(dtype, "randn")
    backend = _backend_for(device)
    data = backend.random_normal(_gen_state(generator, backend), size, dtype)
    return _finish(data, backend, dtype, requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad=False):
    """Integers drawn uniformly from [low, high). ``randint(high, size)`` also works."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    size = _size((size,), "randint")
    dtype = dtype or dt.int64
    backend = _backend_for(device)
    data = backend.random_integers(_gen_state(generator, backend), int(low), int(high), size, dtype)
    return _finish(data, backend, dtype, requires_grad)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    """A random permutation of ``0..n-1``."""
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    backend = _backend_for(device)
    data = backend.random_permutation(_gen_state(generator, backend), int(n))
    dtype = dtype or dt.int64
    if dtype is not dt.int64:
        data = backend.astype(data, dtype)
    return _finish(data, backend, dtype, requires_grad)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype, device=device or input.device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, requires_grad=False):
    """Normal samples; ``mean`` and ``std`` may be tensors (broadcast) or numbers with ``size``."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        shape = ref.shape
        if isinstance(mean, Tensor) and isinstance(std, Tensor):
            from ._ops.shape import broadcast_shapes

            shape = broadcast_shapes(mean.shape, std.shape)
        z = randn(shape, generator=generator, dtype=ref.dtype, device=ref.device)
        with no_grad():
            return z * std + mean
    if size is None:
        raise TypeError("normal(): with float mean and std, pass size=")
    z = randn(size, generator=generator, dtype=dtype, device=device)
    out_ = z * std + mean if (std != 1.0 or mean != 0.0) else z
    if requires_grad:
        out_.requires_grad_()
    return out_


def bernoulli(input, p=None, *, generator=None, out=None):
    """Draw 0/1 with probability ``input`` (or the scalar ``p``), elementwise."""
    probs = input if p is None else None
    u = rand(input.shape, generator=generator, dtype=input.dtype if input.dtype.is_floating_point
             else dt.get_default_dtype(), device=input.device)
    with no_grad():
        thr = probs.detach() if probs is not None else p
        return (u < thr).to(input.dtype)


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Sample ``num_samples`` category indices per row from the (unnormalised) weights ``input``."""
    if input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial(): prob_dist must be 1 or 2 dim, got {input.ndim}")
    with no_grad():
        w = input.detach().double()
        if bool((w < 0).any()) or not bool(w.isfinite().all()):
            raise RuntimeError("multinomial(): probability tensor contains either `inf`, `nan` or element < 0")
        rows = w if w.ndim == 2 else w.unsqueeze(0)
        n_cat = rows.shape[1]
        if not replacement and num_samples > n_cat:
            raise RuntimeError(
                f"multinomial(): cannot sample n_sample={num_samples} > prob_dist.size(-1)={n_cat} "
                "samples without replacement"
            )
        if bool((rows.sum(1) <= 0).any()):
            raise RuntimeError("multinomial(): invalid multinomial distribution (sum of probabilities <= 0)")
        if replacement and num_samples > 1:
            # as PyTorch's CPU kernel: per row, the normalised cumulative sum in the input's
            # dtype, then one float64 uniform per sample; the index is the first bucket >= u
            cdf = input.detach().reshape(rows.shape).cumsum(1)
            cdf = cdf / cdf[:, -1:]
            cdf[:, -1] = 1
            u = rand(rows.shape[0], num_samples, generator=generator, dtype=dt.float64, device=input.device)
            idx = (cdf.double().unsqueeze(1) < u.unsqueeze(2)).sum(2).clamp(max=n_cat - 1)
        else:
            # as PyTorch: argmax / top-k of w / q with q ~ Exp(1) (the Gumbel-max trick), which
            # samples without replacement with the right probabilities
            u = rand(rows.shape, generator=generator, dtype=dt.float64, device=input.device)
            q = -(-u).log1p()
            keys = (input.detach().reshape(rows.shape) / q.to(input.dtype))
            idx = keys.topk(num_samples, dim=1).indices
        return idx if w.ndim == 2 else idx.squeeze(0)


def poisson(input, generator=None):
    backend = input._backend
    gen = _gen_state(generator, backend)
    host = backend.to_host(input._data)
    if hasattr(gen, "poisson"):
        out = gen.poisson(host)
    elif hasattr(gen, "random32"):  # PyTorch-compatible state: seed a NumPy sampler from it
        import numpy

        out = numpy.random.default_rng(int(gen.random32(1)[0])).poisson(host)
    else:
        out = None
    if out is None:
        raise RuntimeError(f"poisson is not supported on backend {backend.name!r}")
    return Tensor._make(backend.asarray(out, input.dtype), backend, input.dtype, input.device)
