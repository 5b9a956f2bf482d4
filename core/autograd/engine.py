"""The backward pass: walks the recorded graph in topological order, without recursion."""
from __future__ import annotations

from heapq import heapify, heappop, heappush

from .function import AccumulateGrad, _tensor_cls
from .grad_mode import _state


def _as_tuple(x):
    if x is None:
        return ()
    if isinstance(x, (tuple, list)):
        return tuple(x)
    return (x,)


def _make_root_grads(tensors, grad_tensors, create_graph, fn_name):
    Tensor = _tensor_cls()
    grads = []
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(
            f"{fn_name}: got {len(tensors)} tensors and {len(grad_tensors)} gradients; "
            "pass one gradient per tensor (None for scalars)"
        )
    for t, g in zip(tensors, grad_tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn_name} expects tensors, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
        if g is None:
            if t.numel() != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; {fn_name} was "
                    f"called on a tensor of shape {list(t.shape)}: pass gradient= (a tensor "
                    "of that shape) to say which vector-Jacobian product you want"
                )
            b = t._backend  # ones_like(t), without the factory's argument handling
            g = Tensor._make(b.full(t._data.shape, 1, t.dtype), b, t.dtype, t.device)
        elif not isinstance(g, Tensor):
            g = t.new_tensor(g)
        else:
            if g.shape != t.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[0] has a shape of {list(g.shape)} and "
                    f"output[0] has a shape of {list(t.shape)}."
                )
            if g.device != t.device:
                raise RuntimeError(
                    f"{fn_name}: the gradient is on {g.device} but the tensor is on {t.device}"
                )
            if not create_graph:
                g = g.detach()
        grads.append(g)
    return grads


def run_backward(tensors, grads, retain_graph, create_graph, inputs=None, accumulate=True,
                 allow_unused=True):
    """Propagate ``grads`` from ``tensors`` back through the graph.

    With ``accumulate`` the leaves' ``.grad`` are updated (``backward``); otherwise the gradients
    of ``inputs`` are returned (``autograd.grad``) and no ``.grad`` changes.

    Nodes are dict keys by identity (``Node`` defines no ``__eq__``). A node's gradient buffer
    holds one slot per output; it runs once every edge into it has delivered.
    """
    Tensor = _tensor_cls()

    if retain_graph is None:
        retain_graph = create_graph

    # roots: ((node, output_nr), grad)
    roots = [(t._grad_edge(), g) for t, g in zip(tensors, grads)]
    # each root node once: outputs of one multi-output node must not double-count its edges
    root_nodes = list(dict.fromkeys(edge[0] for edge, _g in roots))

    # inputs to capture: map (node, output_nr) -> positions
    capture = None
    acc_filter = None
    if inputs is not None:
        capture = {}
        for i, t in enumerate(inputs):
            if not isinstance(t, Tensor):
                raise TypeError(f"inputs must be tensors, got {type(t).__name__}")
            if not t.requires_grad:
                raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require grad")
            capture.setdefault(t._grad_edge(), []).append(i)
        if accumulate:
            acc_filter = {n for (n, _o) in capture}
    results = [None] * (len(inputs) if inputs is not None else 0)

    # discover the graph and count the edges into each node
    deps: dict = {}
    stack = list(root_nodes)
    is_root = set(root_nodes).__contains__
    while stack:
        for nxt, _nr in stack.pop().next_functions:
            if nxt is None:  # (None, 0): an input that needs no gradient
                continue
            n = deps.get(nxt)
            if n is None:
                deps[nxt] = 1
                if not is_root(nxt):  # roots are on the stack already
                    stack.append(nxt)
            else:
                deps[nxt] = n + 1

    buffers: dict = {}
    for (node, nr), g in roots:
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * (len(node._out_meta) or 1)
        buf[nr] = g if buf[nr] is None else buf[nr] + g

    # the ready nodes, a heap: the most recently created node first (PyTorch's order), and among
    # nodes of equal _seq (AccumulateGrad nodes all have 0) the one made ready last
    ready = []
    order = 0
    for n in root_nodes:
        if n not in deps:
            order -= 1
            ready.append((-n._seq, order, n))
    heapify(ready)
    stored_ids = {id(g._data) for g in grads}

    prev_mode = _state.enabled
    _state.enabled = create_graph
    try:
        while ready:
            node = heappop(ready)[2]
            buf = buffers.pop(node, None) or [None] * (len(node._out_meta) or 1)

            # tensor hooks registered on this node's outputs, then retain_grad
            if node._pre_hooks:
                for nr, hooks in node._pre_hooks.items():
                    if buf[nr] is None:
                        continue
                    for hook in list(hooks):
                        res = hook(buf[nr])
                        if res is not None:
                            buf[nr] = res
            if node._retain:
                for nr, ref in node._retain.items():
                    t = ref()
                    if t is not None and buf[nr] is not None:
                        g = buf[nr] if create_graph else buf[nr].detach()
                        t.grad = g.clone() if t.grad is None else t.grad + g

            if capture is not None:
                for nr in range(len(buf)):
                    pos = capture.get((node, nr))
                    if pos is not None and buf[nr] is not None:
                        for p in pos:
                            results[p] = buf[nr]

            if type(node) is AccumulateGrad:
                if accumulate and (acc_filter is None or node in acc_filter) and buf[0] is not None:
                    _accumulate(node, buf[0], create_graph, stored_ids)
                continue

            if node._node_pre_hooks:
                for hook in node._node_pre_hooks:
                    res = hook(tuple(buf))
                    if res is not None:
                        buf = list(res)
            if node._materialize and (len(buf) > 1 or buf[0] is None):
                _materialize(node, buf)
            grads_in = node._fn.backward(node, *buf)
            if not isinstance(grads_in, tuple):
                grads_in = (grads_in,)
            edges = node.next_functions
            if len(grads_in) != len(edges):
                # a Function may return extra Nones for non-tensor arguments
                if len(grads_in) > len(edges) and all(g is None for g in grads_in[len(edges):]):
                    grads_in = grads_in[: len(edges)]
                else:
                    raise RuntimeError(
                        f"function {node.name()} returned an incorrect number of gradients "
                        f"(expected {len(edges)}, got {len(grads_in)})"
                    )
            if node._node_hooks:
                for hook in node._node_hooks:
                    res = hook(grads_in, tuple(buf))
                    if res is not None:
                        grads_in = tuple(res)
            if _state.anomaly:
                _check_anomaly(node, grads_in)
            if not node._fn._internal:
                grads_in = _validate_user_grads(node, grads_in)
            if not retain_graph:
                node._release()
            for (nxt, nr), g in zip(edges, grads_in):
                if nxt is None:
                    continue
                if g is not None:
                    nbuf = buffers.get(nxt)
                    if nbuf is None:
                        nbuf = buffers[nxt] = [None] * (len(nxt._out_meta) or 1)
                    nbuf[nr] = g if nbuf[nr] is None else nbuf[nr] + g
                left = deps[nxt] - 1
                deps[nxt] = left
                if left == 0:
                    order -= 1
                    heappush(ready, (-nxt._seq, order, nxt))
    finally:
        _state.enabled = prev_mode

    if inputs is not None and not accumulate:
        for i, r in enumerate(results):
            if r is None and not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (input {i}) appears to not have been "
                    "used in the graph. Set allow_unused=True if this is the desired behavior."
                )
        return tuple(results)
    return None


