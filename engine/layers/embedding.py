"""``Embedding``: turns integer token ids into dense vectors, as ``keras.layers.Embedding``."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from engine import backend, constraints, initializers, regularizers
from engine.layers.layer import Layer
from engine.layers.registry import register

__all__ = ["Embedding", "ReversibleEmbedding"]


def _check_positive_int(name, value):
    if isinstance(value, (np.integer,)):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"Embedding: `{name}` must be a positive integer. "
                         f"Received: {name}={value!r} (of type {type(value).__name__}).")
    return value


@register("Core")
class Embedding(Layer):
    """Turns non-negative integers (indices) into dense vectors of fixed size.

    ``Embedding(1000, 64)`` maps each id in ``[0, 1000)`` to a learned 64-dimensional vector.
    Only usable as the first layer of a model or after layers that output integer ids.

    Args:
        input_dim: size of the vocabulary, i.e. maximum integer index + 1.
        output_dim: dimension of the dense embedding.
        embeddings_initializer: initializer for the ``embeddings`` matrix (default ``"uniform"``:
            ``RandomUniform(-0.05, 0.05)``, as Keras; torch uses N(0, 1)).
        embeddings_regularizer: regularizer applied to the ``embeddings`` matrix.
        embeddings_constraint: constraint applied to the ``embeddings`` matrix.
        mask_zero: whether id 0 is a padding value that later layers should ignore. When True,
            ``compute_mask`` returns ``inputs != 0`` and id 0 cannot be used in the vocabulary
            (``input_dim`` should be vocabulary size + 1). Note: the engine's models do not yet pass
            masks from layer to layer automatically; recurrent layers accept ``mask=`` when called
            directly.
        weights: optional initial value, ``[matrix]`` or ``matrix`` of shape ``(input_dim, output_dim)``
            (Keras 2 style, e.g. pretrained GloVe vectors).
        input_length: Keras 2 argument: the length of input sequences. Kept so that old code runs; it
            gives a Sequential model its input shape ``(input_length,)``.

    Input shape:
        Integer tensor of shape ``(batch_size, ...)``, typically ``(batch_size, input_length)``.
        Float inputs are cast to integers.

    Output shape:
        ``(batch_size, ..., output_dim)``, float32.
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, weights=None, lora_rank=None, lora_alpha=None,
                 quantization_config=None, **kwargs):
        input_dim = _check_positive_int("input_dim", input_dim)
        output_dim = _check_positive_int("output_dim", output_dim)
        if lora_rank is not None:
            raise NotImplementedError(f"Embedding: LoRA is not supported by the engine. Received: "
                                      f"lora_rank={lora_rank!r}. Leave lora_rank=None.")
        if quantization_config is not None:
            raise NotImplementedError("Embedding: quantization is not supported by the engine. Received: "
                                      f"quantization_config={quantization_config!r}.")
        super().__init__(**kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        if weights is not None:
            # Keras builds at once so that pretrained vectors can be set without an input shape.
            if not (isinstance(weights, (list, tuple)) and len(weights) == 1):
                weights = [weights]
            self.build()
            self.built = True
            self.set_weights(weights)

    def build(self, input_shape=None):
        if getattr(self, "embeddings", None) is not None:
            return
        self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer, name="embeddings",
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint, trainable=True)
        self.built = True

    def call(self, inputs):
        if inputs.dtype not in (torch.int64, torch.int32):
            inputs = inputs.long()
        try:
            return F.embedding(inputs, self.embeddings)
        except IndexError:
            raise ValueError(
                f"Embedding layer {self.name!r}: every input id must be in [0, {self.input_dim}) "
                f"(input_dim={self.input_dim}). Received ids from {int(inputs.min())} to {int(inputs.max())}. "
                "Increase input_dim to the vocabulary size (+1 when id 0 is padding)."
            ) from None

    def compute_mask(self, inputs, mask=None):
        """``inputs != 0`` when ``mask_zero`` (the positions later layers should use), else None."""
        if not self.mask_zero:
            return None
        return inputs != 0

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def compute_output_dtype(self, input_dtype):
        # Ids come in as ints; the vectors go out in the layer's float dtype.
        return self.compute_dtype

    def get_config(self):
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self._activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "quantization_config": None,
        })
        return config


@register("Core")
class ReversibleEmbedding(Embedding):
    """An ``Embedding`` that can also be called in reverse, as ``keras.layers.ReversibleEmbedding``:
    ``layer(vectors, reverse=True)`` projects ``(..., output_dim)`` vectors back to ``(..., input_dim)``
    logits, with the transposed embeddings (``tie_weights=True``, the default) or a separate
    ``reverse_embeddings`` matrix ``(output_dim, input_dim)``. Language models use it to share the
    input embedding with the output layer.

    Args:
        input_dim, output_dim, embeddings_initializer, embeddings_regularizer, embeddings_constraint,
        mask_zero: as ``Embedding``.
        tie_weights: reuse the embeddings for the reverse projection (True).
        reverse_dtype: optional dtype of the reverse projection's computation.
        logit_soft_cap: if set, reverse logits become ``tanh(logits / cap) * cap``.

    Call arguments:
        inputs: ids, or vectors with ``reverse=True``.
        reverse: project vectors back to the vocabulary.
    """

    def __init__(self, input_dim, output_dim, tie_weights=True, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False, reverse_dtype=None,
                 logit_soft_cap=None, **kwargs):
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer, embeddings_constraint=embeddings_constraint,
                         mask_zero=mask_zero, **kwargs)
        self.tie_weights = bool(tie_weights)
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap
        self._reverse_symbolic = False

    def __call__(self, *args, **kwargs):
        self._reverse_symbolic = bool(kwargs.get("reverse", False))
        return super().__call__(*args, **kwargs)

    def build(self, input_shape=None):
        if getattr(self, "embeddings", None) is not None:
            return
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(shape=(self.output_dim, self.input_dim),
                                                      initializer=self.embeddings_initializer,
                                                      name="reverse_embeddings", trainable=True)
        self.built = True

    def call(self, inputs, reverse=False):
        if not reverse:
            return super().call(inputs)
        kernel = self.embeddings.t() if self.tie_weights else self.reverse_embeddings
        if self.reverse_dtype is not None:
            dtype = backend.torch_dtype(self.reverse_dtype)
            inputs, kernel = inputs.to(dtype), kernel.to(dtype)
        logits = torch.matmul(inputs, kernel)
        if self.logit_soft_cap is not None:
            logits = torch.tanh(logits / self.logit_soft_cap) * self.logit_soft_cap
        return logits

    def compute_mask(self, inputs, mask=None):
        return None if self._reverse_symbolic else super().compute_mask(inputs, mask)

    def compute_output_shape(self, input_shape):
        if self._reverse_symbolic:
            return tuple(input_shape[:-1]) + (self.input_dim,)
        return super().compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"tie_weights": self.tie_weights, "reverse_dtype": self.reverse_dtype,
                       "logit_soft_cap": self.logit_soft_cap})
        return config
