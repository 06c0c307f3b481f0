"""The canvas widget: zoom, pan, fit, rubber-band selection, keyboard edits and palette drops.

Keys (when the canvas has focus): wheel or Ctrl+= / Ctrl+- zoom around the cursor, middle-drag or
Space+drag pans, F fits the graph in view, Delete/Backspace deletes the selection, Ctrl+A selects
all, Ctrl+C / Ctrl+X / Ctrl+V / Ctrl+D copy, cut, paste and duplicate, Escape cancels a connection
drag. A drop of mime ``application/x-visualkeras-layer`` (a layer class name, from the palette)
adds that layer: into the connection it is dropped on, else below the one selected layer (connected
to it), else at the drop point. A connection dragged from a port onto empty canvas, and the canvas,
layer and connection context menus, open the quick-add menu (``quick_add.py``) to pick a layer.
"""
from __future__ import annotations

import math

from PySide6.QtCore import QLineF, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPen
from PySide6.QtWidgets import QGraphicsView

from visualkeras_app.canvas.edge_item import EdgeItem
from visualkeras_app.canvas.node_item import NodeItem
from visualkeras_app.canvas.quick_add import QuickAddMenu, registry_layer_names
from visualkeras_app.canvas.scene import EditorScene
from visualkeras_app.document.style import NODE_HEIGHT, NODE_WIDTH

LAYER_MIME = "application/x-visualkeras-layer"
MIN_ZOOM, MAX_ZOOM = 0.1, 4.0
LEGIBLE_ZOOM = 0.6  # below this a layer card's name and shape are too small to read
ZOOM_STEP = 1.2

_BACKGROUND = QColor("#F4F6F8")
_GRID_MINOR = QColor("#ECEFF2")
_GRID_MAJOR = QColor("#DDE2E7")


