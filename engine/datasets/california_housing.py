"""California house prices (``keras.datasets.california_housing``): 20,640 block groups of the 1990
census, 8 features each, the target the median house value in dollars."""
from __future__ import annotations

from engine.datasets import _npz

SHA256 = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"  # Keras's file_hash


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """Loads the California housing data set as Keras does (the same shuffle and split for ``seed``).

    Args:
        version: ``"large"`` (all 20,640 rows) or ``"small"`` (the first 600).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x float arrays (N, 8), y float arrays (N,).

    Raises:
        ValueError: an unknown ``version`` or ``test_split`` not in [0, 1).
        DatasetNotFoundError: not on this computer and not downloadable (the message says where to put it).
    """
    if version not in ("large", "small"):
        raise ValueError(f"version must be 'large' or 'small'. Received: version={version!r}")
    if not 0 <= test_split < 1:
        raise ValueError(f"test_split must be between 0 and 1 (1 excluded). Received: test_split={test_split}")
    f = _npz.read_npz(_npz.find_or_download(path, "california_housing.npz", SHA256, "california_housing"),
                      ["x", "y"])
    x, y = f["x"], f["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    (x_train, y_train), (x_test, y_test) = _npz.split(test_split, *_npz.shuffled(seed, x, y))
    return (x_train, y_train), (x_test, y_test)
