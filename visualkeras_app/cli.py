"""The ``visualkeras-app`` command line.

    visualkeras-app                      the editor window
    visualkeras-app FILE|TEMPLATE        the window, opening FILE (.vkproj, .json, .h5, .keras) or a template
    visualkeras-app summary FILE|KEY     the Keras summary table of a file or template, no window
    visualkeras-app templates            the templates' keys and titles
    visualkeras-app train FILE|KEY       train on MNIST (or another data set), no window; prints Keras's
                                         progress bar (plain lines when stdout is not a
                                         terminal), then test_loss and test_accuracy
    visualkeras-app export MODEL OUT     export a file or template: .keras .h5 .json .weights.h5 .py
                                         _torch.py .onnx .png .svg .pdf .dot (see 'export --help')
    visualkeras-app predict MODEL FILES  a trained model's top-5 classes for image files (--csv)
    visualkeras-app --version

Kept free of torch and Qt imports at module level, so that ``--version`` and ``--help`` answer at
once; the window module is imported only when a window is wanted.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

from visualkeras_app import __version__
from visualkeras_app.training.precision import PRECISIONS
from visualkeras_app.training.recipe import RECIPE_BATCH_SIZE
from visualkeras_app.validation import positive_int_arg

_COMMANDS = ("summary", "templates", "train", "export", "predict")
OPENABLE = (".vkproj", ".json", ".h5", ".keras")

# (usage, what it does): the top-level --help lists every command from here.
COMMAND_HELP = (
    ("summary FILE|TEMPLATE", "print the model's Keras summary table, no window"),
    ("templates", "list the built-in templates (their keys go wherever a file does)"),
    ("train FILE|TEMPLATE", "train without a window (MNIST by default); ends with test_loss and test_accuracy"),
    ("export MODEL OUT", "write .keras .h5 .json .weights.h5 .py _torch.py .onnx, a diagram (.png .svg .pdf "
                         ".dot), or with --training-script a standalone train.py"),
    ("predict MODEL FILES...", "print a trained model's top-5 classes with probabilities for image files (--csv)"),
)


def build_parser() -> argparse.ArgumentParser:
    import textwrap

    width = max(len(u) for u, _ in COMMAND_HELP)
    commands = "\n".join(textwrap.fill(h, 100, initial_indent=f"  {u.ljust(width)}  ",
                                       subsequent_indent=" " * (width + 4)) for u, h in COMMAND_HELP)
    parser = argparse.ArgumentParser(
        prog="visualkeras-app",
        usage="visualkeras-app [-h] [--version] [FILE|TEMPLATE]\n       visualkeras-app COMMAND ...",
        description="Build neural networks on a canvas, train them, export Keras files, diagrams and code.\n"
                    "Without a command it opens the editor window (on FILE or TEMPLATE when given).",
        epilog=f"commands:\n{commands}\n\n'visualkeras-app COMMAND --help' describes a command's options, e.g. "
               "'visualkeras-app train --help'.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"visualkeras-app {__version__}")
    parser.add_argument("file", nargs="?", metavar="FILE|TEMPLATE",
                        help="a project or model file to open in the window (.vkproj, .json, .h5, .keras), or a "
                             "template key (see 'visualkeras-app templates')")
    return parser


def _template_keys() -> list:
    from visualkeras_app.document.templates import all_templates

    return [t.key for t in all_templates()]


def unknown_target_message(target, commands=False) -> str:
    """'X' is neither a file nor a template, with a "did you mean" among the templates, the model files
    beside it (and the commands, for the first word of a command line)."""
    from visualkeras_app.suggest import did_you_mean, nearby_files

    keys = _template_keys()
    candidates = keys + nearby_files(target, OPENABLE) + (list(_COMMANDS) if commands else [])
    hint = did_you_mean(target, candidates)
    what = "a file, a template nor a command" if commands else "a file nor a template"
    return f"{target!r} is neither {what}.{hint or ''} Templates: {', '.join(keys)}."


def _command_parser(name):
    if name == "summary":
        p = argparse.ArgumentParser(prog="visualkeras-app summary",
                                    description="Print the Keras summary table of a file or template, computed "
                                                "by the editor's shape inference. Exits with 1 and lists the "
                                                "problems when the graph has any.")
        p.add_argument("target", help="a project or model file, or a template key (see 'visualkeras-app templates')")
        p.add_argument("--line-length", type=int, default=None, help="total width of the table")
        return p
    if name == "train":
        return _train_parser()
    p = argparse.ArgumentParser(prog="visualkeras-app templates", description="List the templates: key and title.")
    return p


def _train_parser():
    p = argparse.ArgumentParser(
        prog="visualkeras-app train",
        description="Train a model file or template without a window, printing Keras's progress bar and, at "
                    "the end, the lines 'test_loss: ...' and 'test_accuracy: ...'. Settings not given come from "
                    "the project's saved training settings, else from the one-click recipe (Adam with a "
                    f"one-cycle schedule, batch {RECIPE_BATCH_SIZE}, one epoch: 99% on MNIST with the mnist_fast_cnn "
                    "template).",
        epilog="Exit status: 0 trained, 1 training failed (e.g. the loss became NaN), 2 the model or the data "
               "could not be used (the message says why and how to fix it).")
    p.add_argument("model", help="a project or model file (.vkproj, .json, .h5, .keras), or a template key")
    p.add_argument("--dataset", default=None, help="mnist (default), fashion_mnist, a .npz/.csv file, or a folder of images with one "
                        "subfolder per class (20%% of each class held out to test, unless it has train/ and "
                        "test/ subfolders)")
    p.add_argument("--epochs", type=positive_int_arg, default=None)
    p.add_argument("--batch-size", type=positive_int_arg, default=None)
    p.add_argument("--lr", "--learning-rate", dest="lr", type=float, default=None,
                   help="learning rate (the peak rate with the one-cycle schedule)")
    p.add_argument("--optimizer", default=None, help="adam, sgd, rmsprop, ...")
    p.add_argument("--loss", default=None, help="a Keras loss name, or auto (default)")
    p.add_argument("--schedule", choices=("one_cycle", "constant"), default=None)
    p.add_argument("--validation-split", type=float, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--device", default=None, help="cpu, cuda or mps")
    p.add_argument("--precision", choices=PRECISIONS, default=None,
                   help="float32, or a Keras mixed policy for the run (the weights stay float32); auto (the "
                        "recipe's): mixed_bfloat16 where the device multiplies bfloat16 in hardware (a CPU with "
                        "AMX, an NVIDIA GPU from Ampere on), float32 elsewhere")
    p.add_argument("--max-train-samples", type=positive_int_arg, default=None,
                   help="train on only the first N samples (a quick try)")
    p.add_argument("--save", metavar="OUT", default=None,
                   help="write the trained model: .keras or .h5 (Keras files), or .vkproj (a project with "
                        "the weights and the training settings)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, only the result lines")
    p.add_argument("--progress", choices=("auto", "bar", "lines"), default="auto",
                   help="bar: Keras's progress bar, redrawn in place; lines: plain lines (no carriage returns or "
                        "colours) for a log file: one per epoch and one every --progress-every seconds; auto "
                        "(default): the bar on a terminal, else lines")
    p.add_argument("--progress-every", type=float, default=10.0, metavar="SECONDS",
                   help="with plain lines, a progress line at most this often (default 10; 0: only epoch lines)")
    return p


def _open_target(target):
    """(document, name) for a file or a template key; prints the problem and returns None otherwise."""
    from visualkeras_app.document.project import ProjectError, open_any
    from visualkeras_app.document.templates import all_templates, load_template

    if os.path.exists(target):
        try:
            return open_any(target), os.path.splitext(os.path.basename(target))[0]
        except ProjectError as e:
            print(f"visualkeras-app: {e}", file=sys.stderr)
            return None
    if target in {t.key for t in all_templates()}:
        return load_template(target), target
    print(f"visualkeras-app: {unknown_target_message(target)}", file=sys.stderr)
    return None


def _train_settings(args, doc):
    from visualkeras_app.training.recipe import settings_for

    return settings_for(doc, dataset=args.dataset, epochs=args.epochs, batch_size=args.batch_size,
                        learning_rate=args.lr, optimizer=args.optimizer, loss=args.loss, schedule=args.schedule,
                        validation_split=args.validation_split, seed=args.seed, device=args.device,
                        max_train_samples=args.max_train_samples, precision=args.precision)


def _save_trained(model, doc, settings, out):
    ext = os.path.splitext(out)[1].lower()
    if ext in (".keras", ".h5", ".hdf5"):
        from engine.saving import save_model

        # The one-cycle schedule is the engine's own, unknown to Keras: the file records the rate the
        # optimizer ended with instead, so that Keras (and engine) load it compiled.
        with model.optimizer.frozen_learning_rate():
            save_model(model, out)
        return
    from visualkeras_app.document.project import save_project

    for node in doc.nodes.values():
        if not node.is_input:
            node.weights = model.get_layer(node.name).get_weights()
    doc.training = settings.to_dict()
    save_project(doc, out)


def _train(args) -> int:
    opened = _open_target(args.model)
    if opened is None:
        return 2
    doc, name = opened
    try:
        settings = _train_settings(args, doc)
    except ValueError as e:
        print(f"visualkeras-app: {e}", file=sys.stderr)
        return 2
    if args.save and os.path.splitext(args.save)[1].lower() not in (".keras", ".h5", ".hdf5", ".vkproj"):
        print(f"visualkeras-app: cannot save to {args.save}: use a .keras, .h5 or .vkproj file name.", file=sys.stderr)
        return 2
    from engine import backend
    from visualkeras_app.document.convert import ConversionError, document_to_model
    from visualkeras_app.training.data import DatasetError, DatasetMismatch, load_dataset, prepare_for_model
    from visualkeras_app.training.session import TrainingSession

    try:
        backend.set_device(settings.device)
        backend.set_seed(settings.seed)
        model = document_to_model(doc, name=name)
        dataset = load_dataset(settings.dataset)
        prepared = prepare_for_model(dataset, model, settings.loss, max_train_samples=settings.max_train_samples)
    except DatasetMismatch as e:
        print(f"visualkeras-app: {e.message}\nFix: {e.fix}", file=sys.stderr)
        return 2
    except (ConversionError, DatasetError, FileNotFoundError, ValueError) as e:
        print(f"visualkeras-app: {e}", file=sys.stderr)
        return 2
    quiet = args.quiet
    lines = args.progress == "lines" or (args.progress == "auto" and not _is_terminal(sys.stdout))
    every = args.progress_every

    class _Printer:
        def __init__(self):
            self.last = time.monotonic()
            self.testing = False

        def on_message(self, text):
            if text not in ("Paused.", "Resumed."):
                print(text, file=sys.stderr)

        def on_progress(self, p):
            # Plain mode: Keras's one line per epoch (verbose=2), and between them a line every few seconds.
            if quiet or not lines:
                return
            if p.phase == "test" and not self.testing:
                self.testing = True
                print(f"evaluating on the test set ({len(prepared.x_test):,} samples)", flush=True)
            now = time.monotonic()
            if every <= 0 or now - self.last < every or p.phase != "train":
                return
            self.last = now
            print(plain_progress_line(p), flush=True)

    if not quiet:
        print(f"Training {name} on {dataset.name}: {len(prepared.x_train)} samples, {settings.epochs} epoch(s), "
              f"batch {settings.batch_size}, {settings.optimizer} lr={settings.learning_rate:g} "
              f"({settings.schedule}), loss {prepared.loss}.")
        for step in prepared.steps:
            print(f"  preprocessing: {step}")
    verbose = 0 if quiet else (2 if lines else 1)
    session = TrainingSession(model, prepared, settings, listener=_Printer(), name=name, verbose=verbose)
    record = session.run()
    if session.error is not None:
        print(f"visualkeras-app: training failed: {type(session.error).__name__}: {session.error}", file=sys.stderr)
        return 1
    if record.stopped_reason == "nan":
        return 1
    if args.save:
        try:
            _save_trained(model, doc, settings, args.save)
        except (OSError, ValueError) as e:
            print(f"visualkeras-app: cannot save {args.save}: {e}", file=sys.stderr)
            return 2
        if not quiet:
            print(f"Saved {args.save}")
    if not quiet:
        print(f"Trained for {record.duration_s:.1f} s.")
    print(f"test_loss: {record.test_loss:.4f}")
    print(f"test_accuracy: {record.test_accuracy:.4f}")
    return 0


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def plain_progress_line(p) -> str:
    """"epoch 1/3 - batch 300/938 - 2,345 samples/s - ETA 1:12" for a `Progress`: no carriage return, no
    colour codes, so that a log file reads as lines."""
    sps = p.samples_per_s
    rate = f"{sps:,.0f} samples/s" if isinstance(sps, (int, float)) and math.isfinite(sps) and sps > 0 else None
    eta = p.eta_s
    eta_text = (f"ETA {int(eta) // 60}:{int(eta) % 60:02d}" if isinstance(eta, (int, float)) and math.isfinite(eta)
                else None)
    parts = [f"epoch {p.epoch}/{p.epochs}", f"batch {p.batch}/{p.batches}", rate, eta_text]
    return " - ".join(x for x in parts if x)


def _summary(args) -> int:
    from visualkeras_app.document.project import ProjectError, open_any
    from visualkeras_app.document.summary import summary_text
    from visualkeras_app.document.templates import all_templates, load_template

    target = args.target
    if os.path.exists(target):
        try:
            doc = open_any(target)
        except ProjectError as e:
            print(f"visualkeras-app: {e}", file=sys.stderr)
            return 2
        name = os.path.splitext(os.path.basename(target))[0]
    elif target in {t.key for t in all_templates()}:
        doc = load_template(target)
        name = target
    else:
        print(f"visualkeras-app: {unknown_target_message(target)}", file=sys.stderr)
        return 2
    result = doc.result if doc.result is not None else doc.infer()
    if result.errors:
        print(f"visualkeras-app: {target} has {len(result.errors)} problem(s):", file=sys.stderr)
        for p in result.errors:
            print(f"  - [{p.kind}] {p.message}", file=sys.stderr)
        return 1
    print(summary_text(doc, result, name=name, line_length=args.line_length))
    for p in result.problems:
        if p.severity != "error":
            print(f"warning: {p.message}", file=sys.stderr)
    return 0


def _templates(args) -> int:
    from visualkeras_app.document.templates import all_templates

    items = all_templates()
    width = max((len(t.key) for t in items), default=0)
    for t in items:
        print(f"{t.key.ljust(width)}  {t.title}")
    return 0


def _window(file=None, template=None) -> int:
    try:
        from visualkeras_app import app
    except ImportError as e:
        print(f"visualkeras-app: the window cannot start: {e}", file=sys.stderr)
        return 2
    if template is not None:
        return int(app.run(template=template) or 0)
    return int(app.run(file=file) or 0)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "export":
        from visualkeras_app.export.cli import build_parser as export_parser, run as export_command

        if not {"-h", "--help"} & set(argv[1:]):
            known, _ = export_parser().parse_known_args(argv[1:]) if len(argv) > 2 else (None, None)
            model = getattr(known, "model", None)
            if model and not os.path.exists(model) and model not in _template_keys():
                print(f"visualkeras-app: {unknown_target_message(model)}", file=sys.stderr)
                return 2
        return export_command(argv[1:])
    if argv and argv[0] == "predict":
        from visualkeras_app.predict import run as predict_command

        return predict_command(argv[1:])
    if argv and argv[0] in _COMMANDS:
        name = argv[0]
        args = _command_parser(name).parse_args(argv[1:])
        return {"summary": _summary, "templates": _templates, "train": _train}[name](args)
    if argv and not argv[0].startswith("-") and not os.path.exists(argv[0]) \
            and argv[0] not in _template_keys():
        # Before argparse, which would only say "unrecognized arguments" for 'trian mnist_fast_cnn'.
        print(f"visualkeras-app: cannot open {argv[0]}: {unknown_target_message(argv[0], commands=True)}",
              file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    if args.file is not None and not os.path.exists(args.file):
        return _window(template=args.file)  # a template key (anything else was answered above)
    return _window(args.file)


if __name__ == "__main__":
    raise SystemExit(main())
