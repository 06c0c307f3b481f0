"""Weight regularizers (L1, L2, L1L2, OrthogonalRegularizer) with Keras's names and configs.

A regularizer maps a weight tensor to a scalar penalty that training adds to the loss.
"""
from __future__ import annotations

import torch

from engine.utils import identifiers


class Regularizer:
    def __call__(self, x):
        return torch.zeros((), dtype=x.dtype, device=x.device)

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check(name, value):
    value = float(value)
    if value < 0 or value != value:
        raise ValueError(f"Value for argument `{name}` must be a non-negative float. Received: {name}={value}")
    return value


class L1L2(Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _check("l1", 0.0 if l1 is None else l1)
        self.l2 = _check("l2", 0.0 if l2 is None else l2)

    def __call__(self, x):
        out = torch.zeros((), dtype=x.dtype, device=x.device)
        if self.l1:
            out = out + self.l1 * x.abs().sum()
        if self.l2:
            out = out + self.l2 * x.square().sum()
        return out

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    def __init__(self, l1=0.01):
        self.l1 = _check("l1", l1)

    def __call__(self, x):
        return self.l1 * x.abs().sum()

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    def __init__(self, l2=0.01):
        self.l2 = _check("l2", l2)

    def __call__(self, x):
        return self.l2 * x.square().sum()

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    def __init__(self, factor=0.01, mode="rows"):
        if mode not in ("rows", "columns"):
            raise ValueError(f"Invalid value for argument `mode`: {mode!r}. Expected 'rows' or 'columns'.")
        self.factor, self.mode = _check("factor", factor), mode

    def __call__(self, x):
        if x.ndim != 2:
            raise ValueError(f"OrthogonalRegularizer needs a 2-D weight. Received a weight of shape {tuple(x.shape)}")
        if self.mode == "columns":
            x = x.T
        x = x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)
        prod = x @ x.T
        n = prod.shape[0]
        off = prod - torch.eye(n, dtype=x.dtype, device=x.device)
        return self.factor * off.abs().sum() / (n * (n - 1) if n > 1 else 1)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer
_CLASSES = {c.__name__: c for c in (L1, L2, L1L2, OrthogonalRegularizer)}

_NAMES = {"l1": L1, "l2": L2, "l1_l2": L1L2, "orthogonal_regularizer": OrthogonalRegularizer}



def serialize(obj):
    return identifiers.serialize(obj, "keras.regularizers")


def class_named(class_name):
    """The engine's regularizer class called ``class_name`` (``"L2"``), or None: only
    this family's own classes, so a name read from a file never picks an arbitrary attribute."""
    return _CLASSES.get(class_name)


def get(identifier):
    return identifiers.resolve(identifier, kind="regularizer", base=Regularizer, classes=_CLASSES, names=_NAMES,
                               module="keras.regularizers")


def deserialize(config, custom_objects=None):
    """The object a ``serialize`` config (or name) describes; your own classes come from the registry or
    ``custom_objects``."""
    return identifiers.deserialize(config, custom_objects, get)
