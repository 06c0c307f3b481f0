"""Every action of every menu and toolbar, triggered as a user clicks it, on a loaded model: none raises.

Exceptions in slots reach ``sys.excepthook`` (PySide prints them and goes on, so the click silently does
nothing); the guard here records them, and those that reach ``sys.unraisablehook``, and fails the test with
the menu path of each action that raised. File dialogs answer Cancel in one pass and a file in ``tmp_path``
in the other; any modal dialog (About, a message box) is closed by a timer so that nothing blocks.
"""
import os
import sys
import traceback

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu, QToolBar  # noqa: E402

from tests.visualkeras_app.training_ui.conftest import (_offline_data, main_window, mnist_full,  # noqa: E402,F401
                                                        small_mnist)

MODEL = "mnist_fast_cnn"
RUN_MS = 90_000


class Guard:
    """Records exceptions that reach ``sys.excepthook`` or ``sys.unraisablehook``, each with the action
    being triggered at the time."""

    def __init__(self):
        self.current = "(setup)"
        self.errors = []

    def excepthook(self, exc_type, exc, tb):
        self.errors.append((self.current, "".join(traceback.format_exception(exc_type, exc, tb))))

    def unraisablehook(self, unraisable):
        self.errors.append((self.current, f"unraisable in {unraisable.object!r}: {unraisable.exc_value!r}"))

    def report(self):
        return "\n\n".join(f"{where}:\n{text}" for where, text in self.errors)


@pytest.fixture
def guard(monkeypatch):
    g = Guard()
    monkeypatch.setattr(sys, "excepthook", g.excepthook)
    monkeypatch.setattr(sys, "unraisablehook", g.unraisablehook)
    return g


class FileDialogs:
    """QFileDialog's static getters: Cancel, or a file in ``folder`` named after the dialog's suggestion."""

    def __init__(self, folder, choose, open_path):
        self.folder, self.choose, self.open_path = folder, choose, open_path
        self.calls = []

    def save(self, parent, caption="", start="", filters="", *a, **k):
        self.calls.append(("save", caption))
        if not self.choose:
            return "", ""
        name = os.path.basename(start) or "out"
        if "." not in name:
            name += ".png" if "canvas" in caption.lower() else ".vkproj"
        first_filter = filters.split(";;")[0] if filters else ""
        return str(self.folder / name), first_filter

    def open(self, parent, caption="", start="", filters="", *a, **k):
        self.calls.append(("open", caption))
        if not self.choose or "data set" in caption.lower():
            return "", ""
        return str(self.open_path), ""

    def directory(self, parent, caption="", *a, **k):
        self.calls.append(("directory", caption))
        return str(self.folder) if self.choose else ""


class ModalCloser:
    """Closes whatever modal dialog is up (About, a warning), every 50 ms; records their titles."""

    def __init__(self):
        self.closed = []
        self.timer = QTimer()
        self.timer.setInterval(50)
        self.timer.timeout.connect(self._close)
        self.timer.start()

    def _close(self):
        w = QApplication.activeModalWidget()
        if w is not None:
            self.closed.append(w.windowTitle())
            w.close()


def menu_actions(menu, path):
    """(path, action) of ``menu`` and its submenus, filled as when the user opens them."""
    menu.aboutToShow.emit()  # the template and recent-file menus fill themselves when they open
    for act in list(menu.actions()):
        if act.isSeparator():
            continue
        label = path + " > " + act.text().replace("&", "")
        if act.menu() is not None:
            yield from menu_actions(act.menu(), label)
        else:
            yield label, act


def every_action(win):
    """Menu bar, toolbars, then the window's and canvas's shortcut-only actions; each action once."""
    seen = set()
    for top in win.menuBar().actions():
        if top.menu() is not None:
            for label, act in menu_actions(top.menu(), top.text().replace("&", "")):
                seen.add(id(act))
                yield label, act
    for tb in win.findChildren(QToolBar):
        for act in tb.actions():
            if not act.isSeparator() and id(act) not in seen:
                seen.add(id(act))
                yield f"toolbar {tb.windowTitle()} > {act.text()}", act
    for owner in (win, win.view):
        for act in owner.actions():
            if id(act) not in seen and not isinstance(act.parent(), QMenu):
                seen.add(id(act))
                yield f"shortcut {act.text().replace('&', '')} ({act.shortcut().toString()})", act


