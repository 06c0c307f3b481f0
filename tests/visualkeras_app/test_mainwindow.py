"""The main window, driven as a user drives it: palette drops, inspector edits, undo/redo, problems,
files (save/open, recent, Keras models, drops), the unsaved-work prompt, autosave and crash recovery."""
import json
import os

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QKeySequence  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from visualkeras_app.mainwindow import AUTOSAVE_MS, MainWindow  # noqa: E402
from visualkeras_app.panels.palette import LAYER_MIME  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Dialogs:
    """Stands in for QMessageBox's static dialogs: records each one, answers from ``answers``
    (by title), else Discard for the unsaved-work prompt and No for the recovery offer."""

    def __init__(self):
        self.calls = []
        self.answers = {}

    def question(self, parent, title, text, *args, **kwargs):
        self.calls.append(("question", title, text))
        if title in self.answers:
            return self.answers[title]
        return QMessageBox.Discard if "Unsaved" in title else QMessageBox.No

    def critical(self, parent, title, text, *args, **kwargs):
        self.calls.append(("critical", title, text))
        return QMessageBox.Ok

    def of(self, kind):
        return [c for c in self.calls if c[0] == kind]


@pytest.fixture
def dialogs(monkeypatch, tmp_path):
    monkeypatch.setenv("VISUALKERAS_RECOVERY_DIR", str(tmp_path / "recovery"))
    d = Dialogs()
    monkeypatch.setattr(QMessageBox, "question", d.question)
    monkeypatch.setattr(QMessageBox, "critical", d.critical)
    return d


@pytest.fixture
def make_window(qtbot, tmp_path, dialogs):
    windows = []

    def make(offer_recovery=False, file=None):
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
        win = MainWindow(file=file, settings=settings, offer_recovery=offer_recovery)
        qtbot.addWidget(win)
        win.resize(1200, 800)
        win.show()
        qtbot.waitExposed(win)
        qtbot.waitUntil(lambda: win.is_started, timeout=10000)
        windows.append(win)
        return win

    yield make
    for win in windows:  # close before the dialog stand-ins go: closing may ask about unsaved work
        win.close()


@pytest.fixture
def window(make_window):
    return make_window()


# A window per test costs 0.15-0.3 s: the fast loop (`-m "not slow"`) keeps one test of each feature (start-up,
# palette drop, inspector, undo, save and open, close prompt, recovery, model files, errors, clipboard); the
# others carry `slow` and run in the whole suite.


def drag_drop(widget, mime, pos):
    """The drag-enter, drag-move and drop events a real drag sends to the widget under the cursor."""
    pos = QPointF(*pos)
    enter = QDragEnterEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(widget, enter)
    move = QDragMoveEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(widget, move)
    drop = QDropEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(widget, drop)
    return enter.isAccepted(), drop.isAccepted()


def build_mnist_like(win):
    c = win.controller
    ids = [c.add_layer("InputLayer", (0, 0)), c.add_layer("Conv2D", (0, 120)), c.add_layer("Flatten", (0, 240)),
           c.add_layer("Dense", (0, 360))]
    for a, b in zip(ids, ids[1:]):
        assert c.connect(a, b) is not None
    c.set_param(ids[3], "units", 10)
    return ids


def canonical(doc):
    """A document by layer names (ids may be renumbered by a load)."""
    names = {nid: n.name for nid, n in doc.nodes.items()}
    return ({n.name: (n.class_name, json.dumps(n.config, sort_keys=True), tuple(round(v, 3) for v in n.pos))
             for n in doc.nodes.values()},
            sorted((names[e.src], names[e.dst], e.dst_port, e.src_port) for e in doc.edges))


# ---------------------------------------------------------------------------------------------- start-up
def test_palette_filled_from_the_manifest_then_started(qtbot, tmp_path, dialogs):
    # Without torch imported first, tests/visualkeras_app/test_startup.py checks the same in a fresh process.
    from visualkeras_app.panels.palette_manifest import load_manifest

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    win = MainWindow(settings=settings, offer_recovery=False)
    qtbot.addWidget(win)
    assert win.palette_panel.loaded and not win.is_started  # listed before the window is even shown
    assert win.palette_panel.listing() == load_manifest() and "Dense" in win.palette_panel.visible_layers()
    with qtbot.waitSignal(win.started, timeout=10000):
        win.show()
    assert win.palette_panel.loaded and "Dense" in win.palette_panel.visible_layers()
    assert win.windowTitle() == "Untitled \u2014 visualkeras-app"


