"""Dataset ▸ Image folder…: look at a folder of images before training on it.

The dialog shows what `folder_data.scan_folder` found (classes and their counts as bars, with a warning when
they are imbalanced; a row of sample images per class; the image size and colour mode; the files that are not
images), the Input shape the model needs for these images, and, when the model on the canvas does not fit, the
edits that make it fit, one click each (undoable): set the Input's shape, add a Resizing layer after the Input,
set the last Dense's units. "See 16 augmented samples" runs the canvas's Random* layers, in training mode, on
sample images. "Use for Training" selects the folder in the Training panel; "Train" also starts a run.
"""
from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QScrollArea, QVBoxLayout)

from visualkeras_app.data_ui.preview import ClassCountChart, SampleGrid

SAMPLES_PER_CLASS = 6
MAX_CLASS_ROWS = 12


def _shape_text(shape):
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


class ImageFolderDialog(QDialog):
    """The preview of an image folder for ``window`` (a `MainWindow`); ``open_folder(path)`` fills it."""

    def __init__(self, window, path=None, parent=None):
        super().__init__(parent or window)
        self.window = window
        self.summary = None
        self.path = None
        self.fixes = []  # (button, callable) of the fixes offered now
        self.setWindowTitle("Image folder")
        self.resize(1000, 640)
        self._build()
        if path:
            self.open_folder(path)

    # ------------------------------------------------------------------ construction
    def _build(self):
        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        self.path_label = QLabel("Choose a folder with one subfolder of images per class.")
        self.path_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.choose_button = QPushButton("Choose Folder…")
        self.choose_button.clicked.connect(self.choose_folder)
        top.addWidget(self.path_label, 1)
        top.addWidget(self.choose_button)
        outer.addLayout(top)

        body = QHBoxLayout()
        left = QVBoxLayout()
        about = QGroupBox("Data")
        form = QFormLayout(about)
        self.images_label = QLabel()
        self.size_label = QLabel()
        self.mode_label = QLabel()
        self.split_label = QLabel()
        self.split_label.setWordWrap(True)
        self.row_names = []
        for name, w in (("Images", self.images_label), ("Image size", self.size_label),
                        ("Colour", self.mode_label), ("Test set", self.split_label)):
            self.row_names.append(QLabel(name))
            form.addRow(self.row_names[-1], w)
        left.addWidget(about)
        classes = self.classes_box = QGroupBox("Images per class")
        cl = QVBoxLayout(classes)
        self.chart = ClassCountChart()
        cl.addWidget(self.chart)
        self.warning_label = QLabel()
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color: #B8660B;")
        cl.addWidget(self.warning_label)
        left.addWidget(classes, 1)
        model_box = QGroupBox("The model")
        ml = QVBoxLayout(model_box)
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        self.model_label.setTextFormat(Qt.RichText)
        ml.addWidget(self.model_label)
        self.fix_row = QVBoxLayout()
        ml.addLayout(self.fix_row)
        augment_row = QHBoxLayout()
        self.add_augment_button = QPushButton("Add Augmentation Layers")
        self.add_augment_button.setToolTip("Insert RandomRotation, RandomZoom and RandomTranslation after the "
                                           "Input: they change every training image a little, and pass images "
                                           "unchanged outside training. Undo (Ctrl+Z) takes them back.")
        self.add_augment_button.clicked.connect(self.add_augmentation)
        self.augment_button = QPushButton("See 16 Augmented Samples")
        self.augment_button.clicked.connect(self.show_augmented)
        augment_row.addWidget(self.add_augment_button)
        augment_row.addWidget(self.augment_button)
        ml.addLayout(augment_row)
        left.addWidget(model_box)
        body.addLayout(left, 2)

        samples = QGroupBox("Samples")
        sl = QVBoxLayout(samples)
        self.grid = SampleGrid(size=52)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid)
        sl.addWidget(scroll)
        self.samples_box, self.samples_scroll = samples, scroll
        body.addWidget(samples, 3)
        outer.addLayout(body, 1)

        self.buttons = QDialogButtonBox()
        self.use_button = self.buttons.addButton("Use for Training", QDialogButtonBox.AcceptRole)
        self.train_button = self.buttons.addButton("Train", QDialogButtonBox.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.Cancel)
        self.use_button.clicked.connect(self.use_for_training)
        self.train_button.clicked.connect(self.train)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)
        self._set_enabled(False)

    def set_row_names(self, names, classes_title):
        """Name the four rows of the Data box and the class chart's box (a table has rows, not images)."""
        for label, name in zip(self.row_names, names):
            label.setText(name)
        self.classes_box.setTitle(classes_title)

    def _set_enabled(self, on):
        for b in (self.use_button, self.train_button, self.augment_button, self.add_augment_button):
            b.setEnabled(on)

    # ------------------------------------------------------------------ the folder
    def choose_folder(self):
        path = QFileDialog.getExistingDirectory(self, "Open an image folder", self.path or "")
        if path:
            self.open_folder(path)

    def open_folder(self, path) -> bool:
        """Scan ``path`` and show it; False (with the reason shown) when it is not an image data set."""
        from visualkeras_app.training.fit_check import remember_shape
        from visualkeras_app.training.folder_data import FolderError, scan_folder

        QGuiApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            summary = scan_folder(path)
        except FolderError as e:
            self.summary, self.path = None, None
            self.path_label.setText(str(e))
            self._set_enabled(False)
            return False
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.summary, self.path = summary, os.path.abspath(os.fspath(path))
        remember_shape(self.path, summary.sample_shape, len(summary.class_names))
        self.setWindowTitle(f"Image folder – {os.path.basename(self.path)}")
        self.path_label.setText(self.path)
        s = summary
        self.images_label.setText(f"{s.num_images:,} in {len(s.class_names)} classes")
        self.size_label.setText(s.size_note())
        self.mode_label.setText("grayscale (1 channel)" if s.channels == 1 else "colour (3 channels, RGB)")
        if s.test_dir:
            self.split_label.setText(f"the {os.path.basename(s.test_dir)}/ folder ({sum(s.test_counts):,} images)")
        else:
            from visualkeras_app.training.folder_data import FOLDER_TEST_FRACTION

            self.split_label.setText(f"{FOLDER_TEST_FRACTION:.0%} of each class, held out (the same images every "
                                     "time)")
        self.chart.set_counts(s.class_names, s.counts, warn=s.imbalanced())
        self.warning_label.setText("\n".join(s.warnings()))
        self.warning_label.setVisible(bool(s.warnings()))
        rows = [(name, s.samples.get(name, [])) for name in s.class_names[:MAX_CLASS_ROWS]]
        self.grid.set_rows(rows, per_row=SAMPLES_PER_CLASS)
        self._set_enabled(True)
        self.refresh_model()
        return True

    # ------------------------------------------------------------------ the model
    def _document(self):
        return self.window.controller.document

    def refresh_model(self):
        """Say whether the canvas's model takes these images, and offer the fixes that make it."""
        from visualkeras_app.training.fit_check import fit_problem, model_io

        for button, _ in self.fixes:
            self.fix_row.removeWidget(button)
            button.deleteLater()
        self.fixes = []
        if self.summary is None:
            return
        s = self.summary
        need = _shape_text(s.input_shape)
        doc = self._document()
        doc.infer()
        io = model_io(doc)
        from visualkeras_app.data_ui.augment import can_add_augmentation

        self.add_augment_button.setEnabled(getattr(self.summary, "is_images", True)
                                           and can_add_augmentation(self._document()))
        self.augment_button.setEnabled(bool(self._augmentation_nodes()))
        self.augment_button.setToolTip("" if self.augment_button.isEnabled() else
                                       "Add Random* layers (Preprocessing in the palette) after the Input to "
                                       "augment the images in training")
        if io is None:
            self.model_label.setText(f"These {self._what()} need an Input of shape <b>{need}</b> and a last Dense of "
                                     f"<b>{len(s.class_names)}</b> units. The canvas has no model with one Input "
                                     "and one output yet.")
            return
        in_node, out_node, in_shape, out_shape = io
        problem = fit_problem(doc, self.path, self._loss())
        has = f"The model's Input is {_shape_text(tuple(in_shape)[1:])}, its output {_shape_text(out_shape)}."
        if problem is None:
            self.model_label.setText(f"These {self._what()} need an Input of shape <b>{need}</b>. {has} "
                                     "<span style='color:#2E8B57'><b>The model fits.</b></span>")
            return
        self.model_label.setText(f"These {self._what()} need an Input of shape <b>{need}</b>. {has}<br>"
                                 f"<span style='color:#C83C32'>{problem.message}</span>")
        from visualkeras_app.training.fit_check import _fits, stand_in

        data = stand_in(self.path)
        k = len(s.class_names)
        if not _fits(data, in_shape, (None, k), "auto", "softmax"):
            resize = self._resize_fix(in_node, in_shape)
            if resize is not None:
                self._offer(*resize)
            target = list(s.input_shape)
            self._offer(f"Set the Input to {_shape_text(s.input_shape)}",
                        lambda: self._set_param(in_node.id, "batch_shape", [None, *target]))
        units = out_shape[-1]
        if out_node.class_name == "Dense" and len(out_shape) == 2 and units != k and not (units == 1 and k == 2):
            self._offer(f"Set {out_node.name}'s units to {k}", lambda: self._set_param(out_node.id, "units", k))

    def _what(self):
        return "images" if getattr(self.summary, "is_images", True) else "samples"

    def _loss(self):
        panel = getattr(self.window.training, "panel", None)
        return panel.settings().loss if panel is not None else "auto"

    def _offer(self, text, fn):
        button = QPushButton(text)
        button.setToolTip(f"{text}. Undo (Ctrl+Z) takes it back.")
        button.clicked.connect(lambda: self._apply(fn))
        self.fix_row.addWidget(button)
        self.fixes.append((button, fn))

    def _apply(self, fn):
        fn()
        self.refresh_model()

    def _set_param(self, node_id, key, value):
        ctl = self.window.controller
        if ctl.set_param(node_id, key, value):
            self.window.show_message(f"Set {ctl.document.nodes[node_id].name}'s {key} to {value}: undo with Ctrl+Z.")

    def _resize_fix(self, in_node, in_shape):
        """("Add Resizing…", fn) when the model takes images of another height and width with the same channels,
        and its Input feeds one layer: the Input takes these images and a Resizing layer gives the model its size."""
        want = tuple(in_shape)[1:]
        have = self.summary.input_shape
        doc = self._document()
        outgoing = [e for e in doc.edges if e.src == in_node.id]
        if len(want) != 3 or None in want or want[2] != have[2] or want[:2] == have[:2] or len(outgoing) != 1:
            return None
        if doc.nodes[outgoing[0].dst].class_name == "Resizing":
            return None
        h, w = want[:2]

        def fix():
            ctl = self.window.controller
            ctl.undo_stack.beginMacro(f"Resize the {have[1]}x{have[0]} images to {w}x{h}")
            try:
                ctl.set_param(in_node.id, "batch_shape", [None, *have])
                src, dst = doc.nodes[outgoing[0].src].pos, doc.nodes[outgoing[0].dst].pos
                node_id = ctl.insert_into_edge("Resizing", outgoing[0], ((src[0] + dst[0]) / 2, (src[1] + dst[1]) / 2))
                if node_id is not None:
                    ctl.set_param(node_id, "height", h)
                    ctl.set_param(node_id, "width", w)
            finally:
                ctl.undo_stack.endMacro()
            self.window.show_message(f"Added Resizing({h}, {w}) after the Input: undo with Ctrl+Z.")

        return f"Add Resizing to {w}x{h} after the Input", fix

    def _augmentation_nodes(self):
        from visualkeras_app.data_ui.augment import augmentation_nodes

        return augmentation_nodes(self._document())

    def add_augmentation(self):
        """Put the standard Random* layers after the Input (one undo step), then show what they do."""
        from visualkeras_app.data_ui.augment import add_augmentation

        ids = add_augmentation(self.window.controller)
        if ids:
            self.window.show_message(f"Added {len(ids)} augmentation layers after the Input: undo with Ctrl+Z.")
        self.refresh_model()
        return ids

    def show_augmented(self):
        """A window of 16 sample images passed through the canvas's Random* layers in training mode."""
        from visualkeras_app.data_ui.augment import AugmentedSamplesDialog

        paths = [p for name in self.summary.class_names for p in self.summary.samples.get(name, [])]
        dlg = AugmentedSamplesDialog(self._document(), paths, self.summary, parent=self)
        self.augmented_dialog = dlg
        dlg.show()
        return dlg

    # ------------------------------------------------------------------ using it
    def use_for_training(self):
        """Select the folder in the Training panel (which then checks the model against it)."""
        training = self.window.training
        if training.panel is None:
            self.window.start()
        if training.panel is not None:
            training.panel.set_dataset(self.path)
            training.training_dock.show()
            training.training_dock.raise_()
            training.schedule_fit_check()
        self.window.show_message(f"Training on {os.path.basename(self.path)}: {self.summary.num_images:,} images, "
                                 f"{len(self.summary.class_names)} classes.")
        self.accept()

    def train(self):
        self.use_for_training()
        return self.window.training.train()
