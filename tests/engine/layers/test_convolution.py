"""Convolution layers against Keras 3: forward, input and weight gradients, shapes, configs, errors."""
import pytest
import torch

import engine
from engine import layers as E
from engine.layers import registry
from engine.layers.convolution import same_padding
from tests.engine.layers.harness import check_against_keras, check_config_against_keras


# ---------------------------------------------------------------- Conv2D
@pytest.mark.parametrize("kwargs,shape", [
    (dict(kernel_size=3), (2, 6, 5, 3)),
    (dict(kernel_size=3, padding="same"), (2, 6, 5, 3)),
    (dict(kernel_size=3, strides=2, padding="same"), (2, 8, 8, 3)),   # even: asymmetric padding
    (dict(kernel_size=3, strides=2, padding="same"), (2, 7, 7, 3)),   # odd: symmetric padding
    (dict(kernel_size=4, strides=2, padding="same"), (2, 7, 8, 2)),   # even kernel
    (dict(kernel_size=2, padding="same"), (2, 5, 5, 2)),              # stride 1, even kernel: pad at end
    (dict(kernel_size=5, strides=3, padding="same"), (1, 10, 11, 2)),
    (dict(kernel_size=3, strides=2), (2, 8, 7, 3)),
    (dict(kernel_size=(3, 2), strides=(2, 1), padding="same"), (2, 6, 7, 3)),
    (dict(kernel_size=3, dilation_rate=2), (2, 8, 8, 2)),
    (dict(kernel_size=3, dilation_rate=(2, 3), padding="same"), (2, 8, 9, 2)),
    (dict(kernel_size=3, groups=2), (2, 6, 6, 4)),
    (dict(kernel_size=1, use_bias=False, activation="relu"), (2, 4, 4, 3)),
    (dict(kernel_size=3, padding="same", activation="sigmoid"), (2, 1, 1, 2)),  # kernel larger than 'same' input
])
def test_conv2d_matches_keras(keras, kwargs, shape):
    check_against_keras(lambda L: L.Conv2D(4, **kwargs), shape, keras=keras)


# ---------------------------------------------------------------- Conv1D
@pytest.mark.parametrize("kwargs,shape", [
    (dict(kernel_size=3), (2, 7, 3)),
    (dict(kernel_size=3, padding="same"), (2, 7, 3)),
    (dict(kernel_size=3, strides=2, padding="same"), (2, 8, 3)),
    (dict(kernel_size=4, strides=2, padding="same"), (2, 9, 3)),
    (dict(kernel_size=3, padding="causal"), (2, 7, 3)),
    (dict(kernel_size=2, padding="causal", dilation_rate=2), (2, 9, 2)),
    (dict(kernel_size=3, padding="causal", strides=2), (2, 9, 2)),
    (dict(kernel_size=3, dilation_rate=2), (2, 9, 2)),
    (dict(kernel_size=3, groups=3), (2, 7, 3)),
    (dict(kernel_size=5, strides=2, activation="tanh"), (2, 12, 2)),
])
def test_conv1d_matches_keras(keras, kwargs, shape):
    check_against_keras(lambda L: L.Conv1D(6, **kwargs), shape, keras=keras)


