"""``export_model``: the one entry point, dispatching on the output file's extension."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

# Longest suffix first: ".weights.h5" before ".h5", "_torch.py" before ".py".
FORMATS = {
    ".weights.h5": "weights",
    "_torch.py": "torch",
    ".json": "json",
    ".keras": "keras",
    ".h5": "h5",
    ".onnx": "onnx",
    ".py": "py",
    ".png": "png",
    ".svg": "svg",
    ".pdf": "pdf",
    ".dot": "dot",
}
DIAGRAM_FORMATS = ("png", "svg", "pdf", "dot")
# Formats no extension picks, only ``format=``: a training script is a ``.py`` file like the "py" export.
NAMED_FORMATS = ("train",)


class ExportError(ValueError):
    """An export that cannot be done; the message says why and what to do."""


@dataclass
class ExportReport:
    """What ``export_model`` did.

    Attributes:
        path: the file written (absolute).
        format: the format key (``"keras"``, ``"torch"``, ``"svg"``...).
        renderer_used: ``"graphviz"`` or ``"qt"`` for diagrams (``"qt"`` also for the layered style),
            ``None`` for the other formats.
        notes: things the user should know (files written beside ``path``, fallbacks taken).
        extra_files: the other files written (weights beside a script).
    """

    path: str
    format: str
    renderer_used: str | None = None
    notes: list = field(default_factory=list)
    extra_files: list = field(default_factory=list)

    def message(self) -> str:
        """One paragraph for a status bar or a terminal."""
        label = "a training script" if self.format == "train" else self.format
        text = f"Exported {label} to {self.path}"
        if self.renderer_used:
            text += f" (rendered with {'Graphviz' if self.renderer_used == 'graphviz' else 'the built-in Qt renderer'})"
        if self.extra_files:
            text += "; also wrote " + ", ".join(os.path.basename(p) for p in self.extra_files)
        text += "."
        if self.notes:
            text += " " + " ".join(self.notes)
        return text


def detect_format(path, format=None) -> str:
    """The format key for ``path`` (or ``format`` when given); ``ExportError`` listing the known ones."""
    if format is not None:
        known = set(FORMATS.values()) | set(NAMED_FORMATS)
        if format not in known:
            raise ExportError(f"Unknown export format {format!r}. Formats: {', '.join(sorted(known))}.")
        return format
    lower = os.fspath(path).lower()
    for suffix, key in FORMATS.items():
        if lower.endswith(suffix):
            return key
    raise ExportError(f"Cannot tell the export format of {os.fspath(path)!r} from its extension. Use one of: "
                      + ", ".join(FORMATS) + ".")


def as_document(obj):
    """A Document for a Document or an engine model (kept as is when already a Document)."""
    from visualkeras_app.document.graph import Document

    if isinstance(obj, Document):
        if obj.result is None:
            obj.infer()
        return obj
    from visualkeras_app.document.convert import model_to_document

    doc = model_to_document(obj, with_weights=False)
    doc.infer()
    return doc


def as_model(obj):
    """An engine model for a Document (built with its weights, random where it has none) or a model."""
    from visualkeras_app.document.graph import Document

    if isinstance(obj, Document):
        from visualkeras_app.document.convert import document_to_model

        return document_to_model(obj)
    return obj


def export_model(model_or_document, out_path, format=None, **options) -> ExportReport:
    """Write ``model_or_document`` to ``out_path`` in the format its extension names.

    Args:
        model_or_document: an engine ``Sequential``/functional model, or an editor ``Document`` (a
            document without trained weights is built with fresh random ones).
        out_path: the file to write. ``.json`` (Keras model config), ``.keras``, ``.h5``,
            ``.weights.h5`` (Keras 3 files), ``.py`` (a script rebuilding the model with ``engine``;
            its weights go to ``<stem>.weights.h5`` beside it), ``_torch.py`` (a standalone PyTorch
            module; weights in ``<stem>.safetensors`` or ``<stem>.pt`` beside it), ``.onnx``, and the
            diagrams ``.png``, ``.svg``, ``.pdf``, ``.dot``.
        format: the format key to use whatever the extension (e.g. ``"torch"``); ``"train"`` writes a
            standalone training script (a ``.py`` file) for the model and its training settings.
        **options: for diagrams: ``style`` (``"graph"`` or ``"layered"``), ``rankdir`` (``"TB"`` or
            ``"LR"``), ``dpi``, ``show_shapes``, ``show_dtype``, ``show_layer_names``,
            ``show_layer_activations``, ``show_params``, ``legend`` (layered), ``renderer``
            (``"auto"``, ``"graphviz"``, ``"qt"``); for ``torch``: ``weights_format``
            (``"auto"``, ``"safetensors"``, ``"pt"``); for ``onnx``: ``opset``; for ``train``:
            ``settings`` (a ``TrainSettings`` or its dict; default: the document's saved settings over
            the one-click recipe) and ``name`` (the model's name in the script's docstring).

    Returns:
        An ``ExportReport``.
    """
    path = os.path.abspath(os.fspath(out_path))
    fmt = detect_format(path, format)
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    report = ExportReport(path, fmt)
    if fmt in DIAGRAM_FORMATS:
        from visualkeras_app.export import diagram

        diagram.export_diagram(as_document(model_or_document), path, fmt, report, **options)
        return report
    if fmt == "train":
        from visualkeras_app.export import training_script

        _no_options(fmt, options, {"settings", "name"})
        training_script.export_training_script(as_document(model_or_document), path, report, **options)
        return report
    _no_options(fmt, options, {"torch": {"weights_format"}, "onnx": {"opset"}}.get(fmt, set()))
    model = as_model(model_or_document)
    if fmt in ("json", "keras", "h5", "weights"):
        _keras_file(model, path, fmt)
    elif fmt == "py":
        from visualkeras_app.export import pyscript

        pyscript.export_engine_script(model, path, report)
    elif fmt == "torch":
        from visualkeras_app.export import torchscript

        torchscript.export_torch_script(model, path, report, **options)
    elif fmt == "onnx":
        from visualkeras_app.export import onnx_export

        onnx_export.export_onnx(model, path, report, **options)
    return report


def _no_options(fmt, options, allowed):
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ExportError(f"Option(s) {unknown} do not apply to the {fmt!r} format"
                          + (f"; it takes {sorted(allowed)}." if allowed else "; it takes none."))


def _keras_file(model, path, fmt):
    from engine import saving

    if fmt == "json":
        text = model.to_json(indent=2) if hasattr(model, "to_json") else None
        if text is None:
            import json

            text = json.dumps(saving.serialize_model(model), indent=2)
        atomic_write_text(path, text)
    elif fmt == "weights":
        saving.save_weights(model, path)
    else:
        saving.save_model(model, path)


def atomic_write_text(path, text):
    """Write ``text`` to ``path`` with the engine's atomic writer (``engine.utils.file_utils``)."""
    from engine.utils.file_utils import atomic_write_text as write

    write(path, text)
