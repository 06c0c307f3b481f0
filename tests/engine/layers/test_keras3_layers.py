"""The layers added for Keras 3 coverage, each compared with Keras by the generic harness: outputs and
gradients on the same weights, weight names/order/shapes, masks, symbolic output shapes, and the
config (Keras's keys and values, rebuilt from either library's config)."""
import numpy as np
import pytest
import torch

import engine
from engine import layers as E
from engine.layers import registry
from tests.engine.layers.harness import check_against_keras, check_config_against_keras

# (id, factory, input_shape, harness options). Factories get a layers module (engine's or Keras's).
CASES = [
    ("identity", lambda L: L.Identity(), (2, 3, 4), {}),
    ("masking", lambda L: L.Masking(), (3, 5, 4), {}),
    ("masking_value", lambda L: L.Masking(mask_value=0.5), (3, 5, 4), {}),
    ("unit_norm", lambda L: L.UnitNormalization(), (3, 6), {}),
    ("unit_norm_axes", lambda L: L.UnitNormalization(axis=[1, 2]), (2, 3, 4, 2), {}),
    ("rms_norm", lambda L: L.RMSNormalization(), (3, 4, 6), {}),
    ("rms_norm_axes", lambda L: L.RMSNormalization(axis=[-2, -1], epsilon=1e-3), (3, 4, 6), {}),
    ("group_norm", lambda L: L.GroupNormalization(groups=2), (2, 5, 5, 4), {}),
    ("group_norm_inst", lambda L: L.GroupNormalization(groups=-1, center=False), (2, 3, 6), {}),
    ("group_norm_axis1", lambda L: L.GroupNormalization(groups=3, axis=1, scale=False), (2, 6, 5), {}),
    ("alpha_dropout", lambda L: L.AlphaDropout(0.3), (4, 6), {}),
    ("spatial_dropout1d", lambda L: L.SpatialDropout1D(0.3), (2, 5, 4), {}),
    ("spatial_dropout3d", lambda L: L.SpatialDropout3D(0.3), (2, 3, 3, 3, 4), {}),
    ("normalization_fixed", lambda L: L.Normalization(mean=[1.0, -2.0, 0.5], variance=[4.0, 0.25, 1.0]),
     (4, 5, 3), {}),
    ("normalization_fixed_scalar", lambda L: L.Normalization(axis=None, mean=2.0, variance=9.0), (4, 3), {}),
    ("normalization_invert", lambda L: L.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0], invert=True),
     (3, 2), {}),
    ("normalization_weights", lambda L: L.Normalization(), (4, 5, 3), dict(check_grads=True)),
    ("normalization_axes", lambda L: L.Normalization(axis=(1, 2)), (4, 2, 3), {}),
    ("resizing_bilinear", lambda L: L.Resizing(5, 7), (2, 8, 6, 3), {}),
    ("resizing_nearest", lambda L: L.Resizing(4, 9, interpolation="nearest"), (2, 8, 6, 3), {}),
    ("resizing_crop", lambda L: L.Resizing(4, 4, crop_to_aspect_ratio=True), (2, 8, 6, 3), {}),
    ("resizing_pad", lambda L: L.Resizing(4, 4, pad_to_aspect_ratio=True, fill_value=1.0), (2, 8, 6, 3), {}),
    ("center_crop", lambda L: L.CenterCrop(3, 4), (2, 7, 6, 3), {}),
    ("center_crop_upscale", lambda L: L.CenterCrop(9, 8), (2, 7, 6, 3), {}),
    # 1D and 3D variants of the spatial layers.
    ("zero_padding1d", lambda L: L.ZeroPadding1D((1, 2)), (2, 5, 3), {}),
    ("zero_padding3d", lambda L: L.ZeroPadding3D(((1, 0), (0, 2), (1, 1))), (2, 3, 2, 3, 2), {}),
    ("zero_padding3d_int", lambda L: L.ZeroPadding3D(1), (1, 2, 2, 2, 1), {}),
    ("cropping1d", lambda L: L.Cropping1D((1, 2)), (2, 6, 3), {}),
    ("cropping3d", lambda L: L.Cropping3D(((1, 0), (0, 1), (1, 1))), (2, 4, 3, 5, 2), {}),
    ("upsampling1d", lambda L: L.UpSampling1D(3), (2, 4, 3), {}),
    ("upsampling3d", lambda L: L.UpSampling3D((1, 2, 3)), (2, 2, 3, 2, 2), {}),
    ("max_pool3d", lambda L: L.MaxPooling3D(), (2, 4, 5, 4, 3), {}),
    ("max_pool3d_same", lambda L: L.MaxPooling3D(3, strides=2, padding="same"), (2, 5, 4, 6, 2), {}),
    ("avg_pool3d", lambda L: L.AveragePooling3D((2, 1, 2)), (2, 4, 3, 4, 3), {}),
    ("avg_pool3d_same", lambda L: L.AveragePooling3D(2, padding="same"), (2, 5, 4, 3, 2), {}),
    ("global_max3d", lambda L: L.GlobalMaxPooling3D(), (2, 3, 4, 2, 5), {}),
    ("global_avg3d_keep", lambda L: L.GlobalAveragePooling3D(keepdims=True), (2, 3, 4, 2, 5), {}),
    ("conv3d", lambda L: L.Conv3D(4, 3, activation="relu"), (2, 5, 6, 4, 3), {}),
    ("conv3d_same_strided", lambda L: L.Conv3D(2, (2, 3, 1), strides=2, padding="same"), (2, 5, 6, 4, 3), {}),
    ("conv3d_groups", lambda L: L.Conv3D(4, 2, groups=2, dilation_rate=(1, 2, 1)), (1, 4, 6, 3, 4), {}),
    ("conv1d_transpose", lambda L: L.Conv1DTranspose(3, 3, strides=2), (2, 5, 4), {}),
    ("conv1d_transpose_same", lambda L: L.Conv1DTranspose(3, 4, strides=2, padding="same"), (2, 5, 4), {}),
    ("conv3d_transpose", lambda L: L.Conv3DTranspose(2, 3, strides=(2, 1, 2)), (2, 3, 4, 3, 3), {}),
    ("conv3d_transpose_same", lambda L: L.Conv3DTranspose(2, 2, strides=2, padding="same", output_padding=1),
     (1, 3, 2, 3, 2), {}),
    ("depthwise1d", lambda L: L.DepthwiseConv1D(3, depth_multiplier=2), (2, 7, 3), {}),
    ("depthwise1d_same", lambda L: L.DepthwiseConv1D(4, strides=2, padding="same"), (2, 7, 3), {}),
    ("separable1d", lambda L: L.SeparableConv1D(5, 3, depth_multiplier=2, activation="tanh"), (2, 7, 3), {}),
    ("separable1d_same", lambda L: L.SeparableConv1D(4, 3, padding="same", dilation_rate=2), (2, 7, 3), {}),
    ("adaptive_avg1d", lambda L: L.AdaptiveAveragePooling1D(3), (2, 7, 3), {}),
    ("adaptive_avg2d", lambda L: L.AdaptiveAveragePooling2D((2, 3)), (2, 5, 7, 3), {}),
    ("adaptive_avg3d", lambda L: L.AdaptiveAveragePooling3D(2), (1, 5, 4, 3, 2), {}),
    ("adaptive_max1d", lambda L: L.AdaptiveMaxPooling1D(4), (2, 7, 3), {}),
    ("adaptive_max2d", lambda L: L.AdaptiveMaxPooling2D(3), (2, 5, 7, 3), {}),
    ("adaptive_max3d", lambda L: L.AdaptiveMaxPooling3D((1, 2, 3)), (1, 5, 4, 3, 2), {}),
]


