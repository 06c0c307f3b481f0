"""``.keras``/``.h5``/``.json``/``.weights.h5`` exports load in real Keras 3 and predict the same."""
import numpy as np
import pytest

from tests.visualkeras_app.export.conftest import MODELS, build, predict
from visualkeras_app.export import export_model


@pytest.mark.slow
@pytest.mark.keras
@pytest.mark.parametrize("key", MODELS)
@pytest.mark.parametrize("ext", [".keras", ".h5"])
def test_keras_loads_and_matches(key, ext, keras, tmp_path):
    model, xs = build(key)
    report = export_model(model, tmp_path / f"m{ext}")
    assert report.format == ext[1:]
    loaded = keras.saving.load_model(str(tmp_path / f"m{ext}"), compile=False)
    got = loaded.predict(xs[0] if len(xs) == 1 else xs, verbose=0)
    np.testing.assert_allclose(np.asarray(got), predict(model, xs), atol=1e-5)


@pytest.mark.keras
def test_json_and_weights_load_in_keras(keras, tmp_path):
    model, xs = build("residual_block")
    export_model(model, tmp_path / "m.json")
    export_model(model, tmp_path / "m.weights.h5")
    loaded = keras.models.model_from_json((tmp_path / "m.json").read_text())
    loaded.load_weights(str(tmp_path / "m.weights.h5"))
    np.testing.assert_allclose(loaded.predict(xs[0], verbose=0), predict(model, xs), atol=1e-5)


def test_unknown_extension_lists_formats(tmp_path):
    from visualkeras_app.export import ExportError

    model, _ = build("seed_mlp")
    with pytest.raises(ExportError, match=r"\.onnx"):
        export_model(model, tmp_path / "m.xyz")
