"""The plugin system: lazy discovery, runtime registration, choice of backend, environment
variables, broken plugins, error messages and the ``python -m flambeau`` report.

Checks that depend on the process's start-up (what ``import flambeau`` imports, environment
variables read when plugins are first loaded, broken installed plugins) run in a subprocess.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

import flambeau
from flambeau import backends
from flambeau.backend import ArrayModuleBackend
from flambeau.backends import BackendSpec

HAS_NUMPY_BACKEND = importlib.util.find_spec("flambeau_numpy") is not None
HAS_CUDA_BACKEND = importlib.util.find_spec("flambeau_cuda") is not None
needs_numpy_backend = pytest.mark.skipif(not HAS_NUMPY_BACKEND, reason="flambeau-numpy missing")


def make_backend(name, device_type, init=None):
    """A ``Backend`` subclass over NumPy, as a notebook user would write it."""

    def __init__(self, device):
        if init is not None:
            init()
        import numpy

        ArrayModuleBackend.__init__(self, device, numpy)

    return type(
        f"{name.title().replace('-', '')}Backend",
        (ArrayModuleBackend,),
        {"name": name, "device_type": device_type, "__init__": __init__},
    )


NotebookBackend = make_backend("notebook", "notebookdev")


@pytest.fixture
def reg(monkeypatch):
    """``register`` that undoes itself (and any ``use``) after the test."""
    names, used = [], []
    real_use = backends.use

    def register(obj, **kwargs):
        name = backends.register(obj, **kwargs)
        names.append(name)
        return name

    def use(device_type, name):
        used.append(device_type)
        real_use(device_type, name)

    monkeypatch.setattr(backends, "use", use)
    yield register
    for device_type in used:
        real_use(device_type, None)
    for name in reversed(names):
        try:
            backends.unregister(name)
        except ValueError:
            pass  # the test unregistered it itself


def run_python(code, env=None, pythonpath=None, args=None):
    """Run ``code`` (or ``python <args>``) in a fresh interpreter with only the given
    FLAMBEAU_* variables set."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FLAMBEAU_")}
    environ.update(env or {})
    if pythonpath:
        environ["PYTHONPATH"] = os.pathsep.join(
            [str(pythonpath)] + ([environ["PYTHONPATH"]] if environ.get("PYTHONPATH") else [])
        )
    argv = [sys.executable] + (args if args is not None else ["-c", textwrap.dedent(code)])
    proc = subprocess.run(argv, capture_output=True, text=True, env=environ, timeout=300)
    return proc


def check_ok(proc):
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


# ---------------------------------------------------------------------- lazy loading


def test_import_flambeau_imports_no_backend():
    out = check_ok(
        run_python(
            """
            import sys
            import flambeau
            heavy = ("numpy", "cupy", "flambeau_numpy", "flambeau_cuda", "flambeau_testbackend")
            loaded = [m for m in heavy if m in sys.modules]
            assert not loaded, f"import flambeau imported {loaded}"
            flambeau.backends.list_backends()
            assert "numpy" not in sys.modules, "plugin discovery imported numpy"
            assert "cupy" not in sys.modules, "plugin discovery imported cupy"
            print("plugins:", "flambeau_numpy" in sys.modules)
            """
        )
    )
    assert "plugins:" in out


@needs_numpy_backend
def test_first_cpu_tensor_loads_numpy():
    check_ok(
        run_python(
            """
            import sys
            import flambeau
            assert "numpy" not in sys.modules
            flambeau.zeros(2)
            assert "numpy" in sys.modules and "flambeau_numpy.backend" in sys.modules
            """
        )
    )


# ---------------------------------------------------------------------- get_backend


def test_get_backend_is_one_instance_per_device():
    cpu = backends.get_backend("cpu")
    assert cpu is backends.get_backend(flambeau.device("cpu"))
    assert cpu is backends.get_backend("cpu:0")
    assert cpu.device == flambeau.device("cpu")


def test_get_backend_hot_path_skips_the_registry(monkeypatch):
    cpu = backends.get_backend(flambeau.device("cpu"))
    backends.get_backend("cpu")
    monkeypatch.setattr(backends, "_registry", lambda: pytest.fail("registry on the hot path"))
    assert backends.get_backend("cpu") is cpu
    assert backends.get_backend(flambeau.device("cpu")) is cpu


