"""Indexing against NumPy: ``x[key]``, ``x[key] = v``, gather/scatter and masks, with gradients
by central differences (repeated indices accumulate) and PyTorch's view semantics."""
from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_close, to_numpy

import flambeau
from flambeau.autograd import gradcheck, gradgradcheck

F64 = flambeau.float64


def arr(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-2, 2, shape)


def t64(a, requires_grad=True):
    return flambeau.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def idx(*values):
    return np.array(values, dtype=np.int64)


# =============================================================================
# x[key]: keys of Python objects (NumPy indexes the same way)
# =============================================================================

KEYS = {
    "int": 1, "neg int": -1, "slice": slice(1, 3), "step": slice(None, None, 2),
    "neg slice": slice(-2, None), "tuple": (1, 2), "slice,int": (slice(None), 1),
    "None": None, "None mid": (slice(None), None, 1), "Ellipsis": Ellipsis,
    "Ellipsis,int": (Ellipsis, 0), "int,Ellipsis,int": (0, Ellipsis, 1),
    "list": [0, 2, 0], "list,list": ([0, 1], [2, 3]), "list,slice": ([0, 2], slice(1, 3)),
    "slice,list": (slice(None), [3, 0, 3]), "bool list": [True, False, True],
    "int,list": (1, [0, 1, 1]), "list,int,list": ([0, 1], 1, [0, 1]),
    "slice,None,list": (slice(0, 2), None, [1, 2]), "empty slice": slice(5, 10),
    "slice past end": slice(1, 100), "list,Ellipsis": ([1, 0], Ellipsis),
    "separated lists": ([0, 1], slice(None), [1, 2]), "nested list": [[0, 1], [2, 2]],
}


def _np_key(key):
    # a list holding lists is a tuple of indices (PyTorch's legacy rule, as NumPy once had)
    if isinstance(key, list) and any(isinstance(k, list) for k in key):
        return tuple(key)
    return key


@pytest.mark.parametrize("key", list(KEYS.values()), ids=list(KEYS))
def test_getitem_python_keys(key):
    x = arr(3, 4, 5)
    out = flambeau.tensor(x)[key]
    expected = x[_np_key(key)]
    assert out.shape == expected.shape
    assert_close(out, expected, rtol=0, atol=0)
    assert gradcheck(lambda t: t[key], (t64(x),))
    assert gradgradcheck(lambda t: t[key], (t64(x),))


TENSOR_KEYS = {
    "int tensor": lambda T: T(idx(0, 2, 2)), "2-D int tensor": lambda T: T(np.array([[0, 1], [2, 2]])),
    "bool tensor": lambda T: T(np.array([True, False, True])),
    "2-D bool mask": lambda T: T(arr(3, 4, seed=1) > 0), "int32 tensor": lambda T: T(np.array([1, 0], np.int32)),
    "negative tensor": lambda T: T(idx(-1, 0)), "0-d int tensor": lambda T: T(np.array(1)),
    "tensor,slice": lambda T: (T(idx(0, 2)), slice(1, None)),
    "slice,tensor,tensor": lambda T: (slice(None), T(idx(0, 3, 3)), T(idx(1, 1, 4))),
    "tensor,slice,tensor": lambda T: (T(idx(0, 2)), slice(None), T(idx(1, 1))),
    "broadcast tensors": lambda T: (T(idx(0, 2).reshape(2, 1)), T(idx(1, 1, 3))),
    "mask,slice": lambda T: (T(np.array([True, False, True])), slice(0, 2)),
}


@pytest.mark.parametrize("make", list(TENSOR_KEYS.values()), ids=list(TENSOR_KEYS))
def test_getitem_tensor_keys(make):
    x = arr(3, 4, 5, seed=2)
    key = make(flambeau.tensor)
    expected = x[make(np.asarray)]
    out = flambeau.tensor(x)[key]
    assert out.shape == expected.shape
    assert_close(out, expected, rtol=0, atol=0)
    assert gradcheck(lambda t: t[key], (t64(x),))


