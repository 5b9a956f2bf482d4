"""``Adagrad``, as ``torch.optim.Adagrad`` (learning-rate decay, weight decay, initial
accumulator value)."""
from __future__ import annotations

from .optimizer import Optimizer, _check_grad, _increment_step, _new_step, _scalar, _zeros_like

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad: ``sum += g^2``, ``param -= clr * g / (sqrt(sum) + eps)`` with
    ``clr = lr / (1 + (step - 1) * lr_decay)``.

    The state (``step`` and ``sum``, filled with ``initial_accumulator_value``) is created for
    every parameter when the optimizer is built, as in PyTorch.

    >>> import flambeau
    >>> w = flambeau.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = flambeau.optim.Adagrad([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}"
            )
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {
            "lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable, "fused": fused,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p):
        state = self.state[p]
        state["step"] = _new_step(p)
        state["sum"] = _zeros_like(p, self.defaults["initial_accumulator_value"])
        return state

    def step(self, closure=None):
        """Perform one optimization step; ``closure`` (optional) re-evaluates the loss."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = _check_grad(p, "Adagrad")
                state = self.state[p]
                if len(state) == 0:  # a group added after construction
                    state = self._init_state(p)
                step = _increment_step(state["step"])
                state_sum = state["sum"]
                p._backend.adagrad_step(
                    p._data, grad._data, state_sum._data, step, lr, group["lr_decay"],
                    group["weight_decay"], group["eps"], group["maximize"],
                )
                p._vc[0] += 1
                state_sum._vc[0] += 1
        return loss
