"""flambeau.utils.data: collate rules, datasets, samplers and DataLoader ordering.

Expected values that depend only on PyTorch's rules (split sizes, collated dtypes, batch
layouts) were checked against torch.utils.data; random orders are checked for reproducibility
and coverage, since flambeau's random streams are its own.
"""
from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest
from helpers import to_numpy

import flambeau
from flambeau.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    StackDataset,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    get_worker_info,
    random_split,
)
from flambeau.utils.data._utils.collate import collate, default_collate_fn_map

Point = collections.namedtuple("Point", ["x", "y"])


def _flat(batches):
    out = []
    for b in batches:
        out.extend(b.tolist() if isinstance(b, flambeau.Tensor) else b)
    return out


# ---------------------------------------------------------------------------
# default_collate / default_convert
# ---------------------------------------------------------------------------

# (batch, expected dtype, expected values) for batches collated into one tensor
COLLATE_TO_TENSOR = [
    ("python floats", [1.5, 2.5], flambeau.float64, [1.5, 2.5]),
    ("python ints", [1, 2, 3], flambeau.int64, [1, 2, 3]),
    ("python bools", [True, False], flambeau.bool, [True, False]),
    ("numpy float32 scalars", [np.float32(1), np.float32(2)], flambeau.float32, [1.0, 2.0]),
    ("numpy int16 scalars", [np.int16(1), np.int16(2)], flambeau.int16, [1, 2]),
    ("numpy bool scalars", [np.bool_(True), np.bool_(False)], flambeau.bool, [True, False]),
    ("numpy float64 scalars", [np.float64(1), np.float64(2)], flambeau.float64, [1.0, 2.0]),
    ("numpy 0-d arrays", [np.array(1.5), np.array(2.5)], flambeau.float64, [1.5, 2.5]),
    ("numpy arrays", [np.array([1, 2], np.int32), np.array([3, 4], np.int32)], flambeau.int32,
     [[1, 2], [3, 4]]),
    ("numpy uint8 images", [np.zeros((2, 2), np.uint8), np.ones((2, 2), np.uint8)],
     flambeau.uint8, [[[0, 0], [0, 0]], [[1, 1], [1, 1]]]),
]


@pytest.mark.parametrize("what,batch,dtype,values", COLLATE_TO_TENSOR,
                         ids=[c[0] for c in COLLATE_TO_TENSOR])
def test_default_collate_to_tensor(what, batch, dtype, values, device):
    out = default_collate(batch)
    assert isinstance(out, flambeau.Tensor), what
    assert out.dtype is dtype, f"{what}: dtype {out.dtype}, expected {dtype}"
    assert out.tolist() == values, what
    assert str(out.device) == device, f"{what}: on {out.device}, expected the default {device}"


def test_default_collate_stacks_tensors():
    a, b = flambeau.tensor([[1.0, 2.0]]), flambeau.tensor([[3.0, 4.0]])
    out = default_collate([a, b])
    assert out.shape == (2, 1, 2) and out.tolist() == [[[1.0, 2.0]], [[3.0, 4.0]]]
    with pytest.raises(RuntimeError, match="stack"):
        default_collate([flambeau.zeros(2), flambeau.zeros(3)])


