"""One training run of an engine model, observable and controllable from another thread.

``TrainingSession.run()`` blocks (the Qt worker calls it in a thread; the CLI calls it directly). A
*listener* (any object; every method optional) hears about it::

    on_batch(BatchPoint)      after every batch: the batch's own loss and accuracy, the learning rate
    on_progress(Progress)     a few times a second: epoch, batch, samples/s, ETA; and when validation or the
                              test-set evaluation begins (``phase``)
    on_epoch(epoch, logs)     after every epoch (0-based, as Keras), logs with val_* when validating
    on_message(text)          something a person should read (NaN loss, restored weights...)
    on_finished(RunRecord)    at the end, whatever the reason (finished, stopped, NaN)
    on_error(text)            training raised; the session does not re-raise (``session.error`` holds it)

``request_stop()``, ``pause()`` and ``resume()`` may be called from any thread; they take effect
between batches. Everything per batch uses only the floats ``fit`` already computes for its logs.
"""
from __future__ import annotations

import collections
import math
import threading
import time
import traceback
from dataclasses import dataclass

import numpy as np

import torch

from engine import backend, mixed_precision
from engine.callbacks import Callback
from engine.optimizers.schedules import LearningRateSchedule, OneCycle
from visualkeras_app.training.data import Prepared
from visualkeras_app.training.eta import EtaEstimator
from visualkeras_app.training import precision
from visualkeras_app.training.runs import BATCH_KEYS, BatchCurve, RunRecord, new_run_id
from visualkeras_app.training.settings import TrainSettings
from visualkeras_app.training.thread_tuner import ThreadTuner
from visualkeras_app.validation import check_positive_int

_PROGRESS_EVERY_S = 0.1
_RATE_WINDOW_S = 10.0
# Before the first validation pass is timed, its cost per sample is guessed as a third of a training
# sample's (a forward pass without the backward one and the update).
_EVAL_COST = 1.0 / 3.0


@dataclass
class BatchPoint:
    """One training batch. ``step`` counts batches over the whole run (0-based); ``epoch`` and ``batch``
    are 0-based as in Keras's callbacks; ``loss``/``accuracy`` are this batch's own values (not the
    epoch's running mean); ``lr`` is the rate its update used."""

    step: int
    epoch: int
    batch: int
    loss: float
    accuracy: float | None
    lr: float
    epoch_pos: float = math.nan  # epochs done at this batch's end: epoch + (batch + 1) / batches per epoch
    time_s: float = math.nan  # wall-clock seconds since the run started (pauses included, as TensorBoard's)


@dataclass
class Progress:
    """Where the run is: ``epoch`` and ``batch`` are 1-based counts done, for display.

    ``samples_per_s`` is the training rate over the last few seconds, on a clock that stops while paused or
    validating, and leaving out the first batch of each ``fit`` call (its warm-up: memory, kernel choice, a
    new thread's OpenMP team); ``nan`` until two batches are done. ``eta_s`` is the time until training
    ends: the batches left at the run's mean rate since its warm-up (`EtaEstimator`: steady, where the last
    seconds' rate swings) plus the validation passes left (``nan`` while unknown); the
    test-set evaluation after it is the ``"test"`` phase. ``phase`` is ``"train"`` (after a batch),
    ``"validate"`` (a validation pass begins) or ``"test"`` (the test-set evaluation begins).
    """

    epoch: int
    epochs: int
    batch: int
    batches: int
    samples_per_s: float
    eta_s: float
    phase: str = "train"


