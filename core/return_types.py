"""Named tuples returned by ops such as ``max(dim)`` (``torch.return_types``)."""
from ._ops.reduction import values_indices

max = values_indices["max"]  # noqa: A001
min = values_indices["min"]  # noqa: A001
sort = values_indices["sort"]
topk = values_indices["topk"]
kthvalue = values_indices["kthvalue"]
median = values_indices["median"]
cummax = values_indices["cummax"]
cummin = values_indices["cummin"]
aminmax = values_indices["aminmax"]
