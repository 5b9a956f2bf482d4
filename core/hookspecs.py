"""The plugin contract: the hooks a flambeau plugin implements, and what they must return.

A flambeau *plugin* is a module (or any object) with functions marked ``@flambeau.hookimpl``
whose names match the hook specifications below. An installed distribution announces its plugin
with an entry point in group ``flambeau.backends``::

    # pyproject.toml of the distribution "flambeau-mylib"
    [project.entry-points."flambeau.backends"]
    mylib = "flambeau_mylib"          # the module holding the hook implementations

and a notebook or a test registers one at runtime with ``flambeau.backends.register(...)``.

When plugins are loaded
-----------------------
Never at ``import flambeau``. Entry points are loaded once per process, on the first use of a
device (the first tensor) or the first call to ``flambeau.backends.list_backends()``,
``status()``, ``use()`` or ``is_available()``. ``FLAMBEAU_DISABLE_PLUGIN_AUTOLOAD=1`` turns entry
points off and ``FLAMBEAU_BLOCK_PLUGINS=name,...`` skips some (see ``flambeau.backends``).

The plugin module must be cheap to import: it must not import its compute library (NumPy,
CuPy, ...). It only *describes* its backends with ``BackendSpec``; the registry imports the
library when a device of that type is first used, through ``BackendSpec.loader``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pluggy

from ._plugin import PROJECT_NAME

if TYPE_CHECKING:
    from .backend.base import Backend

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


@dataclass(frozen=True, kw_only=True)
class BackendSpec:
    """What a plugin says about one backend, without importing the library behind it.

    >>> BackendSpec(name="mylib", device_type="mydev", loader="flambeau_mylib.backend:MyBackend",
    ...             distribution="flambeau-mylib", version="0.1.0")  # doctest: +ELLIPSIS
    BackendSpec(name='mylib', device_type='mydev', ...)

    Fields (keyword-only):

    * ``name``: the backend's name in the registry, unique among installed backends
      (``"numpy"``, ``"cuda"``). It is what ``flambeau.backends.use()``,
      ``FLAMBEAU_BACKEND_<DEVICETYPE>`` and ``flambeau.backends.unregister()`` take.
    * ``device_type``: the device type it serves: ``"cpu"``, ``"cuda"`` or a new one of yours
      (letters, digits and ``_``). Tensors on ``"<device_type>"`` and ``"<device_type>:<n>"``
      are computed by this backend.
    * ``loader``: where the ``Backend`` subclass is: ``"package.module:ClassName"`` (imported on
      first use) or a zero-argument callable returning the class. The class is then instantiated
      once per concrete device as ``cls(device)``, ``device`` being a ``flambeau.device``:
      ``cpu``; ``cuda:0`` for ``"cuda"``; for other types the index exactly as the user wrote it
      (``mydev`` and ``mydev:0`` are two devices).
    * ``priority``: when several available backends serve one device type and neither
      ``flambeau.backends.use()`` nor ``FLAMBEAU_BACKEND_<DEVICETYPE>`` picks one, the highest
      priority wins (ties go to the alphabetically first name). The project's own backends use
      100; the default is 0.
    * ``distribution``: the pip name of the distribution that ships the backend
      (``"flambeau-numpy"``), shown by ``python -m flambeau`` and named in errors.
    * ``is_available``: optional zero-argument callable returning ``(ok, reason)``: ``ok`` a
      bool, ``reason`` a short string saying why not when ``ok`` is false (``"no CUDA driver
      found"``), or an optional detail when it is true (``"numpy 2.1.0"``). It may import the
      heavy library. It is called at most once per process, when a device of this type is first
      used or when ``status()`` / ``python -m flambeau`` reports; it must not raise (if it does,
      the backend counts as unavailable with the exception as the reason). ``None`` means always
      available.
    * ``version``: optional version string of the backend (usually its distribution's).
    """

    name: str
    device_type: str
    loader: str | Callable[[], type[Backend]]
    priority: int = 0
    distribution: str | None = None
    is_available: Callable[[], tuple[bool, str]] | None = None
    version: str | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"BackendSpec.name must be a non-empty string, got {self.name!r}")
        if (
            not isinstance(self.device_type, str)
            or not self.device_type
            or not self.device_type.replace("_", "").isalnum()
        ):
            raise ValueError(
                f"BackendSpec.device_type must be letters, digits and '_' (like 'cpu'), "
                f"got {self.device_type!r}"
            )
        if isinstance(self.loader, str):
            module, sep, attr = self.loader.partition(":")
            if not (module and sep and attr):
                raise ValueError(
                    f"BackendSpec.loader must look like 'package.module:ClassName', "
                    f"got {self.loader!r}"
                )
        elif not callable(self.loader):
            raise TypeError(
                "BackendSpec.loader must be a 'package.module:ClassName' string or a "
                f"zero-argument callable returning the Backend class, got {self.loader!r}"
            )
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise TypeError(f"BackendSpec.priority must be an int, got {self.priority!r}")
        if self.is_available is not None and not callable(self.is_available):
            raise TypeError(
                f"BackendSpec.is_available must be callable or None, got {self.is_available!r}"
            )


@hookspec
def flambeau_backends() -> list[BackendSpec]:  # type: ignore[empty-body]
    """Describe the backends this plugin provides.

    Called once per plugin and process, when the registry first needs the list of backends (the
    first use of a device, or ``flambeau.backends.list_backends()``/``status()``), and again
    only if the plugin is registered anew. It must be cheap and must not import the compute
    library: put that import in the backend class's module (named by ``BackendSpec.loader``) or
    in ``BackendSpec.is_available``.

    Example, the whole ``__init__.py`` of a plugin package::

        import flambeau
        from flambeau.backends import BackendSpec

        @flambeau.hookimpl
        def flambeau_backends():
            return [BackendSpec(name="mylib", device_type="mydev", priority=0,
                                distribution="flambeau-mylib", version="0.1.0",
                                loader="flambeau_mylib.backend:MyBackend")]

    :return: a list of ``BackendSpec`` (empty if the plugin has nothing to offer on this
        machine; prefer returning the spec with an ``is_available`` that says why). Each name
        must be unique among installed backends. If the hook raises or returns anything else,
        the plugin is reported as broken (with its error) and the other plugins keep working.
    """
