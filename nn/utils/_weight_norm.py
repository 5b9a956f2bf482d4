"""``weight_norm`` / ``remove_weight_norm``: the hook-based weight normalization of
``torch.nn.utils`` (deprecated in PyTorch in favour of ``parametrizations.weight_norm``, but in
wide use). The parameter ``name`` is replaced by ``name_g`` (magnitude) and ``name_v``
(direction); a forward pre-hook recomputes ``name = name_v * name_g / ||name_v||`` before every
forward. State dict keys and parameter order are PyTorch's.

>>> import flambeau
>>> from flambeau import nn
>>> m = nn.utils.weight_norm(nn.Linear(20, 40), name="weight")   # doctest: +SKIP
>>> m.weight_g.shape, m.weight_v.shape                            # doctest: +SKIP
(flambeau.Size([40, 1]), flambeau.Size([40, 20]))
"""
from __future__ import annotations

import warnings

from flambeau._module import Parameter

__all__ = ["weight_norm", "remove_weight_norm", "WeightNorm"]


def norm_except_dim(v, pow=2, dim=0):
    """The ``pow``-norm of ``v`` over every dim but ``dim``, shaped to broadcast against ``v``
    (``dim=-1``: the norm of the whole tensor, 0-d)."""
    if dim == -1:
        return v.norm(pow)
    dim = dim % v.dim()
    moved = v.movedim(dim, 0).reshape(v.shape[dim], -1)
    shape = [1] * v.dim()
    shape[dim] = v.shape[dim]
    return moved.norm(pow, dim=1).reshape(shape)


class WeightNorm:
    """The forward pre-hook that recomputes the weight from its magnitude and direction."""

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / norm_except_dim(v, 2, self.dim))

    @staticmethod
    def apply(module, name, dim):
        warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                      "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning,
                      stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two weight_norm hooks on the same parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_g",
                                  Parameter(norm_except_dim(weight, 2, fn.dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Reparametrize ``module.<name>`` as ``g * v / ||v||`` (norm over all dims but ``dim``;
    ``dim=None`` for one norm of the whole tensor). Returns ``module``."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Fold the weight normalization of ``module.<name>`` back into one parameter."""
    return _remove_norm_hook(module, WeightNorm, name, "weight_norm")


def _remove_norm_hook(module, hook_type, name, what):
    """Undo the ``hook_type`` reparametrization of ``module.<name>`` (``hook.remove``) and drop
    its forward pre-hook; ``what`` names the function that applied it, for the error."""
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, hook_type) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"{what} of '{name}' not found in {module}")
