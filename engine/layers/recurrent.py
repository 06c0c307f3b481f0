"""Recurrent layers with Keras 3's names, weights and configs: ``SimpleRNN``, ``LSTM``, ``GRU`` (and their
cells), ``Bidirectional`` and ``TimeDistributed``.

As in Keras, an RNN layer keeps its weights on a ``cell`` sub-layer (``lstm/lstm_cell/kernel``...), in
Keras layout: ``kernel (features, k*units)``, ``recurrent_kernel (units, k*units)``, ``bias (k*units,)``
(GRU with ``reset_after=True``: ``(2, 3*units)``, input and recurrent biases). With the default activations
the whole sequence runs in one of torch's fused kernels (``torch.lstm``, ``torch.gru``, ``torch.rnn_tanh``),
the weights converted from Keras layout on the fly; anything else runs a Python loop over time that does
one matmul per step.
"""
from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from engine import activations, constraints, initializers, regularizers
from engine.layers import registry
from engine.layers.layer import Layer
from engine.layers.node import is_symbolic
from engine.layers.registry import get_class, register

__all__ = ["SimpleRNNCell", "LSTMCell", "GRUCell", "SimpleRNN", "LSTM", "GRU", "Bidirectional",
           "TimeDistributed", "RNN", "StackedRNNCells"]

# The fused kernels warn on CUDA when weights are not one flat buffer; ours are made from the Keras-layout
# weights on every call (so that gradients reach those), so they never are.
warnings.filterwarnings("ignore", message="RNN module weights are not part of single contiguous chunk")

_TANH = (activations.tanh, torch.tanh)
_SIGMOID = (activations.sigmoid, torch.sigmoid)
_RELU = (activations.relu, torch.relu)


# ---------------------------------------------------------------------------------------------- helpers
def _check_units(owner, units):
    if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
        raise ValueError(f"{owner}: `units` must be a positive integer. Received: units={units!r}")
    return units


def _check_rate(owner, name, value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{owner}: `{name}` must be a float in [0, 1]. Received: {name}={value!r}") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{owner}: `{name}` must be a float in [0, 1]. Received: {name}={value}")
    return value


def _is_shape_list(shape):
    """True for a list of shapes (a sequence plus initial states), False for one shape."""
    return isinstance(shape, (list, tuple)) and len(shape) > 0 and isinstance(shape[0], (list, tuple))


def _sequence_shape(layer, input_shape):
    """The ``(batch, timesteps, features)`` shape of an RNN's input, or a ValueError naming the layer."""
    if _is_shape_list(input_shape):
        input_shape = input_shape[0]
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise ValueError(_rank_message(layer, shape))
    return shape


def _rank_message(layer, shape):
    return (f"{type(layer).__name__} layer {layer.name!r} expects a 3-D input (batch, timesteps, features), "
            f"but received an input of shape {shape} (rank {len(shape)}). If each sample is a flat vector, add "
            f"Reshape((timesteps, features)) before it; for integer token ids, put an Embedding layer first.")


def _serialize_layer(layer, build_shape=None):
    out = {"module": "keras.layers", "class_name": type(layer).__name__, "config": layer.get_config(),
           "registered_name": None}
    if not _is_builtin(layer):
        # A user's class (a custom cell): Keras looks it up by this name in custom_objects.
        out["module"], out["registered_name"] = type(layer).__module__, type(layer).__name__
    if build_shape is not None:
        out["build_config"] = {"input_shape": tuple(build_shape)}
    return out


def _is_builtin(layer):
    name = type(layer).__name__
    return registry.is_registered(name) and registry.get_class(name) is type(layer)


def _deserialize_layer(obj):
    """A layer from a layer instance or a ``{"class_name", "config"}`` dict (Keras 2 or 3), by registry."""
    if isinstance(obj, Layer):
        return obj
    if isinstance(obj, dict) and "class_name" in obj:
        return get_class(obj["class_name"]).from_config(dict(obj.get("config") or {}))
    raise ValueError(f"Expected a layer or a serialized layer dict with a 'class_name'. Received: {obj!r}")


