"""``Optimizer``: the base class of every optimizer, as ``torch.optim.Optimizer``.

It keeps ``param_groups`` (dicts of hyper-parameters with a ``"params"`` list), ``defaults``
and a per-parameter ``state`` (a ``defaultdict(dict)`` keyed by the parameter tensor), and
implements ``zero_grad``, ``add_param_group``, ``state_dict``/``load_state_dict`` and step hooks.
A subclass implements ``step(closure=None)``; hooks registered with ``register_step_pre_hook``
and ``register_step_post_hook`` run around it.

The updates themselves are backend composites (``Backend.sgd_step``, ``adam_step``, ...) that
work in place on the parameters' native arrays, so a backend may fuse them.
"""
from __future__ import annotations

import copy
import functools
import warnings
from collections import OrderedDict, defaultdict
from itertools import chain

from .. import _dtype as dt
from .._tensor import Tensor

__all__ = [
    "Optimizer", "required", "register_optimizer_step_pre_hook",
    "register_optimizer_step_post_hook",
]


class _RequiredParameter:
    """Marks a hyper-parameter (in ``defaults``) that every param group must give."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

_global_pre_hooks: OrderedDict = OrderedDict()
_global_post_hooks: OrderedDict = OrderedDict()


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks):
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _register(hooks, hook, prepend=False):
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_optimizer_step_pre_hook(hook):
    """Run ``hook(optimizer, args, kwargs)`` before the ``step`` of every optimizer."""
    return _register(_global_pre_hooks, hook)


def register_optimizer_step_post_hook(hook):
    """Run ``hook(optimizer, args, kwargs)`` after the ``step`` of every optimizer."""
    return _register(_global_post_hooks, hook)


def _with_step_hooks(step):
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if self._in_step:  # a subclass's step calling super().step(): hooks already ran
            return step(self, *args, **kwargs)
        for hook in chain(_global_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        f"{step} must return None or a tuple of (new_args, new_kwargs), but got "
                        f"{result}."
                    )
                args, kwargs = result
        self._in_step = True
        try:
            out = step(self, *args, **kwargs)
        finally:
            self._in_step = False
        for hook in chain(self._optimizer_step_post_hooks.values(), _global_post_hooks.values()):
            hook(self, args, kwargs)
        return out

    wrapper._flambeau_hooked = True  # type: ignore[attr-defined]
    return wrapper


class Optimizer:
    """Base class of all optimizers.

    ``params`` is an iterable of tensors (or of ``(name, tensor)`` pairs), or of dicts that
    each define a param group with its own options; ``defaults`` holds the options a group
    does not set.

    >>> import flambeau
    >>> w = flambeau.zeros(3, requires_grad=True)
    >>> opt = flambeau.optim.SGD([w], lr=0.1)
    >>> (w - 1).pow(2).sum().backward()
    >>> opt.step()
    >>> w
    tensor([0.2000, 0.2000, 0.2000], requires_grad=True)
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_flambeau_hooked", False):
            cls.step = _with_step_hooks(step)  # type: ignore[method-assign]

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._in_step = False
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {params.type()}"
            )
        if defaults.get("differentiable"):
            raise ValueError("differentiable=True is not supported by flambeau's optimizers")
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            self.__dict__.setdefault(name, OrderedDict())
        self.__dict__.setdefault("_in_step", False)

    def __repr__(self):
        out = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            out += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    out += f"    {key}: {group[key]}\n"
        return out + ")"

    # ------------------------------------------------------------------ groups and grads
    def add_param_group(self, param_group):
        """Add a param group (a dict with ``"params"`` and optional per-group options) to
        ``param_groups``: useful to unfreeze layers while training goes on."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        tensors, names = [], []
        for param in params:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are "
                    "missing"
                )
            param_group["param_names"] = names
        for param in tensors:
            if not isinstance(param, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    + _typename(param)
                )
            if not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization parameter "
                    f"{name}"
                )
            param_group.setdefault(name, default)
        ids = {id(p) for p in tensors}
        if len(ids) != len(tensors):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this "
                "will cause an error; see github.com/pytorch/pytorch/issues/40967 for more "
                "information",
                stacklevel=3,
            )
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. cannot add param "
                    f"group {which} to the optimizer"
                )
            if not ids.isdisjoint(id(p) for p in group["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimized tensors: to None (the default, which also makes
        ``step`` skip parameters that get no gradient), or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g.zero_()

    def step(self, closure=None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the
        loss (required by some optimizers, such as LBFGS)."""
        raise NotImplementedError

    def _params_with_grad(self, group):
        """The parameters of ``group`` that have a gradient (the others are skipped)."""
        return [p for p in group["params"] if p.grad is not None]

    @staticmethod
    def _run_closure(closure):
        if closure is None:
            return None
        from ..autograd.grad_mode import enable_grad

        with enable_grad():
            return closure()

    # ------------------------------------------------------------------ hooks
    def register_step_pre_hook(self, hook):
        """Run ``hook(optimizer, args, kwargs)`` before each ``step``; it may return a
        ``(new_args, new_kwargs)`` pair. Returns a handle with ``remove()``."""
        return _register(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """Run ``hook(optimizer, args, kwargs)`` after each ``step``."""
        return _register(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """Run ``hook(optimizer)`` before ``state_dict`` builds its result."""
        return _register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """Run ``hook(optimizer, state_dict)`` on the result of ``state_dict``; it may return a
        replacement."""
        return _register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """Run ``hook(optimizer, state_dict)`` before loading; it may return a replacement."""
        return _register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """Run ``hook(optimizer)`` after ``load_state_dict`` has loaded the state."""
        return _register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ------------------------------------------------------------------ state dict
    def state_dict(self):
        """The optimizer's state as ``{"state": {index: {...}}, "param_groups": [...]}``.

        Parameters are replaced by their index in the order of ``param_groups`` (counting across
        groups), as in PyTorch; the state's tensors are returned, not copied.
        """
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        index: dict[int, int] = {}
        groups = []
        start = 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {
            (index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()
        }
        result = {"state": state, "param_groups": groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            out = hook(self, result)
            if out is not None:
                result = out
        return result

    def load_state_dict(self, state_dict):
        """Load a state returned by ``state_dict`` (of this optimizer class, for parameters in
        the same groups and order). Floating-point state tensors are copied to each parameter's
        device and dtype, except ``step``. A state_dict that does not fit raises ValueError and
        leaves the optimizer as it was."""
        state_dict = dict(state_dict)
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            out = hook(self, state_dict)
            if out is not None:
                state_dict = out
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of "
                "optimizer's group"
            )
        id_map = dict(zip(
            chain.from_iterable(g["params"] for g in saved_groups),
            chain.from_iterable(g["params"] for g in groups),
        ))
        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k not in id_map and isinstance(k, str) and k.lstrip("-").isdigit():
                k = int(k)  # keys that went through JSON come back as strings
            if k in id_map:
                param = id_map[k]
                state[param] = _cast_state(param, v)
            else:
                state[k] = v
        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)
        for group in new_groups:
            self._fix_loaded_group(group, state)
        self.state = state
        self.param_groups = new_groups
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)

    def _fix_loaded_group(self, group, state):
        """Bring a group (and its parameters' state) loaded from a state_dict up to date: fill
        options an older state_dict lacks, make ``step`` a tensor. Subclasses extend it."""
        for name, default in self.defaults.items():
            if default is not required:
                group.setdefault(name, default)
        for p in group["params"]:
            s = state.get(p)
            if s and "step" in s and not isinstance(s["step"], Tensor):
                s["step"] = _new_step(p, float(s["step"]))


def _cast_state(param, value, key=None):
    """A copy of a loaded state ``value``, tensors moved to ``param``'s device (and dtype, for
    floating-point tensors other than ``step``)."""
    if isinstance(value, Tensor):
        if key == "step":
            return value.clone()
        if param.dtype.is_floating_point and value.dtype.is_floating_point:
            out = value.to(device=param.device, dtype=param.dtype)
        else:
            out = value.to(device=param.device)
        return out.clone() if out is value else out
    if isinstance(value, dict):
        return {k: _cast_state(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v) for v in value)
    return value


def _typename(obj):
    return obj.type() if isinstance(obj, Tensor) else type(obj).__name__


# ---------------------------------------------------------------------- helpers for subclasses
_cpu_ok: list = []


def _new_step(param, value=0.0):
    """A 0-d ``step`` counter: float32, or float64 while the default dtype is float64 (as
    PyTorch's ``_get_scalar_dtype``). Like PyTorch it lives on the CPU (reading it never waits
    for an accelerator); without a CPU backend it lives on the parameter's device."""
    from .._creation import tensor

    if not _cpu_ok:
        from .. import backends

        _cpu_ok.append(backends.is_available("cpu"))
    device = "cpu" if _cpu_ok[0] else param.device
    dtype = dt.float64 if dt.get_default_dtype() is dt.float64 else dt.float32
    return tensor(value, dtype=dtype, device=device)


def _increment_step(step_t):
    """``step_t += 1`` in place (float32, as PyTorch counts); returns the new value."""
    step_t._backend.binary_inplace("add", step_t._data, 1.0)
    step_t._vc[0] += 1
    return step_t.item()


def _zeros_like(p, fill=0.0):
    """A new state tensor filled with ``fill``, of ``p``'s shape, dtype and device."""
    b = p._backend
    return Tensor._make(b.full(p._data.shape, fill, p.dtype), b, p.dtype, p.device)


def _scalar(x):
    """A hyper-parameter as a Python float (accepts a one-element tensor)."""
    return x.item() if isinstance(x, Tensor) else x


def _check_grad(p, name):
    g = p.grad
    # (identity first: the device check of the common case costs no __eq__ call; the native
    # shapes compare as the Sizes would)
    if g.dtype is not p.dtype or (g.device is not p.device and g.device != p.device) \
            or g._data.shape != p._data.shape:
        raise RuntimeError(
            f"{name}: a parameter of shape {tuple(p.shape)}, {p.dtype} on {p.device} has a "
            f"gradient of shape {tuple(g.shape)}, {g.dtype} on {g.device}; they must match"
        )
    return g
