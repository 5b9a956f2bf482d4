"""Train a small CNN on scikit-learn's handwritten digits, then show transfer learning.

    python -m flambeau.examples.digits [--epochs 20] [--device cpu] [--seed 0] [--out runs/digits]

1. Trains a CNN (convolutions, pooling, batch norm, dropout) with a DataLoader and Adam on 80 %
   of the 1,797 8x8 digits, with tqdm progress bars, and reports the accuracy on the held-out
   20 % and the time per epoch.
2. Saves the model (safetensors) and a PNG of the training curves.
3. Transfer learning: pretrains the same network on digits 0-4 only and saves it; loads it into
   a new network, replaces the classifier's output layer, freezes the feature layers, and
   fine-tunes on digits 5-9 with only a few labelled examples per class; compares with the same
   network trained from scratch on those few labels.

Everything is deterministic for a given ``--seed`` on a given machine.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import flambeau
import flambeau.nn as nn
from flambeau.utils.data import DataLoader, TensorDataset


class DigitsCNN(nn.Module):
    """Two conv blocks (conv, batch norm, ReLU, max-pool) and a small MLP head."""

    def __init__(self, num_classes=10, dropout=0.25):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1),   # 16 x 8 x 8
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),                              # 16 x 4 x 4
            nn.Conv2d(16, 32, kernel_size=3, padding=1),  # 32 x 4 x 4
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),                              # 32 x 2 x 2
        )
        self.classifier = classifier_head(num_classes, dropout)

    def forward(self, x):
        return self.classifier(self.features(x))


def classifier_head(num_classes, dropout=0.25):
    """The MLP head on top of the 32 x 2 x 2 features."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(32 * 2 * 2, 64),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(64, num_classes),
    )


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------


def load_digits_tensors():
    """All 1,797 digits as (N, 1, 8, 8) float32 images in [0, 1] and int64 labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    # the data set lives on the CPU; batches move to the training device in run_epoch
    images = flambeau.tensor(d.images, dtype=flambeau.float32, device="cpu").unsqueeze(1) / 16.0
    labels = flambeau.tensor(d.target, dtype=flambeau.int64, device="cpu")
    return images, labels


def stratified_split(labels, test_fraction, generator):
    """Indices of a split that keeps each class's proportion in both parts."""
    train, test = [], []
    for c in range(int(labels.max()) + 1):
        idx = flambeau.nonzero(labels == c).squeeze(1)
        idx = idx[flambeau.randperm(len(idx), generator=generator, device="cpu")]
        n_test = round(len(idx) * test_fraction)
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return flambeau.cat(train), flambeau.cat(test)


def few_labels(labels, classes, per_class, generator):
    """``per_class`` random indices of each class in ``classes``."""
    out = []
    for c in classes:
        idx = flambeau.nonzero(labels == c).squeeze(1)
        out.append(idx[flambeau.randperm(len(idx), generator=generator, device="cpu")[:per_class]])
    return flambeau.cat(out)


# ---------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------


def run_epoch(model, loader, loss_fn, optimizer, device, desc, show_progress):
    """One pass over ``loader``; trains when ``optimizer`` is given. Returns (loss, accuracy)."""
    from tqdm import tqdm

    training = optimizer is not None
    total_loss, correct, seen = 0.0, 0, 0
    bar = tqdm(loader, desc=desc, leave=False, disable=not show_progress, file=sys.stdout,
               dynamic_ncols=True)
    with flambeau.set_grad_enabled(training):
        for x, y in bar:
            x, y = x.to(device), y.to(device)
            logits = model(x)
            loss = loss_fn(logits, y)
            if training:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            n = y.shape[0]
            total_loss += loss.item() * n
            correct += int((logits.argmax(1) == y).sum().item())
            seen += n
            bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{correct / seen:.3f}")
    return total_loss / seen, correct / seen


def evaluate(model, loader, loss_fn, device):
    model.eval()
    return run_epoch(model, loader, loss_fn, None, device, "eval", False)