def _remove_prefix(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


def _fused_params(x, weights):
    # CPU kernels take the transposed views as they are; cuDNN and MPS want dense weights.
    return weights if x.device.type == "cpu" else [w.contiguous() for w in weights]


def _swap_zr(t, units):
    """Keras orders GRU gates z, r, h; torch r, z, n: swap the first two blocks of the last axis."""
    return torch.cat([t[..., units:2 * units], t[..., :units], t[..., 2 * units:]], dim=-1)


# ---------------------------------------------------------------------------------------------- cells
class _Cell(Layer):
    """Shared machinery of the cells: weights, dropout masks, the per-step math and the time loop.

    A cell computes one time step (``call``); its RNN layer runs whole sequences through ``run``, which
    takes a fused torch kernel when the configuration allows one.
    """

    _gates = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 **kwargs):
        owner = type(self).__name__
        units = _check_units(owner, units)
        kwargs.pop("implementation", None)  # Keras 2/3 implementation switch: the engine picks its own kernels
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _check_rate(owner, "dropout", dropout)
        self.recurrent_dropout = _check_rate(owner, "recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self._generators = {}
        self.state_size = units
        self.output_size = units

    # ------------------------------------------------------------------ weights
    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"{type(self).__name__} {self.name!r}: the last axis (features) of the input must be "
                             f"known to create the weights. Received: input_shape={tuple(input_shape)}")
        n = self._gates * self.units
        self.kernel = self.add_weight(shape=(input_dim, n), initializer=self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(shape=(self.units, n), initializer=self.recurrent_initializer,
                                                name="recurrent_kernel", regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        if self.use_bias:
            self.bias = self.add_weight(shape=self._bias_shape(), initializer=self._bias_initializer(),
                                        name="bias", regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        else:
            self.bias = None
        self.built = True

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        dtype = self.kernel.dtype if self.built else torch.float32
        device = self.kernel.device if self.built else None
        return [torch.zeros((batch_size, s), dtype=dtype, device=device) for s in sizes]

    # ------------------------------------------------------------------ dropout
    def _masks(self, count, batch, size, rate, like):
        """``count`` dropout masks of shape (batch, size), scaled by 1/(1-rate), fixed over time as Keras."""
        gen = None
        if self.seed is not None:
            gen = self._generators.get(like.device)
            if gen is None:
                gen = torch.Generator(device=like.device)
                gen.manual_seed(int(self.seed))
                self._generators[like.device] = gen
        keep = 1.0 - rate
        m = torch.empty((count, batch, size), dtype=like.dtype, device=like.device)
        return m.bernoulli_(keep, generator=gen).div_(keep)

    def _per_gate_masks(self):
        # Keras switches to one mask per gate (implementation 1) whenever recurrent dropout is on.
        return self._gates > 1 and self.recurrent_dropout > 0.0

    def _input_projection(self, x, training):
        """``x @ kernel + input bias`` for all steps at once: (batch, T, features) -> (batch, T, k*units)."""
        bias = self._input_bias()
        if training and 0.0 < self.dropout < 1.0:
            b, t, f = x.shape
            if self._per_gate_masks():
                g, h = self._gates, self.units
                m = self._masks(g, b, f, self.dropout, x)                       # (g, B, F)
                kg = self.kernel.view(f, g, h).permute(1, 0, 2).unsqueeze(1)     # (g, 1, F, H)
                xp = torch.matmul(x.unsqueeze(0) * m.unsqueeze(2), kg)           # (g, B, T, H)
                xp = xp.permute(1, 2, 0, 3).reshape(b, t, g * h)
                return xp if bias is None else xp + bias
            x = x * self._masks(1, b, f, self.dropout, x)[0].unsqueeze(1)
        return F.linear(x, self.kernel.t(), bias)

    def _recurrent_masks(self, batch, like, training):
        if not (training and 0.0 < self.recurrent_dropout < 1.0):
            return None
        count = self._gates if self._per_gate_masks() else 1
        return self._masks(count, batch, self.units, self.recurrent_dropout, like)

    def _masked_matmul(self, h, rmask, kernel):
        """``h @ kernel`` where each gate's block of columns sees ``h`` times its own dropout mask."""
        g = rmask.shape[0]
        if g == 1:
            return (h * rmask[0]) @ kernel
        units = kernel.shape[0]
        kg = kernel.reshape(units, g, -1).permute(1, 0, 2)                        # (g, H, H)
        out = torch.bmm(h.unsqueeze(0) * rmask, kg)                               # (g, B, H)
        return out.permute(1, 0, 2).reshape(h.shape[0], -1)

    # ------------------------------------------------------------------ steps and sequences
    def _input_bias(self):
        return self.bias

    def _step(self, xp_t, states, rmask):
        raise NotImplementedError

    def call(self, inputs, states, training=False):
        """One time step: ``inputs`` (batch, features) and ``states`` -> ``(output, new_states)``."""
        states = [states] if isinstance(states, torch.Tensor) else list(states)
        xp = self._input_projection(inputs.unsqueeze(1), training)[:, 0]
        return self._step(xp, states, self._recurrent_masks(inputs.shape[0], inputs, training))

    def _fused(self, x, states):
        """The whole sequence in one torch kernel: ``(outputs (B, T, H), final states)``."""
        raise NotImplementedError

    def _can_fuse(self):
        return False

    def run(self, x, states, training=False, mask=None, return_sequences=False, zero_output_for_mask=False):
        """Run a (batch, T, features) sequence (already reversed for go_backwards) from ``states``.

        Returns ``(output, final_states)``: output is (batch, T, units) with ``return_sequences``, else
        the last output (batch, units). ``mask`` (batch, T) bool keeps the state and repeats the previous
        output (zeros with ``zero_output_for_mask``) at masked steps, as Keras.
        """
        if x.shape[1] == 0:
            raise ValueError(f"{type(self).__name__} {self.name!r}: the input sequence has no timesteps. "
                             f"Received: input shape {tuple(x.shape)}")
        fused_ok = (mask is None and self._can_fuse()
                    and not (training and 0.0 < self.recurrent_dropout < 1.0))
        if fused_ok:
            if training and 0.0 < self.dropout < 1.0:
                b, _, f = x.shape
                x = x * self._masks(1, b, f, self.dropout, x)[0].unsqueeze(1)
            seq, states = self._fused(x, states)
            return (seq if return_sequences else states[0]), states
        xp = self._input_projection(x, training)
        rmask = self._recurrent_masks(x.shape[0], x, training)
        outputs = []
        out = None
        for t in range(xp.shape[1]):
            y, new_states = self._step(xp[:, t], states, rmask)
            if mask is not None:
                m = mask[:, t].unsqueeze(1)
                new_states = [torch.where(m, n, s) for n, s in zip(new_states, states)]
                fill = torch.zeros_like(y) if (zero_output_for_mask or out is None) else out
                y = torch.where(m, y, fill)
            states = new_states
            out = y
            if return_sequences:
                outputs.append(y)
        if return_sequences:
            return torch.stack(outputs, dim=1), states
        return out, states

    def _config(self, *keys):
        values = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "unit_forget_bias": getattr(self, "unit_forget_bias", None),
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "reset_after": getattr(self, "reset_after", None),
            "seed": self.seed,
        }
        return {k: values[k] for k in keys}


_SIMPLE_KEYS = ("units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
                "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
                "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout")
_LSTM_CELL_KEYS = ("units", "activation", "recurrent_activation", "use_bias", "unit_forget_bias",
                   "kernel_initializer", "recurrent_initializer", "bias_initializer", "kernel_regularizer",
                   "recurrent_regularizer", "bias_regularizer", "kernel_constraint", "recurrent_constraint",
                   "bias_constraint", "dropout", "recurrent_dropout", "seed")
_GRU_CELL_KEYS = ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                  "recurrent_initializer", "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
                  "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
                  "recurrent_dropout", "reset_after", "seed")


@register("Recurrent")
class SimpleRNNCell(_Cell):
    """Cell class for ``SimpleRNN``: one step ``h = activation(x @ kernel + h_prev @ recurrent_kernel + bias)``.

    Args:
        units: positive integer, dimensionality of the output space.
        activation: activation function (default ``"tanh"``).
        use_bias: whether to use a bias vector.
        kernel_initializer, recurrent_initializer, bias_initializer: initializers (defaults
            ``"glorot_uniform"``, ``"orthogonal"``, ``"zeros"``).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: optional regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: optional constraints.
        dropout: fraction of the input units to drop (the same units at every time step).
        recurrent_dropout: fraction of the recurrent state units to drop.
        seed: random seed for dropout.

    Input shape:
        ``call(inputs, states)``: inputs ``(batch, features)``, states ``[(batch, units)]``.

    Output shape:
        ``(output (batch, units), [new_state (batch, units)])``.
    """

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=None, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                         kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
                         seed=seed, **kwargs)

    def _step(self, xp_t, states, rmask):
        h = states[0]
        rec = h @ self.recurrent_kernel if rmask is None else self._masked_matmul(h, rmask, self.recurrent_kernel)
        out = self.activation(xp_t + rec)
        return out, [out]

    def _can_fuse(self):
        return self.activation in _TANH or self.activation in _RELU

    def _fused(self, x, states):
        fn = torch.rnn_tanh if self.activation in _TANH else torch.rnn_relu
        params = [self.kernel.t(), self.recurrent_kernel.t()]
        if self.bias is not None:
            params += [self.bias, torch.zeros_like(self.bias)]
        params = _fused_params(x, params)
        seq, h = fn(x, states[0].unsqueeze(0), params, self.bias is not None, 1, 0.0, torch.is_grad_enabled(),
                    False, True)
        return seq, [h[0]]

    def get_config(self):
        config = super().get_config()
        config.update(self._config(*_SIMPLE_KEYS, "seed"))
        return config


