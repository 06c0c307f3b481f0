"""Image augmentation layers: ``RandomFlip``, ``RandomRotation``, ``RandomZoom``, ``RandomTranslation``,
``RandomContrast``, ``RandomBrightness`` and ``RandomCrop``.

As in Keras, they transform images only in training (``model.fit``, or a direct call, whose
``training`` defaults to True as Keras's does) and pass them through at inference. Random numbers come
from ``engine.random`` with Keras's seeding, and the geometric layers use the same affine matrices
and ``affine_transform``, so a seeded layer produces what Keras's produces.
"""
from __future__ import annotations

import math
import random as py_random

import numpy as np
import torch

from engine import backend
from engine.layers.core import describe
from engine.layers.layer import Layer, to_tensor
from engine.layers.registry import register
from engine import random as engine_random
from engine.ops import image as image_ops

__all__ = ["RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast", "RandomBrightness",
           "RandomCrop", "RandomInvert", "RandomGrayscale", "AutoContrast", "Solarization", "RandomPosterization",
           "RandomColorDegeneration", "RandomShear"]

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = ("nearest", "bilinear")


class _Augmentation(Layer):
    """Shared by the augmentation layers: the seed generator, training-only transforms, shapes, the
    checks of ``value_range`` and of the images' rank, and the config: Keras's layer keys, then
    ``data_format`` and each attribute named in ``_config_keys``."""

    _config_keys = ()  # the layer's own config keys, each the attribute of that name

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.generator = engine_random.SeedGenerator(seed)
        self.data_format = backend.standardize_data_format(data_format)
        self.supports_masking = False
        self.built = True

    def _eager_call(self, inputs, *args, training=None, **kwargs):
        # Keras's call(data, training=True): called directly, the layer augments.
        inputs = to_tensor(inputs)
        return self.call(inputs, *args, training=True if training is None else bool(training), **kwargs)

    def _float(self, images):
        dtype = backend.torch_dtype(self._dtype)
        return images if images.dtype == dtype else images.to(dtype)

    @staticmethod
    def _check_rank(layer, shape):
        if len(shape) not in (3, 4):
            raise ValueError(f"{describe(layer)} expects images (batch, height, width, channels) or (height, width, "
                             f"channels). Received: input shape {tuple(shape)}")

    def _batch_size(self, images):
        """How many images ``images`` holds (1 for a single image), after checking its rank."""
        self._check_rank(self, tuple(images.shape))
        return 1 if images.dim() == 3 else images.shape[0]

    def _draw_shape(self, images):
        """One draw per image, shaped to broadcast over it: ``(batch, 1, 1, 1)``, or ``(1, 1, 1)``."""
        batch = self._batch_size(images)
        return (1, 1, 1) if images.dim() == 3 else (batch, 1, 1, 1)

    @staticmethod
    def _per_image(values, images):
        """Per-image ``values`` (one per image of the batch) shaped to broadcast over ``images``."""
        return values.to(images.device).view((-1, 1, 1, 1) if images.dim() == 4 else (1, 1, 1))

    def _value_range(self, value_range):
        """Keras's check of ``value_range`` (two numbers); the pair, sorted, as a list."""
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError(f"{type(self).__name__}: the `value_range` argument should be a list of two numbers. "
                             f"Received: value_range={value_range!r}")
        return sorted(value_range)

    def compute_output_shape(self, input_shape):
        self._check_rank(self, input_shape)
        return tuple(input_shape)

    def _uniform(self, shape, minval, maxval):
        return engine_random.uniform(shape, minval=minval, maxval=maxval, seed=self.generator)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        config.update({key: getattr(self, key) for key in self._config_keys})
        return config


