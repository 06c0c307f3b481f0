"""Peak resident memory of one-click MNIST training against a hand-written PyTorch loop (issue 17, item 6).

Each run is a fresh Python process, so that nothing one leaves behind counts in the other:

  - "one-click": ``TrainingSession`` on the recipe (the ``mnist_fast_cnn`` template, its settings), exactly
    as the app and ``visualkeras-app train`` run it: the engine, the app's training modules, MNIST loaded
    and prepared by them, the test-set evaluation at the end (predictions, confusion matrix);
  - "hand-written": the same network in plain ``torch.nn`` (``bench_mnist_fast.reference_model``) trained
    by ``bench_mnist_fast``'s reference loop, in a process that imports only NumPy and PyTorch and reads
    the four IDX files itself (no engine), then its test accuracy.

Both train the same number of samples with the same batch size. Each process reports its peak resident
set size (``VmHWM`` in /proc/self/status, the same number as ``ru_maxrss``), and its resident size just
before training (imports and data). Prints the medians over ``--repeat`` alternating pairs and the ratio
one-click / hand-written (target: at most 1.3x).

    python bench/bench_memory.py [--repeat 3] [--max-train-samples N] [--threads N]
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = 1.3


def _status_kib(key):
    """A ``VmHWM``/``VmRSS`` line of /proc/self/status in KiB (None where there is no /proc)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _peak_mib():
    hwm = _status_kib("VmHWM")
    if hwm is not None:
        return hwm / 1024
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def _rss_mib():
    rss = _status_kib("VmRSS")
    return rss / 1024 if rss is not None else float("nan")


def _read_idx(path):
    import numpy as np

    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def child_hand_written(args):
    """The plain PyTorch loop, in a process without the engine."""
    import numpy as np
    import torch

    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import bench_mnist_fast as bm  # NumPy and torch only at its top

    if args.threads:
        torch.set_num_threads(args.threads)
    folder = os.path.join(ROOT, "engine", "datasets", "mnist")

    class Data:
        x_train = _read_idx(os.path.join(folder, "train-images-idx3-ubyte.gz"))
        y_train = _read_idx(os.path.join(folder, "train-labels-idx1-ubyte.gz"))
        x_test = _read_idx(os.path.join(folder, "t10k-images-idx3-ubyte.gz"))
        y_test = _read_idx(os.path.join(folder, "t10k-labels-idx1-ubyte.gz"))

    before = _rss_mib()
    ns = argparse.Namespace(seed=0, device="cpu", max_train_samples=args.max_train_samples,
                            reference_lr=bm.REFERENCE_LR,
                            reference_batch_size=args.batch_size, epochs=1)  # both at one batch size
    t = time.perf_counter()
    train_s, rows = bm.run_reference(ns, Data, [])
    assert "engine" not in sys.modules, "the hand-written run must not import the engine"
    return {"before_mib": before, "peak_mib": _peak_mib(), "train_s": train_s, "total_s": time.perf_counter() - t,
            "test_accuracy": rows[-1][2], "np": np.__version__}


def child_one_click(args):
    """The app's one-click run: TrainingSession on the recipe."""
    import torch

    sys.path.insert(0, ROOT)
    from visualkeras_app.training.data import load_dataset
    from visualkeras_app.training.recipe import build_template_model, one_click_session, one_click_settings

    if args.threads:
        torch.set_num_threads(args.threads)
    settings = one_click_settings(max_train_samples=args.max_train_samples, batch_size=args.batch_size,
                                  learning_rate=args.lr)
    dataset = load_dataset("mnist")
    session = one_click_session(build_template_model(seed=settings.seed), settings, dataset=dataset)
    before = _rss_mib()
    t = time.perf_counter()
    record = session.run()
    if session.error is not None:
        raise session.error
    return {"before_mib": before, "peak_mib": _peak_mib(), "train_s": record.duration_s,
            "total_s": time.perf_counter() - t, "test_accuracy": record.test_accuracy}


def run_child(kind, args):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", kind, "--batch-size", str(args.batch_size)]
    if args.max_train_samples:
        cmd += ["--max-train-samples", str(args.max_train_samples)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if args.lr is not None:
        cmd += ["--lr", repr(args.lr)]
    env = dict(os.environ, KERAS_BACKEND="torch", PYTHONPATH=ROOT)
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"the {kind} process failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=3, help="alternating pairs of processes")
    p.add_argument("--max-train-samples", type=int, default=None, help="train on the first N images (default: all)")
    p.add_argument("--batch-size", type=int, default=None, help="default: the recipe's")
    p.add_argument("--lr", type=float, default=None, help="default: the recipe's")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--child", choices=["one-click", "hand-written"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.batch_size is None or args.lr is None:
        sys.path.insert(0, ROOT)
        if args.child == "hand-written":  # the recipe's numbers without importing the engine here
            raise SystemExit("internal: the parent passes --batch-size and --lr")
        from visualkeras_app.training.recipe import one_click_settings

        s = one_click_settings()
        args.batch_size = args.batch_size or s.batch_size
        args.lr = args.lr if args.lr is not None else s.learning_rate
    if args.child:
        result = child_one_click(args) if args.child == "one-click" else child_hand_written(args)
        print(json.dumps(result))
        return 0
    import statistics

    print(f"peak resident memory, one fresh process per run: batch {args.batch_size}, "
          f"{args.max_train_samples or 'all 60,000'} training images, load average {os.getloadavg()[0]:.2f}")
    runs = {"one-click": [], "hand-written": []}
    for r in range(args.repeat):
        for kind in runs:
            res = run_child(kind, args)
            runs[kind].append(res)
            print(f"  {kind:>12}: peak {res['peak_mib']:7.1f} MiB (before training {res['before_mib']:6.1f} MiB), "
                  f"training {res['train_s']:5.1f} s, test_accuracy {res['test_accuracy']:.4f}", flush=True)
    med = {k: statistics.median(x["peak_mib"] for x in v) for k, v in runs.items()}
    ratio = med["one-click"] / med["hand-written"]
    print(f"median peak: one-click {med['one-click']:.1f} MiB, hand-written {med['hand-written']:.1f} MiB; "
          f"ratio {ratio:.2f}x (target <= {TARGET}x): {'PASS' if ratio <= TARGET else 'FAIL'}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