@register("Recurrent")
class LSTMCell(_Cell):
    """Cell class for ``LSTM``: one step of the long short-term memory recurrence.

    Gates are laid out in Keras's order i, f, c, o along the last axis of ``kernel`` (features, 4*units),
    ``recurrent_kernel`` (units, 4*units) and ``bias`` (4*units,).

    Args:
        units: positive integer, dimensionality of the output space.
        activation: activation for the cell input and output (default ``"tanh"``).
        recurrent_activation: activation for the gates (default ``"sigmoid"``).
        use_bias: whether to use a bias vector.
        kernel_initializer, recurrent_initializer, bias_initializer: initializers (defaults
            ``"glorot_uniform"``, ``"orthogonal"``, ``"zeros"``).
        unit_forget_bias: add 1 to the forget-gate bias at initialization (default True, as Keras).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: optional regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: optional constraints.
        dropout: fraction of the input units to drop (the same units at every time step).
        recurrent_dropout: fraction of the recurrent state units to drop.
        seed: random seed for dropout.

    Input shape:
        ``call(inputs, states)``: inputs ``(batch, features)``, states ``[h (batch, units), c (batch, units)]``.

    Output shape:
        ``(h (batch, units), [h, c])``.
    """

    _gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                         kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
                         seed=seed, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [units, units]

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, units = self.bias_initializer, self.units

        def forget_bias_one(shape, dtype=None):
            # i, c and o use the user's initializer; the forget gate starts at 1 (Jozefowicz et al.).
            first = torch.as_tensor(init((units,), dtype=dtype))
            return torch.cat([first, torch.ones_like(first), torch.as_tensor(init((2 * units,), dtype=dtype))])

        return forget_bias_one

    def _step(self, xp_t, states, rmask):
        h, c = states
        rec = h @ self.recurrent_kernel if rmask is None else self._masked_matmul(h, rmask, self.recurrent_kernel)
        i, f, g, o = (xp_t + rec).chunk(4, dim=1)
        ra = self.recurrent_activation
        c = ra(f) * c + ra(i) * self.activation(g)
        h = ra(o) * self.activation(c)
        return h, [h, c]

    def _can_fuse(self):
        return self.activation in _TANH and self.recurrent_activation in _SIGMOID

    def _fused(self, x, states):
        # Keras's gate order i, f, c, o is torch's i, f, g, o: only transposes are needed.
        params = [self.kernel.t(), self.recurrent_kernel.t()]
        if self.bias is not None:
            params += [self.bias, torch.zeros_like(self.bias)]
        params = _fused_params(x, params)
        h0, c0 = states
        seq, h, c = torch.lstm(x, (h0.unsqueeze(0), c0.unsqueeze(0)), params, self.bias is not None, 1, 0.0,
                               torch.is_grad_enabled(), False, True)
        return seq, [h[0], c[0]]

    def get_config(self):
        config = super().get_config()
        config.update(self._config(*_LSTM_CELL_KEYS))
        return config


@register("Recurrent")
class GRUCell(_Cell):
    """Cell class for ``GRU``: one step of the gated recurrent unit.

    Gates are laid out in Keras's order z (update), r (reset), h (candidate) along the last axis of
    ``kernel`` (features, 3*units) and ``recurrent_kernel`` (units, 3*units). With ``reset_after=True``
    (default, cuDNN-compatible) the bias is ``(2, 3*units)``: input bias then recurrent bias, and the
    reset gate multiplies the recurrent candidate after its matmul. ``reset_after=False`` (Keras 2's
    original GRU) uses one ``(3*units,)`` bias and resets the state before the matmul.

    Args:
        units: positive integer, dimensionality of the output space.
        activation: activation for the candidate (default ``"tanh"``).
        recurrent_activation: activation for the gates (default ``"sigmoid"``).
        use_bias: whether to use a bias.
        kernel_initializer, recurrent_initializer, bias_initializer: initializers (defaults
            ``"glorot_uniform"``, ``"orthogonal"``, ``"zeros"``).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: optional regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: optional constraints.
        dropout: fraction of the input units to drop (the same units at every time step).
        recurrent_dropout: fraction of the recurrent state units to drop.
        reset_after: GRU convention, see above (default True).
        seed: random seed for dropout.

    Input shape:
        ``call(inputs, states)``: inputs ``(batch, features)``, states ``[h (batch, units)]``.

    Output shape:
        ``(h (batch, units), [h])``.
    """

    _gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 reset_after=True, seed=None, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                         kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
                         seed=seed, **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _input_bias(self):
        if self.bias is None:
            return None
        return self.bias[0] if self.reset_after else self.bias

    def _step(self, xp_t, states, rmask):
        h = states[0]
        u = self.units
        ra = self.recurrent_activation
        xz, xr, xh = xp_t.chunk(3, dim=1)
        wr = self.recurrent_kernel
        if self.reset_after:
            rec = h @ wr if rmask is None else self._masked_matmul(h, rmask, wr)
            if self.bias is not None:
                rec = rec + self.bias[1]
            rz, rr, rh = rec.chunk(3, dim=1)
            z = ra(xz + rz)
            r = ra(xr + rr)
            hh = self.activation(xh + r * rh)
        else:
            if rmask is None:
                rz, rr = (h @ wr[:, :2 * u]).chunk(2, dim=1)
                h_for_h = h
            elif rmask.shape[0] == 1:
                hm = h * rmask[0]
                rz, rr = (hm @ wr[:, :2 * u]).chunk(2, dim=1)
                h_for_h = hm
            else:
                rz = (h * rmask[0]) @ wr[:, :u]
                rr = (h * rmask[1]) @ wr[:, u:2 * u]
                h_for_h = h * rmask[2]
            z = ra(xz + rz)
            r = ra(xr + rr)
            hh = self.activation(xh + (r * h_for_h) @ wr[:, 2 * u:])
        h = z * h + (1.0 - z) * hh
        return h, [h]

    def _can_fuse(self):
        # torch's GRU is the reset_after=True formulation; reset_after=False runs the loop.
        return self.reset_after and self.activation in _TANH and self.recurrent_activation in _SIGMOID

    def _fused(self, x, states):
        u = self.units
        params = [_swap_zr(self.kernel, u).t(), _swap_zr(self.recurrent_kernel, u).t()]
        if self.bias is not None:
            params += [_swap_zr(self.bias[0], u), _swap_zr(self.bias[1], u)]
        params = _fused_params(x, params)
        seq, h = torch.gru(x, states[0].unsqueeze(0), params, self.bias is not None, 1, 0.0,
                           torch.is_grad_enabled(), False, True)
        return seq, [h[0]]

    def get_config(self):
        config = super().get_config()
        config.update(self._config(*_GRU_CELL_KEYS))
        return config


