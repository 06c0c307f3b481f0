"""Runs are saved with the project: a project reopened in a new window (as after a restart) lists its runs with
their model, and plots the newest run's curves and epochs; removing a run drops it from the next save; the
Runs table names the model's version once a changed model is trained."""
import numpy as np
import pytest

pytest.importorskip("visualkeras_app.training.session")

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QFileDialog  # noqa: E402

from tests.visualkeras_app.training.test_run_store import a_run  # noqa: E402

RUN_MS = 90_000


def a_second_window(qtbot, tmp_path):
    """A new window with its own settings: the app started again."""
    from visualkeras_app.mainwindow import MainWindow

    win = MainWindow(settings=QSettings(str(tmp_path / "s2.ini"), QSettings.IniFormat), offer_recovery=False)
    qtbot.addWidget(win)
    win.resize(1300, 850)
    win.show()
    win.start()
    return win


def open_with_the_menu(qtbot, win, monkeypatch, path):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    win.act_open.trigger()
    qtbot.wait(10)


@pytest.mark.slow  # two windows: about 3 s here
def test_a_reopened_project_shows_its_runs(qtbot, main_window, monkeypatch, tmp_path):
    win = main_window
    win.new_from_template("mnist_fast_cnn")
    run = a_run(name="run 1")
    run.model = "saved.vkproj"
    win.controller.document.runs.append(run)
    path = tmp_path / "saved.vkproj"
    assert win.save_file(str(path))

    other = a_second_window(qtbot, tmp_path)
    open_with_the_menu(qtbot, other, monkeypatch, path)
    panel = other.training.panel
    assert panel.runs_view.column("Run") == ["run 1"]
    assert panel.runs_view.column("Model") == ["saved.vkproj"]
    assert panel.runs_view.column("Test acc.") == ["95.00%"]
    assert panel.plots.point_count("loss") == 300 and panel.plots.epoch_count() == 3
    x, y = panel.plots._ema["loss"].getData()
    assert len(x) > 10 and y[-1] < y[0]  # the saved loss curve, falling
    # Opening it again does not list the run twice; a new run is numbered after it.
    open_with_the_menu(qtbot, other, monkeypatch, path)
    assert panel.runs_view.column("Run") == ["run 1"] and panel._run_count >= 1

    # Removing the run in the list drops it from the project.
    panel.runs_view.tree.setCurrentItem(panel.runs_view.tree.topLevelItem(0))
    qtbot.mouseClick(panel.runs_view.remove_button, Qt.LeftButton)
    assert other.controller.document.runs == [] and other.is_dirty()
    assert other.save_file(str(path))
    from visualkeras_app.document.project import load_project

    assert load_project(path).runs == []


@pytest.mark.slow
def test_a_trained_run_survives_a_restart(qtbot, main_window, monkeypatch, tmp_path):
    win = main_window
    win.new_from_template("mnist_fast_cnn")
    panel = win.training.panel
    panel.samples_spin.setValue(320)
    panel.batch_spin.setValue(32)
    records = []
    panel.run_finished.connect(records.append)
    win.training.training_dock.raise_()
    qtbot.mouseClick(panel.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(records) and panel.worker.state == "idle", timeout=RUN_MS)
    rec = records[0]
    assert win.controller.document.runs == [rec] and win.is_dirty()
    # The Inspector's gradient histograms: each trained layer's gradient on a batch, after the run.
    conv = next(n for n in win.controller.document.nodes.values() if n.class_name == "Conv2D")
    qtbot.waitUntil(lambda: getattr(conv, "gradients", None) is not None, timeout=5000)
    assert [g.shape for g in conv.gradients] == [w.shape for w in conv.weights]
    win.controller.set_selection([conv.id])
    view = win.inspector.weight_view
    assert view.gradient_names() == [f"∇ {n}" for n in view.names() if not n.startswith("∇")] == ["∇ kernel"]
    path = tmp_path / "trained.vkproj"
    assert win.save_file(str(path))

    other = a_second_window(qtbot, tmp_path)
    open_with_the_menu(qtbot, other, monkeypatch, path)
    p2 = other.training.panel
    assert p2.runs_view.column("Run") == [rec.name] and p2.runs_view.column("Model") == ["Fast MNIST CNN"]
    assert p2.runs_view.column("Test acc.") == [f"{rec.test_accuracy * 100:.2f}%"]
    assert p2.plots.point_count("loss") == rec.batches.total and p2.plots.epoch_count() == len(rec.epochs)
    saved = other.controller.document.runs[0]
    assert saved.settings == rec.settings and saved.epochs == rec.epochs
    np.testing.assert_allclose(saved.batches.mean("loss"), rec.batches.mean("loss"))
    # The wall-time and epoch axes came with it.
    p2.plots.set_x_axis("epoch")
    x, _ = p2.plots._ema["loss"].getData()
    assert 0 < x[0] < x[-1] <= len(rec.epochs) + 1e-9

    # Train the changed model: the Runs table tells the two versions apart.
    ctl = win.controller
    conv = next(n for n in ctl.document.nodes.values() if n.class_name == "Conv2D")
    assert ctl.set_param(conv.id, "filters", conv.config["filters"] // 2)
    qtbot.mouseClick(panel.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(records) == 2 and panel.worker.state == "idle", timeout=RUN_MS)
    # (The first run was of the template, before the project was saved under its name.)
    assert panel.runs_view.column("Model") == ["Fast MNIST CNN v1", "trained.vkproj v2"]
    assert [r.version for r in win.controller.document.runs] == [1, 2]
