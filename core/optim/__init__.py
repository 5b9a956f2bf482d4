"""``flambeau.optim``: optimizers and learning-rate schedulers, as ``torch.optim``.

Optimizers update their parameters in place through backend composites (``Backend.sgd_step``,
``adam_step``, ``rmsprop_step``, ``adagrad_step``) that a backend may fuse; their results agree
with PyTorch's single-tensor implementations to rounding. ``Adadelta``, ``Adamax``, ``NAdam``,
``RAdam``, ``ASGD`` and ``Rprop`` are compositions of tensor ops. See ``docs/optim.md``.
"""
from __future__ import annotations

from . import lr_scheduler, swa_utils
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax",
           "NAdam", "RAdam", "ASGD", "Rprop", "LBFGS", "lr_scheduler", "swa_utils"]
