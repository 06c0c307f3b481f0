"""Widgets that show a data set before training: images per class as bars, and a grid of sample images."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget

from visualkeras_app.results_ui.charts import ACCENT, qimage

WARN = QColor(220, 130, 30)  # a class much smaller than the largest


class ClassCountChart(QWidget):
    """One horizontal bar per class: its name, a bar as long as its share of the largest class, its count.

    ``set_counts(names, counts, warn)``: the classes in ``warn`` (imbalanced) are drawn in orange.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.names: list[str] = []
        self.counts: list[int] = []
        self.warn: set = set()
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)

    def set_counts(self, names, counts, warn=()):
        self.names, self.counts, self.warn = [str(n) for n in names], [int(c) for c in counts], set(warn)
        self.updateGeometry()
        self.update()

    def _row(self):
        return QFontMetrics(self.font()).height() + 4

    def sizeHint(self):
        return QSize(320, max(40, self._row() * max(1, len(self.names)) + 6))

    def minimumSizeHint(self):
        return QSize(200, min(self.sizeHint().height(), 12 * self._row()))

    def paintEvent(self, _ev):
        p = QPainter(self)
        pal = self.palette()
        text = pal.color(QPalette.WindowText)
        fm = QFontMetrics(self.font())
        if not self.counts:
            p.setPen(pal.color(QPalette.PlaceholderText))
            p.drawText(self.rect(), Qt.AlignCenter, "No classes")
            return
        row = max(8.0, min(float(self._row()), (self.height() - 6) / len(self.counts)))
        name_w = min(max(fm.horizontalAdvance(n) for n in self.names) + 8, self.width() // 3)
        count_w = fm.horizontalAdvance(f"{max(self.counts):,}") + 8
        bar_w = max(10, self.width() - name_w - count_w - 6)
        top = max(self.counts) or 1
        for i, (name, c) in enumerate(zip(self.names, self.counts)):
            y = 3 + i * row
            p.setPen(text)
            p.drawText(QRectF(0, y, name_w - 6, row), Qt.AlignRight | Qt.AlignVCenter,
                       fm.elidedText(name, Qt.ElideMiddle, name_w - 6))
            length = bar_w * c / top
            p.fillRect(QRectF(name_w, y + 2, max(1.0, length), row - 4), WARN if name in self.warn else ACCENT)
            p.drawText(QRectF(name_w + length + 4, y, count_w, row), Qt.AlignLeft | Qt.AlignVCenter, f"{c:,}")


def thumbnail(source, size=56) -> QPixmap:
    """A square-bounded pixmap of an image file (path) or array; small images are enlarged without blur."""
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        img = QImage(str(source))
    else:
        img = qimage(np.asarray(source))
    if img.isNull():
        return QPixmap()
    mode = Qt.FastTransformation if max(img.width(), img.height()) < size else Qt.SmoothTransformation
    return QPixmap.fromImage(img.scaled(size, size, Qt.KeepAspectRatio, mode))


class SampleGrid(QWidget):
    """Rows of thumbnails: one row per class with its name (``set_rows``), or a plain grid (``set_images``)."""

    def __init__(self, parent=None, size=56):
        super().__init__(parent)
        self.size = size
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(2, 2, 2, 2)
        self.grid.setSpacing(3)
        self.cells: list[QLabel] = []

    def _clear(self):
        while self.grid.count():
            w = self.grid.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self.cells = []

    def _cell(self, source, tip):
        label = QLabel()
        label.setFixedSize(self.size + 2, self.size + 2)
        label.setAlignment(Qt.AlignCenter)
        label.setPixmap(thumbnail(source, self.size))
        label.setToolTip(tip)
        label.setStyleSheet("background: palette(base); border: 1px solid palette(mid);")
        self.cells.append(label)
        return label

    def set_rows(self, rows, per_row=8):
        """``rows``: (class name, [paths or arrays]) per class."""
        self._clear()
        for r, (name, items) in enumerate(rows):
            title = QLabel(name)
            title.setToolTip(name)
            title.setMaximumWidth(110)
            self.grid.addWidget(title, r, 0, Qt.AlignRight | Qt.AlignVCenter)
            for c, item in enumerate(list(items)[:per_row]):
                tip = f"{name}: {item}" if isinstance(item, str) else name
                self.grid.addWidget(self._cell(item, tip), r, c + 1)
        self.grid.setColumnStretch(per_row + 1, 1)
        self.grid.setRowStretch(len(rows), 1)

    def set_images(self, images, columns=4, tips=None):
        """A grid of arrays (or paths), ``columns`` wide."""
        self._clear()
        for i, item in enumerate(images):
            self.grid.addWidget(self._cell(item, tips[i] if tips else ""), i // columns, i % columns)
        self.grid.setRowStretch(-(-len(images) // columns), 1)
