"""``visualkeras-app export MODEL OUT [options]``: the export without a window.

MODEL is a project or model file (.vkproj, .json, .h5, .keras) or a template key; OUT's extension
picks the format. Prints what was written (and with which renderer) and exits 0; a problem is one
plain line on stderr and exit status 1 (2 for a MODEL that cannot be opened).
"""
from __future__ import annotations

import argparse
import os
import sys


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="visualkeras-app export",
        description="Export a model: Keras files (.keras .h5 .json .weights.h5), a script rebuilding it with "
                    "engine (.py), a standalone PyTorch module (_torch.py), ONNX (.onnx), or a diagram "
                    "(.png .svg .pdf .dot). The format comes from OUT's extension.",
        epilog="Diagrams are rendered with Graphviz when its 'dot' program is installed, else with the "
               "built-in renderer. A template without trained weights is exported with fresh random ones.")
    p.add_argument("model", metavar="MODEL", help="a project or model file, or a template key "
                                                  "(see 'visualkeras-app templates')")
    p.add_argument("out", metavar="OUT", help="the file to write; its extension picks the format")
    p.add_argument("--style", choices=("graph", "layered"), default="graph",
                   help="diagram style: Keras plot_model boxes (graph) or visualkeras-style 3-D boxes (layered)")
    p.add_argument("--rankdir", choices=("TB", "LR"), default="TB", help="graph diagrams: top-down or left-right")
    p.add_argument("--dpi", type=int, default=96, help="PNG resolution (default 96)")
    p.add_argument("--no-shapes", action="store_true", help="diagrams: leave out the tensor shapes")
    p.add_argument("--renderer", choices=("auto", "graphviz", "qt"), default="auto",
                   help="graph diagrams: Graphviz, the built-in renderer, or Graphviz when installed (auto)")
    p.add_argument("--torch-weights", choices=("auto", "safetensors", "pt"), default="auto",
                   help="_torch.py: the weights file format (auto: safetensors when installed)")
    return p


def open_model_or_template(target):
    """A Document for a file or template key; (None, message) when it is neither."""
    from visualkeras_app.document.project import ProjectError, open_any
    from visualkeras_app.document.templates import list_templates, load_template

    if os.path.exists(target):
        try:
            return open_any(target), None
        except ProjectError as e:
            return None, str(e)
    keys = [t.key for t in list_templates()]
    if target in keys:
        return load_template(target), None
    return None, f"{target!r} is neither a file nor a template. Templates: {', '.join(keys)}."


def run(argv) -> int:
    args = build_parser().parse_args(argv)
    from visualkeras_app.export import ExportError, detect_format, export_model
    from visualkeras_app.export.core import DIAGRAM_FORMATS

    try:
        fmt = detect_format(args.out)
    except ExportError as e:
        print(f"visualkeras-app: {e}", file=sys.stderr)
        return 1
    doc, problem = open_model_or_template(args.model)
    if doc is None:
        print(f"visualkeras-app: {problem}", file=sys.stderr)
        return 2
    options = {}
    if fmt in DIAGRAM_FORMATS:
        options = dict(style=args.style, rankdir=args.rankdir, dpi=args.dpi, show_shapes=not args.no_shapes,
                       renderer=args.renderer)
    elif fmt == "torch":
        options = dict(weights_format=args.torch_weights)
    try:
        report = export_model(doc, args.out, **options)
    except (ExportError, ValueError, OSError) as e:
        print(f"visualkeras-app: {e}", file=sys.stderr)
        return 1
    print(report.message())
    return 0
