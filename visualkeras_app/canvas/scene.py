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

A big document (``virtual_from`` layers or more, 500 by default) gets items only where the view looks:
the scene files every layer's box and every connection's reach in a grid (from the document, without
items), and makes the items of what the view shows plus half a view around it, nearest first in slices of
about 30 ms, as the view scrolls, zooms or resizes; items far out of view are dropped again. Opening
20,000 layers so makes a few dozen items instead of 60,000. What users see and do is the same:
``node_item(id)`` makes a layer's item when asked for it (a layer chosen in the Problems panel is made and
scrolled to), the selection is the controller's (Select All selects layers without items, and a drag moves
them too), edges route round every layer of the document, and ``realize_all()`` makes everything (exports).
"""
from __future__ import annotations

import contextlib
import gc
import math
import time
from operator import itemgetter

from PySide6.QtCore import QCoreApplication, QEventLoop, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QGraphicsScene, QMenu

from visualkeras_app.canvas.edge_item import EdgeItem
from visualkeras_app.canvas.interactions import ConnectInteraction
from visualkeras_app.canvas.node_item import NodeItem, box_bounds, box_height, input_port_indices
from visualkeras_app.canvas.port_item import PortItem
from visualkeras_app.document.style import NODE_WIDTH

# The scene is "infinite": panning never hits an edge.
SCENE_EXTENT = 50000.0
# Dragging more layers than this at once routes edges around other layers only on release.
BIG_DRAG = 12



# Documents with at least this many layers get items only near the view (see the module's docstring).
VIRTUAL_FROM = 500

_CELL = 256.0  # side of a square of the layer grid (about one layer's width)
_CELL_SLACK = 128.0  # a layer whose height changed since it was filed is still found
_EDGE_CELL = 1024.0  # the connections' grid is coarser: a connection covers more than a layer
_LONG_EDGE = 64  # a connection over more squares than this is kept in a plain list instead
# How far a connection's curve may go beyond its two layers' boxes: a detour passes beside up to two
# layers' widths of obstacles (26 units out), its label half its width further.
_EDGE_REACH = 2 * NODE_WIDTH + 80.0
_SLICE = 0.03  # seconds of item making per turn of the event loop (a big view fills over a few turns)


def _cells_of(rect, size=_CELL, limit=1_000_000):
    """The grid squares a scene rectangle (QRectF or (left, top, right, bottom)) covers, or None when it is
    not a finite rectangle or covers more than ``limit`` squares."""
    left, top, right, bottom = (rect.left(), rect.top(), rect.right(), rect.bottom()) if isinstance(rect, QRectF) \
        else rect
    # (NaN fails every comparison)
    if not (-1e12 < left < 1e12 and -1e12 < top < 1e12 and -1e12 < right < 1e12 and -1e12 < bottom < 1e12):
        return None
    c0, r0 = math.floor(left / size), math.floor(top / size)
    c1, r1 = math.floor(right / size), math.floor(bottom / size)
    if (c1 - c0 + 1) * (r1 - r0 + 1) > limit:
        return None
    return [(c, r) for c in range(c0, c1 + 1) for r in range(r0, r1 + 1)]


def _meets(a, b):
    """Whether two (left, top, right, bottom) rectangles overlap (as QRectF.intersects)."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _box(rect: QRectF):
    return (rect.left(), rect.top(), rect.right(), rect.bottom())


