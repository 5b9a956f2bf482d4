"""Linear algebra: matmul and ``@``, mm, bmm, dot, outer, einsum, tensordot."""
from __future__ import annotations

from ._util import InternalFunction, Tensor, check_device, dt, named


def _shape_str(s):
    return "x".join(str(d) for d in s)


class MatMul(InternalFunction):
    @staticmethod
    def forward(ctx, a, b):
        be = a._backend
        ctx.save_for_backward(a, b)
        return Tensor._make(be.matmul(a._data, b._data), be, a.dtype, a.device)

    @staticmethod
    def backward(ctx, g):  # d(AB) = (G B^T, A^T G), summed over broadcast batch dims
        a, b = ctx.saved_tensors
        if a.ndim == 1 and b.ndim == 1:  # dot product: d(a.b) = (b, a)
            return (g * b if ctx.needs_input_grad[0] else None,
                    g * a if ctx.needs_input_grad[1] else None)
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = g2.unsqueeze(-2)
        if b.ndim == 1:
            g2 = g2.unsqueeze(-1)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = g2 @ b2.mT
            if ga.shape != a2.shape:
                ga = ga.sum_to_size(a2.shape)
            if a.ndim == 1:
                ga = ga.squeeze(0)
        if ctx.needs_input_grad[1]:
            gb = a2.mT @ g2
            if gb.shape != b2.shape:
                gb = gb.sum_to_size(b2.shape)
            if b.ndim == 1:
                gb = gb.squeeze(-1)
        return ga, gb


def _check_matmul(op, a, b):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{op}(): expected Tensors, got {type(a).__name__} and {type(b).__name__}")
    if a.device is not b.device:
        check_device(op, a, b)
    if a.dtype is not b.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {a.dtype.name} != {b.dtype.name}"
        )
    sa, sb = a._data.shape, b._data.shape  # (native shapes: no Size built on this hot path)
    if not sa or not sb:
        raise RuntimeError(
            f"both arguments to {op} need to be at least 1D, but they are {a.ndim}D and {b.ndim}D"
        )
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        sa = a.shape if a.ndim > 1 else (1, a.shape[0])
        sb = b.shape if b.ndim > 1 else (b.shape[0], 1)
        if a.ndim <= 2 and b.ndim <= 2:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(sa)} and {_shape_str(sb)})"
            )
        raise RuntimeError(
            f"{op}: the inner dimensions do not match: {list(a.shape)} @ {list(b.shape)} "
            f"({ka} vs {kb})"
        )
    if a.dtype is dt.bool_:
        raise RuntimeError(f"{op}: \"addmm_impl_cpu_\" not implemented for 'Bool'")


def matmul(input, other, *, out=None):
    """Matrix product with broadcasting batch dims, as ``torch.matmul``."""
    _check_matmul("matmul", input, other)
    dims = (input._data.ndim, other._data.ndim)
    if dims[0] > 2 and dims[1] > 2:
        from .shape import broadcast_shapes

        broadcast_shapes(input.shape[:-2], other.shape[:-2])
    return named(MatMul.apply(input, other), _MATMUL_NAMES.get(dims, "UnsafeViewBackward0"))


# the node PyTorch's matmul ends with, by the operands' dims (batched: UnsafeViewBackward0)
_MATMUL_NAMES = {(1, 1): "DotBackward0", (2, 2): "MmBackward0", (2, 1): "MvBackward0",
                 (1, 2): "SqueezeBackward4"}


def mm(input, mat2, *, out=None):
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(
            f"mm: expected 2D tensors, got {input.ndim}D and {mat2.ndim}D"
        )
    _check_matmul("mm", input, mat2)
    return named(MatMul.apply(input, mat2), "MmBackward0")


def bmm(input, mat2, *, out=None):
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor (got {input.ndim}D and {mat2.ndim}D)")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(
            f"bmm: batch sizes do not match: {input.shape[0]} and {mat2.shape[0]} "
            f"(shapes {list(input.shape)} and {list(mat2.shape)})"
        )
    _check_matmul("bmm", input, mat2)
    return named(MatMul.apply(input, mat2), "BmmBackward0")


def mv(input, vec):
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {vec.ndim}")
    _check_matmul("mv", input, vec)
    return named(MatMul.apply(input, vec), "MvBackward0")