# ---------------------------------------------------------------- Conv2DTranspose
@pytest.mark.parametrize("kwargs,shape", [
    (dict(kernel_size=3, strides=2, padding="same"), (2, 4, 5, 3)),
    (dict(kernel_size=3, strides=2, padding="valid"), (2, 4, 5, 3)),
    (dict(kernel_size=4, strides=2, padding="same"), (2, 4, 4, 3)),
    (dict(kernel_size=4, strides=2, padding="valid"), (2, 3, 4, 3)),
    (dict(kernel_size=3, padding="same"), (2, 4, 5, 2)),
    (dict(kernel_size=3), (2, 4, 5, 2)),
    (dict(kernel_size=2, strides=3), (2, 3, 3, 2)),                    # stride > kernel: zero rows + bias
    (dict(kernel_size=1, strides=3, padding="same"), (2, 3, 3, 2)),
    (dict(kernel_size=3, strides=2, padding="same", output_padding=1), (2, 4, 4, 2)),
    (dict(kernel_size=3, strides=2, padding="valid", output_padding=1), (2, 4, 4, 2)),
    (dict(kernel_size=3, strides=3, padding="same", output_padding=2), (2, 3, 3, 2)),
    (dict(kernel_size=3, dilation_rate=2, padding="same"), (2, 5, 5, 2)),
    (dict(kernel_size=(3, 2), strides=(2, 1), padding="same", use_bias=False), (2, 3, 4, 2)),
    (dict(kernel_size=3, strides=2, padding="same", activation="relu"), (1, 3, 3, 2)),
])
def test_conv2d_transpose_matches_keras(keras, kwargs, shape):
    check_against_keras(lambda L: L.Conv2DTranspose(3, **kwargs), shape, keras=keras)


# ---------------------------------------------------------------- SeparableConv2D / DepthwiseConv2D
@pytest.mark.parametrize("kwargs,shape", [
    (dict(kernel_size=3), (2, 6, 6, 3)),
    (dict(kernel_size=3, depth_multiplier=2, strides=2, padding="same"), (2, 8, 7, 3)),
    (dict(kernel_size=3, dilation_rate=2, padding="same"), (2, 7, 7, 2)),
    (dict(kernel_size=(2, 3), use_bias=False, activation="relu"), (2, 5, 6, 2)),
])
def test_separable_conv2d_matches_keras(keras, kwargs, shape):
    check_against_keras(lambda L: L.SeparableConv2D(5, **kwargs), shape, keras=keras)


@pytest.mark.parametrize("kwargs,shape", [
    (dict(kernel_size=3), (2, 6, 6, 3)),
    (dict(kernel_size=3, depth_multiplier=2), (2, 6, 5, 3)),
    (dict(kernel_size=3, depth_multiplier=2, strides=2, padding="same"), (2, 8, 7, 3)),
    (dict(kernel_size=3, strides=2, padding="same"), (2, 7, 7, 2)),
    (dict(kernel_size=3, dilation_rate=2, padding="same", depth_multiplier=3), (2, 7, 7, 2)),
    (dict(kernel_size=2, use_bias=False, activation="relu"), (2, 5, 5, 2)),
])
def test_depthwise_conv2d_matches_keras(keras, kwargs, shape):
    check_against_keras(lambda L: L.DepthwiseConv2D(**kwargs), shape, keras=keras)


# ---------------------------------------------------------------- shapes
@pytest.mark.parametrize("size,kernel,stride,dilation,expected", [
    (8, 3, 2, 1, (0, 1)), (7, 3, 2, 1, (1, 1)), (5, 2, 1, 1, (0, 1)), (5, 3, 1, 2, (2, 2)), (1, 5, 1, 1, (2, 2)),
    (6, 1, 3, 1, (0, 0)),
])
def test_same_padding_puts_the_extra_pixel_at_the_end(size, kernel, stride, dilation, expected):
    assert same_padding(size, kernel, stride, dilation) == expected


@pytest.mark.parametrize("layer,in_shape,out_shape", [
    (lambda: E.Conv2D(8, 3), (None, 28, 28, 1), (None, 26, 26, 8)),
    (lambda: E.Conv2D(8, 3, strides=2, padding="same"), (None, 28, 27, 1), (None, 14, 14, 8)),
    (lambda: E.Conv2D(8, 3), (None, None, None, 3), (None, None, None, 8)),
    (lambda: E.Conv1D(4, 3, padding="causal"), (None, 10, 2), (None, 10, 4)),
    (lambda: E.Conv1D(4, 3, strides=2), (None, 10, 2), (None, 4, 4)),
    (lambda: E.Conv2DTranspose(4, 3, strides=2, padding="same"), (None, 7, 7, 2), (None, 14, 14, 4)),
    (lambda: E.Conv2DTranspose(4, 3, strides=2), (None, 7, 7, 2), (None, 15, 15, 4)),
    (lambda: E.Conv2DTranspose(4, 3, strides=2), (None, None, 7, 2), (None, None, 15, 4)),
    (lambda: E.DepthwiseConv2D(3, depth_multiplier=2), (None, 5, 5, 3), (None, 3, 3, 6)),
    (lambda: E.SeparableConv2D(7, 3, padding="same"), (None, 5, 5, 3), (None, 5, 5, 7)),
])
def test_compute_output_shape(layer, in_shape, out_shape):
    assert layer().compute_output_shape(in_shape) == out_shape


