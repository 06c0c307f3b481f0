"""The editor's graphics scene: it mirrors the controller's document as items.

The scene listens to the document's signals (node and edge added/removed/changed/moved, and every
inference result) and adds, removes or updates items; it never edits the document itself. User
gestures go to the controller: a finished node drag becomes ``controller.move_nodes``, a port drag
``controller.connect`` (through ``interactions.ConnectInteraction``), the selection is mirrored into
``controller.set_selection`` both ways. Right-clicks open the context menus (add, add after, insert,
disconnect, duplicate, copy, delete).

Connections go round the layers they would run behind (a skip connection past a chain). Working out
a detour asks the scene's index, so when many items change at once (an undo, an auto-layout, a big
drag) the edges keep their plain curves until the change is over and are routed together then.
"""
from __future__ import annotations

import contextlib
import math
import time

from PySide6.QtCore import QCoreApplication, QEventLoop, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QGraphicsScene, QMenu

from visualkeras_app.canvas.edge_item import EdgeItem
from visualkeras_app.canvas.interactions import ConnectInteraction
from visualkeras_app.canvas.node_item import NodeItem
from visualkeras_app.canvas.port_item import PortItem

# The scene is "infinite": panning never hits an edge.
SCENE_EXTENT = 50000.0
# Dragging more layers than this at once routes edges around other layers only on release.
BIG_DRAG = 12



_CELL = 256.0  # side of a square of the layer grid (about one layer's width)
_CELL_SLACK = 128.0  # a layer whose height changed since it was filed is still found


def _cells_of(rect):
    """The grid squares a scene rectangle covers, or None when it is not a finite rectangle."""
    vals = (rect.left(), rect.top(), rect.right(), rect.bottom())
    if not all(math.isfinite(v) and abs(v) < 1e12 for v in vals):
        return None
    c0, r0 = math.floor(vals[0] / _CELL), math.floor(vals[1] / _CELL)
    c1, r1 = math.floor(vals[2] / _CELL), math.floor(vals[3] / _CELL)
    if (c1 - c0 + 1) * (r1 - r0 + 1) > 1_000_000:
        return None
    return [(c, r) for c in range(c0, c1 + 1) for r in range(r0, r1 + 1)]


class _Pulse:
    """Called once per item while a big document binds: every 50 ms of work it lets the event loop paint
    and run its timers (not user input, which could edit the half-built scene), so the window answers."""

    def __init__(self, every=0.05):
        self._every = every
        self._next = time.perf_counter() + every
        self._count = 0

    def __call__(self):
        self._count += 1
        if self._count % 32:
            return
        now = time.perf_counter()
        if now >= self._next:
            QCoreApplication.processEvents(QEventLoop.ExcludeUserInputEvents)
            self._next = time.perf_counter() + self._every

