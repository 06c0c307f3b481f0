"""Convolutional LSTMs: ``ConvLSTM1D``, ``ConvLSTM2D`` and ``ConvLSTM3D`` (Shi et al., 2015).

An LSTM whose gates are convolutions: the input-to-state convolution uses the layer's strides,
padding and dilation; the state-to-state convolution has stride 1 and ``"same"`` padding. Weights
(on the cell, as in Keras): kernel ``(*kernel_size, in, 4 * filters)``, recurrent_kernel
``(*kernel_size, filters, 4 * filters)``, bias ``(4 * filters,)``, gates in the order i, f, c, o.
"""
from __future__ import annotations

import torch

from engine import activations, backend, constraints, initializers, regularizers
from engine.layers.convolution import conv_output_length, normalize_padding, normalize_tuple
from engine.layers.core import activity_regularizer_config, describe, positive_int
from engine.layers.layer import Layer
from engine.layers.registry import register
from engine.ops import nn as nn_ops

__all__ = ["ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"]


class _ConvLSTMCell(Layer):
    """One step of a convolutional LSTM over ``(batch, *spatial, channels)`` inputs."""

    def __init__(self, rank, filters, kernel_size, strides, padding, dilation_rate, activation,
                 recurrent_activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                 unit_forget_bias, kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                 recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.filters = positive_int("filters", filters)
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = normalize_tuple(strides, rank, "strides")
        self.padding = normalize_padding(padding, ("valid", "same"), f"ConvLSTM{rank}D")
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate")
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0.0 <= float(rate) <= 1.0:
                raise ValueError(f"ConvLSTM{rank}D: `{name}` must be a float in [0, 1]. Received: {name}={rate!r}")
        self.dropout, self.recurrent_dropout, self.seed = float(dropout), float(recurrent_dropout), seed

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None or any(d is None for d in input_shape[1:-1]):
            raise ValueError(f"ConvLSTM layers need known spatial and channel sizes. Received: input_shape="
                             f"{tuple(input_shape)}")
        n = 4 * self.filters
        self.kernel = self.add_weight(shape=self.kernel_size + (channels, n), initializer=self.kernel_initializer,
                                      name="kernel", regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(shape=self.kernel_size + (self.filters, n),
                                                initializer=self.recurrent_initializer, name="recurrent_kernel",
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        if self.use_bias:
            self.bias = self.add_weight(shape=(n,), initializer="zeros", name="bias",
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
            with torch.no_grad():  # Keras: the forget gate's block starts at ones with unit_forget_bias
                f = self.filters
                init = [self.bias_initializer((f,)), self.bias_initializer((2 * f,))]
                forget = torch.ones(f) if self.unit_forget_bias else torch.as_tensor(self.bias_initializer((f,)))
                self.bias.copy_(torch.cat([torch.as_tensor(init[0]), forget, torch.as_tensor(init[1])]))
        else:
            self.bias = None
        self.built = True

    def output_spatial(self, spatial):
        return tuple(conv_output_length(n, k, s, d, self.padding)
                     for n, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate))

    def _masks(self, count, like, rate, generator):
        keep = 1.0 - rate
        m = torch.empty((count,) + tuple(like.shape), dtype=like.dtype, device=like.device)
        return m.bernoulli_(keep, generator=generator).div_(keep)

    def call(self, inputs, states, training=False, masks=None):
        h, c = states
        dp, rdp = masks if masks is not None else (None, None)
        kernels = torch.chunk(self.kernel, 4, dim=-1)
        recurrent = torch.chunk(self.recurrent_kernel, 4, dim=-1)
        biases = torch.chunk(self.bias, 4) if self.bias is not None else (None,) * 4
        gates = []
        for g in range(4):
            x = inputs if dp is None else inputs * dp[g]
            hg = h if rdp is None else h * rdp[g]
            z = nn_ops.conv(x, kernels[g], strides=self.strides, padding=self.padding,
                            dilation_rate=self.dilation_rate)
            if biases[g] is not None:
                z = z + biases[g]
            gates.append(z + nn_ops.conv(hg, recurrent[g], strides=1, padding="same"))
        i = self.recurrent_activation(gates[0])
        f = self.recurrent_activation(gates[1])
        c = f * c + i * self.activation(gates[2])
        o = self.recurrent_activation(gates[3])
        h = o * self.activation(c)
        return h, [h, c]


class _ConvLSTM(Layer):
    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.data_format = backend.standardize_data_format(data_format)
        self.cell = _ConvLSTMCell(self.rank, filters, kernel_size, strides, padding, dilation_rate, activation,
                                  recurrent_activation, use_bias, kernel_initializer, recurrent_initializer,
                                  bias_initializer, unit_forget_bias, kernel_regularizer, recurrent_regularizer,
                                  bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint,
                                  dropout, recurrent_dropout, seed, name="conv_lstm_cell", dtype=kwargs.get("dtype"))
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self.states = None
        self._generators = {}

    def _check(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 3:
            raise ValueError(f"{describe(self)} expects inputs of rank {self.rank + 3} (batch, time, "
                             f"{', '.join(['dim'] * self.rank)}, channels). Received: input shape {input_shape}")
        return input_shape

    def build(self, input_shape):
        shape = self._check(input_shape)
        if not self.cell.built:
            self.cell.build((shape[0],) + shape[2:])
        self.built = True

    def compute_output_shape(self, input_shape):
        shape = self._check(input_shape)
        spatial = self.cell.output_spatial(shape[2:-1])
        out_step = (shape[0],) + spatial + (self.cell.filters,)
        out = (shape[0], shape[1]) + out_step[1:] if self.return_sequences else out_step
        return [out, out_step, out_step] if self.return_state else out

    def compute_mask(self, inputs, mask=None):
        out = mask if self.return_sequences else None
        return [out, None, None] if self.return_state else out

    def _generator(self, device):
        if self.cell.seed is None:
            return None
        g = self._generators.get(device)
        if g is None:
            g = torch.Generator(device=device)
            g.manual_seed(int(self.cell.seed))
            self._generators[device] = g
        return g

    def call(self, inputs, initial_state=None, mask=None, training=False):
        x = inputs
        batch = x.shape[0]
        spatial = self.cell.output_spatial(tuple(x.shape[2:-1]))
        if initial_state is not None:
            states = list(initial_state)
        elif self.stateful and self.states is not None:
            states = list(self.states)
        else:
            zeros = x.new_zeros((batch,) + spatial + (self.cell.filters,))
            states = [zeros, zeros]
        if mask is not None:
            mask = torch.as_tensor(mask, device=x.device).bool()
        if self.go_backwards:
            x = x.flip(1)
            mask = None if mask is None else mask.flip(1)
        masks = None
        if training and (0 < self.cell.dropout < 1 or 0 < self.cell.recurrent_dropout < 1):
            gen = self._generator(x.device)
            dp = self.cell._masks(4, x[:, 0], self.cell.dropout, gen) if 0 < self.cell.dropout < 1 else None
            rdp = (self.cell._masks(4, states[0], self.cell.recurrent_dropout, gen)
                   if 0 < self.cell.recurrent_dropout < 1 else None)
            masks = (dp, rdp)
        outputs, out = [], None
        for t in range(x.shape[1]):
            y, new = self.cell.call(x[:, t], states, training=training, masks=masks)
            if mask is not None:
                m = mask[:, t].view((batch,) + (1,) * (y.dim() - 1))
                new = [torch.where(m, n, s) for n, s in zip(new, states)]
                fill = torch.zeros_like(y) if (self.zero_output_for_mask or out is None) else out
                y = torch.where(m, y, fill)
            states, out = new, y
            if self.return_sequences:
                outputs.append(y)
        output = torch.stack(outputs, dim=1) if self.return_sequences else out
        if self.stateful:
            self.states = [s.detach() for s in states]
        return [output, *states] if self.return_state else output

    def reset_state(self, states=None):
        self.states = None if states is None else list(states)

    reset_states = reset_state

    def get_config(self):
        cell = self.cell
        config = super().get_config()
        config.update({
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
            "filters": cell.filters,
            "kernel_size": cell.kernel_size,
            "strides": cell.strides,
            "padding": cell.padding,
            "data_format": self.data_format,
            "dilation_rate": cell.dilation_rate,
            "activation": activations.serialize(cell.activation),
            "recurrent_activation": activations.serialize(cell.recurrent_activation),
            "use_bias": cell.use_bias,
            "kernel_initializer": initializers.serialize(cell.kernel_initializer),
            "recurrent_initializer": initializers.serialize(cell.recurrent_initializer),
            "bias_initializer": initializers.serialize(cell.bias_initializer),
            "unit_forget_bias": cell.unit_forget_bias,
            "kernel_regularizer": regularizers.serialize(cell.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(cell.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(cell.bias_regularizer),
            "activity_regularizer": activity_regularizer_config(self),
            "kernel_constraint": constraints.serialize(cell.kernel_constraint),
            "recurrent_constraint": constraints.serialize(cell.recurrent_constraint),
            "bias_constraint": constraints.serialize(cell.bias_constraint),
            "dropout": cell.dropout,
            "recurrent_dropout": cell.recurrent_dropout,
            "seed": cell.seed,
        })
        return config


_DOC = """{n}D convolutional LSTM over sequences of {what}: ``(batch, time, {dims}, channels)``.

    Args:
        filters: number of output channels.
        kernel_size, strides, dilation_rate: int or tuple of {n} ints (the input convolution's).
        padding: ``"valid"`` or ``"same"`` for the input convolution (the recurrent one is "same").
        data_format: only ``"channels_last"``.
        activation ("tanh"), recurrent_activation ("sigmoid"), use_bias, unit_forget_bias (True),
        kernel/recurrent/bias initializers, regularizers and constraints, dropout, recurrent_dropout,
        seed: as ``LSTM``.
        return_sequences, return_state, go_backwards, stateful, unroll: as ``LSTM``.

    Output shape:
        ``(batch, {dims_out}, filters)``; ``(batch, time, {dims_out}, filters)`` with return_sequences.
    """


@register("Recurrent")
class ConvLSTM1D(_ConvLSTM):
    __doc__ = _DOC.format(n=1, what="1-D signals", dims="steps", dims_out="new_steps")
    rank = 1


@register("Recurrent")
class ConvLSTM2D(_ConvLSTM):
    __doc__ = _DOC.format(n=2, what="images", dims="rows, cols", dims_out="new_rows, new_cols")
    rank = 2


@register("Recurrent")
class ConvLSTM3D(_ConvLSTM):
    __doc__ = _DOC.format(n=3, what="volumes", dims="d1, d2, d3", dims_out="new_d1, new_d2, new_d3")
    rank = 3
