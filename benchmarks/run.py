"""Speed of flambeau side by side with PyTorch (CPU) and hand-written NumPy, as ratios.

    python benchmarks/run.py [--quick] [--device cpu]

Each case runs the same computation in each framework in this one process and reports the
median time per iteration and flambeau's ratio to the others (lower is better; < 1 means
flambeau is faster). PyTorch is optional: without it those columns are blank.
Tests never assert timing; this script is how speed is tracked.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import flambeau

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None


def timeit(fn, min_time=0.2, repeats=5):
    """Median seconds per call over ``repeats`` runs of at least ``min_time`` each."""
    fn()
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t
        if dt >= min_time / 4 or n > 1_000_000:
            break
        n *= 4
    n = max(1, int(n * (min_time / max(dt, 1e-9)) / 4))
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - t) / n)
    return statistics.median(runs)


# ---------------------------------------------------------------------------
# cases: each returns {"flambeau": fn, "torch": fn or None, "numpy": fn or None}
# ---------------------------------------------------------------------------


def case_op_overhead(dev):
    a = flambeau.ones(16, 16, device=dev)
    b = flambeau.ones(16, 16, device=dev)
    na, nb = np.ones((16, 16), np.float32), np.ones((16, 16), np.float32)
    fns = {"flambeau": lambda: a + b, "numpy": lambda: na + nb}
    if torch is not None:
        ta, tb = torch.ones(16, 16), torch.ones(16, 16)
        fns["torch"] = lambda: ta + tb
    return fns


def case_matmul_small_grad(dev):
    w = flambeau.randn(16, 16, device=dev, requires_grad=True)
    x = flambeau.randn(16, 16, device=dev)

    def fl():
        (x @ w).tanh().sum().backward()

    fns = {"flambeau": fl}
    if torch is not None:
        tw = torch.randn(16, 16, requires_grad=True)
        tx = torch.randn(16, 16)
        fns["torch"] = lambda: (tx @ tw).tanh().sum().backward()
    return fns


def case_matmul_large(dev):
    a = flambeau.randn(512, 512, device=dev)
    b = flambeau.randn(512, 512, device=dev)
    na, nb = a.cpu().numpy(), b.cpu().numpy()
    fns = {"flambeau": lambda: a @ b, "numpy": lambda: na @ nb}
    if torch is not None:
        ta, tb = torch.from_numpy(na.copy()), torch.from_numpy(nb.copy())
        fns["torch"] = lambda: ta @ tb
    return fns


def _train_step(model, opt, loss_fn, x, y):
    """A function that runs one optimizer step on ``loss_fn(model(x), y)``; flambeau and torch
    spell it the same."""
    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    return step


def case_mlp_train_step(dev):
    """One SGD step of a 64-128-10 MLP on a batch of 64 (forward, cross-entropy, backward)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 64)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    W1 = (rng.standard_normal((128, 64)) * 0.1).astype(np.float32)
    b1 = np.zeros(128, np.float32)
    W2 = (rng.standard_normal((10, 128)) * 0.1).astype(np.float32)
    b2 = np.zeros(10, np.float32)
    nn = flambeau.nn
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).to(dev)
    opt = flambeau.optim.SGD(model.parameters(), lr=0.01)
    xf, yf = flambeau.tensor(X, device=dev), flambeau.tensor(y, device=dev)
    fl = _train_step(model, opt, nn.CrossEntropyLoss(), xf, yf)
    params = [W1.copy(), b1.copy(), W2.copy(), b2.copy()]

    def np_step():
        w1, c1, w2, c2 = params
        h = X @ w1.T + c1
        r = np.maximum(h, 0)
        z = r @ w2.T + c2
        z = z - z.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        g = p
        g[np.arange(64), y] -= 1
        g /= 64
        gw2 = g.T @ r
        gc2 = g.sum(0)
        gr = g @ w2
        gh = gr * (h > 0)
        gw1 = gh.T @ X
        gc1 = gh.sum(0)
        for p_, g_ in zip(params, (gw1, gc1, gw2, gc2)):
            p_ -= 0.01 * g_

    fns = {"flambeau": fl, "numpy": np_step}
    if torch is not None:
        tm = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
        topt = torch.optim.SGD(tm.parameters(), lr=0.01)
        fns["torch"] = _train_step(tm, topt, torch.nn.CrossEntropyLoss(), torch.from_numpy(X),
                                   torch.from_numpy(y))
    return fns


