"""Fashion-MNIST: Zalando's article images, a drop-in replacement for MNIST (``keras.datasets.fashion_mnist``)."""
from __future__ import annotations

from engine.datasets._loader import IDX_FILES, DatasetSpec, RemoteFile, load

_MIRRORS = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",  # where Keras downloads them
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
# SHA-256 and size of the published files (TensorFlow Datasets' checksums; the same files
# have the MD5s Zalando publishes, noted for whoever checks by hand).
_FILES = {
    "train-images-idx3-ubyte.gz": ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880),
    "train-labels-idx1-ubyte.gz": ("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515),
    "t10k-images-idx3-ubyte.gz": ("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102),
    "t10k-labels-idx1-ubyte.gz": ("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148),
}
MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}

SPEC = DatasetSpec(
    name="fashion_mnist",
    title="Fashion-MNIST",
    folders=("fashion_mnist", "fashion-mnist"),
    keras_npz=None,
    keras_folder="fashion-mnist",
    downloads=(tuple(RemoteFile(n, tuple(m + n for m in _MIRRORS), *_FILES[n]) for n in IDX_FILES),),
    # Debian's package recompresses the files (other digests, same images), so they are checked by
    # parsing, like any local copy.
    system_folders=(("/usr/share/datasets/fashion-mnist", "Debian and Ubuntu: apt install dataset-fashion-mnist"),),
)


def load_data():
    """Loads the Fashion-MNIST dataset: 60,000 28x28 grayscale training images of 10 kinds
    of clothing and 10,000 test images.

    The classes: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
    7 Sneaker, 8 Bag, 9 Ankle boot.

    The four IDX ``.gz`` files are looked for under ``$VISUALKERAS_DATA/fashion_mnist/``, in
    Keras's cache (``~/.keras/datasets/fashion-mnist/``), in this app's cache, where Debian's
    ``dataset-fashion-mnist`` package installs them (``/usr/share/datasets/fashion-mnist/``), and
    downloaded into this app's cache if none has them.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays; x of shape (N, 28, 28), y of
        shape (N,).

    Raises:
        FileNotFoundError: Not found and not downloadable; the message says where to put
            the files.

    License: copyright Zalando SE, MIT license.
    """
    return load(SPEC)
