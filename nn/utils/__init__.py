"""``flambeau.nn.utils``: gradient clipping, parameter/vector conversion, weight and spectral
normalization."""
import importlib.util as _util

from . import clip_grad, convert_parameters, parametrizations, parametrize  # noqa: F401
from ._spectral_norm import remove_spectral_norm, spectral_norm  # noqa: F401
from ._weight_norm import remove_weight_norm, weight_norm  # noqa: F401
from .clip_grad import (  # noqa: F401
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401

if _util.find_spec(f"{__name__}.rnn") is not None:  # packed sequences (the recurrent layers' part)
    from . import rnn  # noqa: F401

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_",
           "parameters_to_vector", "vector_to_parameters", "weight_norm", "remove_weight_norm",
           "spectral_norm", "remove_spectral_norm"]
