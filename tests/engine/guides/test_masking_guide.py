"""keras.io "Understanding masking & padding" (Keras 3), on the engine and on Keras 3 in the same test:
pad_sequences, masks on concrete tensors (Embedding(mask_zero=True), Masking, a custom compute_mask), a
mask passed by hand to an LSTM, and a custom layer whose call reads the mask in a functional model;
masks and outputs compared on the same weights."""
import numpy as np
import torch

import engine

RAW = [[711, 632, 71], [73, 8, 3215, 55, 927], [83, 91, 1, 645, 1253, 927]]


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _eager_masks(K):
    layers, ops = K.layers, K.ops
    padded = K.utils.pad_sequences(RAW, padding="post")
    embedded = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(padded)
    unmasked = ops.cast(ops.tile(ops.expand_dims(padded, axis=-1), [1, 1, 10]), "float32")
    masked = layers.Masking()(unmasked)

    class TemporalSplit(layers.Layer):
        def call(self, inputs):
            return ops.split(inputs, 2, axis=1)

        def compute_mask(self, inputs, mask=None):
            return None if mask is None else ops.split(mask, 2, axis=1)

    first, second = TemporalSplit()(masked)
    return [_np(m) for m in (embedded._keras_mask, masked._keras_mask, first._keras_mask, second._keras_mask)]


def test_masks_on_concrete_tensors_match_keras(keras):
    for ours, theirs in zip(_eager_masks(engine), _eager_masks(keras)):
        np.testing.assert_array_equal(ours, theirs)


def _models(K):
    layers, ops = K.layers, K.ops
    K.utils.set_random_seed(0)

    class MyLayer(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.embedding = layers.Embedding(input_dim=50, output_dim=4, mask_zero=True)
            self.lstm = layers.LSTM(3)

        def call(self, inputs):
            x = self.embedding(inputs)
            return self.lstm(x, mask=self.embedding.compute_mask(inputs))

    class TemporalSoftmax(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs, mask=None):
            assert mask is not None
            broadcast_float_mask = ops.expand_dims(ops.cast(mask, "float32"), -1)
            inputs_exp = ops.exp(inputs) * broadcast_float_mask
            inputs_sum = ops.sum(inputs_exp * broadcast_float_mask, axis=-1, keepdims=True)
            return inputs_exp / inputs_sum

    inputs = K.Input(shape=(None,), dtype="int32")
    x = layers.Dense(1)(layers.Embedding(input_dim=10, output_dim=4, mask_zero=True)(inputs))
    return MyLayer(), K.Model(inputs, TemporalSoftmax()(x))


def test_masks_reach_call_in_layers_and_functional_models(keras):
    (my_ours, model_ours), (my_theirs, model_theirs) = _models(engine), _models(keras)
    tokens = np.random.default_rng(0).integers(0, 50, size=(4, 7)).astype("int32")
    tokens[:, 5:] = 0
    my_theirs(tokens)
    my_ours(tokens)
    my_ours.set_weights([_np(w) for w in my_theirs.get_weights()])
    np.testing.assert_allclose(_np(my_ours(tokens)), _np(my_theirs(tokens)), rtol=1e-5, atol=1e-6)
    assert [tuple(t.shape) for t in model_ours.outputs] == [tuple(t.shape) for t in model_theirs.outputs]
    model_ours.set_weights([_np(w) for w in model_theirs.get_weights()])
    small = tokens % 10
    np.testing.assert_allclose(_np(model_ours(small)), _np(model_theirs(small)), rtol=1e-5, atol=1e-6)


def test_symbolic_masks_are_found_as_keras(keras):
    def shapes(K):
        class MyActivation(K.layers.Layer):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.supports_masking = True

            def call(self, inputs):
                return K.ops.relu(inputs)

        inputs = K.Input(shape=(None,), dtype="int32")
        embedded = K.layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
        activated = MyActivation()(embedded)
        pooled = K.layers.Dense(3)(K.layers.Embedding(10, 2)(inputs))  # no mask_zero: no mask
        masks = [getattr(t, "_keras_mask", None) for t in (inputs, embedded, activated, pooled)]
        return [None if m is None else tuple(m.shape) for m in masks]

    assert shapes(engine) == shapes(keras) == [None, (None, None), (None, None), None]
