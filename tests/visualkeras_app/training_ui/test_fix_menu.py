"""The node context menu offers the one-click fix the Training panel shows for a model that does not fit the
data set (the same edit, undoable); layers the fix does not edit get no such entry."""
import pytest

pytest.importorskip("visualkeras_app.training.session")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtGui import QContextMenuEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QMenu  # noqa: E402


def right_click_menu(qtbot, win, node_id):
    """The texts and actions of the context menu a right-click on the layer opens (closed at once)."""
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
    view = win.view
    pos = view.mapFromScene(win.scene.node_item(node_id).sceneBoundingRect().center())
    QApplication.sendEvent(view.viewport(), QContextMenuEvent(QContextMenuEvent.Mouse, pos,
                                                              view.viewport().mapToGlobal(pos)))
    qtbot.waitUntil(lambda: bool(menus), timeout=3000)
    timer.stop()
    return menus[0]


@pytest.mark.slow  # a window and two context menus: over a second here
def test_the_node_menu_applies_the_fit_fix(qtbot, main_window):
    win = main_window
    win.new_from_template("seed_mlp")  # takes 100 values: MNIST does not fit
    win.view.show_graph()
    problem = win.training.check_fit()
    assert problem is not None and problem.action is not None
    target = problem.action[0]
    other = next(nid for nid in win.controller.document.nodes if nid != target)
    assert not any(t.startswith("Fix:") for t in right_click_menu(qtbot, win, other))

    actions = right_click_menu(qtbot, win, target)
    fix = next(a for t, a in actions.items() if t.startswith("Fix:"))
    assert fix.text() == f"Fix: {problem.action_text}"
    fix.trigger()
    assert win.training.check_fit() is None  # it fits now
    assert win.training.panel.fit_problem_text() == ""
    win.controller.undo_stack.undo()
    assert win.training.check_fit() is not None  # one undoable edit
