"""CIFAR-100: 60,000 32x32 colour images in 100 classes, grouped in 20 superclasses
(``keras.datasets.cifar100``)."""
from __future__ import annotations

import numpy as np

from engine import backend
from engine.datasets import _cifar

SPEC = _cifar.CifarSpec(
    name="cifar100",
    title="CIFAR-100",
    archive="cifar-100-python.tar.gz",
    inner="cifar-100-python",
    keras_name="cifar-100-python-target",
    url="https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",              # Keras's origin
    sha256="85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",  # Keras's file_hash
    train=("train",),
    test=("test",),
)


def load_data(label_mode="fine"):
    """Loads the CIFAR-100 dataset: 50,000 training and 10,000 test 32x32 colour images.

    Args:
        label_mode: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses).

    Found and downloaded as ``engine.datasets.cifar10.load_data`` (``$VISUALKERAS_DATA/cifar100/``,
    ``cifar-100-python.tar.gz`` or its ``cifar-100-python/`` folder).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x uint8 of shape (N, 32, 32, 3), y of shape
        (N, 1) (int64, as Keras returns them).

    Raises:
        ValueError: ``label_mode`` is neither ``"fine"`` nor ``"coarse"``.
        FileNotFoundError: Not found and not downloadable; the message says where to put the file.
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f'`label_mode` must be one of `"fine"`, `"coarse"`. Received: label_mode={label_mode}.')
    (x_train, y_train), (x_test, y_test) = _cifar.load(SPEC, f"{label_mode}_labels",
                                                         100 if label_mode == "fine" else 20)
    y_train = np.asarray(y_train, dtype="int64").reshape(-1, 1)
    y_test = np.asarray(y_test, dtype="int64").reshape(-1, 1)
    if backend.image_data_format() == "channels_last":
        x_train, x_test = x_train.transpose(0, 2, 3, 1), x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)
