"""A model with trained weights is usable without training: opened from a project or a Keras file, Evaluate
fills the Results dock (the same test accuracy the run had), Draw a digit predicts at once, the feature maps
show; an edit that drops weights says so in the Inspector, and Evaluate and "more epochs" turn off."""
import numpy as np
import pytest

pytest.importorskip("visualkeras_app.training.session")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QFileDialog  # noqa: E402

RUN_MS = 90_000


def train_in_the_window(qtbot, win):
    win.new_from_template("mnist_fast_cnn")
    panel = win.training.panel
    panel.samples_spin.setValue(640)
    panel.batch_spin.setValue(32)
    records = []
    panel.run_finished.connect(records.append)
    results = []
    panel.results_ready.connect(results.append)
    win.training.training_dock.raise_()
    qtbot.mouseClick(panel.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(records) and bool(results) and panel.worker.state == "idle", timeout=RUN_MS)
    return records[0]


def open_with_the_menu(qtbot, win, monkeypatch, path):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    win.act_open.trigger()
    qtbot.wait(20)


def a_stroke(pad):
    """A vertical bar drawn on the pad (a "1"), in its own coordinates."""
    w, h = pad.canvas.width(), pad.canvas.height()
    return [(w * 0.5, h * y) for y in np.linspace(0.2, 0.8, 12)]


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".vkproj", ".keras"])
def test_a_model_opened_with_weights_evaluates_and_draws_without_training(qtbot, main_window, monkeypatch,
                                                                           tmp_path, suffix):
    win = main_window
    tr, panel = win.training, win.training.panel
    record = train_in_the_window(qtbot, win)
    path = tmp_path / f"trained{suffix}"
    if suffix == ".vkproj":
        assert win.save_file(str(path))
    else:
        from engine.saving import save_model

        save_model(panel.worker.model, str(path))
    win.new_document()
    assert not panel.evaluate_button.isEnabled() and not tr.act_evaluate.isEnabled()  # nothing to evaluate

    open_with_the_menu(qtbot, win, monkeypatch, path)
    # A project shows its saved run's curves; a Keras file has no runs. No results until Evaluate.
    shown = record.batches.total if suffix == ".vkproj" else 0
    assert panel.plots.point_count() == shown and tr.results_view.results is None
    qtbot.waitUntil(lambda: panel.evaluate_button.isEnabled(), timeout=5000)
    assert tr.act_evaluate.isEnabled() and not panel.more_button.isEnabled()
    # Draw a digit works at once, with the opened weights.
    pad = tr.draw_pad
    assert pad.is_active()
    pad.canvas.draw_stroke(a_stroke(pad))
    probs = pad.predict()
    assert probs is not None and probs.shape == (10,) and abs(float(probs.sum()) - 1) < 1e-4

    results = []
    panel.results_ready.connect(results.append)
    qtbot.mouseClick(panel.evaluate_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(results) and panel.worker.state == "idle", timeout=RUN_MS)
    # The same weights on the same test images: the run's own test accuracy.
    assert results[0].test_accuracy == pytest.approx(record.test_accuracy, abs=1e-6)
    assert tr.results_view.results is results[0]
    assert tr.feature_view.model is not None and tr.feature_view.sections()
    assert panel.status_label.text().startswith("Evaluated") and "Evaluated" in panel.progress_bar.text()
    assert panel.runs_view.column("Model") == ["Fast MNIST CNN"]  # evaluating is not a run
    assert panel.plots.point_count() == shown and not panel.more_button.isEnabled()  # evaluating plots nothing


@pytest.mark.slow
def test_an_edit_that_drops_weights_says_so_and_turns_evaluate_and_more_epochs_off(qtbot, main_window):
    win = main_window
    tr, panel = win.training, win.training.panel
    record = train_in_the_window(qtbot, win)
    assert panel.more_button.isEnabled() and panel.evaluate_button.isEnabled() and tr.act_evaluate.isEnabled()
    results = []
    panel.results_ready.connect(results.append)
    qtbot.mouseClick(panel.evaluate_button, Qt.LeftButton)  # the trained model itself: the run can go on
    qtbot.waitUntil(lambda: bool(results) and panel.worker.state == "idle", timeout=RUN_MS)
    assert results[0].test_accuracy == pytest.approx(record.test_accuracy, abs=1e-6)
    assert panel.more_button.isEnabled()
    conv = next(n for n in win.controller.document.nodes.values() if n.class_name == "Conv2D")
    win.controller.set_selection([conv.id])
    qtbot.waitUntil(lambda: "Keeps trained weights" in win.inspector.info.text(), timeout=5000)

    win.controller.set_param(conv.id, "filters", conv.config["filters"] + 4)  # what the inspector's field does
    qtbot.waitUntil(lambda: "Trained weights dropped" in win.inspector.info.text(), timeout=5000)
    qtbot.waitUntil(lambda: not panel.evaluate_button.isEnabled(), timeout=5000)
    assert not panel.more_button.isEnabled() and not tr.act_evaluate.isEnabled()
    assert tr.draw_pad.model is None and tr.results_view.results is None  # they showed the dropped weights
    assert panel.progress_bar.text() == "Ready" and "accuracy" not in panel.status_label.text()

    win.act_undo.trigger()  # the weights come back: Evaluate again (the old run cannot continue)
    qtbot.waitUntil(lambda: panel.evaluate_button.isEnabled(), timeout=5000)
    assert "Keeps trained weights" in win.inspector.info.text()

    first = next(n for n in win.controller.document.nodes.values())
    win.controller.move_nodes({first.id: (first.pos[0] + 40, first.pos[1])})  # moving changes no weights
    qtbot.wait(300)
    assert panel.evaluate_button.isEnabled()
