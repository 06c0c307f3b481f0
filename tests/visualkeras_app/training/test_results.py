"""evaluate_results, feature_maps and predict_digit on small models and real MNIST images."""
import numpy as np
import pytest
import torch

from tests.visualkeras_app.training.conftest import tiny_cnn, tiny_mlp
from visualkeras_app.training.data import Prepared, prepare_for_model
from visualkeras_app.training.results import evaluate_results, feature_maps, predict_digit


@pytest.fixture
def trained(mnist_small):
    import engine

    model = tiny_cnn()
    p = prepare_for_model(mnist_small, model)
    model.compile(engine.optimizers.Adam(3e-3), p.loss, metrics=["accuracy"])
    model.fit(p.x_train, p.y_train, batch_size=64, epochs=1, verbose=0)
    return model, p


@pytest.mark.slow
def test_results_agree_with_evaluate(trained):
    model, p = trained
    r = evaluate_results(model, p)
    logs = model.evaluate(p.x_test, p.y_test, verbose=0, return_dict=True)
    assert r.test_accuracy == pytest.approx(logs["accuracy"], abs=1e-6)
    assert r.test_loss == pytest.approx(logs["loss"], rel=1e-4)
    assert r.confusion.shape == (10, 10) and r.confusion.sum() == 200 and r.confusion.dtype == np.int64
    assert np.trace(r.confusion) == round(r.test_accuracy * 200)
    labels = p.test_labels()
    for i, t, pr in r.misclassified:
        assert labels[i] == t and r.predictions[i] == pr and t != pr
    assert len(r.misclassified) == 200 - np.trace(r.confusion)
    present = r.confusion.sum(1) > 0
    np.testing.assert_allclose(r.per_class_accuracy[present], np.diag(r.confusion)[present] / r.confusion.sum(1)[present])
    assert r.class_names == [str(i) for i in range(10)] and r.probabilities.shape == (200, 10)


def test_confusion_counts_known_predictions():
    class Fixed:  # predict returns given probabilities: the bookkeeping is checked exactly
        def predict(self, x, batch_size=None, verbose=0):
            return np.eye(3, dtype=np.float32)[[0, 1, 2, 2, 0, 1]] * 0.9 + 0.1 / 3

    y = np.array([0, 1, 2, 1, 2, 1])
    p = Prepared(np.zeros((6, 2)), y, np.zeros((6, 2)), y, "sparse_categorical_crossentropy", class_names=list("abc"))
    r = evaluate_results(Fixed(), p)
    assert r.confusion.tolist() == [[1, 0, 0], [0, 2, 1], [1, 0, 1]]
    assert r.misclassified == [(3, 1, 2), (4, 2, 0)] and r.test_accuracy == pytest.approx(4 / 6)
    np.testing.assert_allclose(r.per_class_accuracy, [1.0, 2 / 3, 0.5])
    assert r.test_loss == pytest.approx(-np.log(0.9 + 0.1 / 3) * 4 / 6 - np.log(0.1 / 3) * 2 / 6)


def test_logits_are_turned_into_probabilities(mnist_small):
    model = tiny_mlp(activation="linear")
    p = prepare_for_model(mnist_small, model)
    r = evaluate_results(model, p)
    np.testing.assert_allclose(r.probabilities.sum(1), 1, atol=1e-5)
    z = model.predict(p.x_test, verbose=0).astype(np.float64)
    ref = np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(200), p.test_labels()])
    assert r.test_loss == pytest.approx(ref, rel=1e-6)


@pytest.mark.slow
def test_feature_maps_of_a_sequential_model(trained):
    model, p = trained
    maps = feature_maps(model, p.test_images[0])
    assert [(n, c, a.shape) for n, c, a in maps] == [
        (model.layers[0].name, "Conv2D", (26, 26, 4)), (model.layers[1].name, "MaxPooling2D", (13, 13, 4)),
        (model.layers[3].name, "Dense", (10,))]
    conv = model.layers[0]
    with torch.no_grad():
        ref = conv(torch.from_numpy(p.x_test[:1])).numpy()[0]
    np.testing.assert_allclose(maps[0][2], ref, atol=1e-6)
    np.testing.assert_allclose(maps[-1][2], model.predict(p.x_test[:1], verbose=0)[0], atol=1e-6)


def test_feature_maps_of_a_functional_model_with_branches():
    import engine
    from engine import layers

    inp = layers.Input((8, 8, 1))
    a = layers.Conv2D(2, 3, padding="same", name="left")(inp)
    b = layers.Conv2D(2, 1, name="right")(inp)
    x = layers.Add()([a, b])
    x = layers.Activation("relu", name="act")(x)
    out = layers.Dense(3, activation="softmax", name="head")(layers.Flatten()(x))
    model = engine.Model(inp, out)
    maps = feature_maps(model, np.random.default_rng(0).random((8, 8)))
    assert {n for n, _, _ in maps} == {"left", "right", "act", "head"}
    assert dict((n, a.shape) for n, _, a in maps)["act"] == (8, 8, 2)


@pytest.mark.slow
def test_predict_digit_matches_predict_and_sums_to_one(trained):
    model, p = trained
    probs = predict_digit(model, p.test_images[3])
    assert probs.shape == (10,) and probs.sum() == pytest.approx(1, abs=1e-5)
    np.testing.assert_allclose(probs, model.predict(p.x_test[3:4], verbose=0)[0], atol=1e-5)
    assert not model.training or model.training  # the mode is left as it was
    with pytest.raises(ValueError, match="model's input"):
        predict_digit(model, np.zeros((14, 14)))


def test_predict_digit_on_flat_logit_models():
    model = tiny_mlp(activation="linear")
    probs = predict_digit(model, np.random.default_rng(0).random((28, 28)))
    assert probs.shape == (10,) and probs.sum() == pytest.approx(1, abs=1e-5) and probs.min() > 0
