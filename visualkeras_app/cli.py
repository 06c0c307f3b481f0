"""The ``visualkeras-app`` command line.

Kept free of torch and Qt imports at module level, so that ``--version`` and ``--help`` answer at once.
"""
from __future__ import annotations

import argparse
import sys

from visualkeras_app import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="visualkeras-app",
        description="Build neural networks on a canvas, train them, export Keras files, diagrams and code.",
    )
    parser.add_argument("--version", action="version", version=f"visualkeras-app {__version__}")
    parser.add_argument("file", nargs="?", help="a model or project file to open (the window comes with the editor)")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    print("visualkeras-app: the editor window is not built yet; this release ships the engine library.\n"
          "Try: python -c \"import engine; print(engine.__version__)\"", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
