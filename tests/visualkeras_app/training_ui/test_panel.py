"""The Training panel and its worker, on a tiny CNN and a slice of the real MNIST: plots receive points,
Stop ends the run mid-epoch within half a second with the model usable, Pause/Resume continue the same run,
"more epochs" continues it, a data set that does not fit gets its message and fix, a failing run reports."""
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.visualkeras_app.training_ui.conftest import settings, tiny_cnn

pytest.importorskip("visualkeras_app.training.session")

from visualkeras_app.training_ui.panel import TrainingPanel  # noqa: E402
from visualkeras_app.training_ui.worker import IDLE, PAUSED  # noqa: E402

RUN_MS = 60_000


@pytest.fixture
def panel(qtbot, small_mnist):
    model_box = {}

    def provide():
        model_box["model"] = tiny_cnn()
        return model_box["model"]

    p = TrainingPanel(model_provider=provide)
    p.models = model_box
    qtbot.addWidget(p)
    p.resize(1100, 320)
    p.show()
    yield p
    p.shutdown(5000)


def test_train_fills_plots_progress_and_run_list(qtbot, panel):
    chunks, epochs, steps = [], [], []
    panel.worker.batches.connect(chunks.append)
    panel.worker.epoch_ended.connect(lambda e, logs: epochs.append(logs))
    panel.worker.prepared.connect(lambda p: steps.extend(p.steps))
    t0 = time.perf_counter()
    with qtbot.waitSignal(panel.worker.finished, timeout=RUN_MS) as blocker:
        assert panel.train(settings(epochs=2))
    record = blocker.args[0]
    qtbot.waitUntil(lambda: panel.worker.state == IDLE, timeout=RUN_MS)
    seconds = time.perf_counter() - t0
    n = sum(len(c) for c in chunks)
    assert n >= 2 * 9 and panel.plots.point_count("loss") == n  # 288 training samples / 32, two epochs
    # Coalesced: at most 10 emissions a second (one per batch only when a loaded CPU makes batches slower).
    assert len(chunks) <= seconds * 10 + 3
    steps_seen = np.concatenate([c.step for c in chunks])
    assert np.all(np.diff(steps_seen) > 0)
    assert len(epochs) == 2 and panel.plots.epoch_count() == 2 and "val_loss" in epochs[-1]
    assert steps and any("0-1" in s or "scal" in s for s in steps)
    assert panel.steps_label.isVisibleTo(panel) and "Preprocessing" in panel.steps_label.text()
    assert panel.runs_view.records == [record]
    assert 0.0 <= record.test_accuracy <= 1.0
    assert "Epoch" in panel.progress_bar.text() or "Done" in panel.progress_bar.text()
    assert panel.more_button.isEnabled() and panel.train_button.isEnabled()


@pytest.mark.slow
def test_stop_mid_epoch_within_half_a_second(qtbot, panel):
    chunks = []
    panel.worker.batches.connect(chunks.append)
    s = settings(max_train_samples=2000, batch_size=8, epochs=3)
    with qtbot.waitSignal(panel.worker.finished, timeout=RUN_MS) as blocker:
        panel.train(s)
        qtbot.waitUntil(lambda: sum(len(c) for c in chunks) >= 5, timeout=RUN_MS)
        t0 = time.perf_counter()
        qtbot.mouseClick(panel.stop_button, Qt.LeftButton)
        # Training (not the test-set evaluation that follows) must end within 0.5 s of the click.
        last = [sum(len(c) for c in chunks), t0]

        def settled():
            n = sum(len(c) for c in chunks)
            if n != last[0]:
                last[:] = [n, time.perf_counter()]
            return time.perf_counter() - last[1] > 0.3

        qtbot.waitUntil(settled, timeout=RUN_MS)
        assert last[1] - t0 < 0.5
    record = blocker.args[0]
    total = 3 * 225
    assert sum(len(c) for c in chunks) < total // 3  # mid first epoch
    assert record.stopped_reason
    model = panel.models["model"]
    out = model.predict(np.zeros((2, 28, 28, 1), "float32"), verbose=0)
    assert out.shape == (2, 10) and np.all(np.isfinite(out))  # the model stays usable


