"""``flambeau.optim``: optimizers and learning-rate schedulers, as ``torch.optim``.

Optimizers update their parameters in place through backend composites (``Backend.sgd_step``,
``adam_step``, ``rmsprop_step``, ``adagrad_step``) that a backend may fuse; their results agree
with PyTorch's single-tensor implementations to rounding. See ``docs/optim.md``.
"""
from __future__ import annotations

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "LBFGS", "lr_scheduler"]
