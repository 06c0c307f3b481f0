"""Colour and filter augmentation layers: ``RandomHue``, ``RandomSaturation``, ``RandomSharpness``,
``RandomColorJitter``, ``RandomGaussianBlur`` and ``Equalization``.

As the other augmentation layers (``engine.layers.augmentation``), they transform images only in
training (a direct call trains, as Keras's ``call(data, training=True)``) and draw from
``engine.random`` with Keras's seeding in Keras's order, so a seeded layer gives Keras's output. Where
Keras draws in inference too (hue, saturation, sharpness), so does the engine, to stay in step.
"""
from __future__ import annotations

import torch

from engine import backend
from engine.layers.augmentation import (AutoContrast, RandomBrightness, RandomContrast, _Augmentation,
                                        _symmetric_factor)
from engine.layers.core import describe
from engine.layers.registry import register
from engine import random as engine_random
from engine.ops import image as image_ops

__all__ = ["RandomHue", "RandomSaturation", "RandomSharpness", "RandomColorJitter", "RandomGaussianBlur",
           "Equalization", "ContrastLimitedAdaptiveHistogramEqualization"]


def _batched(images):
    """``(images as a batch, whether it was one image)``."""
    return (images[None], True) if images.dim() == 3 else (images, False)


def _check_rgb(layer, images):
    if images.shape[-1] != 3:
        raise ValueError(f"{describe(layer)} works on RGB images (3 channels). Received: input shape "
                         f"{tuple(images.shape)}")


class _ColorLayer(_Augmentation):
    """A factor-and-value_range colour layer whose ``call`` draws (``_draw``) then transforms
    (``_transform``) a batch; ``_always_draws`` when Keras draws in inference too."""

    _always_draws = True
    _config_keys = ("factor", "value_range", "seed")

    def call(self, inputs, training=False):
        images = inputs if inputs.is_floating_point() else self._float(inputs)
        batch = self._batch_size(images)
        if not training and not self._always_draws:
            return images
        drawn = self._draw(batch)
        if not training:
            return images
        x, single = _batched(self._float(images))
        out = self._transform(x, drawn)
        return out[0] if single else out


