"""Merge layers: combine a list of tensors (``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``,
``Minimum``, ``Concatenate``, ``Dot``) and their functional forms (``add([a, b])``...)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from engine import backend
from engine.layers.layer import Layer
from engine.layers.registry import register

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"]


def _shapes_str(shapes):
    return str([tuple(s) for s in shapes])


class _Merge(Layer):
    """Base of the element-wise merges: the non-batch shapes broadcast as in Keras.

    Shapes of the same rank must agree in every dimension, except where one of them is 1 or unknown
    (None). An input of lower rank gets new axes after the batch axis.
    """

    _min_inputs = 1
    _max_inputs = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _error(self, message):
        return ValueError(f"{type(self).__name__} layer {self.name!r}: {message}")

    def compute_mask(self, inputs, mask=None):
        # Keras: a step is kept when any input keeps it; an unmasked input makes the output unmasked.
        if mask is None or not isinstance(mask, (list, tuple)) or any(m is None for m in mask):
            return None
        out = mask[0]
        for m in mask[1:]:
            out = out | m
        return out

    def _check_list(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or \
                not all(isinstance(s, (list, tuple)) for s in input_shape):
            raise self._error(f"a merge layer must be called on a list of tensors, e.g. "
                              f"{type(self).__name__}()([a, b]). Received: input_shape={input_shape}")
        n = len(input_shape)
        if n < self._min_inputs or (self._max_inputs is not None and n > self._max_inputs):
            want = (f"exactly {self._min_inputs}" if self._min_inputs == self._max_inputs
                    else f"at least {self._min_inputs}")
            raise self._error(f"expects {want} inputs; received {n}: {_shapes_str(input_shape)}")
        batch = {s[0] for s in input_shape if len(s)} - {None}
        if len(batch) > 1:
            raise self._error(f"inputs must have the same batch size; received {_shapes_str(input_shape)}")
        return [tuple(s) for s in input_shape], (batch.pop() if batch else None)

    def _broadcast(self, shape1, shape2, all_shapes):
        # Keras's Merge._compute_elemwise_op_output_shape, on the non-batch shapes.
        if len(shape1) < len(shape2):
            shape1, shape2 = shape2, shape1
        if not shape2:
            return shape1
        out = list(shape1[:len(shape1) - len(shape2)])
        for i, j in zip(shape1[len(shape1) - len(shape2):], shape2):
            if i is None or j is None:
                out.append(None)
            elif i == 1:
                out.append(j)
            elif j == 1 or i == j:
                out.append(i)
            else:
                raise self._error(f"inputs must have the same shape (or sizes of 1 that broadcast); "
                                  f"received {_shapes_str(all_shapes)}")
        return tuple(out)

    def compute_output_shape(self, input_shape):
        shapes, batch = self._check_list(input_shape)
        out = shapes[0][1:]
        for s in shapes[1:]:
            out = self._broadcast(out, s[1:], shapes)
        return (batch,) + tuple(out)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise self._error(f"a merge layer must be called on a list of tensors. Received: {type(inputs).__name__}")
        rank = inputs[0].dim()
        if any(x.dim() != rank for x in inputs):
            # Lower-rank inputs get new axes right after the batch axis, as Keras does.
            rank = max(x.dim() for x in inputs)
            inputs = [x.reshape(x.shape[:1] + (1,) * (rank - x.dim()) + x.shape[1:]) for x in inputs]
        return self._merge(list(inputs))

    def _merge(self, inputs):
        raise NotImplementedError


@register("Merge")
class Add(_Merge):
    """Adds a list of inputs element-wise.

    Args:
        **kwargs: base layer arguments (``name``, ``dtype``...).

    Input shape:
        A list of tensors of the same shape (dimensions of size 1 broadcast).

    Output shape:
        The common (broadcast) shape.
    """

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


@register("Merge")
class Subtract(_Merge):
    """Subtracts two inputs: ``inputs[0] - inputs[1]``.

    Args:
        **kwargs: base layer arguments (``name``, ``dtype``...).

    Input shape:
        A list of exactly two tensors of the same shape (dimensions of size 1 broadcast).

    Output shape:
        The common (broadcast) shape.
    """

    _min_inputs = _max_inputs = 2

    def _merge(self, inputs):
        if len(inputs) != 2:
            raise self._error(f"expects exactly 2 inputs; received {len(inputs)}")
        return inputs[0] - inputs[1]


@register("Merge")
class Multiply(_Merge):
    """Multiplies a list of inputs element-wise.

    Args:
        **kwargs: base layer arguments (``name``, ``dtype``...).

    Input shape:
        A list of tensors of the same shape (dimensions of size 1 broadcast).

    Output shape:
        The common (broadcast) shape.
    """

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


@register("Merge")
class Average(_Merge):
    """Averages a list of inputs element-wise.

    Args:
        **kwargs: base layer arguments (``name``, ``dtype``...).

    Input shape:
        A list of tensors of the same shape (dimensions of size 1 broadcast).

    Output shape:
        The common (broadcast) shape.
    """

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out / len(inputs)


@register("Merge")
class Maximum(_Merge):
    """Element-wise maximum of a list of inputs.

    Args:
        **kwargs: base layer arguments (``name``, ``dtype``...).

    Input shape:
        A list of tensors of the same shape (dimensions of size 1 broadcast).

    Output shape:
        The common (broadcast) shape.
    """

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = torch.maximum(out, x)
        return out


@register("Merge")
class Minimum(_Merge):
    """Element-wise minimum of a list of inputs.

    Args:
        **kwargs: base layer arguments (``name``, ``dtype``...).

    Input shape:
        A list of tensors of the same shape (dimensions of size 1 broadcast).

    Output shape:
        The common (broadcast) shape.
    """

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = torch.minimum(out, x)
        return out


@register("Merge")
class Concatenate(_Merge):
    """Concatenates a list of inputs along ``axis``.

    Args:
        axis: the concatenation axis (``-1``: the channels/features axis).
        **kwargs: base layer arguments (``name``, ``dtype``...).

    Input shape:
        A list of tensors of the same rank whose shapes agree on every axis except ``axis``.

    Output shape:
        The common shape, with the sizes along ``axis`` summed (None if one of them is unknown).
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise ValueError(f"Concatenate: axis must be an int. Received: axis={axis!r}")
        self.axis = axis

    def compute_output_shape(self, input_shape):
        shapes, _ = self._check_list(input_shape)
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes):
            raise self._error(f"inputs must have the same rank; received {_shapes_str(shapes)}")
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise self._error(f"axis {self.axis} is not a valid concatenation axis for inputs of rank {rank} "
                              f"(the batch axis 0 cannot be used); received {_shapes_str(shapes)}")
        axis = self.axis % rank
        out = []
        for d in range(rank):
            sizes = [s[d] for s in shapes]
            if d == axis:
                out.append(None if None in sizes else sum(sizes))
                continue
            known = {v for v in sizes if v is not None}
            if len(known) > 1:
                raise self._error(f"inputs must have matching shapes except along the concatenation axis "
                                  f"{self.axis}; received {_shapes_str(shapes)}")
            out.append(known.pop() if known else None)
        return tuple(out)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_mask(self, inputs, mask=None):
        # Keras: each input's mask spread over its features (all True when unmasked), concatenated on
        # the axis, then any() over the last axis.
        if mask is None or not isinstance(mask, (list, tuple)) or all(m is None for m in mask):
            return None

        parts = []
        for x, m in zip(inputs, mask):
            if m is None:
                parts.append(torch.ones(x.shape, dtype=torch.bool, device=x.device))
            elif m.dim() < x.dim():
                parts.append(m.bool().unsqueeze(-1).expand(x.shape))
            else:
                parts.append(m.bool())
        return torch.cat(parts, dim=self.axis).any(dim=-1)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise self._error(f"Concatenate must be called on a list of tensors. Received: {type(inputs).__name__}")
        return torch.cat(list(inputs), dim=self.axis)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