@pytest.mark.slow
def test_pause_and_resume_continue_the_same_run(qtbot, panel):
    """Pause is clicked twice: while the run prepares (no race: it must not start) and again as soon as the first
    batches reach the window; each Resume continues the same run, every batch once."""
    chunks = []
    panel.worker.batches.connect(chunks.append)
    records = []
    panel.worker.finished.connect(records.append)
    pauses = []

    def pause_on_first_batches(_chunk):
        if not pauses and panel.worker.state not in (PAUSED, IDLE):
            pauses.append(sum(len(c) for c in chunks))
            qtbot.mouseClick(panel.pause_button, Qt.LeftButton)

    panel.train(settings(max_train_samples=2000, batch_size=4))  # 1,800 training images: 450 batches
    qtbot.mouseClick(panel.pause_button, Qt.LeftButton)
    assert panel.worker.state == PAUSED and panel.pause_button.text() == "Resume"
    qtbot.wait(500)
    assert not chunks and not records  # paused before its first batch
    panel.worker.batches.connect(pause_on_first_batches)
    qtbot.mouseClick(panel.pause_button, Qt.LeftButton)  # Resume
    assert panel.pause_button.text() == "Pause"
    qtbot.waitUntil(lambda: bool(pauses), timeout=RUN_MS)
    assert panel.worker.state == PAUSED and panel.pause_button.text() == "Resume"
    qtbot.wait(300)  # a batch in flight may still land
    n_paused = sum(len(c) for c in chunks)
    qtbot.wait(400)
    assert sum(len(c) for c in chunks) == n_paused < 450 and not records
    qtbot.mouseClick(panel.pause_button, Qt.LeftButton)  # Resume
    qtbot.waitUntil(lambda: bool(records), timeout=RUN_MS)
    steps = np.concatenate([c.step for c in chunks])
    assert len(records) == 1 and not getattr(records[0], "stopped_reason", None) in ("stopped", "user")
    assert len(steps) == 450  # every batch once, no restart
    assert np.array_equal(steps, np.arange(steps[0], steps[0] + 450))


@pytest.mark.slow
def test_train_more_epochs_continues(qtbot, panel):
    with qtbot.waitSignal(panel.worker.finished, timeout=RUN_MS):
        panel.train(settings())
    qtbot.waitUntil(lambda: panel.worker.state == IDLE, timeout=RUN_MS)
    first_last_step = panel.plots.curves["loss"].x()[-1]
    model = panel.models["model"]
    errors = []
    panel.worker.error.connect(errors.append)
    with qtbot.waitSignals([panel.worker.finished], raising=False, timeout=RUN_MS) as blocker:
        assert panel.train_more(1)
    assert blocker.signal_triggered, errors
    qtbot.waitUntil(lambda: panel.worker.state == IDLE, timeout=RUN_MS)
    assert panel.worker.model is model
    assert panel.plots.curves["loss"].x()[-1] > first_last_step  # the same curve goes on
    assert panel.plots.epoch_count() == 2


def test_mismatched_dataset_gets_its_message_and_fix(qtbot, small_mnist):
    p = TrainingPanel(model_provider=lambda: tiny_cnn(input_shape=(32, 32, 3)))
    qtbot.addWidget(p)
    with qtbot.waitSignal(p.worker.mismatch, timeout=RUN_MS) as blocker:
        p.train(settings())
    qtbot.waitUntil(lambda: p.worker.state == IDLE, timeout=RUN_MS)
    message, fix = blocker.args
    assert "32" in message and "28" in message
    assert message in p.problem_text() or message.replace("\n", " ")[:30] in p.problem_text()
    assert fix and "Fix" in p.problem_text()
    assert p.train_button.isEnabled() and not p.runs_view.records


