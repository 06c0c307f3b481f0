"""The Results view fills from a trained model's test results; confusion cells filter the mistakes."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

from visualkeras_app.results_ui.charts import image_array, model_input, model_takes_digits
from visualkeras_app.results_ui.results_view import MAX_GRID, ResultsView


@pytest.fixture
def view(qtbot, trained):
    model, prepared, names, results = trained
    v = ResultsView()
    qtbot.addWidget(v)
    v.resize(900, 700)
    v.set_model(model, prepared, names)
    v.set_results(results)
    v.show()
    qtbot.waitExposed(v)
    return v


def test_fills_from_results(view, trained):
    _, prepared, _, results = trained
    assert f"{100 * results.test_accuracy:.2f}%" in view.summary.text()
    assert f"{results.test_loss:.4f}" in view.summary.text()
    np.testing.assert_array_equal(view.matrix.matrix, results.confusion)
    assert view.matrix.matrix.sum() == len(prepared.x_test)
    np.testing.assert_allclose(view.per_class.values, results.per_class_accuracy, atol=1e-6)
    wrong = [int(r[0]) for r in results.misclassified]
    assert view.shown_indices() == wrong[:MAX_GRID]
    assert not view.grid.item(0).icon().isNull()
    true, pred = int(results.misclassified[0][1]), int(results.misclassified[0][2])
    assert view.grid.item(0).text() == f"{true} → {pred}"


def test_confusion_cell_click_filters_the_grid(qtbot, view, trained):
    results = trained[3]
    _, true, pred = (int(v) for v in results.misclassified[0])
    qtbot.mouseClick(view.matrix, Qt.LeftButton, pos=view.matrix.cell_center(true, pred).toPoint())
    expected = [int(r[0]) for r in results.misclassified if (int(r[1]), int(r[2])) == (true, pred)]
    assert view.shown_indices() == expected
    assert view.matrix.selected == (true, pred)
    assert view.show_all.isVisibleTo(view)
    qtbot.mouseClick(view.show_all, Qt.LeftButton)
    assert len(view.shown_indices()) == min(MAX_GRID, len(results.misclassified))
    assert view.matrix.selected is None


def test_click_enlarges_and_asks_for_feature_maps(qtbot, view, trained):
    results = trained[3]
    row = min(1, view.grid.count() - 1)
    item = view.grid.item(row)
    rect = view.grid.visualItemRect(item)
    qtbot.mouseClick(view.grid.viewport(), Qt.LeftButton, pos=rect.center())
    index, true, pred = (int(v) for v in results.misclassified[row])
    assert view.preview.index == index
    assert not view.preview.image.pixmap().isNull()
    assert view.preview.image.pixmap().width() > 28 * 2
    assert f"True: <b>{true}</b>" in view.preview.caption.text()
    with qtbot.waitSignal(view.image_chosen, timeout=1000) as sig:
        qtbot.mouseClick(view.preview.button, Qt.LeftButton)
    assert sig.args == [index]


def test_a_class_missing_from_the_test_set(view, trained):
    """per_class_accuracy is NaN for a class with no test samples: drawn as a dash, no crash."""
    import dataclasses

    results = trained[3]
    acc = np.array(results.per_class_accuracy, dtype=float)
    acc[3] = np.nan
    view.set_results(dataclasses.replace(results, per_class_accuracy=acc))
    assert np.isnan(view.per_class.values[3])
    assert not view.per_class.grab().isNull()


def test_clear_and_placeholder(view):
    view.clear()
    assert view.grid.count() == 0 and view.matrix.matrix.size == 0
    assert "No results" in view.summary.text()
    assert not view.preview.button.isEnabled()


def test_image_array_accepts_dataset_and_prepared_layouts():
    digit = (np.arange(784) % 256).astype(np.uint8)
    assert image_array(digit).shape == (28, 28)
    np.testing.assert_array_equal(image_array(digit.reshape(28, 28, 1)), digit.reshape(28, 28))
    floats = image_array(digit.reshape(28, 28, 1).astype(np.float32) / 255)
    assert floats.dtype == np.uint8 and np.abs(floats.astype(int) - digit.reshape(28, 28)).max() <= 1
    standardized = image_array(np.linspace(-2, 3, 784, dtype=np.float32))
    assert standardized.min() == 0 and standardized.max() == 255
    with pytest.raises(ValueError, match="square"):
        image_array(np.zeros(10))


def test_model_input_shapes(trained):
    model = trained[0]
    x = model_input(model, (np.ones((28, 28)) * 255).astype(np.uint8))
    assert x.shape == (1, 28, 28, 1) and x.dtype == np.float32 and x.max() == 1.0
    assert model_takes_digits(model)
    with pytest.raises(ValueError, match="input"):
        model_input(model, np.zeros((32, 32, 3), np.float32))


def test_four_digit_counts_show_in_a_short_dock(qtbot):
    # MNIST's full test set: the diagonal holds 1,135 ones; a matrix 260 px tall (about the Results dock's
    # at 1400x900) has cells of about 21 px. Every count is drawn, in a font the longest one fits.
    from visualkeras_app.results_ui.results_view import ConfusionMatrix

    m = ConfusionMatrix()
    qtbot.addWidget(m)
    m.resize(520, 260)
    confusion = np.diag([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]).astype(np.int64)
    confusion[4, 9] = 6
    m.set_matrix(confusion)
    assert m.shown_counts()[confusion > 0].all()
    m.resize(150, 150)  # too small for four digits: those are left to the tooltip, the single mistake shows
    shown = m.shown_counts()
    assert not shown[confusion >= 1000].any() and shown[4, 9]
