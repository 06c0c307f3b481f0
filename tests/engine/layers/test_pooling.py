"""Pooling layers against Keras 3 (torch backend): forward, input gradients, shapes, configs, errors."""
import numpy as np
import pytest
import torch

import engine
from engine import layers as E
from engine.layers import registry
from tests.engine.layers.harness import check_against_keras, check_config_against_keras


@pytest.mark.parametrize("cls", ["MaxPooling2D", "AveragePooling2D"])
@pytest.mark.parametrize("kwargs,shape", [
    (dict(pool_size=2), (2, 6, 6, 3)),
    (dict(pool_size=2), (2, 7, 5, 3)),                                   # odd sizes, 'valid' floors
    (dict(pool_size=2, padding="same"), (2, 7, 5, 3)),                   # odd sizes, pad at the end
    (dict(pool_size=3, strides=2, padding="same"), (2, 8, 8, 2)),        # asymmetric, 2+ real elements
    (dict(pool_size=3, strides=2, padding="same"), (2, 7, 9, 2)),        # symmetric
    (dict(pool_size=3, strides=1, padding="same"), (2, 5, 5, 2)),
    (dict(pool_size=4, strides=1, padding="same"), (2, 5, 6, 2)),        # padding on both sides, unequal
    (dict(pool_size=(2, 3), strides=(1, 2)), (2, 5, 7, 2)),
    (dict(pool_size=(3, 2), strides=(2, 3), padding="same"), (2, 7, 8, 2)),
])
def test_pooling2d_matches_keras(keras, cls, kwargs, shape):
    check_against_keras(lambda L: getattr(L, cls)(**kwargs), shape, keras=keras)


@pytest.mark.parametrize("cls", ["MaxPooling1D", "AveragePooling1D"])
@pytest.mark.parametrize("kwargs,shape", [
    (dict(pool_size=2), (2, 8, 3)),
    (dict(pool_size=2), (2, 9, 3)),
    (dict(pool_size=2, padding="same"), (2, 9, 3)),
    (dict(pool_size=3, strides=2, padding="same"), (2, 8, 2)),
    (dict(pool_size=3, strides=2, padding="same"), (2, 9, 2)),
    (dict(pool_size=4, strides=1, padding="same"), (2, 6, 2)),
    (dict(pool_size=3, strides=1), (2, 7, 2)),
])
def test_pooling1d_matches_keras(keras, cls, kwargs, shape):
    check_against_keras(lambda L: getattr(L, cls)(**kwargs), shape, keras=keras)


def test_keras3_requires_avg_pool_size_but_engine_keeps_keras2_default(keras):
    check_against_keras(lambda L: L.MaxPooling2D(), (2, 6, 6, 1), keras=keras)
    check_against_keras(lambda L: L.MaxPooling1D(), (2, 6, 1), keras=keras)
    assert E.AveragePooling2D().pool_size == (2, 2)
    assert E.AveragePooling1D().pool_size == (2,)


def test_same_average_pooling_divides_by_real_elements_when_padding_is_symmetric():
    x = torch.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    y = E.AveragePooling2D(3, strides=1, padding="same")(x)[0, :, :, 0]
    # Corner window holds 4 real values (1, 2, 4, 5); the padding does not count.
    assert y[0, 0].item() == pytest.approx(3.0)
    assert y[1, 1].item() == pytest.approx(5.0)


