"""Finite-difference checks of analytical gradients, as ``torch.autograd.gradcheck``."""
from __future__ import annotations

from .engine import _as_tuple
from .engine import grad as _grad
from .grad_mode import enable_grad


class GradcheckError(RuntimeError):
    pass


def _host(t):
    """A tensor's values as a flat float64 host array."""
    import numpy as np

    t = t.detach()
    return np.array(t._backend.to_host(t._data), dtype=np.float64).reshape(-1)  # a copy


def _analytical_jacobian(outputs, diff, x):
    """d outputs[k] / d x for k in ``diff``: one backward pass per output element."""
    import numpy as np

    from .._creation import zeros_like

    jacs = []
    for k in diff:
        out = outputs[k]
        rows = np.zeros((out.numel(), x.numel()))
        for r in range(out.numel()):
            go = zeros_like(out)
            go.reshape(-1)[r] = 1.0
            g = _grad(out, x, go, retain_graph=True, allow_unused=True)[0]
            if g is not None:
                rows[r] = _host(g)
        jacs.append(rows)
    return jacs


def _numerical_jacobian(func, inputs, diff, x, eps):
    """d outputs[k] / d x for k in ``diff`` by central differences. ``x`` is perturbed in its
    memory directly, without bumping its version, so graphs recorded from it stay usable."""
    import numpy as np

    b = x._backend
    host = np.array(b.to_host(x._data), copy=True)
    flat = host.reshape(-1)
    n = flat.size
    jacs = None
    try:
        for j in range(n):
            orig = flat[j]
            evals = []
            for delta in (eps, -eps):
                flat[j] = orig + delta
                b.setitem(x._data, (Ellipsis,), b.asarray(host, x.dtype))
                outs = _as_tuple(func(*inputs))
                evals.append([_host(outs[k]) for k in diff])
            flat[j] = orig
            if jacs is None:
                jacs = [np.zeros((p.size, n)) for p in evals[0]]
            for m, (p, q) in enumerate(zip(*evals)):
                jacs[m][:, j] = (p - q) / (2 * eps)
    finally:
        b.setitem(x._data, (Ellipsis,), b.asarray(host, x.dtype))
    return jacs if jacs is not None else [np.zeros((0, 0)) for _ in diff]


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
    diff = [k for k, o in enumerate(outputs) if isinstance(o, Tensor) and o.requires_grad]
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        if x.dtype.itemsize < 8:
            import warnings

            warnings.warn(
                f"gradcheck: input {i} is {x.dtype.name}, not float64; the check may fail for "
                "precision reasons alone", stacklevel=2,
            )
        ana = _analytical_jacobian(outputs, diff, x)
        num = _numerical_jacobian(func, inputs, diff, x, eps)
        for k, a, n in zip(diff, ana, num):
            if a.size == 0 and n.size == 0:  # an empty input or output: nothing to compare
                continue
            if a.shape != n.shape or not np.allclose(a, n, rtol=rtol, atol=atol, equal_nan=True):
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
    from .._random import randn
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
        with enable_grad():  # the numerical Jacobian calls this under no_grad
            outs = tuple(o for o in _as_tuple(func(*ins))
                         if isinstance(o, Tensor) and o.requires_grad)
            gs = _grad(outs, [ins[i] for i in diff_idx], gos, create_graph=True,
                       allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grads, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
