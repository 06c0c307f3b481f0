"""Preprocessing layers that run inside a model: ``Rescaling``, ``Normalization`` (with ``adapt``),
``Resizing`` and ``CenterCrop``."""
from __future__ import annotations

import math

import numpy as np
import torch

from engine import backend
from engine.layers.layer import Layer
from engine.layers.registry import register

__all__ = ["Rescaling", "Normalization", "Resizing", "CenterCrop"]


def _serialize_number(value):
    # Keras writes arrays as {"class_name": "__numpy__", ...}; numbers and lists as they are.
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": value.tolist(), "dtype": str(value.dtype)}}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _deserialize_number(value):
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        cfg = value.get("config") or {}
        return np.asarray(cfg.get("value"), dtype=cfg.get("dtype"))
    return value


@register("Core")
class Rescaling(Layer):
    """Multiplies the inputs by ``scale`` and adds ``offset``: ``x * scale + offset``.

    Integer inputs (e.g. ``uint8`` images) are cast to the layer's float dtype first. To map
    ``[0, 255]`` to ``[0, 1]`` use ``Rescaling(1 / 255)``; to ``[-1, 1]``, ``Rescaling(1 / 127.5, offset=-1)``.

    Args:
        scale: a float, or a list/array broadcast against the last axes (e.g. one value per channel).
        offset: a float or a list/array, like ``scale`` (0.0).

    Input shape:
        Any shape.

    Output shape:
        Same as the input.
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = self._check("scale", scale)
        self.offset = self._check("offset", offset)
        self._constants = {}  # (device, dtype) -> (scale, offset) tensors, so calls copy nothing
        self.supports_masking = True
        self.built = True

    @staticmethod
    def _check(name, value):
        arr = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
        try:
            arr = np.asarray(arr, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"Rescaling: {name} must be a number or a list/array of numbers. "
                             f"Received: {name}={value!r}") from None
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"Rescaling: {name} must be finite. Received: {name}={value!r}")
        return value

    def _tensors(self, device, dtype):
        key = (device, dtype)
        pair = self._constants.get(key)
        if pair is None:
            def as_tensor(v):
                if isinstance(v, (int, float)):
                    return v  # a Python scalar keeps the fast scalar kernels
                v = v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v)
                return torch.as_tensor(v, dtype=dtype, device=device)
            pair = (as_tensor(self.scale), as_tensor(self.offset))
            self._constants[key] = pair
        return pair

    def call(self, inputs):
        dtype = backend.torch_dtype(self._dtype)
        x = inputs if inputs.dtype == dtype else inputs.to(dtype)
        scale, offset = self._tensors(x.device, dtype)
        out = x * scale
        if not (isinstance(offset, (int, float)) and offset == 0):
            out = out + offset
        return out

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"scale": _serialize_number(self.scale), "offset": _serialize_number(self.offset)})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("scale", "offset"):
            if key in config:
                config[key] = _deserialize_number(config[key])
        return cls(**config)


# ---------------------------------------------------------------------------- Normalization
def _as_list(value):
    """A config value for mean/variance as Keras writes it: ``np.array(v).tolist()`` (None stays None)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.array(value).tolist()


