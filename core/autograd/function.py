"""``Function``: one differentiable op, forward and backward side by side.

Every op in flambeau is a ``Function`` subclass; the public ``flambeau.autograd.Function`` is the
same mechanism. ``apply`` runs ``forward`` and, when some input requires grad and grad mode is
on, records a ``Node`` (the ``grad_fn`` of the outputs) that is also the ``ctx`` both
methods see.
"""
from __future__ import annotations

import itertools
import traceback

from .grad_mode import _state

_RELEASED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class _SavedOutput:
    """A tensor a node saved that is also its own output: kept without a reference to the
    tensor object (that would be a cycle tensor -> node -> tensor) and rebuilt on unpack."""

    __slots__ = ("data", "backend", "dtype", "device", "output_nr", "vc", "version")

    def __init__(self, t, output_nr):
        self.data = t._data
        self.backend = t._backend
        self.dtype = t.dtype
        self.device = t.device
        self.output_nr = output_nr
        self.vc = t._vc
        self.version = t._vc[0]


class Node:
    """A recorded op in the graph: the ``grad_fn`` of its outputs and the ``ctx`` of its Function.

    Attributes a Function may use on ``ctx``: ``save_for_backward``, ``saved_tensors``,
    ``needs_input_grad``, ``mark_non_differentiable``, ``mark_dirty``, ``set_materialize_grads``,
    and any attribute it sets itself.
    """

    # defaults live on the class so that creating a node (once per recorded op) is cheap
    _fn = None  # the Function subclass; set per instance by apply
    _to_save = None
    _saved = None
    _released = False
    _had_saved = False
    _non_diff = None
    _dirty = None
    _materialize = True
    needs_input_grad = ()
    next_functions = ()
    _out_meta = ()
    _pre_hooks = None  # {output_nr: [hook]} from Tensor.register_hook
    _node_pre_hooks = None
    _node_hooks = None
    _retain = None  # {output_nr: weakref(tensor)} from Tensor.retain_grad
    _trace = None
    _seq = 0
    _name = None  # set by composite ops to PyTorch's node name for the whole op (see name())

    # ------------------------------------------------------------- ctx API
    def save_for_backward(self, *tensors):
        """Save tensors (inputs or outputs, or None) for ``backward``; read them back with
        ``ctx.saved_tensors``."""
        self._to_save = tensors

    @property
    def saved_tensors(self):
        if self._released:
            if self._had_saved:
                raise RuntimeError(_RELEASED_MSG)
            return ()
        saved = self._saved
        if saved is None:
            return self._to_save or ()
        make = (_Tensor[0] or _tensor_cls())._make

        out = []
        for item in saved:
            if item is None:
                out.append(None)
                continue
            if type(item) is _SavedOutput:
                cur = item.vc[0]
                if cur != item.version:
                    self._raise_version(item.dtype, item.data.shape, item.output_nr, cur, item.version)
                t = make(item.data, item.backend, item.dtype, item.device)
                t._vc = item.vc
                t._requires_grad = True  # an output of this node: a non-leaf
                t.grad_fn = self
                if item.output_nr:
                    t._output_nr = item.output_nr
                out.append(t)
            else:
                t, version = item
                cur = t._vc[0]
                if cur != version:
                    self._raise_version(t.dtype, t.shape, t._output_nr, cur, version, t)
                out.append(t)
        return tuple(out)

    saved_variables = saved_tensors

    def _raise_version(self, dtype, shape, output_nr, cur, version, t=None):
        producer = ""
        if t is not None and t.grad_fn is not None:
            producer = f", which is output {t._output_nr} of {t.grad_fn.name()},"
        elif t is None:
            producer = f", which is output {output_nr} of {self.name()},"
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [{dtype.name} tensor {list(shape)}]{producer} is at version "
            f"{cur}; expected version {version} instead. The tensor was saved by {self.name()}. "
            "Hint: replace the in-place operation (e.g. x.add_(y)) with its out-of-place form "
            "(x = x + y), or clone the tensor before modifying it."
        )

    def mark_non_differentiable(self, *tensors):
        """Declare outputs that have no gradient (indices, masks)."""
        self._non_diff = tensors

    def mark_dirty(self, *tensors):
        """Declare inputs that ``forward`` modified in place (and returns)."""
        self._dirty = tensors

    def set_materialize_grads(self, value: bool):
        """Whether missing output gradients reach ``backward`` as zeros (default) or None."""
        self._materialize = bool(value)

    # ------------------------------------------------------------- grad_fn API
    def name(self):
        if self._name is not None:
            return self._name
        fn = self._fn
        base = fn.__name__ if fn is not None else type(self).__name__
        # PyTorch names built-in nodes "ExpBackward0" and custom Functions' "MyFnBackward"
        suffix = "Backward0" if fn is None or fn._internal else "Backward"
        return getattr(fn, "_backward_name", None) or f"{base}{suffix}"

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node's backward; it may return
        replacement ``grad_inputs``."""
        if self._node_hooks is None:
            self._node_hooks = []
        self._node_hooks.append(fn)
        return _RemovableHandle(self._node_hooks, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node's backward; it may return replacements."""
        if self._node_pre_hooks is None:
            self._node_pre_hooks = []
        self._node_pre_hooks.append(fn)
        return _RemovableHandle(self._node_pre_hooks, fn)

    @property
    def metadata(self):
        if not hasattr(self, "_metadata"):
            self._metadata = {}
        return self._metadata

    def _release(self):
        # free the saved tensors; metadata stashed on ctx (shapes, axes) stays, so a node that
        # saved nothing can be traversed again, as in PyTorch
        self._released = True
        if self._saved or self._to_save:  # (a node that saved nothing keeps the class defaults)
            self._had_saved = True
            self._saved = None
            self._to_save = None


