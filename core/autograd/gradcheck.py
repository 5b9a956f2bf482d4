"""Finite-difference checks of analytical gradients, as ``torch.autograd.gradcheck``."""
from __future__ import annotations

from .engine import grad as _grad
from .grad_mode import no_grad


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _numerical_jacobian(fn, inputs, i, eps):
    """d outputs / d inputs[i] by central differences, as a list (per output) of 2-D host arrays."""
    import numpy as np

    x = inputs[i]
    flat = x.detach().reshape(-1)
    n = flat.numel()
    cols = []
    with no_grad():
        for j in range(n):
            orig = flat[j].item()
            flat[j] = orig + eps
            plus = [o.detach().double().cpu().numpy().reshape(-1).copy() for o in _as_tuple(fn(*inputs))]
            flat[j] = orig - eps
            minus = [o.detach().double().cpu().numpy().reshape(-1).copy() for o in _as_tuple(fn(*inputs))]
            flat[j] = orig
            cols.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    n_out = len(cols[0]) if cols else len(_as_tuple(fn(*inputs)))
    return [np.stack([c[k] for c in cols], axis=1) if cols else None for k in range(n_out)]


def _analytical_jacobian(outputs, inputs, i):
    import numpy as np

    from .._creation import zeros_like

    jacs = []
    for out in outputs:
        rows = []
        flat_n = out.numel()
        for r in range(flat_n):
            go = zeros_like(out)
            go.reshape(-1)[r] = 1.0
            g = _grad(out, inputs[i], go, retain_graph=True, allow_unused=True)[0]
            if g is None:
                rows.append(np.zeros(inputs[i].numel()))
            else:
                rows.append(g.detach().double().cpu().numpy().reshape(-1))
        jacs.append(np.stack(rows, 0) if rows else np.zeros((0, inputs[i].numel())))
    return jacs


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, fast_mode=False, masked=None):
    """Compare ``func``'s gradients with central differences for every input that requires
    grad. Use float64 inputs. Returns True, or raises (or returns False) naming the mismatch.

    >>> x = flambeau.randn(3, dtype=flambeau.float64, requires_grad=True)
    >>> flambeau.autograd.gradcheck(flambeau.sin, (x,))
    True
    """
    import numpy as np

    from .._tensor import Tensor

    inputs = _as_tuple(inputs)
    outputs = _as_tuple(func(*inputs))
    outputs = tuple(o for o in outputs if isinstance(o, Tensor) and o.requires_grad)
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        if x.dtype.itemsize < 8:
            import warnings

            warnings.warn(
                f"gradcheck: input {i} is {x.dtype.name}, not float64; the check may fail for "
                "precision reasons alone", stacklevel=2,
            )
        num = _numerical_jacobian(lambda *a: tuple(o for o in _as_tuple(func(*a))
                                                   if isinstance(o, Tensor) and o.requires_grad),
                                  inputs, i, eps)
        ana = _analytical_jacobian(outputs, inputs, i)
        for k, (a, n) in enumerate(zip(ana, num)):
            n = n.reshape(a.shape) if n is not None else np.zeros_like(a)
            if not np.allclose(a, n, rtol=rtol, atol=atol, equal_nan=True):
                msg = (
                    f"Jacobian mismatch for output {k} with respect to input {i},\n"
                    f"numerical:{n}\nanalytical:{a}\n"
                )
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  fast_mode=False, masked=False):
    """Check second derivatives: gradcheck of the function ``inputs -> grad(func(inputs))``."""
    from .._creation import randn
    from .._tensor import Tensor

    inputs = _as_tuple(inputs)
    outputs = _as_tuple(func(*inputs))
    if grad_outputs is None:
        grad_outputs = tuple(
            randn(o.shape, dtype=o.dtype, device=o.device).requires_grad_() for o in outputs
            if isinstance(o, Tensor) and o.requires_grad
        )
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_grads(*args):
        ins = args[:n_in]
        gos = args[n_in:]
        outs = tuple(o for o in _as_tuple(func(*ins)) if isinstance(o, Tensor) and o.requires_grad)
        gs = _grad(outs, [ins[i] for i in diff_idx], gos, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grads, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
