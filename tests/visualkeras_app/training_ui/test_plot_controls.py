"""The plot controls users click: the x axis (step, epoch, wall time), the smoothing slider, log scale, the values
under the mouse, the overlay legend, and Export as PNG, SVG and CSV (files checked for content)."""
import csv
import types

import numpy as np
import pytest

pytest.importorskip("visualkeras_app.training.runs")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtWidgets import QFileDialog  # noqa: E402

from visualkeras_app.training_ui.plots import TrainingPlots, smooth  # noqa: E402
from visualkeras_app.training_ui.worker import BatchChunk  # noqa: E402

NB = 20  # batches per epoch


def a_run_chunk(n=60):
    step = np.arange(n, dtype=float)
    loss = 2.0 / (1 + step) + np.where(step % 2 == 0, 0.2, 0.0)  # falling, with a zigzag to smooth away
    return BatchChunk(step, step // NB, loss, np.linspace(0.1, 0.9, n), np.geomspace(1e-2, 1e-4, n),
                      (step + 1) / NB, 0.5 * step + 3.0)


@pytest.fixture
def plots(qtbot):
    p = TrainingPlots()
    qtbot.addWidget(p)
    p.resize(900, 300)
    p.show()
    p.add_batches(a_run_chunk())
    for e in range(3):
        p.add_epoch(e, {"loss": 1.0 / (e + 1), "accuracy": 0.5 + e / 10, "val_loss": 1.2 / (e + 1)},
                    step=(e + 1) * NB - 0.5)
    return p


def test_smooth_is_tensorboards_debiased_ema():
    v = np.array([1.0, 3.0, np.nan, 3.0])
    out = smooth(v, np.ones(4), 0.5)
    assert out[0] == pytest.approx(1.0)  # debiased: the first value itself
    assert out[1] == pytest.approx((0.5 * 0.5 * 1 + 0.5 * 3) / 0.75)
    assert out[2] == out[1]  # NaN skipped
    np.testing.assert_allclose(smooth(v, np.ones(4), 0.0)[[0, 1, 3]], v[[0, 1, 3]])
    with pytest.raises(ValueError, match="smoothing must be in"):
        smooth(v, np.ones(4), 1.0)


def test_x_axis_combo_switches_step_epoch_and_wall_time(plots):
    plots.x_combo.setCurrentIndex(plots.x_combo.findData("epoch"))
    x, _ = plots._ema["loss"].getData()
    assert x[0] == pytest.approx(1 / NB) and x[-1] == pytest.approx(3.0)
    assert plots._ep_train["loss"].getData()[0].tolist() == [1.0, 2.0, 3.0]
    assert plots.widgets["loss"].getPlotItem().getAxis("bottom").labelText == "epoch"
    plots.x_combo.setCurrentIndex(plots.x_combo.findData("time"))
    x, _ = plots._ema["accuracy"].getData()
    assert x[0] == pytest.approx(3.0) and x[-1] == pytest.approx(0.5 * 59 + 3.0)
    plots.x_combo.setCurrentIndex(plots.x_combo.findData("step"))
    assert plots._ema["loss"].getData()[0][-1] == pytest.approx(59)


def test_smoothing_slider_changes_the_smoothed_line(plots):
    plots.smoothing_slider.setValue(0)
    _, raw = plots._ema["loss"].getData()
    np.testing.assert_allclose(raw, a_run_chunk().loss)  # 0: the values themselves
    assert plots.smoothing_label.text() == "0.00"
    plots.smoothing_slider.setValue(90)
    _, smoothed = plots._ema["loss"].getData()
    assert plots.smoothing == pytest.approx(0.9)
    assert np.abs(np.diff(smoothed[-20:])).max() < np.abs(np.diff(raw[-20:])).max() / 5  # the zigzag smoothed away


