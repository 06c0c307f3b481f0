"""TrainingSession on a slice of the real MNIST: listener calls, stop, pause/resume, NaN, train more,
best-weights checkpoint, errors reported instead of raised."""
import math
import threading
import time

import numpy as np
import pytest

from tests.visualkeras_app.training.conftest import tiny_cnn, tiny_mlp
from visualkeras_app.training.data import prepare_for_model
from visualkeras_app.training.session import BatchPoint, Progress, TrainingSession
from visualkeras_app.training.settings import TrainSettings


class Recorder:
    def __init__(self):
        self.batches, self.epochs, self.progress, self.messages, self.errors, self.finished = [], [], [], [], [], []
        self.session = None
        self.after_batch = None

    def on_batch(self, p):
        self.batches.append(p)
        if self.after_batch:
            self.after_batch(self, p)

    def on_epoch(self, epoch, logs):
        self.epochs.append((epoch, logs))

    def on_progress(self, p):
        self.progress.append(p)

    def on_message(self, text):
        self.messages.append(text)

    def on_error(self, text):
        self.errors.append(text)

    def on_finished(self, record):
        self.finished.append(record)


def _session(dataset, settings=None, model=None, **kw):
    model = model or tiny_cnn()
    rec = Recorder()
    s = TrainingSession(model, prepare_for_model(dataset, model), settings or TrainSettings(**kw), listener=rec)
    rec.session = s
    return s, rec


