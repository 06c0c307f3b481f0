"""engine.applications against keras.applications: every architecture built by both (weights=None) has the
same layer names and parameter count, and with Keras's weights copied by layer name predicts what Keras
predicts; files go both ways; weights="imagenet" downloads with Keras's hash or says what to download."""
import os
import time

import numpy as np
import pytest

import engine
from engine import applications
from engine.ops._dispatch import OpLayer

# Every keras.applications constructor, with the smallest input it accepts (the top included: with
# weights=None Keras allows any size), so that building and predicting stay quick.
SIZES = {"InceptionV3": 75, "InceptionResNetV2": 75, "Xception": 71, "NASNetMobile": 32, "NASNetLarge": 32}
ARCHITECTURES = applications.names()


def keras_build(keras, name, **kwargs):
    """``keras.applications.<name>(**kwargs)``; NASNetMobile through Keras's NASNet builder, because Keras 3
    refuses NASNetMobile on its torch backend (a torch-backend bug it cites) but builds the same graph."""
    if name == "NASNetMobile":
        from keras.src.applications import nasnet

        return nasnet.NASNet(kwargs.pop("input_shape", None), penultimate_filters=1056, num_blocks=4,
                             stem_block_filters=32, skip_reduction=False, filter_multiplier=2, default_size=224,
                             name="nasnet_mobile", **kwargs)
    return getattr(keras.applications, name)(**kwargs)


def named_layers(model):
    # Keras's model.layers leaves out operations (x + y); the engine lists them as OpLayer nodes.
    return [layer.name for layer in model.layers if not isinstance(layer, OpLayer)]


def copy_weights_by_name(kmodel, emodel):
    for klayer in kmodel.layers:
        weights = klayer.get_weights()
        if weights:
            emodel.get_layer(klayer.name).set_weights(weights)


def assert_predicts_alike(got, want, what):
    # Random weights and untrained batch statistics can make outputs large: 1e-4 relative to their scale.
    scale = max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * scale, err_msg=what)


def images(size, n=2):
    return np.random.default_rng(0).uniform(0, 255, size=(n, size, size, 3)).astype("float32")


@pytest.mark.slow
@pytest.mark.parametrize("name", ARCHITECTURES)
def test_engine_build_matches_keras_names_params_and_predictions(keras, name):
    size = SIZES.get(name, 32)
    kwargs = dict(weights=None, input_shape=(size, size, 3))
    keras.backend.clear_session()
    engine.backend.clear_session()  # both number unnamed layers from 0, as in a fresh session
    t0 = time.perf_counter()
    kmodel = keras_build(keras, name, **kwargs)
    t1 = time.perf_counter()
    emodel = getattr(applications, name)(**kwargs)
    t2 = time.perf_counter()
    assert emodel.name == kmodel.name
    assert named_layers(emodel) == [layer.name for layer in kmodel.layers]
    assert emodel.count_params() == kmodel.count_params()
    copy_weights_by_name(kmodel, emodel)
    x = images(size)
    assert_predicts_alike(emodel.predict(x, verbose=0), kmodel.predict(x, verbose=0), name)
    print(f"{name}: Keras build {t1 - t0:.1f}s, engine build {t2 - t1:.1f}s, {len(kmodel.layers)} layers")


# One member of each family goes through files both ways.
ROUND_TRIPS = ["VGG16", "ResNet50", "ResNet50V2", "InceptionV3", "InceptionResNetV2", "Xception", "MobileNet",
               "MobileNetV2", "MobileNetV3Small", "DenseNet121", "NASNetMobile", "EfficientNetB0",
               "EfficientNetV2B0", "ConvNeXtTiny"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ROUND_TRIPS)
def test_files_both_ways(keras, tmp_path, name):
    size = SIZES.get(name, 32)
    kwargs = dict(weights=None, input_shape=(size, size, 3))
    x = images(size)
    # Keras's build, saved as .keras and .h5, opens in the engine and predicts as Keras.
    kmodel = keras_build(keras, name, **kwargs)
    want = kmodel.predict(x, verbose=0)
    for ext in ("keras", "h5"):
        path = str(tmp_path / f"k.{ext}")
        kmodel.save(path)
        loaded = engine.models.load_model(path)
        assert loaded.count_params() == kmodel.count_params()
        assert_predicts_alike(loaded.predict(x, verbose=0), want, f"Keras {name} .{ext} in the engine")
    # The engine's build, saved, opens in Keras and predicts as the engine. (The engine cannot yet write
    # tensor operations into a file: ConvNeXt's x + y and MobileNetV3's hard sigmoid are built as the
    # equivalent Add and Activation layers for saving.)
    from engine.applications.imagenet_utils import ops_as_layers

    with ops_as_layers():
        emodel = getattr(applications, name)(**kwargs)
    want = emodel.predict(x, verbose=0)
    for ext in ("keras", "h5"):
        path = str(tmp_path / f"e.{ext}")
        emodel.save(path)
        loaded = keras.saving.load_model(path)
        assert loaded.count_params() == emodel.count_params()
        assert_predicts_alike(loaded.predict(x, verbose=0), want, f"engine {name} .{ext} in Keras")


