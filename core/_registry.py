"""The plugin registry behind ``flambeau.backends``, imported on its first use.

It owns the one ``pluggy.PluginManager("flambeau")``, loads the entry points of group
``flambeau.backends`` one by one (so that one broken plugin cannot stop the others), collects
the ``BackendSpec`` of every plugin and runtime registration, picks a backend per device type
and instantiates it per concrete device. It fills the dicts of ``flambeau.backends`` that make
``get_backend`` a single look-up afterwards; pluggy is never on that path.
"""
from __future__ import annotations

import importlib
import os
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pluggy

from . import hookspecs
from ._device import device
from .backend.base import Backend
from .backends import _canonical, _instances
from .hookspecs import BackendSpec

GROUP = "flambeau.backends"
ENV_DISABLE_AUTOLOAD = "FLAMBEAU_DISABLE_PLUGIN_AUTOLOAD"
ENV_BLOCK = "FLAMBEAU_BLOCK_PLUGINS"
ENV_BACKEND_PREFIX = "FLAMBEAU_BACKEND_"

#: Backends of this project, reported (with their pip command) even when not installed.
KNOWN_BACKENDS = {
    "numpy": ("cpu", "flambeau-numpy", 'pip install "flambeau[numpy]"'),
    "cuda": ("cuda", "flambeau-cuda", 'pip install "flambeau[cuda]"'),
}

#: Device types where a bare type means index 0 (``"cuda"`` is ``cuda:0``), as in PyTorch.
DEFAULT_INDEX = {"cuda": 0}


class CudaUnavailableError(RuntimeError, AssertionError):
    """No usable backend for ``cuda``: a RuntimeError, as every registry error, that is also
    the AssertionError PyTorch raises for CUDA use in a build without CUDA (``x.cuda()``)."""


def _unavailable(device_type):
    return CudaUnavailableError if device_type == "cuda" else RuntimeError


@dataclass(frozen=True)
class BackendStatus:
    """One row of ``flambeau.backends.status()``."""

    name: str
    device_type: str
    distribution: str | None
    version: str | None
    priority: int | None
    #: ``"available"``, ``"unavailable"`` or ``"not installed"``
    status: str
    #: why it is unavailable; for an available backend an optional detail (``"numpy 2.1.0"``)
    reason: str = ""
    #: the pip command that installs it, for ``"not installed"``
    install: str = ""
    #: whether it serves its device type now (by ``use()``, environment variable or priority)
    selected: bool = False


@dataclass
class _Entry:
    """A registered backend: its spec and where it came from."""

    spec: BackendSpec
    plugin: str | None  # pluggy plugin name; None for a runtime-registered spec or class
    distribution: str | None
    version: str | None

    def origin(self) -> str:
        """``backend 'x' (plugin 'p' from flambeau-x 0.1.0)``, for error messages."""
        where = []
        if self.plugin is not None and self.plugin != self.spec.name:
            where.append(f"plugin {self.plugin!r}")
        if self.distribution:
            dist = self.distribution + (f" {self.version}" if self.version else "")
            where.append(f"distribution {dist}")
        elif self.plugin is None:
            where.append("registered at runtime")
        return f"backend {self.spec.name!r}" + (f" ({', '.join(where)})" if where else "")


@dataclass
class _EntryPoint:
    name: str
    value: str
    distribution: str | None
    version: str | None
    state: str = "loaded"  # "loaded", "blocked", "autoload disabled", "broken"


@dataclass
class _Broken:
    plugin: str
    distribution: str | None
    version: str | None
    error: BaseException

    def error_text(self) -> str:
        return f"{type(self.error).__name__}: {self.error}"

    def describe(self) -> str:
        dist = f" (distribution {self.distribution})" if self.distribution else ""
        return f"plugin {self.plugin!r}{dist}: {self.error_text()}"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def env_var_for(device_type: str) -> str:
    """``FLAMBEAU_BACKEND_CPU`` for ``"cpu"``."""
    return ENV_BACKEND_PREFIX + device_type.upper()


