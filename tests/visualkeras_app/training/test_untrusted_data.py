"""Data files as a crash or an attacker writes them (issue 18, "Why" 5 and 7): limits checked before
memory is taken, labels checked, only regular files read, empty or degenerate sets refused with a
message before any training or evaluation."""
import contextlib
import os
import threading
import tracemalloc

import numpy as np
import pytest

from visualkeras_app.training.data import DatasetError, load_dataset


def write_csv(path, rows):
    path.write_text("".join(",".join(str(v) for v in row) + "\n" for row in rows))
    return path


def image_rows(n=20, pixels=16, classes=3):
    return [[i % classes] + [(i * 7 + j) % 256 for j in range(pixels)] for i in range(n)]


def test_a_wide_csv_is_parsed_straight_to_numbers(tmp_path):
    # 5,000 columns, 4 rows (40 KB): np.loadtxt(dtype=str) reserved ~200 MB of text cells for it.
    path = write_csv(tmp_path / "wide.csv", [[i % 2] + [1] * 4999 for i in range(4)])
    tracemalloc.start()
    try:
        ds = load_dataset(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert ds.x_train.shape[1:] == (4999,) and ds.x_train.dtype == np.float32
    assert peak < 30e6, f"{peak / 1e6:.0f} MB to read a 40 KB file"


def test_too_many_columns_are_refused_before_reading(tmp_path):
    path = write_csv(tmp_path / "wider.csv", [[0] + [1] * 70_000, [1] + [1] * 70_000])  # the limit: 65,536
    with pytest.raises(DatasetError, match="columns, more than"):
        load_dataset(path)


@pytest.mark.parametrize("label,match", [("nan", "label of sample 3 is nan"), ("inf", "label of sample 3 is inf"),
                                         ("1000000000000", "at most 100,000 classes")])
def test_bad_labels_are_refused_with_a_message(tmp_path, label, match):
    rows = image_rows()
    rows[3][0] = label
    with pytest.raises(DatasetError, match=match):
        load_dataset(write_csv(tmp_path / "data.csv", rows))


def test_a_npz_that_unpacks_beyond_the_limit_is_refused_before_loading(tmp_path, monkeypatch):
    path = tmp_path / "bomb.npz"
    zeros = np.zeros((3000, 28, 28), np.uint8)  # 2.4 MB of zeros: a few KB compressed
    np.savez_compressed(path, x_train=zeros, y_train=np.arange(3000) % 2, x_test=zeros[:10], y_test=np.arange(10) % 2)
    assert os.path.getsize(path) < 100_000
    monkeypatch.setenv("VISUALKERAS_MAX_DATA_BYTES", str(1 << 20))
    with pytest.raises(DatasetError, match="unpack to .* over the limit of 1,048,576"):
        load_dataset(path)
    monkeypatch.delenv("VISUALKERAS_MAX_DATA_BYTES")
    assert load_dataset(path).x_train.shape == (3000, 28, 28)


@contextlib.contextmanager
def fifo_at(path):
    os.mkfifo(path)
    done = threading.Event()

    def unblock():  # frees a reader stuck on the pipe after 10 s, so a failing test ends
        if not done.wait(10):
            with open(path, "w") as f:
                f.write("0,1\n1,2\n")

    threading.Thread(target=unblock, daemon=True).start()
    try:
        yield path
    finally:
        done.set()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("name", ["data.csv", "data.npz"])
def test_a_fifo_is_refused_at_once(tmp_path, name):
    with fifo_at(tmp_path / name) as path:
        with pytest.raises(DatasetError, match="not a regular file"):
            load_dataset(path)


def npz(path, x_train, y_train, x_test, y_test):
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


@pytest.mark.parametrize("case,match", [
    ("empty test", "the test set is empty"),
    ("empty train", "the training set is empty"),
    ("no features", "each needs at least one feature"),
    ("one class", "every label is the same class"),
    ("nan pixel", "training sample 2 holds a NaN"),
])
def test_empty_or_degenerate_sets_are_refused(tmp_path, case, match):
    x = np.random.default_rng(0).random((10, 4, 4)).astype(np.float32)
    y = np.arange(10) % 2
    args = {"empty test": (x, y, x[:0], y[:0]), "empty train": (x[:0], y[:0], x, y),
            "no features": (x[:, :0], y, x[:, :0], y), "one class": (x, y * 0, x, y * 0),
            "nan pixel": (np.where(np.arange(10)[:, None, None] == 2, np.nan, x), y, x, y)}[case]
    with pytest.raises(DatasetError, match=match):
        load_dataset(npz(tmp_path / "d.npz", *args))


def test_the_cli_refuses_an_empty_test_set_instead_of_reporting_accuracy(tmp_path, capsys):
    from visualkeras_app.cli import main

    x = np.random.default_rng(0).integers(0, 255, (20, 28, 28)).astype(np.uint8)
    y = np.arange(20) % 10
    path = npz(tmp_path / "d.npz", x, y, x[:0], y[:0])
    code = main(["train", "mnist_fast_cnn", "--dataset", os.fspath(path), "--epochs", "1"])
    out = capsys.readouterr()
    assert code != 0 and "test set is empty" in out.err and "test_accuracy" not in out.out
