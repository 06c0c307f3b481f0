"""Augmentation on the canvas, seen before training: sample images through the model's Random* layers.

The Random* layers (RandomFlip, RandomRotation, RandomZoom...) are layers of the model like any other: in
training they draw a new change for every image, and outside training (evaluate, predict, Draw a digit) they
pass the image through unchanged, as in Keras. ``augment`` runs the chain of image layers right after the
Input (the Random* ones, and Resizing/Rescaling/crops between them) with ``training=True`` on images prepared
as training prepares them (pixels scaled to 0-1), so what is shown is what the next layer sees in training.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout

from visualkeras_app.data_ui.preview import SampleGrid

# Image layers that may sit between the Input and the augmentation, or among it.
_IMAGE_LAYERS = {"Resizing", "Rescaling", "CenterCrop", "Normalization", "AutoContrast", "Equalization",
                 "Solarization", "MixUp", "CutMix"}


def augmentation_nodes(doc):
    """The nodes of the chain right after the (single) Input made of image layers, when one of them is a
    Random* layer; else []."""
    inputs = [n for n in doc.nodes.values() if n.is_input]
    if len(inputs) != 1:
        return []
    chain, current = [], inputs[0].id
    while True:
        nxt = [e.dst for e in doc.edges if e.src == current]
        if len(nxt) != 1:
            break
        node = doc.nodes[nxt[0]]
        if not (node.class_name.startswith("Random") or node.class_name in _IMAGE_LAYERS):
            break
        chain.append(node)
        current = node.id
    return chain if any(n.class_name.startswith("Random") for n in chain) else []


# What "Add Augmentation Layers" puts after the Input, with the palette's defaults: small turns, zooms and
# shifts, which suit most image data (flips are left out: a flipped digit or letter is another class).
STANDARD_AUGMENTATION = ("RandomRotation", "RandomZoom", "RandomTranslation")


def can_add_augmentation(doc):
    """True when the document has one Input feeding one layer and no augmentation after it yet."""
    inputs = [n for n in doc.nodes.values() if n.is_input]
    return (len(inputs) == 1 and len([e for e in doc.edges if e.src == inputs[0].id]) == 1
            and not augmentation_nodes(doc))


def add_augmentation(controller, classes=STANDARD_AUGMENTATION):
    """Insert ``classes`` (Random* layers) right after the Input, in this order, as one undo step; returns
    their node ids ([] when ``can_add_augmentation`` is False)."""
    doc = controller.document
    if not can_add_augmentation(doc):
        return []
    inp = next(n for n in doc.nodes.values() if n.is_input)
    ids = []
    controller.undo_stack.beginMacro("Add augmentation layers")
    try:
        for class_name in classes:
            src = ids[-1] if ids else inp.id
            edge = next(e for e in doc.edges if e.src == src)
            a, b = doc.nodes[edge.src].pos, doc.nodes[edge.dst].pos
            node_id = controller.insert_into_edge(class_name, edge, ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2))
            if node_id is None:
                break
            ids.append(node_id)
    finally:
        controller.undo_stack.endMacro()
    return ids


def read_images(paths, image_size, channels):
    """Float32 images (N, H, W, C) in [0, 1], read as the training data is (resized to ``image_size``)."""
    from engine.utils import image_utils

    out = []
    for p in paths:
        x = image_utils.load_and_resize(p, image_size=tuple(image_size), num_channels=channels)
        out.append(np.asarray(x, np.float32) / 255.0)
    return np.stack(out) if out else np.zeros((0,) + tuple(image_size) + (channels,), np.float32)


def augment(doc, images, seed=None):
    """``images`` (N, H, W, C) passed through ``augmentation_nodes(doc)`` in training mode, as a NumPy array."""
    from engine import backend
    from visualkeras_app.document.defaults import build_layer

    nodes = augmentation_nodes(doc)
    if seed is not None:
        backend.set_seed(seed)
    x = images
    for node in nodes:
        layer = build_layer(node.class_name, node.config, name=node.name)
        x = layer(x, training=True)
    from engine import ops

    return np.asarray(ops.convert_to_numpy(x), np.float32)


def pick_samples(summary, n=16):
    """``n`` sample files spread over the classes: one of each class in turn."""
    lists = [list(summary.samples.get(c, [])) for c in summary.class_names]
    out = []
    for k in range(max((len(v) for v in lists), default=0)):
        for v in lists:
            if k < len(v) and len(out) < n:
                out.append(v[k])
    return out


class AugmentedSamplesDialog(QDialog):
    """16 sample images as the model's first layers change them in training; "Again" draws new changes."""

    def __init__(self, doc, paths, summary, parent=None, images=None):
        super().__init__(parent)
        self.setWindowTitle("Augmented samples (training only)")
        self.doc, self.summary = doc, summary
        if images is not None:  # arrays already in memory (an .npz): (N, H, W[, C]) scaled to 0-1
            self.paths = [f"sample {i}" for i in range(min(16, len(images)))]
            x = np.asarray(images[:16], np.float32)
            x = x / 255.0 if x.size and x.max() > 1.5 else x
            self.images = x[..., None] if x.ndim == 3 else x
        else:
            self.paths = pick_samples(summary) if summary is not None else list(paths)[:16]
            self.images = read_images(self.paths, summary.image_size, summary.channels)
        layout = QVBoxLayout(self)
        names = ", ".join(n.class_name for n in augmentation_nodes(doc))
        note = QLabel(f"Through {names}, as in training. Evaluate, predict and Draw a digit see the images "
                      "unchanged.")
        note.setWordWrap(True)
        layout.addWidget(note)
        self.grid = SampleGrid(size=88)
        layout.addWidget(self.grid)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        self.again_button = QPushButton("Again")
        buttons.addButton(self.again_button, QDialogButtonBox.ActionRole)
        self.again_button.clicked.connect(self.refresh)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self.augmented = None
        self.refresh()

    def refresh(self):
        self.augmented = augment(self.doc, self.images)
        self.grid.set_images(list(self.augmented), columns=4, tips=[str(p) for p in self.paths])
