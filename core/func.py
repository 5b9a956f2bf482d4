"""``flambeau.func``: function transforms, as ``torch.func`` (functorch).

``grad``, ``jacrev``, ``hessian``, ``vjp`` and ``jvp`` are built on the autograd engine (always
recording a differentiable graph, so transforms nest: ``grad(grad(f))``, ``jacrev(jacrev(f))``);
``vmap`` runs the function once per slice and stacks the results, which gives the same values
as PyTorch's batching rules (slower for large batches). ``functional_call`` runs a module with
substituted parameters and buffers.

>>> import flambeau
>>> from flambeau.func import grad, vmap
>>> x = flambeau.tensor([0.0, 1.0, 2.0])
>>> vmap(grad(lambda t: t.sin()))(x)       # cos(x), one scalar function per element
tensor([ 1.0000,  0.5403, -0.4161])
"""
from __future__ import annotations

import contextlib

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp",
           "stack_module_state", "vjp", "vmap"]


def _tensor_cls():
    from ._tensor import Tensor

    return Tensor


def _tree_map(fn, obj):
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_tree_map(fn, o) for o in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_tree_map(fn, o) for o in obj)
    if isinstance(obj, dict):
        return {k: _tree_map(fn, v) for k, v in obj.items()}
    return fn(obj)


def _leaves(obj):
    out = []
    _tree_map(lambda t: out.append(t), obj)
    return out


