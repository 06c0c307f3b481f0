"""Layers made of other layers: ``Pipeline`` (preprocessing layers applied in order) and ``Wrapper``
(Keras's base class of layers that wrap one layer)."""
from __future__ import annotations

import inspect

import torch

from engine.layers.core import describe
from engine.layers.layer import Layer, make_outputs
from engine.layers import registry
from engine.layers.registry import register
from engine.object_registration import CustomObjectScope

__all__ = ["Pipeline", "Wrapper", "Lambda"]


def _serialize(layer):
    return registry.serialize(layer)


def _deserialize(config):
    if isinstance(config, Layer):
        return config
    return registry.deserialize(config)


@register("Preprocessing")
class Pipeline(Layer):
    """Applies a list of layers in order, as one layer: usually preprocessing and augmentation layers
    (``Pipeline([RandomFlip(), RandomRotation(0.1), Rescaling(1 / 255)])``). Called directly it trains
    (augments), as Keras's; inside a model it follows the model's training flag. Its weights are its
    layers'.

    Args:
        layers: the layers, in order.
        name: the layer's name.

    Input shape:
        What the first layer takes.

    Output shape:
        What the last layer returns.
    """

    def __init__(self, layers, name=None, **kwargs):
        layers = list(layers) if isinstance(layers, (list, tuple)) else layers
        if isinstance(layers, list):  # serialized layers (a config, generated code) are rebuilt
            layers = [_deserialize(layer) if isinstance(layer, dict) and "class_name" in layer else layer
                      for layer in layers]
        if not isinstance(layers, list) or not all(isinstance(layer, Layer) for layer in layers):
            raise ValueError(f"Pipeline takes a list of layers, e.g. Pipeline([RandomFlip(), Rescaling(1 / 255)]). "
                             f"Received: layers={layers!r}")
        super().__init__(name=name, **kwargs)
        self._pipeline_layers = layers
        # Registered as the module list "layers": Keras's files keep their weights under layers/<class>.
        self._modules["layers"] = torch.nn.ModuleList(layers)

    @property
    def layers(self):
        return self._pipeline_layers

    def _sublayers(self):
        return list(self._pipeline_layers)  # their weights are the pipeline's

    def build(self, input_shape):
        shape = input_shape
        for layer in self._pipeline_layers:
            layer._maybe_build(shape)
            shape = layer.compute_output_shape(shape)
        self.built = True

    def _eager_call(self, inputs, *args, training=None, **kwargs):
        return super()._eager_call(inputs, *args, training=True if training is None else training, **kwargs)

    def call(self, inputs, training=True, mask=None):
        x = inputs
        for layer in self._pipeline_layers:
            kwargs = {}
            if layer._takes_training():
                kwargs["training"] = training
            if mask is not None and layer._takes_mask():
                kwargs["mask"] = mask
            x = layer(x, **kwargs)
            mask = getattr(x, "_keras_mask", None)
        return x

    def compute_output_shape(self, input_shape):
        shape = input_shape
        for layer in self._pipeline_layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def get_config(self):
        return {"layers": [_serialize(layer) for layer in self._pipeline_layers], "name": self.name}

    @classmethod
    def from_config(cls, config):
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError("`Pipeline` config must contain a `layers` key mapping to a list of serialized "
                             f"layers. Received config with layers={layers}.")
        config = dict(config)
        config["layers"] = [_deserialize(layer) for layer in layers]
        config.pop("trainable", None)
        config.pop("dtype", None)
        return cls(**config)


@register("Core")
class Wrapper(Layer):
    """Base class of layers that wrap another layer (as ``TimeDistributed`` and ``Bidirectional`` do):
    it holds ``self.layer``, builds it, counts its weights as its own and saves it in its config.
    Subclass it and write ``call``.

    Args:
        layer: the wrapped layer.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Layer {layer} supplied to Wrapper isn't a supported layer type. Please ensure "
                             "wrapped layer is a valid engine layer.")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer._maybe_build(input_shape)
        self.built = True

    def call(self, inputs, *args, **kwargs):
        raise NotImplementedError(f"{describe(self)}: Wrapper is a base class; subclass it and write call(), "
                                  "e.g. `return self.layer(inputs)` with your change around it.")

    def compute_output_shape(self, input_shape):
        if type(self).call is Wrapper.call:
            return self.layer.compute_output_shape(input_shape)
        return super().compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config["layer"] = _serialize(self.layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        with CustomObjectScope(custom_objects):
            layer = _deserialize(config.pop("layer"))
        return cls(layer, **config)


class Lambda(Layer):
    """Wraps a function as a layer: ``Lambda(lambda x: x ** 2)``. It works in code (models, fit,
    predict) as Keras's; it cannot go into a file, because a file would have to store the function's
    Python code and loading it would run that code: write a ``Layer`` subclass for models you save.

    Args:
        function: the function, called as ``function(inputs, **arguments)`` (and with ``mask`` /
            ``training`` when it takes them).
        output_shape: the output shape without the batch axis (a tuple), or a function of the input
            shape; by default found by running the function on placeholders.
        mask: a mask tensor, or a function ``mask(inputs, previous_mask)``, for the output.
        arguments: extra keyword arguments for ``function``.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        if not callable(function):
            raise ValueError(f"Lambda needs a callable `function`. Received: function={function!r}")
        super().__init__(**kwargs)
        self.function = function
        self.arguments = dict(arguments or {})
        self._output_shape = output_shape
        self.mask = mask
        self.supports_masking = mask is not None

        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            params = {}
        self._fn_takes_mask = "mask" in params
        self._fn_takes_training = "training" in params
        self.built = True

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_takes_mask:
            kwargs["mask"] = mask
        if self._fn_takes_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            spec = self._call_spec((make_outputs(input_shape, "float32"),), {})
            shapes = [tuple(t.shape) for t in (spec if isinstance(spec, (list, tuple)) else [spec])]
            return shapes[0] if len(shapes) == 1 else shapes
        if callable(self._output_shape):
            return tuple(self._output_shape(input_shape))
        batch = input_shape[0] if input_shape and not isinstance(input_shape[0], (list, tuple)) else None
        return (batch,) + tuple(self._output_shape)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def get_config(self):
        name = getattr(self.function, "__name__", type(self.function).__name__)
        raise ValueError(f"{describe(self)} wraps the Python function {name!r}, which a model file cannot hold "
                         "(loading it would run stored code, so the engine neither writes nor reads Lambda layers). "
                         "Write a Layer subclass with that call(), register it with "
                         "engine.saving.register_keras_serializable, and save the model with it.")