def test_symbolic_call_builds_keras_layout_kernels():
    x = engine.Input(shape=(9, 9, 3))
    conv = E.Conv2D(4, (3, 2), groups=1)
    assert conv(x).shape == (None, 7, 8, 4)
    assert tuple(conv.kernel.shape) == (3, 2, 3, 4)
    tconv = E.Conv2DTranspose(5, 3)
    tconv(x)
    assert tuple(tconv.kernel.shape) == (3, 3, 5, 3)
    sep = E.SeparableConv2D(6, 3, depth_multiplier=2)
    sep(x)
    assert [tuple(w.shape) for w in sep.weights] == [(3, 3, 3, 2), (1, 1, 6, 6), (6,)]
    dw = E.DepthwiseConv2D(3, depth_multiplier=2)
    dw(x)
    assert [tuple(w.shape) for w in dw.weights] == [(3, 3, 3, 2), (6,)]


# ---------------------------------------------------------------- errors
def test_conv2d_on_flat_input_explains_the_layout_and_suggests_reshape():
    with pytest.raises(ValueError) as err:
        E.Conv2D(8, 3, name="c1").compute_output_shape((None, 784))
    msg = str(err.value)
    assert "c1" in msg and "(batch, height, width, channels)" in msg and "(None, 784)" in msg
    assert "Reshape((28, 28, 1))" in msg


def test_conv2d_on_symbolic_flat_input_raises_naming_the_layer():
    x = engine.Input(shape=(28, 28))
    with pytest.raises(ValueError, match=r"c2.*\(batch, height, width, channels\).*Reshape\(\(28, 28, 1\)\)"):
        E.Conv2D(8, 3, name="c2")(x)


def test_conv1d_rank_error_suggests_reshape():
    with pytest.raises(ValueError, match=r"\(batch, steps, channels\).*Reshape\(\(10, 1\)\)"):
        E.Conv1D(2, 3).compute_output_shape((None, 10))


@pytest.mark.parametrize("make,shape", [
    (lambda: E.Conv2D(2, 5, name="big"), (None, 3, 3, 1)),
    (lambda: E.Conv2D(2, 3, dilation_rate=3, name="big"), (None, 6, 6, 1)),
    (lambda: E.Conv1D(2, 4, name="big"), (None, 3, 1)),
    (lambda: E.DepthwiseConv2D(4, name="big"), (None, 3, 9, 1)),
    (lambda: E.SeparableConv2D(2, 4, name="big"), (None, 9, 3, 1)),
])
def test_kernel_larger_than_input_is_explained(make, shape):
    with pytest.raises(ValueError, match=r"big.*larger than the spatial size.*padding='same'"):
        make().compute_output_shape(shape)


def test_channel_errors():
    with pytest.raises(ValueError, match=r"channel dimension"):
        E.Conv2D(2, 3).compute_output_shape((None, 5, 5, None))
    with pytest.raises(ValueError, match=r"divisible by groups=2.*\(None, 5, 5, 3\)"):
        E.Conv2D(4, 3, groups=2).compute_output_shape((None, 5, 5, 3))
    conv = E.Conv2D(2, 3, name="c")
    conv(torch.zeros(1, 5, 5, 3))
    with pytest.raises(ValueError, match=r"built for inputs with 3 channels.*\(None, 5, 5, 4\)"):
        conv.compute_output_shape((None, 5, 5, 4))


