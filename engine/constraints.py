"""Weight constraints (MaxNorm, MinMaxNorm, NonNeg, UnitNorm) applied after each optimizer step."""
from __future__ import annotations

import torch

from engine import backend
from engine.utils import identifiers


class Constraint:
    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _norms(w, axis):
    return torch.sqrt((w * w).sum(dim=axis, keepdim=True))


class MaxNorm(Constraint):
    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = norms.clamp(0, self.max_value)
        return w * (desired / (backend.epsilon() + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    def __call__(self, w):
        return w.clamp_min(0.0)


class UnitNorm(Constraint):
    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (backend.epsilon() + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = self.rate * norms.clamp(self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (backend.epsilon() + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm
_CLASSES = {c.__name__: c for c in (MaxNorm, NonNeg, UnitNorm, MinMaxNorm)}

_NAMES = {"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm}



def serialize(obj):
    return identifiers.serialize(obj, "keras.constraints")


def class_named(class_name):
    """The engine's constraint class called ``class_name`` (``"MaxNorm"``), or None: only
    this family's own classes, so a name read from a file never picks an arbitrary attribute."""
    return _CLASSES.get(class_name)


def get(identifier):
    return identifiers.resolve(identifier, kind="constraint", base=Constraint, classes=_CLASSES, names=_NAMES,
                               module="keras.constraints")


def deserialize(config, custom_objects=None):
    """The object a ``serialize`` config (or name) describes; your own classes come from the registry or
    ``custom_objects``."""
    return identifiers.deserialize(config, custom_objects, get)
