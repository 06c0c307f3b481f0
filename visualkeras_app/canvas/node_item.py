"""A layer on the canvas: a rounded box with the name, class (and activation), parameter count and
output shape.

Coloured by palette category; a red border, a red badge and a tooltip when inference found
problems. Painting is cheap (texts are elided once when they change, the item is cached in device
coordinates, and small zoom levels draw the box only) so that a 300-layer graph pans smoothly.
Positions follow the elasticnodes example: the item sends geometry changes and tells its edges
to follow in ``itemChange``.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontDatabase, QFontMetricsF, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from visualkeras_app.canvas.port_item import PortItem
from visualkeras_app.document.graph import accepts_many_inputs
from visualkeras_app.document.style import NODE_HEIGHT, NODE_WIDTH, category_color, category_of

PORT_SPACING = 16.0
_RADIUS = 7.0
_BAR = 7.0  # the category colour bar on the left
_PAD = 14.0

ERROR_COLOR = QColor("#D32F2F")
SELECT_COLOR = QColor("#1E6FE8")
_TEXT = QColor("#1F2933")
_MUTED = QColor("#5F6B7A")
_BORDER = QColor("#B8C2CC")
_HOVER_BORDER = QColor("#7B8794")
_FILL = QColor("#FFFFFF")
_SHADOW = QColor(0, 0, 0, 28)


def _font(pixels, bold=False, mono=False):
    # QFont() is the application's UI font; QFont("") would pick an arbitrary (often serif) family.
    f = QFontDatabase.systemFont(QFontDatabase.FixedFont) if mono else QFont()
    f.setPixelSize(pixels)
    f.setBold(bold)
    return f


def input_port_indices(class_name, connected_ports) -> list:
    """The input ports a layer shows: none for an Input, one per connected input plus one free port for a
    merge layer, else port 0 (and any connected one)."""
    connected = set(connected_ports)
    if class_name == "InputLayer":
        return []
    if accepts_many_inputs(class_name):
        free = 0
        while free in connected:
            free += 1
        return sorted(connected | {free})
    return sorted(connected | {0})


def box_height(n_inputs, flow) -> float:
    """A layer box's height: many merge inputs on the left edge need a taller box; on the top edge they fit
    the width."""
    return max(NODE_HEIGHT, PORT_SPACING * n_inputs + 16) if flow == "LR" else NODE_HEIGHT


def box_bounds(x, y, height) -> tuple:
    """(left, top, right, bottom) of the scene rectangle a layer at (x, y) covers: its
    ``sceneBoundingRect()``, selection halo and shadow included."""
    return (x - 5.0, y - 5.0, x + NODE_WIDTH + 5.0, y + height + 6.0)


class NodeItem(QGraphicsItem):
    """The canvas item of one document node (``node_id``). ``pos()`` is the node's top-left corner,
    the same point as ``LayerNode.pos``."""

    Type = QGraphicsItem.UserType + 1
    _fonts = _metrics = None

    def __init__(self, node, flow="LR"):
        super().__init__()
        if NodeItem._fonts is None:
            NodeItem._fonts = (_font(13, bold=True), _font(11), _font(11, mono=True))
            NodeItem._metrics = tuple(QFontMetricsF(f) for f in NodeItem._fonts)
        self.node_id = node.id
        self.edges = set()  # EdgeItems attached to this node; they follow it when it moves
        self.problems: list = []
        self._name = self._class_name = self._activation = self._key_args = ""
        self._shape_text, self._params = "?", None
        self._set_height(NODE_HEIGHT)
        self.flow = flow
        self._texts = ("", "", "", "")
        self.setFlags(QGraphicsItem.ItemIsMovable | QGraphicsItem.ItemIsSelectable
                      | QGraphicsItem.ItemSendsGeometryChanges)
        self.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        self.setAcceptHoverEvents(True)
        self._hover = False
        self.output_port = PortItem(self, is_input=False)
        self.input_ports: dict[int, PortItem] = {}
        self.update_node(node)
        self._place_ports()
        self.setPos(QPointF(*node.pos))

    def type(self):
        return NodeItem.Type

    # ------------------------------------------------------------------ data
    @property
    def name(self):
        return self._name

    @property
    def class_name(self):
        return self._class_name

    @property
    def shape_text(self):
        return self._shape_text

    @property
    def params(self):
        return self._params

    @property
    def has_problems(self) -> bool:
        return bool(self.problems)

    @property
    def activation(self) -> str:
        """The activation shown after the class ("relu"), "" for none or linear."""
        return self._activation

    @property
    def subtitle(self) -> str:
        """The card's second line: the class, its key arguments and activation ("Conv2D 32, 3\u00d73 \u00b7 relu");
        the card leaves out the key arguments when the line would not fit beside the parameter count."""
        text = f"{self._class_name} {self._key_args}" if self._key_args else self._class_name
        return f"{text} \u00b7 {self._activation}" if self._activation else text

    def _fit_subtitle(self, metrics, width):
        # The whole line when it fits; else without the key arguments (the activation says more
        # about what the layer does, and the inspector has the rest); else the class, elided.
        act = f" \u00b7 {self._activation}" if self._activation else ""
        for text in (self.subtitle, self._class_name + act):
            if metrics.horizontalAdvance(text) <= width:
                return text
        return metrics.elidedText(self._class_name + act, Qt.ElideRight, width)

    def update_node(self, node):
        """Name, class or activation changed."""
        activation, key_args = _activation_text(node.config), key_args_text(node.class_name, node.config)
        if (node.name, node.class_name, activation, key_args) == (self._name, self._class_name, self._activation,
                                                                 self._key_args):
            return
        self._activation, self._key_args = activation, key_args
        if node.class_name != self._class_name:
            self._class_name = node.class_name
            self.category = category_of(node.class_name)
            self.accent = QColor(category_color(self.category))
            self.output_port.update()
        self._name = node.name
        self._relayout_text()

    def set_inference(self, shape_text, params, problems):
        """Output shape text, parameter count (an int, or a text such as "?") and problems from the
        last inference; repaints only when something shown changed."""
        problems = list(problems or [])
        if (shape_text, params) == (self._shape_text, self._params) and \
                [p.message for p in problems] == [p.message for p in self.problems]:
            return
        self._shape_text, self._params, self.problems = shape_text or "?", params, problems
        self._relayout_text()

    def _relayout_text(self):
        bold, small, mono = self._metrics
        inner = NODE_WIDTH - _BAR - 2 * _PAD + 4
        name_w = inner - (20 if self.problems else 0)  # room for the red badge
        params = _params_text(self._params)
        params_w = small.horizontalAdvance(params) + (8 if params else 0)
        self._texts = (
            bold.elidedText(self._name, Qt.ElideRight, name_w),
            self._fit_subtitle(small, max(inner - params_w, 20)),
            params,
            mono.elidedText(self._shape_text, Qt.ElideMiddle, inner),
        )
        tip = [f"<b>{self._name}</b> ({self._class_name})", f"Output shape: {self._shape_text}"]
        if self._activation:
            tip.append(f"Activation: {_html(self._activation)}")
        if self._params is not None:
            count = f"{self._params:,}" if isinstance(self._params, int) else self._params
            tip.append(f"Parameters: {count}")
        if self.problems:
            tip.append("<span style='color:#D32F2F'><b>Problems:</b></span>")
            tip += [f"<span style='color:#D32F2F'>\u2022 {_html(p.message)}</span>" for p in self.problems]
        self.setToolTip("<br>".join(tip))
        self.update()

    # ------------------------------------------------------------------ ports
    def set_inputs(self, connected_ports):
        """Show the input ports: one for a plain layer, none for an Input, and for a merge layer one
        per connected input (``connected_ports``: their dst_port numbers) plus one free port."""
        connected = set(connected_ports)
        wanted = input_port_indices(self._class_name, connected)
        for index in list(self.input_ports):
            if index not in wanted:
                port = self.input_ports.pop(index)
                port.setParentItem(None)
                if port.scene() is not None:
                    port.scene().removeItem(port)
        for index in wanted:
            if index not in self.input_ports:
                self.input_ports[index] = PortItem(self, is_input=True, index=index)
            self.input_ports[index].set_connected(index in connected)
        self._place_ports()

    def set_flow(self, flow):
        """``"LR"``: inputs on the left edge, output on the right; ``"TB"``: inputs on top, output
        at the bottom (for graphs laid out top-down)."""
        if flow != self.flow:
            self.flow = flow
            self._place_ports()

    def _place_ports(self):
        ports = [self.input_ports[i] for i in sorted(self.input_ports)]
        n = len(ports)
        height = box_height(n, self.flow)
        if height != self._height:
            self.prepareGeometryChange()
            self._set_height(height)
        for i, port in enumerate(ports):
            if self.flow == "LR":
                port.setPos(0.0, self._height * (i + 1) / (n + 1))
            else:
                port.setPos(NODE_WIDTH * (i + 1) / (n + 1), 0.0)
        if self.flow == "LR":
            self.output_port.setPos(NODE_WIDTH, self._height / 2)
        else:
            self.output_port.setPos(NODE_WIDTH / 2, self._height)
        self.update()

    def input_port(self, index) -> PortItem | None:
        return self.input_ports.get(index)

    # ------------------------------------------------------------------ geometry
    @property
    def height(self):
        return self._height

    def _set_height(self, height):
        self._height = height
        # Kept ready: Qt asks for them on every move and repaint.
        # (the selection halo reaches 3.5 units out, the shadow 3 units down)
        self._bounds = QRectF(-5.0, -5.0, NODE_WIDTH + 10.0, height + 11.0)
        self._shape = QPainterPath()
        self._shape.addRoundedRect(self.rect(), _RADIUS, _RADIUS)
        # The category bar: the box's rounded left side.
        inner = QPainterPath()
        inner.addRoundedRect(self.rect().adjusted(0.8, 0.8, -0.8, -0.8), _RADIUS - 1, _RADIUS - 1)
        clip = QPainterPath()
        clip.addRect(QRectF(0, 0, _BAR, height))
        self._bar = inner.intersected(clip)

    def rect(self) -> QRectF:
        return QRectF(0.0, 0.0, NODE_WIDTH, self._height)

    def boundingRect(self):
        return self._bounds

    def shape(self):
        return self._shape

    def itemChange(self, change, value):
        if change == QGraphicsItem.ItemPositionChange:
            scene = self.scene()
            grid = getattr(scene, "grid_size", 0) if scene is not None and getattr(scene, "snap_to_grid", False) else 0
            if grid:
                return QPointF(round(value.x() / grid) * grid, round(value.y() / grid) * grid)
        elif change == QGraphicsItem.ItemPositionHasChanged:
            for edge in self.edges:
                edge.adjust()
            scene = self.scene()
            if scene is not None and hasattr(scene, "reroute_around"):
                scene.reroute_around(self)
        return super().itemChange(change, value)

    def hoverEnterEvent(self, event):
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event):
        self._hover = False
        self.update()

    # ------------------------------------------------------------------ painting
    def paint(self, painter, option, widget=None):
        rect = self.rect()
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        selected = self.isSelected()
        if lod > 0.5:
            painter.setPen(Qt.NoPen)
            painter.setBrush(_SHADOW)
            painter.drawRoundedRect(rect.translated(1.5, 2.5), _RADIUS, _RADIUS)
        if self.problems:
            border = QPen(ERROR_COLOR, 2.2)
        elif selected:
            border = QPen(SELECT_COLOR, 2.2)
        else:
            border = QPen(_HOVER_BORDER if self._hover else _BORDER, 1.0)
        painter.setPen(border)
        painter.setBrush(_FILL)
        painter.drawRoundedRect(rect, _RADIUS, _RADIUS)
        painter.setPen(Qt.NoPen)
        painter.setBrush(self.accent)
        painter.drawPath(self._bar)
        if selected and self.problems:
            # Both states at once: the red border stays, a blue halo says "selected".
            painter.setPen(QPen(SELECT_COLOR, 1.6))
            painter.setBrush(Qt.NoBrush)
            painter.drawRoundedRect(rect.adjusted(-2.5, -2.5, 2.5, 2.5), _RADIUS + 2, _RADIUS + 2)
        if lod < 0.35:
            return
        bold, small, mono = self._fonts
        name, cls, params, shape = self._texts
        x = _BAR + _PAD - 4
        w = NODE_WIDTH - x - _PAD + 4
        top = (self._height - NODE_HEIGHT) / 2
        painter.setFont(bold)
        painter.setPen(_TEXT)
        painter.drawText(QRectF(x, top + 7, w, 18), Qt.AlignLeft | Qt.AlignVCenter, name)
        painter.setFont(small)
        painter.setPen(self.accent.darker(125))
        painter.drawText(QRectF(x, top + 26, w, 16), Qt.AlignLeft | Qt.AlignVCenter, cls)
        painter.setPen(_MUTED)
        painter.drawText(QRectF(x, top + 26, w, 16), Qt.AlignRight | Qt.AlignVCenter, params)
        painter.setFont(mono)
        painter.setPen(ERROR_COLOR if self.problems and self._shape_text == "?" else _TEXT)
        painter.drawText(QRectF(x, top + 45, w, 16), Qt.AlignLeft | Qt.AlignVCenter, shape)
        if self.problems:
            c = QPointF(NODE_WIDTH - 14.0, 15.0)
            painter.setPen(Qt.NoPen)
            painter.setBrush(QBrush(ERROR_COLOR))
            painter.drawEllipse(c, 8.0, 8.0)
            painter.setPen(QPen(QColor("white")))
            painter.setFont(bold)
            painter.drawText(QRectF(c.x() - 8, c.y() - 8, 16, 16), Qt.AlignCenter, "!")


def _activation_text(config) -> str:
    """A config's activation as the card shows it: its name (a serialized activation's class
    name), "" for none or "linear" (Keras's default, which does nothing)."""
    act = (config or {}).get("activation")
    if isinstance(act, dict):
        act = act.get("config") if isinstance(act.get("config"), str) else act.get("class_name")
    if not isinstance(act, str) or act in ("", "linear", "None"):
        return ""
    return act


def _size(value) -> str:
    if isinstance(value, (list, tuple)):
        return "\u00d7".join(str(v) for v in value)
    return str(value)


def key_args_text(class_name, config) -> str:
    """The arguments a reader looks for first, as the card shows them after the class: units
    ("64"), filters and kernel ("32, 3\u00d73"), pool size ("2\u00d72"), rate ("0.5"); "" when the
    layer has none of these."""
    config = config or {}
    if "filters" in config and "kernel_size" in config:
        return f"{config['filters']}, {_size(config['kernel_size'])}"
    for key in ("units", "pool_size", "rate", "target_shape"):
        if key in config and config[key] is not None:
            return _size(config[key])
    return ""


def _params_text(params):
    if params is None:
        return ""
    if isinstance(params, int):
        return f"{params:,} param{'s' * (params != 1)}"
    return f"{params} params"


def _html(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
