"""Generated code runs and builds the model document_to_model builds."""
import contextlib
import io

import pytest

import engine
from engine import backend
from engine import layers as L
from engine.saving import serialize_model
from visualkeras_app.document.codegen import generate_code
from visualkeras_app.document.convert import document_to_model, model_to_document
from visualkeras_app.document.graph import Document
from visualkeras_app.document.templates import list_templates, load_template

from tests.visualkeras_app.document.helpers import chain, node


def run(code):
    backend.clear_session()  # the code is meant for a fresh session, where Keras's automatic names start over
    ns = {}
    with contextlib.redirect_stdout(io.StringIO()) as out:
        exec(compile(code, "<generated>", "exec"), ns)
    return ns["model"], out.getvalue()


def same_model(doc, code):
    model, printed = run(code)
    backend.clear_session()
    ref = document_to_model(doc)
    a, b = serialize_model(model), serialize_model(ref)
    a["config"].pop("name")
    b["config"].pop("name")
    return a == b and "Total params" in printed


def wrapped_and_multi_output_model():
    seq = engine.Input((10, 8), name="seq")
    x = L.Bidirectional(L.LSTM(16, return_sequences=True))(seq)
    x = L.TimeDistributed(L.Dense(4))(x)
    o, h, c = L.LSTM(5, return_state=True, name="enc")(x)
    head = L.Dense(3, kernel_initializer="he_normal", kernel_regularizer=engine.regularizers.L2(0.001),
                   name="head")(h)
    cat = L.Concatenate()([o, c])
    return engine.Model(seq, [head, cat])


def test_every_template_generates_code_for_the_same_model():
    for t in list_templates():
        doc = load_template(t.key)
        assert same_model(doc, generate_code(doc)), t.key


def test_sequential_code_reads_like_keras():
    code = generate_code(load_template("seed_cnn"))
    assert "model = engine.Sequential(" in code
    assert 'layers.Conv2D(32, (3, 3), activation="relu")' in code
    assert "layers.Dropout(0.25)" in code and "engine.Input(shape=(28, 28, 1))" in code
    assert "use_bias" not in code and "name=" not in code  # defaults and automatic names left out
    assert code.rstrip().endswith("model.summary()")


def test_functional_code_with_wrappers_merges_and_multiple_outputs():
    doc = model_to_document(wrapped_and_multi_output_model())
    code = generate_code(doc)
    assert "layers.Bidirectional(layers.LSTM(16, return_sequences=True))" in code
    assert "layers.TimeDistributed(layers.Dense(4))" in code
    assert "([enc[0], enc[2]])" in code and "(enc[1])" in code
    assert '"he_normal"' in code and "engine.regularizers.L2(l2=0.001)" in code
    assert "engine.Model(inputs=seq, outputs=[head, concatenate])" in code
    assert same_model(doc, code)


def test_residual_block_is_functional_with_explicit_names():
    code = generate_code(load_template("residual_block"))
    assert "add = layers.Add()([conv_b, stem])" in code
    assert 'name="stem"' in code


def test_odd_names_become_valid_variables():
    doc, (i, d) = chain(("InputLayer", {"batch_shape": [None, 3]}), "Dense")
    d2 = node(doc, "Dense")
    doc.add_edge(__import__("visualkeras_app.document.graph", fromlist=["Edge"]).Edge(i, d2))
    doc.rename(d, "class")
    doc.rename(d2, "2nd-head")
    code = generate_code(doc)
    assert "class_ = layers.Dense(" in code and "_2nd_head = layers.Dense(" in code
    assert same_model(doc, code)


def test_problems_are_listed_on_top_and_empty_document_says_what_to_do():
    doc, ids = chain(("InputLayer", {"batch_shape": [None, 10]}), "Conv2D")
    code = generate_code(doc)
    assert code.startswith("# The graph has problems")
    compile(code, "<generated>", "exec")  # still valid Python
    with pytest.raises(ValueError):
        run(code)
    empty = generate_code(Document())
    assert "empty" in empty and "import engine" in empty


def test_an_unknown_layer_class_still_gives_code_and_a_problem_comment():
    from visualkeras_app.document.graph import Edge, LayerNode

    doc, (i, d) = chain(("InputLayer", {"batch_shape": [None, 3]}), "Dense")
    doc.add_node(LayerNode("x", "My Layer", "custom", {}))
    doc.add_edge(Edge(d, "x"))
    code = generate_code(doc)
    assert "My Layer" in code.splitlines()[1] and 'custom = layers.My_Layer(name="custom")(dense)' in code
    compile(code, "<generated>", "exec")
