"""`TrainingWorker`: runs a `TrainingSession` off the GUI thread and forwards what it reports as Qt signals.

Nothing crosses threads as a Python object inside a Qt signal: the training thread only appends to a deque
(append and popleft are atomic), and a GUI-side timer drains it at most ``emit_hz`` times a second. Batch
points become one `BatchChunk` of NumPy arrays per drain (a queued signal per batch would cost an event and
a GIL hand-over per batch); epoch ends, messages, the finished record and errors are dispatched in order
with them. Besides being cheap, this sidesteps queued signals carrying Python objects between threads,
which crashed PySide6 6.12 here ("none_dealloc" in the GUI thread while training).
"""
from __future__ import annotations

import collections
import math
import os
import threading
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from visualkeras_app.training_ui.threads import use_training_threads

IDLE, PREPARING, RUNNING, PAUSED, STOPPING = "idle", "preparing", "running", "paused", "stopping"

_dataset_cache: dict = {}
_dataset_lock = threading.Lock()


def cached_dataset(name_or_path):
    """`load_dataset` once per name (or per file and modification time): MNIST takes a second to parse."""
    from visualkeras_app.training.data import load_dataset

    key = name_or_path
    if isinstance(name_or_path, (str, os.PathLike)) and os.path.isdir(name_or_path):
        # A folder of images changes when a file is added to a class subfolder: every folder's time counts.
        key = (os.path.abspath(name_or_path), max(os.path.getmtime(root) for root, _, _ in os.walk(name_or_path)))
    elif isinstance(name_or_path, (str, os.PathLike)) and os.path.exists(name_or_path):
        key = (os.path.abspath(name_or_path), os.path.getmtime(name_or_path))
    with _dataset_lock:
        ds = _dataset_cache.get(key)
        if ds is None:
            ds = load_dataset(os.fspath(name_or_path))
            _dataset_cache[key] = ds
        return ds


@dataclass
class BatchChunk:
    """The batch points that arrived since the last emission, as arrays of one length.

    Attributes:
        step: global batch index (0-based, counting across epochs and "train more" continuations).
        epoch: epoch index of each point.
        loss, accuracy, lr: per-batch values (``nan`` where the model reports no accuracy).
        epoch_pos, time_s: the x positions in epochs and in wall-clock seconds (``nan`` where unknown).
    """

    step: np.ndarray
    epoch: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    lr: np.ndarray
    epoch_pos: np.ndarray = None  # epochs done at each batch's end (fractional)
    time_s: np.ndarray = None  # wall-clock seconds since the run started

    def __post_init__(self):
        for name in ("epoch_pos", "time_s"):
            if getattr(self, name) is None:
                setattr(self, name, np.full(len(self.step), np.nan))

    def __len__(self):
        return len(self.step)

    @classmethod
    def from_points(cls, points):
        def col(name):
            return np.fromiter((_num(getattr(p, name, None)) for p in points), dtype=np.float64, count=len(points))

        return cls(col("step"), col("epoch"), col("loss"), col("accuracy"), col("lr"), col("epoch_pos"),
                   col("time_s"))


def _num(v):
    if v is None:
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


class _Relay:
    """The session's listener; every method runs on the training thread and only appends to the queue."""

    def __init__(self, worker):
        self._w = worker
        self._q = worker._events

    def on_batch(self, point):
        self._q.append((_BATCH, point))

    def on_progress(self, progress):
        self._q.append((_PROGRESS, progress))

    def on_epoch(self, epoch, logs):
        self._q.append((_EPOCH, (int(epoch), dict(logs or {}))))

    def on_message(self, text):
        self._q.append((_MESSAGE, str(text)))

    def on_finished(self, record):
        self._q.append((_FINISHED, record))

    def on_error(self, text):
        self._w._failed = True
        self._q.append((_ERROR, str(text)))


_BATCH, _PROGRESS, _EPOCH, _MESSAGE, _FINISHED, _ERROR, _STATE, _PREPARED, _MISMATCH, _RESULTS = range(10)


class _Thread(QThread):
    def __init__(self, fn, parent=None):
        super().__init__(parent)
        self._fn = fn

    def run(self):
        self._fn()


