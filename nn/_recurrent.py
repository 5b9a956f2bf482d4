"""The math of the recurrent layers: fused per-step Functions and the loop over time.

A layer computes its input projection for every timestep with one matmul, then runs one fused
node per step: the hidden-to-hidden matmul and the gate math together, forward and backward
side by side (PyTorch's equations, gate order i, f, g, o for LSTM and r, z, n for GRU).

The forwards compute on native arrays (they are ops). The backwards have two forms of the same
formulas: with grad mode off (a plain ``backward()``) they run on native arrays, without
per-op autograd overhead; under ``create_graph=True`` they use tensor ops and rebuild the gate
activations from the inputs, so the graph of the gradient reaches them and higher-order
gradients are right.
"""
from __future__ import annotations

from flambeau import Tensor, cat, is_grad_enabled
from flambeau.autograd.function import InternalFunction


def _wrap(x, data):
    return Tensor._make(data, x._backend, x.dtype, x.device)


def _tr(b, w):
    return b.permute(w, (1, 0))


class Rows(InternalFunction):
    """Split ``x`` along dim 0 into consecutive pieces of ``sizes`` rows, as one node (the
    gradient is one concatenation, not one zero-padded scatter per piece)."""

    @staticmethod
    def forward(ctx, x, sizes):
        b, data = x._backend, x._data
        out, start = [], 0
        for n in sizes:
            out.append(_wrap(x, b.getitem(data, (slice(start, start + n),))))
            start += n
        return tuple(out)

    @staticmethod
    def backward(ctx, *grads):  # d split = concatenation of the pieces' gradients
        return cat(grads, 0), None


def rows(x, sizes):
    sizes = list(sizes)
    if len(sizes) == 1:
        return (x,)
    return Rows.apply(x, sizes)


# =============================================================================
# one step of each cell; xp is the input projection x W_ih^T + biases for this step
# =============================================================================


class RNNStep(InternalFunction):
    # h' = act(xp + h W_hh^T), act = tanh or relu
    @staticmethod
    def forward(ctx, xp, h, w_hh, nonlinearity):
        b = xp._backend
        pre = b.binary("add", xp._data, b.matmul(h._data, _tr(b, w_hh._data)))
        if nonlinearity == "tanh":
            out = b.unary("tanh", pre)
        else:
            out = b.binary("maximum", pre, 0)
        out = _wrap(xp, out)
        ctx.nonlinearity = nonlinearity
        ctx.save_for_backward(h, w_hh, out)
        return out

    @staticmethod
    def backward(ctx, g):  # d tanh = 1 - tanh^2, d relu = [out > 0]; d pre/dh = W_hh
        h, w_hh, out = ctx.saved_tensors
        if ctx.nonlinearity == "tanh":
            dpre = g * (1 - out * out)
        else:
            dpre = g * (out > 0).to(g.dtype)
        dh = dpre @ w_hh if ctx.needs_input_grad[1] else None
        dw = dpre.mT @ h if ctx.needs_input_grad[2] else None
        return dpre, dh, dw, None


class LSTMStep(InternalFunction):
    # gates = xp + h W_hh^T = (i, f, g, o) pre-activations
    # c' = sigmoid(f) c + sigmoid(i) tanh(g),  h' = sigmoid(o) tanh(c')
    @staticmethod
    def forward(ctx, xp, h, c, w_hh):
        b = xp._backend
        H = c.shape[-1]
        gates = b.binary("add", xp._data, b.matmul(h._data, _tr(b, w_hh._data)))
        s = b.unary("sigmoid", gates)
        g = b.unary("tanh", b.getitem(gates, (Ellipsis, slice(2 * H, 3 * H))))
        i = b.getitem(s, (Ellipsis, slice(0, H)))
        f = b.getitem(s, (Ellipsis, slice(H, 2 * H)))
        o = b.getitem(s, (Ellipsis, slice(3 * H, 4 * H)))
        c_new = b.binary("add", b.binary("mul", f, c._data), b.binary("mul", i, g))
        tc = b.unary("tanh", c_new)
        h_new, c_new = _wrap(xp, b.binary("mul", o, tc)), _wrap(xp, c_new)
        ctx.acts = (i, f, g, o, tc)
        ctx.save_for_backward(xp, h, c, w_hh, c_new)
        return h_new, c_new

    @staticmethod
    def backward(ctx, gh, gc):
        xp, h, c, w_hh, c_new = ctx.saved_tensors
        if not is_grad_enabled():
            return _lstm_backward_native(ctx, gh, gc, h, c, w_hh)
        # create_graph: the same math with tensor ops, activations rebuilt inside the graph
        H = c.shape[-1]
        gates = xp + h @ w_hh.mT
        s = gates.sigmoid()
        i, f, o = s[..., :H], s[..., H:2 * H], s[..., 3 * H:]
        g = gates[..., 2 * H:3 * H].tanh()
        tc = c_new.tanh()
        # dc' collects the direct gradient and the one through h' = o tanh(c')
        dc = gc + gh * o * (1 - tc * tc)
        dgates = cat([dc * g * i * (1 - i),          # d sigmoid = s (1 - s)
                      dc * c * f * (1 - f),
                      dc * i * (1 - g * g),          # d tanh = 1 - tanh^2
                      gh * tc * o * (1 - o)], -1)
        dh = dgates @ w_hh if ctx.needs_input_grad[1] else None
        dw = dgates.mT @ h if ctx.needs_input_grad[3] else None
        return dgates, dh, dc * f, dw


