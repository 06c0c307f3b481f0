import pytest

from visualkeras_app.training.recipe import RECIPE_BATCH_SIZE, RECIPE_MAX_LR, one_click_settings
from visualkeras_app.training.settings import TrainSettings


def test_round_trip_and_unknown_keys_ignored():
    s = TrainSettings(epochs=3, learning_rate=0.01, max_train_samples=100)
    assert TrainSettings.from_dict(s.to_dict()) == s
    t = TrainSettings.from_dict({"epochs": 2, "metrics": ["accuracy"], "batch_size": 128})
    assert (t.epochs, t.batch_size, t.optimizer) == (2, 128, "adam")


@pytest.mark.parametrize("kw,match", [({"epochs": 0}, "epochs=0"), ({"batch_size": -1}, "batch_size=-1"),
                                      ({"learning_rate": 0}, "learning_rate=0"),
                                      ({"validation_split": 1.0}, "validation_split=1.0"),
                                      ({"schedule": "cyclic"}, "schedule='cyclic'")])
def test_bad_values_say_what_was_received(kw, match):
    with pytest.raises(ValueError, match=match):
        TrainSettings(**kw)


def test_one_click_recipe():
    s = one_click_settings()
    assert (s.optimizer, s.schedule, s.batch_size, s.epochs, s.validation_split) == ("adam", "one_cycle", 128, 1, 0.0)
    assert s.batch_size == RECIPE_BATCH_SIZE
    assert s.learning_rate == RECIPE_MAX_LR
    assert one_click_settings(epochs=2).epochs == 2


def test_the_fast_template_saves_the_recipe():
    from visualkeras_app.document.templates import load_template

    saved = TrainSettings.from_dict(load_template("mnist_fast_cnn").training)
    assert saved.replace(loss="auto") == one_click_settings()  # the same loss, named for Keras code


def test_one_click_session_trains_the_template(mnist_small):
    from visualkeras_app.training.recipe import one_click_session

    session = one_click_session(settings=one_click_settings(max_train_samples=256), dataset=mnist_small)
    assert type(session.model.layers[0]).__name__ == "Conv2D" and session.x_fit.shape == (256, 28, 28, 1)
    record = session.run()
    assert session.error is None and record.stopped_reason == "finished" and record.batches.total == 2
    assert record.name == "One-click MNIST" and record.test_accuracy is not None