# ---------------------------------------------------------------------------------------------- layers
class _StateInputs:
    """Mixin: symbolic ``initial_state`` tensors become extra inputs of the graph node.

    ``decoder(x, initial_state=[h, c])`` on symbolic tensors records the call as ``decoder([x, h, c])``, so
    that the model graph reaches the encoder through the states and runs them; ``call`` splits the list.
    Keras 3 files write such a call as ``args [x]``, ``kwargs {"initial_state": [h, c]}``: writers and
    readers of model configs can test ``_states_in_inputs`` to translate between the two.
    """

    _states_in_inputs = True

    def __call__(self, *args, **kwargs):
        state = kwargs.get("initial_state")
        if state is not None and is_symbolic(state):
            kwargs.pop("initial_state")
            inputs = args[0] if args else kwargs.pop("inputs")
            states = list(state) if isinstance(state, (list, tuple)) else [state]
            return super().__call__([inputs, *states], *args[1:], **kwargs)
        return super().__call__(*args, **kwargs)


def _split_inputs(sequences, initial_state):
    if isinstance(sequences, (list, tuple)):
        rest = list(sequences[1:])
        return sequences[0], (rest if rest else initial_state)
    return sequences, initial_state


class _RNN(_StateInputs, Layer):
    """Shared base of ``SimpleRNN``, ``LSTM`` and ``GRU``: sequences, states, configs; math in ``cell``."""

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, zero_output_for_mask=False, **kwargs):
        # Keras 2 spelled the input shape of RNNs as input_length (timesteps) and input_dim (features).
        if "input_shape" not in kwargs and ("input_dim" in kwargs or "input_length" in kwargs):
            kwargs["input_shape"] = (kwargs.pop("input_length", None), kwargs.pop("input_dim", None))
        for k in ("implementation", "use_cudnn"):
            kwargs.pop(k, None)
        if kwargs.pop("time_major", False):
            raise NotImplementedError(f"{type(self).__name__}: time_major=True is not supported. Transpose "
                                      f"the input to (batch, timesteps, features) and pass time_major=False.")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # accepted for Keras code; the engine's loop is already unrolled
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self.states = None
        sizes = cell.state_size
        self.state_size = list(sizes) if isinstance(sizes, (list, tuple)) else [sizes]

    @property
    def units(self):
        return self.cell.units

    @property
    def activation(self):
        return self.cell.activation

    @property
    def use_bias(self):
        return self.cell.use_bias

    @property
    def dropout(self):
        return self.cell.dropout

    @property
    def recurrent_dropout(self):
        return self.cell.recurrent_dropout

    def build(self, input_shape):
        shape = _sequence_shape(self, input_shape)
        if not self.cell.built:
            self.cell.build((shape[0], shape[2]))
            self.cell.built = True
        self.built = True

    def compute_output_shape(self, input_shape):
        batch, steps, _ = _sequence_shape(self, input_shape)
        out = (batch, steps, self.cell.output_size) if self.return_sequences else (batch, self.cell.output_size)
        if self.return_state:
            return [out] + [(batch, s) for s in self.state_size]
        return out

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        return [out] + [None] * len(self.state_size) if self.return_state else out

    def _initial_states(self, initial_state, x):
        batch = x.shape[0]
        if initial_state is None:
            if self.stateful and self.states is not None and not getattr(self, "_states_reset", False):
                if self.states[0].shape[0] != batch:
                    raise ValueError(
                        f"{type(self).__name__} {self.name!r} is stateful with batch size "
                        f"{self.states[0].shape[0]}, but received a batch of {batch}. Keep every batch the same "
                        "size (fixed batch_size, shuffle=False) or call reset_states() first.")
                return list(self.states)
            return [x.new_zeros((batch, s)) for s in self.state_size]
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        if len(states) != len(self.state_size):
            raise ValueError(f"{type(self).__name__} {self.name!r} expects {len(self.state_size)} initial state "
                             f"tensor(s) of shape (batch, {self.units}). Received: {len(states)}.")
        out = []
        for s, size in zip(states, self.state_size):
            s = torch.as_tensor(s, dtype=x.dtype, device=x.device)
            if tuple(s.shape) != (batch, size):
                raise ValueError(f"{type(self).__name__} {self.name!r}: an initial state must have shape "
                                 f"({batch}, {size}). Received: {tuple(s.shape)}")
            out.append(s)
        return out

    def call(self, sequences, initial_state=None, mask=None, training=False):
        x, initial_state = _split_inputs(sequences, initial_state)
        if x.dim() != 3:
            raise ValueError(_rank_message(self, tuple(x.shape)))
        if x.dtype != self.cell.kernel.dtype:
            x = x.to(self.cell.kernel.dtype)
        states = self._initial_states(initial_state, x)
        if mask is not None:
            mask = torch.as_tensor(mask, device=x.device).bool()
            if mask.dim() == 3:
                mask = mask[..., 0]
        if self.go_backwards:
            x = x.flip(1)
            if mask is not None:
                mask = mask.flip(1)
        output, states = self.cell.run(x, states, training=training, mask=mask,
                                       return_sequences=self.return_sequences,
                                       zero_output_for_mask=self.zero_output_for_mask)
        if self.stateful:
            # The next batch starts from these values; gradients stop at the batch boundary, as in Keras.
            # Updated in place, as Keras assigns its state Variables: a list taken from `layer.states`
            # follows the layer. The first copy is a clone so that updates never write into an output.
            new = [s.detach() for s in states]
            old = self.states
            if old is not None and len(old) == len(new) and all(
                    o.shape == n.shape and o.dtype == n.dtype and o.device == n.device and not o.is_inference()
                    for o, n in zip(old, new)):
                with torch.no_grad():
                    for o, n in zip(old, new):
                        o.copy_(n)
            else:
                self.states = [n.clone() for n in new]
            self._states_reset = False
        if self.return_state:
            return [output, *states]
        return output

    def get_initial_state(self, batch_size):
        return self.cell.get_initial_state(batch_size)

    def reset_state(self, states=None):
        """Forget the stored states of a stateful layer (or set them to ``states``)."""
        self._states_reset = False
        if states is None:
            # Zeroed in place, as Keras zeroes its state Variables; the next batch may still have any size.
            if self.states is not None:
                if all(not s.is_inference() for s in self.states):
                    with torch.no_grad():
                        for s in self.states:
                            s.zero_()
                    self._states_reset = True
                else:
                    self.states = None
            return
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        self.states = [torch.as_tensor(s, dtype=torch.float32) for s in states]

    reset_states = reset_state

    def _rnn_config(self):
        return {"return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask}

    def _layer_config(self, cell_keys):
        config = super().get_config()
        config.update(self._rnn_config())
        cell = self.cell._config(*cell_keys)
        # Keras places activity_regularizer between the regularizers and the constraints.
        for k, v in cell.items():
            if k == "kernel_constraint":
                config["activity_regularizer"] = regularizers.serialize(self._activity_regularizer)
            config[k] = v
        return config


_RNN_ARGS_DOC = """
        return_sequences: whether to return the full output sequence (batch, timesteps, units) or only
            the last output (batch, units). Default False.
        return_state: whether to also return the final state(s): the layer then returns a list
            ``[output, *states]``. Default False.
        go_backwards: process the sequence backwards and return the reversed sequence. Default False.
        stateful: reuse each batch's final states as the next batch's initial states (fixed batch size,
            ``shuffle=False``; ``reset_states()`` clears them). Default False.
        unroll: accepted for Keras code; has no effect (the engine's time loop is already unrolled).

    Call arguments:
        inputs: a 3-D tensor (batch, timesteps, features).
        initial_state: optional list of initial state tensors (batch, units).
        mask: optional boolean tensor (batch, timesteps); False steps keep the previous state.
            Note: the engine's models do not yet pass Embedding(mask_zero=True) masks automatically;
            pass ``mask=`` yourself when calling the layer directly.
        training: whether dropout is active.
"""


def _cell_kwargs(kwargs, name):
    return {"dtype": kwargs.get("dtype"), "trainable": kwargs.get("trainable", True), "name": name}


@register("Recurrent")
class SimpleRNN(_RNN):
    __doc__ = """Fully-connected RNN where the output is fed back as the next input.

    ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``. Weights live on ``self.cell``
    (a ``SimpleRNNCell`` named ``simple_rnn_cell``): kernel (features, units), recurrent_kernel
    (units, units), bias (units,).

    Args:
        units: positive integer, dimensionality of the output space.
        activation: activation function (default ``"tanh"``; ``"tanh"`` and ``"relu"`` run in torch's
            fused kernel).
        use_bias: whether to use a bias vector.
        kernel_initializer, recurrent_initializer, bias_initializer: defaults ``"glorot_uniform"``,
            ``"orthogonal"``, ``"zeros"``.
        kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer: regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: constraints.
        dropout: fraction of the input units to drop.
        recurrent_dropout: fraction of the recurrent units to drop.
        seed: random seed for dropout.""" + _RNN_ARGS_DOC + """
    Input shape:
        3-D tensor ``(batch, timesteps, features)``.

    Output shape:
        ``(batch, units)``, or ``(batch, timesteps, units)`` with ``return_sequences``; with
        ``return_state`` a list ``[output, h (batch, units)]``.
    """

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False, unroll=False,
                 **kwargs):
        cell = SimpleRNNCell(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                             recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                             kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                             bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                             recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                             dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
                             **_cell_kwargs(kwargs, "simple_rnn_cell"))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)

    def get_config(self):
        return self._layer_config(_SIMPLE_KEYS)


