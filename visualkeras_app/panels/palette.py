"""The layer palette: the engine's layer registry by category, a search box, drag or double-click to add.

The window fills it at launch from the shipped manifest (``resources/palette.json``, see
:mod:`visualkeras_app.panels.palette_manifest`), which needs no engine: the layers are listed, searchable and
draggable before torch has loaded. Once the engine has loaded, :meth:`PalettePanel.sync_with_registry` checks
the list against the registry itself. Without a usable manifest the tree shows "Loading layers…" until then.
"""
from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QLabel, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

# The canvas colours its node boxes by category; the palette's swatches match them.
from visualkeras_app.document.style import category_color
# first_doc_line: the tooltip rule, also imported from here.
from visualkeras_app.panels.palette_manifest import (PaletteManifestError, drift, first_doc_line,  # noqa: F401
                                                     load_manifest, registry_listing)

LAYER_MIME = "application/x-visualkeras-layer"
CLASS_ROLE = Qt.UserRole + 1


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
        self._listing = {}
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
        """Fill the tree from ``{category: [(name, tooltip)]}``, or by default from the shipped manifest (no
        engine import; PaletteManifestError when the file is missing or unreadable)."""
        if by_category is None:
            by_category = load_manifest()
        self._listing = {cat: list(layers) for cat, layers in by_category.items() if layers}
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

    def populate_from_manifest(self) -> bool:
        """Fill the tree from the shipped manifest; False (the placeholder stays) when it cannot be read."""
        try:
            self.populate()
        except PaletteManifestError:
            return False
        return True

    def sync_with_registry(self) -> bool:
        """Once the engine is loaded: make the tree match the layer registry (it already does when the manifest
        is up to date). True when the tree had to change; the search text stays applied."""
        listing = registry_listing()
        if self._loaded and not drift(self._listing, listing):
            return False
        self.populate(listing)
        return True

    def listing(self) -> dict:
        """What the tree shows: ``{category: [(name, tooltip)]}`` ({} before it is filled)."""
        return {cat: list(layers) for cat, layers in self._listing.items()} if self._loaded else {}

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
