"""Print the README's Keras-compatibility table: for each public namespace of Keras 3, how many of its
names `engine` has and which are missing (with the reason where one is known). Needs Keras 3 installed
(it is only read, on its torch backend).

    python scripts/keras_compat.py            # Markdown table
    python scripts/keras_compat.py --section  # the README's whole "Keras compatibility" section body:
                                              # the guides and examples the tests run, the table, reasons
"""
from __future__ import annotations

import os
import sys

NAMESPACES = ["ops", "random", "layers", "models", "losses", "metrics", "optimizers", "callbacks", "activations",
              "initializers", "regularizers", "constraints", "saving", "utils", "datasets", "backend",
              "applications"]


# Why a Keras name is missing, for the names that are missing on purpose or for a known reason (layers
# refused on purpose give theirs from engine.layers.registry.UNSUPPORTED).
REASONS = {
    ("optimizers", "legacy"): "Keras 2's TensorFlow optimizers",
    ("optimizers", "MultiOptimizer"): "not yet; one optimizer per model (a custom train_step can use several)",
    ("optimizers", "OptimizerMap"): "not yet",
    ("callbacks", "OrbaxCheckpoint"): "needs Orbax (JAX)",
    ("saving", "KerasFileEditor"): "not yet; engine.saving reads and writes the same files",
    ("utils", "FeatureSpace"): "built on tf.data and TensorFlow string ops",
    ("utils", "audio_dataset_from_directory"): "needs tf.audio",
    ("utils", "legacy"): "Keras 2's TensorFlow-era utilities",
    ("utils", "Config"): "not yet",
    ("utils", "bounding_boxes"): "not yet in engine.utils",
    ("layers", "IntegerLookup"): "not yet",
}

GUIDES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "engine", "guides")


def covered():
    """``[(test file, [titles])]``: the keras.io guides and examples that tests/engine/guides runs on
    both libraries, read from each test module's docstring (the titles it quotes)."""
    import ast
    import re

    out = []
    for name in sorted(os.listdir(GUIDES)):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        with open(os.path.join(GUIDES, name), encoding="utf-8") as f:
            doc = ast.get_docstring(ast.parse(f.read())) or ""
        titles = re.findall(r"\"([^\"]+)\"", doc)
        if titles:
            out.append((name, [" ".join(t.split()) for t in titles]))
    return out


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


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        table = rows()
    except ImportError as e:
        print(f"This script compares with Keras 3, which is not installed here ({e}).", file=sys.stderr)
        return 1
    from engine.layers import registry

    if "--section" in argv:
        print("Run against Keras 3 (torch backend) in the same test, with the same shapes, parameter counts and,")
        print("on the same weights, the same outputs (tests/engine/guides/):")
        print()
        runs = covered()
        guides = sorted(t for f, titles in runs if not f.startswith("test_examples_") for t in titles)
        examples = sorted(t for f, titles in runs if f.startswith("test_examples_") for t in titles)
        print("- Guides: " + ", ".join(guides) + ".")
        print("- Examples: " + ", ".join(examples) + ".")
        print()
    print("| namespace | Keras names | in engine | missing |")
    print("|---|---:|---:|---|")
    reasons = []
    for name, total, have, missing in table:
        # Layers refused on purpose (they need TensorFlow strings or another framework) say so.
        shown = [f"`{m}` (refused)" if name == "layers" and m in registry.UNSUPPORTED else f"`{m}`" for m in missing]
        print(f"| `{name}` | {total} | {have} | {', '.join(shown) or '-'} |")
        for m in missing:
            why = registry.UNSUPPORTED.get(m) if name == "layers" else None
            why = why or REASONS.get((name, m))
            if why:
                reasons.append(f"- `{name}.{m}`: {why}.")
    if "--section" in argv and reasons:
        print()
        print("Why names are missing:")
        print()
        print("\n".join(reasons))
    return 0


if __name__ == "__main__":
    sys.exit(main())
