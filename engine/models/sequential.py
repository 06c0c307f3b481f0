"""``Sequential``: a plain stack of layers, each with one input and one output."""
from __future__ import annotations

import torch

from engine.layers.input_layer import InputLayer
from engine.layers.layer import Layer, dtype_policy_config
from engine.layers.node import KerasTensor
from engine.models.model import Model
from engine.saving.serialization import register_model_class, serialize_layer


class Sequential(Model):
    """A linear stack of layers: ``Sequential([Dense(64, input_dim=100), Dense(10)])`` or ``.add(...)``.

    The input shape comes from an ``Input``/``InputLayer`` first item or from the first layer's
    ``input_shape``/``input_dim``; without one the model builds on the first data it sees.
    """

    # How a file names the class (Keras 3's Sequential is exported from keras itself).
    keras_module = "keras"
    keras_class_name = "Sequential"
    keras_registered_name = None

    def __init__(self, layers=None, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._stack = torch.nn.ModuleList()
        self._names = set()  # the stack's layer names, so that add() checks a new name in O(1)
        self._input_layer = None
        self._output_tensor = None
        self.built = False
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        return list(self._stack)

    def add(self, layer, rebuild=True):
        if isinstance(layer, KerasTensor) and isinstance(layer.keras_history.operation, InputLayer):
            layer = layer.keras_history.operation
        if isinstance(layer, InputLayer):
            if self._input_layer is not None or len(self._stack):
                raise ValueError("An Input can only be the first item of a Sequential model.")
            self._input_layer = layer
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add() takes a layer instance. Received: {layer!r} "
                            f"(of type {type(layer).__name__}). Did you forget the parentheses, e.g. Dense(10)?")
        if len(self._names) != len(self._stack) or layer.name in self._names:
            self._names = {l.name for l in self._stack}  # a layer was renamed or removed: count again
        if layer.name in self._names:
            raise ValueError(f"All layers added to a Sequential model should have unique names. Name "
                             f"{layer.name!r} is already the name of a layer in this model.")
        if not len(self._stack) and self._input_layer is None and layer.batch_input_shape is not None:
            self._input_layer = InputLayer(batch_shape=layer.batch_input_shape, dtype=layer.input_dtype)
        self._stack.append(layer)
        self._names.add(layer.name)
        if self._input_layer is not None:
            try:
                self._output_tensor = layer(self._output_tensor if self._output_tensor is not None
                                            else self._input_layer.output_tensor)
            except Exception:
                self._stack = torch.nn.ModuleList(list(self._stack)[:-1])
                self._names.discard(layer.name)
                raise
            self.built = True

    def pop(self):
        if not len(self._stack):
            raise TypeError("There are no layers in the model.")
        layer = self._stack[-1]
        self._stack = torch.nn.ModuleList(list(self._stack)[:-1])
        self._names.discard(layer.name)
        self._rebuild()
        return layer

    def _rebuild(self):
        self._output_tensor = None
        if self._input_layer is None:
            return
        x = self._input_layer.output_tensor
        for l in self._stack:
            x = l(x)
        self._output_tensor = x if len(self._stack) else None

    def build(self, input_shape=None):
        if self._input_layer is None:
            if input_shape is None:
                raise ValueError("Sequential.build() needs an input shape, e.g. model.build((None, 784)).")
            self._input_layer = InputLayer(batch_shape=tuple(input_shape))
            self._rebuild()
        self.built = True

    def _build_from_data(self, inputs):
        if not isinstance(inputs, torch.Tensor):
            raise ValueError("A Sequential model takes a single input tensor.")
        self.build((None,) + tuple(inputs.shape[1:]))
        # Built from a first batch, not declared: as in Keras, later data may have other sizes on the
        # non-batch axes (e.g. sequences of another length into an RNN); fit/predict check only the rank.
        self._input_sizes_from_data = True

    def call(self, inputs, training=False):
        if self._needs_slow_path():
            return self._call_slow(inputs, training)
        x = inputs
        for layer in self._stack:
            x = layer.call(x, training=training) if layer._takes_training() else layer.call(x)
        return x

    def _call_slow(self, inputs, training):
        # Masks (from Embedding(mask_zero=True)) and activity regularizers need more than `call`.
        penalties = self._activity_penalties = []
        x, mask = inputs, None
        for layer in self._stack:
            x, mask = layer._run(x, training, mask, penalties)
        if mask is not None and isinstance(x, torch.Tensor):
            x._keras_mask = mask  # losses and metrics leave masked steps out, as in Keras
        return x

    def compute_output_shape(self, input_shape):
        s = tuple(input_shape)
        for l in self._stack:
            s = l.compute_output_shape(s)
        return s

    @property
    def inputs(self):
        return [self._input_layer.output_tensor] if self._input_layer is not None else None

    @property
    def outputs(self):
        return [self._output_tensor] if self._output_tensor is not None else None

    @property
    def input_names(self):
        return [self._input_layer.name] if self._input_layer is not None else []

    @property
    def output_names(self):
        return [self._stack[-1].name] if len(self._stack) else []

    @property
    def input_shape(self):
        if self._input_layer is None:
            raise AttributeError(f"Sequential model {self.name!r} has no input shape yet: it is not built.")
        return self._input_layer.batch_shape

    @property
    def output_shape(self):
        if self._output_tensor is None:
            raise AttributeError(f"Sequential model {self.name!r} has no output shape yet: it is not built.")
        return self._output_tensor.shape

    @property
    def input_layer(self):
        """The model's ``InputLayer`` (None until it has an input shape)."""
        return self._input_layer

    # ------------------------------------------------------------------ saving
    def get_config(self):
        """Keras 3's Sequential config: the InputLayer (when the model has one) and each layer's config."""
        layers = []
        if self._input_layer is not None:
            layers.append({"module": "keras.layers", "class_name": "InputLayer",
                           "config": self._input_layer.get_config(), "registered_name": None})
        layers += [serialize_layer(l) for l in self.layers]
        cfg = {"name": self.name, "trainable": self.trainable, "dtype": dtype_policy_config(), "layers": layers}
        if self._input_layer is not None:
            cfg["build_input_shape"] = list(self._input_layer.batch_shape)
        return cfg

    def saveable_children(self):
        """The weights tree holds the layers, under ``layers/``."""
        return [("layers", self.layers)]

    @property
    def variable_path_prefix(self):
        """Keras 3 builds a Sequential's layers inside the model's name scope: ``sequential/dense/kernel``."""
        return f"{self.name}/"


register_model_class("Sequential", Sequential)
