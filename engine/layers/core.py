"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Permute, RepeatVector, Masking, Identity.

Tensors are channels_last at every boundary, so Flatten of an image is a plain reshape of the NHWC
tensor, in Keras's (height, width, channel) order, and a Dense after it sees the same features as in
Keras.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from engine import activations, backend, constraints, initializers, regularizers
from engine.layers.layer import Layer, cast_for_kernel
from engine.layers.registry import register

__all__ = ["Dense", "Activation", "Dropout", "Flatten", "Reshape", "Permute", "RepeatVector", "Masking", "Identity",
           "LayerScale", "CustomScaleLayer", "TorchModuleWrapper"]


# ---------------------------------------------------------------------------- shared helpers
def describe(layer) -> str:
    """``Layer 'conv2d' (Conv2D)``: how error messages name a layer."""
    return f"Layer '{layer.name}' ({type(layer).__name__})"


def is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def positive_int(name, value):
    """``value`` as an int if it is a positive integer; a ValueError that shows it otherwise."""
    if not is_int(value) or value <= 0:
        raise ValueError(f"Argument `{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def activity_regularizer_config(layer):
    reg = getattr(layer, "_activity_regularizer", None)
    return regularizers.serialize(reg) if reg is not None else None


def check_rank(layer, input_shape, rank, layout, hint=""):
    """Refuse an input whose rank is not ``rank`` (batch axis included), naming the layer and shape."""
    if len(input_shape) != rank:
        raise ValueError(
            f"{describe(layer)} expects inputs of shape {layout}, but received an input of shape "
            f"{tuple(input_shape)} (rank {len(input_shape)}).{hint}"
        )


_linear = activations.linear
_softmax = activations.softmax


# ---------------------------------------------------------------------------- Dense
@register("Core")
class Dense(Layer):
    """Just your regular densely-connected NN layer: ``output = activation(inputs @ kernel + bias)``.

    On inputs of rank > 2 the kernel is applied to the last axis, as Keras does: an input of shape
    ``(batch, d0, d1)`` gives ``(batch, d0, units)``.

    Args:
        units: positive integer, dimensionality of the output space.
        activation: activation function name or callable; None means linear (``a(x) = x``).
        use_bias: whether the layer adds a bias vector.
        kernel_initializer: initializer for the ``(input_dim, units)`` kernel (``"glorot_uniform"``).
        bias_initializer: initializer for the bias (``"zeros"``).
        kernel_regularizer: regularizer applied to the kernel.
        bias_regularizer: regularizer applied to the bias.
        activity_regularizer: regularizer applied to the layer's output.
        kernel_constraint: constraint applied to the kernel after each optimizer step.
        bias_constraint: constraint applied to the bias after each optimizer step.

    Input shape:
        N-D tensor ``(batch_size, ..., input_dim)``; most often ``(batch_size, input_dim)``.

    Output shape:
        N-D tensor ``(batch_size, ..., units)``.
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, lora_rank=None,
                 lora_alpha=None, quantization_config=None, **kwargs):
        if not is_int(units) or units <= 0:
            raise ValueError(
                "Received an invalid value for `units`, expected a positive integer. "
                f"Received: units={units!r}"
            )
        if lora_rank is not None or quantization_config is not None:
            raise ValueError(
                "Dense: LoRA and quantization are not supported by the engine. "
                f"Received: lora_rank={lora_rank!r}, quantization_config={quantization_config!r}"
            )
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.supports_masking = True

    def _check_input(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 2:
            raise ValueError(
                f"{describe(self)} expects inputs of shape (batch_size, ..., input_dim) with at least 2 "
                f"dimensions, but received an input of shape {input_shape}."
            )
        if input_shape[-1] is None:
            raise ValueError(
                f"{describe(self)}: the last dimension of the inputs must be defined, but received an "
                f"input of shape {input_shape}. Give the Input a full shape, e.g. Input(shape=(784,))."
            )
        if self.built and input_shape[-1] != self.kernel.shape[0]:
            raise ValueError(
                f"{describe(self)} was built for inputs with {self.kernel.shape[0]} features (kernel "
                f"{tuple(self.kernel.shape)}), but received an input of shape {input_shape}."
            )
        return input_shape

    def build(self, input_shape):
        input_shape = self._check_input(input_shape)
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer=self.kernel_initializer,
                                      name="kernel", regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.units,), initializer=self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None
        self.built = True

    def call(self, inputs):
        kernel, bias = self.kernel, self.bias
        inputs = cast_for_kernel(inputs, kernel)
        if inputs.dim() == 2:
            y = torch.mm(inputs, kernel) if bias is None else torch.addmm(bias, inputs, kernel)
        else:
            # Fold the leading axes into one so the product and the bias are a single fused addmm.
            flat = inputs.reshape(-1, inputs.shape[-1])
            y = torch.mm(flat, kernel) if bias is None else torch.addmm(bias, flat, kernel)
            y = y.view(*inputs.shape[:-1], self.units)
        act = self.activation
        if act is _softmax:  # the crossentropy losses read the logits (activations.softmax_keeping_logits)
            return activations.softmax_keeping_logits(y)
        return y if act is _linear else act(y)

    def compute_output_shape(self, input_shape):
        input_shape = self._check_input(input_shape)
        return input_shape[:-1] + (self.units,)

    def get_config(self):
        config = super().get_config()
        reg = activity_regularizer_config(self)
        if reg is not None:
            config["activity_regularizer"] = reg
        config.update({
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,
        })
        return config


# ---------------------------------------------------------------------------- Activation
@register("Core")
class Activation(Layer):
    """Applies an activation function to its input.

    Args:
        activation: activation function name (``"relu"``, ``"softmax"``...) or a callable.

    Input shape:
        Arbitrary.

    Output shape:
        Same shape as the input.
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        if self.activation is _softmax:
            return activations.softmax_keeping_logits(inputs)
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


# ---------------------------------------------------------------------------- Dropout
@register("Regularization")
class Dropout(Layer):
    """Randomly sets input units to 0 with frequency ``rate`` during training, scaling the others by
    ``1 / (1 - rate)`` so that the expected sum is unchanged. Does nothing at inference.

    Args:
        rate: float between 0 and 1, the fraction of the input units to drop.
        noise_shape: optional shape of the binary dropout mask, multiplied with the input; ``None``
            entries take the input's size. ``(batch_size, 1, features)`` drops the same features at
            every timestep.
        seed: optional integer, makes the masks reproducible.

    Input shape:
        Arbitrary.

    Output shape:
        Same shape as the input.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating, np.integer)) \
                or not 0 <= rate <= 1:
            raise ValueError(
                f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. "
                f"Received: rate={rate!r}"
            )
        if noise_shape is not None:
            if isinstance(noise_shape, str) or not hasattr(noise_shape, "__iter__"):
                raise ValueError(
                    "Invalid value received for argument `noise_shape`. Expected a tuple of integers or None. "
                    f"Received: noise_shape={noise_shape!r}"
                )
            noise_shape = tuple(noise_shape)
            for d in noise_shape:
                if d is not None and (not is_int(d) or d <= 0):
                    raise ValueError(
                        "Invalid value received for argument `noise_shape`: every entry must be a positive "
                        f"integer or None. Received: noise_shape={noise_shape!r}"
                    )
        if seed is not None and not is_int(seed):
            raise ValueError(f"Argument `seed` must be an integer or None. Received: seed={seed!r}")
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed
        self._generators = {}  # device -> torch.Generator, only when seeded
        self.supports_masking = True
        self.built = True

    def _generator(self, device):
        if self.seed is None:
            return None
        g = self._generators.get(device)
        if g is None:
            g = torch.Generator(device=device)
            g.manual_seed(int(self.seed))
            self._generators[device] = g
        return g

    def call(self, inputs, training=False):
        rate = self.rate
        if not training or rate == 0:
            return inputs
        if rate >= 1:
            return torch.zeros_like(inputs)
        if self.noise_shape is None and self.seed is None:
            return F.dropout(inputs, rate, True)  # fused kernel; torch's global generator
        keep = 1.0 - rate
        shape = inputs.shape if self.noise_shape is None else self._concrete_noise_shape(inputs.shape)
        mask = torch.empty(shape, dtype=inputs.dtype, device=inputs.device)
        mask.bernoulli_(keep, generator=self._generator(inputs.device))
        return inputs * (mask / keep)

    def _concrete_noise_shape(self, shape):
        if len(self.noise_shape) != len(shape):
            raise ValueError(
                f"{describe(self)}: noise_shape={self.noise_shape} must have one entry per input axis, but the "
                f"input has shape {tuple(shape)}."
            )
        return tuple(s if d is None else d for d, s in zip(self.noise_shape, shape))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape})
        return config


# ---------------------------------------------------------------------------- reshaping
@register("Core")
class Flatten(Layer):
    """Flattens the input, keeping the batch axis: ``(batch, h, w, c)`` becomes ``(batch, h*w*c)``.

    The order is Keras's channels_last order (height, width, channel), so weights trained in Keras for
    the Dense after a Flatten work unchanged.

    Args:
        data_format: only ``"channels_last"`` (or None) is supported.

    Input shape:
        ``(batch_size, ...)``, at least 1-D.

    Output shape:
        ``(batch_size, product of the other dimensions)``; ``(batch_size, 1)`` for a 1-D input.
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend.standardize_data_format(data_format)
        self.built = True

    def call(self, inputs):
        return inputs.reshape(inputs.shape[0], math.prod(inputs.shape[1:]))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 1:
            raise ValueError(f"{describe(self)} needs an input with a batch axis. Received: shape={input_shape}")
        rest = input_shape[1:]
        return (input_shape[0], None if any(d is None for d in rest) else math.prod(rest))

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


@register("Core")
class Reshape(Layer):
    """Reshapes the input (without its batch axis) to ``target_shape``.

    Args:
        target_shape: tuple of integers, the output shape without the batch axis; one entry may be -1,
            inferred from the input's size.

    Input shape:
        Arbitrary, with a batch axis.

    Output shape:
        ``(batch_size, *target_shape)``.
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if is_int(target_shape):
            target_shape = (target_shape,)
        try:
            target_shape = tuple(target_shape)
        except TypeError:
            raise ValueError(
                f"Argument `target_shape` must be a tuple of integers, e.g. (28, 28, 1). "
                f"Received: target_shape={target_shape!r}"
            ) from None
        for d in target_shape:
            if not is_int(d) or d < -1 or d == 0:
                raise ValueError(
                    "Each entry of `target_shape` must be a positive integer, or -1 for one inferred "
                    f"dimension. Received: target_shape={target_shape!r}"
                )
        if target_shape.count(-1) > 1:
            raise ValueError(
                f"There must be at most one unknown dimension (-1) in `target_shape`. "
                f"Received: target_shape={target_shape!r}"
            )
        self.target_shape = tuple(int(d) for d in target_shape)
        self.built = True

    def _resolve(self, shape):
        """The target shape with -1 resolved for a batchless input ``shape`` (None if unknown)."""
        target = self.target_shape
        if any(d is None for d in shape):
            return tuple(None if d == -1 else d for d in target)
        size = math.prod(shape)
        known = math.prod(d for d in target if d != -1)
        if -1 in target:
            if size % known:
                raise ValueError(
                    f"{describe(self)} cannot reshape an input of shape (batch, {', '.join(map(str, shape))}) "
                    f"({size} values per sample) to target_shape={target}: {size} is not divisible by {known}."
                )
            return tuple(size // known if d == -1 else d for d in target)
        if size != known:
            raise ValueError(
                f"{describe(self)} cannot reshape an input of shape (batch, {', '.join(map(str, shape))}) "
                f"({size} values per sample) to target_shape={target} ({known} values). The total size "
                "must be unchanged."
            )
        return target

    def call(self, inputs):
        return inputs.reshape(inputs.shape[0], *self.target_shape)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 1:
            raise ValueError(f"{describe(self)} needs an input with a batch axis. Received: shape={input_shape}")
        return (input_shape[0],) + self._resolve(input_shape[1:])

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config


@register("Core")
class Permute(Layer):
    """Permutes the non-batch axes of the input.

    Args:
        dims: tuple of integers, the permutation of the axes 1..n (the batch axis 0 stays first).
            ``Permute((2, 1))`` swaps the two axes of a ``(batch, steps, features)`` input.

    Input shape:
        ``(batch_size, d1, ..., dn)`` with n = len(dims).

    Output shape:
        The input shape with its non-batch axes reordered by ``dims``.
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        try:
            dims = tuple(dims)
        except TypeError:
            raise ValueError(f"Argument `dims` must be a tuple of integers. Received: dims={dims!r}") from None
        if not all(is_int(d) for d in dims) or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` must be "
                f"consecutive and start from 1, e.g. (2, 1). Received: dims={dims!r}"
            )
        self.dims = tuple(int(d) for d in dims)
        self._perm = (0,) + self.dims
        self.built = True

    def call(self, inputs):
        return inputs.permute(self._perm)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, len(self.dims) + 1,
                   f"(batch_size, {', '.join(f'd{i}' for i in range(1, len(self.dims) + 1))}) "
                   f"to match dims={self.dims}")
        return tuple(input_shape[d] for d in self._perm)

    def get_config(self):
        config = super().get_config()
        config["dims"] = self.dims
        return config


@register("Core")
class RepeatVector(Layer):
    """Repeats the input ``n`` times along a new axis 1.

    Args:
        n: positive integer, the repetition factor.

    Input shape:
        2-D tensor ``(batch_size, features)``.

    Output shape:
        3-D tensor ``(batch_size, n, features)``.
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not is_int(n):
            raise TypeError(f"Expected an integer value for `n`. Received: n={n!r}")
        if n <= 0:
            raise ValueError(f"Argument `n` should be a positive integer. Received: n={n}")
        self.n = int(n)
        self.built = True

    def call(self, inputs):
        # A broadcast view: no copy; the next layer reads it like a materialized tensor.
        return inputs.unsqueeze(1).expand(-1, self.n, -1)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, 2, "(batch_size, features)",
                   " Add a Flatten layer before it for inputs with more axes.")
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


# ---------------------------------------------------------------------------- masks and identity
@register("Core")
class Masking(Layer):
    """Masks timesteps whose features all equal ``mask_value``: they are zeroed, and the layers after it
    that support masks (RNNs, GlobalAveragePooling1D, attention...) skip them.

    Args:
        mask_value: the padding value (0.0).

    Input shape:
        ``(batch, timesteps, features)`` (any rank >= 2; the last axis holds the features).

    Output shape:
        Same as the input; the mask is ``(batch, timesteps)``.
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True
        self.built = True

    @property
    def produces_mask(self):
        return True

    def compute_mask(self, inputs, mask=None):
        return torch.any(inputs != self.mask_value, dim=-1)

    def call(self, inputs):
        keep = torch.any(inputs != self.mask_value, dim=-1, keepdim=True)
        return inputs * keep.to(inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config


@register("Core")
class Identity(Layer):
    """Returns its input unchanged (and passes its mask on). A placeholder where a layer is optional.

    Input shape:
        Any.

    Output shape:
        Same as the input.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


@register("Core")
class LayerScale(Layer):
    """Multiplies the last axis by a learned per-channel scale (Touvron et al., 2021), the layer that
    ``keras.applications`` ConvNeXt models use after each block (saved by Keras as ``LayerScale``).

    Args:
        init_values: the initial value of every scale (ConvNeXt uses 1e-6).
        projection_dim: the size of the last axis.

    Weights: one vector of ``projection_dim`` scales (Keras names it ``variable``).

    Input shape:
        ``(batch, ..., projection_dim)``.

    Output shape:
        Same as the input.
    """

    keras_module = "keras.src.applications.convnext"  # where Keras 3 defines it (for files Keras loads)

    def __init__(self, init_values, projection_dim, **kwargs):
        super().__init__(**kwargs)
        self.init_values = init_values
        self.projection_dim = positive_int("projection_dim", projection_dim)

    def build(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] != self.projection_dim:
            raise ValueError(f"{describe(self)} has projection_dim={self.projection_dim}, but received an input of "
                             f"shape {tuple(input_shape)}.")
        self.gamma = self.add_weight(shape=(self.projection_dim,), initializer=initializers.Constant(self.init_values),
                                     name="variable")
        self.built = True

    def call(self, inputs):
        return inputs * self.gamma

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"init_values": self.init_values, "projection_dim": self.projection_dim})
        return config


@register("Merge")
class CustomScaleLayer(Layer):
    """``inputs[0] + inputs[1] * scale``: the scaled residual sum of ``keras.applications``
    InceptionResNetV2 (saved by Keras as ``CustomScaleLayer``).

    Args:
        scale: the factor on the second input (the residual branch).

    Input shape:
        A list of two tensors of the same shape.

    Output shape:
        The inputs' shape.
    """

    keras_module = "keras.src.applications.inception_resnet_v2"  # where Keras 3 defines it

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(f"{describe(self)} expects a list of two tensors [shortcut, residual].")
        return inputs[0] + inputs[1] * self.scale

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale})
        return config


class TorchModuleWrapper(Layer):  # not in the registry: it exists in code only, never in a file
    """Runs a ``torch.nn.Module`` as a layer, as ``keras.layers.TorchModuleWrapper``: its parameters
    are the layer's weights (trained by ``fit``, listed by ``get_weights``), and ``training`` switches
    the module between ``train()`` and ``eval()``.

    The module's architecture is Python code, so a model containing it can be saved with
    ``save_weights`` but not as a model file (Keras does the same).

    Args:
        module: a ``torch.nn.Module`` (lazy modules must be initialized first).
        output_shape: optional output shape without the batch axis, for symbolic inputs; when None the
            module is run once on a batch of one zeros to find it.
    """

    def __init__(self, module, name=None, output_shape=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if not isinstance(module, torch.nn.Module):
            raise ValueError(f"TorchModuleWrapper needs a torch.nn.Module. Received: module={module!r}")
        lazy = getattr(torch.nn.modules.lazy, "LazyModuleMixin", None)
        if lazy is not None and isinstance(module, lazy) and module.has_uninitialized_params():
            raise ValueError("LazyModules are not supported unless they are already initialized. Received "
                             f"uninitialized LazyModule: module={module}")
        self.module = module
        self._wrapper_output_shape = None if output_shape is None else tuple(output_shape)
        self.built = True

    @property
    def weights(self):
        trainable = [p for p in self.module.parameters() if p.requires_grad]
        return trainable + [p for p in self.module.parameters() if not p.requires_grad]

    @property
    def trainable_weights(self):
        return [p for p in self.module.parameters() if p.requires_grad] if self.trainable else []

    def call(self, inputs, training=False):
        self.module.train(bool(training))
        return self.module(inputs)

    def compute_output_shape(self, input_shape):
        if self._wrapper_output_shape is not None:
            return (input_shape[0],) + self._wrapper_output_shape
        if any(d is None for d in input_shape[1:]):
            raise ValueError(f"{describe(self)}: give `output_shape` to use the module on inputs of unknown size "
                             f"{tuple(input_shape)}.")
        was_training = self.module.training
        try:
            self.module.eval()
            with torch.no_grad():
                param = next(self.module.parameters(), None)
                probe = torch.zeros((1,) + tuple(input_shape[1:]),
                                    dtype=param.dtype if param is not None else torch.float32,
                                    device=param.device if param is not None else None)
                out = self.module(probe)
        finally:
            self.module.train(was_training)
        return (input_shape[0],) + tuple(out.shape[1:])

    def get_config(self):
        raise NotImplementedError(
            f"{describe(self)} wraps the torch module {type(self.module).__name__}, which is Python code: a model "
            "holding it cannot be written as a model file. Use model.save_weights(), or rebuild the module from "
            "engine layers.")
