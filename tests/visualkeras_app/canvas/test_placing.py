"""Fast placing: palette layers go below the selected layer and connect to it, or into the
connection they are dropped on; each placing is one undo step. Driven as a user does: real
double-clicks in a palette wired as the window wires it, real drag events with the palette's mime."""
import pytest

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDragMoveEvent
from PySide6.QtWidgets import QApplication

from visualkeras_app.document.graph import Edge
from visualkeras_app.panels.palette import PalettePanel

from .test_view import drop

pytestmark = pytest.mark.filterwarnings("ignore:Function.*QDrag(Enter|Move)Event:DeprecationWarning")

LAYERS = {"Core": [("InputLayer", "Input"), ("Dense", "Dense"), ("Dropout", "Dropout")],
          "Convolution": [("Conv2D", "Conv2D")], "Reshaping": [("Flatten", "Flatten")]}


@pytest.fixture
def palette(qtbot, view):
    panel = PalettePanel()
    qtbot.addWidget(panel)
    panel.populate(LAYERS)
    panel.resize(240, 400)
    panel.show()
    qtbot.waitExposed(panel)
    panel.layer_activated.connect(view.add_layer_at_center)  # as the main window does
    return panel


def double_click(qtbot, panel, name):
    item = panel.item_for(name)
    panel.tree.scrollToItem(item)
    rect = panel.tree.visualItemRect(item)
    qtbot.mouseClick(panel.tree.viewport(), Qt.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.tree.viewport(), Qt.LeftButton, pos=rect.center())


def boxes_overlap(view):
    items = view.editor_scene.node_items()
    return any(a.sceneBoundingRect().intersects(b.sceneBoundingRect())
               for i, a in enumerate(items) for b in items[i + 1:])


@pytest.mark.parametrize("flow", ["TB", "LR"])
def test_double_clicks_build_a_chain_below_the_selected_layer(qtbot, view, controller, palette, mouse, flow):
    controller.set_flow(flow)
    inp = controller.add_layer("InputLayer", pos=(0, 0))
    controller.set_selection([])
    scene = view.editor_scene
    mouse.click(scene.node_item(inp).mapToScene(QPointF(100, 35)))  # select it as a user does
    assert controller.selection() == [inp]
    doc = controller.document
    steps = controller.undo_stack.count()
    double_click(qtbot, palette, "Conv2D")
    (conv,) = controller.selection()
    assert doc.nodes[conv].class_name == "Conv2D" and doc.edges == [Edge(inp, conv)]
    assert controller.undo_stack.count() == steps + 1  # added and connected in one step
    if flow == "TB":  # downstream: below in a top-down graph, to the right in a left-right one
        assert doc.nodes[conv].pos[1] > doc.nodes[inp].pos[1] + 70 and doc.nodes[conv].pos[0] == 0
    else:
        assert doc.nodes[conv].pos[0] > doc.nodes[inp].pos[0] + 200 and doc.nodes[conv].pos[1] == 0
    double_click(qtbot, palette, "Flatten")  # the new layer is selected: the next one follows it
    (flat,) = controller.selection()
    assert doc.edges == [Edge(inp, conv), Edge(conv, flat)]
    assert scene.edge_item(Edge(conv, flat)).label == "(None, 26, 26, 32)"  # shapes flow at once
    # A second branch from the input goes beside the first, on no layer.
    controller.set_selection([inp])
    double_click(qtbot, palette, "Dense")
    (dense,) = controller.selection()
    assert Edge(inp, dense) in doc.edges and not boxes_overlap(view)
    controller.undo_stack.undo()
    assert dense not in doc.nodes and Edge(inp, dense) not in doc.edges
    assert [scene.node_item(n) is not None for n in (inp, conv, flat)] == [True] * 3


def test_double_click_without_one_selected_layer_adds_at_the_centre_snapped(qtbot, view, controller, palette):
    view.set_snap_to_grid(True, 20)
    view.centerOn(333, 217)
    double_click(qtbot, palette, "Dense")
    (node,) = controller.document.nodes.values()
    x, y = node.pos
    assert x % 20 == 0 and y % 20 == 0  # the palette's placing snaps as drops do
    centre = view.center_scene_pos()
    assert abs(x + 100 - centre.x()) <= 10 and abs(y + 35 - centre.y()) <= 10
    assert controller.document.edges == []
    # An Input layer takes no input: with a layer selected it is added, unconnected.
    double_click(qtbot, palette, "InputLayer")
    assert len(controller.document.nodes) == 2 and controller.document.edges == []


