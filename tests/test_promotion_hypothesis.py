"""Property tests: broadcasting shapes and dtype promotion of binary ops.

The expected dtype comes from PyTorch's documented rules, restated here independently of
flambeau's implementation: ``torch.promote_types`` as a table, and the category rule of
``torch.result_type`` (dimensioned tensors > zero-dim tensors > Python scalars, except that an
operand of a higher category, bool < integer < floating, always lifts the result). Values are
checked against NumPy computed in the expected dtype.
"""
from __future__ import annotations

import numpy as np
from helpers import assert_close, to_numpy
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import flambeau

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]

# torch.promote_types, row x column, in NAMES order
PROMOTE = {
    "bool": ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"),
    "uint8": ("uint8", "uint8", "int16", "int16", "int32", "int64", "float16", "float32", "float64"),
    "int8": ("int8", "int16", "int8", "int16", "int32", "int64", "float16", "float32", "float64"),
    "int16": ("int16", "int16", "int16", "int16", "int32", "int64", "float16", "float32", "float64"),
    "int32": ("int32", "int32", "int32", "int32", "int32", "int64", "float16", "float32", "float64"),
    "int64": ("int64", "int64", "int64", "int64", "int64", "int64", "float16", "float32", "float64"),
    "float16": ("float16",) * 7 + ("float32", "float64"),
    "float32": ("float32",) * 8 + ("float64",),
    "float64": ("float64",) * 9,
}


def promote(a, b):
    return PROMOTE[a][NAMES.index(b)]


def category(name):
    return 0 if name == "bool" else 2 if name.startswith("float") else 1


def expected_result_type(operands):
    """operands: (kind, dtype name) with kind 'dim', 'zero' or 'scalar' (a Python scalar counts
    as bool, int64 or the default float32)."""
    tiers = {}
    for kind, name in operands:
        tiers[kind] = name if kind not in tiers else promote(tiers[kind], name)

    def combine(higher, lower):
        # a lower tier matters only when it is of a higher category than the higher tier
        if higher is None:
            return lower
        if lower is None or category(higher) == 2:
            return higher
        if higher == "bool" or category(lower) == 2:
            return promote(higher, lower)
        return higher

    return combine(tiers.get("dim"), combine(tiers.get("zero"), tiers.get("scalar")))


dtypes = st.sampled_from(NAMES)
OPS = {
    "add": (lambda a, b: a + b, np.add),
    "mul": (lambda a, b: a * b, np.multiply),
    "maximum": (lambda a, b: flambeau.maximum(a, b) if isinstance(b, flambeau.Tensor) else a.clamp(min=b),
                np.maximum),
}


def _values(shape, name, seed):
    rng = np.random.default_rng(seed)
    if name == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    return rng.integers(0, 4, shape).astype(name)


def _operand(kind, name, shape, seed):
    if kind == "scalar":
        return {"bool": True, "int64": 3, "float32": 1.5}[name]
    return flambeau.tensor(_values(shape if kind == "dim" else (), name, seed))


@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3),
       da=dtypes, db=dtypes, seed=st.integers(0, 1000))
def test_tensor_tensor_broadcasting_and_promotion(shapes, da, db, seed):
    (sa, sb), out_shape = shapes.input_shapes, shapes.result_shape
    a, b = _values(sa, da, seed), _values(sb, db, seed + 1)
    ta, tb = flambeau.tensor(a), flambeau.tensor(b)
    want = expected_result_type([("dim" if sa else "zero", da), ("dim" if sb else "zero", db)])
    for name, (fn, ref) in OPS.items():
        out = fn(ta, tb)
        assert out.shape == out_shape, (name, sa, sb)
        assert out.dtype.name == want, (name, da, db, sa, sb)
        expected = ref(a.astype(want), b.astype(want))
        assert_close(out, expected, rtol=1e-3 if want == "float16" else 1e-6, msg=name)
    cmp = ta < tb
    assert cmp.dtype is flambeau.bool and cmp.shape == out_shape
    assert (to_numpy(cmp) == (a.astype(want) < b.astype(want))).all()
    div = ta / tb
    assert div.dtype.name == (want if category(want) == 2 else "float32")


