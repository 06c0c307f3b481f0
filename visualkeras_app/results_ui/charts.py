"""Small painting helpers shared by the result views: arrays as images, a bar chart, model inputs.

Everything here paints with QPainter: a few hundred rectangles and glyphs per view, which is cheaper
to build and to grab offscreen than a pyqtgraph plot per chart.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

GOOD = QColor(46, 139, 87)      # right / high
BAD = QColor(200, 60, 50)       # wrong / low
ACCENT = QColor(52, 120, 200)   # neutral bars


def image_array(x) -> np.ndarray:
    """One sample as an 8-bit image: ``(H, W)`` gray or ``(H, W, 3)`` colour.

    Accepts what datasets and prepared data hold: ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or a flat
    square vector (``(784,)`` for MNIST); uint8 pixels as they are, floats in [0, 1] scaled by 255 and
    any other range stretched to 0-255 (so that standardized inputs still show).
    """
    a = np.asarray(x)
    if a.ndim == 1:
        side = int(round(math.sqrt(a.size)))
        if side * side != a.size:
            raise ValueError(f"Cannot show a vector of {a.size} values as a square image.")
        a = a.reshape(side, side)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim == 3 and a.shape[-1] not in (3,):
        a = a.mean(axis=-1)
    if a.ndim not in (2, 3):
        raise ValueError(f"Cannot show an array of shape {a.shape} as an image.")
    if a.dtype == np.uint8:
        return np.ascontiguousarray(a)
    a = a.astype(np.float32)
    lo, hi = float(a.min()), float(a.max())
    if lo < 0.0 or hi > 1.0:
        a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    return np.ascontiguousarray(np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8))


def qimage(x) -> QImage:
    """``image_array(x)`` as a QImage that owns its pixels (safe after ``x`` is gone)."""
    a = image_array(x)
    h, w = a.shape[:2]
    if a.ndim == 2:
        img = QImage(a.data, w, h, a.strides[0], QImage.Format_Grayscale8)
    else:
        img = QImage(a.data, w, h, a.strides[0], QImage.Format_RGB888)
    return img.copy()


def display_images(data):
    """The test images to show for ``data``: a ``Prepared``'s ``test_images`` (the images before any
    flattening) when it has them, else its ``x_test``; None without data."""
    if data is None:
        return None
    images = getattr(data, "test_images", None)
    return images if images is not None else getattr(data, "x_test", None)


def label_indices(data):
    """The test labels of ``data`` as class indices (N,) (one-hot labels decoded), or None."""
    if data is None:
        return None
    if hasattr(data, "test_labels"):
        return np.asarray(data.test_labels())
    y = getattr(data, "y_test", None)
    if y is None:
        return None
    y = np.asarray(y)
    return y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(len(y))


def probabilities_of(results):
    """``results``'s (N, k) class probabilities, or None (``probabilities``, or 2-D ``predictions``)."""
    if results is None:
        return None
    for name in ("probabilities", "predictions"):
        p = getattr(results, name, None)
        if p is not None and np.ndim(p) == 2:
            return np.asarray(p)
    return None


def model_input(model, x) -> np.ndarray:
    """One sample ``x`` shaped and scaled as ``model`` takes it, with a batch axis of 1.

    A sample from a raw dataset (uint8 pixels, no channel axis) becomes float32 in [0, 1] reshaped to
    the model's input shape; a prepared sample only gains the batch axis.

    Raises:
        ValueError: the sample has a different number of values than the model's input.
    """
    a = np.asarray(x)
    if a.dtype == np.uint8:
        a = a.astype(np.float32) / 255.0
    shape = tuple(getattr(model, "input_shape", (None,) + a.shape))[1:]
    if None in shape:
        return a[None].astype(np.float32, copy=False)
    if int(np.prod(shape)) != a.size:
        raise ValueError(f"The model takes inputs of shape {shape} but the image has shape {a.shape}.")
    return a.reshape((1,) + shape).astype(np.float32, copy=False)


def model_takes_digits(model) -> bool:
    """Whether ``model`` takes one 28x28 grayscale image: input (28, 28), (28, 28, 1) or (784,)."""
    shape = getattr(model, "input_shape", None)
    if not isinstance(shape, tuple) or not shape:
        return False
    return tuple(shape[1:]) in ((28, 28), (28, 28, 1), (784,))


