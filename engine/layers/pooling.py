"""Pooling layers: MaxPooling1D/2D, AveragePooling1D/2D and their global versions.

``padding="same"`` pads as Keras does (the extra pixel at the end). Where the padding is symmetric,
torch pads inside the pooling and average pooling divides by the number of real (non-padded)
elements. Where it is not, Keras on torch first pads the input by repeating its edge values and then
pools, so those repeated values count in an average; the engine does the same, to match Keras 3 on
its torch backend. (Keras on TensorFlow/JAX divides by the number of real elements everywhere; the
backends agree whenever a padded window holds a single real element, e.g. pool 2, stride 2 on odd
sizes, and differ for e.g. pool 3, stride 2 on even sizes.)
"""
from __future__ import annotations

import torch.nn.functional as F

from engine import backend
from engine.layers.convolution import nhwc_pad_arg, normalize_padding, normalize_tuple, same_padding
from engine.layers.core import check_rank, describe
from engine.layers.layer import Layer
from engine.layers.registry import register

__all__ = ["MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalMaxPooling1D",
           "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "MaxPool1D", "MaxPool2D",
           "AvgPool1D", "AvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D",
           "MaxPooling3D", "AveragePooling3D", "GlobalMaxPooling3D", "GlobalAveragePooling3D", "MaxPool3D", "AvgPool3D",
           "GlobalMaxPool3D", "GlobalAvgPool3D", "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D",
           "AdaptiveAveragePooling3D", "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D"]

_LAYOUTS = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)",
            3: "(batch, dim1, dim2, dim3, channels)"}


def _rank_hint(rank, input_shape):
    if rank == 2 and len(input_shape) == 3:
        return " Add a Reshape layer before it to add a channel axis, e.g. Reshape((height, width, 1))."
    if rank == 1 and len(input_shape) == 2:
        return " Add a Reshape layer before it to add a channel axis, e.g. Reshape((steps, 1))."
    if rank == 1 and len(input_shape) == 4:
        return " Use the 2D version of the layer for images."
    return ""


class _Pooling(Layer):
    rank = 2
    mode = "max"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = normalize_tuple(pool_size, self.rank, "pool_size")
        self.strides = normalize_tuple(self.pool_size if strides is None else strides, self.rank, "strides")
        self.padding = normalize_padding(padding, ("valid", "same"), type(self).__name__)
        self.data_format = backend.standardize_data_format(data_format)
        rank = self.rank
        self._to_cf = (0, rank + 1) + tuple(range(1, rank + 1))
        self._to_cl = (0,) + tuple(range(2, rank + 2)) + (1,)
        if self.mode == "max":
            self._pool = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[rank]
        else:
            self._pool = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[rank]
        self._pad_cache = {}
        self.built = True

    def _paddings_for(self, spatial):
        """(torch ``padding`` argument, padding to apply beforehand or None) for this spatial size."""
        # Plain ints: under torch.onnx's tracer the sizes are traced values, whose integer division rounds
        # toward zero (a ceil-division would become a negative padding); the exported graph fixes the
        # spatial sizes anyway, so they are read as constants.
        spatial = tuple(int(n) for n in spatial)
        cached = self._pad_cache.get(spatial)
        if cached is not None:
            return cached
        if self.padding == "valid":
            result = (0, None)
        else:
            pads = [same_padding(n, k, s) for n, k, s in zip(spatial, self.pool_size, self.strides)]
            if all(lo == hi for lo, hi in pads):
                result = (tuple(lo for lo, _ in pads), None)
            elif self.mode == "max":
                result = (0, nhwc_pad_arg(pads))  # -inf padding: never a window's maximum
            else:
                # F.pad's argument for the channels-first view: last axis first, no channel entry.
                result = (0, nhwc_pad_arg(pads)[2:])
        self._pad_cache[spatial] = result
        return result

    def call(self, inputs):
        torch_pad, pre_pad = self._paddings_for(tuple(inputs.shape[1:-1]))
        if self.mode == "max":
            if pre_pad is not None:
                inputs = F.pad(inputs, pre_pad, value=float("-inf"))
            y = self._pool(inputs.permute(self._to_cf), self.pool_size, self.strides, torch_pad)
        else:
            x = inputs.permute(self._to_cf)
            if pre_pad is not None:
                x = F.pad(x, pre_pad, mode="replicate")  # what Keras on torch does
            y = self._pool(x, self.pool_size, self.strides, torch_pad, count_include_pad=False)
        return y.permute(self._to_cl)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, self.rank + 2, _LAYOUTS[self.rank], _rank_hint(self.rank, input_shape))
        out = []
        for n, k, s in zip(input_shape[1:-1], self.pool_size, self.strides):
            if n is None:
                out.append(None)
            elif self.padding == "valid":
                if n < k:
                    raise ValueError(
                        f"{describe(self)}: pool_size={self.pool_size} is larger than the spatial size "
                        f"{tuple(input_shape[1:-1])} of the input of shape {input_shape}, so padding='valid' "
                        "leaves no output. Use padding='same' or a smaller pool_size."
                    )
                out.append((n - k) // s + 1)
            else:
                out.append((n - 1) // s + 1)
        return (input_shape[0],) + tuple(out) + (input_shape[-1],)

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "padding": self.padding, "strides": self.strides,
                       "data_format": self.data_format})
        return config


