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
from engine.optimizers.serialization import _lookup, _valid_names, deserialize, register_classes, serialize

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam",
           "Lion", "Lamb", "Adafactor", "Ftrl", "Muon", "ScheduleFreeAdamW", "LossScaleOptimizer", "MultiOptimizer",
           "OptimizerMap", "schedules", "get",
           "serialize", "deserialize"]

register_classes(SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Lion, Lamb, Adafactor, Ftrl, Muon,
                 ScheduleFreeAdamW, LossScaleOptimizer, MultiOptimizer)


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
