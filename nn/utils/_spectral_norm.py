"""``spectral_norm`` / ``remove_spectral_norm``: the hook-based spectral normalization of
``torch.nn.utils`` (Miyato et al., 2018), as GAN discriminators use it. The parameter ``name``
becomes ``name_orig``; buffers ``name_u`` and ``name_v`` hold the power-iteration vectors
(drawn from N(0, 1) and normalised, as PyTorch draws them); before every forward
``name = name_orig / sigma`` with ``sigma = u . (W v)``, after ``n_power_iterations`` steps of
power iteration in training mode (none in eval mode).

>>> import flambeau
>>> from flambeau import nn
>>> m = nn.utils.spectral_norm(nn.Linear(20, 40))                 # doctest: +SKIP
>>> m.weight_u.shape                                              # doctest: +SKIP
flambeau.Size([40])
"""
from __future__ import annotations

import flambeau
from flambeau._module import Parameter

from ._weight_norm import _remove_norm_hook

__all__ = ["spectral_norm", "remove_spectral_norm", "SpectralNorm"]


def _normalize(x, eps):
    from ..functional import normalize

    return normalize(x, dim=0, eps=eps)


class SpectralNorm:
    """The forward pre-hook that divides the weight by its largest singular value."""

    _version = 1

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight):
        weight_mat = weight
        if self.dim != 0:
            weight_mat = weight_mat.movedim(self.dim, 0)
        return weight_mat.reshape(weight_mat.shape[0], -1)

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with flambeau.no_grad():
                for _ in range(self.n_power_iterations):
                    # the buffers are updated in place, as PyTorch's normalize(out=...)
                    v.copy_(_normalize(flambeau.mv(weight_mat.t(), u), self.eps))
                    u.copy_(_normalize(flambeau.mv(weight_mat, v), self.eps))
                u = u.clone()
                v = v.clone()
        sigma = flambeau.dot(u, flambeau.mv(weight_mat, v))
        return weight / sigma

    def remove(self, module):
        with flambeau.no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name,
                self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two spectral_norm hooks on the same parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        with flambeau.no_grad():
            weight_mat = fn.reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            u = _normalize(weight.new_empty(h).normal_(0, 1), fn.eps)
            v = _normalize(weight.new_empty(w).normal_(0, 1), fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        setattr(module, fn.name, weight.detach())
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Spectrally normalise ``module.<name>``. ``dim`` (the output dim) defaults to 1 for
    transposed convolutions and 0 otherwise. Returns ``module``."""
    if dim is None:
        from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d

        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Fold the spectral normalization of ``module.<name>`` back into one parameter."""
    return _remove_norm_hook(module, SpectralNorm, name, "spectral_norm")
