"""``Input()`` and ``InputLayer``: where a functional graph starts."""
from __future__ import annotations

from engine.layers.layer import Layer, standardize_shape
from engine.layers.node import KerasTensor, Node
from engine.layers.registry import register


@register("Core")
class InputLayer(Layer):
    """The entry of a model: holds the shape (without the batch axis) and dtype of one input.

    Args:
        shape: the input's shape without the batch size, e.g. ``(28, 28, 1)``.
        batch_size: optional fixed batch size.
        dtype: the input's dtype (``"float32"``; ``"int32"`` for token ids).
        batch_shape: the full shape including the batch axis (alternative to ``shape``).
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, batch_shape=None, name=None, sparse=None,
                 ragged=None, input_tensor=None, optional=False, **kwargs):
        # Keras 2 configs call it batch_input_shape; older code passes input_shape.
        batch_shape = batch_shape or kwargs.pop("batch_input_shape", None)
        if shape is None and "input_shape" in kwargs:
            shape = kwargs.pop("input_shape")
        kwargs.pop("trainable", None)
        super().__init__(name=name, dtype=dtype or "float32", **kwargs)
        if batch_shape is not None:
            self._batch_shape = standardize_shape(batch_shape)
        elif shape is not None:
            self._batch_shape = (batch_size,) + standardize_shape(shape)
        else:
            raise ValueError("Input needs a shape, e.g. Input(shape=(28, 28, 1)). Received: shape=None")
        self.built = True
        tensor = KerasTensor(self._batch_shape, dtype=self._dtype, name=self.name)
        Node(self, arguments=None, outputs=tensor)
        self.output_tensor = tensor

    @property
    def batch_shape(self):
        return self._batch_shape

    def get_config(self):
        return {"batch_shape": list(self._batch_shape), "dtype": self._dtype, "sparse": False,
                "ragged": False, "name": self.name, "optional": False}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for k in ("sparse", "ragged", "optional"):
            config.pop(k, None)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = config["dtype"].get("config", {}).get("name", "float32")
        return cls(**config)


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None,
          optional=False, **kwargs):
    """Create a symbolic input tensor (the start of a functional model).

    Example: ``x = Input(shape=(28, 28, 1))``.
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape, name=name,
                       **kwargs)
    return layer.output_tensor