class Registry:
    """The state of the plugin system; one per process (``REGISTRY``)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.autoloaded = False
        self.autoload_disabled = False
        self.blocked: frozenset[str] = frozenset()
        self.entry_points: dict[str, _EntryPoint] = {}
        self.broken: dict[str, _Broken] = {}
        self.plugin_dists: dict[str, tuple[str | None, str | None]] = {}
        self.plugin_specs: dict[str, list[BackendSpec]] = {}  # hook results, per plugin
        self.runtime_specs: dict[str, BackendSpec] = {}
        self.runtime_plugins: set[str] = set()
        self.hidden: set[str] = set()  # names unregistered while a plugin still provides them
        self.chosen: dict[str, str] = {}  # device type -> name, from use()
        self.entries: dict[str, _Entry] | None = None  # cache of all backends by name
        self.availability: dict[str, tuple[bool, str, BaseException | None]] = {}
        self.classes: dict[str, type] = {}
        self.by_device: dict[device, Backend] = {}  # canonical device -> instance

    # ------------------------------------------------------------------ discovery
    def autoload(self) -> None:
        """Load the entry points of group ``flambeau.backends``, once, each on its own."""
        if self.autoloaded:
            return
        self.autoloaded = True
        self.autoload_disabled = _env_flag(ENV_DISABLE_AUTOLOAD)
        self.blocked = frozenset(
            n.strip() for n in os.environ.get(ENV_BLOCK, "").split(",") if n.strip()
        )
        for name in self.blocked:
            self.pm.set_blocked(name)
        import importlib.metadata as metadata

        eps: Iterable[metadata.EntryPoint]
        try:
            eps = metadata.entry_points(group=GROUP)
        except Exception as exc:  # a corrupt installation must not break flambeau
            warnings.warn(f"flambeau: cannot read entry points: {exc!r}", RuntimeWarning, 2)
            eps = ()
        for ep in eps:
            if ep.name in self.entry_points:
                continue  # the same distribution seen twice on sys.path
            dist = getattr(ep, "dist", None)
            info = _EntryPoint(
                ep.name,
                ep.value,
                dist.metadata["Name"] if dist is not None else None,
                dist.version if dist is not None else None,
            )
            self.entry_points[ep.name] = info
            if self.autoload_disabled:
                info.state = "autoload disabled"
                continue
            if self.pm.is_blocked(ep.name):
                info.state = "blocked"
                continue
            self.plugin_dists[ep.name] = (info.distribution, info.version)
            try:
                # One entry point per call: pluggy stops at the first failure otherwise.
                self.pm.load_setuptools_entrypoints(GROUP, name=ep.name)
                impls = self.pm.hook.flambeau_backends.get_hookimpls()
                if not any(impl.plugin_name == ep.name for impl in impls):
                    raise RuntimeError(
                        f"entry point {ep.value!r} defines no @flambeau.hookimpl "
                        "flambeau_backends() hook"
                    )
            except Exception as exc:
                info.state = "broken"
                self._mark_broken(ep.name, exc)

    def _mark_broken(self, plugin: str, exc: BaseException) -> None:
        dist, version = self.plugin_dists.get(plugin, (None, None))
        broken = _Broken(plugin, dist, version, exc)
        self.broken[plugin] = broken
        if self.pm.get_plugin(plugin) is not None:
            self.pm.unregister(name=plugin)
        warnings.warn(
            f"flambeau: {broken.describe()} failed to load and is skipped "
            f"(set {ENV_BLOCK}={plugin} to silence this)",
            RuntimeWarning,
            stacklevel=4,
        )

    def _call_hook(self, plugin_name: str, impl) -> list[BackendSpec]:
        result = impl.function()
        if isinstance(result, BackendSpec):
            result = [result]
        if not isinstance(result, (list, tuple)) or not all(
            isinstance(s, BackendSpec) for s in result
        ):
            raise TypeError(
                f"flambeau_backends() of plugin {plugin_name!r} must return a list of "
                f"BackendSpec, got {result!r}"
            )
        return list(result)

    def get_entries(self) -> dict[str, _Entry]:
        """Every registered backend by name (runtime registrations shadow plugins)."""
        entries = self.entries
        if entries is not None:
            return entries
        self.autoload()
        entries = {}
        for impl in self.pm.hook.flambeau_backends.get_hookimpls():
            pname = impl.plugin_name
            specs = self.plugin_specs.get(pname)
            if specs is None:
                try:
                    specs = self._call_hook(pname, impl)
                except Exception as exc:
                    self._mark_broken(pname, exc)
                    continue
                self.plugin_specs[pname] = specs
            dist, version = self.plugin_dists.get(pname, (None, None))
            for spec in specs:
                if spec.name in self.blocked or spec.name in self.hidden:
                    continue
                entry = _Entry(
                    spec, pname, spec.distribution or dist, spec.version or version
                )
                other = entries.get(spec.name)
                if other is not None:
                    warnings.warn(
                        f"flambeau: {entry.origin()} and {other.origin()} share a name; "
                        "keeping the one of higher priority",
                        RuntimeWarning,
                        stacklevel=3,
                    )
                    if other.spec.priority >= spec.priority:
                        continue
                entries[spec.name] = entry
        for name, spec in self.runtime_specs.items():
            entries[name] = _Entry(spec, None, spec.distribution, spec.version)
        self.entries = entries
        return entries

    # ------------------------------------------------------------------ selection
    def check(self, entry: _Entry) -> tuple[bool, str, BaseException | None]:
        """``(ok, reason, exception)`` from the spec's ``is_available``, once per name."""
        name = entry.spec.name
        cached = self.availability.get(name)
        if cached is not None:
            return cached
        probe = entry.spec.is_available
        if probe is None:
            result: tuple[bool, str, BaseException | None] = (True, "", None)
        else:
            try:
                answer = probe()
                if isinstance(answer, tuple):
                    ok, reason = answer
                else:
                    ok, reason = answer, ""
                result = (bool(ok), str(reason or ""), None)
            except Exception as exc:
                result = (False, f"is_available() raised {type(exc).__name__}: {exc}", exc)
        self.availability[name] = result
        return result

    def candidates(self, device_type: str) -> list[_Entry]:
        entries = [e for e in self.get_entries().values() if e.spec.device_type == device_type]
        entries.sort(key=lambda e: (-e.spec.priority, e.spec.name))
        return entries

    def explicit_choice(self, device_type: str) -> tuple[str, str] | None:
        """``(name, how)`` chosen by ``use()`` or the environment variable, else None."""
        if device_type in self.chosen:
            return self.chosen[device_type], f"flambeau.backends.use({device_type!r}, ...)"
        var = env_var_for(device_type)
        value = os.environ.get(var, "").strip()
        if value:
            return value, f"{var}={value}"
        return None

    def select(self, device_type: str) -> list[_Entry]:
        """The entries to try for ``device_type``, in order; raise RuntimeError if none."""
        choice = self.explicit_choice(device_type)
        if choice is not None:
            name, how = choice
            entry = self.get_entries().get(name)
            if entry is None or entry.spec.device_type != device_type:
                raise RuntimeError(self._missing_choice_message(device_type, name, how, entry))
            ok, reason, exc = self.check(entry)
            if not ok:
                raise RuntimeError(
                    f"{entry.origin()}, chosen by {how}, is unavailable: {reason}"
                ) from exc
            return [entry]
        candidates = self.candidates(device_type)
        if not candidates:
            broken = list(self.broken.values())
            raise _unavailable(device_type)(self._no_backend_message(device_type)) from (
                broken[0].error if broken else None
            )
        available, reasons, first_exc = [], [], None
        for entry in candidates:
            ok, reason, exc = self.check(entry)
            if ok:
                available.append(entry)
            else:
                reasons.append(f"{entry.origin()}: {reason}")
                first_exc = first_exc or exc
        if not available:
            raise _unavailable(device_type)(
                f"no available backend for device type {device_type!r}:\n  "
                + "\n  ".join(reasons)
            ) from first_exc
        return available

    def _installed_summary(self) -> str:
        names = [f"{e.spec.name} ({e.spec.device_type})" for e in self.get_entries().values()]
        return ", ".join(sorted(names)) or "none"

    def _notes(self) -> list[str]:
        notes = []
        if self.autoload_disabled:
            notes.append(
                f"Installed plugins were not loaded because {ENV_DISABLE_AUTOLOAD} is set."
            )
        blocked = sorted(n for n, ep in self.entry_points.items() if ep.state == "blocked")
        if blocked:
            notes.append(f"Blocked by {ENV_BLOCK}: {', '.join(blocked)}.")
        for broken in self.broken.values():
            notes.append(f"Failed to load: {broken.describe()}")
        return notes

    def _no_backend_message(self, device_type: str) -> str:
        lines = [
            f"no flambeau backend serves device type {device_type!r}. "
            f"Installed backends: {self._installed_summary()}."
        ]
        known = [
            (name, pip) for name, (dt, _, pip) in KNOWN_BACKENDS.items() if dt == device_type
        ]
        if known:
            lines.append(
                "Install one with: " + " or ".join(f"{pip} (backend {n!r})" for n, pip in known)
            )
        else:
            lines.append(
                f"No backend of this project serves {device_type!r}: install a third-party "
                "backend plugin that does, or register one with flambeau.backends.register()."
            )
        return "\n".join(lines + self._notes())

    def _missing_choice_message(self, device_type, name, how, entry) -> str:
        if entry is not None:
            return (
                f"{how} asks for backend {name!r} for device type {device_type!r}, but "
                f"{name!r} serves {entry.spec.device_type!r}. Backends for {device_type!r}: "
                + (", ".join(e.spec.name for e in self.candidates(device_type)) or "none")
            )
        msg = (
            f"{how} asks for backend {name!r}, which is not installed. "
            f"Installed backends: {self._installed_summary()}."
        )
        if name in KNOWN_BACKENDS:
            msg += f" Install it with: {KNOWN_BACKENDS[name][2]}"
        return "\n".join([msg] + self._notes())

    # ------------------------------------------------------------------ instances
    def canonical(self, dev) -> device:
        d = dev if isinstance(dev, device) else device(dev)
        if d.type == "cpu":
            canon = device("cpu")
        elif d.index is None and d.type in DEFAULT_INDEX:
            canon = device(d.type, DEFAULT_INDEX[d.type])
        else:
            canon = d
        _canonical[dev] = canon
        _canonical[d] = canon
        return canon

    def load_class(self, entry: _Entry) -> type:
        name = entry.spec.name
        cls = self.classes.get(name)
        if cls is not None:
            return cls
        loader = entry.spec.loader
        obj: Any
        try:
            if isinstance(loader, str):
                module_name, _, attr = loader.partition(":")
                obj = importlib.import_module(module_name)
                for part in attr.split("."):
                    obj = getattr(obj, part)
            else:
                obj = loader()
        except Exception as exc:
            raise RuntimeError(
                f"{entry.origin()} failed to load ({type(exc).__name__}: {exc})"
            ) from exc
        if not (isinstance(obj, type) and issubclass(obj, Backend)):
            raise RuntimeError(
                f"{entry.origin()}: its loader {loader!r} gave {obj!r}, not a subclass of "
                "flambeau.backend.Backend"
            )
        self.classes[name] = obj
        return obj

    def instantiate(self, entry: _Entry, canon: device) -> Backend:
        cls = self.load_class(entry)
        try:
            return cls(canon)
        except Exception as exc:
            raise RuntimeError(
                f"{entry.origin()} failed to start on device {canon} "
                f"({type(exc).__name__}: {exc})"
            ) from exc

    def backend_for(self, dev) -> Backend:
        with self.lock:
            canon = self.canonical(dev)
            backend = self.by_device.get(canon)
            if backend is None:
                entries = self.select(canon.type)
                first_error = None
                for entry in entries:
                    try:
                        backend = self.instantiate(entry, canon)
                        break
                    except RuntimeError as exc:
                        if len(entries) == 1:
                            raise
                        first_error = first_error or exc
                        warnings.warn(
                            f"flambeau: {exc}; trying the next backend for {canon.type!r}",
                            RuntimeWarning,
                            stacklevel=4,
                        )
                if backend is None:
                    assert first_error is not None
                    raise first_error
                self.by_device[canon] = backend
            _instances[dev] = backend
            _instances[canon] = backend
            _instances[str(canon)] = backend
            return backend

    def forget(self, device_types) -> None:
        """Drop cached choices and instances for ``device_types`` (all if None)."""
        self.entries = None
        for key in list(_instances):
            if device_types is None or device(key).type in device_types:
                del _instances[key]
        for canon in list(self.by_device):
            if device_types is None or canon.type in device_types:
                del self.by_device[canon]

    # ------------------------------------------------------------------ public operations
    def register(self, obj, *, name=None, priority=None) -> str:
        with self.lock:
            if isinstance(obj, type) and issubclass(obj, Backend):
                spec = self._spec_for_class(obj, name, priority)
                return self._register_spec(spec)
            if isinstance(obj, BackendSpec):
                if name is not None or priority is not None:
                    raise TypeError(
                        "register(BackendSpec) takes no name/priority: set them in the spec"
                    )
                return self._register_spec(obj)
            return self._register_plugin(obj, name)

    def _spec_for_class(self, cls, name, priority) -> BackendSpec:
        name = name or cls.name
        if name in ("abstract", "array-module"):
            raise ValueError(
                f"{cls.__name__} has no backend name: set the class attribute `name` or pass "
                "register(cls, name=...)"
            )
        return BackendSpec(
            name=name,
            device_type=cls.device_type,
            priority=0 if priority is None else priority,
            loader=lambda: cls,
            distribution=None,
            version=getattr(cls, "__version__", None),
        )

    def _register_spec(self, spec: BackendSpec) -> str:
        types = {spec.device_type}
        old = (self.entries or {}).get(spec.name)  # a re-registration may change device type
        if old is not None:
            types.add(old.spec.device_type)
        if spec.name in self.runtime_specs:
            types.add(self.runtime_specs[spec.name].device_type)
        self.runtime_specs[spec.name] = spec
        self.hidden.discard(spec.name)
        self._forget_name(spec.name)
        self.forget(types)
        return spec.name

    def _register_plugin(self, plugin, name) -> str:
        if self.pm.parse_hookimpl_opts(plugin, "flambeau_backends") is None:
            raise TypeError(
                f"register() takes a Backend subclass, a BackendSpec, or a plugin with a "
                f"@flambeau.hookimpl flambeau_backends() function; got {plugin!r}"
            )
        # Re-registering (a re-run notebook cell) replaces the earlier registration.
        if self.pm.is_registered(plugin):
            self.pm.unregister(plugin)
        if name is not None and name in self.runtime_plugins and self.pm.get_plugin(name):
            self._unregister_plugin(name)
        pname = self.pm.register(plugin, name=name)
        assert pname is not None
        impl = next(
            i for i in self.pm.hook.flambeau_backends.get_hookimpls() if i.plugin_name == pname
        )
        try:
            specs = self._call_hook(pname, impl)
        except Exception as exc:
            self.pm.unregister(name=pname)
            raise RuntimeError(f"plugin {pname!r}: flambeau_backends() failed: {exc}") from exc
        self.runtime_plugins.add(pname)
        self.plugin_specs[pname] = specs
        self.broken.pop(pname, None)
        for spec in specs:
            self.hidden.discard(spec.name)
            self._forget_name(spec.name)
        self.forget({s.device_type for s in specs})
        return pname

    def _unregister_plugin(self, pname: str) -> set[str]:
        types = {s.device_type for s in self.plugin_specs.pop(pname, [])}
        self.pm.unregister(name=pname)
        self.runtime_plugins.discard(pname)
        return types

    def _forget_name(self, name: str) -> None:
        self.availability.pop(name, None)
        self.classes.pop(name, None)

    def unregister(self, name: str) -> None:
        with self.lock:
            entries = self.get_entries()
            types: set[str] = set()
            if name in self.runtime_specs:  # a shadowed installed backend comes back
                types.add(self.runtime_specs.pop(name).device_type)
            elif name in self.runtime_plugins:
                types |= self._unregister_plugin(name)
            elif name in entries:  # provided by an installed plugin: hide it
                self.hidden.add(name)
                types.add(entries[name].spec.device_type)
            elif self.pm.get_plugin(name) is not None:  # an installed plugin, by its name
                types |= self._unregister_plugin(name)
            else:
                raise ValueError(
                    f"no backend or plugin named {name!r} is registered; registered backends: "
                    f"{self._installed_summary()}"
                )
            self._forget_name(name)
            for device_type, chosen in list(self.chosen.items()):
                if chosen == name:
                    del self.chosen[device_type]
            self.forget(types)

    def use(self, device_type: str, name: str | None) -> None:
        with self.lock:
            if name is None:
                self.chosen.pop(device_type, None)
            else:
                entry = self.get_entries().get(name)
                if entry is None or entry.spec.device_type != device_type:
                    how = f"flambeau.backends.use({device_type!r}, {name!r})"
                    raise ValueError(
                        self._missing_choice_message(device_type, name, how, entry)
                    )
                self.chosen[device_type] = name
            self.forget({device_type})

    def list_backends(self, device_type=None) -> list[BackendSpec]:
        with self.lock:
            specs = [e.spec for e in self.get_entries().values()]
        if device_type is not None:
            specs = [s for s in specs if s.device_type == device_type]
        return sorted(specs, key=lambda s: (s.device_type, -s.priority, s.name))

    def is_available(self, device_type: str) -> bool:
        with self.lock:
            try:
                self.select(device_type)
            except RuntimeError:
                return False
            return True

    def status(self) -> list[BackendStatus]:
        with self.lock:
            entries = self.get_entries()
            selected = set()
            for device_type in {e.spec.device_type for e in entries.values()}:
                try:
                    selected.add(self.select(device_type)[0].spec.name)
                except RuntimeError:
                    pass
            rows = []
            for e in entries.values():
                ok, reason, _ = self.check(e)
                rows.append(
                    BackendStatus(
                        name=e.spec.name,
                        device_type=e.spec.device_type,
                        distribution=e.distribution,
                        version=e.version,
                        priority=e.spec.priority,
                        status="available" if ok else "unavailable",
                        reason=reason,
                        selected=e.spec.name in selected,
                    )
                )
            shown = set(entries)
            for ep in self.entry_points.values():
                if ep.state == "loaded" or ep.name in shown:
                    continue
                if ep.state == "broken":
                    why = "failed to load: " + self.broken[ep.name].error_text()
                elif ep.state == "blocked":
                    why = f"blocked by {ENV_BLOCK}"
                else:
                    why = f"not loaded: {ENV_DISABLE_AUTOLOAD} is set"
                rows.append(
                    BackendStatus(
                        name=ep.name,
                        device_type=KNOWN_BACKENDS.get(ep.name, ("?",))[0],
                        distribution=ep.distribution,
                        version=ep.version,
                        priority=None,
                        status="unavailable",
                        reason=why,
                    )
                )
                shown.add(ep.name)
            for pname, broken in self.broken.items():
                if pname in shown:
                    continue
                rows.append(
                    BackendStatus(
                        name=pname,
                        device_type="?",
                        distribution=broken.distribution,
                        version=broken.version,
                        priority=None,
                        status="unavailable",
                        reason="failed to load: " + broken.error_text(),
                    )
                )
                shown.add(pname)
            for name, (device_type, dist, pip) in KNOWN_BACKENDS.items():
                if name not in shown:
                    rows.append(
                        BackendStatus(
                            name=name,
                            device_type=device_type,
                            distribution=dist,
                            version=None,
                            priority=None,
                            status="not installed",
                            install=pip,
                        )
                    )
        rows.sort(key=lambda r: (r.device_type, r.status != "available", r.name))
        return rows


REGISTRY = Registry()