def test_repeated_indices_accumulate_gradient():
    x = t64([1.0, 2.0, 3.0])
    y = x[flambeau.tensor([0, 0, 2, 0])]
    (y * t64([1.0, 2.0, 3.0, 4.0], False)).sum().backward()
    assert to_numpy(x.grad).tolist() == [7.0, 0.0, 3.0]
    m = t64(arr(3, 3, seed=3))
    m[[0, 0], [1, 1]].sum().backward()
    assert to_numpy(m.grad)[0, 1] == 2.0 and to_numpy(m.grad).sum() == 2.0


def test_getitem_errors():
    x = flambeau.zeros(3, 4)
    with pytest.raises(IndexError):
        x[3]
    with pytest.raises(IndexError):
        x[flambeau.tensor([5])]
    with pytest.raises(IndexError):
        x[flambeau.tensor([1.0])]
    with pytest.raises(IndexError):
        x[0, 0, 0]
    with pytest.raises(IndexError):
        x[flambeau.tensor([True, False])]


def test_getitem_zero_dim_and_bool_scalar():
    s = flambeau.tensor(2.5)
    assert s[...].shape == () and s[None].shape == (1,) and s[True].shape == (1,)
    assert s[False].shape == (0,)
    x = flambeau.tensor(arr(3, 4))
    assert x[True].shape == (1, 3, 4) and x[flambeau.tensor(2)].shape == (4,)
    assert x[flambeau.tensor(1):].shape == (2, 4)


def test_basic_indexing_is_a_view_advanced_is_a_copy():
    x = flambeau.zeros(3, 4)
    x[1][2] = 5.0  # x[1] is a view: writing through it changes x
    x[:, 0].add_(1)
    x[0, 1].fill_(7)  # a 0-d element view
    assert x[1, 2].item() == 5.0 and to_numpy(x[:, 0]).tolist() == [1, 1, 1]
    assert x[0, 1].item() == 7.0
    y = x[[0, 1]]
    y.add_(100)
    assert to_numpy(x).max() < 100
    assert x[1:]._version == x._version


# =============================================================================
# x[key] = value
# =============================================================================

SET_CASES = [
    ("int scalar", 1, lambda: 5.0),
    ("slice tensor", slice(0, 2), lambda: arr(4, seed=4)),
    ("ellipsis", (Ellipsis, 1), lambda: 0.0),
    ("list", [0, 2], lambda: arr(2, 4, seed=5)),
    ("bool mask", "mask", lambda: -1.0),
    ("tensor idx", "tensor", lambda: 1.5),
    ("column", (slice(None), 1), lambda: arr(3, seed=6)),
    ("0-d value", (0, 1), lambda: np.array(3.0)),
    ("list of values", 0, lambda: [1.0, 2.0, 3.0, 4.0]),
    ("step slice", slice(None, None, 2), lambda: arr(2, 4, seed=7)),
]


def _resolve(key, x):
    if key == "mask":
        return x > 0
    if key == "tensor":
        return idx(0, 2)
    return key


@pytest.mark.parametrize("name,key,value", SET_CASES, ids=[c[0] for c in SET_CASES])
def test_setitem_values(name, key, value):
    x = arr(3, 4, seed=8)
    v = value()
    expected = x.copy()
    expected[_resolve(key, x)] = v
    t = flambeau.tensor(x)
    fkey = _resolve(key, t) if key in ("mask",) else _resolve(key, x)
    if key == "tensor":
        fkey = flambeau.tensor(fkey)
    t[fkey] = flambeau.tensor(v) if isinstance(v, np.ndarray) else v
    assert_close(t, expected, rtol=0, atol=0, msg=name)


@pytest.mark.parametrize("name,key,value", [c for c in SET_CASES if isinstance(c[2](), np.ndarray)],
                         ids=[c[0] for c in SET_CASES if isinstance(c[2](), np.ndarray)])
def test_setitem_gradient(name, key, value):
    x, v = arr(3, 4, seed=9), value()

    def fn(t, w):
        y = t * 1
        y[_resolve(key, x)] = w
        return y

    assert gradcheck(fn, (t64(x), t64(v))), name
    assert gradgradcheck(fn, (t64(x), t64(v))), name


