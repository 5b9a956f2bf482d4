"""Variable-length sequences for the recurrent layers, as ``torch.nn.utils.rnn``.

A ``PackedSequence`` holds the steps of a batch of sequences sorted by decreasing length, time
step by time step: ``data`` has the ``batch_sizes[0]`` first elements, then the ``batch_sizes[1]``
second elements, and so on. ``nn.RNN``/``LSTM``/``GRU`` accept one and return one.

>>> import flambeau
>>> from flambeau.nn.utils.rnn import pack_sequence, pad_packed_sequence
>>> p = pack_sequence([flambeau.ones(3, 1), flambeau.ones(2, 1)])
>>> p.batch_sizes
tensor([2, 2, 1])
>>> pad_packed_sequence(p)[1]
tensor([3, 2])
"""
from __future__ import annotations

from collections import namedtuple

import flambeau
from flambeau import Tensor

__all__ = [
    "PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
    "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence",
]

_PackedSequenceBase = namedtuple(
    "PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"]
)


def invert_permutation(permutation):
    """The permutation that undoes ``permutation`` (None stays None)."""
    if permutation is None:
        return None
    n = permutation.numel()
    inv = [0] * n
    for i, p in enumerate(permutation.tolist()):
        inv[p] = i
    return flambeau.tensor(inv, dtype=flambeau.int64, device=permutation.device)


