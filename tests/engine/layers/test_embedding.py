import numpy as np
import pytest
import torch

import engine
from engine import layers as E
from engine.layers import registry
from tests.engine.layers.harness import check_against_keras


# ---------------------------------------------------------------- against Keras
@pytest.mark.parametrize("shape", [(3, 5), (2, 3, 4), (4,)])
def test_embedding_matches_keras(keras, shape):
    check_against_keras(lambda L: L.Embedding(12, 3), shape, keras=keras, input_dtype="int32", int_range=(0, 12))


def test_embedding_int64_and_float_ids_match_keras(keras):
    check_against_keras(lambda L: L.Embedding(7, 2), (3, 4), keras=keras, input_dtype="int64", int_range=(0, 7))
    # Float ids (numpy data loaded as float) are cast to ints, as Keras does.
    e = E.Embedding(7, 2)
    ids = np.array([[1, 2, 6]], dtype="float32")
    np.testing.assert_array_equal(e(ids).detach().numpy(), e.get_weights()[0][[1, 2, 6]][None])


def test_embedding_gradient_reaches_only_used_rows():
    e = E.Embedding(6, 2)
    e(torch.tensor([[1, 1, 4]])).sum().backward()
    grad = e.embeddings.grad.numpy()
    np.testing.assert_allclose(grad[1], [2.0, 2.0])
    np.testing.assert_allclose(grad[4], [1.0, 1.0])
    assert not grad[[0, 2, 3, 5]].any()


# ---------------------------------------------------------------- defaults, weights, mask
def test_embedding_default_initializer_is_keras_uniform():
    layer = E.Embedding(500, 40)
    layer.build(None)
    w = layer.get_weights()[0]
    assert w.shape == (500, 40)
    assert w.min() >= -0.05 and w.max() <= 0.05
    assert w.std() > 0.02  # uniform(-0.05, 0.05) has std 0.0289; N(0, 1) or zeros would fail


def test_embedding_pretrained_weights_keras2_style():
    matrix = np.arange(12, dtype="float32").reshape(4, 3)
    for weights in ([matrix], matrix):
        layer = E.Embedding(4, 3, weights=weights, trainable=False)
        assert layer.built
        np.testing.assert_array_equal(layer.get_weights()[0], matrix)
        np.testing.assert_array_equal(layer(torch.tensor([[3, 0]])).detach().numpy(), matrix[[3, 0]][None])
        assert layer.trainable_weights == []


def test_embedding_mask_zero():
    layer = E.Embedding(5, 2, mask_zero=True)
    ids = torch.tensor([[3, 1, 0, 0]])
    np.testing.assert_array_equal(layer.compute_mask(ids).numpy(), [[True, True, False, False]])
    assert E.Embedding(5, 2).compute_mask(ids) is None


def test_embedding_input_length_gives_sequential_input_shape():
    model = engine.Sequential([E.Embedding(50, 8, input_length=10), E.Flatten(), E.Dense(1)])
    assert model.output_shape == (None, 1)
    assert model.layers[0].output_shape == (None, 10, 8)


def test_embedding_symbolic_int_input_gives_float_output():
    x = engine.Input((7,), dtype="int32")
    y = E.Embedding(30, 4)(x)
    assert y.shape == (None, 7, 4)
    assert y.dtype == "float32"
    assert E.Embedding(3, 5).compute_output_shape((None, 2, 6)) == (None, 2, 6, 5)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs,bad", [(dict(input_dim=0, output_dim=3), "input_dim=0"),
                                        (dict(input_dim=5, output_dim=-2), "output_dim=-2"),
                                        (dict(input_dim=2.5, output_dim=2), "input_dim=2.5")])
def test_embedding_rejects_bad_sizes(kwargs, bad):
    with pytest.raises(ValueError, match=bad):
        E.Embedding(**kwargs)


def test_embedding_out_of_range_id_error_names_layer():
    layer = E.Embedding(5, 2, name="words")
    with pytest.raises(ValueError, match=r"'words'.*\[0, 5\)"):
        layer(torch.tensor([[1, 5]]))


# ---------------------------------------------------------------- config
def test_embedding_config_matches_keras(keras):
    e = E.Embedding(10, 3, mask_zero=True, name="emb")
    k = keras.layers.Embedding(10, 3, mask_zero=True, name="emb")
    ec, kc = e.get_config(), k.get_config()
    assert list(ec) == list(kc)
    for key in ("name", "trainable", "input_dim", "output_dim", "mask_zero", "embeddings_regularizer",
                "activity_regularizer", "embeddings_constraint", "quantization_config"):
        assert ec[key] == kc[key], key
    assert ec["embeddings_initializer"]["class_name"] == kc["embeddings_initializer"]["class_name"] == "RandomUniform"
    assert ec["embeddings_initializer"]["config"]["minval"] == -0.05


def test_embedding_from_config_round_trip_and_from_keras(keras):
    e = E.Embedding(10, 3, mask_zero=True, embeddings_initializer="he_normal", name="emb")
    again = E.Embedding.from_config(e.get_config())
    assert again.get_config() == e.get_config()
    k = keras.layers.Embedding(9, 2, name="kemb")
    from_k = E.Embedding.from_config(k.get_config())
    assert (from_k.input_dim, from_k.output_dim, from_k.name) == (9, 2, "kemb")
    # And Keras reads ours.
    back = keras.layers.Embedding.from_config(e.get_config())
    assert (back.input_dim, back.output_dim, back.mask_zero) == (10, 3, True)


def test_embedding_is_registered_in_core():
    assert registry.get_class("Embedding") is E.Embedding
    assert registry.category_of("Embedding") == "Core"
