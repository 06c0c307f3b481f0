"""The run list: every finished run with its settings, test accuracy and duration; ticked runs are overlaid
on the plots; Export CSV writes one row per epoch per run (`RunList.to_csv`)."""
from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QHeaderView, QLabel, QMessageBox, QPushButton,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

# The settings last: they are long, and the dock is narrow; their full text is in the tooltip.
COLUMNS = ("Run", "Model", "Test acc.", "Time", "Settings")


def settings_summary(settings) -> str:
    """"adam 0.003 1cycle · 1 ep · bs 64 · mnist" for a `TrainSettings` (or its dict); " · bf16" and the like
    after it for a run in a mixed precision."""
    d = settings if isinstance(settings, dict) else (settings.to_dict() if hasattr(settings, "to_dict")
                                                        else vars(settings))
    lr = d.get("learning_rate")
    lr_text = f"{lr:g}" if isinstance(lr, (int, float)) else str(lr)
    ds = os.path.basename(str(d.get("dataset", "")))
    sched = {"one_cycle": "1cycle", "constant": "const"}.get(d.get("schedule"), d.get("schedule", ""))
    precision = {"auto": " · auto precision", "mixed_bfloat16": " · bf16", "mixed_float16": " · fp16"}.get(
        d.get("precision"), "")
    return (f"{d.get('optimizer', '?')} {lr_text} {sched} · {d.get('epochs', '?')} ep · bs {d.get('batch_size', '?')}"
            f" · {ds}{precision}")


def _fmt_duration(s):
    if s is None:
        return ""
    s = float(s)
    return f"{s:.1f} s" if s < 60 else f"{int(s // 60)} min {int(s % 60):02d} s"


def _make_run_list():
    from visualkeras_app.training.runs import RunList  # here: the training package imports the engine (start-up time)

    return RunList()


class RunsView(QWidget):
    """The list of runs of this window's session.

    Signals:
        overlay_changed(list): the runs ticked for overlay, as `RunRecord`s.
        run_removed(object): the user removed this `RunRecord` from the list (the window drops it from the
            project's saved runs).
    """

    overlay_changed = Signal(list)
    run_removed = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.run_list = _make_run_list()
        self.records = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(3)
        title = QLabel("<b>Runs</b> <span style='color:#777'>(tick to overlay)</span>")
        lay.addWidget(title)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setToolTip("Every run of this session, of every model opened; tick runs to overlay their curves "
                           "on the plots")
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(40)
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.Interactive)  # a long file name is elided, not widening
        header.resizeSection(1, 96)
        header.setSectionResizeMode(2, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.Stretch)
        self.tree.itemChanged.connect(self._on_item_changed)
        lay.addWidget(self.tree, 1)
        row = QHBoxLayout()
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Write every run's per-epoch logs to a CSV file (one row per epoch per run)")
        self.export_button.clicked.connect(lambda: self.export_csv())
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected run from the list")
        self.remove_button.clicked.connect(self.remove_selected)
        row.addWidget(self.export_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        lay.addLayout(row)
        self._update_buttons()

    def add_run(self, record):
        """Add a finished (or updated, after "train more") run; the same record object is updated in place."""
        if record in self.records:
            self.refresh()
            return
        self.run_list.add(record)
        self.records.append(record)
        item = QTreeWidgetItem()
        item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
        item.setCheckState(0, Qt.Unchecked)
        self.tree.blockSignals(True)
        self.tree.addTopLevelItem(item)
        self.tree.blockSignals(False)
        self.refresh()
        self._update_buttons()

    def _fill(self, item, record):
        self.tree.blockSignals(True)
        item.setText(0, str(getattr(record, "name", "") or f"run {len(self.records)}"))
        model = str(getattr(record, "model", "") or "")
        version = int(getattr(record, "version", 0) or 0)
        shown = version if getattr(record, "versions", 0) > 1 else 0  # "v1" alone says nothing
        item.setText(1, f"{model} v{shown}" if model and shown else model or "—")
        item.setToolTip(1, (f"The model trained: {model}" + (f", version {version} of {record.versions} (a change to "
                                                              "its layers or connections between runs makes a new "
                                                              "version)" if shown else "")) if model else "")
        acc = getattr(record, "test_accuracy", None)
        item.setText(2, f"{acc * 100:.2f}%" if isinstance(acc, (int, float)) else "—")
        item.setText(3, _fmt_duration(getattr(record, "duration_s", None)))
        item.setText(4, settings_summary(getattr(record, "settings", {}) or {}))
        reason = getattr(record, "stopped_reason", None)
        item.setToolTip(0, f"Stopped: {reason}" if reason else "Completed")
        item.setToolTip(4, item.text(4))
        self.tree.blockSignals(False)

    def refresh(self):
        """Fill every row again (a run's version became known, or a new version shows the old ones' numbers)."""
        for i, record in enumerate(self.records):
            self._fill(self.tree.topLevelItem(i), record)

    def column(self, title) -> list:
        """The texts of column ``title`` ("Model", "Test acc."...), one per run, in order."""
        c = COLUMNS.index(title)
        return [self.tree.topLevelItem(i).text(c) for i in range(self.tree.topLevelItemCount())]

    def checked_runs(self) -> list:
        return [r for i, r in enumerate(self.records) if self.tree.topLevelItem(i).checkState(0) == Qt.Checked]

    def set_checked(self, record, on=True):
        self.tree.topLevelItem(self.records.index(record)).setCheckState(0, Qt.Checked if on else Qt.Unchecked)

    def _on_item_changed(self, _item, column):
        if column == 0:
            self.overlay_changed.emit(self.checked_runs())

    def remove_selected(self):
        item = self.tree.currentItem()
        if item is None:
            return
        i = self.tree.indexOfTopLevelItem(item)
        record = self.records.pop(i)
        self.run_list.remove(record)
        self.tree.takeTopLevelItem(i)
        self._update_buttons()
        self.run_removed.emit(record)
        self.overlay_changed.emit(self.checked_runs())

    def export_csv(self, path=None) -> bool:
        """Write the runs to ``path`` (asks for one when None); False when cancelled or it failed."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export runs as CSV", "runs.csv", "CSV files (*.csv)")
            if not path:
                return False
        try:
            self.run_list.to_csv(path)
        except (OSError, ValueError) as exc:
            QMessageBox.critical(self, "Could not export the runs", f"{path} could not be written: {exc}")
            return False
        return True

    def _update_buttons(self):
        self.export_button.setEnabled(bool(self.records))
        self.remove_button.setEnabled(bool(self.records))
