"""``MaxNumBoundingBoxes``: pads or truncates each image's bounding boxes to a fixed number, as Keras's
(images, labels and segmentation masks pass through)."""
from __future__ import annotations

import torch

from engine import backend
from engine.layers.core import describe
from engine.layers.layer import Layer, to_tensor
from engine.layers.registry import register

__all__ = ["MaxNumBoundingBoxes"]


@register("Preprocessing")
class MaxNumBoundingBoxes(Layer):
    """Makes every image have ``max_number`` bounding boxes: extra boxes are dropped, missing ones are
    filled with ``fill_value``, so that batches of detection data stack. Called on
    ``{"images": ..., "bounding_boxes": {"boxes": (batch, n, 4), "labels": (batch, n)}}``; images (and a
    plain image tensor) pass through unchanged.

    Args:
        max_number: the number of boxes per image.
        fill_value: the value of padding boxes and labels (-1).
        bounding_box_format: the boxes' format (``"xyxy"``...); required to pass boxes, as in Keras.
    """

    def __init__(self, max_number, fill_value=-1, bounding_box_format=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.bounding_box_format = bounding_box_format
        self.data_format = backend.standardize_data_format(data_format)
        self.max_number = int(max_number)
        self.fill_value = int(fill_value)
        if self.max_number < 1:
            raise ValueError(f"{describe(self)}: `max_number` must be a positive integer. Received: {max_number!r}")
        self.built = True

    def _eager_call(self, inputs, *args, training=None, **kwargs):
        if not isinstance(inputs, dict):
            return to_tensor(inputs)
        out = dict(inputs)
        boxes = inputs.get("bounding_boxes")
        if boxes is not None and self.bounding_box_format is None:
            raise ValueError("You passed an input with a 'bounding_boxes' key, but you didn't specify a bounding box "
                             f"format. Pass a `bounding_box_format` argument to your {type(self).__name__} layer, "
                             "e.g. `bounding_box_format='xyxy'`.")
        if boxes is not None:
            out["bounding_boxes"] = self._fix(boxes)
        return out

    def call(self, inputs):
        return inputs

    def _fix(self, bounding_boxes):
        if not isinstance(bounding_boxes, dict) or set(bounding_boxes) - {"boxes", "labels"} or \
                "boxes" not in bounding_boxes:
            got = sorted(bounding_boxes) if isinstance(bounding_boxes, dict) else bounding_boxes
            raise KeyError(f"{describe(self)}: `bounding_boxes` must be a dict with 'boxes' (batch, n, 4) and "
                           f"'labels' (batch, n). Received keys: {got!r}")
        boxes = to_tensor(bounding_boxes["boxes"])
        labels = to_tensor(bounding_boxes["labels"]) if "labels" in bounding_boxes else None
        if boxes.dim() != 3 or boxes.shape[-1] != 4:
            raise ValueError(f"{describe(self)}: boxes must have shape (batch, num_boxes, 4). Received: "
                             f"{tuple(boxes.shape)}")
        pad = max(self.max_number - boxes.shape[1], 0)
        boxes = torch.nn.functional.pad(boxes[:, :self.max_number], (0, 0, 0, pad), value=self.fill_value)
        out = dict(bounding_boxes)
        out["boxes"] = boxes
        if labels is not None:
            out["labels"] = torch.nn.functional.pad(labels[:, :self.max_number], (0, pad), value=self.fill_value)
        return out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        # Keras's keys (its config leaves fill_value out, so a reloaded layer pads with -1)
        config.update({"data_format": self.data_format, "bounding_box_format": self.bounding_box_format,
                       "max_number": self.max_number})
        return config
