"""``serialize_keras_object``/``deserialize_keras_object``: any Keras object as a JSON-able dict, and back.

The dicts are Keras 3's (``{"module", "class_name", "config", "registered_name"}``). Going back, a
class or function is found only among the engine's own (layers, losses, metrics, optimizers,
initializers, regularizers, constraints, activations) and the user's (registered, in a
``custom_object_scope`` or passed as ``custom_objects``); the ``module`` a dict names is never imported.
"""
from __future__ import annotations

import importlib
import inspect

import numpy as np
import torch

from engine import activations, losses, metrics, ops
from engine.layers import registry
from engine.layers.layer import Layer
from engine.optimizers import serialization as optimizer_serialization
from engine.saving.object_registration import get_registered_name, get_registered_object, visible_custom_objects
from engine.saving.object_registration import CustomObjectScope
from engine.saving.serialization import deserialize_layer, serialize_layer

# The engine's own families, in the order an object is tried against them: (module in Keras's
# dicts, engine module name, base class name there).
_FAMILIES = (("keras.losses", "losses", "Loss"), ("keras.metrics", "metrics", "Metric"),
             ("keras.optimizers", "optimizers", "Optimizer"), ("keras.initializers", "initializers", "Initializer"),
             ("keras.regularizers", "regularizers", "Regularizer"), ("keras.constraints", "constraints", "Constraint"))


def _family(obj):
    for keras_module, name, base in _FAMILIES:
        mod = importlib.import_module(f"engine.{name}")
        if isinstance(obj, getattr(mod, base)):
            return keras_module, mod
    return None, None


def _is_engine_class(cls):
    return cls.__module__.split(".")[0] == "engine"


def serialize_keras_object(obj):
    """``obj`` as Keras 3 writes it: plain values as they are, arrays as ``__numpy__`` dicts, layers and
    models as their configs, other objects with ``get_config`` as class dicts, functions by name."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (np.generic,)):
        return obj.item()
    if isinstance(obj, torch.Tensor):
        obj = obj.detach().cpu().numpy()
    if isinstance(obj, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(), "dtype": obj.dtype.name}}
    if isinstance(obj, (list, tuple)):
        out = [serialize_keras_object(x) for x in obj]
        return tuple(out) if isinstance(obj, tuple) else out
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, Layer):
        return serialize_layer(obj)
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return {"module": "builtins", "class_name": "function", "config": get_registered_name(obj),
                "registered_name": "function"}
    cls = type(obj)
    keras_module, mod = _family(obj)
    if keras_module is not None and _is_engine_class(cls):
        return mod.serialize(obj)
    if hasattr(obj, "get_config"):
        registered = get_registered_name(cls)
        return {"module": None if cls.__module__ == "__main__" else cls.__module__, "class_name": cls.__name__,
                "config": serialize_keras_object(obj.get_config()), "registered_name": registered}
    raise TypeError(f"Cannot serialize {obj!r}: it is not a Keras object, a function, a value or an array, "
                    "and has no get_config().")


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object ``serialize_keras_object`` described.

    Args:
        config: a dict from ``serialize_keras_object`` (or a plain value, or a registered name).
        custom_objects: ``{name: class or function}`` for your own objects (besides the registry).
        safe_mode: kept for Keras's signature; the engine never runs code stored in a config.
    """
    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, (list, tuple)):
        out = [deserialize_keras_object(c, custom_objects) for c in config]
        return tuple(out) if isinstance(config, tuple) else out
    if isinstance(config, str):
        found = get_registered_object(config, custom_objects)
        return found if found is not None else config
    if not isinstance(config, dict):
        raise TypeError(f"Could not deserialize {config!r}: expected a dict, a value or a name.")
    class_name = config.get("class_name")
    if "class_name" not in config or "config" not in config:
        return {k: deserialize_keras_object(v, custom_objects) for k, v in config.items()}
    inner = config["config"]
    if class_name == "__numpy__":
        return np.asarray(inner["value"], dtype=inner.get("dtype"))
    if class_name == "__tensor__":
        return ops.convert_to_tensor(np.asarray(inner["value"], dtype=inner.get("dtype")))
    if class_name == "__tuple__":
        return tuple(deserialize_keras_object(v, custom_objects) for v in inner["value"])
    if class_name == "function":
        name = inner if isinstance(inner, str) else config.get("registered_name")
        found = get_registered_object(name, custom_objects)
        if found is None:
            for mod in (activations, losses, metrics):
                fn = getattr(mod, name, None) if isinstance(name, str) and name.isidentifier() else None
                if inspect.isfunction(fn):
                    return fn
            raise ValueError(f"Unknown function {name!r}: register it with @register_keras_serializable() or "
                             "pass it in custom_objects.")
        return found
    visible = visible_custom_objects(custom_objects)
    registered = config.get("registered_name")
    cls = visible.get(registered) if isinstance(registered, str) else None
    cls = cls if cls is not None else visible.get(class_name)
    module = config.get("module") or ""
    if cls is None and (module.startswith("keras.layers") or module in ("keras", "keras.models")
                        or module.startswith("keras.src.models") or class_name in ("Sequential", "Functional")):
        with CustomObjectScope(custom_objects):
            return deserialize_layer(config)
    if cls is None:
        for keras_module, name, _ in _FAMILIES:
            if module == keras_module or module.startswith(keras_module.replace("keras.", "keras.src.")):
                mod = importlib.import_module(f"engine.{name}")
                return mod.deserialize(config, custom_objects=custom_objects) if name != "initializers" \
                    and name != "regularizers" and name != "constraints" else mod.get(config)
    if cls is None:
        if isinstance(class_name, str) and registry.is_registered(class_name):
            with CustomObjectScope(custom_objects):
                return deserialize_layer(config)
        raise ValueError(f"Could not locate class {class_name!r}. Make sure custom classes are decorated with "
                         "`@engine.saving.register_keras_serializable()` or passed in custom_objects. "
                         f"Full object config: {config!r:.300}")

    if isinstance(cls, type) and issubclass(cls, Layer):
        with CustomObjectScope(custom_objects):
            return deserialize_layer(config)
    if not hasattr(cls, "from_config"):
        raise TypeError(f"{cls!r} has no from_config(); it cannot be rebuilt from a config.")
    return cls.from_config(inner)


registry.use_codec(serialize_keras_object, deserialize_layer)  # the layers that hold layers (de)serialize through it
optimizer_serialization.use_object_serializer(serialize_keras_object)  # MultiOptimizer's own mappings

__all__ = ["deserialize_keras_object", "serialize_keras_object"]
