"""Mouse gestures of the canvas, one small object each (as Orange's canvas does).

``ConnectInteraction``: press on a port, drag, release on a port (or anywhere on a layer) to
connect. From an output port the target is an input (port or layer); from a free input port the
drag runs backwards and the target is a layer's output; from a connected input port the drag picks
that connection up, to drop it on another input (or on empty canvas, which disconnects it).

While dragging, the candidate port turns green or red, and a refused target shows why beside the
cursor; on release the edit goes through the controller (``connect``, ``reconnect`` or
``disconnect``), which says why through ``controller.message`` when it refuses. A new connection let
go on empty canvas asks the scene for the quick-add menu (``quick_add_requested``): the layer chosen
there is placed where the drag ended and connected to the port.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from visualkeras_app.canvas.edge_item import cubic_path
from visualkeras_app.canvas.node_item import ERROR_COLOR, NodeItem
from visualkeras_app.canvas.port_item import PortItem

_DRAG_OK = QColor("#2E7D32")
# A connection let go on empty canvas at least this far (scene units) from its port opens the
# quick-add menu there; nearer, it was a slip and nothing happens.
QUICK_ADD_DISTANCE = 30.0
_DRAG = QColor("#1E6FE8")


class _ReasonLabel(QGraphicsItem):
    """A small note beside the cursor saying why the target under it is refused."""

    def __init__(self):
        super().__init__()
        self.text = ""
        self._font = QFont()
        self._font.setPixelSize(11)
        self._rect = QRectF()
        self.setZValue(10)
        # Readable at any zoom: the note keeps its size on screen.
        self.setFlag(QGraphicsItem.ItemIgnoresTransformations)

    def set_text(self, text):
        if text == self.text:
            return
        self.prepareGeometryChange()
        self.text = text
        box = QFontMetricsF(self._font).boundingRect(QRectF(0, 0, 360, 1000), Qt.TextWordWrap, text)
        self._rect = QRectF(0, 0, box.width() + 12, box.height() + 8) if text else QRectF()
        self.update()

    def boundingRect(self):
        return self._rect

    def paint(self, painter, option, widget=None):
        if not self.text:
            return
        painter.setPen(QPen(ERROR_COLOR, 1.0))
        painter.setBrush(QColor(255, 245, 245, 240))
        painter.drawRoundedRect(self._rect, 4, 4)
        painter.setFont(self._font)
        painter.setPen(ERROR_COLOR)
        painter.drawText(self._rect.adjusted(6, 4, -6, -4), Qt.TextWordWrap, self.text)


class ConnectInteraction:
    """A connection being dragged out of ``port`` (a PortItem) in ``scene`` (an EditorScene)."""

    def __init__(self, scene, port: PortItem):
        self.scene = scene
        self.controller = scene.controller
        # A press on a connected input picks that connection up: its far end stays, the user moves
        # this end elsewhere (or drops it on empty canvas to disconnect).
        self.picked = None
        if port.is_input and port.connected:
            doc = self.controller.document
            self.picked = next((e for e in doc.edges if e.dst == port.node_id and e.dst_port == port.index), None)
            if self.picked is not None:
                port = scene.node_item(self.picked.src).output_port
                picked_item = scene.edge_item(self.picked)
                if picked_item is not None:
                    picked_item.setVisible(False)
        self.port = port
        self.forward = not port.is_input  # dragging from an output towards an input
        self._target = None  # (src, dst, dst_port or None, port item or None, reason or None)
        self._line = QGraphicsPathItem()
        self._line.setZValue(5)
        self._line.setPen(QPen(_DRAG, 2.0, Qt.DashLine, Qt.RoundCap))
        self._reason = _ReasonLabel()
        scene.addItem(self._line)
        scene.addItem(self._reason)
        self._anchor = port.anchor()
        self.move(self._anchor)

    # ------------------------------------------------------------------ target under the cursor
    def _find_target(self, scene_pos):
        """(src, dst, dst_port, port item) for what lies under ``scene_pos``, or None."""
        own = self.port.node_item
        for item in self.scene.items(scene_pos):
            if item is own or (isinstance(item, PortItem) and item.node_item is own):
                return None  # still over the layer the drag started from
            if isinstance(item, PortItem):
                if self.forward and item.is_input:
                    return self.port.node_id, item.node_id, item.index, item
                if not self.forward and not item.is_input:
                    return item.node_id, self.port.node_id, self.port.index, item
            if isinstance(item, NodeItem):
                if self.forward:
                    return self.port.node_id, item.node_id, None, None
                return item.node_id, self.port.node_id, self.port.index, item.output_port
        return None

    def _set_target(self, target):
        old_item = self._target[3] if self._target else None
        new_item = target[3] if target else None
        if old_item is not None and old_item is not new_item:
            old_item.set_highlight(None)
        self._target = target
        if target is not None and target[3] is not None:
            target[3].set_highlight("bad" if target[4] else "ok")

    # ------------------------------------------------------------------ the gesture
    def move(self, scene_pos: QPointF):
        found = self._find_target(scene_pos)
        target = None
        end = scene_pos
        if found is not None:
            src, dst, dst_port, item = found
            picked = self.picked
            if picked is not None and (src, dst) == (picked.src, picked.dst) and dst_port in (None, picked.dst_port):
                reason, port = None, picked.dst_port  # back where it came from
            else:
                reason = self.controller.check_connection(src, dst, dst_port)[1]
                port = self.controller.free_port(dst) if dst_port is None else dst_port
            if item is None:  # over the layer's body: show the port it would take
                item = self.scene.node_item(dst).input_port(port)
            target = (src, dst, dst_port, item, reason)
            if item is not None and reason is None:
                end = item.anchor()  # snap the line onto the port it will connect to
        self._set_target(target)
        reason = target[4] if target else None
        color = ERROR_COLOR if reason else (_DRAG_OK if target else _DRAG)
        self._line.setPen(QPen(color, 2.0, Qt.DashLine, Qt.RoundCap))
        flow = self.scene.flow
        self._line.setPath(cubic_path(self._anchor, end, flow) if self.forward else cubic_path(end, self._anchor, flow))
        self._reason.set_text(reason or "")
        self._reason.setPos(scene_pos + QPointF(14, 14))

    def release(self, scene_pos: QPointF):
        """Finish: connect through the controller. Returns the new Edge or None."""
        self.move(scene_pos)
        target = self._target
        self.cancel()
        if self.picked is not None:
            if target is None:
                self.controller.disconnect(self.picked)  # dropped on empty canvas
                return None
            return self.controller.reconnect(self.picked, *target[:3])
        if target is None:
            self._offer_quick_add(scene_pos)
            return None
        src, dst, dst_port = target[:3]
        return self.controller.connect(src, dst, dst_port)

    def _offer_quick_add(self, scene_pos):
        # Let go on empty canvas, well away from the port: the scene offers a layer to put there.
        moved = scene_pos - self._anchor
        if moved.manhattanLength() < QUICK_ADD_DISTANCE:
            return
        if any(isinstance(i, (NodeItem, PortItem)) for i in self.scene.items(scene_pos)):
            return
        self.scene.quick_add_requested.emit(self.port, scene_pos)

    def cancel(self):
        if self.picked is not None:
            picked_item = self.scene.edge_item(self.picked)
            if picked_item is not None:
                picked_item.setVisible(True)
        self._set_target(None)
        for item in (self._line, self._reason):
            if item.scene() is not None:
                item.scene().removeItem(item)
