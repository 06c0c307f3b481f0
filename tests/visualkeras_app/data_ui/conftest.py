"""The real main window (training_ui's fixture) and image folders made on the fly."""
import os

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from tests.visualkeras_app.training_ui.conftest import (_offline_data, main_window, mnist_full,  # noqa: E402,F401
                                                        small_mnist)


def make_image_folder(root, counts=None, size=(12, 10), jpeg_class="bee", corrupt=True, seed=0):
    """``root/<class>/`` with ``counts`` images each (noise around a class brightness), PNG but one class as
    JPEG, a corrupt .png in the first class and a text file that is not an image."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    counts = counts or {"ant": 8, "bee": 8, "cat": 3}
    for k, (name, n) in enumerate(counts.items()):
        os.makedirs(root / name, exist_ok=True)
        for i in range(n):
            arr = np.clip(rng.normal(60 + 70 * k, 30, size), 0, 255).astype(np.uint8)
            Image.fromarray(arr, "L").save(root / name / f"{i}.{'jpg' if name == jpeg_class else 'png'}")
    if corrupt:
        (root / list(counts)[0] / "broken.png").write_bytes(b"\x89PNG but not really")
    (root / list(counts)[0] / "readme.txt").write_text("not an image")
    return root
