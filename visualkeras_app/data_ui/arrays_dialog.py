"""Dataset ▸ Arrays (.npz)…: the preview of a ``.npz`` data set (x_train, y_train, x_test, y_test).

The same preview as an image folder's (`ImageFolderDialog`): classes and counts with the imbalance warning,
samples per class when the samples are images, the Input shape the model needs and the one-click fixes,
augmentation samples; read with `training.data.load_dataset`, so what is shown is what training gets.
"""
from __future__ import annotations

import collections
import os

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from visualkeras_app.data_ui.image_folder_dialog import MAX_CLASS_ROWS, SAMPLES_PER_CLASS, ImageFolderDialog
from visualkeras_app.training.folder_data import IMBALANCE_RATIO


class ArraysSummary:
    """What a loaded ``Dataset`` holds, in the terms the preview shows (as `FolderSummary` for a folder)."""

    def __init__(self, path, ds, samples_per_class=8):
        self.path = path
        self.dataset = ds
        self.class_names = list(ds.class_names)
        k = len(self.class_names)
        self.train_counts = np.bincount(ds.y_train, minlength=k).tolist()
        self.test_counts = np.bincount(ds.y_test, minlength=k).tolist()
        shape = ds.sample_shape
        self.is_images = len(shape) == 2 or (len(shape) == 3 and shape[-1] in (1, 3))
        self.sample_shape = shape
        self.channels = (1 if len(shape) == 2 else shape[-1]) if self.is_images else None
        self.image_size = tuple(shape[:2]) if self.is_images else None
        self.input_shape = (shape + (1,) if len(shape) == 2 else shape) if self.is_images else shape
        self.samples = {}
        if self.is_images:
            for i, name in enumerate(self.class_names):
                idx = np.flatnonzero(ds.y_train == i)[:samples_per_class]
                self.samples[name] = [ds.x_train[j] for j in idx]
        self.unreadable = []
        self.sizes = collections.Counter()
        self.test_dir = None

    @property
    def counts(self):
        return [a + b for a, b in zip(self.train_counts, self.test_counts)]

    @property
    def num_images(self):
        return sum(self.counts)

    def imbalanced(self, ratio=IMBALANCE_RATIO):
        top = max(self.train_counts, default=0)
        return [n for n, c in zip(self.class_names, self.train_counts) if c < ratio * top]

    def warnings(self):
        small = self.imbalanced()
        if not small:
            return []
        counts = dict(zip(self.class_names, self.train_counts))
        listed = ", ".join(f"{c} ({counts[c]:,})" for c in small[:5]) + ("…" if len(small) > 5 else "")
        return [f"Imbalanced classes: {listed} training samples against {max(self.train_counts):,} in the largest "
                "class. The model may learn to favour the large classes."]

    def size_note(self):
        if self.is_images:
            return f"{self.sample_shape[1]}x{self.sample_shape[0]}"
        return f"rows of {int(np.prod(self.sample_shape))} values"


class ArraysDialog(ImageFolderDialog):
    """The preview of a ``.npz`` data set for ``window``."""

    def __init__(self, window, path=None, parent=None):
        super().__init__(window, None, parent)
        self.setWindowTitle("Arrays")
        self.set_row_names(("Samples", "Sample shape", "Values", "Test set"), "Samples per class")
        self.choose_button.setText("Choose File…")
        self.choose_button.clicked.disconnect()
        self.choose_button.clicked.connect(self.choose_file)
        if path:
            self.open_file(path)

    def choose_file(self):
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(self, "Open arrays", "", "NumPy arrays (*.npz);;All files (*)")
        if path:
            self.open_file(path)

    def open_folder(self, path) -> bool:  # the base class's entry point
        return self.open_file(path)

    def open_file(self, path) -> bool:
        from visualkeras_app.training.data import DatasetError, load_dataset
        from visualkeras_app.training.fit_check import remember_shape

        QGuiApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            if not str(path).lower().endswith(".npz"):
                raise DatasetError(f"{path}: not a .npz file. Arrays are a .npz holding x_train, y_train, x_test "
                                   "and y_test (numpy.savez).")
            ds = load_dataset(os.fspath(path))
        except (DatasetError, OSError) as e:
            self.summary, self.path = None, None
            self.path_label.setText(str(e))
            self._set_enabled(False)
            return False
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.path = os.path.abspath(os.fspath(path))
        s = self.summary = ArraysSummary(self.path, ds)
        remember_shape(self.path, s.sample_shape, len(s.class_names))
        self.setWindowTitle(f"Arrays – {os.path.basename(self.path)}")
        self.path_label.setText(self.path)
        self.images_label.setText(f"{len(ds.x_train):,} training and {len(ds.x_test):,} test samples in "
                                  f"{len(s.class_names)} classes")
        self.size_label.setText(s.size_note())
        self.mode_label.setText(("grayscale (1 channel)" if s.channels == 1 else f"{s.channels} channels")
                                if s.is_images else f"numbers ({ds.x_train.dtype})")
        self.split_label.setText("x_test and y_test")
        self.chart.set_counts(s.class_names, s.counts, warn=s.imbalanced())
        self.warning_label.setText("\n".join(s.warnings()))
        self.warning_label.setVisible(bool(s.warnings()))
        self.grid.set_rows([(n, s.samples.get(n, [])) for n in s.class_names[:MAX_CLASS_ROWS]],
                           per_row=SAMPLES_PER_CLASS)
        self._set_enabled(True)
        self.refresh_model()
        self.augment_button.setEnabled(self.augment_button.isEnabled() and s.is_images)
        return True

    def show_augmented(self):
        from visualkeras_app.data_ui.augment import AugmentedSamplesDialog

        s = self.summary
        order = np.argsort(np.arange(len(s.dataset.y_train)) % max(1, len(s.class_names)), kind="stable")
        dlg = AugmentedSamplesDialog(self._document(), [], s, parent=self, images=s.dataset.x_train[order[:16]])
        self.augmented_dialog = dlg
        dlg.show()
        return dlg
