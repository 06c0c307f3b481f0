"""The exported training script reads data with the app's guards (issue 18, "Why" 5 and 7): bad
labels, oversized or degenerate data sets are refused with its DataProblem message, not a KeyError, a
MemoryError or a test accuracy of 0."""
import os
import runpy

import numpy as np
import pytest

from visualkeras_app.document.templates import load_template
from visualkeras_app.export import export_model


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    path = tmp_path_factory.mktemp("script") / "train.py"
    export_model(load_template("seed_mlp"), path, format="train")
    return path


def functions(script):
    return runpy.run_path(os.fspath(script), run_name="exported_training_script")


def write_csv(path, rows):
    path.write_text("".join(",".join(str(v) for v in row) + "\n" for row in rows))
    return os.fspath(path)


@pytest.mark.parametrize("label,match", [("nan", "label of sample 3 is nan"),
                                         ("1000000000000", "at most 100,000 classes")])
def test_bad_labels_are_a_data_problem(script, tmp_path, label, match):
    ns = functions(script)
    rows = [[i % 3] + [(i * 7 + j) % 256 for j in range(16)] for i in range(20)]
    rows[3][0] = label
    with pytest.raises(ns["DataProblem"], match=match):
        ns["load_dataset"](write_csv(tmp_path / "data.csv", rows))


@pytest.mark.parametrize("case,match", [("empty test", "the test set is empty"),
                                        ("one class", "every label is the same class")])
def test_degenerate_sets_are_a_data_problem(script, tmp_path, case, match):
    ns = functions(script)
    x = np.random.default_rng(0).random((10, 4, 4)).astype(np.float32)
    y = np.arange(10) % 2
    args = {"empty test": (x, y, x[:0], y[:0]), "one class": (x, y * 0, x, y * 0)}[case]
    path = tmp_path / "d.npz"
    np.savez(path, x_train=args[0], y_train=args[1], x_test=args[2], y_test=args[3])
    with pytest.raises(ns["DataProblem"], match=match):
        ns["load_dataset"](os.fspath(path))


def test_a_npz_beyond_the_limit_is_a_data_problem(script, tmp_path, monkeypatch):
    path = tmp_path / "bomb.npz"
    zeros = np.zeros((3000, 28, 28), np.uint8)
    np.savez_compressed(path, x_train=zeros, y_train=np.arange(3000) % 2, x_test=zeros[:10], y_test=np.arange(10) % 2)
    monkeypatch.setenv("VISUALKERAS_MAX_DATA_BYTES", str(1 << 20))
    ns = functions(script)
    with pytest.raises(ns["DataProblem"], match="over the limit of 1,048,576"):
        ns["load_dataset"](os.fspath(path))
