"""The layer palette: the engine's layer registry by category, a search box, drag or double-click to add.

The tree shows "Loading layers…" until :meth:`PalettePanel.populate` runs; the window calls it after it
has appeared, because reading the registry imports ``engine`` and so torch (about two seconds).
"""
from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QLabel, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

# The canvas colours its node boxes by category; the palette's swatches match them.
from visualkeras_app.document.style import category_color

LAYER_MIME = "application/x-visualkeras-layer"
CLASS_ROLE = Qt.UserRole + 1

# Layers that exist for the RNN wrappers only; they cannot sit on the canvas by themselves.
_HIDDEN = {"GRUCell", "LSTMCell", "SimpleRNNCell", "StackedRNNCells", "Wrapper"}  # Wrapper: a base class


def first_doc_line(cls) -> str:
    """The first non-empty line of a class's docstring (the palette tooltip)."""
    for line in (cls.__doc__ or "").splitlines():
        line = line.strip()
        if line:
            return line.replace("``", "")
    return cls.__name__


def category_icon(category: str, size: int = 12) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(Qt.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.Antialiasing)
    p.setPen(Qt.NoPen)
    p.setBrush(QColor(category_color(category)))
    p.drawRoundedRect(1, 1, size - 2, size - 2, 3, 3)
    p.end()
    return QIcon(pm)


class _LayerTree(QTreeWidget):
    """A tree whose layer items drag out as ``application/x-visualkeras-layer`` (the class name)."""

    def mimeTypes(self):
        return [LAYER_MIME, "text/plain"]

    def mimeData(self, items):
        names = [it.data(0, CLASS_ROLE) for it in items if it.data(0, CLASS_ROLE)]
        if not names:
            return None
        mime = QMimeData()
        mime.setData(LAYER_MIME, names[0].encode("utf-8"))
        mime.setText(names[0])
        return mime


class PalettePanel(QWidget):
    """Layer classes by category. Signals: ``layer_activated(class_name)`` on double-click or Enter."""

    layer_activated = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Filter layers by name; Enter adds the first match at the centre of the canvas")
        self.tree = _LayerTree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setIndentation(14)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SingleSelection)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragOnly)
        self.hint = QLabel("Drag a layer onto the canvas, or double-click it.", self)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: palette(mid); font-size: 11px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.hint)
        self._loaded = False
        self._show_placeholder()
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._activate_first)
        # Activation is a double-click (or Enter on a focused item) in every style we ship with.
        self.tree.itemActivated.connect(self._on_activated)

    @property
    def loaded(self) -> bool:
        return self._loaded

    def _show_placeholder(self):
        self.tree.clear()
        item = QTreeWidgetItem(["Loading layers…"])
        item.setFlags(Qt.NoItemFlags)
        self.tree.addTopLevelItem(item)
        self.search.setEnabled(False)

    def populate(self, by_category=None):
        """Fill the tree from the registry (imports engine), or from ``{category: [(name, tooltip)]}``."""
        if by_category is None:
            from engine.layers import registry

            by_category = {cat: [(name, first_doc_line(registry.get_class(name))) for name in names
                                 if name not in _HIDDEN]
                           for cat, names in registry.by_section().items()}
        self.tree.clear()
        for cat, layers in by_category.items():
            if not layers:
                continue
            top = QTreeWidgetItem([cat])
            top.setIcon(0, category_icon(cat))
            top.setFlags(Qt.ItemIsEnabled)
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            top.setToolTip(0, f"{cat} layers")
            for name, tip in layers:
                child = QTreeWidgetItem([name])
                child.setData(0, CLASS_ROLE, name)
                child.setToolTip(0, f"<b>{name}</b><br>{tip}")
                child.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled)
                top.addChild(child)
            self.tree.addTopLevelItem(top)
        self.tree.expandAll()
        self.search.setEnabled(True)
        self._loaded = True
        self._filter(self.search.text())

    # ------------------------------------------------------------------ queries (tests, the window)
    def layer_items(self):
        out = []
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            out.extend(top.child(j) for j in range(top.childCount()))
        return out

    def item_for(self, class_name):
        return next((it for it in self.layer_items() if it.data(0, CLASS_ROLE) == class_name), None)

    def visible_layers(self):
        return [it.data(0, CLASS_ROLE) for it in self.layer_items() if not it.isHidden()]

    def categories(self):
        return [self.tree.topLevelItem(i).text(0) for i in range(self.tree.topLevelItemCount())]

    # ------------------------------------------------------------------ slots
    def _filter(self, text):
        if not self._loaded:
            return
        needle = text.strip().lower()
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            any_shown = False
            for j in range(top.childCount()):
                child = top.child(j)
                shown = not needle or needle in child.text(0).lower()
                child.setHidden(not shown)
                any_shown |= shown
            top.setHidden(not any_shown)
            if needle and any_shown:
                top.setExpanded(True)

    def _activate_first(self):
        visible = self.visible_layers()
        if visible:
            self.layer_activated.emit(visible[0])

    def _on_activated(self, item, _column=0):
        name = item.data(0, CLASS_ROLE)
        if name:
            self.layer_activated.emit(name)
