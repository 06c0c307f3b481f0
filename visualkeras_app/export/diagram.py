"""Diagrams: Keras ``plot_model``-style graphs and visualkeras-style layered views.

The graph style is written as DOT and rendered by Graphviz (through the ``graphviz`` package) when
the ``dot`` program is on the PATH; without it, the app draws the same boxes itself with Qt
(``qt_render``), so a missing Graphviz never stops an export. The layered style is always drawn by
the app. ``ExportReport.renderer_used`` says which renderer made the file.
"""
from __future__ import annotations

import html
import os
import shutil
from dataclasses import dataclass

from visualkeras_app.document.style import category_color, category_of
from visualkeras_app.export.core import ExportError

GRAPHVIZ_HINT = ("Install Graphviz's 'dot' program (e.g. apt install graphviz, brew install graphviz, or "
                 "https://graphviz.org/download/) to render with Graphviz.")

_DIAGRAM_OPTIONS = {"style", "rankdir", "dpi", "show_shapes", "show_dtype", "show_layer_names",
                    "show_layer_activations", "show_params", "legend", "renderer", "title"}


@dataclass
class NodeInfo:
    """What a diagram shows of one layer."""

    id: str
    name: str
    class_name: str
    category: str
    activation: str | None
    dtype: str
    input_shapes: list
    output_shape: str
    shape: object  # the output shape as a tuple (or list of tuples), None when unknown
    params: int


@dataclass
class DiagramOptions:
    style: str = "graph"
    rankdir: str = "TB"
    dpi: int = 96
    show_shapes: bool = True
    show_dtype: bool = True
    show_layer_names: bool = True
    show_layer_activations: bool = True
    show_params: bool = True
    legend: bool = True
    renderer: str = "auto"
    title: str | None = None

    def check(self):
        if self.style not in ("graph", "layered"):
            raise ExportError(f"style must be 'graph' or 'layered'. Received: style={self.style!r}")
        if self.rankdir not in ("TB", "LR"):
            raise ExportError(f"rankdir must be 'TB' (top to bottom) or 'LR' (left to right). "
                              f"Received: rankdir={self.rankdir!r}")
        if not isinstance(self.dpi, (int, float)) or not 10 <= self.dpi <= 1200:
            raise ExportError(f"dpi must be a number between 10 and 1200. Received: dpi={self.dpi!r}")
        if self.renderer not in ("auto", "graphviz", "qt"):
            raise ExportError(f"renderer must be 'auto', 'graphviz' or 'qt'. Received: renderer={self.renderer!r}")


def _dtype_name(config):
    d = config.get("dtype")
    if isinstance(d, dict):
        d = (d.get("config") or {}).get("name")
    return str(d or "float32")


def _activation(config):
    a = config.get("activation")
    if isinstance(a, dict):
        a = a.get("class_name")
    return None if a in (None, "linear") else str(a)


def node_infos(doc):
    """``[NodeInfo]`` in topological order, and the edges, for a Document with a clean inference."""
    result = doc.result if doc.result is not None else doc.infer()
    if not doc.nodes:
        raise ExportError("The model is empty: there is nothing to draw.")
    infos = []
    for nid in result.order:
        node = doc.nodes[nid]
        infos.append(NodeInfo(
            nid, node.name, node.class_name, category_of(node.class_name), _activation(node.config),
            _dtype_name(node.config), [result.shape_text.get(e.src, "?") for e in doc.inputs_of(nid)],
            result.shape_text.get(nid, "?"), result.shapes.get(nid), int(result.params.get(nid, 0) or 0)))
    return infos, list(doc.edges)


def node_lines(info, opts):
    """The text lines of a graph-style box: (title, [detail lines])."""
    if opts.show_layer_names:
        title = f"{info.name} ({info.class_name})"
    else:
        title = info.class_name
    lines = []
    if opts.show_layer_activations and info.activation:
        lines.append(f"Activation: {info.activation}")
    if opts.show_shapes:
        if info.input_shapes:
            lines.append("Input shape: " + ", ".join(info.input_shapes))
        lines.append(f"Output shape: {info.output_shape}")
    if opts.show_dtype:
        lines.append(f"dtype: {info.dtype}")
    if opts.show_params and info.class_name != "InputLayer":
        lines.append(f"Params: {info.params:,}")
    return title, lines