def test_setitem_casts_and_errors():
    i = flambeau.zeros(2, 3, dtype=flambeau.int64)
    i[0] = 2.7
    assert to_numpy(i).tolist() == [[2, 2, 2], [0, 0, 0]]
    f = flambeau.zeros(2, 3)
    f[1] = flambeau.tensor([1.0, 2.0, 3.0], dtype=F64)
    assert f.dtype is flambeau.float32 and to_numpy(f)[1].tolist() == [1, 2, 3]
    with pytest.raises(RuntimeError):
        f[1] = flambeau.ones(2)
    with pytest.raises(RuntimeError):
        flambeau.ones(3, requires_grad=True)[0] = 1.0  # a leaf that requires grad


def test_setitem_duplicate_indices_last_write_semantics():
    x = flambeau.zeros(3)
    x[flambeau.tensor([0, 0, 2])] += flambeau.tensor([1.0, 2.0, 3.0])  # not accumulating
    expected = np.zeros(3)
    expected[[0, 0, 2]] += [1.0, 2.0, 3.0]
    assert_close(x, expected)
    y = flambeau.zeros(3).index_put((flambeau.tensor([0, 0, 2]),), flambeau.tensor([1.0, 2.0, 3.0]),
                                    accumulate=True)
    assert to_numpy(y).tolist() == [3.0, 0.0, 3.0]


def test_index_update_patterns_with_autograd():
    x, v = t64([1.0, 2.0, 3.0]), t64([5.0, 6.0])
    y = x.clone()
    y[[0, 2]] += v * 2  # x[idx] += v
    y.sum().backward()
    assert to_numpy(y).tolist() == [11.0, 2.0, 15.0]
    assert to_numpy(x.grad).tolist() == [1.0, 1.0, 1.0] and to_numpy(v.grad).tolist() == [2.0, 2.0]
    assert y.grad_fn.name() == "IndexPutBackward0"

    def build(t):  # rows written one by one into a buffer that does not require grad
        out = flambeau.zeros(3, 3, dtype=F64)
        for i in range(3):
            out[i] = t * (i + 1)
        out[:, 0] += t ** 2
        return out

    assert gradcheck(build, (t64(arr(3, seed=10)),))

    def shift(t):  # reads and writes of one tensor overlap
        y = t * 1
        y[1:] = y[:-1] * 2
        return y

    assert gradcheck(shift, (t64(arr(4, seed=11)),))


def test_in_place_on_views_updates_the_base_history():
    x = t64([1.0, 2.0, 3.0])
    y = x.clone()
    y[0].mul_(2)  # in place on a view of a non-leaf
    y.sum().backward()
    assert to_numpy(x.grad).tolist() == [2.0, 1.0, 1.0]

    def chain(t, w):  # a view of a view, then the middle view, then the base is read
        y = t.clone()
        z = y[:, 1:]
        z[0].add_(w)
        z.mul_(2)
        return y * z.sum()

    assert gradcheck(chain, (t64(arr(3, 4, seed=12)), t64(arr(3, seed=13))))

    def transposed(t):
        y = t.clone()
        y.t().mul_(3)
        y.view(-1)[2] = 0.0
        return y.exp()

    assert gradcheck(transposed, (t64(arr(3, 4, seed=14)),))

    def unrelated_view(t):  # a view made before its base changed sees the new history
        y = t * 2
        row = y[1]
        y.add_(1)
        return row * 3

    assert gradcheck(unrelated_view, (t64(arr(3, 4, seed=15)),))
    x = t64([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf"):
        x[0:1].mul_(2)


# =============================================================================
# gather, scatter, index_* and masks: flambeau call, NumPy reference, differentiable inputs
# =============================================================================

def _np_gather(x, dim, index):
    out = np.empty(index.shape)
    for pos in np.ndindex(*index.shape):
        src = list(pos)
        src[dim] = index[pos]
        out[pos] = x[tuple(src)]
    return out


def _np_scatter(x, dim, index, src, add=False):
    out = x.copy()
    for pos in np.ndindex(*index.shape):
        target = list(pos)
        target[dim] = index[pos]
        if add:
            out[tuple(target)] += src[pos]
        else:
            out[tuple(target)] = src[pos]
    return out


G_IDX = np.array([[0, 1], [3, 3], [2, 0]])
G0_IDX = np.array([[0, 2, 1, 2], [1, 1, 0, 0]])
S_IDX = np.array([[0, 1], [3, 2], [2, 0]])  # no duplicates in a row: scatter is deterministic
D_IDX = np.array([[0, 0], [3, 3], [2, 0]])
MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, True, False]])

