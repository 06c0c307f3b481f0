"""A connection on the canvas: a cubic curve from an output port to an input port, labelled with
the tensor's shape, red (with a tooltip) when inference found a problem on it. Selectable, so that
Delete removes it.

Following a moving node must be cheap (a drag of a 300-layer selection adjusts every edge on every
mouse move): ``adjust`` only rebuilds the curve; where the label goes (the middle of the curve,
else the nearest free spot along it) is worked out when the edge is next painted or picked. The
bounding rectangle already holds every spot the label may take, so placing it late changes no
geometry.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem

from visualkeras_app.canvas.node_item import ERROR_COLOR, SELECT_COLOR, NodeItem
from visualkeras_app.document.style import NODE_WIDTH

_LINE = QColor("#8792A2")
_LABEL_TEXT = QColor("#3E4C59")
_LABEL_FILL = QColor(255, 255, 255, 235)
_LABEL_BORDER = QColor("#D5DCE3")
_PICK_WIDTH = 12.0
# Where along the curve a label may sit, best first: the middle, then nearer and nearer the ends.
_LABEL_SPOTS = (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8)


def cubic_path(p1: QPointF, p2: QPointF, flow="LR") -> QPainterPath:
    """The curve from an output to an input: leaving rightwards and entering from the left
    (``flow="LR"``), or leaving downwards and entering from the top (``"TB"``)."""
    path = QPainterPath(p1)
    if flow == "TB":
        dy = max(abs(p2.y() - p1.y()) * 0.5, 40.0)
        path.cubicTo(QPointF(p1.x(), p1.y() + dy), QPointF(p2.x(), p2.y() - dy), p2)
    else:
        dx = max(abs(p2.x() - p1.x()) * 0.5, 50.0)
        path.cubicTo(QPointF(p1.x() + dx, p1.y()), QPointF(p2.x() - dx, p2.y()), p2)
    return path


def _detour(p1: QPointF, p2: QPointF, area: QRectF, flow: str, margin: float, prefer=0) -> QPainterPath:
    """A path from p1 to p2 that passes beside ``area``: on the ``prefer`` side (-1: left or above,
    +1: right or below), else on the side nearer the two ports."""
    path = QPainterPath(p1)
    if flow == "TB":
        mid = (p1.x() + p2.x()) / 2
        left = prefer < 0 if prefer else abs(area.left() - mid) < abs(area.right() - mid)
        side = area.left() - margin if left else area.right() + margin
        top = min(max(area.top(), p1.y() + 40.0), p2.y() - 40.0)
        bottom = max(min(area.bottom(), p2.y() - 40.0), top)
        a, b = QPointF(side, top), QPointF(side, bottom)
        d1, d2 = max((a.y() - p1.y()) / 2, 20.0), max((p2.y() - b.y()) / 2, 20.0)
        path.cubicTo(QPointF(p1.x(), p1.y() + d1), QPointF(a.x(), a.y() - d1), a)
        path.lineTo(b)
        path.cubicTo(QPointF(b.x(), b.y() + d2), QPointF(p2.x(), p2.y() - d2), p2)
    else:
        mid = (p1.y() + p2.y()) / 2
        above = prefer < 0 if prefer else abs(area.top() - mid) < abs(area.bottom() - mid)
        side = area.top() - margin if above else area.bottom() + margin
        left = min(max(area.left(), p1.x() + 50.0), p2.x() - 50.0)
        right = max(min(area.right(), p2.x() - 50.0), left)
        a, b = QPointF(left, side), QPointF(right, side)
        d1, d2 = max((a.x() - p1.x()) / 2, 25.0), max((p2.x() - b.x()) / 2, 25.0)
        path.cubicTo(QPointF(p1.x() + d1, p1.y()), QPointF(a.x() - d1, a.y()), a)
        path.lineTo(b)
        path.cubicTo(QPointF(b.x() + d2, b.y()), QPointF(p2.x() - d2, p2.y()), p2)
    return path


class EdgeItem(QGraphicsItem):
    """The canvas item of one document ``edge``, between two NodeItems. Lives in scene
    coordinates (its pos stays at the origin); ``adjust()`` follows the ports."""

    Type = QGraphicsItem.UserType + 3
    _font = _metrics = None
    _label_sizes: dict = {}

    def __init__(self, edge, src_item, dst_item):
        super().__init__()
        if EdgeItem._font is None:
            EdgeItem._font = QFont()
            EdgeItem._font.setPixelSize(10)
            EdgeItem._metrics = QFontMetricsF(EdgeItem._font)
        self.edge = edge
        self.src_item, self.dst_item = src_item, dst_item
        self.label = ""
        self.problems: list = []
        self._path = QPainterPath()
        self._label_rect = QRectF()
        self._label_fits = False
        self._label_placed = True
        self._bounds = QRectF()
        self._hover = False
        self._drop_target = False  # a palette layer dragged over it would go into it
        self.setFlags(QGraphicsItem.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setZValue(-1)  # under the nodes
        src_item.edges.add(self)
        dst_item.edges.add(self)
        self.adjust()

    def type(self):
        return EdgeItem.Type

    @property
    def has_problems(self) -> bool:
        return bool(self.problems)

    def detach(self):
        self.src_item.edges.discard(self)
        self.dst_item.edges.discard(self)

    def set_inference(self, label, problems):
        problems = list(problems or [])
        label = label or ""
        if label == self.label and [p.message for p in problems] == [p.message for p in self.problems]:
            return
        self.label, self.problems = label, problems
        tip = [f"Tensor: {label}"] if label else []
        tip += [f"\u26a0 {p.message}" for p in problems]
        self.setToolTip("\n".join(tip))
        self.adjust()

    def endpoints(self):
        out = self.src_item.output_port.anchor()
        port = self.dst_item.input_port(self.edge.dst_port)
        if port is not None:
            inp = port.anchor()
        elif self.dst_item.flow == "TB":
            inp = self.dst_item.mapToScene(QPointF(NODE_WIDTH / 2, 0.0))
        else:
            inp = self.dst_item.mapToScene(QPointF(0.0, self.dst_item.height / 2))
        return out, inp

    def adjust(self):
        """Recompute the curve after a node moved, a port appeared or the label changed."""
        p1, p2 = self.endpoints()
        self.prepareGeometryChange()
        scene = self.scene()
        if scene is not None and getattr(scene, "routing_deferred", False):
            # Many edges change at once (undo, layout, a big drag): the plain curve now, the detour
            # once everything has moved.
            self._path = cubic_path(p1, p2, self.dst_item.flow)
            scene.route_later(self)
        else:
            self._path = self._route(p1, p2, self.dst_item.flow)
        w, h = self._label_size()
        pad_x, pad_y = max(_PICK_WIDTH, w / 2 + 1), max(_PICK_WIDTH, h / 2 + 1)
        self._bounds = self._path.boundingRect().adjusted(-pad_x, -pad_y, pad_x, pad_y)
        self._label_placed = False
        self.update()

    def _obstacles(self, path):
        """Scene rectangles of the layers (other than its ends) that ``path`` runs behind."""
        scene = self.scene()
        if scene is None:
            return []
        area = path.boundingRect().adjusted(-1.0, -1.0, 1.0, 1.0)  # the 2-px stroke's box
        near = self._layer_rects(scene, area, (self.src_item, self.dst_item))
        if not near:
            return []  # nothing but its own ends near it: no stroke to make (most connections)
        stroker = QPainterPathStroker()
        stroker.setWidth(2.0)
        stroke = stroker.createStroke(path)
        return [r for r in near if stroke.intersects(r)]

    @staticmethod
    def _layer_rects(scene, area, ends=()):
        """Scene rectangles of the layers (other than ``ends``) whose boxes meet ``area``: every layer of the
        document, from the scene's grid (a big document has items only near the view), else Qt's index."""
        lookup = getattr(scene, "layer_rects_in", None)
        if lookup is not None:
            return lookup(area, exclude={i.node_id for i in ends})
        return [i.sceneBoundingRect() for i in scene.items(area, Qt.IntersectsItemBoundingRect)
                if i.type() == NodeItem.Type and i not in ends]

    def _route(self, p1, p2, flow):
        """The plain curve, or, when it would run behind other layers (a skip connection past a
        chain), a detour around them: out of the port, along the side of the layers, back in."""
        path = cubic_path(p1, p2, flow)
        forward = p2.y() > p1.y() if flow == "TB" else p2.x() > p1.x()
        blocked = self._obstacles(path) if forward else []
        if not blocked:
            return path
        area = QRectF(blocked[0])
        for r in blocked[1:]:
            area = area.united(r)
        margin = 26.0
        # Come round on the side of our port among the target's inputs, so edges do not cross there.
        # (from its connected input ports, not from the edge items: a big document's canvas has items only near
        # the view, and the route must not depend on which of them exist)
        others = [port.anchor() for index, port in self.dst_item.input_ports.items()
                  if port.connected and index != self.edge.dst_port]
        prefer = 0
        if others:
            axis = (lambda p: p.x()) if flow == "TB" else (lambda p: p.y())
            offset = axis(p2) - sum(axis(o) for o in others) / len(others)
            prefer = (offset > 0) - (offset < 0)
        for _ in range(2):  # the detour may meet more layers: widen once
            detour = _detour(p1, p2, area, flow, margin, prefer)
            more = [r for r in self._obstacles(detour) if not area.contains(r)]
            if not more:
                return detour
            for r in more:
                area = area.united(r)
        return detour

    def _label_size(self):
        if not self.label or self.label == "?":
            return 0.0, 0.0
        size = EdgeItem._label_sizes.get(self.label)
        if size is None:
            size = EdgeItem._label_sizes[self.label] = (self._metrics.horizontalAdvance(self.label) + 10,
                                                        self._metrics.height() + 4)
        return size

    def _place_label(self):
        if self._label_placed:
            return
        self._label_placed = True
        w, h = self._label_size()
        if not w:
            self._label_rect, self._label_fits = QRectF(), False
            return
        scene = self.scene()
        ends = (self.src_item.sceneBoundingRect(), self.dst_item.sceneBoundingRect())
        first = None
        for t in _LABEL_SPOTS:
            mid = self._path.pointAtPercent(t)
            rect = QRectF(mid.x() - w / 2, mid.y() - h / 2, w, h)
            first = first or rect
            if any(rect.intersects(r) for r in ends):
                continue
            if scene is not None and self._layer_rects(scene, rect):
                continue
            self._label_rect, self._label_fits = rect, True
            return
        # No room (close neighbours): the label shows on hover or selection only; the source node
        # shows the same shape anyway.
        self._label_rect, self._label_fits = first, False

    def path(self) -> QPainterPath:
        return QPainterPath(self._path)

    def label_rect(self) -> QRectF:
        self._place_label()
        return QRectF(self._label_rect)

    def label_visible(self) -> bool:
        # "?" (after a broken layer) says nothing the red marker upstream does not.
        if not self.label or self.label == "?":
            return False
        self._place_label()
        return self._label_fits or self._raised()

    def set_drop_target(self, on: bool):
        """Highlighted while a palette layer is dragged over it (a drop inserts the layer here)."""
        self._drop_target = bool(on)
        self._restack()
        self.update()

    @property
    def is_drop_target(self) -> bool:
        return self._drop_target

    def _raised(self):
        return self._hover or self._drop_target or self.isSelected()

    def _restack(self):
        # A hovered or selected edge comes above the nodes, so that its label can be read.
        self.setZValue(2 if self._raised() else -1)

    # ------------------------------------------------------------------ QGraphicsItem
    def boundingRect(self):
        return self._bounds

    def shape(self):
        stroker = QPainterPathStroker()
        stroker.setWidth(_PICK_WIDTH)
        shape = stroker.createStroke(self._path)
        if self.label_visible():
            shape.addRect(self._label_rect)
        return shape

    def paint(self, painter, option, widget=None):
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        color = ERROR_COLOR if self.problems else (SELECT_COLOR if self.isSelected() or self._drop_target else _LINE)
        width = 3.5 if self._drop_target else (2.4 if (self.isSelected() or self._hover) else 1.6)
        painter.setPen(QPen(color, width, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
        painter.setBrush(Qt.NoBrush)
        painter.drawPath(self._path)
        if lod < 0.45 or not self.label_visible():
            return
        painter.setPen(QPen(ERROR_COLOR if self.problems else _LABEL_BORDER, 1.0))
        painter.setBrush(_LABEL_FILL)
        painter.drawRoundedRect(self._label_rect, 4, 4)
        painter.setFont(self._font)
        painter.setPen(ERROR_COLOR if self.problems else _LABEL_TEXT)
        painter.drawText(self._label_rect, Qt.AlignCenter, self.label)

    def itemChange(self, change, value):
        if change == QGraphicsItem.ItemSelectedHasChanged:
            self._restack()
        return super().itemChange(change, value)

    def hoverEnterEvent(self, event):
        self._hover = True
        self._restack()
        self.update()

    def hoverLeaveEvent(self, event):
        self._hover = False
        self._restack()
        self.update()