def test_menus_have_standard_shortcuts(window):
    assert window.act_new.shortcut() == QKeySequence(QKeySequence.New)
    assert window.act_open.shortcut() == QKeySequence(QKeySequence.Open)
    assert window.act_save.shortcut() == QKeySequence(QKeySequence.Save)
    assert window.act_save_as.shortcut() == QKeySequence("Ctrl+Shift+S")
    assert window.act_quit.shortcut() == QKeySequence("Ctrl+Q")
    assert window.act_undo.shortcut() == QKeySequence("Ctrl+Z")
    assert window.act_redo.shortcut() == QKeySequence("Ctrl+Shift+Z")
    assert window.act_fit.shortcut() == QKeySequence("F")
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus[:3] == ["File", "Edit", "View"]
    docks = {d.windowTitle() for d in (window.palette_dock, window.inspector_dock, window.code_dock,
                                       window.summary_dock, window.problems_dock)}
    assert docks == {"Layers", "Inspector", "Code", "Summary", "Problems"}
    assert window.autosave_timer.interval() == AUTOSAVE_MS == 30_000


# ---------------------------------------------------------------------------------------------- editing
def test_drop_from_palette_adds_the_layer_at_the_drop_point(qtbot, window):
    item = window.palette_panel.item_for("Conv2D")
    mime = window.palette_panel.tree.mimeData([item])
    assert mime.hasFormat(LAYER_MIME)
    assert window.canvas_hint.isVisible()  # the empty canvas says what to do
    entered, dropped = drag_drop(window.view.viewport(), mime, (300, 200))
    assert entered and dropped
    assert not window.canvas_hint.isVisible()
    doc = window.controller.document
    (node,) = doc.nodes.values()
    assert node.class_name == "Conv2D"
    at = window.view.mapToScene(QPoint(300, 200))
    assert abs(node.pos[0] + 100 - at.x()) < 1 and abs(node.pos[1] + 35 - at.y()) < 1
    assert window.scene.node_item(node.id) is not None
    assert window.windowTitle().startswith("Untitled*")
    assert window.controller.selection() == [node.id]
    assert window.inspector.node_id == node.id


@pytest.mark.slow
def test_double_click_in_palette_adds_at_the_view_centre(qtbot, window):
    tree = window.palette_panel.tree
    item = window.palette_panel.item_for("Dense")
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    qtbot.mouseClick(tree.viewport(), Qt.LeftButton, pos=rect.center())
    qtbot.mouseDClick(tree.viewport(), Qt.LeftButton, pos=rect.center())
    (node,) = window.controller.document.nodes.values()
    assert node.class_name == "Dense"
    centre = window.view.mapToScene(window.view.viewport().rect().center())
    assert abs(node.pos[0] + 100 - centre.x()) < 2 and abs(node.pos[1] + 35 - centre.y()) < 2


def test_inspector_edit_and_refusal_reach_the_status_bar(qtbot, window):
    ids = build_mnist_like(window)
    window.controller.set_selection([ids[1]])
    spin = window.inspector.editors["filters"].widget
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "16")
    qtbot.keyClick(spin.lineEdit(), Qt.Key_Return)
    doc = window.controller.document
    assert doc.nodes[ids[1]].config["filters"] == 16
    assert doc.result.shape_text[ids[1]] == "(None, 26, 26, 16)"
    assert "16" in window.code_panel.text() or window.code_panel._timer.isActive()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "-3")
    qtbot.keyClick(spin.lineEdit(), Qt.Key_Return)
    assert doc.nodes[ids[1]].config["filters"] == 16
    assert "filters" in window.statusBar().currentMessage()
    assert "Received: filters=-3" in window.inspector.error.text()


def test_undo_redo_give_back_exactly_equal_documents(qtbot, window):
    c = window.controller
    snapshots = [c.document.to_dict()]
    ids = build_mnist_like(window)
    snapshots.append(c.document.to_dict())
    c.move_nodes({ids[2]: (40, 260)})
    c.rename(ids[3], "head")
    c.remove_nodes([ids[1]])
    c.auto_layout("LR")
    final = c.document.to_dict()
    while c.undo_stack.canUndo():
        window.act_undo.trigger()
    assert c.document.to_dict() == snapshots[0]
    assert window.windowTitle() == "Untitled \u2014 visualkeras-app"  # back at the clean state
    while c.undo_stack.canRedo():
        window.act_redo.trigger()
    assert c.document.to_dict() == final
    assert window.windowTitle().startswith("Untitled*")


