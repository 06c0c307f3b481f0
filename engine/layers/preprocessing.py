"""Preprocessing layers that run inside a model: ``Rescaling``."""
from __future__ import annotations

import numpy as np
import torch

from engine import backend
from engine.layers.layer import Layer
from engine.layers.registry import register

__all__ = ["Rescaling"]


def _serialize_number(value):
    # Keras writes arrays as {"class_name": "__numpy__", ...}; numbers and lists as they are.
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": value.tolist(), "dtype": str(value.dtype)}}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _deserialize_number(value):
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        cfg = value.get("config") or {}
        return np.asarray(cfg.get("value"), dtype=cfg.get("dtype"))
    return value


@register("Core")
class Rescaling(Layer):
    """Multiplies the inputs by ``scale`` and adds ``offset``: ``x * scale + offset``.

    Integer inputs (e.g. ``uint8`` images) are cast to the layer's float dtype first. To map
    ``[0, 255]`` to ``[0, 1]`` use ``Rescaling(1 / 255)``; to ``[-1, 1]``, ``Rescaling(1 / 127.5, offset=-1)``.

    Args:
        scale: a float, or a list/array broadcast against the last axes (e.g. one value per channel).
        offset: a float or a list/array, like ``scale`` (0.0).

    Input shape:
        Any shape.

    Output shape:
        Same as the input.
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = self._check("scale", scale)
        self.offset = self._check("offset", offset)
        self._constants = {}  # (device, dtype) -> (scale, offset) tensors, so calls copy nothing
        self.supports_masking = True
        self.built = True

    @staticmethod
    def _check(name, value):
        arr = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
        try:
            arr = np.asarray(arr, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"Rescaling: {name} must be a number or a list/array of numbers. "
                             f"Received: {name}={value!r}") from None
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"Rescaling: {name} must be finite. Received: {name}={value!r}")
        return value

    def _tensors(self, device, dtype):
        key = (device, dtype)
        pair = self._constants.get(key)
        if pair is None:
            def as_tensor(v):
                if isinstance(v, (int, float)):
                    return v  # a Python scalar keeps the fast scalar kernels
                v = v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v)
                return torch.as_tensor(v, dtype=dtype, device=device)
            pair = (as_tensor(self.scale), as_tensor(self.offset))
            self._constants[key] = pair
        return pair

    def call(self, inputs):
        dtype = backend.torch_dtype(self._dtype)
        x = inputs if inputs.dtype == dtype else inputs.to(dtype)
        scale, offset = self._tensors(x.device, dtype)
        out = x * scale
        if not (isinstance(offset, (int, float)) and offset == 0):
            out = out + offset
        return out

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"scale": _serialize_number(self.scale), "offset": _serialize_number(self.offset)})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("scale", "offset"):
            if key in config:
                config[key] = _deserialize_number(config[key])
        return cls(**config)
