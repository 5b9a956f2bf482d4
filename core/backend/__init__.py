"""The op interface: ``Backend`` (the contract) and ``ArrayModuleBackend`` (it, over a NumPy-like ``xp``)."""
from ._array_conv import ArrayConvMixin
from ._torch_random import TorchRandomMixin
from .array_module import ArrayModuleBackend
from .base import BINARY_OPS, REDUCE_OPS, UNARY_OPS, Backend

__all__ = ["Backend", "ArrayModuleBackend", "ArrayConvMixin", "TorchRandomMixin", "UNARY_OPS", "BINARY_OPS", "REDUCE_OPS"]
