"""Which backend computes on which device: the plugin registry.

Backends are plugins (see ``flambeau.hookspecs``). Installed ones are found through the entry
point group ``flambeau.backends``, lazily: on the first use of a device or the first call to a
function below, never at ``import flambeau``. Each concrete device (``cpu``, ``cuda:0``,
``cuda:1``, ``mydev:3``) gets one backend instance, created on first use.

    >>> import flambeau
    >>> flambeau.backends.get_backend("cpu")          # doctest: +SKIP
    <NumpyBackend 'numpy' on cpu>
    >>> [row.status for row in flambeau.backends.status()]   # doctest: +SKIP
    ['available', 'not installed']

A backend of your own, in a notebook, in one line::

    flambeau.backends.register(MyBackend)     # a Backend subclass with name and device_type
    x = flambeau.zeros(3, device="mydev")

Which backend serves a device type, when several do: ``use(device_type, name)`` >
``FLAMBEAU_BACKEND_<DEVICETYPE>=name`` > the highest ``priority`` among the available ones.

Environment variables (read when plugins are first loaded, or when a device type is first
resolved):

``FLAMBEAU_DISABLE_PLUGIN_AUTOLOAD=1``
    Load no entry points: only backends registered with ``register()`` exist.
``FLAMBEAU_BLOCK_PLUGINS=name1,name2``
    Skip these entry points (by entry-point name) and the backends of these names that plugins
    provide; their modules are never imported. Runtime registrations are not affected.
``FLAMBEAU_BACKEND_<DEVICETYPE>=name``
    The backend that serves ``<devicetype>`` (upper-cased, e.g. ``FLAMBEAU_BACKEND_CPU=numpy``),
    unless ``use()`` chose one.

Errors are ``RuntimeError`` naming the backend and its distribution, with the plugin's own
exception chained (``raise ... from exc``): an unknown device type lists the installed backends
and the ``pip install`` command of the known ones; a broken plugin never breaks the others.

This module is imported by ``import flambeau`` and stays light: the registry itself (pluggy,
entry points, ``importlib.metadata``) is in ``flambeau._registry``, imported on first use.
"""
from __future__ import annotations

TYPE_CHECKING = False  # not ``from typing import``: importing typing costs milliseconds
if TYPE_CHECKING:
    from ._device import device as Device
    from ._registry import BackendStatus
    from .backend import ArrayModuleBackend, Backend
    from .hookspecs import BackendSpec

__all__ = [
    "ArrayModuleBackend",
    "Backend",
    "BackendSpec",
    "BackendStatus",
    "canonical_device",
    "get_backend",
    "is_available",
    "list_backends",
    "register",
    "status",
    "unregister",
    "use",
]

# The hot path's caches, filled by the registry. Keys are what callers pass: ``flambeau.device``
# objects and device strings ("cpu", "cuda", "cuda:0"). Cleared per device type by the registry
# when the backend serving that type changes.
_instances: dict = {}
_canonical: dict = {}


def get_backend(device: Device | str) -> Backend:
    """The backend instance that computes on ``device`` (a ``flambeau.device`` or a string).

    After the first call for a device this is one dict look-up: core calls it for every tensor
    it creates. The first call loads the plugins, picks the backend and instantiates it; it
    raises ``RuntimeError`` if no available backend serves the device type.

    >>> get_backend("cpu") is get_backend(flambeau.device("cpu"))   # doctest: +SKIP
    True
    """
    try:
        return _instances[device]
    except (KeyError, TypeError):
        return _registry().backend_for(device)


def canonical_device(device: Device | str) -> Device:
    """``device`` as the concrete ``flambeau.device`` that backend instances are keyed by.

    ``"cuda"`` means ``cuda:0``; every ``cpu`` (``"cpu"``, ``"cpu:0"``) is ``cpu``; other device
    types keep their index as given. Purely syntactic (loads no plugin); one dict look-up after
    the first call.

    >>> canonical_device("cuda")                  # doctest: +SKIP
    device(type='cuda', index=0)
    """
    try:
        return _canonical[device]
    except (KeyError, TypeError):
        return _registry().canonical(device)