@needs_numpy_backend
def test_numpy_backend_serves_cpu(monkeypatch):
    from flambeau_numpy.backend import NumpyBackend

    if os.environ.get("FLAMBEAU_BACKEND_CPU", "numpy") != "numpy":
        pytest.skip("FLAMBEAU_BACKEND_CPU chooses another backend")
    backend = backends.get_backend("cpu")
    assert isinstance(backend, NumpyBackend)
    assert backend.name == "numpy" and backend.device_type == "cpu"


@pytest.mark.parametrize(
    "given, expected",
    [
        ("cpu", "cpu"),
        ("cpu:0", "cpu"),
        ("cuda", "cuda:0"),
        ("cuda:1", "cuda:1"),
        ("mydev", "mydev"),
        ("mydev:0", "mydev:0"),
        ("mydev:3", "mydev:3"),
    ],
)
def test_canonical_device(given, expected):
    for value in (given, flambeau.device(given)):
        canon = backends.canonical_device(value)
        assert isinstance(canon, flambeau.device)
        assert canon == flambeau.device(expected)
        assert canon.index == flambeau.device(expected).index
    assert backends.canonical_device(given) is backends.canonical_device(given)


def test_bare_cuda_is_cuda0_and_indices_are_distinct(reg):
    reg(make_backend("fakecuda", "cuda"))
    backends.use("cuda", "fakecuda")
    assert backends.get_backend("cuda") is backends.get_backend("cuda:0")
    assert backends.get_backend(flambeau.device("cuda")).device == flambeau.device("cuda:0")
    assert backends.get_backend("cuda:1").device.index == 1
    assert backends.get_backend("cuda:1") is not backends.get_backend("cuda:0")


def test_bad_device_strings_raise():
    with pytest.raises((ValueError, TypeError)):
        backends.get_backend("cuda:x")
    with pytest.raises(TypeError):
        backends.get_backend(["cpu"])


# ---------------------------------------------------------------------- runtime registration


def test_register_backend_class_in_one_line(reg):
    assert reg(NotebookBackend) == "notebook"
    assert "notebook" in [s.name for s in backends.list_backends("notebookdev")]
    backend = backends.get_backend("notebookdev")
    assert isinstance(backend, NotebookBackend)
    assert backend.device == flambeau.device("notebookdev")
    # third-party device types keep the index as given: one instance per concrete device
    assert backends.get_backend("notebookdev:2").device.index == 2
    assert backends.get_backend("notebookdev:2") is not backend

    x = flambeau.zeros(3, device="notebookdev")
    assert x.device == flambeau.device("notebookdev")
    y = flambeau.tensor([1.0, 2.0]).to("notebookdev:1")
    assert y.device == flambeau.device("notebookdev:1")
    assert y.to("cpu").tolist() == [1.0, 2.0]

    backends.unregister("notebook")
    with pytest.raises(RuntimeError, match="notebookdev"):
        backends.get_backend("notebookdev")


def test_register_spec_with_string_loader(reg):
    spec = BackendSpec(
        name="notebook-spec",
        device_type="specdev",
        loader=f"{__name__}:NotebookBackend",
        distribution="flambeau-notebook",
        version="9.9",
    )
    assert reg(spec) == "notebook-spec"
    assert isinstance(backends.get_backend("specdev"), NotebookBackend)
    (row,) = [r for r in backends.status() if r.name == "notebook-spec"]
    assert (row.device_type, row.distribution, row.version, row.status) == (
        "specdev",
        "flambeau-notebook",
        "9.9",
        "available",
    )


def test_register_plugin_object(reg):
    class Plugin:
        @flambeau.hookimpl
        def flambeau_backends(self):
            return [
                BackendSpec(
                    name="plugged",
                    device_type="plugdev",
                    loader=lambda: make_backend("plugged", "plugdev"),
                )
            ]

    assert reg(Plugin(), name="my-plugin") == "my-plugin"
    assert backends.get_backend("plugdev:1").name == "plugged"
    backends.unregister("my-plugin")
    assert "plugged" not in [s.name for s in backends.list_backends()]
    with pytest.raises(RuntimeError):
        backends.get_backend("plugdev:1")


def test_register_rejects_what_is_not_a_backend():
    with pytest.raises(TypeError, match="hookimpl"):
        backends.register(object())
    with pytest.raises(ValueError, match="name"):
        backends.register(ArrayModuleBackend)  # no name of its own
    with pytest.raises(ValueError, match="no backend or plugin"):
        backends.unregister("never-registered")