def fit(model, train_loader, test_loader, epochs, lr, device, label, show_progress=True,
        params=None, frozen=None):
    """Train with Adam; returns per-epoch history. ``frozen`` modules stay in eval mode."""
    loss_fn = nn.CrossEntropyLoss()
    optimizer = flambeau.optim.Adam(params if params is not None else model.parameters(), lr=lr)
    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": [], "epoch_time": []}
    for epoch in range(1, epochs + 1):
        model.train()
        if frozen is not None:
            frozen.eval()  # frozen batch norm keeps its pretrained running statistics
        start = time.perf_counter()
        tr_loss, tr_acc = run_epoch(model, train_loader, loss_fn, optimizer, device,
                                    f"{label} epoch {epoch}/{epochs}", show_progress)
        elapsed = time.perf_counter() - start
        te_loss, te_acc = evaluate(model, test_loader, loss_fn, device)
        for k, v in zip(history, (tr_loss, tr_acc, te_loss, te_acc, elapsed)):
            history[k].append(v)
        if show_progress:
            print(f"{label} epoch {epoch:2d}/{epochs}: train loss {tr_loss:.4f} acc {tr_acc:.3f} | "
                  f"test loss {te_loss:.4f} acc {te_acc:.3f} | {elapsed:.2f} s/epoch", flush=True)
    return history


def plot_curves(history, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = range(1, len(history["train_loss"]) + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(epochs, history["train_loss"], label="train")
    ax1.plot(epochs, history["test_loss"], label="test")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("cross-entropy loss")
    ax1.set_title("Loss")
    ax1.legend()
    ax2.plot(epochs, history["train_acc"], label="train")
    ax2.plot(epochs, history["test_acc"], label="test")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy")
    ax2.set_title("Accuracy")
    ax2.legend()
    fig.suptitle("flambeau: CNN on scikit-learn digits")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ---------------------------------------------------------------------------
# the job
# ---------------------------------------------------------------------------


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=20, help="epochs of the main training run")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ... (default: cpu)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join("runs", "digits"), help="output folder")
    p.add_argument("--labels-per-class", type=int, default=20,
                   help="labelled examples per class for fine-tuning on digits 5-9")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--blas-threads", type=int, default=1,
                   help="BLAS threads for the CPU backend (default 1: these matrices are small, "
                        "and extra threads only add synchronisation; 0 keeps the library's default)")
    args = p.parse_args(argv)
    if args.blas_threads > 0:
        try:  # threadpoolctl comes with scikit-learn
            from threadpoolctl import threadpool_limits
        except ImportError:
            pass
        else:
            with threadpool_limits(limits=args.blas_threads, user_api="blas"):
                return _run(args)
    return _run(args)