@pytest.mark.slow
def test_weights_path_loads_a_keras_weights_file(keras, tmp_path):
    kmodel = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3))
    for fname in ("w.weights.h5", "w.h5"):
        path = str(tmp_path / fname)
        (kmodel.save_weights if fname.endswith(".weights.h5") else kmodel.save)(path)
        emodel = applications.MobileNetV2(weights=path, include_top=False, input_shape=(32, 32, 3))
        x = images(32)
        assert_predicts_alike(emodel.predict(x, verbose=0), kmodel.predict(x, verbose=0), fname)


def test_every_keras_application_is_there():
    keras_names = {"VGG16", "VGG19", "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2",
                   "ResNet152V2", "InceptionV3", "InceptionResNetV2", "Xception", "MobileNet", "MobileNetV2",
                   "MobileNetV3Small", "MobileNetV3Large", "DenseNet121", "DenseNet169", "DenseNet201",
                   "NASNetMobile", "NASNetLarge", "ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge",
                   "ConvNeXtXLarge"} | {f"EfficientNetB{i}" for i in range(8)} | \
        {f"EfficientNetV2{s}" for s in ("B0", "B1", "B2", "B3", "S", "M", "L")}
    assert set(applications.names()) == keras_names
    for name in keras_names:
        module = applications.module_of(name)
        assert callable(getattr(module, name)) and callable(module.preprocess_input)
        assert callable(module.decode_predictions)
    assert applications.resnet50.ResNet50 is applications.ResNet50


def test_unknown_application_and_bad_arguments_say_what_is_wrong(tmp_path):
    with pytest.raises(ValueError, match="Did you mean 'ResNet50'"):
        applications.module_of("ResNet05")
    with pytest.raises(ValueError, match="no such file"):
        applications.MobileNetV2(weights=str(tmp_path / "missing.h5"))
    with pytest.raises(ValueError, match="`classes` should be 1000"):
        applications.MobileNetV2(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="at least 32x32"):
        applications.MobileNetV2(weights=None, include_top=False, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="pooling must be None, 'avg' or 'max'"):
        applications.MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3), pooling="mean")


def test_imagenet_weights_offline_name_the_file_url_and_cache_folder(offline_home, monkeypatch):
    from engine.applications import mobilenet_v2

    monkeypatch.setenv("VISUALKERAS_OFFLINE", "1")
    with pytest.raises(Exception) as info:
        mobilenet_v2.MobileNetV2(weights="imagenet", include_top=False, input_shape=(96, 96, 3), alpha=0.35)
    message = str(info.value)
    fname = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"
    assert fname in message
    assert mobilenet_v2.BASE_WEIGHT_PATH + fname in message
    assert os.path.join(str(offline_home), ".keras", "models", fname) in message


@pytest.mark.slow
def test_imagenet_weights_come_from_the_cache_checked_against_keras_hash(offline_home, monkeypatch, tmp_path):
    # A file already in Keras's cache with the published md5 is used without any download; a file with
    # another hash is not trusted (offline: refused, naming the file).
    from engine.applications import resnet

    monkeypatch.setenv("VISUALKERAS_OFFLINE", "1")
    models = offline_home / ".keras" / "models"
    models.mkdir(parents=True)
    fname = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    (models / fname).write_bytes(b"not the published file")
    with pytest.raises(Exception, match=fname):
        resnet.ResNet50(weights="imagenet", include_top=False, input_shape=(32, 32, 3))


@pytest.mark.slow  # Keras's applications load (seconds)
def test_preprocess_input_modes_match_keras(keras):
    x = images(8, n=3)
    for module in ("vgg16", "resnet", "resnet_v2", "inception_v3", "xception", "mobilenet", "mobilenet_v2",
                   "densenet", "nasnet", "inception_resnet_v2", "efficientnet", "efficientnet_v2", "convnext",
                   "mobilenet_v3"):
        want = getattr(keras.applications, module).preprocess_input(x.copy())
        got = getattr(applications, module).preprocess_input(x.copy())
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-4, err_msg=module)
        import torch

        got_t = getattr(applications, module).preprocess_input(torch.as_tensor(x.copy()))
        np.testing.assert_allclose(np.asarray(got_t), want, rtol=1e-6, atol=1e-4, err_msg=f"{module} (tensor)")


def test_decode_predictions_refuses_a_wrong_shape():
    with pytest.raises(ValueError, match=r"\(samples, 1000\)"):
        applications.resnet.decode_predictions(np.zeros((2, 10)))


@pytest.mark.slow
def test_summary_command_prints_keras_param_count(keras, tmp_path, capsys):
    from visualkeras_app.cli import main

    kmodel = keras.applications.MobileNetV2(weights=None, include_top=True, input_shape=(32, 32, 3), classes=7)
    path = tmp_path / "mobilenetv2.keras"
    kmodel.save(str(path))
    assert main(["summary", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"Total params: {kmodel.count_params():,}" in out
