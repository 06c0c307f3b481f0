"""After a run in the real main window, the Results dock's views hold the trained model and its test results:
the confusion matrix, per-class accuracy and misclassified grid, the draw pad and the feature maps (the unit
tests in ``tests/visualkeras_app/results_ui`` feed the views by hand; this checks the window's wiring)."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.visualkeras_app.training_ui.conftest import TEST_SAMPLES

pytest.importorskip("visualkeras_app.training.session")


RUN_MS = 90_000


@pytest.fixture
def window(main_window):
    if main_window.training.results_view is None or main_window.training.draw_pad is None \
            or main_window.training.feature_view is None:
        pytest.skip("the results views are not installed")
    return main_window


def _run(qtbot, window, start):
    panel = window.training.panel
    results = []
    panel.results_ready.connect(results.append)
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_MS) as finished:
        assert start()
    qtbot.waitUntil(lambda: bool(results), timeout=RUN_MS)
    qtbot.waitUntil(lambda: panel.worker.state == "idle", timeout=RUN_MS)
    return finished.args[0], results[0]


@pytest.mark.slow
def test_a_run_in_the_window_fills_every_results_view(qtbot, window):
    tr = window.training
    panel = tr.panel
    panel.samples_spin.setValue(640)
    record, results = _run(qtbot, window, tr.train_on_mnist)  # Ctrl+T: the fast template, 640 samples
    model = panel.worker.model

    # Test results: the numbers of this run, on the test images the run used.
    view = tr.results_view
    assert view.results is results and view.model is model
    assert abs(results.test_accuracy - record.test_accuracy) < 1e-6
    assert f"{100 * results.test_accuracy:.2f}%" in view.summary.text()
    assert view.matrix.matrix.sum() == TEST_SAMPLES
    np.testing.assert_array_equal(view.matrix.matrix, results.confusion)
    np.testing.assert_allclose(view.per_class.values, results.per_class_accuracy, atol=1e-6)
    wrong = [int(r[0]) for r in results.misclassified]
    assert wrong and view.shown_indices()[:5] == wrong[:5]
    assert not view.grid.item(0).icon().isNull()
    assert tr.current_results_view() is view and tr.results_dock.isVisible()
    # The run gave the Results dock room for the matrix's counts, as far as the Training panel's plots (in
    # front at the bottom since the run started) could spare.
    want = min(tr.RESULTS_HEIGHT, int(window.height() * 0.6))
    assert tr.training_dock.height() >= tr.bottom_keeps() - 2
    assert tr.results_dock.height() >= want - 2 or tr.training_dock.height() <= tr.bottom_keeps() + 2
    # Once: the Training dock the user makes taller again stays so after the next results.
    window.resize(1300, 1050)
    qtbot.wait(20)
    window.resizeDocks([tr.training_dock, window.summary_dock], [560] * 2, Qt.Vertical)
    qtbot.wait(20)
    taller = tr.training_dock.height()
    assert taller > tr.BOTTOM_KEEPS + 40 and tr.results_dock.height() < tr.RESULTS_HEIGHT
    tr._on_results(results)
    qtbot.wait(20)
    assert tr.training_dock.height() == taller

    # Draw pad: enabled for the 28x28 model, predicting with the trained weights.
    pad = tr.draw_pad
    assert pad.model is model and pad.is_active()
    pad.canvas.draw_stroke([(140, 50), (140, 230)])  # a "1"
    assert pad.probabilities is not None and pad.probabilities.shape == (10,)
    from visualkeras_app.results_ui.draw_pad import predict_probabilities

    np.testing.assert_allclose(pad.probabilities, predict_probabilities(model, pad.image28()), atol=1e-5)

    # Feature maps: every convolution of the template, for a test image, with "next mistake".
    maps = tr.feature_view
    assert maps.model is model and maps.results is results
    assert sum(1 for _, cls, kind in maps.sections() if cls == "Conv2D" and kind == "channels") == 3
    assert "True:" in maps.caption.text() and maps.next_mistake.isEnabled()
    view.image_chosen.emit(wrong[0])  # double-click on a misclassified digit
    assert maps.current_index() == wrong[0] and tr.current_results_view() is maps


@pytest.mark.slow
def test_more_epochs_refresh_the_results(qtbot, window):
    tr = window.training
    panel = tr.panel
    panel.samples_spin.setValue(320)
    _, first = _run(qtbot, window, tr.train_on_mnist)
    assert tr.results_view.results is first
    _, second = _run(qtbot, window, lambda: panel.train_more(1))
    assert second is not first
    for v in (tr.results_view, tr.feature_view):
        assert v.results is second
    assert tr.results_view.matrix.matrix.sum() == TEST_SAMPLES
    assert f"{100 * second.test_accuracy:.2f}%" in tr.results_view.summary.text()


@pytest.mark.slow
def test_a_short_run_of_a_batchnorm_model_explains_its_low_test_accuracy(qtbot, window, tmp_path):
    # Three Conv-BatchNorm-ReLU-MaxPool blocks (the fast template before it was slimmed; the slim one's short
    # runs test about as well as they train); 2,000 samples are 32 steps: the moving statistics are still
    # 72% their starting values, and the test images are normalized with them.
    import engine

    blocks = [engine.Input((28, 28, 1))]
    for filters in (16, 32, 64):
        blocks += [engine.layers.Conv2D(filters, 3, padding="same", use_bias=False),
                   engine.layers.BatchNormalization(), engine.layers.ReLU(), engine.layers.MaxPooling2D()]
    blocks += [engine.layers.Flatten(), engine.layers.Dense(10, activation="softmax")]
    path = tmp_path / "three_blocks.json"
    path.write_text(engine.Sequential(blocks).to_json())
    assert window.open_file(str(path), ask=False)
    tr = window.training
    panel = tr.panel
    panel.samples_spin.setValue(2000)
    panel.lr_spin.setValue(0.01)  # the one-click recipe's settings of the time
    panel.schedule_combo.setCurrentIndex(panel.schedule_combo.findData("one_cycle"))
    panel.epochs_spin.setValue(1)
    panel.batch_spin.setValue(64)
    panel.val_spin.setValue(0.0)
    record, results = _run(qtbot, window, tr.train_on_mnist)
    note = tr.results_view.note_text()
    assert "BatchNormalization" in note and "32 training steps" in note and "more epoch" in note
    assert tr.results_view.note.isVisibleTo(tr.results_view)
    # Enough steps later (the panel's "more epochs"), the note goes.
    _, results = _run(qtbot, window, lambda: tr.panel.train_more(9))
    assert tr.results_view.note_text() == ""


@pytest.mark.slow
def test_the_gui_thread_leaves_the_cores_to_training(qtbot, window, monkeypatch):
    """The GUI thread runs torch on one intra-op thread (no OpenMP team of its own to slow the training
    thread's); the training thread gets the cores; closing the window gives them back."""
    import torch

    from visualkeras_app.training import session as session_mod
    from visualkeras_app.training_ui import threads

    cores = window.training.panel.worker.intra_op_threads
    assert cores == threads._saved and cores >= 1
    assert torch.get_num_threads() == 1
    seen = []
    run = session_mod.TrainingSession.run

    def spy(self):
        seen.append(torch.get_num_threads())
        return run(self)

    monkeypatch.setattr(session_mod.TrainingSession, "run", spy)
    window.training.panel.samples_spin.setValue(128)
    _run(qtbot, window, window.training.train_on_mnist)
    assert seen == [cores]
    assert torch.get_num_threads() == 1  # the Results views' predictions ran on one thread
    window.training.shutdown(5000)
    assert torch.get_num_threads() == cores