def _run(args):

    device = flambeau.device(args.device)
    flambeau.backends.get_backend(device)  # fail early, naming the backends, if unusable
    flambeau.manual_seed(args.seed)
    gen = flambeau.Generator().manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    show = not args.quiet
    total_start = time.perf_counter()

    images, labels = load_digits_tensors()
    train_idx, test_idx = stratified_split(labels, 0.2, gen)
    train_set = TensorDataset(images[train_idx], labels[train_idx])
    test_set = TensorDataset(images[test_idx], labels[test_idx])
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, generator=gen)
    test_loader = DataLoader(test_set, batch_size=256)
    print(f"flambeau {flambeau.__version__} on {device} "
          f"({flambeau.backends.get_backend(device).name} backend): "
          f"{len(train_set)} training and {len(test_set)} held-out digits")

    # 1. train the classifier ------------------------------------------------
    model = DigitsCNN().to(device)
    history = fit(model, train_loader, test_loader, args.epochs, args.lr, device, "digits", show)
    test_acc = history["test_acc"][-1]
    per_epoch = sum(history["epoch_time"]) / len(history["epoch_time"])
    print(f"\nheld-out accuracy: {test_acc:.4f} ({round(test_acc * len(test_set))}/{len(test_set)}), "
          f"{per_epoch:.2f} s per epoch")

    # 2. save the model and the curves ---------------------------------------
    model_path = os.path.join(args.out, "digits_cnn.safetensors")
    flambeau.save(model.state_dict(), model_path)
    plot_path = os.path.join(args.out, "training_curves.png")
    plot_curves(history, plot_path)
    print(f"saved {model_path} and {plot_path}")

    # 3. transfer learning: pretrain on 0-4, fine-tune on 5-9 with few labels --
    print("\ntransfer learning: pretrain on digits 0-4, fine-tune on 5-9 with "
          f"{args.labels_per_class} labels per class")
    old = [c for c in range(5)]
    new = [c for c in range(5, 10)]
    tr_labels, te_labels = labels[train_idx], labels[test_idx]
    tr_old = train_idx[(tr_labels < 5)]
    te_old = test_idx[(te_labels < 5)]
    pre_loader = DataLoader(TensorDataset(images[tr_old], labels[tr_old]),
                            batch_size=args.batch_size, shuffle=True, generator=gen)
    pre_test = DataLoader(TensorDataset(images[te_old], labels[te_old]), batch_size=256)
    pretrained = DigitsCNN(num_classes=len(old)).to(device)
    pre_hist = fit(pretrained, pre_loader, pre_test, args.epochs, args.lr, device, "pretrain 0-4", show)
    pre_path = os.path.join(args.out, "pretrained_0to4.safetensors")
    flambeau.save(pretrained.state_dict(), pre_path)
    print(f"pretrained on 0-4: held-out accuracy {pre_hist['test_acc'][-1]:.4f}; saved {pre_path}")

    few = few_labels(tr_labels, new, args.labels_per_class, gen)
    few_idx = train_idx[few]
    te_new = test_idx[(te_labels >= 5)]
    # labels 5..9 become classes 0..4 of the new task
    few_set = TensorDataset(images[few_idx], labels[few_idx] - 5)
    new_test = DataLoader(TensorDataset(images[te_new], labels[te_new] - 5), batch_size=256)
    few_loader = DataLoader(few_set, batch_size=25, shuffle=True, generator=gen)
    fine_epochs = 30

    transfer = DigitsCNN(num_classes=len(old)).to(device)
    transfer.load_state_dict(flambeau.load(pre_path, map_location=device))
    transfer.classifier = classifier_head(len(new)).to(device)      # a new head for the new task
    transfer.features.requires_grad_(False)                         # freeze the feature layers
    trainable = [p for p in transfer.parameters() if p.requires_grad]
    tf_hist = fit(transfer, few_loader, new_test, fine_epochs, args.lr, device, "fine-tune 5-9",
                  False, params=trainable, frozen=transfer.features)

    scratch = DigitsCNN(num_classes=len(new)).to(device)
    sc_hist = fit(scratch, few_loader, new_test, fine_epochs, args.lr, device, "scratch 5-9", False)

    n_few = len(few_set)
    print(f"digits 5-9 with {n_few} labelled examples ({args.labels_per_class} per class), "
          f"{len(te_new)} held-out test digits; held-out accuracy after each epoch:")
    shown = [e for e in (1, 3, 10, fine_epochs) if e <= fine_epochs]
    print("  " + " " * 44 + "".join(f"{'epoch ' + str(e):>10s}" for e in shown))
    for name, hist in (("pretrained features (frozen) + new head", tf_hist),
                       ("same network trained from scratch", sc_hist)):
        print(f"  {name:44s}" + "".join(f"{hist['test_acc'][e - 1]:10.3f}" for e in shown))
    print(f"\ntotal time {time.perf_counter() - total_start:.1f} s")
    return {"test_acc": test_acc, "transfer_acc": tf_hist["test_acc"][-1],
            "scratch_acc": sc_hist["test_acc"][-1], "seconds_per_epoch": per_epoch}


if __name__ == "__main__":
    main()