def test_model_problems_are_shown_not_raised(qtbot):
    def broken():
        raise ValueError("The document is empty: add an Input and some layers first.")

    p = TrainingPanel(model_provider=broken)
    qtbot.addWidget(p)
    errors = []
    p.error.connect(errors.append)
    assert not p.train(settings())
    assert "document is empty" in p.problem_text() and errors
    assert p.worker.state == IDLE


def test_an_error_in_training_is_reported(qtbot, panel, monkeypatch):
    from visualkeras_app.training import session as session_mod

    def boom(self, *a, **k):
        raise RuntimeError("the GPU caught fire")

    monkeypatch.setattr(session_mod.TrainingSession, "run", boom)
    with qtbot.waitSignal(panel.worker.error, timeout=RUN_MS) as blocker:
        panel.train(settings())
    qtbot.waitUntil(lambda: panel.worker.state == IDLE, timeout=RUN_MS)
    assert "caught fire" in blocker.args[0] and "caught fire" in panel.problem_text()
    assert "Traceback" not in panel.problem_text()
    assert panel.train_button.isEnabled()


def test_settings_round_trip(qtbot):
    from visualkeras_app.training.settings import TrainSettings

    p = TrainingPanel()
    qtbot.addWidget(p)
    s = TrainSettings(dataset="fashion_mnist", optimizer="sgd", learning_rate=0.05, epochs=3, batch_size=128,
                      validation_split=0.2, seed=7, schedule="constant", max_train_samples=500,
                      precision="mixed_bfloat16")
    p.set_settings(s)
    assert p.settings() == s and p.precision_combo.currentText() == "Mixed bfloat16"
    changed = []
    p.settings_changed.connect(changed.append)
    p.precision_combo.setFocus()
    qtbot.keyClick(p.precision_combo, Qt.Key_Up)  # the user picks the item above: float32
    assert p.settings().precision == "float32" and changed[-1]["precision"] == "float32"
    assert [p.precision_combo.itemText(i) for i in range(p.precision_combo.count())] == [
        "Auto", "float32", "Mixed bfloat16", "Mixed float16"]
    assert "AMX" in p.precision_combo.toolTip()
    p.set_settings({"dataset": "/tmp/mine.npz", "epochs": 2, "metrics": ["accuracy"]})
    assert p.settings().dataset == "/tmp/mine.npz" and p.dataset_combo.currentText() == "mine.npz"
    p.set_devices(["cpu", "cuda"])
    assert [p.device_combo.itemData(i) for i in range(p.device_combo.count())] == ["cpu", "cuda"]


@pytest.mark.slow
def test_clicking_train_and_more_epochs_runs(qtbot, panel):
    """The buttons as a user clicks them: ``clicked`` carries Qt's ``checked`` bool, which once reached
    train(settings) as settings=False and raised in the slot, so that the click did nothing."""

    panel.samples_spin.setValue(320)
    panel.batch_spin.setValue(32)
    errors = []
    panel.error.connect(errors.append)
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_MS) as blocker:
        qtbot.mouseClick(panel.train_button, Qt.LeftButton)
    assert not errors and blocker.args[0] in panel.runs_view.records
    qtbot.waitUntil(lambda: panel.worker.state == IDLE, timeout=RUN_MS)
    assert panel.plots.point_count("loss") == 9  # 288 training samples / 32
    assert panel.status_label.text().startswith("Done")
    assert panel.more_button.isEnabled()
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_MS):
        qtbot.mouseClick(panel.more_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.worker.state == IDLE, timeout=RUN_MS)
    assert not errors and panel.plots.epoch_count() == 2


def test_the_run_list_names_a_runs_precision():
    from visualkeras_app.training.settings import TrainSettings
    from visualkeras_app.training_ui.runs_view import settings_summary

    assert settings_summary(TrainSettings(learning_rate=0.003)) == "adam 0.003 1cycle · 1 ep · bs 64 · mnist"
    assert settings_summary(TrainSettings(precision="mixed_bfloat16")).endswith("· mnist · bf16")
    assert settings_summary({"precision": "auto", "dataset": "/data/x.npz"}).endswith("· x.npz · auto precision")
