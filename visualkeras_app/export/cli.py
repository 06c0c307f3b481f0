"""``visualkeras-app export MODEL OUT [options]``: the export without a window.

MODEL is a project or model file (.vkproj, .json, .h5, .keras) or a template key; OUT's extension
picks the format, except with ``--training-script``: OUT is then a standalone ``train.py`` training
the model with the project's saved training settings (overridden by ``--epochs``, ``--dataset``...).
Prints what was written (and with which renderer) and exits 0; a problem is one plain line on stderr
and exit status 1 (2 for a MODEL that cannot be opened).
"""
from __future__ import annotations

import argparse
import os
import sys

from visualkeras_app.validation import positive_int_arg


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
    t = p.add_argument_group(
        "training script",
        "With --training-script, OUT (a .py file) becomes a standalone script that trains the model as the "
        "app does and saves a .keras file; it runs as 'python train.py' and as 'torchrun --nproc_per_node=N "
        "train.py'. Settings not given come from the project's saved training settings, else from the "
        "one-click recipe (as 'visualkeras-app train').")
    t.add_argument("--training-script", action="store_true", help="write a training script to OUT")
    for flag, kind, text in _TRAINING_FLAGS:
        names = (flag, "--learning-rate") if flag == "--lr" else (flag,)
        t.add_argument(*names, dest=flag[2:].replace("-", "_"), type=kind, default=None, help=text)
    return p


# (flag, type, help) of the training-script settings; each dest is a TrainSettings field but --lr.
_TRAINING_FLAGS = (
    ("--dataset", str, "mnist, fashion_mnist, or a .npz/.csv file (its path is written into the script)"),
    ("--epochs", positive_int_arg, "number of epochs"),
    ("--batch-size", positive_int_arg, "the global batch size (split across processes under torchrun)"),
    ("--lr", float, "learning rate (the peak rate with the one-cycle schedule)"),
    ("--optimizer", str, "adam, sgd, rmsprop, ..."),
    ("--loss", str, "a Keras loss name, or auto"),
    ("--schedule", str, "one_cycle or constant"),
    ("--validation-split", float, "fraction of the training samples held out to validate"),
    ("--seed", int, "seeds the weights and the shuffling"),
    ("--max-train-samples", positive_int_arg, "train on only the first N samples"),
    ("--precision", str, "float32, mixed_bfloat16, mixed_float16, or auto (bfloat16 where the device is fast at it)"),
)


def open_model_or_template(target):
    """A Document for a file or template key; (None, message) when it is neither."""
    from visualkeras_app.document.project import ProjectError, open_any
    from visualkeras_app.document.templates import all_templates, load_template

    if os.path.exists(target):
        try:
            return open_any(target), None
        except ProjectError as e:
            return None, str(e)
    keys = [t.key for t in all_templates()]
    if target in keys:
        return load_template(target), None
    return None, f"{target!r} is neither a file nor a template. Templates: {', '.join(keys)}."


def _training_overrides(args):
    values = {flag[2:].replace("-", "_"): getattr(args, flag[2:].replace("-", "_")) for flag, _, _ in _TRAINING_FLAGS}
    values["learning_rate"] = values.pop("lr")
    return values


def _export_training_script(args) -> int:
    from visualkeras_app.export import ExportError, export_model
    from visualkeras_app.training.recipe import settings_for

    if not args.out.lower().endswith(".py"):
        print(f"visualkeras-app: a training script is a Python file: name OUT e.g. train.py "
              f"(received {args.out!r}).", file=sys.stderr)
        return 1
    doc, problem = open_model_or_template(args.model)
    if doc is None:
        print(f"visualkeras-app: {problem}", file=sys.stderr)
        return 2
    try:
        settings = settings_for(doc, **_training_overrides(args))
    except ValueError as e:
        print(f"visualkeras-app: {e}", file=sys.stderr)
        return 1
    name = args.model if not os.path.exists(args.model) else os.path.splitext(os.path.basename(args.model))[0]
    try:
        report = export_model(doc, args.out, format="train", settings=settings, name=name)
    except (ExportError, ValueError, OSError) as e:
        print(f"visualkeras-app: {e}", file=sys.stderr)
        return 1
    print(report.message())
    return 0


def run(argv) -> int:
    args = build_parser().parse_args(argv)
    if args.training_script:
        return _export_training_script(args)
    given = [flag for flag, _, _ in _TRAINING_FLAGS if getattr(args, flag[2:].replace("-", "_")) is not None]
    if given:
        print(f"visualkeras-app: {', '.join(given)} only appl{'ies' if len(given) == 1 else 'y'} to a training "
              "script: add --training-script.", file=sys.stderr)
        return 1
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
