"""Optimizers with Keras 3's names, defaults, update rules and configs.

``engine.optimizers.get("adam")``, ``engine.optimizers.Adam(learning_rate=1e-3)`` and
``engine.optimizers.schedules.ExponentialDecay(...)`` behave as their ``keras.optimizers`` namesakes.
"""
from __future__ import annotations

from engine.optimizers import schedules
from engine.optimizers.adadelta import Adadelta
from engine.optimizers.adafactor import Adafactor
from engine.optimizers.adagrad import Adagrad
from engine.optimizers.adam import Adam
from engine.optimizers.adamax import Adamax
from engine.optimizers.adamw import AdamW
from engine.optimizers.base_optimizer import Optimizer
from engine.optimizers.ftrl import Ftrl
from engine.optimizers.lamb import Lamb
from engine.optimizers.lion import Lion
from engine.optimizers.loss_scale_optimizer import LossScaleOptimizer
from engine.optimizers.multi_optimizer import MultiOptimizer, OptimizerMap
from engine.optimizers.muon import Muon
from engine.optimizers.nadam import Nadam
from engine.optimizers.rmsprop import RMSprop
from engine.optimizers.schedule_free_adamw import ScheduleFreeAdamW
from engine.optimizers.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam",
           "Lion", "Lamb", "Adafactor", "Ftrl", "Muon", "ScheduleFreeAdamW", "LossScaleOptimizer", "MultiOptimizer",
           "OptimizerMap", "schedules", "get",
           "serialize", "deserialize"]

_CLASSES = {cls.__name__.lower(): cls for cls in (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam,
                                                        Lion, Lamb, Adafactor, Ftrl, Muon, ScheduleFreeAdamW,
                                                        LossScaleOptimizer, MultiOptimizer)}

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


def get(identifier):
    """Resolve an optimizer from a name ('adam', 'SGD'...), a config dict, a class or an instance.

    Returns None for None. Raises ValueError, listing the valid names, for an unknown name.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _lookup(identifier)
        if cls in (LossScaleOptimizer, MultiOptimizer):
            raise ValueError(f"{cls.__name__} wraps other optimizers and has no default one: pass an instance, e.g. "
                             "engine.optimizers.LossScaleOptimizer(engine.optimizers.Adam()), instead of a name.")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}. Pass a name "
                     f"({_valid_names()}), a config dict or an optimizer instance.")
