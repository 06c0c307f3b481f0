"""File > New from Template > Applications and > Transfer Learning: every keras.applications architecture as
a template (Keras's layer names and parameter counts), and the transfer-learning classifier trained on a
frozen base loaded from a Keras-saved weights file."""
import time

import numpy as np
import pytest

from visualkeras_app.document import app_templates
from visualkeras_app.document.templates import all_templates, load_template


def test_every_application_is_a_template_in_its_group():
    from engine import applications

    assert app_templates.APPLICATIONS == applications.names()
    by_key = {t.key: t for t in all_templates()}
    for name in applications.names():
        assert by_key[name].group == "Applications"
    for base in ("MobileNetV2", "EfficientNetB0", "ResNet50"):
        t = by_key[f"classifier_from_{base}"]
        assert t.group == "Transfer Learning" and t.title == f"Image classifier from {base}"


def test_transfer_template_is_a_frozen_base_with_a_pooled_dropout_dense_head():
    doc = load_template("classifier_from_MobileNetV2")
    nodes = list(doc.nodes.values())
    head = [n for n in nodes if n.name.startswith("head_")]
    assert [n.class_name for n in head] == ["GlobalAveragePooling2D", "Dropout", "Dense"]
    assert head[-1].config["units"] == 10 and head[-1].config["activation"] == "softmax"
    base = [n for n in nodes if not n.name.startswith("head_") and not n.is_input]
    assert len(base) > 100 and all(n.config.get("trainable") is False for n in base)
    assert not doc.result.errors
    # Only the head trains: its Dense (1280*10 + 10) and nothing of the base.
    assert doc.result.trainable_params == 1280 * 10 + 10


@pytest.mark.slow
def test_transfer_learning_with_a_local_weights_file_trains_the_head_only(keras, tmp_path):
    from visualkeras_app.document.convert import document_to_model
    from visualkeras_app.training.data import Dataset, prepare_for_model
    from visualkeras_app.training.session import TrainingSession
    from visualkeras_app.training.settings import TrainSettings

    kbase = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3))
    path = str(tmp_path / "mobilenetv2_base.weights.h5")
    kbase.save_weights(path)

    doc = load_template("classifier_from_MobileNetV2")
    assert app_templates.load_base_weights(doc, "MobileNetV2", weights=path) == \
        sum(1 for layer in kbase.layers if layer.get_weights())
    model = document_to_model(doc)
    for klayer in kbase.layers:  # the base is Keras's, weight for weight
        if not klayer.get_weights():
            continue  # the Input (Keras numbers its name per session: input_layer_80 after other tests)
        for got, want in zip(model.get_layer(klayer.name).get_weights(), klayer.get_weights()):
            np.testing.assert_array_equal(got, want)
    before = {layer.name: [w.copy() for w in layer.get_weights()] for layer in model.layers}

    rng = np.random.default_rng(0)
    data = Dataset("random images", rng.uniform(0, 255, (48, 32, 32, 3)).astype("float32"),
                   rng.integers(0, 10, 48), rng.uniform(0, 255, (16, 32, 32, 3)).astype("float32"),
                   rng.integers(0, 10, 16), class_names=[str(i) for i in range(10)])
    settings = TrainSettings(epochs=1, batch_size=16, validation_split=0.0, schedule="constant", learning_rate=0.01)
    session = TrainingSession(model, prepare_for_model(data, model), settings)
    record = session.run()
    assert session.error is None, session.error
    assert record is not None

    for layer in model.layers:
        after = layer.get_weights()
        if layer.name.startswith("head_") and after:
            assert any(not np.array_equal(a, b) for a, b in zip(after, before[layer.name])), layer.name
        else:  # frozen: kernels, biases and the batch-norm statistics all stay
            for a, b in zip(after, before[layer.name]):
                np.testing.assert_array_equal(a, b, err_msg=layer.name)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["DenseNet201", "NASNetLarge"])
def test_a_600_layer_application_opens_from_the_menu_readable_with_keras_param_count(keras, qtbot, tmp_path, name):
    from PySide6.QtCore import QSettings

    from visualkeras_app.canvas.view import LEGIBLE_ZOOM
    from visualkeras_app.mainwindow import MainWindow

    win = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), offer_recovery=False)
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitUntil(lambda: win.is_started, timeout=20000)
    win._fill_template_menu()
    apps = next(a.menu() for a in win.template_menu.actions() if a.menu() and a.text() == "Applications")
    action = next(a for a in apps.actions() if a.text() == name)
    start = time.perf_counter()
    action.trigger()
    qtbot.waitUntil(lambda: len(win.controller.document.nodes) > 600, timeout=60000)
    win.view.viewport().repaint()
    print(f"{name}: menu action to painted canvas {time.perf_counter() - start:.2f} s")  # measured, not asserted
    qtbot.waitUntil(lambda: abs(win.view.zoom() - 1.0) > 1e-9 or win.view.zoom() >= LEGIBLE_ZOOM, timeout=5000)
    assert win.view.zoom() >= LEGIBLE_ZOOM - 1e-9
    doc = win.controller.document
    assert not doc.result.errors
    keras.backend.clear_session()  # Keras numbers unnamed layers per session; templates are named as in a fresh one
    kmodel = getattr(keras.applications, name)(weights=None)
    assert doc.result.trainable_params + doc.result.non_trainable_params == kmodel.count_params()
    assert [n.name for n in doc.nodes.values()] == [layer.name for layer in kmodel.layers]
    win.close()


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    from visualkeras_app.mainwindow import MainWindow

    monkeypatch.setenv("VISUALKERAS_RECOVERY_DIR", str(tmp_path / "recovery"))
    errors = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a, **k: errors.append((title, text)))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Discard)
    win = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), offer_recovery=False)
    win.errors = errors
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.is_started, timeout=20000)
    yield win
    win.close()