@register("Preprocessing")
class Normalization(Layer):
    """Shifts and scales inputs to mean 0 and variance 1: ``(x - mean) / sqrt(variance)``.

    The statistics are either given (``mean``, ``variance``) or learned from data by ``adapt(data)``,
    which stores them in the non-trainable weights ``mean``, ``variance`` and ``count`` (Keras's names
    and order, so files saved by either library load in the other). ``sqrt(variance)`` is floored at
    1e-7 as Keras does.

    Args:
        axis: int, tuple of ints or None: the axes that keep their own statistics (``-1``: one mean and
            variance per feature/channel); None computes a single scalar mean and variance.
        mean: optional mean to use instead of ``adapt`` (broadcast against the kept axes).
        variance: optional variance, given together with ``mean``.
        invert: if True, undo the normalization: ``mean + x * sqrt(variance)``.

    Input shape:
        Any shape; the sizes along ``axis`` must be known.

    Output shape:
        Same as the input.
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            axis = (int(axis),)
        else:
            try:
                axis = tuple(int(a) for a in axis)
            except (TypeError, ValueError):
                raise ValueError(f"Normalization: `axis` must be an int, a tuple of ints or None. "
                                 f"Received: axis={axis!r}") from None
        self.axis = axis
        if (mean is not None) != (variance is not None):
            raise ValueError("When setting values directly, both `mean` and `variance` must be set. "
                             f"Received: mean={mean} and variance={variance}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError("When setting values directly, `mean` and `variance` must have the same shape. "
                                 f"Received: mean shape {np.shape(mean)} and variance shape {np.shape(variance)}")
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError(f"The rank of `mean` must be less than or equal to the number of axes "
                                 f"({len(self.axis)}). Received: mean shape {np.shape(mean)} for axis {self.axis}")
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        self.supports_masking = True
        self._build_input_shape = None
        self._fixed = None  # (mean, variance) broadcast tensors when given in the constructor

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(f"All `axis` values must be in the range [-ndim, ndim). Received inputs with "
                             f"ndim={ndim}, while axis={self.axis}")
        self._build_input_shape = input_shape
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError(f"All `axis` values to be kept must have a known shape. Received axis={self.axis}, "
                                 f"inputs.shape={input_shape}, with unknown axis at index {d}")
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = tuple(input_shape[d] if d in self._keep_axis else 1 for d in range(ndim))
        stat_shape = tuple(input_shape[d] for d in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(name="mean", shape=stat_shape, initializer="zeros", trainable=False)
            self.adapt_variance = self.add_weight(name="variance", shape=stat_shape, initializer="ones",
                                                  trainable=False)
            self.count = self.add_weight(name="count", shape=(), dtype="int32", initializer="zeros",
                                         trainable=False)
        else:
            dtype = backend.torch_dtype(self._dtype)
            mean = torch.as_tensor(np.asarray(self.input_mean), dtype=dtype)
            variance = torch.as_tensor(np.asarray(self.input_variance), dtype=dtype)
            if mean.dim() > 0:
                # The given values line up with the last kept axes.
                expanded = [1] * ndim
                for i in range(1, mean.dim() + 1):
                    expanded[self._keep_axis[-i]] = mean.shape[-i]
                mean, variance = mean.reshape(expanded), variance.reshape(expanded)
            self._fixed = (mean.expand(self._broadcast_shape), variance.expand(self._broadcast_shape))
        self.built = True

    def _statistics(self, like):
        if self._fixed is not None:
            mean, variance = self._fixed
        else:
            mean = self.adapt_mean.reshape(self._broadcast_shape)
            variance = self.adapt_variance.reshape(self._broadcast_shape)
        return mean.to(like.dtype).to(like.device), variance.to(like.dtype).to(like.device)

    def call(self, inputs):
        x = inputs.to(backend.torch_dtype(self._dtype))
        mean, variance = self._statistics(x)
        std = torch.clamp(torch.sqrt(variance), min=backend.epsilon())
        if self.invert:
            return mean + x * std
        return (x - mean) / std

    def adapt(self, data):
        """Compute the mean and variance of ``data`` (an array, a tensor, or an iterable of batches)
        along every axis except ``axis``, and store them in the layer's weights."""
        batches = None
        if isinstance(data, (np.ndarray, torch.Tensor)):
            shape = tuple(data.shape)
        elif hasattr(data, "__iter__"):
            it = iter(data)
            first = next(it, None)
            if first is None:
                raise ValueError("adapt() received an empty iterable (no batches). Expected at least one batch, "
                                 "e.g. layer.adapt([x]).")
            if isinstance(first, (tuple, list)):  # (x, y) batches: the inputs are what is normalized
                first = first[0]
            shape = tuple(np.shape(first))
            batches = _chain(first, it)
        else:
            raise TypeError(f"adapt() supports NumPy arrays, tensors and iterables of batches. "
                            f"Received: {type(data).__name__}")
        if self.input_mean is not None:
            raise ValueError("Normalization: adapt() cannot change a `mean` and `variance` given in the "
                             "constructor. Create the layer without them to learn them from data.")
        if not self.built:
            self.build(shape)
        else:
            for d in self._keep_axis:
                if shape[d] != self._build_input_shape[d]:
                    raise ValueError(f"The layer was built with input_shape={self._build_input_shape}, but adapt() "
                                     f"is being called with data with an incompatible shape, data.shape={shape}")
        if batches is None:
            x = np.asarray(data.detach().cpu().numpy() if isinstance(data, torch.Tensor) else data)
            mean, var = np.mean(x, axis=self._reduce_axis), np.var(x, axis=self._reduce_axis)
        else:
            # Chan's parallel update of the mean and the (biased) variance, batch by batch, as Keras.
            mean = np.zeros(self.adapt_mean.shape, dtype=np.float64)
            var = np.zeros(self.adapt_mean.shape, dtype=np.float64)
            total = 0
            for batch in batches:
                if isinstance(batch, (tuple, list)):
                    batch = batch[0]
                b = np.asarray(batch.detach().cpu().numpy() if isinstance(batch, torch.Tensor) else batch,
                               dtype=np.float32)
                b_mean, b_var = np.mean(b, axis=self._reduce_axis), np.var(b, axis=self._reduce_axis)
                count = math.prod(b.shape[d] for d in self._reduce_axis) if self._reduce_axis else 1
                total += count
                w = count / total
                new_mean = mean * (1 - w) + b_mean * w
                var = (var + (mean - new_mean) ** 2) * (1 - w) + (b_var + (b_mean - new_mean) ** 2) * w
                mean = new_mean
        with torch.no_grad():
            self.adapt_mean.copy_(torch.as_tensor(np.asarray(mean), dtype=self.adapt_mean.dtype))
            self.adapt_variance.copy_(torch.as_tensor(np.asarray(var), dtype=self.adapt_variance.dtype))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "invert": self.invert, "mean": _as_list(self.input_mean),
                       "variance": _as_list(self.input_variance)})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("mean", "variance"):
            if key in config:
                config[key] = _deserialize_number(config[key])
        return cls(**config)

    def get_build_config(self):
        if self._build_input_shape is not None:
            return {"input_shape": list(self._build_input_shape)}
        return super().get_build_config()