class EditorScene(QGraphicsScene):
    """Items for ``controller.document``; rebinds itself when the controller replaces the document.

    Attributes:
        controller: the EditorController every edit goes through.
        snap_to_grid: whether dragged nodes snap to ``grid_size`` (scene units).
    """

    # A connection from a port (PortItem) was let go on empty canvas at a scene point (QPointF):
    # the view offers a layer to place there.
    quick_add_requested = Signal(object, object)

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.snap_to_grid = False
        self.grid_size = 20
        self.setSceneRect(QRectF(-SCENE_EXTENT, -SCENE_EXTENT, 2 * SCENE_EXTENT, 2 * SCENE_EXTENT))
        self._nodes: dict[str, NodeItem] = {}
        self._edges: dict = {}
        self._doc = None
        self._slots = []  # (signal, bound method) pairs, to disconnect from the old document
        self._syncing = False
        self._interaction = None
        self._defer_depth = 0
        self._route_pending = set()
        self._last_rects = {}  # NodeItem -> where it was, for reroute_around
        self._cells = {}  # (column, row) of a _CELL-sized square -> the NodeItems over it (see node_items_in)
        self._binding = False
        self._route_timer = QTimer(self)
        self._route_timer.setSingleShot(True)
        self._route_timer.setInterval(0)
        self._route_timer.timeout.connect(self.flush_routes)
        self.flow = controller.flow
        controller.document_replaced.connect(self._bind)
        controller.flow_changed.connect(self.set_flow)
        controller.selection_changed.connect(self._select_from_controller)
        self.selectionChanged.connect(self._selection_to_controller)
        self._bind()

    # ------------------------------------------------------------------ queries
    def node_item(self, node_id) -> NodeItem | None:
        return self._nodes.get(node_id)

    def node_items(self) -> list:
        return list(self._nodes.values())

    def edge_item(self, edge) -> EdgeItem | None:
        return self._edges.get(edge)

    def edge_items(self) -> list:
        return list(self._edges.values())

    def node_items_in(self, rect) -> list:
        """The layers whose boxes meet ``rect``, from a grid of the layers' places: a look-up costs
        what is near ``rect``, not what is in the scene (20,000 layers route as fast as 20)."""
        cells = _cells_of(rect.adjusted(-_CELL_SLACK, -_CELL_SLACK, _CELL_SLACK, _CELL_SLACK))
        if cells is None or len(cells) > 4 * len(self._nodes) + 64:  # a vast rectangle: ask Qt's index
            return [i for i in self.items(rect, Qt.IntersectsItemBoundingRect) if isinstance(i, NodeItem)]
        found = {}
        for cell in cells:
            for item in self._cells.get(cell, ()):
                found[id(item)] = item
        return [i for i in found.values() if i.sceneBoundingRect().intersects(rect)]

    def _index(self, node_item, old, new):
        for cell in (_cells_of(old) or ()) if old is not None else ():
            members = self._cells.get(cell)
            if members is not None:
                members.discard(node_item)
                if not members:
                    del self._cells[cell]
        for cell in (_cells_of(new) or ()) if new is not None else ():
            self._cells.setdefault(cell, set()).add(node_item)

    def nodes_rect(self) -> QRectF:
        """The bounding rectangle of all layers and connections (null when empty)."""
        rect = QRectF()
        for item in self._nodes.values():
            rect = rect.united(item.sceneBoundingRect())
        for item in self._edges.values():
            rect = rect.united(item.sceneBoundingRect())
        return rect

    # ------------------------------------------------------------------ edge routing
    @property
    def routing_deferred(self) -> bool:
        """True while many items change at once: edges take their detours afterwards, together."""
        return self._defer_depth > 0

    @contextlib.contextmanager
    def deferred_routing(self):
        self._defer_depth += 1
        try:
            yield
        finally:
            self._defer_depth -= 1
            if not self._defer_depth and self._route_pending and not self._route_timer.isActive():
                self._route_timer.start()

    def route_later(self, edge_item):
        self._route_pending.add(edge_item)
        if not self._route_timer.isActive():
            self._route_timer.start()

    def reroute_around(self, node_item):
        """A layer moved: connections that now run behind it, or went round where it was, take a
        new path."""
        rect = node_item.sceneBoundingRect()
        old = self._last_rects.get(node_item)
        self._last_rects[node_item] = rect
        if old != rect:
            self._index(node_item, old, rect)
        if self._binding:
            return  # a whole document arriving: its edges come after its layers and route then
        seen = set()
        for area in (rect,) if old is None or old == rect else (rect, old):
            # The margin reaches the detours that go round the layer's old place.
            for item in self.items(area.adjusted(-40, -40, 40, 40), Qt.IntersectsItemBoundingRect):
                if isinstance(item, EdgeItem) and item not in node_item.edges and item not in seen:
                    seen.add(item)
                    if self.routing_deferred:
                        self.route_later(item)
                    else:
                        item.adjust()

    def flush_routes(self):
        """Route the edges whose detours were put off (runs by itself right after the change)."""
        if self.routing_deferred:
            return  # still inside a run of changes (the event loop ran mid-way): routed when it ends
        self._route_timer.stop()
        pending, self._route_pending = self._route_pending, set()
        for item in pending:
            if item.scene() is self:
                item.adjust()

    # ------------------------------------------------------------------ the document
    def _bind(self):
        self.detach()
        self._route_pending.clear()
        self._last_rects.clear()
        self._cells.clear()
        self.clear()  # deletes every item
        self._nodes.clear()
        self._edges.clear()
        doc = self._doc = self.controller.document
        self.flow = self.controller.flow
        for signal, slot in ((doc.node_added, self._on_node_added), (doc.node_removed, self._on_node_removed),
                             (doc.node_changed, self._on_node_changed), (doc.node_moved, self._on_node_moved),
                             (doc.edge_added, self._on_edge_added), (doc.edge_removed, self._on_edge_removed),
                             (doc.inferred, self._on_inferred)):
            slot = self._deferring(slot)
            signal.connect(slot)
            self._slots.append((signal, slot))
        with self.deferred_routing():
            self._binding = True
            pulse = _Pulse()
            try:
                for node in doc.nodes.values():
                    self._on_node_added(node)
                    pulse()
            finally:
                self._binding = False
            for edge in doc.edges:
                self._on_edge_added(edge)
                pulse()
            if doc.result is not None:
                self._on_inferred(doc.result)

    def _deferring(self, slot):
        # Document edits come in runs (an undo of a layout moves every node): route edges once after.
        def run(*args):
            with self.deferred_routing():
                slot(*args)
        return run

    def detach(self):
        """Stop listening to the document (the scene is going away, or the document is replaced)."""
        for signal, slot in self._slots:
            signal.disconnect(slot)
        self._slots = []
        self._interaction = None

    def _connected_ports(self, node_id):
        return [e.dst_port for e in self._doc.inputs_of(node_id)]

    def _refresh_inputs(self, node_id):
        item = self._nodes.get(node_id)
        if item is not None:
            item.set_inputs(self._connected_ports(node_id))
            for edge in item.edges:
                edge.adjust()

    def set_flow(self, flow):
        """Put the ports on the left/right (``"LR"``) or top/bottom (``"TB"``) edges of every node."""
        if flow == self.flow:
            return
        self.flow = flow
        with self.deferred_routing():
            for item in self._nodes.values():
                item.set_flow(flow)
            for item in self._edges.values():
                item.adjust()

    def _on_node_added(self, node):
        item = NodeItem(node, self.flow)
        self._nodes[node.id] = item
        self.addItem(item)
        self.reroute_around(item)  # a layer dropped onto a connection pushes it aside
        item.set_inputs(self._connected_ports(node.id))
        result = self._doc.result
        if result is not None and node.id in getattr(result, "shape_text", {}):
            self._apply_node_result(item, result)

    def _on_node_removed(self, node):
        item = self._nodes.pop(node.id, None)
        if item is None:
            return
        for edge_item in list(item.edges):  # normally gone already: the document removes edges first
            self._on_edge_removed(edge_item.edge)
        rect = item.sceneBoundingRect()
        self._index(item, self._last_rects.pop(item, None), None)
        self.removeItem(item)
        # Connections that went round the layer, or put their label beside it, take their plain
        # curve and their label again (an undone paste removes layers that lay on connections).
        for other in self.items(rect.adjusted(-40, -40, 40, 40), Qt.IntersectsItemBoundingRect):
            if isinstance(other, EdgeItem):
                if self.routing_deferred:
                    self.route_later(other)
                else:
                    other.adjust()

    def _on_node_changed(self, node):
        item = self._nodes.get(node.id)
        if item is not None:
            old_class = item.class_name
            item.update_node(node)
            if old_class != node.class_name:
                self._refresh_inputs(node.id)

    def _on_node_moved(self, node):
        item = self._nodes.get(node.id)
        if item is not None and (item.x(), item.y()) != tuple(node.pos):
            item.setPos(QPointF(*node.pos))

    def _on_edge_added(self, edge):
        src, dst = self._nodes.get(edge.src), self._nodes.get(edge.dst)
        if src is None or dst is None:
            return
        dst.set_inputs(self._connected_ports(edge.dst))  # the port must exist before the edge attaches
        item = EdgeItem(edge, src, dst)
        self._edges[edge] = item
        self.addItem(item)
        for other in dst.edges:
            other.adjust()

    def _on_edge_removed(self, edge):
        item = self._edges.pop(edge, None)
        if item is None:
            return
        self._route_pending.discard(item)
        item.detach()
        self.removeItem(item)
        self._refresh_inputs(edge.dst)

    def _apply_node_result(self, item, result):
        nid = item.node_id
        params = result.params.get(nid)
        if getattr(result, "param_text", {}).get(nid) == "?":
            params = "?"  # unknown until the node's input is known, not zero
        item.set_inference(result.shape_text.get(nid, "?"), params,
                           getattr(result, "node_problems", {}).get(nid, []))

    def _on_inferred(self, result):
        for item in self._nodes.values():
            self._apply_node_result(item, result)
        edge_text = getattr(result, "edge_shape_text", {})
        edge_problems = getattr(result, "edge_problems", {})
        for edge, item in self._edges.items():
            item.set_inference(edge_text.get(edge, ""), edge_problems.get(edge, []))

    # ------------------------------------------------------------------ selection, both ways
    @property
    def selecting_from_canvas(self) -> bool:
        """True while a selection made on the canvas is being passed to the controller."""
        return self._syncing

    def _selection_to_controller(self):
        if self._syncing:
            return
        selected = self.selectedItems()
        self._syncing = True
        try:
            chosen = {i.node_id for i in selected if isinstance(i, NodeItem)}
            # In document order: selectedItems() has none, and copy/paste keeps the order it gets.
            self.controller.set_selection([nid for nid in self._doc.nodes if nid in chosen])
            self.controller.set_selected_edges([i.edge for i in selected if isinstance(i, EdgeItem)])
        finally:
            self._syncing = False

    def _select_from_controller(self, ids):
        if self._syncing:
            return
        wanted = set(ids)
        self._syncing = True
        try:
            for nid, item in self._nodes.items():
                item.setSelected(nid in wanted)
        finally:
            self._syncing = False

    # ------------------------------------------------------------------ mouse
    def _port_at(self, scene_pos):
        for item in self.items(scene_pos):
            if isinstance(item, PortItem):
                return item
            if isinstance(item, NodeItem):
                return None
        return None

    def mousePressEvent(self, event):
        if event.button() == Qt.LeftButton and self._interaction is None:
            port = self._port_at(event.scenePos())
            if port is not None:
                self._interaction = ConnectInteraction(self, port)
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event):
        if self._interaction is not None:
            self._interaction.move(event.scenePos())
            event.accept()
            return
        if event.buttons() & Qt.LeftButton and len(self.selectedItems()) > BIG_DRAG:
            with self.deferred_routing():  # a big selection drags with plain curves; detours on release
                super().mouseMoveEvent(event)
            self._route_timer.stop()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):
        if self._interaction is not None:
            interaction, self._interaction = self._interaction, None
            interaction.release(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if event.button() == Qt.LeftButton:
            self.commit_moves()
            if self._route_pending:
                self._route_timer.start()

    def cancel_interaction(self):
        if self._interaction is not None:
            self._interaction.cancel()
            self._interaction = None

    def commit_moves(self):
        """Turn item positions that differ from the document (a finished drag) into one MoveNodes."""
        nodes = self._doc.nodes
        moved = {nid: (item.x(), item.y()) for nid, item in self._nodes.items()
                 if nid in nodes and (item.x(), item.y()) != tuple(nodes[nid].pos)}
        if moved:
            self.controller.move_nodes(moved)

    def keyPressEvent(self, event):
        if event.key() == Qt.Key_Escape and self._interaction is not None:
            self.cancel_interaction()
            event.accept()
            return
        super().keyPressEvent(event)

    def _problem_fixes(self, nid):
        """(text, slot, tooltip) for each problem of layer ``nid`` whose fix is one layer put into a
        connection (``Problem.insert``): the same edit as dropping that layer on the connection, undoable."""
        result = self._doc.result
        out = []
        for p in (result.node_problems.get(nid, ()) if result is not None and result.node_problems else ()):
            edge = getattr(p, "insert", None) and p.edge
            if not edge or edge not in self._doc.edges:
                continue
            src, dst = self._doc.nodes[edge.src], self._doc.nodes[edge.dst]
            between = ((src.pos[0] + dst.pos[0]) / 2, (src.pos[1] + dst.pos[1]) / 2)

            def apply(_=False, cls=p.insert, e=edge, at=between):
                self.controller.insert_into_edge(cls, e, at)

            out.append((f"Fix: insert {p.insert} before {dst.name}", apply, p.message))
        return out

    def contextMenuEvent(self, event):
        item = next((i for i in self.items(event.scenePos()) if isinstance(i, (NodeItem, EdgeItem))), None)
        view = next((v for v in self.views() if hasattr(v, "ask_layer")), None)
        menu = QMenu(event.widget())
        c = self.controller
        pos = event.scenePos()
        if item is None:
            if view is None:
                return super().contextMenuEvent(event)
            menu.addAction(QAction("Add Layer…", menu, triggered=lambda: view.add_layer_menu(pos)))
        elif isinstance(item, NodeItem):
            if not item.isSelected():
                c.set_selection([item.node_id])
            ids = c.selection()
            nid = item.node_id
            if view is not None:
                menu.addAction(QAction("Add Layer After…", menu, triggered=lambda: view.add_after_menu(nid)))
            touching = [e for e in self._doc.edges if nid in (e.src, e.dst)]
            act = QAction("Disconnect", menu, triggered=lambda: c.remove_items((), touching))
            act.setEnabled(bool(touching))
            menu.addAction(act)
            # One-click fixes the layer's problems name (shape inference's "Add a Flatten before it"), then
            # those others know (the Training panel's "does it fit the data set" check): each provider gives
            # (text, slot, tooltip) for a node id.
            for text, slot, tip in self._problem_fixes(nid):
                fix = QAction(text, menu, triggered=slot)
                fix.setToolTip(tip)
                fix.setStatusTip(tip)
                menu.addAction(fix)
            for provider in getattr(self, "node_menu_providers", ()):
                for text, slot, tip in provider(nid):
                    fix = QAction(text, menu, triggered=slot)
                    fix.setToolTip(tip)
                    fix.setStatusTip(tip)
                    menu.addAction(fix)
            menu.addSeparator()
            for text, fn in (("Duplicate", lambda: c.duplicate(ids)), ("Copy", lambda: c.copy_nodes(ids)),
                             ("Delete", lambda: c.remove_nodes(ids))):
                menu.addAction(QAction(text, menu, triggered=fn))
        else:
            edge = item.edge
            if view is not None:
                menu.addAction(QAction("Insert Layer…", menu, triggered=lambda: view.insert_menu(edge, pos)))
            menu.addAction(QAction("Delete connection", menu, triggered=lambda: c.disconnect(edge)))
        menu.exec(event.screenPos())
        event.accept()
