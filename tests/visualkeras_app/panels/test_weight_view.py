"""The Inspector's weight view (Netron-style): a layer with trained weights shows each weight's name, shape,
min/max/mean/std and histogram; a layer without weights shows none; NaN weights are named, not averaged in."""
import numpy as np
import pytest

from visualkeras_app.panels.inspector import InspectorPanel
from visualkeras_app.panels.weight_view import BINS, weight_names, weight_stats
from tests.visualkeras_app.panels.conftest import build_chain


def test_weight_stats_and_histogram():
    rng = np.random.default_rng(0)
    a = rng.normal(0.5, 2.0, (30, 40)).astype(np.float32)
    st = weight_stats(a)
    assert st["shape"] == (30, 40) and st["size"] == 1200 and st["nonfinite"] == 0
    assert st["min"] == pytest.approx(a.min()) and st["max"] == pytest.approx(a.max())
    assert st["mean"] == pytest.approx(a.mean(), rel=1e-5) and st["std"] == pytest.approx(a.std(), rel=1e-5)
    assert st["counts"].sum() == 1200 and len(st["counts"]) == BINS
    b = np.array([1.0, np.nan, np.inf, 3.0])
    st = weight_stats(b)
    assert st["nonfinite"] == 2 and st["mean"] == 2.0 and st["counts"].sum() == 2
    st = weight_stats(np.zeros(5))
    assert st["min"] == st["max"] == 0 and st["counts"].sum() == 5  # a constant weight still has a bar
    with pytest.raises(ValueError, match="no statistics"):
        weight_stats(np.array(["a"]))


def test_weight_names():
    assert weight_names("Dense", {}, 2) == ["kernel", "bias"]
    assert weight_names("Conv2D", {}, 1) == ["kernel"]
    assert weight_names("BatchNormalization", {"scale": False}, 3) == ["beta", "moving_mean", "moving_variance"]
    assert weight_names("Mystery", {}, 2) == ["weight 0", "weight 1"]


def test_inspector_shows_a_trained_layers_weights(qtbot, controller):
    panel = InspectorPanel(controller)
    qtbot.addWidget(panel)
    panel.resize(340, 700)
    panel.show()
    ids = build_chain(controller, "Flatten", ("Dense", {"units": 4}))
    dense = controller.document.nodes[ids[-1]]
    controller.set_selection([dense.id])
    assert panel.weight_view is None  # no trained weights: numpy's view is not even made
    kernel = np.linspace(-1, 1, 784 * 4, dtype=np.float32).reshape(784, 4)
    dense.weights = [kernel, np.full(4, 0.25, np.float32)]
    panel.refresh_weights()
    view = panel.weight_view
    assert view.isVisible() and view.names() == ["kernel", "bias"]
    text = view.sections[0][1].text()
    assert "784×4" in text and "3,136 values" in text and "min -1" in text and "max 1" in text
    assert "mean 0.25" in view.sections[1][1].text()
    assert view.stats[0]["counts"].sum() == 3136
    # Another layer without weights: the view goes away; back to the Dense: it returns.
    controller.set_selection([ids[1]])
    assert not view.isVisible()
    controller.set_selection([dense.id])
    assert view.isVisible() and view.names() == ["kernel", "bias"]


def test_gradient_histograms_follow_the_weights(qtbot):
    from PySide6.QtCore import Qt  # noqa: F401

    from visualkeras_app.document.graph import LayerNode
    from visualkeras_app.panels.weight_view import WeightView, gradients_for

    view = WeightView()
    qtbot.addWidget(view)
    w = [np.ones((3, 2), np.float32), np.zeros(2, np.float32)]
    node = LayerNode("n1", "Dense", "dense", {"units": 2}, (0.0, 0.0), weights=w)
    node.gradients = [np.full((3, 2), -0.5, np.float32), None]
    view.set_node(node)
    assert view.names() == ["kernel", "bias", "∇ kernel"] and view.gradient_names() == ["∇ kernel"]
    assert view.stats[2]["mean"] == -0.5
    assert view.sections[2][2].color != view.sections[0][2].color
    assert gradients_for(w, [np.ones((2, 2)), None]) is None  # shapes changed since: not shown
    assert gradients_for(w, [None]) is None


@pytest.mark.slow  # fits a model first: about a second here
def test_layer_gradients_of_a_compiled_model():
    engine = pytest.importorskip("engine")
    from engine import layers

    from visualkeras_app.training.gradients import layer_gradients

    m = engine.Sequential([layers.Input(shape=(5,)), layers.Dense(4, activation="relu"),
                           layers.BatchNormalization(), layers.Dense(3, activation="softmax")])
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 5), dtype=np.float32), rng.integers(0, 3, 40)
    m.fit(x, y, epochs=1, batch_size=20, verbose=0)  # as in the app: gradients of a trained model
    before = [a.copy() for a in m.get_weights()]
    g = layer_gradients(m, x, y, max_samples=16)
    assert [a.shape for a in g["dense"]] == [(5, 4), (4,)]
    assert g["batch_normalization"][2] is None and g["batch_normalization"][3] is None  # moving statistics
    assert np.abs(g["dense_1"][0]).sum() > 0
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)  # weights untouched
    assert all(w.value.grad is None or not w.value.grad.any() for w in m.weights)  # gradients cleared
    with pytest.raises(ValueError, match="at least one sample"):
        layer_gradients(m, x[:0], y[:0])
