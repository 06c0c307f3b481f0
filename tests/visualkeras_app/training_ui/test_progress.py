"""The progress line (samples/s and ETA) tells the truth: not thrown off by a slow first batch (warm-up), a
pause, the validation passes or a "more epochs" continuation; and Pause/Resume keep one "Paused ·".

The model paces itself: a layer sleeps a fixed time in every training batch, longer in the first one of each
``fit`` call, and in every validation batch, so that the readout's errors stand out of a busy machine's
noise; the true rate and the time left are measured from when the session reported each batch and epoch."""
import math
import time

import pytest
from PySide6.QtCore import Qt

from tests.visualkeras_app.training_ui.conftest import settings, tiny_cnn

pytest.importorskip("visualkeras_app.training.session")

from visualkeras_app.training_ui import worker as worker_mod  # noqa: E402
from visualkeras_app.training_ui.panel import TrainingPanel  # noqa: E402
from visualkeras_app.training_ui.worker import IDLE  # noqa: E402

RUN_MS = 60_000
BATCH = 32
STEP_S = 0.02  # every training batch sleeps this long: at most BATCH / STEP_S = 1600 samples/s
WARMUP_S = 1.5  # the first batch of each fit call
EVAL_S = 0.25  # each validation batch (of 256 samples)


def paced_model(pace):
    import engine
    from engine import layers

    class Pace(layers.Layer):
        def call(self, inputs, training=None):
            if training:
                time.sleep(WARMUP_S if pace["warm_up"] else STEP_S)
                pace["warm_up"] = False
            elif pace["eval"]:
                time.sleep(EVAL_S)
            return inputs

        def compute_output_shape(self, input_shape):
            return input_shape

    cnn = tiny_cnn()
    return engine.Sequential([layers.Input(shape=(28, 28, 1)), Pace(), *cnn.layers])


@pytest.fixture
def paced(qtbot, small_mnist, monkeypatch):
    """A panel training a paced model; ``stamps`` holds (time the session reported it, Progress), and
    ``epoch_ends`` the times epochs ended (after their validation pass)."""
    pace = {"warm_up": True, "eval": False}
    p = TrainingPanel(model_provider=lambda: paced_model(pace))
    qtbot.addWidget(p)
    p.resize(1100, 320)
    p.show()
    stamps, texts, epoch_ends, batch_ends, pauses = [], [], [], [], []
    relay_progress, relay_epoch = worker_mod._Relay.on_progress, worker_mod._Relay.on_epoch
    relay_batch, relay_message = worker_mod._Relay.on_batch, worker_mod._Relay.on_message

    def on_batch(self, point):
        batch_ends.append(time.perf_counter())
        relay_batch(self, point)

    def on_message(self, text):
        if text in ("Paused.", "Resumed."):
            pauses.append(time.perf_counter())
        relay_message(self, text)

    def on_progress(self, progress):
        stamps.append((time.perf_counter(), progress))
        relay_progress(self, progress)

    def on_epoch(self, epoch, logs):
        epoch_ends.append(time.perf_counter())
        relay_epoch(self, epoch, logs)

    monkeypatch.setattr(worker_mod._Relay, "on_progress", on_progress)
    monkeypatch.setattr(worker_mod._Relay, "on_epoch", on_epoch)
    monkeypatch.setattr(worker_mod._Relay, "on_batch", on_batch)
    monkeypatch.setattr(worker_mod._Relay, "on_message", on_message)
    p.worker.progress.connect(lambda _p: texts.append(p.progress_bar.text()))
    p.pace, p.stamps, p.texts, p.epoch_ends = pace, stamps, texts, epoch_ends
    p.batch_ends, p.pauses = batch_ends, pauses
    yield p
    p.shutdown(5000)


def _train_phase(stamps):
    return [(t, p) for t, p in stamps if getattr(p, "phase", "train") == "train"]


def _check_rate(panel, n_samples):
    """The last samples/s shown (at the last batch) against the true rate: the samples after the first
    batch over their time, pauses left out (the run is shorter than the rate's 10 s window)."""
    rates = [p.samples_per_s for _, p in _train_phase(panel.stamps) if math.isfinite(p.samples_per_s)]
    assert rates, "no samples/s shown"
    ends, pauses = panel.batch_ends, panel.pauses
    paused = sum(b - a for a, b in zip(pauses[::2], pauses[1::2]))
    true = (n_samples - BATCH) / (ends[-1] - ends[0] - paused)
    assert true <= BATCH / STEP_S  # the sleeps cap it
    assert 0.75 * true <= rates[-1] <= 1.33 * true, f"{rates[-1]:.0f} samples/s shown, {true:.0f} true"


