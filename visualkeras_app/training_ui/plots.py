"""Training plots as TensorBoard users expect them (pyqtgraph): loss, accuracy and the learning rate against the
step, the epoch or the wall time; per batch (the raw values, faint) and EMA-smoothed with a smoothing slider;
per epoch (train and validation); log scale; the values under the mouse; past runs overlaid with a legend;
export as PNG, SVG or CSV.

Memory stays bounded over any run length: each curve is a `BatchCurve`: at most ``max_points`` buckets,
neighbours merged pairwise with min/max/mean when full. The raw line is drawn as the min/max envelope, so a
loss spike in the millionth batch still shows. The smoothed line is recomputed from the bucket means for the
slider's weight (an EMA debiased as TensorBoard's, each bucket counting as its batches). Drawing uses
pyqtgraph's clip-to-view and peak downsampling.
"""
from __future__ import annotations

import csv
import math
import os

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QRectF, QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel, QMenu, QMessageBox, QSizePolicy, QSlider,
                               QToolButton, QVBoxLayout, QWidget)

RAW_COLOR = (120, 144, 156, 110)
EMA_COLORS = {"loss": (216, 67, 21), "accuracy": (25, 118, 210), "lr": (0, 121, 107)}
TRAIN_EPOCH = (56, 142, 60)
VAL_EPOCH = (142, 36, 170)
OVERLAY_COLORS = [(0, 150, 136), (255, 160, 0), (121, 85, 72), (233, 30, 99), (63, 81, 181), (139, 195, 74)]
TITLES = {"loss": "Loss", "accuracy": "Accuracy", "lr": "Learning rate"}
X_AXES = (("Step", "step"), ("Epoch", "epoch"), ("Wall time", "time"))
X_LABELS = {"step": "step (batch)", "epoch": "epoch", "time": "wall time (s)"}
DEFAULT_SMOOTHING = 0.95
_LEGEND_H = 20  # the legend line under exported plots