def test_reregistering_a_name_replaces_it(reg):
    first = make_backend("rerun", "rerundev")
    second = make_backend("rerun", "rerundev")
    reg(first)
    assert isinstance(backends.get_backend("rerundev"), first)
    reg(second)  # the notebook cell, run again
    assert isinstance(backends.get_backend("rerundev"), second)


# ---------------------------------------------------------------------- choosing a backend


def test_priority_then_env_then_use(reg, monkeypatch):
    monkeypatch.delenv("FLAMBEAU_BACKEND_CHOICEDEV", raising=False)
    low, high = make_backend("low", "choicedev"), make_backend("high", "choicedev")
    reg(low, priority=1)
    reg(high, priority=5)
    assert backends.get_backend("choicedev").name == "high"

    monkeypatch.setenv("FLAMBEAU_BACKEND_CHOICEDEV", "low")
    backends.use("choicedev", None)  # forget the cached choice; the variable is read again
    assert backends.get_backend("choicedev").name == "low"

    backends.use("choicedev", "high")  # explicit choice beats the variable
    assert backends.get_backend("choicedev").name == "high"
    assert [r.name for r in backends.status() if r.selected and r.device_type == "choicedev"] == [
        "high"
    ]

    monkeypatch.setenv("FLAMBEAU_BACKEND_CHOICEDEV", "missing")
    backends.use("choicedev", None)
    with pytest.raises(RuntimeError, match="FLAMBEAU_BACKEND_CHOICEDEV=missing"):
        backends.get_backend("choicedev")
    with pytest.raises(ValueError, match="missing"):
        backends.use("choicedev", "missing")


def test_equal_priorities_pick_the_first_name(reg):
    reg(make_backend("tie-b", "tiedev"))
    reg(make_backend("tie-a", "tiedev"))
    assert backends.get_backend("tiedev").name == "tie-a"


def test_unavailable_backend_says_why_and_yields_to_the_next(reg):
    reg(
        BackendSpec(
            name="sick",
            device_type="sickdev",
            priority=10,
            loader=lambda: make_backend("sick", "sickdev"),
            is_available=lambda: (False, "no frobnicator attached"),
        )
    )
    with pytest.raises(RuntimeError, match="no frobnicator attached"):
        backends.get_backend("sickdev")
    assert backends.is_available("sickdev") is False
    (row,) = [r for r in backends.status() if r.name == "sick"]
    assert (row.status, row.reason) == ("unavailable", "no frobnicator attached")

    reg(make_backend("healthy", "sickdev"), priority=0)
    assert backends.get_backend("sickdev").name == "healthy"
    assert backends.is_available("sickdev") is True


# ---------------------------------------------------------------------- broken plugins


def test_broken_loader_is_named_with_the_cause(reg):
    def loader():
        raise ImportError("libfrobnicate.so: cannot open shared object file")

    reg(
        BackendSpec(
            name="broken",
            device_type="brokendev",
            loader=loader,
            distribution="flambeau-broken",
        )
    )
    with pytest.raises(RuntimeError, match="broken") as info:
        backends.get_backend("brokendev")
    assert "flambeau-broken" in str(info.value)
    assert isinstance(info.value.__cause__, ImportError)
    # the other backends keep working, and the report still comes out
    assert backends.get_backend("cpu").device == flambeau.device("cpu")
    assert any(r.name == "broken" for r in backends.status())


def test_broken_constructor_and_probe_are_named_with_the_cause(reg):
    def explode():
        raise ValueError("device busy")

    reg(make_backend("crashy", "crashdev", init=explode))
    with pytest.raises(RuntimeError, match="crashy.*failed to start") as info:
        backends.get_backend("crashdev")
    assert isinstance(info.value.__cause__, ValueError)

    def probe():
        raise OSError("driver missing")

    reg(
        BackendSpec(
            name="probed",
            device_type="probedev",
            loader=lambda: make_backend("probed", "probedev"),
            is_available=probe,
        )
    )
    with pytest.raises(RuntimeError, match="driver missing") as info:
        backends.get_backend("probedev")
    assert isinstance(info.value.__cause__, OSError)
    assert backends.get_backend("cpu") is not None


