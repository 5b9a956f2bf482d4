"""``flambeau.amp``: the automatic-mixed-precision API of ``torch.amp`` (``autocast`` and
``GradScaler``), so training loops written for it run unchanged.

flambeau computes in the dtypes it is given: ``autocast`` is a context manager (and decorator)
that records whether it is enabled but casts nothing. As in PyTorch, asking for CUDA autocast
or a CUDA ``GradScaler`` without an available CUDA device warns and disables them, which is
what a PyTorch program does on a CPU-only machine. An enabled ``GradScaler`` works as PyTorch's:
it multiplies the loss by a power-of-two scale, unscales the gradients before the step (the
same values, since scaling by a power of two is exact), skips steps whose gradients are not
finite and adapts the scale.

>>> import flambeau
>>> scaler = flambeau.amp.GradScaler("cpu", init_scale=4.0)
>>> w = flambeau.ones(2, requires_grad=True)
>>> opt = flambeau.optim.SGD([w], lr=0.1)
>>> scaler.scale((w * w).sum()).backward()
>>> scaler.step(opt)
>>> scaler.update()
>>> w
tensor([0.8000, 0.8000], requires_grad=True)
"""
from __future__ import annotations

import functools
import threading
import warnings
from collections import defaultdict
from enum import Enum

__all__ = ["autocast", "GradScaler", "is_autocast_available"]

_state = threading.local()


def _enabled_map():
    d = getattr(_state, "enabled", None)
    if d is None:
        d = _state.enabled = {}
    return d


def is_autocast_available(device_type):
    """Whether ``autocast`` accepts ``device_type``."""
    return device_type in ("cpu", "cuda", "mps", "xpu", "xla", "hpu", "mtia", "maia")


def is_autocast_enabled(device_type=None):
    """Whether an enabled ``autocast`` block for ``device_type`` (default ``"cuda"``) is
    active in this thread."""
    return bool(_enabled_map().get(device_type or "cuda", False))


def _cuda_available():
    from . import cuda

    return cuda.is_available()


