"""``flambeau.utils.data``: datasets, samplers and the ``DataLoader``, as ``torch.utils.data``.

>>> from flambeau.utils.data import DataLoader, TensorDataset, random_split
>>> ds = TensorDataset(flambeau.randn(100, 8), flambeau.randint(0, 2, (100,)))
>>> train, val = random_split(ds, [0.8, 0.2], generator=flambeau.Generator().manual_seed(0))
>>> for x, y in DataLoader(train, batch_size=16, shuffle=True):
...     pass

Nothing here imports NumPy; NumPy arrays in samples are recognised by their type.
"""
from __future__ import annotations

from ._utils.collate import default_collate, default_convert
from .dataloader import DataLoader, WorkerInfo, get_worker_info
from .dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset",
    "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset",
    "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler", "WorkerInfo",
    "default_collate", "default_convert", "get_worker_info", "random_split",
]