def dot(input, other, *, out=None):
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src "
            f"[{other.shape[0]}] to have the same number of elements, but got "
            f"{input.shape[0]} and {other.shape[0]} elements respectively"
        )
    _check_matmul("dot", input, other)
    return named(MatMul.apply(input, other), "DotBackward0")


inner_dot = dot


def vdot(input, other):
    return dot(input, other)


def inner(input, other):
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    return matmul(input, other.movedim(-1, 0) if other.ndim > 1 else other) if other.ndim <= 2 else \
        tensordot(input, other, ([-1], [-1]))


def outer(input, vec2):
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError("outer: expected 1D tensors")
    return input.unsqueeze(1) * vec2.unsqueeze(0)


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    prod = mm(mat1, mat2)
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        return prod
    return (input if beta == 1 else input * beta) + prod


def addmv(input, mat, vec, *, beta=1, alpha=1):
    prod = mv(mat, vec)
    return (input * beta if beta != 1 else input) + (prod * alpha if alpha != 1 else prod)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    prod = bmm(batch1, batch2)
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        return prod
    return (input if beta == 1 else input * beta) + prod


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    prod = bmm(batch1, batch2).sum(0)
    return (input * beta if beta != 1 else input) + (prod * alpha if alpha != 1 else prod)


def tensordot(a, b, dims=2, out=None):
    if isinstance(dims, int):
        da = list(range(a.ndim - dims, a.ndim))
        db = list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    da = [d % a.ndim for d in da]
    db = [d % b.ndim for d in db]
    free_a = [d for d in range(a.ndim) if d not in da]
    free_b = [d for d in range(b.ndim) if d not in db]
    n = 1
    for d in da:
        n *= a.shape[d]
    at = a.permute(free_a + da).reshape(-1, n)
    bt = b.permute(db + free_b).reshape(n, -1)
    return (at @ bt).reshape([a.shape[d] for d in free_a] + [b.shape[d] for d in free_b])


# =============================================================================
# einsum
# =============================================================================


def _parse_einsum(equation, operands):
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->")
    else:
        lhs, rhs = eq, None
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(
            f"einsum(): the equation {equation!r} names {len(terms)} operands but "
            f"{len(operands)} were given"
        )
    used = set(c for c in eq if c.isalpha())
    spare = iter(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in used)
    ell_letters = None
    ell_len = 0
    for t, op in zip(terms, operands):
        if "..." in t:
            ell_len = max(ell_len, op.ndim - (len(t) - 3))
    if ell_len:
        ell_letters = "".join(next(spare) for _ in range(ell_len))
    fixed = []
    for t, op in zip(terms, operands):
        if "..." in t:
            n = op.ndim - (len(t) - 3)
            t = t.replace("...", ell_letters[ell_len - n:] if n else "")
        if len(t) != op.ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({len(t)}) does not match the "
                f"number of dimensions ({op.ndim}) for operand {len(fixed)}"
            )
        fixed.append(t)
    if rhs is None:
        counts = {}
        for t in fixed:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        rhs = (ell_letters or "") + "".join(sorted(c for c, n in counts.items()
                                                   if n == 1 and c not in (ell_letters or "")))
    else:
        rhs = rhs.replace("...", ell_letters or "")
    return fixed, rhs


