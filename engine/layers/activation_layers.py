"""Activation layers with parameters: ``ReLU``, ``LeakyReLU``, ``PReLU``, ``ELU`` and ``Softmax``.

(The plain ``Activation("relu")`` layer lives in ``core``.)
"""
from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from engine import constraints, initializers, regularizers
from engine.layers.layer import Layer
from engine.layers.registry import register

__all__ = ["ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"]


def _number(name, value, layer, allow_none=False, minimum=0.0):
    """Validate a non-negative number argument; the error names the layer and the value received."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ValueError(f"{layer}: {name} cannot be None or a negative value; expected a float >= {minimum}. "
                         f"Received: {name}={value!r}")
    return value


@register("Activation")
class ReLU(Layer):
    """Rectified linear unit with an optional cap, slope and threshold.

    ``f(x) = min(x, max_value)`` for ``x > threshold``, ``negative_slope * (x - threshold)`` otherwise.

    Args:
        max_value: upper bound of the output (None: no bound).
        negative_slope: slope below the threshold (0.0).
        threshold: the value below which the output is zero (or sloped) (0.0).

    Input shape:
        Any shape.

    Output shape:
        Same as the input.
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = _number("max_value", max_value, "ReLU", allow_none=True)
        self.negative_slope = _number("negative_slope", negative_slope, "ReLU")
        self.threshold = _number("threshold", threshold, "ReLU")
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        slope, cap, thr = self.negative_slope, self.max_value, self.threshold
        if thr == 0:
            if slope == 0:
                return torch.relu(inputs) if cap is None else torch.clamp(inputs, 0.0, cap)
            if cap is None:
                return F.leaky_relu(inputs, slope)
        # Keras's general form: the thresholded, capped positive part minus the sloped negative part.
        pos = torch.where(inputs > thr, inputs, torch.zeros((), dtype=inputs.dtype, device=inputs.device))
        if cap is not None:
            pos = torch.clamp(pos, 0.0, cap)
        if slope:
            pos = pos - slope * torch.relu(thr - inputs)
        return pos

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"max_value": self.max_value, "negative_slope": self.negative_slope,
                       "threshold": self.threshold})
        return config


