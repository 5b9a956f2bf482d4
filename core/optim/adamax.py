"""``Adamax``, as ``torch.optim.Adamax``."""
from __future__ import annotations

from .._ops.elementwise import maximum
from ..autograd.grad_mode import no_grad
from ._tensor_steps import check_betas_eps_wd, check_lr, lerp_, scalar_state
from .optimizer import Optimizer, _check_grad, _scalar

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax, Adam's infinity-norm variant: ``m = lerp(m, g, 1 - beta1)``,
    ``u = max(beta2 u, |g| + eps)``, ``param -= lr / (1 - beta1^t) * m / u``. Per-parameter
    state: ``step``, ``exp_avg``, ``exp_inf``.

    >>> import flambeau
    >>> w = flambeau.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = flambeau.optim.Adamax([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        check_betas_eps_wd(betas, eps, weight_decay)
        defaults = {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
            "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _fix_loaded_group(self, group, state):
        super()._fix_loaded_group(group, state)
        group["betas"] = tuple(group["betas"])  # a list after a trip through JSON

    @no_grad()
    def step(self, closure=None):
        """Perform one optimization step; ``closure`` (optional) re-evaluates the loss."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, eps = _scalar(group["lr"]), group["eps"]
            beta1, beta2 = (_scalar(b) for b in group["betas"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = _check_grad(p, "Adamax")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = scalar_state(p, 0.0)
                    state["exp_avg"] = p.detach().new_zeros(p.shape)
                    state["exp_inf"] = p.detach().new_zeros(p.shape)
                step = state["step"].add_(1).item()
                exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
                grad = -grad if group["maximize"] else grad
                if group["weight_decay"] != 0:
                    grad = grad.add(p, alpha=group["weight_decay"])
                lerp_(exp_avg, grad, 1 - beta1)
                exp_inf.copy_(maximum(exp_inf.mul_(beta2), grad.abs().add_(eps)))
                clr = lr / (1 - beta1 ** step)
                p.addcdiv_(exp_avg, exp_inf, value=-clr)
        return loss