class _TrainingRate:
    """Samples/s over the last ``window_s`` seconds of a ``fit`` call, from the second batch on.

    Time runs on a clock that leaves out what ``exclude`` is given (pauses, validation passes), so the rate
    is the training's own and a pause never shows as a slow-down.
    """

    def __init__(self, window_s=_RATE_WINDOW_S):
        self.window_s = window_s
        self._points = collections.deque()  # (clock, samples done in this fit call)
        self._excluded = 0.0

    def exclude(self, seconds):
        self._excluded += seconds

    def add(self, samples_done):
        t = time.perf_counter() - self._excluded
        pts = self._points
        pts.append((t, samples_done))
        # Keep the oldest point that still spans the window; the first one (after the warm-up batch) goes
        # only once the window is full.
        while len(pts) > 2 and t - pts[1][0] >= self.window_s:
            pts.popleft()

    def samples_per_s(self):
        if len(self._points) < 2:
            return math.nan
        (t0, s0), (t1, s1) = self._points[0], self._points[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else math.nan


class _Offset(LearningRateSchedule):
    """A schedule started at optimizer step ``start``: "train more" gets a fresh cycle of its own."""

    def __init__(self, schedule, start):
        self.schedule, self.start = schedule, start

    def get_config(self):
        return {"schedule": self.schedule.get_config(), "start": self.start}

    def __call__(self, step):
        return self.schedule(max(float(step) - self.start, 0.0))


def _listener_methods(listener):
    names = ("on_batch", "on_progress", "on_epoch", "on_message", "on_finished", "on_error")
    return {n: getattr(listener, n, None) for n in names} if listener is not None else dict.fromkeys(names)


class TrainingSession:
    """Train ``model`` on ``prepared`` data with ``settings``, reporting to ``listener``.

    Args:
        model: An engine model (its weights are trained in place and stay usable after a stop).
        prepared: The data from ``data.prepare``/``prepare_for_model``.
        settings: A ``TrainSettings``.
        listener: Any object with some of the ``on_*`` methods (see the module docstring), or None.
        name: The run's name in the run list (default "Run <id>").
        verbose: Keras's ``verbose`` for ``fit`` (1 prints the progress bar; the app uses 0).
    """

    def __init__(self, model, prepared: Prepared, settings: TrainSettings | None = None, listener=None,
                 name=None, verbose=0, tune_threads=True):
        self.model = model
        self.prepared = prepared
        self.settings = settings or TrainSettings()
        self.settings.validate()
        # The dtype policy the run computes in ("auto" settled for this device), e.g. "mixed_bfloat16".
        self.policy = precision.resolve(self.settings.precision, self.settings.device)
        self._on = _listener_methods(listener)
        self.verbose = verbose
        rid = new_run_id()
        self.record = RunRecord(rid, name or f"Run {rid}", self.settings, batches=BatchCurve(BATCH_KEYS))
        self.error = None
        self.best_weights = None
        self.best_epoch = None
        self.best_val_loss = math.inf
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()  # set = not paused
        self._compiled = False
        # On a CPU, the batches run on the fastest thread count for this model and machine (thread_tuner.py).
        self.thread_tuner = None
        self._tune_threads = bool(tune_threads)
        self._epochs_done = 0
        self._step = 0
        self._split_data()

    # ------------------------------------------------------------------ control (any thread)
    def request_stop(self):
        """Stop before the next batch; a paused run is released to stop. ``fit`` ends cleanly."""
        self._stop.set()
        self._running.set()

    def pause(self):
        """Block the training thread after the current batch until ``resume`` (or ``request_stop``)."""
        self._running.clear()

    def resume(self):
        self._running.set()

    @property
    def paused(self):
        return not self._running.is_set()

    @property
    def stop_requested(self):
        return self._stop.is_set()

    @property
    def epochs_done(self):
        return self._epochs_done

    # ------------------------------------------------------------------ running
    def _split_data(self):
        p, s = self.prepared, self.settings
        x, y = p.x_train, p.y_train
        self.x_val = self.y_val = None
        if s.validation_split:
            # Keras's rule: the last fraction of the samples, before shuffling.
            split_at = int(math.floor(len(x) * (1.0 - s.validation_split)))
            if 0 < split_at < len(x):
                self.x_val, self.y_val = x[split_at:], y[split_at:]
                x, y = x[:split_at], y[:split_at]
        self.x_fit, self.y_fit = x, y
        self.batches_per_epoch = max(1, math.ceil(len(x) / self.settings.batch_size))

    def _make_schedule(self, epochs):
        s = self.settings
        if s.schedule == "constant":
            return None
        total = max(1, epochs * self.batches_per_epoch)
        return OneCycle(float(s.learning_rate), total)

    def _compile(self, epochs):
        import engine
        from engine import losses, optimizers

        s = self.settings
        backend.set_device(s.device)
        self._schedule = self._make_schedule(epochs)
        opt_cls = type(optimizers.get(s.optimizer))
        opt = opt_cls(learning_rate=self._schedule if self._schedule is not None else float(s.learning_rate))
        loss = self.prepared.loss
        if self.prepared.from_logits:
            cls = {"sparse_categorical_crossentropy": losses.SparseCategoricalCrossentropy,
                   "categorical_crossentropy": losses.CategoricalCrossentropy,
                   "binary_crossentropy": losses.BinaryCrossentropy}.get(loss)
            if cls is not None:
                loss = cls(from_logits=True)
        self.model.compile(optimizer=opt, loss=loss, metrics=["accuracy"])
        self._compiled = True
        del engine

    def _lr_at(self, step):
        return self.model.optimizer.learning_rate_at(step)

    def run(self) -> RunRecord:
        """Train for ``settings.epochs``, evaluate on the test set, and return the run's record."""
        from engine import backend

        backend.set_seed(self.settings.seed)
        return self._fit(self.settings.epochs, fresh=True)

    def train_more(self, epochs) -> RunRecord:
        """Continue the same model, optimizer state and record for ``epochs`` more epochs.

        With the one-cycle schedule the new epochs get a cycle of their own (warm-up and annealing
        over just those steps), so the rate is not stuck at the end of the finished cycle.
        """
        check_positive_int("epochs", epochs)
        if not self._compiled:
            return self._fit(epochs, fresh=True)
        sched = self._make_schedule(epochs)
        if sched is not None:
            self.model.optimizer.learning_rate = _Offset(sched, self.model.optimizer.iterations)
        return self._fit(epochs, fresh=False)

    def _fit(self, epochs, fresh):
        if self.policy != "float32":
            why = " (Auto: this device multiplies bfloat16 in hardware)" if self.settings.precision == "auto" else ""
            self._emit("on_message", f"Training in {precision.TITLES[self.policy].lower()}{why}; the weights stay "
                                     "float32.")
        rec = self.record
        self._stop.clear()  # a pause clicked before the run started holds (``_running`` is left as it is)
        self.error = None
        self._nan = False
        start = self._epochs_done
        cb = _SessionCallback(self, start + epochs)
        t0 = time.perf_counter()
        threads = torch.get_num_threads()
        try:
            # The run's precision holds from compile (mixed_float16 wraps the optimizer for loss scaling) through
            # the validation passes; the test-set evaluation after computes as the saved model does.
            with mixed_precision.policy_scope(self.model, self.policy):
                if fresh and not self._compiled:
                    self._compile(epochs)
                self.model.fit(self.x_fit, self.y_fit, batch_size=self.settings.batch_size, epochs=start + epochs,
                               initial_epoch=start, shuffle=True, verbose=self.verbose,
                               callbacks=self._thread_callbacks(threads) + [cb])
        except Exception as e:  # reported to the listener; the app keeps running
            self.error = e
            rec.duration_s += time.perf_counter() - t0 - cb.paused_s
            rec.stopped_reason = f"error: {type(e).__name__}: {e}"
            self._emit("on_error", _error_text(e))
            return rec
        finally:
            torch.set_num_threads(threads)  # the tuner's count was for this run's batches only
        rec.duration_s += time.perf_counter() - t0 - cb.paused_s - cb.val_s
        if self._nan:
            rec.stopped_reason = "nan"
        elif self._stop.is_set():
            rec.stopped_reason = "stopped"
        else:
            rec.stopped_reason = "finished"
        if not self._nan:
            self._emit("on_progress", cb.progress(math.nan, "test"))
        try:
            self.evaluate_test()
        except Exception as e:  # reported to the listener, as a failed run is
            self.error = e
            self._emit("on_error", _error_text(e))
        self._emit("on_finished", rec)
        return rec

    def _thread_callbacks(self, threads):
        """[the ThreadTuner] on a CPU with more than one thread (first: it times a batch before the session's
        callback may pause after it), else []."""
        if not self._tune_threads or threads < 2 or backend.get_device().type != "cpu":
            return []
        if self.thread_tuner is None:
            self.thread_tuner = ThreadTuner(threads, torch.set_num_threads)
        return [self.thread_tuner]

    def evaluate_test(self):
        """Test loss and accuracy (``model.evaluate``) into the record; skipped after a NaN loss."""
        rec = self.record
        if self._nan:
            rec.test_loss = rec.test_accuracy = None
            return rec
        p = self.prepared
        logs = self.model.evaluate(p.x_test, p.y_test, batch_size=max(256, self.settings.batch_size), verbose=0,
                                   return_dict=True)
        rec.test_loss = float(logs["loss"])
        rec.test_accuracy = float(logs["accuracy"]) if "accuracy" in logs else None
        return rec

    def restore_best(self) -> bool:
        """Put back the weights of the epoch with the lowest validation loss; False when there are none
        (no validation split, or no epoch finished)."""
        if self.best_weights is None:
            return False
        self.model.set_weights(self.best_weights)
        self._emit("on_message", f"Restored the weights of epoch {self.best_epoch + 1} "
                                 f"(val_loss {self.best_val_loss:.4f}).")
        return True

    def _emit(self, name, *args):
        fn = self._on.get(name)
        if fn is not None:
            fn(*args)


def _error_text(e):
    fix = getattr(e, "fix", "")
    tb = traceback.extract_tb(e.__traceback__)
    where = f" (at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno})" if tb else ""
    text = f"Training failed: {type(e).__name__}: {getattr(e, 'message', None) or e}{where}"
    return f"{text}\nFix: {fix}" if fix else text


class _SessionCallback(Callback):
    """Feeds the listener and the record from ``fit``'s per-batch logs, and applies stop/pause."""

    def __init__(self, session, epochs):
        super().__init__()
        self.s = session
        self.epochs = epochs
        self.start_epoch = session._epochs_done
        self.n = len(session.x_fit)
        self.n_val = 0 if session.x_val is None else len(session.x_val)
        self.bs = session.settings.batch_size
        self.nb = session.batches_per_epoch
        self.paused_s = 0.0
        self.val_s = 0.0
        on = session._on
        self.on_batch, self.on_progress = on["on_batch"], on["on_progress"]
        self.append = session.record.batches.append
        self._prev_loss_total = 0.0
        self._prev_acc_total = 0.0
        self._next_progress = 0.0
        self._last_batch = -1
        self._epoch = self.start_epoch
        self._seen = 0
        self._rate = _TrainingRate()
        self._eta = EtaEstimator()  # the ETA's pace: the mean since the warm-up, steady over the run
        self._eta_clock = 0.0
        self._val_pass_s = None  # the last validation pass's duration

    def on_epoch_begin(self, epoch, logs=None):
        self._prev_loss_total = 0.0
        self._prev_acc_total = 0.0
        self._last_batch = -1
        self._epoch = epoch
        self._seen = 0

    def progress(self, rate, phase="train"):
        """A `Progress` at the current batch; ``eta_s`` from ``rate`` (samples/s)."""
        epoch, seen = self._epoch, self._seen
        eta = math.nan  # the test phase: no estimate
        if phase != "test":
            left = (self.n - seen) + (self.epochs - epoch - 1) * self.n
            pace = self._eta.rate()
            eta = left / pace if pace > 0 else left / rate if rate > 0 else math.nan
            if self.n_val:
                # This epoch's pass (about to run, or running) and every later epoch's.
                passes = self.epochs - epoch
                per_pass = self._val_pass_s if self._val_pass_s is not None else \
                    self.n_val * _EVAL_COST / rate if rate > 0 else math.nan
                eta += passes * per_pass
        return Progress(epoch + 1, self.epochs, self._last_batch + 1, self.nb, rate, eta, phase)

    def on_train_batch_end(self, batch, logs=None):
        s = self.s
        self._last_batch = batch
        seen = min((batch + 1) * self.bs, self.n)
        size = seen - min(batch * self.bs, self.n)
        self._seen = seen
        # fit logs running means over the epoch; the batch's own values are the difference of the sums.
        loss_total = logs["loss"] * seen
        loss = (loss_total - self._prev_loss_total) / size
        self._prev_loss_total = loss_total
        acc = logs.get("accuracy")
        if acc is not None:
            acc_total = acc * seen
            acc = min(max((acc_total - self._prev_acc_total) / size, 0.0), 1.0)
            self._prev_acc_total = acc_total
        step = s._step
        s._step = step + 1
        lr = s._lr_at(s.model.optimizer.iterations - 1)
        epoch = s._epochs_done
        epoch_pos = epoch + (batch + 1) / self.nb
        wall = time.time() - s.record.started_at
        self.append(step, loss, acc if acc is not None else math.nan, lr, epoch_pos, wall)
        if self.on_batch is not None:
            self.on_batch(BatchPoint(step, epoch, batch, loss, acc, lr, epoch_pos, wall))
        if not math.isfinite(logs["loss"]):
            s._nan = True
            s._stop.set()
            s._emit("on_message", f"The loss became {logs['loss']} at epoch {epoch + 1}, batch {batch + 1}: "
                                  "training stopped. Lower the learning rate, or check the data for NaN values.")
        self._rate.add((self._epoch - self.start_epoch) * self.n + seen)
        self._eta_clock = max(self._eta_clock, time.perf_counter() - self._rate._excluded)
        self._eta.add(self._eta_clock, (self._epoch - self.start_epoch) * self.n + seen)
        now = time.perf_counter()
        if self.on_progress is not None and (now >= self._next_progress or batch + 1 == self.nb):
            self._next_progress = now + _PROGRESS_EVERY_S
            self.on_progress(self.progress(self._rate.samples_per_s()))
        self._hold_while_paused()

    def on_train_begin(self, logs=None):
        self._hold_while_paused()  # a Pause clicked while the run was being prepared holds before its first batch

    def _hold_while_paused(self):
        s = self.s
        if not s._running.is_set():
            t = time.perf_counter()
            s._emit("on_message", "Paused.")
            s._running.wait()
            waited = time.perf_counter() - t
            self.paused_s += waited
            self._rate.exclude(waited)
            if not s._stop.is_set():
                s._emit("on_message", "Resumed.")
        if s._stop.is_set():
            s.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        s = self.s
        stopped_mid_epoch = self._last_batch + 1 < self.nb
        # Validate here rather than in fit, so that a stop does not wait for a validation pass.
        if s.x_val is not None and not stopped_mid_epoch and not s._nan:
            if self.on_progress is not None:
                self.on_progress(self.progress(self._rate.samples_per_s(), "validate"))
            t = time.perf_counter()
            val = s.model.evaluate(s.x_val, s.y_val, batch_size=max(256, self.bs), verbose=0, return_dict=True)
            s.model.train()
            self._val_pass_s = time.perf_counter() - t
            self.val_s += self._val_pass_s
            self._rate.exclude(self._val_pass_s)
            for k, v in val.items():
                logs["val_" + k] = v
            if math.isfinite(val["loss"]) and val["loss"] < s.best_val_loss:
                s.best_val_loss = val["loss"]
                s.best_epoch = epoch
                s.best_weights = [np.array(w, copy=True) for w in s.model.get_weights()]
        s._epochs_done = epoch + 1
        entry = {"epoch": epoch + 1}
        entry.update({k: float(v) for k, v in logs.items() if isinstance(v, (int, float))})
        if stopped_mid_epoch:
            entry["partial"] = 1.0
        s.record.epochs.append(entry)
        s._emit("on_epoch", epoch, dict(logs))
