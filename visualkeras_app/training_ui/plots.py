"""Live loss and accuracy plots (pyqtgraph): per batch (raw, faint, and an EMA-smoothed line) and per epoch
(train and validation), with other runs overlaid for comparison.

Memory stays bounded over any run length: each curve is a `BatchCurve` (the run record's): at most
``max_points`` buckets, neighbours merged pairwise with min/max/mean when full. The raw line is drawn as the
min/max envelope, so a loss spike in the millionth batch still shows. Drawing uses pyqtgraph's clip-to-view and peak downsampling.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

RAW_COLOR = (120, 144, 156, 110)
EMA_COLORS = {"loss": (216, 67, 21), "accuracy": (25, 118, 210)}
TRAIN_EPOCH = (56, 142, 60)
VAL_EPOCH = (142, 36, 170)
OVERLAY_COLORS = [(0, 150, 136), (255, 160, 0), (121, 85, 72), (233, 30, 99), (63, 81, 181), (139, 195, 74)]


class LiveCurve:
    """One plotted per-batch series over the run record's `BatchCurve` (min/max/mean buckets, bounded).

    Args:
        max_points: most buckets kept (the curve merges neighbours and doubles its stride when full).
        smoothing: EMA weight of the past for the smoothed line.
    """

    def __init__(self, max_points=4000, smoothing=0.95):
        from visualkeras_app.training.runs import BatchCurve

        if max_points < 4:
            raise ValueError(f"max_points must be at least 4. Received: max_points={max_points}")
        self._make = lambda: BatchCurve(("v",), max_points=int(max_points) + int(max_points) % 2,
                                        smoothing=smoothing)
        self.curve = self._make()

    def clear(self):
        self.curve = self._make()

    @property
    def count(self):
        """Points ever appended."""
        return self.curve.total

    @property
    def stride(self):
        return self.curve.stride

    def __len__(self):
        return len(self.curve)

    def extend(self, x, y):
        """Append points; NaN/inf values are skipped (a model without that metric, a diverged batch)."""
        y = np.asarray(y, dtype=np.float64)
        keep = np.isfinite(y)
        append = self.curve.append
        for step, v in zip(np.asarray(x)[keep].tolist(), y[keep].tolist()):
            append(step, v)

    def x(self):
        return self.curve.steps()

    def ema(self):
        return self.curve.smoothed("v")

    def envelope(self):
        """The raw values as a zigzag between each bucket's min and max (x repeated), so spikes stay visible."""
        c = self.curve
        return np.repeat(c.steps(), 2), np.column_stack((c.min("v"), c.max("v"))).ravel()


def record_curve(record, key):
    """(steps, smoothed values) of a run record's `BatchCurve` for ``key``, or None when it has none."""
    curve = getattr(record, "batches", None)
    if curve is None or key not in getattr(curve, "keys", ()) or not len(curve):
        return None
    return np.asarray(curve.steps(), float), np.asarray(curve.smoothed(key), float)


def _plot(ylabel):
    w = pg.PlotWidget()
    w.setBackground("w")
    item = w.getPlotItem()
    # No title: the axis names the plot, and a dock a quarter of the window tall needs the height for data.
    item.showGrid(x=True, y=True, alpha=0.15)
    item.setLabel("bottom", "batch")
    item.setLabel("left", ylabel)
    item.getAxis("left").enableAutoSIPrefix(False)  # accuracy 0.2-0.6 read "x0.001" with pyqtgraph's prefix
    item.setClipToView(True)
    item.setDownsampling(auto=True, mode="peak")
    w.setMinimumHeight(80)
    return w


