"""``RReLU`` and ``FeatureAlphaDropout``, as ``torch.nn``: layers that draw random numbers in
training mode (``nn.functional.rrelu`` / ``feature_alpha_dropout``)."""
from __future__ import annotations

from flambeau._module import Module

from .dropout import _DropoutNd

__all__ = ["RReLU", "FeatureAlphaDropout"]


class RReLU(Module):
    """Randomized leaky ReLU: slopes drawn from U(lower, upper) in training, their mean in
    eval."""

    __constants__ = ["lower", "upper", "inplace"]

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input):
        from .. import functional as F

        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"lower={self.lower}, upper={self.upper}{inplace_str}"


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels (for SELU networks)."""

    def forward(self, input):
        from .. import functional as F

        return F.feature_alpha_dropout(input, self.p, self.training)