def _lstm_backward_native(ctx, gh, gc, h, c, w_hh):
    """``LSTMStep.backward`` on native arrays, for the usual case where the gradient itself is
    not differentiated (grad mode off): the same formulas, without per-op autograd overhead."""
    b = gh._backend
    i, f, g, o, tc = ctx.acts
    mul = lambda x, y: b.binary("mul", x, y)  # noqa: E731
    sub = lambda x, y: b.binary("sub", x, y)  # noqa: E731
    gh, gc = gh._data, gc._data
    gho = mul(gh, o)
    dc = b.binary("add", gc, sub(gho, mul(gho, mul(tc, tc))))  # gc + gh o (1 - tanh^2 c')
    dci = mul(dc, i)
    dgates = b.concatenate([
        mul(mul(dc, g), sub(i, mul(i, i))),                     # d sigmoid = s - s^2
        mul(mul(dc, c._data), sub(f, mul(f, f))),
        sub(dci, mul(dci, mul(g, g))),                          # d tanh = 1 - tanh^2
        mul(mul(gh, tc), sub(o, mul(o, o))),
    ], -1)
    need = ctx.needs_input_grad
    dh = _wrap(h, b.matmul(dgates, w_hh._data)) if need[1] else None
    dw = _wrap(h, b.matmul(_tr(b, dgates), h._data)) if need[3] else None
    return _wrap(h, dgates), dh, _wrap(h, mul(dc, f)), dw


class GRUStep(InternalFunction):
    # gh = h W_hh^T + b_hh;  r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z)
    # n = tanh(gi_n + r gh_n);  h' = (1 - z) n + z h = n + z (h - n)
    @staticmethod
    def forward(ctx, gi, h, w_hh, b_hh):
        b = gi._backend
        H = h.shape[-1]
        gh = b.matmul(h._data, _tr(b, w_hh._data))
        if b_hh is not None:
            gh = b.binary("add", gh, b_hh._data)
        gi_d = gi._data
        rz = b.unary("sigmoid", b.binary("add", b.getitem(gi_d, (Ellipsis, slice(0, 2 * H))),
                                         b.getitem(gh, (Ellipsis, slice(0, 2 * H)))))
        r = b.getitem(rz, (Ellipsis, slice(0, H)))
        z = b.getitem(rz, (Ellipsis, slice(H, 2 * H)))
        gh_n = b.getitem(gh, (Ellipsis, slice(2 * H, 3 * H)))
        n = b.unary("tanh", b.binary("add", b.getitem(gi_d, (Ellipsis, slice(2 * H, 3 * H))),
                                     b.binary("mul", r, gh_n)))
        h_new = b.binary("add", n, b.binary("mul", z, b.binary("sub", h._data, n)))
        ctx.acts = (r, z, n, gh_n)
        ctx.save_for_backward(gi, h, w_hh, b_hh)
        return _wrap(gi, h_new)

    @staticmethod
    def backward(ctx, g):
        gi, h, w_hh, b_hh = ctx.saved_tensors
        if not is_grad_enabled():
            return _gru_backward_native(ctx, g, h, w_hh, b_hh)
        # create_graph: the same math with tensor ops, activations rebuilt inside the graph
        H = h.shape[-1]
        gh = h @ w_hh.mT
        if b_hh is not None:
            gh = gh + b_hh
        rz = (gi[..., :2 * H] + gh[..., :2 * H]).sigmoid()
        r, z = rz[..., :H], rz[..., H:]
        gh_n = gh[..., 2 * H:]
        n = (gi[..., 2 * H:] + r * gh_n).tanh()
        dn = g * (1 - z) * (1 - n * n)               # through n = tanh(...), d tanh = 1 - tanh^2
        dr = dn * gh_n * r * (1 - r)                 # d sigmoid = s (1 - s)
        dz = g * (h - n) * z * (1 - z)
        dgi = cat([dr, dz, dn], -1)
        dgh = cat([dr, dz, dn * r], -1)
        dh = g * z
        if ctx.needs_input_grad[1]:
            dh = dh + dgh @ w_hh
        dw = dgh.mT @ h if ctx.needs_input_grad[2] else None
        db = dgh.sum(0) if b_hh is not None and ctx.needs_input_grad[3] else None
        return dgi, dh, dw, db