@register("Pooling", "MaxPool1D")
class MaxPooling1D(_Pooling):
    """Max pooling over the steps of ``(batch, steps, channels)`` inputs.

    Args:
        pool_size: integer or tuple of 1 integer, the window size.
        strides: integer or tuple of 1 integer, the step of the window. None (default) means ``pool_size``.
        padding: ``"valid"`` (no padding) or ``"same"`` (output size ``ceil(size / strides)``; the extra
            padding goes at the end, as Keras does).
        data_format: only ``"channels_last"`` (or None).

    Input shape:
        3-D tensor ``(batch_size, steps, channels)``.

    Output shape:
        3-D tensor ``(batch_size, pooled_steps, channels)``.
    """

    rank, mode = 1, "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


@register("Pooling", "MaxPool2D")
class MaxPooling2D(_Pooling):
    """Max pooling over the height and width of ``(batch, height, width, channels)`` inputs.

    Args:
        pool_size: integer or tuple of 2 integers, the window's height and width.
        strides: integer or tuple of 2 integers, the steps of the window. None (default) means ``pool_size``.
        padding: ``"valid"`` (no padding) or ``"same"`` (output size ``ceil(size / strides)``; the extra
            padding goes at the end, as Keras does).
        data_format: only ``"channels_last"`` (or None).

    Input shape:
        4-D tensor ``(batch_size, height, width, channels)``.

    Output shape:
        4-D tensor ``(batch_size, pooled_height, pooled_width, channels)``.
    """

    rank, mode = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


@register("Pooling", "AvgPool1D")
class AveragePooling1D(_Pooling):
    """Average pooling over the steps of ``(batch, steps, channels)`` inputs.

    Args:
        pool_size: integer or tuple of 1 integer, the window size.
        strides: integer or tuple of 1 integer, the step of the window. None (default) means ``pool_size``.
        padding: ``"valid"`` (no padding) or ``"same"`` (output size ``ceil(size / strides)``; the extra
            padding goes at the end, as Keras does).
        data_format: only ``"channels_last"`` (or None).

    Input shape:
        3-D tensor ``(batch_size, steps, channels)``.

    Output shape:
        3-D tensor ``(batch_size, pooled_steps, channels)``.
    """

    rank, mode = 1, "average"

    # Keras 3 makes pool_size required; Keras 2 code relies on its old default.
    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


@register("Pooling", "AvgPool2D")
class AveragePooling2D(_Pooling):
    """Average pooling over the height and width of ``(batch, height, width, channels)`` inputs.

    Args:
        pool_size: integer or tuple of 2 integers, the window's height and width.
        strides: integer or tuple of 2 integers, the steps of the window. None (default) means ``pool_size``.
        padding: ``"valid"`` (no padding) or ``"same"`` (output size ``ceil(size / strides)``; the extra
            padding goes at the end, as Keras does).
        data_format: only ``"channels_last"`` (or None).

    Input shape:
        4-D tensor ``(batch_size, height, width, channels)``.

    Output shape:
        4-D tensor ``(batch_size, pooled_height, pooled_width, channels)``.
    """

    rank, mode = 2, "average"

    # Keras 3 makes pool_size required; Keras 2 code relies on its old default.
    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


# ---------------------------------------------------------------------------- global pooling
class _GlobalPooling(Layer):
    rank = 2

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend.standardize_data_format(data_format)
        self.keepdims = bool(keepdims)
        self.built = True

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, self.rank + 2, _LAYOUTS[self.rank], _rank_hint(self.rank, input_shape))
        if self.keepdims:
            return (input_shape[0],) + (1,) * self.rank + (input_shape[-1],)
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


