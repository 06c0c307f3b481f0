"""Long work off the GUI thread with a progress dialog and Cancel, for the caller as one call.

``run_in_background(parent, label, fn)`` runs ``fn()`` in a worker thread and waits for it in a local
event loop, so the window keeps painting and answering while a 20,000-layer file loads. ``fn`` reports
through ``engine.utils.progress_utils.report`` (the engine's loaders and the document converter do);
Cancel makes the next report raise ``LoadCancelled``, which this function raises to its caller. Any
other exception from ``fn`` is raised here, in the GUI thread, as if ``fn`` had run here.

``fn`` must not touch Qt widgets: it runs in another thread (documents and engine models are Qt-free).
"""
from __future__ import annotations

import threading

from PySide6.QtCore import QEventLoop, QThread, Qt, Signal
from PySide6.QtWidgets import QProgressDialog

from engine.utils.progress_utils import LoadCancelled, reporting

__all__ = ["run_in_background", "LoadCancelled", "BACKGROUND_BYTES"]

# Files at least this big (about 1,000 layers, or any model with real weights) open in the background
# with a progress dialog; smaller ones open at once.
BACKGROUND_BYTES = 64_000


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
        try:
            with reporting(self._progress):
                self.result = self._fn()
        except BaseException as exc:  # handed to the GUI thread, raised there (LoadCancelled included)
            self.error = exc


def run_in_background(parent, label, fn):
    """``fn()`` in a worker thread behind a window-modal progress dialog with Cancel; its result."""
    worker = _Worker(fn)
    dialog = QProgressDialog(label, "Cancel", 0, 0, parent)
    dialog.setWindowTitle("Opening")
    dialog.setWindowModality(Qt.WindowModal)
    dialog.setMinimumDuration(0)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)

    def show(stage, done, total):
        dialog.setLabelText(f"{label}\n{stage}: {done:,} of {total:,}")
        dialog.setMaximum(max(total, 1))
        dialog.setValue(min(done, total))

    def cancel():
        worker.cancel_requested.set()
        dialog.setLabelText(f"{label}\nCancelling…")

    loop = QEventLoop()
    worker.progressed.connect(show, Qt.QueuedConnection)
    worker.finished.connect(loop.quit, Qt.QueuedConnection)
    dialog.canceled.connect(cancel)
    dialog.show()
    worker.start()
    if not worker.isFinished():
        loop.exec()
    worker.wait()
    dialog.canceled.disconnect(cancel)
    dialog.close()
    dialog.deleteLater()
    if worker.error is not None:
        raise worker.error
    return worker.result
