"""Print the README's Keras-compatibility table: for each public namespace of Keras 3, how many of its
names `engine` has and which are missing. Needs Keras 3 installed (it is only read, on its torch backend).

    python scripts/keras_compat.py            # Markdown table
"""
from __future__ import annotations

import os
import sys

NAMESPACES = ["ops", "random", "layers", "models", "losses", "metrics", "optimizers", "callbacks", "activations",
              "initializers", "regularizers", "constraints", "saving", "utils", "datasets", "backend",
              "applications"]


def rows():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    import engine

    out = []
    for name in NAMESPACES:
        theirs = getattr(keras, name, None)
        ours = getattr(engine, name, None)
        if ours is None:  # subpackages engine does not import up front (engine.applications)
            import importlib

            try:
                ours = importlib.import_module(f"engine.{name}")
            except ImportError:
                ours = None
        names = sorted(n for n in dir(theirs) if not n.startswith("_")) if theirs is not None else []
        missing = [n for n in names if ours is None or not hasattr(ours, n)]
        out.append((name, len(names), len(names) - len(missing), missing))
    return out


def main():
    try:
        table = rows()
    except ImportError as e:
        print(f"This script compares with Keras 3, which is not installed here ({e}).", file=sys.stderr)
        return 1
    from engine.layers import registry

    print("| namespace | Keras names | in engine | missing |")
    print("|---|---:|---:|---|")
    for name, total, have, missing in table:
        # Layers refused on purpose (they need TensorFlow strings or another framework) say so.
        shown = [f"`{m}` (refused)" if name == "layers" and m in registry.UNSUPPORTED else f"`{m}`" for m in missing]
        print(f"| `{name}` | {total} | {have} | {', '.join(shown) or '-'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