def test_a_failing_backend_falls_back_to_the_next_one(reg):
    def explode():
        raise ValueError("out of order")

    reg(make_backend("first", "fallbackdev", init=explode), priority=2)
    reg(make_backend("second", "fallbackdev"), priority=1)
    with pytest.warns(RuntimeWarning, match="out of order"):
        assert backends.get_backend("fallbackdev").name == "second"


def write_fake_distribution(root, dist, module, source):
    """Install a plugin distribution by hand: a module and its .dist-info with an entry point."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[flambeau.backends]\n{module} = {module}\n")


@pytest.fixture
def broken_site(tmp_path):
    """A folder holding two broken installed plugins: one fails to import, one's hook raises."""
    write_fake_distribution(
        tmp_path, "flambeau-broken", "brokenplugin", 'raise ImportError("broken on purpose")\n'
    )
    write_fake_distribution(
        tmp_path,
        "flambeau-badhook",
        "badhook",
        """
        import flambeau

        @flambeau.hookimpl
        def flambeau_backends():
            raise ValueError("hook exploded")
        """,
    )
    return tmp_path


def test_broken_installed_plugins_break_nothing_else(broken_site):
    out = check_ok(
        run_python(
            """
            import warnings
            import flambeau
            from flambeau import backends

            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                specs = backends.list_backends()
            messages = " | ".join(str(w.message) for w in caught)
            assert "broken on purpose" in messages and "hook exploded" in messages, messages
            rows = {r.name: r for r in backends.status()}
            assert rows["brokenplugin"].status == "unavailable"
            assert "broken on purpose" in rows["brokenplugin"].reason
            assert rows["brokenplugin"].distribution == "flambeau-broken"
            assert "hook exploded" in rows["badhook"].reason
            try:
                backends.get_backend("nosuchdev")
            except RuntimeError as exc:
                assert "flambeau-broken" in str(exc), exc
                assert exc.__cause__ is not None
            else:
                raise AssertionError("no error for an unknown device type")
            if specs:  # whatever else is installed still works
                backends.get_backend(specs[0].device_type)
            print("fine")
            """,
            pythonpath=broken_site,
        )
    )
    assert "fine" in out

    report = check_ok(run_python(None, pythonpath=broken_site, args=["-m", "flambeau"]))
    assert "brokenplugin" in report and "broken on purpose" in report
    assert "hook exploded" in report


def test_block_list_skips_a_broken_plugin(broken_site):
    check_ok(
        run_python(
            """
            import sys, warnings
            from flambeau import backends

            with warnings.catch_warnings():
                warnings.simplefilter("error")  # nothing left to warn about
                backends.list_backends()
            assert "brokenplugin" not in sys.modules and "badhook" not in sys.modules
            rows = {r.name: r for r in backends.status()}
            assert "FLAMBEAU_BLOCK_PLUGINS" in rows["brokenplugin"].reason
            """,
            env={"FLAMBEAU_BLOCK_PLUGINS": "brokenplugin, badhook"},
            pythonpath=broken_site,
        )
    )


# ---------------------------------------------------------------------- environment variables


def test_disable_autoload_leaves_only_runtime_backends():
    check_ok(
        run_python(
            """
            import sys
            import flambeau
            from flambeau import backends
            from flambeau.backend import ArrayModuleBackend

            assert backends.list_backends() == []
            assert not [m for m in sys.modules if m.startswith("flambeau_")]
            try:
                backends.get_backend("cpu")
            except RuntimeError as exc:
                assert "FLAMBEAU_DISABLE_PLUGIN_AUTOLOAD" in str(exc), exc
            else:
                raise AssertionError("cpu should have no backend")

            class Mine(ArrayModuleBackend):
                name = "mine"
                device_type = "cpu"
                def __init__(self, device):
                    import numpy
                    super().__init__(device, numpy)

            backends.register(Mine)
            assert backends.get_backend("cpu").name == "mine"
            assert flambeau.ones(2).tolist() == [1.0, 1.0]
            """,
            env={"FLAMBEAU_DISABLE_PLUGIN_AUTOLOAD": "1"},
        )
    )


@needs_numpy_backend
def test_block_list_skips_the_numpy_plugin():
    check_ok(
        run_python(
            """
            import sys
            from flambeau import backends

            assert "numpy" not in [s.name for s in backends.list_backends()]
            assert "flambeau_numpy" not in sys.modules
            try:
                backends.get_backend("cpu")
            except RuntimeError as exc:
                assert "FLAMBEAU_BLOCK_PLUGINS" in str(exc), exc
            else:
                raise AssertionError("cpu should have no backend")
            (row,) = [r for r in backends.status() if r.name == "numpy"]
            assert row.status == "unavailable" and "blocked" in row.reason
            """,
            env={"FLAMBEAU_BLOCK_PLUGINS": "numpy"},
        )
    )


