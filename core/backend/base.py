"""``Backend``: the contract between flambeau's core and a compute library.

A backend works on its own *native arrays* (``numpy.ndarray`` for the NumPy backend,
``cupy.ndarray`` for CUDA). Core never looks inside them except through these methods and
two attributes every native array must have: ``shape`` (a tuple of ints) and ``ndim``.

There are two kinds of methods:

* **primitives** (abstract; ``raise NotImplementedError``): the small set every backend must
  implement. Each says what it receives, what it returns, and which dtypes it must handle.
* **composites** (concrete): ops with a default implementation written only in terms of the
  primitives (softmax, im2col for convolution, optimizer updates, ...). A backend overrides
  one when it has a faster kernel, and may call ``super()`` for cases it does not handle.

Conventions for every method:

* ``dtype`` arguments are flambeau dtypes (``flambeau.float32``); map them with
  ``self.native_dtype(dtype)``.
* Arguments named ``x``, ``a``, ``b`` are native arrays of this backend. ``b`` in ``binary`` may
  also be a Python scalar, which takes the dtype of ``a``.
* ``axis``/``axes`` are already normalised by core: non-negative ints (or a tuple of them).
* A method returns a new array unless its name ends in ``_inplace`` or it is documented as
  writing into an argument. Results may share memory with inputs only where documented
  (``reshape``, ``permute``, ``broadcast_to``, basic ``getitem`` may return views).
* Core checks shapes, dtypes and devices before calling: a backend may assume valid input.

``flambeau.testing`` checks every method against a float64 NumPy reference: run
``python -m flambeau.testing --device <your device type>``.
"""
from __future__ import annotations

from .. import _dtype as dt
from ._conv import ConvComposites

#: elementwise one-input ops ``unary`` must implement; floating inputs keep their dtype,
#: ``isnan``/``isinf``/``isfinite``/``logical_not`` return bool, ``neg``/``abs``/``sign``/
#: ``floor``/``ceil``/``round``/``trunc``/``bitwise_not`` also take integer inputs.
UNARY_OPS = frozenset(
    """neg abs sign exp exp2 expm1 log log2 log10 log1p sqrt rsqrt reciprocal square
    sin cos tan asin acos atan sinh cosh tanh asinh acosh atanh sigmoid erf erfinv floor ceil
    round trunc isnan isinf isfinite logical_not bitwise_not""".split()
)

#: elementwise two-input ops ``binary`` must implement. Comparisons and ``logical_*`` return
#: bool; ``div`` is true division; ``floordiv``/``remainder`` follow Python's sign rule (the
#: result of ``remainder`` has the divisor's sign), ``fmod`` follows C's (the dividend's).
BINARY_OPS = frozenset(
    """add sub mul div floordiv remainder fmod pow maximum minimum fmax fmin atan2 eq ne lt le gt ge
    logical_and logical_or logical_xor bitwise_and bitwise_or bitwise_xor
    bitwise_left_shift bitwise_right_shift""".split()
)

#: reductions ``reduce`` must implement. ``sum``/``prod`` of bool or integer inputs give int64,
#: ``all``/``any`` give bool, ``max``/``min`` keep the dtype, ``mean`` is only asked of floats.
REDUCE_OPS = frozenset("sum prod max min all any mean".split())

#: the decompositions and solvers of the optional method ``Backend.linalg``
LINALG_OPS = frozenset("inv solve det slogdet cholesky qr svd svdvals eigh eigvalsh".split())


class LinAlgError(RuntimeError):
    """Raised by ``Backend.linalg`` when its input is singular, not positive-definite, or a
    decomposition did not converge (``flambeau.linalg.LinAlgError``, as ``torch.linalg``'s)."""