def _symmetric_factor(layer, factor, name, bounds=(-1.0, 1.0)):
    """Keras's factor argument: a number f gives (-|f|, |f|) clipped to ``bounds``; a pair is sorted."""
    message = (f"{type(layer).__name__}: the `{name}` argument should be a number (or a list of two numbers) in the "
               f"range [{bounds[0]}, {bounds[1]}]. Received: {name}={factor!r}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > bounds[1] or factor[1] < bounds[0]:
            raise ValueError(message)
        return tuple(sorted(factor))
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not bounds[0] <= factor <= bounds[1]:
        raise ValueError(message)
    factor = abs(factor)
    return (max(-factor, bounds[0]), factor)


class _Geometric(_Augmentation):
    """Rotation, zoom and translation: an affine transform per image, filled as ``fill_mode`` says."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if fill_mode not in _FILL_MODES:
            raise NotImplementedError(f"Unknown `fill_mode` {fill_mode}. Expected of one {_FILL_MODES}.")
        if interpolation not in _INTERPOLATIONS:
            raise NotImplementedError(f"Unknown `interpolation` {interpolation}. Expected of one {_INTERPOLATIONS}.")
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def call(self, inputs, training=False):
        images = self._float(inputs)
        if not training:
            return images
        self._check_rank(self, tuple(images.shape))
        single = images.dim() == 3
        batch = images[None] if single else images
        matrix = self._matrix(batch.shape[0], batch.shape[1], batch.shape[2]).to(batch.device)
        out = image_ops.affine_transform(batch, matrix, interpolation=self.interpolation, fill_mode=self.fill_mode,
                                         fill_value=self.fill_value, data_format=self.data_format)
        return out[0] if single else out


@register("Preprocessing")
class RandomFlip(_Augmentation):
    """Flips images horizontally and/or vertically at random in training (each image with probability
    one half).

    Args:
        mode: ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"`` (default; one draw
            decides both flips of an image, as in Keras).
        seed: optional int seed.
        data_format: only ``"channels_last"``.

    Input shape:
        ``(batch, height, width, channels)`` or ``(height, width, channels)``.

    Output shape:
        Same as the input, in the layer's float dtype.
    """

    _MODES = ("horizontal", "vertical", "horizontal_and_vertical")
    _config_keys = ("seed", "mode")

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in self._MODES:
            raise ValueError(f"RandomFlip layer {self.name!r} received an unknown mode argument {mode!r}. "
                             f"Expected one of {self._MODES}.")
        self.mode = mode

    def call(self, inputs, training=False):
        images = self._float(inputs)
        if not training:
            return images
        self._check_rank(self, tuple(images.shape))
        single = images.dim() == 3
        batch = images[None] if single else images
        flips = (self._uniform((batch.shape[0], 1, 1, 1), 0.0, 1.0) <= 0.5).to(batch.device)
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            batch = torch.where(flips, batch.flip(-2), batch)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            batch = torch.where(flips, batch.flip(-3), batch)
        return batch[0] if single else batch


@register("Preprocessing")
class RandomRotation(_Geometric):
    """Rotates images by a random angle in training, about their centre.

    Args:
        factor: a fraction of a full turn: a float f rotates by an angle in ``[-f * 360, f * 360]``
            degrees; a pair ``(low, high)`` uses that range.
        fill_mode: how points outside the image are filled: ``"reflect"`` (default), ``"wrap"``,
            ``"constant"`` or ``"nearest"``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: optional int seed.
        fill_value: the value for ``fill_mode="constant"``.
        data_format: only ``"channels_last"``.

    Input shape:
        ``(batch, height, width, channels)`` or ``(height, width, channels)``.

    Output shape:
        Same as the input.
    """

    _config_keys = ("factor", "fill_mode", "fill_value", "interpolation", "seed")

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed, fill_value=fill_value,
                         data_format=data_format, **kwargs)
        self.factor = _symmetric_factor(self, factor, "factor")

    def _matrix(self, batch, height, width):
        angle = self._uniform((batch,), self.factor[0] * 360.0, self.factor[1] * 360.0) * (math.pi / 180.0)
        cx, cy = 0.5 * (width - 1), 0.5 * (height - 1)
        cos, sin = torch.cos(angle), torch.sin(angle)
        a0, a1 = cos, -sin
        b0, b1 = sin, cos
        a2 = cx - cx * a0 - cy * a1
        b2 = cy - cx * b0 - cy * b1
        zeros = torch.zeros_like(angle)
        return torch.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], dim=1)


def _zoom_or_shift_factor(layer, factor, name):
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(f"{type(layer).__name__}: `{name}` must be a number or a pair of numbers in [-1, 1]. "
                             f"Received: {name}={factor!r}")
        for f in factor:
            _in_unit_range(layer, f, name)
        return tuple(sorted(factor))
    _in_unit_range(layer, factor, name)
    return (-abs(factor), abs(factor))


def _in_unit_range(layer, value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1.0 <= value <= 1.0:
        raise ValueError(f"{type(layer).__name__}: `{name}` must be a number or a pair of numbers in [-1, 1]. "
                         f"Received: {name}={value!r}")


@register("Preprocessing")
class RandomZoom(_Geometric):
    """Zooms images in or out at random in training, about their centre.

    Args:
        height_factor: a float f zooms the height by a factor in ``[1 - f, 1 + f]`` (negative values
            zoom in); a pair ``(low, high)`` gives ``[1 + low, 1 + high]``.
        width_factor: the same for the width; None (default) keeps the aspect ratio.
        fill_mode, interpolation, seed, fill_value, data_format: as ``RandomRotation``.

    Input shape:
        ``(batch, height, width, channels)`` or ``(height, width, channels)``.

    Output shape:
        Same as the input.
    """

    _config_keys = ("height_factor", "width_factor", "fill_mode", "interpolation", "seed", "fill_value")

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed, fill_value=fill_value,
                         data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = _zoom_or_shift_factor(self, height_factor, "height_factor")
        self.width_factor = width_factor
        if width_factor is not None:
            self.width_lower, self.width_upper = _zoom_or_shift_factor(self, width_factor, "width_factor")

    def _matrix(self, batch, height, width):
        hz = self._uniform((batch, 1), 1.0 + self.height_lower, 1.0 + self.height_upper)
        wz = hz if self.width_factor is None else self._uniform((batch, 1), 1.0 + self.width_lower,
                                                                1.0 + self.width_upper)
        zeros = torch.zeros_like(hz)
        x_offset = (width - 1.0) / 2.0 * (1.0 - wz)
        y_offset = (height - 1.0) / 2.0 * (1.0 - hz)
        return torch.cat([wz, zeros, x_offset, zeros, hz, y_offset, zeros, zeros], dim=1)


@register("Preprocessing")
class RandomTranslation(_Geometric):
    """Shifts images at random in training.

    Args:
        height_factor: a float f shifts vertically by up to ``f * height`` either way; a pair
            ``(low, high)`` shifts by ``[low * height, high * height]``.
        width_factor: the same horizontally.
        fill_mode, interpolation, seed, fill_value, data_format: as ``RandomRotation``.

    Input shape:
        ``(batch, height, width, channels)`` or ``(height, width, channels)``.

    Output shape:
        Same as the input.
    """

    _config_keys = ("height_factor", "width_factor", "fill_mode", "interpolation", "seed", "fill_value")

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed, fill_value=fill_value,
                         data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = _zoom_or_shift_factor(self, height_factor, "height_factor")
        self.width_factor = width_factor
        self.width_lower, self.width_upper = _zoom_or_shift_factor(self, width_factor, "width_factor")

    def _matrix(self, batch, height, width):
        dy = self._uniform((batch, 1), self.height_lower, self.height_upper) * height
        dx = self._uniform((batch, 1), self.width_lower, self.width_upper) * width
        ones, zeros = torch.ones_like(dx), torch.zeros_like(dx)
        return torch.cat([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], dim=1)


@register("Preprocessing")
class RandomContrast(_Augmentation):
    """Scales the contrast of each image by a random factor in training:
    ``(x - mean) * f + mean`` per channel (mean over height and width), clipped to ``value_range``.

    Args:
        factor: a float in [0, 1] gives ``f`` in ``[1 - factor, 1 + factor]``; a pair ``(low, high)``
            gives ``[1 - low, 1 + high]``.
        value_range: the range of the pixel values (``(0, 255)``).
        seed: optional int seed.

    Input shape:
        ``(batch, height, width, channels)`` or ``(height, width, channels)``.

    Output shape:
        Same as the input.
    """

    _config_keys = ("factor", "value_range", "seed")

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _symmetric_factor(self, factor, "factor", bounds=(0.0, 1.0))
        self.value_range = value_range

    def call(self, inputs, training=False):
        if not training:
            return inputs
        shape = self._draw_shape(inputs)
        factor = self._uniform(shape, 1.0 - self.factor[0], 1.0 + self.factor[1]).to(inputs.device)
        images = self._float(inputs)
        mean = images.mean(dim=-3, keepdim=True).mean(dim=-2, keepdim=True)
        out = (images - mean) * factor + mean
        return torch.clamp(out, self.value_range[0], self.value_range[1])


@register("Preprocessing")
class RandomBrightness(_Augmentation):
    """Adds a random brightness offset to each image in training, clipped to ``value_range``.

    Args:
        factor: a float f in [-1, 1] gives an offset in ``[-f, f]`` times the width of ``value_range``;
            a pair ``(low, high)`` uses that range.
        value_range: the range of the pixel values (``(0, 255)``).
        seed: optional int seed.

    Input shape:
        ``(batch, height, width, channels)`` or ``(height, width, channels)``.

    Output shape:
        Same as the input.
    """

    _config_keys = ("factor", "value_range", "seed")

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _symmetric_factor(self, factor, "factor")
        self.value_range = self._value_range(value_range)

    def call(self, inputs, training=False):
        if not training:
            return inputs
        shape = self._draw_shape(inputs)
        delta = self._uniform(shape, self.factor[0], self.factor[1]) * (self.value_range[1] - self.value_range[0])
        images = inputs + delta.to(inputs.dtype).to(inputs.device)
        return torch.clamp(images, self.value_range[0], self.value_range[1])


@register("Preprocessing")
class RandomCrop(_Augmentation):
    """Crops a random ``(height, width)`` window of the images in training (one window per batch, as
    Keras); images not larger than the window are cropped to its aspect ratio and resized. At
    inference the images pass through unchanged, as in Keras.

    Args:
        height, width: the output size.
        seed: optional int seed (Keras draws one when None).
        data_format: only ``"channels_last"``.

    Input shape:
        ``(batch, height, width, channels)`` or ``(height, width, channels)``.

    Output shape:
        ``(..., height, width, channels)`` in training.
    """

    _config_keys = ("height", "width", "seed")

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        if seed is None:
            self.seed = py_random.randint(1, int(1e9))  # written in the config, as Keras does
        for arg, value in (("height", height), ("width", width)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"RandomCrop: `{arg}` must be a positive integer. Received: {arg}={value!r}")
        self.height, self.width = int(height), int(width)

    def call(self, inputs, training=False):
        if not training:
            return inputs
        self._check_rank(self, tuple(inputs.shape))
        images = self._float(inputs)
        h, w = images.shape[-3], images.shape[-2]
        if h > self.height and w > self.width:
            top = int(self._uniform((), 0.0, float(h - self.height + 1)))
            left = int(self._uniform((), 0.0, float(w - self.width + 1)))
        else:
            crop_h = max(min(h, int(float(w * self.height) / self.width)), 1)
            crop_w = max(min(w, int(float(h * self.width) / self.height)), 1)
            top, left = int(float(h - crop_h) / 2), int(float(w - crop_w) / 2)
        # Keras slices a (height, width) window from the start it computed (clipped by the image's
        # edges, so a small image keeps everything from the start on) and resizes what remains.
        out = images[..., top:top + self.height, left:left + self.width, :]
        if tuple(out.shape[-3:-1]) != (self.height, self.width):
            out = image_ops.resize(out, (self.height, self.width), data_format=self.data_format)
        return out

    def compute_output_shape(self, input_shape):
        self._check_rank(self, input_shape)
        shape = list(input_shape)
        shape[-3], shape[-2] = self.height, self.width
        return tuple(shape)


@register("Preprocessing")
class RandomInvert(_Augmentation):
    """Inverts images (``value_range[1] - x``) at random in training: each image with a probability
    drawn from ``factor``.

    Args:
        factor: a float in [0, 1] (the probability range is ``[0, factor]``) or a pair.
        value_range: the range of the pixel values (``(0, 255)``).
        seed: optional int seed.
        data_format: only ``"channels_last"``.

    Input shape:
        ``(batch, height, width, channels)``.

    Output shape:
        Same as the input.
    """

    _config_keys = ("factor", "value_range", "seed")

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _symmetric_factor(self, factor, "factor", bounds=(0, 1))
        self.value_range = value_range

    def call(self, inputs, training=False):
        if not training:
            return inputs
        batch = self._batch_size(inputs)
        probability = self._uniform((batch,), self.factor[0], self.factor[1])
        threshold = self._uniform((batch,), 0.0, 1.0)
        apply = self._per_image(threshold < probability, inputs)
        images = self._float(inputs)
        return torch.where(apply, self.value_range[1] - images, images)


@register("Preprocessing")
class RandomGrayscale(_Augmentation):
    """Turns images to grayscale at random in training (each image with probability ``factor``),
    keeping the channel count: the gray value is repeated on every channel.

    Args:
        factor: the probability, between 0 and 1 (0.5).
        data_format: only ``"channels_last"``.
        seed: optional int seed.

    Input shape:
        ``(batch, height, width, 3)`` or ``(height, width, 3)``.

    Output shape:
        Same as the input.
    """

    _config_keys = ("factor",)

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 <= factor <= 1:
            raise ValueError(f"`factor` should be between 0 and 1. Received: factor={factor}")
        self.factor = factor

    def call(self, inputs, training=False):
        batch = self._batch_size(inputs)
        # Keras draws on every call, in inference too: the draws stay in step with Keras's layer.
        apply = self._per_image(self._uniform((batch,), 0.0, 1.0) < self.factor, inputs)
        if not training:
            return inputs
        gray = image_ops.rgb_to_grayscale(inputs, data_format=self.data_format)
        return torch.where(apply, gray, inputs)


@register("Preprocessing")
class AutoContrast(_Augmentation):
    """Stretches each image's channels to the full ``value_range`` (min to 0, max to 255 on the
    0-255 scale), in training and inference alike, as Keras. Constant channels are left unchanged.

    Args:
        value_range: the range of the pixel values (``(0, 255)``).

    Input shape:
        ``(batch, height, width, channels)``.

    Output shape:
        Same as the input (integer images are rounded back to their dtype).
    """

    _config_keys = ("value_range",)

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = self._value_range(value_range)

    @staticmethod
    def _rescale(images, source, target):
        if source[0] == target[0] and source[1] == target[1]:
            return images
        return (images - source[0]) / (source[1] - source[0]) * (target[1] - target[0]) + target[0]

    def call(self, inputs, training=False):
        self._check_rank(self, tuple(inputs.shape))
        images = self._float(self._rescale(self._float(inputs), self.value_range, (0, 255)))
        low = images.amin(dim=(1, 2), keepdim=True)
        high = images.amax(dim=(1, 2), keepdim=True)
        scale = 255.0 / (high - low)
        out = torch.clamp(images * scale - low * scale, 0.0, 255.0)
        out = self._rescale(out, (0, 255), self.value_range)
        out = torch.where(torch.isnan(out), inputs.to(out.dtype), out)
        if inputs.is_floating_point() or out.dtype == inputs.dtype:
            return out
        info = torch.iinfo(inputs.dtype)
        return torch.clamp(torch.round(out), info.min, info.max).to(inputs.dtype)


def _unit_pair(layer, factor, name):
    """Solarization's factors: a float f in [0, 1] gives (0, f); a pair is sorted."""
    values = factor if isinstance(factor, (tuple, list)) else [factor]
    if isinstance(factor, (tuple, list)) and len(factor) != 2:
        values = [None]
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
            raise ValueError(f"{type(layer).__name__}: `{name}` must be a number or a pair of numbers in [0, 1]. "
                             f"Received: {name}={factor!r}")
    return tuple(sorted(factor)) if isinstance(factor, (tuple, list)) else (0, factor)


