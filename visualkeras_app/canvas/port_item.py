"""A node's connection point: inputs on the left edge, the output on the right edge.

Ports are children of their :class:`~visualkeras_app.canvas.node_item.NodeItem`; a press on one
starts a connection drag (``interactions.py``), handled by the scene.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

PORT_RADIUS = 5.0
# The clickable area is larger than the dot: ports are small targets.
PICK_RADIUS = 10.0

_OK = QColor("#2E7D32")
_BAD = QColor("#D32F2F")
_HOVER = QColor("#1E88E5")
_BORDER = QColor("#5F6B7A")
_FREE_FILL = QColor("#FFFFFF")
_USED_FILL = QColor("#5F6B7A")


class PortItem(QGraphicsItem):
    """An input (``is_input``, with its ``index`` = the edge's ``dst_port``) or the output port."""

    Type = QGraphicsItem.UserType + 2

    def __init__(self, node_item, is_input: bool, index: int = 0):
        super().__init__(node_item)
        self.node_item = node_item
        self.is_input = is_input
        self.index = index
        self.connected = False
        self._hover = False
        self._highlight = None  # None, "ok" or "bad" while a connection is dragged over it
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CrossCursor)
        self.setZValue(1)
        self._update_tooltip()

    def type(self):
        return PortItem.Type

    @property
    def node_id(self):
        return self.node_item.node_id

    def _update_tooltip(self):
        if self.is_input:
            self.setToolTip(f"Input {self.index + 1}" + (" (connected)" if self.connected else
                                                          ": drag from a layer's output here"))
        else:
            self.setToolTip("Output: drag to a layer's input to connect")

    def set_connected(self, connected: bool):
        if connected != self.connected:
            self.connected = connected
            self._update_tooltip()
            self.update()

    def set_highlight(self, state):
        if state != self._highlight:
            self._highlight = state
            self.update()

    def anchor(self) -> QPointF:
        """Where edges attach, in scene coordinates."""
        return self.scenePos()

    # ------------------------------------------------------------------ QGraphicsItem
    # Qt asks for these very often (the scene index, every move): answer with ready objects.
    _BOUNDS = QRectF(-PICK_RADIUS, -PICK_RADIUS, 2 * PICK_RADIUS, 2 * PICK_RADIUS)
    _SHAPE = QPainterPath()
    _SHAPE.addEllipse(_BOUNDS)

    def boundingRect(self):
        return PortItem._BOUNDS

    def shape(self):
        return PortItem._SHAPE

    def paint(self, painter, option, widget=None):
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < 0.3 and self._highlight is None:
            return
        r = PORT_RADIUS
        color = {"ok": _OK, "bad": _BAD}.get(self._highlight, _HOVER if self._hover else _BORDER)
        if self._highlight is not None or self._hover:
            r += 2.0
        painter.setPen(QPen(color, 1.6))
        if self.is_input:
            fill = _USED_FILL if self.connected else _FREE_FILL
        else:
            fill = self.node_item.accent
        if self._highlight is not None:
            fill = color
        painter.setBrush(QBrush(fill))
        painter.drawEllipse(QRectF(-r, -r, 2 * r, 2 * r))

    def hoverEnterEvent(self, event):
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event):
        self._hover = False
        self.update()
