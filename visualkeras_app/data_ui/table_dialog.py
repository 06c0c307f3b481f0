"""Dataset ▸ Table (CSV)…: pick the feature and target columns of a CSV, see what they hold, train on them.

Each column is listed with the type found (number, category, text), its missing cells and distinct values,
and a role: Feature, Target or Ignore (text columns start ignored, the target is the column named
label/class/target/y, else the last category column). The classes of the target are drawn as bars, with the
imbalance warning. "Add Normalization" puts a Normalization layer after the Input, adapted (``adapt()``) to
the training features, so that features of different scales train well. "Use for Training" writes the chosen
columns as a data set .npz (in the app's cache) and selects it in the Training panel.
"""
from __future__ import annotations

import os

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QCheckBox, QComboBox, QHeaderView, QTableWidget, QTableWidgetItem

from visualkeras_app.data_ui.arrays_dialog import ArraysSummary
from visualkeras_app.data_ui.image_folder_dialog import ImageFolderDialog

ROLES = ("Feature", "Target", "Ignore")


class TableDialog(ImageFolderDialog):
    """The preview of a CSV table for ``window``, with a role per column."""

    def __init__(self, window, path=None, parent=None):
        super().__init__(window, None, parent)
        self.setWindowTitle("Table")
        self.table = None
        self.dataset = None
        self.notes = []
        self.choose_button.setText("Choose File…")
        self.choose_button.clicked.disconnect()
        self.choose_button.clicked.connect(self.choose_file)
        self.samples_box.setTitle("Columns")
        self.set_row_names(("Rows", "Features", "Target", "Test set"), "Rows per class")
        self.samples_scroll.hide()
        self.columns_view = QTableWidget(0, 5)
        self.columns_view.setHorizontalHeaderLabels(["Column", "Type", "Missing", "Distinct", "Role"])
        self.columns_view.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.columns_view.verticalHeader().hide()
        self.samples_box.layout().addWidget(self.columns_view)
        self.normalize_box = QCheckBox("Add a Normalization layer after the Input, adapted to the training features")
        self.normalize_box.setToolTip("Features of different scales (age in years, income in dollars) train "
                                      "better standardized; the layer keeps their mean and variance, so the saved "
                                      "model takes raw rows")
        self.samples_box.layout().addWidget(self.normalize_box)
        self.augment_button.hide()
        self.add_augment_button.hide()
        self.role_boxes = {}
        if path:
            self.open_file(path)

    def choose_file(self):
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(self, "Open a table", "", "CSV files (*.csv);;All files (*)")
        if path:
            self.open_file(path)

    def open_folder(self, path) -> bool:
        return self.open_file(path)

    def open_file(self, path) -> bool:
        from visualkeras_app.training.table_data import TableError, read_table

        QGuiApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            table = read_table(path)
        except TableError as e:
            self.summary = self.table = self.path = None
            self.path_label.setText(str(e))
            self._set_enabled(False)
            return False
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.table, self.path = table, os.path.abspath(os.fspath(path))
        self.setWindowTitle(f"Table – {os.path.basename(self.path)}")
        self.path_label.setText(self.path)
        target = table.default_target()
        features = set(table.default_features(target))
        view = self.columns_view
        view.setRowCount(len(table.columns))
        self.role_boxes = {}
        for i, c in enumerate(table.columns):
            for j, text in enumerate((c.name, c.kind, f"{c.missing:,}", f"{c.distinct:,}")):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemIsEditable)
                if j == 2 and c.missing:
                    item.setForeground(Qt.darkRed)
                view.setItem(i, j, item)
            box = QComboBox()
            box.addItems(ROLES)
            box.setCurrentText("Target" if c.name == target else "Feature" if c.name in features else "Ignore")
            box.currentTextChanged.connect(lambda role, name=c.name: self.set_role(name, role))
            view.setCellWidget(i, 4, box)
            self.role_boxes[c.name] = box
        view.resizeColumnsToContents()
        return self.rebuild()

    def roles(self):
        """(feature column names, target column name or None) as the role boxes say."""
        features = [n for n, b in self.role_boxes.items() if b.currentText() == "Feature"]
        target = next((n for n, b in self.role_boxes.items() if b.currentText() == "Target"), None)
        return features, target

    def set_role(self, name, role):
        """Give column ``name`` a role; a new target makes the previous one a feature (one target)."""
        box = self.role_boxes[name]
        if box.currentText() != role:
            box.setCurrentText(role)  # comes back here through the signal
            return
        if role == "Target":
            for other, b in self.role_boxes.items():
                if other != name and b.currentText() == "Target":
                    b.blockSignals(True)
                    b.setCurrentText("Feature" if self.table.column(other).kind != "text" else "Ignore")
                    b.blockSignals(False)
        self.rebuild()

    def rebuild(self) -> bool:
        """The data set of the chosen columns, shown; False (the reason shown) when they make none."""
        from visualkeras_app.training.fit_check import remember_shape
        from visualkeras_app.training.table_data import TableError, table_dataset

        features, target = self.roles()
        try:
            if target is None:
                raise TableError("Pick a target column (the class to predict).")
            ds, notes = table_dataset(self.table, features, target)
        except TableError as e:
            self.summary = self.dataset = None
            self.warning_label.setText(str(e))
            self.warning_label.show()
            self.model_label.setText("")
            self._set_enabled(False)
            return False
        self.dataset, self.notes = ds, notes
        s = self.summary = ArraysSummary(self.path, ds)
        remember_shape(self.path, s.sample_shape, len(s.class_names))
        self.images_label.setText(f"{self.table.rows:,} rows: {len(ds.x_train):,} to train, {len(ds.x_test):,} to "
                                  f"test (the last 10%)")
        self.size_label.setText(f"{ds.x_train.shape[1]} feature values from {len(features)} column(s)")
        self.mode_label.setText(f"{target}: {len(s.class_names)} classes")
        self.split_label.setText("the last 10% of the rows")
        self.chart.set_counts(s.class_names, s.counts, warn=s.imbalanced())
        missing = [f"{c.name} ({c.missing:,})" for c in self.table.columns
                   if c.missing and (c.name in features or c.name == target)]
        lines = list(s.warnings()) + notes
        if missing:
            lines.insert(0, "Missing values in: " + ", ".join(missing) + ".")
        self.warning_label.setText("\n".join(lines))
        self.warning_label.setVisible(bool(lines))
        self._set_enabled(True)
        self.augment_button.setEnabled(False)
        self.refresh_model()
        return True

    def use_for_training(self):
        """Write the chosen columns as a data set .npz, select it for training, add the Normalization if asked."""
        from visualkeras_app.training.fit_check import remember_shape
        from visualkeras_app.training.table_data import save_npz

        features, target = self.roles()
        npz = save_npz(self.dataset, self.path, features, target)
        remember_shape(npz, self.summary.sample_shape, len(self.summary.class_names))
        if self.normalize_box.isChecked():
            self.add_normalization()
        self.path = npz
        super().use_for_training()

    def add_normalization(self):
        """A Normalization layer after the Input with the mean and variance ``adapt()`` finds in the training
        features (one undo step); None when the Input feeds no single layer."""
        from engine import layers

        norm = layers.Normalization()
        norm.adapt(self.dataset.x_train)
        mean, variance = (np.asarray(w, np.float64).reshape(-1).tolist() for w in norm.get_weights()[:2])
        ctl = self.window.controller
        doc = ctl.document
        inputs = [n for n in doc.nodes.values() if n.is_input]
        if len(inputs) != 1:
            return None
        outgoing = [e for e in doc.edges if e.src == inputs[0].id]
        if len(outgoing) != 1:
            return None
        edge = outgoing[0]
        src, dst = doc.nodes[edge.src].pos, doc.nodes[edge.dst].pos
        ctl.undo_stack.beginMacro("Add Normalization adapted to the table")
        try:
            node_id = ctl.insert_into_edge("Normalization", edge, ((src[0] + dst[0]) / 2, (src[1] + dst[1]) / 2))
            if node_id is not None:
                config = dict(doc.nodes[node_id].config, mean=mean, variance=variance)
                ctl.set_config(node_id, config)
        finally:
            ctl.undo_stack.endMacro()
        return node_id
