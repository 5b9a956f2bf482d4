"""``Rprop``, as ``torch.optim.Rprop``."""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ._tensor_steps import check_lr, scalar_state
from .optimizer import Optimizer, _check_grad, _scalar

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Resilient backpropagation: each element keeps its own step size, multiplied by
    ``etaplus`` while the gradient keeps its sign and by ``etaminus`` when it flips (clamped to
    ``step_sizes``); the parameter moves by ``-sign(g) * step_size``, and not at all on a flip.
    Per-parameter state: ``step``, ``prev`` (the last gradient used), ``step_size``.

    >>> import flambeau
    >>> w = flambeau.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = flambeau.optim.Rprop([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {
            "lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable, "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _fix_loaded_group(self, group, state):
        super()._fix_loaded_group(group, state)
        group["etas"] = tuple(group["etas"])
        group["step_sizes"] = tuple(group["step_sizes"])

    @no_grad()
    def step(self, closure=None):
        """Perform one optimization step; ``closure`` (optional) re-evaluates the loss."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = _check_grad(p, "Rprop")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = scalar_state(p, 0.0)
                    state["prev"] = p.detach().new_zeros(p.shape)
                    state["step_size"] = p.detach().new_full(p.shape, _scalar(group["lr"]))
                state["step"].add_(1)
                prev, step_size = state["prev"], state["step_size"]
                grad = -grad if group["maximize"] else grad
                sign = grad.mul(prev).sign()
                # the factor per element: etaplus (same sign), etaminus (flip), 1 (a zero)
                sign.masked_fill_(sign.gt(0), etaplus)
                sign.masked_fill_(sign.lt(0), etaminus)
                sign.masked_fill_(sign.eq(0), 1)
                step_size.mul_(sign).clamp_(step_size_min, step_size_max)
                # after a sign flip the gradient counts as zero: no move, no flip next time
                grad = grad.masked_fill(sign.eq(etaminus), 0)
                p.addcmul_(grad.sign(), step_size, value=-1)
                prev.copy_(grad)
        return loss
