"""The feature-map view: what each layer of the network outputs for one test image.

API (the Results dock hosts it as a tab)::

    view = FeatureMapView(parent=None)
    view.set_model(model, prepared_or_dataset, class_names)   # test images from ``x_test``
    view.set_results(results)     # optional: enables "Next mistake" (results.misclassified)
    view.show_index(i)            # e.g. connected to ResultsView.image_chosen
    view.select_layer(name)       # one layer, larger; None: all layers
    view.sections()               # [(layer_name, class_name, kind)], kind "channels" or "bars"

For each Conv, Pooling, Activation and Dense layer (what
``visualkeras_app.training.results.feature_maps`` returns), spatial outputs (H, W, C) are drawn as a
grid of C small images, one per channel, each stretched to its own range (viridis: dark low, yellow
high), and vector outputs (units,) as bars. A spin box picks the test image; the layer picker shows
one layer alone with bigger tiles.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy, QSpinBox,
                               QVBoxLayout, QWidget)

from visualkeras_app.results_ui.charts import (BAD, GOOD, BarChart, display_images, label_indices, model_input,
                                               probabilities_of, qimage)

# Viridis at nine stops, interpolated to 256 (a perceptual map: equal steps look equal, also in gray).
_STOPS = np.array([[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
                   [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]], np.float32)
VIRIDIS = np.stack([np.interp(np.linspace(0, 8, 256), np.arange(9), _STOPS[:, c]) for c in range(3)],
                   axis=1).round().astype(np.uint8)


def channel_images(fmap) -> np.ndarray:
    """``(C, H, W, 3)`` uint8 colour images of a ``(H, W, C)`` map, each channel to its own range."""
    a = np.asarray(fmap, dtype=np.float32)
    a = np.moveaxis(a, -1, 0)                           # (C, H, W)
    lo = a.min(axis=(1, 2), keepdims=True)
    hi = a.max(axis=(1, 2), keepdims=True)
    scaled = (a - lo) / np.where(hi > lo, hi - lo, 1.0)
    return VIRIDIS[np.clip(scaled * 255 + 0.5, 0, 255).astype(np.uint8)]


def compute_feature_maps(model, image):
    """``[(layer_name, class_name, array)]`` without the batch axis, from the training core's
    ``feature_maps``."""
    from visualkeras_app.training.results import feature_maps  # here: it imports the engine (start-up time)

    return [(name, cls, np.asarray(arr)) for name, cls, arr in feature_maps(model, image)]


class ChannelGrid(QWidget):
    """The channels of one spatial output as a wrapping grid of tiles (height follows the width)."""

    def __init__(self, fmap, tile=None, parent=None):
        super().__init__(parent)
        self.images = channel_images(fmap)
        c, h, w, _ = self.images.shape
        self.map_size = (h, w)
        self.pixmaps = []
        for i in range(c):
            img = QImage(self.images[i].data, w, h, 3 * w, QImage.Format_RGB888).copy()
            self.pixmaps.append(QPixmap.fromImage(img))
        # Nearest scaling by a whole factor keeps each activation a crisp square.
        target = tile or 56
        self.scale = max(1, round(target / max(h, w)))
        self.gap = 3
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Preferred)
        self.setMouseTracking(True)

    def _tile(self):
        h, w = self.map_size
        return w * self.scale, h * self.scale

    def _columns(self, width):
        tw, _ = self._tile()
        return max(1, (width + self.gap) // (tw + self.gap))

    def resizeEvent(self, ev):
        # Rows wrap with the width; the height follows by a minimum height, which the layouts in a
        # scroll area honour (height-for-width alone is not propagated through them).
        h = self.heightForWidth(ev.size().width())
        if self.minimumHeight() != h:
            self.setMinimumHeight(h)
        super().resizeEvent(ev)

    def heightForWidth(self, width):
        _, th = self._tile()
        rows = math.ceil(len(self.pixmaps) / self._columns(width))
        return rows * (th + self.gap)

    def sizeHint(self):
        tw, _ = self._tile()
        width = min(len(self.pixmaps), 8) * (tw + self.gap)
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self):
        tw, th = self._tile()
        return QSize(tw, th)

    def tile_rect(self, i) -> QRect:
        tw, th = self._tile()
        cols = self._columns(self.width())
        return QRect((i % cols) * (tw + self.gap), (i // cols) * (th + self.gap), tw, th)

    def paintEvent(self, _ev):
        p = QPainter(self)
        for i, pix in enumerate(self.pixmaps):
            r = self.tile_rect(i)
            p.drawPixmap(r, pix)

    def mouseMoveEvent(self, ev):
        pos = ev.position().toPoint()
        for i in range(len(self.pixmaps)):
            if self.tile_rect(i).contains(pos):
                self.setToolTip(f"Channel {i}")
                return
        self.setToolTip("")


class LayerSection(QWidget):
    """A layer's title (name, type, output shape) and its output: channel tiles or bars."""

    def __init__(self, name, cls, arr, big=False, class_names=None, parent=None):
        super().__init__(parent)
        self.name, self.cls, self.array = name, cls, arr
        shape = " x ".join(str(d) for d in arr.shape)
        title = QLabel(f"<b>{name}</b> ({cls}) &nbsp; output {shape}", self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 8)
        lay.addWidget(title)
        if arr.ndim == 3:
            self.kind = "channels"
            self.body = ChannelGrid(arr, tile=112 if big else 56, parent=self)
            title.setToolTip("One image per channel (filter), each stretched to its own range: "
                             "yellow is where the filter responds most")
        else:
            self.kind = "bars"
            v = arr.reshape(-1)
            is_probs = v.size > 1 and v.min() >= 0 and abs(float(v.sum()) - 1.0) < 1e-3
            self.body = BarChart(self, fixed_range=is_probs, percent=is_probs)
            labels = class_names if is_probs and class_names is not None and len(class_names) == v.size else None
            best = int(np.argmax(v)) if is_probs else None
            self.body.set_values(v, labels, highlight=best)
            self.body.setMinimumHeight(220 if big else 130)
        lay.addWidget(self.body)