def test_default_collate_structures():
    # tuples are transposed into a list (PyTorch's rule), strings stay as they are
    out = default_collate([(1, 2.0, True, "a"), (3, 4.0, False, "b")])
    assert isinstance(out, list) and len(out) == 4
    assert out[0].dtype is flambeau.int64 and out[0].tolist() == [1, 3]
    assert out[1].dtype is flambeau.float64 and out[1].tolist() == [2.0, 4.0]
    assert out[2].dtype is flambeau.bool and out[2].tolist() == [True, False]
    assert out[3] == ("a", "b")
    # a list of strings is returned unchanged
    assert default_collate(["x", "y"]) == ["x", "y"]
    assert default_collate([b"x", b"y"]) == [b"x", b"y"]
    # lists stay lists
    lst = default_collate([[1, 2], [3, 4]])
    assert isinstance(lst, list) and [t.tolist() for t in lst] == [[1, 3], [2, 4]]
    # dicts by key, keeping the mapping type
    d = default_collate([{"x": flambeau.zeros(2), "y": 0}, {"x": flambeau.ones(2), "y": 1}])
    assert set(d) == {"x", "y"} and d["x"].shape == (2, 2) and d["y"].tolist() == [0, 1]
    od = default_collate([collections.OrderedDict(b=1, a=2)] * 2)
    assert isinstance(od, collections.OrderedDict) and list(od) == ["b", "a"]
    # namedtuples are preserved
    p = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(p, Point) and p.x.tolist() == [1, 3] and p.y.dtype is flambeau.float64
    # nesting, with NumPy inside
    n = default_collate([{"img": np.zeros(3, np.float32), "meta": (1, "a")}] * 2)
    assert n["img"].dtype is flambeau.float32 and n["img"].shape == (2, 3)
    assert n["meta"][0].tolist() == [1, 1] and n["meta"][1] == ("a", "a")


@pytest.mark.parametrize("batch,error,match", [
    ([object(), object()], TypeError, "batch must contain tensors, numpy arrays, numbers"),
    ([np.array(["a"]), np.array(["b"])], TypeError, "found <U1"),
    ([np.array([object()])], TypeError, "found object"),
    ([[1, 2], [1]], RuntimeError, "each element in list of batch should be of equal size"),
])
def test_default_collate_errors(batch, error, match):
    with pytest.raises(error, match=match):
        default_collate(batch)


def test_collate_with_custom_map():
    class Box:
        def __init__(self, v):
            self.v = v

    fn_map = dict(default_collate_fn_map)
    fn_map[Box] = lambda batch, *, collate_fn_map=None: sum(b.v for b in batch)
    assert collate([(Box(1), 2), (Box(3), 4)], collate_fn_map=fn_map)[0] == 4


def test_default_convert():
    out = default_convert((np.float32(1.5), [np.array([1, 2])], 3, "s", {"a": np.zeros(2)}))
    assert isinstance(out, list)  # tuples become lists
    assert out[0].dtype is flambeau.float32 and out[0].ndim == 0
    assert out[1][0].tolist() == [1, 2]
    assert out[2] == 3 and out[3] == "s"
    assert out[4]["a"].dtype is flambeau.float64
    strings = np.array(["a", "b"])
    assert default_convert(strings) is strings
    p = default_convert(Point(np.int64(1), 2))
    assert isinstance(p, Point) and p.x.dtype is flambeau.int64 and p.y == 2
    t = flambeau.ones(2)
    assert default_convert(t) is t


# ---------------------------------------------------------------------------
# datasets
# ---------------------------------------------------------------------------

def test_tensor_dataset():
    x, y = flambeau.arange(12.0).reshape(4, 3), flambeau.arange(4)
    ds = TensorDataset(x, y)
    assert len(ds) == 4
    xi, yi = ds[2]
    assert xi.tolist() == [6.0, 7.0, 8.0] and yi.item() == 2
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(flambeau.zeros(3, 2), flambeau.zeros(4))


