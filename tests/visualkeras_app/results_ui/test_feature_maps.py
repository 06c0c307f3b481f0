"""The feature-map view: every Conv/Pooling/Dense output for a chosen test image, a layer picker."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

from visualkeras_app.results_ui.feature_maps import ChannelGrid, FeatureMapView, LayerSection, channel_images
from visualkeras_app.results_ui.results_view import ResultsView


@pytest.fixture
def view(qtbot, trained):
    model, prepared, names, results = trained
    v = FeatureMapView()
    qtbot.addWidget(v)
    v.resize(800, 600)
    v.set_model(model, prepared, names)
    v.set_results(results)
    v.show()
    qtbot.waitExposed(v)
    return v


def _sections(view):
    lay = view.content_layout
    return [lay.itemAt(i).widget() for i in range(lay.count()) if isinstance(lay.itemAt(i).widget(), LayerSection)]


def test_shows_each_conv_pool_and_dense_layer(view, trained):
    model = trained[0]
    shown = view.sections()
    kinds = {name: kind for name, _, kind in shown}
    conv = next(l for l in model.layers if type(l).__name__ == "Conv2D")
    pool = next(l for l in model.layers if type(l).__name__ == "MaxPooling2D")
    dense = [l for l in model.layers if type(l).__name__ == "Dense"]
    assert kinds[conv.name] == "channels" and kinds[pool.name] == "channels"
    assert all(kinds[d.name] == "bars" for d in dense)
    assert "flatten" not in "".join(kinds)
    grid = next(s.body for s in _sections(view) if s.name == conv.name)
    assert isinstance(grid, ChannelGrid) and len(grid.pixmaps) == 4 and grid.map_size == (26, 26)
    last = next(s for s in _sections(view) if s.name == dense[-1].name)
    probs = model.predict(trained[1].x_test[:1], verbose=0)[0]
    np.testing.assert_allclose(last.body.values, probs, atol=1e-5)


def test_picking_an_image_updates_maps_and_caption(qtbot, view, trained):
    _, prepared, _, _ = trained
    assert view.index.maximum() == len(prepared.x_test) - 1
    first = [s.array.copy() for s in _sections(view)]
    view.index.setValue(5)
    assert f"True: <b>{int(prepared.test_labels()[5])}</b>" in view.caption.text()
    after = [s.array for s in _sections(view)]
    assert any(not np.allclose(a, b) for a, b in zip(first, after))


def test_layer_picker_shows_one_layer(view, trained):
    conv_name = view.sections()[0][0]
    view.select_layer(conv_name)
    assert [s[0] for s in view.sections()] == [conv_name]
    grid = _sections(view)[0].body
    assert grid.scale * 26 >= 100          # shown larger alone
    view.index.setValue(3)                 # the choice stays while images change
    assert [s[0] for s in view.sections()] == [conv_name]
    view.select_layer(None)
    assert len(view.sections()) > 1


def test_next_mistake_and_results_view_wiring(qtbot, view, trained):
    model, prepared, names, results = trained
    wrong = sorted(int(r[0]) for r in results.misclassified)
    view.index.setValue(0)
    qtbot.mouseClick(view.next_mistake, Qt.LeftButton)
    assert view.current_index() == next(i for i in wrong if i > 0)

    rv = ResultsView()
    qtbot.addWidget(rv)
    rv.set_model(model, prepared, names)
    rv.set_results(results)
    rv.image_chosen.connect(view.show_index)
    rv.grid.setCurrentRow(0)
    rv.preview.button.click()
    assert view.current_index() == int(results.misclassified[0][0])


def test_flat_input_model_shows_images_and_bars(qtbot, trained):
    """A (784,)-input MLP: the test images still show as 28x28, its layers as bars."""
    import engine
    from engine import layers
    from tests.visualkeras_app.results_ui.conftest import small_mnist
    from visualkeras_app.training.data import prepare_for_model
    from visualkeras_app.training.results import evaluate_results

    model = engine.Sequential([layers.Input((784,)), layers.Dense(8, activation="relu"),
                               layers.Dense(10, activation="softmax")])
    prepared = prepare_for_model(small_mnist(), model)
    assert prepared.x_test.shape[1:] == (784,)
    results = evaluate_results(model, prepared, trained[2])   # untrained: plenty of mistakes
    v = FeatureMapView()
    qtbot.addWidget(v)
    v.set_model(model, prepared, trained[2])
    v.set_results(results)
    assert [kind for _, _, kind in v.sections()] == ["bars", "bars"]
    assert v.thumb.pixmap().width() == 56
    rv = ResultsView()
    qtbot.addWidget(rv)
    rv.set_model(model, prepared, trained[2])
    rv.set_results(results)
    assert rv.grid.count() > 0 and not rv.grid.item(0).icon().isNull()


def test_empty_until_a_model_is_set(qtbot):
    v = FeatureMapView()
    qtbot.addWidget(v)
    assert v.sections() == [] and not v.index.isEnabled() and v.placeholder.isVisibleTo(v)


def test_channel_images_stretch_each_channel():
    fmap = np.stack([np.zeros((4, 4)), np.arange(16).reshape(4, 4), -np.ones((4, 4))], axis=-1)
    imgs = channel_images(fmap)
    assert imgs.shape == (3, 4, 4, 3) and imgs.dtype == np.uint8
    assert (imgs[1, 0, 0] != imgs[1, 3, 3]).any()   # its own range: low and high differ
    assert (imgs[0] == imgs[0, 0, 0]).all()          # a constant channel is one colour