class Backend(ConvComposites):
    """Abstract base of every backend. Subclass it, implement the primitives, register it.

    A backend instance serves one concrete device (``self.device``), such as ``cpu`` or
    ``cuda:1``. It is created by the plugin registry the first time that device is used.

    Class attributes a backend sets:

    * ``name``: the backend's name in the registry (``"numpy"``).
    * ``device_type``: the device type it serves (``"cpu"``).
    * ``supported_dtypes``: the flambeau dtypes it can hold; creating others raises.
    """

    name: str = "abstract"
    device_type: str = "cpu"
    supported_dtypes: frozenset = frozenset(dt.all_dtypes)

    def __init__(self, device):
        self.device = device

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r} on {self.device}>"

    # ------------------------------------------------------------------
    # dtypes
    # ------------------------------------------------------------------
    def native_dtype(self, dtype):
        """Return the native dtype object for flambeau ``dtype``; raise TypeError if unsupported."""
        raise NotImplementedError

    def dtype_of(self, x):
        """Return the flambeau dtype of native array ``x``."""
        raise NotImplementedError

    # ------------------------------------------------------------------
    # creation and host transfer
    # ------------------------------------------------------------------
    def asarray(self, obj, dtype):
        """A new array of ``dtype`` from ``obj``: a Python scalar, nested lists/tuples of scalars
        (already rectangular), or a host ``numpy.ndarray``. Always copies."""
        raise NotImplementedError

    def to_host(self, x):
        """``x`` as a host ``numpy.ndarray`` (may share memory with ``x`` on CPU backends)."""
        raise NotImplementedError

    def empty(self, shape, dtype):
        """An uninitialised array of ``shape`` (tuple of ints) and ``dtype``."""
        raise NotImplementedError

    def full(self, shape, value, dtype):
        """An array of ``shape`` filled with the Python scalar ``value`` cast to ``dtype``."""
        raise NotImplementedError

    def arange(self, start, stop, step, dtype):
        """Values ``start, start+step, ...`` below ``stop`` (above it for negative ``step``)."""
        raise NotImplementedError

    def copy(self, x):
        """A contiguous copy of ``x`` that shares no memory with it."""
        raise NotImplementedError

    def astype(self, x, dtype):
        """``x`` converted to ``dtype`` (floats to ints truncate toward zero; to bool: ``!= 0``).
        May return ``x`` itself when it already has that dtype."""
        raise NotImplementedError

    def from_dlpack(self, obj):
        """An array sharing memory with a DLPack-capable ``obj``; raise TypeError if impossible."""
        raise TypeError(f"backend {self.name!r} does not support DLPack")

    # ------------------------------------------------------------------
    # elementwise
    # ------------------------------------------------------------------
    def unary(self, op, x):
        """Apply the elementwise op named ``op`` (one of ``UNARY_OPS``) to ``x``."""
        raise NotImplementedError

    def binary(self, op, a, b):
        """Apply ``op`` (one of ``BINARY_OPS``) to ``a`` and ``b`` with NumPy broadcasting.

        ``a`` and ``b`` have the same dtype (core promotes first), or ``b`` is a Python scalar.
        Arithmetic keeps that dtype; comparisons and ``logical_*`` give bool.
        """
        raise NotImplementedError

    def binary_inplace(self, op, a, b):
        """Like ``binary`` but writes the result into ``a`` (whose shape is the broadcast shape)
        and returns ``a``. ``b`` may have another dtype; the result is cast to ``a``'s."""
        raise NotImplementedError

    def where(self, cond, a, b):
        """Elementwise ``a if cond else b``; ``cond`` is bool, ``a``/``b`` share a dtype or are
        Python scalars; broadcasting applies."""
        raise NotImplementedError

    # ------------------------------------------------------------------
    # reductions and scans
    # ------------------------------------------------------------------
    def reduce(self, op, x, axes, keepdims):
        """Reduce ``x`` over ``axes`` (tuple of ints; empty tuple means no reduction) with ``op``
        (one of ``REDUCE_OPS``)."""
        raise NotImplementedError

    def arg_reduce(self, op, x, axis, keepdims):
        """Index (int64) of the first maximum (``op="argmax"``) or minimum (``"argmin"``) along
        ``axis``; ``axis=None`` means over the flattened array. NaN counts as the extreme."""
        raise NotImplementedError

    def cumulative(self, op, x, axis):
        """Inclusive scan along ``axis``: ``op`` is ``"cumsum"`` or ``"cumprod"``; ints give int64."""
        raise NotImplementedError

    def sort(self, x, axis, descending, stable):
        """``(values, indices)`` of ``x`` sorted along ``axis``; indices are int64. NaN sorts as
        the largest value. ``stable=True`` keeps equal elements in their order."""
        raise NotImplementedError

    # ------------------------------------------------------------------
    # linear algebra
    # ------------------------------------------------------------------
    def matmul(self, a, b):
        """Matrix product with NumPy's ``matmul`` semantics (batch dims broadcast, 1-D operands
        promoted and squeezed). Both operands share a dtype."""
        raise NotImplementedError

    def linalg(self, op, *arrays, **params):
        """Optional: the matrix decomposition or solver ``op`` (one of ``LINALG_OPS``), batched
        over leading dims, for ``flambeau.linalg``. Only float32 and float64 are asked; results
        keep the input dtype. A backend without it raises NotImplementedError, which
        ``flambeau.linalg`` reports naming the backend; everything else works without it.

        * ``"inv"(a)``: the inverse of square ``a`` (``..., n, n``).
        * ``"solve"(a, b)``: ``x`` with ``a @ x == b``; ``b`` is ``(..., n, k)`` and its batch
          dims equal ``a``'s (core broadcasts first).
        * ``"det"(a)``: the determinants, shape ``...``.
        * ``"slogdet"(a)``: ``(sign, logabsdet)``, each of shape ``...`` (sign 0 and logabsdet
          ``-inf`` for singular matrices).
        * ``"cholesky"(a)``: the lower factor ``L`` with ``L @ L^T == a`` (only the lower
          triangle of ``a`` is read).
        * ``"qr"(a, mode)``: ``(q, r)`` of ``(..., m, n)`` input; ``mode`` is ``"reduced"``
          (``q`` is ``m x k``, ``k = min(m, n)``) or ``"complete"`` (``q`` is ``m x m``).
        * ``"svd"(a, full_matrices)``: ``(u, s, vh)`` with ``s`` descending.
        * ``"svdvals"(a)``: ``s`` alone, descending.
        * ``"eigh"(a, uplo)``: ``(w, v)`` of a symmetric matrix given by its lower (``uplo="L"``)
          or upper triangle, eigenvalues ascending, eigenvectors in the columns of ``v``.
        * ``"eigvalsh"(a, uplo)``: ``w`` alone.

        Singular input to ``inv``/``solve`` and non-positive-definite input to ``cholesky``
        raise ``LinAlgError`` (of this module). The signs of eigen- and singular vectors are
        the backend's (LAPACK's, for the NumPy backend, as in PyTorch on the CPU).
        """
        raise NotImplementedError(
            f"backend {self.name!r} ({type(self).__module__}.{type(self).__qualname__}) does not "
            f"implement the optional linear-algebra method linalg({op!r}); flambeau.linalg "
            "decompositions and solvers are not available on its device"
        )

    # ------------------------------------------------------------------
    # shape and memory
    # ------------------------------------------------------------------
    def reshape(self, x, shape):
        """``x`` with a new shape of the same size; a view when the layout allows it."""
        raise NotImplementedError

    def permute(self, x, axes):
        """``x`` with its axes reordered (a view where possible)."""
        raise NotImplementedError

    def broadcast_to(self, x, shape):
        """A (read-only) broadcast view of ``x`` with ``shape``."""
        raise NotImplementedError

    def ascontiguous(self, x):
        """``x`` if it is C-contiguous, else a C-contiguous copy."""
        raise NotImplementedError

    def is_contiguous(self, x):
        """Whether ``x`` is laid out C-contiguously."""
        raise NotImplementedError

    def shares_memory(self, a, b):
        """Whether ``a`` and ``b`` may overlap in memory (a cheap, conservative check)."""
        return False

    def getitem(self, x, key):
        """NumPy indexing: ``key`` is a tuple of ints, slices, ``None``, ``Ellipsis``, native int64
        arrays and native bool arrays. Basic indexing returns a view."""
        raise NotImplementedError

    def setitem(self, x, key, value):
        """``x[key] = value`` in place (``value`` is a native array broadcastable to the
        selection or a Python scalar). Repeated indices: the last write wins."""
        raise NotImplementedError

    def index_add(self, x, key, value):
        """``x[key] += value`` in place, unbuffered: repeated indices in ``key`` accumulate
        (``numpy.add.at``). Used for gradients of indexing and for scatter_add/index_add."""
        raise NotImplementedError

    def concatenate(self, arrays, axis):
        """Join a sequence of same-dtype arrays along existing ``axis``."""
        raise NotImplementedError

    def pad(self, x, pad_width, value):
        """Pad with the constant ``value``; ``pad_width`` is ``((before, after), ...)`` per axis,
        all non-negative."""
        raise NotImplementedError

    def flip(self, x, axes):
        """Reverse ``x`` along ``axes`` (tuple of ints)."""
        raise NotImplementedError

    def take_along_axis(self, x, indices, axis):
        """``numpy.take_along_axis``: gather ``x`` at int64 ``indices`` along ``axis``."""
        raise NotImplementedError

    def put_along_axis(self, x, indices, values, axis):
        """``numpy.put_along_axis`` in place: write ``values`` into ``x`` at ``indices`` along
        ``axis`` (the last write wins for repeated indices)."""
        raise NotImplementedError

    def nonzero(self, x):
        """A tuple of int64 arrays, one per dimension, of the indices of non-zero elements."""
        raise NotImplementedError

    # ------------------------------------------------------------------
    # random numbers from an explicit generator state
    # ------------------------------------------------------------------
    def generator(self, seed):
        """A new native random generator state seeded with the int ``seed``."""
        raise NotImplementedError

    def generator_get_state(self, gen):
        """The generator's state as a host ``numpy.ndarray`` of uint8 (for save/restore)."""
        raise NotImplementedError

    def generator_set_state(self, gen, state):
        """Restore a state returned by ``generator_get_state``."""
        raise NotImplementedError

    def random_uniform(self, gen, shape, dtype):
        """Floats drawn uniformly from [0, 1)."""
        raise NotImplementedError

    def random_normal(self, gen, shape, dtype):
        """Floats from the standard normal distribution."""
        raise NotImplementedError

    def random_integers(self, gen, low, high, shape, dtype):
        """Integers drawn uniformly from [low, high)."""
        raise NotImplementedError

    def random_permutation(self, gen, n):
        """A random permutation of ``0..n-1`` as int64."""
        raise NotImplementedError

    # ------------------------------------------------------------------
    # composites: default implementations over the primitives
    # ------------------------------------------------------------------
    def clip(self, x, lo, hi):
        """``min(max(x, lo), hi)``; ``lo``/``hi`` are scalars, arrays or None."""
        if lo is not None:
            x = self.binary("maximum", x, lo)
        if hi is not None:
            x = self.binary("minimum", x, hi)
        return x

    def softmax(self, x, axis):
        """``exp(x - max) / sum(exp(x - max))`` along ``axis``, computed stably."""
        m = self.reduce("max", x, (axis,), True)
        e = self.unary("exp", self.binary("sub", x, m))
        return self.binary("div", e, self.reduce("sum", e, (axis,), True))

    def layer_norm(self, x, weight, bias, axes, eps):
        """Normalise ``x`` over ``axes`` (tuple of ints) to zero mean and unit (biased)
        variance, then scale by ``weight`` and shift by ``bias`` (arrays broadcastable to ``x``,
        or None). Serves layer, batch and group norm (which differ only in ``axes``).

        Returns ``(y, mean, rstd)`` where ``mean`` and ``rstd = 1/sqrt(var + eps)`` keep the
        reduced axes with size 1; backward and the running statistics use them.
        """
        mean = self.reduce("mean", x, axes, True)
        xc = self.binary("sub", x, mean)
        var = self.reduce("mean", self.binary("mul", xc, xc), axes, True)
        rstd = self.unary("rsqrt", self.binary("add", var, eps))
        y = self.binary("mul", xc, rstd)
        if weight is not None:
            y = self.binary("mul", y, weight)
        if bias is not None:
            y = self.binary("add", y, bias)
        return y, mean, rstd

    def log_softmax(self, x, axis):
        """``x - logsumexp(x)`` along ``axis``, computed stably."""
        m = self.reduce("max", x, (axis,), True)
        shifted = self.binary("sub", x, m)
        lse = self.unary("log", self.reduce("sum", self.unary("exp", shifted), (axis,), True))
        return self.binary("sub", shifted, lse)

    def logsumexp(self, x, axes, keepdims):
        """``log(sum(exp(x)))`` over ``axes``, stable for large inputs and all ``-inf`` slices."""
        m = self.reduce("max", x, axes, True)
        finite = self.unary("isfinite", m)
        m = self.where(finite, m, 0.0)
        s = self.reduce("sum", self.unary("exp", self.binary("sub", x, m)), axes, True)
        out = self.binary("add", self.unary("log", s), m)
        if not keepdims:
            out = self.reshape(out, tuple(n for i, n in enumerate(x.shape) if i not in axes))
        return out

    def tril(self, x, k):
        """Zero the elements above the ``k``-th diagonal of the last two axes."""
        return self.where(self._tri_mask(x.shape[-2], x.shape[-1], k), x, 0)

    def triu(self, x, k):
        """Zero the elements below the ``k``-th diagonal of the last two axes."""
        return self.where(self.unary("logical_not", self._tri_mask(x.shape[-2], x.shape[-1], k - 1)), x, 0)

    def _tri_mask(self, rows, cols, k):
        r = self.reshape(self.arange(0, rows, 1, dt.int64), (rows, 1))
        c = self.reshape(self.arange(0, cols, 1, dt.int64), (1, cols))
        return self.binary("le", self.binary("sub", c, r), k)

    # convolution, unfold/fold and pooling composites (im2col, col2im, conv, conv_input_grad,
    # conv_weight_grad, max_pool, avg_pool, ...) are inherited from ``ConvComposites`` in
    # ``_conv.py``, with their documentation.

    # ------------------------------------------------------------------
    # optimizer updates, in place on the parameter and state arrays (flambeau.optim calls them).
    # Each follows the operation order of PyTorch's single-tensor (foreach=False) update, so
    # results agree to rounding (PyTorch's CPU kernels fuse multiply-adds; these cannot).
    # ``grad`` is only read. float16 arrays are updated through float32 copies, as PyTorch
    # computes half-precision ops in float32 with float32 scalars. Temporaries are never
    # updated in place: NumPy gives 0-d results as scalars, which cannot be written into.
    # ------------------------------------------------------------------
    def _step_in_float32(self, step_fn, param, grad, states, *args):
        up = [None if a is None else self.astype(a, dt.float32) for a in (param, *states)]
        step_fn(up[0], self.astype(grad, dt.float32), *up[1:], *args)
        for a, u in zip((param, *states), up):
            if a is not None:
                self.setitem(a, (Ellipsis,), self.astype(u, dt.float16))

    def _lerp_inplace(self, a, b, w):
        """``a += w * (b - a)`` in place, in PyTorch's two-sided form (exact at ``w`` = 0, 1)."""
        diff = self.binary("sub", b, a)
        if w < 0.5:
            self.binary_inplace("add", a, self.binary("mul", diff, w))
        else:
            self.setitem(a, (Ellipsis,), self.binary("sub", b, self.binary("mul", diff, 1 - w)))

    def sgd_step(self, param, grad, buf, lr, momentum, dampening, nesterov, weight_decay,
                 maximize, first_step):
        """One SGD update (``flambeau.optim.SGD``), in place on ``param`` and ``buf``.

        ``g = ±grad + weight_decay * param``; with ``momentum``, ``buf = g`` on the
        ``first_step`` and ``buf = momentum * buf + (1 - dampening) * g`` after, then
        ``g = g + momentum * buf`` (``nesterov``) or ``g = buf``; finally ``param -= lr * g``.
        ``buf`` has ``param``'s shape and dtype, or is None when ``momentum`` is 0. Returns None.
        """
        if self.dtype_of(param) is dt.float16:
            return self._step_in_float32(self.sgd_step, param, grad, (buf,), lr, momentum,
                                         dampening, nesterov, weight_decay, maximize, first_step)
        if maximize:
            grad = self.unary("neg", grad)
        if weight_decay != 0:
            grad = self.binary("add", grad, self.binary("mul", param, weight_decay))
        if momentum != 0:
            if first_step:
                self.setitem(buf, (Ellipsis,), grad)
            else:
                self.binary_inplace("mul", buf, momentum)
                self.binary_inplace("add", buf, grad if dampening == 0 else
                                    self.binary("mul", grad, 1 - dampening))
            grad = self.binary("add", grad, self.binary("mul", buf, momentum)) if nesterov else buf
        self.binary_inplace("sub", param, self.binary("mul", grad, lr))

    def adam_step(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2,
                  eps, weight_decay, decoupled, amsgrad, maximize):
        """One Adam/AdamW update (``flambeau.optim.Adam``), in place on ``param`` and the state.

        ``step`` is the step number counting from 1 (a float). With ``decoupled`` (AdamW)
        ``param *= 1 - lr * weight_decay``; otherwise ``g = ±grad + weight_decay * param``.
        ``m = lerp(m, g, 1 - beta1)``, ``v = beta2 * v + (1 - beta2) * g * g``; with
        ``amsgrad`` ``vmax = max(vmax, v)`` is used for ``v`` (``max_exp_avg_sq`` is None
        otherwise). ``param += -lr / (1 - beta1^step) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)``.
        """
        if self.dtype_of(param) is dt.float16:
            return self._step_in_float32(
                self.adam_step, param, grad, (exp_avg, exp_avg_sq, max_exp_avg_sq), step, lr,
                beta1, beta2, eps, weight_decay, decoupled, amsgrad, maximize)
        if maximize:
            grad = self.unary("neg", grad)
        if weight_decay != 0:
            if decoupled:
                self.binary_inplace("mul", param, 1 - lr * weight_decay)
            else:
                grad = self.binary("add", grad, self.binary("mul", param, weight_decay))
        self._lerp_inplace(exp_avg, grad, 1 - beta1)
        self.binary_inplace("mul", exp_avg_sq, beta2)
        self.binary_inplace("add", exp_avg_sq, self.binary("mul", self.binary("mul", grad, 1 - beta2), grad))
        if amsgrad:
            self.setitem(max_exp_avg_sq, (Ellipsis,), self.binary("maximum", max_exp_avg_sq, exp_avg_sq))
            exp_avg_sq = max_exp_avg_sq
        denom = self.binary("div", self.unary("sqrt", exp_avg_sq), (1 - beta2 ** step) ** 0.5)
        denom = self.binary("add", denom, eps)
        update = self.binary("mul", exp_avg, -(lr / (1 - beta1 ** step)))
        self.binary_inplace("add", param, self.binary("div", update, denom))

    def rmsprop_step(self, param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                     weight_decay, momentum, centered, maximize):
        """One RMSprop update (``flambeau.optim.RMSprop``), in place on ``param`` and the state.

        ``g = ±grad + weight_decay * param``; ``s = alpha * s + (1 - alpha) * g * g``; with
        ``centered`` ``a = lerp(a, g, 1 - alpha)`` and ``avg = sqrt(s - a * a) + eps``, else
        ``avg = sqrt(s) + eps``. With ``momentum > 0`` ``buf = momentum * buf + g / avg`` and
        ``param -= lr * buf``, else ``param -= lr * g / avg``. ``grad_avg`` and
        ``momentum_buffer`` are None when unused.
        """
        if self.dtype_of(param) is dt.float16:
            return self._step_in_float32(
                self.rmsprop_step, param, grad, (square_avg, grad_avg, momentum_buffer), lr,
                alpha, eps, weight_decay, momentum, centered, maximize)
        if maximize:
            grad = self.unary("neg", grad)
        if weight_decay != 0:
            grad = self.binary("add", grad, self.binary("mul", param, weight_decay))
        self.binary_inplace("mul", square_avg, alpha)
        self.binary_inplace("add", square_avg, self.binary("mul", self.binary("mul", grad, 1 - alpha), grad))
        if centered:
            self._lerp_inplace(grad_avg, grad, 1 - alpha)
            avg = self.unary("sqrt", self.binary("sub", square_avg, self.binary("mul", grad_avg, grad_avg)))
        else:
            avg = self.unary("sqrt", square_avg)
        avg = self.binary("add", avg, eps)
        if momentum > 0:
            self.binary_inplace("mul", momentum_buffer, momentum)
            self.binary_inplace("add", momentum_buffer, self.binary("div", grad, avg))
            self.binary_inplace("add", param, self.binary("mul", momentum_buffer, -lr))
        else:
            self.binary_inplace("add", param, self.binary("div", self.binary("mul", grad, -lr), avg))

    def adagrad_step(self, param, grad, state_sum, step, lr, lr_decay, weight_decay, eps,
                     maximize):
        """One Adagrad update (``flambeau.optim.Adagrad``), in place on ``param`` and ``state_sum``.

        ``g = ±grad + weight_decay * param``; ``sum += g * g``;
        ``param -= lr / (1 + (step - 1) * lr_decay) * g / (sqrt(sum) + eps)``, ``step`` counting
        from 1.
        """
        if self.dtype_of(param) is dt.float16:
            return self._step_in_float32(self.adagrad_step, param, grad, (state_sum,), step, lr,
                                         lr_decay, weight_decay, eps, maximize)
        if maximize:
            grad = self.unary("neg", grad)
        if weight_decay != 0:
            grad = self.binary("add", grad, self.binary("mul", param, weight_decay))
        clr = lr / (1 + (step - 1) * lr_decay)
        self.binary_inplace("add", state_sum, self.binary("mul", grad, grad))
        std = self.binary("add", self.unary("sqrt", state_sum), eps)
        self.binary_inplace("add", param, self.binary("div", self.binary("mul", grad, -clr), std))