class TrainingPlots(QWidget):
    """Two live plots, loss and accuracy, for the run in progress plus overlaid past runs.

    Args:
        max_points: stored points per batch curve (see `LiveCurve`).
        smoothing: EMA weight of the smoothed line.
    """

    KEYS = ("loss", "accuracy")

    def __init__(self, max_points=4000, smoothing=0.95, parent=None):
        super().__init__(parent)
        pg.setConfigOptions(antialias=False, foreground="#444")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(1)
        lay = QHBoxLayout()
        lay.setSpacing(4)
        outer.addLayout(lay, 1)
        # One legend line for both plots: a legend inside a 120 px tall plot hides the curves.
        self.legend = QLabel(_legend_html())
        self.legend.setAlignment(Qt.AlignCenter)
        self.legend.setWordWrap(True)  # a one-line label would set the dock's minimum width
        outer.addWidget(self.legend)
        self.widgets, self.curves, self._raw, self._ema, self._ep_train, self._ep_val = {}, {}, {}, {}, {}, {}
        for key in self.KEYS:
            w = _plot("Loss" if key == "loss" else "Accuracy")
            lay.addWidget(w)
            item = w.getPlotItem()
            self.widgets[key] = w
            self.curves[key] = LiveCurve(max_points, smoothing)
            self._raw[key] = item.plot(pen=pg.mkPen(RAW_COLOR, width=1), name="per batch")
            self._ema[key] = item.plot(pen=pg.mkPen(EMA_COLORS[key], width=2), name="smoothed")
            self._ep_train[key] = item.plot(pen=pg.mkPen(TRAIN_EPOCH, width=1.5), symbol="o", symbolSize=7,
                                            symbolBrush=TRAIN_EPOCH, symbolPen=None, name="epoch (train)")
            self._ep_val[key] = item.plot(pen=pg.mkPen(VAL_EPOCH, width=1.5, style=Qt.DashLine), symbol="s",
                                          symbolSize=7, symbolBrush=VAL_EPOCH, symbolPen=None,
                                          name="epoch (validation)")
        self.widgets["accuracy"].getPlotItem().setXLink(self.widgets["loss"].getPlotItem())
        self._epochs = []  # (x, logs)
        self._overlays = {}  # run id -> list of PlotDataItems
        self._step_offset = 0.0
        self._last_step = -1.0
        self._stale = False  # points arrived while the plots were hidden: redraw when shown

    # ------------------------------------------------------------------ current run
    def reset(self):
        """Clear the current run's curves (a new run starts)."""
        for key in self.KEYS:
            self.curves[key].clear()
            for items in (self._raw, self._ema, self._ep_train, self._ep_val):
                items[key].setData([], [])
        for w in self.widgets.values():  # empty plots must not keep the last run's axes
            item = w.getPlotItem()
            item.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
            item.enableAutoRange()
        self._epochs = []
        self._last_step = -1.0
        self._stale = False

    def add_batches(self, chunk):
        """Append a `BatchChunk` (arrays step, loss, accuracy...) and redraw (later, when hidden)."""
        if not len(chunk):
            return
        self._last_step = float(chunk.step[-1])
        for key in self.KEYS:
            self.curves[key].extend(chunk.step, getattr(chunk, key))
        if self._hidden_in_shown_window():
            # The Training dock sits behind another tab: drawing now would only take the GIL from training.
            self._stale = True
            return
        for key in self.KEYS:
            self._redraw(key)

    def _hidden_in_shown_window(self):
        return not self.isVisible() and self.window().isVisible()

    def showEvent(self, ev):
        super().showEvent(ev)
        if self._stale:
            self._stale = False
            for key in self.KEYS:
                self._redraw(key)

    def add_epoch(self, epoch, logs, step=None):
        """Mark an epoch's train and validation values at ``step`` (default: after the last batch)."""
        x = float(step) if step is not None else self._last_step + 1
        self._epochs.append((x, dict(logs)))
        xs = np.array([e[0] for e in self._epochs])
        for key in self.KEYS:
            tr = np.array([_get(e[1], key) for e in self._epochs])
            va = np.array([_get(e[1], "val_" + key) for e in self._epochs])
            self._set_finite(self._ep_train[key], xs, tr)
            self._set_finite(self._ep_val[key], xs, va)

    @staticmethod
    def _set_finite(item, x, y):
        keep = np.isfinite(y)
        item.setData(x[keep], y[keep])

    def _redraw(self, key):
        c = self.curves[key]
        ex, ey = c.envelope()
        self._raw[key].setData(ex, ey)
        self._ema[key].setData(c.x(), c.ema())

    def point_count(self, key="loss") -> int:
        """Batch points received for ``key`` in the current run (tests)."""
        return self.curves[key].count

    def drawn_points(self, key="loss") -> int:
        """Points the smoothed line holds now (bounded by ``2 * max_points``)."""
        return len(self.curves[key])

    def epoch_count(self) -> int:
        return len(self._epochs)

    # ------------------------------------------------------------------ overlays
    def set_overlays(self, records):
        """Draw these past runs' smoothed curves (faint, one colour each); others are removed."""
        wanted = {id(r): r for r in records}
        for rid in list(self._overlays):
            if rid not in wanted:
                for key, item in self._overlays.pop(rid):
                    self.widgets[key].getPlotItem().removeItem(item)
        for i, (rid, record) in enumerate(wanted.items()):
            if rid in self._overlays:
                continue
            color = OVERLAY_COLORS[i % len(OVERLAY_COLORS)]
            items = []
            for key in self.KEYS:
                xy = record_curve(record, key)
                if xy is None or not len(xy[0]):
                    continue
                name = str(getattr(record, "name", "") or "run")
                keep = np.isfinite(xy[1])
                item = self.widgets[key].getPlotItem().plot(xy[0][keep], xy[1][keep], pen=pg.mkPen(color + (200,), width=1.5),
                                                            name=name)
                items.append((key, item))
            self._overlays[rid] = items

    def overlay_count(self) -> int:
        return len(self._overlays)


def _span(color, text):
    r, g, b = color[:3]
    return f"<span style='color:rgb({r},{g},{b})'><b>{text}</b></span>"


def _legend_html():
    loss, acc = EMA_COLORS["loss"], EMA_COLORS["accuracy"]
    parts = [f"{_span((150, 165, 175), '——')} per batch",
             f"{_span(loss, '——')}{_span(acc, '——')} smoothed",
             f"{_span(TRAIN_EPOCH, '●')} epoch (train)",
             f"{_span(VAL_EPOCH, '■')} epoch (validation)"]
    return "<span style='font-size:8pt;color:#444'>" + " &nbsp;&nbsp; ".join(parts) + "</span>"


def _get(logs, key):
    v = logs.get(key)
    try:
        return float(v) if v is not None else math.nan
    except (TypeError, ValueError):
        return math.nan
