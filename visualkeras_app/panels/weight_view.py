"""The Inspector's weight view (as Netron shows a tensor): for each trained weight of the selected layer, its name,
shape and size, min/max/mean/std, and a histogram of its values; after a run in the app, the same for each
weight's gradient on a batch of training data ("∇ kernel").

Statistics are over every value; the histogram of a weight over ``HIST_SAMPLE`` values uses an even sample of
them (a 25-million-value kernel is summarized in milliseconds). NaN and infinite values are counted and left out
of the statistics, which say so.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

BINS = 40
HIST_SAMPLE = 1_000_000
BAR = QColor(25, 118, 210)
GRAD_BAR = QColor(216, 67, 21)

# Weight names in the order the engine (as Keras) keeps them, for the common layers; others read "weight i".
_NAMES = {
    "Dense": ("kernel", "bias"), "EinsumDense": ("kernel", "bias"), "Embedding": ("embeddings",),
    "LSTM": ("kernel", "recurrent_kernel", "bias"), "GRU": ("kernel", "recurrent_kernel", "bias"),
    "SimpleRNN": ("kernel", "recurrent_kernel", "bias"),
    "DepthwiseConv1D": ("depthwise_kernel", "bias"), "DepthwiseConv2D": ("depthwise_kernel", "bias"),
    "SeparableConv1D": ("depthwise_kernel", "pointwise_kernel", "bias"),
    "SeparableConv2D": ("depthwise_kernel", "pointwise_kernel", "bias"),
    "PReLU": ("alpha",),
}


def weight_names(class_name, config, count) -> list:
    """Names for a layer's ``count`` weights: Keras's where known ("kernel", "bias", "gamma"...)."""
    config = config or {}
    if class_name in ("BatchNormalization", "LayerNormalization", "GroupNormalization"):
        names = (["gamma"] if config.get("scale", True) else []) + (["beta"] if config.get("center", True) else [])
        if class_name == "BatchNormalization":
            names += ["moving_mean", "moving_variance"]
    elif class_name.startswith("Conv") and "LSTM" not in class_name:
        names = ["kernel", "bias"]
    else:
        names = list(_NAMES.get(class_name, ()))
    return names[:count] if len(names) >= count else names + [f"weight {i}" for i in range(len(names), count)]


def weight_stats(array) -> dict:
    """``shape``, ``size``, ``min``, ``max``, ``mean``, ``std`` (over the finite values), ``nonfinite`` (how many
    are NaN or infinite), and the histogram ``counts`` and bin ``edges`` (None when there is nothing finite)."""
    a = np.asarray(array)
    flat = a.reshape(-1)
    if flat.dtype.kind not in "fiub":
        raise ValueError(f"a weight of dtype {flat.dtype} has no statistics")
    flat = flat.astype(np.float64, copy=False)
    finite = np.isfinite(flat)
    nonfinite = int(flat.size - np.count_nonzero(finite))
    values = flat[finite] if nonfinite else flat
    out = {"shape": tuple(a.shape), "size": int(a.size), "nonfinite": nonfinite, "counts": None, "edges": None}
    if not values.size:
        out.update(min=math.nan, max=math.nan, mean=math.nan, std=math.nan)
        return out
    out.update(min=float(values.min()), max=float(values.max()), mean=float(values.mean()),
               std=float(values.std()))
    sample = values[::max(1, values.size // HIST_SAMPLE)]
    lo, hi = out["min"], out["max"]
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(sample, bins=BINS, range=(lo, hi))
    out["counts"], out["edges"] = counts, edges
    return out


def gradients_for(weights, gradients):
    """``gradients`` when they belong to ``weights`` (one per weight, each None or of the weight's shape), else
    None: gradients of a run are dropped once the layer's weights change shape."""
    if not gradients or len(gradients) != len(weights):
        return None
    if any(g is not None and tuple(np.shape(g)) != tuple(np.shape(w)) for g, w in zip(gradients, weights)):
        return None
    return list(gradients)


class Histogram(QWidget):
    """Bars of a histogram with the range under them."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.counts = None
        self.edges = None
        self.color = BAR
        self.setMinimumHeight(54)
        self.setSizePolicy(self.sizePolicy().horizontalPolicy(), self.sizePolicy().verticalPolicy())

    def sizeHint(self):
        return QSize(200, 60)

    def set_color(self, color):
        self.color = QColor(color)
        self.update()

    def set_data(self, counts, edges):
        self.counts, self.edges = counts, edges
        self.update()

    def paintEvent(self, _ev):
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(250, 250, 250))
        if self.counts is None or not len(self.counts) or self.counts.max() == 0:
            p.end()
            return
        w, h = self.width(), self.height() - 14
        top = float(self.counts.max())
        bw = w / len(self.counts)
        p.setPen(Qt.NoPen)
        p.setBrush(self.color)
        for i, c in enumerate(self.counts.tolist()):
            bh = (h - 2) * c / top
            if bh > 0:
                p.drawRect(QRectF(i * bw, h - bh, max(bw - 1, 1), bh))
        p.setPen(QPen(QColor(90, 90, 90)))
        font = p.font()
        font.setPointSizeF(max(font.pointSizeF() * 0.8, 6))
        p.setFont(font)
        p.drawText(QRectF(0, h, w, 14), Qt.AlignLeft | Qt.AlignVCenter, f"{self.edges[0]:.3g}")
        p.drawText(QRectF(0, h, w, 14), Qt.AlignRight | Qt.AlignVCenter, f"{self.edges[-1]:.3g}")
        if self.edges[0] < 0 < self.edges[-1]:  # where zero is
            x = w * (0 - self.edges[0]) / (self.edges[-1] - self.edges[0])
            p.setPen(QPen(QColor(200, 80, 60), 1, Qt.DashLine))
            p.drawLine(int(x), 0, int(x), int(h))
        p.end()


class WeightView(QWidget):
    """The trained weights of one layer, one section per weight; hidden when the layer has none."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._lay = QVBoxLayout(self)
        self._lay.setContentsMargins(0, 4, 0, 0)
        self._lay.setSpacing(2)
        self.title = QLabel("<b>Weights</b>")
        self._lay.addWidget(self.title)
        self.sections = []  # (name, QLabel, Histogram)
        self.stats = []
        self._key = None
        self.hide()

    def clear(self):
        for _name, label, hist in self.sections:
            label.deleteLater()
            hist.deleteLater()
        self.sections, self.stats = [], []
        self.hide()

    def set_weights(self, names, arrays, gradients=None):
        """Show ``arrays`` (a layer's weights, in order) under ``names``, then the ``gradients`` (one per weight,
        None where a weight has none) under "∇ name"; empty or None hides the view."""
        self.clear()
        if not arrays:
            return
        entries = list(zip(names, arrays))
        if gradients:
            entries += [(f"∇ {name}", g) for name, g in zip(names, gradients) if g is not None]
        for name, array in entries:
            try:
                st = weight_stats(array)
            except ValueError as exc:
                label = QLabel(f"<code><b>{name}</b></code>: {exc}")
                self._lay.addWidget(label)
                self.sections.append((name, label, Histogram(self)))
                continue
            shape = "×".join(str(d) for d in st["shape"]) or "scalar"
            text = (f"<code><b>{name}</b></code> &nbsp;{shape} &nbsp;<span style='color:#777'>"
                    f"({st['size']:,} values)</span><br><span style='color:#444'>min {st['min']:.4g} · max "
                    f"{st['max']:.4g} · mean {st['mean']:.4g} · std {st['std']:.4g}</span>")
            if st["nonfinite"]:
                text += (f"<br><span style='color:#b02020'>{st['nonfinite']:,} values are NaN or infinite (left out "
                         "of the statistics): the training diverged</span>")
            label = QLabel(text)
            label.setTextFormat(Qt.RichText)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextSelectableByMouse)
            hist = Histogram(self)
            hist.set_data(st["counts"], st["edges"])
            grad = name.startswith("∇")
            hist.set_color(GRAD_BAR if grad else BAR)
            hist.setToolTip(f"Histogram of the {st['size']:,} values of "
                            + (f"the gradient of the loss with respect to {name[2:]}, on a batch of training data "
                               "after the run" if grad else name) + f", {BINS} bins"
                            + (" (an even sample of them)" if st["size"] > HIST_SAMPLE else ""))
            self._lay.addWidget(label)
            self._lay.addWidget(hist)
            self.sections.append((name, label, hist))
            self.stats.append(st)
        self.show()

    def set_node(self, node):
        """Show the trained weights of a document ``node`` (none: hidden). The same weights of the same layer
        are not summarized again (the Inspector refreshes after every edit)."""
        weights = getattr(node, "weights", None) if node is not None else None
        grads = getattr(node, "gradients", None) if node is not None else None
        key = (id(node), id(weights), id(grads), getattr(node, "class_name", None))
        if key == self._key:
            return
        self._key = key
        if not weights:
            self.clear()
            return
        names = weight_names(node.class_name, node.config, len(weights))
        self.set_weights(names, weights, gradients_for(weights, grads))

    def gradient_names(self) -> list:
        return [name for name, _l, _h in self.sections if name.startswith("∇")]

    def names(self) -> list:
        return [name for name, _l, _h in self.sections]