@register("Preprocessing")
class RandomHue(_ColorLayer):
    """Shifts the hue of RGB images at random in training: each image's hue moves by up to
    ``factor / 2`` of the colour wheel, one way or the other.

    Args:
        factor: a float f in [0, 1] (shifts drawn in ``[0, f]`` turns halved, with a random sign) or a
            pair ``(low, high)``; 0 leaves the hue, 1 allows any hue.
        value_range: the range of the pixel values (``(0, 255)``).
        data_format: only ``"channels_last"``.
        seed: optional int seed.

    Input shape:
        ``(batch, height, width, 3)`` or ``(height, width, 3)``.

    Output shape:
        Same as the input.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _symmetric_factor(self, factor, "factor", bounds=(0, 1))
        self.value_range = value_range

    def _draw(self, batch):
        invert = self._uniform((batch,), 0.0, 1.0)
        invert = torch.where(invert > 0.5, -torch.ones_like(invert), torch.ones_like(invert))
        factor = self._uniform((batch,), self.factor[0], self.factor[1])
        return invert * factor * 0.5

    def _transform(self, images, shift):
        _check_rgb(self, images)
        x = AutoContrast._rescale(images, self.value_range, (0, 1))
        hsv = image_ops.rgb_to_hsv(x)
        h = hsv[..., 0] + shift.to(x.dtype).to(x.device).view(-1, 1, 1)
        h = torch.where(h > 1.0, h - 1.0, h)
        h = torch.where(h < 0.0, h + 1.0, h)
        rgb = image_ops.hsv_to_rgb(torch.stack([h, hsv[..., 1], hsv[..., 2]], dim=-1))
        return self._float(AutoContrast._rescale(torch.clamp(rgb, 0, 1), (0, 1), self.value_range))


@register("Preprocessing")
class RandomSaturation(_ColorLayer):
    """Changes the saturation of RGB images at random in training: the HSV saturation is multiplied by
    ``f / (1 - f)`` for an ``f`` drawn from ``factor`` (0.5 keeps it, 0 makes the image gray, 1 fully
    saturated), as Keras computes it.

    Args:
        factor: a float in [0, 1] (f drawn in ``[0, factor]``... as Keras's symmetric rule gives) or a
            pair ``(low, high)``.
        value_range: the range of the pixel values (``(0, 255)``); the saturation is clipped to it.
        data_format: only ``"channels_last"``.
        seed: optional int seed.

    Input shape:
        ``(batch, height, width, 3)`` or ``(height, width, 3)``.

    Output shape:
        Same as the input.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _symmetric_factor(self, factor, "factor")
        self.value_range = self._value_range(value_range)

    def _draw(self, batch):
        factor = self._uniform((batch,), self.factor[0], self.factor[1])
        return factor / (1 - factor + backend.epsilon())

    def _transform(self, images, factor):
        _check_rgb(self, images)
        hsv = image_ops.rgb_to_hsv(images)
        s = torch.clamp(hsv[..., 1] * factor.to(images.dtype).to(images.device).view(-1, 1, 1),
                        self.value_range[0], self.value_range[1])
        return image_ops.hsv_to_rgb(torch.stack([hsv[..., 0], s, hsv[..., 2]], dim=-1))


@register("Preprocessing")
class RandomSharpness(_ColorLayer):
    """Sharpens or blurs images at random in training: blends each image with a 3x3 smoothed copy,
    ``x + (1 - 2f) * (smooth(x) - x)`` for an ``f`` drawn from ``factor`` (0.5 keeps the image, 0 blurs,
    1 sharpens), clipped to ``value_range``.

    Args:
        factor: a float in [0, 1] or a pair ``(low, high)``.
        value_range: the range of the pixel values (``(0, 255)``).
        data_format: only ``"channels_last"``.
        seed: optional int seed.

    Input shape:
        ``(batch, height, width, channels)`` or ``(height, width, channels)``.

    Output shape:
        Same as the input.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _symmetric_factor(self, factor, "factor", bounds=(0, 1))
        self.value_range = self._value_range(value_range)

    def _draw(self, batch):
        return self._uniform((batch,), self.factor[0], self.factor[1])

    def _transform(self, images, factor):
        sharpness = (factor * 2).to(images.dtype).to(images.device).view(-1, 1, 1, 1)
        channels = images.shape[-1]
        a, b = 1.0 / 13.0, 5.0 / 13.0
        kernel = torch.tensor([[a, a, a], [a, b, a], [a, a, a]], dtype=images.dtype, device=images.device)
        kernel = kernel.expand(channels, 1, 3, 3)
        smoothed = torch.nn.functional.conv2d(images.permute(0, 3, 1, 2), kernel, padding=1, groups=channels)
        smoothed = smoothed.permute(0, 2, 3, 1)
        out = images + (1.0 - sharpness) * (smoothed - images)
        return torch.clamp(out, self.value_range[0], self.value_range[1])


@register("Preprocessing")
class RandomColorJitter(_Augmentation):
    """Random brightness, contrast, saturation and hue changes in training, in that order, each only
    when its factor is given (the factors mean what they mean in ``RandomBrightness``,
    ``RandomContrast``, ``RandomSaturation`` and ``RandomHue``). The draws come from this layer's seed,
    as in Keras.

    Args:
        value_range: the range of the pixel values (``(0, 255)``).
        brightness_factor, contrast_factor, saturation_factor, hue_factor: None (default: skipped) or the
            factor of that change.
        seed: optional int seed.
        data_format: only ``"channels_last"``.

    Input shape:
        ``(batch, height, width, 3)`` or ``(height, width, 3)``.

    Output shape:
        Same as the input.
    """

    _config_keys = ("value_range", "brightness_factor", "contrast_factor", "saturation_factor", "hue_factor", "seed")

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None, saturation_factor=None,
                 hue_factor=None, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        # The parts; their draws come from this layer's generator (see call), as Keras's jitter does.
        self._parts = [part for part in (
            RandomBrightness(brightness_factor, value_range=value_range, seed=seed)
            if brightness_factor is not None else None,
            RandomContrast(contrast_factor, value_range=value_range, seed=seed)
            if contrast_factor is not None else None,
            RandomSaturation(saturation_factor, value_range=value_range, seed=seed)
            if saturation_factor is not None else None,
            RandomHue(hue_factor, value_range=value_range, seed=seed) if hue_factor is not None else None,
        ) if part is not None]

    def call(self, inputs, training=False):
        images = self._float(inputs)
        if not training:
            return images
        self._batch_size(images)
        for part in self._parts:
            own = part.generator
            part.generator = self.generator
            try:
                images = self._float(part.call(images, training=True))
            finally:
                part.generator = own
        return images


def _odd_pair(value, name):
    message = f"{name} must be an odd number. Received: {name}={value}"
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"The `{name}` argument should be a number (or a list of two numbers) "
                             f"Received: {name}={value}")
        if value[0] % 2 == 0 or value[1] % 2 == 0:
            raise ValueError(message)
        return tuple(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value % 2 == 0:
        raise ValueError(message)
    return (value, value)


@register("Preprocessing")
class RandomGaussianBlur(_Augmentation):
    """Blurs images with a Gaussian kernel at random in training: each image with a probability drawn
    from ``factor``, all of a batch with one sigma per axis drawn from ``sigma``.

    Args:
        factor: the blur probability: a float in [0, 1] (drawn in ``[0, factor]``) or a pair (1.0).
        kernel_size: an odd int or a pair of odd ints (3).
        sigma: a float in [0, 1] or a pair: the range of the standard deviation (1.0).
        value_range: the range of the pixel values (``(0, 255)``); outputs are clipped to it.
        data_format: only ``"channels_last"``.
        seed: optional int seed.

    Input shape:
        ``(batch, height, width, channels)`` or ``(height, width, channels)``.

    Output shape:
        Same as the input.
    """

    _config_keys = ("factor", "kernel_size", "sigma", "value_range", "seed")

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255), data_format=None, seed=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _symmetric_factor(self, factor, "factor", bounds=(0, 1))
        self.kernel_size = _odd_pair(kernel_size, "kernel_size")
        self.sigma = _symmetric_factor(self, sigma, "sigma", bounds=(0, 1))
        self.value_range = value_range

    def call(self, inputs, training=False):
        images = self._float(inputs)
        if not training:
            return images
        batch = self._batch_size(images)
        if self.kernel_size[0] != self.kernel_size[1]:
            raise ValueError(f"{describe(self)}: kernel_size={tuple(self.kernel_size)} is not square. Keras's blur "
                             "pads both axes by kernel_size[0] // 2, so only a square kernel keeps the image size; "
                             "use one odd number, e.g. kernel_size=3 or kernel_size=5.")
        probability = self._uniform((batch,), self.factor[0], self.factor[1])
        threshold = self._uniform((batch,), 0.0, 1.0)
        apply = (threshold < probability).to(images.device)
        sigma = _random_uniform_dtype(self, (2,), self.sigma[0], self.sigma[1]) + 1e-6
        x, single = _batched(images)
        blurred = image_ops.gaussian_blur(x, kernel_size=self.kernel_size, sigma=[float(s) for s in sigma])
        out = torch.clamp(torch.where(apply.view(-1, 1, 1, 1), blurred, x), self.value_range[0], self.value_range[1])
        return out[0] if single else out


def _random_uniform_dtype(layer, shape, low, high):
    return engine_random.uniform(shape, minval=low, maxval=high, seed=layer.generator, dtype=layer._dtype)


@register("Preprocessing")
class Equalization(_Augmentation):
    """Histogram equalization in training: each channel's values are remapped so that their histogram
    (over ``bins`` bins, counted over the whole batch, as Keras counts it) is as flat as possible.
    A channel with a single value is left as it is.

    Args:
        value_range: the range of the pixel values (``(0, 255)``).
        bins: histogram bins (256).
        data_format: only ``"channels_last"``.

    Input shape:
        ``(batch, height, width, channels)`` or ``(height, width, channels)``.

    Output shape:
        Same as the input, in the layer's float dtype.
    """

    _config_keys = ("bins", "value_range")

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.bins = bins
        self.value_range = self._value_range(value_range)

    @staticmethod
    def _scale(values, source, target):
        scale = (target[1] - target[0]) / (source[1] - source[0])
        return values * scale + (target[0] - source[0] * scale)

    def _equalize_channel(self, channel):
        channel = self._scale(channel, self.value_range, (0, 255))
        scaled = channel.to(torch.float32) * (self.bins - 1) / 255.0
        indices = torch.clamp(scaled.to(torch.int32), 0, self.bins - 1).reshape(-1).long()
        hist = torch.bincount(indices, minlength=self.bins)
        if int(torch.count_nonzero(hist)) <= 1:
            out = channel
        else:
            cdf = torch.cumsum(hist, 0)
            cdf_min = cdf[torch.nonzero(cdf)[0][0]]
            denominator = cdf[-1] - cdf_min
            denominator = torch.where(denominator == 0, torch.ones_like(denominator), denominator)
            lookup = torch.clamp(torch.round((cdf - cdf_min) * 255 / denominator), 0, 255)
            index = torch.clamp(channel / 255.0 * (self.bins - 1), 0, self.bins - 1).to(torch.int32).long()
            out = lookup[index].to(channel.dtype)
        return self._scale(out, (0, 255), self.value_range)

    def call(self, inputs, training=False):
        images = self._float(inputs)
        if not training:
            return inputs
        self._batch_size(images)
        return torch.stack([self._equalize_channel(images[..., i]) for i in range(images.shape[-1])], dim=-1)


@register("Preprocessing")
class ContrastLimitedAdaptiveHistogramEqualization(_Augmentation):
    """CLAHE: histogram equalization per tile of a ``tile_grid_size`` grid, each tile's histogram clipped
    at ``clip_limit`` times the mean bin count (the excess spread over all bins), the tiles' mappings
    blended bilinearly. As Keras's, it applies in training and at inference (it is not random).

    Args:
        value_range: the range of the pixel values (``(0, 255)``).
        clip_limit: the contrast limit (4.0); 0 or less equalizes without clipping.
        tile_grid_size: ``(rows, columns)`` of tiles (``(8, 8)``).
        data_format: only ``"channels_last"``.

    Input shape:
        ``(batch, height, width, channels)`` or ``(height, width, channels)``.

    Output shape:
        Same as the input, in the input's dtype.
    """

    _config_keys = ("value_range", "clip_limit", "tile_grid_size")

    def __init__(self, value_range=(0, 255), clip_limit=4.0, tile_grid_size=(8, 8), data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range
        self.clip_limit = clip_limit
        if not isinstance(tile_grid_size, (tuple, list)) or len(tile_grid_size) != 2 or any(
                isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in tile_grid_size):
            raise ValueError(f"{type(self).__name__}: `tile_grid_size` must be two positive integers (rows, columns). "
                             f"Received: tile_grid_size={tile_grid_size!r}")
        self.tile_grid_size = tile_grid_size

    def call(self, inputs, training=False):
        self._batch_size(inputs)
        dtype = inputs.dtype
        x = AutoContrast._rescale(inputs.to(torch.float32), self.value_range, (0, 255))
        single = x.dim() == 3
        out = self._clahe(x[None] if single else x)
        out = AutoContrast._rescale(out[0] if single else out, (0, 255), self.value_range)
        return out.to(dtype)

    def _clahe(self, images):
        batch, height, width, channels = images.shape
        grid_h, grid_w = self.tile_grid_size
        tile_h, tile_w = -(-height // grid_h), -(-width // grid_w)
        pad_h, pad_w = tile_h * grid_h - height, tile_w * grid_w - width
        padded = images
        if pad_h or pad_w:  # NumPy's "symmetric" padding at the bottom and right (the edge repeated)
            rows = torch.cat([torch.arange(height), height - 1 - torch.arange(pad_h).clamp(max=height - 1)])
            cols = torch.cat([torch.arange(width), width - 1 - torch.arange(pad_w).clamp(max=width - 1)])
            padded = images[:, rows.to(images.device)][:, :, cols.to(images.device)]
        tiles = padded.reshape(batch, grid_h, tile_h, grid_w, tile_w, channels).permute(0, 1, 3, 5, 2, 4)
        tiles = torch.clamp(tiles.reshape(batch, grid_h, grid_w, channels, tile_h * tile_w).to(torch.int32), 0, 255)
        hists = torch.nn.functional.one_hot(tiles.long(), 256).to(torch.int32).sum(dim=-2, dtype=torch.int32)
        if self.clip_limit > 0:
            # Keras counts in integers, so its limit is truncated to a whole count, as here.
            limit = int(self.clip_limit * (tile_h * tile_w) / 256.0)
            clipped = torch.clamp(hists, 0, limit)
            excess = (hists - clipped).sum(dim=-1, keepdim=True)
            hists = clipped + excess / 256.0
        hists = hists.to(torch.float32)
        cdf = torch.cumsum(hists, dim=-1)
        cdf_min = cdf.min(dim=-1, keepdim=True).values
        denominator = torch.tensor(float(tile_h * tile_w), dtype=cdf.dtype) - cdf_min
        denominator = torch.where(denominator == 0, torch.ones_like(denominator), denominator)
        cdf = torch.clamp((cdf - cdf_min) * 255.0 / denominator, 0, 255)
        cdf = torch.cat([cdf[:, :1], cdf, cdf[:, -1:]], dim=1)
        cdf = torch.cat([cdf[:, :, :1], cdf, cdf[:, :, -1:]], dim=2)  # (batch, gh + 2, gw + 2, channels, 256)
        y = (torch.arange(tile_h * grid_h, dtype=torch.float32) - tile_h / 2.0) / tile_h + 1.0
        xg = (torch.arange(tile_w * grid_w, dtype=torch.float32) - tile_w / 2.0) / tile_w + 1.0
        y0, x0 = torch.floor(y), torch.floor(xg)
        wy, wx = (y - y0).to(images.device), (xg - x0).to(images.device)
        y1 = torch.clamp(y0 + 1, 0, grid_h + 1).long().to(images.device)
        x1 = torch.clamp(x0 + 1, 0, grid_w + 1).long().to(images.device)
        y0 = torch.clamp(y0, 0, grid_h + 1).long().to(images.device)
        x0 = torch.clamp(x0, 0, grid_w + 1).long().to(images.device)
        pixels = torch.clamp(padded, 0, 255).to(torch.int32).long()  # (batch, H, W, channels)
        b = torch.arange(batch, device=images.device).view(-1, 1, 1, 1)
        c = torch.arange(channels, device=images.device).view(1, 1, 1, -1)

        def look(ys, xs):
            return cdf[b, ys.view(1, -1, 1, 1), xs.view(1, 1, -1, 1), c, pixels]

        wx4, wy4 = wx.view(1, 1, -1, 1), wy.view(1, -1, 1, 1)
        top = look(y0, x0) * (1.0 - wx4) + look(y0, x1) * wx4
        bottom = look(y1, x0) * (1.0 - wx4) + look(y1, x1) * wx4
        result = top * (1.0 - wy4) + bottom * wy4
        return result[:, :height, :width, :]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)