@register("Recurrent")
class LSTM(_RNN):
    __doc__ = """Long Short-Term Memory layer (Hochreiter 1997).

    Weights live on ``self.cell`` (an ``LSTMCell`` named ``lstm_cell``) in Keras layout and gate order
    i, f, c, o: kernel (features, 4*units), recurrent_kernel (units, 4*units), bias (4*units,). With
    the default activations (and no recurrent dropout while training, no mask) the sequence runs in
    torch's fused LSTM kernel; otherwise in a Python loop over time.

    Args:
        units: positive integer, dimensionality of the output space.
        activation: activation for the cell (default ``"tanh"``).
        recurrent_activation: activation for the gates (default ``"sigmoid"``).
        use_bias: whether to use a bias vector.
        kernel_initializer, recurrent_initializer, bias_initializer: defaults ``"glorot_uniform"``,
            ``"orthogonal"``, ``"zeros"``.
        unit_forget_bias: add 1 to the forget gate's bias at initialization (default True).
        kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer: regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: constraints.
        dropout: fraction of the input units to drop.
        recurrent_dropout: fraction of the recurrent units to drop.
        seed: random seed for dropout.""" + _RNN_ARGS_DOC + """
    Input shape:
        3-D tensor ``(batch, timesteps, features)``.

    Output shape:
        ``(batch, units)``, or ``(batch, timesteps, units)`` with ``return_sequences``; with
        ``return_state`` a list ``[output, h (batch, units), c (batch, units)]``.
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, **kwargs):
        cell = LSTMCell(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                        kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                        bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
                        kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                        bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                        recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint, dropout=dropout,
                        recurrent_dropout=recurrent_dropout, seed=seed, **_cell_kwargs(kwargs, "lstm_cell"))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)

    @property
    def recurrent_activation(self):
        return self.cell.recurrent_activation

    @property
    def unit_forget_bias(self):
        return self.cell.unit_forget_bias

    def get_config(self):
        keys = ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                "recurrent_initializer", "bias_initializer", "unit_forget_bias", "kernel_regularizer",
                "recurrent_regularizer", "bias_regularizer", "kernel_constraint", "recurrent_constraint",
                "bias_constraint", "dropout", "recurrent_dropout", "seed")
        return self._layer_config(keys)


@register("Recurrent")
class GRU(_RNN):
    __doc__ = """Gated Recurrent Unit (Cho et al. 2014).

    Weights live on ``self.cell`` (a ``GRUCell`` named ``gru_cell``) in Keras layout and gate order
    z, r, h: kernel (features, 3*units), recurrent_kernel (units, 3*units), bias (2, 3*units) with
    ``reset_after=True`` (input and recurrent biases; the default, torch- and cuDNN-compatible) or
    (3*units,) with ``reset_after=False`` (Keras 2's original GRU, computed in a Python loop).

    Args:
        units: positive integer, dimensionality of the output space.
        activation: activation for the candidate (default ``"tanh"``).
        recurrent_activation: activation for the gates (default ``"sigmoid"``).
        use_bias: whether to use a bias.
        kernel_initializer, recurrent_initializer, bias_initializer: defaults ``"glorot_uniform"``,
            ``"orthogonal"``, ``"zeros"``.
        kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer: regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: constraints.
        dropout: fraction of the input units to drop.
        recurrent_dropout: fraction of the recurrent units to drop.
        seed: random seed for dropout.
        reset_after: apply the reset gate after the recurrent matmul (default True).""" + _RNN_ARGS_DOC + """
    Input shape:
        3-D tensor ``(batch, timesteps, features)``.

    Output shape:
        ``(batch, units)``, or ``(batch, timesteps, units)`` with ``return_sequences``; with
        ``return_state`` a list ``[output, h (batch, units)]``.
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, reset_after=True, **kwargs):
        cell = GRUCell(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                       kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                       bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                       recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                       kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                       bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
                       reset_after=reset_after, seed=seed, **_cell_kwargs(kwargs, "gru_cell"))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)

    @property
    def recurrent_activation(self):
        return self.cell.recurrent_activation

    @property
    def reset_after(self):
        return self.cell.reset_after

    def get_config(self):
        return self._layer_config(_GRU_CELL_KEYS)


