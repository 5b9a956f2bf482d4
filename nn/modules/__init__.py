"""The layer library, one file per family (``linear``, ``activation``, ``normalization``, ``loss``,
``conv``, ``rnn``, ...). Each family module lists its public layers in ``__all__``; this package
re-exports them all, so publishing a new family is adding a file here (no list to edit)."""
from __future__ import annotations

import importlib
import pkgutil

from .module import Module  # noqa: F401

_FIRST = ("container", "linear", "activation", "dropout", "sparse", "normalization", "flatten",
          "loss")


def _families():
    found = sorted(i.name for i in pkgutil.iter_modules(__path__) if not i.name.startswith("_"))
    return [n for n in _FIRST if n in found] + [n for n in found if n not in _FIRST
                                                and n != "module"]


__all__ = ["Module"]
for _name in _families():
    _mod = importlib.import_module(f"{__name__}.{_name}")
    globals()[_name] = _mod
    for _sym in getattr(_mod, "__all__", ()):
        globals()[_sym] = getattr(_mod, _sym)
        if _sym not in __all__:
            __all__.append(_sym)
