"""``default_collate`` and ``default_convert``: PyTorch's rules for turning samples into batches.

``default_collate`` (used when the ``DataLoader`` batches), by the type of the first sample:

=========================  ===============================================================
tensor                     ``flambeau.stack(batch)``
NumPy array                each to a tensor, then stacked (string/object arrays: TypeError)
NumPy scalar               a tensor of its dtype
float / int / bool         a float64 / int64 / bool tensor
str / bytes                the batch unchanged (a list or tuple of strings)
mapping                    the same mapping type, each key collated
namedtuple                 the same namedtuple, each field collated
tuple / list / sequence    transposed and each position collated (tuples give lists)
=========================  ===============================================================

``default_convert`` (used when ``batch_size=None``) turns NumPy arrays and scalars into tensors
inside the same structures, without adding a batch dimension. NumPy is never imported here:
NumPy objects are recognised by their type's module, as PyTorch does.
"""
from __future__ import annotations

import collections.abc
import copy
import re
import sys

from ...._creation import as_tensor, tensor
from ...._dtype import float64
from ...._ops.shape import stack
from ...._tensor import Tensor

__all__ = ["collate", "default_collate", "default_convert", "default_collate_fn_map"]

np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _is_numpy(elem_type):
    return elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_", "bytes_")


def default_convert(data):
    """Convert NumPy arrays and scalars in ``data`` to tensors, keeping the structure.

    Tuples become lists (PyTorch's rule); arrays of strings or objects stay as they are.

    >>> default_convert((np.array([1, 2]), 3.0))     # doctest: +SKIP
    [tensor([1, 2]), 3.0]
    """
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if _is_numpy(elem_type):
        if elem_type.__name__ == "ndarray" and np_str_obj_array_pattern.search(data.dtype.str):
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuild_mapping(elem, converted):
    if isinstance(elem, collections.abc.MutableMapping):
        # a copy keeps the mapping's type and its extra attributes
        clone = copy.copy(elem)
        clone.update(converted)
        return clone
    try:
        return type(elem)(converted)
    except TypeError:  # the mapping type doesn't take a dict
        return converted


def _rebuild_sequence(elem, converted):
    try:
        if isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)
            for i, v in enumerate(converted):
                clone[i] = v
            return clone
        return type(elem)(converted)
    except TypeError:  # the sequence type doesn't take a list
        return converted


# ---------------------------------------------------------------------------
# collate
# ---------------------------------------------------------------------------

def collate(batch, *, collate_fn_map=None):
    """Collate ``batch`` (a list of samples) with per-type functions from ``collate_fn_map``.

    ``collate_fn_map`` maps a type to ``fn(batch, *, collate_fn_map)``; the first sample's exact
    type is looked up first, then each key with ``isinstance`` in insertion order. Containers
    (mappings, namedtuples, sequences) recurse. ``default_collate`` is this function with
    ``default_collate_fn_map``: extend a copy of it to collate types of your own.
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(
            elem, {k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map) for k in elem}
        )
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(list(s), collate_fn_map=collate_fn_map) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))  # each position across the batch, as tuples
        if isinstance(elem, tuple):
            return [collate(s, collate_fn_map=collate_fn_map) for s in transposed]
        return _rebuild_sequence(elem, [collate(s, collate_fn_map=collate_fn_map)
                                        for s in transposed])
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    return stack(list(batch), 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    import numpy

    # through NumPy, so that the result keeps the scalars' dtype (float32 stays float32)
    return as_tensor(numpy.asarray(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    return tensor(batch, dtype=float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    return tensor(batch)  # int64; bools give a bool tensor


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map: dict = {Tensor: collate_tensor_fn}
_after_numpy = {float: collate_float_fn, int: collate_int_fn, str: collate_str_fn,
                bytes: collate_str_fn}
default_collate_fn_map.update(_after_numpy)


def _register_numpy():
    """Add NumPy's types to ``default_collate_fn_map`` once NumPy is imported (in PyTorch's
    order: after tensors, before Python numbers). Until then no NumPy object can exist."""
    np = sys.modules.get("numpy")
    if np is None or np.ndarray in default_collate_fn_map:
        return
    extra = {k: v for k, v in default_collate_fn_map.items() if k is not Tensor}
    for k in extra:
        del default_collate_fn_map[k]
    default_collate_fn_map[np.ndarray] = collate_numpy_array_fn
    default_collate_fn_map[(np.bool_, np.number, np.object_)] = collate_numpy_scalar_fn
    default_collate_fn_map.update(extra)


def default_collate(batch):
    """Stack a list of samples into a batch, by PyTorch's rules (see the module docstring).

    >>> default_collate([(1, 2.0, "a"), (3, 4.0, "b")])
    [tensor([1, 3]), tensor([2., 4.], dtype=flambeau.float64), ('a', 'b')]
    """
    _register_numpy()
    return collate(batch, collate_fn_map=default_collate_fn_map)