# ---------------------------------------------------------------------------------------------- wrappers
_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


@register("Recurrent")
class Bidirectional(_StateInputs, Layer):
    """Bidirectional wrapper for RNNs: runs a copy of ``layer`` forwards and another backwards, then merges.

    As in Keras, the wrapped layer is not used itself: ``forward_layer`` is a copy named
    ``forward_<name>`` and ``backward_layer`` a copy with ``go_backwards=True`` named ``backward_<name>``
    (unless ``backward_layer`` is given). Weights: forward layer's, then backward layer's.

    Args:
        layer: an RNN layer instance (``LSTM``, ``GRU``, ``SimpleRNN``).
        merge_mode: how forward and backward outputs combine: ``"concat"`` (default), ``"sum"``,
            ``"mul"``, ``"ave"``, or None (a list of both outputs).
        weights: optional initial weights (forward then backward).
        backward_layer: optional RNN layer for the backward direction; it must have ``go_backwards=True``
            and the same ``return_sequences``/``return_state``/``stateful`` as ``layer``.

    Call arguments:
        inputs: a 3-D tensor (batch, timesteps, features).
        initial_state: optional list: the forward layer's states, then the backward layer's.
        mask, training: as for the wrapped layer.

    Input shape:
        3-D tensor ``(batch, timesteps, features)``.

    Output shape:
        The wrapped layer's output shape, with the last axis doubled for ``"concat"``; a list of two
        outputs when ``merge_mode=None``. With ``return_state``: ``[output(s), *forward_states,
        *backward_states]``.
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Bidirectional needs a layer instance such as LSTM(64). Received: layer={layer!r}")
        for attr in ("go_backwards", "return_sequences", "return_state"):
            if not hasattr(layer, attr):
                raise ValueError(f"Bidirectional wraps recurrent layers (LSTM, GRU, SimpleRNN). Received: "
                                 f"layer={layer.name!r} of type {type(layer).__name__}, which has no `{attr}`.")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"`backward_layer` must be a layer instance. Received: backward_layer={backward_layer!r}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid merge_mode. Received: merge_mode={merge_mode!r}. Expected one of "
                             f"'concat', 'sum', 'mul', 'ave' or None.")
        if weights is not None:
            kwargs["weights"] = weights
        super().__init__(**kwargs)
        if self._batch_input_shape is None and getattr(layer, "_batch_input_shape", None) is not None:
            # Keras 2 code puts input_shape on the wrapped layer; the model's input comes from it.
            self._batch_input_shape = layer._batch_input_shape
        self.forward_layer = self._copy(layer, f"forward_{_remove_prefix(layer.name, 'forward_')}")
        if backward_layer is None:
            self.backward_layer = self._copy(layer, f"backward_{_remove_prefix(layer.name, 'backward_')}",
                                             go_backwards=True)
        else:
            self.backward_layer = backward_layer
        fwd, bwd = self.forward_layer, self.backward_layer
        if fwd.go_backwards == bwd.go_backwards:
            raise ValueError("Bidirectional: the forward and backward layers must have different `go_backwards`. "
                             f"Received: forward go_backwards={fwd.go_backwards}, backward "
                             f"go_backwards={bwd.go_backwards}.")
        for attr in ("stateful", "return_sequences", "return_state"):
            if getattr(fwd, attr, None) != getattr(bwd, attr, None):
                raise ValueError(f"Bidirectional: the forward and backward layers must have the same `{attr}`. "
                                 f"Received: {getattr(fwd, attr, None)} (forward) and "
                                 f"{getattr(bwd, attr, None)} (backward).")
        for sub in (fwd, bwd):
            if hasattr(sub, "zero_output_for_mask"):
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self.stateful = fwd.stateful
        self.return_sequences = fwd.return_sequences
        self.return_state = fwd.return_state
        self.supports_masking = True
        self._build_shape = None

    @staticmethod
    def _copy(layer, name, **overrides):
        config = layer.get_config()
        config.pop("batch_input_shape", None)
        config["name"] = name
        config.update(overrides)
        return type(layer).from_config(config)

    def build(self, input_shape):
        shape = _sequence_shape(self, input_shape)
        self._build_shape = shape
        for sub in (self.forward_layer, self.backward_layer):
            sub._maybe_build(shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        shape = _sequence_shape(self, input_shape)
        fwd = self.forward_layer.compute_output_shape(shape)
        bwd = self.backward_layer.compute_output_shape(shape)
        f_states = b_states = []
        if self.return_state:
            fwd, f_states, bwd, b_states = fwd[0], list(fwd[1:]), bwd[0], list(bwd[1:])
        if self.merge_mode == "concat":
            outputs = [tuple(fwd[:-1]) + (fwd[-1] + bwd[-1],)]
        elif self.merge_mode is None:
            outputs = [tuple(fwd), tuple(bwd)]
        else:
            outputs = [tuple(fwd)]
        if self.return_state or self.merge_mode is None:
            return outputs + f_states + b_states
        return outputs[0]

    def call(self, sequences, initial_state=None, mask=None, training=False):
        x, initial_state = _split_inputs(sequences, initial_state)
        f_state = b_state = None
        if initial_state is not None:
            initial_state = list(initial_state)
            half = len(initial_state) // 2
            f_state, b_state = initial_state[:half], initial_state[half:]
        y = self._run(self.forward_layer, x, f_state, mask, training)
        y_rev = self._run(self.backward_layer, x, b_state, mask, training)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev.flip(1)
        mode = self.merge_mode
        if mode == "concat":
            outputs = [torch.cat([y, y_rev], dim=-1)]
        elif mode == "sum":
            outputs = [y + y_rev]
        elif mode == "ave":
            outputs = [(y + y_rev) / 2]
        elif mode == "mul":
            outputs = [y * y_rev]
        else:
            outputs = [y, y_rev]
        if self.return_state or mode is None:
            return outputs + states
        return outputs[0]

    @staticmethod
    def _run(layer, x, state, mask, training):
        kwargs = {}
        if state is not None:
            kwargs["initial_state"] = state
        if mask is not None:
            kwargs["mask"] = mask
        if layer._takes_training():
            kwargs["training"] = training
        return layer.call(x, **kwargs)

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        outs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            n = len(getattr(self.forward_layer, "state_size", [])) * 2
            return outs + [None] * n
        return outs if self.merge_mode is None else outs[0]

    def reset_state(self, states=None):
        if not self.stateful:
            raise AttributeError(f"Bidirectional {self.name!r}: reset_states() needs stateful=True layers.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    reset_states = reset_state

    def get_config(self):
        config = super().get_config()
        config["merge_mode"] = self.merge_mode
        config["layer"] = _serialize_layer(self.forward_layer, self._build_shape)
        config["backward_layer"] = _serialize_layer(self.backward_layer, self._build_shape)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = _deserialize_layer(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = _deserialize_layer(config["backward_layer"])
        return cls(**config)


@register("Recurrent")
class TimeDistributed(Layer):
    """Applies ``layer`` to every time step of the input independently.

    ``TimeDistributed(Dense(8))`` on ``(batch, 10, 16)`` gives ``(batch, 10, 8)`` with one shared Dense.
    The engine folds the time axis into the batch and calls the layer once (Keras calls it once per
    step); the results are the same except for layers whose training behaviour depends on batch
    statistics (``BatchNormalization`` sees all steps together).

    Args:
        layer: a layer instance to apply to each time slice.

    Input shape:
        ``(batch, timesteps, ...)``: at least 3-D; the layer sees ``(batch, ...)``.

    Output shape:
        ``(batch, timesteps) + layer_output_shape[1:]``.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"TimeDistributed needs a layer instance such as Dense(8). Received: layer={layer!r}")
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True
        self._child_shape = None

    def _child_input_shape(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) < 3:
            raise ValueError(
                f"TimeDistributed layer {self.name!r} expects an input of at least 3 dimensions (batch, timesteps, "
                f"...), but received an input of shape {shape}. For (batch, features) data apply "
                f"{type(self.layer).__name__} directly.")
        return (shape[0],) + shape[2:]

    def build(self, input_shape):
        child = self._child_input_shape(input_shape)
        self._child_shape = child
        self.layer._maybe_build(child)
        self.built = True

    def compute_output_shape(self, input_shape):
        child = self._child_input_shape(input_shape)
        out = self.layer.compute_output_shape(child)
        return (out[0], tuple(input_shape)[1]) + tuple(out[1:])

    def compute_output_dtype(self, input_dtype):
        return self.layer.compute_output_dtype(input_dtype)

    def call(self, inputs, training=False):
        b, t = inputs.shape[0], inputs.shape[1]
        x = inputs.reshape((b * t,) + tuple(inputs.shape[2:]))
        y = self.layer.call(x, training=training) if self.layer._takes_training() else self.layer.call(x)
        return y.reshape((b, t) + tuple(y.shape[1:]))

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        config = super().get_config()
        config["layer"] = _serialize_layer(self.layer, self._child_shape)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = _deserialize_layer(config["layer"])
        return cls(**config)