@register("Preprocessing")
class Solarization(_Augmentation):
    """Solarizes images in training: adds a random ``addition`` (on the 0-255 scale), then inverts
    (``255 - x``) the pixels at or above a random ``threshold``.

    Args:
        addition_factor: a float f in [0, 1] draws additions in ``[0, f * 255]``; a pair
            ``(low, high)`` in ``[low, high * 255]`` (Keras's bounds). Default 0.
        threshold_factor: the same for the threshold. Default 0 (every pixel is inverted).
        value_range: the range of the pixel values (``(0, 255)``).
        seed: optional int seed.

    Input shape:
        ``(batch, height, width, channels)`` or ``(height, width, channels)``.

    Output shape:
        Same as the input.
    """

    _config_keys = ("value_range", "addition_factor", "threshold_factor", "seed")

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.addition_factor = _unit_pair(self, addition_factor, "addition_factor")
        self.threshold_factor = _unit_pair(self, threshold_factor, "threshold_factor")
        self.value_range = self._value_range(value_range)

    def call(self, inputs, training=False):
        images = self._float(inputs)
        if not training:
            return images
        shape = self._draw_shape(images)
        additions = self._uniform(shape, self.addition_factor[0], self.addition_factor[1] * 255).to(images.device)
        thresholds = self._uniform(shape, self.threshold_factor[0], self.threshold_factor[1] * 255).to(images.device)
        x = AutoContrast._rescale(images, self.value_range, (0, 255))
        x = torch.clamp(x + additions, 0, 255)
        x = torch.where(x < thresholds, x, 255 - x)
        return AutoContrast._rescale(x, (0, 255), self.value_range)