@register("Merge")
class Dot(_Merge):
    """Dot product of two inputs along one axis of each, per sample.

    With inputs of shapes ``(batch, n)`` and ``(batch, n)`` and ``axes=1`` the output is
    ``(batch, 1)``; with ``(batch, 3, 5)`` and ``(batch, 10, 3)`` and ``axes=(1, 2)`` it is
    ``(batch, 5, 10)``.

    Args:
        axes: an int, or a pair of ints (one axis per input). The batch axis 0 cannot be used.
        normalize: whether to L2-normalize both inputs along the dot axes first (the output is then
            the cosine similarity).
        **kwargs: base layer arguments (``name``, ``dtype``...).

    Input shape:
        A list of two tensors of rank >= 2 whose sizes along the dot axes agree.

    Output shape:
        The first input's shape without its dot axis, then the second's without its batch and dot
        axes; ``(batch, 1)`` if nothing remains.
    """

    _min_inputs = _max_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2:
                raise ValueError(f"Invalid format for argument `axes`: it should contain two elements. "
                                 f"Received: axes={axes}")
            if not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
                raise ValueError(f"Invalid format for argument `axes`: list elements should be integers. "
                                 f"Received: axes={axes}")
        elif not isinstance(axes, int) or isinstance(axes, bool):
            raise TypeError(f"Invalid type for argument `axes`: it should be a list or an int. Received: axes={axes}")
        self.axes = axes
        self.normalize = bool(normalize)

    def _resolve_axes(self, rank1, rank2):
        if isinstance(self.axes, int):
            axes = [self.axes % rank1, self.axes % rank2] if self.axes < 0 else [self.axes, self.axes]
        else:
            axes = [a % r if a < 0 else a for a, r in zip(self.axes, (rank1, rank2))]
        return axes

    def compute_output_shape(self, input_shape):
        shapes, batch = self._check_list(input_shape)
        s1, s2 = shapes
        if len(s1) < 2 or len(s2) < 2:
            raise self._error(f"inputs must have rank >= 2 (batch plus features); received {_shapes_str(shapes)}")
        a1, a2 = self._resolve_axes(len(s1), len(s2))
        if not (0 < a1 < len(s1) and 0 < a2 < len(s2)):
            raise self._error(f"axes={self.axes} is out of range or names the batch axis 0 for inputs "
                              f"{_shapes_str(shapes)}")
        if s1[a1] is not None and s2[a2] is not None and s1[a1] != s2[a2]:
            raise self._error(f"the sizes along the dot axes differ: {s1[a1]} (axis {a1} of the first input) "
                              f"!= {s2[a2]} (axis {a2} of the second); received {_shapes_str(shapes)}")
        out = [batch] + [d for i, d in enumerate(s1) if i not in (0, a1)] + \
              [d for i, d in enumerate(s2) if i not in (0, a2)]
        if len(out) == 1:
            out.append(1)
        return tuple(out)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_mask(self, inputs, mask=None):
        return None

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise self._error("Dot must be called on a list of exactly 2 tensors.")
        x, y = inputs
        a1, a2 = self._resolve_axes(x.dim(), y.dim())
        if self.normalize:
            x = F.normalize(x, dim=a1, eps=backend.epsilon())
            y = F.normalize(y, dim=a2, eps=backend.epsilon())
        # (B, ..., n) @ (B, n, ...) as one batched matmul over the flattened other axes.
        x = x.movedim(a1, -1)
        y = y.movedim(a2, 1)
        batch, n = x.shape[0], x.shape[-1]
        rest_x, rest_y = x.shape[1:-1], y.shape[2:]
        out = torch.bmm(x.reshape(batch, math.prod(rest_x), n), y.reshape(batch, n, math.prod(rest_y)))
        shape = (batch,) + tuple(rest_x) + tuple(rest_y)
        return out.reshape(shape if len(shape) > 1 else (batch, 1))

    def get_config(self):
        config = super().get_config()
        config.update({"axes": self.axes, "normalize": self.normalize})
        return config


def add(inputs, **kwargs):
    """Functional form of ``Add``: ``add([a, b])`` is ``Add()([a, b])``."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Functional form of ``Subtract``: ``subtract([a, b])`` is ``a - b``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Functional form of ``Multiply``."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Functional form of ``Average``."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Functional form of ``Maximum``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Functional form of ``Minimum``."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of ``Concatenate``: ``concatenate([a, b], axis=-1)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, **kwargs):
    """Functional form of ``Dot``: ``dot([a, b], axes=1)``."""
    return Dot(axes=axes, **kwargs)(inputs)
