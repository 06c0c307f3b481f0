"""An optimizer to and from Keras's config dict, by class name only (Keras's ``optimizers.serialize`` and
``deserialize``); ``engine.optimizers`` re-exports them."""
from __future__ import annotations

from engine.optimizers.base_optimizer import Optimizer


# The engine's optimizer classes by lowercase name, in Keras's order; engine.optimizers registers them when it
# loads (they import this module: LossScaleOptimizer and MultiOptimizer serialize the optimizers they wrap).
_CLASSES: dict = {}


# engine.saving's serialize_keras_object, handed over when engine.saving loads (it sits above the optimizers):
# MultiOptimizer writes a user's own optimizer mapping (a function or an object) with it.
_OBJECT_SERIALIZER: list = []


def use_object_serializer(serialize):
    """Called by ``engine.saving`` when it loads: ``serialize(obj)`` -> Keras's config dict of any object."""
    _OBJECT_SERIALIZER[:] = [serialize]


def serialize_object(obj) -> dict:
    """``obj`` (a function or an object with ``get_config``) as Keras's config dict, by engine.saving's rules."""
    if not _OBJECT_SERIALIZER:  # only while the engine itself loads
        raise RuntimeError("engine.saving has not loaded: objects' configs are written there.")
    return _OBJECT_SERIALIZER[0](obj)


def register_classes(*classes):
    """Make ``classes`` known to ``deserialize`` and ``get`` by their names (case-insensitive)."""
    _CLASSES.update({cls.__name__.lower(): cls for cls in classes})


# Keras optimizers the engine does not implement: named in the error so users know it is not a typo.
_KERAS_ONLY = ()


def _valid_names():
    return ", ".join(cls.__name__ for cls in _CLASSES.values())


def _lookup(name, custom_objects=None):
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    cls = _CLASSES.get(str(name).lower().replace("_", ""))
    if cls is not None:
        return cls
    if str(name).lower().replace("_", "") in _KERAS_ONLY:
        raise ValueError(f"Optimizer {name!r} exists in Keras but is not implemented by the engine. "
                         f"Valid names: {_valid_names()} (case-insensitive).")
    raise ValueError(f"Unknown optimizer: {name!r}. Valid names: {_valid_names()} (case-insensitive).")


def serialize(optimizer):
    """The optimizer as a dict `{"module", "class_name", "config", "registered_name"}`, readable by Keras 3."""
    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"Expected an engine optimizer. Received: {optimizer!r}")
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """Rebuild an optimizer from `serialize` output (or a Keras 2/3 config), by `class_name` only.

    The `module` in the dict is never imported: Keras's torch backend writes backend-specific modules,
    and importing a module named in a file would let the file run code.

    Args:
        config: A dict with `class_name` and optionally `config`.
        custom_objects: Optional dict mapping class names to your own `Optimizer` subclasses.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret optimizer config: {config!r}. "
                         "Expected a dict with 'class_name' and 'config'.")
    cls = _lookup(config["class_name"], custom_objects)
    return cls.from_config(dict(config.get("config") or {}))