# =============================================================================
# vmap
# =============================================================================


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Map ``func`` over a dim of its inputs: ``vmap(f)(x)[i] == f(x[i])``.

    ``in_dims`` is an int (for every argument), or a tuple with one entry per argument (an
    int, or None for an argument that is not mapped, or a nested structure matching the
    argument); ``out_dims`` places the mapped dim in the outputs.
    """
    def wrapped(*args, **kwargs):
        dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(
                f"vmap(...)(<inputs>): in_dims is not compatible with the structure of `inputs`. "
                f"in_dims has {len(dims)} elements, but inputs has {len(args)}")
        size = None
        Tensor = _tensor_cls()

        def find_size(arg, d):
            nonlocal size
            if d is None:
                return
            if isinstance(arg, Tensor):
                n = arg.shape[d]
                if size is not None and n != size:
                    raise ValueError(
                        f"vmap: Expected all tensors to have the same size in the mapped "
                        f"dimension, got both {size} and {n} for the mapped dimension")
                size = n
            elif isinstance(arg, (list, tuple)):
                sub = d if isinstance(d, (list, tuple)) else (d,) * len(arg)
                for a, dd in zip(arg, sub):
                    find_size(a, dd)
            elif isinstance(arg, dict):
                for k, a in arg.items():
                    find_size(a, d[k] if isinstance(d, dict) else d)

        for a, d in zip(args, dims):
            find_size(a, d)
        if size is None:
            raise ValueError("vmap: at least one input must be a Tensor mapped over a dim")

        def take(arg, d, i):
            if d is None:
                return arg
            if isinstance(arg, Tensor):
                return arg.select(d, i)
            if isinstance(arg, (list, tuple)):
                sub = d if isinstance(d, (list, tuple)) else (d,) * len(arg)
                return type(arg)(take(a, dd, i) for a, dd in zip(arg, sub))
            if isinstance(arg, dict):
                return {k: take(a, d[k] if isinstance(d, dict) else d, i) for k, a in arg.items()}
            return arg

        results = [func(*(take(a, d, i) for a, d in zip(args, dims)), **kwargs)
                   for i in range(size)]
        return _stack_results(results, out_dims)

    return wrapped


def _stack_results(results, out_dims):
    from ._ops.shape import stack

    first = results[0]
    Tensor = _tensor_cls()
    if isinstance(first, Tensor):
        return stack(results, out_dims if isinstance(out_dims, int) else out_dims[0])
    if isinstance(first, (tuple, list)):
        dims = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(first)
        parts = [_stack_results([r[k] for r in results], dims[k]) for k in range(len(first))]
        return type(first)(*parts) if hasattr(first, "_fields") else type(first)(parts)
    if isinstance(first, dict):
        return {k: _stack_results([r[k] for r in results], out_dims) for k in first}
    if isinstance(first, (int, float, bool)):
        from ._creation import tensor

        return tensor(results)
    raise ValueError(f"vmap: the function must return tensors, got {type(first).__name__}")


# =============================================================================
# reverse mode
# =============================================================================


@contextlib.contextmanager
def _enabled():
    from .autograd.grad_mode import enable_grad

    with enable_grad():
        yield


def _prepare(args, argnums):
    """``args`` with the differentiated ones replaced by graph-connected copies that require
    grad; also whether any original one was already part of a graph (an outer transform)."""
    Tensor = _tensor_cls()
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    new_args = list(args)
    nested = False
    for n in nums:
        def fresh(t):
            nonlocal nested
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"grad: expected the differentiated arguments to be Tensors, got "
                    f"{type(t).__name__}")
            if t.requires_grad:
                nested = True
                return t.view_as(t)  # stays connected to the outer graph
            return t.detach().requires_grad_()

        new_args[n] = _tree_map(fresh, args[n])
    return new_args, nums, nested


def _split_aux(result, has_aux):
    """``(output, aux)`` of a function's ``result``: with ``has_aux`` it returns that pair,
    otherwise just the output (``aux`` is ``None``)."""
    return result if has_aux else (result, None)


def grad_and_value(func, argnums=0, has_aux=False):
    """``(gradient, value)`` of the scalar ``func`` with respect to ``argnums``."""
    def wrapped(*args, **kwargs):
        from .autograd.engine import grad as autograd_grad

        with _enabled():
            new_args, nums, nested = _prepare(args, argnums)
            out, aux = _split_aux(func(*new_args, **kwargs), has_aux)
            if out.numel() != 1:
                raise RuntimeError(
                    f"grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, "
                    f"got tensor with {out.ndim} dims. Maybe you wanted to use the vjp or "
                    "jacrev APIs instead?")
            flat = [t for n in nums for t in _leaves(new_args[n])]
            gs = autograd_grad(out, flat, create_graph=True, allow_unused=True)
        gs = [g if g is not None else t.new_zeros(t.shape) for g, t in zip(gs, flat)]
        if not nested:
            gs = [g.detach() for g in gs]
            out = out.detach()
        it = iter(gs)
        grads = tuple(_tree_map(lambda _t: next(it), new_args[n]) for n in nums)
        result = grads[0] if isinstance(argnums, int) else grads
        return (result, (out, aux)) if has_aux else (result, out)

    return wrapped


def grad(func, argnums=0, has_aux=False):
    """The gradient of the scalar ``func`` with respect to its ``argnums`` argument(s)."""
    gv = grad_and_value(func, argnums, has_aux)

    def wrapped(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapped


def vjp(func, *primals, has_aux=False):
    """``(func(*primals), vjp_fn)``: ``vjp_fn(cotangents)`` gives one gradient per primal."""
    from .autograd.engine import grad as autograd_grad

    with _enabled():
        new_args, _, nested = _prepare(primals, tuple(range(len(primals))))
        out, aux = _split_aux(func(*new_args), has_aux)
    outs = _leaves(out)
    flat_in = [t for a in new_args for t in _leaves(a)]

    def vjp_fn(cotangents):
        cts = _leaves(cotangents)
        with _enabled():
            gs = autograd_grad(outs, flat_in, cts, retain_graph=True, create_graph=True,
                               allow_unused=True)
        gs = [g if g is not None else t.new_zeros(t.shape) for g, t in zip(gs, flat_in)]
        if not nested:
            gs = [g.detach() for g in gs]
        it = iter(gs)
        return tuple(_tree_map(lambda _t: next(it), a) for a in new_args)

    result = out if nested else _tree_map(lambda t: t.detach(), out)
    return (result, vjp_fn, aux) if has_aux else (result, vjp_fn)


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``(func(*primals), J @ tangents)`` by the double-vjp trick."""
    from .autograd.engine import grad as autograd_grad

    with _enabled():
        new_args, _, nested = _prepare(tuple(primals), tuple(range(len(primals))))
        out, aux = _split_aux(func(*new_args), has_aux)
        outs = _leaves(out)
        dummies = [o.new_zeros(o.shape).requires_grad_() for o in outs]
        flat_in = [t for a in new_args for t in _leaves(a)]
        gs = autograd_grad(outs, flat_in, dummies, create_graph=True, allow_unused=True)
        pairs = [(g, t) for g, t in zip(gs, _leaves(tuple(tangents))) if g is not None]
        if pairs:
            res = autograd_grad([g for g, _ in pairs], dummies, [t for _, t in pairs],
                                create_graph=True, allow_unused=True)
        else:
            res = [None] * len(dummies)
    res = [r if r is not None else o.new_zeros(o.shape) for r, o in zip(res, outs)]
    if not nested:
        res = [r.detach() for r in res]
        out = _tree_map(lambda t: t.detach(), out)
    it = iter(res)
    tangent_out = _tree_map(lambda _t: next(it), out)
    return (out, tangent_out, aux) if has_aux else (out, tangent_out)


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None):
    """The Jacobian of ``func`` with respect to ``argnums``: ``out.shape + in.shape``."""
    def wrapped(*args, **kwargs):
        from ._ops.shape import stack
        from .autograd.engine import grad as autograd_grad

        with _enabled():
            new_args, nums, nested = _prepare(args, argnums)
            out, aux = _split_aux(func(*new_args, **kwargs), has_aux)
            ins = [new_args[n] for n in nums]
            flat_out = out.reshape(-1)
            rows = [[] for _ in ins]
            for i in range(flat_out.shape[0]):
                gs = autograd_grad(flat_out[i], ins, retain_graph=True, create_graph=True,
                                   allow_unused=True)
                for k, (g, t) in enumerate(zip(gs, ins)):
                    rows[k].append(g if g is not None else t.new_zeros(t.shape))
        jacs = []
        for k, t in enumerate(ins):
            if rows[k]:
                j = stack(rows[k], 0).reshape(tuple(out.shape) + tuple(t.shape))
            else:
                j = t.new_zeros(tuple(out.shape) + tuple(t.shape))
            jacs.append(j if nested else j.detach())
        result = jacs[0] if isinstance(argnums, int) else tuple(jacs)
        return (result, aux) if has_aux else result

    return wrapped


