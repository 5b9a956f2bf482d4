"""Samplers: the order in which a ``DataLoader`` visits a map-style dataset, as
``torch.utils.data.sampler``.

Random samplers draw from flambeau's generators on the generator's device (the CPU without one),
so an order is reproducible from ``flambeau.manual_seed`` or a seeded ``flambeau.Generator``
whatever the default device is.

>>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
[[0, 1], [2, 3], [4]]
"""
from __future__ import annotations

import itertools
from typing import Generic, TypeVar

from ... import _dtype as dt
from ..._creation import as_tensor, empty
from ..._random import Generator, multinomial, randint, randperm

__all__ = [
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
    "WeightedRandomSampler", "BatchSampler",
]

T_co = TypeVar("T_co", covariant=True)


class Sampler(Generic[T_co]):
    """Base class: subclasses define ``__iter__`` over indices (or batches of indices) and
    usually ``__len__``. ``data_source`` is accepted for compatibility and unused."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


def _device(generator):
    return "cpu" if generator is None else generator.device


def _fresh_generator():
    """A generator seeded from the default CPU generator, as PyTorch's ``RandomSampler`` makes
    one per epoch: ``manual_seed`` fixes every epoch's order, and epochs differ."""
    # PyTorch's draw, so the same manual_seed shuffles the same way
    seed = int(empty((), dtype=dt.int64, device="cpu").random_().item())
    return Generator().manual_seed(seed)


class SequentialSampler(Sampler[int]):
    """``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Indices in random order: a permutation, or with ``replacement=True`` independent draws.

    ``num_samples`` (default ``len(data_source)``) indices are produced per epoch; without
    replacement, more than ``len(data_source)`` of them repeat whole permutations.
    ``generator`` fixes the order; without one each epoch seeds a fresh generator from the
    default generator (so ``flambeau.manual_seed`` makes runs reproducible).
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError("replacement should be a boolean value, but got "
                            f"replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or isinstance(self.num_samples, bool) \
                or self.num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self):
        # the dataset may change size between construction and iteration
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        generator = self.generator if self.generator is not None else _fresh_generator()
        dev = generator.device
        if self.replacement:
            # in chunks of 32, as PyTorch draws them
            for _ in range(self.num_samples // 32):
                yield from randint(0, n, (32,), generator=generator, device=dev).tolist()
            yield from randint(0, n, (self.num_samples % 32,), generator=generator,
                               device=dev).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from randperm(n, generator=generator, device=dev).tolist()
            yield from randperm(n, generator=generator, device=dev).tolist()[:self.num_samples % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given ``indices``, in a random order each epoch."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        perm = randperm(len(self.indices), generator=self.generator, device=_device(self.generator))
        for i in perm.tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """``num_samples`` indices in ``0..len(weights)-1`` drawn with probabilities proportional to
    ``weights`` (with replacement by default).

    >>> s = WeightedRandomSampler([0.1, 0.9], 5, generator=flambeau.Generator().manual_seed(0))
    >>> len(list(s))
    5
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError("replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        weights_tensor = as_tensor(weights, dtype=dt.float64, device=_device(generator))
        if weights_tensor.ndim != 1:
            raise ValueError("weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights_tensor.shape)}")
        self.weights = weights_tensor
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        rand_tensor = multinomial(self.weights, self.num_samples, self.replacement,
                                  generator=self.generator)
        yield from rand_tensor.tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler[list]):
    """Groups the indices of ``sampler`` into lists of ``batch_size``; the last, shorter batch is
    dropped when ``drop_last``.

    >>> list(BatchSampler(range(7), 3, drop_last=True))
    [[0, 1, 2], [3, 4, 5]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError("batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        it = iter(self.sampler)
        if self.drop_last:
            yield from (list(b) for b in zip(*[it] * self.batch_size))
        else:
            batch = list(itertools.islice(it, self.batch_size))
            while batch:
                yield batch
                batch = list(itertools.islice(it, self.batch_size))

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
