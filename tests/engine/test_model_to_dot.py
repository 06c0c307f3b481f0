"""engine.utils.model_to_dot and plot_model(show_trainable=True, expand_nested=True): DOT text from the
engine's graph without pydot, nested models as clusters, frozen layers marked, pictures by Graphviz."""
import shutil

import pytest

import engine


def _nested_model():
    layers = engine.layers
    inner_in = engine.Input((4,))
    inner = engine.Model(inner_in, layers.Dense(3, activation="relu", name="inner_dense")(inner_in), name="block")
    x = engine.Input((4,), name="x")
    pre = layers.Dense(4, name="pre")(x)
    out = layers.add([layers.Dense(3, name="side")(pre), inner(pre)])
    model = engine.Model(x, out, name="outer")
    model.get_layer("pre").trainable = False
    return model


def _edges(text):
    labels = {}
    for line in text.splitlines():
        line = line.strip()
        if " [label=" in line:
            nid, rest = line.split(" [label=", 1)
            labels[nid] = rest.split('"')[1].split("\\n")[0]
    return {(labels[a], labels[b.rstrip(";")]) for a, _, b in
            (line.strip().split(" ", 2) for line in text.splitlines() if " -> " in line)}


def test_model_to_dot_without_pydot_draws_the_graph():
    dot = engine.utils.model_to_dot(_nested_model(), show_shapes=True, rankdir="LR")
    text = dot.to_string()
    assert text.startswith("digraph G {") and "rankdir=LR;" in text
    assert "block (Functional)" in text and "inner_dense" not in text  # nested model as one box
    assert ("pre (Dense)", "block (Functional)") in _edges(text)
    assert "Output shape: (None, 3)" in text


def test_expand_nested_and_show_trainable():
    text = engine.utils.model_to_dot(_nested_model(), expand_nested=True, show_trainable=True).to_string()
    assert "subgraph cluster_" in text and 'label="block";' in text
    edges = _edges(text)
    assert ("pre (Dense)", "input_layer (InputLayer)") in edges       # into the nested model's input
    assert ("inner_dense (Dense)", "add (Add)") in edges               # out of its output
    frozen = [line for line in text.splitlines() if "pre (Dense)" in line][0]
    assert "Frozen" in frozen and "lightgrey" in frozen
    assert text.count("\\nTrainable") == 5  # the other boxes: x, side, input_layer, inner_dense, add


def test_sequential_without_input_and_bad_arguments():
    seq = engine.Sequential([engine.layers.Dense(2, name="a"), engine.layers.Dense(3, name="b")])
    assert _edges(engine.utils.model_to_dot(seq).to_string()) == {("a (Dense)", "b (Dense)")}
    with pytest.raises(ValueError, match="rankdir"):
        engine.utils.model_to_dot(seq, rankdir="BT")
    with pytest.raises(ValueError, match="layer_range"):
        engine.utils.model_to_dot(seq, layer_range=["a", "b"])

    class Sub(engine.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match="subclassed model"):
        engine.utils.model_to_dot(Sub())


def test_plot_model_with_show_trainable_and_expand_nested(tmp_path):
    model = _nested_model()
    engine.utils.plot_model(model, to_file=str(tmp_path / "m.dot"), show_trainable=True, expand_nested=True)
    assert "subgraph cluster_" in (tmp_path / "m.dot").read_text()
    if shutil.which("dot") is None:
        with pytest.raises(ImportError, match="Graphviz"):
            engine.utils.plot_model(model, to_file=str(tmp_path / "m.png"), show_trainable=True)
    else:
        engine.utils.plot_model(model, to_file=str(tmp_path / "m.png"), show_trainable=True, expand_nested=True,
                                dpi=72)
        assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