@pytest.mark.slow  # tests/visualkeras_app/panels/test_problems.py clicks the list in the fast loop
def test_problems_list_fills_and_click_selects_the_node(qtbot, window):
    c = window.controller
    inp = c.add_layer("InputLayer", (0, 0))
    dense = c.add_layer("Flatten", (300, 0))
    panel = window.problems_panel
    assert panel.problems and window.problems_dock.windowTitle().startswith("Problems (")
    c.set_selection([])
    row = next(i for i in range(panel.tree.topLevelItemCount()) if panel.tree.topLevelItem(i).text(1) == "flatten")
    window.problems_dock.raise_()
    qtbot.waitUntil(lambda: panel.tree.isVisible())
    rect = panel.tree.visualItemRect(panel.tree.topLevelItem(row))
    qtbot.mouseClick(panel.tree.viewport(), Qt.LeftButton, pos=rect.center())
    assert c.selection() == [dense]
    assert window.scene.node_item(dense).isSelected()
    assert window.inspector.node_id == dense
    # The error marker clears with the fix.
    c.connect(inp, dense)
    assert panel.problems == [] and window.problems_dock.windowTitle() == "Problems"


@pytest.mark.slow
def test_status_bar_shows_the_parameter_totals(window):
    build_mnist_like(window)
    r = window.controller.document.result
    text = window.params_label.text()
    assert f"{r.total_params:,}" in text and f"{r.trainable_params:,}" in text
    assert r.total_params == 320 + 26 * 26 * 32 * 10 + 10


# ---------------------------------------------------------------------------------------------- files
def test_save_and_open_round_trip(qtbot, window, make_window, tmp_path):
    build_mnist_like(window)
    assert "*" in window.windowTitle()
    path = tmp_path / "model.vkproj"
    assert window.save_file(path)
    assert window.windowTitle() == "model.vkproj \u2014 visualkeras-app"
    assert window.recent_files()[0] == str(path)
    saved = window.controller.document
    other = make_window()
    assert other.open_file(path)
    assert canonical(other.controller.document) == canonical(saved)
    assert other.controller.document == saved
    assert other.path == str(path) and "*" not in other.windowTitle()
    # An edit then Save (Ctrl+S) writes to the same file.
    other.controller.rename(next(iter(other.controller.document.nodes)), "pixels")
    assert other.windowTitle().startswith("model.vkproj*")
    other.act_save.trigger()
    assert "*" not in other.windowTitle()
    with open(path, encoding="utf-8") as f:
        assert "pixels" in f.read()


@pytest.mark.slow  # two windows; tests/visualkeras_app/test_startup.py opens a start-up file in the fast loop
def test_file_given_at_start_opens_after_the_engine(window, make_window, tmp_path):
    build_mnist_like(window)
    path = tmp_path / "start.vkproj"
    window.save_file(path)
    started = make_window(file=str(path))  # visualkeras-app FILE
    assert started.path == str(path)
    assert started.controller.document == window.controller.document
    assert started.windowTitle() == "start.vkproj \u2014 visualkeras-app"


