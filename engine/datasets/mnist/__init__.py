"""MNIST handwritten digits (``keras.datasets.mnist``)."""
from __future__ import annotations

import os

from engine.datasets._loader import IDX_FILES, DatasetSpec, RemoteFile, load

_KERAS_MIRROR = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# torchvision's mirror of the original IDX files (yann.lecun.com no longer serves them reliably).
_IDX_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"
# SHA-256 of the original gz files (their MD5s are the ones published with MNIST).
_IDX_SHA256 = {
    "train-images-idx3-ubyte.gz": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
    "train-labels-idx1-ubyte.gz": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
    "t10k-images-idx3-ubyte.gz": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
    "t10k-labels-idx1-ubyte.gz": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
}

SPEC = DatasetSpec(
    name="mnist",
    title="MNIST",
    folders=("mnist",),
    keras_npz="mnist.npz",
    keras_folder=None,
    downloads=(
        (RemoteFile("mnist.npz", (_KERAS_MIRROR + "mnist.npz",),
                    "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1", 11490434),),
        tuple(RemoteFile(n, (_IDX_MIRROR + n,), *_IDX_SHA256[n]) for n in IDX_FILES),
    ),
    # The four original IDX files ship in this package's folder (LICENSE.txt beside them), so
    # MNIST loads on a computer without a network connection.
    packaged=os.path.dirname(os.path.abspath(__file__)),
)


def load_data(path="mnist.npz"):
    """Loads the MNIST dataset: 60,000 28x28 grayscale training images of the 10 digits and
    10,000 test images.

    The files are looked for under ``$VISUALKERAS_DATA`` (``mnist/`` with the four IDX
    ``.gz`` files, or ``mnist.npz``), then in the copy that ships with this package (checked
    against the published SHA-256 digests), in Keras's cache (``~/.keras/datasets/mnist.npz``),
    in this app's cache, and downloaded there if none has them.

    Args:
        path: Name of the file in Keras's cache (``~/.keras/datasets``), as in Keras.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays; x of shape (N, 28, 28) with
        pixels 0-255, y of shape (N,) with digits 0-9.

    Raises:
        FileNotFoundError: Not found and not downloadable; the message says where to put
            the files.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (60000, 28, 28)
    ```

    License: Yann LeCun and Corinna Cortes hold the copyright of MNIST, a derivative work of
    NIST's data sets, available under the Creative Commons Attribution-Share Alike 3.0 license.
    """
    return load(SPEC, keras_npz=path)
