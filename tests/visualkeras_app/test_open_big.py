"""Big models open without freezing the window: the worker thread that reads the file also makes the
summary rows and the code, the cycle collector waits until the load is over, and a second open or closing
the window during a load cancels it safely."""
import gc
import json
import threading
import time

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QProgressDialog  # noqa: E402

from tests.visualkeras_app.test_mainwindow import dialogs, make_window, window  # noqa: E402,F401
import visualkeras_app.background as background  # noqa: E402


def _chain_file(tmp_path, n, units=4, name="chain"):
    layers = [{"class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "in"}}]
    layers += [{"class_name": "Dense", "config": {"units": units, "name": f"d{i}"}} for i in range(n)]
    path = tmp_path / f"{name}{n}.json"
    path.write_text(json.dumps({"class_name": "Sequential", "config": {"name": "chain", "layers": layers}}))
    return path


def _during_load(action):
    """Runs ``action(dialog)`` once, the first time a progress dialog is up."""
    done = []

    def poll():
        if done:
            return
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QProgressDialog) and w.isVisible():
                done.append(w.labelText())
                action(w)
                return

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(2)
    return timer, done


def _no_progress_dialog():
    return not any(isinstance(w, QProgressDialog) and w.isVisible() for w in QApplication.topLevelWidgets())


def test_the_worker_makes_the_summary_and_code_and_the_gui_thread_only_shows_them(window, tmp_path,
                                                                                  monkeypatch, qtbot):
    import visualkeras_app.document.codegen as codegen
    import visualkeras_app.document.summary as summary
    from visualkeras_app.panels import code_view

    monkeypatch.setattr(background, "BACKGROUND_BYTES", 0)
    threads = {"rows": [], "code": []}
    rows_of, iter_code = summary.summary_rows, codegen.iter_code
    monkeypatch.setattr(summary, "summary_rows",
                        lambda *a, **k: threads["rows"].append(threading.get_ident()) or rows_of(*a, **k))
    monkeypatch.setattr(codegen, "iter_code",
                        lambda *a, **k: threads["code"].append(threading.get_ident()) or iter_code(*a, **k))
    n = code_view.INCREMENTAL_NODES + 50
    path = _chain_file(tmp_path, n)
    ticks = []
    beat = QTimer()
    beat.timeout.connect(lambda: ticks.append(time.perf_counter()))
    beat.start(5)
    gc_on_during_load = []
    timer, seen = _during_load(lambda dialog: gc_on_during_load.append(gc.isenabled()))
    assert window.open_file(path, ask=False) is True
    timer.stop()
    doc = window.controller.document
    # Shown at once, computed on the worker: no summary row and no line of code was made on the GUI thread.
    assert window.summary_panel.row_count() == n
    main = threading.get_ident()
    assert threads["rows"] and main not in threads["rows"]
    assert threads["code"] and main not in threads["code"]
    qtbot.waitUntil(lambda: not window.code_panel.busy, timeout=10000)
    beat.stop()
    assert window.code_panel.text() == codegen.generate_code(doc)
    assert f"{doc.result.total_params:,}" in window.summary_panel.totals.text()
    assert len(ticks) >= 3  # the event loop ran while the file loaded
    assert seen and gc_on_during_load == [False] and gc.isenabled()  # the collector is back on
    assert main not in threads["rows"][1:]

    # An edit: the prepared rows and code no longer apply; the docks compute them again (on the GUI thread).
    first = next(nid for nid, node in doc.nodes.items() if node.name == "d0")
    window.controller.set_param(first, "units", 9)
    qtbot.waitUntil(lambda: not window.summary_panel._timer.isActive() and not window.code_panel.busy
                    and not window.code_panel._timer.isActive(), timeout=10000)
    assert window.summary_panel.row_texts()[0][1] == "(None, 9)"
    assert "Dense(9" in window.code_panel.text() and window.code_panel.text() == codegen.generate_code(doc)
    assert main in threads["rows"]


def _slow_way(monkeypatch):
    """Open by building the model layer by layer (the Sequential fast path is too quick to catch mid-load)."""
    from visualkeras_app.document import fast_open

    monkeypatch.setattr(fast_open, "sequential_document", lambda data: None)


def test_closing_the_window_during_a_load_cancels_it_safely(make_window, tmp_path, monkeypatch):
    monkeypatch.setattr(background, "BACKGROUND_BYTES", 0)
    _slow_way(monkeypatch)
    win = make_window()
    before = dict(win.controller.document.nodes)
    timer, seen = _during_load(lambda dialog: win.close())
    assert win.open_file(_chain_file(tmp_path, 1500), ask=False) is False
    timer.stop()
    assert seen and not win.isVisible()
    assert win.controller.document.nodes == before  # the loaded document was dropped, not shown
    assert _no_progress_dialog() and not background._running and gc.isenabled()


def test_a_second_open_cancels_the_first(window, tmp_path, monkeypatch):
    monkeypatch.setattr(background, "BACKGROUND_BYTES", 0)
    _slow_way(monkeypatch)
    first, second = _chain_file(tmp_path, 1500, name="first"), _chain_file(tmp_path, 20, units=3, name="second")
    results = []
    timer, seen = _during_load(lambda dialog: results.append(window.open_file(second, ask=False)))
    assert window.open_file(first, ask=False) is False  # cancelled by the second open
    timer.stop()
    assert results == [True]
    assert len(window.controller.document.nodes) == 21  # the second file's model, not the first's
    assert "second20.json" in window.windowTitle()
    assert _no_progress_dialog() and not background._running and gc.isenabled()


def test_an_application_template_is_built_on_a_worker(window, monkeypatch, qtbot):
    from visualkeras_app.document import app_templates

    threads = []
    real = app_templates.load_application_template
    monkeypatch.setattr(app_templates, "load_application_template",
                        lambda *a, **k: threads.append(threading.get_ident()) or real(*a, **k))
    assert window.new_from_template("MobileNet") is True
    assert threads and threads[0] != threading.get_ident()
    doc = window.controller.document
    panel = window.summary_panel  # the rows came with the document (a chain's summary has no Input row)
    assert panel.row_count() == len(doc.nodes) - (1 if panel.sequential else 0) > 80
    assert f"{doc.result.total_params:,}" in window.summary_panel.totals.text()
    assert "MobileNet" in window.windowTitle()


def test_cancelling_a_template_keeps_the_open_model(window, monkeypatch):
    before = dict(window.controller.document.nodes)

    def cancel(dialog):
        dialog.canceled.emit()

    timer, seen = _during_load(cancel)
    assert window.new_from_template("MobileNet") is False
    timer.stop()
    assert seen and window.controller.document.nodes == before
    assert "cancelled" in window.statusBar().currentMessage() and _no_progress_dialog()


def _is_engine_object(o):
    module = getattr(type(o), "__module__", None)
    return isinstance(module, str) and module.startswith("engine.")


def _engine_garbage(fn):
    """The engine objects (layers, nodes, tensors) that only the cycle collector would free after ``fn()``."""
    gc.collect()
    # Engine objects from earlier tests that a cache lets go during fn() are not fn's garbage: count only new ones.
    before = {id(o) for o in gc.get_objects() if _is_engine_object(o)}
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        result = fn()
        gc.collect()
        found = [o for o in gc.garbage if _is_engine_object(o) and id(o) not in before]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    return result, len(found)


@pytest.mark.slow  # (walks every object of the run to tell the read's own garbage: ~3 s late in the suite)
def test_a_read_model_is_freed_by_reference_counting(tmp_path, monkeypatch):
    """The engine model a file is read into leaves no cyclic garbage for the collector (which would walk a
    big model's million objects holding the interpreter lock, freezing the window)."""
    from visualkeras_app.document import convert
    from visualkeras_app.document.project import open_any

    _slow_way(monkeypatch)  # the model is built and dropped
    path = _chain_file(tmp_path, 100)
    open_any(path)  # imports and first-use caches
    doc, garbage = _engine_garbage(lambda: open_any(path))
    assert len(doc.nodes) == 101 and garbage < 10
    monkeypatch.setattr(convert, "release_model", lambda model: None)  # as it was: left to the collector
    _, kept = _engine_garbage(lambda: open_any(path))
    assert kept > 300  # each Dense, its call's node and tensors


def test_prepared_parts_apply_only_to_the_result_they_were_made_for():
    from visualkeras_app.document.codegen import generate_code
    from visualkeras_app.document.graph import Document, Edge, LayerNode
    from visualkeras_app.document.prepared import prepare, prepared, take_model
    from visualkeras_app.document.summary import summary_rows

    doc = Document()
    a = doc.add_node(LayerNode("a", "InputLayer", "inp", {"batch_shape": [None, 3]})).id
    b = doc.add_node(LayerNode("b", "Dense", "dense", {"units": 2})).id
    doc.add_edge(Edge(a, b))
    prepare(doc)
    assert prepared(doc, "summary") == summary_rows(doc, doc.result)
    assert "\n".join(prepared(doc, "code")) == generate_code(doc)
    assert take_model(doc) is None  # made from no file: no model to hand on
    doc.set_param(b, "units", 5)
    assert prepared(doc, "summary") is None and prepared(doc, "code") is None


@pytest.mark.slow
def test_densenet201_opens_in_the_window_with_keras_summary_totals(window, keras, tmp_path, qtbot):
    """Issue 13's 600-layer application, both ways: the template and the .keras file the engine saves for it;
    the summary dock's totals are Keras's (times are in bench/bench_open_apps.py, not asserted here)."""
    from engine import applications

    expected = keras.applications.DenseNet201(weights=None)
    counts = (expected.count_params(), sum(int(w.numpy().size) for w in expected.trainable_weights))
    assert window.new_from_template("DenseNet201") is True
    path = tmp_path / "densenet201.keras"
    applications.DenseNet201(weights=None).save(str(path))
    for opened in ("template", "file"):
        if opened == "file":
            assert window.open_file(path, ask=False) is True
        qtbot.waitUntil(lambda: not window.code_panel.busy and not window.summary_panel._timer.isActive(),
                        timeout=20000)
        result = window.controller.document.result
        assert (result.total_params, result.trainable_params) == counts
        assert f"Total params: <b>{counts[0]:,}</b>" in window.summary_panel.totals.text()
        assert window.summary_panel.row_count() == len(expected.layers)
        code = window.code_panel.text()
        assert "engine.Model(" in code and f"name={'conv5_block32_2_conv'!r}".replace("'", '"') in code


def test_a_project_with_trained_weights_gets_its_draw_pad_model_from_the_worker(window, tmp_path, monkeypatch):
    """The draw pad runs an opened project's trained model at once; the model is built on the worker (with
    no initializer drawn: every weight comes from the project), not on the GUI thread (DenseNet201: 1 s)."""
    import numpy as np

    import engine
    from visualkeras_app.document import convert
    from visualkeras_app.document.project import open_any, save_project

    model = engine.Sequential([engine.Input((28, 28, 1)), engine.layers.Conv2D(4, 3, name="conv"),
                               engine.layers.Flatten(), engine.layers.Dense(10, activation="softmax", name="out")])
    model.save(str(tmp_path / "cnn.keras"))
    save_project(open_any(str(tmp_path / "cnn.keras")), tmp_path / "cnn.vkproj")
    monkeypatch.setattr(background, "BACKGROUND_BYTES", 0)
    threads = []
    real = convert.document_to_model
    monkeypatch.setattr(convert, "document_to_model",
                        lambda *a, **k: threads.append(threading.get_ident()) or real(*a, **k))
    assert window.open_file(tmp_path / "cnn.vkproj", ask=False) is True
    pad = window.training.draw_pad
    if pad is None:
        pytest.skip("the training panel is not built in this window")
    assert threads and threading.get_ident() not in threads
    assert pad.model is not None
    for a, b in zip(pad.model.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_transfer_bases_weights_are_read_on_a_worker(window, monkeypatch):
    """The download and the base's model (ResNet50: 25 million weights) run on a worker behind a progress
    dialog; the GUI thread only puts the arrays on their nodes, as one change."""
    import numpy as np

    from visualkeras_app.document import app_templates

    assert window.new_from_template("classifier_from_MobileNetV2") is True
    dialog = window.base_weights_dialog
    doc = window.controller.document
    threads, seen = [], []

    def read(plan, weights):
        threads.append(threading.get_ident())
        base_name, shape, nodes = plan
        assert base_name == "MobileNetV2" and shape == (32, 32, 3)
        first = next(nid for nid, class_name in nodes if class_name == "Conv2D")
        return {first: [np.full((3, 3, 3, 32), 0.5, dtype="float32")]}

    monkeypatch.setattr(app_templates, "read_base_weights", read)
    doc.changed.connect(lambda: seen.append(1))
    timer, shown = _during_load(lambda d: None)
    assert dialog.load("imagenet") is True
    timer.stop()
    assert threads and threads[0] != threading.get_ident() and shown
    conv = next(n for n in doc.nodes.values() if n.class_name == "Conv2D")
    assert conv.weights[0].shape == (3, 3, 3, 32) and seen == [1]
    assert "weights of 1 layers" in window.statusBar().currentMessage()
