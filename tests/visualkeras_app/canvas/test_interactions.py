"""Mouse gestures on the canvas, as a user makes them: port-to-port drags, drags onto a layer,
refused drags, node drags (one undoable move), snapping."""
from PySide6.QtCore import QPointF

from visualkeras_app.canvas.interactions import ConnectInteraction
from visualkeras_app.canvas.port_item import PortItem
from visualkeras_app.document.graph import Edge


def out_port(view, nid):
    return view.editor_scene.node_item(nid).output_port.scenePos()


def in_port(view, nid, index=0):
    return view.editor_scene.node_item(nid).input_port(index).scenePos()


def body(view, nid):
    return view.editor_scene.node_item(nid).mapToScene(QPointF(100, 45))


def temp_items(view):
    return [i for i in view.editor_scene.items() if i.zValue() >= 5]


def test_port_to_port_drag_connects_and_undoes(view, controller, mouse):
    inp = controller.add_layer("InputLayer", pos=(0, 0))
    conv = controller.add_layer("Conv2D", pos=(320, 40))
    mouse.drag(out_port(view, inp), in_port(view, conv))
    assert controller.document.edges == [Edge(inp, conv)]
    assert view.editor_scene.edge_item(Edge(inp, conv)).label == "(None, 28, 28, 1)"
    assert temp_items(view) == []  # the rubber line is gone
    assert (view.editor_scene.node_item(conv).x(), view.editor_scene.node_item(conv).y()) == (320, 40)  # not moved
    controller.undo_stack.undo()
    assert controller.document.edges == []
    assert view.editor_scene.edge_item(Edge(inp, conv)) is None


def test_backward_drag_from_an_input_port(view, controller, mouse):
    inp = controller.add_layer("InputLayer", pos=(0, 0))
    dense = controller.add_layer("Dense", pos=(320, 0))
    mouse.drag(in_port(view, dense), out_port(view, inp))
    assert controller.document.edges == [Edge(inp, dense)]


def test_drop_on_a_merge_layer_body_takes_the_free_port(view, controller, mouse):
    a = controller.add_layer("InputLayer", pos=(0, 0))
    b = controller.add_layer("InputLayer", pos=(0, 160))
    add = controller.add_layer("Add", pos=(320, 80))
    mouse.drag(out_port(view, a), body(view, add))
    mouse.drag(out_port(view, b), body(view, add))
    assert controller.document.edges == [Edge(a, add, 0), Edge(b, add, 1)]


def test_refused_drag_shows_the_reason_and_connects_nothing(view, controller, mouse, messages):
    a = controller.add_layer("InputLayer", pos=(0, 0))
    b = controller.add_layer("InputLayer", pos=(320, 0))
    dense = controller.add_layer("Dense", pos=(320, 200))
    controller.connect(a, dense)
    count = controller.undo_stack.count()

    # Hovering an invalid target: the port turns red and the reason shows beside the cursor.
    mouse.press(out_port(view, b))
    mouse.move(out_port(view, b) + QPointF(40, 60))
    interaction = view.editor_scene._interaction
    assert isinstance(interaction, ConnectInteraction)
    mouse.move(in_port(view, dense))
    target_port = view.editor_scene.node_item(dense).input_port(0)
    assert target_port._highlight == "bad"
    assert "already has one" in interaction._reason.text
    mouse.release(in_port(view, dense))
    assert target_port._highlight is None
    assert "already has one" in messages[-1]

    # Onto an Input's body: refused, with the reason.
    mouse.drag(out_port(view, dense), body(view, b))
    assert "Input" in messages[-1]
    assert controller.undo_stack.count() == count and controller.document.edges == [Edge(a, dense)]
    assert temp_items(view) == []


def test_valid_target_highlights_green(view, controller, mouse):
    a = controller.add_layer("InputLayer", pos=(0, 0))
    dense = controller.add_layer("Dense", pos=(320, 0))
    mouse.press(out_port(view, a))
    assert view.editor_scene._interaction._reason.text == ""  # no complaint about its own layer
    mouse.move(out_port(view, a) + QPointF(-60, 10))  # back over its own layer: still nothing
    assert view.editor_scene._interaction._target is None
    mouse.move(in_port(view, dense) + QPointF(2, 1))
    assert view.editor_scene.node_item(dense).input_port(0)._highlight == "ok"
    assert view.editor_scene._interaction._reason.text == ""
    mouse.release(QPointF(200, 400))  # let go over empty canvas: nothing happens
    assert controller.document.edges == []
    assert view.editor_scene.node_item(dense).input_port(0)._highlight is None


