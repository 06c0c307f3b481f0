"""Fixtures for the controller tests: a controller over a fresh document, and a message recorder."""
import pytest

pytest.importorskip("pytestqt")


@pytest.fixture
def controller(qapp):
    from visualkeras_app.document.graph import Document
    from visualkeras_app.editor.controller import EditorController

    return EditorController(Document())


@pytest.fixture
def messages(controller):
    """Every line the controller sends to the status bar."""
    seen = []
    controller.message.connect(seen.append)
    return seen
