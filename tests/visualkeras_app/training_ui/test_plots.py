"""The live plots: they take batch chunks and epoch logs, keep bounded memory over a million batches,
keep spikes visible after decimation, and overlay past runs."""
import types

import numpy as np
import pytest

pytest.importorskip("visualkeras_app.training.runs")

from visualkeras_app.training_ui.plots import LiveCurve, TrainingPlots, record_curve  # noqa: E402
from visualkeras_app.training_ui.worker import BatchChunk  # noqa: E402


def chunk(start, n, loss=1.0, acc=0.5):
    step = np.arange(start, start + n, dtype=float)
    return BatchChunk(step, np.zeros(n), np.full(n, loss), np.full(n, acc), np.full(n, 1e-3))


def test_plots_receive_points_and_epochs(qtbot):
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.add_batches(chunk(0, 50, loss=2.0))
    plots.add_batches(chunk(50, 30, loss=1.0))
    assert plots.point_count("loss") == 80 and plots.point_count("accuracy") == 80
    x, y = plots._ema["loss"].getData()
    assert len(x) == 80 and y[0] == pytest.approx(2.0) and y[-1] < 2.0  # smoothed towards 1.0
    plots.add_epoch(0, {"loss": 1.2, "accuracy": 0.6, "val_loss": 1.3, "val_accuracy": 0.55})
    assert plots.epoch_count() == 1
    assert plots._ep_val["accuracy"].getData()[1][0] == pytest.approx(0.55)
    assert plots._ep_train["loss"].getData()[0][0] == pytest.approx(80)  # after the last batch
    plots.reset()
    assert plots.point_count() == 0 and plots._raw["loss"].getData()[0] is None or \
        len(plots._raw["loss"].getData()[0]) == 0


def test_missing_accuracy_is_skipped(qtbot):
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.add_batches(chunk(0, 10, acc=np.nan))
    assert plots.point_count("loss") == 10 and plots.point_count("accuracy") == 0


@pytest.mark.slow
def test_long_runs_stay_bounded_and_keep_spikes(qtbot):
    # 200,000 batches into 256-bucket curves: the same merging a million batches into 4,000 goes through.
    plots = TrainingPlots(max_points=256)
    qtbot.addWidget(plots)
    spike_at = 155_555
    for start in range(0, 200_000, 20_000):
        c = chunk(start, 20_000, loss=0.1)
        if start <= spike_at < start + 20_000:
            c.loss[spike_at - start] = 9.0
        plots.add_batches(c)
    curve = plots.curves["loss"]
    assert curve.count == 200_000 and len(curve) <= 256 and curve.stride >= 512
    ex, ey = plots._raw["loss"].getData()
    assert len(ex) <= 2 * 256
    assert ey.max() == pytest.approx(9.0)  # the min/max envelope keeps the single spike
    assert ex[np.argmax(ey)] == pytest.approx(spike_at, abs=2 * curve.stride)
    assert plots._ema["loss"].getData()[1][-1] == pytest.approx(0.1, abs=1e-3)


def test_live_curve_validates():
    with pytest.raises(ValueError, match="max_points"):
        LiveCurve(max_points=1)


def test_overlay_of_past_runs(qtbot):
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    from visualkeras_app.training.runs import BatchCurve

    curve = BatchCurve(("loss", "accuracy", "lr"), smoothing=0.0)
    for i in range(5):
        curve.append(i, 2 - i / 4, 0.2 + i / 10, 1e-3)
    run = types.SimpleNamespace(name="run 1", batches=curve)
    assert record_curve(run, "loss", weight=0.0)[1][-1] == pytest.approx(1.0)  # the raw mean: no smoothing
    assert record_curve(types.SimpleNamespace(batches=None), "loss") is None
    plots.set_overlays([run])
    assert plots.overlay_count() == 1
    plots.set_overlays([])
    assert plots.overlay_count() == 0
