"""``RMSprop``, as ``torch.optim.RMSprop`` (centered variant, momentum, weight decay)."""
from __future__ import annotations

from .optimizer import Optimizer, _check_grad, _increment_step, _new_step, _scalar, _zeros_like

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop: ``s = alpha s + (1 - alpha) g^2``, ``param -= lr * g / (sqrt(s) + eps)``.

    ``centered`` subtracts the square of the running mean of ``g`` from ``s``; ``momentum``
    accumulates ``g / (sqrt(s) + eps)`` in a buffer. Per-parameter state: ``step``,
    ``square_avg`` and, when used, ``momentum_buffer`` and ``grad_avg``.

    >>> import flambeau
    >>> w = flambeau.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = flambeau.optim.RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {
            "lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
            "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one optimization step; ``closure`` (optional) re-evaluates the loss."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            momentum, centered = group["momentum"], group["centered"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = _check_grad(p, "RMSprop")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step(p)
                    state["square_avg"] = _zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_like(p)
                    if centered:
                        state["grad_avg"] = _zeros_like(p)
                _increment_step(state["step"])
                square_avg = state["square_avg"]
                buf = state["momentum_buffer"] if momentum > 0 else None
                grad_avg = state["grad_avg"] if centered else None
                p._backend.rmsprop_step(
                    p._data, grad._data, square_avg._data,
                    None if grad_avg is None else grad_avg._data,
                    None if buf is None else buf._data, lr, group["alpha"], group["eps"],
                    group["weight_decay"], momentum, centered, group["maximize"],
                )
                for t in (p, square_avg, buf, grad_avg):
                    if t is not None:
                        t._vc[0] += 1
        return loss