GATHER_SCATTER = [
    ("gather", lambda x, s: x.gather(1, flambeau.tensor(G_IDX)), lambda x, s: _np_gather(x, 1, G_IDX)),
    ("gather dim0", lambda x, s: flambeau.gather(x, 0, flambeau.tensor(G0_IDX)),
     lambda x, s: _np_gather(x, 0, G0_IDX)),
    ("gather neg dim", lambda x, s: x.gather(-1, flambeau.tensor(G_IDX[:2])),
     lambda x, s: _np_gather(x, 1, G_IDX[:2])),
    ("scatter", lambda x, s: x.scatter(1, flambeau.tensor(S_IDX), s),
     lambda x, s: _np_scatter(x, 1, S_IDX, s)),
    ("scatter_add dup", lambda x, s: x.scatter_add(1, flambeau.tensor(D_IDX), s),
     lambda x, s: _np_scatter(x, 1, D_IDX, s, add=True)),
    ("scatter reduce=add", lambda x, s: flambeau.scatter_reduce(x, 1, flambeau.tensor(D_IDX), s, "sum"),
     lambda x, s: _np_scatter(x, 1, D_IDX, s, add=True)),
    ("scatter_ value", lambda x, s: (x * 1).scatter_(1, flambeau.tensor(S_IDX), 5.0),
     lambda x, s: _np_scatter(x, 1, S_IDX, np.full(S_IDX.shape, 5.0))),
    ("scatter_add_", lambda x, s: (x * 1).scatter_add_(1, flambeau.tensor(D_IDX), s),
     lambda x, s: _np_scatter(x, 1, D_IDX, s, add=True)),
    ("index_select", lambda x, s: x.index_select(1, flambeau.tensor(idx(3, 0, 3))),
     lambda x, s: x[:, [3, 0, 3]]),
    ("index_add", lambda x, s: x.index_add(1, flambeau.tensor(idx(0, 0)), s),
     lambda x, s: x + np.stack([s.sum(1), 0 * s[:, 0], 0 * s[:, 0], 0 * s[:, 0]], 1)),
    ("index_add alpha", lambda x, s: flambeau.index_add(x, 1, flambeau.tensor(idx(2, 1)), s, alpha=2.0),
     lambda x, s: x + np.stack([0 * s[:, 0], 2 * s[:, 1], 2 * s[:, 0], 0 * s[:, 0]], 1)),
    ("index_copy", lambda x, s: x.index_copy(1, flambeau.tensor(idx(3, 0)), s),
     lambda x, s: np.stack([s[:, 1], x[:, 1], x[:, 2], s[:, 0]], 1)),
    ("index_fill", lambda x, s: x.index_fill(1, flambeau.tensor(idx(2, 0)), -1.0),
     lambda x, s: np.where(np.isin(np.arange(4), [0, 2]), -1.0, x)),
    ("masked_fill", lambda x, s: x.masked_fill(flambeau.tensor(MASK), 0.5),
     lambda x, s: np.where(MASK, 0.5, x)),
    ("masked_fill broadcast", lambda x, s: x.masked_fill(flambeau.tensor(MASK[0]), 0.5),
     lambda x, s: np.where(MASK[0], 0.5, x)),
    ("masked_fill tensor value", lambda x, s: x.masked_fill(flambeau.tensor(MASK), s[0, 0]),
     lambda x, s: np.where(MASK, s[0, 0], x)),
    ("masked_select", lambda x, s: x.masked_select(flambeau.tensor(MASK)), lambda x, s: x[MASK]),
    ("masked_select broadcast", lambda x, s: flambeau.masked_select(x, flambeau.tensor(MASK[1])),
     lambda x, s: np.broadcast_to(x, (3, 4))[np.broadcast_to(MASK[1], (3, 4))]),
    ("take_along_dim", lambda x, s: flambeau.take_along_dim(x, flambeau.tensor(G_IDX), 1),
     lambda x, s: np.take_along_axis(x, G_IDX, 1)),
    ("take_along_dim flat", lambda x, s: flambeau.take_along_dim(x, flambeau.tensor(idx(11, 0, 5))),
     lambda x, s: x.ravel()[[11, 0, 5]]),
    ("take", lambda x, s: flambeau.take(x, flambeau.tensor(np.array([[0, 11], [5, 5]]))),
     lambda x, s: x.ravel()[[[0, 11], [5, 5]]]),
    ("index_put accumulate", lambda x, s: x.index_put((flambeau.tensor(idx(0, 0)),), s[:2, :].reshape(-1)[:4].reshape(1, 4).expand(2, 4), accumulate=True),
     lambda x, s: x + np.stack([2 * s[:2].reshape(-1)[:4], 0 * x[1], 0 * x[2]])),
    ("masked_scatter", lambda x, s: x.masked_scatter(flambeau.tensor(MASK), s.reshape(-1).repeat(2)),
     lambda x, s: _np_masked_scatter(x, MASK, np.tile(s.reshape(-1), 2))),
]


