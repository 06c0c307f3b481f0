"""Diagrams: SVG/PNG/PDF/DOT in the graph and layered styles, with and without Graphviz."""
import re
import shutil
import xml.etree.ElementTree as ET

import pytest

from tests.visualkeras_app.export.conftest import MODELS, build
from visualkeras_app.export import ExportError, export_model


@pytest.fixture
def no_dot(monkeypatch):
    """Hide Graphviz's ``dot`` program, as on most machines."""
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "dot" else real(name, *a, **k))


def _doc(key):
    from visualkeras_app.document.convert import model_to_document
    from visualkeras_app.document.templates import load_template

    if key == "two_input":
        model, _ = build(key)
        return model_to_document(model, with_weights=False)
    return load_template(key)


def _svg_text(path):
    root = ET.parse(path).getroot()  # parses as XML
    assert root.tag.endswith("svg")
    return " ".join(t for el in root.iter() for t in (el.text,) if t)


@pytest.mark.parametrize("key", MODELS)
def test_svg_without_graphviz_names_every_layer_and_shape(key, tmp_path, no_dot):
    doc = _doc(key)
    report = export_model(doc, tmp_path / "m.svg")
    assert report.renderer_used == "qt"
    assert any("Graphviz" in n for n in report.notes)
    text = _svg_text(tmp_path / "m.svg")
    for nid, node in doc.nodes.items():
        assert node.name in text
        assert doc.result.shape_text[nid] in text


def test_png_decodes_with_expected_size_and_dpi_scales_it(tmp_path, no_dot):
    from PySide6.QtGui import QImage

    from visualkeras_app.export.qt_render import ensure_app

    ensure_app()
    doc = _doc("residual_block")
    export_model(doc, tmp_path / "a.png")
    export_model(doc, tmp_path / "b.png", dpi=192)
    a, b = QImage(str(tmp_path / "a.png")), QImage(str(tmp_path / "b.png"))
    assert not a.isNull() and not b.isNull()
    assert 250 <= a.width() <= 1500 and 600 <= a.height() <= 3000  # 8 boxes top to bottom
    assert a.height() > a.width()
    assert abs(b.width() - 2 * a.width()) <= 2 and abs(b.height() - 2 * a.height()) <= 2
    export_model(doc, tmp_path / "lr.png", rankdir="LR")
    lr = QImage(str(tmp_path / "lr.png"))
    assert lr.width() > lr.height()


def test_pdf_and_dot(tmp_path, no_dot):
    doc = _doc("two_input")
    export_model(doc, tmp_path / "m.pdf")
    assert (tmp_path / "m.pdf").read_bytes().startswith(b"%PDF")
    report = export_model(doc, tmp_path / "m.dot", rankdir="LR")
    assert report.renderer_used is None
    text = (tmp_path / "m.dot").read_text()
    nodes, edges = _parse_dot(text)
    assert "rankdir=LR" in text
    assert len(nodes) == len(doc.nodes) and len(edges) == len(doc.edges)
    assert {(f'"{e.src}"', f'"{e.dst}"') for e in doc.edges} == set(edges)
    for node in doc.nodes.values():
        assert node.name in text


def _parse_dot(text):
    """A small DOT reader for what ``to_dot`` writes: statements inside one digraph block."""
    assert text.startswith("digraph ") and text.rstrip().endswith("}")
    assert text.count("{") == text.count("}")
    body = text[text.index("{") + 1:text.rindex("}")]
    nodes = re.findall(r'^\s*("[^"]+")\s*\[label=<', body, re.M)
    edges = re.findall(r'^\s*("[^"]+")\s*->\s*("[^"]+");', body, re.M)
    assert set(a for e in edges for a in e) <= set(nodes)
    # The HTML-like labels are well-formed XML.
    for label in re.findall(r"label=<(.*)>\];", body):
        ET.fromstring(label)
    return nodes, edges


def test_dot_parses_with_graphviz_when_installed(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    import graphviz

    export_model(_doc("residual_block"), tmp_path / "m.dot")
    svg = graphviz.Source((tmp_path / "m.dot").read_text()).pipe(format="svg")
    assert b"<svg" in svg


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_graphviz_renderer_when_installed(fmt, tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    doc = _doc("residual_block")
    report = export_model(doc, tmp_path / f"m.{fmt}")
    assert report.renderer_used == "graphviz"
    data = (tmp_path / f"m.{fmt}").read_bytes()
    if fmt == "svg":
        text = _svg_text(tmp_path / "m.svg")
        for nid, node in doc.nodes.items():
            assert node.name in text and doc.result.shape_text[nid] in text
    elif fmt == "pdf":
        assert data.startswith(b"%PDF")
    else:
        assert data.startswith(b"\x89PNG")


def test_forcing_graphviz_without_dot_says_how_to_install(tmp_path, no_dot):
    with pytest.raises(ExportError, match="Graphviz"):
        export_model(_doc("seed_mlp"), tmp_path / "m.png", renderer="graphviz")


def test_options_toggle_the_text(tmp_path, no_dot):
    doc = _doc("seed_cnn")
    export_model(doc, tmp_path / "full.svg")
    export_model(doc, tmp_path / "bare.svg", show_shapes=False, show_dtype=False, show_params=False,
                 show_layer_activations=False, renderer="qt")
    full, bare = _svg_text(tmp_path / "full.svg"), _svg_text(tmp_path / "bare.svg")
    assert "Output shape" in full and "Params" in full and "Activation: relu" in full and "float32" in full
    assert "Output shape" not in bare and "Params" not in bare and "Activation" not in bare
    assert "conv2d" in bare


@pytest.mark.parametrize("key", ["residual_block", "two_input", "text_lstm"])
def test_layered_style(key, tmp_path):
    doc = _doc(key)
    for fmt in ("svg", "png", "pdf"):
        report = export_model(doc, tmp_path / f"m.{fmt}", style="layered")
        assert report.renderer_used == "qt"
    text = _svg_text(tmp_path / "m.svg")
    from visualkeras_app.export.qt_render import _dims_text

    for nid, node in doc.nodes.items():
        assert node.name in text and node.class_name in text  # labels and the legend
        assert _dims_text(doc.result.shapes[nid]) in text
    assert (tmp_path / "m.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "m.png").read_bytes().startswith(b"\x89PNG")
    with pytest.raises(ExportError, match="layered"):
        export_model(doc, tmp_path / "m.dot", style="layered")


def test_layered_boxes_follow_tensor_sizes(no_dot):
    from visualkeras_app.export.qt_render import box_dims

    big, small = box_dims((None, 28, 28, 32)), box_dims((None, 7, 7, 32))
    assert big[1] > small[1] and big[2] > small[2]
    assert box_dims((None, 64, 64, 64))[0] > box_dims((None, 64, 64, 8))[0]
    assert box_dims((None, 128))[1] > box_dims((None, 10))[1]


def test_bad_options_are_refused(tmp_path):
    doc = _doc("seed_mlp")
    with pytest.raises(ExportError, match="rankdir"):
        export_model(doc, tmp_path / "m.svg", rankdir="BT")
    with pytest.raises(ExportError, match="style"):
        export_model(doc, tmp_path / "m.svg", style="fancy")
    with pytest.raises(ExportError, match="Unknown diagram option"):
        export_model(doc, tmp_path / "m.svg", colour="red")
