"""``flambeau.utils``: utilities outside the tensor core, following ``torch.utils``.

``flambeau.utils.data`` holds datasets, samplers and the ``DataLoader``.
"""
from __future__ import annotations

from . import data  # noqa: F401
