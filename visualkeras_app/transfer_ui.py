"""The weights of a transfer-learning template's base (File > New from Template > Transfer Learning).

After "Image classifier from MobileNetV2" (or EfficientNetB0, ResNet50) opens, a small dialog offers the
base's weights: Keras's ImageNet file (downloaded once into ``~/.keras/models/`` and checked against
Keras's published hash), a weights file the user chooses (a Keras ``.weights.h5``/``.h5`` of the base built
with ``include_top=False``), or none. A failed download says why and what to do: offline, the message names
the file, its URL and the folder to copy it into.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout


class BaseWeightsDialog(QDialog):
    """Non-modal: the template is already open behind it; each button acts on the window's document."""

    def __init__(self, window, base_name):
        super().__init__(window)
        self.window_ = window
        self.base_name = base_name
        self.setObjectName("base_weights_dialog")
        self.setWindowTitle(f"Weights for the {base_name} base")
        text = QLabel(
            f"The {base_name} base is frozen (trainable off in the inspector) and has no weights yet.<br><br>"
            f"<b>ImageNet weights</b>: Keras's published file, downloaded once into ~/.keras/models/ and checked "
            f"against its hash.<br><b>A weights file</b>: a Keras .weights.h5 or .h5 of {base_name} built with "
            "include_top=False.<br><b>No weights</b>: train everything from scratch (turn trainable on).")
        text.setWordWrap(True)
        text.setTextFormat(Qt.RichText)
        self.imagenet_button = QPushButton("Download ImageNet Weights")
        self.file_button = QPushButton("Choose a Weights File…")
        self.skip_button = QPushButton("No Weights")
        self.imagenet_button.clicked.connect(lambda: self.load("imagenet"))
        self.file_button.clicked.connect(self.choose_file)
        self.skip_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        for b in (self.imagenet_button, self.file_button, self.skip_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(buttons)
        self.resize(560, 0)

    def choose_file(self):
        path, _ = QFileDialog.getOpenFileName(self, f"Weights of the {self.base_name} base", "",
                                              "Keras weights (*.weights.h5 *.h5 *.keras);;All files (*)")
        if path:
            self.load(path)

    def load(self, weights) -> bool:
        from visualkeras_app.background import LoadCancelled, run_in_background
        from visualkeras_app.document.app_templates import apply_base_weights, base_plan, read_base_weights

        doc = self.window_.controller.document
        what = "ImageNet weights" if weights == "imagenet" else str(weights)
        try:
            plan = base_plan(doc, self.base_name)
            # The download and the base's model on a worker: the window answers, with progress and Cancel.
            arrays = run_in_background(self.window_, f"Loading the {self.base_name} base's {what}…",
                                       lambda: read_base_weights(plan, weights), title="Base weights")
            if doc is not self.window_.controller.document:
                return False  # another model was opened meanwhile
            count = apply_base_weights(doc, arrays)
        except LoadCancelled:
            self.window_.show_message(f"Loading the {self.base_name} base's weights was cancelled.")
            return False
        except Exception as exc:  # offline, a bad hash, a file of another model: the message says which
            self.window_._error("Could not load the base weights", f"{what}: {exc}")
            return False
        self.window_.mark_unsaved()
        source = "ImageNet" if weights == "imagenet" else str(weights)
        self.window_.show_message(f"{self.base_name} base: weights of {count} layers loaded from {source}.")
        self.accept()
        return True


def offer_base_weights(window, key):
    """Show the dialog after a transfer-learning template ``key`` opened; None for any other key."""
    from visualkeras_app.document.app_templates import TRANSFER_BASES, TRANSFER_PREFIX

    base = key[len(TRANSFER_PREFIX):] if key.startswith(TRANSFER_PREFIX) else None
    if base not in TRANSFER_BASES:
        return None
    dialog = BaseWeightsDialog(window, base)
    dialog.setAttribute(Qt.WA_DeleteOnClose)
    dialog.show()
    return dialog
