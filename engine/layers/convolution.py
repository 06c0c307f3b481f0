"""Convolution layers: Conv1D, Conv2D, Conv2DTranspose, SeparableConv2D, DepthwiseConv2D.

Kernels are stored in Keras's layout (``(kh, kw, in/groups, out)``; Conv1D ``(k, in, out)``) and
permuted to torch's ``(out, in, kh, kw)`` at call time, which is a view. Inputs arrive as NHWC; the
layer hands torch ``x.permute(0, 3, 1, 2)``, an NCHW view in channels_last memory format that torch's
convolutions read without a copy, and permutes the result back.

``padding="same"`` follows Keras exactly: total padding ``max((ceil(n/s)-1)*s + (k-1)*d + 1 - n, 0)``,
``floor(total/2)`` at the start and the extra pixel at the end. When both sides are equal torch pads
inside the convolution; otherwise the input is padded with ``F.pad`` first.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from engine import activations, backend, constraints, initializers, regularizers
from engine.layers.core import activity_regularizer_config, describe, is_int, positive_int
from engine.layers.layer import Layer, cast_for_kernel
from engine.layers.registry import register
from engine.ops.operation_utils import same_padding, transpose_crops  # noqa: F401 - re-exported

__all__ = ["Conv1D", "Conv2D", "Conv2DTranspose", "SeparableConv2D", "DepthwiseConv2D",
           "Convolution1D", "Convolution2D", "Convolution2DTranspose", "SeparableConvolution2D", "Conv3D",
           "Conv1DTranspose", "Conv3DTranspose", "SeparableConv1D", "DepthwiseConv1D", "Convolution3D",
           "Convolution1DTranspose", "Convolution3DTranspose", "SeparableConvolution1D"]

_linear = activations.linear


# ---------------------------------------------------------------------------- argument helpers
def normalize_tuple(value, n, name, allow_zero=False):
    """An int or an iterable of ``n`` ints as a tuple of ``n`` ints (> 0, or >= 0 with ``allow_zero``)."""
    if is_int(value):
        out = (int(value),) * n
    else:
        try:
            out = tuple(value)
        except TypeError:
            out = None
        if out is None or len(out) != n or not all(is_int(v) for v in out):
            raise ValueError(f"The `{name}` argument must be an integer or a tuple of {n} integers. "
                             f"Received: {name}={value!r}")
        out = tuple(int(v) for v in out)
    low = 0 if allow_zero else 1
    if any(v < low for v in out):
        raise ValueError(f"The `{name}` argument must contain only integers {'>= 0' if allow_zero else '> 0'}. "
                         f"Received: {name}={value!r}")
    return out


def normalize_padding(value, allowed, layer_name):
    padding = str(value).lower() if isinstance(value, str) else value
    if padding not in allowed:
        raise ValueError(f"{layer_name}: `padding` must be one of {', '.join(repr(a) for a in allowed)}. "
                         f"Received: padding={value!r}")
    return padding


def conv_output_length(size, kernel, stride, dilation, padding):
    if size is None:
        return None
    if padding == "valid":
        return (size - ((kernel - 1) * dilation + 1)) // stride + 1
    return (size - 1) // stride + 1  # "same" and "causal"


def nhwc_pad_arg(pads):
    """``F.pad``'s argument for per-spatial-axis (start, end) pads of a channels_last tensor."""
    out = [0, 0]  # the channel axis
    for lo, hi in reversed(pads):
        out += [lo, hi]
    return tuple(out)


def _layout(rank):
    return {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)",
            3: "(batch, dim1, dim2, dim3, channels)"}[rank]


def _reshape_hint(rank, input_shape):
    """A suggestion for inputs of the wrong rank: the Reshape that would give the layer its layout."""
    rest = tuple(input_shape[1:])
    known = all(d is not None for d in rest)
    if rank == 2 and len(rest) == 1 and known:
        side = math.isqrt(rest[0])
        if side * side == rest[0]:
            return (f" Add a Reshape(({side}, {side}, 1)) layer before it to view the {rest[0]} values "
                    "as a one-channel image.")
    if rank == 2 and len(rest) == 2 and known:
        return f" Add a Reshape(({rest[0]}, {rest[1]}, 1)) layer before it to add a channel axis."
    if rank == 1 and len(rest) == 1 and known:
        return f" Add a Reshape(({rest[0]}, 1)) layer before it to add a channel axis."
    return f" Add a Reshape layer before it to give the input the layout {_layout(rank)}."