@pytest.mark.slow
def test_save_as_dialog_suggests_a_name(window, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QFileDialog

    from visualkeras_app.mainwindow import suggested_file_name

    assert suggested_file_name("Small residual block") == "small_residual_block.vkproj"
    assert suggested_file_name("model.h5 (imported)") == "model.vkproj"
    assert suggested_file_name("Untitled") == "model.vkproj"
    asked = []

    def dialog(parent, caption, start, filters):
        asked.append(start)
        return str(tmp_path / "chosen"), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    window.controller.add_layer("Dense")
    window.act_save.trigger()  # untitled: Save asks where
    assert asked and asked[0].endswith("model.vkproj")
    assert window.path == str(tmp_path / "chosen.vkproj") and os.path.exists(window.path)
    window.act_save.trigger()  # now it has a path: no dialog
    assert len(asked) == 1


@pytest.mark.slow
def test_title_star_follows_the_undo_stack(window, tmp_path):
    assert "*" not in window.windowTitle()
    nid = window.controller.add_layer("Dense")
    assert window.windowTitle() == "Untitled* \u2014 visualkeras-app"
    window.controller.undo_stack.undo()
    assert "*" not in window.windowTitle()
    window.controller.undo_stack.redo()
    window.save_file(tmp_path / "a.vkproj")
    assert window.windowTitle() == "a.vkproj \u2014 visualkeras-app"
    window.controller.set_param(nid, "units", 3)
    assert window.windowTitle() == "a.vkproj* \u2014 visualkeras-app"


def test_close_prompt_cancel_discard_save(window, dialogs, tmp_path):
    window.controller.add_layer("Dense")
    dialogs.answers["Unsaved changes"] = QMessageBox.Cancel
    assert window.close() is False
    assert window.isVisible() and len(dialogs.of("question")) == 1
    assert "Untitled" in dialogs.of("question")[0][2]

    path = tmp_path / "kept.vkproj"
    window.path = str(path)  # as if saved once before: Save writes there without a dialog
    dialogs.answers["Unsaved changes"] = QMessageBox.Save
    assert window.close() is True
    assert path.exists()


@pytest.mark.slow  # two windows; test_close_prompt_cancel_discard_save stays in the fast loop
def test_close_discard_and_clean_close_ask_nothing(make_window, dialogs):
    win = make_window()
    win.controller.add_layer("Dense")
    dialogs.answers["Unsaved changes"] = QMessageBox.Discard
    assert win.close() is True
    n = len(dialogs.of("question"))
    clean = make_window()
    assert clean.close() is True
    assert len(dialogs.of("question")) == n


@pytest.mark.slow
def test_new_asks_before_replacing_unsaved_work(window, dialogs):
    window.controller.add_layer("Dense")
    dialogs.answers["Unsaved changes"] = QMessageBox.Cancel
    window.act_new.trigger()
    assert len(window.controller.document.nodes) == 1
    dialogs.answers["Unsaved changes"] = QMessageBox.Discard
    window.act_new.trigger()
    assert len(window.controller.document.nodes) == 0 and "*" not in window.windowTitle()


def test_recovery_after_a_simulated_crash(make_window, dialogs):
    from visualkeras_app.document import project

    crashed = make_window()
    build_mnist_like(crashed)
    assert crashed.autosave()  # the 30 s timer's work
    assert os.path.exists(crashed.recovery_path)
    lost = crashed.controller.document.to_dict()
    # The process dies: nothing clears the file, and the OS drops its lock. A new window offers it back.
    crashed.session.release_recovery()
    dialogs.answers["Recover unsaved work"] = QMessageBox.Yes
    fresh = make_window(offer_recovery=True)
    offers = [c for c in dialogs.of("question") if c[1] == "Recover unsaved work"]
    assert len(offers) == 1 and "4 layers" in offers[0][2]
    assert fresh.controller.document.to_dict() == lost
    assert "*" in fresh.windowTitle()  # recovered work is unsaved work
    assert os.path.exists(fresh.recovery_path)  # kept in the new window's own slot at once
    # A clean close of the recovered window (discarding) removes the recovery files.
    crashed.controller.undo_stack.setClean()
    dialogs.answers["Unsaved changes"] = QMessageBox.Discard
    assert fresh.close()
    assert [n for n in os.listdir(project.recovery_dir()) if n.endswith(".vkproj")] == []


@pytest.mark.slow  # two windows; test_recovery_after_a_simulated_crash stays in the fast loop
def test_declining_recovery_deletes_it(make_window, dialogs):
    crashed = make_window()
    crashed.controller.add_layer("Dense")
    crashed.autosave()
    path = crashed.recovery_path
    crashed.session.release_recovery()  # the process dies
    fresh = make_window(offer_recovery=True)
    assert len(fresh.controller.document.nodes) == 0
    assert not os.path.exists(path)


@pytest.mark.slow  # the recovery test autosaves in the fast loop
def test_autosave_only_when_dirty(window):
    assert window.autosave() is False
    assert window.recovery_path is None or not os.path.exists(window.recovery_path)
    window.controller.add_layer("Dense")
    window.autosave_timer.timeout.emit()
    assert os.path.exists(window.recovery_path)


@pytest.mark.slow
def test_open_keras_json(window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    import engine

    model = engine.Sequential([engine.Input((8,)), engine.layers.Dense(4, activation="relu", name="hidden"),
                               engine.layers.Dense(2, name="out")])
    path = tmp_path / "model.json"
    path.write_text(model.to_json())
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.act_open.trigger()  # File > Open…
    doc = window.controller.document
    assert {n.name for n in doc.nodes.values()} >= {"hidden", "out"}
    assert doc.result.total_params == model.count_params()
    assert window.path is None  # Save must not overwrite the Keras file
    assert window.windowTitle() == "model.json (imported) \u2014 visualkeras-app"
    assert window.recent_files()[0] == str(path)


@pytest.mark.parametrize("suffix", [".keras", pytest.param(".h5", marks=pytest.mark.slow)])  # .h5: slow tests
def test_open_keras_model_file_keeps_weights(window, tmp_path, suffix):
    import numpy as np

    import engine

    if getattr(engine.saving, "load_model", None) is None:
        pytest.skip("engine.saving.load_model is not available")
    model = engine.Sequential([engine.Input((8,)), engine.layers.Dense(4, name="hidden"),
                               engine.layers.Dense(2, name="out")])
    path = tmp_path / f"model{suffix}"
    model.save(str(path))
    assert window.open_file(path)
    doc = window.controller.document
    hidden = next(n for n in doc.nodes.values() if n.name == "hidden")
    assert hidden.weights is not None
    np.testing.assert_allclose(hidden.weights[0], model.get_layer("hidden").get_weights()[0])
    assert "(imported)" in window.windowTitle()


def test_open_errors_are_plain_messages(window, dialogs, tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text("{ not json")
    assert window.open_file(bad) is False
    (call,) = dialogs.of("critical")
    assert "broken.json" in call[2] and "Traceback" not in call[2]
    assert window.open_file(tmp_path / "missing.vkproj") is False
    assert "missing.vkproj" in dialogs.of("critical")[-1][2]


@pytest.mark.slow
def test_recent_files_menu(window, dialogs, tmp_path):
    window.controller.add_layer("Dense")
    paths = [tmp_path / f"m{i}.vkproj" for i in range(3)]
    for p in paths:
        window.save_file(p)
    assert window.recent_files() == [str(p) for p in reversed(paths)]
    window._fill_recent_menu()
    texts = [a.text() for a in window.recent_menu.actions() if a.text()]
    assert texts[0].endswith("m2.vkproj") and texts[-1] == "Clear Recent Files"
    window.new_document()
    window.recent_menu.actions()[2].trigger()  # m0
    assert window.path == str(paths[0])
    assert window.recent_files()[0] == str(paths[0])
    os.remove(paths[1])
    assert window.open_recent(str(paths[1])) is False
    assert str(paths[1]) not in window.recent_files()
    assert "no longer exists" in dialogs.of("critical")[-1][2]


@pytest.mark.slow  # two windows; the palette drop test sends the same drag events in the fast loop
def test_dropping_a_file_on_the_window_opens_it(qtbot, window, make_window, tmp_path):
    build_mnist_like(window)
    path = tmp_path / "dropped.vkproj"
    window.save_file(path)
    other = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    entered, dropped = drag_drop(other.view.viewport(), mime, (200, 200))
    assert entered and dropped
    qtbot.waitUntil(lambda: other.path == str(path), timeout=5000)
    assert len(other.controller.document.nodes) == 4


@pytest.mark.slow  # tests/visualkeras_app/document/test_templates.py loads every template in the fast loop
def test_templates_menu_and_loading(window):
    from visualkeras_app.document.templates import list_templates

    window._fill_template_menu()
    # The grouped templates (Applications, Transfer Learning: tests/visualkeras_app/test_application_templates.py)
    # are in submenus after a separator.
    titles = [a.text() for a in window.template_menu.actions() if not a.isSeparator() and a.menu() is None]
    templates = [t for t in list_templates() if not t.group]
    assert titles == [t.title for t in templates] and len(templates) >= 5
    for t in templates:
        assert window.new_from_template(t.key)
        doc = window.controller.document
        assert doc.nodes and not doc.result.errors, (t.key, doc.result.problems)
        assert window.windowTitle() == f"{t.title} \u2014 visualkeras-app"
        assert "model.summary()" in window.code_panel.text() or window.code_panel._timer.isActive()


def test_clipboard_actions_on_the_canvas(qtbot, window):
    ids = build_mnist_like(window)
    c = window.controller
    c.set_selection(ids[1:3])
    window.view.setFocus()
    window.act_copy.trigger()
    window.act_paste.trigger()
    assert len(c.document.nodes) == 6
    window.act_duplicate.trigger()
    assert len(c.document.nodes) == 8
    window.act_select_all.trigger()
    assert len(c.selection()) == 8
    window.act_delete.trigger()
    assert not c.document.nodes
    window.act_undo.trigger()
    assert len(c.document.nodes) == 8


@pytest.mark.slow
def test_keyboard_shortcuts_act_on_the_canvas_not_in_text_fields(qtbot, window):
    ids = build_mnist_like(window)
    c = window.controller
    window.activateWindow()
    c.set_selection([ids[2]])
    window.inspector.name_edit.setFocus()
    qtbot.keyClick(window.inspector.name_edit, Qt.Key_Delete)
    assert ids[2] in c.document.nodes  # Delete in a text field edits the text
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key_Delete)
    assert ids[2] not in c.document.nodes
    qtbot.keyClick(window.view, Qt.Key_Z, Qt.ControlModifier)
    assert ids[2] in c.document.nodes
    qtbot.keyClick(window.view, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert ids[2] not in c.document.nodes
