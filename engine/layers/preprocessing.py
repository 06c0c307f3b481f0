"""Preprocessing layers that run inside a model: ``Rescaling``, ``Normalization`` (with ``adapt``),
``Resizing``, ``CenterCrop``, ``CategoryEncoding`` and ``Discretization``."""
from __future__ import annotations

import math

import numpy as np
import torch

from engine import backend
from engine.layers.layer import Layer
from engine.layers.registry import register
from engine.ops import image as image_ops

__all__ = ["Rescaling", "Normalization", "Resizing", "CenterCrop", "CategoryEncoding", "Discretization"]


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
        return image_ops.resize(x, (self.height, self.width), interpolation="bilinear", crop_to_aspect_ratio=True)

    def compute_output_shape(self, input_shape):
        return _resized_shape(self, input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "height": self.height, "width": self.width})
        return config


# ---------------------------------------------------------------------------- categorical encodings
def _encode_categorical(inputs, output_mode, depth, dtype, count_weights=None):
    """Keras's ``encode_categorical_inputs``: integer ids to int, one-hot, multi-hot or count vectors."""
    dtype = backend.torch_dtype(dtype)
    if output_mode == "int":
        return inputs.to(dtype)
    if inputs.dim() == 0:
        inputs = inputs.unsqueeze(-1)
    ids = inputs.long()
    if output_mode == "one_hot":
        if ids.dim() > 1 and ids.shape[-1] == 1:
            ids = ids.squeeze(-1)
        return torch.nn.functional.one_hot(ids, depth).to(dtype)
    one_hot = torch.nn.functional.one_hot(ids, depth)
    axis = 1 if ids.dim() > 1 else 0
    if output_mode == "multi_hot":
        return one_hot.amax(dim=axis).to(dtype)
    counts = one_hot.to(dtype if count_weights is None else count_weights.dtype)
    if count_weights is not None:
        counts = counts * count_weights.unsqueeze(-1)
    return counts.sum(dim=axis)


@register("Preprocessing")
class CategoryEncoding(Layer):
    """Encodes integer ids (``0 <= id < num_tokens``) as one-hot, multi-hot or count vectors.

    Args:
        num_tokens: the number of ids, the size of the output's last axis.
        output_mode: ``"multi_hot"`` (default; ``"binary"`` is accepted), ``"one_hot"`` or ``"count"``.
        sparse: must be False (torch outputs are dense).

    Call arguments:
        inputs: integer ids, ``(batch,)`` or ``(batch, n)``.
        count_weights: with ``"count"``, a weight per id (same shape as ``inputs``).

    Output shape:
        ``(batch, num_tokens)``; ``"one_hot"`` on ``(batch, n)`` with n > 1 gives ``(batch, n, num_tokens)``.
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ("count", "one_hot", "multi_hot"):
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        if num_tokens is None:
            raise ValueError("num_tokens must be set to use this layer. If the number of tokens is not known "
                             "beforehand, compute it from your data (the largest id + 1).")
        if isinstance(num_tokens, bool) or not isinstance(num_tokens, (int, np.integer)) or num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        if sparse:
            raise ValueError("CategoryEncoding: sparse=True is not supported by the engine (torch outputs are "
                             "dense). Use sparse=False.")
        self.num_tokens = int(num_tokens)
        self.output_mode = output_mode
        self.sparse = False
        self.built = True

    def call(self, inputs, count_weights=None):
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError("`count_weights` is not used when `output_mode` is not `'count'`. "
                                 f"Received `count_weights={count_weights}`.")
            count_weights = torch.as_tensor(count_weights, dtype=backend.torch_dtype(self._dtype))
        return _encode_categorical(inputs, self.output_mode, self.num_tokens, self._dtype, count_weights)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if not input_shape:
            return (self.num_tokens,)
        if self.output_mode == "one_hot" and (input_shape[-1] != 1 or len(input_shape) == 1):
            return input_shape + (self.num_tokens,)
        return input_shape[:-1] + (self.num_tokens,)

    def get_config(self):
        config = super().get_config()
        config.update({"num_tokens": self.num_tokens, "output_mode": self.output_mode})
        return config


@register("Preprocessing")
class Discretization(Layer):
    """Buckets numbers by ``bin_boundaries``: bucket i holds ``boundaries[i-1] <= x < boundaries[i]``.

    Args:
        bin_boundaries: the sorted boundaries (n boundaries make n + 1 buckets).
        num_bins: kept for configs written after Keras's ``adapt`` (which the engine does not
            implement: Keras's approximate quantiles would give other boundaries); give
            ``bin_boundaries`` instead, e.g. ``numpy.quantile`` of your data.
        epsilon: Keras's quantile error for ``adapt``; kept in the config.
        output_mode: ``"int"`` (bucket ids, int32), ``"one_hot"``, ``"multi_hot"`` or ``"count"``.
        sparse: must be False.

    Output shape:
        As the input for ``"int"``; otherwise with a last axis of ``len(bin_boundaries) + 1``.
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int", sparse=False,
                 dtype=None, name=None, **kwargs):
        kwargs.pop("trainable", None)
        super().__init__(name=name, dtype=dtype, **kwargs)
        if output_mode not in ("int", "one_hot", "multi_hot", "count"):
            raise ValueError(f"Discretization: unknown output_mode {output_mode!r}. Expected one of 'int', "
                             "'one_hot', 'multi_hot', 'count'.")
        if sparse:
            raise ValueError("Discretization: sparse=True is not supported by the engine (torch outputs are dense).")
        if num_bins is not None and num_bins < 0:
            raise ValueError(f"`num_bins` must be greater than or equal to 0. Received: `num_bins={num_bins}`")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError("Both `num_bins` and `bin_boundaries` should not be set. Received: "
                             f"`num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`")
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        self.bin_boundaries = None if bin_boundaries is None else list(bin_boundaries)
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = False
        self.built = True

    @property
    def output_dtype(self):
        return self._dtype if self.output_mode != "int" else "int32"

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError("Discretization needs `bin_boundaries` (the engine has no adapt(); compute them, "
                             "e.g. with numpy.quantile, and pass bin_boundaries=...).")
        x = inputs if inputs.is_floating_point() else inputs.to(backend.torch_dtype(backend.floatx()))
        edges = torch.as_tensor(self.bin_boundaries, dtype=x.dtype, device=x.device)
        ids = torch.bucketize(x, edges, right=True)  # x == boundary goes to the upper bucket, as digitize
        return _encode_categorical(ids, self.output_mode, len(self.bin_boundaries) + 1, self.output_dtype)

    def compute_output_dtype(self, input_dtype):
        return self.output_dtype

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins
        if self.output_mode == "one_hot":
            if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        if len(input_shape) >= 2:
            return (input_shape[0],) + input_shape[2:] + (depth,)
        return (depth,)

    def get_config(self):
        return {"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins, "epsilon": self.epsilon,
                "output_mode": self.output_mode, "sparse": self.sparse, "name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            # Written after Keras's adapt(): both are set; the boundaries are what counts.
            boundaries = config.pop("bin_boundaries")
            layer = cls(**config)
            layer.bin_boundaries = list(boundaries)
            return layer
        return cls(**config)
