"""Regularization layers that act only in training: ``GaussianNoise``, ``GaussianDropout``,
``AlphaDropout``, ``SpatialDropout1D/2D/3D`` and ``ActivityRegularization``. (``Dropout`` itself lives in
``core``.)"""
from __future__ import annotations

import math

import torch

from engine import backend, regularizers
from engine.layers.layer import Layer
from engine.layers.registry import register
from engine import random as engine_random

__all__ = ["GaussianNoise", "GaussianDropout", "AlphaDropout", "SpatialDropout1D", "SpatialDropout2D",
           "SpatialDropout3D", "ActivityRegularization"]


def _fraction(layer, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{layer}: invalid value received for argument `{name}`. Expected a float value between "
                         f"0 and 1. Received: {name}={value!r}")
    return value


class _Seeded:
    """Random draws from one generator per device when a seed is given (reproducible call after call,
    as Keras's SeedGenerator), else from torch's global generator (seeded by ``set_random_seed``)."""

    def __init__(self, seed):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"seed must be an int or None. Received: seed={seed!r}")
        self.seed = seed
        self._generators = {}

    def generator(self, device):
        if self.seed is None:
            return None
        g = self._generators.get(device)
        if g is None:
            g = torch.Generator(device=device)
            g.manual_seed(self.seed)
            self._generators[device] = g
        return g


@register("Regularization")
class GaussianNoise(Layer):
    """Adds zero-centered Gaussian noise of standard deviation ``stddev`` in training only.

    Args:
        stddev: standard deviation of the noise, between 0 and 1.
        seed: optional int seed for reproducible noise.

    Call arguments:
        inputs: the input tensor.
        training: noise is added only when True; otherwise the layer is the identity.

    Input shape:
        Any shape.

    Output shape:
        Same as the input.
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = _fraction("GaussianNoise", "stddev", stddev)
        self.seed = seed
        self._rng = _Seeded(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.stddev == 0:
            return inputs
        noise = torch.empty_like(inputs).normal_(0.0, self.stddev, generator=self._rng.generator(inputs.device))
        return inputs + noise

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


@register("Regularization")
class GaussianDropout(Layer):
    """Multiplies the inputs by Gaussian noise of mean 1 and standard deviation
    ``sqrt(rate / (1 - rate))`` in training only.

    Args:
        rate: the equivalent drop probability, between 0 and 1.
        seed: optional int seed for reproducible noise.

    Call arguments:
        inputs: the input tensor.
        training: noise is applied only when True; otherwise the layer is the identity.

    Input shape:
        Any shape.

    Output shape:
        Same as the input.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _fraction("GaussianDropout", "rate", rate)
        self.seed = seed
        self._rng = _Seeded(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        if self.rate >= 1:
            raise ValueError(f"GaussianDropout layer {self.name!r}: rate=1 gives an infinite noise deviation "
                             f"in training. Use a rate below 1. Received: rate={self.rate}")
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = torch.empty_like(inputs).normal_(1.0, stddev, generator=self._rng.generator(inputs.device))
        return inputs * noise

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config


@register("Regularization")
class SpatialDropout2D(Layer):
    """Drops whole feature maps (channels) of images in training, scaling the kept ones by
    ``1 / (1 - rate)``.

    Neighbouring pixels of a feature map are strongly correlated, so dropping single pixels barely
    regularizes; dropping entire channels does.

    Args:
        rate: fraction of the channels to drop, between 0 and 1.
        data_format: only ``"channels_last"`` (the default) is supported.
        seed: optional int seed for reproducible masks.

    Call arguments:
        inputs: a 4-D tensor.
        training: channels are dropped only when True; otherwise the layer is the identity.

    Input shape:
        4-D tensor ``(batch, rows, cols, channels)``.

    Output shape:
        Same as the input.
    """

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None, **kwargs):
        # Keras 3 writes neither `trainable` nor `noise_shape` here; Keras 2 configs do (noise_shape=None).
        kwargs.pop("trainable", None)
        kwargs.pop("noise_shape", None)
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.rate = _fraction("SpatialDropout2D", "rate", rate)
        self.data_format = backend.standardize_data_format(data_format)
        self.seed = seed
        self._rng = _Seeded(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return torch.zeros_like(inputs)
        keep = 1.0 - self.rate
        # One Bernoulli draw per (sample, channel), broadcast over rows and columns.
        mask = torch.empty((inputs.shape[0], 1, 1, inputs.shape[3]), dtype=inputs.dtype, device=inputs.device)
        mask.bernoulli_(keep, generator=self._rng.generator(inputs.device)).div_(keep)
        return inputs * mask

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"SpatialDropout2D layer {self.name!r}: expected a 4-D input "
                             f"(batch, rows, cols, channels); received an input of shape {tuple(input_shape)}")
        return tuple(input_shape)

    def get_config(self):
        # Keras 3 writes exactly these keys for SpatialDropout2D (a plain dtype name, no `trainable`).
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype,
                "data_format": self.data_format}