def _transfer_action(win, base):
    win._fill_template_menu()
    menu = next(a.menu() for a in win.template_menu.actions() if a.menu() and a.text() == "Transfer Learning")
    return next(a for a in menu.actions() if a.text() == f"Image classifier from {base}")


@pytest.mark.slow
def test_imagenet_download_offline_names_the_file_url_and_folder(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtCore import Qt

    from engine.applications import mobilenet_v2

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("VISUALKERAS_OFFLINE", "1")
    _transfer_action(window, "MobileNetV2").trigger()
    dialog = window.base_weights_dialog
    assert dialog.isVisible() and "MobileNetV2" in dialog.windowTitle()
    qtbot.mouseClick(dialog.imagenet_button, Qt.LeftButton)
    assert len(window.errors) == 1
    title, text = window.errors[0]
    fname = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"  # 32x32 loads the 224 file
    assert fname in text and mobilenet_v2.BASE_WEIGHT_PATH + fname in text
    assert str(home / ".keras" / "models" / fname) in text
    assert dialog.isVisible()  # the user can still choose a file instead
    assert all(n.weights is None for n in window.controller.document.nodes.values())


@pytest.mark.slow
def test_a_chosen_weights_file_becomes_the_base_weights(qtbot, window, keras, tmp_path, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QFileDialog

    kbase = keras.applications.EfficientNetB0(weights=None, include_top=False, input_shape=(32, 32, 3))
    path = str(tmp_path / "b0.weights.h5")
    kbase.save_weights(path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (path, ""))
    _transfer_action(window, "EfficientNetB0").trigger()
    dialog = window.base_weights_dialog
    qtbot.mouseClick(dialog.file_button, Qt.LeftButton)
    assert not window.errors, window.errors
    assert not dialog.isVisible()
    # Keras numbers its unnamed layers (rescaling_3) per session: the base's nodes are its layers in order.
    nodes = list(window.controller.document.nodes.values())
    base = [n for n in nodes if not n.is_input and not n.name.startswith("head_")]
    assert len(base) == len(kbase.layers) - 1
    for node, layer in zip(base, kbase.layers[1:]):
        assert node.class_name == type(layer).__name__
        if layer.get_weights():
            for got, want in zip(node.weights, layer.get_weights()):
                np.testing.assert_array_equal(got, want)
    assert nodes[-1].name == "head_predictions" and nodes[-1].weights is None
    assert window.windowTitle().startswith("Image classifier from EfficientNetB0*")


@pytest.mark.slow
def test_block_button_freezes_and_unfreezes_a_whole_block_in_one_undo_step(qtbot, window):
    from PySide6.QtCore import Qt

    from visualkeras_app.document.blocks import block_of

    assert block_of("conv4_block2_1_conv") == "conv4_block2" and block_of("block_3_expand") == "block_3"
    assert block_of("block2a_se_excite") == "block2a" and block_of("head_pool") is None
    _transfer_action(window, "MobileNetV2").trigger()
    window.base_weights_dialog.reject()
    doc = window.controller.document
    node = next(n for n in doc.nodes.values() if n.name == "block_3_expand")
    members = [n for n in doc.nodes.values() if n.name.startswith("block_3_")]
    window.controller.set_selection([node.id])
    button = window.inspector.block_button
    assert button.isVisible() and button.text() == f"Unfreeze block block_3 ({len(members)} layers)"
    trainable_before = doc.result.trainable_params
    qtbot.mouseClick(button, Qt.LeftButton)
    assert all(n.config["trainable"] is True for n in members)
    assert doc.result.trainable_params > trainable_before
    assert button.text().startswith("Freeze block block_3")
    other = next(n for n in doc.nodes.values() if n.name == "block_4_expand")
    assert other.config["trainable"] is False
    window.controller.undo_stack.undo()  # one step undoes the whole block
    assert all(n.config["trainable"] is False for n in members)
    assert doc.result.trainable_params == trainable_before