class EditorView(QGraphicsView):
    """The canvas for ``controller`` (an EditorController); it makes its own :class:`EditorScene`.

    Signals:
        zoom_changed(float): the zoom factor (1.0 = one scene unit per pixel).
    """

    zoom_changed = Signal(float)

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.editor_scene = EditorScene(controller, self)
        self.setScene(self.editor_scene)
        self.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing | QPainter.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.SmartViewportUpdate)
        self.setOptimizationFlags(QGraphicsView.DontSavePainterState)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setAcceptDrops(True)
        self.setBackgroundBrush(_BACKGROUND)
        self._pan_from = None  # viewport point where a pan started
        self._space = False
        self._drop_edge = None  # the EdgeItem a palette drag is over
        # The quick-add menu's layer names (a function: the registry imports engine, so only when
        # the menu first opens); ``quick_add`` is the menu while it is open.
        self.layer_names = registry_layer_names
        self.quick_add = None
        self.editor_scene.quick_add_requested.connect(self.open_quick_add)
        controller.selection_changed.connect(self._reveal)
        self.centerOn(0, 0)

    # ------------------------------------------------------------------ zoom and pan
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float, anchor: QPointF | None = None):
        """Zoom to ``factor`` (clamped to [0.1, 4]) keeping ``anchor`` (scene point) in place."""
        factor = min(max(factor, MIN_ZOOM), MAX_ZOOM)
        ratio = factor / self.zoom()
        if abs(ratio - 1.0) < 1e-9:
            return
        with self.editor_scene.holding_region():
            self._scale_about(ratio, anchor)
        self.zoom_changed.emit(self.zoom())

    def _scale_about(self, ratio, anchor):
        if anchor is None:
            self.scale(ratio, ratio)
        else:
            before = self.mapFromScene(anchor)
            old = self.transformationAnchor()
            self.setTransformationAnchor(QGraphicsView.NoAnchor)
            self.scale(ratio, ratio)
            after = self.mapFromScene(anchor)
            self._scroll_by(after - before)
            self.setTransformationAnchor(old)

    def zoom_in(self):
        self.set_zoom(self.zoom() * ZOOM_STEP, self.center_scene_pos())

    def zoom_out(self):
        self.set_zoom(self.zoom() / ZOOM_STEP, self.center_scene_pos())

    def reset_zoom(self):
        self.set_zoom(1.0, self.center_scene_pos())

    def fit_to_view(self, margin=40.0):
        """Show the whole graph (never zooming in past 100%)."""
        with self.editor_scene.holding_region(later=True):  # a big document: the new view's items, next turn
            self._fit(margin)

    def _fit(self, margin):
        rect = self.editor_scene.nodes_rect()
        if rect.isNull():
            self.resetTransform()
            self.centerOn(0, 0)
            self.zoom_changed.emit(1.0)
            return
        rect = rect.adjusted(-margin, -margin, margin, margin)
        vp = self.viewport().rect()
        factor = min(vp.width() / rect.width(), vp.height() / rect.height(), 1.0)
        self.resetTransform()
        factor = min(max(factor, MIN_ZOOM), MAX_ZOOM)
        self.scale(factor, factor)
        self.centerOn(rect.center())
        self.zoom_changed.emit(self.zoom())

    fit = fit_to_view

    def show_graph(self, min_zoom=LEGIBLE_ZOOM, margin=40.0):
        """Fit the graph as `fit_to_view` does, but no smaller than ``min_zoom``: a graph too big for the view
        at a readable size shows its beginning (its top left, where the inputs are), the rest a scroll away.
        What a newly opened document gets; "Fit to View" (F) still shows all of it."""
        with self.editor_scene.holding_region(later=True):
            self._show_graph(min_zoom, margin)

    def _show_graph(self, min_zoom, margin):
        self.fit_to_view(margin)
        rect = self.editor_scene.nodes_rect()
        if rect.isNull() or self.zoom() >= min_zoom:
            return
        rect = rect.adjusted(-margin, -margin, margin, margin)
        self.resetTransform()
        self.scale(min_zoom, min_zoom)
        vw, vh = self.viewport().width() / min_zoom, self.viewport().height() / min_zoom
        cx = rect.center().x() if rect.width() <= vw else rect.left() + vw / 2
        cy = rect.center().y() if rect.height() <= vh else rect.top() + vh / 2
        self.centerOn(cx, cy)
        self.zoom_changed.emit(self.zoom())

    def center_scene_pos(self) -> QPointF:
        """The scene point at the middle of the view (where a double-clicked palette layer goes)."""
        return self.mapToScene(self.viewport().rect().center())

    def add_layer_at_center(self, class_name):
        """Add a layer as a palette double-click does: below the selected layer and fed by it when
        one layer is selected, else centred in the view. Returns its node id (or None)."""
        after = self._selected_one()
        if after is not None:
            return self._add_after(class_name, after)
        return self._add_at(class_name, self.center_scene_pos())

    def _selected_one(self):
        ids = self.controller.selection()
        return ids[0] if len(ids) == 1 else None

    def _snapped(self, x, y):
        if self.editor_scene.snap_to_grid:
            g = self.editor_scene.grid_size
            x, y = round(x / g) * g, round(y / g) * g
        return x, y

    def _add_at(self, class_name, scene_pos: QPointF):
        pos = self._snapped(scene_pos.x() - NODE_WIDTH / 2, scene_pos.y() - NODE_HEIGHT / 2)
        return self.controller.add_layer(class_name, pos=pos)

    def _add_after(self, class_name, src):
        nid = self.controller.add_layer_after(class_name, src, self._snapped(*self.controller.position_after(src)))
        item = self.editor_scene.node_item(nid) if nid is not None else None
        if item is not None:
            self.ensureVisible(item, 40, 40)
        return nid

    def ask_layer(self, scene_pos: QPointF, title, on_chosen):
        """Open the quick-add menu at ``scene_pos``; ``on_chosen(class_name)`` runs for the pick."""
        menu = QuickAddMenu(self.layer_names(), title, self)
        self.quick_add = menu

        def chosen(name):
            self.quick_add = None
            on_chosen(name)
            self.setFocus()

        menu.chosen.connect(chosen)
        menu.dismissed.connect(lambda: setattr(self, "quick_add", None) if self.quick_add is menu else None)
        menu.popup(self.viewport().mapToGlobal(self.mapFromScene(scene_pos)))
        return menu

    def open_quick_add(self, port, scene_pos: QPointF):
        """The quick-add menu at ``scene_pos`` for a connection dragged out of ``port``: the layer
        chosen goes there, fed by the port's layer (an output) or feeding it (an input)."""
        node_id, is_input, index = port.node_id, port.is_input, port.index

        def place(name):
            x, y = scene_pos.x(), scene_pos.y()
            # The new layer's port lands where the drag ended.
            if self.editor_scene.flow == "TB":
                x, y = x - NODE_WIDTH / 2, (y - NODE_HEIGHT if is_input else y)
            else:
                x, y = (x - NODE_WIDTH if is_input else x), y - NODE_HEIGHT / 2
            pos = self._snapped(x, y)
            if is_input:
                self.controller.add_layer_before(name, node_id, index, pos)
            else:
                self.controller.add_layer_after(name, node_id, pos)

        return self.ask_layer(scene_pos, "Add layer", place)

    def add_layer_menu(self, scene_pos: QPointF):
        """Canvas context menu > Add Layer…: the layer chosen is centred at ``scene_pos``."""
        return self.ask_layer(scene_pos, "Add layer", lambda name: self._add_at(name, scene_pos))

    def add_after_menu(self, node_id):
        """Layer context menu > Add Layer After…: the layer chosen goes below it, connected."""
        item = self.editor_scene.node_item(node_id)
        at = item.output_port.anchor() if item is not None else self.center_scene_pos()
        return self.ask_layer(at, "Add after", lambda name: self._add_after(name, node_id))

    def insert_menu(self, edge, scene_pos: QPointF):
        """Connection context menu > Insert Layer…: the layer chosen goes into ``edge`` at ``scene_pos``."""
        pos = self._snapped(scene_pos.x() - NODE_WIDTH / 2, scene_pos.y() - NODE_HEIGHT / 2)
        return self.ask_layer(scene_pos, "Insert", lambda name: self.controller.insert_into_edge(name, edge, pos))

    def edge_at(self, scene_pos: QPointF):
        """The connection under ``scene_pos`` (within a few pixels, not under a layer), or None."""
        r = 6.0 / max(self.zoom(), 1e-6)
        area = QRectF(scene_pos.x() - r, scene_pos.y() - r, 2 * r, 2 * r)
        for item in self.editor_scene.items(area, Qt.IntersectsItemShape):
            if isinstance(item, NodeItem):
                return None
            if isinstance(item, EdgeItem):
                return item
        return None

    def scrollContentsBy(self, dx, dy):
        super().scrollContentsBy(dx, dy)
        self.editor_scene.update_region()  # a big document: the items of what comes into view

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self.editor_scene.update_region()

    def showEvent(self, event):
        super().showEvent(event)
        self.editor_scene.update_region()

    def _scroll_by(self, delta: QPoint):
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + delta.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + delta.y())

    def _reveal(self, ids):
        # A selection made elsewhere (the problems list) scrolls its layer into view; one made on
        # the canvas (a click, a rubber band) must never move the view under the mouse.
        if len(ids) == 1 and not self.editor_scene.selecting_from_canvas:
            item = self.editor_scene.node_item(ids[0])
            if item is not None and not self.mapToScene(self.viewport().rect()).boundingRect().contains(
                    item.sceneBoundingRect()):
                self.centerOn(item)

    # ------------------------------------------------------------------ snap to grid
    @property
    def snap_to_grid(self) -> bool:
        return self.editor_scene.snap_to_grid

    def set_snap_to_grid(self, on: bool, grid: int | None = None):
        self.editor_scene.snap_to_grid = bool(on)
        if grid:
            self.editor_scene.grid_size = int(grid)
        self.viewport().update()

    # ------------------------------------------------------------------ events
    def wheelEvent(self, event):
        delta = event.angleDelta().y() or event.angleDelta().x()
        if not delta:
            return
        anchor = self.mapToScene(event.position().toPoint())
        self.set_zoom(self.zoom() * math.pow(ZOOM_STEP, delta / 120.0), anchor)
        event.accept()

    def mousePressEvent(self, event):
        if event.button() == Qt.MiddleButton or (event.button() == Qt.LeftButton and self._space):
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.ClosedHandCursor)
            event.accept()
            return
        # A rubber band started with Ctrl adds to the selection (Qt decides so at the press).
        self._band_extends = bool(event.modifiers() & Qt.ControlModifier)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event):
        if self._pan_from is not None:
            now = event.position().toPoint()
            self._scroll_by(self._pan_from - now)
            self._pan_from = now
            event.accept()
            return
        with self.editor_scene.extending(getattr(self, "_band_extends", False)):
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):
        if self._pan_from is not None and event.button() in (Qt.MiddleButton, Qt.LeftButton):
            self._pan_from = None
            self.viewport().setCursor(Qt.OpenHandCursor if self._space else Qt.ArrowCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event):
        key, mods = event.key(), event.modifiers()
        ctrl = bool(mods & Qt.ControlModifier)
        c = self.controller
        if key == Qt.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.OpenHandCursor)
        elif key in (Qt.Key_Delete, Qt.Key_Backspace):
            c.delete_selection()
        elif event.matches(QKeySequence.SelectAll):
            c.select_all()
        elif event.matches(QKeySequence.Copy):
            if c.selection():
                c.copy_nodes(c.selection())
        elif event.matches(QKeySequence.Cut):
            if c.selection():
                c.cut_nodes(c.selection())
        elif event.matches(QKeySequence.Paste):
            c.paste()
        elif ctrl and key == Qt.Key_D:
            if c.selection():
                c.duplicate(c.selection())
        elif ctrl and key in (Qt.Key_Plus, Qt.Key_Equal):
            self.zoom_in()
        elif ctrl and key == Qt.Key_Minus:
            self.zoom_out()
        elif ctrl and key == Qt.Key_0:
            self.reset_zoom()
        elif key == Qt.Key_F and not (mods & ~Qt.KeypadModifier):
            self.fit_to_view()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def keyReleaseEvent(self, event):
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space = False
            if self._pan_from is None:
                self.viewport().setCursor(Qt.ArrowCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    # ------------------------------------------------------------------ drops from the palette
    def _layer_name(self, mime):
        if mime is not None and mime.hasFormat(LAYER_MIME):
            return bytes(mime.data(LAYER_MIME)).decode("utf-8").strip()
        return None

    def dragEnterEvent(self, event):
        if self._layer_name(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()  # e.g. files: the main window opens those

    def dragMoveEvent(self, event):
        if self._layer_name(event.mimeData()):
            event.acceptProposedAction()
            self._set_drop_edge(self.edge_at(self.mapToScene(event.position().toPoint())))
        else:
            event.ignore()

    def dragLeaveEvent(self, event):
        self._set_drop_edge(None)
        super().dragLeaveEvent(event)

    def _set_drop_edge(self, item):
        # The connection a drop would go into is drawn highlighted, as under the mouse.
        if item is not self._drop_edge:
            if self._drop_edge is not None and self._drop_edge.scene() is not None:
                self._drop_edge.set_drop_target(False)
            self._drop_edge = item
            if item is not None:
                item.set_drop_target(True)

    def dropEvent(self, event):
        self._set_drop_edge(None)
        name = self._layer_name(event.mimeData())
        if not name:
            event.ignore()
            return
        self.drop_layer(name, self.mapToScene(event.position().toPoint()))
        event.acceptProposedAction()
        self.setFocus()

    def drop_layer(self, class_name, scene_pos: QPointF):
        """A palette layer let go at ``scene_pos``: onto a connection it goes into it; with one layer
        selected it goes below that layer, fed by it; else it lands where it was dropped."""
        edge = self.edge_at(scene_pos)
        if edge is not None:
            pos = self._snapped(scene_pos.x() - NODE_WIDTH / 2, scene_pos.y() - NODE_HEIGHT / 2)
            return self.controller.insert_into_edge(class_name, edge.edge, pos)
        after = self._selected_one()
        if after is not None:
            return self._add_after(class_name, after)
        return self._add_at(class_name, scene_pos)

    # ------------------------------------------------------------------ background
    def drawBackground(self, painter, rect: QRectF):
        scene = self.editor_scene
        if scene.virtual and not scene.region_covers(self.mapToScene(self.viewport().rect()).boundingRect()):
            scene.schedule_region()  # the view changed in a way no hook saw: its items come next turn
        painter.fillRect(rect, _BACKGROUND)
        step = float(self.editor_scene.grid_size)
        while step * self.zoom() < 16:  # lines closer than 16 px are noise: coarsen the grid
            step *= 5
        for s, color in ((step, _GRID_MINOR), (step * 5, _GRID_MAJOR)):
            lines = []
            x = math.floor(rect.left() / s) * s
            while x <= rect.right():
                lines.append(QLineF(x, rect.top(), x, rect.bottom()))
                x += s
            y = math.floor(rect.top() / s) * s
            while y <= rect.bottom():
                lines.append(QLineF(rect.left(), y, rect.right(), y))
                y += s
            painter.setPen(QPen(color, 0))
            painter.drawLines(lines)

    def closeEvent(self, event):
        self.editor_scene.detach()
        super().closeEvent(event)
