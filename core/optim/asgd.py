"""``ASGD``, as ``torch.optim.ASGD``."""
from __future__ import annotations

from .._creation import tensor
from ..autograd.grad_mode import no_grad
from ._tensor_steps import check_lr, scalar_state
from .optimizer import Optimizer, _check_grad, _scalar

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky, 1992): ``param = param (1 - lambd eta) - eta g``, and
    the average ``ax`` follows ``param`` once ``step > t0``. The step size decays as
    ``eta = lr / (1 + lambd lr t)^alpha`` and the averaging rate as ``mu = 1 / max(1, t - t0)``.
    Per-parameter state: ``step``, ``eta``, ``mu``, ``ax`` (the averaged parameter).

    >>> import flambeau
    >>> w = flambeau.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = flambeau.optim.ASGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
            "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _fix_loaded_group(self, group, state):
        super()._fix_loaded_group(group, state)
        for p in group["params"]:
            s = state.get(p)
            for key in ("eta", "mu"):
                if s and key in s and not hasattr(s[key], "item"):
                    s[key] = scalar_state(p, float(s[key]))

    @no_grad()
    def step(self, closure=None):
        """Perform one optimization step; ``closure`` (optional) re-evaluates the loss."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0 = _scalar(group["lr"]), group["lambd"], group["alpha"], group["t0"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = _check_grad(p, "ASGD")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = scalar_state(p, 0.0)
                    state["eta"] = scalar_state(p, lr)
                    state["mu"] = scalar_state(p, 1.0)
                    state["ax"] = p.detach().new_zeros(p.shape)
                grad = -grad if group["maximize"] else grad
                step = state["step"].add_(1).item()
                if group["weight_decay"] != 0:
                    grad = grad.add(p, alpha=group["weight_decay"])
                eta = state["eta"].item()
                p.mul_(1 - lambd * eta)
                p.add_(grad, alpha=-eta)
                ax, mu = state["ax"], state["mu"]
                if mu.item() != 1:
                    ax.add_(p.sub(ax).mul_(mu))
                else:
                    ax.copy_(p)
                # through a default-dtype tensor, as PyTorch's torch.as_tensor(float) rounds
                state["eta"].copy_(tensor(lr / ((1 + lambd * lr * step) ** alpha)))
                mu.copy_(tensor(1 / max(1, step - t0)))
        return loss
