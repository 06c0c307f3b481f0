"""The ``.onnx`` export, checked with onnxruntime; without onnx it says what to install."""
import sys

import numpy as np
import pytest

from tests.visualkeras_app.export.conftest import build, predict
from visualkeras_app.export import ExportError, export_model


@pytest.mark.parametrize("key", ["seed_cnn", "mnist_fast_cnn", "residual_block", "seed_mlp", "text_lstm", "two_input"])
def test_onnx_matches(key, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model, xs = build(key)
    report = export_model(model, tmp_path / "m.onnx")
    assert report.format == "onnx"
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    feeds = {i.name: x for i, x in zip(session.get_inputs(), xs)}
    got = session.run(None, feeds)[0]
    np.testing.assert_allclose(got, predict(model, xs), atol=1e-4)


def test_onnx_without_the_extra_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    model, _ = build("seed_mlp")
    with pytest.raises(ExportError, match=r'pip install "visualkeras-app\[onnx\]"'):
        export_model(model, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.slow
def test_onnx_keeps_keras_uneven_same_padding(tmp_path):
    """Strided "same" convolution and pooling on odd sizes pad more after than before (Keras's rule): the
    engine reads the traced sizes as plain ints, so the exported graph pads as the model does."""
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from engine import layers
    from engine.models import Model

    x = layers.Input((7, 7, 2))
    y = layers.Conv2D(3, 3, strides=2, padding="same")(x)
    y = layers.MaxPooling2D(2, strides=2, padding="same")(y)
    y = layers.AveragePooling2D(2, strides=2, padding="same")(y)
    model = Model(x, layers.Conv1D(2, 2, strides=2, padding="same")(layers.Reshape((3, 1))(
        layers.Flatten()(y)[:, :3])))
    xs = [np.random.default_rng(0).random((2, 7, 7, 2), dtype=np.float32)]
    export_model(model, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    got = session.run(None, {session.get_inputs()[0].name: xs[0]})[0]
    np.testing.assert_allclose(got, predict(model, xs), atol=1e-5)
