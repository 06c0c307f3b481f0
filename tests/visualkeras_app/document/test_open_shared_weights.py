"""A .keras/.h5 file opened as a document: the nodes' weights are views of the loaded model's (no second
copy of a 356 MB NASNetLarge), equal to the file's values, and they outlive the model."""
import gc

import numpy as np
import pytest

import engine
from engine import layers
from visualkeras_app.document.convert import document_to_model, model_to_document
from visualkeras_app.document.project import open_any


def _model():
    return engine.Sequential([engine.Input((6,)), layers.Dense(5, name="d1"), layers.BatchNormalization(name="bn"),
                              layers.Dense(3, name="d2")])


@pytest.mark.slow  # its gc.collect() walks the whole session's objects (0.3-0.5 s late in a test session); test_copies_stay_the_default stays in the fast loop
def test_an_opened_files_nodes_hold_its_weights_without_a_copy(tmp_path):
    model = _model()
    path = str(tmp_path / "m.keras")
    model.save(path)
    doc = open_any(path, keep_model=True)
    loaded = doc.loaded_model
    node = next(n for n in doc.nodes.values() if n.name == "d1")
    kernel = loaded.get_layer("d1").kernel
    assert np.shares_memory(node.weights[0], kernel.detach().numpy())
    expected = {layer.name: layer.get_weights() for layer in model.layers}
    del loaded, kernel
    doc.loaded_model = None
    gc.collect()
    for n in doc.nodes.values():  # the arrays keep the model's memory alive after it is gone
        for a, b in zip(n.weights or [], expected.get(n.name, [])):
            np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(0).random((4, 6)).astype("float32")
    np.testing.assert_allclose(document_to_model(doc).predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_copies_stay_the_default():
    model = _model()
    doc = model_to_document(model)
    node = next(n for n in doc.nodes.values() if n.name == "d1")
    assert not np.shares_memory(node.weights[0], model.get_layer("d1").kernel.detach().numpy())