@pytest.mark.parametrize("make,match", [
    (lambda: E.Conv2D(0, 3), r"filters=0"),
    (lambda: E.Conv2D(4, 0), r"kernel_size=0"),
    (lambda: E.Conv2D(4, (3, 3, 3)), r"kernel_size=\(3, 3, 3\)"),
    (lambda: E.Conv2D(4, 3, strides=0), r"strides=0"),
    (lambda: E.Conv2D(4, 3, padding="full"), r"padding='full'"),
    (lambda: E.Conv2D(4, 3, padding="causal"), r"padding='causal'"),
    (lambda: E.Conv2D(4, 3, strides=2, dilation_rate=2), r"strides=\(2, 2\) and dilation_rate=\(2, 2\)"),
    (lambda: E.Conv2D(5, 3, groups=2), r"groups=2, filters=5"),
    (lambda: E.Conv2D(4, 3, data_format="channels_first"), r"channels_first"),
    (lambda: E.Conv1D(4, 3, groups=0), r"groups=0"),
    (lambda: E.Conv2DTranspose(4, 3, strides=2, output_padding=2), r"output_padding=\(2, 2\)"),
    (lambda: E.DepthwiseConv2D(3, depth_multiplier=0), r"depth_multiplier=0"),
    (lambda: E.SeparableConv2D(-2, 3), r"filters=-2"),
])
def test_constructor_errors_show_the_received_value(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ---------------------------------------------------------------- configs
@pytest.mark.parametrize("factory", [
    lambda L: L.Conv1D(4, 3, name="c"),
    lambda L: L.Conv1D(4, 3, strides=2, padding="causal", dilation_rate=1, groups=2, activation="relu", name="c"),
    lambda L: L.Conv2D(4, 3, name="c"),
    lambda L: L.Conv2D(6, (3, 5), strides=(2, 1), padding="SAME", use_bias=False, groups=3,
                       kernel_initializer="he_uniform", kernel_regularizer="l2", kernel_constraint="max_norm",
                       activity_regularizer="l1", name="c"),
    lambda L: L.Conv2DTranspose(4, 3, name="c"),
    lambda L: L.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1, activation="tanh", name="c"),
    lambda L: L.SeparableConv2D(4, 3, name="c"),
    lambda L: L.SeparableConv2D(4, 3, depth_multiplier=2, pointwise_initializer="zeros",
                                depthwise_regularizer="l1", pointwise_constraint="non_neg", name="c"),
    lambda L: L.DepthwiseConv2D(3, name="c"),
    lambda L: L.DepthwiseConv2D(3, 2, "same", 2, dilation_rate=1, depthwise_constraint="unit_norm", name="c"),
])
def test_config_matches_keras_and_round_trips(keras, factory):
    check_config_against_keras(factory, keras=keras)


def test_registry_and_aliases():
    for name in ("Conv1D", "Conv2D", "Conv2DTranspose", "SeparableConv2D", "DepthwiseConv2D"):
        assert registry.category_of(name) == "Convolution"
    assert registry.get_class("Convolution2D") is E.Conv2D
    assert registry.get_class("Convolution1D") is E.Conv1D
    assert registry.get_class("SeparableConvolution2D") is E.SeparableConv2D
    assert registry.get_class("Convolution2DTranspose") is E.Conv2DTranspose
    assert E.Convolution2D is E.Conv2D


def test_conv_regularizer_and_constraint_are_registered_on_the_weight():
    conv = E.Conv2D(2, 3, kernel_regularizer=engine.regularizers.L1(0.5), kernel_constraint="non_neg")
    conv(torch.zeros(1, 4, 4, 1))
    assert len(conv.losses) == 1
    torch.testing.assert_close(conv.losses[0].detach(), 0.5 * conv.kernel.detach().abs().sum())
    assert conv.kernel.constraint is not None


def test_conv2d_accepts_uint8_images():
    conv = E.Conv2D(2, 3)
    y = conv(torch.randint(0, 255, (1, 5, 5, 1), dtype=torch.uint8))
    assert y.dtype == torch.float32 and tuple(y.shape) == (1, 3, 3, 2)
