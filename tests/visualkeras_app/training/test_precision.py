"""The run's precision (TrainSettings.precision): checked, "auto" settled for the device, the run computes in
the mixed policy and the model gets its own policies back; the one-click recipe trains in "auto"; the
command line and the panel set it."""
import dataclasses

import numpy as np
import pytest
import torch

from engine import mixed_precision
from visualkeras_app.training.precision import PRECISIONS, resolve
from visualkeras_app.training.settings import TrainSettings


def test_settings_take_the_precisions_and_name_them_when_refused():
    for value in PRECISIONS:
        assert TrainSettings.from_dict(TrainSettings(precision=value).to_dict()).precision == value
    assert TrainSettings().precision == "float32"
    with pytest.raises(ValueError, match=r"precision must be one of \['auto', 'float32', 'mixed_bfloat16', "
                                         r"'mixed_float16'\]. Received: precision='float8'"):
        TrainSettings(precision="float8")
    assert resolve("auto", "cpu") == mixed_precision.fast_policy("cpu")
    assert resolve("auto", "mps") == "float32" and resolve("mixed_float16", "cpu") == "mixed_float16"


def test_the_recipe_and_its_template_train_in_auto():
    from visualkeras_app.document.templates import load_template
    from visualkeras_app.training.recipe import TEMPLATE, one_click_settings, settings_for

    assert one_click_settings().precision == "auto"
    assert settings_for(load_template(TEMPLATE)).precision == "auto"
    assert settings_for(load_template(TEMPLATE), precision="float32").precision == "float32"


@pytest.fixture
def tiny_session(mnist_slice):
    import engine
    from engine import layers
    from visualkeras_app.training.data import prepare_for_model
    from visualkeras_app.training.session import TrainingSession

    def make(**settings):
        engine.utils.set_random_seed(0)
        model = engine.Sequential([layers.Input((28, 28, 1)), layers.Conv2D(4, 3, strides=2, activation="relu"),
                                   layers.Flatten(), layers.Dense(10, activation="softmax")])
        s = TrainSettings(batch_size=32, validation_split=0.0, **settings)
        events = {"messages": [], "policies": []}

        class Listener:
            def on_message(self, text):
                events["messages"].append(text)

            def on_batch(self, point):
                events["policies"].append({layer.dtype_policy.name for layer in model.layers})

        return TrainingSession(model, prepare_for_model(mnist_slice, model, "auto"), s, listener=Listener()), events

    return make


@pytest.fixture(scope="module")
def mnist_slice():
    from visualkeras_app.training.data import load_dataset

    ds = load_dataset("mnist")
    return dataclasses.replace(ds, x_train=ds.x_train[:128], y_train=ds.y_train[:128], x_test=ds.x_test[:64],
                               y_test=ds.y_test[:64])


def test_a_mixed_run_computes_in_its_policy_and_the_model_keeps_float32(tiny_session):
    session, events = tiny_session(precision="mixed_bfloat16")
    record = session.run()
    assert session.error is None and record.test_accuracy is not None
    assert events["policies"] == [{"mixed_bfloat16"}] * 4  # 128 samples in batches of 32
    assert events["messages"][0] == "Training in mixed bfloat16; the weights stay float32."
    assert {layer.dtype_policy.name for layer in session.model.layers} == {"float32"}
    assert all(w.dtype == torch.float32 for w in session.model.weights)
    p = session.prepared  # the run's test figures are the float32 model's, as saved and as Evaluate gives them
    logs = session.model.evaluate(p.x_test, p.y_test, batch_size=256, verbose=0, return_dict=True)
    assert (logs["loss"], logs["accuracy"]) == (pytest.approx(record.test_loss, rel=1e-6),
                                                pytest.approx(record.test_accuracy, abs=1e-7))
    session.train_more(1)  # "more epochs" trains in the run's precision again
    assert events["policies"][4:] == [{"mixed_bfloat16"}] * 4


def test_float32_and_auto_runs(tiny_session):
    session, events = tiny_session()
    session.run()
    assert events["policies"] == [{"float32"}] * 4 and not events["messages"]
    weights32 = session.model.get_weights()
    session, events = tiny_session(precision="auto")
    session.run()
    if session.policy == "float32":  # no bfloat16 matrix units here: auto is float32, and trains the same
        assert all(np.array_equal(a, b) for a, b in zip(weights32, session.model.get_weights(), strict=True))
    else:
        assert events["policies"][0] == {"mixed_bfloat16"}
        assert "Auto: this device multiplies bfloat16 in hardware" in events["messages"][0]
        assert not all(np.array_equal(a, b) for a, b in zip(weights32, session.model.get_weights(), strict=True))
