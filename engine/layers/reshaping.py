"""Spatial reshaping on channels_last tensors: ZeroPadding1D/2D/3D, UpSampling1D/2D/3D, Cropping1D/2D/3D."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine import backend
from engine.layers.convolution import normalize_tuple
from engine.layers.core import check_rank, describe, is_int
from engine.layers.layer import Layer
from engine.layers.registry import register

__all__ = ["ZeroPadding2D", "UpSampling2D", "Cropping2D", "ZeroPadding1D", "ZeroPadding3D", "UpSampling1D",
           "UpSampling3D", "Cropping1D", "Cropping3D"]

_IMAGE = "(batch, height, width, channels)"
_IMAGE_HINT = " Add a Reshape layer before it to give the input that layout, e.g. Reshape((28, 28, 1))."


def _pairs(value, name):
    """An int, a pair of ints or a pair of pairs as ``((top, bottom), (left, right))``, all >= 0."""
    if is_int(value):
        if value < 0:
            raise ValueError(f"`{name}` cannot be negative. Received: {name}={value}")
        return ((int(value),) * 2,) * 2
    if not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(
            f"`{name}` should be an int, a tuple of 2 ints (symmetric_height, symmetric_width) or a tuple of "
            f"2 tuples of 2 ints ((top, bottom), (left, right)). Received: {name}={value!r}"
        )
    return (normalize_tuple(value[0], 2, f"1st entry of {name}", allow_zero=True),
            normalize_tuple(value[1], 2, f"2nd entry of {name}", allow_zero=True))


@register("Convolution")
class ZeroPadding2D(Layer):
    """Adds rows and columns of zeros around an image.

    Args:
        padding: int (the same padding on all four sides), tuple of 2 ints
            ``(symmetric_height_pad, symmetric_width_pad)``, or tuple of 2 tuples of 2 ints
            ``((top_pad, bottom_pad), (left_pad, right_pad))``. Default ``(1, 1)``.
        data_format: only ``"channels_last"`` (or None).

    Input shape:
        4-D tensor ``(batch_size, rows, cols, channels)``.

    Output shape:
        4-D tensor ``(batch_size, padded_rows, padded_cols, channels)``.
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend.standardize_data_format(data_format)
        self.padding = _pairs(padding, "padding")
        (top, bottom), (left, right) = self.padding
        self._pad_arg = (0, 0, left, right, top, bottom)  # F.pad order: channels, width, height
        self.built = True

    def call(self, inputs):
        return F.pad(inputs, self._pad_arg)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, 4, _IMAGE, _IMAGE_HINT)
        n, h, w, c = input_shape
        (top, bottom), (left, right) = self.padding
        return (n, None if h is None else h + top + bottom, None if w is None else w + left + right, c)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config


@register("Convolution")
class UpSampling2D(Layer):
    """Upsamples an image by repeating rows and columns (``"nearest"``) or by interpolation.

    Args:
        size: int or tuple of 2 ints, the upsampling factors for rows and columns. Default ``(2, 2)``.
        data_format: only ``"channels_last"`` (or None).
        interpolation: ``"nearest"`` (default), ``"bilinear"`` or ``"bicubic"`` (as Keras on torch:
            half-pixel centers, ``align_corners=False``).

    Input shape:
        4-D tensor ``(batch_size, rows, cols, channels)``.

    Output shape:
        4-D tensor ``(batch_size, rows * size[0], cols * size[1], channels)``.
    """

    _interpolations = ("nearest", "bilinear", "bicubic")

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend.standardize_data_format(data_format)
        self.size = normalize_tuple(size, 2, "size")
        interp = str(interpolation).lower()
        if interp not in self._interpolations:
            raise ValueError(f"`interpolation` must be one of {', '.join(self._interpolations)}. "
                             f"Received: interpolation={interpolation!r}")
        self.interpolation = interp
        self.built = True

    def call(self, inputs):
        sh, sw = self.size
        n, h, w, c = inputs.shape
        if self.interpolation == "nearest":
            # One broadcast copy instead of two repeat_interleave passes.
            return inputs[:, :, None, :, None, :].expand(n, h, sh, w, sw, c).reshape(n, h * sh, w * sw, c)
        y = F.interpolate(inputs.permute(0, 3, 1, 2), size=(h * sh, w * sw), mode=self.interpolation,
                          align_corners=False)
        return y.permute(0, 2, 3, 1)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, 4, _IMAGE, _IMAGE_HINT)
        n, h, w, c = input_shape
        return (n, None if h is None else h * self.size[0], None if w is None else w * self.size[1], c)

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format, "interpolation": self.interpolation})
        return config