def load_model(win):
    """A fresh copy of the model, one edit on the undo stack (for Undo and Redo), every layer selected."""
    assert win.new_from_template(MODEL)
    panel = win.training.panel
    panel.set_settings({"max_train_samples": 320, "batch_size": 32, "epochs": 1, "validation_split": 0.1})
    first = next(iter(win.controller.document.nodes.values()))
    win.controller.move_nodes({first.id: (first.pos[0] + 40, first.pos[1])})
    win.controller.select_all()


def settle(qtbot, win):
    qtbot.wait(30)
    panel = win.training.panel
    if panel is not None and panel.worker.state != "idle":
        qtbot.waitUntil(lambda: panel.worker.state == "idle", timeout=RUN_MS)
    qtbot.wait(30)


@pytest.mark.slow
@pytest.mark.parametrize("choose", [False, True], ids=["dialogs-cancelled", "dialogs-choose-a-file"])
def test_every_menu_and_toolbar_action_runs_without_an_exception(qtbot, main_window, guard, monkeypatch, tmp_path,
                                                                 choose):
    win = main_window
    saved = tmp_path / "a.vkproj"
    load_model(win)
    assert win.save_file(str(saved))  # one recent file, and a file for Open… to open
    dialogs = FileDialogs(tmp_path, choose, saved)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialogs.save)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", dialogs.open)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", dialogs.directory)
    closer = ModalCloser()
    triggered, quit_action = [], None
    applications = 0
    for label, act in every_action(win):
        if act is win.act_quit:
            quit_action = act
            continue
        if " > Applications > " in label:
            applications += 1
            if choose and applications > 1:
                continue  # no file dialog in them: the other run opens all 40 (each builds a network)
        load_model(win)
        guard.current = label
        if act in (win.training.act_pause, win.training.act_stop):
            win.training.act_train.trigger()  # they act on a run
            qtbot.waitUntil(lambda: act.isEnabled(), timeout=RUN_MS)
        if act is win.act_redo:
            win.act_undo.trigger()
        if act is win.training.act_evaluate:
            win.training.act_train.trigger()  # it evaluates trained weights
            qtbot.waitUntil(lambda: act.isEnabled(), timeout=RUN_MS)
        if act is win.training.act_fine_tune:  # it unfreezes frozen layers of a trained model
            doc = win.controller.document
            first = next(nid for nid, n in doc.nodes.items() if n.class_name in ("Conv2D", "Dense"))
            win.controller.set_param(first, "trainable", False)
            win.training.act_train.trigger()
            qtbot.waitUntil(lambda: act.isEnabled(), timeout=RUN_MS)
        assert act.isEnabled() or label.endswith("No recent files"), label
        times = 2 if act.isCheckable() or act is win.training.act_pause else 1  # on and back off
        for _ in range(times):
            act.trigger()
            qtbot.wait(30)
        settle(qtbot, win)
        triggered.append(label)
    guard.current = "(walk done)"
    settle(qtbot, win)
    assert not guard.errors, guard.report()
    names = " | ".join(triggered)
    for expected in ("File > New", "File > Export > Export…", "Edit > Undo", "View > Fit to View",
                     "Train > Train on MNIST", "Train > Train with Panel Settings", "Train > Evaluate on the Test Set",
                     "Help > About"):
        assert expected in names, names
    assert len(triggered) >= 30
    assert any(kind == "save" for kind, _ in dialogs.calls) and any(kind == "open" for kind, _ in dialogs.calls)
    assert any("About" in t for t in closer.closed)
    if choose:
        written = {p.name for p in tmp_path.iterdir()}
        assert any(n.endswith(".keras") for n in written), written  # Export… wrote the model
    guard.current = "File > Quit"
    quit_action.trigger()
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=5000)
    closer.timer.stop()
    assert not guard.errors, guard.report()


def bring_to_front(widget):
    """Show ``widget`` as a user would find it: its dock raised, every tab above it current."""
    from PySide6.QtWidgets import QDockWidget, QStackedWidget, QTabWidget

    w = widget
    while w is not None:
        parent = w.parentWidget()
        if isinstance(parent, QStackedWidget):
            tabs = parent.parentWidget()
            if isinstance(tabs, QTabWidget):
                tabs.setCurrentWidget(w)
            else:
                parent.setCurrentWidget(w)
        if isinstance(w, QDockWidget):
            w.show()
            w.raise_()
        w = parent


