"""keras.applications architectures built by real Keras 3 (weights=None), saved as .keras and .h5,
open in the engine and predict what Keras predicts."""
import numpy as np
import pytest

import engine
from engine.ops._dispatch import OpLayer

# (constructor name, keyword arguments): small inputs where the architecture allows them.
APPLICATIONS = [
    ("EfficientNetB0", dict(input_shape=(64, 64, 3))),
    ("EfficientNetV2B0", dict(input_shape=(64, 64, 3))),
    ("ConvNeXtTiny", dict(input_shape=(64, 64, 3))),
    ("MobileNetV3Small", dict(input_shape=(64, 64, 3))),
]


@pytest.mark.slow
@pytest.mark.parametrize("name,kwargs", APPLICATIONS, ids=[a[0] for a in APPLICATIONS])
def test_keras_application_loads_and_predicts_as_keras(keras, tmp_path, name, kwargs):
    keras.utils.set_random_seed(0)
    model = getattr(keras.applications, name)(weights=None, **kwargs)
    # Inputs in the [0, 255] pixel range the models' own preprocessing expects.
    x = np.random.default_rng(0).uniform(0, 255, size=(2,) + kwargs["input_shape"]).astype("float32")
    want = model.predict(x, verbose=0)
    for ext in ("keras", "h5"):
        path = str(tmp_path / f"{name}.{ext}")
        model.save(path)
        loaded = engine.models.load_model(path)
        assert loaded.count_params() == model.count_params()
        # Keras's model.layers leaves out operations (ConvNeXt's `x + y`); the engine lists them as nodes.
        assert [layer.name for layer in loaded.layers if not isinstance(layer, OpLayer)] == \
            [layer.name for layer in model.layers]
        got = loaded.predict(x, verbose=0)
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4, err_msg=f"{name} from .{ext}")


@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_operations_in_a_keras_model_file_are_rebuilt_from_engine_ops(keras, tmp_path, ext):
    # ConvNeXt's residual `x + y` is saved as an operation node, not a layer; likewise here.
    inp = keras.Input(shape=(4,))
    h = keras.layers.Dense(4, name="d")(inp)
    out = keras.layers.Add(name="merge")([inp + h, h * 0.5])
    model = keras.Model(inp, keras.ops.relu(out))
    path = str(tmp_path / f"ops.{ext}")
    model.save(path)
    loaded = engine.models.load_model(path)
    x = np.random.default_rng(0).standard_normal((3, 4)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert "merge" in [layer.name for layer in loaded.layers]


def test_layer_scale_matches_keras_convnext_layer(keras):
    from keras.src.applications.convnext import LayerScale

    from tests.engine.layers.harness import check_against_keras

    # keras.layers has no LayerScale (it lives in keras.applications.convnext): pick it by library.
    # (Keras names the unnamed weight variable, variable_1... across the session: compared by position.)
    e = check_against_keras(lambda L: (L.LayerScale if L is engine.layers else LayerScale)(0.5, 6), (2, 3, 6),
                            keras=keras, check_weight_names=False)
    assert [w.keras_name for w in e.weights] == ["variable"]
    layer = engine.layers.LayerScale(1e-6, 6, name="ls")
    assert layer.get_config() == LayerScale(1e-6, 6, name="ls").get_config()
