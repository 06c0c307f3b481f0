"""The window's training state belongs to the document: after another model is opened, no view shows the
previous model's run (plots, progress, status, results, feature maps, draw pad, settings), "more epochs" does
not continue it, and the Runs table names the model each run trained. Driven by clicks and File ▸ Open."""
import pytest

pytest.importorskip("visualkeras_app.training.session")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QFileDialog  # noqa: E402

from visualkeras_app.training_ui.panel import IDLE_STATUS  # noqa: E402

RUN_MS = 90_000


def save_template(win, key, path, training=None):
    from visualkeras_app.document.project import save_project
    from visualkeras_app.document.templates import load_template

    doc = load_template(key)
    doc.training = dict(training or {})
    save_project(doc, str(path))
    return path


def open_with_the_menu(qtbot, win, monkeypatch, path):
    """File ▸ Open… with the file dialog answering ``path``."""
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    win.act_open.trigger()
    qtbot.wait(20)


def assert_shows_nothing_of_a_run(win):
    tr, panel = win.training, win.training.panel
    assert panel.status_label.text() == IDLE_STATUS
    assert panel.progress_bar.value() == 0 and panel.progress_bar.format() == "Ready"
    assert panel.plots.point_count("loss") == 0 and panel.plots.epoch_count() == 0
    assert not panel.steps_label.isVisibleTo(panel) and panel.problem_text() == ""
    assert not panel.more_button.isEnabled() and panel.train_button.isEnabled()
    if tr.results_view is not None:
        assert tr.results_view.results is None and "No results yet" in tr.results_view.summary.text()
        assert tr.results_view.shown_indices() == []
    if tr.feature_view is not None:
        assert tr.feature_view.model is None and tr.feature_view.sections() == []
    if tr.draw_pad is not None:
        assert tr.draw_pad.model is None and not tr.draw_pad.is_active()
    assert "accuracy" not in win.statusBar().currentMessage()


@pytest.mark.slow
def test_opening_model_b_after_training_a_shows_nothing_of_a(qtbot, main_window, monkeypatch, tmp_path):
    win = main_window
    a = save_template(win, "mnist_fast_cnn", tmp_path / "a.vkproj")
    b = save_template(win, "mnist_fast_cnn", tmp_path / "b.vkproj",
                      training={"batch_size": 16, "max_train_samples": 160, "optimizer": "sgd"})
    open_with_the_menu(qtbot, win, monkeypatch, a)
    panel = win.training.panel
    panel.samples_spin.setValue(320)
    panel.batch_spin.setValue(32)
    results = []
    panel.results_ready.connect(results.append)
    win.training.training_dock.raise_()
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_MS):
        qtbot.mouseClick(panel.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(results) and panel.worker.state == "idle", timeout=RUN_MS)
    assert panel.status_label.text().startswith("Done") and panel.plots.point_count() == 9
    assert win.training.results_view.results is not None and win.training.draw_pad.is_active()

    open_with_the_menu(qtbot, win, monkeypatch, b)
    assert win.windowTitle().startswith("b.vkproj")
    assert_shows_nothing_of_a_run(win)
    s = panel.settings()  # B's saved settings, the rest the panel's defaults (not A's 320 samples)
    assert (s.batch_size, s.max_train_samples, s.optimizer, s.epochs) == (16, 160, "sgd", 1)
    assert panel.runs_view.column("Model") == ["a.vkproj"]
    assert not win.inspector_dock.visibleRegion().isEmpty()  # not left behind the (empty) Results tab
    assert win.controller.document.training == {"batch_size": 16, "max_train_samples": 160, "optimizer": "sgd"}

    with qtbot.waitSignal(panel.run_finished, timeout=RUN_MS):
        qtbot.mouseClick(panel.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.worker.state == "idle", timeout=RUN_MS)
    assert panel.runs_view.column("Model") == ["a.vkproj", "b.vkproj"]
    assert panel.plots.point_count() == 9  # B's run alone: 144 training samples / 16


@pytest.mark.slow
def test_opening_a_template_while_a_trains_stops_it_and_shows_nothing_of_it(qtbot, main_window, monkeypatch,
                                                                          tmp_path):
    win = main_window
    open_with_the_menu(qtbot, win, monkeypatch, save_template(win, "mnist_fast_cnn", tmp_path / "a.vkproj"))
    panel = win.training.panel
    panel.samples_spin.setValue(2000)
    panel.batch_spin.setValue(8)
    chunks = []
    panel.worker.batches.connect(chunks.append)
    qtbot.mouseClick(panel.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: sum(len(c) for c in chunks) >= 3, timeout=RUN_MS)
    template_menu = win.template_menu
    template_menu.aboutToShow.emit()
    seed_cnn = next(a for a in template_menu.actions() if "CNN (seed" in a.text())
    seed_cnn.trigger()
    assert win.windowTitle().startswith("CNN (seed tutorial)")
    qtbot.waitUntil(lambda: panel.worker.state == "idle", timeout=RUN_MS)
    qtbot.wait(200)
    assert sum(len(c) for c in chunks) < 2000 * 0.9 / 8  # stopped, not run to the end
    assert_shows_nothing_of_a_run(win)
    assert panel.runs_view.column("Model") == ["a.vkproj"]  # the stopped run, under its own model
    assert all(n.weights is None for n in win.controller.document.nodes.values())  # A's weights stay with A
    assert not win.is_dirty()


def test_selecting_a_layer_brings_the_inspector_back_over_the_results(qtbot, main_window):
    win = main_window
    win.new_from_template("mnist_fast_cnn")
    qtbot.waitUntil(lambda: win.training.results_dock in win.tabifiedDockWidgets(win.inspector_dock))
    win.training.results_dock.raise_()  # as after a run
    qtbot.wait(20)
    assert win.inspector_dock.visibleRegion().isEmpty()
    conv = next(n.id for n in win.controller.document.nodes.values() if n.class_name == "Conv2D")
    win.scene.node_item(conv).setSelected(True)  # a click on the node
    qtbot.waitUntil(lambda: not win.inspector_dock.visibleRegion().isEmpty(), timeout=2000)
    assert win.inspector.node_id == conv