def test_a_drop_with_a_selected_layer_goes_below_it_connected(qtbot, view, controller, palette):
    controller.set_flow("TB")
    inp = controller.add_layer("InputLayer", pos=(0, 0))
    steps = controller.undo_stack.count()
    mime = palette.tree.mimeData([palette.item_for("Flatten")])
    assert drop(view, mime, QPointF(600, 500))
    (flat,) = controller.selection()
    doc = controller.document
    assert doc.edges == [Edge(inp, flat)] and doc.nodes[flat].pos == (0.0, 140.0)
    assert controller.undo_stack.count() == steps + 1
    controller.undo_stack.undo()
    assert list(doc.nodes) == [inp] and doc.edges == []


def test_a_drop_onto_a_connection_inserts_the_layer_into_it(qtbot, view, controller, palette):
    inp = controller.add_layer("InputLayer", pos=(0, 0))
    conv = controller.add_layer("Conv2D", pos=(700, 0))
    edge = controller.connect(inp, conv)
    controller.set_selection([conv])  # a drop on a connection wins over the selection
    scene = view.editor_scene
    item = scene.edge_item(edge)
    on_edge = item.path().pointAtPercent(0.5) + QPointF(0, 3)  # a few pixels off the line still hits it
    mime = palette.tree.mimeData([palette.item_for("Dropout")])
    # While the drag passes over the connection, it is drawn raised as the target.
    vp = view.mapFromScene(on_edge)
    enter = QDragEnterEvent(vp, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(view.viewport(), enter)
    QApplication.sendEvent(view.viewport(), QDragMoveEvent(vp, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    assert item.is_drop_target and item.zValue() > 0
    QApplication.sendEvent(view.viewport(), QDragLeaveEvent())
    assert not item.is_drop_target and item.zValue() < 0
    steps = controller.undo_stack.count()
    assert drop(view, mime, on_edge)
    assert item.scene() is None  # the old connection is gone
    doc = controller.document
    (drop_id,) = controller.selection()
    assert doc.nodes[drop_id].class_name == "Dropout"
    assert doc.edges == [Edge(inp, drop_id), Edge(drop_id, conv)]
    x, y = doc.nodes[drop_id].pos
    assert abs(x + 100 - on_edge.x()) <= 1 and abs(y + 35 - on_edge.y()) <= 1
    assert scene.edge_item(Edge(drop_id, conv)).label == "(None, 28, 28, 1)"
    assert controller.undo_stack.count() == steps + 1  # one step
    controller.undo_stack.undo()
    assert list(doc.nodes) == [inp, conv] and doc.edges == [edge]
    assert scene.edge_item(edge) is not None and scene.edge_item(edge).zValue() < 0
    # A merge layer keeps the input port the connection had.
    add = controller.add_layer("Add", pos=(700, 300))
    e0, e1 = controller.connect(inp, add), controller.connect(conv, add)
    assert e1.dst_port == 1
    mid = scene.edge_item(e1).path().pointAtPercent(0.5)
    assert drop(view, palette.tree.mimeData([palette.item_for("Dense")]), mid)
    (dense,) = controller.selection()
    assert Edge(conv, dense) in doc.edges and Edge(dense, add, 1) in doc.edges and e0 in doc.edges


def test_an_input_layer_dropped_on_a_connection_is_refused_with_the_reason(view, controller, palette, messages):
    inp = controller.add_layer("InputLayer", pos=(0, 0))
    dense = controller.add_layer("Dense", pos=(700, 0))
    edge = controller.connect(inp, dense)
    before = controller.document.to_dict()
    mid = view.editor_scene.edge_item(edge).path().pointAtPercent(0.5)
    drop(view, palette.tree.mimeData([palette.item_for("InputLayer")]), mid)
    assert controller.document.to_dict() == before
    assert "takes no input" in messages[-1]


def test_a_drop_between_close_layers_pushes_the_ones_downstream_along(view, controller, palette):
    controller.set_flow("TB")
    ids = [controller.add_layer("InputLayer", pos=(0, 0))]
    for i, name in enumerate(["Conv2D", "Flatten", "Dense"]):
        ids.append(controller.add_layer(name, pos=(0, 140 * (i + 1))))
        controller.connect(ids[-2], ids[-1])
    side = controller.add_layer("Dense", pos=(400, 280))  # not downstream: stays put
    doc = controller.document
    before = {n: doc.nodes[n].pos for n in doc.nodes}
    edge = Edge(ids[1], ids[2])
    mid = view.editor_scene.edge_item(edge).path().pointAtPercent(0.5)
    assert drop(view, palette.tree.mimeData([palette.item_for("Dropout")]), mid)
    (new,) = controller.selection()
    assert not boxes_overlap(view)
    assert [doc.nodes[n].pos for n in ids[:2]] == [before[n] for n in ids[:2]]  # upstream stays
    shifts = {doc.nodes[n].pos[1] - before[n][1] for n in ids[2:]}
    assert len(shifts) == 1 and shifts.pop() > 0  # downstream moves down together
    assert doc.nodes[side].pos == before[side]
    controller.undo_stack.undo()  # one step puts everything back
    assert new not in doc.nodes and {n: doc.nodes[n].pos for n in doc.nodes} == before


# ---------------------------------------------------------------------------------------------- quick-add
QUICK_NAMES = ["InputLayer", "Dense", "Conv2D", "Conv1D", "DepthwiseConv2D", "Flatten", "Add"]


def test_dragging_from_an_output_into_empty_canvas_opens_quick_add_that_places_and_connects(
        qtbot, view, controller, mouse):
    from PySide6.QtTest import QTest

    view.layer_names = lambda: QUICK_NAMES
    controller.set_flow("TB")
    inp = controller.add_layer("InputLayer", pos=(0, 0))
    scene = view.editor_scene
    start = scene.node_item(inp).output_port.anchor()
    end = start + QPointF(60, 220)
    steps = controller.undo_stack.count()
    mouse.drag(start, end)
    menu = view.quick_add
    assert menu is not None and menu.isVisible()
    assert menu.shown_names() == QUICK_NAMES  # everything, until the user types
    QTest.keyClicks(menu.search, "conv")
    assert menu.shown_names() == ["Conv2D", "Conv1D", "DepthwiseConv2D"]  # starts-with first
    QTest.keyClick(menu.search, Qt.Key_Down)
    QTest.keyClick(menu.search, Qt.Key_Return)
    assert not menu.isVisible() and view.quick_add is None
    doc = controller.document
    (new,) = controller.selection()
    assert doc.nodes[new].class_name == "Conv1D" and doc.edges == [Edge(inp, new)]
    assert controller.undo_stack.count() == steps + 1
    # Its input port sits where the drag ended.
    port = scene.node_item(new).input_port(0).anchor()
    assert abs(port.x() - end.x()) <= 1 and abs(port.y() - end.y()) <= 1
    controller.undo_stack.undo()
    assert list(doc.nodes) == [inp] and doc.edges == []


def test_quick_add_from_a_free_input_feeds_it_and_escape_adds_nothing(qtbot, view, controller, mouse):
    from PySide6.QtTest import QTest

    view.layer_names = lambda: QUICK_NAMES
    dense = controller.add_layer("Dense", pos=(400, 0))
    scene = view.editor_scene
    start = scene.node_item(dense).input_port(0).anchor()
    # A slip of a few pixels opens nothing.
    mouse.drag(start, start + QPointF(-8, 4))
    assert view.quick_add is None
    mouse.drag(start, start + QPointF(-200, 0))
    menu = view.quick_add
    QTest.keyClick(menu.search, Qt.Key_Escape)
    assert not menu.isVisible() and view.quick_add is None and list(controller.document.nodes) == [dense]
    mouse.drag(start, start + QPointF(-200, 0))
    menu = view.quick_add
    QTest.keyClicks(menu.search, "input")
    item = menu.list.item(0)
    assert item.text() == "InputLayer"
    qtbot.mouseClick(menu.list.viewport(), Qt.LeftButton, pos=menu.list.visualItemRect(item).center())
    doc = controller.document
    (new,) = controller.selection()
    assert doc.nodes[new].class_name == "InputLayer" and doc.edges == [Edge(new, dense)]
    assert scene.node_item(dense).shape_text == "(None, 28, 28, 64)"  # shapes flow from the new input
    port = scene.node_item(new).output_port.anchor()
    assert abs(port.x() - (start.x() - 200)) <= 1 and abs(port.y() - start.y()) <= 1


# ---------------------------------------------------------------------------------------------- context menus
@pytest.fixture
def right_click(qtbot, view):
    """Right-clicks at a scene point as the mouse does; returns the menu that opened (closed again)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QContextMenuEvent
    from PySide6.QtWidgets import QMenu

    menus = []

    def take_popup():  # the menu runs its own event loop: record it and close it, as Escape would
        popup = QApplication.activePopupWidget()
        if isinstance(popup, QMenu):
            menus.append(popup)
            popup.close()

    closer = QTimer()
    closer.setInterval(20)
    closer.timeout.connect(take_popup)
    closer.start()

    def click(scene_point):
        pos = view.mapFromScene(scene_point)
        QApplication.sendEvent(view.viewport(), QContextMenuEvent(QContextMenuEvent.Mouse, pos,
                                                                  view.viewport().mapToGlobal(pos)))
        qtbot.waitUntil(lambda: bool(menus), timeout=2000)
        menu = menus.pop()
        return {a.text(): a for a in menu.actions() if not a.isSeparator()}

    yield click
    closer.stop()


def pick(view, text):
    from PySide6.QtTest import QTest

    menu = view.quick_add
    assert menu is not None and menu.isVisible()
    QTest.keyClicks(menu.search, text)
    QTest.keyClick(menu.search, Qt.Key_Return)


def test_context_menus_add_insert_and_disconnect(qtbot, view, controller, right_click):
    view.layer_names = lambda: QUICK_NAMES
    controller.set_flow("TB")
    doc = controller.document
    # On empty canvas: Add Layer… puts the chosen layer where the right-click was.
    actions = right_click(QPointF(300, 200))
    assert list(actions) == ["Add Layer\u2026"]
    actions["Add Layer\u2026"].trigger()
    pick(view, "input")
    (inp,) = controller.selection()
    x, y = doc.nodes[inp].pos
    assert doc.nodes[inp].class_name == "InputLayer" and abs(x + 100 - 300) <= 1 and abs(y + 35 - 200) <= 1
    # On a layer: Add Layer After… puts the chosen one below it, connected.
    actions = right_click(view.editor_scene.node_item(inp).sceneBoundingRect().center())
    assert list(actions) == ["Add Layer After\u2026", "Disconnect", "Duplicate", "Copy", "Delete"]
    assert not actions["Disconnect"].isEnabled()  # nothing to disconnect yet
    actions["Add Layer After\u2026"].trigger()
    pick(view, "dense")
    (dense,) = controller.selection()
    assert doc.edges == [Edge(inp, dense)] and doc.nodes[dense].pos[1] > y + 70
    # On a connection: Insert Layer… puts the chosen one into it.
    item = view.editor_scene.edge_item(Edge(inp, dense))
    actions = right_click(item.path().pointAtPercent(0.5))
    assert list(actions) == ["Insert Layer\u2026", "Delete connection"]
    actions["Insert Layer\u2026"].trigger()
    pick(view, "flatten")
    (flat,) = controller.selection()
    assert doc.edges == [Edge(inp, flat), Edge(flat, dense)] and not boxes_overlap(view)
    # Disconnect on the middle layer removes both its connections in one step.
    steps = controller.undo_stack.count()
    actions = right_click(view.editor_scene.node_item(flat).sceneBoundingRect().center())
    actions["Disconnect"].trigger()
    assert doc.edges == [] and len(doc.nodes) == 3 and controller.undo_stack.count() == steps + 1
    controller.undo_stack.undo()
    assert doc.edges == [Edge(inp, flat), Edge(flat, dense)]
