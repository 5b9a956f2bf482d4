"""Devices: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a third party's device type."""
from __future__ import annotations


class device:
    """Where a tensor's data lives, as ``torch.device``.

    >>> device("cuda:1").index
    1
    """

    __slots__ = ("type", "index", "_str", "_hash")
    _cache: dict = {}
    type: str
    index: int | None

    def __new__(cls, type, index=None):
        if isinstance(type, device):
            if index is not None:
                raise ValueError("device(device, index) is not allowed; pass a type string")
            return type
        if isinstance(type, int) and index is None:
            raise ValueError(
                f"device({type}) is ambiguous; write device('cuda', {type}) or 'cuda:{type}'"
            )
        key = (type, index)
        cached = cls._cache.get(key)
        if cached is not None:
            return cached
        if not isinstance(type, str):
            raise TypeError(f"device() expects a string like 'cpu' or 'cuda:0', got {type!r}")
        kind, sep, idx = type.partition(":")
        if sep:
            if index is not None:
                raise ValueError(f"device string {type!r} already names an index")
            if not idx.isdigit():
                raise ValueError(f"invalid device string {type!r}; expected 'type' or 'type:index'")
            index = int(idx)
        if not kind or not (kind.replace("_", "").isalnum()):
            raise ValueError(f"invalid device string {type!r}; expected 'type' or 'type:index'")
        if index is not None:
            index = int(index)
            if index < 0:
                raise ValueError(f"device index must be non-negative, got {index}")
        self = object.__new__(cls)
        self.type = kind
        self.index = index
        self._str = kind if index is None else f"{kind}:{index}"
        self._hash = hash((kind, index))
        cls._cache[key] = self
        return self

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self._str

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (ValueError, TypeError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return self._hash

    def __reduce__(self):
        return (device, (self._str,))
