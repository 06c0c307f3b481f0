"""ZeroPadding2D, UpSampling2D, Cropping2D against Keras 3: forward, gradients, shapes, configs, errors."""
import pytest
import torch

import engine
from engine import layers as E
from engine.layers import registry
from tests.engine.layers.harness import check_against_keras, check_config_against_keras


@pytest.mark.parametrize("padding", [1, (2, 0), ((1, 2), (0, 3)), ((0, 0), (0, 0))])
def test_zero_padding2d_matches_keras(keras, padding):
    check_against_keras(lambda L: L.ZeroPadding2D(padding), (2, 3, 4, 2), keras=keras)


@pytest.mark.parametrize("kwargs", [dict(), dict(size=(2, 3)), dict(size=3), dict(interpolation="bilinear"),
                                    dict(size=(3, 2), interpolation="bilinear"),
                                    dict(size=2, interpolation="bicubic")])
def test_up_sampling2d_matches_keras(keras, kwargs):
    check_against_keras(lambda L: L.UpSampling2D(**kwargs), (2, 3, 4, 2), keras=keras)


@pytest.mark.parametrize("cropping", [1, (1, 0), ((0, 2), (1, 1)), ((2, 0), (0, 3)), ((0, 0), (0, 0))])
def test_cropping2d_matches_keras(keras, cropping):
    check_against_keras(lambda L: L.Cropping2D(cropping), (2, 5, 6, 2), keras=keras)


def test_nearest_up_sampling_repeats_rows_and_columns():
    x = torch.arange(4.0).reshape(1, 2, 2, 1)
    y = E.UpSampling2D((2, 3))(x)[0, :, :, 0]
    assert y.tolist() == [[0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1], [2, 2, 2, 3, 3, 3], [2, 2, 2, 3, 3, 3]]


# ---------------------------------------------------------------- shapes and errors
@pytest.mark.parametrize("layer,in_shape,out_shape", [
    (lambda: E.ZeroPadding2D(), (None, 5, 6, 3), (None, 7, 8, 3)),
    (lambda: E.ZeroPadding2D(((1, 2), (3, 4))), (None, None, 6, 3), (None, None, 13, 3)),
    (lambda: E.UpSampling2D((2, 3)), (None, 5, 6, 3), (None, 10, 18, 3)),
    (lambda: E.UpSampling2D(), (None, None, None, 3), (None, None, None, 3)),
    (lambda: E.Cropping2D(((1, 2), (3, 0))), (None, 5, 6, 3), (None, 2, 3, 3)),
    (lambda: E.Cropping2D(1), (None, None, 6, 3), (None, None, 4, 3)),
])
def test_compute_output_shape(layer, in_shape, out_shape):
    assert layer().compute_output_shape(in_shape) == out_shape


def test_symbolic_call():
    x = engine.Input(shape=(8, 8, 3))
    y = E.Cropping2D(1)(E.UpSampling2D()(E.ZeroPadding2D(2)(x)))
    assert y.shape == (None, 22, 22, 3)


@pytest.mark.parametrize("make", [lambda: E.ZeroPadding2D(name="rs"), lambda: E.UpSampling2D(name="rs"),
                                  lambda: E.Cropping2D(1, name="rs")])
def test_rank_errors_name_the_layer_and_the_shape(make):
    with pytest.raises(ValueError, match=r"rs.*\(batch, height, width, channels\).*\(None, 28, 28\).*Reshape"):
        make().compute_output_shape((None, 28, 28))


def test_cropping_everything_is_refused():
    with pytest.raises(ValueError, match=r"crop.*cropping=\(\(2, 2\), \(0, 0\)\).*\(None, 4, 6, 1\)"):
        E.Cropping2D(((2, 2), (0, 0)), name="crop").compute_output_shape((None, 4, 6, 1))
    with pytest.raises(ValueError, match=r"crop"):
        E.Cropping2D(((0, 0), (3, 3)), name="crop")(torch.zeros(1, 4, 6, 1))


@pytest.mark.parametrize("make,match", [
    (lambda: E.ZeroPadding2D(-1), r"padding=-1"),
    (lambda: E.ZeroPadding2D((1, 2, 3)), r"padding=\(1, 2, 3\)"),
    (lambda: E.ZeroPadding2D(((1, -1), (0, 0))), r"-1"),
    (lambda: E.Cropping2D(-2), r"cropping=-2"),
    (lambda: E.Cropping2D("a"), r"cropping='a'"),
    (lambda: E.UpSampling2D(0), r"size=0"),
    (lambda: E.UpSampling2D(interpolation="lanczos3"), r"interpolation='lanczos3'"),
    (lambda: E.UpSampling2D(data_format="channels_first"), r"channels_first"),
])
def test_constructor_errors_show_the_received_value(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ---------------------------------------------------------------- configs and registry
@pytest.mark.parametrize("factory", [
    lambda L: L.ZeroPadding2D(name="z"),
    lambda L: L.ZeroPadding2D(((1, 2), (3, 4)), name="z"),
    lambda L: L.ZeroPadding2D(3, name="z"),
    lambda L: L.UpSampling2D(name="u"),
    lambda L: L.UpSampling2D((2, 3), interpolation="bilinear", name="u"),
    lambda L: L.Cropping2D(name="c"),
    lambda L: L.Cropping2D((1, 2), name="c"),
])
def test_config_matches_keras_and_round_trips(keras, factory):
    check_config_against_keras(factory, keras=keras)


def test_registry_category():
    for name in ("ZeroPadding2D", "UpSampling2D", "Cropping2D"):
        assert registry.category_of(name) == "Convolution"
        assert registry.get_class(name) is getattr(E, name)