@pytest.mark.parametrize("cls", ["GlobalMaxPooling2D", "GlobalAveragePooling2D"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling2d_matches_keras(keras, cls, keepdims):
    check_against_keras(lambda L: getattr(L, cls)(keepdims=keepdims), (2, 4, 5, 3), keras=keras)


@pytest.mark.parametrize("cls", ["GlobalMaxPooling1D", "GlobalAveragePooling1D"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling1d_matches_keras(keras, cls, keepdims):
    check_against_keras(lambda L: getattr(L, cls)(keepdims=keepdims), (2, 6, 3), keras=keras)


@pytest.mark.parametrize("keepdims", [False, True])
def test_masked_global_average_pooling1d_matches_keras(keras, keepdims):
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=torch.bool)
    check_against_keras(lambda L: L.GlobalAveragePooling1D(keepdims=keepdims), (3, 5, 4), keras=keras,
                        call_kwargs={"mask": mask})


# ---------------------------------------------------------------- shapes and errors
@pytest.mark.parametrize("layer,in_shape,out_shape", [
    (lambda: E.MaxPooling2D(), (None, 28, 28, 8), (None, 14, 14, 8)),
    (lambda: E.MaxPooling2D(), (None, 7, 7, 8), (None, 3, 3, 8)),
    (lambda: E.MaxPooling2D(padding="same"), (None, 7, 7, 8), (None, 4, 4, 8)),
    (lambda: E.AveragePooling2D(3, 2), (None, None, 9, 1), (None, None, 4, 1)),
    (lambda: E.MaxPooling1D(3, 1), (None, 10, 2), (None, 8, 2)),
    (lambda: E.AveragePooling1D(3, padding="same"), (None, 10, 2), (None, 4, 2)),
    (lambda: E.GlobalAveragePooling2D(), (None, 5, 5, 7), (None, 7)),
    (lambda: E.GlobalMaxPooling2D(keepdims=True), (None, 5, 5, 7), (None, 1, 1, 7)),
    (lambda: E.GlobalMaxPooling1D(keepdims=True), (None, None, 7), (None, 1, 7)),
])
def test_compute_output_shape(layer, in_shape, out_shape):
    assert layer().compute_output_shape(in_shape) == out_shape


def test_symbolic_call():
    x = engine.Input(shape=(9, 9, 3))
    assert E.MaxPooling2D(name="p")(x).shape == (None, 4, 4, 3)
    assert E.GlobalAveragePooling2D()(x).shape == (None, 3)


@pytest.mark.parametrize("make,shape,match", [
    (lambda: E.MaxPooling2D(name="pool"), (None, 784), r"pool.*\(batch, height, width, channels\).*\(None, 784\)"),
    (lambda: E.MaxPooling2D(name="pool"), (None, 28, 28), r"pool.*Reshape"),
    (lambda: E.MaxPooling1D(name="pool"), (None, 5, 5, 1), r"pool.*\(batch, steps, channels\).*2D version"),
    (lambda: E.AveragePooling2D(3, name="pool"), (None, 2, 5, 1), r"pool.*pool_size=\(3, 3\) is larger.*'same'"),
    (lambda: E.GlobalAveragePooling2D(name="pool"), (None, 5, 3), r"pool.*\(None, 5, 3\)"),
    (lambda: E.GlobalMaxPooling1D(name="pool"), (None, 5), r"pool.*\(batch, steps, channels\)"),
])
def test_shape_errors_name_the_layer_and_shape(make, shape, match):
    with pytest.raises(ValueError, match=match):
        make().compute_output_shape(shape)


@pytest.mark.parametrize("make,match", [
    (lambda: E.MaxPooling2D(0), r"pool_size=0"),
    (lambda: E.MaxPooling2D((2, 2, 2)), r"pool_size=\(2, 2, 2\)"),
    (lambda: E.MaxPooling2D(2, strides=-1), r"strides=-1"),
    (lambda: E.AveragePooling1D(2, padding="full"), r"padding='full'"),
    (lambda: E.GlobalAveragePooling2D(data_format="channels_first"), r"channels_first"),
])
def test_constructor_errors_show_the_received_value(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ---------------------------------------------------------------- configs and registry
@pytest.mark.parametrize("factory", [
    lambda L: L.MaxPooling1D(name="p"),
    lambda L: L.MaxPooling2D(name="p"),
    lambda L: L.MaxPooling2D((3, 2), strides=1, padding="same", name="p"),
    lambda L: L.AveragePooling1D(3, 2, "same", name="p"),
    lambda L: L.AveragePooling2D(2, name="p"),
    lambda L: L.GlobalMaxPooling1D(name="p"),
    lambda L: L.GlobalMaxPooling2D(keepdims=True, name="p"),
    lambda L: L.GlobalAveragePooling1D(name="p"),
    lambda L: L.GlobalAveragePooling2D(keepdims=True, name="p"),
])
def test_config_matches_keras_and_round_trips(keras, factory):
    check_config_against_keras(factory, keras=keras)


@pytest.mark.parametrize("alias,name", [
    ("MaxPool1D", "MaxPooling1D"), ("MaxPool2D", "MaxPooling2D"), ("AvgPool1D", "AveragePooling1D"),
    ("AvgPool2D", "AveragePooling2D"), ("GlobalMaxPool1D", "GlobalMaxPooling1D"),
    ("GlobalMaxPool2D", "GlobalMaxPooling2D"), ("GlobalAvgPool1D", "GlobalAveragePooling1D"),
    ("GlobalAvgPool2D", "GlobalAveragePooling2D"),
])
def test_aliases_are_registered_and_exported(alias, name):
    assert registry.get_class(alias) is getattr(E, name)
    assert getattr(E, alias) is getattr(E, name)
    assert registry.category_of(name) == "Pooling"


def test_max_pooling_same_padding_never_picks_the_padding():
    x = -torch.ones(1, 3, 3, 1) * torch.arange(1.0, 10.0).reshape(1, 3, 3, 1)  # all negative
    y = E.MaxPooling2D(2, padding="same")(x)
    np.testing.assert_array_equal(y[0, :, :, 0].numpy(), [[-1.0, -3.0], [-7.0, -9.0]])
