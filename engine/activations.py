"""Activation functions by Keras name; ``get`` resolves names, None and callables."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def linear(x):
    return x


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return torch.relu(x)
    neg = negative_slope * (x - threshold) if negative_slope else None
    y = torch.where(x >= threshold, x, torch.zeros_like(x) if neg is None else neg)
    if threshold != 0.0 and negative_slope == 0.0:
        y = torch.where(x > threshold, x, torch.zeros_like(x))
    if max_value is not None:
        y = torch.clamp(y, max=max_value)
    return y


def relu6(x):
    return F.relu6(x)


def sigmoid(x):
    return torch.sigmoid(x)


def hard_sigmoid(x):
    # Keras 3: relu6(x + 3) / 6
    return F.hardsigmoid(x)


def tanh(x):
    return torch.tanh(x)


def softmax(x, axis=-1):
    return torch.softmax(x, dim=axis)


def log_softmax(x, axis=-1):
    return torch.log_softmax(x, dim=axis)


def softplus(x):
    return F.softplus(x)


def softsign(x):
    return F.softsign(x)


def elu(x, alpha=1.0):
    return F.elu(x, alpha)


def selu(x):
    return F.selu(x)


def gelu(x, approximate=False):
    return F.gelu(x, approximate="tanh" if approximate else "none")


def silu(x):
    return F.silu(x)


swish = silu


def exponential(x):
    return torch.exp(x)


def leaky_relu(x, negative_slope=0.2):
    return F.leaky_relu(x, negative_slope)


def mish(x):
    return F.mish(x)


_ACTIVATIONS = {
    f.__name__: f
    for f in (linear, relu, relu6, sigmoid, hard_sigmoid, tanh, softmax, log_softmax, softplus, softsign,
              elu, selu, gelu, silu, exponential, leaky_relu, mish)
}
_ACTIVATIONS["swish"] = silu


def names():
    """Every activation name the engine knows, for pickers and error messages."""
    return sorted(_ACTIVATIONS)


def get(identifier):
    if identifier is None:
        return linear
    if isinstance(identifier, dict):  # Keras 3 may serialize activations as objects
        identifier = identifier.get("config", identifier.get("class_name"))
        if isinstance(identifier, dict):
            identifier = identifier.get("name")
    if isinstance(identifier, str):
        fn = _ACTIVATIONS.get(identifier)
        if fn is None:
            raise ValueError(f"Unknown activation: {identifier!r}. Valid names: {names()}")
        return fn
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")


def serialize(fn):
    if fn is None:
        return "linear"
    name = getattr(fn, "__name__", None)
    if name in _ACTIVATIONS:
        return "silu" if name == "swish" else name
    if hasattr(fn, "get_config"):  # an activation layer instance
        return fn.get_config()
    raise ValueError(f"Activation {fn!r} is not a named Keras activation and cannot be serialized.")