@register("Pooling", "GlobalMaxPool1D")
class GlobalMaxPooling1D(_GlobalPooling):
    """Global max pooling over the steps of a sequence.

    Args:
        data_format: only ``"channels_last"`` (or None).
        keepdims: whether to keep the pooled axes with length 1 (default False).

    Input shape:
        3-D tensor ``(batch_size, steps, channels)``.

    Output shape:
        ``(batch_size, channels)``; with ``keepdims=True`` ``(batch_size, 1, channels)``.
    """

    rank = 1

    def call(self, inputs):
        return inputs.amax(dim=1, keepdim=self.keepdims)


@register("Pooling", "GlobalMaxPool2D")
class GlobalMaxPooling2D(_GlobalPooling):
    """Global max pooling over the height and width of an image.

    Args:
        data_format: only ``"channels_last"`` (or None).
        keepdims: whether to keep the pooled axes with length 1 (default False).

    Input shape:
        4-D tensor ``(batch_size, height, width, channels)``.

    Output shape:
        ``(batch_size, channels)``; with ``keepdims=True`` ``(batch_size, 1, 1, channels)``.
    """

    rank = 2

    def call(self, inputs):
        return inputs.amax(dim=(1, 2), keepdim=self.keepdims)


@register("Pooling", "GlobalAvgPool1D")
class GlobalAveragePooling1D(_GlobalPooling):
    """Global average pooling over the steps of a sequence; masked steps are left out.

    Args:
        data_format: only ``"channels_last"`` (or None).
        keepdims: whether to keep the pooled axes with length 1 (default False).

    Input shape:
        3-D tensor ``(batch_size, steps, channels)``.

    Output shape:
        ``(batch_size, channels)``; with ``keepdims=True`` ``(batch_size, 1, channels)``.
    """

    rank = 1

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return inputs.mean(dim=1, keepdim=self.keepdims)
        # Masked steps (e.g. padding after an Embedding with mask_zero=True) do not count.
        weights = mask.to(inputs.dtype).unsqueeze(-1)
        total = (inputs * weights).sum(dim=1, keepdim=self.keepdims)
        return total / weights.sum(dim=1, keepdim=self.keepdims)


@register("Pooling", "GlobalAvgPool2D")
class GlobalAveragePooling2D(_GlobalPooling):
    """Global average pooling over the height and width of an image.

    Args:
        data_format: only ``"channels_last"`` (or None).
        keepdims: whether to keep the pooled axes with length 1 (default False).

    Input shape:
        4-D tensor ``(batch_size, height, width, channels)``.

    Output shape:
        ``(batch_size, channels)``; with ``keepdims=True`` ``(batch_size, 1, 1, channels)``.
    """

    rank = 2

    def call(self, inputs):
        return inputs.mean(dim=(1, 2), keepdim=self.keepdims)


# Keras's short names.
MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D


@register("Pooling", "MaxPool3D")
class MaxPooling3D(_Pooling):
    """Max pooling over the three spatial axes of ``(batch, dim1, dim2, dim3, channels)`` inputs.

    Args:
        pool_size: integer or tuple of 3 integers (default 2).
        strides: integer or tuple of 3 integers; None (default) means ``pool_size``.
        padding: ``"valid"`` or ``"same"`` (the extra padding at the end, as Keras).
        data_format: only ``"channels_last"``.

    Input shape:
        5-D tensor ``(batch, dim1, dim2, dim3, channels)``.

    Output shape:
        5-D tensor ``(batch, pooled_dim1, pooled_dim2, pooled_dim3, channels)``.
    """

    rank, mode = 3, "max"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


@register("Pooling", "AvgPool3D")
class AveragePooling3D(_Pooling):
    """Average pooling over the three spatial axes of ``(batch, dim1, dim2, dim3, channels)`` inputs.

    Args:
        pool_size: integer or tuple of 3 integers.
        strides: integer or tuple of 3 integers; None (default) means ``pool_size``.
        padding: ``"valid"`` or ``"same"`` (as Keras on torch, see the module docstring).
        data_format: only ``"channels_last"``.

    Input shape:
        5-D tensor ``(batch, dim1, dim2, dim3, channels)``.

    Output shape:
        5-D tensor ``(batch, pooled_dim1, pooled_dim2, pooled_dim3, channels)``.
    """

    rank, mode = 3, "average"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


