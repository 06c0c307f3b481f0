"""Boston house prices (``keras.datasets.boston_housing``): 506 suburbs of Boston in the 1970s, 13
features each, the target the median home value in thousands of dollars."""
from __future__ import annotations

from engine.datasets import _npz

SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"  # Keras's file_hash


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """Loads the Boston housing data set as Keras does (the same shuffle and split for the same ``seed``).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x float arrays (N, 13), y float arrays (N,).

    Raises:
        ValueError: ``test_split`` not in [0, 1).
        DatasetNotFoundError: not on this computer and not downloadable (the message says where to put it).
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"test_split must be between 0 and 1 (1 excluded). Received: test_split={test_split}")
    f = _npz.read_npz(_npz.find_or_download(path, "boston_housing.npz", SHA256, "boston_housing"), ["x", "y"])
    (x_train, y_train), (x_test, y_test) = _npz.split(test_split, *_npz.shuffled(seed, f["x"], f["y"]))
    return (x_train, y_train), (x_test, y_test)