class TrainingWorker(QObject):
    """Trains a model on a data set in a `QThread`, reporting through Qt signals.

    Args:
        emit_hz: the most batch emissions (`batches` signals) per second. Each one redraws the plots on the
            GUI thread, which holds the GIL meanwhile and so holds up the training thread between two ops: 10 a
            second looks live and keeps the GUI thread under 2% of a core while training (30: about 4.5%).
        parent: the owning QObject.

    Signals:
        batches(BatchChunk): new batch points, coalesced (at most ``emit_hz`` a second).
        progress(Progress): the newest progress (epoch, batch, samples/s, ETA), with `batches`.
        epoch_ended(int, dict): an epoch's logs (loss, accuracy, val_loss, val_accuracy...).
        prepared(object): the `Prepared` data; its ``steps`` say what preprocessing was done.
        mismatch(str, str): the data set does not fit the model: the message and the suggested fix.
        message(str): a note from the session (NaN loss, best weights restored...).
        error(str): training failed; the message (never a traceback). The worker goes back to idle.
        finished(RunRecord): a run (or a "train more" continuation) ended; the record has its curves.
        results_ready(object): `Results` of the test set (confusion matrix...), computed off the GUI thread.
        state_changed(str): one of "idle", "preparing", "running", "paused", "stopping".
    """

    batches = Signal(object)
    progress = Signal(object)
    epoch_ended = Signal(int, dict)
    prepared = Signal(object)
    mismatch = Signal(str, str)
    message = Signal(str)
    error = Signal(str)
    finished = Signal(object)
    results_ready = Signal(object)
    state_changed = Signal(str)

    def __init__(self, emit_hz=10, parent=None):
        super().__init__(parent)
        self._events = collections.deque()  # (kind, payload), appended by the training thread
        self._error_reported = False
        self._failed = False
        self._stop_requested = False
        self._pause_requested = False
        self._thread = None
        self._state = IDLE
        self.session = None
        self.model = None
        self.dataset = None
        self.prepared_data = None
        self.settings = None
        self.last_record = None
        self.last_results = None
        # Intra-op threads for the training thread (None: torch's setting); see `threads`.
        self.intra_op_threads = None

        self._timer = QTimer(self)
        self._timer.setInterval(max(1, int(1000 / emit_hz)))
        self._timer.timeout.connect(self.flush)

    # ------------------------------------------------------------------ state
    @property
    def state(self) -> str:
        return self._state

    def is_running(self) -> bool:
        """True from `start` (or `train_more`) until the thread has ended."""
        return self._thread is not None and (self._thread.isRunning() or self._state != IDLE)

    def is_paused(self) -> bool:
        return self._state == PAUSED

    @Slot(str)
    def _set_state(self, state):
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    # ------------------------------------------------------------------ control (GUI thread)
    def start(self, model, settings, dataset=None) -> bool:
        """Prepare ``dataset`` (a name, a file path or a loaded `Dataset`; default ``settings.dataset``)
        for ``model`` and train it with ``settings`` in the worker thread. False when already running."""
        if self.is_running():
            return False
        self.model, self.settings = model, settings
        self.session = None
        self.last_record = self.last_results = None
        src = dataset if dataset is not None else settings.dataset
        self._launch(lambda: self._job_start(model, settings, src), PREPARING)
        return True

    def evaluate(self, model, settings, dataset=None) -> bool:
        """Evaluate ``model`` as it is (trained weights opened with it) on the test set of ``dataset`` (default
        ``settings.dataset``), without training: `results_ready` (or `mismatch`, `error`). False when busy.
        The last run's session stays (for "train more") when ``model`` is its model."""
        if self.is_running():
            return False
        if self.session is None or getattr(self.session, "model", None) is not model:
            self.session = None  # another model than the last run's: "train more" cannot continue it
            self.last_record = None
        self.model, self.settings = model, settings
        self.last_results = None
        src = dataset if dataset is not None else settings.dataset
        self._launch(lambda: self._job_evaluate(model, settings, src), PREPARING)
        return True

    def train_more(self, epochs) -> bool:
        """Continue the last run for ``epochs`` more epochs (same model, optimizer state and curves)."""
        if self.is_running() or self.session is None:
            return False
        session = self.session
        self._launch(lambda: self._job_more(session, int(epochs)), RUNNING)
        return True

    def stop(self):
        """Stop before the next batch (the session ends fit cleanly; the model stays usable)."""
        if not self.is_running():
            return
        self._stop_requested = True
        if self.session is not None:
            self.session.request_stop()
        self._set_state(STOPPING)

    def pause(self):
        if self._state not in (RUNNING, PREPARING):
            return
        self._pause_requested = True
        if self.session is not None:
            self.session.pause()
        self._set_state(PAUSED)

    def resume(self):
        if self._state != PAUSED:
            return
        self._pause_requested = False
        if self.session is not None:
            self.session.resume()
        self._set_state(RUNNING if self.session is not None else PREPARING)

    def wait(self, ms=None) -> bool:
        """Block until the thread ends (tests, closing the window); True when it did."""
        if self._thread is None:
            return True
        return self._thread.wait() if ms is None else self._thread.wait(int(ms))

    def shutdown(self, ms=3000):
        """Stop and wait: for closing the window with a run in progress."""
        self.stop()
        if self.session is not None:
            self.session.resume()
        return self.wait(ms)

    def forget(self) -> bool:
        """Drop the last run's model, data, session and results (another model was opened: "more epochs"
        must not continue the old one). False, and nothing dropped, while a run is in progress."""
        if self.is_running():
            return False
        self.session = self.model = self.dataset = self.prepared_data = self.settings = None
        self.last_record = self.last_results = None
        return True

    def _launch(self, fn, state):
        self._stop_requested = False
        self._pause_requested = False
        self._error_reported = False
        self._failed = False  # set on the training thread when the run failed
        self._events.clear()
        self._set_state(state)
        thread = _Thread(fn, self)
        thread.finished.connect(self._on_thread_finished)
        self._thread = thread
        self._timer.start()
        thread.start()

    # ------------------------------------------------------------------ training thread
    def _job_start(self, model, settings, src):
        try:
            use_training_threads(self.intra_op_threads)
            from visualkeras_app.training import data

            ds = src if hasattr(src, "x_train") else cached_dataset(src)
            self.dataset = ds
            try:
                # prepare_for_model reads the output activation too (for the loss).
                prepared = data.prepare_for_model(ds, model, settings.loss,
                                                  max_train_samples=settings.max_train_samples)
            except data.DatasetMismatch as exc:
                self._post(_MISMATCH, (str(getattr(exc, "message", None) or exc), str(getattr(exc, "fix", "") or "")))
                return
            self.prepared_data = prepared
            self._post(_PREPARED, prepared)
            if self._stop_requested:
                self._post(_MESSAGE, "Stopped before training started.")
                return
            from visualkeras_app.training.session import TrainingSession

            session = TrainingSession(model, prepared, settings, listener=_Relay(self))
            self.session = session  # before the flag is read: a Pause clicked now reaches this session either way
            if self._pause_requested:
                session.pause()
            if not self._pause_requested:
                self._post(_STATE, RUNNING)
            session.run()
            self._job_results(model, prepared, ds)
        except Exception as exc:  # any failure is reported in the window; the app keeps running
            self._report(exc)

    def _job_evaluate(self, model, settings, src):
        try:
            use_training_threads(self.intra_op_threads)
            from visualkeras_app.training import data

            ds = src if hasattr(src, "x_train") else cached_dataset(src)
            self.dataset = ds
            try:  # one training sample: only the test set is used, converting 60,000 images would be waste
                prepared = data.prepare_for_model(ds, model, settings.loss, max_train_samples=1)
            except data.DatasetMismatch as exc:
                self._post(_MISMATCH, (str(getattr(exc, "message", None) or exc), str(getattr(exc, "fix", "") or "")))
                return
            self.prepared_data = prepared
            self._post(_STATE, RUNNING)
            self._job_results(model, prepared, ds)
        except Exception as exc:  # reported in the window, as for a run
            self._report(exc)

    def _job_more(self, session, epochs):
        try:
            use_training_threads(self.intra_op_threads)
            session.train_more(epochs)
            self._job_results(session.model, self.prepared_data, self.dataset)
        except Exception as exc:  # reported in the window, as for a run
            self._report(exc)

    def _post(self, kind, payload):
        self._events.append((kind, payload))

    def _job_results(self, model, prepared, ds):
        if self._failed:
            return
        from visualkeras_app.training.results import evaluate_results

        results = evaluate_results(model, prepared, list(getattr(ds, "class_names", None) or []))
        self._post(_RESULTS, results)

    def _report(self, exc):
        if not self._failed:
            self._failed = True
            text = str(exc) or type(exc).__name__
            self._post(_ERROR, f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text)

    # ------------------------------------------------------------------ GUI thread
    @Slot()
    def flush(self):
        """Dispatch what the training thread queued since the last call, in order: batch points as one
        `BatchChunk` per run of points, only the newest progress, every other event as its signal."""
        dq = self._events
        n = len(dq)
        if not n:
            return
        points, progress = [], None
        for _ in range(n):
            kind, payload = dq.popleft()
            if kind == _BATCH:
                points.append(payload)
                continue
            if kind == _PROGRESS:
                progress = payload
                continue
            if points:
                self.batches.emit(BatchChunk.from_points(points))
                points = []
            if progress is not None:
                self.progress.emit(progress)
                progress = None
            self._dispatch(kind, payload)
        if points:
            self.batches.emit(BatchChunk.from_points(points))
        if progress is not None:
            self.progress.emit(progress)

    def _dispatch(self, kind, payload):
        if kind == _EPOCH:
            self.epoch_ended.emit(*payload)
        elif kind == _MESSAGE:
            self.message.emit(payload)
        elif kind == _FINISHED:
            self.last_record = payload
            self.finished.emit(payload)
        elif kind == _ERROR:
            self._error_reported = True
            self.error.emit(payload)
        elif kind == _STATE:
            if self._state not in (PAUSED, STOPPING):
                self._set_state(payload)
        elif kind == _PREPARED:
            self.prepared.emit(payload)
        elif kind == _MISMATCH:
            self.mismatch.emit(*payload)
        elif kind == _RESULTS:
            self.last_results = payload
            self.results_ready.emit(payload)

    @Slot()
    def _on_thread_finished(self):
        self.flush()
        self._timer.stop()
        self._set_state(IDLE)
