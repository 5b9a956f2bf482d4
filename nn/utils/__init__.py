"""``flambeau.nn.utils``: gradient clipping and parameter/vector conversion."""
import importlib.util as _util

from . import clip_grad, convert_parameters  # noqa: F401
from .clip_grad import clip_grad_norm, clip_grad_norm_, clip_grad_value_, get_total_norm  # noqa: F401
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401

if _util.find_spec(f"{__name__}.rnn") is not None:  # packed sequences (the recurrent layers' part)
    from . import rnn  # noqa: F401

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters"]
