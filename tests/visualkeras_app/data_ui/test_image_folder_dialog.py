"""Dataset ▸ Image Folder…: the preview (counts, imbalance, unreadable files, samples, size and colour), the
one-click fixes on the canvas's model, augmentation samples, and choosing the folder for training."""
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from tests.visualkeras_app.data_ui.conftest import make_image_folder


def open_dialog(win, monkeypatch, folder):
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    win.dataset_menu.act_folder.trigger()
    return win.dataset_menu.dialog


def test_the_menu_opens_a_preview_of_the_folder(qtbot, main_window, monkeypatch, tmp_path):
    folder = make_image_folder(tmp_path / "bugs")
    dlg = open_dialog(main_window, monkeypatch, folder)
    assert dlg.isVisible() and dlg.path == str(folder)
    assert dlg.images_label.text() == "19 in 3 classes"  # 8 PNG + 8 JPEG + 3: the corrupt file left out
    assert dlg.size_label.text() == "10x12" and dlg.mode_label.text().startswith("grayscale")
    assert dlg.chart.names == ["ant", "bee", "cat"] and dlg.chart.counts == [8, 8, 3] and dlg.chart.warn == {"cat"}
    warning = dlg.warning_label.text()
    assert "Imbalanced classes: cat (3)" in warning and "broken.png" in warning
    assert len(dlg.grid.cells) == 6 + 6 + 3 and all(not c.pixmap().isNull() for c in dlg.grid.cells)
    assert "(12, 10, 1)" in dlg.model_label.text()


def test_a_folder_that_is_not_a_data_set_says_how_to_lay_it_out(qtbot, main_window, monkeypatch, tmp_path):
    (tmp_path / "only").mkdir()
    dlg = open_dialog(main_window, monkeypatch, tmp_path)
    assert "one subfolder per class" in dlg.path_label.text()
    assert not dlg.use_button.isEnabled() and not dlg.train_button.isEnabled()


@pytest.mark.slow  # a window each; the training panel's fix of the same mismatch runs in the fast loop
def test_one_click_fixes_make_the_model_fit_and_undo_takes_them_back(qtbot, main_window, monkeypatch, tmp_path):
    win = main_window
    assert win.new_from_template("mnist_fast_cnn")  # 28x28x1 in, 10 classes out
    dlg = open_dialog(win, monkeypatch, make_image_folder(tmp_path / "bugs"))
    texts = [b.text() for b, _ in dlg.fixes]
    assert texts == ["Add Resizing to 28x28 after the Input", "Set the Input to (12, 10, 1)",
                     "Set dense's units to 3"], texts
    qtbot.mouseClick(dlg.fixes[0][0], Qt.LeftButton)
    doc = win.controller.document
    resizing = [n for n in doc.nodes.values() if n.class_name == "Resizing"]
    assert len(resizing) == 1 and (resizing[0].config["height"], resizing[0].config["width"]) == (28, 28)
    inp = next(n for n in doc.nodes.values() if n.is_input)
    assert inp.config["batch_shape"] == [None, 12, 10, 1]
    assert [b.text() for b, _ in dlg.fixes] == ["Set dense's units to 3"], [b.text() for b, _ in dlg.fixes]
    qtbot.mouseClick(dlg.fixes[0][0], Qt.LeftButton)
    assert "The model fits" in dlg.model_label.text() and not dlg.fixes
    win.act_undo.trigger()
    win.act_undo.trigger()  # the units, then the Resizing and the Input in one step
    assert not any(n.class_name == "Resizing" for n in doc.nodes.values())
    assert next(n for n in doc.nodes.values() if n.is_input).config["batch_shape"] == [None, 28, 28, 1]


@pytest.mark.slow  # the panel's fit check on a folder runs in the fast loop in test_the_training_panels_dataset_list_opens_an_image_folder
def test_use_for_training_selects_the_folder_and_the_panel_checks_the_model(qtbot, main_window, monkeypatch,
                                                                           tmp_path):
    win = main_window
    assert win.new_from_template("mnist_fast_cnn")
    folder = make_image_folder(tmp_path / "bugs")
    dlg = open_dialog(win, monkeypatch, folder)
    qtbot.mouseClick(dlg.use_button, Qt.LeftButton)
    assert not dlg.isVisible()
    panel = win.training.panel
    assert panel.settings().dataset == str(folder) and panel.dataset_combo.currentText() == "bugs"
    qtbot.waitUntil(lambda: "bugs" in panel.fit_problem_text(), timeout=3000)
    assert "10 units" in panel.fit_problem_text() or "units" in panel.fix_button.text()