def to_dot(doc, opts=None) -> str:
    """The graph diagram as DOT source (HTML-like labels, as Keras's ``model_to_dot``)."""
    opts = opts or DiagramOptions()
    infos, edges = node_infos(doc)
    out = ["digraph model {",
           f'  graph [rankdir={opts.rankdir}, bgcolor="white", nodesep=0.35, ranksep=0.45, '
           f'fontname="Helvetica"{", dpi=" + str(int(opts.dpi)) if opts.dpi else ""}];',
           '  node [shape=plaintext, fontname="Helvetica", fontsize=11, margin=0];',
           '  edge [color="#52606D", arrowsize=0.7];']
    if opts.title:
        out.append(f'  label=<{html.escape(opts.title)}>; labelloc=t;')
    for info in infos:
        title, lines = node_lines(info, opts)
        color = category_color(info.category)
        rows = [f'<TR><TD BGCOLOR="{color}"><FONT COLOR="white"><B>{html.escape(title)}</B></FONT></TD></TR>']
        rows += [f"<TR><TD>{html.escape(line)}</TD></TR>" for line in lines]
        label = ('<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4" COLOR="#7B8794">'
                 + "".join(rows) + "</TABLE>>")
        out.append(f"  {_dot_id(info.id)} [label={label}];")
    for e in edges:
        out.append(f"  {_dot_id(e.src)} -> {_dot_id(e.dst)};")
    out.append("}")
    return "\n".join(out) + "\n"


def _dot_id(nid):
    return '"' + str(nid).replace("\\", "\\\\").replace('"', '\\"') + '"'


def graphviz_available() -> bool:
    """Whether Graphviz's ``dot`` program is on the PATH (the ``graphviz`` package only calls it)."""
    return shutil.which("dot") is not None


def export_diagram(doc, path, fmt, report, **options):
    unknown = sorted(set(options) - _DIAGRAM_OPTIONS)
    if unknown:
        raise ExportError(f"Unknown diagram option(s) {unknown}. Options: {sorted(_DIAGRAM_OPTIONS)}.")
    opts = DiagramOptions(**options)
    opts.check()
    result = doc.result if doc.result is not None else doc.infer()
    if result.errors:
        from visualkeras_app.document.convert import problems_message

        raise ExportError(problems_message(result.errors))
    if opts.style == "layered":
        if fmt == "dot":
            raise ExportError("The layered style is drawn by the app, not Graphviz: export it as .svg, .png or .pdf.")
        from visualkeras_app.export import qt_render

        qt_render.render(qt_render.layered_drawing(doc, opts), path, fmt, opts.dpi)
        report.renderer_used = "qt"
        return
    if fmt == "dot":
        _write_text(path, to_dot(doc, opts))
        report.notes.append("Render it with Graphviz: dot -Tpng " + os.path.basename(path) + " -o model.png")
        return
    use_graphviz = opts.renderer == "graphviz" or (opts.renderer == "auto" and graphviz_available())
    if use_graphviz:
        if not graphviz_available():
            raise ExportError("Graphviz's 'dot' program is not installed. " + GRAPHVIZ_HINT
                              + " Or use renderer='auto' to draw with the built-in renderer.")
        import graphviz

        dot = to_dot(doc, opts)
        if fmt != "png":  # dpi scales SVG/PDF units in Graphviz; it only means pixels for PNG
            dot = dot.replace(f", dpi={int(opts.dpi)}", "")
        data = graphviz.Source(dot).pipe(format=fmt)
        from engine.utils.file_utils import atomic_write_bytes

        atomic_write_bytes(path, data)
        report.renderer_used = "graphviz"
        return
    from visualkeras_app.export import qt_render

    qt_render.render(qt_render.graph_drawing(doc, opts), path, fmt, opts.dpi)
    report.renderer_used = "qt"
    if opts.renderer == "auto":
        report.notes.append("Graphviz's 'dot' program was not found, so the built-in renderer drew it. " + GRAPHVIZ_HINT)


def _write_text(path, text):
    from engine.utils.file_utils import atomic_write_text

    atomic_write_text(path, text)
