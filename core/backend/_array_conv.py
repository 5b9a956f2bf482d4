"""Fast paths of the convolution and pooling composites over a NumPy-like ``xp``: mix
``ArrayConvMixin`` in before ``ArrayModuleBackend`` (``class NumpyBackend(ArrayConvMixin,
ArrayModuleBackend)``); works for any ``xp`` with ``lib.stride_tricks.as_strided`` (NumPy, CuPy).
A backend without it keeps the defaults of ``ConvComposites``, which the test backend exercises.

A window view costs nothing; the one copy that turns it into the matmul's column matrix is the
only pass over the data.

The 2-D stride-1 convolution (the common case) uses "wide" columns: on the flattened padded
image, kernel offset ``(i, j)`` is a constant shift ``i*dh*Wp + j*dw``, so each column row is ONE
contiguous run of ``(Ho - 1) * Wp + Wo`` elements per sample (output positions plus
``Wp - Wo`` don't-care positions per row, dropped afterwards). Copies and the ``col2im``
accumulation then run over long contiguous rows instead of ``Wo``-element pieces.
"""
from __future__ import annotations

import threading

from .. import _dtype as dt
from ._conv import _out_size, _prod

_tls = threading.local()
_SCRATCH_MAX_BYTES = 1 << 24  # per array: bigger temporaries are not worth keeping
_SCRATCH_TOTAL_BYTES = 1 << 26  # per thread


