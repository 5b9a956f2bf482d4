"""``flambeau.cuda``: the NVIDIA GPU device type, as ``torch.cuda``.

Everything here goes through the plugin registry: ``is_available()`` asks
``flambeau.backends.is_available("cuda")``, so without a CUDA backend installed nothing about
the GPU (CuPy, the driver) is ever imported, and the usual device-selection line works::

    >>> import flambeau as torch
    >>> device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

The functions that need more than availability (``device_count``, ``synchronize``,
``memory_allocated``, ...) call the backend's optional methods of the same names (see
``flambeau.backend.Backend``) and fall back to neutral answers: one device, no-op
synchronisation, 0 bytes when the backend does not track memory.
"""
from __future__ import annotations

__all__ = [
    "current_device", "device", "device_count", "empty_cache", "get_device_capability",
    "get_device_name", "get_rng_state", "initial_seed", "is_available", "is_initialized",
    "manual_seed", "manual_seed_all", "max_memory_allocated", "max_memory_reserved",
    "memory_allocated", "memory_reserved", "reset_peak_memory_stats", "seed", "set_device",
    "set_rng_state", "synchronize",
]

_current = [0]


def is_available():
    """Whether an installed, working backend serves device type ``"cuda"``."""
    from . import backends

    try:
        return bool(backends.is_available("cuda"))
    except Exception:  # a broken plugin means no usable GPU, never an error here
        return False


def is_initialized():
    """Whether a ``cuda`` backend instance exists in this process."""
    from . import backends

    return any(getattr(k, "type", None) == "cuda" for k in list(backends._instances))


def _backend(device=None):
    if not is_available():
        raise AssertionError(
            "Torch not compiled with CUDA enabled: flambeau has no available 'cuda' backend. "
            'Install one with: pip install "flambeau[cuda]" (see `python -m flambeau`)'
        )
    from . import backends

    return backends.get_backend(_device_str(device))


def _index(device):
    if device is None:
        return _current[0]
    if isinstance(device, int):
        return device
    from ._device import device as device_cls

    d = device if isinstance(device, device_cls) else device_cls(device)
    return d.index if d.index is not None else _current[0]


def _device_str(device=None):
    return f"cuda:{_index(device)}"


def device_count():
    """The number of CUDA devices (0 without an available backend)."""
    if not is_available():
        return 0
    be = _backend(0)
    count = getattr(be, "device_count", None)
    return int(count()) if callable(count) else 1


def current_device():
    """The index of the selected CUDA device (``set_device`` changes it)."""
    return _current[0]


def set_device(device):
    """Select the CUDA device that ``"cuda"`` without an index refers to in this module."""
    idx = _index(device)
    if idx < 0:
        raise ValueError(f"set_device: invalid device index {idx}")
    _current[0] = idx


class device:
    """Context manager that selects a CUDA device for its block (``torch.cuda.device``)."""

    def __init__(self, device):
        self.idx = -1 if device is None else _index(device)
        self.prev = -1

    def __enter__(self):
        self.prev = _current[0]
        if self.idx >= 0:
            _current[0] = self.idx
        return self

    def __exit__(self, *exc):
        _current[0] = self.prev
        return False


def get_device_name(device=None):
    """A human-readable name of the device (the backend's ``device_name()`` if it has one)."""
    be = _backend(device)
    name = getattr(be, "device_name", None)
    return str(name()) if callable(name) else f"{be.name} ({be.device})"


def get_device_capability(device=None):
    """``(major, minor)`` compute capability (the backend's ``device_capability()``, or (0, 0))."""
    be = _backend(device)
    cap = getattr(be, "device_capability", None)
    return tuple(cap()) if callable(cap) else (0, 0)


def synchronize(device=None):
    """Wait for all queued work on the device (a no-op without CUDA, as there is none)."""
    if not is_available():
        return
    be = _backend(device)
    sync = getattr(be, "synchronize", None)
    if callable(sync):
        sync()


def _memory_stat(name, device):
    if not is_available():
        return 0
    be = _backend(device)
    fn = getattr(be, name, None)
    return int(fn()) if callable(fn) else 0


def memory_allocated(device=None):
    """Bytes of device memory held by tensors (0 when unknown or without CUDA)."""
    return _memory_stat("memory_allocated", device)


def max_memory_allocated(device=None):
    """Peak of ``memory_allocated`` (0 when unknown or without CUDA)."""
    return _memory_stat("max_memory_allocated", device)


def memory_reserved(device=None):
    """Bytes reserved by the backend's allocator (0 when unknown or without CUDA)."""
    return _memory_stat("memory_reserved", device)


def max_memory_reserved(device=None):
    return _memory_stat("max_memory_reserved", device)


def reset_peak_memory_stats(device=None):
    if is_available():
        fn = getattr(_backend(device), "reset_peak_memory_stats", None)
        if callable(fn):
            fn()


def empty_cache():
    """Release cached, unused device memory (a no-op without CUDA)."""
    if is_available():
        fn = getattr(_backend(), "empty_cache", None)
        if callable(fn):
            fn()


# --------------------------------------------------------------------------- random numbers
def _generator(idx=None):
    from . import _random

    return _random._default_generator("cuda")


def manual_seed(seed):
    """Seed the CUDA default generator (never imports a GPU library: the state is created on
    first use)."""
    _generator().manual_seed(int(seed))


def manual_seed_all(seed):
    """Seed the generators of all CUDA devices."""
    manual_seed(seed)


def seed():
    """Seed the CUDA generator with a non-deterministic number."""
    _generator().seed()


def seed_all():
    seed()


def initial_seed():
    return _generator().initial_seed()


def get_rng_state(device="cuda"):
    return _generator().get_state()


def set_rng_state(new_state, device="cuda"):
    _generator().set_state(new_state)


def __getattr__(name):
    if name == "amp":  # torch.cuda.amp.GradScaler / autocast (deprecated spellings of flambeau.amp)
        from . import _cuda_amp

        return _cuda_amp
    raise AttributeError(f"module 'flambeau.cuda' has no attribute {name!r}")
