"""Augmentation layers that mix, erase or warp images: ``MixUp``, ``CutMix``, ``RandomErasing``,
``RandomPerspective`` and ``RandomElasticTransform``.

As in Keras they change images only in training and draw from ``engine.random`` with Keras's seeding in
Keras's order, so a seeded layer gives Keras's output. ``MixUp`` and ``CutMix`` mix the labels too when
called on ``{"images": ..., "labels": ...}`` (one-hot labels), as Keras's do.
"""
from __future__ import annotations

import torch

from engine.layers.augmentation import _FILL_MODES, _INTERPOLATIONS, _Augmentation, _symmetric_factor
from engine.layers.core import describe
from engine.layers.layer import to_tensor
from engine.layers.registry import register
from engine import random as engine_random
from engine.ops import image as image_ops

__all__ = ["MixUp", "CutMix", "RandomErasing", "RandomPerspective", "RandomElasticTransform"]


class _DictAugmentation(_Augmentation):
    """Takes images, or a dict with ``"images"`` (and ``"labels"``, mixed by ``_mix_labels`` where the
    layer mixes them); other entries (bounding boxes, segmentation masks) are refused."""

    def _eager_call(self, inputs, *args, training=None, **kwargs):
        training = True if training is None else bool(training)
        if not isinstance(inputs, dict):
            return self.call(to_tensor(inputs), *args, training=training, **kwargs)
        unknown = set(inputs) - {"images", "labels"}
        if "images" not in inputs or unknown:
            raise ValueError(f"{describe(self)} takes images, or a dict with 'images' and optionally 'labels'. "
                             f"Received keys {sorted(inputs)}; bounding boxes and segmentation masks are not "
                             "supported by the engine.")
        out = dict(inputs)
        images = to_tensor(inputs["images"])
        self._last_draw = None
        out["images"] = self.call(images, training=training)
        if "labels" in inputs:
            labels = to_tensor(inputs["labels"])
            out["labels"] = self._mix_labels(labels, self._last_draw) if training and self._last_draw else labels
        return out

    def _mix_labels(self, labels, draw):
        return labels


@register("Preprocessing")
class MixUp(_DictAugmentation):
    """MixUp (Zhang et al., 2017) in training: each image becomes ``w * x + (1 - w) * x[perm]``, with a
    random permutation of the batch and weights drawn from Beta(alpha, alpha); called on
    ``{"images", "labels"}`` the labels are mixed with the same weights.

    Args:
        alpha: the Beta distribution's parameter (0.2).
        data_format: only ``"channels_last"``.
        seed: optional int seed.

    Input shape:
        ``(batch, height, width, channels)`` (or a dict with ``"images"`` and ``"labels"``).

    Output shape:
        Same as the input.
    """

    _config_keys = ("alpha", "seed")

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.alpha = alpha

    def call(self, inputs, training=False):
        images = self._float(inputs)
        batch = self._batch_size(images)
        # Keras draws in inference too: the draws stay in step with Keras's layer.
        order = engine_random.shuffle(torch.arange(batch, dtype=torch.int64), seed=self.generator)
        weight = engine_random.beta((batch,), self.alpha, self.alpha, seed=self.generator)
        self._last_draw = (order, weight)
        if not training:
            return images
        order, w = order.to(images.device), weight.to(images.dtype).to(images.device)
        mixed = torch.index_select(images, 0, order) if images.dim() == 4 else images
        return w.view(-1, 1, 1, 1) * images + (1.0 - w.view(-1, 1, 1, 1)) * mixed if images.dim() == 4 else (
            w.view(1, 1, 1) * images + (1.0 - w.view(1, 1, 1)) * mixed)

    def _mix_labels(self, labels, draw):
        order, weight = draw
        other = torch.index_select(labels, 0, order.to(labels.device))
        w = weight.to(labels.device).reshape(-1, 1)
        return w * labels + (1.0 - w) * other


def _crop_bounds(layer, batch, length, ratio):
    crop = (ratio * length).to(ratio.dtype)
    start = layer._uniform_dtype((batch,), 0, 1) * (length - crop)
    return start, start + crop