@register("Activation")
class LeakyReLU(Layer):
    """Leaky rectified linear unit: ``x`` for ``x >= 0``, ``negative_slope * x`` otherwise.

    Args:
        negative_slope: slope for negative inputs (Keras's 0.3, not torch's 0.01).
        alpha: Keras 2's name for ``negative_slope``; accepted for old code and configs.

    Input shape:
        Any shape.

    Output shape:
        Same as the input.
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("LeakyReLU: argument `alpha` is deprecated. Use `negative_slope` instead.",
                          stacklevel=2)
        super().__init__(**kwargs)
        self.negative_slope = _number("negative_slope", negative_slope, "LeakyReLU")
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return F.leaky_relu(inputs, self.negative_slope)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config


@register("Activation")
class PReLU(Layer):
    """Parametric ReLU: ``x`` for ``x >= 0``, ``alpha * x`` otherwise, with a learned ``alpha``.

    Args:
        alpha_initializer: initializer of ``alpha`` (zeros).
        alpha_regularizer: optional regularizer of ``alpha``.
        alpha_constraint: optional constraint of ``alpha``.
        shared_axes: axes (counting the batch axis as 0) along which ``alpha`` is shared, e.g. ``[1, 2]``
            for one slope per channel of NHWC images.

    Weights: ``alpha`` of the input's shape without the batch axis, with 1 on the shared axes.

    Input shape:
        Any shape; the non-shared sizes must be known.

    Output shape:
        Same as the input.
    """

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        else:
            axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]
            if not all(isinstance(a, int) and not isinstance(a, bool) and a >= 1 for a in axes):
                raise ValueError(f"PReLU: shared_axes must be ints >= 1 (axis 0 is the batch). "
                                 f"Received: shared_axes={shared_axes!r}")
            self.shared_axes = axes
        self.supports_masking = True

    def _alpha_shape(self, input_shape):
        shape = list(input_shape[1:])
        for a in self.shared_axes or []:
            if a >= len(input_shape):
                raise ValueError(f"PReLU layer {self.name!r}: shared axis {a} is out of range for an input of "
                                 f"shape {tuple(input_shape)}. Received: shared_axes={self.shared_axes}")
            shape[a - 1] = 1
        return tuple(shape)

    def build(self, input_shape):
        shape = self._alpha_shape(input_shape)
        if None in shape:
            raise ValueError(f"PReLU layer {self.name!r}: the input's non-shared sizes must be known to create "
                             f"alpha. Received an input of shape {tuple(input_shape)}; pass shared_axes for the "
                             f"unknown axes.")
        self.add_weight(shape, self.alpha_initializer, name="alpha", regularizer=self.alpha_regularizer,
                        constraint=self.alpha_constraint)
        self.built = True

    def call(self, inputs):
        return torch.where(inputs > 0, inputs, inputs * self.alpha)

    def compute_output_shape(self, input_shape):
        shape = self._alpha_shape(input_shape)
        if self.built:
            want = tuple(self.alpha.shape)
            if len(shape) != len(want) or any(d is not None and d != w and w != 1 for d, w in zip(shape, want)):
                raise ValueError(f"PReLU layer {self.name!r}: it was built for inputs of shape "
                                 f"{(None,) + want} (1 = shared), but received {tuple(input_shape)}")
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        })
        return config


@register("Activation")
class ELU(Layer):
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    Args:
        alpha: scale of the negative part (1.0).

    Input shape:
        Any shape.

    Output shape:
        Same as the input.
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
            raise ValueError(f"ELU: alpha must be a float. Received: alpha={alpha!r}")
        self.alpha = alpha
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return F.elu(inputs, self.alpha)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


@register("Activation")
class Softmax(Layer):
    """Softmax over ``axis``: ``exp(x) / sum(exp(x))``.

    Args:
        axis: an int or a tuple of ints: the axis (axes) to normalize over (``-1``).

    Call arguments:
        inputs: the logits.
        mask: optional boolean mask broadcastable to ``inputs``; masked positions get probability 0.

    Input shape:
        Any shape.

    Output shape:
        Same as the input.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        axes = axis if isinstance(axis, (list, tuple)) else [axis]
        if not axes or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
            raise ValueError(f"Softmax: axis must be an int or a tuple of ints. Received: axis={axis!r}")
        self.axis = axis
        self.supports_masking = True
        self.built = True

    def call(self, inputs, mask=None):
        if mask is not None:
            mask = torch.as_tensor(mask, device=inputs.device)
            if mask.dtype != torch.bool:
                mask = mask > 0.5
            # A large negative logit rather than -inf keeps fully masked rows finite, as Keras does.
            fill = -3e4 if inputs.dtype == torch.float16 else -1e9
            inputs = inputs.masked_fill(~mask, fill)
        if isinstance(self.axis, (list, tuple)) and len(self.axis) > 1:
            dims = tuple(self.axis)
            out = torch.exp(inputs - torch.logsumexp(inputs, dim=dims, keepdim=True))
        else:
            axis = self.axis[0] if isinstance(self.axis, (list, tuple)) else self.axis
            out = torch.softmax(inputs, dim=axis)
        if mask is not None:
            out = out.masked_fill(~mask, 0.0)
        return out

    def compute_output_shape(self, input_shape):
        rank = len(input_shape)
        for a in (self.axis if isinstance(self.axis, (list, tuple)) else [self.axis]):
            if not -rank <= a < rank:
                raise ValueError(f"Softmax layer {self.name!r}: axis {a} is out of range for an input of shape "
                                 f"{tuple(input_shape)}. Received: axis={self.axis!r}")
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config
