"""A problem whose message names a one-layer fix ("Add a Flatten before it") is offered in the layer's
context menu, and the menu item makes that edit (undoable)."""
from PySide6.QtCore import QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu


def right_click_menu(qtbot, view, node_id):
    menus = []

    def take():
        popup = QApplication.activePopupWidget()
        if isinstance(popup, QMenu):
            menus.append({a.text(): a for a in popup.actions() if not a.isSeparator()})
            popup.close()

    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(take)
    timer.start()
    pos = view.mapFromScene(view.editor_scene.node_item(node_id).sceneBoundingRect().center())
    QApplication.sendEvent(view.viewport(), QContextMenuEvent(QContextMenuEvent.Mouse, pos,
                                                              view.viewport().mapToGlobal(pos)))
    qtbot.waitUntil(lambda: bool(menus), timeout=3000)
    timer.stop()
    return menus[0]


def test_the_flatten_warning_is_fixed_from_the_layers_menu(qtbot, view, controller):
    inp = controller.add_layer("InputLayer", pos=(0, 0))
    controller.set_param(inp, "batch_shape", [None, 28, 28, 1])
    conv = controller.add_layer("Conv2D", pos=(0, 150))
    dense = controller.add_layer("Dense", pos=(0, 300))
    controller.connect(inp, conv)
    controller.connect(conv, dense)
    doc = controller.document
    (problem,) = doc.result.node_problems[dense]
    assert "Add a Flatten" in problem.message and problem.insert == "Flatten"
    assert not any(t.startswith("Fix:") for t in right_click_menu(qtbot, view, conv))  # conv has no problem
    actions = right_click_menu(qtbot, view, dense)
    fix = actions["Fix: insert Flatten before dense"]
    assert "Add a Flatten" in fix.toolTip()
    fix.trigger()
    flatten = next(n.id for n in doc.nodes.values() if n.class_name == "Flatten")
    assert [e.src for e in doc.inputs_of(flatten)] == [conv] and [e.src for e in doc.inputs_of(dense)] == [flatten]
    assert not doc.result.node_problems.get(dense) and len(doc.result.shapes[dense]) == 2
    controller.undo_stack.undo()  # one step puts the graph back
    assert "Flatten" not in {n.class_name for n in doc.nodes.values()}
    assert [e.src for e in doc.inputs_of(dense)] == [conv]
