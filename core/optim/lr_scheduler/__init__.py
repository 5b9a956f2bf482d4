"""Learning-rate schedulers, as ``torch.optim.lr_scheduler``.

A scheduler wraps an optimizer and rewrites ``group["lr"]`` of its param groups each time its
``step()`` is called (once per epoch or per batch, after ``optimizer.step()``). Building one
performs the first step, so the optimizer starts at the schedule's first value, and records
``group["initial_lr"]``. The chainable schedulers compute each value from the current one, by
PyTorch's formulas, so that their sequences match PyTorch's step by step and several of them
can act on one optimizer; ``step(epoch)`` (deprecated in PyTorch) uses the closed form.

>>> import flambeau
>>> w = flambeau.zeros(2, requires_grad=True)
>>> opt = flambeau.optim.SGD([w], lr=0.1)
>>> sched = flambeau.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> for epoch in range(4):
...     opt.step()
...     sched.step()
>>> sched.get_last_lr()
[0.025]
"""
from __future__ import annotations

from ._base import EPOCH_DEPRECATION_WARNING, LRScheduler, _LRScheduler  # noqa: F401
from ._composed import ChainedScheduler, ReduceLROnPlateau, SequentialLR
from ._cyclic import CyclicLR, OneCycleLR
from ._decay import (
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)

__all__ = [
    "LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
    "LinearLR", "ExponentialLR", "SequentialLR", "CosineAnnealingLR", "ChainedScheduler",
    "ReduceLROnPlateau", "CyclicLR", "CosineAnnealingWarmRestarts", "OneCycleLR", "PolynomialLR",
]

for _cls in (LRScheduler, LambdaLR, MultiplicativeLR, StepLR, MultiStepLR, ConstantLR, LinearLR,
             ExponentialLR, SequentialLR, CosineAnnealingLR, ChainedScheduler, ReduceLROnPlateau,
             CyclicLR, CosineAnnealingWarmRestarts, OneCycleLR, PolynomialLR):
    _cls.__module__ = __name__  # the public path, as in PyTorch
del _cls