class autocast:
    """``with autocast(device_type, dtype=None, enabled=True):`` (or as a decorator). flambeau
    does not lower precision inside the block (see the module docstring)."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if not is_autocast_available(device_type):
            raise RuntimeError(
                f"User specified an unsupported autocast device_type '{device_type}'")
        from . import _dtype as dt

        self.device = device_type
        self.fast_dtype = dtype if dtype is not None else (
            dt.float16 if device_type == "cuda" else getattr(dt, "bfloat16", dt.float16))
        if enabled and device_type == "cuda" and not _cuda_available():
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                          stacklevel=2)
            enabled = False
        self._enabled = enabled

    def __enter__(self):
        d = _enabled_map()
        self._prev = d.get(self.device, False)
        d[self.device] = self._enabled
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        _enabled_map()[self.device] = self._prev
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got {type(func).__name__}. Did you "
                "mean to use autocast as a context manager? For example:\n    with "
                "torch.autocast(device_type=...):\n        output = model(input)")

        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return wrapped


class OptState(Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _refresh_per_optimizer_state():
    return {"stage": OptState.READY, "found_inf_per_device": {}}


class GradScaler:
    """Loss scaling for mixed-precision training, as ``torch.amp.GradScaler``: ``scale(loss)``
    before ``backward``, then ``step(optimizer)`` and ``update()`` each iteration."""

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000, enabled=True):
        self._device = device
        self._enabled = enabled
        if device == "cuda" and enabled and not _cuda_available():
            warnings.warn(
                "torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
            self._init_scale = init_scale
            self._scale = None
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker = None
            self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def _lazy_init(self, device):
        from . import _dtype as dt
        from ._creation import full

        self._scale = full((), self._init_scale, dtype=dt.float32, device=device)
        self._growth_tracker = full((), self._init_growth_tracker, dtype=dt.int32,
                                    device=device)

    def _check(self, funcname):
        fix = "This may indicate your script did not use scaler.scale(loss or outputs) earlier."
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  " + fix)

    def scale(self, outputs):
        """``outputs`` (a tensor, or an iterable of them) times the current scale."""
        if not self._enabled:
            return outputs
        from ._tensor import Tensor

        if isinstance(outputs, Tensor):
            if self._scale is None:
                self._lazy_init(outputs.device)
            return outputs * self._scale.to(device=outputs.device)

        def apply(val):
            if isinstance(val, Tensor):
                if self._scale is None:
                    self._lazy_init(val.device)
                return val * self._scale.to(device=val.device)
            if isinstance(val, (list, tuple)):
                return type(val)(apply(v) for v in val)
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")
        return apply(outputs)

    def _unscale_grads_(self, optimizer, inv_scale, found_inf, allow_fp16):
        from . import _dtype as dt
        from .autograd.grad_mode import no_grad

        with no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    if param.grad is None:
                        continue
                    if not allow_fp16 and param.grad.dtype is dt.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    g = param.grad
                    if not bool(g.isfinite().all()):
                        found_inf.fill_(1.0)
                    g.mul_(inv_scale.to(device=g.device, dtype=g.dtype))
        return {str(found_inf.device): found_inf}

    def unscale_(self, optimizer):
        """Divide ``optimizer``'s gradients by the scale (in place), e.g. before clipping."""
        if not self._enabled:
            return
        self._check("unscale_")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError(
                "unscale_() has already been called on this optimizer since the last update().")
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        from . import _dtype as dt
        from ._creation import full

        inv_scale = self._scale.double().reciprocal().float()
        found_inf = full((), 0.0, dtype=dt.float32, device=self._scale.device)
        state["found_inf_per_device"] = self._unscale_grads_(optimizer, inv_scale, found_inf,
                                                             False)
        state["stage"] = OptState.UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """Unscale (if not done yet) and run ``optimizer.step()`` unless a gradient is not
        finite; returns what ``step`` returned (None when skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check("step")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if len(state["found_inf_per_device"]) == 0:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = None
        if not sum(v.item() for v in state["found_inf_per_device"].values()):
            retval = optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale=None):
        """Back the scale off after a non-finite step, or grow it after ``growth_interval``
        finite ones in a row; or set it to ``new_scale``."""
        if not self._enabled:
            return
        self._check("update")
        from ._tensor import Tensor

        if new_scale is not None:
            if isinstance(new_scale, float):
                self._scale.fill_(new_scale)
            elif isinstance(new_scale, Tensor):
                self._scale.copy_(new_scale)
            else:
                raise AssertionError("new_scale should be a float or a 1-element "
                                     "torch.cuda.FloatTensor or torch.FloatTensor with "
                                     "requires_grad=False.")
        else:
            found_infs = [found_inf for state in self._per_optimizer_states.values()
                          for found_inf in state["found_inf_per_device"].values()]
            if len(found_infs) == 0:
                raise AssertionError("No inf checks were recorded prior to update.")
            found = sum(f.item() for f in found_infs)
            if found:
                self._scale.mul_(self._backoff_factor)
                self._growth_tracker.fill_(0)
            else:
                successful = int(self._growth_tracker.item()) + 1
                if successful == self._growth_interval:
                    grown = self._scale * self._growth_factor
                    if bool(grown.isfinite()):
                        self._scale.copy_(grown)
                    self._growth_tracker.fill_(0)
                else:
                    self._growth_tracker.fill_(successful)
        self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def get_scale(self):
        """The current scale as a Python float (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale.item()

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def _get_growth_tracker(self):
        if self._growth_tracker is None:
            return self._init_growth_tracker
        return int(self._growth_tracker.item())

    def is_enabled(self):
        return self._enabled

    def state_dict(self):
        """``scale``, the factors, the interval and the growth tracker ({} when disabled)."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale.fill_(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker.fill_(state_dict["_growth_tracker"])