@pytest.mark.slow
def test_listener_hears_every_batch_epoch_and_the_end(mnist_small):
    s, rec = _session(mnist_small, epochs=2, batch_size=64, validation_split=0.25, learning_rate=3e-3)
    record = s.run()
    assert s.error is None and rec.errors == []
    assert len(s.x_fit) == 384 and s.batches_per_epoch == 6
    assert [(p.step, p.epoch, p.batch) for p in rec.batches] == [(i, i // 6, i % 6) for i in range(12)]
    assert all(isinstance(p, BatchPoint) and 0 <= p.accuracy <= 1 and p.loss > 0 for p in rec.batches)
    # one-cycle: the rate rises, then falls to a tiny value
    lrs = [p.lr for p in rec.batches]
    assert lrs[0] == pytest.approx(3e-3 / 25) and max(lrs) > 2.5e-3 and lrs[-1] < 1e-6
    assert [e for e, _ in rec.epochs] == [0, 1] and {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(rec.epochs[0][1])
    assert [p.phase for p in rec.progress if p.phase != "train"] == ["validate", "validate", "test"]
    last = [p for p in rec.progress if p.phase == "train"][-1]
    assert isinstance(last, Progress) and (last.epoch, last.epochs, last.batch, last.batches) == (2, 2, 6, 6)
    # what is left after the last batch: the last validation pass, as long as the first one took
    assert last.samples_per_s > 0 and 0 < last.eta_s < 10
    assert rec.finished == [record] and record.stopped_reason == "finished"
    assert [e["epoch"] for e in record.epochs] == [1, 2] and record.batches.total == 12
    assert 0 <= record.test_accuracy <= 1 and record.test_loss > 0 and record.duration_s > 0
    logs = model_eval = s.model.evaluate(s.prepared.x_test, s.prepared.y_test, verbose=0, return_dict=True)
    assert record.test_accuracy == pytest.approx(model_eval["accuracy"]) and logs["loss"] == pytest.approx(record.test_loss)


def test_batch_points_are_the_batches_own_values(mnist_small):
    # 512 samples, batch 100: five full batches and one of 12; the size-weighted mean of the per-batch
    # losses is the epoch's loss that fit logs.
    s, rec = _session(mnist_small, epochs=1, batch_size=100, validation_split=0.0)
    s.run()
    sizes = np.array([100] * 5 + [12])
    losses = np.array([p.loss for p in rec.batches])
    accs = np.array([p.accuracy for p in rec.batches])
    logs = rec.epochs[0][1]
    assert np.sum(losses * sizes) / 512 == pytest.approx(logs["loss"], rel=1e-6)
    assert np.sum(accs * sizes) / 512 == pytest.approx(logs["accuracy"], abs=1e-6)
    assert np.allclose(accs * sizes, np.round(accs * sizes), atol=1e-3)  # whole numbers of right answers


def test_stop_mid_epoch_ends_cleanly_and_the_model_stays_usable(mnist_small):
    s, rec = _session(mnist_small, epochs=3, batch_size=32, validation_split=0.1)

    def stop_at_3(r, p):
        if p.step == 2:
            r.session.request_stop()
    rec.after_batch = stop_at_3
    record = s.run()
    assert len(rec.batches) == 3 and record.stopped_reason == "stopped"
    assert "val_loss" not in rec.epochs[0][1]  # no validation pass delays a stop
    assert record.epochs[0]["partial"] == 1.0 and record.test_accuracy is not None
    out = s.model.predict(s.prepared.x_test[:5], verbose=0)
    assert out.shape == (5, 10) and np.allclose(out.sum(1), 1, atol=1e-5)


@pytest.mark.slow
def test_pause_blocks_until_resume_and_continues_the_same_run(mnist_small):
    s, rec = _session(mnist_small, epochs=1, batch_size=64, validation_split=0.0)
    resumed_at = []

    def pause_at_1(r, p):
        if p.step == 1:
            r.session.pause()
            threading.Timer(0.3, lambda: (resumed_at.append(time.perf_counter()), r.session.resume())).start()
    rec.after_batch = pause_at_1
    t0 = time.perf_counter()
    record = s.run()
    assert resumed_at and time.perf_counter() - t0 >= 0.3
    assert [p.step for p in rec.batches] == list(range(8)) and record.stopped_reason == "finished"
    assert "Paused." in rec.messages and "Resumed." in rec.messages
    assert record.duration_s < time.perf_counter() - t0 - 0.25  # paused time is not training time


def test_stop_releases_a_pause(mnist_small):
    s, rec = _session(mnist_small, epochs=1, batch_size=64, validation_split=0.0)

    def pause_at_0(r, p):
        if p.step == 0:
            r.session.pause()
            threading.Timer(0.1, r.session.request_stop).start()
    rec.after_batch = pause_at_0
    record = s.run()
    assert len(rec.batches) == 1 and record.stopped_reason == "stopped"


def test_nan_loss_stops_with_a_message(mnist_small):
    s, rec = _session(mnist_small, epochs=2, batch_size=64, validation_split=0.0)
    s.x_fit = s.x_fit.copy()
    s.x_fit[:] = np.nan
    with pytest.warns(RuntimeWarning):  # fit's own epoch-end warning
        record = s.run()
    assert len(rec.batches) == 1 and math.isnan(rec.batches[0].loss)
    assert record.stopped_reason == "nan" and record.test_accuracy is None
    assert any("loss became nan" in m for m in rec.messages)


@pytest.mark.slow
def test_train_more_continues_epochs_and_curves(mnist_small):
    s, rec = _session(mnist_small, epochs=1, batch_size=128, validation_split=0.0)
    s.run()
    w_after_first = [w.copy() for w in s.model.get_weights()]
    iterations = s.model.optimizer.iterations
    record = s.train_more(2)
    assert [e["epoch"] for e in record.epochs] == [1, 2, 3] and s.epochs_done == 3
    assert [p.step for p in rec.batches] == list(range(12)) and [p.epoch for p in rec.batches][4:] == [1] * 4 + [2] * 4
    assert s.model.optimizer.iterations == iterations + 8  # the same optimizer, its state kept
    assert rec.batches[4].lr == pytest.approx(s.settings.learning_rate / 25)  # a fresh cycle
    assert not np.allclose(w_after_first[0], s.model.get_weights()[0])
    with pytest.raises(ValueError, match="epochs=0"):
        s.train_more(0)


@pytest.mark.slow
def test_best_validation_weights_are_kept_and_restored(mnist_small):
    s, rec = _session(mnist_small, epochs=3, batch_size=64, validation_split=0.25, learning_rate=3e-3)
    s.run()
    val = [logs["val_loss"] for _, logs in rec.epochs]
    assert s.best_epoch == int(np.argmin(val)) and s.best_val_loss == min(val)
    best = [w.copy() for w in s.best_weights]
    s.model.set_weights([np.zeros_like(w) for w in best])
    assert s.restore_best()
    for a, b in zip(s.model.get_weights(), best):
        np.testing.assert_array_equal(a, b)
    assert any(m.startswith(f"Restored the weights of epoch {s.best_epoch + 1}") for m in rec.messages)


@pytest.mark.slow
def test_no_validation_no_checkpoint(mnist_small):
    s, _ = _session(mnist_small, epochs=1, validation_split=0.0, max_train_samples=64)
    s.run()
    assert s.best_weights is None and not s.restore_best()


def test_an_error_is_reported_not_raised(mnist_small):
    s, rec = _session(mnist_small, epochs=1, validation_split=0.0)

    def boom(r, p):
        raise RuntimeError("listener exploded")
    rec.after_batch = boom
    record = s.run()
    assert isinstance(s.error, RuntimeError) and record.stopped_reason.startswith("error: RuntimeError")
    assert len(rec.errors) == 1 and "listener exploded" in rec.errors[0] and rec.finished == []


def test_constant_schedule_sgd_and_an_mlp(mnist_small):
    s, rec = _session(mnist_small, model=tiny_mlp(activation="linear"), epochs=3, optimizer="sgd",
                      schedule="constant", learning_rate=0.1, validation_split=0.0)
    assert s.prepared.from_logits
    record = s.run()
    assert s.error is None and {p.lr for p in rec.batches} == {0.1}
    assert record.test_accuracy > 0.5  # logits trained with from_logits crossentropy do learn