def test_log_scale_and_learning_rate_plot(qtbot, plots):
    qtbot.mouseClick(plots.log_check, Qt.LeftButton, pos=QPoint(5, plots.log_check.height() // 2))
    assert plots.log_check.isChecked() and plots.is_log_scale()
    assert plots.widgets["lr"].getPlotItem().ctrl.logYCheck.isChecked()
    assert not plots.widgets["accuracy"].getPlotItem().ctrl.logYCheck.isChecked()
    _, lr = plots._ema["lr"].getOriginalDataset()  # (getData gives log10 in log mode)
    assert lr[0] == pytest.approx(1e-2) and lr[-1] == pytest.approx(1e-4)


@pytest.mark.slow  # a plots widget each (0.15-0.3 s): the x-axis, smoothing and log-scale tests stay in the fast loop
def test_hover_shows_the_values_under_the_mouse(plots):
    text = plots.show_values_at(10.2)
    assert text.startswith("step 10") and "loss" in text and "accuracy" in text and "lr " in text
    raw = a_run_chunk().loss[10]
    assert f"raw {raw:.4f}" in text
    assert plots._cursor["loss"].isVisible() and plots._cursor["loss"].value() == pytest.approx(10.2)
    # The mouse over a plot does the same.
    item = plots.widgets["loss"].getPlotItem()
    scene_pos = item.vb.mapViewToScene(item.vb.viewRect().center())
    plots.widgets["loss"].scene().sigMouseMoved.emit(scene_pos)
    assert plots.hover_label.text().startswith("step ")


@pytest.mark.slow  # a plots widget each (0.15-0.3 s): the x-axis, smoothing and log-scale tests stay in the fast loop
def test_overlays_are_named_in_the_legend(plots):
    from visualkeras_app.training.runs import BATCH_KEYS, BatchCurve

    curve = BatchCurve(BATCH_KEYS)
    for i in range(10):
        curve.append(i, 1.0, 0.5, 1e-3, (i + 1) / 10, float(i))
    plots.set_overlays([types.SimpleNamespace(name="baseline <b>", batches=curve)])
    assert "baseline &lt;b&gt;" in plots.legend.text()
    plots.set_overlays([])
    assert "baseline" not in plots.legend.text()


@pytest.mark.slow  # a plots widget each (0.15-0.3 s): the x-axis, smoothing and log-scale tests stay in the fast loop
def test_export_png_svg_and_csv(qtbot, plots, tmp_path, monkeypatch):
    from PySide6.QtGui import QImage

    from visualkeras_app.training.runs import BATCH_KEYS, BatchCurve

    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "critical", lambda _p, title, text: pytest.fail(f"{title}: {text}"))
    curve = BatchCurve(BATCH_KEYS)
    for i in range(8):
        curve.append(i, 3.0, 0.25, 1e-3, (i + 1) / 8, float(i))
    plots.set_overlays([types.SimpleNamespace(name="other run", batches=curve)])
    for kind in ("png", "svg", "csv"):
        path = tmp_path / f"plots.{kind}"
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, p=path, **k: (str(p), ""))
        getattr(plots, f"act_export_{kind}").trigger()
        assert path.exists(), kind
    img = QImage(str(tmp_path / "plots.png"))
    assert img.width() >= 1200 and img.height() >= 400  # twice the plots' size
    colors = {img.pixelColor(x, y).name() for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)}
    assert len(colors) > 5  # drawn curves and text, not a blank image
    svg = (tmp_path / "plots.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "<path" in svg and "other run" in svg
    rows = list(csv.DictReader(open(tmp_path / "plots.csv", newline="")))
    current_loss = [r for r in rows if r["run"] == "current" and r["metric"] == "loss"]
    assert len(current_loss) == 60
    assert float(current_loss[10]["value"]) == pytest.approx(a_run_chunk().loss[10])
    assert float(current_loss[10]["epoch"]) == pytest.approx(11 / NB)
    assert float(current_loss[10]["wall_time_s"]) == pytest.approx(8.0)
    other = [r for r in rows if r["run"] == "other run" and r["metric"] == "loss"]
    assert len(other) == 8 and all(float(r["value"]) == 3.0 for r in other)
    val = [r for r in rows if r["metric"] == "epoch_val_loss"]
    assert [float(r["value"]) for r in val] == pytest.approx([1.2, 0.6, 0.4])
