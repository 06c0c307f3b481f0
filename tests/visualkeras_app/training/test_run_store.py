"""Runs saved with a project: what is saved comes back (settings, epoch logs, per-batch curves, test results),
older projects without runs still open, and a hostile project's runs are refused with a message naming the
value, never a traceback."""
import json
import math

import numpy as np
import pytest

from visualkeras_app.document.graph import Document, LayerNode
from visualkeras_app.document.project import ProjectError, load_project, save_project
from visualkeras_app.training.run_store import MAX_RUNS, SAVED_POINTS, run_from_data, run_to_data, runs_from_data
from visualkeras_app.training.runs import BATCH_KEYS, BatchCurve, RunRecord
from visualkeras_app.training.settings import TrainSettings


def a_run(n=300, name="run 1", nb=100):
    curve = BatchCurve(BATCH_KEYS)
    rng = np.random.default_rng(0)
    for i in range(n):
        acc = math.nan if i == 5 else 0.5 + i / (2 * n)
        curve.append(i, 2.0 / (1 + i) + rng.random() * 0.01, acc, 1e-3 * (1 - i / n), (i + 1) / nb, 0.05 * i)
    rec = RunRecord(7, name, TrainSettings(epochs=3, batch_size=32, learning_rate=0.003), batches=curve)
    rec.epochs = [{"epoch": e + 1, "loss": 1.0 / (e + 1), "accuracy": 0.9, "val_loss": 1.1 / (e + 1)} for e in range(3)]
    rec.test_loss, rec.test_accuracy, rec.duration_s, rec.stopped_reason = 0.2, 0.95, 12.5, "finished"
    rec.model, rec.architecture = "mnist.vkproj", "0123456789ab"
    return rec


def test_a_run_round_trips_through_json():
    rec = a_run()
    back = run_from_data(json.loads(json.dumps(run_to_data(rec), allow_nan=False)))
    assert back.id != rec.id  # a new id in this session
    for attr in ("name", "model", "architecture", "epochs", "test_loss", "test_accuracy", "duration_s",
                 "stopped_reason", "started_at"):
        assert getattr(back, attr) == getattr(rec, attr), attr
    assert back.settings == rec.settings
    c, b = rec.batches, back.batches
    assert b.keys == c.keys and b.total == c.total == 300
    np.testing.assert_allclose(b.steps(), c.steps())
    for key in ("loss", "lr", "epoch", "time"):
        np.testing.assert_allclose(b.mean(key), c.mean(key))
        np.testing.assert_allclose(b.min(key), c.min(key))
    assert np.isnan(b.min("accuracy")[5]) and np.isnan(c.min("accuracy")[5])  # NaN kept (as null in JSON)


def test_long_curves_are_merged_to_the_saved_size():
    rec = a_run(n=3000)
    state = run_to_data(rec)["batches"]
    assert len(state["x"]) <= SAVED_POINTS and sum(state["count"]) == 3000
    back = run_from_data(run_to_data(rec))
    c, b = rec.batches, back.batches
    # Merged means keep the overall mean; min/max keep the extremes.
    assert (b.mean("loss") * b.counts()).sum() == pytest.approx((c.mean("loss") * c.counts()).sum())
    assert back.batches.max("loss").max() == pytest.approx(rec.batches.max("loss").max())  # spikes kept


def test_a_project_saves_and_reopens_its_runs(tmp_path):
    doc = Document()
    doc.add_node(LayerNode("n1", "Dense", "dense", {"units": 3}, (0.0, 0.0)))
    doc.runs = [a_run(name="run 1"), a_run(name="run 2")]
    path = tmp_path / "p.vkproj"
    save_project(doc, path)
    again = load_project(path)
    assert [r.name for r in again.runs] == ["run 1", "run 2"]
    assert again.runs[1].test_accuracy == 0.95 and again.runs[1].batches.total == 300
    # An older project (no "runs") opens with none.
    data = json.loads(path.read_text())
    del data["runs"]
    path.write_text(json.dumps(data))
    assert load_project(path).runs == []


@pytest.mark.parametrize("change, message", [
    (lambda r: r.update(test_accuracy=7.0), "test_accuracy is 7.0"),
    (lambda r: r.update(duration_s="long"), "duration_s is 'long'"),
    (lambda r: r.update(name=["x"]), "name is not a text"),
    (lambda r: r.update(settings={"epochs": -1}), "bad settings: epochs"),
    (lambda r: r.update(epochs=[{"loss": "NaN"}]), "loss is 'NaN'"),
    (lambda r: r.update(epochs=[{"x" * 100: 1.0}]), "malformed log name"),
    (lambda r: r["batches"]["values"]["loss"].update(mean=r["batches"]["values"]["loss"]["mean"][:-1]),
     "values of 'loss'"),
    (lambda r: r["batches"].update(x=r["batches"]["x"][:-1]), "bucket counts"),
    (lambda r: r["batches"].update(count=[0] * len(r["batches"]["count"])), "bucket counts"),
    (lambda r: r["batches"].update(x=[0.0] * 5000), "at most 4096"),
    (lambda r: r["batches"]["values"]["loss"].update(mean=[1e400] * len(r["batches"]["x"])), "not a finite"),
    (lambda r: r["batches"].update(keys="loss"), "malformed keys"),
    (lambda r: r.update(batches=None), "not an object"),
])
def test_hostile_runs_are_refused_with_the_value_named(tmp_path, change, message):
    doc = Document()
    doc.add_node(LayerNode("n1", "Dense", "dense", {"units": 3}, (0.0, 0.0)))
    doc.runs = [a_run()]
    path = tmp_path / "p.vkproj"
    save_project(doc, path)
    data = json.loads(path.read_text())
    change(data["runs"][0])
    path.write_text(json.dumps(data))
    with pytest.raises(ProjectError, match="Cannot open .*p.vkproj") as info:
        load_project(path)
    assert message in str(info.value)


def test_too_many_runs_or_a_non_list_is_refused():
    with pytest.raises(ValueError, match=f"over the limit of {MAX_RUNS}"):
        runs_from_data([{}] * (MAX_RUNS + 1))
    with pytest.raises(ValueError, match="'runs' entry is not a list"):
        runs_from_data({"a": 1})
    assert runs_from_data(None) == []