@pytest.mark.slow
def test_every_panel_button_after_a_run_clicks_without_an_exception(qtbot, main_window, guard, monkeypatch,
                                                                     tmp_path):
    """Each push/tool button and check box of the docks, clicked with the mouse after a run (so the results
    views and the run list have something): none raises. Train is among them: it once did nothing."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QAbstractButton, QDockWidget, QTabBar

    win = main_window
    dialogs = FileDialogs(tmp_path, False, tmp_path / "none")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialogs.save)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", dialogs.open)
    closer = ModalCloser()
    load_model(win)
    panel = win.training.panel
    bring_to_front(panel.train_button)
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_MS):
        qtbot.mouseClick(panel.train_button, Qt.LeftButton)
    settle(qtbot, win)
    conv = next(n.id for n in win.controller.document.nodes.values() if n.class_name == "Conv2D")
    win.controller.set_selection([conv])  # the inspector shows a layer's form
    qtbot.wait(50)
    clicked = []
    # The Training dock first: the Inspector's check boxes edit the model, after which "more epochs" is off.
    docks = sorted(win.findChildren(QDockWidget), key=lambda d: d is not win.training.training_dock)
    for dock in docks:
        for button in dock.findChildren(QAbstractButton):
            if button.objectName().startswith("qt_") or isinstance(button.parentWidget(), QTabBar):
                continue  # Qt's own float/close and tab-scroll buttons
            bring_to_front(button)
            qtbot.wait(10)
            if not (button.isVisible() and button.isEnabled()):
                continue
            label = f"{dock.windowTitle()} > {button.text() or button.toolTip() or button.objectName()}"
            guard.current = label
            qtbot.mouseClick(button, Qt.LeftButton)
            settle(qtbot, win)
            clicked.append(label)
    closer.timer.stop()
    assert not guard.errors, guard.report()
    names = " | ".join(clicked)
    for expected in ("Training > Train", "Training > more epochs", "Training > Evaluate", "Code > Copy",
                     "Summary > Copy as text", "Results > Clear"):
        assert expected in names, names


@pytest.mark.slow
def test_every_canvas_context_menu_action_runs_without_an_exception(qtbot, main_window, guard):
    """Right-click on a node and on a connection (a context-menu event on the canvas, as the mouse sends it),
    then each action of the menu that opens: none raises, and each does what it says."""
    from PySide6.QtGui import QContextMenuEvent

    win = main_window
    menus = []

    def take_popup():  # the menu runs its own event loop: record it and close it, as Escape would
        popup = QApplication.activePopupWidget()
        if isinstance(popup, QMenu):
            menus.append(popup)
            popup.close()

    closer = QTimer()
    closer.setInterval(30)
    closer.timeout.connect(take_popup)
    closer.start()
    view, scene = win.view, win.scene

    def right_click(scene_point):
        pos = view.mapFromScene(scene_point)
        event = QContextMenuEvent(QContextMenuEvent.Mouse, pos, view.viewport().mapToGlobal(pos))
        QApplication.sendEvent(view.viewport(), event)
        qtbot.wait(10)
        assert menus, f"no menu at {scene_point}"
        return menus.pop()

    def node_point():
        node = next(n for n in win.controller.document.nodes.values() if n.class_name == "Conv2D")
        return node, scene.node_item(node.id).sceneBoundingRect().center()

    done = []
    load_model(win)
    labels = [a.text() for a in right_click(node_point()[1]).actions() if not a.isSeparator()]
    assert labels == ["Add Layer After\u2026", "Disconnect", "Duplicate", "Copy", "Delete"]
    for label in labels:
        load_model(win)
        win.controller.set_selection([])  # the right-click selects the node it is on
        node, point = node_point()
        before = len(win.controller.document.nodes)
        guard.current = f"node menu > {label}"
        act = next(a for a in right_click(point).actions() if a.text() == label)
        act.trigger()
        qtbot.wait(20)
        if label.endswith("\u2026"):  # it opened the quick-add menu: it is there, Escape closes it
            assert view.quick_add is not None and view.quick_add.isVisible(), label
            view.quick_add.close()
        after = len(win.controller.document.nodes)
        assert after == {"Duplicate": before + 1, "Delete": before - 1}.get(label, before), label
        done.append(label)

    load_model(win)
    edge = next(iter(win.controller.document.edges))
    item = scene.edge_item(edge)
    point = item.mapToScene(item.path().pointAtPercent(0.3))
    guard.current = "connection menu > Delete connection"
    menu = right_click(point)
    assert [a.text() for a in menu.actions()] == ["Insert Layer\u2026", "Delete connection"]
    menu.actions()[1].trigger()
    qtbot.wait(20)
    assert edge not in win.controller.document.edges
    closer.stop()
    assert not guard.errors, guard.report()
    assert done == labels