def test_subset_concat_chain_stack():
    base = TensorDataset(flambeau.arange(10))
    sub = Subset(base, [7, 2, 5])
    assert len(sub) == 3 and [sub[i][0].item() for i in range(3)] == [7, 2, 5]
    assert [s[0].item() for s in sub.__getitems__([2, 0])] == [5, 7]

    cat = ConcatDataset([range(3), range(10, 15)])
    assert len(cat) == 8 and cat.cumulative_sizes == [3, 8]
    assert [cat[i] for i in range(8)] == [0, 1, 2, 10, 11, 12, 13, 14]
    assert cat[-1] == 14 and cat[-8] == 0
    with pytest.raises(ValueError, match="absolute value of index"):
        cat[-9]
    with pytest.raises(IndexError):
        cat[8]
    with pytest.raises(AssertionError, match="empty"):
        ConcatDataset([])
    assert len(sub + sub) == 6

    class Stream(IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    with pytest.raises(AssertionError, match="IterableDataset"):
        ConcatDataset([Stream(2)])
    chain = Stream(2) + Stream(3)
    assert isinstance(chain, ChainDataset) and list(chain) == [0, 1, 0, 1, 2] and len(chain) == 5

    st = StackDataset(range(3), range(10, 13))
    assert st[1] == (1, 11) and len(st) == 3
    assert StackDataset(a=range(2), b="xy")[1] == {"a": 1, "b": "y"}
    with pytest.raises(ValueError, match="Size mismatch"):
        StackDataset(range(2), range(3))


def test_dataset_base_is_abstract():
    with pytest.raises(NotImplementedError):
        Dataset()[0]
    with pytest.raises(NotImplementedError):
        iter(IterableDataset())


# sizes PyTorch's random_split gives (checked against torch 2.x)
SPLITS = [
    (10, [0.3, 0.3, 0.4], [3, 3, 4]),
    (11, [0.5, 0.5], [6, 5]),
    (7, [0.1, 0.1, 0.8], [1, 1, 5]),
    (5, [0.25] * 4, [2, 1, 1, 1]),
    (1797, [0.8, 0.2], [1438, 359]),
    (3, [1 / 3] * 3, [1, 1, 1]),
    (10, [3, 7], [3, 7]),
]


@pytest.mark.parametrize("n,lengths,sizes", SPLITS)
def test_random_split_sizes(n, lengths, sizes):
    parts = random_split(range(n), lengths, generator=flambeau.Generator().manual_seed(1))
    assert [len(p) for p in parts] == sizes
    seen = sorted(i for p in parts for i in p)
    assert seen == list(range(n)), "the splits must cover the dataset without overlap"


def test_random_split_reproducible_and_errors():
    a = random_split(range(20), [5, 15], generator=flambeau.Generator().manual_seed(3))
    b = random_split(range(20), [5, 15], generator=flambeau.Generator().manual_seed(3))
    assert [list(p) for p in a] == [list(p) for p in b]
    c = random_split(range(20), [5, 15], generator=flambeau.Generator().manual_seed(4))
    assert [list(p) for p in a] != [list(p) for p in c]
    flambeau.manual_seed(5)
    d = random_split(range(20), [0.5, 0.5])
    flambeau.manual_seed(5)
    e = random_split(range(20), [0.5, 0.5])
    assert [list(p) for p in d] == [list(p) for p in e]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        random_split(range(10), [1.5, -0.5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(2), [0.9, 0.1])


# ---------------------------------------------------------------------------
# samplers
# ---------------------------------------------------------------------------

def _g(seed):
    return flambeau.Generator().manual_seed(seed)


def test_sequential_and_random_sampler():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    assert len(SequentialSampler(range(4))) == 4
    perm = list(RandomSampler(range(10), generator=_g(0)))
    assert sorted(perm) == list(range(10))
    assert perm == list(RandomSampler(range(10), generator=_g(0)))
    # more samples than items without replacement: whole permutations, then a partial one
    many = list(RandomSampler(range(4), num_samples=10, generator=_g(0)))
    assert len(many) == 10 and sorted(many[:4]) == [0, 1, 2, 3] and sorted(many[4:8]) == [0, 1, 2, 3]
    rep = list(RandomSampler(range(3), replacement=True, num_samples=70, generator=_g(0)))
    assert len(rep) == 70 and set(rep) <= {0, 1, 2} and len(set(rep)) == 3
    assert len(RandomSampler(range(3), replacement=True, num_samples=70)) == 70
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(range(3), replacement=1)


def test_random_sampler_without_generator_follows_manual_seed():
    s = RandomSampler(range(50))
    flambeau.manual_seed(7)
    first, second = list(s), list(s)
    flambeau.manual_seed(7)
    assert list(s) == first and list(s) == second
    assert first != second, "each epoch must draw a new order"


def test_subset_and_weighted_samplers():
    idx = [10, 20, 30, 40]
    out = list(SubsetRandomSampler(idx, generator=_g(1)))
    assert sorted(out) == idx and out == list(SubsetRandomSampler(idx, generator=_g(1)))
    assert len(SubsetRandomSampler(idx)) == 4

    w = WeightedRandomSampler([0.0, 1.0, 3.0], 200, generator=_g(0))
    draws = list(w)
    assert len(draws) == 200 and len(w) == 200 and 0 not in draws
    assert draws.count(2) > draws.count(1), "weight 3 must be drawn more often than weight 1"
    assert draws == list(WeightedRandomSampler([0.0, 1.0, 3.0], 200, generator=_g(0)))
    nor = list(WeightedRandomSampler([1.0, 1.0, 1.0, 1.0], 4, replacement=False, generator=_g(2)))
    assert sorted(nor) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        WeightedRandomSampler([[1.0, 2.0]], 2)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        WeightedRandomSampler([1.0], 0)
    with pytest.raises(ValueError, match="replacement should be a boolean"):
        WeightedRandomSampler([1.0], 1, replacement=None)


@pytest.mark.parametrize("n,bs,drop_last,expected_len", [
    (10, 3, False, 4), (10, 3, True, 3), (9, 3, True, 3), (2, 5, False, 1), (2, 5, True, 0),
])
def test_batch_sampler(n, bs, drop_last, expected_len):
    batches = list(BatchSampler(SequentialSampler(range(n)), bs, drop_last))
    assert len(batches) == expected_len == len(BatchSampler(range(n), bs, drop_last))
    assert all(len(b) == bs for b in batches[:-1])
    flat = _flat(batches)
    assert flat == list(range(len(flat)))
    if not drop_last:
        assert flat == list(range(n))


@pytest.mark.parametrize("bs,drop_last,match", [
    (0, False, "batch_size should be a positive integer"),
    (True, False, "batch_size should be a positive integer"),
    (2, 1, "drop_last should be a boolean"),
])
def test_batch_sampler_validation(bs, drop_last, match):
    with pytest.raises(ValueError, match=match):
        BatchSampler(range(3), bs, drop_last)


def test_sampler_base():
    with pytest.raises(NotImplementedError):
        iter(Sampler())


# ---------------------------------------------------------------------------
# DataLoader
# ---------------------------------------------------------------------------

def _dataset(n=10):
    return TensorDataset(flambeau.arange(float(2 * n)).reshape(n, 2), flambeau.arange(n))


def test_loader_sequential_batches(device):
    loader = DataLoader(_dataset(), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 == len(batches)
    x, y = batches[0]
    assert x.shape == (4, 2) and y.dtype is flambeau.int64 and str(x.device) == device
    assert _flat(b[1] for b in batches) == list(range(10))
    assert [len(b[1]) for b in DataLoader(_dataset(), batch_size=4, drop_last=True)] == [4, 4]
    assert len(DataLoader(_dataset(), batch_size=4, drop_last=True)) == 2
    assert to_numpy(batches[2][0]).tolist() == [[16.0, 17.0], [18.0, 19.0]]


def test_loader_shuffle_reproducible():
    ds = _dataset(30)

    def orders(loader, epochs=2):
        return [_flat(y for _, y in loader) for _ in range(epochs)]

    a = orders(DataLoader(ds, batch_size=7, shuffle=True, generator=_g(0)))
    b = orders(DataLoader(ds, batch_size=7, shuffle=True, generator=_g(0)))
    assert a == b
    assert sorted(a[0]) == list(range(30)) and a[0] != list(range(30))
    assert a[0] != a[1], "each epoch must be shuffled anew"
    assert orders(DataLoader(ds, batch_size=7, shuffle=True, generator=_g(1))) != a

    flambeau.manual_seed(123)
    c = orders(DataLoader(ds, batch_size=7, shuffle=True))
    flambeau.manual_seed(123)
    d = orders(DataLoader(ds, batch_size=7, shuffle=True))
    assert c == d and c[0] != c[1]


def test_loader_samplers_and_collate():
    ds = _dataset()
    loader = DataLoader(ds, batch_size=3, sampler=[9, 0, 4, 4])
    assert [y.tolist() for _, y in loader] == [[9, 0, 4], [4]]
    bs = DataLoader(ds, batch_sampler=[[1, 2], [5]])
    assert [y.tolist() for _, y in bs] == [[1, 2], [5]] and len(bs) == 2
    custom = DataLoader(ds, batch_size=4, collate_fn=lambda items: len(items))
    assert list(custom) == [4, 4, 2]
    # batch_size=None: samples one by one through default_convert
    single = list(DataLoader(ds, batch_size=None))
    assert len(single) == 10 and isinstance(single[0], list) and single[3][1].item() == 3
    arrays = list(DataLoader([np.float32(1.0), np.float32(2.0)], batch_size=None))
    assert arrays[0].dtype is flambeau.float32 and arrays[0].ndim == 0
    # dict samples and NumPy samples
    dicts = [{"x": np.full(2, i, np.float32), "label": i} for i in range(5)]
    out = next(iter(DataLoader(dicts, batch_size=5)))
    assert out["x"].shape == (5, 2) and out["label"].tolist() == [0, 1, 2, 3, 4]


class _Getitems(Dataset):
    """Records that whole batches are fetched through ``__getitems__``."""

    def __init__(self):
        self.calls = []

    def __getitem__(self, i):
        raise AssertionError("the loader should use __getitems__")

    def __getitems__(self, indices):
        self.calls.append(list(indices))
        return [float(i) for i in indices]

    def __len__(self):
        return 5


def test_loader_uses_getitems():
    ds = _Getitems()
    assert [b.tolist() for b in DataLoader(ds, batch_size=2)] == [[0.0, 1.0], [2.0, 3.0], [4.0]]
    assert ds.calls == [[0, 1], [2, 3], [4]]
    sub = Subset(ds, [4, 3])
    assert next(iter(DataLoader(sub, batch_size=2))).tolist() == [4.0, 3.0]


class _Stream(IterableDataset):
    def __init__(self, n, shard=False):
        self.n, self.shard = n, shard

    def __iter__(self):
        info = get_worker_info()
        if self.shard and info is not None:
            return iter(range(info.id, self.n, info.num_workers))
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_loader_iterable_dataset():
    assert [b.tolist() for b in DataLoader(_Stream(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(_Stream(7), batch_size=3, drop_last=True)] == \
        [[0, 1, 2], [3, 4, 5]]
    assert len(DataLoader(_Stream(10), batch_size=3)) == 4
    assert len(DataLoader(_Stream(10), batch_size=3, drop_last=True)) == 3
    assert list(DataLoader(_Stream(3), batch_size=None)) == [0, 1, 2]
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(_Stream(3), shuffle=True)
    with pytest.raises(ValueError, match="expected unspecified sampler option"):
        DataLoader(_Stream(3), sampler=[0])


def test_loader_num_workers_matches_in_process():
    ds = _dataset(25)
    ref = [y.tolist() for _, y in DataLoader(ds, batch_size=4, shuffle=True, generator=_g(5))]
    calls = []

    def init(worker_id):
        info = get_worker_info()
        calls.append((worker_id, info.id, info.num_workers))

    loader = DataLoader(ds, batch_size=4, shuffle=True, generator=_g(5), num_workers=3,
                        worker_init_fn=init, pin_memory=True, prefetch_factor=2,
                        persistent_workers=True)
    assert [y.tolist() for _, y in loader] == ref
    assert calls == [(0, 0, 1)]
    assert get_worker_info() is None, "worker info must not leak out of the loader"
    sharded = DataLoader(_Stream(8, shard=True), batch_size=3, num_workers=2)
    assert _flat(sharded) == list(range(8))


@pytest.mark.parametrize("kwargs,match", [
    (dict(num_workers=-1), "num_workers option should be non-negative"),
    (dict(timeout=-1), "timeout option should be non-negative"),
    (dict(prefetch_factor=2), "prefetch_factor option could only be specified"),
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
    (dict(sampler=[0], shuffle=True), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], drop_last=True), "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), "batch_size=None option disables auto-batching"),
])
def test_loader_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(_dataset(), **kwargs)


def test_loader_attributes_frozen():
    loader = DataLoader(_dataset(), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader"):
        loader.batch_size = 3
    loader.num_workers = 0  # other attributes may change
    it = iter(loader)
    assert len(it) == 5
    next(it)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(it)) == 4