@pytest.mark.parametrize("factory,shape,opts", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_layer_matches_keras(keras, factory, shape, opts):
    check_against_keras(factory, shape, keras=keras, **opts)


@pytest.mark.parametrize("factory", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_config_matches_keras(keras, factory):
    def named(L):
        layer = factory(L)
        # A fixed name so the configs compare; keep every other argument.
        layer.name = "probe"
        return layer
    check_config_against_keras(named, keras=keras)


def test_new_layers_are_registered_in_palette_categories():
    for name, cat in [("Identity", "Core"), ("Masking", "Core"), ("UnitNormalization", "Normalization"),
                      ("GroupNormalization", "Normalization"), ("RMSNormalization", "Normalization"),
                      ("AlphaDropout", "Regularization"), ("SpatialDropout1D", "Regularization"),
                      ("SpatialDropout3D", "Regularization"), ("Normalization", "Preprocessing"),
                      ("Resizing", "Preprocessing"), ("CenterCrop", "Preprocessing"),
                      ("Conv3D", "Convolution"), ("SeparableConv1D", "Convolution"), ("Cropping3D", "Convolution"),
                      ("MaxPooling3D", "Pooling"), ("GlobalAveragePooling3D", "Pooling")]:
        assert registry.category_of(name) == cat, name


# ---------------------------------------------------------------------------- masks in models
def test_masking_mask_reaches_an_lstm_in_a_model_as_in_keras(keras):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6, 4)).astype("float32")
    x[0, 4:] = 0.0
    x[1, :2] = 0.0  # masked steps first: the LSTM keeps its zero state through them
    x[2, 3] = 0.0

    def build(lib):
        inp = lib.Input(shape=(6, 4))
        h = lib.layers.Masking()(inp)
        seq = lib.layers.LSTM(5, return_sequences=True)(h)
        last = lib.layers.LSTM(3)(seq)
        pooled = lib.layers.GlobalAveragePooling1D()(seq)
        return lib.Model(inp, [last, pooled])

    e, k = build(engine), build(keras)
    k.set_weights(e.get_weights())
    for a, b in zip(e.predict(x, verbose=0), k.predict(x, verbose=0)):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_masking_compute_mask():
    x = torch.tensor([[[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]]])
    layer = E.Masking()
    np.testing.assert_array_equal(layer.compute_mask(x).numpy(), [[True, False, True]])
    assert layer.produces_mask


