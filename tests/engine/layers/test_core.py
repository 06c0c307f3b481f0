"""Core layers (Dense, Activation, Dropout, Flatten, Reshape, Permute, RepeatVector) against Keras 3."""
import numpy as np
import pytest
import torch

import engine
from engine import layers as E
from engine.layers import registry
from tests.engine.layers.harness import check_against_keras, check_config_against_keras


# ---------------------------------------------------------------- forward/backward against Keras
@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3), (2, 3, 2, 3)])
@pytest.mark.parametrize("kwargs", [dict(), dict(activation="relu"), dict(use_bias=False, activation="tanh")])
def test_dense_matches_keras(keras, shape, kwargs):
    check_against_keras(lambda L: L.Dense(4, **kwargs), shape, keras=keras)


def test_dense_softmax_matches_keras(keras):
    check_against_keras(lambda L: L.Dense(5, activation="softmax"), (3, 6), keras=keras)


@pytest.mark.parametrize("activation", ["relu", "softmax", "tanh", "sigmoid", "elu", "selu", "softplus", "gelu",
                                        "silu", "linear", "relu6", "hard_sigmoid", "exponential"])
def test_activation_matches_keras(keras, activation):
    check_against_keras(lambda L: L.Activation(activation), (3, 5), keras=keras)


def test_dropout_is_identity_at_inference(keras):
    check_against_keras(lambda L: L.Dropout(0.5), (4, 6), keras=keras, training=False)


@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 4, 5), (3,)])
def test_flatten_matches_keras(keras, shape):
    check_against_keras(lambda L: L.Flatten(), shape, keras=keras)


@pytest.mark.parametrize("target", [(6, 2), (-1, 3), (3, -1), (12,), (2, 2, 3)])
def test_reshape_matches_keras(keras, target):
    check_against_keras(lambda L: L.Reshape(target), (2, 4, 3), keras=keras)


@pytest.mark.parametrize("dims,shape", [((2, 1), (2, 3, 4)), ((3, 1, 2), (2, 3, 4, 5)), ((1, 2), (2, 3, 4))])
def test_permute_matches_keras(keras, dims, shape):
    check_against_keras(lambda L: L.Permute(dims), shape, keras=keras)


def test_repeat_vector_matches_keras(keras):
    check_against_keras(lambda L: L.RepeatVector(3), (2, 4), keras=keras)


def _copy_weights(src_layers, dst_layers):
    for s, d in zip(src_layers, dst_layers):
        d.set_weights(s.get_weights())