def _box_masks(height, width, channels, corners, dtype):
    ys, xs = torch.meshgrid(torch.arange(height, dtype=dtype), torch.arange(width, dtype=dtype), indexing="ij")
    xs, ys = xs[None, :, :, None], ys[None, :, :, None]
    x0, x1, y0, y1 = (c.view(-1, 1, 1, 1) for c in corners)
    masks = (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
    return masks.expand(-1, -1, -1, channels)


class _BoxMixin:
    def _uniform_dtype(self, shape, low, high):
        return engine_random.uniform(shape, minval=low, maxval=high, seed=self.generator, dtype=self._dtype)


@register("Preprocessing")
class CutMix(_BoxMixin, _DictAugmentation):
    """CutMix (Yun et al., 2019) in training: a random box of each image is replaced by the same box of
    another image of the batch; the box's area follows a Beta draw. Called on ``{"images", "labels"}``
    the labels are mixed by the area kept. Single images pass through, as in Keras.

    Args:
        factor: a float in [0, 1] or a pair: the range of the Beta parameter (1.0).
        seed: optional int seed.
        data_format: only ``"channels_last"``.

    Input shape:
        ``(batch, height, width, channels)`` (or a dict with ``"images"`` and ``"labels"``).

    Output shape:
        Same as the input.
    """

    _config_keys = ("factor", "seed")

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _symmetric_factor(self, factor, "factor", bounds=(0, 1))

    def call(self, inputs, training=False):
        images = self._float(inputs)
        self._batch_size(images)
        if not training or images.dim() == 3:
            return images
        batch, height, width, channels = images.shape
        alpha = float(self._uniform_dtype((), self.factor[0], self.factor[1])) + 1e-6
        weight = engine_random.beta((batch,), alpha, alpha, seed=self.generator, dtype=self._dtype)
        ratio = torch.sqrt(1.0 - weight)
        x0, x1 = _crop_bounds(self, batch, width, ratio)
        y0, y1 = _crop_bounds(self, batch, height, ratio)
        masks = _box_masks(height, width, channels, (x0, x1, y0, y1), images.dtype).to(images.device)
        kept = 1.0 - (x1 - x0) * (y1 - y0) / (width * height)
        order = engine_random.shuffle(torch.arange(batch, dtype=torch.int32), seed=self.generator)
        self._last_draw = (order, kept)
        return torch.where(masks, torch.index_select(images, 0, order.long().to(images.device)), images)

    def _mix_labels(self, labels, draw):
        order, kept = draw
        other = torch.index_select(labels, 0, order.long().to(labels.device))
        w = kept.to(labels.device).reshape(-1, 1)
        return w * labels + (1.0 - w) * other


@register("Preprocessing")
class RandomErasing(_BoxMixin, _DictAugmentation):
    """Random erasing (Zhong et al., 2017) in training: with a probability drawn from ``factor``, a random
    box of each image (its sides a random fraction, from ``scale``, of the image's) is filled with
    ``fill_value``, or with Gaussian noise times ``value_range[1]`` when it is None; clipped to
    ``value_range``.

    Args:
        factor: the erasing probability: a float in [0, 1] or a pair (1.0).
        scale: the range of the box's area fraction per side, squared (``(0.02, 0.33)``).
        fill_value: None (noise), a number, or three numbers (one per channel).
        value_range: the range of the pixel values (``(0, 255)``).
        seed: optional int seed.
        data_format: only ``"channels_last"``.

    Input shape:
        ``(batch, height, width, channels)`` or ``(height, width, channels)``.

    Output shape:
        Same as the input.
    """

    _config_keys = ("factor", "scale", "fill_value", "value_range", "seed")

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255), seed=None,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _symmetric_factor(self, factor, "factor", bounds=(0, 1))
        self.scale = _symmetric_factor(self, scale, "scale", bounds=(0, 1))
        if fill_value is not None and not (
                isinstance(fill_value, (int, float)) and not isinstance(fill_value, bool)
                or isinstance(fill_value, (tuple, list)) and len(fill_value) == 3):
            raise ValueError("The `fill_value` argument should be a number (or a list of three numbers) "
                             f"Received: fill_value={fill_value!r}")
        self.fill_value = fill_value
        self.value_range = value_range

    def call(self, inputs, training=False):
        images = self._float(inputs)
        batch = self._batch_size(images)
        if not training:
            return images
        height, width, channels = images.shape[-3:]
        weight = torch.sqrt(self._uniform_dtype((batch, 2), self.scale[0], self.scale[1]))
        x0, x1 = _crop_bounds(self, batch, width, weight[:, 0])
        y0, y1 = _crop_bounds(self, batch, height, weight[:, 1])
        masks = _box_masks(height, width, channels, (x0, x1, y0, y1), images.dtype).to(images.device)
        probability = self._uniform((batch,), self.factor[0], self.factor[1])
        threshold = self._uniform((batch,), 0.0, 1.0)
        apply = (threshold < probability).to(images.device)
        if self.fill_value is None:
            fill = engine_random.normal(tuple(images.shape), dtype=self._dtype, seed=self.generator) * self.value_range[1]
        else:
            fill = torch.full_like(images, 0.0) + torch.as_tensor(self.fill_value, dtype=images.dtype)
        fill = torch.clamp(fill.to(images.device, images.dtype), self.value_range[0], self.value_range[1])
        x = images[None] if images.dim() == 3 else images
        erased = torch.where(masks, fill, x)
        out = torch.where(apply.view(-1, 1, 1, 1), erased, x)
        return out[0] if images.dim() == 3 else out


