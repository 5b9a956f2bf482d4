"""``Adadelta``, as ``torch.optim.Adadelta``."""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ._tensor_steps import check_lr, scalar_state
from .optimizer import Optimizer, _check_grad, _scalar

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012): ``s = rho s + (1 - rho) g^2``,
    ``delta = sqrt(u + eps) / sqrt(s + eps) * g``, ``u = rho u + (1 - rho) delta^2``,
    ``param -= lr * delta``. Per-parameter state: ``step``, ``square_avg``, ``acc_delta``.

    >>> import flambeau
    >>> w = flambeau.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = flambeau.optim.Adadelta([w], lr=1.0)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.9968, -1.9968], requires_grad=True)
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
            "maximize": maximize, "capturable": capturable, "foreach": foreach,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure=None):
        """Perform one optimization step; ``closure`` (optional) re-evaluates the loss."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, rho, eps = _scalar(group["lr"]), group["rho"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = _check_grad(p, "Adadelta")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = scalar_state(p, 0.0)
                    state["square_avg"] = p.detach().new_zeros(p.shape)
                    state["acc_delta"] = p.detach().new_zeros(p.shape)
                state["step"].add_(1)
                square_avg, acc_delta = state["square_avg"], state["acc_delta"]
                grad = -grad if group["maximize"] else grad
                if group["weight_decay"] != 0:
                    grad = grad.add(p, alpha=group["weight_decay"])
                square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
                std = square_avg.add(eps).sqrt_()
                delta = acc_delta.add(eps).sqrt_().div_(std).mul_(grad)
                acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
                p.add_(delta, alpha=-lr)
        return loss