class ArrayConvMixin:
    """``as_strided`` fast paths for ``im2col``, ``conv*``, ``max_pool*`` and ``avg_pool*``."""

    def _as_strided(self):
        st = getattr(getattr(self.xp, "lib", None), "stride_tricks", None)
        return getattr(st, "as_strided", None)

    def _scratch(self, purpose, shape, dtype):
        """A reusable array (contents undefined) for a temporary that never leaves the calling
        composite. Kept per thread and shape: freeing and re-allocating the same large buffers
        every step makes the C allocator hand them back to the OS and fault them in again, which
        costs as much as the arithmetic for small convolutions."""
        pool = getattr(_tls, "pool", None)
        if pool is None:
            pool = _tls.pool = {}
        key = (id(self), purpose, shape, dtype)
        a = pool.get(key)
        if a is None:
            a = self.xp.empty(shape, dtype=dtype)
            if a.nbytes <= _SCRATCH_MAX_BYTES:
                total = sum(v.nbytes for v in pool.values()) + a.nbytes
                while pool and total > _SCRATCH_TOTAL_BYTES:  # drop the oldest
                    total -= pool.pop(next(iter(pool))).nbytes
                pool[key] = a
        return a

    def _padded(self, x, padding, value, scratch=False):
        """``x`` padded per spatial dim by ``((before, after), ...)`` with ``value``, as a new
        C-contiguous array (or ``x`` itself when there is nothing to pad). ``scratch``: the
        result is a temporary of the caller (a reused buffer)."""
        if not any(b or a for b, a in padding):
            return x
        xp = self.xp
        shape = x.shape[:2] + tuple(
            s + b + a for s, (b, a) in zip(x.shape[2:], padding)
        )
        if scratch:
            buf = self._scratch("pad", shape, x.dtype)
            buf.fill(value)
        else:
            buf = xp.full(shape, value, dtype=x.dtype) if value else xp.zeros(shape, dtype=x.dtype)
        buf[(slice(None), slice(None)) + tuple(slice(b, b + s) for s, (b, a) in
                                               zip(x.shape[2:], padding))] = x
        return buf

    def _windows(self, x, kernel, stride, dilation, lead):
        """A strided view of the windows of ``x`` ``(N, C, *size)`` (already padded): axes are
        ``lead`` (a string over 'nck': batch, channel and the kernel axes, in that order of
        appearance) followed by the output axes."""
        nsp = len(kernel)
        out = _out_size(x.shape[2:], kernel, stride, ((0, 0),) * nsp, dilation)
        st = x.strides
        parts = {"n": ([x.shape[0]], [st[0]]), "c": ([x.shape[1]], [st[1]]),
                 "k": (list(kernel), [st[2 + i] * dilation[i] for i in range(nsp)])}
        shape, strides = [], []
        for key in lead:
            shape += parts[key][0]
            strides += parts[key][1]
        shape += list(out)
        strides += [st[2 + i] * stride[i] for i in range(nsp)]
        return self._as_strided()(x, tuple(shape), tuple(strides)), out

    # ------------------------------------------------------------------ unfold
    def im2col(self, x, kernel, stride, padding, dilation):
        if self._as_strided() is None:
            return super().im2col(x, kernel, stride, padding, dilation)
        v, _ = self._windows(self._padded(x, padding, 0), kernel, stride, dilation, "nck")
        return v

    # ------------------------------------------------------------------ convolution
    def _wide_ok(self, x_ndim, stride):
        return x_ndim == 4 and stride == (1, 1) and self._as_strided() is not None

    def _wide_cols(self, x, kernel, padding, dilation, groups):
        """The wide column matrix ``(groups, C/groups*kh*kw, N*P)`` and its geometry."""
        xp = self._padded(x, padding, 0, scratch=True)
        if not xp.flags.c_contiguous:
            xp = self.xp.ascontiguousarray(xp)
        n, c, hp, wp = xp.shape
        kh, kw = kernel
        dh, dw = dilation
        ho, wo = hp - dh * (kh - 1), wp - dw * (kw - 1)
        p = (ho - 1) * wp + wo
        it = xp.itemsize
        v = self._as_strided()(xp, (c, kh, kw, n, p),
                               (hp * wp * it, dh * wp * it, dw * it, c * hp * wp * it, it))
        cols = self.xp.empty((c, kh, kw, n, p), dtype=x.dtype)  # always a copy: it is kept
        cols[...] = v
        return cols.reshape(groups, c // groups * kh * kw, n * p), (ho, wo, wp, p)

    def _wide_grad(self, grad, wp, p, groups, cache):
        """``grad`` ``(N, O, Ho, Wo)`` as the wide ``(groups, O/groups, N*P)`` matrix (zeros in
        the don't-care positions); shared through ``cache`` by the two gradient calls."""
        if cache is not None and cache.get("wide_grad_of") is grad:
            return cache["wide_grad"]
        n, o, ho, wo = grad.shape
        gm = self.xp.zeros((o, n, p), dtype=grad.dtype)
        if gm.size:
            it = gm.itemsize
            self._as_strided()(gm, (n, o, ho, wo), (p * it, n * p * it, wp * it, it))[...] = grad
        gm = gm.reshape(groups, o // groups, n * p)
        if cache is not None:
            cache["wide_grad_of"] = grad
            cache["wide_grad"] = gm
        return gm

    def conv(self, x, weight, bias, stride, padding, dilation, groups, cache=None):
        if not self._wide_ok(x.ndim, stride):
            return super().conv(x, weight, bias, stride, padding, dilation, groups, cache)
        xp = self.xp
        kernel = tuple(weight.shape[2:])
        n = x.shape[0]
        o = weight.shape[0]
        xm, (ho, wo, wp, p) = self._wide_cols(x, kernel, padding, dilation, groups)
        y = self._scratch("y", (groups, o // groups, n * p), x.dtype)
        xp.matmul(weight.reshape(groups, o // groups, xm.shape[1]), xm, out=y)  # (g, O/g, N*P)
        it = y.itemsize
        out = self._as_strided()(y, (n, o, ho, wo), (p * it, n * p * it, wp * it, it)).copy()
        if bias is not None:
            out += bias.reshape(o, 1, 1)
        if cache is not None:
            cache["wide_cols"] = xm
        return out

    def conv_input_grad(self, grad, weight, size, stride, padding, dilation, groups, cache=None):
        if not self._wide_ok(grad.ndim, stride):
            return super().conv_input_grad(grad, weight, size, stride, padding, dilation, groups,
                                           cache)
        xp = self.xp
        n, o, ho, wo = grad.shape
        c = weight.shape[1] * groups
        kh, kw = weight.shape[2:]
        dh, dw = dilation
        (pt, pb), (pl, pr) = padding
        hp, wp = size[0] + pt + pb, size[1] + pl + pr
        p = (ho - 1) * wp + wo
        gm = self._wide_grad(grad, wp, p, groups, cache)
        wm = weight.reshape(groups, o // groups, weight.shape[1] * kh * kw)
        cm = self._scratch("cm", (groups, wm.shape[2], n * p), grad.dtype)
        xp.matmul(wm.transpose(0, 2, 1), gm, out=cm)
        cm = cm.reshape(c, kh, kw, n, p)
        cropped = bool(pt or pb or pl or pr)
        if cropped:  # the padded buffer is a temporary: only its interior is returned (a copy)
            buf = self._scratch("buf", (n, c, hp * wp), grad.dtype)
            buf.fill(0)
        else:
            buf = xp.zeros((n, c, hp * wp), dtype=grad.dtype)
        bt = buf.transpose(1, 0, 2)
        # overlapping windows add up: one long contiguous add per kernel offset
        for i in range(kh):
            for j in range(kw):
                off = i * dh * wp + j * dw
                bt[:, :, off:off + p] += cm[:, i, j]
        gx = buf.reshape(n, c, hp, wp)
        if cropped:
            gx = gx[:, :, pt:pt + size[0], pl:pl + size[1]].copy()
        return gx

    def conv_weight_grad(self, x, grad, kernel, stride, padding, dilation, groups, cache=None):
        if not self._wide_ok(x.ndim, stride):
            return super().conv_weight_grad(x, grad, kernel, stride, padding, dilation, groups,
                                            cache)
        xm = cache.get("wide_cols") if cache else None
        if xm is None:
            xm, (_, _, wp, p) = self._wide_cols(x, tuple(kernel), padding, dilation, groups)
        else:
            wp = x.shape[3] + padding[1][0] + padding[1][1]
            p = (grad.shape[2] - 1) * wp + grad.shape[3]
        gm = self._wide_grad(grad, wp, p, groups, cache)
        gw = self.xp.matmul(gm, xm.transpose(0, 2, 1))  # (g, O/g, C/g*K)
        return gw.reshape((grad.shape[1], x.shape[1] // groups) + tuple(kernel))

    # ------------------------------------------------------------------ pooling
    def _kernel_major(self, x, kernel, stride, dilation):
        """The windows of padded ``x`` copied to a contiguous ``(prod(kernel), N, C, *out)``
        array: every later op runs over whole contiguous slabs."""
        v, out = self._windows(x, kernel, stride, dilation, "knc")
        k = _prod(kernel)
        f = self._scratch("windows", v.shape, x.dtype)  # a temporary of max_pool / avg_pool
        f[...] = v
        return f.reshape((k,) + x.shape[:2] + out), out

    def max_pool(self, x, kernel, stride, padding, dilation):
        if self._as_strided() is None:
            return super().max_pool(x, kernel, stride, padding, dilation)
        xp = self.xp
        size = tuple(x.shape[2:])
        dtype = self.dtype_of(x)
        f, out = self._kernel_major(self._padded(x, padding, self._pool_fill(dtype), True),
                                    kernel, stride, dilation)
        k = f.shape[0]
        values = f.max(axis=0)  # NaN propagates, as in PyTorch
        # kernel offset of the first maximum = how many leading offsets are not the maximum
        # (branch-free arithmetic: masked writes with data-dependent masks are much slower)
        which = xp.zeros(values.shape, dtype=xp.int64)
        ne = xp.empty(values.shape, dtype=bool)
        before = xp.ones(values.shape, dtype=bool)
        for kk in range(k - 1):
            xp.not_equal(f[kk], values, out=ne)
            before &= ne
            which += before
        if dtype.is_floating_point and xp.isnan(values).any():
            for kk in range(k):  # a NaN is the maximum; PyTorch takes a window's last NaN
                xp.copyto(which, kk, where=xp.isnan(f[kk]))
        table, pos = self._pool_table(size, kernel, stride, padding, dilation, out)
        return values, xp.take(table, which * pos[0] + pos[1])

    def _pool_table(self, size, kernel, stride, padding, dilation, out):
        """Cached ``(flat window-index table, (L, positions))`` for one pooling geometry."""
        key = (size, tuple(kernel), tuple(stride), tuple(padding), tuple(dilation))
        cache = self.__dict__.setdefault("_pool_tables", {})
        hit = cache.get(key)
        if hit is None:
            table = self._window_index_table(size, kernel, stride, padding, dilation, out)
            L = _prod(out)
            hit = (table.reshape(-1), (L, self.xp.arange(L, dtype=self.xp.int64).reshape(out)))
            if len(cache) > 64:
                cache.clear()
            cache[key] = hit
        return hit

    def max_pool_backward(self, grad, indices, size, unique=False):
        xp = self.xp
        bincount = getattr(xp, "bincount", None)
        if not unique and (bincount is None or self.dtype_of(grad) is dt.float16):
            return super().max_pool_backward(grad, indices, size)
        n, c = grad.shape[:2]
        plane = _prod(size)
        if n * c * plane == 0:
            return xp.zeros((n, c) + tuple(size), dtype=grad.dtype)
        base = xp.arange(0, n * c * plane, plane, dtype=xp.int64).reshape((n, c) + (1,) * (grad.ndim - 2))
        flat = (indices + base).reshape(-1)
        if unique:  # one write per input element at most: a plain scatter
            out = xp.zeros(n * c * plane, dtype=grad.dtype)
            out[flat] = grad.reshape(-1)
        else:  # overlapping windows: sum the contributions (bincount adds in float64)
            out = bincount(flat, weights=grad.reshape(-1), minlength=n * c * plane)
            out = out.astype(grad.dtype, copy=False)
        return out.reshape((n, c) + tuple(size))

    def avg_pool(self, x, kernel, stride, padding, divisor):
        if self._as_strided() is None:
            return super().avg_pool(x, kernel, stride, padding, divisor)
        f, _ = self._kernel_major(self._padded(x, padding, 0, True), kernel, stride,
                                  (1,) * len(kernel))
        s = f.sum(axis=0)
        s /= divisor
        return s

    def avg_pool_backward(self, grad, size, kernel, stride, padding, divisor):
        nsp = len(kernel)
        if (tuple(stride) != tuple(kernel) or any(b or a for b, a in padding)):
            return super().avg_pool_backward(grad, size, kernel, stride, padding, divisor)
        # non-overlapping windows: each input element gets its window's share, a broadcast
        xp = self.xp
        n, c = grad.shape[:2]
        out = grad.shape[2:]
        g = grad / divisor
        shape = (n, c)
        for i in range(nsp):
            shape += (out[i], 1)
        g = g.reshape(shape)
        full = (n, c)
        for i in range(nsp):
            full += (out[i], kernel[i])
        g = xp.broadcast_to(g, full).reshape((n, c) + tuple(out[i] * kernel[i] for i in range(nsp)))
        if tuple(g.shape[2:]) == tuple(size):
            return xp.ascontiguousarray(g)
        gx = xp.zeros((n, c) + tuple(size), dtype=grad.dtype)
        gx[(slice(None), slice(None)) + tuple(slice(0, s) for s in g.shape[2:])] = g
        return gx