@register("Convolution")
class Cropping2D(Layer):
    """Crops rows and columns off the edges of an image.

    Args:
        cropping: int (the same on all four sides), tuple of 2 ints
            ``(symmetric_height_crop, symmetric_width_crop)``, or tuple of 2 tuples of 2 ints
            ``((top_crop, bottom_crop), (left_crop, right_crop))``. Default no cropping.
        data_format: only ``"channels_last"`` (or None).

    Input shape:
        4-D tensor ``(batch_size, rows, cols, channels)``.

    Output shape:
        4-D tensor ``(batch_size, cropped_rows, cropped_cols, channels)``.
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend.standardize_data_format(data_format)
        self.cropping = _pairs(cropping, "cropping")
        (top, bottom), (left, right) = self.cropping
        self._rows = slice(top, -bottom if bottom else None)
        self._cols = slice(left, -right if right else None)
        self.built = True

    def call(self, inputs):
        if inputs.shape[1] <= sum(self.cropping[0]) or inputs.shape[2] <= sum(self.cropping[1]):
            self.compute_output_shape(tuple(inputs.shape))  # raises the explanatory error
        return inputs[:, self._rows, self._cols, :]

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, 4, _IMAGE, _IMAGE_HINT)
        n, h, w, c = input_shape
        (top, bottom), (left, right) = self.cropping
        if (h is not None and top + bottom >= h) or (w is not None and left + right >= w):
            raise ValueError(
                f"{describe(self)}: cropping={self.cropping} removes all rows or columns of the input of shape "
                f"{input_shape}. Each pair of crops must sum to less than the height/width."
            )
        return (n, None if h is None else h - top - bottom, None if w is None else w - left - right, c)

    def get_config(self):
        config = super().get_config()
        config.update({"cropping": self.cropping, "data_format": self.data_format})
        return config


# ---------------------------------------------------------------------------- 1D and 3D
_LAYOUT = {1: "(batch, steps, channels)", 3: "(batch, dim1, dim2, dim3, channels)"}


def _per_axis_pairs(value, rank, name):
    """An int, ``rank`` ints (symmetric) or ``rank`` pairs as a tuple of ``rank`` (start, end) pairs >= 0."""
    if is_int(value):
        if value < 0:
            raise ValueError(f"`{name}` cannot be negative. Received: {name}={value}")
        return ((int(value),) * 2,) * rank
    if rank == 1:
        return (normalize_tuple(value, 2, name, allow_zero=True),)
    if not hasattr(value, "__len__") or len(value) != rank:
        raise ValueError(f"`{name}` should be an int, a tuple of {rank} ints or a tuple of {rank} tuples of 2 ints. "
                         f"Received: {name}={value!r}")
    return tuple(normalize_tuple(v, 2, f"entry {i} of {name}", allow_zero=True) for i, v in enumerate(value))


class _SpatialReshape(Layer):
    rank = 1

    def _check(self, input_shape):
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, self.rank + 2, _LAYOUT[self.rank])
        return input_shape


@register("Convolution")
class ZeroPadding1D(_SpatialReshape):
    """Adds zeros at the start and end of the steps of a sequence.

    Args:
        padding: int (both ends) or tuple of 2 ints ``(start, end)``. Default 1.
        data_format: only ``"channels_last"``.

    Input shape:
        ``(batch, steps, channels)``.

    Output shape:
        ``(batch, padded_steps, channels)``.
    """

    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend.standardize_data_format(data_format)
        self.padding = _per_axis_pairs(padding, 1, "padding")[0]
        self.built = True

    def call(self, inputs):
        return F.pad(inputs, (0, 0, *self.padding))

    def compute_output_shape(self, input_shape):
        n, t, c = self._check(input_shape)
        return (n, None if t is None else t + sum(self.padding), c)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config


@register("Convolution")
class ZeroPadding3D(_SpatialReshape):
    """Adds zeros around a volume.

    Args:
        padding: int, tuple of 3 ints (symmetric per axis) or tuple of 3 pairs
            ``((start, end), (start, end), (start, end))``. Default 1.
        data_format: only ``"channels_last"``.

    Input shape:
        ``(batch, dim1, dim2, dim3, channels)``.

    Output shape:
        ``(batch, padded_dim1, padded_dim2, padded_dim3, channels)``.
    """

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend.standardize_data_format(data_format)
        self.padding = _per_axis_pairs(padding, 3, "padding")
        self._pad_arg = (0, 0) + tuple(v for pair in reversed(self.padding) for v in pair)
        self.built = True

    def call(self, inputs):
        return F.pad(inputs, self._pad_arg)

    def compute_output_shape(self, input_shape):
        shape = self._check(input_shape)
        spatial = tuple(None if d is None else d + lo + hi for d, (lo, hi) in zip(shape[1:-1], self.padding))
        return (shape[0],) + spatial + (shape[-1],)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config


@register("Convolution")
class Cropping1D(_SpatialReshape):
    """Crops steps off the start and end of a sequence.

    Args:
        cropping: int (both ends) or tuple of 2 ints ``(start, end)``. Default ``(1, 1)``.

    Input shape:
        ``(batch, steps, channels)``.

    Output shape:
        ``(batch, cropped_steps, channels)``.
    """

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = _per_axis_pairs(cropping, 1, "cropping")[0]
        self.built = True

    def call(self, inputs):
        self.compute_output_shape(tuple(inputs.shape))
        lo, hi = self.cropping
        return inputs[:, lo:inputs.shape[1] - hi, :]

    def compute_output_shape(self, input_shape):
        n, t, c = self._check(input_shape)
        if t is not None and sum(self.cropping) >= t:
            raise ValueError(f"{describe(self)}: cropping={self.cropping} removes every step of the input of shape "
                             f"{tuple(input_shape)}.")
        return (n, None if t is None else t - sum(self.cropping), c)

    def get_config(self):
        config = super().get_config()
        config["cropping"] = self.cropping
        return config


@register("Convolution")
class Cropping3D(_SpatialReshape):
    """Crops the edges of a volume.

    Args:
        cropping: int, tuple of 3 ints (symmetric per axis) or tuple of 3 pairs. Default 1 on each side.
        data_format: only ``"channels_last"``.

    Input shape:
        ``(batch, dim1, dim2, dim3, channels)``.

    Output shape:
        ``(batch, cropped_dim1, cropped_dim2, cropped_dim3, channels)``.
    """

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend.standardize_data_format(data_format)
        self.cropping = _per_axis_pairs(cropping, 3, "cropping")
        self.built = True

    def call(self, inputs):
        self.compute_output_shape(tuple(inputs.shape))
        index = (slice(None),) + tuple(slice(lo, d - hi) for (lo, hi), d in zip(self.cropping, inputs.shape[1:-1]))
        return inputs[index]

    def compute_output_shape(self, input_shape):
        shape = self._check(input_shape)
        for d, (lo, hi) in zip(shape[1:-1], self.cropping):
            if d is not None and lo + hi >= d:
                raise ValueError(f"{describe(self)}: cropping={self.cropping} removes every position of an axis of the "
                                 f"input of shape {shape}.")
        spatial = tuple(None if d is None else d - lo - hi for d, (lo, hi) in zip(shape[1:-1], self.cropping))
        return (shape[0],) + spatial + (shape[-1],)

    def get_config(self):
        config = super().get_config()
        config.update({"cropping": self.cropping, "data_format": self.data_format})
        return config


@register("Convolution")
class UpSampling1D(_SpatialReshape):
    """Repeats each step ``size`` times.

    Args:
        size: positive int, the upsampling factor (2).

    Input shape:
        ``(batch, steps, channels)``.

    Output shape:
        ``(batch, steps * size, channels)``.
    """

    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, 1, "size")[0]
        self.built = True

    def call(self, inputs):
        return torch.repeat_interleave(inputs, self.size, dim=1)

    def compute_output_shape(self, input_shape):
        n, t, c = self._check(input_shape)
        return (n, None if t is None else t * self.size, c)

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size
        return config


@register("Convolution")
class UpSampling3D(_SpatialReshape):
    """Repeats each voxel ``size`` times along each spatial axis (nearest neighbour).

    Args:
        size: int or tuple of 3 ints, the upsampling factors (2, 2, 2).
        data_format: only ``"channels_last"``.

    Input shape:
        ``(batch, dim1, dim2, dim3, channels)``.

    Output shape:
        ``(batch, dim1 * size[0], dim2 * size[1], dim3 * size[2], channels)``.
    """

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend.standardize_data_format(data_format)
        self.size = normalize_tuple(size, 3, "size")
        self.built = True

    def call(self, inputs):
        y = inputs
        for axis, factor in zip((1, 2, 3), self.size):
            y = torch.repeat_interleave(y, factor, dim=axis)
        return y

    def compute_output_shape(self, input_shape):
        shape = self._check(input_shape)
        spatial = tuple(None if d is None else d * f for d, f in zip(shape[1:-1], self.size))
        return (shape[0],) + spatial + (shape[-1],)

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format})
        return config
