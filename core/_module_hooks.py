"""Module backward hooks (``Module.register_full_backward_hook`` and
``register_full_backward_pre_hook``), as PyTorch implements them: the tensors going into and
coming out of a hooked module pass through identity autograd nodes. The output node sees the
gradients of the outputs (``grad_output``; pre-hooks may replace them); the input node sees the
gradients of the inputs (``grad_input``) and calls the hooks, which may replace them. When no
input requires grad, the hooks are called from the output node with ``grad_input`` all None.
"""
from __future__ import annotations

import warnings

from ._tensor import Tensor
from .autograd.function import Function


class _Identity(Function):
    """Passes tensors through; calls ``callback(grads)`` in backward and returns its result
    (or the gradients unchanged)."""

    @staticmethod
    def forward(ctx, callback, *tensors):
        ctx.callback = callback
        ctx.set_materialize_grads(False)
        return tuple(t.view_as(t) for t in tensors)

    @staticmethod
    def backward(ctx, *grads):
        out = ctx.callback(grads)
        return (None,) + tuple(out if out is not None else grads)


def _tensors(values):
    return [i for i, v in enumerate(values) if isinstance(v, Tensor)]


def _scatter(n, index, values):
    """A length-``n`` tuple holding ``values`` at the positions ``index``, None elsewhere."""
    full = [None] * n
    for i, v in zip(index, values):
        full[i] = v
    return tuple(full)


def _through_identity(on_grads, values, index):
    """``values`` (as a list) with those at ``index`` passed through one ``_Identity`` node,
    whose backward calls ``on_grads`` with their gradients."""
    wrapped = _Identity.apply(on_grads, *[values[i] for i in index])
    if isinstance(wrapped, Tensor):
        wrapped = (wrapped,)
    values = list(values)
    for i, t in zip(index, wrapped):
        values[i] = t
    return values


class BackwardHook:
    """One forward pass's hooks state: wraps the inputs before ``forward`` and the outputs
    after it."""

    def __init__(self, module, hooks, pre_hooks):
        self.module = module
        self.hooks = hooks
        self.pre_hooks = pre_hooks
        self.grad_outputs = None
        self.n_inputs = 0
        self.input_index = None

    def _call_hooks(self, grad_inputs):
        for hook in self.hooks:
            res = hook(self.module, grad_inputs, self.grad_outputs)
            if res is None:
                continue
            res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
            if len(res) != len(grad_inputs):
                raise RuntimeError(
                    f"Backward hook returned an invalid number of grad_input, got {len(res)}, "
                    f"but expected {len(grad_inputs)}")
            grad_inputs = res
        return grad_inputs

    def setup_input_hook(self, args):
        self.n_inputs = len(args)
        index = [i for i in _tensors(args) if args[i].requires_grad]
        if not index:
            return args
        self.input_index = index

        def on_grad_inputs(grads):
            full = self._call_hooks(_scatter(self.n_inputs, index, grads))
            return tuple(full[i] for i in index)

        return tuple(_through_identity(on_grad_inputs, args, index))

    def setup_output_hook(self, result):
        single = isinstance(result, Tensor)
        outputs = (result,) if single else result
        if not isinstance(outputs, tuple):
            return result
        index = [i for i in _tensors(outputs) if outputs[i].requires_grad]
        if not index:
            return result
        n_out = len(outputs)

        def on_grad_outputs(grads):
            full = _scatter(n_out, index, grads)
            for hook in self.pre_hooks:
                res = hook(self.module, full)
                if res is not None:
                    full = tuple(res) if isinstance(res, (tuple, list)) else (res,)
            self.grad_outputs = full
            if self.input_index is None:  # no input requires grad: call the hooks now
                if self.hooks:
                    warnings.warn(
                        "Full backward hook is firing when gradients are computed with respect "
                        "to module outputs since no inputs require gradients. See "
                        "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                        "#torch.nn.Module.register_full_backward_hook for more details.",
                        stacklevel=2)
                res = self._call_hooks((None,) * self.n_inputs)
                if any(r is not None for r in res):
                    raise RuntimeError(
                        "Backward hook for Modules where no input requires gradient should "
                        "always return None or None for all gradients.")
            return tuple(full[i] for i in index)

        outputs = _through_identity(on_grad_outputs, outputs, index)
        return outputs[0] if single else tuple(outputs)
