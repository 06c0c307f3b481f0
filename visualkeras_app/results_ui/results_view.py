"""The "Results" view: what a trained model got right and wrong on the test set.

API (the Results dock hosts it as a tab)::

    view = ResultsView(parent=None)
    view.set_model(model, prepared_or_dataset, class_names)  # where the test images come from
    view.set_results(results)       # a visualkeras_app.training.results.Results
    view.evaluate()                 # or: evaluate_results(model, prepared, class_names) here (blocking)
    view.clear()
    view.image_chosen.connect(feature_map_view.show_index)  # "Feature maps" on a misclassified image

It shows the test loss and accuracy, a confusion-matrix heat map (rows: true class, columns:
predicted class, coloured by the share of the row, with counts), per-class accuracy bars and a grid of
misclassified test images with their true and predicted labels. A click on an image enlarges it beside
the grid; a click on a confusion cell shows only the images of that (true, predicted) pair.

``prepared_or_dataset`` is a ``training.data.Prepared`` or ``Dataset`` (anything with ``x_test``):
``results.misclassified`` indexes its test set; images are drawn from ``Prepared.test_images`` when
set (the images before any flattening), else from ``x_test``. Confidences come from
``results.probabilities`` (N, k).
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QIcon, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
                               QSizePolicy, QSplitter, QToolTip, QVBoxLayout, QWidget)

from visualkeras_app.results_ui.charts import BAD, GOOD, BarChart, display_images, probabilities_of, qimage

INDEX_ROLE = Qt.UserRole + 1
MAX_GRID = 300        # thumbnails built at once; the label says how many more there are
THUMB = 56            # MNIST's 28 px doubled
PREVIEW_MIN = 112     # the enlarged image's least side (MNIST's 28 px times 4)
PREVIEW_SIDE = 224    # ... and the side it gets in a Results dock a 1366x768 window has after a run (times 8)


def _blend(a: QColor, b: QColor, t: float) -> QColor:
    t = min(1.0, max(0.0, t))
    return QColor(round(a.red() + (b.red() - a.red()) * t), round(a.green() + (b.green() - a.green()) * t),
                  round(a.blue() + (b.blue() - a.blue()) * t))


class ConfusionMatrix(QWidget):
    """Heat map of a k x k confusion matrix with counts, class labels and axis titles.

    Cells are coloured by their share of the row (the true class), so that a rare class's mistakes
    show as well as a common one's; the diagonal in green, mistakes in red. ``cell_clicked(true,
    pred)`` on a click; the clicked cell stays outlined until ``select(None)``.
    """

    cell_clicked = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.matrix = np.zeros((0, 0), np.int64)
        self.names: list[str] = []
        self.selected = None
        self.setMouseTracking(True)
        # Small enough that a short dock squeezes the cells rather than clipping the last rows.
        self.setMinimumSize(150, 150)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def sizeHint(self):
        return QSize(380, 380)

    def set_matrix(self, confusion, class_names=None):
        self.matrix = np.asarray(confusion, dtype=np.int64)
        k = self.matrix.shape[0]
        self.names = [str(n) for n in class_names] if class_names is not None else [str(i) for i in range(k)]
        self.selected = None
        self.update()

    def select(self, cell):
        self.selected = cell
        self.update()

    def _short(self, i):
        """The label drawn on an axis: the name if it fits a cell, else the class index."""
        return self.names[i] if self._names_fit else str(i)

    def _layout(self):
        fm = self.fontMetrics()
        k = max(1, self.matrix.shape[0])
        widest = max((fm.horizontalAdvance(n) for n in self.names), default=0)
        side_avail = min(self.width(), self.height())
        # Long names (Fashion-MNIST's "Ankle boot") go on the left only; columns then show indices.
        left = min(widest, side_avail * 0.3) + fm.height() + 12
        top = 2 * fm.height() + 10
        cell = max(4.0, min((self.width() - left - 6) / k, (self.height() - top - 6) / k))
        self._names_fit = widest + 4 <= cell
        # Centred across a widget wider than the square needs (the dock is usually wide and short).
        self._dx = max(0.0, (self.width() - left - 6 - k * cell) / 2)
        return fm, left + self._dx, top, cell

    def _count_font(self, fm, cell):
        """The font of the counts: one size that fits the longest count in a cell (MNIST's diagonal has four
        digits), not smaller than 5 pt."""
        small = QFont(self.font())
        digits = max(3, len(str(int(self.matrix.max()))) if self.matrix.size else 3)
        need = fm.horizontalAdvance("0" * digits) + 4
        if cell < need and small.pointSizeF() > 0:
            small.setPointSizeF(max(5.0, small.pointSizeF() * cell / need))
        return small, QFontMetrics(small)

    def _count_fits(self, i, j, sfm, cell):
        """Whether cell (i, j) shows its count: not zero, and it fits (else it is left to the tooltip)."""
        n = int(self.matrix[i, j])
        return bool(n) and cell >= 10 and sfm.horizontalAdvance(str(n)) + 2 <= cell

    def shown_counts(self):
        """The cells whose count is drawn at the current size, as a boolean matrix."""
        fm, _left, _top, cell = self._layout()
        _small, sfm = self._count_font(fm, cell)
        k = self.matrix.shape[0]
        return np.array([[self._count_fits(i, j, sfm, cell) for j in range(k)] for i in range(k)], dtype=bool)

    def paintEvent(self, _ev):
        p = QPainter(self)
        pal = self.palette()
        text = pal.color(QPalette.WindowText)
        k = self.matrix.shape[0]
        if k == 0:
            p.setPen(pal.color(QPalette.PlaceholderText))
            p.drawText(self.rect(), Qt.AlignCenter, "No results yet: train a model")
            return
        fm, left, top, cell = self._layout()
        rows = self.matrix.sum(axis=1, keepdims=True).astype(np.float64)
        share = self.matrix / np.maximum(rows, 1.0)
        base = pal.color(QPalette.Base)
        small, sfm = self._count_font(fm, cell)
        p.setFont(small)
        for i in range(k):
            for j in range(k):
                r = QRectF(left + j * cell, top + i * cell, cell, cell)
                s = float(share[i, j])
                # sqrt lifts the few-percent mistakes off white without washing out the diagonal.
                color = _blend(base, GOOD if i == j else BAD, s ** 0.5 if s > 0 else 0.0)
                p.fillRect(r, color)
                if self._count_fits(i, j, sfm, cell):
                    p.setPen(QColor(255, 255, 255) if s > 0.35 else text)
                    p.drawText(r, Qt.AlignCenter, str(int(self.matrix[i, j])))
        p.setFont(self.font())
        grid = QColor(text)
        grid.setAlpha(35)
        p.setPen(QPen(grid, 1))
        for i in range(k + 1):
            p.drawLine(QPointF(left, top + i * cell), QPointF(left + k * cell, top + i * cell))
            p.drawLine(QPointF(left + i * cell, top), QPointF(left + i * cell, top + k * cell))
        p.setPen(text)
        dx = self._dx
        for i in range(k):
            p.drawText(QRectF(dx + fm.height() + 4, top + i * cell, left - dx - fm.height() - 8, cell),
                       Qt.AlignRight | Qt.AlignVCenter, self.names[i] if left - dx > fm.height() + 20 else str(i))
            p.drawText(QRectF(left + i * cell, top - fm.height() - 4, cell, fm.height()),
                       Qt.AlignHCenter | Qt.AlignBottom, self._short(i))
        p.drawText(QRectF(left, 0, k * cell, fm.height() + 2), Qt.AlignHCenter | Qt.AlignTop, "Predicted")
        p.save()
        p.translate(dx, top + k * cell / 2)
        p.rotate(-90)
        p.drawText(QRectF(-k * cell / 2, 0, k * cell, fm.height() + 2), Qt.AlignHCenter | Qt.AlignTop, "True")
        p.restore()
        if self.selected is not None:
            i, j = self.selected
            p.setPen(QPen(pal.color(QPalette.Highlight), 3))
            p.setBrush(Qt.NoBrush)
            p.drawRect(QRectF(left + j * cell, top + i * cell, cell, cell).adjusted(1, 1, -1, -1))

    def cell_at(self, pos):
        k = self.matrix.shape[0]
        if k == 0:
            return None
        _, left, top, cell = self._layout()
        j, i = int((pos.x() - left) // cell), int((pos.y() - top) // cell)
        return (i, j) if 0 <= i < k and 0 <= j < k else None

    def cell_center(self, i, j) -> QPointF:
        """Where cell (true ``i``, predicted ``j``) is drawn (for tests and tooltips)."""
        _, left, top, cell = self._layout()
        return QPointF(left + (j + 0.5) * cell, top + (i + 0.5) * cell)

    def mouseMoveEvent(self, ev):
        c = self.cell_at(ev.position())
        if c is None:
            QToolTip.hideText()
            return
        i, j = c
        n, row = int(self.matrix[i, j]), int(self.matrix[i].sum())
        what = "right" if i == j else f"predicted {self.names[j]}"
        QToolTip.showText(ev.globalPosition().toPoint(),
                          f"True {self.names[i]}, {what}: {n} of {row} ({100 * n / max(row, 1):.1f}%)", self)

    def mousePressEvent(self, ev):
        c = self.cell_at(ev.position())
        if c is not None and ev.button() == Qt.LeftButton:
            self.select(c)
            self.cell_clicked.emit(*c)


class ImagePreview(QWidget):
    """One test image, large, with its true and predicted labels (the "enlarged" misclassified image)."""

    feature_maps_requested = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.index = None
        self._image = None
        self.image = QLabel(self)
        self.image.setAlignment(Qt.AlignCenter)
        # Small enough not to hold the Results dock (and the window) tall; the dock is given the room for
        # PREVIEW_SIDE after a run (TrainingDocks._make_room_for_results).
        self.image.setMinimumSize(PREVIEW_MIN, PREVIEW_MIN)
        # The pixmap follows the label's size; without Ignored it would hold the label at its size.
        self.image.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Ignored)
        self.caption = QLabel(self)
        self.caption.setAlignment(Qt.AlignCenter)
        self.caption.setWordWrap(True)
        self.caption.setMinimumHeight(2 * self.caption.fontMetrics().lineSpacing() + 4)
        self.button = QPushButton("Show feature maps", self)
        self.button.setToolTip("What each layer outputs for this image (the Feature maps tab)")
        self.button.clicked.connect(lambda: self.index is not None and self.feature_maps_requested.emit(self.index))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 0, 2, 0)
        lay.setSpacing(2)
        lay.addWidget(self.image, 1)
        lay.addWidget(self.caption)
        lay.addWidget(self.button)
        self.show_image(None)

    def show_image(self, index, x=None, caption=""):
        self.index = index
        self.button.setEnabled(index is not None)
        if index is None:
            self.image.setPixmap(QPixmap())
            self.image.setText("Click an image\nto enlarge it")
            self.caption.setText("")
            return
        self._image = qimage(x)
        self.caption.setText(caption)
        self._scale_image()

    def _scale_image(self):
        if self.index is None or self._image is None:
            return
        # As large as the space allows, in whole pixels per image pixel (crisp, like the grid).
        side = max(28, min(self.image.width(), self.image.height(), 28 * 10))
        factor = max(1, side // max(self._image.width(), self._image.height()))
        self.image.setPixmap(QPixmap.fromImage(self._image).scaled(self._image.width() * factor,
                                                                   self._image.height() * factor,
                                                                   Qt.KeepAspectRatio, Qt.FastTransformation))

    def resizeEvent(self, ev):
        super().resizeEvent(ev)
        self._scale_image()


class ResultsView(QWidget):
    """Test loss and accuracy, confusion matrix, per-class accuracy and the misclassified images.

    Signals:
        image_chosen(int): the user asked for the feature maps of test image ``index``.
    """

    image_chosen = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = None
        self.data = None
        self.class_names: list[str] = []
        self.results = None
        self._filter = None

        self.summary = QLabel("No results yet: train a model to see how it does on the test set.", self)
        self.summary.setTextFormat(Qt.RichText)
        self.summary.setWordWrap(True)
        self.note = QLabel(self)  # advice about the results (e.g. a short run of a BatchNorm model)
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.note.setStyleSheet("QLabel{background:#FFF4D6;color:#5C4300;border:1px solid #E8C872;"
                                "border-radius:3px;padding:4px}")
        self.note.hide()
        self.matrix = ConfusionMatrix(self)
        self.matrix.setToolTip("")
        self.per_class = BarChart(self)
        self.grid_label = QLabel("Misclassified test images", self)
        self.show_all = QPushButton("Show all", self)
        self.show_all.setVisible(False)
        self.grid = QListWidget(self)
        self.grid.setViewMode(QListWidget.IconMode)
        self.grid.setIconSize(QSize(THUMB, THUMB))
        self.grid.setGridSize(QSize(THUMB + 24, THUMB + 22))
        self.grid.setResizeMode(QListWidget.Adjust)
        self.grid.setMovement(QListWidget.Static)
        self.grid.setUniformItemSizes(True)
        self.grid.setSelectionMode(QAbstractItemView.SingleSelection)
        self.grid.setWordWrap(False)
        self.preview = ImagePreview(self)

        top = QSplitter(Qt.Horizontal, self)
        top.addWidget(self.matrix)
        top.addWidget(self.per_class)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        bottom = QWidget(self)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.grid_label, 1)
        head.addWidget(self.show_all)
        blay = QVBoxLayout(bottom)
        blay.setContentsMargins(0, 0, 0, 0)
        blay.addLayout(head)
        blay.addWidget(self.grid, 1)
        split = QSplitter(Qt.Vertical, self)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self._split = split
        self._user_split = False  # the user moved the handle: keep their split
        split.splitterMoved.connect(lambda *_: setattr(self, "_user_split", True))
        # The enlarged image beside the rest, the whole height: at least 224 px (8 screen pixels per MNIST
        # pixel) even in a dock a 1366x768 screen leaves, where under the thumbnails it got under 150.
        row = QSplitter(Qt.Horizontal, self)
        row.addWidget(split)
        row.addWidget(self.preview)
        row.setStretchFactor(0, 3)
        row.setStretchFactor(1, 1)
        row.setCollapsible(1, False)
        self._row = row
        self._user_row = False
        row.splitterMoved.connect(lambda *_: setattr(self, "_user_row", True))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.summary)
        lay.addWidget(self.note)
        lay.addWidget(row, 1)

        self.matrix.cell_clicked.connect(self._on_cell)
        self.show_all.clicked.connect(lambda: self.set_filter(None))
        self.grid.currentItemChanged.connect(lambda item, _old: self._enlarge(item))
        self.grid.itemDoubleClicked.connect(lambda item: self.image_chosen.emit(item.data(INDEX_ROLE)))
        self.preview.feature_maps_requested.connect(self.image_chosen)

    def resizeEvent(self, ev):
        super().resizeEvent(ev)
        h = self._split.height()
        if not self._user_split and h > 0:
            # The matrix is a square as tall as its half, and its counts need cells of 20 px or more: the
            # larger share goes to it (the splitter's own split follows the size hints, about half).
            self._split.setSizes([int(h * 0.68), h - int(h * 0.68)])
        w = self._row.width()
        if not self._user_row and w > 0:
            # The enlarged image gets PREVIEW_SIDE (8 px per MNIST pixel) when the matrix keeps its least width.
            side = PREVIEW_SIDE + 12
            if w - side < self._split.minimumSizeHint().width():
                side = max(self.preview.minimumSizeHint().width(), w // 3)
            self._row.setSizes([w - side, side])

    # -- API ------------------------------------------------------------------------------------

    def set_model(self, model, prepared_or_dataset, class_names):
        """The model and the data its results refer to (``x_test`` holds the images shown)."""
        self.model = model
        self.data = prepared_or_dataset
        self.class_names = [str(c) for c in class_names] if class_names is not None else []

    def evaluate(self):
        """Compute the results of the model set with ``set_model`` and show them (blocking: seconds
        for MNIST's 10,000 test images on a CPU). Returns the ``Results``."""
        from visualkeras_app.training.results import evaluate_results

        if self.model is None or self.data is None:
            raise RuntimeError("ResultsView.evaluate() needs set_model(model, prepared, class_names) first.")
        results = evaluate_results(self.model, self.data, self.class_names)
        self.set_results(results)
        return results

    def set_results(self, results):
        """Show ``results`` (test_loss, test_accuracy, confusion, per_class_accuracy, misclassified,
        predictions); None clears. A note from `set_note` belongs to the previous results and goes."""
        self.results = results
        self._filter = None
        self.set_note(None)
        self.matrix.select(None)
        if results is None:
            self.clear()
            return
        confusion = np.asarray(results.confusion)
        k = confusion.shape[0]
        if len(self.class_names) != k and len(getattr(results, "class_names", None) or []) == k:
            self.class_names = [str(c) for c in results.class_names]
        if len(self.class_names) != k:
            self.class_names = [str(i) for i in range(k)]
        total = int(confusion.sum())
        wrong = len(results.misclassified)
        loss = getattr(results, "test_loss", None)
        loss_text = f"&nbsp;&nbsp;&nbsp; Test loss <b>{loss:.4f}</b>" if loss is not None else ""
        self.summary.setText(
            f"<span style='font-size:14pt'>Test accuracy <b>{100 * results.test_accuracy:.2f}%</b></span>"
            f"{loss_text}&nbsp;&nbsp;&nbsp; {wrong:,} of {total:,} test images misclassified")
        self.matrix.set_matrix(confusion, self.class_names)
        acc = np.asarray(results.per_class_accuracy, dtype=np.float32)
        colors = [_blend(BAD, GOOD, (a - 0.5) * 2) if np.isfinite(a) else QColor(160, 160, 160) for a in acc]
        self.per_class.set_values(acc, self.class_names, colors=colors,
                                  title="Accuracy per class")
        self._fill_grid()

    def set_note(self, text):
        """Show ``text`` under the test accuracy (why it is low, what to try); None or "" hides it."""
        self.note.setText(text or "")
        self.note.setVisible(bool(text))

    def note_text(self) -> str:
        return self.note.text() if not self.note.isHidden() else ""

    def clear(self):
        self.results = None
        self._filter = None
        self.set_note(None)
        self.summary.setText("No results yet: train a model to see how it does on the test set.")
        self.matrix.set_matrix(np.zeros((0, 0)), [])
        self.per_class.clear()
        self.grid.clear()
        self.grid_label.setText("Misclassified test images")
        self.show_all.setVisible(False)
        self.preview.show_image(None)

    def set_filter(self, cell):
        """Show only the misclassified images of confusion cell ``(true, pred)``; None shows all."""
        self._filter = cell
        self.matrix.select(cell)
        self._fill_grid()

    def shown_indices(self) -> list[int]:
        """Test-set indices of the thumbnails in the grid, in order."""
        return [self.grid.item(i).data(INDEX_ROLE) for i in range(self.grid.count())]

    # -- internals ------------------------------------------------------------------------------

    def _on_cell(self, i, j):
        self.set_filter(None if i == j else (i, j))

    def _rows(self):
        rows = [(int(a), int(t), int(p)) for a, t, p in self.results.misclassified]
        if self._filter is not None:
            rows = [r for r in rows if (r[1], r[2]) == self._filter]
        return rows

    def _confidence(self, index, pred):
        probs = probabilities_of(self.results)
        if probs is not None and index < probs.shape[0] and pred < probs.shape[1]:
            return float(probs[index, pred])
        return None

    def _name(self, c):
        return self.class_names[c] if 0 <= c < len(self.class_names) else str(c)

    def _fill_grid(self):
        self.grid.clear()
        self.preview.show_image(None)
        rows = self._rows()
        x_test = display_images(self.data)
        shown = rows[:MAX_GRID]
        self.grid.setUpdatesEnabled(False)
        fm = self.grid.fontMetrics()
        widest = max((fm.horizontalAdvance(n) for n in self.class_names), default=0)
        two_lines = widest > fm.horizontalAdvance("00")
        # Long class names (Fashion-MNIST's) go on two lines under the image instead of being cut.
        self.grid.setGridSize(QSize(max(THUMB + 24, fm.horizontalAdvance("→ ") + widest + 10),
                                    THUMB + 10 + fm.lineSpacing() * (2 if two_lines else 1)))
        for index, true, pred in shown:
            sep = "\n→ " if two_lines else " → "
            item = QListWidgetItem(f"{self._name(true)}{sep}{self._name(pred)}")
            item.setData(INDEX_ROLE, index)
            item.setTextAlignment(Qt.AlignHCenter)
            conf = self._confidence(index, pred)
            tip = f"Test image {index}: true {self._name(true)}, predicted {self._name(pred)}"
            item.setToolTip(tip + (f" ({100 * conf:.0f}%)" if conf is not None else ""))
            if x_test is not None:
                pix = QPixmap.fromImage(qimage(x_test[index])).scaled(THUMB, THUMB, Qt.KeepAspectRatio,
                                                                       Qt.SmoothTransformation)
                item.setIcon(QIcon(pix))
            self.grid.addItem(item)
        self.grid.setUpdatesEnabled(True)
        if self._filter is None:
            what = "Misclassified test images"
        else:
            what = f"True {self._name(self._filter[0])}, predicted {self._name(self._filter[1])}"
        more = f" (showing the first {MAX_GRID})" if len(rows) > MAX_GRID else ""
        self.grid_label.setText(f"{what}: {len(rows):,}{more}. Click one to enlarge it.")
        self.show_all.setVisible(self._filter is not None)

    def _enlarge(self, item):
        if item is None or self.results is None:
            self.preview.show_image(None)
            return
        index = item.data(INDEX_ROLE)
        row = next((r for r in self.results.misclassified if int(r[0]) == index), None)
        if row is None:
            return
        _, true, pred = (int(v) for v in row)
        conf = self._confidence(index, pred)
        caption = (f"Test image {index}<br>True: <b>{self._name(true)}</b><br>"
                   f"Predicted: <b style='color:{BAD.name()}'>{self._name(pred)}</b>"
                   + (f" ({100 * conf:.0f}%)" if conf is not None else ""))
        x_test = display_images(self.data)
        if x_test is None:
            self.preview.show_image(None)
            return
        self.preview.show_image(index, x_test[index], caption)