def test_conv_flatten_dense_chain_matches_keras(keras):
    """Flatten of an NHWC tensor must order features (h, w, c) as Keras does, so the Dense after it
    computes the same function with the same weights."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 4, 3)).astype("float32")

    def chain(L):
        return [L.Conv2D(4, 3, padding="same"), L.Flatten(), L.Dense(3)]

    e_chain, k_chain = chain(E), chain(keras.layers)
    e_y, k_y = torch.tensor(x), torch.tensor(x)
    for e_l, k_l in zip(e_chain, k_chain):
        e_y, k_y = e_l(e_y), k_l(k_y)
    _copy_weights(e_chain, k_chain)
    e_y, k_y = torch.tensor(x), torch.tensor(x)
    for e_l, k_l in zip(e_chain, k_chain):
        e_y, k_y = e_l(e_y), k_l(k_y)
    np.testing.assert_allclose(e_y.detach().numpy(), k_y.detach().numpy(), atol=1e-5)
    # Flatten alone: the same element order as numpy's C-order reshape of NHWC.
    np.testing.assert_array_equal(E.Flatten()(torch.tensor(x)).numpy(), x.reshape(2, -1))


# ---------------------------------------------------------------- Dropout in training
def test_dropout_training_drops_and_rescales():
    x = torch.ones(200, 50)
    y = E.Dropout(0.4)(x, training=True)
    zeros = (y == 0).float().mean().item()
    assert 0.35 < zeros < 0.45
    kept = y[y != 0]
    torch.testing.assert_close(kept, torch.full_like(kept, 1 / 0.6))


def test_dropout_noise_shape_broadcasts_the_mask():
    x = torch.ones(4, 10, 6)
    y = E.Dropout(0.5, noise_shape=(None, 1, 6), seed=3)(x, training=True)
    # The same features are dropped at every step of a sample.
    assert torch.equal(y, y[:, :1, :].expand_as(y))
    assert (y == 0).any() and (y != 0).any()


def test_dropout_seed_is_reproducible_and_rate_edges():
    x = torch.ones(8, 16)
    a = E.Dropout(0.5, seed=7)(x, training=True)
    b = E.Dropout(0.5, seed=7)(x, training=True)
    assert torch.equal(a, b)
    assert torch.equal(E.Dropout(0.0)(x, training=True), x)
    assert torch.equal(E.Dropout(1.0)(x, training=True), torch.zeros_like(x))
    assert torch.equal(E.Dropout(0.5)(x), x)  # inference by default


def test_dropout_gradient_flows_through_kept_units():
    x = torch.ones(6, 8, requires_grad=True)
    y = E.Dropout(0.5, seed=1)(x, training=True)
    y.sum().backward()
    torch.testing.assert_close(x.grad, (y != 0).float() * 2.0)


# ---------------------------------------------------------------- configs against Keras
@pytest.mark.parametrize("factory", [
    lambda L: L.Dense(3, name="d"),
    lambda L: L.Dense(7, activation="relu", use_bias=False, kernel_initializer="he_normal",
                      bias_initializer="ones", kernel_regularizer="l2", bias_constraint="non_neg", name="d"),
    lambda L: L.Dense(2, activity_regularizer="l1", name="d"),
    lambda L: L.Activation("softmax", name="a"),
    lambda L: L.Dropout(0.3, noise_shape=(None, 1, 4), seed=5, name="dr"),
    lambda L: L.Dropout(0.5, name="dr"),
    lambda L: L.Flatten(name="f"),
    lambda L: L.Reshape((2, -1), name="r"),
    lambda L: L.Permute((2, 1), name="p"),
    lambda L: L.RepeatVector(4, name="rv"),
])
def test_config_matches_keras_and_round_trips(keras, factory):
    check_config_against_keras(factory, keras=keras)


def test_registry_categories():
    for name in ("Dense", "Activation", "Flatten", "Reshape", "Permute", "RepeatVector"):
        assert registry.category_of(name) == "Core"
    assert registry.category_of("Dropout") == "Regularization"
    assert registry.get_class("Dense") is E.Dense


def test_from_config_rebuilds_equivalent_dense():
    layer = E.Dense(3, activation="relu", name="x")
    layer(torch.zeros(1, 4))
    clone = E.Dense.from_config(layer.get_config())
    clone(torch.zeros(1, 4))
    clone.set_weights(layer.get_weights())
    x = torch.randn(2, 4)
    torch.testing.assert_close(clone(x), layer(x))


# ---------------------------------------------------------------- shapes and errors
def test_dense_output_shape_and_symbolic_call():
    layer = E.Dense(5)
    assert layer.compute_output_shape((None, 3)) == (None, 5)
    assert layer.compute_output_shape((None, 4, 3)) == (None, 4, 5)
    out = layer(engine.Input(shape=(7, 3)))
    assert out.shape == (None, 7, 5)
    assert tuple(layer.kernel.shape) == (3, 5)


@pytest.mark.parametrize("shape,match", [((None,), r"at least 2 dimensions.*\(None,\)"),
                                         ((None, None), "last dimension")])
def test_dense_rejects_bad_input_shapes(shape, match):
    with pytest.raises(ValueError, match=match) as err:
        E.Dense(2, name="head").compute_output_shape(shape)
    assert "head" in str(err.value)


def test_dense_rejects_a_different_feature_count_after_build():
    layer = E.Dense(2, name="fc")
    layer(torch.zeros(1, 3))
    with pytest.raises(ValueError, match=r"built for inputs with 3 features.*\(None, 4\)"):
        layer.compute_output_shape((None, 4))


@pytest.mark.parametrize("make,match", [
    (lambda: E.Dense(-1), r"Received: units=-1"),
    (lambda: E.Dense(2.5), r"Received: units=2.5"),
    (lambda: E.Dropout(1.5), r"Received: rate=1.5"),
    (lambda: E.Dropout(0.5, noise_shape=(None, 0)), r"noise_shape"),
    (lambda: E.Reshape((2, -1, -1)), r"at most one unknown"),
    (lambda: E.Reshape((0, 2)), r"target_shape"),
    (lambda: E.Permute((1, 3)), r"dims=\(1, 3\)"),
    (lambda: E.RepeatVector(0), r"n=0"),
    (lambda: E.Activation("nope"), r"Unknown activation"),
    (lambda: E.Flatten(data_format="channels_first"), r"channels_first"),
])
def test_constructor_errors_show_the_received_value(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_flatten_output_shape():
    assert E.Flatten().compute_output_shape((None, 28, 28, 1)) == (None, 784)
    assert E.Flatten().compute_output_shape((None, None, 3)) == (None, None)
    assert E.Flatten().compute_output_shape((None,)) == (None, 1)


def test_reshape_output_shape_and_errors():
    r = E.Reshape((-1, 4), name="resh")
    assert r.compute_output_shape((None, 2, 6)) == (None, 3, 4)
    assert r.compute_output_shape((None, None, 6)) == (None, None, 4)
    with pytest.raises(ValueError, match=r"resh.*10 is not divisible by 4"):
        r.compute_output_shape((None, 10))
    with pytest.raises(ValueError, match=r"resh.*\(batch, 10\).*target_shape=\(3, 4\)"):
        E.Reshape((3, 4), name="resh").compute_output_shape((None, 10))


def test_permute_and_repeat_vector_rank_errors():
    with pytest.raises(ValueError, match=r"perm.*\(None, 3\)"):
        E.Permute((2, 1), name="perm").compute_output_shape((None, 3))
    with pytest.raises(ValueError, match=r"rep.*\(batch_size, features\).*\(None, 3, 4\)"):
        E.RepeatVector(2, name="rep").compute_output_shape((None, 3, 4))
    assert E.Permute((2, 1)).compute_output_shape((None, 3, 5)) == (None, 5, 3)
    assert E.RepeatVector(2).compute_output_shape((None, 3)) == (None, 2, 3)


def test_dense_regularizer_adds_a_loss():
    layer = E.Dense(2, kernel_regularizer=engine.regularizers.L2(0.1))
    layer(torch.zeros(1, 3))
    expected = 0.1 * (layer.kernel.detach() ** 2).sum()
    losses = layer.losses
    assert len(losses) == 1
    torch.testing.assert_close(losses[0].detach(), expected)
