"""BatchCurve keeps a bounded, faithful summary of any number of batches; RunList exports CSV."""
import csv
import math

import numpy as np
import pytest

from visualkeras_app.training.runs import BatchCurve, RunList, RunRecord
from visualkeras_app.training.settings import TrainSettings


def test_small_curves_keep_every_point():
    c = BatchCurve(("loss",), max_points=8, smoothing=0.0)
    for i in range(5):
        c.append(i, float(i * i))
    np.testing.assert_array_equal(c.steps(), [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(c.mean("loss"), [0, 1, 4, 9, 16])
    np.testing.assert_array_equal(c.smoothed("loss"), c.mean("loss"))  # no smoothing asked
    assert c.last("loss") == 16.0 and c.stride == 1


def test_a_million_batches_stay_bounded_and_faithful():
    rng = np.random.default_rng(0)
    values = rng.random(200_000)
    values[123_456] = 50.0  # a spike must survive decimation in the max envelope
    c = BatchCurve(("loss", "acc"), max_points=256)
    for i, v in enumerate(values):
        c.append(i, v, 1.0 - v)
    assert len(c) <= 256 and c.total == 200_000
    counts = np.diff(np.r_[0, np.cumsum([c.stride] * (len(c) - 1)), c.total])  # all full but maybe the last
    assert counts.sum() == c.total
    weights = np.full(len(c), float(c.stride))
    weights[-1] = c.total - c.stride * (len(c) - 1)
    assert np.sum(c.mean("loss") * weights) == pytest.approx(values.sum(), rel=1e-9)
    assert c.max("loss").max() == 50.0 and c.min("loss").min() == pytest.approx(values.min())
    assert np.all(np.diff(c.steps()) > 0) and c.steps()[0] < c.stride
    assert c.smoothed("loss")[-1] == pytest.approx(0.5, abs=0.1)


def test_ema_is_debiased_from_the_first_point():
    c = BatchCurve(("loss",), smoothing=0.9)
    c.append(0, 2.0)
    assert c.smoothed("loss")[-1] == pytest.approx(2.0)


def test_append_needs_one_value_per_key():
    with pytest.raises(ValueError, match="takes 2 values"):
        BatchCurve(("loss", "accuracy")).append(0, 1.0)
    with pytest.raises(ValueError, match="max_points=5"):
        BatchCurve(max_points=5)


def test_nan_stays_visible():
    c = BatchCurve(("loss",), max_points=4)
    for i, v in enumerate([1.0, math.nan, 1.0, 1.0, 1.0, 1.0]):
        c.append(i, v)
    assert np.isnan(c.max("loss")).any()


def test_run_list_csv_has_one_row_per_epoch_per_run(tmp_path):
    runs = RunList()
    a = runs.add(RunRecord(1, "first", TrainSettings(epochs=2), epochs=[
        {"epoch": 1, "loss": 0.5, "accuracy": 0.8}, {"epoch": 2, "loss": 0.25, "accuracy": 0.9}],
        test_loss=0.3, test_accuracy=0.91, duration_s=3.0, stopped_reason="finished", model="seed_cnn.vkproj"))
    runs.add(RunRecord(2, "second", TrainSettings(learning_rate=0.01), epochs=[
        {"epoch": 1, "loss": 0.4, "accuracy": 0.85, "val_loss": 0.45}], stopped_reason="stopped"))
    runs.add(RunRecord(3, "empty", TrainSettings()))
    path = runs.to_csv(tmp_path / "runs.csv")
    rows = list(csv.DictReader(open(path)))
    assert [(r["run_name"], r["epoch"]) for r in rows] == [("first", "1"), ("first", "2"), ("second", "1"),
                                                          ("empty", "")]
    assert rows[1]["loss"] == "0.25" and rows[1]["test_accuracy"] == "0.91" and rows[0]["epochs"] == "2"
    assert rows[0]["model"] == "seed_cnn.vkproj" and rows[3]["model"] == ""
    assert rows[2]["learning_rate"] == "0.01" and rows[2]["val_loss"] == "0.45" and rows[0]["val_loss"] == ""
    runs.remove(a)
    assert [r.name for r in runs] == ["second", "empty"] and runs.get(3).name == "empty"
    with pytest.raises(KeyError):
        runs.remove(1)