# ---------------------------------------------------------------------------------------------- any cell
def _flat_sizes(state_size):
    """The state sizes of a cell as a flat list of ints (nested for stacked cells)."""
    if isinstance(state_size, (list, tuple)):
        out = []
        for s in state_size:
            out.extend(_flat_sizes(s))
        return out
    return [int(state_size)]


def _pack_states(state_size, flat):
    """The flat state tensors in the nesting of ``state_size`` (a list per cell for stacked cells)."""
    it = iter(flat)

    def pack(size):
        if isinstance(size, (list, tuple)):
            return [pack(s) for s in size]
        return next(it)

    return pack(state_size) if isinstance(state_size, (list, tuple)) else [next(it)]


def _flatten_states(states):
    if isinstance(states, (list, tuple)):
        out = []
        for s in states:
            out.extend(_flatten_states(s))
        return out
    return [states]


def _output_size(cell):
    size = getattr(cell, "output_size", None)
    if size is not None:
        return size
    return _flat_sizes(cell.state_size)[0]


def _call_cell(cell, x, states, training):
    if isinstance(cell, Layer) and cell._takes_training():
        return cell.call(x, states, training=training)
    return cell.call(x, states)


def _check_cell(cell, owner):
    for attr in ("call", "state_size"):
        if not hasattr(cell, attr):
            raise ValueError(f"{owner}: every cell must have a `{attr}` {'method' if attr == 'call' else 'attribute'}. "
                             f"Received a cell without it: {cell!r}")


