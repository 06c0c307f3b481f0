"""Export a model: Keras files, runnable scripts, ONNX and diagrams.

``export_model(model_or_document, out_path, **options)`` picks the format from ``out_path``'s
extension (see ``FORMATS``) and returns an ``ExportReport`` saying what was written, with which
renderer, and anything the user should know. Kept free of torch and Qt imports at module level:
each format imports what it needs when it runs.
"""
from visualkeras_app.export.core import (FORMATS, ExportError, ExportReport, detect_format,  # noqa: F401
                                         export_model)

__all__ = ["FORMATS", "ExportError", "ExportReport", "detect_format", "export_model"]