def register(
    obj: object, *, name: str | None = None, priority: int | None = None
) -> str:
    """Register a backend at runtime, without packaging; return the name to ``unregister``.

    ``obj`` is one of:

    * a ``Backend`` subclass with class attributes ``name`` and ``device_type`` (the notebook
      case: ``register(MyBackend)``); ``name`` overrides its name, ``priority`` defaults to 0;
    * a ``BackendSpec``;
    * a plugin: a module or object with ``@flambeau.hookimpl`` functions (its hook is called
      now, and its errors are raised now); ``name`` is the plugin's name.

    Registering a name again replaces the earlier registration (re-running a notebook cell
    works). A runtime registration shadows an installed backend of the same name. A backend
    registered for a device type that already has one does not take it over unless its
    ``priority`` is higher or ``use()`` chooses it.

    >>> register(MyBackend)                         # doctest: +SKIP
    'mine'
    """
    return _registry().register(obj, name=name, priority=priority)


def unregister(name: str) -> None:
    """Remove the backend (or runtime plugin) called ``name`` from this process's registry.

    Works for runtime registrations and installed plugins alike; ``ValueError`` if there is no
    such name. Tensors already created keep their backend; new ones on its device type go to
    the next choice.
    """
    _registry().unregister(name)


def use(device_type: str, name: str | None) -> None:
    """Make the backend called ``name`` serve ``device_type`` from now on (``None``: back to the
    environment variable or priority).

    This beats ``FLAMBEAU_BACKEND_<DEVICETYPE>`` and priorities. Call it before creating
    tensors on that device type: existing tensors keep the backend they were made with.

    >>> use("cpu", "numpy")                         # doctest: +SKIP
    """
    _registry().use(device_type, name)


def list_backends(device_type: str | None = None) -> list[BackendSpec]:
    """The ``BackendSpec`` of every registered backend (of ``device_type`` if given), sorted by
    device type, then priority (highest first), then name.

    Loads the plugins but imports no compute library and checks no availability: see
    ``status()`` for that.
    """
    return _registry().list_backends(device_type)


def status() -> list[BackendStatus]:
    """One ``BackendStatus`` row per backend, installed or known, for an environment report.

    Each row has ``name``, ``device_type``, ``distribution``, ``version``, ``priority``,
    ``status`` (``"available"``, ``"unavailable"`` or ``"not installed"``), ``reason`` (why it
    is unavailable, or a detail when available), ``install`` (the pip command, when not
    installed) and ``selected`` (whether it serves its device type now). Rows include plugins
    that failed to load, blocked ones, and the project's known backends that are not installed
    (``numpy``, ``cuda``). Calls each backend's ``is_available``, which may import its library;
    never raises because of a broken plugin.
    """
    return _registry().status()


def is_available(device_type: str) -> bool:
    """Whether some available backend serves ``device_type`` (``is_available("cuda")``)."""
    return _registry().is_available(device_type)


# ---------------------------------------------------------------------------
# PyTorch's ``torch.backends.<library>`` switches, for scripts that set or read them. They
# hold plain attributes (a CUDA backend may read them); nothing is imported.
# ---------------------------------------------------------------------------
class _LibraryFlags:
    """Settable flags of one accelerator library, as ``torch.backends.cudnn``."""

    def __init__(self, name, device_type, **flags):
        self._name = name
        self._device_type = device_type
        self.__dict__.update(flags)

    def is_available(self):
        """Whether a backend for this library's device type is available (``False`` without
        one; never imports the library itself)."""
        return self._device_type is not None and is_available(self._device_type)

    def is_built(self):
        return self.is_available()

    def version(self):
        return None

    def __repr__(self):
        flags = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        return f"<flambeau.backends.{self._name} {flags}>"


cudnn = _LibraryFlags("cudnn", "cuda", enabled=True, benchmark=False, deterministic=False,
                      allow_tf32=True)
mps = _LibraryFlags("mps", "mps")
cuda = _LibraryFlags("cuda", "cuda", matmul=_LibraryFlags("cuda.matmul", None, allow_tf32=False,
                                                          allow_fp16_reduced_precision_reduction=True))
mkl = _LibraryFlags("mkl", None)
openmp = _LibraryFlags("openmp", None)


def _registry():
    from . import _registry as module

    return module.REGISTRY


def __getattr__(attr):
    # Public names whose modules ``import flambeau`` need not load.
    if attr == "BackendSpec":
        from .hookspecs import BackendSpec

        return BackendSpec
    if attr == "BackendStatus":
        from ._registry import BackendStatus

        return BackendStatus
    if attr in ("Backend", "ArrayModuleBackend"):
        from . import backend

        return getattr(backend, attr)
    raise AttributeError(f"module 'flambeau.backends' has no attribute {attr!r}")
