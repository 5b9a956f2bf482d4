"""``Tensor``: a backend array with its dtype, device and autograd state.

Op methods (``exp``, ``sum``, ``view``, ...) are defined next to their ``Function`` in
``flambeau._ops`` and installed on the class by ``_ops.install``; this file holds the state,
autograd entry points, conversions and Python protocol methods.
"""
from __future__ import annotations

from . import _dtype as dt
from .autograd.engine import backward as _autograd_backward
from .autograd.function import AccumulateGrad
from .autograd.grad_mode import _state as _grad_state


class Size(tuple):
    """A tensor's shape: a tuple of ints, as ``torch.Size``."""

    __slots__ = ()

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"flambeau.Size({list(self)})"

    def __getitem__(self, item):
        out = tuple.__getitem__(self, item)
        return Size(out) if isinstance(item, slice) else out

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))


class Tensor:
    """A multi-dimensional array with autograd, as ``torch.Tensor``.

    Create tensors with ``flambeau.tensor``, ``flambeau.zeros`` and friends.
    """

    __module__ = "flambeau"  # type(t) reads <class 'flambeau.Tensor'>, as torch.Tensor does

    __slots__ = (
        "_data", "_backend", "dtype", "device", "_requires_grad", "grad_fn", "_vc",
        "__weakref__", "__dict__",
    )

    # rarely set state: class-level defaults keep tensor creation cheap
    grad = None
    _output_nr = 0
    _base = None
    _view_fn = None
    _view_version = 0  # for a view: the version its grad_fn reflects (see _grad_edge)
    _grad_acc = None
    _retains_grad = False

    # ------------------------------------------------------------------ construction
    @staticmethod
    def _make(data, backend, dtype, device):
        t = object.__new__(Tensor)
        t._data = data
        t._backend = backend
        t.dtype = dtype
        t.device = device
        t._requires_grad = False
        t.grad_fn = None
        t._vc = [0]
        return t

    def _new(self, data):
        """A tensor on this tensor's backend wrapping native ``data``."""
        b = self._backend
        return Tensor._make(data, b, b.dtype_of(data), self.device)

    def __new__(cls, *args, **kwargs):
        # legacy constructor: Tensor(2, 3) is uninitialised float; Tensor([1, 2]) copies data
        from . import _creation

        if cls is not Tensor:
            return object.__new__(cls)
        dev = kwargs.pop("device", None)
        if kwargs:
            raise TypeError(f"Tensor() got unexpected keyword arguments {sorted(kwargs)}")
        if len(args) == 1 and not isinstance(args[0], int):
            return _creation.tensor(args[0], dtype=dt.get_default_dtype(), device=dev)
        return _creation.empty(*args, dtype=dt.get_default_dtype(), device=dev)

    def __init__(self, *args, **kwargs):
        pass

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        n = 1
        for s in self._data.shape:
            n *= s
        return n

    nelement = numel

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def element_size(self):
        return self.dtype.itemsize

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self.numel() * self.dtype.itemsize

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def is_cpu(self):
        return self.device.type == "cpu"

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def is_complex(self):
        return False

    def is_contiguous(self, memory_format=None):
        return self._backend.is_contiguous(self._data)

    def get_device(self):
        return -1 if self.device.type == "cpu" else (self.device.index or 0)

    @property
    def layout(self):
        return "strided"

    def stride(self, dim=None):
        strides = getattr(self._data, "strides", None)
        if strides is None:
            raise RuntimeError(f"backend {self._backend.name!r} does not expose strides")
        st = tuple(s // self.dtype.itemsize for s in strides)
        return st if dim is None else st[_wrap_dim(dim, self.ndim, "stride")]

    def data_ptr(self):
        iface = getattr(self._data, "__array_interface__", None) or getattr(
            self._data, "__cuda_array_interface__", None
        )
        return iface["data"][0] if iface else id(self._data)

    @property
    def _version(self):
        return self._vc[0]

    # ------------------------------------------------------------------ autograd state
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        value = bool(value)
        if self.grad_fn is not None:
            if not value:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach()."
                )
            return
        if value and not self.dtype.is_floating_point:
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients (got {self.dtype})"
            )
        self._requires_grad = value

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def retains_grad(self):
        return self._retains_grad

    @property
    def data(self):
        """A tensor sharing this tensor's memory, detached and with its own version counter."""
        t = Tensor._make(self._data, self._backend, self.dtype, self.device)
        return t

    @data.setter
    def data(self, other):
        if not isinstance(other, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(other).__name__}")
        self._data = other._data
        self._backend = other._backend
        self.dtype = other.dtype
        self.device = other.device

    def _grad_edge(self):
        if self._base is not None and self._view_version != self._vc[0]:
            self._refresh_view_history()
        fn = self.grad_fn
        if fn is not None:
            return (fn, self._output_nr)
        acc = self._grad_acc
        if acc is None:
            acc = self._grad_acc = AccumulateGrad(self)
        return (acc, 0)

    def _refresh_view_history(self):
        """The base (or another view of it) changed in place since this view's grad_fn was
        recorded: replay the view on the base's current history, as PyTorch does."""
        self._view_version = self._vc[0]
        base = self._base
        if self._view_fn is None or not base._requires_grad or self.grad_fn is None:
            return
        from .autograd.grad_mode import enable_grad

        with enable_grad():
            fresh = self._view_fn(base)
        self.grad_fn = fresh.grad_fn
        self._output_nr = fresh._output_nr

    def detach(self):
        """A new tensor sharing memory (and the version counter), outside the graph."""
        t = Tensor._make(self._data, self._backend, self.dtype, self.device)
        t._vc = self._vc
        return t

    def detach_(self):
        if self._base is not None and self._base.requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into the leaves' ``.grad``."""
        _autograd_backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def register_hook(self, hook):
        """Run ``hook(grad)`` when this tensor's gradient is computed; it may return a
        replacement gradient. Returns a handle with ``.remove()``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        node, nr = self._grad_edge()
        if node._pre_hooks is None:
            node._pre_hooks = {}
        hooks = node._pre_hooks.setdefault(nr, [])
        hooks.append(hook)
        from .autograd.function import _RemovableHandle

        return _RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        node, _ = self._grad_edge()
        return node.register_hook(hook)

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        import weakref

        node = self.grad_fn
        if node._retain is None:
            node._retain = {}
        node._retain[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    def _check_inplace_allowed(self):
        if _grad_state.enabled:
            if self._requires_grad and self.grad_fn is None:
                raise RuntimeError(
                    "a leaf Variable that requires grad is being used in an in-place operation. "
                    "Wrap the update in `with flambeau.no_grad():` or use an out-of-place op."
                )
            base = self._base
            if base is not None and base._requires_grad and base.grad_fn is None:
                raise RuntimeError(
                    "a view of a leaf Variable that requires grad is being used in an in-place "
                    "operation. Wrap the update in `with flambeau.no_grad():` or clone first."
                )

    def _shallow_alias(self):
        t = Tensor._make(self._data, self._backend, self.dtype, self.device)
        t._vc = self._vc
        t._base = self._base
        return t

    # ------------------------------------------------------------------ conversion
    def numpy(self, *, force=False):
        """The data as a NumPy array sharing memory (CPU tensors that don't require grad)."""
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        if self.device.type != "cpu" and not force:
            raise TypeError(
                f"can't convert {self.device} tensor to numpy. Use Tensor.cpu() to copy the "
                "tensor to host memory first."
            )
        return self._backend.to_host(self._data)

    # NumPy defers binary operators to the tensor (np.float64(2) * t is a tensor), as in PyTorch
    __array_priority__ = 1000

    def __array_wrap__(self, array, context=None, return_scalar=False):
        # a NumPy ufunc applied to a tensor (np.sqrt(t)) returns a tensor, as in PyTorch
        from ._creation import from_numpy

        if array.dtype == bool:
            array = array.astype("uint8")
        return from_numpy(array)

    def __array__(self, dtype=None, copy=None):
        arr = self._backend.to_host(self._data)
        if dtype is not None:
            arr = arr.astype(dtype)
        return arr

    def __dlpack__(self, *args, **kwargs):
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.numel() != 1:
            raise RuntimeError(
                f"a Tensor with {self.numel()} elements cannot be converted to Scalar"
            )
        return self._backend.to_host(self._data).reshape(()).item()

    def tolist(self):
        return self._backend.to_host(self._data).tolist()

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self.numel()} elements is ambiguous; use .any() "
                "or .all()"
            )
        return bool(self.item())

    def __float__(self):
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self.item())

    def __int__(self):
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self.item())

    def __index__(self):
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    def __hash__(self):
        return id(self)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __reversed__(self):
        return self.flip(0)

    def __contains__(self, element):
        return bool((self == element).any())

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol at the moment."
            )
        out = Tensor._make(self._backend.copy(self._data), self._backend, self.dtype, self.device)
        if type(self) is not Tensor:
            new = type(self).__new__(type(self))
            for slot in ("_data", "_backend", "dtype", "device"):
                setattr(new, slot, getattr(out, slot))
            _init_slots(new)
            out = new
        out._requires_grad = self._requires_grad
        if self.grad is not None:
            out.grad = self.grad.__deepcopy__(memo)
        if hasattr(self, "__dict__"):
            import copy

            for k, v in self.__dict__.items():
                if k != "_grad_acc":  # the copy gets its own gradient accumulator
                    out.__dict__[k] = copy.deepcopy(v, memo)
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, proto):
        raise TypeError(
            "flambeau tensors are not picklable (loading a pickle can run code); use "
            "flambeau.save / flambeau.load, which store tensors as safetensors"
        )

    def __repr__(self):
        from ._format import format_tensor

        return format_tensor(self)

    __str__ = __repr__

    def __format__(self, spec):
        if self.ndim == 0:
            return format(self.item(), spec)
        return repr(self)

    # ------------------------------------------------------------------ devices and dtypes
    # to(): installed by _ops (flambeau._ops.convert.to)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        if device is None:
            device = "cuda"
        elif isinstance(device, int):
            device = f"cuda:{device}"
        return self.to(device)

    def type(self, dtype=None, non_blocking=False):
        if dtype is None:
            return f"flambeau.{_TYPE_NAMES.get(self.dtype.name, self.dtype.name)}"
        if isinstance(dtype, str):
            name = dtype.rsplit(".", 1)[-1]
            rev = {v: k for k, v in _TYPE_NAMES.items()}
            dtype = dt._lookup(rev.get(name, name))
        elif isinstance(getattr(dtype, "dtype", None), dt.dtype):  # flambeau.LongTensor, ...
            dtype = dtype.dtype
        return self.to(dtype)

    def float(self):
        return self.to(dt.float32)

    def double(self):
        return self.to(dt.float64)

    def half(self):
        return self.to(dt.float16)

    def long(self):
        return self.to(dt.int64)

    def int(self):
        return self.to(dt.int32)

    def short(self):
        return self.to(dt.int16)

    def char(self):
        return self.to(dt.int8)

    def byte(self):
        return self.to(dt.uint8)

    def bool(self):
        return self.to(dt.bool_)

    def type_as(self, other):
        return self.to(other.dtype)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        from ._creation import tensor

        if isinstance(data, Tensor):
            data = data.detach()
        return tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                      requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        from ._creation import zeros

        return zeros(*size, dtype=dtype or self.dtype, device=device or self.device,
                     requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        from ._creation import ones

        return ones(*size, dtype=dtype or self.dtype, device=device or self.device,
                    requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        from ._creation import full

        return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                    requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        from ._creation import empty

        return empty(*size, dtype=dtype or self.dtype, device=device or self.device,
                     requires_grad=requires_grad)


_TYPE_NAMES = {name: short + "Tensor" for name, short in dt._SCALAR_TYPE_NAMES.items()}


def _init_slots(t):
    """The per-instance autograd state ``Tensor._make`` sets; the rest are class defaults."""
    t._requires_grad = False
    t.grad_fn = None
    t._vc = [0]


def _wrap_dim(dim, ndim, op="op"):
    """Normalise a possibly negative ``dim`` for a tensor of ``ndim`` dims, as PyTorch does."""
    if not isinstance(dim, int):
        if hasattr(dim, "__index__"):
            dim = dim.__index__()
        else:
            raise TypeError(f"{op}(): dim must be an int, got {type(dim).__name__}")
    n = ndim if ndim > 0 else 1
    if dim < -n or dim >= n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim + n if dim < 0 else dim

