"""Fixtures for the canvas tests: a shown EditorView over a fresh controller, and mouse helpers that
send real QMouseEvents to the view's viewport (so that the view, the scene and the items all take
part, as they do for a user)."""
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QEvent, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


@pytest.fixture
def controller(qapp):
    from visualkeras_app.document.graph import Document
    from visualkeras_app.editor.controller import EditorController

    return EditorController(Document())


@pytest.fixture
def view(qtbot, controller):
    from visualkeras_app.canvas.view import EditorView

    v = EditorView(controller)
    qtbot.addWidget(v)
    v.resize(900, 700)
    v.show()
    qtbot.waitExposed(v)
    v.centerOn(300, 200)
    return v


@pytest.fixture
def messages(controller):
    seen = []
    controller.message.connect(seen.append)
    return seen


class Mouse:
    """Presses, moves and releases at scene points, through the view's viewport (at viewport
    points instead with ``in_viewport=True``, for gestures that move the view itself)."""

    def __init__(self, view, in_viewport=False):
        self.view = view
        self.in_viewport = in_viewport
        self.buttons = Qt.NoButton

    def _send(self, kind, pt, button, modifiers=Qt.NoModifier):
        vp = self.view.viewport()
        local = QPointF(pt) if self.in_viewport else QPointF(self.view.mapFromScene(QPointF(pt)))
        glob = QPointF(vp.mapToGlobal(local.toPoint()))
        QApplication.sendEvent(vp, QMouseEvent(kind, local, glob, button, self.buttons, modifiers))

    def press(self, scene_pt, button=Qt.LeftButton, modifiers=Qt.NoModifier):
        self.buttons = button
        self._send(QEvent.MouseButtonPress, scene_pt, button, modifiers)

    def move(self, scene_pt, modifiers=Qt.NoModifier):
        self._send(QEvent.MouseMove, scene_pt, Qt.NoButton, modifiers)

    def release(self, scene_pt, button=Qt.LeftButton, modifiers=Qt.NoModifier):
        self.buttons = Qt.NoButton
        self._send(QEvent.MouseButtonRelease, scene_pt, button, modifiers)

    def drag(self, start, end, steps=6, button=Qt.LeftButton, modifiers=Qt.NoModifier):
        start, end = QPointF(start), QPointF(end)
        self.press(start, button, modifiers)
        for i in range(1, steps + 1):
            self.move(start + (end - start) * (i / steps), modifiers)
        self.release(end, button, modifiers)

    def click(self, scene_pt, modifiers=Qt.NoModifier):
        self.press(scene_pt, modifiers=modifiers)
        self.release(scene_pt, modifiers=modifiers)


@pytest.fixture
def mouse(view):
    return Mouse(view)