@register("Preprocessing")
class RandomPosterization(_Augmentation):
    """Reduces the bits per channel at random in training: each image keeps a random number of its
    most significant bits, drawn from ``[factor[0], factor[1])`` (on the 0-255 scale).

    Args:
        factor: an int in [1, 8] (bits drawn from ``[1, factor)``) or a pair of ints.
        value_range: the range of the pixel values (``(0, 255)``).
        data_format: only ``"channels_last"``.
        seed: optional int seed.

    Input shape:
        ``(batch, height, width, channels)``.

    Output shape:
        Same as the input.
    """

    _config_keys = ("factor", "value_range", "seed")

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _symmetric_factor(self, factor, "factor", bounds=(1, 8))
        self.value_range = self._value_range(value_range)

    def call(self, inputs, training=False):
        batch = self._batch_size(inputs)
        # Keras draws on every call, in inference too: the draws stay in step with Keras's layer.
        if self.factor[0] != self.factor[1]:
            bits = engine_random.randint((batch,), self.factor[0], self.factor[1], dtype="uint8", seed=self.generator)
        else:
            bits = torch.full((batch,), int(self.factor[0]), dtype=torch.uint8)
        if not training:
            return inputs
        shift = self._per_image(8 - bits.to(torch.int64), inputs)
        images = AutoContrast._rescale(self._float(inputs), self.value_range, (0, 255)).to(torch.uint8).to(torch.int64)
        images = ((images >> shift) << shift).to(backend.torch_dtype(self._dtype))
        return AutoContrast._rescale(images, (0, 255), self.value_range)


