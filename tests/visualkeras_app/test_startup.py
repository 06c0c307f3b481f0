"""Start-up: the window appears (issue 4) and its Layers panel works (issue 17) before torch is imported, checked
in a fresh process; the engine's background import; input before the engine is ready."""
import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _bench():
    spec = importlib.util.spec_from_file_location("bench_startup", os.path.join(ROOT, "bench", "bench_startup.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_window_paints_before_torch_is_imported(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    rep = _bench().one_run("app")  # a fresh process: launch, first paint, palette usable, engine loaded, quit
    assert rep["torch_at_paint"] is False and rep["torch_at_usable"] is False
    assert rep["paint_s"] <= rep["usable_s"] <= rep["ready_s"]
    assert rep["torch_at_ready"] is True and rep["max_stall"] >= 0


# The window up to its first paint in a fresh process (its modules and the window itself import no torch), the
# Layers panel exercised as a user would, then a hard exit (the engine's background import is not waited for).
# Prints what it saw as one JSON line.
_PALETTE_BEFORE_TORCH = r"""
import json, os, sys, tempfile
from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
from visualkeras_app.app import make_application
from visualkeras_app.mainwindow import MainWindow
from visualkeras_app.panels.palette import LAYER_MIME
from visualkeras_app.panels.palette_manifest import load_manifest

app = make_application()
win = MainWindow(settings=QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.IniFormat),
                 offer_recovery=False)
HEAVY = ("torch", "engine", "numpy")  # numpy alone adds about 0.15 s to the first paint
seen = {"heavy_after_window": [m for m in HEAVY if m in sys.modules]}

def check():
    panel = win.palette_panel
    seen["loaded"] = panel.loaded
    seen["same_as_manifest"] = panel.listing() == load_manifest()
    seen["categories"] = panel.categories()
    seen["tip"] = panel.item_for("Conv2D").toolTip(0)
    seen["icons"] = all(not panel.tree.topLevelItem(i).icon(0).isNull() for i in range(panel.tree.topLevelItemCount()))
    mime = panel.tree.mimeData([panel.item_for("Dense")])
    seen["mime"] = bytes(mime.data(LAYER_MIME)).decode()
    panel.search.setText("pool")
    seen["search"] = panel.visible_layers()
    seen["heavy"] = [m for m in HEAVY if m in sys.modules]
    print("SEEN " + json.dumps(seen), flush=True)
    os._exit(0)

class FirstPaint(QObject):
    def eventFilter(self, obj, ev):
        if ev.type() == QEvent.Paint and getattr(obj, "window", None) and obj.window() is win:
            app.removeEventFilter(self)
            QTimer.singleShot(0, check)
        return False

spy = FirstPaint()
app.installEventFilter(spy)
win.show()
QTimer.singleShot(30000, lambda: os._exit(3))
app.exec()
"""


@pytest.mark.slow  # a fresh Python (0.4-0.8 s); tests/visualkeras_app/canvas/test_view.py checks the canvas imports no torch in the fast loop
def test_palette_is_usable_before_torch_is_imported():
    import json

    from visualkeras_app.panels.palette_manifest import load_manifest

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", _PALETTE_BEFORE_TORCH], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, env=env)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("SEEN ")), None)
    assert out.returncode == 0 and line, out.stdout + out.stderr
    seen = json.loads(line[5:])
    assert seen["heavy_after_window"] == [] and seen["heavy"] == []  # a module-level import crept in: move it
    # into the function that needs it, commented "start-up time"
    manifest = load_manifest()
    assert seen["loaded"] and seen["same_as_manifest"] and seen["categories"] == list(manifest)
    assert seen["icons"] and seen["mime"] == "Dense"
    assert dict(manifest["Convolution"])["Conv2D"] in seen["tip"]
    assert "MaxPooling2D" in seen["search"] and all("pool" in n.lower() for n in seen["search"])


# ---------------------------------------------------------------------------------------------- the loader
def test_loader_imports_on_a_thread_and_reports_errors():
    import threading

    from visualkeras_app.startup import EngineLoader

    threads = []
    loader = EngineLoader(importer=lambda: threads.append(threading.current_thread()))
    assert not loader.begun and not loader.done
    loader.begin()
    assert loader.wait(10) is None and loader.done and loader.seconds >= 0
    assert threads[0] is not threading.main_thread() and threads[0].daemon
    loader.begin()  # once only
    assert len(threads) == 1

    here = EngineLoader(importer=lambda: threads.append(threading.current_thread()))
    assert here.wait() is None and threads[-1] is threading.main_thread()  # never begun: imports in the caller

    broken = EngineLoader(modules=["visualkeras_app_no_such_module"])
    broken.begin()
    err = broken.wait(10)
    assert isinstance(err, ModuleNotFoundError) and "visualkeras_app_no_such_module" in str(err)


def test_new_imports_on_the_beginning_thread_wait_for_the_loader(tmp_path, monkeypatch):
    import builtins
    import threading
    import time

    from visualkeras_app.startup import EngineLoader

    (tmp_path / "vk_startup_fresh_module.py").write_text("VALUE = 7\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    release = threading.Event()
    loader = EngineLoader(importer=lambda: release.wait(30))
    real = builtins.__import__
    loader.begin()
    try:
        assert builtins.__import__ is not real
        import json  # noqa: F401 - already imported: passes straight through
        from visualkeras_app import startup  # noqa: F401

        assert loader.guarded_waits == 0 and not loader.done
        threading.Timer(0.1, release.set).start()
        t0 = time.perf_counter()
        import vk_startup_fresh_module  # not imported yet: waits for the loader first

        assert vk_startup_fresh_module.VALUE == 7 and time.perf_counter() - t0 >= 0.08
        assert loader.done and loader.guarded_waits == 1
        assert builtins.__import__ is real  # unwrapped once the loader is done
    finally:
        release.set()
        loader.wait(10)
        sys.modules.pop("vk_startup_fresh_module", None)


# ---------------------------------------------------------------------------------------------- before the engine
@pytest.fixture
def held_engine(monkeypatch):
    """The process's engine loader replaced by one that finishes only once the window waits for it under the
    busy cursor (or at teardown): the window stays in its "engine still loading" state until then."""
    import threading

    from PySide6.QtWidgets import QApplication

    from visualkeras_app import startup

    release = threading.Event()
    loader = startup.EngineLoader(importer=lambda: release.wait(30))
    previous = startup.set_engine_loader(loader)
    cursors = []
    real = QApplication.setOverrideCursor

    def busy(cursor):
        cursors.append(cursor)
        threading.Timer(0.05, release.set).start()  # the GUI thread is blocked in the wait now
        return real(cursor)

    monkeypatch.setattr(QApplication, "setOverrideCursor", busy)
    loader.cursors, loader.release = cursors, release
    yield loader
    release.set()
    startup.set_engine_loader(previous)


@pytest.fixture
def early_window(qtbot, tmp_path, monkeypatch, held_engine):
    from PySide6.QtCore import QSettings

    from visualkeras_app.mainwindow import MainWindow

    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setenv("VISUALKERAS_RECOVERY_DIR", str(tmp_path / "recovery"))
    asked = []  # no modal dialog may block a test: unsaved work is discarded, errors are recorded
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[1:3]) or QMessageBox.Discard)
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: asked.append(a[1:3]) or QMessageBox.Ok)
    windows = []

    def make(file=None):
        win = MainWindow(file=file, settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat),
                         offer_recovery=False)
        qtbot.addWidget(win)
        win.resize(1200, 800)
        win.show()
        qtbot.waitExposed(win)
        qtbot.waitUntil(lambda: held_engine.begun, timeout=5000)
        assert win.palette_panel.loaded and not win.is_started and not held_engine.done
        windows.append(win)
        return win

    yield make
    for win in windows:
        win.close()
    assert not [a for a in asked if "Unsaved" not in a[0]], asked  # no error dialog