@register("Preprocessing")
class RandomPerspective(_BoxMixin, _DictAugmentation):
    """A random perspective warp in training: with a probability drawn from ``factor``, the image's four
    corners move by up to ``scale / 2`` of their coordinates and the image follows; outside points are
    ``fill_value``.

    Args:
        factor: the probability: a float in [0, 1] or a pair (1.0).
        scale: how far the corners may move, in [0, 1] (1.0).
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_value: the value of points outside the image (0.0).
        seed: optional int seed.
        data_format: only ``"channels_last"``.

    Input shape:
        ``(batch, height, width, channels)`` or ``(height, width, channels)``.

    Output shape:
        Same as the input.
    """

    _config_keys = ("factor", "scale", "interpolation", "fill_value", "seed")

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_value=0.0, seed=None, data_format=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _symmetric_factor(self, factor, "factor", bounds=(0, 1))
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0.0 <= scale <= 1.0:
            raise ValueError(f"The `scale` argument should be a number in the range [0,1]. Received: scale={scale}")
        if interpolation not in _INTERPOLATIONS:
            raise NotImplementedError(f"Unknown `interpolation` {interpolation}. Expected of one {_INTERPOLATIONS}.")
        self.scale = scale
        self.fill_value = fill_value
        self.interpolation = interpolation

    def call(self, inputs, training=False):
        images = self._float(inputs)
        batch = self._batch_size(images)
        if not training:
            return images
        height, width = images.shape[-3], images.shape[-2]
        probability = self._uniform((batch,), self.factor[0], self.factor[1])
        threshold = self._uniform((batch,), 0.0, 1.0)
        apply = (threshold < probability).to(images.device)
        moves = self._uniform_dtype((batch, 4, 2), -0.5 * self.scale, 0.5 * self.scale)
        start = torch.tensor([[[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1], [width - 1, height - 1]]],
                             dtype=moves.dtype).repeat(batch, 1, 1)
        end = start + start * moves
        x = images[None] if images.dim() == 3 else images
        warped = image_ops.perspective_transform(x, start.to(x.device), end.to(x.device),
                                                 interpolation=self.interpolation, fill_value=self.fill_value)
        out = torch.where(apply.view(-1, 1, 1, 1), warped, x)
        return out[0] if images.dim() == 3 else out


@register("Preprocessing")
class RandomElasticTransform(_BoxMixin, _DictAugmentation):
    """A random elastic distortion in training: with a probability drawn from ``factor``, pixels move
    along a smoothed random displacement field whose strength is drawn from ``scale`` (alpha =
    0.1 * max(height, width) * s, sigma = 0.05 * min(height, width) * s); clipped to ``value_range``.

    Args:
        factor: the probability: a float in [0, 1] or a pair (1.0).
        scale: the distortion strength: a float in [0, 1] or a pair (1.0).
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``.
        fill_value: the value for ``fill_mode="constant"``.
        value_range: the range of the pixel values (``(0, 255)``).
        seed: optional int seed.
        data_format: only ``"channels_last"``.

    Input shape:
        ``(batch, height, width, channels)`` or ``(height, width, channels)``.

    Output shape:
        Same as the input.
    """

    _config_keys = ("factor", "scale", "interpolation", "fill_mode", "fill_value", "value_range", "seed")

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                 value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _symmetric_factor(self, factor, "factor", bounds=(0, 1))
        self.scale = _symmetric_factor(self, scale, "scale", bounds=(0, 1))
        if interpolation not in _INTERPOLATIONS:
            raise NotImplementedError(f"Unknown `interpolation` {interpolation}. Expected of one {_INTERPOLATIONS}.")
        if fill_mode not in _FILL_MODES:
            raise NotImplementedError(f"Unknown `fill_mode` {fill_mode}. Expected of one {_FILL_MODES}.")
        self.interpolation = interpolation
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.value_range = value_range
        # Keras's torch backend draws the displacement noise from torch's global generator (not the layer's
        # seed), so it differs run to run; the engine draws it from a generator of its own, seeded by
        # ``seed``, which keeps the other draws in step with Keras's and makes a seeded layer repeatable.
        self._noise_generator = engine_random.SeedGenerator(None if seed is None else seed + 1)

    def call(self, inputs, training=False):
        images = self._float(inputs)
        batch = self._batch_size(images)
        if not training or self.scale[1] == 0 or self.factor[1] == 0:
            return images
        probability = self._uniform((batch,), self.factor[0], self.factor[1])
        threshold = self._uniform((batch,), 0.0, 1.0)
        apply = (threshold < probability).to(images.device)
        strength = float(self._uniform_dtype((), self.scale[0], self.scale[1]))
        height, width = images.shape[-3], images.shape[-2]
        alpha = max(height, width) * 0.1 * strength
        sigma = min(height, width) * 0.05 * strength
        warped = image_ops.elastic_transform(images, alpha=alpha, sigma=sigma, interpolation=self.interpolation,
                                             fill_mode=self.fill_mode, fill_value=self.fill_value,
                                             seed=self._noise_generator)
        out = torch.where(apply.view((-1, 1, 1) if images.dim() == 3 else (-1, 1, 1, 1)), warped, images)
        return torch.clamp(out, self.value_range[0], self.value_range[1])

