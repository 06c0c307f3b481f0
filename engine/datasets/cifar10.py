"""CIFAR-10: 60,000 32x32 colour images in 10 classes (``keras.datasets.cifar10``)."""
from __future__ import annotations

import numpy as np

from engine import backend
from engine.datasets import _cifar

SPEC = _cifar.CifarSpec(
    name="cifar10",
    title="CIFAR-10",
    archive="cifar-10-python.tar.gz",
    inner="cifar-10-batches-py",
    keras_name="cifar-10-batches-py-target",
    url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",               # Keras's origin
    sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",  # Keras's file_hash
    train=tuple(f"data_batch_{i}" for i in range(1, 6)),
    test=("test_batch",),
)

CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def load_data():
    """Loads the CIFAR-10 dataset: 50,000 training and 10,000 test 32x32 colour images of 10 classes
    (0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship, 9 truck).

    Looked for under ``$VISUALKERAS_DATA/cifar10/`` (the archive ``cifar-10-python.tar.gz`` or its
    ``cifar-10-batches-py/`` folder), in Keras's cache and in this app's cache, and otherwise
    downloaded from Keras's URL into this app's cache (checked against Keras's SHA-256). The
    batches are read without running any code stored in them.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x uint8 of shape (N, 32, 32, 3), y uint8 of
        shape (N, 1), as Keras.

    Raises:
        FileNotFoundError: Not found and not downloadable; the message says where to put the file.
    """
    (x_train, y_train), (x_test, y_test) = _cifar.load(SPEC, "labels", 10)
    y_train = np.asarray(y_train, dtype="uint8").reshape(-1, 1)
    y_test = np.asarray(y_test, dtype="uint8").reshape(-1, 1)
    if backend.image_data_format() == "channels_last":
        x_train, x_test = x_train.transpose(0, 2, 3, 1), x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)
