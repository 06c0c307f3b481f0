"""The canvas widget: palette drops, zoom and fit, pan, rubber-band selection and the keyboard."""
import subprocess
import sys

import pytest

from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeyEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from visualkeras_app.canvas.node_item import NODE_HEIGHT, NODE_WIDTH
from visualkeras_app.canvas.view import LAYER_MIME
from visualkeras_app.document.graph import Edge


def key(view, k, mods=Qt.NoModifier, text=""):
    QApplication.sendEvent(view, QKeyEvent(QEvent.KeyPress, k, mods, text))
    QApplication.sendEvent(view, QKeyEvent(QEvent.KeyRelease, k, mods, text))


# PySide marks QDragEnterEvent's only constructor deprecated; Qt has no other.
pytestmark = pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning")


def drop(view, mime, scene_pt):
    pos = QPointF(view.mapFromScene(scene_pt))
    enter = QDragEnterEvent(pos.toPoint(), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(view.viewport(), enter)
    accepted = enter.isAccepted()
    if accepted:
        QApplication.sendEvent(view.viewport(), QDropEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    return accepted


def layer_mime(name):
    mime = QMimeData()
    mime.setData(LAYER_MIME, name.encode())
    return mime


def wheel(view, scene_pt, dy):
    pos = QPointF(view.mapFromScene(scene_pt))
    ev = QWheelEvent(pos, QPointF(view.viewport().mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, dy),
                     Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), ev)


def visible(view):
    return view.mapToScene(view.viewport().rect()).boundingRect()


def test_palette_drop_adds_the_layer_at_the_drop_point(view, controller):
    assert drop(view, layer_mime("Conv2D"), QPointF(250, 180))
    doc = controller.document
    (node,) = doc.nodes.values()
    assert node.class_name == "Conv2D" and node.name == "conv2d"
    x, y = node.pos
    assert abs(x + NODE_WIDTH / 2 - 250) <= 1 and abs(y + NODE_HEIGHT / 2 - 180) <= 1  # centred there
    assert controller.selection() == [node.id]
    assert view.editor_scene.node_item(node.id).isSelected()
    controller.undo_stack.undo()
    assert doc.nodes == {}


def test_drop_snaps_when_snapping_is_on(view, controller):
    view.set_snap_to_grid(True, 20)
    drop(view, layer_mime("Dense"), QPointF(251, 187))
    (node,) = controller.document.nodes.values()
    assert node.pos[0] % 20 == 0 and node.pos[1] % 20 == 0


def test_foreign_drops_are_left_to_the_window(view, controller):
    mime = QMimeData()
    mime.setText("/tmp/model.keras")
    assert not drop(view, mime, QPointF(100, 100))
    assert controller.document.nodes == {}


def test_wheel_zooms_around_the_cursor(view, controller):
    controller.add_layer("Dense", pos=(0, 0))
    anchor = QPointF(120, 60)
    before = view.mapFromScene(anchor)
    wheel(view, anchor, 120)
    assert abs(view.zoom() - 1.2) < 1e-6
    after = view.mapFromScene(anchor)
    assert (after - before).manhattanLength() <= 2  # the point under the cursor stays put
    for _ in range(40):
        wheel(view, anchor, -120)
    assert abs(view.zoom() - 0.1) < 1e-9  # clamped


def test_keyboard_zoom_and_fit(view, controller):
    ids = [controller.add_layer("Dense", pos=(x, y)) for x, y in ((0, 0), (1500, 900), (-700, 300))]
    zooms = []
    view.zoom_changed.connect(zooms.append)
    key(view, Qt.Key_Equal, Qt.ControlModifier)
    assert abs(view.zoom() - 1.2) < 1e-6
    key(view, Qt.Key_Minus, Qt.ControlModifier)
    key(view, Qt.Key_Minus, Qt.ControlModifier)
    assert abs(view.zoom() - 1 / 1.2) < 1e-6
    key(view, Qt.Key_F, text="f")
    area = visible(view)
    for nid in ids:
        assert area.contains(view.editor_scene.node_item(nid).sceneBoundingRect())
    assert view.zoom() < 1 and zooms[-1] == view.zoom()
    # One small node is not blown up past 100 %.
    controller.remove_nodes(ids[1:])
    view.fit_to_view()
    assert view.zoom() == 1.0


def test_an_opened_graph_is_shown_whole_or_from_its_start_at_a_readable_size(view, controller):
    from visualkeras_app.canvas.view import LEGIBLE_ZOOM

    # 30 layers in a column, 150 px apart: fitted whole into 700 px they would be about 15% of their size.
    ids = [controller.add_layer("Dense", pos=(0, 150 * i)) for i in range(30)]
    view.fit_to_view()
    assert view.zoom() < LEGIBLE_ZOOM
    view.centerOn(0, 4000)
    view.show_graph()
    assert abs(view.zoom() - LEGIBLE_ZOOM) < 1e-9
    area = visible(view)
    first, last = (view.editor_scene.node_item(i).sceneBoundingRect() for i in (ids[0], ids[-1]))
    assert area.contains(first) and not area.intersects(last)  # the start in view, the rest a scroll away
    # A graph that fits at a readable size is fitted whole, as Fit to View does.
    controller.remove_nodes(ids[3:])
    view.show_graph()
    fitted = view.zoom()
    view.fit_to_view()
    assert view.zoom() == fitted
    assert all(visible(view).contains(view.editor_scene.node_item(i).sceneBoundingRect()) for i in ids[:3])


def test_middle_drag_and_space_drag_pan(view, controller):
    from .conftest import Mouse

    mouse = Mouse(view, in_viewport=True)
    start = view.center_scene_pos()
    mouse.drag(QPointF(300, 200), QPointF(200, 150), button=Qt.MiddleButton)
    moved = view.center_scene_pos() - start
    assert abs(moved.x() - 100) <= 2 and abs(moved.y() - 50) <= 2
    QApplication.sendEvent(view, QKeyEvent(QEvent.KeyPress, Qt.Key_Space, Qt.NoModifier, " "))
    start = view.center_scene_pos()
    mouse.drag(QPointF(300, 200), QPointF(300, 100))
    QApplication.sendEvent(view, QKeyEvent(QEvent.KeyRelease, Qt.Key_Space, Qt.NoModifier, " "))
    assert abs((view.center_scene_pos() - start).y() - 100) <= 2
    assert controller.undo_stack.count() == 0


def test_rubber_band_selects_the_nodes_it_touches(view, controller, mouse):
    a = controller.add_layer("Dense", pos=(0, 0))
    b = controller.add_layer("Dense", pos=(250, 0))
    c = controller.add_layer("Dense", pos=(0, 300))
    view.centerOn(250, 150)
    mouse.drag(QPointF(-40, -40), QPointF(300, 100), steps=10)
    assert controller.selection() == [a, b]
    assert controller.undo_stack.count() == 3  # selecting edits nothing
    mouse.drag(QPointF(-40, 250), QPointF(100, 420), steps=10)
    assert controller.selection() == [c]


def test_delete_key_removes_selected_nodes_and_edges(view, controller, mouse):
    inp = controller.add_layer("InputLayer", pos=(0, 0))
    dense = controller.add_layer("Dense", pos=(400, 0))
    out = controller.add_layer("Dense", pos=(800, 0))
    controller.connect(inp, dense)
    controller.connect(dense, out)
    before = controller.document.to_dict()
    # Click an edge on its curve, then Delete: only the connection goes.
    edge_item = view.editor_scene.edge_item(Edge(inp, dense))
    mouse.click(edge_item.path().pointAtPercent(0.3))
    assert edge_item.isSelected() and controller.selected_edges() == [Edge(inp, dense)]
    view.setFocus()
    key(view, Qt.Key_Delete)
    assert controller.document.edges == [Edge(dense, out)]
    # Select a node with a click, Backspace deletes it with its edges.
    mouse.click(view.editor_scene.node_item(out).mapToScene(QPointF(100, 30)))
    assert controller.selection() == [out]
    key(view, Qt.Key_Backspace)
    assert list(controller.document.nodes) == [inp, dense] and controller.document.edges == []
    controller.undo_stack.undo()
    controller.undo_stack.undo()
    assert controller.document.to_dict() == before


def test_select_all_copy_paste_duplicate_keys(view, controller):
    inp = controller.add_layer("InputLayer", pos=(0, 0))
    dense = controller.add_layer("Dense", pos=(300, 0))
    controller.connect(inp, dense)
    key(view, Qt.Key_A, Qt.ControlModifier, "a")
    assert controller.selection() == [inp, dense]
    assert all(i.isSelected() for i in view.editor_scene.node_items())
    key(view, Qt.Key_C, Qt.ControlModifier, "c")
    key(view, Qt.Key_V, Qt.ControlModifier, "v")
    doc = controller.document
    assert len(doc.nodes) == 4 and len(doc.edges) == 2
    pasted = controller.selection()
    assert [doc.nodes[i].name for i in pasted] == ["input_layer_1", "dense_1"]
    key(view, Qt.Key_D, Qt.ControlModifier, "d")
    assert len(doc.nodes) == 6
    key(view, Qt.Key_X, Qt.ControlModifier, "x")  # cut the duplicates
    assert len(doc.nodes) == 4
    key(view, Qt.Key_V, Qt.ControlModifier, "v")
    assert len(doc.nodes) == 6 and len(view.editor_scene.node_items()) == 6


def test_problem_selection_scrolls_into_view(view, controller):
    far = controller.add_layer("Dense", pos=(5000, 4000))
    controller.add_layer("Dense", pos=(0, 0))
    view.centerOn(0, 0)
    controller.set_selection([far])
    assert visible(view).contains(view.editor_scene.node_item(far).sceneBoundingRect())


def test_canvas_imports_neither_torch_nor_engine():
    code = ("import sys; import visualkeras_app.canvas.view, visualkeras_app.canvas.scene, "
            "visualkeras_app.editor.controller, visualkeras_app.editor.commands; "
            "bad = [m for m in ('torch', 'engine') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def _overlapping(scene):
    items = scene.node_items()
    return [(a.name, b.name) for i, a in enumerate(items) for b in items[i + 1:]
            if a.sceneBoundingRect().intersects(b.sceneBoundingRect())]


def test_pastes_and_duplicates_land_clear_of_every_layer(view, controller):
    from PySide6.QtTest import QTest

    controller.set_flow("TB")
    ids = [controller.add_layer("InputLayer", pos=(0, 0))]
    for i, name in enumerate(["Conv2D", "MaxPooling2D", "Flatten"]):
        ids.append(controller.add_layer(name, pos=(0, 140 * (i + 1))))
        controller.connect(ids[-2], ids[-1])
    scene = view.editor_scene
    assert _overlapping(scene) == []
    view.setFocus()
    QTest.keyClick(view, Qt.Key_A, Qt.ControlModifier)
    QTest.keyClick(view, Qt.Key_C, Qt.ControlModifier)
    doc = controller.document
    origin = doc.nodes[ids[0]].pos
    firsts = []
    for _ in range(3):  # the same copy pasted again and again
        QTest.keyClick(view, Qt.Key_V, Qt.ControlModifier)
        pasted = controller.selection()
        assert len(pasted) == 4 and len(doc.edges) == 3 * (len(firsts) + 2)
        firsts.append(doc.nodes[pasted[0]].pos)
        assert _overlapping(scene) == [], len(firsts)
    # Each paste sits apart from the originals and from the pastes before it.
    assert len({origin, *firsts}) == 4
    QTest.keyClick(view, Qt.Key_D, Qt.ControlModifier)  # duplicate the last paste
    assert len(doc.nodes) == 20 and _overlapping(scene) == []