# ---------------------------------------------------------------------------- shared base
class _BaseConv(Layer):
    """What every convolution shares: argument checks, input checks, Keras padding, the NHWC<->NCHW
    permutations. Subclasses create weights in ``build`` and compute in ``call``."""

    rank = 2
    _paddings = ("valid", "same")
    _strides_exclude_dilation = True  # Keras refuses strides > 1 with dilation > 1 for these layers

    def __init__(self, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                 activity_regularizer=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        rank = self.rank
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = normalize_tuple(strides, rank, "strides")
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate")
        self.padding = normalize_padding(padding, self._paddings, type(self).__name__)
        self.data_format = backend.standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        if self._strides_exclude_dilation and max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )
        # (N, C, *spatial) <-> (N, *spatial, C) permutations and the kernel's Keras -> torch permutation.
        self._to_cf = (0, rank + 1) + tuple(range(1, rank + 1))
        self._to_cl = (0,) + tuple(range(2, rank + 2)) + (1,)
        self._kernel_perm = (rank + 1, rank) + tuple(range(rank))
        self._conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[rank]
        self._pad_cache = {}

    # -- shapes
    def _input_channels(self, input_shape):
        """Validate ``input_shape`` (rank, defined channels) and return its channel count."""
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"{describe(self)} expects inputs of shape {_layout(self.rank)}, but received an input of "
                f"shape {input_shape} (rank {len(input_shape)}).{_reshape_hint(self.rank, input_shape)}"
            )
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(
                f"{describe(self)}: the channel dimension (last axis) of the inputs must be defined. "
                f"Received: input shape {input_shape}"
            )
        return channels

    def _check_built_channels(self, input_shape, expected):
        if self.built and expected is not None and input_shape[-1] != expected:
            raise ValueError(
                f"{describe(self)} was built for inputs with {expected} channels, but received an input of "
                f"shape {tuple(input_shape)}."
            )

    def _spatial_output(self, input_shape):
        """Output spatial sizes; a ValueError when the (dilated) kernel does not fit a 'valid' input."""
        spatial = tuple(input_shape[1:-1])
        out = tuple(conv_output_length(n, k, s, d, self.padding)
                    for n, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate))
        if any(o is not None and o <= 0 for o in out):
            effective = tuple((k - 1) * d + 1 for k, d in zip(self.kernel_size, self.dilation_rate))
            dil = f" (dilated to {effective})" if effective != self.kernel_size else ""
            raise ValueError(
                f"{describe(self)}: kernel_size={self.kernel_size}{dil} is larger than the spatial size "
                f"{spatial} of the input of shape {tuple(input_shape)}, so padding='valid' leaves no output. "
                "Use padding='same', a smaller kernel_size, or a larger input."
            )
        return out

    # -- call helpers
    def _paddings_for(self, spatial):
        """(torch ``padding`` argument, ``F.pad`` argument or None) for inputs of this spatial size."""
        # Plain ints: under torch.onnx's tracer the sizes are traced values, whose integer division rounds
        # toward zero (a ceil-division would become a negative padding); the exported graph fixes the
        # spatial sizes anyway, so they are read as constants.
        spatial = tuple(int(n) for n in spatial)
        cached = self._pad_cache.get(spatial)
        if cached is not None:
            return cached
        if self.padding == "valid":
            result = (0, None)
        elif self.padding == "causal":
            left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            result = (0, nhwc_pad_arg([(left, 0)]) if left else None)
        else:
            pads = [same_padding(n, k, s, d)
                    for n, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate)]
            if all(lo == hi for lo, hi in pads):
                result = (tuple(lo for lo, _ in pads), None)
            else:
                result = (0, nhwc_pad_arg(pads))
        self._pad_cache[spatial] = result
        return result

    def _prepare(self, inputs, kernel):
        """Cast for ``kernel`` (``cast_for_kernel``), pad as Keras does, and return the channels-first view
        torch's convolutions take."""
        inputs = cast_for_kernel(inputs, kernel)
        torch_pad, f_pad = self._paddings_for(tuple(inputs.shape[1:-1]))
        if f_pad is not None:
            inputs = F.pad(inputs, f_pad)
        return inputs.permute(self._to_cf), torch_pad

    def _depthwise(self, inputs, kernel, bias):
        """Depthwise convolution of NHWC ``inputs`` by a ``(kh, kw, C, M)`` kernel; returns NHWC."""
        x, torch_pad = self._prepare(inputs, kernel)
        *window, channels, mult = kernel.shape
        # (*window, C, M) -> (C*M, 1, *window): output channel c*M + m, Keras's order.
        weight = kernel.reshape(*window, 1, channels * mult).permute(self._kernel_perm)
        y = self._conv(x, weight, bias, self.strides, torch_pad, self.dilation_rate, channels)
        return y.permute(self._to_cl)

    def _activate(self, y):
        act = self.activation
        return y if act is _linear else act(y)

    def _base_config(self):
        config = super().get_config()
        config.update({"kernel_size": self.kernel_size, "strides": self.strides, "padding": self.padding,
                       "data_format": self.data_format, "dilation_rate": self.dilation_rate})
        return config