def _chain(first, rest):
    yield first
    yield from rest


# ---------------------------------------------------------------------------- image size
def _image_hw_axes(layer, input_shape):
    rank = len(input_shape)
    if rank not in (3, 4):
        raise ValueError(f"{type(layer).__name__} layer {layer.name!r} expects images of shape (batch, height, "
                         f"width, channels) or (height, width, channels). Received: input_shape={tuple(input_shape)}")
    return (rank - 3, rank - 2)


def _check_size(layer, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{type(layer).__name__}: `{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def _resized_shape(layer, input_shape):
    shape = list(input_shape)
    h_axis, w_axis = _image_hw_axes(layer, input_shape)
    shape[h_axis], shape[w_axis] = layer.height, layer.width
    return tuple(shape)


@register("Preprocessing")
class Resizing(Layer):
    """Resizes images to ``(height, width)``, as ``keras.ops.image.resize``.

    Args:
        height, width: the output size.
        interpolation: ``"bilinear"`` (default), ``"nearest"``, ``"bicubic"``, ``"lanczos3"``,
            ``"lanczos5"`` or ``"area"`` (those ``engine.ops.image.resize`` supports).
        crop_to_aspect_ratio: crop the largest centered window of the target aspect ratio first.
        pad_to_aspect_ratio: pad with ``fill_value`` to the target aspect ratio first.
        fill_mode: only ``"constant"``.
        fill_value: the padding value with ``pad_to_aspect_ratio``.
        antialias: filter when downsampling.
        data_format: only ``"channels_last"``.

    Input shape:
        ``(batch, height, width, channels)`` or ``(height, width, channels)``.

    Output shape:
        ``(batch, height, width, channels)`` (or unbatched) with the new height and width. Integer
        images are rounded and saturated back to their dtype.
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, antialias=False,
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = _check_size(self, "height", height)
        self.width = _check_size(self, "width", width)
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = bool(antialias)
        self.data_format = backend.standardize_data_format(data_format)
        self.built = True

    def call(self, inputs):
        from engine.ops import image as image_ops

        out = image_ops.resize(inputs, (self.height, self.width), interpolation=self.interpolation,
                               antialias=self.antialias, crop_to_aspect_ratio=self.crop_to_aspect_ratio,
                               pad_to_aspect_ratio=self.pad_to_aspect_ratio, fill_mode=self.fill_mode,
                               fill_value=self.fill_value, data_format=self.data_format)
        if out.dtype != inputs.dtype and not inputs.is_floating_point():
            info = torch.iinfo(inputs.dtype)
            out = torch.clamp(torch.round(out), info.min, info.max).to(inputs.dtype)
        return out

    def compute_output_shape(self, input_shape):
        return _resized_shape(self, input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "height": self.height, "width": self.width,
                       "interpolation": self.interpolation, "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                       "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                       "fill_value": self.fill_value, "antialias": self.antialias})
        return config


@register("Preprocessing")
class CenterCrop(Layer):
    """Crops the central ``(height, width)`` window of images; images smaller than that are first
    cropped to the target aspect ratio and resized (bilinear), as Keras's ``smart_resize``.

    Args:
        height, width: the output size.
        data_format: only ``"channels_last"``.

    Input shape:
        ``(batch, height, width, channels)`` or ``(height, width, channels)``.

    Output shape:
        The same with the new height and width, in the layer's float dtype.
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = _check_size(self, "height", height)
        self.width = _check_size(self, "width", width)
        self.data_format = backend.standardize_data_format(data_format)
        self.built = True

    def call(self, inputs):
        x = inputs.to(backend.torch_dtype(self._dtype))
        h_axis, w_axis = _image_hw_axes(self, tuple(x.shape))
        h, w = x.shape[h_axis], x.shape[w_axis]
        dh, dw = h - self.height, w - self.width
        if dh >= 0 and dw >= 0:
            top, left = dh // 2, dw // 2
            return x.narrow(h_axis, top, self.height).narrow(w_axis, left, self.width)
        from engine.ops import image as image_ops

        return image_ops.resize(x, (self.height, self.width), interpolation="bilinear", crop_to_aspect_ratio=True)

    def compute_output_shape(self, input_shape):
        return _resized_shape(self, input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "height": self.height, "width": self.width})
        return config
