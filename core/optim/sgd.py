"""``SGD``: stochastic gradient descent with momentum, dampening, Nesterov momentum, weight
decay and maximisation, as ``torch.optim.SGD``."""
from __future__ import annotations

from .optimizer import Optimizer, _check_grad, _scalar, _zeros_like

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum).

    With ``g = grad + weight_decay * param`` (negated first when ``maximize``), momentum keeps
    ``buf = momentum * buf + (1 - dampening) * g`` (``buf = g`` on the first step) and uses
    ``g + momentum * buf`` (``nesterov``) or ``buf``; then ``param -= lr * g``. The state of
    each parameter is ``{"momentum_buffer": tensor}`` once momentum is in use.

    >>> import flambeau
    >>> w = flambeau.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = flambeau.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr, "momentum": momentum, "dampening": dampening,
            "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
            "foreach": foreach, "differentiable": differentiable, "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one optimization step; ``closure`` (optional) re-evaluates the loss."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            momentum = group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = _check_grad(p, "SGD")
                buf = None
                first = False
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = _zeros_like(p)
                        first = True
                p._backend.sgd_step(
                    p._data, grad._data, None if buf is None else buf._data, lr, momentum,
                    group["dampening"], group["nesterov"], group["weight_decay"],
                    group["maximize"], first,
                )
                p._vc[0] += 1
                if buf is not None:
                    buf._vc[0] += 1
        return loss
