"""Drop image files (or a folder) onto the Results dock: the model's top-5 classes for each, with probabilities.

The reading and ranking are ``visualkeras_app.predict``'s (what ``visualkeras-app predict`` prints): each image
resized to the model's input, in its channels, scaled as training scaled it. The answers appear in a
"Predictions" tab of the Results dock, one row per image: its thumbnail and its top classes as bars.
"""
from __future__ import annotations

import os

from PySide6.QtCore import QEvent, QObject, QRectF, QSize, Qt
from PySide6.QtGui import QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget


MAX_FILES = 200  # images answered per drop (a folder of thousands would hold the window for minutes)


class TopClasses(QWidget):
    """Horizontal bars: a class name, its probability as a bar and a percentage; the first in green."""

    def __init__(self, ranked, parent=None):
        super().__init__(parent)
        self.ranked = list(ranked)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)

    def sizeHint(self):
        return QSize(260, (QFontMetrics(self.font()).height() + 2) * max(1, len(self.ranked)) + 2)

    def paintEvent(self, _ev):
        from visualkeras_app.results_ui.charts import ACCENT, GOOD  # start-up time: charts imports NumPy

        p = QPainter(self)
        fm = QFontMetrics(self.font())
        row = fm.height() + 2
        name_w = min(max((fm.horizontalAdvance(n) for n, _ in self.ranked), default=0) + 8, self.width() // 2)
        pct_w = fm.horizontalAdvance("100.0%") + 6
        bar_w = max(10, self.width() - name_w - pct_w)
        p.setPen(self.palette().color(QPalette.WindowText))
        for i, (name, prob) in enumerate(self.ranked):
            y = 1 + i * row
            p.drawText(QRectF(0, y, name_w - 6, row), Qt.AlignRight | Qt.AlignVCenter,
                       fm.elidedText(name, Qt.ElideMiddle, name_w - 6))
            p.fillRect(QRectF(name_w, y + 2, max(1.0, bar_w * prob), row - 4), GOOD if i == 0 else ACCENT)
            p.drawText(QRectF(name_w + bar_w * prob + 3, y, pct_w, row), Qt.AlignLeft | Qt.AlignVCenter,
                       f"{prob * 100:.1f}%")


class PredictionsView(QWidget):
    """One row per dropped image: thumbnail, file name, top classes (or why the file could not be read)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        self.note = QLabel("Drop image files or a folder here to see the model's top-5 classes for each.")
        self.note.setWordWrap(True)
        outer.addWidget(self.note)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.body = QWidget()
        self.grid = QGridLayout(self.body)
        self.grid.setAlignment(Qt.AlignTop)
        self.scroll.setWidget(self.body)
        outer.addWidget(self.scroll, 1)
        self.results = []

    def set_results(self, results, note=""):
        from visualkeras_app.data_ui.preview import thumbnail  # start-up time: preview imports NumPy

        while self.grid.count():
            w = self.grid.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self.results = list(results)
        for r, (path, ranked, why) in enumerate(self.results):
            image = QLabel()
            image.setPixmap(thumbnail(path, 64))
            image.setFixedSize(68, 68)
            image.setAlignment(Qt.AlignCenter)
            self.grid.addWidget(image, r, 0)
            name = QLabel(os.path.basename(path))
            name.setToolTip(path)
            name.setMaximumWidth(160)
            self.grid.addWidget(name, r, 1)
            if ranked is None:
                self.grid.addWidget(QLabel(f"cannot be read: {why}"), r, 2)
            else:
                self.grid.addWidget(TopClasses(ranked), r, 2)
        self.grid.setColumnStretch(2, 1)
        self.note.setText(note)


def _local_paths(mime):
    if not mime.hasUrls():
        return []
    from visualkeras_app.predict import IMAGE_EXTENSIONS

    paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
    return [p for p in paths if os.path.isdir(p) or p.lower().endswith(IMAGE_EXTENSIONS)]


class PredictDrop(QObject):
    """Makes ``window``'s Results dock take dropped images; ``predict(paths)`` is what a drop does."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.view = None
        dock = window.training.results_dock
        dock.setAcceptDrops(True)
        dock.installEventFilter(self)
        dock.setToolTip(dock.toolTip() + "; drop images here to classify them")

    def eventFilter(self, obj, ev):
        kind = ev.type()
        if kind in (QEvent.DragEnter, QEvent.DragMove) and _local_paths(ev.mimeData()):
            ev.acceptProposedAction()
            return True
        if kind == QEvent.Drop:
            paths = _local_paths(ev.mimeData())
            if paths:
                ev.acceptProposedAction()
                self.predict(paths)
                return True
        return False

    def _view(self):
        training = self.window.training
        if training.results_tabs is None:
            self.window.start()
        tabs = training.results_tabs
        if self.view is None:
            self.view = PredictionsView()
            if tabs is not None:
                tabs.addTab(self.view, "Predictions")
        if tabs is not None:
            tabs.setCurrentWidget(self.view)
        training.results_dock.show()
        training.results_dock.raise_()
        return self.view

    def predict(self, paths):
        """Classify the images in ``paths`` (files or folders) with the canvas's model; returns the view."""
        from visualkeras_app.document.convert import ConversionError, document_to_model
        from visualkeras_app.predict import (PredictError, dataset_class_names, expand, has_trained_weights,
                                             output_units, predict_images)

        view = self._view()
        doc = self.window.controller.document
        files = expand(paths)
        more = len(files) - MAX_FILES
        files = files[:MAX_FILES]
        if not files:
            view.set_results([], "No image files (.png .jpg .jpeg .bmp .gif) in what was dropped.")
            return view
        try:
            model = document_to_model(doc)
            worker = getattr(self.window.training.panel, "worker", None)
            names = dataset_class_names(doc, output_units(model), getattr(worker, "dataset", None))
            results = predict_images(model, files, names)
        except (ConversionError, PredictError, ValueError) as e:
            view.set_results([], f"The model cannot classify these images: {e}")
            return view
        notes = [f"Top classes of {len(files)} image(s), as 'visualkeras-app predict' gives them."]
        if not has_trained_weights(doc):
            notes.append("The model holds no trained weights yet: these are an untrained model's guesses.")
        if more > 0:
            notes.append(f"{more:,} more image(s) left out: at most {MAX_FILES} per drop.")
        view.set_results(results, " ".join(notes))
        self.window.show_message(f"Classified {len(files)} image(s).")
        return view