def _materialize(node, buf):
    """Missing output gradients reach backward as zeros (unless set_materialize_grads(False))."""
    for i, g in enumerate(buf):
        if g is None:
            meta = node._out_meta[i] if i < len(node._out_meta) else None
            if meta is not None:
                buf[i] = _zeros(meta)


def _zeros(meta):
    shape, dtype, backend, device = meta
    return _tensor_cls()._make(backend.full(shape, 0, dtype), backend, dtype, device)


def _accumulate(node, g, create_graph, stored_ids):
    t = node._variable_ref()
    if t is None:
        return
    # (tensor hooks of the leaf already ran on the node's buffer in run_backward)
    if g._data.shape != t._data.shape:
        g = g.sum_to_size(t.shape)
    if g.dtype is not t.dtype:
        g = g.to(t.dtype)
    grad = t.grad
    if grad is None:
        if create_graph:
            t.grad = g
        else:
            g = g.detach()
            data = g._data
            if id(data) in stored_ids or g._base is not None or not g._backend.is_contiguous(data):
                g = g.clone()
            stored_ids.add(id(g._data))
            t.grad = g
    elif create_graph or grad.requires_grad:
        t.grad = grad + g
    else:
        grad._backend.binary_inplace("add", grad._data, g._data)
        grad._vc[0] += 1
    if node._node_hooks:
        for hook in node._node_hooks:
            hook(t)


def _check_anomaly(node, grads_in):
    for i, g in enumerate(grads_in):
        if g is None:
            continue
        if bool(g.isnan().any()):
            trace = node._trace or "(forward traceback not recorded: enable detect_anomaly before the forward pass)\n"
            raise RuntimeError(
                f"Function '{node.name()}' returned nan values in its {i}th output.\n"
                f"The forward call that created this node was:\n{trace}"
            )


def _validate_user_grads(node, grads_in):
    out = []
    for i, (edge, g) in enumerate(zip(node.next_functions, grads_in)):
        if g is None or edge[0] is None:
            out.append(g)
            continue
        from .._tensor import Tensor

        if not isinstance(g, Tensor):
            raise TypeError(
                f"function {node.name()} returned a gradient of type {type(g).__name__} at "
                "index {i}; backward must return tensors or None"
            )
        meta = edge[0]._out_meta[edge[1]] if edge[1] < len(edge[0]._out_meta) else None
        if meta is not None and tuple(g.shape) != tuple(meta[0]):
            if g.numel() == _numel(meta[0]):
                g = g.reshape(meta[0])
            else:
                try:
                    g = g.sum_to_size(meta[0])
                except RuntimeError:
                    raise RuntimeError(
                        f"Function {node.name()} returned an invalid gradient at index {i} - got "
                        f"{list(g.shape)} but expected shape compatible with {list(meta[0])}"
                    ) from None
        out.append(g)
    return tuple(out)


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None,
             inputs=None):
    """Accumulate the gradients of ``tensors`` into the leaves' ``.grad`` (``torch.autograd.backward``)."""
    tensors = _as_tuple(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    grad_tensors = _as_tuple(grad_tensors) if grad_tensors is not None else (None,) * len(tensors)
    grads = _make_root_grads(tensors, grad_tensors, create_graph, "backward")
    if inputs is not None:
        inputs = _as_tuple(inputs)
    run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs`` (``torch.autograd.grad``).

    >>> x = flambeau.tensor([2.0], requires_grad=True)
    >>> flambeau.autograd.grad(x ** 3, x)
    (tensor([12.]),)
    """
    outputs = _as_tuple(outputs)
    single_input = not isinstance(inputs, (tuple, list))
    inputs = _as_tuple(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    grads = _make_root_grads(outputs, grad_outputs, create_graph, "grad")
    res = run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs, accumulate=False,
                       allow_unused=allow_unused)
    if materialize_grads:
        from .._creation import zeros_like

        res = tuple(zeros_like(i) if r is None else r for r, i in zip(res, inputs))
    del single_input
    return res

