"""``NAdam``, as ``torch.optim.NAdam``."""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ._tensor_steps import (
    apply_weight_decay,
    check_betas_eps_wd,
    check_lr,
    scalar_state,
    update_moments_,
)
from .optimizer import Optimizer, _check_grad, _scalar

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """Adam with Nesterov momentum (Dozat, 2016), with momentum decay: at step ``t``
    ``mu_t = beta1 (1 - 0.5 * 0.96^(t * momentum_decay))``; the update mixes the current
    gradient (weight ``(1 - mu_t) / (1 - prod mu)``) and the first moment (weight
    ``mu_{t+1} / (1 - prod mu * mu_{t+1})``), both over ``sqrt(v / (1 - beta2^t)) + eps``.
    ``decoupled_weight_decay`` multiplies ``param`` by ``1 - lr * weight_decay`` instead of
    adding an L2 term. Per-parameter state: ``step``, ``mu_product``, ``exp_avg``,
    ``exp_avg_sq``.

    >>> import flambeau
    >>> w = flambeau.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = flambeau.optim.NAdam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.8944, -1.8944], requires_grad=True)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check_lr(lr)
        check_betas_eps_wd(betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
            "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize, "foreach": foreach, "capturable": capturable,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _fix_loaded_group(self, group, state):
        super()._fix_loaded_group(group, state)
        group["betas"] = tuple(group["betas"])
        for p in group["params"]:
            s = state.get(p)
            if s and "mu_product" in s and not hasattr(s["mu_product"], "item"):
                s["mu_product"] = scalar_state(p, float(s["mu_product"]))

    @no_grad()
    def step(self, closure=None):
        """Perform one optimization step; ``closure`` (optional) re-evaluates the loss."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, eps, wd = _scalar(group["lr"]), group["eps"], group["weight_decay"]
            beta1, beta2 = (_scalar(b) for b in group["betas"])
            momentum_decay = group["momentum_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = _check_grad(p, "NAdam")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = scalar_state(p, 0.0)
                    state["mu_product"] = scalar_state(p, 1.0)
                    state["exp_avg"] = p.detach().new_zeros(p.shape)
                    state["exp_avg_sq"] = p.detach().new_zeros(p.shape)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                grad = -grad if group["maximize"] else grad
                step = state["step"].add_(1).item()
                bias_correction2 = 1 - beta2 ** step
                grad = apply_weight_decay(p, grad, lr, wd, group["decoupled_weight_decay"])
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                mu_product = state["mu_product"].mul_(mu).item()
                update_moments_(exp_avg, exp_avg_sq, grad, beta1, beta2)
                denom = exp_avg_sq.div(bias_correction2).sqrt().add_(eps)
                mu_product_next = mu_product * mu_next
                p.addcdiv_(grad, denom, value=-lr * (1.0 - mu) / (1.0 - mu_product))
                p.addcdiv_(exp_avg, denom, value=(-lr * mu_next) / (1.0 - mu_product_next))
        return loss