# ---------------------------------------------------------------------------- random layers, seeded
@pytest.mark.parametrize("factory,shape", [
    (lambda L: L.AlphaDropout(0.4, seed=7), (5, 8)),
    (lambda L: L.AlphaDropout(0.4, noise_shape=(None, 1, 4), seed=3), (3, 5, 4)),
    (lambda L: L.SpatialDropout1D(0.5, seed=11), (4, 6, 8)),
    (lambda L: L.SpatialDropout3D(0.5, seed=5), (3, 2, 2, 2, 6)),
])
def test_seeded_random_layers_draw_what_keras_draws(keras, factory, shape):
    # Keras's seeding on torch is reproduced by engine.random: the same seed gives the same masks,
    # call after call.
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    e, k = factory(E), factory(keras.layers)
    for _ in range(2):
        a = e(torch.tensor(x), training=True).numpy()
        b = k(torch.tensor(x), training=True).detach().numpy()
        np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_array_equal(e(torch.tensor(x)).numpy(), x)  # inference: the identity


def test_alpha_dropout_keeps_mean_and_variance():
    x = torch.randn(200000)
    y = E.AlphaDropout(0.2)(x, training=True)
    assert abs(float(y.mean())) < 0.02 and abs(float(y.std()) - 1.0) < 0.02


def test_spatial_dropout1d_drops_whole_channels():
    y = E.SpatialDropout1D(0.5, seed=1)(torch.ones(8, 5, 16), training=True)
    per_channel = y.permute(0, 2, 1).reshape(-1, 5)
    assert all(len(set(row.tolist())) == 1 for row in per_channel)  # each channel: all kept or all dropped
    with pytest.raises(ValueError, match="3-D input"):
        E.SpatialDropout1D(0.5).compute_output_shape((None, 4))


