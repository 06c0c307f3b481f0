"""The code of a big model is written without a second inference (the caller hands the current result) and
each distinct layer config's arguments are worked out once (issue 18: 20,000 layers' code took 0.75 s)."""
import pytest

import visualkeras_app.document.codegen as codegen
import visualkeras_app.document.inference as inference
from visualkeras_app.document.graph import Document, Edge, LayerNode


def _chain(configs):
    doc = Document()
    with doc.batch():
        prev = doc.add_node(LayerNode(doc.new_id(), "InputLayer", "in", {"batch_shape": [None, 4]})).id
        for i, (cls, config) in enumerate(configs):
            nid = doc.add_node(LayerNode(doc.new_id(), cls, f"layer{i}", dict(config))).id
            doc.add_edge(Edge(prev, nid))
            prev = nid
    return doc


def test_the_current_result_is_used_instead_of_a_new_inference(monkeypatch):
    doc = _chain([("Dense", {"units": 8}), ("Dense", {"units": 3, "activation": "softmax"})])
    expected = codegen.generate_code(doc)

    def no_inference(_doc):
        raise AssertionError("inferred again")

    monkeypatch.setattr(inference, "infer", no_inference)
    assert "\n".join(codegen.iter_code(doc, doc.result)) == expected
    with pytest.raises(AssertionError, match="inferred again"):
        list(codegen.iter_code(doc))  # without a result it infers, as before


def test_alike_layers_share_their_arguments_and_keep_their_own_names(monkeypatch):
    configs = [("Dense", {"units": 4, "activation": "relu"})] * 3 + [("Dense", {"units": 5})]
    doc = _chain(configs)
    code = codegen.generate_code(doc)
    assert code.count('layers.Dense(4, activation="relu", name="layer') == 3
    assert 'layers.Dense(5, name="layer3")' in code
    worked = []
    real = codegen._keras_defaults
    monkeypatch.setattr(codegen, "_keras_defaults", lambda *a: worked.append(a[0]) or real(*a))
    codegen._ARGUMENTS_CACHE.clear()
    assert codegen.generate_code(doc) == code
    assert len(worked) == 4  # two per distinct config (its defaults, then those implied), not eight
    # A config changed in place is another key: its own arguments, not the cached ones.
    next(n for n in doc.nodes.values() if n.name == "layer1").config["units"] = 7
    assert 'layers.Dense(7, activation="relu", name="layer1")' in codegen.generate_code(doc)
