"""Big files open off the GUI thread: a progress dialog counts the layers, Cancel stops the load and
leaves the open model as it was, and the window keeps answering while the file loads."""
import json
import time

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QProgressDialog, QPushButton  # noqa: E402

from tests.visualkeras_app.test_mainwindow import dialogs, make_window, window  # noqa: E402,F401
import visualkeras_app.background as background  # noqa: E402


def _chain_file(tmp_path, n):
    layers = [{"class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "in"}}]
    layers += [{"class_name": "Dense", "config": {"units": 4, "name": f"d{i}"}} for i in range(n)]
    path = tmp_path / f"chain{n}.json"
    path.write_text(json.dumps({"class_name": "Sequential", "config": {"name": "chain", "layers": layers}}))
    return path


@pytest.fixture(autouse=True)
def _build_the_model(monkeypatch):
    """These files are opened the usual way, building the engine model layer by layer (what these tests
    watch): the Sequential fast path (``document.fast_open``) reads them too quickly to watch."""
    from visualkeras_app.document import fast_open

    monkeypatch.setattr(fast_open, "sequential_document", lambda data: None)


def _watch_progress(on_dialog):
    """Calls ``on_dialog(dialog)`` every few ms while a progress dialog is up; returns what it saw."""
    seen = {"labels": [], "max": 0}

    def poll():
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QProgressDialog) and w.isVisible():
                seen["labels"].append(w.labelText())
                seen["max"] = max(seen["max"], w.maximum())
                on_dialog(w)

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(5)
    return timer, seen


@pytest.mark.slow  # 0.4-1.6 s; the cancel test opens with the same progress dialog in the fast loop
def test_a_big_file_opens_with_progress_and_the_window_answering(window, tmp_path, monkeypatch):
    monkeypatch.setattr(background, "BACKGROUND_BYTES", 0)
    path = _chain_file(tmp_path, 300)
    ticks = []
    beat = QTimer()
    beat.timeout.connect(lambda: ticks.append(time.perf_counter()))
    beat.start(10)
    timer, seen = _watch_progress(lambda dialog: None)
    assert window.open_file(path, ask=False) is True
    timer.stop()
    beat.stop()
    assert len(window.controller.document.nodes) == 301
    assert any("Building layers" in label for label in seen["labels"]) and seen["max"] >= 300
    assert len(ticks) >= 3  # the event loop ran while the file loaded (a synchronous open gives none)


def test_cancel_stops_the_load_and_keeps_the_open_model(window, tmp_path, monkeypatch):
    monkeypatch.setattr(background, "BACKGROUND_BYTES", 0)
    before = set(window.controller.document.nodes)
    path = _chain_file(tmp_path, 1500)

    def click_cancel(dialog):
        if "Building layers" in dialog.labelText():
            button = dialog.findChild(QPushButton)
            from PySide6.QtTest import QTest

            QTest.mouseClick(button, Qt.LeftButton)

    timer, seen = _watch_progress(click_cancel)
    assert window.open_file(path, ask=False) is False
    timer.stop()
    assert any("Building layers" in label for label in seen["labels"])
    assert set(window.controller.document.nodes) == before
    assert "cancelled" in window.statusBar().currentMessage()
    assert not any(isinstance(w, QProgressDialog) and w.isVisible() for w in QApplication.topLevelWidgets())


def test_a_load_shortens_the_interpreters_switch_interval_and_gives_it_back(window):
    """A busy worker hands the interpreter lock to the GUI thread only every switch interval: each return of
    a repaint into Python waited 5 ms, and a 20,000-layer load froze the window for half a second."""
    import sys

    before = sys.getswitchinterval()
    seen = background.run_in_background(window, "Working", lambda: sys.getswitchinterval())
    assert seen <= background.SWITCH_INTERVAL < before
    assert sys.getswitchinterval() == before

    def fails():
        raise ValueError("bad file")

    with pytest.raises(ValueError, match="bad file"):
        background.run_in_background(window, "Working", fails)
    assert sys.getswitchinterval() == before
