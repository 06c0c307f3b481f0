"""fit() throughput across model families: engine vs a hand-written PyTorch loop (vs Keras 3 on torch).

For each family the same model is trained one epoch on the same random data, in one process, the
three runners alternating round by round (these machines are noisy), each after a warm-up:

  - "torch": an idiomatic hand-written PyTorch loop (a shuffled index per epoch, slices of
    preloaded tensors, logits with ``F.cross_entropy``, ``zero_grad(set_to_none=True)``, an accuracy
    count kept on the device and read once at the end): the reference every ratio is against;
  - "engine": ``model.compile(...)`` + ``model.fit(..., verbose=0)`` with metrics=["accuracy"];
  - "keras": the same code on real Keras 3 (torch backend), unless ``--no-keras``.

Families: the seed MLP (batch 32, SGD), an Embedding+LSTM text classifier, a BatchNorm CNN, a
small residual CNN and a small Transformer encoder (Adam). Prints samples/s and the median ratios; the issue's targets are engine >= 1.0x
the hand-written loop on every family and >= 3x Keras.

    python bench/bench_families.py [--rounds 5] [--scale 1.0] [--only mlp,lstm] [--no-keras] [--threads 1] [--jit] [--device cuda] [--clock cpu]
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
from torch import nn  # noqa: E402


# ----------------------------------------------------------------------------------------------- families
class Family:
    """One benchmark case: data, the Keras-API model (built with ``lib``), and the same model in torch."""

    name = ""
    batch = 32
    samples = 4096

    def data(self, n, rng):
        raise NotImplementedError

    def keras_model(self, lib):
        raise NotImplementedError

    def torch_model(self):
        raise NotImplementedError

    def optimizer(self, lib):
        return lib.optimizers.Adam(learning_rate=1e-3)

    def torch_optimizer(self, params):
        return torch.optim.Adam(params, lr=1e-3, eps=1e-7)  # Keras's epsilon


class MLP(Family):
    """The first seed tutorial: Dense(64, relu, input_dim=100) -> Dense(10, softmax), SGD, batch 32."""

    name, batch, samples = "seed MLP", 32, 8192

    def data(self, n, rng):
        return rng.random((n, 100), dtype=np.float32), rng.integers(0, 10, n)

    def keras_model(self, lib):
        L = lib.layers
        return lib.Sequential([L.Input((100,)), L.Dense(64, activation="relu"), L.Dense(10, activation="softmax")])

    def torch_model(self):
        return nn.Sequential(nn.Linear(100, 64), nn.ReLU(), nn.Linear(64, 10))

    def optimizer(self, lib):
        return lib.optimizers.SGD(learning_rate=0.01)

    def torch_optimizer(self, params):
        return torch.optim.SGD(params, lr=0.01)


class LSTMText(Family):
    """Embedding(10000, 64) -> LSTM(64) -> Dense(2, softmax) on sequences of 80 tokens, batch 64."""

    name, batch, samples = "Embedding+LSTM", 64, 1024

    def data(self, n, rng):
        return rng.integers(1, 10000, (n, 80)).astype(np.int64), rng.integers(0, 2, n)

    def keras_model(self, lib):
        L = lib.layers
        return lib.Sequential([L.Input((80,), dtype="int64"), L.Embedding(10000, 64), L.LSTM(64),
                               L.Dense(2, activation="softmax")])

    def torch_model(self):
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = nn.Embedding(10000, 64)
                self.lstm = nn.LSTM(64, 64, batch_first=True)
                self.fc = nn.Linear(64, 2)

            def forward(self, x):
                _, (h, _) = self.lstm(self.emb(x))
                return self.fc(h[-1])

        return Net()


class BNCNN(Family):
    """Conv(32)-BN-ReLU-Pool, Conv(64)-BN-ReLU-Pool, Flatten, Dense(10) on 28x28x1, batch 64."""

    name, batch, samples = "BatchNorm CNN", 64, 2048

    def data(self, n, rng):
        return rng.random((n, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, n)

    def keras_model(self, lib):
        L = lib.layers
        return lib.Sequential([
            L.Input((28, 28, 1)),
            L.Conv2D(32, 3, padding="same", use_bias=False), L.BatchNormalization(), L.ReLU(), L.MaxPooling2D(),
            L.Conv2D(64, 3, padding="same", use_bias=False), L.BatchNormalization(), L.ReLU(), L.MaxPooling2D(),
            L.Flatten(), L.Dense(10, activation="softmax"),
        ])

    def torch_model(self):
        return nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32, eps=1e-3, momentum=0.01), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64, eps=1e-3, momentum=0.01), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(7 * 7 * 64, 10),
        )


class ResNet(Family):
    """A small residual CNN: stem Conv(32), two residual blocks (Conv-BN-ReLU-Conv-BN + skip, ReLU),
    global average pooling, Dense(10), on 32x32x3, batch 64."""

    name, batch, samples = "residual CNN", 64, 1024

    def data(self, n, rng):
        return rng.random((n, 32, 32, 3), dtype=np.float32), rng.integers(0, 10, n)

    def keras_model(self, lib):
        L = lib.layers
        inp = L.Input((32, 32, 3))
        x = L.Conv2D(32, 3, padding="same", activation="relu")(inp)
        for _ in range(2):
            y = L.Conv2D(32, 3, padding="same", use_bias=False)(x)
            y = L.ReLU()(L.BatchNormalization()(y))
            y = L.BatchNormalization()(L.Conv2D(32, 3, padding="same", use_bias=False)(y))
            x = L.ReLU()(L.Add()([x, y]))
        out = L.Dense(10, activation="softmax")(L.GlobalAveragePooling2D()(x))
        return lib.Model(inp, out)

    def torch_model(self):
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.c1 = nn.Conv2d(32, 32, 3, padding=1, bias=False)
                self.b1 = nn.BatchNorm2d(32, eps=1e-3, momentum=0.01)
                self.c2 = nn.Conv2d(32, 32, 3, padding=1, bias=False)
                self.b2 = nn.BatchNorm2d(32, eps=1e-3, momentum=0.01)

            def forward(self, x):
                return F.relu(x + self.b2(self.c2(F.relu(self.b1(self.c1(x))))))

        return nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), Block(), Block(),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))


class Transformer(Family):
    """A small Transformer encoder block on 32 tokens: Embedding(1000, 64), self-attention (4 heads of
    16) + skip + LayerNorm, feed-forward Dense(128, relu) -> Dense(64) + skip + LayerNorm, global
    average pooling, Dense(2, softmax); batch 64."""

    name, batch, samples = "Transformer", 64, 1024

    def data(self, n, rng):
        return rng.integers(0, 1000, (n, 32)).astype(np.int64), rng.integers(0, 2, n)

    def keras_model(self, lib):
        L = lib.layers
        inp = L.Input((32,), dtype="int64")
        x = L.Embedding(1000, 64)(inp)
        a = L.MultiHeadAttention(num_heads=4, key_dim=16)(x, x)
        x = L.LayerNormalization(epsilon=1e-5)(L.Add()([x, a]))
        f = L.Dense(64)(L.Dense(128, activation="relu")(x))
        x = L.LayerNormalization(epsilon=1e-5)(L.Add()([x, f]))
        out = L.Dense(2, activation="softmax")(L.GlobalAveragePooling1D()(x))
        return lib.Model(inp, out)

    def torch_model(self):
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = nn.Embedding(1000, 64)
                self.att = nn.MultiheadAttention(64, 4, batch_first=True)
                self.n1, self.n2 = nn.LayerNorm(64), nn.LayerNorm(64)
                self.ff = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64))
                self.fc = nn.Linear(64, 2)

            def forward(self, t):
                x = self.emb(t)
                x = self.n1(x + self.att(x, x, x, need_weights=False)[0])
                x = self.n2(x + self.ff(x))
                return self.fc(x.mean(1))

        return Net()


FAMILIES = {"mlp": MLP, "lstm": LSTMText, "bncnn": BNCNN, "resnet": ResNet, "transformer": Transformer}


# ----------------------------------------------------------------------------------------------- runners
DEVICE = torch.device("cpu")  # --device
clock = time.perf_counter  # --clock cpu: time.process_time (the process's CPU seconds, blind to neighbours)


def run_torch(fam, x, y):
    """One epoch of the idiomatic hand-written loop; samples/s. On a GPU the data sits on it first (as
    the engine puts in-memory data there once), and the closing read of the hit count synchronizes."""
    model = fam.torch_model().to(DEVICE)
    if x.ndim == 4:  # images: NHWC in memory, read as NCHW (channels_last), as Keras-style code keeps them
        model = model.to(memory_format=torch.channels_last)
        xt = torch.from_numpy(x).to(DEVICE).permute(0, 3, 1, 2)
    else:
        xt = torch.from_numpy(x).to(DEVICE)
    yt = torch.from_numpy(y).to(DEVICE)
    opt = fam.torch_optimizer(model.parameters())
    model.train()
    t0 = clock()
    perm = torch.randperm(len(xt), device=DEVICE)
    correct = torch.zeros((), dtype=torch.int64, device=DEVICE)
    for i in range(0, len(xt), fam.batch):
        idx = perm[i:i + fam.batch]
        xb, yb = xt[idx], yt[idx]
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        correct += (logits.detach().argmax(-1) == yb).sum()
    int(correct)
    return len(xt) / (clock() - t0)


def run_lib(lib, fam, x, y, **compile_kwargs):
    """One epoch of compile + fit(verbose=0) with Keras's API (engine or Keras); samples/s. The
    warm-up fit is off the clock (with jit_compile=True it is where torch.compile compiles)."""
    model = fam.keras_model(lib)
    model.compile(optimizer=fam.optimizer(lib), loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  **compile_kwargs)
    model.fit(x[:fam.batch * 2], y[:fam.batch * 2], batch_size=fam.batch, epochs=1, verbose=0)  # build, warm up
    t0 = clock()
    model.fit(x, y, batch_size=fam.batch, epochs=1, verbose=0)  # fit reads its logs back: synchronized
    return len(x) / (clock() - t0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply each family's sample count")
    ap.add_argument("--only", default="", help="comma-separated families: " + ",".join(FAMILIES))
    ap.add_argument("--no-keras", action="store_true")
    ap.add_argument("--jit", action="store_true",
                    help="also run the engine with compile(jit_compile=True), reported separately (compiling is "
                         "in the warm-up, off the clock; it takes minutes per family on a busy CPU)")
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda: the engine and the torch loop on it "
                                                     "(Keras keeps its own device choice; use --no-keras there)")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="wall (default) or cpu: CPU seconds of this process with one thread, which a busy shared "
                         "machine disturbs far less than wall time")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch.set_num_threads for every runner (1 gives stabler ratios on a shared machine)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    import engine

    global DEVICE, clock
    DEVICE = torch.device(args.device)
    if args.clock == "cpu":
        if DEVICE.type != "cpu":
            ap.error("--clock cpu measures CPU seconds: use it with --device cpu")
        torch.set_num_threads(1)  # one thread: CPU seconds are the work done, whatever the machine's load
        clock = time.process_time
    engine.backend.set_device(args.device)
    keras = None
    if not args.no_keras:
        try:
            import keras  # noqa: F811
        except ImportError:
            keras = None
    names = [n for n in args.only.split(",") if n] or list(FAMILIES)
    print(f"fit throughput on {DEVICE} ({args.clock} clock), one epoch per run, {args.rounds} rounds alternating, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.2f}")
    summary = []
    for key in names:
        fam = FAMILIES[key]()
        rng = np.random.default_rng(0)
        x, y = fam.data(max(fam.batch, int(fam.samples * args.scale)), rng)
        run_torch(fam, x[:fam.batch * 2], y[:fam.batch * 2])  # warm-up
        runners = {"torch": lambda: run_torch(fam, x, y), "engine": lambda: run_lib(engine, fam, x, y)}
        if args.jit:
            runners["jit"] = lambda: run_lib(engine, fam, x, y, jit_compile=True)
        if keras is not None:
            runners["keras"] = lambda: run_lib(keras, fam, x, y)
        results = {k: [] for k in runners}
        ratios = {k: [] for k in runners}
        for _ in range(args.rounds):
            got = {k: run() for k, run in runners.items()}
            for k, v in got.items():
                results[k].append(v)
                ratios[k].append(v / got["torch"])  # per round: both saw the same moment's load
        print(f"{fam.name} (batch {fam.batch}, {len(x)} samples):")
        for k in runners:
            print(f"  {k:7s} {np.median(results[k]):9.0f} samples/s   vs torch: median {np.median(ratios[k]):.3f}x"
                  f"  (rounds {', '.join(f'{r:.2f}' for r in ratios[k])})")
        row = {"family": fam.name, "engine/torch": float(np.median(ratios["engine"]))}
        if args.jit:
            row["jit/torch"] = float(np.median(ratios["jit"]))
        if keras is not None:
            row["engine/keras"] = float(np.median(results["engine"]) / np.median(results["keras"]))
        summary.append(row)
    print("summary (median ratios; targets: engine/torch >= 1.0, engine/keras >= 3.0):")
    for row in summary:
        extra = f"   engine/keras {row['engine/keras']:.2f}x" if "engine/keras" in row else ""
        extra += f"   jit_compile=True/torch {row['jit/torch']:.3f}x" if "jit/torch" in row else ""
        print(f"  {row['family']:16s} engine/torch {row['engine/torch']:.3f}x{extra}")


if __name__ == "__main__":
    main()
