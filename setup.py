"""Maps the source folders to import names: ``core/`` is ``flambeau``, ``nn/`` is ``flambeau.nn``.

Everything else about the distribution is in ``pyproject.toml``.
"""
from setuptools import find_packages, setup

packages = ["flambeau", "flambeau.nn"]
packages += [f"flambeau.{p}" for p in find_packages("core")]
packages += [f"flambeau.nn.{p}" for p in find_packages("nn")]

setup(packages=packages)
