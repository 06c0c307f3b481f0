"""Train on a folder of PNGs made from Fashion-MNIST's test set, through the real CLI.

Writes the 10,000 test images as 28x28 PNGs, one subfolder per class (T-shirt_top/, Trouser/, ...),
then runs ``visualkeras-app train TEMPLATE --dataset FOLDER``, which holds 20% of each class out as
its test set and prints ``test_accuracy: ...`` at the end::

    python scripts/fashion_folder.py                      # mnist_fast_cnn, 5 epochs
    python scripts/fashion_folder.py --epochs 3 --folder /tmp/fashion_png --template seed_cnn

Fashion-MNIST is found where engine.datasets.fashion_mnist looks for it (Debian's
dataset-fashion-mnist package, Keras's cache, this app's cache) or downloaded once.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np


def make_folder(folder, x, y, class_names):
    """``folder/<class>/<index>.png`` for each image; the class names made safe for file names."""
    from PIL import Image

    safe = [n.replace("/", "_").replace(" ", "_") for n in class_names]
    for name in safe:
        os.makedirs(os.path.join(folder, name), exist_ok=True)
    for i, (img, label) in enumerate(zip(x, y)):
        Image.fromarray(np.asarray(img, np.uint8)).save(os.path.join(folder, safe[int(label)], f"{i:05d}.png"))
    return folder


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--folder", default=None, help="where to write the PNGs (default: a temporary folder)")
    p.add_argument("--template", default="mnist_fast_cnn")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64)
    args = p.parse_args(argv)

    from engine.datasets import fashion_mnist
    from visualkeras_app.training.data import FASHION_CLASSES

    _, (x_test, y_test) = fashion_mnist.load_data()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or os.path.join(tmp, "fashion_png")
        if not os.path.isdir(folder) or not os.listdir(folder):
            make_folder(folder, x_test, y_test, FASHION_CLASSES)
            print(f"wrote {len(x_test):,} PNGs to {folder}", flush=True)
        cmd = [sys.executable, "-m", "visualkeras_app", "train", args.template, "--dataset", folder,
               "--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--progress", "lines"]
        print("$ " + " ".join(cmd), flush=True)
        return subprocess.call(cmd)


if __name__ == "__main__":
    raise SystemExit(main())