# ---------------------------------------------------------------------------- Normalization.adapt
@pytest.mark.parametrize("axis,shape", [(-1, (40, 3)), ((1, 2), (30, 2, 3)), (None, (25, 4))])
def test_normalization_adapt_matches_keras(keras, axis, shape):
    data = (np.random.default_rng(1).standard_normal(shape) * 3 + 2).astype("float32")
    e, k = E.Normalization(axis=axis), keras.layers.Normalization(axis=axis)
    e.adapt(data)
    k.adapt(data)
    for a, b in zip(e.get_weights(), k.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    x = np.random.default_rng(2).standard_normal(shape).astype("float32")
    np.testing.assert_allclose(e(torch.tensor(x)).numpy(), k(torch.tensor(x)).detach().numpy(), atol=1e-5)


def test_normalization_adapt_over_batches_equals_adapt_on_the_whole(keras):
    # (Keras's own iterable path needs TensorFlow installed, so the reference is Keras's adapt on the
    # concatenated array, which the batch-by-batch update must reproduce.)
    rng = np.random.default_rng(3)
    batches = [(rng.standard_normal((n, 4)) * (i + 1) + i).astype("float32") for i, n in enumerate((7, 3, 12))]
    e, k = E.Normalization(), keras.layers.Normalization()
    e.adapt(iter(batches))
    whole = np.concatenate(batches)
    k.adapt(whole)
    for a, b in zip(e.get_weights()[:2], k.get_weights()[:2]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(e.get_weights()[0], whole.mean(0), rtol=1e-5)
    np.testing.assert_allclose(e.get_weights()[1], whole.var(0), rtol=1e-4)


def test_normalization_weights_and_errors():
    layer = E.Normalization()
    layer.build((None, 3))
    assert [w.keras_name for w in layer.weights] == ["mean", "variance", "count"]
    assert layer.trainable_weights == []
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        E.Normalization(mean=1.0)
    fixed = E.Normalization(mean=[1.0], variance=[1.0])
    with pytest.raises(ValueError, match="adapt"):
        fixed.adapt(np.zeros((2, 1), "float32"))
    with pytest.raises(ValueError, match="incompatible shape"):
        layer.adapt(np.zeros((4, 5), "float32"))


def test_normalization_in_a_model_saves_and_loads_both_ways(keras, tmp_path):
    data = np.random.default_rng(0).standard_normal((50, 3)).astype("float32") * 4 + 1
    inp = engine.Input(shape=(3,))
    norm = E.Normalization()
    norm.adapt(data)
    model = engine.Model(inp, E.Dense(2)(norm(inp)))
    for ext in ("keras", "h5"):
        path = str(tmp_path / f"m.{ext}")
        model.save(path)
        k = keras.models.load_model(path)
        np.testing.assert_allclose(k.predict(data, verbose=0), model.predict(data, verbose=0), atol=1e-5)
        k.save(str(tmp_path / f"k.{ext}"))
        back = engine.models.load_model(str(tmp_path / f"k.{ext}"))
        np.testing.assert_allclose(back.predict(data, verbose=0), model.predict(data, verbose=0), atol=1e-5)


def test_resizing_and_center_crop_shapes():
    assert E.Resizing(5, 7)(engine.Input(shape=(None, None, 3))).shape == (None, 5, 7, 3)
    assert E.CenterCrop(3, 4).compute_output_shape((8, 8, 1)) == (3, 4, 1)
    with pytest.raises(ValueError, match="height"):
        E.Resizing(0, 4)
    out = E.Resizing(3, 3)(torch.randint(0, 255, (1, 6, 6, 1), dtype=torch.uint8))
    assert out.dtype == torch.uint8


def test_keras_aliases_resolve_to_the_same_classes(keras):
    for alias in ("MaxPool3D", "AvgPool3D", "GlobalMaxPool3D", "GlobalAvgPool3D", "Convolution3D",
                  "Convolution1DTranspose", "Convolution3DTranspose", "SeparableConvolution1D"):
        assert registry.get_class(alias).__name__ == getattr(keras.layers, alias).__name__
        assert getattr(E, alias) is registry.get_class(alias)


# ---------------------------------------------------------------------------- categorical preprocessing
CATEGORICAL = [
    ("multi_hot", lambda L: L.CategoryEncoding(6), (4, 3), "int64"),
    ("one_hot", lambda L: L.CategoryEncoding(6, output_mode="one_hot"), (4, 1), "int64"),
    ("one_hot_seq", lambda L: L.CategoryEncoding(6, output_mode="one_hot"), (4, 3), "int64"),
    ("count", lambda L: L.CategoryEncoding(6, output_mode="count"), (4, 5), "int32"),
    ("disc_int", lambda L: L.Discretization(bin_boundaries=[-1.0, 0.0, 0.5]), (4, 3), "float32"),
    ("disc_one_hot", lambda L: L.Discretization(bin_boundaries=[0.0, 1.0], output_mode="one_hot"), (5, 1),
     "float32"),
    ("disc_multi_hot", lambda L: L.Discretization(bin_boundaries=[-0.5, 0.5], output_mode="multi_hot"), (4, 3),
     "float32"),
    ("disc_count", lambda L: L.Discretization(bin_boundaries=[0.0], output_mode="count"), (4, 3), "float32"),
]


@pytest.mark.parametrize("factory,shape,dtype", [c[1:] for c in CATEGORICAL], ids=[c[0] for c in CATEGORICAL])
def test_categorical_layers_match_keras(keras, factory, shape, dtype):
    values = None
    if dtype == "float32":  # values on the boundaries too: they belong to the upper bucket
        values = np.random.default_rng(0).choice([-1.0, -0.7, 0.0, 0.3, 0.5, 1.0, 2.0], size=shape).astype("float32")
    layer = check_against_keras(factory, shape, keras=keras, input_dtype=dtype, int_range=(0, 6), check_grads=False,
                                input_values=values)
    e, k = factory(E), factory(keras.layers)
    x = torch.tensor(values if values is not None else np.random.default_rng(1).integers(0, 6, shape).astype(dtype))
    assert e(x).dtype == k(x).dtype
    assert layer.compute_output_shape(shape) == tuple(k.compute_output_shape(shape))


@pytest.mark.parametrize("factory", [c[1] for c in CATEGORICAL], ids=[c[0] for c in CATEGORICAL])
def test_categorical_configs_match_keras(keras, factory):
    def named(L):
        layer = factory(L)
        layer.name = "probe"
        return layer
    check_config_against_keras(named, keras=keras)


def test_count_weights_and_adapted_discretization_config(keras):
    ids = torch.tensor([[0, 1, 1], [2, 2, 2]])
    w = torch.tensor([[0.5, 1.0, 2.0], [1.0, 1.0, 0.25]])
    np.testing.assert_allclose(E.CategoryEncoding(3, output_mode="count")(ids, count_weights=w).numpy(),
                               keras.layers.CategoryEncoding(3, output_mode="count")(ids, count_weights=w).numpy())
    # A rank-1 input is one sample: one vector of num_tokens.
    x1 = torch.tensor([0, 3, 3, 5])
    np.testing.assert_array_equal(E.CategoryEncoding(6)(x1).numpy(), keras.layers.CategoryEncoding(6)(x1).numpy())
    # A config written after Keras's adapt() holds both num_bins and the learned boundaries (Keras's adapt
    # needs TensorFlow here, so the config is written as adapt leaves it).
    config = dict(keras.layers.Discretization(bin_boundaries=[9.5, 19.5], name="d").get_config(), num_bins=3)
    k = keras.layers.Discretization.from_config(dict(config))
    e = E.Discretization.from_config(dict(config))
    x = torch.tensor(np.arange(-2, 33, dtype="float32"))
    np.testing.assert_array_equal(e(x).numpy(), k(x).numpy())


# ---------------------------------------------------------------------------- coverage of keras.layers
# Keras layer classes the engine does not have yet (issue 13). The test below fails when one of them
# appears (take it off this list) or when a Keras layer is missing without being listed here.
NOT_YET = set()


def test_every_keras_layer_is_registered_refused_or_listed(keras):
    import inspect

    names = {n for n in dir(keras.layers) if not n.startswith("_") and inspect.isclass(getattr(keras.layers, n))}
    names.discard("Layer")  # the base class: engine.layers.Layer
    names.discard("InputSpec")  # not a layer: engine.layers.InputSpec
    assert E.InputSpec.__name__ == "InputSpec"
    missing = {n for n in names if not registry.is_registered(n) and n not in registry.UNSUPPORTED}
    assert missing - NOT_YET == set(), f"Keras layers missing from the engine: {sorted(missing - NOT_YET)}"
    assert NOT_YET - missing == set(), f"now implemented, take them off NOT_YET: {sorted(NOT_YET - missing)}"
    for name in names - missing - set(registry.UNSUPPORTED):
        assert getattr(E, name) is registry.get_class(name), name  # importable as engine.layers.<Name>


@pytest.mark.parametrize("name", sorted(registry.UNSUPPORTED))
def test_unsupported_keras_layers_say_why_and_what_instead(name):
    with pytest.raises(ValueError, match=f"'{name}' is not supported by the engine: .{{20,}}"):
        registry.get_class(name)


def test_torch_module_wrapper_trains_in_a_model_and_matches_keras(keras):
    module = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Dropout(0.5))
    inp = engine.Input(shape=(4,))
    wrapper = E.TorchModuleWrapper(module)
    model = engine.Model(inp, E.Dense(1)(wrapper(inp)))
    assert tuple(model.outputs[0].shape) == (None, 1)
    assert [tuple(w.shape) for w in wrapper.weights] == [(5, 4), (5,)]
    x = np.random.default_rng(0).standard_normal((8, 4)).astype("float32")
    # Inference (eval mode: no dropout) as Keras's wrapper of the same module.
    k_wrapper = keras.layers.TorchModuleWrapper(module)
    np.testing.assert_allclose(wrapper(torch.tensor(x), training=False).detach().numpy(),
                               k_wrapper(torch.tensor(x), training=False).detach().numpy(), atol=1e-6)
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, np.ones((8, 1), "float32"), epochs=1, verbose=0)
    assert all(np.abs(a - b).max() > 0 for a, b in zip(before, model.get_weights()))
    with pytest.raises(NotImplementedError, match="Python code"):
        wrapper.get_config()
    with pytest.raises(ValueError, match="not supported by the engine"):
        registry.get_class("TorchModuleWrapper")



