"""Transfer learning in the window: Train keeps the frozen base's weights (it starts the trainable layers
over), and Train ▸ Fine-tune the Top Layers, after a first run, unfreezes the top frozen layers (not the
BatchNormalizations), lowers the learning rate tenfold and trains on from the current weights; one undo
freezes them again."""
import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

RUN_MS = 240_000


def _weights(doc, name):
    return [w.copy() for w in next(n for n in doc.nodes.values() if n.name == name).weights]


@pytest.mark.slow  # two training runs of a MobileNetV2 base in the window
def test_train_keeps_the_frozen_base_and_fine_tune_trains_on(qtbot, main_window, tmp_path):
    import engine
    from visualkeras_app.document import app_templates
    from visualkeras_app.document.blocks import fine_tune_candidates

    win = main_window
    base = engine.applications.MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3))
    path = str(tmp_path / "base.weights.h5")
    base.save_weights(path)
    assert win.new_from_template("classifier_from_MobileNetV2")
    dialog = getattr(win, "base_weights_dialog", None)
    if dialog is not None:
        dialog.close()
    doc = win.controller.document
    app_templates.load_base_weights(doc, "MobileNetV2", weights=path)
    file_conv1 = base.get_layer("Conv1").get_weights()

    rng = np.random.default_rng(0)
    data = tmp_path / "tiny.npz"
    np.savez(data, x_train=rng.integers(0, 255, (64, 32, 32, 3)).astype("uint8"), y_train=rng.integers(0, 10, 64),
             x_test=rng.integers(0, 255, (16, 32, 32, 3)).astype("uint8"), y_test=rng.integers(0, 10, 16))
    panel = win.training.panel
    panel.set_dataset(str(data))
    panel.set_settings({"epochs": 1, "batch_size": 16, "learning_rate": 0.01, "schedule": "constant",
                        "validation_split": 0.0})
    assert not win.training.act_fine_tune.isEnabled()  # nothing trained yet
    qtbot.mouseClick(panel.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(doc.runs) and panel.worker.state == "idle", timeout=RUN_MS)
    for got, want in zip(_weights(doc, "Conv1"), file_conv1):  # the frozen base kept the file's weights
        np.testing.assert_array_equal(got, want)

    top = fine_tune_candidates(doc)
    assert len(top) == 20 and all(doc.nodes[n].class_name != "BatchNormalization" for n in top)
    top_name = doc.nodes[top[-1]].name
    head = _weights(doc, "head_predictions")
    before_top = _weights(doc, top_name)
    assert win.training.act_fine_tune.isEnabled()
    win.training.act_fine_tune.trigger()
    assert all(doc.nodes[n].config.get("trainable") is True for n in top)
    assert panel.settings().learning_rate == pytest.approx(0.001)
    qtbot.waitUntil(lambda: len(doc.runs) == 2 and panel.worker.state == "idle", timeout=RUN_MS)
    assert any(not np.array_equal(a, b) for a, b in zip(_weights(doc, top_name), before_top))  # it trained
    for got, want in zip(_weights(doc, "Conv1"), file_conv1):  # still frozen: unchanged
        np.testing.assert_array_equal(got, want)
    # Trained on from the first run's head: its weights moved a little, not back to a fresh start.
    moved = max(float(np.abs(a - b).max()) for a, b in zip(_weights(doc, "head_predictions"), head))
    assert 0 < moved < 0.5
    win.controller.undo_stack.undo()  # one step freezes the 20 layers again
    assert all(doc.nodes[n].config.get("trainable") is False for n in top)
