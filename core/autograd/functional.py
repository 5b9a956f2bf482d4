"""Higher-level autograd helpers: jacobian, hessian, vjp, jvp (``torch.autograd.functional``)."""
from __future__ import annotations

from .engine import _as_tuple
from .engine import grad as _grad


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    ins = tuple(i.detach().requires_grad_() for i in _as_tuple(inputs))
    out = func(*ins)
    outs = _as_tuple(out)
    vs = _as_tuple(v) if v is not None else (None,) * len(outs)
    gs = _grad(outs, ins, vs, create_graph=create_graph, allow_unused=True)
    gs = tuple(g if g is not None else i.new_zeros(i.shape) for g, i in zip(gs, ins))
    res = gs if isinstance(inputs, (tuple, list)) else gs[0]
    return (out if create_graph else _detach(out)), res


def _detach(x):
    if isinstance(x, (tuple, list)):
        return type(x)(o.detach() for o in x)
    return x.detach()


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: shape ``out.shape + in.shape`` per pair."""
    from .._creation import zeros_like

    single_in = not isinstance(inputs, (tuple, list))
    ins = tuple(i.detach().requires_grad_() for i in _as_tuple(inputs))
    out = func(*ins)
    single_out = not isinstance(out, (tuple, list))
    outs = _as_tuple(out)
    from .._ops.shape import stack as _stack

    result = []
    for o in outs:
        rows = [[] for _ in ins]
        for r in range(o.numel()):
            go = zeros_like(o)
            go.reshape(-1)[r] = 1
            gs = _grad(o, ins, go, retain_graph=True, create_graph=create_graph, allow_unused=True)
            for k, (g, i) in enumerate(zip(gs, ins)):
                rows[k].append(g if g is not None else zeros_like(i))
        per_in = []
        for k, i in enumerate(ins):
            if rows[k]:
                j = _stack(rows[k], 0).reshape(tuple(o.shape) + tuple(i.shape))
            else:
                j = i.new_zeros(tuple(o.shape) + tuple(i.shape))
            per_in.append(j if create_graph else j.detach())
        result.append(per_in[0] if single_in else tuple(per_in))
    return result[0] if single_out else tuple(result)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    single_in = not isinstance(inputs, (tuple, list))

    def grad_fn(*ins):
        out = func(*ins)
        gs = _grad(out, ins, create_graph=True, allow_unused=True)
        gs = tuple(g if g is not None else i * 0 for g, i in zip(gs, ins))
        return gs[0] if single_in else gs

    return jacobian(grad_fn, inputs, create_graph=create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """Jacobian-vector product through the double-vjp trick."""
    ins = tuple(i.detach().requires_grad_() for i in _as_tuple(inputs))
    out = func(*ins)
    outs = _as_tuple(out)
    us = tuple(o.new_zeros(o.shape).requires_grad_() for o in outs)
    gs = _grad(outs, ins, us, create_graph=True, allow_unused=True)
    vs = _as_tuple(v) if v is not None else tuple(i.new_ones(i.shape) for i in ins)
    pairs = [(g, vv) for g, vv in zip(gs, vs) if g is not None]
    res = _grad([g for g, _ in pairs], us, [vv for _, vv in pairs], create_graph=create_graph,
                allow_unused=True)
    res = tuple(r if r is not None else o.new_zeros(o.shape) for r, o in zip(res, outs))
    return _detach(out), (res if isinstance(out, (tuple, list)) else res[0])


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)`` for a scalar ``func``, H its Hessian at ``inputs``."""
    ins = tuple(i.detach().requires_grad_() for i in _as_tuple(inputs))
    out = func(*ins)
    if out.numel() != 1:
        raise RuntimeError(
            "The function given to hvp/vhp should return a single element Tensor, but it "
            f"returned a Tensor of {out.numel()} elements")
    gs = _grad(out, ins, create_graph=True, allow_unused=True)
    if v is None:
        if any(i.numel() != 1 for i in ins):
            raise RuntimeError(
                "The vector v can only be None if the input to the user-provided function is a "
                "single Tensor with a single element.")
        vs = tuple(i.new_ones(i.shape) for i in ins)
    else:
        vs = _as_tuple(v)
    pairs = [(g, vv) for g, vv in zip(gs, vs) if g is not None]
    res = _grad([g for g, _ in pairs], ins, [vv for _, vv in pairs], create_graph=create_graph,
                allow_unused=True) if pairs else (None,) * len(ins)
    res = tuple(r if r is not None else i.new_zeros(i.shape) for r, i in zip(res, ins))
    if not create_graph:
        res = tuple(r.detach() for r in res)
    return _detach(out), (res if isinstance(inputs, (tuple, list)) else res[0])


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)`` for a scalar ``func``; the Hessian of a twice-differentiable
    function is symmetric, so this is ``vhp``."""
    return vhp(func, inputs, v, create_graph=create_graph, strict=strict)