def smooth(values, counts, weight):
    """TensorBoard's debiased EMA of bucket means ``values`` (each bucket ``counts`` batches) with ``weight``
    per batch, in [0, 1). Non-finite values are skipped (the previous smoothed value is repeated)."""
    values = np.asarray(values, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    out = np.empty_like(values)
    if not 0 <= weight < 1:
        raise ValueError(f"smoothing must be in [0, 1). Received: {weight!r}")
    if weight == 0:
        return values.copy()
    ema = acc = 0.0
    last = math.nan
    for i, (v, c) in enumerate(zip(values.tolist(), counts.tolist())):
        if v == v and abs(v) != math.inf:
            a = weight ** max(c, 1.0)
            ema = a * ema + (1 - a) * v
            acc = a * acc + (1 - a)
            last = ema / acc
        out[i] = last
    return out


class LiveCurve:
    """One plotted per-batch series over a `BatchCurve` (min/max/mean buckets, bounded) that also keeps, per
    bucket, the mean epoch position and wall time (the other x axes).

    Args:
        max_points: most buckets kept (the curve merges neighbours and doubles its stride when full).
        smoothing: the default EMA weight of ``ema()``.
    """

    def __init__(self, max_points=4000, smoothing=DEFAULT_SMOOTHING):
        from visualkeras_app.training.runs import BatchCurve

        if max_points < 4:
            raise ValueError(f"max_points must be at least 4. Received: max_points={max_points}")
        self.smoothing = smoothing
        self._max = int(max_points) + int(max_points) % 2
        self._make = lambda: BatchCurve(("v", "epoch", "time"), max_points=self._max, smoothing=0.0)
        self.curve = self._make()

    def clear(self):
        self.curve = self._make()

    @classmethod
    def from_record(cls, record, key, max_points=4000):
        """The curve of ``key`` in a run record's `BatchCurve` (None when it has none)."""
        from visualkeras_app.training.runs import BatchCurve

        src = getattr(record, "batches", None)
        if src is None or key not in getattr(src, "keys", ()) or not len(src):
            return None
        live = cls(max_points)
        state = src.to_state(max_points=live._max - 2)
        values = state["values"]
        nan = [None] * len(state["x"])
        remap = {"v": values[key]}
        for k in ("epoch", "time"):
            remap[k] = values.get(k) or {n: nan for n in ("mean", "min", "max", "smoothed")}
        state = dict(state, keys=["v", "epoch", "time"], values=remap, smoothing=0.0)
        live.curve = BatchCurve.from_state(state, max_points=live._max)
        return live

    @property
    def count(self):
        """Points ever appended."""
        return self.curve.total

    @property
    def stride(self):
        return self.curve.stride

    def __len__(self):
        return len(self.curve)

    def extend(self, x, y, epoch=None, time_s=None):
        """Append points; NaN/inf values are skipped (a model without that metric, a diverged batch)."""
        y = np.asarray(y, dtype=np.float64)
        n = len(y)
        epoch = np.full(n, np.nan) if epoch is None else np.asarray(epoch, dtype=np.float64)
        time_s = np.full(n, np.nan) if time_s is None else np.asarray(time_s, dtype=np.float64)
        keep = np.isfinite(y)
        append = self.curve.append
        for step, v, e, t in zip(np.asarray(x)[keep].tolist(), y[keep].tolist(), epoch[keep].tolist(),
                                 time_s[keep].tolist()):
            append(step, v, e, t)

    def x(self, axis="step"):
        """The x of each bucket: its mean step, epoch position or wall time (the step where unknown)."""
        steps = self.curve.steps()
        if axis == "step" or not len(steps):
            return steps
        other = self.curve.mean("epoch" if axis == "epoch" else "time")
        return other if np.isfinite(other).all() else steps

    def knows(self, axis):
        """Whether every bucket has an x on ``axis`` (runs from before the epoch and time axes have none)."""
        if axis == "step":
            return True
        return bool(len(self.curve)) and bool(np.isfinite(self.curve.mean("epoch" if axis == "epoch" else "time")).all())

    def mean(self):
        return self.curve.mean("v")

    def ema(self, weight=None):
        return smooth(self.curve.mean("v"), self.curve.counts(), self.smoothing if weight is None else weight)

    def envelope(self, axis="step"):
        """The raw values as a zigzag between each bucket's min and max (x repeated), so spikes stay visible."""
        c = self.curve
        return np.repeat(self.x(axis), 2), np.column_stack((c.min("v"), c.max("v"))).ravel()


def record_curve(record, key, weight=DEFAULT_SMOOTHING, axis="step"):
    """(x, smoothed values) of a run record's curve for ``key``, or None when it has none."""
    live = LiveCurve.from_record(record, key)
    if live is None:
        return None
    return np.asarray(live.x(axis), float), np.asarray(live.ema(weight), float)


def _plot(ylabel):
    w = pg.PlotWidget()
    w.setBackground("w")
    item = w.getPlotItem()
    # No title: the axis names the plot, and a dock a quarter of the window tall needs the height for data.
    item.showGrid(x=True, y=True, alpha=0.15)
    item.setLabel("bottom", X_LABELS["step"])
    item.setLabel("left", ylabel)
    item.getAxis("left").enableAutoSIPrefix(False)  # accuracy 0.2-0.6 read "x0.001" with pyqtgraph's prefix
    item.getAxis("bottom").enableAutoSIPrefix(False)
    item.setClipToView(True)
    item.setDownsampling(auto=True, mode="peak")
    w.setMinimumHeight(60)  # the Training dock must fit a 1366x768 window with its controls row
    w.setMinimumWidth(110)
    return w


class TrainingPlots(QWidget):
    """Three plots, loss, accuracy and learning rate, for the run in progress (or a saved run) plus overlaid
    past runs; the controls above them pick the x axis, the smoothing and log scale, and export.

    Args:
        max_points: stored points per batch curve (see `LiveCurve`).
        smoothing: the smoothing slider's first value (EMA weight per batch).
    """

    KEYS = ("loss", "accuracy", "lr")

    def __init__(self, max_points=4000, smoothing=DEFAULT_SMOOTHING, parent=None):
        super().__init__(parent)
        pg.setConfigOptions(antialias=False, foreground="#444")
        self.smoothing = float(smoothing)
        self.x_axis = "step"
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(1)
        outer.addLayout(self._make_controls())
        self.plot_area = QWidget()
        lay = QHBoxLayout(self.plot_area)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        outer.addWidget(self.plot_area, 1)
        # One legend line for the plots: a legend inside a 120 px tall plot hides the curves.
        self.legend = QLabel()
        self.legend.setAlignment(Qt.AlignCenter)
        self.legend.setWordWrap(True)  # a one-line label would set the dock's minimum width
        self.legend.setTextFormat(Qt.RichText)
        outer.addWidget(self.legend)
        self.widgets, self.curves, self._raw, self._ema, self._ep_train, self._ep_val = {}, {}, {}, {}, {}, {}
        self._cursor = {}
        for key in self.KEYS:
            w = _plot(TITLES[key])
            lay.addWidget(w, 1)
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
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen((90, 90, 90, 140), width=1))
            line.hide()
            item.addItem(line, ignoreBounds=True)
            self._cursor[key] = line
            w.scene().sigMouseMoved.connect(lambda pos, k=key: self._on_mouse_moved(k, pos))
        for key in ("accuracy", "lr"):
            self.widgets[key].getPlotItem().setXLink(self.widgets["loss"].getPlotItem())
        self._epochs = []  # (positions {"step", "epoch", "time"}, logs)
        self._overlays = {}  # id(record) -> (record, color, [(key, PlotDataItem)])
        self._last = {"step": -1.0, "epoch": 0.0, "time": 0.0}
        self._stale = False  # points arrived while the plots were hidden: redraw when shown
        self._update_legend()

    def _make_controls(self):
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(QLabel("X:"))
        self.x_combo = QComboBox()
        for title, key in X_AXES:
            self.x_combo.addItem(title, key)
        self.x_combo.setToolTip("Plot against the step (batch), the epoch, or the wall-clock time since the run "
                                "started")
        self.x_combo.currentIndexChanged.connect(lambda _i: self.set_x_axis(self.x_combo.currentData()))
        row.addWidget(self.x_combo)
        row.addSpacing(6)
        row.addWidget(QLabel("Smoothing"))
        self.smoothing_slider = QSlider(Qt.Horizontal)
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setValue(int(round(self.smoothing * 100)))
        self.smoothing_slider.setMinimumWidth(60)
        self.smoothing_slider.setMaximumWidth(110)
        self.smoothing_slider.setToolTip("The weight of the past in the smoothed line (an exponential moving "
                                         "average per batch, as TensorBoard's); 0 shows the raw values")
        self.smoothing_slider.valueChanged.connect(lambda v: self.set_smoothing(v / 100))
        row.addWidget(self.smoothing_slider)
        self.smoothing_label = QLabel(f"{self.smoothing:.2f}")
        row.addWidget(self.smoothing_label)
        row.addSpacing(6)
        self.log_check = QCheckBox("Log scale")
        self.log_check.setToolTip("A logarithmic y axis for the loss and the learning rate")
        self.log_check.toggled.connect(self.set_log_scale)
        row.addWidget(self.log_check)
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setToolTip("Save the plots as a PNG or SVG picture, or their data as CSV")
        self.export_button.setPopupMode(QToolButton.InstantPopup)
        menu = QMenu(self.export_button)
        self.act_export_png = menu.addAction("Plots as PNG…", lambda: self.export_dialog("png"))
        self.act_export_svg = menu.addAction("Plots as SVG…", lambda: self.export_dialog("svg"))
        self.act_export_csv = menu.addAction("Curves as CSV…", lambda: self.export_dialog("csv"))
        self.export_button.setMenu(menu)
        row.addWidget(self.export_button)
        self.hover_label = QLabel("")
        self.hover_label.setStyleSheet("color:#333")
        self.hover_label.setMinimumWidth(10)
        self.hover_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # long text: no wider dock
        row.addWidget(self.hover_label, 1)
        return row

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
        self._last = {"step": -1.0, "epoch": 0.0, "time": 0.0}
        self._stale = False
        self.hover_label.setText("")

    def add_batches(self, chunk):
        """Append a `BatchChunk` (arrays step, loss, accuracy, lr...) and redraw (later, when hidden)."""
        if not len(chunk):
            return
        epoch_pos = getattr(chunk, "epoch_pos", None)
        time_s = getattr(chunk, "time_s", None)
        self._last["step"] = float(chunk.step[-1])
        for name, arr in (("epoch", epoch_pos), ("time", time_s)):
            if arr is not None and len(arr) and math.isfinite(arr[-1]):
                self._last[name] = float(arr[-1])
        for key in self.KEYS:
            self.curves[key].extend(chunk.step, getattr(chunk, key), epoch_pos, time_s)
        if self._hidden_in_shown_window():
            # The Training dock sits behind another tab: drawing now would only take the GIL from training.
            self._stale = True
            return
        self._redraw_all()

    def _hidden_in_shown_window(self):
        return not self.isVisible() and self.window().isVisible()

    def showEvent(self, ev):
        super().showEvent(ev)
        if self._stale:
            self._stale = False
            self._redraw_all()

    def add_epoch(self, epoch, logs, step=None):
        """Mark an epoch's train and validation values at ``step`` (default: after the last batch)."""
        pos = {"step": float(step) if step is not None else self._last["step"] + 1,
               "epoch": float(epoch) + 1, "time": self._last["time"]}
        self._epochs.append((pos, dict(logs)))
        self._draw_epochs()

    def _draw_epochs(self):
        if not self._epochs:
            for key in self.KEYS:
                self._ep_train[key].setData([], [])
                self._ep_val[key].setData([], [])
            return
        xs = np.array([e[0][self._epoch_axis()] for e in self._epochs])
        for key in self.KEYS:
            tr = np.array([_get(e[1], key) for e in self._epochs])
            va = np.array([_get(e[1], "val_" + key) for e in self._epochs])
            self._set_finite(self._ep_train[key], xs, tr)
            self._set_finite(self._ep_val[key], xs, va)

    def _epoch_axis(self):
        """The x axis the current run is drawn on: the chosen one, or the step where its points lack it."""
        return self.x_axis if self.curves["loss"].knows(self.x_axis) else "step"

    def show_record(self, record):
        """Show a finished (or saved) run's curves and epoch marks as the current run's."""
        self.reset()
        for key in self.KEYS:
            live = LiveCurve.from_record(record, key, self.curves[key]._max)
            if live is not None:
                live.smoothing = self.smoothing
                self.curves[key] = live
        loss = self.curves["loss"]
        steps = loss.curve.steps()
        for entry in getattr(record, "epochs", []) or []:
            n = entry.get("epoch")
            if not isinstance(n, (int, float)) or not len(steps):
                continue
            epochs_at = loss.curve.mean("epoch")
            times = loss.curve.mean("time")
            ok = np.isfinite(epochs_at)
            step = float(np.interp(n, epochs_at[ok], steps[ok])) + 0.5 if ok.any() else float(steps[-1]) + 1
            t = float(np.interp(n, epochs_at[ok], times[ok])) if ok.any() and np.isfinite(times).all() else 0.0
            self._epochs.append(({"step": step, "epoch": float(n), "time": t}, dict(entry)))
        if len(steps):
            self._last["step"] = float(steps[-1])
        self._redraw_all()

    @staticmethod
    def _set_finite(item, x, y):
        keep = np.isfinite(y) & np.isfinite(x)
        item.setData(x[keep], y[keep])

    def _redraw(self, key):
        c = self.curves[key]
        axis = self._epoch_axis()
        if key == "lr":  # the rate has no noise: its mean line alone
            self._raw[key].setData([], [])
            self._set_finite(self._ema[key], c.x(axis), c.mean())
            return
        ex, ey = c.envelope(axis)
        self._set_finite(self._raw[key], ex, ey)
        self._set_finite(self._ema[key], c.x(axis), c.ema(self.smoothing))

    def _redraw_all(self):
        for key in self.KEYS:
            self._redraw(key)
        self._draw_epochs()

    def point_count(self, key="loss") -> int:
        """Batch points received for ``key`` in the current run (tests)."""
        return self.curves[key].count

    def drawn_points(self, key="loss") -> int:
        """Points the smoothed line holds now (bounded by ``2 * max_points``)."""
        return len(self.curves[key])

    def epoch_count(self) -> int:
        return len(self._epochs)

    # ------------------------------------------------------------------ controls
    def set_x_axis(self, axis):
        """Plot against ``"step"``, ``"epoch"`` or ``"time"`` (wall-clock seconds since the run started)."""
        if axis not in X_LABELS:
            raise ValueError(f"x axis must be one of {list(X_LABELS)}. Received: {axis!r}")
        self.x_axis = axis
        i = self.x_combo.findData(axis)
        if self.x_combo.currentIndex() != i:
            self.x_combo.setCurrentIndex(i)
        for w in self.widgets.values():
            w.getPlotItem().setLabel("bottom", X_LABELS[axis])
            w.getPlotItem().enableAutoRange()
        self._redraw_all()
        self._redraw_overlays()

    def set_smoothing(self, weight):
        """The smoothed lines' EMA weight per batch, in [0, 1)."""
        weight = float(weight)
        if not 0 <= weight < 1:
            raise ValueError(f"smoothing must be in [0, 1). Received: {weight!r}")
        self.smoothing = weight
        self.smoothing_label.setText(f"{weight:.2f}")
        if self.smoothing_slider.value() != int(round(weight * 100)):
            self.smoothing_slider.setValue(int(round(weight * 100)))
        for c in self.curves.values():
            c.smoothing = weight
        self._redraw_all()
        self._redraw_overlays()

    def set_log_scale(self, on):
        """A logarithmic y axis on the loss and learning-rate plots (accuracy stays linear)."""
        on = bool(on)
        if self.log_check.isChecked() != on:
            self.log_check.setChecked(on)
            return
        for key in ("loss", "lr"):
            self.widgets[key].getPlotItem().setLogMode(y=on)

    def is_log_scale(self) -> bool:
        return self.widgets["loss"].getPlotItem().ctrl.logYCheck.isChecked()

    # ------------------------------------------------------------------ hover
    def _on_mouse_moved(self, key, pos):
        item = self.widgets[key].getPlotItem()
        if not item.sceneBoundingRect().contains(pos):
            return
        x = item.vb.mapSceneToView(pos).x()
        self.show_values_at(x)

    def show_values_at(self, x):
        """Show the values of the current run's curves at x (in the plots' x units) in the hover line, and a
        cursor on each plot; the text shown (also for tests)."""
        axis = self._epoch_axis()
        text = []
        for key in self.KEYS:
            c = self.curves[key]
            self._cursor[key].setPos(x)
            self._cursor[key].show()
            if not len(c):
                continue
            xs = c.x(axis)
            i = int(np.clip(np.searchsorted(xs, x), 0, len(xs) - 1))
            if i > 0 and abs(xs[i - 1] - x) < abs(xs[i] - x):
                i -= 1
            if not text:
                where = {"step": f"step {c.curve.steps()[i]:.0f}", "epoch": f"epoch {xs[i]:.2f}",
                         "time": f"{xs[i]:.1f} s"}[axis]
                text.append(where)
            if key == "lr":
                text.append(f"lr {c.mean()[i]:.3g}")
            else:
                text.append(f"{key} {c.ema(self.smoothing)[i]:.4f} (raw {c.mean()[i]:.4f})")
        self.hover_label.setText(" · ".join(text))
        self.hover_label.setToolTip(self.hover_label.text())
        return self.hover_label.text()

    def leaveEvent(self, ev):
        super().leaveEvent(ev)
        for line in self._cursor.values():
            line.hide()

    # ------------------------------------------------------------------ overlays
    def set_overlays(self, records):
        """Draw these past runs' smoothed curves (one colour each, named in the legend); others are removed."""
        wanted = {id(r): r for r in records}
        for rid in list(self._overlays):
            if rid not in wanted:
                for key, item in self._overlays.pop(rid)[2]:
                    self.widgets[key].getPlotItem().removeItem(item)
        used = {o[1] for o in self._overlays.values()}
        for rid, record in wanted.items():
            if rid in self._overlays:
                continue
            color = next((c for c in OVERLAY_COLORS if c not in used), OVERLAY_COLORS[len(used) % len(OVERLAY_COLORS)])
            used.add(color)
            items = []
            for key in self.KEYS:
                item = self.widgets[key].getPlotItem().plot([], [], pen=pg.mkPen(color + (200,), width=1.5),
                                                            name=str(getattr(record, "name", "") or "run"))
                items.append((key, item))
            self._overlays[rid] = (record, color, items)
        self._redraw_overlays()
        self._update_legend()

    def _redraw_overlays(self):
        for record, _color, items in self._overlays.values():
            for key, item in items:
                live = LiveCurve.from_record(record, key)
                if live is None:
                    item.setData([], [])
                    continue
                axis = self.x_axis if live.knows(self.x_axis) else "step"
                y = live.mean() if key == "lr" else live.ema(self.smoothing)
                self._set_finite(item, live.x(axis), y)

    def overlay_count(self) -> int:
        return len(self._overlays)

    def _update_legend(self):
        extra = [f"{_span(color, '——')} {_esc(getattr(record, 'name', '') or 'run')}"
                 for record, color, _items in self._overlays.values()]
        self.legend.setText(_legend_html(extra))

    # ------------------------------------------------------------------ export
    def export_dialog(self, kind):
        """Ask for a file name and export (``"png"``, ``"svg"`` or ``"csv"``); False when cancelled or failed."""
        filters = {"png": "PNG images (*.png)", "svg": "SVG pictures (*.svg)", "csv": "CSV files (*.csv)"}
        path, _ = QFileDialog.getSaveFileName(self, f"Export the training plots as {kind.upper()}",
                                              f"training.{kind}", filters[kind])
        if not path:
            return False
        if not os.path.splitext(path)[1]:
            path += "." + kind
        try:
            {"png": self.export_png, "svg": self.export_svg, "csv": self.export_csv}[kind](path)
        except Exception as exc:  # a plain message in a dialog
            QMessageBox.critical(self, "Could not export the plots", f"{path} could not be written: {exc}")
            return False
        return True

    def export_png(self, path, scale=2.0):
        """The three plots and their legend as a PNG, at ``scale`` times the screen's pixels."""
        from PySide6.QtGui import QImage

        size = self._export_size()
        image = QImage(int(size.width() * scale), int(size.height() * scale), QImage.Format_ARGB32)
        image.fill(Qt.white)
        painter = QPainter(image)
        try:
            painter.scale(scale, scale)
            self._render(painter)
        finally:
            painter.end()
        from engine.utils.file_utils import atomic_write

        def write(tmp):
            if not image.save(tmp, "PNG"):
                raise OSError("the PNG encoder failed")

        atomic_write(path, write)
        return path

    def export_svg(self, path):
        """The three plots and their legend as an SVG picture (vector lines and text)."""
        from PySide6.QtSvg import QSvgGenerator

        from engine.utils.file_utils import atomic_write

        size = self._export_size()

        def write(tmp):
            gen = QSvgGenerator()
            gen.setFileName(tmp)
            gen.setSize(size)
            gen.setViewBox(QRectF(0, 0, size.width(), size.height()))
            gen.setTitle("Training plots")
            gen.setDescription("Exported by visualkeras-app")
            painter = QPainter(gen)
            try:
                self._render(painter)
            finally:
                painter.end()

        atomic_write(path, write)
        return path

    def _export_size(self):
        if self.plot_area.width() < 600 or self.plot_area.height() < 200:
            # Hidden (behind a tab) or squeezed: laid out at a readable size for the picture.
            self.plot_area.resize(max(self.plot_area.width(), 900), max(self.plot_area.height(), 260))
            self.plot_area.layout().activate()
        return QSize(self.plot_area.width(), self.plot_area.height() + _LEGEND_H)

    def _render(self, painter):
        size = self._export_size()
        self.plot_area.render(painter, QPoint(0, 0))
        painter.setPen(Qt.black)
        names = [str(getattr(r, "name", "") or "run") for r, _c, _i in self._overlays.values()]
        legend = "   ".join(["— per batch (faint)", "— smoothed", "— learning rate", "● epoch (train)",
                             "■ epoch (validation)"] + [f"— {n}" for n in names])
        painter.drawText(QRectF(0, size.height() - _LEGEND_H, size.width(), _LEGEND_H), Qt.AlignCenter, legend)

    def export_csv(self, path):
        """The curves as CSV, one row per plotted point: run, metric, step, epoch, wall time (s), value
        (the bucket's mean), smoothed, min, max; then the epoch values (metric "epoch_<key>"). The current
        run is named "current"; overlaid runs by their names."""
        from engine.utils.file_utils import atomic_write

        def rows():
            sources = [("current", self.curves, self._epochs)]
            for record, _c, _i in self._overlays.values():
                curves = {k: LiveCurve.from_record(record, k) for k in self.KEYS}
                sources.append((str(getattr(record, "name", "") or "run"),
                                {k: v for k, v in curves.items() if v is not None}, None))
            for name, curves, _ in sources:
                for key, c in curves.items():
                    if not len(c):
                        continue
                    cols = (c.curve.steps(), c.curve.mean("epoch"), c.curve.mean("time"), c.mean(),
                            c.ema(self.smoothing), c.curve.min("v"), c.curve.max("v"))
                    for vals in zip(*(a.tolist() for a in cols)):
                        yield [name, key] + [_cell(v) for v in vals]
            for pos, logs in self._epochs:
                for k, v in logs.items():
                    if isinstance(v, (int, float)) and k != "epoch":
                        yield ["current", "epoch_" + k, _cell(pos["step"]), _cell(pos["epoch"]),
                               _cell(pos["time"]), _cell(float(v)), "", "", ""]

        def write(tmp):
            with open(tmp, "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                w.writerow(["run", "metric", "step", "epoch", "wall_time_s", "value", "smoothed", "min", "max"])
                w.writerows(rows())

        atomic_write(path, write)
        return path


def _cell(v):
    return "" if v is None or not math.isfinite(v) else repr(float(v))


def _esc(text):
    import html

    return html.escape(str(text))


def _span(color, text):
    r, g, b = color[:3]
    return f"<span style='color:rgb({r},{g},{b})'><b>{text}</b></span>"


def _legend_html(extra=()):
    loss, acc, lr = EMA_COLORS["loss"], EMA_COLORS["accuracy"], EMA_COLORS["lr"]
    # Short entries: the line must fit the plots' width in a 1366-px window without wrapping.
    parts = [f"{_span((150, 165, 175), '—')} per batch",
             f"{_span(loss, '—')}{_span(acc, '—')} smoothed",
             f"{_span(lr, '—')} rate",
             f"{_span(TRAIN_EPOCH, '●')} epoch",
             f"{_span(VAL_EPOCH, '■')} validation"] + list(extra)
    return "<span style='font-size:8pt;color:#444'>" + " &nbsp; ".join(parts) + "</span>"


def _get(logs, key):
    v = logs.get(key)
    try:
        return float(v) if v is not None else math.nan
    except (TypeError, ValueError):
        return math.nan
