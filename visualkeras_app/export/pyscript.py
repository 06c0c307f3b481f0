"""``.py`` export: Keras-style code with ``engine`` that rebuilds the model and loads its weights.

The code is the code dock's (``codegen.generate_code``); the weights go to ``<stem>.weights.h5``
beside the script (Keras 3's weights layout), found relative to the script so the pair can be moved
together. The model is left in the module-level variable ``model``; run as a program the script
prints its summary.
"""
from __future__ import annotations

import os

from visualkeras_app.document.pysource import doc_text, literal
from visualkeras_app.export.core import ExportError, atomic_write_text


def export_engine_script(model, path, report):
    from engine import saving

    from visualkeras_app.document.codegen import generate_code
    from visualkeras_app.document.convert import ConversionError, model_to_document

    try:
        doc = model_to_document(model, with_weights=False)
    except ConversionError as e:
        raise ExportError(f"Cannot write {os.path.basename(path)!r}: {e}") from None
    code = generate_code(doc)
    body = code.rstrip("\n").splitlines()
    if body and body[-1].strip() == "model.summary()":
        body.pop()
    weights_name = os.path.basename(path)[:-3] + ".weights.h5"
    weights_path = os.path.join(os.path.dirname(path), weights_name)
    saving.save_weights(model, weights_path)
    header = [
        f'"""The model \'{doc_text(model.name)}\', exported by visualkeras-app.',
        "",
        f"Rebuilds the model with ``engine`` and loads its weights from {doc_text(weights_name)} (beside this file).",
        "The model is in the module-level variable ``model``; run this file to print its summary.",
        '"""',
        "import os",
        "",
    ]
    footer = [
        "",
        "# The weights file sits beside this script; the pair can be moved together.",
        f"model.load_weights(os.path.join(os.path.dirname(os.path.abspath(__file__)), {literal(weights_name)}))",
        "",
        'if __name__ == "__main__":',
        "    model.summary()",
        "",
    ]
    atomic_write_text(path, "\n".join(header + body + footer))
    report.extra_files.append(weights_path)
    report.notes.append(f"Keep {weights_name} beside the script: it holds the weights.")
