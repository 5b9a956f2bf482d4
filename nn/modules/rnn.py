"""Recurrent layers: RNN, LSTM, GRU and their cells, as in ``torch.nn``.

Parameter names, shapes, gate order and default initialisation are PyTorch's, so state_dicts
move between the two. The math is in ``flambeau.nn._recurrent``.

>>> import flambeau
>>> from flambeau import nn
>>> lstm = nn.LSTM(10, 20, num_layers=2, batch_first=True)
>>> out, (h, c) = lstm(flambeau.randn(3, 5, 10))
>>> out.shape, h.shape
(flambeau.Size([3, 5, 20]), flambeau.Size([2, 3, 20]))
"""
from __future__ import annotations

import math
import numbers
import warnings

import flambeau
from flambeau import Tensor
from flambeau._module import Module, Parameter

from .. import _recurrent as R
from ..utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _empty_param(shape, device, dtype):
    return Parameter(flambeau.empty(shape, device=device, dtype=dtype))


def _reset_uniform(module):
    # every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch
    stdv = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0
    with flambeau.no_grad():
        for w in module.parameters():
            w.uniform_(-stdv, stdv)


def _apply_permutation(t, permutation, dim=1):
    return t.index_select(dim, permutation)


class RNNBase(Module):
    """Base of ``RNN``, ``LSTM`` and ``GRU``: the stacked, optionally bidirectional layers."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if (not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1
                or isinstance(dropout, bool)):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                "element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}", stacklevel=2,
            )
        if not isinstance(hidden_size, int) or isinstance(hidden_size, bool):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError(
                "proj_size should be a positive integer or zero to disable projections"
            )
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input = input_size if layer == 0 else real_hidden * num_directions
                suffix = "_reverse" if direction == 1 else ""
                names = [f"weight_ih_l{layer}{suffix}", f"weight_hh_l{layer}{suffix}"]
                shapes = [(gate_size, layer_input), (gate_size, real_hidden)]
                if bias:
                    names += [f"bias_ih_l{layer}{suffix}", f"bias_hh_l{layer}{suffix}"]
                    shapes += [(gate_size,), (gate_size,)]
                if proj_size > 0:
                    names.append(f"weight_hr_l{layer}{suffix}")
                    shapes.append((proj_size, hidden_size))
                for name, shape in zip(names, shapes):
                    setattr(self, name, _empty_param(shape, device, dtype))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_uniform(self)

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self):
        """Accepted for compatibility (cuDNN weight packing); a no-op."""

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ------------------------------------------------------------------ checks
    def _check_input(self, input, batch_sizes):
        w = getattr(self, self._flat_weights_names[0])
        if input.dtype is not w.dtype:
            raise ValueError(f"input must have the type {w.dtype}, got type {input.dtype}")
        expected_dim = 2 if batch_sizes is not None else 3
        if input.ndim != expected_dim:
            raise RuntimeError(
                f"input must have {expected_dim} dimensions, got {input.ndim}"
            )
        if self.input_size != input.shape[-1]:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                f"got {input.shape[-1]}"
            )

    def _expected_hidden_size(self, batch, last):
        return (self.num_layers * (2 if self.bidirectional else 1), batch, last)

    @staticmethod
    def _check_hidden_size(hx, expected, msg="Expected hidden size {}, got {}"):
        if tuple(hx.shape) != tuple(expected):
            raise RuntimeError(msg.format(list(expected), list(hx.shape)))

    # ------------------------------------------------------------------ forward
    def forward(self, input, hx=None):
        name = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(self.mode, self.mode)
        lstm = self.mode == "LSTM"
        packed = isinstance(input, PackedSequence)
        unbatched = False
        if packed:
            data, batch_sizes_t, sorted_indices, unsorted_indices = input
            batch_sizes = [int(v) for v in batch_sizes_t.tolist()]
            T, B = len(batch_sizes), batch_sizes[0]
            self._check_input(data, batch_sizes)
            x2d = data
        else:
            batch_sizes = sorted_indices = unsorted_indices = None
            if input.ndim not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead")
            unbatched = input.ndim == 2
            x = input.unsqueeze(1) if unbatched else input
            if self.batch_first and not unbatched:
                x = x.transpose(0, 1)
            self._check_input(x, None)
            T, B = x.shape[0], x.shape[1]
            x2d = x.reshape(T * B, x.shape[2])
        h0, c0 = self._initial_state(hx, x2d, B, unbatched, sorted_indices, lstm, name)

        D = 2 if self.bidirectional else 1
        layer_in = x2d
        h_n, c_n = [], []
        weights = self._flat_weights
        per = len(weights) // (self.num_layers * D)
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                k = layer * D + d
                ws = weights[k * per:(k + 1) * per]
                w_ih, w_hh = ws[0], ws[1]
                b_ih = b_hh = w_hr = None
                if self.bias:
                    b_ih, b_hh = ws[2], ws[3]
                if self.proj_size > 0:
                    w_hr = ws[-1]
                if self.mode == "GRU" or b_ih is None:
                    bias = b_ih  # GRU keeps b_hn inside r * (W_hn h + b_hn)
                else:
                    bias = b_ih + b_hh
                xp = R.input_projection(layer_in, w_ih, bias)
                state = (h0[k], c0[k]) if lstm else h0[k]
                out, hn = R.run_direction(
                    self.mode, xp, state, w_hh, b_hh if self.mode == "GRU" else None, w_hr,
                    d == 1, batch_sizes, T, B, "relu" if self.mode == "RNN_RELU" else "tanh",
                )
                outs.append(out)
                if lstm:
                    h_n.append(hn[0])
                    c_n.append(hn[1])
                else:
                    h_n.append(hn)
            layer_in = flambeau.cat(outs, -1) if D == 2 else outs[0]
            if self.dropout and self.training and layer < self.num_layers - 1:
                from .. import functional as F

                layer_in = F.dropout(layer_in, self.dropout, True)

        h_n = flambeau.stack(h_n, 0)
        c_n = flambeau.stack(c_n, 0) if lstm else None
        if packed:
            output = PackedSequence(layer_in, batch_sizes_t, sorted_indices, unsorted_indices)
            if unsorted_indices is not None:
                h_n = _apply_permutation(h_n, unsorted_indices)
                if lstm:
                    c_n = _apply_permutation(c_n, unsorted_indices)
        else:
            output = layer_in.reshape(T, B, layer_in.shape[-1])
            if unbatched:
                output = output.squeeze(1)
                h_n = h_n.squeeze(1)
                c_n = c_n.squeeze(1) if lstm else None
            elif self.batch_first:
                output = output.transpose(0, 1)
        return output, ((h_n, c_n) if lstm else h_n)

    def _initial_state(self, hx, x, B, unbatched, sorted_indices, lstm, name):
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        D = 2 if self.bidirectional else 1
        if hx is None:
            h0 = flambeau.zeros((self.num_layers * D, B, real_hidden), dtype=x.dtype,
                                device=x.device)
            c0 = flambeau.zeros((self.num_layers * D, B, self.hidden_size), dtype=x.dtype,
                                device=x.device) if lstm else None
            return h0, c0
        if lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise RuntimeError("LSTM: hx must be a tuple (h_0, c_0)")
            h0, c0 = hx
            dims = (h0.ndim, c0.ndim)
            if unbatched and dims != (2, 2):
                raise RuntimeError(
                    "For unbatched 2-D input, hx and cx should also be 2-D but got "
                    f"({dims[0]}-D, {dims[1]}-D) tensors"
                )
            if not unbatched and dims != (3, 3):
                raise RuntimeError(
                    "For batched 3-D input, hx and cx should also be 3-D but got "
                    f"({dims[0]}-D, {dims[1]}-D) tensors"
                )
        else:
            if not isinstance(hx, Tensor):
                raise TypeError(f"{name}: hx must be a Tensor, got {type(hx).__name__}")
            h0, c0 = hx, None
            if unbatched and h0.ndim != 2:
                raise RuntimeError(
                    f"For unbatched 2-D input, hx should also be 2-D but got {h0.ndim}-D tensor"
                )
            if not unbatched and h0.ndim != 3:
                raise RuntimeError(
                    f"For batched 3-D input, hx should also be 3-D but got {h0.ndim}-D tensor"
                )
        if unbatched:
            h0 = h0.unsqueeze(1)
            c0 = c0.unsqueeze(1) if lstm else None
        if sorted_indices is not None:
            h0 = _apply_permutation(h0, sorted_indices)
            c0 = _apply_permutation(c0, sorted_indices) if lstm else None
        if lstm:
            self._check_hidden_size(h0, self._expected_hidden_size(B, real_hidden),
                                    "Expected hidden[0] size {}, got {}")
            self._check_hidden_size(c0, self._expected_hidden_size(B, self.hidden_size),
                                    "Expected hidden[1] size {}, got {}")
        else:
            self._check_hidden_size(h0, self._expected_hidden_size(B, real_hidden))
        return h0, c0


class RNN(RNNBase):
    """Elman RNN: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``, act tanh or relu.

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)``; ``forward(input, h_0=None)`` returns
    ``(output, h_n)``.
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)
        self.nonlinearity = nonlinearity  # PyTorch's repr does not show it


