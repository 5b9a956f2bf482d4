"""``flambeau.nn.parameter``: ``Parameter`` and ``Buffer`` (defined in core, ``flambeau._module``)."""
from flambeau._module import Buffer, Parameter, UninitializedParameter

__all__ = ["Parameter", "Buffer", "UninitializedParameter"]
