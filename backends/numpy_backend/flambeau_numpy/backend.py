"""``NumpyBackend``: ``ArrayModuleBackend`` over NumPy, serving device type ``cpu``.

Hot composites that NumPy can do faster than the defaults of ``flambeau.backend.Backend`` are
overridden here; everything else comes from ``ArrayModuleBackend``.
"""
from __future__ import annotations

from flambeau.backend import ArrayConvMixin, ArrayModuleBackend, TorchRandomMixin


class NumpyBackend(ArrayConvMixin, TorchRandomMixin, ArrayModuleBackend):
    """The CPU backend: every primitive is the NumPy function of the same meaning; convolution
    and pooling take the strided-view fast paths of ``ArrayConvMixin``; random numbers are
    PyTorch's CPU ones for the same seed (``TorchRandomMixin``)."""

    name = "numpy"
    device_type = "cpu"

    def __init__(self, device):
        import numpy

        super().__init__(device, numpy)
        self._errstate_var, self._ignore_all = _errstate_var()
        # the ufuncs' reduce methods are what numpy.sum, numpy.max, ... end up calling (same
        # results); calling them directly skips those functions' Python-level dispatch
        self._reduce.update(
            sum=numpy.add.reduce, prod=numpy.multiply.reduce, max=numpy.maximum.reduce,
            min=numpy.minimum.reduce, all=numpy.logical_and.reduce, any=numpy.logical_or.reduce,
        )

    def full(self, shape, value, dtype):
        native = self._to_native[dtype]
        if native.kind == "f" and type(value) in (float, int):
            # numpy.full's copyto dispatch costs more than filling a small array; a Python
            # number assigned into a float array is converted exactly as copyto converts it
            out = self.xp.empty(shape, native)
            out[...] = value
            return out
        return super().full(shape, value, dtype)

    # ------------------------------------------------------------------ softmax
    # The default composites' ufuncs, called directly under one error-state switch (same
    # results); other dtypes and 0-d arrays take the defaults.
    def softmax(self, x, axis):
        if not _float_array(x):
            return super().softmax(x, axis)
        return self._call_quiet(_softmax, self.xp, x, axis)

    def log_softmax(self, x, axis):
        if not _float_array(x):
            return super().log_softmax(x, axis)
        return self._call_quiet(_log_softmax, self.xp, x, axis)

    # ------------------------------------------------------------------ optimizer updates
    # The default composites' operations in their order, on NumPy's ufuncs with ``out=`` and
    # under one error-state switch: bit-identical results for a fraction of the Python calls.
    # The other cases (float16, 0-d arrays, scalars that are not Python numbers, whose NumPy
    # promotion could differ) take the defaults.
    def sgd_step(self, param, grad, buf, lr, momentum, dampening, nesterov, weight_decay,
                 maximize, first_step):
        if not (_fast_step_ok(param) and _python_numbers(lr, momentum, dampening, weight_decay)):
            return super().sgd_step(param, grad, buf, lr, momentum, dampening, nesterov,
                                    weight_decay, maximize, first_step)
        self._call_quiet(_sgd_step, self.xp, param, grad, buf, lr, momentum, dampening,
                         nesterov, weight_decay, maximize, first_step)

    def adam_step(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2,
                  eps, weight_decay, decoupled, amsgrad, maximize):
        if not (_fast_step_ok(param) and _python_numbers(step, lr, beta1, beta2, eps,
                                                         weight_decay)):
            return super().adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr,
                                     beta1, beta2, eps, weight_decay, decoupled, amsgrad,
                                     maximize)
        self._call_quiet(_adam_step, self.xp, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq,
                         step, lr, beta1, beta2, eps, weight_decay, decoupled, amsgrad, maximize)

    def _call_quiet(self, fn, *args, **kwargs):
        # set NumPy's error-state context variable to a prebuilt "ignore all" state: a fraction
        # of the cost of entering numpy.errstate, which rebuilds that state on every entry
        var = self._errstate_var
        if var is None:
            return super()._call_quiet(fn, *args, **kwargs)
        token = var.set(self._ignore_all)
        try:
            return fn(*args, **kwargs)
        finally:
            var.reset(token)


