"""An exception that a slot lets out reaches the user as a dialog (a sentence, the traceback under Details),
not only as lines on stderr; the window a user starts has the hook installed."""
import sys

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton  # noqa: E402

from visualkeras_app import error_dialog  # noqa: E402


def close_next_dialog(seen):
    """Every 20 ms: record the modal dialog that is up (title, text, details) and close it."""
    timer = QTimer()
    timer.setInterval(20)

    def check():
        w = QApplication.activeModalWidget()
        if isinstance(w, QMessageBox):
            seen.append((w.windowTitle(), w.text(), w.detailedText()))
            w.close()

    timer.timeout.connect(check)
    timer.start()
    return timer


def test_an_exception_in_a_clicked_slot_shows_a_dialog(qtbot, monkeypatch):
    printed = []
    hook = error_dialog.ErrorDialogHook(previous=lambda *exc: printed.append(exc))
    monkeypatch.setattr(sys, "excepthook", hook)
    button = QPushButton("Do it")
    qtbot.addWidget(button)
    button.show()

    def broken():
        raise ValueError("the model has no output layer")

    button.clicked.connect(broken)
    seen = []
    timer = close_next_dialog(seen)
    qtbot.mouseClick(button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(seen), timeout=3000)
    timer.stop()
    title, text, details = seen[0]
    assert title == error_dialog.TITLE
    assert "ValueError: the model has no output layer" in text and "Traceback" not in text
    assert "Traceback" in details and "broken" in details
    assert len(printed) == 1 and printed[0][0] is ValueError  # still on stderr, for a terminal user
    assert hook.shown == 1


def test_the_users_window_installs_the_hook(qtbot, monkeypatch, tmp_path):
    from visualkeras_app.app import open_window

    monkeypatch.setenv("VISUALKERAS_RECOVERY_DIR", str(tmp_path / "recovery"))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    win = open_window(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    assert isinstance(sys.excepthook, error_dialog.ErrorDialogHook)
    assert sys.excepthook.parent() is win
