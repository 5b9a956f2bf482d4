"""Internals of ``flambeau.utils.data`` (the collate functions), laid out as PyTorch's."""
from __future__ import annotations

from . import collate  # noqa: F401
