"""The "Draw a digit" pad: draw with the mouse, the model predicts as you draw.

API (the Results dock hosts it as a tab)::

    pad = DrawPad(parent=None)
    pad.set_model(model, prepared_or_dataset=None, class_names=None)   # None: no model
    pad.clear()
    pad.probabilities          # the last prediction (numpy, one per class) or None
    pad.image28()              # what the model sees: (28, 28) float32 in [0, 1]

The pad is enabled only for models that take one 28x28 grayscale image (input (28, 28), (28, 28, 1)
or (784,)); for any other model it says why it is off. Strokes are drawn thick and antialiased, white
on black, on a 280x280 canvas; ``mnist_image`` turns the canvas into a 28x28 image the way MNIST's
digits were made (the drawing's bounding box scaled to fit 20x20, then centred by its centre of mass),
so that a digit drawn small or off-centre is still recognised. Predictions run at most every
``THROTTLE_MS`` while drawing, and once more when the stroke ends.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from visualkeras_app.results_ui.charts import BarChart, model_takes_digits, qimage

SIDE = 280           # canvas pixels: 10x MNIST, so a mouse stroke is as smooth as a pen's
PEN_WIDTH = 22       # about 2 px once the drawing is scaled into MNIST's 20x20 box
THROTTLE_MS = 80     # at most ~12 predictions a second while drawing


def mnist_image(canvas) -> np.ndarray:
    """A drawing (``(H, W)``, white on black, uint8 or floats in [0, 1]) as an MNIST digit.

    As in MNIST: the bounding box of the ink, padded to a square, is averaged down to 20x20, put in
    a 28x28 field and shifted so that its centre of mass is at the centre.

    Returns:
        (28, 28) float32 in [0, 1]; all zeros for an empty drawing.
    """
    a = np.asarray(canvas, dtype=np.float32)
    if a.max(initial=0.0) > 1.0:
        a = a / 255.0
    ys, xs = np.nonzero(a > 0.05)
    out = np.zeros((28, 28), np.float32)
    if ys.size == 0:
        return out
    crop = a[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = crop.shape
    side = max(h, w)
    square = np.zeros((side, side), np.float32)
    square[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = crop
    small = _area_resize(square, 20)
    com_y, com_x = _centre_of_mass(small)      # within the 20x20 box
    # Place the 20x20 box so that its centre of mass lands where MNIST's do: pixel (14, 14) (measured
    # on the test set: mean 14.0, sd 0.3), clamped so the box stays inside the field.
    top = int(np.clip(round(14.0 - com_y), 0, 8))
    left = int(np.clip(round(14.0 - com_x), 0, 8))
    out[top:top + 20, left:left + 20] = small
    return np.clip(out, 0.0, 1.0)


def _area_resize(a, size):
    """Average ``a`` (square) down to ``size`` x ``size`` (each output pixel the mean of its area)."""
    n = a.shape[0]
    if n < size:
        # A tiny drawing (a dot): nearest upscaling keeps it a blob rather than smearing it.
        idx = (np.arange(size) * n) // size
        return a[np.ix_(idx, idx)]
    edges = np.linspace(0, n, size + 1)
    # Integral image: any rectangle's sum in four lookups, exact for fractional pixel areas.
    integral = np.zeros((n + 1, n + 1), np.float64)
    integral[1:, 1:] = a.cumsum(0).cumsum(1)

    def interp(pos):
        # The integral at fractional positions along one axis, linearly between whole pixels.
        i = np.minimum(np.floor(pos).astype(int), n - 1)
        return i, pos - i

    i, f = interp(edges)
    rows = integral[i] * (1 - f)[:, None] + integral[np.minimum(i + 1, n)] * f[:, None]   # (size+1, n+1)
    table = rows[:, i] * (1 - f)[None, :] + rows[:, np.minimum(i + 1, n)] * f[None, :]   # (size+1, size+1)
    sums = table[1:, 1:] - table[:-1, 1:] - table[1:, :-1] + table[:-1, :-1]
    area = np.diff(edges)[:, None] * np.diff(edges)[None, :]
    return (sums / area).astype(np.float32)


def _centre_of_mass(a):
    total = float(a.sum())
    if total <= 0:
        return (a.shape[0] - 1) / 2, (a.shape[1] - 1) / 2
    ys, xs = np.indices(a.shape)
    return float((ys * a).sum() / total), float((xs * a).sum() / total)


def predict_probabilities(model, image28) -> np.ndarray:
    """Class probabilities of ``model`` for one (28, 28) image in [0, 1]."""
    from visualkeras_app.training.results import predict_digit  # here: it imports the engine (start-up time)

    return np.asarray(predict_digit(model, image28), dtype=np.float32).reshape(-1)


class DrawCanvas(QWidget):
    """280x280 white-on-black drawing surface. ``changed`` while drawing, ``stroke_finished`` on release."""

    changed = Signal()
    stroke_finished = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.image = QImage(SIDE, SIDE, QImage.Format_Grayscale8)
        self.image.fill(0)
        self._last = None
        self.setFixedSize(SIDE, SIDE)
        self.setCursor(Qt.CrossCursor)
        self.setToolTip("Draw a digit with the mouse")

    def sizeHint(self):
        return QSize(SIDE, SIDE)

    def clear(self):
        self.image.fill(0)
        self._last = None
        self.update()
        self.changed.emit()

    def is_empty(self) -> bool:
        return not self.array().any()

    def array(self) -> np.ndarray:
        """The drawing as a (280, 280) uint8 array (a copy)."""
        ptr = self.image.constBits()
        buf = np.frombuffer(ptr, np.uint8, count=self.image.sizeInBytes())
        return buf.reshape(SIDE, self.image.bytesPerLine())[:, :SIDE].copy()

    def draw_stroke(self, points):
        """Draw a polyline through ``points`` ((x, y) in canvas pixels), as a mouse stroke would."""
        pts = [QPointF(*p) for p in points]
        if not pts:
            return
        path = QPainterPath(pts[0])
        for q in pts[1:]:
            path.lineTo(q)
        self._paint(path if len(pts) > 1 else None, pts[0])
        self.stroke_finished.emit()

    def _paint(self, path, point):
        p = QPainter(self.image)
        p.setRenderHint(QPainter.Antialiasing, True)
        p.setPen(QPen(QColor(255, 255, 255), PEN_WIDTH, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
        if path is None:
            p.drawPoint(point)
        else:
            p.drawPath(path)
        p.end()
        self.update()
        self.changed.emit()

    def mousePressEvent(self, ev):
        if ev.button() == Qt.LeftButton and self.isEnabled():
            self._last = ev.position()
            self._paint(None, self._last)

    def mouseMoveEvent(self, ev):
        if self._last is not None:
            path = QPainterPath(self._last)
            path.lineTo(ev.position())
            self._last = ev.position()
            self._paint(path, None)

    def mouseReleaseEvent(self, ev):
        if self._last is not None:
            self._last = None
            self.stroke_finished.emit()

    def paintEvent(self, _ev):
        p = QPainter(self)
        p.drawImage(0, 0, self.image)
        if not self.isEnabled():
            p.fillRect(self.rect(), QColor(128, 128, 128, 160))
        elif self.is_empty():
            p.setPen(QColor(150, 150, 150))
            p.drawText(self.rect(), Qt.AlignCenter, "Draw a digit here")
        # MNIST's 20x20 box inside the 28x28 field, as a guide to the size that works best.
        p.setPen(QPen(QColor(90, 90, 90), 1, Qt.DashLine))
        p.drawRect(40, 40, SIDE - 81, SIDE - 81)


class DrawPad(QWidget):
    """Draw a digit, see what the model thinks it is (probability bars), Clear to start again."""

    predicted = Signal(object)   # the probabilities, after each prediction

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = None
        self.class_names = [str(i) for i in range(10)]
        self.probabilities = None
        self.canvas = DrawCanvas(self)
        self.seen = QLabel(self)
        self.seen.setFixedSize(28 * 3, 28 * 3)
        self.seen.setToolTip("What the model sees: the drawing scaled to 28x28 and centred, as in MNIST")
        self.answer = QLabel(self)
        self.answer.setAlignment(Qt.AlignCenter)
        font = self.answer.font()
        font.setPointSizeF(font.pointSizeF() * 2.2)
        font.setBold(True)
        self.answer.setFont(font)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.bars = BarChart(self)
        self.bars.setMinimumHeight(140)
        self.clear_button = QPushButton("Clear", self)
        self.clear_button.setShortcut("Delete")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(THROTTLE_MS)
        self._timer.timeout.connect(self.predict)

        side = QVBoxLayout()
        side.addWidget(QLabel("Model input\n(28x28):", self))  # two lines: the pad fits a 420-px dock
        side.addWidget(self.seen)
        side.addWidget(self.answer)
        side.addStretch(1)
        side.addWidget(self.clear_button)
        row = QHBoxLayout()
        row.addWidget(self.canvas, 0, Qt.AlignTop)
        row.addLayout(side)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.note)
        lay.addLayout(row)
        lay.addWidget(self.bars, 1)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Preferred)

        self.canvas.changed.connect(self._schedule)
        self.canvas.stroke_finished.connect(self.predict)
        self.clear_button.clicked.connect(self.clear)
        self.set_model(None)

    def set_model(self, model, prepared_or_dataset=None, class_names=None):
        """Predict with ``model`` from now on (None: no model). The pad is enabled only when the
        model takes a 28x28 grayscale image."""
        self.model = model
        if class_names is not None:
            self.class_names = [str(c) for c in class_names]
        ok = model is not None and model_takes_digits(model)
        self.canvas.setEnabled(ok)
        self.clear_button.setEnabled(ok)
        if model is None:
            self.note.setText("Train a model on MNIST, then draw a digit to see what it predicts.")
        elif not ok:
            shape = tuple(getattr(model, "input_shape", ()))[1:]
            self.note.setText(f"The draw pad needs a model that takes 28x28 grayscale images (input (28, 28, 1) "
                              f"or (784,)); this model takes {shape}.")
        else:
            self.note.setText("Draw a digit with the mouse: the model predicts as you draw.")
        self.clear()

    def is_active(self) -> bool:
        return self.canvas.isEnabled()

    def clear(self):
        self._timer.stop()
        self.probabilities = None
        self.canvas.blockSignals(True)
        self.canvas.clear()
        self.canvas.blockSignals(False)
        self.seen.setPixmap(QPixmap.fromImage(qimage(np.zeros((28, 28), np.uint8))).scaled(84, 84))
        self.answer.setText("")
        self.bars.set_values(np.zeros(len(self.class_names)), self.class_names)

    def image28(self) -> np.ndarray:
        return mnist_image(self.canvas.array())

    def _schedule(self):
        if self.is_active() and not self._timer.isActive():
            self._timer.start()

    def predict(self):
        """Predict the current drawing now (the timer and the end of a stroke call this)."""
        self._timer.stop()
        if not self.is_active():
            return None
        img = self.image28()
        self.seen.setPixmap(QPixmap.fromImage(qimage(img)).scaled(84, 84, Qt.KeepAspectRatio, Qt.FastTransformation))
        if not img.any():
            self.probabilities = None
            self.answer.setText("")
            self.bars.set_values(np.zeros(len(self.class_names)), self.class_names)
            return None
        probs = predict_probabilities(self.model, img)
        self.probabilities = probs
        names = self.class_names if len(self.class_names) == probs.size else [str(i) for i in range(probs.size)]
        best = int(np.argmax(probs))
        self.answer.setText(f"{names[best]} ({100 * probs[best]:.0f}%)")
        self.bars.set_values(probs, names, highlight=best, title="Probability of each class")
        self.predicted.emit(probs)
        return probs
