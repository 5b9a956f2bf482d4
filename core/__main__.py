"""``python -m flambeau``: an environment report to paste into a bug report.

Prints the versions of flambeau, Python, the platform, NumPy and pluggy, the flambeau
environment variables that are set, then one row per backend: installed and usable,
installed but unavailable (with the reason), or not installed (with the pip command).
A broken plugin shows up as a row; it never stops the report.
"""
from __future__ import annotations

import os
import platform
import sys


def _version(dist: str, module: str | None = None) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        pass
    if module is not None:
        try:
            return getattr(__import__(module), "__version__", "unknown")
        except Exception:
            pass
    return "not installed"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def report() -> str:
    """The environment report as text."""
    import warnings

    lines = [
        f"flambeau   {_version('flambeau', 'flambeau')}",
        f"Python     {sys.version.split()[0]} ({platform.python_implementation()}, "
        f"{sys.executable})",
        f"platform   {platform.platform()}",
        f"NumPy      {_version('numpy', 'numpy')}",
        f"pluggy     {_version('pluggy', 'pluggy')}",
    ]
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith("FLAMBEAU_"))
    for key, value in env:
        lines.append(f"env        {key}={value}")
    lines.append("")
    try:
        from flambeau import backends

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # broken plugins are rows of the table below
            rows = backends.status()
    except Exception as exc:  # the report must come out whatever happens
        lines.append(f"backends: cannot list them: {type(exc).__name__}: {exc}")
        return "\n".join(lines)
    table = []
    for r in rows:
        detail = r.install if r.status == "not installed" else r.reason
        table.append(
            [
                ("* " if r.selected else "  ") + r.name,
                r.device_type,
                r.distribution or "(runtime)",
                r.version or "-",
                r.status,
                detail,
            ]
        )
    lines.append(
        _table(["  backend", "device", "distribution", "version", "status", "details"], table)
    )
    lines.append("")
    lines.append("* serves its device type by default")
    return "\n".join(lines)


def main() -> int:
    print(report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
