"""Unhandled exceptions in the GUI thread (a slot, an event handler) shown to the user in a dialog.

PySide prints an exception raised in a slot to stderr and goes on: a user who started the app from a desktop
icon sees a button that does nothing. `install` makes ``sys.excepthook`` also show a dialog that says what
failed in a sentence, with the traceback under "Show Details…" for a bug report.
"""
from __future__ import annotations

import sys
import threading
import traceback

TITLE = "Something went wrong"


def describe(exc_type, exc, tb=None) -> str:
    """The dialog's sentence: the exception's type and message, no traceback."""
    message = str(exc).strip() if exc is not None else ""
    name = getattr(exc_type, "__name__", str(exc_type))
    return (f"The last action did not finish because of an error in visualkeras-app:\n\n{name}: "
            f"{message or '(no message)'}\n\nYour model is still open; saving it under a new name keeps a copy. "
            "“Show Details…” has the traceback for a bug report.")


class ErrorDialogHook:
    """A ``sys.excepthook`` that calls the previous hook (stderr) and then shows a dialog.

    Args:
        previous: the hook to call first (default: the one installed now).
        parent: a callable returning the dialog's parent widget (default: none, an application-modal dialog;
            not the active window, which may be a widget about to be deleted).

    Attributes:
        shown: how many dialogs were shown (one at a time: an error while one is open is only printed).
    """

    def __init__(self, previous=None, parent=None):
        self.previous = previous if previous is not None else sys.excepthook
        self.parent = parent
        self.shown = 0
        self._open = False

    def __call__(self, exc_type, exc, tb):
        try:
            self.previous(exc_type, exc, tb)
        except Exception:  # printing must not stop the dialog
            pass
        if issubclass(exc_type, (KeyboardInterrupt, SystemExit)):
            return
        if self._open or threading.current_thread() is not threading.main_thread():
            return  # a second error inside the dialog's event loop, or a worker thread: stderr only
        try:
            self._show(exc_type, exc, tb)
        except Exception:  # a hook that raises would hide the first error
            traceback.print_exc()

    def _show(self, exc_type, exc, tb):
        from PySide6.QtWidgets import QApplication, QMessageBox

        app = QApplication.instance()
        if app is None:
            return
        parent = self.parent() if self.parent is not None else None
        box = QMessageBox(QMessageBox.Critical, TITLE, describe(exc_type, exc, tb), QMessageBox.Ok, parent)
        box.setObjectName("unhandled_error_dialog")
        box.setDetailedText("".join(traceback.format_exception(exc_type, exc, tb)))
        self._open = True
        self.shown += 1
        try:
            box.exec()
        finally:
            self._open = False
            try:
                box.deleteLater()
            except RuntimeError:  # its parent went while it was open, and took it along
                pass


def install(parent=None) -> ErrorDialogHook:
    """Install an `ErrorDialogHook` as ``sys.excepthook`` (on top of the current hook); returns it."""
    hook = ErrorDialogHook(parent=parent)
    sys.excepthook = hook
    return hook