@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=3), dtype=dtypes,
       scalar=st.sampled_from([True, 3, 1.5]), zero_dtype=dtypes, seed=st.integers(0, 1000))
def test_scalar_and_zero_dim_promotion(shape, dtype, scalar, zero_dtype, seed):
    t = _operand("dim", dtype, tuple(shape), seed)
    z = _operand("zero", zero_dtype, (), seed + 1)
    sname = {bool: "bool", int: "int64", float: "float32"}[type(scalar)]
    want_scalar = expected_result_type([("dim", dtype), ("scalar", sname)])
    assert (t + scalar).dtype.name == want_scalar, (dtype, scalar)
    assert (scalar + t).dtype.name == want_scalar, (dtype, scalar)
    assert flambeau.result_type(t, scalar).name == want_scalar
    want_zero = expected_result_type([("dim", dtype), ("zero", zero_dtype)])
    assert (t * z).dtype.name == want_zero, (dtype, zero_dtype)
    assert flambeau.result_type(t, z).name == want_zero
    assert flambeau.promote_types(t.dtype, z.dtype).name == promote(dtype, zero_dtype)
    both_zero = expected_result_type([("zero", dtype), ("zero", zero_dtype)])
    assert (t.reshape(-1)[0] + z).dtype.name == both_zero
    if sname != "bool" and dtype != "bool":
        expected = t.to(flambeau.float64) + scalar
        assert_close((t + scalar).to(flambeau.float64), expected, rtol=1e-3)


@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       da=st.sampled_from(["float32", "float64"]), db=st.sampled_from(["float32", "float64", "int64"]))
def test_gradients_reduce_to_each_operands_shape_and_dtype(shapes, da, db):
    (sa, sb), out_shape = shapes.input_shapes, shapes.result_shape
    # cast after the arithmetic: NumPy 1.x promotes 0-d float32 + Python float to float64
    a = flambeau.tensor(np.asarray(_values(sa, da, 0) + 0.5).astype(da), requires_grad=True)
    b_np = np.asarray(_values(sb, db, 1) + 1).astype(db)
    b = flambeau.tensor(b_np, requires_grad=db != "int64")
    (a * b).sum().backward()
    assert a.grad.shape == sa and a.grad.dtype.name == da
    expected = np.broadcast_to(b_np.astype(np.float64), out_shape)
    lead = len(out_shape) - len(sa)
    expected = expected.sum(tuple(range(lead))) if lead else expected
    expected = expected.sum(tuple(i for i, n in enumerate(sa) if n == 1), keepdims=True) \
        if any(n == 1 for n in sa) else expected
    assert_close(a.grad, expected.reshape(sa), rtol=1e-5)
    if b.requires_grad:
        assert b.grad.shape == sb and b.grad.dtype.name == db


@given(shapes=mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3),
       da=dtypes, db=dtypes)
def test_where_broadcasts_three_ways(shapes, da, db):
    (sc, sa, sb), out_shape = shapes.input_shapes, shapes.result_shape
    cond = _values(sc, "bool", 2)
    a, b = _values(sa, da, 3), _values(sb, db, 4)
    out = flambeau.where(flambeau.tensor(cond), flambeau.tensor(a), flambeau.tensor(b))
    want = expected_result_type([("dim" if sa else "zero", da), ("dim" if sb else "zero", db)])
    assert out.shape == out_shape and out.dtype.name == want
    assert (to_numpy(out) == np.where(cond, a.astype(want), b.astype(want))).all()


@given(shape=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
def test_broadcast_shapes_agrees_with_numpy(shape):
    sa, sb = shape.input_shapes
    assert tuple(flambeau.broadcast_shapes(sa, sb)) == shape.result_shape
    out = flambeau.broadcast_tensors(flambeau.zeros(sa), flambeau.zeros(sb))
    assert [tuple(o.shape) for o in out] == [shape.result_shape] * 2