class _Pulse:
    """Called once per item while a big document binds: every 30 ms of work it lets the event loop paint
    and run its timers (not user input, which could edit the half-built scene), so the window answers."""

    def __init__(self, every=0.03):
        self._every = every
        self._next = time.perf_counter() + every
        self._count = 0

    def __call__(self):
        self._count += 1
        if self._count % 32:
            return
        now = time.perf_counter()
        if now >= self._next:
            self.now()

    def now(self):
        """Let the event loop run now (before the work ends, so that what comes after it starts afresh)."""
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
        self._scene_box = (-SCENE_EXTENT, -SCENE_EXTENT, SCENE_EXTENT, SCENE_EXTENT)  # the scene rect, grown
        self._nodes: dict[str, NodeItem] = {}
        self._edges: dict = {}
        self._doc = None
        self._slots = []  # (signal, bound method) pairs, to disconnect from the old document
        self._syncing = False
        self._interaction = None
        self._defer_depth = 0
        self._route_pending = set()
        self._rects = {}  # node id -> (left, top, right, bottom) of its box as filed in _cells
        self._cells = {}  # (column, row) of a _CELL-sized square -> the ids of the layers over it
        self._binding = False
        # Big documents (``virtual``): items only near the view.
        self.virtual_from = VIRTUAL_FROM
        self.virtual = False
        self._edge_rects = {}  # Edge -> (left, top, right, bottom) its curve may cover
        self._edge_curves = {}  # Edge -> (left, top, right, bottom) of its plain curve's control points
        self._bounds = None  # (left, top, right, bottom) of all the boxes and curves above, while unchanged
        self._edge_cells = {}  # (column, row) of an _EDGE_CELL square -> the Edges that may cross it
        self._long_edges = set()  # Edges over too many squares for the grid
        self._region = None  # the scene rectangle whose items exist (or are queued), QRectF
        self._queue = []  # (distance, kind, n, node id or Edge) still to make for the region, nearest last
        self._selected = set()  # the controller's selection (ids), layers with or without items
        self._extending = False  # a canvas gesture that adds to the selection (Ctrl) is under way
        self._drag_delta = None  # how far a drag of layers has moved them (scene units)
        self._hold = 0  # inside holding_region(): the view is changing in steps
        self._route_timer = QTimer(self)
        self._route_timer.setSingleShot(True)
        self._route_timer.setInterval(0)
        self._route_timer.timeout.connect(self.flush_routes)
        self._region_timer = QTimer(self)
        self._region_timer.setSingleShot(True)
        self._region_timer.setInterval(0)
        self._region_timer.timeout.connect(self._on_region_timer)
        self.flow = controller.flow
        controller.document_replaced.connect(self._bind)
        controller.flow_changed.connect(self.set_flow)
        controller.selection_changed.connect(self._select_from_controller)
        self.selectionChanged.connect(self._selection_to_controller)
        self._bind()

    # ------------------------------------------------------------------ queries
    def node_item(self, node_id) -> NodeItem | None:
        """The item of layer ``node_id`` (made now if the document is big and the layer had none yet)."""
        item = self._nodes.get(node_id)
        if item is None and self.virtual and self._doc is not None and node_id in self._doc.nodes:
            item = self._make_node(self._doc.nodes[node_id])
        return item

    def node_items(self) -> list:
        """The layers' items: every layer's, or in a big document those near the view (and selected)."""
        return list(self._nodes.values())

    def edge_item(self, edge) -> EdgeItem | None:
        return self._edges.get(edge)

    def edge_items(self) -> list:
        return list(self._edges.values())

    def _live_box(self, nid):
        item = self._nodes.get(nid)
        return _box(item.sceneBoundingRect()) if item is not None else self._rects.get(nid)

    def node_ids_in(self, rect) -> list:
        """The ids of the layers (with an item or not) whose boxes meet ``rect``, from a grid of the layers'
        places: a look-up costs what is near ``rect``, not what is in the scene (20,000 layers route as fast
        as 20)."""
        want = _box(rect) if isinstance(rect, QRectF) else tuple(rect)
        cells = _cells_of((want[0] - _CELL_SLACK, want[1] - _CELL_SLACK, want[2] + _CELL_SLACK,
                           want[3] + _CELL_SLACK))
        if cells is None or len(cells) > 4 * len(self._rects) + 64:  # a vast rectangle: look at every layer
            candidates = list(self._rects)
        else:
            found = {}
            for cell in cells:
                for nid in self._cells.get(cell, ()):
                    found[nid] = None
            candidates = list(found)
        out = []
        for nid in candidates:
            box = self._live_box(nid)
            if box is not None and _meets(box, want):
                out.append(nid)
        return out

    def node_items_in(self, rect) -> list:
        """The items of the layers whose boxes meet ``rect`` (in a big document, of those that have items)."""
        return [self._nodes[nid] for nid in self.node_ids_in(rect) if nid in self._nodes]

    def layer_rects_in(self, rect, exclude=()) -> list:
        """Scene rectangles (QRectF) of the document's layers whose boxes meet ``rect``, with an item or not,
        less those in ``exclude`` (ids): what edge routing goes round."""
        out = []
        for nid in self.node_ids_in(rect):
            if nid not in exclude:
                box = self._live_box(nid)
                out.append(QRectF(box[0], box[1], box[2] - box[0], box[3] - box[1]))
        return out

    def edges_in(self, rect) -> list:
        """In a big document: the connections whose curves may cross ``rect`` (a generous reach)."""
        want = _box(rect) if isinstance(rect, QRectF) else tuple(rect)
        cells = _cells_of(want, _EDGE_CELL)
        if cells is None or len(cells) > 4 * len(self._edge_rects) + 64:
            candidates = list(self._edge_rects)
        else:
            found = {e: None for e in self._long_edges}
            for cell in cells:
                for e in self._edge_cells.get(cell, ()):
                    found[e] = None
            candidates = list(found)
        return [e for e in candidates if _meets(self._edge_rects[e], want)]

    def nodes_rect(self) -> QRectF:
        """The bounding rectangle of all layers and connections (null when empty). In a big document the
        connections without items count by the box of their plain curve's control points."""
        rect = QRectF()
        if self.virtual:
            if self._bounds is None and self._rects:
                parts = [p for p in (self._rects.values(), self._edge_curves.values()) if p]
                self._bounds = tuple(pick(pick(map(itemgetter(k), p)) for p in parts)
                                     for k, pick in ((0, min), (1, min), (2, max), (3, max)))
            if self._bounds is not None:
                left, top, right, bottom = self._bounds
                rect = QRectF(left, top, right - left, bottom - top)
            for nid, item in self._nodes.items():
                rect = rect.united(item.sceneBoundingRect())
        else:
            for item in self._nodes.values():
                rect = rect.united(item.sceneBoundingRect())
        for item in self._edges.values():
            rect = rect.united(item.sceneBoundingRect())
        return rect

    # ------------------------------------------------------------------ the grids
    def _doc_box(self, node):
        ports = input_port_indices(node.class_name, [e.dst_port for e in self._doc.inputs_of(node.id)])
        x, y = node.pos
        return box_bounds(x, y, box_height(len(ports), self.flow))

    def _file(self, nid):
        """File layer ``nid``'s box (its item's, else the document's) in the grid; returns (old, new)."""
        item = self._nodes.get(nid)
        if item is not None:
            new = _box(item.sceneBoundingRect())
        else:
            node = self._doc.nodes.get(nid) if self._doc is not None else None
            new = self._doc_box(node) if node is not None else None
        old = self._rects.get(nid)
        if new == old:
            return old, new
        self._bounds = None
        for cell in (_cells_of(old) or ()) if old is not None else ():
            members = self._cells.get(cell)
            if members is not None:
                members.discard(nid)
                if not members:
                    del self._cells[cell]
        if new is None:
            self._rects.pop(nid, None)
        else:
            self._rects[nid] = new
            for cell in _cells_of(new) or ():
                self._cells.setdefault(cell, set()).add(nid)
            self._grow_scene(new)
        if self.virtual and not self._binding and self._doc is not None and nid in self._doc.nodes:
            for e in self._doc.inputs_of(nid) + self._doc.outputs_of(nid):
                self._file_edge(e)
        return old, new

    def _file_all(self, pulse):
        """``_file`` of every layer and ``_file_edge`` of every connection of a new document, in one pass each
        (a 20,000-layer document's grids in about half a second)."""
        doc, flow, floor = self._doc, self.flow, math.floor
        ports = {}
        for e in doc.edges:
            ports.setdefault(e.dst, []).append(e.dst_port)
        rects, cells, cell = self._rects, self._cells, _CELL
        heights = {}
        for nid, node in doc.nodes.items():
            key = (node.class_name, tuple(ports.get(nid, ())))
            height = heights.get(key)
            if height is None:
                height = heights[key] = box_height(len(input_port_indices(*key)), flow)
            x, y = node.pos
            box = box_bounds(x, y, height)
            if not (-1e12 < box[0] < 1e12 and -1e12 < box[1] < 1e12):  # NaN or far off: not filed
                continue
            rects[nid] = box
            for c in range(floor(box[0] / cell), floor(box[2] / cell) + 1):
                for r in range(floor(box[1] / cell), floor(box[3] / cell) + 1):
                    members = cells.get((c, r))
                    if members is None:
                        cells[(c, r)] = {nid}
                    else:
                        members.add(nid)
            pulse()
        near = [b for b in rects.values() if -1e9 < b[0] and b[2] < 1e9 and -1e9 < b[1] and b[3] < 1e9]
        if near:
            self._grow_scene((min(map(itemgetter(0), near)), min(map(itemgetter(1), near)),
                              max(map(itemgetter(2), near)), max(map(itemgetter(3), near))))
        # _file_edge of each connection, inline: 20,000 of them take a quarter of a second.
        curves, reaches, edge_cells, longs = self._edge_curves, self._edge_rects, self._edge_cells, self._long_edges
        size, r, between = _EDGE_CELL, _EDGE_REACH, self._curve_between
        for edge in doc.edges:
            pulse()
            a, b = rects.get(edge.src), rects.get(edge.dst)
            if a is None or b is None:
                continue
            curve = curves[edge] = between(a, b, flow)
            reach = reaches[edge] = (min(a[0], b[0], curve[0]) - r, min(a[1], b[1], curve[1]) - r,
                                     max(a[2], b[2], curve[2]) + r, max(a[3], b[3], curve[3]) + r)
            c0, c1 = floor(reach[0] / size), floor(reach[2] / size)
            r0, r1 = floor(reach[1] / size), floor(reach[3] / size)
            if (c1 - c0 + 1) * (r1 - r0 + 1) > _LONG_EDGE:
                longs.add(edge)
                continue
            for c in range(c0, c1 + 1):
                for row in range(r0, r1 + 1):
                    members = edge_cells.get((c, row))
                    if members is None:
                        edge_cells[(c, row)] = {edge}
                    else:
                        members.add(edge)

    def _grow_scene(self, box):
        # The scene reaches SCENE_EXTENT past every layer, so that the view scrolls to all of a long chain.
        s = self._scene_box
        if s[0] <= box[0] and box[2] <= s[2] and s[1] <= box[1] and box[3] <= s[3]:
            return
        if all(math.isfinite(v) and abs(v) < 1e9 for v in box):
            e = SCENE_EXTENT
            s = self._scene_box = (min(s[0], box[0] - e), min(s[1], box[1] - e), max(s[2], box[2] + e),
                                   max(s[3], box[3] + e))
            if not self._binding:
                self.setSceneRect(QRectF(s[0], s[1], s[2] - s[0], s[3] - s[1]))

    def _curve_box(self, edge):
        """(left, top, right, bottom) of the control points of ``edge``'s plain curve, from its layers' boxes."""
        a, b = self._rects.get(edge.src), self._rects.get(edge.dst)
        if a is None or b is None:
            return None
        return self._curve_between(a, b, self.flow)

    @staticmethod
    def _curve_between(a, b, flow):
        if flow == "TB":
            p1, p2 = ((a[0] + a[2]) / 2, a[3] - 6.0), ((b[0] + b[2]) / 2, b[1] + 5.0)
            d = max(abs(p2[1] - p1[1]) * 0.5, 40.0)
            ys = (p1[1], p1[1] + d, p2[1] - d, p2[1])
            xs = (p1[0], p2[0])
        else:
            p1, p2 = (a[2] - 5.0, (a[1] + a[3]) / 2), (b[0] + 5.0, (b[1] + b[3]) / 2)
            d = max(abs(p2[0] - p1[0]) * 0.5, 50.0)
            xs = (p1[0], p1[0] + d, p2[0] - d, p2[0])
            ys = (p1[1], p2[1])
        return (min(xs) - 12.0, min(ys) - 12.0, max(xs) + 12.0, max(ys) + 12.0)

    def _file_edge(self, edge, remove=False):
        self._bounds = None
        self._edge_curves.pop(edge, None)
        old = self._edge_rects.pop(edge, None)
        if old is not None:
            if edge in self._long_edges:
                self._long_edges.discard(edge)
            else:
                for cell in _cells_of(old, _EDGE_CELL) or ():
                    members = self._edge_cells.get(cell)
                    if members is not None:
                        members.discard(edge)
                        if not members:
                            del self._edge_cells[cell]
        if remove:
            return
        a, b = self._rects.get(edge.src), self._rects.get(edge.dst)
        if a is None or b is None:
            return
        curve = self._edge_curves[edge] = self._curve_box(edge)
        r = _EDGE_REACH
        reach = (min(a[0], b[0], curve[0]) - r, min(a[1], b[1], curve[1]) - r,
                 max(a[2], b[2], curve[2]) + r, max(a[3], b[3], curve[3]) + r)
        self._edge_rects[edge] = reach
        cells = _cells_of(reach, _EDGE_CELL, _LONG_EDGE)
        if cells is None:
            self._long_edges.add(edge)
        else:
            for cell in cells:
                self._edge_cells.setdefault(cell, set()).add(edge)

    # ------------------------------------------------------------------ items near the view (big documents)
    def _visible_rect(self):
        rect = None
        for view in self.views():
            seen = view.mapToScene(view.viewport().rect()).boundingRect()
            rect = seen if rect is None else rect.united(seen)
        return rect

    def region_covers(self, rect) -> bool:
        """Whether the items of ``rect`` (a scene rectangle) exist or are being made."""
        return not self.virtual or (self._region is not None and self._region.contains(rect))

    def update_region(self):
        """A big document: make the items of what the views show plus half a view around it (nearest first,
        a slice at a time) and drop those more than a view and a half away. Called by the view when it
        scrolls, zooms or resizes; does nothing while the view still shows made (or queued) items."""
        if not self.virtual or self._binding or self._hold or self._doc is None:
            return
        vis = self._visible_rect()
        if vis is None or not vis.isValid():
            return
        if self._region is not None:
            # Make more before the view's edge reaches the end of what exists.
            mx, my = self._region.width() / 8, self._region.height() / 8
            if self._region.adjusted(mx, my, -mx, -my).contains(vis):
                return
        if self.mouseGrabberItem() is not None or self._interaction is not None:
            self._region_timer.start(50)  # not while a drag holds items: once it is let go
            return
        mx, my = max(vis.width() / 2, 200.0), max(vis.height() / 2, 200.0)
        want = vis.adjusted(-mx, -my, mx, my)
        self._prune(vis.adjusted(-3 * mx, -3 * my, 3 * mx, 3 * my))
        self._region = want
        c = want.center()
        cx, cy = c.x(), c.y()
        todo = []
        for nid in self.node_ids_in(want):
            if nid not in self._nodes:
                b = self._rects[nid]
                todo.append((abs((b[0] + b[2]) / 2 - cx) + abs((b[1] + b[3]) / 2 - cy), 0, len(todo), nid))
        for edge in self.edges_in(want):
            if edge not in self._edges:
                b = self._edge_rects[edge]
                d = max(0.0, b[0] - cx, cx - b[2]) + max(0.0, b[1] - cy, cy - b[3])
                todo.append((d, 1, len(todo), edge))
        todo.sort(reverse=True)  # popped from the end: nearest first, a layer before the connections at its distance
        self._queue = todo
        self._realize_step()

    @contextlib.contextmanager
    def holding_region(self, later=False):
        """Change the view in several steps (reset, scale, centre) and update the items once, at the end (with
        ``later``, on the next turn of the event loop: a jump to a new view, whose handler should end soon)."""
        self._hold += 1
        try:
            yield
        finally:
            self._hold -= 1
            if not self._hold:
                if later:
                    self.schedule_region()
                else:
                    self.update_region()

    def _realize_step(self) -> bool:
        """Make queued items for a slice of time; the rest on the next turn of the event loop. False when
        it could not (a drag holds items: once it is let go)."""
        if self._binding or self._doc is None:
            return False
        if self.mouseGrabberItem() is not None or self._interaction is not None:
            self._region_timer.start(50)
            return False
        deadline = time.perf_counter() + _SLICE
        doc = self._doc
        while self._queue:
            _, kind, _, what = self._queue.pop()
            if kind == 0:
                if what not in self._nodes and what in doc.nodes:
                    self._make_node(doc.nodes[what])
            elif what not in self._edges and what in self._edge_rects:
                self._make_edge(what)
            if time.perf_counter() > deadline:
                break
        if self._queue:
            self._region_timer.start(0)
        return True

    def schedule_region(self):
        """Update the items near the view on the next turn of the event loop (the view asks when it
        paints an area whose items do not exist: a change of view no hook saw)."""
        if self.virtual and not self._region_timer.isActive():
            self._region_timer.start(0)

    def _on_region_timer(self):
        self.update_region()
        if self._queue and not self._region_timer.isActive():
            self._realize_step()

    def realize_pending(self) -> bool:
        """Whether items for the view are still being made (a slice per turn of the event loop)."""
        return bool(self._queue)

    def finish_region(self):
        """Make now every item still queued for the view (tests, and before a picture of the view)."""
        self.update_region()
        while self._queue and self._realize_step():
            pass

    def realize_all(self):
        """Make the items of every layer and connection (an export of the whole canvas draws them all)."""
        if not self.virtual or self._doc is None:
            return
        pulse = _Pulse()
        self._queue = []
        self._hold += 1  # nothing is dropped while they are made (the pulse runs the timers)
        try:
            for nid, node in list(self._doc.nodes.items()):
                if nid not in self._nodes:
                    self._make_node(node)
                    pulse()
            for edge in list(self._doc.edges):
                if edge not in self._edges:
                    self._make_edge(edge)
                    pulse()
        finally:
            self._hold -= 1
        # The next paint of the view finds no region and drops what is far again (after the export).
        self._region = None

    def _prune(self, keep: QRectF):
        """Drop the items outside ``keep`` (not selected connections, nor what a gesture holds)."""
        if not self._nodes and not self._edges:
            return
        keep_edges = set(self.edges_in(keep))
        keep_ids = set(self.node_ids_in(keep))
        for edge in keep_edges:
            keep_ids.add(edge.src)
            keep_ids.add(edge.dst)
        for edge, item in self._edges.items():
            if edge not in keep_edges and item.isSelected():
                keep_edges.add(edge)
                keep_ids.update((edge.src, edge.dst))
        syncing, self._syncing = self._syncing, True  # dropping a selected item is no change of selection
        try:
            for edge in [e for e in self._edges if e not in keep_edges]:
                item = self._edges.pop(edge)
                self._route_pending.discard(item)
                item.detach()
                self.removeItem(item)
            for nid in [n for n in self._nodes if n not in keep_ids]:
                item = self._nodes.pop(nid)
                for edge_item in list(item.edges):  # a connection to a layer kept for a selected one
                    self._edges.pop(edge_item.edge, None)
                    self._route_pending.discard(edge_item)
                    edge_item.detach()
                    self.removeItem(edge_item)
                self.removeItem(item)
        finally:
            self._syncing = syncing

    def _make_node(self, node):
        item = self._add_node_item(node)
        if node.id in self._selected:
            syncing, self._syncing = self._syncing, True
            try:
                item.setSelected(True)
            finally:
                self._syncing = syncing
        self._file(node.id)
        return item

    def _make_edge(self, edge):
        src, dst = self.node_item(edge.src), self.node_item(edge.dst)
        if src is None or dst is None:
            return None
        item = EdgeItem(edge, src, dst)
        self._edges[edge] = item
        self.addItem(item)
        item.adjust()  # routed now that it is in the scene
        result = self._doc.result
        if result is not None:
            item.set_inference(getattr(result, "edge_shape_text", {}).get(edge, ""),
                               getattr(result, "edge_problems", {}).get(edge, []))
        return item

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
        old, new = self._file(node_item.node_id)
        if self._binding:
            return  # a whole document arriving: its edges come after its layers and route then
        self._reroute_near(new, old, node_item.edges)

    def _reroute_near(self, new, old, own=()):
        seen = set()
        for box in (new,) if old is None or old == new else (new, old):
            if box is None:
                continue
            area = QRectF(box[0], box[1], box[2] - box[0], box[3] - box[1])
            # The margin reaches the detours that go round the layer's old place.
            for item in self.items(area.adjusted(-40, -40, 40, 40), Qt.IntersectsItemBoundingRect):
                if isinstance(item, EdgeItem) and item not in own and item not in seen:
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
        self._cells.clear()
        self._rects.clear()
        self._edge_rects.clear()
        self._edge_cells.clear()
        self._long_edges.clear()
        self._queue = []
        self._region = None
        self._region_timer.stop()
        self._selected = set()
        self.clear()  # deletes every item
        self._nodes.clear()
        self._edges.clear()
        self.setSceneRect(QRectF(-SCENE_EXTENT, -SCENE_EXTENT, 2 * SCENE_EXTENT, 2 * SCENE_EXTENT))
        self._scene_box = (-SCENE_EXTENT, -SCENE_EXTENT, SCENE_EXTENT, SCENE_EXTENT)
        self._edge_curves.clear()
        self._bounds = None
        doc = self._doc = self.controller.document
        self.flow = self.controller.flow
        self.virtual = len(doc.nodes) >= self.virtual_from
        for signal, slot in ((doc.node_added, self._on_node_added), (doc.node_removed, self._on_node_removed),
                             (doc.node_changed, self._on_node_changed), (doc.node_moved, self._on_node_moved),
                             (doc.edge_added, self._on_edge_added), (doc.edge_removed, self._on_edge_removed),
                             (doc.inferred, self._on_inferred)):
            slot = self._deferring(slot)
            signal.connect(slot)
            self._slots.append((signal, slot))
        pulse = _Pulse()
        if self.virtual:  # no items yet: the grids, then the items the view shows
            self._binding = True
            # A full collection over a big document's objects (a million) would hold the window for a second
            # mid-bind: the collector waits until the grids are filed, unless those objects are frozen
            # (gc.freeze, where the collections during the bind only walk its own few new objects).
            collecting = gc.isenabled() and gc.get_freeze_count() < 10 * len(doc.nodes)
            if collecting:
                gc.disable()
            try:
                self._file_all(pulse)
                pulse.now()  # the window's other handlers of the new document come next, in the same turn
            finally:
                self._binding = False
                if collecting:
                    gc.enable()
                self._grow_scene((0.0, 0.0, 0.0, 0.0))
                s = self._scene_box
                self.setSceneRect(QRectF(s[0], s[1], s[2] - s[0], s[3] - s[1]))
            self.schedule_region()  # next turn: the window (and its other docks) first finish the change
            return
        with self.deferred_routing():
            self._binding = True
            try:
                for node in doc.nodes.values():
                    self._on_node_added(node)
                    pulse()
            finally:
                self._binding = False
                s = self._scene_box
                self.setSceneRect(QRectF(s[0], s[1], s[2] - s[0], s[3] - s[1]))
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
        self._file(node_id)  # its height follows its input ports

    def set_flow(self, flow):
        """Put the ports on the left/right (``"LR"``) or top/bottom (``"TB"``) edges of every node."""
        if flow == self.flow:
            return
        self.flow = flow
        with self.deferred_routing():
            for item in self._nodes.values():
                item.set_flow(flow)
            if self._doc is not None:
                for nid in list(self._rects):
                    self._file(nid)
                for edge in list(self._edge_rects):  # the curves leave and enter the other sides
                    self._file_edge(edge)
            for item in self._edges.values():
                item.adjust()
        if self.virtual:
            self._region = None
            self.update_region()

    def _in_region(self, box):
        return box is not None and self._region is not None and _meets(box, _box(self._region))

    def _on_node_added(self, node):
        if self.virtual:
            _, box = self._file(node.id)
            if not (node.id in self._selected or self._in_region(box)):
                self._reroute_near(box, None)  # a layer dropped onto a connection pushes it aside
                return
        item = self._make_node(node) if self.virtual else self._add_node_item(node)
        self.reroute_around(item)  # a layer dropped onto a connection pushes it aside

    def _add_node_item(self, node):
        item = NodeItem(node, self.flow)
        self._nodes[node.id] = item
        self.addItem(item)
        item.set_inputs(self._connected_ports(node.id))
        result = self._doc.result
        if result is not None and node.id in getattr(result, "shape_text", {}):
            self._apply_node_result(item, result)
        return item

    def _on_node_removed(self, node):
        self._selected.discard(node.id)
        item = self._nodes.pop(node.id, None)
        old = self._rects.get(node.id)
        self._file(node.id)  # no longer in the document: out of the grid
        if item is None:
            self._reroute_near(old, None)
            return
        for edge_item in list(item.edges):  # normally gone already: the document removes edges first
            self._on_edge_removed(edge_item.edge)
        rect = item.sceneBoundingRect()
        with self.extending(True):  # the other selected layers stay selected, with items or not
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
        elif self.virtual:
            self._file(node.id)  # a merge layer and a plain one differ in height

    def _on_node_moved(self, node):
        item = self._nodes.get(node.id)
        if item is not None:
            if (item.x(), item.y()) != tuple(node.pos):
                item.setPos(QPointF(*node.pos))
            return
        if self.virtual:
            old, new = self._file(node.id)
            self._reroute_near(new, old)
            if self._in_region(new):
                self._make_node(node)

    def _on_edge_added(self, edge):
        if self.virtual:
            self._file_edge(edge)
            self._refresh_inputs(edge.dst)  # refiles the layer whose input it is (and so the connection)
            reach = self._edge_rects.get(edge)
            if not self._in_region(reach) or edge in self._edges:
                return
        src, dst = self._nodes.get(edge.src), self._nodes.get(edge.dst)
        if self.virtual:
            src, dst = self.node_item(edge.src), self.node_item(edge.dst)
        if src is None or dst is None:
            return
        dst.set_inputs(self._connected_ports(edge.dst))  # the port must exist before the edge attaches
        item = EdgeItem(edge, src, dst)
        self._edges[edge] = item
        self.addItem(item)
        for other in dst.edges:
            other.adjust()

    def _on_edge_removed(self, edge):
        if self.virtual:
            self._file_edge(edge, remove=True)
        item = self._edges.pop(edge, None)
        if item is None:
            if self.virtual:
                self._refresh_inputs(edge.dst)
            return
        self._route_pending.discard(item)
        item.detach()
        with self.extending(True):
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

    @contextlib.contextmanager
    def extending(self, on=True):
        """While a canvas gesture adds to (or takes from) the selection instead of replacing it (Ctrl+click,
        Ctrl+rubber band, a removed item): selected layers without items stay selected."""
        was, self._extending = self._extending, bool(on)
        try:
            yield
        finally:
            self._extending = was

    def _selection_to_controller(self):
        if self._syncing:
            return
        selected = self.selectedItems()
        self._syncing = True
        try:
            chosen = {i.node_id for i in selected if isinstance(i, NodeItem)}
            if self.virtual and self._extending:
                chosen |= {nid for nid in self._selected if nid not in self._nodes}
            self._selected = chosen
            # In document order: selectedItems() has none, and copy/paste keeps the order it gets.
            self.controller.set_selection([nid for nid in self._doc.nodes if nid in chosen])
            self.controller.set_selected_edges([i.edge for i in selected if isinstance(i, EdgeItem)])
        finally:
            self._syncing = False

    def _select_from_controller(self, ids):
        if self._syncing:
            return
        wanted = self._selected = set(ids)
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
        self._drag_delta = None
        if event.button() == Qt.LeftButton and self._interaction is None:
            port = self._port_at(event.scenePos())
            if port is not None:
                self._interaction = ConnectInteraction(self, port)
                event.accept()
                return
        with self.extending(event.modifiers() & Qt.ControlModifier):
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event):
        if self._interaction is not None:
            self._interaction.move(event.scenePos())
            event.accept()
            return
        if event.buttons() & Qt.LeftButton and isinstance(self.mouseGrabberItem(), NodeItem):
            # Qt moves each selected item by this much; selected layers without items follow on release.
            self._drag_delta = event.scenePos() - event.buttonDownScenePos(Qt.LeftButton)
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
        with self.extending(event.modifiers() & Qt.ControlModifier):
            super().mouseReleaseEvent(event)
        if event.button() == Qt.LeftButton:
            self.commit_moves()
            if self._route_pending:
                self._route_timer.start()
            self.schedule_region()

    def cancel_interaction(self):
        if self._interaction is not None:
            self._interaction.cancel()
            self._interaction = None

    def commit_moves(self):
        """Turn item positions that differ from the document (a finished drag) into one MoveNodes."""
        nodes = self._doc.nodes
        moved = {nid: (item.x(), item.y()) for nid, item in self._nodes.items()
                 if nid in nodes and (item.x(), item.y()) != tuple(nodes[nid].pos)}
        delta, self._drag_delta = self._drag_delta, None
        if moved and delta is not None and self.virtual:
            # Selected layers without items (a big document's Select All) move as Qt moved the others.
            grid = self.grid_size if self.snap_to_grid else 0
            for nid in self._selected:
                if nid not in self._nodes and nid in nodes:
                    x, y = nodes[nid].pos[0] + delta.x(), nodes[nid].pos[1] + delta.y()
                    moved[nid] = (round(x / grid) * grid, round(y / grid) * grid) if grid else (x, y)
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
