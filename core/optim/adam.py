"""``Adam`` and ``AdamW``, as ``torch.optim.Adam``/``AdamW`` (AMSGrad, maximisation, L2 or
decoupled weight decay)."""
from __future__ import annotations

from ._tensor_steps import check_betas_eps_wd
from .optimizer import Optimizer, _check_grad, _increment_step, _new_step, _scalar, _zeros_like

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam: ``m = beta1 m + (1 - beta1) g``, ``v = beta2 v + (1 - beta2) g^2``,
    ``param -= lr * m_hat / (sqrt(v_hat) + eps)`` with bias-corrected moments.

    ``weight_decay`` adds ``weight_decay * param`` to the gradient (an L2 penalty), or, with
    ``decoupled_weight_decay=True`` (what ``AdamW`` sets), multiplies ``param`` by
    ``1 - lr * weight_decay`` before the update. ``amsgrad`` normalises by the running maximum
    of ``v``. Per-parameter state: ``step`` (a 0-d float32 tensor), ``exp_avg``,
    ``exp_avg_sq`` and, with AMSGrad, ``max_exp_avg_sq``.

    >>> import flambeau
    >>> w = flambeau.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = flambeau.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        check_betas_eps_wd(betas, eps, weight_decay)
        defaults = {
            "lr": lr, "betas": tuple(_scalar(b) for b in betas), "eps": eps,
            "weight_decay": weight_decay, "amsgrad": amsgrad, "maximize": maximize,
            "foreach": foreach, "capturable": capturable, "differentiable": differentiable,
            "fused": fused, "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _fix_loaded_group(self, group, state):
        super()._fix_loaded_group(group, state)
        group["betas"] = tuple(group["betas"])  # a list after a trip through JSON

    def step(self, closure=None):
        """Perform one optimization step; ``closure`` (optional) re-evaluates the loss."""
        loss = self._run_closure(closure)
        name = type(self).__name__
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            beta1, beta2 = group["betas"]
            amsgrad = group["amsgrad"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = _check_grad(p, name)
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step(p)
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = _zeros_like(p)
                step = _increment_step(state["step"])
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                max_sq = state["max_exp_avg_sq"] if amsgrad else None
                p._backend.adam_step(
                    p._data, grad._data, exp_avg._data, exp_avg_sq._data,
                    None if max_sq is None else max_sq._data, step, lr, _scalar(beta1),
                    _scalar(beta2), group["eps"], group["weight_decay"],
                    group["decoupled_weight_decay"], amsgrad, group["maximize"],
                )
                for t in (p, exp_avg, exp_avg_sq, max_sq):
                    if t is not None:
                        t._vc[0] += 1
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``param *= 1 - lr *
    weight_decay`` before each Adam update; the decay never enters the moments.

    >>> import flambeau
    >>> w = flambeau.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = flambeau.optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.8500, -1.8000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def _fix_loaded_group(self, group, state):
        super()._fix_loaded_group(group, state)
        group["decoupled_weight_decay"] = True
