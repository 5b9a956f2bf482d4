"""``TorchRandomMixin``: the random primitives of ``Backend``, drawing exactly the numbers that
PyTorch's CPU generator draws for the same seed.

PyTorch's CPU generator is a 32-bit Mersenne Twister (``std::mt19937`` seeded with
``seed & 0xffffffff``). Its samplers, reproduced here method by method:

* ``random()`` is one 32-bit draw; ``random64()`` is two, the first giving the high half.
* uniform floats keep the low ``digits`` bits of a draw (24 for float32 and 11 for float16 from
  ``random()``, 53 for float64 from ``random64()``) and scale them by ``2**-digits``.
* normal samples: tensors of 16 or more elements are filled with uniforms of their own dtype,
  then turned into normals 16 at a time by Box-Muller (the first 8 give ``r cos``, the last 8
  ``r sin``); when the size is not a multiple of 16, the last 16 are redrawn and recomputed.
  Smaller tensors draw each sample from a float64 Box-Muller pair, caching the second value in
  the generator for the next call.
* integers in ``[low, high)`` are ``random() % (high - low) + low``, or ``random64() % ...``
  when the range is 2**32 or more; permutations are Fisher-Yates with ``random() % (n - i)``.

Mix it in before ``ArrayModuleBackend`` (the NumPy backend does). The numbers are drawn on the
host with NumPy's ``MT19937`` and copied to ``xp``; a GPU backend would rather keep its own
device generator (PyTorch's CUDA numbers differ from its CPU ones too).
"""
from __future__ import annotations

import math

from .. import _dtype as dt

_MASK32 = 0xFFFFFFFF


class TorchGeneratorState:
    """Native generator state: the Mersenne Twister and the cached second normal sample."""

    __slots__ = ("bitgen", "next_normal")

    def __init__(self, seed):
        import numpy

        key = [0] * 624
        key[0] = seed & _MASK32
        for i in range(1, 624):  # init_genrand, as std::mt19937(seed)
            prev = key[i - 1]
            key[i] = (1812433253 * (prev ^ (prev >> 30)) + i) & _MASK32
        self.bitgen = numpy.random.MT19937()
        self.bitgen.state = {
            "bit_generator": "MT19937",
            "state": {"key": numpy.array(key, dtype=numpy.uint32), "pos": 624},
        }
        self.next_normal = None

    def random32(self, n):
        """``n`` 32-bit draws as uint64."""
        import numpy

        return self.bitgen.random_raw(n).astype(numpy.uint64, copy=False)

    def random64(self, n):
        """``n`` 64-bit draws (two 32-bit draws each, the first as the high half) as uint64."""
        import numpy

        r = self.random32(2 * n).reshape(n, 2)
        return (r[:, 0] << numpy.uint64(32)) | r[:, 1]


def _uniform_host(state, n, dtype):
    """``n`` uniforms in [0, 1) of ``dtype`` as PyTorch's ``uniform_real_distribution``."""
    import numpy

    if dtype is dt.float64:
        bits = state.random64(n) & numpy.uint64((1 << 53) - 1)
        return bits.astype(numpy.float64) * 2.0 ** -53
    digits = 11 if dtype is dt.float16 else 24
    bits = state.random32(n)
    bits &= numpy.uint64((1 << digits) - 1)
    out = bits.astype(numpy.float32)  # exact: fewer than 25 significant bits
    out *= numpy.float32(2.0 ** -digits)
    return out.astype(numpy.float16) if dtype is dt.float16 else out


def _box_muller_16(u, out):
    """Box-Muller on blocks of 16 uniforms (rows of ``u``) into ``out`` (same shape), as
    ``normal_fill_16``: the first 8 of a block give ``r cos``, the last 8 ``r sin``."""
    import numpy

    radius = numpy.sqrt(-2.0 * numpy.log(1.0 - u[:, :8]))
    theta = u[:, 8:] * (2.0 * math.pi)
    numpy.multiply(radius, numpy.cos(theta), out=out[:, :8])
    numpy.multiply(radius, numpy.sin(theta), out=out[:, 8:])


