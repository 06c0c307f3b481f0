"""The ``visualkeras-app`` command line.

    visualkeras-app                      the editor window
    visualkeras-app FILE                 the window, opening FILE (.vkproj, .json, .h5, .keras)
    visualkeras-app summary FILE|KEY     the Keras summary table of a file or template, no window
    visualkeras-app templates            the templates' keys and titles
    visualkeras-app --version

Kept free of torch and Qt imports at module level, so that ``--version`` and ``--help`` answer at
once; the window module is imported only when a window is wanted.
"""
from __future__ import annotations

import argparse
import os
import sys

from visualkeras_app import __version__

_COMMANDS = ("summary", "templates")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="visualkeras-app",
        description="Build neural networks on a canvas, train them, export Keras files, diagrams and code.",
        epilog="Commands: 'visualkeras-app summary FILE|TEMPLATE' prints a model's summary table without a "
               "window; 'visualkeras-app templates' lists the templates.",
    )
    parser.add_argument("--version", action="version", version=f"visualkeras-app {__version__}")
    parser.add_argument("file", nargs="?", help="a project or model file to open in the window "
                                                "(.vkproj, .json, .h5, .keras)")
    return parser


def _command_parser(name):
    if name == "summary":
        p = argparse.ArgumentParser(prog="visualkeras-app summary",
                                    description="Print the Keras summary table of a file or template, computed "
                                                "by the editor's shape inference. Exits with 1 and lists the "
                                                "problems when the graph has any.")
        p.add_argument("target", help="a project or model file, or a template key (see 'visualkeras-app templates')")
        p.add_argument("--line-length", type=int, default=None, help="total width of the table")
        return p
    p = argparse.ArgumentParser(prog="visualkeras-app templates", description="List the templates: key and title.")
    return p


def _summary(args) -> int:
    from visualkeras_app.document.project import ProjectError, open_any
    from visualkeras_app.document.summary import summary_text
    from visualkeras_app.document.templates import list_templates, load_template

    target = args.target
    if os.path.exists(target):
        try:
            doc = open_any(target)
        except ProjectError as e:
            print(f"visualkeras-app: {e}", file=sys.stderr)
            return 2
        name = os.path.splitext(os.path.basename(target))[0]
    elif target in {t.key for t in list_templates()}:
        doc = load_template(target)
        name = target
    else:
        keys = ", ".join(t.key for t in list_templates())
        print(f"visualkeras-app: {target!r} is neither a file nor a template. Templates: {keys}.", file=sys.stderr)
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
    from visualkeras_app.document.templates import list_templates

    items = list_templates()
    width = max((len(t.key) for t in items), default=0)
    for t in items:
        print(f"{t.key.ljust(width)}  {t.title}")
    return 0


def _window(file) -> int:
    try:
        from visualkeras_app import app
    except ImportError as e:
        print(f"visualkeras-app: the window cannot start: {e}", file=sys.stderr)
        return 2
    return int(app.run(file=file) or 0)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in _COMMANDS:
        name = argv[0]
        args = _command_parser(name).parse_args(argv[1:])
        return _summary(args) if name == "summary" else _templates(args)
    args = build_parser().parse_args(argv)
    if args.file is not None and not os.path.exists(args.file):
        print(f"visualkeras-app: cannot open {args.file}: no such file.", file=sys.stderr)
        return 2
    return _window(args.file)


if __name__ == "__main__":
    raise SystemExit(main())
