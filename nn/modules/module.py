"""``flambeau.nn.modules.module``: the ``Module`` base class (defined in core, ``flambeau._module``)."""
from flambeau._module import (
    Module,
    RemovableHandle,
    _addindent,
    _IncompatibleKeys,
    register_module_forward_hook,
    register_module_forward_pre_hook,
)

__all__ = ["Module", "register_module_forward_hook", "register_module_forward_pre_hook"]
_ = (RemovableHandle, _addindent, _IncompatibleKeys)
