"""``Variable``: the pre-0.4 PyTorch wrapper, kept for old code. It is a tensor now."""
from __future__ import annotations


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        from .._tensor import Tensor

        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(tensor, requires_grad=False)`` returns ``tensor`` itself (setting
    ``requires_grad`` when asked), as ``torch.autograd.Variable`` does; ``isinstance(t,
    Variable)`` is true for every tensor.

    >>> x = Variable(flambeau.ones(2), requires_grad=True)   # doctest: +SKIP
    >>> x.requires_grad
    True
    """

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        from .._tensor import Tensor

        if data is None:
            from .._creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if requires_grad:
            data.requires_grad_(True)
        return data