jacfwd = jacrev  # the same values; forward mode is not separate in flambeau


def hessian(func, argnums=0):
    """The Hessian of the scalar ``func``: ``jacrev(jacrev(func))``."""
    return jacrev(jacrev(func, argnums), argnums)


# =============================================================================
# functional_call
# =============================================================================


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """Call ``module(*args, **kwargs)`` with the parameters and buffers named in
    ``parameter_and_buffer_dicts`` (a dict, or a tuple of dicts) in place of its own, which
    are restored afterwards."""
    if isinstance(parameter_and_buffer_dicts, dict):
        values = dict(parameter_and_buffer_dicts)
    else:
        values = {}
        for d in parameter_and_buffer_dicts:
            values.update(d)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    kwargs = kwargs or {}
    saved = []
    try:
        for name, value in values.items():
            owner_name, _, attr = name.rpartition(".")
            owner = module.get_submodule(owner_name) if owner_name else module
            d = owner.__dict__
            for store in ("_parameters", "_buffers"):
                table = d.get(store)
                if table is not None and attr in table:
                    saved.append((table, attr, table[attr]))
                    table[attr] = value
                    break
            else:
                if strict:
                    raise RuntimeError(f"functional_call: unexpected key {name!r}")
                saved.append((d, attr, d.get(attr, _MISSING)))
                d[attr] = value
        return module(*args, **kwargs)
    finally:
        for table, attr, old in reversed(saved):
            if old is _MISSING:
                table.pop(attr, None)
            else:
                table[attr] = old


_MISSING = object()


def stack_module_state(models):
    """``(params, buffers)``: each parameter and buffer of the same-architecture ``models``
    stacked along a new leading dim (parameters as new leaves that require grad), for
    ``vmap(functional_call)`` over an ensemble."""
    from ._ops.shape import stack

    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    params = {name: stack([dict(m.named_parameters())[name].detach() for m in models])
              for name, _ in models[0].named_parameters()}
    for p in params.values():
        p.requires_grad_()
    buffers = {name: stack([dict(m.named_buffers())[name] for m in models])
               for name, _ in models[0].named_buffers()}
    return params, buffers