def _np_masked_scatter(x, mask, src):
    out = x.copy()
    out[mask] = src[: mask.sum()]
    return out


@pytest.mark.parametrize("name,fn,ref", GATHER_SCATTER, ids=[g[0] for g in GATHER_SCATTER])
def test_gather_scatter_family(name, fn, ref):
    x, s = arr(3, 4, seed=16), arr(3, 2, seed=17)
    out = fn(flambeau.tensor(x), flambeau.tensor(s))
    expected = ref(x, s)
    assert out.shape == expected.shape, name
    assert_close(out, expected, rtol=1e-12, atol=1e-12, msg=name)
    assert gradcheck(fn, (t64(x), t64(s))), name
    assert gradgradcheck(fn, (t64(x), t64(s))), name


def test_gather_scatter_errors_and_nondifferentiable_reductions():
    x = flambeau.zeros(3, 4)
    with pytest.raises(RuntimeError):
        x.gather(1, flambeau.tensor([[0, 4]]))
    with pytest.raises(RuntimeError):
        x.gather(1, flambeau.tensor([1, 2]))
    with pytest.raises(RuntimeError):
        x.masked_fill(flambeau.tensor([1, 0, 1, 0]), 1.0)  # the mask must be bool
    base = flambeau.tensor([[1.0, 2.0, 3.0, 4.0]] * 2)
    i = flambeau.tensor([[0, 0, 1, 2], [0, 0, 1, 1]])
    src = flambeau.tensor([[2.0, 3.0, 4.0, 5.0], [1.0, 1.0, 1.0, 1.0]])
    for reduce, include, row0 in (("prod", True, [6, 8, 15, 4]), ("amax", True, [3, 4, 5, 4]),
                                  ("amin", False, [2, 4, 5, 4]), ("mean", True, [2, 3, 4, 4])):
        out = base.scatter_reduce(1, i, src, reduce, include_self=include)
        assert to_numpy(out)[0].tolist() == row0, reduce
    assert to_numpy(flambeau.nonzero(flambeau.tensor([[0, 1], [2, 0]]))).tolist() == [[0, 1], [1, 0]]
    rows, cols = flambeau.nonzero(flambeau.tensor([[0, 1], [2, 0]]), as_tuple=True)
    assert to_numpy(rows).tolist() == [0, 1] and to_numpy(cols).tolist() == [1, 0]
    assert len(flambeau.where(flambeau.tensor([True, False, True]))) == 1
    assert flambeau.argwhere(flambeau.tensor([[True, False]])).shape == (1, 2)


def test_numpy_keys():
    x = arr(3, 4, seed=20)
    t = flambeau.tensor(x)
    assert_close(t[np.array([0, 2])], x[[0, 2]])
    assert_close(t[np.int64(1)], x[1])
    assert_close(t[x > 0], x[x > 0])
