"""The problems dock: fills from inference; a click selects the node the problem is about."""
import pytest
from PySide6.QtCore import Qt

from visualkeras_app.panels.problems import ProblemsPanel


@pytest.fixture
def panel(qtbot, controller):
    p = ProblemsPanel(controller)
    qtbot.addWidget(p)
    p.resize(600, 250)
    p.show()
    qtbot.waitExposed(p)
    return p


def test_fills_and_clears(qtbot, panel, chain, controller):
    ids = chain("Flatten")
    assert panel.problems == [] and panel.empty.isVisible()
    with qtbot.waitSignal(panel.count_changed) as sig:
        lone = controller.add_layer("Dense")
    assert sig.args[0] >= 1
    assert any(p.node_id == lone for p in panel.problems)
    assert panel.tree.topLevelItemCount() == len(panel.problems)
    assert any("dense" == panel.tree.topLevelItem(i).text(1) for i in range(panel.tree.topLevelItemCount()))
    controller.connect(ids[-1], lone)
    assert panel.problems == [] and panel.tree.topLevelItemCount() == 0


def test_click_selects_the_node(qtbot, panel, chain, controller):
    chain("Flatten")
    conv = controller.add_layer("Conv2D")  # unconnected: missing its input
    controller.set_selection([])
    row = next(i for i in range(panel.tree.topLevelItemCount())
               if panel.tree.topLevelItem(i).text(1) == "conv2d")
    rect = panel.tree.visualItemRect(panel.tree.topLevelItem(row))
    with qtbot.waitSignal(panel.node_activated) as sig:
        qtbot.mouseClick(panel.tree.viewport(), Qt.LeftButton, pos=rect.center())
    assert sig.args == [conv]
    assert controller.selection() == [conv]


def test_shape_error_is_listed(qtbot, panel, chain, controller):
    ids = chain(("Dense", {"units": 10}))  # Dense head on a 4-D tensor: the Flatten hint
    kinds = {p.kind for p in panel.problems}
    assert "shape" in kinds
    assert any("Flatten" in t for t in panel.item_texts())
    controller.undo_stack.undo()  # the units edit
    controller.undo_stack.undo()  # the connection
    assert ids[1] in {p.node_id for p in panel.problems}


def test_document_replaced(qtbot, panel, controller):
    from visualkeras_app.document.graph import Document

    controller.add_layer("Dense")
    assert panel.problems
    controller.replace_document(Document())
    assert panel.problems == [] and panel.tree.topLevelItemCount() == 0