@register("Pooling", "GlobalMaxPool3D")
class GlobalMaxPooling3D(_GlobalPooling):
    """Global max pooling over the three spatial axes of a volume.

    Args:
        data_format: only ``"channels_last"``.
        keepdims: whether to keep the pooled axes with length 1 (default False).

    Input shape:
        5-D tensor ``(batch, dim1, dim2, dim3, channels)``.

    Output shape:
        ``(batch, channels)``; with ``keepdims=True`` ``(batch, 1, 1, 1, channels)``.
    """

    rank = 3

    def call(self, inputs):
        return inputs.amax(dim=(1, 2, 3), keepdim=self.keepdims)


@register("Pooling", "GlobalAvgPool3D")
class GlobalAveragePooling3D(_GlobalPooling):
    """Global average pooling over the three spatial axes of a volume.

    Args:
        data_format: only ``"channels_last"``.
        keepdims: whether to keep the pooled axes with length 1 (default False).

    Input shape:
        5-D tensor ``(batch, dim1, dim2, dim3, channels)``.

    Output shape:
        ``(batch, channels)``; with ``keepdims=True`` ``(batch, 1, 1, 1, channels)``.
    """

    rank = 3

    def call(self, inputs):
        return inputs.mean(dim=(1, 2, 3), keepdim=self.keepdims)


MaxPool3D, AvgPool3D = MaxPooling3D, AveragePooling3D
GlobalMaxPool3D, GlobalAvgPool3D = GlobalMaxPooling3D, GlobalAveragePooling3D


# ---------------------------------------------------------------------------- adaptive pooling
class _AdaptivePooling(Layer):
    """Pools to a fixed ``output_size`` whatever the input size (torch's adaptive windows, as Keras on
    torch): window i of n over a length L spans ``[floor(i * L / n), ceil((i + 1) * L / n))``."""

    rank = 2
    mode = "average"

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.output_size = normalize_tuple(output_size, self.rank, "output_size")
        self.data_format = backend.standardize_data_format(data_format)
        rank = self.rank
        self._to_cf = (0, rank + 1) + tuple(range(1, rank + 1))
        self._to_cl = (0,) + tuple(range(2, rank + 2)) + (1,)
        if self.mode == "max":
            self._pool = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}[rank]
        else:
            self._pool = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}[rank]
        self.built = True

    def call(self, inputs):
        size = self.output_size[0] if self.rank == 1 else self.output_size
        return self._pool(inputs.permute(self._to_cf), size).permute(self._to_cl)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, self.rank + 2, _LAYOUTS[self.rank], _rank_hint(self.rank, input_shape))
        return (input_shape[0],) + self.output_size + (input_shape[-1],)

    def get_config(self):
        config = super().get_config()
        config.update({"output_size": self.output_size, "data_format": self.data_format})
        return config


_ADAPTIVE_DOC = """Adaptive {kind} pooling to ``output_size`` over the {n} spatial axes of channels_last inputs.

    Args:
        output_size: int or tuple of {n} ints, the output's spatial size whatever the input's.
        data_format: only ``"channels_last"``.

    Input shape:
        ``(batch, {dims}, channels)``.

    Output shape:
        ``(batch, *output_size, channels)``.
    """


@register("Pooling")
class AdaptiveAveragePooling1D(_AdaptivePooling):
    __doc__ = _ADAPTIVE_DOC.format(kind="average", n=1, dims="steps")
    rank, mode = 1, "average"


@register("Pooling")
class AdaptiveAveragePooling2D(_AdaptivePooling):
    __doc__ = _ADAPTIVE_DOC.format(kind="average", n=2, dims="height, width")
    rank, mode = 2, "average"


@register("Pooling")
class AdaptiveAveragePooling3D(_AdaptivePooling):
    __doc__ = _ADAPTIVE_DOC.format(kind="average", n=3, dims="dim1, dim2, dim3")
    rank, mode = 3, "average"


@register("Pooling")
class AdaptiveMaxPooling1D(_AdaptivePooling):
    __doc__ = _ADAPTIVE_DOC.format(kind="max", n=1, dims="steps")
    rank, mode = 1, "max"


@register("Pooling")
class AdaptiveMaxPooling2D(_AdaptivePooling):
    __doc__ = _ADAPTIVE_DOC.format(kind="max", n=2, dims="height, width")
    rank, mode = 2, "max"


@register("Pooling")
class AdaptiveMaxPooling3D(_AdaptivePooling):
    __doc__ = _ADAPTIVE_DOC.format(kind="max", n=3, dims="dim1, dim2, dim3")
    rank, mode = 3, "max"