class LSTM(RNNBase):
    """Long short-term memory, gates ``(i, f, g, o)``:
    ``c_t = f c_{t-1} + i g``, ``h_t = o tanh(c_t)`` (then ``h_t W_hr^T`` when ``proj_size > 0``).

    ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0)``; ``forward(input, (h_0, c_0)=None)`` returns
    ``(output, (h_n, c_n))``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit, gates ``(r, z, n)``:
    ``n = tanh(W_in x + b_in + r (W_hn h + b_hn))``, ``h' = (1 - z) n + z h``.

    ``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False)``; ``forward(input, h_0=None)`` returns ``(output, h_n)``.
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


# =============================================================================
# cells: one step
# =============================================================================


class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = _empty_param((num_chunks * hidden_size, input_size), device, dtype)
        self.weight_hh = _empty_param((num_chunks * hidden_size, hidden_size), device, dtype)
        if bias:
            self.bias_ih = _empty_param((num_chunks * hidden_size,), device, dtype)
            self.bias_hh = _empty_param((num_chunks * hidden_size,), device, dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_uniform(self)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input, hx, name):
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input has inconsistent input_size: got {input.shape[-1]} expected "
                f"{self.input_size}"
            )
        for h in (hx if isinstance(hx, (tuple, list)) else (hx,)):
            if h is not None and h.ndim not in (1, 2):
                raise ValueError(f"{name}: Expected hidden to be 1D or 2D, got {h.ndim}D instead")
        unbatched = input.ndim == 1
        return (input.unsqueeze(0) if unbatched else input), unbatched

    def _state(self, h, batch, unbatched, x):
        if h is None:
            return flambeau.zeros((batch, self.hidden_size), dtype=x.dtype, device=x.device)
        h = h.unsqueeze(0) if unbatched else h
        if h.shape[0] != batch:
            raise RuntimeError(
                f"Input batch size {batch} doesn't match hidden0 batch size {h.shape[0]}"
            )
        if h.shape[1] != self.hidden_size:
            raise RuntimeError(
                f"hidden0 has inconsistent hidden_size: got {h.shape[1]}, expected "
                f"{self.hidden_size}"
            )
        return h


class RNNCell(RNNCellBase):
    """One Elman step: ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``, act tanh or relu."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        if nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, unbatched = self._prepare(input, hx, "RNNCell")
        h = self._state(hx, x.shape[0], unbatched, x)
        bias = self.bias_ih + self.bias_hh if self.bias else None
        out = R.RNNStep.apply(R.input_projection(x, self.weight_ih, bias), h, self.weight_hh,
                              self.nonlinearity)
        return out.squeeze(0) if unbatched else out


class LSTMCell(RNNCellBase):
    """One LSTM step; ``forward(input, (h, c)=None)`` returns ``(h', c')``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        x, unbatched = self._prepare(input, hx, "LSTMCell")
        h, c = (None, None) if hx is None else hx
        h = self._state(h, x.shape[0], unbatched, x)
        c = self._state(c, x.shape[0], unbatched, x)
        bias = self.bias_ih + self.bias_hh if self.bias else None
        h, c = R.LSTMStep.apply(R.input_projection(x, self.weight_ih, bias), h, c, self.weight_hh)
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    """One GRU step: ``n = tanh(W_in x + b_in + r (W_hn h + b_hn))``, ``h' = (1 - z) n + z h``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        x, unbatched = self._prepare(input, hx, "GRUCell")
        h = self._state(hx, x.shape[0], unbatched, x)
        gi = R.input_projection(x, self.weight_ih, self.bias_ih)
        out = R.GRUStep.apply(gi, h, self.weight_hh, self.bias_hh)
        return out.squeeze(0) if unbatched else out
