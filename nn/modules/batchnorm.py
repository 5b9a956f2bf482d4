"""PyTorch's module path for the batch-norm classes (``nn.modules.batchnorm._BatchNorm`` is a
common isinstance check); they are defined in ``normalization``."""
from .normalization import (  # noqa: F401
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    SyncBatchNorm,
    _BatchNorm,
    _NormBase,
)

__all__: list = []  # re-exported by the package from ``normalization``
