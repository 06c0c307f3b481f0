"""``Model``: a Layer that holds layers and can be trained (``compile``/``fit``/``evaluate``/``predict``).

``Model(inputs, outputs)`` builds a functional model; subclassing ``Model`` and writing ``call`` works
too, as in Keras.
"""
from __future__ import annotations

import json

import numpy as np
import torch

from engine import losses, optimizers
from engine.layers.layer import Layer, to_tensor, saveable_key
from engine.layers.node import is_symbolic
from engine.saving import saving_api, serialization
from engine.trainers.trainer import Trainer
from engine.utils.summary_utils import print_summary

# functional.py and sequential.py subclass Model, so this module cannot import them: they register their
# classes with engine.saving when they load (serialization.model_class("Functional") finds them), and
# engine.saving never imports engine.models.


class Model(Trainer, Layer):
    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            return super().__new__(serialization.model_class("Functional"))
        if _functional_arguments(args, kwargs) and _symbolic_inputs(args, kwargs):
            if not issubclass(cls, tuple(serialization.MODEL_CLASSES.values())):
                # `class M(Model)` built as M(inputs, outputs) is a functional model that keeps M's methods
                # (train_step, ...), as Keras makes it: M placed in front of Functional.
                return super().__new__(_functional_subclass(cls))
        return super().__new__(cls)

    def __init__(self, *args, name=None, trainable=True, **kwargs):
        if args:
            raise TypeError("Model(...) takes inputs and outputs: Model(inputs=x, outputs=y).")
        kwargs.pop("dtype", None)
        Layer.__init__(self, name=name, trainable=trainable, **kwargs)
        Trainer.__init__(self)

    @property
    def layers(self):
        return [m for m in self._modules.values() if isinstance(m, Layer)]

    def _sublayers(self):
        return self.layers

    def _needs_slow_path(self):
        """True when some layer starts a mask or has an activity regularizer (checked per call: cheap)."""
        for layer in self.layers:
            if layer.activity_regularizer is not None or layer.produces_mask:
                return True
        return False

    def get_layer(self, name=None, index=None):
        """A layer by ``name`` or by ``index`` in ``model.layers``."""
        if index is not None and name is not None:
            raise ValueError("Provide only a layer name or a layer index, not both.")
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"Layer index {index} is out of range: the model has {len(layers)} layers.")
            return layers[index]
        if name is not None:
            for l in layers:
                if l.name == name:
                    return l
            raise ValueError(f"No such layer: {name!r}. Existing layers are: {[l.name for l in layers]}.")
        raise ValueError("Provide either a layer name or a layer index.")

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Print Keras's summary table: layer (type), output shape, params (and connections) and totals."""
        print_summary(self, line_length=line_length, print_fn=print_fn, show_trainable=show_trainable)

    def get_weights(self):
        return [w.detach().cpu().numpy().copy() for w in self.weights]

    def set_weights(self, weights):
        params = self.weights
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(f"Model {self.name!r} has {len(params)} weight arrays but {len(weights)} were given.")
        for p, w in zip(params, weights):
            if tuple(np.shape(w)) != tuple(p.shape):
                raise ValueError(f"Weight shape mismatch in model {self.name!r}: expected {tuple(p.shape)}, "
                                 f"received {tuple(np.shape(w))}.")
        with torch.no_grad():
            for p, w in zip(params, weights):
                p.copy_(torch.as_tensor(np.asarray(w), dtype=p.dtype))

    def _eager_call(self, inputs, *args, training=None, **kwargs):
        inputs = to_tensor(inputs)
        if not self.built:
            self._build_from_data(inputs)
        dev = self._device()
        if dev is not None:
            inputs = _move(inputs, dev)
        if self._takes_training():
            kwargs["training"] = bool(training)
        return self.call(inputs, **kwargs)

    def _build_from_data(self, inputs):
        self.built = True

    def _device(self):
        for p in self.parameters():
            return p.device
        return None

    def get_config(self):
        """A subclassed model's architecture is its Python code: Sequential and functional models have
        a config (they override this)."""
        raise NotImplementedError(
            f"Model {self.name!r} is a subclassed Model; its architecture is Python code and has no config. "
            "Use save_weights() or build it as Sequential/functional.")

    def get_build_config(self):
        """``{"input_shape": ...}`` of a built model with inputs (what Keras writes beside its config)."""
        if not (self.built and getattr(self, "inputs", None)):
            return None
        shapes = [list(t.shape) for t in self.inputs]
        return {"input_shape": shapes[0] if len(shapes) == 1 else shapes}

    def saveable_children(self):
        """A subclassed model: Keras visits its attributes by name, the ``layers`` list among them
        (Sequential and functional models override this: their layers only)."""
        items = [(k, m) for k, m in super().saveable_children() if isinstance(m, Layer)]
        return sorted(items + [("layers", self.layers)], key=lambda kv: saveable_key(kv[0]))

    @property
    def variable_path_prefix(self):
        """What Keras 3 puts before a layer's name in its weights' paths (``w.path``) when the layer is
        built by this model: nothing for a functional model, whose layers are built outside it."""
        return ""

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A model from ``get_config()``'s dict; ``custom_objects`` maps names to the caller's own classes."""
        if isinstance(config, dict) and "class_name" not in config:
            if "input_layers" in config:
                config = {"class_name": "Functional", "config": config}
            elif "layers" in config:
                config = {"class_name": "Sequential", "config": config}
        model = serialization.model_from_config(config, custom_objects=custom_objects)
        if cls not in (Model,) and not isinstance(model, cls) \
                and isinstance(model, serialization.model_class("Functional")):
            # M.from_config(M(inputs, outputs).get_config()) is an M again, as in Keras.
            new = cls.__new__(cls, model.inputs, model.outputs)
            new.__init__(model.inputs_structure, model.outputs_structure, name=model.name)
            return new
        return model

    # ------------------------------------------------------------------ saving
    def save(self, filepath, overwrite=True, **kwargs):
        """Save the model to ``.keras`` (Keras 3 zip) or ``.h5`` (legacy HDF5); Keras loads both.

        Args:
            filepath: a path ending in ``.keras`` or ``.h5``.
            overwrite: whether to replace an existing file.
            include_optimizer: (keyword) whether to save the compile configuration and optimizer state.
        """
        saving_api.save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite=True, max_shard_size=None):
        """Save the weights to ``.weights.h5`` (Keras 3 layout) or ``.h5`` (Keras 2's legacy layout)."""
        if max_shard_size is not None:
            raise ValueError("Sharded weights files are not supported; leave max_shard_size=None.")
        saving_api.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Load weights from ``.weights.h5``, a full ``.h5`` model file or a ``.keras`` archive.

        Weights pair with layers by position, as in Keras. ``skip_mismatch=True`` skips (with a
        warning) layers whose weights are missing or have another shape instead of failing.
        Raises ``engine.saving.ModelFileError`` for a file that does not fit or cannot be read.
        """
        saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def get_compile_config(self):
        """The arguments of ``compile()`` as Keras saves them (None when not compiled)."""
        if not self.compiled or self.optimizer is None:
            return None
        args = self._compile_args or {}
        return {
            "optimizer": optimizers.serialize(self.optimizer),
            "loss": saving_api.map_nested(losses.serialize, args.get("loss")),
            "loss_weights": args.get("loss_weights"),
            "metrics": saving_api.map_nested(saving_api.serialize_metric, args.get("metrics")),
            "weighted_metrics": saving_api.map_nested(saving_api.serialize_metric, args.get("weighted_metrics")),
            "run_eagerly": args.get("run_eagerly", False),
            "steps_per_execution": args.get("steps_per_execution", 1),
            "jit_compile": args.get("jit_compile", False),
        }

    def compile_from_config(self, config):
        """Compile with a ``get_compile_config()`` dict (as Keras does when loading a file)."""
        saving_api.compile_from_config(self, config)

    def to_json(self, **kwargs):
        return json.dumps(serialization.serialize_model(self), **kwargs)


_FUNCTIONAL_SUBCLASSES: dict = {}


def _functional_arguments(args, kwargs):
    """Keras's test for ``Model(inputs, outputs)`` call arguments."""
    return len(args) == 2 or (len(args) == 1 and "outputs" in kwargs) or ("inputs" in kwargs and "outputs" in kwargs)


def _symbolic_inputs(args, kwargs):
    """True when the ``inputs`` argument holds Input tensors: `class VAE(Model)` built as
    ``VAE(encoder, decoder)`` takes two positional arguments without being a functional model."""
    return is_symbolic(args[0] if args else kwargs.get("inputs"))


def _functional_subclass(cls):
    """``cls`` with ``Functional`` behind it in the method order (made once per class)."""
    Functional = serialization.model_class("Functional")
    made = _FUNCTIONAL_SUBCLASSES.get(cls)
    if made is None:
        made = type(cls.__name__, (cls, Functional), {"__module__": cls.__module__,
                                                     "__qualname__": cls.__qualname__})
        _FUNCTIONAL_SUBCLASSES[cls] = made
    return made


def _move(x, dev):
    if isinstance(x, torch.Tensor):
        return x.to(dev) if x.device != dev else x
    if isinstance(x, (list, tuple)):
        return [_move(t, dev) for t in x]
    if isinstance(x, dict):
        return {k: _move(v, dev) for k, v in x.items()}
    return x
