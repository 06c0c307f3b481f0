"""Dataset ▸ Table (CSV)… and Arrays (.npz)…: column types, missing values, roles, the data set written for
training, Normalization adapted to the features; an .npz's classes, samples and fixes."""
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from visualkeras_app.training.table_data import TableError, read_table, table_dataset


def people_csv(path, n=60):
    rng = np.random.default_rng(1)
    with open(path, "w") as f:
        f.write("age,income,city,notes,label\n")
        for i in range(n):
            y = i % 3
            income = "" if i == 7 else str(1000 * y + int(rng.integers(0, 100)))
            f.write(f"{20 + 10 * y},{income},{['paris', 'rome'][i % 2]},free text {i},{['low', 'mid', 'high'][y]}\n")
    return path


def test_read_table_finds_types_missing_values_and_the_target(tmp_path):
    t = read_table(people_csv(tmp_path / "p.csv"))
    kinds = {c.name: (c.kind, c.missing, c.distinct) for c in t.columns}
    assert kinds["age"] == ("number", 0, 3) and kinds["income"][:2] == ("number", 1)
    assert kinds["city"] == ("category", 0, 2) and kinds["notes"][0] == "text" and kinds["label"][0] == "category"
    assert t.default_target() == "label" and t.default_features("label") == ["age", "income", "city"]
    ds, notes = table_dataset(t, ["age", "income", "city"], "label")
    assert ds.x_train.shape[1] == 4 and len(ds.x_train) + len(ds.x_test) == 59  # city one-hot; a row left out
    assert ds.class_names == ["high", "low", "mid"] and "1 row(s) with a missing value" in notes[0]
    with pytest.raises(TableError, match="cannot also be a feature"):
        table_dataset(t, ["age", "label"], "label")
    with pytest.raises(TableError, match="fractional numbers"):
        (tmp_path / "f.csv").write_text("a,b\n1,0.5\n2,1.5\n3,2.5\n")
        table_dataset(read_table(tmp_path / "f.csv"), ["a"], "b")


@pytest.mark.slow  # adapts a Normalization and builds the model: about 1 s
def test_table_dialog_roles_fixes_normalization_and_training_data(qtbot, main_window, monkeypatch, tmp_path):
    win = main_window
    monkeypatch.setenv("VISUALKERAS_CACHE", str(tmp_path / "cache"))
    assert win.new_from_template("seed_mlp")  # takes 100 values, 10 classes
    path = people_csv(tmp_path / "people.csv")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    win.dataset_menu.act_table.trigger()
    dlg = win.dataset_menu.dialog
    assert dlg.columns_view.rowCount() == 5 and dlg.role_boxes["notes"].currentText() == "Ignore"
    assert "Missing values in: income (1)" in dlg.warning_label.text()
    assert [b.text() for b, _ in dlg.fixes] == ["Set the Input to (4,)", "Set dense_1's units to 3"]
    dlg.set_role("city", "Ignore")  # the user drops a column: 2 features now
    assert dlg.dataset.x_train.shape[1] == 2 and dlg.fixes[0][0].text() == "Set the Input to (2,)"
    for _ in range(2):
        qtbot.mouseClick(dlg.fixes[0][0], Qt.LeftButton)
    assert "The model fits" in dlg.model_label.text()
    dlg.normalize_box.setChecked(True)
    qtbot.mouseClick(dlg.use_button, Qt.LeftButton)
    npz = win.training.panel.settings().dataset
    assert npz.endswith(".npz") and npz.startswith(str(tmp_path / "cache"))
    from visualkeras_app.training.data import load_dataset

    saved = load_dataset(npz)
    np.testing.assert_array_equal(saved.x_train, dlg.dataset.x_train)
    doc = win.controller.document
    norm = next(n for n in doc.nodes.values() if n.class_name == "Normalization")
    np.testing.assert_allclose(norm.config["mean"], saved.x_train.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(norm.config["variance"], saved.x_train.var(axis=0), rtol=1e-4)
    from visualkeras_app.document.convert import document_to_model

    model = document_to_model(doc)
    out = np.asarray(model.get_layer(norm.name)(saved.x_train))
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-4)  # standardized features


def test_a_file_that_is_not_a_table_is_refused_in_the_dialog(qtbot, main_window, tmp_path):
    (tmp_path / "one.csv").write_text("just one column\n1\n2\n")
    dlg = main_window.dataset_menu.open_table(str(tmp_path / "one.csv"))
    assert "at least two columns" in dlg.path_label.text() and not dlg.use_button.isEnabled()


def test_arrays_dialog_shows_classes_samples_and_fixes(qtbot, main_window, monkeypatch, tmp_path):
    win = main_window
    assert win.new_from_template("seed_mlp")
    rng = np.random.default_rng(0)
    path = tmp_path / "arr.npz"
    np.savez(path, x_train=rng.integers(0, 255, (60, 16, 16), dtype=np.uint8), y_train=np.r_[np.zeros(50), np.ones(10)],
             x_test=rng.integers(0, 255, (10, 16, 16), dtype=np.uint8), y_test=np.arange(10) % 2)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    win.dataset_menu.act_arrays.trigger()
    dlg = win.dataset_menu.dialog
    assert dlg.chart.counts == [55, 15] and dlg.chart.warn == {"1"}
    assert len(dlg.grid.cells) == 12 and dlg.size_label.text() == "16x16"
    assert [b.text() for b, _ in dlg.fixes] == ["Set the Input to (16, 16, 1)", "Set dense_1's units to 2"]
    not_npz = tmp_path / "x.csv"
    not_npz.write_text("a,b\n1,2\n")
    assert not dlg.open_file(str(not_npz)) and "not a .npz" in dlg.path_label.text()
