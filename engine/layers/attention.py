"""Attention layers: ``EinsumDense``, ``MultiHeadAttention``, ``Attention`` (Luong) and
``AdditiveAttention`` (Bahdanau), with Keras 3's weights, masks and configs.

``MultiHeadAttention`` keeps Keras's layout: four ``EinsumDense`` sub-layers named ``query``, ``key``,
``value`` and ``attention_output`` (kernels ``(dim, heads, key_dim)`` and ``(heads, value_dim, dim)``),
so weights and files move between the two libraries unchanged.
"""
from __future__ import annotations

import math
import re
import string

import torch

from engine import activations, constraints, initializers, regularizers
from engine.layers.activation_layers import Softmax
from engine.layers.core import Dropout, activity_regularizer_config, describe, positive_int
from engine.layers.layer import Layer, cast_for_kernel
from engine.layers.registry import register

__all__ = ["EinsumDense", "MultiHeadAttention", "GroupQueryAttention", "GroupedQueryAttention", "Attention",
           "AdditiveAttention"]


# ---------------------------------------------------------------------------- EinsumDense
def _analyze_einsum(equation, bias_axes, input_shape, output_shape):
    """(kernel shape, bias shape or None, full output shape) of an EinsumDense equation, as Keras.

    The equation is ``ab,bc->ac``, ``...b,bc->...c`` (leading axes elided) or ``ab...,bc->ac...``
    (trailing axes elided); ``output_shape`` gives the output without the batch axis (None: inferred).
    """
    dotted = re.sub(r"\.\.\.", "0", equation)
    left = False
    match = re.fullmatch("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", dotted)
    if not match:
        match = re.fullmatch("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", dotted)
        left = bool(match)
    if not match:
        match = re.fullmatch("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", dotted)
    if not match:
        raise ValueError(f"Invalid einsum equation '{equation}'. Equations must be in the form [X],[Y]->[Z], "
                         "...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....")
    input_spec, weight_spec, output_spec = match.groups()
    elided = len(input_shape) - len(input_spec)
    out = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    out.insert(0, input_shape[0])
    if elided > 0 and left:
        for i in range(1, elided):
            out.insert(1, input_shape[i])
    elif elided > 0:
        out.extend(input_shape[len(input_shape) - elided:])
    if left:
        in_map = {d: i + elided - len(input_shape) for i, d in enumerate(input_spec)}
        out_map = {d: i + elided for i, d in enumerate(output_spec)}
    else:
        in_map = {d: i for i, d in enumerate(input_spec)}
        out_map = {d: i for i, d in enumerate(output_spec)}
    for d in input_spec:
        if d in out_map and out[out_map[d]] is not None and out[out_map[d]] != input_shape[in_map[d]]:
            raise ValueError(f"Input shape and output shape do not match at shared dimension '{d}'. Input shape is "
                             f"{input_shape[in_map[d]]}, and output shape is {out[out_map[d]]}.")
    for d in input_spec:  # unknown output sizes of axes shared with the input: the input's sizes
        if d in out_map and out[out_map[d]] is None:
            out[out_map[d]] = input_shape[in_map[d]]
    for d in output_spec:
        if d not in input_spec and d not in weight_spec:
            raise ValueError(f"Dimension '{d}' was specified in the output '{output_spec}' but has no corresponding "
                             f"dim in the input spec '{input_spec}' or weight spec '{weight_spec}'")
    kernel = []
    for d in weight_spec:
        if d in out_map:
            kernel.append(out[out_map[d]])
        elif d in in_map:
            kernel.append(input_shape[in_map[d]])
        else:
            raise ValueError(f"Weight dimension '{d}' did not have a match in either the input spec '{input_spec}' "
                             f"or the output spec '{output_spec}'. For this layer, the weight must be fully specified.")
    bias = None
    if bias_axes is not None:
        offset = elided if left else 0
        sizes = {c: out[i + offset] for i, c in enumerate(output_spec)}
        for c in bias_axes:
            if c not in output_spec:
                raise ValueError(f"Bias dimension '{c}' was requested, but is not part of the output spec "
                                 f"'{output_spec}'")
        first = min(output_spec.find(c) for c in bias_axes)
        bias = [sizes[c] if c in bias_axes else 1 for c in output_spec[first:]]
        if not left:
            bias += [1] * elided
    return kernel, bias, out