@register("Preprocessing")
class RandomColorDegeneration(_Augmentation):
    """Blends images with their grayscale version by a random factor in training:
    ``x + f * (gray(x) - x)``, clipped to ``value_range`` (f = 1 is fully gray).

    Args:
        factor: a float f in [0, 1] draws f in ``[-f, f]`` clipped to Keras's bounds; a pair
            ``(low, high)`` draws in that range.
        value_range: the range of the pixel values (``(0, 255)``).
        data_format: only ``"channels_last"``.
        seed: optional int seed.

    Input shape:
        ``(batch, height, width, 3)``.

    Output shape:
        Same as the input.
    """

    _config_keys = ("factor", "value_range", "seed")

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _symmetric_factor(self, factor, "factor")
        self.value_range = self._value_range(value_range)

    def call(self, inputs, training=False):
        batch = self._batch_size(inputs)
        # Keras draws on every call, in inference too: the draws stay in step with Keras's layer.
        factor = self._uniform((batch, 1, 1, 1), self.factor[0], self.factor[1]).to(inputs.device)
        if not training:
            return inputs
        images = self._float(inputs)
        gray = image_ops.rgb_to_grayscale(images, data_format=self.data_format)
        return torch.clamp(images + factor * (gray - images), self.value_range[0], self.value_range[1])


