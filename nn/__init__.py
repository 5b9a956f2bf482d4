"""``flambeau.nn``: the module system (from core), layers, ``functional``, ``init``, losses, ``utils``.

>>> from flambeau import nn
>>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> list(net.state_dict())
['0.weight', '0.bias', '2.weight', '2.bias']
"""
from flambeau._module import Buffer, Module, Parameter, UninitializedParameter  # noqa: F401

from . import (  # noqa: F401,E402
           functional,
           init,
           modules,  # noqa: F401
           parameter,
           utils,
)
from .modules import *  # noqa: F401,F403

__all__ = ["Module", "Parameter", "Buffer", "UninitializedParameter", "functional", "init",
           "utils", "parameter", "modules"] + list(modules.__all__)