class Einsum(InternalFunction):
    @staticmethod
    def forward(ctx, terms, rhs, *ops):
        be = ops[0]._backend
        eq = ",".join(terms) + "->" + rhs
        dtype = ops[0].dtype
        for o in ops[1:]:
            dtype = dt.promote_types(dtype, o.dtype)
        datas = [o._data if o.dtype is dtype else be.astype(o._data, dtype) for o in ops]
        fast = getattr(be, "einsum", None)
        data = fast(eq, *datas) if fast is not None else _einsum_composite(be, terms, rhs, datas, dtype)
        ctx.save_for_backward(*ops)
        ctx.terms = terms
        ctx.rhs = rhs
        return Tensor._make(be.astype(data, dtype), be, dtype, ops[0].device)

    @staticmethod
    def backward(ctx, g):  # operand i: einsum of the gradient with the other operands
        ops = ctx.saved_tensors
        terms, rhs = ctx.terms, ctx.rhs
        grads = [None, None]
        for i, (t, op) in enumerate(zip(terms, ops)):
            if not ctx.needs_input_grad[2 + i]:
                grads.append(None)
                continue
            others = [(terms[j], ops[j]) for j in range(len(ops)) if j != i]
            avail = set(rhs) | set("".join(s for s, _ in others))
            uniq = "".join(dict.fromkeys(t))  # operand i's subscripts, each once
            keep = "".join(c for c in uniq if c in avail)
            gi = einsum(",".join([rhs] + [s for s, _ in others]) + "->" + keep,
                        g, *[o for _, o in others])
            sizes = {c: op.shape[t.index(c)] for c in uniq}
            if keep != uniq:
                # subscripts summed out of operand i alone: the gradient is broadcast along them
                gi = gi.reshape([sizes[c] if c in keep else 1 for c in uniq]).expand(
                    [sizes[c] for c in uniq])
            if uniq != t:
                gi = _scatter_diagonals(gi, uniq, t, sizes, g)
            if tuple(gi.shape) != tuple(op.shape):  # operand i was broadcast (size-1 dims)
                gi = gi.sum_to_size(op.shape)
            grads.append(gi)
        return tuple(grads)


def _scatter_diagonals(gi, uniq, t, sizes, like):
    """Place ``gi`` (subscripts ``uniq``) on the diagonals of an operand whose subscripts ``t``
    repeat some letters: ``einsum("i,ij->ij", gi, eye)`` for ``t == "ii"``."""
    from .._creation import eye

    used = set(t) | set(uniq)
    fresh = iter(c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in used)
    out_t = []
    eyes = []
    seen = set()
    for c in t:
        if c in seen:
            n = next(fresh)
            out_t.append(n)
            eyes.append(c + n)
        else:
            seen.add(c)
            out_t.append(c)
    mats = [eye(sizes[e[0]], dtype=gi.dtype, device=gi.device) for e in eyes]
    return einsum(",".join([uniq] + eyes) + "->" + "".join(out_t), gi, *mats)


def _einsum_composite(be, terms, rhs, datas, dtype):
    """einsum over the primitives: align every operand to all subscripts, multiply, sum."""
    letters = []
    for t in terms:
        for c in t:
            if c not in letters:
                letters.append(c)
    sizes = {}
    for t, d in zip(terms, datas):
        for c, n in zip(t, d.shape):
            sizes[c] = max(sizes.get(c, 1), n)
    prod = None
    for t, d in zip(terms, datas):
        if len(set(t)) != len(t):
            raise RuntimeError("einsum: repeated subscripts in one operand need a backend einsum")
        order = sorted(range(len(t)), key=lambda i: letters.index(t[i]))
        d = be.permute(d, tuple(order))
        present = [t[i] for i in order]
        shape = tuple(sizes[c] if c in present and d.shape[present.index(c)] != 1 else 1 for c in letters)
        shape = tuple(d.shape[present.index(c)] if c in present else 1 for c in letters)
        d = be.reshape(d, shape)
        prod = d if prod is None else be.binary("mul", prod, d)
    axes = tuple(i for i, c in enumerate(letters) if c not in rhs)
    out = be.reduce("sum", prod, axes, False) if axes else prod
    remaining = [c for c in letters if c in rhs]
    out = be.permute(out, tuple(remaining.index(c) for c in rhs))
    full_shape = tuple(sizes[c] for c in rhs)
    return be.broadcast_to(out, full_shape)


def einsum(equation, *operands):
    """Einstein summation, as ``torch.einsum`` (ellipsis and implicit output supported)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    check_device("einsum", *operands)
    terms, rhs = _parse_einsum(equation, operands)
    sizes = {}
    for t, op in zip(terms, operands):
        for c, n in zip(t, op.shape):
            if c in sizes and sizes[c] != n and 1 not in (sizes[c], n):
                raise RuntimeError(
                    f"einsum(): operands do not broadcast with remapped shapes (subscript {c!r} "
                    f"is {sizes[c]} in one operand and {n} in another)"
                )
            sizes[c] = n if c not in sizes or sizes[c] == 1 else sizes[c]
    return Einsum.apply(terms, rhs, *operands)
