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
