"""Convolution and pooling composites of ``Backend``, with default implementations over the
primitives (``Backend`` inherits them from ``ConvComposites``).

Shared conventions:

* ``x`` is ``(N, C, *spatial)`` with 1, 2 or 3 spatial dims; ``kernel``, ``stride`` and
  ``dilation`` are tuples of positive ints, one per spatial dim.
* ``padding`` is ``((before, after), ...)`` per spatial dim, non-negative. Convolution and
  average pooling pad with zeros, max pooling with ``-inf`` (the dtype's minimum for integers).
* Core has already checked the shapes: every window fits in the padded input, channels divide
  by ``groups``, and so on.

Convolution is ``im2col`` followed by ONE matmul over all samples (DESIGN §7): the columns are
laid out as a ``(groups, C/groups * prod(kernel), N * L)`` matrix so that the weight
``(groups, O/groups, C/groups * prod(kernel))`` multiplies it in one (batched-over-groups)
matmul. The gradient with respect to the input is the transposed product followed by
``col2im``; the gradient with respect to the weight multiplies the output gradient by the same
columns, which ``conv`` can leave in a ``cache`` dict for ``conv_weight_grad`` to reuse.
"""
from __future__ import annotations

import itertools
import math

from .. import _dtype as dt


def _out_size(size, kernel, stride, padding, dilation):
    return tuple(
        (size[i] + padding[i][0] + padding[i][1] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1
        for i in range(len(kernel))
    )


def _prod(xs):
    n = 1
    for v in xs:
        n *= v
    return n


class ConvComposites:
    """Convolution, unfold/fold and pooling composites (mixed into ``Backend``)."""

    # ------------------------------------------------------------------ unfold / fold
    def im2col(self, x, kernel, stride, padding, dilation):
        """Unfold the sliding windows of ``x`` ``(N, C, *spatial)``.

        Returns an array of shape ``(N, C, *kernel, *out)`` (it may be a strided view of
        ``x``; treat it as read-only) where ``out[i] = (size[i] + before + after -
        dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1``.
        """
        nsp = len(kernel)
        if any(b or a for b, a in padding):
            x = self.pad(x, ((0, 0), (0, 0)) + tuple(padding), 0)
        n, c = x.shape[:2]
        out = _out_size(x.shape[2:], kernel, stride, ((0, 0),) * nsp, dilation)
        # built as (C, *kernel, N, *out) and returned permuted, so that the matrix layout the
        # matmul wants is a free reshape of it
        cols = self.empty((c,) + tuple(kernel) + (n,) + out, self.dtype_of(x))
        xt = self.permute(x, (1, 0) + tuple(range(2, 2 + nsp)))
        for offs in itertools.product(*(range(k) for k in kernel)):
            src = (slice(None), slice(None)) + tuple(
                slice(o * dilation[i], o * dilation[i] + stride[i] * (out[i] - 1) + 1, stride[i])
                for i, o in enumerate(offs)
            )
            self.setitem(cols, (slice(None),) + offs, self.getitem(xt, src))
        return self.permute(cols, _from_ckm(nsp))

    def col2im(self, cols, size, kernel, stride, padding, dilation):
        """The adjoint of ``im2col``: add the windows of ``cols`` ``(N, C, *kernel, *out)`` back
        into a new ``(N, C, *size)`` array, overlapping windows summing up."""
        nsp = len(kernel)
        n, c = cols.shape[:2]
        out = cols.shape[2 + nsp:]
        padded = tuple(size[i] + padding[i][0] + padding[i][1] for i in range(nsp))
        x = self.full((n, c) + padded, 0, self.dtype_of(cols))
        for offs in itertools.product(*(range(k) for k in kernel)):
            dst = (slice(None), slice(None)) + tuple(
                slice(o * dilation[i], o * dilation[i] + stride[i] * (out[i] - 1) + 1, stride[i])
                for i, o in enumerate(offs)
            )
            src = (slice(None), slice(None)) + offs
            view, win = self.getitem(x, dst), self.getitem(cols, src)
            if self.shares_memory(view, x):
                self.binary_inplace("add", view, win)
            else:  # basic indexing may return a copy (Backend.getitem): add, then write back
                self.setitem(x, dst, self.binary("add", view, win))
        if not any(b or a for b, a in padding):
            return x
        crop = (slice(None), slice(None)) + tuple(
            slice(padding[i][0], padding[i][0] + size[i]) for i in range(nsp)
        )
        return self.ascontiguous(self.getitem(x, crop))

    # ------------------------------------------------------------------ convolution
    def _cols_matrix(self, cols, groups):
        """``(N, C, *K, *out)`` columns as the ``(groups, C/groups*prod(K), N*L)`` matrix."""
        nsp = (cols.ndim - 2) // 2
        n, c = cols.shape[:2]
        k = _prod(cols.shape[2:2 + nsp])
        L = _prod(cols.shape[2 + nsp:])
        return self.reshape(self.permute(cols, _to_ckm(nsp)), (groups, c // groups * k, n * L))

    def _grad_matrix(self, g, groups):
        """An output-shaped ``(N, O, *out)`` array as the ``(groups, O/groups, N*L)`` matrix."""
        n, o = g.shape[:2]
        L = _prod(g.shape[2:])
        gt = self.permute(g, (1, 0) + tuple(range(2, g.ndim)))
        return self.reshape(gt, (groups, o // groups, n * L))

    def conv(self, x, weight, bias, stride, padding, dilation, groups, cache=None):
        """Cross-correlation of ``x`` ``(N, C, *size)`` with ``weight`` ``(O, C/groups,
        *kernel)``, plus ``bias`` ``(O,)`` (or None): returns ``(N, O, *out)``, C-contiguous.

        ``cache``, when a dict, may receive whatever ``conv_weight_grad`` (called with the same
        dict, ``x`` and geometry) can reuse, typically the unfolded columns. Floating dtypes.
        """
        kernel = tuple(weight.shape[2:])
        nsp = len(kernel)
        n = x.shape[0]
        o = weight.shape[0]
        cols = self.im2col(x, kernel, stride, padding, dilation)
        out = tuple(cols.shape[2 + nsp:])
        xm = self._cols_matrix(cols, groups)
        wm = self.reshape(weight, (groups, o // groups, xm.shape[1]))
        y = self.reshape(self.matmul(wm, xm), (o, n) + out)
        if bias is not None:
            y = self.binary("add", y, self.reshape(bias, (o,) + (1,) * (nsp + 1)))
        if cache is not None:
            cache["cols"] = xm
        return self.ascontiguous(self.permute(y, (1, 0) + tuple(range(2, 2 + nsp))))

    def conv_input_grad(self, grad, weight, size, stride, padding, dilation, groups, cache=None):
        """The gradient of ``conv`` with respect to its input (a transposed convolution):
        ``grad`` ``(N, O, *out)`` and ``weight`` ``(O, C/groups, *kernel)`` give
        ``(N, C, *size)``. ``cache``: as for ``conv_weight_grad``, which may be called next
        with the same dict and ``grad`` (a backend may share work between the two)."""
        kernel = tuple(weight.shape[2:])
        nsp = len(kernel)
        n = grad.shape[0]
        o, cg = weight.shape[:2]
        out = tuple(grad.shape[2:])
        gm = self._grad_matrix(grad, groups)
        wm = self.reshape(weight, (groups, o // groups, cg * _prod(kernel)))
        cm = self.matmul(self.permute(wm, (0, 2, 1)), gm)  # (groups, C/g*K, N*L)
        cols = self.reshape(cm, (cg * groups,) + kernel + (n,) + out)
        return self.col2im(self.permute(cols, _from_ckm(nsp)), tuple(size), kernel, stride,
                           padding, dilation)

    def conv_weight_grad(self, x, grad, kernel, stride, padding, dilation, groups, cache=None):
        """The gradient of ``conv`` with respect to its weight: ``x`` ``(N, C, *size)`` and
        ``grad`` ``(N, O, *out)`` give ``(O, C/groups, *kernel)``. ``cache`` is the dict the
        matching ``conv`` call filled, or None."""
        kernel = tuple(kernel)
        xm = cache.get("cols") if cache else None
        if xm is None:
            xm = self._cols_matrix(self.im2col(x, kernel, stride, padding, dilation), groups)
        gm = self._grad_matrix(grad, groups)
        gw = self.matmul(gm, self.permute(xm, (0, 2, 1)))  # (groups, O/g, C/g*K)
        o = grad.shape[1]
        return self.reshape(gw, (o, x.shape[1] // groups) + kernel)

    # ------------------------------------------------------------------ pooling
    def _pool_fill(self, dtype):
        if dtype.is_floating_point:
            return -math.inf
        if dtype is dt.bool_:
            return False
        return dt.iinfo(dtype).min

    def _window_index_table(self, size, kernel, stride, padding, dilation, out):
        """int64 ``(prod(kernel), *out)``: for each kernel offset and output position, the flat
        index (into the unpadded spatial dims) of the input element it reads, clamped inside."""
        nsp = len(kernel)
        flat = None
        for i in range(nsp):
            pos = self.arange(0, out[i], 1, dt.int64)
            pos = self.binary("sub", self.binary("mul", pos, stride[i]), padding[i][0])
            off = self.binary("mul", self.arange(0, kernel[i], 1, dt.int64), dilation[i])
            coord = self.binary("add", self.reshape(off, (kernel[i], 1)), self.reshape(pos, (1, out[i])))
            coord = self.clip(coord, 0, size[i] - 1)
            coord = self.binary("mul", coord, _prod(size[i + 1:]))
            # axes (k_0..k_{nsp-1}, o_0..o_{nsp-1}); this dim's at positions i and nsp + i
            shape = [1] * (2 * nsp)
            shape[i] = kernel[i]
            shape[nsp + i] = out[i]
            coord = self.reshape(coord, tuple(shape))
            flat = coord if flat is None else self.binary("add", flat, coord)
        return self.reshape(
            self.broadcast_to(flat, tuple(kernel) + tuple(out)), (_prod(kernel),) + tuple(out)
        )

    def _pool_argmax(self, x, axis):
        """Index (int64, ``axis`` kept with size 1) of the first maximum along ``axis``, a NaN
        counting as the maximum and the last NaN winning, as PyTorch's max pooling picks."""
        arg = self.arg_reduce("argmax", x, axis, True)
        if not self.dtype_of(x).is_floating_point:
            return arg
        nan = self.astype(self.unary("isnan", x), dt.int64)
        last = self.arg_reduce("argmax", self.flip(nan, (axis,)), axis, True)
        last = self.binary("add", self.binary("mul", last, -1), x.shape[axis] - 1)
        return self.where(self.reduce("any", nan, (axis,), True), last, arg)

    def max_pool(self, x, kernel, stride, padding, dilation):
        """Max pooling of ``x`` ``(N, C, *size)``: returns ``(values, indices)``, both
        ``(N, C, *out)``; ``indices`` (int64) are flat positions in each sample's unpadded
        spatial plane (``h * W + w`` in 2-D), the first maximum of each window, as PyTorch's
        ``return_indices``. A NaN counts as the maximum (of several, the last one, as PyTorch
        picks). ``padding`` may be asymmetric (ceil mode adds to ``after``)."""
        nsp = len(kernel)
        size = tuple(x.shape[2:])
        n, c = x.shape[:2]
        dtype = self.dtype_of(x)
        if any(b or a for b, a in padding):
            x = self.pad(x, ((0, 0), (0, 0)) + tuple(padding), self._pool_fill(dtype))
        cols = self.im2col(x, kernel, stride, ((0, 0),) * nsp, dilation)
        out = tuple(cols.shape[2 + nsp:])
        k = _prod(kernel)
        flat = self.reshape(cols, (n, c, k) + out)
        arg = self._pool_argmax(flat, 2)  # (N, C, 1, *out)
        values = self.reshape(self.take_along_axis(flat, arg, 2), (n, c) + out)
        table = self._window_index_table(size, kernel, stride, padding, dilation, out)
        table = self.broadcast_to(self.reshape(table, (1, 1, k) + out), (n, c, k) + out)
        indices = self.reshape(self.take_along_axis(table, arg, 2), (n, c) + out)
        return values, indices

    def max_pool_backward(self, grad, indices, size, unique=False):
        """The adjoint of gathering at ``indices``: a zero ``(N, C, *size)`` array with ``grad``
        ``(N, C, *out)`` added at the flat spatial ``indices`` (repeated indices sum).
        ``unique``: the indices of each ``(n, c)`` plane are known to be distinct (windows do
        not overlap), so a backend may write instead of accumulating."""
        n, c = grad.shape[:2]
        L = _prod(grad.shape[2:])
        plane = _prod(size)
        out = self.full((n, c, plane), 0, self.dtype_of(grad))
        ni = self.reshape(self.arange(0, n, 1, dt.int64), (n, 1, 1))
        ci = self.reshape(self.arange(0, c, 1, dt.int64), (1, c, 1))
        self.index_add(out, (ni, ci, self.reshape(indices, (n, c, L))), self.reshape(grad, (n, c, L)))
        return self.reshape(out, (n, c) + tuple(size))

    def avg_pool(self, x, kernel, stride, padding, divisor):
        """Average pooling: the sum of each (zero-padded) window divided by ``divisor``, a
        Python number or an array of ``x``'s dtype broadcastable to ``(N, C, *out)``."""
        nsp = len(kernel)
        cols = self.im2col(x, kernel, stride, padding, (1,) * nsp)
        s = self.reduce("sum", cols, tuple(range(2, 2 + nsp)), False)
        return self.binary("div", s, divisor)

    def avg_pool_backward(self, grad, size, kernel, stride, padding, divisor):
        """The adjoint of ``avg_pool``: ``grad / divisor`` spread over each window, summed back
        into a new ``(N, C, *size)`` array."""
        nsp = len(kernel)
        n, c = grad.shape[:2]
        out = tuple(grad.shape[2:])
        g = self.binary("div", grad, divisor)
        g = self.broadcast_to(self.reshape(g, (n, c) + (1,) * nsp + out), (n, c) + tuple(kernel) + out)
        return self.col2im(g, tuple(size), tuple(kernel), stride, padding, (1,) * nsp)


def _to_ckm(nsp):
    """Axes taking ``(N, C, *K, *out)`` to ``(C, *K, N, *out)``."""
    return (1,) + tuple(range(2, 2 + nsp)) + (0,) + tuple(range(2 + nsp, 2 + 2 * nsp))


def _from_ckm(nsp):
    """Axes taking ``(C, *K, N, *out)`` to ``(N, C, *K, *out)``."""
    return (nsp + 1, 0) + tuple(range(1, nsp + 1)) + tuple(range(nsp + 2, 2 * nsp + 2))
