"""Long work off the GUI thread with a progress dialog and Cancel, for the caller as one call.

``run_in_background(parent, label, fn)`` runs ``fn()`` in a worker thread and waits for it in a local
event loop, so the window keeps painting and answering while a 20,000-layer file loads. ``fn`` reports
through ``engine.utils.progress_utils.report`` (the engine's loaders and the document converter do);
Cancel makes the next report raise ``LoadCancelled``, which this function raises to its caller. Any
other exception from ``fn`` is raised here, in the GUI thread, as if ``fn`` had run here.

``fn`` must not touch Qt widgets: it runs in another thread (documents and engine models are Qt-free).
Its torch work runs on ``WORKER_TORCH_THREADS`` intra-op thread(s), so a load next to a training run does
not take the training thread's cores. ``cancel_running(parent)`` cancels the loads a window started (a
second open, closing the window): each raises ``LoadCancelled`` to its caller as soon as ``fn`` reports.
"""
from __future__ import annotations

import contextlib
import gc
import sys
import threading

from PySide6.QtCore import QEventLoop, QThread, Qt, Signal
from PySide6.QtWidgets import QProgressDialog

from engine.utils.progress_utils import LoadCancelled, reporting

__all__ = ["run_in_background", "cancel_running", "LoadCancelled", "BACKGROUND_BYTES"]

# Files at least this big (about 1,000 layers, or any model with real weights) open in the background
# with a progress dialog; smaller ones open at once.
BACKGROUND_BYTES = 64_000
# Torch intra-op threads of a worker: building a model is many small ops, and the cores belong to training.
WORKER_TORCH_THREADS = 1
# Python hands the interpreter lock from a busy thread to a waiting one only every switch interval (5 ms by
# default). While a load runs on its worker, every return of the GUI thread from Qt into Python (a paint, a
# timer, an event filter) waits that long, and a repaint makes hundreds of them: the window froze for
# 0.5 s at a time during a 20,000-layer load. A shorter interval during loads keeps it answering.
SWITCH_INTERVAL = 0.0005

_running = []  # (parent, worker) of each load under way


@contextlib.contextmanager
def _collector_paused():
    """Python's cycle collector off while a load runs. It holds the interpreter lock for as long as it walks
    the objects, so a load that makes a million of them (a 20,000-layer file) froze the window for up to a
    second at each full collection, though the load ran on another thread. What existed before is frozen
    (``gc.freeze``: not walked again), and the loaders free what they drop by reference counting
    (``convert.release_model``), so little is left for the collector once it is back on. What the load
    made goes straight to the oldest generation (frozen with the rest, then all unfrozen there): left in
    the youngest, the next two small collections walked all of it on the GUI thread (0.1 s each for
    20,000 layers). The next full collection, when the program has made enough new objects, walks it."""
    if _running or not gc.isenabled():  # already paused by an outer load, or off by the program's choice
        yield
        return
    gc.disable()
    gc.freeze()
    switch = sys.getswitchinterval()
    sys.setswitchinterval(min(switch, SWITCH_INTERVAL))
    try:
        yield
    finally:
        sys.setswitchinterval(switch)
        gc.freeze()
        gc.unfreeze()
        gc.enable()


class _Worker(QThread):
    progressed = Signal(str, int, int)

    def __init__(self, fn, parent=None):
        super().__init__(parent)
        self._fn = fn
        self.cancel_requested = threading.Event()
        self.result = None
        self.error = None

    def _progress(self, stage, done, total):
        if self.cancel_requested.is_set():
            raise LoadCancelled()
        self.progressed.emit(stage, done, total)

    def run(self):
        torch = sys.modules.get("torch")  # not imported here: a worker that needs torch has it loaded
        if torch is not None and torch.get_num_threads() != WORKER_TORCH_THREADS:
            torch.set_num_threads(WORKER_TORCH_THREADS)  # this thread's OpenMP team only
        try:
            with reporting(self._progress):
                self.result = self._fn()
        except BaseException as exc:  # handed to the GUI thread, raised there (LoadCancelled included)
            self.error = exc


def run_in_background(parent, label, fn, title="Opening"):
    """``fn()`` in a worker thread behind a window-modal progress dialog with Cancel; its result."""
    worker = _Worker(fn)
    dialog = QProgressDialog(label, "Cancel", 0, 0, parent)
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModal)
    dialog.setMinimumDuration(0)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)

    def show(stage, done, total):
        if total <= 0:  # a step that cannot count (building a template): a busy bar
            dialog.setLabelText(f"{label}\n{stage}…")
            dialog.setRange(0, 0)
            return
        dialog.setLabelText(f"{label}\n{stage}: {done:,} of {total:,}")
        dialog.setRange(0, total)
        dialog.setValue(min(done, total))

    def cancel():
        worker.cancel_requested.set()
        dialog.setLabelText(f"{label}\nCancelling…")

    loop = QEventLoop()
    worker.progressed.connect(show, Qt.QueuedConnection)
    worker.finished.connect(loop.quit, Qt.QueuedConnection)
    dialog.canceled.connect(cancel)
    dialog.show()
    entry = (parent, worker)
    with _collector_paused():
        _running.append(entry)
        worker.start()
        try:
            if not worker.isFinished():
                loop.exec()
            worker.wait()
        finally:
            _running.remove(entry)
    dialog.canceled.disconnect(cancel)
    dialog.close()
    dialog.deleteLater()
    if worker.error is not None:
        raise worker.error
    return worker.result


def cancel_running(parent) -> int:
    """Cancel every load ``parent`` started that is still under way; how many there were."""
    count = 0
    for owner, worker in list(_running):
        if owner is parent and not worker.cancel_requested.is_set():
            worker.cancel_requested.set()
            count += 1
    return count


def is_running(parent) -> bool:
    return any(owner is parent for owner, _ in _running)