class _RemovableHandle:
    __slots__ = ("_list", "_item")

    def __init__(self, lst, item):
        self._list = lst
        self._item = item

    def remove(self):
        try:
            self._list.remove(self._item)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class AccumulateGrad(Node):
    """The node at a leaf tensor: adds the incoming gradient into ``tensor.grad``."""

    def __init__(self, tensor):
        import weakref

        self._variable_ref = weakref.ref(tensor)  # no cycle: the tensor caches this node
        self.next_functions = ()
        self._out_meta = ((tensor.shape, tensor.dtype, tensor._backend, tensor.device),)

    @property
    def variable(self):
        """The leaf tensor this node accumulates into (as PyTorch's ``AccumulateGrad``)."""
        return self._variable_ref()

    def name(self):
        return "AccumulateGrad"

    def _release(self):
        pass


# creation order of nodes: backward runs the newest ready node first, as PyTorch does
_seq_counter = itertools.count(1)


class FunctionMeta(type):
    pass


class Function(metaclass=FunctionMeta):
    """Base class of differentiable ops, as ``torch.autograd.Function``.

    Subclass it with static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` and
    call ``MyFn.apply(*args)``:

    >>> class Square(flambeau.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, gy):  # d/dx x^2 = 2x
    ...         x, = ctx.saved_tensors
    ...         return 2 * x * gy
    """

    #: internal ops trust their own gradients; user Functions get shape checks in backward
    _internal = False
    _node_cls = None  # the Node subclass recording this Function, made on first use

    def __init__(self, *args, **kwargs):
        pass

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must implement forward")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must implement backward to be differentiated")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """PyTorch 2's split form: a Function that defines ``setup_context`` has a
        ``forward(*args)`` without ``ctx``; ``setup_context(ctx, inputs, output)`` then saves
        what ``backward`` needs."""
        raise NotImplementedError("setup_context is not implemented.")

    @classmethod
    def apply(cls, *args, **kwargs):
        state = _state
        record = False
        if state.enabled:
            for a in args:
                if getattr(a, "_requires_grad", False):
                    record = True
                    break
        # the node class is cached on the Function; a subclass inherits its parent's, which
        # records the parent (``_fn``), so it gets its own
        node_cls = cls._node_cls
        if node_cls is None or node_cls._fn is not cls:
            node_cls = _node_class(cls)
        ctx = node_cls()
        if not record:
            if cls._internal:
                # internal forwards compute on native arrays and record nothing themselves
                return cls.forward(ctx, *args, **kwargs)
            prev = state.enabled
            state.enabled = False
            try:
                if cls.setup_context is not _BASE_SETUP_CONTEXT:
                    return _split_forward(cls, ctx, args, kwargs)
                return cls.forward(ctx, *args, **kwargs)
            finally:
                state.enabled = prev
        Tensor = _Tensor[0] or _tensor_cls()

        # edges to the inputs' producers, taken before forward may modify an input in place
        needs = []
        edges = []
        for a in args:
            if isinstance(a, Tensor) and a._requires_grad:
                needs.append(True)
                edges.append(a._grad_edge())
            else:
                needs.append(False)
                edges.append(_NO_EDGE)  # as PyTorch's next_functions: (None, 0)
        ctx.needs_input_grad = tuple(needs)
        ctx.next_functions = tuple(edges)
        state.enabled = False
        try:
            if cls._internal or cls.setup_context is _BASE_SETUP_CONTEXT:
                outputs = cls.forward(ctx, *args, **kwargs)
            else:
                outputs = _split_forward(cls, ctx, args, kwargs)
        finally:
            state.enabled = True
        ctx._seq = next(_seq_counter)
        if state.anomaly:
            ctx._trace = "".join(traceback.format_stack()[:-2])

        non_diff = ctx._non_diff
        dirty = ctx._dirty
        single = not isinstance(outputs, tuple)
        if single and type(outputs) is Tensor and non_diff is None and dirty is None:
            # the common case, one plain output: the loop below, unrolled
            o = outputs
            ctx._out_meta = ((o._data.shape, o.dtype, o._backend, o.device),)
            if o.dtype.is_floating_point:
                if _holds(args, o):
                    o = o._shallow_alias()  # (see the loop below)
                o._requires_grad = True
                o.grad_fn = ctx
                if o._output_nr:
                    o._output_nr = 0
            outs = (o,)
        else:
            outs = [outputs] if single else list(outputs)
            ctx._out_meta = _mark_outputs(ctx, outs, args, non_diff, dirty, Tensor)
            if dirty is not None:
                ctx._dirty = None  # its tensors are outputs now: keeping them would be a cycle

        to_save = ctx._to_save
        if to_save:
            packed = []
            for t in to_save:
                if t is None:
                    packed.append(None)
                elif t.grad_fn is ctx:  # an output of this node (only outputs have it as grad_fn)
                    for i, o in enumerate(outs):
                        if o is t:
                            packed.append(_SavedOutput(t, i))
                            break
                else:
                    packed.append((t, t._vc[0]))
            ctx._saved = tuple(packed)
            # drop the tensors themselves: a saved output would make a reference cycle (tensor
            # -> grad_fn -> tensor) that only the garbage collector frees, with its memory
            ctx._to_save = None
        return outs[0] if single else tuple(outs)