class FeatureMapView(QWidget):
    """Pick a test image and a layer; see the outputs of every convolution and dense layer."""

    image_shown = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = None
        self.data = None
        self.results = None
        self.class_names: list[str] = []
        self.maps = []
        self._layer = None

        self.index = QSpinBox(self)
        self.index.setPrefix("Test image ")
        self.index.setKeyboardTracking(False)
        self.index.setToolTip("Which test image to feed the network")
        self.next_mistake = QPushButton("Next mistake", self)
        self.next_mistake.setToolTip("The next test image the model got wrong")
        self.layer = QComboBox(self)
        self.layer.setToolTip("Show one layer alone, larger")
        self.layer.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        self.thumb = QLabel(self)
        self.thumb.setFixedSize(56, 56)
        self.caption = QLabel(self)
        self.caption.setTextFormat(Qt.RichText)
        self.caption.setWordWrap(True)

        self.content = QWidget()
        self.content_layout = QVBoxLayout(self.content)
        self.content_layout.setContentsMargins(4, 4, 4, 4)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.content)
        self.placeholder = QLabel("Train a model to see what its layers output for a test image.", self.content)
        self.placeholder.setAlignment(Qt.AlignCenter)
        self.content_layout.addWidget(self.placeholder)

        row = QHBoxLayout()
        row.addWidget(self.thumb)
        col = QVBoxLayout()
        pick = QHBoxLayout()
        pick.addWidget(self.index)
        pick.addWidget(self.next_mistake)
        pick.addWidget(QLabel("Layer:", self))
        pick.addWidget(self.layer)
        pick.addStretch(1)
        col.addLayout(pick)
        col.addWidget(self.caption)
        row.addLayout(col, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(row)
        lay.addWidget(self.scroll, 1)

        self.index.valueChanged.connect(self._refresh)
        self.layer.currentIndexChanged.connect(self._on_layer)
        self.next_mistake.clicked.connect(self._next_mistake)
        self._enable(False)

    # -- API ------------------------------------------------------------------------------------

    def set_model(self, model, prepared_or_dataset, class_names):
        """Show the layers of ``model`` for the test images in ``prepared_or_dataset.x_test``."""
        self.model = model
        self.data = prepared_or_dataset
        self.class_names = [str(c) for c in class_names] if class_names is not None else []
        n = len(getattr(prepared_or_dataset, "x_test", ())) if prepared_or_dataset is not None else 0
        self._enable(model is not None and n > 0)
        self.index.blockSignals(True)
        self.index.setRange(0, max(0, n - 1))
        self.index.blockSignals(False)
        self._refresh()

    def set_results(self, results):
        """Results of the same model: "Next mistake" walks through ``results.misclassified``."""
        self.results = results
        self.next_mistake.setEnabled(self.model is not None and results is not None
                                     and len(results.misclassified) > 0)

    def show_index(self, i):
        """Show test image ``i`` (clamped to the test set)."""
        if self.index.value() == i:
            self._refresh()
        else:
            self.index.setValue(int(i))

    def current_index(self) -> int:
        return self.index.value()

    def select_layer(self, name):
        """Show only layer ``name`` (larger); None shows all layers."""
        i = self.layer.findData(name) if name is not None else 0
        self.layer.setCurrentIndex(max(0, i))

    def sections(self):
        """``[(layer_name, class_name, kind)]`` shown now; kind is "channels" or "bars"."""
        out = []
        for i in range(self.content_layout.count()):
            w = self.content_layout.itemAt(i).widget()
            if isinstance(w, LayerSection):
                out.append((w.name, w.cls, w.kind))
        return out

    # -- internals ------------------------------------------------------------------------------

    def _enable(self, on):
        self.index.setEnabled(on)
        self.layer.setEnabled(on)
        self.next_mistake.setEnabled(on and self.results is not None and len(self.results.misclassified) > 0)

    def _name(self, c):
        return self.class_names[c] if 0 <= c < len(self.class_names) else str(c)

    def _next_mistake(self):
        if self.results is None or not len(self.results.misclassified):
            return
        indices = sorted(int(r[0]) for r in self.results.misclassified)
        cur = self.index.value()
        nxt = next((i for i in indices if i > cur), indices[0])
        self.show_index(nxt)

    def _on_layer(self, _i):
        self._layer = self.layer.currentData()
        self._build_sections()

    def _refresh(self, *_):
        if self.model is None or self.data is None or not len(getattr(self.data, "x_test", ())):
            self.maps = []
            self.thumb.clear()
            self.caption.setText("")
            self._build_sections()
            return
        i = self.index.value()
        x = self.data.x_test[i]
        shown = display_images(self.data)[i]
        self.thumb.setPixmap(QPixmap.fromImage(qimage(shown)).scaled(56, 56, Qt.KeepAspectRatio,
                                                                    Qt.SmoothTransformation))
        sample = model_input(self.model, x)[0]
        self.maps = compute_feature_maps(self.model, sample)
        self._caption(i, sample)
        self._fill_layer_picker()
        self._build_sections()
        self.image_shown.emit(i)

    def _caption(self, i, sample):
        labels = label_indices(self.data)
        true = int(labels[i]) if labels is not None else None
        probs = None
        all_probs = probabilities_of(self.results)
        if all_probs is not None and i < len(all_probs):
            probs = all_probs[i]
        elif self.maps and self.maps[-1][2].ndim == 1:
            probs = self.maps[-1][2]
        parts = []
        if true is not None:
            parts.append(f"True: <b>{self._name(true)}</b>")
        if probs is not None and probs.size > 1:
            pred = int(np.argmax(probs))
            color = GOOD if true is None or pred == true else BAD
            parts.append(f"Predicted: <b style='color:{color.name()}'>{self._name(pred)}</b> "
                         f"({100 * float(probs[pred]):.0f}%)")
        self.caption.setText(" &nbsp; ".join(parts))

    def _fill_layer_picker(self):
        names = [name for name, _, _ in self.maps]
        current = [self.layer.itemData(i) for i in range(1, self.layer.count())]
        if names == current:
            return
        self.layer.blockSignals(True)
        self.layer.clear()
        self.layer.addItem("All layers", None)
        for name, cls, arr in self.maps:
            self.layer.addItem(f"{name} ({cls}) {'x'.join(str(d) for d in arr.shape)}", name)
        i = self.layer.findData(self._layer) if self._layer is not None else 0
        self.layer.setCurrentIndex(max(0, i))
        self._layer = self.layer.currentData()
        self.layer.blockSignals(False)

    def _build_sections(self):
        value = self.scroll.verticalScrollBar().value()
        while self.content_layout.count():
            w = self.content_layout.takeAt(0).widget()
            if w is not None and w is not self.placeholder:
                # Hidden and unparented now: deleteLater alone leaves it painted until the event loop
                # runs again.
                w.hide()
                w.setParent(None)
                w.deleteLater()
        if not self.maps:
            self.placeholder.show()
            self.content_layout.addWidget(self.placeholder)
            return
        self.placeholder.hide()
        big = self._layer is not None
        for name, cls, arr in self.maps:
            if self._layer is not None and name != self._layer:
                continue
            if arr.ndim not in (1, 3):   # e.g. Conv1D's (steps, channels): shown flat as bars
                arr = arr.reshape(-1)
            self.content_layout.addWidget(LayerSection(name, cls, arr, big=big, class_names=self.class_names,
                                                       parent=self.content))
        self.content_layout.addStretch(1)
        # Keep the place while stepping through images, so one layer can be watched change.
        # (after the layout has grown to its new height, hence the timer).
        QTimer.singleShot(0, lambda: self.scroll.verticalScrollBar().setValue(value))