@pytest.mark.slow  # builds the model and runs the Random* layers: about 0.6 s
def test_augmented_samples_come_from_the_canvas_random_layers_in_training_only(qtbot, main_window, monkeypatch,
                                                                              tmp_path):
    win = main_window
    assert win.new_from_template("mnist_fast_cnn")
    dlg = open_dialog(win, monkeypatch, make_image_folder(tmp_path / "bugs", size=(28, 28)))
    assert not dlg.augment_button.isEnabled()  # no Random* layer yet
    doc = win.controller.document
    inp = next(n for n in doc.nodes.values() if n.is_input)
    edge = next(e for e in doc.edges if e.src == inp.id)
    node = win.controller.insert_into_edge("RandomRotation", edge, doc.nodes[edge.dst].pos)
    win.controller.set_param(node, "factor", 0.25)
    dlg.refresh_model()
    assert dlg.augment_button.isEnabled()
    qtbot.mouseClick(dlg.augment_button, Qt.LeftButton)
    aug = dlg.augmented_dialog
    assert aug.isVisible() and len(aug.grid.cells) == 16 and aug.augmented.shape == (16, 28, 28, 1)
    assert not np.allclose(aug.augmented, aug.images)  # rotated
    first = aug.augmented.copy()
    qtbot.mouseClick(aug.again_button, Qt.LeftButton)
    assert not np.allclose(aug.augmented, first)  # new draws
    from visualkeras_app.document.convert import document_to_model

    model = document_to_model(doc)
    rotation = model.get_layer(doc.nodes[node].name)
    np.testing.assert_array_equal(np.asarray(rotation(aug.images, training=False)), aug.images)


@pytest.mark.slow
def test_train_button_trains_on_the_folder(qtbot, main_window, monkeypatch, tmp_path):
    win = main_window
    assert win.new_from_template("mnist_fast_cnn")
    win.training.panel.set_settings({"epochs": 1, "batch_size": 8, "validation_split": 0.0,
                                     "max_train_samples": 0})
    dlg = open_dialog(win, monkeypatch, make_image_folder(tmp_path / "bugs", size=(28, 28)))
    assert dlg.fixes[-1][0].text() == "Set dense's units to 3"
    qtbot.mouseClick(dlg.fixes[-1][0], Qt.LeftButton)
    qtbot.mouseClick(dlg.train_button, Qt.LeftButton)
    panel = win.training.panel
    qtbot.waitUntil(lambda: panel.worker.last_record is not None and panel.worker.state == "idle", timeout=60000)
    record = panel.worker.last_record
    assert record.test_accuracy is not None and len(panel.worker.dataset.class_names) == 3


def test_the_training_panels_dataset_list_opens_an_image_folder(qtbot, main_window, monkeypatch, tmp_path):
    from visualkeras_app.training_ui.panel import OPEN_FOLDER

    win = main_window
    assert win.new_from_template("mnist_fast_cnn")
    folder = make_image_folder(tmp_path / "bugs", size=(28, 28))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    panel = win.training.panel
    combo = panel.dataset_combo
    combo.activated.emit(combo.findText(OPEN_FOLDER))
    assert panel.settings().dataset == str(folder) and combo.currentText() == "bugs"
    assert combo.itemText(combo.count() - 1) == OPEN_FOLDER  # the entries to open stay last
    qtbot.waitUntil(lambda: "units" in panel.fix_button.text(), timeout=3000)  # 10 units, 3 classes
    qtbot.mouseClick(panel.fix_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not panel.fit_problem_text(), timeout=3000)


@pytest.mark.slow  # a window each; the dialog's preview and refusal run in the fast loop
def test_add_augmentation_puts_random_layers_after_the_input_in_one_undo_step(qtbot, main_window, monkeypatch,
                                                                             tmp_path):
    win = main_window
    assert win.new_from_template("mnist_fast_cnn")
    dlg = open_dialog(win, monkeypatch, make_image_folder(tmp_path / "bugs", size=(28, 28)))
    assert dlg.add_augment_button.isEnabled() and not dlg.augment_button.isEnabled()
    qtbot.mouseClick(dlg.add_augment_button, Qt.LeftButton)
    from visualkeras_app.data_ui.augment import augmentation_nodes

    doc = win.controller.document
    assert [n.class_name for n in augmentation_nodes(doc)] == ["RandomRotation", "RandomZoom", "RandomTranslation"]
    assert not dlg.add_augment_button.isEnabled() and dlg.augment_button.isEnabled()
    assert "Input is (28, 28, 1)" in dlg.model_label.text()  # the image shapes are unchanged
    win.act_undo.trigger()
    assert not augmentation_nodes(doc) and not any(n.class_name.startswith("Random") for n in doc.nodes.values())


def test_the_training_cache_sees_an_image_added_to_a_class_folder(tmp_path):
    import os
    import time

    from PIL import Image

    from visualkeras_app.training_ui.worker import cached_dataset

    folder = make_image_folder(tmp_path / "bugs", corrupt=False)
    first = cached_dataset(str(folder))
    assert cached_dataset(str(folder)) is first
    Image.fromarray(np.zeros((12, 10), np.uint8)).save(folder / "cat" / "new.png")
    later = time.time() + 5  # a coarse file-system clock must not hide the change
    os.utime(folder / "cat", (later, later))
    again = cached_dataset(str(folder))
    assert again is not first and len(again.x_train) + len(again.x_test) == 20
