"""``flambeau.utils.checkpoint``: activation checkpointing, as ``torch.utils.checkpoint``.

PyTorch's checkpointing saves memory by dropping a block's activations in the forward pass and
recomputing them in backward; the values and gradients are the same as without it. flambeau
runs the block directly (keeping its activations), so a program written for PyTorch computes the
same numbers; what remains of PyTorch's behaviour is the part programs can observe: the warning
without ``use_reentrant``, and with ``use_reentrant=True`` no gradient (and a warning) when no
input tensor requires grad.

>>> import flambeau
>>> from flambeau.utils.checkpoint import checkpoint
>>> lin = flambeau.nn.Linear(3, 3)
>>> y = checkpoint(lin, flambeau.randn(2, 3), use_reentrant=False)
>>> y.requires_grad
True
"""
from __future__ import annotations

import warnings

from .._tensor import Tensor
from ..autograd.grad_mode import no_grad

__all__ = ["checkpoint", "checkpoint_sequential"]


def _resolve_reentrant(use_reentrant, name):
    if use_reentrant is None:
        warnings.warn(
            f"torch.utils.checkpoint{name}: the use_reentrant parameter should be passed "
            "explicitly. Starting in PyTorch 2.9, calling checkpoint without use_reentrant will "
            "raise an exception. use_reentrant=False is recommended, but if you need to "
            "preserve the current default behavior, you can pass use_reentrant=True. Refer to "
            "docs for more details on the differences between the two variants.",
            stacklevel=3)
        return True
    return use_reentrant


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default",
               debug=False, early_stop=True, **kwargs):
    """``function(*args, **kwargs)``, with PyTorch's checkpoint semantics for gradients."""
    use_reentrant = _resolve_reentrant(use_reentrant, "")
    kwargs.pop("preserve_rng_state", True)
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if context_fn is not None or debug is not False:
            raise ValueError(
                "Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        if not any(a.requires_grad for a in args if isinstance(a, Tensor)):
            # the reentrant variant is a Function of the input tensors only
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                          stacklevel=2)
            with no_grad():
                return function(*args)
    return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (a list or ``nn.Sequential``) in order, ``segments`` - 1 chunks of
    them through ``checkpoint``."""
    use_reentrant = _resolve_reentrant(use_reentrant, ".checkpoint_sequential")
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    from ..nn import Sequential

    if isinstance(functions, Sequential):
        functions = list(functions.children())

    def run(start, end):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)