def _normal_host(state, n, dtype):
    import numpy

    native = {dt.float64: numpy.float64, dt.float16: numpy.float16}.get(dtype, numpy.float32)
    if n >= 16:
        # float32 math for float32 (as PyTorch's vectorised kernel), float64 otherwise
        work = numpy.float32 if native is numpy.float32 else numpy.float64
        u = _uniform_host(state, n, dtype).astype(work, copy=False)
        out = numpy.empty(n, dtype=work)
        full = n // 16 * 16
        _box_muller_16(u[:full].reshape(-1, 16), out[:full].reshape(-1, 16))
        if n % 16:
            # PyTorch redraws the last 16 values (overlapping the last full block)
            tail = _uniform_host(state, 16, dtype).astype(work).reshape(1, 16)
            _box_muller_16(tail, out[n - 16:].reshape(1, 16))
        return out.astype(native, copy=False)
    out = numpy.empty(n, dtype=numpy.float64)
    for i in range(n):
        if state.next_normal is not None:
            out[i] = state.next_normal
            state.next_normal = None
            continue
        u1, u2 = _uniform_host(state, 2, dt.float64)
        r = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        state.next_normal = r * math.sin(theta)
        out[i] = r * math.cos(theta)
    return out.astype(native)


class TorchRandomMixin:
    """``generator``, ``random_*`` primitives that reproduce PyTorch's CPU random numbers."""

    def _from_host_random(self, host, shape, dtype):
        host = host.reshape(shape)
        if self.xp.__name__ == "numpy":
            return host.astype(self._to_native[dtype], copy=False)
        return self.xp.asarray(host, dtype=self._to_native[dtype])

    def generator(self, seed):
        return TorchGeneratorState(int(seed))

    def generator_get_state(self, gen):
        import numpy

        st = gen.bitgen.state["state"]
        cache = gen.next_normal
        extra = numpy.array([st["pos"], cache is not None], dtype=numpy.int64).view(numpy.uint8)
        normal = numpy.array([cache or 0.0], dtype=numpy.float64).view(numpy.uint8)
        key = numpy.asarray(st["key"], dtype=numpy.uint32).view(numpy.uint8)
        return numpy.concatenate([key, extra, normal])

    def generator_set_state(self, gen, state):
        import numpy

        state = numpy.ascontiguousarray(numpy.asarray(state, dtype=numpy.uint8))
        if state.size != 624 * 4 + 24:
            raise RuntimeError(
                f"set_rng_state: expected a state of {624 * 4 + 24} bytes from get_rng_state, "
                f"got {state.size}"
            )
        key = state[:2496].view(numpy.uint32).copy()
        pos, has_cache = (int(v) for v in state[2496:2512].view(numpy.int64))
        cache = float(state[2512:].view(numpy.float64)[0])
        gen.bitgen.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": pos}}
        gen.next_normal = cache if has_cache else None

    def random_uniform(self, gen, shape, dtype):
        n = _numel(shape)
        return self._from_host_random(_uniform_host(gen, n, dtype), shape, dtype)

    def random_normal(self, gen, shape, dtype):
        n = _numel(shape)
        return self._from_host_random(_normal_host(gen, n, dtype), shape, dtype)

    def random_integers(self, gen, low, high, shape, dtype):
        import numpy

        n = _numel(shape)
        span = int(high) - int(low)
        draws = gen.random64(n) if span >= 2 ** 32 else gen.random32(n)
        vals = (draws % numpy.uint64(span)).astype(numpy.int64) + int(low)
        return self._from_host_random(vals, shape, dtype)

    def random_permutation(self, gen, n):
        import numpy

        perm = numpy.arange(n, dtype=numpy.int64)
        if n > 1:
            # Fisher-Yates: swap i with i + random() % (n - i), for i = 0 .. n-2
            z = (gen.random32(n - 1) % numpy.arange(n, 1, -1, dtype=numpy.uint64)).astype(numpy.int64)
            z += numpy.arange(n - 1, dtype=numpy.int64)
            p = perm.tolist()
            for i, j in enumerate(z.tolist()):
                p[i], p[j] = p[j], p[i]
            perm = numpy.array(p, dtype=numpy.int64)
        return self._from_host_random(perm, (n,), dt.int64)


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n