class BarChart(QWidget):
    """Vertical bars with labels under them and values on top, e.g. class probabilities.

    ``set_values(values, labels)``; values in [0, 1] are drawn on a fixed 0-1 scale (``fixed_range``)
    and shown as percentages; other values (Dense activations) are scaled to their own range with a
    zero line. With many bars, labels and values are left out and shown as tooltips.
    """

    def __init__(self, parent=None, fixed_range=True, percent=True):
        super().__init__(parent)
        self.fixed_range = fixed_range
        self.percent = percent
        self.values = np.zeros(0, np.float32)
        self.labels: list[str] = []
        self._drawn_labels: list[str] = []
        self.colors: list[QColor] | None = None
        self.highlight = None
        self.title = ""
        self.setMouseTracking(True)
        self.setMinimumSize(160, 110)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def sizeHint(self):
        return QSize(360, 180)

    def set_values(self, values, labels=None, highlight=None, colors=None, title=""):
        """Show ``values`` (1-D); ``highlight`` is an index drawn in the accent colour (the prediction),
        ``colors`` one QColor per bar overriding that."""
        # NaN (a class absent from the test set) draws as an empty bar with a dash.
        self.values = np.asarray(values, dtype=np.float32).reshape(-1)
        n = self.values.size
        self.labels = [str(s) for s in labels] if labels is not None else [str(i) for i in range(n)]
        self.highlight = highlight
        self.colors = colors
        self.title = title
        self.update()

    def clear(self):
        self.set_values([])

    def _geometry(self):
        fm = self.fontMetrics()
        top = fm.height() * (2 if self.title else 1) + 2
        bottom = fm.height() + 6
        area = QRectF(6, top, max(1, self.width() - 12), max(1, self.height() - top - bottom))
        return area, fm

    def _range(self):
        v = self.values
        if self.fixed_range or v.size == 0:
            return 0.0, 1.0
        lo, hi = min(0.0, float(np.nanmin(v, initial=0.0))), max(0.0, float(np.nanmax(v, initial=0.0)))
        return (lo, hi) if hi > lo else (lo, lo + 1.0)

    def _slot(self, area):
        n = max(1, self.values.size)
        return area.width() / n

    def _small(self):
        small = QFont(self.font())
        small.setPointSizeF(max(6.0, self.font().pointSizeF() * 0.85))
        return small

    def _label_step(self, fm, slot):
        widest = max((fm.horizontalAdvance(s) for s in self._drawn_labels), default=0) + 4
        return max(1, math.ceil(widest / max(slot, 1e-6)))

    def paintEvent(self, _ev):
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing, False)
        pal = self.palette()
        text = pal.color(QPalette.WindowText)
        area, fm = self._geometry()
        slot = self._slot(area)
        small = self._small()
        sfm = QFontMetrics(small)
        show_values = slot >= sfm.horizontalAdvance("100%") + 1
        # Narrow bars (ten classes in a third of a dock) keep their numbers without the % sign.
        bare = self.percent and not show_values and slot >= sfm.horizontalAdvance("100") + 1
        show_values = show_values or bare
        if self.title:
            p.setPen(text)
            p.drawText(QRectF(0, 0, self.width(), fm.height() + 2), Qt.AlignHCenter | Qt.AlignTop,
                       self.title + (" (%)" if bare and self.values.size else ""))
        n = self.values.size
        if n == 0:
            p.setPen(pal.color(QPalette.PlaceholderText))
            p.drawText(self.rect(), Qt.AlignCenter, "No data")
            return
        lo, hi = self._range()
        scale = area.height() / (hi - lo)
        zero_y = area.bottom() - (0.0 - lo) * scale
        gap = min(6.0, slot * 0.2)
        labels = self.labels
        widest = max((fm.horizontalAdvance(t) for t in labels), default=0)
        if widest + 4 > slot and n <= 100:
            # Names that do not fit under their bar ("Ankle boot") give way to class indices;
            # the tooltip keeps the name.
            labels = [str(i) for i in range(n)]
        self._drawn_labels = labels
        step = self._label_step(fm, slot)
        faint = QColor(text)
        faint.setAlpha(40)
        p.fillRect(QRectF(area.left(), area.top(), area.width(), area.height()), QColor(127, 127, 127, 18))
        for i, v in enumerate(self.values):
            missing = not np.isfinite(v)
            v = 0.0 if missing else float(v)
            x = area.left() + i * slot + gap / 2
            y = area.bottom() - (float(v) - lo) * scale
            color = (self.colors[i] if self.colors is not None
                     else ACCENT if self.highlight is None or i == self.highlight else QColor(150, 160, 175))
            p.fillRect(QRectF(x, min(y, zero_y), max(1.0, slot - gap), abs(zero_y - y)), color)
            if show_values:
                p.setFont(small)
                p.setPen(text)
                label = "–" if missing else f"{v * 100:.0f}{'' if bare else '%'}" if self.percent else f"{v:.2g}"
                ty = min(y, zero_y) - sfm.height() - 1
                p.drawText(QRectF(x - gap / 2, max(area.top() - sfm.height(), ty), slot, sfm.height()),
                           Qt.AlignHCenter | Qt.AlignBottom, label)
            if i % step == 0:
                p.setFont(self.font())
                p.setPen(text)
                p.drawText(QRectF(area.left() + i * slot - slot * (step - 1) / 2, area.bottom() + 3, slot * step,
                                  fm.height()), Qt.AlignHCenter | Qt.AlignTop, labels[i])
        p.setPen(QPen(faint, 1))
        p.drawLine(int(area.left()), int(zero_y), int(area.right()), int(zero_y))

    def index_at(self, pos):
        area, _ = self._geometry()
        if self.values.size == 0 or not (area.left() <= pos.x() < area.right()):
            return None
        return min(self.values.size - 1, int((pos.x() - area.left()) / self._slot(area)))

    def mouseMoveEvent(self, ev):
        i = self.index_at(ev.position())
        if i is None:
            QToolTip.hideText()
            return
        v = float(self.values[i])
        value = "no samples" if not np.isfinite(v) else f"{v * 100:.1f}%" if self.percent else f"{v:.4g}"
        QToolTip.showText(ev.globalPosition().toPoint(), f"{self.labels[i]}: {value}", self)
