"""``flambeau.utils``: utilities outside the tensor core, following ``torch.utils``.

``flambeau.utils.data`` holds datasets, samplers and the ``DataLoader``;
``flambeau.utils.checkpoint`` activation checkpointing.
"""
from __future__ import annotations

from . import checkpoint, data  # noqa: F401