@register("Regularization")
class ActivityRegularization(Layer):
    """The identity, with an L1/L2 penalty on its output added to the training loss.

    The layer only sets the base Layer's ``activity_regularizer`` to ``L1L2(l1, l2)``; the penalty is
    collected wherever the base Layer and the trainer collect activity regularization.

    Args:
        l1: L1 factor (0.0).
        l2: L2 factor (0.0).

    Input shape:
        Any shape.

    Output shape:
        Same as the input.
    """

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = l1
        self.l2 = l2
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        config.update({"l1": self.l1, "l2": self.l2})
        return config


def _keras_seed_generator(seed):
    """An ``engine.random.SeedGenerator``: the same draws as Keras's layer for the same seed."""
    return engine_random.SeedGenerator(seed)


@register("Regularization")
class AlphaDropout(Layer):
    """Dropout that keeps the mean and variance of its inputs, for self-normalizing networks (SELU).

    In training, dropped units are set to SELU's negative saturation value ``-alpha * scale`` and the
    result is transformed affinely so that mean and variance are unchanged (Klambauer et al., 2017).
    Draws come from Keras's seeding (``engine.random``), so a seeded layer drops what Keras's drops.

    Args:
        rate: float between 0 and 1, the drop probability.
        noise_shape: optional shape of the keep mask (None entries take the input's size).
        seed: optional int seed.

    Input shape:
        Any.

    Output shape:
        Same as the input.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _fraction("AlphaDropout", "rate", rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self.seed_generator = _keras_seed_generator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        shape = tuple(inputs.shape) if self.noise_shape is None else tuple(
            s if d is None else d for d, s in zip(self.noise_shape, inputs.shape))
        alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
        alpha_p = -alpha * scale
        keep = (engine_random.uniform(shape, seed=self.seed_generator) >= self.rate).to(inputs.dtype)
        keep = keep.to(inputs.device)
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        return a * (inputs * keep + alpha_p * (1 - keep)) + b

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape})
        return config


class _SpatialDropout(Layer):
    """Drops whole channels of ``(batch, *spatial, channels)`` inputs in training; draws as Keras's."""

    rank = 1
    _has_data_format = True

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None, **kwargs):
        kwargs.pop("trainable", None)
        kwargs.pop("noise_shape", None)
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.rate = _fraction(type(self).__name__, "rate", rate)
        self.data_format = backend.standardize_data_format(data_format)
        self.seed = seed
        self.seed_generator = _keras_seed_generator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        noise_shape = (inputs.shape[0],) + (1,) * self.rank + (inputs.shape[-1],)
        return engine_random.dropout(inputs, self.rate, noise_shape=noise_shape, seed=self.seed_generator)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != self.rank + 2:
            layout = ", ".join(["batch", *(["steps"] if self.rank == 1 else [f"dim{i + 1}" for i in range(self.rank)]),
                                "channels"])
            raise ValueError(f"{type(self).__name__} layer {self.name!r}: expected a {self.rank + 2}-D input "
                             f"({layout}); received an input of shape {tuple(input_shape)}")
        return tuple(input_shape)

    def get_config(self):
        config = {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}
        if self._has_data_format:
            config["data_format"] = self.data_format
        return config


@register("Regularization")
class SpatialDropout1D(_SpatialDropout):
    """Drops whole feature channels of sequences in training (the same channels at every step),
    scaling the kept ones by ``1 / (1 - rate)``.

    Args:
        rate: fraction of the channels to drop, between 0 and 1.
        seed: optional int seed (the same masks as Keras's layer for the same seed).

    Input shape:
        3-D tensor ``(batch, steps, channels)``.

    Output shape:
        Same as the input.
    """

    rank = 1
    _has_data_format = False

    def __init__(self, rate, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)


@register("Regularization")
class SpatialDropout3D(_SpatialDropout):
    """Drops whole channels of volumes in training, scaling the kept ones by ``1 / (1 - rate)``.

    Args:
        rate: fraction of the channels to drop, between 0 and 1.
        data_format: only ``"channels_last"``.
        seed: optional int seed (the same masks as Keras's layer for the same seed).

    Input shape:
        5-D tensor ``(batch, dim1, dim2, dim3, channels)``.

    Output shape:
        Same as the input.
    """

    rank = 3
