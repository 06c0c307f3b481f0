"""The draw pad: MNIST-style preprocessing of a drawing, throttled predictions, only for 28x28 models."""
import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from visualkeras_app.results_ui import draw_pad as dp
from visualkeras_app.results_ui.draw_pad import DrawPad, mnist_image


@pytest.fixture
def pad(qtbot, trained):
    model, prepared, names, _ = trained
    p = DrawPad()
    qtbot.addWidget(p)
    p.set_model(model, prepared, names)
    p.show()
    qtbot.waitExposed(p)
    return p


def mouse(widget, kind, x, y):
    """Send a mouse event with the left button held (QTest's mouseMove holds no button)."""
    types = {"press": QEvent.MouseButtonPress, "move": QEvent.MouseMove, "release": QEvent.MouseButtonRelease}
    button = Qt.NoButton if kind == "move" else Qt.LeftButton
    buttons = Qt.NoButton if kind == "release" else Qt.LeftButton
    pos = QPointF(x, y)
    QApplication.sendEvent(widget, QMouseEvent(types[kind], pos, widget.mapToGlobal(pos), button, buttons,
                                               Qt.NoModifier))


def centre_of_mass(a):
    ys, xs = np.indices(a.shape)
    return (ys * a).sum() / a.sum(), (xs * a).sum() / a.sum()


def test_mnist_image_scales_and_centres_like_mnist():
    canvas = np.zeros((280, 280), np.uint8)
    canvas[10:60, 200:215] = 255          # a small bar in the top-right corner
    img = mnist_image(canvas)
    assert img.shape == (28, 28) and img.dtype == np.float32 and img.max() <= 1.0
    cy, cx = centre_of_mass(img)
    assert abs(cy - 14) <= 0.75 and abs(cx - 14) <= 0.75   # where MNIST's centres of mass are
    rows = np.nonzero(img.max(axis=1) > 0.05)[0]
    assert 18 <= rows[-1] - rows[0] + 1 <= 20   # the long side fills MNIST's 20-pixel box
    assert not mnist_image(np.zeros((280, 280), np.uint8)).any()


def test_real_digit_survives_the_round_trip(trained):
    """An MNIST test digit blown up to the canvas comes back close to the original."""
    model, prepared, _, _ = trained
    digit = prepared.x_test[0, ..., 0]
    canvas = np.kron(digit, np.ones((10, 10), np.float32))
    back = mnist_image(canvas)
    corr = np.corrcoef(back.ravel(), digit.ravel())[0, 1]
    assert corr > 0.8
    p_back = dp.predict_probabilities(model, back)
    p_orig = model.predict(prepared.x_test[:1], verbose=0)[0]
    assert int(np.argmax(p_back)) == int(np.argmax(p_orig))


def test_drawing_with_the_mouse_predicts(qtbot, pad):
    canvas = pad.canvas
    assert canvas.is_empty() and pad.probabilities is None
    mouse(canvas, "press", 140, 40)
    for y in range(50, 250, 10):
        mouse(canvas, "move", 140, y)
    mouse(canvas, "release", 140, 240)
    assert not canvas.is_empty()
    probs = pad.probabilities
    assert probs is not None and probs.shape == (10,)
    assert abs(float(probs.sum()) - 1.0) < 1e-4
    best = int(np.argmax(probs))
    assert pad.bars.highlight == best
    np.testing.assert_allclose(pad.bars.values, probs)
    assert pad.answer.text().startswith(str(best))
    pad.clear_button.click()
    assert canvas.is_empty() and pad.probabilities is None and pad.answer.text() == ""


def test_predictions_are_throttled_while_drawing(qtbot, pad, monkeypatch):
    calls = []
    real = dp.predict_probabilities
    monkeypatch.setattr(dp, "predict_probabilities", lambda m, x: calls.append(1) or real(m, x))
    mouse(pad.canvas, "press", 60, 60)
    for i in range(60):
        mouse(pad.canvas, "move", 60 + 3 * i, 60 + 2 * i)
    assert len(calls) == 0          # nothing synchronous per mouse move
    qtbot.waitUntil(lambda: len(calls) >= 1, timeout=2000)   # but it predicts while drawing
    mouse(pad.canvas, "release", 240, 180)
    assert 2 <= len(calls) <= 3     # plus once at the end of the stroke


def test_only_for_28x28_grayscale_models(qtbot, pad):
    import engine
    from engine import layers

    rgb = engine.Sequential([layers.Input((32, 32, 3)), layers.Flatten(), layers.Dense(10, activation="softmax")])
    pad.set_model(rgb)
    assert not pad.is_active() and not pad.canvas.isEnabled()
    assert "28x28" in pad.note.text() and "(32, 32, 3)" in pad.note.text()
    mouse(pad.canvas, "press", 100, 100)
    mouse(pad.canvas, "release", 100, 100)
    assert pad.canvas.is_empty() and pad.probabilities is None

    flat = engine.Sequential([layers.Input((784,)), layers.Dense(10, activation="softmax")])
    pad.set_model(flat)
    assert pad.is_active()
    pad.canvas.draw_stroke([(100, 60), (100, 220)])
    assert pad.probabilities is not None and pad.probabilities.shape == (10,)
    pad.set_model(None)
    assert not pad.is_active()