def case_cnn_train_step(dev):
    """One Adam step of the digits CNN (flambeau.examples.digits) on a batch of 64."""
    from flambeau.examples.digits import DigitsCNN

    rng = np.random.default_rng(0)
    X = rng.random((64, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    model = DigitsCNN().to(dev)
    opt = flambeau.optim.Adam(model.parameters(), lr=1e-3)
    xf, yf = flambeau.tensor(X, device=dev), flambeau.tensor(y, device=dev)
    fns = {"flambeau": _train_step(model, opt, flambeau.nn.CrossEntropyLoss(), xf, yf)}
    if torch is not None:
        tn = torch.nn
        tm = tn.Sequential(
            tn.Conv2d(1, 16, 3, padding=1), tn.BatchNorm2d(16), tn.ReLU(), tn.MaxPool2d(2),
            tn.Conv2d(16, 32, 3, padding=1), tn.BatchNorm2d(32), tn.ReLU(), tn.MaxPool2d(2),
            tn.Flatten(), tn.Dropout(0.25), tn.Linear(128, 64), tn.ReLU(), tn.Dropout(0.25),
            tn.Linear(64, 10))
        topt = torch.optim.Adam(tm.parameters(), lr=1e-3)
        fns["torch"] = _train_step(tm, topt, tn.CrossEntropyLoss(), torch.from_numpy(X),
                                   torch.from_numpy(y))
    return fns


def case_conv2d_grad(dev):
    """conv2d 3x3, padding 1, 16 -> 32 channels on 64x16x4x4 (the digits CNN's second layer),
    forward and backward; NumPy: im2col + matmul by hand."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 16, 4, 4)).astype(np.float32)
    w = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
    xf = flambeau.tensor(x, device=dev, requires_grad=True)
    wf = flambeau.tensor(w, device=dev, requires_grad=True)
    conv = flambeau.nn.functional.conv2d

    def npy():
        xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        v = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))  # N C H W 3 3
        cols = v.transpose(1, 4, 5, 0, 2, 3).reshape(144, -1)
        y = w.reshape(32, 144) @ cols
        g = np.ones_like(y)
        gw = g @ cols.T
        dcols = (w.reshape(32, 144).T @ g).reshape(16, 3, 3, 64, 4, 4)
        gx = np.zeros((64, 16, 6, 6), np.float32)
        for i in range(3):
            for j in range(3):
                gx[:, :, i:i + 4, j:j + 4] += dcols[:, i, j].transpose(1, 0, 2, 3)
        return gw, gx

    fns = {"flambeau": lambda: conv(xf, wf, padding=1).sum().backward(), "numpy": npy}
    if torch is not None:
        tx = torch.from_numpy(x).requires_grad_()
        tw = torch.from_numpy(w).requires_grad_()
        fns["torch"] = lambda: torch.nn.functional.conv2d(tx, tw, padding=1).sum().backward()
    return fns


def case_max_pool_grad(dev):
    """max_pool2d 2x2 on 64x16x8x8, forward and backward."""
    x = np.random.default_rng(0).standard_normal((64, 16, 8, 8)).astype(np.float32)
    xf = flambeau.tensor(x, device=dev, requires_grad=True)
    pool = flambeau.nn.functional.max_pool2d
    fns = {"flambeau": lambda: pool(xf, 2).sum().backward()}
    if torch is not None:
        tx = torch.from_numpy(x).requires_grad_()
        fns["torch"] = lambda: torch.nn.functional.max_pool2d(tx, 2).sum().backward()
    return fns


CASES = {
    "elementwise add 16x16 (per-op overhead)": case_op_overhead,
    "matmul+tanh+sum fwd/bwd 16x16": case_matmul_small_grad,
    "matmul 512x512": case_matmul_large,
    "MLP 64-128-10 SGD step, batch 64": case_mlp_train_step,
    "digits CNN Adam step, batch 64": case_cnn_train_step,
    "conv2d 3x3 16->32, 64x16x4x4, fwd+bwd": case_conv2d_grad,
    "max_pool2d 2x2, 64x16x8x8, fwd+bwd": case_max_pool_grad,
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--quick", action="store_true", help="shorter timing runs")
    p.add_argument("-k", default="", help="only cases whose name contains this")
    args = p.parse_args(argv)
    if torch is not None:
        torch.set_num_threads(max(1, torch.get_num_threads()))
    min_time = 0.05 if args.quick else 0.2
    print(f"flambeau {flambeau.__version__} ({flambeau.backends.get_backend(args.device).name} on "
          f"{args.device}), numpy {np.__version__}, torch {torch.__version__ if torch else 'absent'}")
    head = f"{'case':44s} {'flambeau':>11s} {'torch':>11s} {'numpy':>11s} {'fl/torch':>9s} {'fl/numpy':>9s}"
    print(head)
    print("-" * len(head))
    for name, make in CASES.items():
        if args.k and args.k not in name:
            continue
        try:
            fns = make(args.device)
        except Exception as exc:  # a case whose layers are missing on this backend
            print(f"{name:44s} skipped: {type(exc).__name__}: {exc}")
            continue
        times = {k: timeit(f, min_time) for k, f in fns.items() if f is not None}
        cols = [_fmt_time(times, k) for k in ("flambeau", "torch", "numpy")]
        cols += [_fmt_ratio(times, k) for k in ("torch", "numpy")]
        print(f"{name:44s} " + " ".join(cols))


def _fmt_time(times, k):
    return f"{times[k] * 1e6:9.1f}us" if k in times else f"{'-':>11s}"


def _fmt_ratio(times, k):
    return f"{times['flambeau'] / times[k]:9.2f}" if k in times else f"{'-':>9s}"


if __name__ == "__main__":
    main()
