"""fit() throughput on the second seed tutorial's CNN (MNIST shapes, batch 128, CPU).

Runs, in one process and interleaved (these machines are noisy):
  - a hand-written PyTorch loop of the same model (NCHW, torch.optim.Adadelta with Keras's
    hyperparameters, cross-entropy on softmax outputs, an accuracy count, shuffled batches): the
    reference all ratios are against,
  - the same loop in channels_last memory format (the layout engine keeps, as Keras does), which
    shows how much of any lead comes from the layout rather than from the loop,
  - engine's ``model.fit`` (verbose=0),
  - real Keras 3 on its torch backend, when installed (``--no-keras`` skips it).
Prints samples/s for each and the ratios against the hand-written loop.

    python bench/bench_fit_throughput.py [--samples 12800] [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "torch")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

BATCH = 128


def data(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]
    return x, y


class TorchCNN(torch.nn.Module):
    """The seed CNN: Conv2D(32, 3x3, relu) -> MaxPool 2 -> Dropout .25 -> Flatten -> Dense 128 relu ->
    Dropout .5 -> Dense 10 softmax."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 32, 3)
        self.fc1 = torch.nn.Linear(13 * 13 * 32, 128)
        self.fc2 = torch.nn.Linear(128, 10)

    def forward(self, x):  # x: (B, 1, 28, 28)
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        x = F.dropout(x, 0.25, self.training)
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        x = F.dropout(x, 0.5, self.training)
        return torch.softmax(self.fc2(x), dim=-1)


def run_torch(x, y, channels_last=False):
    model = TorchCNN()
    opt = torch.optim.Adadelta(model.parameters(), lr=1e-3, rho=0.95, eps=1e-7)
    xt = torch.from_numpy(x).permute(0, 3, 1, 2)  # an NCHW view of NHWC memory (channels_last)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    else:
        xt = xt.contiguous()
    yt = torch.from_numpy(y)
    model.train()
    t0 = time.perf_counter()
    perm = torch.randperm(len(xt))
    correct = torch.zeros(())
    for i in range(0, len(xt), BATCH):
        idx = perm[i:i + BATCH]
        xb, yb = xt[idx], yt[idx]
        p = model(xb)
        loss = -(yb * torch.log(p.clamp(1e-7, 1 - 1e-7))).sum(-1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        correct += (p.argmax(-1) == yb.argmax(-1)).sum()
    float(correct)
    return len(xt) / (time.perf_counter() - t0)


def build(lib):
    L = lib.layers
    model = lib.models.Sequential([
        L.Input((28, 28, 1)),
        L.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        L.MaxPooling2D(pool_size=(2, 2)),
        L.Dropout(0.25),
        L.Flatten(),
        L.Dense(128, activation="relu"),
        L.Dropout(0.5),
        L.Dense(10, activation="softmax"),
    ])
    model.compile(loss=lib.losses.categorical_crossentropy, optimizer=lib.optimizers.Adadelta(),
                  metrics=["accuracy"])
    return model


def run_lib(lib, x, y):
    model = build(lib)
    model.fit(x[:BATCH * 2], y[:BATCH * 2], batch_size=BATCH, epochs=1, verbose=0)  # warm-up
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    return len(x) / (time.perf_counter() - t0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=12800)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-keras", action="store_true")
    args = ap.parse_args(argv)

    import engine

    engine.backend.set_device("cpu")
    keras = None
    if not args.no_keras:
        try:
            import keras  # noqa: F811
        except Exception:  # Keras missing or failing to load: compared without it
            keras = None
    x, y = data(args.samples)
    run_torch(x[:BATCH * 2], y[:BATCH * 2])  # warm-up
    results = {"torch loop": [], "torch NHWC": [], "engine": [], "keras": []}
    for r in range(args.rounds):
        results["torch loop"].append(run_torch(x, y))
        results["torch NHWC"].append(run_torch(x, y, channels_last=True))
        results["engine"].append(run_lib(engine, x, y))
        if keras is not None:
            results["keras"].append(run_lib(keras, x, y))
    print(f"fit throughput, seed CNN, batch {BATCH}, {args.samples} samples x {args.rounds} rounds, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    ref = float(np.median(results["torch loop"]))
    for name, vals in results.items():
        if not vals:
            continue
        med = float(np.median(vals))
        print(f"  {name:11s} {med:9.0f} samples/s   ratio vs hand-written loop: {med / ref:.3f}x")


if __name__ == "__main__":
    main()
