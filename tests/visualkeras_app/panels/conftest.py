"""Fixtures for the dock panels: a controller over a fresh document, and small graphs built through it."""
import pytest

pytest.importorskip("pytestqt")


@pytest.fixture
def controller(qapp):
    from visualkeras_app.document.graph import Document
    from visualkeras_app.editor.controller import EditorController

    return EditorController(Document())


def build_chain(controller, *layers):
    """Input(28, 28, 1) followed by ``layers`` (class name, or (class name, {param: value})), connected
    in a chain through the controller. Returns the node ids, Input first."""
    ids = [controller.add_layer("InputLayer")]
    for spec in layers:
        name, params = (spec, {}) if isinstance(spec, str) else spec
        nid = controller.add_layer(name)
        for key, value in params.items():
            assert controller.set_param(nid, key, value), (name, key, value)
        assert controller.connect(ids[-1], nid) is not None
        ids.append(nid)
    return ids


@pytest.fixture
def chain(controller):
    return lambda *layers: build_chain(controller, *layers)