def _shear_factor(layer, factor, name):
    # A number is in [0, 1]; a pair may hold negative values, as the configs Keras writes do (Keras's
    # own from_config refuses them; the engine reads them).
    pair = isinstance(factor, (tuple, list))
    values = list(factor) if pair else [factor]
    low = -1.0 if pair else 0.0
    if (pair and len(factor) != 2) or any(
            isinstance(v, bool) or not isinstance(v, (int, float)) or not low <= v <= 1.0 for v in values):
        raise ValueError(f"RandomShear: `{name}` must be a number or a pair of numbers in [0, 1]. "
                         f"Received: {name}={factor!r}")
    if isinstance(factor, (tuple, list)):
        return tuple(sorted(factor))
    return (-abs(factor), abs(factor))


@register("Preprocessing")
class RandomShear(_Geometric):
    """Shears images at random in training, along x and/or y (each image sheared one way or the
    other with equal chance).

    Args:
        x_factor: a float f in [0, 1] shears horizontally by a factor in ``[-f, f]``; a pair gives
            the range. Default 0.
        y_factor: the same vertically. Default 0.
        interpolation, fill_mode, fill_value, data_format, seed: as ``RandomRotation``.

    Input shape:
        ``(batch, height, width, channels)`` or ``(height, width, channels)``.

    Output shape:
        Same as the input.
    """

    _config_keys = ("x_factor", "y_factor", "fill_mode", "interpolation", "seed", "fill_value")

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                 data_format=None, seed=None, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed, fill_value=fill_value,
                         data_format=data_format, **kwargs)
        self.x_factor = _shear_factor(self, x_factor, "x_factor")
        self.y_factor = _shear_factor(self, y_factor, "y_factor")

    def _matrix(self, batch, height, width):
        invert = self._uniform((batch, 1), 0.0, 1.0)
        invert = torch.where(invert > 0.5, -torch.ones_like(invert), torch.ones_like(invert))
        shear_y = self._uniform((batch, 1), self.y_factor[0], self.y_factor[1])
        shear_x = self._uniform((batch, 1), self.x_factor[0], self.x_factor[1])
        factors = torch.cat([shear_x, shear_y], dim=1) * invert
        ones, zeros = torch.ones(batch), torch.zeros(batch)
        return torch.stack([ones, factors[:, 0], zeros, factors[:, 1], ones, zeros, zeros, zeros], dim=1)

