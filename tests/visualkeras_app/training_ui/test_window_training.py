"""Training from the main window: the Training and Results docks, the Train menu, Ctrl+T on an empty
document (template + one-click recipe, on a slice of MNIST), weights back into the document, and a run
that raises leaving the window alive."""
import os

import pytest

pytest.importorskip("visualkeras_app.training.session")

from PySide6.QtCore import Qt  # noqa: E402

RUN_MS = 90_000


@pytest.fixture
def window(main_window):
    return main_window


def test_docks_and_menu(qtbot, window):
    titles = [a.text() for a in window.menuBar().actions()]
    assert "&Train" in titles
    assert window.training.act_train_mnist.shortcut().toString() == "Ctrl+T"
    assert window.training.training_dock.widget() is window.training.panel
    qtbot.waitUntil(lambda: window.training.training_dock in window.tabifiedDockWidgets(window.code_dock))
    assert window.training.results_dock in window.tabifiedDockWidgets(window.inspector_dock)
    from PySide6.QtWidgets import QTabBar

    def bars():
        return [tuple(b.tabText(i) for i in range(b.count())) for b in window.findChildren(QTabBar)
                if b.parent() is window and b.isVisible()]

    qtbot.waitUntil(lambda: len(bars()) == len(set(bars())))  # no orphan copy of a dock tab bar
    assert ("Code", "Training") in bars() and ("Inspector", "Results") in bars()
    if window.training.results_view is not None:
        assert window.training.results_tabs.count() >= 1


@pytest.mark.slow
def test_ctrl_t_on_an_empty_document_loads_the_template_and_trains(qtbot, window):
    panel = window.training.panel
    panel.samples_spin.setValue(256)
    window.resize(1300, 1000)  # room for the Training dock to grow (below, the side docks' minimum holds it)
    assert not window.controller.document.nodes
    records = []
    panel.run_finished.connect(records.append)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key_T, Qt.ControlModifier)
    doc = window.controller.document
    assert any(n.class_name == "Conv2D" for n in doc.nodes.values())  # the fast MNIST template
    s = panel.settings()
    assert (s.optimizer, s.schedule, s.batch_size, s.epochs, s.max_train_samples) == \
        ("adam", "one_cycle", 128, 1, 256)
    # The Training panel came to the front tall enough for its plots (the default layout's bottom row is less).
    tr = window.training
    assert tr.training_dock.isVisible() and not tr.training_dock.visibleRegion().isEmpty()
    assert tr.training_dock.height() >= min(tr.TRAINING_HEIGHT, int(window.height() * 0.4)) - 2
    qtbot.waitUntil(lambda: bool(records), timeout=RUN_MS)
    qtbot.waitUntil(lambda: panel.worker.state == "idle", timeout=RUN_MS)
    assert panel.plots.point_count() > 0
    conv = next(n for n in doc.nodes.values() if n.class_name == "Conv2D")
    assert conv.weights is not None and conv.weights[0].shape == (3, 3, 1, conv.config["filters"])
    assert window.is_dirty() and "* \u2014" in window.windowTitle()
    assert doc.training.get("batch_size") == 128


@pytest.mark.slow
def test_ctrl_t_on_a_model_trains_it_on_mnist(qtbot, window):
    window.new_from_template("mnist_fast_cnn")
    n_nodes = len(window.controller.document.nodes)
    panel = window.training.panel
    panel.set_settings({"dataset": "fashion_mnist", "max_train_samples": 128, "epochs": 1, "batch_size": 32})
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_MS):
        window.training.act_train_mnist.trigger()
    assert len(window.controller.document.nodes) == n_nodes  # the same model, not the template again
    assert panel.settings().dataset == "mnist"


@pytest.mark.slow  # 0.3-0.4 s; training_ui/test_panel.py reports an error in training in the fast loop
def test_a_run_that_raises_leaves_the_window_alive(qtbot, window, monkeypatch):
    from visualkeras_app.training import session as session_mod

    def boom(self, *a, **k):
        raise RuntimeError("out of memory (simulated)")

    monkeypatch.setattr(session_mod.TrainingSession, "run", boom)
    panel = window.training.panel
    panel.samples_spin.setValue(128)
    with qtbot.waitSignal(panel.worker.error, timeout=RUN_MS):
        window.training.train_on_mnist()
    qtbot.waitUntil(lambda: panel.worker.state == "idle", timeout=RUN_MS)
    assert window.isVisible()
    assert "out of memory" in panel.problem_text()
    assert window.training.act_train_mnist.isEnabled()
    # The editor still works after the failure.
    assert window.add_layer_at_center("Dense") is not None


@pytest.mark.slow
def test_saving_keeps_the_trained_weights(qtbot, window, tmp_path):
    panel = window.training.panel
    panel.samples_spin.setValue(128)
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_MS):
        window.training.train_on_mnist()
    qtbot.waitUntil(lambda: panel.worker.state == "idle", timeout=RUN_MS)
    path = str(tmp_path / "trained.vkproj")
    assert window.save_file(path)
    assert not window.is_dirty()
    from visualkeras_app.document.project import load_project

    doc = load_project(path)
    conv = next(n for n in doc.nodes.values() if n.class_name == "Conv2D")
    assert conv.weights is not None
    assert os.path.exists(path)


def test_the_window_fits_a_1366x768_laptop_screen(qtbot, window):
    # With every dock built (the Draw a digit pad alone is 460 px tall, so it scrolls in a short dock) and a
    # model loaded, the window can shrink to a laptop's screen less its task bar.
    window.new_from_template("mnist_fast_cnn")
    window.training.results_dock.show()
    qtbot.wait(50)
    hint = window.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 728, hint