def _deserialize_cell(obj):
    """A cell from its config, through the model loader (registry, then the caller's custom_objects)."""
    if isinstance(obj, Layer):
        return obj
    return registry.deserialize(obj)


@register("Recurrent")
class StackedRNNCells(Layer):
    """Stacks RNN cells into one cell: each step runs the cells in turn, each on the previous cell's
    output; the states are the cells' states, one entry per cell.

    Args:
        cells: a list of cell instances (``LSTMCell``, ``GRUCell``, ``SimpleRNNCell`` or your own: an
            object with ``call(inputs, states)`` returning ``(output, new_states)`` and ``state_size``).

    Weights: the cells' weights, in order.
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        cells = list(cells)
        if not cells:
            raise ValueError("StackedRNNCells needs at least one cell. Received: cells=[]")
        for cell in cells:
            _check_cell(cell, "StackedRNNCells")
        # A ModuleList when every cell is a layer: torch sees the weights, and files store them under
        # cells/<cell>/ as Keras does.
        self.cells = torch.nn.ModuleList(cells) if all(isinstance(c, Layer) for c in cells) else cells

    def _sublayers(self):
        return [c for c in self.cells if isinstance(c, Layer)]

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        return _output_size(self.cells[-1])

    def build(self, input_shape):
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build(input_shape)
                cell.built = True
            input_shape = (input_shape[0], _output_size(cell))
        self.built = True

    def get_initial_state(self, batch_size=None):
        return [[torch.zeros((batch_size, s)) for s in _flat_sizes(c.state_size)] for c in self.cells]

    def call(self, inputs, states, training=False):
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            single = not isinstance(cell_states, (list, tuple))
            cell_states = [cell_states] if single else list(cell_states)
            inputs, out_states = _call_cell(cell, inputs, cell_states, training)
            out_states = list(out_states) if isinstance(out_states, (list, tuple)) else [out_states]
            new_states.append(out_states[0] if single and len(out_states) == 1 else out_states)
        return inputs, new_states

    def get_config(self):
        config = super().get_config()
        config["cells"] = [_serialize_layer(c) for c in self.cells]
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        cells = [_deserialize_cell(c) for c in config.pop("cells")]
        return cls(cells, **config)


@register("Recurrent")
class RNN(_RNN):
    """A recurrent layer from any cell: runs ``cell`` over the time axis, as ``keras.layers.RNN``.

    Args:
        cell: a cell instance, or a list of cells (stacked with ``StackedRNNCells``). A cell is any
            object with ``call(inputs, states)`` returning ``(output, new_states)`` and a ``state_size``
            (an int, or a list for several states); ``output_size`` is optional. The engine's own
            cells (``LSTMCell``...) run in torch's fused kernels where possible.
        return_sequences, return_state, go_backwards, stateful, unroll, zero_output_for_mask: as for
            ``LSTM``. With ``return_state`` the states are returned flat, cell after cell.

    Call arguments:
        inputs: ``(batch, timesteps, features)``; initial_state, mask, training: as for ``LSTM``.

    Output shape:
        ``(batch, output_size)`` or ``(batch, timesteps, output_size)`` with ``return_sequences``.
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        _check_cell(cell, "RNN")
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         zero_output_for_mask=zero_output_for_mask, **kwargs)
        self.state_size = _flat_sizes(cell.state_size)

    @property
    def units(self):
        return getattr(self.cell, "units", _output_size(self.cell))

    def compute_output_shape(self, input_shape):
        batch, steps, _ = _sequence_shape(self, input_shape)
        size = _output_size(self.cell)
        out = (batch, steps, size) if self.return_sequences else (batch, size)
        if self.return_state:
            return [out] + [(batch, s) for s in self.state_size]
        return out

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if isinstance(self.cell, _Cell):
            return super().call(sequences, initial_state=initial_state, mask=mask, training=training)
        x, initial_state = _split_inputs(sequences, initial_state)
        if x.dim() != 3:
            raise ValueError(_rank_message(self, tuple(x.shape)))
        if x.shape[1] == 0:
            raise ValueError(f"RNN {self.name!r}: the input sequence has no timesteps. Received: input shape "
                             f"{tuple(x.shape)}")
        states = self._initial_states(initial_state, x)
        if mask is not None:
            mask = torch.as_tensor(mask, device=x.device).bool()
            if mask.dim() == 3:
                mask = mask[..., 0]
        if self.go_backwards:
            x = x.flip(1)
            mask = None if mask is None else mask.flip(1)
        outputs, out = [], None
        for t in range(x.shape[1]):
            y, new = _call_cell(self.cell, x[:, t], _pack_states(self.cell.state_size, states), training)
            new = _flatten_states(new)
            if mask is not None:
                m = mask[:, t].unsqueeze(1)
                new = [torch.where(m, n, s) for n, s in zip(new, states)]
                fill = torch.zeros_like(y) if (self.zero_output_for_mask or out is None) else out
                y = torch.where(m, y, fill)
            states, out = new, y
            if self.return_sequences:
                outputs.append(y)
        output = torch.stack(outputs, dim=1) if self.return_sequences else out
        if self.stateful:
            self.states = [s.detach() for s in states]
        if self.return_state:
            return [output, *states]
        return output

    def get_config(self):
        config = Layer.get_config(self)
        config.update(self._rnn_config())
        config["cell"] = _serialize_layer(self.cell)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        cell = config.pop("cell")
        cell = [_deserialize_cell(c) for c in cell] if isinstance(cell, list) else _deserialize_cell(cell)
        return cls(cell, **config)
