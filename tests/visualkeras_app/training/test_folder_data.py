"""A folder of images as a data set: the scan (classes, counts, sizes, modes, unreadable files), the held-out
split, the train/test layout, the errors; and ``visualkeras-app train --dataset FOLDER`` on MNIST PNGs."""
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from visualkeras_app.training.data import DatasetError, load_dataset, prepare
from visualkeras_app.training.folder_data import FolderError, load_folder, scan_folder


def image_folder(root, counts=None, size=(12, 10), mode="L", corrupt=True, jpeg_class=None):
    """``root/<class>/*.png`` with ``counts`` images per class, each image filled with its class number * 40
    (so a test can tell the label from the pixels); one JPEG class and one corrupt file when asked."""
    counts = counts or {"ant": 6, "bee": 6, "cat": 2}
    for k, (name, n) in enumerate(counts.items()):
        os.makedirs(root / name, exist_ok=True)
        for i in range(n):
            value = 40 * (k + 1)
            arr = np.full(size + ((3,) if mode == "RGB" else ()), value, np.uint8)
            ext = ".jpg" if name == jpeg_class else ".png"
            Image.fromarray(arr, mode).save(root / name / f"{i}{ext}")
    if corrupt:
        (root / list(counts)[0] / "broken.png").write_bytes(b"not a png at all")
    (root / list(counts)[0] / "notes.txt").write_text("ignored: not an image extension")
    return root


def test_scan_reports_classes_counts_size_mode_unreadable_and_imbalance(tmp_path):
    s = scan_folder(image_folder(tmp_path, jpeg_class="bee"))
    assert s.class_names == ["ant", "bee", "cat"] and s.counts == [6, 6, 2]
    assert s.image_size == (12, 10) and s.color_mode == "grayscale" and s.input_shape == (12, 10, 1)
    assert [os.path.basename(p) for p, _ in s.unreadable] == ["broken.png"]
    assert s.imbalanced() == ["cat"]
    text = " ".join(s.warnings())
    assert "Imbalanced classes: cat (2)" in text and "broken.png" in text
    assert len(s.samples["ant"]) == 6 and s.size_note() == "10x12"


def test_load_holds_out_each_class_and_keeps_pixels_and_labels(tmp_path):
    ds = load_dataset(str(image_folder(tmp_path)))
    assert ds.class_names == ["ant", "bee", "cat"] and ds.x_train.dtype == np.uint8
    assert ds.x_train.shape[1:] == (12, 10) and len(ds.x_train) + len(ds.x_test) == 14
    assert sorted(set(ds.y_test.tolist())) == [0, 1, 2]  # every class is in the test set, even the small one
    for x, y in ((ds.x_train, ds.y_train), (ds.x_test, ds.y_test)):
        assert np.array_equal(x[:, 0, 0], 40 * (y + 1))  # each image kept its label
    again = load_folder(str(tmp_path))
    assert np.array_equal(again.y_test, ds.y_test)  # the same seed, the same split


def test_colour_images_and_a_mixed_size_are_read_at_the_common_size(tmp_path):
    image_folder(tmp_path, {"a": 3, "b": 3}, size=(8, 8), mode="RGB", corrupt=False)
    Image.fromarray(np.zeros((16, 20, 3), np.uint8)).save(tmp_path / "a" / "big.png")
    s = scan_folder(tmp_path)
    assert s.color_mode == "rgb" and s.image_size == (8, 8) and "2 different sizes" in " ".join(s.warnings())
    ds = load_folder(str(tmp_path), summary=s)
    assert ds.x_train.shape[1:] == (8, 8, 3)
    p = prepare(ds, (None, 8, 8, 3), (None, 2), output_activation="softmax")
    assert p.x_train.dtype == np.float32 and p.x_train.max() <= 1.0


def test_a_train_test_layout_uses_the_test_folder(tmp_path):
    image_folder(tmp_path / "train", {"x": 4, "y": 5}, corrupt=False)
    image_folder(tmp_path / "test", {"x": 2, "y": 1}, corrupt=False)
    ds = load_folder(str(tmp_path))
    assert ds.class_names == ["x", "y"] and len(ds.x_train) == 9 and sorted(ds.y_test.tolist()) == [0, 0, 1]


@pytest.mark.parametrize("make,match", [
    (lambda p: None, "no subfolders"),
    (lambda p: os.makedirs(p / "only"), "only the subfolder 'only'"),
    (lambda p: [os.makedirs(p / c) for c in "ab"], "no readable images"),
])
def test_a_folder_that_is_not_a_data_set_is_refused_with_the_layout_to_use(tmp_path, make, match):
    make(tmp_path)
    with pytest.raises(DatasetError, match=match) as e:
        load_dataset(str(tmp_path))
    assert "subfolder" in str(e.value)


def test_a_folder_over_the_memory_limit_is_refused_before_reading(tmp_path, monkeypatch):
    image_folder(tmp_path, corrupt=False)
    monkeypatch.setenv("VISUALKERAS_MAX_DATA_BYTES", "100")
    with pytest.raises(FolderError, match="over the limit of 100"):
        load_folder(str(tmp_path))


@pytest.mark.slow
def test_cli_trains_on_a_folder_of_mnist_pngs(tmp_path):
    """The real CLI in a fresh Python: 3,000 PNGs of MNIST's test set, 20% held out; a sensible accuracy."""
    from engine.datasets import mnist

    _, (x, y) = mnist.load_data()
    folder = tmp_path / "digits"
    for i in range(3000):
        os.makedirs(folder / str(y[i]), exist_ok=True)
        Image.fromarray(x[i]).save(folder / str(y[i]) / f"{i:04d}.png")
    proc = subprocess.run([sys.executable, "-m", "visualkeras_app", "train", "mnist_fast_cnn", "--dataset",
                           str(folder), "--epochs", "2", "--batch-size", "16", "--progress", "lines"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "on digits: 2400 samples" in proc.stdout
    acc = float(proc.stdout.strip().splitlines()[-1].split(": ")[1])
    assert acc >= 0.85, proc.stdout
