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