def _drop(widget, mime, pos):
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    pos = QPointF(pos)
    for cls in (QDragEnterEvent, QDragMoveEvent):
        ev = cls(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
        QApplication.sendEvent(widget, ev)
    drop = QDropEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def test_a_layer_dropped_while_the_engine_loads_lands_where_it_was_dropped(qtbot, early_window, held_engine):
    from PySide6.QtCore import QPoint

    win = early_window()
    panel = win.palette_panel
    mime = panel.tree.mimeData([panel.item_for("Conv2D")])
    vp = win.view.viewport()
    at = vp.rect().center() + QPoint(60, 40)
    scene_at = win.view.mapToScene(at)
    assert _drop(vp, mime, at)  # accepted at once: the drag ends, the layer is queued
    assert not win.controller.document.nodes and not held_engine.cursors
    qtbot.waitUntil(lambda: bool(win.controller.document.nodes), timeout=10000)
    assert win.is_started and held_engine.cursors  # it waited for the engine under the busy cursor
    (node,) = win.controller.document.nodes.values()
    assert node.class_name == "Conv2D" and node.config["filters"] == 32  # the palette's defaults
    from visualkeras_app.editor.controller import NODE_HEIGHT, NODE_WIDTH

    x, y = node.pos
    assert abs(x + NODE_WIDTH / 2 - scene_at.x()) <= 20 and abs(y + NODE_HEIGHT / 2 - scene_at.y()) <= 20
    assert win.controller.undo_stack.count() == 1


@pytest.mark.slow  # the drop-while-loading test waits for the engine the same way in the fast loop
def test_double_click_while_the_engine_loads_waits_then_adds(qtbot, early_window, held_engine):
    from PySide6.QtCore import Qt

    win = early_window()
    panel = win.palette_panel
    qtbot.keyClicks(panel.search, "dens")  # typing in the palette does not wait for the engine
    assert "Dense" in panel.visible_layers() and "Conv2D" not in panel.visible_layers()
    assert not win.is_started and not held_engine.cursors
    item = panel.item_for("Dense")
    rect = panel.tree.visualItemRect(item)
    qtbot.mouseClick(panel.tree.viewport(), Qt.LeftButton, pos=rect.center())
    assert not win.is_started  # selecting in the palette neither
    qtbot.mouseDClick(panel.tree.viewport(), Qt.LeftButton, pos=rect.center())
    assert win.is_started and held_engine.cursors
    assert [n.class_name for n in win.controller.document.nodes.values()] == ["Dense"]


@pytest.mark.slow  # the drop-while-loading test waits for the engine the same way in the fast loop
def test_a_click_on_the_canvas_while_the_engine_loads_finishes_the_start_first(qtbot, early_window, held_engine):
    from PySide6.QtCore import Qt

    win = early_window()
    with qtbot.waitSignal(win.started, timeout=10000):
        qtbot.mouseClick(win.view.viewport(), Qt.LeftButton, pos=win.view.viewport().rect().center())
    assert held_engine.cursors and win.training.panel is not None  # the training panel was built


def test_the_command_line_file_opens_and_an_early_drop_joins_it(qtbot, early_window, held_engine, tmp_path):
    from visualkeras_app.document.project import save_project
    from visualkeras_app.document.templates import load_template

    path = tmp_path / "start.vkproj"
    saved = load_template("seed_mlp")
    save_project(saved, str(path))
    win = early_window(file=str(path))
    panel = win.palette_panel
    vp = win.view.viewport()
    assert _drop(vp, panel.tree.mimeData([panel.item_for("Dropout")]), vp.rect().topLeft() + vp.rect().center() / 4)
    qtbot.waitUntil(lambda: win.is_started and len(win.controller.document.nodes) == len(saved.nodes) + 1,
                    timeout=10000)
    assert win.path == str(path)  # the file opened first; the dropped layer went into it, nothing lost
    names = sorted(n.class_name for n in win.controller.document.nodes.values())
    assert names == sorted([n.class_name for n in saved.nodes.values()] + ["Dropout"])


def test_closing_while_the_engine_loads_does_not_start_it(qtbot, early_window, held_engine):
    import threading

    win = early_window()
    threading.Timer(0.05, held_engine.release.set).start()  # a module closing imports may wait for the loader
    win.close()
    qtbot.waitUntil(lambda: held_engine.done, timeout=10000)
    qtbot.wait(3 * 20)  # a few of the start-up timer's polls
    assert not win.isVisible() and not win.is_started  # no training panel built, no dialog for a closed window
