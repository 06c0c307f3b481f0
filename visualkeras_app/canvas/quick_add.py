"""The quick-add menu: a connection dragged out of a port and let go on empty canvas asks which
layer to put there (as Blender's and Orange's canvases do). Type to filter, arrows to choose, Enter
or a click to place; Escape or a click elsewhere places nothing.

The menu only picks a class name (``chosen``); the view places and connects the layer through the
controller, so the menu knows nothing of the document.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

# Layers that exist for the RNN wrappers only (as in the palette).
_HIDDEN = {"GRUCell", "LSTMCell", "SimpleRNNCell", "StackedRNNCells", "Wrapper"}  # Wrapper: a base class


def registry_layer_names() -> list[str]:
    """Every layer class the palette offers (imports ``engine``: call it when the menu opens)."""
    from engine.layers import registry

    return [n for names in registry.by_category().values() for n in names if n not in _HIDDEN]


def rank(names, text) -> list[str]:
    """``names`` that contain ``text`` (any case): those starting with it first, then the rest; in
    each group the shorter names first ("pool" gives MaxPooling2D before AdaptiveMaxPooling2D), ties
    in their original order."""
    needle = text.strip().lower()
    if not needle:
        return list(names)
    starts = sorted((n for n in names if n.lower().startswith(needle)), key=len)
    return starts + sorted((n for n in names if needle in n.lower() and n not in starts), key=len)


class QuickAddMenu(QFrame):
    """A popup with a search line over a list of layer classes.

    Signals:
        chosen(str): the class name picked (the menu closes itself).
        dismissed(): the menu closed (after a pick, Escape or a click elsewhere).
    """

    chosen = Signal(str)
    dismissed = Signal()

    def __init__(self, names, title="Add layer", parent=None):
        super().__init__(parent, Qt.Popup)
        self.setFrameShape(QFrame.StyledPanel)
        self._names = list(names)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(f"{title}: type to search…")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setUniformItemSizes(True)
        self.list.setFocusPolicy(Qt.NoFocus)  # keys stay in the search line, arrows move the list
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        self.resize(240, 300)
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._choose_current)
        self.search.installEventFilter(self)
        self.list.itemClicked.connect(lambda item: self._choose(item.text()))
        self._filter("")

    def shown_names(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _filter(self, text):
        self.list.clear()
        for name in rank(self._names, text):
            QListWidgetItem(name, self.list)
        if self.list.count():
            self.list.setCurrentRow(0)

    def _choose_current(self):
        item = self.list.currentItem()
        if item is not None:
            self._choose(item.text())

    def _choose(self, name):
        self.close()
        self.chosen.emit(name)

    def eventFilter(self, obj, event):
        if obj is self.search and event.type() == QEvent.KeyPress and event.key() in (Qt.Key_Up, Qt.Key_Down):
            step = -1 if event.key() == Qt.Key_Up else 1
            row = min(max(self.list.currentRow() + step, 0), self.list.count() - 1)
            self.list.setCurrentRow(row)
            return True
        return super().eventFilter(obj, event)

    def hideEvent(self, event):
        super().hideEvent(event)
        self.dismissed.emit()

    def popup(self, global_pos):
        """Show with the top-left corner at ``global_pos``, moved up or left to stay on the screen."""
        from PySide6.QtGui import QGuiApplication

        screen = QGuiApplication.screenAt(global_pos) or QGuiApplication.primaryScreen()
        if screen is not None:
            area = screen.availableGeometry()
            global_pos.setX(max(area.left(), min(global_pos.x(), area.right() - self.width())))
            global_pos.setY(max(area.top(), min(global_pos.y(), area.bottom() - self.height())))
        self.move(global_pos)
        self.show()
        self.search.setFocus()