def test_node_drag_is_one_undoable_move(view, controller, mouse):
    a = controller.add_layer("Dense", pos=(0, 0))
    b = controller.add_layer("Dense", pos=(300, 0))
    count = controller.undo_stack.count()
    mouse.drag(body(view, a), body(view, a) + QPointF(37, 61), steps=8)
    doc = controller.document
    assert doc.nodes[a].pos == (37.0, 61.0)
    assert doc.nodes[b].pos == (300.0, 0.0)
    assert controller.undo_stack.count() == count + 1
    controller.undo_stack.undo()
    item = view.editor_scene.node_item(a)
    assert doc.nodes[a].pos == (0.0, 0.0) and (item.x(), item.y()) == (0.0, 0.0)


def test_dragging_a_selection_moves_all_of_it(view, controller, mouse):
    a = controller.add_layer("Dense", pos=(0, 0))
    b = controller.add_layer("Dense", pos=(300, 0))
    controller.set_selection([a, b])
    mouse.drag(body(view, b), body(view, b) + QPointF(0, 100))
    doc = controller.document
    assert doc.nodes[a].pos == (0.0, 100.0) and doc.nodes[b].pos == (300.0, 100.0)
    assert controller.undo_stack.undo() is None and doc.nodes[a].pos == (0.0, 0.0)
    assert doc.nodes[b].pos == (0.0 + 300.0, 0.0)


def test_snap_to_grid_while_dragging(view, controller, mouse):
    a = controller.add_layer("Dense", pos=(0, 0))
    view.set_snap_to_grid(True, 20)
    mouse.drag(body(view, a), body(view, a) + QPointF(33, 47))
    assert controller.document.nodes[a].pos == (40.0, 40.0)


def test_click_on_a_port_never_moves_the_node(view, controller, mouse):
    a = controller.add_layer("Dense", pos=(0, 0))
    port = view.editor_scene.node_item(a).output_port
    assert isinstance(port, PortItem)
    mouse.click(port.scenePos())
    assert controller.document.nodes[a].pos == (0.0, 0.0)
    assert controller.undo_stack.count() == 1


def test_dragging_a_connected_input_moves_the_connection(view, controller, mouse):
    inp = controller.add_layer("InputLayer", pos=(0, 0))
    a = controller.add_layer("Dense", pos=(320, -120))
    b = controller.add_layer("Dense", pos=(320, 120))
    controller.connect(inp, a)
    stack = controller.undo_stack
    count = stack.index()
    # Pick the connection up at a's input and drop it on b's input: one undoable reconnect.
    mouse.press(in_port(view, a))
    mouse.move(in_port(view, a) + QPointF(-30, 60))
    assert not view.editor_scene.edge_item(Edge(inp, a)).isVisible()
    mouse.move(in_port(view, b))
    mouse.release(in_port(view, b))
    assert controller.document.edges == [Edge(inp, b)]
    assert stack.index() == count + 1
    controller.undo_stack.undo()
    assert controller.document.edges == [Edge(inp, a)]
    assert view.editor_scene.edge_item(Edge(inp, a)).isVisible()
    # Dropped back where it was: nothing changes.
    mouse.drag(in_port(view, a), in_port(view, a) + QPointF(1, 1))
    assert controller.document.edges == [Edge(inp, a)] and stack.index() == count
    assert view.editor_scene.edge_item(Edge(inp, a)).isVisible()
    # Dropped on empty canvas: disconnected.
    mouse.drag(in_port(view, a), QPointF(150, 400))
    assert controller.document.edges == []
    controller.undo_stack.undo()
    assert controller.document.edges == [Edge(inp, a)]


def test_moving_a_connection_onto_a_taken_input_is_refused(view, controller, mouse, messages):
    i1 = controller.add_layer("InputLayer", pos=(0, -120))
    i2 = controller.add_layer("InputLayer", pos=(0, 120))
    a = controller.add_layer("Dense", pos=(320, -120))
    b = controller.add_layer("Dense", pos=(320, 120))
    controller.connect(i1, a)
    controller.connect(i2, b)
    mouse.drag(in_port(view, a), in_port(view, b))
    assert "already has one" in messages[-1]
    assert controller.document.edges == [Edge(i1, a), Edge(i2, b)]
    assert view.editor_scene.edge_item(Edge(i1, a)).isVisible()


def test_selecting_on_the_canvas_never_scrolls_the_view(view, controller, mouse):
    a = controller.add_layer("Dense", pos=(0, 0))
    view.centerOn(QPointF(100, 400))  # the node is only partly visible at the top
    area = view.mapToScene(view.viewport().rect()).boundingRect()
    assert area.intersects(view.editor_scene.node_item(a).sceneBoundingRect())
    start = view.center_scene_pos()
    point = QPointF(100, max(area.top() + 5, 5))
    mouse.click(point)
    assert controller.selection() == [a]
    assert view.center_scene_pos() == start