def _check_eta(panel, n_samples, validation=False):
    """Each ETA is the samples left at the rate shown (checked against the truth by `_check_rate`), plus,
    when validating, at least the validation passes left at their measured length. (Compared with the
    time that really was left, an estimate is only as good as the machine's load is steady.)"""
    shown = [(t, p) for t, p in _train_phase(panel.stamps) if math.isfinite(p.eta_s)]
    assert shown, "no ETA shown"
    # A pass: from the last batch's progress line (always sent) to the epoch's end.
    passes = [next(end for end in panel.epoch_ends if end > t) - t
              for t, p in _train_phase(panel.stamps) if p.batch == p.batches] if validation else []
    for t, p in shown:
        left = n_samples - min(p.batch * BATCH, n_samples) + (p.epochs - p.epoch) * n_samples
        training = left / p.samples_per_s
        if not validation:
            assert p.eta_s == pytest.approx(training, rel=0.01, abs=0.01)
            continue
        assert p.eta_s >= training - 0.01
        if p.epoch >= 2:  # the first pass has been timed
            passes_left = p.epochs - p.epoch + 1
            assert p.eta_s - training >= 0.8 * passes_left * min(passes), \
                f"ETA {p.eta_s:.2f} s at epoch {p.epoch}: {passes_left} validation passes of {min(passes):.2f} s left"


@pytest.mark.slow
def test_a_slow_first_batch_and_a_pause_do_not_skew_samples_per_s_or_eta(qtbot, paced):
    s = settings(max_train_samples=2000, batch_size=BATCH, validation_split=0.0)
    chunks = []
    paced.worker.batches.connect(chunks.append)
    paced.train(s)
    qtbot.waitUntil(lambda: sum(len(c) for c in chunks) >= 20, timeout=RUN_MS)
    qtbot.mouseClick(paced.pause_button, Qt.LeftButton)
    qtbot.wait(800)
    qtbot.mouseClick(paced.pause_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: paced.worker.state == IDLE, timeout=RUN_MS)
    _check_rate(paced, 2000)
    _check_eta(paced, 2000)
    assert any("samples/s" in t and "ETA" in t for t in paced.texts)
    assert any(t == "Evaluating on the test set…" for t in paced.texts)  # after training, before "Done"
    assert paced.progress_bar.text().startswith("Done")

    # "Train 1 more epoch": the continuation has its own warm-up batch (a new thread), left out again.
    for stamps in (paced.stamps, paced.epoch_ends, paced.batch_ends, paced.pauses):
        stamps.clear()
    paced.pace["warm_up"] = True
    assert paced.train_more(1)
    qtbot.waitUntil(lambda: paced.worker.state == IDLE, timeout=RUN_MS)
    _check_rate(paced, 2000)
    _check_eta(paced, 2000)
    last = _train_phase(paced.stamps)[-1][1]
    assert (last.epoch, last.epochs) == (2, 2)


@pytest.mark.slow
def test_eta_counts_the_validation_passes(qtbot, paced):
    # 2,000 samples, half held out: 32 training batches (0.7 s) and a 1 s validation pass per epoch.
    paced.pace.update(eval=True, warm_up=False)
    s = settings(max_train_samples=2000, batch_size=BATCH, validation_split=0.5, epochs=3)
    paced.train(s)
    qtbot.waitUntil(lambda: paced.worker.state == IDLE, timeout=RUN_MS)
    _check_eta(paced, 1000, validation=True)
    assert [p.phase for _, p in paced.stamps if p.phase != "train"] == ["validate"] * 3 + ["test"]
    assert any("validating" in t for t in paced.texts)


def test_pause_resume_pause_shows_paused_once(qtbot, paced):
    paced.pace["warm_up"] = False
    chunks = []
    paced.worker.batches.connect(chunks.append)
    paced.train(settings(max_train_samples=2000, batch_size=BATCH, validation_split=0.0))
    qtbot.waitUntil(lambda: sum(len(c) for c in chunks) >= 3 and paced.progress_bar.text().startswith("Epoch"),
                    timeout=RUN_MS)
    qtbot.mouseClick(paced.pause_button, Qt.LeftButton)
    qtbot.mouseClick(paced.pause_button, Qt.LeftButton)
    qtbot.mouseClick(paced.pause_button, Qt.LeftButton)  # quicker than the next progress line
    assert paced.progress_bar.text().startswith("Paused · Epoch 1/1")
    assert paced.progress_bar.text().count("Paused") == 1
    qtbot.mouseClick(paced.pause_button, Qt.LeftButton)
    assert "Paused" not in paced.progress_bar.text()
    qtbot.mouseClick(paced.stop_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: paced.worker.state == IDLE, timeout=RUN_MS)
