"""The app's own diagram renderer: a list of drawing operations painted with Qt into SVG, PDF or PNG.

``graph_drawing`` lays out plot_model-style boxes (the document's auto-layout order, boxes sized to
their text); ``layered_drawing`` draws visualkeras-style 3-D boxes sized by each tensor's dimensions.
Both return a ``Drawing``; ``render`` paints it with ``QSvgGenerator``, ``QPdfWriter`` or a
``QImage``. Runs without a display: a QApplication is started on the offscreen platform when none
exists.
"""
from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field

from visualkeras_app.document.style import category_color

_TEXT = "#1F2933"
_MUTED = "#52606D"
_BORDER = "#7B8794"
_EDGE = "#52606D"
_FONT = "DejaVu Sans"


def ensure_app():
    """The running QApplication, or a new one (offscreen when there is no display)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication([])
    return app


def _font(size, bold=False):
    from PySide6.QtGui import QFont

    f = QFont(_FONT)
    f.setStyleHint(QFont.SansSerif)
    f.setPixelSize(max(1, int(round(size))))
    f.setBold(bold)
    return f


def text_width(text, size, bold=False):
    from PySide6.QtGui import QFontMetricsF

    return QFontMetricsF(_font(size, bold)).horizontalAdvance(text)


@dataclass
class Drawing:
    """Operations in scene units (1 unit = 1 px at 96 dpi), and the size they cover."""

    width: float = 0.0
    height: float = 0.0
    ops: list = field(default_factory=list)
    title: str = "model"

    def rect(self, x, y, w, h, fill, stroke=_BORDER, radius=0.0, width=1.0):
        self.ops.append(("rect", x, y, w, h, fill, stroke, radius, width))

    def poly(self, points, fill, stroke=_BORDER, width=1.0):
        self.ops.append(("poly", list(points), fill, stroke, width))

    def path(self, points, stroke=_EDGE, width=1.2, curve=False, arrow=True, dash=False):
        self.ops.append(("path", list(points), stroke, width, curve, arrow, dash))

    def text(self, x, y, text, size=11, bold=False, color=_TEXT, align="left", angle=0.0):
        """``(x, y)`` is the baseline start (align left), centre (center) or end (right)."""
        self.ops.append(("text", x, y, str(text), size, bold, color, align, angle))


# ------------------------------------------------------------------------------------------ graph style
_PAD_X, _PAD_Y = 10.0, 6.0
_TITLE_SIZE, _LINE_SIZE = 12.0, 11.0
_GAP_ALONG, _GAP_ACROSS = 36.0, 56.0


def graph_drawing(doc, opts):
    """plot_model-style boxes: a coloured title band (layer name and class) and detail lines."""
    from visualkeras_app.document.layout import auto_layout, layers_by_longest_path
    from visualkeras_app.export.diagram import node_infos, node_lines

    ensure_app()
    infos, edges = node_infos(doc)
    tb = opts.rankdir == "TB"
    lh_title, lh = _TITLE_SIZE * 1.5, _LINE_SIZE * 1.45
    boxes = {}
    for info in infos:
        title, lines = node_lines(info, opts)
        w = max([text_width(title, _TITLE_SIZE, True)] + [text_width(t, _LINE_SIZE) for t in lines]) + 2 * _PAD_X
        h = lh_title + len(lines) * lh + (_PAD_Y if lines else 0)
        boxes[info.id] = (title, lines, w, h, category_color(info.category))
    rows = layers_by_longest_path(doc)
    # The auto-layout's order within each row (it removes crossings), rescaled to the measured boxes.
    grid = auto_layout(doc, "TB")
    n_rows = max(rows.values()) + 1
    members = [sorted((nid for nid in rows if rows[nid] == r), key=lambda n: grid[n][0]) for r in range(n_rows)]
    along = max((b[2] if tb else b[3]) for b in boxes.values()) + _GAP_ALONG
    row_size = [max((boxes[n][3] if tb else boxes[n][2]) for n in m) for m in members]
    step = 240.0  # layout.py's distance between neighbours in a TB row
    min_a = min(grid[n][0] for n in grid)
    centre = {}
    pos_across = 0.0
    for r, m in enumerate(members):
        for nid in m:
            a = (grid[nid][0] - min_a) / step * along + along / 2
            centre[nid] = (a, pos_across + row_size[r] / 2)
        pos_across += row_size[r] + _GAP_ACROSS
    d = Drawing(title=getattr(opts, "title", None) or "model")
    margin = 20.0
    rects = {}
    for nid, (a, c) in centre.items():
        title, lines, w, h, color = boxes[nid]
        cx, cy = (a, c) if tb else (c, a)
        rects[nid] = (cx - w / 2 + margin, cy - h / 2 + margin, w, h)
    lane = 0
    for e in edges:
        sx, sy, sw, sh = rects[e.src]
        dx, dy, dw, dh = rects[e.dst]
        ports = max(1, len(doc.inputs_of(e.dst)))
        frac = (e.dst_port + 1) / (ports + 1)
        between = [n for n in rects if rows[e.src] < rows[n] < rows[e.dst]]
        blocked = [n for n in between if _crosses(rects[n], rects[e.src], rects[e.dst], tb)]
        if blocked:
            # A long edge would run through the boxes between its ends: route it beside them.
            lane += 1
            if tb:
                x = max(rects[n][0] + rects[n][2] for n in blocked + [e.src, e.dst]) + 14.0 * lane
                p0, p3 = (sx + sw, sy + sh / 2), (dx + dw, dy + dh / 2)
            else:
                x = max(rects[n][1] + rects[n][3] for n in blocked + [e.src, e.dst]) + 14.0 * lane
                p0, p3 = (sx + sw / 2, sy + sh), (dx + dw / 2, dy + dh)
            pts = [p0, (x, p0[1]), (x, p3[1]), p3] if tb else [p0, (p0[0], x), (p3[0], x), p3]
            d.path(pts)
            continue
        if tb:
            p0, p3 = (sx + sw / 2, sy + sh), (dx + dw * frac, dy)
            k = max(20.0, (p3[1] - p0[1]) / 2)
            pts = [p0, (p0[0], p0[1] + k), (p3[0], p3[1] - k), p3]
        else:
            p0, p3 = (sx + sw, sy + sh / 2), (dx, dy + dh * frac)
            k = max(20.0, (p3[0] - p0[0]) / 2)
            pts = [p0, (p0[0] + k, p0[1]), (p3[0] - k, p3[1]), p3]
        d.path(pts, curve=True)
    for info in infos:
        x, y, w, h = rects[info.id]
        title, lines, _, _, color = boxes[info.id]
        d.rect(x, y, w, h, "#FFFFFF", _BORDER, radius=4.0)
        d.rect(x, y, w, lh_title, color, color, radius=4.0)
        if lines:  # square off the band's lower corners
            d.rect(x, y + lh_title / 2, w, lh_title / 2, color, color)
        d.text(x + w / 2, y + lh_title * 0.7, title, _TITLE_SIZE, True, "#FFFFFF", "center")
        for i, line in enumerate(lines):
            d.text(x + _PAD_X, y + lh_title + (i + 0.78) * lh + _PAD_Y / 2, line, _LINE_SIZE, False, _TEXT)
    d.width = max(r[0] + r[2] for r in rects.values()) + margin + (14.0 * lane if tb else 0.0)
    d.height = max(r[1] + r[3] for r in rects.values()) + margin + (0.0 if tb else 14.0 * lane)
    return d


def _crosses(box, src, dst, tb):
    """Whether the straight run from ``src`` to ``dst`` passes through ``box`` (across the flow)."""
    i = 0 if tb else 1
    lo = min(src[i] + src[i + 2] / 2, dst[i] + dst[i + 2] / 2) - 8.0
    hi = max(src[i] + src[i + 2] / 2, dst[i] + dst[i + 2] / 2) + 8.0
    return box[i] < hi and box[i] + box[i + 2] > lo


# ---------------------------------------------------------------------------------------- layered style
# visualkeras-like pastel colours for common layers; others take their palette category's colour.
LAYER_COLORS = {
    "InputLayer": "#B0BEC5", "Dense": "#64B5F6", "Conv1D": "#FFB74D", "Conv2D": "#FFB74D",
    "DepthwiseConv2D": "#FFCC80", "SeparableConv2D": "#FFA726", "Conv2DTranspose": "#F57C00",
    "MaxPooling1D": "#81C784", "MaxPooling2D": "#81C784", "AveragePooling1D": "#A5D6A7",
    "AveragePooling2D": "#A5D6A7", "GlobalAveragePooling1D": "#4DB6AC", "GlobalAveragePooling2D": "#4DB6AC",
    "GlobalMaxPooling1D": "#26A69A", "GlobalMaxPooling2D": "#26A69A", "BatchNormalization": "#BA68C8",
    "LayerNormalization": "#CE93D8", "ReLU": "#F06292", "Activation": "#F48FB1", "Softmax": "#EC407A",
    "LeakyReLU": "#F8BBD0", "Dropout": "#E0E0E0", "SpatialDropout2D": "#E0E0E0", "Flatten": "#FFF176",
    "Reshape": "#FFEE58", "Embedding": "#9575CD", "LSTM": "#7986CB", "GRU": "#9FA8DA", "SimpleRNN": "#C5CAE9",
    "Add": "#DCE775", "Concatenate": "#AED581", "Multiply": "#D4E157", "Average": "#C0CA33",
}


def layer_color(class_name, category):
    if class_name in LAYER_COLORS:
        return LAYER_COLORS[class_name]
    return category_color(category)


def _shade(color, factor):
    from PySide6.QtGui import QColor

    c = QColor(color)
    c = c.lighter(int(100 * factor)) if factor >= 1 else c.darker(int(100 / factor))
    return c.name()


def _clamp(v, lo, hi):
    return max(lo, min(hi, v))


def box_dims(shape):
    """(face width, face height, depth) in px for a tensor shape (batch first): the front face is
    height x channels, the depth the second spatial axis; a vector is a tall thin box."""
    if isinstance(shape, list):
        shape = shape[0] if shape else None
    dims = [d for d in (shape or (None,))[1:] if d is not None] if shape is not None else []
    scale = lambda d, k, lo, hi: _clamp(k * math.sqrt(max(int(d), 1)), lo, hi)  # noqa: E731
    if len(dims) >= 3:
        h, w, c = dims[0], dims[1], int(math.prod(dims[2:]))
        return scale(c, 3.0, 6, 70), scale(h, 14.0, 12, 180), scale(w, 7.0, 4, 80)
    if len(dims) == 2:
        t, f = dims
        return scale(f, 3.0, 6, 70), scale(t, 9.0, 12, 180), 8.0
    if len(dims) == 1:
        return 10.0, scale(dims[0], 9.0, 12, 200), 8.0
    return 10.0, 20.0, 8.0


def _dims_text(shape):
    if isinstance(shape, list):
        return " | ".join(_dims_text(s) for s in shape)
    if shape is None:
        return "?"
    rest = ["?" if d is None else str(d) for d in shape[1:]]
    return "×".join(rest) if rest else "scalar"


_SLANT = math.radians(45)


def layered_drawing(doc, opts):
    """visualkeras's layered view: 3-D boxes left to right, funnels between connected neighbours,
    skip connections as arrows below, names (and shapes) above, a legend of layer types."""
    from visualkeras_app.export.diagram import node_infos

    ensure_app()
    infos, edges = node_infos(doc)
    index = {info.id: i for i, info in enumerate(infos)}
    dims = [box_dims(info.shape) for info in infos]
    name_size, shape_size = 11.0, 10.0
    label_lines = (1 if opts.show_layer_names else 0) + (1 if opts.show_shapes else 0)
    label_thickness = label_lines * 13.0
    gap = 16.0
    # Horizontal placement: each box's front face x, leaving room for its depth and rotated labels.
    xs, x = [], 20.0
    for (fw, fh, dp) in dims:
        dx = dp * math.cos(_SLANT)
        xs.append(x)
        x += max(fw + dx, label_thickness + 4) + gap
    total_w = x - gap + 20.0
    # Labels are rotated -90 degrees above the tallest box top.
    label_len = 0.0
    for info in infos:
        if opts.show_layer_names:
            label_len = max(label_len, text_width(info.name, name_size, True))
        if opts.show_shapes:
            label_len = max(label_len, text_width(_dims_text(info.shape), shape_size))
    max_rise = max(fh / 2 + dp * math.sin(_SLANT) for fw, fh, dp in dims)
    max_drop = max(fh / 2 for fw, fh, dp in dims)
    top = 20.0 + (label_len + 10.0 if label_lines else 0.0)
    mid = top + max_rise
    d = Drawing(title=getattr(opts, "title", None) or "model")

    def face(i):
        fw, fh, dp = dims[i]
        return xs[i], mid - fh / 2, fw, fh, dp

    # Skip connections: edges whose ends are not neighbours in the drawing order, as lanes below.
    adjacent = set()
    lanes = []
    for e in edges:
        a, b = index[e.src], index[e.dst]
        if b == a + 1:
            adjacent.add((a, b))
        else:
            lanes.append((a, b))
    lanes.sort(key=lambda ab: ab[1] - ab[0])
    lane_y = mid + max_drop + 18.0
    for k, (a, b) in enumerate(lanes):
        ax, ay, aw, ah, _ = face(a)
        bx, by, bw, bh, _ = face(b)
        y = lane_y + k * 14.0
        p0, p3 = (ax + aw / 2, ay + ah), (bx + bw / 2, by + bh)
        d.path([p0, (p0[0], y), (p3[0], y), p3], stroke="#455A64", width=1.4, arrow=True)
    bottom = lane_y + max(0, len(lanes) - 1) * 14.0 + (10.0 if lanes else -8.0)
    # Funnels between connected neighbours (visualkeras's draw_funnel), drawn under the boxes.
    for a, b in sorted(adjacent):
        ax, ay, aw, ah, adp = face(a)
        bx, by, bw, bh, bdp = face(b)
        d.path([(ax + aw, ay), (bx, by)], stroke="#9AA5B1", width=0.8, arrow=False)
        d.path([(ax + aw, ay + ah), (bx, by + bh)], stroke="#9AA5B1", width=0.8, arrow=False)
    # Boxes: depth faces first, so each box's front face sits on top of its own sides.
    for i, info in enumerate(infos):
        x0, y0, fw, fh, dp = face(i)
        color = layer_color(info.class_name, info.category)
        ox, oy = dp * math.cos(_SLANT), -dp * math.sin(_SLANT)
        d.poly([(x0, y0), (x0 + ox, y0 + oy), (x0 + fw + ox, y0 + oy), (x0 + fw, y0)], _shade(color, 1.25), "#37474F", 0.8)
        d.poly([(x0 + fw, y0), (x0 + fw + ox, y0 + oy), (x0 + fw + ox, y0 + fh + oy), (x0 + fw, y0 + fh)],
               _shade(color, 0.8), "#37474F", 0.8)
        d.rect(x0, y0, fw, fh, color, "#37474F", width=0.8)
        # Labels, rotated to read bottom-up, starting just above the box's top.
        lx = x0 + (fw + ox) / 2
        ly = y0 + oy - 6.0
        offsets = []
        if opts.show_layer_names and opts.show_shapes:
            offsets = [(-3.0, info.name, name_size, True, _TEXT), (10.0, _dims_text(info.shape), shape_size, False, _MUTED)]
        elif opts.show_layer_names:
            offsets = [(4.0, info.name, name_size, True, _TEXT)]
        elif opts.show_shapes:
            offsets = [(4.0, _dims_text(info.shape), shape_size, False, _MUTED)]
        for off, text, size, bold, col in offsets:
            d.text(lx + off, ly, text, size, bold, col, "left", angle=-90.0)
    # Legend: one swatch per layer type, in order of first appearance, wrapped to the drawing's width.
    height = bottom + 10.0
    if opts.legend:
        seen = []
        for info in infos:
            if info.class_name not in seen:
                seen.append(info.class_name)
        cats = {info.class_name: info.category for info in infos}
        lx, ly = 20.0, bottom + 24.0
        row_h = 20.0
        width_limit = max(total_w, 360.0)
        for cls in seen:
            w = 16.0 + 6.0 + text_width(cls, 11.0) + 18.0
            if lx + w > width_limit and lx > 20.0:
                lx, ly = 20.0, ly + row_h
            d.rect(lx, ly - 12.0, 16.0, 14.0, layer_color(cls, cats[cls]), "#37474F", width=0.8)
            d.text(lx + 22.0, ly, cls, 11.0, False, _TEXT)
            lx += w
            total_w = max(total_w, lx)
        height = ly + 14.0
    d.width, d.height = total_w, height
    return d


# ------------------------------------------------------------------------------------------- painting
def paint(painter, drawing):
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QPolygonF

    painter.setRenderHint(QPainter.Antialiasing, True)
    painter.setRenderHint(QPainter.TextAntialiasing, True)

    def pen(color, width, dash=False):
        p = QPen(QColor(color))
        p.setWidthF(width)
        p.setJoinStyle(Qt.RoundJoin)
        p.setCapStyle(Qt.RoundCap)
        if dash:
            p.setStyle(Qt.DashLine)
        return p

    for op in drawing.ops:
        kind = op[0]
        if kind == "rect":
            _, x, y, w, h, fill, stroke, radius, width = op
            painter.setPen(pen(stroke, width) if stroke else Qt.NoPen)
            painter.setBrush(QBrush(QColor(fill)) if fill else Qt.NoBrush)
            if radius:
                painter.drawRoundedRect(QRectF(x, y, w, h), radius, radius)
            else:
                painter.drawRect(QRectF(x, y, w, h))
        elif kind == "poly":
            _, points, fill, stroke, width = op
            painter.setPen(pen(stroke, width) if stroke else Qt.NoPen)
            painter.setBrush(QBrush(QColor(fill)) if fill else Qt.NoBrush)
            painter.drawPolygon(QPolygonF([QPointF(*p) for p in points]))
        elif kind == "path":
            _, points, stroke, width, curve, arrow, dash = op
            path = QPainterPath(QPointF(*points[0]))
            if curve and len(points) == 4:
                path.cubicTo(QPointF(*points[1]), QPointF(*points[2]), QPointF(*points[3]))
            else:
                for p in points[1:]:
                    path.lineTo(QPointF(*p))
            painter.setPen(pen(stroke, width, dash))
            painter.setBrush(Qt.NoBrush)
            painter.drawPath(path)
            if arrow:
                (x1, y1), (x2, y2) = points[-2], points[-1]
                ang = math.atan2(y2 - y1, x2 - x1)
                size = 5.0 + 2.0 * width
                tip = QPointF(x2, y2)
                left = QPointF(x2 - size * math.cos(ang - 0.4), y2 - size * math.sin(ang - 0.4))
                right = QPointF(x2 - size * math.cos(ang + 0.4), y2 - size * math.sin(ang + 0.4))
                painter.setPen(Qt.NoPen)
                painter.setBrush(QBrush(QColor(stroke)))
                painter.drawPolygon(QPolygonF([tip, left, right]))
        elif kind == "text":
            _, x, y, text, size, bold, color, align, angle = op
            font = _font(size, bold)
            painter.setFont(font)
            painter.setPen(QColor(color))
            w = text_width(text, size, bold)
            dx = {"left": 0.0, "center": -w / 2, "right": -w}[align]
            if angle:
                painter.save()
                painter.translate(x, y)
                painter.rotate(angle)
                painter.drawText(QPointF(dx, 0.0), text)
                painter.restore()
            else:
                painter.drawText(QPointF(x + dx, y), text)


def render(drawing, path, fmt, dpi=96):
    """Paint ``drawing`` into ``path`` as ``"svg"``, ``"pdf"`` or ``"png"`` (PNG at ``dpi``)."""
    from PySide6.QtCore import QMarginsF, QRectF, QSize, QSizeF
    from PySide6.QtGui import QColor, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter

    ensure_app()
    w, h = max(1.0, drawing.width), max(1.0, drawing.height)
    if fmt not in ("svg", "pdf", "png"):
        raise ValueError(f"The built-in renderer writes svg, pdf and png, not {fmt!r}.")

    def write(tmp):
        if fmt == "svg":
            from PySide6.QtSvg import QSvgGenerator

            gen = QSvgGenerator()
            gen.setFileName(tmp)
            gen.setSize(QSize(int(math.ceil(w)), int(math.ceil(h))))
            gen.setViewBox(QRectF(0, 0, w, h))
            gen.setTitle(drawing.title)
            gen.setDescription("Exported by visualkeras-app")
            painter = QPainter(gen)
            painter.fillRect(QRectF(0, 0, w, h), QColor("white"))
            paint(painter, drawing)
            painter.end()
        elif fmt == "pdf":
            writer = QPdfWriter(tmp)
            writer.setTitle(drawing.title)
            writer.setCreator("visualkeras-app")
            # One page the drawing's size: 1 scene unit = 1 px at 96 dpi = 0.75 pt.
            writer.setPageSize(QPageSize(QSizeF(w * 0.75, h * 0.75), QPageSize.Point, "diagram"))
            writer.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout.Point)
            writer.setResolution(96)
            painter = QPainter(writer)
            paint(painter, drawing)
            painter.end()
        elif fmt == "png":
            scale = float(dpi) / 96.0
            image = QImage(max(1, int(math.ceil(w * scale))), max(1, int(math.ceil(h * scale))), QImage.Format_ARGB32)
            image.setDotsPerMeterX(int(round(dpi / 0.0254)))
            image.setDotsPerMeterY(int(round(dpi / 0.0254)))
            image.fill(QColor("white"))
            painter = QPainter(image)
            painter.scale(scale, scale)
            paint(painter, drawing)
            painter.end()
            if not image.save(tmp, "PNG"):
                raise OSError(f"Qt could not write the PNG file {path!r}.")

    from engine.utils.file_utils import atomic_write

    atomic_write(path, write)