def _mark_outputs(ctx, outs, args, non_diff, dirty, Tensor):
    """Make the differentiable tensors of ``outs`` outputs of node ``ctx`` (replacing, in the
    list ``outs``, an input returned unchanged by an alias); returns the node's ``_out_meta``."""
    meta = []
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            meta.append(None)
            continue
        # the native shape (a plain tuple) is all backward needs to make zeros or check shapes
        meta.append((o._data.shape, o.dtype, o._backend, o.device))
        if not o.dtype.is_floating_point or (non_diff is not None and _holds(non_diff, o)):
            continue
        if dirty is not None and _holds(dirty, o):
            o._check_inplace_allowed()
            o._vc[0] += 1
        elif _holds(args, o):
            # forward returned an input (or a view of one) unchanged: give the output its own
            # identity, as PyTorch does, so the input's history stays intact
            o = outs[i] = o._shallow_alias()
        # (a tensor with a grad_fn already requires grad, so setting the flag directly is
        # what the requires_grad setter would do)
        o._requires_grad = True
        o.grad_fn = ctx
        if o._output_nr != i:  # the class default is 0: don't give every output a __dict__
            o._output_nr = i
    return tuple(meta)


def _holds(seq, obj):
    """Whether ``obj`` itself is an element of ``seq`` (``in`` would compare tensors with ==)."""
    for item in seq:
        if item is obj:
            return True
    return False


_NO_EDGE = (None, 0)


_BASE_SETUP_CONTEXT = Function.setup_context
_renamed_classes: dict = {}


def rename_node_class(node, name):
    """Give ``node`` a class called ``name`` (a subclass of its own), so that
    ``type(t.grad_fn).__name__`` shows the name a composite op gives its node."""
    cls = type(node)
    if cls.__name__ == name:
        return
    key = (cls, name)
    sub = _renamed_classes.get(key)
    if sub is None:
        sub = _renamed_classes[key] = type(name, (cls,), {"__module__": cls.__module__})
        sub.__qualname__ = name
    node.__class__ = sub


def _split_forward(cls, ctx, args, kwargs):
    """``forward(*args)`` then ``setup_context(ctx, args, output)`` (PyTorch 2's form)."""
    output = cls.forward(*args, **kwargs)
    cls.setup_context(ctx, args, output)
    return output


def _node_class(fn):
    """The ``Node`` subclass recording ``fn``, named as PyTorch names its ``grad_fn`` classes
    (``ExpBackward0`` for built-in ops, ``MyFnBackward`` for a custom Function), so that
    ``type(y.grad_fn).__name__`` reads as in PyTorch."""
    node = Node()
    node._fn = fn
    name = node.name()
    node_cls = type(name, (Node,), {"_fn": fn, "__module__": "flambeau.autograd.function"})
    node_cls.__qualname__ = name
    type.__setattr__(fn, "_node_cls", node_cls)
    return node_cls


_Tensor = [None]  # flambeau.Tensor, once _tensor_cls has imported it (it imports this module)


def _tensor_cls():
    if _Tensor[0] is None:
        from .._tensor import Tensor

        _Tensor[0] = Tensor
    return _Tensor[0]


class InternalFunction(Function):
    """Base of flambeau's own ops: their backward returns well-shaped gradients already."""

    _internal = True


def once_differentiable(fn):
    """Decorator for a ``backward`` that does not support double backward (accepted as a no-op
    marker: flambeau runs it with grad mode off unless ``create_graph=True``)."""
    return fn