@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("factory,shape", [
    (lambda L: L.SpectralNormalization(L.Dense(4)), (3, 5)),
    (lambda L: L.SpectralNormalization(L.Conv2D(3, 2), power_iterations=3), (2, 5, 5, 2)),
    (lambda L: L.SpectralNormalization(L.Embedding(7, 3)), (2, 4)),
])
def test_spectral_normalization_matches_keras(keras, factory, shape, training):
    ints = "Embedding" in type(factory(E).layer).__name__
    layer = check_against_keras(factory, shape, keras=keras, training=training, input_dtype="int64" if ints else
                                "float32", int_range=(0, 7), check_grads=not ints, atol=1e-5)
    assert "vector_u" in [w.keras_name for w in layer.non_trainable_weights]


def test_spectral_normalization_config_kernel_norm_and_files(keras, tmp_path):
    check_config_against_keras(lambda L: L.SpectralNormalization(L.Dense(4, name="d"), power_iterations=2,
                                                                 name="s"), keras=keras)
    layer = E.SpectralNormalization(E.Dense(6), power_iterations=20)
    x = torch.randn(4, 8)
    layer(x, training=False)
    layer(x, training=True)
    top = torch.linalg.matrix_norm(layer.layer.kernel.detach(), ord=2)
    assert abs(float(top) - 1.0) < 1e-3  # the kernel's largest singular value is now 1
    def build(lib):
        inp = lib.Input(shape=(5,))
        return lib.Model(inp, lib.layers.SpectralNormalization(lib.layers.Dense(3, name="d"), name="sn")(inp))

    e = build(engine)
    xs = np.random.default_rng(0).standard_normal((4, 5)).astype("float32")
    e.save(str(tmp_path / "e.keras"))
    k = keras.models.load_model(str(tmp_path / "e.keras"))
    np.testing.assert_allclose(k.predict(xs, verbose=0), e.predict(xs, verbose=0), atol=1e-6)
    k.save(str(tmp_path / "k.keras"))
    back = engine.models.load_model(str(tmp_path / "k.keras"))
    np.testing.assert_allclose(back.predict(xs, verbose=0), e.predict(xs, verbose=0), atol=1e-6)
    for a, b in zip(back.get_weights(), k.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs", [{}, dict(tie_weights=False), dict(logit_soft_cap=2.0, mask_zero=True)])
def test_reversible_embedding_matches_keras(keras, kwargs):
    check_against_keras(lambda L: L.ReversibleEmbedding(9, 4, **kwargs), (3, 5), keras=keras, input_dtype="int64",
                        int_range=(0, 9), check_grads=False)
    check_against_keras(lambda L: L.ReversibleEmbedding(9, 4, **kwargs), (3, 5, 4), keras=keras,
                        call_kwargs=dict(reverse=True))
    check_config_against_keras(lambda L: L.ReversibleEmbedding(9, 4, name="r", **kwargs), keras=keras)


def test_tied_reversible_embedding_model_goes_both_ways(keras, tmp_path):
    def build(lib):
        inp = lib.Input(shape=(6,), dtype="int32")
        emb = lib.layers.ReversibleEmbedding(11, 4, name="emb")
        h = lib.layers.Dense(4, activation="tanh")(emb(inp))
        return lib.Model(inp, emb(h, reverse=True))

    x = np.random.default_rng(0).integers(0, 11, size=(2, 6)).astype("int32")
    e = build(engine)
    assert tuple(e.outputs[0].shape) == (None, 6, 11)
    e.save(str(tmp_path / "e.keras"))
    k = keras.models.load_model(str(tmp_path / "e.keras"))
    np.testing.assert_allclose(k.predict(x, verbose=0), e.predict(x, verbose=0), atol=1e-5)
    k.save(str(tmp_path / "k.keras"))
    np.testing.assert_allclose(engine.models.load_model(str(tmp_path / "k.keras")).predict(x, verbose=0),
                               e.predict(x, verbose=0), atol=1e-5)
