"""``DataLoader``: batches from a dataset, in a sampler's order, as ``torch.utils.data.DataLoader``.

>>> ds = TensorDataset(flambeau.arange(10.0).reshape(5, 2), flambeau.arange(5))
>>> [y.tolist() for _, y in DataLoader(ds, batch_size=2)]
[[0, 1], [2, 3], [4]]

Loading happens in the calling process. ``num_workers > 0`` is accepted and gives exactly the
batches ``num_workers=0`` gives, in the same order: the data is loaded in-process by a single
emulated worker (``get_worker_info()`` reports ``id=0, num_workers=1`` while it runs, and
``worker_init_fn(0)`` is called at the start of each pass). An ``IterableDataset`` that shards
itself by ``get_worker_info()`` therefore yields all of its data once, as with
``num_workers=0`` (PyTorch would run it in ``num_workers`` processes). ``pin_memory``,
``timeout``, ``prefetch_factor``, ``persistent_workers`` and ``multiprocessing_context`` are
accepted and validated as PyTorch does, and change nothing else.
"""
from __future__ import annotations

import contextlib
import math
import threading
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ... import _dtype as dt
from ..._random import randint
from ._utils.collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info", "WorkerInfo"]

T_co = TypeVar("T_co", covariant=True)


# ---------------------------------------------------------------------------
# worker information
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a data-loading worker."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_state = threading.local()


def get_worker_info():
    """The current ``WorkerInfo`` while a ``DataLoader`` with ``num_workers > 0`` loads data
    (flambeau's single in-process worker), ``None`` otherwise, as in PyTorch."""
    return getattr(_worker_state, "info", None)


@contextlib.contextmanager
def _as_worker(info):
    if info is None:
        yield
        return
    previous = getattr(_worker_state, "info", None)
    _worker_state.info = info
    try:
        yield
    finally:
        _worker_state.info = previous


# ---------------------------------------------------------------------------
# fetchers: indices -> collated batch
# ---------------------------------------------------------------------------

class _InfiniteConstantSampler(Sampler):
    """Yields ``None`` forever: the index stream for iterable datasets."""

    def __iter__(self):
        while True:
            yield None


class _MapDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        getitems = getattr(dataset, "__getitems__", None)
        self.getitems = getitems if callable(getitems) else None

    def fetch(self, possibly_batched_index):
        if self.auto_collation:
            if self.getitems is not None:
                data = self.getitems(possibly_batched_index)
            else:
                data = [self.dataset[idx] for idx in possibly_batched_index]
        else:
            data = self.dataset[possibly_batched_index]
        return self.collate_fn(data)


class _IterableDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset_iter = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, possibly_batched_index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in possibly_batched_index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if len(data) == 0 or (self.drop_last and len(data) < len(possibly_batched_index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


# ---------------------------------------------------------------------------
# DataLoader
# ---------------------------------------------------------------------------

class DataLoader(Generic[T_co]):
    """Iterate over ``dataset`` in batches.

    Arguments follow PyTorch: ``batch_size`` (``None`` turns batching off), ``shuffle``
    (a ``RandomSampler`` drawing from ``generator``), ``sampler`` or ``batch_sampler`` (an
    order of your own), ``drop_last``, ``collate_fn`` (default ``default_collate``, or
    ``default_convert`` without batching) and ``generator``. ``num_workers``, ``pin_memory``,
    ``worker_init_fn`` and the other process options are accepted; see the module docstring.

    With ``shuffle=True`` the order is reproducible from ``flambeau.manual_seed`` or a seeded
    ``generator=flambeau.Generator().manual_seed(s)``, and differs from epoch to epoch.

    >>> loader = DataLoader(ds, batch_size=64, shuffle=True, drop_last=True)   # doctest: +SKIP
    >>> for x, y in loader: ...                                                 # doctest: +SKIP
    """

    __initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor if num_workers > 0 and prefetch_factor is not None \
            else (2 if num_workers > 0 else None)
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = "iterable"
            if shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = "map"

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None:
            if self._dataset_kind == "iterable":
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self.__initialized = True

    def __setattr__(self, attr, val):
        if self.__initialized and attr in (
                "batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        # what the iterator draws indices from: batches of indices, or single indices
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        return _DataLoaderIter(self)

    def __len__(self):
        if self._dataset_kind == "iterable":
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last \
                    else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)


class _DataLoaderIter:
    """One pass over a ``DataLoader`` (what ``iter(loader)`` returns)."""

    def __init__(self, loader):
        self._loader = loader
        self._dataset = loader.dataset
        self._index_sampler = loader._index_sampler
        self._sampler_iter = iter(self._index_sampler)
        # PyTorch draws the workers' base seed from the loader's generator (or the default one)
        # at every pass, even without workers: the random streams line up with PyTorch's
        seed_device = "cpu" if loader.generator is None else loader.generator.device
        self._base_seed = int(randint(0, 2 ** 63 - 1, (), dtype=dt.int64, device=seed_device,
                                      generator=loader.generator).item())
        self._num_yielded = 0
        self._worker = None
        if loader.num_workers > 0:
            self._worker = WorkerInfo(id=0, num_workers=1, seed=self._base_seed,
                                      dataset=loader.dataset)
        with _as_worker(self._worker):
            if self._worker is not None and loader.worker_init_fn is not None:
                loader.worker_init_fn(0)
            fetcher_cls = _IterableDatasetFetcher if loader._dataset_kind == "iterable" \
                else _MapDatasetFetcher
            self._fetcher = fetcher_cls(loader.dataset, loader._auto_collation,
                                        loader.collate_fn, loader.drop_last)

    def __iter__(self):
        return self

    def __next__(self):
        with _as_worker(self._worker):
            index = next(self._sampler_iter)  # StopIteration ends the pass
            data = self._fetcher.fetch(index)
        self._num_yielded += 1
        return data

    def __len__(self):
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{self.__class__.__name__} cannot be pickled")