def _errstate_var():
    """NumPy 2 keeps the floating-point error state (what ``numpy.errstate`` sets) in a context
    variable: return it with the state ``errstate(all="ignore")`` gives, or ``(None, None)`` where
    that private detail differs (NumPy 1.x), so that ``numpy.errstate`` is used instead."""
    import numpy

    try:
        from numpy._core._ufunc_config import _extobj_contextvar
    except ImportError:
        return None, None
    with numpy.errstate(all="ignore"):
        return _extobj_contextvar, _extobj_contextvar.get()


def _float_array(x):
    # a floating-point array with at least one dim (ufuncs give 0-d results as scalars)
    return x.ndim > 0 and x.dtype.kind == "f"


def _softmax(np, x, axis):
    """``Backend.softmax``, step for step."""
    e = np.exp(np.subtract(x, np.maximum.reduce(x, axis=axis, keepdims=True)))
    return np.divide(e, np.add.reduce(e, axis=axis, keepdims=True), out=e)


def _log_softmax(np, x, axis):
    """``Backend.log_softmax``, step for step."""
    shifted = np.subtract(x, np.maximum.reduce(x, axis=axis, keepdims=True))
    lse = np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))
    return np.subtract(shifted, lse, out=shifted)


def _fast_step_ok(param):
    # float32/float64 arrays (float16 takes the defaults' float32 path)
    return _float_array(param) and param.dtype.itemsize >= 4


def _python_numbers(*values):
    for v in values:
        if type(v) is not float and type(v) is not int:
            return False
    return True


def _sgd_step(np, param, grad, buf, lr, momentum, dampening, nesterov, weight_decay, maximize,
              first_step):
    """``Backend.sgd_step`` (see there), step for step."""
    if maximize:
        grad = np.negative(grad)
    if weight_decay != 0:
        grad = np.add(grad, np.multiply(param, weight_decay))
    if momentum != 0:
        if first_step:
            buf[...] = grad
        else:
            np.multiply(buf, momentum, out=buf)
            np.add(buf, grad if dampening == 0 else np.multiply(grad, 1 - dampening), out=buf)
        grad = np.add(grad, np.multiply(buf, momentum)) if nesterov else buf
    np.subtract(param, np.multiply(grad, lr), out=param)


def _adam_step(np, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps,
               weight_decay, decoupled, amsgrad, maximize):
    """``Backend.adam_step`` (see there), step for step, in two scratch arrays."""
    if maximize:
        grad = np.negative(grad)
    if weight_decay != 0:
        if decoupled:
            np.multiply(param, 1 - lr * weight_decay, out=param)
        else:
            grad = np.add(grad, np.multiply(param, weight_decay))
    # exp_avg = lerp(exp_avg, grad, 1 - beta1), in the two-sided form of Backend._lerp_inplace
    w = 1 - beta1
    tmp = np.subtract(grad, exp_avg)
    if w < 0.5:
        np.add(exp_avg, np.multiply(tmp, w, out=tmp), out=exp_avg)
    else:
        np.subtract(grad, np.multiply(tmp, 1 - w, out=tmp), out=exp_avg)
    np.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
    sq = np.multiply(grad, 1 - beta2)
    np.add(exp_avg_sq, np.multiply(sq, grad, out=sq), out=exp_avg_sq)
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        exp_avg_sq = max_exp_avg_sq
    denom = np.sqrt(exp_avg_sq, out=sq)
    np.divide(denom, (1 - beta2 ** step) ** 0.5, out=denom)
    np.add(denom, eps, out=denom)
    update = np.multiply(exp_avg, -(lr / (1 - beta1 ** step)), out=tmp)
    np.add(param, np.divide(update, denom, out=update), out=param)
