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