@register("Core")
class EinsumDense(Layer):
    """A dense layer of any rank, written as an einsum equation: ``einsum(equation, inputs, kernel)``
    plus an optional bias over ``bias_axes``, then ``activation``.

    ``EinsumDense("ab,bc->ac", output_shape=64)`` is ``Dense(64)``; ``"abc,cde->abde"`` with
    ``output_shape=(None, heads, key_dim)`` is a multi-head projection.

    Args:
        equation: ``input,kernel->output`` over single letters; ``...`` may stand for leading or
            trailing input axes.
        output_shape: the output shape without the batch axis (an int for rank 2); None entries are
            inferred from the input.
        activation: activation name or callable (None: linear).
        bias_axes: letters of the output axes that get a bias (None: no bias).
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, bias_constraint: as in Dense.

    Input shape:
        Matching the equation's input term, with the batch axis first.

    Output shape:
        ``(batch,) + output_shape`` with None entries filled in.
    """

    def __init__(self, equation, output_shape, activation=None, bias_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, lora_rank=None, lora_alpha=None, gptq_unpacked_column_size=None,
                 quantization_config=None, activity_regularizer=None, **kwargs):
        if lora_rank is not None or quantization_config is not None:
            raise ValueError("EinsumDense: LoRA and quantization are not supported by the engine. "
                             f"Received: lora_rank={lora_rank!r}, quantization_config={quantization_config!r}")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(equation, str):
            raise ValueError(f"EinsumDense: `equation` must be a string such as 'ab,bc->ac'. Received: {equation!r}")
        self.equation = equation
        self.partial_output_shape = (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self._full_output_shape = None

    def build(self, input_shape):
        kernel_shape, bias_shape, full = _analyze_einsum(self.equation, self.bias_axes, tuple(input_shape),
                                                         self.partial_output_shape)
        if any(d is None for d in kernel_shape):
            raise ValueError(f"{describe(self)}: the kernel shape {tuple(kernel_shape)} has unknown sizes for an input "
                             f"of shape {tuple(input_shape)}; give the input's feature axes known sizes.")
        self._full_output_shape = tuple(full)
        self.kernel = self.add_weight(shape=tuple(kernel_shape), initializer=self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if bias_shape is not None:
            self.bias = self.add_weight(shape=tuple(bias_shape), initializer=self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None
        self.built = True

    def call(self, inputs):
        kernel = self.kernel
        x = cast_for_kernel(inputs, kernel)
        y = torch.einsum(self.equation, x, kernel)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        _, _, full = _analyze_einsum(self.equation, self.bias_axes, tuple(input_shape), self.partial_output_shape)
        return tuple(full)

    def get_config(self):
        config = super().get_config()
        config.update({
            "output_shape": self.partial_output_shape,
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": activity_regularizer_config(self),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,
        })
        return config


# ---------------------------------------------------------------------------- MultiHeadAttention
def _projection_equation(free_dims, bound_dims, output_dims):
    """Keras's projection equation: free axes pass through, bound axes are contracted with the kernel,
    output axes come from the kernel (and get the bias)."""
    letters = string.ascii_lowercase
    free = letters[:free_dims]
    bound = letters[free_dims:free_dims + bound_dims]
    out = letters[free_dims + bound_dims:free_dims + bound_dims + output_dims]
    return f"{free}{bound},{bound}{out}->{free}{out}", out, len(free + out)


def _attention_equations(rank, attn_axes):
    """The query-key product and the combination equations over projected ``(B, ..., heads, dim)``
    tensors, attending over ``attn_axes`` (Keras's layout of the scores: batch dims, heads, query
    attention dims, key attention dims)."""
    letters = string.ascii_lowercase
    target = letters[:rank]
    batch_dims = [i for i in range(rank) if i not in attn_axes and i != rank - 1]
    source, offset = "", rank
    for i in range(rank):
        if i in batch_dims or i == rank - 1:
            source += target[i]
        else:
            source += letters[offset]
            offset += 1
    product = "".join([target[i] for i in batch_dims] + [target[i] for i in attn_axes] + [source[i] for i in attn_axes])
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


@register("Attention")
class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al., 2017), as ``keras.layers.MultiHeadAttention``.

    ``query``, ``key`` and ``value`` are projected to ``num_heads`` heads, the query is scaled by
    ``1 / sqrt(key_dim)``, the softmax of the query-key products (over the attended axes) weights the
    values, and the heads are projected back to the query's last size (or ``output_shape``).

    Args:
        num_heads: number of attention heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value (default ``key_dim``).
        dropout: dropout rate on the attention probabilities (training only).
        use_bias: whether the projections have biases.
        use_gate: multiply the attention output by a sigmoid gate projected from the query.
        output_shape: the output's last axes (default: the query's last size).
        attention_axes: the axes attention runs over (default: all but batch, heads and features).
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, bias_constraint: for the projections.
        seed: seed of the dropout.

    Call arguments:
        query: ``(B, T, dim)``; value: ``(B, S, dim)``; key: optional ``(B, S, dim)`` (default value).
        value_mask, key_mask: optional boolean ``(B, S)`` masks (in a model the inputs' masks are used).
        query_mask: accepted but ignored, as in Keras 3: the query's mask comes from the model.
        attention_mask: optional boolean ``(B, T, S)``: True where a query may attend.
        return_attention_scores: also return the ``(B, heads, T, S)`` attention probabilities.
        use_causal_mask: each query position attends only to positions up to its own.
        training: whether dropout is active.

    Output shape:
        ``(B, T, dim)`` (the query's shape, or ``output_shape`` on the last axes).
    """

    # Keras writes mha(query, value, key=...) as positional args [query, value] (and a `key` kwarg),
    # not as one list: the model config writer and reader spread/gather the node's tensors.
    positional_inputs = ("query", "value", "key")

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, use_gate=False,
                 output_shape=None, attention_axes=None, flash_attention=None, sliding_window=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.num_heads = positive_int("num_heads", num_heads)
        self.key_dim = positive_int("key_dim", key_dim)
        self.value_dim = positive_int("value_dim", value_dim) if value_dim is not None else self.key_dim
        if not 0.0 <= float(dropout) <= 1.0:
            raise ValueError(f"Invalid value for argument `dropout`: expected a float between 0 and 1. "
                             f"Received: dropout={dropout!r}")
        self.dropout = dropout
        self.use_bias = bool(use_bias)
        self.use_gate = bool(use_gate)
        if output_shape is not None:
            output_shape = (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
        self._output_shape = output_shape
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(f"`attention_axes` must be an int, list, or tuple. Received: "
                             f"attention_axes={attention_axes!r}")
        self.attention_axes = None if attention_axes is None else tuple(attention_axes)
        self.flash_attention = flash_attention
        if sliding_window is not None:
            sliding_window = positive_int("sliding_window", sliding_window)
        self.sliding_window = sliding_window
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.mha_activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._return_scores_symbolic = False

    # -- calling convention: mha(query, value, key=None, ...), recorded as one node over [q, v(, k)]
    def __call__(self, query=None, value=None, key=None, **kwargs):
        if "inputs" in kwargs:  # called on a packed list (a file's node, or a user's list)
            query = kwargs.pop("inputs")
        if isinstance(query, (list, tuple)) and value is None:
            query, value, key = (list(query) + [None])[:3]
        if query is None or value is None:
            raise TypeError(f"{describe(self)} needs `query` and `value` tensors, e.g. mha(query, value).")
        inputs = [query, value] + ([key] if key is not None else [])
        self._return_scores_symbolic = bool(kwargs.get("return_attention_scores", False))
        return super().__call__(inputs, **kwargs)

    def _common(self, name):
        return dict(name=name, kernel_initializer=initializers.get(initializers.serialize(self.kernel_initializer)),
                    bias_initializer=initializers.get(initializers.serialize(self.bias_initializer)),
                    kernel_regularizer=self.kernel_regularizer, bias_regularizer=self.bias_regularizer,
                    activity_regularizer=self.mha_activity_regularizer, kernel_constraint=self.kernel_constraint,
                    bias_constraint=self.bias_constraint, dtype=self._dtype)

    def _projection(self, rank, heads_dim, name, activation=None):
        equation, bias_axes, out_rank = _projection_equation(rank - 1, 1, 2)
        return EinsumDense(equation, output_shape=[None] * (out_rank - 1 - 2) + [self.num_heads, heads_dim],
                           bias_axes=bias_axes if self.use_bias else None, activation=activation,
                           **self._common(name))

    def build(self, input_shape):
        query_shape, value_shape = tuple(input_shape[0]), tuple(input_shape[1])
        key_shape = tuple(input_shape[2]) if len(input_shape) > 2 else value_shape
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(f"All dimensions of `value` and `key`, except the last one, must be equal. "
                             f"Received: value_shape={value_shape} and key_shape={key_shape}")
        # Sub-layers in Keras's order: their weights come out as query, key, (gate,) value, output.
        self.query_dense = self._projection(len(query_shape), self.key_dim, "query")
        self.query_dense.build(query_shape)
        self.key_dense = self._projection(len(key_shape), self.key_dim, "key")
        self.key_dense.build(key_shape)
        if self.use_gate:
            self.gate_dense = self._projection(len(query_shape), self.value_dim, "gate", activation="sigmoid")
            self.gate_dense.build(query_shape)
        self.value_dense = self._projection(len(value_shape), self.value_dim, "value")
        self.value_dense.build(value_shape)
        rank = len(value_shape) + 1  # projected: (B, ..., heads, dim)
        axes = self.attention_axes
        axes = tuple(range(1, rank - 2)) if axes is None else tuple(a if a >= 0 else rank - 1 + a for a in axes)
        self._attn_axes = axes
        self._dot_equation, self._combine_equation, scores_rank = _attention_equations(rank, axes)
        norm_axes = tuple(range(scores_rank - len(axes), scores_rank))
        self._softmax = Softmax(axis=norm_axes, name="softmax")
        self._dropout_layer = Dropout(rate=self.dropout, seed=self.seed, name="dropout")
        out_shape = self._output_shape or (query_shape[-1],)
        equation, bias_axes, out_rank = _projection_equation(len(query_shape) - 1, 2, len(out_shape))
        self.output_dense = EinsumDense(equation, output_shape=[None] * (out_rank - 1 - len(out_shape)) + list(out_shape),
                                        bias_axes=bias_axes if self.use_bias else None,
                                        **self._common("attention_output"))
        projected = list(self.query_dense.compute_output_shape(query_shape))
        projected[-1] = self.value_dim
        self.output_dense.build(tuple(projected))
        self.built = True

    def _attention_mask(self, query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask):
        auto = None

        def both(a, b):
            return b if a is None else a & b

        if query_mask is not None:
            auto = query_mask.bool().unsqueeze(-1)                 # (B, T, 1)
        if value_mask is not None:
            auto = both(auto, value_mask.bool().unsqueeze(-2))     # (B, 1, S)
        if key_mask is not None:
            auto = both(auto, key_mask.bool().unsqueeze(-2))
        t, s = query.shape[1], value.shape[1]
        if use_causal_mask:
            auto = both(auto, torch.ones((1, t, s), dtype=torch.bool, device=query.device).tril())
        if self.sliding_window is not None:
            rows = torch.arange(t, device=query.device).view(1, t, 1)
            cols = torch.arange(s, device=query.device).view(1, 1, s)
            auto = both(auto, (rows - cols).abs() < self.sliding_window)
        if attention_mask is not None:
            attention_mask = torch.as_tensor(attention_mask, device=query.device).bool()
        if auto is not None:
            attention_mask = auto if attention_mask is None else attention_mask & auto
        return attention_mask

    def call(self, inputs, mask=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=False, use_causal_mask=False):
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        # Keras 3 takes the query's mask only from the query tensor (a model's mask), never from the
        # `query_mask` argument, which it overwrites; the engine does the same so results agree.
        query_mask = None
        if mask is not None:  # masks of the inputs, from a model (Keras reads them off the tensors)
            masks = list(mask) + [None] * 3
            query_mask = masks[0]
            value_mask = masks[1] if value_mask is None else value_mask
            if len(inputs) > 2 and key_mask is None:
                key_mask = masks[2]
        attention_mask = self._attention_mask(query, value, query_mask, value_mask, key_mask, attention_mask,
                                              use_causal_mask)
        gate = self.gate_dense(query) if self.use_gate else None
        q = self.query_dense(query)
        k = self.key_dense(key)
        v = self.value_dense(value)
        if self.dropout == 0 and not return_attention_scores and q.dim() == 4:
            out = self._fused_attention(q, k, v, attention_mask)
            out = self.output_dense(out if gate is None else out * gate)
            return out
        q = q * (1.0 / math.sqrt(float(self.key_dim)))
        scores = torch.einsum(self._dot_equation, k, q)
        if attention_mask is not None:
            # (B, T, S) -> (B, 1, T, S): one axis per head (and per extra batch axis) before the attended axes.
            for _ in range(scores.dim() - attention_mask.dim()):
                attention_mask = attention_mask.unsqueeze(-len(self._attn_axes) * 2 - 1)
        probs = self._softmax(scores, mask=attention_mask)
        dropped = self._dropout_layer(probs, training=training) if self.dropout > 0 else probs
        out = torch.einsum(self._combine_equation, dropped, v)
        if gate is not None:
            out = out * gate
        out = self.output_dense(out)
        if return_attention_scores:
            return [out, probs]
        return out

    def _fused_attention(self, q, k, v, attention_mask):
        """Keras's path without dropout or returned scores: torch's scaled_dot_product_attention with
        masked positions at a large negative logit. (A query with every position masked then attends
        uniformly, as in Keras, where the softmax path would give zeros.)"""
        bias = None
        if attention_mask is not None:
            m = attention_mask
            while m.dim() < 4:
                m = m.unsqueeze(-3)  # (B, T, S) -> (B, 1, T, S): the same for every head
            large = 65500.0 if q.dtype == torch.float16 else 3.38953e38
            bias = torch.where(m, torch.zeros((), dtype=q.dtype, device=q.device),
                               torch.full((), -0.7 * large, dtype=q.dtype, device=q.device)).contiguous()
        out = torch.nn.functional.scaled_dot_product_attention(
            q.transpose(1, 2).contiguous(), k.transpose(1, 2).contiguous(), v.transpose(1, 2).contiguous(),
            attn_mask=bias, scale=1.0 / math.sqrt(float(self.key_dim)))
        return out.transpose(1, 2)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        first = mask[0] if isinstance(mask, (list, tuple)) else mask
        return [first, None] if self._return_scores_symbolic else first

    def compute_output_shape(self, input_shape):
        query_shape, value_shape = tuple(input_shape[0]), tuple(input_shape[1])
        key_shape = tuple(input_shape[2]) if len(input_shape) > 2 else value_shape
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(f"All dimensions of `value` and `key`, except the last one, must be equal. "
                             f"Received: value_shape={value_shape} and key_shape={key_shape}")
        out = query_shape[:-1] + (self._output_shape or (query_shape[-1],))
        if self._return_scores_symbolic:
            return [out, (query_shape[0], self.num_heads, query_shape[1], value_shape[1])]
        return out

    def get_build_config(self):
        node = self._inbound_nodes[0] if self._inbound_nodes else None
        if node is None:
            return None
        shapes = [list(t.shape) for t in node.arguments]
        out = {"query_shape": shapes[0], "value_shape": shapes[1]}
        if len(shapes) > 2:
            out["key_shape"] = shapes[2]
        return {"shapes_dict": out}

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "use_gate": self.use_gate,
            "output_shape": self._output_shape,
            "attention_axes": self.attention_axes,
            "sliding_window": self.sliding_window,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.mha_activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "seed": self.seed,
        })
        return config


@register("Attention", "GroupQueryAttention")
class GroupedQueryAttention(MultiHeadAttention):
    """Grouped-query attention (Ainslie et al., 2023), as ``keras.layers.GroupQueryAttention``: the
    ``num_query_heads`` query heads share ``num_key_value_heads`` key/value heads (each key/value head
    serves ``num_query_heads // num_key_value_heads`` query heads).

    Args:
        head_dim: size of each head.
        num_query_heads: number of query heads.
        num_key_value_heads: number of key and value heads; must divide ``num_query_heads``.
        dropout, use_bias, use_gate, sliding_window, initializers, regularizers, constraints, seed:
            as ``MultiHeadAttention``.

    Call arguments:
        query ``(B, T, dim)``, value ``(B, S, dim)``, key (optional), query_mask, value_mask, key_mask,
        attention_mask, return_attention_scores, training, use_causal_mask.

    Output shape:
        ``(B, T, dim)``.
    """

    # Keras's class is GroupedQueryAttention (its weights live under grouped_query_attention/_query_dense/...)
    # but files name it by its export, GroupQueryAttention.
    keras_class_name = "GroupQueryAttention"

    def __init__(self, head_dim, num_query_heads, num_key_value_heads, dropout=0.0, use_bias=True,
                 sliding_window=None, flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None, **kwargs):
        num_query_heads = positive_int("num_query_heads", num_query_heads)
        num_key_value_heads = positive_int("num_key_value_heads", num_key_value_heads)
        if num_query_heads % num_key_value_heads:
            raise ValueError("`num_query_heads` must be divisible by `num_key_value_heads`.")
        super().__init__(num_heads=num_query_heads, key_dim=head_dim, dropout=dropout, use_bias=use_bias,
                         use_gate=use_gate, sliding_window=sliding_window, kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, seed=seed, **kwargs)
        self.head_dim = self.key_dim
        self.num_query_heads = num_query_heads
        self.num_key_value_heads = num_key_value_heads
        self.num_repeats = num_query_heads // num_key_value_heads

    def _dense(self, equation, output_shape, bias_axes, name, activation=None):
        return EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes if self.use_bias else None,
                           activation=activation, **self._common(name))

    def build(self, input_shape):
        query_shape, value_shape = tuple(input_shape[0]), tuple(input_shape[1])
        key_shape = tuple(input_shape[2]) if len(input_shape) > 2 else value_shape
        self.feature_dim = query_shape[-1]
        h, q, kv = self.head_dim, self.num_query_heads, self.num_key_value_heads
        self._query_dense = self._dense("bqm,muh->bquh", (None, q, h), "uh", "query")
        self._query_dense.build(query_shape)
        self._key_dense = self._dense("bkm,mvh->bkvh", (None, kv, h), "vh", "key")
        self._key_dense.build(key_shape)
        if self.use_gate:
            self._gate_dense = self._dense("bqm,muh->bquh", (None, q, h), "uh", "gate", activation="sigmoid")
            self._gate_dense.build(query_shape)
        self._value_dense = self._dense("bkm,mvh->bkvh", (None, kv, h), "vh", "value")
        self._value_dense.build(value_shape)
        self._softmax = Softmax(axis=-1, name="softmax")
        self._dropout_layer = Dropout(rate=self.dropout, seed=self.seed, name="dropout")
        self._output_dense = self._dense("bquh,uhm->bqm", (None, self.feature_dim), "m", "attention_output")
        self._output_dense.build((None, None, q, h))
        self.built = True

    def call(self, inputs, mask=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=False, use_causal_mask=False):
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        if mask is not None:  # masks of the inputs, from a model
            masks = list(mask) + [None] * 3
            query_mask = masks[0] if query_mask is None else query_mask
            value_mask = masks[1] if value_mask is None else value_mask
        attention_mask = self._attention_mask(query, value, query_mask, value_mask, key_mask, attention_mask,
                                              use_causal_mask)
        gate = self._gate_dense(query) if self.use_gate else None
        q = self._query_dense(query)
        k = torch.repeat_interleave(self._key_dense(key), self.num_repeats, dim=2)
        v = torch.repeat_interleave(self._value_dense(value), self.num_repeats, dim=2)
        if self.dropout == 0 and not return_attention_scores:
            out = self._fused_attention(q, k, v, attention_mask)
            return self._output_dense(out if gate is None else out * gate)
        scores = torch.einsum("bquh,bkuh->buqk", q * (1.0 / math.sqrt(float(self.head_dim))), k)
        if attention_mask is not None:
            while attention_mask.dim() < scores.dim():
                attention_mask = attention_mask.unsqueeze(-3)
        probs = self._softmax(scores, mask=attention_mask)
        dropped = self._dropout_layer(probs, training=training) if self.dropout > 0 else probs
        out = torch.einsum("buqk,bkuh->bquh", dropped, v)
        out = self._output_dense(out if gate is None else out * gate)
        return [out, probs] if return_attention_scores else out

    def compute_output_shape(self, input_shape):
        query_shape, value_shape = tuple(input_shape[0]), tuple(input_shape[1])
        if self._return_scores_symbolic:
            return [query_shape, (query_shape[0], self.num_query_heads, query_shape[1], value_shape[1])]
        return query_shape

    def get_config(self):
        config = Layer.get_config(self)
        config.update({
            "head_dim": self.head_dim,
            "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "use_bias": self.use_bias,
            "use_gate": self.use_gate,
            "sliding_window": self.sliding_window,
            "dropout": self.dropout,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.mha_activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "seed": self.seed,
        })
        return config


GroupQueryAttention = GroupedQueryAttention


# ---------------------------------------------------------------------------- Attention / AdditiveAttention
class _BaseDenseAttention(Layer):
    """Shared by Attention and AdditiveAttention: inputs ``[query, value(, key)]``, masks
    ``[query_mask, value_mask]``, masked softmax over the value steps, dropout, optional scores."""

    def __init__(self, dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= float(dropout) <= 1.0:
            raise ValueError(f"Invalid value for argument `dropout`: expected a float between 0 and 1. "
                             f"Received: dropout={dropout!r}")
        self.dropout = dropout
        self.seed = seed
        self._dropout_layer = Dropout(rate=dropout, seed=seed, name="dropout") if dropout > 0 else None
        self.supports_masking = True
        self._return_scores_symbolic = False

    def __call__(self, inputs=None, *args, **kwargs):
        self._return_scores_symbolic = bool(kwargs.get("return_attention_scores", False))
        return super().__call__(inputs, *args, **kwargs)

    def _validate(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) not in (2, 3) \
                or not all(isinstance(s, (list, tuple)) for s in input_shape):
            raise ValueError(f"{describe(self)} must be called on a list of inputs, namely [query, value] or "
                             f"[query, value, key]. Received: {input_shape!r}")

    def call(self, inputs, mask=None, training=False, return_attention_scores=False, use_causal_mask=False):
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask = mask[0] if mask is not None else None
        v_mask = mask[1] if mask is not None and len(mask) > 1 else None
        scores = self._scores(q, k)
        scores_mask = None if v_mask is None else torch.as_tensor(v_mask, device=scores.device).bool().unsqueeze(-2)
        if use_causal_mask:
            causal = torch.ones(scores.shape[-2:], dtype=torch.bool, device=scores.device).tril().unsqueeze(0)
            scores_mask = causal if scores_mask is None else scores_mask & causal
        if scores_mask is not None:
            big = 65504.0 if scores.dtype == torch.float16 else 1.0e9
            scores = torch.where(scores_mask, scores, scores - big)
        weights = torch.softmax(scores, dim=-1)
        if training and self._dropout_layer is not None:
            weights = self._dropout_layer(weights, training=True)
        out = torch.matmul(weights, v)
        if q_mask is not None:
            out = torch.where(torch.as_tensor(q_mask, device=out.device).bool().unsqueeze(-1), out,
                              torch.zeros((), dtype=out.dtype, device=out.device))
        if return_attention_scores:
            return [out, weights]
        return out

    def compute_mask(self, inputs, mask=None):
        first = None if mask is None else mask[0]
        return [first, None] if self._return_scores_symbolic else first

    def compute_output_shape(self, input_shape):
        self._validate(input_shape)
        q, v = tuple(input_shape[0]), tuple(input_shape[1])
        k = tuple(input_shape[2]) if len(input_shape) > 2 else v
        out = q[:-1] + (v[-1],)
        if self._return_scores_symbolic:
            return [out, q[:-1] + (k[-2],)]
        return out


@register("Attention")
class Attention(_BaseDenseAttention):
    """Dot-product attention (Luong): ``softmax(query @ key^T * scale) @ value``.

    Args:
        use_scale: learn a scalar ``scale`` for the scores (default False).
        score_mode: ``"dot"`` (query-key dot products) or ``"concat"``
            (``concat_score_weight * sum(tanh(scale * (query + key)))``).
        dropout: dropout rate on the attention weights (training only).
        seed: dropout seed.

    Call arguments:
        inputs: ``[query (B, Tq, dim), value (B, Tv, dim)]`` or ``[query, value, key (B, Tv, dim)]``.
        mask: optional ``[query_mask (B, Tq), value_mask (B, Tv)]``.
        return_attention_scores: also return the ``(B, Tq, Tv)`` weights.
        use_causal_mask: query step i attends only to value steps <= i.

    Output shape:
        ``(B, Tq, dim)``.
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(dropout=dropout, seed=seed, **kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"Invalid value for argument score_mode. Expected one of {{'dot', 'concat'}}. "
                             f"Received: score_mode={score_mode}")
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode

    def build(self, input_shape):
        self._validate(input_shape)
        self.scale = self.add_weight(shape=(), initializer="ones", name="scale") if self.use_scale else None
        self.concat_score_weight = (self.add_weight(shape=(), initializer="ones", name="concat_score_weight")
                                    if self.score_mode == "concat" else None)
        self.built = True

    def _scores(self, query, key):
        if self.score_mode == "dot":
            scores = torch.matmul(query, key.transpose(-2, -1))
            return scores * self.scale if self.scale is not None else scores
        summed = query.unsqueeze(-2) + key.unsqueeze(-3)
        if self.scale is not None:
            summed = self.scale * summed
        return self.concat_score_weight * torch.tanh(summed).sum(dim=-1)

    def get_config(self):
        config = super().get_config()
        config.update({"use_scale": self.use_scale, "score_mode": self.score_mode, "dropout": self.dropout,
                       "seed": self.seed})
        return config


@register("Attention")
class AdditiveAttention(_BaseDenseAttention):
    """Additive attention (Bahdanau): scores ``sum(scale * tanh(query + key))`` over the features.

    Args:
        use_scale: learn a per-feature ``scale`` vector (default True).
        dropout: dropout rate on the attention weights (training only).
        seed: dropout seed.

    Call arguments:
        As ``Attention``.

    Output shape:
        ``(B, Tq, dim)``.
    """

    def __init__(self, use_scale=True, dropout=0.0, seed=None, **kwargs):
        super().__init__(dropout=dropout, seed=seed, **kwargs)
        self.use_scale = bool(use_scale)

    def build(self, input_shape):
        self._validate(input_shape)
        dim = input_shape[0][-1]
        self.scale = self.add_weight(shape=(dim,), initializer="glorot_uniform", name="scale") \
            if self.use_scale else None
        self.built = True

    def _scores(self, query, key):
        t = torch.tanh(query.unsqueeze(-2) + key.unsqueeze(-3))
        return (self.scale * t).sum(dim=-1) if self.scale is not None else t.sum(dim=-1)

    def get_config(self):
        config = super().get_config()
        config.update({"use_scale": self.use_scale, "dropout": self.dropout, "seed": self.seed})
        return config