class PackedSequence(_PackedSequenceBase):
    """A batch of variable-length sequences packed time step by time step.

    ``data``: ``(sum of lengths, *)``; ``batch_sizes``: an int64 CPU tensor, how many sequences
    are still running at each step; ``sorted_indices``/``unsorted_indices``: the permutation
    from the caller's batch order to decreasing length and back (None when the batch was already
    sorted). Build one with ``pack_padded_sequence`` or ``pack_sequence``.
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            raise ValueError("PackedSequence(): batch_sizes is required (build it with "
                             "pack_padded_sequence or pack_sequence)")
        if not isinstance(batch_sizes, Tensor):
            batch_sizes = flambeau.tensor(list(batch_sizes), dtype=flambeau.int64, device="cpu")
        if batch_sizes.device.type != "cpu" or batch_sizes.ndim != 1:
            raise ValueError(
                "batch_sizes should always be a 1D CPU int64 tensor, but got "
                f"{batch_sizes.ndim}D {batch_sizes.device} tensor"
            )
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """Moves ``data`` (and the index tensors, to ``data``'s device); ``batch_sizes`` stays on
        the CPU."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        dev = data.device
        s = self.sorted_indices.to(dev) if self.sorted_indices is not None else None
        u = self.unsorted_indices.to(dev) if self.unsorted_indices is not None else None
        return type(self)(data, self.batch_sizes, s, u)

    def cuda(self, *args, **kwargs):
        return self.to("cuda" if not args else args[0])

    def cpu(self):
        return self.to("cpu")

    def double(self):
        return self.to(dtype=flambeau.float64)

    def float(self):
        return self.to(dtype=flambeau.float32)

    def half(self):
        return self.to(dtype=flambeau.float16)

    def long(self):
        return self.to(dtype=flambeau.int64)

    def int(self):
        return self.to(dtype=flambeau.int32)

    @property
    def is_cuda(self):
        return self.data.device.type == "cuda"

    def is_pinned(self):
        return False


def _lengths_list(lengths):
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1:
            raise ValueError(f"'lengths' argument should be a 1D tensor, but got {lengths.ndim}D")
        return [int(v) for v in lengths.tolist()]
    return [int(v) for v in lengths]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` if ``batch_first``) of sequences with
    the given lengths. With ``enforce_sorted=False`` the batch may be in any order; otherwise the
    lengths must be non-increasing."""
    lengths = _lengths_list(lengths)
    batch_dim = 0 if batch_first else 1
    B = input.shape[batch_dim]
    if len(lengths) != B:
        raise ValueError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} "
            f"(batch_size={B})"
        )
    sorted_indices = None
    if not enforce_sorted:
        order = sorted(range(B), key=lambda i: -lengths[i])  # stable, as torch.sort(stable)
        lengths = [lengths[i] for i in order]
        sorted_indices = flambeau.tensor(order, dtype=flambeau.int64, device=input.device)
        input = input.index_select(batch_dim, sorted_indices)
    if any(n <= 0 for n in lengths):
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' "
            "that is <= 0"
        )
    if any(a < b for a, b in zip(lengths, lengths[1:])):
        raise RuntimeError(
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
            "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
            "to sidestep this requirement if you do not need ONNX exportability."
        )
    if batch_first:
        input = input.transpose(0, 1)
    T = input.shape[0]
    if lengths[0] > T:
        raise RuntimeError(
            f"Expected all lengths to be at most the padded length {T}, but got {lengths[0]}"
        )
    batch_sizes = [sum(1 for n in lengths if n > t) for t in range(lengths[0])]
    # gather the running rows of every step with one index_select on the flattened batch
    index = [t * B + b for t, bs in enumerate(batch_sizes) for b in range(bs)]
    flat = input.reshape((T * B,) + tuple(input.shape[2:]))
    data = flat.index_select(0, flambeau.tensor(index, dtype=flambeau.int64, device=input.device))
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Inverse of ``pack_padded_sequence``: returns ``(padded, lengths)`` with the batch in the
    caller's original order; ``lengths`` is an int64 CPU tensor."""
    data, batch_sizes, _, unsorted_indices = sequence
    bs = [int(v) for v in batch_sizes.tolist()]
    T, B = len(bs), bs[0]
    if total_length is not None:
        if total_length < T:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being {T}"
            )
        T_out = total_length
    else:
        T_out = T
    rest = tuple(data.shape[1:])
    pad_row = flambeau.full((1,) + rest, padding_value, dtype=data.dtype, device=data.device)
    src = flambeau.cat([data, pad_row], 0)
    N = data.shape[0]
    index, offset = [], 0
    for t in range(T_out):
        n = bs[t] if t < T else 0
        index += [offset + b if b < n else N for b in range(B)]
        offset += n
    padded = src.index_select(0, flambeau.tensor(index, dtype=flambeau.int64, device=data.device))
    padded = padded.reshape((T_out, B) + rest)
    lengths = [sum(1 for n in bs if n > b) for b in range(B)]
    if unsorted_indices is not None:
        padded = padded.index_select(1, unsorted_indices)
        lengths = [lengths[i] for i in unsorted_indices.tolist()]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, flambeau.tensor(lengths, dtype=flambeau.int64, device="cpu")


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes ``(L_i, *)`` into ``(max L, B, *)`` (``(B, max L, *)`` if
    ``batch_first``), padding with ``padding_value`` on ``padding_side``.

    >>> pad_sequence([flambeau.ones(2), flambeau.ones(1)], batch_first=True)
    tensor([[1., 1.],
            [1., 0.]])
    """
    if padding_side not in ("left", "right"):
        raise ValueError(
            f"Expected padding_side to be one of left or right, but got {padding_side}."
        )
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    max_len = max(s.shape[0] for s in sequences)
    out = []
    for s in sequences:
        n = max_len - s.shape[0]
        if n:
            fill = flambeau.full((n,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype,
                                 device=s.device)
            s = flambeau.cat([s, fill] if padding_side == "right" else [fill, s], 0)
        out.append(s)
    return flambeau.stack(out, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of unpadded sequences of a padded batch, inverse of ``pad_sequence``."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:n] for seq, n in zip(padded_sequences.unbind(0), _lengths_list(lengths))]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors ``(L_i, *)``: ``pack_padded_sequence(pad_sequence(...))``."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences a ``PackedSequence`` holds, inverse of ``pack_sequence``."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