# ---------------------------------------------------------------------------- Conv1D / Conv2D
class _Conv(_BaseConv):
    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, lora_rank=None,
                 lora_alpha=None, **kwargs):
        if lora_rank is not None:
            raise ValueError(f"{type(self).__name__}: LoRA is not supported by the engine. "
                             f"Received: lora_rank={lora_rank!r}")
        filters = positive_int("filters", filters)
        groups = positive_int("groups", groups)
        if filters % groups:
            raise ValueError("The number of filters must be evenly divisible by the number of groups. "
                             f"Received: groups={groups}, filters={filters}.")
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.filters, self.groups = filters, groups
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def _check(self, input_shape):
        channels = self._input_channels(input_shape)
        if channels % self.groups:
            raise ValueError(
                f"{describe(self)}: the number of input channels must be evenly divisible by groups={self.groups}. "
                f"Received: input shape {tuple(input_shape)}"
            )
        self._check_built_channels(input_shape, self.kernel.shape[-2] * self.groups if self.built else None)
        return channels

    def build(self, input_shape):
        channels = self._check(input_shape)
        self._spatial_output(input_shape)
        self.kernel = self.add_weight(shape=self.kernel_size + (channels // self.groups, self.filters),
                                      initializer=self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.filters,), initializer=self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None
        self.built = True

    def call(self, inputs):
        kernel = self.kernel
        x, torch_pad = self._prepare(inputs, kernel)
        y = self._conv(x, kernel.permute(self._kernel_perm), self.bias, self.strides, torch_pad,
                       self.dilation_rate, self.groups)
        return self._activate(y.permute(self._to_cl))

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return (input_shape[0],) + self._spatial_output(input_shape) + (self.filters,)

    def get_config(self):
        config = self._base_config()
        head = {k: config.pop(k) for k in ("name", "trainable", "dtype")}
        config = {**head, "filters": self.filters, **config}
        config.update({
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": activity_regularizer_config(self),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        })
        return config


@register("Convolution", "Convolution1D")
class Conv1D(_Conv):
    """1D convolution layer (temporal convolution) over ``(batch, steps, channels)`` inputs.

    Args:
        filters: positive integer, the number of output channels.
        kernel_size: integer or tuple of 1 integer, the length of the convolution window.
        strides: integer or tuple of 1 integer, the stride of the window (default 1).
        padding: ``"valid"`` (no padding), ``"same"`` (output length ``ceil(steps / strides)``, padding
            as Keras: the extra step at the end) or ``"causal"`` (left padding only, so that
            ``output[t]`` does not depend on ``input[t + 1:]``).
        data_format: only ``"channels_last"`` (or None).
        dilation_rate: integer or tuple of 1 integer, the dilation of the window. Cannot exceed 1 when
            ``strides`` does.
        groups: positive integer dividing both the input channels and ``filters``; each group of input
            channels is convolved separately with ``filters // groups`` filters.
        activation: activation name or callable (None: linear).
        use_bias: whether to add a bias vector.
        kernel_initializer: initializer for the ``(kernel_size, in_channels // groups, filters)`` kernel.
        bias_initializer: initializer for the bias.
        kernel_regularizer, bias_regularizer, activity_regularizer: optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.

    Input shape:
        3-D tensor ``(batch_size, steps, channels)``.

    Output shape:
        3-D tensor ``(batch_size, new_steps, filters)``.
    """

    rank = 1
    _paddings = ("valid", "same", "causal")


@register("Convolution", "Convolution2D")
class Conv2D(_Conv):
    """2D convolution layer (spatial convolution over images) on ``(batch, height, width, channels)``.

    Args:
        filters: positive integer, the number of output channels.
        kernel_size: integer or tuple of 2 integers, the height and width of the window.
        strides: integer or tuple of 2 integers, the strides of the window (default 1).
        padding: ``"valid"`` (no padding) or ``"same"`` (output size ``ceil(size / strides)``; when the
            padding is odd, the extra row/column goes at the bottom/right, as Keras does).
        data_format: only ``"channels_last"`` (or None).
        dilation_rate: integer or tuple of 2 integers, the dilation of the window. Cannot exceed 1 when
            ``strides`` does.
        groups: positive integer dividing both the input channels and ``filters`` (grouped convolution).
        activation: activation name or callable (None: linear).
        use_bias: whether to add a bias vector.
        kernel_initializer: initializer for the ``(kh, kw, in_channels // groups, filters)`` kernel.
        bias_initializer: initializer for the bias.
        kernel_regularizer, bias_regularizer, activity_regularizer: optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.

    Input shape:
        4-D tensor ``(batch_size, height, width, channels)``.

    Output shape:
        4-D tensor ``(batch_size, new_height, new_width, filters)``.
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, groups=groups, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                         bias_constraint=bias_constraint, **kwargs)


# ---------------------------------------------------------------------------- Conv2DTranspose
def transpose_output_length(size, kernel, stride, dilation, padding, output_padding):
    if size is None:
        return None
    effective = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(effective, stride) - effective if output_padding is None else output_padding
        return (size - 1) * stride + effective + extra
    if output_padding is None:
        return size * stride
    return (size - 1) * stride + effective % 2 + output_padding


@register("Convolution", "Convolution2DTranspose")
class Conv2DTranspose(_BaseConv):
    """2D transposed convolution ("deconvolution"): goes from the shape of a convolution's output back
    to the shape of its input, e.g. to upsample feature maps in a decoder.

    Args:
        filters: positive integer, the number of output channels.
        kernel_size: integer or tuple of 2 integers, the window's height and width.
        strides: integer or tuple of 2 integers; the upsampling factor.
        padding: ``"valid"`` (output ``(size - 1) * strides + max(kernel, strides)``) or ``"same"``
            (output ``size * strides``).
        output_padding: optional integer or tuple of 2 integers, each smaller than its stride: the
            amount added along the height and width of the output (None: inferred as above).
        data_format: only ``"channels_last"`` (or None).
        dilation_rate: integer or tuple of 2 integers; cannot exceed 1 when ``strides`` does.
        activation: activation name or callable (None: linear).
        use_bias: whether to add a bias vector.
        kernel_initializer: initializer for the ``(kh, kw, filters, in_channels)`` kernel.
        bias_initializer: initializer for the bias.
        kernel_regularizer, bias_regularizer, activity_regularizer: optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.

    Input shape:
        4-D tensor ``(batch_size, height, width, channels)``.

    Output shape:
        4-D tensor ``(batch_size, new_height, new_width, filters)``.
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        filters = positive_int("filters", filters)
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.filters = filters
        if output_padding is None:
            self.output_padding = None
        else:
            self.output_padding = normalize_tuple(output_padding, self.rank, "output_padding", allow_zero=True)
            for i, (op, s) in enumerate(zip(self.output_padding, self.strides)):
                if op >= s:
                    raise ValueError(
                        "`output_padding` must be strictly less than `strides` for all dimensions. "
                        f"Received: output_padding={self.output_padding}, strides={self.strides}"
                    )
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        ops = self.output_padding or (None,) * self.rank
        crops = [transpose_crops(k, s, d, self.padding, op)
                 for k, s, d, op in zip(self.kernel_size, self.strides, self.dilation_rate, ops)]
        # torch crops min(start, end) from both sides itself and can add up to max(stride, dilation) - 1
        # computed (zero + bias) rows at the end; what remains is a slice or zero padding afterwards.
        self._torch_padding, self._torch_output_padding, rest = [], [], []
        for (lo, hi), s, d in zip(crops, self.strides, self.dilation_rate):
            p = max(0, min(lo, hi))
            lo, hi = lo - p, hi - p
            op = 0
            if hi < 0 and -hi < max(s, d):
                op, hi = -hi, 0
            self._torch_padding.append(p)
            self._torch_output_padding.append(op)
            rest.append((lo, hi))
        self._torch_padding = tuple(self._torch_padding)
        self._torch_output_padding = tuple(self._torch_output_padding)
        self._crop = tuple(slice(max(lo, 0), -hi if hi > 0 else None) for lo, hi in rest)
        self._needs_crop = any(lo > 0 or hi > 0 for lo, hi in rest)
        zero_pads = [(max(-lo, 0), max(-hi, 0)) for lo, hi in rest]
        self._zero_pad = nhwc_pad_arg(zero_pads) if any(a or b for a, b in zero_pads) else None

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.kernel = self.add_weight(shape=self.kernel_size + (self.filters, channels),
                                      initializer=self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.filters,), initializer=self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None
        self.built = True

    def call(self, inputs):
        kernel = self.kernel
        inputs = cast_for_kernel(inputs, kernel)
        bias = self.bias
        # With zeros added after the convolution, Keras adds the bias to them too: add it last then.
        late_bias = bias is not None and self._zero_pad is not None
        conv = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[self.rank]
        # Keras's (*kernel, filters, in) kernel is torch's (in, filters, *kernel) after this permutation.
        y = conv(inputs.permute(self._to_cf), kernel.permute(self._kernel_perm), None if late_bias else bias,
                 self.strides, self._torch_padding, self._torch_output_padding, 1, self.dilation_rate)
        y = y.permute(self._to_cl)
        if self._needs_crop:
            y = y[(slice(None),) + self._crop]
        if self._zero_pad is not None:
            y = F.pad(y, self._zero_pad)
            if late_bias:
                y = y + bias
        return self._activate(y)

    def compute_output_shape(self, input_shape):
        self._input_channels(input_shape)
        self._check_built_channels(input_shape, self.kernel.shape[-1] if self.built else None)
        ops = self.output_padding or (None,) * self.rank
        spatial = tuple(transpose_output_length(n, k, s, d, self.padding, op) for n, k, s, d, op in
                        zip(input_shape[1:-1], self.kernel_size, self.strides, self.dilation_rate, ops))
        return (input_shape[0],) + spatial + (self.filters,)

    def get_config(self):
        config = self._base_config()
        head = {k: config.pop(k) for k in ("name", "trainable", "dtype")}
        config = {**head, "filters": self.filters, "kernel_size": config.pop("kernel_size"),
                  "strides": config.pop("strides"), "padding": config.pop("padding"),
                  "output_padding": self.output_padding, **config}
        config.update({
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": activity_regularizer_config(self),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        })
        return config


# ---------------------------------------------------------------------------- depthwise / separable
@register("Convolution")
class DepthwiseConv2D(_BaseConv):
    """Depthwise 2D convolution: each input channel is convolved with its own ``depth_multiplier``
    filters; the outputs are stacked, giving ``channels * depth_multiplier`` channels.

    Args:
        kernel_size: integer or tuple of 2 integers, the window's height and width.
        strides: integer or tuple of 2 integers (default 1).
        padding: ``"valid"`` or ``"same"`` (Keras padding, the extra pixel at the end).
        depth_multiplier: positive integer, the number of filters per input channel.
        data_format: only ``"channels_last"`` (or None).
        dilation_rate: integer or tuple of 2 integers; cannot exceed 1 when ``strides`` does.
        activation: activation name or callable (None: linear).
        use_bias: whether to add a bias vector.
        depthwise_initializer: initializer for the ``(kh, kw, channels, depth_multiplier)`` kernel.
        bias_initializer: initializer for the bias.
        depthwise_regularizer, bias_regularizer, activity_regularizer: optional regularizers.
        depthwise_constraint, bias_constraint: optional constraints.

    Input shape:
        4-D tensor ``(batch_size, height, width, channels)``.

    Output shape:
        4-D tensor ``(batch_size, new_height, new_width, channels * depth_multiplier)``.
    """

    rank = 2
    _strides_exclude_dilation = False

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        depth_multiplier = positive_int("depth_multiplier", depth_multiplier)
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.depth_multiplier = depth_multiplier
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def _check(self, input_shape):
        channels = self._input_channels(input_shape)
        self._check_built_channels(input_shape, self.kernel.shape[-2] if self.built else None)
        return channels

    def build(self, input_shape):
        channels = self._check(input_shape)
        self._spatial_output(input_shape)
        self.kernel = self.add_weight(shape=self.kernel_size + (channels, self.depth_multiplier),
                                      initializer=self.depthwise_initializer, name="kernel",
                                      regularizer=self.depthwise_regularizer, constraint=self.depthwise_constraint)
        if self.use_bias:
            self.bias = self.add_weight(shape=(channels * self.depth_multiplier,), initializer=self.bias_initializer,
                                        name="bias", regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        else:
            self.bias = None
        self.built = True

    def call(self, inputs):
        return self._activate(self._depthwise(inputs, self.kernel, self.bias))

    def compute_output_shape(self, input_shape):
        channels = self._check(input_shape)
        return (input_shape[0],) + self._spatial_output(input_shape) + (channels * self.depth_multiplier,)

    def get_config(self):
        config = self._base_config()
        head = {k: config.pop(k) for k in ("name", "trainable", "dtype")}
        config = {**head, "depth_multiplier": self.depth_multiplier, **config}
        config.update({
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": activity_regularizer_config(self),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        })
        return config


@register("Convolution", "SeparableConvolution2D")
class SeparableConv2D(_BaseConv):
    """Depthwise separable 2D convolution: a depthwise convolution (each channel on its own, with
    ``depth_multiplier`` filters) followed by a pointwise 1x1 convolution mixing the channels.

    Args:
        filters: positive integer, the number of output channels.
        kernel_size: integer or tuple of 2 integers, the depthwise window's height and width.
        strides: integer or tuple of 2 integers (default 1).
        padding: ``"valid"`` or ``"same"`` (Keras padding, the extra pixel at the end).
        data_format: only ``"channels_last"`` (or None).
        dilation_rate: integer or tuple of 2 integers.
        depth_multiplier: positive integer, depthwise filters per input channel.
        activation: activation name or callable (None: linear).
        use_bias: whether to add a bias vector.
        depthwise_initializer: initializer for the ``(kh, kw, channels, depth_multiplier)`` kernel.
        pointwise_initializer: initializer for the ``(1, 1, channels * depth_multiplier, filters)`` kernel.
        bias_initializer: initializer for the bias.
        depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer: optional.
        depthwise_constraint, pointwise_constraint, bias_constraint: optional constraints.

    Input shape:
        4-D tensor ``(batch_size, height, width, channels)``.

    Output shape:
        4-D tensor ``(batch_size, new_height, new_width, filters)``.
    """

    rank = 2
    _strides_exclude_dilation = False

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        filters = positive_int("filters", filters)
        depth_multiplier = positive_int("depth_multiplier", depth_multiplier)
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.filters, self.depth_multiplier = filters, depth_multiplier
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def _check(self, input_shape):
        channels = self._input_channels(input_shape)
        self._check_built_channels(input_shape, self.depthwise_kernel.shape[-2] if self.built else None)
        return channels

    def build(self, input_shape):
        channels = self._check(input_shape)
        self._spatial_output(input_shape)
        mult = self.depth_multiplier
        self.depthwise_kernel = self.add_weight(
            shape=self.kernel_size + (channels, mult), initializer=self.depthwise_initializer,
            name="depthwise_kernel", regularizer=self.depthwise_regularizer, constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            shape=(1,) * self.rank + (channels * mult, self.filters), initializer=self.pointwise_initializer,
            name="pointwise_kernel", regularizer=self.pointwise_regularizer, constraint=self.pointwise_constraint)
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.filters,), initializer=self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None
        self.built = True

    def call(self, inputs):
        y = self._depthwise(inputs, self.depthwise_kernel, None)  # (N, H, W, C*M)
        # The 1x1 pointwise convolution is a matmul over the channel axis of the NHWC result.
        pointwise = self.pointwise_kernel.reshape(-1, self.filters)
        flat = y.reshape(-1, y.shape[-1])
        out = torch.mm(flat, pointwise) if self.bias is None else torch.addmm(self.bias, flat, pointwise)
        return self._activate(out.view(*y.shape[:-1], self.filters))

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return (input_shape[0],) + self._spatial_output(input_shape) + (self.filters,)

    def get_config(self):
        config = self._base_config()
        head = {k: config.pop(k) for k in ("name", "trainable", "dtype")}
        config = {**head, "depth_multiplier": self.depth_multiplier, "filters": self.filters, **config}
        config.update({
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": activity_regularizer_config(self),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        })
        return config


# ---------------------------------------------------------------------------- 1D and 3D variants
@register("Convolution", "Convolution3D")
class Conv3D(_Conv):
    """3D convolution over volumes ``(batch, dim1, dim2, dim3, channels)`` (e.g. video or scans).

    Args:
        filters, kernel_size, strides, padding (``"valid"``/``"same"``), data_format, dilation_rate,
        groups, activation, use_bias, initializers, regularizers and constraints: as ``Conv2D``, with
        3 entries per tuple. The kernel is ``(k1, k2, k3, in_channels // groups, filters)``.

    Input shape:
        5-D tensor ``(batch, dim1, dim2, dim3, channels)``.

    Output shape:
        5-D tensor ``(batch, new_dim1, new_dim2, new_dim3, filters)``.
    """

    rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1, 1), groups=1, activation=None, use_bias=True, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, groups=groups, activation=activation, use_bias=use_bias,
                         **kwargs)


@register("Convolution", "Convolution1DTranspose")
class Conv1DTranspose(Conv2DTranspose):
    """1D transposed convolution over ``(batch, steps, channels)``: upsamples sequences.

    Args:
        As ``Conv2DTranspose`` with 1 entry per tuple; the kernel is ``(k, filters, in_channels)``.

    Input shape:
        3-D tensor ``(batch, steps, channels)``.

    Output shape:
        3-D tensor ``(batch, new_steps, filters)``.
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, output_padding=output_padding,
                         data_format=data_format, dilation_rate=dilation_rate, **kwargs)


@register("Convolution", "Convolution3DTranspose")
class Conv3DTranspose(Conv2DTranspose):
    """3D transposed convolution over ``(batch, dim1, dim2, dim3, channels)``: upsamples volumes.

    Args:
        As ``Conv2DTranspose`` with 3 entries per tuple; the kernel is ``(k1, k2, k3, filters, in)``.

    Input shape:
        5-D tensor ``(batch, dim1, dim2, dim3, channels)``.

    Output shape:
        5-D tensor ``(batch, new_dim1, new_dim2, new_dim3, filters)``.
    """

    rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1, 1), **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, output_padding=output_padding,
                         data_format=data_format, dilation_rate=dilation_rate, **kwargs)


@register("Convolution")
class DepthwiseConv1D(DepthwiseConv2D):
    """Depthwise 1D convolution: each channel of ``(batch, steps, channels)`` convolved with its own
    ``depth_multiplier`` filters.

    Args:
        As ``DepthwiseConv2D`` with 1 entry per tuple; the kernel is ``(k, channels, depth_multiplier)``.

    Input shape:
        3-D tensor ``(batch, steps, channels)``.

    Output shape:
        3-D tensor ``(batch, new_steps, channels * depth_multiplier)``.
    """

    rank = 1

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=1, **kwargs):
        super().__init__(kernel_size, strides=strides, padding=padding, depth_multiplier=depth_multiplier,
                         data_format=data_format, dilation_rate=dilation_rate, **kwargs)


@register("Convolution", "SeparableConvolution1D")
class SeparableConv1D(SeparableConv2D):
    """Depthwise separable 1D convolution over ``(batch, steps, channels)``: a depthwise convolution
    followed by a pointwise (kernel size 1) convolution.

    Args:
        As ``SeparableConv2D`` with 1 entry per tuple; kernels ``(k, channels, depth_multiplier)`` and
        ``(1, channels * depth_multiplier, filters)``.

    Input shape:
        3-D tensor ``(batch, steps, channels)``.

    Output shape:
        3-D tensor ``(batch, new_steps, filters)``.
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, depth_multiplier=depth_multiplier, **kwargs)


# Keras's alternative names.
Convolution1D, Convolution2D = Conv1D, Conv2D
Convolution2DTranspose, SeparableConvolution2D = Conv2DTranspose, SeparableConv2D
Convolution3D, Convolution1DTranspose, Convolution3DTranspose = Conv3D, Conv1DTranspose, Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
