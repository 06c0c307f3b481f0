"""Activation functions by Keras name; ``get`` resolves names, None and callables."""
from __future__ import annotations

import inspect

import torch
import torch.nn.functional as F

from engine import object_registration


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


def softmax_keeping_logits(x):
    """``softmax(x)`` over the last axis, with ``x`` kept on the result as ``_keras_logits``.

    Layers whose activation is softmax (Dense, Activation, Softmax) call this: the crossentropy losses
    then compute ``log(clip(softmax(x)))`` as ``clip(log_softmax(x))`` from the logits (the same
    value and gradient, as Keras on TensorFlow does with its ``_keras_logits``), one fused kernel
    instead of five and no gradient through the softmax.
    """
    out = torch.softmax(x, dim=-1)
    out._keras_logits = x
    return out


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


def celu(x, alpha=1.0):
    return F.celu(x, alpha=alpha)


def glu(x, axis=-1):
    """Gated linear unit: ``a * sigmoid(b)`` where ``a, b`` are the two halves of ``x`` along ``axis``."""
    return F.glu(x, dim=axis)


def hard_silu(x):
    """``x * relu6(x + 3) / 6`` (hard swish, MobileNetV3's activation)."""
    return F.hardswish(x)


hard_swish = hard_silu


def hard_tanh(x):
    return F.hardtanh(x, -1.0, 1.0)


def hard_shrink(x, threshold=0.5):
    return F.hardshrink(x, lambd=threshold)


def soft_shrink(x, threshold=0.5):
    return F.softshrink(x, lambd=threshold)


def tanh_shrink(x):
    return F.tanhshrink(x)


def log_sigmoid(x):
    return F.logsigmoid(x)


def threshold(x, threshold, default_value):
    """``x`` where ``x > threshold``, else ``default_value``."""
    return F.threshold(x, threshold, default_value)


def sparse_plus(x):
    """0 for ``x <= -1``, ``(x + 1)**2 / 4`` for ``-1 < x < 1``, ``x`` for ``x >= 1``."""
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x < 1, 0.25 * (x + 1) ** 2, x))


def sparse_sigmoid(x):
    """0 for ``x <= -1``, ``(x + 1) / 2`` in between, 1 for ``x >= 1``."""
    zero = torch.zeros((), dtype=x.dtype, device=x.device)
    one = torch.ones((), dtype=x.dtype, device=x.device)
    return torch.where(x <= -1, zero, torch.where(x >= 1, one, 0.5 * (x + 1)))


def squareplus(x, b=4):
    """``(x + sqrt(x**2 + b)) / 2``, a smooth ReLU."""
    return (x + torch.sqrt(x * x + b)) / 2


def sparsemax(x, axis=-1):
    """Projection of ``x`` onto the probability simplex along ``axis`` (Martins & Astudillo, 2016):
    like softmax, but exact zeros for the smallest entries."""
    z, _ = torch.sort(x, dim=axis, descending=True)
    cumsum = torch.cumsum(z, dim=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    k = torch.arange(1, x.shape[axis] + 1, device=x.device, dtype=x.dtype).view(shape)
    support = z - (cumsum - 1) / k > 0  # the sorted entries that stay positive
    support_size = support.sum(dim=axis, keepdim=True)
    tau = (torch.where(support, cumsum, torch.zeros((), dtype=x.dtype, device=x.device))
           .sum(dim=axis, keepdim=True) - 1) / support_size
    return torch.clamp(x - tau, min=0.0)


_ACTIVATIONS = {
    f.__name__: f
    for f in (linear, relu, relu6, sigmoid, hard_sigmoid, tanh, softmax, log_softmax, softplus, softsign,
              elu, selu, gelu, silu, exponential, leaky_relu, mish, celu, glu, hard_silu, hard_tanh,
              hard_shrink, soft_shrink, tanh_shrink, log_sigmoid, threshold, sparse_plus, sparse_sigmoid,
              squareplus, sparsemax)
}
# Keras's aliases: the same function, serialized under its canonical name.
_ACTIVATIONS["swish"] = silu
_ACTIVATIONS["hard_swish"] = hard_silu


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
            fn = _custom_function(identifier)
        if fn is None:
            raise ValueError(f"Unknown activation: {identifier!r}. Valid names: {names()}")
        return fn
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")


def _custom_function(name):
    """The user's own activation registered under ``name`` (register_keras_serializable, a
    custom_object_scope, or the custom_objects of the load in progress); None if there is none."""
    fn = object_registration.get_registered_object(name, object_registration.loading_custom_objects())
    return fn if callable(fn) else None


def deserialize(config, custom_objects=None):
    """The activation function for a name or a serialized activation (Keras's
    ``keras.activations.deserialize``); ``custom_objects`` maps extra names to callables."""
    if isinstance(config, str) and custom_objects and config in custom_objects:
        return custom_objects[config]
    if not isinstance(config, (str, dict)):
        raise ValueError(f"Could not interpret serialized activation function: {config!r}")
    return get(config)


def serialize(fn):
    if fn is None:
        return "linear"
    name = getattr(fn, "__name__", None)
    if name in _ACTIVATIONS:
        return "silu" if name == "swish" else name
    if hasattr(fn, "get_config"):  # an activation layer instance
        return fn.get_config()
    if inspect.isfunction(fn):  # the user's own function, by its registered name, as Keras writes it
        return {"module": "builtins", "class_name": "function", "config": object_registration.get_registered_name(fn),
                "registered_name": "function"}
    raise ValueError(f"Activation {fn!r} is not a named Keras activation and cannot be serialized.")