def _gru_backward_native(ctx, g, h, w_hh, b_hh):
    """``GRUStep.backward`` on native arrays, for grad mode off (see ``_lstm_backward_native``)."""
    b = g._backend
    r, z, n, gh_n = ctx.acts
    mul = lambda x, y: b.binary("mul", x, y)  # noqa: E731
    sub = lambda x, y: b.binary("sub", x, y)  # noqa: E731
    g, hd = g._data, h._data
    t = sub(g, mul(g, z))                               # g (1 - z)
    dn = sub(t, mul(t, mul(n, n)))                      # ... (1 - n^2)
    dr = mul(mul(dn, gh_n), sub(r, mul(r, r)))          # d sigmoid = s - s^2
    dz = mul(mul(g, sub(hd, n)), sub(z, mul(z, z)))
    dgi = b.concatenate([dr, dz, dn], -1)
    dgh = b.concatenate([dr, dz, mul(dn, r)], -1)
    need = ctx.needs_input_grad
    dh = None
    if need[1]:
        dh = _wrap(h, b.binary("add", mul(g, z), b.matmul(dgh, w_hh._data)))
    dw = _wrap(h, b.matmul(_tr(b, dgh), hd)) if need[2] else None
    db = None
    if b_hh is not None and need[3]:
        db = _wrap(h, b.reduce("sum", dgh, (0,), False))
    return _wrap(h, dgi), dh, dw, db


# =============================================================================
# the loop over time
# =============================================================================


def _steps(xp, batch_sizes, T, B):
    """The per-step slices of the input projection ``xp`` (rows ordered time-major)."""
    if batch_sizes is None:
        return rows(xp, [B] * T)
    return rows(xp, batch_sizes)


def run_direction(mode, xp, hx, w_hh, b_hh, w_hr, reverse, batch_sizes, T, B, nonlinearity):
    """Run one direction of one layer over time.

    ``xp``: the input projection of every step, ``(T*B, G)`` time-major, or the packed rows when
    ``batch_sizes`` (a list of ints, non-increasing) is given. ``hx``: ``h0`` or ``(h0, c0)``, each
    ``(B, *)``. Returns ``(outputs (rows, H_out), h_n)`` or ``(outputs, (h_n, c_n))``.
    """
    xs = _steps(xp, batch_sizes, T, B)
    lstm = mode == "LSTM"
    h, c = hx if lstm else (hx, None)
    outs = [None] * len(xs)
    sizes = [B] * len(xs) if batch_sizes is None else batch_sizes
    order = range(len(xs) - 1, -1, -1) if reverse else range(len(xs))
    packed = batch_sizes is not None and sizes[0] != sizes[-1]
    done_h, done_c = [], []  # forward packed: final states of sequences that already ended
    h0, c0 = h, c
    cur = B
    if packed and reverse:
        cur = sizes[-1]
        h, c = h0[:cur], (c0[:cur] if lstm else None)
    for t in order:
        bs = sizes[t]
        if packed and bs != cur:
            if reverse:  # sequences that start at this step join with their initial state
                h = cat([h, h0[cur:bs]], 0)
                if lstm:
                    c = cat([c, c0[cur:bs]], 0)
            else:  # sequences that ended keep their last state
                done_h.append(h[bs:cur])
                h = h[:bs]
                if lstm:
                    done_c.append(c[bs:cur])
                    c = c[:bs]
            cur = bs
        if lstm:
            h, c = LSTMStep.apply(xs[t], h, c, w_hh)
            if w_hr is not None:
                h = h @ w_hr.mT
        elif mode == "GRU":
            h = GRUStep.apply(xs[t], h, w_hh, b_hh)
        else:
            h = RNNStep.apply(xs[t], h, w_hh, nonlinearity)
        outs[t] = h
    if done_h:
        h = cat([h] + done_h[::-1], 0)
        if lstm:
            c = cat([c] + done_c[::-1], 0)
    output = cat(outs, 0) if len(outs) > 1 else outs[0]
    return output, ((h, c) if lstm else h)


def input_projection(x2d, w_ih, bias):
    """``x W_ih^T + bias`` for all rows at once (one matmul)."""
    out = x2d @ w_ih.mT
    return out + bias if bias is not None else out
