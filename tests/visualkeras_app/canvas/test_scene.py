"""The scene mirrors the document: items appear, follow, update and disappear with every edit, undo
included; shapes label the edges; problems turn nodes and edges red and clear after a fix."""
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from visualkeras_app.canvas.edge_item import EdgeItem
from visualkeras_app.canvas.node_item import ERROR_COLOR, NodeItem
from visualkeras_app.document.graph import Document, Edge


def items_of(scene, cls):
    return [i for i in scene.items() if isinstance(i, cls)]


def build(controller, *names, step=300):
    ids = [controller.add_layer("InputLayer", pos=(0, 0))]
    for i, name in enumerate(names):
        nid = controller.add_layer(name, pos=(step * (i + 1), 0))
        assert controller.connect(ids[-1], nid) is not None
        ids.append(nid)
    return ids


def render(view):
    image = QImage(view.viewport().size(), QImage.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    view.render(painter)
    painter.end()
    return image


def count_red(image, rect):
    red = 0
    for x in range(int(rect.left()), int(rect.right())):
        for y in range(int(rect.top()), int(rect.bottom())):
            c = QColor(image.pixel(x, y))
            if c.red() > 180 and c.green() < 90 and c.blue() < 90:
                red += 1
    return red


def test_items_follow_edits_and_undo(view, controller):
    scene = view.editor_scene
    inp, conv, dense = build(controller, "Conv2D", "Dense")
    assert len(items_of(scene, NodeItem)) == 3 and len(items_of(scene, EdgeItem)) == 2
    item = scene.node_item(conv)
    assert (item.name, item.class_name) == ("conv2d", "Conv2D")
    assert item.shape_text == "(None, 26, 26, 32)" and item.params == 320
    controller.rename(conv, "features")
    assert item.name == "features"
    controller.move_nodes({conv: (310, 90)})
    assert (item.x(), item.y()) == (310, 90)
    edge_item = scene.edge_item(Edge(inp, conv))
    p1, p2 = edge_item.endpoints()
    assert p2 == item.input_port(0).scenePos()  # the edge followed the node
    controller.remove_nodes([conv])
    assert scene.node_item(conv) is None and len(items_of(scene, EdgeItem)) == 0
    for _ in range(3):
        controller.undo_stack.undo()
    assert len(items_of(scene, NodeItem)) == 3 and len(items_of(scene, EdgeItem)) == 2
    assert scene.node_item(conv).name == "conv2d"
    assert (scene.node_item(conv).x(), scene.node_item(conv).y()) == (300, 0)


def test_edge_labels_show_tensor_shapes(view, controller):
    inp, conv, pool = build(controller, "Conv2D", "MaxPooling2D", step=400)
    scene = view.editor_scene
    assert scene.edge_item(Edge(inp, conv)).label == "(None, 28, 28, 1)"
    item = scene.edge_item(Edge(conv, pool))
    assert item.label == "(None, 26, 26, 32)"
    assert item.label_visible()  # 200 px between the boxes: room enough
    assert item.shape().contains(item.label_rect().center())  # a click on the label picks the edge
    controller.set_param(conv, "filters", 8)
    assert item.label == "(None, 26, 26, 8)"
    # Pushed close together, the label would sit on a box: it shows on selection only.
    controller.move_nodes({pool: (520, 0)})
    assert not item.label_visible()
    item.setSelected(True)
    assert item.label_visible() and item.zValue() > scene.node_item(pool).zValue()


def test_merge_layers_grow_a_port_per_input(view, controller):
    a = controller.add_layer("InputLayer", pos=(0, 0))
    b = controller.add_layer("InputLayer", pos=(0, 200))
    cat = controller.add_layer("Concatenate", pos=(300, 100))
    item = view.editor_scene.node_item(cat)
    assert sorted(item.input_ports) == [0]
    controller.connect(a, cat)
    assert sorted(item.input_ports) == [0, 1] and item.input_port(0).connected
    assert not item.input_port(1).connected
    controller.connect(b, cat)
    assert sorted(item.input_ports) == [0, 1, 2]
    ys = [item.input_port(i).scenePos().y() for i in (0, 1, 2)]
    assert ys == sorted(ys)  # ports in argument order, top to bottom
    controller.undo_stack.undo()
    assert sorted(item.input_ports) == [0, 1]
    assert view.editor_scene.node_item(a).input_ports == {}  # an Input takes no input


def test_error_marker_appears_and_clears_after_a_fix(view, controller):
    scene = view.editor_scene
    inp, conv, dense = build(controller, "Conv2D", "Dense")
    node, edge = scene.node_item(dense), scene.edge_item(Edge(conv, dense))
    assert node.has_problems and edge.has_problems
    assert "Flatten" in node.toolTip()
    view.fit_to_view()
    corner = lambda x, y: QPointF(view.mapFromScene(node.mapToScene(QPointF(x, y))))  # noqa: E731
    badge = QRectF(corner(176, 7), corner(194, 24))
    assert count_red(render(view), badge) > 20  # the red "!" badge is painted

    # The fix: Flatten between the Conv2D and the Dense.
    controller.disconnect(Edge(conv, dense))
    flat = controller.add_layer("Flatten", pos=(450, 150))
    controller.connect(conv, flat)
    controller.connect(flat, dense)
    assert not node.has_problems and not scene.edge_item(Edge(flat, dense)).has_problems
    assert node.shape_text == "(None, 64)"
    assert count_red(render(view), badge) == 0
    # Undo brings the problem back.
    for _ in range(4):
        controller.undo_stack.undo()
    assert node.has_problems and scene.edge_item(Edge(conv, dense)).has_problems


def test_merge_mismatch_marks_the_merge_and_its_edges(view, controller):
    inp = controller.add_layer("InputLayer", pos=(0, 0))
    a = controller.add_layer("Conv2D", pos=(300, 0))
    b = controller.add_layer("Conv2D", pos=(300, 200))
    add = controller.add_layer("Add", pos=(600, 100))
    controller.connect(inp, a)
    controller.connect(inp, b)
    controller.set_param(b, "filters", 16)
    controller.connect(a, add)
    controller.connect(b, add)
    scene = view.editor_scene
    assert scene.node_item(add).has_problems
    assert scene.edge_item(Edge(b, add, 1)).has_problems
    assert not scene.edge_item(Edge(inp, a)).has_problems
    controller.set_param(b, "filters", 32)
    assert not scene.node_item(add).has_problems and not scene.edge_item(Edge(b, add, 1)).has_problems
    assert scene.node_item(add).shape_text == "(None, 26, 26, 32)"


def test_downstream_of_a_broken_layer_is_quiet(view, controller):
    inp, dense, flat = build(controller, "Dense", "Flatten")
    controller.disconnect(Edge(inp, dense))
    scene = view.editor_scene
    assert scene.node_item(dense).has_problems
    assert scene.node_item(flat).shape_text == "?" and not scene.node_item(flat).has_problems
    assert not scene.edge_item(Edge(dense, flat)).label_visible()  # no "?" label


def test_selection_is_shared_with_the_controller(view, controller):
    inp, conv = build(controller, "Conv2D")
    scene = view.editor_scene
    controller.set_selection([inp])
    assert scene.node_item(inp).isSelected() and not scene.node_item(conv).isSelected()
    scene.node_item(conv).setSelected(True)
    assert controller.selection() == [inp, conv]
    scene.clearSelection()
    assert controller.selection() == []
    scene.edge_item(Edge(inp, conv)).setSelected(True)
    assert controller.selected_edges() == [Edge(inp, conv)]


def test_replaced_document_rebuilds_the_scene(view, controller):
    build(controller, "Dense")
    other = Document()
    from visualkeras_app.document.graph import LayerNode

    other.add_node(LayerNode("x1", "InputLayer", "in", {"batch_shape": [None, 8], "dtype": "float32",
                                                        "sparse": False, "ragged": False}, (0, 0)))
    other.add_node(LayerNode("x2", "Dense", "out", {"units": 3}, (0, 200)))
    other.add_edge(Edge("x1", "x2"))
    old_doc = controller.document
    controller.replace_document(other)
    scene = view.editor_scene
    assert {i.node_id for i in items_of(scene, NodeItem)} == {"x1", "x2"}
    assert scene.node_item("x2").shape_text == "(None, 3)"
    assert controller.flow == "TB" and scene.node_item("x2").input_port(0).pos().y() == 0  # ports on top
    # The old document no longer drives the scene.
    old_doc.clear()
    assert len(items_of(scene, NodeItem)) == 2


def test_flow_moves_the_ports(view, controller):
    inp, dense = build(controller, "Dense")
    item = view.editor_scene.node_item(dense)
    assert item.input_port(0).pos() == QPointF(0, item.height / 2)
    controller.set_flow("TB")
    assert item.input_port(0).pos().y() == 0 and item.output_port.pos().y() == item.height
    p1, p2 = view.editor_scene.edge_item(Edge(inp, dense)).endpoints()
    assert p2 == item.input_port(0).scenePos()


def test_node_colours_follow_the_category(view, controller):
    a = controller.add_layer("Conv2D")
    b = controller.add_layer("Dense")
    c = controller.add_layer("MaxPooling2D")
    scene = view.editor_scene
    colours = {scene.node_item(i).accent.name() for i in (a, b, c)}
    assert len(colours) == 3
    assert ERROR_COLOR.name() not in colours


def _runs_behind(edge_item, node_items):
    from PySide6.QtGui import QPainterPathStroker

    stroker = QPainterPathStroker()
    stroker.setWidth(2)
    stroke = stroker.createStroke(edge_item.path())
    return [n.name for n in node_items if stroke.intersects(n.sceneBoundingRect())]


def test_a_skip_connection_goes_around_the_layers_it_skips(view, controller, qtbot):
    controller.set_flow("TB")
    inp = controller.add_layer("InputLayer", pos=(0, 0))
    chain = [controller.add_layer("Conv2D", pos=(0, 140 * (i + 1)), config=None) for i in range(2)]
    add = controller.add_layer("Add", pos=(0, 420))
    for a, b in zip([inp] + chain, chain + [add]):
        controller.connect(a, b)
    for nid in chain:
        controller.set_param(nid, "padding", "same")
    skip = controller.connect(inp, add)
    scene = view.editor_scene
    qtbot.waitUntil(lambda: not scene._route_pending, timeout=2000)  # detours come right after the edit
    middle = [scene.node_item(n) for n in chain]
    assert _runs_behind(scene.edge_item(skip), middle) == []
    assert not scene.node_item(add).has_problems  # and the shapes agree
    # The detour passes on the side of its port: the skip enters port 1, right of port 0.
    assert scene.edge_item(skip).path().boundingRect().right() > middle[0].sceneBoundingRect().right()
    # Dragging a layer into the way of a connection: the connection steps aside at once.
    other = controller.add_layer("Dense", pos=(600, 0))
    from .conftest import Mouse

    mouse = Mouse(view)
    start = scene.node_item(other).mapToScene(QPointF(100, 45))
    mouse.drag(start, scene.node_item(chain[0]).mapToScene(QPointF(100, 45)) + QPointF(230, 0))
    assert _runs_behind(scene.edge_item(skip), middle + [scene.node_item(other)]) == []


def test_a_detour_straightens_when_the_layer_in_the_way_leaves(view, controller, qtbot, mouse):
    inp = controller.add_layer("InputLayer", pos=(0, 0))
    dense = controller.add_layer("Dense", pos=(900, 0))
    edge = controller.connect(inp, dense)
    scene = view.editor_scene
    item = scene.edge_item(edge)
    assert item.path().boundingRect().height() == 0  # straight along the row
    blocker = controller.add_layer("Dropout", pos=(450, 0))  # dropped right on the connection
    qtbot.waitUntil(lambda: not scene._route_pending, timeout=2000)
    assert _runs_behind(item, [scene.node_item(blocker)]) == []
    assert item.path().boundingRect().height() > 40
    mouse.drag(scene.node_item(blocker).mapToScene(QPointF(100, 45)), QPointF(550, 400))
    assert controller.document.nodes[blocker].pos[1] > 300
    assert item.path().boundingRect().height() == 0
    controller.undo_stack.undo()  # the move is undone: the layer is back in the way
    qtbot.waitUntil(lambda: not scene._route_pending, timeout=2000)
    assert _runs_behind(item, [scene.node_item(blocker)]) == []


def _plain(edge_item):
    from visualkeras_app.canvas.edge_item import cubic_path

    p1, p2 = edge_item.endpoints()
    return edge_item.path() == cubic_path(p1, p2, edge_item.dst_item.flow)


def test_undoing_a_paste_over_connections_gives_them_their_plain_curves_and_labels(view, controller, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    # A long connection with room for two layers on it, and two connected layers beside it to copy.
    inp = controller.add_layer("InputLayer", pos=(0, 0))
    dense = controller.add_layer("Dense", pos=(1200, 0))
    long_edge = controller.connect(inp, dense)
    a = controller.add_layer("InputLayer", pos=(400, -60))
    b = controller.add_layer("Dense", pos=(850, -60))
    controller.connect(a, b)
    scene = view.editor_scene
    qtbot.waitUntil(lambda: not scene._route_pending, timeout=2000)
    render(view)
    assert _plain(scene.edge_item(long_edge)) and scene.edge_item(long_edge).label_visible()
    controller.set_selection([a, b])
    view.setFocus()
    QTest.keyClick(view, Qt.Key_C, Qt.ControlModifier)
    controller.move_nodes({a: (400, -400), b: (850, -400)})  # the originals move out of the way
    QTest.keyClick(view, Qt.Key_V, Qt.ControlModifier)
    pasted = controller.selection()
    assert len(pasted) == 2 and set(pasted).isdisjoint({a, b})
    qtbot.waitUntil(lambda: not scene._route_pending, timeout=2000)
    render(view)
    # The copies landed on the long connection: it went round them.
    assert not _plain(scene.edge_item(long_edge))
    undo = controller.undo_stack.createUndoAction(view)
    undo.trigger()  # the paste goes
    assert set(controller.document.nodes) == {inp, dense, a, b}
    qtbot.waitUntil(lambda: not scene._route_pending, timeout=2000)
    render(view)
    for edge in controller.document.edges:
        item = scene.edge_item(edge)
        assert _plain(item), edge  # no detour round layers that are gone
        assert item.label and item.label_visible(), edge


def test_a_layer_card_shows_its_key_arguments_and_activation_and_follows_edits(view, controller):
    inp, dense = build(controller, "Dense")
    scene = view.editor_scene
    item = scene.node_item(dense)
    controller.set_param(dense, "units", 64)
    controller.set_param(dense, "activation", "linear")
    assert item.activation == "" and item._texts[1] == "Dense 64"  # linear does nothing: not shown
    controller.set_param(dense, "activation", "relu")
    assert item.activation == "relu" and item._texts[1] == "Dense 64 \u00b7 relu"
    assert "Activation: relu" in item.toolTip()
    controller.set_param(dense, "units", 10)
    assert item._texts[1] == "Dense 10 \u00b7 relu"
    controller.undo_stack.undo()
    assert item._texts[1] == "Dense 64 \u00b7 relu"
    controller.undo_stack.undo()
    assert item._texts[1] == "Dense 64"
    assert scene.node_item(inp).subtitle == "InputLayer"  # nothing to add for an Input
    conv = controller.add_layer("Conv2D", pos=(0, 300), config={"filters": 32, "kernel_size": (3, 3),
                                                                 "activation": "relu"})
    assert scene.node_item(conv).subtitle == "Conv2D 32, 3\u00d73 \u00b7 relu"
    drop = controller.add_layer("Dropout", pos=(300, 300), config={"rate": 0.25})
    assert scene.node_item(drop).subtitle == "Dropout 0.25"
