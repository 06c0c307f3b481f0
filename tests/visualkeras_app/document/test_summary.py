"""The summary table from inference is the one the compiled model prints."""
import contextlib
import io

import engine
from engine import layers as L
from visualkeras_app.document.convert import document_to_model, model_to_document
from visualkeras_app.document.summary import summary_rows, summary_text
from visualkeras_app.document.templates import list_templates, load_template


def printed(model, width):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        model.summary(line_length=width)
    return buf.getvalue().rstrip("\n")


def test_templates_summary_equals_model_summary():
    for t in list_templates():
        doc = load_template(t.key)
        model = document_to_model(doc, name="m")
        assert summary_text(doc, name="m", line_length=110) == printed(model, 110), t.key


def test_functional_order_and_connections_follow_keras():
    a = engine.Input((8,), name="x")
    b = engine.Input((4,), name="y")
    p = L.Dense(4, name="p")(a)
    q = L.Dense(4, name="q")(L.Dense(4, name="deep")(p))
    cat = L.Concatenate(name="cat")([q, L.Dense(4, name="r")(b), p])
    model = engine.Model([a, b], [L.Dense(2, name="out")(cat), L.Dense(3, name="out2")(p)], name="m")
    doc = model_to_document(model)
    assert summary_text(doc, name="m", line_length=120) == printed(model, 120)
    sequential_like, rows = summary_rows(doc)
    assert not sequential_like
    assert [r["name"] for r in rows] == [l.name for l in model.layers]
    assert next(r for r in rows if r["name"] == "cat")["connected_to"] == ["q[0][0]", "r[0][0]", "p[0][0]"]