def test_env_var_chooses_the_cpu_backend():
    check_ok(
        run_python(
            """
            from flambeau import backends
            from flambeau.backend import ArrayModuleBackend

            class Alt(ArrayModuleBackend):
                name = "alt"
                device_type = "cpu"
                def __init__(self, device):
                    import numpy
                    super().__init__(device, numpy)

            backends.register(Alt, priority=-100)
            assert backends.get_backend("cpu").name == "alt"
            """,
            env={"FLAMBEAU_BACKEND_CPU": "alt"},
        )
    )


# ---------------------------------------------------------------------- errors and report


def test_unknown_device_type_names_installed_backends():
    with pytest.raises(RuntimeError) as info:
        backends.get_backend("nosuchdev")
    message = str(info.value)
    assert "'nosuchdev'" in message and "Installed backends" in message
    assert "flambeau.backends.register" in message
    with pytest.raises(RuntimeError, match="nosuchdev"):
        flambeau.zeros(1, device="nosuchdev")


@pytest.mark.skipif(HAS_CUDA_BACKEND, reason="flambeau-cuda is installed")
def test_missing_cuda_backend_gives_the_pip_command():
    with pytest.raises(RuntimeError, match=r'pip install "flambeau\[cuda\]"'):
        backends.get_backend("cuda:0")
    assert backends.is_available("cuda") is False
    (row,) = [r for r in backends.status() if r.name == "cuda"]
    assert row.status == "not installed" and row.install == 'pip install "flambeau[cuda]"'


def test_status_rows():
    rows = backends.status()
    names = [r.name for r in rows]
    assert len(names) == len(set(names))
    assert {"numpy", "cuda"} <= set(names)  # known backends are listed, installed or not
    for r in rows:
        assert r.status in ("available", "unavailable", "not installed"), r
        assert (r.status == "not installed") == bool(r.install), r
    if HAS_NUMPY_BACKEND:
        (numpy_row,) = [r for r in rows if r.name == "numpy"]
        assert numpy_row.status == "available" and numpy_row.distribution == "flambeau-numpy"
        assert numpy_row.version


def test_python_m_flambeau_report():
    out = check_ok(run_python(None, args=["-m", "flambeau"]))
    for word in ("flambeau", "Python", "platform", "NumPy", "pluggy", "cuda", "status"):
        assert word in out, f"{word!r} missing from:\n{out}"
    if HAS_NUMPY_BACKEND:
        assert "flambeau-numpy" in out and "available" in out
    if not HAS_CUDA_BACKEND:
        assert 'pip install "flambeau[cuda]"' in out


def test_backend_spec_is_a_checked_frozen_record():
    spec = BackendSpec(name="x", device_type="xdev", loader="pkg.mod:Cls")
    assert spec.priority == 0 and spec.is_available is None
    with pytest.raises(AttributeError):
        spec.priority = 3
    with pytest.raises(TypeError):
        BackendSpec("x", "xdev", "pkg.mod:Cls")  # keyword-only
    with pytest.raises(ValueError, match="device_type"):
        BackendSpec(name="x", device_type="x dev", loader="pkg.mod:Cls")
    with pytest.raises(ValueError, match="loader"):
        BackendSpec(name="x", device_type="xdev", loader="pkg.mod.Cls")


def test_hookimpl_marker_and_contract():
    import pluggy

    from flambeau import hookspecs

    assert isinstance(flambeau.hookimpl, pluggy.HookimplMarker)
    assert flambeau.hookimpl.project_name == "flambeau"
    assert "BackendSpec" in hookspecs.flambeau_backends.__doc__


def test_third_party_testbackend_plugs_in_through_its_entry_point():
    pytest.importorskip("flambeau_testbackend")
    from flambeau_testbackend.backend import TestdevBackend

    assert "testbackend" in [s.name for s in backends.list_backends("testdev")]
    assert isinstance(backends.get_backend("testdev"), TestdevBackend)
    x = flambeau.ones(2, device="testdev:1")
    assert x.device == flambeau.device("testdev:1")
    assert (x + x).to("cpu").tolist() == [2.0, 2.0]
