"""The exports and the new Keras 3 layers (audio, colour/mixing augmentation, Pipeline): the engine .py
export rebuilds them and predicts as the app does; the PyTorch script refuses them, naming each layer."""
import runpy

import numpy as np
import pytest

from visualkeras_app.export import ExportError, export_model


def _audio_model():
    import engine
    from engine import layers as L

    inp = engine.Input((256, 1), name="audio")
    x = L.STFTSpectrogram(mode="magnitude", frame_length=32, frame_step=16, name="stft")(inp)
    x = L.GlobalAveragePooling1D(name="pool")(x)
    return engine.Model(inp, L.Dense(2, name="head")(x)), (2, 256, 1)


def _augmentation_model():
    import engine
    from engine import layers as L

    img = engine.Input((16, 16, 3), name="image")
    y = L.Pipeline([L.RandomHue(0.2), L.Rescaling(1 / 255)], name="pre")(img)
    y = L.RandomErasing(name="erase")(y)
    y = L.CutMix(name="cutmix")(y)
    return engine.Model(img, L.Dense(2, name="head")(L.Flatten(name="flat")(y))), (2, 16, 16, 3)


@pytest.mark.parametrize("make", [_audio_model, _augmentation_model], ids=["audio", "augmentation"])
def test_engine_script_rebuilds_new_layers(tmp_path, make):
    model, shape = make()
    export_model(model, tmp_path / "m.py")
    rebuilt = runpy.run_path(str(tmp_path / "m.py"))["model"]
    x = np.random.default_rng(0).uniform(0, 255, shape).astype("float32")
    np.testing.assert_allclose(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)


@pytest.mark.parametrize("make,named", [(_audio_model, [r"'stft' \(STFTSpectrogram\)"]),
                                        (_augmentation_model, [r"'pre' \(Pipeline\)", r"'erase' \(RandomErasing\)",
                                                               r"'cutmix' \(CutMix\)"])],
                         ids=["audio", "augmentation"])
def test_pytorch_script_refuses_new_layers_by_name(tmp_path, make, named):
    model, _ = make()
    with pytest.raises(ExportError) as info:
        export_model(model, tmp_path / "m_torch.py", weights_format="pt")
    for pattern in named:
        assert __import__("re").search(pattern, str(info.value)), (pattern, str(info.value))
    assert not (tmp_path / "m_torch.py").exists()


@pytest.mark.slow  # importing onnx and exporting take seconds
@pytest.mark.parametrize("make", [_audio_model, _augmentation_model], ids=["audio", "augmentation"])
def test_onnx_export_of_new_layers_predicts_as_the_app(tmp_path, make):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    model, shape = make()
    export_model(model, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    x = np.random.default_rng(1).uniform(0, 255, shape).astype("float32")
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=1e-4, atol=1e-4)  # augmentation: inference
